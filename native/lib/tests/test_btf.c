/* BTF member offsets through nested anonymous members, typedef resolution, sizes,
 * bitfields refused, function parameters; raw blobs from memory and from a file;
 * garbage and every truncation refused cleanly. */
#include <errno.h>
#include <unistd.h>

#include "btf_synth.h"
#include "hp_test.h"
#include "hprobe/btf.h"

/* Anonymous members that share types (a diamond per level, 30 levels): a naive
 * search visits 2^30 members; the library searches each type once instead. */
static void test_diamonds(void)
{
	struct btf *w = btf__new_empty();
	struct hp_btf *b = NULL;
	struct hp_err err = { { 0 } };
	uint32_t off, size;
	const void *raw;
	__u32 len;
	int i32 = btf__add_int(w, "int", 4, BTF_INT_SIGNED), t = btf__add_struct(w, NULL, 4);

	btf__add_field(w, "leaf", i32, 0, 0);
	for (int k = 0; k < 30; k++) {
		int u = btf__add_union(w, NULL, 4);

		btf__add_field(w, NULL, t, 0, 0);
		btf__add_field(w, NULL, t, 0, 0);
		t = u;
	}
	btf__add_struct(w, "top", 4);
	btf__add_field(w, NULL, t, 0, 0);
	raw = btf__raw_data(w, &len);
	REQUIRE(hp_btf__load_raw(raw, len, &b, &err) == 0);
	CHECK_EQ_INT(hp_btf__member(b, "top", "leaf", &off, &size, &err), 0); /* found on the first path */
	CHECK_EQ_INT(off, 0);
	CHECK_EQ_INT(hp_btf__member(b, "top", "nosuch", &off, &size, &err), -ENOENT);
	hp_btf__free(b);
	btf__free(w);
}

/* Member paths from a pointer: offsets, the pointers loaded on the way, and each error
 * naming what is wrong. */
static void test_fetch_paths(const struct hp_btf *btf)
{
	struct hp_err err = { { 0 } };
	struct hp_btf_fetch f;
	static const struct {
		const char *ctype, *path;
		int rc;
		const char *msg; /* part of the error */
	} bad[] = {
		{ "struct task_struct *", "->nosuch", -ENOENT, "task_struct has no member nosuch" },
		{ "struct task_struct *", "->pid->x", -EINVAL, "before x is not a pointer to a struct" },
		{ "struct task_struct *", "->thread->sp", -EINVAL, "(use .)" },
		{ "struct task_struct *", "->mm.pgd", -EINVAL, "(a pointer: use ->)" },
		{ "struct task_struct *", "->bits", -EINVAL, "bits is a bitfield" },
		{ "struct task_struct *", ".pid", -EINVAL, "starts with ->" },
		{ "struct task_struct *", "->", -EINVAL, "expected a member name" },
		{ "struct task_struct *", "->pid+4", -EINVAL, "expected -> or ." },
		{ "struct task_struct *", "->9x", -EINVAL, "expected a member name" },
		{ "int", "->pid", -EINVAL, "int is not a pointer to a struct" },
		{ "struct task_struct **", "->pid", -EINVAL, "not a pointer to a struct" },
		{ "struct nosuch *", "->pid", -EINVAL, "not a pointer to a struct" },
	};

	CHECK_EQ_INT(hp_btf__fetch_path(btf, "struct task_struct *", "->pid", &f, &err), 0);
	CHECK_EQ_INT(f.off, 2416);
	CHECK_EQ_INT(f.nloads, 0);
	CHECK_EQ_INT(f.size, 4);
	CHECK_EQ_INT(f.ptr, 0);
	CHECK_EQ_INT(hp_btf__fetch_path(btf, "const struct task_struct *", "->mm->pgd", &f, &err), 0);
	CHECK_EQ_INT(f.off, 2272);
	CHECK_EQ_INT(f.nloads, 1);
	CHECK_EQ_INT(f.load_off[0], 72);
	CHECK_EQ_INT(f.size, 8);
	CHECK_EQ_INT(hp_btf__fetch_path(btf, "task_t *", "->thread.sp", &f, &err), 0); /* a typedef'd struct */
	CHECK_EQ_INT(f.off, 3008);
	CHECK_EQ_INT(hp_btf__fetch_path(btf, "struct task_struct *", "->mm", &f, &err), 0);
	CHECK_EQ_INT(f.ptr, 1);
	CHECK_EQ_INT(hp_btf__fetch_path(btf, "struct task_struct *", "->comm", &f, &err), 0);
	CHECK_EQ_INT(f.size, 16);
	CHECK_EQ_INT(f.ptr, 0);
	CHECK_EQ_INT(hp_btf__fetch_path(btf, "struct task_struct *", "->prio", &f, &err), 0); /* anonymous members */
	CHECK_EQ_INT(f.off, 8);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err.msg[0] = 0;
		CHECK_EQ_INT(hp_btf__fetch_path(btf, bad[i].ctype, bad[i].path, &f, &err), bad[i].rc);
		CHECK(strstr(err.msg, bad[i].msg) != NULL);
	}
	CHECK_EQ_INT(hp_btf__fetch_path(NULL, "struct task_struct *", "->pid", &f, &err), -EINVAL);
}

/* A list: four pointers followed, not five. */
static void test_fetch_depth(void)
{
	struct btf *w = btf__new_empty();
	struct hp_btf *b = NULL;
	struct hp_err err = { { 0 } };
	struct hp_btf_fetch f;
	const void *raw;
	__u32 len;
	int i32 = btf__add_int(w, "int", 4, BTF_INT_SIGNED), node = btf__add_struct(w, "node", 16);

	btf__add_field(w, "v", i32, 0, 0);
	btf__add_field(w, "next", node + 1, 64, 0);
	REQUIRE(btf__add_ptr(w, node) == node + 1);
	raw = btf__raw_data(w, &len);
	REQUIRE(hp_btf__load_raw(raw, len, &b, &err) == 0);
	CHECK_EQ_INT(hp_btf__fetch_path(b, "struct node *", "->next->next->next->next->v", &f, &err), 0);
	CHECK_EQ_INT(f.off, 8);
	CHECK_EQ_INT(f.nloads, 4);
	CHECK_EQ_INT(f.load_off[0], 8);
	CHECK_EQ_INT(f.load_off[3], 0);
	CHECK_EQ_INT(hp_btf__fetch_path(b, "struct node *", "->next->next->next->next->next->v", &f, &err), -E2BIG);
	hp_btf__free(b);
	btf__free(w);
}

int main(void)
{
	struct hp_err err = { { 0 } };
	struct hp_btf *btf = NULL, *b2 = NULL;
	uint32_t off = 0, size = 0;
	struct hp_param names[8];
	char tmpl[] = "/tmp/hp_btf_XXXXXX";
	size_t len;
	void *raw = hp_btf_synth(&len);
	int fd;

	REQUIRE(raw);
	REQUIRE(hp_btf__load_raw(raw, len, &btf, &err) == 0);
	CHECK(hp_btf__type_count(btf) > 15);

	CHECK_EQ_INT(hp_btf__member(btf, "task_struct", "pid", &off, &size, &err), 0);
	CHECK_EQ_INT(off, 2416);
	CHECK_EQ_INT(size, 4); /* through the pid_t typedef */
	CHECK_EQ_INT(hp_btf__member(btf, "task_struct", "tgid", &off, &size, &err), 0);
	CHECK_EQ_INT(off, 2420);
	CHECK_EQ_INT(hp_btf__member(btf, "task_struct", "comm", &off, &size, &err), 0);
	CHECK_EQ_INT(off, 2976);
	CHECK_EQ_INT(size, 16);
	CHECK_EQ_INT(hp_btf__member(btf, "task_struct", "mm", &off, &size, &err), 0);
	CHECK_EQ_INT(off, 2272);
	CHECK_EQ_INT(size, 8);
	CHECK_EQ_INT(hp_btf__member(btf, "task_struct", "tasks", &off, &size, &err), 0);
	CHECK_EQ_INT(off, 2192);
	CHECK_EQ_INT(size, 16);
	CHECK_EQ_INT(hp_btf__member(btf, "task_struct", "tasks.prev", &off, &size, &err), 0);
	CHECK_EQ_INT(off, 2200);
	CHECK_EQ_INT(hp_btf__member(btf, "task_struct", "thread.sp", &off, &size, &err), 0);
	CHECK_EQ_INT(off, 3008);
	/* through an anonymous union and an anonymous struct inside it */
	CHECK_EQ_INT(hp_btf__member(btf, "task_struct", "prio", &off, &size, &err), 0);
	CHECK_EQ_INT(off, 8);
	CHECK_EQ_INT(hp_btf__member(btf, "task_struct", "raw", &off, &size, &err), 0);
	CHECK_EQ_INT(off, 8);
	CHECK_EQ_INT(size, 8);
	CHECK_EQ_INT(hp_btf__member(btf, "task_struct", "bits", &off, &size, &err), -EINVAL);
	CHECK(strstr(err.msg, "bitfield") != NULL);
	CHECK_EQ_INT(hp_btf__member(btf, "task_t", "pid", &off, &size, &err), 0); /* typedef'd struct */
	CHECK_EQ_INT(off, 2416);
	CHECK_EQ_INT(hp_btf__member(btf, "mm_struct", "pgd", &off, &size, &err), 0);
	CHECK_EQ_INT(off, 72);
	/* a pointer member has no members to follow */
	CHECK_EQ_INT(hp_btf__member(btf, "task_struct", "mm.pgd", &off, &size, &err), -EINVAL);
	CHECK_EQ_INT(hp_btf__member(btf, "task_struct", "nosuch", &off, &size, &err), -ENOENT);
	CHECK_EQ_INT(hp_btf__member(btf, "nosuch_struct", "pid", &off, &size, &err), -ENOENT);
	CHECK_EQ_INT(hp_btf__member(btf, "task_struct", "pid.", &off, &size, &err), -EINVAL);
	CHECK_EQ_INT(hp_btf__member(btf, "task_struct", ".pid", &off, &size, &err), -EINVAL);
	CHECK_EQ_INT(hp_btf__member(btf, "task_struct", "", &off, &size, &err), -EINVAL);

	CHECK_EQ_INT(hp_btf__type_size(btf, "task_struct", &size, &err), 0);
	CHECK_EQ_INT(size, 4096);
	CHECK_EQ_INT(hp_btf__type_size(btf, "pid_t", &size, &err), 0);
	CHECK_EQ_INT(size, 4);
	CHECK_EQ_INT(hp_btf__type_size(btf, "nosuch", &size, &err), -ENOENT);

	CHECK_EQ_INT(hp_btf__func_proto(btf, "__do_sys_vmsplice", names, 8, &err), 4);
	CHECK_STR(names[0].name, "fd");
	CHECK_STR(names[1].name, "uiov");
	CHECK_STR(names[2].name, "nr_segs");
	CHECK_STR(names[3].name, "flags");
	CHECK_EQ_INT(hp_btf__func_proto(btf, "__do_sys_vmsplice", names, 2, &err), 4); /* count, 2 copied */
	CHECK_EQ_INT(hp_btf__func_proto(btf, "printk", names, 8, &err), 1);            /* no "..." */
	CHECK_EQ_INT(hp_btf__func_proto(btf, "vmsplice", names, 8, &err), -ENOENT);
	CHECK_EQ_INT(hp_btf__func_proto(btf, "bad_names", names, 8, &err), -EBADMSG);
	CHECK_EQ_INT(hp_btf__func_proto(btf, "ksys_write", names, 8, &err), 5);
	{
		static const struct hp_param want[] = {
			{ "fd", "unsigned int", HP_PARAM_UINT, 4 }, { "buf", "const char *", HP_PARAM_STR, 8 },
			{ "count", "size_t", HP_PARAM_UINT, 8 },    { "arg4", "struct task_struct *", HP_PARAM_PTR, 8 },
			{ "pid", "pid_t", HP_PARAM_INT, 4 },
		};
		for (int i = 0; i < 5; i++) {
			CHECK_STR(names[i].name, want[i].name);
			CHECK_STR(names[i].type, want[i].type);
			CHECK_EQ_INT(names[i].cls, want[i].cls);
			CHECK_EQ_INT(names[i].size, want[i].size);
		}
	}
	CHECK_EQ_INT(hp_btf__func_ret(btf, "ksys_write", &names[0], &err), 0);
	CHECK_STR(names[0].name, "return");
	CHECK_STR(names[0].type, "int");
	CHECK_EQ_INT(names[0].cls, HP_PARAM_INT);
	CHECK_EQ_INT(names[0].size, 4);
	CHECK_EQ_INT(hp_btf__func_ret(btf, "nosuch", &names[0], &err), -ENOENT);
	/* syscall metadata's spellings, typedefs through the BTF */
	hp_btf__ctype_param(btf, "size_t", &names[0]);
	CHECK_EQ_INT(names[0].cls, HP_PARAM_UINT);
	CHECK_EQ_INT(names[0].size, 8);
	hp_btf__ctype_param(btf, "pid_t", &names[0]);
	CHECK_EQ_INT(names[0].cls, HP_PARAM_INT);
	CHECK_EQ_INT(names[0].size, 4);
	hp_btf__ctype_param(btf, "umode_t", &names[0]); /* not in this BTF */
	CHECK_EQ_INT(names[0].cls, HP_PARAM_RAW);
	hp_btf__ctype_param(NULL, "const char __user *", &names[0]);
	CHECK_STR(names[0].type, "const char *");
	CHECK_EQ_INT(names[0].cls, HP_PARAM_STR);

	/* the same blob from a file */
	fd = mkstemp(tmpl);
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, raw, len) == (ssize_t)len);
	close(fd);
	REQUIRE(hp_btf__load_file(tmpl, &b2, &err) == 0);
	CHECK_EQ_INT(hp_btf__type_count(b2), hp_btf__type_count(btf));
	hp_btf__free(b2);
	unlink(tmpl);
	CHECK(hp_btf__load_file("/nonexistent/vmlinux", &b2, &err) < 0);

	/* every truncation is refused, never a crash */
	for (size_t cut = 0; cut < len; cut++) {
		b2 = NULL;
		if (hp_btf__load_raw(raw, cut, &b2, &err) == 0)
			hp_btf__free(b2);
	}
	CHECK_EQ_INT(hp_btf__load_raw("garbage!", 8, &b2, &err) < 0, 1);
	CHECK(err.msg[0]);
	test_diamonds();
	test_fetch_paths(btf);
	test_fetch_depth();
	hp_btf__free(NULL);
	hp_btf__free(btf);
	free(raw);
	TEST_MAIN_END();
}
