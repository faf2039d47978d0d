/* The export driver: reads a journal once, keeps probe specs from its PROBE
 * records, applies the filter and reports progress; the formats live in
 * export_text.c, export_chrome.c and export_ctf.c. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export_int.h"
#include "journal_int.h" /* hpi_reader_boot_id */

#define SPEC_MAX HPI_SPEC_MAX

enum hp_export_format hp_export__parse_format(const char *name)
{
	if (!name)
		return 0;
	if (!strcmp(name, "csv"))
		return HP_EXPORT_CSV;
	if (!strcmp(name, "jsonl"))
		return HP_EXPORT_JSONL;
	if (!strcmp(name, "chrome"))
		return HP_EXPORT_CHROME;
	if (!strcmp(name, "ctf"))
		return HP_EXPORT_CTF;
	return 0;
}

int hpi_idset_add(struct hpi_idset *s, uint32_t key)
{
	size_t i;

	if (key == UINT32_MAX)
		key = UINT32_MAX - 1; /* key + 1 must not wrap to "empty" */
	if ((s->n + 1) * 2 > s->cap) {
		struct hpi_idset g = { 0 };

		g.cap = s->cap ? s->cap * 2 : 64;
		g.keys = calloc(g.cap, sizeof(*g.keys));
		if (!g.keys)
			return -ENOMEM;
		for (i = 0; i < s->cap; i++)
			if (s->keys[i])
				hpi_idset_add(&g, s->keys[i] - 1);
		free(s->keys);
		*s = g;
	}
	for (i = (key * 2654435761u) & (s->cap - 1); s->keys[i]; i = (i + 1) & (s->cap - 1))
		if (s->keys[i] == key + 1)
			return 0;
	s->keys[i] = key + 1;
	s->n++;
	return 1;
}

void hpi_idset_free(struct hpi_idset *s)
{
	free(s->keys);
	memset(s, 0, sizeof(*s));
}

/* Probe id -> spec and parameters, from the journal's PROBE records (the latest one wins). */
struct probe_ent {
	uint32_t id;
	char *spec;  /* NULL: free slot */
	int nparams; /* -1: unknown */
	struct hp_param params[HP_MAX_ARGS];
	int has_ret, ret_errno; /* a return probe's return type (ret_type) */
	struct hp_param ret;
};

struct probe_map {
	struct probe_ent *e;
	size_t cap, n; /* cap: power of two or 0 */
};

static struct probe_ent *probe_slot(const struct probe_map *m, uint32_t id)
{
	for (size_t i = (id * 2654435761u) & (m->cap - 1);; i = (i + 1) & (m->cap - 1))
		if (!m->e[i].spec || m->e[i].id == id)
			return &m->e[i];
}

static int probe_put(struct probe_map *m, uint32_t id, const char *spec, const struct hp_param *params, int nparams,
		     const struct hp_param *ret, int ret_errno)
{
	struct probe_ent *s;
	char *copy;

	if ((m->n + 1) * 2 > m->cap) {
		struct probe_map g = { .cap = m->cap ? m->cap * 2 : 64 };

		g.e = calloc(g.cap, sizeof(*g.e));
		if (!g.e)
			return -ENOMEM;
		for (size_t i = 0; i < m->cap; i++)
			if (m->e[i].spec) {
				*probe_slot(&g, m->e[i].id) = m->e[i];
				g.n++;
			}
		free(m->e);
		*m = g;
	}
	copy = strdup(spec);
	if (!copy)
		return -ENOMEM;
	s = probe_slot(m, id);
	if (!s->spec)
		m->n++;
	free(s->spec);
	s->id = id;
	s->spec = copy;
	s->nparams = nparams;
	if (nparams > 0)
		memcpy(s->params, params, (size_t)nparams * sizeof(*params));
	s->has_ret = ret != NULL;
	s->ret_errno = ret_errno;
	if (ret)
		s->ret = *ret;
	return 0;
}

static const struct probe_ent *probe_get(const struct probe_map *m, uint32_t id)
{
	const struct probe_ent *e = m->cap ? probe_slot(m, id) : NULL;

	return e && e->spec ? e : NULL;
}

static void probe_free(struct probe_map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->e[i].spec);
	free(m->e);
}

/* {"id":N,"spec":"...","params":[...],"ret_type":{...}}: anything else in a PROBE record
 * is ignored here. */
static int note_probe(struct probe_map *m, const struct hp_record *rec)
{
	struct hp_param params[HP_MAX_ARGS], ret;
	int ret_errno = 0;
	json_t *o = json_loadb(rec->json, rec->json_len, JSON_DECODE_INT_AS_REAL, NULL);
	json_t *id = o ? json_object_get(o, "id") : NULL;
	json_t *spec = o ? json_object_get(o, "spec") : NULL;
	double v = json_is_number(id) ? json_number_value(id) : -1;
	int has_ret = hp_param__ret_of(o, &ret, &ret_errno) == 0;
	int rc = 0;

	if (v >= 0 && v <= UINT32_MAX && v == (double)(uint32_t)v && json_is_string(spec) &&
	    json_string_length(spec) <= SPEC_MAX)
		rc = probe_put(m, (uint32_t)v, json_string_value(spec), params,
			       hp_param__list_of(o, params, HP_MAX_ARGS), has_ret ? &ret : NULL, ret_errno);
	json_decref(o);
	return rc;
}

static int probe_kept(const struct hp_export_filter *f, uint32_t id)
{
	if (!f || !f->probes || !f->n_probes)
		return 1;
	for (size_t i = 0; i < f->n_probes; i++)
		if (f->probes[i] == id)
			return 1;
	return 0;
}

static int time_kept(const struct hp_export_filter *f, int64_t rel)
{
	if (!f || (!f->from_ns && !f->to_ns))
		return 1;
	return rel >= 0 && (uint64_t)rel >= f->from_ns && (!f->to_ns || (uint64_t)rel < f->to_ns);
}

/* IP -> name, from the journal's IP_NAME events (the latest one wins: a rebooted guest's
 * kernel may name an address differently). Bounded: a forged journal cannot exhaust memory. */
#define IP_NAMES_MAX 65536

struct ip_ent {
	uint64_t ip;
	char *name; /* NULL: free slot */
};

struct ip_map {
	struct ip_ent *e;
	size_t cap, n; /* cap: power of two or 0 */
};

static struct ip_ent *ip_slot(const struct ip_map *m, uint64_t ip)
{
	for (size_t i = (size_t)((ip * 0x9e3779b97f4a7c15ull) >> 32) & (m->cap - 1);; i = (i + 1) & (m->cap - 1))
		if (!m->e[i].name || m->e[i].ip == ip)
			return &m->e[i];
}

static int ip_put(struct ip_map *m, uint64_t ip, const char *name, size_t len)
{
	char esc[HPI_IP_NAME_MAX];
	struct ip_ent *s = m->cap ? ip_slot(m, ip) : NULL;
	char *copy;

	if (!s || !s->name) { /* a new IP */
		if (m->n >= IP_NAMES_MAX)
			return 0; /* full: later IPs stay unnamed */
		if ((m->n + 1) * 2 > m->cap) {
			struct ip_map g = { .cap = m->cap ? m->cap * 2 : 64 };

			g.e = calloc(g.cap, sizeof(*g.e));
			if (!g.e)
				return -ENOMEM;
			for (size_t i = 0; i < m->cap; i++)
				if (m->e[i].name) {
					*ip_slot(&g, m->e[i].ip) = m->e[i];
					g.n++;
				}
			free(m->e);
			*m = g;
		}
		s = ip_slot(m, ip);
	}
	/* the guest's symbol names are its data: printable, as a comm is */
	hp_export__escape(name, len, esc, sizeof(esc));
	copy = strdup(esc);
	if (!copy)
		return -ENOMEM;
	if (!s->name)
		m->n++;
	free(s->name);
	s->ip = ip;
	s->name = copy;
	return 0;
}

static const char *ip_get(const struct ip_map *m, uint64_t ip)
{
	return m->cap ? ip_slot(m, ip)->name : NULL;
}

static void ip_free(struct ip_map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->e[i].name);
	free(m->e);
}

/* {"ip":"0x...","name":"func+0xoff"}: anything malformed is ignored. */
static int note_ip_name(struct ip_map *m, const json_t *data)
{
	const char *ip = json_string_value(json_object_get(data, "ip"));
	json_t *name = json_object_get(data, "name");
	size_t n = ip ? strlen(ip) : 0;

	/* "0x" and 1 to 16 hex digits, as the agent writes it: strtoull alone takes signs and blanks */
	if (n < 3 || n > 18 || strncmp(ip, "0x", 2) || strspn(ip + 2, "0123456789abcdefABCDEF") != n - 2 ||
	    !json_is_string(name) || !json_string_length(name))
		return 0;
	return ip_put(m, strtoull(ip + 2, NULL, 16), json_string_value(name), json_string_length(name));
}

/* An EVENT record: an IP's name (kept for the hits after it, whatever the filter), or an
 * aggregation's snapshot of a probe the filter keeps (to the format). */
static int on_event(struct hpi_export *x, const struct hpi_export_ops *ops, const struct hp_export_filter *f,
		    const struct hp_record *rec, int64_t rel, struct ip_map *names)
{
	json_t *e = json_loadb(rec->json, rec->json_len, 0, NULL);
	json_t *data = json_object_get(e, "data");
	json_int_t probe = json_integer_value(json_object_get(data, "probe"));
	const char *ev = json_string_value(json_object_get(e, "event"));
	int rc = 0;

	if (ev && !strcmp(ev, "IP_NAME") && json_is_object(data))
		rc = note_ip_name(names, data);
	else if (ev && !strcmp(ev, "AGG") && ops->agg && time_kept(f, rel) && json_is_object(data) && probe > 0 &&
		 probe <= UINT32_MAX && probe_kept(f, (uint32_t)probe))
		rc = ops->agg(x, rec, data);
	json_decref(e);
	return rc;
}

static int hit_kept(const struct hp_export_filter *f, const struct hp_hit *h, int64_t rel)
{
	if (!probe_kept(f, h->probe_id) || !time_kept(f, rel))
		return 0;
	if (f && f->pids && f->n_pids) {
		for (size_t i = 0; i < f->n_pids; i++)
			if (f->pids[i] == h->pid || f->pids[i] == h->tgid)
				return 1;
		return 0;
	}
	return 1;
}

int hp_export__journal(const char *journal_path, enum hp_export_format fmt, const char *out_path,
		       const struct hp_export_filter *filter, hp_export_progress_fn progress, void *ud,
		       struct hp_export_stats *stats, struct hp_err *err)
{
	const struct hpi_export_ops *ops;
	struct hp_journal_reader *r = NULL;
	struct hp_export_stats st = { 0 };
	struct probe_map probes = { 0 };
	struct ip_map names = { 0 };
	struct hpi_export x = { 0 };
	struct hp_record rec;
	uint64_t total = 0, step, mark;
	struct stat sb;
	int rc, began = 0;
	char fallback[24];

	if (stats)
		memset(stats, 0, sizeof(*stats));
	switch (fmt) {
	case HP_EXPORT_CSV:
		ops = &hpi_export_csv;
		break;
	case HP_EXPORT_JSONL:
		ops = &hpi_export_jsonl;
		break;
	case HP_EXPORT_CHROME:
		ops = &hpi_export_chrome;
		break;
	case HP_EXPORT_CTF:
		ops = &hpi_export_ctf;
		break;
	default:
		return hp_err__set(err, EINVAL, "export: unknown format %d", (int)fmt);
	}
	if (!journal_path || !out_path || !*out_path)
		return hp_err__set(err, EINVAL, "export: no journal or output path");
	if ((rc = hp_journal__open(journal_path, &r, err)) < 0)
		return rc;
	if (stat(journal_path, &sb) == 0)
		total = (uint64_t)sb.st_size;
	step = total / 100 ? total / 100 : 1;
	mark = step;
	x.meta = hp_journal__meta(r);
	x.boot_id = hpi_reader_boot_id(r);
	x.text = malloc(HPI_TEXT_MAX);
	if (!x.text) {
		rc = hp_err__set(err, ENOMEM, "export: out of memory");
		goto out;
	}
	x.out_path = out_path;
	x.out.fd = -1;
	x.err = err;
	began = 1; /* from here on, discard cleans up even a half-done begin */
	if ((rc = ops->begin(&x)) < 0) {
		hp_err__set(err, -rc, "export: cannot create %s: %s", out_path, strerror(-rc));
		goto out;
	}
	while ((rc = hp_journal__next(r, &rec, err)) > 0) {
		int64_t rel = hpi_rel_ns(&x, rec.time_ns);

		st.records_read++;
		if (progress && hp_journal__offset(r) >= mark) {
			/* a journal still being written may have grown past the size seen at open */
			uint64_t done = hp_journal__offset(r) < total ? hp_journal__offset(r) : total;

			if (progress(done, total, ud)) {
				rc = hp_err__set(err, ECANCELED, "export: cancelled");
				goto out;
			}
			mark = (hp_journal__offset(r) / step + 1) * step; /* the next whole percent */
		}
		switch (rec.type) {
		case HP_REC_HIT: {
			const struct hp_hit *h = &rec.u.hit;
			char comm[HP_COMM_ESC_MAX];
			const struct probe_ent *pe;
			const char *spec;

			if (!hit_kept(filter, h, rel))
				continue;
			pe = probe_get(&probes, h->probe_id);
			spec = pe ? pe->spec : NULL;
			if (!spec) {
				snprintf(fallback, sizeof(fallback), "#%u", h->probe_id);
				spec = fallback;
			}
			x.params = pe && pe->nparams >= 0 ? pe->params : NULL;
			x.nparams = pe ? pe->nparams : -1;
			x.ret = pe && pe->has_ret ? &pe->ret : NULL;
			x.ret_errno = pe && pe->ret_errno;
			x.ip_name = ip_get(&names, h->ip);
			hp_export__escape(h->comm, strnlen(h->comm, HP_COMM_LEN), comm, sizeof(comm));
			rc = ops->hit(&x, &rec, spec, comm);
			st.hits_written++;
			break;
		}
		case HP_REC_PROBE:
			rc = note_probe(&probes, &rec);
			break;
		case HP_REC_ALERT:
			rc = ops->alert && time_kept(filter, rel) ? ops->alert(&x, &rec) : 0;
			break;
		case HP_REC_EVENT:
			rc = on_event(&x, ops, filter, &rec, rel, &names);
			break;
		case HP_REC_DROPPED: /* probe 0 means "all probes": kept by any probe filter */
			rc = ops->dropped && time_kept(filter, rel) &&
					     (rec.u.dropped.probe_id == 0 || probe_kept(filter, rec.u.dropped.probe_id))
				     ? ops->dropped(&x, &rec)
				     : 0;
			break;
		default:
			break;
		}
		if (rc < 0) {
			hp_err__set(err, -rc, "export: writing %s: %s", out_path, strerror(-rc));
			goto out;
		}
	}
	if (rc < 0) /* hp_journal__next set the message */
		goto out;
	/* A crash tail is not an error: export the valid prefix, as any reader would. */
	began = 0; /* end() commits, or cleans up itself when it fails */
	rc = ops->end(&x);
	if (rc < 0) {
		hp_err__set(err, -rc, "export: cannot write %s: %s", out_path, strerror(-rc));
		goto out;
	}
	if (progress)
		progress(total, total, ud);
	if (stats)
		*stats = st;
out:
	if (began)
		ops->discard(&x);
	probe_free(&probes);
	ip_free(&names);
	free(x.text);
	hp_journal__close_reader(r);
	return rc < 0 ? rc : 0;
}
