/* Finds the lab guest directory through lab.sh (argv[1]); NULL when not built. */
#ifndef HP_TEST_LAB_H
#define HP_TEST_LAB_H
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static inline const char *hp_lab_dir(const char *lab_sh)
{
	static char dir[4096];
	char cmd[4200];
	FILE *p;
	size_t n;

	if (!lab_sh)
		return NULL;
	snprintf(cmd, sizeof(cmd), "'%s' dir 2>/dev/null", lab_sh);
	p = popen(cmd, "r");
	if (!p)
		return NULL;
	n = fread(dir, 1, sizeof(dir) - 1, p);
	if (pclose(p) != 0 || n == 0)
		return NULL;
	dir[n] = '\0';
	dir[strcspn(dir, "\n")] = '\0';
	return dir[0] ? dir : NULL;
}

static inline int hp_lab_file(const char *dir, const char *name, char *out, size_t n)
{
	struct stat sb;

	snprintf(out, n, "%s/%s", dir, name);
	return stat(out, &sb) == 0;
}

static inline double hp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}
#endif
