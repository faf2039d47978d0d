/* Chrome Trace Event JSON (chrome://tracing, Perfetto UI): an instant event per
 * hit on the guest process/thread (pid = tgid, tid = pid), a return probe's hit as
 * a complete event (X: the call from its entry, latency_ns before, to its return,
 * nested on its thread as the calls were), alerts and drops as
 * global instant events, an aggregation's snapshots as a counter track (a series
 * per key), process/thread names from comm. Timestamps are in µs
 * since the journal start with ns precision. Addresses are hex strings because
 * the viewers hold numbers as doubles. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "export_int.h"
#include "hprobe/common.h"

struct chrome {
	struct hpi_idset procs, threads;
	int first; /* no event written yet (no comma) */
};

static void ts_us(struct hpi_out *o, int64_t rel)
{
	uint64_t a = rel < 0 ? (uint64_t)0 - (uint64_t)rel : (uint64_t)rel;
	char frac[4] = { '.', (char)('0' + a / 100 % 10), (char)('0' + a / 10 % 10), (char)('0' + a % 10) };

	if (rel < 0)
		hpi_out_char(o, '-');
	hpi_out_u64(o, a / 1000);
	hpi_out_write(o, frac, 4);
}

static void sep(struct chrome *c, struct hpi_out *o)
{
	hpi_out_write(o, c->first ? "\n" : ",\n", c->first ? 1 : 2);
	c->first = 0;
}

static void meta_str(struct hpi_out *o, const char *key, const char *val, size_t max)
{
	char esc[4 * 128 + 1];

	hp_export__escape(val, strnlen(val, max), esc, sizeof(esc));
	hpi_out_char(o, '"');
	hpi_out_str(o, key);
	hpi_out_write(o, "\":", 2);
	hpi_out_json_str(o, esc, strlen(esc));
}

static int chrome_begin(struct hpi_export *x)
{
	struct chrome *c = calloc(1, sizeof(*c));
	struct hpi_out *o = &x->out;
	int rc;

	if (!c)
		return -ENOMEM;
	x->priv = c;
	c->first = 1;
	if ((rc = hpi_out_open(o, x->out_path)) < 0)
		return rc;
	hpi_out_str(o, "{\"displayTimeUnit\":\"ns\",\"otherData\":{");
	meta_str(o, "session", x->meta->session, sizeof(x->meta->session));
	hpi_out_char(o, ',');
	meta_str(o, "vm", x->meta->vm_name, sizeof(x->meta->vm_name));
	hpi_out_char(o, ',');
	meta_str(o, "kernel", x->meta->kernel, sizeof(x->meta->kernel));
	hpi_out_str(o, ",\"created_ns\":");
	hpi_out_u64(o, x->meta->created_ns);
	hpi_out_str(o, "},\"traceEvents\":[");
	return o->err;
}

static void name_meta(struct chrome *c, struct hpi_out *o, const char *what, int32_t pid, int32_t tid, const char *comm)
{
	sep(c, o);
	hpi_out_str(o, "{\"name\":\"");
	hpi_out_str(o, what);
	hpi_out_str(o, "\",\"ph\":\"M\",\"pid\":");
	hpi_out_i64(o, pid);
	hpi_out_str(o, ",\"tid\":");
	hpi_out_i64(o, tid);
	hpi_out_str(o, ",\"args\":{\"name\":");
	hpi_out_json_str(o, comm, strlen(comm));
	hpi_out_str(o, "}}");
}

static int chrome_hit(struct hpi_export *x, const struct hp_record *rec, const char *spec, const char *comm)
{
	const struct hp_hit *h = &rec->u.hit;
	struct chrome *c = x->priv;
	struct hpi_out *o = &x->out;
	int rc;

	if (h->flags & HP_HIT_TASK) {
		if ((rc = hpi_idset_add(&c->procs, (uint32_t)h->tgid)) < 0)
			return rc;
		if (rc)
			name_meta(c, o, "process_name", h->tgid, h->tgid, comm);
		if ((rc = hpi_idset_add(&c->threads, (uint32_t)h->pid)) < 0)
			return rc;
		if (rc)
			name_meta(c, o, "thread_name", h->tgid, h->pid, comm);
	}
	sep(c, o);
	hpi_out_str(o, "{\"name\":");
	hpi_out_json_str(o, spec, strlen(spec));
	if ((h->flags & (HP_HIT_RET | HP_HIT_TASK)) == (HP_HIT_RET | HP_HIT_TASK) && h->latency_ns <= INT64_MAX) {
		/* a return on its thread: the call as a slice, from its entry to the return */
		hpi_out_str(o, ",\"cat\":\"hit\",\"ph\":\"X\",\"ts\":");
		ts_us(o, hpi_rel_ns(x, h->time_ns) - (int64_t)h->latency_ns);
		hpi_out_str(o, ",\"dur\":");
		ts_us(o, (int64_t)h->latency_ns);
	} else {
		hpi_out_str(o, ",\"cat\":\"hit\",\"ph\":\"i\",\"s\":\"t\",\"ts\":");
		ts_us(o, hpi_rel_ns(x, h->time_ns));
	}
	/* a hit whose task is unknown goes on the global lane, as alerts do */
	hpi_out_str(o, ",\"pid\":");
	hpi_out_i64(o, h->flags & HP_HIT_TASK ? h->tgid : 0);
	hpi_out_str(o, ",\"tid\":");
	hpi_out_i64(o, h->flags & HP_HIT_TASK ? h->pid : 0);
	hpi_out_str(o, ",\"args\":");
	hpi_out_write(o, x->text, hpi_hit_text(x, rec, spec, HP_HF_JSON_HEX_ARGS));
	hpi_out_char(o, '}');
	return o->err;
}

/* Opens a global instant event up to its "args": the caller writes the args
 * object and the closing brace. */
static void global_event(struct hpi_export *x, const char *name, size_t nlen, const char *cat, uint64_t t)
{
	struct chrome *c = x->priv;
	struct hpi_out *o = &x->out;

	sep(c, o);
	hpi_out_str(o, "{\"name\":");
	hpi_out_json_str(o, name, nlen);
	hpi_out_str(o, ",\"cat\":\"");
	hpi_out_str(o, cat);
	hpi_out_str(o, "\",\"ph\":\"i\",\"s\":\"g\",\"ts\":");
	ts_us(o, hpi_rel_ns(x, t));
	hpi_out_str(o, ",\"pid\":0,\"tid\":0,\"args\":");
}

static int chrome_alert(struct hpi_export *x, const struct hp_record *rec)
{
	json_t *a = json_loadb(rec->json, rec->json_len, JSON_DECODE_INT_AS_REAL, NULL);
	const char *what = NULL;
	char name[160], wesc[128];
	int n;

	if (json_is_object(a)) {
		static const char *const keys[] = { "detector", "kind", "type", "name" };

		for (size_t i = 0; i < 4 && !what; i++)
			what = json_string_value(json_object_get(a, keys[i]));
		/* escape() cuts on whole characters, so the name stays valid UTF-8 */
		hp_export__escape(what ? what : "", what ? strlen(what) : 0, wesc, sizeof(wesc));
		n = snprintf(name, sizeof(name), "alert%s%s", what ? ": " : "", wesc);
		/* The agent's JSON, verbatim (valid: jansson just parsed it). */
		global_event(x, name, (size_t)n < sizeof(name) ? (size_t)n : strlen(name), "alert", rec->time_ns);
		hpi_out_write(&x->out, rec->json, rec->json_len);
		hpi_out_char(&x->out, '}');
	} else {
		/* Not an object: carry it as escaped text so the output stays valid JSON. */
		struct hpi_out *o = &x->out;
		size_t need = hp_export__escape(rec->json, rec->json_len, NULL, 0) + 1;
		char *esc = malloc(need);

		if (!esc) {
			json_decref(a);
			return -ENOMEM;
		}
		hp_export__escape(rec->json, rec->json_len, esc, need);
		global_event(x, "alert", 5, "alert", rec->time_ns);
		hpi_out_str(o, "{\"text\":");
		hpi_out_json_str(o, esc, strlen(esc));
		hpi_out_str(o, "}}");
		free(esc);
	}
	json_decref(a);
	return x->out.err;
}

static int chrome_dropped(struct hpi_export *x, const struct hp_record *rec)
{
	struct hpi_out *o = &x->out;

	global_event(x, "dropped", 7, "dropped", rec->time_ns);
	hpi_out_str(o, "{\"probe\":");
	hpi_out_u64(o, rec->u.dropped.probe_id);
	hpi_out_str(o, ",\"count\":");
	hpi_out_u64(o, rec->u.dropped.count);
	hpi_out_str(o, "}}");
	return o->err;
}

/* A key as a series name: its parts joined by ", " (strings as the agent escaped them),
 * cut on a whole character when longer than cap - 1 bytes. */
static void key_label(const json_t *key, char *out, size_t cap)
{
	size_t i, n = 0;
	const json_t *k;

	out[0] = 0;
	json_array_foreach(key, i, k)
	{
		char num[32];
		const char *part = num;

		if (json_is_string(k))
			part = json_string_value(k);
		else if (json_is_integer(k))
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(k));
		else if (json_is_number(k))
			snprintf(num, sizeof(num), "%.17g", json_number_value(k));
		else
			snprintf(num, sizeof(num), "?");
		n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? ", " : "", part);
		if (n >= cap)
			break;
	}
	if (n >= cap)
		hp_utf8__fix(out); /* drops the character snprintf cut short */
}

/* One counter event per snapshot: "agg #ID TEXT", a series per key with the function's
 * figure (the count for count() and hist(), else sum, min, max or avg). */
static int chrome_agg(struct hpi_export *x, const struct hp_record *rec, const json_t *snap)
{
	struct chrome *c = x->priv;
	struct hpi_out *o = &x->out;
	const char *agg = json_string_value(json_object_get(snap, "agg"));
	const char *fn = json_string_value(json_object_get(snap, "fn"));
	const json_t *rows = json_object_get(snap, "rows"), *row;
	const char *col = !fn || !strcmp(fn, "hist") ? "count" : fn;
	char name[300];
	size_t i;
	int n = snprintf(name, sizeof(name), "agg #%lld %s",
			 (long long)json_integer_value(json_object_get(snap, "probe")), agg ? agg : "");

	if (!json_is_array(rows))
		return 0;
	sep(c, o);
	hpi_out_str(o, "{\"name\":");
	hpi_out_json_str(o, name, (size_t)n < sizeof(name) ? (size_t)n : strlen(name));
	hpi_out_str(o, ",\"cat\":\"agg\",\"ph\":\"C\",\"ts\":");
	ts_us(o, hpi_rel_ns(x, rec->time_ns));
	hpi_out_str(o, ",\"pid\":0,\"tid\":0,\"args\":{");
	int first = 1;
	json_array_foreach(rows, i, row)
	{
		const json_t *v = json_object_get(row, col);
		char label[256], num[32];

		if (!json_is_number(v) || !json_is_array(json_object_get(row, "key")))
			continue;
		key_label(json_object_get(row, "key"), label, sizeof(label));
		hpi_out_str(o, first ? "" : ",");
		first = 0;
		hpi_out_json_str(o, label, strlen(label));
		if (json_is_integer(v))
			snprintf(num, sizeof(num), ":%lld", (long long)json_integer_value(v));
		else
			snprintf(num, sizeof(num), ":%.17g", json_number_value(v));
		hpi_out_str(o, num);
	}
	hpi_out_str(o, "}}");
	return o->err;
}

static void chrome_free(struct hpi_export *x)
{
	struct chrome *c = x->priv;

	if (c) {
		hpi_idset_free(&c->procs);
		hpi_idset_free(&c->threads);
		free(c);
	}
	x->priv = NULL;
}

static int chrome_end(struct hpi_export *x)
{
	int rc;

	hpi_out_str(&x->out, "\n]}\n");
	rc = hpi_out_commit(&x->out);
	chrome_free(x);
	return rc;
}

static void chrome_discard(struct hpi_export *x)
{
	hpi_out_discard(&x->out);
	chrome_free(x);
}

const struct hpi_export_ops hpi_export_chrome = {
	.begin = chrome_begin,
	.hit = chrome_hit,
	.alert = chrome_alert,
	.dropped = chrome_dropped,
	.agg = chrome_agg,
	.end = chrome_end,
	.discard = chrome_discard,
};
