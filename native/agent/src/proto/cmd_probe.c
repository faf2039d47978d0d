/* Probe commands, run on the VM's worker thread (the VM is stopped for changes). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/apps.h"
#include "backend/backend.h"
#include "proto/commands.h"
#include "probes/engine.h"
#include "guest/kernel.h"
#include "vm/session.h"
#include "base/util.h"
#include "vm/vm.h"

static json_t *probe_json(const struct hp_probe *p)
{
	char addr[24];
	snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)p->addr);
	json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:b, s:I, s:s, s:s, s:s, s:s, s:i, s:b}",
			      "id", p->id, "spec", p->spec, "addr", addr, "function", p->func,
			      "enabled", p->o.enabled, "hits", (json_int_t)p->hits,
			      "kind", p->o.kind == HP_PROBE_COUNT ? "count" : "capture",
			      "mechanism", p->mech ? p->mech->ops->name : "none",
			      "state", p->journal_paused ? "paused" : hp_probe__state_name(p->state),
			      "resume", hp_probe__resume_name(p->resume),
			      "args", p->o.nargs, "regs", p->o.regs);
	if (p->o.mem_text[0])
		json_object_set_new(o, "mem", json_string(p->o.mem_text));
	if (p->o.pid >= 0)
		json_object_set_new(o, "pid", json_integer(p->o.pid));
	if (p->o.comm[0])
		json_object_set_new(o, "comm", json_stringn(p->o.comm, strnlen(p->o.comm, HP_COMM_LEN)));
	if (p->o.owner)
		json_object_set_new(o, "detector", json_integer(p->o.owner));
	return o;
}

static void count_probes(struct hp_vm *vm)
{
	int n = 0;
	for (struct hp_probe *p = vm->probes; p; p = p->next)
		n += p->o.owner != HP_OWNER_INTERNAL;
	pthread_mutex_lock(&vm->lock);
	vm->nprobes = n;
	pthread_mutex_unlock(&vm->lock);
}

static void probe_event(struct hp_vm *vm, const struct hp_probe *p, const char *what)
{
	if (p->o.owner == HP_OWNER_INTERNAL)
		return;
	json_t *d = probe_json(p);
	json_object_set_new(d, "change", json_string(what));
	hp_vm__event(vm, "PROBE", d);
}

/* Shared by the protocol command and by detectors planting their own probes. */
struct hp_probe *hp_probe_create(struct hp_vm *vm, const char *spec, const struct hp_probe_opts *o,
				 enum hp_eclass *cls, struct hp_err *err)
{
	*cls = EC_INVALID_ARGUMENT;
	if (!vm->gdb) {
		*cls = EC_VM_DEAD;
		hp_err__set(err, EPIPE, "VM %s has no live connection", vm->cfg.name);
		return NULL;
	}
	if (strlen(spec) >= sizeof((struct hp_probe *)0)->spec) {
		hp_err__set(err, EINVAL, "probe spec too long");
		return NULL;
	}
	struct hp_probe *p = calloc(1, sizeof *p);
	if (!p) {
		hp_err__set(err, ENOMEM, "out of memory");
		return NULL;
	}
	snprintf(p->spec, sizeof p->spec, "%s", spec);
	p->o = *o;
	p->id = vm->next_probe_id++; /* before resolving: events about it name it */
	int ecls = 0, rc;
	if (!strncmp(spec, "app:", 4))
		rc = hp_apps__resolve(vm, p, spec, &ecls, err);
	else
		rc = hp_probe__resolve_kernel(p, spec, vm->kernel, vm->gdb, err, &ecls);
	if (rc) {
		*cls = ecls;
		free(p);
		return NULL;
	}
	/* the in-QEMU tier when the VM has it: no stop per hit. The gdbstub keeps what must
	 * stop the guest (virtual patches, reads at leisure) and per-process PIE addresses. */
	p->mech = vm->plugin && !p->o.need_stop && (!p->user || !p->app->pie) ? vm->plugin : vm->gdb;
	if (!p->user)
		p->state = HP_PSTATE_DISABLED;
	if (p->o.enabled && (rc = hp_engine__arm(vm, p, err))) {
		*cls = EC_GUEST_ERROR;
		hp_apps__free(vm, p);
		free(p);
		return NULL;
	}
	struct hp_probe **pp = &vm->probes;
	while (*pp)
		pp = &(*pp)->next;
	*pp = p;
	count_probes(vm);
	probe_event(vm, p, "added");
	return p;
}

struct hp_probe *hp_probe_create_raw(struct hp_vm *vm, uint64_t addr, int32_t pid, uint32_t owner, struct hp_err *err)
{
	if (!vm->gdb) {
		hp_err__set(err, EPIPE, "VM %s has no live connection", vm->cfg.name);
		return NULL;
	}
	if (addr >> 63 && vm->kernel && hp_kernel__check_probe_addr(vm->kernel, addr, err))
		return NULL;
	struct hp_probe *p = calloc(1, sizeof *p);
	if (!p) {
		hp_err__set(err, ENOMEM, "out of memory");
		return NULL;
	}
	p->id = vm->next_probe_id++;
	snprintf(p->spec, sizeof p->spec, "0x%llx", (unsigned long long)addr);
	p->addr = addr;
	p->o = (struct hp_probe_opts){ .pid = pid, .enabled = 1, .kind = HP_PROBE_COUNT, .owner = owner };
	p->resume = HP_RESUME_STEP;
	p->mech = vm->gdb;
	p->raw = 1;
	int user = !(addr >> 63), rc;
	/* under KVM an int3 in a user page could land in memory other processes share */
	if (user && !strcmp(vm->accel, "kvm"))
		rc = vm->gdb->ops->arm_hw ? vm->gdb->ops->arm_hw(vm->gdb, addr, err)
					  : hp_err__set(err, ENOTSUP, "no hardware breakpoints");
	else
		rc = vm->gdb->ops->arm(vm->gdb, addr, p->id, err);
	if (rc) {
		free(p);
		return NULL;
	}
	p->state = HP_PSTATE_ARMED;
	p->next = vm->probes;
	vm->probes = p;
	count_probes(vm);
	return p;
}

void hp_probe_destroy(struct hp_vm *vm, struct hp_probe *p)
{
	struct hp_err err;
	for (struct hp_probe **pp = &vm->probes; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	if (p->user)
		hp_apps__free(vm, p);
	else if (p->state == HP_PSTATE_ARMED && p->mech && p->mech == vm->plugin)
		p->mech->ops->disarm(p->mech, p->addr, p->id, &err);
	else if (p->state == HP_PSTATE_ARMED && p->mech &&
		 (p->raw && !(p->addr >> 63) && !strcmp(vm->accel, "kvm")
			  ? p->mech->ops->disarm_hw(p->mech, p->addr, &err)
			  : p->mech->ops->disarm(p->mech, p->addr, p->id, &err)))
		hp_warn("%s: lifting probe %u: %s", vm->cfg.name, p->id, err.msg);
	if (p->in_mech && p->mech && p->mech->ops->forget)
		p->mech->ops->forget(p->mech, p->id);
	probe_event(vm, p, "removed");
	free(p);
	count_probes(vm);
}

void hp_probe_destroy_owned(struct hp_vm *vm, uint32_t owner)
{
	for (struct hp_probe *p = vm->probes; p;) {
		if (p->o.owner != owner) {
			p = p->next;
			continue;
		}
		hp_probe_destroy(vm, p);
		p = vm->probes; /* the list may have lost more than p */
	}
}

int hp_cmd__probe_add(struct hp_vm *vm, struct hp_job *job)
{
	json_t *a = job->args;
	struct hp_probe_opts o = { .pid = -1, .enabled = 1, .kind = HP_PROBE_CAPTURE };
	struct hp_err *err = &job->err;
	o.nargs = (int)json_integer_value(json_object_get(a, "args"));
	o.regs = json_is_true(json_object_get(a, "regs"));
	if (json_is_false(json_object_get(a, "enabled")))
		o.enabled = 0;
	if (o.nargs < 0 || o.nargs > HP_MAX_ARGS) {
		hp_err__set(err, EINVAL, "args must be 0..%d", HP_MAX_ARGS);
		return hp_job__fail(job, EC_INVALID_ARGUMENT, -EINVAL);
	}
	const char *mem = json_string_value(json_object_get(a, "mem"));
	if (mem) {
		if (hp_probe__parse_mem(mem, &o.mem, err))
			return hp_job__fail(job, EC_INVALID_ARGUMENT, -EINVAL);
		snprintf(o.mem_text, sizeof o.mem_text, "%s", mem);
	}
	json_t *pid = json_object_get(a, "pid");
	const char *comm = json_string_value(json_object_get(a, "comm"));
	if (pid && comm) {
		hp_err__set(err, EINVAL, "give pid or comm, not both");
		return hp_job__fail(job, EC_INVALID_ARGUMENT, -EINVAL);
	}
	if (pid) {
		if (json_integer_value(pid) <= 0 || json_integer_value(pid) > 4194304) {
			hp_err__set(err, EINVAL, "pid must be 1..4194304");
			return hp_job__fail(job, EC_INVALID_ARGUMENT, -EINVAL);
		}
		o.pid = (int32_t)json_integer_value(pid);
	}
	if (comm) {
		if (!comm[0] || strlen(comm) > HP_COMM_LEN - 1) {
			hp_err__set(err, EINVAL, "comm must be 1..15 characters (the kernel keeps 15)");
			return hp_job__fail(job, EC_INVALID_ARGUMENT, -EINVAL);
		}
		snprintf(o.comm, sizeof o.comm, "%s", comm);
	}
	const char *kind = json_string_value(json_object_get(a, "kind"));
	if (kind && strcmp(kind, "capture") && strcmp(kind, "count")) {
		hp_err__set(err, EINVAL, "kind must be capture or count");
		return hp_job__fail(job, EC_INVALID_ARGUMENT, -EINVAL);
	}
	if (kind && !strcmp(kind, "count"))
		o.kind = HP_PROBE_COUNT;
	enum hp_eclass cls;
	struct hp_probe *p = hp_probe_create(vm, json_string_value(json_object_get(a, "spec")), &o, &cls, err);
	if (!p) {
		if (cls == EC_UNKNOWN_SYMBOL && vm->kernel && vm->kernel->syms) {
			/* machine-readable suggestions too */
			const char *spec = json_string_value(json_object_get(a, "spec"));
			char name[128];
			snprintf(name, sizeof name, "%s", !strncmp(spec, "kernel:", 7) ? spec + 7 : spec);
			name[strcspn(name, "+")] = 0;
			const struct hp_sym *sug[5];
			size_t n = hp_symtab__suggest(vm->kernel->syms, name, sug, 5);
			json_t *list = json_array();
			for (size_t i = 0; i < n; i++)
				json_array_append_new(list, json_string(sug[i]->name));
			job->result = json_pack("{s:o}", "suggestions", list);
		}
		return hp_job__fail(job, cls, -EINVAL);
	}
	hp_session__save(vm);
	char addr[24];
	snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)p->addr);
	job->result = json_pack("{s:i, s:s, s:s, s:s, s:s}", "id", p->id, "addr", addr, "mechanism",
				p->mech->ops->name, "resume", hp_probe__resume_name(p->resume), "state",
				hp_probe__state_name(p->state));
	return 0;
}

static struct hp_probe *arg_probe(struct hp_vm *vm, struct hp_job *job)
{
	json_int_t id = json_integer_value(json_object_get(job->args, "probe"));
	struct hp_probe *p = id > 0 && id <= UINT32_MAX ? hp_vm__probe(vm, (uint32_t)id) : NULL;
	if (!p || p->o.owner == HP_OWNER_INTERNAL) {
		hp_err__set(&job->err, ENOENT, "VM %s has no probe %lld", vm->cfg.name, (long long)id);
		hp_job__fail(job, EC_UNKNOWN_PROBE, -ENOENT);
	}
	return p;
}

static int set_enabled(struct hp_vm *vm, struct hp_job *job, int on)
{
	struct hp_probe *p = arg_probe(vm, job);
	if (!p)
		return job->rc;
	if (p->state == HP_PSTATE_STALE) {
		hp_err__set(&job->err, ESTALE, "probe %u is stale (the guest rebooted): remove and add it again", p->id);
		return hp_job__fail(job, EC_INVALID_ARGUMENT, -ESTALE);
	}
	int rc = 0;
	p->o.enabled = on;
	if (on && p->state == HP_PSTATE_DISABLED)
		rc = hp_engine__arm(vm, p, &job->err);
	else if (!on && p->state == HP_PSTATE_ARMED)
		rc = hp_engine__disarm(vm, p, &job->err);
	if (rc)
		return hp_job__fail(job, EC_GUEST_ERROR, rc);
	hp_session__save(vm);
	probe_event(vm, p, on ? "enabled" : "disabled");
	job->result = json_pack("{s:i, s:b, s:s}", "id", p->id, "enabled", on, "state", hp_probe__state_name(p->state));
	return 0;
}

int hp_cmd__probe_enable(struct hp_vm *vm, struct hp_job *job) { return set_enabled(vm, job, 1); }
int hp_cmd__probe_disable(struct hp_vm *vm, struct hp_job *job) { return set_enabled(vm, job, 0); }

int hp_cmd__probe_remove(struct hp_vm *vm, struct hp_job *job)
{
	struct hp_probe *p = arg_probe(vm, job);
	if (!p)
		return job->rc;
	if (p->o.owner) {
		hp_err__set(&job->err, EBUSY, "probe %u belongs to detector %u: remove the detector", p->id, p->o.owner);
		return hp_job__fail(job, EC_INVALID_ARGUMENT, -EBUSY);
	}
	uint32_t id = p->id;
	hp_probe_destroy(vm, p);
	hp_session__save(vm);
	job->result = json_pack("{s:i}", "id", id);
	return 0;
}

int hp_cmd__probe_list(struct hp_vm *vm, struct hp_job *job)
{
	job->result = json_array();
	for (struct hp_probe *p = vm->probes; p; p = p->next)
		if (p->o.owner != HP_OWNER_INTERNAL)
			json_array_append_new(job->result, probe_json(p));
	return 0;
}
