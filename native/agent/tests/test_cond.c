/* Probe conditions (--if): the compiler's types and errors, the one evaluator both
 * tiers run, and hp_pcond_check against programs no compiler would write. */
#include <stdio.h>
#include <string.h>

#include "hp_test.h"
#include "probes/cond.h"
#include "probes/probe.h"

/* write(2)'s parameters as BTF gives them, and an int one for signed compares */
static void probe_of(struct hp_probe *p, const char *cond)
{
	static const struct hp_param params[] = { { "fd", "unsigned int", HP_PARAM_UINT, 4 },
						  { "buf", "const char *", HP_PARAM_STR, 8 },
						  { "count", "size_t", HP_PARAM_UINT, 8 },
						  { "whence", "int", HP_PARAM_INT, 4 } };
	memset(p, 0, sizeof *p);
	p->nparams = 4;
	memcpy(p->params, params, sizeof params);
	snprintf(p->func, sizeof p->func, "ksys_write");
	snprintf(p->params_from, sizeof p->params_from, "btf");
	snprintf(p->o.cond_text, sizeof p->o.cond_text, "%s", cond);
}

struct hit {
	uint64_t args[6];
	int have_task;
	int32_t pid, tgid;
	char comm[16];
	const char *mem;
};

static int eval(const char *cond, const struct hit *h, const char *mem_spec)
{
	struct hp_probe p;
	struct hp_err err;
	probe_of(&p, cond);
	if (mem_spec) {
		REQUIRE(hp_probe__parse_mem_opts(mem_spec, &p.o, &err) == 0);
		REQUIRE(hp_probe__args_by_name(&p, NULL, &err) == 0);
	}
	if (hp_cond__compile(&p, &err)) {
		fprintf(stderr, "%s: %s\n", cond, err.msg);
		return -1;
	}
	CHECK(hp_pcond_check(&p.cond) == NULL);
	struct hp_pcond_in in = { .args = h->args,
				  .have_task = h->have_task,
				  .pid = h->pid,
				  .tgid = h->tgid,
				  .comm = h->comm,
				  .mem = (const uint8_t *)h->mem,
				  .memlen = h->mem ? (uint32_t)strlen(h->mem) : 0 };
	return hp_pcond_eval(&p.cond, &in);
}

static void test_values(void)
{
	struct hit w = { { 1, 0x1000, 5000, 0xffffffff }, 1, 42, 40, "sysloop", "sysloop" };
	CHECK_EQ_INT(eval("fd == 1 && count > 4096", &w, NULL), 1);
	CHECK_EQ_INT(eval("fd == 1 && count > 5000", &w, NULL), 0);
	CHECK_EQ_INT(eval("fd != 1 || count >= 5000", &w, NULL), 1);
	/* typed: whence is an int (0xffffffff is -1), arg4 the raw register */
	CHECK_EQ_INT(eval("whence < 0 && whence == -1", &w, NULL), 1);
	CHECK_EQ_INT(eval("arg4 < 0", &w, NULL), 0);
	CHECK_EQ_INT(eval("arg4 == 0xffffffff", &w, NULL), 1);
	/* an unsigned int's upper half of the register is not its value */
	struct hit dirty = w;
	dirty.args[0] = 0xdead000000000001ull;
	CHECK_EQ_INT(eval("fd == 1", &dirty, NULL), 1);
	CHECK_EQ_INT(eval("arg1 == 1", &dirty, NULL), 0);
	/* C's rule: against an unsigned size_t, -1 is the largest value */
	CHECK_EQ_INT(eval("count > -1", &w, NULL), 0);
	CHECK_EQ_INT(eval("!(fd == 1)", &w, NULL), 0);
	CHECK_EQ_INT(eval("(count & 0xff) == (5000 & 255) && (fd | 2) == 3 && (fd ^ 1) == 0", &w, NULL), 1);
	CHECK_EQ_INT(eval("~fd & 1", &w, NULL), 0);
	CHECK_EQ_INT(eval("-fd == -1", &w, NULL), 1);
	CHECK_EQ_INT(eval("1 || 0 && 0", &w, NULL), 1); /* && binds tighter */
	CHECK_EQ_INT(eval("count", &w, NULL), 1);
	/* the task */
	CHECK_EQ_INT(eval("pid == 42 && tgid == 40", &w, NULL), 1);
	CHECK_EQ_INT(eval("comm == \"sysloop\"", &w, NULL), 1);
	CHECK_EQ_INT(eval("comm == \"sysloo\"", &w, NULL), 0);
	CHECK_EQ_INT(eval("comm == \"sys*\" && comm != \"bash\"", &w, NULL), 1);
	CHECK_EQ_INT(eval("comm == \"*\"", &w, NULL), 1);
	struct hit notask = w;
	notask.have_task = 0;
	CHECK_EQ_INT(eval("comm != \"bash\"", &notask, NULL), 0);
	CHECK_EQ_INT(eval("pid != 1", &notask, NULL), 0);
	CHECK_EQ_INT(eval("fd == 1", &notask, NULL), 1);
	/* a guest's comm fills all 16 bytes: no NUL to rely on */
	struct hit full = w;
	memcpy(full.comm, "aaaaaaaaaaaaaaaa", 16);
	CHECK_EQ_INT(eval("comm == \"aaaa*\"", &full, NULL), 1);
	CHECK_EQ_INT(eval("comm == \"aaaaaaaaaaaaaaa\"", &full, NULL), 0);
	/* the string --mem captures, by its parameter's name or as mem */
	CHECK_EQ_INT(eval("buf == \"sysloop\"", &w, "buf:s16"), 1);
	CHECK_EQ_INT(eval("buf == \"sys*\" && mem != \"x\"", &w, "buf:s16"), 1);
	struct hit unread = w;
	unread.mem = NULL;
	CHECK_EQ_INT(eval("buf == \"*\"", &unread, "buf:s16"), 0);
	CHECK_EQ_INT(eval("buf == 0x1000", &w, NULL), 1); /* not captured: the pointer */
}

/* The message for cond, or "" when it compiles. */
static const char *error_of(const char *cond, const char *mem_spec, int kind_count)
{
	static struct hp_err err;
	struct hp_probe p;
	probe_of(&p, cond);
	if (kind_count)
		p.o.kind = HP_PROBE_COUNT;
	if (mem_spec) {
		REQUIRE(hp_probe__parse_mem_opts(mem_spec, &p.o, &err) == 0);
		REQUIRE(hp_probe__args_by_name(&p, NULL, &err) == 0);
	}
	err.msg[0] = 0;
	return hp_cond__compile(&p, &err) ? err.msg : "";
}

#define CHECK_ERR(cond, mem, count, want)                                                \
	do {                                                                             \
		const char *m_ = error_of(cond, mem, count);                             \
		if (!strstr(m_, want)) {                                                 \
			fprintf(stderr, "%s: '%s' does not say '%s'\n", cond, m_, want); \
			CHECK(0);                                                        \
		}                                                                        \
	} while (0)

static void test_errors(void)
{
	CHECK_ERR("fdd == 1", NULL, 0, "column 1: unknown name (known: fd, buf, count, whence, arg1..arg6");
	CHECK_ERR("fd = 1", NULL, 0, "column 4: not a number, name, \"string\" or operator at '='");
	CHECK_ERR("fd ==", NULL, 0, "column 6: expected a value at the end");
	CHECK_ERR("comm > 3", NULL, 0, "column 1: a string compares only with == or !=");
	CHECK_ERR("\"x\" == comm", NULL, 0, "column 1: a \"literal\" goes on the right");
	CHECK_ERR("(fd == 1", NULL, 0, "column 9: expected ')'");
	CHECK_ERR("fd == 1 1", NULL, 0, "column 9: expected an operator at '1'");
	CHECK_ERR("fd == 08", NULL, 0, "column 7: not a number");
	CHECK_ERR("fd == 99999999999999999999", NULL, 0, "column 7: not a number");
	CHECK_ERR("comm == 3", NULL, 0, "column 9: a string compares to a \"literal\"");
	CHECK_ERR("comm == \"unterminated", NULL, 0, "column 9");
	CHECK_ERR("buf == \"x\"", NULL, 0, "a \"literal\" goes on the right");
	CHECK_ERR("comm == \"0123456789012345678901234567890123\"", NULL, 0, "longer than 31 bytes");
	CHECK_ERR("comm == \"a\" || comm == \"b\" || comm == \"c\"", NULL, 0, "more than 2 string comparisons");
	CHECK_ERR("buf == \"x\"", "buf:s16", 1, "a counting probe captures no memory");
	CHECK_ERR("mem == \"x\"", "buf:16", 0, "capture it as one");
	char longer[256];
	longer[0] = 0;
	for (int i = 0; i < 12; i++)
		strcat(longer, "fd == 1 && ");
	strcat(longer, "1");
	CHECK_ERR(longer, NULL, 0, "condition too long (32 operations at most)");
	/* right-nested: 17 values would wait on the stack, but take 33 operations */
	char deep[256] = "";
	for (int i = 0; i < 17; i++)
		strcat(deep, "1 == (");
	strcat(deep, "1");
	for (int i = 0; i < 17; i++)
		strcat(deep, ")");
	CHECK_ERR(deep, NULL, 0, "condition too long");
	CHECK_STR(error_of("fd == 1 && comm == \"x\" && buf == \"y*\"", "buf:s16", 0), "");
	CHECK_ERR("ret < 0", NULL, 0, "column 1: only a return probe (FUNC%return) has ret and latency");
}

/* A return probe's condition: ret typed by the return type, latency; no arguments. */
static int eval_ret(const char *cond, const struct hp_param *rtype, uint64_t rax, uint64_t lat, char *msg)
{
	struct hp_probe p;
	struct hp_err err;
	probe_of(&p, cond);
	p.nparams = 0;
	p.ret = 1;
	if (rtype) {
		p.has_ret_type = 1;
		p.ret_type = *rtype;
	}
	if (hp_cond__compile(&p, &err)) {
		snprintf(msg, 256, "%s", err.msg);
		return -1;
	}
	CHECK(hp_pcond_check(&p.cond) == NULL);
	CHECK(p.cond.need & HP_PCOND_NEED_RET);
	struct hp_pcond_in in = {
		.have_task = 1, .pid = 5, .tgid = 5, .comm = "cat", .retval = rax, .latency_ns = lat
	};
	return hp_pcond_eval(&p.cond, &in);
}

static void test_return(void)
{
	const struct hp_param lng = { "", "long", HP_PARAM_INT, 8 }, i32 = { "", "int", HP_PARAM_INT, 4 },
			      u32 = { "", "unsigned int", HP_PARAM_UINT, 4 };
	char msg[256] = "";
	CHECK_EQ_INT(eval_ret("ret == -2 && comm == \"cat\"", &lng, (uint64_t)-2, 10, msg), 1);
	CHECK_EQ_INT(eval_ret("ret < 0", &lng, 3, 10, msg), 0);
	/* an int's upper half of rax is not its value; an unsigned int is never negative */
	CHECK_EQ_INT(eval_ret("ret == -1", &i32, 0x12345678ffffffffull, 0, msg), 1);
	CHECK_EQ_INT(eval_ret("ret < 0", &u32, 0xffffffffull, 0, msg), 0);
	CHECK_EQ_INT(eval_ret("ret < 0", NULL, (uint64_t)-5, 0, msg), 1); /* unknown: rax, signed */
	CHECK_EQ_INT(eval_ret("latency > 1000000 && pid == 5", &lng, 0, 2000000, msg), 1);
	CHECK_EQ_INT(eval_ret("latency > -1", &lng, 0, 5, msg), 0); /* nanoseconds are unsigned */
	CHECK_EQ_INT(eval_ret("count > 1", &lng, 0, 0, msg), -1);
	CHECK(strstr(msg, "column 1: a return probe's condition reads ret, latency, pid, tgid, comm and registers") !=
	      NULL);
	CHECK_EQ_INT(eval_ret("arg1 > 1", &lng, 0, 0, msg), -1);
}

/* Registers by name (enum hp_reg's), as 64-bit unsigned values. */
static void test_registers(void)
{
	struct hp_probe p;
	struct hp_err err;
	probe_of(&p, "rsp > 0x1000 && (rflags & 0x200) != 0 && cr3 == 0x5000 && fd == 1");
	REQUIRE(hp_cond__compile(&p, &err) == 0);
	CHECK(hp_pcond_check(&p.cond) == NULL);
	CHECK_EQ_INT(p.cond.regs, (1u << HP_REG_RSP) | (1u << HP_REG_RFLAGS) | (1u << HP_REG_CR3));
	uint64_t regs[HP_NREGS] = { 0 }, args[6] = { 1 };
	regs[HP_REG_RSP] = 0xffffc90000123f00ull;
	regs[HP_REG_RFLAGS] = 0x246;
	regs[HP_REG_CR3] = 0x5000;
	struct hp_pcond_in in = { .args = args, .regs = regs };
	CHECK_EQ_INT(hp_pcond_eval(&p.cond, &in), 1);
	regs[HP_REG_RFLAGS] = 0x46;
	CHECK_EQ_INT(hp_pcond_eval(&p.cond, &in), 0);
	struct hp_pcond c = p.cond;
	c.regs &= ~(1u << HP_REG_CR3); /* reads one it does not declare */
	CHECK(hp_pcond_check(&c) != NULL);
	c = p.cond;
	c.ops[0] = (struct hp_pcop_insn){ .op = HP_PCOP_REG, .a = HP_PCOND_NREGS };
	CHECK(hp_pcond_check(&c) != NULL);
}

/* Programs from a peer that lies: hp_pcond_check refuses each before any evaluation. */
static void test_check(void)
{
	struct hp_probe p;
	struct hp_err err;
	probe_of(&p, "fd == 1 && comm == \"x\"");
	REQUIRE(hp_cond__compile(&p, &err) == 0);
	const struct hp_pcond good = p.cond;
	CHECK(hp_pcond_check(&good) == NULL);
	struct hp_pcond c;
#define BAD(edit)                                  \
	do {                                       \
		c = good;                          \
		edit;                              \
		CHECK(hp_pcond_check(&c) != NULL); \
	} while (0)
	BAD(c.nops = HP_PCOND_MAX_OPS + 1);
	BAD(c.ops[0].op = 0);
	BAD(c.ops[0].op = HP_PCOP_LAST + 1);
	BAD(c.ops[0].a = 7);
	BAD(c.ops[0] = ((struct hp_pcop_insn){ .op = HP_PCOP_RET, .b = 3 }));
	BAD(c.ops[0] = ((struct hp_pcop_insn){ .op = HP_PCOP_LAT })); /* reads what it did not declare */
	BAD(c.ops[0].a = 0);
	BAD(c.ops[0].b = 3);
	BAD(c.ops[0].c = 2);
	BAD(c.nargs = 0);
	BAD(c.nargs = 7); /* the plugin reads nargs arguments into an array of 6 */
	BAD(c.need = 0);
	BAD(memset(c.strs[1], 'x', HP_PCOND_STR_BYTES));
	BAD(c.ops[0].op = HP_PCOP_EQ); /* underflow */
	BAD(c.nops = 2);               /* two values left */
	BAD({
		int i = 0;
		for (; i < HP_PCOND_MAX_OPS; i++)
			c.ops[i] = (struct hp_pcop_insn){ .op = HP_PCOP_IMM };
		c.nops = HP_PCOND_MAX_OPS;
	}); /* overflow */
	for (int i = 0; i < good.nops; i++)
		if (good.ops[i].op == HP_PCOP_STR) {
			BAD(c.ops[i].b = HP_PCOND_MAX_STRS);
			BAD(c.ops[i].a = 2);
		}
	c = good;
	c.nops = 0;
	CHECK(hp_pcond_check(&c) == NULL); /* no condition: every hit */
}

int main(void)
{
	test_values();
	test_errors();
	test_return();
	test_registers();
	test_check();
	TEST_MAIN_END();
}
