/* Probe sets as files (docs/probesets.md, docs/probeset.schema.json): reading and
 * checking one, with every error named by the file's line and the member's path
 * ("set.json:14: probes[2].spec: ..."), and writing a VM's probes and detectors as one.
 * No agent here: applying a set is cmd_run.c's. */
#ifndef HPCLI_PROBESET_H
#define HPCLI_PROBESET_H
#include <stddef.h>
#include <jansson.h>

#define PS_FORMAT "hprobe-probeset"
#define PS_VERSION 1
#define PS_MAX_BYTES (16u << 20)
#define PS_MAX_ERRORS 20

/* Where a value is in the file: probes[2].spec, detectors[0].config. */
#define PS_PATH_MAX 4
struct ps_path {
	int n;
	struct {
		const char *key; /* a member; NULL for an array index */
		size_t idx;
	} s[PS_PATH_MAX];
};

/* One thing the set adds, in the order it is applied (its probes, then its detectors). */
struct ps_item {
	int detector;        /* 0: a probe (probe-add), 1: a detector (detector-add) */
	size_t index;        /* its index in "probes" or "detectors" */
	json_t *args;        /* the command's arguments, without "vm" */
	int enabled;         /* a detector added disabled: detector-disable after detector-add */
	const char *summary; /* the spec or the kind, for messages */
};

struct probeset {
	char name[256]; /* the file's name as the user gave it ("stdin" for -) */
	char *text;     /* its bytes */
	size_t len;
	json_t *root;
	struct ps_item *items;
	size_t n, nprobes, ndetectors;
	char *errors[PS_MAX_ERRORS]; /* "name:LINE: path: message", at most PS_MAX_ERRORS, by line */
	int lines[PS_MAX_ERRORS];
	int nerrors, more_errors;
};

/* Reads and checks the set in file ("-": stdin). 0 when it is valid; otherwise -1 with
 * the errors in ps->errors (every one the checks found, up to PS_MAX_ERRORS). The caller
 * frees ps with probeset_free either way. */
int probeset_read(struct probeset *ps, const char *file);
/* The same for a set already in memory: ps takes text (malloc'd, len bytes); name is
 * the set's name in messages, or NULL when ps->name is set already. */
int probeset_parse(struct probeset *ps, const char *name, char *text, size_t len);
void probeset_free(struct probeset *ps);

/* "probes[2].spec" */
const char *ps_path_text(const struct ps_path *p, char *buf, size_t cap);
/* The line of the value at p in text (1-based): where the deepest part of p that exists
 * starts. The text must be JSON (it was parsed). */
int ps_path_line(const char *text, size_t len, const struct ps_path *p);
/* Adds "name:LINE: path: message" to ps->errors. */
void ps_error(struct probeset *ps, const struct ps_path *p, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The set of a VM from its probe-list and detector-list replies: its own probes (not
 * those a detector planted) and its detectors, as a set file's JSON (new reference). */
json_t *probeset_from_lists(json_t *probes, json_t *detectors, const char *description);
/* Whether v is parameter names for args ("fd,count": C identifiers, commas). */
int probeset_args_names_ok(const char *v);
#endif
