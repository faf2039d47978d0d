/* The outbox: replies, hit batches and events from VM threads to the main thread. */
#include "vm/host.h"

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
