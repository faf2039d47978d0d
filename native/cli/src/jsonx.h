/* JSON helpers for the CLI around what jansson cannot do: integers above INT64_MAX
 * (unsigned hit arguments) and splitting a batch without re-encoding it. */
#ifndef HPCLI_JSONX_H
#define HPCLI_JSONX_H
#include <stddef.h>
#include <jansson.h>

/* Parses text; integers that do not fit int64 become decimal strings. */
json_t *json_loads_lenient(const char *text, size_t len);
/* Finds the array value of "key" at the top level of the object text and calls fn for
 * each element's exact text. Returns the element count or -1. */
int json_each_raw(const char *text, size_t len, const char *key, void (*fn)(const char *elem, size_t elen, void *ud),
		  void *ud);
#endif
