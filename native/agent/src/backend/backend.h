/* The one interface behind which the probe mechanisms sit: the QEMU gdbstub (KVM and
 * TCG), the in-QEMU TCG plugin, and a file-backed fake for unit tests. The engine
 * (probes/engine.c) owns probe logic; a backend only moves bytes, plants and lifts
 * probes, and reports stops or already-captured hits. All calls come from the VM's
 * thread.
 *
 * Callers use the hp_backend__*() wrappers below, never the table: a backend leaves
 * out what it cannot do (NULL), and the wrapper answers -ENOTSUP with a message that
 * names the backend, or a neutral default where one exists (LibVMI's driver model). */
#ifndef HP_BACKEND_H
#define HP_BACKEND_H
#include <stdint.h>
#include "hprobe/journal.h"
#include "hprobe/pcond.h"
#include "hprobe/retpend.h"

struct hp_backend;
struct hp_plugin_task_offsets; /* plugin/include/hprobe/plugin_proto.h */
struct hp_pctl_stats;

enum hp_bev_type {
	HP_BEV_STOP_BP = 1, /* a vCPU stopped at a breakpoint: the engine captures and resumes */
	HP_BEV_STOP_OTHER,  /* stopped for another reason (our interrupt, a step) */
	HP_BEV_HIT,         /* a hit captured inside QEMU (plugin): hit is filled */
	HP_BEV_DROPPED,     /* hits lost before reaching us: count */
	HP_BEV_COUNT,       /* counting probe totals: count/first/last */
	HP_BEV_RETSTAT,     /* a return probe's calls in flight and dropped: ret_pending, ret_dropped */
	HP_BEV_GONE,        /* the VM went away: reason */
};

struct hp_bev {
	enum hp_bev_type type;
	int vcpu;      /* 0-based */
	uint64_t addr; /* STOP_BP: rip */
	uint64_t time_ns;
	struct hp_hit hit; /* HIT */
	struct hp_count count;
	uint64_t dropped;
	uint64_t ret_pending, ret_dropped[HP_RETPEND_NWHY];
	uint32_t probe_id;
	char reason[128];
};

/* Register write mask bits (by enum hp_reg). */
#define HP_REGBIT(r) (1u << (r))

/* Memory captured at a hit: SRC[+OFF]:LEN, or a member path (file->f_path.dentry:8):
 * LEN bytes at (*(*(SRC + off) + deref[0])...) + deref[nderef-1]. */
enum hp_mem_src { HP_MEM_NONE, HP_MEM_ARG, HP_MEM_REG };
#define HP_MAX_DEREF 5 /* hp_btf__fetch_path's pointers, and a string's */

struct hp_mem_spec {
	enum hp_mem_src src;
	int index; /* arg number (1-based) or enum hp_reg */
	int64_t off;
	uint32_t len; /* bytes (<= HP_MAX_MEM) */
	int is_string;
	uint32_t nderef; /* 0..HP_MAX_DEREF pointers loaded, each then offset by deref[i] */
	int32_t deref[HP_MAX_DEREF];
};

/* A probe's whole capture plan, for mechanisms that capture inside the hypervisor. */
struct hp_capture_plan {
	uint32_t probe_id;
	uint64_t addr;
	int count_only;   /* totals, no records */
	int nargs;        /* 0..HP_MAX_ARGS */
	int syscall_args; /* the arguments are struct pt_regs fields at *rdi */
	int regs;         /* all registers */
	struct hp_mem_spec mem;
	int32_t pid;             /* -1: any; else the pid or tgid must match */
	char comm[HP_COMM_LEN];  /* "" = any */
	int ret;                 /* a return probe: addr is the function's entry, hits are its returns */
	uint64_t exit_addr;      /* return probes: do_exit, where a task's calls in flight are dropped */
	uint64_t ret_timeout_ns; /* return probes: a call not returned by then is dropped (0: 300 s) */
	struct hp_pcond cond;    /* --if (checked: hp_pcond_check) */
};

struct hp_backend_ops {
	const char *name; /* "gdbstub", "tcg-plugin", "file" */
	/* ---- a stopping mechanism (NULL where the backend never stops the VM) ---- */
	/* Guest virtual memory through the stopped vCPU's address space. */
	int (*read_virt)(struct hp_backend *b, uint64_t va, void *buf, size_t len, struct hp_err *err);
	int (*write_virt)(struct hp_backend *b, uint64_t va, const void *buf, size_t len, struct hp_err *err);
	/* Registers of the vCPU that stopped last (HP_REG_* order). */
	int (*read_regs)(struct hp_backend *b, uint64_t regs[HP_NREGS], struct hp_err *err);
	/* Registers of any vCPU (0-based) while the VM is stopped. */
	int (*vcpu_regs)(struct hp_backend *b, int vcpu, uint64_t regs[HP_NREGS], struct hp_err *err);
	/* Queues writes of the masked registers; they take effect before the next resume. */
	int (*write_regs)(struct hp_backend *b, const uint64_t regs[HP_NREGS], uint32_t mask, struct hp_err *err);
	/* Executes one instruction on the stopped vCPU with the probe at addr lifted. */
	int (*step_over)(struct hp_backend *b, int vcpu, uint64_t addr, struct hp_err *err);
	/* Stops the VM (returns when stopped; a racing breakpoint stop is returned in *ev
	 * with *got_ev = 1 so the hit is not lost). */
	int (*stop)(struct hp_backend *b, struct hp_bev *ev, int *got_ev, struct hp_err *err);
	int (*resume)(struct hp_backend *b, struct hp_err *err);
	/* Host monotonic time minus the time this backend kept the VM stopped: the time
	 * the guest itself lived through, at host time `at` (now or a recent past). */
	uint64_t (*run_clock)(struct hp_backend *b, uint64_t at);
	/* Hardware breakpoints (debug registers): nothing is written into guest memory.
	 * Under KVM at most 4. */
	int (*arm_hw)(struct hp_backend *b, uint64_t addr, struct hp_err *err);
	int (*disarm_hw)(struct hp_backend *b, uint64_t addr, struct hp_err *err);

	/* ---- every mechanism ---- */
	/* Plants a probe at an address (a plan armed with arm_plan is re-armed). */
	int (*arm)(struct hp_backend *b, uint64_t addr, uint32_t probe_id, struct hp_err *err);
	int (*disarm)(struct hp_backend *b, uint64_t addr, uint32_t probe_id, struct hp_err *err);
	/* fd to poll for events (-1: none). */
	int (*event_fd)(struct hp_backend *b);
	/* 1 = *ev filled, 0 = nothing now, <0 = error (the VM is probably gone). */
	int (*next_event)(struct hp_backend *b, struct hp_bev *ev, struct hp_err *err);
	/* Lifts every probe and lets the VM run free. */
	int (*detach)(struct hp_backend *b, struct hp_err *err);
	void (*destroy)(struct hp_backend *b);

	/* ---- a capturing mechanism (NULL where probes only stop the VM) ---- */
	/* Arms a probe with its whole plan; task says where the current task and a
	 * syscall's pt_regs fields are. Hits then arrive as HP_BEV_HIT, counting totals
	 * as HP_BEV_COUNT. */
	int (*arm_plan)(struct hp_backend *b, const struct hp_capture_plan *plan,
			const struct hp_plugin_task_offsets *task, struct hp_err *err);
	/* The probe is gone for good (after disarm): drops what the mechanism keeps for it. */
	void (*forget)(struct hp_backend *b, uint32_t probe_id);
	/* Waits until every change so far is in effect; -ETIMEDOUT if the VM did not run. */
	int (*sync)(struct hp_backend *b, uint32_t timeout_ms, struct hp_err *err);
	/* How long arm/disarm wait for a change to take effect (0: return at once). */
	void (*set_apply_wait)(struct hp_backend *b, uint32_t ms);
	/* Makes changed counting totals come now (as HP_BEV_COUNT). */
	int (*flush_counts)(struct hp_backend *b, struct hp_err *err);
	/* A counting probe's totals over all vCPUs from the events drained so far. */
	int (*count_total)(struct hp_backend *b, uint32_t probe_id, struct hp_count *total);
	/* The mechanism's own counters (filtered, read errors, ...). */
	int (*stats)(struct hp_backend *b, struct hp_pctl_stats *st, struct hp_err *err);
	/* Records found malformed (and skipped). */
	uint64_t (*corrupt)(struct hp_backend *b);
};

struct hp_backend {
	const struct hp_backend_ops *ops;
	void *priv;
	int leave_stopped; /* detach leaves the VM stopped: it was paused when found, or by its user */
};

/* ---- the front door ---- */
const char *hp_backend__name(const struct hp_backend *b);
/* Whether the backend can stop the VM and read its state at leisure. */
int hp_backend__can_stop(const struct hp_backend *b);
/* Whether it captures inside the hypervisor (arm_plan). */
int hp_backend__captures(const struct hp_backend *b);
/* Whether it reads any vCPU's registers while the VM is stopped (vcpu_regs). */
int hp_backend__reads_any_vcpu(const struct hp_backend *b);

int hp_backend__read_virt(struct hp_backend *b, uint64_t va, void *buf, size_t len, struct hp_err *err);
int hp_backend__write_virt(struct hp_backend *b, uint64_t va, const void *buf, size_t len, struct hp_err *err);
/* Little-endian 64-bit read; -errno on failure (*v untouched). */
int hp_backend__read_u64(struct hp_backend *b, uint64_t va, uint64_t *v, struct hp_err *err);
int hp_backend__read_regs(struct hp_backend *b, uint64_t regs[HP_NREGS], struct hp_err *err);
int hp_backend__vcpu_regs(struct hp_backend *b, int vcpu, uint64_t regs[HP_NREGS], struct hp_err *err);
int hp_backend__write_regs(struct hp_backend *b, const uint64_t regs[HP_NREGS], uint32_t mask, struct hp_err *err);
int hp_backend__step_over(struct hp_backend *b, int vcpu, uint64_t addr, struct hp_err *err);
int hp_backend__stop(struct hp_backend *b, struct hp_bev *ev, int *got_ev, struct hp_err *err);
int hp_backend__resume(struct hp_backend *b, struct hp_err *err);
/* The guest's own elapsed time at host monotonic time `at` (host time while it never
 * stops). */
uint64_t hp_backend__run_clock(struct hp_backend *b, uint64_t at);
int hp_backend__arm(struct hp_backend *b, uint64_t addr, uint32_t probe_id, struct hp_err *err);
int hp_backend__disarm(struct hp_backend *b, uint64_t addr, uint32_t probe_id, struct hp_err *err);
int hp_backend__arm_hw(struct hp_backend *b, uint64_t addr, struct hp_err *err);
int hp_backend__disarm_hw(struct hp_backend *b, uint64_t addr, struct hp_err *err);
int hp_backend__arm_plan(struct hp_backend *b, const struct hp_capture_plan *plan,
			 const struct hp_plugin_task_offsets *task, struct hp_err *err);
void hp_backend__forget(struct hp_backend *b, uint32_t probe_id);
int hp_backend__event_fd(struct hp_backend *b);
int hp_backend__next_event(struct hp_backend *b, struct hp_bev *ev, struct hp_err *err);
int hp_backend__detach(struct hp_backend *b, struct hp_err *err);
int hp_backend__sync(struct hp_backend *b, uint32_t timeout_ms, struct hp_err *err);
void hp_backend__set_apply_wait(struct hp_backend *b, uint32_t ms);
int hp_backend__flush_counts(struct hp_backend *b, struct hp_err *err);
int hp_backend__count_total(struct hp_backend *b, uint32_t probe_id, struct hp_count *total);
int hp_backend__stats(struct hp_backend *b, struct hp_pctl_stats *st, struct hp_err *err);
uint64_t hp_backend__corrupt(struct hp_backend *b);
/* NULL-safe. */
void hp_backend__destroy(struct hp_backend *b);

/* The gdbstub backend over an already connected, handshaken RSP session. */
struct hp_rsp;
struct hp_backend *hp_gdb_backend__new(struct hp_rsp *rsp, int stop_thread);
#endif
