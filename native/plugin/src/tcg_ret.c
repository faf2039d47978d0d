/* hprobe-tcg.so: return probes (FUNC%return), the in-QEMU side. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tcg.h"

/* At the function's entry (its probe's callback) the call is put in tcg.rets under
 * (task, rsp) with the return address read at [rsp]. Return addresses are kept in
 * a set, and translation instruments each of them (on_ret): the callback runs before
 * the instruction at the return address, where rsp is the entry's + 8 and rax the
 * return value. A return address not seen before is added and the translated code
 * flushed at once, from this vCPU (qemu_plugin_reset): QEMU flushes before the vCPU
 * runs its next block, so the call cannot return into code translated without the
 * callback, even when the function's first block holds its ret. A function that
 * ends in a tail call returns through its callee's ret to the same address with the
 * callee's rax: that is the call's return, as the caller sees it. */

#define RET_TABLE 16384  /* calls in flight, every return probe */
#define RET_SITES 65536u /* return addresses instrumented, at most half of them used */

static void ret_dropped(void *ud, const struct hp_retpend_entry *e, enum hp_retpend_why why);

/* Drops the calls in flight past the timeout (under ret_mu). */
static void expire(uint64_t now)
{
	uint64_t t = atomic_load(&tcg.ret_timeout_ns);

	if (!t)
		t = TCG_RET_TIMEOUT_NS;
	hp_retpend__expire(tcg.rets, now > t ? now - t : 0, ret_dropped, NULL);
}

static void ret_dropped(void *ud, const struct hp_retpend_entry *e, enum hp_retpend_why why)
{
	(void)ud;
	if (e->tag >= TCG_MAX_SLOTS)
		return;
	struct slot *s = &tcg.slots[e->tag];
	atomic_fetch_add_explicit(&s->ret_dropped[why], 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&s->ret_pending, 1, memory_order_relaxed);
}

static uint32_t site_hash(uint64_t va)
{
	return (uint32_t)((va * 0x9e3779b97f4a7c15ull) >> 40) & (RET_SITES - 1);
}

int tcg__ret_site_known(uint64_t va)
{
	for (uint32_t i = site_hash(va), n = 0; n < RET_SITES; i = (i + 1) & (RET_SITES - 1), n++) {
		uint64_t v = atomic_load_explicit(&tcg.ret_sites[i], memory_order_acquire);
		if (v == va)
			return 1;
		if (!v)
			return 0;
	}
	return 0;
}

/* 1: added now, 0: known already, -1: the set is full (the call's return goes unseen
 * and the call is dropped by the timeout or its task's exit). */
static int site_add(uint64_t va)
{
	if (tcg__ret_site_known(va))
		return 0;
	if (atomic_load(&tcg.nret_sites) >= RET_SITES / 2)
		return -1;
	for (uint32_t i = site_hash(va);; i = (i + 1) & (RET_SITES - 1)) {
		uint64_t v = atomic_load(&tcg.ret_sites[i]);
		if (v == va)
			return 0;
		if (!v) {
			if (atomic_compare_exchange_strong(&tcg.ret_sites[i], &v, va)) {
				atomic_fetch_add(&tcg.nret_sites, 1);
				return 1;
			}
			if (v == va)
				return 0;
		}
	}
}

void tcg__ret_entry(struct hitregs *hr, struct slot *s, uint64_t task, uint64_t now)
{
	uint64_t sp = tcg__reg(hr, HP_PREG_RSP), ret;
	/* the guest's stack is its own: a return address must lie in the half the
	 * function runs in (a kernel function returns into the kernel) */
	if (tcg__read_mem(hr->vs, sp, &ret, 8) || !ret || (ret >> 63) != (s->cfg.vaddr >> 63)) {
		atomic_fetch_add_explicit(&hr->vs->mem_errors, 1, memory_order_relaxed);
		return;
	}
	struct hp_retpend_entry e = { .task = task,
				      .sp = sp,
				      .ret_addr = ret,
				      .entry_ns = now,
				      .probe_id = s->cfg.probe_id,
				      .tag = (uint32_t)(s - tcg.slots) };
	pthread_mutex_lock(&tcg.ret_mu);
	/* retire_slot clears enabled, then drops the slot's calls under ret_mu: a call
	 * pushed here after that would outlive its slot */
	if (!atomic_load(&s->enabled)) {
		pthread_mutex_unlock(&tcg.ret_mu);
		return;
	}
	atomic_fetch_add_explicit(&s->ret_pending, 1, memory_order_relaxed);
	expire(now);
	hp_retpend__push(tcg.rets, &e, ret_dropped, NULL);
	atomic_store(&tcg.ret_count, hp_retpend__count(tcg.rets));
	pthread_mutex_unlock(&tcg.ret_mu);
	if (site_add(ret) == 1)
		qemu_plugin_reset(tcg.id, tcg__on_reset);
}

void tcg__ret_drop_slot(int si)
{
	pthread_mutex_lock(&tcg.ret_mu);
	hp_retpend__drop_probe(tcg.rets, tcg.slots[si].cfg.probe_id, ret_dropped, NULL);
	atomic_store(&tcg.ret_count, hp_retpend__count(tcg.rets));
	pthread_mutex_unlock(&tcg.ret_mu);
}

void tcg__ret_expire(void)
{
	uint64_t now = tcg__now_ns();
	pthread_mutex_lock(&tcg.ret_mu);
	expire(now);
	atomic_store(&tcg.ret_count, hp_retpend__count(tcg.rets));
	pthread_mutex_unlock(&tcg.ret_mu);
}

void tcg__on_ret(unsigned vcpu, void *udata)
{
	uint64_t site = (uint64_t)(uintptr_t)udata, task,
		 off = atomic_load_explicit(&tcg.ret_current_task, memory_order_relaxed);
	if (vcpu >= tcg.max_vcpus || !off || !atomic_load_explicit(&tcg.ret_count, memory_order_relaxed))
		return;
	struct vstate *vs = &tcg.vs[vcpu];
	if (!vs->buf)
		tcg__vstate_init(vs);
	vs->rbuf->len = 0;
	uint64_t now = tcg__now_ns();
	int user = (site >> 63) == 0;
	struct hitregs hr = { .vs = vs, .have = 1u << HP_PREG_RIP, .v[HP_PREG_RIP] = site };
	uint64_t sp = tcg__reg(&hr, HP_PREG_RSP);
	if (tcg__current_task(&hr, off, vcpu, user, &task))
		return;
	struct hp_retpend_entry e;
	pthread_mutex_lock(&tcg.ret_mu);
	int got = hp_retpend__pop(tcg.rets, task, sp - 8, &e);
	if (got && e.ret_addr != site) { /* the same frame returning elsewhere: not this call's return */
		hp_retpend__push(tcg.rets, &e, NULL, NULL);
		got = 0;
	}
	atomic_store(&tcg.ret_count, hp_retpend__count(tcg.rets));
	pthread_mutex_unlock(&tcg.ret_mu);
	if (!got || e.tag >= TCG_MAX_SLOTS)
		return;
	struct slot *s = &tcg.slots[e.tag];
	atomic_fetch_sub_explicit(&s->ret_pending, 1, memory_order_relaxed);
	const struct hp_pctl_probe *c = &s->cfg;
	if (!atomic_load_explicit(&s->enabled, memory_order_relaxed) || c->probe_id != e.probe_id) {
		atomic_fetch_add_explicit(&s->ret_dropped[HP_RETPEND_REMOVED], 1, memory_order_relaxed);
		return;
	}
	struct task_id t = { -1, -1, { 0 } };
	int have_task = tcg__read_task(&hr, c, vcpu, user, &t, NULL) == 0;
	if (!have_task) {
		t = (struct task_id){ -1, -1, { 0 } };
		atomic_fetch_add_explicit(&vs->mem_errors, 1, memory_order_relaxed);
	}
	union {
		struct hp_prec_hit h;
		uint8_t raw[HP_PREC_HIT_MAX + 8];
	} rec;
	struct hp_prec_hit *h = &rec.h;
	tcg__hit_head(h, c, vcpu, now, &t, have_task, user, site, tcg__reg(&hr, HP_PREG_CR3));
	h->flags |= HP_PHIT_RET;
	uint8_t *p = rec.raw + sizeof *h;
	struct hp_prec_ret r = { .retval = (int64_t)tcg__reg(&hr, HP_PREG_RAX), .latency_ns = now - e.entry_ns };
	uint64_t cregs[HP_PREGS] = { 0 };
	if (c->cond.regs)
		tcg__cond_regs(&hr, &c->cond, cregs);
	struct hp_pcond_in in = { .regs = cregs,
				  .have_task = have_task,
				  .pid = t.pid,
				  .tgid = t.tgid,
				  .comm = t.comm,
				  .retval = (uint64_t)r.retval,
				  .latency_ns = r.latency_ns };
	if (!hp_pcond_eval(&c->cond, &in)) { /* --if on the value and latency: only here, at the return */
		tcg__filtered(vs);
		return;
	}
	memcpy(p, &r, sizeof r);
	p += sizeof r;
	if (c->flags & HP_PPROBE_REGS) {
		uint64_t regs[HP_PREGS];
		for (int i = 0; i < HP_PREGS; i++)
			regs[i] = tcg__reg(&hr, (enum hp_preg)i);
		h->flags |= HP_PHIT_REGS;
		h->nregs = HP_PREGS;
		memcpy(p, regs, sizeof regs);
		p += sizeof regs;
	}
	tcg__hit_put(vcpu, h, p);
}

/* do_exit: the leaving task's calls will not return. */
void tcg__on_task_exit(unsigned vcpu, void *udata)
{
	(void)udata;
	uint64_t task, off = atomic_load_explicit(&tcg.ret_current_task, memory_order_relaxed);
	if (vcpu >= tcg.max_vcpus || !off || !atomic_load_explicit(&tcg.ret_count, memory_order_relaxed))
		return;
	struct vstate *vs = &tcg.vs[vcpu];
	if (!vs->buf)
		tcg__vstate_init(vs);
	vs->rbuf->len = 0;
	struct hitregs hr = { .vs = vs };
	if (tcg__current_task(&hr, off, vcpu, 0, &task))
		return;
	pthread_mutex_lock(&tcg.ret_mu);
	hp_retpend__drop_task(tcg.rets, task, ret_dropped, NULL);
	atomic_store(&tcg.ret_count, hp_retpend__count(tcg.rets));
	pthread_mutex_unlock(&tcg.ret_mu);
}

int tcg__ret_init(void)
{
	pthread_mutex_init(&tcg.ret_mu, NULL);
	tcg.rets = hp_retpend__new(RET_TABLE);
	tcg.ret_sites = calloc(RET_SITES, sizeof *tcg.ret_sites);
	return tcg.rets && tcg.ret_sites ? 0 : -1;
}

void tcg__ret_forget_sites(void)
{
	if (!atomic_load(&tcg.nret_sites))
		return;
	for (uint32_t i = 0; i < RET_SITES; i++)
		atomic_store(&tcg.ret_sites[i], 0);
	atomic_store(&tcg.nret_sites, 0);
}
