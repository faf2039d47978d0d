/* Application functions' parameters and return types from a binary's DWARF (built with
 * -g), through elfutils' libdw: what hp_btf__func_proto gives for a kernel function,
 * so an app probe's hits read seq=42 rather than arg1=0x2a. The binary is the user's
 * guest's program: names are checked, type chains bounded. */
#ifndef HPROBE_DWARF_H
#define HPROBE_DWARF_H
#include "common.h"
#include "param.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The parameters of func (a definition in a compile unit of the ELF open at fd): the
 * count, of which the first max are filled; -ENOENT no DWARF or no such function,
 * -EBADMSG a name that is not a C identifier. An unnamed parameter is called argN. */
int hp_dwarf__func_proto(int fd, const char *func, struct hp_param *params, int max, struct hp_err *err);
/* Its return type as a parameter named "return" ("void" for none: raw). */
int hp_dwarf__func_ret(int fd, const char *func, struct hp_param *ret, struct hp_err *err);

#ifdef __cplusplus
}
#endif
#endif
