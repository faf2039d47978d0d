#include "detectors/detector.h"

#include <string.h>

#include "hprobe/export.h"

#include "probes/probe.h"
#include "base/util.h"
#include "vm/vm.h"

extern const struct hp_detector_ops hp_det_emergency, hp_det_watchdog, hp_det_loop;

/* The registry: a new detector kind is a new file plus one line here. */
static const struct hp_detector_ops *const kinds[] = {
	&hp_det_emergency,
	&hp_det_watchdog,
	&hp_det_loop,
	NULL,
};

const struct hp_detector_ops *hp_detector__kind(const char *kind)
{
	for (size_t i = 0; kinds[i]; i++)
		if (!strcmp(kinds[i]->kind, kind))
			return kinds[i];
	return NULL;
}

const char *hp_detector__kinds(void)
{
	static char list[256];
	list[0] = 0;
	for (size_t i = 0; kinds[i]; i++)
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", kinds[i]->kind);
	return list;
}

void hp_detectors__on_hit(struct hp_vm *vm, struct hp_probe *p, const struct hp_hit *hit,
			  const uint64_t *regs, struct hp_detector_action *act)
{
	if (!p->o.owner)
		return;
	struct hp_detector_action none = { 0 };
	for (struct hp_detector *d = vm->detectors; d; d = d->next)
		if (d->id == p->o.owner && d->ops->on_hit)
			d->ops->on_hit(vm, d, p, hit, regs, act ? act : &none);
}

struct hp_detector *hp_detector__find(struct hp_vm *vm, long long id)
{
	struct hp_detector *d = vm->detectors;
	while (d && d->id != id)
		d = d->next;
	return d;
}

void hp_detectors__tick(struct hp_vm *vm, uint64_t now)
{
	for (struct hp_detector *d = vm->detectors; d; d = d->next) {
		if (d->disabled)
			continue;
		if (d->ops->tick)
			d->ops->tick(vm, d, now);
		/* live state for views: at most once a second per detector */
		if (d->ops->state && now - d->last_state_ns >= 1000000000ull) {
			d->last_state_ns = now;
			json_t *st = d->ops->state(vm, d);
			json_object_set_new(st, "id", json_integer(d->id));
			json_object_set_new(st, "kind", json_string(d->ops->kind));
			hp_outbox__post_event(&vm->agent->outbox, vm->id, "DETECTOR_STATE", vm->cfg.name, st);
		}
	}
}

json_t *hp_json_comm(const char *comm)
{
	char esc[HP_COMM_ESC_MAX];
	hp_export__escape(comm, strnlen(comm, HP_COMM_LEN), esc, sizeof esc);
	return json_string(esc);
}

void hp_detector__alert(struct hp_vm *vm, struct hp_detector *d, const char *what, json_t *data)
{
	d->alerts++;
	json_object_set_new(data, "detector", json_integer(d->id));
	json_object_set_new(data, "kind", json_string(d->ops->kind));
	json_object_set_new(data, "alert", json_string(what));
	json_object_set_new(data, "time_ns", json_integer((json_int_t)hp_now_ns()));
	hp_warn("%s: %s alert from detector %u (%s)", vm->cfg.name, what, d->id, d->ops->kind);
	hp_vm__event(vm, "ALERT", data);
}
