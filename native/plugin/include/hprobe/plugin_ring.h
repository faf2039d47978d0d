/* The ring file's code, next to its layout (plugin_proto.h): the header check both
 * sides run, the producer (the plugin's vCPU and control threads) and the consumer
 * (the agent). Lock-free single-producer single-consumer; no side trusts the other's
 * counters or record lengths. Built as a static library linked by both. */
#ifndef HPROBE_PLUGIN_RING_H
#define HPROBE_PLUGIN_RING_H
#include "plugin_proto.h"

/* NULL if the header describes a valid ring file of at least file_size bytes,
 * else why not. */
const char *hp_pring__check_file(const struct hp_pring_file *h, uint64_t file_size);

/* Per vCPU: ~130,000 hits with registers, ~200 ms at the fastest a vCPU calls under TCG
 * here (~650k hits/s): the drain keeps up on average but stalls while the journal syncs
 * (once a second); 4 MiB dropped 5-8% of such a run, 16 MiB 0.04-0.4%, 32 MiB none
 * (docs/performance.md). A large VM's rings share HP_PRING_TOTAL_MAX (memory is shared
 * by QEMU and the agent, touched as the rings fill). */
#define HP_PRING_VCPU_BYTES (32u << 20)
#define HP_PRING_TOTAL_MAX (256u << 20)
/* The ring size for nvcpus vCPUs: HP_PRING_VCPU_BYTES each, less (a power of two, at
 * least 4 MiB) when they would pass HP_PRING_TOTAL_MAX together. */
uint32_t hp_pring__bytes(unsigned nvcpus);

/* Creates the file (mode 0600, replacing any) for nvcpus vCPU rings plus the control
 * ring, ring_bytes each (a power of two, 4 KiB..64 MiB). 0 or -errno. */
int hp_pring__create(const char *path, unsigned nvcpus, uint32_t ring_bytes);

/* Maps a ring file read-write after checking its header; *hdr receives the header
 * that was checked. The mapped header stays writable by the other side (QEMU), so
 * the geometry must come from *hdr from then on, never from the map. NULL on failure
 * with *errnum (positive) and *why set. munmap(map, *len) when done. */
void *hp_pring__map(const char *path, struct hp_pring_file *hdr, size_t *len, int *errnum, const char **why);

/* Ring i of a mapping; h is the checked copy hp_pring__map gave (i < h->nrings). */
static inline struct hp_pring *hp_pring__at(void *map, const struct hp_pring_file *h, unsigned i)
{
	return (struct hp_pring *)((uint8_t *)map + h->hdr_size + (size_t)i * h->ring_stride);
}

static inline uint8_t *hp_pring__data(struct hp_pring *r)
{
	return (uint8_t *)r + sizeof *r;
}

/* Producer: appends one record (len: a multiple of 8, at most ring_bytes / 2).
 * *tail_seen is the producer's own copy of the consumer's tail (start it at 0, one
 * per ring). 0, or -1 when the ring is full: nothing written, the caller counts the
 * loss. */
int hp_pring__put(struct hp_pring *r, uint32_t ring_bytes, const void *rec, uint32_t len, uint64_t *tail_seen);

/* Consumer: copies the next record that is not padding into rec (cap bytes) and
 * frees its space. *tail is the consumer's own cursor (start it at the ring's tail).
 * 1 = a record (*len bytes), 0 = empty, -1 = the ring is malformed: *why says how,
 * and the consumer skipped to the producer's head. */
int hp_pring__take(struct hp_pring *r, uint32_t ring_bytes, uint64_t *tail, void *rec, uint32_t cap, uint32_t *len,
		   const char **why);
#endif
