/* What the agent knows about a guest kernel: its symbols (with the KASLR slide), the
 * BTF offsets it needs, the text bounds and the places where probes are forbidden. */
#ifndef HP_KERNEL_H
#define HP_KERNEL_H
#include <stdint.h>
#include "hprobe/btf.h"
#include "hprobe/symtab.h"

struct hp_backend;
struct hp_plugin_task_offsets;

struct hp_kernel_offsets {
	uint32_t task_tasks, task_pid, task_tgid, task_comm, task_mm, task_state, task_real_parent,
		task_flags, task_group_leader, task_exit_state;
	uint32_t mm_pgd, mm_start_code;
	uint32_t regs_di, regs_si, regs_dx, regs_r10, regs_r8, regs_r9, regs_ax, regs_ip, regs_sp;
	uint32_t regs_size;
	uint32_t bl_list, bl_start, bl_end; /* struct kprobe_blacklist_entry */
};

struct hp_range {
	uint64_t start, end; /* [start, end) */
};

struct hp_kernel {
	struct hp_symtab *syms;   /* link-time addresses */
	struct hp_btf *btf;
	int64_t slide;            /* runtime = link + slide for kernel-image symbols */
	struct hp_kernel_offsets off;
	uint64_t current_task;    /* per-CPU offset of current_task */
	uint64_t page_offset_base;
	uint64_t init_task;       /* runtime address */
	uint64_t switch_out, switch_in; /* __switch_to, finish_task_switch (runtime; 0 = unknown) */
	struct hp_range text, inittext;
	struct hp_range *forbidden; /* the kernel's kprobe blacklist and entry/NMI code */
	size_t nforbidden;
	char banner[256];
	char release[64];
	char symbols_source[64];  /* "file", "guest memory", "cache" (recover.c) */
	char btf_source[64];
};

/* Takes ownership of syms and btf (either may be NULL: what needs them then fails
 * with a clear error). Reads guest memory through b to find the slide, check the
 * banner and read the kernel's own kprobe blacklist. */
int hp_kernel__new(struct hp_symtab *syms, struct hp_btf *btf, struct hp_backend *b,
		   struct hp_kernel **out, struct hp_err *err);
void hp_kernel__free(struct hp_kernel *k);

/* Runtime address of a symbol (slide applied where it moves). 0 if unknown. */
uint64_t hp_kernel__addr(const struct hp_kernel *k, const char *name);
uint64_t hp_kernel__runtime(const struct hp_kernel *k, const struct hp_sym *s);
/* The symbol containing a runtime address. */
const struct hp_sym *hp_kernel__lookup(const struct hp_kernel *k, uint64_t addr, uint64_t *off);

/* 0 if a probe may be planted at addr; else -EINVAL/-EPERM with the reason. */
int hp_kernel__check_probe_addr(const struct hp_kernel *k, uint64_t addr, struct hp_err *err);
int hp_kernel__has_task_offsets(const struct hp_kernel *k);
/* Whether sym is a syscall wrapper taking struct pt_regs * (its args live there). */
int hp_kernel__is_syscall_wrapper(const char *name);
/* Where the in-QEMU tier finds the current task and a syscall's arguments; zeros
 * where unknown (the plugin then reports no task). */
void hp_kernel__task_offsets(const struct hp_kernel *k, struct hp_plugin_task_offsets *o);
/* The two kernel functions where application probes follow processes: an exec that
 * mapped and named the new image (specs[0]) and a task's exit (specs[1]), as probe specs. */
int hp_kernel__process_hooks(const struct hp_kernel *k, const char *specs[2], struct hp_err *err);
#endif
