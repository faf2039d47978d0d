/* Function disassembly for the editor and the loop detector (capstone). */
#ifndef HP_DISAS_H
#define HP_DISAS_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct hp_insn {
	uint64_t addr;
	uint8_t size;
	uint64_t target; /* branch target, 0 if none or indirect */
	int back_edge;   /* jumps back to an earlier address inside the function */
	int is_call, is_ret;
};

/* Decodes code (the function's bytes, at runtime address addr). Returns the count
 * or -errno; *out is malloc'd. json (optional) receives the protocol's insn array. */
int hp_disas__function(const uint8_t *code, size_t len, uint64_t addr, struct hp_insn **out, json_t **json);
#endif
