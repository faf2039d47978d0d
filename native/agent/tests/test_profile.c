/* The guest-kernel profile (guest/kernel.c) on BTF and symbol tables made to the shape of
 * each layout Linux has had since 5.4, and on hostile ones: the right layout is found
 * and recorded, offsets that do not fit their structure switch the feature off with a
 * reason, a BTF that contradicts the symbols is refused. Real kernels are covered by the
 * integration suite on the lab's kernel matrix. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "fake_backend.h"
#include "guest/kernel.h"
#include "hp_test.h"
#include "hprobe/plugin_proto.h"

#define IDT 0xfffffe0000000000ull
#define DIVIDE_ERROR 0xffffffff81a00b40ull /* link-time */
#define BANNER 0xffffffff82000100ull
#define SLIDE 0x1c000000ull

enum shape {
	PERCPU_VAR,   /* 6.1 and 6.15+: a per-CPU current_task */
	PCPU_HOT,     /* 6.2 .. 6.14: pcpu_hot.current_task */
	NO_DATASEC,   /* 5.10: BTF without per-CPU variables, the symbol table has them */
	PID_OUTSIDE,  /* hostile: pid past the end of task_struct */
	COMM_SHORT,   /* hostile: an 8-byte comm */
	HOT_OUTSIDE,  /* hostile: pcpu_hot.current_task outside the variable */
	VAR_NOT_TASK, /* hostile: the per-CPU current_task is an int */
};

struct kopts {
	enum shape shape;
	int long_state;   /* "state" (long) instead of "__state" (unsigned int) */
	uint32_t var_off; /* the per-CPU variable's place in .data..percpu */
};

/* A vmlinux-like BTF with what the profile reads, to the given shape. */
static struct hp_btf *make_btf(const struct kopts *o)
{
	struct btf *b = btf__new_empty();
	REQUIRE(b);
	int u32 = btf__add_int(b, "unsigned int", 4, 0);
	int i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	int u64 = btf__add_int(b, "long unsigned int", 8, 0);
	int l64 = btf__add_int(b, "long int", 8, BTF_INT_SIGNED);
	int chr = btf__add_int(b, "char", 1, BTF_INT_CHAR);
	int comm = btf__add_array(b, u32, chr, o->shape == COMM_SHORT ? 8 : 16);
	int list = btf__add_struct(b, "list_head", 16);
	REQUIRE(!btf__add_field(b, "next", u64, 0, 0) && !btf__add_field(b, "prev", u64, 64, 0));
	int path = btf__add_struct(b, "path", 16);
	REQUIRE(!btf__add_field(b, "mnt", u64, 0, 0) && !btf__add_field(b, "dentry", u64, 64, 0));
	int qstr = btf__add_struct(b, "qstr", 16);
	REQUIRE(!btf__add_field(b, "hash_len", u64, 0, 0) && !btf__add_field(b, "name", u64, 64, 0));
	REQUIRE(btf__add_struct(b, "file", 256) > 0 && !btf__add_field(b, "f_path", path, 16 * 8, 0));
	REQUIRE(btf__add_struct(b, "dentry", 192) > 0 && !btf__add_field(b, "d_name", qstr, 32 * 8, 0));
	int task = btf__add_struct(b, "task_struct", 4096);
	REQUIRE(!btf__add_field(b, o->long_state ? "state" : "__state", o->long_state ? l64 : u32, 24 * 8, 0));
	REQUIRE(!btf__add_field(b, "flags", u32, 44 * 8, 0));
	REQUIRE(!btf__add_field(b, "tasks", list, 2192 * 8, 0));
	REQUIRE(!btf__add_field(b, "mm", u64, 2272 * 8, 0));
	REQUIRE(!btf__add_field(b, "exit_state", i32, 2296 * 8, 0));
	REQUIRE(!btf__add_field(b, "pid", i32, (o->shape == PID_OUTSIDE ? 4094 : 2416) * 8, 0));
	REQUIRE(!btf__add_field(b, "tgid", i32, 2420 * 8, 0));
	REQUIRE(!btf__add_field(b, "real_parent", u64, 2432 * 8, 0));
	REQUIRE(!btf__add_field(b, "group_leader", u64, 2464 * 8, 0));
	REQUIRE(!btf__add_field(b, "comm", comm, 2976 * 8, 0));
	int task_ptr = btf__add_ptr(b, task);
	int mm = btf__add_struct(b, "mm_struct", 1024);
	REQUIRE(!btf__add_field(b, "pgd", u64, 72 * 8, 0) && !btf__add_field(b, "start_code", u64, 256 * 8, 0) &&
		!btf__add_field(b, "exe_file", u64, 904 * 8, 0));
	int regs = btf__add_struct(b, "pt_regs", 168);
	static const char *const rn[] = { "r15", "r14", "r13", "r12", "bp",      "bx", "r11", "r10",   "r9", "r8", "ax",
					  "cx",  "dx",  "si",  "di",  "orig_ax", "ip", "cs",  "flags", "sp", "ss" };
	for (int i = 0; i < 21; i++)
		REQUIRE(!btf__add_field(b, rn[i], u64, i * 64, 0));
	int bl = btf__add_struct(b, "kprobe_blacklist_entry", 32);
	REQUIRE(!btf__add_field(b, "list", list, 0, 0) && !btf__add_field(b, "start_addr", u64, 16 * 8, 0) &&
		!btf__add_field(b, "end_addr", u64, 24 * 8, 0));
	(void)mm;
	(void)regs;
	(void)bl;
	int var = -1;
	uint32_t var_size = 8;
	if (o->shape == PCPU_HOT || o->shape == HOT_OUTSIDE) {
		int hot = btf__add_struct(b, "pcpu_hot", 64);
		REQUIRE(!btf__add_field(b, "current_task", task_ptr, 0, 0));
		REQUIRE(!btf__add_field(b, "preempt_count", i32, 8 * 8, 0));
		var = btf__add_var(b, "pcpu_hot", BTF_VAR_GLOBAL_ALLOCATED, hot);
		var_size = o->shape == HOT_OUTSIDE ? 4 : 64;
	} else if (o->shape != NO_DATASEC) {
		var = btf__add_var(b, "current_task", BTF_VAR_GLOBAL_ALLOCATED,
				   o->shape == VAR_NOT_TASK ? i32 : task_ptr);
	}
	if (var > 0) {
		REQUIRE(btf__add_datasec(b, ".data..percpu", 0x40000) > 0);
		REQUIRE(!btf__add_datasec_var_info(b, var, o->var_off, var_size));
	}
	uint32_t len;
	const void *raw = btf__raw_data(b, &len);
	struct hp_btf *h;
	struct hp_err err;
	REQUIRE(raw && hp_btf__load_raw(raw, len, &h, &err) == 0);
	btf__free(b);
	return h;
}

/* A kallsyms text with the symbols the profile and the slide need, plus extra lines. */
static struct hp_symtab *make_syms(const char *extra)
{
	char text[4096];
	snprintf(text, sizeof text,
		 "ffffffff81000000 T _stext\nffffffff81e00000 T _etext\n%016llx T asm_exc_divide_error\n"
		 "%016llx D linux_banner\nffffffff82c00000 D init_task\nffffffff81100000 T finalize_exec\n"
		 "ffffffff81100400 T do_exit\nffffffff81100800 T __x64_sys_getpid\n%s",
		 (unsigned long long)DIVIDE_ERROR, (unsigned long long)BANNER, extra);
	struct hp_symtab *s;
	struct hp_err err;
	REQUIRE(hp_symtab__parse_text(text, strlen(text), &s, NULL, &err) == 0);
	return s;
}

/* Guest memory where the slide can be found: IDT gate 0 and the banner. */
static struct fake *make_guest(void)
{
	struct fake *f = fake_new();
	uint8_t *gate = fake_map(f, IDT, 16);
	uint64_t h = DIVIDE_ERROR + SLIDE;
	gate[0] = h & 0xff, gate[1] = h >> 8 & 0xff, gate[6] = h >> 16 & 0xff, gate[7] = h >> 24 & 0xff;
	memcpy(gate + 8, (uint32_t[]){ (uint32_t)(h >> 32) }, 4);
	memcpy(fake_map(f, BANNER + SLIDE, 256), "Linux version 6.99.0-test (gcc) #1 SMP\n", 40);
	return f;
}

static struct hp_kernel *profile(const struct kopts *o, const char *extra_syms, int *rc, struct hp_err *err)
{
	struct fake *f = make_guest();
	struct hp_kernel *k = NULL;
	*rc = hp_kernel__new(make_syms(extra_syms), make_btf(o), &f->b, &k, err);
	fake_free(f);
	return k;
}

static void check_on(const struct hp_kernel *k, enum hp_kfeature f)
{
	const char *why = hp_kernel__feature(k, f);
	if (why)
		fprintf(stderr, "%s off: %s\n", hp_kernel__feature_name(f), why);
	CHECK(why == NULL);
}

static void check_off(const struct hp_kernel *k, enum hp_kfeature f, const char *says)
{
	const char *why = hp_kernel__feature(k, f);
	CHECK(why != NULL);
	if (why && !strstr(why, says)) {
		fprintf(stderr, "%s off for another reason: %s (expected: %s)\n", hp_kernel__feature_name(f), why,
			says);
		CHECK(0);
	}
}

int main(void)
{
	struct hp_err err;
	int rc;
	struct hp_kernel *k;
	struct hp_plugin_task_offsets po;

	/* 6.1: per-CPU variable current_task, zero-based: an offset that does not slide */
	k = profile(&(struct kopts){ PERCPU_VAR, 0, 0x1fb80 },
		    "0000000000000000 A __per_cpu_start\n"
		    "000000000001fb80 A current_task\n",
		    &rc, &err);
	REQUIRE(rc == 0);
	CHECK_EQ_U64(k->slide, SLIDE);
	CHECK_STR(k->current_layout, "current_task");
	CHECK_EQ_U64(k->current_task, 0x1fb80);
	CHECK_STR(k->state_layout, "__state");
	CHECK_EQ_INT(k->off.task_state_size, 4);
	CHECK_EQ_INT(k->off.task_pid, 2416);
	for (int f = 0; f < HP_KF_COUNT; f++)
		check_on(k, f);
	hp_kernel__task_offsets(k, &po);
	CHECK_EQ_U64(po.current_task, 0x1fb80);
	CHECK_EQ_INT(po.regs_di, 14 * 8);
	hp_kernel__free(k);

	/* 6.2-6.14: pcpu_hot.current_task */
	k = profile(&(struct kopts){ PCPU_HOT, 0, 0x351c0 },
		    "0000000000000000 A __per_cpu_start\n"
		    "00000000000351c0 A pcpu_hot\n",
		    &rc, &err);
	REQUIRE(rc == 0);
	CHECK_STR(k->current_layout, "pcpu_hot.current_task");
	CHECK_EQ_U64(k->current_task, 0x351c0);
	check_on(k, HP_KF_TASK);
	hp_kernel__free(k);

	/* 5.10: no per-CPU variables in BTF, the symbol table has current_task; state is a long */
	k = profile(&(struct kopts){ NO_DATASEC, 1, 0 },
		    "0000000000000000 A __per_cpu_start\n"
		    "000000000001fbc0 A current_task\n",
		    &rc, &err);
	REQUIRE(rc == 0);
	CHECK_STR(k->current_layout, "current_task");
	CHECK_EQ_U64(k->current_task, 0x1fbc0);
	CHECK_STR(k->state_layout, "state");
	CHECK_EQ_INT(k->off.task_state_size, 8);
	check_on(k, HP_KF_PS);
	hp_kernel__free(k);

	/* 6.15+ (7.x): per-CPU data no longer zero-based: the variable is an image address,
	 * which slides with KASLR; the BTF offset is its place in the section */
	k = profile(&(struct kopts){ PERCPU_VAR, 0, 0x18018 },
		    "ffffffff83e0c000 D __per_cpu_start\n"
		    "ffffffff83e24018 D current_task\n",
		    &rc, &err);
	REQUIRE(rc == 0);
	CHECK_EQ_U64(k->current_task, 0xffffffff83e24018ull + SLIDE);
	hp_kernel__free(k);

	/* the per-CPU section in BTF only (a symbol table without the variable) */
	k = profile(&(struct kopts){ PERCPU_VAR, 0, 0x1fb80 }, "0000000000000000 A __per_cpu_start\n", &rc, &err);
	REQUIRE(rc == 0);
	CHECK_EQ_U64(k->current_task, 0x1fb80);
	hp_kernel__free(k);

	/* a BTF of another kernel: its per-CPU offset contradicts the symbols */
	k = profile(&(struct kopts){ PERCPU_VAR, 0, 0x1fb40 },
		    "0000000000000000 A __per_cpu_start\n"
		    "000000000001fb80 A current_task\n",
		    &rc, &err);
	CHECK_EQ_INT(rc, -EXDEV);
	CHECK(strstr(err.msg, "does not belong") != NULL);
	CHECK(k == NULL);

	/* hostile BTF: every offset is checked before use; the feature goes off, with why */
	k = profile(&(struct kopts){ PID_OUTSIDE, 0, 0x1fb80 }, "000000000001fb80 A current_task\n", &rc, &err);
	REQUIRE(rc == 0);
	check_off(k, HP_KF_TASK, "does not fit");
	check_off(k, HP_KF_PS, "does not fit");
	check_off(k, HP_KF_APPS, "does not fit");
	check_on(k, HP_KF_SYSCALL_ARGS);
	hp_kernel__task_offsets(k, &po);
	CHECK(!hp_ptask_known(&po));
	hp_kernel__free(k);
	k = profile(&(struct kopts){ COMM_SHORT, 0, 0x1fb80 }, "000000000001fb80 A current_task\n", &rc, &err);
	REQUIRE(rc == 0);
	check_off(k, HP_KF_TASK, "comm");
	hp_kernel__free(k);
	k = profile(&(struct kopts){ HOT_OUTSIDE, 0, 0x351c0 }, "00000000000351c0 A pcpu_hot\n", &rc, &err);
	REQUIRE(rc == 0);
	check_off(k, HP_KF_TASK, "outside the 4-byte variable");
	hp_kernel__free(k);
	k = profile(&(struct kopts){ VAR_NOT_TASK, 0, 0x1fb80 }, "000000000001fb80 A current_task\n", &rc, &err);
	REQUIRE(rc == 0);
	check_off(k, HP_KF_TASK, "not a task_struct pointer");
	hp_kernel__free(k);

	/* neither layout: the message names what is missing */
	k = profile(&(struct kopts){ NO_DATASEC, 0, 0 }, "", &rc, &err);
	REQUIRE(rc == 0);
	check_off(k, HP_KF_TASK, "neither a current_task variable nor pcpu_hot.current_task");
	check_on(k, HP_KF_PROBES);
	CHECK(hp_kernel__need(k, HP_KF_APPS, "an application probe", &err) == -ENOTSUP);
	CHECK(strstr(err.msg, "an application probe needs app_probes") != NULL);
	hp_kernel__free(k);

	/* no BTF at all: kernel probes by symbol, everything else off and saying why */
	struct fake *f = make_guest();
	REQUIRE(hp_kernel__new(make_syms("000000000001fb80 A current_task\n"), NULL, &f->b, &k, &err) == 0);
	check_on(k, HP_KF_PROBES);
	for (int i = HP_KF_TASK; i < HP_KF_COUNT; i++)
		check_off(k, i, "no BTF");
	hp_kernel__free(k);
	fake_free(f);

	/* no symbols that locate the slide: refused with what is missing */
	f = make_guest();
	struct hp_symtab *bare;
	REQUIRE(hp_symtab__parse_text("ffffffff81000000 T _stext\n", 26, &bare, NULL, &err) == 0);
	CHECK(hp_kernel__new(bare, NULL, &f->b, &k, &err) == -ENOENT);
	CHECK(strstr(err.msg, "divide-error handler") != NULL);
	fake_free(f);
	/* the kprobe blacklist as the guest lists it; one that loops back on itself away
	 * from its head is read once round (Brent's check), not 100,000 entries with the
	 * VM stopped */
	f = make_guest();
	const uint64_t head = 0xffffffff82d00000ull + SLIDE, ent = 0xffff888000300000ull;
	fake_map(f, head, 8);
	fake_map(f, ent, 3 * 32);
	fake_put64(f, head, ent);
	for (int i = 0; i < 3; i++) {
		fake_put64(f, ent + 32 * i, ent + 32 * (i == 2 ? 1 : i + 1)); /* the last back to the second */
		fake_put64(f, ent + 32 * i + 16, 0xffffffff81000000ull + 0x100 * i);
		fake_put64(f, ent + 32 * i + 24, 0xffffffff81000000ull + 0x100 * i + 0x40);
	}
	REQUIRE(hp_kernel__new(make_syms("0000000000000000 A __per_cpu_start\n000000000001fb80 A current_task\n"
					 "ffffffff82d00000 D kprobe_blacklist\n"),
			       make_btf(&(struct kopts){ PERCPU_VAR, 0, 0x1fb80 }), &f->b, &k, &err) == 0);
	CHECK_EQ_INT(k->nforbidden, 3);
	CHECK_EQ_U64(k->forbidden[2].start, 0xffffffff81000200ull);
	CHECK(f->reads < 50);
	CHECK(hp_kernel__check_probe_addr(k, 0xffffffff81000110ull, &err) != 0);
	hp_kernel__free(k);
	fake_free(f);
	TEST_MAIN_END();
}
