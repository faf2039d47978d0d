/* The calls a return probe waits on: one entry per call that entered its function
 * and has not returned yet, keyed by the task and the stack pointer at the entry
 * (where the return address lies). Both tiers use it: the in-QEMU plugin (the task is
 * a task_struct address) and the agent's gdbstub tier (the task is a pid).
 *
 * Bounded: a table never holds more than its capacity. An entry leaves it when its
 * call returns (pop), when its task is gone (drop_task: the kernel's do_exit), after
 * a timeout (expire), when its probe goes (drop_probe), when a new call of the same
 * task at the same stack pointer shows it never returned (a longjmp, an exception
 * fixup: REPLACED), or when the table is full (the oldest: FULL). Every drop is told
 * to a callback, so the caller counts it and releases what it holds for the entry.
 *
 * No locking inside: the caller serializes (the plugin holds a mutex; the agent's
 * table belongs to the VM's thread). Recursion and concurrency need nothing special:
 * each call in flight has its own stack pointer, each task its own key. */
#ifndef HPROBE_RETPEND_H
#define HPROBE_RETPEND_H
#include <stddef.h>
#include <stdint.h>

struct hp_retpend_entry {
	uint64_t task;     /* who called: a task_struct address, or a pid */
	uint64_t sp;       /* rsp at the function's first instruction: the return address is at [sp] */
	uint64_t ret_addr; /* the return address read there at the entry */
	uint64_t entry_ns; /* host CLOCK_MONOTONIC at the entry */
	uint32_t probe_id;
	uint32_t tag; /* the caller's own (the plugin: the probe's slot) */
};

enum hp_retpend_why {
	HP_RETPEND_EXIT,     /* the task left (do_exit) inside the function */
	HP_RETPEND_TIMEOUT,  /* no return within the timeout */
	HP_RETPEND_FULL,     /* the table was full: the oldest entry made room */
	HP_RETPEND_REPLACED, /* a new entry of the same task and stack pointer: this call never returned */
	HP_RETPEND_REMOVED,  /* its probe was removed */
	HP_RETPEND_NWHY
};

typedef void (*hp_retpend_fn)(void *ud, const struct hp_retpend_entry *e, enum hp_retpend_why why);

struct hp_retpend;

/* A table of at most cap entries (1..1<<20); NULL if out of memory. */
struct hp_retpend *hp_retpend__new(uint32_t cap);
void hp_retpend__free(struct hp_retpend *t); /* NULL-safe */
uint32_t hp_retpend__count(const struct hp_retpend *t);
uint32_t hp_retpend__cap(const struct hp_retpend *t);
/* Adds e; fn (may be NULL) hears of an entry it displaced (REPLACED or FULL). */
void hp_retpend__push(struct hp_retpend *t, const struct hp_retpend_entry *e, hp_retpend_fn fn, void *ud);
/* The call of task whose entry stack pointer was sp has returned: takes its entry
 * into *out (when out is not NULL). 1 if there was one, 0 if not. */
int hp_retpend__pop(struct hp_retpend *t, uint64_t task, uint64_t sp, struct hp_retpend_entry *out);
/* Drops every entry of task (EXIT), entered before `before_ns` (TIMEOUT), or of probe_id
 * (REMOVED); returns how many. */
size_t hp_retpend__drop_task(struct hp_retpend *t, uint64_t task, hp_retpend_fn fn, void *ud);
size_t hp_retpend__expire(struct hp_retpend *t, uint64_t before_ns, hp_retpend_fn fn, void *ud);
size_t hp_retpend__drop_probe(struct hp_retpend *t, uint32_t probe_id, hp_retpend_fn fn, void *ud);
/* Drops every entry, telling why (a guest reboot: every task is gone). */
size_t hp_retpend__drop_all(struct hp_retpend *t, enum hp_retpend_why why, hp_retpend_fn fn, void *ud);
/* When the oldest call in flight entered (entry_ns); 0 if none waits. */
uint64_t hp_retpend__oldest_ns(const struct hp_retpend *t);
/* Whether some entry waits for a return at ret_addr. */
int hp_retpend__waits_at(const struct hp_retpend *t, uint64_t ret_addr);
#endif
