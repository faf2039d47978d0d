/* QEMU processes the agent starts, and the in-QEMU probe tier of any VM:
 * - the lab's guest, through the lab's own launcher (lab.sh);
 * - a user's own guest (vm-launch with a kernel and/or a disk image): QEMU started
 *   here with the sockets the agent needs (QMP, gdbstub, console);
 * - the TCG plugin: loaded by QEMUs the agent starts, or found on the command line
 *   of an attached QEMU a user started with "-plugin .../hprobe-tcg.so,ctl=PATH".
 * Worker thread of the VM. */
#ifndef HP_QEMU_H
#define HP_QEMU_H
#include <stddef.h>
#include "hprobe/common.h"

struct hp_vm;

/* "kvm" when /dev/kvm can run a guest here, else "tcg"; $HPROBE_ACCEL overrides. */
const char *hp_qemu__accel(void);

/* Starts the VM's QEMU (lab guest or own guest) with the in-QEMU tier when it can
 * have one. A lab guest's folder goes to guest (built first if needed). */
int hp_qemu__start(struct hp_vm *vm, char *guest, size_t cap, struct hp_err *err);
/* A lab guest's kernel files (its folder's kallsyms and vmlinux), where symbols and
 * vmlinux (cap bytes each) are not given; its programs, /apps/NAME in the guest, are
 * its folder's apps/NAME (the sysroot it gets). Nothing for other VMs. */
void hp_qemu__lab_files(const struct hp_vm *vm, char *symbols, char *vmlinux, size_t cap);
/* A lab guest: until its init says it is ready. An own guest: nothing to wait for. */
int hp_qemu__wait_ready(struct hp_vm *vm, struct hp_err *err);
/* An own guest, stopped under the gdbstub: lets it run until its kernel runs (the
 * vCPU in the kernel's half of the address space), up to its boot timeout. Returns
 * with the VM stopped. */
int hp_qemu__wait_kernel(struct hp_vm *vm, struct hp_err *err);
/* 0 while QEMU runs (or is not ours), -ECHILD once it has exited. */
int hp_qemu__alive(struct hp_vm *vm, struct hp_err *err);

/* The in-QEMU tier: for a QEMU we started, connects to the plugin it was given; for
 * an attached one, looks for our plugin on its command line. Without it, probes use
 * the gdbstub (said in the log, not an error). */
void hp_qemu__connect_plugin(struct hp_vm *vm);
#endif
