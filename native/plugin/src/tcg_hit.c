/* What every probe handler (tcg_main.c's entry hits, tcg_ret.c's returns) reads at a
 * hit, on the vCPU's thread: registers, guest memory, the current task, and the
 * record's head and its place in the vCPU's ring. */
#include <string.h>

#include "tcg.h"

void tcg__vstate_init(struct vstate *vs)
{
	vs->rbuf = g_byte_array_sized_new(8 * HP_PREGS + 64);
	vs->buf = g_byte_array_new();
}

uint64_t tcg__reg(struct hitregs *hr, enum hp_preg r)
{
	if (hr->have & (1u << r))
		return hr->v[r];
	hr->have |= 1u << r;
	hr->v[r] = 0;
	if (!tcg.reg[r])
		return 0;
	GByteArray *buf = hr->vs->rbuf;
	unsigned at = buf->len;
	int n = qemu_plugin_read_register(tcg.reg[r], buf);
	if (n >= 8 && buf->len >= at + 8)
		memcpy(&hr->v[r], buf->data + at, 8);
	else if (n > 0 && buf->len >= at + (unsigned)n)
		memcpy(&hr->v[r], buf->data + at, (size_t)n);
	return hr->v[r];
}

int tcg__read_mem(struct vstate *vs, uint64_t va, void *dst, size_t len)
{
	if (!len || !qemu_plugin_read_memory_vaddr(va, vs->buf, len) || vs->buf->len < len)
		return -1;
	memcpy(dst, vs->buf->data, len);
	return 0;
}

/* Bytes of task_struct read at once when pid, tgid and comm lie this close: one
 * guest page walk instead of two. */
#define TASK_SPAN_MAX 1024

/* current_task sits in the per-CPU area: at gs_base in the kernel, parked in
 * k_gs_base while the vCPU runs user code. Only __switch_to changes it, so a vCPU
 * that has passed finish_task_switch since its last __switch_to keeps the pointer
 * it read (inline stores at both keep task_ok and switches; a guest read is
 * ~0.1 us). What the task holds (pid, comm) is read at every hit all the same. */
int tcg__current_task(struct hitregs *hr, uint64_t current_task_off, unsigned vcpu, int user, uint64_t *task)
{
	struct vstate *vs = hr->vs;
	const struct sbentry *e = qemu_plugin_scoreboard_find(tcg.sb, vcpu);
	int ok = __atomic_load_n(&e->task_ok, __ATOMIC_RELAXED) == 1;
	uint64_t sw = __atomic_load_n(&e->switches, __ATOMIC_RELAXED);
	if (ok && vs->task && vs->task_switches == sw) {
		*task = vs->task;
		atomic_store_explicit(&vs->task_cached,
				      atomic_load_explicit(&vs->task_cached, memory_order_relaxed) + 1,
				      memory_order_relaxed);
		return 0;
	}
	uint64_t percpu = tcg__reg(hr, user ? HP_PREG_K_GS_BASE : HP_PREG_GS_BASE);
	if (!percpu)
		percpu = tcg__reg(hr, user ? HP_PREG_GS_BASE : HP_PREG_K_GS_BASE);
	if (!percpu || tcg__read_mem(vs, percpu + current_task_off, task, 8) || !*task)
		return -1;
	vs->task = ok ? *task : 0;
	vs->task_switches = sw;
	return 0;
}

/* The current task's identity; its task_struct address into *taskp (may be NULL). */
int tcg__read_task(struct hitregs *hr, const struct hp_pctl_probe *c, unsigned vcpu, int user, struct task_id *t,
		   uint64_t *taskp)
{
	const struct hp_plugin_task_offsets *o = &c->task;
	struct vstate *vs = hr->vs;
	uint64_t task;
	uint32_t lo, len;
	if (!hp_ptask_known(o) || hp_ptask_span(o, &lo, &len) ||
	    tcg__current_task(hr, o->current_task, vcpu, user, &task))
		return -1;
	if (taskp)
		*taskp = task;
	if (len <= TASK_SPAN_MAX) {
		uint8_t span[TASK_SPAN_MAX];
		if (tcg__read_mem(vs, task + lo, span, len))
			return -1;
		memcpy(&t->pid, span + (o->task_pid - lo), 4);
		memcpy(&t->tgid, span + (o->task_tgid - lo), 4);
		memcpy(t->comm, span + (o->task_comm - lo), HP_COMM_BYTES);
		return 0;
	}
	if (tcg__read_mem(vs, task + o->task_pid, &t->pid, 4) || tcg__read_mem(vs, task + o->task_tgid, &t->tgid, 4))
		return -1;
	return tcg__read_mem(vs, task + o->task_comm, t->comm, HP_COMM_BYTES);
}

void tcg__hit_head(struct hp_prec_hit *h, const struct hp_pctl_probe *c, unsigned vcpu, uint64_t now,
		   const struct task_id *t, int have_task, int user, uint64_t ip, uint64_t cr3)
{
	memset(h, 0, sizeof *h);
	h->h.type = HP_PREC_HIT;
	h->probe_id = c->probe_id;
	h->vcpu = vcpu;
	h->time_ns = now;
	h->pid = t->pid;
	h->tgid = t->tgid;
	memcpy(h->comm, t->comm, HP_COMM_BYTES);
	h->ip = ip;
	h->flags = (user ? HP_PHIT_USER : 0) | (have_task ? HP_PHIT_TASK : 0);
	h->cr3 = cr3;
}

void tcg__hit_put(unsigned vcpu, struct hp_prec_hit *h, const uint8_t *end)
{
	uint32_t len = ((uint32_t)(end - (const uint8_t *)h) + 7) & ~7u;
	h->h.len = len;
	if (tcg__ring_put(vcpu, h, len)) /* this vCPU is the ring's one writer */
		atomic_store_explicit(&tcg.rings[vcpu]->dropped,
				      atomic_load_explicit(&tcg.rings[vcpu]->dropped, memory_order_relaxed) + 1,
				      memory_order_relaxed);
}

void tcg__cond_regs(struct hitregs *hr, const struct hp_pcond *c, uint64_t *out)
{
	for (int r = 0; r < HP_PREGS; r++)
		out[r] = c->regs & (1u << r) ? tcg__reg(hr, (enum hp_preg)r) : 0;
}

void tcg__filtered(struct vstate *vs)
{
	atomic_fetch_add_explicit(&vs->filtered, 1, memory_order_relaxed);
}
