/* The probe engine, run by a VM's worker thread: what happens at a hit (capture,
 * filter, the owner's say, recording) and how the VM resumes. */
#ifndef HP_ENGINE_H
#define HP_ENGINE_H
#include "backend/backend.h"

struct hp_target;
struct hp_probe;

/* A vCPU stopped at a breakpoint: capture for every enabled probe there, then
 * resume (unless resume == 0: the caller keeps the VM stopped for jobs). */
int hp_engine__on_stop(struct hp_target *t, struct hp_backend *b, const struct hp_bev *ev, int resume,
		       struct hp_err *err);
/* A hit captured elsewhere (the in-QEMU tier). */
void hp_engine__on_hit(struct hp_target *t, struct hp_probe *p, struct hp_hit *hit);
/* Arms or disarms a probe in its backend and updates its state. */
int hp_engine__arm(struct hp_target *t, struct hp_probe *p, struct hp_err *err);
int hp_engine__disarm(struct hp_target *t, struct hp_probe *p, struct hp_err *err);
/* Appends a hit as a JSON object (protocol schema, docs/protocol.md). */
struct hp_strbuf;
void hp_engine__hit_json(struct hp_strbuf *sb, const struct hp_hit *hit, uint64_t seq);
#endif
