/* The outbox: replies, hit batches and events from VM threads to the main thread. */
#include "vm/host.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "vm/vm.h"

void hp_outbox__post(struct hp_outbox *o, struct hp_msg *m)
{
	m->next = NULL;
	pthread_mutex_lock(&o->lock);
	if (o->tail)
		o->tail->next = m;
	else
		o->head = m;
	o->tail = m;
	pthread_mutex_unlock(&o->lock);
	uint64_t one = 1;
	if (write(o->efd, &one, sizeof one) < 0)
		hp_warn("cannot wake the main loop");
}

char *hp_event__line(const char *name, const char *vm, json_t *data, size_t *len)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	json_t *e =
		json_pack("{s:s, s:o, s:{s:I, s:I}}", "event", name, "data", data ? data : json_object(), "timestamp",
			  "seconds", (json_int_t)ts.tv_sec, "microseconds", (json_int_t)(ts.tv_nsec / 1000));
	if (vm)
		json_object_set_new(e, "vm", json_string(vm));
	char *s = json_dumps(e, JSON_COMPACT);
	json_decref(e);
	if (!s)
		return NULL;
	*len = strlen(s);
	char *line = realloc(s, *len + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	line[(*len)++] = '\n';
	line[*len] = 0;
	return line;
}

void hp_outbox__post_event(struct hp_outbox *o, uint32_t vm_id, const char *name, const char *vm, json_t *data)
{
	struct hp_msg *m = calloc(1, sizeof *m);
	if (!m) {
		json_decref(data);
		return;
	}
	m->type = HP_MSG_EVENT;
	m->vm_id = vm_id;
	m->line = hp_event__line(name, vm, json_incref(data), &m->len);
	json_decref(data);
	if (!m->line) {
		free(m);
		return;
	}
	hp_outbox__post(o, m);
}

struct hp_vm *hp_host__find_vm(struct hp_host *h, const char *name)
{
	for (struct hp_vm *v = h->vms; name && v; v = v->next)
		if (!strcmp(v->cfg.name, name))
			return v;
	return NULL;
}

struct side_job {
	struct hp_host *host;
	struct hp_job *job;
};

static void *side_main(void *arg)
{
	struct side_job *sj = arg;
	sj->job->rc = sj->job->fn(NULL, sj->job);
	struct hp_msg *m = calloc(1, sizeof *m);
	if (m) {
		m->type = HP_MSG_JOB_DONE;
		m->job = sj->job;
		hp_outbox__post(&sj->host->outbox, m);
	} else {
		hp_job__free(sj->job);
	}
	free(sj);
	return NULL;
}

int hp_host__run_job(struct hp_host *h, struct hp_job *job, struct hp_err *err)
{
	struct side_job *sj = malloc(sizeof *sj);
	if (!sj)
		return hp_err__set(err, ENOMEM, "out of memory");
	*sj = (struct side_job){ h, job };
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old); /* signals stay the main thread's */
	int rc = pthread_create(&(pthread_t){ 0 }, &at, side_main, sj);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&at);
	if (rc) {
		free(sj);
		return hp_err__set(err, rc, "cannot start a thread: %s", strerror(rc));
	}
	return 0;
}
