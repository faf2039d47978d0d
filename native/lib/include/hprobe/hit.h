/* The fields of a hit, listed once: the agent's live stream, every export (JSON Lines,
 * CSV, Chrome, CTF), the CLI and the workbench all follow this table. Adding a field
 * is one row in hit.c (and its value in the same file).
 *
 * A field may be absent from a hit: pid, tgid and comm when the task could not be
 * identified (the hit says so: null in JSON, an empty CSV cell, never -1 as if it were
 * data), registers and memory when they were not captured, the return value and
 * latency in a hit that is not a return probe's, the IP's name when the journal has none
 * (left out of JSON, an empty CSV cell). */
#ifndef HPROBE_HIT_H
#define HPROBE_HIT_H
#include "common.h"
#include "journal.h"
#include "param.h"

#ifdef __cplusplus
extern "C" {
#endif

enum hp_hf {
	HP_HF_SEQ,
	HP_HF_TIME_NS,
	HP_HF_REL_NS,
	HP_HF_PROBE,
	HP_HF_SPEC,
	HP_HF_VCPU,
	HP_HF_PID,
	HP_HF_TGID,
	HP_HF_COMM,
	HP_HF_IP,
	HP_HF_IP_NAME,
	HP_HF_CR3,
	HP_HF_USER,
	HP_HF_BLOCKED,
	HP_HF_RETVAL,
	HP_HF_LATENCY_NS,
	HP_HF_NAMED_RET,
	HP_HF_ARGS,
	HP_HF_NAMED_ARGS,
	HP_HF_MEMADDR,
	HP_HF_MEM,
	HP_HF_REGS,
	HP_HF_COUNT
};

enum hp_hf_type {
	HP_HFT_UINT, /* unsigned 64-bit number */
	HP_HFT_INT,  /* signed number */
	HP_HFT_ADDR, /* a guest address: "0x..." in JSON, hex elsewhere */
	HP_HFT_TEXT, /* text: a guest's bytes escaped (hp_export__escape), or a probe spec */
	HP_HFT_BOOL,
	HP_HFT_ARGS,  /* up to HP_MAX_ARGS unsigned integers */
	HP_HFT_BYTES, /* captured memory: hex */
	HP_HFT_REGS,  /* HP_NREGS registers by name (enum hp_reg order) */
};

/* Where a field appears. */
#define HP_HF_IN_STREAM 0x1 /* the agent's hit batches and hits-read (docs/protocol.md) */
#define HP_HF_IN_EXPORT 0x2 /* JSON Lines, CSV, Chrome args, CTF (docs/journal.md) */
/* hp_hit__json's style bit: arguments as "0x..." strings, for JavaScript readers
 * (Perfetto, chrome://tracing), whose numbers lose 64-bit values. */
#define HP_HF_JSON_HEX_ARGS 0x100

struct hp_hit_field {
	const char *name; /* JSON key, CSV column, CTF field */
	enum hp_hf_type type;
	unsigned in;       /* HP_HF_IN_* */
	int optional;      /* may be absent from a hit (hp_hit__has) */
	const char *title; /* a table column's heading (CLI, workbench) */
	const char *doc;   /* one line, for the docs and --help */
};

/* The field table, HP_HF_COUNT rows in output order. */
const struct hp_hit_field *hp_hit__fields(void);
/* A type's name for other programs ("uint", "int", "addr", "text", "bool", "args",
 * "bytes", "regs": the enum's names in lower case), or NULL for no such type. */
const char *hp_hit__type_name(enum hp_hf_type t);

/* What a hit record cannot say about itself. */
struct hp_hit_ctx {
	uint64_t seq;     /* its journal record number */
	int64_t rel_ns;   /* time since the journal's start */
	const char *spec; /* its probe's spec ("" if unknown) */
	/* its probe's function's parameters (hprobe/param.h): nparams of them, or unknown
	 * when params is NULL */
	const struct hp_param *params;
	int nparams;
	/* a return probe's return type (NULL: unknown), and whether its negative values
	 * are -errno (a syscall's) */
	const struct hp_param *ret;
	int ret_errno;
	/* the IP as "func+0xoff", from the journal's IP_NAME records; NULL: unknown */
	const char *ip_name;
};

/* Whether field f has a value in h (c: what the record cannot say, may be NULL). */
int hp_hit__has(const struct hp_hit *h, const struct hp_hit_ctx *c, enum hp_hf f);
/* Its value, for UINT, ADDR, BOOL (uint) and INT (int) fields. */
uint64_t hp_hit__uint(const struct hp_hit *h, const struct hp_hit_ctx *c, enum hp_hf f);
int64_t hp_hit__int(const struct hp_hit *h, const struct hp_hit_ctx *c, enum hp_hf f);
/* The text of a TEXT field: the spec, the IP's name, the comm escaped into buf, or the
 * arguments by name into buf (hp_param__format_args); buf of HP_HIT_FIELD_TEXT_MAX bytes. */
#define HP_HIT_FIELD_TEXT_MAX HP_PARAM_ARGS_MAX
const char *hp_hit__text(const struct hp_hit *h, const struct hp_hit_ctx *c, enum hp_hf f, char *buf, size_t cap);

/* Enough for any hit's JSON object or CSV row (a named string argument included), plus
 * 6 bytes per byte of spec. */
#define HP_HIT_TEXT_MAX 8192

/* h as one JSON object with the fields of `in`, NUL-terminated into out; returns the
 * length it needs (like snprintf: a return >= cap means it was cut). Absent fields
 * are null (task) or left out (registers, memory). Unsigned values are exact
 * integers: use a parser that keeps 64-bit integers. */
size_t hp_hit__json(const struct hp_hit *h, const struct hp_hit_ctx *c, unsigned in, char *out, size_t cap);
/* The CSV heading and one row (RFC 4180, CRLF), the export's fields. A cell that a
 * spreadsheet would run as a formula (=, +, -, @ first) gets a ' before it. */
size_t hp_hit__csv_header(char *out, size_t cap);
size_t hp_hit__csv(const struct hp_hit *h, const struct hp_hit_ctx *c, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
