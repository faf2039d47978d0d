/* Fuzzes the System.map/kallsyms text parser and every query on what it accepts. */
#include <stdint.h>
#include <string.h>

#include "hprobe/symtab.h"

#include "fuzz_assert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hp_symtab_stats stats;
	struct hp_symtab *st = NULL;
	const struct hp_sym *out[4];
	size_t n;

	if (hp_symtab__parse_text((const char *)data, size, &st, &stats, NULL) < 0) {
		ASSERT(st == NULL);
		return 0;
	}
	n = hp_symtab__count(st);
	ASSERT(n > 0 && n + stats.skipped <= stats.lines);
	for (size_t i = 0; i < n; i++) {
		const struct hp_sym *s = hp_symtab__at(st, i), *f;
		uint64_t off = 1;

		ASSERT(s && s->name && s->name[0]);
		if (i)
			ASSERT(hp_symtab__at(st, i - 1)->addr <= s->addr);
		if (i < 64) {
			f = hp_symtab__find(st, s->name);
			ASSERT(f && strcmp(f->name, s->name) == 0 && f <= s);
			ASSERT(hp_symtab__lookup_addr(st, s->addr, &off) != NULL && off == 0);
		}
		/* suggest scans every name per call: a few calls cover it */
		if (i < 4)
			ASSERT(hp_symtab__suggest(st, s->name, out, 4) >= 1);
	}
	hp_symtab__search(st, "a*b?c", 0, out, 4);
	hp_symtab__search(st, "_", 1, out, 4);
	hp_symtab__lookup_addr(st, UINT64_MAX, NULL);
	hp_symtab__free(st);
	return 0;
}
