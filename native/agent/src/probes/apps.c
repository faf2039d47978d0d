#include "probes/apps.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "base/errors.h"
#include "base/sysroot.h"
#include "base/util.h"
#include "guest/kernel.h"
#include "guest/vmi.h"
#include "hprobe/dwarf.h"
#include "probes/probe.h"
#include "probes/target.h"

static uint64_t rd64(struct hp_backend *b, uint64_t va, int *ok)
{
	uint64_t v = 0;
	if (hp_backend__read_u64(b, va, &v, NULL))
		*ok = 0;
	return v;
}

/* The executable's file name of a task with an mm ("" if unreadable). */
void hp_apps__task_exe(struct hp_target *t, const struct hp_task *task, char exe[16])
{
	/* task->mm->exe_file->f_path.dentry->d_name.name */
	int ok = 1;
	exe[0] = 0;
	if (!task->mm || hp_kernel__feature(t->kernel, HP_KF_APPS))
		return;
	const struct hp_kernel_offsets *o = &t->kernel->off;
	uint64_t file = rd64(t->gdb, task->mm + o->mm_exe_file, &ok);
	uint64_t dentry = ok && file ? rd64(t->gdb, file + o->file_dentry, &ok) : 0;
	uint64_t name = ok && dentry ? rd64(t->gdb, dentry + o->dentry_name, &ok) : 0;
	char buf[16];
	if (!ok || !name || hp_backend__read_virt(t->gdb, name, buf, 15, NULL))
		return;
	buf[15] = 0;
	memcpy(exe, buf, 16);
}

static int wants(struct hp_target *t, const struct hp_probe *p, const struct hp_task *task, const char *exe)
{
	if (strcmp(exe, p->app->exe) != 0)
		return 0;
	if (p->o.pid >= 0 && task->tgid != p->o.pid && task->pid != p->o.pid)
		return 0;
	if (p->o.comm[0] && strncmp(task->comm, p->o.comm, HP_COMM_LEN) != 0)
		return 0;
	/* a program of the same name elsewhere is another program: where the guest says
	 * the whole path (mounts included), it must be the file's */
	char path[PATH_MAX];
	if (p->app->guest[0] && t->kernel->off.exe_paths == 2 &&
	    !hp_vmi__exe_path(t->kernel, t->gdb, task, path, sizeof path, NULL) && strcmp(path, p->app->guest))
		return 0;
	return 1;
}

static int armed_procs(const struct hp_app *a)
{
	int n = 0;
	for (int i = 0; i < a->nprocs; i++)
		n += a->procs[i].armed;
	return n;
}

/* In the in-QEMU tier a static executable's probe is one probe at the shared address,
 * whose identity check (pid, or the program's name) runs inside QEMU with no stop;
 * elsewhere each process has its own breakpoint (a debug register under KVM). */
static int arm_proc(struct hp_target *t, struct hp_probe *p, struct hp_app_proc *pr, struct hp_err *err)
{
	if (pr->armed)
		return 0;
	int rc;
	if (p->plant == HP_PLANT_INQEMU)
		rc = armed_procs(p->app) ? 0 : hp_probe__plant_at(t, p, p->app->link_addr, p->app->exe, err);
	else
		rc = hp_probe__plant_at(t, p, pr->addr, NULL, err);
	if (!rc)
		pr->armed = 1;
	return rc;
}

static void disarm_proc(struct hp_target *t, struct hp_probe *p, struct hp_app_proc *pr)
{
	if (!pr->armed)
		return;
	pr->armed = 0;
	struct hp_err err;
	int rc = 0;
	if (p->plant == HP_PLANT_INQEMU) {
		if (!armed_procs(p->app))
			rc = hp_probe__lift_at(p, p->app->link_addr, &err);
	} else if (t->gdb) {
		rc = hp_probe__lift_at(p, pr->addr, &err);
	}
	if (rc)
		hp_warn("%s: lifting probe %u in process %d: %s", t->name, p->id, pr->tgid, err.msg);
}

static void set_state(struct hp_target *t, struct hp_probe *p, const char *why, int32_t pid)
{
	enum hp_probe_state st = !p->o.enabled    ? HP_PSTATE_DISABLED
				 : p->app->nprocs ? HP_PSTATE_ARMED
						  : HP_PSTATE_PENDING;
	if (st == p->state)
		return;
	p->state = st;
	hp_target__event(t, "PROBE",
			 json_pack("{s:i, s:s, s:s, s:i}", "id", p->id, "state", hp_probe__state_name(st), "change",
				   why, "pid", pid));
}

/* A matching process appeared (exec, or found at add time); checked: its build id
 * was compared already. */
static void add_proc(struct hp_target *t, struct hp_probe *p, const struct hp_task *task, int checked)
{
	struct hp_app *a = p->app;
	struct hp_err err;
	if (!checked && hp_apps__same_build(t, task, a->path, a->host, a->build_id, &err)) {
		/* its code is not the code the probe was resolved in: an address there may
		 * be the middle of an instruction */
		hp_warn("%s: probe %u does not follow pid %d: %s", t->name, p->id, task->tgid, err.msg);
		hp_target__event(t, "PROBE",
				 json_pack("{s:i, s:s, s:s, s:i}", "id", p->id, "state", hp_probe__state_name(p->state),
					   "change", err.msg, "pid", task->tgid));
		return;
	}
	if (a->nprocs == HP_APP_MAX_PROCS) {
		hp_warn("%s: probe %u follows %d processes already; ignoring pid %d", t->name, p->id, HP_APP_MAX_PROCS,
			task->tgid);
		return;
	}
	struct hp_app_proc *pr = &a->procs[a->nprocs++];
	memset(pr, 0, sizeof *pr);
	pr->tgid = task->tgid;
	pr->task = task->addr;
	pr->base = a->pie ? task->start_code - a->text_vaddr : 0;
	pr->addr = pr->base + a->link_addr;
	/* while the probe is being created its mechanism is not chosen yet: it is armed
	 * as a whole right after (hp_apps__arm) */
	if (p->o.enabled && p->mech && arm_proc(t, p, pr, &err))
		hp_warn("%s: arming probe %u in process %d: %s", t->name, p->id, task->tgid, err.msg);
	set_state(t, p, "process appeared", task->tgid);
}

static void drop_proc(struct hp_target *t, struct hp_probe *p, int32_t tgid, const char *why)
{
	struct hp_app *a = p->app;
	for (int i = 0; i < a->nprocs; i++) {
		if (a->procs[i].tgid != tgid)
			continue;
		disarm_proc(t, p, &a->procs[i]);
		a->procs[i] = a->procs[--a->nprocs];
		set_state(t, p, why, tgid);
		return;
	}
}

/* ---- the exec and exit hooks ---- */

static void on_exit_of(struct hp_target *t, int32_t pid, int32_t tgid)
{
	if (pid != tgid)
		return; /* a thread: the process lives on */
	for (struct hp_probe *p = t->probes; p; p = p->next)
		if (p->user)
			drop_proc(t, p, tgid, "process exited");
}

static void exit_work(struct hp_target *t, void *ud)
{
	int32_t tgid = (int32_t)(intptr_t)ud;
	on_exit_of(t, tgid, tgid);
}

static int follows(struct hp_target *t, int32_t tgid)
{
	for (struct hp_probe *p = t->probes; p; p = p->next)
		for (int i = 0; p->user && p->app && i < p->app->nprocs; i++)
			if (p->app->procs[i].tgid == tgid)
				return 1;
	return 0;
}

void hp_apps__on_hook_hit(struct hp_target *t, struct hp_probe *hook, const struct hp_hit *hit)
{
	if (hook != t->app_hooks[1] || !(hit->flags & HP_HIT_TASK) || hit->pid != hit->tgid || !follows(t, hit->tgid))
		return;
	/* captured in QEMU while the VM runs: lifting breakpoints needs it stopped */
	if (t->ops->defer(t, exit_work, (void *)(intptr_t)hit->tgid, 1))
		hp_warn("%s: process %d exited: cannot queue lifting its probes", t->name, hit->tgid);
}

void hp_apps__on_hook(struct hp_target *t, struct hp_probe *hook, const uint64_t *regs)
{
	struct hp_task cur, task;
	if (hp_vmi__current(t->kernel, t->gdb, regs, &cur, NULL))
		return;
	if (hook == t->app_hooks[1]) {
		on_exit_of(t, cur.pid, cur.tgid);
		return;
	}
	if (hp_vmi__read_task(t->kernel, t->gdb, cur.addr, &task, NULL))
		return;
	char exe[16];
	hp_apps__task_exe(t, &task, exe);
	for (struct hp_probe *p = t->probes; p; p = p->next) {
		if (!p->user)
			continue;
		drop_proc(t, p, task.tgid, "process replaced its image");
		if (wants(t, p, &task, exe))
			add_proc(t, p, &task, 0);
	}
}

/* ---- resolution ---- */

int hp_apps__load(const struct hp_target *t, const char *guest_path, struct hp_symtab **st, int *fd, char *host,
		  size_t cap, enum hp_eclass *cls, struct hp_err *err)
{
	*st = NULL;
	*fd = -1;
	*cls = EC_INVALID_ARGUMENT;
	if (!t->sysroot[0])
		return hp_err__set(err, ENOENT,
				   "VM %s has no sysroot: give one with vm-attach/vm-set --sysroot DIR (a host "
				   "directory that mirrors the guest's files)",
				   t->name);
	int f = hp_sysroot__open(t->sysroot, guest_path, host, cap, err);
	if (f < 0) {
		*cls = f == -ENOSYS ? EC_NOT_SUPPORTED : EC_INVALID_ARGUMENT;
		return f;
	}
	const char *name = host[0] ? host : guest_path;
	int rc = hp_symtab__load_elf_fd(f, name, st, err);
	if (rc == -ENODATA)
		rc = hp_err__set(err, ENODATA,
				 "%s (%s) has no symbols (stripped?): put an unstripped copy in the sysroot",
				 guest_path, name);
	if (rc) {
		close(f);
		return rc;
	}
	*fd = f;
	return 0;
}

int hp_apps__same_build(struct hp_target *t, const struct hp_task *task, const char *guest_path, const char *host,
			const char *file_id, struct hp_err *err)
{
	char id[41];
	hp_vmi__exe_build_id(t->kernel, t->gdb, task, id);
	if (!id[0] || !file_id[0] || !strcmp(id, file_id))
		return 0; /* the guest shows none (or the file has none): nothing says they differ */
	return hp_err__set(err, EXDEV, "the guest runs a different %s than %s: build id %s (pid %d) vs %s", guest_path,
			   host, id, task->tgid, file_id);
}

/* The guest path of a file under the sysroot (host, symlinks resolved): what the
 * guest's kernel calls it. "" when host does not lie under the sysroot's own path. */
static void guest_path_of(const struct hp_target *t, const char *host, char *out, size_t cap)
{
	char root[PATH_MAX];
	out[0] = 0;
	if (!realpath(t->sysroot, root))
		return;
	size_t n = strcmp(root, "/") ? strlen(root) : 0;
	if (!strncmp(host, root, n) && host[n] == '/' && strlen(host + n) < cap)
		memcpy(out, host + n, strlen(host + n) + 1);
}

static int find_running(struct hp_target *t, struct hp_probe *p, enum hp_eclass *ecls, struct hp_err *err)
{
	struct hp_task *tasks;
	int n = hp_vmi__tasks(t->kernel, t->gdb, &tasks, err);
	if (n < 0) {
		*ecls = EC_GUEST_ERROR;
		return n;
	}
	int found_pid = 0, rc = 0;
	char other[16] = "";
	for (int i = 0; i < n; i++) {
		if (tasks[i].kernel)
			continue;
		char exe[16];
		hp_apps__task_exe(t, &tasks[i], exe);
		if (p->o.pid >= 0 && (tasks[i].tgid == p->o.pid || tasks[i].pid == p->o.pid)) {
			found_pid = 1;
			snprintf(other, sizeof other, "%s", exe);
		}
		if (!wants(t, p, &tasks[i], exe))
			continue;
		/* a process of the program that is not the file resolved: refused at once */
		if ((rc = hp_apps__same_build(t, &tasks[i], p->app->path, p->app->host, p->app->build_id, err)))
			break;
		add_proc(t, p, &tasks[i], 1);
	}
	free(tasks);
	if (rc) {
		*ecls = EC_INVALID_ARGUMENT;
		return rc;
	}
	if (p->o.pid >= 0 && !found_pid) {
		*ecls = EC_INVALID_ARGUMENT;
		return hp_err__set(err, ESRCH, "no process with pid %d in the guest", p->o.pid);
	}
	if (p->o.pid >= 0 && strcmp(other, p->app->exe)) {
		*ecls = EC_INVALID_ARGUMENT;
		return hp_err__set(err, EINVAL, "pid %d runs '%s', not '%s'", p->o.pid, other, p->app->exe);
	}
	return 0;
}

/* The function's parameters (a probe at its entry) or its return type (a return probe)
 * from the binary's DWARF, when it was built with -g: hits then read seq=42, as a kernel
 * function's do through BTF. Without DWARF the arguments stay positional. */
static void dwarf_types(struct hp_probe *p, int fd, const char *func)
{
	struct hp_err e;
	if (p->ret) {
		p->has_ret_type = !hp_dwarf__func_ret(fd, func, &p->ret_type, &e);
		return;
	}
	if (p->func_off)
		return;
	int n = hp_dwarf__func_proto(fd, func, p->params, HP_MAX_ARGS, &e);
	if (n < 0) {
		hp_debug("no parameters for %s: %s", func, e.msg);
		return;
	}
	p->nparams = n < HP_MAX_ARGS ? n : HP_MAX_ARGS;
	snprintf(p->params_from, sizeof p->params_from, "dwarf");
}

int hp_apps__resolve(struct hp_target *t, struct hp_probe *p, const char *spec, enum hp_eclass *ecls,
		     struct hp_err *err)
{
	*ecls = EC_INVALID_ARGUMENT;
	const char *bin = spec + 4, *colon = strrchr(bin, ':');
	char raw[PATH_MAX], path[PATH_MAX], func[128];
	if (!colon || colon == bin || (size_t)(colon - bin) >= sizeof raw || strlen(colon + 1) >= sizeof func ||
	    !colon[1])
		return hp_err__set(err, EINVAL, "expected app:BINARY:FUNC[+OFF], got '%s'", spec);
	snprintf(raw, sizeof raw, "%.*s", (int)(colon - bin), bin);
	snprintf(func, sizeof func, "%s", colon + 1);
	uint64_t off = 0;
	char *plus = strchr(func, '+');
	if (plus) {
		char *end;
		*plus = 0;
		off = strtoull(plus + 1, &end, 0);
		if (*end || end == plus + 1)
			return hp_err__set(err, EINVAL, "bad offset in '%s'", spec);
	}
	int rc = hp_kernel__need(t->kernel, HP_KF_APPS, "an application probe", err);
	if (rc) {
		*ecls = EC_NOT_SUPPORTED;
		return rc;
	}
	struct hp_symtab *st;
	int fd;
	if ((rc = hp_apps__load(t, raw, &st, &fd, path, sizeof path, ecls, err)))
		return rc;
	const struct hp_elf_info *info = hp_symtab__elf_info(st);
	const struct hp_sym *s = hp_symtab__find(st, func);
	struct hp_app *a = calloc(1, sizeof *a);
	if (!a) {
		rc = hp_err__set(err, ENOMEM, "out of memory");
	} else if (info->is_shared_lib) {
		rc = hp_err__set(err, ENOTSUP,
				 "%s is a shared library: probing libraries is not supported, "
				 "probe the executable's own functions",
				 path);
		*ecls = EC_NOT_SUPPORTED;
	} else if (!s || (s->type != 'T' && s->type != 't')) {
		const struct hp_sym *sug[3];
		size_t ns = hp_symtab__suggest(st, func, sug, 3);
		rc = hp_err__set(err, ENOENT, "%s has no function '%s'%s%s", path, func, ns ? "; did you mean " : "",
				 ns ? sug[0]->name : "");
		*ecls = EC_UNKNOWN_SYMBOL;
	} else if (s->size && off >= s->size) {
		rc = hp_err__set(err, EINVAL, "offset 0x%llx is past the end of %s", (unsigned long long)off, func);
		*ecls = EC_BAD_ADDRESS;
	}
	if (!rc) {
		uint8_t code[4096];
		size_t want = off + 16 <= sizeof code ? off + 16 : sizeof code;
		long got = hp_elf__read_vaddr_fd(fd, path, s->addr, code, want, err);
		if (got < (long)(off + 1) || !hp_probe__on_boundary(code, (size_t)got, off)) {
			rc = got < 0 ? (int)got
				     : hp_err__set(err, EINVAL, "%s+0x%llx is not on an instruction boundary", func,
						   (unsigned long long)off);
			*ecls = EC_BAD_ADDRESS;
		} else {
			snprintf(a->path, sizeof a->path, "%s", raw);
			snprintf(a->host, sizeof a->host, "%s", path);
			guest_path_of(t, path, a->guest, sizeof a->guest);
			snprintf(a->build_id, sizeof a->build_id, "%s", info->build_id);
			/* the kernel names a process's program by the file's own name: a symlink
			 * the spec went through is not what the guest shows */
			snprintf(a->exe, sizeof a->exe, "%.15s", hp_sysroot__base(path));
			a->pie = info->is_pie;
			a->link_addr = s->addr + off;
			a->text_vaddr = info->text_vaddr;
			memcpy(a->code, code + off, (size_t)got - off < 16 ? (size_t)got - off : 16);
			p->resume = hp_probe__classify(a->code, sizeof a->code, &p->insn_len, &p->call_rel);
			snprintf(p->func, sizeof p->func, "%s", func);
			p->func_off = off;
			p->addr = a->pie ? 0 : a->link_addr;
			p->user = 1;
			p->app = a;
			dwarf_types(p, fd, func);
		}
	}
	hp_symtab__free(st);
	close(fd);
	if (rc) {
		free(a);
		return rc;
	}
	if ((rc = find_running(t, p, ecls, err))) {
		hp_apps__free(t, p);
		return rc;
	}
	p->state = p->o.enabled ? (a->nprocs ? HP_PSTATE_ARMED : HP_PSTATE_PENDING) : HP_PSTATE_DISABLED;
	return 0;
}

void hp_apps__free(struct hp_target *t, struct hp_probe *p)
{
	if (!p->app)
		return;
	for (int i = 0; i < p->app->nprocs; i++)
		disarm_proc(t, p, &p->app->procs[i]);
	if (p->in_mech)
		hp_backend__forget(p->mech, p->id);
	p->in_mech = 0;
	free(p->app);
	p->app = NULL;
}

int hp_apps__arm(struct hp_target *t, struct hp_probe *p, struct hp_err *err)
{
	for (int i = 0; i < p->app->nprocs; i++) {
		int rc = arm_proc(t, p, &p->app->procs[i], err);
		if (rc)
			return rc;
	}
	p->state = p->app->nprocs ? HP_PSTATE_ARMED : HP_PSTATE_PENDING;
	return 0;
}

int hp_apps__disarm(struct hp_target *t, struct hp_probe *p, struct hp_err *err)
{
	(void)err;
	for (int i = 0; i < p->app->nprocs; i++)
		disarm_proc(t, p, &p->app->procs[i]);
	p->state = HP_PSTATE_DISABLED;
	return 0;
}

int hp_apps__owns(const struct hp_probe *p, uint64_t addr, const struct hp_task *t)
{
	for (int i = 0; i < p->app->nprocs; i++)
		if (p->app->procs[i].tgid == t->tgid && p->app->procs[i].addr == addr && p->app->procs[i].armed)
			return 1;
	return 0;
}

int hp_apps__at(const struct hp_probe *p, uint64_t addr)
{
	for (int i = 0; i < p->app->nprocs; i++)
		if (p->app->procs[i].addr == addr && p->app->procs[i].armed)
			return 1;
	return 0;
}

void hp_apps__forget_processes(struct hp_target *t, struct hp_probe *p)
{
	while (p->app && p->app->nprocs)
		drop_proc(t, p, p->app->procs[0].tgid, "guest rebooted");
}
