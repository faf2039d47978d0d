/* CTF 1.8 export: a directory of DIR/metadata (TSDL, export_ctf_meta.c) and binary
 * data streams, readable by babeltrace2 and Trace Compass: the hits of vCPU N in
 * DIR/stream_N (cpu_id N in each packet, as LTTng's per-CPU streams), the agent's
 * records (alerts, lost hits) in DIR/stream_agent. All integers are byte aligned
 * and little endian, so events are packed with no padding. A stream's packet is
 * built in memory and written whole; its context (timestamps, sizes, and for the
 * agent's stream the hits lost so far as events_discarded, which babeltrace2 and
 * Trace Compass report as lost events) is filled in when it closes. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export_ctf.h"
#include "journal_int.h" /* hpi_put* */

#define CTF_MAGIC 0xC1FC1FC1u
#define PKT_HEADER 24               /* magic, uuid, stream_id */
#define PRO_HITS (PKT_HEADER + 44)  /* + 5 x 64-bit context, cpu_id */
#define PRO_AGENT (PKT_HEADER + 48) /* + 5 x 64-bit context, events_discarded */
#define CTF_VCPUS 256               /* vCPUs with a stream of their own (the in-QEMU tier's most) */
#define CTF_MEM ((size_t)16 << 20)  /* packets held in memory, all streams together */
/* The fuzz build sets a small one, so that its edges get fuzzed. */
#ifndef PKT_TARGET
#define PKT_TARGET ((size_t)1 << 20)
#endif
#define PKT_MIN (PKT_TARGET < 65536 ? PKT_TARGET : 65536)

struct ctf_stream {
	struct hpi_out out;
	char *path; /* the final name (removed again if the export fails after committing it) */
	uint8_t *pkt;
	size_t plen, pcap, prologue;
	uint64_t ts_begin, last_ts, pkt_seq;
	uint32_t events, cpu; /* the open packet's events, and its cpu_id */
	int cls;              /* stream class: 0 hits, 1 agent */
	int committed;
};

struct ctf {
	struct ctf_stream *hits[CTF_VCPUS + 1]; /* [CTF_VCPUS]: every vCPU from 256 on */
	struct ctf_stream *agent;
	size_t nstreams;
	uint64_t discarded; /* hits lost up to now (dropped records), saturating */
	struct ctf_classes classes;
	uint8_t uuid[16];
	char *meta_path;
	int made_dir;
};

/* A packet's size to aim at: memory stays bounded with many vCPUs. */
static size_t pkt_target(const struct ctf *c)
{
	size_t t = CTF_MEM / (c->nstreams ? c->nstreams : 1);

	return t > PKT_TARGET ? PKT_TARGET : t < PKT_MIN ? PKT_MIN : t;
}

static int pkt_room(struct ctf_stream *s, size_t n)
{
	if (s->plen + n > s->pcap) {
		size_t cap = s->pcap ? s->pcap : 4096;
		uint8_t *p;

		while (cap < s->plen + n)
			cap *= 2;
		p = realloc(s->pkt, cap);
		if (!p)
			return -ENOMEM;
		s->pkt = p;
		s->pcap = cap;
	}
	return 0;
}

static void put_prologue(uint8_t *p, const struct ctf *c, const struct ctf_stream *s, uint64_t end_ts, size_t len,
			 uint64_t discarded)
{
	hpi_put32(p, CTF_MAGIC);
	memcpy(p + 4, c->uuid, 16);
	hpi_put32(p + 20, (uint32_t)s->cls); /* stream_id */
	hpi_put64(p + 24, s->ts_begin);
	hpi_put64(p + 32, end_ts);
	hpi_put64(p + 40, (uint64_t)len * 8); /* content_size, bits */
	hpi_put64(p + 48, (uint64_t)len * 8); /* packet_size, bits */
	hpi_put64(p + 56, s->pkt_seq);
	if (s->cls == 0)
		hpi_put32(p + 64, s->cpu);
	else
		hpi_put64(p + 64, discarded); /* a running total, as LTTng's: readers take differences */
}

static void pkt_close(struct ctf *c, struct ctf_stream *s)
{
	if (!s->events)
		return;
	if (s->cls == 1 && !s->pkt_seq && c->discarded) {
		/* readers count a packet's lost events from the one before: an empty first
		 * packet (none lost) makes the first real one's count exact, not "may have" */
		uint8_t empty[PRO_AGENT];
		put_prologue(empty, c, s, s->ts_begin, PRO_AGENT, 0);
		hpi_out_write(&s->out, empty, PRO_AGENT);
		s->pkt_seq++;
	}
	put_prologue(s->pkt, c, s, s->last_ts, s->plen, c->discarded);
	s->pkt_seq++;
	hpi_out_write(&s->out, s->pkt, s->plen);
	s->plen = s->prologue;
	s->events = 0;
	if (s->pcap > 2 * pkt_target(c) + 65536) { /* grown before more streams came: give it back */
		free(s->pkt);
		s->pkt = NULL;
		s->pcap = 0;
		if (pkt_room(s, s->prologue) < 0)
			s->out.err = -ENOMEM;
	}
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

/* The stream of a vCPU (cls 0) or the agent's (cls 1), opened on first use. */
static struct ctf_stream *stream_of(struct hpi_export *x, int cls, uint32_t vcpu)
{
	struct ctf *c = x->priv;
	struct ctf_stream **slot = cls ? &c->agent : &c->hits[vcpu < CTF_VCPUS ? vcpu : CTF_VCPUS];
	struct ctf_stream *s = *slot;
	char name[32], *path = NULL;
	int rc;

	if (s)
		return s;
	if (cls)
		snprintf(name, sizeof(name), "stream_agent");
	else if (vcpu < CTF_VCPUS)
		snprintf(name, sizeof(name), "stream_%u", vcpu);
	else
		snprintf(name, sizeof(name), "stream_more");
	if (!(s = calloc(1, sizeof(*s))) || !(path = join(x->out_path, name))) {
		free(s);
		x->out.err = -ENOMEM;
		return NULL;
	}
	s->out.fd = -1;
	s->path = path;
	rc = hpi_out_open_cap(&s->out, path, 64); /* whole packets: written directly */
	s->cls = cls;
	s->cpu = vcpu;
	s->prologue = s->plen = cls ? PRO_AGENT : PRO_HITS;
	*slot = s; /* freed with the others, whatever happens next */
	c->nstreams++;
	if (rc < 0 || pkt_room(s, s->prologue) < 0) {
		x->out.err = rc < 0 ? rc : -ENOMEM;
		return NULL;
	}
	return s;
}

/* Starts an event of size n (header included) in stream s; returns where its payload
 * goes. cpu: the vCPU of a hit (stream_more closes its packet when it changes). */
static uint8_t *ev_begin(struct ctf *c, struct ctf_stream *s, uint16_t id, uint64_t t, size_t n, uint32_t cpu)
{
	uint8_t *p;

	if (s->events && (s->plen + n > pkt_target(c) || s->cpu != cpu))
		pkt_close(c, s);
	if (pkt_room(s, n) < 0)
		return NULL;
	/* Readers require time to never go back within a stream. A vCPU's hits come in
	 * time order; a journal that says otherwise is stamped at the latest time seen. */
	if (t < s->last_ts)
		t = s->last_ts;
	if (!s->events) {
		s->ts_begin = t;
		s->cpu = cpu;
	}
	s->last_ts = t;
	s->events++;
	p = s->pkt + s->plen;
	hpi_put16(p, id);
	hpi_put64(p + 2, t);
	s->plen += n;
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
		int has = hp_hit__has(h, hc, (enum hp_hf)f);

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
	struct hp_hit_ctx hc = hpi_hit_ctx(x, rec, spec);
	char buf[HP_HIT_FIELD_TEXT_MAX];
	struct ctf *c = x->priv;
	int err = 0;
	const struct ctf_class *k = hpi_ctf_class(&c->classes, h->probe_id, spec, x->params, x->nparams, &err);
	struct ctf_stream *s = err ? NULL : stream_of(x, 0, h->vcpu);
	uint8_t params[HPI_CTF_PARAMS_MAX];
	size_t pn = k ? hpi_ctf_params_encode(k, h, params) : 0;
	size_t n = hit_size(h, &hc, comm) + pn;
	uint8_t *p = s ? ev_begin(c, s, k ? k->id : CTF_EV_HIT, h->time_ns, n, h->vcpu) : NULL;

	if (err)
		return err;
	if (!s)
		return x->out.err;
	if (!p)
		return -ENOMEM;
	for (int f = 0; f < HP_HF_COUNT; f++) {
		const struct hp_hit_field *d = &fs[f];
		int has = hp_hit__has(h, &hc, (enum hp_hf)f);

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
	memcpy(p, params, pn);
	return s->out.err;
}

static int ctf_alert(struct hpi_export *x, const struct hp_record *rec)
{
	const char *text = rec->json;
	size_t tl = rec->json_len;
	char *esc = NULL;
	struct ctf_stream *s = stream_of(x, 1, 0);
	uint8_t *p;

	if (!s)
		return x->out.err;
	if (!hpi_utf8_valid(text, tl)) { /* CTF strings are UTF-8 */
		tl = hp_export__escape(rec->json, rec->json_len, NULL, 0);
		if (!(esc = malloc(tl + 1)))
			return -ENOMEM;
		hp_export__escape(rec->json, rec->json_len, esc, tl + 1);
		text = esc;
	}
	p = ev_begin(x->priv, s, CTF_EV_ALERT, rec->time_ns, 10 + tl + 1, 0);
	if (p)
		put_str(p, text, tl);
	free(esc);
	return p ? s->out.err : -ENOMEM;
}

static int ctf_dropped(struct hpi_export *x, const struct hp_record *rec)
{
	struct ctf *c = x->priv;
	struct ctf_stream *s = stream_of(x, 1, 0);
	uint8_t *p = s ? ev_begin(c, s, CTF_EV_DROPPED, rec->time_ns, 10 + 12, 0) : NULL;

	if (!s)
		return x->out.err;
	if (!p)
		return -ENOMEM;
	hpi_put32(p, rec->u.dropped.probe_id);
	hpi_put64(p + 4, rec->u.dropped.count);
	c->discarded =
		rec->u.dropped.count > UINT64_MAX - c->discarded ? UINT64_MAX : c->discarded + rec->u.dropped.count;
	return s->out.err;
}

static uint64_t fnv64(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static int ctf_begin(struct hpi_export *x)
{
	const struct hp_journal_meta *m = x->meta;
	struct ctf *c = calloc(1, sizeof(*c));
	uint64_t h1, h2;

	if (!c)
		return -ENOMEM;
	x->priv = c;
	if (mkdir(x->out_path, 0700) == 0)
		c->made_dir = 1;
	else if (errno != EEXIST)
		return -errno;
	if (!(c->meta_path = join(x->out_path, "metadata")))
		return -ENOMEM;
	/* A stable uuid per journal: exporting twice gives identical traces. */
	h1 = fnv64(14695981039346656037ull, m, sizeof(*m));
	h2 = fnv64(h1 ^ 0x9e3779b97f4a7c15ull, m, sizeof(*m));
	hpi_put64(c->uuid, h1);
	hpi_put64(c->uuid + 8, h2);
	c->uuid[6] = (uint8_t)((c->uuid[6] & 0x0f) | 0x40);
	c->uuid[8] = (uint8_t)((c->uuid[8] & 0x3f) | 0x80);
	return 0;
}

/* Calls fn on every stream opened. */
static int each_stream(struct ctf *c, int (*fn)(struct ctf *, struct ctf_stream *))
{
	int rc = 0;

	for (int i = 0; i <= CTF_VCPUS + 1; i++) {
		struct ctf_stream *s = i <= CTF_VCPUS ? c->hits[i] : c->agent;
		int r = s ? fn(c, s) : 0;

		if (r < 0 && !rc)
			rc = r;
	}
	return rc;
}

static int stream_commit(struct ctf *c, struct ctf_stream *s)
{
	int rc;

	pkt_close(c, s);
	if ((rc = hpi_out_commit(&s->out)) == 0)
		s->committed = 1;
	return rc;
}

static int stream_free(struct ctf *c, struct ctf_stream *s)
{
	(void)c;
	hpi_out_discard(&s->out);
	free(s->pkt);
	free(s->path);
	free(s);
	return 0;
}

/* Whether name is a data stream this export wrote: "stream_N" (the canonical
 * decimal N < CTF_VCPUS), "stream_more" or "stream_agent" and opened. -1: a name
 * of this format that it did not write (an earlier export's); 0: any other file. */
static int ours(const struct ctf *c, const char *name)
{
	const char *n = name + 7;
	unsigned v = 0;

	if (!strcmp(name, "stream")) /* the single stream of exports before per-vCPU streams */
		return -1;
	if (strncmp(name, "stream_", 7))
		return 0;
	if (!strcmp(n, "more"))
		return c->hits[CTF_VCPUS] ? 1 : -1;
	if (!strcmp(n, "agent"))
		return c->agent ? 1 : -1;
	if (!*n || (n[0] == '0' && n[1]) || strlen(n) > 3)
		return 0;
	for (; *n; n++) {
		if (*n < '0' || *n > '9')
			return 0;
		v = v * 10 + (unsigned)(*n - '0');
	}
	return v >= CTF_VCPUS ? 0 : c->hits[v] ? 1 : -1;
}

/* A re-export into the same directory: an earlier export's streams that this one
 * did not write (more vCPUs then) would be read as part of the new trace. */
static int remove_stale(struct hpi_export *x, struct ctf *c)
{
	DIR *d = opendir(x->out_path);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (ours(c, e->d_name) < 0 && unlinkat(dirfd(d), e->d_name, 0) < 0 && errno != ENOENT && !rc)
			rc = -errno;
	closedir(d);
	return rc;
}

static int stream_unlink(struct ctf *c, struct ctf_stream *s)
{
	(void)c;
	if (s->committed)
		unlink(s->path);
	return 0;
}

static void ctf_free(struct hpi_export *x)
{
	struct ctf *c = x->priv;

	if (!c)
		return;
	each_stream(c, stream_free);
	hpi_ctf_classes_free(&c->classes);
	free(c->meta_path);
	free(c);
	x->priv = NULL;
}

static void ctf_discard(struct hpi_export *x)
{
	struct ctf *c = x->priv;
	int made = c && c->made_dir;

	ctf_free(x); /* removes the partial files */
	if (made)
		rmdir(x->out_path);
}

static int ctf_end(struct hpi_export *x)
{
	struct ctf *c = x->priv;
	int rc = x->out.err;

	if (!rc)
		rc = each_stream(c, stream_commit);
	if (!rc)
		rc = hpi_ctf_metadata(x, c->meta_path, c->uuid, &c->classes);
	if (!rc)
		rc = remove_stale(x, c);
	if (rc) {
		each_stream(c, stream_unlink);
		unlink(c->meta_path);
		ctf_discard(x);
		return rc;
	}
	ctf_free(x);
	return 0;
}

const struct hpi_export_ops hpi_export_ctf = {
	.begin = ctf_begin,
	.hit = ctf_hit,
	.alert = ctf_alert,
	.dropped = ctf_dropped,
	.end = ctf_end,
	.discard = ctf_discard,
};
