/* hprobed: the HProbe agent. Plants hypervisor probes in running VMs and serves
 * the local protocol (docs/protocol.md). */
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/files.h"
#include "probes/retprobe.h"
#include "proto/agent.h"
#include "vm/guard.h"
#include "vm/session.h"
#include "base/util.h"
#include "vm/vm.h"

/* The signal handler's only way to reach the agent. */
static struct hp_agent *signal_agent;
static int signal_efd = -1;

static void on_signal(int sig)
{
	(void)sig;
	int saved = errno; /* the interrupted code may be about to read it */
	signal_agent->quit = HP_QUIT_SIGNAL;
	uint64_t one = 1;
	/* wakes the main loop; the outbox eventfd doubles as the wake-up */
	if (signal_efd >= 0 && write(signal_efd, &one, sizeof one) < 0)
		_exit(1);
	errno = saved;
}

/* A sanitizer reports fatal signals itself, with more than we could. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define HP_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define HP_SANITIZED 1
#endif
#endif

/* A crash leaves its signal and stack in the agent's log, then ends the process
 * as the signal would have. Async-signal-safe
 * calls only; backtrace() was warmed up at start-up so it does not load libgcc here. */
#ifndef HP_SANITIZED
static void on_fatal(int sig)
{
	char msg[] = "hprobed: fatal signal 00, stack:\n";
	msg[sizeof "hprobed: fatal signal " - 1] = (char)('0' + sig / 10 % 10);
	msg[sizeof "hprobed: fatal signal " - 1 + 1] = (char)('0' + sig % 10);
	if (write(2, msg, sizeof msg - 1) < 0)
		_exit(128 + sig);
	void *frames[48];
	backtrace_symbols_fd(frames, backtrace(frames, 48), 2);
	signal(sig, SIG_DFL);
	raise(sig);
}
#endif

static void catch_fatal_signals(void)
{
#ifndef HP_SANITIZED
	void *warm[1];
	backtrace(warm, 1);
	struct sigaction fa = { .sa_handler = on_fatal, .sa_flags = SA_RESETHAND };
	const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &fa, NULL);
#endif
}

static void set_path(char *dst, size_t cap, const char *v)
{
	if (hp_pathf(dst, cap, "%s", v)) {
		fprintf(stderr, "hprobed: path too long: %s\n", v);
		exit(2);
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: hprobed [--socket PATH] [--state-dir DIR] [--lab PATH] [--plugin SO]\n"
		   "               [--daemon] [--log FILE] [--debug] [--ret-timeout SECONDS]\n"
		   "       hprobed [--socket PATH] --print-socket\n"
		   "Serves the HProbe protocol on a 0600 Unix socket (docs/protocol.md).\n"
		   "--print-socket prints the socket path and exits (clients over SSH ask it).\n");
}

/* The lab script sits at <prefix>/native/guest/lab.sh in a source tree; the binary at
 * <prefix>/native/target/cmake/agent/hprobed. Look relative to the executable. */
static void default_lab(char *buf, size_t cap)
{
	const char *env = getenv("HPROBE_LAB");
	if (env) {
		snprintf(buf, cap, "%s", env);
		return;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	buf[0] = 0;
	if (n <= 0)
		return;
	exe[n] = 0;
	for (int up = 0; up < 6; up++) {
		char *s = strrchr(exe, '/');
		if (!s)
			break;
		*s = 0;
		char cand[PATH_MAX + 32];
		snprintf(cand, sizeof cand, "%s/native/guest/lab.sh", exe);
		if (access(cand, X_OK) == 0 && hp_pathf(buf, cap, "%s", cand) == 0)
			return;
		snprintf(cand, sizeof cand, "%s/guest/lab.sh", exe);
		if (access(cand, X_OK) == 0 && hp_pathf(buf, cap, "%s", cand) == 0)
			return;
	}
}

int main(int argc, char **argv)
{
	static struct hp_agent agent;
	struct hp_agent *a = &agent;
	int daemonize = 0, print_socket = 0;
	const char *logfile = NULL;
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "lab", required_argument, NULL, 'l' },
		{ "plugin", required_argument, NULL, 'p' },
		{ "daemon", no_argument, NULL, 'D' },
		{ "log", required_argument, NULL, 'L' },
		{ "debug", no_argument, NULL, 'g' },
		{ "ret-timeout", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "print-socket", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	/* Client buffers of a few hundred KiB come and go with bursts of hits. A fixed
	 * mmap threshold gives them back to the system when freed; glibc's sliding one
	 * would serve them from the heap, which keeps its high-water mark. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	a->listen_fd = a->epfd = a->lock_fd = -1;
	a->host.uid = getuid();
	a->host.ret_timeout_ns = HP_RET_TIMEOUT_NS;
	hp_default_socket_path(a->host.paths.socket, sizeof a->host.paths.socket);
	hp_default_state_dir(a->host.paths.state_dir, sizeof a->host.paths.state_dir);
	default_lab(a->host.paths.lab_script, sizeof a->host.paths.lab_script);
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			set_path(a->host.paths.socket, sizeof a->host.paths.socket, optarg);
			break;
		case 'd':
			set_path(a->host.paths.state_dir, sizeof a->host.paths.state_dir, optarg);
			break;
		case 'l':
			set_path(a->host.paths.lab_script, sizeof a->host.paths.lab_script, optarg);
			break;
		case 'p':
			set_path(a->host.paths.plugin, sizeof a->host.paths.plugin, optarg);
			break;
		case 'D':
			daemonize = 1;
			break;
		case 'L':
			logfile = optarg;
			break;
		case 'g':
			hp_log_set_level(HP_LOG_DEBUG);
			break;
		case 'r': {
			char *end;
			errno = 0;
			unsigned long s = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || s < 1 || s > 7 * 86400) {
				fprintf(stderr, "hprobed: --ret-timeout takes seconds, 1 to 604800, not '%s'\n",
					optarg);
				return 2;
			}
			a->host.ret_timeout_ns = s * 1000000000ull;
			break;
		}
		case 'S':
			print_socket = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (print_socket) {
		puts(a->host.paths.socket);
		return 0;
	}
	/* the state directory is ours and private before anything is written there (the
	 * log first): a symlink, or a directory someone else made in /tmp, is refused */
	struct hp_err err;
	if (hp_files__private_dir(a->host.paths.state_dir, &err)) {
		fprintf(stderr, "hprobed: state directory: %s\n", err.msg);
		return 1;
	}
	char deflog[PATH_MAX + 16];
	if (!logfile && daemonize && hp_pathf(deflog, sizeof deflog, "%s/hprobed.log", a->host.paths.state_dir) == 0)
		logfile = deflog; /* a daemon started on demand still leaves a trace of what it did */
	if (logfile) {
		int fd = hp_files__open_log(logfile, &err);
		if (fd < 0) {
			fprintf(stderr, "hprobed: %s\n", err.msg);
			return 1;
		}
		dup2(fd, 2);
		close(fd);
	}
	pthread_mutex_init(&a->host.outbox.lock, NULL);
	a->host.outbox.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	signal_efd = a->host.outbox.efd;
	signal_agent = a;
	a->host.guard_fd = -1;
	if (hp_server__listen(a, &err)) {
		fprintf(stderr, "hprobed: %s\n", err.msg);
		return 1;
	}
	if (daemonize) {
		/* the parent returns once the socket is listening, so clients can connect at once */
		pid_t pid = fork();
		if (pid < 0)
			return 1;
		if (pid > 0)
			_exit(0);
		setsid();
		int nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
			if (!logfile)
				dup2(nul, 2);
		}
	}
	/* before any thread: the guardian is a plain fork of this process */
	int grc = hp_guard__start(&a->host);
	if (grc)
		hp_warn("no guardian (%s): if the agent dies, its VMs stay stopped", strerror(-grc));
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	catch_fatal_signals();
	hp_info("listening on %s (state in %s, lab %s)", a->host.paths.socket, a->host.paths.state_dir,
		a->host.paths.lab_script[0] ? a->host.paths.lab_script : "none");
	int recovered = hp_session__recover(&a->host);
	if (recovered)
		hp_info("recovering %d VM(s) an earlier agent left monitored", recovered);
	int run = hp_server__run(a);
	if (run < 0)
		hp_error("main loop: %s", strerror(-run));
	hp_server__announce_shutdown(a, a->quit == HP_QUIT_SIGNAL ? "signal" : a->quit ? "agent-shutdown" : "error");
	hp_info("shutting down: detaching from every VM (guests keep running)");
	while (a->host.vms) {
		struct hp_vm *vm = a->host.vms;
		a->host.vms = vm->next;
		struct hp_job *job = NULL;
		for (int tries = 0; !job && tries < 50; tries++)
			if (!(job = hp_job__new(hp_vm__detach_job, 1, NULL)))
				usleep(100000); /* the worker ends only after a final job */
		if (!job) {
			hp_error("%s: out of memory: cannot detach; leaving its worker running", vm->cfg.name);
			continue;
		}
		job->final = 1; /* the worker exits after it */
		hp_vm__submit(vm, job);
		hp_vm__destroy(vm);
	}
	hp_guard__stop(&a->host);
	hp_server__close(a);
	return 0;
}
