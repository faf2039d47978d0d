/* A probe's condition ("--if 'fd == 1 && count > 4096'") as a small stack program:
 * compiled once by the agent (agent/src/probes/cond.c), evaluated at each hit by the
 * tier that sees it (the plugin inside QEMU, the agent's engine for the gdbstub).
 * One evaluator for both, so a condition means the same on either tier. The
 * program crosses a process boundary: hp_pcond_check() proves it well-formed
 * (known ops, indexes in range, the stack never under- or overflows) before any
 * evaluation, which then needs no check. */
#ifndef HPROBE_PCOND_H
#define HPROBE_PCOND_H
#include <stdint.h>
#include <string.h>

#define HP_PCOND_MAX_OPS 32
#define HP_PCOND_MAX_STRS 2
#define HP_PCOND_STR_BYTES 32 /* a literal and its NUL */
#define HP_PCOND_STACK 16
#define HP_PCOND_COMM_BYTES 16
#define HP_PCOND_NREGS 21 /* the registers a hit offers: enum hp_preg (= enum hp_reg) */

enum hp_pcop {
	HP_PCOP_IMM = 1, /* push imm */
	HP_PCOP_ARG,     /* push argument a (1..6), b bytes (1, 2, 4, 8), sign-extended if c */
	HP_PCOP_PID,     /* push the task's pid */
	HP_PCOP_TGID,    /* push the task's tgid */
	HP_PCOP_STR,     /* push 1 if string a (HP_PCSTR_*) is strs[b] (c = 0) or starts with it (c = 1) */
	HP_PCOP_RET,     /* push a return probe's value, b bytes, sign-extended if c */
	HP_PCOP_LAT,     /* push a return probe's latency (ns) */
	HP_PCOP_REG,     /* push register a (enum hp_preg) */
	/* binary: pop y, pop x, push x OP y */
	HP_PCOP_EQ,
	HP_PCOP_NE,
	HP_PCOP_LT,
	HP_PCOP_LE,
	HP_PCOP_GT,
	HP_PCOP_GE,
	HP_PCOP_LTU, /* unsigned */
	HP_PCOP_LEU,
	HP_PCOP_GTU,
	HP_PCOP_GEU,
	HP_PCOP_BAND,
	HP_PCOP_BOR,
	HP_PCOP_BXOR,
	HP_PCOP_LAND,
	HP_PCOP_LOR,
	/* unary: pop x, push OP x */
	HP_PCOP_LNOT,
	HP_PCOP_BNOT,
	HP_PCOP_NEG,
	HP_PCOP_LAST = HP_PCOP_NEG
};

enum hp_pcstr { HP_PCSTR_COMM = 0, HP_PCSTR_MEM = 1 };

/* What an evaluation reads, so the tier gets it first (HP_PCOND_NEED_*). */
#define HP_PCOND_NEED_TASK 0x01
#define HP_PCOND_NEED_MEM 0x02
#define HP_PCOND_NEED_RET 0x04 /* a return probe's value or latency: evaluated at the return */

struct hp_pcop_insn {
	uint8_t op; /* enum hp_pcop */
	uint8_t a, b, c;
	uint32_t reserved;
	int64_t imm;
};

struct hp_pcond {
	uint8_t nops;  /* 0: no condition */
	uint8_t need;  /* HP_PCOND_NEED_* */
	uint8_t nargs; /* the highest argument read */
	uint8_t reserved;
	uint32_t regs;                                    /* the registers read: a bit per enum hp_preg */
	char strs[HP_PCOND_MAX_STRS][HP_PCOND_STR_BYTES]; /* NUL-terminated */
	struct hp_pcop_insn ops[HP_PCOND_MAX_OPS];
};

/* What one hit offers the condition. comm and mem may be NULL when not read. */
struct hp_pcond_in {
	const uint64_t *args; /* at least the program's nargs */
	int have_task;
	int32_t pid, tgid;
	const char *comm; /* HP_PCOND_COMM_BYTES, not necessarily NUL-terminated */
	const uint8_t *mem;
	uint32_t memlen;
	uint64_t retval, latency_ns; /* a return probe's hit */
	const uint64_t *regs;        /* HP_PCOND_NREGS, those of the program's regs mask at least */
};

static inline int hp_pcop_pops(uint8_t op)
{
	if (op <= HP_PCOP_REG)
		return 0;
	return op < HP_PCOP_LNOT ? 2 : 1;
}

/* NULL when c is well-formed, else why not. */
static inline const char *hp_pcond_check(const struct hp_pcond *c)
{
	int depth = 0, nargs = 0, need = 0;
	uint32_t regs = 0;
	if (c->nops > HP_PCOND_MAX_OPS)
		return "condition longer than 32 operations";
	if (c->nargs > 6) /* a tier reads this many arguments into its array of 6 */
		return "condition reads more than 6 arguments";
	for (int i = 0; i < HP_PCOND_MAX_STRS; i++)
		if (!memchr(c->strs[i], 0, HP_PCOND_STR_BYTES))
			return "condition string without NUL";
	for (int i = 0; i < c->nops; i++) {
		const struct hp_pcop_insn *o = &c->ops[i];
		if (o->op < HP_PCOP_IMM || o->op > HP_PCOP_LAST)
			return "unknown condition operation";
		if (o->op == HP_PCOP_ARG) {
			if (o->a < 1 || o->a > 6 || (o->b != 1 && o->b != 2 && o->b != 4 && o->b != 8) || o->c > 1)
				return "condition argument out of range";
			nargs = o->a > nargs ? o->a : nargs;
		} else if (o->op == HP_PCOP_STR) {
			if (o->a > HP_PCSTR_MEM || o->b >= HP_PCOND_MAX_STRS || o->c > 1)
				return "condition string operand out of range";
			need |= o->a == HP_PCSTR_MEM ? HP_PCOND_NEED_MEM : HP_PCOND_NEED_TASK;
		} else if (o->op == HP_PCOP_PID || o->op == HP_PCOP_TGID) {
			need |= HP_PCOND_NEED_TASK;
		} else if (o->op == HP_PCOP_RET || o->op == HP_PCOP_LAT) {
			if (o->op == HP_PCOP_RET && ((o->b != 1 && o->b != 2 && o->b != 4 && o->b != 8) || o->c > 1))
				return "condition return value size out of range";
			need |= HP_PCOND_NEED_RET;
		} else if (o->op == HP_PCOP_REG) {
			if (o->a >= HP_PCOND_NREGS)
				return "condition register out of range";
			regs |= 1u << o->a;
		}
		int pops = hp_pcop_pops(o->op);
		if (depth < pops)
			return "condition stack underflow";
		depth += 1 - pops;
		if (depth > HP_PCOND_STACK)
			return "condition stack overflow";
	}
	if (c->nops && depth != 1)
		return "condition leaves no single value";
	if (nargs > c->nargs || (need & ~c->need) || (regs & ~c->regs))
		return "condition reads more than it declares";
	return NULL;
}

static inline int hp_pcond_str(const struct hp_pcop_insn *o, const char *lit, const struct hp_pcond_in *in)
{
	const uint8_t *s = o->a == HP_PCSTR_MEM ? in->mem : (const uint8_t *)in->comm;
	size_t n = o->a == HP_PCSTR_MEM ? in->memlen : HP_PCOND_COMM_BYTES, l = strlen(lit);
	if (!s)
		return 0;
	const uint8_t *nul = memchr(s, 0, n);
	if (nul)
		n = (size_t)(nul - s);
	return o->c ? n >= l && !memcmp(s, lit, l) : n == l && !memcmp(s, lit, l);
}

/* A register's value as a bytes-wide integer: truncated, sign-extended if is_signed. */
static inline uint64_t hp_pcond_typed(uint64_t v, unsigned bytes, int is_signed)
{
	unsigned bits = 8u * bytes;
	if (bits >= 64)
		return v;
	v &= (1ull << bits) - 1;
	return is_signed && (v >> (bits - 1)) ? v | ~0ull << bits : v;
}

/* The value of c's expression over a hit (0 for an empty program). c must have passed
 * hp_pcond_check(). */
static inline int64_t hp_pcond_run(const struct hp_pcond *c, const struct hp_pcond_in *in)
{
	int64_t st[HP_PCOND_STACK];
	int sp = 0;
	if (!c->nops)
		return 0;
	for (int i = 0; i < c->nops; i++) {
		const struct hp_pcop_insn *o = &c->ops[i];
		uint64_t v, x = 0, y = 0;
		int pops = hp_pcop_pops(o->op);
		if (pops == 2)
			y = (uint64_t)st[--sp];
		if (pops)
			x = (uint64_t)st[--sp];
		switch (o->op) {
		case HP_PCOP_IMM:
			v = (uint64_t)o->imm;
			break;
		case HP_PCOP_ARG:
			v = hp_pcond_typed(in->args[o->a - 1], o->b, o->c);
			break;
		case HP_PCOP_RET:
			v = hp_pcond_typed(in->retval, o->b, o->c);
			break;
		case HP_PCOP_LAT:
			v = in->latency_ns;
			break;
		case HP_PCOP_REG:
			v = in->regs[o->a];
			break;
		case HP_PCOP_PID:
			v = (uint64_t)(int64_t)in->pid;
			break;
		case HP_PCOP_TGID:
			v = (uint64_t)(int64_t)in->tgid;
			break;
		case HP_PCOP_STR:
			v = (uint64_t)hp_pcond_str(o, c->strs[o->b], in);
			break;
		case HP_PCOP_EQ:
			v = x == y;
			break;
		case HP_PCOP_NE:
			v = x != y;
			break;
		case HP_PCOP_LT:
			v = (int64_t)x < (int64_t)y;
			break;
		case HP_PCOP_LE:
			v = (int64_t)x <= (int64_t)y;
			break;
		case HP_PCOP_GT:
			v = (int64_t)x > (int64_t)y;
			break;
		case HP_PCOP_GE:
			v = (int64_t)x >= (int64_t)y;
			break;
		case HP_PCOP_LTU:
			v = x < y;
			break;
		case HP_PCOP_LEU:
			v = x <= y;
			break;
		case HP_PCOP_GTU:
			v = x > y;
			break;
		case HP_PCOP_GEU:
			v = x >= y;
			break;
		case HP_PCOP_BAND:
			v = x & y;
			break;
		case HP_PCOP_BOR:
			v = x | y;
			break;
		case HP_PCOP_BXOR:
			v = x ^ y;
			break;
		case HP_PCOP_LAND:
			v = x && y;
			break;
		case HP_PCOP_LOR:
			v = x || y;
			break;
		case HP_PCOP_LNOT:
			v = !x;
			break;
		case HP_PCOP_BNOT:
			v = ~x;
			break;
		default:
			v = 0 - x;
			break; /* HP_PCOP_NEG */
		}
		st[sp++] = (int64_t)v;
	}
	return st[0];
}

/* 1 when a hit passes c (also when c is empty), 0 when not; a condition over the
 * task passes no hit whose task is unknown. c must have passed hp_pcond_check(). */
static inline int hp_pcond_eval(const struct hp_pcond *c, const struct hp_pcond_in *in)
{
	if (!c->nops)
		return 1;
	if ((c->need & HP_PCOND_NEED_TASK) && !in->have_task)
		return 0;
	return hp_pcond_run(c, in) != 0;
}
#endif
