/* JSON helpers for the CLI around what jansson cannot do: integers above INT64_MAX
 * (unsigned hit arguments) and splitting a batch without re-encoding it. */
#ifndef HPCLI_JSONX_H
#define HPCLI_JSONX_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* Parses text; integers that do not fit int64 become tagged strings: jx_u64 reads
 * them, jx_dumps writes them back as the numbers they were. */
json_t *json_loads_lenient(const char *text, size_t len);
/* An unsigned integer value (a JSON integer, or one above INT64_MAX): 1, or 0 if v is
 * not one. */
int jx_u64(const json_t *v, uint64_t *out);
/* json_dumps, with the integers above INT64_MAX exact. Free the result. */
char *jx_dumps(const json_t *j, size_t flags);
/* Finds the array value of "key" at the top level of the object text and calls fn for
 * each element's exact text. Returns the element count or -1. */
int json_each_raw(const char *text, size_t len, const char *key, void (*fn)(const char *elem, size_t elen, void *ud),
		  void *ud);
#endif
