/* CSV (RFC 4180) and JSON Lines exports: one row/object per hit, its fields from
 * the one table (hprobe/hit.h, hit.c). */
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
	char head[1024];

	if (rc < 0)
		return rc;
	hpi_out_write(&x->out, head, hp_hit__csv_header(head, sizeof(head)));
	return 0;
}

static int csv_hit(struct hpi_export *x, const struct hp_record *rec, const char *spec, const char *comm)
{
	(void)comm;
	hpi_out_write(&x->out, x->text, hpi_hit_text(x, rec, spec, -1));
	return x->out.err;
}

const struct hpi_export_ops hpi_export_csv = {
	.begin = csv_begin,
	.hit = csv_hit,
	.end = commit_main,
	.discard = discard_main,
};

/* One JSON object per line: the hit's fields as the table says (hprobe/hit.h). */
static int jsonl_hit(struct hpi_export *x, const struct hp_record *rec, const char *spec, const char *comm)
{
	(void)comm;
	hpi_out_write(&x->out, x->text, hpi_hit_text(x, rec, spec, 0));
	hpi_out_char(&x->out, '\n');
	return x->out.err;
}

const struct hpi_export_ops hpi_export_jsonl = {
	.begin = open_main,
	.hit = jsonl_hit,
	.end = commit_main,
	.discard = discard_main,
};
