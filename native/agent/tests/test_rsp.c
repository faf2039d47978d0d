/* The gdbstub client against a fake gdbstub (a thread on a Unix socket): the target
 * description is untrusted input like any other. A register of negative or absurd
 * size, or one that would lie outside the 'g' block, is refused at the handshake
 * (a negative bitsize once moved later registers' offsets before the block). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend/rsp.h"
#include "hp_test.h"

static const char *const names[RSP_NREGS] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi",    "rbp", "rsp",     "r8",      "r9",        "r10", "r11",
	"r12", "r13", "r14", "r15", "rip", "eflags", "cs",  "fs_base", "gs_base", "k_gs_base", "cr3",
};

struct stub {
	int listen_fd;
	char doc[8192];
};

static void put(int fd, const char *data)
{
	unsigned sum = 0;
	for (const char *p = data; *p; p++)
		sum += (unsigned char)*p;
	char *pkt = malloc(strlen(data) + 8);
	int n = sprintf(pkt, "$%s#%02x", data, sum & 0xff);
	if (write(fd, pkt, (size_t)n) != n)
		perror("fake gdbstub");
	free(pkt);
}

/* Reads one packet's payload (acks skipped); 0 at EOF. */
static int get(int fd, char *buf, size_t cap)
{
	char c;
	size_t n = 0;
	do {
		if (read(fd, &c, 1) != 1)
			return 0;
	} while (c != '$');
	while (read(fd, &c, 1) == 1 && c != '#')
		if (n + 1 < cap)
			buf[n++] = c;
	buf[n] = 0;
	char cs[2];
	if (read(fd, cs, 2) != 2)
		return 0;
	return write(fd, "+", 1) == 1;
}

static void *serve(void *arg)
{
	struct stub *s = arg;
	int fd = accept(s->listen_fd, NULL, NULL);
	char pkt[4096], reply[16384];
	while (fd >= 0 && get(fd, pkt, sizeof pkt)) {
		if (!strncmp(pkt, "qSupported", 10)) {
			put(fd, "PacketSize=4000;qXfer:features:read+");
		} else if (!strncmp(pkt, "qXfer:features:read:target.xml:", 31)) {
			snprintf(reply, sizeof reply, "l%s", s->doc);
			put(fd, reply);
		} else if (!strcmp(pkt, "?")) {
			put(fd, "T05thread:01;");
		} else if (!strcmp(pkt, "g")) {
			/* 23 registers of 8 bytes: register i holds i + 1 in every byte */
			size_t o = 0;
			for (int i = 0; i < RSP_NREGS; i++)
				for (int b = 0; b < 8; b++)
					o += (size_t)sprintf(reply + o, "%02x", i + 1);
			put(fd, reply);
		} else {
			put(fd, "");
		}
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* Handshakes with a stub whose description gives register 0 (rax) the bitsize
 * rax_bits and register 1 (rbx) the regnum rbx_regnum; returns the handshake's rc
 * and, on success, rax and rbx as read by 'g'. */
static int run(const char *rax_bits, const char *rbx_regnum, uint64_t *rax, uint64_t *rbx)
{
	struct stub s;
	char path[64];
	snprintf(path, sizeof path, "/tmp/hp-rsp-%d.sock", (int)getpid());
	unlink(path);
	size_t o = (size_t)sprintf(s.doc, "<?xml version=\"1.0\"?><target><feature name=\"org.gnu.gdb.i386.core\">");
	for (int i = 0; i < RSP_NREGS; i++)
		o += (size_t)sprintf(s.doc + o, "<reg name=\"%s\" bitsize=\"%s\"%s%s%s/>", names[i],
				     i == 0 ? rax_bits : "64", i == 1 && rbx_regnum ? " regnum=\"" : "",
				     i == 1 && rbx_regnum ? rbx_regnum : "", i == 1 && rbx_regnum ? "\"" : "");
	sprintf(s.doc + o, "</feature></target>");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	s.listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	REQUIRE(bind(s.listen_fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(s.listen_fd, 1) == 0);
	pthread_t th;
	REQUIRE(pthread_create(&th, NULL, serve, &s) == 0);
	struct hp_rsp *r = NULL;
	struct hp_err err = { { 0 } };
	struct hp_rsp_stop stop;
	REQUIRE(hp_rsp__connect(path, 2000, &r, &err) == 0);
	int rc = hp_rsp__handshake(r, &stop, &err);
	if (rc)
		fprintf(stderr, "  bitsize %s: %s\n", rax_bits, err.msg);
	uint64_t regs[RSP_NREGS] = { 0 };
	if (!rc && hp_rsp__read_regs(r, regs, &err) == 0) {
		*rax = regs[RSP_RAX];
		*rbx = regs[RSP_RBX];
	}
	hp_rsp__free(r);
	pthread_join(th, NULL);
	close(s.listen_fd);
	unlink(path);
	return rc;
}

int main(void)
{
	uint64_t rax = 0, rbx = 0;
	CHECK_EQ_INT(run("64", NULL, &rax, &rbx), 0);
	CHECK_EQ_U64(rax, 0x0101010101010101ull);
	CHECK_EQ_U64(rbx, 0x0202020202020202ull);

	static const char *const bad[] = { "-64", "-8", "0", "12", "99999999999", "64x", "", "4294967360" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(run(bad[i], NULL, &rax, &rbx) < 0);
	/* a regnum that does not fit, or is negative */
	CHECK(run("64", "-5", &rax, &rbx) < 0);
	CHECK(run("64", "99999999999", &rax, &rbx) < 0);
	TEST_MAIN_END();
}
