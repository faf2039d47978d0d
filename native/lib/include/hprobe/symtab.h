/* Symbol tables: kernel (System.map, /proc/kallsyms text, kallsyms tables recovered
 * from a kernel image) and ELF (symtab + dynsym).
 * Parsing treats every input as untrusted: bad lines are skipped and counted, never trusted. */
#ifndef HPROBE_SYMTAB_H
#define HPROBE_SYMTAB_H
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hp_symtab;

struct hp_sym {
	uint64_t addr;
	uint64_t size; /* ELF st_size, or distance to the next text symbol for kallsyms */
	char type;     /* nm-style letter: T t D d B b R r A W V ... ('T'/'t' = text) */
	const char *name;
	const char *module; /* kallsyms "[mod]" suffix, or NULL */
};

struct hp_symtab_stats {
	size_t lines;   /* lines read (text formats) */
	size_t skipped; /* malformed lines skipped */
};

/* Text formats: "ADDR TYPE NAME [MODULE]" per line (System.map or /proc/kallsyms). */
int hp_symtab__parse_text(const char *buf, size_t len, struct hp_symtab **out, struct hp_symtab_stats *stats,
			  struct hp_err *err);
int hp_symtab__load_text(const char *path, struct hp_symtab **out, struct hp_err *err);

/* ELF executables and vmlinux: STT_FUNC/STT_OBJECT (and NOTYPE with a name) from
 * .symtab and .dynsym, through libelf. A file that is not ELF gets -ENOEXEC; an ELF
 * with no symbol at all (stripped) gets -ENODATA. */
int hp_symtab__load_elf(const char *path, struct hp_symtab **out, struct hp_err *err);
int hp_symtab__parse_elf(const void *buf, size_t len, struct hp_symtab **out, struct hp_err *err);
/* The same from a file the caller opened (somewhere only it can resolve safely, e.g.
 * under a guest's sysroot): fd stays the caller's, read with pread (its offset is
 * neither used nor moved); name is for messages. */
int hp_symtab__load_elf_fd(int fd, const char *name, struct hp_symtab **out, struct hp_err *err);

/* Kernel symbols without a file: the kernel's own compressed kallsyms tables found
 * inside a kernel image given as bytes mapped at image_vaddr (the inflated vmlinux's
 * sections laid out by address, or a dump of guest kernel memory). The table holds
 * what /proc/kallsyms shows for the core kernel (type letters included) at the
 * addresses the image holds: link-time from a file, runtime from guest memory.
 * The image is untrusted: -ENOENT when no consistent table set is in it, -E2BIG when
 * the search gave up (hostile input), -ENOMEM. The image is not kept. */
enum hp_kallsyms_layout {
	HP_KALLSYMS_REL_BEFORE = 1, /* offsets + relative_base before num_syms (<= 6.3) */
	HP_KALLSYMS_REL_AFTER,      /* offsets + relative_base after token_index (>= 6.4) */
	HP_KALLSYMS_ABSOLUTE,       /* kallsyms_addresses (no KALLSYMS_BASE_RELATIVE) */
	HP_KALLSYMS_PLACE_REL,      /* offsets from each entry's own address, after token_index (7.x) */
};

struct hp_kallsyms_info {
	uint32_t num_syms;
	enum hp_kallsyms_layout layout;
	int abs_percpu;         /* non-negative offsets are absolute (per-CPU) values */
	int seqs_of_names;      /* kallsyms_seqs_of_names sits before the token table */
	uint64_t relative_base; /* as stored in the image (0 for ABSOLUTE and PLACE_REL) */
	uint64_t token_table;   /* addresses of the tables in the image */
	uint64_t names;
	uint64_t addresses;  /* kallsyms_offsets or kallsyms_addresses */
	uint64_t start, end; /* [start, end): every table found */
};
int hp_kallsyms__locate(const void *image, size_t len, uint64_t image_vaddr, struct hp_kallsyms_info *info,
			struct hp_err *err);
int hp_kallsyms__recover(const void *image, size_t len, uint64_t image_vaddr, struct hp_symtab **out,
			 struct hp_err *err);

void hp_symtab__free(struct hp_symtab *st);

/* Symbols sorted by address (ties by name). */
size_t hp_symtab__count(const struct hp_symtab *st);
const struct hp_sym *hp_symtab__at(const struct hp_symtab *st, size_t idx);

/* Exact name lookup (the lowest address when names repeat; a hash, O(1)). NULL if absent. */
const struct hp_sym *hp_symtab__find(const struct hp_symtab *st, const char *name);
/* All symbols with that name (static functions repeat), in address order: fills up
 * to max and returns the total, so a caller can report an ambiguous name. */
size_t hp_symtab__find_all(const struct hp_symtab *st, const char *name, const struct hp_sym **out, size_t max);

/* A function the compiler may have cloned under a suffixed name (finish_task_switch
 * is "finish_task_switch.isra.0" in some builds): the exact name, else the one text
 * symbol "name.<suffix>" that is not a ".cold" part. NULL if none or ambiguous. */
const struct hp_sym *hp_symtab__find_clone(const struct hp_symtab *st, const char *name);

/* The symbol containing addr (addr in [sym.addr, sym.addr+size), or the nearest
 * preceding one when size is 0). *off receives addr - sym.addr. NULL if none. */
const struct hp_sym *hp_symtab__lookup_addr(const struct hp_symtab *st, uint64_t addr, uint64_t *off);
/* addr as "name+0xoff" ("name" at the symbol's start) when a function holds it (a text
 * symbol, addr inside its size, or within 64 KiB of one that has none), NUL-terminated
 * (cut to cap). Returns the length, or -ENOENT (buf ""). The name is the guest's bytes
 * as they are: escape it before showing. */
int hp_symtab__describe(const struct hp_symtab *st, uint64_t addr, char *buf, size_t cap);
/* Enough for any name hp_symtab__describe writes (KSYM_NAME_LEN 512, "+0x" and 16 digits);
 * HP_SYM_TEXT_SHOWN for it escaped (hp_export__escape: 4 bytes per byte at most). */
#define HP_SYM_TEXT_MAX 544
#define HP_SYM_TEXT_SHOWN (4 * HP_SYM_TEXT_MAX + 1)

/* Substring search (case-sensitive; a pattern with '*' or '?' is a glob). Text
 * symbols only if text_only. Fills up to max results in address order; returns the
 * total number of matches (may exceed max). */
size_t hp_symtab__search(const struct hp_symtab *st, const char *pattern, int text_only, const struct hp_sym **out,
			 size_t max);

/* Nearest names by edit distance, for "unknown symbol, did you mean ...". */
size_t hp_symtab__suggest(const struct hp_symtab *st, const char *name, const struct hp_sym **out, size_t max);

/* ELF facts for application probes (filled by load_elf/parse_elf). */
struct hp_elf_info {
	int is_elf;
	int is_pie;        /* ET_DYN with an entry point (PIE executable or shared object) */
	int is_shared_lib; /* ET_DYN without PT_INTERP/entry in a library sense (DT_SONAME present) */
	int is_static;     /* no PT_INTERP */
	uint64_t entry;
	uint64_t text_vaddr; /* lowest PT_LOAD vaddr with PF_X */
	uint64_t first_load_vaddr;
	char build_id[41]; /* hex of NT_GNU_BUILD_ID, "" if none */
};
const struct hp_elf_info *hp_symtab__elf_info(const struct hp_symtab *st); /* NULL for text */
/* The same facts without the symbols, also for a stripped binary (which load_elf
 * refuses with -ENODATA). -ENOEXEC if not ELF. */
int hp_elf__read_info(const char *path, struct hp_elf_info *info, struct hp_err *err);

/* Read the bytes backing a virtual address range of an ELF file (from its PT_LOAD
 * segments), e.g. a function's code for disassembly. Returns bytes copied or -errno. */
long hp_elf__read_vaddr(const char *path, uint64_t vaddr, void *buf, size_t len, struct hp_err *err);
/* The same on an open file (as hp_symtab__load_elf_fd). */
long hp_elf__read_vaddr_fd(int fd, const char *name, uint64_t vaddr, void *buf, size_t len, struct hp_err *err);

#ifdef __cplusplus
}
#endif
#endif
