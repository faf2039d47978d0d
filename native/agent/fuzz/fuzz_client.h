/* What the protocol harnesses share: one client on a socketpair, fed an input's
 * newline-separated frames, its replies drained, its state reset after each input. */
#ifndef HP_FUZZ_CLIENT_H
#define HP_FUZZ_CLIENT_H
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/strbuf.h"
#include "hprobe/journal.h"
#include "proto/agent.h"
#include "proto/client.h"

/* a's only client; returns the other end of its socket (non-blocking), or aborts. */
static inline int fuzz_client_new(struct hp_agent *a)
{
	int sv[2];
	struct hp_client *c = calloc(1, sizeof *c);
	if (!c || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		abort();
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	c->fd = sv[0];
	c->id = 1;
	a->clients = c;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	if (a->epfd >= 0)
		epoll_ctl(a->epfd, EPOLL_CTL_ADD, c->fd, &ev);
	return sv[1];
}

/* Each frame of data (empty and oversized ones skipped) to handle(); every frame gets
 * an answer: a reply that does not encode must become an error reply, never a dropped
 * client. What the client was sent is read from peer and dropped. */
static inline void fuzz_client_feed(struct hp_agent *a, int peer, const uint8_t *data, size_t size,
				    void (*handle)(struct hp_client *c, const char *frame, size_t len))
{
	struct hp_client *c = a->clients;
	c->closing = 0;
	size_t start = 0;
	for (size_t i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		size_t len = i - start;
		const char *frame = (const char *)data + start;
		start = i + 1;
		if (!len || len > HP_MAX_FRAME)
			continue;
		handle(c, frame, len);
		if (c->closing)
			abort();
		char sink[65536];
		while (read(peer, sink, sizeof sink) > 0)
			;
	}
}

/* The client as new: nothing queued, no subscriptions; the agent not quitting. */
static inline void fuzz_client_reset(struct hp_agent *a)
{
	struct hp_client *c = a->clients;
	hp_strbuf__reset(&c->out);
	c->out_off = 0;
	for (struct hp_sub *s = c->subs, *n; s; s = n) {
		n = s->next;
		hp_journal__close_reader(s->reader);
		free(s);
	}
	c->subs = NULL;
	a->quit = 0;
}
#endif
