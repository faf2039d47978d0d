/* hprobe-tcg.so's control thread: the agent's requests on the ctl socket (one client
 * at a time, SOCK_SEQPACKET, same uid or root only), plan publication, and the counting
 * probes' totals written to the control ring every period_ms and on request. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tcg.h"

#define REARM_MS 50 /* ring the doorbell again while a change waits */
#define MAX_WAIT_MS 10000

static unsigned nvcpus(void)
{
	int n = qemu_plugin_num_vcpus();
	if (n < 0)
		n = 0;
	return (unsigned)n < tcg.max_vcpus ? (unsigned)n : tcg.max_vcpus;
}

static uint64_t slot_count(size_t si, unsigned v)
{
	struct sbentry *e = qemu_plugin_scoreboard_find(tcg.sb, v);
	return __atomic_load_n(&e->count[si], __ATOMIC_RELAXED);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct plan_entry *x = a, *y = b;
	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

/* With tcg.mu held: the plan of every enabled probe becomes the pending plan. */
static int publish(void)
{
	size_t n = 0;
	for (int i = 0; i < TCG_MAX_PROBES; i++)
		n += tcg.probes[i].id && tcg.probes[i].slot >= 0 && tcg.probes[i].enabled;
	struct plan *p = calloc(1, sizeof *p + n * sizeof p->e[0]);
	if (!p)
		return -ENOMEM;
	p->lo = UINT64_MAX;
	for (int i = 0; i < TCG_MAX_PROBES; i++) {
		struct probe *pr = &tcg.probes[i];
		if (!pr->id || pr->slot < 0 || !pr->enabled)
			continue;
		struct slot *s = &tcg.slots[pr->slot];
		p->e[p->n++] = (struct plan_entry){ s->cfg.vaddr, s };
		if (!s->inline_count && !p->switch_out && s->cfg.task.switch_out && s->cfg.task.switch_in) {
			p->switch_out = s->cfg.task.switch_out;
			p->switch_in = s->cfg.task.switch_in;
		}
		if ((s->cfg.flags & HP_PPROBE_RETURN) && !p->has_ret) {
			p->has_ret = 1;
			p->exit_hook = s->cfg.exit_vaddr;
			atomic_store(&tcg.ret_current_task, s->cfg.task.current_task);
			/* the agent gives every return probe its own setting (hprobed --ret-timeout) */
			atomic_store(&tcg.ret_timeout_ns,
				     s->cfg.ret_timeout_ms ? s->cfg.ret_timeout_ms * 1000000ull : TCG_RET_TIMEOUT_NS);
		}
		if (s->cfg.vaddr < p->lo)
			p->lo = s->cfg.vaddr;
		if (s->cfg.vaddr > p->hi)
			p->hi = s->cfg.vaddr;
	}
	qsort(p->e, p->n, sizeof p->e[0], cmp_entry);
	free(tcg.pending);
	tcg.pending = p;
	tcg.generation++;
	tcg__request_reinstrument();
	return 0;
}

/* With tcg.mu held: waits until the translated code follows generation gen. */
static int wait_applied(uint32_t gen, uint32_t wait_ms)
{
	if (wait_ms > MAX_WAIT_MS)
		wait_ms = MAX_WAIT_MS;
	uint64_t end = tcg__now_ns() + (uint64_t)wait_ms * 1000000ull;
	while ((int32_t)(tcg.applied - gen) < 0 && !atomic_load(&tcg.stopping)) {
		uint64_t now = tcg__now_ns();
		if (now >= end)
			return 0;
		uint64_t until = now + REARM_MS * 1000000ull < end ? now + REARM_MS * 1000000ull : end;
		struct timespec ts = { (time_t)(until / 1000000000ull), (long)(until % 1000000000ull) };
		if (pthread_cond_timedwait(&tcg.applied_cv, &tcg.mu, &ts) == ETIMEDOUT &&
		    (int32_t)(tcg.applied - gen) < 0)
			tcg__request_reinstrument(); /* a vCPU may have missed it: ring again */
	}
	return 1;
}

static void probe_free(struct probe *p)
{
	free(p->base);
	free(p->base_first);
	free(p->base_last);
	free(p->reported);
	free(p->seen);
	free(p->last_change);
	memset(p, 0, sizeof *p);
	p->slot = -1;
}

static void retire_slot(int si)
{
	struct slot *s = &tcg.slots[si];
	atomic_store(&s->enabled, 0);
	if (s->cfg.flags & HP_PPROBE_RETURN)
		tcg__ret_drop_slot(si); /* its calls in flight: no return hit will come */
	s->state = SLOT_DEAD;
	s->dead_gen = tcg.generation + 1; /* the next plan no longer has it */
}

/* With tcg.mu held: slots no translated code refers to any more are folded into
 * their probe's totals and freed. */
static void reap(void)
{
	unsigned nv = nvcpus();
	for (int si = 0; si < TCG_MAX_SLOTS; si++) {
		struct slot *s = &tcg.slots[si];
		if (s->state != SLOT_DEAD || (int32_t)(tcg.applied - s->dead_gen) < 0)
			continue;
		struct probe *p = s->probe >= 0 ? &tcg.probes[s->probe] : NULL;
		for (unsigned v = 0; v < nv; v++) {
			struct sbentry *e = qemu_plugin_scoreboard_find(tcg.sb, v);
			uint64_t first = atomic_load(&tcg.vs[v].first_ns[si]),
				 last = atomic_load(&tcg.vs[v].last_ns[si]);
			if (p && p->id) {
				p->base[v] += __atomic_load_n(&e->count[si], __ATOMIC_RELAXED);
				if (first && (!p->base_first[v] || first < p->base_first[v]))
					p->base_first[v] = first;
				if (last > p->base_last[v])
					p->base_last[v] = last;
			}
			__atomic_store_n(&e->count[si], 0, __ATOMIC_RELAXED);
			atomic_store(&tcg.vs[v].first_ns[si], 0);
			atomic_store(&tcg.vs[v].last_ns[si], 0);
		}
		for (int w = 0; w < HP_RETPEND_NWHY; w++) {
			if (p && p->id)
				p->ret_base[w] += atomic_load(&s->ret_dropped[w]);
			atomic_store(&s->ret_dropped[w], 0);
		}
		atomic_store(&s->ret_pending, 0);
		s->state = SLOT_FREE;
		s->probe = -1;
	}
}

/* With tcg.mu held: return probes' changed calls in flight and drops go to the
 * control ring (totals: a full ring keeps them for the next round). */
static void report_rets(void)
{
	unsigned ctl = tcg.nrings - 1;
	for (int pi = 0; pi < TCG_MAX_PROBES; pi++) {
		struct probe *p = &tcg.probes[pi];
		if (!p->id || p->slot < 0 || !(tcg.slots[p->slot].cfg.flags & HP_PPROBE_RETURN))
			continue;
		uint64_t v[1 + HP_RETPEND_NWHY] = { 0 };
		memcpy(v + 1, p->ret_base, sizeof p->ret_base);
		for (int si = 0; si < TCG_MAX_SLOTS; si++) {
			struct slot *s = &tcg.slots[si];
			if (s->state == SLOT_FREE || s->probe != pi)
				continue;
			v[0] += atomic_load(&s->ret_pending);
			for (int w = 0; w < HP_RETPEND_NWHY; w++)
				v[1 + w] += atomic_load(&s->ret_dropped[w]);
		}
		if (!memcmp(v, p->ret_reported, sizeof v))
			continue;
		struct hp_prec_retstat r = { .h = { .len = sizeof r, .type = HP_PREC_RETSTAT },
					     .probe_id = p->id,
					     .pending = v[0] };
		memcpy(r.dropped, v + 1, sizeof r.dropped);
		if (tcg__ring_put(ctl, &r, sizeof r) == 0)
			memcpy(p->ret_reported, v, sizeof v);
	}
}

/* With tcg.mu held: changed counting totals go to the control ring. A full ring
 * keeps them for the next round (totals, so nothing is lost). */
static void report_counts(void)
{
	unsigned nv = nvcpus(), ctl = tcg.nrings - 1;
	uint64_t now = tcg__now_ns();
	for (int pi = 0; pi < TCG_MAX_PROBES; pi++) {
		struct probe *p = &tcg.probes[pi];
		if (!p->id || p->slot < 0 || tcg.slots[p->slot].cfg.kind != HP_PKIND_COUNT)
			continue;
		for (unsigned v = 0; v < nv; v++) {
			uint64_t total = p->base[v], first = p->base_first[v], last = p->base_last[v];
			int inline_count = 0;
			for (int si = 0; si < TCG_MAX_SLOTS; si++) {
				struct slot *s = &tcg.slots[si];
				if (s->state == SLOT_FREE || s->probe != pi)
					continue;
				total += slot_count((size_t)si, v);
				uint64_t f = atomic_load(&tcg.vs[v].first_ns[si]),
					 l = atomic_load(&tcg.vs[v].last_ns[si]);
				if (f && (!first || f < first))
					first = f;
				if (l > last)
					last = l;
				inline_count |= s->inline_count;
			}
			if (total != p->seen[v]) {
				p->seen[v] = total;
				p->last_change[v] = now;
			}
			/* inline adds leave no time: the last change we saw is the best we know */
			if (inline_count && p->last_change[v] > last)
				last = p->last_change[v];
			if (total == p->reported[v])
				continue;
			struct hp_prec_count r = { .h = { .len = sizeof r, .type = HP_PREC_COUNT },
						   .probe_id = p->id,
						   .vcpu = v,
						   .count = total,
						   .first_ns = first,
						   .last_ns = last };
			if (tcg__ring_put(ctl, &r, sizeof r) == 0)
				p->reported[v] = total;
		}
	}
}

static int find_probe(uint32_t id)
{
	for (int i = 0; i < TCG_MAX_PROBES; i++)
		if (tcg.probes[i].id == id)
			return i;
	return -1;
}

static int check_probe(const struct hp_pctl_probe *c, char *msg, size_t cap)
{
	const struct hp_plugin_task_offsets *o = &c->task;
	const char *why = NULL;
	uint32_t lo, len;
	if (!c->probe_id)
		why = "probe id 0";
	else if (c->flags & ~HP_PPROBE_ALL_FLAGS)
		why = "unknown probe flags";
	else if (c->kind != HP_PKIND_CAPTURE && c->kind != HP_PKIND_COUNT)
		why = "unknown probe kind";
	else if (c->nargs > HP_PMAX_ARGS)
		why = "nargs > 6";
	else if (c->mem_src > HP_PMEM_REG)
		why = "unknown memory source";
	else if (c->mem_src == HP_PMEM_ARG && (c->mem_index < 1 || c->mem_index > HP_PMAX_ARGS))
		why = "memory argument index not in 1..6";
	else if (c->mem_src == HP_PMEM_REG && c->mem_index >= HP_PREGS)
		why = "memory register index out of range";
	else if (c->mem_src != HP_PMEM_NONE && (c->mem_len < 1 || c->mem_len > HP_PMAX_MEM))
		why = "memory length not in 1..256";
	else if (c->mem_nderef > HP_PMAX_DEREF || (c->mem_nderef && c->mem_src == HP_PMEM_NONE))
		why = "pointers to follow not in 0..5, or without a memory capture";
	else if ((c->flags & HP_PPROBE_SYSCALL_ARGS) &&
		 (o->regs_size > 512 || o->regs_di > o->regs_size - 8 || o->regs_si > o->regs_size - 8 ||
		  o->regs_dx > o->regs_size - 8 || o->regs_r10 > o->regs_size - 8 || o->regs_r8 > o->regs_size - 8 ||
		  o->regs_r9 > o->regs_size - 8 || o->regs_size < 8))
		why = "pt_regs offsets out of range";
	else if (hp_ptask_known(o) && hp_ptask_span(o, &lo, &len))
		why = "task_struct offsets out of range";
	else if ((c->flags & HP_PPROBE_RETURN) && (!hp_ptask_known(o) || c->kind != HP_PKIND_CAPTURE))
		why = "a return probe needs the current task's offsets and the capture kind";
	else if ((why = hp_pcond_check(&c->cond)))
		;
	else if ((c->flags & HP_PPROBE_RETURN) && (c->cond.nargs || (c->cond.need & HP_PCOND_NEED_MEM)))
		why = "a return probe's condition reads no argument or memory";
	else if (!(c->flags & HP_PPROBE_RETURN) && (c->cond.need & HP_PCOND_NEED_RET))
		why = "a condition on a return value needs a return probe";
	else if ((c->cond.need & HP_PCOND_NEED_TASK) && !hp_ptask_known(o))
		why = "a condition on the task needs the current task's offsets";
	else if ((c->cond.need & HP_PCOND_NEED_MEM) && (c->mem_src == HP_PMEM_NONE || c->kind != HP_PKIND_CAPTURE))
		why = "a condition on memory needs a memory capture";
	if (why)
		snprintf(msg, cap, "%s", why);
	return why ? -EINVAL : 0;
}

static int op_add(const struct hp_pctl_probe *c, char *msg, size_t cap)
{
	int rc = check_probe(c, msg, cap);
	if (rc)
		return rc;
	int pi = find_probe(c->probe_id);
	if (pi < 0) {
		for (pi = 0; pi < TCG_MAX_PROBES && tcg.probes[pi].id; pi++)
			;
		if (pi == TCG_MAX_PROBES) {
			snprintf(msg, cap, "too many probes (%d)", TCG_MAX_PROBES);
			return -ENOSPC;
		}
		struct probe *p = &tcg.probes[pi];
		size_t nv = tcg.max_vcpus;
		p->base = calloc(nv, 8);
		p->base_first = calloc(nv, 8);
		p->base_last = calloc(nv, 8);
		p->reported = calloc(nv, 8);
		p->seen = calloc(nv, 8);
		p->last_change = calloc(nv, 8);
		if (!p->base || !p->base_first || !p->base_last || !p->reported || !p->seen || !p->last_change) {
			probe_free(p);
			return -ENOMEM;
		}
		p->id = c->probe_id;
		p->slot = -1;
	}
	int si;
	for (si = 0; si < TCG_MAX_SLOTS && tcg.slots[si].state != SLOT_FREE; si++)
		;
	if (si == TCG_MAX_SLOTS) {
		snprintf(msg, cap, "no free probe slot (removals not applied yet?)");
		return -EBUSY;
	}
	struct probe *p = &tcg.probes[pi];
	if (p->slot >= 0)
		retire_slot(p->slot);
	struct slot *s = &tcg.slots[si];
	s->cfg = *c;
	s->inline_count = c->kind == HP_PKIND_COUNT && c->filter_pid < 0 && !c->filter_comm[0] && !c->cond.nops;
	s->state = SLOT_LIVE;
	s->probe = pi;
	p->slot = si;
	p->enabled = (c->flags & HP_PPROBE_ENABLED) != 0;
	atomic_store(&s->enabled, p->enabled);
	return publish();
}

static int op_set(uint32_t id, int op, char *msg, size_t cap, int do_publish)
{
	int pi = find_probe(id);
	if (pi < 0) {
		snprintf(msg, cap, "no probe %u", id);
		return -ENOENT;
	}
	struct probe *p = &tcg.probes[pi];
	if (op == HP_PCTL_REMOVE) {
		if (p->slot >= 0)
			retire_slot(p->slot);
		for (int si = 0; si < TCG_MAX_SLOTS; si++)
			if (tcg.slots[si].probe == pi)
				tcg.slots[si].probe = -1; /* nothing to fold into any more */
		probe_free(p);
		return do_publish ? publish() : 0;
	}
	p->enabled = op == HP_PCTL_ENABLE;
	if (p->slot >= 0)
		atomic_store(&tcg.slots[p->slot].enabled, p->enabled);
	if (p->slot >= 0 && !p->enabled && (tcg.slots[p->slot].cfg.flags & HP_PPROBE_RETURN))
		tcg__ret_drop_slot(p->slot); /* disabled is free: no call waits on it */
	return do_publish ? publish() : 0;
}

static void fill_stats(struct hp_pctl_stats *st)
{
	unsigned nv = nvcpus();
	memset(st, 0, sizeof *st);
	for (unsigned v = 0; v < nv; v++) {
		st->hits += atomic_load(&tcg.rings[v]->written);
		st->dropped += atomic_load(&tcg.rings[v]->dropped);
		st->filtered += atomic_load(&tcg.vs[v].filtered);
		st->mem_errors += atomic_load(&tcg.vs[v].mem_errors);
		st->task_cached += atomic_load(&tcg.vs[v].task_cached);
	}
	st->resets = atomic_load(&tcg.resets);
	st->ret_pending = atomic_load(&tcg.ret_count);
	st->ret_sites = atomic_load(&tcg.nret_sites);
	st->instrumented = atomic_load(&tcg.instrumented);
	st->generation = tcg.generation;
	st->applied = tcg.applied;
	for (int i = 0; i < TCG_MAX_PROBES; i++)
		st->nprobes += tcg.probes[i].id != 0;
	st->nvcpus = nv;
}

/* With tcg.mu held: removes every probe (the agent's CLEAR, or the agent gone). */
static int clear_all(char *msg, size_t cap)
{
	int rc = 0;
	for (int i = 0; i < TCG_MAX_PROBES && !rc; i++)
		if (tcg.probes[i].id)
			rc = op_set(tcg.probes[i].id, HP_PCTL_REMOVE, msg, cap, 0);
	return rc ? rc : publish();
}

static void handle(const uint8_t *buf, ssize_t n, struct hp_pctl_reply *r)
{
	int too_long = n > 1024;
	if (too_long)
		n = 0;
	struct hp_pctl_hdr h = { 0 };
	if (n >= (ssize_t)sizeof h)
		memcpy(&h, buf, sizeof h);
	memset(r, 0, sizeof *r);
	r->h = (struct hp_pctl_hdr){ HP_PCTL_MAGIC, HP_PCTL_VERSION, HP_PCTL_REPLY, sizeof *r, h.seq, 0, 0 };
	size_t cap = sizeof r->msg;
	size_t want = 0;
	switch (h.op) {
	case HP_PCTL_HELLO:
	case HP_PCTL_CLEAR:
	case HP_PCTL_FLUSH_COUNTS:
	case HP_PCTL_STATS:
		want = sizeof(struct hp_pctl_hdr);
		break;
	case HP_PCTL_ENABLE:
	case HP_PCTL_DISABLE:
	case HP_PCTL_REMOVE:
	case HP_PCTL_SYNC:
		want = sizeof(struct hp_pctl_id);
		break;
	case HP_PCTL_ADD:
		want = sizeof(struct hp_pctl_probe);
		break;
	}
	int rc = 0;
	if (too_long) {
		snprintf(r->msg, cap, "control message too long");
		rc = -EMSGSIZE;
	} else if (n < (ssize_t)sizeof h || h.magic != HP_PCTL_MAGIC) {
		snprintf(r->msg, cap, "not an HProbe control message");
		rc = -EBADMSG;
	} else if (h.version != HP_PCTL_VERSION) {
		snprintf(r->msg, cap, "control protocol version %u, plugin speaks %u", h.version, HP_PCTL_VERSION);
		rc = -EPROTO;
	} else if (!want) {
		snprintf(r->msg, cap, "unknown operation %u", h.op);
		rc = -EOPNOTSUPP;
	} else if (h.len != (uint32_t)n || (size_t)n != want) {
		snprintf(r->msg, cap, "operation %u: %zd bytes, expected %zu", h.op, n, want);
		rc = -EBADMSG;
	}
	pthread_mutex_lock(&tcg.mu);
	if (!rc) {
		uint32_t id = 0;
		if (want == sizeof(struct hp_pctl_id))
			memcpy(&id, buf + offsetof(struct hp_pctl_id, probe_id), 4);
		switch (h.op) {
		case HP_PCTL_ADD: {
			struct hp_pctl_probe c;
			memcpy(&c, buf, sizeof c);
			rc = op_add(&c, r->msg, cap);
			break;
		}
		case HP_PCTL_ENABLE:
		case HP_PCTL_DISABLE:
		case HP_PCTL_REMOVE:
			rc = op_set(id, h.op, r->msg, cap, 1);
			break;
		case HP_PCTL_CLEAR:
			rc = clear_all(r->msg, cap);
			break;
		case HP_PCTL_FLUSH_COUNTS:
			report_counts();
			report_rets();
			break;
		}
		int change = h.op == HP_PCTL_ADD || h.op == HP_PCTL_ENABLE || h.op == HP_PCTL_DISABLE ||
			     h.op == HP_PCTL_REMOVE || h.op == HP_PCTL_CLEAR || h.op == HP_PCTL_SYNC;
		if (!rc && change)
			r->applied = (uint32_t)wait_applied(tcg.generation, h.wait_ms);
		reap();
	}
	r->status = rc;
	r->plugin_version = HP_PCTL_VERSION;
	r->api_version = (uint32_t)tcg.api_version;
	r->max_vcpus = tcg.max_vcpus;
	r->have_regs = tcg.have_regs;
	fill_stats(&r->stats);
	pthread_mutex_unlock(&tcg.mu);
}

/* The agent is gone (it exited or was killed): nobody drains the rings any more,
 * so every probe leaves the translated code and the guest runs at full speed.
 * A restarted agent re-adds what it recovers. */
static void agent_gone(void)
{
	close(tcg.client_fd);
	tcg.client_fd = -1;
	char msg[128];
	pthread_mutex_lock(&tcg.mu);
	if (clear_all(msg, sizeof msg))
		fprintf(stderr, "hprobe-tcg: removing the probes of a gone agent: %s\n", msg);
	reap();
	pthread_mutex_unlock(&tcg.mu);
}

static void on_client(void)
{
	uint8_t buf[1024];
	ssize_t n = recv(tcg.client_fd, buf, sizeof buf, MSG_TRUNC | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		agent_gone();
		return;
	}
	struct hp_pctl_reply r;
	handle(buf, n, &r); /* n > sizeof buf: truncated by MSG_TRUNC's report */
	if (send(tcg.client_fd, &r, sizeof r, MSG_NOSIGNAL) != (ssize_t)sizeof r)
		agent_gone();
}

static void on_accept(void)
{
	int fd = accept4(tcg.listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	struct ucred cr;
	socklen_t len = sizeof cr;
	/* QEMU's own user, or root (an agent attaching to a libvirt domain's QEMU, which
	 * runs as libvirt's QEMU user) */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) || (cr.uid != geteuid() && cr.uid != 0)) {
		close(fd);
		return;
	}
	/* an agent that reconnects replaces the old connection */
	if (tcg.client_fd >= 0)
		close(tcg.client_fd);
	tcg.client_fd = fd;
}

static void *ctl_main(void *arg)
{
	(void)arg;
	uint64_t next_report = tcg__now_ns() + tcg.period_ms * 1000000ull;
	for (;;) {
		struct pollfd fds[3] = {
			{ .fd = tcg.stop_pipe[0], .events = POLLIN },
			{ .fd = tcg.listen_fd, .events = POLLIN },
			{ .fd = tcg.client_fd, .events = POLLIN },
		};
		uint64_t now = tcg__now_ns();
		int timeout = now >= next_report ? 0 : (int)((next_report - now) / 1000000ull) + 1;
		if (poll(fds, tcg.client_fd >= 0 ? 3 : 2, timeout) < 0 && errno != EINTR)
			break;
		if (fds[0].revents)
			break;
		if (fds[1].revents & POLLIN)
			on_accept();
		if (tcg.client_fd >= 0 && fds[2].revents)
			on_client();
		now = tcg__now_ns();
		if (now >= next_report) {
			pthread_mutex_lock(&tcg.mu);
			reap();
			report_counts();
			tcg__ret_expire();
			report_rets();
			pthread_mutex_unlock(&tcg.mu);
			next_report = now + tcg.period_ms * 1000000ull;
		}
	}
	return NULL;
}

int tcg_ctl__start(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(tcg.ctl_path) >= sizeof sa.sun_path) {
		tcg__log("ctl path too long: %s", tcg.ctl_path);
		return -1;
	}
	strcpy(sa.sun_path, tcg.ctl_path);
	struct stat st;
	if (lstat(tcg.ctl_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			tcg__log("%s exists and is not a socket", tcg.ctl_path);
			return -1;
		}
		unlink(tcg.ctl_path); /* a stale socket from an earlier run */
	}
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* Linux takes the new socket file's mode from the socket inode: 0600 from the start */
	if (fchmod(fd, 0600) || bind(fd, (struct sockaddr *)&sa, sizeof sa) || chmod(tcg.ctl_path, 0600) ||
	    listen(fd, 2)) {
		tcg__log("cannot listen on %s: %s", tcg.ctl_path, strerror(errno));
		close(fd);
		return -1;
	}
	tcg.listen_fd = fd;
	if (pipe2(tcg.stop_pipe, O_CLOEXEC) || pthread_create(&tcg.ctl_thread, NULL, ctl_main, NULL)) {
		tcg__log("cannot start the control thread");
		return -1;
	}
	tcg.ctl_started = 1;
	return 0;
}

void tcg_ctl__stop(void)
{
	if (!tcg.ctl_started)
		return;
	tcg.ctl_started = 0;
	pthread_mutex_lock(&tcg.mu);
	atomic_store(&tcg.stopping, 1);
	pthread_cond_broadcast(&tcg.applied_cv);
	pthread_mutex_unlock(&tcg.mu);
	if (write(tcg.stop_pipe[1], "x", 1) != 1)
		return;
	pthread_join(tcg.ctl_thread, NULL);
	close(tcg.listen_fd);
	if (tcg.client_fd >= 0)
		close(tcg.client_fd);
	unlink(tcg.ctl_path);
}
