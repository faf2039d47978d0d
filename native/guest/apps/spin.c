/* spin: CPU-bound test program for the infinite-loop detector.
 * work_item() does progressing work (a checksum over a growing counter).
 *   SIGUSR1 makes it enter stuck_loop(): a loop whose state cycles and whose exit
 *   depends only on SIGUSR2 (an operator's rescue), so it is hung until someone steps in.
 *   SIGHUP prints counters; SIGTERM/SIGINT print them and exit.
 * usage: spin [-s]   (-s: sleep 1 ms between work items, a light load) */
#include "lab_common.h"

/* cached: printing must not add getpid calls to what probes count */
static int mypid;

static volatile sig_atomic_t go_stuck, rescue, quit, report;
static unsigned long items, stuck_entries;
static volatile unsigned long sink;

__attribute__((noinline, used)) unsigned long work_item(unsigned long n)
{
	unsigned long h = n;
	for (int i = 0; i < 1000; i++)
		h = h * 6364136223846793005UL + (unsigned long)i;
	return h;
}

__attribute__((noinline, used)) void stuck_loop(void)
{
	volatile unsigned v = 0;
	stuck_entries++;
	printf("spin[%d]: entering stuck_loop\n", mypid);
	fflush(stdout);
	while (!rescue)
		v ^= 1;
	rescue = 0;
	printf("spin[%d]: left stuck_loop\n", mypid);
	fflush(stdout);
}

static void on_stuck(int s)
{
	(void)s;
	go_stuck = 1;
}
static void on_rescue(int s)
{
	(void)s;
	rescue = 1;
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

static void print_counts(const char *why)
{
	printf("spin[%d]: %s work_items=%lu stuck_entries=%lu\n", mypid, why, items, stuck_entries);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	mypid = (int)getpid();
	int light = argc > 1 && strcmp(argv[1], "-s") == 0;

	lab_on(SIGUSR1, on_stuck);
	lab_on(SIGUSR2, on_rescue);
	lab_on(SIGTERM, on_quit);
	lab_on(SIGINT, on_quit);
	lab_on(SIGHUP, on_report);
	printf("spin[%d]: start\n", mypid);
	fflush(stdout);
	while (!quit) {
		if (go_stuck) {
			go_stuck = 0;
			stuck_loop();
		}
		if (report) {
			report = 0;
			print_counts("report");
		}
		sink = work_item(items++);
		if (light)
			lab_sleep_ms(1);
	}
	print_counts("exit");
	return 0;
}
