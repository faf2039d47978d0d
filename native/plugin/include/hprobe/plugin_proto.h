/* The in-QEMU probe tier's wire formats, shared by the TCG plugin (hprobe-tcg.so) and
 * the agent (agent/src/plugin_backend.c):
 *  - the ring file: created and sized by the agent, mapped by both. One single-producer
 *    single-consumer ring per vCPU (producer: that vCPU's thread in QEMU) and one
 *    control ring last (producer: the plugin's control thread: counting totals);
 *  - the control messages on the plugin's Unix socket (SOCK_SEQPACKET, one message
 *    per packet, request then reply, strictly in turn).
 * Everything is little-endian x86-64. Each side treats what the other wrote as
 * untrusted: lengths and indexes are checked before use. */
#ifndef HPROBE_PLUGIN_PROTO_H
#define HPROBE_PLUGIN_PROTO_H
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "hprobe/pcond.h"

/* ---- the ring file ---- */

#define HP_PRING_MAGIC 0x474e495242505248ull /* "HPRBRING" */
#define HP_PRING_VERSION 1
#define HP_PRING_HDR_SIZE 4096u  /* the file header page; rings follow */
#define HP_PRING_MIN_BYTES 4096u /* data bytes per ring: a power of two in [min, max] */
#define HP_PRING_MAX_BYTES (64u << 20)
#define HP_PRING_MAX_RINGS 257u /* up to 256 vCPUs + the control ring */

struct hp_pring_file {
	uint64_t magic;
	uint32_t version;
	uint32_t hdr_size;    /* HP_PRING_HDR_SIZE */
	uint32_t nrings;      /* vCPU rings 0..nrings-2, control ring nrings-1 */
	uint32_t ring_bytes;  /* data bytes per ring */
	uint32_t ring_stride; /* sizeof(struct hp_pring) + ring_bytes */
	uint32_t reserved;
	uint64_t file_size;          /* hdr_size + nrings * ring_stride */
	_Atomic uint64_t plugin_pid; /* written by the plugin once it mapped the file */
};

/* Per-ring header; the data bytes follow it. head and tail count bytes since the
 * start and only grow: used = head - tail. The producer publishes a record by a
 * release store of head, the consumer frees space by a release store of tail. */
struct hp_pring {
	_Alignas(64) _Atomic uint64_t head; /* producer */
	_Atomic uint64_t dropped;           /* producer: records lost to a full ring */
	_Atomic uint64_t written;           /* producer: records written */
	_Alignas(64) _Atomic uint64_t tail; /* consumer */
};

_Static_assert(sizeof(struct hp_pring) == 128, "ring header layout");
_Static_assert(sizeof(struct hp_pring_file) == 48, "file header layout");

/* Records: 8-byte aligned, never split by the end of the ring (a PAD record fills
 * the rest of the ring instead). */
enum hp_prec_type {
	HP_PREC_PAD = 1,
	HP_PREC_HIT = 2,     /* struct hp_prec_hit + args + regs + mem */
	HP_PREC_COUNT = 3,   /* struct hp_prec_count (control ring only) */
	HP_PREC_RETSTAT = 4, /* struct hp_prec_retstat (control ring only) */
};

struct hp_prec {
	uint32_t len; /* the whole record, header included; a multiple of 8 */
	uint16_t type;
	uint16_t reserved;
};

/* Register order in a hit (the same as libhprobe's enum hp_reg). */
#define HP_PREGS 21
enum hp_preg {
	HP_PREG_RAX,
	HP_PREG_RBX,
	HP_PREG_RCX,
	HP_PREG_RDX,
	HP_PREG_RSI,
	HP_PREG_RDI,
	HP_PREG_RBP,
	HP_PREG_RSP,
	HP_PREG_R8,
	HP_PREG_R9,
	HP_PREG_R10,
	HP_PREG_R11,
	HP_PREG_R12,
	HP_PREG_R13,
	HP_PREG_R14,
	HP_PREG_R15,
	HP_PREG_RIP,
	HP_PREG_RFLAGS,
	HP_PREG_CR3,
	HP_PREG_GS_BASE,
	HP_PREG_K_GS_BASE,
};

#define HP_PHIT_USER 0x01 /* the probe is in user space */
#define HP_PHIT_REGS 0x02 /* nregs == HP_PREGS registers follow the args */
#define HP_PHIT_TASK 0x04 /* pid/tgid/comm were read */
#define HP_PHIT_MEM 0x08  /* a memory capture was attempted at memaddr (memlen 0: unreadable) */
#define HP_PHIT_RET 0x10  /* a return probe's hit: struct hp_prec_ret follows the header, before the args */

#define HP_PMAX_ARGS 6
#define HP_PMAX_MEM 256
#define HP_PMAX_DEREF 5
#define HP_COMM_BYTES 16

struct hp_prec_hit {
	struct hp_prec h;
	uint32_t probe_id;
	uint32_t vcpu;
	uint64_t time_ns;         /* host CLOCK_MONOTONIC */
	int32_t pid, tgid;        /* -1 when unknown */
	char comm[HP_COMM_BYTES]; /* guest bytes, not NUL-terminated when 16 long */
	uint64_t ip;
	uint64_t cr3;
	uint64_t memaddr; /* 0: no memory capture */
	uint32_t flags;   /* HP_PHIT_* */
	uint16_t memlen;  /* <= HP_PMAX_MEM; 0 if unreadable */
	uint8_t nargs;    /* <= HP_PMAX_ARGS */
	uint8_t nregs;    /* 0 or HP_PREGS */
			  /* then uint64_t args[nargs], uint64_t regs[nregs], uint8_t mem[memlen], padding */
};
_Static_assert(sizeof(struct hp_prec_hit) == 80, "hit record layout");

/* A return hit's own part; its ip is the return address, its time the return's. */
struct hp_prec_ret {
	int64_t retval;      /* rax at the return */
	uint64_t latency_ns; /* host CLOCK_MONOTONIC from the call's entry */
};

#define HP_PREC_HIT_MAX \
	(sizeof(struct hp_prec_hit) + sizeof(struct hp_prec_ret) + 8 * (HP_PMAX_ARGS + HP_PREGS) + HP_PMAX_MEM)

/* A counting probe's running totals on one vCPU, since the probe was added. */
struct hp_prec_count {
	struct hp_prec h;
	uint32_t probe_id;
	uint32_t vcpu;
	uint64_t count;
	uint64_t first_ns; /* 0 until the first hit */
	uint64_t last_ns;  /* inline counters: when the plugin last saw the count change */
};

/* A return probe's calls in flight and the calls that left without a return hit,
 * by why (enum hp_retpend_why of hprobe/retpend.h): totals since the probe was added,
 * written when they change. */
#define HP_PRET_NWHY 5
struct hp_prec_retstat {
	struct hp_prec h;
	uint32_t probe_id;
	uint32_t reserved;
	uint64_t pending;
	uint64_t dropped[HP_PRET_NWHY];
};

/* ---- control messages ---- */

#define HP_PCTL_MAGIC 0x4c544350u /* "PCTL" */
#define HP_PCTL_VERSION 5

enum hp_pctl_op {
	HP_PCTL_HELLO = 1,        /* struct hp_pctl_hdr */
	HP_PCTL_ADD = 2,          /* struct hp_pctl_probe: add, or replace the same id */
	HP_PCTL_ENABLE = 3,       /* struct hp_pctl_id */
	HP_PCTL_DISABLE = 4,      /* struct hp_pctl_id: instrumentation removed, counts kept */
	HP_PCTL_REMOVE = 5,       /* struct hp_pctl_id: gone, its slot freed */
	HP_PCTL_CLEAR = 6,        /* struct hp_pctl_hdr: remove every probe */
	HP_PCTL_FLUSH_COUNTS = 7, /* struct hp_pctl_hdr: write changed totals to the control ring now */
	HP_PCTL_STATS = 8,        /* struct hp_pctl_hdr */
	HP_PCTL_SYNC = 9,         /* struct hp_pctl_id (probe_id unused): wait until applied */
	HP_PCTL_REPLY = 0x80,     /* struct hp_pctl_reply */
};

struct hp_pctl_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t op;
	uint32_t len;     /* the whole message */
	uint32_t seq;     /* echoed in the reply */
	uint32_t wait_ms; /* changes: wait up to this long for the code to be re-instrumented */
	uint32_t reserved;
};

struct hp_pctl_id {
	struct hp_pctl_hdr h;
	uint32_t probe_id;
	uint32_t reserved;
};

/* Where the plugin finds the current task and a syscall's arguments (from BTF and
 * the kernel's symbols; never hard-coded). */
struct hp_plugin_task_offsets {
	uint64_t current_task;                   /* per-CPU offset of current_task (from gs_base) */
	uint32_t task_pid, task_tgid, task_comm; /* struct task_struct members; 0 = unknown */
	uint32_t regs_di, regs_si, regs_dx, regs_r10, regs_r8, regs_r9; /* struct pt_regs */
	uint32_t regs_size;
	/* Runtime addresses of __switch_to (current_task changes inside it) and of
	 * finish_task_switch (the switch is over): between the latter and the next
	 * former a vCPU's current task cannot change, so the plugin reads it once. 0 =
	 * unknown: read it at every hit. */
	uint64_t switch_out, switch_in;
};

/* The task identity is known when the profile gave where pid, tgid and comm are. */
static inline int hp_ptask_known(const struct hp_plugin_task_offsets *o)
{
	return o->current_task && o->task_comm;
}

#define HP_PTASK_MAX 65536u /* a task_struct this large is not a kernel's */

/* The one span of task_struct holding pid, tgid and comm: [*lo, *lo + *len). -1 when
 * the offsets do not fit a task_struct (they may come from a guest's BTF). The agent
 * and the plugin read the task the same way through it. */
static inline int hp_ptask_span(const struct hp_plugin_task_offsets *o, uint32_t *lo, uint32_t *len)
{
	uint64_t a = o->task_pid, b = o->task_tgid, c = o->task_comm;
	uint64_t min = a < b ? a : b, max = a + 4 > b + 4 ? a + 4 : b + 4;
	if (c < min)
		min = c;
	if (c + HP_COMM_BYTES > max)
		max = c + HP_COMM_BYTES;
	if (max > HP_PTASK_MAX)
		return -1;
	*lo = (uint32_t)min;
	*len = (uint32_t)(max - min);
	return 0;
}

enum hp_pkind { HP_PKIND_CAPTURE = 1, HP_PKIND_COUNT = 2 };
enum hp_pmem_src { HP_PMEM_NONE = 0, HP_PMEM_ARG = 1, HP_PMEM_REG = 2 };

#define HP_PPROBE_ENABLED 0x01
#define HP_PPROBE_REGS 0x02         /* capture all HP_PREGS registers */
#define HP_PPROBE_SYSCALL_ARGS 0x04 /* args are the pt_regs fields at *rdi (syscall wrappers) */
#define HP_PPROBE_MEM_STRING 0x08   /* the memory capture stops at the first NUL */
#define HP_PPROBE_RETURN 0x10       /* a return probe: vaddr is the entry, hits are at the returns */
#define HP_PPROBE_ALL_FLAGS 0x1f

struct hp_pctl_probe {
	struct hp_pctl_hdr h;
	uint32_t probe_id; /* nonzero */
	uint32_t flags;    /* HP_PPROBE_* */
	uint64_t vaddr;
	uint8_t kind;      /* enum hp_pkind */
	uint8_t nargs;     /* 0..6: rdi rsi rdx rcx r8 r9 (or pt_regs di si dx r10 r8 r9) */
	uint8_t mem_src;   /* enum hp_pmem_src */
	uint8_t mem_index; /* ARG: 1..6; REG: enum hp_preg */
	uint32_t mem_len;  /* 1..HP_PMAX_MEM when mem_src != NONE */
	int64_t mem_off;
	int32_t filter_pid;              /* -1: any; else matches pid or tgid */
	char filter_comm[HP_COMM_BYTES]; /* "" = any */
	uint32_t ret_timeout_ms;         /* return probes: a call not returned by then is dropped; 0: 300 s */
	struct hp_plugin_task_offsets task;
	uint64_t exit_vaddr;  /* return probes: do_exit (a leaving task's calls are dropped); 0 = none */
	struct hp_pcond cond; /* hits that fail it cost no record; nops 0: none */
	/* a member path: mem_nderef pointers loaded from base + mem_off on, each then
	 * offset by mem_deref[i]; the capture is where the last one leads */
	uint32_t mem_nderef; /* 0..HP_PMAX_DEREF */
	int32_t mem_deref[HP_PMAX_DEREF];
};

struct hp_pctl_stats {
	uint64_t hits;         /* records written */
	uint64_t dropped;      /* records lost to full rings */
	uint64_t filtered;     /* hits refused by the pid/comm filter */
	uint64_t mem_errors;   /* guest reads that failed (task, args, memory) */
	uint64_t task_cached;  /* hits that took the current task from the vCPU's cache */
	uint64_t resets;       /* re-instrumentations (each one flushes every TB) */
	uint64_t instrumented; /* probe sites instrumented in translated code */
	uint64_t ret_pending;  /* calls return probes wait on */
	uint64_t ret_sites;    /* return addresses instrumented */
	uint32_t generation;   /* the plan's version */
	uint32_t applied;      /* the version the translated code follows */
	uint32_t nprobes;
	uint32_t nvcpus;
};

struct hp_pctl_reply {
	struct hp_pctl_hdr h;
	int32_t status;   /* 0 or -errno */
	uint32_t applied; /* 1: the translated code follows this change already */
	char msg[128];    /* NUL-terminated */
	/* HELLO */
	uint32_t plugin_version; /* HP_PCTL_VERSION */
	uint32_t api_version;    /* QEMU's current plugin API version */
	uint32_t max_vcpus;
	uint32_t have_regs; /* bitmask over enum hp_preg of registers QEMU offers */
	/* STATS (also filled for every other reply) */
	struct hp_pctl_stats stats;
};

_Static_assert(sizeof(struct hp_prec_count) == 40, "count record layout");
_Static_assert(sizeof(struct hp_pctl_hdr) == 24, "control header layout");
_Static_assert(sizeof(struct hp_prec_retstat) == 64, "return stats record layout");
_Static_assert(sizeof(struct hp_pctl_probe) == 152 + sizeof(struct hp_pcond) + 24, "probe message layout");
_Static_assert(sizeof(struct hp_pcond) == 584, "condition layout");
_Static_assert(HP_PCOND_NREGS == HP_PREGS, "a condition's registers are the hit's");
_Static_assert(sizeof(struct hp_pctl_reply) == 264, "reply layout");
#endif
