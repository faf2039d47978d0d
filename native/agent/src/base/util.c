#include "base/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

/* The log level is process-wide configuration, set once at start-up. */
static enum hp_log_level log_level = HP_LOG_INFO;

void hp_log_set_level(enum hp_log_level lvl)
{
	log_level = lvl;
}

void hp_log(enum hp_log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	if (lvl > log_level)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "hprobed %lld.%03ld %s: %s\n", (long long)ts.tv_sec, ts.tv_nsec / 1000000, names[lvl], line);
}

int hp_pathf(char *dst, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(dst, cap, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}
