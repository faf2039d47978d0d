/* hprobe probe/sym/detector/alerts ... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hprobe/export.h"
#include "hprobe/symtab.h"
#include "jsonx.h"
#include "probeset.h"

int cmd_probe(struct cli *c)
{
	const struct cli_cmddoc *d = cli_sub(c, "probe");
	const char *sub = d->sub;
	struct cli_args a;
	cli_parse(c, d, &a);
	if (!strcmp(sub, "save"))
		return cmd_probe_save(c, &a);
	if (!strcmp(sub, "load"))
		return cmd_probe_load(c, &a);
	if (!strcmp(sub, "check"))
		return cmd_probe_check(c, &a);
	const char *vm = a.pos[0];
	if (!strcmp(sub, "add")) {
		json_t *args = json_pack("{s:s, s:s}", "vm", vm, "spec", a.pos[1]);
		const char *v;
		if ((v = cli_arg(&a, "args"))) { /* a count, or parameter names the agent resolves */
			int digits = *v && !v[strspn(v, "0123456789")];
			if (digits ? strlen(v) > 1 || *v > '6' : !probeset_args_names_ok(v))
				cli_usage_error(d,
						"--args takes a number from 0 to 6, or parameter names (fd,count), "
						"not '%s'",
						v);
			json_object_set_new(args, "args", digits ? json_integer(*v - '0') : json_string(v));
		}
		if ((v = cli_arg(&a, "mem")))
			json_object_set_new(args, "mem", json_string(v));
		if (cli_arg(&a, "pid"))
			json_object_set_new(args, "pid", json_integer(cli_argnum(&a, "pid", 0)));
		if ((v = cli_arg(&a, "comm")))
			json_object_set_new(args, "comm", json_string(v));
		if ((v = cli_arg(&a, "kind")))
			json_object_set_new(args, "kind", json_string(v));
		if ((v = cli_arg(&a, "if")))
			json_object_set_new(args, "if", json_string(v));
		if ((v = cli_arg(&a, "agg")))
			json_object_set_new(args, "agg", json_string(v));
		if (cli_arg(&a, "agg-rows"))
			json_object_set_new(args, "agg_rows", json_integer(cli_argnum(&a, "agg-rows", 0)));
		if (cli_flag(&a, "regs"))
			json_object_set_new(args, "regs", json_true());
		if (cli_flag(&a, "disabled"))
			json_object_set_new(args, "enabled", json_false());
		json_t *r = cli_call(c, "probe-add", args);
		if (c->json)
			cli_print_json_new(json_pack("{s:O}", "id", json_object_get(r, "id")));
		else
			printf("%lld\n", json_integer_value(json_object_get(r, "id")));
		json_decref(r);
		return 0;
	}
	if (!strcmp(sub, "list")) {
		json_t *r = cli_call(c, "probe-list",
				     json_pack("{s:s, s:b}", "vm", vm, "removed", cli_flag(&a, "removed")));
		if (c->json) {
			cli_print_json(r);
		} else {
			printf("%4s %-8s %-9s %-8s %10s  %s\n", "ID", "STATE", "KIND", "MECH", "HITS", "SPEC");
			size_t i;
			json_t *p;
			json_array_foreach(r, i, p) printf("%4lld %-8s %-9s %-8s %10lld  %s\n",
							   json_integer_value(json_object_get(p, "id")),
							   json_string_value(json_object_get(p, "state")),
							   json_string_value(json_object_get(p, "kind")),
							   json_string_value(json_object_get(p, "mechanism")),
							   json_integer_value(json_object_get(p, "hits")),
							   json_string_value(json_object_get(p, "spec")));
		}
		json_decref(r);
		return 0;
	}
	/* enable, disable, remove */
	char cmd[32];
	snprintf(cmd, sizeof cmd, "probe-%s", sub);
	json_t *r = cli_call(c, cmd, json_pack("{s:s, s:I}", "vm", vm, "probe", (json_int_t)a.posnum[1]));
	if (c->json)
		cli_print_json(r);
	json_decref(r);
	return 0;
}

/* sym lookup: the agent names each address (a guest's name: escaped to show). */
static int sym_lookup(struct cli *c, const char *vm, const char *list)
{
	json_t *addrs = json_array(), *r, *s;
	char buf[4096], *save = NULL;
	size_t i;
	snprintf(buf, sizeof buf, "%s", list);
	for (char *a = strtok_r(buf, ",", &save); a; a = strtok_r(NULL, ",", &save))
		json_array_append_new(addrs, json_string(a));
	r = cli_call(c, "sym-lookup", json_pack("{s:s, s:O}", "vm", vm, "addrs", addrs));
	if (c->json) {
		cli_print_json(r);
	} else {
		json_array_foreach(json_object_get(r, "symbols"), i, s)
		{
			const char *name = json_string_value(s);
			char esc[HP_SYM_TEXT_SHOWN] = "-";
			if (name)
				hp_export__escape(name, strlen(name), esc, sizeof esc);
			printf("%s\t%s\n", json_string_value(json_array_get(addrs, i)), esc);
		}
	}
	json_decref(addrs);
	json_decref(r);
	return 0;
}

int cmd_sym(struct cli *c)
{
	const struct cli_cmddoc *d = cli_sub(c, "sym");
	struct cli_args a;
	cli_parse(c, d, &a);
	if (!strcmp(d->sub, "search")) {
		const char *bin = cli_arg(&a, "binary");
		json_t *args = json_pack("{s:s, s:s}", "vm", a.pos[0], "pattern", a.pos[1]);
		if (bin)
			json_object_set_new(args, "binary", json_string(bin));
		if (cli_arg(&a, "limit"))
			json_object_set_new(args, "limit", json_integer(cli_argnum(&a, "limit", 0)));
		json_t *r = cli_call(c, "sym-search", args);
		if (c->json) {
			cli_print_json(r);
		} else {
			size_t i;
			json_t *s;
			json_array_foreach(json_object_get(r, "symbols"), i, s)
				printf("%s %s %s\n", json_string_value(json_object_get(s, "addr")),
				       json_string_value(json_object_get(s, "type")),
				       json_string_value(json_object_get(s, "name")));
			if (json_integer_value(json_object_get(r, "total")) >
			    (json_int_t)json_array_size(json_object_get(r, "symbols")))
				fprintf(stderr, "(%lld matches, %zu shown)\n",
					json_integer_value(json_object_get(r, "total")),
					json_array_size(json_object_get(r, "symbols")));
		}
		json_decref(r);
		return 0;
	}
	if (!strcmp(d->sub, "lookup"))
		return sym_lookup(c, a.pos[0], a.pos[1]);
	/* disas */
	json_t *r = cli_call(c, "sym-disas", json_pack("{s:s, s:s}", "vm", a.pos[0], "spec", a.pos[1]));
	if (c->json) {
		cli_print_json(r);
	} else {
		printf("%s at %s (%lld bytes):\n", json_string_value(json_object_get(r, "function")),
		       json_string_value(json_object_get(r, "addr")), json_integer_value(json_object_get(r, "size")));
		size_t i;
		json_t *in;
		json_array_foreach(json_object_get(r, "insns"), i, in)
		{
			const char *sym = json_string_value(json_object_get(in, "target_sym"));
			char esc[HP_SYM_TEXT_SHOWN] = "";
			if (sym)
				hp_export__escape(sym, strlen(sym), esc, sizeof esc);
			printf("  %s  %-24s %s%s%s%s%s\n", json_string_value(json_object_get(in, "addr")),
			       json_string_value(json_object_get(in, "bytes")),
			       json_string_value(json_object_get(in, "text")), sym ? " <" : "", esc, sym ? ">" : "",
			       json_is_true(json_object_get(in, "back_edge")) ? "   <- back-edge" : "");
		}
	}
	json_decref(r);
	return 0;
}

/* A detector's configuration: a JSON object from a file, or from stdin for "-". */
static json_t *load_config(const char *file)
{
	json_error_t je;
	int in = !strcmp(file, "-");
	json_t *cfg = in ? json_loadf(stdin, 0, &je) : json_load_file(file, 0, &je);
	const char *name = in ? "stdin" : file;
	if (!cfg)
		cli_die("--config %s: not JSON (%s, line %d)", name, je.text, je.line);
	if (!json_is_object(cfg))
		cli_die("--config %s: not a JSON object", name);
	return cfg;
}

int cmd_detector(struct cli *c)
{
	const struct cli_cmddoc *d = cli_sub(c, "detector");
	const char *sub = d->sub;
	struct cli_args a;
	cli_parse(c, d, &a);
	const char *vm = a.pos[0];
	if (!strcmp(sub, "add")) {
		json_t *cfg = load_config(cli_arg(&a, "config"));
		json_t *r = cli_call(c, "detector-add",
				     json_pack("{s:s, s:s, s:o}", "vm", vm, "kind", a.pos[1], "config", cfg));
		if (c->json)
			cli_print_json(r);
		else
			printf("%lld\n", json_integer_value(json_object_get(r, "id")));
		json_decref(r);
		return 0;
	}
	if (!strcmp(sub, "list")) {
		json_t *r = cli_call(c, "detector-list", json_pack("{s:s}", "vm", vm));
		if (c->json) {
			cli_print_json(r);
		} else {
			size_t i;
			json_t *det;
			json_array_foreach(r, i, det)
			{
				char *st = jx_dumps(json_object_get(det, "state"), JSON_COMPACT);
				printf("%3lld %-10s alerts=%-4lld %s\n", json_integer_value(json_object_get(det, "id")),
				       json_string_value(json_object_get(det, "kind")),
				       json_integer_value(json_object_get(det, "alerts")), st ? st : "");
				free(st);
			}
		}
		json_decref(r);
		return 0;
	}
	/* remove, enable, disable */
	char cmd[32];
	snprintf(cmd, sizeof cmd, "detector-%s", sub);
	json_t *r = cli_call(c, cmd, json_pack("{s:s, s:I}", "vm", vm, "detector", (json_int_t)a.posnum[1]));
	if (c->json)
		cli_print_json(r);
	json_decref(r);
	return 0;
}

static void print_alert(struct cli *c, json_t *al)
{
	if (c->json) {
		cli_print_json(al);
		return;
	}
	const char *what = json_string_value(json_object_get(al, "alert"));
	char *s = jx_dumps(al, JSON_COMPACT);
	printf("%s detector=%lld (%s): %s\n", what ? what : "alert",
	       json_integer_value(json_object_get(al, "detector")), json_string_value(json_object_get(al, "kind")),
	       s ? s : "");
	free(s);
}

int cmd_alerts(struct cli *c)
{
	struct cli_args a;
	cli_parse(c, cli_cmd("alerts", NULL), &a);
	const char *vm = a.pos[0];
	json_t *r = cli_call(c, "alerts-read", json_pack("{s:s}", "vm", vm));
	size_t i;
	json_t *al;
	json_array_foreach(json_object_get(r, "alerts"), i, al) print_alert(c, al);
	json_decref(r);
	fflush(stdout);
	if (!cli_flag(&a, "follow"))
		return 0;
	json_decref(cli_call(c, "events-subscribe", NULL));
	for (;;) {
		json_t *ev = conn_event(c->conn, -1);
		if (!ev)
			cli_fail(CLI_EXIT_UNREACHABLE, "the agent went away");
		if (conn_goodbye(ev))
			cli_fail(CLI_EXIT_UNREACHABLE, "the agent shut down (%.64s)", conn_goodbye(ev));
		const char *name = json_string_value(json_object_get(ev, "event"));
		const char *evm = json_string_value(json_object_get(ev, "vm"));
		if (name && !strcmp(name, "ALERT") && evm && !strcmp(evm, vm)) {
			print_alert(c, json_object_get(ev, "data"));
			fflush(stdout);
		}
		json_decref(ev);
	}
}
