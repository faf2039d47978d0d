/* The emergency detector: a virtual patch for a known kernel vulnerability. It probes
 * the vulnerable function, checks the exploit's precondition on the call's arguments
 * and user memory, and alerts, pauses the VM or blocks the call (the function returns
 * an error to its caller without running). Benign calls pass untouched.
 *
 * Rules are data: a new CVE is one entry in `rules` with its probe and its check. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "detectors/detector.h"
#include "probes/probe.h"
#include "base/util.h"
#include "probes/target.h"

/* Highest user address on x86-64 with 4-level paging (TASK_SIZE_MAX). */
#define USER_MAX 0x00007ffffffff000ull
#define MAX_IOVECS 1024

enum action { ACT_ALERT, ACT_PAUSE, ACT_BLOCK };

struct rule {
	const char *cve;
	const char *function; /* the probe, a syscall wrapper: arguments come from pt_regs */
	const char *summary;
	/* 1 = the exploit precondition holds; *why describes it */
	int (*check)(struct hp_target *t, const struct hp_hit *hit, char *why, size_t cap);
};

/* CVE-2008-0600: vmsplice_to_user() (fs/splice.c, Linux 2.6.23-2.6.24.1) wrote pipe
 * data to an iovec without access_ok(), so an iov_base in kernel space let a user
 * write kernel memory. Precondition: vmsplice(fd, iov, nr_segs, flags) with any
 * segment [iov_base, iov_base + iov_len) outside user space. */
static int check_vmsplice(struct hp_target *t, const struct hp_hit *hit, char *why, size_t cap)
{
	uint64_t uiov = hit->args[1], nr = hit->args[2];
	if (nr > MAX_IOVECS)
		nr = MAX_IOVECS;
	for (uint64_t i = 0; i < nr; i++) {
		uint64_t seg[2];
		/* the VM is stopped in the caller's syscall: its page tables are current */
		if (hp_backend__read_virt(t->gdb, uiov + 16 * i, seg, sizeof seg, NULL))
			return 0; /* an unreadable iovec makes the kernel fail the call itself */
		if (seg[0] >= USER_MAX || seg[1] > USER_MAX - seg[0]) {
			snprintf(why, cap, "iovec[%llu].iov_base = 0x%llx (len %llu) is kernel memory",
				 (unsigned long long)i, (unsigned long long)seg[0], (unsigned long long)seg[1]);
			return 1;
		}
	}
	return 0;
}

static const struct rule rules[] = {
	{ "CVE-2008-0600", "__x64_sys_vmsplice", "vmsplice() into kernel memory (vmsplice_to_user)", check_vmsplice },
};

struct state {
	const struct rule *rule;
	enum action action;
	int errnum;
	struct hp_probe *probe;
	uint64_t calls, attempts, benign, blocked, paused;
	int32_t last_pid;
	char last_comm[HP_COMM_LEN + 1];
	char last_why[160];
};

static const struct rule *find_rule(const char *cve)
{
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
		if (!strcmp(rules[i].cve, cve))
			return &rules[i];
	return NULL;
}

static int create(struct hp_target *t, struct hp_detector *d, json_t *cfg, enum hp_eclass *cls, struct hp_err *err)
{
	const char *key;
	json_t *v;
	json_object_foreach(
		cfg, key,
		v) if (strcmp(key, "cve") && strcmp(key, "action") &&
		       strcmp(key,
			      "errno")) return hp_err__set(err, EINVAL,
							   "emergency: unknown config key '%s' (cve, action, errno)",
							   key);
	const char *cve = json_string_value(json_object_get(cfg, "cve"));
	const char *act = json_string_value(json_object_get(cfg, "action"));
	json_t *jerr = json_object_get(cfg, "errno");
	const struct rule *r = cve ? find_rule(cve) : NULL;
	if (!r)
		return hp_err__set(err, ENOENT, "emergency: unknown or missing \"cve\"%s%s (known: CVE-2008-0600)",
				   cve ? ": " : "", cve ? cve : "");
	enum action a = !act || !strcmp(act, "alert") ? ACT_ALERT
			: !strcmp(act, "pause")       ? ACT_PAUSE
			: !strcmp(act, "block")       ? ACT_BLOCK
						      : (enum action) - 1;
	if ((int)a < 0)
		return hp_err__set(err, EINVAL, "emergency: action must be alert, pause or block");
	if (jerr && (!json_is_integer(jerr) || json_integer_value(jerr) <= 0 || json_integer_value(jerr) > 4095))
		return hp_err__set(err, EINVAL, "emergency: errno must be a positive errno number (default 1, EPERM)");
	struct state *s = calloc(1, sizeof *s);
	if (!s)
		return hp_err__set(err, ENOMEM, "out of memory");
	s->rule = r;
	s->action = a;
	s->errnum = jerr ? (int)json_integer_value(jerr) : EPERM;
	d->priv = s;
	char spec[160];
	snprintf(spec, sizeof spec, "kernel:%s", r->function);
	/* blocking and pausing change the stopped guest, and the check reads its memory:
	 * this probe must stop the VM, so it stays on the gdbstub */
	struct hp_probe_opts o = {
		.pid = -1, .enabled = 1, .kind = HP_PROBE_CAPTURE, .nargs = 3, .owner = d->id, .need_stop = 1
	};
	s->probe = hp_probe__create(t, spec, &o, cls, err);
	if (!s->probe) {
		free(s);
		d->priv = NULL;
		return -EINVAL;
	}
	return 0;
}

static void on_hit(struct hp_target *t, struct hp_detector *d, struct hp_probe *p, const struct hp_hit *hit,
		   const uint64_t *regs, struct hp_hit_action *act)
{
	(void)p;
	struct state *s = d->priv;
	char why[160];
	s->calls++;
	if (!regs || !s->rule->check(t, hit, why, sizeof why)) {
		s->benign++;
		return;
	}
	s->attempts++;
	s->last_pid = hit->tgid;
	memcpy(s->last_comm, hit->comm, HP_COMM_LEN);
	snprintf(s->last_why, sizeof s->last_why, "%s", why);
	const char *done = "alerted";
	if (s->action == ACT_BLOCK) {
		act->block = 1;
		act->retval = -s->errnum;
		s->blocked++;
		done = "blocked";
	} else if (s->action == ACT_PAUSE) {
		act->pause = 1;
		s->paused++;
		done = "paused";
	}
	char ip[24];
	snprintf(ip, sizeof ip, "0x%llx", (unsigned long long)hit->ip);
	hp_detector__alert(t, d, "exploit-attempt",
			   json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:o, s:s, s:s, s:I}", "cve", s->rule->cve,
				     "function", s->rule->function, "summary", s->rule->summary, "precondition", why,
				     "pid", hit->pid, "tgid", hit->tgid, "comm", hp_json_comm(hit->comm), "ip", ip,
				     "action", done, "hit_time_ns", (json_int_t)hit->time_ns));
}

static json_t *state(struct hp_target *t, struct hp_detector *d)
{
	(void)t;
	struct state *s = d->priv;
	static const char *const acts[] = { "alert", "pause", "block" };
	json_t *o =
		json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s}", "cve", s->rule->cve, "action", acts[s->action],
			  "calls", (json_int_t)s->calls, "attempts", (json_int_t)s->attempts, "benign",
			  (json_int_t)s->benign, "blocked", (json_int_t)s->blocked, "paused", (json_int_t)s->paused,
			  "probe_state", s->probe ? hp_probe__state_name(s->probe->state) : "none");
	if (s->attempts)
		json_object_set_new(o, "last",
				    json_pack("{s:i, s:o, s:s}", "pid", s->last_pid, "comm", hp_json_comm(s->last_comm),
					      "why", s->last_why));
	return o;
}

static void destroy(struct hp_target *t, struct hp_detector *d)
{
	(void)t;
	free(d->priv); /* the probe is removed with the detector's other probes */
}

const struct hp_detector_ops hp_det_emergency = {
	.kind = "emergency",
	.create = create,
	.on_hit = on_hit,
	.state = state,
	.destroy = destroy,
};
