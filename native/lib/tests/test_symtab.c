/* Text symbol maps: tolerant parsing (malformed lines counted, CRLF, modules,
 * long lines, no final newline), kallsyms sizes, find, lookup, search, suggest. */
#include <errno.h>

#include "hp_test.h"
#include "hprobe/symtab.h"

static const char map[] = "ffffffff81000000 T _stext\n"
			  "ffffffff81000000 T startup_64\r\n"
			  "ffffffff81000100 t helper\n"
			  "not a line at all\n"
			  "ffffffff81000200 T vmsplice_to_user\n"
			  "\n"
			  "   \t \n"
			  "ffffffff81000300 W weak_fn\n"
			  "ffffffff81000400 D some_data\n"
			  "ffffffff81000500 T do_sys_open\n"
			  "ffffffff81000600 T __x64_sys_vmsplice\n"
			  "ffffffffc0001000 t mod_fn\t[e1000]\n"
			  "ffffffffc0001000 t mod_bad\t[unterminated\n"
			  "ffffffffc0002000 t helper\t[e1000]\n"
			  "12345678901234567 T too_many_digits\n"
			  "ffffffff81000700 TT two_letters\n"
			  "ffffffff81000700 T trailing garbage\n"
			  "ffffffff81000800 1 digit_type\n"
			  "ffffffff81000900 T name\x01with_control\n"
			  "ffffffff81000a00 T last_no_newline";

static void test_parse(void)
{
	struct hp_symtab_stats stats;
	struct hp_symtab *st = NULL;
	struct hp_err err = { { 0 } };
	const struct hp_sym *s, *res[8];
	uint64_t off = 0;

	REQUIRE(hp_symtab__parse_text(map, sizeof(map) - 1, &st, &stats, &err) == 0);
	CHECK_EQ_INT(stats.lines, 20);
	CHECK_EQ_INT(stats.skipped, 7);
	CHECK_EQ_INT(hp_symtab__count(st), 11);
	CHECK(hp_symtab__elf_info(st) == NULL);

	/* sorted by address, ties by name */
	CHECK_STR(hp_symtab__at(st, 0)->name, "_stext");
	CHECK_STR(hp_symtab__at(st, 1)->name, "startup_64");
	for (size_t i = 1; i < hp_symtab__count(st); i++)
		CHECK(hp_symtab__at(st, i - 1)->addr <= hp_symtab__at(st, i)->addr);

	s = hp_symtab__find(st, "startup_64");
	REQUIRE(s);
	CHECK_EQ_U64(s->addr, 0xffffffff81000000ull);
	CHECK_EQ_INT(s->type, 'T');
	CHECK_EQ_U64(s->size, 0x100); /* to the next text symbol at a greater address */
	CHECK(s->module == NULL);
	s = hp_symtab__find(st, "last_no_newline");
	REQUIRE(s);
	CHECK_EQ_U64(s->size, 0xffffffffc0001000ull - 0xffffffff81000a00ull);
	CHECK_EQ_U64(hp_symtab__at(st, hp_symtab__count(st) - 1)->size, 0); /* the last one has no known end */
	s = hp_symtab__find(st, "mod_fn");
	REQUIRE(s);
	CHECK_STR(s->module, "e1000");
	CHECK_EQ_U64(hp_symtab__find(st, "some_data")->size, 0);
	CHECK_EQ_U64(hp_symtab__find(st, "weak_fn")->size, 0x200); /* W is text; data between is skipped */
	CHECK(hp_symtab__find(st, "nope") == NULL);
	CHECK(hp_symtab__find(st, "two_letters") == NULL);

	/* duplicate names: find is the lowest address, find_all has both */
	s = hp_symtab__find(st, "helper");
	REQUIRE(s);
	CHECK_EQ_U64(s->addr, 0xffffffff81000100ull);
	CHECK_EQ_INT(hp_symtab__find_all(st, "helper", res, 8), 2);
	CHECK_STR(res[1]->module, "e1000");

	s = hp_symtab__lookup_addr(st, 0xffffffff81000150ull, &off);
	REQUIRE(s);
	CHECK_STR(s->name, "helper");
	CHECK_EQ_U64(off, 0x50);
	s = hp_symtab__lookup_addr(st, 0xffffffff81000010ull, &off);
	REQUIRE(s);
	CHECK_STR(s->name, "_stext");                                /* globals tie: first by name */
	s = hp_symtab__lookup_addr(st, 0xffffffff81000a10ull, &off); /* sizeless last symbol */
	REQUIRE(s);
	CHECK_STR(s->name, "last_no_newline");
	CHECK_EQ_U64(off, 0x10);
	CHECK(hp_symtab__lookup_addr(st, 0x1000, &off) == NULL);

	/* as a person reads an address: inside a function, at its start, nowhere */
	char at[64];
	CHECK_EQ_INT(hp_symtab__describe(st, 0xffffffff81000150ull, at, sizeof at), 11);
	CHECK_STR(at, "helper+0x50");
	CHECK_EQ_INT(hp_symtab__describe(st, 0xffffffff81000100ull, at, sizeof at), 6);
	CHECK_STR(at, "helper");
	CHECK_EQ_INT(hp_symtab__describe(st, 0xffffffffc0002010ull, at, sizeof at), 11); /* the last: no size */
	CHECK_STR(at, "helper+0x10");
	CHECK_EQ_INT(hp_symtab__describe(st, 0xffffffffc0012000ull, at, sizeof at), -ENOENT); /* too far from it */
	CHECK_STR(at, "");
	CHECK_EQ_INT(hp_symtab__describe(st, 0x1000, at, sizeof at), -ENOENT);
	CHECK_EQ_INT(hp_symtab__describe(st, 0xffffffff81000150ull, at, 5), 11); /* cut, terminated */
	CHECK_STR(at, "help");

	CHECK_EQ_INT(hp_symtab__search(st, "vmsplice", 0, res, 8), 2);
	CHECK_STR(res[0]->name, "vmsplice_to_user");
	CHECK_EQ_INT(hp_symtab__search(st, "*sys_*", 0, res, 8), 2);
	CHECK_EQ_INT(hp_symtab__search(st, "do_sys_op?n", 0, res, 8), 1);
	CHECK_EQ_INT(hp_symtab__search(st, "do_sys", 0, res, 8), 1); /* substring */
	CHECK_EQ_INT(hp_symtab__search(st, "do_sys", 0, NULL, 0), 1);
	CHECK_EQ_INT(hp_symtab__search(st, "_", 1, res, 1), 8);     /* total beyond max */
	CHECK_EQ_INT(hp_symtab__search(st, "*data", 1, res, 8), 0); /* D is not text */
	CHECK_EQ_INT(hp_symtab__search(st, "*data", 0, res, 8), 1);

	CHECK(hp_symtab__suggest(st, "do_sys_opne", res, 3) >= 1);
	CHECK_STR(res[0]->name, "do_sys_open");
	CHECK(hp_symtab__suggest(st, "helpr", res, 3) >= 1);
	CHECK_STR(res[0]->name, "helper");
	CHECK_EQ_INT(hp_symtab__suggest(st, "zzzzzzzzzzzzzz", res, 3), 0);
	hp_symtab__free(st);
}

/* GCC clones: the entry is the suffixed name, never its ".cold" part; two different
 * clones are ambiguous. */
static void test_find_clone(void)
{
	static const char map[] = "ffffffff81000100 t finish_task_switch.isra.0\n"
				  "ffffffff81000900 t finish_task_switch.isra.0.cold\n"
				  "ffffffff81001000 T __switch_to\n"
				  "ffffffff81002000 t twice.part.0\n"
				  "ffffffff81003000 t twice.constprop.0\n"
				  "ffffffff81004000 d data_only.0\n";
	struct hp_symtab *st = NULL;
	struct hp_err err;
	REQUIRE(hp_symtab__parse_text(map, sizeof(map) - 1, &st, NULL, &err) == 0);
	const struct hp_sym *s = hp_symtab__find_clone(st, "finish_task_switch");
	REQUIRE(s != NULL);
	CHECK_EQ_U64(s->addr, 0xffffffff81000100ull);
	s = hp_symtab__find_clone(st, "__switch_to");
	REQUIRE(s != NULL);
	CHECK_EQ_U64(s->addr, 0xffffffff81001000ull);
	CHECK(hp_symtab__find_clone(st, "twice") == NULL);
	CHECK(hp_symtab__find_clone(st, "data_only") == NULL);
	CHECK(hp_symtab__find_clone(st, "finish_task") == NULL);
	CHECK(hp_symtab__find_clone(st, "") == NULL);
	CHECK(hp_symtab__find_clone(NULL, "x") == NULL);
	hp_symtab__free(st);
}

static void test_edge_inputs(void)
{
	struct hp_symtab_stats stats;
	struct hp_symtab *st = NULL;
	struct hp_err err = { { 0 } };
	size_t n = 200000;
	char *big = malloc(n + 64);

	/* nothing valid: -ENODATA with a message */
	CHECK_EQ_INT(hp_symtab__parse_text("garbage\n", 8, &st, &stats, &err), -ENODATA);
	CHECK(st == NULL && err.msg[0]);
	CHECK_EQ_INT(hp_symtab__parse_text("", 0, &st, NULL, &err), -ENODATA);
	CHECK_EQ_INT(hp_symtab__parse_text(NULL, 5, &st, NULL, &err), -EINVAL);

	/* a very long line is skipped, the next one still parsed */
	REQUIRE(big);
	memset(big, 'a', n);
	memcpy(big, "ffffffff81000000 T ", 19);
	memcpy(big + n, "\n0000000000001000 T ok\n", 24);
	REQUIRE(hp_symtab__parse_text(big, n + 23, &st, &stats, &err) == 0);
	CHECK_EQ_INT(stats.skipped, 1);
	CHECK_EQ_INT(hp_symtab__count(st), 1);
	CHECK(hp_symtab__find(st, "ok") != NULL);
	hp_symtab__free(st);
	free(big);

	/* NUL bytes inside the input do not cut the parse */
	{
		static const char withnul[] = "0000000000000010 T a\n00000000\0000020 T b\n0000000000000030 T c\n";

		REQUIRE(hp_symtab__parse_text(withnul, sizeof(withnul) - 1, &st, &stats, &err) == 0);
		CHECK_EQ_INT(hp_symtab__count(st), 2);
		CHECK(hp_symtab__find(st, "c") != NULL);
		hp_symtab__free(st);
	}
	CHECK_EQ_INT(hp_symtab__load_text("/nonexistent/map", &st, &err), -ENOENT);
	hp_symtab__free(NULL);
	CHECK(hp_symtab__find(NULL, "x") == NULL);
	CHECK(hp_symtab__lookup_addr(NULL, 1, NULL) == NULL);
}

int main(void)
{
	test_parse();
	test_find_clone();
	test_edge_inputs();
	TEST_MAIN_END();
}
