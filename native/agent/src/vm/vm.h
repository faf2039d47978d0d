/* A VM under monitoring: its worker thread, its backends, probes and journal. */
#ifndef HP_VM_H
#define HP_VM_H
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "proto/agent.h"
#include "base/errors.h"
#include "hprobe/journal.h"
#include "probes/probe.h"
#include "base/strbuf.h"

#define HP_JMARKS 1024       /* x HP_JMARK_EVERY: the last ~67 M records */
#define HP_JMARK_EVERY 65536

struct hp_backend;
struct hp_kernel;
struct hp_qmp;
struct hp_detector;
struct hp_apps;
struct hp_symtab;
struct hp_btf;

enum hp_vm_state { HP_VM_STARTING, HP_VM_RUNNING, HP_VM_PAUSED, HP_VM_DEAD };
const char *hp_vm_state_name(enum hp_vm_state s);

struct hp_vm_config {
	char name[64];
	int launch;               /* boot a lab guest (else attach) */
	int smp, mem_mb, kaslr, plugin, http_port;
	char qmp[PATH_MAX];       /* attach: the QMP socket */
	char symbols[PATH_MAX];   /* System.map / kallsyms text */
	char vmlinux[PATH_MAX];   /* BTF source */
	char console_log[PATH_MAX];
	char console_sock[PATH_MAX];
};

struct hp_job;
typedef int (*hp_job_fn)(struct hp_vm *vm, struct hp_job *job);

struct hp_job {
	hp_job_fn fn;
	int needs_stop;           /* the VM must be stopped while fn runs */
	json_t *args;             /* owned */
	json_t *result;           /* set by fn on success */
	enum hp_eclass ecls;
	struct hp_err err;
	int rc;
	uint64_t client_id;
	json_t *req_id;           /* echoed in the reply */
	int final;                /* the VM is gone after this job (detach/quit/failed launch) */
	int internal;             /* the agent's own job (a detector's): nobody awaits a reply */
	void *ud;                 /* internal jobs: their owner's data */
	struct hp_job *next;
};

struct hp_vm {
	struct hp_vm *next;               /* the agent's list (main thread) */
	/* ---- set at creation, read-only afterwards ---- */
	uint32_t id;
	struct hp_agent *agent;
	struct hp_vm_config cfg;
	char rundir[PATH_MAX];
	char session_dir[PATH_MAX];
	char journal_path[PATH_MAX];

	/* ---- summary for the main thread, under lock ---- */
	pthread_mutex_t lock;
	enum hp_vm_state state;
	char reason[256];
	char accel[8];
	char qemu_version[32];
	char kernel_release[64];
	int64_t slide;
	int smp;
	int nprobes;
	uint64_t total_hits;
	uint64_t next_seq, published_seq, dropped;
	/* batch starts in the journal, every HP_JMARK_EVERY records: a catch-up seeks from
	 * the nearest instead of scanning a multi-GB file from its start (under lock) */
	struct hp_jmark { uint64_t off, seq; } jmarks[HP_JMARKS];
	unsigned njmarks;

	/* ---- the worker thread's own state ---- */
	pthread_t thread;
	int thread_started;
	int wake_fd;
	struct hp_job *jobs, *jobs_tail;  /* under lock */
	pid_t qemu_pid;                    /* launched guests */
	struct hp_qmp *qmp;
	struct hp_backend *gdb;
	struct hp_backend *plugin;
	struct hp_kernel *kernel;
	struct hp_apps *apps;
	struct hp_probe *probes;
	uint32_t next_probe_id;
	struct hp_detector *detectors;
	uint32_t next_detector_id;
	struct hp_journal_writer *journal;
	uint64_t last_flush_ns, last_sync_ns, last_drop_log_ns;
	struct hp_strbuf batch;            /* hits since the last flush, as JSON, for subscribers */
	size_t batch_count;
	int batch_json;                    /* this batch's hits are in batch (a subscriber exists) */
	atomic_int hit_subscribers;        /* clients following this VM's hits (main thread writes) */
	int user_paused;
	int gdb_enabled_by_us;
	char guest_dir[PATH_MAX];          /* the lab guest's files (launched VMs) */
	char gdb_path[PATH_MAX];           /* the gdbstub socket (the guardian's to release) */
	char plugin_so[PATH_MAX], plugin_ring[PATH_MAX], plugin_ctl[PATH_MAX]; /* the in-QEMU tier */
	struct hp_probe *app_hooks[2];     /* exec and exit hooks while application probes exist */             /* attach enabled the gdbstub: detach turns it off */
	int need_reprofile;                /* after a guest reset */
	int reprofile_queued;
	int reset_pending;
	int journal_failed;                /* the last flush failed: probes paused */                 /* a RESET event seen, stale probes not lifted yet */
	uint64_t next_reprofile_ns;
	char sym_path[PATH_MAX], vmlinux_path[PATH_MAX]; /* where the kernel profile came from */
	json_t *restore;                   /* session.json being recovered after an agent restart */
	int quit;
	int stopped_for_jobs;
};

/* Journal seek points (cmd_hits.c): noted by the VM thread after each flush (vm->lock
 * held), used by the main thread's readers. */
void hp_hits__mark(struct hp_vm *vm);
int hp_hits__seek(struct hp_vm *vm, struct hp_journal_reader *r, uint64_t seq, struct hp_err *err);

/* Main thread. */
struct hp_vm *hp_vm__create(struct hp_agent *a, const struct hp_vm_config *cfg, struct hp_err *err);
int hp_vm__start(struct hp_vm *vm, struct hp_job *first_job, struct hp_err *err);
void hp_vm__submit(struct hp_vm *vm, struct hp_job *job);
void hp_vm__destroy(struct hp_vm *vm); /* joins the thread */
json_t *hp_vm__summary(struct hp_vm *vm);

struct hp_job *hp_job__new(hp_job_fn fn, int needs_stop, json_t *args);
void hp_job__free(struct hp_job *job);
int hp_job__fail(struct hp_job *job, enum hp_eclass cls, int rc);

/* Worker thread helpers. */
void hp_vm__set_state(struct hp_vm *vm, enum hp_vm_state st, const char *reason);
void hp_vm__event(struct hp_vm *vm, const char *name, json_t *data); /* journalled + pushed */
struct hp_probe *hp_vm__probe(struct hp_vm *vm, uint32_t id);
int hp_vm__attach_job(struct hp_vm *vm, struct hp_job *job);   /* vm-launch / vm-attach */
int hp_vm__detach_job(struct hp_vm *vm, struct hp_job *job);
int hp_vm__quit_job(struct hp_vm *vm, struct hp_job *job);
/* No symbol file: recover the kernel's symbols and BTF from the guest (recover.c). */
int hp_recover__kernel(struct hp_vm *vm, struct hp_symtab **syms, struct hp_btf **btf, struct hp_err *err);
int hp_vm__flush(struct hp_vm *vm, int force);
/* Probes, shared by the protocol and by detectors (cmd_probe.c). */
struct hp_probe *hp_probe_create(struct hp_vm *vm, const char *spec, const struct hp_probe_opts *o,
				 enum hp_eclass *cls, struct hp_err *err);
void hp_probe_destroy(struct hp_vm *vm, struct hp_probe *p);
/* Every probe of one owner (a detector). Destroying a probe may destroy others
 * (the last application probe takes the exec/exit hooks along). */
void hp_probe_destroy_owned(struct hp_vm *vm, uint32_t owner);
/* A probe at a raw address, for the agent's own use (a detector's): filtered by pid,
 * resumed by single-stepping (its code is not known), a debug register under KVM. */
struct hp_probe *hp_probe_create_raw(struct hp_vm *vm, uint64_t addr, int32_t pid, uint32_t owner, struct hp_err *err);
/* The guest rebooted: kernel probes may point at the wrong place now. */
void hp_vm__on_reset(struct hp_vm *vm);
/* Closes the in-QEMU tier (the VM is gone, or being left). */
void hp_vm__drop_plugin(struct hp_vm *vm);
/* After a reset: queues re-reading the kernel profile when due. */
void hp_vm__maybe_reprofile(struct hp_vm *vm, uint64_t now);
/* Frees what the worker owned (backends, probes, journal...). Worker stopped. */
void hp_vm__release(struct hp_vm *vm);
#endif
