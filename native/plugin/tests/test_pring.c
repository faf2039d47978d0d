/* The ring file without QEMU: header checks, wrap-around with padding records, a
 * full ring refusing (never overwriting), a concurrent producer and consumer losing
 * nothing and keeping order, and a corrupted ring being skipped, not followed. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hp_test.h"
#include "hprobe/plugin_ring.h"

struct rec {
	struct hp_prec h;
	uint64_t seq;
	uint8_t body[200];
};

static uint32_t rec_len(uint64_t seq)
{
	return (uint32_t)(16 + 8 * (seq % 26));
} /* 16..216 */

static void fill(struct rec *r, uint64_t seq)
{
	r->h = (struct hp_prec){ .len = rec_len(seq), .type = HP_PREC_HIT };
	r->seq = seq;
	memset(r->body, (int)(seq & 0xff), sizeof r->body);
}

static int same(const struct rec *r, uint64_t seq, uint32_t len)
{
	if (len != rec_len(seq) || r->seq != seq)
		return 0;
	for (uint32_t i = 0; i + 16 < len; i++)
		if (r->body[i] != (uint8_t)(seq & 0xff))
			return 0;
	return 1;
}

static void test_header(const char *path)
{
	CHECK_EQ_INT(hp_pring__create(path, 0, 4096), -EINVAL);
	CHECK_EQ_INT(hp_pring__create(path, 2, 5000), -EINVAL);
	REQUIRE(hp_pring__create(path, 2, 4096) == 0);
	size_t len;
	int e;
	const char *why;
	struct hp_pring_file h;
	void *m = hp_pring__map(path, &h, &len, &e, &why);
	REQUIRE(m);
	CHECK(memcmp(&h, m, sizeof h) == 0);
	CHECK_EQ_INT(h.nrings, 3);
	CHECK_EQ_U64(len, HP_PRING_HDR_SIZE + 3 * (128 + 4096));
	CHECK(hp_pring__check_file(&h, len) == NULL);
	CHECK(hp_pring__check_file(&h, len - 1) != NULL); /* truncated file */
	struct hp_pring_file b = h;
	b.magic ^= 1;
	CHECK(hp_pring__check_file(&b, len) != NULL);
	b = h;
	b.ring_bytes = 6000;
	CHECK(hp_pring__check_file(&b, len) != NULL);
	b = h;
	b.nrings = 100000;
	CHECK(hp_pring__check_file(&b, len) != NULL);
	b = h;
	b.version = 99;
	CHECK(hp_pring__check_file(&b, len) != NULL);
	munmap(m, len);
}

/* The file stays writable by its other side: after the check, its header may say
 * anything. Rings are found from the checked copy, so they stay inside the mapping. */
static void test_header_rewritten(const char *path)
{
	REQUIRE(hp_pring__create(path, 2, 4096) == 0);
	size_t len;
	int e;
	const char *why;
	struct hp_pring_file h;
	uint8_t *m = hp_pring__map(path, &h, &len, &e, &why);
	REQUIRE(m);
	struct hp_pring_file *live = (struct hp_pring_file *)m;
	live->hdr_size = 0x7ff00000;
	live->ring_stride = 0x7ff00000;
	live->nrings = 100000;
	for (unsigned i = 0; i < h.nrings; i++) {
		uint8_t *r = (uint8_t *)hp_pring__at(m, &h, i);
		CHECK(r >= m + HP_PRING_HDR_SIZE && r + h.ring_stride <= m + len);
	}
	CHECK_EQ_INT(h.nrings, 3);
	munmap(m, len);
}

static void test_wrap_and_full(struct hp_pring *r, uint32_t bytes)
{
	struct rec in, out;
	uint64_t tail = 0, next = 0, seq = 0, seen = 0;
	uint32_t len;
	const char *why;
	/* many laps with records of varying length: wraps pad, nothing is torn */
	for (int round = 0; round < 2000; round++) {
		int put = 0;
		for (; put < 5; put++, seq++) {
			fill(&in, seq);
			if (hp_pring__put(r, bytes, &in, in.h.len, &seen))
				break;
		}
		while (hp_pring__take(r, bytes, &tail, &out, sizeof out, &len, &why) == 1) {
			if (!same(&out, next, len)) {
				CHECK(!"record mismatch");
				return;
			}
			next++;
		}
	}
	CHECK_EQ_U64(next, seq);
	/* full: puts are refused, what is there stays intact */
	int n = 0;
	for (seq = 0;; seq++, n++) {
		fill(&in, 1); /* 24 bytes */
		if (hp_pring__put(r, bytes, &in, in.h.len, &seen))
			break;
	}
	CHECK(n > 100 && n <= (int)bytes / 24);
	int got = 0;
	while (hp_pring__take(r, bytes, &tail, &out, sizeof out, &len, &why) == 1)
		got += same(&out, 1, len);
	CHECK_EQ_INT(got, n);
}

struct prod {
	struct hp_pring *r;
	uint32_t bytes;
	uint64_t n, dropped;
	atomic_int done;
};

static void *producer(void *arg)
{
	struct prod *p = arg;
	struct rec in;
	uint64_t seen = 0;
	/* retries when full, so every record must come out, in order and whole */
	for (uint64_t s = 0; s < p->n; s++) {
		fill(&in, s);
		while (hp_pring__put(p->r, p->bytes, &in, in.h.len, &seen)) {
			p->dropped++;
			sched_yield();
		}
	}
	atomic_store(&p->done, 1);
	return NULL;
}

static void test_concurrent(struct hp_pring *r, uint32_t bytes)
{
	struct prod p = { .r = r, .bytes = bytes, .n = 100000 };
	uint64_t tail = atomic_load(&r->tail), got = 0, last = 0, written0 = atomic_load(&r->written);
	int ordered = 1, intact = 1;
	pthread_t t;
	pthread_create(&t, NULL, producer, &p);
	struct rec out;
	uint32_t len;
	const char *why;
	for (;;) {
		int done = atomic_load(&p.done);
		int rc;
		while ((rc = hp_pring__take(r, bytes, &tail, &out, sizeof out, &len, &why)) == 1) {
			if (got && out.seq <= last)
				ordered = 0;
			if (!same(&out, out.seq, len))
				intact = 0;
			last = out.seq;
			got++;
		}
		if (rc < 0) {
			CHECK(!"consumer saw a malformed ring");
			break;
		}
		if (done)
			break;
	}
	pthread_join(t, NULL);
	printf("concurrent: %llu of %llu taken (%llu puts refused by a full ring, then retried)\n",
	       (unsigned long long)got, (unsigned long long)p.n, (unsigned long long)p.dropped);
	CHECK(ordered);
	CHECK(intact);
	CHECK_EQ_U64(got, p.n);
	CHECK_EQ_U64(atomic_load(&r->written) - written0, got);
}

static void test_corrupt(struct hp_pring *r, uint32_t bytes)
{
	struct rec in, out;
	uint64_t tail = atomic_load(&r->tail), seen = 0;
	uint32_t len;
	const char *why = NULL;
	fill(&in, 3);
	REQUIRE(hp_pring__put(r, bytes, &in, in.h.len, &seen) == 0);
	uint64_t head = atomic_load(&r->head);
	/* a hostile length: past the end of the ring */
	struct hp_prec *h = (struct hp_prec *)(hp_pring__data(r) + (tail & (bytes - 1)));
	h->len = 0x7ffffff8;
	CHECK_EQ_INT(hp_pring__take(r, bytes, &tail, &out, sizeof out, &len, &why), -1);
	CHECK(why != NULL);
	CHECK_EQ_U64(tail, head); /* skipped to the producer's head */
	/* a head far beyond the tail */
	atomic_store(&r->head, head + 10 * (uint64_t)bytes);
	CHECK_EQ_INT(hp_pring__take(r, bytes, &tail, &out, sizeof out, &len, &why), -1);
	/* a tail the producer cannot trust: the ring counts as full */
	atomic_store(&r->tail, atomic_load(&r->head) + 64);
	CHECK_EQ_INT(hp_pring__put(r, bytes, &in, in.h.len, &seen), -1);
	/* a record longer than the consumer's buffer */
	atomic_store(&r->tail, atomic_load(&r->head));
	tail = atomic_load(&r->tail);
	REQUIRE(hp_pring__put(r, bytes, &in, in.h.len, &seen) == 0);
	CHECK_EQ_INT(hp_pring__take(r, bytes, &tail, &out, 16, &len, &why), -1);
}

int main(void)
{
	char path[] = "/tmp/hp-pring-XXXXXX";
	int fd = mkstemp(path);
	REQUIRE(fd >= 0);
	close(fd);
	test_header(path);
	test_header_rewritten(path);
	const uint32_t bytes = 4096;
	REQUIRE(hp_pring__create(path, 1, bytes) == 0);
	size_t len;
	int e;
	const char *why;
	struct hp_pring_file h;
	void *m = hp_pring__map(path, &h, &len, &e, &why);
	REQUIRE(m);
	struct hp_pring *r = hp_pring__at(m, &h, 0);
	test_wrap_and_full(r, bytes);
	test_concurrent(r, bytes);
	test_corrupt(hp_pring__at(m, &h, 1), bytes);
	munmap(m, len);
	unlink(path);
	TEST_MAIN_END();
}
