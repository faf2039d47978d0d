/* Detector commands, run on the VM's worker thread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "proto/commands.h"
#include "vm/session.h"
#include "vm/vm.h"

int hp_cmd__detector_add(struct hp_vm *vm, struct hp_job *job)
{
	enum hp_eclass cls;
	struct hp_detector *d = hp_detector__add(&vm->tgt, json_string_value(json_object_get(job->args, "kind")),
						 json_object_get(job->args, "config"), &cls, &job->err);
	if (!d)
		return hp_job__fail(job, cls, -EINVAL);
	hp_session__save(vm);
	job->result = json_pack("{s:i}", "id", d->id);
	return 0;
}

int hp_cmd__detector_remove(struct hp_vm *vm, struct hp_job *job)
{
	json_int_t id = json_integer_value(json_object_get(job->args, "detector"));
	int rc = hp_detector__remove(&vm->tgt, id, &job->err);
	if (rc)
		return hp_job__fail(job, EC_UNKNOWN_DETECTOR, rc);
	hp_session__save(vm);
	job->result = json_pack("{s:I}", "id", id);
	return 0;
}

int hp_cmd__detector_list(struct hp_vm *vm, struct hp_job *job)
{
	job->result = json_array();
	for (struct hp_detector *d = vm->tgt.detectors; d; d = d->next)
		json_array_append_new(job->result, hp_detector__json(&vm->tgt, d));
	return 0;
}

static int set_enabled(struct hp_vm *vm, struct hp_job *job, int on)
{
	json_int_t id = json_integer_value(json_object_get(job->args, "detector"));
	struct hp_detector *d = hp_detector__find(&vm->tgt, id);
	if (!d) {
		hp_err__set(&job->err, ENOENT, "VM %s has no detector %lld", vm->cfg.name, (long long)id);
		return hp_job__fail(job, EC_UNKNOWN_DETECTOR, -ENOENT);
	}
	enum hp_eclass cls;
	int rc = hp_detector__set_enabled(d, &vm->tgt, on, &cls, &job->err);
	if (rc)
		return hp_job__fail(job, cls, rc);
	hp_session__save(vm);
	job->result = json_pack("{s:i, s:b}", "id", d->id, "enabled", on);
	return 0;
}

int hp_cmd__detector_enable(struct hp_vm *vm, struct hp_job *job)
{
	return set_enabled(vm, job, 1);
}
int hp_cmd__detector_disable(struct hp_vm *vm, struct hp_job *job)
{
	return set_enabled(vm, job, 0);
}
