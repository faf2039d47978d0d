/* The ring's records as backend events: see plugin_recs.h. */
#include "backend/plugin_recs.h"

#include <string.h>

#include "base/util.h"

_Static_assert(HP_PREGS == HP_NREGS, "plugin register order is enum hp_reg");
_Static_assert((int)HP_PREG_K_GS_BASE == (int)HP_REG_K_GS_BASE && (int)HP_PREG_CR3 == (int)HP_REG_CR3,
	       "register order");
_Static_assert(HP_COMM_BYTES == HP_COMM_LEN && HP_PMAX_MEM == HP_MAX_MEM && HP_PMAX_ARGS == HP_MAX_ARGS,
	       "record sizes");

static int parse_hit(const uint8_t *rec, uint32_t len, unsigned vcpu, struct hp_bev *ev)
{
	struct hp_prec_hit h;
	if (len < sizeof h)
		return -1;
	memcpy(&h, rec, sizeof h);
	size_t ret = h.flags & HP_PHIT_RET ? sizeof(struct hp_prec_ret) : 0;
	if (h.nargs > HP_PMAX_ARGS || (h.nregs != 0 && h.nregs != HP_PREGS) || h.memlen > HP_PMAX_MEM ||
	    sizeof h + ret + 8u * h.nargs + 8u * h.nregs + h.memlen > len)
		return -1;
	memset(ev, 0, sizeof *ev);
	struct hp_hit *hit = &ev->hit;
	hit->time_ns = h.time_ns;
	hit->probe_id = h.probe_id;
	hit->vcpu = vcpu; /* the ring says which vCPU, not the record */
	hit->pid = h.pid;
	hit->tgid = h.tgid;
	memcpy(hit->comm, h.comm, HP_COMM_LEN);
	hit->ip = h.ip;
	hit->cr3 = h.cr3;
	hit->flags = (h.flags & HP_PHIT_USER ? HP_HIT_USER : 0) | (h.flags & HP_PHIT_TASK ? HP_HIT_TASK : 0) |
		     (h.nregs ? HP_HIT_REGS : 0) | (h.flags & HP_PHIT_MEM ? HP_HIT_MEM : 0);
	if (!(hit->flags & HP_HIT_TASK))
		hit->pid = hit->tgid = -1;
	const uint8_t *p = rec + sizeof h;
	if (ret) {
		struct hp_prec_ret r;
		memcpy(&r, p, sizeof r);
		hit->flags |= HP_HIT_RET;
		hit->retval = r.retval;
		hit->latency_ns = r.latency_ns;
		p += sizeof r;
	}
	hit->nargs = h.nargs;
	memcpy(hit->args, p, 8u * h.nargs);
	p += 8u * h.nargs;
	if (h.nregs) {
		memcpy(hit->regs, p, sizeof hit->regs);
		p += sizeof hit->regs;
	}
	hit->memaddr = h.memaddr;
	hit->memlen = h.memlen;
	memcpy(hit->mem, p, h.memlen);
	ev->type = HP_BEV_HIT;
	ev->vcpu = (int)vcpu;
	ev->addr = h.ip;
	ev->time_ns = h.time_ns;
	ev->probe_id = h.probe_id;
	return 0;
}

static int parse_count(const uint8_t *rec, uint32_t len, unsigned nvcpus, struct hp_bev *ev)
{
	struct hp_prec_count c;
	if (len < sizeof c)
		return -1;
	memcpy(&c, rec, sizeof c);
	if (c.vcpu >= nvcpus)
		return -1;
	memset(ev, 0, sizeof *ev);
	ev->type = HP_BEV_COUNT;
	ev->vcpu = (int)c.vcpu;
	ev->probe_id = c.probe_id;
	ev->time_ns = hp_now_ns();
	ev->count = (struct hp_count){ c.probe_id, c.vcpu, c.count, c.first_ns, c.last_ns };
	return 0;
}

static int parse_retstat(const uint8_t *rec, uint32_t len, struct hp_bev *ev)
{
	struct hp_prec_retstat r;
	if (len < sizeof r)
		return -1;
	memcpy(&r, rec, sizeof r);
	memset(ev, 0, sizeof *ev);
	ev->type = HP_BEV_RETSTAT;
	ev->probe_id = r.probe_id;
	ev->time_ns = hp_now_ns();
	ev->ret_pending = r.pending;
	_Static_assert(sizeof r.dropped == sizeof ev->ret_dropped, "return drop reasons");
	memcpy(ev->ret_dropped, r.dropped, sizeof r.dropped);
	return 0;
}

int hp_plugin_rec__parse(const uint8_t *rec, uint32_t len, unsigned ring, unsigned nrings, struct hp_bev *ev)
{
	struct hp_prec h;
	if (len < sizeof h || nrings < 2 || ring >= nrings)
		return -1;
	memcpy(&h, rec, sizeof h);
	int ctl_ring = ring == nrings - 1;
	if (h.type == HP_PREC_HIT && !ctl_ring)
		return parse_hit(rec, len, ring, ev);
	if (h.type == HP_PREC_COUNT && ctl_ring)
		return parse_count(rec, len, nrings - 1, ev);
	if (h.type == HP_PREC_RETSTAT && ctl_ring)
		return parse_retstat(rec, len, ev);
	return -1;
}
