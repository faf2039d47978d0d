/* How reading a journal grows with its size (journal_bench.py drives it): the time to
 * open it, to seek to the record in the middle and read it, and to read it whole,
 * each on the host's monotonic clock. One JSON object on stdout.
 * usage: bench_journal JOURNAL */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "base/util.h"
#include "hprobe/journal.h"

static int fail(const char *what, const struct hp_err *err)
{
	fprintf(stderr, "bench_journal: %s: %s\n", what, err->msg);
	return 1;
}

int main(int argc, char **argv)
{
	struct hp_journal_reader *r;
	struct hp_record rec;
	struct hp_err err = { { 0 } };
	uint64_t records = 0, hits = 0, t0, t_open, t_seek, t_scan, mid_seq;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: bench_journal JOURNAL\n");
		return 2;
	}
	/* a journal just written sits in the page cache: every size is timed warm alike */
	t0 = hp_now_ns();
	if (hp_journal__open(argv[1], &r, &err) < 0)
		return fail("open", &err);
	t_open = hp_now_ns() - t0;
	t0 = hp_now_ns();
	while ((rc = hp_journal__next(r, &rec, &err)) == 1) {
		records++;
		hits += rec.type == HP_REC_HIT;
	}
	t_scan = hp_now_ns() - t0;
	if (rc < 0)
		return fail("read", &err);
	hp_journal__close_reader(r);

	if (hp_journal__open(argv[1], &r, &err) < 0)
		return fail("open", &err);
	t0 = hp_now_ns();
	if (hp_journal__seek(r, records / 2, &err) < 0 || hp_journal__next(r, &rec, &err) != 1)
		return fail("seek", &err);
	t_seek = hp_now_ns() - t0;
	mid_seq = rec.seq;
	hp_journal__close_reader(r);
	if (mid_seq != records / 2) {
		fprintf(stderr, "bench_journal: seek to %" PRIu64 " read %" PRIu64 "\n", records / 2, mid_seq);
		return 1;
	}

	json_t *o = json_pack("{s:I, s:I, s:f, s:f, s:f}", "records", (json_int_t)records, "hits", (json_int_t)hits,
			      "open_ms", t_open / 1e6, "seek_mid_ms", t_seek / 1e6, "read_all_s", t_scan / 1e9);
	if (!o || json_dumpf(o, stdout, JSON_COMPACT) < 0)
		return 1;
	putchar('\n');
	json_decref(o);
	return 0;
}
