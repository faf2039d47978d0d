/* Fuzzes the gdbstub client as a hostile stub would: the input is everything the
 * stub says, queued on a socket pair before the client speaks, then end of stream.
 * The client runs the handshake (target description walk, xi:include) and every
 * request the agent makes; each must fail cleanly once the replies run out. */
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend/rsp.h"

#include "fuzz_assert.h"

/* The stop-reply parser alone, on the input as one NUL-terminated packet. */
static void parse_stop(const uint8_t *data, size_t size)
{
	char pkt[512];
	size_t n = size < sizeof pkt - 1 ? size : sizeof pkt - 1;
	struct hp_rsp_stop st;

	memcpy(pkt, data, n);
	pkt[n] = 0;
	if (hp_rsp__parse_stop(pkt, &st) == 0)
		ASSERT(st.exited || (st.signal >= 0 && st.signal <= 255));
}

static void session(struct hp_rsp *r)
{
	struct hp_err err;
	struct hp_rsp_stop st;
	uint64_t regs[RSP_NREGS];
	unsigned char mem[2500];
	char out[256];

	if (hp_rsp__handshake(r, &st, &err))
		return;
	hp_rsp__read_regs(r, regs, &err);
	hp_rsp__read_mem(r, 0xffffffff81000000ull, mem, sizeof mem, &err);
	hp_rsp__write_mem(r, 0xffffffff81000000ull, "\xcc", 1, &err);
	hp_rsp__set_bp_type(r, 1, 0xffffffff81000010ull, 1, &err);
	hp_rsp__select_thread(r, 2, &err);
	if (hp_rsp__queue_write_reg(r, RSP_RIP, 0xffffffff81000000ull) == 0)
		hp_rsp__expect_ok(r, &err);
	if (hp_rsp__monitor(r, "info status", out, sizeof out, &err) == 0)
		ASSERT(strlen(out) < sizeof out);
	hp_rsp__step_thread(r, 1);
	hp_rsp__recv(r, out, sizeof out, 0, &err);
	hp_rsp__detach(r, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;
	int sv[2];
	struct hp_rsp *r;

	if (!once) { /* the client's writes after the stub is gone */
		signal(SIGPIPE, SIG_IGN);
		once = 1;
	}
	parse_stop(data, size);
	/* The client reads until end of stream; what it writes piles up unread in sv[1]:
	 * 8 KiB of replies of 6 bytes or more draw well under a socket buffer of requests,
	 * so the client never blocks on a send. */
	if (size > 8192 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return 0;
	if (write(sv[1], data, size) != (ssize_t)size || shutdown(sv[1], SHUT_WR)) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	if (hp_rsp__adopt(sv[0], &r, NULL)) { /* it closed sv[0] */
		close(sv[1]);
		return 0;
	}
	session(r);
	hp_rsp__free(r);
	close(sv[1]);
	return 0;
}
