/* Internal to the CTF export: its event classes. Each probe's hits are an event class
 * of their own, named by the probe's spec, with the hit's fields and, when the
 * journal describes the probe's parameters, a struct "params" of typed, named fields
 * (fd = 3, buf = "sysloop", count = 7). A probe described again differently (a
 * reboot into another kernel) gets another class. */
#ifndef HPROBE_EXPORT_CTF_H
#define HPROBE_EXPORT_CTF_H
#include "export_int.h"

#define CTF_EV_HIT 0 /* the hits of probes past CTF_MAX_CLASSES, untyped */
#define CTF_EV_ALERT 1
#define CTF_EV_DROPPED 2
#define CTF_EV_FIRST 3
#define CTF_MAX_CLASSES 4096 /* bounds the metadata whatever the journal says */

struct ctf_class {
	uint32_t probe_id;
	uint16_t id; /* the event id */
	int nparams; /* typed fields (0: none) */
	struct hp_param params[HP_MAX_ARGS];
	char names[HP_MAX_ARGS][HP_PARAM_NAME + 8]; /* their field names, unique and not TSDL keywords */
	char *spec;
};

struct ctf_classes {
	struct ctf_class *v;
	size_t n, cap;
	uint32_t *slot; /* by probe id: 1 + the index of its latest class; 0 empty */
	uint32_t *key;
	size_t nslots;
};

/* The class of a hit of probe_id, found or made; NULL when CTF_MAX_CLASSES are made (the
 * hit goes to the generic class) or memory ran out (*err = -ENOMEM). */
const struct ctf_class *hpi_ctf_class(struct ctf_classes *t, uint32_t probe_id, const char *spec,
				      const struct hp_param *params, int nparams, int *err);
void hpi_ctf_classes_free(struct ctf_classes *t);
/* The most bytes a params struct takes: each parameter's tag and a captured string. */
#define HPI_CTF_PARAMS_MAX (HP_MAX_ARGS * (1 + HP_PARAM_STR_MAX))
/* Writes the params struct of a hit of class k into out; returns its length. Each
 * string is read from the hit's capture once. */
size_t hpi_ctf_params_encode(const struct ctf_class *k, const struct hp_hit *h, uint8_t out[HPI_CTF_PARAMS_MAX]);
/* The params struct's TSDL (nothing for a class without parameters). */
void hpi_ctf_params_tsdl(struct hpi_out *o, const struct ctf_class *k);
/* Writes the trace's metadata file (export_ctf_meta.c); uuid: the trace's. */
int hpi_ctf_metadata(const struct hpi_export *x, const char *path, const uint8_t uuid[16],
		     const struct ctf_classes *classes);

#endif
