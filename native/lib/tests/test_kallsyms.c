/* kallsyms and BTF recovery on inputs made here: hand-built table sets in every
 * layout (exact round trip, long names, per-CPU absolutes, misaligned buffers),
 * then damaged ones, truncated ones and random bytes, which must fail cleanly.
 * With --corpus DIR, writes the fuzzer's seed inputs instead. */
#include <errno.h>
#include <stdio.h>

#include "btf_synth.h"
#include "hp_test.h"
#include "hprobe/btf.h"
#include "kallsyms_synth.h"
#include "symtab_int.h"

#define N 10050 /* above the public bound of 10000; 40 markers, the last one partial */
#define BASE 0xffffffff81000000ull

static char names_buf[N][440];
static struct ks_sym syms[N];

static void make_syms(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		syms[i].addr = BASE + 0x10ull * i;
		syms[i].type = "TtDdRrBbWV"[i % 10];
		snprintf(names_buf[i], sizeof(names_buf[i]), "sym_%05u", i);
		syms[i].name = names_buf[i];
	}
	for (uint32_t i = 0; i < 20; i++) { /* per-CPU symbols first: small absolute values */
		syms[i].addr = 0x1000ull * i;
		syms[i].type = 'A';
	}
	/* a name long enough for the two-byte length of 6.1+ */
	for (int j = 0; j < 400; j++)
		names_buf[100][j] = (char)('a' + (j * 7) % 26);
	names_buf[100][400] = '\0';
	syms[201].addr = syms[200].addr; /* a shared address */
}

static int same_as_input(const struct hp_symtab *st, uint32_t n)
{
	size_t bad = 0;

	if (hp_symtab__count(st) != n)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct hp_sym *s = hp_symtab__find(st, syms[i].name);

		bad += !s || s->addr != syms[i].addr || s->type != syms[i].type;
	}
	return bad == 0;
}

static void test_layouts(void)
{
	static const struct {
		enum hp_kallsyms_layout layout;
		int abs_percpu, seqs;
	} cases[] = {
		{ HP_KALLSYMS_REL_BEFORE, 1, 1 }, /* Debian 6.1 (x86-64) */
		{ HP_KALLSYMS_REL_BEFORE, 1, 0 }, /* mainline 6.1 */
		{ HP_KALLSYMS_REL_BEFORE, 0, 0 }, { HP_KALLSYMS_REL_AFTER, 1, 0 },
		{ HP_KALLSYMS_REL_AFTER, 0, 0 },  { HP_KALLSYMS_ABSOLUTE, 0, 0 },
		{ HP_KALLSYMS_ABSOLUTE, 0, 1 },   { HP_KALLSYMS_PLACE_REL, 0, 0 }, /* Debian 7.2 (sid) */
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (size_t prefix = 0; prefix < 12; prefix += 5) {
			struct ks_opts o = { cases[c].layout, cases[c].abs_percpu, cases[c].seqs, prefix,
					     0xffffffff82000000ull + (prefix ? 3 : 0) };
			struct hp_kallsyms_info info;
			struct hp_symtab *st = NULL;
			struct hp_err err = { { 0 } };
			size_t len;
			uint8_t *img;

			if (!o.abs_percpu) /* without --absolute-percpu every address is above the base */
				for (uint32_t i = 0; i < 20; i++)
					syms[i].addr = BASE - 0x100 + i, syms[i].type = 'T';
			img = ks_synth(syms, N, &o, &len);
			if (hp_kallsyms__recover(img, len, o.vaddr, &st, &err))
				fprintf(stderr, "case %zu prefix %zu: %s\n", c, prefix, err.msg);
			CHECK(st && same_as_input(st, N));
			CHECK_EQ_INT(hp_kallsyms__locate(img, len, o.vaddr, &info, &err), 0);
			CHECK_EQ_INT(info.num_syms, N);
			CHECK_EQ_INT(info.layout, o.layout);
			CHECK_EQ_INT(info.abs_percpu, o.abs_percpu);
			CHECK_EQ_INT(info.seqs_of_names, o.seqs);
			CHECK(info.start >= o.vaddr + prefix && info.end <= o.vaddr + len);
			if (st) {
				const struct hp_sym *s = hp_symtab__find(st, names_buf[100]);

				CHECK(s && strlen(s->name) == 400);
				s = hp_symtab__find(st, "sym_00500");
				CHECK(s && s->size == 0x10); /* sizes as for kallsyms text */
			}
			hp_symtab__free(st);
			free(img);
			make_syms(N);
		}
	}
}

/* Damage that must be noticed: each one breaks an agreement between two tables. */
static void test_damage(void)
{
	struct ks_opts o = { HP_KALLSYMS_REL_BEFORE, 1, 1, 0, BASE };
	struct hp_kallsyms_info info;
	struct hp_symtab *st = NULL;
	struct hp_err err = { { 0 } };
	size_t len, tt, names, offs;
	uint8_t *img = ks_synth(syms, N, &o, &len), *copy = malloc(len);

	REQUIRE(hp_kallsyms__locate(img, len, BASE, &info, &err) == 0);
	tt = (size_t)(info.token_table - BASE);
	names = (size_t)(info.names - BASE);
	offs = (size_t)(info.addresses - BASE);
	/* xor 0: the byte becomes a NUL */
	struct {
		const char *what;
		size_t at;
		uint8_t xor ;
	} cuts[] = {
		{ "token index", (size_t)(info.end - BASE) - 100, 0x01 },
		{ "a token's end", tt + 1, 0 },
		{ "a name length", names, 0x01 },
		{ "num_syms", names - 8, 0x01 },
		{ "the order of addresses", offs + 4 * 5000 + 3, 0x40 },
	};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		memcpy(copy, img, len);
		copy[cuts[i].at] = cuts[i].xor ? copy[cuts[i].at] ^ cuts[i].xor : 0;
		st = NULL;
		if (hp_kallsyms__recover(copy, len, BASE, &st, &err) == 0) {
			fprintf(stderr, "damaged %s was accepted\n", cuts[i].what);
			hp_symtab__free(st);
			hp_test_failures++;
		}
		CHECK(st == NULL);
	}
	/* truncated anywhere: never a read past the end (ASan/the fuzzer watch), always an error */
	for (size_t cut = 0; cut < len; cut += len / 97 + 1) {
		int rc = hp_kallsyms__recover(img, cut, BASE, &st, &err);

		CHECK(rc < 0 || cut >= (size_t)(info.end - BASE));
		hp_symtab__free(st);
		rc = hp_kallsyms__recover(img + cut, len - cut, BASE + cut, &st, &err);
		CHECK(rc < 0 || cut <= offs);
		hp_symtab__free(st);
	}
	/* the token table a few bytes into the image, at every misalignment: nothing before
	 * it to find (the fuzzer's seed regress-tt-at-start is the exact case it found) */
	for (size_t back = 0; back < 17; back++)
		for (uint64_t mis = 0; mis < 8; mis++)
			CHECK(hp_kallsyms__recover(img + tt - back, len - tt + back, BASE + tt - back + mis, &st,
						   &err) < 0);
	free(img);
	free(copy);

	/* a table below the plausible size: refused by the public API, read by the internal one */
	img = ks_synth(syms, 500, &o, &len);
	CHECK_EQ_INT(hp_kallsyms__recover(img, len, BASE, &st, &err), -ENOENT);
	CHECK_EQ_INT(hpi_kallsyms_recover(img, len, BASE, 100, &st, NULL, &err), 0);
	CHECK(st && hp_symtab__count(st) == 500);
	hp_symtab__free(st);
	free(img);
}

static void test_garbage(void)
{
	struct hp_symtab *st = NULL;
	struct hp_btf *b = NULL;
	struct hp_err err = { { 0 } };
	size_t len = 1 << 20;
	uint8_t *img = malloc(len);
	uint32_t x = 12345;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245 + 12345;
		img[i] = (uint8_t)(x >> 16);
	}
	/* the digits run planted in noise: a token-table lookalike with nothing around it */
	memcpy(img + 5000,
	       "0\0"
	       "1\0"
	       "2\0"
	       "3\0"
	       "4\0"
	       "5\0"
	       "6\0"
	       "7\0"
	       "8\0"
	       "9",
	       20);
	CHECK_EQ_INT(hp_kallsyms__recover(img, len, BASE, &st, &err), -ENOENT);
	CHECK_EQ_INT(hp_btf__recover(img, len, BASE, NULL, &b, &err), -ENOENT);
	memset(img, 0, len);
	CHECK_EQ_INT(hp_kallsyms__recover(img, len, BASE, &st, &err), -ENOENT);
	CHECK_EQ_INT(hp_kallsyms__recover(NULL, 0, 0, &st, &err), -ENOENT);
	CHECK_EQ_INT(hp_kallsyms__recover(img, len, BASE, NULL, &err), -EINVAL);
	CHECK(st == NULL);
	free(img);
}

static void test_btf(void)
{
	size_t blen, len = 300000;
	void *blob = hp_btf_synth(&blen);
	uint8_t *img = calloc(1, len);
	struct hp_btf *b = NULL, *ref = NULL;
	struct hp_err err = { { 0 } };
	uint64_t at = 0;

	REQUIRE(hp_btf__load_raw(blob, blen, &ref, &err) == 0);
	/* a lookalike header (sane fields, no valid types) before the real blob */
	memcpy(img + 1001, blob, 24);
	memcpy(img + 200003, blob, blen);
	CHECK_EQ_INT(hp_btf__recover(img, len, BASE, &at, &b, &err), 0);
	CHECK_EQ_U64(at, BASE + 200003);
	CHECK(b && hp_btf__type_count(b) == hp_btf__type_count(ref));
	hp_btf__free(b);
	b = NULL;
	/* cut short, or its string section not starting with NUL: not a blob */
	CHECK(hp_btf__recover(img, 200003 + blen - 1, BASE, &at, &b, &err) < 0);
	img[200003 + 24 + ((uint32_t *)blob)[4]] = 'x';
	CHECK(hp_btf__recover(img, len, BASE, &at, &b, &err) < 0);
	CHECK(b == NULL);
	hp_btf__free(ref);
	free(blob);
	free(img);
}

/* Seeds for fuzz_kallsyms: small table sets in each layout (byte 0 is the
 * misalignment the harness gives the image), plus a BTF blob. */
static int write_corpus(const char *dir)
{
	static const struct ks_opts opts[] = {
		{ HP_KALLSYMS_REL_BEFORE, 1, 1, 3, BASE },
		{ HP_KALLSYMS_REL_BEFORE, 0, 0, 0, BASE },
		{ HP_KALLSYMS_REL_AFTER, 1, 0, 5, BASE },
		{ HP_KALLSYMS_ABSOLUTE, 0, 0, 1, BASE },
	};
	char path[4200];

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		size_t len;
		/* per-CPU absolutes only where the layout can hold them */
		uint8_t *img = ks_synth(syms + (opts[i].abs_percpu ? 15 : 20), 30, &opts[i], &len);
		FILE *f;

		snprintf(path, sizeof(path), "%s/layout%zu", dir, i);
		f = fopen(path, "wb");
		if (!f)
			return 1;
		fputc(0, f);
		fwrite(img, 1, len, f);
		fclose(f);
		free(img);
	}
	{
		size_t blen;
		void *blob = hp_btf_synth(&blen);
		FILE *f;

		snprintf(path, sizeof(path), "%s/btf", dir);
		f = fopen(path, "wb");
		if (!f)
			return 1;
		fwrite("\0garbage", 1, 8, f);
		fwrite(blob, 1, blen, f);
		fclose(f);
		free(blob);
	}
	return 0;
}

int main(int argc, char **argv)
{
	make_syms(N);
	if (argc > 2 && !strcmp(argv[1], "--corpus"))
		return write_corpus(argv[2]);
	test_layouts();
	test_damage();
	test_garbage();
	test_btf();
	TEST_MAIN_END();
}
