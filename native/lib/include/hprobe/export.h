/* Trace exporters: one implementation, used by the CLI (hprobe export) and by the
 * workbench through JNA. Every guest-controlled string (comm, memory) is escaped
 * for the target format. */
#ifndef HPROBE_EXPORT_H
#define HPROBE_EXPORT_H
#include "common.h"
#include "journal.h"

#ifdef __cplusplus
extern "C" {
#endif

enum hp_export_format {
	HP_EXPORT_CSV = 1,
	HP_EXPORT_JSONL = 2,
	HP_EXPORT_CHROME = 3, /* Chrome Trace Event JSON (Perfetto UI, chrome://tracing) */
	HP_EXPORT_CTF = 4,    /* CTF 1.8 directory: metadata + stream (babeltrace2, Trace Compass) */
};

/* Parses "csv", "jsonl", "chrome", "ctf"; returns 0 if unknown. */
enum hp_export_format hp_export__parse_format(const char *name);

struct hp_export_filter {
	const uint32_t *probes; /* NULL or n_probes ids to keep */
	size_t n_probes;
	const int32_t *pids; /* NULL or n_pids pids (tgid or pid) to keep */
	size_t n_pids;
	uint64_t from_ns, to_ns; /* hit time range, relative to the journal start; to_ns 0 = no end */
};

/* Called about every 1% of the input; return non-zero to cancel (-ECANCELED). */
typedef int (*hp_export_progress_fn)(uint64_t done_bytes, uint64_t total_bytes, void *ud);

struct hp_export_stats {
	uint64_t hits_written;
	uint64_t records_read;
};

/* Exports the hits (and alerts, as instant events where the format allows) of a
 * journal. out_path is a file, or a directory for CTF (created if missing; its
 * `metadata` and `stream` files are replaced). Output is written under a
 * ".partial" name and renamed at the end, so a failed or cancelled export leaves
 * nothing behind. Formats: docs/journal.md#exports. filter, progress, ud and
 * stats may be NULL. */
int hp_export__journal(const char *journal_path, enum hp_export_format fmt, const char *out_path,
		       const struct hp_export_filter *filter, hp_export_progress_fn progress, void *ud,
		       struct hp_export_stats *stats, struct hp_err *err);

/* The one escaping of guest-controlled bytes (comm, captured strings) shared by all
 * formats, so the same comm reads the same everywhere: valid UTF-8 sequences of
 * printable characters are kept, a backslash becomes "\\", every other byte
 * (controls, invalid UTF-8) becomes "\xNN". The result is printable UTF-8 that
 * each format then quotes by its own rules. Writes whole units only, at most
 * outsz - 1 bytes plus a NUL; returns the full length (like snprintf).
 * An escaped comm fits in HP_COMM_ESC_MAX bytes. */
#define HP_COMM_ESC_MAX (4 * HP_COMM_LEN + 1)
size_t hp_export__escape(const void *bytes, size_t len, char *out, size_t outsz);

#ifdef __cplusplus
}
#endif
#endif
