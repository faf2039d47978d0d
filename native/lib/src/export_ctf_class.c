/* The CTF export's event classes (export_ctf.h): a class per probe, its typed and
 * named parameters as a struct of fields. Names and types come from the journal's
 * probe descriptions, which come from the guest's BTF: checked again here, as a
 * name TSDL cannot read would make the whole trace unreadable. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "export_ctf.h"
#include "journal_int.h" /* hpi_put* */

/* TSDL's reserved words (CTF 1.8, section 7.3): not field names. */
static int tsdl_keyword(const char *s)
{
	static const char *const kw[] = { "align",  "callsite", "const",     "char",           "clock",    "double",
					  "enum",   "env",      "event",     "floating_point", "float",    "integer",
					  "int",    "long",     "short",     "signed",         "stream",   "string",
					  "struct", "trace",    "typealias", "typedef",        "unsigned", "variant",
					  "void",   "_Bool",    "_Complex",  "_Imaginary" };

	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
		if (!strcmp(s, kw[i]))
			return 1;
	return 0;
}

/* Whether name (or name_tag) would clash with the first n field names of k. */
static int taken(const struct ctf_class *k, int n, const char *name)
{
	size_t l = strlen(name);

	for (int i = 0; i < n; i++) {
		size_t m = strlen(k->names[i]);

		if (!strcmp(k->names[i], name) ||
		    (m == l + 4 && !strncmp(k->names[i], name, l) && !strcmp(k->names[i] + l, "_tag")) ||
		    (l == m + 4 && !strncmp(name, k->names[i], m) && !strcmp(name + m, "_tag")))
			return 1;
	}
	return 0;
}

/* Parameter i's field name: its own, else argN (N from 1), made unique with '_'. */
static void name_field(struct ctf_class *k, int i)
{
	char *nm = k->names[i];
	const char *own = k->params[i].name;
	size_t cap = sizeof(k->names[i]);

	if (strnlen(own, HP_PARAM_NAME) < HP_PARAM_NAME && hp_param__valid_name(own))
		snprintf(nm, cap, "%s%s", own, tsdl_keyword(own) ? "_" : "");
	else
		snprintf(nm, cap, "arg%d", i + 1);
	if (taken(k, i, nm))
		snprintf(nm, cap, "arg%d", i + 1);
	while (taken(k, i, nm) && strlen(nm) + 1 < cap)
		strcat(nm, "_");
}

static uint32_t hash32(uint32_t v)
{
	return (uint32_t)(((uint64_t)v * 0x9e3779b97f4a7c15ull) >> 32);
}

/* The slot of probe_id in the hash (open addressing; never full: kept half empty). */
static size_t slot_of(const struct ctf_classes *t, uint32_t probe_id)
{
	size_t i = hash32(probe_id) & (t->nslots - 1);

	while (t->slot[i] && t->key[i] != probe_id)
		i = (i + 1) & (t->nslots - 1);
	return i;
}

static int same(const struct ctf_class *k, const char *spec, const struct hp_param *params, int n)
{
	if (k->nparams != n || strcmp(k->spec, spec))
		return 0;
	for (int i = 0; i < n; i++)
		if (k->params[i].cls != params[i].cls || k->params[i].size != params[i].size ||
		    strncmp(k->params[i].name, params[i].name, HP_PARAM_NAME))
			return 0;
	return 1;
}

static int grow(struct ctf_classes *t)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		struct ctf_class *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	if (2 * (t->n + 1) > t->nslots) {
		size_t ns = t->nslots ? 2 * t->nslots : 64;
		uint32_t *slot = calloc(ns, sizeof(*slot)), *key = calloc(ns, sizeof(*key));
		struct ctf_classes nt = { .slot = slot, .key = key, .nslots = ns };

		if (!slot || !key) {
			free(slot);
			free(key);
			return -ENOMEM;
		}
		for (size_t i = 0; i < t->nslots; i++)
			if (t->slot[i]) {
				size_t j = slot_of(&nt, t->key[i]);

				slot[j] = t->slot[i];
				key[j] = t->key[i];
			}
		free(t->slot);
		free(t->key);
		t->slot = slot;
		t->key = key;
		t->nslots = ns;
	}
	return 0;
}

const struct ctf_class *hpi_ctf_class(struct ctf_classes *t, uint32_t probe_id, const char *spec,
				      const struct hp_param *params, int nparams, int *err)
{
	int n = params && nparams > 0 ? (nparams < HP_MAX_ARGS ? nparams : HP_MAX_ARGS) : 0;
	size_t s = t->nslots ? slot_of(t, probe_id) : 0;
	struct ctf_class *k;

	if (t->nslots && t->slot[s] && same(&t->v[t->slot[s] - 1], spec, params, n))
		return &t->v[t->slot[s] - 1];
	if (t->n == CTF_MAX_CLASSES)
		return NULL;
	if ((*err = grow(t)) < 0)
		return NULL;
	k = &t->v[t->n];
	memset(k, 0, sizeof(*k));
	if (!(k->spec = strdup(spec))) {
		*err = -ENOMEM;
		return NULL;
	}
	k->probe_id = probe_id;
	k->id = (uint16_t)(CTF_EV_FIRST + t->n);
	k->nparams = n;
	if (n)
		memcpy(k->params, params, (size_t)n * sizeof(*params));
	for (int i = 0; i < n; i++)
		name_field(k, i);
	s = slot_of(t, probe_id);
	t->slot[s] = (uint32_t)++t->n;
	t->key[s] = probe_id;
	return k;
}

void hpi_ctf_classes_free(struct ctf_classes *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].spec);
	free(t->v);
	free(t->slot);
	free(t->key);
	memset(t, 0, sizeof(*t));
}

/* A parameter's value in a hit: 0 absent, 1 present, 2 (a char pointer whose string
 * was not captured) the pointer; str: the captured string, escaped. */
static int param_state(const struct ctf_class *k, const struct hp_hit *h, int i, char *str)
{
	struct hp_param_mem m = { h->memaddr, h->mem, h->flags & HP_HIT_MEM ? h->memlen : 0 };

	if (i >= h->nargs)
		return 0;
	if (k->params[i].cls != HP_PARAM_STR)
		return 1;
	return hp_param__str(&m, h->args[i], str, HP_PARAM_STR_MAX) >= 0 ? 1 : 2;
}

size_t hpi_ctf_params_encode(const struct ctf_class *k, const struct hp_hit *h, uint8_t out[HPI_CTF_PARAMS_MAX])
{
	char str[HP_PARAM_STR_MAX];
	uint8_t *p = out;

	for (int i = 0; i < k->nparams && i < HP_MAX_ARGS; i++) {
		int st = param_state(k, h, i, str);

		*p++ = (uint8_t)st;
		if (st == 1 && k->params[i].cls == HP_PARAM_STR) {
			size_t l = strlen(str);

			memcpy(p, str, l + 1);
			p += l + 1;
		} else if (st) {
			hpi_put64(p, hp_param__value(&k->params[i], h->args[i]));
			p += 8;
		}
	}
	return (size_t)(p - out);
}

void hpi_ctf_params_tsdl(struct hpi_out *o, const struct ctf_class *k)
{
	static const char *const types[HP_PARAM_NCLASS] = {
		[HP_PARAM_RAW] = "uint64x_t", [HP_PARAM_INT] = "int64_t", [HP_PARAM_UINT] = "uint64_t",
		[HP_PARAM_PTR] = "uint64x_t", [HP_PARAM_STR] = "string",
	};

	if (!k->nparams)
		return;
	hpi_out_str(o, "\t\tstruct {\n");
	for (int i = 0; i < k->nparams; i++) {
		const char *nm = k->names[i];
		int str = k->params[i].cls == HP_PARAM_STR;

		hpi_out_str(o, str ? "\t\t\tenum : uint8_t { absent = 0, present = 1, pointer = 2 } "
				   : "\t\t\tenum : uint8_t { absent = 0, present = 1 } ");
		hpi_out_str(o, nm);
		hpi_out_str(o, "_tag;\n\t\t\tvariant <");
		hpi_out_str(o, nm);
		hpi_out_str(o, "_tag> { struct { } absent; ");
		hpi_out_str(o, (unsigned)k->params[i].cls < HP_PARAM_NCLASS ? types[k->params[i].cls] : "uint64x_t");
		hpi_out_str(o, str ? " present; uint64x_t pointer; } " : " present; } ");
		hpi_out_str(o, nm);
		hpi_out_str(o, ";\n");
	}
	hpi_out_str(o, "\t\t} params;\n");
}
