/* Aggregations: see agg.h. The expressions are the --if language (probes/cond.c), run
 * by the same evaluator (hprobe/pcond.h); the table is open addressing over rows that
 * grow by doubling up to the cap. Guest strings in keys are stored as bytes and
 * escaped only on their way out. */
#include "probes/agg.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/errors.h"
#include "base/text.h"
#include "hprobe/export.h"
#include "hprobe/journal.h"
#include "probes/cond.h"
#include "probes/probe.h"

static const char *const fn_names[] = { "count", "sum", "min", "max", "avg", "hist" };

const char *hp_agg__fn_name(enum hp_agg_fn fn)
{
	return fn_names[fn];
}

static int fail_at(struct hp_err *err, const char *text, size_t at, const char *what)
{
	int n = (int)strcspn(text + at, " \t\n");
	return hp_err__set(err, EINVAL, "--agg: column %zu: %s%s%.*s%s", at + 1, what,
			   text[at] ? " at '" : " at the end", n > 24 ? 24 : n, text + at, text[at] ? "'" : "");
}

static size_t skip_space(const char *s, size_t i, size_t end)
{
	while (i < end && isspace((unsigned char)s[i]))
		i++;
	return i;
}

/* The end of a part of the text: the first `stop` character outside parentheses and
 * string literals, or the end. */
static size_t part_end(const char *s, size_t i, size_t end, char stop)
{
	int depth = 0;
	for (; i < end; i++) {
		if (s[i] == '"') {
			for (i++; i < end && s[i] != '"'; i++)
				if (s[i] == '\\' && i + 1 < end)
					i++;
			if (i == end)
				return end;
		} else if (s[i] == '(') {
			depth++;
		} else if (s[i] == ')' && depth) {
			depth--;
		} else if (s[i] == stop && !depth) {
			return i;
		}
	}
	return end;
}

static void need_of(struct hp_agg *a, const struct hp_pcond *c)
{
	a->need |= c->need;
	a->regs |= c->regs;
	if (c->nargs > a->nargs)
		a->nargs = c->nargs;
}

static int compile_key(const struct hp_probe *p, const char *text, size_t from, size_t to, struct hp_agg *a,
		       struct hp_err *err)
{
	from = skip_space(text, from, to);
	while (to > from && isspace((unsigned char)text[to - 1]))
		to--;
	if (from == to)
		return fail_at(err, text, from, "expected a key (comm, pid, tgid, vcpu, a parameter, ...)");
	if (a->nkeys == HP_AGG_MAX_KEYS)
		return fail_at(err, text, from, "three keys at most");
	struct hp_agg_key *k = &a->keys[a->nkeys++];
	size_t n = to - from < sizeof k->name ? to - from : sizeof k->name - 1;
	memcpy(k->name, text + from, n);
	if (to - from == 4 && !strncmp(text + from, "vcpu", 4)) {
		k->src = HP_AGGK_VCPU;
		k->is_unsigned = 1;
		return 0;
	}
	struct hp_cond_val v;
	if (hp_cond__compile_expr(p, "--agg", text, from, to, 0, &k->prog, &v, err))
		return -EINVAL;
	need_of(a, &k->prog);
	k->src = !v.is_str ? HP_AGGK_NUM : v.src == HP_PCSTR_COMM ? HP_AGGK_COMM : HP_AGGK_MEM;
	if (v.is_str && k->prog.nops) /* a string compared is a number, not a string */
		k->src = HP_AGGK_NUM;
	k->is_unsigned = v.is_unsigned;
	return 0;
}

static int grow(struct hp_agg *a);

int hp_agg__compile(const struct hp_probe *p, const char *text, uint32_t rows, struct hp_agg **out, struct hp_err *err)
{
	*out = NULL;
	size_t end = strlen(text), i = skip_space(text, 0, end), f = i;
	while (f < end && isalpha((unsigned char)text[f]))
		f++;
	int fn = -1;
	for (int k = 0; k < (int)(sizeof fn_names / sizeof *fn_names); k++)
		if (f - i == strlen(fn_names[k]) && !strncmp(text + i, fn_names[k], f - i))
			fn = k;
	if (fn < 0)
		return fail_at(err, text, i, "expected count(), sum(X), min(X), max(X), avg(X) or hist(X)");
	size_t open = skip_space(text, f, end);
	if (text[open] != '(')
		return fail_at(err, text, open, "expected '('");
	size_t close = part_end(text, open + 1, end, ')');
	if (close == end)
		return fail_at(err, text, end, "expected ')'");
	if (rows < 1 || rows > HP_AGG_ROWS_MAX)
		return hp_err__set(err, EINVAL, "--agg-rows: 1..%d", HP_AGG_ROWS_MAX);
	struct hp_agg *a = calloc(1, sizeof *a);
	if (!a)
		return hp_err__set(err, ENOMEM, "out of memory");
	a->fn = (enum hp_agg_fn)fn;
	a->cap = rows;
	int rc = 0;
	size_t in = skip_space(text, open + 1, close);
	if (a->fn == HP_AGG_COUNT && in != close) {
		rc = fail_at(err, text, in, "count() takes nothing: it counts hits");
	} else if (a->fn != HP_AGG_COUNT) {
		struct hp_cond_val v;
		if (in == close)
			rc = fail_at(err, text, close, "expected what to sum up, e.g. a parameter");
		else if (!(rc = hp_cond__compile_expr(p, "--agg", text, open + 1, close, 1, &a->value, &v, err))) {
			a->value_unsigned = v.is_unsigned;
			need_of(a, &a->value);
		}
	}
	size_t at = skip_space(text, close + 1, end);
	if (!rc && at < end) {
		if (strncmp(text + at, "by", 2) || !isspace((unsigned char)text[at + 2]))
			rc = fail_at(err, text, at, "expected 'by KEY, ...' or the end");
		for (at += 2; !rc && at <= end; at++) {
			size_t stop = part_end(text, at, end, ',');
			rc = compile_key(p, text, at, stop, a, err);
			at = stop;
		}
	}
	if (!rc && grow(a))
		rc = hp_err__set(err, ENOMEM, "out of memory");
	if (rc) {
		hp_agg__free(a);
		return -EINVAL;
	}
	*out = a;
	return 0;
}

void hp_agg__free(struct hp_agg *a)
{
	if (!a)
		return;
	free(a->rows);
	free(a->hist);
	free(a->index);
	free(a);
}

static uint64_t hash_key(const struct hp_agg *a, const struct hp_agg_row *r)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (int k = 0; k < a->nkeys; k++) {
		int text = a->keys[k].src == HP_AGGK_COMM || a->keys[k].src == HP_AGGK_MEM;
		const uint8_t *b = text ? (const uint8_t *)r->str[k] : (const uint8_t *)&r->num[k];
		size_t n = text ? HP_AGG_STR : sizeof r->num[k];
		for (size_t i = 0; i < n; i++)
			h = (h ^ b[i]) * 1099511628211ull;
	}
	return h;
}

static int same_key(const struct hp_agg *a, const struct hp_agg_row *x, const struct hp_agg_row *y)
{
	for (int k = 0; k < a->nkeys; k++)
		if (x->num[k] != y->num[k] || memcmp(x->str[k], y->str[k], HP_AGG_STR))
			return 0;
	return 1;
}

static void reindex(struct hp_agg *a)
{
	for (uint32_t i = 0; i <= a->index_mask; i++)
		a->index[i] = -1;
	for (uint32_t r = 0; r < a->nrows; r++) {
		uint32_t i = (uint32_t)hash_key(a, &a->rows[r]) & a->index_mask;
		while (a->index[i] >= 0)
			i = (i + 1) & a->index_mask;
		a->index[i] = (int32_t)r;
	}
}

/* Room for twice the rows (64 to start with), never past the cap. */
static int grow(struct hp_agg *a)
{
	uint32_t n = a->alloc ? a->alloc * 2 : 64;
	if (n > a->cap)
		n = a->cap;
	struct hp_agg_row *rows = realloc(a->rows, n * sizeof *rows);
	if (!rows)
		return -ENOMEM;
	a->rows = rows;
	if (a->fn == HP_AGG_HIST) {
		uint64_t *h = realloc(a->hist, (size_t)n * HP_AGG_NBUCKETS * sizeof *h);
		if (!h)
			return -ENOMEM;
		a->hist = h;
		for (uint32_t r = 0; r < a->nrows; r++)
			a->rows[r].hist = a->hist + (size_t)r * HP_AGG_NBUCKETS;
	}
	uint32_t slots = 1;
	while (slots < 2 * n)
		slots <<= 1;
	int32_t *idx = realloc(a->index, slots * sizeof *idx);
	if (!idx)
		return -ENOMEM;
	a->index = idx;
	a->index_mask = slots - 1;
	a->alloc = n;
	a->other.hist = a->fn == HP_AGG_HIST ? a->other_hist : NULL;
	reindex(a);
	return 0;
}

static struct hp_agg_row *row_of(struct hp_agg *a, const struct hp_agg_row *key)
{
	uint32_t i = (uint32_t)hash_key(a, key) & a->index_mask;
	for (; a->index[i] >= 0; i = (i + 1) & a->index_mask)
		if (same_key(a, &a->rows[a->index[i]], key))
			return &a->rows[a->index[i]];
	if (a->nrows == a->alloc) {
		if (a->alloc == a->cap || grow(a))
			return NULL;
		for (i = (uint32_t)hash_key(a, key) & a->index_mask; a->index[i] >= 0; i = (i + 1) & a->index_mask)
			; /* reindexed: the free slot again */
	}
	struct hp_agg_row *r = &a->rows[a->nrows];
	memcpy(r->num, key->num, sizeof r->num);
	memcpy(r->str, key->str, sizeof r->str);
	r->count = r->sum = r->min = r->max = 0;
	r->hist = a->hist ? a->hist + (size_t)a->nrows * HP_AGG_NBUCKETS : NULL;
	if (r->hist)
		memset(r->hist, 0, HP_AGG_NBUCKETS * sizeof *r->hist);
	a->index[i] = (int32_t)a->nrows++;
	return r;
}

static int below(const struct hp_agg *a, uint64_t x, uint64_t y)
{
	return a->value_unsigned ? x < y : (int64_t)x < (int64_t)y;
}

static int bucket(const struct hp_agg *a, uint64_t v)
{
	if (!a->value_unsigned && (int64_t)v < 0)
		return 0;
	if (!v)
		return 1;
	int b = 63 - __builtin_clzll(v); /* v in [2^b, 2^(b+1)) */
	return b > 62 ? HP_AGG_NBUCKETS - 1 : 2 + b;
}

void hp_agg__add(struct hp_agg *a, const struct hp_hit *hit)
{
	struct hp_pcond_in in;
	struct hp_agg_row key;
	hp_cond__in_hit(&in, hit, NULL);
	memset(&key, 0, sizeof key);
	for (int k = 0; k < a->nkeys; k++) {
		const struct hp_agg_key *d = &a->keys[k];
		if (d->src == HP_AGGK_NUM)
			key.num[k] = (uint64_t)hp_pcond_run(&d->prog, &in);
		else if (d->src == HP_AGGK_VCPU)
			key.num[k] = hit->vcpu;
		else if (d->src == HP_AGGK_COMM)
			memcpy(key.str[k], hit->comm, strnlen(hit->comm, HP_COMM_LEN));
		else /* the captured string, up to its NUL or the bytes read */
			memcpy(key.str[k], hit->mem,
			       strnlen((const char *)hit->mem,
				       hit->memlen < HP_AGG_STR - 1 ? hit->memlen : HP_AGG_STR - 1));
	}
	uint64_t v = a->fn == HP_AGG_COUNT ? 0 : (uint64_t)hp_pcond_run(&a->value, &in);
	struct hp_agg_row *r = row_of(a, &key);
	if (!r) {
		r = &a->other;
		a->overflow++;
	}
	if (!r->count || below(a, v, r->min))
		r->min = v;
	if (!r->count || below(a, r->max, v))
		r->max = v;
	r->count++;
	r->sum += v; /* wraps at 64 bits, as a C sum would */
	if (r->hist)
		r->hist[bucket(a, v)]++;
	a->hits++;
	a->unsnapped++;
}

void hp_agg__clear(struct hp_agg *a)
{
	a->nrows = 0;
	a->hits = a->overflow = 0;
	memset(&a->other, 0, sizeof a->other);
	memset(a->other_hist, 0, sizeof a->other_hist);
	a->other.hist = a->fn == HP_AGG_HIST ? a->other_hist : NULL;
	reindex(a);
}

/* A value as JSON: beyond int64, an unsigned value is a JSON number all the same. */
static json_t *num_json(uint64_t v, int is_unsigned)
{
	return is_unsigned && v > INT64_MAX ? json_real((double)v) : json_integer((json_int_t)v);
}

static json_t *str_json(const char *s)
{
	char esc[4 * HP_AGG_STR + 1];
	hp_export__escape(s, strnlen(s, HP_AGG_STR), esc, sizeof esc);
	return json_string(esc);
}

static double avg_of(const struct hp_agg *a, const struct hp_agg_row *r)
{
	if (!r->count)
		return 0;
	double s = a->value_unsigned ? (double)r->sum : (double)(int64_t)r->sum;
	return s / (double)r->count;
}

/* The row's figure by the function, for sorting: larger first. */
static int before(const struct hp_agg *a, const struct hp_agg_row *x, const struct hp_agg_row *y)
{
	switch (a->fn) {
	case HP_AGG_SUM:
		return below(a, y->sum, x->sum);
	case HP_AGG_MIN:
		return below(a, y->min, x->min);
	case HP_AGG_MAX:
		return below(a, y->max, x->max);
	case HP_AGG_AVG:
		return avg_of(a, x) > avg_of(a, y);
	default:
		return x->count > y->count;
	}
}

static int by_figure(const void *x, const void *y, void *ctx)
{
	const struct hp_agg *a = ctx;
	const struct hp_agg_row *r = *(const struct hp_agg_row *const *)x, *s = *(const struct hp_agg_row *const *)y;
	return before(a, r, s) ? -1 : before(a, s, r) ? 1 : 0;
}

static json_t *hist_json(const uint64_t *h)
{
	json_t *out = json_array();
	int lo = HP_AGG_NBUCKETS, hi = -1;
	for (int b = 0; b < HP_AGG_NBUCKETS; b++)
		if (h[b]) {
			lo = b < lo ? b : lo;
			hi = b;
		}
	for (int b = lo; b <= hi; b++) { /* the empty buckets between too: a plot's gaps */
		json_t *from = b == 0 ? json_integer(INT64_MIN) : num_json(b == 1 ? 0 : 1ull << (b - 2), 1);
		json_t *to = b == 0   ? json_integer(-1)
			     : b == 1 ? json_integer(0)
				      : num_json(b == HP_AGG_NBUCKETS - 1 ? UINT64_MAX : (1ull << (b - 1)) - 1, 1);
		json_array_append_new(out,
				      json_pack("{s:o, s:o, s:I}", "from", from, "to", to, "count", (json_int_t)h[b]));
	}
	return out;
}

static json_t *row_json(const struct hp_agg *a, const struct hp_agg_row *r, int with_key)
{
	json_t *o = json_pack("{s:I}", "count", (json_int_t)r->count);
	if (with_key) {
		json_t *key = json_array();
		for (int k = 0; k < a->nkeys; k++)
			json_array_append_new(key, a->keys[k].src == HP_AGGK_COMM || a->keys[k].src == HP_AGGK_MEM
							   ? str_json(r->str[k])
							   : num_json(r->num[k], a->keys[k].is_unsigned));
		json_object_set_new(o, "key", key);
	}
	if (a->fn != HP_AGG_COUNT && r->count) {
		json_object_set_new(o, "sum", num_json(r->sum, a->value_unsigned));
		json_object_set_new(o, "min", num_json(r->min, a->value_unsigned));
		json_object_set_new(o, "max", num_json(r->max, a->value_unsigned));
		json_object_set_new(o, "avg", json_real(avg_of(a, r)));
	}
	if (r->hist)
		json_object_set_new(o, "hist", hist_json(r->hist));
	return o;
}

json_t *hp_agg__json(const struct hp_agg *a, const char *text, size_t limit)
{
	const struct hp_agg_row **order = malloc((a->nrows ? a->nrows : 1) * sizeof *order);
	if (!order)
		return NULL;
	for (uint32_t r = 0; r < a->nrows; r++)
		order[r] = &a->rows[r];
	qsort_r(order, a->nrows, sizeof *order, by_figure, (void *)a);
	size_t n = limit && limit < a->nrows ? limit : a->nrows;
	json_t *rows = json_array(), *by = json_array();
	for (size_t r = 0; r < n; r++)
		json_array_append_new(rows, row_json(a, order[r], 1));
	free(order);
	for (int k = 0; k < a->nkeys; k++)
		json_array_append_new(by, hp_text__json(a->keys[k].name, sizeof a->keys[k].name)); /* may be cut */
	json_t *o = json_pack("{s:o, s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:I}", "agg", hp_text__json(text, SIZE_MAX),
			      "fn", fn_names[a->fn], "by", by, "rows", rows, "hits", (json_int_t)a->hits, "keys",
			      (json_int_t)a->nrows, "max_keys", (json_int_t)a->cap, "other_hits",
			      (json_int_t)a->overflow, "left_off", (json_int_t)(a->nrows - n));
	if (a->overflow)
		json_object_set_new(o, "other", row_json(a, &a->other, 0));
	return o;
}
