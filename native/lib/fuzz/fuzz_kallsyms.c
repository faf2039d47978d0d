/* Fuzzes kallsyms and BTF recovery from a kernel image (untrusted guest memory).
 * Byte 0 sets the image's misalignment (the tables are aligned in the kernel's
 * address space); the rest is the image. The internal entry point takes small
 * tables, so short inputs reach the decoder; the public one runs too. */
#include <stdint.h>

#include "fuzz_libbpf.h"
#include "hprobe/btf.h"
#include "hprobe/symtab.h"
#include "symtab_int.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_libbpf();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hp_kallsyms_info info;
	struct hp_symtab *st = NULL;
	struct hp_btf *btf = NULL;
	uint64_t vaddr, at;

	if (size < 1)
		return 0;
	vaddr = 0xffffffff82000000ull + (data[0] & 7);
	if (hpi_kallsyms_recover(data + 1, size - 1, vaddr, 1, &st, &info, NULL) == 0) {
		uint64_t off;

		for (size_t i = 0; i < hp_symtab__count(st); i += 7) {
			const struct hp_sym *s = hp_symtab__at(st, i);

			hp_symtab__find(st, s->name);
			hp_symtab__lookup_addr(st, s->addr + 1, &off);
		}
		hp_symtab__free(st);
	}
	if (hp_kallsyms__recover(data + 1, size - 1, vaddr, &st, NULL) == 0)
		hp_symtab__free(st);
	if (hp_btf__recover(data + 1, size - 1, vaddr, &at, &btf, NULL) == 0)
		hp_btf__free(btf);
	return 0;
}
