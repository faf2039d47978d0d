/* CSV (RFC 4180) and JSON Lines exports: one row/object per hit. The JSON is
 * formatted here rather than with jansson: args are unsigned 64-bit integers
 * (kernel pointers exceed INT64_MAX, jansson's json_int_t), and a million
 * json_t trees would dominate the export time. */
#include <errno.h>

#include "export_int.h"

static int open_main(struct hpi_export *x)
{
	return hpi_out_open(&x->out, x->out_path);
}

static int commit_main(struct hpi_export *x)
{
	return hpi_out_commit(&x->out);
}

static void discard_main(struct hpi_export *x)
{
	hpi_out_discard(&x->out);
}

static int csv_begin(struct hpi_export *x)
{
	int rc = open_main(x);

	if (rc < 0)
		return rc;
	hpi_out_str(&x->out, "seq,time_ns,rel_ns,probe,spec,vcpu,pid,tgid,comm,ip,cr3,flags,"
			     "arg0,arg1,arg2,arg3,arg4,arg5,memaddr,mem,regs\r\n");
	return 0;
}

static int csv_hit(struct hpi_export *x, const struct hp_record *rec, const char *spec, const char *comm)
{
	const struct hp_hit *h = &rec->u.hit;
	struct hpi_out *o = &x->out;

	hpi_out_u64(o, rec->seq);
	hpi_out_char(o, ',');
	hpi_out_u64(o, h->time_ns);
	hpi_out_char(o, ',');
	hpi_out_i64(o, hpi_rel_ns(x, h->time_ns));
	hpi_out_char(o, ',');
	hpi_out_u64(o, h->probe_id);
	hpi_out_char(o, ',');
	hpi_out_csv_str(o, spec, strlen(spec));
	hpi_out_char(o, ',');
	hpi_out_u64(o, h->vcpu);
	hpi_out_char(o, ',');
	hpi_out_i64(o, h->pid);
	hpi_out_char(o, ',');
	hpi_out_i64(o, h->tgid);
	hpi_out_char(o, ',');
	hpi_out_csv_str(o, comm, strlen(comm));
	hpi_out_char(o, ',');
	hpi_out_hex(o, h->ip);
	hpi_out_char(o, ',');
	hpi_out_hex(o, h->cr3);
	hpi_out_char(o, ',');
	hpi_out_u64(o, h->flags);
	for (int i = 0; i < HP_MAX_ARGS; i++) {
		hpi_out_char(o, ',');
		if (i < h->nargs)
			hpi_out_u64(o, h->args[i]);
	}
	hpi_out_char(o, ',');
	if (h->memlen)
		hpi_out_hex(o, h->memaddr);
	hpi_out_char(o, ',');
	hpi_out_hexbytes(o, h->mem, h->memlen);
	hpi_out_char(o, ',');
	if (h->flags & HP_HIT_REGS)
		for (int i = 0; i < HP_NREGS; i++) {
			if (i)
				hpi_out_char(o, ';');
			hpi_out_str(o, hp_reg__name((enum hp_reg)i));
			hpi_out_char(o, '=');
			hpi_out_hex(o, h->regs[i]);
		}
	hpi_out_write(o, "\r\n", 2);
	return o->err;
}

const struct hpi_export_ops hpi_export_csv = {
	.begin = csv_begin,
	.hit = csv_hit,
	.end = commit_main,
	.discard = discard_main,
};

/* The hit object of the protocol's hit batches (docs/protocol.md, "Values"):
 * addresses as "0x..." strings, args as unsigned integers; plus spec, rel_ns, cr3. */
static void json_key(struct hpi_out *o, const char *k)
{
	hpi_out_char(o, ',');
	hpi_out_char(o, '"');
	hpi_out_str(o, k);
	hpi_out_write(o, "\":", 2);
}

static void json_hex(struct hpi_out *o, uint64_t v)
{
	hpi_out_char(o, '"');
	hpi_out_hex(o, v);
	hpi_out_char(o, '"');
}

static int jsonl_hit(struct hpi_export *x, const struct hp_record *rec, const char *spec, const char *comm)
{
	const struct hp_hit *h = &rec->u.hit;
	struct hpi_out *o = &x->out;

	hpi_out_str(o, "{\"seq\":");
	hpi_out_u64(o, rec->seq);
	json_key(o, "probe");
	hpi_out_u64(o, h->probe_id);
	json_key(o, "spec");
	hpi_out_json_str(o, spec, strlen(spec));
	json_key(o, "vcpu");
	hpi_out_u64(o, h->vcpu);
	json_key(o, "time_ns");
	hpi_out_u64(o, h->time_ns);
	json_key(o, "rel_ns");
	hpi_out_i64(o, hpi_rel_ns(x, h->time_ns));
	json_key(o, "pid");
	hpi_out_i64(o, h->pid);
	json_key(o, "tgid");
	hpi_out_i64(o, h->tgid);
	json_key(o, "comm");
	hpi_out_json_str(o, comm, strlen(comm));
	json_key(o, "ip");
	json_hex(o, h->ip);
	json_key(o, "cr3");
	json_hex(o, h->cr3);
	json_key(o, "user");
	hpi_out_str(o, h->flags & HP_HIT_USER ? "true" : "false");
	if (h->flags & HP_HIT_BLOCKED)
		hpi_out_str(o, ",\"blocked\":true");
	json_key(o, "args");
	hpi_out_char(o, '[');
	for (int i = 0; i < h->nargs; i++) {
		if (i)
			hpi_out_char(o, ',');
		hpi_out_u64(o, h->args[i]);
	}
	hpi_out_char(o, ']');
	if (h->flags & HP_HIT_REGS) {
		json_key(o, "regs");
		for (int i = 0; i < HP_NREGS; i++) {
			hpi_out_write(o, i ? ",\"" : "{\"", 2);
			hpi_out_str(o, hp_reg__name((enum hp_reg)i));
			hpi_out_write(o, "\":", 2);
			json_hex(o, h->regs[i]);
		}
		hpi_out_char(o, '}');
	}
	if (h->memlen) {
		json_key(o, "memaddr");
		json_hex(o, h->memaddr);
		json_key(o, "mem");
		hpi_out_char(o, '"');
		hpi_out_hexbytes(o, h->mem, h->memlen);
		hpi_out_char(o, '"');
	}
	hpi_out_write(o, "}\n", 2);
	return o->err;
}

const struct hpi_export_ops hpi_export_jsonl = {
	.begin = open_main,
	.hit = jsonl_hit,
	.end = commit_main,
	.discard = discard_main,
};
