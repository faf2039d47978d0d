/* Kernel types through libbpf's BTF parser. libbpf validates the type and string
 * sections; what it does not check (cycles through anonymous members, absurd
 * nesting) is bounded here. libbpf's log goes wherever the process sent it
 * (libbpf_set_print); the library leaves that global alone. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "hprobe/btf.h"

#define BTF_RAW_MAX ((size_t)512 << 20)
#define PATH_PART_MAX 128
#define NEST_MAX 32

struct hp_btf {
	struct btf *btf;
};

int hp_btf__load_file(const char *path, struct hp_btf **out, struct hp_err *err)
{
	struct hp_btf *h;
	struct btf *b;

	if (!path || !out)
		return hp_err__set(err, EINVAL, "btf: no path");
	*out = NULL;
	errno = 0;
	b = btf__parse(path, NULL); /* ELF .BTF section or raw blob, by magic */
	if (!b) {
		int e = errno ? errno : EINVAL;

		return hp_err__set(err, e, "btf: cannot load %s: %s", path, strerror(e));
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		btf__free(b);
		return hp_err__set(err, ENOMEM, "btf: out of memory");
	}
	h->btf = b;
	*out = h;
	return 0;
}

int hp_btf__load_raw(const void *data, size_t len, struct hp_btf **out, struct hp_err *err)
{
	struct hp_btf *h;
	struct btf *b;

	if (!data || !out)
		return hp_err__set(err, EINVAL, "btf: no data");
	*out = NULL;
	if (len > BTF_RAW_MAX)
		return hp_err__set(err, EFBIG, "btf: %zu bytes is too large", len);
	errno = 0;
	b = btf__new(data, (__u32)len); /* copies data */
	if (!b) {
		int e = errno ? errno : EINVAL;

		return hp_err__set(err, e, "btf: invalid raw BTF (%zu bytes): %s", len, strerror(e));
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		btf__free(b);
		return hp_err__set(err, ENOMEM, "btf: out of memory");
	}
	h->btf = b;
	*out = h;
	return 0;
}

/* Blobs remembered while scanning an image (the largest), each one offered to libbpf. */
#define RECOVER_KEEP 8
#define BTF_HDR_MIN 24 /* struct btf_header */

static uint32_t rd32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Length of the blob whose header is at p (little-endian, as x86 kernels write it), or
 * 0 when the header is not one libbpf could accept. */
static size_t blob_len(const uint8_t *p, size_t avail)
{
	uint32_t hdr_len, type_off, type_len, str_off, str_len;
	uint64_t total;

	if (avail < BTF_HDR_MIN || p[0] != 0x9f || p[1] != 0xeb || p[2] != 1)
		return 0;
	hdr_len = rd32(p + 4);
	type_off = rd32(p + 8);
	type_len = rd32(p + 12);
	str_off = rd32(p + 16);
	str_len = rd32(p + 20);
	if (hdr_len < BTF_HDR_MIN || hdr_len > 256 || hdr_len % 4 || type_off % 4 || type_len % 4 ||
	    (uint64_t)type_off + type_len > str_off || str_len == 0)
		return 0;
	total = (uint64_t)hdr_len + str_off + str_len;
	if (total > avail || total > BTF_RAW_MAX)
		return 0;
	if (p[hdr_len + str_off] != 0 || p[total - 1] != 0) /* strings start with "" and end with NUL */
		return 0;
	return (size_t)total;
}

int hp_btf__recover(const void *image, size_t len, uint64_t image_vaddr, uint64_t *btf_vaddr, struct hp_btf **out,
		    struct hp_err *err)
{
	struct {
		size_t off, len;
	} keep[RECOVER_KEEP];
	const uint8_t *img = image, *p;
	size_t nkeep = 0, from = 0;
	int rc = -ENOENT;

	if ((!image && len) || !out)
		return hp_err__set(err, EINVAL, "btf: no image or output");
	*out = NULL;
	while (from < len && (p = memchr(img + from, 0x9f, len - from))) {
		size_t off = (size_t)(p - img), bl = blob_len(p, len - off), i;

		from = off + 1;
		if (!bl)
			continue;
		for (i = nkeep; i > 0 && keep[i - 1].len < bl; i--) /* keep[] by size, descending */
			if (i < RECOVER_KEEP)
				keep[i] = keep[i - 1];
		if (i < RECOVER_KEEP) {
			keep[i].off = off;
			keep[i].len = bl;
			if (nkeep < RECOVER_KEEP)
				nkeep++;
		}
	}
	for (size_t i = 0; i < nkeep; i++) {
		rc = hp_btf__load_raw(img + keep[i].off, keep[i].len, out, err);
		if (rc == 0) {
			if (btf_vaddr)
				*btf_vaddr = image_vaddr + keep[i].off;
			return 0;
		}
		if (rc == -ENOMEM)
			return rc;
	}
	if (nkeep)
		return rc; /* err holds why libbpf refused the last candidate */
	return hp_err__set(err, ENOENT, "btf: no BTF blob in %zu bytes at 0x%llx", len,
			   (unsigned long long)image_vaddr);
}

void hp_btf__free(struct hp_btf *btf)
{
	if (!btf)
		return;
	btf__free(btf->btf);
	free(btf);
}

uint32_t hp_btf__type_count(const struct hp_btf *btf)
{
	return btf ? btf__type_cnt(btf->btf) : 0;
}

/* Skips typedefs and qualifiers; returns the id or <0. */
static int resolve(const struct btf *b, __u32 id)
{
	int r = btf__resolve_type(b, id);

	return r < 0 ? -EINVAL : r;
}

static int find_composite(const struct btf *b, const char *name)
{
	static const int kinds[] = { BTF_KIND_STRUCT, BTF_KIND_UNION, BTF_KIND_TYPEDEF };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		int id = btf__find_by_name_kind(b, name, kinds[i]);

		if (id > 0)
			return id;
	}
	return -ENOENT;
}

/* Looks for member `name` in the struct/union `id`, descending into anonymous
 * members. On success sets *bits (offset from the start of id) and *mtype, and
 * *bitfield when the member is one. Anonymous members that share (or, in a hostile
 * blob, cycle through) types would make the search exponential: `seen` marks the
 * types searched already, so each is searched once per path component. */
static int find_member(const struct btf *b, int id, const char *name, int depth, unsigned char *seen, uint64_t *bits,
		       __u32 *mtype, int *bitfield)
{
	const struct btf_type *t = btf__type_by_id(b, (__u32)id);
	const struct btf_member *m;
	__u16 n;

	if (!t || depth > NEST_MAX || !(btf_is_struct(t) || btf_is_union(t)))
		return -ENOENT;
	if (seen[id / 8] & (1u << (id % 8)))
		return -ENOENT; /* searched already: the name is not under it */
	seen[id / 8] |= (unsigned char)(1u << (id % 8));
	m = btf_members(t);
	n = btf_vlen(t);
	for (__u16 i = 0; i < n; i++) {
		const char *mn = btf__name_by_offset(b, m[i].name_off);
		uint64_t off = btf_member_bit_offset(t, i);

		if (mn && *mn) {
			if (strcmp(mn, name) == 0) {
				*bits = off;
				*mtype = m[i].type;
				*bitfield = btf_member_bitfield_size(t, i) != 0 || off % 8 != 0;
				return 0;
			}
		} else {
			uint64_t sub;
			int inner = resolve(b, m[i].type);

			if (inner > 0 && find_member(b, inner, name, depth + 1, seen, &sub, mtype, bitfield) == 0) {
				*bits = off + sub;
				return 0;
			}
		}
	}
	return -ENOENT;
}

/* Member `name` of the struct/union `id`, through anonymous members: its bit offset
 * and type. */
static int member_of(const struct btf *b, int id, const char *name, uint64_t *bits, __u32 *mtype, int *bitfield)
{
	size_t seen_len = (btf__type_cnt(b) + 7) / 8;
	unsigned char *seen = calloc(1, seen_len);
	int rc;

	if (!seen)
		return -ENOMEM;
	rc = find_member(b, id, name, 0, seen, bits, mtype, bitfield);
	free(seen);
	return rc;
}

/* The next part of a member path at *p: its name (a C identifier of fewer than
 * PATH_PART_MAX bytes) into part; advances *p past it. */
static int path_part(const char **p, char part[PATH_PART_MAX])
{
	size_t n = strspn(*p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

	if (n == 0 || n >= PATH_PART_MAX || (**p >= '0' && **p <= '9'))
		return -EINVAL;
	memcpy(part, *p, n);
	part[n] = '\0';
	*p += n;
	return 0;
}

/* The composite type a member of type mtype is (resolved through typedefs and
 * qualifiers), or <0. */
static int composite_of(const struct btf *b, __u32 mtype)
{
	int id = resolve(b, mtype);
	const struct btf_type *t = id > 0 ? btf__type_by_id(b, (__u32)id) : NULL;

	return t && btf_is_composite(t) ? id : -EINVAL;
}

/* The struct a pointer of type mtype points at, or <0. */
static int pointee_of(const struct btf *b, __u32 mtype)
{
	int id = resolve(b, mtype);
	const struct btf_type *t = id > 0 ? btf__type_by_id(b, (__u32)id) : NULL;

	return t && btf_is_ptr(t) ? composite_of(b, t->type) : -EINVAL;
}

int hp_btf__member(const struct hp_btf *btf, const char *type_name, const char *path, uint32_t *offset, uint32_t *size,
		   struct hp_err *err)
{
	const struct btf *b;
	const char *p;
	uint64_t total = 0;
	__u32 mtype = 0;
	int id, bitfield = 0;
	long long sz;

	if (!btf || !type_name || !path || !*path || path[strlen(path) - 1] == '.')
		return hp_err__set(err, EINVAL, "btf: no type or bad member path");
	b = btf->btf;
	id = find_composite(b, type_name);
	if (id < 0)
		return hp_err__set(err, ENOENT, "btf: no struct/union %s", type_name);
	for (p = path; *p;) {
		char part[PATH_PART_MAX];
		size_t n = strcspn(p, ".");
		uint64_t bits = 0; /* set by find_member when it succeeds (gcc -O3 cannot tell) */
		int rc;

		if (n == 0 || n >= sizeof(part))
			return hp_err__set(err, EINVAL, "btf: bad member path %s", path);
		memcpy(part, p, n);
		part[n] = '\0';
		p += n + (p[n] == '.');
		id = resolve(b, (__u32)id);
		if (id <= 0)
			rc = hp_err__set(err, EINVAL, "btf: %s: cannot resolve the type before %s", path, part);
		else if (bitfield)
			rc = hp_err__set(err, EINVAL, "btf: %s: a bitfield has no members", path);
		else if (!btf__type_by_id(b, (__u32)id) || !btf_is_composite(btf__type_by_id(b, (__u32)id)))
			rc = hp_err__set(err, EINVAL,
					 "btf: %s: %s is not inside a struct/union (a pointer must be read first)",
					 path, part);
		else if ((rc = member_of(b, id, part, &bits, &mtype, &bitfield)) == -ENOMEM)
			rc = hp_err__set(err, ENOMEM, "btf: out of memory");
		else if (rc < 0)
			rc = hp_err__set(err, ENOENT, "btf: %s has no member %s (path %s)", type_name, part, path);
		if (rc < 0)
			return rc;
		total += bits;
		id = (int)mtype;
	}
	if (bitfield)
		return hp_err__set(err, EINVAL, "btf: %s.%s is a bitfield", type_name, path);
	sz = btf__resolve_size(b, mtype);
	if (sz < 0 || total / 8 > UINT32_MAX || (unsigned long long)sz > UINT32_MAX)
		return hp_err__set(err, EINVAL, "btf: %s.%s has no usable size", type_name, path);
	if (offset)
		*offset = (uint32_t)(total / 8);
	if (size)
		*size = (uint32_t)sz;
	return 0;
}

/* The struct a pointer's C type text names ("const struct file *" -> file), or <0. */
static int pointer_ctype(const struct btf *b, const char *ctype, char *name, size_t cap)
{
	const char *p = ctype;
	size_t n;

	for (;;) {
		if (!strncmp(p, "const ", 6))
			p += 6;
		else if (!strncmp(p, "volatile ", 9))
			p += 9;
		else if (!strncmp(p, "struct ", 7))
			p += 7;
		else if (!strncmp(p, "union ", 6))
			p += 6;
		else
			break;
	}
	n = strcspn(p, " *");
	if (n == 0 || n >= cap)
		return -EINVAL;
	memcpy(name, p, n);
	name[n] = '\0';
	p += n;
	p += strspn(p, " ");
	if (!strncmp(p, "__user ", 7)) /* syscall metadata's spelling of a user pointer */
		p += 7;
	if (strcmp(p, "*") && strcmp(p, "* const"))
		return -EINVAL; /* not one level of pointer */
	return find_composite(b, name);
}

int hp_btf__fetch_path(const struct hp_btf *btf, const char *ctype, const char *path, struct hp_btf_fetch *out,
		       struct hp_err *err)
{
	char sname[PATH_PART_MAX], part[PATH_PART_MAX];
	const char *p = path;
	int64_t sums[1 + HP_BTF_FETCH_LOADS] = { 0 }; /* off, then each load_off */
	__u32 mtype = 0;
	int id, first = 1;
	long long sz;

	memset(out, 0, sizeof(*out));
	if (!btf || !ctype || !path || strlen(path) > 128)
		return hp_err__set(err, EINVAL, "btf: no type or bad member path");
	if (strncmp(path, "->", 2))
		return hp_err__set(err, EINVAL, "btf: a member path starts with ->: %s", path);
	id = pointer_ctype(btf->btf, ctype, sname, sizeof(sname));
	if (id > 0)
		id = composite_of(btf->btf, (__u32)id); /* through a typedef */
	if (id < 0)
		return hp_err__set(err, EINVAL, "btf: %s is not a pointer to a struct or union this kernel's BTF has",
				   ctype);
	while (*p) {
		int arrow = !strncmp(p, "->", 2), bitfield = 0, rc;
		uint64_t bits = 0; /* set by member_of when it succeeds */

		if (!arrow && *p != '.')
			return hp_err__set(err, EINVAL, "btf: %s: expected -> or . at '%s'", path, p);
		p += arrow ? 2 : 1;
		if (path_part(&p, part))
			return hp_err__set(err, EINVAL, "btf: %s: expected a member name at '%s'", path, p);
		if (!first) {
			id = arrow ? pointee_of(btf->btf, mtype) : composite_of(btf->btf, mtype);
			if (id < 0)
				return hp_err__set(err, EINVAL, "btf: %s: the member before %s is not %s", path, part,
						   arrow ? "a pointer to a struct or union (use .)"
							 : "a struct or union (a pointer: use ->)");
			if (arrow) {
				if (out->nloads == HP_BTF_FETCH_LOADS)
					return hp_err__set(err, E2BIG, "btf: %s: more than %d pointers to follow", path,
							   HP_BTF_FETCH_LOADS + 1);
				out->nloads++;
			}
		}
		first = 0;
		rc = member_of(btf->btf, id, part, &bits, &mtype, &bitfield);
		if (rc == -ENOMEM)
			return hp_err__set(err, ENOMEM, "btf: out of memory");
		if (rc < 0) {
			const struct btf_type *t = btf__type_by_id(btf->btf, (__u32)id);
			const char *tn = t ? btf__name_by_offset(btf->btf, t->name_off) : NULL;

			return hp_err__set(err, ENOENT, "btf: %s: %s has no member %s", path,
					   tn && *tn ? tn : "the anonymous struct", part);
		}
		if (bitfield)
			return hp_err__set(err, EINVAL, "btf: %s: %s is a bitfield", path, part);
		sums[out->nloads] += (int64_t)(bits / 8);
		if (sums[out->nloads] > INT32_MAX)
			return hp_err__set(err, EINVAL, "btf: %s: offset out of range", path);
	}
	out->off = sums[0];
	for (uint32_t i = 0; i < out->nloads; i++)
		out->load_off[i] = (int32_t)sums[i + 1];
	sz = btf__resolve_size(btf->btf, mtype);
	if (sz <= 0 || sz > UINT32_MAX)
		return hp_err__set(err, EINVAL, "btf: %s: the last member has no size", path);
	out->size = (uint32_t)sz;
	id = resolve(btf->btf, mtype);
	out->ptr = id > 0 && btf__type_by_id(btf->btf, (__u32)id) && btf_is_ptr(btf__type_by_id(btf->btf, (__u32)id));
	return 0;
}

int hp_btf__type_size(const struct hp_btf *btf, const char *type_name, uint32_t *size, struct hp_err *err)
{
	static const int kinds[] = { BTF_KIND_STRUCT, BTF_KIND_UNION, BTF_KIND_TYPEDEF,
				     BTF_KIND_INT,    BTF_KIND_ENUM,  BTF_KIND_ENUM64 };
	long long sz;
	int id = -1;

	if (!btf || !type_name)
		return hp_err__set(err, EINVAL, "btf: no type name");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && id <= 0; i++)
		id = btf__find_by_name_kind(btf->btf, type_name, kinds[i]);
	if (id <= 0)
		return hp_err__set(err, ENOENT, "btf: no type %s", type_name);
	sz = btf__resolve_size(btf->btf, (__u32)id);
	if (sz < 0 || (unsigned long long)sz > UINT32_MAX)
		return hp_err__set(err, EINVAL, "btf: %s has no usable size", type_name);
	if (size)
		*size = (uint32_t)sz;
	return 0;
}

/* The name of what id is, through modifiers and typedefs: "task_struct" for a struct,
 * "task_struct *" for a pointer to one, "" when it has none. */
static void type_name_of(const struct btf *b, __u32 id, char *out, size_t cap)
{
	const struct btf_type *t;
	int ptr = 0;

	out[0] = '\0';
	for (int depth = 0; depth < NEST_MAX; depth++) {
		t = btf__type_by_id(b, id);
		if (!t)
			return;
		if (btf_is_ptr(t) && !ptr) {
			ptr = 1;
			id = t->type;
			continue;
		}
		if (btf_is_mod(t) || btf_is_typedef(t)) {
			id = t->type;
			continue;
		}
		snprintf(out, cap, "%s%s",
			 btf__name_by_offset(b, t->name_off) ? btf__name_by_offset(b, t->name_off) : "",
			 ptr ? " *" : "");
		return;
	}
}

int hp_btf__var(const struct hp_btf *btf, const char *section, const char *name, uint32_t *offset, uint32_t *size,
		char *type_name, size_t cap, struct hp_err *err)
{
	const struct btf *b;
	__u32 n;

	if (!btf || !section || !name)
		return hp_err__set(err, EINVAL, "btf: no section or variable name");
	b = btf->btf;
	n = btf__type_cnt(b);
	for (__u32 id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(b, id);
		const struct btf_var_secinfo *v;
		const char *sn;

		if (!t || !btf_is_datasec(t))
			continue;
		sn = btf__name_by_offset(b, t->name_off);
		if (!sn || strcmp(sn, section) != 0)
			continue;
		v = btf_var_secinfos(t);
		for (__u16 i = 0; i < btf_vlen(t); i++) {
			const struct btf_type *var = btf__type_by_id(b, v[i].type);
			const char *vn = var ? btf__name_by_offset(b, var->name_off) : NULL;

			if (!var || !btf_is_var(var) || !vn || strcmp(vn, name) != 0)
				continue;
			if (offset)
				*offset = v[i].offset;
			if (size)
				*size = v[i].size;
			if (type_name && cap)
				type_name_of(b, var->type, type_name, cap);
			return 0;
		}
	}
	return hp_err__set(err, ENOENT, "btf: no variable %s in %s", name, section);
}

/* A type as declared ("const char *", "size_t", "struct file *"): the first named
 * type through pointers and qualifiers, typedef names kept. */
static void decl_name(const struct btf *b, __u32 id, char *out, size_t cap)
{
	static const char stars[] = "****";
	int nptr = 0, cnst = 0;

	snprintf(out, cap, "?");
	for (int depth = 0; depth < NEST_MAX; depth++) {
		const struct btf_type *t = id ? btf__type_by_id(b, id) : NULL;
		const char *kw = "", *name;

		if (id && !t)
			return;
		if (t && btf_is_ptr(t)) {
			nptr++;
			cnst = 0; /* a const pointer is not a pointer to const */
			id = t->type;
			continue;
		}
		if (t && btf_is_mod(t)) {
			cnst |= btf_is_const(t);
			id = t->type;
			continue;
		}
		if (t && (btf_is_struct(t) || btf_is_union(t) || btf_is_any_enum(t)))
			kw = btf_is_struct(t) ? "struct " : btf_is_union(t) ? "union " : "enum ";
		name = !t ? "void" : btf__name_by_offset(b, t->name_off);
		if (!name || !*name)
			name = t && btf_is_func_proto(t) ? "function" : "(anon)";
		snprintf(out, cap, "%s%s%s%s%.*s", cnst ? "const " : "", kw, name, nptr ? " " : "", nptr < 4 ? nptr : 4,
			 stars);
		return;
	}
}

/* How a value of type id reads from a register (hprobe/param.h). */
static void classify(const struct btf *b, __u32 id, struct hp_param *p)
{
	int ptr = 0;

	p->cls = HP_PARAM_RAW;
	p->size = 8;
	for (int depth = 0; depth < NEST_MAX; depth++) {
		const struct btf_type *t = id ? btf__type_by_id(b, id) : NULL;

		if (!t) {
			if (ptr)
				p->cls = HP_PARAM_PTR; /* void * */
			return;
		}
		if (btf_is_mod(t) || btf_is_typedef(t)) {
			id = t->type;
			continue;
		}
		if (btf_is_ptr(t) && !ptr) {
			ptr = 1;
			id = t->type;
			continue;
		}
		if (ptr) { /* char * (one level) is a string */
			const char *n = btf__name_by_offset(b, t->name_off);

			p->cls = btf_is_int(t) && t->size == 1 && n && strstr(n, "char") ? HP_PARAM_STR : HP_PARAM_PTR;
		} else if (btf_is_int(t) && t->size >= 1 && t->size <= 8) {
			p->cls = btf_int_encoding(t) & BTF_INT_SIGNED ? HP_PARAM_INT : HP_PARAM_UINT;
			p->size = t->size;
		} else if (btf_is_any_enum(t) && t->size >= 1 && t->size <= 8) {
			p->cls = btf_kflag(t) ? HP_PARAM_INT : HP_PARAM_UINT; /* kflag: a signed enum */
			p->size = t->size;
		}
		return;
	}
}

/* The prototype of the kernel function func. */
static int func_proto(const struct hp_btf *btf, const char *func, const struct btf_type **proto, struct hp_err *err)
{
	const struct btf_type *f;
	int id;

	if (!btf || !func)
		return hp_err__set(err, EINVAL, "btf: no function name");
	id = btf__find_by_name_kind(btf->btf, func, BTF_KIND_FUNC);
	if (id <= 0)
		return hp_err__set(err, ENOENT, "btf: no function %s", func);
	f = btf__type_by_id(btf->btf, (__u32)id);
	*proto = f ? btf__type_by_id(btf->btf, f->type) : NULL;
	if (!*proto || !btf_is_func_proto(*proto))
		return hp_err__set(err, EINVAL, "btf: %s has no prototype", func);
	return 0;
}

int hp_btf__func_proto(const struct hp_btf *btf, const char *func, struct hp_param *params, int max, struct hp_err *err)
{
	const struct btf_type *proto = NULL; /* set when func_proto returns 0 */
	const struct btf_param *p;
	int n;

	if (max > 0 && !params)
		return hp_err__set(err, EINVAL, "btf: nowhere to put parameters");
	if ((n = func_proto(btf, func, &proto, err)))
		return n;
	p = btf_params(proto);
	n = btf_vlen(proto);
	if (n > 0 && p[n - 1].type == 0 && p[n - 1].name_off == 0)
		n--; /* the variadic marker "..." is not a parameter */
	for (int i = 0; i < n && i < max; i++) {
		const char *pn = btf__name_by_offset(btf->btf, p[i].name_off);

		memset(&params[i], 0, sizeof(params[i]));
		if (pn && *pn && !hp_param__valid_name(pn))
			return hp_err__set(err, EBADMSG, "btf: parameter %d of %s has no valid name", i + 1, func);
		snprintf(params[i].name, sizeof(params[i].name), "%s", pn && *pn ? pn : "");
		if (!params[i].name[0]) /* an unnamed parameter */
			snprintf(params[i].name, sizeof(params[i].name), "arg%d", i + 1);
		decl_name(btf->btf, p[i].type, params[i].type, sizeof(params[i].type));
		classify(btf->btf, p[i].type, &params[i]);
	}
	return n;
}

int hp_btf__func_ret(const struct hp_btf *btf, const char *func, struct hp_param *ret, struct hp_err *err)
{
	const struct btf_type *proto = NULL; /* set when func_proto returns 0 */
	int rc = func_proto(btf, func, &proto, err);

	if (rc)
		return rc;
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->name, sizeof(ret->name), "return");
	decl_name(btf->btf, proto->type, ret->type, sizeof(ret->type));
	classify(btf->btf, proto->type, ret);
	return 0;
}

void hp_btf__ctype_param(const struct hp_btf *btf, const char *ctype, struct hp_param *p)
{
	int id;

	hp_param__from_ctype(p, ctype);
	if (p->cls != HP_PARAM_RAW || !btf)
		return;
	/* a typedef such as size_t or pid_t: its width and sign are in the BTF */
	id = btf__find_by_name_kind(btf->btf, strncmp(p->type, "const ", 6) ? p->type : p->type + 6, BTF_KIND_TYPEDEF);
	if (id > 0)
		classify(btf->btf, (__u32)id, p);
}
