/* The infinite-loop detector against a fake guest whose one vCPU sits in a kernel
 * loop: it is called stuck after its confirmation, and a host that held QEMU still
 * (no sample taken for longer than window + confirmation) does not make a verdict of
 * the first sample after the hold; a confirmation is given up when its task is no
 * longer seen running or its exits stop the VM for other tasks too often. Samples are
 * taken on real time, as in the agent. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "detectors/detector.h"
#include "fake_backend.h"
#include "guest/kernel.h"
#include "hp_test.h"
#include "probes/probe.h"
#include "base/util.h"
#include "vm/vm.h"

#define PERCPU 0xffff888000100000ull
#define CUR_TASK_OFF 0x1fb80ull
#define TASK 0xffff888000200000ull
#define TASK2 0xffff888000300000ull /* another task, out of any loop */
#define FUNC (FAKE_TEXT + 0x100)
#define LOOP (FUNC + 5) /* test eax,eax; jne LOOP; ret */
#define PERIOD_MS 20

static struct hp_host host;
static struct hp_target_ops ops;

/* the VM's one queued job, run after the tick as the VM thread would */
static hp_target_work_fn job_fn;
static void *job_ud;

static int defer_job(struct hp_target *t, hp_target_work_fn fn, void *ud, int need_stop)
{
	(void)t;
	(void)need_stop;
	REQUIRE(!job_fn);
	job_fn = fn;
	job_ud = ud;
	return 0;
}

static int always(struct hp_target *t)
{
	(void)t;
	return 1;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* n sampling periods: a tick a little after each period ends */
static void run_periods(struct hp_vm *vm, int n)
{
	for (int i = 0; i < n; i++) {
		sleep_ms(PERIOD_MS + 2);
		hp_detectors__tick(&vm->tgt, hp_now_ns());
		hp_target_work_fn fn = job_fn;
		job_fn = NULL;
		if (fn)
			fn(&vm->tgt, job_ud);
	}
}

static long long counter(struct hp_vm *vm, struct hp_detector *d, const char *k)
{
	json_t *st = d->ops->state(&vm->tgt, d);
	long long v = json_integer_value(json_object_get(st, k));
	json_decref(st);
	return v;
}

static struct hp_detector *add(struct hp_vm *vm)
{
	/* confirmation = 4 periods */
	json_t *cfg = json_pack("{s:i, s:i, s:i, s:i, s:s}", "period_ms", PERIOD_MS, "window_ms", 2 * PERIOD_MS,
				"confirm_ms", 4 * PERIOD_MS, "cooldown_ms", 60000, "scope", "kernel");
	enum hp_eclass cls;
	struct hp_err err;
	struct hp_detector *d = hp_detector__add(&vm->tgt, "loop", cfg, &cls, &err);
	if (!d)
		fprintf(stderr, "loop detector: %s\n", err.msg);
	json_decref(cfg);
	REQUIRE(d);
	return d;
}

/* Window passed, exits planted: the detector is confirming. */
static void until_suspected(struct hp_vm *vm, struct hp_detector *d)
{
	for (int i = 0; i < 20 && counter(vm, d, "candidates") == 0; i++)
		run_periods(vm, 1);
	CHECK_EQ_INT(counter(vm, d, "candidates"), 1);
}

int main(void)
{
	char dir[] = "/tmp/hp-detloop-XXXXXX";
	REQUIRE(mkdtemp(dir));
	struct fake *f = fake_new();
	struct hp_vm *vm = fake_vm_new(&host, f, dir, 4);
	REQUIRE(vm);
	const struct hp_target_ops *own = vm->tgt.ops;
	ops = *own;
	ops.defer = defer_job;
	ops.running = always;
	vm->tgt.ops = &ops;
	vm->tgt.smp = 1;
	struct hp_kernel *k = vm->tgt.kernel;
	k->current_task = CUR_TASK_OFF;
	k->off.task_pid = 100;
	k->off.task_tgid = 104;
	k->off.task_comm = 200;
	fake_map(f, PERCPU + CUR_TASK_OFF, 8);
	fake_put64(f, PERCPU + CUR_TASK_OFF, TASK);
	uint8_t *task = fake_map(f, TASK, 4096);
	memcpy(task + 100, &(uint32_t){ 42 }, 4);
	memcpy(task + 104, &(uint32_t){ 42 }, 4);
	memcpy(task + 200, "kworker", 8);
	uint8_t *task2 = fake_map(f, TASK2, 4096);
	memcpy(task2 + 100, &(uint32_t){ 43 }, 4);
	memcpy(task2 + 104, &(uint32_t){ 43 }, 4);
	memcpy(task2 + 200, "other", 6);
	REQUIRE(hp_backend__write_virt(&f->b, LOOP, "\x85\xc0\x75\xfc\xc3", 5, NULL) == 0);
	f->regs[HP_REG_RIP] = LOOP;
	f->regs[HP_REG_GS_BASE] = PERCPU;

	/* 1. held still in the middle of the confirmation: longer than window + confirm +
	 * period, so every earlier sample is forgotten. The first sample after the hold
	 * finds the loop again, and that is no verdict; the guest then runs out of it. */
	struct hp_detector *d = add(vm);
	until_suspected(vm, d);
	run_periods(vm, 1);
	sleep_ms(10 * PERIOD_MS);
	run_periods(vm, 1);
	CHECK_EQ_INT(counter(vm, d, "stuck"), 0);
	f->regs[HP_REG_RIP] = FUNC + 9; /* at the ret: out of the loop */
	run_periods(vm, 1);
	CHECK_EQ_INT(counter(vm, d, "stuck"), 0);
	CHECK_EQ_INT(counter(vm, d, "progressing"), 1);
	struct hp_err err;
	CHECK_EQ_INT(hp_detector__remove(&vm->tgt, d->id, &err), 0);

	/* 2. truly stuck: called so after the confirmation's samples, not before */
	f->regs[HP_REG_RIP] = LOOP;
	d = add(vm);
	until_suspected(vm, d);
	run_periods(vm, 2);
	CHECK_EQ_INT(counter(vm, d, "stuck"), 0);
	run_periods(vm, 3);
	CHECK_EQ_INT(counter(vm, d, "stuck"), 1);
	CHECK_EQ_INT(counter(vm, d, "progressing"), 0);
	CHECK_EQ_INT(hp_detector__remove(&vm->tgt, d->id, &err), 0);
	CHECK(vm->tgt.probes == NULL); /* the exits' probes went with it */

	/* 3. the suspect is no longer seen running (another task is): given up, its exit
	 * probes lifted, no verdict */
	d = add(vm);
	until_suspected(vm, d);
	CHECK(vm->tgt.probes != NULL);
	fake_put64(f, PERCPU + CUR_TASK_OFF, TASK2);
	f->regs[HP_REG_RIP] = FUNC + 9;
	run_periods(vm, 9); /* past window + confirm + period: 7 periods */
	CHECK_EQ_INT(counter(vm, d, "abandoned"), 1);
	CHECK_EQ_INT(counter(vm, d, "stuck"), 0);
	CHECK(vm->tgt.probes == NULL);
	CHECK_EQ_INT(hp_detector__remove(&vm->tgt, d->id, &err), 0);

	/* 4. its exits stop the VM for other tasks too often: given up at once */
	fake_put64(f, PERCPU + CUR_TASK_OFF, TASK);
	f->regs[HP_REG_RIP] = LOOP;
	d = add(vm);
	until_suspected(vm, d);
	REQUIRE(vm->tgt.probes != NULL);
	vm->tgt.probes->filtered = 257; /* what 257 stops of other tasks counted */
	run_periods(vm, 1);
	CHECK_EQ_INT(counter(vm, d, "abandoned"), 1);
	CHECK_EQ_INT(counter(vm, d, "stuck"), 0);
	CHECK(vm->tgt.probes == NULL);
	CHECK_EQ_INT(hp_detector__remove(&vm->tgt, d->id, &err), 0);

	vm->tgt.ops = own;
	vm->tgt.gdb = NULL;
	hp_vm__destroy(vm);
	fake_free(f);
	fake_host_free(&host);
	char cmd[64];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(cmd), 0);
	TEST_MAIN_END();
}
