/* Parameters of probed functions: classes, C type spellings, formatting. */
#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "hprobe/export.h"
#include "hprobe/param.h"

static const char *const class_names[HP_PARAM_NCLASS] = { "raw", "int", "uint", "ptr", "str" };

const char *hp_param__class_name(enum hp_param_class c)
{
	return (unsigned)c < HP_PARAM_NCLASS ? class_names[c] : NULL;
}

int hp_param__class_of(const char *name)
{
	for (int i = 0; name && i < HP_PARAM_NCLASS; i++)
		if (!strcmp(name, class_names[i]))
			return i;
	return -1;
}

int hp_param__valid_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (!n || n >= HP_PARAM_NAME || isdigit((unsigned char)name[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return 0;
	return 1;
}

/* The C base types by their spellings in kernel sources (syscall metadata). */
static const struct {
	const char *name;
	enum hp_param_class cls;
	uint32_t size;
} base_types[] = {
	{ "char", HP_PARAM_INT, 1 },
	{ "signed char", HP_PARAM_INT, 1 },
	{ "unsigned char", HP_PARAM_UINT, 1 },
	{ "short", HP_PARAM_INT, 2 },
	{ "short int", HP_PARAM_INT, 2 },
	{ "unsigned short", HP_PARAM_UINT, 2 },
	{ "short unsigned int", HP_PARAM_UINT, 2 },
	{ "int", HP_PARAM_INT, 4 },
	{ "signed int", HP_PARAM_INT, 4 },
	{ "signed", HP_PARAM_INT, 4 },
	{ "unsigned", HP_PARAM_UINT, 4 },
	{ "unsigned int", HP_PARAM_UINT, 4 },
	{ "long", HP_PARAM_INT, 8 },
	{ "long int", HP_PARAM_INT, 8 },
	{ "signed long", HP_PARAM_INT, 8 },
	{ "unsigned long", HP_PARAM_UINT, 8 },
	{ "long unsigned int", HP_PARAM_UINT, 8 },
	{ "unsigned long int", HP_PARAM_UINT, 8 },
	{ "long long", HP_PARAM_INT, 8 },
	{ "long long int", HP_PARAM_INT, 8 },
	{ "unsigned long long", HP_PARAM_UINT, 8 },
	{ "long long unsigned int", HP_PARAM_UINT, 8 },
	{ "bool", HP_PARAM_UINT, 1 },
	{ "_Bool", HP_PARAM_UINT, 1 },
};

/* u8..u64, s8..s64 and their __ forms. */
static int kernel_int(const char *t, struct hp_param *p)
{
	unsigned bits;
	char sign, end;

	t += strncmp(t, "__", 2) ? 0 : 2;
	if (sscanf(t, "%c%u%c", &sign, &bits, &end) != 2 || (sign != 'u' && sign != 's') ||
	    (bits != 8 && bits != 16 && bits != 32 && bits != 64))
		return 0;
	p->cls = sign == 'u' ? HP_PARAM_UINT : HP_PARAM_INT;
	p->size = bits / 8;
	return 1;
}

/* Copies ctype into out without annotations and with single spaces. */
static void normalize(const char *ctype, char *out, size_t cap)
{
	static const char *const drop[] = { "__user", "__force", "__iomem", "volatile", "restrict", "__restrict" };
	size_t o = 0;

	out[0] = '\0';
	while (*ctype && o + 1 < cap) {
		size_t n = 0, k;

		while (*ctype == ' ' || *ctype == '\t')
			ctype++;
		if (*ctype == '*') {
			n = 1;
		} else {
			while (ctype[n] && ctype[n] != ' ' && ctype[n] != '\t' && ctype[n] != '*')
				n++;
		}
		for (k = 0; n && k < sizeof drop / sizeof drop[0]; k++)
			if (strlen(drop[k]) == n && !strncmp(ctype, drop[k], n))
				break;
		if (n && k == sizeof drop / sizeof drop[0] && o + n + 2 < cap) {
			if (o && !(ctype[0] == '*' && out[o - 1] == '*'))
				out[o++] = ' ';
			memcpy(out + o, ctype, n);
			o += n;
			out[o] = '\0';
		}
		ctype += n;
	}
}

void hp_param__from_ctype(struct hp_param *p, const char *ctype)
{
	char base[HP_PARAM_TYPE];
	const char *b;
	const char *star;

	normalize(ctype ? ctype : "", p->type, sizeof p->type);
	p->cls = HP_PARAM_RAW;
	p->size = 8;
	star = strchr(p->type, '*');
	b = strncmp(p->type, "const ", 6) ? p->type : p->type + 6;
	snprintf(base, sizeof base, "%.*s", (int)(star ? (size_t)(star - b) : strlen(b)), b);
	if (strlen(base) && base[strlen(base) - 1] == ' ')
		base[strlen(base) - 1] = '\0';
	if (star) { /* char * (one level) is a string; anything else a pointer */
		p->cls = !strcmp(base, "char") && !strchr(star + 1, '*') ? HP_PARAM_STR : HP_PARAM_PTR;
		return;
	}
	for (size_t i = 0; i < sizeof base_types / sizeof base_types[0]; i++)
		if (!strcmp(base, base_types[i].name)) {
			p->cls = base_types[i].cls;
			p->size = base_types[i].size;
			return;
		}
	kernel_int(base, p);
}

uint64_t hp_param__value(const struct hp_param *p, uint64_t raw)
{
	uint32_t size = p && p->size && p->size < 8 ? p->size : 8;
	uint64_t v = size < 8 ? raw & (((uint64_t)1 << (size * 8)) - 1) : raw;

	if (p && p->cls == HP_PARAM_INT)
		return size < 8 && v >> (size * 8 - 1) ? v | ~(((uint64_t)1 << (size * 8)) - 1) : v;
	return p && p->cls == HP_PARAM_UINT ? v : raw;
}

const char *hp_param__errno_name(const struct hp_param *ret, int is_errno, uint64_t raw)
{
	int64_t v = (int64_t)hp_param__value(ret, raw);

	/* the kernel's -errno range (MAX_ERRNO) */
	if (!ret || !is_errno || ret->cls != HP_PARAM_INT || v >= 0 || v < -4095)
		return NULL;
	return strerrorname_np((int)-v);
}

size_t hp_param__format(const struct hp_param *p, uint64_t raw, char *buf, size_t cap)
{
	uint64_t v = hp_param__value(p, raw);
	int n;

	if (!cap)
		return 0;
	if (p && p->cls == HP_PARAM_INT) {
		n = snprintf(buf, cap, "%" PRId64, (int64_t)v);
	} else if (p && p->cls == HP_PARAM_UINT) {
		n = snprintf(buf, cap, "%" PRIu64, v);
	} else {
		n = snprintf(buf, cap, "0x%" PRIx64, raw);
	}
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

int hp_param__str(const struct hp_param_mem *mem, uint64_t val, char *buf, size_t cap)
{
	size_t len;
	const void *nul;

	if (!mem || !mem->bytes || !mem->len || mem->addr != val)
		return -1;
	len = mem->len < 256 ? mem->len : 256;
	nul = memchr(mem->bytes, 0, len);
	return (int)hp_export__escape(mem->bytes, nul ? (size_t)((const uint8_t *)nul - mem->bytes) : len, buf, cap);
}

size_t hp_param__format_args(const struct hp_param *params, int nparams, const uint64_t *vals, int nvals,
			     const struct hp_param_mem *mem, char *buf, size_t cap)
{
	return hp_param__format_args_named(params, nparams, vals, nvals, mem, NULL, buf, cap);
}

size_t hp_param__format_args_named(const struct hp_param *params, int nparams, const uint64_t *vals, int nvals,
				   const struct hp_param_mem *mem, const struct hp_param_namer *namer, char *buf,
				   size_t cap)
{
	size_t o = 0;

	if (!cap)
		return 0;
	buf[0] = '\0';
	for (int i = 0; i < nvals && o + 1 < cap; i++) {
		char val[4 * 256 + 3];
		int n;

		if (i < nparams && params[i].cls == HP_PARAM_STR &&
		    hp_param__str(mem, vals[i], val + 1, sizeof val - 2) >= 0) {
			val[0] = '"';
			strcat(val, "\"");
			n = snprintf(buf + o, cap - o, "%s%s=%s", i ? " " : "", params[i].name, val);
		} else if (i < nparams) {
			char sym[128];
			hp_param__format(&params[i], vals[i], val, sizeof val);
			if (namer && params[i].cls == HP_PARAM_PTR &&
			    namer->name(namer->ud, vals[i], sym, sizeof sym) > 0)
				n = snprintf(buf + o, cap - o, "%s%s=%s<%s>", i ? " " : "", params[i].name, val, sym);
			else
				n = snprintf(buf + o, cap - o, "%s%s=%s", i ? " " : "", params[i].name, val);
		} else {
			n = snprintf(buf + o, cap - o, "%sarg%d=0x%" PRIx64, i ? " " : "", i + 1, vals[i]);
		}
		if (n < 0)
			break;
		o = (size_t)n < cap - o ? o + (size_t)n : cap - 1;
	}
	return o;
}

/* A parameter's class and size from its description; 0 if it is not one. */
static int described(const json_t *v, struct hp_param *p)
{
	int cls = hp_param__class_of(json_string_value(json_object_get(v, "class")));
	double size = json_number_value(json_object_get(v, "size")); /* read as real by some callers */
	const char *type = json_string_value(json_object_get(v, "type"));

	if (cls < 0 || !(size >= 1 && size <= 8) || size != (double)(int)size)
		return 0;
	memset(p, 0, sizeof(*p));
	p->cls = (enum hp_param_class)cls;
	p->size = (uint32_t)size;
	snprintf(p->type, sizeof(p->type), "%s", type ? type : "");
	return 1;
}

int hp_param__list_of(const struct json_t *probe, struct hp_param *out, int max)
{
	const json_t *a = json_object_get(probe, "params");
	size_t i;
	json_t *v;

	if (!json_is_array(a) || json_array_size(a) > (size_t)max)
		return -1;
	json_array_foreach(a, i, v)
	{
		const char *name = json_string_value(json_object_get(v, "name"));

		if (!hp_param__valid_name(name) || !described(v, &out[i]))
			return -1;
		memcpy(out[i].name, name, strlen(name) + 1); /* valid: it fits */
	}
	return (int)json_array_size(a);
}

int hp_param__list_of_text(const char *json, size_t len, struct hp_param *out, int max)
{
	json_t *o = json ? json_loadb(json, len, 0, NULL) : NULL;
	int n = hp_param__list_of(o, out, max);

	json_decref(o);
	return n;
}

int hp_param__ret_of_text(const char *json, size_t len, struct hp_param *ret, int *is_errno)
{
	json_t *o = json ? json_loadb(json, len, 0, NULL) : NULL;
	int rc = hp_param__ret_of(o, ret, is_errno);

	json_decref(o);
	return rc;
}

int hp_param__ret_of(const struct json_t *probe, struct hp_param *ret, int *is_errno)
{
	const json_t *r = json_object_get(probe, "ret_type");

	if (!json_is_object(r) || !described(r, ret))
		return -1;
	snprintf(ret->name, sizeof(ret->name), "return");
	*is_errno = json_is_true(json_object_get(r, "errno"));
	return 0;
}
