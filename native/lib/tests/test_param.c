/* Parameters: C type spellings of the syscall metadata, and values as hits show them. */
#include "hp_test.h"
#include "hprobe/param.h"

static const char *fmt(enum hp_param_class cls, uint32_t size, uint64_t raw)
{
	static char buf[32];
	struct hp_param p = { .cls = cls, .size = size };

	hp_param__format(&p, raw, buf, sizeof buf);
	return buf;
}

/* A kernel with one function, do_thing at 0xffffffff81000000. */
static int name_one(void *ud, uint64_t addr, char *buf, size_t cap)
{
	(void)ud;
	if (addr < 0xffffffff81000000ull || addr >= 0xffffffff81000100ull)
		return 0;
	return snprintf(buf, cap, "do_thing+0x%llx", (unsigned long long)(addr - 0xffffffff81000000ull));
}

int main(void)
{
	static const struct {
		const char *ctype, *type;
		enum hp_param_class cls;
		uint32_t size;
	} cases[] = {
		{ "unsigned int", "unsigned int", HP_PARAM_UINT, 4 },
		{ "const char __user *", "const char *", HP_PARAM_STR, 8 },
		{ "char __user *  const __user *", "char * const *", HP_PARAM_PTR, 8 },
		{ "struct stat __user *", "struct stat *", HP_PARAM_PTR, 8 },
		{ "unsigned long", "unsigned long", HP_PARAM_UINT, 8 },
		{ "long", "long", HP_PARAM_INT, 8 },
		{ "int", "int", HP_PARAM_INT, 4 },
		{ "u32", "u32", HP_PARAM_UINT, 4 },
		{ "__s16", "__s16", HP_PARAM_INT, 2 },
		{ "u12", "u12", HP_PARAM_RAW, 8 },
		{ "size_t", "size_t", HP_PARAM_RAW, 8 }, /* only BTF knows */
		{ "", "", HP_PARAM_RAW, 8 },
	};
	struct hp_param p;
	char small[4];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		hp_param__from_ctype(&p, cases[i].ctype);
		CHECK_STR(p.type, cases[i].type);
		CHECK_EQ_INT(p.cls, cases[i].cls);
		CHECK_EQ_INT(p.size, cases[i].size);
	}
	/* a 64-bit register holding a 32-bit value: its upper half is not the value's */
	CHECK_STR(fmt(HP_PARAM_UINT, 4, 0xdeadbeef00000003ull), "3");
	CHECK_STR(fmt(HP_PARAM_INT, 4, 0x00000000fffffffeull), "-2");
	CHECK_STR(fmt(HP_PARAM_INT, 8, 0xffffffffffffff9cull), "-100");
	CHECK_STR(fmt(HP_PARAM_INT, 1, 0x80), "-128");
	CHECK_STR(fmt(HP_PARAM_UINT, 8, UINT64_MAX), "18446744073709551615");
	CHECK_STR(fmt(HP_PARAM_PTR, 8, 0x7ffd1234), "0x7ffd1234");
	CHECK_STR(fmt(HP_PARAM_STR, 8, 0xffff888000001000ull), "0xffff888000001000");
	CHECK_STR(fmt(HP_PARAM_RAW, 4, 0x100000001ull), "0x100000001"); /* raw: the whole register */
	CHECK_STR(fmt(HP_PARAM_UINT, 0, 5), "5");
	CHECK_EQ_INT(hp_param__format(NULL, 255, small, sizeof small), 3);
	CHECK_STR(small, "0xf");
	CHECK_EQ_INT(hp_param__format(NULL, 1, small, 0), 0);

	/* a string argument that points at the captured memory reads as the string */
	{
		static const struct hp_param ps[] = { { "fd", "unsigned int", HP_PARAM_UINT, 4 },
						      { "buf", "const char *", HP_PARAM_STR, 8 } };
		const uint64_t vals[] = { 0x100000001ull, 0x7000, 9 };
		const uint8_t bytes[] = "sys\\\x01loop\0tail";
		struct hp_param_mem m = { 0x7000, bytes, sizeof bytes - 1 };
		char out[HP_PARAM_ARGS_MAX];
		hp_param__format_args(ps, 2, vals, 3, &m, out, sizeof out);
		CHECK_STR(out, "fd=1 buf=\"sys\\\\\\x01loop\" arg3=0x9");
		m.addr = 0x7001; /* elsewhere: the pointer */
		hp_param__format_args(ps, 2, vals, 3, &m, out, sizeof out);
		CHECK_STR(out, "fd=1 buf=0x7000 arg3=0x9");
		hp_param__format_args(NULL, -1, vals, 2, &m, out, sizeof out);
		CHECK_STR(out, "arg1=0x100000001 arg2=0x7000");
		hp_param__format_args(ps, 2, vals, 3, NULL, out, 8); /* cut, terminated */
		CHECK_STR(out, "fd=1 bu");
	}

	/* a pointer the namer knows is followed by its name; others, and non-pointers, are not */
	{
		static const struct hp_param ps[] = { { "fn", "rcu_callback_t", HP_PARAM_PTR, 8 },
						      { "head", "struct rcu_head *", HP_PARAM_PTR, 8 },
						      { "n", "long unsigned int", HP_PARAM_UINT, 8 } };
		const uint64_t vals[] = { 0xffffffff81000010ull, 0xffff888000001000ull, 0xffffffff81000010ull };
		struct hp_param_namer namer = { name_one, NULL };
		char out[HP_PARAM_ARGS_MAX + HP_PARAM_NAMES_MAX];
		hp_param__format_args_named(ps, 3, vals, 3, NULL, &namer, out, sizeof out);
		CHECK_STR(out, "fn=0xffffffff81000010<do_thing+0x10> head=0xffff888000001000 n=18446744071578845200");
		hp_param__format_args_named(ps, 3, vals, 3, NULL, NULL, out, sizeof out);
		CHECK_STR(out, "fn=0xffffffff81000010 head=0xffff888000001000 n=18446744071578845200");
	}

	CHECK_EQ_INT(hp_param__class_of("uint"), HP_PARAM_UINT);
	CHECK_EQ_INT(hp_param__class_of("nope"), -1);
	CHECK_STR(hp_param__class_name(HP_PARAM_STR), "str");
	CHECK(hp_param__class_name(HP_PARAM_NCLASS) == NULL);
	CHECK(hp_param__valid_name("count") && hp_param__valid_name("_x9"));
	CHECK(!hp_param__valid_name("9x") && !hp_param__valid_name("a-b") && !hp_param__valid_name(""));
	CHECK(!hp_param__valid_name("a_very_long_parameter_name_that_is_too_long"));
	TEST_MAIN_END();
}
