/* A VM's worker thread: owns the VM's QMP and gdbstub connections, its probes, its
 * journal and its detectors. The main thread hands it jobs; it posts back replies,
 * hit batches and events through the agent's outbox. */
#include "vm/vm.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/qmp.h"
#include "base/text.h"
#include "base/util.h"
#include "detectors/detector.h"
#include "guest/kernel.h"
#include "probes/engine.h"
#include "probes/probe.h"
#include "probes/retprobe.h"
#include "vm/guard.h"

#define FLUSH_INTERVAL_NS 20000000ull /* a crash loses at most ~20 ms of hits */
#define FLUSH_MAX_PENDING 512
#define SYNC_INTERVAL_NS 1000000000ull /* fdatasync at most once a second */
#define TICK_MS 50

const char *hp_vm_state_name(enum hp_vm_state s)
{
	static const char *const n[] = { "starting", "running", "paused", "dead" };
	return (unsigned)s < 4 ? n[s] : "?";
}

struct hp_job *hp_job__new(hp_job_fn fn, int needs_stop, json_t *args)
{
	struct hp_job *j = calloc(1, sizeof *j);
	if (!j)
		return NULL;
	j->fn = fn;
	j->needs_stop = needs_stop;
	j->args = args ? json_incref(args) : json_object();
	return j;
}

void hp_job__free(struct hp_job *j)
{
	if (!j)
		return;
	json_decref(j->args);
	json_decref(j->result);
	json_decref(j->req_id);
	free(j);
}

int hp_job__fail(struct hp_job *job, enum hp_eclass cls, int rc)
{
	job->ecls = cls;
	job->rc = rc < 0 ? rc : -EINVAL;
	return job->rc;
}

static const struct hp_target_ops target_ops;

struct hp_vm *hp_vm__create(struct hp_host *h, const struct hp_vm_config *cfg, struct hp_err *err)
{
	struct hp_vm *vm = calloc(1, sizeof *vm);
	if (!vm) {
		hp_err__set(err, ENOMEM, "out of memory");
		return NULL;
	}
	vm->id = ++h->next_vm_id;
	vm->host = h;
	vm->cfg = *cfg;
	vm->state = HP_VM_STARTING;
	vm->tgt.name = vm->cfg.name;
	vm->tgt.ops = &target_ops;
	vm->tgt.next_probe_id = 1;
	vm->tgt.next_detector_id = 1;
	vm->tgt.smp = cfg->smp;
	vm->tgt.ret_timeout_ns = h->ret_timeout_ns;
	vm->smp = cfg->smp;
	pthread_mutex_init(&vm->lock, NULL);
	vm->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->wake_fd < 0) {
		hp_err__set(err, errno, "eventfd: %s", strerror(errno));
		free(vm);
		return NULL;
	}
	return vm;
}

void hp_vm__submit(struct hp_vm *vm, struct hp_job *job)
{
	pthread_mutex_lock(&vm->lock);
	job->next = NULL;
	if (vm->jobs_tail)
		vm->jobs_tail->next = job;
	else
		vm->jobs = job;
	vm->jobs_tail = job;
	pthread_mutex_unlock(&vm->lock);
	uint64_t one = 1;
	if (write(vm->wake_fd, &one, sizeof one) < 0)
		hp_warn("%s: cannot wake the VM thread", vm->cfg.name);
}

void hp_vm__unwatch_gdb(struct hp_vm *vm)
{
	if (!vm->gdb_path[0])
		return;
	hp_guard__unwatch(vm->host, vm->gdb_path);
	vm->gdb_path[0] = 0;
}

int hp_vm__valid_name(const char *n)
{
	size_t len = strlen(n);
	if (!len || len > 63)
		return 0;
	for (const char *p = n; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_' || *p == '.'))
			return 0;
	return n[0] != '.';
}

void hp_vm__set_state(struct hp_vm *vm, enum hp_vm_state st, const char *reason)
{
	char why[sizeof vm->reason];
	hp_text__copy(why, sizeof why, reason); /* it may quote the guest, and is cut */
	pthread_mutex_lock(&vm->lock);
	enum hp_vm_state old = vm->state;
	vm->state = st;
	if (reason)
		memcpy(vm->reason, why, sizeof why);
	pthread_mutex_unlock(&vm->lock);
	if (old == st)
		return;
	json_t *d = json_pack("{s:s}", "state", hp_vm_state_name(st));
	if (reason)
		json_object_set_new(d, "reason", json_string(why));
	hp_vm__event(vm, "VM_STATE", d);
}

void hp_vm__event(struct hp_vm *vm, const char *name, json_t *data)
{
	if (vm->journal) {
		enum hp_rec_type t = !strcmp(name, "ALERT")   ? HP_REC_ALERT
				     : !strcmp(name, "PROBE") ? HP_REC_PROBE
							      : HP_REC_EVENT;
		/* alert and probe records hold the object itself (docs/journal.md: the exporters
		 * read "id"/"spec" and the alert's members); other events keep their name */
		json_t *rec =
			t == HP_REC_EVENT ? json_pack("{s:s, s:O}", "event", name, "data", data) : json_incref(data);
		char *s = json_dumps(rec, JSON_COMPACT);
		if (s)
			hp_journal__append_json(vm->journal, t, hp_now_ns(), s, strlen(s), NULL);
		free(s);
		json_decref(rec);
	}
	hp_outbox__post_event(&vm->host->outbox, vm->id, name, vm->cfg.name, data);
}

/* ---- what the VM lends its target (probes/target.h) ---- */

static struct hp_vm *of(struct hp_target *t)
{
	return (struct hp_vm *)((char *)t - offsetof(struct hp_vm, tgt));
}

/* The first hit at an IP journals its name (an IP_NAME event) before it: kernel IPs by
 * the kernel's symbols, a program's by its probe's function when it is the probed one. */
static void name_ip(struct hp_vm *vm, const struct hp_probe *p, const struct hp_hit *hit)
{
	char name[HP_SYM_TEXT_MAX], addr[24];
	if (!hp_ipnames__first(&vm->ipnames, hit->ip))
		return;
	if (hit->flags & HP_HIT_USER) {
		if (hit->ip != p->addr || !p->func[0])
			return;
		snprintf(name, sizeof name, "%s", p->func);
	} else if (!vm->tgt.kernel || hp_kernel__describe(vm->tgt.kernel, hit->ip, name, sizeof name) <= 0) {
		return;
	}
	snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)hit->ip);
	json_t *rec = json_pack("{s:s, s:{s:s, s:o}}", "event", "IP_NAME", "data", "ip", addr, "name",
				hp_text__json(name, sizeof name));
	char *s = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
	if (s)
		hp_journal__append_json(vm->journal, HP_REC_EVENT, hit->time_ns, s, strlen(s), NULL);
	free(s);
	json_decref(rec);
}

/* A hit goes to the journal, and to followers as JSON while someone follows. */
static void t_record(struct hp_target *t, struct hp_probe *p, const struct hp_hit *hit)
{
	struct hp_vm *vm = of(t);
	uint64_t seq = 0;
	if (p->o.kind == HP_PROBE_COUNT || p->agg) {
		/* counting probes keep totals, the journal gets them at each flush; an
		 * aggregation's hits are summed (probes/agg.h), its snapshots journalled */
		pthread_mutex_lock(&vm->lock);
		vm->total_hits++;
		pthread_mutex_unlock(&vm->lock);
		return;
	}
	name_ip(vm, p, hit);
	if (hp_journal__append_hit(vm->journal, hit, &seq) < 0) {
		hp_warn("%s: journal append failed", vm->cfg.name);
		return;
	}
	/* the JSON for subscribers is built only while someone follows this VM; a batch
	 * begun without it is not pushed, and a new follower catches up from the journal */
	if (!vm->batch_count++)
		vm->batch_json = atomic_load_explicit(&vm->hit_subscribers, memory_order_relaxed) > 0;
	else if (vm->batch_json)
		hp_strbuf__putc(&vm->batch, ',');
	if (vm->batch_json)
		hp_engine__hit_json(&vm->batch, hit, seq);
	pthread_mutex_lock(&vm->lock);
	vm->total_hits++;
	vm->next_seq = seq + 1;
	pthread_mutex_unlock(&vm->lock);
}

static void t_observe(struct hp_target *t, struct hp_probe *p, const struct hp_hit *hit, const uint64_t *regs,
		      struct hp_hit_action *act)
{
	hp_detectors__on_hit(t, p, hit, regs, act);
}

static void t_event(struct hp_target *t, const char *name, json_t *data)
{
	hp_vm__event(of(t), name, data);
}

static void t_notify(struct hp_target *t, const char *name, json_t *data)
{
	struct hp_vm *vm = of(t);
	hp_outbox__post_event(&vm->host->outbox, vm->id, name, vm->cfg.name, data);
}

static int work_job(struct hp_vm *vm, struct hp_job *job)
{
	job->work(&vm->tgt, job->ud);
	return 0;
}

static int t_defer(struct hp_target *t, hp_target_work_fn fn, void *ud, int need_stop)
{
	struct hp_job *job = hp_job__new(work_job, need_stop, NULL);
	if (!job)
		return -ENOMEM;
	job->internal = 1;
	job->work = fn;
	job->ud = ud;
	hp_vm__submit(of(t), job);
	return 0;
}

static void t_pause(struct hp_target *t, const char *reason)
{
	struct hp_vm *vm = of(t);
	vm->user_paused = 1;
	hp_vm__set_state(vm, HP_VM_PAUSED, reason);
}

void hp_vm__probes_changed(struct hp_vm *vm)
{
	int n = 0;
	for (struct hp_probe *p = vm->tgt.probes; p; p = p->next)
		n += p->o.owner != HP_OWNER_INTERNAL;
	pthread_mutex_lock(&vm->lock);
	vm->nprobes = n;
	pthread_mutex_unlock(&vm->lock);
}

void hp_vm__set_sysroot(struct hp_vm *vm, const char *dir)
{
	snprintf(vm->tgt.sysroot, sizeof vm->tgt.sysroot, "%s", dir ? dir : "");
	pthread_mutex_lock(&vm->lock);
	memcpy(vm->sysroot, vm->tgt.sysroot, sizeof vm->sysroot);
	pthread_mutex_unlock(&vm->lock);
}

static void t_probes_changed(struct hp_target *t)
{
	hp_vm__probes_changed(of(t));
}

static int t_running(struct hp_target *t)
{
	struct hp_vm *vm = of(t);
	return vm->state == HP_VM_RUNNING && !vm->user_paused;
}

static const struct hp_target_ops target_ops = {
	.record = t_record,
	.observe = t_observe,
	.event = t_event,
	.notify = t_notify,
	.defer = t_defer,
	.pause = t_pause,
	.probes_changed = t_probes_changed,
	.running = t_running,
};

json_t *hp_vm__summary(struct hp_vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	char slide[24];
	snprintf(slide, sizeof slide, "0x%llx", (long long)vm->slide);
	/* what QEMU and the guest said is shown as text that always encodes: a VM whose
	 * banner holds a stray byte must not vanish from vm-list */
	json_t *o = json_pack("{s:s, s:s, s:o, s:i, s:o, s:o, s:s, s:b, s:i, s:I, s:o}", "name", vm->cfg.name, "state",
			      hp_vm_state_name(vm->state), "accel", hp_text__json(vm->accel, sizeof vm->accel), "smp",
			      vm->smp, "qemu", hp_text__json(vm->qemu_version, sizeof vm->qemu_version), "kernel",
			      hp_text__json(vm->kernel_release, sizeof vm->kernel_release), "slide", slide, "launched",
			      vm->cfg.launch, "probes", vm->nprobes, "hits", (json_int_t)vm->total_hits, "journal",
			      hp_text__json(vm->journal_path, sizeof vm->journal_path));
	if (vm->state == HP_VM_DEAD && vm->reason[0])
		json_object_set_new(o, "reason", json_string(vm->reason));
	if (vm->profile)
		json_object_set_new(o, "profile", json_deep_copy(vm->profile));
	json_object_set_new(o, "sysroot",
			    vm->sysroot[0] ? hp_text__json(vm->sysroot, sizeof vm->sysroot) : json_null());
	if (vm->source)
		json_object_set_new(o, "source", json_deep_copy(vm->source));
	pthread_mutex_unlock(&vm->lock);
	return o;
}

/* ---- journal flush and publication ---- */

#define JOURNAL_RETRY_NS 1000000000ull

/* The journal cannot be written (disk full, I/O error): the probes the user planted
 * are lifted, so no hit is taken that could not be kept, and put back once it can.
 * Runs as a job: the gdbstub answers only a stopped VM. */
static int journal_pause_job(struct hp_vm *vm, struct hp_job *job)
{
	int pause = job->ud != NULL;
	struct hp_err err;
	for (struct hp_probe *p = vm->tgt.probes; p; p = p->next) {
		if (p->o.owner == HP_OWNER_INTERNAL)
			continue;
		if (pause && p->state == HP_PSTATE_ARMED) {
			if (!hp_engine__disarm(&vm->tgt, p, &err))
				p->journal_paused = 1;
		} else if (!pause && p->journal_paused) {
			p->journal_paused = 0;
			if (p->o.enabled && hp_engine__arm(&vm->tgt, p, &err))
				hp_warn("%s: re-arming probe %u: %s", vm->cfg.name, p->id, err.msg);
		}
	}
	return 0;
}

static void journal_trouble(struct hp_vm *vm, const char *error)
{
	struct hp_job *job = hp_job__new(journal_pause_job, 1, NULL);
	if (job) {
		job->internal = 1;
		job->ud = error ? (void *)1 : NULL;
		hp_vm__submit(vm, job);
	}
	/* said to every client; the journal itself cannot hold it */
	json_t *d = error ? json_pack("{s:s, s:s, s:s}", "alert", "journal-error", "error", error, "action",
				      "probes paused until the journal can be written")
			  : json_pack("{s:s, s:s}", "alert", "journal-recovered", "action", "probes resumed");
	json_object_set_new(d, "kind", json_string("agent"));
	json_object_set_new(d, "time_ns", json_integer((json_int_t)hp_now_ns()));
	hp_outbox__post_event(&vm->host->outbox, vm->id, "ALERT", vm->cfg.name, d);
}

static void journal_counts(struct hp_vm *vm)
{
	for (struct hp_probe *p = vm->tgt.probes; p; p = p->next) {
		if (p->o.kind != HP_PROBE_COUNT || p->hits == p->hits_journaled)
			continue;
		struct hp_count c = { .probe_id = p->id,
				      .vcpu = UINT32_MAX,
				      .count = p->hits,
				      .first_ns = p->first_ns,
				      .last_ns = p->last_ns };
		hp_journal__append_count(vm->journal, &c, NULL);
		p->hits_journaled = p->hits;
	}
}

/* Notes where the next batch starts, every HP_JMARK_EVERY records (vm->lock held). */
static void mark(struct hp_vm *vm)
{
	uint64_t off, seq;
	hp_journal__position(vm->journal, &off, &seq);
	if (vm->njmarks && seq < vm->jmarks[(vm->njmarks - 1) % HP_JMARKS].seq + HP_JMARK_EVERY)
		return;
	vm->jmarks[vm->njmarks++ % HP_JMARKS] = (struct hp_jmark){ off, seq };
}

int hp_vm__seek(struct hp_vm *vm, struct hp_journal_reader *r, uint64_t seq, struct hp_err *err)
{
	struct hp_jmark best = { 0, 0 };
	int found = 0;
	pthread_mutex_lock(&vm->lock);
	unsigned n = vm->njmarks < HP_JMARKS ? vm->njmarks : HP_JMARKS;
	for (unsigned i = 0; i < n; i++) {
		struct hp_jmark m = vm->jmarks[i];
		if (m.seq <= seq && (!found || m.seq > best.seq)) {
			best = m;
			found = 1;
		}
	}
	pthread_mutex_unlock(&vm->lock);
	return found ? hp_journal__seek_from(r, best.off, best.seq, seq, err) : hp_journal__seek(r, seq, err);
}

int hp_vm__flush(struct hp_vm *vm, int force)
{
	if (!vm->journal)
		return 0;
	uint64_t now = hp_now_ns();
	if (!force && hp_journal__pending(vm->journal) < FLUSH_MAX_PENDING &&
	    now - vm->last_flush_ns < FLUSH_INTERVAL_NS)
		return 0;
	journal_counts(vm);
	if (!hp_journal__pending(vm->journal)) {
		vm->last_flush_ns = now;
		return 0;
	}
	int nosync = !force && now - vm->last_sync_ns < SYNC_INTERVAL_NS;
	struct hp_err err;
	if (vm->journal_failed && now - vm->last_flush_ns < JOURNAL_RETRY_NS)
		return -EAGAIN;
	int rc = hp_journal__flush(vm->journal, nosync, &err);
	if (rc) {
		/* the batch stays pending: nothing is lost while the disk recovers */
		vm->last_flush_ns = now;
		if (!vm->journal_failed) {
			vm->journal_failed = 1;
			hp_error("%s: journal flush failed: %s: probes paused until it can be written", vm->cfg.name,
				 err.msg);
			journal_trouble(vm, err.msg);
		}
		return rc;
	}
	if (vm->journal_failed) {
		vm->journal_failed = 0;
		hp_info("%s: journal writable again: probes resume", vm->cfg.name);
		journal_trouble(vm, NULL);
	}
	if (!nosync)
		vm->last_sync_ns = now;
	vm->last_flush_ns = now;
	uint64_t next = hp_journal__next_seq(vm->journal);
	if (vm->batch_count && vm->batch_json) {
		/* first_seq: right after the previous batch, so a follower sees the batches
		 * chain with no gap (records other than hits are in the range, not the list) */
		pthread_mutex_lock(&vm->lock);
		uint64_t first = vm->published_seq;
		pthread_mutex_unlock(&vm->lock);
		struct hp_strbuf line = { 0 };
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		hp_strbuf__printf(&line,
				  "{\"event\":\"HITS\",\"vm\":\"%s\",\"data\":{\"first_seq\":%llu,"
				  "\"next_seq\":%llu,\"hits\":[",
				  vm->cfg.name, (unsigned long long)first, (unsigned long long)next);
		hp_strbuf__write(&line, vm->batch.buf, vm->batch.len);
		hp_strbuf__printf(&line, "]},\"timestamp\":{\"seconds\":%lld,\"microseconds\":%ld}}\n",
				  (long long)ts.tv_sec, ts.tv_nsec / 1000);
		struct hp_msg *m = calloc(1, sizeof *m);
		if (m) {
			m->type = HP_MSG_HITS;
			m->vm_id = vm->id;
			m->first_seq = first;
			m->next_seq = next;
			m->line = hp_strbuf__take(&line, &m->len);
			if (m->line)
				hp_outbox__post(&vm->host->outbox, m);
			else
				free(m);
		}
		hp_strbuf__free(&line);
	}
	hp_strbuf__reset(&vm->batch);
	vm->batch_count = 0;
	pthread_mutex_lock(&vm->lock);
	vm->published_seq = next;
	vm->next_seq = next;
	mark(vm);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

/* ---- the worker loop ---- */

void hp_vm__post_done(struct hp_vm *vm, struct hp_job *job)
{
	struct hp_msg *m = calloc(1, sizeof *m);
	if (!m) {
		hp_job__free(job);
		return;
	}
	m->type = HP_MSG_JOB_DONE;
	m->vm_id = vm->id;
	m->job = job;
	hp_outbox__post(&vm->host->outbox, m);
}

static void mark_dead(struct hp_vm *vm, const char *reason)
{
	if (vm->state == HP_VM_DEAD)
		return;
	hp_warn("%s: VM dead: %s", vm->cfg.name, reason);
	hp_vm__set_state(vm, HP_VM_DEAD, reason);
	hp_vm__flush(vm, 1);
	if (vm->tgt.gdb) {
		hp_vm__unwatch_gdb(vm);
		hp_backend__destroy(vm->tgt.gdb);
		vm->tgt.gdb = NULL;
	}
	hp_vm__drop_plugin(vm);
	for (struct hp_probe *p = vm->tgt.probes; p; p = p->next)
		if (p->state == HP_PSTATE_ARMED)
			p->state = HP_PSTATE_STALE;
	hp_qmp__free(vm->qmp);
	vm->qmp = NULL;
}

static void check_child(struct hp_vm *vm)
{
	int status;
	if (vm->qemu_pid <= 0 || waitpid(vm->qemu_pid, &status, WNOHANG) != vm->qemu_pid)
		return;
	char reason[128];
	if (WIFSIGNALED(status))
		snprintf(reason, sizeof reason, "QEMU killed by signal %d", WTERMSIG(status));
	else
		snprintf(reason, sizeof reason, "QEMU exited with status %d", WEXITSTATUS(status));
	vm->qemu_pid = 0;
	mark_dead(vm, reason);
}

#define PLUGIN_BATCH 4096

static int drain_plugin(struct hp_vm *vm);

/* The guest rebooted: its probes go stale (hp_vm__on_reset, which lets the plugin's go);
 * what the plugin said of its return probes before that is read, and their calls in
 * flight died with their tasks: dropped as "exit", as the gdbstub tier counts them. */
static void on_reset(struct hp_vm *vm)
{
	hp_vm__on_reset(vm);
	while (drain_plugin(vm) == PLUGIN_BATCH)
		;
	for (struct hp_probe *p = vm->tgt.probes; p; p = p->next)
		if (p->ret && p->plant == HP_PLANT_INQEMU) {
			p->ret_dropped[HP_RETPEND_EXIT] += p->ret_pending;
			p->ret_pending = 0;
			memcpy(p->ret_base, p->ret_dropped, sizeof p->ret_base); /* the plugin counts anew */
		}
}

static void handle_stop(struct hp_vm *vm, struct hp_bev *ev, int resume)
{
	struct hp_err err = { "" };
	if (ev->type == HP_BEV_GONE) {
		check_child(vm);
		mark_dead(vm, ev->reason);
		return;
	}
	int rc;
	if (vm->reset_pending) {
		/* a stop of the rebooted guest at a stale probe: it is not a hit; lift them all
		 * now (the VM is stopped) and let the new kernel's instruction run */
		vm->reset_pending = 0;
		on_reset(vm);
		ev->type = HP_BEV_STOP_OTHER;
	}
	if (ev->type == HP_BEV_STOP_BP)
		rc = hp_engine__on_stop(&vm->tgt, vm->tgt.gdb, ev, resume && !vm->user_paused, &err);
	else
		rc = resume && !vm->user_paused ? hp_backend__resume(vm->tgt.gdb, &err) : 0;
	if (rc) {
		check_child(vm);
		mark_dead(vm, err.msg);
	}
}

static int jobs_pending(struct hp_vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	int n = vm->jobs != NULL;
	pthread_mutex_unlock(&vm->lock);
	return n;
}

static void run_jobs(struct hp_vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	struct hp_job *list = vm->jobs;
	vm->jobs = vm->jobs_tail = NULL;
	pthread_mutex_unlock(&vm->lock);
	int stopped = 0;
	while (list) {
		struct hp_job *job = list;
		list = job->next;
		if (job->needs_stop && vm->tgt.gdb && !stopped) {
			struct hp_bev ev;
			int got = 0;
			struct hp_err err;
			if (hp_backend__stop(vm->tgt.gdb, &ev, &got, &err)) {
				mark_dead(vm, err.msg);
			} else {
				stopped = 1;
				if (got) /* a hit raced with our stop: capture it, stay stopped */
					handle_stop(vm, &ev, 0);
			}
		}
		if (job->needs_stop && vm->state == HP_VM_DEAD && !job->final) {
			hp_err__set(&job->err, EPIPE, "VM %s is dead: %s", vm->cfg.name, vm->reason);
			hp_job__fail(job, EC_VM_DEAD, -EPIPE);
		} else {
			job->rc = job->fn(vm, job);
		}
		int final = job->final;
		if (job->internal)
			hp_job__free(job);
		else
			hp_vm__post_done(vm, job);
		if (final)
			vm->quit = 1;
	}
	/* not only when a job stopped it: a hit may have left the VM stopped for these jobs */
	if (vm->tgt.gdb && !vm->user_paused && !vm->quit && vm->state != HP_VM_DEAD) {
		struct hp_err err;
		if (hp_backend__resume(vm->tgt.gdb, &err))
			mark_dead(vm, err.msg);
	}
}

static int reset_job(struct hp_vm *vm, struct hp_job *job)
{
	(void)job;
	if (vm->reset_pending) {
		vm->reset_pending = 0;
		on_reset(vm);
	}
	return 0;
}

static void drain_qmp(struct hp_vm *vm)
{
	json_t *ev;
	int rc;
	while ((rc = hp_qmp__next_event(vm->qmp, &ev)) == 1) {
		const char *name = json_string_value(json_object_get(ev, "event"));
		if (name && (!strcmp(name, "SHUTDOWN") || !strcmp(name, "RESET")))
			hp_info("%s: guest %s", vm->cfg.name, name);
		if (name && !strcmp(name, "RESET") && !vm->reset_pending) {
			/* the gdbstub answers only while the VM is stopped: the stale probes are
			 * lifted by a job, or at the very next stop, whichever comes first */
			vm->reset_pending = 1;
			struct hp_job *job = hp_job__new(reset_job, 1, NULL);
			if (job) {
				job->internal = 1;
				hp_vm__submit(vm, job);
			}
		}
		json_decref(ev);
	}
	if (rc < 0) {
		check_child(vm);
		mark_dead(vm, "QMP connection closed (QEMU gone)");
	}
}

/* Hits captured inside QEMU: into the same journal, stream and detectors. Returns how
 * many events it took (PLUGIN_BATCH: there may be more). */
static int drain_plugin(struct hp_vm *vm)
{
	struct hp_bev ev;
	struct hp_err err;
	int rc = 0;
	uint64_t dropped = 0;
	int i = 0;
	for (; i < PLUGIN_BATCH && vm->tgt.plugin && (rc = hp_backend__next_event(vm->tgt.plugin, &ev, &err)) > 0;
	     i++) {
		if (i % FLUSH_MAX_PENDING == FLUSH_MAX_PENDING - 1)
			hp_vm__flush(vm, 0); /* a live batch stays one flush's worth: clients' lines stay short */
		struct hp_probe *p = ev.type == HP_BEV_HIT || ev.type == HP_BEV_COUNT || ev.type == HP_BEV_RETSTAT
					     ? hp_target__probe(&vm->tgt, ev.probe_id)
					     : NULL;
		switch (ev.type) {
		case HP_BEV_HIT:
			if (p)
				hp_engine__on_hit(&vm->tgt, p, &ev.hit);
			break;
		case HP_BEV_COUNT: {
			struct hp_count tot;
			if (p && !hp_backend__count_total(vm->tgt.plugin, p->id, &tot) && tot.count >= p->hits) {
				pthread_mutex_lock(&vm->lock);
				vm->total_hits += tot.count - p->hits;
				pthread_mutex_unlock(&vm->lock);
				p->hits = tot.count;
				p->first_ns = tot.first_ns;
				p->last_ns = tot.last_ns;
			}
			break;
		}
		case HP_BEV_RETSTAT: /* a return probe's calls in flight and dropped, in QEMU */
			if (p) {
				p->ret_pending = ev.ret_pending;
				for (int w = 0; w < HP_RETPEND_NWHY; w++)
					p->ret_dropped[w] = p->ret_base[w] + ev.ret_dropped[w];
			}
			break;
		case HP_BEV_DROPPED: {
			struct hp_dropped d = { .probe_id = ev.probe_id, .count = ev.dropped, .time_ns = ev.time_ns };
			hp_journal__append_dropped(vm->journal, &d, NULL);
			pthread_mutex_lock(&vm->lock);
			vm->dropped += ev.dropped;
			pthread_mutex_unlock(&vm->lock);
			dropped += ev.dropped;
			break;
		}
		case HP_BEV_GONE:
			check_child(vm);
			mark_dead(vm, ev.reason);
			return i;
		default:
			break;
		}
	}
	if (rc < 0)
		hp_warn("%s: in-QEMU tier: %s", vm->cfg.name, err.msg);
	/* once a second at most: a full ring at a high hit rate would flood the log */
	if (dropped && hp_now_ns() - vm->last_drop_log_ns > 1000000000ull) {
		hp_warn("%s: hits dropped in QEMU (ring full): %llu in all, counted in the journal", vm->cfg.name,
			(unsigned long long)vm->dropped);
		vm->last_drop_log_ns = hp_now_ns();
	}
	return i;
}

static void *worker(void *arg)
{
	struct hp_vm *vm = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	while (!vm->quit) {
		struct pollfd fds[4];
		int n = 0, gdb_i = -1, qmp_i = -1, plug_i = -1;
		fds[n++] = (struct pollfd){ .fd = vm->wake_fd, .events = POLLIN };
		if (vm->tgt.gdb) {
			gdb_i = n;
			fds[n++] = (struct pollfd){ .fd = hp_backend__event_fd(vm->tgt.gdb), .events = POLLIN };
		}
		if (vm->qmp) {
			qmp_i = n;
			fds[n++] = (struct pollfd){ .fd = hp_qmp__fd(vm->qmp), .events = POLLIN };
		}
		if (vm->tgt.plugin) {
			plug_i = n;
			fds[n++] = (struct pollfd){ .fd = hp_backend__event_fd(vm->tgt.plugin), .events = POLLIN };
		}
		int timeout = vm->journal && hp_journal__pending(vm->journal) ? 5 : TICK_MS;
		int ready = poll(fds, (nfds_t)n, timeout);
		if (ready < 0 && errno != EINTR)
			break;
		if (fds[0].revents) {
			uint64_t v;
			while (read(vm->wake_fd, &v, sizeof v) > 0)
				;
		}
		/* QMP first: a RESET must lift stale probes before their stops count as hits */
		/* and on idle ticks: a lost libvirt connection is retried from there */
		if (qmp_i >= 0 && vm->qmp && (fds[qmp_i].revents || ready == 0))
			drain_qmp(vm);
		/* not only on POLLIN: the RSP reader may hold buffered packets already */
		if (gdb_i >= 0 && vm->tgt.gdb) {
			struct hp_bev ev;
			struct hp_err err;
			int rc;
			/* several stops can be buffered; handle each, then check for jobs */
			for (int i = 0;
			     i < 64 && vm->tgt.gdb && (rc = hp_backend__next_event(vm->tgt.gdb, &ev, &err)) != 0; i++) {
				if (rc < 0) {
					mark_dead(vm, err.msg);
					break;
				}
				handle_stop(vm, &ev, !jobs_pending(vm));
				if (jobs_pending(vm))
					break;
			}
		}
		if (plug_i >= 0 && vm->tgt.plugin && fds[plug_i].revents)
			drain_plugin(vm);
		run_jobs(vm);
		hp_vm__flush(vm, 0);
		hp_detectors__tick(&vm->tgt, hp_now_ns());
		hp_ret__tick(&vm->tgt, hp_now_ns());
		hp_probe__agg_snapshots(&vm->tgt, hp_now_ns());
		hp_vm__maybe_reprofile(vm, hp_now_ns());
		check_child(vm);
	}
	hp_vm__flush(vm, 1);
	return NULL;
}

/* The paths the main thread reads with no lock (vm-list, hits-read, vm-console,
 * vm-attach's duplicate check): set here, before the VM's thread exists, and only
 * read afterwards. A recovered session brings its directories and console paths. */
static int set_paths(struct hp_vm *vm, struct hp_err *err)
{
	if (!vm->restore) {
		char stamp[32], rt[sizeof vm->host->paths.socket];
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
		if (hp_pathf(vm->session_dir, sizeof vm->session_dir, "%s/sessions/%s-%s", vm->host->paths.state_dir,
			     vm->cfg.name, stamp))
			return hp_err__set(err, ENAMETOOLONG, "state directory path too long");
		memcpy(rt, vm->host->paths.socket, sizeof rt);
		char *slash = strrchr(rt, '/');
		if (slash)
			*slash = 0;
		if (hp_pathf(vm->rundir, sizeof vm->rundir, "%s/vms/%s", rt, vm->cfg.name))
			return hp_err__set(err, ENAMETOOLONG, "run directory path too long");
	}
	/* every file name joined to these later is short; the sockets must fit sun_path */
	if (strlen(vm->rundir) + sizeof "/console.sock" > 108 || strlen(vm->session_dir) + 32 > PATH_MAX)
		return hp_err__set(err, ENAMETOOLONG, "run directory %s is too long for Unix sockets", vm->rundir);
	if (hp_pathf(vm->journal_path, sizeof vm->journal_path, "%s/journal.hpj", vm->session_dir))
		return hp_err__set(err, ENAMETOOLONG, "session directory path too long");
	if (vm->cfg.launch &&
	    (hp_pathf(vm->cfg.console_log, sizeof vm->cfg.console_log, "%s/console.log", vm->rundir) ||
	     hp_pathf(vm->cfg.console_sock, sizeof vm->cfg.console_sock, "%s/console.sock", vm->rundir) ||
	     hp_pathf(vm->cfg.qmp, sizeof vm->cfg.qmp, "%s/qmp.sock", vm->rundir)))
		return hp_err__set(err, ENAMETOOLONG, "run directory path too long");
	return 0;
}

int hp_vm__start(struct hp_vm *vm, struct hp_job *first, struct hp_err *err)
{
	hp_vm__submit(vm, first);
	int prc = set_paths(vm, err);
	if (prc)
		return prc;
	int rc = pthread_create(&vm->thread, NULL, worker, vm);
	if (rc)
		return hp_err__set(err, rc, "cannot start the VM thread: %s", strerror(rc));
	vm->thread_started = 1;
	return 0;
}

void hp_vm__destroy(struct hp_vm *vm)
{
	if (!vm)
		return;
	/* the worker ends after its final job (detach, quit or a failed start) */
	if (vm->thread_started)
		pthread_join(vm->thread, NULL);
	hp_vm__release(vm);
	json_decref(vm->restore);
	json_decref(vm->profile);
	json_decref(vm->source);
	close(vm->wake_fd);
	hp_strbuf__free(&vm->batch);
	for (struct hp_job *j = vm->jobs, *n; j; j = n) {
		n = j->next;
		hp_job__free(j);
	}
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}
