/* The agent's own directories and files: its state directory, its socket's
 * directory, its log. They must be its own, so that nobody else can read them,
 * swap them or point them elsewhere. */
#ifndef HP_FILES_H
#define HP_FILES_H
#include "hprobe/common.h"

/* Makes dir the agent's private directory: missing components are created 0700; the
 * directory itself must be a real directory (not a symlink) owned by the agent's
 * user, and is made 0700 if it was open to others. A component that lies in a
 * world-writable directory (the /tmp fallbacks) must be a real directory of the
 * agent's user too: anyone could have made it first. 0 or -errno with err set. */
int hp_files__private_dir(const char *dir, struct hp_err *err);

/* Opens a log file for appending: never through a symlink, only a regular file of
 * the agent's user, created 0600. The fd, or -errno with err set. */
int hp_files__open_log(const char *path, struct hp_err *err);
#endif
