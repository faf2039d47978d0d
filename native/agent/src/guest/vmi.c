#include "guest/vmi.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "base/util.h"
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

/* ---- a process's memory, through its page tables ---- */

#define PTE_PRESENT 1ull
#define PTE_HUGE (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull

/* The physical address of va in the address space whose top table is at cr3, and
 * the size of the page holding it. Tables are read through the kernel's direct map. */
static int translate(const struct hp_kernel *k, struct hp_backend *b, uint64_t cr3, uint64_t va, uint64_t *pa,
		     uint64_t *page)
{
	uint64_t table = cr3 & PTE_ADDR;
	for (int level = k->paging_levels == 5 ? 5 : 4; level >= 1; level--) {
		int shift = 12 + 9 * (level - 1);
		uint64_t e;
		if (hp_backend__read_u64(b, k->page_offset_base + table + ((va >> shift) & 511) * 8, &e, NULL) ||
		    !(e & PTE_PRESENT))
			return -EFAULT;
		if (level == 1 || ((level == 2 || level == 3) && (e & PTE_HUGE))) {
			*page = 1ull << shift;
			*pa = (e & PTE_ADDR & ~(*page - 1)) | (va & (*page - 1));
			return 0;
		}
		table = e & PTE_ADDR;
	}
	return -EFAULT;
}

int hp_vmi__read_user(const struct hp_kernel *k, struct hp_backend *b, const struct hp_task *t, uint64_t va, void *buf,
		      size_t len, struct hp_err *err)
{
	if (!t->mm || !t->cr3 || !k->page_offset_base)
		return hp_err__set(err, EINVAL, "pid %d has no address space the agent can read", t->pid);
	uint64_t top = k->paging_levels == 5 ? 1ull << 56 : 1ull << 47;
	if (va >= top || len > top - va)
		return hp_err__set(err, EFAULT, "0x%llx+%zu is not a user address", (unsigned long long)va, len);
	for (size_t done = 0; done < len;) {
		uint64_t at = va + done, pa, page;
		if (translate(k, b, t->cr3, at, &pa, &page))
			return hp_err__set(err, EFAULT,
					   "0x%llx is not in pid %d's memory (not mapped, or not paged in)",
					   (unsigned long long)at, t->pid);
		/* at most to the end of its 4 KiB frame: a read never spans two pages */
		size_t n = 4096 - (size_t)(at & 4095);
		if (n > len - done)
			n = len - done;
		int rc = hp_backend__read_virt(b, k->page_offset_base + pa, (uint8_t *)buf + done, n, err);
		if (rc)
			return rc;
		done += n;
	}
	return 0;
}

/* ---- a process's program: its guest path and build id ---- */

#define PATH_DEPTH_MAX 64

/* One dentry's name, which must be one path component (the guest's bytes). */
static int dentry_name(const struct hp_kernel *k, struct hp_backend *b, uint64_t dentry, char name[256])
{
	uint64_t p;
	if (hp_backend__read_u64(b, dentry + k->off.dentry_name, &p, NULL) || !p)
		return -EFAULT;
	/* within its page first: the name may end right before an unmapped one */
	size_t first = 4096 - (size_t)(p & 4095);
	if (first > 256)
		first = 256;
	if (hp_backend__read_virt(b, p, name, first, NULL))
		return -EFAULT;
	if (!memchr(name, 0, first)) {
		if (first == 256)
			return -EINVAL; /* longer than NAME_MAX */
		if (hp_backend__read_virt(b, p + first, name + first, 256 - first, NULL))
			return -EFAULT;
		if (!memchr(name, 0, 256))
			return -EINVAL;
	}
	if (!name[0] || !strcmp(name, ".") || !strcmp(name, "..") || strchr(name, '/'))
		return -EINVAL;
	return 0;
}

int hp_vmi__exe_path(const struct hp_kernel *k, struct hp_backend *b, const struct hp_task *t, char *out, size_t cap,
		     struct hp_err *err)
{
	if (cap)
		out[0] = 0;
	int rc = hp_kernel__need(k, HP_KF_APPS, "a program's path", err);
	if (rc)
		return rc;
	const struct hp_kernel_offsets *o = &k->off;
	if (!o->exe_paths)
		return hp_err__set(err, ENOTSUP, "the guest kernel's BTF has no dentry.d_parent: no program path");
	uint64_t file = 0, dentry = 0, mnt = 0;
	if (!t->mm || hp_backend__read_u64(b, t->mm + o->mm_exe_file, &file, NULL) || !file ||
	    hp_backend__read_u64(b, file + o->file_dentry, &dentry, NULL) || !dentry)
		return hp_err__set(err, ENOENT, "pid %d runs no program file", t->pid);
	if (o->exe_paths == 2 && hp_backend__read_u64(b, file + o->file_mnt, &mnt, NULL))
		mnt = 0;
	char path[PATH_MAX], name[256];
	size_t pos = sizeof path - 1;
	path[pos] = 0;
	for (int depth = 0;; depth++) {
		uint64_t parent, root;
		if (depth > PATH_DEPTH_MAX)
			return hp_err__set(err, EINVAL, "pid %d's program path is deeper than %d", t->pid,
					   PATH_DEPTH_MAX);
		if (mnt && !hp_backend__read_u64(b, mnt + o->vfsmount_root, &root, NULL) && root == dentry) {
			/* the root of a mount: go on from where it is mounted */
			uint64_t mount = mnt - o->mount_mnt, mp;
			if (hp_backend__read_u64(b, mount + o->mount_parent, &parent, NULL) ||
			    hp_backend__read_u64(b, mount + o->mount_mountpoint, &mp, NULL))
				return hp_err__set(err, EFAULT, "pid %d's program path: a mount is unreadable", t->pid);
			if (parent == mount)
				break; /* the namespace's root */
			dentry = mp;
			mnt = parent + o->mount_mnt;
			continue;
		}
		if (hp_backend__read_u64(b, dentry + o->dentry_parent, &parent, NULL))
			return hp_err__set(err, EFAULT, "pid %d's program path: a dentry is unreadable", t->pid);
		if (parent == dentry)
			break; /* the root of its file system */
		if ((rc = dentry_name(k, b, dentry, name)))
			return hp_err__set(err, -rc, "pid %d's program path holds a name that is no file name", t->pid);
		size_t n = strlen(name);
		if (n + 1 > pos)
			return hp_err__set(err, ENAMETOOLONG, "pid %d's program path is too long", t->pid);
		pos -= n;
		memcpy(path + pos, name, n);
		path[--pos] = '/';
		dentry = parent;
	}
	size_t len = sizeof path - 1 - pos;
	if (!len)
		return hp_err__set(err, EINVAL, "pid %d's program is the root directory", t->pid);
	if (len >= cap)
		return hp_err__set(err, ENAMETOOLONG, "pid %d's program path is too long", t->pid);
	/* what repair would change is not valid UTF-8 */
	memcpy(out, path + pos, len + 1);
	if (hp_utf8__fix(path + pos) != len || memcmp(out, path + pos, len)) {
		out[0] = 0;
		return hp_err__set(err, EINVAL, "pid %d's program path is not valid UTF-8", t->pid);
	}
	return 0;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* The NT_GNU_BUILD_ID note among len bytes of notes aligned to align. */
static void find_build_id(const uint8_t *n, size_t len, uint64_t align, char out[41])
{
	static const char hx[] = "0123456789abcdef";
	for (uint64_t off = 0; off + 12 <= len;) {
		uint64_t namesz = rd32(n + off), descsz = rd32(n + off + 4), type = rd32(n + off + 8);
		uint64_t name = off + 12, desc = name + ((namesz + align - 1) & ~(align - 1));
		uint64_t next = desc + ((descsz + align - 1) & ~(align - 1));
		if (desc + descsz > len || next <= off)
			return;
		if (type == 3 && namesz == 4 && !memcmp(n + name, "GNU", 4) && descsz > 0) {
			size_t k = descsz < 20 ? (size_t)descsz : 20; /* as libhprobe keeps it */
			for (size_t i = 0; i < k; i++) {
				out[2 * i] = hx[n[desc + i] >> 4];
				out[2 * i + 1] = hx[n[desc + i] & 15];
			}
			out[2 * k] = 0;
			return;
		}
		off = next;
	}
}

void hp_vmi__exe_build_id(const struct hp_kernel *k, struct hp_backend *b, const struct hp_task *t, char out[41])
{
	out[0] = 0;
	if (!k || hp_kernel__feature(k, HP_KF_APPS) || !k->off.mm_saved_auxv_size || !t->mm)
		return;
	/* the auxiliary vector the kernel gave the program: AT_PHDR (3), AT_PHNUM (5) */
	uint64_t auxv[128], phdr = 0, phnum = 0;
	uint32_t size = k->off.mm_saved_auxv_size;
	if (size > sizeof auxv || hp_backend__read_virt(b, t->mm + k->off.mm_saved_auxv, auxv, size, NULL))
		return;
	for (size_t i = 0; i + 1 < size / 8 && auxv[i]; i += 2) {
		if (auxv[i] == 3)
			phdr = auxv[i + 1];
		else if (auxv[i] == 5)
			phnum = auxv[i + 1];
	}
	if (!phdr || !phnum || phnum > 64)
		return;
	/* the ELF header on the page of the program headers (e_phoff < 4 KiB: all
	 * linkers put them right after it), agreeing with what the kernel said */
	uint8_t eh[64], ph[64 * 56];
	uint64_t hdr = phdr & ~4095ull;
	if (hp_vmi__read_user(k, b, t, hdr, eh, sizeof eh, NULL) ||
	    memcmp(eh,
		   "\x7f"
		   "ELF",
		   4) ||
	    eh[4] != 2 || eh[5] != 1 || rd64(eh + 32) != phdr - hdr || rd16(eh + 54) != 56 || rd16(eh + 56) != phnum ||
	    hp_vmi__read_user(k, b, t, phdr, ph, phnum * 56, NULL))
		return;
	/* the load bias: where the segment that maps the header (file offset 0) lies */
	uint64_t bias = 0;
	int found = 0;
	for (uint64_t i = 0; i < phnum && !found; i++)
		if (rd32(ph + i * 56) == 1 && rd64(ph + i * 56 + 8) == 0) {
			bias = hdr - rd64(ph + i * 56 + 16);
			found = 1;
		}
	for (uint64_t i = 0; found && i < phnum && !out[0]; i++) {
		const uint8_t *e = ph + i * 56;
		uint64_t vaddr = rd64(e + 16), filesz = rd64(e + 32), align = rd64(e + 48) == 8 ? 8 : 4;
		uint8_t notes[4096];
		if (rd32(e) != 4 || filesz < 12 || filesz > sizeof notes ||
		    hp_vmi__read_user(k, b, t, bias + vaddr, notes, filesz, NULL))
			continue;
		find_build_id(notes, filesz, align, out);
	}
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
	struct hp_cycle cyc = hp_cycle__start(head);
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
		if (pos != head && hp_cycle__seen(&cyc, pos)) {
			rc = hp_err__set(err, ELOOP,
					 "task list loops without reaching init_task again (after %zu tasks): guest "
					 "memory damaged or changing",
					 n);
			break;
		}
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
