/* The ring file's producer, consumer and header check: see hprobe/plugin_ring.h. */
#include "hprobe/plugin_ring.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

const char *hp_pring__check_file(const struct hp_pring_file *h, uint64_t file_size)
{
	uint64_t stride = (uint64_t)sizeof(struct hp_pring) + h->ring_bytes;
	if (h->magic != HP_PRING_MAGIC)
		return "not an HProbe ring file";
	if (h->version != HP_PRING_VERSION)
		return "unsupported ring file version";
	if (h->hdr_size != HP_PRING_HDR_SIZE || h->nrings < 2 || h->nrings > HP_PRING_MAX_RINGS)
		return "bad header or ring count";
	if (h->ring_bytes < HP_PRING_MIN_BYTES || h->ring_bytes > HP_PRING_MAX_BYTES ||
	    (h->ring_bytes & (h->ring_bytes - 1)) || h->ring_stride != stride)
		return "bad ring size";
	if (h->file_size != h->hdr_size + h->nrings * stride || file_size < h->file_size)
		return "file size does not match the header";
	return NULL;
}

int hp_pring__create(const char *path, unsigned nvcpus, uint32_t ring_bytes)
{
	if (nvcpus < 1 || nvcpus > HP_PRING_MAX_RINGS - 1 || ring_bytes < HP_PRING_MIN_BYTES ||
	    ring_bytes > HP_PRING_MAX_BYTES || (ring_bytes & (ring_bytes - 1)))
		return -EINVAL;
	struct hp_pring_file h = {
		.magic = HP_PRING_MAGIC,
		.version = HP_PRING_VERSION,
		.hdr_size = HP_PRING_HDR_SIZE,
		.nrings = nvcpus + 1,
		.ring_bytes = ring_bytes,
		.ring_stride = (uint32_t)sizeof(struct hp_pring) + ring_bytes,
	};
	h.file_size = h.hdr_size + (uint64_t)h.nrings * h.ring_stride;
	unlink(path);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int rc = 0;
	/* sparse zeroes: every head, tail and counter starts at 0 */
	if (ftruncate(fd, (off_t)h.file_size) || pwrite(fd, &h, sizeof h, 0) != (ssize_t)sizeof h)
		rc = errno ? -errno : -EIO;
	close(fd);
	if (rc)
		unlink(path);
	return rc;
}

void *hp_pring__map(const char *path, struct hp_pring_file *hdr, size_t *len, int *errnum, const char **why)
{
	*why = NULL;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		*errnum = errno;
		*why = "cannot open";
		return NULL;
	}
	struct stat st;
	struct hp_pring_file h;
	void *m = NULL;
	*errnum = EBADMSG;
	if (fstat(fd, &st) || pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h)
		*why = "cannot read the header";
	else if (!(*why = hp_pring__check_file(&h, (uint64_t)st.st_size))) {
		m = mmap(NULL, h.file_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED) {
			*errnum = errno;
			*why = "mmap failed";
			m = NULL;
		} else {
			*len = h.file_size;
			*hdr = h; /* what was checked, not what the file says later */
		}
	}
	if (*why && h.magic == HP_PRING_MAGIC && h.version != HP_PRING_VERSION)
		*errnum = EPROTO;
	close(fd);
	return m;
}

int hp_pring__put(struct hp_pring *r, uint32_t ring_bytes, const void *rec, uint32_t len, uint64_t *tail_seen)
{
	uint8_t *data = hp_pring__data(r);
	uint64_t size = ring_bytes;
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t off = head & (size - 1), to_end = size - off;
	uint64_t need = len + (to_end < len ? to_end : 0);
	if (len > size / 2)
		return -1;
	/* The consumer's tail only grows, so space free by an old reading is free: the
	 * tail's cache line is fetched from the consumer's core only when the ring looks
	 * full. used > size only if the consumer wrote a bad tail: the ring is full. */
	uint64_t tail = *tail_seen;
	if (head - tail > size || size - (head - tail) < need) {
		tail = atomic_load_explicit(&r->tail, memory_order_acquire);
		*tail_seen = tail;
		if (head - tail > size || size - (head - tail) < need)
			return -1;
	}
	if (to_end < len) {
		struct hp_prec pad = { .len = (uint32_t)to_end, .type = HP_PREC_PAD };
		memcpy(data + off, &pad, sizeof pad);
		head += to_end;
		off = 0;
	}
	memcpy(data + off, rec, len);
	atomic_store_explicit(&r->head, head + len, memory_order_release);
	/* one producer per ring: a plain increment, not a locked one */
	atomic_store_explicit(&r->written, atomic_load_explicit(&r->written, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	return 0;
}

static int malformed(struct hp_pring *r, uint64_t *tail, uint64_t head, const char *what, const char **why)
{
	*why = what;
	*tail = head;
	atomic_store_explicit(&r->tail, head, memory_order_release);
	return -1;
}

int hp_pring__take(struct hp_pring *r, uint32_t ring_bytes, uint64_t *tail, void *rec, uint32_t cap, uint32_t *len,
		   const char **why)
{
	uint8_t *data = hp_pring__data(r);
	uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	while (*tail != head) {
		uint64_t t = *tail;
		if (head - t > ring_bytes || (t & 7))
			return malformed(r, tail, head, "head and tail out of range", why);
		uint32_t off = (uint32_t)(t & (ring_bytes - 1));
		struct hp_prec h;
		memcpy(&h, data + off, sizeof h); /* read the length once: the producer may be hostile */
		if (h.len < sizeof h || (h.len & 7) || h.len > ring_bytes - off || h.len > head - t)
			return malformed(r, tail, head, "bad record length", why);
		if (h.type != HP_PREC_PAD && h.len > cap)
			return malformed(r, tail, head, "record too long", why);
		if (h.type != HP_PREC_PAD) {
			memcpy(rec, data + off, h.len);
			((struct hp_prec *)rec)->len = h.len; /* the length we checked, not a re-read */
		}
		*tail = t + h.len;
		atomic_store_explicit(&r->tail, *tail, memory_order_release);
		if (h.type != HP_PREC_PAD) {
			*len = h.len;
			return 1;
		}
	}
	return 0;
}

uint32_t hp_pring__bytes(unsigned nvcpus)
{
	uint32_t b = HP_PRING_VCPU_BYTES;
	while (nvcpus && b > (4u << 20) && (uint64_t)b * nvcpus > HP_PRING_TOTAL_MAX)
		b /= 2;
	return b;
}
