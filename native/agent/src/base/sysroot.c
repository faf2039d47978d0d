#include "base/sysroot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "base/util.h"

int hp_sysroot__check(const char *dir, struct hp_err *err)
{
	if (!dir || !dir[0])
		return hp_err__set(err, EINVAL, "the sysroot is empty: give a directory");
	if (strlen(dir) >= PATH_MAX)
		return hp_err__set(err, ENAMETOOLONG, "the sysroot path is too long");
	if (dir[0] != '/')
		return hp_err__set(err, EINVAL, "the sysroot %s is not an absolute path", dir);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return hp_err__set(err, errno, "the sysroot %s cannot be opened as a directory: %s", dir,
				   strerror(errno));
	close(fd);
	return 0;
}

int hp_sysroot__guest_path_ok(const char *path, struct hp_err *err)
{
	if (!path || path[0] != '/')
		return hp_err__set(err, EINVAL, "'%s' is not a guest path: it must start with '/' (e.g. /usr/bin/prog)",
				   path ? path : "");
	size_t n = strnlen(path, PATH_MAX);
	if (n == PATH_MAX)
		return hp_err__set(err, EINVAL, "guest path too long (%d bytes at most)", PATH_MAX - 1);
	char copy[PATH_MAX];
	memcpy(copy, path, n + 1);
	if (hp_utf8__fix(copy) != n || strcmp(copy, path))
		return hp_err__set(err, EINVAL, "guest path '%s' is not valid UTF-8", copy);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
			return hp_err__set(err, EINVAL, "guest path '%.*s...' holds a control character", (int)i, path);
	return 0;
}

const char *hp_sysroot__base(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* openat2 with the sysroot as "/", retried when a concurrent rename makes the kernel
 * refuse to vouch for ".." (EAGAIN). */
static int open_in(int dir, const char *path, uint64_t flags)
{
	struct open_how how = {
		.flags = flags,
		/* magic links (/proc/N/fd/...) would jump out of the root */
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	for (int i = 0;; i++) {
		long fd = syscall(SYS_openat2, dir, path, &how, sizeof how);
		if (fd >= 0)
			return (int)fd;
		if (errno != EAGAIN || i == 8)
			return -errno;
	}
}

int hp_sysroot__open(const char *root, const char *guest_path, char *host, size_t cap, struct hp_err *err)
{
	if (host && cap)
		host[0] = 0;
	int rc = hp_sysroot__guest_path_ok(guest_path, err);
	if (rc)
		return rc;
	if (!root || !root[0])
		return hp_err__set(err, ENOENT, "no sysroot to find %s in", guest_path);
	int dir = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return hp_err__set(err, errno, "the sysroot %s cannot be opened: %s", root, strerror(errno));
	/* first without opening the file itself: a FIFO or a device node in a mounted
	 * image must not be opened at all */
	int p = open_in(dir, guest_path, O_PATH | O_CLOEXEC), fd = -1;
	struct stat a, b;
	if (p == -ENOSYS || p == -E2BIG) {
		rc = hp_err__set(err, ENOSYS,
				 "this host's kernel has no openat2 (Linux 5.6 or later is needed to open "
				 "guest files under a sysroot safely)");
	} else if (p < 0) {
		rc = hp_err__set(err, -p, "%s is not under the sysroot %s: %s", guest_path, root, strerror(-p));
	} else if (fstat(p, &a) || !S_ISREG(a.st_mode)) {
		rc = hp_err__set(err, EINVAL, "%s under the sysroot %s is not a regular file", guest_path, root);
	} else if ((fd = open_in(dir, guest_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
		rc = hp_err__set(err, -fd, "%s under the sysroot %s cannot be read: %s", guest_path, root,
				 strerror(-fd));
	} else if (fstat(fd, &b) || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		rc = hp_err__set(err, EAGAIN, "%s under the sysroot %s changed while it was opened", guest_path, root);
	}
	if (!rc && host && cap) {
		char link[64];
		ssize_t n = -1;
		if (snprintf(link, sizeof link, "/proc/self/fd/%d", fd) < (int)sizeof link)
			n = readlink(link, host, cap - 1);
		if (n > 0 && (size_t)n < cap - 1) {
			host[n] = 0;
		} else if (hp_pathf(host, cap, "%s%s", root, guest_path)) {
			host[0] = 0; /* messages say the guest path then */
		}
	}
	if (p >= 0)
		close(p);
	if (rc && fd >= 0)
		close(fd);
	close(dir);
	return rc ? rc : fd;
}
