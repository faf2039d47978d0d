/* Journal reader. The file is untrusted: a batch is used only after its header,
 * CRC and record structure were all checked, so a reader returns whole batches
 * or nothing. A bad batch with valid batches after it is a gap: the reader goes on
 * with the next valid one (the records' seq jumps over the loss). A bad batch with
 * nothing valid after it is the end (a crash tail); the reader can be polled again
 * while a writer appends (tail -f).
 *
 * Where the next batch starts: where the damaged batch's own header says, when it
 * still reads; else the first batch magic after the damage (within two batches'
 * size) that starts a batch which checks. A batch whose header reads but which the
 * file ends inside is a write in progress or cut by a crash: nothing follows it,
 * and its bytes are never searched (a record's captured bytes may look like a
 * batch). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal_int.h"

/* The fuzz build sets a small one, so that its edges get fuzzed. */
#ifndef READ_AHEAD
#define READ_AHEAD ((size_t)256 << 10)
#endif
#define SCAN_STEP ((size_t)64 << 10)
#define RESYNC_WINDOW ((uint64_t)2 * (HPJ_BATCH_HDR + HPJ_BATCH_MAX))

struct hp_journal_reader {
	int fd;       /* -1: reading from mem */
	uint8_t *mem; /* owned copy for open_mem */
	size_t memlen;
	struct hp_journal_meta meta;
	uint8_t boot_id[16]; /* zeros: the header has none */
	uint32_t header_len;
	uint8_t *cache; /* file bytes [cache_off, cache_off + cache_len) */
	size_t cache_len, cache_cap;
	uint64_t cache_off;
	uint64_t off;      /* file offset of the next batch */
	uint64_t next_seq; /* first seq of the next batch */
	const uint8_t *bp; /* current batch records (points into cache or mem) */
	size_t bpos, blen;
	uint32_t brem; /* records left in the current batch */
	uint64_t bseq; /* seq of the next record returned */
	uint64_t batch_off, batch_seq;
	int have_batch, truncated;
	char *json;
	size_t json_cap;
	struct hpi_gap gaps[HPI_MAX_GAPS];
	size_t ngaps;
};

/* Up to len bytes at off (fewer at the end of the file). */
static int fetch(struct hp_journal_reader *r, uint64_t off, size_t len, const uint8_t **p, size_t *avail)
{
	size_t want, got = 0;

	if (r->fd < 0) {
		*p = r->mem + (off < r->memlen ? off : r->memlen);
		*avail = off < r->memlen ? (r->memlen - off < len ? r->memlen - off : len) : 0;
		return 0;
	}
	if (off >= r->cache_off && off + len <= r->cache_off + r->cache_len) {
		*p = r->cache + (off - r->cache_off);
		*avail = len;
		return 0;
	}
	want = len > READ_AHEAD ? len : READ_AHEAD;
	if (want > READ_AHEAD) {
		/* a damaged header may claim up to HPJ_BATCH_MAX: read only what the file has */
		struct stat st;

		if (fstat(r->fd, &st) < 0)
			return -errno;
		if ((uint64_t)st.st_size <= off)
			want = READ_AHEAD;
		else if ((uint64_t)st.st_size - off < want)
			want = (uint64_t)st.st_size - off > READ_AHEAD ? (size_t)(st.st_size - off) : READ_AHEAD;
	}
	if (want > r->cache_cap) {
		uint8_t *nc = realloc(r->cache, want);

		if (!nc)
			return -ENOMEM;
		r->cache = nc;
		r->cache_cap = want;
	}
	r->cache_off = off;
	r->cache_len = 0;
	while (got < want) {
		ssize_t n = pread(r->fd, r->cache + got, want - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	r->cache_len = got;
	*p = r->cache;
	*avail = got < len ? got : len;
	return 0;
}

/* Whether the file has a byte at off. */
static int has_byte(struct hp_journal_reader *r, uint64_t off)
{
	const uint8_t *p = NULL;
	size_t avail = 0;

	return fetch(r, off, 1, &p, &avail) == 0 && avail == 1;
}

/* 1 if a valid batch whose first seq is at least min_seq starts at off (*seq = that
 * seq), 0 if not, <0 on an I/O error. */
static int batch_at(struct hp_journal_reader *r, uint64_t off, uint64_t min_seq, uint64_t *seq)
{
	const uint8_t *p = NULL;
	size_t avail = 0, size = 0;
	uint32_t plen;
	uint64_t s;
	int rc;

	if ((rc = fetch(r, off, HPJ_BATCH_HDR, &p, &avail)) < 0)
		return rc;
	if (avail < HPJ_BATCH_HDR || hpi_get32(p) != HPJ_BATCH_MAGIC)
		return 0;
	plen = hpi_get32(p + 4);
	s = hpi_get64(p + 8);
	if (plen > HPJ_BATCH_MAX || s < min_seq)
		return 0;
	if ((rc = fetch(r, off, HPJ_BATCH_HDR + (size_t)plen, &p, &avail)) < 0)
		return rc;
	if (!hpi_batch_check(p, avail, s, &size))
		return 0;
	*seq = s;
	return 1;
}

static void note_gap(struct hp_journal_reader *r, uint64_t off, uint64_t len, uint64_t seq, uint64_t next_seq)
{
	for (size_t i = 0; i < r->ngaps; i++)
		if (r->gaps[i].off == off)
			return; /* read again after a seek */
	if (r->ngaps < HPI_MAX_GAPS)
		r->gaps[r->ngaps++] = (struct hpi_gap){ off, len, seq, next_seq, 0 };
}

/* The batch at r->off is bad: moves r to the next valid batch after it (1), or
 * says there is none (0); <0 on an I/O error. See the top of this file. */
static int resync(struct hp_journal_reader *r)
{
	static const uint8_t magic[4] = { HPJ_BATCH_MAGIC & 0xff, (HPJ_BATCH_MAGIC >> 8) & 0xff,
					  (HPJ_BATCH_MAGIC >> 16) & 0xff, HPJ_BATCH_MAGIC >> 24 };
	uint64_t bad = r->off, seq = 0, cand = 0, off;
	const uint8_t *p = NULL;
	size_t avail = 0;
	int rc;

	if ((rc = fetch(r, bad, HPJ_BATCH_HDR, &p, &avail)) < 0)
		return rc;
	if (avail == HPJ_BATCH_HDR && hpi_get32(p) == HPJ_BATCH_MAGIC && hpi_get32(p + 4) <= HPJ_BATCH_MAX) {
		cand = bad + HPJ_BATCH_HDR + hpi_get32(p + 4);
		if (!has_byte(r, cand - 1))
			return 0; /* the file ends inside it: a tail, not a gap */
		if ((rc = batch_at(r, cand, r->next_seq, &seq)) != 0)
			goto found;
	}
	for (off = bad + 1; off < bad + RESYNC_WINDOW;) {
		const uint8_t *m;

		if ((rc = fetch(r, off, SCAN_STEP, &p, &avail)) < 0)
			return rc;
		if (avail < HPJ_BATCH_HDR)
			return 0;
		m = memmem(p, avail, magic, sizeof(magic));
		if (!m) {
			off += avail - (sizeof(magic) - 1);
			continue;
		}
		cand = off + (uint64_t)(m - p);
		if ((rc = batch_at(r, cand, r->next_seq, &seq)) != 0)
			goto found;
		off = cand + 1;
	}
	return 0;
found:
	if (rc < 0)
		return rc;
	note_gap(r, bad, cand - bad, r->next_seq, seq);
	r->off = cand;
	r->next_seq = seq;
	return 1;
}

/* Loads and checks the batch at r->off. 1 = loaded, 0 = end or bad tail, <0 = I/O error. */
static int load_batch(struct hp_journal_reader *r)
{
	const uint8_t *p = NULL;
	size_t avail = 0, size = 0;
	uint32_t plen;
	int rc;

	r->have_batch = 0;
	if ((rc = fetch(r, r->off, HPJ_BATCH_HDR, &p, &avail)) < 0)
		return rc;
	if (avail == 0) {
		r->truncated = 0;
		return 0;
	}
	plen = avail >= HPJ_BATCH_HDR ? hpi_get32(p + 4) : 0;
	if (avail == HPJ_BATCH_HDR && plen <= HPJ_BATCH_MAX &&
	    (rc = fetch(r, r->off, HPJ_BATCH_HDR + (size_t)plen, &p, &avail)) < 0)
		return rc;
	if (!hpi_batch_check(p, avail, r->next_seq, &size)) {
		rc = resync(r);
		if (rc < 0)
			return rc;
		if (rc > 0)
			return load_batch(r); /* the batch resync found checks: no deeper */
		r->truncated = 1;
		r->cache_len = 0; /* the tail may be rewritten (append mode): read it afresh */
		return 0;
	}
	r->truncated = 0;
	r->bp = p + HPJ_BATCH_HDR;
	r->bpos = 0;
	r->blen = size - HPJ_BATCH_HDR;
	r->brem = hpi_get32(p + 16);
	r->bseq = r->next_seq;
	r->batch_off = r->off;
	r->batch_seq = r->next_seq;
	r->have_batch = 1;
	r->off += size;
	r->next_seq += r->brem;
	return 1;
}

static int open_common(struct hp_journal_reader *r, struct hp_err *err)
{
	const uint8_t *p = NULL;
	size_t avail = 0;
	int rc;

	if ((rc = fetch(r, 0, HPJ_HEADER_MAX, &p, &avail)) < 0)
		return hp_err__set(err, -rc, "journal: read: %s", strerror(-rc));
	if ((rc = hpi_header_decode(p, avail, &r->meta, &r->header_len, r->boot_id, err)) < 0)
		return rc;
	r->off = r->header_len;
	return 0;
}

int hp_journal__open(const char *path, struct hp_journal_reader **out, struct hp_err *err)
{
	struct hp_journal_reader *r;
	int rc;

	if (!path || !out)
		return hp_err__set(err, EINVAL, "journal: no path");
	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return hp_err__set(err, ENOMEM, "journal: out of memory");
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		rc = hp_err__set(err, errno, "journal: cannot open %s: %s", path, strerror(errno));
		free(r);
		return rc;
	}
	if ((rc = open_common(r, err)) < 0) {
		hp_journal__close_reader(r);
		return rc;
	}
	*out = r;
	return 0;
}

int hp_journal__open_mem(const void *buf, size_t len, struct hp_journal_reader **out, struct hp_err *err)
{
	struct hp_journal_reader *r;
	int rc;

	if (!out || (!buf && len))
		return hp_err__set(err, EINVAL, "journal: no input");
	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->mem = malloc(len ? len : 1))) {
		free(r);
		return hp_err__set(err, ENOMEM, "journal: out of memory");
	}
	if (len)
		memcpy(r->mem, buf, len);
	r->memlen = len;
	r->fd = -1;
	if ((rc = open_common(r, err)) < 0) {
		hp_journal__close_reader(r);
		return rc;
	}
	*out = r;
	return 0;
}

const uint8_t *hpi_reader_boot_id(const struct hp_journal_reader *r)
{
	return r->boot_id;
}

const struct hp_journal_meta *hp_journal__meta(const struct hp_journal_reader *r)
{
	return r ? &r->meta : NULL;
}

/* Steps over one record of the current batch (structure already checked). */
static void skip_record(struct hp_journal_reader *r)
{
	r->bpos += HPJ_REC_HDR + hpi_get32(r->bp + r->bpos + 1);
	r->brem--;
	r->bseq++;
}

static int is_json(uint8_t type)
{
	return type == HP_REC_PROBE || type == HP_REC_EVENT || type == HP_REC_ALERT;
}

int hp_journal__next(struct hp_journal_reader *r, struct hp_record *rec, struct hp_err *err)
{
	if (!r || !rec)
		return hp_err__set(err, EINVAL, "journal: no reader");
	for (;;) {
		const uint8_t *p = NULL;
		uint32_t blen;
		uint8_t type;

		if (!r->have_batch || r->brem == 0) {
			int rc = load_batch(r);

			if (rc < 0)
				return hp_err__set(err, -rc, "journal: read: %s", strerror(-rc));
			if (rc == 0)
				return 0;
		}
		p = r->bp + r->bpos;
		type = p[0];
		blen = hpi_get32(p + 1);
		rec->seq = r->bseq;
		skip_record(r);
		if (type < HP_REC_HIT || type > HP_REC_HIT_RET)
			continue; /* a later version's record type */
		hpi_rec_decode(type, p + HPJ_REC_HDR, blen, rec);
		if (is_json(type)) { /* handed out NUL-terminated, so copied */
			if (rec->json_len + 1 > r->json_cap) {
				size_t cap = rec->json_len + 1 > 4096 ? rec->json_len + 1 : 4096;
				char *nj = realloc(r->json, cap);

				if (!nj)
					return hp_err__set(err, ENOMEM, "journal: out of memory");
				r->json = nj;
				r->json_cap = cap;
			}
			memcpy(r->json, p + HPJ_REC_HDR + 8, rec->json_len);
			r->json[rec->json_len] = '\0';
			rec->json = r->json;
		}
		return 1;
	}
}

/* Walks batch headers from r->off / r->next_seq to the batch holding seq. */
static int scan_to(struct hp_journal_reader *r, uint64_t seq, struct hp_err *err)
{
	int rc;

	r->have_batch = 0;
	for (;;) {
		const uint8_t *p = NULL;
		size_t avail = 0;
		uint32_t plen, nrec;

		if ((rc = fetch(r, r->off, HPJ_BATCH_HDR, &p, &avail)) < 0)
			return hp_err__set(err, -rc, "journal: read: %s", strerror(-rc));
		if (avail == 0)
			return 0; /* at the end: next() reports it */
		plen = avail < HPJ_BATCH_HDR ? 0 : hpi_get32(p + 4);
		nrec = avail < HPJ_BATCH_HDR ? 0 : hpi_get32(p + 16);
		if (avail < HPJ_BATCH_HDR || hpi_get32(p) != HPJ_BATCH_MAGIC || plen > HPJ_BATCH_MAX || nrec == 0 ||
		    hpi_get64(p + 8) != r->next_seq) {
			/* a damaged header: over the gap, or the end (next() reports truncation) */
			if ((rc = resync(r)) < 0)
				return hp_err__set(err, -rc, "journal: read: %s", strerror(-rc));
			if (rc == 0)
				return 0;
			continue;
		}
		if (seq < r->next_seq + nrec)
			break;
		/* Skipped batches are not read, only their headers. */
		r->off += HPJ_BATCH_HDR + (uint64_t)plen;
		r->next_seq += nrec;
	}
	rc = load_batch(r);
	if (rc < 0)
		return hp_err__set(err, -rc, "journal: read: %s", strerror(-rc));
	while (rc > 0 && r->brem && r->bseq < seq)
		skip_record(r);
	return 0;
}

int hp_journal__seek(struct hp_journal_reader *r, uint64_t seq, struct hp_err *err)
{
	if (!r)
		return hp_err__set(err, EINVAL, "journal: no reader");
	/* Forward from the current batch when possible, else from the first one. */
	if (r->have_batch && seq >= r->batch_seq) {
		r->off = r->batch_off;
		r->next_seq = r->batch_seq;
	} else {
		r->off = r->header_len;
		r->next_seq = 0;
	}
	return scan_to(r, seq, err);
}

int hp_journal__seek_from(struct hp_journal_reader *r, uint64_t offset, uint64_t seq_at, uint64_t seq,
			  struct hp_err *err)
{
	const uint8_t *p = NULL;
	size_t avail = 0;

	if (!r)
		return hp_err__set(err, EINVAL, "journal: no reader");
	if (seq < seq_at || offset < r->header_len || fetch(r, offset, HPJ_BATCH_HDR, &p, &avail) < 0 ||
	    avail < HPJ_BATCH_HDR || hpi_get32(p) != HPJ_BATCH_MAGIC || hpi_get64(p + 8) != seq_at)
		return hp_journal__seek(r, seq, err);
	r->off = offset;
	r->next_seq = seq_at;
	return scan_to(r, seq, err);
}

int hp_journal__truncated(const struct hp_journal_reader *r, uint64_t *valid_bytes)
{
	if (!r)
		return 0;
	if (valid_bytes)
		*valid_bytes = r->off;
	return r->truncated;
}

uint64_t hp_journal__offset(const struct hp_journal_reader *r)
{
	return r ? r->off : 0;
}

size_t hpi_reader_gaps(const struct hp_journal_reader *r, const struct hpi_gap **gaps)
{
	*gaps = r->gaps;
	return r->ngaps;
}

/* A JOURNAL_GAP event in the current batch: marks the gap it reports. */
static void note_reported_gaps(struct hp_journal_reader *r)
{
	static const char name[] = "\"JOURNAL_GAP\"", key[] = "\"offset\":";
	size_t pos = 0;

	for (uint32_t i = 0; i < r->brem && pos + HPJ_REC_HDR <= r->blen; i++) {
		const uint8_t *rec = r->bp + pos, *json = rec + HPJ_REC_HDR + 8, *k;
		uint32_t blen = hpi_get32(rec + 1);
		char num[24];
		size_t n;

		pos += HPJ_REC_HDR + blen;
		if (rec[0] != HP_REC_EVENT || blen <= 8 || !memmem(json, blen - 8, name, sizeof(name) - 1) ||
		    !(k = memmem(json, blen - 8, key, sizeof(key) - 1)))
			continue;
		k += sizeof(key) - 1;
		n = (size_t)(json + blen - 8 - k) < sizeof(num) - 1 ? (size_t)(json + blen - 8 - k) : sizeof(num) - 1;
		memcpy(num, k, n);
		num[n] = '\0';
		for (size_t g = 0; g < r->ngaps; g++)
			if (r->gaps[g].off == strtoull(num, NULL, 10))
				r->gaps[g].reported = 1;
	}
}

int hpi_reader_scan_end(struct hp_journal_reader *r, uint64_t *valid_end, uint64_t *next_seq, struct hp_err *err)
{
	int rc;

	r->off = r->header_len;
	r->next_seq = 0;
	while ((rc = load_batch(r)) > 0)
		if (r->ngaps)
			note_reported_gaps(r);
	if (rc < 0)
		return hp_err__set(err, -rc, "journal: read: %s", strerror(-rc));
	*valid_end = r->off;
	*next_seq = r->next_seq;
	return 0;
}

void hp_journal__close_reader(struct hp_journal_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->mem);
	free(r->cache);
	free(r->json);
	free(r);
}

size_t hp_record__size(void)
{
	return sizeof(struct hp_record);
}
size_t hp_journal_meta__size(void)
{
	return sizeof(struct hp_journal_meta);
}
