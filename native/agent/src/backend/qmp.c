#include "backend/qmp.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/util.h"

#define QMP_TIMEOUT_MS 10000
#define QMP_MAX_LINE (4u << 20)
#define MAX_QUEUED_EVENTS 1024

/* The socket implementation. */
struct qmp_sock {
	struct hp_qmp base;
	int fd;
	char *buf;
	size_t len, cap;
	json_t *events; /* array of queued events */
	unsigned next_id;
	char path[108];
};
#define SOCK(q) ((struct qmp_sock *)(q))

/* ---- the front door ---- */

int hp_qmp__fd(const struct hp_qmp *q)
{
	return q->ops->fd(q);
}
const char *hp_qmp__version(const struct hp_qmp *q)
{
	return q->version;
}
int hp_qmp__version_major(const struct hp_qmp *q)
{
	return q->major;
}
json_t *hp_qmp__source(const struct hp_qmp *q)
{
	return q->ops->source(q);
}
int hp_qmp__pid(const struct hp_qmp *q)
{
	return q->ops->pid(q);
}
void hp_qmp__free(struct hp_qmp *q)
{
	if (q)
		q->ops->free(q);
}
int hp_qmp__execute(struct hp_qmp *q, const char *cmd, json_t *args, json_t **ret, struct hp_err *err)
{
	return q->ops->execute(q, cmd, args, ret, err);
}
int hp_qmp__next_event(struct hp_qmp *q, json_t **ev)
{
	return q->ops->next_event(q, ev);
}
int hp_qmp__hmp(struct hp_qmp *q, const char *cmdline, char **out, struct hp_err *err)
{
	return q->ops->hmp(q, cmdline, out, err);
}

int hp_qmp__reply(json_t *j, const char *cmd, json_t **ret, struct hp_err *err)
{
	json_t *e = json_object_get(j, "error");
	if (e)
		return hp_err__set(err, EIO, "QMP %s failed: %s", cmd,
				   json_string_value(json_object_get(e, "desc")) ?: "unknown error");
	if (!json_object_get(j, "return"))
		return hp_err__set(err, EPROTO, "QMP %s: a reply without \"return\"", cmd);
	if (ret)
		*ret = json_incref(json_object_get(j, "return"));
	return 0;
}

/* ---- QMP over a Unix socket ---- */

static int sock_fd(const struct hp_qmp *q)
{
	return SOCK(q)->fd;
}

static json_t *sock_source(const struct hp_qmp *q)
{
	return json_pack("{s:s, s:s}", "kind", "qmp", "path", SOCK(q)->path);
}

/* The peer of a Unix socket is the process that accepted it: QEMU. */
static int sock_pid(const struct hp_qmp *q)
{
	struct ucred cr;
	socklen_t len = sizeof cr;
	return getsockopt(SOCK(q)->fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) || cr.pid <= 0 ? -1 : cr.pid;
}

static void sock_free(struct hp_qmp *base)
{
	struct qmp_sock *q = SOCK(base);
	if (q->fd >= 0)
		close(q->fd);
	json_decref(q->events);
	free(q->buf);
	free(q);
}

/* Reads one JSON line, waiting up to timeout_ms (0 = only what is already there). */
static int read_line(struct qmp_sock *q, json_t **out, int timeout_ms, struct hp_err *err)
{
	uint64_t deadline = hp_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	for (;;) {
		char *nl = q->len ? memchr(q->buf, '\n', q->len) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - q->buf) + 1;
			json_error_t je;
			json_t *j = json_loadb(q->buf, n, 0, &je);
			memmove(q->buf, q->buf + n, q->len - n);
			q->len -= n;
			if (!j)
				return hp_err__set(err, EPROTO, "malformed QMP message: %s", je.text);
			*out = j;
			return 1;
		}
		if (q->len == q->cap) {
			if (q->cap >= QMP_MAX_LINE)
				return hp_err__set(err, EMSGSIZE, "QMP message too long");
			size_t nc = q->cap ? q->cap * 2 : 65536;
			char *nb = realloc(q->buf, nc);
			if (!nb)
				return hp_err__set(err, ENOMEM, "out of memory");
			q->buf = nb;
			q->cap = nc;
		}
		uint64_t now = hp_now_ns();
		int left = now >= deadline ? 0 : (int)((deadline - now) / 1000000ull) + 1;
		struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
		int pr = poll(&pfd, 1, left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			return timeout_ms ? hp_err__set(err, ETIMEDOUT, "QMP did not answer") : 0;
		ssize_t n = recv(q->fd, q->buf + q->len, q->cap - q->len, 0);
		if (n == 0 || (n < 0 && errno != EINTR))
			return hp_err__set(err, ECONNRESET, "QMP connection closed (QEMU gone?)");
		if (n > 0)
			q->len += (size_t)n;
	}
}

static int send_json(struct qmp_sock *q, json_t *msg, struct hp_err *err)
{
	char *s = json_dumps(msg, JSON_COMPACT);
	if (!s)
		return hp_err__set(err, ENOMEM, "out of memory");
	size_t len = strlen(s);
	s[len] = '\n'; /* replaces the NUL; we write len + 1 bytes */
	const char *p = s;
	size_t left = len + 1;
	int rc = 0;
	while (left) {
		ssize_t n = send(q->fd, p, left, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = hp_err__set(err, errno, "QMP write: %s", strerror(errno));
			break;
		}
		p += n;
		left -= (size_t)n;
	}
	free(s);
	return rc;
}

static void queue_event(struct qmp_sock *q, json_t *ev)
{
	if (json_array_size(q->events) >= MAX_QUEUED_EVENTS)
		json_array_remove(q->events, 0); /* bounded: oldest event goes first */
	json_array_append_new(q->events, ev);
}

static int sock_execute(struct hp_qmp *base, const char *cmd, json_t *args, json_t **ret, struct hp_err *err)
{
	struct qmp_sock *q = SOCK(base);
	unsigned id = ++q->next_id;
	json_t *msg = json_pack("{s:s, s:I}", "execute", cmd, "id", (json_int_t)id);
	if (args)
		json_object_set(msg, "arguments", args);
	int rc = send_json(q, msg, err);
	json_decref(msg);
	if (rc)
		return rc;
	for (;;) {
		json_t *j;
		rc = read_line(q, &j, QMP_TIMEOUT_MS, err);
		if (rc < 0)
			return rc;
		if (json_object_get(j, "event")) {
			queue_event(q, j);
			continue;
		}
		json_t *jid = json_object_get(j, "id");
		if (!json_is_integer(jid) || json_integer_value(jid) != id) {
			json_decref(j); /* a late reply to an earlier, timed-out command */
			continue;
		}
		rc = hp_qmp__reply(j, cmd, ret, err);
		json_decref(j);
		return rc;
	}
}

static int sock_hmp(struct hp_qmp *q, const char *cmdline, char **out, struct hp_err *err)
{
	json_t *args = json_pack("{s:s}", "command-line", cmdline), *ret = NULL;
	int rc = hp_qmp__execute(q, "human-monitor-command", args, &ret, err);
	json_decref(args);
	if (rc)
		return rc;
	*out = strdup(json_string_value(ret) ?: "");
	json_decref(ret);
	return *out ? 0 : hp_err__set(err, ENOMEM, "out of memory");
}

static int sock_next_event(struct hp_qmp *base, json_t **ev)
{
	struct qmp_sock *q = SOCK(base);
	if (json_array_size(q->events)) {
		*ev = json_incref(json_array_get(q->events, 0));
		json_array_remove(q->events, 0);
		return 1;
	}
	for (;;) {
		json_t *j;
		struct hp_err err;
		int rc = read_line(q, &j, 0, &err);
		if (rc <= 0)
			return rc == 0 ? 0 : (rc == -EPROTO ? 0 : -ECONNRESET);
		if (json_object_get(j, "event")) {
			*ev = j;
			return 1;
		}
		json_decref(j); /* stray reply */
	}
}

static const struct hp_qmp_ops sock_ops = {
	.execute = sock_execute,
	.hmp = sock_hmp,
	.next_event = sock_next_event,
	.fd = sock_fd,
	.source = sock_source,
	.pid = sock_pid,
	.free = sock_free,
};

int hp_qmp__connect(const char *path, int timeout_ms, struct hp_qmp **out, struct hp_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path)
		return hp_err__set(err, ENAMETOOLONG, "QMP socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	struct qmp_sock *q = calloc(1, sizeof *q);
	if (!q)
		return hp_err__set(err, ENOMEM, "out of memory");
	q->base.ops = &sock_ops;
	strcpy(q->path, path);
	q->events = json_array();
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint64_t deadline = hp_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	int rc;
	for (;;) {
		if (connect(q->fd, (struct sockaddr *)&sa, sizeof sa) == 0)
			break;
		rc = errno;
		if ((rc != ENOENT && rc != ECONNREFUSED) || hp_now_ns() > deadline) {
			rc = hp_err__set(err, rc, "cannot connect to QMP socket %s: %s", path, strerror(rc));
			goto fail;
		}
		usleep(20000);
	}
	json_t *greet;
	rc = read_line(q, &greet, QMP_TIMEOUT_MS, err);
	if (rc < 0)
		goto fail;
	json_t *v = json_object_get(json_object_get(json_object_get(greet, "QMP"), "version"), "qemu");
	if (!v) {
		json_decref(greet);
		rc = hp_err__set(err, EPROTO, "%s does not speak QMP", path);
		goto fail;
	}
	q->base.major = (int)json_integer_value(json_object_get(v, "major"));
	snprintf(q->base.version, sizeof q->base.version, "%d.%d.%d", q->base.major,
		 (int)json_integer_value(json_object_get(v, "minor")),
		 (int)json_integer_value(json_object_get(v, "micro")));
	json_decref(greet);
	rc = sock_execute(&q->base, "qmp_capabilities", NULL, NULL, err);
	if (rc)
		goto fail;
	*out = &q->base;
	return 0;
fail:
	sock_free(&q->base);
	return rc;
}
