/* The sorted symbol table shared by the text and ELF loaders: ordering, the name
 * index, address lookup, search and "did you mean" suggestions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symtab_int.h"

int hpi_sym_is_text(char type)
{
	/* nm letters: W/w is a weak symbol not tagged as an object (V/v are weak objects). */
	return type == 'T' || type == 't' || type == 'W' || type == 'w';
}

struct hp_symtab *hpi_symtab_new(char *strings)
{
	struct hp_symtab *st = calloc(1, sizeof(*st));

	if (st)
		st->strings = strings;
	return st;
}

int hpi_symtab_push(struct hp_symtab *st, const struct hp_sym *sym)
{
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 1024;
		struct hp_sym *p;

		if (cap > UINT32_MAX - 2)
			return -E2BIG; /* the name index uses 32-bit links */
		p = realloc(st->syms, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		st->syms = p;
		st->cap = cap;
	}
	st->syms[st->n++] = *sym;
	return 0;
}

static int sym_cmp(const void *a, const void *b)
{
	const struct hp_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return strcmp(x->name, y->name);
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static int build_index(struct hp_symtab *st)
{
	size_t nb = 16;

	while (nb < st->n * 2)
		nb <<= 1;
	st->buckets = calloc(nb, sizeof(*st->buckets));
	st->next = malloc((st->n ? st->n : 1) * sizeof(*st->next));
	if (!st->buckets || !st->next)
		return -ENOMEM;
	st->nbuckets = nb;
	/* Inserting at the chain head in descending order leaves each chain ascending,
	 * so the first name match is the lowest address. */
	for (size_t i = st->n; i-- > 0;) {
		uint32_t b = name_hash(st->syms[i].name) & (nb - 1);

		st->next[i] = st->buckets[b];
		st->buckets[b] = (uint32_t)(i + 1);
	}
	return 0;
}

int hpi_symtab_finish(struct hp_symtab *st, int dedup)
{
	size_t i, j;

	/* Most inputs arrive sorted (System.map, kallsyms, symtabs mostly): skip qsort then. */
	for (i = 1; i < st->n; i++)
		if (sym_cmp(&st->syms[i - 1], &st->syms[i]) > 0)
			break;
	if (i < st->n)
		qsort(st->syms, st->n, sizeof(*st->syms), sym_cmp);
	if (dedup && st->n) {
		for (i = 1, j = 0; i < st->n; i++) {
			if (st->syms[i].addr == st->syms[j].addr && strcmp(st->syms[i].name, st->syms[j].name) == 0)
				continue;
			st->syms[++j] = st->syms[i];
		}
		st->n = j + 1;
	}
	return build_index(st);
}

/* kallsyms has no sizes: a text symbol extends to the next text symbol at a
 * greater address. Walking backwards, a1 is the lowest text address seen so far
 * and a2 the lowest one above a1. */
void hpi_symtab_text_sizes(struct hp_symtab *st)
{
	uint64_t a1 = 0, a2 = 0;
	int have1 = 0, have2 = 0;

	for (size_t i = st->n; i-- > 0;) {
		struct hp_sym *s = &st->syms[i];

		if (!hpi_sym_is_text(s->type))
			continue;
		if (have1 && s->addr < a1)
			s->size = a1 - s->addr;
		else if (have2)
			s->size = a2 - s->addr;
		if (!have1 || s->addr < a1) {
			a2 = a1;
			have2 = have1;
			a1 = s->addr;
			have1 = 1;
		}
	}
}

void hp_symtab__free(struct hp_symtab *st)
{
	if (!st)
		return;
	free(st->syms);
	free(st->strings);
	free(st->buckets);
	free(st->next);
	free(st);
}

size_t hp_symtab__count(const struct hp_symtab *st)
{
	return st ? st->n : 0;
}

const struct hp_sym *hp_symtab__at(const struct hp_symtab *st, size_t idx)
{
	return st && idx < st->n ? &st->syms[idx] : NULL;
}

size_t hp_symtab__find_all(const struct hp_symtab *st, const char *name, const struct hp_sym **out, size_t max)
{
	size_t found = 0;
	uint32_t i;

	if (!st || !name || !st->nbuckets)
		return 0;
	for (i = st->buckets[name_hash(name) & (st->nbuckets - 1)]; i; i = st->next[i - 1]) {
		if (strcmp(st->syms[i - 1].name, name) != 0)
			continue;
		if (out && found < max)
			out[found] = &st->syms[i - 1];
		found++;
	}
	return found;
}

const struct hp_sym *hp_symtab__find(const struct hp_symtab *st, const char *name)
{
	const struct hp_sym *s = NULL;

	hp_symtab__find_all(st, name, &s, 1);
	return s;
}

const struct hp_sym *hp_symtab__find_clone(const struct hp_symtab *st, const char *name)
{
	const struct hp_sym *s = hp_symtab__find(st, name), *found = NULL;
	size_t nl = name ? strlen(name) : 0;

	if (s || !st || !nl)
		return s;
	for (size_t i = 0; i < st->n; i++) {
		const struct hp_sym *c = &st->syms[i];
		size_t cl;

		if (!hpi_sym_is_text(c->type) || strncmp(c->name, name, nl) || c->name[nl] != '.')
			continue;
		cl = strlen(c->name);
		if (cl >= 5 && !strcmp(c->name + cl - 5, ".cold"))
			continue;
		if (found && found->addr != c->addr)
			return NULL;
		found = c;
	}
	return found;
}

/* Lookup prefers, among the symbols at the nearest address <= addr: one whose
 * extent contains addr, then a sizeless one; globals before locals. */
static int lookup_score(const struct hp_sym *s, uint64_t addr)
{
	int score;

	if (s->size && addr - s->addr < s->size)
		score = 4;
	else if (!s->size)
		score = 2;
	else
		return 0;
	return score + (s->type >= 'A' && s->type <= 'Z');
}

/* How far back to look for an enclosing symbol when the nearest one ends before addr. */
#define LOOKUP_BACKTRACK 64

const struct hp_sym *hp_symtab__lookup_addr(const struct hp_symtab *st, uint64_t addr, uint64_t *off)
{
	size_t lo = 0, hi, i, best = SIZE_MAX;
	int best_score = 0;

	if (!st || !st->n)
		return NULL;
	hi = st->n;
	while (lo < hi) { /* first index with sym.addr > addr */
		size_t mid = lo + (hi - lo) / 2;

		if (st->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	for (i = lo; i-- > 0;) {
		const struct hp_sym *s = &st->syms[i];
		int sc;

		if (s->addr != st->syms[lo - 1].addr) {
			/* Past the nearest address: only an enclosing sized symbol still counts. */
			if (best != SIZE_MAX || lo - 1 - i > LOOKUP_BACKTRACK)
				break;
			if (!(s->size && addr - s->addr < s->size))
				continue;
		}
		sc = lookup_score(s, addr);
		if (sc > 0 && sc >= best_score) { /* >=: walking down, ties go to the lower index */
			best_score = sc;
			best = i;
		}
	}
	if (best == SIZE_MAX)
		return NULL;
	if (off)
		*off = addr - st->syms[best].addr;
	return &st->syms[best];
}

#define DESCRIBE_NO_SIZE_MAX 0x10000

int hp_symtab__describe(const struct hp_symtab *st, uint64_t addr, char *buf, size_t cap)
{
	uint64_t off = 0;
	const struct hp_sym *s = hp_symtab__lookup_addr(st, addr, &off);
	int n;

	if (cap)
		buf[0] = '\0';
	if (!s || !(s->type == 'T' || s->type == 't' || s->type == 'W' || s->type == 'w') ||
	    (s->size ? off >= s->size : off >= DESCRIBE_NO_SIZE_MAX))
		return -ENOENT;
	n = off ? snprintf(buf, cap, "%s+0x%llx", s->name, (unsigned long long)off) : snprintf(buf, cap, "%s", s->name);
	return n < 0 ? -ENOENT : n;
}

/* Anchored glob with '*' and '?' (no classes: symbol names never need them). */
static int glob_match(const char *p, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*p == '*') {
			star = p++;
			resume = s;
		} else if (*p == '?' || *p == *s) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++resume;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

size_t hp_symtab__search(const struct hp_symtab *st, const char *pattern, int text_only, const struct hp_sym **out,
			 size_t max)
{
	size_t total = 0;
	int glob;

	if (!st || !pattern)
		return 0;
	glob = strpbrk(pattern, "*?") != NULL;
	for (size_t i = 0; i < st->n; i++) {
		const struct hp_sym *s = &st->syms[i];

		if (text_only && !hpi_sym_is_text(s->type))
			continue;
		if (glob ? !glob_match(pattern, s->name) : !strstr(s->name, pattern))
			continue;
		if (out && total < max)
			out[total] = s;
		total++;
	}
	return total;
}

/* Optimal-string-alignment distance (edits + adjacent transpositions), computed only
 * in the band |i-j| <= k; returns k+1 as soon as the distance must exceed k. */
static int osa_bounded(const char *a, int la, const char *b, int lb, int k, int *rows)
{
	int *pp = rows, *p = rows + (lb + 1), *c = rows + 2 * (lb + 1);
	const int inf = k + 1;

	for (int j = 0; j <= lb; j++)
		p[j] = j <= k ? j : inf;
	for (int i = 1; i <= la; i++) {
		int jlo = i - k > 1 ? i - k : 1, jhi = i + k < lb ? i + k : lb, rowmin = inf;
		int *t;

		c[0] = i <= k ? i : inf;
		if (jlo > 1)
			c[jlo - 1] = inf;
		for (int j = jlo; j <= jhi; j++) {
			int v = p[j - 1] + (a[i - 1] != b[j - 1]);

			if (p[j] + 1 < v)
				v = p[j] + 1;
			if (c[j - 1] + 1 < v)
				v = c[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			c[j] = v < inf ? v : inf;
			if (c[j] < rowmin)
				rowmin = c[j];
		}
		if (jhi < lb)
			c[jhi + 1] = inf;
		if (rowmin > k && c[0] > k)
			return inf;
		t = pp;
		pp = p;
		p = c;
		c = t;
	}
	return p[lb] < inf ? p[lb] : inf;
}

/* Better suggestion first: smaller distance, text before data, then by name. */
static int sugg_before(int da, const struct hp_sym *a, int db, const struct hp_sym *b)
{
	int ta = hpi_sym_is_text(a->type), tb = hpi_sym_is_text(b->type);

	if (da != db)
		return da < db;
	if (ta != tb)
		return ta;
	return strcmp(a->name, b->name) < 0;
}

size_t hp_symtab__suggest(const struct hp_symtab *st, const char *name, const struct hp_sym **out, size_t max)
{
	size_t len, kept = 0;
	int *rows, *dist, k;

	if (!st || !name || !out || !max)
		return 0;
	len = strlen(name);
	if (len == 0 || len > HPI_SYM_NAME_MAX)
		return 0;
	/* The budget grows with the length: one typo in a short name, four in a long one. */
	k = len <= 3 ? 1 : len <= 6 ? 2 : len <= 12 ? 3 : 4;
	rows = malloc(3 * (HPI_SYM_NAME_MAX + 1) * sizeof(*rows));
	dist = malloc(max * sizeof(*dist));
	if (!rows || !dist) {
		free(rows);
		free(dist);
		return 0;
	}
	for (size_t i = 0; i < st->n; i++) {
		const struct hp_sym *s = &st->syms[i];
		size_t sl = strlen(s->name), pos;
		int d, dup = 0;

		if (sl + k < len || sl > len + k) /* the length difference alone exceeds k */
			continue;
		d = osa_bounded(name, (int)len, s->name, (int)sl, k, rows);
		if (d > k)
			continue;
		if (kept == max && !sugg_before(d, s, dist[kept - 1], out[kept - 1]))
			continue;
		for (pos = 0; pos < kept; pos++)
			if (strcmp(out[pos]->name, s->name) == 0) {
				dup = 1;
				break;
			}
		if (dup)
			continue;
		for (pos = kept < max ? kept : max - 1; pos > 0 && sugg_before(d, s, dist[pos - 1], out[pos - 1]);
		     pos--) {
			out[pos] = out[pos - 1];
			dist[pos] = dist[pos - 1];
		}
		out[pos] = s;
		dist[pos] = d;
		if (kept < max)
			kept++;
	}
	free(rows);
	free(dist);
	return kept;
}
