#include "base/files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The component path[0, end) exists after this, and is checked when it sits in a
 * world-writable parent (or is the directory itself: last). */
static int component(char *path, size_t end, int parent_open, int last, struct hp_err *err)
{
	char keep = path[end];
	struct stat st;
	int rc = 0;
	path[end] = 0;
	if (lstat(path, &st) && errno == ENOENT && mkdir(path, 0700) && errno != EEXIST)
		rc = hp_err__set(err, errno, "cannot create %s: %s", path, strerror(errno));
	else if (lstat(path, &st))
		rc = hp_err__set(err, errno, "cannot stat %s: %s", path, strerror(errno));
	else if ((parent_open || last) && (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()))
		rc = hp_err__set(err, EPERM, "%s is not a directory of uid %u (a symlink, or another user's)", path,
				 (unsigned)geteuid());
	else if (!last && !S_ISDIR(st.st_mode) && stat(path, &st) == 0 && !S_ISDIR(st.st_mode))
		rc = hp_err__set(err, ENOTDIR, "%s is not a directory", path);
	else if (last && (st.st_mode & 0077) && chmod(path, 0700))
		rc = hp_err__set(err, errno, "cannot make %s private: %s", path, strerror(errno));
	path[end] = keep;
	return rc;
}

int hp_files__private_dir(const char *dir, struct hp_err *err)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);
	if (!len || len >= sizeof path)
		return hp_err__set(err, ENAMETOOLONG, "bad directory path: %s", dir);
	memcpy(path, dir, len + 1);
	while (len > 1 && path[len - 1] == '/')
		path[--len] = 0;
	int parent_open = 0;
	for (size_t i = 1; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		int rc = component(path, i, parent_open, i == len, err);
		if (rc)
			return rc;
		/* whether what follows sits in a directory anyone may write to */
		struct stat st;
		char keep = path[i];
		path[i] = 0;
		parent_open = stat(path, &st) == 0 && (st.st_mode & S_IWOTH);
		path[i] = keep;
	}
	return 0;
}

int hp_files__open_log(const char *path, struct hp_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0)
		return hp_err__set(err, errno, "cannot open log %s: %s", path,
				   errno == ELOOP ? "it is a symlink" : strerror(errno));
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		close(fd);
		return hp_err__set(err, EPERM, "log %s is not a regular file of uid %u", path, (unsigned)geteuid());
	}
	return fd;
}
