/* The engine against a fake backend: capture (pt_regs arguments, memory, task
 * identity), filters, journal records, and the resume plans. */
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fake_backend.h"
#include "guest/kernel.h"
#include "hp_test.h"
#include "probes/engine.h"
#include "probes/probe.h"
#include "vm/vm.h"

#define PROBE_AT 0xffffffff81000100ull
#define PERCPU 0xffff888000100000ull
#define CUR_TASK_OFF 0x1fb80ull
#define TASK 0xffff888000200000ull
#define PTREGS 0xffffc90000010000ull
#define UBUF 0x7000ull
#define STACK 0xffffc90000020000ull

static struct hp_host host;

static struct hp_vm *make_vm(struct fake *f, char *jpath)
{
	struct hp_vm_config cfg = { .name = "unit" };
	struct hp_err err;
	host.outbox.efd = eventfd(0, EFD_NONBLOCK);
	pthread_mutex_init(&host.outbox.lock, NULL);
	struct hp_vm *vm = hp_vm__create(&host, &cfg, &err);
	REQUIRE(vm);
	vm->tgt.gdb = &f->b;
	struct hp_kernel *k = calloc(1, sizeof *k);
	/* offsets as BTF would give them; made up on purpose, so nothing can be hard-coded */
	k->off.task_pid = 100;
	k->off.task_tgid = 104;
	k->off.task_comm = 200;
	k->off.regs_di = 112;
	k->off.regs_si = 104;
	k->off.regs_dx = 96;
	k->off.regs_r10 = 56;
	k->off.regs_r8 = 72;
	k->off.regs_r9 = 64;
	k->off.regs_size = 168;
	k->current_task = CUR_TASK_OFF;
	k->btf = (struct hp_btf *)1; /* present; never dereferenced by the engine */
	vm->tgt.kernel = k;
	struct hp_journal_meta meta = { .session = "unit", .vm_name = "unit" };
	REQUIRE(hp_journal__create(jpath, &meta, 0, &vm->journal, &err) == 0);
	return vm;
}

static struct hp_probe *add_probe(struct hp_vm *vm, struct fake *f, enum hp_resume resume, uint8_t len)
{
	struct hp_probe *p = calloc(1, sizeof *p);
	p->id = vm->tgt.next_probe_id++;
	p->addr = PROBE_AT;
	p->o.pid = -1;
	p->o.enabled = 1;
	p->resume = resume;
	p->insn_len = len;
	p->mech = &f->b;
	p->state = HP_PSTATE_ARMED;
	p->next = vm->tgt.probes;
	vm->tgt.probes = p;
	return p;
}

static void guest(struct fake *f)
{
	fake_map(f, PERCPU + CUR_TASK_OFF, 8);
	fake_put64(f, PERCPU + CUR_TASK_OFF, TASK);
	uint8_t *t = fake_map(f, TASK, 4096);
	memcpy(t + 100, &(uint32_t){ 42 }, 4);
	memcpy(t + 104, &(uint32_t){ 41 }, 4);
	memcpy(t + 200, "sysloop\0\0\0\0\0\0\0\0", 16);
	uint8_t *pt = fake_map(f, PTREGS, 168);
	memcpy(pt + 112, &(uint64_t){ 3 }, 8);
	memcpy(pt + 104, &(uint64_t){ UBUF }, 8);
	memcpy(pt + 96, &(uint64_t){ 7 }, 8);
	memcpy(fake_map(f, UBUF, 4096), "sysloop", 8);
	fake_map(f, STACK - 4096, 8192);
	f->regs[HP_REG_RIP] = PROBE_AT;
	f->regs[HP_REG_RDI] = PTREGS;
	f->regs[HP_REG_GS_BASE] = PERCPU;
	f->regs[HP_REG_RSP] = STACK;
	f->regs[HP_REG_RBP] = 0x1234;
}

static int stop_at(struct hp_vm *vm, struct fake *f)
{
	struct hp_bev ev = { .type = HP_BEV_STOP_BP, .vcpu = 1, .addr = PROBE_AT, .time_ns = 77 };
	struct hp_err err;
	f->regs[HP_REG_RIP] = PROBE_AT;
	return hp_engine__on_stop(&vm->tgt, &f->b, &ev, 1, &err);
}

static void read_hits(const char *path, struct hp_hit *out, int *n)
{
	struct hp_journal_reader *r;
	struct hp_record rec;
	struct hp_err err;
	*n = 0;
	REQUIRE(hp_journal__open(path, &r, &err) == 0);
	while (hp_journal__next(r, &rec, &err) == 1)
		if (rec.type == HP_REC_HIT)
			out[(*n)++] = rec.u.hit;
	hp_journal__close_reader(r);
}

int main(void)
{
	char jpath[] = "/tmp/hp-engine-XXXXXX";
	int fd = mkstemp(jpath);
	close(fd);
	struct fake *f = fake_new();
	guest(f);
	struct hp_vm *vm = make_vm(f, jpath);
	struct hp_err err;

	/* 1. a syscall-wrapper probe: args from pt_regs, memory, task, nop resume */
	struct hp_probe *p = add_probe(vm, f, HP_RESUME_NOP, 5);
	p->syscall_wrapper = 1;
	p->o.nargs = 3;
	REQUIRE(hp_probe__parse_mem("arg2:s16", &p->o.mem, &err) == 0);
	snprintf(p->o.comm, sizeof p->o.comm, "sysloop");
	CHECK_EQ_INT(stop_at(vm, f), 0);
	CHECK_EQ_U64(f->regs[HP_REG_RIP], PROBE_AT + 5);
	CHECK_EQ_INT(f->resumes, 1);
	CHECK_EQ_INT(p->hits, 1);

	/* 2. a comm that does not match: no hit, but the VM still resumes */
	snprintf(p->o.comm, sizeof p->o.comm, "other");
	CHECK_EQ_INT(stop_at(vm, f), 0);
	CHECK_EQ_INT(p->hits, 1);
	CHECK_EQ_INT(p->filtered, 1);
	CHECK_EQ_INT(f->resumes, 2);

	/* 3. a pid filter matches the tgid too */
	p->o.comm[0] = 0;
	p->o.pid = 41;
	CHECK_EQ_INT(stop_at(vm, f), 0);
	CHECK_EQ_INT(p->hits, 2);

	/* 4. push %rbp is executed on the guest's behalf */
	p->resume = HP_RESUME_PUSH_RBP;
	p->insn_len = 1;
	uint64_t sp = f->regs[HP_REG_RSP];
	CHECK_EQ_INT(stop_at(vm, f), 0);
	CHECK_EQ_U64(f->regs[HP_REG_RSP], sp - 8);
	CHECK_EQ_U64(f->regs[HP_REG_RIP], PROBE_AT + 1);
	uint64_t pushed;
	CHECK(f->b.ops->read_virt(&f->b, sp - 8, &pushed, 8, &err) == 0);
	CHECK_EQ_U64(pushed, 0x1234);

	/* 4b. a direct call: the return address is pushed and RIP moves to the target */
	p->resume = HP_RESUME_CALL;
	p->insn_len = 5;
	p->call_rel = 0x100;
	f->regs[HP_REG_RSP] = sp;
	CHECK_EQ_INT(stop_at(vm, f), 0);
	CHECK_EQ_U64(f->regs[HP_REG_RSP], sp - 8);
	CHECK_EQ_U64(f->regs[HP_REG_RIP], PROBE_AT + 5 + 0x100);
	CHECK(f->b.ops->read_virt(&f->b, sp - 8, &pushed, 8, &err) == 0);
	CHECK_EQ_U64(pushed, PROBE_AT + 5);

	/* 5. anything else single-steps */
	p->resume = HP_RESUME_STEP;
	f->regs[HP_REG_RSP] = sp;
	CHECK_EQ_INT(stop_at(vm, f), 0);
	CHECK_EQ_INT(f->steps, 1);

	/* 6. an unreadable string argument records no bytes, and nothing breaks */
	p->resume = HP_RESUME_NOP;
	p->insn_len = 5;
	uint8_t *pt = NULL;
	for (int i = 0; i < f->nregions; i++)
		if (f->regions[i].va == PTREGS)
			pt = f->regions[i].data;
	memcpy(pt + 104, &(uint64_t){ 0xdead0000 }, 8);
	CHECK_EQ_INT(stop_at(vm, f), 0);

	CHECK_EQ_INT(hp_vm__flush(vm, 1), 0);
	struct hp_hit hits[16];
	int n;
	read_hits(jpath, hits, &n);
	CHECK_EQ_INT(n, 6);
	CHECK_EQ_INT(hits[0].nargs, 3);
	CHECK_EQ_U64(hits[0].args[0], 3);
	CHECK_EQ_U64(hits[0].args[1], UBUF);
	CHECK_EQ_U64(hits[0].args[2], 7);
	CHECK_EQ_INT(hits[0].pid, 42);
	CHECK_EQ_INT(hits[0].tgid, 41);
	CHECK_EQ_INT(hits[0].vcpu, 1);
	CHECK_EQ_U64(hits[0].time_ns, 77);
	CHECK_STR(hits[0].comm, "sysloop");
	CHECK_EQ_INT(hits[0].memlen, 7);
	CHECK(memcmp(hits[0].mem, "sysloop", 7) == 0);
	CHECK_EQ_U64(hits[0].memaddr, UBUF);
	CHECK_EQ_INT(hits[5].memlen, 0);
	CHECK_EQ_U64(hits[5].memaddr, 0xdead0000);
	CHECK(hits[5].flags & HP_HIT_MEM);

	unlink(jpath);
	vm->tgt.kernel->btf = NULL; /* the placeholder above is not a real BTF */
	vm->tgt.gdb = NULL;         /* the fake is freed by the test */
	hp_vm__destroy(vm);
	fake_free(f);
	fake_host_free(&host);
	TEST_MAIN_END();
}
