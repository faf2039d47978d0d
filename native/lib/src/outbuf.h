/* A buffered output file for the exporters: few syscalls, numbers formatted by
 * hand (snprintf per field would dominate a million-hit export). Errors are
 * sticky: the first one is kept and reported by hpi_out_close. */
#ifndef HPROBE_OUTBUF_H
#define HPROBE_OUTBUF_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct hpi_out {
	int fd;
	char *buf;
	size_t len, cap;
	int err;          /* first -errno, sticky */
	char *path, *tmp; /* final name, and the name written until success */
};

/* Opens path + ".partial" for writing; hpi_out_commit renames it to path. */
int hpi_out_open(struct hpi_out *o, const char *path);
/* The same with a buffer of cap bytes (a writer of whole blocks needs little). */
int hpi_out_open_cap(struct hpi_out *o, const char *path, size_t cap);
void hpi_out_drain(struct hpi_out *o);
void hpi_out_write_direct(struct hpi_out *o, const void *p, size_t n);
/* Flushes, closes and renames into place; 0 or the first error. */
int hpi_out_commit(struct hpi_out *o);
/* Closes and removes the partial file. NULL-safe, idempotent. */
void hpi_out_discard(struct hpi_out *o);

static inline void hpi_out_write(struct hpi_out *o, const void *p, size_t n)
{
	if (o->len + n > o->cap) {
		hpi_out_drain(o);
		if (n > o->cap) {
			hpi_out_write_direct(o, p, n);
			return;
		}
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static inline void hpi_out_str(struct hpi_out *o, const char *s)
{
	hpi_out_write(o, s, strlen(s));
}

static inline void hpi_out_char(struct hpi_out *o, char c)
{
	if (o->len == o->cap)
		hpi_out_drain(o);
	o->buf[o->len++] = c;
}

void hpi_out_u64(struct hpi_out *o, uint64_t v);
void hpi_out_i64(struct hpi_out *o, int64_t v);
/* A JSON string literal (quotes included) of valid UTF-8 text. */
void hpi_out_json_str(struct hpi_out *o, const char *s, size_t n);

/* Whether s[0, n) is valid UTF-8. */
int hpi_utf8_valid(const char *s, size_t n);

#endif
