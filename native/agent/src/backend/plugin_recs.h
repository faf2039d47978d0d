/* The records of the in-QEMU tier's ring file (hprobe/plugin_proto.h) as backend
 * events. A record is guest data and QEMU's word: it is parsed from the copy the
 * consumer took (hp_pring__take), each count and length checked against the record's
 * own length, never trusted. Apart from the backend so that a fuzzer can reach it. */
#ifndef HP_PLUGIN_RECS_H
#define HP_PLUGIN_RECS_H
#include <stdint.h>

#include "backend/backend.h"
#include "hprobe/plugin_proto.h"

/* rec: one record of len bytes taken from ring `ring` of nrings (vCPU rings
 * 0..nrings-2 carry hits, the control ring nrings-1 counts and return statistics).
 * 0 = *ev filled (a hit's vCPU is its ring, a count's vCPU below nrings-1);
 * -1 = malformed or in the wrong ring. */
int hp_plugin_rec__parse(const uint8_t *rec, uint32_t len, unsigned ring, unsigned nrings, struct hp_bev *ev);

#endif
