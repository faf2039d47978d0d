/* Kernel addresses named by the agent (sym-lookup) for the hits table: each address
 * asked once, and never again once the agent cannot tell (no symbols, an older agent). */
#ifndef HPCLI_SYMCACHE_H
#define HPCLI_SYMCACHE_H
#include <stddef.h>
#include <stdint.h>

struct cli;
struct symcache;

struct symcache *symcache_new(struct cli *c, const char *vm);
/* ip ("0x...") as "func+0xoff", escaped to show; NULL when it has no name. */
const char *symcache_name(struct symcache *s, const char *ip);
/* An hp_param_namer for pointer arguments (ud: the symcache): only addresses of the
 * x86-64 kernel image's mapping are asked about, not every heap pointer. */
int symcache_namer(void *ud, uint64_t addr, char *buf, size_t cap);
void symcache_free(struct symcache *s);
#endif
