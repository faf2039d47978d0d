/* Protocol commands (docs/protocol.md): parsing, validation and dispatch. */
#ifndef HP_COMMANDS_H
#define HP_COMMANDS_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "base/errors.h"

struct hp_agent;
struct hp_client;
struct hp_vm;
struct hp_sub;
struct hp_job;

void hp_commands__dispatch(struct hp_agent *a, struct hp_client *c, const char *frame, size_t len);
void hp_commands__catch_up(struct hp_agent *a, struct hp_client *c, struct hp_vm *vm, struct hp_sub *s,
			   uint64_t published);

/* Shared by the main-thread command files. */
void hp_commands__errf(struct hp_agent *a, struct hp_client *c, json_t *id, enum hp_eclass cls, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The VM named by args' "vm", or NULL after replying UnknownVm. */
struct hp_vm *hp_commands__vm(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id);

/* Main-thread commands of cmd_hits.c. */
void hp_cmd_events_subscribe(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id);
void hp_cmd_hits_subscribe(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id);
void hp_cmd_hits_unsubscribe(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id);
void hp_cmd_hits_read(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id);
void hp_cmd_journal_info(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id);
/* journal-read: at most this many bytes a reply (twice that in hex) */
#define HP_JOURNAL_READ_MAX (256u << 10)
void hp_cmd_journal_read(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id);
void hp_cmd_alerts_read(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id);
/* cmd_launch.c: an own guest's vm-launch arguments into g; -1 with msg. */
struct hp_own_guest;
int hp_cmd__own_guest_args(json_t *args, struct hp_own_guest *g, char *msg, size_t cap);
/* cmd_libvirt.c */
void hp_cmd_libvirt_list(struct hp_agent *a, struct hp_client *c, json_t *args, json_t *id);

/* Argument schema: one entry per allowed argument. */
enum hp_arg_type { ARG_STR, ARG_INT, ARG_BOOL, ARG_OBJ, ARG_ANY };
struct hp_arg {
	const char *name;
	enum hp_arg_type type;
	int required;
};

/* VM-thread job functions (cmd_vm.c, cmd_probe.c, cmd_detector.c). */
int hp_cmd__vm_pause(struct hp_vm *vm, struct hp_job *job);
int hp_cmd__vm_resume(struct hp_vm *vm, struct hp_job *job);
int hp_cmd__vm_ps(struct hp_vm *vm, struct hp_job *job);
int hp_cmd__vm_stats(struct hp_vm *vm, struct hp_job *job);
int hp_cmd__vm_set(struct hp_vm *vm, struct hp_job *job);
int hp_cmd__sym_search(struct hp_vm *vm, struct hp_job *job);
int hp_cmd__sym_disas(struct hp_vm *vm, struct hp_job *job);
int hp_cmd__sym_lookup(struct hp_vm *vm, struct hp_job *job);
int hp_cmd__probe_add(struct hp_vm *vm, struct hp_job *job);
int hp_cmd__probe_enable(struct hp_vm *vm, struct hp_job *job);
int hp_cmd__probe_disable(struct hp_vm *vm, struct hp_job *job);
int hp_cmd__probe_remove(struct hp_vm *vm, struct hp_job *job);
int hp_cmd__probe_list(struct hp_vm *vm, struct hp_job *job);
int hp_cmd__agg_read(struct hp_vm *vm, struct hp_job *job);
int hp_cmd__detector_add(struct hp_vm *vm, struct hp_job *job);
int hp_cmd__detector_remove(struct hp_vm *vm, struct hp_job *job);
int hp_cmd__detector_list(struct hp_vm *vm, struct hp_job *job);
int hp_cmd__detector_enable(struct hp_vm *vm, struct hp_job *job);
int hp_cmd__detector_disable(struct hp_vm *vm, struct hp_job *job);
#endif
