/* Shared helpers for the lab's guest test programs. They run inside the guest,
 * print their own exact counters, and are controlled by signals from the console. */
#ifndef HP_LAB_COMMON_H
#define HP_LAB_COMMON_H
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline void lab_on(int sig, void (*fn)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static inline void lab_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	/* nanosleep returns early on a signal; that is wanted (control is by signals) */
	nanosleep(&ts, NULL);
}

static inline double lab_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits until SIGUSR1 when asked to, so a probe can be armed on a known pid first. */
static volatile sig_atomic_t lab_go;
static inline void lab_go_handler(int sig)
{
	(void)sig;
	lab_go = 1;
}
static inline void lab_wait_go(const char *name, int pid)
{
	lab_on(SIGUSR1, lab_go_handler);
	printf("%s[%d]: waiting for SIGUSR1\n", name, pid);
	fflush(stdout);
	while (!lab_go)
		pause();
}
#endif
