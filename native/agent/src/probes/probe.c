#include "probes/probe.h"

#include <capstone/capstone.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "base/errors.h"
#include "base/text.h"
#include "guest/kernel.h"
#include "hprobe/plugin_proto.h"
#include "guest/vmi.h"
#include "hprobe/btf.h"
#include "probes/target.h"

const char *hp_probe__state_name(enum hp_probe_state s)
{
	static const char *const n[] = { "armed", "disabled", "pending", "stale" };
	return (unsigned)s < 4 ? n[s] : "?";
}

const char *hp_probe__resume_name(enum hp_resume r)
{
	static const char *const n[] = { "step", "emulate-nop", "emulate-push-rbp", "emulate-mov-rbp-rsp",
					 "emulate-call" };
	return (unsigned)r < 5 ? n[r] : "?";
}

static int reg_by_name(const char *name)
{
	for (int r = 0; r < HP_NREGS; r++)
		if (!strcmp(name, hp_reg__name(r)))
			return r;
	return -1;
}

int hp_probe__check_opts(const struct hp_probe_opts *o, struct hp_err *err)
{
	if (o->nargs < 0 || o->nargs > HP_MAX_ARGS)
		return hp_err__set(err, EINVAL, "args must be 0..%d", HP_MAX_ARGS);
	if (o->pid != -1 && (o->pid < 1 || o->pid > HP_PID_MAX))
		return hp_err__set(err, EINVAL, "pid must be 1..%d", HP_PID_MAX);
	if (!memchr(o->comm, 0, sizeof o->comm) || !memchr(o->mem_text, 0, sizeof o->mem_text) ||
	    !memchr(o->args_names, 0, sizeof o->args_names) || !memchr(o->mem_param, 0, sizeof o->mem_param) ||
	    !memchr(o->cond_text, 0, sizeof o->cond_text) || !memchr(o->agg_text, 0, sizeof o->agg_text))
		return hp_err__set(err, EINVAL,
				   "comm, memory capture, argument names, condition or aggregation not terminated");
	if (o->agg_rows > HP_AGG_ROWS_MAX)
		return hp_err__set(err, EINVAL, "agg_rows must be 1..%d", HP_AGG_ROWS_MAX);
	if (o->kind != HP_PROBE_CAPTURE && o->kind != HP_PROBE_COUNT)
		return hp_err__set(err, EINVAL, "bad probe kind");
	if (o->mem.len) {
		if (o->mem.len > HP_MAX_MEM || (o->mem.src != HP_MEM_ARG && o->mem.src != HP_MEM_REG))
			return hp_err__set(err, EINVAL, "bad memory capture");
		if (o->mem.src == HP_MEM_ARG ? o->mem.index < 1 || o->mem.index > HP_MAX_ARGS
					     : o->mem.index < 0 || o->mem.index >= HP_NREGS)
			return hp_err__set(err, EINVAL, "bad memory capture source");
	}
	return 0;
}

/* The position of p's parameter name, or p->nparams when it has none of that name. */
static int param_index(const struct hp_probe *p, const char *name)
{
	int i = 0;
	while (i < p->nparams && strcmp(p->params[i].name, name))
		i++;
	return i;
}

/* Whether src is a memory capture's argN (one digit). */
static int is_argn(const char *src)
{
	return !strncmp(src, "arg", 3) && isdigit((unsigned char)src[3]) && !src[4];
}

/* o.mem_path from p's parameter i (its C type) into o.mem's offsets. */
static int mem_path(struct hp_probe *p, int i, const struct hp_btf *btf, struct hp_err *err)
{
	struct hp_btf_fetch f;
	struct hp_err e = { { 0 } };
	struct hp_mem_spec *m = &p->o.mem;
	if (!btf)
		return hp_err__set(err, EINVAL, "--mem %s: a member path needs the kernel's BTF (none here)",
				   p->o.mem_text);
	if (hp_btf__fetch_path(btf, p->params[i].type, p->o.mem_path, &f, &e))
		return hp_err__set(err, EINVAL, "--mem %s: %s is %s: %s", p->o.mem_text, p->o.mem_param,
				   p->params[i].type, e.msg + (strncmp(e.msg, "btf: ", 5) ? 0 : 5));
	m->off = f.off;
	m->nderef = f.nloads;
	memcpy(m->deref, f.load_off, sizeof(int32_t) * f.nloads);
	if (m->is_string && f.ptr) /* a char *: the string it points at (an array is read in place) */
		m->deref[m->nderef++] = 0;
	return 0;
}

int hp_probe__args_by_name(struct hp_probe *p, const struct hp_btf *btf, struct hp_err *err)
{
	char list[sizeof p->o.args_names], known[HP_MAX_ARGS * (HP_PARAM_NAME + 2)] = "", *save = NULL;
	int n = 0;
	if (!p->o.args_names[0] && !p->o.mem_param[0])
		return 0;
	if (p->ret)
		return hp_err__set(err, EINVAL, "a return probe captures the return value, not --args or --mem");
	for (int i = 0; i < p->nparams; i++)
		snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", p->params[i].name);
	if (!p->params_from[0])
		return hp_err__set(err, EINVAL,
				   "--args %s%s--mem %s: the parameters of %s are not known here (no BTF, syscall "
				   "metadata or DWARF for it): give argN",
				   p->o.args_names, p->o.mem_param[0] ? " " : "", p->o.mem_param, p->func);
	if (p->o.mem_param[0]) {
		int i = param_index(p, p->o.mem_param);
		if (i == p->nparams)
			return hp_err__set(err, EINVAL, "--mem: %s has no parameter '%s' (its parameters: %s)", p->func,
					   p->o.mem_param, p->nparams ? known : "none");
		p->o.mem.index = i + 1;
		if (p->o.mem_path[0] && mem_path(p, i, btf, err))
			return -EINVAL;
	}
	snprintf(list, sizeof list, "%s", p->o.args_names);
	for (char *name = strtok_r(list, ", ", &save); name; name = strtok_r(NULL, ", ", &save)) {
		int i = param_index(p, name);
		if (i == p->nparams)
			return hp_err__set(err, EINVAL, "--args: %s has no parameter '%s' (its parameters: %s)",
					   p->func, name, p->nparams ? known : "none");
		n = i + 1 > n ? i + 1 : n;
	}
	if (p->o.args_names[0])
		p->o.nargs = n;
	return 0;
}

/* A member path: NAME->PATH[:LEN], the path checked later against the kernel's types. */
static int parse_mem_path(const char *text, const char *arrow, struct hp_probe_opts *o, struct hp_err *err)
{
	size_t n = (size_t)(arrow - text), plen = strcspn(arrow, ":");
	char name[sizeof o->mem_param], as_arg[sizeof o->mem_text];
	if (n >= sizeof name || plen >= sizeof o->mem_path)
		return hp_err__set(err, EINVAL, "bad memory capture '%s': name or member path too long", text);
	memcpy(name, text, n);
	name[n] = 0;
	if (!hp_param__valid_name(name) || reg_by_name(name) >= 0 || is_argn(name))
		return hp_err__set(
			err, EINVAL,
			"bad memory capture '%s': a member path starts at a parameter by name (file->f_pos:8)", text);
	if (!arrow[plen])
		return hp_err__set(err, EINVAL, "bad memory capture '%s': missing :LEN, :sLEN or :str", text);
	snprintf(as_arg, sizeof as_arg, "arg1%s", arrow + plen);
	int rc = hp_probe__parse_mem(as_arg, &o->mem, err);
	if (rc)
		return rc;
	memcpy(o->mem_param, name, n + 1);
	memcpy(o->mem_path, arrow, plen);
	o->mem_path[plen] = 0;
	snprintf(o->mem_text, sizeof o->mem_text, "%s", text);
	return 0;
}

int hp_probe__parse_mem_opts(const char *text, struct hp_probe_opts *o, struct hp_err *err)
{
	size_t n = strcspn(text, "+-:");
	char src[HP_PARAM_NAME], as_arg[sizeof o->mem_text];
	const char *arrow = strstr(text, "->");
	o->mem_param[0] = 0;
	o->mem_path[0] = 0;
	if (strlen(text) >= sizeof o->mem_text)
		return hp_err__set(err, EINVAL, "memory capture too long");
	if (arrow && arrow < text + strcspn(text, ":"))
		return parse_mem_path(text, arrow, o, err);
	if (n < sizeof src) {
		memcpy(src, text, n);
		src[n] = 0;
		/* a parameter's name (not argN, not a register): parsed as arg1, resolved later */
		if (hp_param__valid_name(src) && reg_by_name(src) < 0 && !is_argn(src)) {
			snprintf(as_arg, sizeof as_arg, "arg1%s", text + n);
			int rc = hp_probe__parse_mem(as_arg, &o->mem, err);
			if (rc)
				return rc;
			memcpy(o->mem_param, src, n + 1);
			snprintf(o->mem_text, sizeof o->mem_text, "%s", text);
			return 0;
		}
	}
	int rc = hp_probe__parse_mem(text, &o->mem, err);
	if (!rc)
		snprintf(o->mem_text, sizeof o->mem_text, "%s", text);
	return rc;
}

int hp_probe__parse_mem(const char *text, struct hp_mem_spec *m, struct hp_err *err)
{
	char src[16];
	memset(m, 0, sizeof *m);
	size_t n = strcspn(text, "+-:");
	if (n == 0 || n >= sizeof src)
		return hp_err__set(err, EINVAL, "bad memory capture '%s': expected SRC[+OFF]:LEN", text);
	memcpy(src, text, n);
	src[n] = 0;
	const char *p = text + n;
	if (is_argn(src)) {
		m->src = HP_MEM_ARG;
		m->index = src[3] - '0';
		if (m->index < 1 || m->index > HP_MAX_ARGS)
			return hp_err__set(err, EINVAL, "bad memory capture '%s': arguments are arg1..arg6", text);
	} else if ((m->index = reg_by_name(src)) >= 0) {
		m->src = HP_MEM_REG;
	} else {
		return hp_err__set(err, EINVAL, "bad memory capture '%s': '%s' is not argN or a register", text, src);
	}
	if (*p == '+' || *p == '-') {
		char *end;
		errno = 0;
		m->off = strtoll(p, &end, 0);
		if (errno || end == p + 1)
			return hp_err__set(err, EINVAL, "bad offset in memory capture '%s'", text);
		p = end;
	}
	if (*p++ != ':')
		return hp_err__set(err, EINVAL, "bad memory capture '%s': missing :LEN", text);
	if (!strcmp(p, "str")) { /* a C string, as long as a capture may be */
		m->is_string = 1;
		m->len = HP_MAX_MEM;
		return 0;
	}
	if (*p == 's') {
		m->is_string = 1;
		p++;
	}
	char *end;
	unsigned long len = strtoul(p, &end, 0);
	if (*end || end == p || len == 0 || len > HP_MAX_MEM)
		return hp_err__set(err, EINVAL, "bad length in memory capture '%s': 1..%d bytes", text, HP_MAX_MEM);
	m->len = (uint32_t)len;
	return 0;
}

/* Instructions we can execute on the guest's behalf at a hit, leaving the breakpoint
 * in place: any nop (the fentry pad is a 5-byte nop), endbr64, push %rbp, mov %rsp,%rbp,
 * and a direct call (an enabled fentry pad, or other code at a shared user address). */
enum hp_resume hp_probe__classify(const uint8_t *code, size_t len, uint8_t *insn_len, int32_t *rel)
{
	csh h;
	cs_insn *insn;
	enum hp_resume r = HP_RESUME_STEP;
	*insn_len = 0;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return r;
	if (cs_disasm(h, code, len, 0, 1, &insn) == 1) {
		*insn_len = (uint8_t)insn->size;
		if (insn->id == X86_INS_NOP || insn->id == X86_INS_ENDBR64)
			r = HP_RESUME_NOP;
		else if (insn->size == 1 && code[0] == 0x55)
			r = HP_RESUME_PUSH_RBP;
		else if (insn->size == 3 && code[0] == 0x48 && code[1] == 0x89 && code[2] == 0xe5)
			r = HP_RESUME_MOV_RBP_RSP;
		else if (insn->size == 5 && code[0] == 0xe8) {
			r = HP_RESUME_CALL;
			if (rel)
				memcpy(rel, code + 1, 4);
		}
		cs_free(insn, 1);
	}
	cs_close(&h);
	return r;
}

int hp_probe__on_boundary(const uint8_t *code, size_t len, uint64_t off)
{
	csh h;
	int ok = 0;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return 0;
	const uint8_t *p = code;
	size_t left = len;
	uint64_t addr = 0;
	cs_insn *insn = cs_malloc(h);
	while (addr < off && cs_disasm_iter(h, &p, &left, &addr, insn))
		;
	ok = addr == off;
	cs_free(insn, 1);
	cs_close(&h);
	return ok;
}

int hp_probe__split_return(const char *spec, char *base, size_t cap)
{
	size_t n = strlen(spec), sl = strlen(HP_RETURN_SUFFIX);
	int ret = n > sl && !strcmp(spec + n - sl, HP_RETURN_SUFFIX);
	snprintf(base, cap, "%.*s", (int)(ret ? n - sl : n), spec);
	return ret;
}

#define MAX_FUNC_SCAN 4096

int hp_probe__resolve_kernel(struct hp_probe *p, const char *spec, const struct hp_kernel *k, struct hp_backend *b,
			     enum hp_eclass *ecls, struct hp_err *err)
{
	const char *s = !strncmp(spec, "kernel:", 7) ? spec + 7 : spec;
	*ecls = EC_INVALID_ARGUMENT;
	if (!*s)
		return hp_err__set(err, EINVAL, "empty probe spec");
	if (!k || !k->syms) {
		*ecls = EC_NOT_SUPPORTED;
		return hp_err__set(err, ENOENT, "no kernel symbol table for this VM");
	}
	uint64_t off = 0, addr;
	const struct hp_sym *sym;
	if (!strncmp(s, "0x", 2)) {
		char *end;
		errno = 0;
		addr = strtoull(s, &end, 16);
		if (errno || *end) {
			*ecls = EC_BAD_ADDRESS;
			return hp_err__set(err, EINVAL, "bad address '%s'", s);
		}
		sym = hp_kernel__lookup(k, addr, &off);
	} else {
		char name[128];
		size_t n = strcspn(s, "+");
		if (n >= sizeof name)
			return hp_err__set(err, EINVAL, "symbol name too long");
		memcpy(name, s, n);
		name[n] = 0;
		if (s[n] == '+') {
			char *end;
			errno = 0;
			off = strtoull(s + n + 1, &end, 0);
			if (errno || *end || end == s + n + 1)
				return hp_err__set(err, EINVAL, "bad offset in '%s'", spec);
		}
		sym = hp_symtab__find(k->syms, name);
		if (!sym) {
			const struct hp_sym *sug[5];
			size_t ns = hp_symtab__suggest(k->syms, name, sug, 5);
			char list[512] = "";
			for (size_t i = 0; i < ns; i++)
				snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
					 sug[i]->name);
			*ecls = EC_UNKNOWN_SYMBOL;
			return hp_err__set(err, ENOENT, "unknown kernel symbol '%s'%s%s", name,
					   ns ? "; did you mean: " : "", list);
		}
		if (sym->type != 'T' && sym->type != 't') {
			*ecls = EC_BAD_ADDRESS;
			return hp_err__set(err, EINVAL, "'%s' is not a function (symbol type '%c')", name, sym->type);
		}
		if (sym->size && off >= sym->size) {
			*ecls = EC_BAD_ADDRESS;
			return hp_err__set(err, EINVAL, "offset 0x%llx is past the end of %s (size 0x%llx)",
					   (unsigned long long)off, name, (unsigned long long)sym->size);
		}
		addr = hp_kernel__runtime(k, sym) + off;
	}
	int rc = hp_kernel__check_probe_addr(k, addr, err);
	if (rc) {
		*ecls = rc == -EPERM || rc == -EINVAL ? EC_UNSAFE_ADDRESS : EC_BAD_ADDRESS;
		return rc;
	}
	uint8_t code[MAX_FUNC_SCAN];
	size_t scan = off + 16 < sizeof code ? off + 16 : sizeof code;
	uint64_t start = addr - off;
	if (off >= MAX_FUNC_SCAN - 16)
		return hp_err__set(err, EINVAL, "offset too far into the function to check");
	if ((rc = hp_backend__read_virt(b, start, code, scan, err))) {
		*ecls = EC_GUEST_ERROR;
		return rc;
	}
	if (sym && !hp_probe__on_boundary(code, scan, off)) {
		*ecls = EC_BAD_ADDRESS;
		return hp_err__set(err, EINVAL, "0x%llx (%s+0x%llx) is not on an instruction boundary",
				   (unsigned long long)addr, sym->name, (unsigned long long)off);
	}
	p->addr = addr;
	p->func_off = off;
	hp_text__copy(p->func, sizeof p->func, sym ? sym->name : "?"); /* a guest's symbol name: any bytes */
	p->syscall_wrapper = sym && off == 0 && hp_kernel__is_syscall_wrapper(sym->name);
	p->resume = hp_probe__classify(code + off, scan - off, &p->insn_len, &p->call_rel);
	p->user = 0;
	*ecls = EC_INTERNAL;
	return 0;
}

/* The capture plan the in-QEMU tier runs for p. */
static void plan_of(const struct hp_probe *p, struct hp_capture_plan *c)
{
	memset(c, 0, sizeof *c);
	c->probe_id = p->id;
	c->addr = p->addr;
	c->count_only = p->o.kind == HP_PROBE_COUNT;
	c->cond = p->cond;
	c->nargs = p->o.nargs;
	c->syscall_args = p->syscall_wrapper;
	c->regs = p->o.regs;
	c->mem = p->o.mem;
	c->pid = p->o.pid;
	memcpy(c->comm, p->o.comm, HP_COMM_LEN);
	c->ret = p->ret;
}

int hp_probe__plant_at(struct hp_target *t, struct hp_probe *p, uint64_t addr, const char *exe, struct hp_err *err)
{
	switch (p->plant) {
	case HP_PLANT_INQEMU: {
		if (p->in_mech)
			return hp_backend__arm(p->mech, addr, p->id, err);
		/* the in-QEMU tier captures by itself: it needs the whole plan */
		struct hp_capture_plan c;
		struct hp_plugin_task_offsets o;
		plan_of(p, &c);
		c.addr = addr;
		/* an application's identity check runs in QEMU: its program's name when no
		 * pid or comm narrows it */
		if (exe && c.pid < 0 && !c.comm[0])
			snprintf(c.comm, sizeof c.comm, "%s", exe);
		hp_kernel__task_offsets(t->kernel, &o);
		if (c.ret) { /* the plugin drops the calls of a task that leaves at do_exit */
			c.exit_addr = hp_kernel__addr(t->kernel, "do_exit");
			c.ret_timeout_ns = t->ret_timeout_ns;
		}
		int rc = hp_backend__arm_plan(p->mech, &c, &o, err);
		p->in_mech = rc == 0;
		return rc;
	}
	case HP_PLANT_DEBUG_REG:
		return hp_backend__arm_hw(p->mech, addr, err);
	default:
		return hp_backend__arm(p->mech, addr, p->id, err);
	}
}

int hp_probe__lift_at(struct hp_probe *p, uint64_t addr, struct hp_err *err)
{
	return p->plant == HP_PLANT_DEBUG_REG ? hp_backend__disarm_hw(p->mech, addr, err)
					      : hp_backend__disarm(p->mech, addr, p->id, err);
}

void hp_probe__hit_head(struct hp_hit *hit, const struct hp_probe *p, const struct hp_bev *ev,
			const uint64_t regs[HP_NREGS], const struct hp_task *task)
{
	memset(hit, 0, sizeof *hit);
	hit->time_ns = ev->time_ns;
	hit->probe_id = p->id;
	hit->vcpu = (uint32_t)ev->vcpu;
	hit->ip = ev->addr;
	hit->cr3 = regs[HP_REG_CR3];
	hit->pid = hit->tgid = -1;
	if (p->user)
		hit->flags |= HP_HIT_USER;
	if (task) {
		hit->pid = task->pid;
		hit->tgid = task->tgid;
		memcpy(hit->comm, task->comm, HP_COMM_LEN);
		hit->flags |= HP_HIT_TASK;
	}
}
