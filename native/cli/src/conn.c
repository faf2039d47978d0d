#include "conn.h"
#include "jsonx.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINE (64u << 20)
/* The first read buffer: a HITS batch of 512 hits is ~130 KiB. The fuzz build starts
 * smaller, so that growing it is fuzzed too (and each run is not a fresh 256 KiB). */
#ifndef CONN_BUF0
#define CONN_BUF0 262144u
#endif

struct conn {
	int fd;
	char *buf;
	size_t len, cap;
	long next_id;
	json_t *events;   /* queued while waiting for a reply */
	json_t *greeting; /* the agent's "hprobe" member */
	int eof;
};

int conn_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
		return fd;
	int e = errno;
	if (fd >= 0)
		close(fd);
	errno = e;
	return -1;
}

/* hprobed next to this binary (build tree: bin/), else on PATH. */
static void agent_path(char *buf, size_t cap)
{
	const char *env = getenv("HPROBE_AGENT");
	if (env) {
		snprintf(buf, cap, "%s", env);
		return;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = 0;
		char *s = strrchr(exe, '/');
		if (s) {
			*s = 0;
			if (snprintf(buf, cap, "%s/hprobed", exe) < (int)cap && access(buf, X_OK) == 0)
				return;
		}
	}
	snprintf(buf, cap, "hprobed");
}

static int start_agent(const char *path, char *err, size_t errlen)
{
	char agent[PATH_MAX];
	agent_path(agent, sizeof agent);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		execlp(agent, agent, "--daemon", "--socket", path, (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0); /* --daemon returns once the socket listens */
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(err, errlen, "could not start the agent (%s --daemon): exit status %d", agent,
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return -1;
	}
	return 0;
}

static int read_more(struct conn *c, int timeout_ms)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	int r = poll(&p, 1, timeout_ms);
	if (r <= 0)
		return r < 0 && errno != EINTR ? -1 : 0;
	if (c->len == c->cap) {
		if (c->cap >= MAX_LINE)
			return -1;
		size_t nc = c->cap ? c->cap * 2 : CONN_BUF0;
		char *nb = realloc(c->buf, nc);
		if (!nb)
			return -1;
		if (!c->cap) /* touched now: a follower's RSS does not step up with its first long line */
			memset(nb, 0, nc);
		c->buf = nb;
		c->cap = nc;
	}
	ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
	if (n <= 0) {
		c->eof = 1;
		return -1;
	}
	c->len += (size_t)n;
	return 1;
}

#define HITS_PREFIX "{\"event\":\"HITS\","

/* One JSON line, or NULL on timeout/EOF.
 * jansson cannot hold unsigned 64-bit integers, which hit arguments may be. So
 * every message keeps its exact text in "_raw". */
static json_t *read_msg(struct conn *c, int timeout_ms)
{
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - c->buf) + 1;
			json_t *j;
			/* a HITS event is read through its text only: parsing its hundreds of
			 * hits into a tree would double a follower's work and memory */
			if (n > sizeof HITS_PREFIX && !memcmp(c->buf, HITS_PREFIX, sizeof HITS_PREFIX - 1))
				j = json_pack("{s:s}", "event", "HITS");
			else
				j = json_loads_lenient(c->buf, n);
			if (j && json_is_object(j))
				json_object_set_new(j, "_raw", json_stringn(c->buf, n - 1));
			memmove(c->buf, c->buf + n, c->len - n);
			c->len -= n;
			if (j)
				return j;
			continue;
		}
		if (read_more(c, timeout_ms) <= 0)
			return NULL;
	}
}

/* Whose agent listens on fd. The CLI talks to an agent of its own user, or to
 * root's (root can read and change everything of ours anyway). Anything else, root
 * included for an agent of another user, is refused: anyone can listen first on a
 * socket path (in /tmp, say) and answer in the agent's place, to read what we ask
 * or to feed us what it likes. */
static int peer_ok(int fd, const char *path, char *err, size_t errlen)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || len != sizeof cred) {
		snprintf(err, errlen, "%s: cannot tell who listens there (SO_PEERCRED: %s)", path, strerror(errno));
		return 0;
	}
	if (cred.uid != geteuid() && cred.uid != 0) {
		snprintf(err, errlen,
			 "%s: the process listening there (pid %d) runs as uid %u, not as you (uid %u) or root: "
			 "not talking to it",
			 path, (int)cred.pid, (unsigned)cred.uid, (unsigned)geteuid());
		return 0;
	}
	return 1;
}

struct conn *conn_open(const char *path, int autostart, char *err, size_t errlen)
{
	int fd = conn_connect(path);
	if (fd < 0 && autostart && (errno == ENOENT || errno == ECONNREFUSED)) {
		/* another CLI may be starting one at the same moment: then theirs serves */
		int started = start_agent(path, err, errlen) == 0;
		fd = conn_connect(path);
		if (fd < 0 && !started)
			return NULL;
	}
	if (fd < 0) {
		snprintf(err, errlen, "cannot connect to hprobed at %s: %s", path, strerror(errno));
		return NULL;
	}
	if (!peer_ok(fd, path, err, errlen)) {
		close(fd);
		return NULL;
	}
	return conn_over(fd, path, err, errlen);
}

struct conn *conn_over(int fd, const char *name, char *err, size_t errlen)
{
	struct conn *c = calloc(1, sizeof *c);
	if (!c) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->fd = fd;
	c->events = json_array();
	json_t *g = read_msg(c, 5000);
	json_t *hp = json_object_get(g, "hprobe");
	if (!hp || json_integer_value(json_object_get(hp, "protocol")) != 1) {
		json_t *e = json_object_get(g, "error");
		const char *desc = json_string_value(json_object_get(e, "desc"));
		snprintf(err, errlen, "%s: %s", name, desc ? desc : "no hprobed greeting (protocol 1)");
		json_decref(g);
		conn_close(c);
		return NULL;
	}
	c->greeting = json_incref(hp);
	json_decref(g);
	return c;
}

void conn_close(struct conn *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c->buf);
	json_decref(c->events);
	json_decref(c->greeting);
	free(c);
}

const json_t *conn_greeting(const struct conn *c)
{
	return c->greeting;
}

int conn_eof(const struct conn *c)
{
	return c->eof;
}

const char *conn_goodbye(const json_t *ev)
{
	const char *name = json_string_value(json_object_get(ev, "event"));
	if (!name || strcmp(name, "AGENT_SHUTDOWN"))
		return NULL;
	const char *why = json_string_value(json_object_get(json_object_get(ev, "data"), "reason"));
	return why ? why : "no reason given";
}

json_t *conn_cmd(struct conn *c, const char *name, json_t *args)
{
	long id = ++c->next_id;
	json_t *m = json_pack("{s:s, s:i}", "execute", name, "id", (int)id);
	if (args)
		json_object_set(m, "arguments", args);
	char *s = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	size_t n = strlen(s);
	s[n] = '\n';
	size_t off = 0;
	while (off < n + 1) {
		ssize_t w = send(c->fd, s + off, n + 1 - off, MSG_NOSIGNAL);
		if (w <= 0) {
			free(s);
			c->eof = 1;
			return NULL;
		}
		off += (size_t)w;
	}
	free(s);
	for (;;) {
		json_t *r = read_msg(c, -1);
		if (!r)
			return NULL;
		if (json_object_get(r, "event")) {
			json_array_append_new(c->events, r);
			continue;
		}
		if (json_integer_value(json_object_get(r, "id")) == id)
			return r;
		json_decref(r);
	}
}

json_t *conn_event(struct conn *c, int timeout_ms)
{
	if (json_array_size(c->events)) {
		json_t *e = json_incref(json_array_get(c->events, 0));
		json_array_remove(c->events, 0);
		return e;
	}
	for (;;) {
		json_t *r = read_msg(c, timeout_ms);
		if (!r || json_object_get(r, "event"))
			return r;
		json_decref(r);
	}
}
