/* hprobe export --vm: a VM's journal where the exporter can read it, the agent's own
 * file when the agent is on this host, else a copy through the protocol (journal-read,
 * docs/protocol.md), as the workbench's JournalCopy does. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* The copy and its private directory, removed at exit and on the signals that end us
 * (the handler that was there before, sshfwd's, runs after) */
static char copy_dir[4096], copy_path[4200];
static struct sigaction prev[4];
static const int sigs[4] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };

static void remove_copy(void)
{
	if (copy_path[0])
		unlink(copy_path);
	if (copy_dir[0])
		rmdir(copy_dir);
}

static void on_signal(int sig)
{
	remove_copy();
	for (int i = 0; i < 4; i++)
		if (sigs[i] == sig && prev[i].sa_handler != SIG_DFL && prev[i].sa_handler != SIG_IGN &&
		    !(prev[i].sa_flags & SA_SIGINFO)) {
			prev[i].sa_handler(sig);
			return;
		}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Whether the agent runs on this host's boot (an agent without boot_id: yes). */
static int same_boot(struct cli *c)
{
	char ours[64] = "";
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (f) {
		if (!fgets(ours, sizeof ours, f))
			ours[0] = 0;
		fclose(f);
	}
	ours[strcspn(ours, "\n")] = 0;
	json_t *info = cli_call(c, "agent-info", NULL);
	const char *theirs = json_string_value(json_object_get(info, "boot_id"));
	int same = !theirs || !strcmp(theirs, ours);
	json_decref(info);
	return same;
}

static int unhex(char ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* The file as it was at the first reply, into fd. */
static void copy(struct cli *c, const char *vm, int fd, const char *path)
{
	long long off = 0, size = -1;
	do {
		json_t *r = cli_call(c, "journal-read", json_pack("{s:s, s:I}", "vm", vm, "offset", (json_int_t)off));
		const char *hex = json_string_value(json_object_get(r, "data"));
		size_t n = hex ? strlen(hex) : 0;
		if (!hex || n % 2 || json_integer_value(json_object_get(r, "offset")) != off)
			cli_die("journal-read: a reply that is not the piece at %lld", off);
		if (size < 0)
			size = json_integer_value(json_object_get(r, "size"));
		unsigned char buf[4096];
		size_t len = 0, keep = (size_t)(size - off) < n / 2 ? (size_t)(size - off) : n / 2;
		for (size_t i = 0; i < keep; i++) {
			int hi = unhex(hex[2 * i]), lo = unhex(hex[2 * i + 1]);
			if (hi < 0 || lo < 0)
				cli_die("journal-read: data is not hex");
			buf[len++] = (unsigned char)(hi << 4 | lo);
			if (len == sizeof buf || i + 1 == keep) {
				if (write(fd, buf, len) != (ssize_t)len)
					cli_die("export: writing %s: %s", path, strerror(errno));
				len = 0;
			}
		}
		json_decref(r);
		if (!keep)
			break; /* shorter than it was (a new journal): what there is */
		off += (long long)keep;
	} while (off < size);
}

void cli_journal_local(struct cli *c, const char *vm, char *path, size_t cap)
{
	json_t *info = cli_call(c, "journal-info", json_pack("{s:s}", "vm", vm));
	const char *p = json_string_value(json_object_get(info, "path"));
	if (p && !c->target[0] && access(p, R_OK) == 0 && same_boot(c)) {
		snprintf(path, cap, "%s", p);
		json_decref(info);
		return;
	}
	json_decref(info);
	const char *t = getenv("TMPDIR");
	snprintf(copy_dir, sizeof copy_dir, "%s/hprobe-journal-XXXXXX", t && *t == '/' ? t : "/tmp");
	if (!mkdtemp(copy_dir)) {
		int e = errno;
		copy_dir[0] = 0;
		cli_die("export: cannot make a temporary directory under %s: %s", t && *t == '/' ? t : "/tmp",
			strerror(e));
	}
	atexit(remove_copy);
	for (int i = 0; i < 4; i++) {
		struct sigaction sa = { .sa_handler = on_signal };
		sigemptyset(&sa.sa_mask);
		sigaction(sigs[i], &sa, &prev[i]);
	}
	snprintf(copy_path, sizeof copy_path, "%s/journal.hpj", copy_dir);
	int fd = open(copy_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		cli_die("export: cannot create %s: %s", copy_path, strerror(errno));
	copy(c, vm, fd, copy_path);
	if (close(fd))
		cli_die("export: writing %s: %s", copy_path, strerror(errno));
	snprintf(path, cap, "%s", copy_path);
}
