/* hprobe hits ... and hprobe export ... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "hprobe/hit.h"
#include "hprobe/export.h"
#include "jsonx.h"

struct hit_out {
	struct cli *c;
	long probe;
	long long count, limit;
	long long last_seq;
};

static void print_hit(const char *text, size_t len, void *ud)
{
	struct hit_out *o = ud;
	if (o->limit >= 0 && o->count >= o->limit)
		return;
	json_t *h = json_loads_lenient(text, len);
	if (!h)
		return;
	o->last_seq = json_integer_value(json_object_get(h, "seq"));
	if (o->probe >= 0 && json_integer_value(json_object_get(h, "probe")) != o->probe) {
		json_decref(h);
		return;
	}
	o->count++;
	if (o->c->json) {
		/* the agent's own text: unsigned arguments stay exact */
		fwrite(text, 1, len, stdout);
		fputc('\n', stdout);
	} else {
		/* a hit whose task the agent could not identify has a null pid/tgid/comm */
		char task[32] = "?/?";
		if (json_is_integer(json_object_get(h, "pid")))
			snprintf(task, sizeof task, "%lld/%lld", json_integer_value(json_object_get(h, "pid")),
				 json_integer_value(json_object_get(h, "tgid")));
		const char *comm = json_string_value(json_object_get(h, "comm"));
		printf("%8lld p%-3lld cpu%-2lld %14.6f %11s %-16s %s", json_integer_value(json_object_get(h, "seq")),
		       json_integer_value(json_object_get(h, "probe")), json_integer_value(json_object_get(h, "vcpu")),
		       (double)json_integer_value(json_object_get(h, "time_ns")) / 1e9, task,
		       comm ? comm : "(unknown task)", json_string_value(json_object_get(h, "ip")));
		size_t i;
		json_t *a;
		json_array_foreach(json_object_get(h, "args"), i, a)
		{
			if (json_is_string(a))
				printf("%s%s", i ? "," : " args=", json_string_value(a));
			else
				printf("%s0x%llx", i ? "," : " args=", (unsigned long long)json_integer_value(a));
		}
		if (json_object_get(h, "mem"))
			printf(" mem=%s", json_string_value(json_object_get(h, "mem")));
		if (json_is_true(json_object_get(h, "blocked")))
			printf(" BLOCKED");
		putchar('\n');
	}
	json_decref(h);
}

int cmd_hits(struct cli *c)
{
	int follow = cli_flag(c, "--follow");
	const char *p = cli_opt(c, "--probe"), *l = cli_opt(c, "--limit"), *f = cli_opt(c, "--from");
	struct hit_out o = { c, p ? atol(p) : -1, 0, l ? atoll(l) : -1, -1 };
	const char *vm = cli_pos(c, 0, "VM name");
	if (!follow) {
		long long from = f ? atoll(f) : 0;
		for (;;) {
			json_t *a =
				json_pack("{s:s, s:I, s:i}", "vm", vm, "from_seq", (json_int_t)from, "limit", 10000);
			if (o.probe >= 0)
				json_object_set_new(a, "probe", json_integer(o.probe));
			/* hits-read replies carry hits too: read the text, not the parsed numbers */
			json_t *r = conn_cmd(cli_conn(c), "hits-read", a);
			json_decref(a);
			if (!r)
				cli_die("the agent went away");
			json_t *e = json_object_get(r, "error");
			if (e)
				cli_die("%s", json_string_value(json_object_get(e, "desc")));
			const char *text = json_string_value(json_object_get(r, "_raw"));
			json_t *ret = json_object_get(r, "return");
			if (text)
				json_each_raw(text, strlen(text), "hits", print_hit, &o);
			from = json_integer_value(json_object_get(ret, "next_seq"));
			int end = json_is_true(json_object_get(ret, "end")) ||
				  !json_array_size(json_object_get(ret, "hits"));
			json_decref(r);
			if (end || (o.limit >= 0 && o.count >= o.limit))
				break;
		}
		return 0;
	}
	json_t *a = json_pack("{s:s}", "vm", vm);
	if (f)
		json_object_set_new(a, "from_seq", json_integer(atoll(f)));
	json_decref(cli_call(c, "hits-subscribe", a));
	while (o.limit < 0 || o.count < o.limit) {
		json_t *ev = conn_event(c->conn, -1);
		if (!ev)
			cli_die("the agent went away (last seq %lld; resume with --from %lld)", o.last_seq,
				o.last_seq + 1);
		const char *name = json_string_value(json_object_get(ev, "event"));
		const char *text = json_string_value(json_object_get(ev, "_raw"));
		if (name && !strcmp(name, "HITS") && text)
			json_each_raw(text, strlen(text), "hits", print_hit, &o);
		else if (name && !strcmp(name, "HITS_LAGGING"))
			fprintf(stderr, "hprobe: %lld hits not streamed live yet: catching up from the journal\n",
				json_integer_value(json_object_get(json_object_get(ev, "data"), "behind")));
		fflush(stdout);
		json_decref(ev);
	}
	return 0;
}

static int progress(uint64_t done, uint64_t total, void *ud)
{
	(void)ud;
	if (total)
		fprintf(stderr, "\rexporting: %3d%%", (int)(done * 100 / total));
	return 0;
}

int cmd_export(struct cli *c)
{
	const char *fmt = cli_opt(c, "--format"), *out = cli_opt(c, "--out");
	const char *probe = cli_opt(c, "--probe"), *pid = cli_opt(c, "--pid");
	const char *journal = cli_pos(c, 0, "journal file");
	if (!fmt || !out)
		cli_die("export needs --format csv|jsonl|chrome|ctf and --out PATH");
	enum hp_export_format f = hp_export__parse_format(fmt);
	if (!f)
		cli_die("unknown format '%s' (csv, jsonl, chrome, ctf)", fmt);
	uint32_t pr = probe ? (uint32_t)atol(probe) : 0;
	int32_t pd = pid ? (int32_t)atol(pid) : 0;
	struct hp_export_filter filt = {
		.probes = probe ? &pr : NULL, .n_probes = probe ? 1 : 0, .pids = pid ? &pd : NULL, .n_pids = pid ? 1 : 0
	};
	struct hp_export_stats st;
	struct hp_err err;
	int rc = hp_export__journal(journal, f, out, &filt, isatty(2) ? progress : NULL, NULL, &st, &err);
	if (isatty(2))
		fputc('\n', stderr);
	if (rc)
		cli_die("export failed: %s", err.msg);
	if (c->json)
		printf("{\"hits\":%llu,\"records\":%llu,\"out\":\"%s\"}\n", (unsigned long long)st.hits_written,
		       (unsigned long long)st.records_read, out);
	else
		printf("%llu hits written to %s\n", (unsigned long long)st.hits_written, out);
	return 0;
}

/* hprobe fields [--markdown stream|export]: the hit's fields, from libhprobe's one table. */
int cmd_fields(struct cli *c)
{
	static const char *const types[] = {
		"integer", "integer",           "string \"0x...\"", "string",
		"bool",    "array of integers", "string (hex)",     "object {name: \"0x...\"}"
	};
	const char *md = cli_opt(c, "--markdown");
	unsigned in = !md                     ? HP_HF_IN_STREAM | HP_HF_IN_EXPORT
		      : !strcmp(md, "stream") ? HP_HF_IN_STREAM
		      : !strcmp(md, "export") ? HP_HF_IN_EXPORT
					      : 0;
	if (!in)
		cli_die("fields --markdown takes stream or export");
	const struct hp_hit_field *f = hp_hit__fields();
	if (md)
		printf("| member | type | meaning |\n|---|---|---|\n");
	for (int i = 0; i < HP_HF_COUNT; i++) {
		if (!(f[i].in & in))
			continue;
		if (md)
			printf("| `%s` | %s | %s |\n", f[i].name, types[f[i].type], f[i].doc);
		else
			printf("%-8s %-7s %-6s %s\n", f[i].name, f[i].in & HP_HF_IN_STREAM ? "stream" : "",
			       f[i].in & HP_HF_IN_EXPORT ? "export" : "", f[i].doc);
	}
	return 0;
}
