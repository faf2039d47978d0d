/* libFuzzer harness: the protocol's frame parser and command dispatcher. Each input
 * is a stream of bytes from one client, cut into frames at newlines as the server
 * does; replies go to a socketpair that is drained and discarded. No VM exists, so
 * VM commands exercise validation and "unknown VM" paths; launching and attaching
 * (which would start or reach real QEMUs) are left out. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/agent.h"
#include "proto/client.h"
#include "proto/commands.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hp_agent agent;
static int peer = -1;

static void setup(void)
{
	int sv[2];
	agent.listen_fd = -1;
	agent.epfd = epoll_create1(EPOLL_CLOEXEC);
	agent.host.outbox.efd = eventfd(0, EFD_NONBLOCK);
	pthread_mutex_init(&agent.host.outbox.lock, NULL);
	snprintf(agent.host.paths.lab_script, sizeof agent.host.paths.lab_script, "/nonexistent/lab.sh");
	snprintf(agent.host.paths.state_dir, sizeof agent.host.paths.state_dir, "/nonexistent/state");
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	peer = sv[1];
	struct hp_client *c = calloc(1, sizeof *c);
	c->fd = sv[0];
	c->id = 1;
	agent.clients = c;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	epoll_ctl(agent.epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (peer < 0)
		setup();
	struct hp_client *c = agent.clients;
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
		if (memmem(frame, len, "vm-launch", 9) || memmem(frame, len, "vm-attach", 9))
			continue;
		hp_commands__dispatch(&agent, c, frame, len);
		/* every frame gets an answer: a reply that does not encode (a string that is
		 * not UTF-8) must become an error reply, never a dropped client */
		if (c->closing)
			abort();
		char sink[65536];
		while (read(peer, sink, sizeof sink) > 0)
			;
	}
	hp_strbuf__reset(&c->out);
	c->out_off = 0;
	for (struct hp_sub *s = c->subs, *n; s; s = n) {
		n = s->next;
		free(s);
	}
	c->subs = NULL;
	agent.quit = 0;
	return 0;
}
