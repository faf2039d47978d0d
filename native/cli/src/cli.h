/* hprobe CLI: shared state of one invocation. */
#ifndef HPCLI_H
#define HPCLI_H
#include <jansson.h>
#include "conn.h"

struct cli {
	int json; /* --json: machine output (docs/protocol.md schemas) */
	char socket[108];
	struct conn *conn;
	int argc; /* remaining words after global options */
	char **argv;
};

/* Connects (starting the agent if needed). Exits with a message on failure. */
struct conn *cli_conn(struct cli *c);
/* Runs a command and returns its "return" value (new ref); on error prints the
 * agent's message and exits 1. args is stolen. */
json_t *cli_call(struct cli *c, const char *cmd, json_t *args);
/* Option lookup in c->argv: --name VALUE (removed from argv), or NULL. */
const char *cli_opt(struct cli *c, const char *name);
int cli_flag(struct cli *c, const char *name);
/* The i-th positional word (after options were taken), or exits with usage. */
const char *cli_pos(struct cli *c, int i, const char *what);
void cli_print_json(json_t *j);
void cli_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

int cmd_vm(struct cli *c);
int cmd_sym(struct cli *c);
int cmd_probe(struct cli *c);
int cmd_hits(struct cli *c);
int cmd_detector(struct cli *c);
int cmd_alerts(struct cli *c);
int cmd_export(struct cli *c);
int cmd_agent(struct cli *c);
int cmd_fields(struct cli *c);
#endif
