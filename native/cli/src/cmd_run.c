/* hprobe run, probe load, probe save, probe check: probe sets as files
 * (docs/probesets.md), applied through the protocol. A set is applied item by item;
 * one the agent refuses, or an interruption, removes everything the set had added
 * so far, so the VM is left as it was. */
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

/* What a set added to its VM, to remove it again. */
struct applied {
	json_int_t *probes, *detectors;
	size_t np, nd;
};

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* SIGINT, SIGTERM and SIGHUP stay blocked while commands run (so an interruption never
 * cuts a reply, and a half-applied set is rolled back), and are let in only while run
 * waits for events. */
static sigset_t stop_set;

static void catch_stops(void)
{
	struct sigaction sa = { .sa_handler = on_stop };
	sigemptyset(&sa.sa_mask);
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGTERM);
	sigaddset(&stop_set, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop_set, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a closed output is seen as a write error */
}

/* Whether a stop signal is waiting (blocked). */
static int stop_pending(void)
{
	sigset_t p;
	if (stop_signal)
		return 1;
	sigpending(&p);
	return sigismember(&p, SIGINT) || sigismember(&p, SIGTERM) || sigismember(&p, SIGHUP);
}

static const char *str_or(const char *s, const char *def)
{
	return s ? s : def;
}

static int exit_for_class(const char *cls)
{
	return cls && (!strcmp(cls, "GuestError") || !strcmp(cls, "VmDead")) ? CLI_EXIT_GUEST : CLI_EXIT_REFUSED;
}

/* Reads and checks FILE; on an error prints every one and exits 1. */
static void read_set(struct probeset *ps, const char *file)
{
	if (!probeset_read(ps, file))
		return;
	fflush(stdout);
	for (int i = 0; i < ps->nerrors; i++)
		fprintf(stderr, "%s\n", ps->errors[i]);
	if (ps->more_errors)
		fprintf(stderr, "%s: (more errors not shown)\n", ps->name);
	fprintf(stderr, "hprobe: %s is not a valid probe set: nothing was applied\n", ps->name);
	exit(CLI_EXIT_REFUSED);
}

/* A command whose failure the caller handles: the reply (new reference), or NULL if the
 * agent went away. args is not stolen. */
static json_t *call(struct cli *c, const char *cmd, json_t *args)
{
	return conn_cmd(cli_conn(c), cmd, args);
}

/* The member of a probe an agent's error is about, from its message (the probe's spec
 * when the message names none of the others). */
static const char *probe_member(const char *cls, const char *desc)
{
	static const struct {
		const char *word, *member;
	} words[] = { { "memory capture", "mem" },
		      { "args ", "args" },
		      { "pid ", "pid" },
		      { "comm ", "comm" },
		      { "kind ", "kind" },
		      { "pid or comm", "comm" },
		      { "--if: ", "if" },
		      { "if: ", "if" },
		      { "--args", "args" },
		      { "--mem", "mem" },
		      { "--agg-rows", "agg_rows" },
		      { "agg_rows", "agg_rows" },
		      { "--agg", "agg" },
		      { "agg: ", "agg" } };
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strstr(desc, words[i].word) == desc || (i == 0 && strstr(desc, words[i].word)))
			return words[i].member;
	if (!strcmp(cls, "UnknownSymbol") || !strcmp(cls, "BadAddress") || !strcmp(cls, "UnsafeAddress") ||
	    !strcmp(cls, "InvalidArgument"))
		return "spec";
	return NULL;
}

static const char *detector_member(const char *cls, const char *desc)
{
	if (strstr(desc, "detector kind"))
		return "kind";
	if (!strcmp(cls, "InvalidArgument") || !strcmp(cls, "UnknownSymbol") || !strcmp(cls, "NotSupported"))
		return "config";
	return NULL;
}

/* "set.json:14: probes[2].spec: UnknownSymbol: ..." */
static void print_refusal(const struct probeset *ps, const struct ps_item *it, json_t *err)
{
	const char *cls = json_string_value(json_object_get(err, "class"));
	const char *desc = json_string_value(json_object_get(err, "desc"));
	cls = cls ? cls : "Error";
	desc = desc ? desc : "(no message)";
	struct ps_path p = { 2, { { it->detector ? "detectors" : "probes", 0 }, { NULL, it->index } } };
	const char *m = it->detector ? detector_member(cls, desc) : probe_member(cls, desc);
	if (m) {
		p.s[2].key = m;
		p.n = 3;
	}
	char path[256];
	fflush(stdout);
	fprintf(stderr, "%s:%d: %s: %s: %s\n", ps->name, ps_path_line(ps->text, ps->len, &p),
		ps_path_text(&p, path, sizeof path), cls, desc);
}

static void push_id(json_int_t **v, size_t *n, json_int_t id)
{
	json_int_t *nv = realloc(*v, (*n + 1) * sizeof *nv);
	if (!nv)
		cli_die("out of memory");
	nv[(*n)++] = id;
	*v = nv;
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* Removes what the set added, detectors first (their probes go with them), newest
 * first. Returns 0, or the exit status of the first failure (each one is printed). */
static int remove_applied(struct cli *c, const char *vm, struct applied *ap)
{
	int rc = 0;
	for (size_t k = 0; k < ap->nd + ap->np; k++) {
		int det = k < ap->nd;
		json_int_t id = det ? ap->detectors[ap->nd - 1 - k] : ap->probes[ap->np - 1 - (k - ap->nd)];
		json_t *args = json_pack("{s:s, s:I}", "vm", vm, det ? "detector" : "probe", id);
		json_t *r = call(c, det ? "detector-remove" : "probe-remove", args);
		json_decref(args);
		if (!r) {
			fflush(stdout);
			fprintf(stderr, "hprobe: the agent went away before the set was removed (%s %lld and after)\n",
				det ? "detector" : "probe", (long long)id);
			return CLI_EXIT_UNREACHABLE;
		}
		json_t *e = json_object_get(r, "error");
		if (e) {
			const char *cls = json_string_value(json_object_get(e, "class"));
			fflush(stdout);
			fprintf(stderr, "hprobe: cannot remove %s %lld of the set: %s: %s\n",
				det ? "detector" : "probe", (long long)id, cls ? cls : "Error",
				json_string_value(json_object_get(e, "desc")));
			if (!rc)
				rc = exit_for_class(cls);
		}
		json_decref(r);
	}
	return rc;
}

/* What is left in the VM when the agent went away: every id the set had added. */
static void print_left(const char *vm, const struct applied *ap)
{
	if (!ap->np && !ap->nd)
		return;
	fprintf(stderr,
		"hprobe: its guardian lifts the probes from the guest, but an agent that restarts restores the "
		"VM's session with them; the set's ids on VM %s:",
		vm);
	for (size_t i = 0; i < ap->np; i++)
		fprintf(stderr, " probe %lld", (long long)ap->probes[i]);
	for (size_t i = 0; i < ap->nd; i++)
		fprintf(stderr, " detector %lld", (long long)ap->detectors[i]);
	fputc('\n', stderr);
}

/* Applies the set item by item. On a refusal, an interruption or the agent going away,
 * removes what it added and exits (1, 4 or 3); returns 0 when the whole set is in. */
static void apply_set(struct cli *c, const char *vm, const struct probeset *ps, struct applied *ap)
{
	for (size_t i = 0; i < ps->n; i++) {
		const struct ps_item *it = &ps->items[i];
		int why = 0; /* 0: applied; else the exit status */
		if (stop_pending()) {
			fflush(stdout);
			fprintf(stderr, "hprobe: interrupted while applying %s\n", ps->name);
			why = CLI_EXIT_REFUSED;
		}
		json_t *r = NULL;
		if (!why) {
			json_t *args = json_deep_copy(it->args);
			json_object_set_new(args, "vm", json_string(vm));
			r = call(c, it->detector ? "detector-add" : "probe-add", args);
			json_decref(args);
			if (!r) {
				fflush(stdout);
				fprintf(stderr, "hprobe: the agent went away while %s was applied\n", ps->name);
				print_left(vm, ap);
				exit(CLI_EXIT_UNREACHABLE);
			}
		}
		json_t *e = r ? json_object_get(r, "error") : NULL;
		if (e) {
			print_refusal(ps, it, e);
			why = exit_for_class(json_string_value(json_object_get(e, "class")));
		} else if (r) {
			json_int_t id = json_integer_value(json_object_get(json_object_get(r, "return"), "id"));
			if (it->detector)
				push_id(&ap->detectors, &ap->nd, id);
			else
				push_id(&ap->probes, &ap->np, id);
			if (it->detector && !it->enabled) {
				json_t *args = json_pack("{s:s, s:I}", "vm", vm, "detector", id);
				json_t *d = call(c, "detector-disable", args);
				json_decref(args);
				json_t *de = d ? json_object_get(d, "error") : NULL;
				if (de) {
					print_refusal(ps, it, de);
					why = exit_for_class(json_string_value(json_object_get(de, "class")));
				}
				json_decref(d);
			}
		}
		json_decref(r);
		if (!why)
			continue;
		size_t np = ap->np, nd = ap->nd;
		int rc = remove_applied(c, vm, ap);
		if (rc == CLI_EXIT_UNREACHABLE)
			print_left(vm, ap);
		else if (rc)
			fprintf(stderr,
				"hprobe: %s was not applied, and not all of what it had added could be removed\n",
				ps->name);
		else
			fprintf(stderr,
				"hprobe: %s was not applied: the %zu %s and %zu %s it had added were removed (VM %s is "
				"as it was)\n",
				ps->name, np, plural(np, "probe", "probes"), nd, plural(nd, "detector", "detectors"),
				vm);
		exit(rc ? rc : why);
	}
}

/* ---- probe check, probe load, probe save ---- */

int cmd_probe_check(struct cli *c, const struct cli_args *a)
{
	struct probeset ps;
	read_set(&ps, a->pos[0]);
	if (c->json)
		cli_print_json_new(json_pack("{s:I, s:I}", "probes", (json_int_t)ps.nprobes, "detectors",
					     (json_int_t)ps.ndetectors));
	else
		printf("%s: a valid probe set: %zu %s, %zu %s\n", ps.name, ps.nprobes,
		       plural(ps.nprobes, "probe", "probes"), ps.ndetectors,
		       plural(ps.ndetectors, "detector", "detectors"));
	probeset_free(&ps);
	return 0;
}

int cmd_probe_load(struct cli *c, const struct cli_args *a)
{
	const char *vm = a->pos[0];
	struct probeset ps;
	read_set(&ps, a->pos[1]);
	cli_conn(c);
	catch_stops();
	struct applied ap = { 0 };
	apply_set(c, vm, &ps, &ap);
	if (c->json) {
		json_t *p = json_array(), *d = json_array();
		for (size_t i = 0; i < ap.np; i++)
			json_array_append_new(p, json_integer(ap.probes[i]));
		for (size_t i = 0; i < ap.nd; i++)
			json_array_append_new(d, json_integer(ap.detectors[i]));
		cli_print_json_new(json_pack("{s:o, s:o}", "probes", p, "detectors", d));
	} else {
		size_t ip = 0, id = 0;
		for (size_t i = 0; i < ps.n; i++)
			if (ps.items[i].detector)
				printf("detector %lld %s\n", (long long)ap.detectors[id++], ps.items[i].summary);
			else
				printf("probe %lld %s\n", (long long)ap.probes[ip++], ps.items[i].summary);
	}
	free(ap.probes);
	free(ap.detectors);
	probeset_free(&ps);
	return 0;
}

/* Writes text to path through a temporary file renamed over it: a reader never sees
 * half a set. */
static int write_file(const char *path, const char *text, char *err, size_t cap)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, cap, "%s", strerror(errno));
		return -1;
	}
	int bad = fputs(text, f) < 0;
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, path)) {
		snprintf(err, cap, "%s", strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int cmd_probe_save(struct cli *c, const struct cli_args *a)
{
	const char *vm = a->pos[0], *out = a->pos[1];
	json_t *probes = cli_call(c, "probe-list", json_pack("{s:s}", "vm", vm));
	json_t *dets = cli_call(c, "detector-list", json_pack("{s:s}", "vm", vm));
	char desc[512];
	const char *given = cli_arg(a, "description");
	if (!given) {
		json_t *vms = cli_call(c, "vm-list", NULL);
		const char *kernel = NULL;
		size_t i;
		json_t *v;
		json_array_foreach(vms, i, v) if (!strcmp(str_or(json_string_value(json_object_get(v, "name")), ""),
							  vm)) kernel = json_string_value(json_object_get(v, "kernel"));
		time_t now = time(NULL);
		struct tm tm;
		char day[32];
		strftime(day, sizeof day, "%Y-%m-%d %H:%M", localtime_r(&now, &tm));
		snprintf(desc, sizeof desc, "saved from VM %s%s%s%s on %s", vm, kernel && *kernel ? " (kernel " : "",
			 kernel && *kernel ? kernel : "", kernel && *kernel ? ")" : "", day);
		json_decref(vms);
	}
	json_t *set = probeset_from_lists(probes, dets, given ? given : desc);
	size_t np = json_array_size(json_object_get(set, "probes")),
	       nd = json_array_size(json_object_get(set, "detectors"));
	char *text = jx_dumps(set, JSON_INDENT(2));
	json_decref(set);
	json_decref(probes);
	json_decref(dets);
	if (!text)
		cli_die("out of memory");
	size_t n = strlen(text);
	char *line = realloc(text, n + 2);
	if (!line)
		cli_die("out of memory");
	memcpy(line + n, "\n", 2);
	int to_stdout = !strcmp(out, "-");
	char err[256];
	if (to_stdout) {
		fputs(line, stdout);
	} else if (write_file(out, line, err, sizeof err)) {
		free(line);
		cli_die("cannot write %s: %s", out, err);
	}
	free(line);
	/* with - the set is on stdout: the summary goes to stderr */
	FILE *sum = to_stdout ? stderr : stdout;
	if (c->json) {
		json_t *j =
			json_pack("{s:I, s:I, s:s}", "probes", (json_int_t)np, "detectors", (json_int_t)nd, "out", out);
		char *s = jx_dumps(j, JSON_COMPACT);
		fprintf(sum, "%s\n", s ? s : "null");
		free(s);
		json_decref(j);
	} else {
		fprintf(sum, "%zu %s and %zu %s of VM %s written to %s\n", np, plural(np, "probe", "probes"), nd,
			plural(nd, "detector", "detectors"), vm, to_stdout ? "stdout" : out);
	}
	return 0;
}

/* ---- hprobe run ---- */

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
	       str_or(json_string_value(json_object_get(al, "kind")), "?"), s ? s : "");
	free(s);
}

/* The probes the set's detectors planted: their hits are the set's too. */
static void watch_detector_probes(struct run *r)
{
	json_t *args = json_pack("{s:s}", "vm", r->vm);
	json_t *rep = call(r->c, "probe-list", args);
	json_decref(args);
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(rep, "return"), i, p)
	{
		json_int_t owner = json_integer_value(json_object_get(p, "detector"));
		if (owner && is_ours(r->ap.detectors, r->ap.nd, owner))
			push_id(&r->watched, &r->nwatched, json_integer_value(json_object_get(p, "id")));
	}
	json_decref(rep);
}

/* The summary of what ran: each probe's hits, each detector's alerts (before they go). */
static json_t *summary(struct run *r, const char *why)
{
	json_t *ps = json_array(), *ds = json_array();
	json_t *args = json_pack("{s:s}", "vm", r->vm);
	json_t *pl = call(r->c, "probe-list", args), *dl = pl ? call(r->c, "detector-list", args) : NULL;
	json_decref(args);
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(pl, "return"), i,
			   v) if (is_ours(r->ap.probes, r->ap.np, json_integer_value(json_object_get(v, "id"))))
		json_array_append_new(ps, json_pack("{s:O, s:O, s:O, s:O}", "id", json_object_get(v, "id"), "spec",
						    json_object_get(v, "spec"), "kind", json_object_get(v, "kind"),
						    "hits", json_object_get(v, "hits")));
	json_array_foreach(json_object_get(dl, "return"), i,
			   v) if (is_ours(r->ap.detectors, r->ap.nd, json_integer_value(json_object_get(v, "id"))))
		json_array_append_new(ds,
				      json_pack("{s:O, s:O, s:O}", "id", json_object_get(v, "id"), "kind",
						json_object_get(v, "kind"), "alerts", json_object_get(v, "alerts")));
	json_decref(pl);
	json_decref(dl);
	return json_pack("{s:s, s:s, s:o, s:o}", "vm", r->vm, "stopped", why, "probes", ps, "detectors", ds);
}

static void print_summary(struct run *r, json_t *s, int removed)
{
	json_object_set_new(s, "removed", json_boolean(removed));
	fflush(stdout);
	if (r->c->json) {
		char *t = jx_dumps(s, JSON_COMPACT);
		fprintf(stderr, "%s\n", t ? t : "null");
		free(t);
		return;
	}
	fprintf(stderr, "hprobe: run stopped (%s)%s\n", json_string_value(json_object_get(s, "stopped")),
		removed ? "; the set was removed" : "");
	size_t i;
	json_t *v;
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
	read_set(&ps, a.pos[0]);
	/* where the set's hits will start: the VM's journal now (this fails on an unknown
	 * VM, before anything is applied) */
	json_t *info = cli_call(c, "journal-info", json_pack("{s:s}", "vm", r.vm));
	json_int_t from = json_integer_value(json_object_get(info, "next_seq"));
	json_decref(info);
	r.out = hits_out_new(c, r.vm, cli_arg(&a, "time"));
	catch_stops();
	apply_set(c, r.vm, &ps, &r.ap);
	for (size_t i = 0; i < r.ap.np; i++)
		push_id(&r.watched, &r.nwatched, r.ap.probes[i]);
	watch_detector_probes(&r);
	fflush(stdout);
	fprintf(stderr, "hprobe: %s applied to VM %s: %zu %s, %zu %s; Ctrl-C removes them\n", ps.name, r.vm, r.ap.np,
		plural(r.ap.np, "probe", "probes"), r.ap.nd, plural(r.ap.nd, "detector", "detectors"));

	const char *why = NULL;
	int status = CLI_EXIT_OK, agent_gone = 0;
	json_t *args = json_pack("{s:s, s:I}", "vm", r.vm, "from_seq", from);
	json_t *rep = call(c, "hits-subscribe", args);
	json_decref(args);
	json_t *rep2 = rep && !json_object_get(rep, "error") ? call(c, "events-subscribe", NULL) : NULL;
	if (!rep || (rep2 == NULL && !json_object_get(rep, "error"))) {
		why = "the agent went away";
		agent_gone = 1;
	} else if (json_object_get(rep, "error") || json_object_get(rep2, "error")) {
		json_t *e =
			json_object_get(rep, "error") ? json_object_get(rep, "error") : json_object_get(rep2, "error");
		fprintf(stderr, "hprobe: cannot follow VM %s: %s: %s\n", r.vm,
			json_string_value(json_object_get(e, "class")), json_string_value(json_object_get(e, "desc")));
		why = "error";
		status = exit_for_class(json_string_value(json_object_get(e, "class")));
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
		sigprocmask(SIG_UNBLOCK, &stop_set, NULL);
		json_t *ev = stop_signal ? NULL : conn_event(c->conn, wait);
		sigprocmask(SIG_BLOCK, &stop_set, NULL);
		if (stop_signal) {
			why = stop_signal == SIGINT ? "SIGINT" : stop_signal == SIGTERM ? "SIGTERM" : "SIGHUP";
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
		} else if (!strcmp(name, "HITS") && text) {
			json_each_raw(text, strlen(text), "hits", on_hit, &r);
		} else if (!strcmp(name, "HITS_LAGGING")) {
			fprintf(stderr, "hprobe: %lld hits not streamed live yet: catching up from the journal\n",
				json_integer_value(json_object_get(data, "behind")));
		} else if (!strcmp(name, "ALERT") &&
			   is_ours(r.ap.detectors, r.ap.nd, json_integer_value(json_object_get(data, "detector")))) {
			print_alert(&r, data);
		} else if (!strcmp(name, "VM_STATE") &&
			   !strcmp(str_or(json_string_value(json_object_get(data, "state")), ""), "dead")) {
			fprintf(stderr, "hprobe: VM %s died: %s\n", r.vm,
				str_or(json_string_value(json_object_get(data, "reason")), ""));
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
	if (agent_gone) {
		fflush(stdout);
		fprintf(stderr, "hprobe: the agent went away: the set could not be removed\n");
		print_left(r.vm, &r.ap);
		return CLI_EXIT_UNREACHABLE;
	}
	json_t *s = summary(&r, why);
	/* a dead VM's probes went with it */
	int rc = status == CLI_EXIT_GUEST ? 0 : remove_applied(c, r.vm, &r.ap);
	if (rc == CLI_EXIT_UNREACHABLE)
		print_left(r.vm, &r.ap);
	print_summary(&r, s, rc == 0 && status != CLI_EXIT_GUEST);
	json_decref(s);
	if (r.out_failed && !freopen("/dev/null", "w", stdout)) /* the output is gone: main's last flush */
		clearerr(stdout);
	hits_out_free(r.out);
	free(r.watched);
	free(r.ap.probes);
	free(r.ap.detectors);
	probeset_free(&ps);
	return rc ? rc : status;
}
