/* Kernel types from BTF (through libbpf): struct member offsets such as
 * task_struct.pid or mm_struct.pgd. Offsets are never hard-coded anywhere in HProbe. */
#ifndef HPROBE_BTF_H
#define HPROBE_BTF_H
#include "common.h"
#include "param.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hp_btf;

/* From a vmlinux ELF (its .BTF section) or a raw BTF blob file (/sys/kernel/btf/vmlinux). */
int hp_btf__load_file(const char *path, struct hp_btf **out, struct hp_err *err);
/* From raw BTF bytes, e.g. recovered from guest memory. The data is copied. */
int hp_btf__load_raw(const void *data, size_t len, struct hp_btf **out, struct hp_err *err);
/* The vmlinux BTF inside a kernel image given as bytes mapped at image_vaddr (a
 * vmlinux's sections laid out by address, or guest kernel memory): the largest
 * blob with a sane header (magic 0xeB9F, version 1, sections inside the image,
 * a string section that starts and ends with NUL) that libbpf accepts. *btf_vaddr
 * (may be NULL) gets its address. -ENOENT when there is none. */
int hp_btf__recover(const void *image, size_t len, uint64_t image_vaddr, uint64_t *btf_vaddr, struct hp_btf **out,
		    struct hp_err *err);
void hp_btf__free(struct hp_btf *btf);

/* Byte offset and size of a member of a struct or union, following a dotted path
 * through nested (also anonymous) members: ("task_struct", "pid"),
 * ("task_struct", "thread.sp"), ("mm_struct", "pgd"). Bitfields get -EINVAL. */
int hp_btf__member(const struct hp_btf *btf, const char *type_name, const char *path, uint32_t *offset, uint32_t *size,
		   struct hp_err *err);

/* A member reached from a pointer through a path of members, as C writes it: from a
 * "struct file *", "->f_path.dentry->d_name.name". The member is at
 * ((*(*(P + off) + load_off[0])...) + load_off[nloads-1]): each "->" after the first
 * loads a pointer. */
#define HP_BTF_FETCH_LOADS 4
struct hp_btf_fetch {
	int64_t off;                          /* from the pointer to the first address */
	uint32_t nloads;                      /* pointers loaded on the way */
	int32_t load_off[HP_BTF_FETCH_LOADS]; /* added to each one */
	uint32_t size;                        /* the last member's size */
	int ptr;                              /* the last member is a pointer */
};
/* ctype: the pointer's C type ("struct file *", "const struct path *", a typedef'd
 * struct "foo_t *"); path: "->member", then ".member" or "->member", at most 128
 * bytes. Errors name the member that is not there or not a pointer/struct. */
int hp_btf__fetch_path(const struct hp_btf *btf, const char *ctype, const char *path, struct hp_btf_fetch *out,
		       struct hp_err *err);

/* Size of a named struct/union/typedef. */
int hp_btf__type_size(const struct hp_btf *btf, const char *type_name, uint32_t *size, struct hp_err *err);

/* A global variable of a data section as BTF describes it (DATASEC): for the kernel's
 * per-CPU variables, section ".data..percpu". *offset is its place in the section,
 * *size its size, type_name (may be NULL) the name of its type through modifiers and
 * typedefs ("pcpu_hot", "task_struct *"). -ENOENT if the BTF has no such variable. */
int hp_btf__var(const struct hp_btf *btf, const char *section, const char *name, uint32_t *offset, uint32_t *size,
		char *type_name, size_t cap, struct hp_err *err);

/* Number of BTF types (for sanity checks and tests). */
uint32_t hp_btf__type_count(const struct hp_btf *btf);

/* The parameters of a kernel function from its BTF prototype, for a probe's hits
 * ("vmsplice" -> fd int, uiov const struct iovec *, ...). Returns the number of
 * parameters, of which the first max are filled, or -errno: -ENOENT no such
 * function, -EBADMSG a name that is not a C identifier (BTF recovered from guest
 * memory is guest data). An unnamed parameter is called argN. */
int hp_btf__func_proto(const struct hp_btf *btf, const char *func, struct hp_param *params, int max,
		       struct hp_err *err);
/* The return type of a kernel function from its BTF prototype, as a parameter named
 * "return" ("void" for none: raw). 0, or -ENOENT for no such function. */
int hp_btf__func_ret(const struct hp_btf *btf, const char *func, struct hp_param *ret, struct hp_err *err);
/* hp_param__from_ctype, with typedefs (size_t, pid_t) resolved through btf (may be NULL). */
void hp_btf__ctype_param(const struct hp_btf *btf, const char *ctype, struct hp_param *p);

#ifdef __cplusplus
}
#endif
#endif
