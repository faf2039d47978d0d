#include "guest/disas.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int is_branch(const cs_insn *in)
{
	const cs_detail *d = in->detail;
	for (int i = 0; i < d->groups_count; i++)
		if (d->groups[i] == CS_GRP_JUMP || d->groups[i] == CS_GRP_CALL)
			return 1;
	return 0;
}

static uint64_t imm_target(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;
	return x->op_count == 1 && x->operands[0].type == X86_OP_IMM ? (uint64_t)x->operands[0].imm : 0;
}

static int in_group(const cs_insn *in, uint8_t g)
{
	for (int i = 0; i < in->detail->groups_count; i++)
		if (in->detail->groups[i] == g)
			return 1;
	return 0;
}

int hp_disas__function(const uint8_t *code, size_t len, uint64_t addr, struct hp_insn **out, json_t **json)
{
	csh h;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return -ENOSYS;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	size_t cap = 64, n = 0;
	struct hp_insn *v = malloc(cap * sizeof *v);
	json_t *arr = json ? json_array() : NULL;
	cs_insn *in = cs_malloc(h);
	const uint8_t *p = code;
	size_t left = len;
	uint64_t pc = addr;
	while (v && cs_disasm_iter(h, &p, &left, &pc, in)) {
		if (n == cap) {
			struct hp_insn *nv = realloc(v, (cap *= 2) * sizeof *v);
			if (!nv)
				break;
			v = nv;
		}
		struct hp_insn *x = &v[n++];
		x->addr = in->address;
		x->size = (uint8_t)in->size;
		x->target = is_branch(in) ? imm_target(in) : 0;
		x->is_call = in_group(in, CS_GRP_CALL);
		x->is_ret = in_group(in, CS_GRP_RET);
		/* a jump to an earlier instruction of this same function closes a loop */
		x->back_edge = !x->is_call && x->target && x->target >= addr && x->target <= in->address;
		if (arr) {
			char bytes[2 * 16 + 1], text[192], a[24];
			for (int i = 0; i < in->size && i < 16; i++)
				snprintf(bytes + 2 * i, 3, "%02x", in->bytes[i]);
			snprintf(text, sizeof text, "%s%s%s", in->mnemonic, in->op_str[0] ? " " : "", in->op_str);
			snprintf(a, sizeof a, "0x%llx", (unsigned long long)in->address);
			json_t *o = json_pack("{s:s, s:s, s:s}", "addr", a, "bytes", bytes, "text", text);
			if (x->target) {
				snprintf(a, sizeof a, "0x%llx", (unsigned long long)x->target);
				json_object_set_new(o, "target", json_string(a));
			}
			if (x->back_edge)
				json_object_set_new(o, "back_edge", json_true());
			json_array_append_new(arr, o);
		}
	}
	cs_free(in, 1);
	cs_close(&h);
	if (!v) {
		json_decref(arr);
		return -ENOMEM;
	}
	*out = v;
	if (json)
		*json = arr;
	return (int)n;
}
