/* libFuzzer harness: the commands that need a VM, on a VM over the fake backend (no
 * QEMU: guest memory in the harness, a kernel of 64 functions, few because a suggestion
 * for an unknown symbol looks at each). Each input line is a protocol frame, dispatched
 * as the server does; the VM's queued jobs then run here, as its worker would run
 * them, and their replies go to the client (a socketpair, drained). A line "session {...}" is a session.json whose probes and detectors are
 * restored. After each input every probe and detector is removed, so inputs do not
 * pile up state. Left out: commands that end the VM, start or reach QEMU or libvirt. */
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "fake_backend.h"
#include "fuzz_client.h"
#include "guest/kernel.h"
#include "probes/probe.h"
#include "proto/commands.h"
#include "vm/session.h"
#include "vm/vm.h"

static struct hp_agent agent;
static struct hp_vm *vm;
static int peer = -1;

/* A journal of 20 hits for hits-read and alerts-read (the VM never writes to it). */
static void make_journal(const char *dir)
{
	struct hp_journal_meta meta = { .mono_base_ns = 1000 };
	struct hp_journal_writer *w;
	struct hp_err err;
	snprintf(vm->journal_path, sizeof vm->journal_path, "%s/journal.hpj", dir);
	snprintf(meta.vm_name, sizeof meta.vm_name, "unit");
	if (hp_journal__create(vm->journal_path, &meta, 0, &w, &err))
		abort();
	for (int i = 0; i < 20; i++) {
		struct hp_hit h = {
			.time_ns = 2000 + (uint64_t)i, .probe_id = 1 + (uint32_t)i % 2, .pid = 7, .tgid = 7
		};
		hp_journal__append_hit(w, &h, NULL);
	}
	const char *alert = "{\"kind\":\"watchdog\",\"detector\":1}";
	hp_journal__append_json(w, HP_REC_ALERT, 3000, alert, strlen(alert), NULL);
	if (hp_journal__close(w, &err))
		abort();
	vm->next_seq = vm->published_seq = 21;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	static char dir[] = "/dev/shm/fuzz_vm.XXXXXX";
	struct fake *f = fake_new();
	if (!mkdtemp(dir) || !f || !(vm = fake_vm_new(&agent.host, f, dir, 64)))
		abort();
	make_journal(dir);
	/* task offsets, as a kernel profile gives them: comm and pid filters accepted */
	vm->tgt.kernel->off.task_pid = 100;
	vm->tgt.kernel->off.task_tgid = 104;
	vm->tgt.kernel->off.task_comm = 200;
	vm->tgt.kernel->current_task = 0x1000;
	vm->state = HP_VM_RUNNING;
	agent.host.vms = vm;
	agent.listen_fd = -1;
	agent.epfd = epoll_create1(EPOLL_CLOEXEC);
	snprintf(agent.host.paths.state_dir, sizeof agent.host.paths.state_dir, "%s", dir);
	peer = fuzz_client_new(&agent);
	return 0;
}

/* The worker's part: each queued job run, its reply posted as the worker posts it. */
static void run_jobs(void)
{
	struct hp_job *list = vm->jobs;
	vm->jobs = vm->jobs_tail = NULL;
	while (list) {
		struct hp_job *job = list;
		list = job->next;
		job->rc = job->fn(vm, job);
		hp_vm__post_done(vm, job);
	}
	hp_server__drain_outbox(&agent);
}

static int left_out(const char *frame, size_t len)
{
	static const char *const names[] = { "vm-launch",  "vm-attach",    "vm-detach",     "vm-quit",
					     "vm-console", "libvirt-list", "agent-shutdown" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (memmem(frame, len, names[i], strlen(names[i])))
			return 1;
	return 0;
}

static void handle(struct hp_client *c, const char *frame, size_t len)
{
	if (left_out(frame, len))
		return;
	if (len > 8 && !memcmp(frame, "session ", 8)) {
		vm->restore = json_loadb(frame + 8, len - 8, 0, NULL);
		if (vm->restore)
			hp_session__restore_probes(vm); /* it takes vm->restore */
	} else {
		hp_commands__dispatch(&agent, c, frame, len);
	}
	run_jobs();
	for (struct hp_probe *p = vm->tgt.probes; p; p = p->next)
		if (p->o.nargs < 0 || p->o.nargs > HP_MAX_ARGS || p->o.pid < -1 ||
		    !memchr(p->o.comm, 0, sizeof p->o.comm))
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_client_feed(&agent, peer, data, size, handle);
	struct hp_err err;
	while (vm->tgt.detectors)
		hp_detector__remove(&vm->tgt, vm->tgt.detectors->id, &err);
	while (vm->tgt.probes)
		hp_probe__destroy(&vm->tgt, vm->tgt.probes);
	hp_server__drain_outbox(&agent);
	fuzz_client_reset(&agent);
	return 0;
}
