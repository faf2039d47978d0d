#include "fake_backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "btf_synth.h"
#include "guest/kernel.h"
#include "vm/vm.h"

static struct fake *F(struct hp_backend *b)
{
	return b->priv;
}

static uint8_t *find(struct fake *f, uint64_t va, size_t len)
{
	for (int i = 0; i < f->nregions; i++) {
		struct fake_region *r = &f->regions[i];
		if (va >= r->va && va - r->va + len <= r->len)
			return r->data + (va - r->va);
	}
	return NULL;
}

static int f_read(struct hp_backend *b, uint64_t va, void *buf, size_t len, struct hp_err *err)
{
	uint8_t *p = find(F(b), va, len);
	F(b)->reads++;
	if (!p)
		return hp_err__set(err, EFAULT, "fake: unmapped 0x%llx", (unsigned long long)va);
	memcpy(buf, p, len);
	return 0;
}

static int f_write(struct hp_backend *b, uint64_t va, const void *buf, size_t len, struct hp_err *err)
{
	uint8_t *p = find(F(b), va, len);
	if (!p)
		return hp_err__set(err, EFAULT, "fake: unmapped 0x%llx", (unsigned long long)va);
	memcpy(p, buf, len);
	return 0;
}

static int f_read_regs(struct hp_backend *b, uint64_t regs[HP_NREGS], struct hp_err *err)
{
	(void)err;
	memcpy(regs, F(b)->regs, sizeof F(b)->regs);
	return 0;
}

static int f_vcpu_regs(struct hp_backend *b, int vcpu, uint64_t regs[HP_NREGS], struct hp_err *err)
{
	(void)vcpu;
	return f_read_regs(b, regs, err);
}

static int f_write_regs(struct hp_backend *b, const uint64_t regs[HP_NREGS], uint32_t mask, struct hp_err *err)
{
	(void)err;
	for (int i = 0; i < HP_NREGS; i++)
		if (mask & HP_REGBIT(i))
			F(b)->regs[i] = regs[i];
	F(b)->written_mask |= mask;
	return 0;
}

static int f_arm(struct hp_backend *b, uint64_t addr, uint32_t id, struct hp_err *err)
{
	(void)id;
	(void)err;
	struct fake *f = F(b);
	if (f->narmed < 64)
		f->armed[f->narmed++] = addr;
	return 0;
}

static int f_disarm(struct hp_backend *b, uint64_t addr, uint32_t id, struct hp_err *err)
{
	(void)id;
	(void)err;
	struct fake *f = F(b);
	for (int i = 0; i < f->narmed; i++)
		if (f->armed[i] == addr) {
			f->armed[i] = f->armed[--f->narmed];
			break;
		}
	return 0;
}

static int f_step(struct hp_backend *b, int vcpu, uint64_t addr, struct hp_err *err)
{
	(void)vcpu;
	(void)addr;
	(void)err;
	F(b)->steps++;
	return 0;
}

static int f_stop(struct hp_backend *b, struct hp_bev *ev, int *got, struct hp_err *err)
{
	(void)ev;
	(void)err;
	*got = 0;
	F(b)->running = 0;
	return 0;
}

static int f_resume(struct hp_backend *b, struct hp_err *err)
{
	(void)err;
	F(b)->running = 1;
	F(b)->resumes++;
	return 0;
}

static int f_fd(struct hp_backend *b)
{
	(void)b;
	return -1;
}
static int f_next(struct hp_backend *b, struct hp_bev *ev, struct hp_err *err)
{
	(void)b;
	(void)ev;
	(void)err;
	return 0;
}
static int f_detach(struct hp_backend *b, struct hp_err *err)
{
	(void)err;
	F(b)->narmed = 0;
	return 0;
}
static void f_destroy(struct hp_backend *b)
{
	(void)b;
}

static const struct hp_backend_ops fake_ops = {
	.name = "file",
	.read_virt = f_read,
	.write_virt = f_write,
	.read_regs = f_read_regs,
	.vcpu_regs = f_vcpu_regs,
	.write_regs = f_write_regs,
	.arm = f_arm,
	.disarm = f_disarm,
	.step_over = f_step,
	.stop = f_stop,
	.resume = f_resume,
	.event_fd = f_fd,
	.next_event = f_next,
	.detach = f_detach,
	.destroy = f_destroy,
};

struct fake *fake_new(void)
{
	struct fake *f = calloc(1, sizeof *f);
	f->b.ops = &fake_ops;
	f->b.priv = f;
	return f;
}

void fake_free(struct fake *f)
{
	for (int i = 0; i < f->nregions; i++)
		free(f->regions[i].data);
	free(f);
}

uint8_t *fake_map(struct fake *f, uint64_t va, size_t len)
{
	struct fake_region *r = &f->regions[f->nregions++];
	r->va = va;
	r->len = len;
	r->data = calloc(1, len);
	return r->data;
}

void fake_put64(struct fake *f, uint64_t va, uint64_t v)
{
	memcpy(find(f, va, 8), &v, 8);
}
void fake_put32(struct fake *f, uint64_t va, uint32_t v)
{
	memcpy(find(f, va, 4), &v, 4);
}

struct hp_vm *fake_vm_new(struct hp_host *host, struct fake *f, const char *dir, int nsyms)
{
	struct hp_vm_config cfg = { .name = "unit" };
	struct hp_err err;
	host->outbox.efd = eventfd(0, EFD_NONBLOCK);
	host->guard_fd = -1;
	pthread_mutex_init(&host->outbox.lock, NULL);
	if (nsyms < 1 || nsyms > 10000)
		return NULL;
	struct hp_vm *vm = hp_vm__create(host, &cfg, &err);
	char *text = malloc((size_t)nsyms * 48);
	struct hp_kernel *k = calloc(1, sizeof *k);
	uint8_t *code = fake_map(f, FAKE_TEXT, 0x100 * (size_t)nsyms);
	if (!vm || !text || !k || !code) {
		free(text);
		free(k);
		return NULL;
	}
	snprintf(vm->session_dir, sizeof vm->session_dir, "%s", dir);
	vm->tgt.gdb = &f->b;
	size_t len = 0;
	for (int i = 0; i < nsyms; i++)
		len += (size_t)sprintf(text + len, "%016llx T func_%04d\n",
				       (unsigned long long)(FAKE_TEXT + 0x100ull * i), i);
	int rc = hp_symtab__parse_text(text, len, &k->syms, NULL, &err);
	free(text);
	if (rc) {
		free(k);
		return NULL;
	}
	k->text.start = FAKE_TEXT;
	k->text.end = FAKE_TEXT + 0x100ull * (size_t)nsyms;
	/* a real BTF (lib/tests/btf_synth.h): ksys_write's prototype, size_t, pid_t */
	size_t blen;
	void *blob = hp_btf_synth(&blen);
	rc = hp_btf__load_raw(blob, blen, &k->btf, &err);
	free(blob);
	vm->tgt.kernel = k;
	if (rc)
		return NULL;
	for (int i = 0; i < nsyms; i++)
		memcpy(code + 0x100 * i, "\x0f\x1f\x44\x00\x00", 5);
	return vm;
}

void fake_host_free(struct hp_host *host)
{
	for (struct hp_msg *m = host->outbox.head, *n; m; m = n) {
		n = m->next;
		free(m->line);
		free(m);
	}
	close(host->outbox.efd);
}
