/* Fuzzes raw BTF loading (libbpf underneath) and the member/size/params queries,
 * which walk type graphs the input controls (cycles, deep nesting). */
#include <stdint.h>

#include "fuzz_libbpf.h"
#include "hprobe/btf.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_libbpf(); /* libbpf logs every rejected blob */
	return 0;
}

static const char *const types[] = { "task_struct", "mm_struct", "task_t", "pid_t", "list_head", "a" };
static const char *const paths[] = { "pid",  "tgid", "comm",   "thread.sp", "tasks.prev", "prio",
				     "bits", "raw",  "mm.pgd", "a.b.c.d",   "x" };
static const char *const funcs[] = { "__do_sys_vmsplice", "printk", "ksys_write", "a" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hp_btf *b = NULL;
	uint32_t off, sz;
	struct hp_param params[8];

	if (hp_btf__load_raw(data, size, &b, NULL) < 0)
		return 0;
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		hp_btf__type_size(b, types[t], &sz, NULL);
		for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++)
			hp_btf__member(b, types[t], paths[p], &off, &sz, NULL);
	}
	for (size_t f = 0; f < sizeof(funcs) / sizeof(funcs[0]); f++) {
		hp_btf__func_proto(b, funcs[f], params, 8, NULL);
		hp_btf__func_ret(b, funcs[f], params, NULL);
	}
	hp_btf__ctype_param(b, "size_t", &params[0]);
	hp_btf__type_count(b);
	hp_btf__free(b);
	return 0;
}
