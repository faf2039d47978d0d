#include "guest/kernel.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "hprobe/plugin_proto.h"
#include "base/util.h"

/* Fixed by the x86-64 kernel: the IDT is remapped read-only in the CPU entry area. */
#define CEA_IDT 0xfffffe0000000000ull
#define KERNEL_IMAGE_MIN 0xffffffff80000000ull
#define MAX_BLACKLIST 100000

void hp_kernel__free(struct hp_kernel *k)
{
	if (!k)
		return;
	hp_symtab__free(k->syms);
	hp_btf__free(k->btf);
	free(k->forbidden);
	free(k);
}

static int moves_with_kaslr(uint64_t link_addr)
{
	/* per-CPU symbols are offsets (type 'A', small values) and do not slide */
	return link_addr >= KERNEL_IMAGE_MIN;
}

uint64_t hp_kernel__runtime(const struct hp_kernel *k, const struct hp_sym *s)
{
	return moves_with_kaslr(s->addr) ? s->addr + (uint64_t)k->slide : s->addr;
}

uint64_t hp_kernel__addr(const struct hp_kernel *k, const char *name)
{
	const struct hp_sym *s = k->syms ? hp_symtab__find(k->syms, name) : NULL;
	return s ? hp_kernel__runtime(k, s) : 0;
}

const struct hp_sym *hp_kernel__lookup(const struct hp_kernel *k, uint64_t addr, uint64_t *off)
{
	if (!k->syms)
		return NULL;
	uint64_t link = addr >= KERNEL_IMAGE_MIN ? addr - (uint64_t)k->slide : addr;
	return hp_symtab__lookup_addr(k->syms, link, off);
}

int hp_kernel__describe(const struct hp_kernel *k, uint64_t addr, char *buf, size_t cap)
{
	if (cap)
		buf[0] = 0;
	if (!k->syms || !k->text.start || !k->text.end || addr < k->text.start || addr >= k->text.end)
		return -ENOENT;
	uint64_t link = addr - (uint64_t)k->slide, off = 0;
	int n = hp_symtab__describe(k->syms, link, buf, cap);
	/* a syscall without arguments has one body for both ABIs: named as the 64-bit one, as
	 * its probes are (kernel:__x64_sys_getpid), not by the alias that sorts first */
	if (n > 0 && !strncmp(buf, "__ia32_sys_", 11)) {
		char x64[160];
		snprintf(x64, sizeof x64, "__x64_sys_%.*s", (int)strcspn(buf + 11, "+"), buf + 11);
		const struct hp_sym *s = hp_symtab__find(k->syms, x64),
				    *at = hp_symtab__lookup_addr(k->syms, link, &off);
		if (s && at && s->addr == at->addr)
			n = off ? snprintf(buf, cap, "%s+0x%llx", x64, (unsigned long long)off)
				: snprintf(buf, cap, "%s", x64);
	}
	return n;
}

/* x86-64 syscalls since 4.17 enter through wrappers that take struct pt_regs *. */
static const char *const syscall_prefixes[] = { "__x64_sys_", "__ia32_sys_", NULL };

const char *hp_kernel__syscall_name(const char *name)
{
	for (int i = 0; syscall_prefixes[i]; i++)
		if (!strncmp(name, syscall_prefixes[i], strlen(syscall_prefixes[i])))
			return name + strlen(syscall_prefixes[i]);
	return NULL;
}

int hp_kernel__is_syscall_wrapper(const char *name)
{
	return hp_kernel__syscall_name(name) != NULL;
}

/* ---- the layout, from BTF ---- */

#define PERCPU_SECTION ".data..percpu"

static void feature_off(struct hp_kernel *k, enum hp_kfeature f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void feature_off(struct hp_kernel *k, enum hp_kfeature f, const char *fmt, ...)
{
	if (k->off_why[f])
		return; /* the first reason is the one to fix first */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(k->why_buf[f], sizeof k->why_buf[f], fmt, ap);
	va_end(ap);
	k->off_why[f] = k->why_buf[f];
}

/* A member at path of type, checked against the structure's size: any BTF may come
 * from the guest. size: the member's exact size, or 0 for any. */
static int member(struct hp_kernel *k, const char *type, const char *path, uint32_t size, uint32_t max, uint32_t *off,
		  char *why, size_t cap)
{
	uint32_t tsize, msize;
	struct hp_err e;
	if (hp_btf__type_size(k->btf, type, &tsize, &e) || hp_btf__member(k->btf, type, path, off, &msize, &e)) {
		snprintf(why, cap, "%s", e.msg);
		return -ENOENT;
	}
	if (tsize > max || (uint64_t)*off + msize > tsize || (size && msize != size)) {
		snprintf(why, cap, "btf: %s.%s (offset %u, size %u) does not fit a %u-byte %s", type, path, *off, msize,
			 tsize, type);
		return -EINVAL;
	}
	return 0;
}

struct need {
	const char *type, *path;
	uint32_t size; /* exact, 0 = any */
	uint32_t *dst;
};

/* All of needs, or the feature off with the first that is missing. */
static int members(struct hp_kernel *k, enum hp_kfeature f, const struct need *needs, size_t n)
{
	char why[HP_ERR_MAX];
	for (size_t i = 0; i < n; i++) {
		uint32_t max = !strcmp(needs[i].type, "task_struct") ? HP_KERNEL_TASK_MAX : HP_KERNEL_STRUCT_MAX;
		if (member(k, needs[i].type, needs[i].path, needs[i].size, max, needs[i].dst, why, sizeof why)) {
			feature_off(k, f, "%s", why);
			return -ENOENT;
		}
	}
	return 0;
}

/* Where the current task pointer lives per CPU: a per-CPU variable current_task
 * (up to 6.1, and again from 6.15), or a member of the per-CPU struct pcpu_hot
 * (6.2 to 6.14). BTF's per-CPU data section names the variable; the symbol table
 * gives its address (BTF alone when the table lacks it, from __per_cpu_start). */
static int current_task(struct hp_kernel *k, char *why, size_t cap)
{
	static const struct {
		const char *var, *member, *layout;
	} layouts[] = {
		{ "current_task", NULL, "current_task" },
		{ "pcpu_hot", "current_task", "pcpu_hot.current_task" },
	};
	for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
		uint32_t voff = 0, vsize = 0, moff = 0, msize = 8;
		char tname[128] = "";
		int in_btf = hp_btf__var(k->btf, PERCPU_SECTION, layouts[i].var, &voff, &vsize, tname, sizeof tname,
					 NULL) == 0;
		const struct hp_sym *sym = hp_symtab__find(k->syms, layouts[i].var);
		if (!in_btf && !sym)
			continue;
		if (layouts[i].member) {
			struct hp_err e;
			if (hp_btf__member(k->btf, layouts[i].var, layouts[i].member, &moff, &msize, &e))
				continue;
			if (in_btf && (uint64_t)moff + msize > vsize) {
				snprintf(why, cap, "btf: %s.%s lies outside the %u-byte variable", layouts[i].var,
					 layouts[i].member, vsize);
				return -EINVAL;
			}
		} else if (in_btf && strcmp(tname, "task_struct *") != 0) {
			snprintf(why, cap, "btf: the per-CPU %s has type %s, not a task_struct pointer", layouts[i].var,
				 tname);
			return -EINVAL;
		}
		if (msize != 8) {
			snprintf(why, cap, "btf: %s is %u bytes, not a pointer", layouts[i].layout, msize);
			return -EINVAL;
		}
		const struct hp_sym *start = hp_symtab__find(k->syms, "__per_cpu_start");
		if (sym && in_btf && start && sym->addr - start->addr != voff) {
			snprintf(why, cap,
				 "the BTF does not belong to these symbols: per-CPU %s at +0x%x in BTF, "
				 "+0x%llx in the symbol table",
				 layouts[i].var, voff, (unsigned long long)(sym->addr - start->addr));
			return -EXDEV;
		}
		if (!sym && !start) {
			snprintf(why, cap, "the symbol table has neither %s nor __per_cpu_start", layouts[i].var);
			return -ENOENT;
		}
		/* zero-based per-CPU data (up to 6.14): a small offset that does not slide;
		 * from 6.15 an address in the image, which slides and wraps around gs base */
		k->current_task = (sym ? hp_kernel__runtime(k, sym) : hp_kernel__runtime(k, start) + voff) + moff;
		snprintf(k->current_layout, sizeof k->current_layout, "%s", layouts[i].layout);
		return 0;
	}
	snprintf(why, cap,
		 "no per-CPU current task: neither a current_task variable nor pcpu_hot.current_task "
		 "in the kernel's BTF or symbols");
	return -ENOENT;
}

/* The task state: __state (unsigned int, 5.14 on), state (long, before). */
static int task_state(struct hp_kernel *k, char *why, size_t cap)
{
	static const char *const names[] = { "__state", "state" };
	for (size_t i = 0; i < 2; i++) {
		uint32_t off;
		char w[HP_ERR_MAX];
		if (member(k, "task_struct", names[i], 0, HP_KERNEL_TASK_MAX, &off, w, sizeof w))
			continue;
		uint32_t size;
		hp_btf__member(k->btf, "task_struct", names[i], NULL, &size, NULL);
		if (size != 4 && size != 8) {
			snprintf(why, cap, "btf: task_struct.%s is %u bytes", names[i], size);
			return -EINVAL;
		}
		k->off.task_state = off;
		k->off.task_state_size = size;
		snprintf(k->state_layout, sizeof k->state_layout, "%s", names[i]);
		return 0;
	}
	snprintf(why, cap, "btf: task_struct has neither __state nor state");
	return -ENOENT;
}

/* What names a process's executable by its whole guest path (the dentries up to the
 * root, and the mounts crossed on the way) and finds its program headers in memory
 * (the auxiliary vector's AT_PHDR): none is needed, each missing piece only leaves
 * less to say (a file name, no build id from the guest). */
static void optional_layout(struct hp_kernel *k)
{
	struct hp_kernel_offsets *o = &k->off;
	char why[HP_ERR_MAX];
	const uint32_t max = HP_KERNEL_STRUCT_MAX;
	if (!member(k, "dentry", "d_parent", 8, max, &o->dentry_parent, why, sizeof why)) {
		o->exe_paths = 1;
		if (!member(k, "file", "f_path.mnt", 8, max, &o->file_mnt, why, sizeof why) &&
		    !member(k, "vfsmount", "mnt_root", 8, max, &o->vfsmount_root, why, sizeof why) &&
		    !member(k, "mount", "mnt", 0, max, &o->mount_mnt, why, sizeof why) &&
		    !member(k, "mount", "mnt_parent", 8, max, &o->mount_parent, why, sizeof why) &&
		    !member(k, "mount", "mnt_mountpoint", 8, max, &o->mount_mountpoint, why, sizeof why))
			o->exe_paths = 2;
		else
			hp_debug("process paths stop at their file system's root: %s", why);
	}
	uint32_t auxv_size = 0;
	if (!member(k, "mm_struct", "saved_auxv", 0, max, &o->mm_saved_auxv, why, sizeof why) &&
	    !hp_btf__member(k->btf, "mm_struct", "saved_auxv", &o->mm_saved_auxv, &auxv_size, NULL) &&
	    auxv_size >= 16 && auxv_size <= 1024 && auxv_size % 16 == 0)
		o->mm_saved_auxv_size = auxv_size;
	o->syscall_meta = !member(k, "syscall_metadata", "nb_args", 4, max, &o->meta_nb_args, why, sizeof why) &&
			  !member(k, "syscall_metadata", "types", 8, max, &o->meta_types, why, sizeof why) &&
			  !member(k, "syscall_metadata", "args", 8, max, &o->meta_args, why, sizeof why) &&
			  !hp_btf__type_size(k->btf, "syscall_metadata", &o->meta_size, NULL) && o->meta_size <= max;
}

/* Fills k->off and the features; fails only on a BTF that contradicts the symbols. */
static int derive_layout(struct hp_kernel *k, struct hp_err *err)
{
	struct hp_kernel_offsets *o = &k->off;
	char why[HP_ERR_MAX];
	int rc;
	if (!k->syms)
		feature_off(k, HP_KF_PROBES,
			    "no kernel symbol table: give --symbols, or let the agent read the "
			    "kernel's own (it needs the gdbstub)");
	if (!k->btf) {
		for (int f = HP_KF_TASK; f < HP_KF_COUNT; f++)
			feature_off(k, f,
				    "no BTF for this kernel (it has no .BTF section, and no --vmlinux was given)");
		return 0;
	}
	uint32_t tsize;
	if (!hp_btf__type_size(k->btf, "task_struct", &tsize, NULL) && tsize <= HP_KERNEL_TASK_MAX)
		o->task_size = tsize;
	const struct need task[] = {
		{ "task_struct", "pid", 4, &o->task_pid },
		{ "task_struct", "tgid", 4, &o->task_tgid },
		{ "task_struct", "comm", 16, &o->task_comm },
	};
	if (!k->syms)
		feature_off(k, HP_KF_TASK, "no kernel symbol table");
	else if (!members(k, HP_KF_TASK, task, sizeof task / sizeof task[0]) &&
		 (rc = current_task(k, why, sizeof why))) {
		if (rc == -EXDEV)
			return hp_err__set(err, EXDEV, "%s", why);
		feature_off(k, HP_KF_TASK, "%s", why);
	}
	const struct need regs[] = {
		{ "pt_regs", "di", 8, &o->regs_di }, { "pt_regs", "si", 8, &o->regs_si },
		{ "pt_regs", "dx", 8, &o->regs_dx }, { "pt_regs", "r10", 8, &o->regs_r10 },
		{ "pt_regs", "r8", 8, &o->regs_r8 }, { "pt_regs", "r9", 8, &o->regs_r9 },
		{ "pt_regs", "ax", 8, &o->regs_ax }, { "pt_regs", "ip", 8, &o->regs_ip },
		{ "pt_regs", "sp", 8, &o->regs_sp },
	};
	if (!members(k, HP_KF_SYSCALL_ARGS, regs, sizeof regs / sizeof regs[0]) &&
	    (hp_btf__type_size(k->btf, "pt_regs", &o->regs_size, NULL) || o->regs_size > 512)) {
		o->regs_size = 0;
		feature_off(k, HP_KF_SYSCALL_ARGS, "btf: struct pt_regs has no sane size");
	}
	const struct need ps[] = {
		{ "task_struct", "tasks", 16, &o->task_tasks },
		{ "task_struct", "mm", 8, &o->task_mm },
		{ "task_struct", "real_parent", 8, &o->task_real_parent },
		{ "task_struct", "flags", 4, &o->task_flags },
		{ "task_struct", "group_leader", 8, &o->task_group_leader },
		{ "task_struct", "exit_state", 4, &o->task_exit_state },
		{ "mm_struct", "pgd", 8, &o->mm_pgd },
		{ "mm_struct", "start_code", 8, &o->mm_start_code },
	};
	if (k->off_why[HP_KF_TASK])
		feature_off(k, HP_KF_PS, "%s", k->off_why[HP_KF_TASK]);
	else if (!members(k, HP_KF_PS, ps, sizeof ps / sizeof ps[0]) && task_state(k, why, sizeof why))
		feature_off(k, HP_KF_PS, "%s", why);
	else if (!k->init_task)
		feature_off(k, HP_KF_PS, "the symbol table has no init_task");
	const struct need exe[] = {
		{ "mm_struct", "exe_file", 8, &o->mm_exe_file },
		{ "file", "f_path.dentry", 8, &o->file_dentry },
		{ "dentry", "d_name.name", 8, &o->dentry_name },
	};
	const char *hooks[2];
	struct hp_err e;
	if (k->off_why[HP_KF_PS])
		feature_off(k, HP_KF_APPS, "%s", k->off_why[HP_KF_PS]);
	else if (!members(k, HP_KF_APPS, exe, sizeof exe / sizeof exe[0]) && hp_kernel__process_hooks(k, hooks, &e))
		feature_off(k, HP_KF_APPS, "%s", e.msg);
	if (!k->off_why[HP_KF_APPS])
		optional_layout(k);
	const struct need bl[] = {
		{ "kprobe_blacklist_entry", "list", 16, &o->bl_list },
		{ "kprobe_blacklist_entry", "start_addr", 8, &o->bl_start },
		{ "kprobe_blacklist_entry", "end_addr", 8, &o->bl_end },
	};
	for (size_t i = 0; i < sizeof bl / sizeof bl[0]; i++)
		if (member(k, bl[i].type, bl[i].path, bl[i].size, HP_KERNEL_STRUCT_MAX, bl[i].dst, why, sizeof why))
			o->bl_list = o->bl_start = o->bl_end = 0; /* the section bounds stay */
	return 0;
}

/* The handler of the divide-error exception, gate 0 of the IDT: asm_exc_divide_error
 * since 5.8, divide_error before. */
const char *const hp_kernel__kaslr_anchors[] = { "asm_exc_divide_error", "divide_error", NULL };

/* KASLR: gate 0 of the IDT points at the divide-error handler; compare with the table. */
static int find_slide(struct hp_kernel *k, struct hp_backend *b, struct hp_err *err)
{
	const struct hp_sym *de = NULL;
	for (int i = 0; !de && hp_kernel__kaslr_anchors[i]; i++)
		de = hp_symtab__find(k->syms, hp_kernel__kaslr_anchors[i]);
	const struct hp_sym *banner = hp_symtab__find(k->syms, HP_KERNEL_BANNER_SYM);
	if (!de || !banner)
		return hp_err__set(err, ENOENT,
				   "the symbol table lacks %s: not a symbol table of an x86-64 kernel "
				   "this agent knows",
				   de ? HP_KERNEL_BANNER_SYM
				      : "the divide-error handler "
					"(asm_exc_divide_error or divide_error)");
	unsigned char gate[16];
	int rc = hp_backend__read_virt(b, CEA_IDT, gate, sizeof gate, err);
	for (int tries = 0; rc && tries < 20; tries++) {
		/* seen rarely right after boot: let the guest run a moment and look again */
		uint64_t regs[HP_NREGS];
		if (!hp_backend__read_regs(b, regs, NULL))
			hp_debug("IDT unreadable at rip 0x%llx cr3 0x%llx; retrying",
				 (unsigned long long)regs[HP_REG_RIP], (unsigned long long)regs[HP_REG_CR3]);
		struct hp_bev ev;
		int got;
		if (hp_backend__resume(b, NULL) == 0) {
			usleep(50000);
			hp_backend__stop(b, &ev, &got, NULL);
		}
		rc = hp_backend__read_virt(b, CEA_IDT, gate, sizeof gate, err);
	}
	if (rc)
		return rc;
	uint64_t handler = (uint64_t)(gate[0] | gate[1] << 8) | (uint64_t)(gate[6] | gate[7] << 8) << 16 |
			   (uint64_t)(gate[8] | gate[9] << 8 | gate[10] << 16 | (uint32_t)gate[11] << 24) << 32;
	k->slide = (int64_t)(handler - de->addr);
	char text[sizeof k->banner];
	rc = hp_backend__read_virt(b, banner->addr + (uint64_t)k->slide, text, sizeof text - 1, err);
	if (rc)
		return hp_err__set(err, -rc, "cannot read linux_banner at the detected KASLR slide 0x%llx: %s",
				   (long long)k->slide, err ? err->msg : "");
	text[sizeof text - 1] = 0;
	if (strncmp(text, "Linux version ", 14) != 0)
		return hp_err__set(err, ESRCH,
				   "the symbol table does not match the running kernel "
				   "(no banner at linux_banner with slide 0x%llx)",
				   (long long)k->slide);
	char *nl = strchr(text, '\n');
	if (nl)
		*nl = 0;
	snprintf(k->banner, sizeof k->banner, "%s", text);
	sscanf(text, "Linux version %63s", k->release);
	hp_utf8__fix(k->release); /* guest bytes, shown in JSON */
	return 0;
}

static int add_forbidden(struct hp_kernel *k, uint64_t start, uint64_t end, size_t *cap)
{
	if (end <= start)
		return 0;
	if (k->nforbidden == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		struct hp_range *n = realloc(k->forbidden, nc * sizeof *n);
		if (!n)
			return -ENOMEM;
		k->forbidden = n;
		*cap = nc;
	}
	k->forbidden[k->nforbidden++] = (struct hp_range){ start, end };
	return 0;
}

static void add_section(struct hp_kernel *k, const char *start, const char *end, size_t *cap)
{
	uint64_t s = hp_kernel__addr(k, start), e = hp_kernel__addr(k, end);
	if (s && e)
		add_forbidden(k, s, e, cap);
}

/* The kernel's own list (kernel/kprobes.c: kprobe_blacklist), which already holds
 * NOKPROBE_SYMBOL functions and the arch areas; plus the entry, irqentry, noinstr and
 * kprobes sections by their bounds, in case the list is unreadable. */
static int load_forbidden(struct hp_kernel *k, struct hp_backend *b, struct hp_err *err)
{
	size_t cap = 0;
	add_section(k, "__entry_text_start", "__entry_text_end", &cap);
	add_section(k, "__irqentry_text_start", "__irqentry_text_end", &cap);
	add_section(k, "__noinstr_text_start", "__noinstr_text_end", &cap);
	add_section(k, "__kprobes_text_start", "__kprobes_text_end", &cap);
	add_section(k, "__softirqentry_text_start", "__softirqentry_text_end", &cap);
	uint64_t head = hp_kernel__addr(k, "kprobe_blacklist");
	if (!head || !k->off.bl_end)
		return 0;
	uint64_t pos;
	struct hp_cycle cyc = hp_cycle__start(head);
	int rc = hp_backend__read_u64(b, head, &pos, err);
	for (int n = 0; !rc && pos != head && n < MAX_BLACKLIST; n++) {
		uint64_t ent = pos - k->off.bl_list, s, e;
		if ((rc = hp_backend__read_u64(b, ent + k->off.bl_start, &s, err)) ||
		    (rc = hp_backend__read_u64(b, ent + k->off.bl_end, &e, err)))
			break;
		if (add_forbidden(k, s, e, &cap))
			return hp_err__set(err, ENOMEM, "out of memory");
		rc = hp_backend__read_u64(b, pos, &pos, err);
		if (!rc && pos != head && hp_cycle__seen(&cyc, pos))
			rc = hp_err__set(err, ELOOP,
					 "the list loops without coming back to its head (after %d entries)", n + 1);
	}
	if (rc)
		hp_warn("kprobe blacklist unreadable, using section bounds only: %s", err ? err->msg : "");
	return 0;
}

/* 4-level or 5-level page tables: the kernel's own flag where it has one (up to
 * 6.15), else where the direct map lies (below the 4-level kernel half: LA57). */
static int paging_levels(struct hp_kernel *k, struct hp_backend *b)
{
	uint64_t flag = hp_kernel__addr(k, "__pgtable_l5_enabled");
	uint8_t v[4];
	if (flag && !hp_backend__read_virt(b, flag, v, sizeof v, NULL))
		return v[0] | v[1] | v[2] | v[3] ? 5 : 4;
	return k->page_offset_base < 0xffff800000000000ull ? 5 : 4;
}

/* b NULL: a profile from files alone, at a slide the caller knows (nothing read). */
static int make(struct hp_symtab *syms, struct hp_btf *btf, struct hp_backend *b, int64_t slide, struct hp_kernel **out,
		struct hp_err *err)
{
	struct hp_kernel *k = calloc(1, sizeof *k);
	if (!k) {
		hp_symtab__free(syms);
		hp_btf__free(btf);
		return hp_err__set(err, ENOMEM, "out of memory");
	}
	k->syms = syms;
	k->btf = btf;
	k->slide = slide;
	int rc = 0;
	if (syms) {
		if (b && (rc = find_slide(k, b, err)))
			goto fail;
		k->text = (struct hp_range){ hp_kernel__addr(k, "_stext"), hp_kernel__addr(k, "_etext") };
		if (!k->text.start)
			k->text.start = hp_kernel__addr(k, "_text");
		k->inittext = (struct hp_range){ hp_kernel__addr(k, "_sinittext"), hp_kernel__addr(k, "_einittext") };
		k->init_task = hp_kernel__addr(k, "init_task");
		const struct hp_sym *fin = hp_symtab__find_clone(syms, "finish_task_switch");
		k->switch_out = hp_kernel__addr(k, "__switch_to");
		k->switch_in = fin ? hp_kernel__runtime(k, fin) : 0;
		uint64_t pob = hp_kernel__addr(k, "page_offset_base");
		if (b && pob && hp_backend__read_u64(b, pob, &k->page_offset_base, NULL))
			k->page_offset_base = 0;
		if (b && k->page_offset_base)
			k->paging_levels = paging_levels(k, b);
	}
	if ((rc = derive_layout(k, err)))
		goto fail;
	if (syms && b)
		load_forbidden(k, b, err);
	for (int f = 0; f < HP_KF_COUNT; f++)
		if (k->off_why[f])
			hp_info("kernel %s: %s off: %s", k->release[0] ? k->release : "?", hp_kernel__feature_name(f),
				k->off_why[f]);
	*out = k;
	return 0;
fail:
	hp_kernel__free(k);
	return rc;
}

int hp_kernel__new(struct hp_symtab *syms, struct hp_btf *btf, struct hp_backend *b, struct hp_kernel **out,
		   struct hp_err *err)
{
	return make(syms, btf, b, 0, out, err);
}

int hp_kernel__from_files(struct hp_symtab *syms, struct hp_btf *btf, int64_t slide, struct hp_kernel **out,
			  struct hp_err *err)
{
	return make(syms, btf, NULL, slide, out, err);
}

const char *hp_kernel__feature_name(enum hp_kfeature f)
{
	static const char *const names[HP_KF_COUNT] = { "kernel_probes", "task_identity", "syscall_args",
							"process_list", "app_probes" };
	return (unsigned)f < HP_KF_COUNT ? names[f] : "?";
}

const char *hp_kernel__feature(const struct hp_kernel *k, enum hp_kfeature f)
{
	if (!k)
		return "the kernel profile is being read again (the guest rebooted)";
	return (unsigned)f < HP_KF_COUNT ? k->off_why[f] : "unknown feature";
}

int hp_kernel__need(const struct hp_kernel *k, enum hp_kfeature f, const char *what, struct hp_err *err)
{
	const char *why = hp_kernel__feature(k, f);
	return why ? hp_err__set(err, ENOTSUP, "%s needs %s, which is off for this kernel: %s", what,
				 hp_kernel__feature_name(f), why)
		   : 0;
}

int hp_kernel__check_image(const struct hp_kernel *k, const char *path, struct hp_err *err)
{
	static const char elf_magic[4] = { 0x7f, 'E', 'L', 'F' };
	if (!k->banner[0])
		return 0; /* no running banner to compare with (no symbols) */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || st.st_size < 4) {
		int e = fd < 0 ? errno : EINVAL;
		if (fd >= 0)
			close(fd);
		return hp_err__set(err, e, "cannot read %s: %s", path, strerror(e));
	}
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return hp_err__set(err, errno, "cannot map %s: %s", path, strerror(errno));
	int rc = 0;
	/* a raw BTF blob carries no banner: the per-CPU cross-check is all there is */
	if (!memcmp(map, elf_magic, 4) && !memmem(map, (size_t)st.st_size, k->banner, strlen(k->banner))) {
		rc = hp_err__set(err, EXDEV,
				 "%s is the image of another kernel: it lacks the running kernel's "
				 "banner \"%.120s\"",
				 path, k->banner);
	}
	munmap(map, (size_t)st.st_size);
	return rc;
}

json_t *hp_kernel__json(const struct hp_kernel *k)
{
	json_t *features = json_object();
	for (int f = 0; f < HP_KF_COUNT; f++)
		json_object_set_new(features, hp_kernel__feature_name(f),
				    k->off_why[f] ? json_pack("{s:b, s:s}", "on", 0, "why", k->off_why[f])
						  : json_pack("{s:b}", "on", 1));
	return json_pack("{s:s, s:s, s:s, s:s, s:o}", "symbols", k->symbols_source, "btf", k->btf ? "yes" : "no",
			 "current_task", k->current_layout, "task_state", k->state_layout, "features", features);
}

int hp_kernel__has_task_offsets(const struct hp_kernel *k)
{
	/* NULL while a rebooted guest's kernel is being read again */
	return k && !k->off_why[HP_KF_TASK];
}

int hp_kernel__check_probe_addr(const struct hp_kernel *k, uint64_t addr, struct hp_err *err)
{
	if (!k->text.start || !k->text.end)
		return hp_err__set(err, ENOENT, "kernel text bounds unknown (no symbol table)");
	if (addr >= k->inittext.start && addr < k->inittext.end)
		return hp_err__set(err, EPERM, "0x%llx is in init text, which the kernel freed after boot",
				   (unsigned long long)addr);
	if (addr < k->text.start || addr >= k->text.end)
		return hp_err__set(err, EINVAL, "0x%llx is outside kernel text [0x%llx, 0x%llx)",
				   (unsigned long long)addr, (unsigned long long)k->text.start,
				   (unsigned long long)k->text.end);
	for (size_t i = 0; i < k->nforbidden; i++) {
		if (addr >= k->forbidden[i].start && addr < k->forbidden[i].end) {
			uint64_t off;
			const struct hp_sym *s = hp_kernel__lookup(k, addr, &off);
			return hp_err__set(
				err, EPERM,
				"0x%llx (%s+0x%llx) is on the kernel's kprobe blacklist "
				"(entry/NMI/noinstr code or NOKPROBE_SYMBOL): probing it could hang the guest",
				(unsigned long long)addr, s ? s->name : "?", (unsigned long long)off);
		}
	}
	return 0;
}

void hp_kernel__task_offsets(const struct hp_kernel *k, struct hp_plugin_task_offsets *o)
{
	memset(o, 0, sizeof *o);
	if (!k)
		return;
	if (hp_kernel__has_task_offsets(k)) {
		o->current_task = k->current_task;
		o->task_pid = k->off.task_pid;
		o->task_tgid = k->off.task_tgid;
		o->task_comm = k->off.task_comm;
		if (k->switch_out && k->switch_in) {
			o->switch_out = k->switch_out;
			o->switch_in = k->switch_in;
		}
	}
	if (!k->off_why[HP_KF_SYSCALL_ARGS]) {
		o->regs_di = k->off.regs_di;
		o->regs_si = k->off.regs_si;
		o->regs_dx = k->off.regs_dx;
		o->regs_r10 = k->off.regs_r10;
		o->regs_r8 = k->off.regs_r8;
		o->regs_r9 = k->off.regs_r9;
		o->regs_size = k->off.regs_size;
	}
}

int hp_kernel__process_hooks(const struct hp_kernel *k, const char *specs[2], struct hp_err *err)
{
	/* finalize_exec: the new image is mapped and named; do_exit: a task leaves */
	static const char *const hooks[2] = { "finalize_exec", "do_exit" };
	static const char *const as_specs[2] = { "kernel:finalize_exec", "kernel:do_exit" };
	for (int i = 0; i < 2; i++) {
		if (!k || !k->syms || !hp_symtab__find(k->syms, hooks[i]))
			return hp_err__set(err, ENOENT,
					   "application probes follow processes at the kernel's %s, "
					   "which this kernel's symbols lack",
					   hooks[i]);
		specs[i] = as_specs[i];
	}
	return 0;
}
