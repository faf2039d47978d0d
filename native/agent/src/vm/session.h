/* Sessions on disk: one directory per monitored VM with its journal and a
 * session.json describing how to find the VM again (used to recover after a restart). */
#ifndef HP_SESSION_H
#define HP_SESSION_H
#include "hprobe/common.h"

struct hp_vm;

/* Creates the VM's session directory (state dir) and run directory (sockets), whose
 * paths hp_vm__start set. */
int hp_session__create(struct hp_vm *vm, struct hp_err *err);
/* Writes session.json (atomically). */
void hp_session__save(struct hp_vm *vm);
/* The VM left monitoring on purpose: its session is closed (the journal stays). */
void hp_session__remove(struct hp_vm *vm);

struct hp_host;
/* At start-up: finds the sessions an earlier agent left open, and re-attaches to each
 * VM still alive (its probes and detectors planted again, its journal continued).
 * Sessions whose VM is gone are closed with the reason. Returns how many resume. */
int hp_session__recover(struct hp_host *h);
/* In the recovery attach job: plants the saved probes (same ids) and detectors. */
void hp_session__restore_probes(struct hp_vm *vm);
#endif
