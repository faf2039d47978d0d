/* Detector commands, run on the VM's worker thread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/commands.h"
#include "detectors/detector.h"
#include "probes/engine.h"
#include "probes/probe.h"
#include "vm/session.h"
#include "vm/vm.h"

static json_t *detector_json(struct hp_vm *vm, struct hp_detector *d)
{
	json_t *o = json_pack("{s:i, s:s, s:O, s:I, s:b}", "id", d->id, "kind", d->ops->kind, "config", d->config,
			      "alerts", (json_int_t)d->alerts, "enabled", !d->disabled);
	if (d->ops->state)
		json_object_set_new(o, "state", d->ops->state(vm, d));
	return o;
}

int hp_cmd__detector_add(struct hp_vm *vm, struct hp_job *job)
{
	const char *kind = json_string_value(json_object_get(job->args, "kind"));
	const struct hp_detector_ops *ops = hp_detector__kind(kind);
	if (!ops) {
		const char *known = hp_detector__kinds();
		hp_err__set(&job->err, ENOENT, "unknown detector kind '%s' (known: %s)", kind, known[0] ? known : "none");
		return hp_job__fail(job, EC_INVALID_ARGUMENT, -ENOENT);
	}
	struct hp_detector *d = calloc(1, sizeof *d);
	if (!d) {
		hp_err__set(&job->err, ENOMEM, "out of memory");
		return hp_job__fail(job, EC_INTERNAL, -ENOMEM);
	}
	d->id = vm->next_detector_id++;
	d->ops = ops;
	d->config = json_deep_copy(json_object_get(job->args, "config"));
	enum hp_eclass cls = EC_INVALID_ARGUMENT;
	int rc = ops->create(vm, d, d->config, &cls, &job->err);
	if (rc) {
		/* the detector's probes, if any were planted, go with it */
		hp_probe_destroy_owned(vm, d->id);
		json_decref(d->config);
		free(d);
		return hp_job__fail(job, cls, rc);
	}
	struct hp_detector **pp = &vm->detectors;
	while (*pp)
		pp = &(*pp)->next;
	*pp = d;
	hp_vm__event(vm, "DETECTOR", json_pack("{s:i, s:s, s:s}", "id", d->id, "kind", kind, "change", "added"));
	if (!vm->restore)
		hp_session__save(vm);
	job->result = json_pack("{s:i}", "id", d->id);
	return 0;
}

int hp_cmd__detector_remove(struct hp_vm *vm, struct hp_job *job)
{
	json_int_t id = json_integer_value(json_object_get(job->args, "detector"));
	for (struct hp_detector **pp = &vm->detectors; *pp; pp = &(*pp)->next) {
		struct hp_detector *d = *pp;
		if (d->id != id)
			continue;
		*pp = d->next;
		if (d->ops->destroy)
			d->ops->destroy(vm, d);
		hp_probe_destroy_owned(vm, d->id);
		hp_vm__event(vm, "DETECTOR", json_pack("{s:i, s:s, s:s}", "id", d->id, "kind", d->ops->kind,
						       "change", "removed"));
		json_decref(d->config);
		free(d);
		hp_session__save(vm);
		job->result = json_pack("{s:I}", "id", id);
		return 0;
	}
	hp_err__set(&job->err, ENOENT, "VM %s has no detector %lld", vm->cfg.name, (long long)id);
	return hp_job__fail(job, EC_UNKNOWN_DETECTOR, -ENOENT);
}

int hp_cmd__detector_list(struct hp_vm *vm, struct hp_job *job)
{
	job->result = json_array();
	for (struct hp_detector *d = vm->detectors; d; d = d->next)
		json_array_append_new(job->result, detector_json(vm, d));
	return 0;
}

static int set_enabled(struct hp_vm *vm, struct hp_job *job, int on)
{
	json_int_t id = json_integer_value(json_object_get(job->args, "detector"));
	struct hp_detector *d = hp_detector__find(vm, id);
	if (!d) {
		hp_err__set(&job->err, ENOENT, "VM %s has no detector %lld", vm->cfg.name, (long long)id);
		return hp_job__fail(job, EC_UNKNOWN_DETECTOR, -ENOENT);
	}
	/* a disabled detector keeps its state but its probes leave the guest */
	for (struct hp_probe *p = vm->probes; p; p = p->next) {
		if (p->o.owner != d->id)
			continue;
		int rc = on ? hp_engine__arm(vm, p, &job->err) : hp_engine__disarm(vm, p, &job->err);
		if (rc)
			return hp_job__fail(job, EC_GUEST_ERROR, rc);
		p->o.enabled = on;
	}
	d->disabled = !on;
	hp_vm__event(vm, "DETECTOR", json_pack("{s:i, s:s, s:s}", "id", d->id, "kind", d->ops->kind, "change",
					       on ? "enabled" : "disabled"));
	hp_session__save(vm);
	job->result = json_pack("{s:i, s:b}", "id", d->id, "enabled", on);
	return 0;
}

int hp_cmd__detector_enable(struct hp_vm *vm, struct hp_job *job) { return set_enabled(vm, job, 1); }
int hp_cmd__detector_disable(struct hp_vm *vm, struct hp_job *job) { return set_enabled(vm, job, 0); }
