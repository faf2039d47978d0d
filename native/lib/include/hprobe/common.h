/* libhprobe: shared conventions.
 * - Opaque handles, object__method naming, destructors accept NULL.
 * - Functions return 0 or a negative errno; on error they write a human-readable
 *   message into the caller's struct hp_err (which the agent forwards to clients).
 * - The caller owns what it passes in; returned pointers into a handle live as long
 *   as the handle unless stated otherwise. */
#ifndef HPROBE_COMMON_H
#define HPROBE_COMMON_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HP_ERR_MAX 256

struct hp_err {
	char msg[HP_ERR_MAX];
};

/* Formats msg into err (if non-NULL) and returns -errnum (errnum > 0). */
int hp_err__set(struct hp_err *err, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Makes the NUL-terminated s valid UTF-8 in place, for text that goes into JSON (an
 * error message may quote foreign bytes, or be cut by its buffer inside a character):
 * each byte that does not belong to a well-formed sequence becomes '?', and an
 * incomplete sequence at the very end (a cut) is removed. Returns the new length. */
size_t hp_utf8__fix(char *s);

/* Library version string, e.g. "0.1.0". */
const char *hp_version(void);

#ifdef __cplusplus
}
#endif
#endif
