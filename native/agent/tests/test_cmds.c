/* VM-thread commands and the session restore on a fake VM (no QEMU): sym-search's
 * paging bounds (an offset near 2^61 once wrapped offset + limit and overflowed the
 * result array), strings that are not UTF-8 in errors and summaries, a restored
 * session.json checked field by field (a bad "args" once copied past a hit's 6
 * argument slots), integers range-checked before they are narrowed, and the
 * guardian's watch given back however the VM ends (a failed attach leaked it), and
 * the paths the main thread reads set before the VM's thread starts. */
#include <fcntl.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "btf_synth.h"
#include "fake_backend.h"
#include "detectors/detector.h"
#include "guest/kernel.h"
#include "hp_test.h"
#include "probes/probe.h"
#include "proto/commands.h"
#include "vm/session.h"
#include "vm/vm.h"

#define NSYMS 1000

static struct hp_host host;

static json_t *run(struct hp_vm *vm, hp_job_fn fn, const char *args_json, int *rc)
{
	json_error_t je;
	struct hp_job *job = hp_job__new(fn, 0, NULL);
	REQUIRE(job);
	json_decref(job->args);
	job->args = json_loads(args_json, 0, &je);
	REQUIRE(job->args);
	*rc = fn(vm, job);
	json_t *r = job->result ? json_incref(job->result) : NULL;
	hp_job__free(job);
	return r;
}

/* sym-lookup: inside a function, at its start, past the kernel's text, user space; a
 * bad element refused before anything is looked up. */
static void test_sym_lookup(struct hp_vm *vm)
{
	int rc;
	json_t *r = run(vm, hp_cmd__sym_lookup,
			"{\"vm\":\"unit\",\"addrs\":[\"0xffffffff81000510\",\"0xffffffff81000500\","
			"\"0xffffffff9f000000\",\"0x401000\"]}",
			&rc);
	CHECK_EQ_INT(rc, 0);
	json_t *s = json_object_get(r, "symbols");
	CHECK_EQ_INT(json_array_size(s), 4);
	CHECK_STR(json_string_value(json_array_get(s, 0)), "func_0005+0x10");
	CHECK_STR(json_string_value(json_array_get(s, 1)), "func_0005");
	CHECK(json_is_null(json_array_get(s, 2)));
	CHECK(json_is_null(json_array_get(s, 3)));
	json_decref(r);
	const char *bad[] = { "{\"vm\":\"unit\",\"addrs\":\"0x1\"}", "{\"vm\":\"unit\",\"addrs\":[1]}",
			      "{\"vm\":\"unit\",\"addrs\":[\"0x1\",\"1\"]}" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = run(vm, hp_cmd__sym_lookup, bad[i], &rc);
		CHECK(rc < 0);
		json_decref(r);
	}
}

static void test_sym_search(struct hp_vm *vm)
{
	int rc;
	json_t *r =
		run(vm, hp_cmd__sym_search, "{\"vm\":\"unit\",\"pattern\":\"func_\",\"offset\":10,\"limit\":5}", &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "total")), NSYMS);
	json_t *syms = json_object_get(r, "symbols");
	CHECK_EQ_INT(json_array_size(syms), 5);
	CHECK_STR(json_string_value(json_object_get(json_array_get(syms, 0), "name")), "func_0010");
	json_decref(r);

	/* the last page is short; past the end is empty */
	r = run(vm, hp_cmd__sym_search, "{\"vm\":\"unit\",\"pattern\":\"\",\"offset\":998,\"limit\":100}", &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(json_array_size(json_object_get(r, "symbols")), 2);
	json_decref(r);
	r = run(vm, hp_cmd__sym_search, "{\"vm\":\"unit\",\"pattern\":\"\",\"offset\":5000,\"limit\":100}", &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(json_array_size(json_object_get(r, "symbols")), 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "total")), NSYMS);
	json_decref(r);

	/* 2^61 + 100 slots of 8 bytes wrap to 800 bytes: refused, not overflowed */
	r = run(vm, hp_cmd__sym_search, "{\"vm\":\"unit\",\"pattern\":\"\",\"offset\":2305843009213693952}", &rc);
	CHECK(rc < 0);
	json_decref(r);
	r = run(vm, hp_cmd__sym_search,
		"{\"vm\":\"unit\",\"pattern\":\"\",\"offset\":9223372036854775807,\"limit\":100000}", &rc);
	CHECK(rc < 0);
	json_decref(r);
}

/* Every string a reply or error carries must be valid UTF-8 (json_pack refuses
 * anything else, and the client was then dropped with no answer). */
static void test_foreign_bytes(struct hp_vm *vm)
{
	/* probe-add quotes the spec in its error, cut to the message's 256 bytes */
	char args[1024], spec[512] = "app:/x/";
	for (int i = 0; i < 110; i++)
		strcat(spec, "\u00e9");
	snprintf(args, sizeof args, "{\"vm\":\"unit\",\"spec\":\"%s\"}", spec);
	json_error_t je;
	struct hp_job *job = hp_job__new(hp_cmd__probe_add, 1, NULL);
	json_decref(job->args);
	job->args = json_loads(args, 0, &je);
	REQUIRE(job->args);
	CHECK(hp_cmd__probe_add(vm, job) < 0);
	json_t *msg = json_string(job->err.msg);
	if (!msg)
		fprintf(stderr, "error message is not UTF-8\n");
	CHECK(msg != NULL);
	json_decref(msg);
	hp_job__free(job);

	/* a guest banner (the kernel release) with a byte that is no UTF-8: the VM stays
	 * in vm-list */
	snprintf(vm->kernel_release, sizeof vm->kernel_release, "6.1.0-\xff\xfe-amd64");
	snprintf(vm->qemu_version, sizeof vm->qemu_version, "8.2.\xc3");
	json_t *sum = hp_vm__summary(vm);
	CHECK(sum != NULL);
	CHECK_STR(json_string_value(json_object_get(sum, "name")), "unit");
	json_decref(sum);
	vm->kernel_release[0] = vm->qemu_version[0] = 0;
}

/* Detector configs: a pid is range-checked as the JSON integer, before the 32-bit cut
 * (2^32 + 5 once became pid 5, 2^31 a negative pid: "any process"). */
static void test_detector_ints(struct hp_vm *vm)
{
	static const char *const bad[] = {
		"{\"pid\": 4294967301}",
		"{\"pid\": 2147483648}",
		"{\"pid\": -1}",
		"{\"pid\": 0}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_error_t je;
		json_t *cfg = json_loads(bad[i], 0, &je);
		enum hp_eclass cls;
		struct hp_err err;
		struct hp_detector *d = hp_detector__add(&vm->tgt, "loop", cfg, &cls, &err);
		if (d)
			fprintf(stderr, "loop detector took %s\n", bad[i]);
		CHECK(d == NULL);
		if (d)
			hp_detector__remove(&vm->tgt, d->id, &err);
		json_decref(cfg);
	}
	/* the same config with a good pid is taken: the refusals above are the pid's */
	json_t *cfg = json_pack("{s:i}", "pid", 5);
	enum hp_eclass cls;
	struct hp_err err;
	struct hp_detector *d = hp_detector__add(&vm->tgt, "loop", cfg, &cls, &err);
	if (!d)
		fprintf(stderr, "loop detector: %s\n", err.msg);
	CHECK(d != NULL);
	if (d)
		hp_detector__remove(&vm->tgt, d->id, &err);
	json_decref(cfg);
}

static int has_probe(struct hp_vm *vm, uint32_t id)
{
	return hp_target__probe(&vm->tgt, id) != NULL;
}

static void test_restore(struct hp_vm *vm)
{
	static const char session[] =
		"{\"probes\": ["
		/* 5: args past the 6 slots of a hit */
		" {\"id\": 5, \"spec\": \"kernel:func_0005\", \"args\": 1000, \"enabled\": true, \"pid\": -1},"
		/* 6: negative args */
		" {\"id\": 6, \"spec\": \"kernel:func_0006\", \"args\": -1, \"enabled\": true, \"pid\": -1},"
		/* 7: a pid no kernel has (and that does not fit 32 bits) */
		" {\"id\": 7, \"spec\": \"kernel:func_0007\", \"args\": 1, \"enabled\": true, \"pid\": 99999999999},"
		/* 8: a comm longer than the kernel keeps */
		" {\"id\": 8, \"spec\": \"kernel:func_0008\", \"args\": 1, \"enabled\": true, \"pid\": -1,"
		"  \"comm\": \"a-comm-of-many-many-characters\"},"
		/* 9: a memory capture that does not parse */
		" {\"id\": 9, \"spec\": \"kernel:func_0009\", \"args\": 1, \"enabled\": true, \"pid\": -1, \"mem\": "
		"\"arg9:4\"},"
		/* 10: an unknown kind */
		" {\"id\": 10, \"spec\": \"kernel:func_0010\", \"enabled\": true, \"pid\": -1, \"kind\": \"bogus\"},"
		/* 11: an id out of range */
		" {\"id\": 4294967296, \"spec\": \"kernel:func_0011\", \"enabled\": true, \"pid\": -1},"
		/* 12: args of the wrong type */
		" {\"id\": 12, \"spec\": \"kernel:func_0012\", \"args\": \"3\", \"enabled\": true, \"pid\": -1},"
		/* 20: good */
		" {\"id\": 20, \"spec\": \"kernel:func_0020\", \"args\": 6, \"enabled\": true, \"pid\": -1, \"comm\": "
		"\"sysloop\", \"mem\": \"arg2:s16\", \"kind\": \"capture\", \"regs\": true},"
		" 42, {\"id\": 21}"
		"]}";
	json_error_t je;
	vm->restore = json_loads(session, 0, &je);
	REQUIRE(vm->restore);
	/* a comm filter needs task offsets: this fake kernel has them */
	vm->tgt.kernel->off.task_pid = 100;
	vm->tgt.kernel->off.task_tgid = 104;
	vm->tgt.kernel->off.task_comm = 200;
	vm->tgt.kernel->current_task = 0x1000;
	hp_session__restore_probes(vm);
	for (uint32_t id = 5; id <= 12; id++) {
		if (has_probe(vm, id))
			fprintf(stderr, "probe %u was restored from a bad record\n", id);
		CHECK(!has_probe(vm, id));
	}
	for (struct hp_probe *p = vm->tgt.probes; p; p = p->next) {
		CHECK(p->o.nargs >= 0 && p->o.nargs <= HP_MAX_ARGS);
		CHECK(p->o.pid >= -1);
		CHECK(memchr(p->o.comm, 0, sizeof p->o.comm) != NULL);
	}
	struct hp_probe *good = hp_target__probe(&vm->tgt, 20);
	CHECK(good != NULL);
	if (good) {
		CHECK_EQ_INT(good->o.nargs, 6);
		CHECK_STR(good->o.comm, "sysloop");
		CHECK_STR(good->o.mem_text, "arg2:s16");
		CHECK(good->o.regs);
	}
	CHECK(vm->tgt.next_probe_id > 20);
}

static sem_t job_running, job_may_end;

static int blocking_job(struct hp_vm *vm, struct hp_job *job)
{
	(void)vm;
	(void)job;
	sem_post(&job_running);
	sem_wait(&job_may_end);
	return 0;
}

/* The main thread reads a VM's journal path, console paths and QMP path (vm-list,
 * hits-read, vm-console, vm-attach's duplicate check) with no lock: they must be set
 * before the VM's thread starts, and never written by it. */
static void test_paths_before_thread(const char *dir)
{
	static struct hp_host h;
	struct hp_err err;
	h.outbox.efd = eventfd(0, EFD_NONBLOCK);
	h.guard_fd = -1;
	pthread_mutex_init(&h.outbox.lock, NULL);
	snprintf(h.paths.state_dir, sizeof h.paths.state_dir, "%s/state", dir);
	snprintf(h.paths.socket, sizeof h.paths.socket, "%s/run/hprobed.sock", dir);
	struct hp_vm_config cfg = { .name = "paths", .launch = 1, .smp = 1, .mem_mb = 512 };
	struct hp_vm *vm = hp_vm__create(&h, &cfg, &err);
	REQUIRE(vm);
	sem_init(&job_running, 0, 0);
	sem_init(&job_may_end, 0, 0);
	struct hp_job *job = hp_job__new(blocking_job, 0, NULL);
	job->final = 1;
	REQUIRE(hp_vm__start(vm, job, &err) == 0);
	sem_wait(&job_running); /* the VM's thread runs its first job now */
	CHECK(vm->session_dir[0] != 0);
	CHECK(vm->rundir[0] != 0);
	CHECK(vm->journal_path[0] != 0);
	CHECK(strstr(vm->cfg.console_log, "console.log") != NULL);
	CHECK(strstr(vm->cfg.console_sock, "console.sock") != NULL);
	CHECK(strstr(vm->cfg.qmp, "qmp.sock") != NULL);
	sem_post(&job_may_end);
	hp_vm__destroy(vm);
	for (struct hp_msg *m = h.outbox.head, *n; m; m = n) {
		n = m->next;
		hp_job__free(m->job);
		free(m->line);
		free(m);
	}
	close(h.outbox.efd);
}

/* Return types, and --args / --mem by parameter name (test_params' kernel). */
static void test_by_name(struct hp_vm *vm)
{
	/* return probes: a syscall's long (negative: -errno), another's from BTF */
	static const struct {
		const char *spec, *type, *cls;
		int size, is_errno;
	} rets[] = { { "kernel:__x64_sys_write%return", "long", "int", 8, 1 },
		     { "kernel:ksys_write%return", "int", "int", 4, 0 } };
	for (size_t i = 0; i < sizeof rets / sizeof rets[0]; i++) {
		struct hp_probe_opts o = { .pid = -1, .kind = HP_PROBE_CAPTURE };
		enum hp_eclass cls;
		struct hp_err err = { "" };
		struct hp_probe *rp = hp_probe__create(&vm->tgt, rets[i].spec, &o, &cls, &err);
		CHECK(rp != NULL);
		if (!rp) {
			fprintf(stderr, "%s: %s\n", rets[i].spec, err.msg);
			continue;
		}
		json_t *pj = hp_probe__json(rp), *jo = json_object_get(pj, "ret_type");
		CHECK_STR(json_string_value(json_object_get(jo, "type")), rets[i].type);
		CHECK_STR(json_string_value(json_object_get(jo, "class")), rets[i].cls);
		CHECK_EQ_INT(json_integer_value(json_object_get(jo, "size")), rets[i].size);
		CHECK_EQ_INT(json_is_true(json_object_get(jo, "errno")), rets[i].is_errno);
		CHECK(json_object_get(pj, "params") == NULL);
		json_decref(pj);
		hp_probe__destroy(&vm->tgt, rp);
	}

	/* --args by name: up to the last one named; an unknown name is refused, naming it */
	static const struct {
		const char *spec, *names;
		int nargs;
		const char *err;
	} byname[] = {
		{ "kernel:__x64_sys_write", "count", 3, NULL },
		{ "kernel:__x64_sys_write", "fd", 1, NULL },
		{ "kernel:ksys_write", "buf, fd", 2, NULL },
		{ "kernel:ksys_write", "fd,cnt", 0, "no parameter 'cnt' (its parameters: fd, buf, count, arg4, pid)" },
		{ "kernel:bad_names", "x", 0, "are not known here" },
		{ "kernel:ksys_write+5", "fd", 0, "are not known here" },
		{ "kernel:ksys_write%return", "fd", 0, "a return probe" },
	};
	for (size_t i = 0; i < sizeof byname / sizeof byname[0]; i++) {
		struct hp_probe_opts o = { .pid = -1, .kind = HP_PROBE_CAPTURE };
		enum hp_eclass cls;
		struct hp_err err = { "" };
		snprintf(o.args_names, sizeof o.args_names, "%s", byname[i].names);
		struct hp_probe *bp = hp_probe__create(&vm->tgt, byname[i].spec, &o, &cls, &err);
		CHECK_EQ_INT(bp != NULL, byname[i].err == NULL);
		if (bp) {
			CHECK_EQ_INT(bp->o.nargs, byname[i].nargs);
			hp_probe__destroy(&vm->tgt, bp);
		} else if (!strstr(err.msg, byname[i].err)) {
			fprintf(stderr, "--args %s on %s: '%s'\n", byname[i].names, byname[i].spec, err.msg);
			CHECK(0);
		}
	}

	/* --mem at a parameter by name: resolved to its position; a count stays a count */
	static const struct {
		const char *mem;
		int ok, src, index;
	} mems[] = { { "buf:s16", 1, HP_MEM_ARG, 2 },
		     { "count+8:4", 1, HP_MEM_ARG, 3 },
		     { "arg3:8", 1, HP_MEM_ARG, 3 },
		     { "rsi:8", 1, HP_MEM_REG, HP_REG_RSI },
		     { "cnt:8", 0, 0, 0 } };
	for (size_t i = 0; i < sizeof mems / sizeof mems[0]; i++) {
		struct hp_probe_opts o = { .pid = -1, .kind = HP_PROBE_CAPTURE, .nargs = 3 };
		enum hp_eclass cls;
		struct hp_err err = { "" };
		REQUIRE(hp_probe__parse_mem_opts(mems[i].mem, &o, &err) == 0);
		struct hp_probe *mp = hp_probe__create(&vm->tgt, "kernel:__x64_sys_write", &o, &cls, &err);
		CHECK_EQ_INT(mp != NULL, mems[i].ok);
		if (mp) {
			CHECK_EQ_INT(mp->o.mem.src, mems[i].src);
			CHECK_EQ_INT(mp->o.mem.index, mems[i].index);
			CHECK_STR(mp->o.mem_text, mems[i].mem);
			CHECK_EQ_INT(mp->o.nargs, 3);
			hp_probe__destroy(&vm->tgt, mp);
		} else {
			CHECK(strstr(err.msg, "no parameter 'cnt' (its parameters: fd, buf, count)") != NULL);
		}
	}

	/* through the command: a count, names, or else refused */
	static const char *const bad_args[] = { "[1]", "\"\"", "4294967297", "-1", "7", "true" };
	for (size_t i = 0; i < sizeof bad_args / sizeof bad_args[0]; i++) {
		char req[160];
		int rc;
		snprintf(req, sizeof req, "{\"vm\":\"unit\",\"spec\":\"kernel:ksys_write\",\"args\":%s}", bad_args[i]);
		json_decref(run(vm, hp_cmd__probe_add, req, &rc));
		CHECK(rc < 0);
	}
	int arc;
	json_t *made =
		run(vm, hp_cmd__probe_add, "{\"vm\":\"unit\",\"spec\":\"kernel:ksys_write\",\"args\":\"count\"}", &arc);
	CHECK_EQ_INT(arc, 0);
	struct hp_probe *mk = hp_target__probe(&vm->tgt, (uint32_t)json_integer_value(json_object_get(made, "id")));
	CHECK(mk != NULL);
	if (mk) {
		CHECK_EQ_INT(mk->o.nargs, 3);
		hp_probe__destroy(&vm->tgt, mk);
	}
	json_decref(made);
}

/* Parameters of probed functions: a syscall's from its metadata in guest memory (the
 * kernel's layout: name@0, nb_args@12, types@16, args@24), another function's from
 * BTF; hostile metadata leaves a probe without names, never without the probe. */
#define META 0xffffffff82000000ull
static int params_of(struct hp_vm *vm, const char *spec, struct hp_param *out, char *from)
{
	struct hp_probe_opts o = { .pid = -1, .kind = HP_PROBE_CAPTURE, .nargs = 3 };
	enum hp_eclass cls;
	struct hp_err err;
	struct hp_probe *p = hp_probe__create(&vm->tgt, spec, &o, &cls, &err);
	if (!p) {
		fprintf(stderr, "%s: %s\n", spec, err.msg);
		return -1;
	}
	int n = p->nparams;
	memcpy(out, p->params, sizeof p->params);
	strcpy(from, p->params_from);
	json_t *j = hp_probe__json(p);
	CHECK_EQ_INT((int)json_array_size(json_object_get(j, "params")), n);
	json_decref(j);
	hp_probe__destroy(&vm->tgt, p);
	return n;
}

/* probe-list "removed": a removed probe's description stays for its hits in the journal
 * (its parameters' names), the newest HP_REMOVED_KEPT; a plain probe-list has none. */
static void test_removed(struct hp_vm *vm)
{
	struct hp_param p[HP_MAX_ARGS];
	char from[24];
	int rc;
	for (int i = 0; i < HP_REMOVED_KEPT + 10; i++)
		params_of(vm, "kernel:ksys_write", p, from);
	CHECK_EQ_INT(params_of(vm, "kernel:__x64_sys_write", p, from), 3);
	json_t *live = run(vm, hp_cmd__probe_list, "{\"vm\":\"x\"}", &rc);
	json_t *all = run(vm, hp_cmd__probe_list, "{\"vm\":\"x\",\"removed\":true}", &rc);
	CHECK_EQ_INT(rc, 0);
	size_t n = json_array_size(live);
	CHECK_EQ_INT((int)json_array_size(all), (int)n + HP_REMOVED_KEPT);
	json_t *last = json_array_get(all, json_array_size(all) - 1);
	CHECK_STR(json_string_value(json_object_get(last, "spec")), "kernel:__x64_sys_write");
	CHECK_STR(json_string_value(json_object_get(last, "state")), "removed");
	CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(last, "params"), 1), "name")),
		  "buf");
	CHECK(json_integer_value(json_object_get(last, "id")) >
	      json_integer_value(json_object_get(json_array_get(all, n), "id"))); /* the oldest went */
	json_decref(live);
	json_decref(all);
}

static void test_params(struct hp_vm *vm, struct fake *f)
{
	static const char text[] = "ffffffff81000000 T __x64_sys_write\n"
				   "ffffffff81000100 T ksys_write\n"
				   "ffffffff81000200 T bad_names\n"
				   "ffffffff81000300 T do_exit\n"
				   "ffffffff82000000 d __syscall_meta__write\n";
	struct hp_kernel *k = vm->tgt.kernel;
	struct hp_symtab *own = k->syms;
	struct hp_param p[HP_MAX_ARGS];
	char from[24];
	REQUIRE(hp_symtab__parse_text(text, sizeof text - 1, &k->syms, NULL, NULL) == 0);
	k->off.syscall_meta = 1;
	k->off.meta_nb_args = 12;
	k->off.meta_types = 16;
	k->off.meta_args = 24;
	k->off.meta_size = 32;
	uint8_t *m = fake_map(f, META, 0x1000);
	static const char *const names[] = { "fd", "buf", "count" };
	static const char *const types[] = { "unsigned int", "const char __user *", "size_t" };
	for (int i = 0; i < 3; i++) {
		fake_put64(f, META + 0x100 + 8 * i, META + 0x200 + 0x40 * i); /* args[i] */
		fake_put64(f, META + 0x180 + 8 * i, META + 0x400 + 0x40 * i); /* types[i] */
		strcpy((char *)m + 0x200 + 0x40 * i, names[i]);
		strcpy((char *)m + 0x400 + 0x40 * i, types[i]);
	}
	fake_put32(f, META + 12, 3);
	fake_put64(f, META + 16, META + 0x180);
	fake_put64(f, META + 24, META + 0x100);

	CHECK_EQ_INT(params_of(vm, "kernel:__x64_sys_write", p, from), 3);
	CHECK_STR(from, "syscall metadata");
	CHECK_STR(p[0].name, "fd");
	CHECK_EQ_INT(p[0].cls, HP_PARAM_UINT);
	CHECK_EQ_INT(p[0].size, 4);
	CHECK_STR(p[1].type, "const char *");
	CHECK_EQ_INT(p[1].cls, HP_PARAM_STR);
	CHECK_STR(p[2].name, "count");
	CHECK_EQ_INT(p[2].cls, HP_PARAM_UINT); /* size_t through the BTF */
	CHECK_EQ_INT(p[2].size, 8);
	CHECK_EQ_INT(params_of(vm, "kernel:ksys_write", p, from), 5);
	CHECK_STR(from, "btf");
	CHECK_STR(p[3].name, "arg4");
	CHECK_EQ_INT(params_of(vm, "kernel:bad_names", p, from), 0);    /* not identifiers */
	CHECK_EQ_INT(params_of(vm, "kernel:ksys_write+5", p, from), 0); /* not at the entry */

	/* a type too long to show: names kept, the value raw */
	memset(m + 0x440, 'x', 0x40);
	CHECK_EQ_INT(params_of(vm, "kernel:__x64_sys_write", p, from), 3);
	CHECK_STR(p[1].type, "?");
	CHECK_EQ_INT(p[1].cls, HP_PARAM_RAW);
	strcpy((char *)m + 0x440, types[1]);
	/* a guest's lies: each one costs the names, not the probe */
	strcpy((char *)m + 0x240, "b f");
	CHECK_EQ_INT(params_of(vm, "kernel:__x64_sys_write", p, from), 0);
	memset(m + 0x240, 'y', 0x40); /* no NUL in reach */
	CHECK_EQ_INT(params_of(vm, "kernel:__x64_sys_write", p, from), 0);
	strcpy((char *)m + 0x240, "buf");
	fake_put64(f, META + 0x108, 0xffff800000000000ull); /* unmapped */
	CHECK_EQ_INT(params_of(vm, "kernel:__x64_sys_write", p, from), 0);
	fake_put64(f, META + 0x108, META + 0xffe); /* 2 bytes before the end of the mapping */
	CHECK_EQ_INT(params_of(vm, "kernel:__x64_sys_write", p, from), 0);
	fake_put64(f, META + 0x108, META + 0x240);
	fake_put32(f, META + 12, 7);
	CHECK_EQ_INT(params_of(vm, "kernel:__x64_sys_write", p, from), 0);
	fake_put32(f, META + 12, 0xffffffffu);
	CHECK_EQ_INT(params_of(vm, "kernel:__x64_sys_write", p, from), 0);
	fake_put32(f, META + 12, 3);
	fake_put64(f, META + 16, 0x10); /* types array at a null page */
	CHECK_EQ_INT(params_of(vm, "kernel:__x64_sys_write", p, from), 0);
	fake_put64(f, META + 16, META + 0x180);
	CHECK_EQ_INT(params_of(vm, "kernel:__x64_sys_write", p, from), 3);

	test_by_name(vm);
	test_removed(vm);
	hp_symtab__free(k->syms);
	k->syms = own;
}

int main(void)
{
	char dir[] = "/tmp/hp-cmds-XXXXXX";
	REQUIRE(mkdtemp(dir));
	struct fake *f = fake_new();
	struct hp_vm *vm = fake_vm_new(&host, f, dir, NSYMS);
	REQUIRE(vm);
	test_sym_search(vm);
	test_sym_lookup(vm);
	test_foreign_bytes(vm);
	test_restore(vm);
	test_detector_ints(vm);
	test_params(vm, f);
	test_paths_before_thread(dir);
	while (vm->tgt.probes)
		hp_probe__destroy(&vm->tgt, vm->tgt.probes);
	vm->tgt.gdb = NULL;
	/* a VM whose gdbstub the guardian watches, ending without a detach job (a failed
	 * attach, a launch that died): the guardian hears that it is no longer to be
	 * released, or its 64 slots fill up with dead VMs */
	int gp[2];
	REQUIRE(pipe2(gp, O_NONBLOCK) == 0);
	host.guard_fd = gp[1];
	snprintf(vm->gdb_path, sizeof vm->gdb_path, "/tmp/hp-cmds-gdb.sock");
	hp_vm__destroy(vm);
	char said[256] = "";
	ssize_t n = read(gp[0], said, sizeof said - 1);
	said[n > 0 ? n : 0] = 0;
	CHECK_STR(said, "- /tmp/hp-cmds-gdb.sock\t\n"); /* "- GDB\tMONITOR" */
	close(gp[0]);
	close(gp[1]);
	fake_free(f);
	fake_host_free(&host);
	char cmd[64];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(cmd), 0);
	TEST_MAIN_END();
}
