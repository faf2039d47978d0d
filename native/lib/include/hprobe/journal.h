/* The hit journal: the record of truth on disk, written by hprobed, read by the
 * agent (to resume subscribers), the CLI and the workbench (through JNA).
 * Format: docs/journal.md. Records are grouped in CRC-checked batches; a crash
 * loses at most the batch being written, and a reader stops cleanly at it. */
#ifndef HPROBE_JOURNAL_H
#define HPROBE_JOURNAL_H
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HP_JOURNAL_VERSION 1
#define HP_COMM_LEN 16
#define HP_MAX_ARGS 6
#define HP_MAX_MEM 256

/* Register order of hp_hit.regs (also the protocol's "regs" object keys). */
enum hp_reg {
	HP_REG_RAX,
	HP_REG_RBX,
	HP_REG_RCX,
	HP_REG_RDX,
	HP_REG_RSI,
	HP_REG_RDI,
	HP_REG_RBP,
	HP_REG_RSP,
	HP_REG_R8,
	HP_REG_R9,
	HP_REG_R10,
	HP_REG_R11,
	HP_REG_R12,
	HP_REG_R13,
	HP_REG_R14,
	HP_REG_R15,
	HP_REG_RIP,
	HP_REG_RFLAGS,
	HP_REG_CR3,
	HP_REG_GS_BASE,
	HP_REG_K_GS_BASE,
	HP_NREGS
};
const char *hp_reg__name(enum hp_reg r); /* "rax" ... "k_gs_base" */

enum hp_rec_type {
	HP_REC_HIT = 1,     /* struct hp_hit */
	HP_REC_PROBE = 2,   /* a probe definition or change: JSON text {"id","spec",...} */
	HP_REC_EVENT = 3,   /* any other event (VM state, probe state, detector state): JSON text */
	HP_REC_ALERT = 4,   /* a detector alert: JSON text */
	HP_REC_DROPPED = 5, /* hits lost before the journal (ring full): struct hp_dropped */
	HP_REC_COUNT = 6,   /* a counting probe's totals per vCPU: struct hp_count */
	/* On disk only: a return probe's hit (HP_HIT_RET), the HIT body and then retval and
	 * latency_ns. Readers hand it out as HP_REC_HIT with HP_HIT_RET set; a reader that
	 * predates it skips it like any unknown type (docs/journal.md). */
	HP_REC_HIT_RET = 7,
};

#define HP_HIT_USER 0x01    /* the hit was in user mode */
#define HP_HIT_REGS 0x02    /* regs[] is valid */
#define HP_HIT_TASK 0x04    /* pid/tgid/comm are valid */
#define HP_HIT_BLOCKED 0x08 /* the call was blocked by a virtual patch */
#define HP_HIT_MEM 0x10     /* a memory capture was attempted at memaddr (memlen 0: unreadable) */
#define HP_HIT_RET 0x20     /* a return probe's hit: retval and latency_ns are valid */

struct hp_hit {
	uint64_t time_ns; /* host CLOCK_MONOTONIC */
	uint32_t probe_id;
	uint32_t vcpu;
	int32_t pid, tgid;      /* -1 when unknown */
	char comm[HP_COMM_LEN]; /* guest-controlled: NUL-padded, not trusted */
	uint64_t ip;
	uint64_t cr3;
	uint32_t flags; /* HP_HIT_* */
	uint8_t nargs;
	uint64_t args[HP_MAX_ARGS];
	uint64_t regs[HP_NREGS]; /* valid if flags & HP_HIT_REGS */
	uint16_t memlen;
	uint64_t memaddr;        /* guest address the captured bytes came from */
	uint8_t mem[HP_MAX_MEM]; /* guest-controlled bytes */
	/* Return probes (flags & HP_HIT_RET); last, so the members above keep their offsets. */
	int64_t retval;      /* rax at the return */
	uint64_t latency_ns; /* host CLOCK_MONOTONIC from the matching entry to the return */
};

struct hp_dropped {
	uint32_t probe_id; /* 0 = all */
	uint64_t count;
	uint64_t time_ns;
};

struct hp_count {
	uint32_t probe_id;
	uint32_t vcpu;
	uint64_t count;
	uint64_t first_ns, last_ns;
};

/* One decoded record. For JSON records, json points into the reader's buffer
 * (NUL-terminated) and is valid until the next call on the reader. */
struct hp_record {
	uint64_t seq; /* 0-based index of the record in the journal */
	enum hp_rec_type type;
	uint64_t time_ns;
	union {
		struct hp_hit hit;
		struct hp_dropped dropped;
		struct hp_count count;
	} u;
	const char *json;
	uint32_t json_len;
};

/* ---- writing (single writer; not thread-safe) ---- */
struct hp_journal_writer;

struct hp_journal_meta {
	char session[64]; /* session id */
	char vm_name[64];
	char kernel[128];      /* kernel release or banner head, may be "" */
	uint64_t created_ns;   /* CLOCK_REALTIME at creation, for display */
	uint64_t mono_base_ns; /* CLOCK_MONOTONIC at creation: time_ns - mono_base_ns = relative */
};

/* Creates (or, with append, reopens: the tail after the last valid batch is cut) a journal.
 * Without append an existing file is replaced. With append the existing header (meta)
 * is kept and meta may be NULL; a file that is not a journal is refused (-EBADMSG).
 * Appends reserve the next seq; a pending batch of 1 MiB is written early (no sync),
 * and a batch that cannot be written past 16 MiB makes appends fail with -ENOBUFS. */
int hp_journal__create(const char *path, const struct hp_journal_meta *meta, int append, struct hp_journal_writer **out,
		       struct hp_err *err);
int hp_journal__append_hit(struct hp_journal_writer *w, const struct hp_hit *hit, uint64_t *seq);
int hp_journal__append_json(struct hp_journal_writer *w, enum hp_rec_type type, uint64_t time_ns, const char *json,
			    size_t len, uint64_t *seq);
int hp_journal__append_dropped(struct hp_journal_writer *w, const struct hp_dropped *d, uint64_t *seq);
int hp_journal__append_count(struct hp_journal_writer *w, const struct hp_count *c, uint64_t *seq);
/* Writes the pending batch (write + fdatasync unless nosync). -errno on failure
 * (ENOSPC, EIO): the batch stays pending so nothing is lost while the caller decides. */
int hp_journal__flush(struct hp_journal_writer *w, int nosync, struct hp_err *err);
size_t hp_journal__pending(const struct hp_journal_writer *w); /* records not yet written */
uint64_t hp_journal__next_seq(const struct hp_journal_writer *w);
/* Where the next batch will start in the file, and its first seq: a point a reader
 * of the same file can seek from (hp_journal__seek_from). */
void hp_journal__position(const struct hp_journal_writer *w, uint64_t *offset, uint64_t *seq);
/* Flushes then closes. Returns the flush result. NULL-safe. */
int hp_journal__close(struct hp_journal_writer *w, struct hp_err *err);

/* ---- reading ---- */
struct hp_journal_reader;

int hp_journal__open(const char *path, struct hp_journal_reader **out, struct hp_err *err);
/* The same over a journal image in memory (copied), e.g. received over a socket. */
int hp_journal__open_mem(const void *buf, size_t len, struct hp_journal_reader **out, struct hp_err *err);
const struct hp_journal_meta *hp_journal__meta(const struct hp_journal_reader *r);
/* sizeof the structs above, so a binding with its own layout (JNA) can check it
 * against this build of the library when it loads. */
size_t hp_record__size(void);
size_t hp_journal_meta__size(void);
/* Positions the reader at the first record with seq >= seq (uses batch headers; no decode of skipped batches). */
int hp_journal__seek(struct hp_journal_reader *r, uint64_t seq, struct hp_err *err);
/* The same, scanning batch headers from a batch known to start at offset with seq_at
 * (<= seq) instead of from the file's start; a hint that does not check out there is
 * ignored (full scan), so it can cost time but never a wrong position. */
int hp_journal__seek_from(struct hp_journal_reader *r, uint64_t offset, uint64_t seq_at, uint64_t seq,
			  struct hp_err *err);
/* 1 = a record was read, 0 = clean end (or end of the valid prefix), <0 = -errno.
 * A journal still being written can be read again after more batches were flushed. */
int hp_journal__next(struct hp_journal_reader *r, struct hp_record *rec, struct hp_err *err);
/* Whether the reader stopped at a truncated/corrupt batch (crash tail), and where. */
int hp_journal__truncated(const struct hp_journal_reader *r, uint64_t *valid_bytes);
/* File offset just past the last batch read so far (progress, resume points). */
uint64_t hp_journal__offset(const struct hp_journal_reader *r);
void hp_journal__close_reader(struct hp_journal_reader *r);

#ifdef __cplusplus
}
#endif
#endif
