/* QMP client (QEMU Machine Protocol): newline-delimited JSON over a Unix socket.
 * One owner thread. Events that arrive while waiting for a reply are queued. */
#ifndef HP_QMP_H
#define HP_QMP_H
#include <jansson.h>
#include "hprobe/common.h"

struct hp_qmp;

/* Connects, reads the greeting and enters command mode. */
int hp_qmp__connect(const char *unix_path, int timeout_ms, struct hp_qmp **out, struct hp_err *err);
void hp_qmp__free(struct hp_qmp *q);
int hp_qmp__fd(const struct hp_qmp *q);
/* "10.0.2" from the greeting. */
const char *hp_qmp__version(const struct hp_qmp *q);
int hp_qmp__version_major(const struct hp_qmp *q);

/* Runs a command; args may be NULL and is not stolen. *ret (if non-NULL) receives a
 * new reference to the "return" value. A QMP error becomes -EIO with its desc. */
int hp_qmp__execute(struct hp_qmp *q, const char *cmd, json_t *args, json_t **ret, struct hp_err *err);
/* Human monitor command; *out is malloc'd text. */
int hp_qmp__hmp(struct hp_qmp *q, const char *cmdline, char **out, struct hp_err *err);
/* Reads what the socket has without blocking; 1 = *ev is a new event reference,
 * 0 = none now, -ECONNRESET when QEMU closed the connection. */
int hp_qmp__next_event(struct hp_qmp *q, json_t **ev);
#endif
