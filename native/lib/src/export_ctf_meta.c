/* The CTF export's metadata (TSDL text): the layout export_ctf.c writes. Two stream
 * classes: 0, the hits, one data stream per vCPU with the vCPU in each packet's
 * cpu_id (as LTTng's per-CPU streams, which Trace Compass shows by CPU); 1, the
 * agent's records (alerts, lost hits) with events_discarded. */
#include <stdio.h>

#include "export_ctf.h"

static void tsdl_chars(struct hpi_out *o, const char *s, size_t max);
static void tsdl_str(struct hpi_out *o, const char *s, size_t max);

/* A class's name: its probe's spec; with " #ID" when another class has the same spec,
 * and ".N" for the Nth class of one probe and spec (described again otherwise). */
static void event_name(struct hpi_out *o, const struct ctf_classes *t, const struct ctf_class *k)
{
	int shared = 0, nth = 0;
	char tail[48];

	for (size_t i = 0; i < t->n; i++) {
		const struct ctf_class *j = &t->v[i];

		if (j == k || strcmp(j->spec, k->spec))
			continue;
		shared = 1;
		nth += j->probe_id == k->probe_id && j->id < k->id;
	}
	tail[0] = '\0';
	if (shared && nth)
		snprintf(tail, sizeof(tail), " #%u.%d", k->probe_id, nth);
	else if (shared)
		snprintf(tail, sizeof(tail), " #%u", k->probe_id);
	hpi_out_char(o, '"');
	tsdl_chars(o, k->spec, HPI_SPEC_MAX);
	hpi_out_str(o, tail);
	hpi_out_char(o, '"');
}

/* A hit event class in TSDL: the fields of the hit field table (hprobe/hit.h), then
 * the class's typed parameters. k NULL: the generic class "hit". */
static void hit_tsdl(struct hpi_out *o, const struct ctf_classes *t, const struct ctf_class *k)
{
	static const char *const types[] = {
		[HP_HFT_UINT] = "uint64_t", [HP_HFT_INT] = "int64_t",  [HP_HFT_ADDR] = "uint64x_t",
		[HP_HFT_TEXT] = "string",   [HP_HFT_BOOL] = "uint8_t",
	};
	const struct hp_hit_field *fs = hp_hit__fields();

	char id[32];

	hpi_out_str(o, "event {\n\tname = ");
	if (k) {
		event_name(o, t, k);
		snprintf(id, sizeof(id), "%u", k->id);
	} else {
		hpi_out_str(o, "\"hit\"");
		snprintf(id, sizeof(id), "%d", CTF_EV_HIT);
	}
	hpi_out_str(o, ";\n\tid = ");
	hpi_out_str(o, id);
	hpi_out_str(o, ";\n\tstream_id = 0;\n\tfields := struct {\n");
	for (int f = 0; f < HP_HF_COUNT; f++) {
		const struct hp_hit_field *d = &fs[f];

		if (!(d->in & HP_HF_IN_EXPORT))
			continue;
		hpi_out_str(o, "\t\t");
		switch (d->type) {
		case HP_HFT_ARGS:
			hpi_out_str(o, "uint8_t nargs;\n\t\tuint64_t args[nargs];\n");
			continue;
		case HP_HFT_BYTES:
			hpi_out_str(o, "uint16_t memlen;\n\t\tuint8_t mem[memlen];\n");
			continue;
		case HP_HFT_REGS:
			hpi_out_str(o, "uint8_t nregs;\n\t\tuint64x_t regs[nregs];\n");
			continue;
		default:
			break;
		}
		if (d->optional) {
			hpi_out_str(o, "enum : uint8_t { absent = 0, present = 1 } ");
			hpi_out_str(o, d->name);
			hpi_out_str(o, "_tag;\n\t\tvariant <");
			hpi_out_str(o, d->name);
			hpi_out_str(o, "_tag> { struct { } absent; ");
			hpi_out_str(o, types[d->type]);
			hpi_out_str(o, " present; } ");
		} else {
			hpi_out_str(o, types[d->type]);
			hpi_out_char(o, ' ');
		}
		hpi_out_str(o, d->name);
		hpi_out_str(o, ";\n");
	}
	if (k)
		hpi_ctf_params_tsdl(o, k);
	hpi_out_str(o, "\t};\n};\n\n");
}

/* A TSDL string literal's characters: printable ASCII only, quotes and backslashes
 * escaped. */
static void tsdl_chars(struct hpi_out *o, const char *s, size_t max)
{
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			hpi_out_char(o, '\\');
		hpi_out_char(o, ch >= 0x20 && ch < 0x7f ? (char)ch : '?');
	}
}

static void tsdl_str(struct hpi_out *o, const char *s, size_t max)
{
	hpi_out_char(o, '"');
	tsdl_chars(o, s, max);
	hpi_out_char(o, '"');
}

static void uuid_str(char out[37], const uint8_t u[16])
{
	static const char hx[] = "0123456789abcdef";
	int o = 0;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hx[u[i] >> 4];
		out[o++] = hx[u[i] & 15];
	}
	out[o] = '\0';
}

static const char tsdl_types[] =
	"typealias integer { size = 8; align = 8; signed = false; } := uint8_t;\n"
	"typealias integer { size = 16; align = 8; signed = false; } := uint16_t;\n"
	"typealias integer { size = 32; align = 8; signed = false; } := uint32_t;\n"
	"typealias integer { size = 64; align = 8; signed = false; } := uint64_t;\n"
	"typealias integer { size = 32; align = 8; signed = true; } := int32_t;\n"
	"typealias integer { size = 64; align = 8; signed = true; } := int64_t;\n"
	"typealias integer { size = 64; align = 8; signed = false; base = hex; } := uint64x_t;\n\n";

static const char tsdl_streams[] =
	"typealias integer { size = 64; align = 8; signed = false; map = clock.monotonic.value; }"
	" := uint64_clock_monotonic_t;\n\n"
	"/* The hits, one data stream per vCPU (files stream_<vCPU>; vCPUs from 256 on share\n"
	" * stream_more, a packet per run of one vCPU). */\n"
	"stream {\n"
	"\tid = 0;\n"
	"\tpacket.context := struct {\n"
	"\t\tuint64_clock_monotonic_t timestamp_begin;\n"
	"\t\tuint64_clock_monotonic_t timestamp_end;\n"
	"\t\tuint64_t content_size;\n"
	"\t\tuint64_t packet_size;\n"
	"\t\tuint64_t packet_seq_num;\n"
	"\t\tuint32_t cpu_id;\n"
	"\t};\n"
	"\tevent.header := struct {\n"
	"\t\tuint16_t id;\n"
	"\t\tuint64_clock_monotonic_t timestamp;\n"
	"\t};\n"
	"};\n\n"
	"/* The agent's records (file stream_agent); events_discarded counts the hits lost\n"
	" * so far, on any vCPU (the dropped events summed). */\n"
	"stream {\n"
	"\tid = 1;\n"
	"\tpacket.context := struct {\n"
	"\t\tuint64_clock_monotonic_t timestamp_begin;\n"
	"\t\tuint64_clock_monotonic_t timestamp_end;\n"
	"\t\tuint64_t content_size;\n"
	"\t\tuint64_t packet_size;\n"
	"\t\tuint64_t packet_seq_num;\n"
	"\t\tuint64_t events_discarded;\n"
	"\t};\n"
	"\tevent.header := struct {\n"
	"\t\tuint16_t id;\n"
	"\t\tuint64_clock_monotonic_t timestamp;\n"
	"\t};\n"
	"};\n\n"
	"/* A detector alert: the agent's JSON text. */\n"
	"event {\n"
	"\tname = \"alert\";\n"
	"\tid = 1;\n"
	"\tstream_id = 1;\n"
	"\tfields := struct {\n"
	"\t\tstring text;\n"
	"\t};\n"
	"};\n\n"
	"/* Hits lost before the journal (probe_id 0: any probe). */\n"
	"event {\n"
	"\tname = \"dropped\";\n"
	"\tid = 2;\n"
	"\tstream_id = 1;\n"
	"\tfields := struct {\n"
	"\t\tuint32_t probe_id;\n"
	"\t\tuint64_t count;\n"
	"\t};\n"
	"};\n";

int hpi_ctf_metadata(const struct hpi_export *x, const char *path, const uint8_t uuid[16],
		     const struct ctf_classes *classes)
{
	static const uint8_t none[16];
	const struct hp_journal_meta *m = x->meta;
	/* The clock counts host CLOCK_MONOTONIC ns; the offset maps it to wall time. */
	uint64_t off = m->created_ns > m->mono_base_ns ? m->created_ns - m->mono_base_ns : 0;
	struct hpi_out o;
	char u[37];
	int rc;

	if ((rc = hpi_out_open(&o, path)) < 0)
		return rc;
	uuid_str(u, uuid);
	hpi_out_str(&o, "/* CTF 1.8 */\n\n/* HProbe hit journal export (docs/journal.md). */\n\n");
	hpi_out_str(&o, tsdl_types);
	hpi_out_str(&o, "trace {\n\tmajor = 1;\n\tminor = 8;\n\tuuid = \"");
	hpi_out_str(&o, u);
	hpi_out_str(&o, "\";\n\tbyte_order = le;\n\tpacket.header := struct {\n"
			"\t\tuint32_t magic;\n\t\tuint8_t uuid[16];\n\t\tuint32_t stream_id;\n\t};\n};\n\n");
	hpi_out_str(&o, "env {\n\tdomain = \"hprobe\";\n\ttracer_name = \"hprobe\";\n\tsession = ");
	tsdl_str(&o, m->session, sizeof(m->session));
	hpi_out_str(&o, ";\n\tvm = ");
	tsdl_str(&o, m->vm_name, sizeof(m->vm_name));
	hpi_out_str(&o, ";\n\tkernel = ");
	tsdl_str(&o, m->kernel, sizeof(m->kernel));
	/* LTTng names a host's CLOCK_MONOTONIC by its boot id: the same uuid lets
	 * readers line this trace up with the host's LTTng traces of that boot */
	if (x->boot_id && memcmp(x->boot_id, none, 16))
		uuid_str(u, x->boot_id);
	hpi_out_str(&o, ";\n};\n\nclock {\n\tname = monotonic;\n\tuuid = \"");
	hpi_out_str(&o, u);
	hpi_out_str(&o, "\";\n\tdescription = \"host CLOCK_MONOTONIC\";\n\tfreq = 1000000000;\n\toffset_s = ");
	hpi_out_u64(&o, off / 1000000000u);
	hpi_out_str(&o, ";\n\toffset = ");
	hpi_out_u64(&o, off % 1000000000u);
	hpi_out_str(&o, ";\n};\n\n");
	hpi_out_str(&o, tsdl_streams);
	hpi_out_str(&o, "/* Probe hits, a class per probe named by its spec (\"hit\": probes past the first\n"
			" * 4096). The fields are docs/journal.md's hit fields; an optional value is a variant on\n"
			" * its <name>_tag (absent, present); regs (0 or 21) are in the order of enum hp_reg: rax\n"
			" * rbx rcx rdx rsi rdi rbp rsp r8-r15 rip rflags cr3 gs_base k_gs_base. \"params\": the\n"
			" * probe's parameters by name and type, present when captured; a char pointer reads\n"
			" * as the string when the hit captured it, else as the pointer. */\n");
	hit_tsdl(&o, classes, NULL);
	for (size_t i = 0; i < classes->n; i++)
		hit_tsdl(&o, classes, &classes->v[i]);
	return hpi_out_commit(&o);
}
