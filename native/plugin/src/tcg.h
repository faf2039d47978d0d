/* hprobe-tcg.so internals: state shared by the instrumentation (tcg_main.c, vCPU
 * threads) and the control thread (tcg_ctl.c).
 *
 * Who touches what:
 *  - a slot's config is written by the control thread while the slot is FREE, and
 *    is read-only while any translated code may refer to it (LIVE or DEAD);
 *  - the active plan is swapped only inside qemu_plugin_reset's callback, which runs
 *    with every vCPU stopped (QEMU's exclusive context), right after QEMU flushed
 *    every translation block: no translated code refers to the old plan after it;
 *  - each vCPU writes only its own ring, scoreboard entry and struct vstate. */
#ifndef HP_TCG_H
#define HP_TCG_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "hprobe/plugin_ring.h"
#include "hprobe/retpend.h"
#include "qemu_plugin_api.h"

_Static_assert(HP_PRET_NWHY == HP_RETPEND_NWHY, "return drop reasons");

#define TCG_MAX_PROBES 256
#define TCG_MAX_SLOTS 512 /* a probe re-added with a new plan takes a new slot */
#define TCG_MAX_VCPUS (HP_PRING_MAX_RINGS - 1)
#define TCG_RET_TIMEOUT_NS (300ull * 1000000000ull) /* a return probe's call in flight, unless told */

enum slot_state { SLOT_FREE, SLOT_LIVE, SLOT_DEAD };

struct slot {
	struct hp_pctl_probe cfg;
	_Atomic int enabled; /* callbacks check it: disabling is immediate */
	int state;           /* enum slot_state (control thread) */
	int probe;           /* index in tcg.probes */
	uint32_t dead_gen;   /* free once the applied plan is at least this */
	int inline_count;    /* counting without a filter: inline add, no callback */
	/* return probes: calls in flight and dropped by why (hprobe/retpend.h) */
	_Atomic uint64_t ret_pending, ret_dropped[HP_RETPEND_NWHY];
};

/* A probe id as the agent knows it: its current slot, and the counts of slots it
 * used before (a replaced plan), so its totals never go backwards. */
struct probe {
	uint32_t id; /* 0: unused */
	int slot;    /* -1: none */
	int enabled;
	uint64_t *base; /* [vcpu] counts of retired slots */
	uint64_t *base_first, *base_last;
	uint64_t *reported;                         /* [vcpu] last total written to the control ring */
	uint64_t *seen;                             /* [vcpu] inline counters: the value seen at last_change */
	uint64_t *last_change;                      /* [vcpu] when a change of an inline count was seen */
	uint64_t ret_base[HP_RETPEND_NWHY];         /* return probes: drops of retired slots */
	uint64_t ret_reported[1 + HP_RETPEND_NWHY]; /* pending and drops last written */
};

struct plan_entry {
	uint64_t vaddr;
	struct slot *slot;
};

struct plan {
	uint64_t lo, hi;                /* vaddr range, for a quick reject */
	uint64_t switch_out, switch_in; /* task cache hooks (hp_plugin_task_offsets); 0: none */
	uint64_t exit_hook;             /* do_exit while return probes exist: their leaving tasks' calls go */
	int has_ret;                    /* a return probe is in the plan */
	size_t n;
	struct plan_entry e[]; /* sorted by vaddr */
};

/* Per-vCPU scoreboard entry: what translated code reads or adds to inline. */
struct sbentry {
	uint64_t doorbell; /* != 0: call back to re-instrument */
	uint64_t task_ok;  /* 1 from finish_task_switch to the next __switch_to */
	uint64_t switches; /* finish_task_switch entries seen */
	uint64_t count[TCG_MAX_SLOTS];
};

/* Per-vCPU state of our own (the vCPU writes, the control thread reads). */
struct vstate {
	GByteArray *buf;  /* guest memory reads */
	GByteArray *rbuf; /* one hit's register reads, appended */
	_Atomic uint64_t first_ns[TCG_MAX_SLOTS];
	_Atomic uint64_t last_ns[TCG_MAX_SLOTS];
	_Atomic uint64_t filtered, mem_errors, task_cached;
	uint64_t task, task_switches; /* cached current task, valid while switches match */
};

struct tcg {
	qemu_plugin_id_t id;
	int api_version;
	unsigned max_vcpus;
	const char *ring_path, *ctl_path;
	char own_ring[4096]; /* ring_path when we created it (no ring= given): removed at exit */
	unsigned period_ms;
	int debug;

	/* the ring file */
	void *map;
	size_t map_len;
	struct hp_pring_file *file;
	struct hp_pring *rings[HP_PRING_MAX_RINGS];
	struct {
		_Alignas(64) uint64_t tail_seen; /* written by the ring's one producer only */
	} prod[HP_PRING_MAX_RINGS];
	unsigned nrings;
	uint32_t ring_bytes;

	/* registers (handles are the same on every vCPU) */
	struct qemu_plugin_register *reg[HP_PREGS];
	uint32_t have_regs;

	struct qemu_plugin_scoreboard *sb;
	struct vstate *vs; /* [max_vcpus] */

	/* the plan */
	pthread_mutex_t mu; /* pending, generation, slots' and probes' bookkeeping */
	pthread_cond_t applied_cv;
	struct plan *pending; /* built by the control thread, not applied yet */
	struct plan *_Atomic active;
	uint32_t generation, applied;
	_Atomic int reset_wanted;
	_Atomic uint64_t resets, instrumented;

	/* return probes (tcg_main.c): the calls in flight, and the return addresses seen
	 * at their entries, which translated code instruments (insert-only, open addressing) */
	pthread_mutex_t ret_mu;
	struct hp_retpend *rets;
	_Atomic uint32_t ret_count; /* hp_retpend__count, read without the lock */
	_Atomic uint64_t *ret_sites;
	_Atomic uint32_t nret_sites;
	_Atomic uint64_t ret_current_task; /* per-CPU offset of current_task, from a return probe's plan */
	_Atomic uint64_t ret_timeout_ns;   /* calls in flight longer are dropped (the agent's, from a plan) */

	struct slot slots[TCG_MAX_SLOTS];
	struct probe probes[TCG_MAX_PROBES];

	/* the control thread */
	pthread_t ctl_thread;
	int ctl_started;
	_Atomic int stopping;
	int listen_fd, client_fd;
	int stop_pipe[2];
};

extern struct tcg tcg;

/* tcg_main.c */
void tcg__request_reinstrument(void);                            /* with tcg.mu held */
int tcg__ring_put(unsigned ring, const void *rec, uint32_t len); /* 0 or -1 (full: dropped) */
uint64_t tcg__now_ns(void);
void tcg__log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tcg__on_reset(qemu_plugin_id_t id); /* installs the pending plan (exclusive context) */

/* One hit's registers, each read from QEMU at most once: a register read goes
 * through QEMU's gdb register layer (QOM casts, a GByteArray), which is most of a
 * hit's cost when the register dump is asked for. Reads append to one array that is
 * emptied once per hit (emptying a GArray is a remove_range call of its own). */
struct hitregs {
	struct vstate *vs;
	uint32_t have;
	uint64_t v[HP_PREGS];
};

struct task_id {
	int32_t pid, tgid;
	char comm[HP_COMM_BYTES];
};

/* The vCPU's side of a hit (tcg_hit.c): its buffers, registers, guest memory, the
 * current task (its task_struct address) and the task's identity. */
void tcg__vstate_init(struct vstate *vs);
uint64_t tcg__reg(struct hitregs *hr, enum hp_preg r);
/* The registers a condition reads (its regs mask) into out[HP_PREGS]. */
void tcg__cond_regs(struct hitregs *hr, const struct hp_pcond *c, uint64_t *out);
int tcg__read_mem(struct vstate *vs, uint64_t va, void *dst, size_t len);
int tcg__current_task(struct hitregs *hr, uint64_t current_task_off, unsigned vcpu, int user, uint64_t *task);
int tcg__read_task(struct hitregs *hr, const struct hp_pctl_probe *c, unsigned vcpu, int user, struct task_id *t,
		   uint64_t *taskp);
/* A hit record's head, the same for an entry's hit and a return's. */
void tcg__hit_head(struct hp_prec_hit *h, const struct hp_pctl_probe *c, unsigned vcpu, uint64_t now,
		   const struct task_id *t, int have_task, int user, uint64_t ip, uint64_t cr3);
/* Pads the record that ends at end to 8 bytes and puts it in this vCPU's ring; a full
 * ring counts a drop. */
void tcg__hit_put(unsigned vcpu, struct hp_prec_hit *h, const uint8_t *end);
/* A hit the filter or the condition refused: counted (vm stats), no record. */
void tcg__filtered(struct vstate *vs);

/* tcg_ret.c: return probes */
int tcg__ret_init(void);
/* a return probe's entry passed its filter: the call waits for its return */
void tcg__ret_entry(struct hitregs *hr, struct slot *s, uint64_t task, uint64_t now);
int tcg__ret_site_known(uint64_t va);               /* a return address to instrument */
void tcg__on_ret(unsigned vcpu, void *udata);       /* udata: the return address */
void tcg__on_task_exit(unsigned vcpu, void *udata); /* do_exit */
void tcg__ret_forget_sites(void);                   /* exclusive context, no return probe left */
/* Drops the calls in flight of a slot (with tcg.mu held, when it retires) or that
 * waited too long (the control thread, every period). */
void tcg__ret_drop_slot(int si);
void tcg__ret_expire(void);

/* tcg_ctl.c */
int tcg_ctl__start(void);
void tcg_ctl__stop(void);
#endif
