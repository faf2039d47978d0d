/* Small agent units: memory-capture specs, the entry-instruction classifier, the
 * disassembler's back-edges, ps state letters, RSP stop replies, strbuf hand-over,
 * UTF-8 repair. */
#include <malloc.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/text.h"
#include "probes/apps.h"
#include "probes/target.h"

#include "guest/disas.h"
#include "hp_test.h"
#include "probes/probe.h"
#include "backend/plugin_backend.h"
#include "backend/rsp.h"
#include "guest/vmi.h"

static void test_mem_spec(void)
{
	struct hp_mem_spec m;
	struct hp_err err;
	CHECK_EQ_INT(hp_probe__parse_mem("arg2:64", &m, &err), 0);
	CHECK_EQ_INT(m.src, HP_MEM_ARG);
	CHECK_EQ_INT(m.index, 2);
	CHECK_EQ_INT(m.len, 64);
	CHECK_EQ_INT(m.is_string, 0);
	CHECK_EQ_INT(hp_probe__parse_mem("rsi+0x10:s32", &m, &err), 0);
	CHECK_EQ_INT(m.src, HP_MEM_REG);
	CHECK_EQ_INT(m.index, HP_REG_RSI);
	CHECK_EQ_INT(m.off, 16);
	CHECK_EQ_INT(m.is_string, 1);
	CHECK_EQ_INT(hp_probe__parse_mem("rsp-8:8", &m, &err), 0);
	CHECK_EQ_INT(m.off, -8);
	const char *bad[] = { "", "arg7:8", "arg0:8", "xyz:8", "arg1", "arg1:0", "arg1:99999", "arg1+:4", "arg1:s" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(hp_probe__parse_mem(bad[i], &m, &err) < 0);
}

static void test_classify(void)
{
	uint8_t len;
	const uint8_t nop5[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00, 0x90 };
	const uint8_t endbr[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x90 };
	const uint8_t push[] = { 0x55, 0x48, 0x89, 0xe5 };
	const uint8_t mov[] = { 0x48, 0x89, 0xe5, 0x90 };
	const uint8_t sub[] = { 0x48, 0x83, 0xec, 0x08 };
	CHECK_EQ_INT(hp_probe__classify(nop5, sizeof nop5, &len, NULL), HP_RESUME_NOP);
	CHECK_EQ_INT(len, 5);
	CHECK_EQ_INT(hp_probe__classify(endbr, sizeof endbr, &len, NULL), HP_RESUME_NOP);
	CHECK_EQ_INT(len, 4);
	CHECK_EQ_INT(hp_probe__classify(push, sizeof push, &len, NULL), HP_RESUME_PUSH_RBP);
	CHECK_EQ_INT(hp_probe__classify(mov, sizeof mov, &len, NULL), HP_RESUME_MOV_RBP_RSP);
	CHECK_EQ_INT(hp_probe__classify(sub, sizeof sub, &len, NULL), HP_RESUME_STEP);
	const uint8_t call[] = { 0xe8, 0xf4, 0xf7, 0xff, 0xff };
	int32_t rel = 0;
	CHECK_EQ_INT(hp_probe__classify(call, sizeof call, &len, &rel), HP_RESUME_CALL);
	CHECK_EQ_INT(rel, -0x80c);
}

static void test_back_edges(void)
{
	/* 0: xor eax,eax; 2: inc eax; 4: cmp eax,10; 7: jne 2; 9: call 0; e: ret */
	const uint8_t code[] = { 0x31, 0xc0, 0xff, 0xc0, 0x83, 0xf8, 0x0a, 0x75,
				 0xf9, 0xe8, 0xf2, 0xff, 0xff, 0xff, 0xc3 };
	struct hp_insn *in;
	int n = hp_disas__function(code, sizeof code, 0x1000, &in, NULL);
	CHECK_EQ_INT(n, 6);
	int backs = 0;
	for (int i = 0; i < n; i++)
		backs += in[i].back_edge;
	CHECK_EQ_INT(backs, 1);
	CHECK_EQ_U64(in[3].target, 0x1002);
	CHECK(in[3].back_edge);
	CHECK(in[4].is_call && !in[4].back_edge);
	CHECK(in[5].is_ret);
	free(in);
}

static void test_states(void)
{
	CHECK_EQ_INT(hp_vmi__state_letter(0, 0), 'R');
	CHECK_EQ_INT(hp_vmi__state_letter(1, 0), 'S');
	CHECK_EQ_INT(hp_vmi__state_letter(2, 0), 'D');
	CHECK_EQ_INT(hp_vmi__state_letter(0x402, 0), 'I');
	CHECK_EQ_INT(hp_vmi__state_letter(0, 0x20), 'Z');
	CHECK_EQ_INT(hp_vmi__state_letter(4, 0), 'T');
}

static void test_stop_replies(void)
{
	struct hp_rsp_stop st;
	CHECK_EQ_INT(hp_rsp__parse_stop("T05thread:p01.02;swbreak:;", &st), 0);
	CHECK_EQ_INT(st.signal, 5);
	CHECK_EQ_INT(st.thread, 2);
	CHECK_EQ_INT(hp_rsp__parse_stop("T02thread:01;", &st), 0);
	CHECK_EQ_INT(st.thread, 1);
	CHECK_EQ_INT(hp_rsp__parse_stop("S05", &st), 0);
	CHECK_EQ_INT(st.signal, 5);
	CHECK_EQ_INT(hp_rsp__parse_stop("W00", &st), 0);
	CHECK(st.exited);
	CHECK(hp_rsp__parse_stop("OK", &st) < 0);
	CHECK(hp_rsp__parse_stop("E01", &st) < 0);
}

/* A buffer handed over is NUL-terminated, also when nothing was written to it (its
 * fresh allocation held whatever malloc left there). */
static void test_strbuf_take(void)
{
	mallopt(M_PERTURB, 0x55); /* malloc'd bytes are not zero */
	struct hp_strbuf sb = { 0 };
	size_t len = 99;
	char *s = hp_strbuf__take(&sb, &len);
	REQUIRE(s);
	CHECK_EQ_INT(len, 0);
	CHECK_EQ_INT(s[0], 0);
	free(s);
	hp_strbuf__puts(&sb, "ab");
	s = hp_strbuf__take(&sb, &len);
	CHECK_EQ_INT(len, 2);
	CHECK_STR(s, "ab");
	free(s);
	mallopt(M_PERTURB, 0);
}

static void test_utf8(void)
{
	char b[8];
	hp_text__copy(b, sizeof b, "abcd\xc3\xa9\xc3\xa9"); /* the cut falls inside the 2nd e-acute */
	CHECK_STR(b, "abcd\xc3\xa9");
	hp_text__copy(b, sizeof b,
		      "a\xff"
		      "b\xc0\x80");
	CHECK_STR(b, "a?b??");
	char m[] = "ok \xe2\x82"; /* a cut euro sign */
	CHECK_EQ_INT(hp_utf8__fix(m), 3);
	CHECK_STR(m, "ok ");
	char s[] = "\xed\xa0\x80 \xf4\x90\x80\x80 \xf0\x9f\x98\x80"; /* a surrogate, > U+10FFFF, an emoji */
	hp_utf8__fix(s);
	CHECK_STR(s, "??? ???? \xf0\x9f\x98\x80");
	json_t *j = hp_text__json("x\xffy", 16);
	CHECK_STR(json_string_value(j), "x?y");
	json_decref(j);
}

/* A lab path (/apps/NAME) maps into the lab's host copy, NAME being one file name:
 * a name from the guest (its exe) with "..", or with '/', must not reach any other
 * host file. */
static void test_host_path(void)
{
	static struct hp_target t;
	char out[PATH_MAX];
	snprintf(t.sysroot, sizeof t.sysroot, "/tmp/hp-no-such-sysroot");
	hp_apps__host_path(&t, "/apps/hb", out, sizeof out);
	CHECK_STR(out, "/tmp/hp-no-such-sysroot/apps/hb");
	static const char *const bad[] = { "/apps/..", "/apps/../../etc/passwd",      "/apps/.",
					   "/apps/",   "/apps/x/../../../etc/shadow", "/apps/a/b" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		hp_apps__host_path(&t, bad[i], out, sizeof out);
		if (out[0])
			fprintf(stderr, "  %s -> %s\n", bad[i], out);
		CHECK(out[0] == 0);
	}
}

/* The in-QEMU tier's rings: 32 MiB per vCPU (no drop at full rate here), shared
 * within 256 MiB for a large VM, never under 4 MiB. */
static void test_ring_bytes(void)
{
	CHECK_EQ_INT(hp_plugin_ring__bytes(1), 32u << 20);
	CHECK_EQ_INT(hp_plugin_ring__bytes(8), 32u << 20);
	CHECK_EQ_INT(hp_plugin_ring__bytes(16), 16u << 20);
	CHECK_EQ_INT(hp_plugin_ring__bytes(64), 4u << 20);
	CHECK_EQ_INT(hp_plugin_ring__bytes(256), 4u << 20);
}

int main(void)
{
	test_ring_bytes();
	test_mem_spec();
	test_classify();
	test_back_edges();
	test_states();
	test_stop_replies();
	test_strbuf_take();
	test_utf8();
	test_host_path();
	TEST_MAIN_END();
}
