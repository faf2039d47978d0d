/* Crash tails: a journal cut at every byte offset of its last batch reads back
 * exactly the records of the complete batches, and reports the truncation (and
 * the valid length); append mode then cuts the tail and continues the sequence.
 * Cuts inside the file header are refused. A damaged batch in the middle is a gap,
 * not an end: readers go on with the batches after it (their seq jumps), and append
 * mode keeps them, continues after the last one and records the gap once. */
#include <errno.h>

#include "hp_test.h"
#include "journal_int.h"
#include "journal_util.h"

#define BATCHES 4
#define PER 9

/* Reads path; returns the records' count, their seqs in seqs[], and how many
 * JOURNAL_GAP events were among them. */
static uint64_t read_all(const char *path, uint64_t *seqs, size_t cap, int *gap_events)
{
	struct hp_journal_reader *r;
	struct hp_record rec;
	struct hp_err err = { { 0 } };
	uint64_t n = 0;

	*gap_events = 0;
	REQUIRE(hp_journal__open(path, &r, &err) == 0);
	while (hp_journal__next(r, &rec, &err) == 1) {
		if (n < cap)
			seqs[n] = rec.seq;
		n++;
		if (rec.type == HP_REC_EVENT && strstr(rec.json, "\"JOURNAL_GAP\""))
			(*gap_events)++;
	}
	CHECK_EQ_INT(hp_journal__truncated(r, NULL), 0);
	hp_journal__close_reader(r);
	return n;
}

/* Batch 1 of BATCHES damaged (damage() at its offset): the records of batches 0, 2
 * and 3 come back, in order; append mode keeps them and goes on after them. */
static void test_gap(const char *path, const uint8_t *img, size_t len, const uint64_t *starts, int header)
{
	struct hp_journal_writer *w = NULL;
	struct hp_journal_reader *r = NULL;
	struct hp_err err = { { 0 } };
	uint64_t seqs[64], n, total = BATCHES * PER + 3;
	uint8_t *bad = malloc(len);
	int gaps, fails = hp_test_failures;
	struct hp_hit h;
	struct hp_record rec;

	memcpy(bad, img, len);
	if (header)
		bad[starts[1]] ^= 0xff; /* the batch magic */
	else
		bad[starts[1] + 40] ^= 0xff; /* a record's body: the CRC fails */
	hp_write_file(path, bad, len);
	n = read_all(path, seqs, 64, &gaps);
	CHECK_EQ_U64(n, total - PER);
	CHECK_EQ_U64(seqs[PER - 1], PER - 1);
	CHECK_EQ_U64(seqs[PER], 2 * PER); /* the jump over the lost batch */
	CHECK_EQ_INT(gaps, 0);

	/* seeking lands after the gap too */
	REQUIRE(hp_journal__open(path, &r, &err) == 0);
	REQUIRE(hp_journal__seek(r, 2 * PER + 1, &err) == 0);
	CHECK(hp_journal__next(r, &rec, &err) == 1 && rec.seq == 2 * PER + 1);
	REQUIRE(hp_journal__seek(r, PER + 1, &err) == 0); /* a lost record: the next one there is */
	CHECK(hp_journal__next(r, &rec, &err) == 1 && rec.seq == 2 * PER);
	hp_journal__close_reader(r);

	/* append mode: nothing cut, the sequence goes on after the last batch */
	REQUIRE(hp_journal__create(path, NULL, 1, &w, &err) == 0);
	CHECK(hp_file_size(path) >= (long)len);
	CHECK_EQ_U64(hp_journal__next_seq(w), total + 1); /* + the gap's event */
	hp_make_hit(hp_journal__next_seq(w), &h);
	REQUIRE(hp_journal__append_hit(w, &h, NULL) == 0);
	REQUIRE(hp_journal__close(w, &err) == 0);
	n = read_all(path, seqs, 64, &gaps);
	CHECK_EQ_U64(n, total - PER + 2);
	CHECK_EQ_INT(gaps, 1);
	CHECK_EQ_U64(seqs[n - 1], total + 1);

	/* again: the same gap is not reported twice */
	REQUIRE(hp_journal__create(path, NULL, 1, &w, &err) == 0);
	CHECK_EQ_U64(hp_journal__next_seq(w), total + 2);
	REQUIRE(hp_journal__close(w, &err) == 0);
	n = read_all(path, seqs, 64, &gaps);
	CHECK_EQ_INT(gaps, 1);
	if (hp_test_failures != fails)
		fprintf(stderr, "  with the %s of batch 1 damaged\n", header ? "header" : "payload");
	free(bad);
}

int main(void)
{
	struct hp_journal_writer *w = NULL;
	struct hp_journal_reader *r = NULL;
	struct hp_err err = { { 0 } };
	struct hp_record rec;
	struct hp_hit h;
	char path[256], cut_path[256];
	uint64_t i = 0, valid = 0, last_start, starts[BATCHES];
	uint8_t *img;
	size_t len;

	snprintf(path, sizeof(path), "/tmp/hp_trunc_%d.hpj", (int)getpid());
	snprintf(cut_path, sizeof(cut_path), "/tmp/hp_trunc_cut_%d.hpj", (int)getpid());
	REQUIRE(hp_journal__create(path, NULL, 0, &w, &err) == 0);
	for (int b = 0; b < BATCHES; b++) {
		for (int k = 0; k < PER; k++, i++) {
			hp_make_hit(i, &h);
			REQUIRE(hp_journal__append_hit(w, &h, NULL) == 0);
		}
		/* the last batch mixes in every other record type */
		if (b == BATCHES - 1) {
			struct hp_dropped d = { 1, 5, 9 };
			struct hp_count c = { 1, 0, 3, 4, 5 };

			REQUIRE(hp_journal__append_json(w, HP_REC_ALERT, 7, "{\"a\":1}", 7, NULL) == 0);
			REQUIRE(hp_journal__append_dropped(w, &d, NULL) == 0);
			REQUIRE(hp_journal__append_count(w, &c, NULL) == 0);
		}
		starts[b] = (uint64_t)hp_file_size(path);
		if (b == BATCHES - 1)
			last_start = (uint64_t)hp_file_size(path);
		REQUIRE(hp_journal__flush(w, 1, &err) == 0);
	}
	REQUIRE(hp_journal__close(w, &err) == 0);
	img = hp_read_file(path, &len);
	REQUIRE(img && len > last_start);

	for (size_t cut = last_start; cut <= len; cut++) {
		uint64_t n = 0, want = cut == len ? BATCHES * PER + 3 : (BATCHES - 1) * PER;
		int fails = hp_test_failures;

		REQUIRE(hp_journal__open_mem(img, cut, &r, &err) == 0);
		while (hp_journal__next(r, &rec, &err) == 1) {
			CHECK_EQ_U64(rec.seq, n);
			if (rec.type == HP_REC_HIT) {
				hp_make_hit(n, &h);
				CHECK(hp_hit_equal(&rec.u.hit, &h));
			}
			n++;
		}
		CHECK_EQ_U64(n, want);
		/* exactly at a batch boundary the journal is clean, inside one it is cut */
		CHECK_EQ_INT(hp_journal__truncated(r, &valid), cut != last_start && cut != len);
		CHECK_EQ_U64(valid, cut == len ? len : last_start);
		hp_journal__close_reader(r);
		if (hp_test_failures != fails) {
			fprintf(stderr, "  at cut %zu of %zu\n", cut, len);
			break;
		}
	}

	/* the same through files, and append mode repairing them (a sample of cuts) */
	for (size_t cut = last_start; cut < len; cut += 17) {
		uint64_t n = 0;

		hp_write_file(cut_path, img, cut);
		REQUIRE(hp_journal__create(cut_path, NULL, 1, &w, &err) == 0);
		CHECK_EQ_U64(hp_journal__next_seq(w), (BATCHES - 1) * PER);
		CHECK_EQ_INT(hp_file_size(cut_path), (long)last_start);
		hp_make_hit(hp_journal__next_seq(w), &h);
		REQUIRE(hp_journal__append_hit(w, &h, NULL) == 0);
		REQUIRE(hp_journal__close(w, &err) == 0);
		REQUIRE(hp_journal__open(cut_path, &r, &err) == 0);
		for (; hp_journal__next(r, &rec, &err) == 1; n++)
			CHECK_EQ_U64(rec.seq, n);
		CHECK_EQ_U64(n, (BATCHES - 1) * PER + 1);
		CHECK_EQ_INT(hp_journal__truncated(r, NULL), 0);
		hp_journal__close_reader(r);
	}

	/* damage in the middle: a gap, not the end */
	test_gap(cut_path, img, len, starts, 0);
	test_gap(cut_path, img, len, starts, 1);

	/* cuts inside the header: refused, never a crash */
	for (size_t cut = 0; cut < HPJ_HEADER_LEN; cut++) {
		CHECK_EQ_INT(hp_journal__open_mem(img, cut, &r, &err), -EBADMSG);
		CHECK(r == NULL);
	}
	free(img);
	unlink(path);
	unlink(cut_path);
	TEST_MAIN_END();
}
