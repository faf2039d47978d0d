/* Fuzzes the in-QEMU tier's ring from the agent's side: the ring file is memory QEMU
 * shares with us, so a compromised or buggy QEMU controls every byte of it. The first
 * byte chooses the ring (vCPU 0, vCPU 1 or the control ring) and the mode:
 * - consume (even): the rest is the ring's head, tail and data as QEMU left them; the
 *   consumer (hp_pring__take) and the record parser (hp_plugin_rec__parse) must stay
 *   inside the ring and the record, end, and hand on only events within bounds;
 * - round trip (odd): the rest is records (a length byte, then its bytes) that the
 *   producer (hp_pring__put) writes at a tail the input sets, past the ring's end
 *   too; the consumer must give back each record written, whole and in order. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/plugin_recs.h"
#include "hprobe/plugin_ring.h"

#include "fuzz_assert.h"

/* smaller than a real ring (4 KiB at least) so that short inputs reach every offset;
 * the ring's code takes any power of two */
#define RING_BYTES 1024u
#define NRINGS 3 /* two vCPUs and the control ring */

static uint64_t u64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static void check_event(const struct hp_bev *ev, unsigned ring)
{
	if (ev->type == HP_BEV_HIT) {
		ASSERT(ring < NRINGS - 1 && ev->vcpu == (int)ring && ev->hit.vcpu == ring);
		ASSERT(ev->hit.nargs <= HP_MAX_ARGS && ev->hit.memlen <= HP_MAX_MEM);
	} else if (ev->type == HP_BEV_COUNT) {
		ASSERT(ring == NRINGS - 1 && ev->count.vcpu < NRINGS - 1);
	} else {
		ASSERT(ev->type == HP_BEV_RETSTAT && ring == NRINGS - 1);
	}
}

static void consume(struct hp_pring *r, unsigned ring)
{
	union {
		struct hp_prec h;
		uint8_t raw[HP_PREC_HIT_MAX + 8];
	} rec;
	uint64_t tail = atomic_load(&r->tail), head = atomic_load(&r->head);
	const char *why;
	uint32_t len;
	int rc;
	/* each record frees at least 8 bytes, and a malformed ring ends the walk */
	for (unsigned n = 0; (rc = hp_pring__take(r, RING_BYTES, &tail, rec.raw, sizeof rec, &len, &why)); n++) {
		ASSERT(n <= RING_BYTES / 8);
		if (rc < 0) {
			ASSERT(why && tail == head);
			break;
		}
		ASSERT(len >= sizeof rec.h && len <= sizeof rec && len % 8 == 0 && rec.h.len == len);
		ASSERT(tail - atomic_load(&r->tail) == 0 && head - tail <= RING_BYTES);
		struct hp_bev ev;
		if (!hp_plugin_rec__parse(rec.raw, len, ring, NRINGS, &ev))
			check_event(&ev, ring);
	}
}

static void round_trip(struct hp_pring *r, const uint8_t *data, size_t size)
{
	static uint8_t want[RING_BYTES], got[RING_BYTES];
	uint64_t start = (size >= 2 ? (uint64_t)(data[0] | data[1] << 8) : 0) * 8, tail_seen = start;
	atomic_store(&r->head, start);
	atomic_store(&r->tail, start);
	size_t at = size >= 2 ? 2 : size, nwant = 0, put = 0;
	uint32_t lens[RING_BYTES / 8];
	while (at < size && put < RING_BYTES / 8) {
		uint32_t len = (uint32_t)(data[at++] % 64 + 1) * 8; /* 8..512 bytes, header included */
		uint8_t rec[512] = { 0 };
		size_t n = size - at < len - sizeof(struct hp_prec) ? size - at : len - sizeof(struct hp_prec);
		memcpy(rec + sizeof(struct hp_prec), data + at, n);
		at += n;
		struct hp_prec h = { .len = len, .type = HP_PREC_HIT };
		memcpy(rec, &h, sizeof h);
		if (hp_pring__put(r, RING_BYTES, rec, len, &tail_seen))
			break; /* full: the producer writes nothing */
		ASSERT(nwant + len <= sizeof want);
		memcpy(want + nwant, rec, len);
		nwant += len;
		lens[put++] = len;
	}
	ASSERT(atomic_load(&r->written) == put);
	union {
		struct hp_prec h;
		uint8_t raw[512];
	} rec;
	uint64_t tail = start;
	size_t ngot = 0, taken = 0;
	const char *why;
	uint32_t len;
	int rc;
	while ((rc = hp_pring__take(r, RING_BYTES, &tail, rec.raw, sizeof rec, &len, &why)) == 1) {
		ASSERT(taken < put && len == lens[taken]);
		memcpy(got + ngot, rec.raw, len);
		ngot += len;
		taken++;
	}
	ASSERT(rc == 0 && taken == put && ngot == nwant && !memcmp(got, want, nwant));
	ASSERT(tail == atomic_load(&r->head) && atomic_load(&r->tail) == tail);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned ring = data[0] / 2 % NRINGS;
	/* on the heap: ASan guards it (it leaves globals aligned past 32 bytes unguarded) */
	struct hp_pring *r = aligned_alloc(64, sizeof *r + RING_BYTES);
	ASSERT(r);
	memset(r, 0, sizeof *r + RING_BYTES);
	if (data[0] & 1) {
		round_trip(r, data + 1, size - 1);
		free(r);
		return 0;
	}
	data++, size--;
	uint8_t hdr[16] = { 0 };
	memcpy(hdr, data, size < sizeof hdr ? size : sizeof hdr);
	atomic_store(&r->head, u64(hdr));
	atomic_store(&r->tail, u64(hdr + 8));
	if (size > sizeof hdr)
		memcpy(hp_pring__data(r), data + sizeof hdr,
		       size - sizeof hdr < RING_BYTES ? size - sizeof hdr : RING_BYTES);
	consume(r, ring);
	free(r);
	return 0;
}
