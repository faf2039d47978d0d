/* Applying a probe set to a VM and taking it back (cmd_set.c): hprobe run's and probe
 * load's. */
#ifndef HP_CLI_SETAPPLY_H
#define HP_CLI_SETAPPLY_H
#include <stddef.h>

#include "cli.h"
#include "probeset.h"

/* What a set added to its VM, to remove it again. */
struct applied {
	json_int_t *probes, *detectors;
	size_t np, nd;
};

/* SIGINT, SIGTERM and SIGHUP are blocked from now on (a reply is never cut, a half-applied
 * set is rolled back) and only let in by set_stops_let_in(1); set_stop_signal() is the
 * one taken, or 0. */
void set_catch_stops(void);
void set_stops_let_in(int on);
int set_stop_signal(void);

/* Reads and checks FILE; on an error prints every one and exits 1. */
void set_read(struct probeset *ps, const char *file);
/* A command whose failure the caller handles: the reply (new reference), or NULL if the
 * agent went away. args is not stolen. */
json_t *set_call(struct cli *c, const char *cmd, json_t *args);
/* The exit status of an agent's error class: 4 for the guest's, else 1. */
int set_exit_for_class(const char *cls);
const char *set_str_or(const char *s, const char *def);
const char *set_plural(size_t n, const char *one, const char *many);
void set_push_id(json_int_t **v, size_t *n, json_int_t id);

/* Applies every item of ps to vm, recording what it added in ap; exits (after taking
 * back what it added) when the agent refuses one or a stop signal comes. */
void set_apply(struct cli *c, const char *vm, const struct probeset *ps, struct applied *ap);
/* Removes what ap records: 0, or the exit status of what could not be removed. */
int set_remove(struct cli *c, const char *vm, struct applied *ap);
/* The ids left in the VM, for the user to remove. */
void set_print_left(const char *vm, const struct applied *ap);
#endif
