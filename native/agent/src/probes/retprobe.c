/* Return probes on the gdbstub tier (probes/retprobe.h). */
#include "probes/retprobe.h"

#include <errno.h>
#include <string.h>

#include "base/util.h"
#include "guest/vmi.h"
#include "hprobe/retpend.h"
#include "probes/probe.h"
#include "probes/target.h"

/* A call left the table without its return: lift its breakpoint, count it. */
static void on_drop(void *ud, const struct hp_retpend_entry *e, enum hp_retpend_why why)
{
	struct hp_target *t = ud;
	struct hp_err err;
	struct hp_probe *p = hp_target__probe(t, e->probe_id);
	if (p) {
		p->ret_dropped[why]++;
		if (p->ret_pending)
			p->ret_pending--;
	}
	if (t->gdb && hp_backend__disarm(t->gdb, e->ret_addr, 0, &err))
		hp_debug("%s: lifting a return breakpoint: %s", t->name, err.msg);
}

static int gdb_return_probes(const struct hp_target *t, const struct hp_probe *except)
{
	int n = 0;
	for (const struct hp_probe *p = t->probes; p; p = p->next)
		n += p != except && p->ret && p->plant != HP_PLANT_INQEMU;
	return n;
}

int hp_ret__attach(struct hp_target *t, struct hp_probe *p, struct hp_err *err)
{
	/* under KVM a software breakpoint is an int3 written into the page, and user
	 * pages are shared (page cache, copy on write): application probes use debug
	 * registers there, too few for every call in flight */
	if (p->user && t->kvm)
		return hp_err__set(err, ENOTSUP,
				   "an application's return probe is not supported under KVM (gdbstub tier): its "
				   "breakpoints would be written into shared user pages");
	if (!t->rets && !(t->rets = hp_retpend__new(HP_RET_TABLE)))
		return hp_err__set(err, ENOMEM, "out of memory");
	if (t->ret_exit_hook)
		return 0;
	/* the exit hook stops the VM: dropping a call lifts a breakpoint, which needs a stop */
	struct hp_probe_opts o = {
		.pid = -1, .enabled = 1, .kind = HP_PROBE_CAPTURE, .owner = HP_OWNER_INTERNAL, .need_stop = 1
	};
	enum hp_eclass cls;
	t->ret_exit_hook = hp_probe__create(t, "kernel:do_exit", &o, &cls, err);
	return t->ret_exit_hook ? 0 : -EIO;
}

void hp_ret__detach(struct hp_target *t, struct hp_probe *p)
{
	if (!t->rets)
		return;
	hp_retpend__drop_probe(t->rets, p->id, on_drop, t);
	if (gdb_return_probes(t, p))
		return;
	if (t->ret_exit_hook) {
		struct hp_probe *hook = t->ret_exit_hook;
		t->ret_exit_hook = NULL;
		hp_probe__destroy(t, hook);
	}
	hp_retpend__free(t->rets);
	t->rets = NULL;
}

void hp_ret__disarm(struct hp_target *t, struct hp_probe *p)
{
	if (t->rets)
		hp_retpend__drop_probe(t->rets, p->id, on_drop, t);
}

void hp_ret__reset(struct hp_target *t, int free)
{
	if (!t->rets)
		return;
	hp_retpend__drop_all(t->rets, HP_RETPEND_EXIT, free ? NULL : on_drop, t);
	if (free) {
		hp_retpend__free(t->rets);
		t->rets = NULL;
		t->ret_exit_hook = NULL; /* freed with the probes */
		t->ret_expiring = 0;
	}
}

int hp_ret__waits_at(const struct hp_target *t, uint64_t addr)
{
	return t->rets && hp_retpend__count(t->rets) && hp_retpend__waits_at(t->rets, addr);
}

static uint64_t timeout_ns(const struct hp_target *t)
{
	return t->ret_timeout_ns ? t->ret_timeout_ns : HP_RET_TIMEOUT_NS;
}

static void expire_work(struct hp_target *t, void *ud)
{
	(void)ud;
	t->ret_expiring = 0;
	uint64_t now = hp_now_ns(), timeout = timeout_ns(t);
	if (t->rets)
		hp_retpend__expire(t->rets, now > timeout ? now - timeout : 0, on_drop, t);
}

void hp_ret__tick(struct hp_target *t, uint64_t now)
{
	uint64_t oldest = t->rets ? hp_retpend__oldest_ns(t->rets) : 0;
	if (!oldest || t->ret_expiring || now < oldest || now - oldest <= timeout_ns(t))
		return;
	if (!t->ops->defer(t, expire_work, NULL, 1))
		t->ret_expiring = 1;
}

void hp_ret__on_entry(struct hp_target *t, struct hp_backend *b, struct hp_probe *p, const struct hp_bev *ev,
		      const uint64_t *regs, const struct hp_task *task)
{
	struct hp_err err;
	uint64_t ret;
	if (!t->rets)
		return;
	uint64_t timeout = timeout_ns(t);

	hp_retpend__expire(t->rets, ev->time_ns > timeout ? ev->time_ns - timeout : 0, on_drop, t);
	/* the guest's stack is its own: a kernel function returns into the kernel, an
	 * application's function into user space; nothing else gets a breakpoint */
	int rc = hp_backend__read_u64(b, regs[HP_REG_RSP], &ret, &err);
	if (!rc && (!ret || (ret >> 63) == (uint64_t) !!p->user))
		rc = hp_err__set(&err, EINVAL, "return address 0x%llx out of the function's half",
				 (unsigned long long)ret);
	if (!rc)
		rc = hp_backend__arm(b, ret, 0, &err);
	if (rc) {
		hp_debug("%s: probe %u: no return breakpoint: %s", t->name, p->id, err.msg);
		p->filtered++;
		return;
	}
	/* the call's time starts as the VM is about to go on: this stop's handling is
	 * not the function's (the guest's clock stands still meanwhile under TCG) */
	struct hp_retpend_entry e = {
		.task = task->addr, .sp = regs[HP_REG_RSP], .ret_addr = ret, .entry_ns = hp_now_ns(), .probe_id = p->id
	};
	hp_retpend__push(t->rets, &e, on_drop, t);
	p->ret_pending++;
}

void hp_ret__on_return(struct hp_target *t, struct hp_backend *b, const struct hp_bev *ev, const uint64_t *regs,
		       const struct hp_task *task)
{
	struct hp_retpend_entry e;
	struct hp_err err;
	/* the ret popped the return address: the entry's rsp is 8 below */
	if (!t->rets || !hp_retpend__pop(t->rets, task->addr, regs[HP_REG_RSP] - 8, &e))
		return;
	if (e.ret_addr != ev->addr) { /* the same frame, another place: not its return */
		hp_retpend__push(t->rets, &e, NULL, NULL);
		return;
	}
	if (hp_backend__disarm(b, e.ret_addr, 0, &err))
		hp_debug("%s: lifting a return breakpoint: %s", t->name, err.msg);
	struct hp_probe *p = hp_target__probe(t, e.probe_id);
	if (!p)
		return;
	if (p->ret_pending)
		p->ret_pending--;
	if (!p->o.enabled) { /* disabled since the entry: as in QEMU, no hit */
		p->ret_dropped[HP_RETPEND_REMOVED]++;
		return;
	}
	struct hp_hit hit;
	hp_probe__hit_head(&hit, p, ev, regs, task);
	hit.flags |= HP_HIT_RET;
	hit.retval = (int64_t)regs[HP_REG_RAX];
	hit.latency_ns = ev->time_ns > e.entry_ns ? ev->time_ns - e.entry_ns : 0;
	struct hp_pcond_in in = { .have_task = 1,
				  .pid = task->pid,
				  .tgid = task->tgid,
				  .comm = task->comm,
				  .retval = (uint64_t)hit.retval,
				  .latency_ns = hit.latency_ns,
				  .regs = regs };
	if (!hp_pcond_eval(&p->cond, &in)) { /* --if on the value and latency: only at the return */
		p->filtered++;
		return;
	}
	if (p->o.regs) {
		memcpy(hit.regs, regs, sizeof hit.regs);
		hit.flags |= HP_HIT_REGS;
	}
	hp_probe__record(t, p, &hit);
}

int hp_ret__on_exit_hook(struct hp_target *t, struct hp_probe *p, const struct hp_task *task)
{
	if (!p || p != t->ret_exit_hook)
		return 0;
	if (task && t->rets)
		hp_retpend__drop_task(t->rets, task->addr, on_drop, t);
	return 1;
}
