/* Probe definitions: parsing what the user asked for, resolving it to an address,
 * and the capture plan applied at each hit. */
#ifndef HP_PROBE_H
#define HP_PROBE_H
#include <stdint.h>
#include "hprobe/journal.h"

struct hp_kernel;
struct hp_backend;
struct hp_app;

enum hp_probe_kind { HP_PROBE_CAPTURE, HP_PROBE_COUNT };
/* Owner of the agent's own probes (the application probes' exec/exit hooks). */
#define HP_OWNER_INTERNAL UINT32_MAX
enum hp_probe_state { HP_PSTATE_ARMED, HP_PSTATE_DISABLED, HP_PSTATE_PENDING, HP_PSTATE_STALE };
/* How the engine resumes from a hit without lifting the breakpoint (so no other vCPU
 * can run through it unseen). */
enum hp_resume { HP_RESUME_STEP, HP_RESUME_NOP, HP_RESUME_PUSH_RBP, HP_RESUME_MOV_RBP_RSP, HP_RESUME_CALL };

enum hp_mem_src { HP_MEM_NONE, HP_MEM_ARG, HP_MEM_REG };

struct hp_mem_spec {
	enum hp_mem_src src;
	int index;           /* arg number (1-based) or enum hp_reg */
	int64_t off;
	uint32_t len;        /* bytes (<= HP_MAX_MEM) */
	int is_string;
};

struct hp_probe_opts {
	int nargs;           /* 0..6 */
	int regs;
	struct hp_mem_spec mem;
	char mem_text[64];
	int32_t pid;         /* -1 = any */
	char comm[HP_COMM_LEN];
	enum hp_probe_kind kind;
	int enabled;
	uint32_t owner;      /* detector id, or 0 for a user's probe */
	int need_stop;       /* its hits change guest state or read it at leisure: gdbstub only */
};

struct hp_probe {
	uint32_t id;
	char spec[256];
	struct hp_probe_opts o;
	uint64_t addr;       /* runtime address */
	char func[128];      /* containing symbol */
	uint64_t func_off;
	int user;            /* application probe */
	int raw;             /* the agent's own probe at a bare address (hp_probe_create_raw) */
	int in_mech;         /* the mechanism holds its capture plan (arm_probe done) */
	int journal_paused;  /* lifted while the journal cannot be written */
	int syscall_wrapper; /* args come from struct pt_regs */
	enum hp_resume resume;
	uint8_t insn_len;    /* length of the instruction at addr */
	int32_t call_rel;    /* HP_RESUME_CALL: displacement of the call */
	enum hp_probe_state state;
	struct hp_backend *mech; /* which backend arms it */
	uint64_t hits;
	uint64_t hits_journaled;  /* counting probes: total last written to the journal */
	uint64_t first_ns, last_ns;
	uint64_t filtered;   /* stops that did not pass the filter */
	struct hp_app *app;  /* application probes */
	struct hp_probe *next;
};

/* Parses "SRC[+OFF]:LEN" / "SRC[+OFF]:sLEN". */
int hp_probe__parse_mem(const char *text, struct hp_mem_spec *m, struct hp_err *err);
const char *hp_probe__state_name(enum hp_probe_state s);
const char *hp_probe__resume_name(enum hp_resume r);

/* Classifies the first instruction of a probe site (bytes from guest memory before
 * arming: under KVM the breakpoint overwrites them). */
/* rel (may be NULL) receives a call's 32-bit displacement. */
enum hp_resume hp_probe__classify(const uint8_t *code, size_t len, uint8_t *insn_len, int32_t *rel);

/* Resolves a kernel spec ("kernel:FUNC[+OFF]", "FUNC", "0xADDR") into p->addr/func,
 * refusing unsafe places. code is read through b to check instruction boundaries. */
int hp_probe__resolve_kernel(struct hp_probe *p, const char *spec, const struct hp_kernel *k,
			     struct hp_backend *b, struct hp_err *err, int *err_class);
#endif
