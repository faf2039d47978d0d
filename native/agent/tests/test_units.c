/* Small agent units: memory-capture specs, the entry-instruction classifier, the
 * disassembler's back-edges, ps state letters, RSP stop replies, strbuf hand-over,
 * UTF-8 repair, guest paths under a sysroot, a process's program and memory as the
 * guest shows them, return probe specs. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/strbuf.h"
#include "base/sysroot.h"
#include "base/text.h"
#include "base/util.h"
#include "probes/apps.h"
#include "probes/target.h"

#include "guest/disas.h"
#include "hp_test.h"
#include "probes/probe.h"
#include "backend/plugin_backend.h"
#include "backend/rsp.h"
#include "guest/kernel.h"
#include "guest/vmi.h"
#include "fake_backend.h"
#include "btf_synth.h"
#include "hprobe/btf.h"

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
	CHECK_EQ_INT(hp_probe__parse_mem("arg2:str", &m, &err), 0); /* a string as long as a capture may be */
	CHECK_EQ_INT(m.len, HP_MAX_MEM);
	CHECK_EQ_INT(m.is_string, 1);
	const char *bad[] = { "",       "arg7:8",     "arg0:8",  "xyz:8",  "arg1",
			      "arg1:0", "arg1:99999", "arg1+:4", "arg1:s", "arg1:strx" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(hp_probe__parse_mem(bad[i], &m, &err) < 0);
}

/* A member path from a parameter by name: parsed, then resolved through the kernel's
 * BTF with the function's parameters (a char * member read as the string it points
 * at, an array in place). */
static void test_mem_path(void)
{
	struct hp_probe p;
	struct hp_err err = { { 0 } };
	size_t blen;
	void *blob = hp_btf_synth(&blen);
	struct hp_btf *btf = NULL;
	REQUIRE(blob && hp_btf__load_raw(blob, blen, &btf, &err) == 0);
	memset(&p, 0, sizeof p);
	snprintf(p.func, sizeof p.func, "wake_up");
	snprintf(p.params_from, sizeof p.params_from, "btf");
	p.nparams = 2;
	snprintf(p.params[0].name, sizeof p.params[0].name, "flags");
	snprintf(p.params[0].type, sizeof p.params[0].type, "int");
	snprintf(p.params[1].name, sizeof p.params[1].name, "t");
	snprintf(p.params[1].type, sizeof p.params[1].type, "struct task_struct *");
	CHECK_EQ_INT(hp_probe__parse_mem_opts("t->mm->pgd:8", &p.o, &err), 0);
	CHECK_STR(p.o.mem_param, "t");
	CHECK_STR(p.o.mem_path, "->mm->pgd");
	CHECK_STR(p.o.mem_text, "t->mm->pgd:8");
	CHECK_EQ_INT(hp_probe__args_by_name(&p, btf, &err), 0);
	CHECK_EQ_INT(p.o.mem.src, HP_MEM_ARG);
	CHECK_EQ_INT(p.o.mem.index, 2);
	CHECK_EQ_INT(p.o.mem.off, 2272);
	CHECK_EQ_INT(p.o.mem.nderef, 1);
	CHECK_EQ_INT(p.o.mem.deref[0], 72);
	CHECK_EQ_INT(p.o.mem.len, 8);
	CHECK_EQ_INT(hp_probe__parse_mem_opts("t->mm:str", &p.o, &err), 0); /* a pointer: what it points at */
	CHECK_EQ_INT(hp_probe__args_by_name(&p, btf, &err), 0);
	CHECK_EQ_INT(p.o.mem.nderef, 1);
	CHECK_EQ_INT(p.o.mem.deref[0], 0);
	CHECK_EQ_INT(hp_probe__parse_mem_opts("t->comm:s16", &p.o, &err), 0); /* an array: in place */
	CHECK_EQ_INT(hp_probe__args_by_name(&p, btf, &err), 0);
	CHECK_EQ_INT(p.o.mem.off, 2976);
	CHECK_EQ_INT(p.o.mem.nderef, 0);
	/* resolution errors name the parameter, its type and the member */
	CHECK_EQ_INT(hp_probe__parse_mem_opts("t->nosuch:8", &p.o, &err), 0);
	CHECK_EQ_INT(hp_probe__args_by_name(&p, btf, &err), -EINVAL);
	CHECK_STR(err.msg, "--mem t->nosuch:8: t is struct task_struct *: ->nosuch: task_struct has no member nosuch");
	CHECK_EQ_INT(hp_probe__parse_mem_opts("flags->x:8", &p.o, &err), 0);
	CHECK_EQ_INT(hp_probe__args_by_name(&p, btf, &err), -EINVAL);
	CHECK(strstr(err.msg, "int is not a pointer to a struct") != NULL);
	CHECK_EQ_INT(hp_probe__parse_mem_opts("t->mm:8", &p.o, &err), 0);
	CHECK_EQ_INT(hp_probe__args_by_name(&p, NULL, &err), -EINVAL);
	CHECK(strstr(err.msg, "needs the kernel's BTF") != NULL);
	CHECK_EQ_INT(hp_probe__parse_mem_opts("u->mm:8", &p.o, &err), 0);
	CHECK_EQ_INT(hp_probe__args_by_name(&p, btf, &err), -EINVAL);
	CHECK(strstr(err.msg, "has no parameter 'u'") != NULL);
	/* parse errors: the path starts at a name, and says how much to read */
	const char *bad[] = { "arg2->mm:8", "rsi->mm:8", "t->mm", "t->mm:0", "->mm:8", "t-x->mm:8" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK(hp_probe__parse_mem_opts(bad[i], &p.o, &err) < 0);
		CHECK_STR(p.o.mem_param, "");
	}
	hp_btf__free(btf);
	free(blob);
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

/* Addresses as the protocol writes them, and nothing else. */
static void test_addr_text(void)
{
	uint64_t a = 0;
	CHECK_EQ_INT(hp_text__addr("0xffffffff81234560", &a), 0);
	CHECK(a == 0xffffffff81234560ull);
	CHECK_EQ_INT(hp_text__addr("0x0", &a), 0);
	CHECK(a == 0);
	const char *bad[] = { "", "0x", "ffff", "0x1ffffffffffffffff", "0x12g", "0x12 ", " 0x12", "-0x1", "0X12" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_EQ_INT(hp_text__addr(bad[i], &a), -EINVAL);
	CHECK_EQ_INT(hp_text__addr(NULL, &a), -EINVAL);
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

/* ---- guest paths under a sysroot (base/sysroot.c) ---- */

static char sysroot_dir[PATH_MAX], outside[PATH_MAX];

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	REQUIRE(f);
	fputs(text, f);
	fclose(f);
}

static void sub(char *out, const char *rel)
{
	REQUIRE(hp_pathf(out, PATH_MAX, "%s%s", sysroot_dir, rel) == 0);
}

/* The file a guest path opens under the sysroot (its first line), or the errno. */
static int opened(const char *guest, char *line, size_t cap)
{
	struct hp_err err = { { 0 } };
	char host[PATH_MAX];
	int fd = hp_sysroot__open(sysroot_dir, guest, host, sizeof host, &err);
	line[0] = 0;
	if (fd < 0) {
		CHECK(err.msg[0] != 0);
		return fd;
	}
	ssize_t n = read(fd, line, cap - 1);
	close(fd);
	line[n > 0 ? n : 0] = 0;
	line[strcspn(line, "\n")] = 0;
	CHECK(!strncmp(host, sysroot_dir, strlen(sysroot_dir))); /* where it was found: inside */
	return 0;
}

/* A sysroot is the guest's "/": "..", absolute symlinks and symlinks that climb out
 * all stay inside it; a host file outside is never opened, whatever the guest path
 * (a client's, or bytes from guest memory). */
static void test_sysroot(void)
{
	char tmpl[] = "/tmp/hp-sysroot-XXXXXX", p[PATH_MAX], q[PATH_MAX], line[256];
	REQUIRE(mkdtemp(tmpl));
	snprintf(sysroot_dir, sizeof sysroot_dir, "%s/root", tmpl);
	snprintf(outside, sizeof outside, "%s/secret", tmpl);
	REQUIRE(mkdir(sysroot_dir, 0700) == 0);
	put_file(outside, "outside\n");
	const char *dirs[] = { "/usr", "/usr/bin", "/usr/local", "/usr/local/bin", "/etc", "/opt" };
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		sub(p, dirs[i]);
		REQUIRE(mkdir(p, 0700) == 0);
	}
	sub(p, "/usr/bin/prog");
	put_file(p, "prog\n");
	sub(p, "/etc/secret");
	put_file(p, "inside\n");
	sub(p, "/usr/local/bin/abs"); /* absolute: means /usr/bin/prog of the guest */
	REQUIRE(symlink("/usr/bin/prog", p) == 0);
	sub(p, "/usr/local/bin/rel");
	REQUIRE(symlink("../../bin/prog", p) == 0);
	sub(p, "/usr/bin/climb"); /* climbs above the root: stops there */
	REQUIRE(symlink("../../../../../../../secret", p) == 0);
	sub(p, "/usr/bin/host"); /* the host's own path of the outside file */
	REQUIRE(symlink(outside, p) == 0);
	sub(p, "/usr/bin/proc"); /* a magic link out of any root */
	REQUIRE(symlink("/proc/self/root/etc/passwd", p) == 0);
	sub(p, "/opt/fifo");
	REQUIRE(mkfifo(p, 0600) == 0);
	sub(p, "/usr/bin/dir");
	REQUIRE(mkdir(p, 0700) == 0);

	CHECK_EQ_INT(opened("/usr/bin/prog", line, sizeof line), 0);
	CHECK_STR(line, "prog");
	CHECK_EQ_INT(opened("/usr/local/bin/abs", line, sizeof line), 0);
	CHECK_STR(line, "prog");
	CHECK_EQ_INT(opened("/usr/local/bin/rel", line, sizeof line), 0);
	CHECK_STR(line, "prog");
	CHECK_EQ_INT(opened("/../../../usr/bin/prog", line, sizeof line), 0);
	CHECK_STR(line, "prog");
	/* ".." and climbing symlinks end at the sysroot's own /secret: there is none,
	 * and the host's file of that name is never reached */
	CHECK_EQ_INT(opened("/../secret", line, sizeof line), -ENOENT);
	CHECK_EQ_INT(opened("/usr/bin/climb", line, sizeof line), -ENOENT);
	CHECK_EQ_INT(opened("/usr/bin/host", line, sizeof line), -ENOENT);
	sub(q, "/etc/secret");
	CHECK_EQ_INT(opened("/usr/bin/../../etc/secret", line, sizeof line), 0);
	CHECK_STR(line, "inside");
	CHECK(opened("/usr/bin/proc", line, sizeof line) < 0);
	CHECK_EQ_INT(opened("/opt/fifo", line, sizeof line), -EINVAL); /* not even opened */
	CHECK_EQ_INT(opened("/usr/bin/dir", line, sizeof line), -EINVAL);
	CHECK_EQ_INT(opened("/usr/bin/none", line, sizeof line), -ENOENT);

	/* the error says what is missing where */
	struct hp_err err;
	CHECK(hp_sysroot__open(sysroot_dir, "/usr/bin/none", NULL, 0, &err) == -ENOENT);
	CHECK(strstr(err.msg, "/usr/bin/none is not under the sysroot ") == err.msg);
	/* guest paths that are no paths */
	static const char *const bad[] = { "", "usr/bin/prog", "prog", "/usr/bin/\xff", "/usr/\x01" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_EQ_INT(hp_sysroot__open(sysroot_dir, bad[i], NULL, 0, &err), -EINVAL);
	char longp[PATH_MAX + 8];
	memset(longp, 'a', sizeof longp - 1);
	longp[0] = '/';
	longp[sizeof longp - 1] = 0;
	CHECK_EQ_INT(hp_sysroot__open(sysroot_dir, longp, NULL, 0, &err), -EINVAL);
	/* what a sysroot may be */
	CHECK_EQ_INT(hp_sysroot__check(sysroot_dir, &err), 0);
	CHECK(hp_sysroot__check("relative/dir", &err) < 0);
	CHECK(hp_sysroot__check("", &err) < 0);
	CHECK(hp_sysroot__check(outside, &err) < 0); /* a file */
	CHECK_STR(hp_sysroot__base("/usr/bin/prog"), "prog");

	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
	CHECK_EQ_INT(system(cmd), 0);
}

/* ---- a process's program and memory, as the guest shows them (guest/vmi.c) ---- */

#define POB 0xffff888000000000ull /* the direct map: physical address p at POB + p */

static void put64(uint8_t *mem, uint64_t pa, uint64_t v)
{
	memcpy(mem + pa, &v, 8);
}

/* One fake guest: 4-level page tables mapping the user page 0x400000 (a static
 * program's ELF header, program headers and build-id note) and nothing else; an
 * mm_struct whose exe_file is /apps/hb (dentries "hb" -> "apps" -> root). */
static void test_process_memory(void)
{
	static struct hp_kernel k;
	struct fake *f = fake_new();
	uint8_t *mem = fake_map(f, POB, 0x10000);
	k.page_offset_base = POB;
	k.paging_levels = 4;
	k.off = (struct hp_kernel_offsets){ .mm_exe_file = 0x10,
					    .file_dentry = 0x20,
					    .dentry_name = 0x8,
					    .dentry_parent = 0x18,
					    .exe_paths = 1,
					    .mm_saved_auxv = 0x100,
					    .mm_saved_auxv_size = 64 };
	/* page tables: PML4 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> PT 0x4000 -> page 0x5000 */
	uint64_t va = 0x400000;
	put64(mem, 0x1000 + ((va >> 39) & 511) * 8, 0x2000 | 7);
	put64(mem, 0x2000 + ((va >> 30) & 511) * 8, 0x3000 | 7);
	put64(mem, 0x3000 + ((va >> 21) & 511) * 8, 0x4000 | 7);
	put64(mem, 0x4000 + ((va >> 12) & 511) * 8, 0x5000 | 5);
	/* the page: ELF header, 2 program headers (PT_LOAD at offset 0, PT_NOTE), the note */
	uint8_t *pg = mem + 0x5000;
	memcpy(pg,
	       "\x7f"
	       "ELF\x02\x01\x01",
	       7);
	put64(pg, 32, 64);               /* e_phoff */
	pg[54] = 56;                     /* e_phentsize */
	pg[56] = 2;                      /* e_phnum */
	pg[64] = 1;                      /* PT_LOAD, offset 0 */
	put64(pg, 64 + 16, va);          /* p_vaddr */
	pg[120] = 4;                     /* PT_NOTE */
	put64(pg, 120 + 16, va + 0x200); /* p_vaddr */
	put64(pg, 120 + 32, 16 + 20);    /* p_filesz */
	put64(pg, 120 + 48, 4);          /* p_align */
	const uint8_t note[] = { 4, 0, 0, 0, 20, 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0 };
	memcpy(pg + 0x200, note, sizeof note);
	for (int i = 0; i < 20; i++)
		pg[0x200 + 16 + i] = (uint8_t)(0xa0 + i);
	/* mm 0x8000: exe_file, the auxiliary vector (AT_PHDR, AT_PHNUM) */
	put64(mem, 0x8000 + 0x10, POB + 0x8800);
	uint64_t auxv[] = { 3, va + 64, 5, 2, 0, 0 };
	memcpy(mem + 0x8100, auxv, sizeof auxv);
	put64(mem, 0x8800 + 0x20, POB + 0x9000); /* file->f_path.dentry */
	/* dentries: 0x9000 "hb" -> 0x9100 "apps" -> 0x9200 (root: its own parent) */
	put64(mem, 0x9000 + 0x8, POB + 0x9800);
	put64(mem, 0x9000 + 0x18, POB + 0x9100);
	put64(mem, 0x9100 + 0x8, POB + 0x9900);
	put64(mem, 0x9100 + 0x18, POB + 0x9200);
	put64(mem, 0x9200 + 0x18, POB + 0x9200);
	memcpy(mem + 0x9800, "hb", 3);
	memcpy(mem + 0x9900, "apps", 5);
	struct hp_task t = { .pid = 7, .tgid = 7, .mm = POB + 0x8000, .cr3 = 0x1000 };
	struct hp_err err;
	char path[PATH_MAX], id[41];
	uint8_t buf[16];

	CHECK_EQ_INT(hp_vmi__exe_path(&k, &f->b, &t, path, sizeof path, &err), 0);
	CHECK_STR(path, "/apps/hb");
	CHECK_EQ_INT(hp_vmi__read_user(&k, &f->b, &t, va + 0x200 + 12, buf, 4, &err), 0);
	CHECK(!memcmp(buf, "GNU", 4));
	/* the next page is not mapped; a kernel address is no user address */
	CHECK_EQ_INT(hp_vmi__read_user(&k, &f->b, &t, va + 4096 - 2, buf, 4, &err), -EFAULT);
	CHECK_EQ_INT(hp_vmi__read_user(&k, &f->b, &t, POB, buf, 4, &err), -EFAULT);
	hp_vmi__exe_build_id(&k, &f->b, &t, id);
	CHECK_STR(id, "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3");
	/* headers that do not agree with the auxiliary vector: no build id, no harm */
	pg[56] = 3;
	hp_vmi__exe_build_id(&k, &f->b, &t, id);
	CHECK_STR(id, "");
	pg[56] = 2;
	put64(pg, 120 + 32, 100000); /* a note segment too large to read */
	hp_vmi__exe_build_id(&k, &f->b, &t, id);
	CHECK_STR(id, "");
	put64(pg, 120 + 32, 36);

	/* the guest's names are its bytes: never '/', "..", endless, or a loop */
	static const char *const bad[] = { "..", ".", "", "a/b", "\xff\xfe" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memcpy(mem + 0x9900, bad[i], strlen(bad[i]) + 1);
		CHECK(hp_vmi__exe_path(&k, &f->b, &t, path, sizeof path, &err) < 0);
		CHECK_STR(path, "");
	}
	memset(mem + 0x9900, 'x', 300); /* no NUL within NAME_MAX */
	CHECK_EQ_INT(hp_vmi__exe_path(&k, &f->b, &t, path, sizeof path, &err), -EINVAL);
	memcpy(mem + 0x9900, "apps", 5);
	put64(mem, 0x9100 + 0x18, POB + 0x9000); /* "apps" -> "hb" -> "apps" ... */
	CHECK_EQ_INT(hp_vmi__exe_path(&k, &f->b, &t, path, sizeof path, &err), -EINVAL);
	CHECK(strstr(err.msg, "deeper") != NULL);
	put64(mem, 0x9100 + 0x18, POB + 0x9200);
	CHECK_EQ_INT(hp_vmi__exe_path(&k, &f->b, &t, path, 5, &err), -ENAMETOOLONG);
	k.off.exe_paths = 0;
	CHECK_EQ_INT(hp_vmi__exe_path(&k, &f->b, &t, path, sizeof path, &err), -ENOTSUP);
	fake_free(f);
}

/* The in-QEMU tier's rings: 32 MiB per vCPU (no drop at full rate here), shared
 * within 256 MiB for a large VM, never under 4 MiB. */
static void test_ring_bytes(void)
{
	CHECK_EQ_INT(hp_pring__bytes(1), 32u << 20);
	CHECK_EQ_INT(hp_pring__bytes(8), 32u << 20);
	CHECK_EQ_INT(hp_pring__bytes(16), 16u << 20);
	CHECK_EQ_INT(hp_pring__bytes(64), 4u << 20);
	CHECK_EQ_INT(hp_pring__bytes(256), 4u << 20);
}

/* A task list the guest closed on itself away from init_task: refused at once, not
 * walked 65536 times with the VM stopped. */
static void test_task_list_cycle(void)
{
	struct fake *f = fake_new();
	struct hp_kernel *k = calloc(1, sizeof *k);
	const uint64_t t0 = 0xffff888000100000ull;
	struct hp_task *v = NULL;
	struct hp_err err;
	REQUIRE(f && k);
	k->off = (struct hp_kernel_offsets){ .task_tasks = 0x100,
					     .task_pid = 0x200,
					     .task_tgid = 0x204,
					     .task_comm = 0x300,
					     .task_mm = 0x180,
					     .task_state = 0x10,
					     .task_state_size = 4,
					     .task_real_parent = 0x400,
					     .task_exit_state = 0x20 };
	k->init_task = t0;
	for (int i = 0; i < 3; i++) {
		uint8_t *t = fake_map(f, t0 + i * 0x1000ull, 0x1000);
		memcpy(t + 0x200, &(uint32_t){ (uint32_t)i }, 4);
		memcpy(t + 0x300, "task", 5);
	}
	/* init_task -> 1 -> 2 -> 1 -> ... */
	fake_put64(f, t0 + 0x100, t0 + 0x1000 + 0x100);
	fake_put64(f, t0 + 0x1000 + 0x100, t0 + 0x2000 + 0x100);
	fake_put64(f, t0 + 0x2000 + 0x100, t0 + 0x1000 + 0x100);
	int reads = f->reads;
	CHECK(hp_vmi__tasks(k, &f->b, &v, &err) == -ELOOP);
	CHECK(strstr(err.msg, "loops without reaching init_task") != NULL);
	CHECK(f->reads - reads < 100);
	/* a self-loop too */
	fake_put64(f, t0 + 0x1000 + 0x100, t0 + 0x1000 + 0x100);
	CHECK(hp_vmi__tasks(k, &f->b, &v, &err) == -ELOOP);
	/* closed through init_task: three tasks */
	fake_put64(f, t0 + 0x1000 + 0x100, t0 + 0x2000 + 0x100);
	fake_put64(f, t0 + 0x2000 + 0x100, t0 + 0x100);
	CHECK_EQ_INT(hp_vmi__tasks(k, &f->b, &v, &err), 3);
	CHECK_EQ_INT(v[2].pid, 2);
	free(v);
	free(k);
	fake_free(f);
}

/* FUNC%return: the suffix goes, the rest is the entry's spec; nothing else matches */
static void test_split_return(void)
{
	char base[64];
	CHECK_EQ_INT(hp_probe__split_return("kernel:f%return", base, sizeof base), 1);
	CHECK(!strcmp(base, "kernel:f"));
	CHECK_EQ_INT(hp_probe__split_return("app:/a/b:main%return", base, sizeof base), 1);
	CHECK(!strcmp(base, "app:/a/b:main"));
	CHECK_EQ_INT(hp_probe__split_return("kernel:f", base, sizeof base), 0);
	CHECK(!strcmp(base, "kernel:f"));
	CHECK_EQ_INT(hp_probe__split_return("%return", base, sizeof base), 0);
	CHECK_EQ_INT(hp_probe__split_return("kernel:f%returns", base, sizeof base), 0);
	CHECK_EQ_INT(hp_probe__split_return("kernel:f%retur", base, sizeof base), 0);
	CHECK_EQ_INT(hp_probe__split_return("kernel:a_long_function_name%return", base, 8), 1);
	CHECK(!strcmp(base, "kernel:")); /* cut to the buffer, terminated */
}

int main(void)
{
	test_task_list_cycle();
	test_ring_bytes();
	test_split_return();
	test_mem_spec();
	test_mem_path();
	test_classify();
	test_back_edges();
	test_states();
	test_stop_replies();
	test_strbuf_take();
	test_utf8();
	test_addr_text();
	test_sysroot();
	test_process_memory();
	TEST_MAIN_END();
}
