/* retloop: calls whose returns a return probe sees, counted and timed by the guest.
 *   -s USEC: N raw nanosleep(USEC) system calls (the kernel's __x64_sys_nanosleep),
 *            each timed here with CLOCK_MONOTONIC around the call: prints the count
 *            and the min/max/total it measured, in ns.
 *   -r DEPTH: N calls of rec(DEPTH), which recurses to rec(0): DEPTH + 1 calls each;
 *            rec(d) returns d * (d + 1) / 2, so each return names its depth.
 *   -f: fork N children that each call exit_group (a call that never returns).
 * usage: retloop [-n N] [-s USEC] [-r DEPTH] [-f] [-w]   (-w: wait for SIGUSR1) */
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "lab_common.h"

static volatile unsigned long rec_calls;

/* noinline, and work after the recursive call: the recursion stays real calls */
__attribute__((noinline, used)) long rec(long d)
{
	rec_calls++;
	if (d <= 0)
		return 0;
	long r = rec(d - 1);
	__asm__ volatile("" : "+r"(r)::"memory");
	return r + d;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = 10, usec = -1, depth = -1;
	int opt, wait = 0, forks = 0;
	while ((opt = getopt(argc, argv, "n:s:r:fw")) != -1) {
		if (opt == 'n')
			n = atol(optarg);
		else if (opt == 's')
			usec = atol(optarg);
		else if (opt == 'r')
			depth = atol(optarg);
		else if (opt == 'f')
			forks = 1;
		else if (opt == 'w')
			wait = 1;
		else {
			fprintf(stderr, "usage: retloop [-n N] [-s USEC] [-r DEPTH] [-f] [-w]\n");
			return 2;
		}
	}
	int pid = (int)getpid();
	if (wait)
		lab_wait_go("retloop", pid);
	if (usec >= 0) {
		struct timespec ts = { usec / 1000000, (usec % 1000000) * 1000 };
		uint64_t min = UINT64_MAX, max = 0, total = 0;
		for (long i = 0; i < n; i++) {
			uint64_t t0 = now_ns();
			syscall(SYS_nanosleep, &ts, NULL);
			uint64_t dt = now_ns() - t0;
			min = dt < min ? dt : min;
			max = dt > max ? dt : max;
			total += dt;
		}
		printf("retloop[%d]: sleeps=%ld min_ns=%llu max_ns=%llu total_ns=%llu\n", pid, n,
		       (unsigned long long)min, (unsigned long long)max, (unsigned long long)total);
	}
	if (depth >= 0) {
		long sum = 0;
		for (long i = 0; i < n; i++)
			sum += rec(depth);
		printf("retloop[%d]: rec_calls=%lu sum=%ld\n", pid, rec_calls, sum);
	}
	if (forks) {
		long done = 0;
		for (long i = 0; i < n; i++) {
			pid_t c = fork();
			if (c == 0)
				syscall(SYS_exit_group, 0);
			if (c > 0 && waitpid(c, NULL, 0) == c)
				done++;
		}
		printf("retloop[%d]: exits=%ld\n", pid, done);
	}
	fflush(stdout);
	return 0;
}
