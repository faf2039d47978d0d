/* Prints the layout of the structs the workbench reads through JNA (LibHprobe.java
 * keeps them as constants), one NAME=VALUE per line, for check_jna_layout.py. */
#include <stddef.h>
#include <stdio.h>

#include "hprobe/export.h"
#include "hprobe/hit.h"
#include "hprobe/journal.h"

#define P(name, v) printf("%s=%zu\n", name, (size_t)(v))

int main(void)
{
	P("REC_SIZE", sizeof(struct hp_record));
	P("REC_SEQ", offsetof(struct hp_record, seq));
	P("REC_TYPE", offsetof(struct hp_record, type));
	P("REC_TIME", offsetof(struct hp_record, time_ns));
	P("REC_U", offsetof(struct hp_record, u));
	P("REC_JSON", offsetof(struct hp_record, json));
	P("REC_JSON_LEN", offsetof(struct hp_record, json_len));
	P("HIT_SIZE", sizeof(struct hp_hit));
	P("HIT_TIME", offsetof(struct hp_hit, time_ns));
	P("HIT_PROBE", offsetof(struct hp_hit, probe_id));
	P("HIT_VCPU", offsetof(struct hp_hit, vcpu));
	P("HIT_PID", offsetof(struct hp_hit, pid));
	P("HIT_TGID", offsetof(struct hp_hit, tgid));
	P("HIT_COMM", offsetof(struct hp_hit, comm));
	P("HIT_IP", offsetof(struct hp_hit, ip));
	P("HIT_FLAGS", offsetof(struct hp_hit, flags));
	P("HIT_NARGS", offsetof(struct hp_hit, nargs));
	P("HIT_ARGS", offsetof(struct hp_hit, args));
	P("HIT_MEMLEN", offsetof(struct hp_hit, memlen));
	P("HIT_RETVAL", offsetof(struct hp_hit, retval));
	P("HIT_LATENCY", offsetof(struct hp_hit, latency_ns));
	P("COUNT_PROBE", offsetof(struct hp_count, probe_id));
	P("COUNT_COUNT", offsetof(struct hp_count, count));
	P("META_SIZE", sizeof(struct hp_journal_meta));
	P("META_SESSION", offsetof(struct hp_journal_meta, session));
	P("META_VM", offsetof(struct hp_journal_meta, vm_name));
	P("META_KERNEL", offsetof(struct hp_journal_meta, kernel));
	P("META_CREATED", offsetof(struct hp_journal_meta, created_ns));
	P("META_MONO_BASE", offsetof(struct hp_journal_meta, mono_base_ns));
	P("HF_SIZE", sizeof(struct hp_hit_field));
	P("HF_NAME", offsetof(struct hp_hit_field, name));
	P("HF_TYPE", offsetof(struct hp_hit_field, type));
	P("HF_IN", offsetof(struct hp_hit_field, in));
	P("HF_OPTIONAL", offsetof(struct hp_hit_field, optional));
	P("HF_TITLE", offsetof(struct hp_hit_field, title));
	P("HF_DOC", offsetof(struct hp_hit_field, doc));
	P("HF_IN_STREAM", HP_HF_IN_STREAM);
	P("HF_IN_EXPORT", HP_HF_IN_EXPORT);
	P("FILTER_SIZE", sizeof(struct hp_export_filter));
	P("ERR_SIZE", sizeof(struct hp_err));
	P("REC_HIT", HP_REC_HIT);
	P("REC_PROBE", HP_REC_PROBE);
	P("REC_EVENT", HP_REC_EVENT);
	P("REC_ALERT", HP_REC_ALERT);
	P("REC_DROPPED", HP_REC_DROPPED);
	P("REC_COUNT", HP_REC_COUNT);
	P("HIT_USER", HP_HIT_USER);
	P("HIT_TASK", HP_HIT_TASK);
	P("HIT_BLOCKED", HP_HIT_BLOCKED);
	P("HIT_RET", HP_HIT_RET);
	return 0;
}
