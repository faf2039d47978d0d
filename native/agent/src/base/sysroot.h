/* A sysroot: a host directory that mirrors a guest's filesystem (an extracted image,
 * a mounted disk, a copy, the lab's guest folder). A guest path ("/usr/sbin/nginx")
 * is opened inside it as if it were the root directory (openat2, RESOLVE_IN_ROOT):
 * ".." stops at it, an absolute symlink inside it means a path inside it, and no path
 * a client or a guest gives reaches any other host file. Guest paths read from guest
 * memory are the guest's bytes: checked here like any other. */
#ifndef HP_SYSROOT_H
#define HP_SYSROOT_H
#include <stddef.h>
#include "hprobe/common.h"

/* Whether dir can be a VM's sysroot: an absolute path (the agent's working directory
 * is not its client's) of a directory the agent can open. 0 or -errno with err set. */
int hp_sysroot__check(const char *dir, struct hp_err *err);

/* Whether path can name a file in a guest: absolute, shorter than PATH_MAX, valid
 * UTF-8 without control characters. 0 or -EINVAL with err set. */
int hp_sysroot__guest_path_ok(const char *path, struct hp_err *err);

/* Opens the regular file the guest knows as guest_path, under root. Returns a
 * read-only fd (O_CLOEXEC, the caller closes it) or -errno with err set:
 * -ENOENT (and other lookup errors) "<guest path> is not under the sysroot <root>: ...",
 * -EINVAL for a guest path that is no path or a file that is not a regular file,
 * -ENOSYS when the host kernel has no openat2 (Linux 5.6+). When host is not NULL it
 * receives the host path of the file opened (symlinks resolved), for messages and for
 * the file's own name. */
int hp_sysroot__open(const char *root, const char *guest_path, char *host, size_t cap, struct hp_err *err);

/* The last component of a path ("" for "/"). */
const char *hp_sysroot__base(const char *path);
#endif
