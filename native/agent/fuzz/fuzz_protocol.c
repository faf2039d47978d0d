/* libFuzzer harness: the protocol's frame parser and command dispatcher. Each input
 * is a stream of bytes from one client, cut into frames at newlines as the server
 * does; replies go to a socketpair that is drained and discarded. No VM exists, so
 * VM commands exercise validation and "unknown VM" paths; launching and attaching
 * (which would start or reach real QEMUs) are left out, and so is libvirt-list (it
 * reaches the machine's libvirtd on a thread of its own: a long run that kept asking
 * ran out of memory on their replies, which nothing took from the outbox). What
 * the commands post to the outbox is taken after each input, as the main loop does. */
#include <string.h>
#include <sys/eventfd.h>

#include "fuzz_client.h"
#include "proto/commands.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hp_agent agent;
static int peer = -1;

static void setup(void)
{
	agent.listen_fd = -1;
	agent.epfd = epoll_create1(EPOLL_CLOEXEC);
	agent.host.outbox.efd = eventfd(0, EFD_NONBLOCK);
	pthread_mutex_init(&agent.host.outbox.lock, NULL);
	snprintf(agent.host.paths.lab_script, sizeof agent.host.paths.lab_script, "/nonexistent/lab.sh");
	snprintf(agent.host.paths.state_dir, sizeof agent.host.paths.state_dir, "/nonexistent/state");
	peer = fuzz_client_new(&agent);
}

static void handle(struct hp_client *c, const char *frame, size_t len)
{
	if (memmem(frame, len, "vm-launch", 9) || memmem(frame, len, "vm-attach", 9) ||
	    memmem(frame, len, "libvirt-list", 12))
		return;
	hp_commands__dispatch(&agent, c, frame, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (peer < 0)
		setup();
	fuzz_client_feed(&agent, peer, data, size, handle);
	hp_server__drain_outbox(&agent);
	fuzz_client_reset(&agent);
	return 0;
}
