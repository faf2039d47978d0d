#include "guest/vmi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "guest/kernel.h"
#include "hprobe/plugin_proto.h"

#define MAX_TASKS 65536

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8); /* guest and host are both little-endian x86-64 */
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* pid, tgid and comm of the task_struct bytes in buf, which start at offset lo. */
static void take_ids(const struct hp_kernel_offsets *o, const uint8_t *buf, uint32_t lo, uint64_t task,
		     struct hp_task *t)
{
	memset(t, 0, sizeof *t);
	t->addr = task;
	t->pid = (int32_t)rd32(buf + o->task_pid - lo);
	t->tgid = (int32_t)rd32(buf + o->task_tgid - lo);
	memcpy(t->comm, buf + o->task_comm - lo, HP_COMM_LEN);
	t->comm[HP_COMM_LEN] = 0;
}

/* One read covering every field we need, instead of one round trip per field. The
 * offsets were checked against task_struct's size when the profile was made. */
int hp_vmi__read_task(const struct hp_kernel *k, struct hp_backend *b, uint64_t task, struct hp_task *t,
		      struct hp_err *err)
{
	int rc = hp_kernel__need(k, HP_KF_PS, "reading a task", err);
	if (rc)
		return rc;
	const struct hp_kernel_offsets *o = &k->off;
	const uint64_t fields[][2] = { { o->task_tasks, 8 },       { o->task_pid, 4 },
				       { o->task_tgid, 4 },        { o->task_comm, HP_COMM_LEN },
				       { o->task_mm, 8 },          { o->task_state, o->task_state_size },
				       { o->task_real_parent, 8 }, { o->task_exit_state, 4 } };
	uint64_t lo = UINT64_MAX, hi = 0;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		if (fields[i][0] < lo)
			lo = fields[i][0];
		if (fields[i][0] + fields[i][1] > hi)
			hi = fields[i][0] + fields[i][1];
	}
	if (hi - lo > HP_KERNEL_TASK_MAX)
		return hp_err__set(err, EINVAL, "task_struct fields too far apart");
	uint8_t *buf = malloc(hi - lo);
	if (!buf)
		return hp_err__set(err, ENOMEM, "out of memory");
	rc = hp_backend__read_virt(b, task + lo, buf, hi - lo, err);
	if (!rc) {
		uint32_t l = (uint32_t)lo;
		take_ids(o, buf, l, task, t);
		t->mm = rd64(buf + o->task_mm - l);
		/* the low half of a long state holds every bit a task state uses */
		t->state = rd32(buf + o->task_state - l);
		t->exit_state = rd32(buf + o->task_exit_state - l);
		uint64_t parent = rd64(buf + o->task_real_parent - l);
		t->kernel = t->mm == 0;
		if (parent && parent != task) {
			uint8_t pb[4];
			if (!hp_backend__read_virt(b, parent + o->task_pid, pb, 4, NULL))
				t->ppid = (int32_t)rd32(pb);
		}
		if (t->mm) {
			uint8_t mb[8];
			if (!hp_backend__read_virt(b, t->mm + o->mm_pgd, mb, 8, NULL) && k->page_offset_base)
				t->cr3 = rd64(mb) - k->page_offset_base;
			if (!hp_backend__read_virt(b, t->mm + o->mm_start_code, mb, 8, NULL))
				t->start_code = rd64(mb);
		}
	}
	free(buf);
	return rc;
}

int hp_vmi__current(const struct hp_kernel *k, struct hp_backend *b, const uint64_t *regs, struct hp_task *t,
		    struct hp_err *err)
{
	int rc = hp_kernel__need(k, HP_KF_TASK, "identifying the task", err);
	if (rc)
		return rc;
	/* In the kernel, GS holds the per-CPU base; in user mode it is parked in KERNEL_GS_BASE. */
	int user = (regs[HP_REG_RIP] >> 63) == 0;
	uint64_t percpu = user ? regs[HP_REG_K_GS_BASE] : regs[HP_REG_GS_BASE];
	if (!percpu)
		percpu = user ? regs[HP_REG_GS_BASE] : regs[HP_REG_K_GS_BASE];
	uint8_t p[8];
	if ((rc = hp_backend__read_virt(b, percpu + k->current_task, p, 8, err)))
		return rc;
	uint64_t task = rd64(p);
	const struct hp_kernel_offsets *o = &k->off;
	/* pid, tgid and comm only, in one span as the in-QEMU tier reads them */
	struct hp_plugin_task_offsets po;
	uint32_t lo, len;
	hp_kernel__task_offsets(k, &po);
	if (hp_ptask_span(&po, &lo, &len))
		return hp_err__set(err, EINVAL, "task_struct offsets out of range");
	if (len <= 1024) {
		uint8_t buf[1024];
		if ((rc = hp_backend__read_virt(b, task + lo, buf, len, err)))
			return rc;
		take_ids(o, buf, lo, task, t);
		return 0;
	}
	uint8_t ids[8], comm[HP_COMM_LEN];
	if ((rc = hp_backend__read_virt(b, task + o->task_pid, ids, 4, err)) ||
	    (rc = hp_backend__read_virt(b, task + o->task_tgid, ids + 4, 4, err)) ||
	    (rc = hp_backend__read_virt(b, task + o->task_comm, comm, HP_COMM_LEN, err)))
		return rc;
	memset(t, 0, sizeof *t);
	t->addr = task;
	t->pid = (int32_t)rd32(ids);
	t->tgid = (int32_t)rd32(ids + 4);
	memcpy(t->comm, comm, HP_COMM_LEN);
	return 0;
}

/* As fs/proc/array.c reports it (task_state_index() in include/linux/sched.h). */
char hp_vmi__state_letter(uint32_t state, uint32_t exit_state)
{
	static const char letters[] = "RSDTtXZPI";
	uint32_t rep = (state | exit_state) & 0x7f;
	if (state == 0x0402) /* TASK_IDLE */
		rep = 0x80;
	else if (state == 0x1000) /* TASK_RTLOCK_WAIT shows as D */
		rep = 0x02;
	int idx = 0;
	while (rep) {
		idx++;
		rep >>= 1;
	}
	return idx < (int)sizeof letters - 1 ? letters[idx] : '?';
}

int hp_vmi__tasks(const struct hp_kernel *k, struct hp_backend *b, struct hp_task **out, struct hp_err *err)
{
	int rc = hp_kernel__need(k, HP_KF_PS, "the task list", err);
	if (rc)
		return rc;
	size_t cap = 64, n = 0;
	struct hp_task *v = malloc(cap * sizeof *v);
	if (!v)
		return hp_err__set(err, ENOMEM, "out of memory");
	uint64_t head = k->init_task + k->off.task_tasks, pos = head;
	do {
		uint64_t task = pos - k->off.task_tasks;
		if (n == cap) {
			struct hp_task *nv = realloc(v, (cap *= 2) * sizeof *v);
			if (!nv) {
				rc = hp_err__set(err, ENOMEM, "out of memory");
				break;
			}
			v = nv;
		}
		if ((rc = hp_vmi__read_task(k, b, task, &v[n], err)))
			break;
		n++;
		uint8_t nx[8];
		if ((rc = hp_backend__read_virt(b, pos, nx, 8, err)))
			break;
		pos = rd64(nx);
		if (n >= MAX_TASKS) {
			rc = hp_err__set(err, ELOOP, "task list does not close (guest memory changing?)");
			break;
		}
	} while (pos != head);
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	return (int)n;
}
