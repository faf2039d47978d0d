/* Errors and version: the conventions of common.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hprobe/common.h"

#ifndef HP_VERSION_STRING
#define HP_VERSION_STRING "0.0.0"
#endif

int hp_err__set(struct hp_err *err, int errnum, const char *fmt, ...)
{
	if (errnum < 0)
		errnum = -errnum;
	if (errnum == 0) /* an error path must never report success */
		errnum = EINVAL;
	if (err && fmt) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		hp_utf8__fix(err->msg); /* messages reach JSON: quoted bytes, a cut character */
	}
	return -errnum;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF), 0 if none; *cut when s ends inside one. */
static size_t utf8_len(const unsigned char *s, int *cut)
{
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;

	*cut = 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	for (size_t i = 1; i < n; i++) {
		if (!s[i]) {
			*cut = 1;
			return 0;
		}
		if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
			return 0;
	}
	return n;
}

size_t hp_utf8__fix(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t i = 0;

	if (!s)
		return 0;
	while (p[i]) {
		int cut;
		size_t n = utf8_len(p + i, &cut);

		if (cut) { /* the rest is a character cut short */
			p[i] = 0;
			break;
		}
		if (!n) {
			p[i++] = '?';
			continue;
		}
		i += n;
	}
	return i;
}

const char *hp_version(void)
{
	return HP_VERSION_STRING;
}
