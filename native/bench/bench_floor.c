/* The floor of a gdbstub probe: a bare client that only resumes. At each stop it
 * moves RIP over the probed 5-byte nop and continues; nothing is read. Whatever a
 * capturing probe costs above this is the capture's own cost.
 * usage: bench_floor GDB_SOCKET ADDR SECONDS   (prints hits and hits/s) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/rsp.h"
#include "base/util.h"

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: bench_floor GDB_SOCKET ADDR SECONDS\n");
		return 2;
	}
	uint64_t addr = strtoull(argv[2], NULL, 0);
	double secs = atof(argv[3]);
	struct hp_rsp *r;
	struct hp_err err;
	struct hp_rsp_stop st;
	if (hp_rsp__connect(argv[1], 2000, &r, &err) || hp_rsp__handshake(r, &st, &err) ||
	    hp_rsp__set_bp(r, addr, 1, &err)) {
		fprintf(stderr, "bench_floor: %s\n", err.msg);
		return 1;
	}
	uint64_t hits = 0, t0 = hp_now_ns(), end = t0 + (uint64_t)(secs * 1e9);
	char pkt[HP_RSP_MAX_PACKET];
	hp_rsp__continue(r);
	while (hp_now_ns() < end) {
		int rc = hp_rsp__recv(r, pkt, sizeof pkt, 1000, &err);
		if (rc == -ETIMEDOUT)
			continue;
		if (rc || hp_rsp__parse_stop(pkt, &st)) {
			fprintf(stderr, "bench_floor: %s\n", err.msg);
			return 1;
		}
		hits++;
		/* RIP is known to be addr: write addr + 5 without reading anything */
		hp_rsp__queue_write_reg(r, RSP_RIP, addr + 5);
		if (hp_rsp__expect_ok(r, &err))
			return 1;
		hp_rsp__continue(r);
	}
	struct hp_rsp_stop s2;
	hp_rsp__interrupt(r);
	hp_rsp__recv(r, pkt, sizeof pkt, 2000, &err);
	(void)s2;
	hp_rsp__set_bp(r, addr, 0, &err);
	hp_rsp__detach(r, &err);
	double dt = (double)(hp_now_ns() - t0) / 1e9;
	printf("{\"hits\": %llu, \"seconds\": %.3f, \"hits_per_s\": %.1f}\n", (unsigned long long)hits, dt,
	       (double)hits / dt);
	hp_rsp__free(r);
	return 0;
}
