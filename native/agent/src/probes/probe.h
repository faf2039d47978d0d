/* Probes: parsing what the user asked for, resolving it to an address, how it is
 * planted, and its life in a target's list (probe.c, lifecycle.c). */
#ifndef HP_PROBE_H
#define HP_PROBE_H
#include <stdint.h>
#include <jansson.h>

#include "backend/backend.h"
#include "base/errors.h"
#include "hprobe/journal.h"
#include "hprobe/param.h"
#include "hprobe/pcond.h"
#include "hprobe/retpend.h"

struct hp_kernel;
struct hp_task;
struct hp_app;
struct hp_target;
struct hp_agg;
struct hp_btf;

enum hp_probe_kind { HP_PROBE_CAPTURE, HP_PROBE_COUNT };
#define HP_PID_MAX 4194304       /* the kernel's PID_MAX_LIMIT */
#define HP_AGG_ROWS_DEFAULT 1024 /* an aggregation's rows (--agg-rows) */
#define HP_AGG_ROWS_MAX 16384
/* Owner of the agent's own probes (the application probes' exec/exit hooks). */
#define HP_OWNER_INTERNAL UINT32_MAX
enum hp_probe_state { HP_PSTATE_ARMED, HP_PSTATE_DISABLED, HP_PSTATE_PENDING, HP_PSTATE_STALE };
/* How the engine resumes from a hit without lifting the breakpoint (so no other vCPU
 * can run through it unseen). */
enum hp_resume { HP_RESUME_STEP, HP_RESUME_NOP, HP_RESUME_PUSH_RBP, HP_RESUME_MOV_RBP_RSP, HP_RESUME_CALL };

/* How a probe is planted, chosen in one place (hp_probe__choose): inside QEMU
 * (the VM never stops), a gdbstub software breakpoint, or a debug register (a user
 * address under KVM: an int3 there could land in a page other processes share). */
enum hp_plant { HP_PLANT_INQEMU, HP_PLANT_BREAKPOINT, HP_PLANT_DEBUG_REG };

struct hp_probe_opts {
	int nargs; /* 0..6 */
	/* or by name ("fd,count"): the arguments up to the last one named, resolved once
	 * the function's parameters are known; "" for a count */
	char args_names[96];
	/* a memory capture at a parameter given by name (--mem buf:s64): resolved with
	 * args_names; mem.index holds 1 until then */
	char mem_param[HP_PARAM_NAME];
	/* and a member path from it (--mem 'file->f_path.dentry:8'): "->f_path.dentry",
	 * resolved through the kernel's BTF with the parameters */
	char mem_path[132];
	int regs;
	struct hp_mem_spec mem;
	char mem_text[192];
	int32_t pid; /* -1 = any */
	char comm[HP_COMM_LEN];
	enum hp_probe_kind kind;
	int enabled;
	uint32_t owner;      /* detector id, or 0 for a user's probe */
	int need_stop;       /* its hits change guest state or read it at leisure: gdbstub only */
	char cond_text[256]; /* --if (compiled by probes/cond.c); "" = every hit */
	char agg_text[256];  /* --agg (probes/agg.c): hits summed, not journalled; "" = none */
	uint32_t agg_rows;   /* its table's rows at most; 0 = HP_AGG_ROWS_DEFAULT */
};

struct hp_probe {
	uint32_t id;
	char spec[256];
	struct hp_probe_opts o;
	uint64_t addr;  /* runtime address */
	char func[128]; /* containing symbol */
	uint64_t func_off;
	int user;            /* application probe */
	int raw;             /* the agent's own probe at a bare address (hp_probe__create_raw) */
	int in_mech;         /* the mechanism holds its capture plan (arm_plan done) */
	int journal_paused;  /* lifted while the journal cannot be written */
	int syscall_wrapper; /* args come from struct pt_regs */
	int nparams;         /* the function's parameters, as its hits show them */
	struct hp_param params[HP_MAX_ARGS];
	char params_from[24]; /* where they came from: "btf", "syscall metadata"; "": unknown */
	int has_ret_type;     /* a return probe: its function's return type is known */
	int ret_errno;        /* and a negative return is -errno (a syscall) */
	struct hp_param ret_type;
	struct hp_pcond cond; /* o.cond_text compiled (hp_cond__compile); nops 0: none */
	struct hp_agg *agg;   /* o.agg_text compiled; NULL: none */
	enum hp_resume resume;
	uint8_t insn_len; /* length of the instruction at addr */
	int32_t call_rel; /* HP_RESUME_CALL: displacement of the call */
	enum hp_probe_state state;
	struct hp_backend *mech; /* which backend arms it */
	enum hp_plant plant;
	uint64_t hits;
	uint64_t hits_journaled; /* counting probes: total last written to the journal */
	uint64_t first_ns, last_ns;
	uint64_t filtered;                     /* stops that did not pass the filter */
	int ret;                               /* a return probe (FUNC%return): hits at its calls' returns */
	uint64_t ret_pending;                  /* calls entered and not returned yet */
	uint64_t ret_dropped[HP_RETPEND_NWHY]; /* calls that left without a return hit, by why */
	uint64_t ret_base[HP_RETPEND_NWHY];    /* in-QEMU: drops before the plugin's probe was made anew */
	struct hp_app *app;                    /* application probes */
	struct hp_probe *next;
};

/* Whether o is something a probe can be made of (what probe-add accepts): nargs
 * 0..HP_MAX_ARGS, pid -1 or 1..HP_PID_MAX, a NUL-terminated comm, a memory capture
 * within bounds. Every creation path goes through it (hp_probe__create). */
int hp_probe__check_opts(const struct hp_probe_opts *o, struct hp_err *err);
/* Resolves o.args_names and o.mem_param against p's parameters into o.nargs (the
 * arguments up to the last one named) and o.mem.index, and o.mem_path through btf
 * (may be NULL: refused) into o.mem's offsets; -EINVAL naming the unknown one, or
 * when p's parameters are unknown. */
int hp_probe__args_by_name(struct hp_probe *p, const struct hp_btf *btf, struct hp_err *err);
/* Parses "SRC[+OFF]:LEN" / "SRC[+OFF]:sLEN" / "SRC[+OFF]:str" (sHP_MAX_MEM). */
int hp_probe__parse_mem(const char *text, struct hp_mem_spec *m, struct hp_err *err);
/* The same into o (mem, mem_text), SRC also a parameter's name or a member path from
 * one (NAME->MEMBER[.MEMBER|->MEMBER]...:LEN), resolved later (hp_probe__args_by_name). */
int hp_probe__parse_mem_opts(const char *text, struct hp_probe_opts *o, struct hp_err *err);
const char *hp_probe__state_name(enum hp_probe_state s);
const char *hp_probe__resume_name(enum hp_resume r);

/* Classifies the first instruction of a probe site (bytes from guest memory before
 * arming: under KVM the breakpoint overwrites them). rel (may be NULL) receives a
 * call's 32-bit displacement. */
enum hp_resume hp_probe__classify(const uint8_t *code, size_t len, uint8_t *insn_len, int32_t *rel);
/* Whether off is an instruction boundary of the code starting at code[0]. */
int hp_probe__on_boundary(const uint8_t *code, size_t len, uint64_t off);

/* The suffix of a return probe's spec (the kprobe-events spelling): FUNC%return. */
#define HP_RETURN_SUFFIX "%return"
/* Whether spec ends in HP_RETURN_SUFFIX; base (cap bytes) receives the spec without it. */
int hp_probe__split_return(const char *spec, char *base, size_t cap);

/* Resolves a kernel spec ("kernel:FUNC[+OFF]", "FUNC", "0xADDR") into p->addr/func,
 * refusing unsafe places. code is read through b to check instruction boundaries. */
int hp_probe__resolve_kernel(struct hp_probe *p, const char *spec, const struct hp_kernel *k, struct hp_backend *b,
			     enum hp_eclass *cls, struct hp_err *err);

/* Plants p at addr by its plant (its own address, or one process's copy of an
 * application probe); exe, when p filters on nothing, is the program whose hits an
 * in-QEMU identity check keeps. Lifts it again. */
int hp_probe__plant_at(struct hp_target *t, struct hp_probe *p, uint64_t addr, const char *exe, struct hp_err *err);
int hp_probe__lift_at(struct hp_probe *p, uint64_t addr, struct hp_err *err);

/* ---- life in a target (lifecycle.c) ---- */

/* Chooses p's mechanism and plant: the in-QEMU tier when t has it and p needs no
 * stop (for an application, when it sits at one shared address: static), else the
 * gdbstub. The only place that decides. */
void hp_probe__choose(const struct hp_target *t, struct hp_probe *p);
/* Creates a probe from a spec (kernel:FUNC[+OFF], 0xADDR, app:BINARY:FUNC[+OFF]),
 * resolves it, arms it when enabled and appends it to t's list. NULL on failure,
 * with *cls and err saying why. */
struct hp_probe *hp_probe__create(struct hp_target *t, const char *spec, const struct hp_probe_opts *o,
				  enum hp_eclass *cls, struct hp_err *err);
/* A probe at a raw address, for the agent's own use (a detector's): filtered by pid,
 * resumed by single-stepping (its code is not known), a debug register under KVM. */
struct hp_probe *hp_probe__create_raw(struct hp_target *t, uint64_t addr, int32_t pid, uint32_t owner,
				      struct hp_err *err);
/* Lifts and frees p. Destroying the last application probe takes the exec/exit
 * hooks along. */
void hp_probe__destroy(struct hp_target *t, struct hp_probe *p);
/* Every probe of one owner (a detector). */
void hp_probe__destroy_owned(struct hp_target *t, uint32_t owner);
/* The probe as the protocol shows it (docs/protocol.md, probe-list). */
json_t *hp_probe__json(const struct hp_probe *p);
/* Publishes a PROBE event about p ("added", "enabled", ...); the agent's own probes
 * stay quiet. */
void hp_probe__event(struct hp_target *t, const struct hp_probe *p, const char *change);
/* A hit's head from its stop, the same for an entry's hit and a return's: time,
 * probe, vCPU, address, address space, and the task when known (NULL: not). */
void hp_probe__hit_head(struct hp_hit *hit, const struct hp_probe *p, const struct hp_bev *ev,
			const uint64_t regs[HP_NREGS], const struct hp_task *task);
/* Counts a hit on its probe and hands it to the target's journal, or to its
 * aggregation. */
void hp_probe__record(struct hp_target *t, struct hp_probe *p, struct hp_hit *hit);
/* Journals an AGG snapshot of each aggregation that summed hits since its last one,
 * at most once a second each. */
void hp_probe__agg_snapshots(struct hp_target *t, uint64_t now);
/* The same for one probe, now (nothing when it summed nothing since its last). */
void hp_probe__agg_snapshot(struct hp_target *t, struct hp_probe *p, uint64_t now);
#endif
