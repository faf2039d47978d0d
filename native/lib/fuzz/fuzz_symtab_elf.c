/* Fuzzes the ELF reader (libelf underneath) through hp_symtab__parse_elf. */
#include <stdint.h>
#include <string.h>

#include "hprobe/symtab.h"

#include "fuzz_assert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hp_symtab *st = NULL;
	const struct hp_elf_info *info;
	const struct hp_sym *out[4];

	if (hp_symtab__parse_elf(data, size, &st, NULL) < 0) {
		ASSERT(st == NULL);
		return 0;
	}
	info = hp_symtab__elf_info(st);
	ASSERT(info && info->is_elf && strlen(info->build_id) <= 40);
	for (size_t i = 0; i < hp_symtab__count(st) && i < 256; i++) {
		const struct hp_sym *s = hp_symtab__at(st, i);

		ASSERT(hp_symtab__find(st, s->name) != NULL);
		hp_symtab__lookup_addr(st, s->addr + s->size / 2, NULL);
	}
	hp_symtab__search(st, "*main*", 1, out, 4);
	hp_symtab__free(st);
	return 0;
}
