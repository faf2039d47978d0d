/* Journal writer: records are appended to an in-memory batch; a flush writes the
 * batch with one pwrite at the end of the last complete batch, then fdatasync.
 * A failed flush leaves the batch pending, and the next one rewrites it at the same
 * offset, so a half-written batch never survives a successful retry. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "journal_int.h"

/* A batch this big is written (without fdatasync) even before the caller flushes. */
#define AUTO_WRITE_BYTES ((size_t)1 << 20)

struct hp_journal_writer {
	int fd;
	uint8_t *buf; /* [0, HPJ_BATCH_HDR) is the header of the pending batch */
	size_t len, cap;
	uint32_t nrec;
	uint64_t first_seq; /* seq of the first pending record */
	uint64_t next_seq;
	uint64_t file_end; /* end of the last complete batch on disk */
	size_t retry_at;   /* after a failed automatic write, next attempt at this size */
};

static int write_all_at(int fd, const uint8_t *p, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Writes the pending batch; does not sync. */
static int write_batch(struct hp_journal_writer *w)
{
	uint8_t *h = w->buf;
	int rc;

	if (!w->nrec)
		return 0;
	hpi_put32(h, HPJ_BATCH_MAGIC);
	hpi_put32(h + 4, (uint32_t)(w->len - HPJ_BATCH_HDR));
	hpi_put64(h + 8, w->first_seq);
	hpi_put32(h + 16, w->nrec);
	hpi_put32(h + 20, hpi_crc32(hpi_crc32(0, h, 20), h + HPJ_BATCH_HDR, w->len - HPJ_BATCH_HDR));
	rc = write_all_at(w->fd, w->buf, w->len, w->file_end);
	if (rc < 0) {
		/* Best effort: drop the partial batch so readers see a clean end. */
		if (ftruncate(w->fd, (off_t)w->file_end) < 0) {
			/* the reader stops at the partial batch anyway */
		}
		return rc;
	}
	/* start writeback now: dirty data stays small, so the caller's periodic
	 * fdatasync is short instead of stalling the hit drain for tens of ms */
	sync_file_range(w->fd, (off_t)w->file_end, (off_t)w->len, SYNC_FILE_RANGE_WRITE);
	w->file_end += w->len;
	w->first_seq += w->nrec;
	w->nrec = 0;
	w->len = HPJ_BATCH_HDR;
	w->retry_at = 0;
	return 0;
}

/* Reserves room for one record of body length blen; returns the body pointer. */
static uint8_t *reserve(struct hp_journal_writer *w, uint8_t type, size_t blen, int *rc)
{
	uint8_t *p;

	if (w->len >= AUTO_WRITE_BYTES && w->len >= w->retry_at && write_batch(w) < 0)
		w->retry_at = w->len + AUTO_WRITE_BYTES / 4;
	if (w->len - HPJ_BATCH_HDR + HPJ_REC_HDR + blen > HPJ_BATCH_MAX) {
		*rc = -ENOBUFS; /* writes keep failing: the caller must flush (and see why) */
		return NULL;
	}
	if (w->len + HPJ_REC_HDR + blen > w->cap) {
		size_t cap = w->cap * 2;
		uint8_t *nb;

		while (cap < w->len + HPJ_REC_HDR + blen)
			cap *= 2;
		nb = realloc(w->buf, cap);
		if (!nb) {
			*rc = -ENOMEM;
			return NULL;
		}
		w->buf = nb;
		w->cap = cap;
	}
	p = w->buf + w->len;
	p[0] = type;
	hpi_put32(p + 1, (uint32_t)blen);
	w->len += HPJ_REC_HDR + blen;
	return p + HPJ_REC_HDR;
}

static void commit(struct hp_journal_writer *w, uint64_t *seq)
{
	if (seq)
		*seq = w->next_seq;
	w->next_seq++;
	w->nrec++;
}

int hp_journal__append_hit(struct hp_journal_writer *w, const struct hp_hit *hit, uint64_t *seq)
{
	uint8_t *p;
	int rc = 0;

	if (!w || !hit)
		return -EINVAL;
	if (!(p = reserve(w, hpi_hit_type(hit), hpi_hit_len(hit), &rc)))
		return rc;
	hpi_enc_hit(p, hit);
	commit(w, seq);
	return 0;
}

int hp_journal__append_json(struct hp_journal_writer *w, enum hp_rec_type type, uint64_t time_ns, const char *json,
			    size_t len, uint64_t *seq)
{
	uint8_t *p;
	int rc = 0;

	if (!w || (!json && len) || (type != HP_REC_PROBE && type != HP_REC_EVENT && type != HP_REC_ALERT))
		return -EINVAL;
	if (len > HPJ_JSON_MAX)
		return -E2BIG;
	if (len && memchr(json, '\0', len))
		return -EINVAL;
	if (!(p = reserve(w, (uint8_t)type, 8 + len, &rc)))
		return rc;
	hpi_put64(p, time_ns);
	if (len)
		memcpy(p + 8, json, len);
	commit(w, seq);
	return 0;
}

int hp_journal__append_dropped(struct hp_journal_writer *w, const struct hp_dropped *d, uint64_t *seq)
{
	uint8_t *p;
	int rc = 0;

	if (!w || !d)
		return -EINVAL;
	if (!(p = reserve(w, HP_REC_DROPPED, HPJ_DROPPED_LEN, &rc)))
		return rc;
	hpi_enc_dropped(p, d);
	commit(w, seq);
	return 0;
}

int hp_journal__append_count(struct hp_journal_writer *w, const struct hp_count *c, uint64_t *seq)
{
	uint8_t *p;
	int rc = 0;

	if (!w || !c)
		return -EINVAL;
	if (!(p = reserve(w, HP_REC_COUNT, HPJ_COUNT_LEN, &rc)))
		return rc;
	hpi_enc_count(p, c);
	commit(w, seq);
	return 0;
}

int hp_journal__flush(struct hp_journal_writer *w, int nosync, struct hp_err *err)
{
	int rc;

	if (!w)
		return hp_err__set(err, EINVAL, "journal: no writer");
	rc = write_batch(w);
	if (rc < 0)
		return hp_err__set(err, -rc, "journal: write failed, %u record(s) kept pending: %s", w->nrec,
				   strerror(-rc));
	if (!nosync && fdatasync(w->fd) < 0)
		return hp_err__set(err, errno, "journal: fdatasync: %s", strerror(errno));
	return 0;
}

size_t hp_journal__pending(const struct hp_journal_writer *w)
{
	return w ? w->nrec : 0;
}

void hp_journal__position(const struct hp_journal_writer *w, uint64_t *offset, uint64_t *seq)
{
	*offset = w ? w->file_end : 0;
	*seq = w ? w->first_seq : 0;
}

uint64_t hp_journal__next_seq(const struct hp_journal_writer *w)
{
	return w ? w->next_seq : 0;
}

int hp_journal__close(struct hp_journal_writer *w, struct hp_err *err)
{
	int rc;

	if (!w)
		return 0;
	rc = hp_journal__flush(w, 0, err);
	if (close(w->fd) < 0 && rc == 0)
		rc = hp_err__set(err, errno, "journal: close: %s", strerror(errno));
	free(w->buf);
	free(w);
	return rc;
}

/* The new file's directory entry must survive a crash too. */
static void sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd;

	if (!copy)
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

/* One JOURNAL_GAP event per damaged region the scan stepped over that no earlier
 * event reports: {"event":"JOURNAL_GAP","data":{"offset":..,"bytes":..,"lost_from_seq":..,
 * "next_seq":..}} (lost_from_seq..next_seq-1 were in it). Written at once. */
static int report_gaps(struct hp_journal_writer *w, struct hp_journal_reader *r, struct hp_err *err)
{
	const struct hpi_gap *g;
	size_t n = hpi_reader_gaps(r, &g), added = 0;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	for (size_t i = 0; i < n; i++) {
		char json[256];
		int len;

		if (g[i].reported)
			continue;
		len = snprintf(json, sizeof(json),
			       "{\"event\":\"JOURNAL_GAP\",\"data\":{\"offset\":%llu,\"bytes\":%llu,"
			       "\"lost_from_seq\":%llu,\"next_seq\":%llu}}",
			       (unsigned long long)g[i].off, (unsigned long long)g[i].len, (unsigned long long)g[i].seq,
			       (unsigned long long)g[i].next_seq);
		if (hp_journal__append_json(w, HP_REC_EVENT, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec,
					    json, (size_t)len, NULL) == 0)
			added++;
	}
	return added ? hp_journal__flush(w, 0, err) : 0;
}

/* In append mode: validates the existing journal and finds where to continue. */
static int scan_existing(struct hp_journal_writer *w, const char *path, int *fresh, struct hp_err *err)
{
	struct hp_journal_reader *r;
	uint64_t valid;
	int rc;
	struct stat sb;

	if (fstat(w->fd, &sb) < 0)
		return hp_err__set(err, errno, "journal: stat %s: %s", path, strerror(errno));
	if (sb.st_size < HPJ_HEADER_LEN) {
		/* Empty, or a crash before the header was complete (what is there is a
		 * prefix of our magic): start it anew. Anything else is not ours. */
		uint8_t head[8];
		ssize_t n = sb.st_size ? pread(w->fd, head, sizeof(head), 0) : 0;

		if (n < 0 || memcmp(head, HPJ_MAGIC, (size_t)n) != 0)
			return hp_err__set(err, EBADMSG, "journal: %s exists and is not a journal", path);
		*fresh = 1;
		return 0;
	}
	rc = hp_journal__open(path, &r, err);
	if (rc < 0)
		return rc; /* not a journal of ours: never overwrite it */
	rc = hpi_reader_scan_end(r, &valid, &w->next_seq, err);
	if (rc < 0) {
		hp_journal__close_reader(r);
		return rc;
	}
	/* only what no valid batch follows is cut: a damaged batch in the middle stays
	 * (readers step over it) and is reported once, in the journal itself */
	if ((uint64_t)sb.st_size != valid && ftruncate(w->fd, (off_t)valid) < 0) {
		rc = hp_err__set(err, errno, "journal: cannot cut the invalid tail of %s: %s", path, strerror(errno));
		hp_journal__close_reader(r);
		return rc;
	}
	w->file_end = valid;
	w->first_seq = w->next_seq;
	rc = report_gaps(w, r, err);
	hp_journal__close_reader(r);
	return rc;
}

int hp_journal__create(const char *path, const struct hp_journal_meta *meta, int append, struct hp_journal_writer **out,
		       struct hp_err *err)
{
	struct hp_journal_writer *w;
	int fresh = !append, rc;

	if (!path || !out)
		return hp_err__set(err, EINVAL, "journal: no path");
	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->buf = malloc(65536))) {
		free(w);
		return hp_err__set(err, ENOMEM, "journal: out of memory");
	}
	w->cap = 65536;
	w->len = HPJ_BATCH_HDR;
	/* guest memory and strings: the owner's only, as perf.data */
	w->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | (append ? 0 : O_TRUNC), 0600);
	if (w->fd < 0) {
		rc = hp_err__set(err, errno, "journal: cannot create %s: %s", path, strerror(errno));
		goto fail;
	}
	if (append && (rc = scan_existing(w, path, &fresh, err)) < 0)
		goto fail;
	if (fresh) {
		uint8_t hdr[HPJ_HEADER_LEN], boot[16];

		hpi_header_encode(hdr, meta, hpi_boot_id(boot) == 0 ? boot : NULL);
		rc = ftruncate(w->fd, 0) < 0 ? -errno : write_all_at(w->fd, hdr, sizeof(hdr), 0);
		if (rc == 0 && fdatasync(w->fd) < 0)
			rc = -errno;
		if (rc < 0) {
			rc = hp_err__set(err, -rc, "journal: cannot write the header of %s: %s", path, strerror(-rc));
			goto fail;
		}
		w->file_end = HPJ_HEADER_LEN;
		sync_dir(path);
	}
	*out = w;
	return 0;
fail:
	if (w->fd >= 0)
		close(w->fd);
	free(w->buf);
	free(w);
	return rc;
}
