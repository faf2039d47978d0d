/* A function's parameter as a hit shows it: its name, its C type and how a 64-bit
 * register holding it reads (fd=3 count=4096 buf=0x7ffd...). Found by the agent in the
 * guest kernel's BTF or its syscall metadata (both guest data: names are checked),
 * carried in the probe's description ("params", docs/protocol.md), and formatted here
 * for the CLI, the exports and the workbench alike. */
#ifndef HPROBE_PARAM_H
#define HPROBE_PARAM_H
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HP_PARAM_NAME 32
#define HP_PARAM_TYPE 64

enum hp_param_class {
	HP_PARAM_RAW,  /* unknown or by-value aggregate: the register in hex */
	HP_PARAM_INT,  /* signed integer of size bytes: sign-extended, decimal */
	HP_PARAM_UINT, /* unsigned integer, enum or bool of size bytes: decimal */
	HP_PARAM_PTR,  /* a pointer: hex */
	HP_PARAM_STR,  /* a char pointer: hex (the string itself is read by a memory capture) */
	HP_PARAM_NCLASS
};

struct hp_param {
	char name[HP_PARAM_NAME]; /* a C identifier */
	char type[HP_PARAM_TYPE]; /* as declared: "unsigned int", "const char *", "size_t" */
	enum hp_param_class cls;
	uint32_t size; /* bytes of the value (1, 2, 4, 8) */
};

/* "raw", "int", "uint", "ptr", "str"; NULL for no such class. */
const char *hp_param__class_name(enum hp_param_class c);
/* The class named name, or -1. */
int hp_param__class_of(const char *name);
/* Whether name is a C identifier that fits (what a parameter's name must be). */
int hp_param__valid_name(const char *name);
/* Classifies a C type as written in source ("const char __user *", "unsigned long",
 * "u32"): fills p->type (annotations such as __user dropped), cls and size. A name
 * only BTF can resolve (size_t, pid_t) is left raw, 8 bytes: hp_btf__ctype_param. */
void hp_param__from_ctype(struct hp_param *p, const char *ctype);
/* The value raw of parameter p as its class reads it: an int sign-extended from its
 * size (as int64_t bits), a uint cut to its size, anything else raw. */
uint64_t hp_param__value(const struct hp_param *p, uint64_t raw);
/* The errno name of a return value raw of type ret that is -errno (is_errno: the
 * function is a syscall): "ENOENT" for -2; NULL when it is not one. */
const char *hp_param__errno_name(const struct hp_param *ret, int is_errno, uint64_t raw);
/* Writes the value raw of parameter p as the class says, NUL-terminated: "3", "-2",
 * "0x7ffd1234". Returns the length written (cut to cap - 1). */
size_t hp_param__format(const struct hp_param *p, uint64_t raw, char *buf, size_t cap);
/* Memory a hit captured (hp_hit's memaddr, mem, memlen): a string argument that points
 * there is shown as the string. */
struct hp_param_mem {
	uint64_t addr;
	const uint8_t *bytes;
	size_t len;
};
/* The string a char pointer of value val points at, when mem captured it: its bytes up
 * to a NUL (256 at most), escaped as a comm is (hp_export__escape), NUL-terminated in buf
 * (HP_PARAM_STR_MAX bytes hold any). Returns its length, or -1 when mem does not hold it. */
#define HP_PARAM_STR_MAX (4 * 256 + 1)
int hp_param__str(const struct hp_param_mem *mem, uint64_t val, char *buf, size_t cap);
/* A hit's arguments by name, NUL-terminated: "fd=3 buf=0x7ffd1234 count=7"; values past
 * the nparams parameters (all of them when nparams < 0: unknown) are "argN=0x...", N
 * from 1. A str parameter whose value is mem's address reads buf="sysloop" (the bytes
 * up to a NUL, escaped as a comm is: hp_export__escape); mem may be NULL, and memory
 * that could not be read (len 0) leaves the pointer. Returns the
 * length written (cut to cap - 1). Enough: HP_PARAM_ARGS_MAX. */
size_t hp_param__format_args(const struct hp_param *params, int nparams, const uint64_t *vals, int nvals,
			     const struct hp_param_mem *mem, char *buf, size_t cap);
#define HP_PARAM_ARGS_MAX (6 * (HP_PARAM_NAME + 1 + 20 + 1) + 4 * 256 + 3)
/* Names a pointer (a function's address: "do_thing+0x10") into buf, escaped to show;
 * > 0 when it has a name. */
struct hp_param_namer {
	int (*name)(void *ud, uint64_t addr, char *buf, size_t cap);
	void *ud;
};
/* hp_param__format_args, and each ptr parameter the namer names (may be NULL) followed
 * by it in angle brackets, as objdump shows a call's target: fn=0xffffffff81234560<do_thing>.
 * Enough: HP_PARAM_ARGS_MAX + HP_PARAM_NAMES_MAX. */
size_t hp_param__format_args_named(const struct hp_param *params, int nparams, const uint64_t *vals, int nvals,
				   const struct hp_param_mem *mem, const struct hp_param_namer *namer, char *buf,
				   size_t cap);
#define HP_PARAM_NAMES_MAX (6 * (128 + 2))

/* jansson's json_t, for the readers of probe descriptions below. */
struct json_t;
/* The parameters a probe description names (its "params", docs/protocol.md), checked
 * all or nothing (a name must not land on another's value): how many (0: the
 * function has none; at most max), or -1 when it names none or one is malformed. */
int hp_param__list_of(const struct json_t *probe, struct hp_param *out, int max);
/* The same from a probe description's JSON text (a journal's PROBE record), for
 * readers without jansson: the Python client. */
int hp_param__list_of_text(const char *json, size_t len, struct hp_param *out, int max);
/* Its "ret_type" (a return probe's): 0, with *ret ("return") and *is_errno filled, or
 * -1 when absent or malformed. */
int hp_param__ret_of(const struct json_t *probe, struct hp_param *ret, int *is_errno);
/* The same from a PROBE record's JSON text (the Python client). */
int hp_param__ret_of_text(const char *json, size_t len, struct hp_param *ret, int *is_errno);

#ifdef __cplusplus
}
#endif
#endif
