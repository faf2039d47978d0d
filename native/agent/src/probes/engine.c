#include "probes/engine.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/util.h"
#include "guest/kernel.h"
#include "guest/vmi.h"
#include "hprobe/hit.h"
#include "probes/apps.h"
#include "probes/probe.h"
#include "probes/retprobe.h"
#include "probes/target.h"

static uint64_t le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static const int sysv_args[HP_MAX_ARGS] = { HP_REG_RDI, HP_REG_RSI, HP_REG_RDX, HP_REG_RCX, HP_REG_R8, HP_REG_R9 };

/* Syscall wrappers receive struct pt_regs *; the user's arguments live there (x86-64
 * syscall convention: di, si, dx, r10, r8, r9). One read covers them all. */
static int syscall_args(struct hp_target *t, struct hp_backend *b, const uint64_t *regs, uint64_t *args,
			struct hp_err *err)
{
	const struct hp_kernel_offsets *o = &t->kernel->off;
	uint8_t pt[512];
	if (!t->kernel->btf || o->regs_size > sizeof pt)
		return hp_err__set(err, ENOTSUP, "no BTF for struct pt_regs");
	int rc = hp_backend__read_virt(b, regs[HP_REG_RDI], pt, o->regs_size, err);
	if (rc)
		return rc;
	const uint32_t offs[HP_MAX_ARGS] = { o->regs_di, o->regs_si, o->regs_dx, o->regs_r10, o->regs_r8, o->regs_r9 };
	for (int i = 0; i < HP_MAX_ARGS; i++)
		args[i] = le64(pt + offs[i]);
	return 0;
}

static void capture_mem(struct hp_backend *b, const struct hp_mem_spec *m, const uint64_t *regs, const uint64_t *args,
			struct hp_hit *hit)
{
	uint64_t base = m->src == HP_MEM_ARG ? args[m->index - 1] : regs[m->index];
	uint64_t at = base + (uint64_t)m->off;
	hit->memlen = 0;
	hit->flags |= HP_HIT_MEM;
	/* a member path: the pointers on the way (a bad one leaves memaddr where it failed) */
	for (uint32_t i = 0; i < m->nderef && i < HP_MAX_DEREF; i++) {
		uint8_t ptr[8];
		if (hp_backend__read_virt(b, at, ptr, 8, NULL)) {
			hit->memaddr = at;
			return;
		}
		at = le64(ptr) + (uint64_t)(int64_t)m->deref[i];
	}
	hit->memaddr = at;
	/* guest pointers may be bad or unmapped: a failed read records no bytes, nothing else */
	if (hp_backend__read_virt(b, at, hit->mem, m->len, NULL) == 0) {
		hit->memlen = (uint16_t)m->len;
		if (m->is_string) {
			void *nul = memchr(hit->mem, 0, m->len);
			if (nul)
				hit->memlen = (uint16_t)((uint8_t *)nul - hit->mem);
		}
	} else if (m->is_string && m->len > 1) {
		/* a string near the end of a mapped page: retry up to the page end */
		uint32_t to_end = (uint32_t)(4096 - (at & 4095));
		if (to_end < m->len && hp_backend__read_virt(b, at, hit->mem, to_end, NULL) == 0) {
			void *nul = memchr(hit->mem, 0, to_end);
			hit->memlen = (uint16_t)(nul ? (size_t)((uint8_t *)nul - hit->mem) : to_end);
		}
	}
}

static int passes(const struct hp_probe *p, const struct hp_task *t, int have_task)
{
	if (p->o.pid >= 0 && (!have_task || (t->pid != p->o.pid && t->tgid != p->o.pid)))
		return 0;
	if (p->o.comm[0] && (!have_task || strncmp(t->comm, p->o.comm, HP_COMM_LEN) != 0))
		return 0;
	return 1;
}

/* The probe's --if over one hit: its arguments, task and captured memory. */
static int cond_passes(const struct hp_probe *p, const uint64_t *args, const uint64_t *regs, const struct hp_task *t,
		       int have_task, const struct hp_hit *hit)
{
	struct hp_pcond_in in = { .args = args,
				  .regs = regs,
				  .have_task = have_task,
				  .pid = t->pid,
				  .tgid = t->tgid,
				  .comm = t->comm,
				  .mem = hit->mem,
				  .memlen = hit->memlen };
	return hp_pcond_eval(&p->cond, &in);
}

/* The probe's own counters; the VM layer journals and streams the hit. */
void hp_engine__on_hit(struct hp_target *t, struct hp_probe *p, struct hp_hit *hit)
{
	if (p->o.owner == HP_OWNER_INTERNAL) {
		if (!hp_ret__on_exit_hook(t, p, NULL))
			hp_apps__on_hook_hit(t, p, hit);
		return;
	}
	hp_probe__record(t, p, hit);
	if (p->o.owner)
		t->ops->observe(t, p, hit, NULL, NULL);
}

/* How to get past the instruction at a stop without lifting the breakpoint. */
struct plan {
	enum hp_resume kind;
	uint8_t len;
	int32_t rel;
};

/* Executes the probed instruction on the guest's behalf when it is simple, so the
 * breakpoint stays in place and no other vCPU can pass it unseen. */
static int resume_from(struct hp_backend *b, const struct hp_bev *ev, const struct plan *pl, uint64_t *regs,
		       struct hp_err *err)
{
	int rc;
	uint64_t sp = regs[HP_REG_RSP] - 8, ret = regs[HP_REG_RIP] + pl->len;
	switch (pl->kind) {
	case HP_RESUME_NOP:
		regs[HP_REG_RIP] += pl->len;
		rc = hp_backend__write_regs(b, regs, HP_REGBIT(HP_REG_RIP), err);
		break;
	case HP_RESUME_PUSH_RBP:
		if ((rc = hp_backend__write_virt(b, sp, &regs[HP_REG_RBP], 8, err)))
			break;
		regs[HP_REG_RSP] = sp;
		regs[HP_REG_RIP] += 1;
		rc = hp_backend__write_regs(b, regs, HP_REGBIT(HP_REG_RSP) | HP_REGBIT(HP_REG_RIP), err);
		break;
	case HP_RESUME_MOV_RBP_RSP:
		regs[HP_REG_RBP] = regs[HP_REG_RSP];
		regs[HP_REG_RIP] += 3;
		rc = hp_backend__write_regs(b, regs, HP_REGBIT(HP_REG_RBP) | HP_REGBIT(HP_REG_RIP), err);
		break;
	case HP_RESUME_CALL:
		if ((rc = hp_backend__write_virt(b, sp, &ret, 8, err)))
			break;
		regs[HP_REG_RSP] = sp;
		regs[HP_REG_RIP] = ret + (uint64_t)(int64_t)pl->rel;
		rc = hp_backend__write_regs(b, regs, HP_REGBIT(HP_REG_RSP) | HP_REGBIT(HP_REG_RIP), err);
		break;
	default:
		rc = hp_backend__step_over(b, ev->vcpu, ev->addr, err);
		break;
	}
	return rc;
}

/* Another program stopped at a shared user address: plan from its own code there. */
static void plan_foreign(struct hp_backend *b, uint64_t addr, struct plan *pl)
{
	uint8_t code[16];
	pl->kind = HP_RESUME_STEP;
	if (hp_backend__read_virt(b, addr, code, sizeof code, NULL) == 0)
		pl->kind = hp_probe__classify(code, sizeof code, &pl->len, &pl->rel);
}

int hp_engine__on_stop(struct hp_target *t, struct hp_backend *b, const struct hp_bev *ev, int resume,
		       struct hp_err *err)
{
	uint64_t regs[HP_NREGS];
	int rc = hp_backend__read_regs(b, regs, err);
	if (rc)
		return rc;
	struct hp_task task = { .pid = -1, .tgid = -1 };
	int have_task = -1; /* -1: not read yet */
	struct hp_probe *site = NULL;
	struct hp_hit_action act = { 0 };
	uint64_t args[HP_MAX_ARGS] = { 0 };
	int have_args = 0;

	int emulate_ok = 1, foreign = 0, kernel_site = 0;
	/* a return address some call waits for (return probes, gdbstub tier) */
	if (hp_ret__waits_at(t, ev->addr)) {
		have_task = hp_vmi__current(t->kernel, b, regs, &task, NULL) == 0;
		if (have_task)
			hp_ret__on_return(t, b, ev, regs, &task);
	}
	for (struct hp_probe *p = t->probes, *next; p; p = next) {
		next = p->next; /* a hook may add or drop probes */
		if (p->state != HP_PSTATE_ARMED || p->mech != b ||
		    (p->user ? !hp_apps__at(p, ev->addr) : p->addr != ev->addr))
			continue;
		site = p;
		if (p->resume == HP_RESUME_STEP)
			emulate_ok = 0; /* one probe here that cannot be emulated decides for all */
		kernel_site |= !p->user;
		if (p->o.owner == HP_OWNER_INTERNAL) {
			if (p == t->ret_exit_hook && have_task < 0)
				have_task = hp_vmi__current(t->kernel, b, regs, &task, NULL) == 0;
			if (!hp_ret__on_exit_hook(t, p, have_task > 0 ? &task : NULL))
				hp_apps__on_hook(t, p, regs);
			continue;
		}
		int need_task = p->o.kind == HP_PROBE_CAPTURE || p->o.pid >= 0 || p->o.comm[0] || p->user || p->ret ||
				(p->cond.need & HP_PCOND_NEED_TASK);
		if (need_task && have_task < 0)
			have_task = hp_vmi__current(t->kernel, b, regs, &task, NULL) == 0;
		if (p->user && (have_task <= 0 || !hp_apps__owns(p, ev->addr, &task))) {
			/* another program at the same virtual address: its code there is not ours,
			 * so it must not be emulated from our binary's bytes */
			emulate_ok = 0;
			foreign = 1;
			p->filtered++;
			continue;
		}
		if (!passes(p, &task, have_task > 0)) {
			p->filtered++;
			continue;
		}
		if (p->ret) { /* its hit is the return's */
			if (have_task > 0)
				hp_ret__on_entry(t, b, p, ev, regs, &task);
			else
				p->filtered++;
			continue;
		}
		struct hp_hit hit;
		hp_probe__hit_head(&hit, p, ev, regs, have_task > 0 ? &task : NULL);
		int need = p->cond.nargs; /* the arguments a capture or the condition reads */
		if (p->o.kind == HP_PROBE_CAPTURE) {
			need = p->o.nargs > need ? p->o.nargs : need;
			need = p->o.mem.src == HP_MEM_ARG && p->o.mem.index > need ? p->o.mem.index : need;
		}
		if (need && !have_args) {
			for (int i = 0; i < HP_MAX_ARGS; i++)
				args[i] = regs[sysv_args[i]];
			if (p->syscall_wrapper && syscall_args(t, b, regs, args, err))
				hp_debug("%s: pt_regs unreadable at a hit", t->name);
			have_args = 1;
		}
		if (p->o.kind == HP_PROBE_CAPTURE) {
			hit.nargs = (uint8_t)p->o.nargs;
			memcpy(hit.args, args, sizeof(uint64_t) * (size_t)p->o.nargs);
			if (p->o.regs) {
				memcpy(hit.regs, regs, sizeof hit.regs);
				hit.flags |= HP_HIT_REGS;
			}
			if (p->o.mem.src != HP_MEM_NONE)
				capture_mem(b, &p->o.mem, regs, args, &hit);
		}
		if (!cond_passes(p, args, regs, &task, have_task > 0, &hit)) {
			p->filtered++;
			continue;
		}
		if (p->o.owner)
			t->ops->observe(t, p, &hit, regs, &act);
		if (act.block)
			hit.flags |= HP_HIT_BLOCKED;
		hp_probe__record(t, p, &hit);
	}
	if (act.block) {
		/* virtual patch: return act.retval to the caller without running the body */
		uint64_t ret;
		uint8_t rb[8];
		if ((rc = hp_backend__read_virt(b, regs[HP_REG_RSP], rb, 8, err)))
			return rc;
		ret = le64(rb);
		regs[HP_REG_RAX] = (uint64_t)act.retval;
		regs[HP_REG_RIP] = ret;
		regs[HP_REG_RSP] += 8;
		rc = hp_backend__write_regs(b, regs,
					    HP_REGBIT(HP_REG_RAX) | HP_REGBIT(HP_REG_RIP) | HP_REGBIT(HP_REG_RSP), err);
	} else {
		struct plan pl = { HP_RESUME_STEP, 0, 0 };
		if (site && emulate_ok)
			pl = (struct plan){ site->resume, site->insn_len, site->call_rel };
		else if (foreign && !kernel_site)
			plan_foreign(b, ev->addr, &pl);
		rc = resume_from(b, ev, &pl, regs, err);
	}
	if (rc)
		return rc;
	if (act.pause) {
		t->ops->pause(t, "paused by a detector");
		return 0;
	}
	return resume ? hp_backend__resume(b, err) : 0;
}

int hp_engine__arm(struct hp_target *t, struct hp_probe *p, struct hp_err *err)
{
	if (p->user)
		return hp_apps__arm(t, p, err);
	if (p->state == HP_PSTATE_ARMED)
		return 0;
	int rc = hp_probe__plant_at(t, p, p->addr, NULL, err);
	if (!rc)
		p->state = HP_PSTATE_ARMED;
	return rc;
}

int hp_engine__disarm(struct hp_target *t, struct hp_probe *p, struct hp_err *err)
{
	if (p->ret && p->plant != HP_PLANT_INQEMU)
		hp_ret__disarm(t, p); /* disabled is free: no return breakpoint stays */
	if (p->user)
		return hp_apps__disarm(t, p, err);
	if (p->state != HP_PSTATE_ARMED)
		return 0;
	int rc = hp_probe__lift_at(p, p->addr, err);
	if (!rc)
		p->state = HP_PSTATE_DISABLED;
	return rc;
}

/* The hit's fields as libhprobe's table says (hprobe/hit.h), as in every export. */
void hp_engine__hit_json(struct hp_strbuf *sb, const struct hp_hit *h, uint64_t seq)
{
	struct hp_hit_ctx c = { .seq = seq, .spec = "" };
	hp_strbuf__reserve(sb, HP_HIT_TEXT_MAX);
	if (sb->oom)
		return;
	size_t n = hp_hit__json(h, &c, HP_HF_IN_STREAM, sb->buf + sb->len, HP_HIT_TEXT_MAX);
	sb->len += n < HP_HIT_TEXT_MAX ? n : HP_HIT_TEXT_MAX - 1;
}
