/* hprobe probe/sym/detector/alerts ... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static long num(const char *what, const char *v)
{
	char *end;
	long n = strtol(v, &end, 0);
	if (*end || end == v)
		cli_die("%s must be a number, not '%s'", what, v);
	return n;
}

int cmd_probe(struct cli *c)
{
	const char *sub = cli_pos(c, 0, "probe subcommand");
	c->argc--;
	c->argv++;
	if (!strcmp(sub, "add")) {
		json_t *a = json_object();
		const char *v;
		if ((v = cli_opt(c, "--args")))
			json_object_set_new(a, "args", json_integer(num("--args", v)));
		if ((v = cli_opt(c, "--mem")))
			json_object_set_new(a, "mem", json_string(v));
		if ((v = cli_opt(c, "--pid")))
			json_object_set_new(a, "pid", json_integer(num("--pid", v)));
		if ((v = cli_opt(c, "--comm")))
			json_object_set_new(a, "comm", json_string(v));
		if ((v = cli_opt(c, "--kind")))
			json_object_set_new(a, "kind", json_string(v));
		if (cli_flag(c, "--regs"))
			json_object_set_new(a, "regs", json_true());
		if (cli_flag(c, "--disabled"))
			json_object_set_new(a, "enabled", json_false());
		json_object_set_new(a, "vm", json_string(cli_pos(c, 0, "VM name")));
		json_object_set_new(a, "spec", json_string(cli_pos(c, 1, "probe spec")));
		json_t *r = cli_call(c, "probe-add", a);
		if (c->json)
			cli_print_json(json_pack("{s:O}", "id", json_object_get(r, "id")));
		else
			printf("%lld\n", json_integer_value(json_object_get(r, "id")));
		json_decref(r);
		return 0;
	}
	const char *vm = cli_pos(c, 0, "VM name");
	if (!strcmp(sub, "list")) {
		json_t *r = cli_call(c, "probe-list", json_pack("{s:s}", "vm", vm));
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
	const char *cmd = !strcmp(sub, "enable")    ? "probe-enable"
			  : !strcmp(sub, "disable") ? "probe-disable"
			  : !strcmp(sub, "remove")  ? "probe-remove"
						    : NULL;
	if (!cmd)
		cli_die("unknown probe subcommand '%s'", sub);
	long id = num("probe id", cli_pos(c, 1, "probe id"));
	json_t *r = cli_call(c, cmd, json_pack("{s:s, s:i}", "vm", vm, "probe", (int)id));
	if (c->json)
		cli_print_json(r);
	json_decref(r);
	return 0;
}

int cmd_sym(struct cli *c)
{
	const char *sub = cli_pos(c, 0, "sym subcommand (search|disas)");
	c->argc--;
	c->argv++;
	if (!strcmp(sub, "search")) {
		const char *bin = cli_opt(c, "--binary"), *lim = cli_opt(c, "--limit");
		json_t *a =
			json_pack("{s:s, s:s}", "vm", cli_pos(c, 0, "VM name"), "pattern", cli_pos(c, 1, "pattern"));
		if (bin)
			json_object_set_new(a, "binary", json_string(bin));
		if (lim)
			json_object_set_new(a, "limit", json_integer(num("--limit", lim)));
		json_t *r = cli_call(c, "sym-search", a);
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
	if (!strcmp(sub, "disas")) {
		json_t *r = cli_call(c, "sym-disas",
				     json_pack("{s:s, s:s}", "vm", cli_pos(c, 0, "VM name"), "spec",
					       cli_pos(c, 1, "function spec")));
		if (c->json) {
			cli_print_json(r);
		} else {
			printf("%s at %s (%lld bytes):\n", json_string_value(json_object_get(r, "function")),
			       json_string_value(json_object_get(r, "addr")),
			       json_integer_value(json_object_get(r, "size")));
			size_t i;
			json_t *in;
			json_array_foreach(json_object_get(r, "insns"), i, in)
				printf("  %s  %-24s %s%s\n", json_string_value(json_object_get(in, "addr")),
				       json_string_value(json_object_get(in, "bytes")),
				       json_string_value(json_object_get(in, "text")),
				       json_is_true(json_object_get(in, "back_edge")) ? "   <- back-edge" : "");
		}
		json_decref(r);
		return 0;
	}
	cli_die("unknown sym subcommand '%s'", sub);
}

int cmd_detector(struct cli *c)
{
	const char *sub = cli_pos(c, 0, "detector subcommand (add|list|remove|enable|disable)");
	c->argc--;
	c->argv++;
	if (!strcmp(sub, "add")) {
		const char *file = cli_opt(c, "--config");
		if (!file)
			cli_die("detector add needs --config FILE (JSON)");
		json_error_t je;
		json_t *cfg = json_load_file(file, 0, &je);
		if (!cfg || !json_is_object(cfg))
			cli_die("%s: not a JSON object (%s, line %d)", file, je.text, je.line);
		json_t *r = cli_call(c, "detector-add",
				     json_pack("{s:s, s:s, s:o}", "vm", cli_pos(c, 0, "VM name"), "kind",
					       cli_pos(c, 1, "detector kind"), "config", cfg));
		if (c->json)
			cli_print_json(r);
		else
			printf("%lld\n", json_integer_value(json_object_get(r, "id")));
		json_decref(r);
		return 0;
	}
	const char *vm = cli_pos(c, 0, "VM name");
	if (!strcmp(sub, "list")) {
		json_t *r = cli_call(c, "detector-list", json_pack("{s:s}", "vm", vm));
		if (c->json) {
			cli_print_json(r);
		} else {
			size_t i;
			json_t *d;
			json_array_foreach(r, i, d)
			{
				char *st = json_dumps(json_object_get(d, "state"), JSON_COMPACT);
				printf("%3lld %-10s alerts=%-4lld %s\n", json_integer_value(json_object_get(d, "id")),
				       json_string_value(json_object_get(d, "kind")),
				       json_integer_value(json_object_get(d, "alerts")), st ? st : "");
				free(st);
			}
		}
		json_decref(r);
		return 0;
	}
	const char *cmd = !strcmp(sub, "remove")    ? "detector-remove"
			  : !strcmp(sub, "enable")  ? "detector-enable"
			  : !strcmp(sub, "disable") ? "detector-disable"
						    : NULL;
	if (cmd) {
		long id = num("detector id", cli_pos(c, 1, "detector id"));
		json_t *r = cli_call(c, cmd, json_pack("{s:s, s:i}", "vm", vm, "detector", (int)id));
		if (c->json)
			cli_print_json(r);
		json_decref(r);
		return 0;
	}
	cli_die("unknown detector subcommand '%s'", sub);
}

static void print_alert(struct cli *c, json_t *al)
{
	if (c->json) {
		cli_print_json(al);
		return;
	}
	const char *what = json_string_value(json_object_get(al, "alert"));
	char *s = json_dumps(al, JSON_COMPACT);
	printf("%s detector=%lld (%s): %s\n", what ? what : "alert",
	       json_integer_value(json_object_get(al, "detector")), json_string_value(json_object_get(al, "kind")),
	       s ? s : "");
	free(s);
}

int cmd_alerts(struct cli *c)
{
	int follow = cli_flag(c, "--follow");
	const char *vm = cli_pos(c, 0, "VM name");
	json_t *r = cli_call(c, "alerts-read", json_pack("{s:s}", "vm", vm));
	size_t i;
	json_t *al;
	json_array_foreach(json_object_get(r, "alerts"), i, al) print_alert(c, al);
	json_decref(r);
	fflush(stdout);
	if (!follow)
		return 0;
	json_decref(cli_call(c, "events-subscribe", NULL));
	for (;;) {
		json_t *ev = conn_event(c->conn, -1);
		if (!ev)
			cli_die("the agent went away");
		const char *name = json_string_value(json_object_get(ev, "event"));
		const char *evm = json_string_value(json_object_get(ev, "vm"));
		if (name && !strcmp(name, "ALERT") && evm && !strcmp(evm, vm)) {
			print_alert(c, json_object_get(ev, "data"));
			fflush(stdout);
		}
		json_decref(ev);
	}
}
