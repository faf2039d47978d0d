/* Probe sets as files: reading, checking (every error with its line and path) and
 * writing. The format is docs/probesets.md; docs/probeset.schema.json says the same
 * as the checks below, which test_probesets compares. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probeset.h"
#include "jsonx.h"

/* ---- paths and lines ---- */

const char *ps_path_text(const struct ps_path *p, char *buf, size_t cap)
{
	size_t o = 0;
	buf[0] = 0;
	for (int k = 0; k < p->n && o < cap; k++) {
		if (p->s[k].key)
			o += (size_t)snprintf(buf + o, cap - o, "%s%s", k ? "." : "", p->s[k].key);
		else
			o += (size_t)snprintf(buf + o, cap - o, "[%zu]", p->s[k].idx);
	}
	return buf;
}

static struct ps_path path_key(const struct ps_path *p, const char *key)
{
	struct ps_path q = *p;
	if (q.n < PS_PATH_MAX) {
		q.s[q.n].key = key;
		q.s[q.n++].idx = 0;
	}
	return q;
}

static struct ps_path path_idx(const struct ps_path *p, size_t idx)
{
	struct ps_path q = *p;
	if (q.n < PS_PATH_MAX) {
		q.s[q.n].key = NULL;
		q.s[q.n++].idx = idx;
	}
	return q;
}

/* A scanner over text that jansson has already accepted: it only finds where things
 * are, so it can trust the syntax. */
struct scan {
	const char *t;
	size_t len, i;
	int line;
};

static void sc_ws(struct scan *s)
{
	while (s->i < s->len && strchr(" \t\r\n", s->t[s->i])) {
		if (s->t[s->i] == '\n')
			s->line++;
		s->i++;
	}
}

static void sc_skip_string(struct scan *s)
{
	for (s->i++; s->i < s->len && s->t[s->i] != '"'; s->i++)
		if (s->t[s->i] == '\\')
			s->i++;
	s->i++;
}

static void sc_skip_value(struct scan *s)
{
	int depth = 0;
	do {
		sc_ws(s);
		if (s->i >= s->len)
			return;
		char ch = s->t[s->i];
		if (ch == '"') {
			sc_skip_string(s);
		} else if (ch == '{' || ch == '[') {
			depth++;
			s->i++;
		} else if (ch == '}' || ch == ']') {
			depth--;
			s->i++;
		} else if (ch == ',' || ch == ':') {
			s->i++;
		} else {
			while (s->i < s->len && !strchr(" \t\r\n,:]}", s->t[s->i]))
				s->i++;
		}
	} while (depth > 0);
}

static unsigned hex4(const char *p)
{
	unsigned v = 0;
	for (int k = 0; k < 4; k++) {
		char c = p[k];
		v = v * 16 + (unsigned)(c >= '0' && c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* At a string: whether it decodes to key; the scanner moves past it. */
static int sc_string_is(struct scan *s, const char *key)
{
	char buf[512];
	size_t o = 0, start = s->i + 1;
	int fits = 1;
	for (size_t i = start; i < s->len && s->t[i] != '"' && fits; i++) {
		if (o + 4 >= sizeof buf) {
			fits = 0;
			break;
		}
		char ch = s->t[i];
		if (ch != '\\') {
			buf[o++] = ch;
			continue;
		}
		ch = s->t[++i];
		if (ch == 'u' && i + 4 < s->len) {
			unsigned cp = hex4(s->t + i + 1);
			i += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < s->len && s->t[i + 1] == '\\' &&
			    s->t[i + 2] == 'u') {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (hex4(s->t + i + 3) - 0xdc00);
				i += 6;
			}
			o += put_utf8(buf + o, cp);
		} else {
			const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
			const char *at = strchr(from, ch);
			buf[o++] = at ? to[at - from] : ch;
		}
	}
	sc_skip_string(s);
	return fits && o == strlen(key) && !memcmp(buf, key, o);
}

int ps_path_line(const char *text, size_t len, const struct ps_path *p)
{
	struct scan s = { text, len, 0, 1 };
	sc_ws(&s);
	for (int k = 0; k < p->n; k++) {
		int here = s.line; /* the container's line: where a missing part is reported */
		if (p->s[k].key) {
			if (s.i >= len || text[s.i] != '{')
				return here;
			s.i++;
			int found = 0;
			for (;;) {
				sc_ws(&s);
				if (s.i >= len || text[s.i] != '"')
					break;
				int eq = sc_string_is(&s, p->s[k].key);
				sc_ws(&s);
				s.i++; /* ':' */
				sc_ws(&s);
				if (eq) {
					found = 1;
					break;
				}
				sc_skip_value(&s);
				sc_ws(&s);
				if (s.i < len && text[s.i] == ',')
					s.i++;
			}
			if (!found)
				return here;
		} else {
			if (s.i >= len || text[s.i] != '[')
				return here;
			s.i++;
			for (size_t n = 0;; n++) {
				sc_ws(&s);
				if (s.i >= len || text[s.i] == ']')
					return here;
				if (n == p->s[k].idx)
					break;
				sc_skip_value(&s);
				sc_ws(&s);
				if (s.i < len && text[s.i] == ',')
					s.i++;
			}
		}
	}
	return s.line;
}

void ps_error(struct probeset *ps, const struct ps_path *p, const char *fmt, ...)
{
	if (ps->nerrors >= PS_MAX_ERRORS) {
		ps->more_errors = 1;
		return;
	}
	char path[256], msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	int line = ps->text ? ps_path_line(ps->text, ps->len, p) : 0;
	size_t cap = strlen(ps->name) + sizeof path + sizeof msg + 32;
	char *e = malloc(cap);
	if (!e)
		return;
	if (!ps->text)
		snprintf(e, cap, "%s: %s", ps->name, msg);
	else if (p->n)
		snprintf(e, cap, "%s:%d: %s: %s", ps->name, line, ps_path_text(p, path, sizeof path), msg);
	else
		snprintf(e, cap, "%s:%d: %s", ps->name, line, msg);
	/* in the file's order */
	int k = ps->nerrors++;
	for (; k > 0 && ps->lines[k - 1] > line; k--) {
		ps->errors[k] = ps->errors[k - 1];
		ps->lines[k] = ps->lines[k - 1];
	}
	ps->errors[k] = e;
	ps->lines[k] = line;
}

/* ---- checking ---- */

/* A value as the error shows it: its JSON, cut. */
static const char *shown(const json_t *v, char *buf, size_t cap)
{
	char *s = jx_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s)
		snprintf(buf, cap, "?");
	else if (strlen(s) > 40)
		snprintf(buf, cap, "%.37s...", s);
	else
		snprintf(buf, cap, "%s", s);
	free(s);
	return buf;
}

static const char *const probe_members[] = { "spec",    "kind", "args", "mem",      "regs", "pid", "comm",
					     "enabled", "if",   "agg",  "agg_rows", "note", NULL };
static const char *const detector_members[] = { "kind", "config", "enabled", "note", NULL };
static const char *const top_members[] = { "format", "version", "description", "probes", "detectors", NULL };

static int known(const char *const *list, const char *key)
{
	for (; *list; list++)
		if (!strcmp(*list, key))
			return 1;
	return 0;
}

static const char *list_text(const char *const *list, char *buf, size_t cap)
{
	size_t o = 0;
	buf[0] = 0;
	for (int i = 0; list[i] && o < cap; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? (list[i + 1] ? ", " : " and ") : "", list[i]);
	return buf;
}

/* The name once reserved for aggregations: refused with the name they have, rather
 * than as any unknown member. */
static int reserved(struct probeset *ps, const struct ps_path *p, const char *key)
{
	if (!strcmp(key, "aggregate")) {
		ps_error(ps, p, "an aggregation is written \"agg\": \"count() by comm\" (docs/probesets.md)");
		return 1;
	}
	return 0;
}

static void check_members(struct probeset *ps, json_t *obj, const struct ps_path *p, const char *const *list,
			  const char *what)
{
	const char *key;
	json_t *v;
	char buf[256];
	json_object_foreach(obj, key, v)
	{
		struct ps_path q = path_key(p, key);
		if (known(list, key) || reserved(ps, &q, key))
			continue;
		ps_error(ps, &q, "unknown member (%s has %s)", what, list_text(list, buf, sizeof buf));
	}
}

static int want_string(struct probeset *ps, json_t *obj, const struct ps_path *p, const char *key, size_t maxlen)
{
	json_t *v = json_object_get(obj, key);
	char buf[64];
	if (!v)
		return 0;
	struct ps_path q = path_key(p, key);
	if (!json_is_string(v)) {
		ps_error(ps, &q, "a string, not %s", shown(v, buf, sizeof buf));
		return -1;
	}
	if (!json_string_length(v) || (maxlen && json_string_length(v) > maxlen)) {
		if (maxlen)
			ps_error(ps, &q, "1 to %zu characters, not %s", maxlen, shown(v, buf, sizeof buf));
		else
			ps_error(ps, &q, "may not be empty");
		return -1;
	}
	return 1;
}

/* "fd,count": C identifiers separated by commas (and spaces). */
int probeset_args_names_ok(const char *v)
{
	int at_start = 1, any = 0;
	for (; *v; v++) {
		if (*v == ',' || *v == ' ') {
			if (*v == ',' && at_start)
				return 0;
			at_start = *v == ',' ? 1 : at_start;
			continue;
		}
		if (!(isalnum((unsigned char)*v) || *v == '_') || (at_start && isdigit((unsigned char)*v)))
			return 0;
		at_start = 0;
		any = 1;
	}
	return any && !at_start;
}

static int want_int(struct probeset *ps, json_t *obj, const struct ps_path *p, const char *key, json_int_t lo,
		    json_int_t hi)
{
	json_t *v = json_object_get(obj, key);
	char buf[64];
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		struct ps_path q = path_key(p, key);
		ps_error(ps, &q, "a number from %lld to %lld, not %s", (long long)lo, (long long)hi,
			 shown(v, buf, sizeof buf));
		return -1;
	}
	return 1;
}

static int want_bool(struct probeset *ps, json_t *obj, const struct ps_path *p, const char *key)
{
	json_t *v = json_object_get(obj, key);
	char buf[64];
	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		struct ps_path q = path_key(p, key);
		ps_error(ps, &q, "true or false, not %s", shown(v, buf, sizeof buf));
		return -1;
	}
	return 1;
}

static void add_item(struct probeset *ps, int detector, size_t index, json_t *args, int enabled, const char *summary)
{
	struct ps_item *n = realloc(ps->items, (ps->n + 1) * sizeof *n);
	if (!n) {
		json_decref(args);
		return;
	}
	ps->items = n;
	ps->items[ps->n++] = (struct ps_item){ detector, index, args, enabled, summary };
}

static void check_probe(struct probeset *ps, json_t *pr, const struct ps_path *p, size_t index)
{
	char buf[64];
	if (!json_is_object(pr)) {
		ps_error(ps, p, "a probe is an object {\"spec\": ...}, not %s", shown(pr, buf, sizeof buf));
		return;
	}
	int before = ps->nerrors;
	check_members(ps, pr, p, probe_members, "a probe");
	if (!json_object_get(pr, "spec"))
		ps_error(ps, p,
			 "no \"spec\": every probe needs one (kernel:FUNC[+OFF], 0xADDR or app:BINARY:FUNC[+OFF])");
	want_string(ps, pr, p, "spec", 0);
	if (want_string(ps, pr, p, "kind", 0) > 0) {
		const char *k = json_string_value(json_object_get(pr, "kind"));
		if (strcmp(k, "capture") && strcmp(k, "count")) {
			struct ps_path q = path_key(p, "kind");
			ps_error(ps, &q, "capture or count, not %s",
				 shown(json_object_get(pr, "kind"), buf, sizeof buf));
		}
	}
	json_t *nargs = json_object_get(pr, "args");
	if (json_is_string(nargs) && !probeset_args_names_ok(json_string_value(nargs))) {
		struct ps_path q = path_key(p, "args");
		ps_error(ps, &q, "a number from 0 to 6, or parameter names (\"fd,count\"), not %s",
			 shown(nargs, buf, sizeof buf));
	} else if (!json_is_string(nargs)) {
		want_int(ps, pr, p, "args", 0, 6);
	}
	want_string(ps, pr, p, "mem", 0);
	want_bool(ps, pr, p, "regs");
	int has_pid = want_int(ps, pr, p, "pid", 1, 4194304);
	int has_comm = want_string(ps, pr, p, "comm", 15);
	if (has_pid > 0 && has_comm > 0) {
		struct ps_path q = path_key(p, "comm");
		ps_error(ps, &q, "give pid or comm, not both");
	}
	want_bool(ps, pr, p, "enabled");
	want_string(ps, pr, p, "if", 255); /* the agent compiles it: its errors name the column */
	int has_agg = want_string(ps, pr, p, "agg", 255);
	if (want_int(ps, pr, p, "agg_rows", 1, 16384) > 0 && has_agg <= 0) {
		struct ps_path q = path_key(p, "agg_rows");
		ps_error(ps, &q, "the rows of an aggregation: give agg too");
	}
	want_string(ps, pr, p, "note", 0);
	if (ps->nerrors != before)
		return;
	json_t *args = json_deep_copy(pr);
	json_object_del(args, "note");
	add_item(ps, 0, index, args, 1, json_string_value(json_object_get(pr, "spec")));
}

static void check_detector(struct probeset *ps, json_t *d, const struct ps_path *p, size_t index)
{
	char buf[64];
	if (!json_is_object(d)) {
		ps_error(ps, p, "a detector is an object {\"kind\": ..., \"config\": {...}}, not %s",
			 shown(d, buf, sizeof buf));
		return;
	}
	int before = ps->nerrors;
	check_members(ps, d, p, detector_members, "a detector");
	if (!json_object_get(d, "kind"))
		ps_error(ps, p, "no \"kind\": every detector needs one (emergency, watchdog or loop)");
	want_string(ps, d, p, "kind", 0);
	json_t *cfg = json_object_get(d, "config");
	if (cfg && !json_is_object(cfg)) {
		struct ps_path q = path_key(p, "config");
		ps_error(ps, &q, "an object (docs/detectors.md), not %s", shown(cfg, buf, sizeof buf));
	}
	want_bool(ps, d, p, "enabled");
	want_string(ps, d, p, "note", 0);
	if (ps->nerrors != before)
		return;
	json_t *args = json_pack("{s:O, s:o}", "kind", json_object_get(d, "kind"), "config",
				 cfg ? json_deep_copy(cfg) : json_object());
	add_item(ps, 1, index, args, !json_is_false(json_object_get(d, "enabled")),
		 json_string_value(json_object_get(d, "kind")));
}

static void check_list(struct probeset *ps, const char *key, int detectors)
{
	struct ps_path top = { 0 };
	struct ps_path p = path_key(&top, key);
	json_t *list = json_object_get(ps->root, key);
	char buf[64];
	if (!list)
		return;
	if (!json_is_array(list)) {
		ps_error(ps, &p, "a list [...], not %s", shown(list, buf, sizeof buf));
		return;
	}
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
	{
		struct ps_path q = path_idx(&p, i);
		if (detectors)
			check_detector(ps, v, &q, i);
		else
			check_probe(ps, v, &q, i);
	}
}

static void check_set(struct probeset *ps)
{
	struct ps_path top = { 0 };
	char buf[64];
	if (!json_is_object(ps->root)) {
		ps_error(ps, &top, "a probe set is a JSON object {\"format\": \"%s\", \"version\": %d, ...}, not %s",
			 PS_FORMAT, PS_VERSION, shown(ps->root, buf, sizeof buf));
		return;
	}
	json_t *fmt = json_object_get(ps->root, "format"), *ver = json_object_get(ps->root, "version");
	if (!fmt) {
		ps_error(ps, &top, "no \"format\": a probe set says \"format\": \"%s\", \"version\": %d", PS_FORMAT,
			 PS_VERSION);
	} else if (!json_is_string(fmt) || strcmp(json_string_value(fmt), PS_FORMAT)) {
		struct ps_path q = path_key(&top, "format");
		ps_error(ps, &q, "%s, not \"%s\": not a probe set", shown(fmt, buf, sizeof buf), PS_FORMAT);
		return; /* another kind of file: its other members mean nothing here */
	}
	if (!ver) {
		ps_error(ps, &top, "no \"version\": this hprobe reads version %d", PS_VERSION);
	} else if (!json_is_integer(ver) || json_integer_value(ver) < 1) {
		struct ps_path q = path_key(&top, "version");
		ps_error(ps, &q, "a version number (%d), not %s", PS_VERSION, shown(ver, buf, sizeof buf));
	} else if (json_integer_value(ver) > PS_VERSION) {
		struct ps_path q = path_key(&top, "version");
		ps_error(ps, &q, "%lld is newer than the version this hprobe reads (%d): update hprobe",
			 (long long)json_integer_value(ver), PS_VERSION);
		return;
	}
	check_members(ps, ps->root, &top, top_members, "a probe set");
	want_string(ps, ps->root, &top, "description", 0);
	check_list(ps, "probes", 0);
	check_list(ps, "detectors", 1);
}

/* The items in the order they are applied: probes, then detectors (a detector's
 * probes come with it). check_list adds them in that order already. */
static void count_items(struct probeset *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		if (ps->items[i].detector)
			ps->ndetectors++;
		else
			ps->nprobes++;
	}
}

static char *read_all(FILE *f, size_t *len, int *too_big)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	*too_big = 0;
	while (buf) {
		if (n == cap) {
			if (cap >= PS_MAX_BYTES) {
				*too_big = 1;
				free(buf);
				return NULL;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0) {
			if (ferror(f)) {
				free(buf);
				return NULL;
			}
			break;
		}
	}
	*len = n;
	return buf;
}

int probeset_read(struct probeset *ps, const char *file)
{
	memset(ps, 0, sizeof *ps);
	int in = !strcmp(file, "-");
	snprintf(ps->name, sizeof ps->name, "%s", in ? "stdin" : file);
	struct ps_path top = { 0 };
	FILE *f = in ? stdin : fopen(file, "rb");
	if (!f) {
		ps_error(ps, &top, "cannot open: %s", strerror(errno));
		return -1;
	}
	int too_big;
	ps->text = read_all(f, &ps->len, &too_big);
	int e = errno;
	if (!in)
		fclose(f);
	if (!ps->text) {
		if (too_big)
			ps_error(ps, &top, "larger than %u MiB: not a probe set", PS_MAX_BYTES >> 20);
		else
			ps_error(ps, &top, "cannot read: %s", strerror(e));
		return -1;
	}
	return probeset_parse(ps, NULL, ps->text, ps->len);
}

int probeset_parse(struct probeset *ps, const char *name, char *text, size_t len)
{
	if (name) {
		memset(ps, 0, sizeof *ps);
		snprintf(ps->name, sizeof ps->name, "%s", name);
	}
	ps->text = text;
	ps->len = len;
	json_error_t je;
	ps->root = json_loadb(ps->text, ps->len, JSON_REJECT_DUPLICATES, &je);
	if (!ps->root) {
		char *msg = malloc(sizeof ps->name + sizeof je.text + 64);
		if (msg) {
			snprintf(msg, sizeof ps->name + sizeof je.text + 64, "%s:%d:%d: not JSON: %s", ps->name,
				 je.line, je.column, je.text);
			ps->errors[ps->nerrors++] = msg;
		}
		return -1;
	}
	check_set(ps);
	count_items(ps);
	return ps->nerrors ? -1 : 0;
}

void probeset_free(struct probeset *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		json_decref(ps->items[i].args);
	free(ps->items);
	for (int i = 0; i < ps->nerrors; i++)
		free(ps->errors[i]);
	json_decref(ps->root);
	free(ps->text);
	memset(ps, 0, sizeof *ps);
}

/* ---- writing ---- */

static void copy_member(json_t *to, json_t *from, const char *key)
{
	json_t *v = json_object_get(from, key);
	if (v)
		json_object_set(to, key, v);
}

json_t *probeset_from_lists(json_t *probes, json_t *detectors, const char *description)
{
	json_t *ps = json_array(), *ds = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(probes, i, v)
	{
		if (json_object_get(v, "detector")) /* planted by a detector: it comes with it */
			continue;
		json_t *p = json_object();
		copy_member(p, v, "spec");
		copy_member(p, v, "kind");
		if (json_integer_value(json_object_get(v, "args")) > 0)
			copy_member(p, v, "args");
		copy_member(p, v, "mem");
		if (json_is_true(json_object_get(v, "regs")))
			copy_member(p, v, "regs");
		copy_member(p, v, "pid");
		copy_member(p, v, "comm");
		copy_member(p, v, "if");
		copy_member(p, v, "agg");
		if (json_object_get(v, "agg") && json_integer_value(json_object_get(v, "agg_rows")) != 1024)
			copy_member(p, v, "agg_rows");
		if (json_is_false(json_object_get(v, "enabled")))
			json_object_set_new(p, "enabled", json_false());
		json_array_append_new(ps, p);
	}
	json_array_foreach(detectors, i, v)
	{
		json_t *d = json_object();
		copy_member(d, v, "kind");
		json_t *cfg = json_object_get(v, "config");
		json_object_set_new(d, "config", cfg ? json_deep_copy(cfg) : json_object());
		if (json_is_false(json_object_get(v, "enabled")))
			json_object_set_new(d, "enabled", json_false());
		json_array_append_new(ds, d);
	}
	json_t *set = json_pack("{s:s, s:i}", "format", PS_FORMAT, "version", PS_VERSION);
	if (description)
		json_object_set_new(set, "description", json_string(description));
	json_object_set_new(set, "probes", ps);
	json_object_set_new(set, "detectors", ds);
	return set;
}
