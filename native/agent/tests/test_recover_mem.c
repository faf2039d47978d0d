/* recover.c without QEMU: the lab's vmlinux laid out as guest memory at a KASLR slide
 * on the fake backend (relative_base relocated as the kernel's relocation does, IDT
 * gate 0 at the slid asm_exc_divide_error). Recovery gives exactly the lab's kallsyms
 * at link-time addresses when a vmcoreinfo tells the KASLR offset, runtime ones
 * without; hp_kernel__new finds the right slide either way; a second attach, also
 * after a "reboot" at another slide, takes the cache, and a changed banner does not.
 * One guest cannot poison another's profile: a guest that lies in its kallsyms or
 * its BTF gets its lies cached, but a later guest of the same build, whose own
 * memory differs, does not take them, and no entry is ever replaced.
 * Skipped (77) when the lab is not built. */
#include <stdlib.h>
#include <unistd.h>

#include "fake_backend.h"
#include "hp_test.h"
#include "guest/kernel.h"
#include "lab.h"
#include "lab_image.h"
#include "guest/recover.h"
#include "vm/vm.h"

#define IDT 0xfffffe0000000000ull
#define NOTE_VA 0xffff888000100000ull

static const char *state_dir; /* the agent's state directory: the profile cache */
static uint8_t *img;
static size_t img_len;
static uint64_t img_va;
static struct hp_symtab *truth;

static uint64_t sym(const char *name)
{
	const struct hp_sym *s = hp_symtab__find(truth, name);
	REQUIRE(s);
	return s->addr;
}

/* A guest whose kernel sits at slide; with_vmcoreinfo, the kernel tells it. */
static struct fake *guest(uint64_t slide, int with_vmcoreinfo)
{
	struct fake *f = fake_new();
	struct hp_kallsyms_info info;
	uint64_t h = sym("asm_exc_divide_error") + slide;
	uint8_t *idt;

	memcpy(fake_map(f, img_va + slide, img_len), img, img_len);
	REQUIRE(hp_kallsyms__locate(img, img_len, img_va, &info, NULL) == 0);
	REQUIRE(info.layout == HP_KALLSYMS_REL_BEFORE);
	fake_put64(f, info.names - 16 + slide, info.relative_base + slide); /* relative_base */
	idt = fake_map(f, IDT, 16);
	idt[0] = (uint8_t)h;
	idt[1] = (uint8_t)(h >> 8);
	idt[6] = (uint8_t)(h >> 16);
	idt[7] = (uint8_t)(h >> 24);
	fake_put32(f, IDT + 8, (uint32_t)(h >> 32));
	if (with_vmcoreinfo) {
		char text[128];
		int n = snprintf(text, sizeof(text), "OSRELEASE=6.1.0\nPAGESIZE=4096\nKERNELOFFSET=%llx\n",
				 (unsigned long long)slide);

		memcpy(fake_map(f, NOTE_VA, 4096), text, (size_t)n);
		fake_put64(f, sym("vmcoreinfo_data") + slide, NOTE_VA);
		fake_put64(f, sym("vmcoreinfo_size") + slide, (uint64_t)n);
	}
	return f;
}

/* Recovers through vm on f; returns the kernel built on it (slide checked by caller). */
static struct hp_kernel *attach(struct hp_vm *vm, struct fake *f, const char *want_source, size_t *nsyms)
{
	struct hp_symtab *syms = NULL;
	struct hp_btf *btf = NULL;
	struct hp_kernel *k = NULL;
	struct hp_err err = { { 0 } };
	char source[64] = "";

	vm->tgt.gdb = &f->b;
	if (hp_recover__profile(&f->b, state_dir, vm->cfg.name, &syms, &btf, source, sizeof(source), &err))
		fprintf(stderr, "recover: %s\n", err.msg);
	REQUIRE(syms);
	CHECK_STR(source, want_source);
	CHECK(btf != NULL);
	*nsyms = hp_symtab__count(syms);
	if (hp_kernel__new(syms, btf, &f->b, &k, &err))
		fprintf(stderr, "kernel: %s\n", err.msg);
	REQUIRE(k);
	CHECK(hp_kernel__has_task_offsets(k));
	CHECK(k->release[0] != '\0');
	return k;
}

static size_t count_profiles(const char *state);

/* The lab's table compared with the recovered one, entry by entry. */
static size_t mismatches_of(const struct hp_symtab *st)
{
	size_t m = hp_symtab__count(st) != hp_symtab__count(truth);

	for (size_t i = 0; i < hp_symtab__count(st) && i < hp_symtab__count(truth); i++) {
		const struct hp_sym *a = hp_symtab__at(truth, i), *b = hp_symtab__at(st, i);

		m += a->addr != b->addr || a->type != b->type || strcmp(a->name, b->name) != 0;
	}
	return m;
}

/* A guest that moves one function by a byte in its kallsyms table (at slide). */
static struct fake *lying_table(uint64_t slide, const char **moved)
{
	struct fake *f = guest(slide, 1);
	struct hp_kallsyms_info info;
	size_t j;

	REQUIRE(hp_kallsyms__locate(img, img_len, img_va, &info, NULL) == 0);
	/* a text symbol with room after it, so the table stays sorted */
	for (j = hp_symtab__count(truth) / 2; j + 1 < hp_symtab__count(truth); j++) {
		const struct hp_sym *a = hp_symtab__at(truth, j), *b = hp_symtab__at(truth, j + 1);

		if ((a->type == 'T' || a->type == 't') && b->addr - a->addr >= 16 &&
		    a->addr > hp_symtab__at(truth, j - 1)->addr)
			break;
	}
	uint64_t at = info.addresses + 4 * j;
	int32_t o;
	memcpy(&o, img + (at - img_va), 4);
	o = o < 0 ? o - 1 : o + 1; /* negative: counted down from relative_base */
	fake_put32(f, at + slide, (uint32_t)o);
	*moved = hp_symtab__at(truth, j)->name;
	return f;
}

/* A guest whose BTF calls task_struct's tgid "tgix". */
static struct fake *lying_btf(uint64_t slide)
{
	struct fake *f = guest(slide, 1);
	uint64_t bs = sym("__start_BTF"), be = sym("__stop_BTF");
	const uint8_t *p = memmem(img + (bs - img_va), be - bs, "\0tgid\0", 6);

	REQUIRE(p);
	uint8_t *mem = NULL;
	for (int i = 0; i < f->nregions; i++)
		if (f->regions[i].va == img_va + slide)
			mem = f->regions[i].data;
	mem[(size_t)(p - img) + 4] = 'x';
	return f;
}

/* The attacker's attach: its profile is recovered and cached; it is checked here
 * only to make sure the lie took. */
static struct hp_symtab *attach_raw(struct fake *f, const char *want_source)
{
	struct hp_symtab *syms = NULL;
	struct hp_btf *btf = NULL;
	struct hp_err err = { { 0 } };
	char source[64] = "";

	if (hp_recover__profile(&f->b, state_dir, "attacker", &syms, &btf, source, sizeof(source), &err))
		fprintf(stderr, "recover: %s\n", err.msg);
	REQUIRE(syms);
	CHECK_STR(source, want_source);
	hp_btf__free(btf);
	return syms;
}

static void test_poisoning(struct hp_vm *vm, uint64_t s1, uint64_t s2)
{
	struct hp_kernel *k;
	struct hp_symtab *st;
	struct fake *a, *v;
	const char *moved;
	size_t n;
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/profiles'", state_dir);
	CHECK_EQ_INT(system(cmd), 0);

	/* a lying kallsyms table: cached for that guest, not taken by the next */
	a = lying_table(s1, &moved);
	st = attach_raw(a, "guest memory");
	CHECK_EQ_INT(mismatches_of(st), 1);
	CHECK_EQ_U64(hp_symtab__find(st, moved)->addr, sym(moved) + 1);
	hp_symtab__free(st);
	fake_free(a);
	v = guest(s2, 1);
	k = attach(vm, v, "guest memory", &n);
	CHECK_EQ_INT(mismatches_of(k->syms), 0);
	CHECK_EQ_U64(hp_kernel__addr(k, moved), sym(moved) + s2);
	hp_kernel__free(k);
	CHECK_EQ_INT(count_profiles(state_dir), 2); /* the lie was not replaced, nor taken */
	/* the victim's own profile serves it from now on */
	k = attach(vm, v, "cache", &n);
	CHECK_EQ_INT(mismatches_of(k->syms), 0);
	hp_kernel__free(k);
	fake_free(v);

	/* a lying BTF (task_struct without tgid): the same */
	CHECK_EQ_INT(system(cmd), 0);
	a = lying_btf(s1);
	st = attach_raw(a, "guest memory");
	hp_symtab__free(st);
	fake_free(a);
	v = guest(s2, 1);
	k = attach(vm, v, "guest memory", &n); /* attach() checks the task offsets */
	hp_kernel__free(k);
	k = attach(vm, v, "cache", &n);
	hp_kernel__free(k);
	fake_free(v);
	CHECK_EQ_INT(count_profiles(state_dir), 2);
}

static size_t count_profiles(const char *state)
{
	char cmd[4200];
	FILE *p;
	size_t n = 0;

	snprintf(cmd, sizeof(cmd), "ls '%s/profiles'", state);
	p = popen(cmd, "r");
	while (p && fgets(cmd, sizeof(cmd), p))
		n++;
	if (p)
		pclose(p);
	return n;
}

int main(int argc, char **argv)
{
	const char *dir = hp_lab_dir(argc > 1 ? argv[1] : NULL);
	char p[4200], state[] = "/tmp/hprobe-recover-XXXXXX";
	struct hp_vm *vm = calloc(1, sizeof(*vm));
	struct hp_err err = { { 0 } };
	const uint64_t s1 = 0x2c000000, s2 = 0x7a00000;
	struct hp_kernel *k;
	struct fake *f;
	size_t n, mismatches = 0;

	if (!dir || !hp_lab_file(dir, "kallsyms", p, sizeof(p))) {
		printf("SKIP: lab guest not built\n");
		return 77;
	}
	REQUIRE(hp_symtab__load_text(p, &truth, &err) == 0);
	REQUIRE(hp_lab_file(dir, "vmlinux", p, sizeof(p)));
	REQUIRE((img = hp_lab_vmlinux_image(p, &img_len, &img_va)));
	REQUIRE(mkdtemp(state));
	state_dir = state;
	snprintf(vm->cfg.name, sizeof(vm->cfg.name), "t");

	/* from memory, KASLR offset known: the table is the lab's kallsyms, the slide right */
	f = guest(s1, 1);
	k = attach(vm, f, "guest memory", &n);
	CHECK_EQ_INT(n, hp_symtab__count(truth));
	for (size_t i = 0; i < n && i < hp_symtab__count(truth); i++) {
		const struct hp_sym *a = hp_symtab__at(truth, i), *b = hp_symtab__at(k->syms, i);

		mismatches += a->addr != b->addr || a->type != b->type || strcmp(a->name, b->name) != 0;
	}
	CHECK_EQ_INT(mismatches, 0);
	CHECK_EQ_U64(k->slide, s1);
	CHECK_EQ_U64(hp_kernel__addr(k, "__x64_sys_getpid"), sym("__x64_sys_getpid") + s1);
	hp_kernel__free(k);
	CHECK_EQ_INT(count_profiles(state), 1);

	/* again: from the cache; then a reboot at another slide: still the cache */
	k = attach(vm, f, "cache", &n);
	CHECK_EQ_INT(n, hp_symtab__count(truth));
	CHECK_EQ_U64(k->slide, s1);
	hp_kernel__free(k);
	fake_free(f);
	f = guest(s2, 1);
	k = attach(vm, f, "cache", &n);
	CHECK_EQ_U64(k->slide, s2);
	hp_kernel__free(k);

	/* another kernel with the same layout but another banner: not this profile */
	fake_put32(f, sym("linux_banner") + s2 + 14, 0x2e392e39); /* "9.9." */
	k = attach(vm, f, "guest memory", &n);
	CHECK_EQ_INT(strncmp(k->release, "9.9.", 4), 0);
	hp_kernel__free(k);
	CHECK_EQ_INT(count_profiles(state), 2); /* same build id: kept beside it, never replaced */
	fake_free(f);

	/* no vmcoreinfo: runtime addresses, so hp_kernel__new finds a slide of 0 */
	snprintf(p, sizeof(p), "rm -rf '%s/profiles'", state);
	CHECK_EQ_INT(system(p), 0);
	f = guest(s1, 0);
	k = attach(vm, f, "guest memory", &n);
	CHECK_EQ_U64(k->slide, 0);
	CHECK_EQ_U64(hp_symtab__find(k->syms, "_text")->addr, 0xffffffff81000000ull + s1);
	hp_kernel__free(k);
	fake_free(f);
	/* ...and that cache still serves a boot at another slide (relative to the first) */
	f = guest(s2, 0);
	k = attach(vm, f, "cache", &n);
	CHECK_EQ_U64(k->slide, s2 - s1);
	CHECK_EQ_U64(hp_kernel__addr(k, "__x64_sys_getpid"), sym("__x64_sys_getpid") + s2);
	hp_kernel__free(k);
	fake_free(f);

	test_poisoning(vm, s1, s2);

	snprintf(p, sizeof(p), "rm -rf '%s'", state);
	CHECK_EQ_INT(system(p), 0);
	hp_symtab__free(truth);
	free(img);
	free(vm);
	TEST_MAIN_END();
}
