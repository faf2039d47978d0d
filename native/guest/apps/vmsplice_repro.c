/* vmsplice_repro: the call pattern of CVE-2008-0600 (vmsplice_to_user with an iovec
 * pointing into kernel memory), mixed with benign vmsplice calls on the same pipe.
 * Harmless on a patched kernel: the triggering calls fail with EFAULT there, or with
 * EPERM when HProbe's virtual patch blocks them. Prints its own exact counters.
 * usage: vmsplice_repro [-t TRIGGERING] [-b BENIGN] [-w]   (calls are interleaved) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/uio.h>
#include "lab_common.h"

/* A kernel direct-map address: what the 2008 exploit handed to vmsplice. */
#define KERNEL_ADDR ((void *)0xffff888000100000UL)

int main(int argc, char **argv)
{
	long trig = 10, benign = 10;
	int opt, wait = 0, pid = (int)getpid();
	while ((opt = getopt(argc, argv, "t:b:w")) != -1) {
		if (opt == 't')
			trig = atol(optarg);
		else if (opt == 'b')
			benign = atol(optarg);
		else if (opt == 'w')
			wait = 1;
		else {
			fprintf(stderr, "usage: vmsplice_repro [-t N] [-b N] [-w]\n");
			return 2;
		}
	}
	int p[2];
	if (pipe(p)) {
		perror("pipe");
		return 1;
	}
	printf("vmsplice_repro[%d]: start triggering=%ld benign=%ld\n", pid, trig, benign);
	fflush(stdout);
	if (wait)
		lab_wait_go("vmsplice_repro", pid);
	static char buf[4096];
	unsigned long t_eperm = 0, t_efault = 0, t_other = 0, b_ok = 0, b_fail = 0;
	for (long i = 0; i < trig || i < benign; i++) {
		if (i < benign) {
			/* benign: write user data into the pipe, then read it back into user memory */
			struct iovec in = { buf, 64 }, out = { buf + 1024, 64 };
			if (vmsplice(p[1], &in, 1, 0) == 64 && vmsplice(p[0], &out, 1, 0) == 64)
				b_ok++;
			else
				b_fail++;
		}
		if (i < trig) {
			/* triggering: read the pipe into "user" memory that is really kernel memory */
			if (write(p[1], "x", 1) != 1) {
				perror("write");
				return 1;
			}
			struct iovec evil = { KERNEL_ADDR, 4096 };
			long r = vmsplice(p[0], &evil, 1, 0);
			if (r < 0 && errno == EPERM)
				t_eperm++;
			else if (r < 0 && errno == EFAULT)
				t_efault++;
			else
				t_other++;
			/* drain what the failed call left, so the next round starts clean */
			fcntl(p[0], F_SETFL, O_NONBLOCK);
			while (read(p[0], buf, sizeof buf) > 0)
				;
			fcntl(p[0], F_SETFL, 0);
		}
	}
	/* the benign calls each made 2 vmsplice calls */
	printf("vmsplice_repro[%d]: triggering=%ld eperm=%lu efault=%lu other=%lu benign=%ld benign_ok=%lu "
	       "benign_failed=%lu vmsplice_calls=%ld\n",
	       pid, trig, t_eperm, t_efault, t_other, benign, b_ok, b_fail, trig + 2 * benign);
	fflush(stdout);
	return 0;
}
