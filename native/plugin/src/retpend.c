/* The calls a return probe waits on (hprobe/retpend.h): a fixed pool of entries, a
 * hash on (task, sp) for the return's lookup, and a list in push order (oldest
 * first) for the timeout and for making room. Indexes are 1-based; 0 is "none". */
#include "hprobe/retpend.h"

#include <stdlib.h>

struct node {
	struct hp_retpend_entry e;
	uint32_t hnext;        /* the next node of the same bucket */
	uint32_t older, newer; /* the push-order list; a free node: newer is the next free one */
};

struct hp_retpend {
	uint32_t cap, n, nbuckets;
	uint32_t oldest, newest, free;
	uint32_t *bucket;
	struct node *node; /* node[1..cap] */
};

static uint32_t hash(const struct hp_retpend *t, uint64_t task, uint64_t sp)
{
	uint64_t h = (task * 0x9e3779b97f4a7c15ull) ^ (sp >> 3) * 0xc2b2ae3d27d4eb4full;
	return (uint32_t)(h >> 32) & (t->nbuckets - 1);
}

struct hp_retpend *hp_retpend__new(uint32_t cap)
{
	if (cap < 1 || cap > 1u << 20)
		return NULL;
	struct hp_retpend *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->cap = cap;
	for (t->nbuckets = 1; t->nbuckets < 2 * cap; t->nbuckets *= 2)
		;
	t->bucket = calloc(t->nbuckets, sizeof *t->bucket);
	t->node = calloc((size_t)cap + 1, sizeof *t->node);
	if (!t->bucket || !t->node) {
		hp_retpend__free(t);
		return NULL;
	}
	for (uint32_t i = 1; i <= cap; i++)
		t->node[i].newer = i < cap ? i + 1 : 0;
	t->free = 1;
	return t;
}

void hp_retpend__free(struct hp_retpend *t)
{
	if (!t)
		return;
	free(t->bucket);
	free(t->node);
	free(t);
}

uint32_t hp_retpend__count(const struct hp_retpend *t)
{
	return t->n;
}

uint32_t hp_retpend__cap(const struct hp_retpend *t)
{
	return t->cap;
}

/* Takes node i out of its bucket and the push-order list, onto the free list. */
static void unlink_node(struct hp_retpend *t, uint32_t i)
{
	struct node *x = &t->node[i];
	uint32_t *pp = &t->bucket[hash(t, x->e.task, x->e.sp)];
	while (*pp && *pp != i)
		pp = &t->node[*pp].hnext;
	if (*pp)
		*pp = x->hnext;
	if (x->older)
		t->node[x->older].newer = x->newer;
	else
		t->oldest = x->newer;
	if (x->newer)
		t->node[x->newer].older = x->older;
	else
		t->newest = x->older;
	x->older = x->hnext = 0;
	x->newer = t->free;
	t->free = i;
	t->n--;
}

static uint32_t find(const struct hp_retpend *t, uint64_t task, uint64_t sp)
{
	for (uint32_t i = t->bucket[hash(t, task, sp)]; i; i = t->node[i].hnext)
		if (t->node[i].e.task == task && t->node[i].e.sp == sp)
			return i;
	return 0;
}

static void drop(struct hp_retpend *t, uint32_t i, enum hp_retpend_why why, hp_retpend_fn fn, void *ud)
{
	struct hp_retpend_entry e = t->node[i].e;
	unlink_node(t, i);
	if (fn)
		fn(ud, &e, why);
}

void hp_retpend__push(struct hp_retpend *t, const struct hp_retpend_entry *e, hp_retpend_fn fn, void *ud)
{
	uint32_t i = find(t, e->task, e->sp);
	if (i)
		drop(t, i, HP_RETPEND_REPLACED, fn, ud);
	if (!t->free)
		drop(t, t->oldest, HP_RETPEND_FULL, fn, ud);
	i = t->free;
	struct node *x = &t->node[i];
	t->free = x->newer;
	x->e = *e;
	uint32_t *b = &t->bucket[hash(t, e->task, e->sp)];
	x->hnext = *b;
	*b = i;
	x->older = t->newest;
	x->newer = 0;
	if (t->newest)
		t->node[t->newest].newer = i;
	else
		t->oldest = i;
	t->newest = i;
	t->n++;
}

int hp_retpend__pop(struct hp_retpend *t, uint64_t task, uint64_t sp, struct hp_retpend_entry *out)
{
	uint32_t i = find(t, task, sp);
	if (!i)
		return 0;
	if (out)
		*out = t->node[i].e;
	unlink_node(t, i);
	return 1;
}

size_t hp_retpend__drop_task(struct hp_retpend *t, uint64_t task, hp_retpend_fn fn, void *ud)
{
	size_t n = 0;
	for (uint32_t i = t->oldest, next; i; i = next) {
		next = t->node[i].newer;
		if (t->node[i].e.task == task) {
			drop(t, i, HP_RETPEND_EXIT, fn, ud);
			n++;
		}
	}
	return n;
}

size_t hp_retpend__expire(struct hp_retpend *t, uint64_t before_ns, hp_retpend_fn fn, void *ud)
{
	size_t n = 0;
	/* push order is entry order (near enough across vCPUs): stop at the first young one */
	while (t->oldest && t->node[t->oldest].e.entry_ns < before_ns) {
		drop(t, t->oldest, HP_RETPEND_TIMEOUT, fn, ud);
		n++;
	}
	return n;
}

uint64_t hp_retpend__oldest_ns(const struct hp_retpend *t)
{
	return t->oldest ? t->node[t->oldest].e.entry_ns : 0;
}

size_t hp_retpend__drop_probe(struct hp_retpend *t, uint32_t probe_id, hp_retpend_fn fn, void *ud)
{
	size_t n = 0;
	for (uint32_t i = t->oldest, next; i; i = next) {
		next = t->node[i].newer;
		if (t->node[i].e.probe_id == probe_id) {
			drop(t, i, HP_RETPEND_REMOVED, fn, ud);
			n++;
		}
	}
	return n;
}

size_t hp_retpend__drop_all(struct hp_retpend *t, enum hp_retpend_why why, hp_retpend_fn fn, void *ud)
{
	size_t n = 0;
	for (; t->oldest; n++)
		drop(t, t->oldest, why, fn, ud);
	return n;
}

int hp_retpend__waits_at(const struct hp_retpend *t, uint64_t ret_addr)
{
	for (uint32_t i = t->oldest; i; i = t->node[i].newer)
		if (t->node[i].e.ret_addr == ret_addr)
			return 1;
	return 0;
}
