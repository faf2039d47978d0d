#include "symcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conn.h"
#include "hprobe/export.h"
#include "hprobe/symtab.h"

#define SYMCACHE_MAX 4096 /* distinct addresses asked about: a table of hits has few */

struct entry {
	char ip[20];
	char *name; /* NULL: none */
};

struct symcache {
	struct cli *c;
	const char *vm;
	int off; /* the agent cannot tell: ask no more */
	size_t n, last;
	struct entry *e;
};

struct symcache *symcache_new(struct cli *c, const char *vm)
{
	struct symcache *s = calloc(1, sizeof *s);
	if (!s)
		abort();
	s->c = c;
	s->vm = vm;
	s->off = !vm;
	return s;
}

/* The agent's name for ip, escaped; NULL if none or on any error (then s->off). */
static char *ask(struct symcache *s, const char *ip)
{
	json_t *args = json_pack("{s:s, s:[s]}", "vm", s->vm, "addrs", ip);
	json_t *r = conn_cmd(cli_conn(s->c), "sym-lookup", args);
	json_decref(args);
	const char *name =
		json_string_value(json_array_get(json_object_get(json_object_get(r, "return"), "symbols"), 0));
	char *out = NULL;
	if (!r || json_object_get(r, "error"))
		s->off = 1;
	else if (name && (out = malloc(HP_SYM_TEXT_SHOWN)))
		hp_export__escape(name, strlen(name), out, HP_SYM_TEXT_SHOWN);
	json_decref(r);
	return out;
}

const char *symcache_name(struct symcache *s, const char *ip)
{
	if (!ip || strlen(ip) >= sizeof s->e[0].ip)
		return NULL;
	if (s->last < s->n && !strcmp(s->e[s->last].ip, ip))
		return s->e[s->last].name;
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->e[i].ip, ip))
			return s->e[s->last = i].name;
	if (s->off || s->n == SYMCACHE_MAX)
		return NULL;
	if (s->n % 64 == 0) {
		struct entry *ne = realloc(s->e, (s->n + 64) * sizeof *ne);
		if (!ne)
			abort();
		s->e = ne;
	}
	struct entry *e = &s->e[s->last = s->n++];
	memcpy(e->ip, ip, strlen(ip) + 1);
	e->name = ask(s, ip);
	return e->name;
}

/* Where x86-64 maps the kernel image (KASLR moves it inside): its text is there. */
#define KERNEL_IMAGE_START 0xffffffff80000000ull
#define KERNEL_IMAGE_END 0xffffffffc0000000ull

int symcache_namer(void *ud, uint64_t addr, char *buf, size_t cap)
{
	char ip[20];
	const char *name;
	if (addr < KERNEL_IMAGE_START || addr >= KERNEL_IMAGE_END || !cap)
		return 0;
	snprintf(ip, sizeof ip, "0x%llx", (unsigned long long)addr);
	if (!(name = symcache_name(ud, ip)))
		return 0;
	snprintf(buf, cap, "%s", name);
	return (int)strlen(buf);
}

void symcache_free(struct symcache *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->e[i].name);
	free(s->e);
	free(s);
}
