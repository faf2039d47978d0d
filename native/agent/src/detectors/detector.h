/* Detectors run in the agent, on the VM's worker thread, fed by the probes they own.
 * Each kind is one file with a struct hp_detector_ops and one line in detector.c's
 * registry. A detector lives in its target (probes/target.h) and uses only what the
 * probe layer offers. */
#ifndef HP_DETECTOR_H
#define HP_DETECTOR_H
#include <stdint.h>
#include <jansson.h>
#include "base/errors.h"
#include "hprobe/journal.h"
#include "probes/target.h"

struct hp_probe;
struct hp_detector;

struct hp_detector_ops {
	const char *kind;
	/* Validates config, plants the detector's probes. On failure, *cls says why. */
	int (*create)(struct hp_target *t, struct hp_detector *d, json_t *config, enum hp_eclass *cls,
		      struct hp_err *err);
	/* regs and act are NULL for hits captured inside QEMU. */
	void (*on_hit)(struct hp_target *t, struct hp_detector *d, struct hp_probe *p, const struct hp_hit *hit,
		       const uint64_t *regs, struct hp_hit_action *act);
	/* Called at least every 100 ms; now is CLOCK_MONOTONIC ns. */
	void (*tick)(struct hp_target *t, struct hp_detector *d, uint64_t now);
	/* Live state for queries and DETECTOR_STATE events (new reference). */
	json_t *(*state)(struct hp_target *t, struct hp_detector *d);
	void (*destroy)(struct hp_target *t, struct hp_detector *d);
};

struct hp_detector {
	uint32_t id;
	const struct hp_detector_ops *ops;
	json_t *config;
	void *priv;
	uint64_t alerts;
	uint64_t last_state_ns;
	int disabled; /* kept, but its probes are lifted and it does not tick */
	struct hp_detector *next;
};

const struct hp_detector_ops *hp_detector__kind(const char *kind);
/* Comma-separated list of known kinds, for error messages. */
const char *hp_detector__kinds(void);

/* Creates a detector of kind with config (copied), planting its probes, and appends it
 * to t's list. NULL on failure, with *cls and err saying why (nothing left planted). */
struct hp_detector *hp_detector__add(struct hp_target *t, const char *kind, json_t *config, enum hp_eclass *cls,
				     struct hp_err *err);
/* Removes detector id with its probes; -ENOENT if there is none. */
int hp_detector__remove(struct hp_target *t, long long id, struct hp_err *err);
/* A disabled detector keeps its state but its probes leave the guest. */
int hp_detector__set_enabled(struct hp_detector *d, struct hp_target *t, int on, enum hp_eclass *cls,
			     struct hp_err *err);
/* Frees every detector of t (the VM is gone: their probes went with it). */
void hp_detectors__free(struct hp_target *t);
/* The detector as the protocol shows it (docs/protocol.md, detector-list). */
json_t *hp_detector__json(struct hp_target *t, struct hp_detector *d);

void hp_detectors__on_hit(struct hp_target *t, struct hp_probe *p, const struct hp_hit *hit, const uint64_t *regs,
			  struct hp_hit_action *act);
void hp_detectors__tick(struct hp_target *t, uint64_t now);
/* The target's detector with this id, or NULL (ids are never reused within a VM). */
struct hp_detector *hp_detector__find(struct hp_target *t, long long id);
/* A guest task name as a JSON string, escaped as everywhere else (never fails). */
json_t *hp_json_comm(const char *comm);
/* Raises an alert: journalled and pushed as an ALERT event. Steals data. */
void hp_detector__alert(struct hp_target *t, struct hp_detector *d, const char *what, json_t *data);
#endif
