/* Internal to the exporters: one driver (export.c) reads the journal, filters
 * and looks up probe names; each format implements these callbacks. */
#ifndef HPROBE_EXPORT_INT_H
#define HPROBE_EXPORT_INT_H
#include <jansson.h>

#include "hprobe/export.h"
#include "hprobe/hit.h"
#include "outbuf.h"

#define HPI_SPEC_MAX 4096
/* An IP's name kept from the journal at most (escaped as a comm, cut): a kernel's
 * longest symbol (KSYM_NAME_LEN 512) does not fit, a C function's name does. */
#define HPI_IP_NAME_MAX 256
/* A hit's JSON or CSV text at most: the fields, plus a spec and an IP's name escaped
 * 6 bytes a byte. */
#define HPI_TEXT_MAX (HP_HIT_TEXT_MAX + 6 * (HPI_SPEC_MAX + HPI_IP_NAME_MAX))

struct hpi_export;

struct hpi_export_ops {
	int (*begin)(struct hpi_export *x);
	/* spec: the probe's spec (never NULL); comm: escaped comm (never NULL). */
	int (*hit)(struct hpi_export *x, const struct hp_record *rec, const char *spec, const char *comm);
	int (*alert)(struct hpi_export *x, const struct hp_record *rec);   /* may be NULL */
	int (*dropped)(struct hpi_export *x, const struct hp_record *rec); /* may be NULL */
	/* An aggregation's snapshot (an AGG event's data: agg-read's reply, from the journal,
	 * so unchecked: any member may be missing or of another type). May be NULL. */
	int (*agg)(struct hpi_export *x, const struct hp_record *rec, const json_t *snap);
	int (*end)(struct hpi_export *x);      /* success: finish and commit outputs */
	void (*discard)(struct hpi_export *x); /* failure: remove partial outputs */
};

struct hpi_export {
	const struct hp_journal_meta *meta;
	const uint8_t *boot_id; /* the journal's host boot (16 bytes, zeros when unknown) */
	const char *out_path;
	struct hpi_out out; /* the main output file */
	void *priv;         /* the format's state */
	struct hp_err *err;
	char *text; /* HPI_TEXT_MAX bytes for a hit's text (hpi_hit_text) */
	/* the parameters of the current hit's probe (hp_hit_ctx), NULL: unknown */
	const struct hp_param *params;
	int nparams;
	const struct hp_param *ret; /* its return type (NULL: unknown), and whether < 0 is -errno */
	int ret_errno;
	const char *ip_name; /* the hit's IP by name (IP_NAME records), NULL: unknown */
};

/* Relative time (ns since the journal's monotonic base), signed. */
static inline int64_t hpi_rel_ns(const struct hpi_export *x, uint64_t t)
{
	return (int64_t)(t - x->meta->mono_base_ns);
}

/* What the journal says of the current hit beyond its record (hprobe/hit.h). */
static inline struct hp_hit_ctx hpi_hit_ctx(const struct hpi_export *x, const struct hp_record *rec, const char *spec)
{
	struct hp_hit_ctx c = { rec->seq,     hpi_rel_ns(x, rec->u.hit.time_ns),
				spec,         x->params,
				x->nparams,   x->ret,
				x->ret_errno, x->ip_name };
	return c;
}

/* The hit's fields as the table says (hprobe/hit.h), into x->text: a CSV row
 * (style -1) or a JSON object (style: hp_hit__json's bits besides the export's). */
static inline size_t hpi_hit_text(struct hpi_export *x, const struct hp_record *rec, const char *spec, int style)
{
	struct hp_hit_ctx c = hpi_hit_ctx(x, rec, spec);
	size_t n = style < 0 ? hp_hit__csv(&rec->u.hit, &c, x->text, HPI_TEXT_MAX)
			     : hp_hit__json(&rec->u.hit, &c, HP_HF_IN_EXPORT | (unsigned)style, x->text, HPI_TEXT_MAX);
	return n < HPI_TEXT_MAX ? n : HPI_TEXT_MAX - 1; /* cannot happen: the spec is bounded */
}

extern const struct hpi_export_ops hpi_export_csv, hpi_export_jsonl, hpi_export_chrome, hpi_export_ctf;

/* A set of 32-bit keys (tgids already named, for Chrome metadata). */
struct hpi_idset {
	uint32_t *keys; /* key + 1; 0 = empty */
	size_t cap, n;
};
/* 1 if newly added, 0 if present, -ENOMEM. */
int hpi_idset_add(struct hpi_idset *s, uint32_t key);
void hpi_idset_free(struct hpi_idset *s);

#endif
