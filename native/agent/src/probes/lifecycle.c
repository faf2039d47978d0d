/* A probe's life in its target: creation (resolve, choose the mechanism, arm),
 * destruction, and the events that tell clients about both. Shared by the protocol
 * commands, the session restore and the detectors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "base/util.h"
#include "guest/kernel.h"
#include "probes/apps.h"
#include "probes/engine.h"
#include "probes/probe.h"
#include "probes/agg.h"
#include "probes/cond.h"
#include "probes/retprobe.h"
#include "probes/target.h"

/* {"name", "type", "class", "size"} of a parameter (hprobe/param.h). */
static json_t *param_json(const struct hp_param *q)
{
	return json_pack("{s:o, s:o, s:s, s:i}", "name", hp_text__json(q->name, sizeof q->name), "type",
			 hp_text__json(q->type, sizeof q->type), "class", hp_param__class_name(q->cls), "size",
			 (int)q->size);
}

json_t *hp_probe__json(const struct hp_probe *p)
{
	char addr[24];
	snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)p->addr);
	json_t *o = json_pack("{s:i, s:o, s:s, s:o, s:b, s:I, s:s, s:s, s:s, s:s, s:i, s:b}", "id", p->id, "spec",
			      hp_text__json(p->spec, sizeof p->spec), "addr", addr, "function",
			      hp_text__json(p->func, sizeof p->func), "enabled", p->o.enabled, "hits",
			      (json_int_t)p->hits, "kind", p->o.kind == HP_PROBE_COUNT ? "count" : "capture",
			      "mechanism", p->mech ? hp_backend__name(p->mech) : "none", "state",
			      p->journal_paused ? "paused" : hp_probe__state_name(p->state), "resume",
			      hp_probe__resume_name(p->resume), "args", p->o.nargs, "regs", p->o.regs);
	if (p->o.mem_text[0])
		json_object_set_new(o, "mem", hp_text__json(p->o.mem_text, sizeof p->o.mem_text));
	if (p->o.pid >= 0)
		json_object_set_new(o, "pid", json_integer(p->o.pid));
	if (p->o.comm[0])
		json_object_set_new(o, "comm", hp_text__json(p->o.comm, HP_COMM_LEN));
	if (p->o.cond_text[0])
		json_object_set_new(o, "if", hp_text__json(p->o.cond_text, sizeof p->o.cond_text));
	if (p->agg) {
		json_object_set_new(o, "agg", hp_text__json(p->o.agg_text, sizeof p->o.agg_text));
		json_object_set_new(o, "agg_rows", json_integer(p->agg->cap));
	}
	if (p->o.owner)
		json_object_set_new(o, "detector", json_integer(p->o.owner));
	if (p->params_from[0]) { /* known, maybe none (getpid): [] */
		json_t *a = json_array();
		for (int i = 0; i < p->nparams; i++)
			json_array_append_new(a, param_json(&p->params[i]));
		json_object_set_new(o, "params", a);
		json_object_set_new(o, "params_from", json_string(p->params_from));
	}
	if (p->has_ret_type) {
		json_t *r = param_json(&p->ret_type);
		json_object_del(r, "name");
		json_object_set_new(r, "errno", json_boolean(p->ret_errno));
		json_object_set_new(o, "ret_type", r);
	}
	if (p->ret) {
		static const char *const why[HP_RETPEND_NWHY] = { "exit", "timeout", "full", "replaced", "removed" };
		json_t *d = json_object();
		for (int i = 0; i < HP_RETPEND_NWHY; i++)
			json_object_set_new(d, why[i], json_integer((json_int_t)p->ret_dropped[i]));
		json_object_set_new(o, "return",
				    json_pack("{s:I, s:o}", "pending", (json_int_t)p->ret_pending, "dropped", d));
	}
	return o;
}

void hp_probe__event(struct hp_target *t, const struct hp_probe *p, const char *change)
{
	if (p->o.owner == HP_OWNER_INTERNAL)
		return;
	json_t *d = hp_probe__json(p);
	json_object_set_new(d, "change", json_string(change));
	hp_target__event(t, "PROBE", d);
}

void hp_probe__choose(const struct hp_target *t, struct hp_probe *p)
{
	/* the in-QEMU tier when the VM has it: no stop per hit. The gdbstub keeps what must
	 * stop the guest (virtual patches, reads at leisure) and per-process PIE addresses. */
	int user = p->user || (p->raw && !(p->addr >> 63));
	if (t->plugin && !p->raw && !p->o.need_stop && (!p->user || !p->app->pie)) {
		p->mech = t->plugin;
		p->plant = HP_PLANT_INQEMU;
	} else {
		p->mech = t->gdb;
		p->plant = user && t->kvm ? HP_PLANT_DEBUG_REG : HP_PLANT_BREAKPOINT;
	}
}

static void append(struct hp_target *t, struct hp_probe *p)
{
	struct hp_probe **pp = &t->probes;
	while (*pp)
		pp = &(*pp)->next;
	*pp = p;
	t->ops->probes_changed(t);
}

static int count_user_probes(struct hp_target *t)
{
	int n = 0;
	for (struct hp_probe *p = t->probes; p; p = p->next)
		n += p->user;
	return n;
}

static void remove_hooks(struct hp_target *t)
{
	for (int i = 0; i < 2; i++) {
		if (t->app_hooks[i])
			hp_probe__destroy(t, t->app_hooks[i]);
		t->app_hooks[i] = NULL;
	}
}

/* While application probes exist, two kernel probes follow processes: one where a new
 * image is mapped and named (exec), one where a task leaves (exit). */
static int install_hooks(struct hp_target *t, struct hp_err *err)
{
	if (t->app_hooks[0])
		return 0;
	const char *specs[2];
	int rc = hp_kernel__process_hooks(t->kernel, specs, err);
	if (rc)
		return rc;
	for (int i = 0; i < 2; i++) {
		/* The exec hook reads the new image's memory and plants breakpoints: gdbstub.
		 * The exit hook needs only the task, which the in-QEMU tier captures without a
		 * stop: a forking server (httpd) exits a child per request. */
		struct hp_probe_opts o = { .pid = -1,
					   .enabled = 1,
					   .kind = i ? HP_PROBE_CAPTURE : HP_PROBE_COUNT,
					   .owner = HP_OWNER_INTERNAL,
					   .need_stop = i == 0 };
		enum hp_eclass cls;
		t->app_hooks[i] = hp_probe__create(t, specs[i], &o, &cls, err);
		if (!t->app_hooks[i]) {
			remove_hooks(t);
			return -EIO;
		}
	}
	return 0;
}

/* A probe that did not make it into the list. */
static void discard(struct hp_target *t, struct hp_probe *p)
{
	hp_apps__free(t, p);
	hp_agg__free(p->agg);
	free(p);
}

/* --agg: its table; the arguments and registers its expressions read are captured
 * with each hit. */
static int compile_agg(struct hp_probe *p, struct hp_err *err)
{
	if (p->o.kind != HP_PROBE_CAPTURE)
		return hp_err__set(err, EINVAL, "--agg sums a capturing probe's hits: not --kind count");
	uint32_t rows = p->o.agg_rows ? p->o.agg_rows : HP_AGG_ROWS_DEFAULT;
	if (hp_agg__compile(p, p->o.agg_text, rows, &p->agg, err))
		return -EINVAL;
	if (p->agg->nargs > p->o.nargs)
		p->o.nargs = p->agg->nargs;
	if (p->agg->regs)
		p->o.regs = 1;
	return 0;
}

#define AGG_SNAPSHOT_NS 1000000000ull
#define AGG_SNAPSHOT_ROWS 256 /* a journal record stays small; agg-read has them all */

void hp_probe__agg_snapshot(struct hp_target *t, struct hp_probe *p, uint64_t now)
{
	if (!p->agg || !p->agg->unsnapped)
		return;
	json_t *o = hp_agg__json(p->agg, p->o.agg_text, AGG_SNAPSHOT_ROWS);
	if (!o)
		return;
	json_object_set_new(o, "probe", json_integer(p->id));
	hp_target__event(t, "AGG", o);
	p->agg->unsnapped = 0;
	p->agg->snap_ns = now;
}

void hp_probe__agg_snapshots(struct hp_target *t, uint64_t now)
{
	for (struct hp_probe *p = t->probes; p; p = p->next)
		if (p->agg && now - p->agg->snap_ns >= AGG_SNAPSHOT_NS)
			hp_probe__agg_snapshot(t, p, now);
}

struct hp_probe *hp_probe__create(struct hp_target *t, const char *spec, const struct hp_probe_opts *o,
				  enum hp_eclass *cls, struct hp_err *err)
{
	*cls = EC_INVALID_ARGUMENT;
	if (!t->gdb) {
		*cls = EC_VM_DEAD;
		hp_err__set(err, EPIPE, "VM %s has no live connection", t->name);
		return NULL;
	}
	if (!spec || strlen(spec) >= sizeof((struct hp_probe *)0)->spec) {
		hp_err__set(err, EINVAL, spec ? "probe spec too long" : "no probe spec");
		return NULL;
	}
	if (hp_probe__check_opts(o, err))
		return NULL;
	struct hp_probe *p = calloc(1, sizeof *p);
	if (!p) {
		hp_err__set(err, ENOMEM, "out of memory");
		return NULL;
	}
	snprintf(p->spec, sizeof p->spec, "%s", spec);
	p->o = *o;
	p->id = t->next_probe_id++; /* before resolving: events about it name it */
	int rc;
	char base[sizeof p->spec];
	p->ret = hp_probe__split_return(spec, base, sizeof base);
	if (!strncmp(base, "app:", 4))
		rc = hp_apps__resolve(t, p, base, cls, err);
	else
		rc = hp_probe__resolve_kernel(p, base, t->kernel, t->gdb, cls, err);
	if (!rc && p->ret && p->func_off) {
		*cls = EC_INVALID_ARGUMENT;
		rc = hp_err__set(err, EINVAL, "a return probe sits at a function's entry: %s%s, without +OFF", p->func,
				 HP_RETURN_SUFFIX);
	}
	if (!rc && p->ret && (p->o.kind != HP_PROBE_CAPTURE || p->o.nargs || p->o.mem.len)) {
		*cls = EC_INVALID_ARGUMENT;
		rc = hp_err__set(err, EINVAL,
				 "a return probe captures the return value and the latency (and --regs at the "
				 "return): not --kind count, --args or --mem");
	}
	if (!rc && p->ret && (rc = hp_kernel__need(t->kernel, HP_KF_TASK, "a return probe", err)))
		*cls = EC_NOT_SUPPORTED;
	/* calls in flight are keyed by task and stack pointer: two return probes on one
	 * function would share each call, and one of them would miss it */
	for (struct hp_probe *q = t->probes; !rc && p->ret && q; q = q->next)
		if (q->ret && (p->user ? q->user && !strcmp(q->spec, p->spec) : !q->user && q->addr == p->addr)) {
			*cls = EC_INVALID_ARGUMENT;
			rc = hp_err__set(err, EINVAL,
					 "probe %u takes the returns of %s already: one return probe per function",
					 q->id, p->func);
		}
	if (!rc && !p->user && !p->func_off && !p->ret && strcmp(p->func, "?"))
		p->nparams = hp_kernel__func_params(t->kernel, t->gdb, p->func, p->params, HP_MAX_ARGS, p->params_from,
						    sizeof p->params_from);
	if (!rc && !p->user && p->ret)
		p->has_ret_type = !hp_kernel__func_ret(t->kernel, p->func, &p->ret_type, &p->ret_errno);
	if (!rc && (rc = hp_probe__args_by_name(p, t->kernel ? t->kernel->btf : NULL, err)))
		*cls = EC_INVALID_ARGUMENT;
	if (!rc && (rc = hp_cond__compile(p, err)))
		*cls = EC_INVALID_ARGUMENT;
	if (!rc && (p->cond.need & HP_PCOND_NEED_TASK) &&
	    (rc = hp_kernel__need(t->kernel, HP_KF_TASK, "a condition on pid, tgid or comm", err)))
		*cls = EC_NOT_SUPPORTED;
	if (!rc && p->o.agg_text[0] && (rc = compile_agg(p, err)))
		*cls = EC_INVALID_ARGUMENT;
	if (!rc && p->agg && (p->agg->need & HP_PCOND_NEED_TASK) &&
	    (rc = hp_kernel__need(t->kernel, HP_KF_TASK, "an aggregation over pid, tgid or comm", err)))
		*cls = EC_NOT_SUPPORTED;
	if (!rc && (p->o.pid >= 0 || p->o.comm[0]) &&
	    (rc = hp_kernel__need(t->kernel, HP_KF_TASK, "a --pid or --comm filter", err)))
		*cls = EC_NOT_SUPPORTED;
	if (!rc && p->syscall_wrapper && (p->o.nargs || p->o.mem.src == HP_MEM_ARG || p->cond.nargs) &&
	    (rc = hp_kernel__need(t->kernel, HP_KF_SYSCALL_ARGS, "a syscall's arguments", err)))
		*cls = EC_NOT_SUPPORTED;
	if (rc) {
		discard(t, p);
		return NULL;
	}
	hp_probe__choose(t, p);
	if (!p->user)
		p->state = HP_PSTATE_DISABLED;
	if (p->ret && p->plant != HP_PLANT_INQEMU && (rc = hp_ret__attach(t, p, err))) {
		*cls = rc == -ENOTSUP ? EC_NOT_SUPPORTED : EC_GUEST_ERROR;
		discard(t, p);
		return NULL;
	}
	if (p->user && (rc = install_hooks(t, err))) {
		*cls = EC_GUEST_ERROR;
		discard(t, p);
		return NULL;
	}
	if (p->o.enabled && (rc = hp_engine__arm(t, p, err))) {
		*cls = EC_GUEST_ERROR;
		if (p->ret && p->plant != HP_PLANT_INQEMU)
			hp_ret__detach(t, p);
		discard(t, p);
		if (!count_user_probes(t))
			remove_hooks(t);
		return NULL;
	}
	append(t, p);
	hp_probe__event(t, p, "added");
	return p;
}

struct hp_probe *hp_probe__create_raw(struct hp_target *t, uint64_t addr, int32_t pid, uint32_t owner,
				      struct hp_err *err)
{
	if (!t->gdb) {
		hp_err__set(err, EPIPE, "VM %s has no live connection", t->name);
		return NULL;
	}
	if (addr >> 63 && t->kernel && hp_kernel__check_probe_addr(t->kernel, addr, err))
		return NULL;
	struct hp_probe *p = calloc(1, sizeof *p);
	if (!p) {
		hp_err__set(err, ENOMEM, "out of memory");
		return NULL;
	}
	p->id = t->next_probe_id++;
	snprintf(p->spec, sizeof p->spec, "0x%llx", (unsigned long long)addr);
	p->addr = addr;
	p->o = (struct hp_probe_opts){ .pid = pid, .enabled = 1, .kind = HP_PROBE_COUNT, .owner = owner };
	p->resume = HP_RESUME_STEP;
	p->raw = 1;
	p->state = HP_PSTATE_DISABLED;
	hp_probe__choose(t, p);
	if (hp_engine__arm(t, p, err)) {
		free(p);
		return NULL;
	}
	append(t, p);
	return p;
}

/* A removed probe's description outlives it: its hits in the journal still need their
 * parameters' names and types. The oldest goes first. */
static void remember(struct hp_target *t, const struct hp_probe *p)
{
	if (p->o.owner == HP_OWNER_INTERNAL || (!t->removed && !(t->removed = json_array())))
		return;
	json_t *o = hp_probe__json(p);
	if (!o)
		return;
	json_object_set_new(o, "state", json_string("removed"));
	json_object_set_new(o, "enabled", json_false());
	if (json_array_size(t->removed) >= HP_REMOVED_KEPT)
		json_array_remove(t->removed, 0);
	json_array_append_new(t->removed, o);
}

void hp_probe__destroy(struct hp_target *t, struct hp_probe *p)
{
	struct hp_err err;
	for (struct hp_probe **pp = &t->probes; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	int user = p->user;
	if (user)
		hp_apps__free(t, p);
	else if (p->mech && hp_engine__disarm(t, p, &err))
		hp_warn("%s: lifting probe %u: %s", t->name, p->id, err.msg);
	if (p->ret && p->plant != HP_PLANT_INQEMU)
		hp_ret__detach(t, p);
	if (p->in_mech)
		hp_backend__forget(p->mech, p->id);
	hp_probe__agg_snapshot(t, p, hp_now_ns()); /* its last sums outlive it in the journal */
	hp_probe__event(t, p, "removed");
	remember(t, p);
	hp_agg__free(p->agg);
	free(p);
	if (user && !count_user_probes(t))
		remove_hooks(t);
	t->ops->probes_changed(t);
}

void hp_probe__destroy_owned(struct hp_target *t, uint32_t owner)
{
	for (struct hp_probe *p = t->probes; p;) {
		if (p->o.owner != owner) {
			p = p->next;
			continue;
		}
		hp_probe__destroy(t, p);
		p = t->probes; /* the list may have lost more than p */
	}
}

struct hp_probe *hp_target__probe(struct hp_target *t, uint32_t id)
{
	for (struct hp_probe *p = t->probes; p; p = p->next)
		if (p->id == id)
			return p;
	return NULL;
}

void hp_probe__record(struct hp_target *t, struct hp_probe *p, struct hp_hit *hit)
{
	p->hits++;
	if (!p->first_ns)
		p->first_ns = hit->time_ns;
	p->last_ns = hit->time_ns;
	if (p->agg)
		hp_agg__add(p->agg, hit);
	t->ops->record(t, p, hit);
}
