#include "vm/guard.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "vm/host.h"
#include "backend/qmp.h"
#include "backend/rsp.h"
#include "base/util.h"

#define MAX_WATCH 64
#define WATCH_MAX PIPE_BUF /* one line of the pipe */

/* The gdbstub the agent started goes away with it: "gdbserver none" on QEMU's monitor,
 * reached as the agent reached it (the dead agent's QMP connection is closed, so the
 * socket takes ours; libvirt takes any number). */
static void turn_off(const char *gdb_path, const char *monitor)
{
	json_t *m = json_loads(monitor, 0, NULL);
	const char *kind = json_string_value(json_object_get(m, "kind"));
	struct hp_qmp *q = NULL;
	struct hp_err err;
	int rc = -EINVAL;
	if (kind && !strcmp(kind, "qmp"))
		rc = hp_qmp__connect(json_string_value(json_object_get(m, "path")) ?: "", 3000, &q, &err);
	else if (kind && !strcmp(kind, "libvirt"))
		rc = hp_qmp__connect_libvirt(json_string_value(json_object_get(m, "uri")),
					     json_string_value(json_object_get(m, "uuid")), HP_QMP_NO_EVENTS, &q, &err);
	else
		hp_err__set(&err, EINVAL, "unknown monitor %s", monitor);
	char *out = NULL;
	if (!rc)
		rc = hp_qmp__hmp(q, "gdbserver none", &out, &err);
	if (rc)
		hp_warn("guardian: the gdbstub %s stays open: %s", gdb_path, err.msg);
	else
		hp_info("guardian: turned off the gdbstub %s", gdb_path);
	free(out);
	hp_qmp__free(q);
	json_decref(m);
}

static void release(const char *path, const char *monitor)
{
	struct hp_rsp *r;
	struct hp_err err;
	/* QEMU accepts the next debugger once the dead agent's connection is gone */
	if (hp_rsp__connect(path, 3000, &r, &err)) {
		hp_warn("guardian: %s", err.msg);
	} else {
		if (hp_rsp__detach(r, &err))
			hp_warn("guardian: detaching %s: %s", path, err.msg);
		else
			hp_info("guardian: released %s (breakpoints lifted, VM resumed)", path);
		hp_rsp__free(r);
	}
	if (monitor[0])
		turn_off(path, monitor);
}

/* One watch: "GDB_SOCKET\tMONITOR_JSON" (the JSON may be empty). */
static void guardian(int fd)
{
	static char watched[MAX_WATCH][WATCH_MAX];
	int n = 0;
	char buf[WATCH_MAX + 8];
	size_t len = 0;
	for (;;) {
		ssize_t got = read(fd, buf + len, sizeof buf - 1 - len);
		if (got <= 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break; /* the agent is gone */
		len += (size_t)got;
		char *nl;
		while ((nl = memchr(buf, '\n', len))) {
			*nl = 0;
			if (buf[0] == 'Q')
				_exit(0);
			int known = 0;
			size_t klen = strcspn(buf + 2, "\t"); /* the key: the gdbstub's path */
			for (int i = 0; buf[0] == '+' && i < n; i++)
				known |= !strncmp(watched[i], buf + 2, klen + 1); /* one slot per gdbstub */
			if (buf[0] == '+' && !known && n == MAX_WATCH)
				hp_warn("guardian: watching %d gdbstubs already: %s is not protected", MAX_WATCH,
					buf + 2);
			else if (buf[0] == '+' && !known && hp_pathf(watched[n], WATCH_MAX, "%s", buf + 2) == 0)
				n++;
			if (buf[0] == '-')
				for (int i = 0; i < n; i++)
					if (!strncmp(watched[i], buf + 2, klen) && watched[i][klen] == '\t') {
						memcpy(watched[i], watched[--n], WATCH_MAX);
						break;
					}
			size_t used = (size_t)(nl - buf) + 1;
			memmove(buf, buf + used, len - used);
			len -= used;
		}
		if (len >= sizeof buf - 1)
			len = 0;
	}
	/* no goodbye ("Q"): the agent crashed or was killed; its log ends here */
	hp_warn("guardian: the agent ended without a goodbye (crash or kill): releasing %d gdbstub(s)", n);
	for (int i = 0; i < n; i++) {
		char *tab = strchr(watched[i], '\t');
		if (tab)
			*tab = 0;
		release(watched[i], tab ? tab + 1 : "");
	}
	_exit(0);
}

int hp_guard__start(struct hp_host *a)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		/* its own session: a signal to the agent's group must not take it too */
		setsid();
		signal(SIGPIPE, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		prctl(PR_SET_NAME, "hprobed-guard");
		close(p[1]);
		for (int fd = 3; fd < 1024; fd++)
			if (fd != p[0] && fd != 2)
				close(fd);
		guardian(p[0]);
	}
	close(p[0]);
	a->guard_fd = p[1];
	a->guard_pid = pid;
	return 0;
}

static void say(struct hp_host *a, char op, const char *path, const char *monitor)
{
	char line[WATCH_MAX + 8];
	int n = snprintf(line, sizeof line, "%c %s\t%s\n", op, path, monitor);
	/* one write under PIPE_BUF is atomic: VM threads may call this concurrently */
	if (a->guard_fd < 0 || n <= 0 || n >= PIPE_BUF || strcspn(path, "\t\n") != strlen(path) ||
	    write(a->guard_fd, line, (size_t)n) != n)
		hp_warn("guardian unreachable: a crash would leave %s stopped", path);
}

void hp_guard__watch(struct hp_host *a, const char *gdb_socket, const json_t *monitor)
{
	/* compact JSON has no newline: control characters are escaped */
	char *m = monitor ? json_dumps(monitor, JSON_COMPACT) : NULL;
	say(a, '+', gdb_socket, m ? m : "");
	free(m);
}
void hp_guard__unwatch(struct hp_host *a, const char *gdb_socket)
{
	say(a, '-', gdb_socket, "");
}

void hp_guard__stop(struct hp_host *a)
{
	if (a->guard_fd < 0)
		return;
	if (write(a->guard_fd, "Q\n", 2) != 2)
		hp_warn("guardian: cannot say goodbye");
	close(a->guard_fd);
	a->guard_fd = -1;
}
