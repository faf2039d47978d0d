/* A backend over in-memory guest state, for unit tests of the engine, VMI and probe
 * logic without QEMU (in the spirit of LibVMI's file driver). */
#ifndef HP_FAKE_BACKEND_H
#define HP_FAKE_BACKEND_H
#include "backend/backend.h"

struct fake_region {
	uint64_t va;
	size_t len;
	uint8_t *data;
};

struct fake {
	struct hp_backend b;
	struct fake_region regions[16];
	int nregions;
	uint64_t regs[HP_NREGS];
	uint64_t armed[64];
	int narmed;
	int running;
	int resumes, steps, reads;
	uint32_t written_mask;
};

struct fake *fake_new(void);
void fake_free(struct fake *f);
/* Maps len zeroed bytes at va and returns them. */
uint8_t *fake_map(struct fake *f, uint64_t va, size_t len);
void fake_put64(struct fake *f, uint64_t va, uint64_t v);
void fake_put32(struct fake *f, uint64_t va, uint32_t v);

/* A VM named "unit" over f, with no worker thread: a kernel of nsyms (<= 10000)
 * functions func_0000.. of 0x100 bytes from FAKE_TEXT, each starting with a 5-byte nop;
 * its session files go to dir. host gets an outbox. NULL if it cannot be made. */
#define FAKE_TEXT 0xffffffff81000000ull
struct hp_host;
struct hp_vm;
struct hp_vm *fake_vm_new(struct hp_host *host, struct fake *f, const char *dir, int nsyms);
/* Frees what the VM posted to host's outbox, and the outbox. */
void fake_host_free(struct hp_host *host);
#endif
