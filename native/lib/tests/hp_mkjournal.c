/* Test tool for the exporters.
 *   hp_mkjournal make JOURNAL EXPECTED N    a deterministic journal with N hits
 *        (nasty comms, every hit shape, probes, alerts, drops) and EXPECTED: one
 *        JSON line per hit in a neutral form (raw comm bytes as hex) for the checkers
 *        (EXPECTED "-": none, for benchmarks)
 *   hp_mkjournal plain JOURNAL N            N hits of a default capture probe (task,
 *        comm, ip, two arguments; no registers or memory), 1 us apart, for benchmarks
 *   hp_mkjournal export JOURNAL FMT OUT [--probe ID]... [--pid PID]... [--from NS] [--to NS]
 *   hp_mkjournal bench N DIR                time writing N hits and exporting them to CTF */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hprobe/export.h"
#include "hprobe/journal.h"

static const char *const comms[] = {
	"a\"b,c\nd\xff",
	"\\back\"slash",
	"caf\xc3\xa9",
	"\r\n,,\"\"",
	"\x01\x7f\x80\xc2\x85",
	"0123456789abcdef",
	"",
	"tab\there",
	"quote'single",
	"\xe2\x82",
	"\xf0\x9f\x98\x80ok",
	"sysloop",
	"=HYPERLINK(1)", /* a spreadsheet formula in a CSV cell */
	"-2+3",
};
#define NCOMMS (sizeof(comms) / sizeof(comms[0]))
#define MONO_BASE 5000000000ull

static void make_hit(uint64_t i, struct hp_hit *h)
{
	memset(h, 0, sizeof(*h));
	/* vCPU 1's hits are journalled late (each before vCPU 0's previous one), as the
	 * agent writes them; each vCPU's own hits are in time order */
	h->time_ns = MONO_BASE + 1000 + i * 1000 + (i % 3) - (i % 2 ? 1500 : 0);
	h->probe_id = (uint32_t)(i % 4 + 1);
	/* now and then a vCPU beyond the 256 that CTF gives a stream of their own */
	h->vcpu = i % 50 == 7 ? 300 + (uint32_t)(i / 50 % 2) : (uint32_t)(i % 2);
	if (i % 9 == 8) {
		h->pid = h->tgid = -1;
	} else {
		h->pid = (int32_t)(100 + i % 5);
		h->tgid = (int32_t)(100 + i % 3);
		h->flags |= HP_HIT_TASK;
		memcpy(h->comm, comms[i % NCOMMS], strnlen(comms[i % NCOMMS], HP_COMM_LEN));
	}
	if (i % 2)
		h->flags |= HP_HIT_USER;
	if (i % 10 == 3)
		h->flags |= HP_HIT_BLOCKED;
	h->ip = (i % 2 ? 0x401000ull : 0xffffffff81000000ull) + i * 4;
	h->cr3 = 0x3e1c000ull + (i % 3) * 0x1000;
	h->nargs = (uint8_t)(i % 7);
	for (int a = 0; a < h->nargs; a++)
		h->args[a] = a == 0 ? 0xffffffffffffffffull - i : a == 1 ? 0xffff888003a1b2c0ull : i * 7 + (uint64_t)a;
	if (i % 5 == 2) {
		h->flags |= HP_HIT_REGS;
		for (int r = 0; r < HP_NREGS; r++)
			h->regs[r] = 0xffffffff00000000ull + i * 0x100 + (uint64_t)r;
	}
	h->memlen = (uint16_t)(i % 4 == 0 ? 0 : i % 4 == 1 ? 5 : i % 4 == 2 ? HP_MAX_MEM : 1);
	if (h->memlen || i % 8 == 4) /* captured, or tried and unreadable */
		h->flags |= HP_HIT_MEM;
	if (h->memlen || i % 8 == 4) {
		h->memaddr = 0x7ffd12340000ull + i;
		for (int m = 0; m < h->memlen; m++)
			h->mem[m] = (uint8_t)(i * 3 + (uint64_t)m);
	}
	if (i % 12 == 0 && h->nargs >= 2) { /* the string probe 1's filename points at */
		static const char path[] = "/etc/p\\w\x01"
					   "d\0tail";
		h->flags |= HP_HIT_MEM;
		h->memaddr = h->args[1];
		h->memlen = sizeof path - 1;
		memcpy(h->mem, path, h->memlen);
	}
	if (i % 7 == 6) { /* a return probe's hit: a negative return value now and then */
		h->flags |= HP_HIT_RET;
		h->retval = i % 14 == 6 ? -(int64_t)(i % 50) - 1 : (int64_t)(i * 11);
		h->latency_ns = 1000 + i * 37;
	}
}

static void hex(FILE *f, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", ((const uint8_t *)p)[i]);
}

static int json(struct hp_journal_writer *w, enum hp_rec_type t, uint64_t time, const char *s)
{
	return hp_journal__append_json(w, t, time, s, strlen(s), NULL);
}

/* The IP_NAME events (docs/journal.md) around hit i, as the agent writes them: i % 6
 * says which: 1 named before (now and then a name to escape or to cut), 3 named twice
 * (the later wins), 4 named after the hit (too late for it), 5 only malformed names.
 * Returns the name hit i exports raw (NULL: none), into name. */
static const char *ip_names(struct hp_journal_writer *w, uint64_t i, const struct hp_hit *h, int after, char *name,
			    size_t cap)
{
	char rec[1024], ip[24];
	int k = (int)(i % 6);

	snprintf(ip, sizeof(ip), "0x%" PRIx64, h->ip);
	if (after) {
		if (k == 4) {
			snprintf(rec, sizeof(rec), "{\"event\":\"IP_NAME\",\"data\":{\"ip\":\"%s\",\"name\":\"late\"}}",
				 ip);
			json(w, HP_REC_EVENT, h->time_ns, rec);
		}
		return NULL;
	}
	if (k == 1 && i % 24 == 1) { /* a spreadsheet formula, a quote, a comma, a control */
		snprintf(name, cap, "=ev\"il,\\x\x01\xc3\xa9+0x%x", (unsigned)i);
		snprintf(rec, sizeof(rec),
			 "{\"event\":\"IP_NAME\",\"data\":{\"ip\":\"%s\",\"name\":\"=ev\\\"il,\\\\x\\u0001\xc3\xa9+0x%"
			 "x\"}}",
			 ip, (unsigned)i);
	} else if (k == 1 && i % 24 == 13) { /* longer than the export keeps: cut */
		memset(name, 'n', 300);
		name[300] = 0;
		snprintf(rec, sizeof(rec), "{\"event\":\"IP_NAME\",\"data\":{\"ip\":\"%s\",\"name\":\"%s\"}}", ip,
			 name);
	} else if (k == 1 || k == 3) {
		snprintf(name, cap, "fn%u+0x%x", (unsigned)(i % 97), (unsigned)(i * 4));
		if (k == 3) {
			snprintf(rec, sizeof(rec),
				 "{\"event\":\"IP_NAME\",\"data\":{\"ip\":\"%s\",\"name\":\"before_reboot\"}}", ip);
			json(w, HP_REC_EVENT, h->time_ns, rec);
		}
		snprintf(rec, sizeof(rec), "{\"event\":\"IP_NAME\",\"data\":{\"ip\":\"%s\",\"name\":\"%s\"}}", ip,
			 name);
	} else if (k == 5) {
		static const char *const bad[] = {
			"{\"event\":\"IP_NAME\",\"data\":{\"ip\":\"%sx\",\"name\":\"no\"}}",
			/* strtoull would read it as ip: blanks, a sign and a second 0x */
			"{\"event\":\"IP_NAME\",\"data\":{\"ip\":\"0x +%s\",\"name\":\"no\"}}",
			"{\"event\":\"IP_NAME\",\"data\":{\"ip\":\"%s\",\"name\":\"\"}}",
			"{\"event\":\"IP_NAME\",\"data\":{\"ip\":\"%s\",\"name\":7}}",
			"{\"event\":\"IP_NAME\",\"data\":{\"ip\":\"%s\"}}",
			"{\"event\":\"IP_NAME\",\"data\":[\"%s\",\"no\"]}",
		};
		for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
			snprintf(rec, sizeof(rec), bad[b], ip);
			json(w, HP_REC_EVENT, h->time_ns, rec);
		}
		snprintf(rec, sizeof(rec), "{\"event\":\"IP_NAME\",\"data\":{\"ip\":\"%" PRIu64 "\",\"name\":\"no\"}}",
			 h->ip); /* decimal: not an address as the journal writes one */
		json(w, HP_REC_EVENT, h->time_ns, rec);
		return NULL;
	} else {
		return NULL;
	}
	json(w, HP_REC_EVENT, h->time_ns, rec);
	return name;
}

static void expect_line(FILE *f, uint64_t seq, const struct hp_hit *h, const char *ip_name)
{
	fprintf(f,
		"{\"seq\":%" PRIu64 ",\"probe\":%u,\"vcpu\":%u,\"time_ns\":%" PRIu64 ",\"pid\":%d,\"tgid\":%d,"
		"\"comm_hex\":\"",
		seq, h->probe_id, h->vcpu, h->time_ns, h->pid, h->tgid);
	hex(f, h->comm, strnlen(h->comm, HP_COMM_LEN));
	fprintf(f, "\",\"ip\":%" PRIu64 ",\"cr3\":%" PRIu64 ",\"flags\":%u,\"args\":[", h->ip, h->cr3, h->flags);
	for (int a = 0; a < h->nargs; a++)
		fprintf(f, "%s%" PRIu64, a ? "," : "", h->args[a]);
	fprintf(f, "],\"regs\":");
	if (h->flags & HP_HIT_REGS) {
		fprintf(f, "[");
		for (int r = 0; r < HP_NREGS; r++)
			fprintf(f, "%s%" PRIu64, r ? "," : "", h->regs[r]);
		fprintf(f, "]");
	} else {
		fprintf(f, "null");
	}
	fprintf(f, ",\"memaddr\":%" PRIu64 ",\"mem\":\"", h->flags & HP_HIT_MEM ? h->memaddr : 0);
	hex(f, h->mem, h->memlen);
	fprintf(f, "\",\"retval\":%" PRId64 ",\"latency_ns\":%" PRIu64 ",\"ip_name_hex\":", h->retval, h->latency_ns);
	if (ip_name) {
		fprintf(f, "\"");
		hex(f, ip_name, strlen(ip_name));
		fprintf(f, "\"}\n");
	} else {
		fprintf(f, "null}\n");
	}
}

static int make(const char *path, const char *expected, uint64_t n)
{
	struct hp_journal_meta m = { .created_ns = 1700000000000000000ull, .mono_base_ns = MONO_BASE };
	struct hp_journal_writer *w;
	struct hp_err err = { { 0 } };
	struct hp_dropped d = { 2, 17, MONO_BASE + 1500 };
	FILE *f = expected ? fopen(expected, "w") : NULL;
	uint64_t seq;

	strcpy(m.session, "s-\"1\"");
	strcpy(m.vm_name, "lab");
	strcpy(m.kernel, "6.1.0-56-amd64");
	if (hp_journal__create(path, &m, 0, &w, &err) < 0 || (expected && !f)) {
		fprintf(stderr, "create: %s\n", err.msg);
		return 1;
	}
	/* probe 1's parameters are known (named arguments) and it returns -errno, probe 3's
	 * have a bad name (unknown) */
	json(w, HP_REC_PROBE, MONO_BASE,
	     "{\"id\":1,\"spec\":\"kernel:do_sys_openat2\",\"args\":3,"
	     "\"ret_type\":{\"type\":\"long\",\"class\":\"int\",\"size\":8,\"errno\":true},\"params\":["
	     "{\"name\":\"dfd\",\"type\":\"int\",\"class\":\"int\",\"size\":4},"
	     "{\"name\":\"filename\",\"type\":\"const char *\",\"class\":\"str\",\"size\":8},"
	     "{\"name\":\"how\",\"type\":\"unsigned int\",\"class\":\"uint\",\"size\":4}]}");
	/* probe 2's names are awkward in CTF: a TSDL keyword, a name and that name's "_tag" */
	json(w, HP_REC_PROBE, MONO_BASE,
	     "{\"id\":2,\"spec\":\"user:hb:heartbeat\","
	     "\"ret_type\":{\"type\":\"unsigned int\",\"class\":\"uint\",\"size\":4},\"params\":["
	     "{\"name\":\"event\",\"type\":\"u16\",\"class\":\"uint\",\"size\":2},"
	     "{\"name\":\"x\",\"type\":\"void *\",\"class\":\"ptr\",\"size\":8},"
	     "{\"name\":\"x_tag\",\"type\":\"s8\",\"class\":\"int\",\"size\":1}]}");
	json(w, HP_REC_PROBE, MONO_BASE,
	     "{\"id\":3,\"spec\":\"kernel:odd\\\"name,x\\n\",\"params\":[{\"name\":\"a b\",\"class\":\"int\","
	     "\"size\":4}]}");
	json(w, HP_REC_EVENT, MONO_BASE, "{\"vm\":\"running\"}");
	for (uint64_t i = 0; i < n; i++) {
		struct hp_hit h;

		char name[512];
		const char *ip_name;

		make_hit(i, &h);
		ip_name = ip_names(w, i, &h, 0, name, sizeof(name));
		if (hp_journal__append_hit(w, &h, &seq) < 0)
			return 1;
		ip_names(w, i, &h, 1, name, sizeof(name));
		if (f)
			expect_line(f, seq, &h, ip_name);
		if (i == n / 2) {
			json(w, HP_REC_ALERT, h.time_ns,
			     "{\"detector\":\"watchdog\",\"msg\":\"no heartbeat \\\"x\\\"\\n\",\"pid\":101}");
			json(w, HP_REC_ALERT, h.time_ns, "[1, 2]");
			/* aggregations' snapshots: one of probe 1 (a quote, bad rows, a long key), one of
			 * probe 2 (sum), one malformed (no rows), one not an AGG */
			char agg[1024], e200[401];

			for (int k = 0; k < 200; k++) /* a key longer than a series name: cut on a character */
				memcpy(e200 + 2 * k, "\xc3\xa9", 2);
			e200[400] = 0;
			snprintf(agg, sizeof(agg),
				 "{\"event\":\"AGG\",\"data\":{\"probe\":1,\"agg\":\"count() by comm, "
				 "fd\",\"fn\":\"count\","
				 "\"by\":[\"comm\",\"fd\"],\"rows\":[{\"key\":[\"a\\\"b\",3],\"count\":5},"
				 "{\"key\":[\"x\"],\"count\":2},{\"key\":\"bad\",\"count\":1},{\"key\":[\"y\"]},"
				 "{\"key\":[\"%s\"],\"count\":1}],\"hits\":9}}",
				 e200);
			json(w, HP_REC_EVENT, h.time_ns, agg);
			json(w, HP_REC_EVENT, h.time_ns,
			     "{\"event\":\"AGG\",\"data\":{\"probe\":2,\"agg\":\"sum(arg1) by pid\",\"fn\":\"sum\","
			     "\"rows\":[{\"key\":[101],\"count\":2,\"sum\":40}]}}");
			json(w, HP_REC_EVENT, h.time_ns, "{\"event\":\"AGG\",\"data\":{\"probe\":1,\"rows\":7}}");
			json(w, HP_REC_EVENT, h.time_ns, "{\"event\":\"VM_STATE\",\"data\":{\"probe\":1,\"rows\":[]}}");
			hp_journal__append_dropped(w, &d, NULL);
		}
		if (i % 1000 == 999 && hp_journal__flush(w, 1, &err) < 0)
			return 1;
	}
	if (f)
		fclose(f);
	if (hp_journal__close(w, &err) < 0) {
		fprintf(stderr, "close: %s\n", err.msg);
		return 1;
	}
	return 0;
}

static int plain(const char *path, uint64_t n)
{
	struct hp_journal_meta m = { .created_ns = 1700000000000000000ull, .mono_base_ns = MONO_BASE };
	struct hp_journal_writer *w;
	struct hp_err err = { { 0 } };
	struct hp_hit h;

	strcpy(m.vm_name, "lab");
	if (hp_journal__create(path, &m, 0, &w, &err) < 0) {
		fprintf(stderr, "create: %s\n", err.msg);
		return 1;
	}
	json(w, HP_REC_PROBE, MONO_BASE, "{\"id\":1,\"spec\":\"kernel:__x64_sys_getpid\",\"args\":2}");
	memset(&h, 0, sizeof(h));
	strcpy(h.comm, "sysloop");
	h.probe_id = 1;
	h.flags = HP_HIT_TASK;
	h.ip = 0xffffffff81abe350ull;
	h.nargs = 2;
	for (uint64_t i = 0; i < n; i++) {
		h.time_ns = MONO_BASE + 1000 + i * 1000;
		h.pid = h.tgid = (int32_t)(100 + i % 40);
		h.args[0] = i;
		h.args[1] = 7;
		if (hp_journal__append_hit(w, &h, NULL) < 0 || (i % 4096 == 4095 && hp_journal__flush(w, 1, &err) < 0))
			return 1;
	}
	return hp_journal__close(w, &err) < 0;
}

static int do_export(int argc, char **argv)
{
	uint32_t probes[16];
	int32_t pids[16];
	struct hp_export_filter f = { .probes = probes, .pids = pids };
	struct hp_export_stats st;
	struct hp_err err = { { 0 } };
	enum hp_export_format fmt = hp_export__parse_format(argv[3]);
	int rc;

	for (int i = 5; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--probe") && f.n_probes < 16)
			probes[f.n_probes++] = (uint32_t)strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--pid") && f.n_pids < 16)
			pids[f.n_pids++] = (int32_t)strtol(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--from"))
			f.from_ns = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--to"))
			f.to_ns = strtoull(argv[i + 1], NULL, 0);
	}
	rc = hp_export__journal(argv[2], fmt, argv[4], &f, NULL, NULL, &st, &err);
	if (rc < 0) {
		fprintf(stderr, "export: %s\n", err.msg);
		return 1;
	}
	printf("hits %" PRIu64 " records %" PRIu64 "\n", st.hits_written, st.records_read);
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench(uint64_t n, const char *dir)
{
	char j[4096], out[4096];
	struct hp_export_stats st;
	struct hp_err err = { { 0 } };
	double t0 = now(), t1;
	static const char *const fmts[] = { "ctf", "csv", "jsonl", "chrome" };

	snprintf(j, sizeof(j), "%s/bench.hpj", dir);
	if (make(j, NULL, n))
		return 1;
	t1 = now();
	printf("journal: %" PRIu64 " hits written in %.2f s\n", n, t1 - t0);
	for (size_t k = 0; k < 4; k++) {
		snprintf(out, sizeof(out), "%s/bench.%s", dir, fmts[k]);
		t0 = now();
		if (hp_export__journal(j, hp_export__parse_format(fmts[k]), out, NULL, NULL, NULL, &st, &err) < 0) {
			fprintf(stderr, "export: %s\n", err.msg);
			return 1;
		}
		printf("%s: %" PRIu64 " hits exported in %.2f s\n", fmts[k], st.hits_written, now() - t0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "make"))
		return make(argv[2], strcmp(argv[3], "-") ? argv[3] : NULL, strtoull(argv[4], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "plain"))
		return plain(argv[2], strtoull(argv[3], NULL, 0));
	if (argc >= 5 && !strcmp(argv[1], "export"))
		return do_export(argc, argv);
	if (argc == 4 && !strcmp(argv[1], "bench"))
		return bench(strtoull(argv[2], NULL, 0), argv[3]);
	fprintf(stderr, "usage: see the comment at the top of hp_mkjournal.c\n");
	return 2;
}
