/* The infinite-loop detector. Method (docs/detectors.md): sample every vCPU's RIP and
 * current task periodically; when one task's samples stay inside one loop of one
 * function (a back-edge found by disassembly) for a window, plant probes on that
 * loop's exits for a confirmation period. A loop whose exit is taken is making
 * progress (spin's work_item, a benchmark): nothing is said. A loop whose exits stay
 * silent while the samples stay in it is stuck: alert, with the function and the
 * loop's address range. Cheap when healthy: a stop per sample, no per-hit probes. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/text.h"
#include "probes/apps.h"
#include "backend/backend.h"
#include "detectors/detector.h"
#include "guest/disas.h"
#include "probes/engine.h"
#include "guest/kernel.h"
#include "probes/probe.h"
#include "base/util.h"
#include "probes/target.h"
#include "guest/vmi.h"

#define MAX_TASKS 64
#define MAX_SAMPLES 64
#define MAX_EXITS 8
#define MAX_CODE 16384
#define MEM_WINDOW 4096 /* a loop found from memory alone: at most this far back and ahead */
#define FORGET_NS 5000000000ull
/* Exit probes are breakpoints filtered on the suspect after the stop: on a path other
 * tasks take, each of their passes stops the VM. Past this many, the confirmation is
 * given up (no verdict) rather than slow the guest. */
#define CONFIRM_MAX_STOPS 256

enum lstate { L_NONE, L_CONFIRMING, L_STUCK };

struct loop_range {
	uint64_t lo, hi; /* [lo, hi): the loop body, back-edge included */
	uint64_t func;
	char name[128];
	char from[16];    /* its code came from: "kernel", "memory" (the process's), "sysroot" */
	char binary[256]; /* the program's guest path ("" unknown) */
	char note[192];   /* why its function has no name, if it has none */
	uint64_t exits[MAX_EXITS];
	int nexits;
};

struct track {
	int32_t pid, tgid;
	char comm[HP_COMM_LEN + 1];
	int vcpu;
	uint64_t rip[MAX_SAMPLES], t[MAX_SAMPLES];
	int n; /* samples kept, newest last */
	uint64_t seen_ns;
	enum lstate st;
	struct loop_range loop;
	struct hp_probe *exit_probes[MAX_EXITS];
	int nprobes;
	uint64_t confirm_from, confirm_until, cooldown_until, stuck_since;
	int confirm_samples; /* samples found in the loop since confirm_from */
	int unreadable;      /* said once: its code could be read from nowhere */
};

struct loopdet {
	uint64_t period_ns, window_ns, confirm_ns, cooldown_ns;
	int scope_user, scope_kernel;
	int32_t pid;
	uint64_t next_sample;
	int job_pending;
	struct track tr[MAX_TASKS];
	int n;
	uint64_t samples, candidates, progressing, stuck, recovered, abandoned;
};

static int get_ms(json_t *cfg, const char *k, int def, uint64_t *out, struct hp_err *err)
{
	json_t *v = json_object_get(cfg, k);
	if (v && (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > 600000))
		return hp_err__set(err, EINVAL, "loop: \"%s\" must be an integer in 1..600000 (ms)", k);
	*out = (uint64_t)(v ? json_integer_value(v) : def) * 1000000ull;
	return 0;
}

static int create(struct hp_target *t, struct hp_detector *d, json_t *cfg, enum hp_eclass *cls, struct hp_err *err)
{
	(void)cls;
	const char *key;
	json_t *v;
	static const char *const keys[] = {
		"period_ms", "window_ms", "confirm_ms", "cooldown_ms", "scope", "pid", NULL
	};
	json_object_foreach(cfg, key, v)
	{
		int ok = 0;
		for (int i = 0; keys[i]; i++)
			ok |= !strcmp(keys[i], key);
		if (!ok)
			return hp_err__set(err, EINVAL,
					   "loop: unknown config key '%s' (period_ms, window_ms, confirm_ms, "
					   "cooldown_ms, scope, pid)",
					   key);
	}
	if (!t->kernel || !hp_kernel__has_task_offsets(t->kernel) || !hp_backend__reads_any_vcpu(t->gdb))
		return hp_err__set(err, ENOTSUP, "loop: needs kernel symbols, BTF and a gdbstub");
	struct loopdet *s = calloc(1, sizeof *s);
	if (!s)
		return hp_err__set(err, ENOMEM, "out of memory");
	int rc = get_ms(cfg, "period_ms", 250, &s->period_ns, err);
	if (!rc)
		rc = get_ms(cfg, "window_ms", 1000, &s->window_ns, err);
	if (!rc)
		rc = get_ms(cfg, "confirm_ms", 1000, &s->confirm_ns, err);
	if (!rc)
		rc = get_ms(cfg, "cooldown_ms", 5000, &s->cooldown_ns, err);
	const char *scope = json_string_value(json_object_get(cfg, "scope"));
	s->scope_user = !scope || !strcmp(scope, "all") || !strcmp(scope, "user");
	s->scope_kernel = !scope || !strcmp(scope, "all") || !strcmp(scope, "kernel");
	if (!rc && !s->scope_user && !s->scope_kernel)
		rc = hp_err__set(err, EINVAL, "loop: scope must be all, user or kernel");
	json_t *pid = json_object_get(cfg, "pid");
	/* checked as the JSON integer, before the 32-bit cut (2^32 + 5 is not pid 5) */
	if (!rc && pid &&
	    (!json_is_integer(pid) || json_integer_value(pid) <= 0 || json_integer_value(pid) > HP_PID_MAX))
		rc = hp_err__set(err, EINVAL, "loop: pid must be 1..%d", HP_PID_MAX);
	s->pid = pid && !rc ? (int32_t)json_integer_value(pid) : -1;
	if (!rc && s->window_ns < 2 * s->period_ns)
		rc = hp_err__set(err, EINVAL, "loop: window_ms must hold at least two samples (>= 2 x period_ms)");
	if (rc) {
		free(s);
		return rc;
	}
	d->priv = s;
	return 0;
}

/* ---- finding the loop a sample is in ---- */

struct code {
	uint64_t func, size; /* runtime addresses */
	char name[128];      /* "?" when no symbol says */
	char from[16];       /* where the bytes came from: "kernel", "memory", "sysroot" */
	char binary[PATH_MAX];
	char note[HP_ERR_MAX]; /* why there are no symbols, when there are none */
	uint8_t *bytes;
};

static int read_kernel(struct hp_target *t, uint64_t rip, struct code *c)
{
	uint64_t off;
	const struct hp_sym *s = hp_kernel__lookup(t->kernel, rip, &off);
	if (!s || (s->type != 'T' && s->type != 't') || !s->size)
		return -ENOENT;
	c->func = rip - off;
	c->size = s->size < MAX_CODE ? s->size : MAX_CODE;
	snprintf(c->name, sizeof c->name, "%s", s->name);
	snprintf(c->from, sizeof c->from, "kernel");
	c->bytes = malloc(c->size);
	if (!c->bytes || hp_backend__read_virt(t->gdb, c->func, c->bytes, c->size, NULL))
		return -EFAULT;
	return 0;
}

/* The function around rip from the program's ELF under the sysroot (its symbols give
 * the bounds), its bytes from the process's memory where they are paged in, else
 * from the file. -ENOENT with why set when the sysroot cannot say. */
static int read_with_symbols(struct hp_target *t, const struct hp_task *task, uint64_t rip, struct code *c, char *why,
			     size_t cap)
{
	struct hp_err err;
	char guest[PATH_MAX], host[PATH_MAX];
	enum hp_eclass cls;
	if (hp_vmi__exe_path(t->kernel, t->gdb, task, guest, sizeof guest, &err)) {
		snprintf(why, cap, "%s", err.msg);
		return -ENOENT;
	}
	snprintf(c->binary, sizeof c->binary, "%s", guest);
	struct hp_symtab *st;
	int fd;
	if (hp_apps__load(t, guest, &st, &fd, host, sizeof host, &cls, &err)) {
		snprintf(why, cap, "%s", err.msg);
		return -ENOENT;
	}
	const struct hp_elf_info *info = hp_symtab__elf_info(st);
	uint64_t bias = info->is_pie ? task->start_code - info->text_vaddr : 0, off;
	const struct hp_sym *s = hp_symtab__lookup_addr(st, rip - bias, &off);
	int rc = -ENOENT;
	if (hp_apps__same_build(t, task, guest, host, info->build_id, &err)) {
		snprintf(why, cap, "%s", err.msg); /* its symbols would lie */
	} else if (!s || (s->type != 'T' && s->type != 't') || !s->size || off >= s->size) {
		snprintf(why, cap, "no function of %.200s holds 0x%llx", guest, (unsigned long long)(rip - bias));
	} else {
		c->func = rip - off;
		c->size = s->size < MAX_CODE ? s->size : MAX_CODE;
		snprintf(c->name, sizeof c->name, "%s", s->name);
		c->bytes = malloc(c->size);
		if (c->bytes && !hp_vmi__read_user(t->kernel, t->gdb, task, c->func, c->bytes, c->size, NULL)) {
			snprintf(c->from, sizeof c->from, "memory");
			rc = 0;
		} else if (c->bytes) {
			long got = hp_elf__read_vaddr_fd(fd, host, c->func - bias, c->bytes, c->size, NULL);
			snprintf(c->from, sizeof c->from, "sysroot");
			rc = got > 0 ? 0 : -EFAULT;
			if (got > 0)
				c->size = (uint64_t)got;
			else
				snprintf(why, cap, "%.100s: its code is neither in memory nor readable in %.100s",
					 guest, host);
		}
	}
	hp_symtab__free(st);
	close(fd);
	return rc;
}

/* No symbols: the code itself, from the process's memory. rip is an instruction
 * boundary; decoding forward from it finds the branches back over it, the innermost
 * of which closes the loop; its target is a boundary too, from which the whole loop
 * decodes. The "function" is then that loop. */
static int read_from_memory(struct hp_target *t, const struct hp_task *task, uint64_t rip, struct code *c, char *why,
			    size_t cap)
{
	uint8_t ahead[MEM_WINDOW];
	size_t n = 0;
	/* page by page: the loop's own page is in memory, the next one may not be */
	while (n < sizeof ahead) {
		size_t chunk = 4096 - (size_t)((rip + n) & 4095);
		if (chunk > sizeof ahead - n)
			chunk = sizeof ahead - n;
		if (hp_vmi__read_user(t->kernel, t->gdb, task, rip + n, ahead + n, chunk, NULL))
			break;
		n += chunk;
	}
	if (!n) {
		snprintf(why, cap, "its code at 0x%llx is not readable in its memory", (unsigned long long)rip);
		return -EFAULT;
	}
	struct hp_insn *in = NULL;
	int ni = hp_disas__function(ahead, n, rip, &in, NULL);
	uint64_t lo = 0, hi = 0;
	for (int i = 0; i < ni; i++)
		if (in[i].target && !in[i].is_call && in[i].target <= rip && rip - in[i].target < MEM_WINDOW &&
		    (!hi || in[i].addr + in[i].size - in[i].target < hi - lo)) {
			lo = in[i].target;
			hi = in[i].addr + in[i].size;
		}
	free(in);
	if (!hi)
		return -ENOENT; /* no branch back over rip: not in a loop */
	c->func = lo;
	c->size = hi - lo;
	snprintf(c->name, sizeof c->name, "?");
	snprintf(c->from, sizeof c->from, "memory");
	c->bytes = malloc(c->size);
	if (!c->bytes || hp_vmi__read_user(t->kernel, t->gdb, task, lo, c->bytes, c->size, NULL)) {
		snprintf(why, cap, "its loop's code at 0x%llx is not readable in its memory", (unsigned long long)lo);
		return -EFAULT;
	}
	return 0;
}

/* The code around rip: 0, -ENOENT (no loop can be there, or nothing to say), or
 * -EFAULT with why set when the code could not be read anywhere. */
static int code_at(struct hp_target *t, const struct hp_task *task, uint64_t rip, struct code *c, char *why, size_t cap)
{
	memset(c, 0, sizeof *c);
	why[0] = 0;
	if (rip >> 63)
		return read_kernel(t, rip, c);
	/* user code: the program's own ELF (sysroot) gives the function; without it the
	 * loop is found in the process's memory alone */
	char nosym[HP_ERR_MAX];
	if (!read_with_symbols(t, task, rip, c, nosym, sizeof nosym))
		return 0;
	char binary[PATH_MAX];
	memcpy(binary, c->binary, sizeof binary);
	free(c->bytes);
	memset(c, 0, sizeof *c);
	memcpy(c->binary, binary, sizeof binary);
	hp_debug("loop: pid %d at 0x%llx: no symbols (%s): reading its code from memory", task->pid,
		 (unsigned long long)rip, nosym);
	int rc = read_from_memory(t, task, rip, c, why, cap);
	snprintf(c->note, sizeof c->note, "%s", nosym);
	if (rc == -EFAULT && nosym[0])
		snprintf(why + strlen(why), cap - strlen(why), "; and no program file: %s", nosym);
	return rc;
}

/* The innermost loop around rip and its exits; 0 if rip is in no loop. */
static int find_loop(const struct code *c, uint64_t rip, struct loop_range *l)
{
	struct hp_insn *in = NULL;
	int n = hp_disas__function(c->bytes, c->size, c->func, &in, NULL);
	if (n <= 0) {
		free(in); /* an empty decode still hands over its array */
		return 0;
	}
	int best = -1;
	for (int i = 0; i < n; i++)
		if (in[i].back_edge && in[i].target <= rip && rip < in[i].addr + in[i].size &&
		    (best < 0 || in[i].addr - in[i].target < in[best].addr - in[best].target))
			best = i;
	if (best < 0) {
		free(in);
		return 0;
	}
	memset(l, 0, sizeof *l);
	l->lo = in[best].target;
	l->hi = in[best].addr + in[best].size;
	l->func = c->func;
	snprintf(l->name, sizeof l->name, "%s", c->name);
	snprintf(l->from, sizeof l->from, "%s", c->from);
	hp_text__copy(l->binary, sizeof l->binary, c->binary);
	hp_text__copy(l->note, sizeof l->note, c->note);
	for (int i = 0; i < n && l->nexits < MAX_EXITS; i++) {
		if (in[i].addr < l->lo || in[i].addr >= l->hi)
			continue;
		if (in[i].is_ret)
			l->exits[l->nexits++] = in[i].addr;
		else if (in[i].target && !in[i].is_call && (in[i].target < l->lo || in[i].target >= l->hi))
			l->exits[l->nexits++] = in[i].target;
		/* a conditional back-edge falls through out of the loop; jmp never does */
		if (i == best && !(c->bytes[in[i].addr - c->func] == 0xeb || c->bytes[in[i].addr - c->func] == 0xe9) &&
		    l->nexits < MAX_EXITS)
			l->exits[l->nexits++] = l->hi;
	}
	free(in);
	return 1;
}

/* ---- sampling (runs as an internal job: the VM is stopped) ---- */

static struct track *track_for(struct loopdet *s, const struct hp_task *task, int vcpu, uint64_t now)
{
	for (int i = 0; i < s->n; i++)
		if (s->tr[i].pid == task->pid) {
			s->tr[i].seen_ns = now;
			s->tr[i].vcpu = vcpu;
			return &s->tr[i];
		}
	if (s->n == MAX_TASKS)
		return NULL;
	struct track *tr = &s->tr[s->n++];
	memset(tr, 0, sizeof *tr);
	tr->pid = task->pid;
	tr->tgid = task->tgid;
	memcpy(tr->comm, task->comm, HP_COMM_LEN);
	tr->seen_ns = now;
	tr->vcpu = vcpu;
	return tr;
}

static void drop_probes(struct hp_target *t, struct track *tr)
{
	for (int i = 0; i < tr->nprobes; i++)
		if (tr->exit_probes[i])
			hp_probe__destroy(t, tr->exit_probes[i]);
	tr->nprobes = 0;
}

static int in_loop_since(const struct track *tr, uint64_t since)
{
	int any = 0;
	for (int i = 0; i < tr->n; i++) {
		if (tr->t[i] < since)
			continue;
		if (tr->rip[i] < tr->loop.lo || tr->rip[i] >= tr->loop.hi)
			return 0;
		any = 1;
	}
	return any;
}

static json_t *loop_json(const struct track *tr)
{
	char lo[24], hi[24];
	snprintf(lo, sizeof lo, "0x%llx", (unsigned long long)tr->loop.lo);
	snprintf(hi, sizeof hi, "0x%llx", (unsigned long long)tr->loop.hi);
	/* the function's name comes from the guest's kallsyms or a guest program's ELF */
	json_t *o = json_pack("{s:i, s:i, s:o, s:i, s:s, s:o, s:s, s:s, s:s}", "pid", tr->pid, "tgid", tr->tgid, "comm",
			      hp_json_comm(tr->comm), "vcpu", tr->vcpu, "scope", tr->loop.lo >> 63 ? "kernel" : "user",
			      "function", hp_text__json(tr->loop.name, sizeof tr->loop.name), "loop_start", lo,
			      "loop_end", hi, "code_from", tr->loop.from);
	if (tr->loop.binary[0])
		json_object_set_new(o, "binary", hp_text__json(tr->loop.binary, sizeof tr->loop.binary));
	if (tr->loop.note[0])
		json_object_set_new(o, "no_symbols", hp_text__json(tr->loop.note, sizeof tr->loop.note));
	return o;
}

/* How far apart the samples since `since` lie: a window wider than a function's code
 * holds no single loop, and no code need be read for it. */
static uint64_t span_since(const struct track *tr, uint64_t since)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	for (int i = 0; i < tr->n; i++) {
		if (tr->t[i] < since)
			continue;
		lo = tr->rip[i] < lo ? tr->rip[i] : lo;
		hi = tr->rip[i] > hi ? tr->rip[i] : hi;
	}
	return hi >= lo ? hi - lo : 0;
}

/* The confirmation is counted in samples as well as in host time: a host that holds
 * QEMU still (loaded, or the process stopped) lets host time pass while the guest does
 * not run, and no sample can be taken then, so a stall delays a verdict instead of
 * making one (a sample right after a long hold once called ksoftirqd stuck). */
static int confirm_need(const struct loopdet *s)
{
	uint64_t n = s->confirm_ns / s->period_ns;
	return n < 2 ? 2 : (int)n; /* n <= 600000: both are ms counts of 1..600000 */
}

static void consider(struct hp_target *t, struct hp_detector *d, struct track *tr, const struct hp_task *task,
		     uint64_t now)
{
	struct loopdet *s = d->priv;
	switch (tr->st) {
	case L_NONE: {
		if (now < tr->cooldown_until || tr->n < 2 || now - tr->t[0] < s->window_ns)
			return;
		/* every sample of the window in one loop of one function */
		uint64_t first = tr->t[tr->n - 1] - s->window_ns;
		struct code c;
		uint64_t rip = tr->rip[tr->n - 1];
		char why[2 * HP_ERR_MAX];
		if (span_since(tr, first) >= MAX_CODE)
			return;
		int rc = code_at(t, task, rip, &c, why, sizeof why);
		if (rc) {
			free(c.bytes);
			if (rc == -EFAULT && !tr->unreadable) {
				/* a loop may be there, and nothing can tell: said once, not judged */
				tr->unreadable = 1;
				char at[24];
				snprintf(at, sizeof at, "0x%llx", (unsigned long long)rip);
				hp_detector__alert(t, d, "loop-unanalysed",
						   json_pack("{s:i, s:i, s:o, s:s, s:o}", "pid", tr->pid, "tgid",
							     tr->tgid, "comm", hp_json_comm(tr->comm), "rip", at,
							     "reason", hp_text__json(why, sizeof why)));
			}
			return;
		}
		int found = find_loop(&c, rip, &tr->loop);
		free(c.bytes);
		if (!found || !in_loop_since(tr, first))
			return;
		s->candidates++;
		for (int i = 0; i < tr->loop.nexits; i++) {
			struct hp_err err;
			tr->exit_probes[tr->nprobes] = hp_probe__create_raw(t, tr->loop.exits[i], tr->pid, d->id, &err);
			if (!tr->exit_probes[tr->nprobes]) {
				/* an exit we may not watch: no confirmation, so no verdict */
				hp_debug("loop: cannot watch exit 0x%llx: %s", (unsigned long long)tr->loop.exits[i],
					 err.msg);
				drop_probes(t, tr);
				tr->cooldown_until = now + s->cooldown_ns;
				return;
			}
			tr->nprobes++;
		}
		tr->st = L_CONFIRMING;
		tr->confirm_from = now;
		tr->confirm_until = now + s->confirm_ns;
		tr->confirm_samples = 0;
		return;
	}
	case L_CONFIRMING: {
		uint64_t exits = 0;
		for (int i = 0; i < tr->nprobes; i++)
			exits += tr->exit_probes[i]->hits;
		if (exits || !in_loop_since(tr, tr->confirm_from)) {
			s->progressing++; /* the loop is left: progress */
			drop_probes(t, tr);
			tr->st = L_NONE;
			tr->cooldown_until = now + s->cooldown_ns;
		} else if (++tr->confirm_samples >= confirm_need(s) && now >= tr->confirm_until) {
			drop_probes(t, tr);
			tr->st = L_STUCK;
			tr->stuck_since = tr->t[0];
			s->stuck++;
			json_t *a = loop_json(tr);
			json_object_set_new(a, "exits_watched", json_integer(tr->loop.nexits));
			json_object_set_new(a, "in_loop_ms", json_integer((json_int_t)((now - tr->t[0]) / 1000000)));
			hp_detector__alert(t, d, "infinite-loop", a);
		}
		return;
	}
	case L_STUCK:
		if (tr->rip[tr->n - 1] < tr->loop.lo || tr->rip[tr->n - 1] >= tr->loop.hi) {
			s->recovered++;
			hp_detector__alert(t, d, "loop-left", loop_json(tr));
			tr->st = L_NONE;
			tr->cooldown_until = now + s->cooldown_ns;
		}
		return;
	}
}

/* How long a task's samples are kept, and how long a suspect may go unseen. */
static uint64_t horizon_ns(const struct loopdet *s)
{
	return s->window_ns + s->confirm_ns + s->period_ns;
}

/* A confirmation whose task is no longer seen running (its probes would wait, planted,
 * for nothing), or whose exits stop the VM for other tasks too often: no verdict, the
 * probes lifted. */
static void give_up(struct hp_target *t, struct loopdet *s, struct track *tr, uint64_t now)
{
	if (tr->st != L_CONFIRMING)
		return;
	uint64_t others = 0;
	for (int i = 0; i < tr->nprobes; i++)
		others += tr->exit_probes[i]->filtered;
	if (now - tr->seen_ns <= horizon_ns(s) && others <= CONFIRM_MAX_STOPS)
		return;
	hp_debug("loop: pid %d: confirmation given up (%s)", tr->pid,
		 others > CONFIRM_MAX_STOPS ? "its exits stop the VM for other tasks" : "not seen running");
	drop_probes(t, tr);
	tr->st = L_NONE;
	tr->cooldown_until = now + s->cooldown_ns;
	s->abandoned++;
}

/* The work names its detector by id: a detector-remove run earlier in the same batch
 * of jobs has freed it, and queued work cannot be recalled once the batch is taken. */
static void sample_work(struct hp_target *t, void *ud)
{
	struct hp_detector *d = hp_detector__find(t, (long long)(uintptr_t)ud);
	if (!d)
		return;
	struct loopdet *s = d->priv;
	uint64_t now = hp_now_ns();
	s->job_pending = 0;
	for (int cpu = 0; cpu < t->smp && t->gdb && t->kernel; cpu++) {
		uint64_t regs[HP_NREGS];
		struct hp_task task;
		if (hp_backend__vcpu_regs(t->gdb, cpu, regs, NULL) ||
		    hp_vmi__current(t->kernel, t->gdb, regs, &task, NULL) || task.pid == 0)
			continue; /* the idle task is not stuck, it is idle */
		int kernel = regs[HP_REG_RIP] >> 63;
		if ((kernel && !s->scope_kernel) || (!kernel && !s->scope_user) || (s->pid > 0 && task.tgid != s->pid))
			continue;
		struct track *tr = track_for(s, &task, cpu, now);
		if (!tr)
			continue;
		if (tr->n == MAX_SAMPLES) {
			memmove(tr->rip, tr->rip + 1, sizeof tr->rip[0] * (MAX_SAMPLES - 1));
			memmove(tr->t, tr->t + 1, sizeof tr->t[0] * (MAX_SAMPLES - 1));
			tr->n--;
		}
		/* older than the window is of no use */
		while (tr->n && now - tr->t[0] > horizon_ns(s)) {
			memmove(tr->rip, tr->rip + 1, sizeof tr->rip[0] * (size_t)(tr->n - 1));
			memmove(tr->t, tr->t + 1, sizeof tr->t[0] * (size_t)(tr->n - 1));
			tr->n--;
		}
		tr->rip[tr->n] = regs[HP_REG_RIP];
		tr->t[tr->n++] = now;
		s->samples++;
		if (hp_vmi__read_task(t->kernel, t->gdb, task.addr, &task, NULL) == 0)
			consider(t, d, tr, &task, now);
	}
	for (int i = 0; i < s->n; i++)
		give_up(t, s, &s->tr[i], now);
	for (int i = 0; i < s->n; i++)
		if (now - s->tr[i].seen_ns > FORGET_NS && s->tr[i].st != L_CONFIRMING) {
			drop_probes(t, &s->tr[i]);
			s->tr[i--] = s->tr[--s->n];
		}
}

/* An exit of a suspected loop was taken: that is progress. Lift the probe at once
 * (a hot loop would otherwise stop the VM at every iteration until the next sample);
 * the next sample clears the suspicion. */
static void on_hit(struct hp_target *t, struct hp_detector *d, struct hp_probe *p, const struct hp_hit *hit,
		   const uint64_t *regs, struct hp_hit_action *act)
{
	(void)d;
	(void)hit;
	(void)regs;
	(void)act;
	struct hp_err err;
	if (hp_engine__disarm(t, p, &err))
		hp_debug("loop: lifting exit probe %u: %s", p->id, err.msg);
}

static void tick(struct hp_target *t, struct hp_detector *d, uint64_t now)
{
	struct loopdet *s = d->priv;
	if (s->job_pending || now < s->next_sample || !t->ops->running(t))
		return;
	if (t->ops->defer(t, sample_work, (void *)(uintptr_t)d->id, 1))
		return;
	s->job_pending = 1;
	s->next_sample = now + s->period_ns;
}

static json_t *state(struct hp_target *t, struct hp_detector *d)
{
	(void)t;
	struct loopdet *s = d->priv;
	static const char *const names[] = { "watching", "suspected", "stuck" };
	json_t *susp = json_array();
	for (int i = 0; i < s->n; i++)
		if (s->tr[i].st != L_NONE) {
			json_t *o = loop_json(&s->tr[i]);
			json_object_set_new(o, "state", json_string(names[s->tr[i].st]));
			json_array_append_new(susp, o);
		}
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:o}", "samples", (json_int_t)s->samples, "candidates",
			 (json_int_t)s->candidates, "progressing", (json_int_t)s->progressing, "stuck",
			 (json_int_t)s->stuck, "recovered", (json_int_t)s->recovered, "abandoned",
			 (json_int_t)s->abandoned, "tasks", s->n, "suspicions", susp);
}

static void destroy(struct hp_target *t, struct hp_detector *d)
{
	(void)t;
	/* the exit probes are removed with the detector's other probes; a sample job still
	 * queued finds no detector of its id and does nothing */
	free(d->priv);
}

const struct hp_detector_ops hp_det_loop = {
	.kind = "loop",
	.create = create,
	.on_hit = on_hit,
	.tick = tick,
	.state = state,
	.destroy = destroy,
};
