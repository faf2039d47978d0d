/* Buffered output and the text encoders shared by the exporters. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hprobe/export.h"
#include "outbuf.h"

/* The fuzz build writes through a small buffer: its flushes get fuzzed too. */
#ifndef OUT_BUF
#define OUT_BUF ((size_t)1 << 20)
#endif

int hpi_out_open(struct hpi_out *o, const char *path)
{
	return hpi_out_open_cap(o, path, OUT_BUF);
}

int hpi_out_open_cap(struct hpi_out *o, const char *path, size_t cap)
{
	size_t n = strlen(path);

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->path = strdup(path);
	o->tmp = malloc(n + sizeof(".partial"));
	o->buf = malloc(cap ? cap : 1);
	if (!o->path || !o->tmp || !o->buf) {
		hpi_out_discard(o);
		return -ENOMEM;
	}
	memcpy(o->tmp, path, n);
	memcpy(o->tmp + n, ".partial", sizeof(".partial"));
	o->cap = cap ? cap : 1;
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* a device or pipe (/dev/stdout, a FIFO): write to it; renaming a file over it
		 * would replace the device node */
		free(o->tmp);
		o->tmp = NULL;
		o->fd = open(path, O_WRONLY | O_CLOEXEC);
	} else {
		/* a new file of ours: never through a symlink or onto a file someone put at
		 * <out>.partial (in a shared directory it could point at any file we can
		 * write). One left by an export that died is removed (the link itself). */
		int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
		/* an export carries the journal's guest data: the owner's only, as the journal */
		o->fd = open(o->tmp, flags, 0600);
		if (o->fd < 0 && errno == EEXIST && unlink(o->tmp) == 0)
			o->fd = open(o->tmp, flags, 0600);
	}
	if (o->fd < 0) {
		int e = -errno;

		hpi_out_discard(o);
		return e;
	}
	return 0;
}

void hpi_out_write_direct(struct hpi_out *o, const void *p, size_t n)
{
	const char *c = p;

	while (n && !o->err) {
		ssize_t w = write(o->fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			o->err = w < 0 ? -errno : -EIO;
			break;
		}
		c += w;
		n -= (size_t)w;
	}
}

void hpi_out_drain(struct hpi_out *o)
{
	hpi_out_write_direct(o, o->buf, o->len);
	o->len = 0;
}

int hpi_out_commit(struct hpi_out *o)
{
	int rc;

	hpi_out_drain(o);
	rc = o->err;
	if (!rc && close(o->fd) < 0)
		rc = -errno;
	else if (rc)
		close(o->fd);
	o->fd = -1;
	if (!rc && o->tmp && rename(o->tmp, o->path) < 0)
		rc = -errno;
	if (rc) {
		o->err = rc;
		hpi_out_discard(o);
		return rc;
	}
	free(o->buf);
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	return 0;
}

void hpi_out_discard(struct hpi_out *o)
{
	if (!o)
		return;
	if (o->fd >= 0)
		close(o->fd);
	if (o->tmp)
		unlink(o->tmp);
	free(o->buf);
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof(*o));
	o->fd = -1;
}

void hpi_out_u64(struct hpi_out *o, uint64_t v)
{
	char tmp[20];
	int i = 20;

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	hpi_out_write(o, tmp + i, (size_t)(20 - i));
}

void hpi_out_i64(struct hpi_out *o, int64_t v)
{
	if (v < 0) {
		hpi_out_char(o, '-');
		hpi_out_u64(o, (uint64_t)0 - (uint64_t)v);
	} else {
		hpi_out_u64(o, (uint64_t)v);
	}
}

static const char hexd[] = "0123456789abcdef";

void hpi_out_json_str(struct hpi_out *o, const char *s, size_t n)
{
	size_t run = 0;

	hpi_out_char(o, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		hpi_out_write(o, s + run, i - run);
		run = i + 1;
		if (c == '"' || c == '\\') {
			hpi_out_char(o, '\\');
			hpi_out_char(o, (char)c);
		} else if (c == '\n') {
			hpi_out_write(o, "\\n", 2);
		} else if (c == '\t') {
			hpi_out_write(o, "\\t", 2);
		} else if (c == '\r') {
			hpi_out_write(o, "\\r", 2);
		} else {
			char u[6] = { '\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15] };

			hpi_out_write(o, u, 6);
		}
	}
	hpi_out_write(o, s + run, n - run);
	hpi_out_char(o, '"');
}

/* Length of the valid UTF-8 sequence at s (1..4), its code point in *cp; 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) {
		len = 2, min = 0x80, c &= 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, min = 0x800, c &= 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4, min = 0x10000, c &= 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

int hpi_utf8_valid(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = utf8_seq((const unsigned char *)s + i, n - i, &cp);

		if (!k)
			return 0;
		i += k;
	}
	return 1;
}

size_t hp_export__escape(const void *bytes, size_t len, char *out, size_t outsz)
{
	const unsigned char *s = bytes;
	size_t o = 0, w = 0; /* needed, written */

	for (size_t i = 0; i < len;) {
		char unit[4];
		size_t k, ulen;
		uint32_t cp;

		k = utf8_seq(s + i, len - i, &cp);
		if (k && cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp < 0xa0) && cp != '\\') {
			memcpy(unit, s + i, k);
			ulen = k;
		} else if (k && cp == '\\') {
			unit[0] = unit[1] = '\\';
			ulen = 2;
			k = 1;
		} else {
			unit[0] = '\\';
			unit[1] = 'x';
			unit[2] = hexd[s[i] >> 4];
			unit[3] = hexd[s[i] & 15];
			ulen = 4;
			k = 1;
		}
		/* Whole units only: a cut output is still valid UTF-8 and unambiguous. */
		if (w == o && o + ulen < outsz) {
			memcpy(out + o, unit, ulen);
			w += ulen;
		}
		o += ulen;
		i += k;
	}
	if (outsz)
		out[w] = '\0';
	return o;
}
