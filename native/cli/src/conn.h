/* The CLI's connection to hprobed: connect (starting the agent on demand), send a
 * command, wait for its reply while collecting events. */
#ifndef HPCLI_CONN_H
#define HPCLI_CONN_H
#include <jansson.h>

struct conn;

/* Connects to path; if nothing listens and autostart is set, starts hprobed. NULL
 * (and a message in err) when no agent of ours answers there. */
/* A connected socket to the Unix socket at path, or -1 with errno. */
int conn_connect(const char *path);
struct conn *conn_open(const char *path, int autostart, char *err, size_t errlen);
/* Takes fd, a stream connected to an agent, and reads its greeting; NULL (fd closed,
 * a message naming name in err) unless it is hprobed's. */
struct conn *conn_over(int fd, const char *name, char *err, size_t errlen);
void conn_close(struct conn *c);
/* Sends {"execute": name, "arguments": args}; returns the reply object ({"return":..} or
 * {"error":..}), new reference, or NULL if the agent went away. args is not stolen. */
json_t *conn_cmd(struct conn *c, const char *name, json_t *args);
/* Next event (blocking up to timeout_ms; -1 = forever); NULL on timeout or EOF
 * (conn_eof tells which). */
json_t *conn_event(struct conn *c, int timeout_ms);
int conn_eof(const struct conn *c);
/* The reason an AGENT_SHUTDOWN event gives ("agent-shutdown", "signal", "error"), or
 * NULL if ev is another event: the agent is ending on purpose. */
const char *conn_goodbye(const json_t *ev);
/* The greeting's "hprobe" object: version, protocol, pid, capabilities. */
const json_t *conn_greeting(const struct conn *c);
#endif
