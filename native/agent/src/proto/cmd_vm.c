/* VM commands that run on the VM's worker thread: pause/resume, the process list,
 * symbol search and disassembly. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "base/sysroot.h"
#include "base/text.h"
#include "base/util.h"
#include "guest/disas.h"
#include "guest/kernel.h"
#include "guest/vmi.h"
#include "hprobe/export.h"
#include "hprobe/plugin_proto.h"
#include "probes/apps.h"
#include "proto/commands.h"
#include "vm/session.h"
#include "vm/vm.h"

#define MAX_DISAS 65536
#define MAX_SYM_LIMIT 100000
#define MAX_LOOKUP 4096
#define MAX_SYM_OFFSET 100000000 /* far above any symbol table (a kernel has ~200k) */

static json_t *hexs(uint64_t v)
{
	char b[24];
	snprintf(b, sizeof b, "0x%llx", (unsigned long long)v);
	return json_string(b);
}

int hp_cmd__vm_pause(struct hp_vm *vm, struct hp_job *job)
{
	vm->user_paused = 1; /* the job ran with the VM stopped; it stays so */
	hp_vm__set_state(vm, HP_VM_PAUSED, "paused by a client");
	job->result = json_pack("{s:s}", "state", "paused");
	return 0;
}

int hp_cmd__vm_resume(struct hp_vm *vm, struct hp_job *job)
{
	vm->user_paused = 0;
	if (vm->tgt.gdb) {
		int rc = hp_backend__resume(vm->tgt.gdb, &job->err);
		if (rc)
			return hp_job__fail(job, EC_GUEST_ERROR, rc);
		hp_vm__set_state(vm, HP_VM_RUNNING, NULL);
	}
	job->result = json_pack("{s:s}", "state", hp_vm_state_name(vm->state));
	return 0;
}

static int need_kernel(struct hp_vm *vm, struct hp_job *job)
{
	if (vm->tgt.kernel && vm->tgt.kernel->syms)
		return 0;
	hp_err__set(&job->err, ENOENT, "no kernel profile for %s%s", vm->cfg.name,
		    vm->need_reprofile ? " (the guest rebooted; it is being re-read)" : "");
	return hp_job__fail(job, EC_NOT_SUPPORTED, -ENOENT);
}

/* The in-QEMU tier's own counters: hits it refused by the filter or could not read
 * are invisible in the journal otherwise. */
int hp_cmd__vm_stats(struct hp_vm *vm, struct hp_job *job)
{
	pthread_mutex_lock(&vm->lock);
	json_int_t next = (json_int_t)vm->next_seq, dropped = (json_int_t)vm->dropped;
	pthread_mutex_unlock(&vm->lock);
	json_t *plugin = json_null();
	if (vm->tgt.plugin && vm->state != HP_VM_DEAD) {
		struct hp_pctl_stats st;
		if (hp_backend__stats(vm->tgt.plugin, &st, &job->err))
			return hp_job__fail(job, EC_GUEST_ERROR, -EIO);
		plugin = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i}", "hits", (json_int_t)st.hits, "dropped",
				   (json_int_t)st.dropped, "filtered", (json_int_t)st.filtered, "read_errors",
				   (json_int_t)st.mem_errors, "task_cached", (json_int_t)st.task_cached,
				   "reinstrumentations", (json_int_t)st.resets, "sites", (json_int_t)st.instrumented,
				   "probes", (int)st.nprobes);
		json_object_set_new(plugin, "return_pending", json_integer((json_int_t)st.ret_pending));
		json_object_set_new(plugin, "return_sites", json_integer((json_int_t)st.ret_sites));
	}
	job->result = json_pack("{s:I, s:I, s:o}", "records", next, "dropped", dropped, "plugin", plugin);
	return 0;
}

/* What may change while a VM is monitored: its sysroot ("" for none). Probes
 * already added keep the program file they were resolved in. */
int hp_cmd__vm_set(struct hp_vm *vm, struct hp_job *job)
{
	const char *dir = json_string_value(json_object_get(job->args, "sysroot"));
	int rc;
	if (!dir) {
		hp_err__set(&job->err, EINVAL, "vm-set: nothing to set (sysroot)");
		return hp_job__fail(job, EC_INVALID_ARGUMENT, -EINVAL);
	}
	if (dir[0] && (rc = hp_sysroot__check(dir, &job->err)))
		return hp_job__fail(job, EC_INVALID_ARGUMENT, rc);
	hp_vm__set_sysroot(vm, dir);
	hp_session__save(vm);
	hp_info("%s: sysroot %s", vm->cfg.name, dir[0] ? dir : "none");
	job->result = hp_vm__summary(vm);
	return 0;
}

int hp_cmd__vm_ps(struct hp_vm *vm, struct hp_job *job)
{
	if (need_kernel(vm, job))
		return job->rc;
	struct hp_task *t;
	uint64_t t0 = hp_now_ns();
	int n = hp_vmi__tasks(vm->tgt.kernel, vm->tgt.gdb, &t, &job->err);
	uint64_t t1 = hp_now_ns();
	if (n < 0)
		return hp_job__fail(job, n == -ENOTSUP ? EC_NOT_SUPPORTED : EC_GUEST_ERROR, n);
	json_t *arr = json_array();
	for (int i = 0; i < n; i++) {
		if (t[i].pid == 0)
			continue; /* the idle task is not a process */
		char st[2] = { hp_vmi__state_letter(t[i].state, t[i].exit_state), 0 };
		char comm[HP_COMM_ESC_MAX];
		hp_export__escape(t[i].comm, strnlen(t[i].comm, HP_COMM_LEN), comm, sizeof comm);
		json_t *o = json_pack("{s:i, s:i, s:i, s:s, s:s, s:o, s:b, s:o}", "pid", t[i].pid, "tgid", t[i].tgid,
				      "ppid", t[i].ppid, "comm", comm, "state", st, "cr3", hexs(t[i].cr3), "kernel",
				      t[i].kernel, "task", hexs(t[i].addr));
		json_array_append_new(arr, o);
	}
	free(t);
	job->result = json_pack("{s:o, s:I}", "tasks", arr, "walk_us", (json_int_t)((t1 - t0) / 1000));
	return 0;
}

static void sym_json(json_t *arr, const struct hp_sym *s, uint64_t addr)
{
	/* names come from the guest's kallsyms or an ELF file: any bytes */
	char type[2] = { (unsigned char)s->type < 0x80 && s->type ? s->type : '?', 0 };
	json_array_append_new(arr, json_pack("{s:o, s:o, s:s, s:I}", "name", hp_text__json(s->name, SIZE_MAX), "addr",
					     hexs(addr), "type", type, "size", (json_int_t)s->size));
}

int hp_cmd__sym_search(struct hp_vm *vm, struct hp_job *job)
{
	const char *pat = json_string_value(json_object_get(job->args, "pattern"));
	const char *bin = json_string_value(json_object_get(job->args, "binary"));
	json_int_t limit =
		json_object_get(job->args, "limit") ? json_integer_value(json_object_get(job->args, "limit")) : 100;
	json_int_t offset = json_integer_value(json_object_get(job->args, "offset"));
	if (limit <= 0 || limit > MAX_SYM_LIMIT || offset < 0 || offset > MAX_SYM_OFFSET) {
		hp_err__set(&job->err, EINVAL, "limit must be 1..%d and offset 0..%d", MAX_SYM_LIMIT, MAX_SYM_OFFSET);
		return hp_job__fail(job, EC_INVALID_ARGUMENT, -EINVAL);
	}
	struct hp_symtab *elf = NULL;
	const struct hp_symtab *st;
	if (bin) {
		/* a guest path, found under the VM's sysroot */
		char path[PATH_MAX];
		enum hp_eclass cls;
		int fd, rc = hp_apps__load(&vm->tgt, bin, &elf, &fd, path, sizeof path, &cls, &job->err);
		if (rc)
			return hp_job__fail(job, cls, rc);
		close(fd);
		st = elf;
	} else {
		if (need_kernel(vm, job))
			return job->rc;
		st = vm->tgt.kernel->syms;
	}
	/* paging: the matches of [offset, offset + limit); only as many slots as there
	 * are matches (both bounds are small, so offset + limit cannot wrap) */
	size_t total = hp_symtab__search(st, pat, 0, NULL, 0);
	size_t want = (size_t)offset + (size_t)limit;
	if (want > total)
		want = total;
	const struct hp_sym **res = malloc((want ? want : 1) * sizeof *res);
	if (!res) {
		hp_symtab__free(elf);
		hp_err__set(&job->err, ENOMEM, "out of memory");
		return hp_job__fail(job, EC_INTERNAL, -ENOMEM);
	}
	hp_symtab__search(st, pat, 0, res, want);
	json_t *arr = json_array();
	for (size_t i = (size_t)offset; i < total && i < want; i++)
		sym_json(arr, res[i], elf ? res[i]->addr : hp_kernel__runtime(vm->tgt.kernel, res[i]));
	free(res);
	hp_symtab__free(elf);
	job->result = json_pack("{s:I, s:o}", "total", (json_int_t)total, "symbols", arr);
	return 0;
}

/* Each branch's target as "func+0xoff" (target_sym), as objdump shows it: from the
 * binary's symbols for application code, else the kernel's. */
static void name_targets(json_t *insns, const struct hp_symtab *elf, const struct hp_kernel *k)
{
	size_t i;
	json_t *in;
	json_array_foreach(insns, i, in)
	{
		const char *t = json_string_value(json_object_get(in, "target"));
		char name[HP_SYM_TEXT_MAX];
		uint64_t at;
		if (!t || hp_text__addr(t, &at))
			continue;
		if ((elf ? hp_symtab__describe(elf, at, name, sizeof name)
			 : hp_kernel__describe(k, at, name, sizeof name)) > 0)
			json_object_set_new(in, "target_sym", hp_text__json(name, SIZE_MAX));
	}
}

int hp_cmd__sym_lookup(struct hp_vm *vm, struct hp_job *job)
{
	json_t *addrs = json_object_get(job->args, "addrs"), *v, *out;
	size_t i;
	if (!json_is_array(addrs) || json_array_size(addrs) > MAX_LOOKUP) {
		hp_err__set(&job->err, EINVAL, "addrs: an array of at most %d addresses", MAX_LOOKUP);
		return hp_job__fail(job, EC_INVALID_ARGUMENT, -EINVAL);
	}
	json_array_foreach(addrs, i, v)
	{
		uint64_t a;
		if (!json_is_string(v) || hp_text__addr(json_string_value(v), &a)) {
			hp_err__set(&job->err, EINVAL, "addrs[%zu]: an address as a string (\"0xffffffff81234560\")",
				    i);
			return hp_job__fail(job, EC_INVALID_ARGUMENT, -EINVAL);
		}
	}
	if (need_kernel(vm, job))
		return job->rc;
	out = json_array();
	json_array_foreach(addrs, i, v)
	{
		uint64_t a = 0;
		char name[HP_SYM_TEXT_MAX];
		hp_text__addr(json_string_value(v), &a);
		json_array_append_new(out, hp_kernel__describe(vm->tgt.kernel, a, name, sizeof name) > 0
						   ? hp_text__json(name, SIZE_MAX)
						   : json_null());
	}
	job->result = json_pack("{s:o}", "symbols", out);
	return 0;
}

int hp_cmd__sym_disas(struct hp_vm *vm, struct hp_job *job)
{
	const char *spec = json_string_value(json_object_get(job->args, "spec"));
	struct hp_symtab *elf = NULL;
	const struct hp_sym *s;
	char path[PATH_MAX] = "";
	uint64_t addr;
	int rc, fd = -1;
	if (!strncmp(spec, "app:", 4)) {
		const char *bin = spec + 4, *colon = strrchr(bin, ':');
		if (!colon || colon == bin || (size_t)(colon - bin) >= sizeof path) {
			hp_err__set(&job->err, EINVAL, "expected app:BINARY:FUNC");
			return hp_job__fail(job, EC_INVALID_ARGUMENT, -EINVAL);
		}
		char raw[PATH_MAX];
		enum hp_eclass cls;
		snprintf(raw, sizeof raw, "%.*s", (int)(colon - bin), bin);
		if ((rc = hp_apps__load(&vm->tgt, raw, &elf, &fd, path, sizeof path, &cls, &job->err)))
			return hp_job__fail(job, cls, rc);
		s = hp_symtab__find(elf, colon + 1);
		addr = s ? s->addr : 0;
	} else {
		if (need_kernel(vm, job))
			return job->rc;
		s = hp_symtab__find(vm->tgt.kernel->syms, !strncmp(spec, "kernel:", 7) ? spec + 7 : spec);
		addr = s ? hp_kernel__runtime(vm->tgt.kernel, s) : 0;
	}
	if (!s || (s->type != 'T' && s->type != 't')) {
		hp_symtab__free(elf);
		if (fd >= 0)
			close(fd);
		hp_err__set(&job->err, ENOENT, "no function '%s'", spec);
		return hp_job__fail(job, EC_UNKNOWN_SYMBOL, -ENOENT);
	}
	const char *fname = s->name;
	size_t len = s->size ? s->size : 256;
	if (len > MAX_DISAS)
		len = MAX_DISAS;
	uint8_t *code = malloc(len);
	if (!code) {
		rc = hp_err__set(&job->err, ENOMEM, "out of memory");
	} else if (elf) {
		/* application code comes from the binary, so no guest stop is needed for it */
		long got = hp_elf__read_vaddr_fd(fd, path, addr, code, len, &job->err);
		rc = got < 0 ? (int)got : 0;
		if (got >= 0)
			len = (size_t)got;
	} else {
		rc = hp_backend__read_virt(vm->tgt.gdb, addr, code, len, &job->err);
	}
	if (fd >= 0)
		close(fd);
	struct hp_insn *ins = NULL;
	json_t *arr = NULL;
	int n = rc ? rc : hp_disas__function(code, len, addr, &ins, &arr);
	free(code);
	free(ins);
	if (n < 0) {
		hp_symtab__free(elf);
		if (!rc)
			hp_err__set(&job->err, -n, "disassembler failed");
		return hp_job__fail(job, rc ? EC_GUEST_ERROR : EC_INTERNAL, n);
	}
	name_targets(arr, elf, vm->tgt.kernel);
	job->result = json_pack("{s:o, s:o, s:I, s:o}", "function", hp_text__json(fname, SIZE_MAX), "addr", hexs(addr),
				"size", (json_int_t)len, "insns", arr);
	hp_symtab__free(elf);
	return 0;
}
