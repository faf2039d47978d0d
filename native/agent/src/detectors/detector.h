/* Detectors run in the agent, on the VM's worker thread, fed by the probes they own.
 * Each kind is one file with a struct hp_detector_ops and one line in detector.c's
 * registry. */
#ifndef HP_DETECTOR_H
#define HP_DETECTOR_H
#include <stdint.h>
#include <jansson.h>
#include "base/errors.h"
#include "hprobe/journal.h"

struct hp_vm;
struct hp_probe;
struct hp_detector;

/* What a detector asks the engine to do at a hit (gdbstub hits only). */
struct hp_detector_action {
	int block;           /* return retval to the caller, skipping the function body */
	int64_t retval;
	int pause;           /* leave the VM paused */
};

struct hp_detector_ops {
	const char *kind;
	/* Validates config, plants the detector's probes. On failure, *cls says why. */
	int (*create)(struct hp_vm *vm, struct hp_detector *d, json_t *config, enum hp_eclass *cls,
		      struct hp_err *err);
	void (*on_hit)(struct hp_vm *vm, struct hp_detector *d, struct hp_probe *p, const struct hp_hit *hit,
		       const uint64_t *regs, struct hp_detector_action *act);
	/* Called at least every 100 ms; now is CLOCK_MONOTONIC ns. */
	void (*tick)(struct hp_vm *vm, struct hp_detector *d, uint64_t now);
	/* Live state for queries and DETECTOR_STATE events (new reference). */
	json_t *(*state)(struct hp_vm *vm, struct hp_detector *d);
	void (*destroy)(struct hp_vm *vm, struct hp_detector *d);
};

struct hp_detector {
	uint32_t id;
	const struct hp_detector_ops *ops;
	json_t *config;
	void *priv;
	uint64_t alerts;
	uint64_t last_state_ns;
	int disabled;            /* kept, but its probes are lifted and it does not tick */
	struct hp_detector *next;
};

const struct hp_detector_ops *hp_detector__kind(const char *kind);
/* Comma-separated list of known kinds, for error messages. */
const char *hp_detector__kinds(void);

void hp_detectors__on_hit(struct hp_vm *vm, struct hp_probe *p, const struct hp_hit *hit,
			  const uint64_t *regs, struct hp_detector_action *act);
void hp_detectors__tick(struct hp_vm *vm, uint64_t now);
/* The VM's detector with this id, or NULL (ids are never reused within a VM). */
struct hp_detector *hp_detector__find(struct hp_vm *vm, long long id);
/* A guest task name as a JSON string, escaped as everywhere else (never fails). */
json_t *hp_json_comm(const char *comm);
/* Raises an alert: journalled and pushed as an ALERT event. Steals data. */
void hp_detector__alert(struct hp_vm *vm, struct hp_detector *d, const char *what, json_t *data);
#endif
