/* hprobe CLI: shared state of one invocation. */
#ifndef HPCLI_H
#define HPCLI_H
#include <jansson.h>
#include "conn.h"
#include "usage.h"

struct cli {
	int json;         /* --json: machine output (docs/protocol.md schemas) */
	int no_start;     /* --no-start: never start an agent */
	char socket[108]; /* the agent's socket; with target, the forward's local end once open */
	char target[512]; /* --socket ssh://...: a remote agent (sshfwd.h) */
	struct conn *conn;
	int argc; /* remaining words after global options */
	char **argv;
};

/* --socket's value: a socket path or an ssh:// URL, checked (exit 2 with d's usage). */
void cli_set_socket(struct cli *c, const struct cli_cmddoc *d, const char *v);

/* One command's parsed words (cli_parse). */
struct cli_args {
	const struct cli_cmddoc *doc;
	const char *val[CLI_MAX_OPTS]; /* each option's value ("" for a flag given), or NULL */
	long long num[CLI_MAX_OPTS];   /* its number, for CLI_K_NUM options */
	const char *pos[CLI_MAX_POS];
	long long posnum[CLI_MAX_POS];
	int npos;
	char **rest; /* a CLI_REST command's words after "--" */
	int nrest;
	long long items[CLI_MAX_ITEMS]; /* the values of CLI_LIST options, in order */
	int item_opt[CLI_MAX_ITEMS];    /* each one's option */
	int nitems;
};

/* Parses c->argv (the words after the command and its subcommand) by the command's
 * table with getopt_long: options, global options, positional arguments; checks
 * numbers, choices, required options and the count of arguments. On an error prints
 * it with the command's usage and exits 2; --help prints the command's help and exits 0. */
void cli_parse(struct cli *c, const struct cli_cmddoc *d, struct cli_args *a);
/* The value of option name (NULL if absent); its number; whether a flag was given. */
const char *cli_arg(const struct cli_args *a, const char *name);
long long cli_argnum(const struct cli_args *a, const char *name, long long def);
int cli_flag(const struct cli_args *a, const char *name);
/* A CLI_LIST option's values, at most max of them into out; returns how many. */
int cli_argnums(const struct cli_args *a, const char *name, long long *out, int max);
/* Takes the subcommand word of a group (c->argv[0]) and returns its command; the
 * global options may come first. Exits 2 with the group's usage when it is missing,
 * unknown or preceded by another option; --help prints the group's help. */
const struct cli_cmddoc *cli_sub(struct cli *c, const char *group);
/* A usage error of command d (NULL: of hprobe itself): the message, the usage, exit 2. */
void cli_usage_error(const struct cli_cmddoc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* The agent's socket: --socket, or the default one. */
const char *cli_socket(struct cli *c);
/* Connects (starting the agent if needed and allowed). Exits 3 on failure. */
struct conn *cli_conn(struct cli *c);
/* Runs a command and returns its "return" value (new ref); on an error reply prints
 * its class and message and exits 1 (4 for a guest error). args is stolen. */
json_t *cli_call(struct cli *c, const char *cmd, json_t *args);
/* The same without the reply's parse tree: returns the whole reply (its "_raw" text
 * holds the exact JSON), after the error check. */
json_t *cli_call_raw(struct cli *c, const char *cmd, json_t *args);
/* Prints an agent's error reply ({"class", "desc"}) and exits with its status. */
void cli_agent_error(json_t *e) __attribute__((noreturn));
/* One JSON value on one line, written by jansson (integers beyond int64 exact). */
void cli_print_json(json_t *j);
/* The same, and the reference is dropped. */
void cli_print_json_new(json_t *j);
/* An error: "hprobe: message" on stderr and exit with status. */
void cli_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* cli_fail(CLI_EXIT_REFUSED, ...): a command that failed. */
void cli_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* The journal of VM vm as a path the exporter can open, into path (cap bytes): the
 * agent's own file when the agent shares this host's files (no ssh://, the same boot, the
 * file readable), else a copy through journal-read in a private directory, removed at
 * exit and on SIGINT/SIGTERM/SIGHUP/SIGPIPE. Exits on the agent's errors. */
void cli_journal_local(struct cli *c, const char *vm, char *path, size_t cap);

/* The hits output of hprobe hits, for hprobe run: the same table, lines or JSON. */
struct hit_out;
struct hit_out *hits_out_new(struct cli *c, const char *vm, const char *time_word);
void hits_out_print(struct hit_out *o, const char *text, size_t len); /* one hit object's exact text */
void hits_out_free(struct hit_out *o);

/* An agg-read reply as hprobe agg show prints it (for hprobe run's last tables too). */
void agg_print_table(json_t *r);

int cmd_vm(struct cli *c);
int cmd_sym(struct cli *c);
int cmd_probe(struct cli *c);
int cmd_hits(struct cli *c);
int cmd_agg(struct cli *c);
int cmd_detector(struct cli *c);
int cmd_alerts(struct cli *c);
int cmd_export(struct cli *c);
int cmd_agent(struct cli *c);
int cmd_fields(struct cli *c);
int cmd_run(struct cli *c);
/* hprobe probe save, probe load and probe check: probe set files (cmd_set.c) */
int cmd_probe_save(struct cli *c, const struct cli_args *a);
int cmd_probe_load(struct cli *c, const struct cli_args *a);
int cmd_probe_check(struct cli *c, const struct cli_args *a);
#endif
