/* Kernel symbols and types without files: recovered from guest memory, or taken from
 * the profile cache that recovery fills (recover.c; docs/symbols.md). */
#ifndef HP_RECOVER_H
#define HP_RECOVER_H
#include <stddef.h>

#include "hprobe/btf.h"
#include "hprobe/symtab.h"

struct hp_backend;

/* With the VM stopped (b reads its memory; the cache is state_dir/profiles; name is
 * the VM's, for messages): *syms gets the kernel's symbols at link-time addresses when the
 * kernel tells its KASLR offset (vmcoreinfo), at this boot's runtime addresses
 * otherwise (hp_kernel__new then finds a slide of 0); *btf stays NULL if the kernel
 * has no BTF. source (may be NULL) receives "guest memory" or "cache". The caller
 * owns both results. */
int hp_recover__profile(struct hp_backend *b, const char *state_dir, const char *name, struct hp_symtab **syms,
			struct hp_btf **btf, char *source, size_t cap, struct hp_err *err);
#endif
