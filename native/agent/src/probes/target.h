/* What the probe and detector layers know of one monitored VM: its guest-kernel profile,
 * its probe mechanisms, its probes and detectors, and the few services the VM layer
 * above lends them (journalling a hit, publishing an event, running work later on the
 * VM's thread). The VM layer embeds one per VM (vm/vm.h) and fills the services;
 * nothing below it knows how a VM was launched, attached or journalled.
 * Everything here belongs to the VM's worker thread. */
#ifndef HP_TARGET_H
#define HP_TARGET_H
#include <limits.h>
#include <stdint.h>
#include <jansson.h>

#include "hprobe/journal.h"

struct hp_target;
struct hp_probe;
struct hp_detector;
struct hp_kernel;
struct hp_backend;
struct hp_retpend;

/* What the owner of a probe (a detector) asks at a hit: gdbstub hits only. */
struct hp_hit_action {
	int block; /* return retval to the caller, skipping the function body */
	int64_t retval;
	int pause; /* leave the VM paused */
};

/* Work run later on the VM's thread; the VM is stopped while it runs if asked. */
typedef void (*hp_target_work_fn)(struct hp_target *t, void *ud);

struct hp_target_ops {
	/* A hit that passed its probe's filter (counting probes too): journal, count, stream. */
	void (*record)(struct hp_target *t, struct hp_probe *p, const struct hp_hit *hit);
	/* A hit of a probe some detector owns, before it is recorded; regs and act are
	 * NULL for hits captured inside QEMU (nothing can be changed there). */
	void (*observe)(struct hp_target *t, struct hp_probe *p, const struct hp_hit *hit, const uint64_t *regs,
			struct hp_hit_action *act);
	/* An event for clients and the journal (PROBE, DETECTOR, ALERT...). Steals data. */
	void (*event)(struct hp_target *t, const char *name, json_t *data);
	/* A live state for clients only, not journalled (DETECTOR_STATE). Steals data. */
	void (*notify)(struct hp_target *t, const char *name, json_t *data);
	/* Queues fn(t, ud); -ENOMEM if it cannot. */
	int (*defer)(struct hp_target *t, hp_target_work_fn fn, void *ud, int need_stop);
	/* A detector asks to leave the VM paused after this hit. */
	void (*pause)(struct hp_target *t, const char *reason);
	/* The probe list changed (added, removed). */
	void (*probes_changed)(struct hp_target *t);
	/* Whether the VM runs (not paused by the user, not starting, not dead). */
	int (*running)(struct hp_target *t);
};

struct hp_target {
	const char *name; /* the VM's name, for messages */
	const struct hp_target_ops *ops;
	struct hp_kernel *kernel;  /* the guest-kernel profile; NULL while unknown */
	struct hp_backend *gdb;    /* the stopping mechanism (gdbstub); NULL once gone */
	struct hp_backend *plugin; /* the in-QEMU mechanism; NULL if absent */
	int kvm;                   /* hardware virtualization (debug registers for user probes) */
	int smp;                   /* vCPUs */
	char sysroot[PATH_MAX];    /* host directory mirroring the guest's files ("" = none) */
	struct hp_probe *probes;
	uint32_t next_probe_id;
	struct hp_probe *app_hooks[2];  /* exec and exit hooks while application probes exist */
	struct hp_retpend *rets;        /* gdbstub-tier return probes' calls in flight (probes/retprobe.h) */
	uint64_t ret_timeout_ns;        /* a call in flight longer is dropped (hprobed --ret-timeout; 0: 300 s) */
	struct hp_probe *ret_exit_hook; /* do_exit while gdbstub-tier return probes exist */
	int ret_expiring;               /* a stopped-VM drop of timed-out calls is queued */
	struct hp_detector *detectors;
	uint32_t next_detector_id;
	json_t *removed; /* the last HP_REMOVED_KEPT removed probes as probe-list shows them */
};

/* Removed probes whose descriptions stay for readers of their hits (probe-list "removed"). */
#define HP_REMOVED_KEPT 256

/* The probe with this id, or NULL. */
struct hp_probe *hp_target__probe(struct hp_target *t, uint32_t id);

static inline void hp_target__event(struct hp_target *t, const char *name, json_t *data)
{
	t->ops->event(t, name, data);
}
#endif
