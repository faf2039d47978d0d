#include "apps.h"

#include <errno.h>

#include "errors.h"

int hp_apps__resolve(struct hp_vm *vm, struct hp_probe *p, const char *spec, int *ecls, struct hp_err *err)
{
	(void)vm;
	(void)p;
	*ecls = EC_NOT_SUPPORTED;
	return hp_err__set(err, ENOTSUP, "application probes (%s) are not supported yet", spec);
}
