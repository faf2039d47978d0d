/* Helpers shared by the journal tests: deterministic hits and comparisons. */
#ifndef HP_TEST_JOURNAL_UTIL_H
#define HP_TEST_JOURNAL_UTIL_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hprobe/journal.h"

/* Hit i of a test journal: every shape (args 0..6, regs or not, mem 0..256, full comm). */
static inline void hp_make_hit(uint64_t i, struct hp_hit *h)
{
	memset(h, 0, sizeof(*h));
	h->time_ns = 1000000000ull + i * 1000;
	h->probe_id = (uint32_t)(i % 3 + 1);
	h->vcpu = (uint32_t)(i % 2);
	h->pid = i % 11 == 0 ? -1 : (int32_t)(100 + i % 5);
	h->tgid = h->pid < 0 ? -1 : 100;
	if (h->pid >= 0) {
		snprintf(h->comm, sizeof(h->comm), "task%llu", (unsigned long long)(i % 7));
		h->flags |= HP_HIT_TASK;
	}
	if (i % 13 == 0)
		memcpy(h->comm, "0123456789abcdef", 16); /* no NUL at all */
	h->ip = 0xffffffff81000000ull + i;
	h->cr3 = 0x1000 * (i % 4);
	h->nargs = (uint8_t)(i % 7);
	for (int a = 0; a < h->nargs; a++)
		h->args[a] = i * 10 + (uint64_t)a + (a == 5 ? 0xffff000000000000ull : 0);
	if (i % 4 == 1) {
		h->flags |= HP_HIT_REGS;
		for (int r = 0; r < HP_NREGS; r++)
			h->regs[r] = i + (uint64_t)r * 0x100;
	}
	h->memlen = (uint16_t)(i % 5 == 0 ? 0 : i % 5 == 4 ? HP_MAX_MEM : i % 17);
	if (h->memlen) {
		h->memaddr = 0x7ffd0000 + i;
		for (int m = 0; m < h->memlen; m++)
			h->mem[m] = (uint8_t)(i + (uint64_t)m);
	}
	if (i % 6 == 5) { /* a return probe's hit */
		h->flags |= HP_HIT_RET;
		h->retval = i % 12 == 5 ? -4 : (int64_t)(i * 3);
		h->latency_ns = 1000 + i;
	}
}

static inline int hp_hit_equal(const struct hp_hit *a, const struct hp_hit *b)
{
	return a->time_ns == b->time_ns && a->probe_id == b->probe_id && a->vcpu == b->vcpu && a->pid == b->pid &&
	       a->tgid == b->tgid && memcmp(a->comm, b->comm, HP_COMM_LEN) == 0 && a->ip == b->ip && a->cr3 == b->cr3 &&
	       a->flags == b->flags && a->nargs == b->nargs &&
	       memcmp(a->args, b->args, sizeof(a->args[0]) * a->nargs) == 0 &&
	       (!(a->flags & HP_HIT_REGS) || memcmp(a->regs, b->regs, sizeof(a->regs)) == 0) &&
	       a->memlen == b->memlen && (!a->memlen || a->memaddr == b->memaddr) &&
	       memcmp(a->mem, b->mem, a->memlen) == 0 &&
	       (!(a->flags & HP_HIT_RET) || (a->retval == b->retval && a->latency_ns == b->latency_ns));
}

static inline long hp_file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static inline void *hp_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n = hp_file_size(path);
	void *buf;

	if (!f || n < 0)
		return NULL;
	buf = malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

static inline void hp_write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f) {
		fwrite(buf, 1, len, f);
		fclose(f);
	}
}
#endif
