/* ELF symbols (.symtab + .dynsym) and the facts application probes need, via libelf.
 * The file is untrusted: every index and size is checked before use. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symtab_int.h"

#define ELF_MEM_MAX ((size_t)1 << 31)

struct strbuf {
	char *p;
	size_t len, cap;
};

static int strbuf_add(struct strbuf *b, const char *s, size_t n, size_t *off)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->p[b->len + n] = '\0';
	*off = b->len;
	b->len += n + 1;
	return 0;
}

static int name_ok(const char *s, size_t *len)
{
	size_t n = 0;

	for (; s[n]; n++)
		if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f || n >= HPI_SYM_NAME_MAX)
			return 0;
	*len = n;
	return n > 0;
}

/* nm's letter from binding, symbol type and the flags of the symbol's section. */
static char sym_letter(const GElf_Sym *s, const GElf_Xword *shflags, const uint32_t *shtype, size_t shnum)
{
	int bind = GELF_ST_BIND(s->st_info), type = GELF_ST_TYPE(s->st_info);
	char c;

	if (bind == STB_WEAK)
		return type == STT_OBJECT ? 'V' : 'W';
	if (s->st_shndx == SHN_ABS)
		c = 'a';
	else if (type == STT_FUNC || type == STT_GNU_IFUNC)
		c = 't';
	else if (s->st_shndx < shnum && s->st_shndx != SHN_UNDEF && s->st_shndx < SHN_LORESERVE) {
		GElf_Xword f = shflags[s->st_shndx];

		if (f & SHF_EXECINSTR)
			c = 't';
		else if ((f & SHF_ALLOC) && (f & SHF_WRITE))
			c = shtype[s->st_shndx] == SHT_NOBITS ? 'b' : 'd';
		else if (f & SHF_ALLOC)
			c = 'r';
		else
			c = 'n';
	} else {
		c = type == STT_OBJECT ? 'd' : 't';
	}
	return bind == STB_LOCAL ? c : (char)(c - 'a' + 'A');
}

static void hex_id(const unsigned char *d, size_t n, char out[41])
{
	static const char hx[] = "0123456789abcdef";

	if (n > 20)
		n = 20;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static void note_build_id(Elf_Data *d, struct hp_elf_info *info)
{
	GElf_Nhdr nh;
	size_t off = 0, next, name_off, desc_off;

	if (!d || !d->d_buf)
		return;
	while (off < d->d_size && (next = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && nh.n_descsz > 0 && name_off + 4 <= d->d_size &&
		    desc_off + nh.n_descsz <= d->d_size && memcmp((const char *)d->d_buf + name_off, "GNU", 4) == 0) {
			hex_id((const unsigned char *)d->d_buf + desc_off, nh.n_descsz, info->build_id);
			return;
		}
		if (next <= off)
			return;
		off = next;
	}
}

static void scan_dynamic(Elf_Data *d, size_t entsize, int *soname, int *pie_flag)
{
	GElf_Dyn dyn;

	if (!d || !entsize)
		return;
	for (size_t i = 0; i < d->d_size / entsize && gelf_getdyn(d, (int)i, &dyn); i++) {
		if (dyn.d_tag == DT_NULL)
			break;
		if (dyn.d_tag == DT_SONAME)
			*soname = 1;
		if (dyn.d_tag == DT_FLAGS_1 && (dyn.d_un.d_val & DF_1_PIE))
			*pie_flag = 1;
		if (i > (1u << 20))
			break;
	}
}

static int collect_syms(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, const GElf_Xword *shflags, const uint32_t *shtype,
			size_t shnum, struct hp_symtab *st, struct strbuf *names, size_t **noff, size_t *noff_cap)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t count, symsz = gelf_fsize(e, ELF_T_SYM, 1, EV_CURRENT);

	if (!d || !d->d_buf || !symsz || !sh->sh_entsize || sh->sh_link >= shnum)
		return 0;
	count = d->d_size / symsz;
	for (size_t i = 1; i < count; i++) {
		GElf_Sym s;
		struct hp_sym sym = { 0 };
		const char *name;
		size_t len, off;
		int type;

		if (!gelf_getsym(d, (int)i, &s))
			break;
		type = GELF_ST_TYPE(s.st_info);
		if (s.st_shndx == SHN_UNDEF || s.st_shndx == SHN_COMMON ||
		    (type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE && type != STT_GNU_IFUNC))
			continue;
		name = elf_strptr(e, sh->sh_link, s.st_name);
		if (!name || !name_ok(name, &len))
			continue;
		if (strbuf_add(names, name, len, &off) < 0)
			return -ENOMEM;
		sym.addr = s.st_value;
		sym.size = s.st_size;
		sym.type = sym_letter(&s, shflags, shtype, shnum);
		if (st->n == *noff_cap) {
			size_t cap = *noff_cap ? *noff_cap * 2 : 1024;
			size_t *p = realloc(*noff, cap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			*noff = p;
			*noff_cap = cap;
		}
		(*noff)[st->n] = off;
		if (hpi_symtab_push(st, &sym) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Fills info, and the table when st is non-NULL. */
static int read_elf(Elf *e, struct hp_elf_info *info, struct hp_symtab *st, struct hp_err *err)
{
	GElf_Ehdr eh;
	size_t phnum = 0, shnum = 0, noff_cap = 0, *noff = NULL;
	GElf_Xword *shflags = NULL;
	uint32_t *shtype = NULL;
	struct strbuf names = { 0 };
	int interp = 0, soname = 0, pie_flag = 0, have_load = 0, have_x = 0, rc = 0;
	Elf_Scn *scn = NULL;

	memset(info, 0, sizeof(*info));
	if (elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh))
		return hp_err__set(err, ENOEXEC, "elf: not an ELF file");
	info->is_elf = 1;
	info->entry = eh.e_entry;
	if (elf_getphdrnum(e, &phnum) < 0)
		phnum = 0;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)i, &ph))
			break;
		if (ph.p_type == PT_INTERP)
			interp = 1;
		if (ph.p_type != PT_LOAD)
			continue;
		if (!have_load || ph.p_vaddr < info->first_load_vaddr)
			info->first_load_vaddr = ph.p_vaddr;
		if ((ph.p_flags & PF_X) && (!have_x || ph.p_vaddr < info->text_vaddr))
			info->text_vaddr = ph.p_vaddr;
		have_load = 1;
		have_x |= !!(ph.p_flags & PF_X);
	}
	if (elf_getshdrnum(e, &shnum) < 0)
		shnum = 0;
	if (shnum) {
		shflags = calloc(shnum, sizeof(*shflags));
		shtype = calloc(shnum, sizeof(*shtype));
		if (!shflags || !shtype) {
			rc = hp_err__set(err, ENOMEM, "elf: out of memory");
			goto out;
		}
	}
	for (size_t i = 0; (scn = elf_nextscn(e, scn)) != NULL; i++) {
		GElf_Shdr sh;
		size_t idx = elf_ndxscn(scn);

		if (!gelf_getshdr(scn, &sh) || idx >= shnum)
			continue;
		shflags[idx] = sh.sh_flags;
		shtype[idx] = sh.sh_type;
		if (sh.sh_type == SHT_NOTE && !info->build_id[0])
			note_build_id(elf_getdata(scn, NULL), info);
		else if (sh.sh_type == SHT_DYNAMIC)
			scan_dynamic(elf_getdata(scn, NULL), gelf_fsize(e, ELF_T_DYN, 1, EV_CURRENT), &soname,
				     &pie_flag);
	}
	if (!info->build_id[0]) { /* section-less files: the notes are in PT_NOTE */
		for (size_t i = 0; i < phnum; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_NOTE && ph.p_filesz < (1u << 20))
				note_build_id(elf_getdata_rawchunk(e, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_NHDR),
					      info);
		}
	}
	info->is_static = !interp;
	info->is_shared_lib = eh.e_type == ET_DYN && soname;
	info->is_pie = eh.e_type == ET_DYN && (pie_flag || eh.e_entry != 0);
	if (!st)
		goto out;

	for (int pass = 0; pass < 2; pass++) { /* .symtab first: its entries are richer */
		while ((scn = elf_nextscn(e, scn)) != NULL) {
			GElf_Shdr sh;

			if (!gelf_getshdr(scn, &sh) || sh.sh_type != (pass ? SHT_DYNSYM : SHT_SYMTAB))
				continue;
			rc = collect_syms(e, scn, &sh, shflags, shtype, shnum, st, &names, &noff, &noff_cap);
			if (rc < 0) {
				rc = hp_err__set(err, -rc, "elf: out of memory");
				goto out;
			}
		}
	}
	if (st->n == 0) {
		rc = hp_err__set(err, ENODATA, "elf: no symbols (stripped)");
		goto out;
	}
	for (size_t i = 0; i < st->n; i++)
		st->syms[i].name = names.p + noff[i];
	st->strings = names.p;
	names.p = NULL;
	if ((rc = hpi_symtab_finish(st, 1)) < 0)
		rc = hp_err__set(err, -rc, "elf: out of memory");
	st->has_elf = 1;
	st->elf = *info;
out:
	free(names.p);
	free(noff);
	free(shflags);
	free(shtype);
	return rc;
}

static int elf_from(Elf *e, struct hp_symtab **out, struct hp_err *err)
{
	struct hp_elf_info info;
	struct hp_symtab *st = hpi_symtab_new(NULL);
	int rc;

	if (!st)
		return hp_err__set(err, ENOMEM, "elf: out of memory");
	rc = read_elf(e, &info, st, err);
	if (rc < 0) {
		hp_symtab__free(st);
		return rc;
	}
	*out = st;
	return 0;
}

/* An ELF handle on an open file: read with pread at the offsets it names (the fd's
 * own offset is neither used nor moved). */
static int begin_elf(int fd, const char *name, Elf **e, struct hp_err *err)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return hp_err__set(err, ENOSYS, "elf: libelf version mismatch");
	/* ELF_C_READ, not mmap: a file truncated under us must not SIGBUS the agent. */
	*e = elf_begin(fd, ELF_C_READ, NULL);
	if (!*e)
		return hp_err__set(err, ENOEXEC, "elf: %s: %s", name, elf_errmsg(-1));
	return 0;
}

static int open_elf(const char *path, int *fd, Elf **e, struct hp_err *err)
{
	int rc;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return hp_err__set(err, ENOSYS, "elf: libelf version mismatch");
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return hp_err__set(err, errno, "elf: cannot open %s: %s", path, strerror(errno));
	if ((rc = begin_elf(*fd, path, e, err)) < 0)
		close(*fd);
	return rc;
}

int hp_symtab__load_elf(const char *path, struct hp_symtab **out, struct hp_err *err)
{
	Elf *e;
	int fd, rc;

	if (!path || !out)
		return hp_err__set(err, EINVAL, "elf: no path");
	*out = NULL;
	if ((rc = open_elf(path, &fd, &e, err)) < 0)
		return rc;
	rc = elf_from(e, out, err);
	elf_end(e);
	close(fd);
	return rc;
}

int hp_symtab__load_elf_fd(int fd, const char *name, struct hp_symtab **out, struct hp_err *err)
{
	Elf *e;
	int rc;

	if (fd < 0 || !out)
		return hp_err__set(err, EINVAL, "elf: no file");
	*out = NULL;
	if ((rc = begin_elf(fd, name ? name : "(fd)", &e, err)) < 0)
		return rc;
	rc = elf_from(e, out, err);
	elf_end(e);
	return rc;
}

int hp_symtab__parse_elf(const void *buf, size_t len, struct hp_symtab **out, struct hp_err *err)
{
	char *copy;
	Elf *e;
	int rc;

	if (!out || !buf)
		return hp_err__set(err, EINVAL, "elf: no input");
	*out = NULL;
	if (len > ELF_MEM_MAX)
		return hp_err__set(err, EFBIG, "elf: image too large");
	if (elf_version(EV_CURRENT) == EV_NONE)
		return hp_err__set(err, ENOSYS, "elf: libelf version mismatch");
	/* libelf may write into the image it is given; the caller's buffer is const. */
	copy = malloc(len ? len : 1);
	if (!copy)
		return hp_err__set(err, ENOMEM, "elf: out of memory");
	memcpy(copy, buf, len);
	e = elf_memory(copy, len);
	if (!e) {
		free(copy);
		return hp_err__set(err, ENOEXEC, "elf: %s", elf_errmsg(-1));
	}
	rc = elf_from(e, out, err);
	elf_end(e);
	free(copy);
	return rc;
}

int hp_elf__read_info(const char *path, struct hp_elf_info *info, struct hp_err *err)
{
	Elf *e;
	int fd, rc;

	if (!path || !info)
		return hp_err__set(err, EINVAL, "elf: no path");
	memset(info, 0, sizeof(*info));
	if ((rc = open_elf(path, &fd, &e, err)) < 0)
		return rc;
	rc = read_elf(e, info, NULL, err);
	elf_end(e);
	close(fd);
	return rc;
}

const struct hp_elf_info *hp_symtab__elf_info(const struct hp_symtab *st)
{
	return st && st->has_elf ? &st->elf : NULL;
}

#define READ_VADDR_MAX ((size_t)64 << 20)

static long read_vaddr(int fd, Elf *e, const char *path, uint64_t vaddr, void *buf, size_t len, struct hp_err *err)
{
	size_t phnum = 0, done = 0;
	struct stat sb;
	int rc;

	if (len > READ_VADDR_MAX)
		len = READ_VADDR_MAX;
	if (elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &phnum) < 0 || fstat(fd, &sb) < 0) {
		rc = hp_err__set(err, ENOEXEC, "elf: %s has no program headers", path);
		goto out;
	}
	while (done < len) {
		uint64_t cur = vaddr + done, in, n, fn;
		GElf_Phdr ph;
		size_t i;

		if (cur < vaddr)
			break; /* wrapped around the address space */
		for (i = 0; i < phnum; i++)
			if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD && cur >= ph.p_vaddr &&
			    cur - ph.p_vaddr < ph.p_memsz)
				break;
		if (i == phnum)
			break;
		in = cur - ph.p_vaddr;
		n = ph.p_memsz - in < len - done ? ph.p_memsz - in : len - done;
		fn = in < ph.p_filesz ? (ph.p_filesz - in < n ? ph.p_filesz - in : n) : 0;
		if (fn && (ph.p_offset + in < ph.p_offset || ph.p_offset + in + fn > (uint64_t)sb.st_size)) {
			rc = hp_err__set(err, EIO, "elf: %s: segment beyond the end of the file", path);
			goto out;
		}
		for (uint64_t got = 0; got < fn;) {
			ssize_t r = pread(fd, (char *)buf + done + got, fn - got, (off_t)(ph.p_offset + in + got));

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				rc = hp_err__set(err, r < 0 ? errno : EIO, "elf: read %s failed", path);
				goto out;
			}
			got += (uint64_t)r;
		}
		memset((char *)buf + done + fn, 0, n - fn); /* .bss: memory beyond the file image */
		done += n;
	}
	rc = done || !len ? 0
			  : hp_err__set(err, EFAULT, "elf: 0x%llx is not in a loadable segment of %s",
					(unsigned long long)vaddr, path);
out:
	return rc < 0 ? rc : (long)done;
}

long hp_elf__read_vaddr(const char *path, uint64_t vaddr, void *buf, size_t len, struct hp_err *err)
{
	Elf *e;
	int fd, rc;
	long got;

	if (!path || (!buf && len))
		return hp_err__set(err, EINVAL, "elf: no path or buffer");
	if ((rc = open_elf(path, &fd, &e, err)) < 0)
		return rc;
	got = read_vaddr(fd, e, path, vaddr, buf, len, err);
	elf_end(e);
	close(fd);
	return got;
}

long hp_elf__read_vaddr_fd(int fd, const char *name, uint64_t vaddr, void *buf, size_t len, struct hp_err *err)
{
	Elf *e;
	int rc;
	long got;

	if (fd < 0 || (!buf && len))
		return hp_err__set(err, EINVAL, "elf: no file or buffer");
	name = name ? name : "(fd)";
	if ((rc = begin_elf(fd, name, &e, err)) < 0)
		return rc;
	got = read_vaddr(fd, e, name, vaddr, buf, len, err);
	elf_end(e);
	return got;
}
