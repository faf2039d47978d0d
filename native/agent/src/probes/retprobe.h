/* Return probes on the gdbstub tier (FUNC%return): at each entry the return address
 * is read at [rsp] and a one-shot breakpoint planted there (counted per address, so
 * calls in flight share it); the stop at a return address is matched to its call by
 * the task and the stack pointer (rsp at the return == the entry's rsp + 8). Calls
 * in flight wait in a bounded table (hprobe/retpend.h); a task that leaves inside the
 * function drops its calls at the kernel's do_exit (an internal probe that lives as
 * long as gdbstub-tier return probes do), and a call that never returns is dropped
 * after HP_RET_TIMEOUT_NS (checked at each entry, and by the VM's tick when no call
 * comes: the drop lifts a breakpoint, so it runs with the VM stopped). The in-QEMU
 * tier does the same inside QEMU (plugin). */
#ifndef HP_RETPROBE_H
#define HP_RETPROBE_H
#include <stdint.h>

#include "backend/backend.h"
#include "base/errors.h"

struct hp_target;
struct hp_probe;
struct hp_task;

#define HP_RET_TABLE 4096                          /* calls in flight, all gdbstub-tier return probes */
#define HP_RET_TIMEOUT_NS (300ull * 1000000000ull) /* a call not returned in 5 minutes is dropped, by default */

/* p is a gdbstub-tier return probe: the table and the exit hook exist after this. */
int hp_ret__attach(struct hp_target *t, struct hp_probe *p, struct hp_err *err);
/* p goes: its calls in flight are dropped (their breakpoints lifted); the last
 * gdbstub-tier return probe takes the table and the exit hook along. */
void hp_ret__detach(struct hp_target *t, struct hp_probe *p);
/* p is disabled: its calls in flight are dropped (REMOVED), their breakpoints lifted. */
void hp_ret__disarm(struct hp_target *t, struct hp_probe *p);
/* The guest rebooted (every task is gone, the breakpoints lifted or about to be):
 * every call in flight is dropped as EXIT. With free, the table goes too (the VM's end). */
void hp_ret__reset(struct hp_target *t, int free);
/* Whether some call waits for a return at addr (the VM stopped there). */
int hp_ret__waits_at(const struct hp_target *t, uint64_t addr);
/* The VM stopped at p's function entry and task passed p's filter: the call waits. */
void hp_ret__on_entry(struct hp_target *t, struct hp_backend *b, struct hp_probe *p, const struct hp_bev *ev,
		      const uint64_t *regs, const struct hp_task *task);
/* The VM stopped at a return address: the call of task that returns here, if any,
 * becomes its probe's hit. */
void hp_ret__on_return(struct hp_target *t, struct hp_backend *b, const struct hp_bev *ev, const uint64_t *regs,
		       const struct hp_task *task);
/* The VM's periodic tick: a call in flight past the timeout has the VM stopped once to
 * drop it (and every other one past it), without waiting for another call. */
void hp_ret__tick(struct hp_target *t, uint64_t now);
/* Whether p is the exit hook; if so, the calls of task (leaving) are dropped. */
int hp_ret__on_exit_hook(struct hp_target *t, struct hp_probe *p, const struct hp_task *task);
#endif
