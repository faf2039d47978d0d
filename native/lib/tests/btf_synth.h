/* A small BTF made with libbpf's writer, shaped like the kernel types HProbe
 * reads: nested anonymous unions/structs, typedefs, a bitfield, arrays, functions. */
#ifndef HP_TEST_BTF_SYNTH_H
#define HP_TEST_BTF_SYNTH_H
#include <bpf/btf.h>
#include <stdlib.h>
#include <string.h>

/* Returns malloc'ed raw BTF bytes in *len. */
static inline void *hp_btf_synth(size_t *len)
{
	struct btf *b = btf__new_empty();
	int u32, i32, u64, chr, comm, pid_t_, anon_s, anon_u, thread, task, ptr_task, list, proto, fn;
	int pgd_t, mm_ptr, proto2, proto3, size_t_, cstr;
	const void *raw;
	__u32 sz;
	void *copy;

	u32 = btf__add_int(b, "unsigned int", 4, 0);
	i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	u64 = btf__add_int(b, "long unsigned int", 8, 0);
	chr = btf__add_int(b, "char", 1, BTF_INT_CHAR);
	comm = btf__add_array(b, u32, chr, 16);
	pid_t_ = btf__add_typedef(b, "pid_t", i32);

	list = btf__add_struct(b, "list_head", 16);
	btf__add_field(b, "next", u64, 0, 0);
	btf__add_field(b, "prev", u64, 64, 0);

	pgd_t = btf__add_struct(b, "mm_struct", 128);
	btf__add_field(b, "mmap_base", u64, 0, 0);
	btf__add_field(b, "pgd", u64, 72 * 8, 0);
	mm_ptr = btf__add_ptr(b, pgd_t);

	thread = btf__add_struct(b, "thread_struct", 24);
	btf__add_field(b, "sp", u64, 8 * 8, 0);
	btf__add_field(b, "fsbase", u64, 16 * 8, 0);

	/* struct { u32 flags:3; u32 other:29; } inside an anonymous union */
	anon_s = btf__add_struct(b, NULL, 8);
	btf__add_field(b, "prio", i32, 0, 0);
	btf__add_field(b, "bits", u32, 32, 3);
	anon_u = btf__add_union(b, NULL, 8);
	btf__add_field(b, "raw", u64, 0, 0);
	btf__add_field(b, NULL, anon_s, 0, 0);

	task = btf__add_struct(b, "task_struct", 4096);
	btf__add_field(b, "state", u32, 0, 0);
	btf__add_field(b, NULL, anon_u, 64, 0); /* offset 8: prio at 8, raw at 8 */
	btf__add_field(b, "tasks", list, 2192 * 8, 0);
	btf__add_field(b, "mm", mm_ptr, 2272 * 8, 0);
	btf__add_field(b, "pid", pid_t_, 2416 * 8, 0);
	btf__add_field(b, "tgid", pid_t_, 2420 * 8, 0);
	btf__add_field(b, "comm", comm, 2976 * 8, 0);
	btf__add_field(b, "thread", thread, 3000 * 8, 0);
	ptr_task = btf__add_ptr(b, task);
	btf__add_typedef(b, "task_t", task);

	proto = btf__add_func_proto(b, i32);
	btf__add_func_param(b, "fd", i32);
	btf__add_func_param(b, "uiov", u64);
	btf__add_func_param(b, "nr_segs", u64);
	btf__add_func_param(b, "flags", u32);
	fn = btf__add_func(b, "__do_sys_vmsplice", BTF_FUNC_STATIC, proto);
	proto2 = btf__add_func_proto(b, i32);
	btf__add_func_param(b, "fmt", ptr_task);
	btf__add_func_param(b, NULL, 0); /* ... */
	btf__add_func(b, "printk", BTF_FUNC_GLOBAL, proto2);
	/* ksys_write(unsigned int fd, const char *buf, size_t count, struct task_struct *,
	 * pid_t) with its fourth parameter unnamed */
	size_t_ = btf__add_typedef(b, "size_t", u64);
	cstr = btf__add_ptr(b, btf__add_const(b, chr));
	proto3 = btf__add_func_proto(b, i32);
	btf__add_func_param(b, "fd", u32);
	btf__add_func_param(b, "buf", cstr);
	btf__add_func_param(b, "count", size_t_);
	btf__add_func_param(b, NULL, ptr_task);
	btf__add_func_param(b, "pid", pid_t_);
	btf__add_func(b, "ksys_write", BTF_FUNC_GLOBAL, proto3);
	proto3 = btf__add_func_proto(b, i32);
	btf__add_func_param(b, "no-name", u32); /* recovered from a guest: any bytes */
	btf__add_func(b, "bad_names", BTF_FUNC_GLOBAL, proto3);
	(void)fn;

	raw = btf__raw_data(b, &sz);
	copy = malloc(sz);
	memcpy(copy, raw, sz);
	*len = sz;
	btf__free(b);
	return copy;
}
#endif
