/* Kernel symbols and types without files. The kernel carries both: its compressed
 * kallsyms tables in .rodata and its BTF in .BTF, both mapped for good. We find the
 * image from the IDT (gate 0 is asm_exc_divide_error, in .text, below .rodata), read
 * forward in big pipelined reads until libhprobe finds the kallsyms tables, read the
 * BTF between the symbols __start_BTF and __stop_BTF, and ask the kernel's vmcoreinfo
 * for its KASLR offset so that the table holds link-time addresses like a System.map.
 * The result is cached under <state>/profiles/<build id>-<content hash>/ as kallsyms
 * text + raw BTF + profile.json. The cache is shared by every VM the agent watches,
 * and each guest writes what its own memory says: one guest could lie (its kallsyms,
 * its BTF) under a build id that another guest's kernel really has. So an entry is
 * a candidate only (banner and build id at its link addresses + slide), and it is
 * taken only when the new guest's own memory holds the same tables and the same BTF:
 * its kallsyms tables, read where the entry says they are and decoded, must give
 * the cached text byte for byte, and its .BTF must equal the cached BTF. That reads
 * a fraction of what recovery reads (the tables and the BTF, not the scan up to
 * them) and leaves nothing of the first guest's word unchecked. An entry is never
 * replaced: other content goes beside it, a few per build id at most.
 * Guest memory is untrusted: sizes are bounded and libhprobe checks the tables. */
#include "guest/recover.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "backend/backend.h"
#include "base/strbuf.h"
#include "base/util.h"

#define CEA_IDT 0xfffffe0000000000ull /* the IDT's fixed alias (as kernel.c) */
#define KERNEL_IMAGE_MIN 0xffffffff80000000ull
#define KASLR_ALIGN 0x200000ull      /* x86-64 KASLR moves the kernel in 2 MiB steps */
#define READ_STEP ((size_t)64 << 10) /* one read_virt: 64 pipelined 'm' packets */
#define SCAN_STEP ((size_t)1 << 20)
#define SCAN_MAX ((size_t)128 << 20) /* from the 2 MiB below the IDT handler */
#define BTF_MAX ((size_t)64 << 20)
#define PAGE 4096u
#define BANNER_MAX 512
#define BUILD_ID_MAX 64  /* bytes; hex is twice that */
#define PROFILE_FORMAT 2 /* 2: "tables"; entries are verified against the guest */
#define TABLES_MAX ((size_t)64 << 20)
#define MAX_VARIANTS 4 /* cache entries per build id (different content) */

struct ident {
	char banner[BANNER_MAX];
	char build_id[2 * BUILD_ID_MAX + 1];
	uint64_t divide_error, linux_banner, notes, notes_end; /* as stored in the table */
	uint64_t tables, tables_len;                           /* the kallsyms tables (link address) */
};

struct scan_stats {
	size_t bytes, bad_pages;
	double ms;
};

static double ms_since(uint64_t t0)
{
	return (double)(hp_now_ns() - t0) / 1e6;
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Reads [va, va+len) into buf; pages that do not read (holes in the image, freed init
 * memory) become zeros. Only a broken connection is an error. */
static int read_region(struct hp_backend *b, uint64_t va, unsigned char *buf, size_t len, struct scan_stats *st,
		       struct hp_err *err)
{
	uint64_t t0 = hp_now_ns();
	for (size_t off = 0; off < len; off += READ_STEP) {
		size_t n = len - off < READ_STEP ? len - off : READ_STEP;
		struct hp_err e = { { 0 } };
		int rc = hp_backend__read_virt(b, va + off, buf + off, n, &e);
		if (rc == -EFAULT) {
			for (size_t p = 0; p < n; p += PAGE) {
				size_t pn = n - p < PAGE ? n - p : PAGE;
				rc = hp_backend__read_virt(b, va + off + p, buf + off + p, pn, &e);
				if (rc == -EFAULT) {
					memset(buf + off + p, 0, pn);
					st->bad_pages++;
				} else if (rc) {
					break;
				}
			}
		}
		if (rc && rc != -EFAULT)
			return hp_err__set(err, -rc, "reading guest memory at 0x%llx: %s",
					   (unsigned long long)(va + off), e.msg);
		st->bytes += n;
	}
	st->ms += ms_since(t0);
	return 0;
}

/* Gate 0 of the IDT: the runtime address of asm_exc_divide_error. */
static int idt_handler(struct hp_backend *b, uint64_t *out, struct hp_err *err)
{
	unsigned char g[16];
	struct hp_err e = { { 0 } };
	int rc = hp_backend__read_virt(b, CEA_IDT, g, sizeof g, &e);
	for (int tries = 0; rc && tries < 20; tries++) {
		/* rarely unreadable right after boot (as kernel.c sees): let the guest run a moment */
		struct hp_bev ev;
		int got;
		if (hp_backend__resume(b, NULL) == 0) {
			usleep(50000);
			hp_backend__stop(b, &ev, &got, NULL);
		}
		rc = hp_backend__read_virt(b, CEA_IDT, g, sizeof g, &e);
	}
	if (rc)
		return hp_err__set(err, -rc, "cannot read the guest's IDT to find the kernel: %s", e.msg);
	*out = (uint64_t)(g[0] | g[1] << 8) | (uint64_t)(g[6] | g[7] << 8) << 16 | (uint64_t)le32(g + 8) << 32;
	if (*out < KERNEL_IMAGE_MIN)
		return hp_err__set(err, ESRCH, "IDT gate 0 points at 0x%llx, not into an x86-64 kernel image",
				   (unsigned long long)*out);
	return 0;
}

static void read_banner(struct hp_backend *b, uint64_t va, char *out)
{
	out[0] = 0;
	if (va && hp_backend__read_virt(b, va, out, BANNER_MAX - 1, NULL) == 0)
		out[BANNER_MAX - 1] = 0;
	else
		out[0] = 0;
	if (strncmp(out, "Linux version ", 14) != 0)
		out[0] = 0;
}

/* The GNU build id from the kernel's .notes (ELF notes: namesz, descsz, type, name, desc). */
static void read_build_id(struct hp_backend *b, uint64_t start, uint64_t end, char *out)
{
	unsigned char n[PAGE];
	size_t len = end > start && end - start <= sizeof n ? (size_t)(end - start) : 0, p = 0;
	out[0] = 0;
	if (!len || hp_backend__read_virt(b, start, n, len, NULL))
		return;
	while (p <= len && len - p >= 12) {
		uint32_t nsz = le32(n + p), dsz = le32(n + p + 4), type = le32(n + p + 8);
		size_t name = p + 12, desc = name + ((nsz + 3ull) & ~3ull);
		if (nsz > len || dsz > len || desc > len || dsz > len - desc)
			return;
		if (type == 3 && nsz == 4 && !memcmp(n + name, "GNU", 4) && dsz <= BUILD_ID_MAX) {
			for (uint32_t i = 0; i < dsz; i++)
				snprintf(out + 2 * i, 3, "%02x", n[desc + i]);
			return;
		}
		p = desc + ((dsz + 3ull) & ~3ull);
	}
}

static uint64_t sym_addr(const struct hp_symtab *st, const char *name)
{
	const struct hp_sym *s = hp_symtab__find(st, name);
	return s ? s->addr : 0;
}

static uint64_t link_addr(const struct hp_symtab *st, const char *name, uint64_t offset)
{
	uint64_t a = sym_addr(st, name);
	return a >= KERNEL_IMAGE_MIN ? a - offset : a;
}

/* KERNELOFFSET= from the kernel's vmcoreinfo note (x86-64 with CRASH_CORE): the
 * KASLR offset, so that runtime - offset gives System.map addresses. */
static int kernel_offset(struct hp_backend *b, const struct hp_symtab *rt, uint64_t *off)
{
	uint64_t pdata = sym_addr(rt, "vmcoreinfo_data"), psize = sym_addr(rt, "vmcoreinfo_size"), data, size;
	unsigned char v[8];
	char text[PAGE + 1];
	if (!pdata || !psize || hp_backend__read_virt(b, pdata, v, 8, NULL))
		return -ENOENT;
	data = le64(v);
	if (hp_backend__read_virt(b, psize, v, 8, NULL))
		return -ENOENT;
	size = le64(v) < PAGE ? le64(v) : PAGE;
	if (!data || !size || hp_backend__read_virt(b, data, text, (size_t)size, NULL))
		return -ENOENT;
	text[size] = 0;
	const char *k = strstr(text, "KERNELOFFSET=");
	if (!k || sscanf(k + 13, "%" SCNx64, off) != 1 || *off % KASLR_ALIGN)
		return -ENOENT;
	return 0;
}

static int ensure_dir(const char *path)
{
	return mkdir(path, 0700) && errno != EEXIST ? -errno : 0;
}

static void remove_profile_dir(const char *dir)
{
	static const char *const files[] = { "kallsyms", "btf", "profile.json" };
	char p[PATH_MAX];
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		if (!hp_pathf(p, sizeof p, "%s/%s", dir, files[i]))
			unlink(p);
	rmdir(dir);
}

static uint64_t json_addr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? strtoull(s, NULL, 16) : 0;
}

/* Whether the profile in dir describes the running kernel: its banner and build id
 * are at its link addresses + the slide the IDT handler gives. */
static int profile_matches(struct hp_backend *b, const char *dir, uint64_t handler, struct ident *id,
			   uint64_t *slide_out)
{
	char p[PATH_MAX], banner[BANNER_MAX], bid[sizeof id->build_id];
	if (hp_pathf(p, sizeof p, "%s/profile.json", dir))
		return 0;
	json_t *j = json_load_file(p, 0, NULL);
	if (!j)
		return 0;
	int ok = json_integer_value(json_object_get(j, "format")) == PROFILE_FORMAT;
	json_t *link = json_object_get(j, "link");
	const char *jb = json_string_value(json_object_get(j, "banner"));
	const char *jid = json_string_value(json_object_get(j, "build_id"));
	id->divide_error = json_addr(link, "asm_exc_divide_error");
	id->linux_banner = json_addr(link, "linux_banner");
	id->notes = json_addr(link, "__start_notes");
	id->notes_end = json_addr(link, "__stop_notes");
	json_t *tables = json_object_get(j, "tables");
	id->tables = json_addr(tables, "start");
	id->tables_len = (uint64_t)json_integer_value(json_object_get(tables, "len"));
	ok = ok && id->tables && id->tables_len && id->tables_len <= TABLES_MAX;
	uint64_t slide = handler - id->divide_error;
	*slide_out = slide;
	ok = ok && jb && jid && id->divide_error && id->linux_banner && slide % KASLR_ALIGN == 0;
	if (ok) {
		read_banner(b, id->linux_banner + slide, banner);
		ok = banner[0] && !strcmp(banner, jb);
	}
	if (ok && jid[0]) { /* same banner, same build? */
		read_build_id(b, id->notes + slide, id->notes_end + slide, bid);
		ok = !strcmp(bid, jid);
	}
	json_decref(j);
	return ok;
}

/* Who is recovering, and where its cache lives. */
struct ctx {
	struct hp_backend *b;
	const char *state_dir;
	const char *name;
};

static char *table_text(const struct hp_symtab *rt, uint64_t offset, size_t *len);

static uint64_t runtime(uint64_t link, uint64_t slide)
{
	return link >= KERNEL_IMAGE_MIN ? link + slide : link;
}

static unsigned char *read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && (size_t)n <= max && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc(n ? (size_t)n : 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
		*len = (size_t)n;
	} else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Whether [va, va + len) of the guest holds exactly want. */
static int guest_equals(struct hp_backend *b, uint64_t va, const unsigned char *want, size_t len)
{
	unsigned char *buf = malloc(len ? len : 1);
	struct scan_stats st = { 0 };
	int same = buf && read_region(b, va, buf, len, &st, NULL) == 0 && !st.bad_pages && !memcmp(buf, want, len);
	free(buf);
	return same;
}

/* Whether the entry in dir describes this guest's kernel as its own memory shows
 * it (see the top): its kallsyms tables decode to the cached text, and its .BTF is
 * the cached BTF. syms is the entry's table, loaded. */
static int profile_verified(const struct ctx *vm, const char *dir, const struct ident *id, uint64_t slide,
			    const struct hp_symtab *syms)
{
	char p[PATH_MAX];
	size_t tlen = 0, blen = 0;
	unsigned char *text = NULL, *btf = NULL, *tab = malloc((size_t)id->tables_len);
	struct hp_symtab *rt = NULL;
	struct scan_stats st = { 0 };
	char *mine = NULL;
	size_t mlen = 0;
	int ok = 0;
	if (!tab || hp_pathf(p, sizeof p, "%s/kallsyms", dir) || !(text = read_file(p, (size_t)256 << 20, &tlen)))
		goto out;
	uint64_t at = runtime(id->tables, slide);
	if (read_region(vm->b, at, tab, (size_t)id->tables_len, &st, NULL) || st.bad_pages ||
	    hp_kallsyms__recover(tab, (size_t)id->tables_len, at, &rt, NULL) ||
	    !(mine = table_text(rt, slide, &mlen)) || mlen != tlen || memcmp(mine, text, tlen))
		goto out;
	uint64_t bs = sym_addr(syms, "__start_BTF"), be = sym_addr(syms, "__stop_BTF");
	if (bs && be > bs && be - bs <= BTF_MAX) {
		if (hp_pathf(p, sizeof p, "%s/btf", dir) || !(btf = read_file(p, BTF_MAX, &blen)) || blen != be - bs ||
		    !guest_equals(vm->b, runtime(bs, slide), btf, blen))
			goto out;
	} else if (!hp_pathf(p, sizeof p, "%s/btf", dir) && access(p, F_OK) == 0) {
		goto out; /* a BTF this table does not locate */
	}
	ok = 1;
out:
	if (!ok)
		hp_info("%s: profile cache %s: not what this guest's memory holds", vm->name, dir);
	free(tab);
	free(text);
	free(btf);
	free(mine);
	hp_symtab__free(rt);
	return ok;
}

static int cache_lookup(const struct ctx *vm, uint64_t handler, struct hp_symtab **syms, struct hp_btf **btf,
			char *found, size_t cap)
{
	char dir[PATH_MAX], p[PATH_MAX];
	struct ident id;
	if (hp_pathf(dir, sizeof dir, "%s/profiles", vm->state_dir))
		return -ENOENT;
	DIR *d = opendir(dir);
	if (!d)
		return -ENOENT;
	int rc = -ENOENT;
	for (struct dirent *e; rc && (e = readdir(d));) {
		struct hp_err err = { { 0 } };
		uint64_t slide = 0;
		if (e->d_name[0] == '.' || hp_pathf(found, cap, "%s/%s", dir, e->d_name) ||
		    !profile_matches(vm->b, found, handler, &id, &slide))
			continue;
		if (hp_pathf(p, sizeof p, "%s/kallsyms", found) || hp_symtab__load_text(p, syms, &err)) {
			hp_warn("profile cache %s: %s", found, err.msg);
			continue;
		}
		if (!profile_verified(vm, found, &id, slide, *syms)) {
			hp_symtab__free(*syms);
			*syms = NULL;
			continue;
		}
		if (!*btf && !hp_pathf(p, sizeof p, "%s/btf", found) && access(p, R_OK) == 0 &&
		    hp_btf__load_file(p, btf, &err))
			hp_warn("profile cache %s: %s", found, err.msg);
		rc = 0;
	}
	closedir(d);
	return rc;
}

#define FNV_SEED 1469598103934665603ull

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* Entries named key-<hash> (the different contents cached for one build id). */
static int count_variants(const char *state_dir, const char *key)
{
	char dir[PATH_MAX];
	size_t kl = strlen(key);
	int n = 0;
	if (hp_pathf(dir, sizeof dir, "%s/profiles", state_dir))
		return 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	for (struct dirent *e; (e = readdir(d));)
		n += !strncmp(e->d_name, key, kl) && e->d_name[kl] == '-';
	closedir(d);
	return n;
}

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -errno;
	size_t n = fwrite(data, 1, len, f);
	int rc = fclose(f);
	return n == len && rc == 0 ? 0 : -EIO;
}

/* Stores the profile under profiles/<build id or banner hash>/ (written aside, then
 * renamed, so a reader never sees half a profile). */
static void cache_store(const struct ctx *vm, const struct ident *id, const char *text, size_t text_len,
			const unsigned char *btf_raw, size_t btf_len, json_t *extra)
{
	char prof[PATH_MAX], tmp[PATH_MAX] = "", final[PATH_MAX], p[PATH_MAX], key[2 * BUILD_ID_MAX + 8],
			     name[2 * BUILD_ID_MAX + 32];
	if (id->build_id[0]) {
		snprintf(key, sizeof key, "%s", id->build_id);
	} else {
		uint64_t h = fnv1a(FNV_SEED, id->banner, strlen(id->banner));
		snprintf(key, sizeof key, "banner-%016llx", (unsigned long long)h);
	}
	/* named by content too: a guest whose memory says otherwise under the same build
	 * id gets an entry of its own, and replaces none */
	uint64_t h = fnv1a(FNV_SEED, id->banner, strlen(id->banner));
	h = fnv1a(h, text, text_len);
	h = fnv1a(h, btf_raw, btf_len);
	snprintf(name, sizeof name, "%s-%016llx", key, (unsigned long long)h);
	if (count_variants(vm->state_dir, key) >= MAX_VARIANTS) {
		hp_warn("%s: %d kernel profiles with different content claim build %s already: not caching another "
			"(a guest may be forging its kernel's tables)",
			vm->name, MAX_VARIANTS, key);
		return;
	}
	if (hp_pathf(prof, sizeof prof, "%s/profiles", vm->state_dir) ||
	    hp_pathf(tmp, sizeof tmp, "%s/.tmp-%s-XXXXXX", prof, name) ||
	    hp_pathf(final, sizeof final, "%s/%s", prof, name) || ensure_dir(vm->state_dir) || ensure_dir(prof))
		goto fail;
	if (!mkdtemp(tmp)) {
		tmp[0] = 0;
		goto fail;
	}
	char link[4][24];
	const uint64_t addrs[4] = { id->divide_error, id->linux_banner, id->notes, id->notes_end };
	for (int i = 0; i < 4; i++)
		snprintf(link[i], sizeof link[i], "0x%llx", (unsigned long long)addrs[i]);
	char tables[24];
	snprintf(tables, sizeof tables, "0x%llx", (unsigned long long)id->tables);
	json_t *j = json_pack("{s:i, s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:{s:s, s:I}}", "format", PROFILE_FORMAT,
			      "banner", id->banner, "build_id", id->build_id, "link", "asm_exc_divide_error", link[0],
			      "linux_banner", link[1], "__start_notes", link[2], "__stop_notes", link[3], "tables",
			      "start", tables, "len", (json_int_t)id->tables_len);
	if (!j)
		goto fail;
	json_object_update(j, extra);
	int rc = hp_pathf(p, sizeof p, "%s/profile.json", tmp) || json_dump_file(j, p, JSON_INDENT(2));
	json_decref(j);
	if (rc || hp_pathf(p, sizeof p, "%s/kallsyms", tmp) || write_file(p, text, text_len))
		goto fail;
	if (btf_len && (hp_pathf(p, sizeof p, "%s/btf", tmp) || write_file(p, btf_raw, btf_len)))
		goto fail;
	if (rename(tmp, final) == 0) {
		hp_info("%s: kernel profile cached in %s", vm->name, final);
		return;
	}
	if (errno == EEXIST || errno == ENOTEMPTY) { /* the same content is there: keep it */
		hp_info("%s: kernel profile already cached in %s", vm->name, final);
		remove_profile_dir(tmp);
		return;
	}
fail:
	hp_warn("%s: could not cache the kernel profile in %s/profiles: %s", vm->name, vm->state_dir, strerror(errno));
	if (tmp[0])
		remove_profile_dir(tmp);
}

/* The recovered table as kallsyms text, image addresses moved back by the KASLR
 * offset: byte for byte the /proc/kallsyms of a nokaslr boot when offset is right. */
static char *table_text(const struct hp_symtab *rt, uint64_t offset, size_t *len)
{
	struct hp_strbuf sb = { 0 };
	hp_strbuf__reserve(&sb, hp_symtab__count(rt) * 48);
	for (size_t i = 0; i < hp_symtab__count(rt); i++) {
		const struct hp_sym *s = hp_symtab__at(rt, i);
		uint64_t a = s->addr >= KERNEL_IMAGE_MIN ? s->addr - offset : s->addr;
		hp_strbuf__printf(&sb, "%016llx %c %s\n", (unsigned long long)a, s->type, s->name);
	}
	if (sb.oom) {
		hp_strbuf__free(&sb);
		return NULL;
	}
	return hp_strbuf__take(&sb, len);
}

/* Reads forward from the 2 MiB boundary below the IDT handler until the kallsyms
 * tables are in the buffer. */
static int scan_for_tables(struct hp_backend *b, uint64_t handler, unsigned char **out, size_t *got, uint64_t *start,
			   struct hp_kallsyms_info *info, struct scan_stats *st, struct hp_err *err)
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
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0;
	int seen = 0, rc = -ENOENT;
	*start = handler & ~(KASLR_ALIGN - 1);
	while (n < SCAN_MAX) {
		if (n + SCAN_STEP > cap) {
			size_t nc = cap ? cap * 2 : (size_t)16 << 20;
			unsigned char *nb = realloc(buf, nc);
			if (!nb) {
				rc = hp_err__set(err, ENOMEM, "out of memory");
				break;
			}
			buf = nb;
			cap = nc;
		}
		if ((rc = read_region(b, *start + n, buf + n, SCAN_STEP, st, err)))
			break;
		/* the token table's digits run (overlapping the previous step) */
		size_t from = n >= sizeof digits ? n - sizeof digits : 0;
		seen = seen || memmem(buf + from, n + SCAN_STEP - from, digits, sizeof digits);
		n += SCAN_STEP;
		rc = -ENOENT;
		if (seen && (rc = hp_kallsyms__locate(buf, n, *start, info, err)) == 0)
			break;
		if (rc != -ENOENT)
			break;
	}
	if (rc) {
		free(buf);
		if (rc == -ENOENT)
			return hp_err__set(err, ENOENT,
					   "no kallsyms tables in the %zu MiB of guest memory after 0x%llx "
					   "(a kernel built without CONFIG_KALLSYMS?): pass --symbols",
					   n >> 20, (unsigned long long)*start);
		return rc;
	}
	*out = buf;
	*got = n;
	return 0;
}

static const char *layout_name(enum hp_kallsyms_layout l)
{
	return l == HP_KALLSYMS_REL_BEFORE  ? "relative, <=6.3"
	       : l == HP_KALLSYMS_REL_AFTER ? "relative, >=6.4"
					    : "absolute";
}

static int from_memory(const struct ctx *vm, uint64_t handler, struct hp_symtab **syms, struct hp_btf **btf,
		       struct hp_err *err)
{
	struct hp_backend *b = vm->b;
	struct hp_kallsyms_info info;
	struct scan_stats st = { 0 };
	struct hp_symtab *rt = NULL;
	struct hp_btf *mem = NULL; /* recovered even when --vmlinux gave one: the cache wants it */
	unsigned char *img = NULL, *braw = NULL, *bown = NULL;
	size_t got = 0, blen = 0, tlen = 0;
	uint64_t start, t0 = hp_now_ns(), t1, bva = 0, off = 0;
	struct ident id = { .banner = "" };
	char *text = NULL;
	int rc = scan_for_tables(b, handler, &img, &got, &start, &info, &st, err);
	if (rc)
		return rc;
	t1 = hp_now_ns();
	rc = hp_kallsyms__recover(img, got, start, &rt, err);
	double decode_ms = ms_since(t1);
	if (rc)
		goto out;
	/* BTF: exactly the .BTF section, from the image already read when it is in it */
	uint64_t bs = sym_addr(rt, "__start_BTF"), be = sym_addr(rt, "__stop_BTF");
	t1 = hp_now_ns();
	struct hp_err berr = { { 0 } };
	if (bs && be > bs && be - bs <= BTF_MAX) {
		blen = (size_t)(be - bs);
		if (bs >= start && be <= start + got) {
			braw = img + (bs - start);
		} else if ((braw = bown = malloc(blen)) && read_region(b, bs, braw, blen, &st, &berr) == 0) {
			/* read */
		} else {
			hp_warn("%s: the kernel's BTF at 0x%llx is unreadable: %s", vm->name, (unsigned long long)bs,
				bown ? berr.msg : "out of memory");
			blen = 0;
		}
	}
	if (blen && hp_btf__recover(braw, blen, bs, &bva, &mem, &berr)) {
		hp_warn("%s: no usable BTF in the kernel's .BTF: %s", vm->name, berr.msg);
		blen = 0;
	} else if (!blen && !hp_btf__recover(img, got, start, &bva, &mem, &berr)) {
		hp_info("%s: BTF found at 0x%llx without __start_BTF (not cached)", vm->name, (unsigned long long)bva);
	}
	double btf_ms = ms_since(t1);
	/* identity and link-time addresses */
	int have_off = kernel_offset(b, rt, &off) == 0;
	if (!have_off)
		off = 0;
	read_banner(b, sym_addr(rt, "linux_banner"), id.banner);
	read_build_id(b, sym_addr(rt, "__start_notes"), sym_addr(rt, "__stop_notes"), id.build_id);
	id.divide_error = link_addr(rt, "asm_exc_divide_error", off);
	id.linux_banner = link_addr(rt, "linux_banner", off);
	id.notes = link_addr(rt, "__start_notes", off);
	id.notes_end = link_addr(rt, "__stop_notes", off);
	id.tables = info.start >= KERNEL_IMAGE_MIN ? info.start - off : info.start;
	id.tables_len = info.end > info.start ? info.end - info.start : 0;
	text = table_text(rt, off, &tlen);
	if (!text || (rc = hp_symtab__parse_text(text, tlen, syms, NULL, err))) {
		rc = text ? rc : hp_err__set(err, ENOMEM, "out of memory");
		goto out;
	}
	hp_info("%s: kernel profile recovered from guest memory in %.0f ms: %u symbols (kallsyms tables at "
		"0x%llx, %s%s), BTF %s (%zu KiB at 0x%llx); read %.1f MiB in %.0f ms (%zu unreadable pages), "
		"kallsyms decoded in %.0f ms, BTF read and parsed in %.0f ms; KASLR offset 0x%llx%s; build id %s",
		vm->name, ms_since(t0), info.num_syms, (unsigned long long)info.token_table, layout_name(info.layout),
		info.seqs_of_names ? ", seqs_of_names" : "", mem ? "loaded" : "missing", blen >> 10,
		(unsigned long long)bva, (double)st.bytes / (1 << 20), st.ms, st.bad_pages, decode_ms, btf_ms,
		(unsigned long long)off, have_off ? " (vmcoreinfo)" : " (unknown: runtime addresses)",
		id.build_id[0] ? id.build_id : "-");
	if (id.banner[0] && id.divide_error && id.tables_len && id.tables_len <= TABLES_MAX) {
		json_t *extra = json_pack("{s:b, s:i, s:I, s:f, s:I}", "kernel_offset_known", have_off, "num_syms",
					  (int)info.num_syms, "btf_bytes", (json_int_t)(mem ? blen : 0), "recovery_ms",
					  ms_since(t0), "read_bytes", (json_int_t)st.bytes);
		cache_store(vm, &id, text, tlen, braw, mem ? blen : 0, extra);
		json_decref(extra);
	}
	if (!*btf) {
		*btf = mem;
		mem = NULL;
	}
out:
	hp_btf__free(mem);
	free(bown);
	free(text);
	free(img);
	hp_symtab__free(rt);
	return rc;
}

int hp_recover__profile(struct hp_backend *b, const char *state_dir, const char *name, struct hp_symtab **syms,
			struct hp_btf **btf, char *source, size_t cap, struct hp_err *err)
{
	const struct ctx c = { b, state_dir, name }, *vm = &c;
	uint64_t handler = 0, t0 = hp_now_ns();
	char found[PATH_MAX];
	*syms = NULL; /* *btf may hold the BTF of --vmlinux already: it is kept */
	if (!vm->b)
		return hp_err__set(err, ENOTCONN, "no gdbstub to read the guest's memory through");
	int rc = idt_handler(vm->b, &handler, err);
	if (rc)
		return rc;
	if (cache_lookup(vm, handler, syms, btf, found, sizeof found) == 0) {
		hp_info("%s: kernel profile from the cache %s in %.0f ms (%zu symbols, BTF %s)", vm->name, found,
			ms_since(t0), hp_symtab__count(*syms), *btf ? "loaded" : "missing");
		if (source)
			snprintf(source, cap, "cache");
		return 0;
	}
	rc = from_memory(vm, handler, syms, btf, err);
	if (!rc && source)
		snprintf(source, cap, "guest memory");
	return rc;
}
