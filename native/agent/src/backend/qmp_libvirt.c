/* The monitor of a libvirt domain, through libvirt: libvirt holds the domain's only
 * QMP connection and passes ours through (libvirt-qemu). Events come on libvirt's
 * event loop, which runs in one thread of ours for the whole process; they are queued
 * here and an eventfd wakes the VM's thread. Nothing is added to the domain: no
 * second monitor, no change to its definition. libvirt does mark the running domain
 * "tainted: custom-monitor" at the first command passed through (docs/user-guide.md). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "backend/libvirt.h"
#include "backend/qmp.h"
#include "base/util.h"

#define LV_MAX_EVENTS 1024
#define LV_RETRY_NS 1000000000ull
#define LV_KEEPALIVE_S 5
#define LV_CMDLINE_MAX (256u << 10)

/* What libvirt's event thread shares with the VM's thread. Each callback registration
 * holds a reference (libvirt drops it through its free callback after the last call),
 * the monitor one. */
struct lv_shared {
	atomic_int refs;
	pthread_mutex_t mu;
	json_t *events;
	int efd;
	int gone;   /* the domain stopped */
	int closed; /* the connection to libvirtd closed */
};

struct qmp_lv {
	struct hp_qmp base;
	virConnectPtr conn;
	virDomainPtr dom;
	struct lv_shared *sh;
	int flags;
	int cb_mon, cb_life, cb_close;
	uint64_t next_retry_ns;
	char uri[256], name[256], uuid[VIR_UUID_STRING_BUFLEN];
};
#define LV(q) ((struct qmp_lv *)(q))

/* ---- libvirt, once per process ---- */

static pthread_once_t lv_once = PTHREAD_ONCE_INIT;
static int lv_loop_ok;

/* libvirt's default error handler prints every error on stderr: ours say it once. */
static void lv_quiet(void *ud, virErrorPtr e)
{
	(void)ud;
	(void)e;
}

static void *lv_loop(void *arg)
{
	(void)arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;)
		if (virEventRunDefaultImpl() < 0)
			usleep(100000);
	return NULL;
}

static void lv_init(void)
{
	virSetErrorFunc(NULL, lv_quiet);
	if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0)
		return;
	pthread_t t;
	if (pthread_create(&t, NULL, lv_loop, NULL) == 0) {
		pthread_detach(t);
		lv_loop_ok = 1;
	}
}

static const char *lv_error(void)
{
	const char *m = virGetLastErrorMessage();
	return m ? m : "unknown libvirt error";
}

static int lv_no_domain(void)
{
	virErrorPtr e = virGetLastError();
	return e && (e->code == VIR_ERR_NO_DOMAIN || e->code == VIR_ERR_OPERATION_INVALID);
}

static int lv_open(const char *uri, virConnectPtr *out, struct hp_err *err)
{
	pthread_once(&lv_once, lv_init);
	*out = virConnectOpen(uri && uri[0] ? uri : NULL);
	if (!*out)
		return hp_err__set(err, ECONNREFUSED, "cannot connect to libvirt (%s): %s",
				   uri && uri[0] ? uri : "its default URI", lv_error());
	return 0;
}

static virDomainPtr lv_lookup(virConnectPtr conn, const char *domain)
{
	virDomainPtr d = virDomainLookupByName(conn, domain);
	if (!d && strlen(domain) == VIR_UUID_STRING_BUFLEN - 1)
		d = virDomainLookupByUUIDString(conn, domain);
	return d;
}

/* ---- events (libvirt's thread) ---- */

static void sh_put(void *p)
{
	struct lv_shared *sh = p;
	if (atomic_fetch_sub(&sh->refs, 1) != 1)
		return;
	close(sh->efd);
	json_decref(sh->events);
	pthread_mutex_destroy(&sh->mu);
	free(sh);
}

static void sh_wake(struct lv_shared *sh)
{
	uint64_t one = 1;
	/* a failure means the counter is saturated: the VM thread is awake already */
	(void)!write(sh->efd, &one, sizeof one);
}

static void on_monitor_event(virConnectPtr conn, virDomainPtr dom, const char *event, long long secs,
			     unsigned int micros, const char *details, void *opaque)
{
	(void)conn;
	(void)dom;
	struct lv_shared *sh = opaque;
	json_t *data = details ? json_loads(details, 0, NULL) : NULL;
	json_t *ev =
		json_pack("{s:s, s:o, s:{s:I, s:I}}", "event", event ? event : "", "data", data ? data : json_object(),
			  "timestamp", "seconds", (json_int_t)secs, "microseconds", (json_int_t)micros);
	if (!ev)
		return;
	pthread_mutex_lock(&sh->mu);
	if (json_array_size(sh->events) >= LV_MAX_EVENTS)
		json_array_remove(sh->events, 0); /* bounded: the oldest goes first */
	json_array_append_new(sh->events, ev);
	pthread_mutex_unlock(&sh->mu);
	sh_wake(sh);
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
	(void)conn;
	(void)dom;
	(void)detail;
	struct lv_shared *sh = opaque;
	if (event == VIR_DOMAIN_EVENT_STOPPED) {
		pthread_mutex_lock(&sh->mu);
		sh->gone = 1;
		pthread_mutex_unlock(&sh->mu);
		sh_wake(sh);
	}
	return 0;
}

static void on_close(virConnectPtr conn, int reason, void *opaque)
{
	(void)conn;
	(void)reason;
	struct lv_shared *sh = opaque;
	pthread_mutex_lock(&sh->mu);
	sh->closed = 1;
	pthread_mutex_unlock(&sh->mu);
	sh_wake(sh);
}

/* ---- the connection ---- */

static void lv_disconnect(struct qmp_lv *q)
{
	if (!q->conn)
		return;
	if (q->cb_mon >= 0)
		virConnectDomainQemuMonitorEventDeregister(q->conn, q->cb_mon);
	if (q->cb_life >= 0)
		virConnectDomainEventDeregisterAny(q->conn, q->cb_life);
	if (q->cb_close)
		virConnectUnregisterCloseCallback(q->conn, on_close);
	q->cb_mon = q->cb_life = -1;
	q->cb_close = 0;
	if (q->dom)
		virDomainFree(q->dom);
	virConnectClose(q->conn);
	q->conn = NULL;
	q->dom = NULL;
}

static int lv_register(struct qmp_lv *q, struct hp_err *err)
{
	struct lv_shared *sh = q->sh;
	atomic_fetch_add(&sh->refs, 3);
	q->cb_mon = virConnectDomainQemuMonitorEventRegister(q->conn, q->dom, NULL, on_monitor_event, sh, sh_put, 0);
	if (q->cb_mon < 0)
		sh_put(sh);
	q->cb_life = virConnectDomainEventRegisterAny(q->conn, q->dom, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
						      VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), sh, sh_put);
	if (q->cb_life < 0)
		sh_put(sh);
	q->cb_close = virConnectRegisterCloseCallback(q->conn, on_close, sh, sh_put) == 0;
	if (!q->cb_close)
		sh_put(sh);
	if (q->cb_mon < 0 || q->cb_life < 0)
		return hp_err__set(err, EIO, "libvirt does not pass the domain's events to us: %s", lv_error());
	/* a libvirtd that hangs is noticed (the close callback) rather than waited on */
	virConnectSetKeepAlive(q->conn, LV_KEEPALIVE_S, 3);
	return 0;
}

/* Opens the connection and finds the running domain. -ENOENT / -EHOSTDOWN when the
 * domain is not there / not running. */
static int lv_connect(struct qmp_lv *q, const char *domain, struct hp_err *err)
{
	int rc = lv_open(q->uri, &q->conn, err);
	if (rc)
		return rc;
	q->dom = lv_lookup(q->conn, domain);
	if (!q->dom) {
		char *uri = virConnectGetURI(q->conn);
		rc = hp_err__set(err, ENOENT, "libvirt (%s) has no domain '%s' (virsh -c %s list --all)",
				 uri ? uri : "?", domain, uri ? uri : "?");
		free(uri);
		lv_disconnect(q);
		return rc;
	}
	if (virDomainIsActive(q->dom) != 1) {
		rc = hp_err__set(err, EHOSTDOWN, "libvirt domain '%s' is not running (virsh start %s)", domain, domain);
		lv_disconnect(q);
		return rc;
	}
	const char *name = virDomainGetName(q->dom);
	snprintf(q->name, sizeof q->name, "%s", name ? name : domain);
	if (virDomainGetUUIDString(q->dom, q->uuid) < 0)
		q->uuid[0] = 0;
	char *uri = virConnectGetURI(q->conn);
	if (uri)
		snprintf(q->uri, sizeof q->uri, "%s", uri);
	free(uri);
	unsigned long ver = 0;
	if (virConnectGetVersion(q->conn, &ver) == 0 && ver) {
		q->base.major = (int)(ver / 1000000);
		snprintf(q->base.version, sizeof q->base.version, "%lu.%lu.%lu", ver / 1000000, ver / 1000 % 1000,
			 ver % 1000);
	}
	if (!(q->flags & HP_QMP_NO_EVENTS) && (rc = lv_register(q, err))) {
		lv_disconnect(q);
		return rc;
	}
	pthread_mutex_lock(&q->sh->mu);
	q->sh->closed = 0;
	pthread_mutex_unlock(&q->sh->mu);
	return 0;
}

/* A lost libvirtd connection is retried (libvirtd restarts; the domain runs on): at
 * once for a command, at most once a second from the event polling. */
static int lv_ready(struct qmp_lv *q, int now, struct hp_err *err)
{
	pthread_mutex_lock(&q->sh->mu);
	int closed = q->sh->closed, gone = q->sh->gone;
	pthread_mutex_unlock(&q->sh->mu);
	if (gone)
		return hp_err__set(err, ECONNRESET, "libvirt domain '%s' stopped", q->name);
	if (!closed && q->conn && (!now || virConnectIsAlive(q->conn) == 1))
		return 0;
	if (!now && hp_now_ns() < q->next_retry_ns)
		return hp_err__set(err, ENOTCONN, "the connection to libvirt is lost; retrying");
	q->next_retry_ns = hp_now_ns() + LV_RETRY_NS;
	lv_disconnect(q);
	int rc = lv_connect(q, q->uuid[0] ? q->uuid : q->name, err);
	if (rc == -ENOENT || rc == -EHOSTDOWN) {
		pthread_mutex_lock(&q->sh->mu);
		q->sh->gone = 1;
		pthread_mutex_unlock(&q->sh->mu);
		return -ECONNRESET;
	}
	if (!rc)
		hp_info("libvirt domain %s: connection to libvirt restored", q->name);
	return rc;
}

/* ---- the interface ---- */

static int lv_command(struct qmp_lv *q, const char *cmd, unsigned flags, char **res, struct hp_err *err)
{
	int rc = lv_ready(q, 1, err);
	if (rc)
		return rc;
	*res = NULL;
	if (virDomainQemuMonitorCommand(q->dom, cmd, res, flags) < 0) {
		rc = lv_no_domain() ? ECONNRESET : EIO;
		return hp_err__set(err, rc, "libvirt domain %s: %s", q->name, lv_error());
	}
	return 0;
}

static int lv_execute(struct hp_qmp *base, const char *cmd, json_t *args, json_t **ret, struct hp_err *err)
{
	json_t *msg = json_pack("{s:s}", "execute", cmd);
	if (args)
		json_object_set(msg, "arguments", args);
	char *s = json_dumps(msg, JSON_COMPACT), *res = NULL;
	json_decref(msg);
	if (!s)
		return hp_err__set(err, ENOMEM, "out of memory");
	int rc = lv_command(LV(base), s, 0, &res, err);
	free(s);
	if (rc)
		return rc;
	json_error_t je;
	json_t *j = json_loads(res, 0, &je);
	free(res);
	if (!j)
		return hp_err__set(err, EPROTO, "malformed QMP reply from libvirt: %s", je.text);
	rc = hp_qmp__reply(j, cmd, ret, err);
	json_decref(j);
	return rc;
}

static int lv_hmp(struct hp_qmp *base, const char *cmdline, char **out, struct hp_err *err)
{
	char *res = NULL;
	int rc = lv_command(LV(base), cmdline, VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP, &res, err);
	if (rc)
		return rc;
	*out = res ? res : strdup("");
	return *out ? 0 : hp_err__set(err, ENOMEM, "out of memory");
}

static int lv_next_event(struct hp_qmp *base, json_t **ev)
{
	struct qmp_lv *q = LV(base);
	uint64_t v;
	while (read(q->sh->efd, &v, sizeof v) > 0)
		;
	pthread_mutex_lock(&q->sh->mu);
	int n = (int)json_array_size(q->sh->events);
	if (n) {
		*ev = json_incref(json_array_get(q->sh->events, 0));
		json_array_remove(q->sh->events, 0);
	}
	pthread_mutex_unlock(&q->sh->mu);
	if (n)
		return 1;
	struct hp_err err;
	return lv_ready(q, 0, &err) == -ECONNRESET ? -ECONNRESET : 0;
}

static int lv_fd(const struct hp_qmp *q)
{
	return LV(q)->sh->efd;
}

static json_t *lv_source(const struct hp_qmp *base)
{
	const struct qmp_lv *q = LV(base);
	return json_pack("{s:s, s:s, s:s, s:s}", "kind", "libvirt", "uri", q->uri, "domain", q->name, "uuid", q->uuid);
}

/* libvirt starts each domain's QEMU with "-uuid UUID": the process whose command
 * line says so. */
static int lv_pid(const struct hp_qmp *base)
{
	const struct qmp_lv *q = LV(base);
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = -1;
	char *buf = malloc(LV_CMDLINE_MAX);
	while (buf && d && found < 0 && (e = readdir(d))) {
		char path[64];
		if (e->d_name[0] < '1' || e->d_name[0] > '9' ||
		    snprintf(path, sizeof path, "/proc/%.20s/cmdline", e->d_name) >= (int)sizeof path)
			continue;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, LV_CMDLINE_MAX - 1);
		close(fd);
		if (n > 0)
			buf[n] = 0;
		for (ssize_t i = 0; n > 0 && i < n; i += (ssize_t)strlen(buf + i) + 1) {
			if (!strcmp(buf + i, "-uuid") && i + 6 < n && !strcmp(buf + i + 6, q->uuid)) {
				found = atoi(e->d_name);
				break;
			}
		}
	}
	if (d)
		closedir(d);
	free(buf);
	return found;
}

static void lv_free(struct hp_qmp *base)
{
	struct qmp_lv *q = LV(base);
	lv_disconnect(q);
	sh_put(q->sh);
	free(q);
}

static const struct hp_qmp_ops lv_ops = {
	.execute = lv_execute,
	.hmp = lv_hmp,
	.next_event = lv_next_event,
	.fd = lv_fd,
	.source = lv_source,
	.pid = lv_pid,
	.free = lv_free,
};

int hp_qmp__connect_libvirt(const char *uri, const char *domain, int flags, struct hp_qmp **out, struct hp_err *err)
{
	if (!domain || !domain[0])
		return hp_err__set(err, EINVAL, "no libvirt domain named");
	struct qmp_lv *q = calloc(1, sizeof *q);
	struct lv_shared *sh = calloc(1, sizeof *sh);
	if (!q || !sh) {
		free(q);
		free(sh);
		return hp_err__set(err, ENOMEM, "out of memory");
	}
	atomic_init(&sh->refs, 1);
	pthread_mutex_init(&sh->mu, NULL);
	sh->events = json_array();
	sh->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	q->base.ops = &lv_ops;
	snprintf(q->base.version, sizeof q->base.version, "?");
	q->sh = sh;
	q->flags = flags;
	q->cb_mon = q->cb_life = -1;
	snprintf(q->uri, sizeof q->uri, "%s", uri ? uri : "");
	int rc = sh->efd < 0 ? hp_err__set(err, errno, "eventfd: %s", strerror(errno)) : 0;
	if (!rc && !(flags & HP_QMP_NO_EVENTS)) {
		pthread_once(&lv_once, lv_init);
		if (!lv_loop_ok)
			rc = hp_err__set(err, EIO, "libvirt's event loop did not start");
	}
	if (!rc)
		rc = lv_connect(q, domain, err);
	if (rc) {
		lv_free(&q->base);
		return rc;
	}
	*out = &q->base;
	return 0;
}

/* ---- listing ---- */

static const char *state_name(int st)
{
	switch (st) {
	case VIR_DOMAIN_RUNNING:
		return "running";
	case VIR_DOMAIN_BLOCKED:
		return "blocked";
	case VIR_DOMAIN_PAUSED:
		return "paused";
	case VIR_DOMAIN_SHUTDOWN:
		return "shutting down";
	case VIR_DOMAIN_SHUTOFF:
		return "shut off";
	case VIR_DOMAIN_CRASHED:
		return "crashed";
	case VIR_DOMAIN_PMSUSPENDED:
		return "suspended";
	default:
		return "unknown";
	}
}

int hp_libvirt__list(const char *uri, json_t **out, struct hp_err *err)
{
	virConnectPtr conn;
	int rc = lv_open(uri, &conn, err);
	if (rc)
		return rc;
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(conn, &doms, 0);
	if (n < 0) {
		rc = hp_err__set(err, EIO, "libvirt: cannot list domains: %s", lv_error());
		virConnectClose(conn);
		return rc;
	}
	json_t *arr = json_array();
	for (int i = 0; i < n; i++) {
		char uuid[VIR_UUID_STRING_BUFLEN] = "";
		int st = 0, reason = 0;
		const char *name = virDomainGetName(doms[i]);
		virDomainGetUUIDString(doms[i], uuid);
		if (virDomainGetState(doms[i], &st, &reason, 0) < 0)
			st = VIR_DOMAIN_NOSTATE;
		int id = virDomainIsActive(doms[i]) == 1 ? (int)virDomainGetID(doms[i]) : -1;
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:i, s:b}", "name", name ? name : "", "uuid",
						     uuid, "state", state_name(st), "id", id, "running",
						     st == VIR_DOMAIN_RUNNING || st == VIR_DOMAIN_PAUSED ||
							     st == VIR_DOMAIN_BLOCKED));
		virDomainFree(doms[i]);
	}
	free(doms);
	char *u = virConnectGetURI(conn);
	*out = json_pack("{s:s, s:o}", "uri", u ? u : "", "domains", arr);
	free(u);
	virConnectClose(conn);
	return 0;
}
