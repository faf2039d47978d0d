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
#include "backend/rsp.h"
#include "base/util.h"

#define MAX_WATCH 64

static void release(const char *path)
{
	struct hp_rsp *r;
	struct hp_err err;
	/* QEMU accepts the next debugger once the dead agent's connection is gone */
	if (hp_rsp__connect(path, 3000, &r, &err)) {
		hp_warn("guardian: %s", err.msg);
		return;
	}
	if (hp_rsp__detach(r, &err))
		hp_warn("guardian: detaching %s: %s", path, err.msg);
	else
		hp_info("guardian: released %s (breakpoints lifted, VM resumed)", path);
	hp_rsp__free(r);
}

static void guardian(int fd)
{
	char watched[MAX_WATCH][PATH_MAX];
	int n = 0;
	char buf[PATH_MAX + 8];
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
			for (int i = 0; buf[0] == '+' && i < n; i++)
				known |= !strcmp(watched[i], buf + 2); /* one slot per gdbstub */
			if (buf[0] == '+' && !known && n == MAX_WATCH)
				hp_warn("guardian: watching %d gdbstubs already: %s is not protected", MAX_WATCH,
					buf + 2);
			else if (buf[0] == '+' && !known && hp_pathf(watched[n], PATH_MAX, "%s", buf + 2) == 0)
				n++;
			if (buf[0] == '-')
				for (int i = 0; i < n; i++)
					if (!strcmp(watched[i], buf + 2)) {
						memcpy(watched[i], watched[--n], PATH_MAX);
						break;
					}
			size_t used = (size_t)(nl - buf) + 1;
			memmove(buf, buf + used, len - used);
			len -= used;
		}
		if (len >= sizeof buf - 1)
			len = 0;
	}
	for (int i = 0; i < n; i++)
		release(watched[i]);
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

static void say(struct hp_host *a, char op, const char *path)
{
	char line[PATH_MAX + 8];
	int n = snprintf(line, sizeof line, "%c %s\n", op, path);
	/* one write under PIPE_BUF is atomic: VM threads may call this concurrently */
	if (a->guard_fd >= 0 && n > 0 && n < PIPE_BUF && write(a->guard_fd, line, (size_t)n) != n)
		hp_warn("guardian unreachable: a crash would leave %s stopped", path);
}

void hp_guard__watch(struct hp_host *a, const char *gdb_socket)
{
	say(a, '+', gdb_socket);
}
void hp_guard__unwatch(struct hp_host *a, const char *gdb_socket)
{
	say(a, '-', gdb_socket);
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
