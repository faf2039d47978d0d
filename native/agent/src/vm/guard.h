/* The guardian: a small process forked when hprobed starts. If the agent dies
 * (SIGKILL included), QEMU keeps our breakpoints and leaves the VM stopped, because
 * it does nothing when a debugger's connection drops. The guardian notices the
 * agent's end through a pipe and detaches from each VM's gdbstub itself ('D;1':
 * QEMU lifts every breakpoint and resumes), so the guests run on at full speed, and
 * turns off the gdbstubs the agent had started. */
#ifndef HP_GUARD_H
#define HP_GUARD_H

struct hp_host;

/* Forks the guardian; call before any thread starts. -errno on failure. */
int hp_guard__start(struct hp_host *h);
/* A gdbstub the guardian must release if the agent dies / no longer needs to. With
 * monitor (an hp_qmp__source: a QMP socket or a libvirt domain), the gdbstub is ours:
 * the guardian also turns it off there ("gdbserver none") once it is released. */
#include <jansson.h>
void hp_guard__watch(struct hp_host *h, const char *gdb_socket, const json_t *monitor);
void hp_guard__unwatch(struct hp_host *h, const char *gdb_socket);
/* Clean exit: the agent detached everything itself. */
void hp_guard__stop(struct hp_host *h);
#endif
