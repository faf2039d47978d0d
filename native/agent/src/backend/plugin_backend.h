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

#include "hprobe/plugin_ring.h"

#define HP_PLUGIN_CONNECT_MS 5000

/* Creates the ring file (mode 0600; an existing file is replaced) for up to nvcpus
 * vCPUs, ring_bytes of records each (a power of two, 4 KiB..64 MiB). */
int hp_plugin_ring__create(const char *path, unsigned nvcpus, uint32_t ring_bytes, struct hp_err *err);
/* Its size: hp_pring__bytes (hprobe/plugin_ring.h). */

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
/* qemu_pid > 0: the plugin must be in that process (an attached QEMU, maybe another
 * user's: a libvirt domain's runs as libvirt's QEMU user); 0: in a process of ours. */
struct hp_backend *hp_plugin_backend__new(const char *ctl_path, const char *ring_path, int qemu_pid,
					  struct hp_err *err);

#endif
