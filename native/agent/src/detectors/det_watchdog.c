/* The application watchdog: a heartbeat function of a guest program must be called
 * by each watched process at least every period. Silence longer than that raises a
 * "hang" alert (checked every tick, so within period + one tick; a silence no tick
 * saw is said by the beat that ends it); the next heartbeat raises "recovered"; a
 * process that exits or is killed raises "exited", not a hang. Each process is
 * tracked on its own. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "probes/apps.h"
#include "backend/backend.h"
#include "detectors/detector.h"
#include "probes/probe.h"
#include "base/util.h"
#include "probes/target.h"

#define MAX_WATCHED 64

enum wstate { WS_OK, WS_HUNG, WS_EXITED };

struct watched {
	int32_t tgid;
	char comm[HP_COMM_LEN + 1];
	uint64_t last_ns; /* last heartbeat, or when first seen */
	uint64_t beats;
	enum wstate st;
};

struct wd {
	struct hp_probe *probe;
	uint64_t period_ns;
	struct watched w[MAX_WATCHED];
	int n;
	uint64_t hangs, recoveries, exits;
};

/* Silence is measured on the guest's clock: the VM's own stops (this monitor's probes
 * elsewhere included) must not count as a hang. */
static uint64_t guest_now(struct hp_target *t)
{
	return hp_backend__run_clock(t->gdb, hp_now_ns());
}

/* A beat counts from when it happened, not from when the agent read it: the in-QEMU
 * tier's ring is read up to a few ms later (more if the agent was held up), which
 * would otherwise shorten the next silence. Never before the beat before. */
static uint64_t beat_time(struct hp_target *t, const struct hp_hit *hit, uint64_t prev, uint64_t now)
{
	uint64_t at = hp_backend__run_clock(t->gdb, hit->time_ns);
	return at > now ? now : at < prev ? prev : at;
}

static struct watched *find(struct wd *s, int32_t tgid)
{
	for (int i = 0; i < s->n; i++)
		if (s->w[i].tgid == tgid)
			return &s->w[i];
	return NULL;
}

static struct watched *track(struct wd *s, int32_t tgid, const char *comm, uint64_t now)
{
	struct watched *w = find(s, tgid);
	if (w || s->n == MAX_WATCHED)
		return w;
	w = &s->w[s->n++];
	memset(w, 0, sizeof *w);
	w->tgid = tgid;
	snprintf(w->comm, sizeof w->comm, "%s", comm);
	w->last_ns = now;
	return w;
}

static int create(struct hp_target *t, struct hp_detector *d, json_t *cfg, enum hp_eclass *cls, struct hp_err *err)
{
	const char *key;
	json_t *v;
	json_object_foreach(cfg, key,
			    v) if (strcmp(key, "probe") && strcmp(key, "period_ms") && strcmp(key, "pid") &&
				   strcmp(key, "comm")) return hp_err__set(err, EINVAL,
									   "watchdog: unknown config key '%s' (probe, "
									   "period_ms, pid, comm)",
									   key);
	const char *spec = json_string_value(json_object_get(cfg, "probe"));
	json_t *per = json_object_get(cfg, "period_ms"), *pid = json_object_get(cfg, "pid");
	const char *comm = json_string_value(json_object_get(cfg, "comm"));
	if (!spec || strncmp(spec, "app:", 4))
		return hp_err__set(err, EINVAL,
				   "watchdog: \"probe\" must be an application function, e.g. "
				   "app:/usr/sbin/httpd:heartbeat (a guest path, found under the VM's sysroot)");
	if (!json_is_integer(per) || json_integer_value(per) <= 0 || json_integer_value(per) > 3600000)
		return hp_err__set(err, EINVAL,
				   "watchdog: \"period_ms\" must be an integer in 1..3600000 (the heartbeat period T)");
	if (pid && (!json_is_integer(pid) || json_integer_value(pid) <= 0 || json_integer_value(pid) > HP_PID_MAX))
		return hp_err__set(err, EINVAL, "watchdog: \"pid\" must be 1..%d", HP_PID_MAX); /* 2^31 is not "any" */
	if (comm && (!comm[0] || strlen(comm) >= HP_COMM_LEN))
		return hp_err__set(err, EINVAL, "watchdog: \"comm\" must be 1..15 characters");
	struct wd *s = calloc(1, sizeof *s);
	if (!s)
		return hp_err__set(err, ENOMEM, "out of memory");
	s->period_ns = (uint64_t)json_integer_value(per) * 1000000ull;
	d->priv = s;
	struct hp_probe_opts o = { .pid = pid ? (int32_t)json_integer_value(pid) : -1,
				   .enabled = 1,
				   .kind = HP_PROBE_CAPTURE,
				   .owner = d->id };
	if (comm)
		snprintf(o.comm, sizeof o.comm, "%s", comm);
	s->probe = hp_probe__create(t, spec, &o, cls, err);
	if (!s->probe) {
		free(s);
		d->priv = NULL;
		return -EINVAL;
	}
	return 0;
}

static void alert(struct hp_target *t, struct hp_detector *d, const char *what, const struct watched *w, uint64_t now)
{
	struct wd *s = d->priv;
	hp_detector__alert(t, d, what,
			   json_pack("{s:i, s:o, s:I, s:I, s:I}", "pid", w->tgid, "comm", hp_json_comm(w->comm),
				     "silent_guest_ms", (json_int_t)((now - w->last_ns) / 1000000), "period_ms",
				     (json_int_t)(s->period_ns / 1000000), "beats", (json_int_t)w->beats));
}

static void on_hit(struct hp_target *t, struct hp_detector *d, struct hp_probe *p, const struct hp_hit *hit,
		   const uint64_t *regs, struct hp_hit_action *act)
{
	(void)p;
	(void)regs;
	(void)act;
	struct wd *s = d->priv;
	uint64_t now = guest_now(t);
	struct watched *w = track(s, hit->tgid, hit->comm, now);
	if (!w)
		return;
	if (!w->comm[0]) /* first seen through the process list, before its first beat */
		snprintf(w->comm, sizeof w->comm, "%.*s", HP_COMM_LEN, hit->comm);
	uint64_t at = beat_time(t, hit, w->last_ns, now);
	/* a silence no tick saw (the agent's thread was held up, waiting on QEMU, while
	 * the guest's clock ran): the beat that ends it says the hang, with its length */
	if (w->st == WS_OK && at - w->last_ns > s->period_ns) {
		w->st = WS_HUNG;
		s->hangs++;
		alert(t, d, "hang", w, at);
	}
	if (w->st == WS_HUNG) {
		w->st = WS_OK;
		s->recoveries++;
		alert(t, d, "recovered", w, now);
	}
	w->last_ns = at;
	w->beats++;
}

static int alive(const struct wd *s, int32_t tgid)
{
	const struct hp_app *a = s->probe->app;
	for (int i = 0; a && i < a->nprocs; i++)
		if (a->procs[i].tgid == tgid)
			return 1;
	return 0;
}

static void tick(struct hp_target *t, struct hp_detector *d, uint64_t host_now)
{
	(void)host_now;
	struct wd *s = d->priv;
	uint64_t now = guest_now(t);
	/* processes that run the program but never beat are watched from when seen */
	for (int i = 0; s->probe->app && i < s->probe->app->nprocs; i++)
		track(s, s->probe->app->procs[i].tgid, "", now);
	for (int i = 0; i < s->n; i++) {
		struct watched *w = &s->w[i];
		if (!alive(s, w->tgid)) {
			s->exits++;
			alert(t, d, "exited", w, now);
			s->w[i--] = s->w[--s->n];
			continue;
		}
		if (w->st == WS_OK && now - w->last_ns > s->period_ns) {
			w->st = WS_HUNG;
			s->hangs++;
			alert(t, d, "hang", w, now);
		}
	}
}

static json_t *state(struct hp_target *t, struct hp_detector *d)
{
	struct wd *s = d->priv;
	static const char *const names[] = { "ok", "hung", "exited" };
	uint64_t now = guest_now(t);
	json_t *procs = json_array();
	for (int i = 0; i < s->n; i++)
		json_array_append_new(procs,
				      json_pack("{s:i, s:o, s:s, s:I, s:I}", "pid", s->w[i].tgid, "comm",
						hp_json_comm(s->w[i].comm), "state", names[s->w[i].st],
						"heartbeat_age_ms", (json_int_t)((now - s->w[i].last_ns) / 1000000),
						"beats", (json_int_t)s->w[i].beats));
	const char *ps = hp_probe__state_name(s->probe->state);
	return json_pack("{s:I, s:s, s:s, s:o, s:I, s:I, s:I}", "period_ms", (json_int_t)(s->period_ns / 1000000),
			 "probe_state", ps, "target",
			 s->probe->state == HP_PSTATE_PENDING ? "waiting for a process"
			 : s->probe->state == HP_PSTATE_STALE ? "gone"
							      : "watched",
			 "processes", procs, "hangs", (json_int_t)s->hangs, "recoveries", (json_int_t)s->recoveries,
			 "exits", (json_int_t)s->exits);
}

static void destroy(struct hp_target *t, struct hp_detector *d)
{
	(void)t;
	free(d->priv);
}

const struct hp_detector_ops hp_det_watchdog = {
	.kind = "watchdog",
	.create = create,
	.on_hit = on_hit,
	.tick = tick,
	.state = state,
	.destroy = destroy,
};
