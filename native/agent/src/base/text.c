#include "base/text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hprobe/common.h"

void hp_text__copy(char *dst, size_t cap, const char *src)
{
	if (!cap)
		return;
	size_t n = src ? strnlen(src, cap - 1) : 0;
	memcpy(dst, src ? src : "", n);
	dst[n] = 0;
	hp_utf8__fix(dst); /* a character the cut went through is dropped whole */
}

json_t *hp_text__json(const char *s, size_t len)
{
	if (!s)
		return NULL;
	len = strnlen(s, len);
	char small[256], *b = len < sizeof small ? small : malloc(len + 1);
	if (!b)
		return NULL;
	memcpy(b, s, len);
	b[len] = 0;
	json_t *j = json_stringn(b, hp_utf8__fix(b));
	if (b != small)
		free(b);
	return j;
}

int hp_text__addr(const char *s, uint64_t *out)
{
	size_t n = s && !strncmp(s, "0x", 2) ? strspn(s + 2, "0123456789abcdefABCDEF") : 0;
	if (n < 1 || n > 16 || s[2 + n])
		return -EINVAL;
	*out = strtoull(s + 2, NULL, 16);
	return 0;
}
