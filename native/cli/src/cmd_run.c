/* hprobe run: a probe set's session (docs/probesets.md): applied (cmd_set.c), its hits
 * and alerts printed as they come, removed again at Ctrl-C, a duration or a closed
 * output, with a summary and the aggregations' last tables. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "jsonx.h"
#include "probeset.h"
#include "setapply.h"

struct run {
	struct cli *c;
	const char *vm;
	struct applied ap;
	json_int_t *watched; /* probe ids whose hits are printed: the set's and its detectors' */
	size_t nwatched;
	struct hit_out *out;
	int out_failed; /* stdout is gone (a closed pipe) */
};

static int watched(const struct run *r, json_int_t id)
{
	for (size_t i = 0; i < r->nwatched; i++)
		if (r->watched[i] == id)
			return 1;
	return 0;
}

static int is_ours(const json_int_t *v, size_t n, json_int_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == id)
			return 1;
	return 0;
}

/* The probe id of a hit object's text: its top-level "probe" member. */
static json_int_t hit_probe(const char *text, size_t len)
{
	static const char key[] = "\"probe\":";
	for (size_t i = 0; i + sizeof key - 1 < len; i++)
		if (!memcmp(text + i, key, sizeof key - 1))
			return strtoll(text + i + sizeof key - 1, NULL, 10);
	return -1;
}

static void on_hit(const char *text, size_t len, void *ud)
{
	struct run *r = ud;
	if (watched(r, hit_probe(text, len)))
		hits_out_print(r->out, text, len);
}

static void print_alert(struct run *r, json_t *al)
{
	if (r->c->json) {
		cli_print_json(al);
		return;
	}
	char *s = jx_dumps(al, JSON_COMPACT);
	const char *what = json_string_value(json_object_get(al, "alert"));
	printf("alert %s detector=%lld (%s): %s\n", what ? what : "?",
	       json_integer_value(json_object_get(al, "detector")),
	       set_str_or(json_string_value(json_object_get(al, "kind")), "?"), s ? s : "");
	free(s);
}

/* The probes the set's detectors planted: their hits are the set's too. */
static void watch_detector_probes(struct run *r)
{
	json_t *args = json_pack("{s:s}", "vm", r->vm);
	json_t *rep = set_call(r->c, "probe-list", args);
	json_decref(args);
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(rep, "return"), i, p)
	{
		json_int_t owner = json_integer_value(json_object_get(p, "detector"));
		if (owner && is_ours(r->ap.detectors, r->ap.nd, owner))
			set_push_id(&r->watched, &r->nwatched, json_integer_value(json_object_get(p, "id")));
	}
	json_decref(rep);
}

/* The summary of what ran, read before it goes: each probe's hits, each detector's
 * alerts, each aggregation's last table (bpftrace prints its maps at exit too). */
static json_t *summary(struct run *r, const char *why)
{
	json_t *ps = json_array(), *ds = json_array(), *aggs = json_array();
	json_t *args = json_pack("{s:s}", "vm", r->vm);
	json_t *pl = set_call(r->c, "probe-list", args), *dl = pl ? set_call(r->c, "detector-list", args) : NULL;
	json_decref(args);
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(pl, "return"), i, v)
	{
		if (!is_ours(r->ap.probes, r->ap.np, json_integer_value(json_object_get(v, "id"))))
			continue;
		json_array_append_new(ps, json_pack("{s:O, s:O, s:O, s:O}", "id", json_object_get(v, "id"), "spec",
						    json_object_get(v, "spec"), "kind", json_object_get(v, "kind"),
						    "hits", json_object_get(v, "hits")));
		if (!json_object_get(v, "agg"))
			continue;
		json_t *aa = json_pack("{s:s, s:O}", "vm", r->vm, "probe", json_object_get(v, "id"));
		json_t *t = set_call(r->c, "agg-read", aa);
		json_decref(aa);
		if (json_is_object(json_object_get(t, "return")))
			json_array_append(aggs, json_object_get(t, "return"));
		json_decref(t);
	}
	json_array_foreach(json_object_get(dl, "return"), i,
			   v) if (is_ours(r->ap.detectors, r->ap.nd, json_integer_value(json_object_get(v, "id"))))
		json_array_append_new(ds,
				      json_pack("{s:O, s:O, s:O}", "id", json_object_get(v, "id"), "kind",
						json_object_get(v, "kind"), "alerts", json_object_get(v, "alerts")));
	json_decref(pl);
	json_decref(dl);
	return json_pack("{s:s, s:s, s:o, s:o, s:o}", "vm", r->vm, "stopped", why, "probes", ps, "detectors", ds,
			 "aggregations", aggs);
}

static void print_summary(struct run *r, json_t *s, int removed)
{
	json_object_set_new(s, "removed", json_boolean(removed));
	size_t i;
	json_t *v;
	if (!r->c->json && !r->out_failed)
		json_array_foreach(json_object_get(s, "aggregations"), i, v) agg_print_table(v);
	fflush(stdout);
	if (r->c->json) {
		char *t = jx_dumps(s, JSON_COMPACT);
		fprintf(stderr, "%s\n", t ? t : "null");
		free(t);
		return;
	}
	fprintf(stderr, "hprobe: run stopped (%s)%s\n", json_string_value(json_object_get(s, "stopped")),
		removed ? "; the set was removed" : "");
	json_array_foreach(json_object_get(s, "probes"), i, v)
	{
		char *hits = jx_dumps(json_object_get(v, "hits"), JSON_ENCODE_ANY);
		fprintf(stderr, "  probe %lld %s (%s): %s hits\n", json_integer_value(json_object_get(v, "id")),
			json_string_value(json_object_get(v, "spec")), json_string_value(json_object_get(v, "kind")),
			hits ? hits : "?");
		free(hits);
	}
	json_array_foreach(json_object_get(s, "detectors"), i, v) fprintf(
		stderr, "  detector %lld %s: %lld alerts\n", json_integer_value(json_object_get(v, "id")),
		json_string_value(json_object_get(v, "kind")), json_integer_value(json_object_get(v, "alerts")));
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cmd_run(struct cli *c)
{
	struct cli_args a;
	cli_parse(c, cli_cmd("run", NULL), &a);
	struct run r = { .c = c, .vm = cli_arg(&a, "vm") };
	long long duration = cli_argnum(&a, "duration", 0);
	struct probeset ps;
	set_read(&ps, a.pos[0]);
	/* where the set's hits will start: the VM's journal now (this fails on an unknown
	 * VM, before anything is applied) */
	json_t *info = cli_call(c, "journal-info", json_pack("{s:s}", "vm", r.vm));
	json_int_t from = json_integer_value(json_object_get(info, "next_seq"));
	json_decref(info);
	r.out = hits_out_new(c, r.vm, cli_arg(&a, "time"));
	set_catch_stops();
	set_apply(c, r.vm, &ps, &r.ap);
	for (size_t i = 0; i < r.ap.np; i++)
		set_push_id(&r.watched, &r.nwatched, r.ap.probes[i]);
	watch_detector_probes(&r);
	fflush(stdout);
	fprintf(stderr, "hprobe: %s applied to VM %s: %zu %s, %zu %s; Ctrl-C removes them\n", ps.name, r.vm, r.ap.np,
		set_plural(r.ap.np, "probe", "probes"), r.ap.nd, set_plural(r.ap.nd, "detector", "detectors"));

	const char *why = NULL;
	char gone[96]; /* why, when the agent said it was ending */
	int status = CLI_EXIT_OK, agent_gone = 0;
	json_t *args = json_pack("{s:s, s:I}", "vm", r.vm, "from_seq", from);
	json_t *rep = set_call(c, "hits-subscribe", args);
	json_decref(args);
	json_t *rep2 = rep && !json_object_get(rep, "error") ? set_call(c, "events-subscribe", NULL) : NULL;
	if (!rep || (rep2 == NULL && !json_object_get(rep, "error"))) {
		why = "the agent went away";
		agent_gone = 1;
	} else if (json_object_get(rep, "error") || json_object_get(rep2, "error")) {
		json_t *e =
			json_object_get(rep, "error") ? json_object_get(rep, "error") : json_object_get(rep2, "error");
		fprintf(stderr, "hprobe: cannot follow VM %s: %s: %s\n", r.vm,
			json_string_value(json_object_get(e, "class")), json_string_value(json_object_get(e, "desc")));
		why = "error";
		status = set_exit_for_class(json_string_value(json_object_get(e, "class")));
	}
	json_decref(rep);
	json_decref(rep2);
	int64_t end = duration ? now_ms() + duration * 1000 : 0;
	while (!why) {
		int wait = 200;
		if (end) {
			int64_t left = end - now_ms();
			if (left <= 0) {
				why = "duration";
				break;
			}
			wait = left < wait ? (int)left : wait;
		}
		set_stops_let_in(1);
		json_t *ev = set_stop_signal() ? NULL : conn_event(c->conn, wait);
		set_stops_let_in(0);
		int sig = set_stop_signal();
		if (sig) {
			why = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
			json_decref(ev);
			break;
		}
		if (!ev) {
			if (conn_eof(c->conn)) {
				why = "the agent went away";
				agent_gone = 1;
			}
			continue;
		}
		const char *name = json_string_value(json_object_get(ev, "event"));
		const char *evm = json_string_value(json_object_get(ev, "vm"));
		json_t *data = json_object_get(ev, "data");
		const char *text = json_string_value(json_object_get(ev, "_raw"));
		if (!name || (evm && strcmp(evm, r.vm))) {
			/* another VM's */
		} else if (conn_goodbye(ev)) {
			snprintf(gone, sizeof gone, "the agent shut down (%.64s)", conn_goodbye(ev));
			why = gone;
			agent_gone = 1;
		} else if (!strcmp(name, "HITS") && text) {
			json_each_raw(text, strlen(text), "hits", on_hit, &r);
		} else if (!strcmp(name, "HITS_LAGGING")) {
			fprintf(stderr, "hprobe: %lld hits not streamed live yet: catching up from the journal\n",
				json_integer_value(json_object_get(data, "behind")));
		} else if (!strcmp(name, "ALERT") &&
			   is_ours(r.ap.detectors, r.ap.nd, json_integer_value(json_object_get(data, "detector")))) {
			print_alert(&r, data);
		} else if (!strcmp(name, "VM_STATE") &&
			   !strcmp(set_str_or(json_string_value(json_object_get(data, "state")), ""), "dead")) {
			fprintf(stderr, "hprobe: VM %s died: %s\n", r.vm,
				set_str_or(json_string_value(json_object_get(data, "reason")), ""));
			why = "the VM died";
			status = CLI_EXIT_GUEST;
		}
		json_decref(ev);
		if (fflush(stdout) || ferror(stdout)) {
			why = errno == EPIPE ? "the output was closed" : "cannot write the output";
			if (errno != EPIPE)
				status = CLI_EXIT_REFUSED;
			r.out_failed = 1;
		}
	}
	int rc;
	if (agent_gone) {
		fflush(stdout);
		fprintf(stderr, "hprobe: %s: the set could not be removed\n", why);
		set_print_left(r.vm, &r.ap);
		rc = CLI_EXIT_UNREACHABLE;
	} else {
		json_t *s = summary(&r, why);
		/* a dead VM's probes went with it */
		rc = status == CLI_EXIT_GUEST ? 0 : set_remove(c, r.vm, &r.ap);
		if (rc == CLI_EXIT_UNREACHABLE)
			set_print_left(r.vm, &r.ap);
		print_summary(&r, s, rc == 0 && status != CLI_EXIT_GUEST);
		json_decref(s);
	}
	if (r.out_failed && !freopen("/dev/null", "w", stdout)) /* the output is gone: main's last flush */
		clearerr(stdout);
	hits_out_free(r.out);
	free(r.watched);
	free(r.ap.probes);
	free(r.ap.detectors);
	probeset_free(&ps);
	return rc ? rc : status;
}
