/* A probe's condition (--if): its text compiled against the probe's parameters into
 * the program both tiers evaluate (hprobe/pcond.h). */
#ifndef HP_COND_H
#define HP_COND_H
#include "hprobe/pcond.h"

struct hp_probe;
struct hp_err;
struct hp_hit;

/* Compiles p->o.cond_text into p->cond. Names: the function's parameters (typed:
 * an int compares signed at its size, a size_t unsigned), arg1..arg6 (raw 64-bit
 * registers), pid, tgid, comm, and the parameter (or "mem") --mem captures as a
 * string; on a return probe ret (typed by the return type) and latency (ns) instead
 * of arguments. -EINVAL with err naming the column and the token that is wrong. */
int hp_cond__compile(struct hp_probe *p, struct hp_err *err);

/* What an expression gives: a number (signed unless is_unsigned) or a string (src:
 * enum hp_pcstr; no program). */
struct hp_cond_val {
	int is_str, is_unsigned;
	uint8_t src;
};
/* Compiles text[from, to) (a part of one option's text: columns in errors count from
 * text) into out, with the names hp_cond__compile knows; opt names the option; a
 * string is refused when number is set. */
int hp_cond__compile_expr(const struct hp_probe *p, const char *opt, const char *text, size_t from, size_t to,
			  int number, struct hp_pcond *out, struct hp_cond_val *val, struct hp_err *err);
/* What a hit offers a program (its registers: regs, or the hit's own when NULL). */
void hp_cond__in_hit(struct hp_pcond_in *in, const struct hp_hit *hit, const uint64_t *regs);
#endif
