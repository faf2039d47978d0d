/* Internal to the symtab modules: the table layout and the builders. */
#ifndef HPROBE_SYMTAB_INT_H
#define HPROBE_SYMTAB_INT_H
#include "hprobe/symtab.h"

/* Names longer than this are treated as malformed input (kallsyms allows 512). */
#define HPI_SYM_NAME_MAX 1024

struct hp_symtab {
	struct hp_sym *syms; /* sorted by (addr, name) */
	size_t n, cap;
	char *strings;     /* owns every name/module the syms point into */
	uint32_t *buckets; /* name hash: index+1 of the chain head, 0 = empty */
	uint32_t *next;    /* chain links, index+1, in ascending index order */
	size_t nbuckets;   /* power of two */
	int has_elf;
	struct hp_elf_info elf;
};

/* Allocates an empty table that takes ownership of strings (may be NULL). */
struct hp_symtab *hpi_symtab_new(char *strings);
int hpi_symtab_push(struct hp_symtab *st, const struct hp_sym *sym);
/* Sorts, drops exact duplicates if dedup, and builds the name index. */
int hpi_symtab_finish(struct hp_symtab *st, int dedup);
int hpi_sym_is_text(char type);
/* kallsyms has no sizes: each text symbol extends to the next text address. */
void hpi_symtab_text_sizes(struct hp_symtab *st);

/* kallsyms.c: hp_kallsyms__recover/locate with the lower bound on the symbol count
 * as a parameter (the fuzzer and the synthetic tests use small tables); out and
 * info may be NULL. */
struct hp_kallsyms_info;
int hpi_kallsyms_recover(const void *image, size_t len, uint64_t image_vaddr, uint32_t min_syms, struct hp_symtab **out,
			 struct hp_kallsyms_info *info, struct hp_err *err);

#endif
