/* Aggregations (--agg): the parser's errors, keys of each kind, every function's
 * figures, power-of-two buckets at their edges, the row cap and its 'other' row, the
 * table growing past its first allocation, clear, and guest bytes in string keys. */
#include <stdio.h>
#include <string.h>

#include "hp_test.h"
#include "hprobe/journal.h"
#include "probes/agg.h"
#include "probes/probe.h"

static void probe_of(struct hp_probe *p, int ret)
{
	static const struct hp_param params[] = { { "fd", "unsigned int", HP_PARAM_UINT, 4 },
						  { "buf", "const char *", HP_PARAM_STR, 8 },
						  { "count", "size_t", HP_PARAM_UINT, 8 },
						  { "off", "int", HP_PARAM_INT, 4 } };
	memset(p, 0, sizeof *p);
	p->o.kind = HP_PROBE_CAPTURE;
	p->ret = ret;
	if (!ret) {
		p->nparams = 4;
		memcpy(p->params, params, sizeof params);
	} else {
		p->has_ret_type = 1;
		p->ret_type = (struct hp_param){ "", "long", HP_PARAM_INT, 8 };
	}
	snprintf(p->params_from, sizeof p->params_from, "btf");
}

static struct hp_agg *compile(const char *text, uint32_t rows, int ret, char *msg)
{
	struct hp_probe p;
	struct hp_err err = { 0 };
	struct hp_agg *a = NULL;
	probe_of(&p, ret);
	if (hp_agg__compile(&p, text, rows, &a, &err)) {
		snprintf(msg, 256, "%s", err.msg);
		return NULL;
	}
	return a;
}

static void hit_of(struct hp_hit *h, int32_t pid, const char *comm, uint64_t fd, uint64_t count)
{
	memset(h, 0, sizeof *h);
	h->pid = h->tgid = pid;
	snprintf(h->comm, sizeof h->comm, "%s", comm);
	h->nargs = 4;
	h->args[0] = fd;
	h->args[2] = count;
	h->args[3] = 0xffffffff; /* off: -1 as an int */
}

static json_t *row(json_t *t, size_t i)
{
	return json_array_get(json_object_get(t, "rows"), i);
}

static void test_errors(void)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "cnt() by comm",
		  "--agg: column 1: expected count(), sum(X), min(X), max(X), avg(X) or hist(X) at 'cnt()'" },
		{ "count by comm", "--agg: column 7: expected '(' at 'by'" },
		{ "sum(count", "--agg: column 10: expected ')' at the end" },
		{ "count(fd)", "--agg: column 7: count() takes nothing: it counts hits at 'fd)'" },
		{ "sum()", "--agg: column 5: expected what to sum up, e.g. a parameter at ')'" },
		{ "hist(cnt) by comm", "--agg: column 6: unknown name" },
		{ "sum(comm) by pid",
		  "--agg: column 5: a string compares only with == or != to a \"literal\" at 'comm'" },
		{ "count() comm", "--agg: column 9: expected 'by KEY, ...' or the end at 'comm'" },
		{ "count() by comm,", "--agg: column 17: expected a key" },
		{ "count() by comm, pid, tgid, vcpu", "--agg: column 29: three keys at most at 'vcpu'" },
		{ "count() by ret", "only a return probe (FUNC%return) has ret and latency" },
	};
	char msg[256];
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		msg[0] = 0;
		struct hp_agg *a = compile(bad[i].text, 16, 0, msg);
		CHECK(a == NULL);
		if (!strstr(msg, bad[i].msg))
			fprintf(stderr, "%s: got \"%s\"\n", bad[i].text, msg);
		CHECK(strstr(msg, bad[i].msg) != NULL);
		hp_agg__free(a);
	}
	/* the entry's arguments are not kept to the return */
	CHECK(compile("sum(count)", 16, 1, msg) == NULL);
	CHECK(strstr(msg, "the entry's arguments are not kept") != NULL);
	CHECK(compile("count()", 0, 0, msg) == NULL);
	CHECK(compile("count()", HP_AGG_ROWS_MAX + 1, 0, msg) == NULL);
}

static void test_figures(void)
{
	char msg[256];
	struct hp_hit h;
	static const char *const fns[] = { "count()", "sum(count)", "min(count)", "max(count)", "avg(count)" };
	for (size_t f = 0; f < sizeof fns / sizeof *fns; f++) {
		char text[64];
		snprintf(text, sizeof text, "%s by comm, fd", fns[f]);
		struct hp_agg *a = compile(text, 16, 0, msg);
		REQUIRE(a != NULL);
		CHECK_EQ_INT(a->nargs, f ? 3 : 1); /* the hits must carry up to count (3rd), or fd */
		for (uint64_t n = 1; n <= 4; n++) {
			hit_of(&h, 10, "a", 1, n * 10);
			hp_agg__add(a, &h);
		}
		hit_of(&h, 11, "b", 2, 5);
		hp_agg__add(a, &h);
		json_t *t = hp_agg__json(a, text, 0);
		CHECK_EQ_INT(json_integer_value(json_object_get(t, "hits")), 5);
		CHECK_EQ_INT(json_integer_value(json_object_get(t, "keys")), 2);
		json_t *top = row(t, 0), *key = json_object_get(top, "key");
		/* largest first by the function's figure: min puts "a" (10) first too */
		CHECK_STR(json_string_value(json_array_get(key, 0)), "a");
		CHECK_EQ_INT(json_integer_value(json_array_get(key, 1)), 1);
		CHECK_EQ_INT(json_integer_value(json_object_get(top, "count")), 4);
		if (f) {
			CHECK_EQ_INT(json_integer_value(json_object_get(top, "sum")), 100);
			CHECK_EQ_INT(json_integer_value(json_object_get(top, "min")), 10);
			CHECK_EQ_INT(json_integer_value(json_object_get(top, "max")), 40);
			CHECK(json_real_value(json_object_get(top, "avg")) == 25.0);
		} else {
			CHECK(json_object_get(top, "sum") == NULL);
		}
		json_decref(t);
		hp_agg__free(a);
	}
	/* signed values order as signed: off is an int */
	struct hp_agg *a = compile("min(off) by pid", 16, 0, msg);
	REQUIRE(a != NULL);
	hit_of(&h, 10, "a", 1, 1);
	hp_agg__add(a, &h);
	h.args[3] = 5;
	hp_agg__add(a, &h);
	json_t *t = hp_agg__json(a, "", 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(row(t, 0), "min")), -1);
	CHECK_EQ_INT(json_integer_value(json_object_get(row(t, 0), "max")), 5);
	json_decref(t);
	hp_agg__free(a);
}

static void test_hist(void)
{
	char msg[256];
	struct hp_hit h;
	struct hp_agg *a = compile("hist(count)", 16, 0, msg);
	REQUIRE(a != NULL);
	static const uint64_t v[] = { 0, 1, 2, 3, 4, 7, 8, 4096, UINT64_MAX };
	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		hit_of(&h, 1, "x", 0, v[i]);
		hp_agg__add(a, &h);
	}
	json_t *t = hp_agg__json(a, "", 0), *hist = json_object_get(row(t, 0), "hist");
	/* from [0] to the top bucket, the empty ones between included */
	CHECK_EQ_INT(json_array_size(hist), 65 - 1);
	json_t *b0 = json_array_get(hist, 0), *b2 = json_array_get(hist, 2), *b3 = json_array_get(hist, 3);
	CHECK_EQ_INT(json_integer_value(json_object_get(b0, "from")), 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(b0, "count")), 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(b2, "from")), 2); /* [2, 3]: 2 and 3 */
	CHECK_EQ_INT(json_integer_value(json_object_get(b2, "to")), 3);
	CHECK_EQ_INT(json_integer_value(json_object_get(b2, "count")), 2);
	CHECK_EQ_INT(json_integer_value(json_object_get(b3, "count")), 2); /* 4 and 7 */
	json_t *b13 = json_array_get(hist, 13);                            /* [4096, 8191] */
	CHECK_EQ_INT(json_integer_value(json_object_get(b13, "from")), 4096);
	CHECK_EQ_INT(json_integer_value(json_object_get(b13, "count")), 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(hist, 63), "count")), 1);
	json_decref(t);
	hp_agg__free(a);
	/* a signed value below 0 has its own bucket */
	a = compile("hist(off)", 16, 0, msg);
	REQUIRE(a != NULL);
	hit_of(&h, 1, "x", 0, 0);
	hp_agg__add(a, &h);
	t = hp_agg__json(a, "", 0);
	hist = json_object_get(row(t, 0), "hist");
	CHECK_EQ_INT(json_array_size(hist), 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(hist, 0), "to")), -1);
	json_decref(t);
	hp_agg__free(a);
}

static void test_cap_and_growth(void)
{
	char msg[256];
	struct hp_hit h;
	struct hp_agg *a = compile("count() by pid", 100, 0, msg);
	REQUIRE(a != NULL);
	for (int round = 0; round < 3; round++) /* past the first 64 rows: the table grows */
		for (int pid = 1; pid <= 150; pid++) {
			hit_of(&h, pid, "p", 0, 0);
			hp_agg__add(a, &h);
		}
	json_t *t = hp_agg__json(a, "", 10);
	CHECK_EQ_INT(json_integer_value(json_object_get(t, "keys")), 100);
	CHECK_EQ_INT(json_integer_value(json_object_get(t, "hits")), 450);
	CHECK_EQ_INT(json_integer_value(json_object_get(t, "other_hits")), 150);
	CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(t, "other"), "count")), 150);
	CHECK_EQ_INT(json_integer_value(json_object_get(t, "left_off")), 90);
	CHECK_EQ_INT(json_array_size(json_object_get(t, "rows")), 10);
	CHECK_EQ_INT(json_integer_value(json_object_get(row(t, 0), "count")), 3);
	json_decref(t);
	/* every key found again: 3 hits each, none counted twice */
	uint64_t sum = 0;
	for (uint32_t r = 0; r < a->nrows; r++) {
		CHECK_EQ_U64(a->rows[r].count, 3);
		sum += a->rows[r].count;
	}
	CHECK_EQ_U64(sum, 300);
	hp_agg__clear(a);
	t = hp_agg__json(a, "", 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(t, "keys")), 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(t, "hits")), 0);
	CHECK(json_object_get(t, "other") == NULL);
	json_decref(t);
	hit_of(&h, 7, "p", 0, 0);
	hp_agg__add(a, &h);
	CHECK_EQ_INT(a->nrows, 1);
	hp_agg__free(a);
}

static void test_string_keys(void)
{
	char msg[256];
	struct hp_hit h;
	struct hp_agg *a = compile("count() by comm, vcpu", 16, 0, msg);
	REQUIRE(a != NULL);
	hit_of(&h, 1, "", 0, 0);
	memcpy(h.comm, "ab\"\x01\xff\xfe-1234567890", 16); /* no NUL: all 16 bytes are the guest's */
	h.vcpu = 3;
	hp_agg__add(a, &h);
	json_t *t = hp_agg__json(a, "", 0), *key = json_object_get(row(t, 0), "key");
	CHECK_STR(json_string_value(json_array_get(key, 0)), "ab\"\\x01\\xff\\xfe-123456789");
	CHECK_EQ_INT(json_integer_value(json_array_get(key, 1)), 3);
	json_decref(t);
	hp_agg__free(a);
	/* a key's name is kept cut to 47 bytes, here inside a character; a text not UTF-8:
	 * the table is still JSON (a fuzzer's find) */
	a = compile("count() by comm == \"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\" || "
		    "comm == \"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"",
		    16, 0, msg);
	REQUIRE(a != NULL);
	hp_agg__add(a, &h);
	t = hp_agg__json(a, "count() \x86", 0);
	REQUIRE(t != NULL);
	CHECK_STR(json_string_value(json_object_get(t, "agg")), "count() ?");
	CHECK_EQ_INT(json_array_size(json_object_get(t, "by")), 1);
	CHECK(json_string_value(json_array_get(json_object_get(t, "by"), 0)) != NULL);
	CHECK_EQ_INT(strlen(a->keys[0].name), 47); /* the cut is inside the last character */
	json_decref(t);
	hp_agg__free(a);
}

int main(void)
{
	test_errors();
	test_figures();
	test_hist();
	test_cap_and_growth();
	test_string_keys();
	TEST_MAIN_END();
}
