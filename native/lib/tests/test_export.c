/* Export driver behaviour the format checkers do not see: progress about every 1%,
 * cancellation leaving nothing behind, errors, crash tails, and the escaping rule. */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "hp_test.h"
#include "hprobe/export.h"
#include "journal_util.h"

struct prog {
	int calls;
	uint64_t last, total;
	int cancel_at; /* percent, 0 = never */
	int monotonic;
};

static int on_progress(uint64_t done, uint64_t total, void *ud)
{
	struct prog *p = ud;

	p->calls++;
	if (done < p->last)
		p->monotonic = 0;
	p->last = done;
	p->total = total;
	return p->cancel_at && done * 100 >= total * (uint64_t)p->cancel_at;
}

static int exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* A trace carries guest memory and strings: only its owner may read it (as perf.data). */
static int mode_of(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (int)(sb.st_mode & 07777) : -1;
}

static void test_escape(void)
{
	char out[HP_COMM_ESC_MAX];
	char small[6];

	CHECK_EQ_INT(hp_export__escape("plain", 5, out, sizeof(out)), 5);
	CHECK_STR(out, "plain");
	hp_export__escape("a\"b,c\nd\xff", 8, out, sizeof(out));
	CHECK_STR(out, "a\"b,c\\x0ad\\xff");
	hp_export__escape("\\", 1, out, sizeof(out));
	CHECK_STR(out, "\\\\");
	hp_export__escape("caf\xc3\xa9\xf0\x9f\x98\x80", 9, out, sizeof(out));
	CHECK_STR(out, "caf\xc3\xa9\xf0\x9f\x98\x80");
	/* C1 controls, overlong and surrogate encodings, a cut sequence: escaped bytewise */
	hp_export__escape("\xc2\x85\xc0\xaf\xed\xa0\x80\xe2\x82", 9, out, sizeof(out));
	CHECK_STR(out, "\\xc2\\x85\\xc0\\xaf\\xed\\xa0\\x80\\xe2\\x82");
	/* the worst comm fits HP_COMM_ESC_MAX */
	CHECK_EQ_INT(hp_export__escape("\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01", 16, out,
				       sizeof(out)),
		     64);
	CHECK_EQ_INT(strlen(out), 64);
	/* cut on whole units: "ab" then "\x01" does not fit in 6 bytes */
	CHECK_EQ_INT(hp_export__escape("ab\x01z", 4, small, sizeof(small)), 7);
	CHECK_STR(small, "ab");
	CHECK_EQ_INT(hp_export__escape("ab", 2, NULL, 0), 2);
}

static int dir_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/* A journal that claims thousands of vCPUs (a damaged or hostile one): CTF gives the
 * first 256 a stream each and the others one more, so files and memory stay bounded. */
static void test_many_vcpus(void)
{
	struct hp_journal_meta m = { .mono_base_ns = 1000 };
	struct hp_journal_writer *w = NULL;
	struct hp_export_stats st;
	struct hp_err err = { { 0 } };
	char j[256], out[256], p[320];

	snprintf(j, sizeof(j), "/tmp/hp_export_vcpus_%d.hpj", (int)getpid());
	snprintf(out, sizeof(out), "/tmp/hp_export_vcpus_%d", (int)getpid());
	REQUIRE(hp_journal__create(j, &m, 0, &w, &err) == 0);
	for (uint64_t i = 0; i < 3000; i++) {
		struct hp_hit h;

		hp_make_hit(i, &h);
		h.vcpu = i % 1000 == 999 ? UINT32_MAX : (uint32_t)(i % 1000);
		REQUIRE(hp_journal__append_hit(w, &h, NULL) == 0);
	}
	REQUIRE(hp_journal__close(w, &err) == 0);
	REQUIRE(hp_export__journal(j, HP_EXPORT_CTF, out, NULL, NULL, NULL, &st, &err) == 0);
	CHECK_EQ_U64(st.hits_written, 3000);
	CHECK_EQ_INT(dir_entries(out), 1 + 256 + 1); /* metadata, stream_0..255, stream_more */
	snprintf(p, sizeof(p), "rm -r %s", out);
	CHECK_EQ_INT(system(p), 0);
	unlink(j);
}

int main(void)
{
	struct hp_journal_meta m = { .mono_base_ns = 1000 };
	struct hp_journal_writer *w = NULL;
	struct hp_export_stats st;
	struct hp_err err = { { 0 } };
	struct prog p = { .monotonic = 1 };
	char j[256], out[256], partial[300];
	size_t len;
	uint8_t *img;

	test_escape();
	test_many_vcpus();
	CHECK_EQ_INT(hp_export__parse_format("csv"), HP_EXPORT_CSV);
	CHECK_EQ_INT(hp_export__parse_format("jsonl"), HP_EXPORT_JSONL);
	CHECK_EQ_INT(hp_export__parse_format("chrome"), HP_EXPORT_CHROME);
	CHECK_EQ_INT(hp_export__parse_format("ctf"), HP_EXPORT_CTF);
	CHECK_EQ_INT(hp_export__parse_format("xml"), 0);
	CHECK_EQ_INT(hp_export__parse_format(NULL), 0);

	snprintf(j, sizeof(j), "/tmp/hp_export_test_%d.hpj", (int)getpid());
	snprintf(out, sizeof(out), "/tmp/hp_export_test_%d.out", (int)getpid());
	snprintf(partial, sizeof(partial), "%s.partial", out);
	REQUIRE(hp_journal__create(j, &m, 0, &w, &err) == 0);
	for (uint64_t i = 0; i < 20000; i++) {
		struct hp_hit h;

		hp_make_hit(i, &h);
		REQUIRE(hp_journal__append_hit(w, &h, NULL) == 0);
		if (i % 100 == 99)
			REQUIRE(hp_journal__flush(w, 1, &err) == 0);
	}
	REQUIRE(hp_journal__close(w, &err) == 0);

	/* progress: about every 1%, monotonic, ending at total */
	REQUIRE(hp_export__journal(j, HP_EXPORT_CSV, out, NULL, on_progress, &p, &st, &err) == 0);
	CHECK_EQ_U64(st.hits_written, 20000);
	CHECK_EQ_U64(st.records_read, 20000);
	printf("progress calls: %d\n", p.calls);
	CHECK(p.calls >= 80 && p.calls <= 110);
	CHECK(p.monotonic);
	CHECK_EQ_U64(p.last, (uint64_t)hp_file_size(j));
	CHECK_EQ_U64(p.total, (uint64_t)hp_file_size(j));
	CHECK(exists(out) && !exists(partial));
	CHECK_EQ_INT(mode_of(j), 0600);
	CHECK_EQ_INT(mode_of(out), 0600);
	unlink(out);
	REQUIRE(hp_export__journal(j, HP_EXPORT_CTF, out, NULL, NULL, NULL, &st, &err) == 0);
	{
		char meta[320], s0[320], s1[320], agent[320];

		snprintf(meta, sizeof(meta), "%s/metadata", out);
		snprintf(s0, sizeof(s0), "%s/stream_0", out); /* a stream per vCPU */
		snprintf(s1, sizeof(s1), "%s/stream_1", out);
		snprintf(agent, sizeof(agent), "%s/stream_agent", out);
		CHECK_EQ_INT(mode_of(out), 0700);
		CHECK_EQ_INT(mode_of(meta), 0600);
		CHECK_EQ_INT(mode_of(s0), 0600);
		CHECK_EQ_INT(mode_of(s1), 0600);
		CHECK(!exists(agent)); /* no alert, no lost hit: no agent stream */
		unlink(meta);
		unlink(s0);
		unlink(s1);
		rmdir(out);
	}

	/* <out>.partial planted as a symlink to another file, or left by an export that
	 * died: the export writes a file of its own, the other file is untouched */
	{
		char victim[300];

		snprintf(victim, sizeof(victim), "%s.victim", out);
		FILE *v = fopen(victim, "w");
		REQUIRE(v);
		fputs("precious\n", v);
		fclose(v);
		REQUIRE(symlink(victim, partial) == 0);
		CHECK_EQ_INT(hp_export__journal(j, HP_EXPORT_CSV, out, NULL, NULL, NULL, &st, &err), 0);
		CHECK_EQ_U64(st.hits_written, 20000);
		CHECK_EQ_INT(hp_file_size(victim), 9);
		CHECK(exists(out) && !exists(partial));
		unlink(out);
		v = fopen(partial, "w"); /* a stale partial file */
		REQUIRE(v);
		fclose(v);
		CHECK_EQ_INT(hp_export__journal(j, HP_EXPORT_CSV, out, NULL, NULL, NULL, &st, &err), 0);
		CHECK(exists(out) && !exists(partial));
		unlink(out);
		unlink(victim);
	}

	/* cancellation: -ECANCELED, no output, no partial file, for files and CTF dirs */
	for (int fmt = HP_EXPORT_CSV; fmt <= HP_EXPORT_CTF; fmt++) {
		struct prog c = { .monotonic = 1, .cancel_at = 50 };

		CHECK_EQ_INT(hp_export__journal(j, (enum hp_export_format)fmt, out, NULL, on_progress, &c, &st, &err),
			     -ECANCELED);
		CHECK(!exists(out) && !exists(partial));
		CHECK(c.calls >= 40 && c.calls <= 60);
	}

	/* cancelled into a directory that was there: left as it was, empty */
	{
		struct prog c = { .monotonic = 1, .cancel_at = 50 };

		REQUIRE(mkdir(out, 0700) == 0);
		CHECK_EQ_INT(hp_export__journal(j, HP_EXPORT_CTF, out, NULL, on_progress, &c, &st, &err), -ECANCELED);
		CHECK_EQ_INT(dir_entries(out), 0);
		REQUIRE(rmdir(out) == 0);
	}

	/* a filter that keeps nothing still gives a valid, empty export */
	{
		uint32_t none = 999;
		struct hp_export_filter f = { .probes = &none, .n_probes = 1 };

		CHECK_EQ_INT(hp_export__journal(j, HP_EXPORT_JSONL, out, &f, NULL, NULL, &st, &err), 0);
		CHECK_EQ_U64(st.hits_written, 0);
		CHECK_EQ_INT(hp_file_size(out), 0);
		unlink(out);
	}

	/* a crash tail is not an error: the valid prefix is exported */
	img = hp_read_file(j, &len);
	REQUIRE(img);
	hp_write_file(j, img, len - 10);
	CHECK_EQ_INT(hp_export__journal(j, HP_EXPORT_JSONL, out, NULL, NULL, NULL, &st, &err), 0);
	CHECK_EQ_U64(st.hits_written, 19900);
	unlink(out);
	free(img);

	CHECK_EQ_INT(hp_export__journal(j, 42, out, NULL, NULL, NULL, &st, &err), -EINVAL);
	CHECK_EQ_INT(hp_export__journal("/nonexistent.hpj", HP_EXPORT_CSV, out, NULL, NULL, NULL, &st, &err), -ENOENT);
	CHECK_EQ_INT(hp_export__journal(j, HP_EXPORT_CSV, "/nonexistent/dir/out.csv", NULL, NULL, NULL, &st, &err),
		     -ENOENT);
	CHECK(strstr(err.msg, "/nonexistent/dir/out.csv") != NULL);
	unlink(j);
	TEST_MAIN_END();
}
