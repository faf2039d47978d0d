/* The agent object: everything hprobed owns lives here (no hidden globals). The main
 * thread runs the socket server; each VM has its own worker thread (vm.c). Workers talk
 * to the main thread only through the outbox. */
#ifndef HP_AGENT_H
#define HP_AGENT_H
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <jansson.h>
#include "hprobe/common.h"

#define HP_PROTOCOL 1
#define HP_AGENT_VERSION "0.1.0"

struct hp_vm;
struct hp_job;
struct hp_client;

enum hp_msg_type { HP_MSG_JOB_DONE, HP_MSG_HITS, HP_MSG_EVENT };

struct hp_msg {
	enum hp_msg_type type;
	uint32_t vm_id;
	struct hp_job *job;      /* JOB_DONE */
	char *line;              /* HITS/EVENT: the serialized event, newline-terminated */
	size_t len;
	uint64_t first_seq, next_seq; /* HITS */
	struct hp_msg *next;
};

struct hp_outbox {
	pthread_mutex_t lock;
	struct hp_msg *head, *tail;
	int efd;                 /* eventfd: wakes the main loop */
};

struct hp_agent_paths {
	char socket[108];
	char state_dir[PATH_MAX];   /* sessions and journals */
	char lab_script[PATH_MAX];  /* native/guest/lab.sh */
	char plugin[PATH_MAX];      /* the TCG plugin .so, "" if none */
};

struct hp_agent {
	struct hp_agent_paths paths;
	int listen_fd, epfd;
	volatile sig_atomic_t quit;
	struct hp_vm *vms;          /* list, main thread only */
	uint32_t next_vm_id;
	struct hp_client *clients;
	uint64_t next_client_id;
	struct hp_outbox outbox;
	uid_t uid;
	int guard_fd;               /* pipe to the guardian (guard.c) */
	pid_t guard_pid;
};

void hp_outbox__post(struct hp_outbox *o, struct hp_msg *m);
/* Builds an event line {"event": name, "vm": vm, "data": data, "timestamp": ...};
 * steals data. */
char *hp_event__line(const char *name, const char *vm, json_t *data, size_t *len);
void hp_outbox__post_event(struct hp_outbox *o, uint32_t vm_id, const char *name, const char *vm,
			   json_t *data);

/* Server (server.c) */
int hp_server__listen(struct hp_agent *a, struct hp_err *err);
int hp_server__run(struct hp_agent *a);
void hp_server__close(struct hp_agent *a);

/* Default paths (the same rule as the CLI and the workbench). */
int hp_default_socket_path(char *buf, size_t cap);
int hp_default_state_dir(char *buf, size_t cap);
#endif
