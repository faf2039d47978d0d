/* The parameters of a probed kernel function, for hits that read fd=3 count=4096.
 *
 * A syscall's wrapper (__x64_sys_write) takes struct pt_regs *: its own prototype
 * says nothing. The kernel's syscall metadata (CONFIG_FTRACE_SYSCALLS, in every
 * distribution kernel; the source of the syscalls tracepoints' formats) names the
 * real ones, in guest memory: __syscall_meta__write holds nb_args and two arrays of
 * string pointers. All of it is guest data: counts, pointers and strings are checked
 * before use, and a name that is not a C identifier discards the whole set. Without
 * metadata, the BTF prototype of the syscall's body (__do_sys_write) is tried; any
 * other function is described by its own BTF prototype. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backend/backend.h"
#include "base/util.h"
#include "guest/kernel.h"

#define META_PREFIX "__syscall_meta__"
#define BODY_PREFIX "__do_sys_"
#define CSTR_MAX 64 /* a parameter's name or type as the metadata spells it */

/* A NUL-terminated string of at most CSTR_MAX - 1 bytes at va. Near a page's end the
 * rest of the page is tried (the next page may be unmapped). */
static int read_cstr(struct hp_backend *b, uint64_t va, char *out)
{
	size_t len = CSTR_MAX;
	if (hp_backend__read_virt(b, va, out, len, NULL)) {
		len = 4096 - (va & 4095);
		if (len >= CSTR_MAX || hp_backend__read_virt(b, va, out, len, NULL))
			return -EIO;
	}
	if (!memchr(out, 0, len))
		return -E2BIG;
	for (const char *c = out; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			return -EBADMSG;
	return 0;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static int from_metadata(const struct hp_kernel *k, struct hp_backend *b, const char *sys, struct hp_param *params,
			 int max)
{
	const struct hp_kernel_offsets *o = &k->off;
	char sym[160], name[CSTR_MAX], type[CSTR_MAX];
	uint8_t meta[HP_KERNEL_STRUCT_MAX < 512 ? HP_KERNEL_STRUCT_MAX : 512], ptrs[2][8 * HP_MAX_ARGS];
	int32_t n;

	snprintf(sym, sizeof sym, META_PREFIX "%s", sys);
	uint64_t va = hp_kernel__addr(k, sym);
	if (!o->syscall_meta || !va || o->meta_size > sizeof meta ||
	    hp_backend__read_virt(b, va, meta, o->meta_size, NULL))
		return -ENOENT;
	memcpy(&n, meta + o->meta_nb_args, 4);
	if (n < 0 || n > HP_MAX_ARGS)
		return -EBADMSG;
	if (n == 0)
		return 0;
	if (hp_backend__read_virt(b, rd64(meta + o->meta_args), ptrs[0], 8 * (size_t)n, NULL) ||
	    hp_backend__read_virt(b, rd64(meta + o->meta_types), ptrs[1], 8 * (size_t)n, NULL))
		return -EIO;
	for (int i = 0; i < n && i < max; i++) {
		if (read_cstr(b, rd64(ptrs[0] + 8 * i), name) || !hp_param__valid_name(name))
			return -EBADMSG;
		int rc = read_cstr(b, rd64(ptrs[1] + 8 * i), type);
		if (rc == -E2BIG) /* a type too long to show: the value in hex */
			snprintf(type, sizeof type, "?");
		else if (rc)
			return rc;
		hp_btf__ctype_param(k->btf, type, &params[i]);
		memcpy(params[i].name, name, strlen(name) + 1); /* valid_name: it fits */
	}
	return n < max ? n : max;
}

int hp_kernel__func_params(const struct hp_kernel *k, struct hp_backend *b, const char *func, struct hp_param *params,
			   int max, char *from, size_t cap)
{
	char body[160];
	int n = -ENOENT;

	snprintf(from, cap, "%s", "");
	if (!k->btf || max <= 0)
		return 0;
	const char *sys = hp_kernel__syscall_name(func);
	if (sys) {
		if ((n = from_metadata(k, b, sys, params, max)) >= 0) {
			snprintf(from, cap, "syscall metadata");
			return n;
		}
		hp_debug("no syscall metadata for %s (%d): trying %s%s", func, n, BODY_PREFIX, sys);
		snprintf(body, sizeof body, BODY_PREFIX "%s", sys);
		func = body;
	}
	struct hp_err e;
	n = hp_btf__func_proto(k->btf, func, params, max, &e);
	if (n < 0) {
		hp_debug("no parameters for %s: %s", func, e.msg);
		return 0;
	}
	snprintf(from, cap, "btf");
	return n < max ? n : max;
}

int hp_kernel__func_ret(const struct hp_kernel *k, const char *func, struct hp_param *ret, int *is_errno)
{
	*is_errno = 0;
	if (hp_kernel__syscall_name(func)) { /* every syscall returns long: a value or -errno */
		hp_param__from_ctype(ret, "long");
		snprintf(ret->name, sizeof ret->name, "return");
		*is_errno = 1;
		return 0;
	}
	struct hp_err e;
	if (!k->btf || hp_btf__func_ret(k->btf, func, ret, &e)) {
		hp_debug("no return type for %s", func);
		return -ENOENT;
	}
	return 0;
}
