/* The gdbstub backend: probes are QEMU breakpoints (Z0), which work under KVM and TCG.
 * A hit stops the whole VM; the engine captures and resumes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/rsp.h"
#include "base/util.h"

struct armed {
	uint64_t addr;
	unsigned refs;
	int hw; /* a debug register (Z1) rather than Z0 */
};

struct gdb {
	struct hp_backend b;
	struct hp_rsp *rsp;
	int running;
	int thread; /* the stopped vCPU's gdb thread id */
	int regs_valid;
	uint64_t regs[HP_NREGS];
	int pending_oks;        /* queued 'P' replies not read yet */
	uint64_t stopped_at;    /* when the VM last stopped (host monotonic ns) */
	uint64_t stopped_total; /* host time the VM spent stopped, for the guest's clock */
	struct armed *armed;
	size_t narmed, cap;
};

static struct gdb *G(struct hp_backend *b)
{
	return b->priv;
}

static const enum hp_rsp_reg map[HP_NREGS] = {
	[HP_REG_RAX] = RSP_RAX, [HP_REG_RBX] = RSP_RBX,         [HP_REG_RCX] = RSP_RCX,
	[HP_REG_RDX] = RSP_RDX, [HP_REG_RSI] = RSP_RSI,         [HP_REG_RDI] = RSP_RDI,
	[HP_REG_RBP] = RSP_RBP, [HP_REG_RSP] = RSP_RSP,         [HP_REG_R8] = RSP_R8,
	[HP_REG_R9] = RSP_R9,   [HP_REG_R10] = RSP_R10,         [HP_REG_R11] = RSP_R11,
	[HP_REG_R12] = RSP_R12, [HP_REG_R13] = RSP_R13,         [HP_REG_R14] = RSP_R14,
	[HP_REG_R15] = RSP_R15, [HP_REG_RIP] = RSP_RIP,         [HP_REG_RFLAGS] = RSP_EFLAGS,
	[HP_REG_CR3] = RSP_CR3, [HP_REG_GS_BASE] = RSP_GS_BASE, [HP_REG_K_GS_BASE] = RSP_K_GS_BASE,
};

/* Replies come in request order: read the queued 'OK's before anything else. */
static int drain(struct gdb *g, struct hp_err *err)
{
	int rc = 0;
	while (g->pending_oks > 0) {
		g->pending_oks--;
		int r = hp_rsp__expect_ok(g->rsp, err);
		if (r && !rc)
			rc = r;
	}
	return rc;
}

static int gdb_read_virt(struct hp_backend *b, uint64_t va, void *buf, size_t len, struct hp_err *err)
{
	struct gdb *g = G(b);
	int rc = drain(g, err);
	return rc ? rc : hp_rsp__read_mem(g->rsp, va, buf, len, err);
}

static int gdb_write_virt(struct hp_backend *b, uint64_t va, const void *buf, size_t len, struct hp_err *err)
{
	struct gdb *g = G(b);
	int rc = drain(g, err);
	return rc ? rc : hp_rsp__write_mem(g->rsp, va, buf, len, err);
}

static int gdb_read_regs(struct hp_backend *b, uint64_t regs[HP_NREGS], struct hp_err *err)
{
	struct gdb *g = G(b);
	if (!g->regs_valid) {
		uint64_t raw[RSP_NREGS];
		int rc = drain(g, err);
		if (!rc)
			rc = hp_rsp__read_regs(g->rsp, raw, err);
		if (rc)
			return rc;
		for (int i = 0; i < HP_NREGS; i++)
			g->regs[i] = raw[map[i]];
		g->regs_valid = 1;
	}
	memcpy(regs, g->regs, sizeof g->regs);
	return 0;
}

static int gdb_vcpu_regs(struct hp_backend *b, int vcpu, uint64_t regs[HP_NREGS], struct hp_err *err)
{
	struct gdb *g = G(b);
	if (vcpu + 1 == g->thread)
		return gdb_read_regs(b, regs, err);
	uint64_t raw[RSP_NREGS];
	int rc = drain(g, err);
	if (!rc)
		rc = hp_rsp__select_thread(g->rsp, vcpu + 1, err);
	if (!rc)
		rc = hp_rsp__read_regs(g->rsp, raw, err);
	/* back to the stopped vCPU: the engine's reads and writes are about it */
	struct hp_err e2;
	int r2 = hp_rsp__select_thread(g->rsp, g->thread, rc ? &e2 : err);
	if (rc)
		return rc;
	for (int i = 0; i < HP_NREGS; i++)
		regs[i] = raw[map[i]];
	return r2;
}

static int gdb_write_regs(struct hp_backend *b, const uint64_t regs[HP_NREGS], uint32_t mask, struct hp_err *err)
{
	struct gdb *g = G(b);
	for (int i = 0; i < HP_NREGS; i++) {
		if (!(mask & HP_REGBIT(i)))
			continue;
		/* pipelined: the OK is read later, before the next request that needs a reply */
		int rc = hp_rsp__queue_write_reg(g->rsp, map[i], regs[i]);
		if (rc)
			return hp_err__set(err, -rc, "cannot write register %s", hp_reg__name(i));
		g->pending_oks++;
		g->regs[i] = regs[i];
	}
	return 0;
}

static struct armed *find_armed(struct gdb *g, uint64_t addr)
{
	for (size_t i = 0; i < g->narmed; i++)
		if (g->armed[i].addr == addr)
			return &g->armed[i];
	return NULL;
}

#define MAX_HW_BP 4 /* x86 debug registers DR0-DR3 */

static int arm_kind(struct hp_backend *b, uint64_t addr, int hw, struct hp_err *err)
{
	struct gdb *g = G(b);
	struct armed *a = find_armed(g, addr);
	if (a && a->hw != hw)
		return hp_err__set(err, EBUSY, "0x%llx already has a %s breakpoint", (unsigned long long)addr,
				   a->hw ? "hardware" : "software");
	if (a) {
		a->refs++;
		return 0;
	}
	if (g->narmed == g->cap) {
		size_t nc = g->cap ? g->cap * 2 : 16;
		struct armed *n = realloc(g->armed, nc * sizeof *n);
		if (!n)
			return hp_err__set(err, ENOMEM, "out of memory");
		g->armed = n;
		g->cap = nc;
	}
	if (hw) {
		int used = 0;
		for (size_t i = 0; i < g->narmed; i++)
			used += g->armed[i].hw;
		if (used >= MAX_HW_BP)
			return hp_err__set(err, ENOSPC, "all %d hardware breakpoints are in use", MAX_HW_BP);
	}
	int rc = drain(g, err);
	if (!rc)
		rc = hp_rsp__set_bp_type(g->rsp, hw, addr, 1, err);
	if (rc)
		return rc;
	g->armed[g->narmed++] = (struct armed){ addr, 1, hw };
	return 0;
}

static int gdb_arm(struct hp_backend *b, uint64_t addr, uint32_t probe_id, struct hp_err *err)
{
	(void)probe_id;
	return arm_kind(b, addr, 0, err);
}

static int gdb_arm_hw(struct hp_backend *b, uint64_t addr, struct hp_err *err)
{
	return arm_kind(b, addr, 1, err);
}

static int gdb_disarm(struct hp_backend *b, uint64_t addr, uint32_t probe_id, struct hp_err *err)
{
	(void)probe_id;
	struct gdb *g = G(b);
	struct armed *a = find_armed(g, addr);
	if (!a)
		return 0;
	if (--a->refs)
		return 0;
	int rc = drain(g, err);
	if (!rc)
		rc = hp_rsp__set_bp_type(g->rsp, a->hw, addr, 0, err);
	*a = g->armed[--g->narmed];
	return rc;
}

static int gdb_disarm_hw(struct hp_backend *b, uint64_t addr, struct hp_err *err)
{
	return gdb_disarm(b, addr, 0, err);
}

#define STOP_TIMEOUT_MS 10000

static void mark_stopped(struct gdb *g)
{
	if (g->running)
		g->stopped_at = hp_now_ns();
	g->running = 0;
	g->regs_valid = 0;
}

static int wait_stop(struct gdb *g, struct hp_rsp_stop *st, struct hp_err *err)
{
	char pkt[HP_RSP_MAX_PACKET];
	int rc = hp_rsp__recv(g->rsp, pkt, sizeof pkt, STOP_TIMEOUT_MS, err);
	if (rc)
		return rc;
	if (hp_rsp__parse_stop(pkt, st))
		return hp_err__set(err, EPROTO, "expected a stop reply, got '%.32s'", pkt);
	mark_stopped(g);
	if (st->thread)
		g->thread = st->thread;
	return st->exited ? hp_err__set(err, ECONNRESET, "the VM exited") : 0;
}

/* QEMU sometimes reports a step while RIP has not moved; a 'c' then would fire the
 * same breakpoint again and count the hit twice. Step until RIP moves. */
static int gdb_step_over(struct hp_backend *b, int vcpu, uint64_t addr, struct hp_err *err)
{
	struct gdb *g = G(b);
	int thread = vcpu + 1, rc = drain(g, err);
	struct armed *arm = find_armed(g, addr);
	int armed = arm != NULL, hw = arm && arm->hw;
	if (!rc && armed)
		rc = hp_rsp__set_bp_type(g->rsp, hw, addr, 0, err);
	for (int tries = 0; !rc && tries < 8; tries++) {
		struct hp_rsp_stop st;
		uint64_t regs[HP_NREGS];
		if ((rc = hp_rsp__step_thread(g->rsp, thread)) || (rc = wait_stop(g, &st, err)) ||
		    (rc = gdb_read_regs(b, regs, err)))
			break;
		if (regs[HP_REG_RIP] != addr)
			break;
	}
	if (armed) {
		struct hp_err e2;
		int r2 = hp_rsp__set_bp_type(g->rsp, hw, addr, 1, rc ? &e2 : err);
		if (!rc)
			rc = r2;
	}
	return rc;
}

static int gdb_resume(struct hp_backend *b, struct hp_err *err)
{
	struct gdb *g = G(b);
	if (g->running)
		return 0;
	/* QEMU 10 drops a 'c' that arrives in the same read as a 'P' before it (the VM
	 * stays stopped): read the register writes' replies first. */
	int rc = drain(g, err);
	if (rc)
		return rc;
	rc = hp_rsp__continue(g->rsp);
	if (rc)
		return hp_err__set(err, -rc, "gdbstub write failed: %s", strerror(-rc));
	g->stopped_total += hp_now_ns() - g->stopped_at;
	g->running = 1;
	g->regs_valid = 0;
	return rc;
}

/* The guest's clock stands still while the VM is stopped (QEMU pauses its virtual
 * clock), so host time minus our stops is the time the guest lived through. A past
 * `at` is taken as after the stops already counted: a stop between it and now makes
 * the answer early by that stop's length. */
static uint64_t gdb_run_clock(struct hp_backend *b, uint64_t at)
{
	struct gdb *g = G(b);
	uint64_t upto = g->running ? hp_now_ns() : g->stopped_at;
	return (at < upto ? at : upto) - g->stopped_total;
}

static int classify(struct gdb *g, const struct hp_rsp_stop *st, struct hp_bev *ev, struct hp_err *err)
{
	memset(ev, 0, sizeof *ev);
	ev->time_ns = hp_now_ns();
	ev->vcpu = (st->thread ? st->thread : g->thread) - 1;
	uint64_t regs[HP_NREGS];
	int rc = gdb_read_regs(&g->b, regs, err);
	if (rc)
		return rc;
	ev->addr = regs[HP_REG_RIP];
	ev->type = st->signal == 5 && find_armed(g, ev->addr) ? HP_BEV_STOP_BP : HP_BEV_STOP_OTHER;
	return 1;
}

static int gdb_stop(struct hp_backend *b, struct hp_bev *ev, int *got_ev, struct hp_err *err)
{
	struct gdb *g = G(b);
	*got_ev = 0;
	if (!g->running)
		return 0;
	int rc = hp_rsp__interrupt(g->rsp);
	if (rc)
		return hp_err__set(err, -rc, "gdbstub write failed: %s", strerror(-rc));
	struct hp_rsp_stop st;
	/* If a breakpoint fired just before our 0x03, its stop reply is this one and QEMU,
	 * already stopped, ignores the interrupt: the hit must still be handled. */
	if ((rc = wait_stop(g, &st, err)))
		return rc;
	rc = classify(g, &st, ev, err);
	if (rc < 0)
		return rc;
	*got_ev = ev->type == HP_BEV_STOP_BP;
	return 0;
}

static int gdb_event_fd(struct hp_backend *b)
{
	return hp_rsp__fd(G(b)->rsp);
}

static int gdb_next_event(struct hp_backend *b, struct hp_bev *ev, struct hp_err *err)
{
	struct gdb *g = G(b);
	if (!g->running)
		return 0;
	char pkt[HP_RSP_MAX_PACKET];
	int rc = hp_rsp__recv(g->rsp, pkt, sizeof pkt, 0, err);
	if (rc == -ETIMEDOUT)
		return 0;
	if (rc == -ECONNRESET) {
		memset(ev, 0, sizeof *ev);
		ev->type = HP_BEV_GONE;
		snprintf(ev->reason, sizeof ev->reason, "gdbstub connection closed");
		g->running = 0;
		return 1;
	}
	if (rc)
		return rc;
	struct hp_rsp_stop st;
	if (hp_rsp__parse_stop(pkt, &st))
		return 0; /* not a stop reply: ignore (e.g. a console 'O' packet) */
	mark_stopped(g);
	if (st.thread)
		g->thread = st.thread;
	if (st.exited) {
		memset(ev, 0, sizeof *ev);
		ev->type = HP_BEV_GONE;
		snprintf(ev->reason, sizeof ev->reason, "the VM exited");
		return 1;
	}
	return classify(g, &st, ev, err);
}

static int gdb_detach(struct hp_backend *b, struct hp_err *err)
{
	struct gdb *g = G(b);
	int got, rc = 0;
	struct hp_bev ev;
	if (g->running)
		rc = gdb_stop(b, &ev, &got, err);
	drain(g, NULL);
	while (!rc && g->narmed) {
		uint64_t addr = g->armed[0].addr;
		g->armed[0].refs = 1;
		rc = gdb_disarm(b, addr, 0, err);
	}
	/* D;1 also makes QEMU drop any breakpoint and resume the VM; hanging up instead
	 * (at destroy) leaves it stopped, with none of ours left */
	int r2 = b->leave_stopped ? 0 : hp_rsp__detach(g->rsp, rc ? NULL : err);
	return rc ? rc : r2;
}

static void gdb_destroy(struct hp_backend *b)
{
	if (!b)
		return;
	struct gdb *g = G(b);
	hp_rsp__free(g->rsp);
	free(g->armed);
	free(g);
}

static const struct hp_backend_ops gdb_ops = {
	.name = "gdbstub",
	.read_virt = gdb_read_virt,
	.write_virt = gdb_write_virt,
	.read_regs = gdb_read_regs,
	.vcpu_regs = gdb_vcpu_regs,
	.write_regs = gdb_write_regs,
	.arm = gdb_arm,
	.disarm = gdb_disarm,
	.arm_hw = gdb_arm_hw,
	.disarm_hw = gdb_disarm_hw,
	.step_over = gdb_step_over,
	.stop = gdb_stop,
	.resume = gdb_resume,
	.event_fd = gdb_event_fd,
	.run_clock = gdb_run_clock,
	.next_event = gdb_next_event,
	.detach = gdb_detach,
	.destroy = gdb_destroy,
};

struct hp_backend *hp_gdb_backend__new(struct hp_rsp *rsp, int stop_thread)
{
	struct gdb *g = calloc(1, sizeof *g);
	if (!g)
		return NULL;
	g->b.ops = &gdb_ops;
	g->b.priv = g;
	g->rsp = rsp;
	g->thread = stop_thread ? stop_thread : 1;
	g->stopped_at = hp_now_ns(); /* connecting stopped the VM */
	return &g->b;
}
