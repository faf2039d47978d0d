/* vm-console on the main thread, with a console socket whose QEMU does not read (a
 * guest whose UART is stuck, a QEMU busy elsewhere): typing into it must not stall
 * the agent's main thread, which serves every client. No QEMU: a listening socket
 * nobody accepts stands in for the console. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/util.h"
#include "hp_test.h"
#include "proto/agent.h"
#include "proto/client.h"
#include "proto/commands.h"
#include "vm/vm.h"

static struct hp_agent agent;

/* Dispatches one frame and returns how long it took (ms); the reply is in *reply. */
static double dispatch(struct hp_client *c, int peer, const char *frame, char *reply, size_t cap)
{
	uint64_t t0 = hp_now_ns();
	hp_commands__dispatch(&agent, c, frame, strlen(frame));
	double ms = (double)(hp_now_ns() - t0) / 1e6;
	ssize_t n = read(peer, reply, cap - 1);
	reply[n > 0 ? n : 0] = 0;
	return ms;
}

int main(void)
{
	char dir[] = "/tmp/hp-console-XXXXXX";
	REQUIRE(mkdtemp(dir));
	agent.listen_fd = agent.lock_fd = -1;
	agent.epfd = epoll_create1(EPOLL_CLOEXEC);
	agent.host.outbox.efd = eventfd(0, EFD_NONBLOCK);
	agent.host.guard_fd = -1;
	pthread_mutex_init(&agent.host.outbox.lock, NULL);

	int sv[2];
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	struct hp_client *c = calloc(1, sizeof *c);
	c->fd = sv[0];
	c->id = 1;
	agent.clients = c;

	/* the console: a log with some output, a socket that is never accepted */
	struct hp_vm_config cfg = { .name = "con" };
	snprintf(cfg.console_log, sizeof cfg.console_log, "%s/console.log", dir);
	snprintf(cfg.console_sock, sizeof cfg.console_sock, "%s/console.sock", dir);
	FILE *f = fopen(cfg.console_log, "w");
	REQUIRE(f);
	fputs("login: ", f);
	fclose(f);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s/console.sock", dir);
	int stuck = socket(AF_UNIX, SOCK_STREAM, 0);
	REQUIRE(bind(stuck, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(stuck, 4) == 0);
	struct hp_err err;
	struct hp_vm *vm = hp_vm__create(&agent.host, &cfg, &err);
	REQUIRE(vm);
	agent.host.vms = vm;

	char reply[8192];
	double ms = dispatch(
		c, sv[1], "{\"execute\":\"vm-console\",\"id\":1,\"arguments\":{\"vm\":\"con\",\"input\":\"root\\n\"}}",
		reply, sizeof reply);
	CHECK(strstr(reply, "\"login: \"") != NULL);
	if (ms > 300)
		fprintf(stderr, "vm-console with input held the main thread %.0f ms\n", ms);
	CHECK(ms < 300);
	/* the console keeps what was typed in order, and the next input is not lost */
	ms = dispatch(c, sv[1],
		      "{\"execute\":\"vm-console\",\"id\":2,\"arguments\":{\"vm\":\"con\",\"input\":\"ls\\n\"}}", reply,
		      sizeof reply);
	CHECK(strstr(reply, "\"id\":2") != NULL && strstr(reply, "\"return\"") != NULL);
	CHECK(ms < 300);
	/* "QEMU" reads at last, as QEMU does: one connection at a time, the next once the
	 * previous one closed (so inputs arrive in order) */
	char got[64] = "";
	size_t have = 0;
	for (int k = 0; k < 2; k++) {
		int conn = accept(stuck, NULL, NULL);
		REQUIRE(conn >= 0);
		for (int i = 0; i < 300; i++) {
			ssize_t n = recv(conn, got + have, sizeof got - 1 - have, MSG_DONTWAIT);
			if (n == 0)
				break; /* the agent closed it: all delivered */
			if (n > 0)
				have += (size_t)n;
			else
				usleep(10000);
		}
		close(conn);
	}
	got[have] = 0;
	CHECK_STR(got, "root\nls\n");

	agent.host.vms = NULL;
	hp_vm__destroy(vm);
	close(stuck);
	close(sv[0]);
	close(sv[1]);
	hp_strbuf__free(&c->out);
	free(c);
	char cmd[64];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(cmd), 0);
	TEST_MAIN_END();
}
