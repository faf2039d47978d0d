/* QEMU processes the agent starts, and the in-QEMU tier of any VM (vm/qemu.h). */
#include "vm/qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/plugin_backend.h"
#include "backend/qmp.h"
#include "base/util.h"
#include "vm/vm.h"

#define READY_WAIT_S 240
#define READY_MARKER "HPROBE-READY"
#define KERNEL_HALF 0xffff800000000000ull /* x86-64 kernels run above it */
#define CMDLINE_MAX (256u << 10)

const char *hp_qemu__accel(void)
{
	const char *env = getenv("HPROBE_ACCEL");
	if (env && (!strcmp(env, "kvm") || !strcmp(env, "tcg")))
		return env;
	/* some sandboxes expose a /dev/kvm whose CPU has no vmx/svm: a guest never runs */
	if (access("/dev/kvm", R_OK | W_OK))
		return "tcg";
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	int virt = 0;
	while (f && !virt && fgets(line, sizeof line, f))
		virt = !strncmp(line, "flags", 5) && (strstr(line, " vmx") || strstr(line, " svm"));
	if (f)
		fclose(f);
	return virt ? "kvm" : "tcg";
}

/* ---- an argument vector with its own storage ---- */

struct argv_b {
	const char *v[192];
	int n, overflow;
	char store[3 * PATH_MAX + 8192];
	size_t used;
};

static void arg(struct argv_b *a, const char *s)
{
	if (a->n < (int)(sizeof a->v / sizeof a->v[0]) - 1)
		a->v[a->n++] = s;
	else
		a->overflow = 1;
}

static void __attribute__((format(printf, 2, 3))) argf(struct argv_b *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t left = sizeof a->store - a->used;
	int n = vsnprintf(a->store + a->used, left, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= left) {
		a->overflow = 1;
		return;
	}
	arg(a, a->store + a->used);
	a->used += (size_t)n + 1;
}

/* A value inside QEMU's "key=value,key=value" syntax: a comma is written twice. */
static const char *opt_escape(const char *s, char *buf, size_t cap)
{
	size_t j = 0;
	for (size_t i = 0; s[i] && j + 2 < cap; i++) {
		if (s[i] == ',')
			buf[j++] = ',';
		buf[j++] = s[i];
	}
	buf[j] = 0;
	return buf;
}

/* ---- starting QEMU ---- */

/* Runs "lab.sh build" and returns the guest directory it prints (building if needed). */
static int lab_guest_dir(struct hp_vm *vm, char *dir, size_t cap, struct hp_err *err)
{
	char cmd[PATH_MAX * 2 + 64];
	if (hp_pathf(cmd, sizeof cmd, "'%s' build%s%s 2>>'%s/lab-build.log'", vm->host->paths.lab_script,
		     vm->cfg.lab_kernel[0] ? " --kernel " : "", vm->cfg.lab_kernel, vm->rundir))
		return hp_err__set(err, ENAMETOOLONG, "lab script path too long");
	FILE *f = popen(cmd, "r");
	if (!f)
		return hp_err__set(err, errno, "cannot run %s: %s", vm->host->paths.lab_script, strerror(errno));
	char line[PATH_MAX] = "";
	while (fgets(line, sizeof line, f))
		snprintf(dir, cap, "%s", line);
	int st = pclose(f);
	dir[strcspn(dir, "\n")] = 0;
	if (st != 0 || !dir[0])
		return hp_err__set(err, EIO, "building the lab guest failed (see %s/lab-build.log)", vm->rundir);
	return 0;
}

/* The lab's launcher: "lab.sh run" with this VM's settings. */
static void lab_argv(struct hp_vm *vm, const char *guest, const char *plugin_arg, struct argv_b *a)
{
	arg(a, vm->host->paths.lab_script);
	arg(a, "run");
	arg(a, "--dir");
	arg(a, vm->rundir);
	arg(a, "--guest");
	arg(a, guest);
	arg(a, "--smp");
	argf(a, "%d", vm->cfg.smp > 0 ? vm->cfg.smp : 1);
	arg(a, "--mem");
	argf(a, "%d", vm->cfg.mem_mb > 0 ? vm->cfg.mem_mb : 512);
	if (!vm->cfg.kaslr)
		arg(a, "--no-kaslr");
	if (vm->cfg.http_port > 0) {
		arg(a, "--http-port");
		argf(a, "%d", vm->cfg.http_port);
	}
	if (plugin_arg) {
		arg(a, "--plugin");
		arg(a, plugin_arg + 5); /* lab.sh adds "file=" itself */
	}
}

static const char *disk_format(const struct hp_own_guest *g)
{
	if (g->disk_format[0])
		return g->disk_format;
	char magic[4] = { 0 };
	int fd = open(g->disk, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, magic, sizeof magic) : -1;
	if (fd >= 0)
		close(fd);
	return n == 4 && !memcmp(magic, "QFI\xfb", 4) ? "qcow2" : "raw";
}

/* A user's own guest: QEMU with the sockets the agent and vm-console use, in rundir. */
static void own_argv(struct hp_vm *vm, const char *accel, const char *plugin_arg, struct argv_b *a)
{
	const struct hp_own_guest *g = &vm->cfg.own;
	char esc[2 * PATH_MAX + 1];
	arg(a, getenv("HPROBE_QEMU") ?: "qemu-system-x86_64");
	arg(a, "-name");
	argf(a, "%s", vm->cfg.name);
	arg(a, "-accel");
	arg(a, accel);
	if (!strcmp(accel, "kvm")) {
		arg(a, "-cpu");
		arg(a, "host");
	}
	arg(a, "-m");
	argf(a, "%d", vm->cfg.mem_mb > 0 ? vm->cfg.mem_mb : 512);
	arg(a, "-smp");
	argf(a, "%d", vm->cfg.smp > 0 ? vm->cfg.smp : 1);
	arg(a, "-nodefaults");
	arg(a, "-display");
	arg(a, "none");
	arg(a, "-qmp");
	argf(a, "unix:%s/qmp.sock,server=on,wait=off", vm->rundir);
	arg(a, "-chardev");
	argf(a, "socket,id=con0,path=%s/console.sock,server=on,wait=off,logfile=%s/console.log,logappend=on",
	     vm->rundir, vm->rundir);
	arg(a, "-serial");
	arg(a, "chardev:con0");
	arg(a, "-chardev");
	argf(a, "socket,id=gdb0,path=%s/gdb.sock,server=on,wait=off", vm->rundir);
	arg(a, "-gdb");
	arg(a, "chardev:gdb0");
	if (g->kernel[0]) {
		arg(a, "-kernel");
		arg(a, g->kernel);
	}
	if (g->initrd[0]) {
		arg(a, "-initrd");
		arg(a, g->initrd);
	}
	if (g->append[0]) {
		arg(a, "-append");
		arg(a, g->append);
	}
	if (g->disk[0]) {
		static const char *const mode[] = { ",snapshot=on", ",readonly=on", "" };
		arg(a, "-drive");
		argf(a, "file=%s,format=%s,if=virtio%s", opt_escape(g->disk, esc, sizeof esc), disk_format(g),
		     mode[g->disk_mode]);
	}
	if (g->net) {
		char fwd[HP_OWN_MAX_FWD * 60] = "";
		size_t used = 0;
		for (int i = 0; i < g->nfwd && used < sizeof fwd; i++)
			used += (size_t)snprintf(fwd + used, sizeof fwd - used, ",hostfwd=%s", g->fwd[i]);
		arg(a, "-netdev");
		argf(a, "user,id=n0%s%s", g->net == 2 ? ",restrict=on" : "", fwd);
		arg(a, "-device");
		argf(a, "%s,netdev=n0", g->nic[0] ? g->nic : "virtio-net-pci");
	}
	if (plugin_arg) {
		arg(a, "-plugin");
		arg(a, plugin_arg);
	}
	for (size_t off = 0; off < g->extra_len; off += strlen(g->extra + off) + 1)
		arg(a, g->extra + off);
}

/* The in-QEMU tier needs TCG and a plugin .so; without either, probes use the gdbstub. */
static void prepare_plugin(struct hp_vm *vm, const char *accel)
{
	struct hp_err err;
	vm->plugin_ring[0] = 0;
	if (!vm->cfg.plugin)
		return;
	if (strcmp(accel, "tcg") != 0) {
		hp_info("%s: %s: probes use the gdbstub (the in-QEMU tier needs TCG)", vm->cfg.name, accel);
		return;
	}
	if (vm->host->paths.plugin[0])
		memcpy(vm->plugin_so, vm->host->paths.plugin, sizeof vm->plugin_so);
	else if (hp_plugin__find_so(vm->plugin_so, sizeof vm->plugin_so, &err)) {
		hp_warn("%s: %s: probes use the gdbstub", vm->cfg.name, err.msg);
		return;
	}
	unsigned n = (unsigned)(vm->cfg.smp > 0 ? vm->cfg.smp : 1);
	if (hp_pathf(vm->plugin_ring, sizeof vm->plugin_ring, "%s/plugin.ring", vm->rundir) ||
	    hp_pathf(vm->plugin_ctl, sizeof vm->plugin_ctl, "%s/plugin.sock", vm->rundir) ||
	    hp_plugin_ring__create(vm->plugin_ring, n, hp_pring__bytes(n), &err)) {
		hp_warn("%s: no in-QEMU tier: %s", vm->cfg.name, err.msg);
		vm->plugin_ring[0] = 0;
	}
	vm->plugin_ours = vm->plugin_ring[0] != 0;
}

static int spawn(struct hp_vm *vm, struct argv_b *a, struct hp_err *err)
{
	if (a->overflow)
		return hp_err__set(err, E2BIG, "too many or too long QEMU arguments");
	a->v[a->n] = NULL;
	char log[PATH_MAX];
	hp_pathf(log, sizeof log, "%s/qemu.log", vm->rundir);
	/* the ready marker of an earlier boot must not count for this one */
	char cons[PATH_MAX], prev[PATH_MAX];
	if (!hp_pathf(cons, sizeof cons, "%s/console.log", vm->rundir) &&
	    !hp_pathf(prev, sizeof prev, "%s/console.prev.log", vm->rundir))
		rename(cons, prev);
	/* stale sockets of an earlier run would make us talk to nobody */
	const char *socks[] = { "qmp.sock", "gdb.sock", "console.sock" };
	for (size_t i = 0; i < 3; i++) {
		char p[PATH_MAX];
		hp_pathf(p, sizeof p, "%s/%s", vm->rundir, socks[i]);
		unlink(p);
	}
	pid_t pid = fork();
	if (pid < 0)
		return hp_err__set(err, errno, "fork: %s", strerror(errno));
	if (pid == 0) {
		/* own session: the guest survives the agent (kill -9 included) */
		setsid();
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		int nul = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (nul >= 0)
			dup2(nul, 0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execvp(a->v[0], (char *const *)a->v);
		dprintf(2, "cannot run %s: %s\n", a->v[0], strerror(errno));
		_exit(127);
	}
	vm->qemu_pid = pid;
	return 0;
}

static int own_files_ok(const struct hp_own_guest *g, struct hp_err *err)
{
	const char *files[] = { g->kernel, g->initrd, g->disk };
	for (size_t i = 0; i < 3; i++)
		if (files[i][0] && access(files[i], R_OK))
			return hp_err__set(err, ENOENT, "cannot read %s: %s", files[i], strerror(errno));
	if (g->disk[0] && g->disk_mode == HP_DISK_WRITABLE && access(g->disk, W_OK))
		return hp_err__set(err, EACCES, "cannot write %s (asked for a writable disk): %s", g->disk,
				   strerror(errno));
	return 0;
}

int hp_qemu__start(struct hp_vm *vm, char *guest, size_t cap, struct hp_err *err)
{
	static struct argv_b a; /* big; one VM thread at a time builds one */
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	const char *accel = hp_qemu__accel();
	int own = hp_vm__own_guest(&vm->cfg), rc;
	guest[0] = 0;
	if (own ? (rc = own_files_ok(&vm->cfg.own, err)) : (rc = lab_guest_dir(vm, guest, cap, err)))
		return rc;
	prepare_plugin(vm, accel);
	char plugin_arg[3 * PATH_MAX];
	int with_plugin = vm->plugin_ring[0] && !hp_plugin__qemu_arg(plugin_arg, sizeof plugin_arg, vm->plugin_so,
								     vm->plugin_ring, vm->plugin_ctl, err);
	pthread_mutex_lock(&mu);
	memset(&a, 0, sizeof a);
	if (own)
		own_argv(vm, accel, with_plugin ? plugin_arg : NULL, &a);
	else
		lab_argv(vm, guest, with_plugin ? plugin_arg : NULL, &a);
	rc = spawn(vm, &a, err);
	pthread_mutex_unlock(&mu);
	return rc;
}

void hp_qemu__lab_files(const struct hp_vm *vm, char *symbols, char *vmlinux, size_t cap)
{
	if (!vm->cfg.launch || !vm->guest_dir[0])
		return;
	if (!symbols[0] && hp_pathf(symbols, cap, "%s/kallsyms", vm->guest_dir))
		symbols[0] = 0;
	if (!vmlinux[0] && hp_pathf(vmlinux, cap, "%s/vmlinux", vm->guest_dir))
		vmlinux[0] = 0;
}

int hp_qemu__alive(struct hp_vm *vm, struct hp_err *err)
{
	int status;
	if (vm->qemu_pid > 0 && waitpid(vm->qemu_pid, &status, WNOHANG) == vm->qemu_pid) {
		vm->qemu_pid = 0;
		return hp_err__set(err, ECHILD, "QEMU exited during start-up (status 0x%x); see %s/qemu.log", status,
				   vm->rundir);
	}
	return 0;
}

int hp_qemu__wait_ready(struct hp_vm *vm, struct hp_err *err)
{
	if (hp_vm__own_guest(&vm->cfg))
		return hp_qemu__alive(vm, err);
	char log[PATH_MAX];
	hp_pathf(log, sizeof log, "%s/console.log", vm->rundir);
	for (int i = 0; i < READY_WAIT_S * 10; i++) {
		int rc = hp_qemu__alive(vm, err);
		if (rc)
			return rc;
		FILE *f = fopen(log, "r");
		if (f) {
			char line[512];
			int found = 0;
			while (!found && fgets(line, sizeof line, f))
				found = strstr(line, READY_MARKER) != NULL;
			fclose(f);
			if (found)
				return 0;
		}
		usleep(100000);
	}
	return hp_err__set(err, ETIMEDOUT, "the guest did not print %s within %d s (see %s)", READY_MARKER,
			   READY_WAIT_S, log);
}

int hp_qemu__wait_kernel(struct hp_vm *vm, struct hp_err *err)
{
	int timeout = vm->cfg.own.boot_timeout_s > 0 ? vm->cfg.own.boot_timeout_s : 300;
	uint64_t deadline = hp_now_ns() + (uint64_t)timeout * 1000000000ull;
	for (;;) {
		uint64_t regs[HP_NREGS];
		struct hp_err e;
		if (!hp_backend__read_regs(vm->tgt.gdb, regs, &e) && regs[HP_REG_RIP] >= KERNEL_HALF)
			return 0;
		int rc = hp_qemu__alive(vm, err);
		if (rc)
			return rc;
		if (hp_now_ns() > deadline)
			return hp_err__set(err, ETIMEDOUT, "no kernel ran within %d s (see %s/console.log)", timeout,
					   vm->rundir);
		struct hp_bev ev;
		int got = 0;
		if ((rc = hp_backend__resume(vm->tgt.gdb, err)))
			return rc;
		usleep(250000);
		if ((rc = hp_backend__stop(vm->tgt.gdb, &ev, &got, err)))
			return rc;
	}
}

/* ---- the in-QEMU tier ---- */

/* A path as QEMU (pid) sees it. */
static int qemu_path(char *dst, size_t cap, int pid, const char *p)
{
	return p[0] == '/' ? hp_pathf(dst, cap, "%s", p) : hp_pathf(dst, cap, "/proc/%d/cwd/%s", pid, p);
}

/* Our plugin among a QEMU's "-plugin" options: its ctl= (and ring=, else ctl.ring).
 * Relative paths are QEMU's: taken from its working directory. */
static int plugin_on_cmdline(int pid, char *ctl, char *ring, size_t cap)
{
	char path[64], *buf = malloc(CMDLINE_MAX);
	snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
	int fd = buf ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	ssize_t n = fd >= 0 ? read(fd, buf, CMDLINE_MAX - 1) : -1;
	if (fd >= 0)
		close(fd);
	int found = 0;
	if (n > 0)
		buf[n] = 0;
	for (ssize_t i = 0; n > 0 && i < n && !found; i += (ssize_t)strlen(buf + i) + 1) {
		if (strcmp(buf + i, "-plugin") || i + 8 >= n)
			continue;
		const char *opts = buf + i + 8; /* "file=SO,ctl=..." or "SO,ctl=..." */
		char so[PATH_MAX] = "", c[PATH_MAX] = "", r[PATH_MAX] = "";
		for (const char *p = opts; *p;) {
			char item[PATH_MAX];
			size_t k = 0;
			for (; *p && k + 1 < sizeof item; p++) {
				if (*p == ',' && p[1] == ',') /* an escaped comma */
					p++;
				else if (*p == ',')
					break;
				item[k++] = *p;
			}
			item[k] = 0;
			if (*p == ',')
				p++;
			if (!strncmp(item, "file=", 5))
				snprintf(so, sizeof so, "%s", item + 5);
			else if (!strncmp(item, "ctl=", 4))
				snprintf(c, sizeof c, "%s", item + 4);
			else if (!strncmp(item, "ring=", 5))
				snprintf(r, sizeof r, "%s", item + 5);
			else if (!so[0] && !strchr(item, '='))
				snprintf(so, sizeof so, "%s", item);
		}
		const char *base = strrchr(so, '/') ? strrchr(so, '/') + 1 : so;
		if (strncmp(base, "hprobe", 6) || !c[0])
			continue;
		if (!r[0])
			snprintf(r, sizeof r, "%.*s.ring", PATH_MAX - 6, c);
		found = !qemu_path(ctl, cap, pid, c) && !qemu_path(ring, cap, pid, r);
	}
	free(buf);
	return found;
}

void hp_qemu__connect_plugin(struct hp_vm *vm)
{
	struct hp_err err;
	int pid = 0;
	if (!vm->plugin_ring[0]) {
		/* an attached QEMU: a plugin its owner gave it, under TCG (or one we gave a QEMU
		 * we started before the agent restarted) */
		pid = vm->qmp ? hp_qmp__pid(vm->qmp) : -1;
		if (vm->tgt.kvm || pid <= 0 || !vm->cfg.plugin ||
		    !plugin_on_cmdline(pid, vm->plugin_ctl, vm->plugin_ring, sizeof vm->plugin_ring)) {
			vm->plugin_ring[0] = 0;
			return;
		}
		vm->plugin_ours = vm->cfg.launch; /* a guest we launched, recovered after a restart */
	}
	vm->tgt.plugin = hp_plugin_backend__new(vm->plugin_ctl, vm->plugin_ring, pid, &err);
	if (!vm->tgt.plugin)
		hp_warn("%s: the in-QEMU tier did not come up (%s): probes use the gdbstub", vm->cfg.name, err.msg);
	else if (!vm->plugin_ours)
		hp_info("%s: in-QEMU tier: the plugin on QEMU's command line (%s)", vm->cfg.name, vm->plugin_ctl);
}

void hp_vm__drop_plugin(struct hp_vm *vm)
{
	if (!vm->tgt.plugin)
		return;
	hp_backend__destroy(vm->tgt.plugin);
	vm->tgt.plugin = NULL;
	if (vm->plugin_ours) /* a plugin QEMU was started with by its owner keeps its ring */
		unlink(vm->plugin_ring);
}
