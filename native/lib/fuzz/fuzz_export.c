/* Fuzzes the exporters on random journals ('P' inputs: fuzz_journal_img.h): each
 * format a run, and what it wrote is checked as its readers would read it. CSV:
 * every row as wide as the header, no cell that a spreadsheet takes for a formula;
 * JSON Lines: each line an object; Chrome: one JSON document; CTF: the metadata and
 * every stream's packets, and no stream left by an earlier run. */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_journal_img.h"
#include "hprobe/export.h"

#include "fuzz_assert.h"

static char dir[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof dir, "/dev/shm/fuzz_export.XXXXXX");
	return mkdtemp(dir) ? 0 : 1;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ASSERT(f);
	ASSERT(!fseek(f, 0, SEEK_END));
	long n = ftell(f);
	ASSERT(n >= 0 && !fseek(f, 0, SEEK_SET));
	char *s = malloc((size_t)n + 1);
	ASSERT(s && fread(s, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	s[n] = 0;
	*len = (size_t)n;
	return s;
}

/* RFC 4180 records: the cell count of each; a cell starting like a formula is one
 * only if it is not a number ('-' then digits is a negative number). */
static void check_csv(const char *s, size_t n)
{
	size_t cells = 0, width = 0, rows = 0;
	for (size_t i = 0; i < n;) {
		int quoted = s[i] == '"';
		size_t start = i + (size_t)quoted;
		if (quoted) {
			for (i++; i < n && !(s[i] == '"' && (i + 1 == n || s[i + 1] != '"')); i += s[i] == '"' ? 2 : 1)
				;
			ASSERT(i < n); /* the closing quote */
			i++;
		} else {
			while (i < n && s[i] != ',' && s[i] != '\r')
				i++;
		}
		char c0 = start < n ? s[start] : 0;
		ASSERT(!strchr("=+@\t", c0) || start == i || !c0);
		if (c0 == '-' && !quoted)
			ASSERT(start + 1 < n && s[start + 1] >= '0' && s[start + 1] <= '9');
		cells++;
		if (i < n && s[i] == ',') {
			i++;
			continue;
		}
		ASSERT(i + 1 < n && s[i] == '\r' && s[i + 1] == '\n');
		i += 2;
		if (rows++ == 0)
			width = cells;
		ASSERT(cells == width);
		cells = 0;
	}
	ASSERT(cells == 0 && rows >= 1);
}

/* A CTF data stream: whole packets of its class (stream_agent: 1, others: 0), each
 * as long as its context says. */
static void check_ctf_stream(const char *path, uint32_t cls)
{
	size_t n, pos = 0;
	uint8_t *s = (uint8_t *)slurp(path, &n);

	ASSERT(n > 0);
	while (pos < n) {
		uint32_t magic, sid;
		uint64_t content, size;

		ASSERT(n - pos >= 72);
		memcpy(&magic, s + pos, 4);
		memcpy(&sid, s + pos + 20, 4);
		memcpy(&content, s + pos + 40, 8);
		memcpy(&size, s + pos + 48, 8);
		ASSERT(magic == 0xC1FC1FC1u && sid == cls && content == size && size % 8 == 0);
		ASSERT(size / 8 >= (cls ? 72u : 68u) && size / 8 <= n - pos);
		pos += size / 8;
	}
	free(s);
}

/* The trace directory (re-used across runs: what an earlier export left must go). */
static void check_ctf_dir(const char *out)
{
	DIR *d = opendir(out);
	struct dirent *e;
	char path[160];
	int streams = 0;

	ASSERT(d);
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "metadata"))
			continue;
		ASSERT(!strncmp(e->d_name, "stream_", 7));
		snprintf(path, sizeof path, "%s/%s", out, e->d_name);
		check_ctf_stream(path, !strcmp(e->d_name, "stream_agent"));
		streams++;
	}
	closedir(d);
	ASSERT(streams <= 256 + 2);
}

static void check(enum hp_export_format fmt, const char *out)
{
	char path[128];
	size_t n;
	char *s;
	if (fmt == HP_EXPORT_CTF) {
		check_ctf_dir(out);
		snprintf(path, sizeof path, "%s/metadata", out);
		s = slurp(path, &n);
		ASSERT(!strncmp(s, "/* CTF 1.8 */", 13));
		free(s);
		return;
	}
	s = slurp(out, &n);
	if (fmt == HP_EXPORT_CSV) {
		check_csv(s, n);
	} else if (fmt == HP_EXPORT_CHROME) {
		json_t *j = json_loadb(s, n, JSON_DECODE_INT_AS_REAL, NULL);
		ASSERT(json_is_object(j));
		json_decref(j);
	} else {
		for (char *line = s, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
			json_t *j = json_loadb(line, (size_t)(nl - line), JSON_DECODE_INT_AS_REAL, NULL);
			ASSERT(json_is_object(j));
			json_decref(j);
		}
		ASSERT(!n || s[n - 1] == '\n');
	}
	free(s);
}

static void drive(const uint8_t *img, size_t len)
{
	static const char *names[] = { "", "out.csv", "out.jsonl", "out.json", "ctf" };
	int fd = memfd_create("journal", MFD_CLOEXEC);
	char in[64], out[128];
	ASSERT(fd >= 0 && write(fd, img, len) == (ssize_t)len);
	snprintf(in, sizeof in, "/proc/self/fd/%d", fd);
	/* a filter from the image's last bytes, sometimes */
	uint32_t probe = len ? img[len - 1] % 4 : 0;
	int32_t pid = len > 1 ? img[len - 2] : 0;
	struct hp_export_filter f = { .probes = &probe, .n_probes = 1, .pids = &pid, .n_pids = 1 };
	/* one format a run (by the length: each mutation of it tries another) */
	enum hp_export_format fmt = (enum hp_export_format)(HP_EXPORT_CSV + len % 4);
	struct hp_export_stats st;
	struct hp_err err;
	snprintf(out, sizeof out, "%s/%s", dir, names[fmt]);
	int rc = hp_export__journal(in, fmt, out, len / 4 % 3 ? NULL : &f, NULL, NULL, &st, &err);
	if (rc == 0) {
		ASSERT(st.hits_written <= st.records_read);
		check(fmt, out);
	} else {
		ASSERT(err.msg[0]);
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_journal_run(data, size, drive);
	return 0;
}
