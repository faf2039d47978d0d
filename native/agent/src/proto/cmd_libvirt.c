/* libvirt-list: the domains of a libvirt connection, for a client to pick one to
 * attach. libvirtd may be slow or hang: asked on a thread of its own, never the main
 * thread. */
#include <errno.h>
#include <string.h>

#include "backend/libvirt.h"
#include "proto/agent.h"
#include "proto/client.h"
#include "proto/commands.h"
#include "vm/vm.h"

/* args: "connect" (the URI), "_attached" [{vm, domain, uuid}] noted by the main thread. */
static int list_job(struct hp_vm *none, struct hp_job *job)
{
	(void)none;
	json_t *r = NULL;
	int rc = hp_libvirt__list(json_string_value(json_object_get(job->args, "connect")), &r, &job->err);
	if (rc)
		return hp_job__fail(job, rc == -ECONNREFUSED ? EC_IO_ERROR : EC_GUEST_ERROR, rc);
	json_t *att = json_object_get(job->args, "_attached"), *d, *a;
	size_t i, k;
	json_array_foreach(json_object_get(r, "domains"), i, d)
	{
		json_t *vm = json_null();
		json_array_foreach(att, k, a)
		{
			const char *uuid = json_string_value(json_object_get(a, "uuid"));
			const char *dom = json_string_value(json_object_get(a, "domain"));
			if ((uuid && uuid[0] && json_equal(json_object_get(d, "uuid"), json_object_get(a, "uuid"))) ||
			    (dom && (json_equal(json_object_get(d, "name"), json_object_get(a, "domain")) ||
				     json_equal(json_object_get(d, "uuid"), json_object_get(a, "domain")))))
				vm = json_object_get(a, "vm");
		}
		json_object_set(d, "attached", vm);
	}
	job->result = r;
	return 0;
}

void hp_cmd_libvirt_list(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id)
{
	json_t *att = json_array();
	for (struct hp_vm *v = a->host.vms; v; v = v->next) {
		if (!v->cfg.libvirt_domain[0])
			continue;
		pthread_mutex_lock(&v->lock);
		const char *uuid = json_string_value(json_object_get(v->source, "uuid"));
		json_array_append_new(att, json_pack("{s:s, s:s, s:s}", "vm", v->cfg.name, "domain",
						     v->cfg.libvirt_domain, "uuid", uuid ? uuid : ""));
		pthread_mutex_unlock(&v->lock);
	}
	json_t *jargs = json_pack("{s:o, s:O?}", "_attached", att, "connect", json_object_get(args, "connect"));
	struct hp_job *job = hp_job__new(list_job, 0, jargs);
	json_decref(jargs);
	struct hp_err err;
	if (!job) {
		hp_commands__errf(a, c, id, EC_INTERNAL, "out of memory");
		return;
	}
	job->client_id = c->id;
	job->req_id = json_incref(id);
	if (hp_host__run_job(&a->host, job, &err)) {
		hp_job__free(job);
		hp_commands__errf(a, c, id, EC_INTERNAL, "%s", err.msg);
	}
}
