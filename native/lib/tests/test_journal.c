/* Journal round trips (every record type and hit shape), compact encoding,
 * seek by seq, tail -f polling, append after a crash tail, corruption, refusal of
 * foreign files, failed writes that keep the batch pending, JSON text round trips. */
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "hp_test.h"
#include "journal_int.h"
#include "journal_util.h"

static char path[256];

static struct hp_journal_meta test_meta(void)
{
	struct hp_journal_meta m;

	memset(&m, 0, sizeof(m));
	strcpy(m.session, "sess-1");
	strcpy(m.vm_name, "lab");
	strcpy(m.kernel, "6.1.0-56-amd64");
	m.created_ns = 1700000000000000000ull;
	m.mono_base_ns = 1000000000ull;
	return m;
}

static const char *const jsons[] = {
	"{\"id\":1,\"spec\":\"kernel:do_sys_openat2\"}",
	"{}",
	"{\"text\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\",\"esc\":\"\\\"\\\\\\n\\u0001\"}",
	"[1, 2.5e10, null, true, \"x\"]",
	"",
	"{\"big\":18446744073709551615}",
};

static void test_roundtrip(void)
{
	struct hp_journal_meta m = test_meta();
	struct hp_journal_writer *w = NULL;
	struct hp_journal_reader *r = NULL;
	struct hp_err err = { { 0 } };
	struct hp_record rec;
	struct hp_hit h, small;
	struct hp_dropped d = { 7, 12345, 2000 };
	struct hp_count c = { 2, 1, 99, 10, 20 };
	uint64_t seq = 99, n = 0;
	size_t nj = sizeof(jsons) / sizeof(jsons[0]);
	long before;

	REQUIRE(hp_journal__create(path, &m, 0, &w, &err) == 0);
	CHECK_EQ_INT(hp_file_size(path), HPJ_HEADER_LEN);
	for (size_t j = 0; j < nj; j++) {
		CHECK_EQ_INT(hp_journal__append_json(w, HP_REC_PROBE + (int)(j % 3), 500 + j, jsons[j],
						     strlen(jsons[j]), &seq),
			     0);
		CHECK_EQ_U64(seq, j);
	}
	for (uint64_t i = 0; i < 300; i++) {
		hp_make_hit(i, &h);
		CHECK_EQ_INT(hp_journal__append_hit(w, &h, &seq), 0);
		CHECK_EQ_U64(seq, nj + i);
	}
	CHECK_EQ_INT(hp_journal__append_dropped(w, &d, NULL), 0);
	CHECK_EQ_INT(hp_journal__append_count(w, &c, NULL), 0);
	CHECK_EQ_INT(hp_journal__pending(w), nj + 302);
	CHECK_EQ_INT(hp_journal__flush(w, 1, &err), 0);
	CHECK_EQ_INT(hp_journal__pending(w), 0);

	/* compact: a bare hit is 5 + 48 bytes, a full one adds exactly its parts */
	before = hp_file_size(path);
	memset(&small, 0, sizeof(small));
	CHECK_EQ_INT(hp_journal__append_hit(w, &small, NULL), 0);
	CHECK_EQ_INT(hp_journal__flush(w, 0, &err), 0);
	CHECK_EQ_INT(hp_file_size(path) - before, HPJ_BATCH_HDR + HPJ_REC_HDR + 48);
	CHECK_EQ_U64(hp_journal__next_seq(w), nj + 303);
	CHECK_EQ_INT(hp_journal__close(w, &err), 0);
	CHECK_EQ_INT(hp_journal__close(NULL, &err), 0);

	REQUIRE(hp_journal__open(path, &r, &err) == 0);
	CHECK_STR(hp_journal__meta(r)->session, "sess-1");
	CHECK_STR(hp_journal__meta(r)->vm_name, "lab");
	CHECK_STR(hp_journal__meta(r)->kernel, "6.1.0-56-amd64");
	CHECK_EQ_U64(hp_journal__meta(r)->created_ns, m.created_ns);
	CHECK_EQ_U64(hp_journal__meta(r)->mono_base_ns, m.mono_base_ns);
	while (hp_journal__next(r, &rec, &err) == 1) {
		CHECK_EQ_U64(rec.seq, n);
		if (n < nj) {
			CHECK_EQ_INT(rec.type, HP_REC_PROBE + (int)(n % 3));
			CHECK_EQ_U64(rec.time_ns, 500 + n);
			CHECK_EQ_INT(rec.json_len, strlen(jsons[n]));
			CHECK_STR(rec.json, jsons[n]);
		} else if (n < nj + 300) {
			hp_make_hit(n - nj, &h);
			CHECK_EQ_INT(rec.type, HP_REC_HIT);
			CHECK(hp_hit_equal(&rec.u.hit, &h));
			CHECK_EQ_U64(rec.time_ns, h.time_ns);
		} else if (n == nj + 300) {
			CHECK_EQ_INT(rec.type, HP_REC_DROPPED);
			CHECK_EQ_INT(rec.u.dropped.probe_id, 7);
			CHECK_EQ_U64(rec.u.dropped.count, 12345);
			CHECK_EQ_U64(rec.time_ns, 2000);
		} else if (n == nj + 301) {
			CHECK_EQ_INT(rec.type, HP_REC_COUNT);
			CHECK(memcmp(&rec.u.count, &c, sizeof(c)) == 0);
			CHECK_EQ_U64(rec.time_ns, 20);
		} else {
			CHECK_EQ_INT(rec.type, HP_REC_HIT);
			CHECK(hp_hit_equal(&rec.u.hit, &small));
		}
		n++;
	}
	CHECK_EQ_U64(n, nj + 303);
	CHECK_EQ_INT(hp_journal__truncated(r, NULL), 0);
	hp_journal__close_reader(r);
	hp_journal__close_reader(NULL);
}

static void test_json_limits(void)
{
	struct hp_journal_writer *w = NULL;
	struct hp_journal_reader *r = NULL;
	struct hp_err err = { { 0 } };
	struct hp_record rec;
	size_t big = HPJ_JSON_MAX;
	char *s = malloc(big + 2);

	REQUIRE(s);
	REQUIRE(hp_journal__create(path, NULL, 0, &w, &err) == 0);
	s[0] = '"';
	for (size_t i = 1; i < big - 1; i++)
		s[i] = (char)('a' + i % 26);
	s[big - 1] = '"';
	CHECK_EQ_INT(hp_journal__append_json(w, HP_REC_EVENT, 1, s, big, NULL), 0);
	CHECK_EQ_INT(hp_journal__append_json(w, HP_REC_EVENT, 1, s, big + 1, NULL), -E2BIG);
	CHECK_EQ_INT(hp_journal__append_json(w, HP_REC_EVENT, 1, "a\0b", 3, NULL), -EINVAL);
	CHECK_EQ_INT(hp_journal__append_json(w, HP_REC_HIT, 1, "{}", 2, NULL), -EINVAL);
	CHECK_EQ_INT(hp_journal__close(w, &err), 0);
	REQUIRE(hp_journal__open(path, &r, &err) == 0);
	CHECK_EQ_INT(hp_journal__next(r, &rec, &err), 1);
	CHECK_EQ_INT(rec.json_len, big);
	CHECK(memcmp(rec.json, s, big) == 0 && rec.json[big] == '\0');
	CHECK_EQ_INT(hp_journal__next(r, &rec, &err), 0);
	hp_journal__close_reader(r);
	free(s);
}

static void write_batches(struct hp_journal_writer *w, int batches, int per, uint64_t *i)
{
	struct hp_err err = { { 0 } };
	struct hp_hit h;

	for (int b = 0; b < batches; b++) {
		for (int k = 0; k < per; k++, (*i)++) {
			hp_make_hit(*i, &h);
			CHECK_EQ_INT(hp_journal__append_hit(w, &h, NULL), 0);
		}
		CHECK_EQ_INT(hp_journal__flush(w, 1, &err), 0);
	}
}

static void test_seek_and_follow(void)
{
	struct hp_journal_writer *w = NULL;
	struct hp_journal_reader *r = NULL;
	struct hp_err err = { { 0 } };
	struct hp_record rec;
	struct hp_hit h;
	uint64_t i = 0;
	static const uint64_t seeks[] = { 0, 1, 99, 100, 101, 555, 999, 300, 5, 998 };

	REQUIRE(hp_journal__create(path, NULL, 0, &w, &err) == 0);
	write_batches(w, 10, 100, &i);
	REQUIRE(hp_journal__open(path, &r, &err) == 0);
	for (size_t k = 0; k < sizeof(seeks) / sizeof(seeks[0]); k++) {
		CHECK_EQ_INT(hp_journal__seek(r, seeks[k], &err), 0);
		CHECK_EQ_INT(hp_journal__next(r, &rec, &err), 1);
		CHECK_EQ_U64(rec.seq, seeks[k]);
		hp_make_hit(seeks[k], &h);
		CHECK(hp_hit_equal(&rec.u.hit, &h));
	}
	CHECK_EQ_INT(hp_journal__seek(r, 1000, &err), 0);
	CHECK_EQ_INT(hp_journal__next(r, &rec, &err), 0);
	CHECK_EQ_INT(hp_journal__seek(r, 123456, &err), 0);
	CHECK_EQ_INT(hp_journal__next(r, &rec, &err), 0);

	/* tail -f: the reader at the end sees batches flushed later */
	write_batches(w, 1, 7, &i);
	for (int k = 0; k < 7; k++) {
		CHECK_EQ_INT(hp_journal__next(r, &rec, &err), 1);
		CHECK_EQ_U64(rec.seq, 1000 + (uint64_t)k);
	}
	CHECK_EQ_INT(hp_journal__next(r, &rec, &err), 0);
	CHECK_EQ_INT(hp_journal__next(r, &rec, &err), 0);
	write_batches(w, 2, 3, &i);
	for (int k = 0; k < 6; k++) {
		CHECK_EQ_INT(hp_journal__next(r, &rec, &err), 1);
		CHECK_EQ_U64(rec.seq, 1007 + (uint64_t)k);
	}
	CHECK_EQ_INT(hp_journal__next(r, &rec, &err), 0);
	CHECK_EQ_INT(hp_journal__truncated(r, NULL), 0);
	CHECK_EQ_U64(hp_journal__offset(r), (uint64_t)hp_file_size(path));
	hp_journal__close_reader(r);
	CHECK_EQ_INT(hp_journal__close(w, &err), 0);
}

/* Seeking from a batch start the writer reported lands where a full scan does; a
 * hint that does not check out (wrong seq, mid-batch offset, past the end) is ignored. */
static void test_seek_from(void)
{
	struct hp_journal_writer *w = NULL;
	struct hp_journal_reader *r = NULL;
	struct hp_err err = { { 0 } };
	struct hp_record rec;
	uint64_t i = 0, off[6], at[6];

	REQUIRE(hp_journal__create(path, NULL, 0, &w, &err) == 0);
	for (int b = 0; b < 6; b++) {
		hp_journal__position(w, &off[b], &at[b]);
		write_batches(w, 1, 50, &i);
	}
	CHECK_EQ_U64(at[3], 150);
	REQUIRE(hp_journal__open(path, &r, &err) == 0);
	const struct {
		uint64_t off, at, seq;
	} cases[] = {
		{ off[3], at[3], 150 },          { off[3], at[3], 199 }, { off[3], at[3], 260 }, /* exact, in, beyond */
		{ off[5], at[5], 299 },          { off[3], at[2], 170 }, /* wrong seq for that batch */
		{ off[3] + 8, at[3], 170 },                              /* not a batch start */
		{ off[5] + 1000000, at[5], 10 },                         /* past the end */
		{ off[4], at[4], 20 },                                   /* seq before the hint */
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		CHECK_EQ_INT(hp_journal__seek_from(r, cases[k].off, cases[k].at, cases[k].seq, &err), 0);
		CHECK_EQ_INT(hp_journal__next(r, &rec, &err), 1);
		CHECK_EQ_U64(rec.seq, cases[k].seq);
	}
	CHECK_EQ_INT(hp_journal__seek_from(r, off[5], at[5], 300, &err), 0);
	CHECK_EQ_INT(hp_journal__next(r, &rec, &err), 0);
	hp_journal__close_reader(r);
	CHECK_EQ_INT(hp_journal__close(w, &err), 0);
}

static void test_append_and_corruption(void)
{
	struct hp_journal_writer *w = NULL;
	struct hp_journal_reader *r = NULL;
	struct hp_err err = { { 0 } };
	struct hp_record rec;
	uint64_t i = 0, n = 0, valid = 0;
	long good;
	FILE *f;
	size_t len;
	uint8_t *img;

	REQUIRE(hp_journal__create(path, NULL, 0, &w, &err) == 0);
	write_batches(w, 3, 10, &i);
	CHECK_EQ_INT(hp_journal__close(w, &err), 0);
	good = hp_file_size(path);
	f = fopen(path, "ab"); /* a crash tail: half a batch header */
	fwrite("HPB1\x10\x00", 1, 6, f);
	fclose(f);
	REQUIRE(hp_journal__open(path, &r, &err) == 0);
	while (hp_journal__next(r, &rec, &err) == 1)
		n++;
	CHECK_EQ_U64(n, 30);
	CHECK_EQ_INT(hp_journal__truncated(r, &valid), 1);
	CHECK_EQ_U64(valid, (uint64_t)good);
	hp_journal__close_reader(r);

	/* append cuts the tail and continues the sequence */
	REQUIRE(hp_journal__create(path, NULL, 1, &w, &err) == 0);
	CHECK_EQ_INT(hp_file_size(path), good);
	CHECK_EQ_U64(hp_journal__next_seq(w), 30);
	write_batches(w, 1, 5, &i);
	CHECK_EQ_INT(hp_journal__close(w, &err), 0);
	REQUIRE(hp_journal__open(path, &r, &err) == 0);
	for (n = 0; hp_journal__next(r, &rec, &err) == 1; n++)
		CHECK_EQ_U64(rec.seq, n);
	CHECK_EQ_U64(n, 35);
	CHECK_EQ_INT(hp_journal__truncated(r, NULL), 0);
	hp_journal__close_reader(r);

	/* a flipped byte in batch 2 (of 4): a gap, the reader goes on with batches 3 and 4
	 * (test_journal_trunc has more) */
	img = hp_read_file(path, &len);
	REQUIRE(img);
	{
		size_t b1 = HPJ_HEADER_LEN + HPJ_BATCH_HDR + hpi_get32(img + HPJ_HEADER_LEN + 4);

		img[b1 + HPJ_BATCH_HDR + 20] ^= 0x40;
		REQUIRE(hp_journal__open_mem(img, len, &r, &err) == 0);
		for (n = 0; hp_journal__next(r, &rec, &err) == 1; n++)
			CHECK_EQ_U64(rec.seq, n < 10 ? n : n + 10);
		CHECK_EQ_U64(n, 25);
		CHECK_EQ_INT(hp_journal__truncated(r, &valid), 0);
		CHECK_EQ_U64(valid, len);
		hp_journal__close_reader(r);
	}
	/* header damage: refused, and append refuses to touch the file */
	img[20] ^= 1;
	hp_write_file(path, img, len);
	CHECK_EQ_INT(hp_journal__open(path, &r, &err), -EBADMSG);
	CHECK_EQ_INT(hp_journal__create(path, NULL, 1, &w, &err), -EBADMSG);
	CHECK_EQ_INT(hp_file_size(path), (long)len);
	img[20] ^= 1;
	hpi_put16(img + HPJ_H_VERSION, 2);
	hp_write_file(path, img, len);
	CHECK_EQ_INT(hp_journal__open(path, &r, &err), -EPROTONOSUPPORT);
	free(img);
	{
		char junk[1000];

		/* a foreign file, shorter and longer than a journal header */
		memset(junk, '.', sizeof(junk));
		memcpy(junk, "hello, not a journal", 20);
		hp_write_file(path, junk, 300);
		CHECK_EQ_INT(hp_journal__create(path, NULL, 1, &w, &err), -EBADMSG);
		CHECK_EQ_INT(hp_file_size(path), 300);
		hp_write_file(path, junk, sizeof(junk));
		CHECK_EQ_INT(hp_journal__create(path, NULL, 1, &w, &err), -EBADMSG);
		CHECK_EQ_INT(hp_file_size(path), (long)sizeof(junk));
		/* a prefix of the magic is a creation that crashed: started anew */
		hp_write_file(path, HPJ_MAGIC, 5);
		CHECK_EQ_INT(hp_journal__create(path, NULL, 1, &w, &err), 0);
		CHECK_EQ_INT(hp_journal__close(w, &err), 0);
		CHECK_EQ_INT(hp_file_size(path), HPJ_HEADER_LEN);
	}
	CHECK_EQ_INT(hp_journal__open("/nonexistent/j", &r, &err), -ENOENT);
}

/* A later version's record type inside a valid batch is skipped, seq still counts it. */
static void test_unknown_record(void)
{
	struct hp_journal_reader *r = NULL;
	struct hp_err err = { { 0 } };
	struct hp_record rec;
	uint8_t img[HPJ_HEADER_LEN + HPJ_BATCH_HDR + 2 * HPJ_REC_HDR + 3 + 20];
	uint8_t *b = img + HPJ_HEADER_LEN, *p = b + HPJ_BATCH_HDR;
	uint32_t plen = 2 * HPJ_REC_HDR + 3 + 20;
	struct hp_dropped d = { 1, 2, 3 };

	hpi_header_encode(img, NULL, NULL);
	p[0] = 99;
	hpi_put32(p + 1, 3);
	memcpy(p + 5, "abc", 3);
	p += 8;
	p[0] = HP_REC_DROPPED;
	hpi_put32(p + 1, 20);
	hpi_enc_dropped(p + 5, &d);
	hpi_put32(b, HPJ_BATCH_MAGIC);
	hpi_put32(b + 4, plen);
	hpi_put64(b + 8, 0);
	hpi_put32(b + 16, 2);
	hpi_put32(b + 20, hpi_crc32(hpi_crc32(0, b, 20), b + HPJ_BATCH_HDR, plen));
	REQUIRE(hp_journal__open_mem(img, sizeof(img), &r, &err) == 0);
	CHECK_EQ_INT(hp_journal__next(r, &rec, &err), 1);
	CHECK_EQ_INT(rec.type, HP_REC_DROPPED);
	CHECK_EQ_U64(rec.seq, 1);
	CHECK_EQ_INT(hp_journal__next(r, &rec, &err), 0);
	CHECK_EQ_INT(hp_journal__truncated(r, NULL), 0);
	hp_journal__close_reader(r);
}

/* A return probe's hit is a record of its own type (7): the HIT body, then retval
 * and latency_ns. Readers hand it out as a HIT with HP_HIT_RET. */
static void test_return_hits(void)
{
	struct hp_journal_meta m = test_meta();
	struct hp_journal_writer *w = NULL;
	struct hp_journal_reader *r = NULL;
	struct hp_err err = { { 0 } };
	struct hp_record rec;
	struct hp_hit h, e;
	long before;

	memset(&h, 0, sizeof(h));
	h.time_ns = 5000;
	h.probe_id = 3;
	h.pid = h.tgid = 42;
	h.flags = HP_HIT_TASK | HP_HIT_RET;
	memcpy(h.comm, "retlab", 6);
	h.retval = -11;
	h.latency_ns = 123456789;
	memset(&e, 0, sizeof(e));
	e.time_ns = 6000;
	e.probe_id = 4;
	e.retval = 77; /* not a return hit: not written, not read back */
	REQUIRE(hp_journal__create(path, &m, 0, &w, &err) == 0);
	before = hp_file_size(path);
	CHECK_EQ_INT(hp_journal__append_hit(w, &h, NULL), 0);
	CHECK_EQ_INT(hp_journal__append_hit(w, &e, NULL), 0);
	CHECK_EQ_INT(hp_journal__close(w, &err), 0);
	CHECK_EQ_INT(hp_file_size(path) - before, HPJ_BATCH_HDR + 2 * HPJ_REC_HDR + 48 + 6 + 16 + 48);
	REQUIRE(hp_journal__open(path, &r, &err) == 0);
	CHECK_EQ_INT(hp_journal__next(r, &rec, &err), 1);
	CHECK_EQ_INT(rec.type, HP_REC_HIT);
	CHECK(hp_hit_equal(&rec.u.hit, &h));
	CHECK_EQ_INT(rec.u.hit.retval, -11);
	CHECK_EQ_U64(rec.u.hit.latency_ns, 123456789);
	CHECK_EQ_INT(hp_journal__next(r, &rec, &err), 1);
	CHECK_EQ_INT(rec.type, HP_REC_HIT);
	CHECK_EQ_INT(rec.u.hit.flags & HP_HIT_RET, 0);
	CHECK_EQ_INT(rec.u.hit.retval, 0);
	CHECK_EQ_INT(hp_journal__next(r, &rec, &err), 0);
	hp_journal__close_reader(r);

	/* on disk: type 7; the RET flag in a type-1 record (or its absence in type 7) is damage */
	uint8_t body[48 + 16];
	memset(&h, 0, sizeof(h));
	h.flags = HP_HIT_RET;
	CHECK_EQ_INT(hpi_hit_type(&h), HP_REC_HIT_RET);
	CHECK_EQ_INT(hpi_hit_len(&h), 64);
	hpi_enc_hit(body, &h);
	CHECK_EQ_INT(hpi_rec_check(HP_REC_HIT_RET, body, 64), 0);
	CHECK(hpi_rec_check(HP_REC_HIT, body, 64) != 0);
	CHECK(hpi_rec_check(HP_REC_HIT_RET, body, 48) != 0);
	hpi_put32(body + 40, 0);
	CHECK(hpi_rec_check(HP_REC_HIT_RET, body, 64) != 0);
}

/* A journal written before return probes existed (version 1, HIT records of type 1,
 * bytes laid out by hand as docs/journal.md says) reads as it always did; and a
 * reader that does not know type 7 skips it and keeps every other record's seq, as
 * the compatibility rules promise. */
static void test_old_journal_and_old_reader(void)
{
	struct hp_journal_reader *r = NULL;
	struct hp_err err = { { 0 } };
	struct hp_record rec;
	uint8_t img[HPJ_HEADER_LEN + HPJ_BATCH_HDR + 256];
	uint8_t *b = img + HPJ_HEADER_LEN, *p = b + HPJ_BATCH_HDR;
	uint32_t plen;

	memset(img, 0, sizeof(img));
	hpi_header_encode(img, NULL, NULL);
	p[0] = HP_REC_HIT; /* time 1000, probe 2, vcpu 1, pid/tgid 9, ip, cr3, task flag, comm "sh" + 8 bytes of arg */
	hpi_put32(p + 1, 48 + 2 + 8);
	hpi_put64(p + 5, 1000);
	hpi_put32(p + 5 + 8, 2);
	hpi_put32(p + 5 + 12, 1);
	hpi_put32(p + 5 + 16, 9);
	hpi_put32(p + 5 + 20, 9);
	hpi_put64(p + 5 + 24, 0xffffffff81000010ull);
	hpi_put64(p + 5 + 32, 0x1000);
	hpi_put32(p + 5 + 40, HP_HIT_TASK);
	p[5 + 44] = 1;
	p[5 + 45] = 2;
	memcpy(p + 5 + 48, "sh", 2);
	hpi_put64(p + 5 + 50, 0xdeadbeef);
	p += HPJ_REC_HDR + 58;
	p[0] = HP_REC_HIT; /* a bare hit */
	hpi_put32(p + 1, 48);
	hpi_put64(p + 5, 2000);
	plen = (uint32_t)(p + HPJ_REC_HDR + 48 - (b + HPJ_BATCH_HDR));
	hpi_put32(b, HPJ_BATCH_MAGIC);
	hpi_put32(b + 4, plen);
	hpi_put64(b + 8, 0);
	hpi_put32(b + 16, 2);
	hpi_put32(b + 20, hpi_crc32(hpi_crc32(0, b, 20), b + HPJ_BATCH_HDR, plen));
	REQUIRE(hp_journal__open_mem(img, HPJ_HEADER_LEN + HPJ_BATCH_HDR + plen, &r, &err) == 0);
	CHECK_EQ_INT(hp_journal__next(r, &rec, &err), 1);
	CHECK_EQ_INT(rec.type, HP_REC_HIT);
	CHECK_EQ_U64(rec.u.hit.time_ns, 1000);
	CHECK_EQ_INT(rec.u.hit.pid, 9);
	CHECK_STR(rec.u.hit.comm, "sh");
	CHECK_EQ_INT(rec.u.hit.nargs, 1);
	CHECK_EQ_U64(rec.u.hit.args[0], 0xdeadbeef);
	CHECK_EQ_INT(rec.u.hit.flags, HP_HIT_TASK);
	CHECK_EQ_INT(rec.u.hit.retval, 0);
	CHECK_EQ_U64(rec.u.hit.latency_ns, 0);
	CHECK_EQ_INT(hp_journal__next(r, &rec, &err), 1);
	CHECK_EQ_U64(rec.seq, 1);
	CHECK_EQ_U64(rec.u.hit.time_ns, 2000);
	CHECK_EQ_INT(hp_journal__next(r, &rec, &err), 0);
	CHECK_EQ_INT(hp_journal__truncated(r, NULL), 0);
	hp_journal__close_reader(r);

	/* the same batch with the first record's type a later one (as type 7 is to a reader
	 * that predates it): skipped, the next record keeps seq 1 */
	b[HPJ_BATCH_HDR] = 8;
	hpi_put32(b + 20, hpi_crc32(hpi_crc32(0, b, 20), b + HPJ_BATCH_HDR, plen));
	REQUIRE(hp_journal__open_mem(img, HPJ_HEADER_LEN + HPJ_BATCH_HDR + plen, &r, &err) == 0);
	CHECK_EQ_INT(hp_journal__next(r, &rec, &err), 1);
	CHECK_EQ_U64(rec.seq, 1);
	CHECK_EQ_U64(rec.u.hit.time_ns, 2000);
	CHECK_EQ_INT(hp_journal__next(r, &rec, &err), 0);
	hp_journal__close_reader(r);
}

/* The header names the host boot whose CLOCK_MONOTONIC the times are (exporters give
 * it to readers); a first-version header (304 bytes, no boot id) is still read. */
static void test_boot_id(void)
{
	struct hp_journal_writer *w = NULL;
	struct hp_journal_reader *r = NULL;
	struct hp_err err = { { 0 } };
	struct hp_journal_meta m = { .session = "s", .vm_name = "v" };
	uint8_t boot[16], zero[16] = { 0 };

	REQUIRE(hpi_boot_id(boot) == 0 && memcmp(boot, zero, 16));
	REQUIRE(hp_journal__create(path, &m, 0, &w, &err) == 0);
	REQUIRE(hp_journal__close(w, &err) == 0);
	CHECK_EQ_INT(hp_file_size(path), HPJ_HEADER_LEN);
	REQUIRE(hp_journal__open(path, &r, &err) == 0);
	CHECK(!memcmp(hpi_reader_boot_id(r), boot, 16));
	hp_journal__close_reader(r);

	uint8_t img[HPJ_HEADER_LEN];
	hpi_header_encode(img, &m, boot);
	memset(img + HPJ_H_BOOT_ID, 0, HPJ_HEADER_LEN - HPJ_H_BOOT_ID); /* as the first version wrote it */
	hpi_put16(img + HPJ_H_HLEN, HPJ_HEADER_MIN);
	hpi_put32(img + HPJ_HEADER_MIN - 4, hpi_crc32(0, img, HPJ_HEADER_MIN - 4));
	REQUIRE(hp_journal__open_mem(img, HPJ_HEADER_MIN, &r, &err) == 0);
	CHECK_STR(hp_journal__meta(r)->vm_name, "v");
	CHECK(!memcmp(hpi_reader_boot_id(r), zero, 16));
	hp_journal__close_reader(r);
	unlink(path);
}

/* A full disk (here: RLIMIT_FSIZE) fails the flush; the batch stays pending and
 * is written whole by the next flush. Runs in a child: the limit is process-wide. */
static void test_failed_write(void)
{
	pid_t pid = fork();
	int status = 0;

	REQUIRE(pid >= 0);
	if (pid == 0) {
		struct hp_journal_writer *w = NULL;
		struct hp_journal_reader *r = NULL;
		struct hp_err err = { { 0 } };
		struct hp_record rec;
		struct rlimit rl;
		uint64_t i = 0, n = 0;
		long size;

		signal(SIGXFSZ, SIG_IGN);
		REQUIRE(hp_journal__create(path, NULL, 0, &w, &err) == 0);
		write_batches(w, 1, 10, &i);
		size = hp_file_size(path);
		getrlimit(RLIMIT_FSIZE, &rl);
		rl.rlim_cur = (rlim_t)size + 100;
		REQUIRE(setrlimit(RLIMIT_FSIZE, &rl) == 0);
		for (int k = 0; k < 50; k++, i++) {
			struct hp_hit h;

			hp_make_hit(i, &h);
			hp_journal__append_hit(w, &h, NULL);
		}
		CHECK_EQ_INT(hp_journal__flush(w, 0, &err), -EFBIG);
		CHECK(strstr(err.msg, "pending") != NULL);
		CHECK_EQ_INT(hp_journal__pending(w), 50);
		CHECK_EQ_INT(hp_file_size(path), size); /* the partial batch was cut */
		CHECK_EQ_INT(hp_journal__flush(w, 0, &err), -EFBIG);
		rl.rlim_cur = rl.rlim_max;
		REQUIRE(setrlimit(RLIMIT_FSIZE, &rl) == 0);
		CHECK_EQ_INT(hp_journal__flush(w, 0, &err), 0);
		CHECK_EQ_INT(hp_journal__pending(w), 0);
		CHECK_EQ_INT(hp_journal__close(w, &err), 0);
		REQUIRE(hp_journal__open(path, &r, &err) == 0);
		for (; hp_journal__next(r, &rec, &err) == 1; n++)
			CHECK_EQ_U64(rec.seq, n);
		CHECK_EQ_U64(n, 60);
		CHECK_EQ_INT(hp_journal__truncated(r, NULL), 0);
		hp_journal__close_reader(r);
		exit(hp_test_failures ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
	snprintf(path, sizeof(path), "/tmp/hp_journal_test_%d.hpj", (int)getpid());
	CHECK_STR(hp_reg__name(HP_REG_RAX), "rax");
	CHECK_STR(hp_reg__name(HP_REG_K_GS_BASE), "k_gs_base");
	CHECK(hp_reg__name(HP_NREGS) == NULL);
	test_roundtrip();
	test_json_limits();
	test_seek_and_follow();
	test_seek_from();
	test_append_and_corruption();
	test_unknown_record();
	test_return_hits();
	test_old_journal_and_old_reader();
	test_boot_id();
	test_failed_write();
	unlink(path);
	TEST_MAIN_END();
}
