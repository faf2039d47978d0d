/* libvirt beyond one domain's monitor (qmp.h has that): what a connection offers. */
#ifndef HP_LIBVIRT_H
#define HP_LIBVIRT_H
#include <jansson.h>
#include "hprobe/common.h"

/* The domains of connection uri ("" = libvirt's default): {"uri": U, "domains":
 * [{"name", "uuid", "state", "id", "running"}]}. Blocks on libvirtd: not for the main
 * thread. */
int hp_libvirt__list(const char *uri, json_t **out, struct hp_err *err);
#endif
