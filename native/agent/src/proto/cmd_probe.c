/* Probe commands, run on the VM's worker thread (the VM is stopped for changes). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "base/text.h"
#include "base/util.h"
#include "guest/kernel.h"
#include "probes/agg.h"
#include "probes/engine.h"
#include "probes/probe.h"
#include "proto/commands.h"
#include "vm/session.h"
#include "vm/vm.h"

int hp_cmd__probe_add(struct hp_vm *vm, struct hp_job *job)
{
	json_t *a = job->args;
	struct hp_probe_opts o = { .pid = -1, .enabled = 1, .kind = HP_PROBE_CAPTURE };
	struct hp_err *err = &job->err;
	json_int_t nargs = json_integer_value(json_object_get(a, "args"));
	o.nargs = nargs < 0 || nargs > HP_MAX_ARGS ? -1 : (int)nargs; /* not cut to an int first */
	json_t *jargs = json_object_get(a, "args");                   /* a count or names: the table says "any" */
	const char *names = json_string_value(jargs);
	if ((jargs && !json_is_integer(jargs) && !names) ||
	    (names && (!*names || strlen(names) >= sizeof o.args_names))) {
		hp_err__set(err, EINVAL, "args: a count 0..%d, or parameter names (\"fd,count\") of up to %zu bytes",
			    HP_MAX_ARGS, sizeof o.args_names - 1);
		return hp_job__fail(job, EC_INVALID_ARGUMENT, -EINVAL);
	}
	if (names)
		snprintf(o.args_names, sizeof o.args_names, "%s", names);
	o.regs = json_is_true(json_object_get(a, "regs"));
	if (json_is_false(json_object_get(a, "enabled")))
		o.enabled = 0;
	if (o.nargs < 0 || o.nargs > HP_MAX_ARGS) {
		hp_err__set(err, EINVAL, "args must be 0..%d", HP_MAX_ARGS);
		return hp_job__fail(job, EC_INVALID_ARGUMENT, -EINVAL);
	}
	const char *mem = json_string_value(json_object_get(a, "mem"));
	if (mem && hp_probe__parse_mem_opts(mem, &o, err)) /* SRC may be a parameter's name */
		return hp_job__fail(job, EC_INVALID_ARGUMENT, -EINVAL);
	json_t *pid = json_object_get(a, "pid");
	const char *comm = json_string_value(json_object_get(a, "comm"));
	if (pid && comm) {
		hp_err__set(err, EINVAL, "give pid or comm, not both");
		return hp_job__fail(job, EC_INVALID_ARGUMENT, -EINVAL);
	}
	if (pid) {
		if (json_integer_value(pid) <= 0 || json_integer_value(pid) > HP_PID_MAX) {
			hp_err__set(err, EINVAL, "pid must be 1..%d", HP_PID_MAX);
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
	const char *cond = json_string_value(json_object_get(a, "if"));
	if (cond && (!*cond || strlen(cond) >= sizeof o.cond_text)) {
		hp_err__set(err, EINVAL, "if: a condition of 1..%zu bytes", sizeof o.cond_text - 1);
		return hp_job__fail(job, EC_INVALID_ARGUMENT, -EINVAL);
	}
	if (cond)
		snprintf(o.cond_text, sizeof o.cond_text, "%s", cond);
	const char *agg = json_string_value(json_object_get(a, "agg"));
	if (agg && (!*agg || strlen(agg) >= sizeof o.agg_text)) {
		hp_err__set(err, EINVAL, "agg: an aggregation of 1..%zu bytes", sizeof o.agg_text - 1);
		return hp_job__fail(job, EC_INVALID_ARGUMENT, -EINVAL);
	}
	if (agg)
		snprintf(o.agg_text, sizeof o.agg_text, "%s", agg);
	json_t *rows = json_object_get(a, "agg_rows");
	if (rows && (!agg || json_integer_value(rows) < 1 || json_integer_value(rows) > HP_AGG_ROWS_MAX)) {
		hp_err__set(err, EINVAL, "agg_rows: 1..%d, with agg", HP_AGG_ROWS_MAX);
		return hp_job__fail(job, EC_INVALID_ARGUMENT, -EINVAL);
	}
	o.agg_rows = rows ? (uint32_t)json_integer_value(rows) : 0;
	const char *kind = json_string_value(json_object_get(a, "kind"));
	if (kind && strcmp(kind, "capture") && strcmp(kind, "count")) {
		hp_err__set(err, EINVAL, "kind must be capture or count");
		return hp_job__fail(job, EC_INVALID_ARGUMENT, -EINVAL);
	}
	if (kind && !strcmp(kind, "count"))
		o.kind = HP_PROBE_COUNT;
	enum hp_eclass cls;
	struct hp_probe *p = hp_probe__create(&vm->tgt, json_string_value(json_object_get(a, "spec")), &o, &cls, err);
	if (!p) {
		if (cls == EC_UNKNOWN_SYMBOL && vm->tgt.kernel && vm->tgt.kernel->syms) {
			/* machine-readable suggestions too */
			const char *spec = json_string_value(json_object_get(a, "spec"));
			char name[128];
			snprintf(name, sizeof name, "%s", !strncmp(spec, "kernel:", 7) ? spec + 7 : spec);
			name[strcspn(name, "+")] = 0;
			const struct hp_sym *sug[5];
			size_t n = hp_symtab__suggest(vm->tgt.kernel->syms, name, sug, 5);
			json_t *list = json_array();
			for (size_t i = 0; i < n; i++)
				json_array_append_new(list, hp_text__json(sug[i]->name, SIZE_MAX));
			job->result = json_pack("{s:o}", "suggestions", list);
		}
		return hp_job__fail(job, cls, -EINVAL);
	}
	hp_session__save(vm);
	char addr[24];
	snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)p->addr);
	job->result = json_pack("{s:i, s:s, s:s, s:s, s:s}", "id", p->id, "addr", addr, "mechanism",
				hp_backend__name(p->mech), "resume", hp_probe__resume_name(p->resume), "state",
				hp_probe__state_name(p->state));
	return 0;
}

static struct hp_probe *arg_probe(struct hp_vm *vm, struct hp_job *job)
{
	json_int_t id = json_integer_value(json_object_get(job->args, "probe"));
	struct hp_probe *p = id > 0 && id <= UINT32_MAX ? hp_target__probe(&vm->tgt, (uint32_t)id) : NULL;
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
		hp_err__set(&job->err, ESTALE, "probe %u is stale (the guest rebooted): remove and add it again",
			    p->id);
		return hp_job__fail(job, EC_INVALID_ARGUMENT, -ESTALE);
	}
	int rc = 0;
	p->o.enabled = on;
	if (on && p->state == HP_PSTATE_DISABLED)
		rc = hp_engine__arm(&vm->tgt, p, &job->err);
	else if (!on && p->state == HP_PSTATE_ARMED)
		rc = hp_engine__disarm(&vm->tgt, p, &job->err);
	if (rc)
		return hp_job__fail(job, EC_GUEST_ERROR, rc);
	hp_session__save(vm);
	hp_probe__event(&vm->tgt, p, on ? "enabled" : "disabled");
	job->result = json_pack("{s:i, s:b, s:s}", "id", p->id, "enabled", on, "state", hp_probe__state_name(p->state));
	return 0;
}

int hp_cmd__probe_enable(struct hp_vm *vm, struct hp_job *job)
{
	return set_enabled(vm, job, 1);
}
int hp_cmd__probe_disable(struct hp_vm *vm, struct hp_job *job)
{
	return set_enabled(vm, job, 0);
}

int hp_cmd__probe_remove(struct hp_vm *vm, struct hp_job *job)
{
	struct hp_probe *p = arg_probe(vm, job);
	if (!p)
		return job->rc;
	if (p->o.owner) {
		hp_err__set(&job->err, EBUSY, "probe %u belongs to detector %u: remove the detector", p->id,
			    p->o.owner);
		return hp_job__fail(job, EC_INVALID_ARGUMENT, -EBUSY);
	}
	uint32_t id = p->id;
	hp_probe__destroy(&vm->tgt, p);
	hp_session__save(vm);
	job->result = json_pack("{s:i}", "id", id);
	return 0;
}

int hp_cmd__agg_read(struct hp_vm *vm, struct hp_job *job)
{
	struct hp_probe *p = arg_probe(vm, job);
	if (!p)
		return job->rc;
	if (!p->agg) {
		hp_err__set(&job->err, EINVAL, "probe %u has no aggregation (probe-add with agg)", p->id);
		return hp_job__fail(job, EC_INVALID_ARGUMENT, -EINVAL);
	}
	json_int_t limit = json_integer_value(json_object_get(job->args, "limit"));
	if (limit < 0) {
		hp_err__set(&job->err, EINVAL, "limit: 0 (all) or more");
		return hp_job__fail(job, EC_INVALID_ARGUMENT, -EINVAL);
	}
	job->result = hp_agg__json(p->agg, p->o.agg_text, (size_t)limit);
	if (!job->result) {
		hp_err__set(&job->err, ENOMEM, "out of memory");
		return hp_job__fail(job, EC_INTERNAL, -ENOMEM);
	}
	json_object_set_new(job->result, "probe", json_integer(p->id));
	if (json_is_true(json_object_get(job->args, "clear"))) {
		hp_probe__agg_snapshot(&vm->tgt, p, hp_now_ns()); /* what is cleared stays in the journal */
		hp_agg__clear(p->agg);
	}
	return 0;
}

int hp_cmd__probe_list(struct hp_vm *vm, struct hp_job *job)
{
	job->result = json_array();
	for (struct hp_probe *p = vm->tgt.probes; p; p = p->next)
		if (p->o.owner != HP_OWNER_INTERNAL)
			json_array_append_new(job->result, hp_probe__json(p));
	size_t i;
	json_t *o;
	if (json_is_true(json_object_get(job->args, "removed")))
		json_array_foreach(vm->tgt.removed, i, o) /* copies: the reply is sent from another thread */
			json_array_append_new(job->result, json_deep_copy(o));
	return 0;
}
