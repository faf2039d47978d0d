/* Fuzzes probe conditions from both ends: the --if compiler on text from a user (or a
 * probe set, or a saved session), and the plugin's view of a program that arrives
 * over its control socket: hp_pcond_check must refuse whatever hp_pcond_eval cannot
 * run safely. The first byte chooses; the rest is the text or the program's bytes
 * (zero-filled when short), evaluated on hits with arguments and strings from the
 * input too. With 0x40, the text is an aggregation (--agg, the same compiler under a
 * parser of its own), which then sums hits made of the input into a 4-row table. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hprobe/pcond.h"
#include "probes/agg.h"
#include "probes/cond.h"
#include "probes/probe.h"

#include "fuzz_assert.h"

static void run(const struct hp_pcond *c, const uint8_t *data, size_t size)
{
	uint64_t args[6] = { 0 };
	char comm[16] = { 0 };
	memcpy(args, data, size < sizeof args ? size : sizeof args);
	if (size > sizeof args)
		memcpy(comm, data + sizeof args, size - sizeof args < sizeof comm ? size - sizeof args : sizeof comm);
	for (int t = 0; t < 2; t++) {
		uint64_t regs[HP_PCOND_NREGS];
		for (int r = 0; r < HP_PCOND_NREGS; r++)
			regs[r] = args[r % 6] + (uint64_t)r;
		struct hp_pcond_in in = { .args = args,
					  .regs = regs,
					  .have_task = t,
					  .pid = (int32_t)args[0],
					  .tgid = 7,
					  .comm = comm,
					  .mem = t ? (const uint8_t *)comm : NULL,
					  .memlen = 16,
					  .retval = args[1],
					  .latency_ns = args[2] };
		int r = hp_pcond_eval(c, &in);
		ASSERT(r == 0 || r == 1);
	}
}

static void compile(const uint8_t *data, size_t size)
{
	static const struct hp_param params[] = { { "fd", "unsigned int", HP_PARAM_UINT, 4 },
						  { "buf", "const char *", HP_PARAM_STR, 8 },
						  { "count", "size_t", HP_PARAM_UINT, 8 },
						  { "whence", "int", HP_PARAM_INT, 2 } };
	struct hp_probe p;
	struct hp_err err;
	memset(&p, 0, sizeof p);
	p.nparams = 4;
	memcpy(p.params, params, sizeof params);
	snprintf(p.params_from, sizeof p.params_from, "btf");
	p.o.kind = size && (data[0] & 1) ? HP_PROBE_COUNT : HP_PROBE_CAPTURE;
	if (size && (data[0] & 4)) { /* a return probe: ret (an int here) and latency, no arguments */
		p.ret = 1;
		p.nparams = 0;
		p.has_ret_type = !(data[0] & 8);
		p.ret_type = (struct hp_param){ "", "int", HP_PARAM_INT, 4 };
	} else if (size && (data[0] & 2)) {
		ASSERT(hp_probe__parse_mem_opts("buf:s16", &p.o, &err) == 0);
		ASSERT(hp_probe__args_by_name(&p, NULL, &err) == 0);
	}
	size_t n = size > 1 ? size - 1 : 0;
	if (n >= sizeof p.o.cond_text)
		n = sizeof p.o.cond_text - 1;
	memcpy(p.o.cond_text, data + (size ? 1 : 0), n);
	if (size && (data[0] & 0x40)) {
		struct hp_agg *a;
		if (hp_agg__compile(&p, p.o.cond_text, 4, &a, &err)) {
			ASSERT(err.msg[0] && a == NULL);
			return;
		}
		struct hp_hit h;
		memset(&h, 0, sizeof h);
		for (size_t i = 0; i < 8; i++) { /* keys and values from the input's bytes */
			memcpy(h.args, data + i % size,
			       size - i % size < sizeof h.args ? size - i % size : sizeof h.args);
			memcpy(h.comm, data + i % size,
			       size - i % size < sizeof h.comm ? size - i % size : sizeof h.comm);
			memcpy(h.mem, h.comm, sizeof h.comm);
			h.memlen = (uint16_t)(h.args[0] % 17);
			h.pid = (int32_t)h.args[1];
			h.vcpu = (uint32_t)i;
			h.retval = (int64_t)h.args[2];
			h.latency_ns = h.args[3];
			hp_agg__add(a, &h);
		}
		uint64_t summed = a->other.count; /* every hit in exactly one row */
		for (uint32_t r = 0; r < a->nrows; r++)
			summed += a->rows[r].count;
		ASSERT(a->hits == 8 && a->nrows <= 4 && summed == 8 && a->other.count == a->overflow);
		json_t *j = hp_agg__json(a, p.o.cond_text, 2);
		ASSERT(j != NULL);
		json_decref(j);
		hp_agg__clear(a);
		ASSERT(a->nrows == 0 && a->hits == 0);
		hp_agg__free(a);
		return;
	}
	if (hp_cond__compile(&p, &err) == 0) {
		ASSERT(hp_pcond_check(&p.cond) == NULL); /* what it compiles, a tier accepts */
		run(&p.cond, data, size);
	} else {
		ASSERT(err.msg[0]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 0x80) {
		struct hp_pcond c;
		memset(&c, 0, sizeof c);
		memcpy(&c, data + 1, size - 1 < sizeof c ? size - 1 : sizeof c);
		if (!hp_pcond_check(&c)) {
			ASSERT(c.nargs <= 6); /* what a tier reads into its args[6] */
			run(&c, data + 1, size - 1);
		}
		return 0;
	}
	compile(data, size);
	return 0;
}
