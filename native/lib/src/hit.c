/* The hit field table (hprobe/hit.h) and its JSON and CSV writers. Formatted by hand:
 * this runs once per streamed or exported hit, and unsigned 64-bit values (kernel
 * pointers) do not fit a JSON library's signed integers. */
#include "hprobe/hit.h"

#include <stdio.h>
#include <string.h>

#include "hprobe/export.h"

#define E HP_HF_IN_EXPORT
#define S HP_HF_IN_STREAM

static const struct hp_hit_field fields[HP_HF_COUNT] = {
	[HP_HF_SEQ] = { "seq", HP_HFT_UINT, S | E, 0, "Seq", "the hit's record number in the VM's journal" },
	[HP_HF_TIME_NS] = { "time_ns", HP_HFT_UINT, S | E, 0, "Time (ns)", "host CLOCK_MONOTONIC at the hit" },
	[HP_HF_REL_NS] = { "rel_ns", HP_HFT_INT, E, 0, "Since start (ns)", "time since the journal's start" },
	[HP_HF_PROBE] = { "probe", HP_HFT_UINT, S | E, 0, "Probe", "the probe's id" },
	[HP_HF_SPEC] = { "spec", HP_HFT_TEXT, E, 0, "Spec", "the probe's spec" },
	[HP_HF_VCPU] = { "vcpu", HP_HFT_UINT, S | E, 0, "vCPU", "the vCPU (0-based) that hit" },
	[HP_HF_PID] = { "pid", HP_HFT_INT, S | E, 1, "PID", "the task's pid (thread id); null when unknown" },
	[HP_HF_TGID] = { "tgid", HP_HFT_INT, S | E, 1, "TGID",
			 "the task's thread group (process) id; null when unknown" },
	[HP_HF_COMM] = { "comm", HP_HFT_TEXT, S | E, 1, "Comm",
			 "the task's name (guest bytes, escaped); null when unknown" },
	[HP_HF_IP] = { "ip", HP_HFT_ADDR, S | E, 0, "IP", "the probed instruction's address" },
	[HP_HF_IP_NAME] = { "ip_name", HP_HFT_TEXT, E, 1, "Where",
			    "the IP as the guest's symbols name it (func+0xoff), as the agent journalled it "
			    "(kernel IPs, and a program's probed function); left out when unknown" },
	[HP_HF_CR3] = { "cr3", HP_HFT_ADDR, E, 0, "CR3", "the address space (page table root)" },
	[HP_HF_USER] = { "user", HP_HFT_BOOL, S | E, 0, "User", "a probe in a guest program (not the kernel)" },
	[HP_HF_BLOCKED] = { "blocked", HP_HFT_BOOL, S | E, 0, "Blocked", "a virtual patch returned an error instead" },
	[HP_HF_RETVAL] = { "retval", HP_HFT_INT, S | E, 1, "Return value",
			   "a return probe's return value (rax, signed; left out of other hits)" },
	[HP_HF_LATENCY_NS] = { "latency_ns", HP_HFT_UINT, S | E, 1, "Latency (ns)",
			       "a return probe's time from the call's entry to this return, host CLOCK_MONOTONIC "
			       "(left out of other hits)" },
	[HP_HF_NAMED_RET] = { "named_ret", HP_HFT_TEXT, E, 1, "Returned",
			      "a return probe's return value as its function's return type reads it, and a "
			      "syscall's -errno with its name (-2 ENOENT); signed decimal when the type is "
			      "unknown (left out of other hits)" },
	[HP_HF_ARGS] = { "args", HP_HFT_ARGS, S | E, 0, "Args", "the function's arguments, as unsigned integers" },
	[HP_HF_NAMED_ARGS] = { "named_args", HP_HFT_TEXT, E, 1, "Args by name",
			       "the arguments by their parameters' names and types where the probe's function is "
			       "known (fd=3 buf=0x7ffd1234 count=7; a string argument whose memory was captured "
			       "reads as the string: buf=\"hello\"), else arg1=0x...; left out of a hit without "
			       "arguments" },
	[HP_HF_MEMADDR] = { "memaddr", HP_HFT_ADDR, S | E, 1, "Mem at",
			    "where the captured memory was read (left out when the probe captures none)" },
	[HP_HF_MEM] = { "mem", HP_HFT_BYTES, S | E, 1, "Mem",
			"the captured memory, hex (empty when unreadable; left out when the probe captures none)" },
	[HP_HF_REGS] = { "regs", HP_HFT_REGS, S | E, 1, "Regs",
			 "every register, by name (left out unless the probe asks for them)" },
};

#undef E
#undef S

const struct hp_hit_field *hp_hit__fields(void)
{
	return fields;
}

const char *hp_hit__type_name(enum hp_hf_type t)
{
	static const char *const names[] = {
		[HP_HFT_UINT] = "uint", [HP_HFT_INT] = "int",   [HP_HFT_ADDR] = "addr",   [HP_HFT_TEXT] = "text",
		[HP_HFT_BOOL] = "bool", [HP_HFT_ARGS] = "args", [HP_HFT_BYTES] = "bytes", [HP_HFT_REGS] = "regs",
	};
	return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : NULL;
}

int hp_hit__has(const struct hp_hit *h, const struct hp_hit_ctx *c, enum hp_hf f)
{
	switch (f) {
	case HP_HF_IP_NAME:
		return c && c->ip_name && *c->ip_name;
	case HP_HF_PID:
	case HP_HF_TGID:
	case HP_HF_COMM:
		return (h->flags & HP_HIT_TASK) != 0;
	case HP_HF_MEMADDR:
	case HP_HF_MEM:
		return (h->flags & HP_HIT_MEM) != 0;
	case HP_HF_REGS:
		return (h->flags & HP_HIT_REGS) != 0;
	case HP_HF_RETVAL:
	case HP_HF_LATENCY_NS:
	case HP_HF_NAMED_RET:
		return (h->flags & HP_HIT_RET) != 0;
	case HP_HF_NAMED_ARGS:
		return h->nargs > 0;
	default:
		return 1;
	}
}

/* ---- a bounded writer that counts what it would need ---- */

struct w {
	char *p;
	size_t len, cap;
};

static void put(struct w *w, const char *s, size_t n)
{
	if (w->len < w->cap) {
		size_t room = w->cap - w->len;
		memcpy(w->p + w->len, s, n < room ? n : room);
	}
	w->len += n;
}

static void putc_(struct w *w, char c)
{
	put(w, &c, 1);
}

static void puts_(struct w *w, const char *s)
{
	put(w, s, strlen(s));
}

static void put_u64(struct w *w, uint64_t v)
{
	char b[20];
	int i = 20;
	do
		b[--i] = (char)('0' + v % 10);
	while (v /= 10);
	put(w, b + i, (size_t)(20 - i));
}

static void put_i64(struct w *w, int64_t v)
{
	if (v < 0) {
		putc_(w, '-');
		put_u64(w, (uint64_t)0 - (uint64_t)v);
	} else {
		put_u64(w, (uint64_t)v);
	}
}

static void put_hex(struct w *w, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char b[18];
	int i = 18;
	do
		b[--i] = digits[v & 15];
	while (v >>= 4);
	b[--i] = 'x';
	b[--i] = '0';
	put(w, b + i, (size_t)(18 - i));
}

static void put_hexbytes(struct w *w, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		char b[2] = { digits[p[i] >> 4], digits[p[i] & 15] };
		put(w, b, 2);
	}
}

/* A JSON string literal of printable UTF-8 (hp_export__escape's output, or a spec). */
static void put_json_str(struct w *w, const char *s, size_t n)
{
	putc_(w, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			char b[2] = { '\\', (char)c };
			put(w, b, 2);
		} else if (c < 0x20) {
			static const char digits[] = "0123456789abcdef";
			char b[6] = { '\\', 'u', '0', '0', digits[c >> 4], digits[c & 15] };
			put(w, b, 6);
		} else {
			putc_(w, (char)c);
		}
	}
	putc_(w, '"');
}

/* A CSV cell (RFC 4180), made harmless for spreadsheets: a text that starts like a
 * formula gets a ' first (OWASP's CSV injection advice). */
static void put_csv_str(struct w *w, const char *s, size_t n)
{
	int formula = n && strchr("=+-@\t\r", s[0]);
	int quote = formula || memchr(s, ',', n) || memchr(s, '"', n) || memchr(s, '\n', n) || memchr(s, '\r', n);
	if (quote)
		putc_(w, '"');
	if (formula)
		putc_(w, '\'');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			putc_(w, '"');
		putc_(w, s[i]);
	}
	if (quote)
		putc_(w, '"');
}

/* The text value of a TEXT field: an escaped comm, the spec or the IP's name. */
const char *hp_hit__text(const struct hp_hit *h, const struct hp_hit_ctx *c, enum hp_hf f, char *buf, size_t cap)
{
	if (f == HP_HF_SPEC)
		return c && c->spec ? c->spec : "";
	if (f == HP_HF_IP_NAME)
		return c && c->ip_name ? c->ip_name : "";
	if (f == HP_HF_NAMED_RET) {
		const struct hp_param *r = c ? c->ret : NULL;
		const char *e = hp_param__errno_name(r, c && c->ret_errno, (uint64_t)h->retval);
		size_t n;

		if (r)
			n = hp_param__format(r, (uint64_t)h->retval, buf, cap);
		else
			n = (size_t)snprintf(buf, cap, "%lld", (long long)h->retval);
		if (e && n < cap)
			snprintf(buf + n, cap - n, " %s", e);
		return buf;
	}
	if (f == HP_HF_NAMED_ARGS) {
		int n = h->nargs < HP_MAX_ARGS ? h->nargs : HP_MAX_ARGS;
		struct hp_param_mem m = { h->memaddr, h->mem, h->memlen < HP_MAX_MEM ? h->memlen : HP_MAX_MEM };
		hp_param__format_args(c ? c->params : NULL, c && c->params ? c->nparams : -1, h->args, n,
				      hp_hit__has(h, c, HP_HF_MEM) ? &m : NULL, buf, cap);
		return buf;
	}
	hp_export__escape(h->comm, strnlen(h->comm, HP_COMM_LEN), buf, cap);
	return buf;
}

uint64_t hp_hit__uint(const struct hp_hit *h, const struct hp_hit_ctx *c, enum hp_hf f)
{
	switch (f) {
	case HP_HF_SEQ:
		return c ? c->seq : 0;
	case HP_HF_TIME_NS:
		return h->time_ns;
	case HP_HF_PROBE:
		return h->probe_id;
	case HP_HF_VCPU:
		return h->vcpu;
	case HP_HF_IP:
		return h->ip;
	case HP_HF_CR3:
		return h->cr3;
	case HP_HF_MEMADDR:
		return h->memaddr;
	case HP_HF_LATENCY_NS:
		return h->latency_ns;
	case HP_HF_USER:
		return (h->flags & HP_HIT_USER) != 0;
	case HP_HF_BLOCKED:
		return (h->flags & HP_HIT_BLOCKED) != 0;
	default:
		return 0;
	}
}

int64_t hp_hit__int(const struct hp_hit *h, const struct hp_hit_ctx *c, enum hp_hf f)
{
	switch (f) {
	case HP_HF_REL_NS:
		return c ? c->rel_ns : 0;
	case HP_HF_PID:
		return h->pid;
	case HP_HF_RETVAL:
		return h->retval;
	default:
		return h->tgid;
	}
}

size_t hp_hit__json(const struct hp_hit *h, const struct hp_hit_ctx *c, unsigned in, char *out, size_t cap)
{
	struct w w = { out, 0, cap ? cap - 1 : 0 };
	char esc[HP_HIT_FIELD_TEXT_MAX];
	int first = 1;
	putc_(&w, '{');
	for (int f = 0; f < HP_HF_COUNT; f++) {
		const struct hp_hit_field *d = &fields[f];
		int has = hp_hit__has(h, c, (enum hp_hf)f);
		int task = f == HP_HF_PID || f == HP_HF_TGID || f == HP_HF_COMM;
		if (!(d->in & in) || (!has && !task))
			continue; /* absent registers, memory, return values are left out; an absent task is null */
		if (!first)
			putc_(&w, ',');
		first = 0;
		putc_(&w, '"');
		puts_(&w, d->name);
		put(&w, "\":", 2);
		if (!has) {
			puts_(&w, "null");
			continue;
		}
		switch (d->type) {
		case HP_HFT_UINT:
			put_u64(&w, hp_hit__uint(h, c, (enum hp_hf)f));
			break;
		case HP_HFT_INT:
			put_i64(&w, hp_hit__int(h, c, (enum hp_hf)f));
			break;
		case HP_HFT_ADDR:
			putc_(&w, '"');
			put_hex(&w, hp_hit__uint(h, c, (enum hp_hf)f));
			putc_(&w, '"');
			break;
		case HP_HFT_TEXT: {
			const char *t = hp_hit__text(h, c, (enum hp_hf)f, esc, sizeof esc);
			put_json_str(&w, t, strlen(t));
			break;
		}
		case HP_HFT_BOOL:
			puts_(&w, hp_hit__uint(h, c, (enum hp_hf)f) ? "true" : "false");
			break;
		case HP_HFT_ARGS:
			putc_(&w, '[');
			for (int i = 0; i < h->nargs && i < HP_MAX_ARGS; i++) {
				if (i)
					putc_(&w, ',');
				if (in & HP_HF_JSON_HEX_ARGS) {
					putc_(&w, '"');
					put_hex(&w, h->args[i]);
					putc_(&w, '"');
				} else {
					put_u64(&w, h->args[i]);
				}
			}
			putc_(&w, ']');
			break;
		case HP_HFT_BYTES:
			putc_(&w, '"');
			put_hexbytes(&w, h->mem, h->memlen < HP_MAX_MEM ? h->memlen : HP_MAX_MEM);
			putc_(&w, '"');
			break;
		case HP_HFT_REGS:
			for (int i = 0; i < HP_NREGS; i++) {
				put(&w, i ? ",\"" : "{\"", 2);
				puts_(&w, hp_reg__name((enum hp_reg)i));
				put(&w, "\":\"", 3);
				put_hex(&w, h->regs[i]);
				putc_(&w, '"');
			}
			putc_(&w, '}');
			break;
		}
	}
	putc_(&w, '}');
	if (cap)
		out[w.len < cap ? w.len : cap - 1] = '\0';
	return w.len;
}

size_t hp_hit__csv_header(char *out, size_t cap)
{
	struct w w = { out, 0, cap ? cap - 1 : 0 };
	int first = 1;
	for (int f = 0; f < HP_HF_COUNT; f++) {
		if (!(fields[f].in & HP_HF_IN_EXPORT))
			continue;
		if (fields[f].type == HP_HFT_ARGS) {
			/* one column per argument: arg0..arg5 */
			for (int i = 0; i < HP_MAX_ARGS; i++) {
				char col[8] = { 'a', 'r', 'g', (char)('0' + i), 0 };
				if (!first)
					putc_(&w, ',');
				first = 0;
				puts_(&w, col);
			}
			continue;
		}
		if (!first)
			putc_(&w, ',');
		first = 0;
		puts_(&w, fields[f].name);
	}
	put(&w, "\r\n", 2);
	if (cap)
		out[w.len < cap ? w.len : cap - 1] = '\0';
	return w.len;
}

size_t hp_hit__csv(const struct hp_hit *h, const struct hp_hit_ctx *c, char *out, size_t cap)
{
	struct w w = { out, 0, cap ? cap - 1 : 0 };
	char esc[HP_HIT_FIELD_TEXT_MAX];
	int first = 1;
	for (int f = 0; f < HP_HF_COUNT; f++) {
		const struct hp_hit_field *d = &fields[f];
		if (!(d->in & HP_HF_IN_EXPORT))
			continue;
		int has = hp_hit__has(h, c, (enum hp_hf)f);
		if (d->type == HP_HFT_ARGS) {
			for (int i = 0; i < HP_MAX_ARGS; i++) {
				if (!first)
					putc_(&w, ',');
				first = 0;
				if (i < h->nargs)
					put_u64(&w, h->args[i]);
			}
			continue;
		}
		if (!first)
			putc_(&w, ',');
		first = 0;
		if (!has)
			continue; /* an empty cell */
		switch (d->type) {
		case HP_HFT_UINT:
			put_u64(&w, hp_hit__uint(h, c, (enum hp_hf)f));
			break;
		case HP_HFT_INT:
			put_i64(&w, hp_hit__int(h, c, (enum hp_hf)f));
			break;
		case HP_HFT_ADDR:
			put_hex(&w, hp_hit__uint(h, c, (enum hp_hf)f));
			break;
		case HP_HFT_TEXT: {
			const char *t = hp_hit__text(h, c, (enum hp_hf)f, esc, sizeof esc);
			put_csv_str(&w, t, strlen(t));
			break;
		}
		case HP_HFT_BOOL:
			puts_(&w, hp_hit__uint(h, c, (enum hp_hf)f) ? "true" : "false");
			break;
		case HP_HFT_BYTES:
			put_hexbytes(&w, h->mem, h->memlen < HP_MAX_MEM ? h->memlen : HP_MAX_MEM);
			break;
		case HP_HFT_REGS:
			for (int i = 0; i < HP_NREGS; i++) {
				if (i)
					putc_(&w, ';');
				puts_(&w, hp_reg__name((enum hp_reg)i));
				putc_(&w, '=');
				put_hex(&w, h->regs[i]);
			}
			break;
		case HP_HFT_ARGS:
			break;
		}
	}
	put(&w, "\r\n", 2);
	if (cap)
		out[w.len < cap ? w.len : cap - 1] = '\0';
	return w.len;
}
