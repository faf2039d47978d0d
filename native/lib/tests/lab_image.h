/* The lab's vmlinux as the kernel's memory holds it: its PROGBITS and NOTE sections
 * laid out by address in one zero-filled buffer (per-CPU data, linked at 0, is left
 * out as the kernel's image mapping does). For the recovery tests of the library and
 * the agent. */
#ifndef HP_TEST_LAB_IMAGE_H
#define HP_TEST_LAB_IMAGE_H
#include <fcntl.h>
#include <gelf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HP_LAB_IMAGE_MAX ((size_t)256 << 20)

/* Returns the malloc'ed buffer (*len bytes mapped at *vaddr), or NULL. */
static inline uint8_t *hp_lab_vmlinux_image(const char *path, size_t *len, uint64_t *vaddr)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	uint8_t *img = NULL;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf *e;
	int fd;

	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	e = elf_begin(fd, ELF_C_READ, NULL);
	for (int pass = 0; e && pass < 2; pass++) {
		if (pass == 1) {
			if (hi <= lo || hi - lo > HP_LAB_IMAGE_MAX || !(img = calloc(1, hi - lo)))
				break;
			*len = hi - lo;
			*vaddr = lo;
		}
		for (scn = NULL; (scn = elf_nextscn(e, scn));) {
			Elf_Data *d;

			if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_PROGBITS && sh.sh_type != SHT_NOTE) ||
			    !(sh.sh_flags & SHF_ALLOC) || sh.sh_addr < 0xffffffff80000000ull)
				continue;
			if (pass == 0) {
				lo = sh.sh_addr < lo ? sh.sh_addr : lo;
				hi = sh.sh_addr + sh.sh_size > hi ? sh.sh_addr + sh.sh_size : hi;
			} else if ((d = elf_getdata(scn, NULL)) && d->d_buf && d->d_size <= sh.sh_size) {
				memcpy(img + (sh.sh_addr - lo), d->d_buf, d->d_size);
			}
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return img;
}
#endif
