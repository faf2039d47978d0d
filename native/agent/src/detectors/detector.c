#include "detectors/detector.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "hprobe/export.h"
#include "probes/engine.h"
#include "probes/probe.h"

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
	for (size_t i = 0; kind && kinds[i]; i++)
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

static void change_event(struct hp_target *t, const struct hp_detector *d, const char *change)
{
	hp_target__event(t, "DETECTOR",
			 json_pack("{s:i, s:s, s:s}", "id", d->id, "kind", d->ops->kind, "change", change));
}

static void free_detector(struct hp_target *t, struct hp_detector *d)
{
	if (d->ops->destroy)
		d->ops->destroy(t, d);
	json_decref(d->config);
	free(d);
}

struct hp_detector *hp_detector__add(struct hp_target *t, const char *kind, json_t *config, enum hp_eclass *cls,
				     struct hp_err *err)
{
	const struct hp_detector_ops *ops = hp_detector__kind(kind);
	*cls = EC_INVALID_ARGUMENT;
	if (!ops) {
		const char *known = hp_detector__kinds();
		hp_err__set(err, ENOENT, "unknown detector kind '%s' (known: %s)", kind ? kind : "",
			    known[0] ? known : "none");
		return NULL;
	}
	struct hp_detector *d = calloc(1, sizeof *d);
	if (!d) {
		*cls = EC_INTERNAL;
		hp_err__set(err, ENOMEM, "out of memory");
		return NULL;
	}
	d->id = t->next_detector_id++;
	d->ops = ops;
	d->config = json_deep_copy(config);
	if (ops->create(t, d, d->config, cls, err)) {
		/* the detector's probes, if any were planted, go with it */
		hp_probe__destroy_owned(t, d->id);
		json_decref(d->config);
		free(d);
		return NULL;
	}
	struct hp_detector **pp = &t->detectors;
	while (*pp)
		pp = &(*pp)->next;
	*pp = d;
	change_event(t, d, "added");
	return d;
}

int hp_detector__remove(struct hp_target *t, long long id, struct hp_err *err)
{
	for (struct hp_detector **pp = &t->detectors; *pp; pp = &(*pp)->next) {
		struct hp_detector *d = *pp;
		if (d->id != id)
			continue;
		*pp = d->next;
		hp_probe__destroy_owned(t, d->id);
		change_event(t, d, "removed");
		free_detector(t, d);
		return 0;
	}
	return hp_err__set(err, ENOENT, "VM %s has no detector %lld", t->name, id);
}

int hp_detector__set_enabled(struct hp_detector *d, struct hp_target *t, int on, enum hp_eclass *cls,
			     struct hp_err *err)
{
	for (struct hp_probe *p = t->probes; p; p = p->next) {
		if (p->o.owner != d->id)
			continue;
		int rc = on ? hp_engine__arm(t, p, err) : hp_engine__disarm(t, p, err);
		if (rc) {
			*cls = EC_GUEST_ERROR;
			return rc;
		}
		p->o.enabled = on;
	}
	d->disabled = !on;
	change_event(t, d, on ? "enabled" : "disabled");
	return 0;
}

void hp_detectors__free(struct hp_target *t)
{
	for (struct hp_detector *d = t->detectors, *n; d; d = n) {
		n = d->next;
		free_detector(t, d);
	}
	t->detectors = NULL;
}

json_t *hp_detector__json(struct hp_target *t, struct hp_detector *d)
{
	json_t *o = json_pack("{s:i, s:s, s:O, s:I, s:b}", "id", d->id, "kind", d->ops->kind, "config", d->config,
			      "alerts", (json_int_t)d->alerts, "enabled", !d->disabled);
	if (d->ops->state)
		json_object_set_new(o, "state", d->ops->state(t, d));
	return o;
}

void hp_detectors__on_hit(struct hp_target *t, struct hp_probe *p, const struct hp_hit *hit, const uint64_t *regs,
			  struct hp_hit_action *act)
{
	if (!p->o.owner)
		return;
	struct hp_hit_action none = { 0 }; /* in-QEMU hits: nothing can be changed there */
	for (struct hp_detector *d = t->detectors; d; d = d->next)
		if (d->id == p->o.owner && d->ops->on_hit)
			d->ops->on_hit(t, d, p, hit, regs, act ? act : &none);
}

struct hp_detector *hp_detector__find(struct hp_target *t, long long id)
{
	struct hp_detector *d = t->detectors;
	while (d && d->id != id)
		d = d->next;
	return d;
}

void hp_detectors__tick(struct hp_target *t, uint64_t now)
{
	for (struct hp_detector *d = t->detectors; d; d = d->next) {
		if (d->disabled)
			continue;
		if (d->ops->tick)
			d->ops->tick(t, d, now);
		/* live state for views: at most once a second per detector */
		if (d->ops->state && now - d->last_state_ns >= 1000000000ull) {
			d->last_state_ns = now;
			json_t *st = d->ops->state(t, d);
			json_object_set_new(st, "id", json_integer(d->id));
			json_object_set_new(st, "kind", json_string(d->ops->kind));
			t->ops->notify(t, "DETECTOR_STATE", st);
		}
	}
}

json_t *hp_json_comm(const char *comm)
{
	char esc[HP_COMM_ESC_MAX];
	hp_export__escape(comm, strnlen(comm, HP_COMM_LEN), esc, sizeof esc);
	return json_string(esc);
}

void hp_detector__alert(struct hp_target *t, struct hp_detector *d, const char *what, json_t *data)
{
	d->alerts++;
	json_object_set_new(data, "detector", json_integer(d->id));
	json_object_set_new(data, "kind", json_string(d->ops->kind));
	json_object_set_new(data, "alert", json_string(what));
	json_object_set_new(data, "time_ns", json_integer((json_int_t)hp_now_ns()));
	hp_warn("%s: %s alert from detector %u (%s)", t->name, what, d->id, d->ops->kind);
	hp_target__event(t, "ALERT", data);
}
