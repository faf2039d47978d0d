#include "base/text.h"

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
