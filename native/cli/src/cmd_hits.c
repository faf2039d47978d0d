/* hprobe hits ... and hprobe export ... */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "symcache.h"
#include "hprobe/hit.h"
#include "hprobe/export.h"
#include "hprobe/journal.h"
#include "hprobe/param.h"
#include "jsonx.h"

enum time_style { T_REL, T_MONO, T_WALL };

/* A probe's parameters as the agent described them (probe-list "params"). */
struct probe_params {
	long long id;
	int known; /* the agent knows the function's parameters: n of them (getpid: 0) */
	int n;
	struct hp_param p[HP_MAX_ARGS];
	int has_ret, ret_errno; /* a return probe's return type (ret_type), and whether < 0 is -errno */
	struct hp_param ret;
	char mem_path[192]; /* a string captured through a member path (--mem file->f_path...:str): the path */
};

struct hit_out {
	struct cli *c;
	const char *vm;              /* NULL: no agent to ask about probes */
	struct probe_params *probes; /* every probe asked about so far */
	size_t nprobes, cap;
	long long probe; /* -1: every probe */
	long long count, limit;
	long long last_seq;
	int table;             /* a terminal: aligned columns under a header */
	enum time_style time;  /* not with --json */
	int have_origin;       /* rel: origin_ns known */
	int64_t origin_ns;     /* rel: time_ns of the journal's start */
	int64_t wall_base_ns;  /* wall: CLOCK_REALTIME - CLOCK_MONOTONIC, in ns */
	int width;             /* the terminal's columns */
	struct symcache *syms; /* the table names kernel IPs (func+0xoff); NULL otherwise */
};

/* Column widths of the table (text longer than its column is cut; numbers are not). */
enum { W_SEQ = 10, W_PROBE = 5, W_VCPU = 4, W_TASK = 15, W_COMM = 16, W_IP = 24, W_ARGS_MIN = 12 };

static int time_width(const struct hit_out *o)
{
	return o->time == T_WALL ? 32 : o->time == T_MONO ? 14 : 13;
}

/* Seconds with microseconds, exactly (no floating point). */
static void fmt_seconds(char *buf, size_t cap, int64_t ns)
{
	uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
	snprintf(buf, cap, "%s%llu.%06llu", ns < 0 ? "-" : "", (unsigned long long)(a / 1000000000u),
		 (unsigned long long)(a % 1000000000u / 1000u));
}

static void fmt_time(struct hit_out *o, char *buf, size_t cap, uint64_t time_ns)
{
	if (o->time == T_MONO) {
		fmt_seconds(buf, cap, (int64_t)time_ns);
	} else if (o->time == T_REL) {
		if (!o->have_origin) { /* no journal start known and no earlier hit: this one is the first */
			o->origin_ns = (int64_t)time_ns;
			o->have_origin = 1;
		}
		fmt_seconds(buf, cap, (int64_t)time_ns - o->origin_ns);
	} else {
		int64_t ns = o->wall_base_ns + (int64_t)time_ns;
		time_t sec = (time_t)(ns / 1000000000);
		struct tm tm;
		char d[32], z[8];
		localtime_r(&sec, &tm);
		strftime(d, sizeof d, "%Y-%m-%dT%H:%M:%S", &tm);
		strftime(z, sizeof z, "%z", &tm); /* +0100: ISO 8601 wants +01:00 */
		snprintf(buf, cap, "%s.%06lld%.3s:%.2s", d, (long long)(ns % 1000000000 / 1000), z, z + 3);
	}
}

/* UTF-8 aware: the number of characters, and the byte length of the first n of them. */
static size_t u8_chars(const char *s, size_t *bytes_for, size_t n)
{
	size_t chars = 0, i = 0;
	for (; s[i]; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (chars == n && bytes_for)
				*bytes_for = i;
			chars++;
		}
	if (chars <= n && bytes_for)
		*bytes_for = i;
	return chars;
}

/* One cell of the table: cut to width (with an ellipsis) and padded; then a space. */
static void put_cell(const char *s, int width, int right, int last)
{
	size_t cut;
	size_t chars = u8_chars(s, NULL, 0);
	if (chars > (size_t)width && width > 1) {
		u8_chars(s, &cut, (size_t)width - 1);
		fwrite(s, 1, cut, stdout);
		fputs("\xe2\x80\xa6", stdout); /* ... */
		chars = (size_t)width;
	} else {
		if (right)
			printf("%*s", (int)((size_t)width > chars ? (size_t)width - chars : 0), "");
		fputs(s, stdout);
		if (right)
			chars = (size_t)width;
	}
	if (!last) {
		printf("%*s", (int)((size_t)width > chars ? (size_t)width - chars : 0), "");
		putchar(' ');
	}
}

static int args_width(const struct hit_out *o)
{
	int used = W_SEQ + time_width(o) + W_PROBE + W_VCPU + W_TASK + W_COMM + W_IP + 7;
	return o->width - used > W_ARGS_MIN ? o->width - used : W_ARGS_MIN;
}

static void print_header(const struct hit_out *o)
{
	put_cell("SEQ", W_SEQ, 1, 0);
	put_cell("TIME", time_width(o), 1, 0);
	put_cell("PROBE", W_PROBE, 1, 0);
	put_cell("VCPU", W_VCPU, 1, 0);
	put_cell("PID/TGID", W_TASK, 1, 0);
	put_cell("COMM", W_COMM, 0, 0);
	put_cell("IP", W_IP, 0, 0);
	put_cell("ARGS", args_width(o), 0, 1);
	putchar('\n');
}

/* Keeps what a probe-list reply says of each probe's parameters (guest-derived names
 * the agent checked; checked again: this text may come from anywhere). */
static void params_add(struct hit_out *o, json_t *list)
{
	size_t i;
	json_t *pr;
	json_array_foreach(list, i, pr)
	{
		json_t *id = json_object_get(pr, "id");
		if (!json_is_integer(id))
			continue;
		if (o->nprobes == o->cap) {
			size_t cap = o->cap ? o->cap * 2 : 16;
			struct probe_params *np = realloc(o->probes, cap * sizeof *np);
			if (!np)
				cli_die("out of memory");
			o->probes = np;
			o->cap = cap;
		}
		struct probe_params *pp = &o->probes[o->nprobes++];
		memset(pp, 0, sizeof *pp);
		pp->id = json_integer_value(id);
		pp->n = hp_param__list_of(pr, pp->p, HP_MAX_ARGS);
		pp->known = pp->n >= 0;
		pp->has_ret = !hp_param__ret_of(pr, &pp->ret, &pp->ret_errno);
		const char *mem = json_string_value(json_object_get(pr, "mem")),
			   *colon = mem ? strrchr(mem, ':') : NULL;
		if (colon && colon[1] == 's' && strstr(mem, "->") && (size_t)(colon - mem) < sizeof pp->mem_path)
			snprintf(pp->mem_path, sizeof pp->mem_path, "%.*s", (int)(colon - mem), mem);
	}
}

/* The parameters of probe id, asking the agent once about a probe not seen yet (one
 * added while following, or removed since: the agent keeps the last ones it removed;
 * older ones have none). */
static const struct probe_params *params_of(struct hit_out *o, long long id)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < o->nprobes; i++) /* the first: "gone" below comes after the list */
			if (o->probes[i].id == id)
				return &o->probes[i];
		if (pass || !o->vm)
			break;
		json_t *list = cli_call(o->c, "probe-list", json_pack("{s:s, s:b}", "vm", o->vm, "removed", 1));
		json_t *gone = json_pack("[{s:I}]", "id", (json_int_t)id); /* remembered as having none */
		params_add(o, list);
		params_add(o, gone);
		json_decref(list);
		json_decref(gone);
	}
	return NULL;
}

/* The memory a hit captured (hex "mem" at "memaddr"), for a string argument; 0 if none. */
static int captured(json_t *h, struct hp_param_mem *m, uint8_t bytes[HP_MAX_MEM])
{
	const char *hex = json_string_value(json_object_get(h, "mem"));
	const char *at = json_string_value(json_object_get(h, "memaddr"));
	size_t n = hex ? strlen(hex) / 2 : 0;
	if (!hex || !at || !n || n > HP_MAX_MEM || strlen(hex) % 2)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1 || !isxdigit((unsigned char)hex[2 * i]) ||
		    !isxdigit((unsigned char)hex[2 * i + 1]))
			return 0;
		bytes[i] = (uint8_t)v;
	}
	*m = (struct hp_param_mem){ strtoull(at, NULL, 16), bytes, n };
	return 1;
}

/* The arguments: by name and type where the probe's function is known (fd=3
 * buf=0x7ffd... count=7; argN=0x... past its parameters: registers, not values), else
 * in hex, comma-separated (64-bit values exact: see jsonx.h). */
static void fmt_args(char *buf, size_t cap, json_t *args, const struct probe_params *pp, const struct hp_param_mem *mem,
		     struct symcache *syms)
{
	size_t i, o = 0;
	json_t *v;
	uint64_t vals[HP_MAX_ARGS];
	int n = 0;
	buf[0] = 0;
	json_array_foreach(args, i, v)
	{
		uint64_t u;
		if (!jx_u64(v, &u) || o >= cap)
			continue;
		if (pp && pp->known) {
			if (n < HP_MAX_ARGS)
				vals[n++] = u;
			continue;
		}
		o += (size_t)snprintf(buf + o, cap - o, "%s0x%llx", o ? "," : "", (unsigned long long)u);
	}
	if (pp && pp->known) {
		struct hp_param_namer namer = { symcache_namer, syms };
		hp_param__format_args_named(pp->p, pp->n, vals, n, mem, syms ? &namer : NULL, buf, cap);
	}
}

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
		json_decref(h);
		return;
	}
	char seq[24], tm[64], probe[16], vcpu[16], pid[16] = "-", tgid[16] = "-", task[40] = "-",
						   args[HP_PARAM_ARGS_MAX + HP_PARAM_NAMES_MAX + 192 + 4 * HP_MAX_MEM];
	uint64_t t = 0;
	jx_u64(json_object_get(h, "time_ns"), &t);
	snprintf(seq, sizeof seq, "%lld", json_integer_value(json_object_get(h, "seq")));
	fmt_time(o, tm, sizeof tm, t);
	snprintf(probe, sizeof probe, "%lld", json_integer_value(json_object_get(h, "probe")));
	snprintf(vcpu, sizeof vcpu, "%lld", json_integer_value(json_object_get(h, "vcpu")));
	/* a hit whose task the agent could not identify has a null pid/tgid/comm */
	if (json_is_integer(json_object_get(h, "pid"))) {
		snprintf(pid, sizeof pid, "%lld", json_integer_value(json_object_get(h, "pid")));
		snprintf(tgid, sizeof tgid, "%lld", json_integer_value(json_object_get(h, "tgid")));
		snprintf(task, sizeof task, "%s/%s", pid, tgid);
	}
	/* a return probe's hit: its return value and latency (left out of other hits) */
	char ret[24] = "-", lat[24] = "-", retlat[64] = "";
	uint64_t lat_ns;
	int has_ret = json_is_integer(json_object_get(h, "retval"));
	int has_lat = jx_u64(json_object_get(h, "latency_ns"), &lat_ns);
	json_t *hargs = json_object_get(h, "args");
	const struct probe_params *pp = json_array_size(hargs) || has_ret || json_object_get(h, "mem")
						? params_of(o, json_integer_value(json_object_get(h, "probe")))
						: NULL;
	/* typed as the function returns it (an int's upper half of rax is not its value),
	 * and a syscall's -errno named in the table */
	const char *ename = NULL;
	if (has_ret) {
		uint64_t rv = (uint64_t)json_integer_value(json_object_get(h, "retval"));
		if (pp && pp->has_ret)
			hp_param__format(&pp->ret, rv, ret, sizeof ret);
		else
			snprintf(ret, sizeof ret, "%lld", (long long)rv);
		if (pp && pp->has_ret)
			ename = hp_param__errno_name(&pp->ret, pp->ret_errno, rv);
	}
	if (has_lat)
		snprintf(lat, sizeof lat, "%llu", (unsigned long long)lat_ns);
	if (has_ret || has_lat)
		snprintf(retlat, sizeof retlat, " ret=%s%s%s%s lat=%s%s", ret, ename ? "(" : "", ename ? ename : "",
			 ename ? ")" : "", lat, has_lat ? "ns" : "");
	const char *comm = json_string_value(json_object_get(h, "comm"));
	const char *ip = json_string_value(json_object_get(h, "ip"));
	const char *mem = json_string_value(json_object_get(h, "mem"));
	int blocked = json_is_true(json_object_get(h, "blocked"));
	struct hp_param_mem m;
	uint8_t mbytes[HP_MAX_MEM];
	int have_mem = captured(h, &m, mbytes);
	fmt_args(args, sizeof args, hargs, pp, have_mem ? &m : NULL, o->syms);
	char str[4 * HP_MAX_MEM + 1];
	if (have_mem && pp && pp->mem_path[0] && hp_param__str(&m, m.addr, str, sizeof str) >= 0) {
		size_t l = strlen(args);
		snprintf(args + l, sizeof args - l, "%s%s=\"%s\"", l ? " " : "", pp->mem_path, str);
	}
	if (!comm || !*comm)
		comm = "-";
	if (!ip)
		ip = "-";
	if (!o->table) {
		printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", seq, tm, probe, vcpu, pid, tgid, comm,
		       ip, args[0] ? args : "-", mem && *mem ? mem : "-", blocked ? "blocked" : "-", ret, lat);
		json_decref(h);
		return;
	}
	put_cell(seq, W_SEQ, 1, 0);
	put_cell(tm, time_width(o), 1, 0);
	put_cell(probe, W_PROBE, 1, 0);
	put_cell(vcpu, W_VCPU, 1, 0);
	put_cell(task, W_TASK, 1, 0);
	put_cell(comm, W_COMM, 0, 0);
	/* a kernel IP by name (an application's would need the process's mappings) */
	const char *ipname = o->syms && !json_is_true(json_object_get(h, "user")) ? symcache_name(o->syms, ip) : NULL;
	put_cell(ipname ? ipname : ip, W_IP, 0, 0);
	size_t n = strlen(args) + (mem ? strlen(mem) : 0) + sizeof retlat + 32;
	char *last = malloc(n);
	if (!last)
		abort();
	snprintf(last, n, "%s%s%s%s%s%s", args[0] ? args : "-", retlat, mem ? " mem=" : "", mem ? mem : "",
		 blocked ? " " : "", blocked ? "BLOCKED" : "");
	put_cell(last, args_width(o), 0, 1);
	free(last);
	putchar('\n');
	json_decref(h);
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void first_time(const char *text, size_t len, void *ud)
{
	struct hit_out *o = ud;
	json_t *h = json_loads_lenient(text, len);
	uint64_t t;
	if (h && !o->have_origin && jx_u64(json_object_get(h, "time_ns"), &t)) {
		o->origin_ns = (int64_t)t;
		o->have_origin = 1;
	}
	json_decref(h);
}

/* Where times count from: the journal's start (its header) when this host can read
 * the journal, as the workbench and the exports do; else the VM's first hit, and this
 * host's clocks for wall times. */
static void time_origin(struct cli *c, struct hit_out *o, const char *vm)
{
	json_t *info = cli_call(c, "journal-info", json_pack("{s:s}", "vm", vm));
	const char *path = json_string_value(json_object_get(info, "path"));
	struct hp_journal_reader *r = NULL;
	struct hp_err err;
	if (path && !hp_journal__open(path, &r, &err)) {
		const struct hp_journal_meta *m = hp_journal__meta(r);
		/* the same VM's journal, not a file that happens to be at that path here */
		if (m && !strcmp(m->vm_name, vm) && m->mono_base_ns) {
			o->origin_ns = (int64_t)m->mono_base_ns;
			o->have_origin = 1;
			o->wall_base_ns = (int64_t)m->created_ns - (int64_t)m->mono_base_ns;
		}
		hp_journal__close_reader(r);
	}
	json_decref(info);
	if (o->have_origin)
		return;
	o->wall_base_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	if (o->time != T_REL)
		return;
	json_t *rr = cli_call_raw(c, "hits-read", json_pack("{s:s, s:i, s:i}", "vm", vm, "from_seq", 0, "limit", 1));
	const char *text = json_string_value(json_object_get(rr, "_raw"));
	if (text)
		json_each_raw(text, strlen(text), "hits", first_time, o);
	json_decref(rr);
}

/* The output's style (--time WHEN, a table on a terminal), its time origin, its header. */
static void hit_out_start(struct hit_out *o, struct cli *c, const char *vm, const char *tw)
{
	o->time = !tw || !strcmp(tw, "rel") ? T_REL : !strcmp(tw, "mono") ? T_MONO : T_WALL;
	o->table = !c->json && isatty(STDOUT_FILENO);
	struct winsize ws;
	o->width = ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col ? ws.ws_col : 120;
	if (!c->json && o->time != T_MONO)
		time_origin(c, o, vm);
	if (o->table)
		print_header(o);
	if (o->table && vm)
		o->syms = symcache_new(c, vm);
}

struct hit_out *hits_out_new(struct cli *c, const char *vm, const char *time_word)
{
	struct hit_out *o = calloc(1, sizeof *o);
	if (!o)
		cli_die("out of memory");
	*o = (struct hit_out){ .c = c, .vm = vm, .probe = -1, .limit = -1, .last_seq = -1 };
	hit_out_start(o, c, vm, time_word);
	return o;
}

void hits_out_print(struct hit_out *o, const char *text, size_t len)
{
	print_hit(text, len, o);
}

void hits_out_free(struct hit_out *o)
{
	if (o) {
		free(o->probes);
		symcache_free(o->syms);
	}
	free(o);
}

int cmd_hits(struct cli *c)
{
	struct cli_args a;
	cli_parse(c, cli_cmd("hits", NULL), &a);
	const char *vm = a.pos[0];
	int follow = cli_flag(&a, "follow");
	struct hit_out o = { .c = c,
			     .vm = vm,
			     .probe = cli_argnum(&a, "probe", -1),
			     .limit = cli_argnum(&a, "limit", -1),
			     .last_seq = -1 };
	hit_out_start(&o, c, vm, cli_arg(&a, "time"));
	long long from = cli_argnum(&a, "from", 0);
	if (!follow) {
		while (o.limit < 0 || o.count < o.limit) {
			json_t *args =
				json_pack("{s:s, s:I, s:i}", "vm", vm, "from_seq", (json_int_t)from, "limit", 10000);
			if (o.probe >= 0)
				json_object_set_new(args, "probe", json_integer(o.probe));
			/* hits-read replies carry hits too: read the text, not the parsed numbers */
			json_t *r = cli_call_raw(c, "hits-read", args);
			const char *text = json_string_value(json_object_get(r, "_raw"));
			json_t *ret = json_object_get(r, "return");
			if (text)
				json_each_raw(text, strlen(text), "hits", print_hit, &o);
			from = json_integer_value(json_object_get(ret, "next_seq"));
			int end = json_is_true(json_object_get(ret, "end")) ||
				  !json_array_size(json_object_get(ret, "hits"));
			json_decref(r);
			if (end)
				break;
		}
		free(o.probes);
		symcache_free(o.syms);
		return 0;
	}
	json_t *args = json_pack("{s:s}", "vm", vm);
	if (cli_arg(&a, "from"))
		json_object_set_new(args, "from_seq", json_integer(from));
	json_t *sub = cli_call(c, "hits-subscribe", args);
	json_t *ns = json_object_get(sub, "next_seq"); /* where the follow starts: resume there if no hit came */
	long long start = json_is_integer(ns) ? json_integer_value(ns) : cli_arg(&a, "from") ? from : -1;
	json_decref(sub);
	fflush(stdout);
	while (o.limit < 0 || o.count < o.limit) {
		json_t *ev = conn_event(c->conn, -1);
		const char *bye = ev ? conn_goodbye(ev) : NULL;
		if (!ev || bye) {
			char where[96];
			if (o.last_seq >= 0)
				snprintf(where, sizeof where, "last seq %lld; resume with --from %lld", o.last_seq,
					 o.last_seq + 1);
			else if (start >= 0)
				snprintf(where, sizeof where, "no hit yet; resume with --from %lld", start);
			else
				snprintf(where, sizeof where, "no hit yet");
			if (!ev)
				cli_fail(CLI_EXIT_UNREACHABLE, "the agent went away (%s)", where);
			cli_fail(CLI_EXIT_UNREACHABLE, "the agent shut down (%.64s) (%s)", bye, where);
		}
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
	free(o.probes);
	symcache_free(o.syms);
	return 0;
}

static int progress(uint64_t done, uint64_t total, void *ud)
{
	(void)ud;
	if (total)
		fprintf(stderr, "\rexporting: %3d%%", (int)(done * 100 / total));
	return 0;
}

/* Copies the file at path to stdout. */
static int copy_out(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	char buf[65536];
	size_t n;
	int rc = 0;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		if (fwrite(buf, 1, n, stdout) != n) {
			rc = -1;
			break;
		}
	if (ferror(f))
		rc = -1;
	fclose(f);
	return fflush(stdout) || rc ? -1 : 0;
}

int cmd_export(struct cli *c)
{
	struct cli_args a;
	const struct cli_cmddoc *d = cli_cmd("export", NULL);
	cli_parse(c, d, &a);
	const char *fmt = cli_arg(&a, "format"), *out = cli_arg(&a, "out");
	const char *journal = a.npos ? a.pos[0] : NULL, *vm = cli_arg(&a, "vm");
	if (!journal == !vm)
		cli_usage_error(d, "give a JOURNAL file or --vm N, one of them");
	enum hp_export_format f = hp_export__parse_format(fmt);
	if (!f)
		cli_usage_error(d, "unknown format '%s' (csv, jsonl, chrome, ctf)", fmt);
	int to_stdout = !strcmp(out, "-");
	if (to_stdout && f == HP_EXPORT_CTF)
		cli_usage_error(d, "--out -: a CTF trace is a directory (metadata and streams), not one stream: "
				   "give a directory");
	char copied[4200]; /* --vm: its journal, or a copy of another host's */
	if (vm) {
		cli_journal_local(c, vm, copied, sizeof copied);
		journal = copied;
	}
	/* the exporter writes files (under a temporary name, renamed at the end): for "-",
	 * into a private directory, then copied out */
	char tmpdir[4096] = "", tmpfile[4200];
	if (to_stdout) {
		const char *t = getenv("TMPDIR");
		snprintf(tmpdir, sizeof tmpdir, "%s/hprobe-export-XXXXXX", t && *t == '/' ? t : "/tmp");
		if (!mkdtemp(tmpdir))
			cli_die("export: cannot make a temporary directory (%s): %s", tmpdir, strerror(errno));
		snprintf(tmpfile, sizeof tmpfile, "%s/trace", tmpdir);
	}
	long long v[CLI_MAX_ITEMS];
	uint32_t pr[CLI_MAX_ITEMS];
	int32_t pd[CLI_MAX_ITEMS];
	int npr = cli_argnums(&a, "probe", v, CLI_MAX_ITEMS);
	for (int i = 0; i < npr; i++)
		pr[i] = (uint32_t)v[i]; /* in range: the parser checked */
	int npd = cli_argnums(&a, "pid", v, CLI_MAX_ITEMS);
	for (int i = 0; i < npd; i++)
		pd[i] = (int32_t)v[i];
	struct hp_export_filter filt = {
		.probes = npr ? pr : NULL, .n_probes = (size_t)npr, .pids = npd ? pd : NULL, .n_pids = (size_t)npd
	};
	struct hp_export_stats st = { 0 };
	struct hp_err err;
	int rc = hp_export__journal(journal, f, to_stdout ? tmpfile : out, &filt, isatty(2) ? progress : NULL, NULL,
				    &st, &err);
	if (isatty(2))
		fputc('\n', stderr);
	int copy_rc = 0, copy_errno = 0;
	if (to_stdout) {
		if (!rc && copy_out(tmpfile)) {
			copy_rc = -1;
			copy_errno = errno;
		}
		unlink(tmpfile);
		rmdir(tmpdir);
	}
	if (rc)
		cli_die("export failed: %s", err.msg);
	if (copy_rc)
		cli_die("export: writing to stdout: %s", strerror(copy_errno));
	/* with --out - the trace is on stdout: the summary goes to stderr */
	FILE *sum = to_stdout ? stderr : stdout;
	if (c->json) {
		json_t *j = json_pack("{s:I, s:I, s:s}", "hits", (json_int_t)st.hits_written, "records",
				      (json_int_t)st.records_read, "out", out);
		char *s = jx_dumps(j, JSON_COMPACT);
		fprintf(sum, "%s\n", s ? s : "null");
		free(s);
		json_decref(j);
	} else {
		fprintf(sum, "%llu hits written to %s\n", (unsigned long long)st.hits_written,
			to_stdout ? "stdout" : out);
	}
	return 0;
}

/* hprobe fields [--markdown stream|export]: the hit's fields, from libhprobe's one table. */
int cmd_fields(struct cli *c)
{
	static const char *const types[] = {
		"integer", "integer",           "string \"0x...\"", "string",
		"bool",    "array of integers", "string (hex)",     "object {name: \"0x...\"}"
	};
	struct cli_args a;
	cli_parse(c, cli_cmd("fields", NULL), &a);
	const char *md = cli_arg(&a, "markdown");
	unsigned in = !md                     ? HP_HF_IN_STREAM | HP_HF_IN_EXPORT
		      : !strcmp(md, "stream") ? HP_HF_IN_STREAM
		      : !strcmp(md, "export") ? HP_HF_IN_EXPORT
					      : 0;
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
