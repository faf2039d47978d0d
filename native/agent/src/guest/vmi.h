/* Guest introspection through BTF offsets: the current task at a hit, and the task list. */
#ifndef HP_VMI_H
#define HP_VMI_H
#include <stddef.h>
#include <stdint.h>
#include "hprobe/journal.h"

struct hp_kernel;
struct hp_backend;

struct hp_task {
	uint64_t addr; /* task_struct */
	int32_t pid, tgid, ppid;
	char comm[HP_COMM_LEN + 1];
	uint32_t state; /* __state */
	uint32_t exit_state;
	uint64_t mm;
	uint64_t cr3; /* physical address of mm->pgd (0 for kernel threads) */
	uint64_t start_code;
	int kernel; /* kernel thread (no mm) */
};

/* The task running on the stopped vCPU (regs from that vCPU). */
int hp_vmi__current(const struct hp_kernel *k, struct hp_backend *b, const uint64_t *regs, struct hp_task *t,
		    struct hp_err *err);
/* Reads one task_struct's fields. */
int hp_vmi__read_task(const struct hp_kernel *k, struct hp_backend *b, uint64_t task, struct hp_task *t,
		      struct hp_err *err);
/* Walks init_task.tasks (processes) and each one's thread_group... (threads are listed
 * with their own pid and shared tgid). Returns count or -errno; *out is malloc'd. */
int hp_vmi__tasks(const struct hp_kernel *k, struct hp_backend *b, struct hp_task **out, struct hp_err *err);
/* Reads len bytes at a user address of the task's address space through its own
 * page tables (t->cr3, as hp_vmi__read_task found it), whatever each vCPU runs:
 * -EFAULT with err set for an address not mapped or not in memory (never touched,
 * or swapped out), -EINVAL for a task with no address space. */
int hp_vmi__read_user(const struct hp_kernel *k, struct hp_backend *b, const struct hp_task *t, uint64_t va, void *buf,
		      size_t len, struct hp_err *err);
/* The guest path of the program a task runs ("/usr/sbin/nginx"), from its file's
 * dentries up to the root (and across mounts where the profile knows them). The names
 * are the guest's bytes: one that is empty, ".", "..", holds a '/', is longer than
 * NAME_MAX or is not valid UTF-8, or a path deeper than 64 or longer than cap, is
 * refused (-EINVAL). -ENOENT for a task with no executable, -ENOTSUP when the
 * profile cannot walk dentries. */
int hp_vmi__exe_path(const struct hp_kernel *k, struct hp_backend *b, const struct hp_task *t, char *out, size_t cap,
		     struct hp_err *err);
/* The GNU build id (hex, as hp_elf_info.build_id) of the program a task runs, as its
 * memory shows it: the ELF header and program headers the auxiliary vector points
 * at (AT_PHDR), and the NT_GNU_BUILD_ID note they lead to. "" when the guest shows
 * none: no note, a page not in memory, headers that make no sense. */
void hp_vmi__exe_build_id(const struct hp_kernel *k, struct hp_backend *b, const struct hp_task *t, char out[41]);
/* ps-style state letter. */
char hp_vmi__state_letter(uint32_t state, uint32_t exit_state);
#endif
