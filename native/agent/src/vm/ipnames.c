/* The IPs a VM's journal has named (vm/ipnames.h): an open-addressed set. */
#include "vm/ipnames.h"

#include <stdlib.h>
#include <string.h>

#define CAP (2 * HP_IPNAMES_MAX) /* a power of two, half full at most */

int hp_ipnames__first(struct hp_ipnames *s, uint64_t ip)
{
	if (!ip || ip == s->last)
		return 0;
	s->last = ip;
	if (!s->ips && !(s->ips = calloc(CAP, sizeof *s->ips)))
		return 0;
	size_t i = (size_t)((ip * 0x9e3779b97f4a7c15ull) >> 32) & (CAP - 1);
	for (; s->ips[i]; i = (i + 1) & (CAP - 1))
		if (s->ips[i] == ip)
			return 0;
	if (s->n >= HP_IPNAMES_MAX)
		return 0;
	s->ips[i] = ip;
	s->n++;
	return 1;
}

void hp_ipnames__clear(struct hp_ipnames *s)
{
	free(s->ips);
	memset(s, 0, sizeof *s);
}
