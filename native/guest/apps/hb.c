/* hb: heartbeat test program for the application watchdog and app probes.
 * Calls heartbeat(seq) with seq = 1, 2, 3, ... every PERIOD ms.
 *   SIGUSR1 stalls (process stays alive, no heartbeat), SIGUSR2 resumes,
 *   SIGHUP prints the counter, SIGTERM/SIGINT print it and exit.
 * usage: hb [-p PERIOD_MS] [-n COUNT] [-w] [-l LATE_MS]
 *   -w: wait for SIGUSR1 before starting
 *   -l: print "late seq=N gap_ms=G" when heartbeat N+1 came LATE_MS or more after N, on
 *       the guest's own clock: the guest's word on when it really went silent */
#include "lab_common.h"

/* cached: printing must not add getpid calls to what probes count */
static int mypid;

static volatile sig_atomic_t stalled, quit, report;
static volatile unsigned long calls;

/* noinline + used: the probe target must stay a real call with its argument in %rdi */
__attribute__((noinline, used)) void heartbeat(unsigned long seq)
{
	calls = seq;
	__asm__ volatile("" ::: "memory");
}

static void on_stall(int s)
{
	(void)s;
	stalled = 1;
}
static void on_resume(int s)
{
	(void)s;
	stalled = 0;
}
static void on_quit(int s)
{
	(void)s;
	quit = 1;
}
static void on_report(int s)
{
	(void)s;
	report = 1;
}

static void print_calls(const char *why)
{
	printf("hb[%d]: %s heartbeat_calls=%lu\n", mypid, why, calls);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	mypid = (int)getpid();
	long period = 100, count = -1, late_ms = 0;
	double last = 0;
	int opt, wait = 0;
	unsigned long seq = 0;

	while ((opt = getopt(argc, argv, "p:n:wl:")) != -1) {
		if (opt == 'p')
			period = atol(optarg);
		else if (opt == 'n')
			count = atol(optarg);
		else if (opt == 'w')
			wait = 1;
		else if (opt == 'l')
			late_ms = atol(optarg);
		else {
			fprintf(stderr, "usage: hb [-p MS] [-n COUNT] [-w] [-l MS]\n");
			return 2;
		}
	}
	if (wait)
		lab_wait_go("hb", mypid);
	lab_on(SIGUSR1, on_stall);
	lab_on(SIGUSR2, on_resume);
	lab_on(SIGTERM, on_quit);
	lab_on(SIGINT, on_quit);
	lab_on(SIGHUP, on_report);
	printf("hb[%d]: start period_ms=%ld\n", mypid, period);
	fflush(stdout);
	while (!quit && (count < 0 || (long)seq < count)) {
		if (report) {
			report = 0;
			print_calls("report");
		}
		if (!stalled) {
			double now = lab_now();
			if (late_ms > 0 && last > 0 && (now - last) * 1000 >= (double)late_ms) {
				printf("hb[%d]: late seq=%lu gap_ms=%.0f\n", mypid, seq, (now - last) * 1000);
				fflush(stdout);
			}
			heartbeat(++seq);
			last = now;
		} else {
			last = 0; /* a stall asked for is no lateness */
		}
		lab_sleep_ms(period);
	}
	print_calls("exit");
	return 0;
}
