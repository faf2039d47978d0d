/* sysloop: tight syscall loop for exact-count tests and benchmarks.
 * Makes exactly N getpid() calls and N write(fd, buf, len) calls with known
 * arguments (fd = a /dev/null descriptor, len = 7, buf = "sysloop"), then prints
 * its counters.  With -t SECONDS it loops for that long instead and prints the rate.
 * usage: sysloop [-n N | -t SECONDS] [-w] [-g] [-k K] [-p] [-P]
 *   -w: wait for SIGUSR1; -g: getpid only; -k: K rounds of busy work between calls,
 *   to set the call rate (and so a probe's hit rate) below the loop's maximum;
 *   -p: ping-pong: fork a child named "sysloop-pong"; parent and child take turns
 *   through two pipes, one getpid() per turn, N turns each, so on one CPU every
 *   call is made right after a context switch. Each prints its own line.
 *   -P: the loop calls getppid instead of getpid (counted as getpid_calls): a control
 *   of the same cost that no getpid probe sees, so a speed check can compare the two
 *   side by side on a host whose speed varies. */
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include "lab_common.h"

static const char buf[] = "sysloop";

static void report(int pid, unsigned long getpids, unsigned long writes, double dt)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	/* switches: how often this process left the CPU, voluntarily or not */
	printf("sysloop[%d]: getpid_calls=%lu write_calls=%lu seconds=%.3f rate=%.0f/s switches=%ld\n", pid, getpids,
	       writes, dt, dt > 0 ? (double)getpids / dt : 0.0, ru.ru_nvcsw + ru.ru_nivcsw);
	fflush(stdout);
}

static int pingpong(long n)
{
	int ping[2], pong[2];
	char c = 0;
	if (pipe(ping) || pipe(pong)) {
		perror("sysloop: pipe");
		return 1;
	}
	double t0 = lab_now();
	pid_t child = fork();
	if (child < 0) {
		perror("sysloop: fork");
		return 1;
	}
	/* gettid, not getpid: only the loop's getpid calls may count */
	int me = (int)syscall(SYS_gettid), in = child ? pong[0] : ping[0], out = child ? ping[1] : pong[1];
	if (!child)
		prctl(PR_SET_NAME, "sysloop-pong");
	unsigned long getpids = 0;
	for (long i = 0; i < n; i++) {
		if (!child && read(in, &c, 1) != 1) {
			perror("sysloop: read");
			return 1;
		}
		syscall(SYS_getpid);
		getpids++;
		if (write(out, &c, 1) != 1) {
			perror("sysloop: write");
			return 1;
		}
		if (child && read(in, &c, 1) != 1) {
			perror("sysloop: read");
			return 1;
		}
	}
	report(me, getpids, 0, lab_now() - t0);
	if (child)
		waitpid(child, NULL, 0);
	return 0;
}

int main(int argc, char **argv)
{
	long n = 1000, secs = 0, work = 0;
	int opt, wait = 0, getpid_only = 0, pp = 0;
	long nr = SYS_getpid;
	unsigned long getpids = 0, writes = 0;

	while ((opt = getopt(argc, argv, "n:t:wgk:pP")) != -1) {
		if (opt == 'n')
			n = atol(optarg);
		else if (opt == 't')
			secs = atol(optarg);
		else if (opt == 'w')
			wait = 1;
		else if (opt == 'g')
			getpid_only = 1;
		else if (opt == 'k')
			work = atol(optarg);
		else if (opt == 'p')
			pp = 1;
		else if (opt == 'P')
			nr = SYS_getppid;
		else {
			fprintf(stderr, "usage: sysloop [-n N|-t S] [-w] [-g] [-k K] [-p] [-P]\n");
			return 2;
		}
	}
	/* getpid() once, before any probe is armed: the loop's calls are the only ones counted */
	int pid = (int)getpid();
	int fd = open("/dev/null", O_WRONLY);
	if (fd < 0) {
		perror("sysloop: /dev/null");
		return 1;
	}
	printf("sysloop[%d]: fd=%d buf=%p len=%zu\n", pid, fd, (void *)buf, sizeof buf - 1);
	fflush(stdout);
	if (wait)
		lab_wait_go("sysloop", pid);
	if (pp)
		return pingpong(n);
	double t0 = lab_now(), end = t0 + (double)secs;
	for (long i = 0; secs ? 1 : i < n; i++) {
		for (volatile long k = 0; k < work; k++)
			;
		/* raw syscall: glibc must not cache or skip it */
		syscall(nr);
		getpids++;
		if (!getpid_only) {
			if (write(fd, buf, sizeof buf - 1) != (ssize_t)(sizeof buf - 1)) {
				perror("write");
				return 1;
			}
			writes++;
		}
		if (secs && (i & 1023) == 0 && lab_now() >= end)
			break;
	}
	double dt = lab_now() - t0;
	report(pid, getpids, writes, dt);
	return 0;
}
