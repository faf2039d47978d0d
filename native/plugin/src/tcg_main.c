/* hprobe-tcg.so: HProbe's in-QEMU probe tier. The probe handler runs inside QEMU, at
 * the probed instruction of translated code, without stopping the VM: it reads the
 * registers, the current task and the declared memory, applies the pid/comm filter
 * and writes a record into the vCPU's ring. Counting probes without a filter are an
 * inline per-vCPU add: no call at all.
 *
 *   -plugin file=hprobe-tcg.so,ring=PATH,ctl=PATH[,period_ms=N][,debug=on]
 *
 * Probes change while the VM runs: the control thread (tcg_ctl.c) publishes a new
 * plan and rings a per-vCPU "doorbell" that every kernel translation block tests inline;
 * the vCPU that sees it calls qemu_plugin_reset, which flushes every translation
 * block with all vCPUs stopped, and our reset callback installs the new plan. Code
 * translated afterwards carries only the probes of the new plan, so a removed probe
 * costs nothing. (qemu_plugin_reset must be called from a vCPU thread: from any
 * other thread QEMU 10.0 drops the callbacks without flushing the translated code.) */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tcg.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = HP_QEMU_PLUGIN_API_VERSION;

struct tcg tcg = { .listen_fd = -1, .client_fd = -1, .stop_pipe = { -1, -1 } };

static const char *const reg_names[HP_PREGS] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp",    "rsp", "r8",      "r9",        "r10",
	"r11", "r12", "r13", "r14", "r15", "rip", "eflags", "cr3", "gs_base", "k_gs_base",
};
static const enum hp_preg sysv_args[HP_PMAX_ARGS] = {
	HP_PREG_RDI, HP_PREG_RSI, HP_PREG_RDX, HP_PREG_RCX, HP_PREG_R8, HP_PREG_R9,
};

void tcg__log(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof line - 2)
		n = sizeof line - 2;
	line[n] = '\n';
	line[n + 1] = 0;
	fprintf(stderr, "hprobe-tcg: %s", line);
}

uint64_t tcg__now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the rings ---- */

static int ring_map(void)
{
	/* the agent wrote this file, but it is checked all the same: a bad size must not
	 * make us write outside the mapping */
	int e;
	const char *why;
	size_t len;
	struct hp_pring_file hdr;
	void *m = hp_pring__map(tcg.ring_path, &hdr, &len, &e, &why);
	if (!m) {
		tcg__log("ring %s: %s (%s)", tcg.ring_path, why, strerror(e));
		return -1;
	}
	const struct hp_pring_file *h = &hdr; /* checked; the mapped copy is not read again */
	if (h->nrings - 1 < tcg.max_vcpus) {
		tcg__log("ring file has %u vCPU rings, the VM has up to %u vCPUs", h->nrings - 1, tcg.max_vcpus);
		munmap(m, len);
		return -1;
	}
	tcg.map = m;
	tcg.map_len = len;
	tcg.file = m;
	tcg.nrings = h->nrings;
	tcg.ring_bytes = h->ring_bytes;
	for (unsigned i = 0; i < h->nrings; i++)
		tcg.rings[i] = hp_pring__at(m, h, i);
	atomic_store(&tcg.file->plugin_pid, (uint64_t)getpid());
	return 0;
}

int tcg__ring_put(unsigned ring, const void *rec, uint32_t len)
{
	return hp_pring__put(tcg.rings[ring], tcg.ring_bytes, rec, len, &tcg.prod[ring].tail_seen);
}

/* ---- the probe handler (vCPU threads; its helpers in tcg_hit.c) ---- */

static int passes(const struct hp_pctl_probe *c, const struct task_id *t, int have_task)
{
	if (c->filter_pid >= 0 && (!have_task || (t->pid != c->filter_pid && t->tgid != c->filter_pid)))
		return 0;
	if (c->filter_comm[0] && (!have_task || strncmp(t->comm, c->filter_comm, HP_COMM_BYTES) != 0))
		return 0;
	return 1;
}

/* Reads the first n arguments (n <= 6). */
static void capture_args(struct hitregs *hr, const struct hp_pctl_probe *c, uint64_t *args, int n)
{
	if (!(c->flags & HP_PPROBE_SYSCALL_ARGS)) {
		for (int i = 0; i < n; i++)
			args[i] = tcg__reg(hr, sysv_args[i]);
		return;
	}
	/* a syscall wrapper's one argument is struct pt_regs *: the user's arguments are there */
	const struct hp_plugin_task_offsets *o = &c->task;
	uint8_t pt[512];
	if (o->regs_size > sizeof pt || tcg__read_mem(hr->vs, tcg__reg(hr, HP_PREG_RDI), pt, o->regs_size)) {
		atomic_fetch_add_explicit(&hr->vs->mem_errors, 1, memory_order_relaxed);
		return;
	}
	const uint32_t offs[HP_PMAX_ARGS] = { o->regs_di, o->regs_si, o->regs_dx, o->regs_r10, o->regs_r8, o->regs_r9 };
	for (int i = 0; i < n; i++)
		memcpy(&args[i], pt + offs[i], 8); /* offsets were checked against regs_size when added */
}

/* Guest pointers may be bad: an unreadable address records no bytes. A string near
 * the end of a mapped page is retried up to the page end. */
static uint16_t capture_mem(struct vstate *vs, const struct hp_pctl_probe *c, uint64_t at, uint8_t *dst)
{
	uint32_t len = c->mem_len;
	int is_string = c->flags & HP_PPROBE_MEM_STRING;
	if (tcg__read_mem(vs, at, dst, len)) {
		uint32_t to_end = 4096 - (uint32_t)(at & 4095);
		if (!is_string || to_end >= len || tcg__read_mem(vs, at, dst, to_end)) {
			atomic_fetch_add_explicit(&vs->mem_errors, 1, memory_order_relaxed);
			return 0;
		}
		len = to_end;
	}
	if (is_string) {
		uint8_t *nul = memchr(dst, 0, len);
		if (nul)
			len = (uint32_t)(nul - dst);
	}
	return (uint16_t)len;
}

/* A member path's pointers, from *at on (checked: mem_nderef <= HP_PMAX_DEREF); a bad
 * one is a read error and leaves *at where it failed. */
static int follow(struct vstate *vs, const struct hp_pctl_probe *c, uint64_t *at)
{
	for (uint32_t i = 0; i < c->mem_nderef; i++) {
		uint64_t ptr;
		if (tcg__read_mem(vs, *at, &ptr, 8)) {
			atomic_fetch_add_explicit(&vs->mem_errors, 1, memory_order_relaxed);
			return -1;
		}
		*at = ptr + (uint64_t)(int64_t)c->mem_deref[i];
	}
	return 0;
}

static void on_hit(unsigned vcpu, void *udata)
{
	struct slot *s = udata;
	if (vcpu >= tcg.max_vcpus || !atomic_load_explicit(&s->enabled, memory_order_relaxed))
		return;
	const struct hp_pctl_probe *c = &s->cfg;
	struct vstate *vs = &tcg.vs[vcpu];
	if (!vs->buf)
		tcg__vstate_init(vs);
	vs->rbuf->len = 0; /* a plain byte array: no clear function, no terminator */
	uint64_t now = tcg__now_ns();
	int user = (c->vaddr >> 63) == 0;
	struct hitregs hr = { .vs = vs, .have = 1u << HP_PREG_RIP, .v[HP_PREG_RIP] = c->vaddr };
	uint64_t args[HP_PMAX_ARGS] = { 0 }, cregs[HP_PREGS] = { 0 };
	if (c->cond.regs)
		tcg__cond_regs(&hr, &c->cond, cregs);
	/* a condition on arguments (and registers) alone refuses a hit before the task is read */
	int early = c->cond.nops && !(c->cond.need & (HP_PCOND_NEED_TASK | HP_PCOND_NEED_MEM | HP_PCOND_NEED_RET));
	if (early) {
		struct hp_pcond_in in = { .args = args, .regs = cregs };
		if (c->cond.nargs)
			capture_args(&hr, c, args, c->cond.nargs);
		if (!hp_pcond_eval(&c->cond, &in)) {
			tcg__filtered(vs);
			return;
		}
	}
	struct task_id t = { -1, -1, { 0 } };
	int need_task = c->kind == HP_PKIND_CAPTURE || c->filter_pid >= 0 || c->filter_comm[0] ||
			(c->cond.need & HP_PCOND_NEED_TASK);
	uint64_t task = 0;
	int have_task = need_task && tcg__read_task(&hr, c, vcpu, user, &t, &task) == 0;
	if (need_task && !have_task) {
		t = (struct task_id){ -1, -1, { 0 } }; /* nothing half-read */
		atomic_fetch_add_explicit(&vs->mem_errors, 1, memory_order_relaxed);
	}
	if (!passes(c, &t, have_task)) {
		tcg__filtered(vs);
		return;
	}
	size_t si = (size_t)(s - tcg.slots);
	if (c->flags & HP_PPROBE_RETURN) { /* its hit is the return's */
		if (have_task)
			tcg__ret_entry(&hr, s, task, now);
		return;
	}
	struct hp_pcond_in in = {
		.args = args, .regs = cregs, .have_task = have_task, .pid = t.pid, .tgid = t.tgid, .comm = t.comm
	};
	if (c->kind == HP_PKIND_COUNT) {
		if (!early && c->cond.nargs)
			capture_args(&hr, c, args, c->cond.nargs);
		if (!early && !hp_pcond_eval(&c->cond, &in)) {
			tcg__filtered(vs);
			return;
		}
		struct sbentry *e = qemu_plugin_scoreboard_find(tcg.sb, vcpu);
		e->count[si]++;
		if (!atomic_load_explicit(&vs->first_ns[si], memory_order_relaxed))
			atomic_store_explicit(&vs->first_ns[si], now, memory_order_relaxed);
		atomic_store_explicit(&vs->last_ns[si], now, memory_order_relaxed);
		return;
	}

	union {
		struct hp_prec_hit h;
		uint8_t raw[HP_PREC_HIT_MAX + 8];
	} rec;
	struct hp_prec_hit *h = &rec.h;
	/* ip exact: TCG does not keep env->eip current inside a block */
	tcg__hit_head(h, c, vcpu, now, &t, have_task, user, c->vaddr, tcg__reg(&hr, HP_PREG_CR3));

	int nargs = c->mem_src == HP_PMEM_ARG && c->mem_index > c->nargs ? c->mem_index : c->nargs;
	nargs = c->cond.nargs > nargs ? c->cond.nargs : nargs;
	if (nargs)
		capture_args(&hr, c, args, nargs);
	uint8_t *p = rec.raw + sizeof *h;
	h->nargs = c->nargs;
	memcpy(p, args, 8u * c->nargs);
	p += 8u * c->nargs;
	uint64_t regs[HP_PREGS] = { 0 };
	if ((c->flags & HP_PPROBE_REGS) || c->mem_src == HP_PMEM_REG) {
		for (int r = 0; r < HP_PREGS; r++)
			regs[r] = tcg__reg(&hr, (enum hp_preg)r); /* rip is the probe's address, see h->ip */
	}
	if (c->flags & HP_PPROBE_REGS) {
		h->flags |= HP_PHIT_REGS;
		h->nregs = HP_PREGS;
		memcpy(p, regs, sizeof regs);
		p += sizeof regs;
	}
	if (c->mem_src != HP_PMEM_NONE) {
		uint64_t base = c->mem_src == HP_PMEM_ARG ? args[c->mem_index - 1] : regs[c->mem_index];
		h->memaddr = base + (uint64_t)c->mem_off;
		h->memlen = follow(vs, c, &h->memaddr) ? 0 : capture_mem(vs, c, h->memaddr, p);
		h->flags |= HP_PHIT_MEM;
		in.mem = p;
		in.memlen = h->memlen;
		p += h->memlen;
	}
	if (!early && !hp_pcond_eval(&c->cond, &in)) { /* before the record is published: it costs nothing */
		tcg__filtered(vs);
		return;
	}
	tcg__hit_put(vcpu, h, p);
}

/* First hit of an inline counter on this vCPU (the condition is tested before the add). */
static void on_first_count(unsigned vcpu, void *udata)
{
	struct slot *s = udata;
	if (vcpu < tcg.max_vcpus)
		atomic_store_explicit(&tcg.vs[vcpu].first_ns[s - tcg.slots], tcg__now_ns(), memory_order_relaxed);
}

/* ---- instrumentation ---- */

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
static void on_atexit(qemu_plugin_id_t id, void *udata);
static void on_vcpu_init(qemu_plugin_id_t id, unsigned int vcpu);

static void register_callbacks(void)
{
	qemu_plugin_register_vcpu_init_cb(tcg.id, on_vcpu_init);
	qemu_plugin_register_vcpu_tb_trans_cb(tcg.id, on_tb_trans);
	qemu_plugin_register_atexit_cb(tcg.id, on_atexit, NULL);
}

/* Every vCPU is stopped and every translation block is gone (QEMU's exclusive
 * context): the one safe moment to change what translated code refers to. */
void tcg__on_reset(qemu_plugin_id_t id)
{
	(void)id;
	pthread_mutex_lock(&tcg.mu);
	if (tcg.pending) {
		struct plan *old = atomic_load(&tcg.active);
		atomic_store(&tcg.active, tcg.pending);
		tcg.pending = NULL;
		free(old);
		if (!atomic_load(&tcg.active)->has_ret)
			tcg__ret_forget_sites(); /* no return probe left: no vCPU runs now */
	}
	tcg.applied = tcg.generation;
	int n = qemu_plugin_num_vcpus();
	for (int v = 0; v < n; v++) {
		struct sbentry *e = qemu_plugin_scoreboard_find(tcg.sb, (unsigned)v);
		__atomic_store_n(&e->doorbell, 0, __ATOMIC_RELAXED);
		/* a vCPU may be inside a switch right now: no cache until it finishes one */
		__atomic_store_n(&e->task_ok, 0, __ATOMIC_RELAXED);
	}
	atomic_store(&tcg.reset_wanted, 0);
	atomic_fetch_add(&tcg.resets, 1);
	register_callbacks();
	pthread_cond_broadcast(&tcg.applied_cv);
	pthread_mutex_unlock(&tcg.mu);
}

static void on_doorbell(unsigned vcpu, void *udata)
{
	(void)udata;
	struct sbentry *e = qemu_plugin_scoreboard_find(tcg.sb, vcpu);
	__atomic_store_n(&e->doorbell, 0, __ATOMIC_RELAXED);
	if (atomic_exchange(&tcg.reset_wanted, 0))
		qemu_plugin_reset(tcg.id, tcg__on_reset);
}

void tcg__request_reinstrument(void)
{
	atomic_store(&tcg.reset_wanted, 1);
	int n = qemu_plugin_num_vcpus();
	for (int v = 0; v < n; v++) {
		struct sbentry *e = qemu_plugin_scoreboard_find(tcg.sb, (unsigned)v);
		__atomic_store_n(&e->doorbell, 1, __ATOMIC_RELAXED);
	}
}

static void instrument(struct qemu_plugin_insn *insn, struct slot *s)
{
	size_t si = (size_t)(s - tcg.slots);
	if (s->inline_count) {
		qemu_plugin_u64 cnt = { tcg.sb, offsetof(struct sbentry, count) + si * sizeof(uint64_t) };
		qemu_plugin_register_vcpu_insn_exec_cond_cb(insn, on_first_count, QEMU_PLUGIN_CB_NO_REGS,
							    QEMU_PLUGIN_COND_EQ, cnt, 0, s);
		qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(insn, QEMU_PLUGIN_INLINE_ADD_U64, cnt, 1);
	} else {
		qemu_plugin_register_vcpu_insn_exec_cb(insn, on_hit, QEMU_PLUGIN_CB_R_REGS, s);
	}
	atomic_fetch_add_explicit(&tcg.instrumented, 1, memory_order_relaxed);
}

/* Inline stores, no call: task_ok = 0 when __switch_to starts; task_ok = 1 and
 * switches + 1 when finish_task_switch starts. */
static void instrument_switch(struct qemu_plugin_insn *insn, int in)
{
	qemu_plugin_u64 ok = { tcg.sb, offsetof(struct sbentry, task_ok) };
	qemu_plugin_u64 sw = { tcg.sb, offsetof(struct sbentry, switches) };
	if (in)
		qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(insn, QEMU_PLUGIN_INLINE_ADD_U64, sw, 1);
	qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(insn, QEMU_PLUGIN_INLINE_STORE_U64, ok, (uint64_t)in);
}

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	(void)id;
	/* Kernel blocks only: every vCPU that runs at all enters the kernel at least at
	 * each timer tick, and user code stays free of the test. */
	if (qemu_plugin_tb_vaddr(tb) >> 63) {
		qemu_plugin_u64 bell = { tcg.sb, offsetof(struct sbentry, doorbell) };
		qemu_plugin_register_vcpu_tb_exec_cond_cb(tb, on_doorbell, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_COND_NE,
							  bell, 0, NULL);
	}
	const struct plan *p = atomic_load_explicit(&tcg.active, memory_order_acquire);
	int sites = atomic_load_explicit(&tcg.nret_sites, memory_order_relaxed) > 0;
	if ((!p || !p->n) && !sites)
		return;
	size_t n = qemu_plugin_tb_n_insns(tb);
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		uint64_t va = qemu_plugin_insn_vaddr(insn);
		if (sites && tcg__ret_site_known(va))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, tcg__on_ret, QEMU_PLUGIN_CB_R_REGS,
							       (void *)(uintptr_t)va);
		if (!p || !p->n)
			continue;
		if (p->exit_hook == va)
			qemu_plugin_register_vcpu_insn_exec_cb(insn, tcg__on_task_exit, QEMU_PLUGIN_CB_R_REGS, NULL);
		if (p->switch_out && (va == p->switch_out || va == p->switch_in))
			instrument_switch(insn, va == p->switch_in);
		if (va < p->lo || va > p->hi)
			continue;
		size_t lo = 0, hi = p->n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (p->e[mid].vaddr < va)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < p->n && p->e[lo].vaddr == va; lo++)
			instrument(insn, p->e[lo].slot);
	}
}

static void on_vcpu_init(qemu_plugin_id_t id, unsigned int vcpu)
{
	(void)id;
	if (vcpu < tcg.max_vcpus && !tcg.vs[vcpu].buf)
		tcg__vstate_init(&tcg.vs[vcpu]);
	if (tcg.have_regs)
		return;
	GArray *a = qemu_plugin_get_registers();
	if (!a)
		return;
	const qemu_plugin_reg_descriptor *d = (const void *)a->data;
	for (unsigned i = 0; i < a->len; i++)
		for (int r = 0; r < HP_PREGS; r++)
			if (d[i].name && !strcmp(d[i].name, reg_names[r]) && !tcg.reg[r]) {
				tcg.reg[r] = d[i].handle;
				tcg.have_regs |= 1u << r;
			}
	g_array_free(a, 1);
	if (tcg.debug)
		tcg__log("registers found: mask 0x%x", tcg.have_regs);
}

static void on_atexit(qemu_plugin_id_t id, void *udata)
{
	(void)id;
	(void)udata;
	tcg_ctl__stop();
	if (tcg.own_ring[0])
		unlink(tcg.own_ring);
}

static int parse_args(int argc, char **argv)
{
	tcg.period_ms = 100;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strncmp(a, "ring=", 5)) {
			tcg.ring_path = a + 5;
		} else if (!strncmp(a, "ctl=", 4)) {
			tcg.ctl_path = a + 4;
		} else if (!strncmp(a, "period_ms=", 10)) {
			long v = strtol(a + 10, NULL, 10);
			if (v < 1 || v > 60000) {
				tcg__log("period_ms must be 1..60000");
				return -1;
			}
			tcg.period_ms = (unsigned)v;
		} else if (!strcmp(a, "debug=on")) {
			tcg.debug = 1;
		} else {
			tcg__log("unknown argument '%s' (ctl=PATH[,ring=PATH][,period_ms=N][,debug=on])", a);
			return -1;
		}
	}
	if (!tcg.ctl_path) {
		tcg__log("ctl=PATH is required (the control socket the agent connects to)");
		return -1;
	}
	return 0;
}

/* A QEMU its owner started with our plugin (no agent created a ring for it): the
 * plugin makes CTL.ring itself, sized for the VM's vCPUs, for an agent that attaches. */
static int ring_create(void)
{
	if (tcg.ring_path)
		return 0;
	if (snprintf(tcg.own_ring, sizeof tcg.own_ring, "%s.ring", tcg.ctl_path) >= (int)sizeof tcg.own_ring) {
		tcg__log("ctl path too long");
		return -1;
	}
	int rc = hp_pring__create(tcg.own_ring, tcg.max_vcpus, hp_pring__bytes(tcg.max_vcpus));
	if (rc) {
		tcg__log("cannot create the ring file %s: %s", tcg.own_ring, strerror(-rc));
		return -1;
	}
	tcg.ring_path = tcg.own_ring;
	return 0;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
	if (!info->system_emulation || strcmp(info->target_name, "x86_64") != 0) {
		tcg__log("needs qemu-system-x86_64 (got %s)", info->target_name);
		return -1;
	}
	tcg.id = id;
	tcg.api_version = info->version.cur;
	tcg.max_vcpus = info->system.max_vcpus > 0 ? (unsigned)info->system.max_vcpus : 1;
	if (tcg.max_vcpus > TCG_MAX_VCPUS) {
		tcg__log("at most %u vCPUs", TCG_MAX_VCPUS);
		return -1;
	}
	if (parse_args(argc, argv) || ring_create() || ring_map())
		return -1;
	tcg.vs = calloc(tcg.max_vcpus, sizeof *tcg.vs);
	if (!tcg.vs)
		return -1;
	for (int i = 0; i < TCG_MAX_PROBES; i++)
		tcg.probes[i].slot = -1;
	pthread_mutex_init(&tcg.mu, NULL);
	pthread_mutex_init(&tcg.ret_mu, NULL);
	if (tcg__ret_init())
		return -1;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&tcg.applied_cv, &ca);
	pthread_condattr_destroy(&ca);
	tcg.sb = qemu_plugin_scoreboard_new(sizeof(struct sbentry));
	if (tcg_ctl__start())
		return -1;
	register_callbacks();
	if (tcg.debug)
		tcg__log("loaded: API %d, %u vCPUs, ring %s, ctl %s", tcg.api_version, tcg.max_vcpus, tcg.ring_path,
			 tcg.ctl_path);
	return 0;
}
