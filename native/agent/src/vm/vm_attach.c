/* Bringing a VM under monitoring: booting a lab guest or attaching to a running QEMU,
 * connecting its gdbstub, building the kernel profile, opening the journal. And the
 * reverse. All of it runs on the VM's worker thread. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/plugin_backend.h"
#include "backend/qmp.h"
#include "backend/rsp.h"
#include "base/text.h"
#include "base/util.h"
#include "detectors/detector.h"
#include "guest/kernel.h"
#include "guest/recover.h"
#include "probes/agg.h"
#include "probes/apps.h"
#include "probes/engine.h"
#include "probes/probe.h"
#include "probes/retprobe.h"
#include "vm/guard.h"
#include "vm/qemu.h"
#include "vm/session.h"
#include "vm/vm.h"

#define QMP_WAIT_MS 60000
#define PROFILE_TRIES 40 /* an own guest: its kernel may take a moment to set up */

/* The directory of QEMU's own monitor socket (libvirt's "charmonitor"). */
static int monitor_dir(struct hp_vm *vm, char *dir, size_t cap)
{
	json_t *chars = NULL, *c;
	size_t i;
	int rc = -ENOENT;
	if (hp_qmp__execute(vm->qmp, "query-chardev", NULL, &chars, NULL))
		return rc;
	json_array_foreach(chars, i, c)
	{
		const char *label = json_string_value(json_object_get(c, "label"));
		const char *fn = json_string_value(json_object_get(c, "filename"));
		if (!label || !fn || strcmp(label, "charmonitor") || strncmp(fn, "unix:", 5))
			continue;
		fn += 5;
		const char *slash = strrchr(fn, '/');
		size_t len = slash ? (size_t)(slash - fn) : 0;
		if (len && len < cap && !memchr(fn, ',', len)) {
			memcpy(dir, fn, len);
			dir[len] = 0;
			rc = 0;
		}
	}
	json_decref(chars);
	return rc;
}

/* An attached QEMU may have no gdbstub: give it one on a Unix socket, no restart. */
static int ensure_gdbstub(struct hp_vm *vm, char *gdb_path, size_t cap, int *enabled, struct hp_err *err)
{
	json_t *chars = NULL;
	*enabled = 0;
	if (!hp_qmp__execute(vm->qmp, "query-chardev", NULL, &chars, NULL)) {
		size_t i;
		json_t *c;
		json_array_foreach(chars, i, c)
		{
			const char *label = json_string_value(json_object_get(c, "label"));
			const char *fn = json_string_value(json_object_get(c, "filename"));
			/* "disconnected:unix:PATH,server=on" while no debugger is connected */
			if (fn && !strncmp(fn, "disconnected:", 13))
				fn += 13;
			if (label && fn && !strncmp(label, "gdb", 3) && !strncmp(fn, "unix:", 5)) {
				snprintf(gdb_path, cap, "%.*s", (int)strcspn(fn + 5, ","), fn + 5);
				json_decref(chars);
				return 0;
			}
		}
		json_decref(chars);
	}
	/* QEMU creates the socket: a libvirt domain's QEMU runs as libvirt's user, maybe
	 * confined, and may write beside its monitor socket (its private directory) */
	char dir[PATH_MAX];
	memcpy(dir, vm->rundir, sizeof dir);
	if (vm->cfg.libvirt_domain[0] && monitor_dir(vm, dir, sizeof dir))
		hp_warn("%s: the domain's private directory is unknown: its gdbstub goes in %s", vm->cfg.name, dir);
	if (hp_pathf(gdb_path, cap, "%s/hprobe-gdb.sock", dir) || strlen(gdb_path) >= 108)
		return hp_err__set(err, ENAMETOOLONG, "gdbstub socket path too long: %s/hprobe-gdb.sock", dir);
	unlink(gdb_path);
	char cmd[PATH_MAX + 64], *out = NULL;
	snprintf(cmd, sizeof cmd, "gdbserver unix:%s,server=on,wait=off", gdb_path);
	int rc = hp_qmp__hmp(vm->qmp, cmd, &out, err);
	if (rc)
		return rc;
	/* HMP reports failure only as text: the socket appearing is the real answer */
	struct stat st;
	for (int i = 0; i < 50 && stat(gdb_path, &st); i++)
		usleep(20000);
	if (stat(gdb_path, &st)) {
		rc = hp_err__set(err, EIO, "QEMU did not start a gdbstub: %s", out ? out : "");
		free(out);
		return rc;
	}
	free(out);
	*enabled = 1;
	return 0;
}

static void query_vm(struct hp_vm *vm)
{
	json_t *r = NULL;
	pthread_mutex_lock(&vm->lock);
	hp_text__copy(vm->qemu_version, sizeof vm->qemu_version, hp_qmp__version(vm->qmp));
	pthread_mutex_unlock(&vm->lock);
	int kvm = 0, ncpu = 0;
	if (!hp_qmp__execute(vm->qmp, "query-kvm", NULL, &r, NULL)) {
		kvm = json_is_true(json_object_get(r, "enabled"));
		json_decref(r);
	}
	if (!hp_qmp__execute(vm->qmp, "query-cpus-fast", NULL, &r, NULL)) {
		ncpu = (int)json_array_size(r);
		json_decref(r);
	}
	pthread_mutex_lock(&vm->lock);
	snprintf(vm->accel, sizeof vm->accel, "%s", kvm ? "kvm" : "tcg");
	if (ncpu)
		vm->smp = ncpu;
	vm->tgt.kvm = kvm;
	vm->tgt.smp = vm->smp;
	pthread_mutex_unlock(&vm->lock);
}

/* Turns off the gdbstub we started. */
static void gdbstub_off(struct hp_vm *vm)
{
	char *out = NULL;
	struct hp_err e;
	if (hp_qmp__hmp(vm->qmp, "gdbserver none", &out, &e))
		hp_warn("%s: the gdbstub we started stays open: %s", vm->cfg.name, e.msg);
	free(out);
}

/* 1 running, 0 not, -1 unknown. */
static int qmp_running(struct hp_vm *vm)
{
	json_t *r = NULL;
	if (!vm->qmp || hp_qmp__execute(vm->qmp, "query-status", NULL, &r, NULL))
		return -1;
	int running = json_is_true(json_object_get(r, "running"));
	json_decref(r);
	return running;
}

/* A failed attach: the guest is left as it was found: no breakpoint of ours, no
 * gdbstub we started, running if it was running, paused if it was paused (the
 * gdbstub's detach resumes it). */
static void leave_as_found(struct hp_vm *vm, int was_running)
{
	struct hp_err e;
	hp_vm__drop_plugin(vm);
	if (vm->tgt.gdb) {
		/* the gdbstub lifts its breakpoints and lets the VM go at detach */
		if (hp_backend__detach(vm->tgt.gdb, &e))
			hp_warn("%s: detach after a failed attach: %s", vm->cfg.name, e.msg);
		hp_vm__unwatch_gdb(vm);
		hp_backend__destroy(vm->tgt.gdb);
		vm->tgt.gdb = NULL;
	}
	if (vm->qmp && vm->gdb_enabled_by_us)
		gdbstub_off(vm);
	vm->gdb_enabled_by_us = 0;
	int now = qmp_running(vm);
	if (was_running == 1 && now == 0 && hp_qmp__execute(vm->qmp, "cont", NULL, NULL, &e))
		hp_warn("%s: the guest stays stopped after a failed attach: %s", vm->cfg.name, e.msg);
	else if (was_running == 0 && now == 1 && hp_qmp__execute(vm->qmp, "stop", NULL, NULL, &e))
		hp_warn("%s: the guest was paused before the attach and runs now: %s", vm->cfg.name, e.msg);
}

static int load_profile(struct hp_vm *vm, const char *symbols, const char *vmlinux, struct hp_err *err)
{
	struct hp_symtab *syms = NULL;
	struct hp_btf *btf = NULL;
	char source[64] = "file";
	int rc;
	if (symbols[0] && (rc = hp_symtab__load_text(symbols, &syms, err)))
		return rc;
	if (vmlinux[0] && (rc = hp_btf__load_file(vmlinux, &btf, err))) {
		hp_symtab__free(syms);
		return rc;
	}
	if (!syms && (rc = hp_recover__profile(vm->tgt.gdb, vm->host->paths.state_dir, vm->cfg.name, &syms, &btf,
					       source, sizeof source, err))) {
		hp_btf__free(btf);
		return rc;
	}
	rc = hp_kernel__new(syms, btf, vm->tgt.gdb, &vm->tgt.kernel, err);
	if (!rc && vmlinux[0])
		rc = hp_kernel__check_image(vm->tgt.kernel, vmlinux, err);
	if (rc) {
		hp_kernel__free(vm->tgt.kernel);
		vm->tgt.kernel = NULL;
		return rc;
	}
	snprintf(vm->tgt.kernel->symbols_source, sizeof vm->tgt.kernel->symbols_source, "%s", source);
	json_t *profile = hp_kernel__json(vm->tgt.kernel);
	pthread_mutex_lock(&vm->lock);
	json_decref(vm->profile);
	vm->profile = profile;
	vm->slide = vm->tgt.kernel->slide;
	hp_text__copy(vm->kernel_release, sizeof vm->kernel_release, vm->tgt.kernel->release);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

static int open_journal(struct hp_vm *vm, struct hp_err *err)
{
	struct hp_journal_meta meta;
	memset(&meta, 0, sizeof meta);
	snprintf(meta.session, sizeof meta.session, "%s", strrchr(vm->session_dir, '/') + 1);
	snprintf(meta.vm_name, sizeof meta.vm_name, "%s", vm->cfg.name);
	snprintf(meta.kernel, sizeof meta.kernel, "%s", vm->kernel_release);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	meta.created_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	meta.mono_base_ns = hp_now_ns();
	/* append: a recovered session continues its journal after the last whole batch */
	int rc = hp_journal__create(vm->journal_path, &meta, 1, &vm->journal, err);
	if (!rc) {
		uint64_t next = hp_journal__next_seq(vm->journal);
		pthread_mutex_lock(&vm->lock);
		vm->next_seq = vm->published_seq = next;
		pthread_mutex_unlock(&vm->lock);
	}
	return rc;
}

int hp_vm__attach_job(struct hp_vm *vm, struct hp_job *job)
{
	struct hp_err *err = &job->err;
	char guest[PATH_MAX] = "", qmp_path[PATH_MAX], gdb_path[PATH_MAX], symbols[PATH_MAX], vmlinux[PATH_MAX];
	int rc, enabled_gdb = 0, was_running = -1;
	job->ecls = EC_GUEST_ERROR;
	/* a recovered session keeps its directories, journal and sockets */
	if (!vm->restore && (rc = hp_session__create(vm, err)))
		goto fail;
	snprintf(symbols, sizeof symbols, "%s", vm->cfg.symbols);
	snprintf(vmlinux, sizeof vmlinux, "%s", vm->cfg.vmlinux);
	if (vm->cfg.launch && !vm->restore) {
		if ((rc = hp_qemu__start(vm, guest, sizeof guest, err)))
			goto fail;
		memcpy(vm->guest_dir, guest, sizeof vm->guest_dir);
		hp_vm__set_sysroot(vm, vm->cfg.sysroot[0] || !guest[0] ? vm->cfg.sysroot : guest);
		hp_qemu__lab_files(vm, symbols, vmlinux, sizeof symbols);
		hp_pathf(qmp_path, sizeof qmp_path, "%s/qmp.sock", vm->rundir);
		if ((rc = hp_qmp__connect(qmp_path, QMP_WAIT_MS, &vm->qmp, err)))
			goto fail;
		if ((rc = hp_qemu__wait_ready(vm, err)))
			goto fail;
	} else {
		hp_qemu__lab_files(vm, symbols, vmlinux, sizeof symbols); /* a lab guest launched before a restart */
		hp_vm__set_sysroot(vm, vm->cfg.sysroot); /* as given, or as the recovered session had it */
		snprintf(qmp_path, sizeof qmp_path, "%s", vm->cfg.qmp);
		if (vm->cfg.libvirt_domain[0])
			rc = hp_qmp__connect_libvirt(vm->cfg.libvirt_uri, vm->cfg.libvirt_domain, 0, &vm->qmp, err);
		else
			rc = hp_qmp__connect(qmp_path, 2000, &vm->qmp, err);
		if (rc) {
			job->ecls = rc == -ECONNREFUSED ? EC_IO_ERROR : EC_INVALID_ARGUMENT;
			goto fail;
		}
	}
	json_t *source = vm->cfg.launch ? json_pack("{s:s}", "kind", hp_vm__own_guest(&vm->cfg) ? "own" : "lab")
					: hp_qmp__source(vm->qmp);
	int pid = hp_qmp__pid(vm->qmp);
	if (pid > 0)
		json_object_set_new(source, "pid", json_integer(pid));
	pthread_mutex_lock(&vm->lock);
	json_decref(vm->source);
	vm->source = source;
	pthread_mutex_unlock(&vm->lock);
	query_vm(vm);
	hp_qemu__connect_plugin(vm);
	was_running = qmp_running(vm);
	if ((rc = ensure_gdbstub(vm, gdb_path, sizeof gdb_path, &enabled_gdb, err)))
		goto fail;
	vm->gdb_enabled_by_us = enabled_gdb;
	struct hp_rsp *rsp;
	struct hp_rsp_stop stop;
	if ((rc = hp_rsp__connect(gdb_path, 5000, &rsp, err)))
		goto fail;
	if ((rc = hp_rsp__handshake(rsp, &stop, err))) {
		hp_rsp__free(rsp);
		goto fail;
	}
	vm->tgt.gdb = hp_gdb_backend__new(rsp, stop.thread);
	if (!vm->tgt.gdb) {
		hp_rsp__free(rsp);
		rc = hp_err__set(err, ENOMEM, "out of memory");
		goto fail;
	}
	/* from here on, every way out gives the watch back (hp_vm__unwatch_gdb) */
	memcpy(vm->gdb_path, gdb_path, sizeof vm->gdb_path);
	hp_guard__watch(vm->host, gdb_path, enabled_gdb ? vm->source : NULL);
	/* the VM is stopped from here until the end of this job */
	memcpy(vm->sym_path, symbols, sizeof vm->sym_path);
	memcpy(vm->vmlinux_path, vmlinux, sizeof vm->vmlinux_path);
	if (hp_vm__own_guest(&vm->cfg) && !vm->restore && (rc = hp_qemu__wait_kernel(vm, err)))
		goto fail;
	rc = load_profile(vm, symbols, vmlinux, err);
	for (int i = 0; rc && hp_vm__own_guest(&vm->cfg) && !vm->restore && i < PROFILE_TRIES; i++) {
		struct hp_bev ev;
		int got = 0;
		hp_debug("%s: kernel profile not yet: %s", vm->cfg.name, err->msg);
		if ((rc = hp_backend__resume(vm->tgt.gdb, err)))
			break;
		usleep(250000);
		if ((rc = hp_backend__stop(vm->tgt.gdb, &ev, &got, err)))
			break;
		rc = load_profile(vm, symbols, vmlinux, err);
	}
	if (rc || (rc = open_journal(vm, err)))
		goto fail;
	if (vm->restore)
		hp_session__restore_probes(vm);
	hp_session__save(vm);
	/* a guest paused when found stays paused (vm-resume runs it) */
	vm->user_paused = was_running == 0;
	hp_vm__set_state(vm, vm->user_paused ? HP_VM_PAUSED : HP_VM_RUNNING,
			 vm->user_paused ? "paused when attached" : NULL);
	hp_info("%s: attached (%s, QEMU %s, %s, slide 0x%llx)", vm->cfg.name, vm->accel, vm->qemu_version,
		vm->kernel_release, (long long)vm->slide);
	job->result = hp_vm__summary(vm);
	json_object_set_new(job->result, "symbols_source", json_string(vm->tgt.kernel->symbols_source));
	struct hp_err e2;
	if (!vm->user_paused && hp_backend__resume(vm->tgt.gdb, &e2))
		hp_warn("%s: resume after attach: %s", vm->cfg.name, e2.msg);
	return 0;
fail:
	hp_warn("%s: %s", vm->cfg.name, err->msg);
	if (vm->cfg.launch && vm->qemu_pid > 0) {
		/* a half-started lab guest is of no use to anyone */
		kill(vm->qemu_pid, SIGKILL);
		waitpid(vm->qemu_pid, NULL, 0);
		vm->qemu_pid = 0;
	} else {
		vm->gdb_enabled_by_us = enabled_gdb;
		leave_as_found(vm, was_running);
	}
	if (!vm->restore)
		hp_session__remove(vm);
	job->final = 1;
	return hp_job__fail(job, job->ecls, rc);
}

void hp_vm__release(struct hp_vm *vm)
{
	struct hp_err err;
	hp_detectors__free(&vm->tgt);
	hp_ret__reset(&vm->tgt, 1);
	for (struct hp_probe *p = vm->tgt.probes, *n; p; p = n) {
		n = p->next;
		free(p->app); /* the breakpoints went with the detach */
		hp_agg__free(p->agg);
		free(p);
	}
	vm->tgt.probes = NULL;
	json_decref(vm->tgt.removed);
	vm->tgt.removed = NULL;
	vm->tgt.app_hooks[0] = vm->tgt.app_hooks[1] = NULL;
	hp_vm__unwatch_gdb(vm); /* a failed attach or a dead launch end here too */
	hp_backend__destroy(vm->tgt.gdb);
	vm->tgt.gdb = NULL;
	hp_vm__drop_plugin(vm);
	hp_kernel__free(vm->tgt.kernel);
	vm->tgt.kernel = NULL;
	hp_ipnames__clear(&vm->ipnames);
	if (vm->journal && hp_journal__close(vm->journal, &err))
		hp_error("%s: closing the journal: %s", vm->cfg.name, err.msg);
	vm->journal = NULL;
	hp_qmp__free(vm->qmp);
	vm->qmp = NULL;
}

/* Leaves the guest running at full speed with nothing of ours in it. */
int hp_vm__detach_job(struct hp_vm *vm, struct hp_job *job)
{
	job->final = 1;
	if (vm->tgt.plugin) {
		struct hp_err e;
		/* one request removes every in-QEMU probe; the probes that pointed at the
		 * plugin are freed with the VM without being touched again */
		if (hp_backend__detach(vm->tgt.plugin, &e))
			hp_warn("%s: plugin detach: %s", vm->cfg.name, e.msg);
		hp_vm__drop_plugin(vm);
	}
	if (vm->tgt.gdb) {
		struct hp_err err;
		/* the gdbstub lifts its own breakpoints at detach; a paused guest stays paused */
		vm->tgt.gdb->leave_stopped = vm->user_paused;
		if (hp_backend__detach(vm->tgt.gdb, &err))
			hp_warn("%s: detach: %s", vm->cfg.name, err.msg);
		hp_vm__unwatch_gdb(vm);
		hp_backend__destroy(vm->tgt.gdb);
		vm->tgt.gdb = NULL;
	}
	if (vm->qmp && vm->gdb_enabled_by_us)
		gdbstub_off(vm);
	/* stopped by the gdbstub reads "debug" in QEMU: make it the "paused" a user set */
	if (vm->qmp && vm->user_paused)
		hp_qmp__execute(vm->qmp, "stop", NULL, NULL, NULL);
	hp_vm__flush(vm, 1);
	hp_session__remove(vm);
	job->result = json_object();
	return 0;
}

/* Powers a launched guest off. */
int hp_vm__quit_job(struct hp_vm *vm, struct hp_job *job)
{
	if (!vm->cfg.launch) {
		hp_err__set(&job->err, EPERM, "%s was attached, not launched by hprobed: use vm-detach", vm->cfg.name);
		return hp_job__fail(job, EC_INVALID_ARGUMENT, -EPERM);
	}
	job->final = 1;
	if (vm->tgt.gdb) {
		hp_vm__unwatch_gdb(vm);
		hp_backend__destroy(vm->tgt.gdb); /* closing the gdbstub lets QEMU run and quit */
		vm->tgt.gdb = NULL;
	}
	if (vm->qmp)
		hp_qmp__execute(vm->qmp, "quit", NULL, NULL, NULL);
	if (vm->qemu_pid > 0) {
		for (int i = 0; i < 50 && waitpid(vm->qemu_pid, NULL, WNOHANG) == 0; i++)
			usleep(100000);
		if (kill(vm->qemu_pid, 0) == 0) {
			kill(vm->qemu_pid, SIGKILL);
			waitpid(vm->qemu_pid, NULL, 0);
		}
		vm->qemu_pid = 0;
	}
	hp_vm__flush(vm, 1);
	hp_session__remove(vm);
	job->result = json_object();
	return 0;
}

void hp_vm__on_reset(struct hp_vm *vm)
{
	/* After a reboot the KASLR slide changes: an old address may now be in the middle
	 * of another function. Kernel probes go stale (lifted) until re-resolved, and the
	 * processes application probes followed are gone. */
	struct hp_err err;
	hp_ret__reset(&vm->tgt, 0); /* calls in flight died with their tasks */
	for (struct hp_probe *p = vm->tgt.probes; p; p = p->next) {
		if (p->user) {
			hp_apps__forget_processes(&vm->tgt, p);
			continue;
		}
		if (p->state == HP_PSTATE_STALE)
			continue;
		if (p->state == HP_PSTATE_ARMED && p->mech)
			hp_probe__lift_at(p, p->addr, &err);
		if (p->in_mech) {
			hp_backend__forget(p->mech, p->id); /* its address is wrong now */
			p->in_mech = 0;
		}
		p->state = HP_PSTATE_STALE;
		if (p->o.owner != HP_OWNER_INTERNAL)
			hp_vm__event(vm, "PROBE",
				     json_pack("{s:i, s:s, s:s}", "id", p->id, "state", "stale", "reason",
					       "guest rebooted: the kernel may have moved (KASLR)"));
	}
	hp_kernel__free(vm->tgt.kernel);
	vm->tgt.kernel = NULL;
	hp_ipnames__clear(&vm->ipnames); /* the next kernel names them anew */
	vm->need_reprofile = 1;
	vm->next_reprofile_ns = hp_now_ns() + 500000000ull;
}

/* Once the rebooted kernel runs (its IDT and banner readable), read its profile again
 * and put the stale kernel probes back at their new addresses. */
static int reprofile_job(struct hp_vm *vm, struct hp_job *job)
{
	struct hp_err err;
	vm->reprofile_queued = 0;
	if (!vm->need_reprofile || !vm->tgt.gdb)
		return 0;
	if (load_profile(vm, vm->sym_path, vm->vmlinux_path, &err)) {
		hp_debug("%s: kernel not ready after reset yet: %s", vm->cfg.name, err.msg);
		vm->next_reprofile_ns = hp_now_ns() + 500000000ull;
		(void)job;
		return 0;
	}
	vm->need_reprofile = 0;
	hp_info("%s: kernel back after reboot (slide 0x%llx): re-arming probes", vm->cfg.name, (long long)vm->slide);
	for (struct hp_probe *p = vm->tgt.probes; p; p = p->next) {
		if (p->state != HP_PSTATE_STALE || p->user || p->raw)
			continue;
		enum hp_eclass ecls;
		uint64_t old = p->addr;
		char base[sizeof p->spec]; /* FUNC of FUNC%return: the function is what moved */
		hp_probe__split_return(p->spec, base, sizeof base);
		if (hp_probe__resolve_kernel(p, base, vm->tgt.kernel, vm->tgt.gdb, &ecls, &err)) {
			hp_warn("%s: probe %u (%s) stays stale: %s", vm->cfg.name, p->id, p->spec, err.msg);
			continue;
		}
		p->state = HP_PSTATE_DISABLED;
		if (p->o.enabled && hp_engine__arm(&vm->tgt, p, &err)) {
			hp_warn("%s: re-arming probe %u: %s", vm->cfg.name, p->id, err.msg);
			continue;
		}
		if (p->o.owner != HP_OWNER_INTERNAL) {
			char a[24], b[24];
			snprintf(a, sizeof a, "0x%llx", (unsigned long long)old);
			snprintf(b, sizeof b, "0x%llx", (unsigned long long)p->addr);
			hp_vm__event(vm, "PROBE",
				     json_pack("{s:i, s:s, s:s, s:s, s:s}", "id", p->id, "state",
					       hp_probe__state_name(p->state), "change", "re-armed after reboot",
					       "old_addr", a, "addr", b));
		}
	}
	return 0;
}

void hp_vm__maybe_reprofile(struct hp_vm *vm, uint64_t now)
{
	if (!vm->need_reprofile || vm->reprofile_queued || now < vm->next_reprofile_ns || vm->state == HP_VM_DEAD)
		return;
	struct hp_job *job = hp_job__new(reprofile_job, 1, NULL);
	if (!job)
		return;
	job->internal = 1;
	vm->reprofile_queued = 1;
	hp_vm__submit(vm, job);
}
