/* QEMU's monitor (QMP) for one VM, reached one of two ways behind one interface:
 * - a QMP Unix socket of the VM's own (newline-delimited JSON; qmp.c);
 * - libvirt, for a domain libvirt runs: libvirt owns the domain's only monitor and
 *   passes commands and events through (libvirt-qemu's virDomainQemuMonitorCommand,
 *   virConnectDomainQemuMonitorEventRegister; qmp_libvirt.c).
 * One owner thread. Events that arrive while waiting for a reply are queued. */
#ifndef HP_QMP_H
#define HP_QMP_H
#include <stddef.h>
#include <jansson.h>
#include "hprobe/common.h"

struct hp_qmp;

/* Connects, reads the greeting and enters command mode. */
int hp_qmp__connect(const char *unix_path, int timeout_ms, struct hp_qmp **out, struct hp_err *err);

/* The libvirt domain `domain` (name or UUID) of connection `uri` ("" = libvirt's
 * default, e.g. qemu:///system). The domain must be running. HP_QMP_NO_EVENTS: commands
 * only (no event thread; the guardian's use). */
#define HP_QMP_NO_EVENTS 1
int hp_qmp__connect_libvirt(const char *uri, const char *domain, int flags, struct hp_qmp **out, struct hp_err *err);

void hp_qmp__free(struct hp_qmp *q);
/* Readable when events may be waiting (a socket, or an eventfd the libvirt thread
 * signals). */
int hp_qmp__fd(const struct hp_qmp *q);
/* "10.0.2" */
const char *hp_qmp__version(const struct hp_qmp *q);
int hp_qmp__version_major(const struct hp_qmp *q);
/* Where the VM is reached, as JSON: {"kind": "qmp", "path": P} or {"kind": "libvirt",
 * "uri": U, "domain": NAME, "uuid": UUID}. A new reference. */
json_t *hp_qmp__source(const struct hp_qmp *q);
/* QEMU's process id (its command line tells what it was started with), or -1. */
int hp_qmp__pid(const struct hp_qmp *q);

/* Runs a command; args may be NULL and is not stolen. *ret (if non-NULL) receives a
 * new reference to the "return" value. A QMP error becomes -EIO with its desc. */
int hp_qmp__execute(struct hp_qmp *q, const char *cmd, json_t *args, json_t **ret, struct hp_err *err);
/* Human monitor command; *out is malloc'd text. */
int hp_qmp__hmp(struct hp_qmp *q, const char *cmdline, char **out, struct hp_err *err);
/* Takes what has arrived without blocking; 1 = *ev is a new event reference,
 * 0 = none now, -ECONNRESET when the VM is gone (QEMU closed its monitor, the domain
 * stopped). Called on readable fd and on idle ticks (a lost libvirt connection is
 * retried from here). */
int hp_qmp__next_event(struct hp_qmp *q, json_t **ev);

/* For implementations (qmp.c, qmp_libvirt.c). */
struct hp_qmp_ops {
	int (*execute)(struct hp_qmp *q, const char *cmd, json_t *args, json_t **ret, struct hp_err *err);
	int (*hmp)(struct hp_qmp *q, const char *cmdline, char **out, struct hp_err *err);
	int (*next_event)(struct hp_qmp *q, json_t **ev);
	int (*fd)(const struct hp_qmp *q);
	json_t *(*source)(const struct hp_qmp *q);
	int (*pid)(const struct hp_qmp *q);
	void (*free)(struct hp_qmp *q);
};
struct hp_qmp {
	const struct hp_qmp_ops *ops;
	char version[32];
	int major;
};
/* A QMP reply {"return": R} or {"error": {"desc": D}} as execute's result. */
int hp_qmp__reply(json_t *reply, const char *cmd, json_t **ret, struct hp_err *err);
#endif
