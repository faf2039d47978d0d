/* Errors and version: the conventions of common.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "hprobe/common.h"

#ifndef HP_VERSION_STRING
#define HP_VERSION_STRING "0.0.0"
#endif

int hp_err__set(struct hp_err *err, int errnum, const char *fmt, ...)
{
	if (errnum < 0)
		errnum = -errnum;
	if (errnum == 0) /* an error path must never report success */
		errnum = EINVAL;
	if (err && fmt) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -errnum;
}

const char *hp_version(void)
{
	return HP_VERSION_STRING;
}
