#include "session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "vm.h"

static int mkdirs(const char *path)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(tmp, 0700) && errno != EEXIST ? -errno : 0;
}

int hp_session__create(struct hp_vm *vm, struct hp_err *err)
{
	char stamp[32], rt[PATH_MAX];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	if (hp_pathf(vm->session_dir, sizeof vm->session_dir, "%s/sessions/%s-%s", vm->agent->paths.state_dir,
		     vm->cfg.name, stamp))
		return hp_err__set(err, ENAMETOOLONG, "state directory path too long");
	snprintf(rt, sizeof rt, "%s", vm->agent->paths.socket);
	char *slash = strrchr(rt, '/');
	if (slash)
		*slash = 0;
	if (hp_pathf(vm->rundir, sizeof vm->rundir, "%s/vms/%s", rt, vm->cfg.name))
		return hp_err__set(err, ENAMETOOLONG, "run directory path too long");
	/* every file name joined to these later is short; the sockets must fit sun_path */
	if (strlen(vm->rundir) + sizeof "/console.sock" > 108 || strlen(vm->session_dir) + 32 > PATH_MAX)
		return hp_err__set(err, ENAMETOOLONG, "run directory %s is too long for Unix sockets", vm->rundir);
	int rc = mkdirs(vm->session_dir);
	if (!rc)
		rc = mkdirs(vm->rundir);
	if (rc)
		return hp_err__set(err, -rc, "cannot create session directories: %s", strerror(-rc));
	return 0;
}

void hp_session__save(struct hp_vm *vm)
{
	json_t *probes = json_array();
	for (struct hp_probe *p = vm->probes; p; p = p->next) {
		if (p->o.owner)
			continue; /* detectors re-create their own probes */
		json_array_append_new(probes, json_pack("{s:i, s:s, s:i, s:b, s:s, s:i, s:s, s:s, s:b}",
			"id", p->id, "spec", p->spec, "args", p->o.nargs, "regs", p->o.regs,
			"mem", p->o.mem_text, "pid", p->o.pid, "comm", p->o.comm,
			"kind", p->o.kind == HP_PROBE_COUNT ? "count" : "capture",
			"enabled", p->o.enabled));
	}
	json_t *s = json_pack("{s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:b, s:s, s:s, s:I, s:o}",
		"name", vm->cfg.name, "launched", vm->cfg.launch, "qmp", vm->cfg.launch ? "" : vm->cfg.qmp,
		"rundir", vm->rundir, "symbols", vm->cfg.symbols, "vmlinux", vm->cfg.vmlinux,
		"journal", vm->journal_path, "smp", vm->cfg.smp, "mem", vm->cfg.mem_mb, "kaslr", vm->cfg.kaslr,
		"console_log", vm->cfg.console_log, "console_sock", vm->cfg.console_sock,
		"qemu_pid", (json_int_t)vm->qemu_pid, "probes", probes);
	char path[PATH_MAX + 32], tmp[PATH_MAX + 32];
	hp_pathf(path, sizeof path, "%s/session.json", vm->session_dir);
	hp_pathf(tmp, sizeof tmp, "%s/.session.json.tmp", vm->session_dir);
	if (json_dump_file(s, tmp, JSON_INDENT(2)) == 0 && rename(tmp, path) == 0)
		;
	else
		hp_warn("%s: cannot write %s", vm->cfg.name, path);
	json_decref(s);
}

void hp_session__remove(struct hp_vm *vm)
{
	char path[PATH_MAX + 32], closed[PATH_MAX + 32];
	hp_pathf(path, sizeof path, "%s/session.json", vm->session_dir);
	hp_pathf(closed, sizeof closed, "%s/session.closed.json", vm->session_dir);
	if (rename(path, closed) && errno != ENOENT)
		hp_warn("%s: cannot close session %s", vm->cfg.name, path);
}
