/* Guest introspection through BTF offsets: the current task at a hit, and the task list. */
#ifndef HP_VMI_H
#define HP_VMI_H
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
/* ps-style state letter. */
char hp_vmi__state_letter(uint32_t state, uint32_t exit_state);
#endif
