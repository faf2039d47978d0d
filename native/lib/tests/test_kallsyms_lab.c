/* kallsyms and BTF recovered from the lab guest's stripped vmlinux, its loaded
 * sections laid out by address like the kernel's memory: every symbol equals the
 * guest's real /proc/kallsyms (name, type, address; same count), and the BTF is the
 * .BTF section. Skipped (77) when the lab is not built. */
#include <errno.h>
#include <stdlib.h>

#include "hp_test.h"
#include "hprobe/btf.h"
#include "hprobe/symtab.h"
#include "lab.h"
#include "lab_image.h"

int main(int argc, char **argv)
{
	const char *dir = hp_lab_dir(argc > 1 ? argv[1] : NULL);
	struct hp_symtab *truth = NULL, *got = NULL;
	struct hp_btf *btf = NULL, *btf_file = NULL;
	struct hp_kallsyms_info info;
	struct hp_err err = { { 0 } };
	char p[4200], vml[4200];
	uint64_t vaddr = 0, btf_vaddr = 0;
	size_t len = 0, n, mismatches = 0;
	uint8_t *img;
	double t0, ms;

	if (!dir || !hp_lab_file(dir, "kallsyms", p, sizeof(p)) || !hp_lab_file(dir, "vmlinux", vml, sizeof(vml))) {
		printf("SKIP: lab guest not built\n");
		return 77;
	}
	REQUIRE(hp_symtab__load_text(p, &truth, &err) == 0);
	t0 = hp_now_ms();
	img = hp_lab_vmlinux_image(vml, &len, &vaddr);
	REQUIRE(img);
	printf("vmlinux laid out: %zu MiB at 0x%llx in %.0f ms\n", len >> 20, (unsigned long long)vaddr,
	       hp_now_ms() - t0);

	t0 = hp_now_ms();
	REQUIRE(hp_kallsyms__locate(img, len, vaddr, &info, &err) == 0);
	printf("tables: %u symbols, layout %d, abs_percpu %d, seqs_of_names %d, relative_base 0x%llx, "
	       "token_table 0x%llx, span 0x%llx-0x%llx (%.0f ms)\n",
	       info.num_syms, info.layout, info.abs_percpu, info.seqs_of_names, (unsigned long long)info.relative_base,
	       (unsigned long long)info.token_table, (unsigned long long)info.start, (unsigned long long)info.end,
	       hp_now_ms() - t0);
	t0 = hp_now_ms();
	if (hp_kallsyms__recover(img, len, vaddr, &got, &err))
		fprintf(stderr, "recover: %s\n", err.msg);
	REQUIRE(got);
	ms = hp_now_ms() - t0;
	n = hp_symtab__count(truth);
	printf("recovered %zu symbols in %.0f ms; /proc/kallsyms has %zu\n", hp_symtab__count(got), ms, n);
	CHECK_EQ_INT(hp_symtab__count(got), n);
	CHECK_EQ_INT(info.num_syms, n);
	CHECK_EQ_INT(info.layout, HP_KALLSYMS_REL_BEFORE);
	CHECK(info.abs_percpu);
	for (size_t i = 0; i < n && i < hp_symtab__count(got); i++) {
		const struct hp_sym *a = hp_symtab__at(truth, i), *b = hp_symtab__at(got, i);

		if (a->addr != b->addr || a->type != b->type || strcmp(a->name, b->name) != 0 || a->size != b->size ||
		    b->module) {
			if (mismatches++ < 5)
				fprintf(stderr, "#%zu: kallsyms %016llx %c %s, recovered %016llx %c %s\n", i,
					(unsigned long long)a->addr, a->type, a->name, (unsigned long long)b->addr,
					b->type, b->name);
		}
	}
	printf("%zu mismatches\n", mismatches);
	CHECK_EQ_INT(mismatches, 0);
	CHECK_EQ_U64(hp_symtab__find(got, "_text")->addr, 0xffffffff81000000ull);
	hp_symtab__free(got);
	got = NULL;

	t0 = hp_now_ms();
	REQUIRE(hp_btf__recover(img, len, vaddr, &btf_vaddr, &btf, &err) == 0);
	printf("BTF: %u types at 0x%llx in %.0f ms\n", hp_btf__type_count(btf), (unsigned long long)btf_vaddr,
	       hp_now_ms() - t0);
	CHECK_EQ_U64(btf_vaddr, hp_symtab__find(truth, "__start_BTF")->addr);
	REQUIRE(hp_btf__load_file(vml, &btf_file, &err) == 0);
	CHECK_EQ_INT(hp_btf__type_count(btf), hp_btf__type_count(btf_file));

	/* the same image cut short of the tables' start, or past the token index: nothing */
	size_t cut = (size_t)(info.start - vaddr) + 8;
	CHECK(hp_kallsyms__recover(img + cut, len - cut, vaddr + cut, &got, &err) < 0);
	CHECK(hp_kallsyms__recover(img, (size_t)(info.token_table - vaddr) + 300, vaddr, &got, &err) < 0);
	CHECK(got == NULL);

	hp_symtab__free(truth);
	hp_btf__free(btf);
	hp_btf__free(btf_file);
	free(img);
	TEST_MAIN_END();
}
