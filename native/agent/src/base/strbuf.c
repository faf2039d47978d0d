#include "base/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hp_strbuf__reserve(struct hp_strbuf *sb, size_t more)
{
	if (sb->oom || sb->len + more + 1 <= sb->cap)
		return;
	size_t nc = sb->cap ? sb->cap : 256;
	while (nc < sb->len + more + 1)
		nc *= 2;
	char *n = realloc(sb->buf, nc);
	if (!n) {
		sb->oom = 1;
		return;
	}
	sb->buf = n;
	sb->cap = nc;
}

void hp_strbuf__write(struct hp_strbuf *sb, const void *p, size_t n)
{
	hp_strbuf__reserve(sb, n);
	if (sb->oom)
		return;
	memcpy(sb->buf + sb->len, p, n);
	sb->len += n;
	sb->buf[sb->len] = 0;
}

void hp_strbuf__putc(struct hp_strbuf *sb, char c)
{
	hp_strbuf__write(sb, &c, 1);
}
void hp_strbuf__puts(struct hp_strbuf *sb, const char *s)
{
	hp_strbuf__write(sb, s, strlen(s));
}

void hp_strbuf__printf(struct hp_strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char small[256];
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		hp_strbuf__write(sb, small, (size_t)n);
		return;
	}
	hp_strbuf__reserve(sb, (size_t)n);
	if (sb->oom)
		return;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

void hp_strbuf__reset(struct hp_strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = 0;
}

char *hp_strbuf__take(struct hp_strbuf *sb, size_t *len)
{
	if (sb->oom) {
		hp_strbuf__free(sb);
		return NULL;
	}
	hp_strbuf__reserve(sb, 0);
	if (sb->oom) {
		hp_strbuf__free(sb);
		return NULL;
	}
	sb->buf[sb->len] = 0; /* a buffer nothing was written to was never terminated */
	char *b = sb->buf;
	if (len)
		*len = sb->len;
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return b;
}

void hp_strbuf__free(struct hp_strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	sb->oom = 0;
}
