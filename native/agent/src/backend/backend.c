/* The backend front door: every caller goes through these, so a backend that leaves
 * an operation out (NULL) gets a clear -ENOTSUP or a neutral default, never a crash. */
#include "backend/backend.h"

#include <errno.h>
#include <string.h>

#include "base/util.h"

static int nosup(const struct hp_backend *b, const char *what, struct hp_err *err)
{
	return hp_err__set(err, ENOTSUP, "the %s backend cannot %s", hp_backend__name(b), what);
}

const char *hp_backend__name(const struct hp_backend *b)
{
	return b ? b->ops->name : "none";
}

int hp_backend__can_stop(const struct hp_backend *b)
{
	return b && b->ops->stop && b->ops->read_virt;
}

int hp_backend__captures(const struct hp_backend *b)
{
	return b && b->ops->arm_plan;
}

int hp_backend__reads_any_vcpu(const struct hp_backend *b)
{
	return hp_backend__can_stop(b) && b->ops->vcpu_regs;
}

int hp_backend__read_virt(struct hp_backend *b, uint64_t va, void *buf, size_t len, struct hp_err *err)
{
	return b->ops->read_virt ? b->ops->read_virt(b, va, buf, len, err) : nosup(b, "read guest memory", err);
}

int hp_backend__write_virt(struct hp_backend *b, uint64_t va, const void *buf, size_t len, struct hp_err *err)
{
	return b->ops->write_virt ? b->ops->write_virt(b, va, buf, len, err) : nosup(b, "write guest memory", err);
}

int hp_backend__read_u64(struct hp_backend *b, uint64_t va, uint64_t *v, struct hp_err *err)
{
	uint64_t x;
	int rc = hp_backend__read_virt(b, va, &x, 8, err);
	if (!rc)
		*v = x; /* guest and host are both little-endian x86-64 */
	return rc;
}

int hp_backend__read_regs(struct hp_backend *b, uint64_t regs[HP_NREGS], struct hp_err *err)
{
	return b->ops->read_regs ? b->ops->read_regs(b, regs, err) : nosup(b, "read a stopped vCPU's registers", err);
}

int hp_backend__vcpu_regs(struct hp_backend *b, int vcpu, uint64_t regs[HP_NREGS], struct hp_err *err)
{
	return b->ops->vcpu_regs ? b->ops->vcpu_regs(b, vcpu, regs, err) : nosup(b, "read any vCPU's registers", err);
}

int hp_backend__write_regs(struct hp_backend *b, const uint64_t regs[HP_NREGS], uint32_t mask, struct hp_err *err)
{
	return b->ops->write_regs ? b->ops->write_regs(b, regs, mask, err) : nosup(b, "write registers", err);
}

int hp_backend__step_over(struct hp_backend *b, int vcpu, uint64_t addr, struct hp_err *err)
{
	return b->ops->step_over ? b->ops->step_over(b, vcpu, addr, err) : nosup(b, "single-step", err);
}

int hp_backend__stop(struct hp_backend *b, struct hp_bev *ev, int *got_ev, struct hp_err *err)
{
	*got_ev = 0;
	return b->ops->stop ? b->ops->stop(b, ev, got_ev, err) : nosup(b, "stop the VM", err);
}

int hp_backend__resume(struct hp_backend *b, struct hp_err *err)
{
	return b->ops->resume ? b->ops->resume(b, err) : nosup(b, "resume the VM", err);
}

uint64_t hp_backend__run_clock(struct hp_backend *b, uint64_t at)
{
	return b && b->ops->run_clock ? b->ops->run_clock(b, at) : at;
}

int hp_backend__arm(struct hp_backend *b, uint64_t addr, uint32_t probe_id, struct hp_err *err)
{
	return b->ops->arm(b, addr, probe_id, err);
}

int hp_backend__disarm(struct hp_backend *b, uint64_t addr, uint32_t probe_id, struct hp_err *err)
{
	return b->ops->disarm(b, addr, probe_id, err);
}

int hp_backend__arm_hw(struct hp_backend *b, uint64_t addr, struct hp_err *err)
{
	return b->ops->arm_hw ? b->ops->arm_hw(b, addr, err) : nosup(b, "set hardware breakpoints", err);
}

int hp_backend__disarm_hw(struct hp_backend *b, uint64_t addr, struct hp_err *err)
{
	return b->ops->disarm_hw ? b->ops->disarm_hw(b, addr, err) : nosup(b, "clear hardware breakpoints", err);
}

int hp_backend__arm_plan(struct hp_backend *b, const struct hp_capture_plan *plan,
			 const struct hp_plugin_task_offsets *task, struct hp_err *err)
{
	return b->ops->arm_plan ? b->ops->arm_plan(b, plan, task, err) : nosup(b, "capture inside QEMU", err);
}

void hp_backend__forget(struct hp_backend *b, uint32_t probe_id)
{
	if (b && b->ops->forget)
		b->ops->forget(b, probe_id);
}

int hp_backend__event_fd(struct hp_backend *b)
{
	return b->ops->event_fd ? b->ops->event_fd(b) : -1;
}

int hp_backend__next_event(struct hp_backend *b, struct hp_bev *ev, struct hp_err *err)
{
	return b->ops->next_event ? b->ops->next_event(b, ev, err) : 0;
}

int hp_backend__detach(struct hp_backend *b, struct hp_err *err)
{
	return b->ops->detach ? b->ops->detach(b, err) : 0;
}

int hp_backend__sync(struct hp_backend *b, uint32_t timeout_ms, struct hp_err *err)
{
	return b->ops->sync ? b->ops->sync(b, timeout_ms, err) : 0; /* nothing pending elsewhere */
}

void hp_backend__set_apply_wait(struct hp_backend *b, uint32_t ms)
{
	if (b->ops->set_apply_wait)
		b->ops->set_apply_wait(b, ms);
}

int hp_backend__flush_counts(struct hp_backend *b, struct hp_err *err)
{
	return b->ops->flush_counts ? b->ops->flush_counts(b, err) : 0;
}

int hp_backend__count_total(struct hp_backend *b, uint32_t probe_id, struct hp_count *total)
{
	return b->ops->count_total ? b->ops->count_total(b, probe_id, total) : -ENOENT;
}

int hp_backend__stats(struct hp_backend *b, struct hp_pctl_stats *st, struct hp_err *err)
{
	return b->ops->stats ? b->ops->stats(b, st, err) : nosup(b, "report its own counters", err);
}

uint64_t hp_backend__corrupt(struct hp_backend *b)
{
	return b->ops->corrupt ? b->ops->corrupt(b) : 0;
}

void hp_backend__destroy(struct hp_backend *b)
{
	if (b)
		b->ops->destroy(b);
}
