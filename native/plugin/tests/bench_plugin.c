/* A measurement, not a test: the in-QEMU probe tier's cost on a guest looping on
 * getpid (`sysloop -t S -g`), all in one boot so the configurations compare:
 *   none            the plugin loaded, no probe
 *   capture         __x64_sys_getpid, registers + 2 args (from pt_regs) + pid/comm,
 *                   filtered by comm "sysloop": every call is a hit (hits/s)
 *   count-inline    a counting probe with no filter: an inline add per call
 *   count-filtered  a counting probe filtered by comm: a callback per call
 * then "none" again, and the same loop in a second boot without the plugin at all.
 * usage: bench_plugin LAB_SH PLUGIN_SO [SECONDS [SMP]] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labvm.h"
#include "backend/plugin_backend.h"
#include "probes/probe.h"

struct tally {
	uint64_t hits, dropped, count;
};

static void on_event(void *ctx, const struct hp_bev *ev)
{
	struct tally *t = ctx;
	if (ev->type == HP_BEV_HIT)
		t->hits++;
	else if (ev->type == HP_BEV_DROPPED)
		t->dropped += ev->dropped;
}

static double run(struct labvm *vm, int secs, double *elapsed)
{
	char cmd[64], line[512];
	labvm__mark(vm);
	snprintf(cmd, sizeof cmd, "/apps/sysloop -t %d -g", secs);
	if (labvm__type(vm, cmd) || labvm__wait(vm, " seconds=", (secs + 60) * 1000, line, sizeof line))
		exit(1);
	double rate = 0;
	const char *r = strstr(line, "rate="), *s = strstr(line, "seconds=");
	if (!r || !s || sscanf(r, "rate=%lf", &rate) != 1 || sscanf(s, "seconds=%lf", elapsed) != 1)
		exit(1);
	return rate;
}

static struct hp_capture_plan getpid_probe(uint32_t id, uint64_t addr, enum hp_probe_kind kind, const char *comm)
{
	struct hp_capture_plan p;
	memset(&p, 0, sizeof p);
	p.probe_id = id;
	p.addr = addr;
	p.count_only = kind == HP_PROBE_COUNT;
	p.pid = -1;
	p.syscall_args = 1;
	if (kind == HP_PROBE_CAPTURE) {
		p.nargs = 2;
		p.regs = 1;
	}
	snprintf(p.comm, sizeof p.comm, "%s", comm);
	return p;
}

static double measure(struct labvm *vm, struct tally *t, const struct hp_capture_plan *p, const struct lab_kernel *k,
		      int secs, int reps, const char *name, double base)
{
	struct hp_err err;
	if (p && (hp_backend__arm_plan(vm->b, p, &k->off, &err) || hp_backend__sync(vm->b, 10000, &err))) {
		fprintf(stderr, "%s: %s\n", name, err.msg);
		exit(1);
	}
	double sum = 0, hsum = 0;
	for (int i = 0; i < reps; i++) {
		double el;
		labvm__pump(vm, 200);
		*t = (struct tally){ 0 };
		sum += run(vm, secs, &el);
		labvm__pump(vm, 300);
		hsum += (double)t->hits / el;
	}
	double rate = sum / reps;
	printf("%-16s %10.0f getpid/s  %6.3fx", name, rate, base > 0 ? rate / base : 1.0);
	if (p && !p->count_only)
		printf("  %10.0f hits/s received (drops %llu)", hsum / reps, (unsigned long long)t->dropped);
	printf("\n");
	if (p) {
		hp_backend__forget(vm->b, p->probe_id);
		hp_backend__sync(vm->b, 10000, &err);
	}
	return rate;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s LAB_SH PLUGIN_SO [SECONDS [SMP]]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	int secs = argc > 3 ? atoi(argv[3]) : 5, smp = argc > 4 ? atoi(argv[4]) : 1, reps = 3;
	char guest[4096];
	struct lab_kernel k;
	if (lab__guest_dir(argv[1], guest, sizeof guest) || lab__kernel(guest, &k))
		return 1;
	struct labvm vm;
	struct tally t = { 0 };
	if (labvm__boot(&vm, argv[1], guest, argv[2], smp, HP_PRING_VCPU_BYTES))
		return 1;
	vm.on_event = on_event;
	vm.ctx = &t;
	printf("QEMU TCG, -smp %d, sysloop -t %d -g, mean of %d runs each\n", smp, secs, reps);
	double base = measure(&vm, &t, NULL, &k, secs, reps, "none", 0);
	struct hp_capture_plan cap = getpid_probe(1, k.sys_getpid, HP_PROBE_CAPTURE, "sysloop");
	struct hp_capture_plan cnt = getpid_probe(2, k.sys_getpid, HP_PROBE_COUNT, "");
	struct hp_capture_plan cntf = getpid_probe(3, k.sys_getpid, HP_PROBE_COUNT, "sysloop");
	measure(&vm, &t, &cap, &k, secs, reps, "capture", base);
	measure(&vm, &t, &cnt, &k, secs, reps, "count-inline", base);
	measure(&vm, &t, &cntf, &k, secs, reps, "count-filtered", base);
	measure(&vm, &t, NULL, &k, secs, reps, "none (again)", base);
	labvm__kill(&vm);
	if (labvm__boot(&vm, argv[1], guest, NULL, smp, 0))
		return 1;
	measure(&vm, &t, NULL, &k, secs, reps, "no plugin", base);
	labvm__kill(&vm);
	return 0;
}
