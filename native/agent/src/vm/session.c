#include "vm/session.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/qmp.h"
#include "base/util.h"
#include "detectors/detector.h"
#include "probes/agg.h"
#include "probes/probe.h"
#include "vm/vm.h"

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
	/* the paths themselves were set before the VM's thread started (vm.c) */
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
	for (struct hp_probe *p = vm->tgt.probes; p; p = p->next) {
		if (p->o.owner)
			continue; /* detectors re-create their own probes */
		json_t *o =
			json_pack("{s:i, s:s, s:i, s:b, s:s, s:i, s:s, s:s, s:b, s:s}", "id", p->id, "spec", p->spec,
				  "args", p->o.nargs, "regs", p->o.regs, "mem", p->o.mem_text, "pid", p->o.pid, "comm",
				  p->o.comm, "kind", p->o.kind == HP_PROBE_COUNT ? "count" : "capture", "enabled",
				  p->o.enabled, "if", p->o.cond_text);
		if (p->o.agg_text[0]) /* the definition: the sums start again (the journal has the last) */
			json_object_set_new(o, "agg",
					    json_pack("{s:s, s:i}", "text", p->o.agg_text, "rows", (int)p->o.agg_rows));
		json_array_append_new(probes, o);
	}
	json_t *dets = json_array();
	for (struct hp_detector *d = vm->tgt.detectors; d; d = d->next)
		json_array_append_new(
			dets, json_pack("{s:i, s:s, s:O}", "id", d->id, "kind", d->ops->kind, "config", d->config));
	json_t *s =
		json_pack("{s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:b, s:s, s:s, s:I, s:s, s:o, s:o}", "name",
			  vm->cfg.name, "launched", vm->cfg.launch, "qmp", vm->cfg.launch ? "" : vm->cfg.qmp, "rundir",
			  vm->rundir, "symbols", vm->cfg.symbols, "vmlinux", vm->cfg.vmlinux, "journal",
			  vm->journal_path, "smp", vm->cfg.smp, "mem", vm->cfg.mem_mb, "kaslr", vm->cfg.kaslr,
			  "console_log", vm->cfg.console_log, "console_sock", vm->cfg.console_sock, "qemu_pid",
			  (json_int_t)vm->qemu_pid, "guest_dir", vm->guest_dir, "probes", probes, "detectors", dets);
	json_object_set_new(s, "sysroot", json_string(vm->tgt.sysroot));
	if (vm->cfg.libvirt_domain[0]) {
		/* by UUID: a domain may be renamed while we are away */
		pthread_mutex_lock(&vm->lock);
		const char *uuid = json_string_value(json_object_get(vm->source, "uuid"));
		const char *uri = json_string_value(json_object_get(vm->source, "uri"));
		json_object_set_new(s, "libvirt",
				    json_pack("{s:s, s:s}", "domain", uuid && uuid[0] ? uuid : vm->cfg.libvirt_domain,
					      "connect", uri ? uri : vm->cfg.libvirt_uri));
		pthread_mutex_unlock(&vm->lock);
	}
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

/* ---- recovery after an agent restart ---- */

static void close_session(const char *dir, const char *why)
{
	char from[PATH_MAX + 32], to[PATH_MAX + 32];
	hp_pathf(from, sizeof from, "%s/session.json", dir);
	hp_pathf(to, sizeof to, "%s/session.closed.json", dir);
	hp_warn("closing session %s: %s", dir, why);
	if (rename(from, to))
		hp_warn("cannot close %s", from);
}

static void copy_str(char *dst, size_t cap, json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	if (hp_pathf(dst, cap, "%s", v ? v : ""))
		dst[0] = 0;
}

/* An integer member within [lo, hi], or def when absent; -1 when present but not an
 * integer or out of range. */
static int int_member(json_t *o, const char *k, json_int_t lo, json_int_t hi, json_int_t def, json_int_t *out)
{
	json_t *v = json_object_get(o, k);
	*out = def;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

static int qmp_alive(const struct hp_vm_config *cfg)
{
	struct hp_qmp *q;
	struct hp_err err;
	if (cfg->libvirt_domain[0]
		    ? hp_qmp__connect_libvirt(cfg->libvirt_uri, cfg->libvirt_domain, HP_QMP_NO_EVENTS, &q, &err)
		    : hp_qmp__connect(cfg->qmp, 500, &q, NULL))
		return 0;
	hp_qmp__free(q); /* the attach job opens its own connection */
	return 1;
}

int hp_session__recover(struct hp_host *a)
{
	char dir[PATH_MAX + 16];
	if (hp_pathf(dir, sizeof dir, "%s/sessions", a->paths.state_dir))
		return 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char sdir[PATH_MAX], path[PATH_MAX + 32];
		if (e->d_name[0] == '.' || hp_pathf(sdir, sizeof sdir, "%s/%s", dir, e->d_name) ||
		    hp_pathf(path, sizeof path, "%s/session.json", sdir))
			continue;
		json_t *s = json_load_file(path, 0, NULL);
		if (!s)
			continue;
		struct hp_vm_config cfg = { 0 };
		json_int_t smp, mem;
		copy_str(cfg.name, sizeof cfg.name, s, "name");
		cfg.launch = json_is_true(json_object_get(s, "launched"));
		if (!hp_vm__valid_name(cfg.name) || int_member(s, "smp", 0, 16, 0, &smp) ||
		    int_member(s, "mem", 0, 16384, 0, &mem)) {
			close_session(sdir, "its session.json is damaged (name, smp or mem)");
			json_decref(s);
			continue;
		}
		cfg.smp = (int)smp;
		cfg.mem_mb = (int)mem;
		cfg.kaslr = json_is_true(json_object_get(s, "kaslr"));
		copy_str(cfg.symbols, sizeof cfg.symbols, s, "symbols");
		copy_str(cfg.vmlinux, sizeof cfg.vmlinux, s, "vmlinux");
		copy_str(cfg.console_log, sizeof cfg.console_log, s, "console_log");
		copy_str(cfg.console_sock, sizeof cfg.console_sock, s, "console_sock");
		/* the sysroot as it was last set ("": none); a session from before sysroots: a
		 * lab guest's was its folder */
		if (json_is_string(json_object_get(s, "sysroot")))
			copy_str(cfg.sysroot, sizeof cfg.sysroot, s, "sysroot");
		else if (cfg.launch)
			copy_str(cfg.sysroot, sizeof cfg.sysroot, s, "guest_dir");
		char rundir[PATH_MAX], qmp[PATH_MAX];
		copy_str(rundir, sizeof rundir, s, "rundir");
		copy_str(qmp, sizeof qmp, s, "qmp");
		if (cfg.launch)
			hp_pathf(qmp, sizeof qmp, "%s/qmp.sock", rundir);
		memcpy(cfg.qmp, qmp, sizeof cfg.qmp);
		json_t *lv = json_object_get(s, "libvirt");
		if (lv) {
			copy_str(cfg.libvirt_domain, sizeof cfg.libvirt_domain, lv, "domain");
			copy_str(cfg.libvirt_uri, sizeof cfg.libvirt_uri, lv, "connect");
			cfg.qmp[0] = 0;
		}
		int taken = 0;
		for (struct hp_vm *v = a->vms; v; v = v->next)
			taken |= !strcmp(v->cfg.name, cfg.name);
		struct hp_err err;
		struct hp_vm *vm = NULL;
		if (!cfg.name[0] || taken) {
			close_session(sdir, "a VM of that name is already monitored");
		} else if ((!cfg.qmp[0] && !cfg.libvirt_domain[0]) || !qmp_alive(&cfg)) {
			close_session(sdir, "its VM was gone when the agent restarted");
		} else if ((vm = hp_vm__create(a, &cfg, &err))) {
			memcpy(vm->session_dir, sdir, sizeof vm->session_dir);
			memcpy(vm->rundir, rundir, sizeof vm->rundir);
			copy_str(vm->guest_dir, sizeof vm->guest_dir, s, "guest_dir");
			vm->restore = json_incref(s);
			struct hp_job *job = hp_job__new(hp_vm__attach_job, 0, NULL);
			if (!job) {
				hp_warn("recovering VM %s: out of memory (its session stays for the next start)",
					cfg.name);
				hp_vm__destroy(vm);
				json_decref(s);
				continue;
			}
			vm->next = a->vms;
			a->vms = vm;
			if (hp_vm__start(vm, job, &err)) {
				a->vms = vm->next;
				hp_vm__destroy(vm);
			} else {
				hp_info("recovering VM %s from %s", cfg.name, sdir);
				n++;
			}
		}
		json_decref(s);
	}
	closedir(d);
	return n;
}

/* One saved probe into opts, every field checked as probe-add checks it: the file is
 * ours, but a damaged or edited one must not plant something probe-add would refuse
 * (an "args" past the 6 slots of a hit, a pid cut to 32 bits). */
static int saved_probe(json_t *p, struct hp_probe_opts *o, uint32_t *id, const char **spec, struct hp_err *err)
{
	json_int_t v;
	*o = (struct hp_probe_opts){ .pid = -1 };
	*spec = json_string_value(json_object_get(p, "spec"));
	if (!json_is_object(p) || int_member(p, "id", 1, UINT32_MAX - 1, 0, &v) || !v)
		return hp_err__set(err, EINVAL, "no valid id");
	*id = (uint32_t)v;
	if (!*spec)
		return hp_err__set(err, EINVAL, "no spec");
	if (int_member(p, "args", 0, HP_MAX_ARGS, 0, &v))
		return hp_err__set(err, EINVAL, "args must be 0..%d", HP_MAX_ARGS);
	o->nargs = (int)v;
	if (int_member(p, "pid", -1, HP_PID_MAX, -1, &v) || v == 0)
		return hp_err__set(err, EINVAL, "pid must be -1 (any) or 1..%d", HP_PID_MAX);
	o->pid = (int32_t)v;
	json_t *regs = json_object_get(p, "regs"), *en = json_object_get(p, "enabled");
	if ((regs && !json_is_boolean(regs)) || (en && !json_is_boolean(en)))
		return hp_err__set(err, EINVAL, "regs and enabled must be booleans");
	o->regs = json_is_true(regs);
	o->enabled = json_is_true(en);
	json_t *mem = json_object_get(p, "mem"), *comm = json_object_get(p, "comm"), *kind = json_object_get(p, "kind");
	if ((mem && !json_is_string(mem)) || (comm && !json_is_string(comm)) || (kind && !json_is_string(kind)))
		return hp_err__set(err, EINVAL, "mem, comm and kind must be strings");
	const char *m = json_string_value(mem);
	if (m && m[0] && hp_probe__parse_mem_opts(m, o, err))
		return hp_err__set(err, EINVAL, "bad memory capture");
	const char *c = json_string_value(comm);
	if (c && strlen(c) >= sizeof o->comm)
		return hp_err__set(err, EINVAL, "comm longer than %d characters", HP_COMM_LEN - 1);
	if (c)
		memcpy(o->comm, c, strlen(c) + 1);
	json_t *cond = json_object_get(p, "if");
	if (cond && (!json_is_string(cond) || strlen(json_string_value(cond)) >= sizeof o->cond_text))
		return hp_err__set(err, EINVAL, "if must be a string of up to %zu bytes", sizeof o->cond_text - 1);
	if (cond)
		memcpy(o->cond_text, json_string_value(cond), strlen(json_string_value(cond)) + 1);
	json_t *agg = json_object_get(p, "agg"), *text = json_object_get(agg, "text");
	if (agg && (!json_is_string(text) || strlen(json_string_value(text)) >= sizeof o->agg_text ||
		    int_member(agg, "rows", 0, HP_AGG_ROWS_MAX, 0, &v)))
		return hp_err__set(err, EINVAL, "agg must be {text: up to %zu bytes, rows: 0..%d}",
				   sizeof o->agg_text - 1, HP_AGG_ROWS_MAX);
	if (agg) {
		memcpy(o->agg_text, json_string_value(text), strlen(json_string_value(text)) + 1);
		o->agg_rows = (uint32_t)v;
	}
	const char *k = json_string_value(kind);
	if (k && strcmp(k, "count") && strcmp(k, "capture"))
		return hp_err__set(err, EINVAL, "kind must be capture or count");
	o->kind = k && !strcmp(k, "count") ? HP_PROBE_COUNT : HP_PROBE_CAPTURE;
	return 0;
}

void hp_session__restore_probes(struct hp_vm *vm)
{
	json_t *s = vm->restore;
	size_t i;
	json_t *p;
	uint32_t max_id = 0;
	json_array_foreach(json_object_get(s, "probes"), i, p)
	{
		struct hp_probe_opts o;
		uint32_t id = 0;
		const char *spec;
		enum hp_eclass cls;
		struct hp_err err;
		if (saved_probe(p, &o, &id, &spec, &err)) {
			hp_warn("%s: saved probe %zu (id %u) not restored: %s", vm->cfg.name, i, id, err.msg);
			continue;
		}
		vm->tgt.next_probe_id = id; /* the same id as before the restart: clients still use it */
		if (!hp_probe__create(&vm->tgt, spec, &o, &cls, &err))
			hp_warn("%s: probe %u (%s) not restored: %s", vm->cfg.name, id, spec, err.msg);
		if (id > max_id)
			max_id = id;
	}
	if (vm->tgt.next_probe_id <= max_id)
		vm->tgt.next_probe_id = max_id + 1;
	json_t *d;
	json_array_foreach(json_object_get(s, "detectors"), i, d)
	{
		const char *kind = json_string_value(json_object_get(d, "kind"));
		enum hp_eclass cls;
		struct hp_err err;
		json_int_t did;
		if (!kind || int_member(d, "id", 1, UINT32_MAX - 1, 0, &did) || !did) {
			hp_warn("%s: saved detector %zu not restored: no kind or no valid id", vm->cfg.name, i);
			continue;
		}
		vm->tgt.next_detector_id = (uint32_t)did;
		if (!hp_detector__add(&vm->tgt, kind, json_object_get(d, "config"), &cls, &err))
			hp_warn("%s: detector %s not restored: %s", vm->cfg.name, kind ? kind : "?", err.msg);
	}
	json_decref(vm->restore);
	vm->restore = NULL;
	hp_info("%s: recovered session %s (journal continues at seq %llu)", vm->cfg.name, vm->session_dir,
		(unsigned long long)hp_journal__next_seq(vm->journal));
}
