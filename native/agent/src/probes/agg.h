/* Aggregations (--agg): a probe's hits summed into a table keyed by up to three values
 * instead of journalled, the way bpftrace's maps are: "count() by comm",
 * "hist(count) by comm, fd", "avg(latency) by pid". Fed by the hits the agent sees
 * (both tiers); read with agg-read, snapshotted into the journal as AGG events. */
#ifndef HP_AGG_H
#define HP_AGG_H
#include <stdint.h>
#include <jansson.h>

#include "hprobe/pcond.h"

struct hp_probe;
struct hp_hit;
struct hp_err;

#define HP_AGG_MAX_KEYS 3
#define HP_AGG_STR 32      /* a string key's bytes kept (a comm has 16) */
#define HP_AGG_NBUCKETS 65 /* buckets: negative, 0, then [2^k, 2^(k+1)) for k = 0..62 */

enum hp_agg_fn { HP_AGG_COUNT, HP_AGG_SUM, HP_AGG_MIN, HP_AGG_MAX, HP_AGG_AVG, HP_AGG_HIST };
enum hp_agg_ksrc { HP_AGGK_NUM, HP_AGGK_COMM, HP_AGGK_MEM, HP_AGGK_VCPU };

struct hp_agg_key {
	enum hp_agg_ksrc src;
	int is_unsigned;
	char name[48]; /* as written */
	struct hp_pcond prog;
};

struct hp_agg_row {
	uint64_t num[HP_AGG_MAX_KEYS];
	char str[HP_AGG_MAX_KEYS][HP_AGG_STR]; /* guest bytes, NUL-padded */
	uint64_t count, sum, min, max;         /* min, max: as the value's signedness orders */
	uint64_t *hist;                        /* HP_AGG_NBUCKETS buckets (hist only) */
};

struct hp_agg {
	enum hp_agg_fn fn;
	struct hp_pcond value; /* empty for count() */
	int value_unsigned;
	int nkeys;
	struct hp_agg_key keys[HP_AGG_MAX_KEYS];
	uint8_t need, nargs; /* what the programs read (HP_PCOND_NEED_*, the highest argument) */
	uint32_t regs;
	uint32_t cap;          /* rows at most; more keys go to `other` */
	uint32_t nrows, alloc; /* rows used, allocated */
	struct hp_agg_row *rows;
	uint64_t *hist; /* alloc * HP_AGG_NBUCKETS */
	int32_t *index; /* open addressing over rows, -1 = free */
	uint32_t index_mask;
	struct hp_agg_row other;
	uint64_t other_hist[HP_AGG_NBUCKETS];
	uint64_t hits, overflow; /* hits summed; of them, hits in `other` */
	uint64_t unsnapped;      /* hits since the last snapshot */
	uint64_t snap_ns;
};

/* Parses text ("FN(EXPR) [by KEY[, KEY[, KEY]]]", FN count (no EXPR), sum, min, max,
 * avg or hist) against p's names (probes/cond.h) into a table of at most rows rows.
 * -EINVAL with err naming the column and the token that is wrong. */
int hp_agg__compile(const struct hp_probe *p, const char *text, uint32_t rows, struct hp_agg **out, struct hp_err *err);
void hp_agg__free(struct hp_agg *a);
/* Sums one hit; never fails (a full table counts the hit in `other`). */
void hp_agg__add(struct hp_agg *a, const struct hp_hit *hit);
/* Forgets every row (agg-read's clear). */
void hp_agg__clear(struct hp_agg *a);
/* The table as the protocol shows it (docs/protocol.md, agg-read): rows by the
 * function's figure, largest first, at most limit of them (0: all). */
json_t *hp_agg__json(const struct hp_agg *a, const char *text, size_t limit);
const char *hp_agg__fn_name(enum hp_agg_fn fn);
#endif
