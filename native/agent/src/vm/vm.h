/* A VM under monitoring: its worker thread, its connections, its journal, and the
 * target (probes/target.h) its probes and detectors live in. */
#ifndef HP_VM_H
#define HP_VM_H
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "base/errors.h"
#include "base/strbuf.h"
#include "hprobe/journal.h"
#include "vm/ipnames.h"
#include "probes/target.h"
#include "vm/host.h"

#define HP_JMARKS 1024 /* x HP_JMARK_EVERY: the last ~67 M records */
#define HP_JMARK_EVERY 65536

struct hp_qmp;

enum hp_vm_state { HP_VM_STARTING, HP_VM_RUNNING, HP_VM_PAUSED, HP_VM_DEAD };
const char *hp_vm_state_name(enum hp_vm_state s);

/* A user's own guest, booted by the agent (vm-launch with a kernel and/or a disk). */
enum hp_disk_mode { HP_DISK_SNAPSHOT, HP_DISK_READONLY, HP_DISK_WRITABLE };
#define HP_OWN_MAX_FWD 8
#define HP_OWN_EXTRA 4096
struct hp_own_guest {
	char kernel[PATH_MAX], initrd[PATH_MAX], append[1024];
	char disk[PATH_MAX];
	char disk_format[8]; /* qcow2 or raw ("" = from the file's first bytes) */
	enum hp_disk_mode disk_mode;
	int net;                      /* 0 none, 1 user-mode, 2 user-mode with restrict=on */
	char nic[32];                 /* its device ("" = virtio-net-pci) */
	char fwd[HP_OWN_MAX_FWD][48]; /* "tcp:127.0.0.1:8080-:80", QEMU's hostfwd */
	int nfwd;
	char extra[HP_OWN_EXTRA]; /* more QEMU arguments, each NUL-terminated */
	size_t extra_len;
	int boot_timeout_s; /* until the kernel runs */
};

struct hp_vm_config {
	char name[64];
	int launch; /* boot a guest (else attach): the lab's, or own.kernel/own.disk */
	int smp, mem_mb, kaslr, plugin, http_port;
	struct hp_own_guest own;
	char lab_kernel[32];      /* launch: the lab guest's kernel suite ("" = lab.sh's default) */
	char qmp[PATH_MAX];       /* attach: the QMP socket, or */
	char libvirt_domain[256]; /* attach: a libvirt domain (name or UUID), */
	char libvirt_uri[256];    /* of this connection ("" = libvirt's default) */
	char symbols[PATH_MAX];   /* System.map / kallsyms text */
	char vmlinux[PATH_MAX];   /* BTF source */
	char console_log[PATH_MAX];
	char console_sock[PATH_MAX];
	char sysroot[PATH_MAX]; /* the guest's files on the host ("" none; a lab guest: its folder) */
};

/* A launched guest that is the user's own, not the lab's. */
static inline int hp_vm__own_guest(const struct hp_vm_config *c)
{
	return c->launch && (c->own.kernel[0] || c->own.disk[0]);
}

struct hp_job;
typedef int (*hp_job_fn)(struct hp_vm *vm, struct hp_job *job);

struct hp_job {
	hp_job_fn fn;
	int needs_stop; /* the VM must be stopped while fn runs */
	json_t *args;   /* owned */
	json_t *result; /* set by fn on success */
	enum hp_eclass ecls;
	struct hp_err err;
	int rc;
	uint64_t client_id;
	json_t *req_id;         /* echoed in the reply */
	int final;              /* the VM is gone after this job (detach/quit/failed launch) */
	int internal;           /* the agent's own job (a detector's): nobody awaits a reply */
	hp_target_work_fn work; /* internal jobs deferred by the target: work(tgt, ud) */
	void *ud;               /* internal jobs: their owner's data */
	struct hp_job *next;
};

struct hp_vm {
	struct hp_vm *next; /* the agent's list (main thread) */
	/* ---- set by hp_vm__create and hp_vm__start (main thread, before the VM's
	 * thread exists), read-only afterwards: the main thread reads them unlocked ---- */
	uint32_t id;
	struct hp_host *host;
	struct hp_vm_config cfg; /* console_log/console_sock/qmp of a launched VM included */
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
	char sysroot[PATH_MAX]; /* tgt.sysroot, for the summary */
	json_t *profile;        /* what the kernel profile found (JSON, docs/protocol.md) */
	json_t *source;         /* how QEMU is reached (hp_qmp__source), once attached */
	int64_t slide;
	int smp;
	int nprobes;
	uint64_t total_hits;
	uint64_t next_seq, published_seq, dropped;
	/* batch starts in the journal, every HP_JMARK_EVERY records: a catch-up seeks from
	 * the nearest instead of scanning a multi-GB file from its start (under lock) */
	struct hp_jmark {
		uint64_t off, seq;
	} jmarks[HP_JMARKS];
	unsigned njmarks;

	/* ---- the worker thread's own state ---- */
	pthread_t thread;
	int thread_started;
	int wake_fd;
	struct hp_job *jobs, *jobs_tail; /* under lock */
	pid_t qemu_pid;                  /* launched guests */
	struct hp_qmp *qmp;
	struct hp_target tgt; /* profile, mechanisms, probes, detectors */
	struct hp_journal_writer *journal;
	struct hp_ipnames ipnames; /* the hits' IPs it has named (cleared with the kernel) */
	uint64_t last_flush_ns, last_sync_ns, last_drop_log_ns;
	struct hp_strbuf batch; /* hits since the last flush, as JSON, for subscribers */
	size_t batch_count;
	int batch_json;             /* this batch's hits are in batch (a subscriber exists) */
	atomic_int hit_subscribers; /* clients following this VM's hits (main thread writes) */
	int user_paused;
	int gdb_enabled_by_us;
	char guest_dir[PATH_MAX]; /* the lab guest's files (launched VMs) */
	char gdb_path[PATH_MAX];  /* the gdbstub socket (the guardian's to release) */
	char plugin_so[PATH_MAX], plugin_ring[PATH_MAX], plugin_ctl[PATH_MAX]; /* the in-QEMU tier */
	int plugin_ours;    /* we created its ring (QEMU started by us) */
	int need_reprofile; /* after a guest reset */
	int reprofile_queued;
	int reset_pending;  /* a RESET event seen, stale probes not lifted yet */
	int journal_failed; /* the last flush failed: probes paused */
	uint64_t next_reprofile_ns;
	char sym_path[PATH_MAX], vmlinux_path[PATH_MAX]; /* where the kernel profile came from */
	json_t *restore;                                 /* session.json being recovered after an agent restart */
	int quit;
	int stopped_for_jobs;
};

/* Main thread. */
/* A VM name: 1-63 of [A-Za-z0-9._-], not starting with '.' (it names directories). */
int hp_vm__valid_name(const char *name);
struct hp_vm *hp_vm__create(struct hp_host *h, const struct hp_vm_config *cfg, struct hp_err *err);
int hp_vm__start(struct hp_vm *vm, struct hp_job *first_job, struct hp_err *err);
/* A job run on the VM's thread handed back to the main thread, its reply with it. */
void hp_vm__post_done(struct hp_vm *vm, struct hp_job *job);
void hp_vm__submit(struct hp_vm *vm, struct hp_job *job);
void hp_vm__destroy(struct hp_vm *vm); /* joins the thread */
json_t *hp_vm__summary(struct hp_vm *vm);

struct hp_job *hp_job__new(hp_job_fn fn, int needs_stop, json_t *args);
void hp_job__free(struct hp_job *job);
int hp_job__fail(struct hp_job *job, enum hp_eclass cls, int rc);

/* Worker thread helpers. */
void hp_vm__set_state(struct hp_vm *vm, enum hp_vm_state st, const char *reason);
void hp_vm__event(struct hp_vm *vm, const char *name, json_t *data); /* journalled + pushed */
int hp_vm__attach_job(struct hp_vm *vm, struct hp_job *job);         /* vm-launch / vm-attach */
int hp_vm__detach_job(struct hp_vm *vm, struct hp_job *job);
int hp_vm__quit_job(struct hp_vm *vm, struct hp_job *job);
int hp_vm__flush(struct hp_vm *vm, int force);
/* Journal seek points: noted by the VM thread after each flush, used by the main
 * thread's readers to position r at seq from the nearest point before it. */
int hp_vm__seek(struct hp_vm *vm, struct hp_journal_reader *r, uint64_t seq, struct hp_err *err);
/* The probe set changed: the summary's count and the session file follow. */
void hp_vm__probes_changed(struct hp_vm *vm);
/* Sets the VM's sysroot ("" none), its target's and its summary's. Worker thread. */
void hp_vm__set_sysroot(struct hp_vm *vm, const char *dir);
/* The guest rebooted: kernel probes may point at the wrong place now. */
void hp_vm__on_reset(struct hp_vm *vm);
/* The guardian no longer has to release this VM's gdbstub (we left it, or it is
 * gone). Once per watch; every way a VM ends goes through it. */
void hp_vm__unwatch_gdb(struct hp_vm *vm);
/* Closes the in-QEMU tier (the VM is gone, or being left). */
void hp_vm__drop_plugin(struct hp_vm *vm);
/* After a reset: queues re-reading the kernel profile when due. */
void hp_vm__maybe_reprofile(struct hp_vm *vm, uint64_t now);
/* Frees what the worker owned (backends, probes, journal...). Worker stopped. */
void hp_vm__release(struct hp_vm *vm);
#endif
