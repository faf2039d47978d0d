/* The in-QEMU probe tier's backend ("tcg-plugin"): the agent's side of hprobe-tcg.so,
 * the TCG plugin loaded into a QEMU the agent launched. Probes are armed with their
 * whole capture plan over the plugin's control socket; hits, drops and counting
 * totals come back through the shared-memory ring file. The VM never stops for a hit.
 * Guest memory, registers and guest-state changes stay with the gdbstub backend.
 *
 * Launch order: hp_plugin_ring__create, start QEMU with hp_plugin__qemu_arg's
 * "-plugin" value, then hp_plugin_backend__new (it waits for the plugin's socket). */
#ifndef HP_PLUGIN_BACKEND_H
#define HP_PLUGIN_BACKEND_H
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "hprobe/plugin_proto.h"

/* Per vCPU: ~130,000 hits with registers, ~200 ms at the fastest a vCPU calls under TCG
 * here (~650k hits/s): the drain keeps up on average but stalls while the journal syncs
 * (once a second); 4 MiB dropped 5-8% of such a run, 16 MiB 0.04-0.4%, 32 MiB none
 * (docs/performance.md). A large VM's rings share HP_PLUGIN_RINGS_MAX (memory is
 * shared by QEMU and the agent, touched as the rings fill). */
#define HP_PLUGIN_RING_BYTES (32u << 20)
#define HP_PLUGIN_RINGS_MAX (256u << 20)
#define HP_PLUGIN_CONNECT_MS 5000

/* Creates the ring file (mode 0600; an existing file is replaced) for up to nvcpus
 * vCPUs, ring_bytes of records each (a power of two, 4 KiB..64 MiB). */
int hp_plugin_ring__create(const char *path, unsigned nvcpus, uint32_t ring_bytes, struct hp_err *err);
/* The ring size for nvcpus vCPUs: HP_PLUGIN_RING_BYTES each, less (a power of two, at
 * least 4 MiB) when they would pass HP_PLUGIN_RINGS_MAX together. */
uint32_t hp_plugin_ring__bytes(unsigned nvcpus);

/* The .so to load: $HPROBE_TCG_PLUGIN, else ../lib/hprobe-tcg.so next to our binary. */
int hp_plugin__find_so(char *dst, size_t cap, struct hp_err *err);

/* QEMU's "-plugin" value: "file=SO,ring=RING,ctl=CTL". Paths with a comma are
 * refused (QEMU's option syntax would split them). */
int hp_plugin__qemu_arg(char *dst, size_t cap, const char *so, const char *ring, const char *ctl, struct hp_err *err);

/* Maps the ring file, connects to the plugin's control socket (waiting up to
 * HP_PLUGIN_CONNECT_MS for QEMU to create it) and checks the plugin is the one that
 * mapped this ring. NULL on error, with err set. Free with hp_backend__destroy. Its
 * tier-specific operations (sync, count totals, stats) are the optional ones of
 * backend.h. */
struct hp_backend *hp_plugin_backend__new(const char *ctl_path, const char *ring_path, struct hp_err *err);

#endif
