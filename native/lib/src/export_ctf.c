/* CTF 1.8 export: DIR/metadata (TSDL text) + DIR/stream (one binary stream of
 * packets), readable by babeltrace2 and Trace Compass. All integers are byte
 * aligned and little endian, so events are packed with no padding. Events:
 * hit (id 0), alert (id 1), dropped (id 2). A packet is built in memory and
 * written whole; its context (timestamps, sizes, and the hits lost so far as
 * events_discarded, which babeltrace2 and Trace Compass report as lost events) is
 * filled in when it closes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export_int.h"
#include "journal_int.h" /* hpi_put* */

#define CTF_MAGIC 0xC1FC1FC1u
#define PKT_PROLOGUE 72 /* header 24 + context 48 */
/* The fuzz build sets a small one, so that its edges get fuzzed. */
#ifndef PKT_TARGET
#define PKT_TARGET ((size_t)1 << 20)
#endif
#define EV_HIT 0
#define EV_ALERT 1
#define EV_DROPPED 2

struct ctf {
	uint8_t *pkt;
	size_t plen, pcap;
	uint64_t ts_begin, last_ts, pkt_seq;
	uint64_t discarded; /* hits lost up to now (dropped records), saturating */
	uint32_t pkt_events;
	uint8_t uuid[16];
	char *stream_path, *meta_path;
	int made_dir;
};

static int pkt_room(struct ctf *c, size_t n)
{
	if (c->plen + n > c->pcap) {
		size_t cap = c->pcap ? c->pcap : PKT_TARGET + 4096;
		uint8_t *p;

		while (cap < c->plen + n)
			cap *= 2;
		p = realloc(c->pkt, cap);
		if (!p)
			return -ENOMEM;
		c->pkt = p;
		c->pcap = cap;
	}
	return 0;
}

static void put_prologue(uint8_t *p, const struct ctf *c, uint64_t end_ts, size_t len, uint64_t discarded)
{
	hpi_put32(p, CTF_MAGIC);
	memcpy(p + 4, c->uuid, 16);
	hpi_put32(p + 20, 0); /* stream_id */
	hpi_put64(p + 24, c->ts_begin);
	hpi_put64(p + 32, end_ts);
	hpi_put64(p + 40, (uint64_t)len * 8); /* content_size, bits */
	hpi_put64(p + 48, (uint64_t)len * 8); /* packet_size, bits */
	hpi_put64(p + 56, c->pkt_seq);
	hpi_put64(p + 64, discarded); /* a running total, as LTTng's: readers take differences */
}

static void pkt_close(struct hpi_export *x, struct ctf *c)
{
	if (!c->pkt_events)
		return;
	if (!c->pkt_seq && c->discarded) {
		/* readers count a packet's lost events from the one before: an empty first
		 * packet (none lost) makes the first real one's count exact, not "may have" */
		uint8_t empty[PKT_PROLOGUE];
		put_prologue(empty, c, c->ts_begin, PKT_PROLOGUE, 0);
		hpi_out_write(&x->out, empty, PKT_PROLOGUE);
		c->pkt_seq++;
	}
	put_prologue(c->pkt, c, c->last_ts, c->plen, c->discarded);
	c->pkt_seq++;
	hpi_out_write(&x->out, c->pkt, c->plen);
	c->plen = PKT_PROLOGUE;
	c->pkt_events = 0;
}

/* Starts an event of size n (header included); returns where its payload goes. */
static uint8_t *ev_begin(struct hpi_export *x, struct ctf *c, uint16_t id, uint64_t t, size_t n)
{
	uint8_t *p;

	if (c->pkt_events && c->plen + n > PKT_TARGET)
		pkt_close(x, c);
	if (pkt_room(c, n) < 0)
		return NULL;
	/* Readers require time to never go back within a stream: an event journalled
	 * late (another vCPU) is stamped at the latest time seen. */
	if (t < c->last_ts)
		t = c->last_ts;
	if (!c->pkt_events)
		c->ts_begin = t;
	c->last_ts = t;
	c->pkt_events++;
	p = c->pkt + c->plen;
	hpi_put16(p, id);
	hpi_put64(p + 2, t);
	c->plen += n;
	return p + 10;
}

static uint8_t *put_str(uint8_t *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	p[n] = 0;
	return p + n + 1;
}

/* The hit event's payload, field by field as the table says (hprobe/hit.h); the
 * metadata (hit_tsdl) declares the same layout. An optional scalar or string is a
 * one-byte tag (0 absent, 1 present) and, when present, its value. */
/* A TEXT field's text: the comm as the export escaped it, else the table's (buf). */
static const char *text_of(const struct hp_hit *h, const struct hp_hit_ctx *hc, int f, const char *comm, char *buf)
{
	return f == HP_HF_COMM ? comm : hp_hit__text(h, hc, (enum hp_hf)f, buf, HP_HIT_FIELD_TEXT_MAX);
}

static size_t hit_size(const struct hp_hit *h, const struct hp_hit_ctx *hc, const char *comm)
{
	char buf[HP_HIT_FIELD_TEXT_MAX];
	const struct hp_hit_field *fs = hp_hit__fields();
	size_t n = 10;

	for (int f = 0; f < HP_HF_COUNT; f++) {
		const struct hp_hit_field *d = &fs[f];
		int has = hp_hit__has(h, (enum hp_hf)f);

		if (!(d->in & HP_HF_IN_EXPORT))
			continue;
		if (d->optional && d->type != HP_HFT_BYTES && d->type != HP_HFT_REGS)
			n += 1;
		if (!has && d->type != HP_HFT_ARGS && d->type != HP_HFT_BYTES && d->type != HP_HFT_REGS)
			continue;
		switch (d->type) {
		case HP_HFT_UINT:
		case HP_HFT_INT:
		case HP_HFT_ADDR:
			n += 8;
			break;
		case HP_HFT_BOOL:
			n += 1;
			break;
		case HP_HFT_TEXT:
			n += strlen(text_of(h, hc, f, comm, buf)) + 1;
			break;
		case HP_HFT_ARGS:
			n += 1 + 8 * (size_t)h->nargs;
			break;
		case HP_HFT_BYTES:
			n += 2 + (has ? h->memlen : 0);
			break;
		case HP_HFT_REGS:
			n += 1 + (has ? 8 * (size_t)HP_NREGS : 0);
			break;
		}
	}
	return n;
}

static int ctf_hit(struct hpi_export *x, const struct hp_record *rec, const char *spec, const char *comm)
{
	const struct hp_hit *h = &rec->u.hit;
	const struct hp_hit_field *fs = hp_hit__fields();
	struct hp_hit_ctx hc = { rec->seq, hpi_rel_ns(x, h->time_ns), spec, x->params, x->nparams };
	char buf[HP_HIT_FIELD_TEXT_MAX];
	uint8_t *p = ev_begin(x, x->priv, EV_HIT, h->time_ns, hit_size(h, &hc, comm));

	if (!p)
		return -ENOMEM;
	for (int f = 0; f < HP_HF_COUNT; f++) {
		const struct hp_hit_field *d = &fs[f];
		int has = hp_hit__has(h, (enum hp_hf)f);

		if (!(d->in & HP_HF_IN_EXPORT))
			continue;
		if (d->optional && d->type != HP_HFT_BYTES && d->type != HP_HFT_REGS) {
			*p++ = (uint8_t)has;
			if (!has)
				continue;
		}
		switch (d->type) {
		case HP_HFT_UINT:
		case HP_HFT_ADDR:
			hpi_put64(p, hp_hit__uint(h, &hc, (enum hp_hf)f));
			p += 8;
			break;
		case HP_HFT_INT:
			hpi_put64(p, (uint64_t)hp_hit__int(h, &hc, (enum hp_hf)f));
			p += 8;
			break;
		case HP_HFT_BOOL:
			*p++ = (uint8_t)hp_hit__uint(h, &hc, (enum hp_hf)f);
			break;
		case HP_HFT_TEXT: {
			const char *t = text_of(h, &hc, f, comm, buf);
			p = put_str(p, t, strlen(t));
			break;
		}
		case HP_HFT_ARGS:
			*p++ = h->nargs;
			for (int i = 0; i < h->nargs; i++, p += 8)
				hpi_put64(p, h->args[i]);
			break;
		case HP_HFT_BYTES:
			hpi_put16(p, has ? h->memlen : 0);
			memcpy(p + 2, h->mem, has ? h->memlen : 0);
			p += 2 + (has ? h->memlen : 0);
			break;
		case HP_HFT_REGS:
			*p++ = has ? HP_NREGS : 0;
			for (int i = 0; has && i < HP_NREGS; i++, p += 8)
				hpi_put64(p, h->regs[i]);
			break;
		}
	}
	return x->out.err;
}

/* The hit event's fields in TSDL, from the same table. */
static void hit_tsdl(struct hpi_out *o)
{
	static const char *const types[] = {
		[HP_HFT_UINT] = "uint64_t", [HP_HFT_INT] = "int64_t",  [HP_HFT_ADDR] = "uint64x_t",
		[HP_HFT_TEXT] = "string",   [HP_HFT_BOOL] = "uint8_t",
	};
	const struct hp_hit_field *fs = hp_hit__fields();

	hpi_out_str(o, "/* A probe hit: its fields are docs/journal.md's hit fields. An optional value is a\n"
		       " * variant on its <name>_tag (absent, present); regs (0 or 21) are in the order of\n"
		       " * enum hp_reg: rax rbx rcx rdx rsi rdi rbp rsp r8-r15 rip rflags cr3 gs_base k_gs_base. */\n"
		       "event {\n\tname = \"hit\";\n\tid = 0;\n\tstream_id = 0;\n\tfields := struct {\n");
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
	hpi_out_str(o, "\t};\n};\n\n");
}

static int ctf_alert(struct hpi_export *x, const struct hp_record *rec)
{
	struct ctf *c = x->priv;
	const char *text = rec->json;
	size_t tl = rec->json_len;
	char *esc = NULL;
	uint8_t *p;

	if (!hpi_utf8_valid(text, tl)) { /* CTF strings are UTF-8 */
		tl = hp_export__escape(rec->json, rec->json_len, NULL, 0);
		if (!(esc = malloc(tl + 1)))
			return -ENOMEM;
		hp_export__escape(rec->json, rec->json_len, esc, tl + 1);
		text = esc;
	}
	p = ev_begin(x, c, EV_ALERT, rec->time_ns, 10 + tl + 1);
	if (p)
		put_str(p, text, tl);
	free(esc);
	return p ? x->out.err : -ENOMEM;
}

static int ctf_dropped(struct hpi_export *x, const struct hp_record *rec)
{
	uint8_t *p = ev_begin(x, x->priv, EV_DROPPED, rec->time_ns, 10 + 12);

	if (!p)
		return -ENOMEM;
	struct ctf *c = x->priv;
	hpi_put32(p, rec->u.dropped.probe_id);
	hpi_put64(p + 4, rec->u.dropped.count);
	c->discarded =
		rec->u.dropped.count > UINT64_MAX - c->discarded ? UINT64_MAX : c->discarded + rec->u.dropped.count;
	return x->out.err;
}

/* A TSDL string literal: printable ASCII only, quotes and backslashes escaped. */
static void tsdl_str(struct hpi_out *o, const char *s, size_t max)
{
	hpi_out_char(o, '"');
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			hpi_out_char(o, '\\');
		hpi_out_char(o, ch >= 0x20 && ch < 0x7f ? (char)ch : '?');
	}
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

static const char tsdl_stream[] =
	"typealias integer { size = 64; align = 8; signed = false; map = clock.monotonic.value; }"
	" := uint64_clock_monotonic_t;\n\n"
	"stream {\n"
	"\tid = 0;\n"
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
	"\tstream_id = 0;\n"
	"\tfields := struct {\n"
	"\t\tstring text;\n"
	"\t};\n"
	"};\n\n"
	"/* Hits lost before the journal (probe_id 0: any probe). */\n"
	"event {\n"
	"\tname = \"dropped\";\n"
	"\tid = 2;\n"
	"\tstream_id = 0;\n"
	"\tfields := struct {\n"
	"\t\tuint32_t probe_id;\n"
	"\t\tuint64_t count;\n"
	"\t};\n"
	"};\n";

static int write_metadata(struct hpi_export *x, struct ctf *c)
{
	const struct hp_journal_meta *m = x->meta;
	/* The clock counts host CLOCK_MONOTONIC ns; the offset maps it to wall time. */
	uint64_t off = m->created_ns > m->mono_base_ns ? m->created_ns - m->mono_base_ns : 0;
	struct hpi_out o;
	char uuid[37];
	int rc;

	if ((rc = hpi_out_open(&o, c->meta_path)) < 0)
		return rc;
	uuid_str(uuid, c->uuid);
	hpi_out_str(&o, "/* CTF 1.8 */\n\n/* HProbe hit journal export (docs/journal.md). */\n\n");
	hpi_out_str(&o, tsdl_types);
	hpi_out_str(&o, "trace {\n\tmajor = 1;\n\tminor = 8;\n\tuuid = \"");
	hpi_out_str(&o, uuid);
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
	static const uint8_t none[16];
	if (x->boot_id && memcmp(x->boot_id, none, 16))
		uuid_str(uuid, x->boot_id);
	hpi_out_str(&o, ";\n};\n\nclock {\n\tname = monotonic;\n\tuuid = \"");
	hpi_out_str(&o, uuid);
	hpi_out_str(&o, "\";\n\tdescription = \"host CLOCK_MONOTONIC\";\n\tfreq = 1000000000;\n\toffset_s = ");
	hpi_out_u64(&o, off / 1000000000u);
	hpi_out_str(&o, ";\n\toffset = ");
	hpi_out_u64(&o, off % 1000000000u);
	hpi_out_str(&o, ";\n};\n\n");
	hpi_out_str(&o, tsdl_stream);
	hit_tsdl(&o);
	return hpi_out_commit(&o);
}

static uint64_t fnv64(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static char *join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + b + 2);

	if (p) {
		memcpy(p, dir, a);
		p[a] = '/';
		memcpy(p + a + 1, name, b + 1);
	}
	return p;
}

static int ctf_begin(struct hpi_export *x)
{
	const struct hp_journal_meta *m = x->meta;
	struct ctf *c = calloc(1, sizeof(*c));
	uint64_t h1, h2;
	int rc;

	if (!c)
		return -ENOMEM;
	x->priv = c;
	if (mkdir(x->out_path, 0700) == 0)
		c->made_dir = 1;
	else if (errno != EEXIST)
		return -errno;
	c->stream_path = join(x->out_path, "stream");
	c->meta_path = join(x->out_path, "metadata");
	if (!c->stream_path || !c->meta_path || pkt_room(c, PKT_PROLOGUE) < 0)
		return -ENOMEM;
	c->plen = PKT_PROLOGUE;
	/* A stable uuid per journal: exporting twice gives identical traces. */
	h1 = fnv64(14695981039346656037ull, m, sizeof(*m));
	h2 = fnv64(h1 ^ 0x9e3779b97f4a7c15ull, m, sizeof(*m));
	hpi_put64(c->uuid, h1);
	hpi_put64(c->uuid + 8, h2);
	c->uuid[6] = (uint8_t)((c->uuid[6] & 0x0f) | 0x40);
	c->uuid[8] = (uint8_t)((c->uuid[8] & 0x3f) | 0x80);
	rc = hpi_out_open(&x->out, c->stream_path);
	return rc;
}

static void ctf_free(struct hpi_export *x)
{
	struct ctf *c = x->priv;

	if (!c)
		return;
	free(c->pkt);
	free(c->stream_path);
	free(c->meta_path);
	free(c);
	x->priv = NULL;
}

static int ctf_end(struct hpi_export *x)
{
	struct ctf *c = x->priv;
	int rc;

	pkt_close(x, c);
	rc = x->out.err;
	if (!rc)
		rc = write_metadata(x, c);
	if (!rc)
		rc = hpi_out_commit(&x->out);
	if (rc) {
		hpi_out_discard(&x->out);
		unlink(c->meta_path);
		if (c->made_dir)
			rmdir(x->out_path);
	}
	ctf_free(x);
	return rc;
}

static void ctf_discard(struct hpi_export *x)
{
	struct ctf *c = x->priv;

	hpi_out_discard(&x->out);
	if (c && c->made_dir)
		rmdir(x->out_path);
	ctf_free(x);
}

const struct hpi_export_ops hpi_export_ctf = {
	.begin = ctf_begin,
	.hit = ctf_hit,
	.alert = ctf_alert,
	.dropped = ctf_dropped,
	.end = ctf_end,
	.discard = ctf_discard,
};
