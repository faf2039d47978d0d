/* The --if compiler: a recursive descent over C's precedence (|| && | ^ & == < and
 * the unary ! ~ -), emitting the postfix program of hprobe/pcond.h as it goes. A
 * string (comm, a captured string) is only compared with == or != to a literal; a
 * literal ending in '*' matches a prefix. */
#include "probes/cond.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/probe.h"

enum tok { T_END, T_NUM, T_NAME, T_STR, T_OP, T_BAD };

struct cc {
	const char *text, *pos;
	enum tok tok;
	const char *start; /* the current token */
	size_t len;
	uint64_t num;
	char str[HP_PCOND_STR_BYTES + 1];
	size_t strlen; /* the literal's whole length (str holds what fits) */
	const struct hp_probe *p;
	const char *opt; /* "--if", "--agg": the option errors name */
	struct hp_pcond *out;
	struct hp_err *err;
	int failed;
	int nstr; /* string slots taken */
};

/* An operand on its way up: a number (unsigned or not), or a string not compared yet. */
struct val {
	int is_str, is_unsigned;
	uint8_t src; /* enum hp_pcstr */
	const char *at;
};

static int fail(struct cc *c, const char *at, const char *what)
{
	if (!c->failed) {
		int n = (int)strcspn(at, " \t\n");
		hp_err__set(c->err, EINVAL, "%s: column %d: %s%s%.*s%s", c->opt, (int)(at - c->text) + 1, what,
			    *at ? " at '" : " at the end", n > 24 ? 24 : n, at, *at ? "'" : "");
	}
	c->failed = 1;
	return -1;
}

static const char *const ops2[] = { "||", "&&", "==", "!=", "<=", ">=", NULL };

static void next(struct cc *c)
{
	while (isspace((unsigned char)*c->pos))
		c->pos++;
	c->start = c->pos;
	if (!*c->pos) {
		c->tok = T_END;
		c->len = 0;
		return;
	}
	if (isdigit((unsigned char)*c->pos)) {
		char *end;
		errno = 0;
		c->num = strtoull(c->pos, &end, 0);
		c->tok = errno || isalnum((unsigned char)*end) || *end == '_' ? T_BAD : T_NUM;
		c->pos = end;
	} else if (isalpha((unsigned char)*c->pos) || *c->pos == '_') {
		while (isalnum((unsigned char)*c->pos) || *c->pos == '_')
			c->pos++;
		c->tok = T_NAME;
	} else if (*c->pos == '"') {
		size_t n = 0;
		const char *s = c->pos + 1;
		while (*s && *s != '"') {
			if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
				s++;
			if (n < sizeof c->str - 1)
				c->str[n] = *s;
			n++;
			s++;
		}
		c->str[n < sizeof c->str - 1 ? n : sizeof c->str - 1] = 0;
		c->strlen = n;
		c->tok = *s == '"' ? T_STR : T_BAD;
		c->pos = *s == '"' ? s + 1 : s;
	} else {
		c->tok = T_OP;
		c->pos++;
		for (int i = 0; ops2[i]; i++)
			if (!strncmp(c->start, ops2[i], 2))
				c->pos = c->start + 2;
		if (!strchr("|&^=!<>~-()", *c->start) || (*c->start == '=' && c->pos == c->start + 1))
			c->tok = T_BAD;
	}
	c->len = (size_t)(c->pos - c->start);
}

static int is_op(const struct cc *c, const char *op)
{
	return c->tok == T_OP && c->len == strlen(op) && !strncmp(c->start, op, c->len);
}

static int emit(struct cc *c, uint8_t op, uint8_t a, uint8_t b, uint8_t x, int64_t imm)
{
	if (c->out->nops == HP_PCOND_MAX_OPS)
		return fail(c, c->start, "condition too long (32 operations at most)");
	c->out->ops[c->out->nops++] = (struct hp_pcop_insn){ .op = op, .a = a, .b = b, .c = x, .imm = imm };
	return 0;
}

static int as_number(struct cc *c, const struct val *v)
{
	return v->is_str ? fail(c, v->at, "a string compares only with == or != to a \"literal\"") : 0;
}

static int is_argn(const char *s, size_t n)
{
	return n == 4 && !strncmp(s, "arg", 3) && s[3] >= '1' && s[3] <= '6';
}

/* A name: the probe's parameter, argN, pid, tgid, comm, the string --mem captures, or a
 * return probe's ret and latency. */
static int name(struct cc *c, struct val *v)
{
	const struct hp_probe *p = c->p;
	const struct hp_mem_spec *m = &p->o.mem;
	int mem_str = m->src == HP_MEM_ARG && m->is_string && m->len;
	char id[HP_PARAM_NAME];
	if (c->len >= sizeof id)
		return fail(c, c->start, "unknown name");
	memcpy(id, c->start, c->len);
	id[c->len] = 0;
	int i = 0;
	while (i < p->nparams && strcmp(p->params[i].name, id))
		i++;
	if ((i < p->nparams && mem_str && m->index == i + 1 && !m->off) ||
	    (!strcmp(id, "mem") && m->len && i == p->nparams)) {
		if (!m->is_string)
			return fail(c, c->start, "mem compares as a string: capture it as one (--mem SRC:sLEN)");
		*v = (struct val){ .is_str = 1, .src = HP_PCSTR_MEM };
		c->out->need |= HP_PCOND_NEED_MEM;
		return 0;
	}
	if (!strcmp(id, "comm")) {
		*v = (struct val){ .is_str = 1, .src = HP_PCSTR_COMM };
		c->out->need |= HP_PCOND_NEED_TASK;
		return 0;
	}
	if (!strcmp(id, "pid") || !strcmp(id, "tgid")) {
		c->out->need |= HP_PCOND_NEED_TASK;
		return emit(c, id[0] == 'p' ? HP_PCOP_PID : HP_PCOP_TGID, 0, 0, 0, 0);
	}
	if (!strcmp(id, "ret") || !strcmp(id, "latency")) {
		if (!p->ret)
			return fail(c, c->start, "only a return probe (FUNC%return) has ret and latency");
		c->out->need |= HP_PCOND_NEED_RET;
		if (id[0] == 'l') {
			v->is_unsigned = 1;
			return emit(c, HP_PCOP_LAT, 0, 0, 0, 0);
		}
		/* as the function returns it; unknown: the whole of rax, signed (int and long do) */
		const struct hp_param *r = &p->ret_type;
		int typed = p->has_ret_type && (r->cls == HP_PARAM_INT || r->cls == HP_PARAM_UINT);
		uint8_t size = typed && (r->size == 1 || r->size == 2 || r->size == 4) ? (uint8_t)r->size : 8;
		v->is_unsigned = typed && r->cls == HP_PARAM_UINT;
		return emit(c, HP_PCOP_RET, 0, size, (uint8_t)!v->is_unsigned, 0);
	}
	for (int r = 0; r < HP_PCOND_NREGS && i == p->nparams; r++)
		if (!strcmp(id, hp_reg__name((enum hp_reg)r))) { /* a register: 64-bit, unsigned */
			c->out->regs |= 1u << r;
			v->is_unsigned = 1;
			return emit(c, HP_PCOP_REG, (uint8_t)r, 0, 0, 0);
		}
	if (p->ret)
		return fail(c, c->start,
			    "a return probe's condition reads ret, latency, pid, tgid, comm and registers (the "
			    "entry's arguments are not kept to the return)");
	uint8_t arg = 0, size = 8, sign = 0;
	if (i < p->nparams) {
		const struct hp_param *q = &p->params[i];
		arg = (uint8_t)(i + 1);
		if (q->cls == HP_PARAM_INT || q->cls == HP_PARAM_UINT) {
			size = (uint8_t)(q->size == 1 || q->size == 2 || q->size == 4 ? q->size : 8);
			sign = q->cls == HP_PARAM_INT;
		}
	} else if (is_argn(id, c->len)) {
		arg = (uint8_t)(id[3] - '0');
	} else {
		char known[HP_MAX_ARGS * (HP_PARAM_NAME + 2) + 64] = "";
		for (int k = 0; k < p->nparams; k++)
			snprintf(known + strlen(known), sizeof known - strlen(known), "%s, ", p->params[k].name);
		snprintf(known + strlen(known), sizeof known - strlen(known), "arg1..arg6, pid, tgid, comm, registers");
		char what[sizeof known + 32];
		snprintf(what, sizeof what, "unknown name (known: %s)", known);
		return fail(c, c->start, what);
	}
	if (arg > c->out->nargs)
		c->out->nargs = arg;
	v->is_unsigned = !sign;
	return emit(c, HP_PCOP_ARG, arg, size, sign, 0);
}

static int expr(struct cc *c, struct val *v);

static int unary(struct cc *c, struct val *v)
{
	const char *at = c->start;
	if (is_op(c, "!") || is_op(c, "~") || is_op(c, "-")) {
		char op = *c->start;
		next(c);
		if (unary(c, v) || as_number(c, v))
			return -1;
		v->at = at;
		if (op == '!')
			v->is_unsigned = 0;
		return emit(c, op == '!' ? HP_PCOP_LNOT : op == '~' ? HP_PCOP_BNOT : HP_PCOP_NEG, 0, 0, 0, 0);
	}
	*v = (struct val){ .at = at };
	switch (c->tok) {
	case T_NUM: {
		uint64_t num = c->num;
		v->is_unsigned = num > INT64_MAX;
		if (emit(c, HP_PCOP_IMM, 0, 0, 0, (int64_t)num))
			return -1;
		next(c);
		return 0;
	}
	case T_NAME:
		if (name(c, v))
			return -1;
		v->at = at;
		next(c);
		return 0;
	case T_STR:
		return fail(c, at, "a \"literal\" goes on the right of comm == or a string's ==");
	case T_OP:
		if (is_op(c, "(")) {
			next(c);
			if (expr(c, v))
				return -1;
			if (!is_op(c, ")"))
				return fail(c, c->start, "expected ')'");
			v->at = at;
			next(c);
			return 0;
		}
		return fail(c, at, "expected a value");
	case T_END:
		return fail(c, at, "expected a value");
	default:
		return fail(c, at, "not a number, name, \"string\" or operator");
	}
}

/* string == "lit": the literal takes one of the program's string slots. */
static int compare_str(struct cc *c, struct val *v, int negate)
{
	struct hp_pcond *o = c->out;
	if (c->tok != T_STR)
		return fail(c, c->start, "a string compares to a \"literal\"");
	size_t n = c->strlen;
	if (n >= HP_PCOND_STR_BYTES)
		return fail(c, c->start, "string literal longer than 31 bytes");
	int prefix = n && c->str[n - 1] == '*';
	if (c->nstr == HP_PCOND_MAX_STRS)
		return fail(c, c->start, "more than 2 string comparisons");
	int slot = c->nstr++;
	memcpy(o->strs[slot], c->str, n - (size_t)prefix); /* the rest stays NUL */
	next(c);
	if (emit(c, HP_PCOP_STR, v->src, (uint8_t)slot, (uint8_t)prefix, 0))
		return -1;
	*v = (struct val){ .at = v->at };
	return negate ? emit(c, HP_PCOP_LNOT, 0, 0, 0, 0) : 0;
}

/* One level of left-associative binary operators; ops[i] emits sops[i] (uops[i] when
 * either side is unsigned). */
struct level {
	const char *ops[4];
	uint8_t sops[4], uops[4];
	int bool_result;
};

static const struct level levels[] = {
	{ { "||" }, { HP_PCOP_LOR }, { HP_PCOP_LOR }, 1 },
	{ { "&&" }, { HP_PCOP_LAND }, { HP_PCOP_LAND }, 1 },
	{ { "|" }, { HP_PCOP_BOR }, { HP_PCOP_BOR }, 0 },
	{ { "^" }, { HP_PCOP_BXOR }, { HP_PCOP_BXOR }, 0 },
	{ { "&" }, { HP_PCOP_BAND }, { HP_PCOP_BAND }, 0 },
	{ { "==", "!=" }, { HP_PCOP_EQ, HP_PCOP_NE }, { HP_PCOP_EQ, HP_PCOP_NE }, 1 },
	{ { "<", "<=", ">", ">=" },
	  { HP_PCOP_LT, HP_PCOP_LE, HP_PCOP_GT, HP_PCOP_GE },
	  { HP_PCOP_LTU, HP_PCOP_LEU, HP_PCOP_GTU, HP_PCOP_GEU },
	  1 },
};
#define NLEVELS (int)(sizeof levels / sizeof levels[0])

static int binary(struct cc *c, int lv, struct val *v)
{
	if (lv == NLEVELS)
		return unary(c, v);
	if (binary(c, lv + 1, v))
		return -1;
	const struct level *l = &levels[lv];
	for (;;) {
		int k = 0;
		while (k < 4 && l->ops[k] && !is_op(c, l->ops[k]))
			k++;
		if (k == 4 || !l->ops[k])
			return 0;
		const char *at = c->start;
		next(c);
		if (v->is_str && l->sops[0] == HP_PCOP_EQ) {
			if (compare_str(c, v, k == 1))
				return -1;
			continue;
		}
		struct val w;
		if (as_number(c, v) || binary(c, lv + 1, &w) || as_number(c, &w))
			return -1;
		int u = v->is_unsigned || w.is_unsigned;
		if (emit(c, u ? l->uops[k] : l->sops[k], 0, 0, 0, 0))
			return -1;
		*v = (struct val){ .is_unsigned = !l->bool_result && u, .at = at };
	}
}

static int expr(struct cc *c, struct val *v)
{
	return binary(c, 0, v);
}

int hp_cond__compile_expr(const struct hp_probe *p, const char *opt, const char *text, size_t from, size_t to,
			  int number, struct hp_pcond *out, struct hp_cond_val *val, struct hp_err *err)
{
	char buf[256]; /* the option's text up to `to`: columns count from its start */
	memset(out, 0, sizeof *out);
	if (to >= sizeof buf || from > to)
		return hp_err__set(err, EINVAL, "%s: longer than %zu characters", opt, sizeof buf - 1);
	memcpy(buf, text, to);
	buf[to] = 0;
	struct cc c = { .text = buf, .pos = buf + from, .p = p, .opt = opt, .out = out, .err = err };
	struct val v;
	next(&c);
	if (expr(&c, &v) || (number && as_number(&c, &v)))
		return -EINVAL;
	if (c.tok != T_END)
		return fail(&c, c.start,
			    c.tok == T_BAD ? "not a number, name, \"string\" or operator" : "expected an operator"),
		       -EINVAL;
	const char *why = hp_pcond_check(out);
	if (why) /* the compiler's own bug: never shipped to a tier */
		return hp_err__set(err, EINVAL, "%s: %s", opt, why);
	*val = (struct hp_cond_val){ .is_str = v.is_str, .is_unsigned = v.is_unsigned, .src = v.src };
	return 0;
}

int hp_cond__compile(struct hp_probe *p, struct hp_err *err)
{
	struct hp_cond_val v;
	memset(&p->cond, 0, sizeof p->cond);
	if (!p->o.cond_text[0])
		return 0;
	size_t len = strnlen(p->o.cond_text, sizeof p->o.cond_text);
	if (hp_cond__compile_expr(p, "--if", p->o.cond_text, 0, len, 1, &p->cond, &v, err))
		return -EINVAL;
	if ((p->cond.need & HP_PCOND_NEED_MEM) && p->o.kind != HP_PROBE_CAPTURE)
		return hp_err__set(err, EINVAL, "--if: a counting probe captures no memory to compare");
	return 0;
}

void hp_cond__in_hit(struct hp_pcond_in *in, const struct hp_hit *hit, const uint64_t *regs)
{
	*in = (struct hp_pcond_in){ .args = hit->args,
				    .regs = regs ? regs : hit->regs,
				    .have_task = hit->pid >= 0,
				    .pid = hit->pid,
				    .tgid = hit->tgid,
				    .comm = hit->comm,
				    .mem = hit->mem,
				    .memlen = hit->memlen,
				    .retval = (uint64_t)hit->retval,
				    .latency_ns = hit->latency_ns };
}
