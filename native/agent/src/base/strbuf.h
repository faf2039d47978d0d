/* A growable byte buffer for building protocol lines. Out of memory makes it sticky-
 * failed (oom set) instead of crashing; callers check once at the end. */
#ifndef HP_STRBUF_H
#define HP_STRBUF_H
#include <stddef.h>

struct hp_strbuf {
	char *buf;
	size_t len, cap;
	int oom;
};

void hp_strbuf__reserve(struct hp_strbuf *sb, size_t more);
void hp_strbuf__putc(struct hp_strbuf *sb, char c);
void hp_strbuf__puts(struct hp_strbuf *sb, const char *s);
void hp_strbuf__write(struct hp_strbuf *sb, const void *p, size_t n);
void hp_strbuf__printf(struct hp_strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hp_strbuf__reset(struct hp_strbuf *sb);
/* Hands the buffer over (NUL-terminated); the strbuf is empty afterwards. */
char *hp_strbuf__take(struct hp_strbuf *sb, size_t *len);
void hp_strbuf__free(struct hp_strbuf *sb);
#endif
