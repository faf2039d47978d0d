/* The "tcg-plugin" backend: see plugin_backend.h. Everything read from the ring file
 * is untrusted (a compromised or buggy QEMU can write anything there): each record is
 * copied out once, then checked, and a malformed ring is skipped, never followed. */
#include "backend/plugin_backend.h"
#include "backend/plugin_recs.h"

#include "hprobe/plugin_ring.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/util.h"

#define TICK_ACTIVE_NS 2000000L /* probes armed: look at the rings every 2 ms */
#define TICK_IDLE_NS 100000000L
#define REPLY_SLACK_MS 3000 /* a reply may take the apply wait plus this */

struct known {
	uint32_t id;
	int in_plugin; /* added (enabled or not) */
	int armed;
	struct hp_pctl_probe msg;
	struct hp_count *counts; /* [vcpu] latest totals of a counting probe */
};

struct plug {
	struct hp_backend b;
	int ctl;
	int tfd;
	uint32_t seq;
	uint32_t wait_ms;
	uint8_t *map;
	size_t map_len;
	struct hp_pring_file hdr; /* the checked header: QEMU can rewrite the mapped one */
	uint32_t nrings, ring_bytes;
	uint64_t *tail; /* our cursor per ring (never re-read from the file) */
	uint64_t *seen_dropped;
	unsigned rr;
	int active_tick;
	uint64_t corrupt;
	struct known *known;
	size_t nknown, capknown;
};

static struct plug *P(struct hp_backend *b)
{
	return b->priv;
}

static struct hp_pring *ring_at(struct plug *g, unsigned i)
{
	return hp_pring__at(g->map, &g->hdr, i);
}

int hp_plugin_ring__create(const char *path, unsigned nvcpus, uint32_t ring_bytes, struct hp_err *err)
{
	int rc = hp_pring__create(path, nvcpus, ring_bytes);
	if (rc == -EINVAL)
		return hp_err__set(err, EINVAL, "ring file: %u vCPUs (1..%u), %u bytes (a power of two, 4 KiB..64 MiB)",
				   nvcpus, HP_PRING_MAX_RINGS - 1, ring_bytes);
	return rc ? hp_err__set(err, -rc, "cannot create ring file %s: %s", path, strerror(-rc)) : 0;
}

int hp_plugin__find_so(char *dst, size_t cap, struct hp_err *err)
{
	const char *env = getenv("HPROBE_TCG_PLUGIN");
	if (env && *env) {
		if (access(env, R_OK))
			return hp_err__set(err, ENOENT, "HPROBE_TCG_PLUGIN=%s: %s", env, strerror(errno));
		return hp_pathf(dst, cap, "%s", env) ? hp_err__set(err, ENAMETOOLONG, "plugin path too long") : 0;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return hp_err__set(err, ENOENT, "cannot locate our own binary");
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	if (hp_pathf(dst, cap, "%s/../lib/hprobe-tcg.so", exe))
		return hp_err__set(err, ENAMETOOLONG, "plugin path too long");
	if (access(dst, R_OK))
		return hp_err__set(err, ENOENT, "no TCG plugin at %s (set HPROBE_TCG_PLUGIN)", dst);
	return 0;
}

int hp_plugin__qemu_arg(char *dst, size_t cap, const char *so, const char *ring, const char *ctl, struct hp_err *err)
{
	if (strchr(so, ',') || strchr(ring, ',') || strchr(ctl, ','))
		return hp_err__set(err, EINVAL, "plugin paths must not contain ','");
	if (hp_pathf(dst, cap, "file=%s,ring=%s,ctl=%s", so, ring, ctl))
		return hp_err__set(err, ENAMETOOLONG, "plugin argument too long");
	return 0;
}

/* ---- control requests ---- */

static int request(struct plug *g, void *msg, size_t len, uint16_t op, uint32_t wait_ms, struct hp_pctl_reply *rep,
		   struct hp_err *err)
{
	struct hp_pctl_hdr *h = msg;
	*h = (struct hp_pctl_hdr){ HP_PCTL_MAGIC, HP_PCTL_VERSION, op, (uint32_t)len, ++g->seq, wait_ms, 0 };
	if (g->ctl < 0)
		return hp_err__set(err, EPIPE, "tcg-plugin: not connected");
	if (send(g->ctl, msg, len, MSG_NOSIGNAL) != (ssize_t)len)
		return hp_err__set(err, EPIPE, "tcg-plugin: control socket: %s", strerror(errno));
	struct pollfd pfd = { .fd = g->ctl, .events = POLLIN };
	int pr = poll(&pfd, 1, (int)(wait_ms + REPLY_SLACK_MS));
	if (pr == 0)
		return hp_err__set(err, ETIMEDOUT, "tcg-plugin: no reply from the plugin");
	ssize_t n = pr > 0 ? recv(g->ctl, rep, sizeof *rep, MSG_TRUNC) : -1;
	if (n <= 0)
		return hp_err__set(err, EPIPE, "tcg-plugin: control socket closed (QEMU gone?)");
	if (n != (ssize_t)sizeof *rep || rep->h.magic != HP_PCTL_MAGIC || rep->h.version != HP_PCTL_VERSION ||
	    rep->h.op != HP_PCTL_REPLY || rep->h.len != sizeof *rep || rep->h.seq != g->seq)
		return hp_err__set(err, EPROTO, "tcg-plugin: malformed reply (%zd bytes)", n);
	rep->msg[sizeof rep->msg - 1] = 0;
	if (rep->status < 0) {
		int e = rep->status > -4096 ? -rep->status : EPROTO;
		return hp_err__set(err, e, "tcg-plugin: %s", rep->msg[0] ? rep->msg : strerror(e));
	}
	return 0;
}

static int simple(struct plug *g, uint16_t op, uint32_t id, uint32_t wait_ms, struct hp_pctl_reply *rep,
		  struct hp_err *err)
{
	if (op == HP_PCTL_ENABLE || op == HP_PCTL_DISABLE || op == HP_PCTL_REMOVE || op == HP_PCTL_SYNC) {
		struct hp_pctl_id m = { .probe_id = id };
		return request(g, &m, sizeof m, op, wait_ms, rep, err);
	}
	struct hp_pctl_hdr m;
	return request(g, &m, sizeof m, op, wait_ms, rep, err);
}

static void set_tick(struct plug *g)
{
	int active = 0;
	for (size_t i = 0; i < g->nknown; i++)
		active |= g->known[i].in_plugin;
	if (active == g->active_tick)
		return;
	long ns = active ? TICK_ACTIVE_NS : TICK_IDLE_NS;
	struct itimerspec its = { { 0, ns }, { 0, ns } };
	timerfd_settime(g->tfd, 0, &its, NULL);
	g->active_tick = active;
}

static struct known *find_known(struct plug *g, uint32_t id)
{
	for (size_t i = 0; i < g->nknown; i++)
		if (g->known[i].id == id)
			return &g->known[i];
	return NULL;
}

/* ---- probes ---- */

static int plug_arm_plan(struct hp_backend *b, const struct hp_capture_plan *p,
			 const struct hp_plugin_task_offsets *task, struct hp_err *err)
{
	struct plug *g = P(b);
	struct hp_pctl_probe m;
	memset(&m, 0, sizeof m);
	const struct hp_mem_spec *mem = &p->mem;
	if (p->nargs < 0 || p->nargs > HP_PMAX_ARGS)
		return hp_err__set(err, EINVAL, "nargs %d not in 0..6", p->nargs);
	if (mem->src != HP_MEM_NONE && (mem->len < 1 || mem->len > HP_PMAX_MEM ||
					(mem->src == HP_MEM_ARG && (mem->index < 1 || mem->index > HP_PMAX_ARGS)) ||
					(mem->src == HP_MEM_REG && (mem->index < 0 || mem->index >= HP_PREGS))))
		return hp_err__set(err, EINVAL, "memory capture out of range");
	if (mem->nderef > HP_PMAX_DEREF)
		return hp_err__set(err, EINVAL, "%u pointers to follow, %d at most", mem->nderef, HP_PMAX_DEREF);
	m.probe_id = p->probe_id;
	m.vaddr = p->addr;
	m.kind = p->count_only ? HP_PKIND_COUNT : HP_PKIND_CAPTURE;
	m.nargs = (uint8_t)p->nargs;
	m.flags = HP_PPROBE_ENABLED | (p->regs ? HP_PPROBE_REGS : 0) | (mem->is_string ? HP_PPROBE_MEM_STRING : 0);
	m.mem_src = mem->src == HP_MEM_ARG ? HP_PMEM_ARG : mem->src == HP_MEM_REG ? HP_PMEM_REG : HP_PMEM_NONE;
	m.mem_index = (uint8_t)(mem->src != HP_MEM_NONE ? mem->index : 0);
	m.mem_len = mem->src != HP_MEM_NONE ? mem->len : 0;
	m.mem_off = mem->off;
	m.mem_nderef = mem->nderef;
	memcpy(m.mem_deref, mem->deref, sizeof(int32_t) * mem->nderef);
	m.filter_pid = p->pid;
	memcpy(m.filter_comm, p->comm, HP_COMM_BYTES);
	m.cond = p->cond;
	if (p->ret) {
		m.flags |= HP_PPROBE_RETURN;
		m.exit_vaddr = p->exit_addr;
		m.ret_timeout_ms = p->ret_timeout_ns / 1000000u > UINT32_MAX ? UINT32_MAX
									     : (uint32_t)(p->ret_timeout_ns / 1000000u);
	}
	if (task)
		m.task = *task;
	/* like the engine: without pt_regs offsets the args are the raw registers */
	if (p->syscall_args && m.task.regs_size >= 8)
		m.flags |= HP_PPROBE_SYSCALL_ARGS;

	struct known *k = find_known(g, p->probe_id);
	if (!k) {
		if (g->nknown == g->capknown) {
			size_t nc = g->capknown ? g->capknown * 2 : 16;
			struct known *n = realloc(g->known, nc * sizeof *n);
			if (!n)
				return hp_err__set(err, ENOMEM, "out of memory");
			g->known = n;
			g->capknown = nc;
		}
		k = &g->known[g->nknown++];
		memset(k, 0, sizeof *k);
		k->id = p->probe_id;
	}
	struct hp_pctl_reply rep;
	k->msg = m;
	int rc = request(g, &k->msg, sizeof k->msg, HP_PCTL_ADD, g->wait_ms, &rep, err);
	if (!rc)
		k->in_plugin = k->armed = 1;
	set_tick(g);
	return rc;
}

static int plug_arm(struct hp_backend *b, uint64_t addr, uint32_t probe_id, struct hp_err *err)
{
	struct plug *g = P(b);
	struct known *k = find_known(g, probe_id);
	if (!k)
		return hp_err__set(err, EINVAL, "tcg-plugin: probe %u has no capture plan (arm it with arm_plan)",
				   probe_id);
	if (k->msg.vaddr != addr)
		return hp_err__set(err, EINVAL, "tcg-plugin: probe %u is at 0x%llx, not 0x%llx", probe_id,
				   (unsigned long long)k->msg.vaddr, (unsigned long long)addr);
	if (k->armed)
		return 0;
	struct hp_pctl_reply rep;
	int rc = k->in_plugin ? simple(g, HP_PCTL_ENABLE, probe_id, g->wait_ms, &rep, err)
			      : request(g, &k->msg, sizeof k->msg, HP_PCTL_ADD, g->wait_ms, &rep, err);
	if (!rc)
		k->in_plugin = k->armed = 1;
	set_tick(g);
	return rc;
}

/* Disabled means free: the plugin re-instruments without the probe (its counts stay). */
static int plug_disarm(struct hp_backend *b, uint64_t addr, uint32_t probe_id, struct hp_err *err)
{
	(void)addr;
	struct plug *g = P(b);
	struct known *k = find_known(g, probe_id);
	if (!k || !k->armed)
		return 0;
	struct hp_pctl_reply rep;
	int rc = simple(g, HP_PCTL_DISABLE, probe_id, g->wait_ms, &rep, err);
	if (!rc)
		k->armed = 0;
	return rc;
}

static void plug_forget(struct hp_backend *b, uint32_t probe_id)
{
	struct plug *g = P(b);
	struct known *k = find_known(g, probe_id);
	if (!k)
		return;
	struct hp_pctl_reply rep;
	struct hp_err err;
	if (k->in_plugin && simple(g, HP_PCTL_REMOVE, probe_id, g->wait_ms, &rep, &err))
		hp_warn("tcg-plugin: removing probe %u: %s", probe_id, err.msg);
	free(k->counts);
	*k = g->known[--g->nknown];
	set_tick(g);
}

static int plug_detach(struct hp_backend *b, struct hp_err *err)
{
	struct plug *g = P(b);
	struct hp_pctl_reply rep;
	int rc = simple(g, HP_PCTL_CLEAR, 0, g->wait_ms, &rep, err);
	while (g->nknown)
		free(g->known[--g->nknown].counts);
	set_tick(g);
	return rc;
}

/* ---- events ---- */

/* A counting probe's latest totals on one vCPU (the parser checked the vCPU). */
static void keep_count(struct plug *g, const struct hp_count *c)
{
	struct known *k = find_known(g, c->probe_id);
	if (k && !k->counts)
		k->counts = calloc(g->nrings - 1, sizeof *k->counts);
	if (k && k->counts)
		k->counts[c->vcpu] = *c;
}

/* 1 = *ev filled from ring i, 0 = ring i is empty. */
static int take(struct plug *g, unsigned i, struct hp_bev *ev)
{
	union {
		struct hp_prec h;
		uint8_t raw[HP_PREC_HIT_MAX + 8];
	} rec;
	uint32_t len;
	const char *why;
	int rc;
	while ((rc = hp_pring__take(ring_at(g, i), g->ring_bytes, &g->tail[i], rec.raw, sizeof rec, &len, &why))) {
		if (rc < 0) {
			g->corrupt++;
			hp_warn("tcg-plugin: ring %u: %s: skipped to its head", i, why);
			return 0;
		}
		if (hp_plugin_rec__parse(rec.raw, len, i, g->nrings, ev)) {
			g->corrupt++;
			continue;
		}
		if (ev->type == HP_BEV_COUNT)
			keep_count(g, &ev->count);
		return 1;
	}
	return 0;
}

static int plug_event_fd(struct hp_backend *b)
{
	return P(b)->tfd;
}

/* The plugin never writes unasked: a hang-up means QEMU exited (or another agent
 * took the socket over). */
static int ctl_gone(struct plug *g)
{
	struct pollfd pfd = { .fd = g->ctl, .events = POLLIN };
	return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR));
}

static int plug_next_event(struct hp_backend *b, struct hp_bev *ev, struct hp_err *err)
{
	(void)err;
	struct plug *g = P(b);
	for (unsigned k = 0; k < g->nrings; k++) {
		unsigned i = (g->rr + k) % g->nrings;
		if (i < g->nrings - 1) {
			uint64_t d = atomic_load_explicit(&ring_at(g, i)->dropped, memory_order_relaxed);
			if (d != g->seen_dropped[i]) {
				memset(ev, 0, sizeof *ev);
				ev->type = HP_BEV_DROPPED;
				ev->vcpu = (int)i;
				ev->dropped = d - g->seen_dropped[i];
				ev->time_ns = hp_now_ns();
				g->seen_dropped[i] = d;
				g->rr = i;
				return 1;
			}
		}
		if (take(g, i, ev)) {
			g->rr = (i + 1) % g->nrings;
			return 1;
		}
	}
	/* all drained: the timer may wait for its next tick (a timerfd stays readable
	 * until read, so poll() comes straight back while records remain) */
	uint64_t ticks;
	if (read(g->tfd, &ticks, sizeof ticks) < 0 && errno != EAGAIN)
		hp_debug("tcg-plugin: timerfd read: %s", strerror(errno));
	if (g->ctl >= 0 && ctl_gone(g)) {
		close(g->ctl);
		g->ctl = -1;
		memset(ev, 0, sizeof *ev);
		ev->type = HP_BEV_GONE;
		snprintf(ev->reason, sizeof ev->reason, "the TCG plugin's control socket closed (QEMU gone)");
		return 1;
	}
	return 0;
}

static void plug_destroy(struct hp_backend *b)
{
	if (!b)
		return;
	struct plug *g = P(b);
	if (g->ctl >= 0)
		close(g->ctl);
	if (g->tfd >= 0)
		close(g->tfd);
	if (g->map)
		munmap(g->map, g->map_len);
	free(g->tail);
	free(g->seen_dropped);
	while (g->nknown)
		free(g->known[--g->nknown].counts);
	free(g->known);
	free(g);
}

static void plug_set_apply_wait(struct hp_backend *b, uint32_t ms)
{
	P(b)->wait_ms = ms;
}

static int plug_sync(struct hp_backend *b, uint32_t timeout_ms, struct hp_err *err)
{
	struct hp_pctl_reply rep;
	int rc = simple(P(b), HP_PCTL_SYNC, 0, timeout_ms, &rep, err);
	if (!rc && !rep.applied)
		rc = hp_err__set(err, ETIMEDOUT, "tcg-plugin: the VM did not run the new code within %u ms",
				 timeout_ms);
	return rc;
}

static int plug_flush_counts(struct hp_backend *b, struct hp_err *err)
{
	struct hp_pctl_reply rep;
	return simple(P(b), HP_PCTL_FLUSH_COUNTS, 0, 0, &rep, err);
}

static int plug_stats(struct hp_backend *b, struct hp_pctl_stats *st, struct hp_err *err)
{
	struct hp_pctl_reply rep;
	int rc = simple(P(b), HP_PCTL_STATS, 0, 0, &rep, err);
	if (!rc)
		*st = rep.stats;
	return rc;
}

static uint64_t plug_corrupt(struct hp_backend *b)
{
	return P(b)->corrupt;
}

static int plug_count_total(struct hp_backend *b, uint32_t probe_id, struct hp_count *total)
{
	struct plug *g = P(b);
	struct known *k = find_known(g, probe_id);
	*total = (struct hp_count){ .probe_id = probe_id, .vcpu = UINT32_MAX };
	if (!k)
		return -ENOENT;
	for (unsigned v = 0; k->counts && v < g->nrings - 1; v++) {
		const struct hp_count *c = &k->counts[v];
		total->count += c->count;
		if (c->first_ns && (!total->first_ns || c->first_ns < total->first_ns))
			total->first_ns = c->first_ns;
		if (c->last_ns > total->last_ns)
			total->last_ns = c->last_ns;
	}
	return 0;
}

/* Guest memory, registers and VM control belong to the gdbstub backend: those
 * operations are left out, and the front door says so. */
static const struct hp_backend_ops plug_ops = {
	.name = "tcg-plugin",
	.arm = plug_arm,
	.disarm = plug_disarm,
	.event_fd = plug_event_fd,
	.next_event = plug_next_event,
	.detach = plug_detach,
	.destroy = plug_destroy,
	.arm_plan = plug_arm_plan,
	.forget = plug_forget,
	.sync = plug_sync,
	.set_apply_wait = plug_set_apply_wait,
	.flush_counts = plug_flush_counts,
	.count_total = plug_count_total,
	.stats = plug_stats,
	.corrupt = plug_corrupt,
};

static int map_ring(struct plug *g, const char *path, struct hp_err *err)
{
	int e;
	const char *why;
	g->map = hp_pring__map(path, &g->hdr, &g->map_len, &e, &why);
	if (!g->map)
		return hp_err__set(err, e, "ring file %s: %s (%s)", path, why, strerror(e));
	g->nrings = g->hdr.nrings;
	g->ring_bytes = g->hdr.ring_bytes;
	g->tail = calloc(g->nrings, sizeof *g->tail);
	g->seen_dropped = calloc(g->nrings, sizeof *g->seen_dropped);
	if (!g->tail || !g->seen_dropped)
		return hp_err__set(err, ENOMEM, "out of memory");
	for (unsigned i = 0; i < g->nrings; i++)
		g->tail[i] = atomic_load(&ring_at(g, i)->tail) & ~7ull;
	return 0;
}

static int connect_ctl(struct plug *g, const char *path, int qemu_pid, struct hp_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path)
		return hp_err__set(err, ENAMETOOLONG, "control socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	uint64_t end = hp_now_ns() + HP_PLUGIN_CONNECT_MS * 1000000ull;
	for (;;) {
		g->ctl = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (g->ctl < 0)
			return hp_err__set(err, errno, "socket: %s", strerror(errno));
		if (!connect(g->ctl, (struct sockaddr *)&sa, sizeof sa))
			break;
		int e = errno;
		close(g->ctl);
		g->ctl = -1;
		if ((e != ENOENT && e != ECONNREFUSED) || hp_now_ns() > end)
			return hp_err__set(err, e, "cannot connect to the TCG plugin at %s: %s", path, strerror(e));
		usleep(20000);
	}
	struct ucred cr;
	socklen_t len = sizeof cr;
	if (getsockopt(g->ctl, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return hp_err__set(err, errno, "the TCG plugin's socket %s: %s", path, strerror(errno));
	if (qemu_pid > 0 && cr.pid != qemu_pid)
		return hp_err__set(err, EPERM, "the socket %s is not QEMU's (pid %d, not %d)", path, cr.pid, qemu_pid);
	if (qemu_pid <= 0 && cr.uid != geteuid())
		return hp_err__set(err, EPERM, "the TCG plugin's socket %s belongs to another user", path);
	const struct hp_pring_file *f = (const void *)g->map;
	uint64_t mapped_by = atomic_load(&((struct hp_pring_file *)f)->plugin_pid);
	if (mapped_by != (uint64_t)cr.pid)
		return hp_err__set(err, EINVAL, "the plugin at %s (pid %d) did not map this ring file", path, cr.pid);
	return 0;
}

struct hp_backend *hp_plugin_backend__new(const char *ctl_path, const char *ring_path, int qemu_pid, struct hp_err *err)
{
	struct plug *g = calloc(1, sizeof *g);
	if (!g) {
		hp_err__set(err, ENOMEM, "out of memory");
		return NULL;
	}
	g->b.ops = &plug_ops;
	g->b.priv = g;
	g->ctl = g->tfd = -1;
	g->active_tick = -1;
	struct hp_pctl_reply rep;
	int rc = map_ring(g, ring_path, err);
	if (!rc)
		rc = connect_ctl(g, ctl_path, qemu_pid, err);
	if (!rc)
		rc = simple(g, HP_PCTL_HELLO, 0, 0, &rep, err);
	if (!rc && rep.max_vcpus > g->nrings - 1)
		rc = hp_err__set(err, EINVAL, "the VM has %u vCPUs, the ring file %u", rep.max_vcpus, g->nrings - 1);
	if (!rc) {
		g->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (g->tfd < 0)
			rc = hp_err__set(err, errno, "timerfd: %s", strerror(errno));
	}
	if (rc) {
		plug_destroy(&g->b);
		return NULL;
	}
	set_tick(g);
	return &g->b;
}
