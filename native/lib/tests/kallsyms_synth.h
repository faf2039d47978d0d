/* Hand-built kallsyms table sets, written the way the kernel's scripts/kallsyms.c
 * writes them (every table .balign 8 in the kernel's address space), in the three
 * layouts the library reads: offsets + relative_base before num_syms (<= 6.3, with
 * or without kallsyms_seqs_of_names), after the token index (>= 6.4), place-relative
 * offsets after the token index (7.x), and absolute kallsyms_addresses. The compression is simpler than the kernel's (fixed
 * multi-character tokens, greedy), which the reader does not care about. */
#ifndef HP_TEST_KALLSYMS_SYNTH_H
#define HP_TEST_KALLSYMS_SYNTH_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hprobe/symtab.h"

struct ks_sym {
	uint64_t addr;
	char type;
	const char *name;
};

struct ks_opts {
	enum hp_kallsyms_layout layout;
	int abs_percpu; /* type 'A' symbols below relative_base are stored as absolute values */
	int seqs;       /* kallsyms_seqs_of_names before the token table (REL_BEFORE/ABSOLUTE) */
	size_t prefix;  /* garbage bytes before the tables */
	uint64_t vaddr; /* where the buffer is mapped */
};

struct ks_buf {
	uint8_t *p;
	size_t len, cap;
	uint64_t vaddr;
};

static inline void ks_put(struct ks_buf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 4096;
		b->p = realloc(b->p, b->cap);
	}
	if (d)
		memcpy(b->p + b->len, d, n);
	else
		memset(b->p + b->len, 0, n);
	b->len += n;
}

static inline void ks_align(struct ks_buf *b)
{
	while ((b->vaddr + b->len) & 7)
		ks_put(b, NULL, 1);
}

static inline void ks_le(struct ks_buf *b, uint64_t v, int size)
{
	uint8_t t[8];

	for (int i = 0; i < size; i++)
		t[i] = (uint8_t)(v >> (8 * i));
	ks_put(b, t, (size_t)size);
}

/* The tokens: every character used stands for itself; free codes get one of these
 * (then empty tokens, which the kernel also writes when it runs out of pairs). */
static const char *const ks_multi[] = { "sym_", "__", "_x",  "func",  "ta",    "0_",   "00",  "10",
					"er",   "in", "mod", "Tsym_", "tsym_", "long", "abc", "xyz" };

/* Returns a malloc'ed image (length in *len) or NULL. syms sorted by address. */
static inline uint8_t *ks_synth(const struct ks_sym *syms, uint32_t n, const struct ks_opts *o, size_t *len)
{
	char tok[256][16];
	int used[256] = { 0 };
	struct ks_buf b = { .vaddr = o->vaddr }, names = { 0 };
	uint32_t *marks = calloc(n / 256 + 1, sizeof(*marks));
	uint64_t rb = 0;
	size_t m = 0;

	for (uint32_t i = 0; i < n; i++) {
		used[(uint8_t)syms[i].type] = 1;
		for (const char *c = syms[i].name; *c; c++)
			used[(uint8_t)*c] = 1;
	}
	for (int c = 0; c < 256; c++) {
		tok[c][0] = '\0';
		if (used[c])
			tok[c][0] = (char)c, tok[c][1] = '\0';
		else if (m < sizeof(ks_multi) / sizeof(ks_multi[0]))
			strcpy(tok[c], ks_multi[m++]);
	}
	/* names: greedy longest token at each position */
	for (uint32_t i = 0; i < n; i++) {
		char full[1100];
		uint8_t code[1100];
		size_t nc = 0, fl;

		if (i % 256 == 0)
			marks[i / 256] = (uint32_t)names.len;
		full[0] = syms[i].type;
		strcpy(full + 1, syms[i].name);
		fl = strlen(full);
		for (size_t p = 0; p < fl;) {
			int best = -1;
			size_t bl = 0;

			for (int c = 0; c < 256; c++) {
				size_t tl = strlen(tok[c]);

				if (tl > bl && tl <= fl - p && !memcmp(full + p, tok[c], tl))
					best = c, bl = tl;
			}
			code[nc++] = (uint8_t)best;
			p += bl;
		}
		if (nc > 127) {
			ks_le(&names, (nc & 0x7f) | 0x80, 1);
			ks_le(&names, nc >> 7, 1);
		} else {
			ks_le(&names, nc, 1);
		}
		ks_put(&names, code, nc);
	}
	for (uint32_t i = 0; i < n && !rb; i++)
		if (!(o->abs_percpu && syms[i].type == 'A'))
			rb = syms[i].addr;

	for (size_t i = 0; i < o->prefix; i++)
		ks_le(&b, 0x5a ^ (i * 7), 1);
#define KS_ADDRS()                                                                             \
	do {                                                                                   \
		ks_align(&b);                                                                  \
		for (uint32_t i = 0; i < n; i++) {                                             \
			uint64_t a = syms[i].addr;                                             \
			if (o->layout == HP_KALLSYMS_ABSOLUTE)                                 \
				ks_le(&b, a, 8);                                               \
			else if (o->layout == HP_KALLSYMS_PLACE_REL)                           \
				ks_le(&b, a - (b.vaddr + b.len), 4);                           \
			else if (o->abs_percpu)                                                \
				ks_le(&b, syms[i].type == 'A' && a < rb ? a : rb - 1 - a, 4);  \
			else                                                                   \
				ks_le(&b, a - rb, 4);                                          \
		}                                                                              \
		if (o->layout != HP_KALLSYMS_ABSOLUTE && o->layout != HP_KALLSYMS_PLACE_REL) { \
			ks_align(&b);                                                          \
			ks_le(&b, rb, 8);                                                      \
		}                                                                              \
	} while (0)
	int after = o->layout == HP_KALLSYMS_REL_AFTER || o->layout == HP_KALLSYMS_PLACE_REL;
	if (!after)
		KS_ADDRS();
	ks_align(&b);
	ks_le(&b, n, 4);
	ks_align(&b);
	ks_put(&b, names.p, names.len);
	ks_align(&b);
	for (uint32_t i = 0; i < (n + 255) / 256; i++)
		ks_le(&b, marks[i], 4);
	if (o->seqs && !after) {
		ks_align(&b);
		for (uint32_t i = 0; i < n; i++) { /* big-endian 3-byte indexes; any order will do */
			uint32_t seq = n - 1 - i;
			uint8_t be[3] = { (uint8_t)(seq >> 16), (uint8_t)(seq >> 8), (uint8_t)seq };

			ks_put(&b, be, 3);
		}
	}
	ks_align(&b);
	{
		size_t tt = b.len;
		uint16_t idx[256];

		for (int c = 0; c < 256; c++) {
			idx[c] = (uint16_t)(b.len - tt);
			ks_put(&b, tok[c], strlen(tok[c]) + 1);
		}
		ks_align(&b);
		for (int c = 0; c < 256; c++)
			ks_le(&b, idx[c], 2);
	}
	if (after) {
		KS_ADDRS();
		ks_align(&b);
		for (uint32_t i = 0; i < n; i++)
			ks_le(&b, i, 3);
	}
#undef KS_ADDRS
	ks_put(&b, "arch/x86/kernel/head64.c", 25); /* what follows in a real .rodata */
	free(names.p);
	free(marks);
	*len = b.len;
	return b.p;
}
#endif
