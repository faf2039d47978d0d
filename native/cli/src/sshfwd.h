/* hprobe --socket ssh://[user@]host[:port][/socket]: an agent on another host, through a
 * local socket that `ssh -N -L` forwards to it (the workbench's SshTunnel does the same). */
#ifndef HPCLI_SSHFWD_H
#define HPCLI_SSHFWD_H
#include <stddef.h>

/* The parts of an ssh:// URL: destination "[user@]host", port (0: ssh's own), the remote
 * socket ("" when not given). */
struct sshfwd_url {
	char dest[256];
	int port;
	char remote[108];
};

/* Whether target is meant as an ssh:// URL. */
int sshfwd_is_url(const char *target);
/* Checks and splits an ssh:// URL; -1 with the reason in err. */
int sshfwd_parse(const char *target, struct sshfwd_url *u, char *err, size_t errlen);
/* Starts the forward (asking the remote `hprobed --print-socket` when the URL names no
 * socket) and waits until its local end listens; writes that path to local. The ssh
 * command is $HPROBE_SSH (words split on blanks), else "ssh". The forward ends, and its
 * private directory goes, when this process exits. -1 with ssh's own words in err. */
int sshfwd_open(const char *target, char *local, size_t localcap, char *err, size_t errlen);
#endif
