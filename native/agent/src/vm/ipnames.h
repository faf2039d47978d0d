/* The IPs a VM's journal has named: each hit's IP gets one IP_NAME event per journal
 * and kernel (docs/journal.md), so exports read a hit's IP as func+0xoff without the
 * guest's symbols. The worker thread's own. */
#ifndef HPROBED_VM_IPNAMES_H
#define HPROBED_VM_IPNAMES_H
#include <stddef.h>
#include <stdint.h>

/* At most this many names per journal and kernel: a probe on a hot function sees a
 * handful of IPs; a return probe one per call site. */
#define HP_IPNAMES_MAX 4096

struct hp_ipnames {
	uint64_t *ips; /* 2 * HP_IPNAMES_MAX slots, 0: free (ip 0 is never named) */
	size_t n;
	uint64_t last; /* the last IP asked about: most hits repeat it */
};

/* 1 the first time ip is asked about (now noted); 0 after, for ip 0, when the set is
 * full, or when out of memory. */
int hp_ipnames__first(struct hp_ipnames *s, uint64_t ip);
/* Forgets every IP (a new kernel names them anew) and frees. */
void hp_ipnames__clear(struct hp_ipnames *s);

#endif
