#include "guest/kernel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int hp_kernel__is_syscall_wrapper(const char *name)
{
	return !strncmp(name, "__x64_sys_", 10) || !strncmp(name, "__ia32_sys_", 11);
}

static int member(struct hp_kernel *k, const char *type, const char *path, uint32_t *off,
		  struct hp_err *err)
{
	uint32_t size;
	return hp_btf__member(k->btf, type, path, off, &size, err);
}

static int load_offsets(struct hp_kernel *k, struct hp_err *err)
{
	struct hp_kernel_offsets *o = &k->off;
	struct { const char *type, *path; uint32_t *dst; } need[] = {
		{ "task_struct", "tasks", &o->task_tasks },
		{ "task_struct", "pid", &o->task_pid },
		{ "task_struct", "tgid", &o->task_tgid },
		{ "task_struct", "comm", &o->task_comm },
		{ "task_struct", "mm", &o->task_mm },
		{ "task_struct", "__state", &o->task_state },
		{ "task_struct", "real_parent", &o->task_real_parent },
		{ "task_struct", "flags", &o->task_flags },
		{ "task_struct", "group_leader", &o->task_group_leader },
		{ "task_struct", "exit_state", &o->task_exit_state },
		{ "mm_struct", "pgd", &o->mm_pgd },
		{ "mm_struct", "start_code", &o->mm_start_code },
		{ "pt_regs", "di", &o->regs_di },
		{ "pt_regs", "si", &o->regs_si },
		{ "pt_regs", "dx", &o->regs_dx },
		{ "pt_regs", "r10", &o->regs_r10 },
		{ "pt_regs", "r8", &o->regs_r8 },
		{ "pt_regs", "r9", &o->regs_r9 },
		{ "pt_regs", "ax", &o->regs_ax },
		{ "pt_regs", "ip", &o->regs_ip },
		{ "pt_regs", "sp", &o->regs_sp },
		{ "kprobe_blacklist_entry", "list", &o->bl_list },
		{ "kprobe_blacklist_entry", "start_addr", &o->bl_start },
		{ "kprobe_blacklist_entry", "end_addr", &o->bl_end },
	};
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
		int rc = member(k, need[i].type, need[i].path, need[i].dst, err);
		if (rc)
			return rc;
	}
	return hp_btf__type_size(k->btf, "pt_regs", &o->regs_size, err);
}


/* KASLR: gate 0 of the IDT points at asm_exc_divide_error; compare with the table. */
static int find_slide(struct hp_kernel *k, struct hp_backend *b, struct hp_err *err)
{
	const struct hp_sym *de = hp_symtab__find(k->syms, "asm_exc_divide_error");
	if (!de)
		de = hp_symtab__find(k->syms, "divide_error");
	const struct hp_sym *banner = hp_symtab__find(k->syms, "linux_banner");
	if (!de || !banner)
		return hp_err__set(err, ENOENT, "symbol table lacks asm_exc_divide_error/linux_banner: "
				   "not a symbol table of this x86-64 kernel");
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
		return hp_err__set(err, ESRCH, "the symbol table does not match the running kernel "
				   "(no banner at linux_banner with slide 0x%llx)", (long long)k->slide);
	char *nl = strchr(text, '\n');
	if (nl)
		*nl = 0;
	snprintf(k->banner, sizeof k->banner, "%s", text);
	sscanf(text, "Linux version %63s", k->release);
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
	if (!head || !k->btf)
		return 0;
	uint64_t pos;
	int rc = hp_backend__read_u64(b, head, &pos, err);
	for (int n = 0; !rc && pos != head && n < MAX_BLACKLIST; n++) {
		uint64_t ent = pos - k->off.bl_list, s, e;
		if ((rc = hp_backend__read_u64(b, ent + k->off.bl_start, &s, err)) ||
		    (rc = hp_backend__read_u64(b, ent + k->off.bl_end, &e, err)))
			break;
		if (add_forbidden(k, s, e, &cap))
			return hp_err__set(err, ENOMEM, "out of memory");
		rc = hp_backend__read_u64(b, pos, &pos, err);
	}
	if (rc)
		hp_warn("kprobe blacklist unreadable, using section bounds only: %s", err ? err->msg : "");
	return 0;
}

int hp_kernel__new(struct hp_symtab *syms, struct hp_btf *btf, struct hp_backend *b,
		   struct hp_kernel **out, struct hp_err *err)
{
	struct hp_kernel *k = calloc(1, sizeof *k);
	if (!k) {
		hp_symtab__free(syms);
		hp_btf__free(btf);
		return hp_err__set(err, ENOMEM, "out of memory");
	}
	k->syms = syms;
	k->btf = btf;
	int rc = 0;
	if (syms) {
		rc = find_slide(k, b, err);
		if (rc)
			goto fail;
		const struct hp_sym *ct = hp_symtab__find(syms, "current_task");
		k->current_task = ct ? ct->addr : 0;
		k->text = (struct hp_range){ hp_kernel__addr(k, "_stext"), hp_kernel__addr(k, "_etext") };
		if (!k->text.start)
			k->text.start = hp_kernel__addr(k, "_text");
		k->inittext = (struct hp_range){ hp_kernel__addr(k, "_sinittext"), hp_kernel__addr(k, "_einittext") };
		k->init_task = hp_kernel__addr(k, "init_task");
		const struct hp_sym *fin = hp_symtab__find_clone(syms, "finish_task_switch");
		k->switch_out = hp_kernel__addr(k, "__switch_to");
		k->switch_in = fin ? hp_kernel__runtime(k, fin) : 0;
		uint64_t pob = hp_kernel__addr(k, "page_offset_base");
		if (pob && hp_backend__read_u64(b, pob, &k->page_offset_base, NULL))
			k->page_offset_base = 0;
	}
	if (btf) {
		rc = load_offsets(k, err);
		if (rc)
			goto fail;
	}
	if (syms)
		load_forbidden(k, b, err);
	*out = k;
	return 0;
fail:
	hp_kernel__free(k);
	return rc;
}

int hp_kernel__has_task_offsets(const struct hp_kernel *k)
{
	/* NULL while a rebooted guest's kernel is being read again */
	return k && k->btf && k->current_task && k->off.task_comm;
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
			return hp_err__set(err, EPERM, "0x%llx (%s+0x%llx) is on the kernel's kprobe blacklist "
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
	if (k->btf && k->off.regs_size) {
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
			return hp_err__set(err, ENOENT, "application probes follow processes at the kernel's %s, "
					   "which this kernel's symbols lack", hooks[i]);
		specs[i] = as_specs[i];
	}
	return 0;
}
