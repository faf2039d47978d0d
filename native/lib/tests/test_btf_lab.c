/* The lab guest's vmlinux BTF (Debian 6.1): the offsets the agent's VMI reads.
 * The expected numbers are this test's knowledge of that kernel, never the
 * library's. Skipped (77) when the lab is not built. */
#include <errno.h>

#include "hp_test.h"
#include "hprobe/btf.h"
#include "lab.h"

static void member(struct hp_btf *b, const char *type, const char *path, uint32_t want_off, uint32_t want_size)
{
	struct hp_err err = { { 0 } };
	uint32_t off = 0, size = 0;
	int rc = hp_btf__member(b, type, path, &off, &size, &err);

	if (rc)
		fprintf(stderr, "%s.%s: %s\n", type, path, err.msg);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(off, want_off);
	if (want_size)
		CHECK_EQ_INT(size, want_size);
}

int main(int argc, char **argv)
{
	const char *dir = hp_lab_dir(argc > 1 ? argv[1] : NULL);
	struct hp_err err = { { 0 } };
	struct hp_btf *b = NULL;
	char p[4200];
	struct hp_param names[8];
	uint32_t size = 0, off = 0;
	double t0;

	if (!dir || !hp_lab_file(dir, "vmlinux", p, sizeof(p))) {
		printf("SKIP: lab guest not built\n");
		return 77;
	}
	t0 = hp_now_ms();
	REQUIRE(hp_btf__load_file(p, &b, &err) == 0);
	printf("vmlinux BTF: %u types, load %.0f ms\n", hp_btf__type_count(b), hp_now_ms() - t0);
	CHECK(hp_btf__type_count(b) > 10000);

	member(b, "task_struct", "tasks", 2192, 16);
	member(b, "task_struct", "mm", 2272, 8);
	member(b, "task_struct", "pid", 2416, 4);
	member(b, "task_struct", "tgid", 2420, 4);
	member(b, "task_struct", "comm", 2976, 16);
	member(b, "mm_struct", "pgd", 72, 8);
	member(b, "pt_regs", "di", 112, 8);
	member(b, "pt_regs", "si", 104, 8);
	member(b, "pt_regs", "ip", 128, 8);
	member(b, "pt_regs", "orig_ax", 120, 8);

	/* members behind anonymous structs/unions and nested paths resolve too */
	CHECK_EQ_INT(hp_btf__member(b, "task_struct", "thread.sp", &off, &size, &err), 0);
	CHECK_EQ_INT(size, 8);
	CHECK_EQ_INT(hp_btf__member(b, "task_struct", "__state", &off, &size, &err), 0);
	CHECK_EQ_INT(hp_btf__member(b, "mm_struct", "mmap_base", &off, &size, &err), 0); /* in an anonymous struct */
	CHECK_EQ_INT(hp_btf__member(b, "task_struct", "no_such_member", &off, &size, &err), -ENOENT);

	CHECK_EQ_INT(hp_btf__type_size(b, "pt_regs", &size, &err), 0);
	CHECK_EQ_INT(size, 168);
	CHECK_EQ_INT(hp_btf__type_size(b, "pid_t", &size, &err), 0);
	CHECK_EQ_INT(size, 4);

	CHECK_EQ_INT(hp_btf__func_proto(b, "__do_sys_vmsplice", names, 8, &err), 4);
	CHECK_STR(names[0].name, "fd");
	CHECK_STR(names[1].name, "uiov");
	CHECK_STR(names[2].name, "nr_segs");
	CHECK_STR(names[3].name, "flags");
	CHECK_EQ_INT(hp_btf__func_proto(b, "do_sys_openat2", names, 8, &err), 3);
	CHECK_STR(names[0].name, "dfd");
	CHECK_STR(names[0].type, "int");
	CHECK_EQ_INT(names[0].cls, HP_PARAM_INT);
	CHECK_STR(names[1].type, "const char *");
	CHECK_EQ_INT(names[1].cls, HP_PARAM_STR);
	CHECK_EQ_INT(hp_btf__func_proto(b, "ksys_write", names, 8, &err), 3);
	CHECK_STR(names[2].name, "count");
	CHECK_STR(names[2].type, "size_t");
	CHECK_EQ_INT(names[2].cls, HP_PARAM_UINT);
	CHECK_EQ_INT(names[2].size, 8);
	CHECK_EQ_INT(hp_btf__func_ret(b, "ksys_write", &names[0], &err), 0);
	CHECK_STR(names[0].type, "ssize_t");
	CHECK_EQ_INT(names[0].cls, HP_PARAM_INT);
	CHECK_EQ_INT(names[0].size, 8);
	CHECK_EQ_INT(hp_btf__func_ret(b, "do_exit", &names[0], &err), 0);
	CHECK_STR(names[0].type, "void");
	hp_btf__free(b);
	TEST_MAIN_END();
}
