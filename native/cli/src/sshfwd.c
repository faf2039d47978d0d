/* hprobe --socket ssh://...: the forward to a remote agent (sshfwd.h). ssh does the
 * authentication (the user's keys, agent and ~/.ssh/config); no password is taken. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "sshfwd.h"

enum { TIMEOUT_MS = 30000, USER_WORDS = 24, MAX_WORDS = 48 };
#define URL_FORM "ssh://[user@]host[:port][/socket]"

/* The one forward of this process, undone at exit (and on a fatal signal). */
static struct {
	pid_t pid;
	char dir[80], sock[108], log[100];
} fwd;

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int sshfwd_is_url(const char *target)
{
	return strncmp(target, "ssh://", 6) == 0;
}

/* Parses a port of 1..65535 from [s, end). */
static int port_of(const char *s, const char *end)
{
	long v = 0;
	if (s == end || end - s > 5)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v >= 1 && v <= 65535 ? (int)v : -1;
}

int sshfwd_parse(const char *target, struct sshfwd_url *u, char *err, size_t errlen)
{
	memset(u, 0, sizeof *u);
	const char *a = target + 6;
	if (!sshfwd_is_url(target) || strpbrk(a, "?#%"))
		return fail(err, errlen, "not an " URL_FORM " URL: %.200s", target);
	for (const unsigned char *p = (const unsigned char *)a; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return fail(err, errlen, "a blank or control character in %.200s", target);
	const char *slash = strchr(a, '/');
	const char *end = slash ? slash : a + strlen(a);
	if (slash && slash[1]) {
		if (strlen(slash) >= sizeof u->remote || strchr(slash, ':'))
			return fail(err, errlen,
				    "the remote socket in %.200s: a path of less than %zu bytes, with no ':'", target,
				    sizeof u->remote);
		strcpy(u->remote, slash);
	}
	const char *user = NULL, *host = a, *at = memchr(a, '@', (size_t)(end - a));
	size_t ulen = 0;
	if (at) {
		user = a;
		ulen = (size_t)(at - a);
		host = at + 1;
		if (!ulen || user[0] == '-' || memchr(user, ':', ulen) || memchr(host, '@', (size_t)(end - host)))
			return fail(err, errlen, "bad user in %.200s (no password in the URL)", target);
	}
	const char *hbeg = host, *hend, *colon;
	if (*host == '[') { /* [v6 address] */
		hbeg = host + 1;
		hend = memchr(hbeg, ']', (size_t)(end - hbeg));
		if (!hend || (hend + 1 < end && hend[1] != ':'))
			return fail(err, errlen, "not an " URL_FORM " URL: %.200s", target);
		colon = hend + 1 < end ? hend + 1 : NULL;
	} else {
		colon = memchr(host, ':', (size_t)(end - host));
		hend = colon ? colon : end;
	}
	if (hend == hbeg || *hbeg == '-')
		return fail(err, errlen, "not an " URL_FORM " URL (no host, or one that looks like an option): %.200s",
			    target);
	if (colon && (u->port = port_of(colon + 1, end)) < 0)
		return fail(err, errlen, "bad port in %.200s (1 to 65535)", target);
	int n = snprintf(u->dest, sizeof u->dest, "%.*s%s%.*s", (int)ulen, user ? user : "", user ? "@" : "",
			 (int)(hend - hbeg), hbeg);
	if (n < 0 || (size_t)n >= sizeof u->dest)
		return fail(err, errlen, "the user and host in %.200s are too long", target);
	return 0;
}

/* Ends ssh and waits for it. OpenSSH 9.2 can miss a SIGTERM that lands just before it
 * polls (its handler only sets a flag; seen here about once in ten forwards that failed):
 * the signal is said again every 100 ms, and after 2 s it is killed. Async-signal-safe
 * (kill, waitpid, nanosleep). */
static void end_ssh(void)
{
	const struct timespec step = { 0, 50 * 1000 * 1000 };
	for (int i = 0; fwd.pid > 0 && i < 40; i++) {
		if (i % 2 == 0)
			kill(fwd.pid, SIGTERM);
		if (waitpid(fwd.pid, NULL, WNOHANG) == fwd.pid)
			fwd.pid = 0;
		else
			nanosleep(&step, NULL);
	}
	if (fwd.pid > 0) {
		kill(fwd.pid, SIGKILL);
		waitpid(fwd.pid, NULL, 0);
	}
	fwd.pid = 0;
}

/* Ends ssh and removes the private directory; async-signal-safe. */
static void undo(void)
{
	end_ssh();
	if (fwd.dir[0]) {
		unlink(fwd.sock);
		unlink(fwd.log);
		rmdir(fwd.dir);
	}
}

static void cleanup(void)
{
	undo();
	fwd.dir[0] = 0;
}

/* Dies of the signal as it would have, the forward undone first. */
static void on_signal(int sig)
{
	undo();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* The ssh command: $HPROBE_SSH's words (or "ssh"), BatchMode (never a prompt), the port. */
static int ssh_words(const struct sshfwd_url *u, char **w, char *buf, size_t cap, char *portbuf)
{
	const char *env = getenv("HPROBE_SSH");
	snprintf(buf, cap, "%s", env && *env ? env : "ssh");
	int n = 0;
	for (char *save = NULL, *t = strtok_r(buf, " \t", &save); t && n < USER_WORDS; t = strtok_r(NULL, " \t", &save))
		w[n++] = t;
	if (!n)
		w[n++] = "ssh";
	w[n++] = "-o";
	w[n++] = "BatchMode=yes";
	if (u->port) {
		sprintf(portbuf, "%d", u->port);
		w[n++] = "-p";
		w[n++] = portbuf;
	}
	return n;
}

/* The last line ssh wrote to its log, for an error message. */
static const char *log_tail(char *buf, size_t cap)
{
	buf[0] = 0;
	FILE *f = fopen(fwd.log, "r");
	if (!f)
		return buf;
	char line[512];
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = 0;
		for (unsigned char *p = (unsigned char *)line; *p; p++)
			if (*p < ' ' || *p == 0x7f) /* the remote host's words: no terminal controls */
				*p = '?';
		if (line[0])
			snprintf(buf, cap, "%s", line);
	}
	fclose(f);
	return buf;
}

/* Starts argv with stdin from /dev/null, stderr to the log, stdout to out (or /dev/null). */
static pid_t spawn(char **argv, int out)
{
	/* signals wait until fwd.pid names the child, so that on_signal ends it */
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid_t pid = fork();
	if (pid > 0)
		fwd.pid = pid;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid != 0)
		return pid;
	int null = open("/dev/null", O_RDWR);
	int log = open(fwd.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (null < 0 || log < 0)
		_exit(127);
	dup2(null, 0);
	dup2(out >= 0 ? out : null, 1);
	dup2(log, 2);
	execvp(argv[0], argv);
	dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/* Runs `ssh DEST 'hprobed' '--print-socket'` for the remote agent's socket. */
static int ask_socket(const struct sshfwd_url *u, char *out, size_t cap, char *err, size_t errlen)
{
	char *w[MAX_WORDS], buf[1024], port[8], tail[512];
	int n = ssh_words(u, w, buf, sizeof buf, port);
	w[n++] = "--";
	w[n++] = (char *)u->dest;
	w[n++] = "'hprobed' '--print-socket'";
	w[n] = NULL;
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return fail(err, errlen, "pipe: %s", strerror(errno));
	pid_t pid = spawn(w, p[1]);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return fail(err, errlen, "fork: %s", strerror(errno));
	}
	size_t len = 0;
	long long deadline = now_ms() + TIMEOUT_MS;
	struct pollfd pf = { .fd = p[0], .events = POLLIN };
	while (now_ms() < deadline && poll(&pf, 1, 100) >= 0) {
		if (!pf.revents)
			continue;
		ssize_t r = read(p[0], out + len, cap - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == cap - 1)
			break;
	}
	close(p[0]);
	out[len] = 0;
	int st = 0;
	pid_t done;
	while ((done = waitpid(pid, &st, WNOHANG)) == 0 && now_ms() < deadline)
		usleep(10 * 1000); /* its output ended: the exit follows */
	fwd.pid = 0;
	if (done == 0) {
		kill(pid, SIGTERM);
		waitpid(pid, &st, 0);
		return fail(err, errlen, "ssh %s hprobed --print-socket took more than %d s", u->dest,
			    TIMEOUT_MS / 1000);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return fail(err, errlen, "ssh %s hprobed --print-socket failed: %s", u->dest,
			    log_tail(tail, sizeof tail));
	if (len && out[len - 1] == '\n')
		out[--len] = 0;
	if (out[0] != '/' || strchr(out, '\n') || strchr(out, ':'))
		return fail(err, errlen,
			    "the remote hprobed did not say its socket: give it as ssh://%s/path/to/hprobed.sock",
			    u->dest);
	return 0;
}

int sshfwd_open(const char *target, char *local, size_t localcap, char *err, size_t errlen)
{
	struct sshfwd_url u;
	char tail[512];
	if (fwd.dir[0])
		return fail(err, errlen, "one forward per process");
	if (sshfwd_parse(target, &u, err, errlen))
		return -1;
	const char *tmp = getenv("TMPDIR");
	if (!tmp || tmp[0] != '/' || strlen(tmp) > 40)
		tmp = "/tmp";
	snprintf(fwd.dir, sizeof fwd.dir, "%s/hprobe-ssh.XXXXXX", tmp);
	if (!mkdtemp(fwd.dir)) { /* 0700: the socket is the user's alone */
		int e = errno;
		fwd.dir[0] = 0;
		return fail(err, errlen, "a private directory under %s: %s", tmp, strerror(e));
	}
	snprintf(fwd.sock, sizeof fwd.sock, "%s/s.sock", fwd.dir);
	snprintf(fwd.log, sizeof fwd.log, "%s/ssh.log", fwd.dir);
	atexit(cleanup);
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		struct sigaction old;
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
			signal(sigs[i], on_signal); /* a command's own handler (hprobe run) stays */
	}
	if (!u.remote[0] && ask_socket(&u, u.remote, sizeof u.remote, err, errlen))
		return -1;

	char *w[MAX_WORDS], buf[1024], port[8], spec[sizeof fwd.sock + sizeof u.remote + 2];
	int n = ssh_words(&u, w, buf, sizeof buf, port);
	snprintf(spec, sizeof spec, "%s:%s", fwd.sock, u.remote);
	char *more[] = { "-N", "-o", "ExitOnForwardFailure=yes", "-o", "StreamLocalBindUnlink=yes", "-L", spec, "--" };
	for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
		w[n++] = more[i];
	w[n++] = u.dest;
	w[n] = NULL;
	if (spawn(w, -1) < 0)
		return fail(err, errlen, "fork: %s", strerror(errno));
	for (long long deadline = now_ms() + TIMEOUT_MS; now_ms() < deadline; usleep(50 * 1000)) {
		int st;
		if (waitpid(fwd.pid, &st, WNOHANG) == fwd.pid) {
			fwd.pid = 0;
			return fail(err, errlen, "ssh to %s ended (exit status %d): %s", u.dest,
				    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), log_tail(tail, sizeof tail));
		}
		int fd = conn_connect(fwd.sock);
		if (fd >= 0) { /* the forward listens */
			close(fd);
			snprintf(local, localcap, "%s", fwd.sock);
			return 0;
		}
	}
	return fail(err, errlen, "ssh to %s did not forward %s within %d s: %s", u.dest, u.remote, TIMEOUT_MS / 1000,
		    log_tail(tail, sizeof tail));
}
