/* What every VM worker shares with the agent above it: where files go (paths), the
 * VMs themselves, the outbox to the main thread, and the guardian. The agent
 * (proto/agent.h) embeds one. Workers talk to the main thread only through the
 * outbox; the VM list is the main thread's. */
#ifndef HP_HOST_H
#define HP_HOST_H
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "hprobe/common.h"

struct hp_vm;
struct hp_job;

enum hp_msg_type { HP_MSG_JOB_DONE, HP_MSG_HITS, HP_MSG_EVENT };

struct hp_msg {
	enum hp_msg_type type;
	uint32_t vm_id;
	struct hp_job *job; /* JOB_DONE */
	char *line;         /* HITS/EVENT: the serialized event, newline-terminated */
	size_t len;
	uint64_t first_seq, next_seq; /* HITS */
	struct hp_msg *next;
};

struct hp_outbox {
	pthread_mutex_t lock;
	struct hp_msg *head, *tail;
	int efd; /* eventfd: wakes the main loop */
};

struct hp_agent_paths {
	char socket[108];
	char state_dir[PATH_MAX];  /* sessions, journals, the profile cache */
	char lab_script[PATH_MAX]; /* native/guest/lab.sh */
	char plugin[PATH_MAX];     /* the TCG plugin .so, "" if none */
};

struct hp_host {
	struct hp_agent_paths paths;
	struct hp_vm *vms; /* list, main thread only */
	uint32_t next_vm_id;
	struct hp_outbox outbox;
	uid_t uid;
	int guard_fd;            /* pipe to the guardian (guard.c) */
	uint64_t ret_timeout_ns; /* return probes' calls in flight are dropped past it (--ret-timeout) */
	pid_t guard_pid;
};

void hp_outbox__post(struct hp_outbox *o, struct hp_msg *m);
/* Builds an event line {"event": name, "vm": vm, "data": data, "timestamp": ...};
 * steals data. */
char *hp_event__line(const char *name, const char *vm, json_t *data, size_t *len);
void hp_outbox__post_event(struct hp_outbox *o, uint32_t vm_id, const char *name, const char *vm, json_t *data);
/* Runs job->fn(NULL, job) on a thread of its own (work that may block and belongs to
 * no VM, e.g. asking libvirtd); its reply comes back through the outbox as any job's. */
int hp_host__run_job(struct hp_host *h, struct hp_job *job, struct hp_err *err);
/* The VM of that name, or NULL (main thread). */
struct hp_vm *hp_host__find_vm(struct hp_host *h, const char *name);
#endif
