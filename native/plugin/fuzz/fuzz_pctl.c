/* Fuzzes the plugin's control handler: the messages the agent sends over the control
 * socket (add with a whole capture plan and condition program, enable, disable,
 * remove, clear, sync, flush, stats), as a confused or hostile peer could send them.
 * The input is a sequence of messages, each a 16-bit length and its bytes; after each
 * one the reply must be well-formed and the plugin's bookkeeping consistent (a probe's
 * slot live and its own, no id twice, the plan sorted and made of live slots).
 *
 * The handler and its helpers are static in tcg_ctl.c, which is compiled here whole;
 * what it calls in QEMU and in the rest of the plugin is stubbed below. The reset QEMU
 * would run later (tcg__on_reset) happens at once, as if every vCPU saw the doorbell. */
#include "../src/tcg_ctl.c"

#include "fuzz_assert.h"

#define NV 2
/* the harness's own walks over every slot and probe: no coverage feedback (they are
 * most of a run's time otherwise, and say nothing of the handler) */
#define NO_COVERAGE __attribute__((no_sanitize("coverage"), noinline)) /* inlined, it would be instrumented */

struct tcg tcg = { .listen_fd = -1, .client_fd = -1, .stop_pipe = { -1, -1 } };
static struct sbentry sb[NV];
static struct vstate vs[NV];
static struct hp_pring rings[NV + 1];

int qemu_plugin_num_vcpus(void)
{
	return NV;
}

void *qemu_plugin_scoreboard_find(struct qemu_plugin_scoreboard *score, unsigned int vcpu_index)
{
	(void)score;
	ASSERT(vcpu_index < NV);
	return &sb[vcpu_index];
}

uint64_t tcg__now_ns(void)
{
	return 1000;
}

void tcg__log(const char *fmt, ...)
{
	(void)fmt;
}

int tcg__ring_put(unsigned ring, const void *rec, uint32_t len)
{
	const struct hp_prec *h = rec;
	ASSERT(ring == NV && len >= sizeof *h && len % 8 == 0 && h->len == len);
	return 0;
}

/* With tcg.mu held, as tcg__on_reset would do it later from a vCPU. */
void tcg__request_reinstrument(void)
{
	if (tcg.pending) {
		free(atomic_load(&tcg.active));
		atomic_store(&tcg.active, tcg.pending);
		tcg.pending = NULL;
	}
	tcg.applied = tcg.generation;
}

void tcg__ret_drop_slot(int si)
{
	ASSERT(si >= 0 && si < TCG_MAX_SLOTS);
}

void tcg__ret_expire(void) {}

NO_COVERAGE static void setup(void)
{
	static int done;
	if (!done) {
		done = 1;
		tcg.max_vcpus = NV;
		tcg.nrings = NV + 1;
		tcg.sb = (struct qemu_plugin_scoreboard *)sb;
		tcg.vs = vs;
		for (unsigned i = 0; i <= NV; i++)
			tcg.rings[i] = &rings[i];
		pthread_mutex_init(&tcg.mu, NULL);
		pthread_cond_init(&tcg.applied_cv, NULL);
	}
	/* a fresh plugin for each input */
	for (int i = 0; i < TCG_MAX_PROBES; i++) {
		if (tcg.probes[i].id)
			probe_free(&tcg.probes[i]);
		tcg.probes[i].slot = -1;
	}
	for (int si = 0; si < TCG_MAX_SLOTS; si++)
		if (tcg.slots[si].state != SLOT_FREE || tcg.slots[si].cfg.probe_id)
			memset(&tcg.slots[si], 0, sizeof tcg.slots[si]);
	memset(sb, 0, sizeof sb);
	free(atomic_load(&tcg.active));
	atomic_store(&tcg.active, NULL);
	free(tcg.pending);
	tcg.pending = NULL;
	tcg.generation = tcg.applied = 0;
}

NO_COVERAGE static void check_state(const struct hp_pctl_reply *r)
{
	ASSERT(r->status <= 0 && memchr(r->msg, 0, sizeof r->msg));
	ASSERT(r->h.magic == HP_PCTL_MAGIC && r->h.len == sizeof *r);
	int live = 0, with_slot = 0, nused = 0;
	uint32_t used[TCG_MAX_PROBES];
	for (int si = 0; si < TCG_MAX_SLOTS; si++)
		live += tcg.slots[si].state == SLOT_LIVE;
	for (int pi = 0; pi < TCG_MAX_PROBES; pi++) {
		const struct probe *p = &tcg.probes[pi];
		if (!p->id)
			continue;
		ASSERT(p->slot >= -1 && p->slot < TCG_MAX_SLOTS);
		if (p->slot >= 0) {
			with_slot++;
			ASSERT(tcg.slots[p->slot].state == SLOT_LIVE && tcg.slots[p->slot].probe == pi);
			ASSERT(tcg.slots[p->slot].cfg.probe_id == p->id);
		}
		for (int k = 0; k < nused; k++)
			ASSERT(used[k] != p->id);
		used[nused++] = p->id;
	}
	ASSERT(live == with_slot);
	const struct plan *pl = atomic_load(&tcg.active);
	if (pl) {
		ASSERT(pl->n <= TCG_MAX_PROBES);
		for (size_t i = 0; i < pl->n; i++) {
			ASSERT(pl->e[i].slot->state == SLOT_LIVE);
			ASSERT(i == 0 || pl->e[i - 1].vaddr <= pl->e[i].vaddr);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	while (size >= 2) {
		size_t n = (size_t)(data[0] | data[1] << 8) % 1100;
		data += 2, size -= 2;
		if (n > size)
			n = size;
		uint8_t msg[1100];
		memcpy(msg, data, n);
		struct hp_pctl_reply r;
		handle(msg, (ssize_t)n, &r);
		check_state(&r);
		data += n, size -= n;
	}
	return 0;
}
