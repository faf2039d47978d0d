/* The hit-stream commands, on the main thread: subscriptions and the catch-up of a
 * lagging or resuming follower from the journal, reading hits and alerts back, the
 * journal's figures and its bytes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/agent.h"
#include "proto/client.h"
#include "proto/commands.h"
#include "probes/engine.h"
#include "hprobe/journal.h"
#include "base/util.h"
#include "vm/vm.h"

#define ERR(cls, ...) hp_commands__errf(a, c, id, cls, __VA_ARGS__)
#define ERR_RET(cls, ...)              \
	do {                           \
		ERR(cls, __VA_ARGS__); \
		return;                \
	} while (0)

void hp_cmd_events_subscribe(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id)
{
	(void)args;
	c->events = 1;
	hp_client__reply(a, c, id, NULL);
}

static struct hp_sub *find_sub(struct hp_client *c, uint32_t vm_id)
{
	for (struct hp_sub *s = c->subs; s; s = s->next)
		if (s->vm_id == vm_id)
			return s;
	return NULL;
}

void hp_cmd_hits_subscribe(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id)
{
	struct hp_vm *vm = hp_commands__vm(a, c, args, id);
	if (!vm)
		return;
	pthread_mutex_lock(&vm->lock);
	uint64_t pub = vm->published_seq;
	pthread_mutex_unlock(&vm->lock);
	json_t *from = json_object_get(args, "from_seq");
	if (from && json_integer_value(from) < 0)
		ERR_RET(EC_INVALID_ARGUMENT, "from_seq must be >= 0");
	uint64_t next = from ? (uint64_t)json_integer_value(from) : pub;
	if (next > pub)
		next = pub;
	struct hp_sub *s = find_sub(c, vm->id);
	if (!s) {
		s = calloc(1, sizeof *s);
		if (!s)
			ERR_RET(EC_INTERNAL, "out of memory");
		s->vm_id = vm->id;
		s->next = c->subs;
		c->subs = s;
		atomic_fetch_add(&vm->hit_subscribers, 1);
	}
	hp_journal__close_reader(s->reader);
	s->reader = NULL;
	s->next_seq = next;
	s->lag_reported = 0;
	json_t *r = json_pack("{s:I, s:I}", "next_seq", (json_int_t)next, "published_seq", (json_int_t)pub);
	hp_client__reply(a, c, id, r);
	json_decref(r);
}

void hp_cmd_hits_unsubscribe(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id)
{
	struct hp_vm *vm = hp_commands__vm(a, c, args, id);
	if (!vm)
		return;
	for (struct hp_sub **pp = &c->subs; *pp; pp = &(*pp)->next)
		if ((*pp)->vm_id == vm->id) {
			struct hp_sub *s = *pp;
			*pp = s->next;
			hp_journal__close_reader(s->reader);
			free(s);
			atomic_fetch_sub(&vm->hit_subscribers, 1);
			break;
		}
	hp_client__reply(a, c, id, NULL);
}

/* Reads hits from seq up to published (exclusive), at most limit of them, into sb. */
static int read_hits(struct hp_journal_reader *r, uint64_t *seq, uint64_t published, size_t limit, long probe,
		     struct hp_strbuf *sb, size_t *count, struct hp_err *err)
{
	struct hp_record rec;
	int rc = 0;
	*count = 0;
	while (*seq < published && *count < limit && (rc = hp_journal__next(r, &rec, err)) == 1) {
		if (rec.seq < *seq)
			continue;
		*seq = rec.seq + 1;
		if (rec.type != HP_REC_HIT || (probe >= 0 && rec.u.hit.probe_id != (uint32_t)probe))
			continue;
		if ((*count)++)
			hp_strbuf__putc(sb, ',');
		hp_engine__hit_json(sb, &rec.u.hit, rec.seq);
	}
	return rc < 0 ? rc : 0;
}

void hp_cmd_hits_read(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id)
{
	struct hp_vm *vm = hp_commands__vm(a, c, args, id);
	if (!vm)
		return;
	json_int_t from = json_integer_value(json_object_get(args, "from_seq"));
	json_int_t limit = json_object_get(args, "limit") ? json_integer_value(json_object_get(args, "limit")) : 1000;
	json_t *jp = json_object_get(args, "probe");
	long probe = jp ? (long)json_integer_value(jp) : -1;
	if (from < 0 || limit <= 0 || limit > 100000)
		ERR_RET(EC_INVALID_ARGUMENT, "from_seq must be >= 0 and limit 1..100000");
	pthread_mutex_lock(&vm->lock);
	uint64_t pub = vm->published_seq;
	pthread_mutex_unlock(&vm->lock);
	struct hp_err err;
	struct hp_journal_reader *r;
	if (hp_journal__open(vm->journal_path, &r, &err))
		ERR_RET(EC_IO_ERROR, "%s", err.msg);
	uint64_t seq = (uint64_t)from;
	struct hp_strbuf sb = { 0 };
	size_t n = 0;
	int rc = hp_vm__seek(vm, r, seq, &err);
	hp_strbuf__puts(&sb, "{\"return\":{\"hits\":[");
	if (!rc)
		rc = read_hits(r, &seq, pub, (size_t)limit, probe, &sb, &n, &err);
	hp_journal__close_reader(r);
	if (rc) {
		hp_strbuf__free(&sb);
		ERR_RET(EC_IO_ERROR, "%s", err.msg);
	}
	char *ids = id ? json_dumps(id, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	hp_strbuf__printf(&sb, "],\"next_seq\":%llu,\"end\":%s}%s%s}\n", (unsigned long long)seq,
			  seq >= pub ? "true" : "false", ids ? ",\"id\":" : "", ids ? ids : "");
	free(ids);
	hp_client__send(a, c, sb.buf, sb.len);
	hp_strbuf__free(&sb);
}

#define CATCH_UP_SLICE 512 /* as a live batch: the client's buffers need not grow */
#define LAG_REPORT 100000

void hp_commands__catch_up(struct hp_agent *a, struct hp_client *c, struct hp_vm *vm, struct hp_sub *s,
			   uint64_t published)
{
	struct hp_err err;
	if (!s->reader) {
		if (hp_journal__open(vm->journal_path, &s->reader, &err) ||
		    hp_vm__seek(vm, s->reader, s->next_seq, &err)) {
			hp_journal__close_reader(s->reader);
			s->reader = NULL;
			hp_warn("catch-up for client %llu: %s", (unsigned long long)c->id, err.msg);
			s->next_seq = published; /* cannot replay: say so and go live */
			return;
		}
		if (published - s->next_seq > LAG_REPORT && !s->lag_reported) {
			size_t len;
			char *line = hp_event__line("HITS_LAGGING", vm->cfg.name,
						    json_pack("{s:I}", "behind", (json_int_t)(published - s->next_seq)),
						    &len);
			if (line)
				hp_client__send(a, c, line, len);
			free(line);
			s->lag_reported = 1;
		}
	}
	struct hp_strbuf sb = { 0 };
	uint64_t first = s->next_seq, seq = s->next_seq;
	size_t n;
	hp_strbuf__printf(&sb, "{\"event\":\"HITS\",\"vm\":\"%s\",\"data\":{\"first_seq\":%llu,\"hits\":[",
			  vm->cfg.name, (unsigned long long)first);
	int rc = read_hits(s->reader, &seq, published, CATCH_UP_SLICE, -1, &sb, &n, &err);
	if (rc || seq == first) {
		/* nothing readable yet: try again on a later turn */
		hp_strbuf__free(&sb);
		return;
	}
	hp_strbuf__printf(&sb, "],\"next_seq\":%llu,\"replay\":true}}\n", (unsigned long long)seq);
	hp_client__send(a, c, sb.buf, sb.len);
	hp_strbuf__free(&sb);
	s->next_seq = seq;
	if (seq >= published) {
		hp_journal__close_reader(s->reader);
		s->reader = NULL;
	}
}

void hp_cmd_journal_info(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id)
{
	struct hp_vm *vm = hp_commands__vm(a, c, args, id);
	if (!vm)
		return;
	pthread_mutex_lock(&vm->lock);
	json_t *r = json_pack("{s:s, s:I, s:I, s:I}", "path", vm->journal_path, "next_seq", (json_int_t)vm->next_seq,
			      "flushed_seq", (json_int_t)vm->published_seq, "dropped", (json_int_t)vm->dropped);
	pthread_mutex_unlock(&vm->lock);
	hp_client__reply(a, c, id, r);
	json_decref(r);
}

/* A piece of the journal file as it is now, in hex, for a client on another host to copy
 * (docs/protocol.md#journal-read): a read from the page cache, as hits-read does. */
void hp_cmd_journal_read(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id)
{
	struct hp_vm *vm = hp_commands__vm(a, c, args, id);
	if (!vm)
		return;
	json_int_t off = json_integer_value(json_object_get(args, "offset"));
	json_t *jl = json_object_get(args, "length");
	json_int_t want = jl ? json_integer_value(jl) : HP_JOURNAL_READ_MAX;
	if (off < 0 || want <= 0 || want > HP_JOURNAL_READ_MAX)
		ERR_RET(EC_INVALID_ARGUMENT, "offset must be >= 0 and length 1..%u", HP_JOURNAL_READ_MAX);
	struct stat st;
	int fd = open(vm->journal_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		ERR_RET(EC_IO_ERROR, "%s: %s", vm->journal_path, strerror(e));
	}
	uint64_t size = (uint64_t)st.st_size, left = (uint64_t)off < size ? size - (uint64_t)off : 0;
	size_t len = left < (uint64_t)want ? (size_t)left : (size_t)want;
	uint8_t *buf = malloc(len ? len : 1);
	ssize_t n = buf ? pread(fd, buf, len, (off_t)off) : -1;
	int e = errno;
	close(fd);
	if (n < 0) {
		const char *why = buf ? strerror(e) : "out of memory";
		free(buf);
		ERR_RET(EC_IO_ERROR, "%s: %s", vm->journal_path, why);
	}
	struct hp_strbuf sb = { 0 };
	hp_strbuf__printf(&sb, "{\"return\":{\"offset\":%lld,\"size\":%llu,\"eof\":%s,\"data\":\"", (long long)off,
			  (unsigned long long)size, (uint64_t)off + (uint64_t)n >= size ? "true" : "false");
	static const char digits[] = "0123456789abcdef";
	hp_strbuf__reserve(&sb, 2 * (size_t)n);
	if (sb.oom) {
		free(buf);
		hp_strbuf__free(&sb);
		ERR_RET(EC_IO_ERROR, "%s: out of memory", vm->journal_path);
	}
	for (ssize_t i = 0; i < n; i++) {
		sb.buf[sb.len++] = digits[buf[i] >> 4];
		sb.buf[sb.len++] = digits[buf[i] & 15];
	}
	free(buf);
	char *ids = id ? json_dumps(id, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	hp_strbuf__printf(&sb, "\"}%s%s}\n", ids ? ",\"id\":" : "", ids ? ids : "");
	free(ids);
	hp_client__send(a, c, sb.buf, sb.len);
	hp_strbuf__free(&sb);
}

/* Alerts are journalled like hits. The alerts after from_seq: a scan of the journal, which may be long (alerts are
 * few among millions of hits), so on a thread of its own; the main loop serves the
 * other clients meanwhile. The reader was opened and positioned on the main thread
 * (the VM may go away during the scan; its journal file stays). */
static int alerts_job(struct hp_vm *none, struct hp_job *job)
{
	(void)none;
	struct hp_journal_reader *r = job->ud;
	json_t *alerts = json_array();
	struct hp_record rec;
	uint64_t next = (uint64_t)json_integer_value(json_object_get(job->args, "from_seq"));
	int rc;
	while ((rc = hp_journal__next(r, &rec, &job->err)) == 1) {
		next = rec.seq + 1;
		if (rec.type != HP_REC_ALERT || !rec.json)
			continue;
		json_t *j = json_loadb(rec.json, rec.json_len, 0, NULL);
		json_t *d = json_is_object(json_object_get(j, "data")) ? json_object_get(j, "data") : j;
		if (d) {
			json_object_set_new(d, "seq", json_integer((json_int_t)rec.seq));
			json_array_append(alerts, d);
		}
		json_decref(j);
	}
	hp_journal__close_reader(r);
	job->ud = NULL;
	if (rc < 0) {
		json_decref(alerts);
		return hp_job__fail(job, EC_IO_ERROR, rc);
	}
	job->result = json_pack("{s:o, s:I}", "alerts", alerts, "next_seq", (json_int_t)next);
	return 0;
}

void hp_cmd_alerts_read(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id)
{
	struct hp_vm *vm = hp_commands__vm(a, c, args, id);
	if (!vm)
		return;
	json_int_t from = json_integer_value(json_object_get(args, "from_seq"));
	if (from < 0)
		ERR_RET(EC_INVALID_ARGUMENT, "from_seq must be >= 0");
	struct hp_err err;
	struct hp_journal_reader *r;
	if (hp_journal__open(vm->journal_path, &r, &err))
		ERR_RET(EC_IO_ERROR, "%s", err.msg);
	if (hp_vm__seek(vm, r, (uint64_t)from, &err)) {
		hp_journal__close_reader(r);
		ERR_RET(EC_IO_ERROR, "%s", err.msg);
	}
	struct hp_job *job = hp_job__new(alerts_job, 0, args);
	if (!job) {
		hp_journal__close_reader(r);
		ERR_RET(EC_INTERNAL, "out of memory");
	}
	job->ud = r;
	job->client_id = c->id;
	job->req_id = json_incref(id);
	if (hp_host__run_job(&a->host, job, &err)) {
		hp_journal__close_reader(r);
		job->ud = NULL;
		hp_job__free(job);
		ERR_RET(EC_INTERNAL, "%s", err.msg);
	}
}
