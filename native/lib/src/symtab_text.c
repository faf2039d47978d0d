/* System.map and /proc/kallsyms text: "ADDR TYPE NAME[\t[MODULE]]" per line.
 * The input is copied once and tokenised in place, so names cost no allocation. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symtab_int.h"

/* Symbol files are a few MB; anything far bigger is not one. */
#define TEXT_MAX_BYTES (1u << 30)

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int is_name_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

/* Hex address, at most 16 digits. Returns the end or NULL. */
static char *parse_hex(char *p, char *end, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0;

	for (; p < end; p++, n++) {
		unsigned char c = (unsigned char)*p;
		unsigned d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			break;
		if (n == 16)
			return NULL;
		v = v << 4 | d;
	}
	if (n == 0)
		return NULL;
	*out = v;
	return p;
}

/* Tokenises one line [p, end) in place (end is writable: a '\n' or the terminator). */
static int parse_line(char *p, char *end, struct hp_sym *sym)
{
	char *name, *mod = NULL;

	p = parse_hex(p, end, &sym->addr);
	if (!p || p == end || !is_blank(*p))
		return -1;
	while (p < end && is_blank(*p))
		p++;
	if (p + 1 >= end || !((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') || !is_blank(p[1]))
		return -1;
	sym->type = *p;
	p += 2;
	while (p < end && is_blank(*p))
		p++;
	name = p;
	while (p < end && is_name_char((unsigned char)*p))
		p++;
	if (p == name || p - name > HPI_SYM_NAME_MAX)
		return -1;
	if (p < end && !is_blank(*p))
		return -1; /* control or non-ASCII byte inside the name */
	*p = '\0';         /* end may be the line's '\n': writable */
	if (p < end)
		p++;
	while (p < end && is_blank(*p))
		p++;
	if (p < end && *p == '[') {
		mod = ++p;
		while (p < end && *p != ']' && is_name_char((unsigned char)*p))
			p++;
		if (p == end || *p != ']' || p == mod)
			return -1;
		*p++ = '\0';
		while (p < end && is_blank(*p))
			p++;
	}
	if (p != end)
		return -1; /* trailing garbage */
	sym->name = name;
	sym->module = mod;
	sym->size = 0;
	return 0;
}

/* Parses copy[0, len) in place; takes ownership of copy (len + 1 bytes). */
static int parse_owned(char *copy, size_t len, struct hp_symtab **out, struct hp_symtab_stats *stats,
		       struct hp_err *err)
{
	struct hp_symtab_stats local = { 0 };
	struct hp_symtab *st;
	char *p, *end;
	int rc;

	copy[len] = '\n'; /* a last line without newline ends here */
	st = hpi_symtab_new(copy);
	if (!st) {
		free(copy);
		return hp_err__set(err, ENOMEM, "symtab: out of memory");
	}
	end = copy + len;
	for (p = copy; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p) + 1);
		char *le = nl;
		struct hp_sym sym;

		while (le > p && is_blank(le[-1]))
			le--;
		local.lines++;
		if (le == p) {
			/* blank line: ignored, not malformed */
		} else if (parse_line(p, le, &sym) < 0) {
			local.skipped++;
		} else if ((rc = hpi_symtab_push(st, &sym)) < 0) {
			hp_symtab__free(st);
			return hp_err__set(err, -rc, "symtab: too many symbols");
		}
		p = nl + 1;
	}
	if ((rc = hpi_symtab_finish(st, 0)) < 0) {
		hp_symtab__free(st);
		return hp_err__set(err, -rc, "symtab: out of memory");
	}
	hpi_symtab_text_sizes(st);
	if (stats)
		*stats = local;
	if (st->n == 0) {
		hp_symtab__free(st);
		return hp_err__set(err, ENODATA, "symtab: no valid symbol line in %zu lines", local.lines);
	}
	*out = st;
	return 0;
}

int hp_symtab__parse_text(const char *buf, size_t len, struct hp_symtab **out, struct hp_symtab_stats *stats,
			  struct hp_err *err)
{
	char *copy;

	if (!out || (!buf && len))
		return hp_err__set(err, EINVAL, "symtab: no input or output");
	*out = NULL;
	if (len > TEXT_MAX_BYTES)
		return hp_err__set(err, EFBIG, "symtab: %zu bytes is too large for a symbol map", len);
	copy = malloc(len + 1);
	if (!copy)
		return hp_err__set(err, ENOMEM, "symtab: out of memory");
	if (len)
		memcpy(copy, buf, len);
	return parse_owned(copy, len, out, stats, err);
}

int hp_symtab__load_text(const char *path, struct hp_symtab **out, struct hp_err *err)
{
	struct stat sb;
	char *buf = NULL;
	size_t len = 0, cap;
	int fd, rc;

	if (!path || !out)
		return hp_err__set(err, EINVAL, "symtab: no path");
	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hp_err__set(err, errno, "symtab: cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &sb) < 0 || S_ISDIR(sb.st_mode)) {
		close(fd);
		return hp_err__set(err, EISDIR, "symtab: %s is not a file", path);
	}
	/* st_size is only a hint: /proc/kallsyms reports 0, a file may grow or shrink. */
	cap = S_ISREG(sb.st_mode) && (uint64_t)sb.st_size < TEXT_MAX_BYTES ? (size_t)sb.st_size + 1 : 0;
	if (cap < 65536)
		cap = 65536;
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap || !buf) {
			char *nb;

			if (buf)
				cap *= 2;
			if (cap > (size_t)TEXT_MAX_BYTES + 1) {
				rc = hp_err__set(err, EFBIG, "symtab: %s is too large for a symbol map", path);
				goto fail;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				rc = hp_err__set(err, ENOMEM, "symtab: out of memory");
				goto fail;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = hp_err__set(err, errno, "symtab: read %s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	return parse_owned(buf, len, out, NULL, err);
fail:
	free(buf);
	close(fd);
	return rc;
}
