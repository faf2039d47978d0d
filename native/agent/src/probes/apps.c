#include "probes/apps.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/plugin_backend.h"
#include "base/errors.h"
#include "guest/kernel.h"
#include "probes/probe.h"
#include "base/util.h"
#include "vm/vm.h"
#include "guest/vmi.h"

/* Where the kernel keeps an executable's file name: task->mm->exe_file->f_path.dentry->d_name.name. */
struct exe_offsets {
	uint32_t mm_exe_file, file_dentry, dentry_name;
};

static int exe_offsets(const struct hp_kernel *k, struct exe_offsets *o, struct hp_err *err)
{
	uint32_t sz;
	if (!k->btf)
		return hp_err__set(err, ENOTSUP, "application probes need the kernel's BTF");
	int rc = hp_btf__member(k->btf, "mm_struct", "exe_file", &o->mm_exe_file, &sz, err);
	if (!rc)
		rc = hp_btf__member(k->btf, "file", "f_path.dentry", &o->file_dentry, &sz, err);
	if (!rc)
		rc = hp_btf__member(k->btf, "dentry", "d_name.name", &o->dentry_name, &sz, err);
	return rc;
}

static uint64_t rd64(struct hp_backend *b, uint64_t va, int *ok)
{
	uint64_t v = 0;
	if (b->ops->read_virt(b, va, &v, 8, NULL))
		*ok = 0;
	return v;
}

/* The executable's file name of a task with an mm ("" if unreadable). */
void hp_apps__task_exe(struct hp_vm *vm, const struct hp_task *t, char exe[16])
{
	struct exe_offsets o;
	int ok = 1;
	exe[0] = 0;
	if (!t->mm || exe_offsets(vm->kernel, &o, NULL))
		return;
	uint64_t file = rd64(vm->gdb, t->mm + o.mm_exe_file, &ok);
	uint64_t dentry = ok && file ? rd64(vm->gdb, file + o.file_dentry, &ok) : 0;
	uint64_t name = ok && dentry ? rd64(vm->gdb, dentry + o.dentry_name, &ok) : 0;
	char buf[16];
	if (!ok || !name || vm->gdb->ops->read_virt(vm->gdb, name, buf, 15, NULL))
		return;
	buf[15] = 0;
	memcpy(exe, buf, 16);
}

static int wants(const struct hp_probe *p, const struct hp_task *t, const char *exe)
{
	if (strcmp(exe, p->app->exe) != 0)
		return 0;
	if (p->o.pid >= 0 && t->tgid != p->o.pid && t->pid != p->o.pid)
		return 0;
	if (p->o.comm[0] && strncmp(t->comm, p->o.comm, HP_COMM_LEN) != 0)
		return 0;
	return 1;
}

static int use_hw(struct hp_vm *vm) { return !strcmp(vm->accel, "kvm"); }

static int armed_procs(const struct hp_app *a)
{
	int n = 0;
	for (int i = 0; i < a->nprocs; i++)
		n += a->procs[i].armed;
	return n;
}

/* A static executable's probe in the in-QEMU tier: one probe at the shared address,
 * whose identity check (pid, or the program's name) runs inside QEMU with no stop. */
static int arm_in_plugin(struct hp_vm *vm, struct hp_probe *p, struct hp_err *err)
{
	if (p->in_mech)
		return vm->plugin->ops->arm(vm->plugin, p->app->link_addr, p->id, err);
	struct hp_probe q = *p;
	q.addr = p->app->link_addr;
	if (q.o.pid < 0 && !q.o.comm[0])
		snprintf(q.o.comm, sizeof q.o.comm, "%s", p->app->exe);
	struct hp_plugin_task_offsets o;
	hp_plugin_offsets__from_kernel(vm->kernel, &o);
	int rc = vm->plugin->ops->arm_probe(vm->plugin, &q, &o, err);
	p->in_mech = rc == 0;
	return rc;
}

static int arm_proc(struct hp_vm *vm, struct hp_probe *p, struct hp_app_proc *pr, struct hp_err *err)
{
	if (pr->armed)
		return 0;
	int rc;
	if (p->mech && p->mech == vm->plugin) {
		rc = armed_procs(p->app) ? 0 : arm_in_plugin(vm, p, err);
	} else if (use_hw(vm)) {
		/* Under KVM a software breakpoint is an int3 written into the page this process
		 * sees, which may be shared (page cache, copy-on-write): a debug register is not. */
		if (!vm->gdb->ops->arm_hw)
			return hp_err__set(err, ENOTSUP, "no hardware breakpoints: user probes are refused under KVM");
		rc = vm->gdb->ops->arm_hw(vm->gdb, pr->addr, err);
	} else {
		rc = vm->gdb->ops->arm(vm->gdb, pr->addr, p->id, err);
	}
	if (!rc)
		pr->armed = 1;
	return rc;
}

static void disarm_proc(struct hp_vm *vm, struct hp_probe *p, struct hp_app_proc *pr)
{
	if (!pr->armed)
		return;
	pr->armed = 0;
	struct hp_err err;
	int rc = 0;
	if (p->mech && p->mech == vm->plugin) {
		if (!armed_procs(p->app))
			rc = vm->plugin->ops->disarm(vm->plugin, p->app->link_addr, p->id, &err);
	} else if (vm->gdb) {
		rc = use_hw(vm) ? vm->gdb->ops->disarm_hw(vm->gdb, pr->addr, &err)
				: vm->gdb->ops->disarm(vm->gdb, pr->addr, p->id, &err);
	}
	if (rc)
		hp_warn("%s: lifting probe %u in process %d: %s", vm->cfg.name, p->id, pr->tgid, err.msg);
}

static void set_state(struct hp_vm *vm, struct hp_probe *p, const char *why, int32_t pid)
{
	enum hp_probe_state st = !p->o.enabled ? HP_PSTATE_DISABLED
				 : p->app->nprocs ? HP_PSTATE_ARMED : HP_PSTATE_PENDING;
	if (st == p->state)
		return;
	p->state = st;
	hp_vm__event(vm, "PROBE", json_pack("{s:i, s:s, s:s, s:i}", "id", p->id, "state",
					   hp_probe__state_name(st), "change", why, "pid", pid));
}

/* A matching process appeared (exec, or found at add time). */
static void add_proc(struct hp_vm *vm, struct hp_probe *p, const struct hp_task *t)
{
	struct hp_app *a = p->app;
	if (a->nprocs == HP_APP_MAX_PROCS) {
		hp_warn("%s: probe %u follows %d processes already; ignoring pid %d", vm->cfg.name, p->id,
			HP_APP_MAX_PROCS, t->tgid);
		return;
	}
	struct hp_app_proc *pr = &a->procs[a->nprocs++];
	memset(pr, 0, sizeof *pr);
	pr->tgid = t->tgid;
	pr->task = t->addr;
	pr->base = a->pie ? t->start_code - a->text_vaddr : 0;
	pr->addr = pr->base + a->link_addr;
	struct hp_err err;
	/* while the probe is being created its mechanism is not chosen yet: it is armed
	 * as a whole right after (hp_apps__arm) */
	if (p->o.enabled && p->mech && arm_proc(vm, p, pr, &err))
		hp_warn("%s: arming probe %u in process %d: %s", vm->cfg.name, p->id, t->tgid, err.msg);
	set_state(vm, p, "process appeared", t->tgid);
}

static void drop_proc(struct hp_vm *vm, struct hp_probe *p, int32_t tgid, const char *why)
{
	struct hp_app *a = p->app;
	for (int i = 0; i < a->nprocs; i++) {
		if (a->procs[i].tgid != tgid)
			continue;
		disarm_proc(vm, p, &a->procs[i]);
		a->procs[i] = a->procs[--a->nprocs];
		set_state(vm, p, why, tgid);
		return;
	}
}

/* ---- the exec and exit hooks ---- */

static int count_user_probes(struct hp_vm *vm)
{
	int n = 0;
	for (struct hp_probe *p = vm->probes; p; p = p->next)
		n += p->user;
	return n;
}

static int install_hooks(struct hp_vm *vm, struct hp_err *err)
{
	if (vm->app_hooks[0])
		return 0;
	/* finalize_exec: the new image is mapped and named; do_exit: a task leaves */
	static const char *const specs[2] = { "kernel:finalize_exec", "kernel:do_exit" };
	for (int i = 0; i < 2; i++) {
		/* The exec hook reads the new image's memory and plants breakpoints: gdbstub.
		 * The exit hook needs only the task, which the in-QEMU tier captures without a
		 * stop: a forking server (httpd) exits a child per request. */
		struct hp_probe_opts o = { .pid = -1, .enabled = 1, .kind = i ? HP_PROBE_CAPTURE : HP_PROBE_COUNT,
					   .owner = HP_OWNER_INTERNAL, .need_stop = i == 0 };
		enum hp_eclass cls;
		vm->app_hooks[i] = hp_probe_create(vm, specs[i], &o, &cls, err);
		if (!vm->app_hooks[i]) {
			if (i)
				hp_probe_destroy(vm, vm->app_hooks[0]);
			vm->app_hooks[0] = NULL;
			return -EIO;
		}
	}
	return 0;
}

static void remove_hooks(struct hp_vm *vm)
{
	for (int i = 0; i < 2; i++) {
		if (vm->app_hooks[i])
			hp_probe_destroy(vm, vm->app_hooks[i]);
		vm->app_hooks[i] = NULL;
	}
}

static void on_exit_of(struct hp_vm *vm, int32_t pid, int32_t tgid)
{
	if (pid != tgid)
		return; /* a thread: the process lives on */
	for (struct hp_probe *p = vm->probes; p; p = p->next)
		if (p->user)
			drop_proc(vm, p, tgid, "process exited");
}

static int exit_job(struct hp_vm *vm, struct hp_job *job)
{
	int32_t tgid = (int32_t)(intptr_t)job->ud;
	on_exit_of(vm, tgid, tgid);
	return 0;
}

static int follows(struct hp_vm *vm, int32_t tgid)
{
	for (struct hp_probe *p = vm->probes; p; p = p->next)
		for (int i = 0; p->user && p->app && i < p->app->nprocs; i++)
			if (p->app->procs[i].tgid == tgid)
				return 1;
	return 0;
}

void hp_apps__on_hook_hit(struct hp_vm *vm, struct hp_probe *hook, const struct hp_hit *hit)
{
	if (hook != vm->app_hooks[1] || !(hit->flags & HP_HIT_TASK) || hit->pid != hit->tgid || !follows(vm, hit->tgid))
		return;
	/* captured in QEMU while the VM runs: lifting breakpoints needs it stopped */
	struct hp_job *job = hp_job__new(exit_job, 1, NULL);
	if (!job)
		return;
	job->internal = 1;
	job->ud = (void *)(intptr_t)hit->tgid;
	hp_vm__submit(vm, job);
}

void hp_apps__on_hook(struct hp_vm *vm, struct hp_probe *hook, const uint64_t *regs)
{
	struct hp_task cur, t;
	if (hp_vmi__current(vm->kernel, vm->gdb, regs, &cur, NULL))
		return;
	if (hook == vm->app_hooks[1]) {
		on_exit_of(vm, cur.pid, cur.tgid);
		return;
	}
	if (hp_vmi__read_task(vm->kernel, vm->gdb, cur.addr, &t, NULL))
		return;
	char exe[16];
	hp_apps__task_exe(vm, &t, exe);
	for (struct hp_probe *p = vm->probes; p; p = p->next) {
		if (!p->user)
			continue;
		drop_proc(vm, p, t.tgid, "process replaced its image");
		if (wants(p, &t, exe))
			add_proc(vm, p, &t);
	}
}

/* ---- resolution ---- */

static int on_boundary(const uint8_t *code, size_t len, uint64_t off)
{
	csh h;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return 0;
	cs_insn *in = cs_malloc(h);
	const uint8_t *p = code;
	size_t left = len;
	uint64_t a = 0;
	while (a < off && cs_disasm_iter(h, &p, &left, &a, in))
		;
	cs_free(in, 1);
	cs_close(&h);
	return a == off;
}

/* A path inside a lab guest ("/apps/hb") maps to the lab's host copy. */
void hp_apps__host_path(const struct hp_vm *vm, const char *bin, char *out, size_t cap)
{
	snprintf(out, cap, "%s", bin);
	if (access(out, R_OK) == 0 || !vm->guest_dir[0] || strncmp(bin, "/apps/", 6) != 0)
		return;
	if (hp_pathf(out, cap, "%s/apps/%s", vm->guest_dir, bin + 6))
		snprintf(out, cap, "%s", bin);
}

static int find_running(struct hp_vm *vm, struct hp_probe *p, int *ecls, struct hp_err *err)
{
	struct hp_task *tasks;
	int n = hp_vmi__tasks(vm->kernel, vm->gdb, &tasks, err);
	if (n < 0) {
		*ecls = EC_GUEST_ERROR;
		return n;
	}
	int found_pid = 0;
	char other[16] = "";
	for (int i = 0; i < n; i++) {
		if (tasks[i].kernel)
			continue;
		char exe[16];
		hp_apps__task_exe(vm, &tasks[i], exe);
		if (p->o.pid >= 0 && (tasks[i].tgid == p->o.pid || tasks[i].pid == p->o.pid)) {
			found_pid = 1;
			snprintf(other, sizeof other, "%s", exe);
		}
		if (wants(p, &tasks[i], exe))
			add_proc(vm, p, &tasks[i]);
	}
	free(tasks);
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

int hp_apps__resolve(struct hp_vm *vm, struct hp_probe *p, const char *spec, int *ecls, struct hp_err *err)
{
	*ecls = EC_INVALID_ARGUMENT;
	const char *bin = spec + 4, *colon = strrchr(bin, ':');
	char raw[PATH_MAX], path[PATH_MAX], func[128];
	if (!colon || colon == bin || (size_t)(colon - bin) >= sizeof raw || strlen(colon + 1) >= sizeof func || !colon[1])
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
	if (!vm->kernel || !hp_kernel__has_task_offsets(vm->kernel)) {
		*ecls = EC_NOT_SUPPORTED;
		return hp_err__set(err, ENOTSUP, "application probes need the kernel's symbols and BTF");
	}
	hp_apps__host_path(vm, raw, path, sizeof path);
	struct hp_symtab *st;
	int rc = hp_symtab__load_elf(path, &st, err);
	if (rc == -ENODATA)
		return hp_err__set(err, ENODATA, "%s has no symbols (stripped?): give an unstripped copy", path);
	if (rc)
		return rc;
	const struct hp_elf_info *info = hp_symtab__elf_info(st);
	const struct hp_sym *s = hp_symtab__find(st, func);
	struct hp_app *a = calloc(1, sizeof *a);
	if (!a) {
		rc = hp_err__set(err, ENOMEM, "out of memory");
	} else if (info->is_shared_lib) {
		rc = hp_err__set(err, ENOTSUP, "%s is a shared library: probing libraries is not supported, "
				 "probe the executable's own functions", path);
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
		long got = hp_elf__read_vaddr(path, s->addr, code, want, err);
		if (got < (long)(off + 1) || !on_boundary(code, (size_t)got, off)) {
			rc = got < 0 ? (int)got : hp_err__set(err, EINVAL, "%s+0x%llx is not on an instruction boundary",
							      func, (unsigned long long)off);
			*ecls = EC_BAD_ADDRESS;
		} else {
			snprintf(a->path, sizeof a->path, "%s", path);
			const char *base = strrchr(path, '/');
			snprintf(a->exe, sizeof a->exe, "%.15s", base ? base + 1 : path);
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
		}
	}
	hp_symtab__free(st);
	if (rc) {
		free(a);
		return rc;
	}
	if ((rc = find_running(vm, p, ecls, err)) || (rc = install_hooks(vm, err))) {
		hp_apps__free(vm, p);
		if (*ecls == EC_INVALID_ARGUMENT && rc == -EIO)
			*ecls = EC_GUEST_ERROR;
		return rc;
	}
	p->state = p->o.enabled ? (a->nprocs ? HP_PSTATE_ARMED : HP_PSTATE_PENDING) : HP_PSTATE_DISABLED;
	return 0;
}

void hp_apps__free(struct hp_vm *vm, struct hp_probe *p)
{
	if (!p->app)
		return;
	for (int i = 0; i < p->app->nprocs; i++)
		disarm_proc(vm, p, &p->app->procs[i]);
	if (p->in_mech && p->mech && p->mech->ops->forget)
		p->mech->ops->forget(p->mech, p->id);
	p->in_mech = 0;
	free(p->app);
	p->app = NULL;
	p->user = 0;
	if (count_user_probes(vm) == 0)
		remove_hooks(vm);
}

int hp_apps__arm(struct hp_vm *vm, struct hp_probe *p, struct hp_err *err)
{
	for (int i = 0; i < p->app->nprocs; i++) {
		int rc = arm_proc(vm, p, &p->app->procs[i], err);
		if (rc)
			return rc;
	}
	p->state = p->app->nprocs ? HP_PSTATE_ARMED : HP_PSTATE_PENDING;
	return 0;
}

int hp_apps__disarm(struct hp_vm *vm, struct hp_probe *p, struct hp_err *err)
{
	(void)err;
	for (int i = 0; i < p->app->nprocs; i++)
		disarm_proc(vm, p, &p->app->procs[i]);
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

void hp_apps__forget_processes(struct hp_vm *vm, struct hp_probe *p)
{
	while (p->app && p->app->nprocs)
		drop_proc(vm, p, p->app->procs[0].tgid, "guest rebooted");
}
