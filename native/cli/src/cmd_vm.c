/* hprobe vm ... and hprobe agent ... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void print_vm(json_t *v)
{
	const char *sysroot = json_string_value(json_object_get(v, "sysroot"));
	json_t *src = json_object_get(v, "source");
	const char *kind = json_string_value(json_object_get(src, "kind"));
	char from[400] = "";
	if (kind && !strcmp(kind, "libvirt"))
		snprintf(from, sizeof from, " from=libvirt:%s/%s", json_string_value(json_object_get(src, "uri")) ?: "",
			 json_string_value(json_object_get(src, "domain")) ?: "");
	else if (kind && !strcmp(kind, "qmp"))
		snprintf(from, sizeof from, " from=qmp:%s", json_string_value(json_object_get(src, "path")) ?: "");
	else if (kind)
		snprintf(from, sizeof from, " from=%s", kind);
	printf("%-10s %-8s %-4s smp=%-2lld qemu=%-8s kernel=%s probes=%lld hits=%lld%s%s%s%s%s\n",
	       json_string_value(json_object_get(v, "name")), json_string_value(json_object_get(v, "state")),
	       json_string_value(json_object_get(v, "accel")), json_integer_value(json_object_get(v, "smp")),
	       json_string_value(json_object_get(v, "qemu")), json_string_value(json_object_get(v, "kernel")),
	       json_integer_value(json_object_get(v, "probes")), json_integer_value(json_object_get(v, "hits")),
	       json_object_get(v, "reason") ? " reason=" : "",
	       json_object_get(v, "reason") ? json_string_value(json_object_get(v, "reason")) : "",
	       sysroot ? " sysroot=" : "", sysroot ? sysroot : "", from);
}

static void set_str(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

static void absolute(char *buf, size_t cap, const char *p)
{
	/* the agent runs elsewhere: relative paths are the caller's */
	if (p[0] == '/' || !p[0] || !getcwd(buf, cap))
		snprintf(buf, cap, "%s", p);
	else
		snprintf(buf + strlen(buf), cap - strlen(buf), "/%s", p);
}

static void set_path(json_t *o, const char *k, const char *v)
{
	if (!v)
		return;
	char buf[4096];
	absolute(buf, sizeof buf, v);
	json_object_set_new(o, k, json_string(buf));
}

/* The console is the guest's bytes. On a terminal its escape sequences would be
 * obeyed by the user's terminal (retitle it, clear it, remap keys, or worse on some
 * emulators), so control characters other than newline, carriage return and tab are
 * shown in caret notation (ESC as ^[, DEL as ^?). Into a file or a pipe they go as
 * they are. */
static void put_console(const char *t, int tty)
{
	if (!tty) {
		fputs(t, stdout);
		return;
	}
	for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
		if ((*p < 0x20 && *p != '\n' && *p != '\r' && *p != '\t') || *p == 0x7f) {
			putchar('^');
			putchar(*p == 0x7f ? '?' : *p + 0x40);
		} else {
			putchar(*p);
		}
	}
}

static int vm_console(struct cli *c, const struct cli_args *a)
{
	const char *vm = a->pos[0];
	int follow = cli_flag(a, "follow");
	int tty = isatty(STDOUT_FILENO);
	const char *input = cli_arg(a, "input");
	json_int_t off = 0;
	for (int first = 1;; first = 0) {
		json_t *args = json_pack("{s:s, s:I}", "vm", vm, "offset", off);
		if (first && input)
			json_object_set_new(args, "input", json_string(input));
		json_t *r = cli_call(c, "vm-console", args);
		const char *t = json_string_value(json_object_get(r, "text"));
		put_console(t ? t : "", tty);
		fflush(stdout);
		json_int_t next = json_integer_value(json_object_get(r, "offset"));
		json_decref(r);
		if (!follow)
			return 0;
		if (next == off)
			usleep(200000);
		off = next;
	}
}

static void print_stats(const char *vm, json_t *r)
{
	printf("%s: %lld records journalled, %lld hits dropped\n", vm,
	       json_integer_value(json_object_get(r, "records")), json_integer_value(json_object_get(r, "dropped")));
	json_t *p = json_object_get(r, "plugin");
	if (!json_is_object(p)) {
		printf("  no in-QEMU tier (probes stop the VM through its gdbstub)\n");
		return;
	}
	static const char *const keys[] = { "hits",        "dropped",     "filtered",
					    "read_errors", "task_cached", "reinstrumentations",
					    "sites",       "probes" };
	printf("  in-QEMU tier:");
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		printf(" %s=%lld", keys[i], json_integer_value(json_object_get(p, keys[i])));
	printf("\n");
}

/* vm launch's own-guest options, as vm-launch's arguments (docs/protocol.md). */
static void own_guest_args(json_t *args, const struct cli_args *a)
{
	set_path(args, "kernel", cli_arg(a, "kernel"));
	set_path(args, "initrd", cli_arg(a, "initrd"));
	set_str(args, "append", cli_arg(a, "append"));
	set_path(args, "disk", cli_arg(a, "disk"));
	set_str(args, "disk_format", cli_arg(a, "disk-format"));
	set_str(args, "disk_mode", cli_arg(a, "disk-mode"));
	set_str(args, "net", cli_arg(a, "net"));
	set_str(args, "nic", cli_arg(a, "nic"));
	set_path(args, "symbols", cli_arg(a, "symbols"));
	set_path(args, "vmlinux", cli_arg(a, "vmlinux"));
	if (cli_arg(a, "boot-timeout"))
		json_object_set_new(args, "boot_timeout", json_integer(cli_argnum(a, "boot-timeout", 300)));
	const char *fw = cli_arg(a, "forward");
	if (fw) {
		json_t *list = json_array();
		for (const char *p = fw; *p;) {
			size_t n = strcspn(p, ",");
			json_array_append_new(list, json_stringn(p, n));
			p += n + (p[n] == ',');
		}
		json_object_set_new(args, "forward", list);
	}
	if (a->nrest) {
		json_t *extra = json_array();
		for (int i = 0; i < a->nrest; i++)
			json_array_append_new(extra, json_string(a->rest[i]));
		json_object_set_new(args, "qemu_args", extra);
	}
}

int cmd_vm(struct cli *c)
{
	const struct cli_cmddoc *d = cli_sub(c, "vm");
	const char *sub = d->sub;
	struct cli_args a;
	cli_parse(c, d, &a);
	if (!strcmp(sub, "launch")) {
		int own = cli_arg(&a, "kernel") || cli_arg(&a, "disk");
		if (cli_flag(&a, "lab") == own)
			cli_usage_error(d, "give --lab for a lab guest, or --kernel and/or --disk for your own");
		if (!own && a.nrest)
			cli_usage_error(d, "QEMU arguments after -- are for your own guest (--kernel, --disk)");
		json_t *args = json_object();
		own_guest_args(args, &a);
		set_str(args, "name", cli_arg(&a, "name"));
		set_str(args, "lab_kernel", cli_arg(&a, "lab-kernel"));
		json_object_set_new(args, "smp", json_integer(cli_argnum(&a, "smp", 1)));
		json_object_set_new(args, "mem", json_integer(cli_argnum(&a, "mem", 512)));
		if (cli_arg(&a, "http-port"))
			json_object_set_new(args, "http_port", json_integer(cli_argnum(&a, "http-port", 0)));
		if (cli_flag(&a, "no-kaslr"))
			json_object_set_new(args, "kaslr", json_false());
		if (cli_flag(&a, "no-plugin"))
			json_object_set_new(args, "plugin", json_false());
		set_path(args, "sysroot", cli_arg(&a, "sysroot"));
		json_t *r = cli_call(c, "vm-launch", args);
		c->json ? cli_print_json(r) : print_vm(r);
		json_decref(r);
		return 0;
	}
	if (!strcmp(sub, "attach")) {
		if (!cli_arg(&a, "qmp") == !cli_arg(&a, "libvirt"))
			cli_usage_error(d, "give --qmp PATH (a QEMU's QMP socket) or --libvirt DOMAIN");
		if (cli_arg(&a, "connect") && !cli_arg(&a, "libvirt"))
			cli_usage_error(d, "--connect goes with --libvirt");
		json_t *args = json_object();
		set_path(args, "qmp", cli_arg(&a, "qmp"));
		set_str(args, "libvirt", cli_arg(&a, "libvirt"));
		set_str(args, "connect", cli_arg(&a, "connect"));
		if (cli_flag(&a, "no-plugin"))
			json_object_set_new(args, "plugin", json_false());
		set_str(args, "name", cli_arg(&a, "name"));
		set_path(args, "symbols", cli_arg(&a, "symbols"));
		set_path(args, "vmlinux", cli_arg(&a, "vmlinux"));
		set_path(args, "console_log", cli_arg(&a, "console-log"));
		set_path(args, "console_sock", cli_arg(&a, "console-sock"));
		set_path(args, "sysroot", cli_arg(&a, "sysroot"));
		json_t *r = cli_call(c, "vm-attach", args);
		c->json ? cli_print_json(r) : print_vm(r);
		json_decref(r);
		return 0;
	}
	if (!strcmp(sub, "domains")) {
		json_t *args = json_object();
		set_str(args, "connect", cli_arg(&a, "connect"));
		json_t *r = cli_call(c, "libvirt-list", args);
		if (c->json) {
			cli_print_json_new(r);
			return 0;
		}
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(r, "domains"), i, v)
		{
			const char *at = json_string_value(json_object_get(v, "attached"));
			printf("%-20s %-14s %s%s\n", json_string_value(json_object_get(v, "name")),
			       json_string_value(json_object_get(v, "state")), at ? "attached as " : "", at ? at : "");
		}
		json_decref(r);
		return 0;
	}
	if (!strcmp(sub, "list")) {
		json_t *r = cli_call(c, "vm-list", NULL);
		if (c->json) {
			cli_print_json(r);
		} else {
			size_t i;
			json_t *v;
			json_array_foreach(r, i, v) print_vm(v);
		}
		json_decref(r);
		return 0;
	}
	const char *vm = a.pos[0];
	if (!strcmp(sub, "console"))
		return vm_console(c, &a);
	if (!strcmp(sub, "set")) {
		json_t *args = json_pack("{s:s}", "vm", vm);
		set_path(args, "sysroot", cli_arg(&a, "sysroot")); /* "" removes it */
		json_t *r = cli_call(c, "vm-set", args);
		c->json ? cli_print_json(r) : print_vm(r);
		json_decref(r);
		return 0;
	}
	static const struct {
		const char *sub, *cmd;
	} simple[] = {
		{ "detach", "vm-detach" }, { "quit", "vm-quit" }, { "pause", "vm-pause" },
		{ "resume", "vm-resume" }, { "ps", "vm-ps" },     { "stats", "vm-stats" },
	};
	for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
		if (strcmp(sub, simple[i].sub))
			continue;
		json_t *r = cli_call(c, simple[i].cmd, json_pack("{s:s}", "vm", vm));
		if (c->json) {
			cli_print_json(!strcmp(sub, "ps") ? json_object_get(r, "tasks") : r);
		} else if (!strcmp(sub, "ps")) {
			printf("%6s %6s %6s %-2s %-16s %-18s %s\n", "PID", "TGID", "PPID", "S", "COMM", "CR3", "KIND");
			size_t k;
			json_t *t;
			json_array_foreach(json_object_get(r, "tasks"), k, t)
				printf("%6lld %6lld %6lld %-2s %-16s %-18s %s\n",
				       json_integer_value(json_object_get(t, "pid")),
				       json_integer_value(json_object_get(t, "tgid")),
				       json_integer_value(json_object_get(t, "ppid")),
				       json_string_value(json_object_get(t, "state")),
				       json_string_value(json_object_get(t, "comm")),
				       json_string_value(json_object_get(t, "cr3")),
				       json_is_true(json_object_get(t, "kernel")) ? "kernel" : "user");
			fprintf(stderr, "(%zu tasks, walked in %lld us)\n",
				json_array_size(json_object_get(r, "tasks")),
				json_integer_value(json_object_get(r, "walk_us")));
		} else if (!strcmp(sub, "stats")) {
			print_stats(vm, r);
		} else {
			const char *st = json_string_value(json_object_get(r, "state"));
			printf("%s: %s\n", vm, st ? st : "ok");
		}
		json_decref(r);
		return 0;
	}
	cli_usage_error(d, "not implemented");
}

int cmd_agent(struct cli *c)
{
	const struct cli_cmddoc *d = cli_sub(c, "agent");
	struct cli_args a;
	cli_parse(c, d, &a);
	if (!strcmp(d->sub, "start") || !strcmp(d->sub, "info")) {
		json_t *r = cli_call(c, "agent-info", NULL); /* connecting starts it if needed */
		if (c->json)
			cli_print_json(r);
		else
			printf("hprobed %s pid %lld on %s (state %s, %lld VMs)\n",
			       json_string_value(json_object_get(r, "version")),
			       json_integer_value(json_object_get(r, "pid")),
			       json_string_value(json_object_get(r, "socket")),
			       json_string_value(json_object_get(r, "state_dir")),
			       json_integer_value(json_object_get(r, "vms")));
		json_decref(r);
		return 0;
	}
	/* stop: never starts one */
	char err[512];
	struct conn *k = conn_open(cli_socket(c), 0, err, sizeof err);
	if (!k) {
		fprintf(stderr, "hprobe: no agent running (%s)\n", err);
		return 0;
	}
	c->conn = k;
	json_decref(cli_call(c, "agent-shutdown", NULL));
	return 0;
}
