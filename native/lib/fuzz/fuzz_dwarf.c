/* Fuzzes hp_dwarf (libdw underneath) on any file as an application's binary: each
 * function the input's own symbols name, and a few fixed names, must give parameters
 * that are C identifiers with a known class and size, or an error. Seed
 * (corpus/fuzz_dwarf/exec): a small static program with typed parameters and "...",
 * gcc -g -O1 -nostdlib -static -fno-asynchronous-unwind-tables -Wl,--build-id=none. */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hprobe/dwarf.h"
#include "hprobe/symtab.h"

#include "fuzz_assert.h"

static void check(int fd, const char *func)
{
	struct hp_param ps[6], ret;
	int n = hp_dwarf__func_proto(fd, func, ps, 6, NULL);

	for (int i = 0; i < n && i < 6; i++) {
		ASSERT(hp_param__valid_name(ps[i].name));
		ASSERT(memchr(ps[i].type, 0, sizeof ps[i].type) != NULL);
		ASSERT(ps[i].cls < HP_PARAM_NCLASS && ps[i].size >= 1 && ps[i].size <= 8);
	}
	if (hp_dwarf__func_ret(fd, func, &ret, NULL) == 0)
		ASSERT(ret.cls < HP_PARAM_NCLASS && memchr(ret.type, 0, sizeof ret.type) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fixed[] = { "f", "g", "main", "_start" };
	struct hp_symtab *st = NULL;
	int fd = memfd_create("fuzz_dwarf", MFD_CLOEXEC);

	ASSERT(fd >= 0);
	ASSERT(write(fd, data, size) == (ssize_t)size);
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		check(fd, fixed[i]);
	if (hp_symtab__parse_elf(data, size, &st, NULL) == 0) {
		for (size_t i = 0; i < hp_symtab__count(st) && i < 8; i++)
			check(fd, hp_symtab__at(st, i)->name);
		hp_symtab__free(st);
	}
	close(fd);
	return 0;
}
