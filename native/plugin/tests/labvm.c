#include "labvm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend/plugin_backend.h"
#include "guest/kernel.h"
#include "hprobe/btf.h"
#include "hprobe/symtab.h"

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int lab__guest_dir(const char *lab, char *dst, size_t cap)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "%s build", lab);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	char line[PATH_MAX];
	dst[0] = 0;
	while (fgets(line, sizeof line, p)) {
		line[strcspn(line, "\n")] = 0;
		if (line[0])
			snprintf(dst, cap, "%s", line);
	}
	return pclose(p) == 0 && dst[0] ? 0 : -1;
}

/* The lab guest's kernel through the agent's own profile (guest/kernel.c): the guest
 * boots with nokaslr, so link addresses are runtime addresses. */
int lab__kernel(const char *guest, struct lab_kernel *k)
{
	char path[PATH_MAX];
	struct hp_err err;
	struct hp_btf *btf = NULL;
	struct hp_symtab *syms = NULL;
	struct hp_kernel *prof = NULL;
	memset(k, 0, sizeof *k);
	snprintf(path, sizeof path, "%s/vmlinux", guest);
	int rc = hp_btf__load_file(path, &btf, &err);
	if (!rc) {
		snprintf(path, sizeof path, "%s/kallsyms", guest);
		rc = hp_symtab__load_text(path, &syms, &err);
	}
	if (!rc)
		rc = hp_kernel__from_files(syms, btf, 0, &prof, &err);
	else
		hp_btf__free(btf);
	if (rc) {
		fprintf(stderr, "%s: %s\n", guest, err.msg);
		return -1;
	}
	if (!hp_kernel__has_task_offsets(prof) || hp_kernel__feature(prof, HP_KF_SYSCALL_ARGS)) {
		fprintf(stderr, "%s: the profile lacks task identity or syscall arguments\n", guest);
		hp_kernel__free(prof);
		return -1;
	}
	hp_kernel__task_offsets(prof, &k->off);
	k->sys_getpid = hp_kernel__addr(prof, "__x64_sys_getpid");
	k->sys_write = hp_kernel__addr(prof, "__x64_sys_write");
	snprintf(k->layout, sizeof k->layout, "%s", prof->current_layout);
	hp_kernel__free(prof);
	return k->sys_getpid && k->sys_write ? 0 : -1;
}

static void read_console(struct labvm *vm)
{
	int fd = open(vm->log, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	for (;;) {
		if (vm->outcap - vm->outlen < 65536) {
			size_t nc = vm->outcap ? vm->outcap * 2 : 1 << 20;
			char *n = realloc(vm->out, nc + 1);
			if (!n)
				break;
			vm->out = n;
			vm->outcap = nc;
		}
		ssize_t r = pread(fd, vm->out + vm->outlen, vm->outcap - vm->outlen, (off_t)vm->outlen);
		if (r <= 0)
			break;
		vm->outlen += (size_t)r;
	}
	if (vm->out)
		vm->out[vm->outlen] = 0;
	close(fd);
}

/* The log file has the console output; the socket must be read all the same, or
 * QEMU stops taking the guest's serial output when its buffer fills. */
static void drain_console(struct labvm *vm)
{
	char buf[4096];
	while (vm->con >= 0 && read(vm->con, buf, sizeof buf) > 0)
		;
}

void labvm__pump(struct labvm *vm, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	do {
		drain_console(vm);
		if (!vm->b) {
			usleep(10000);
			continue;
		}
		struct pollfd pfd = { .fd = hp_backend__event_fd(vm->b), .events = POLLIN };
		poll(&pfd, 1, 10);
		struct hp_bev ev;
		struct hp_err err;
		int rc;
		while ((rc = hp_backend__next_event(vm->b, &ev, &err)) == 1) {
			if (ev.type == HP_BEV_GONE)
				vm->gone = 1;
			if (vm->on_event)
				vm->on_event(vm->ctx, &ev);
		}
		if (rc < 0) {
			fprintf(stderr, "next_event: %s\n", err.msg);
			vm->gone = 1;
		}
	} while (now_ms() < end && !vm->gone);
}

void labvm__mark(struct labvm *vm)
{
	read_console(vm);
	vm->mark = vm->outlen;
}

int labvm__wait(struct labvm *vm, const char *needle, int timeout_ms, char *line, size_t cap)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		read_console(vm);
		const char *hit = vm->out ? strstr(vm->out + vm->mark, needle) : NULL;
		if (hit) {
			const char *a = hit, *z = strchr(hit, '\n');
			while (a > vm->out + vm->mark && a[-1] != '\n')
				a--;
			size_t n = z ? (size_t)(z - a) : strlen(a);
			if (line && cap) {
				snprintf(line, cap, "%.*s", (int)n, a);
				line[strcspn(line, "\r")] = 0;
			}
			return 0;
		}
		int status;
		if (vm->gone || waitpid(vm->qemu, &status, WNOHANG) == vm->qemu) {
			fprintf(stderr, "QEMU is gone while waiting for '%s'\n", needle);
			vm->qemu = 0;
			return -1;
		}
		if (now_ms() > end) {
			fprintf(stderr, "timed out waiting for '%s'\n", needle);
			return -1;
		}
		labvm__pump(vm, 20);
	}
}

int labvm__type(struct labvm *vm, const char *line)
{
	size_t n = strlen(line);
	if (write(vm->con, line, n) != (ssize_t)n || write(vm->con, "\n", 1) != 1)
		return -1;
	return 0;
}

/* QEMU's own messages, when a boot fails. */
static void show_qemu_log(const struct labvm *vm)
{
	char p[128], buf[4096];
	snprintf(p, sizeof p, "%s/qemu.log", vm->dir);
	FILE *f = fopen(p, "r");
	if (!f)
		return;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = 0;
	fclose(f);
	fprintf(stderr, "--- %s ---\n%s\n---\n", p, buf);
}

int labvm__boot(struct labvm *vm, const char *lab, const char *guest, const char *so, int smp, uint32_t ring_bytes)
{
	memset(vm, 0, sizeof *vm);
	vm->con = -1;
	snprintf(vm->guest, sizeof vm->guest, "%s", guest);
	snprintf(vm->dir, sizeof vm->dir, "/tmp/hp-tcg-XXXXXX");
	if (!mkdtemp(vm->dir))
		return -1;
	snprintf(vm->ring, sizeof vm->ring, "%s/ring", vm->dir);
	snprintf(vm->ctl, sizeof vm->ctl, "%s/ctl.sock", vm->dir);
	snprintf(vm->log, sizeof vm->log, "%s/console.log", vm->dir);
	struct hp_err err;
	char plugarg[3 * PATH_MAX + 32] = "";
	if (so && (hp_plugin_ring__create(vm->ring, (unsigned)smp, ring_bytes, &err) ||
		   hp_plugin__qemu_arg(plugarg, sizeof plugarg, so, vm->ring, vm->ctl, &err))) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	char smps[16];
	snprintf(smps, sizeof smps, "%d", smp);
	vm->qemu = fork();
	if (vm->qemu < 0)
		return -1;
	if (vm->qemu == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* a killed test leaves no QEMU behind */
		char qlog[96];
		snprintf(qlog, sizeof qlog, "%s/qemu.log", vm->dir);
		int fd = open(qlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		const char *argv[] = { lab,
				       "run",
				       "--dir",
				       vm->dir,
				       "--guest",
				       guest,
				       "--no-kaslr",
				       "--no-gdb",
				       "--accel",
				       "tcg",
				       "--smp",
				       smps,
				       so ? "--plugin" : NULL,
				       plugarg + 5 /* lab.sh adds "file=" */,
				       NULL };
		execv(lab, (char **)argv);
		_exit(127);
	}
	char sock[96];
	snprintf(sock, sizeof sock, "%s/console.sock", vm->dir);
	uint64_t end = now_ms() + 30000;
	while (vm->con < 0 && now_ms() < end) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (!connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
			vm->con = fd;
			fcntl(fd, F_SETFL, O_NONBLOCK);
		} else
			close(fd), usleep(50000);
	}
	if (vm->con < 0) {
		fprintf(stderr, "no console socket in %s\n", vm->dir);
		show_qemu_log(vm);
		return -1;
	}
	if (so) {
		vm->b = hp_plugin_backend__new(vm->ctl, vm->ring, 0, &err);
		if (!vm->b) {
			fprintf(stderr, "tcg-plugin backend: %s\n", err.msg);
			show_qemu_log(vm);
			return -1;
		}
	}
	if (labvm__wait(vm, "HPROBE-READY", 180000, NULL, 0)) {
		show_qemu_log(vm);
		return -1;
	}
	labvm__pump(vm, 1500); /* let the shell settle before typing */
	labvm__mark(vm);
	return 0;
}

void labvm__kill(struct labvm *vm)
{
	if (vm->b)
		hp_backend__destroy(vm->b);
	vm->b = NULL;
	if (vm->con >= 0)
		close(vm->con);
	vm->con = -1;
	if (vm->qemu > 0) {
		kill(vm->qemu, SIGTERM);
		for (int i = 0; i < 100 && waitpid(vm->qemu, NULL, WNOHANG) != vm->qemu; i++)
			usleep(50000);
		if (waitpid(vm->qemu, NULL, WNOHANG) == 0) {
			kill(vm->qemu, SIGKILL);
			waitpid(vm->qemu, NULL, 0);
		}
		vm->qemu = 0;
	}
	if (vm->dir[0]) {
		const char *names[] = { "ring", "ctl.sock", "console.log", "console.sock", "qmp.sock", "qemu.log" };
		char p[PATH_MAX + 32];
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
			snprintf(p, sizeof p, "%s/%s", vm->dir, names[i]);
			unlink(p);
		}
		rmdir(vm->dir);
		vm->dir[0] = 0;
	}
	free(vm->out);
	vm->out = NULL;
	vm->outlen = vm->outcap = vm->mark = 0;
}

int labvm__sysloop(struct labvm *vm, const char *args, long n, int *pid, double *rate)
{
	char cmd[256], needle[64], line[512];
	labvm__mark(vm);
	snprintf(cmd, sizeof cmd, "/apps/sysloop %s", args);
	snprintf(needle, sizeof needle, "getpid_calls=%ld ", n);
	if (labvm__type(vm, cmd) || labvm__wait(vm, needle, 600000, line, sizeof line))
		return -1;
	const char *r = strstr(line, "rate=");
	if (sscanf(line, "sysloop[%d]", pid) != 1 || !r || sscanf(r, "rate=%lf", rate) != 1)
		return -1;
	return 0;
}
