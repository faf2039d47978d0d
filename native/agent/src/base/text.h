/* Foreign bytes (guest memory, QEMU, the host's file names, a client's long string)
 * on their way into JSON, which takes valid UTF-8 only: copies that cut at a
 * character boundary, and JSON strings that cannot fail. */
#ifndef HP_TEXT_H
#define HP_TEXT_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* snprintf("%s")-like copy of src into dst[cap]: cut at a character boundary, every
 * byte of an invalid sequence replaced by '?'. Always NUL-terminated (cap > 0). */
void hp_text__copy(char *dst, size_t cap, const char *src);

/* A JSON string of the first len bytes of s (up to a NUL) that is never NULL for a
 * non-NULL s: valid UTF-8 is kept as it is, every other byte becomes '?'. For data
 * where a byte's value matters (a comm, a captured string), the exporters' escaping
 * (hp_export__escape) is used instead. */
json_t *hp_text__json(const char *s, size_t len);

/* An address as the protocol writes it, "0x" and 1..16 hex digits, into *out: 0, or
 * -EINVAL for anything else. */
int hp_text__addr(const char *s, uint64_t *out);
#endif
