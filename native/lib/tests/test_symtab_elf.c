/* ELF symbols and facts on fixtures built at test time (argv[1] = their directory):
 * static, static-pie, dynamic PIE, shared library, stripped, relocatable; and on
 * this test's own executable, whose code bytes must equal what read_vaddr returns. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "hp_test.h"
#include "hprobe/symtab.h"

static char path[4096];

static const char *fix(const char *dir, const char *name)
{
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void check_kinds(const struct hp_symtab *st)
{
	const struct hp_sym *s;

	s = hp_symtab__find(st, "hp_fixture_func");
	REQUIRE(s);
	CHECK_EQ_INT(s->type, 'T');
	CHECK(s->size > 0);
	s = hp_symtab__find(st, "hp_fixture_local");
	REQUIRE(s);
	CHECK_EQ_INT(s->type, 't');
	CHECK_EQ_INT(hp_symtab__find(st, "hp_fixture_weak")->type, 'W');
	CHECK_EQ_INT(hp_symtab__find(st, "hp_fixture_data")->type, 'D');
	CHECK_EQ_INT(hp_symtab__find(st, "hp_fixture_bytes")->type, 'R');
	CHECK_EQ_INT(hp_symtab__find(st, "hp_fixture_bss")->type, 'B');
	CHECK_EQ_U64(hp_symtab__find(st, "hp_fixture_bss")->size, 64 * sizeof(int));
}

static void test_static(const char *dir)
{
	struct hp_symtab *st = NULL, *st2 = NULL;
	struct hp_err err = { { 0 } };
	const struct hp_elf_info *info;
	const struct hp_sym *s, *r;
	uint64_t off = 0;
	char buf[64];
	FILE *f;
	long n;

	REQUIRE(hp_symtab__load_elf(fix(dir, "static"), &st, &err) == 0);
	check_kinds(st);
	info = hp_symtab__elf_info(st);
	REQUIRE(info);
	CHECK(info->is_elf && info->is_static && !info->is_pie && !info->is_shared_lib);
	CHECK_EQ_INT(strlen(info->build_id), 40);
	CHECK(info->text_vaddr >= info->first_load_vaddr);
	CHECK(info->entry >= info->text_vaddr);

	s = hp_symtab__find(st, "hp_fixture_func");
	r = hp_symtab__lookup_addr(st, s->addr + 1, &off);
	REQUIRE(r);
	CHECK_STR(r->name, "hp_fixture_func");
	CHECK_EQ_U64(off, 1);

	/* file-backed bytes and the zero-filled .bss */
	s = hp_symtab__find(st, "hp_fixture_bytes");
	n = hp_elf__read_vaddr(path, s->addr, buf, 32, &err);
	CHECK_EQ_INT(n, 32);
	CHECK(memcmp(buf, "HPROBE-FIXTURE-0123456789abcdef", 32) == 0);
	s = hp_symtab__find(st, "hp_fixture_bss");
	memset(buf, 0x55, sizeof(buf));
	CHECK_EQ_INT(hp_elf__read_vaddr(path, s->addr, buf, 16, &err), 16);
	for (int i = 0; i < 16; i++)
		CHECK_EQ_INT(buf[i], 0);
	CHECK_EQ_INT(hp_elf__read_vaddr(path, 0x10, buf, 16, &err), -EFAULT);
	CHECK(err.msg[0]);

	/* the same file from memory gives the same table */
	f = fopen(path, "rb");
	REQUIRE(f);
	{
		static char img[4 << 20];
		size_t len = fread(img, 1, sizeof(img), f);

		REQUIRE(hp_symtab__parse_elf(img, len, &st2, &err) == 0);
		CHECK_EQ_INT(hp_symtab__count(st2), hp_symtab__count(st));
		CHECK_STR(hp_symtab__elf_info(st2)->build_id, info->build_id);
		/* truncated images are refused or give fewer symbols, never crash */
		for (size_t cut = 0; cut < len; cut += len / 50 + 1) {
			struct hp_symtab *t = NULL;

			if (hp_symtab__parse_elf(img, cut, &t, &err) == 0)
				CHECK(hp_symtab__count(t) > 0);
			hp_symtab__free(t);
		}
	}
	fclose(f);
	hp_symtab__free(st2);
	st2 = NULL;

	/* the same file through an fd the caller opened: the same table and bytes, and
	 * the fd stays open and unmoved */
	{
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		REQUIRE(fd >= 0);
		REQUIRE(hp_symtab__load_elf_fd(fd, "static", &st2, &err) == 0);
		CHECK_EQ_INT(hp_symtab__count(st2), hp_symtab__count(st));
		CHECK_STR(hp_symtab__elf_info(st2)->build_id, info->build_id);
		s = hp_symtab__find(st, "hp_fixture_bytes");
		CHECK_EQ_INT(hp_elf__read_vaddr_fd(fd, "static", s->addr, buf, 32, &err), 32);
		CHECK(memcmp(buf, "HPROBE-FIXTURE-0123456789abcdef", 32) == 0);
		CHECK_EQ_INT(hp_elf__read_vaddr_fd(fd, "static", 0x10, buf, 16, &err), -EFAULT);
		CHECK(strstr(err.msg, "static") != NULL);
		CHECK_EQ_INT(lseek(fd, 0, SEEK_CUR), 0);
		close(fd);
		CHECK_EQ_INT(hp_symtab__load_elf_fd(-1, "x", &st2, &err), -EINVAL);
	}
	hp_symtab__free(st2);
	hp_symtab__free(st);
}

static void test_kinds_of_files(const char *dir)
{
	struct hp_symtab *st = NULL;
	struct hp_err err = { { 0 } };
	struct hp_elf_info info;
	const struct hp_elf_info *ip;

	REQUIRE(hp_symtab__load_elf(fix(dir, "static-pie"), &st, &err) == 0);
	ip = hp_symtab__elf_info(st);
	CHECK(ip->is_pie && ip->is_static && !ip->is_shared_lib);
	check_kinds(st);
	hp_symtab__free(st);

	REQUIRE(hp_symtab__load_elf(fix(dir, "pie"), &st, &err) == 0);
	ip = hp_symtab__elf_info(st);
	CHECK(ip->is_pie && !ip->is_static && !ip->is_shared_lib);
	CHECK_EQ_U64(ip->first_load_vaddr, 0);
	hp_symtab__free(st);

	REQUIRE(hp_symtab__load_elf(fix(dir, "libfixture.so"), &st, &err) == 0);
	CHECK(hp_symtab__elf_info(st)->is_shared_lib);
	CHECK(hp_symtab__find(st, "hp_fixture_func") != NULL);
	hp_symtab__free(st);

	CHECK_EQ_INT(hp_symtab__load_elf(fix(dir, "stripped"), &st, &err), -ENODATA);
	CHECK(st == NULL);
	CHECK_EQ_INT(hp_elf__read_info(path, &info, &err), 0);
	CHECK(info.is_elf && info.is_pie && strlen(info.build_id) == 40);

	REQUIRE(hp_symtab__load_elf(fix(dir, "fixture.o"), &st, &err) == 0);
	CHECK(hp_symtab__find(st, "hp_fixture_func") != NULL);
	CHECK(!hp_symtab__elf_info(st)->is_pie);
	hp_symtab__free(st);

	CHECK_EQ_INT(hp_symtab__load_elf(fix(dir, "../CTestTestfile.cmake"), &st, &err), -ENOEXEC);
	CHECK_EQ_INT(hp_symtab__parse_elf("\x7f"
					  "ELF",
					  4, &st, &err),
		     -ENOEXEC);
	CHECK_EQ_INT(hp_symtab__load_elf("/nonexistent", &st, &err), -ENOENT);
}

__attribute__((noinline)) int hp_test_marker_func(int x)
{
	return x * 7 + 3;
}

static void test_self(void)
{
	struct hp_symtab *st = NULL;
	struct hp_err err = { { 0 } };
	const struct hp_sym *s;
	uint8_t code[32];

	REQUIRE(hp_symtab__load_elf("/proc/self/exe", &st, &err) == 0);
	s = hp_symtab__find(st, "hp_test_marker_func");
	REQUIRE(s);
	CHECK_EQ_INT(hp_elf__read_vaddr("/proc/self/exe", s->addr, code, sizeof(code), &err), sizeof(code));
	CHECK(memcmp(code, (const void *)(uintptr_t)hp_test_marker_func, s->size < 32 ? s->size : 32) == 0);
	hp_symtab__free(st);
}

int main(int argc, char **argv)
{
	REQUIRE(argc == 2);
	test_static(argv[1]);
	test_kinds_of_files(argv[1]);
	test_self();
	TEST_MAIN_END();
}
