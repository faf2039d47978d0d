/* Command dispatch on the main thread. Commands that touch a VM become jobs for its
 * worker thread; the reply is sent when the job comes back through the outbox. */
#include "proto/commands.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto/agent.h"
#include "proto/client.h"
#include "probes/engine.h"
#include "hprobe/hit.h"
#include "hprobe/journal.h"
#include "base/sysroot.h"
#include "base/text.h"
#include "base/util.h"
#include "vm/vm.h"

typedef void (*main_fn)(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id);

struct cmd {
	const char *name;
	const struct hp_arg *args;
	main_fn run;   /* runs on the main thread, or */
	hp_job_fn job; /* runs on the VM's thread */
	int needs_stop;
	int final;
};

/* Error descriptions are cut at 512 bytes on purpose: they are messages, not data.
 * The cut falls between characters, and quoted bytes that are not UTF-8 become '?'. */
void hp_commands__errf(struct hp_agent *a, struct hp_client *c, json_t *id, enum hp_eclass cls, const char *fmt, ...)
{
	char d[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d, sizeof d, fmt, ap);
	va_end(ap);
	hp_utf8__fix(d);
	hp_client__error(a, c, id, cls, d, NULL);
}
#define ERR(cls, ...) hp_commands__errf(a, c, id, cls, __VA_ARGS__)
#define ERR_RET(cls, ...)              \
	do {                           \
		ERR(cls, __VA_ARGS__); \
		return;                \
	} while (0)

static struct hp_vm *find_vm(struct hp_agent *a, const char *name)
{
	return hp_host__find_vm(&a->host, name);
}

struct hp_vm *hp_commands__vm(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id)
{
	const char *name = json_string_value(json_object_get(args, "vm"));
	struct hp_vm *vm = name ? find_vm(a, name) : NULL;
	if (!vm) {
		char known[512] = "";
		for (struct hp_vm *v = a->host.vms; v; v = v->next)
			snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", known[0] ? ", " : "",
				 v->cfg.name);
		ERR(EC_UNKNOWN_VM, "no VM named '%s' (known: %s)", name ? name : "", known[0] ? known : "none");
	}
	return vm;
}

/* ---- main-thread commands ---- */

/* libhprobe's hit field table, for clients that cannot load libhprobe (the workbench
 * builds its columns from it). */
static json_t *hit_fields_json(void)
{
	const struct hp_hit_field *f = hp_hit__fields();
	json_t *arr = json_array();
	for (int i = 0; i < HP_HF_COUNT; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:b, s:b, s:s, s:s}", "name", f[i].name, "type",
						     hp_hit__type_name(f[i].type), "stream",
						     (f[i].in & HP_HF_IN_STREAM) != 0, "export",
						     (f[i].in & HP_HF_IN_EXPORT) != 0, "optional", f[i].optional != 0,
						     "title", f[i].title, "doc", f[i].doc));
	return arr;
}

static void cmd_agent_info(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id)
{
	(void)args;
	int n = 0;
	for (struct hp_vm *v = a->host.vms; v; v = v->next)
		n++;
	/* host paths: bytes, not necessarily UTF-8 */
	json_t *r =
		json_pack("{s:s, s:i, s:i, s:o, s:o, s:o, s:i, s:I, s:o}", "version", HP_AGENT_VERSION, "protocol",
			  HP_PROTOCOL, "pid", (int)getpid(), "socket", hp_text__json(a->host.paths.socket, SIZE_MAX),
			  "state_dir", hp_text__json(a->host.paths.state_dir, SIZE_MAX), "lab",
			  hp_text__json(a->host.paths.lab_script, SIZE_MAX), "vms", n, "ret_timeout_s",
			  (json_int_t)(a->host.ret_timeout_ns / 1000000000u), "hit_fields", hit_fields_json());
	/* the host's boot: a client compares it with its own to know whether it sees this
	 * agent's files (a socket forwarded by hand looks local) */
	char boot[64];
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (f && fgets(boot, sizeof boot, f)) {
		boot[strcspn(boot, "\n")] = 0;
		json_object_set_new(r, "boot_id", hp_text__json(boot, sizeof boot));
	}
	if (f)
		fclose(f);
	hp_client__reply(a, c, id, r);
	json_decref(r);
}

static void cmd_agent_shutdown(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id)
{
	(void)args;
	hp_client__reply(a, c, id, NULL);
	a->quit = 1;
}

static void start_vm(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id, struct hp_vm_config *cfg)
{
	const char *name = json_string_value(json_object_get(args, "name"));
	if (name) {
		snprintf(cfg->name, sizeof cfg->name, "%s", name);
	} else if (!cfg->name[0]) {
		const char *base = cfg->launch ? "lab" : "vm";
		snprintf(cfg->name, sizeof cfg->name, "%s", base);
		for (int i = 2; find_vm(a, cfg->name); i++)
			snprintf(cfg->name, sizeof cfg->name, "%s%d", base, i);
	}
	if (!hp_vm__valid_name(cfg->name))
		ERR_RET(EC_INVALID_ARGUMENT, "bad VM name '%s': 1-63 of [A-Za-z0-9._-]", cfg->name);
	if (find_vm(a, cfg->name))
		ERR_RET(EC_INVALID_ARGUMENT, "a VM named '%s' already exists", cfg->name);
	struct hp_err err;
	struct hp_vm *vm = hp_vm__create(&a->host, cfg, &err);
	if (!vm)
		ERR_RET(EC_INTERNAL, "%s", err.msg);
	struct hp_job *job = hp_job__new(hp_vm__attach_job, 0, args);
	if (!job) {
		hp_vm__destroy(vm); /* its thread was never started */
		ERR_RET(EC_INTERNAL, "out of memory");
	}
	job->client_id = c->id;
	job->req_id = json_incref(id);
	vm->next = a->host.vms;
	a->host.vms = vm;
	if (hp_vm__start(vm, job, &err)) {
		a->host.vms = vm->next;
		hp_vm__destroy(vm);
		ERR_RET(EC_INTERNAL, "%s", err.msg);
	}
}

/* An optional integer argument in [lo, hi] (def when absent): checked as the JSON
 * integer it is, before it is narrowed to an int (2^32 + 1 is not 1). */
static int opt_int(json_t *args, const char *k, int def, int lo, int hi, int *out)
{
	json_t *v = json_object_get(args, k);
	json_int_t n = v ? json_integer_value(v) : def;
	if (n < lo || n > hi)
		return -1;
	*out = (int)n;
	return 0;
}

/* The "sysroot" of vm-launch and vm-attach: a host directory that mirrors the
 * guest's files (base/sysroot.h). */
static int sysroot_arg(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id, struct hp_vm_config *cfg)
{
	const char *dir = json_string_value(json_object_get(args, "sysroot"));
	struct hp_err err;
	if (!dir)
		return 0;
	if (hp_sysroot__check(dir, &err)) {
		ERR(EC_INVALID_ARGUMENT, "%s", err.msg);
		return -1;
	}
	snprintf(cfg->sysroot, sizeof cfg->sysroot, "%s", dir);
	return 0;
}

static void copy_path(char *dst, size_t cap, json_t *args, const char *k)
{
	const char *v = json_string_value(json_object_get(args, k));
	snprintf(dst, cap, "%s", v ? v : "");
}

static void cmd_vm_launch(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id)
{
	struct hp_vm_config cfg = { .launch = 1 };
	cfg.kaslr = !json_is_false(json_object_get(args, "kaslr"));
	cfg.plugin = !json_is_false(json_object_get(args, "plugin"));
	if (opt_int(args, "smp", 1, 1, 16, &cfg.smp))
		ERR_RET(EC_INVALID_ARGUMENT, "smp must be 1..16");
	if (opt_int(args, "mem", 512, 128, 16384, &cfg.mem_mb))
		ERR_RET(EC_INVALID_ARGUMENT, "mem must be 128..16384 MiB");
	if (opt_int(args, "http_port", 0, 0, 65535, &cfg.http_port))
		ERR_RET(EC_INVALID_ARGUMENT, "http_port must be 1..65535");
	const char *kernel = json_string_value(json_object_get(args, "lab_kernel"));
	if (kernel && (!kernel[0] || strlen(kernel) >= sizeof cfg.lab_kernel ||
		       strspn(kernel, "abcdefghijklmnopqrstuvwxyz-") != strlen(kernel)))
		ERR_RET(EC_INVALID_ARGUMENT, "lab_kernel must be a Debian suite name (bullseye, bookworm, "
					     "bookworm-backports, trixie, sid)");
	if (kernel)
		snprintf(cfg.lab_kernel, sizeof cfg.lab_kernel, "%s", kernel);
	if (sysroot_arg(a, c, args, id, &cfg))
		return;
	char msg[256];
	if (hp_cmd__own_guest_args(args, &cfg.own, msg, sizeof msg))
		ERR_RET(EC_INVALID_ARGUMENT, "%s", msg);
	copy_path(cfg.symbols, sizeof cfg.symbols, args, "symbols");
	copy_path(cfg.vmlinux, sizeof cfg.vmlinux, args, "vmlinux");
	if (hp_vm__own_guest(&cfg)) {
		if (kernel || json_object_get(args, "http_port"))
			ERR_RET(EC_INVALID_ARGUMENT, "lab_kernel and http_port are the lab guest's (an own guest: "
						     "\"net\" and \"forward\")");
		start_vm(a, c, args, id, &cfg);
		return;
	}
	if (access(a->host.paths.lab_script, X_OK))
		ERR_RET(EC_NOT_SUPPORTED, "the guest lab script %s is missing: start hprobed with --lab PATH",
			a->host.paths.lab_script);
	start_vm(a, c, args, id, &cfg);
}

static void cmd_vm_attach(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id)
{
	struct hp_vm_config cfg = { .launch = 0, .kaslr = 1 };
	cfg.plugin = !json_is_false(json_object_get(args, "plugin")); /* one its owner gave QEMU */
	copy_path(cfg.qmp, sizeof cfg.qmp, args, "qmp");
	const char *dom = json_string_value(json_object_get(args, "libvirt"));
	const char *uri = json_string_value(json_object_get(args, "connect"));
	if (!cfg.qmp[0] == !dom)
		ERR_RET(EC_INVALID_ARGUMENT, "give one of \"qmp\" (a QMP socket) and \"libvirt\" (a domain)");
	if ((dom && (!dom[0] || strlen(dom) >= sizeof cfg.libvirt_domain)) ||
	    (uri && strlen(uri) >= sizeof cfg.libvirt_uri))
		ERR_RET(EC_INVALID_ARGUMENT, "libvirt domain or connection URI empty or too long");
	if (uri && !dom)
		ERR_RET(EC_INVALID_ARGUMENT, "\"connect\" goes with \"libvirt\"");
	copy_path(cfg.libvirt_domain, sizeof cfg.libvirt_domain, args, "libvirt");
	copy_path(cfg.libvirt_uri, sizeof cfg.libvirt_uri, args, "connect");
	if (sysroot_arg(a, c, args, id, &cfg))
		return;
	copy_path(cfg.symbols, sizeof cfg.symbols, args, "symbols");
	copy_path(cfg.vmlinux, sizeof cfg.vmlinux, args, "vmlinux");
	copy_path(cfg.console_log, sizeof cfg.console_log, args, "console_log");
	copy_path(cfg.console_sock, sizeof cfg.console_sock, args, "console_sock");
	const char *files[] = { cfg.qmp, cfg.symbols, cfg.vmlinux };
	for (size_t i = 0; i < 3; i++)
		if (files[i][0] && access(files[i], R_OK))
			ERR_RET(EC_INVALID_ARGUMENT, "cannot read %s: %s", files[i], strerror(errno));
	for (struct hp_vm *v = a->host.vms; v; v = v->next)
		if (!v->cfg.launch && !strcmp(v->cfg.qmp, cfg.qmp) && !strcmp(v->cfg.libvirt_uri, cfg.libvirt_uri) &&
		    !strcmp(v->cfg.libvirt_domain, cfg.libvirt_domain))
			ERR_RET(EC_INVALID_ARGUMENT, "already attached to %s as '%s'", dom ? dom : cfg.qmp,
				v->cfg.name);
	/* a libvirt domain's name makes a good VM name, when it is one */
	if (dom && !json_object_get(args, "name") && hp_vm__valid_name(dom) && !find_vm(a, dom))
		snprintf(cfg.name, sizeof cfg.name, "%s", dom);
	start_vm(a, c, args, id, &cfg);
}

static void cmd_vm_list(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id)
{
	(void)args;
	json_t *r = json_array();
	for (struct hp_vm *v = a->host.vms; v; v = v->next)
		json_array_append_new(r, hp_vm__summary(v));
	hp_client__reply(a, c, id, r);
	json_decref(r);
}

#define CONSOLE_DRAINS_MAX 8

struct console_drain {
	int fd;
	atomic_int *count;
};

/* QEMU reads a console socket only as fast as the guest's UART takes bytes, and
 * closing earlier would lose the rest of the line: the connection is held until
 * QEMU took everything (2 s at most), by this thread, not the main one. */
static void *drain_console(void *arg)
{
	struct console_drain *d = arg;
	for (int i = 0, queued = 1; i < 200 && queued > 0; i++) {
		if (ioctl(d->fd, SIOCOUTQ, &queued) < 0)
			break;
		if (queued > 0)
			usleep(10000);
	}
	close(d->fd);
	atomic_fetch_sub(d->count, 1);
	free(d);
	return NULL;
}

/* Types input into the console: never blocks the main thread (the connect and the
 * send do not wait; a QEMU that does not read gets what its socket buffer holds). */
static int console_input(struct hp_agent *a, const char *path, const char *input, char *why, size_t cap)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (hp_pathf(sa.sun_path, sizeof sa.sun_path, "%s", path)) {
		snprintf(why, cap, "console socket path too long");
		return -1;
	}
	if (atomic_fetch_add(&a->console_drains, 1) >= CONSOLE_DRAINS_MAX) {
		atomic_fetch_sub(&a->console_drains, 1);
		snprintf(why, cap, "earlier input is still being delivered to the console: try again");
		return -1;
	}
	struct console_drain *d = malloc(sizeof *d);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	size_t len = strlen(input);
	ssize_t sent = -1;
	if (d && fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
		sent = send(fd, input, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	int e = errno;
	pthread_t th;
	pthread_attr_t at;
	if (sent > 0) { /* what was taken is delivered even when the rest is refused */
		d->fd = fd;
		d->count = &a->console_drains;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&th, &at, drain_console, d) == 0) {
			d = NULL;
			fd = -1;
		}
		pthread_attr_destroy(&at);
	}
	if (fd >= 0) {
		close(fd);
		free(d);
		atomic_fetch_sub(&a->console_drains, 1);
	}
	if (sent == (ssize_t)len)
		return 0;
	if (sent > 0)
		snprintf(why, cap, "the console took %zd of %zu bytes (its buffer is full)", sent, len);
	else
		snprintf(why, cap, "cannot type into the console %.200s: %.200s", path,
			 e == EAGAIN ? "it is busy (another client holds it)" : strerror(e));
	return -1;
}

static void cmd_vm_console(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id)
{
	struct hp_vm *vm = hp_commands__vm(a, c, args, id);
	if (!vm)
		return;
	if (!vm->cfg.console_log[0])
		ERR_RET(EC_NOT_SUPPORTED, "no console for %s (attach with console_log/console_sock)", vm->cfg.name);
	const char *input = json_string_value(json_object_get(args, "input"));
	char why[512];
	if (input && console_input(a, vm->cfg.console_sock, input, why, sizeof why))
		ERR_RET(EC_IO_ERROR, "%s", why);
	json_int_t off = json_integer_value(json_object_get(args, "offset"));
	json_int_t max = json_object_get(args, "max") ? json_integer_value(json_object_get(args, "max")) : 65536;
	if (off < 0 || max <= 0 || max > (1 << 20))
		ERR_RET(EC_INVALID_ARGUMENT, "offset must be >= 0 and max 1..1048576");
	int fd = open(vm->cfg.console_log, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		ERR_RET(EC_IO_ERROR, "cannot read %s: %s", vm->cfg.console_log, strerror(errno));
	char *buf = malloc((size_t)max);
	ssize_t n = buf ? pread(fd, buf, (size_t)max, off) : -1;
	close(fd);
	if (n < 0) {
		free(buf);
		ERR_RET(EC_IO_ERROR, "cannot read %s", vm->cfg.console_log);
	}
	/* the console is guest output: valid UTF-8 text for JSON. Control bytes (ESC of a
	 * terminal sequence included) stay, JSON-escaped, so clients can strip them. */
	for (ssize_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] >= 0x80 || buf[i] == 0)
			buf[i] = '?';
	json_t *r = json_pack("{s:s%, s:I}", "text", buf, (size_t)n, "offset", (json_int_t)(off + n));
	free(buf);
	hp_client__reply(a, c, id, r);
	json_decref(r);
}

/* ---- the table ---- */

static const struct hp_arg a_none[] = { { NULL, 0, 0 } };
static const struct hp_arg a_vm[] = { { "vm", ARG_STR, 1 }, { NULL, 0, 0 } };
static const struct hp_arg a_probe_list[] = { { "vm", ARG_STR, 1 }, { "removed", ARG_BOOL, 0 }, { NULL, 0, 0 } };
static const struct hp_arg a_set[] = { { "vm", ARG_STR, 1 }, { "sysroot", ARG_STR, 0 }, { NULL, 0, 0 } };
static const struct hp_arg a_launch[] = { { "name", ARG_STR, 0 },         { "smp", ARG_INT, 0 },
					  { "mem", ARG_INT, 0 },          { "kaslr", ARG_BOOL, 0 },
					  { "plugin", ARG_BOOL, 0 },      { "http_port", ARG_INT, 0 },
					  { "lab_kernel", ARG_STR, 0 },   { "sysroot", ARG_STR, 0 },
					  { "kernel", ARG_STR, 0 },       { "initrd", ARG_STR, 0 },
					  { "append", ARG_STR, 0 },       { "disk", ARG_STR, 0 },
					  { "disk_format", ARG_STR, 0 },  { "disk_mode", ARG_STR, 0 },
					  { "net", ARG_STR, 0 },          { "nic", ARG_STR, 0 },
					  { "forward", ARG_ANY, 0 },      { "qemu_args", ARG_ANY, 0 },
					  { "boot_timeout", ARG_INT, 0 }, { "symbols", ARG_STR, 0 },
					  { "vmlinux", ARG_STR, 0 },      { NULL, 0, 0 } };
static const struct hp_arg a_attach[] = { { "qmp", ARG_STR, 0 },
					  { "libvirt", ARG_STR, 0 },
					  { "connect", ARG_STR, 0 },
					  { "name", ARG_STR, 0 },
					  { "symbols", ARG_STR, 0 },
					  { "vmlinux", ARG_STR, 0 },
					  { "console_log", ARG_STR, 0 },
					  { "console_sock", ARG_STR, 0 },
					  { "sysroot", ARG_STR, 0 },
					  { "plugin", ARG_BOOL, 0 },
					  { NULL, 0, 0 } };
static const struct hp_arg a_libvirt[] = { { "connect", ARG_STR, 0 }, { NULL, 0, 0 } };
static const struct hp_arg a_console[] = {
	{ "vm", ARG_STR, 1 }, { "offset", ARG_INT, 0 }, { "max", ARG_INT, 0 }, { "input", ARG_STR, 0 }, { NULL, 0, 0 }
};
static const struct hp_arg a_sym_search[] = { { "vm", ARG_STR, 1 },     { "pattern", ARG_STR, 1 },
					      { "limit", ARG_INT, 0 },  { "offset", ARG_INT, 0 },
					      { "binary", ARG_STR, 0 }, { NULL, 0, 0 } };
static const struct hp_arg a_disas[] = { { "vm", ARG_STR, 1 }, { "spec", ARG_STR, 1 }, { NULL, 0, 0 } };
static const struct hp_arg a_lookup[] = { { "vm", ARG_STR, 1 }, { "addrs", ARG_ANY, 1 }, { NULL, 0, 0 } };
static const struct hp_arg a_probe_add[] = {
	{ "vm", ARG_STR, 1 },   { "spec", ARG_STR, 1 },  { "args", ARG_ANY, 0 },
	{ "mem", ARG_STR, 0 },  { "regs", ARG_BOOL, 0 }, { "pid", ARG_INT, 0 },
	{ "comm", ARG_STR, 0 }, { "kind", ARG_STR, 0 },  { "enabled", ARG_BOOL, 0 },
	{ "if", ARG_STR, 0 },   { "agg", ARG_STR, 0 },   { "agg_rows", ARG_INT, 0 },
	{ NULL, 0, 0 }
};
static const struct hp_arg a_agg_read[] = {
	{ "vm", ARG_STR, 1 }, { "probe", ARG_INT, 1 }, { "limit", ARG_INT, 0 }, { "clear", ARG_BOOL, 0 }, { NULL, 0, 0 }
};
static const struct hp_arg a_probe_id[] = { { "vm", ARG_STR, 1 }, { "probe", ARG_INT, 1 }, { NULL, 0, 0 } };
static const struct hp_arg a_subscribe[] = { { "vm", ARG_STR, 1 }, { "from_seq", ARG_INT, 0 }, { NULL, 0, 0 } };
static const struct hp_arg a_hits_read[] = { { "vm", ARG_STR, 1 },
					     { "from_seq", ARG_INT, 0 },
					     { "limit", ARG_INT, 0 },
					     { "probe", ARG_INT, 0 },
					     { NULL, 0, 0 } };
static const struct hp_arg a_journal_read[] = {
	{ "vm", ARG_STR, 1 }, { "offset", ARG_INT, 1 }, { "length", ARG_INT, 0 }, { NULL, 0, 0 }
};
static const struct hp_arg a_det_add[] = {
	{ "vm", ARG_STR, 1 }, { "kind", ARG_STR, 1 }, { "config", ARG_OBJ, 1 }, { NULL, 0, 0 }
};
static const struct hp_arg a_det_id[] = { { "vm", ARG_STR, 1 }, { "detector", ARG_INT, 1 }, { NULL, 0, 0 } };

static const struct cmd commands[] = {
	{ "agent-info", a_none, cmd_agent_info, NULL, 0, 0 },
	{ "agent-shutdown", a_none, cmd_agent_shutdown, NULL, 0, 0 },
	{ "vm-launch", a_launch, cmd_vm_launch, NULL, 0, 0 },
	{ "vm-attach", a_attach, cmd_vm_attach, NULL, 0, 0 },
	{ "vm-list", a_none, cmd_vm_list, NULL, 0, 0 },
	{ "libvirt-list", a_libvirt, hp_cmd_libvirt_list, NULL, 0, 0 },
	{ "vm-detach", a_vm, NULL, hp_vm__detach_job, 1, 1 },
	{ "vm-quit", a_vm, NULL, hp_vm__quit_job, 1, 0 },
	{ "vm-pause", a_vm, NULL, hp_cmd__vm_pause, 1, 0 },
	{ "vm-resume", a_vm, NULL, hp_cmd__vm_resume, 0, 0 },
	{ "vm-console", a_console, cmd_vm_console, NULL, 0, 0 },
	{ "vm-ps", a_vm, NULL, hp_cmd__vm_ps, 1, 0 },
	{ "vm-stats", a_vm, NULL, hp_cmd__vm_stats, 0, 0 },
	{ "vm-set", a_set, NULL, hp_cmd__vm_set, 0, 0 },
	{ "sym-search", a_sym_search, NULL, hp_cmd__sym_search, 0, 0 },
	{ "sym-disas", a_disas, NULL, hp_cmd__sym_disas, 1, 0 },
	{ "sym-lookup", a_lookup, NULL, hp_cmd__sym_lookup, 0, 0 },
	{ "probe-add", a_probe_add, NULL, hp_cmd__probe_add, 1, 0 },
	{ "probe-enable", a_probe_id, NULL, hp_cmd__probe_enable, 1, 0 },
	{ "probe-disable", a_probe_id, NULL, hp_cmd__probe_disable, 1, 0 },
	{ "probe-remove", a_probe_id, NULL, hp_cmd__probe_remove, 1, 0 },
	{ "probe-list", a_probe_list, NULL, hp_cmd__probe_list, 0, 0 },
	{ "agg-read", a_agg_read, NULL, hp_cmd__agg_read, 0, 0 },
	{ "hits-subscribe", a_subscribe, hp_cmd_hits_subscribe, NULL, 0, 0 },
	{ "hits-unsubscribe", a_vm, hp_cmd_hits_unsubscribe, NULL, 0, 0 },
	{ "hits-read", a_hits_read, hp_cmd_hits_read, NULL, 0, 0 },
	{ "events-subscribe", a_none, hp_cmd_events_subscribe, NULL, 0, 0 },
	{ "journal-info", a_vm, hp_cmd_journal_info, NULL, 0, 0 },
	{ "journal-read", a_journal_read, hp_cmd_journal_read, NULL, 0, 0 },
	{ "alerts-read", a_subscribe, hp_cmd_alerts_read, NULL, 0, 0 },
	{ "detector-add", a_det_add, NULL, hp_cmd__detector_add, 1, 0 },
	{ "detector-remove", a_det_id, NULL, hp_cmd__detector_remove, 1, 0 },
	{ "detector-enable", a_det_id, NULL, hp_cmd__detector_enable, 1, 0 },
	{ "detector-disable", a_det_id, NULL, hp_cmd__detector_disable, 1, 0 },
	{ "detector-list", a_vm, NULL, hp_cmd__detector_list, 0, 0 },
};

static int type_ok(json_t *v, enum hp_arg_type t)
{
	switch (t) {
	case ARG_STR:
		return json_is_string(v);
	case ARG_INT:
		return json_is_integer(v);
	case ARG_BOOL:
		return json_is_boolean(v);
	case ARG_OBJ:
		return json_is_object(v);
	default:
		return 1;
	}
}

static const char *type_name(enum hp_arg_type t)
{
	static const char *const n[] = { "a string", "an integer", "a boolean", "an object", "any value" };
	return n[t];
}

static int check_args(struct hp_agent *a, struct hp_client *c, json_t *id, const struct cmd *cmd, json_t *args)
{
	const char *key;
	json_t *v;
	json_object_foreach(args, key, v)
	{
		const struct hp_arg *ar = cmd->args;
		while (ar->name && strcmp(ar->name, key))
			ar++;
		if (!ar->name) {
			ERR(EC_INVALID_ARGUMENT, "%s: unknown argument '%s'", cmd->name, key);
			return -1;
		}
		if (!type_ok(v, ar->type)) {
			ERR(EC_INVALID_ARGUMENT, "%s: argument '%s' must be %s", cmd->name, key, type_name(ar->type));
			return -1;
		}
	}
	for (const struct hp_arg *ar = cmd->args; ar->name; ar++)
		if (ar->required && !json_object_get(args, ar->name)) {
			ERR(EC_INVALID_ARGUMENT, "%s: missing argument '%s'", cmd->name, ar->name);
			return -1;
		}
	return 0;
}

void hp_commands__dispatch(struct hp_agent *a, struct hp_client *c, const char *frame, size_t len)
{
	json_error_t je;
	json_t *id = NULL;
	json_t *msg = json_loadb(frame, len, JSON_REJECT_DUPLICATES, &je);
	if (!msg || !json_is_object(msg)) {
		char d[256];
		snprintf(d, sizeof d, "not a JSON object: %s", msg ? "wrong type" : je.text);
		hp_client__error(a, c, NULL, EC_MALFORMED_FRAME, d, NULL);
		json_decref(msg);
		return;
	}
	id = json_object_get(msg, "id");
	const char *key;
	json_t *v;
	json_object_foreach(msg, key, v)
	{
		if (strcmp(key, "execute") && strcmp(key, "id") && strcmp(key, "arguments")) {
			ERR(EC_INVALID_ARGUMENT, "unknown member '%s' (expected execute, id, arguments)", key);
			goto out;
		}
	}
	const char *name = json_string_value(json_object_get(msg, "execute"));
	json_t *args = json_object_get(msg, "arguments");
	if (!name) {
		ERR(EC_MALFORMED_FRAME, "missing \"execute\" (a command name)");
		goto out;
	}
	if (args && !json_is_object(args)) {
		ERR(EC_INVALID_ARGUMENT, "\"arguments\" must be an object");
		goto out;
	}
	const struct cmd *cmd = NULL;
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(commands[i].name, name))
			cmd = &commands[i];
	if (!cmd) {
		ERR(EC_UNKNOWN_COMMAND, "unknown command '%s'", name);
		goto out;
	}
	json_t *empty = json_object();
	if (!args)
		args = empty;
	if (check_args(a, c, id, cmd, args) == 0) {
		if (cmd->run) {
			cmd->run(a, c, args, id);
		} else {
			struct hp_vm *vm = hp_commands__vm(a, c, args, id);
			if (vm) {
				struct hp_job *job = hp_job__new(cmd->job, cmd->needs_stop, args);
				if (!job) {
					ERR(EC_INTERNAL, "out of memory");
				} else {
					job->client_id = c->id;
					job->req_id = json_incref(id);
					job->final = cmd->final;
					hp_vm__submit(vm, job);
				}
			}
		}
	}
	json_decref(empty);
out:
	json_decref(msg);
}
