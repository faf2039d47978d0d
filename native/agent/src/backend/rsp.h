/* GDB remote serial protocol client for QEMU's gdbstub (x86-64).
 * Not thread-safe: one owner (the VM's worker thread). Requests may be pipelined:
 * hp_rsp__send() queues packets and hp_rsp__recv() returns replies in order. */
#ifndef HP_RSP_H
#define HP_RSP_H
#include <stdint.h>
#include <stddef.h>
#include "hprobe/common.h"

struct hp_rsp;

#define HP_RSP_MAX_PACKET 8192

/* The registers we use, by name, located in the 'g' block from the target description. */
enum hp_rsp_reg {
	RSP_RAX,
	RSP_RBX,
	RSP_RCX,
	RSP_RDX,
	RSP_RSI,
	RSP_RDI,
	RSP_RBP,
	RSP_RSP,
	RSP_R8,
	RSP_R9,
	RSP_R10,
	RSP_R11,
	RSP_R12,
	RSP_R13,
	RSP_R14,
	RSP_R15,
	RSP_RIP,
	RSP_EFLAGS,
	RSP_CS,
	RSP_FS_BASE,
	RSP_GS_BASE,
	RSP_K_GS_BASE,
	RSP_CR3,
	RSP_NREGS
};

struct hp_rsp_stop {
	int signal; /* 5 = SIGTRAP (breakpoint/step), 2 = SIGINT (our interrupt), ... */
	int thread; /* gdb thread id = vCPU index + 1, 0 if not given */
	int exited; /* W/X reply: the target is gone */
};

int hp_rsp__connect(const char *unix_path, int timeout_ms, struct hp_rsp **out, struct hp_err *err);
/* A client on a connected stream socket (owned from then on, closed on error too). */
int hp_rsp__adopt(int fd, struct hp_rsp **out, struct hp_err *err);
void hp_rsp__free(struct hp_rsp *r);
int hp_rsp__fd(const struct hp_rsp *r);

/* Handshake: qSupported, the target description (needed before 'P' works on QEMU),
 * register layout, current stop state. On return the VM is stopped. */
int hp_rsp__handshake(struct hp_rsp *r, struct hp_rsp_stop *stop, struct hp_err *err);

/* Low level. send() formats and queues one packet; recv() waits up to timeout_ms for
 * the next packet (-ETIMEDOUT), NUL-terminates it into buf. */
int hp_rsp__send(struct hp_rsp *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int hp_rsp__send_raw(struct hp_rsp *r, const char *payload, size_t len);
int hp_rsp__recv(struct hp_rsp *r, char *buf, size_t cap, int timeout_ms, struct hp_err *err);
/* Bytes buffered but not yet parsed (so a poll() on the fd is not enough). */
int hp_rsp__pending(const struct hp_rsp *r);

/* One request, one reply. An 'E..' reply is returned as -EIO with a message. */
int hp_rsp__cmd(struct hp_rsp *r, char *reply, size_t cap, struct hp_err *err, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

int hp_rsp__parse_stop(const char *pkt, struct hp_rsp_stop *stop);

/* Helpers (each one round trip unless noted). */
int hp_rsp__read_mem(struct hp_rsp *r, uint64_t addr, void *buf, size_t len, struct hp_err *err);
int hp_rsp__write_mem(struct hp_rsp *r, uint64_t addr, const void *buf, size_t len, struct hp_err *err);
/* Reads all registers of the current (stopped) vCPU into regs[RSP_NREGS]. */
int hp_rsp__read_regs(struct hp_rsp *r, uint64_t regs[RSP_NREGS], struct hp_err *err);
/* Queues a register write; its "OK" must be consumed with hp_rsp__expect_ok(). */
int hp_rsp__queue_write_reg(struct hp_rsp *r, enum hp_rsp_reg reg, uint64_t val);
int hp_rsp__expect_ok(struct hp_rsp *r, struct hp_err *err);
int hp_rsp__set_bp(struct hp_rsp *r, uint64_t addr, int insert, struct hp_err *err);
/* type 0: software breakpoint, 1: hardware breakpoint (a debug register). */
int hp_rsp__set_bp_type(struct hp_rsp *r, int type, uint64_t addr, int insert, struct hp_err *err);
int hp_rsp__select_thread(struct hp_rsp *r, int thread, struct hp_err *err);
/* Resume all vCPUs ('c'); the next stop arrives as an asynchronous packet. */
int hp_rsp__continue(struct hp_rsp *r);
/* Step only one vCPU (vCont;s:thread): others stay stopped, so none runs through a removed probe. */
int hp_rsp__step_thread(struct hp_rsp *r, int thread);
/* Ask a running target to stop (the 0x03 byte). */
int hp_rsp__interrupt(struct hp_rsp *r);
/* HMP-style monitor command through qRcmd; output text into out. */
int hp_rsp__monitor(struct hp_rsp *r, const char *cmd, char *out, size_t cap, struct hp_err *err);
/* Leave the target running with no breakpoint of ours (QEMU removes them on detach). */
int hp_rsp__detach(struct hp_rsp *r, struct hp_err *err);

const char *hp_rsp__reg_name(enum hp_rsp_reg reg);
#endif
