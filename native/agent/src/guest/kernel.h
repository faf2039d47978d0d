/* The guest-kernel profile: everything the agent (and, through it, the in-QEMU plugin)
 * knows about one guest kernel. Its symbols with the KASLR slide, where the current
 * task pointer lives per CPU, the task_struct / mm_struct / pt_regs members it reads,
 * the syscall convention, the process hooks, the places probes are forbidden.
 *
 * Every fact is derived from the kernel's BTF and symbol table by trying the layouts
 * Linux has had since 5.4 in order (docs/kernels.md), recording which one it found,
 * and checking every offset against its structure's size: a guest can hand us any
 * BTF. No other file names a kernel field or per-CPU symbol. A kernel whose profile
 * cannot be completed still gets kernel probes by symbol; the features that need the
 * missing piece are off, each with its reason (hp_kernel__feature). */
#ifndef HP_KERNEL_H
#define HP_KERNEL_H
#include <stdint.h>
#include <jansson.h>
#include "hprobe/btf.h"
#include "hprobe/symtab.h"

struct hp_backend;
struct hp_plugin_task_offsets;

/* Largest structures a profile accepts (real kernels: task_struct ~10 KiB). */
#define HP_KERNEL_TASK_MAX 65536u
#define HP_KERNEL_STRUCT_MAX 16384u

struct hp_kernel_offsets {
	uint32_t task_size;
	uint32_t task_tasks, task_pid, task_tgid, task_comm, task_mm, task_state, task_real_parent, task_flags,
		task_group_leader, task_exit_state;
	uint32_t task_state_size; /* 4 (__state, 5.14+) or 8 (state, long) */
	uint32_t mm_pgd, mm_start_code, mm_exe_file;
	uint32_t file_dentry, dentry_name; /* file.f_path.dentry, dentry.d_name.name */
	uint32_t regs_di, regs_si, regs_dx, regs_r10, regs_r8, regs_r9, regs_ax, regs_ip, regs_sp;
	uint32_t regs_size;
	uint32_t bl_list, bl_start, bl_end; /* struct kprobe_blacklist_entry */
	/* optional: a task's executable by its whole guest path, and its auxiliary vector */
	int exe_paths; /* 0: its file name only; 1: up its file system's root; 2: across mounts */
	uint32_t dentry_parent, file_mnt, vfsmount_root;    /* dentry.d_parent, file.f_path.mnt, vfsmount.mnt_root */
	uint32_t mount_mnt, mount_parent, mount_mountpoint; /* struct mount: mnt, mnt_parent, mnt_mountpoint */
	uint32_t mm_saved_auxv, mm_saved_auxv_size;         /* 0 size: unknown */
	/* optional: a syscall's parameter names and types (struct syscall_metadata) */
	int syscall_meta;
	uint32_t meta_nb_args, meta_types, meta_args, meta_size;
};

struct hp_range {
	uint64_t start, end; /* [start, end) */
};

/* What a profile can do; each is off when a piece it needs is missing. */
enum hp_kfeature {
	HP_KF_PROBES,       /* kernel probes by symbol */
	HP_KF_TASK,         /* the current task at a hit: pid/tgid/comm, --pid/--comm filters */
	HP_KF_SYSCALL_ARGS, /* a syscall's own arguments at its __x64_sys_ wrapper */
	HP_KF_PS,           /* the task list (vm ps) */
	HP_KF_APPS,         /* application probes (processes followed through exec/exit) */
	HP_KF_COUNT
};

struct hp_kernel {
	struct hp_symtab *syms; /* link-time addresses */
	struct hp_btf *btf;
	int64_t slide; /* runtime = link + slide for kernel-image symbols */
	struct hp_kernel_offsets off;
	/* the current task pointer: read at gs base + this (a per-CPU offset, or with
	 * non-zero-based per-CPU data, a runtime address that wraps) */
	uint64_t current_task;
	uint64_t page_offset_base;
	int paging_levels;              /* 4, or 5 (LA57); 0 unknown (no guest memory read) */
	uint64_t init_task;             /* runtime address */
	uint64_t switch_out, switch_in; /* __switch_to, finish_task_switch (runtime; 0 = unknown) */
	struct hp_range text, inittext;
	struct hp_range *forbidden; /* the kernel's kprobe blacklist and entry/NMI code */
	size_t nforbidden;
	char banner[256];
	char release[64];
	char symbols_source[64]; /* "file", "guest memory", "cache" (recover.c) */
	/* which historical layout each fact came in (docs/kernels.md) */
	char current_layout[64];          /* "current_task" or "pcpu_hot.current_task" */
	char state_layout[32];            /* "__state" or "state" */
	const char *off_why[HP_KF_COUNT]; /* NULL: on; else why the feature is off */
	char why_buf[HP_KF_COUNT][160];
};

/* Takes ownership of syms and btf (either may be NULL: the features that need them are
 * off). Reads guest memory through b to find the slide, check the banner and read
 * the kernel's own kprobe blacklist. Fails only when the symbols do not belong to the
 * running kernel, or the BTF not to these symbols. */
int hp_kernel__new(struct hp_symtab *syms, struct hp_btf *btf, struct hp_backend *b, struct hp_kernel **out,
		   struct hp_err *err);
/* The same from files alone, at a slide the caller knows (0 for a nokaslr boot): no
 * guest memory is read, so nothing checks that they match the guest, and the kprobe
 * blacklist is the section bounds only. For tests and offline tools. */
int hp_kernel__from_files(struct hp_symtab *syms, struct hp_btf *btf, int64_t slide, struct hp_kernel **out,
			  struct hp_err *err);
void hp_kernel__free(struct hp_kernel *k);

/* NULL when the feature is on (k may be NULL: a profile being read again), else why
 * it is off, in words a user can act on. */
const char *hp_kernel__feature(const struct hp_kernel *k, enum hp_kfeature f);
const char *hp_kernel__feature_name(enum hp_kfeature f);
/* -ENOTSUP with the reason in err when the feature is off; what names the asker. */
int hp_kernel__need(const struct hp_kernel *k, enum hp_kfeature f, const char *what, struct hp_err *err);

/* Whether the vmlinux at path is the running kernel's: it must hold the banner the
 * guest's memory shows (-EXDEV otherwise). A raw BTF file cannot tell and passes. */
int hp_kernel__check_image(const struct hp_kernel *k, const char *path, struct hp_err *err);

/* What the profile found, for vm-info: the layouts and every feature with its reason. */
json_t *hp_kernel__json(const struct hp_kernel *k);

/* Runtime address of a symbol (slide applied where it moves). 0 if unknown. */
uint64_t hp_kernel__addr(const struct hp_kernel *k, const char *name);
uint64_t hp_kernel__runtime(const struct hp_kernel *k, const struct hp_sym *s);
/* The symbol containing a runtime address. */
const struct hp_sym *hp_kernel__lookup(const struct hp_kernel *k, uint64_t addr, uint64_t *off);
/* A runtime address of the kernel's text as "func+0xoff" (hp_symtab__describe); -ENOENT
 * outside it (data, the heap, user space) or when no function holds it. */
int hp_kernel__describe(const struct hp_kernel *k, uint64_t addr, char *buf, size_t cap);

/* 0 if a probe may be planted at addr; else -EINVAL/-EPERM with the reason. */
int hp_kernel__check_probe_addr(const struct hp_kernel *k, uint64_t addr, struct hp_err *err);
int hp_kernel__has_task_offsets(const struct hp_kernel *k);
/* Whether name is a syscall wrapper taking struct pt_regs * (its args live there,
 * where the profile's syscall_args feature can find them). */
int hp_kernel__is_syscall_wrapper(const char *name);
/* The syscall a wrapper enters ("__x64_sys_write" -> "write"), or NULL. */
const char *hp_kernel__syscall_name(const char *name);
/* Where the in-QEMU tier finds the current task and a syscall's arguments; zeros
 * where unknown (the plugin then reports no task). */
void hp_kernel__task_offsets(const struct hp_kernel *k, struct hp_plugin_task_offsets *o);
/* The parameters of the kernel function func as its hits show them (params.c): for
 * a syscall wrapper, from the kernel's syscall metadata in guest memory read through
 * b, else from its BTF prototype. Returns how many were filled (at most max; 0 when
 * neither source knows), and names the source in from ("syscall metadata", "btf"). */
int hp_kernel__func_params(const struct hp_kernel *k, struct hp_backend *b, const char *func, struct hp_param *params,
			   int max, char *from, size_t cap);
/* The return type of the kernel function func (params.c): a syscall wrapper's is long
 * and a negative value -errno (*is_errno); any other's from its BTF prototype.
 * -ENOENT when unknown. */
int hp_kernel__func_ret(const struct hp_kernel *k, const char *func, struct hp_param *ret, int *is_errno);
/* The two kernel functions where application probes follow processes: an exec that
 * mapped and named the new image (specs[0]) and a task's exit (specs[1]), as probe specs. */
int hp_kernel__process_hooks(const struct hp_kernel *k, const char *specs[2], struct hp_err *err);
/* The names of the symbols a profile reads memory through (for recovery, which must
 * find them before there is a profile). */
extern const char *const hp_kernel__kaslr_anchors[]; /* NULL-terminated, newest first */
#define HP_KERNEL_BANNER_SYM "linux_banner"
#endif
