/* A probe's condition (--if): its text compiled against the probe's parameters into
 * the program both tiers evaluate (hprobe/pcond.h). */
#ifndef HP_COND_H
#define HP_COND_H
#include "hprobe/pcond.h"

struct hp_probe;
struct hp_err;

/* Compiles p->o.cond_text into p->cond. Names: the function's parameters (typed:
 * an int compares signed at its size, a size_t unsigned), arg1..arg6 (raw 64-bit
 * registers), pid, tgid, comm, and the parameter (or "mem") --mem captures as a
 * string; on a return probe ret (typed by the return type) and latency (ns) instead
 * of arguments. -EINVAL with err naming the column and the token that is wrong. */
int hp_cond__compile(struct hp_probe *p, struct hp_err *err);
#endif
