/* Application probes: ELF symbols of guest programs, and which guest processes a
 * probe belongs to. Static binaries share virtual addresses across processes, so a
 * process's identity comes from its task (executable name, pid) and is checked at
 * every stop, never taken from the address. */
#ifndef HP_APPS_H
#define HP_APPS_H
#include <limits.h>
#include <stdint.h>
#include "base/errors.h"
#include "hprobe/common.h"

struct hp_target;
struct hp_probe;
struct hp_task;
struct hp_symtab;

#define HP_APP_MAX_PROCS 64

struct hp_app_proc {
	int32_t tgid;
	uint64_t task;
	uint64_t base; /* load bias (PIE), 0 for a static executable */
	uint64_t addr; /* runtime address of the probe in this process */
	int armed;
};

struct hp_app {
	char path[PATH_MAX];  /* the guest path the spec names */
	char host[PATH_MAX];  /* the file under the sysroot it was resolved to (symlinks followed) */
	char guest[PATH_MAX]; /* that file's own guest path, which processes run ("" unknown) */
	char build_id[41];    /* the file's (hex, "" none) */
	char exe[16];         /* its file name as the kernel keeps it (dentry name, cut to 15) */
	int pie;
	uint64_t link_addr;  /* FUNC+OFF at link time */
	uint64_t text_vaddr; /* lowest executable PT_LOAD vaddr: start_code - this = load bias */
	uint8_t code[16];    /* the original bytes at link_addr */
	struct hp_app_proc procs[HP_APP_MAX_PROCS];
	int nprocs;
};

/* Resolves "app:BINARY:FUNC[+OFF]" into p (which keeps a new struct hp_app), finds the
 * matching processes already running and plans the probe's resume. */
int hp_apps__resolve(struct hp_target *t, struct hp_probe *p, const char *spec, enum hp_eclass *cls,
		     struct hp_err *err);
void hp_apps__free(struct hp_target *t, struct hp_probe *p);
/* The file name of the executable a task runs ("" for kernel threads or if unreadable). */
void hp_apps__task_exe(struct hp_target *t, const struct hp_task *task, char exe[16]);
/* The ELF symbols of the program a guest path names ("/usr/sbin/nginx"), from the
 * file under the VM's sysroot (base/sysroot.h: nothing outside it is reached). *st
 * and *fd (open for the file's bytes) are the caller's to free and close; host
 * receives the file's host path. -errno with cls and err set: the VM has no
 * sysroot, the path is not under it, not an ELF, stripped (-ENODATA). */
int hp_apps__load(const struct hp_target *t, const char *guest_path, struct hp_symtab **st, int *fd, char *host,
		  size_t cap, enum hp_eclass *cls, struct hp_err *err);
/* Whether the program a task runs is the file loaded for guest_path (host, whose build
 * id is file_id): where the task's memory shows a build id, it must be the same. 0,
 * or -EXDEV with err set ("the guest runs a different ..."). */
int hp_apps__same_build(struct hp_target *t, const struct hp_task *task, const char *guest_path, const char *host,
			const char *file_id, struct hp_err *err);
/* Plants / lifts the probe in every matching process (state armed, pending or disabled). */
int hp_apps__arm(struct hp_target *t, struct hp_probe *p, struct hp_err *err);
int hp_apps__disarm(struct hp_target *t, struct hp_probe *p, struct hp_err *err);
/* The guest rebooted: every process is gone (their breakpoints lifted); pending. */
void hp_apps__forget_processes(struct hp_target *t, struct hp_probe *p);
/* Whether a stop at addr by task belongs to p (its process, its address). */
int hp_apps__owns(const struct hp_probe *p, uint64_t addr, const struct hp_task *t);
/* Whether a probe of p sits at addr in any process. */
int hp_apps__at(const struct hp_probe *p, uint64_t addr);
/* The exec/exit hooks (internal kernel probes) fired. */
void hp_apps__on_hook(struct hp_target *t, struct hp_probe *hook, const uint64_t *regs);
/* The same, for a hook hit captured inside QEMU (no stop, no registers). */
struct hp_hit;
void hp_apps__on_hook_hit(struct hp_target *t, struct hp_probe *hook, const struct hp_hit *hit);
#endif
