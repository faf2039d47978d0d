/* hprobe probe load, probe save, probe check: probe sets as files (docs/probesets.md),
 * applied through the protocol; the applying is hprobe run's too (cmd_run.c). A set is
 * applied item by item; one the agent refuses, or an interruption, removes everything
 * the set had added so far, so the VM is left as it was. */
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

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* SIGINT, SIGTERM and SIGHUP stay blocked while commands run (so an interruption never
 * cuts a reply, and a half-applied set is rolled back), and are let in only while run
 * waits for events. */
static sigset_t stop_set;

void set_catch_stops(void)
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

const char *set_str_or(const char *s, const char *def)
{
	return s ? s : def;
}

int set_exit_for_class(const char *cls)
{
	return cls && (!strcmp(cls, "GuestError") || !strcmp(cls, "VmDead")) ? CLI_EXIT_GUEST : CLI_EXIT_REFUSED;
}

/* Reads and checks FILE; on an error prints every one and exits 1. */
void set_read(struct probeset *ps, const char *file)
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
json_t *set_call(struct cli *c, const char *cmd, json_t *args)
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

void set_push_id(json_int_t **v, size_t *n, json_int_t id)
{
	json_int_t *nv = realloc(*v, (*n + 1) * sizeof *nv);
	if (!nv)
		cli_die("out of memory");
	nv[(*n)++] = id;
	*v = nv;
}

const char *set_plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* Removes what the set added, detectors first (their probes go with them), newest
 * first. Returns 0, or the exit status of the first failure (each one is printed). */
int set_remove(struct cli *c, const char *vm, struct applied *ap)
{
	int rc = 0;
	for (size_t k = 0; k < ap->nd + ap->np; k++) {
		int det = k < ap->nd;
		json_int_t id = det ? ap->detectors[ap->nd - 1 - k] : ap->probes[ap->np - 1 - (k - ap->nd)];
		json_t *args = json_pack("{s:s, s:I}", "vm", vm, det ? "detector" : "probe", id);
		json_t *r = set_call(c, det ? "detector-remove" : "probe-remove", args);
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
				rc = set_exit_for_class(cls);
		}
		json_decref(r);
	}
	return rc;
}

/* What is left in the VM when the agent went away: every id the set had added. */
void set_print_left(const char *vm, const struct applied *ap)
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
 * removes what it added and exits (1, 4 or 3); returns when the whole set is in. */
void set_apply(struct cli *c, const char *vm, const struct probeset *ps, struct applied *ap)
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
			r = set_call(c, it->detector ? "detector-add" : "probe-add", args);
			json_decref(args);
			if (!r) {
				fflush(stdout);
				fprintf(stderr, "hprobe: the agent went away while %s was applied\n", ps->name);
				set_print_left(vm, ap);
				exit(CLI_EXIT_UNREACHABLE);
			}
		}
		json_t *e = r ? json_object_get(r, "error") : NULL;
		if (e) {
			print_refusal(ps, it, e);
			why = set_exit_for_class(json_string_value(json_object_get(e, "class")));
		} else if (r) {
			json_int_t id = json_integer_value(json_object_get(json_object_get(r, "return"), "id"));
			if (it->detector)
				set_push_id(&ap->detectors, &ap->nd, id);
			else
				set_push_id(&ap->probes, &ap->np, id);
			if (it->detector && !it->enabled) {
				json_t *args = json_pack("{s:s, s:I}", "vm", vm, "detector", id);
				json_t *d = set_call(c, "detector-disable", args);
				json_decref(args);
				json_t *de = d ? json_object_get(d, "error") : NULL;
				if (de) {
					print_refusal(ps, it, de);
					why = set_exit_for_class(json_string_value(json_object_get(de, "class")));
				}
				json_decref(d);
			}
		}
		json_decref(r);
		if (!why)
			continue;
		size_t np = ap->np, nd = ap->nd;
		int rc = set_remove(c, vm, ap);
		if (rc == CLI_EXIT_UNREACHABLE)
			set_print_left(vm, ap);
		else if (rc)
			fprintf(stderr,
				"hprobe: %s was not applied, and not all of what it had added could be removed\n",
				ps->name);
		else
			fprintf(stderr,
				"hprobe: %s was not applied: the %zu %s and %zu %s it had added were removed (VM %s is "
				"as it was)\n",
				ps->name, np, set_plural(np, "probe", "probes"), nd,
				set_plural(nd, "detector", "detectors"), vm);
		exit(rc ? rc : why);
	}
}

/* ---- probe check, probe load, probe save ---- */

int cmd_probe_check(struct cli *c, const struct cli_args *a)
{
	struct probeset ps;
	set_read(&ps, a->pos[0]);
	if (c->json)
		cli_print_json_new(json_pack("{s:I, s:I}", "probes", (json_int_t)ps.nprobes, "detectors",
					     (json_int_t)ps.ndetectors));
	else
		printf("%s: a valid probe set: %zu %s, %zu %s\n", ps.name, ps.nprobes,
		       set_plural(ps.nprobes, "probe", "probes"), ps.ndetectors,
		       set_plural(ps.ndetectors, "detector", "detectors"));
	probeset_free(&ps);
	return 0;
}

int cmd_probe_load(struct cli *c, const struct cli_args *a)
{
	const char *vm = a->pos[0];
	struct probeset ps;
	set_read(&ps, a->pos[1]);
	cli_conn(c);
	set_catch_stops();
	struct applied ap = { 0 };
	set_apply(c, vm, &ps, &ap);
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
		json_array_foreach(vms, i, v) if (!strcmp(set_str_or(json_string_value(json_object_get(v, "name")), ""),
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
		fprintf(sum, "%zu %s and %zu %s of VM %s written to %s\n", np, set_plural(np, "probe", "probes"), nd,
			set_plural(nd, "detector", "detectors"), vm, to_stdout ? "stdout" : out);
	}
	return 0;
}

void set_stops_let_in(int on)
{
	sigprocmask(on ? SIG_UNBLOCK : SIG_BLOCK, &stop_set, NULL);
}

int set_stop_signal(void)
{
	return stop_signal;
}
