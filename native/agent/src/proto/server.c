/* The local channel: a 0600 Unix socket in a 0700 directory, SO_PEERCRED-checked,
 * newline-delimited JSON. Runs on the main thread with epoll. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto/agent.h"
#include "proto/client.h"
#include "proto/commands.h"
#include "hprobe/journal.h"
#include "base/files.h"
#include "base/text.h"
#include "base/util.h"
#include "vm/vm.h"

#define TAG_LISTEN 1
#define TAG_OUTBOX 2

int hp_default_socket_path(char *buf, size_t cap)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (xdg && xdg[0] == '/')
		return snprintf(buf, cap, "%s/hprobe/hprobed.sock", xdg) < (int)cap ? 0 : -ENAMETOOLONG;
	if (mkdir("/run/hprobe", 0700) == 0 || (errno == EEXIST && access("/run/hprobe", W_OK) == 0))
		return snprintf(buf, cap, "/run/hprobe/hprobed.sock") < (int)cap ? 0 : -ENAMETOOLONG;
	return snprintf(buf, cap, "/tmp/hprobe-%u/hprobed.sock", (unsigned)getuid()) < (int)cap ? 0 : -ENAMETOOLONG;
}

int hp_default_state_dir(char *buf, size_t cap)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	if (xdg && xdg[0] == '/')
		return snprintf(buf, cap, "%s/hprobe", xdg) < (int)cap ? 0 : -ENAMETOOLONG;
	if (home && home[0] == '/')
		return snprintf(buf, cap, "%s/.local/state/hprobe", home) < (int)cap ? 0 : -ENAMETOOLONG;
	return snprintf(buf, cap, "/tmp/hprobe-%u/state", (unsigned)getuid()) < (int)cap ? 0 : -ENAMETOOLONG;
}

int hp_server__listen(struct hp_agent *a, struct hp_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(a->host.paths.socket) >= sizeof sa.sun_path)
		return hp_err__set(err, ENAMETOOLONG, "socket path too long: %s", a->host.paths.socket);
	char dir[sizeof sa.sun_path];
	snprintf(dir, sizeof dir, "%s", a->host.paths.socket);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		/* ours and closed to others, or anyone could swap the socket */
		int rc = hp_files__private_dir(dir, err);
		if (rc)
			return rc;
	}
	strcpy(sa.sun_path, a->host.paths.socket);
	/* one agent per path: two started at once (two CLIs auto-starting) would both
	 * find no listener, and the second would unlink the first's socket. The lock is
	 * held for the agent's life; the file stays (unlinking it would race again). */
	char lock[sizeof sa.sun_path + 8];
	snprintf(lock, sizeof lock, "%s.lock", a->host.paths.socket);
	a->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (a->lock_fd < 0)
		return hp_err__set(err, errno, "cannot open %s: %s", lock, strerror(errno));
	if (flock(a->lock_fd, LOCK_EX | LOCK_NB)) {
		int e = errno;
		close(a->lock_fd);
		a->lock_fd = -1;
		return e == EWOULDBLOCK
			       ? hp_err__set(err, EADDRINUSE, "another agent holds %s (running or starting)", lock)
			       : hp_err__set(err, e, "cannot lock %s: %s", lock, strerror(e));
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return hp_err__set(err, errno, "socket: %s", strerror(errno));
	/* a socket file nobody answers on is left over from a crash: replace it */
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
		close(probe);
		close(fd);
		return hp_err__set(err, EADDRINUSE, "an agent is already listening on %s", a->host.paths.socket);
	}
	if (probe >= 0)
		close(probe);
	unlink(a->host.paths.socket);
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc || chmod(a->host.paths.socket, 0600) || listen(fd, 64)) {
		rc = hp_err__set(err, errno, "cannot listen on %s: %s", a->host.paths.socket, strerror(errno));
		close(fd);
		return rc;
	}
	a->listen_fd = fd;
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_LISTEN };
	epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ev);
	ev.data.u64 = TAG_OUTBOX;
	epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->host.outbox.efd, &ev);
	return 0;
}

/* ---- clients ---- */

static void update_events(struct hp_agent *a, struct hp_client *c)
{
	struct epoll_event ev = { .events = EPOLLIN | (c->out.len > c->out_off ? EPOLLOUT : 0), .data.ptr = c };
	epoll_ctl(a->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void flush_out(struct hp_agent *a, struct hp_client *c)
{
	while (c->out.len > c->out_off) {
		ssize_t n = send(c->fd, c->out.buf + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			c->closing = 1; /* the peer went away mid-stream: nothing else to do */
			return;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out.len) {
		/* a burst's buffer is given back: a long session's memory stays flat */
		if (c->out.cap > HP_CLIENT_OUT_CATCHUP)
			hp_strbuf__free(&c->out);
		hp_strbuf__reset(&c->out);
		c->out_off = 0;
	} else if (c->out_off > (1u << 20)) {
		memmove(c->out.buf, c->out.buf + c->out_off, c->out.len - c->out_off);
		c->out.len -= c->out_off;
		c->out_off = 0;
	}
	update_events(a, c);
}

void hp_client__send(struct hp_agent *a, struct hp_client *c, const char *line, size_t len)
{
	if (c->closing)
		return;
	if (c->out.len - c->out_off > HP_CLIENT_OUT_MAX) {
		hp_warn("client %llu reads nothing back: disconnecting it", (unsigned long long)c->id);
		c->closing = 1;
		return;
	}
	hp_strbuf__write(&c->out, line, len);
	if (c->out.oom) {
		c->closing = 1;
		return;
	}
	flush_out(a, c);
}

/* The line of msg, or NULL when it cannot be encoded (a string that is not valid
 * UTF-8 made json_pack or json_dumps fail). */
static char *encode(json_t *msg, size_t *len)
{
	char *s = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	if (!s)
		return NULL;
	*len = strlen(s);
	s[*len] = '\n'; /* over the NUL: sent by length */
	*len += 1;
	return s;
}

static void send_json(struct hp_agent *a, struct hp_client *c, json_t *msg)
{
	size_t n;
	char *s = encode(msg, &n);
	if (!s) {
		c->closing = 1;
		return;
	}
	hp_client__send(a, c, s, n);
	free(s);
}

/* An error line that always encodes: desc is made valid UTF-8 first, and if the
 * message still does not encode (data, id), it goes without them. */
static void send_error(struct hp_agent *a, struct hp_client *c, json_t *id, enum hp_eclass cls, const char *desc,
		       json_t *data)
{
	char d[HP_ERR_MAX * 2];
	hp_text__copy(d, sizeof d, desc);
	for (int attempt = 0; attempt < 3; attempt++) {
		json_t *e = json_pack("{s:s, s:s}", "class", hp_eclass_name(cls), "desc", d);
		if (data && attempt == 0)
			json_object_set(e, "data", data);
		json_t *m = json_pack("{s:o}", "error", e);
		if (id && attempt < 2)
			json_object_set(m, "id", id);
		size_t n;
		char *s = encode(m, &n);
		json_decref(m);
		if (s) {
			hp_client__send(a, c, s, n);
			free(s);
			return;
		}
		hp_warn("client %llu: an error reply did not encode", (unsigned long long)c->id);
	}
	c->closing = 1; /* not reached: the last form holds only valid strings */
}

void hp_client__reply(struct hp_agent *a, struct hp_client *c, json_t *id, json_t *ret)
{
	json_t *m = json_pack("{s:O}", "return", ret ? ret : json_object());
	if (!ret)
		json_decref(json_object_get(m, "return"));
	if (id)
		json_object_set(m, "id", id);
	size_t n;
	char *s = encode(m, &n);
	json_decref(m);
	if (!s) {
		/* some foreign string in the result escaped its repair: the client still
		 * gets an answer to its request */
		hp_warn("client %llu: a reply did not encode (not UTF-8?)", (unsigned long long)c->id);
		send_error(a, c, id, EC_INTERNAL, "the reply could not be encoded as JSON (a string that is not UTF-8)",
			   NULL);
		return;
	}
	hp_client__send(a, c, s, n);
	free(s);
}

void hp_client__error(struct hp_agent *a, struct hp_client *c, json_t *id, enum hp_eclass cls, const char *desc,
		      json_t *data)
{
	send_error(a, c, id, cls, desc, data);
}

struct hp_client *hp_client__find(struct hp_agent *a, uint64_t id)
{
	for (struct hp_client *c = a->clients; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static struct hp_vm *vm_by_id(struct hp_agent *a, uint32_t id);

static void free_client(struct hp_agent *a, struct hp_client *c)
{
	epoll_ctl(a->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	for (struct hp_sub *s = c->subs, *n; s; s = n) {
		n = s->next;
		hp_journal__close_reader(s->reader);
		struct hp_vm *vm = vm_by_id(a, s->vm_id);
		if (vm)
			atomic_fetch_sub(&vm->hit_subscribers, 1);
		free(s);
	}
	hp_strbuf__free(&c->out);
	free(c);
}

#define ACCEPT_PAUSE_NS 100000000ull /* out of fds: look again in 100 ms */

static void set_accepting(struct hp_agent *a, int on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.u64 = TAG_LISTEN };
	epoll_ctl(a->epfd, EPOLL_CTL_MOD, a->listen_fd, &ev);
}

static void accept_clients(struct hp_agent *a)
{
	for (;;) {
		int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* the pending connection stays readable: without a pause the
				 * loop would come straight back here, at full speed */
				hp_warn("cannot accept a client (%s): not accepting for 100 ms", strerror(errno));
				set_accepting(a, 0);
				a->accept_resume_ns = hp_now_ns() + ACCEPT_PAUSE_NS;
			}
			return;
		}
		struct ucred cred = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
		socklen_t len = sizeof cred;
		int known = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && len == sizeof cred;
		if (!known || (cred.uid != a->host.uid && cred.uid != 0)) {
			static const char msg[] = "{\"error\":{\"class\":\"PermissionDenied\",\"desc\":\"only the "
						  "agent's owner or root may connect\"}}\n";
			if (send(fd, msg, sizeof msg - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				hp_debug("refused peer did not get its error");
			if (known)
				hp_warn("refused a connection from uid %u", (unsigned)cred.uid);
			else
				hp_warn("refused a connection whose credentials are unknown: %s", strerror(errno));
			close(fd);
			continue;
		}
		struct hp_client *c = calloc(1, sizeof *c);
		if (!c) {
			close(fd);
			continue;
		}
		c->id = ++a->next_client_id;
		c->fd = fd;
		c->uid = cred.uid;
		c->next = a->clients;
		a->clients = c;
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ev);
		json_t *g = json_pack("{s:{s:s, s:i, s:i, s:[s,s,s,s]}}", "hprobe", "version", HP_AGENT_VERSION,
				      "protocol", HP_PROTOCOL, "pid", (int)getpid(), "capabilities", "hit-batches",
				      "resume", "detectors", "events");
		send_json(a, c, g);
		json_decref(g);
	}
}

static void read_client(struct hp_agent *a, struct hp_client *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->in_len, HP_MAX_FRAME + 1 - c->in_len, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			c->closing = 1;
			return;
		}
		if (n < 0)
			return;
		size_t start = 0, scan = c->in_len;
		c->in_len += (size_t)n;
		for (size_t i = scan; i < c->in_len; i++) {
			if (c->in[i] != '\n')
				continue;
			if (c->discarding)
				c->discarding = 0; /* the oversized frame ends here */
			else if (i > start)
				hp_commands__dispatch(a, c, c->in + start, i - start);
			start = i + 1;
			if (c->closing)
				return;
		}
		memmove(c->in, c->in + start, c->in_len - start);
		c->in_len -= start;
		if (c->in_len > HP_MAX_FRAME) {
			if (!c->discarding)
				hp_client__error(a, c, NULL, EC_FRAME_TOO_LARGE, "frame larger than 1 MiB: discarded",
						 NULL);
			c->discarding = 1;
			c->in_len = 0;
		}
	}
}

static struct hp_vm *vm_by_id(struct hp_agent *a, uint32_t id)
{
	for (struct hp_vm *v = a->host.vms; v; v = v->next)
		if (v->id == id)
			return v;
	return NULL;
}

static void job_done(struct hp_agent *a, struct hp_msg *m)
{
	struct hp_job *job = m->job;
	struct hp_client *c = hp_client__find(a, job->client_id);
	if (c) {
		if (job->rc)
			hp_client__error(a, c, job->req_id, job->ecls,
					 job->err.msg[0] ? job->err.msg : strerror(-job->rc), job->result);
		else
			hp_client__reply(a, c, job->req_id, job->result);
	}
	if (job->final) {
		struct hp_vm **pp = &a->host.vms;
		while (*pp && (*pp)->id != m->vm_id)
			pp = &(*pp)->next;
		if (*pp) {
			struct hp_vm *vm = *pp;
			*pp = vm->next;
			hp_vm__destroy(vm);
		}
	}
	hp_job__free(job);
}

static void hits_msg(struct hp_agent *a, struct hp_msg *m)
{
	for (struct hp_client *c = a->clients; c; c = c->next)
		for (struct hp_sub *s = c->subs; s; s = s->next) {
			if (s->vm_id != m->vm_id || s->next_seq >= m->next_seq)
				continue;
			/* in order and with room: live; otherwise the journal catches the client up */
			if (s->next_seq == m->first_seq && !s->reader && c->out.len - c->out_off < HP_CLIENT_OUT_HIGH) {
				hp_client__send(a, c, m->line, m->len);
				s->next_seq = m->next_seq;
			}
		}
}

void hp_server__drain_outbox(struct hp_agent *a)
{
	uint64_t v;
	if (read(a->host.outbox.efd, &v, sizeof v) < 0 && errno != EAGAIN)
		hp_warn("outbox eventfd read failed");
	pthread_mutex_lock(&a->host.outbox.lock);
	struct hp_msg *m = a->host.outbox.head;
	a->host.outbox.head = a->host.outbox.tail = NULL;
	pthread_mutex_unlock(&a->host.outbox.lock);
	while (m) {
		struct hp_msg *n = m->next;
		switch (m->type) {
		case HP_MSG_JOB_DONE:
			job_done(a, m);
			break;
		case HP_MSG_HITS:
			hits_msg(a, m);
			break;
		case HP_MSG_EVENT:
			for (struct hp_client *c = a->clients; c; c = c->next)
				if (c->events)
					hp_client__send(a, c, m->line, m->len);
			break;
		}
		free(m->line);
		free(m);
		m = n;
	}
}

/* Lagging subscribers read from the journal, a bounded slice per loop turn. */
static int catch_up(struct hp_agent *a)
{
	int busy = 0;
	for (struct hp_client *c = a->clients; c; c = c->next)
		for (struct hp_sub *s = c->subs; s; s = s->next) {
			struct hp_vm *vm = vm_by_id(a, s->vm_id);
			if (!vm || c->closing || c->out.len - c->out_off >= HP_CLIENT_OUT_CATCHUP)
				continue;
			pthread_mutex_lock(&vm->lock);
			uint64_t pub = vm->published_seq;
			pthread_mutex_unlock(&vm->lock);
			if (s->next_seq >= pub) {
				hp_journal__close_reader(s->reader);
				s->reader = NULL;
				continue;
			}
			busy = 1;
			hp_commands__catch_up(a, c, vm, s, pub);
		}
	return busy;
}

int hp_server__run(struct hp_agent *a)
{
	struct epoll_event evs[64];
	int busy = 0;
	while (!a->quit) {
		int timeout = busy ? 0 : 200;
		if (a->accept_resume_ns) {
			uint64_t now = hp_now_ns();
			if (now >= a->accept_resume_ns) {
				a->accept_resume_ns = 0;
				set_accepting(a, 1);
			} else if ((a->accept_resume_ns - now) / 1000000 + 1 < (uint64_t)timeout) {
				timeout = (int)((a->accept_resume_ns - now) / 1000000 + 1);
			}
		}
		int n = epoll_wait(a->epfd, evs, 64, timeout);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u64 == TAG_LISTEN) {
				accept_clients(a);
			} else if (evs[i].data.u64 == TAG_OUTBOX) {
				hp_server__drain_outbox(a);
			} else {
				struct hp_client *c = evs[i].data.ptr;
				if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
					read_client(a, c);
				if (evs[i].events & EPOLLOUT)
					flush_out(a, c);
			}
		}
		busy = catch_up(a);
		for (struct hp_client **pp = &a->clients; *pp;) {
			struct hp_client *c = *pp;
			if (c->closing) {
				*pp = c->next;
				free_client(a, c);
			} else {
				pp = &c->next;
			}
		}
	}
	return 0;
}

void hp_server__announce_shutdown(struct hp_agent *a, const char *reason)
{
	size_t len;
	char *line = hp_event__line("AGENT_SHUTDOWN", NULL, json_pack("{s:s}", "reason", reason), &len);
	if (!line)
		return;
	for (struct hp_client *c = a->clients; c; c = c->next)
		if ((c->events || c->subs) && !c->closing) { /* hits followers too: they hear of nothing else */
			hp_client__send(a, c, line, len);
			flush_out(a, c);
		}
	free(line);
}

void hp_server__close(struct hp_agent *a)
{
	while (a->clients) {
		struct hp_client *c = a->clients;
		a->clients = c->next;
		flush_out(a, c);
		free_client(a, c);
	}
	if (a->listen_fd >= 0) {
		close(a->listen_fd);
		unlink(a->host.paths.socket);
	}
	if (a->lock_fd >= 0)
		close(a->lock_fd); /* after the unlink: the next agent may take the path */
	if (a->epfd >= 0)
		close(a->epfd);
}
