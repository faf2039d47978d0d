/* Application probes: ELF symbols of guest programs, per-process identity. */
#ifndef HP_APPS_H
#define HP_APPS_H
#include "hprobe/common.h"

struct hp_vm;
struct hp_probe;
struct hp_task;

/* Resolves "app:BINARY:FUNC[+OFF]" into p (address, resume plan, process filter). */
int hp_apps__resolve(struct hp_vm *vm, struct hp_probe *p, const char *spec, int *ecls, struct hp_err *err);
#endif
