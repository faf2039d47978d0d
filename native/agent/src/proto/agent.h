/* The agent object: everything hprobed owns lives here (no hidden globals). The main
 * thread runs the socket server; each VM has its own worker thread (vm/vm.c). What the
 * VMs share with it is its host part (vm/host.h). */
#ifndef HP_AGENT_H
#define HP_AGENT_H
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "hprobe/common.h"
#include "vm/host.h"

#define HP_PROTOCOL 1
#define HP_AGENT_VERSION "0.1.0"

struct hp_client;

struct hp_agent {
	struct hp_host host;
	int listen_fd, epfd;
	int lock_fd;                /* flock'd <socket>.lock: one agent per socket path */
	uint64_t accept_resume_ns;  /* accepting paused (out of fds) until then; 0 = not */
	atomic_int console_drains;  /* vm-console inputs still being delivered (threads) */
	volatile sig_atomic_t quit; /* 1: agent-shutdown, HP_QUIT_SIGNAL: SIGINT/SIGTERM */
	struct hp_client *clients;
	uint64_t next_client_id;
};

#define HP_QUIT_SIGNAL 2

/* Server (server.c) */
int hp_server__listen(struct hp_agent *a, struct hp_err *err);
int hp_server__run(struct hp_agent *a);
void hp_server__close(struct hp_agent *a);
/* Tells every events or hits subscriber that the agent is ending on purpose (AGENT_SHUTDOWN):
 * a client that started this agent restarts it when it vanishes without this. */
void hp_server__announce_shutdown(struct hp_agent *a, const char *reason);
/* What the VMs posted (replies, hits, events) sent to their clients; the loop calls it
 * when the outbox's eventfd fires. */
void hp_server__drain_outbox(struct hp_agent *a);

/* Default paths (the same rule as the CLI and the workbench). */
int hp_default_socket_path(char *buf, size_t cap);
int hp_default_state_dir(char *buf, size_t cap);
#endif
