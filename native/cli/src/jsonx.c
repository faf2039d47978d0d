#include "jsonx.h"

#include <stdlib.h>
#include <string.h>

/* A string holding an integer above INT64_MAX: NUL, a tag, the digits. No other
 * string in a parsed message holds a NUL: the agent's text with one is refused. */
#define BIG_TAG "u64:"
#define BIG_ESC "\\u0000" BIG_TAG

static int big_int(const char *p, size_t n)
{
	/* INT64_MAX has 19 digits: compare as strings when the length ties */
	if (n < 19)
		return 0;
	return n > 19 || memcmp(p, "9223372036854775807", 19) > 0;
}

json_t *json_loads_lenient(const char *text, size_t len)
{
	json_t *j = json_loadb(text, len, 0, NULL);
	if (j)
		return j;
	/* each big integer grows by the tag, its quotes and the escaped NUL */
	char *out = malloc(len * 6 + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	int in_str = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = text[i];
		if (in_str) {
			out[o++] = ch;
			if (ch == '\\' && i + 1 < len) {
				if (i + 5 < len && !memcmp(text + i + 1, "u0000", 5)) {
					free(out); /* a NUL in the text: not JSON we take */
					return NULL;
				}
				out[o++] = text[++i];
			} else if (ch == '"') {
				in_str = 0;
			}
			continue;
		}
		if (ch == '"') {
			in_str = 1;
			out[o++] = ch;
			continue;
		}
		if (ch >= '0' && ch <= '9' && (i == 0 || !strchr("0123456789.-eE", text[i - 1]))) {
			size_t k = i;
			while (k < len && text[k] >= '0' && text[k] <= '9')
				k++;
			if (big_int(text + i, k - i) && (k == len || !strchr(".eE", text[k]))) {
				memcpy(out + o, "\"" BIG_ESC, sizeof BIG_ESC);
				o += sizeof BIG_ESC;
				memcpy(out + o, text + i, k - i);
				o += k - i;
				out[o++] = '"';
				i = k - 1;
				continue;
			}
		}
		out[o++] = ch;
	}
	j = json_loadb(out, o, JSON_ALLOW_NUL, NULL);
	free(out);
	return j;
}

int jx_u64(const json_t *v, uint64_t *out)
{
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 1;
	}
	if (!json_is_string(v) || json_string_length(v) < sizeof BIG_TAG + 1)
		return 0;
	const char *s = json_string_value(v);
	if (s[0] || memcmp(s + 1, BIG_TAG, sizeof BIG_TAG - 1))
		return 0;
	char *end;
	*out = strtoull(s + sizeof BIG_TAG, &end, 10);
	return !*end;
}

char *jx_dumps(const json_t *j, size_t flags)
{
	char *s = json_dumps(j, flags);
	if (!s)
		return NULL;
	/* "\u0000u64:DIGITS" back to DIGITS: the number as the agent sent it */
	char *w = s;
	for (const char *r = s; *r;) {
		if (*r == '"' && !strncmp(r + 1, BIG_ESC, sizeof BIG_ESC - 1)) {
			const char *d = r + sizeof BIG_ESC;
			size_t n = strspn(d, "0123456789");
			if (n && d[n] == '"') {
				memmove(w, d, n);
				w += n;
				r = d + n + 1;
				continue;
			}
		}
		*w++ = *r++;
	}
	*w = 0;
	return s;
}

/* Index just past the JSON value starting at i (strings and nesting aware). */
static size_t skip_value(const char *t, size_t len, size_t i)
{
	int depth = 0, in_str = 0;
	for (; i < len; i++) {
		char ch = t[i];
		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = 0;
			if (!in_str && depth == 0)
				return i + 1;
			continue;
		}
		if (ch == '"')
			in_str = 1;
		else if (ch == '{' || ch == '[')
			depth++;
		else if (ch == '}' || ch == ']') {
			if (depth == 0)
				return i;
			if (--depth == 0)
				return i + 1;
		} else if (depth == 0 && (ch == ',')) {
			return i;
		}
	}
	return len;
}

int json_each_raw(const char *t, size_t len, const char *key, void (*fn)(const char *, size_t, void *), void *ud)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":[", key);
	const char *p = NULL;
	for (size_t i = 0; i + strlen(pat) <= len; i++)
		if (!memcmp(t + i, pat, strlen(pat))) {
			p = t + i;
			break;
		}
	if (!p)
		return -1;
	size_t i = (size_t)(p - t) + strlen(pat);
	int n = 0;
	while (i < len && t[i] != ']') {
		size_t e = skip_value(t, len, i);
		if (e <= i)
			break;
		fn(t + i, e - i, ud);
		n++;
		i = e;
		if (i < len && t[i] == ',')
			i++;
	}
	return n;
}
