/* Fuzzes what consumes a guest kernel's types: a BTF whose layout the input chooses
 * (struct sizes, member offsets and types, the per-CPU current task) goes through the
 * profile's derivation (guest/kernel.c), and the offsets it accepts are then used as
 * a hit uses them: the current task, a task's fields, the task list, the program's
 * path and build id, over guest memory that the input fills too. A BTF recovered from
 * guest memory is the guest's to write, so none of these may read outside what they
 * allocated, whatever it says; the invariants the agent and the plugin rely on (every
 * member inside its struct, pt_regs inside its 512-byte read) are checked after each.
 *
 * The BTF is built with libbpf, so it is well-formed and every input reaches the
 * profile (malformed BTF is fuzz_btf's); each layout choice is either the realistic
 * one (a kernel 6.1's) or taken from the input. */
#include <bpf/btf.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "fake_backend.h"
#include "guest/kernel.h"
#include "guest/vmi.h"
#include "hprobe/btf.h"
#include "hprobe/plugin_proto.h"
#include "hprobe/symtab.h"

#include "fuzz_assert.h"
#include "fuzz_libbpf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct in {
	const uint8_t *p;
	size_t n;
};

static uint32_t take(struct in *in, unsigned bytes)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint32_t)(in->n ? (in->n--, *in->p++) : 0) << (8 * i);
	return v;
}

/* The realistic value, or one from the input (a byte says which: the realistic one
 * three times in four). */
static uint32_t pick(struct in *in, uint32_t usual, unsigned bytes)
{
	return take(in, 1) < 192 ? usual : take(in, bytes);
}

enum kind { U32, I32, U64, L64, COMM, AUXV, LIST, PATH, QSTR, MNT, NKINDS };

struct field {
	const char *name;
	enum kind kind;
	uint32_t off; /* bytes */
};

struct type {
	const char *name;
	uint32_t size;
	struct field f[24];
};

/* A 6.1 kernel's shape, trimmed to what the profile reads; the types others refer to
 * first (list_head, path, qstr, vfsmount: kinds LIST, PATH, QSTR, MNT). */
static const struct type shapes[] = {
	{ "list_head", 16, { { "next", U64, 0 }, { "prev", U64, 8 } } },
	{ "path", 16, { { "mnt", U64, 0 }, { "dentry", U64, 8 } } },
	{ "qstr", 16, { { "hash_len", U64, 0 }, { "name", U64, 8 } } },
	{ "vfsmount", 32, { { "mnt_root", U64, 0 } } },
	{ "task_struct",
	  4096,
	  { { "__state", U32, 24 },
	    { "flags", U32, 44 },
	    { "tasks", LIST, 2192 },
	    { "mm", U64, 2272 },
	    { "exit_state", I32, 2296 },
	    { "pid", I32, 2416 },
	    { "tgid", I32, 2420 },
	    { "real_parent", U64, 2432 },
	    { "group_leader", U64, 2464 },
	    { "comm", COMM, 2976 } } },
	{ "mm_struct",
	  1024,
	  { { "pgd", U64, 72 }, { "start_code", U64, 256 }, { "saved_auxv", AUXV, 320 }, { "exe_file", U64, 904 } } },
	{ "file", 256, { { "f_path", PATH, 16 } } },
	{ "dentry", 192, { { "d_parent", U64, 24 }, { "d_name", QSTR, 32 } } },
	{ "mount", 320, { { "mnt_parent", U64, 16 }, { "mnt_mountpoint", U64, 24 }, { "mnt", MNT, 32 } } },
	{ "pt_regs", 168, { { "r15", U64, 0 },  { "r14", U64, 8 },  { "r13", U64, 16 },    { "r12", U64, 24 },
			    { "bp", U64, 32 },  { "bx", U64, 40 },  { "r11", U64, 48 },    { "r10", U64, 56 },
			    { "r9", U64, 64 },  { "r8", U64, 72 },  { "ax", U64, 80 },     { "cx", U64, 88 },
			    { "dx", U64, 96 },  { "si", U64, 104 }, { "di", U64, 112 },    { "orig_ax", U64, 120 },
			    { "ip", U64, 128 }, { "cs", U64, 136 }, { "flags", U64, 144 }, { "sp", U64, 152 },
			    { "ss", U64, 160 } } },
	{ "syscall_metadata", 64, { { "nb_args", I32, 8 }, { "types", U64, 16 }, { "args", U64, 24 } } },
	{ "kprobe_blacklist_entry", 32, { { "list", LIST, 0 }, { "start_addr", U64, 16 }, { "end_addr", U64, 24 } } },
};

#define NSHAPES (sizeof shapes / sizeof shapes[0])
#define TASK_SHAPE 4

/* The BTF as the input shapes it; NULL if libbpf refuses it. */
static struct hp_btf *make_btf(struct in *in, uint32_t pcpu_off)
{
	struct btf *b = btf__new_empty();
	if (!b)
		return NULL;
	int ty[NKINDS];
	ty[U32] = btf__add_int(b, "unsigned int", 4, 0);
	ty[I32] = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	ty[U64] = btf__add_int(b, "long unsigned int", 8, 0);
	ty[L64] = btf__add_int(b, "long int", 8, BTF_INT_SIGNED);
	int chr = btf__add_int(b, "char", 1, BTF_INT_CHAR);
	/* arrays before the structs: a struct's fields must follow it at once */
	ty[COMM] = btf__add_array(b, ty[U32], chr, pick(in, 16, 2));
	ty[AUXV] = btf__add_array(b, ty[U32], ty[U64], pick(in, 46, 1));
	int ids[NSHAPES];
	for (size_t i = 0; i < NSHAPES; i++) {
		const struct type *s = &shapes[i];
		ids[i] = btf__add_struct(b, s->name, pick(in, s->size, 3));
		if (i < 4)
			ty[LIST + i] = ids[i];
		for (const struct field *f = s->f; f->name; f++) {
			uint32_t how = take(in, 1);
			if (how >= 248)
				continue; /* the member missing */
			enum kind k = how < 224 ? f->kind : (enum kind)(how % NKINDS);
			if (k >= LIST && (size_t)(k - LIST) >= i)
				k = U64; /* a struct not made yet (or itself) */
			btf__add_field(b, f->name, ty[k], pick(in, f->off, 3) * 8, 0);
		}
	}
	uint32_t how = take(in, 1);
	int task_ptr = btf__add_ptr(b, ids[TASK_SHAPE]);
	int var = -1;
	if (how % 4 == 1) {
		int hot = btf__add_struct(b, "pcpu_hot", pick(in, 64, 2));
		btf__add_field(b, "current_task", how & 4 ? ty[U32] : task_ptr, pick(in, 0, 2) * 8, 0);
		var = btf__add_var(b, "pcpu_hot", BTF_VAR_GLOBAL_ALLOCATED, hot);
	} else if (how % 4 != 0) {
		var = btf__add_var(b, "current_task", BTF_VAR_GLOBAL_ALLOCATED, how & 4 ? ty[I32] : task_ptr);
	}
	if (var > 0 && btf__add_datasec(b, ".data..percpu", 0x40000) > 0)
		btf__add_datasec_var_info(b, var, pick(in, pcpu_off, 3), pick(in, 8, 2));
	uint32_t len;
	const void *raw = btf__raw_data(b, &len);
	struct hp_btf *h = NULL;
	if (!raw || hp_btf__load_raw(raw, len, &h, NULL) < 0)
		h = NULL;
	btf__free(b);
	return h;
}

/* Where the guest's pieces lie (link = runtime: no KASLR slide). */
#define IDT 0xfffffe0000000000ull
#define DIVIDE_ERROR 0xffffffff81a00b40ull
#define BANNER 0xffffffff82000100ull
#define INIT_TASK 0xffffffff82c00000ull
#define POB_VAR 0xffffffff82d00000ull
#define BL_HEAD 0xffffffff82d00100ull
#define GS 0xffffc90000000000ull /* apart from the direct map, whatever the per-CPU offset */
#define DIRECT 0xffff888000000000ull
#define TASK (DIRECT + 0x1000000)
#define MM (DIRECT + 0x2000000)
#define FILE_ (DIRECT + 0x3000000)
#define DENTRY (DIRECT + 0x4000000)
#define NAME (DIRECT + 0x5000000)
#define MOUNT (DIRECT + 0x6000000)
#define BL (DIRECT + 0x7000000)
#define PERCPU_IMAGE 0xffffffff83e0c000ull /* 6.15+: per-CPU data at an image address */

static struct hp_symtab *make_syms(unsigned layout, uint32_t pcpu_off)
{
	char text[2048];
	int n = snprintf(text, sizeof text,
			 "ffffffff81000000 T _stext\nffffffff81e00000 T _etext\n%016llx T asm_exc_divide_error\n"
			 "%016llx D linux_banner\n%016llx D init_task\n%016llx D page_offset_base\n"
			 "%016llx D kprobe_blacklist\nffffffff81100000 T finalize_exec\nffffffff81100400 T do_exit\n"
			 "ffffffff81100800 T __x64_sys_getpid\n",
			 DIVIDE_ERROR, BANNER, INIT_TASK, POB_VAR, BL_HEAD);
	uint64_t base = layout == 2 ? PERCPU_IMAGE : 0;
	n += snprintf(text + n, sizeof text - (size_t)n, "%016llx %c __per_cpu_start\n", (unsigned long long)base,
		      base ? 'D' : 'A');
	if (layout < 3)
		snprintf(text + n, sizeof text - (size_t)n, "%016llx %c %s\n", (unsigned long long)(base + pcpu_off),
			 base ? 'D' : 'A', layout == 1 ? "pcpu_hot" : "current_task");
	struct hp_symtab *s = NULL;
	return hp_symtab__parse_text(text, strlen(text), &s, NULL, NULL) ? NULL : s;
}

/* Maps len bytes at va filled from the input's memory bytes (repeated), or zeros. */
static uint8_t *region(struct fake *f, uint64_t va, size_t len, const struct in *mem)
{
	uint8_t *p = fake_map(f, va, len);
	ASSERT(p);
	for (size_t i = 0; mem->n && i < len; i += mem->n)
		memcpy(p + i, mem->p, len - i < mem->n ? len - i : mem->n);
	return p;
}

static void put64(uint8_t *region, size_t size, uint64_t off, uint64_t v)
{
	if (off + 8 <= size)
		memcpy(region + off, &v, 8);
}

/* The members the profile accepted lie inside their structs: what the agent's reads
 * and the plugin's (which trusts the offsets it is sent) rely on. */
static void check_layout(const struct hp_kernel *k)
{
	const struct hp_kernel_offsets *o = &k->off;
	uint32_t ts = o->task_size ? o->task_size : HP_KERNEL_TASK_MAX;
	ASSERT(ts <= HP_KERNEL_TASK_MAX);
	if (!hp_kernel__feature(k, HP_KF_TASK))
		ASSERT((uint64_t)o->task_pid + 4 <= ts && (uint64_t)o->task_tgid + 4 <= ts &&
		       (uint64_t)o->task_comm + HP_COMM_LEN <= ts);
	if (!hp_kernel__feature(k, HP_KF_PS)) {
		ASSERT(o->task_state_size == 4 || o->task_state_size == 8);
		const uint64_t ends[] = { (uint64_t)o->task_tasks + 16,
					  (uint64_t)o->task_mm + 8,
					  (uint64_t)o->task_real_parent + 8,
					  (uint64_t)o->task_flags + 4,
					  (uint64_t)o->task_group_leader + 8,
					  (uint64_t)o->task_exit_state + 4,
					  (uint64_t)o->task_state + o->task_state_size };
		for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
			ASSERT(ends[i] <= ts);
		ASSERT((uint64_t)o->mm_pgd + 8 <= HP_KERNEL_STRUCT_MAX &&
		       (uint64_t)o->mm_start_code + 8 <= HP_KERNEL_STRUCT_MAX);
	}
	struct hp_plugin_task_offsets po;
	hp_kernel__task_offsets(k, &po);
	uint32_t lo, len;
	if (hp_ptask_known(&po))
		ASSERT(hp_ptask_span(&po, &lo, &len) == 0 && len <= HP_PTASK_MAX);
	if (po.regs_size) {
		const uint32_t r[] = { po.regs_di, po.regs_si, po.regs_dx, po.regs_r10, po.regs_r8, po.regs_r9 };
		ASSERT(po.regs_size <= 512);
		for (size_t i = 0; i < 6; i++)
			ASSERT((uint64_t)r[i] + 8 <= po.regs_size);
	}
	if (o->mm_saved_auxv_size)
		ASSERT(o->mm_saved_auxv_size <= 1024 && o->mm_saved_auxv_size % 16 == 0);
}

/* Guest memory over the profile's offsets: the structures filled from the input, and
 * the pointers between them set where bits of links say (a task list that loops back
 * to init_task, a program's file and dentries, the kprobe blacklist's end). */
static struct fake *make_guest(const struct hp_kernel *k, uint32_t links, const struct in *mem)
{
	const struct hp_kernel_offsets *o = &k->off;
	struct fake *f = fake_new();
	ASSERT(f);
	uint8_t *gate = fake_map(f, IDT, 16);
	gate[0] = DIVIDE_ERROR & 0xff, gate[1] = DIVIDE_ERROR >> 8 & 0xff;
	gate[6] = DIVIDE_ERROR >> 16 & 0xff, gate[7] = DIVIDE_ERROR >> 24 & 0xff;
	memcpy(gate + 8, (uint32_t[]){ (uint32_t)(DIVIDE_ERROR >> 32) }, 4);
	memcpy(fake_map(f, BANNER, 256), "Linux version 6.1.0-fuzz (gcc) #1 SMP\n", 38);
	put64(fake_map(f, POB_VAR, 8), 8, 0, DIRECT);
	size_t ts = o->task_size ? o->task_size : 4096, ss = HP_KERNEL_STRUCT_MAX;
	uint8_t *task = region(f, TASK, ts, mem), *init = region(f, INIT_TASK, ts, mem);
	uint8_t *mm = region(f, MM, ss, mem), *file = region(f, FILE_, ss, mem), *dentry = region(f, DENTRY, ss, mem);
	uint8_t *mount = region(f, MOUNT, ss, mem), *bl = region(f, BL, ss, mem);
	region(f, NAME, 300, mem);
	put64(fake_map(f, GS + k->current_task, 8), 8, 0, links & 1 ? TASK : mem->n ? mem->p[0] : 0);
	if (links & 2) {
		put64(task, ts, o->task_tasks, INIT_TASK + o->task_tasks);
		put64(init, ts, o->task_tasks, TASK + o->task_tasks);
		put64(task, ts, o->task_real_parent, INIT_TASK);
		put64(task, ts, o->task_group_leader, TASK);
	}
	if (links & 4) {
		put64(task, ts, o->task_mm, MM);
		put64(mm, ss, o->mm_exe_file, FILE_);
		put64(mm, ss, o->mm_pgd, MM); /* page tables of garbage, read through the direct map */
		put64(file, ss, o->file_dentry, DENTRY);
		put64(dentry, ss, o->dentry_name, NAME);
		/* the program's dentry, then the root's at +4096 (its own parent), or a loop */
		put64(dentry, ss, o->dentry_parent, DENTRY + 4096);
		put64(dentry + 4096, ss - 4096, o->dentry_parent, links & 8 ? DENTRY + 4096 : DENTRY);
		put64(file, ss, o->file_mnt, MOUNT + o->mount_mnt);
		put64(mount, ss, o->mount_parent, links & 16 ? MOUNT : MOUNT + 64);
		put64(mount, ss, o->mount_mountpoint, DENTRY);
	}
	put64(fake_map(f, BL_HEAD, 8), 8, 0, links & 32 ? BL + o->bl_list : BL_HEAD);
	put64(bl, ss, o->bl_list, links & 64 ? BL_HEAD : BL + o->bl_list);
	return f;
}

/* What a hit and the VM's views do with the offsets. */
static void use(const struct hp_kernel *k, struct fake *f)
{
	uint64_t regs[HP_NREGS] = { 0 };
	regs[HP_REG_RIP] = 0xffffffff81100800ull;
	regs[HP_REG_GS_BASE] = GS;
	struct hp_task t;
	if (!hp_vmi__current(k, &f->b, regs, &t, NULL))
		ASSERT(t.comm[HP_COMM_LEN] == 0);
	if (hp_vmi__read_task(k, &f->b, TASK, &t, NULL))
		return;
	struct hp_task *all = NULL;
	int n = hp_vmi__tasks(k, &f->b, &all, NULL);
	ASSERT(n < 0 || (n == 0 || all));
	free(all);
	char path[256];
	if (!hp_vmi__exe_path(k, &f->b, &t, path, sizeof path, NULL))
		ASSERT(path[0] == '/' && strlen(path) < sizeof path);
	char id[41];
	hp_vmi__exe_build_id(k, &f->b, &t, id);
	ASSERT(strlen(id) == 0 || strlen(id) == 40);
	uint8_t buf[64];
	hp_vmi__read_user(k, &f->b, &t, 0x400000, buf, sizeof buf, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_libbpf();
	hp_log_set_level(HP_LOG_ERROR); /* a feature off is logged at info: not news here */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	unsigned layout = take(&in, 1) % 4;
	uint32_t pcpu_off = take(&in, 2) & ~7u;
	uint32_t links = take(&in, 1);
	const struct in types = in;
	/* the profile from the files alone lays out the guest's memory (the rest of the
	 * input); the same BTF and symbols then make the profile as an attach does, on
	 * that memory (the slide, the banner, the kprobe blacklist's walk) */
	struct hp_btf *btf = make_btf(&in, pcpu_off);
	struct hp_kernel *k0 = NULL, *k = NULL;
	int rc = hp_kernel__from_files(make_syms(layout, pcpu_off), btf, 0, &k0, NULL);
	if (rc) {
		ASSERT(!k0);
		return 0;
	}
	struct fake *f = make_guest(k0, links, &in);
	in = types;
	rc = hp_kernel__new(make_syms(layout, pcpu_off), make_btf(&in, pcpu_off), &f->b, &k, NULL);
	ASSERT(rc == 0 && k);
	ASSERT(!memcmp(&k->off, &k0->off, sizeof k->off) && k->current_task == k0->current_task);
	hp_kernel__free(k0);
	check_layout(k);
	json_t *j = hp_kernel__json(k);
	char *s = json_dumps(j, 0);
	ASSERT(s);
	free(s);
	json_decref(j);
	use(k, f);
	fake_free(f);
	hp_kernel__free(k);
	return 0;
}
