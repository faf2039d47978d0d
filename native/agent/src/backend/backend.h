/* The one interface behind which the probe mechanisms sit: the QEMU gdbstub (KVM and
 * TCG), the in-QEMU TCG plugin, and a file-backed fake for unit tests. The engine
 * (engine.c) owns probe logic; a backend only moves bytes, plants and lifts probes,
 * and reports stops or already-captured hits. All calls come from the VM's thread. */
#ifndef HP_BACKEND_H
#define HP_BACKEND_H
#include <stdint.h>
#include "hprobe/journal.h"

struct hp_backend;
struct hp_probe;
struct hp_plugin_task_offsets; /* plugin/include/hprobe/plugin_proto.h */

enum hp_bev_type {
	HP_BEV_STOP_BP = 1,   /* a vCPU stopped at a breakpoint: the engine captures and resumes */
	HP_BEV_STOP_OTHER,    /* stopped for another reason (our interrupt, a step) */
	HP_BEV_HIT,           /* a hit captured inside QEMU (plugin): hit is filled */
	HP_BEV_DROPPED,       /* hits lost before reaching us: count */
	HP_BEV_COUNT,         /* counting probe totals: count/first/last */
	HP_BEV_GONE,          /* the VM went away: reason */
};

struct hp_bev {
	enum hp_bev_type type;
	int vcpu;             /* 0-based */
	uint64_t addr;        /* STOP_BP: rip */
	uint64_t time_ns;
	struct hp_hit hit;    /* HIT */
	struct hp_count count;
	uint64_t dropped;
	uint32_t probe_id;
	char reason[128];
};

/* Register write mask bits (by enum hp_reg). */
#define HP_REGBIT(r) (1u << (r))

struct hp_backend_ops {
	const char *name;              /* "gdbstub", "tcg-plugin", "file" */
	/* Guest virtual memory through the stopped vCPU's address space. */
	int (*read_virt)(struct hp_backend *b, uint64_t va, void *buf, size_t len, struct hp_err *err);
	int (*write_virt)(struct hp_backend *b, uint64_t va, const void *buf, size_t len, struct hp_err *err);
	/* Registers of the vCPU that stopped last (HP_REG_* order). */
	int (*read_regs)(struct hp_backend *b, uint64_t regs[HP_NREGS], struct hp_err *err);
	/* Registers of any vCPU (0-based) while the VM is stopped; NULL if not offered. */
	int (*vcpu_regs)(struct hp_backend *b, int vcpu, uint64_t regs[HP_NREGS], struct hp_err *err);
	/* Queues writes of the masked registers; they take effect before the next resume. */
	int (*write_regs)(struct hp_backend *b, const uint64_t regs[HP_NREGS], uint32_t mask, struct hp_err *err);
	int (*arm)(struct hp_backend *b, uint64_t addr, uint32_t probe_id, struct hp_err *err);
	int (*disarm)(struct hp_backend *b, uint64_t addr, uint32_t probe_id, struct hp_err *err);
	/* Hardware breakpoints (debug registers): nothing is written into guest memory.
	 * Optional (NULL: not offered); under KVM at most 4. */
	int (*arm_hw)(struct hp_backend *b, uint64_t addr, struct hp_err *err);
	int (*disarm_hw)(struct hp_backend *b, uint64_t addr, struct hp_err *err);
	/* Executes one instruction on the stopped vCPU with the probe at addr lifted. */
	int (*step_over)(struct hp_backend *b, int vcpu, uint64_t addr, struct hp_err *err);
	/* Stops the VM (returns when stopped; a racing breakpoint stop is returned in *ev
	 * with *got_ev = 1 so the hit is not lost). */
	int (*stop)(struct hp_backend *b, struct hp_bev *ev, int *got_ev, struct hp_err *err);
	int (*resume)(struct hp_backend *b, struct hp_err *err);
	/* Host monotonic time minus the time this backend kept the VM stopped: the time
	 * the guest itself lived through. NULL if the backend never stops the VM. */
	uint64_t (*run_clock)(struct hp_backend *b);
	/* fd to poll for events (-1: none), and whether buffered events remain. */
	int (*event_fd)(struct hp_backend *b);
	/* 1 = *ev filled, 0 = nothing now, <0 = error (the VM is probably gone). */
	int (*next_event)(struct hp_backend *b, struct hp_bev *ev, struct hp_err *err);
	/* Optional (NULL for mechanisms that plant at an address only, like the gdbstub):
	 * arms a probe with its whole capture plan (kind, args, registers, memory, pid/comm
	 * filter), for mechanisms that capture inside the hypervisor. task says where the
	 * current task and a syscall's pt_regs fields are. Hits then arrive as HP_BEV_HIT,
	 * counting totals as HP_BEV_COUNT. Plain arm() re-arms a probe armed this way. */
	int (*arm_probe)(struct hp_backend *b, const struct hp_probe *p,
			 const struct hp_plugin_task_offsets *task, struct hp_err *err);
	/* Optional: the probe is gone for good (after disarm); drops what the mechanism keeps for it. */
	void (*forget)(struct hp_backend *b, uint32_t probe_id);
	/* Lifts every probe and lets the VM run free. */
	int (*detach)(struct hp_backend *b, struct hp_err *err);
	void (*destroy)(struct hp_backend *b);
};

struct hp_backend {
	const struct hp_backend_ops *ops;
	void *priv;
};

/* The gdbstub backend over an already connected, handshaken RSP session. */
struct hp_rsp;
struct hp_backend *hp_gdb_backend__new(struct hp_rsp *rsp, int stop_thread);
#endif
