/* Kernel symbols from the kernel's own compressed kallsyms tables (written by the
 * kernel's scripts/kallsyms.c, read by kernel/kallsyms.c), found the way
 * vmlinux-to-elf does: the token table by its content (the single-character tokens
 * "0".."9" sit at their own byte codes), the token index right after it, then back
 * to the markers, the names and kallsyms_num_syms, then the addresses. The image is
 * untrusted guest memory: every read is bounds-checked and nothing is believed until
 * the whole set agrees (the index with the tokens, the markers with the names, the
 * addresses sorted). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "symtab_int.h"

#define KS_MIN_SYMS 10000
#define KS_MAX_SYMS 2000000
#define KS_TOKEN_MAX 255       /* longest token believed */
#define KS_WORK_MAX (1u << 26) /* candidates tried + name entries walked, in all */
#define KS_TT_TRIES 256        /* token-table lookalikes examined */

struct ks {
	const uint8_t *img;
	size_t len;
	uint64_t vaddr;
	uint32_t min_syms;
	size_t work;
	uint32_t *marks; /* markers expected from the names walk */
	/* the token table [tt, tt_end) and its index at ti */
	size_t tt, tt_end, ti;
	uint16_t tidx[256];
	/* num_syms at nsyms_at, names [names, names_end), markers [markers, markers_end) */
	size_t nsyms_at, names, names_end, markers, markers_end;
	uint32_t n;
	int seqs;
	/* addresses */
	enum hp_kallsyms_layout layout;
	size_t addrs, addrs_end;
	int abs_percpu;
	uint64_t rb;
	uint64_t *addr; /* decoded, n entries */
};

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* off rounded up so that vaddr + off is a multiple of a (the tables are .balign'ed
 * in the kernel's address space, not in our buffer); SIZE_MAX past the image. */
static size_t align_up(const struct ks *k, size_t off, unsigned a)
{
	uint64_t mis = (k->vaddr + off) & (a - 1);
	size_t pad = mis ? a - (size_t)mis : 0;

	return off > k->len || pad > k->len - off ? SIZE_MAX : off + pad;
}

static int is_tok_char(uint8_t c)
{
	return c > 0x20 && c < 0x7f;
}

/* The token table whose "0" token starts at d: walk forward to the end of token 255,
 * read the index after it, and check that the index describes exactly these tokens. */
static int token_table_at(struct ks *k, size_t d)
{
	size_t pos = d, ti, tt;

	for (int i = '0'; i < 256; i++) { /* tokens '0'..255, forward */
		size_t start = pos;

		while (pos < k->len && k->img[pos] && pos - start <= KS_TOKEN_MAX) {
			if (!is_tok_char(k->img[pos]))
				return -1;
			pos++;
		}
		if (pos >= k->len || k->img[pos] || pos - start > KS_TOKEN_MAX)
			return -1;
		pos++;
	}
	for (unsigned a = 8; a >= 4; a /= 2) { /* .balign 8 on 64-bit kernels, 4 on 32-bit */
		ti = align_up(k, pos, a);
		if (ti == SIZE_MAX || k->len - ti < 512)
			continue;
		for (int i = 0; i < 256; i++)
			k->tidx[i] = (uint16_t)(k->img[ti + 2 * i] | k->img[ti + 2 * i + 1] << 8);
		if (k->tidx[0] != 0 || k->tidx['0'] > d)
			continue;
		tt = d - k->tidx['0'];
		/* every token starts where the index says, right after the previous one */
		size_t p = tt;
		int ok = 1;
		for (int i = 0; i < 256 && ok; i++) {
			if (p - tt != k->tidx[i]) {
				ok = 0;
				break;
			}
			while (p < pos && k->img[p] && is_tok_char(k->img[p]))
				p++;
			ok = p < pos && k->img[p] == 0;
			p++;
		}
		if (!ok || p != pos)
			continue;
		k->tt = tt;
		k->tt_end = pos;
		k->ti = ti;
		return 0;
	}
	return -1;
}

/* Walks n name entries from names without passing limit; records the markers (the
 * offset of every 256th entry). 6.1+ writes lengths over 127 on two bytes. */
static int walk_names(struct ks *k, size_t names, uint32_t n, size_t limit, size_t *end)
{
	size_t pos = names;

	for (uint32_t i = 0; i < n; i++) {
		size_t len;

		if (++k->work > KS_WORK_MAX)
			return -E2BIG;
		if (pos >= limit || pos - names > UINT32_MAX)
			return -ENOENT;
		if ((i & 255) == 0)
			k->marks[i >> 8] = (uint32_t)(pos - names);
		len = k->img[pos++];
		if (len & 0x80) {
			if (pos >= limit)
				return -ENOENT;
			len = (len & 0x7f) | (size_t)k->img[pos++] << 7;
		}
		if (len == 0 || len > limit - pos)
			return -ENOENT;
		pos += len;
	}
	*end = pos;
	return 0;
}

static int markers_match(struct ks *k, size_t at, uint32_t n, unsigned size)
{
	size_t nm = ((size_t)n + 255) / 256;

	if (at == SIZE_MAX || nm > (k->len - at) / size)
		return 0;
	for (size_t i = 0; i < nm; i++) {
		uint64_t m = size == 4 ? le32(k->img + at + 4 * i) : le64(k->img + at + 8 * i);

		if (m != k->marks[i])
			return 0;
	}
	k->markers = at;
	k->markers_end = at + nm * size;
	return 1;
}

/* Does kallsyms_num_syms at p, with the names after it, lead to this token table? */
static int names_at(struct ks *k, size_t p)
{
	uint32_t n = le32(k->img + p);
	/* the names after 4 bytes of padding (.balign 8), or right after the count (7.x) */
	size_t names = le32(k->img + p + 4) == 0 ? p + 8 : p + 4, end, after;
	int rc;

	if (n < k->min_syms || n > KS_MAX_SYMS)
		return 0;
	if (names > k->tt || (k->tt - names) / 2 < n) /* an entry takes 2 bytes at least */
		return 0;
	rc = walk_names(k, names, n, k->tt, &end);
	if (rc)
		return rc == -E2BIG ? rc : 0;
	if (!markers_match(k, align_up(k, end, 8), n, 4) && !markers_match(k, align_up(k, end, 8), n, 8) &&
	    !markers_match(k, align_up(k, end, 4), n, 4))
		return 0;
	after = align_up(k, k->markers_end, 8);
	if (after == SIZE_MAX || after > k->tt)
		return 0;
	if (after == k->tt) {
		k->seqs = 0;
	} else if (k->tt - after >= 3ull * n && align_up(k, after + 3ull * n, 8) == k->tt) {
		k->seqs = 1; /* kallsyms_seqs_of_names: 6.2, and backported to Debian's 6.1 */
	} else {
		return 0;
	}
	k->nsyms_at = p;
	k->names = names;
	k->names_end = end;
	k->n = n;
	return 1;
}

static int find_names(struct ks *k)
{
	size_t p = align_up(k, k->tt >= 8 ? k->tt - 8 : 0, 8);

	if (p == SIZE_MAX || k->tt < 8)
		return 0;
	if (p > k->tt - 8) { /* rounded up past the token table: one slot lower */
		if (p < 8)
			return 0;
		p -= 8;
	}
	for (;; p -= 8) {
		int rc;

		if (++k->work > KS_WORK_MAX) /* many lookalike token tables in a hostile image */
			return -E2BIG;
		rc = names_at(k, p);
		if (rc)
			return rc;
		if (p < 8)
			return 0;
	}
}

static int sorted_nontrivial(const uint64_t *a, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++)
		if (a[i] < a[i - 1])
			return 0;
	return n > 1 && a[n - 1] > a[0];
}

/* kallsyms_offsets at offs and kallsyms_relative_base at rb_at. With
 * KALLSYMS_ABSOLUTE_PERCPU (x86-64) non-negative offsets are absolute values and
 * negative ones count down from relative_base - 1; else all are unsigned offsets. */
static int try_relative(struct ks *k, size_t offs, size_t rb_at)
{
	int neg = 0;

	if (offs == SIZE_MAX || rb_at == SIZE_MAX || offs > k->len || k->n > (k->len - offs) / 4 || rb_at > k->len ||
	    k->len - rb_at < 8)
		return 0;
	k->rb = le64(k->img + rb_at);
	for (uint32_t i = 0; i < k->n && !neg; i++)
		neg = (int32_t)le32(k->img + offs + 4 * i) < 0;
	for (uint32_t i = 0; i < k->n; i++) {
		int32_t o = (int32_t)le32(k->img + offs + 4 * i);

		if (!neg)
			k->addr[i] = k->rb + (uint32_t)o;
		else
			k->addr[i] = o >= 0 ? (uint64_t)o : k->rb - 1 + (uint64_t)(-(int64_t)o);
	}
	if (!sorted_nontrivial(k->addr, k->n))
		return 0;
	k->abs_percpu = neg;
	k->addrs = offs;
	k->addrs_end = rb_at + 8;
	return 1;
}

/* kallsyms_offsets at offs holding place-relative values (the kernel's offset_to_ptr):
 * address i = the address of entry i + its signed 32-bit value. */
static int try_place_relative(struct ks *k, size_t offs)
{
	uint64_t at = k->vaddr + offs;

	for (uint32_t i = 0; i < k->n; i++, at += 4)
		k->addr[i] = at + (uint64_t)(int64_t)(int32_t)le32(k->img + offs + 4 * i);
	if (!sorted_nontrivial(k->addr, k->n))
		return 0;
	k->layout = HP_KALLSYMS_PLACE_REL;
	k->rb = 0;
	k->abs_percpu = 0;
	k->addrs = offs;
	k->addrs_end = offs + 4ull * k->n;
	return 1;
}

static int find_addresses(struct ks *k)
{
	size_t need = 4ull * k->n, rb_at, offs;

	/* <= 6.3: offsets, relative_base, then num_syms (each .balign 8) */
	if (k->nsyms_at >= 8 + need) {
		rb_at = k->nsyms_at - 8;
		offs = rb_at - need;
		if ((k->vaddr + offs) & 7) /* an odd count: 4 bytes of padding */
			offs = offs >= 4 ? offs - 4 : SIZE_MAX;
		k->layout = HP_KALLSYMS_REL_BEFORE;
		if (try_relative(k, offs, rb_at))
			return 1;
	}
	/* >= 6.4: after the token index */
	offs = align_up(k, k->ti + 512, 8);
	k->layout = HP_KALLSYMS_REL_AFTER;
	if (offs != SIZE_MAX && offs <= k->len && need <= k->len - offs &&
	    try_relative(k, offs, align_up(k, offs + need, 8)))
		return 1;
	/* 7.x: no relative_base, each offset counts from its own entry's address */
	if (offs != SIZE_MAX && offs <= k->len && need <= k->len - offs && try_place_relative(k, offs))
		return 1;
	/* no KALLSYMS_BASE_RELATIVE: kallsyms_addresses right before num_syms */
	if (k->nsyms_at >= 8ull * k->n) {
		k->addrs = k->nsyms_at - 8ull * k->n;
		for (uint32_t i = 0; i < k->n; i++)
			k->addr[i] = le64(k->img + k->addrs + 8ull * i);
		k->layout = HP_KALLSYMS_ABSOLUTE;
		k->rb = 0;
		k->abs_percpu = 0;
		k->addrs_end = k->nsyms_at;
		if (sorted_nontrivial(k->addr, k->n))
			return 1;
	}
	return 0;
}

/* Expands the entry at *pos into buf ("Tname"); returns its length or -1. */
static long expand(const struct ks *k, size_t *pos, char *buf, size_t cap)
{
	size_t p = *pos, len, o = 0;

	len = k->img[p++];
	if (len & 0x80)
		len = (len & 0x7f) | (size_t)k->img[p++] << 7;
	for (size_t i = 0; i < len; i++) {
		const uint8_t *t = k->img + k->tt + k->tidx[k->img[p + i]];

		while (*t) { /* every token ends inside the table (checked) */
			if (o + 1 >= cap)
				return -1;
			buf[o++] = (char)*t++;
		}
	}
	*pos = p + len;
	buf[o] = '\0';
	return (long)o;
}

static int is_type_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int build(struct ks *k, struct hp_symtab **out, struct hp_err *err)
{
	char buf[HPI_SYM_NAME_MAX + 2];
	size_t pos = k->names, total = 0;
	struct hp_symtab *st;
	char *strings, *w;
	int rc;

	for (uint32_t i = 0; i < k->n; i++) { /* sizes and validity first */
		long l = expand(k, &pos, buf, sizeof(buf));

		if (l < 2 || !is_type_letter(buf[0]))
			return hp_err__set(err, EINVAL, "kallsyms: symbol %u does not decode to a type and a name", i);
		total += (size_t)l; /* the type letter's byte holds the NUL */
	}
	strings = malloc(total ? total : 1);
	st = strings ? hpi_symtab_new(strings) : NULL;
	if (!st) {
		free(strings);
		return hp_err__set(err, ENOMEM, "kallsyms: out of memory");
	}
	pos = k->names;
	w = strings;
	for (uint32_t i = 0; i < k->n; i++) {
		long l = expand(k, &pos, buf, sizeof(buf));
		struct hp_sym s = { .addr = k->addr[i], .type = buf[0], .name = w };

		if (l < 2 || (size_t)(w - strings) + (size_t)l > total) { /* the image did not change */
			hp_symtab__free(st);
			return hp_err__set(err, EINVAL, "kallsyms: symbol %u decoded differently twice", i);
		}
		memcpy(w, buf + 1, (size_t)l); /* name and its NUL */
		w += l;
		if ((rc = hpi_symtab_push(st, &s)) < 0) {
			hp_symtab__free(st);
			return hp_err__set(err, -rc, "kallsyms: out of memory");
		}
	}
	if ((rc = hpi_symtab_finish(st, 0)) < 0) {
		hp_symtab__free(st);
		return hp_err__set(err, -rc, "kallsyms: out of memory");
	}
	hpi_symtab_text_sizes(st);
	*out = st;
	return 0;
}

static void fill_info(const struct ks *k, struct hp_kallsyms_info *info)
{
	size_t start = k->addrs < k->nsyms_at ? k->addrs : k->nsyms_at;
	size_t end = k->addrs_end > k->ti + 512 ? k->addrs_end : k->ti + 512;

	memset(info, 0, sizeof(*info));
	info->num_syms = k->n;
	info->layout = k->layout;
	info->abs_percpu = k->abs_percpu;
	info->seqs_of_names = k->seqs;
	info->relative_base = k->rb;
	info->token_table = k->vaddr + k->tt;
	info->names = k->vaddr + k->names;
	info->addresses = k->vaddr + k->addrs;
	info->start = k->vaddr + start;
	info->end = k->vaddr + end;
}

int hpi_kallsyms_recover(const void *image, size_t len, uint64_t image_vaddr, uint32_t min_syms, struct hp_symtab **out,
			 struct hp_kallsyms_info *info, struct hp_err *err)
{
	static const char digits[] = "0\0"
				     "1\0"
				     "2\0"
				     "3\0"
				     "4\0"
				     "5\0"
				     "6\0"
				     "7\0"
				     "8\0"
				     "9";
	struct ks k = { .img = image, .len = len, .vaddr = image_vaddr, .min_syms = min_syms ? min_syms : 1 };
	const uint8_t *hit;
	size_t from = 0;
	int rc = 0, found = 0;

	if (out)
		*out = NULL;
	if (!image && len)
		return hp_err__set(err, EINVAL, "kallsyms: no image");
	k.marks = malloc((KS_MAX_SYMS / 256 + 1) * sizeof(*k.marks));
	if (!k.marks)
		return hp_err__set(err, ENOMEM, "kallsyms: out of memory");
	for (int tries = 0; tries < KS_TT_TRIES && !found && from < len; tries++) {
		hit = memmem(k.img + from, len - from, digits, sizeof(digits));
		if (!hit)
			break;
		from = (size_t)(hit - k.img) + 1;
		if (token_table_at(&k, (size_t)(hit - k.img)))
			continue;
		rc = find_names(&k);
		if (rc < 0)
			break;
		found = rc == 1;
	}
	if (rc == -E2BIG) {
		free(k.marks);
		return hp_err__set(err, E2BIG, "kallsyms: gave up on a table set that does not add up");
	}
	if (!found) {
		free(k.marks);
		return hp_err__set(err, ENOENT, "kallsyms: no kallsyms tables in %zu bytes at 0x%llx", len,
				   (unsigned long long)image_vaddr);
	}
	k.addr = malloc((size_t)k.n * sizeof(*k.addr));
	if (!k.addr) {
		free(k.marks);
		return hp_err__set(err, ENOMEM, "kallsyms: out of memory");
	}
	if (!find_addresses(&k))
		rc = hp_err__set(err, ENOENT, "kallsyms: %u names at 0x%llx but no sorted address table", k.n,
				 (unsigned long long)(image_vaddr + k.names));
	else if (out)
		rc = build(&k, out, err);
	else
		rc = 0;
	if (!rc && info)
		fill_info(&k, info);
	free(k.addr);
	free(k.marks);
	return rc;
}

int hp_kallsyms__locate(const void *image, size_t len, uint64_t image_vaddr, struct hp_kallsyms_info *info,
			struct hp_err *err)
{
	return hpi_kallsyms_recover(image, len, image_vaddr, KS_MIN_SYMS, NULL, info, err);
}

int hp_kallsyms__recover(const void *image, size_t len, uint64_t image_vaddr, struct hp_symtab **out,
			 struct hp_err *err)
{
	if (!out)
		return hp_err__set(err, EINVAL, "kallsyms: no output");
	return hpi_kallsyms_recover(image, len, image_vaddr, KS_MIN_SYMS, out, NULL, err);
}
