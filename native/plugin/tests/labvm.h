/* A lab guest under QEMU with hprobe-tcg.so loaded, for the plugin's integration test
 * and benchmark: boots it (native/guest/lab.sh), types into its console, waits for
 * its output, and pumps the tcg-plugin backend's events into a callback meanwhile.
 * Task and pt_regs offsets come from the guest's BTF, addresses from its kallsyms
 * (the guest boots with nokaslr, the same layout the kallsyms file was dumped with). */
#ifndef HP_LABVM_H
#define HP_LABVM_H
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend/backend.h"
#include "hprobe/plugin_proto.h"

struct labvm {
	char guest[PATH_MAX], dir[64], ring[96], ctl[96], log[96];
	pid_t qemu;
	int con;   /* the console socket */
	char *out; /* console output so far */
	size_t outlen, outcap, mark;
	struct hp_backend *b; /* NULL when booted without the plugin */
	void (*on_event)(void *ctx, const struct hp_bev *ev);
	void *ctx;
	int gone;
};

struct lab_kernel {
	struct hp_plugin_task_offsets off;
	uint64_t sys_getpid, sys_write; /* __x64_sys_getpid, __x64_sys_write */
	char layout[64];                /* where the profile found the current task */
};

/* The lab guest's directory (built by lab.sh if needed; the kernel HPROBE_LAB_KERNEL
 * names, lab.sh's default otherwise). */
int lab__guest_dir(const char *lab, char *dst, size_t cap);
int lab__kernel(const char *guest, struct lab_kernel *k);

/* so == NULL: boot without the plugin (for a baseline). */
int labvm__boot(struct labvm *vm, const char *lab, const char *guest, const char *so, int smp, uint32_t ring_bytes);
void labvm__kill(struct labvm *vm);
int labvm__type(struct labvm *vm, const char *line);
/* Output after this point is what labvm__wait looks at. */
void labvm__mark(struct labvm *vm);
/* Waits (pumping events) for a console line after the mark containing needle, and
 * copies that line. 0, or -1 on timeout or if QEMU died. */
int labvm__wait(struct labvm *vm, const char *needle, int timeout_ms, char *line, size_t cap);
/* Pumps events for ms milliseconds. */
void labvm__pump(struct labvm *vm, int ms);
/* Runs a sysloop line to completion and returns its pid and rate ("getpid_calls=N"). */
int labvm__sysloop(struct labvm *vm, const char *args, long n, int *pid, double *rate);
#endif
