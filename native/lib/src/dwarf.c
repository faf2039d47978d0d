/* DWARF through libdw: a function's DIE found by name among the compile units'
 * top-level subprograms, its formal parameters, and each type as C writes it. A type
 * chain (typedefs, qualifiers, pointers) is followed at most TYPE_DEPTH_MAX steps: a
 * crafted binary can make it a cycle. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hprobe/dwarf.h"

#define TYPE_DEPTH_MAX 16

/* The DIE a DW_AT_type names (through abstract origins); 0 when there is none (void). */
static int type_of(Dwarf_Die *d, Dwarf_Die *out)
{
	Dwarf_Attribute a;

	return dwarf_attr_integrate(d, DW_AT_type, &a) && dwarf_formref_die(&a, out) ? 1 : 0;
}

/* out = a b c, cut to cap: a long type name is cut, never overrun. */
static void join3(char *out, size_t cap, const char *a, const char *b, const char *c)
{
	const char *parts[] = { a, b, c };
	size_t n = 0;

	for (size_t i = 0; i < 3; i++)
		for (const char *p = parts[i]; *p && n + 1 < cap; p++)
			out[n++] = *p;
	if (cap)
		out[n] = '\0';
}

/* Whether a type's text is a pointer's ("char *"): an empty one is not (a nameless type
 * in a crafted binary gives one). */
static int ends_in_star(const char *s)
{
	size_t n = strlen(s);

	return n && s[n - 1] == '*';
}

/* The type DIE t as a declaration writes it: "const char *", "long unsigned int",
 * "struct point *", "size_t". */
static void type_text(Dwarf_Die *t, char *out, size_t cap, int depth)
{
	const char *name = dwarf_diename(t);
	char inner_text[HP_PARAM_TYPE] = "void";
	Dwarf_Die inner;
	int tag = dwarf_tag(t), has_inner;

	if (depth > TYPE_DEPTH_MAX) {
		snprintf(out, cap, "?");
		return;
	}
	has_inner = type_of(t, &inner);
	if (has_inner && (tag == DW_TAG_pointer_type || tag == DW_TAG_const_type || tag == DW_TAG_volatile_type))
		type_text(&inner, inner_text, sizeof inner_text, depth + 1);
	switch (tag) {
	case DW_TAG_base_type:
	case DW_TAG_typedef:
		snprintf(out, cap, "%s", name && *name ? name : "?");
		break;
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
	case DW_TAG_enumeration_type:
		join3(out, cap,
		      tag == DW_TAG_structure_type ? "struct "
		      : tag == DW_TAG_union_type   ? "union "
						   : "enum ",
		      name && *name ? name : "(anonymous)", "");
		break;
	case DW_TAG_pointer_type: /* char * and char ** alike: the stars go together */
		join3(out, cap, inner_text, ends_in_star(inner_text) ? "" : " ", "*");
		break;
	case DW_TAG_const_type:
	case DW_TAG_volatile_type: { /* a qualified pointer is "char * const" */
		const char *q = tag == DW_TAG_const_type ? "const" : "volatile";
		if (ends_in_star(inner_text))
			join3(out, cap, inner_text, " ", q);
		else
			join3(out, cap, q, " ", inner_text);
		break;
	}
	case DW_TAG_subroutine_type:
		snprintf(out, cap, "function");
		break;
	default:
		snprintf(out, cap, "?");
	}
}

/* t through typedefs and qualifiers (bounded); 0 when it ends in void or too deep. */
static int strip(Dwarf_Die *t, Dwarf_Die *out)
{
	*out = *t;
	for (int depth = 0; depth <= TYPE_DEPTH_MAX; depth++) {
		int tag = dwarf_tag(out);

		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type)
			return 1;
		if (!type_of(out, out))
			return 0;
	}
	return 0;
}

/* How a register holding a value of type t reads, as hp_param's classes say. */
static void classify(Dwarf_Die *t, struct hp_param *p)
{
	Dwarf_Die base, pointee;
	Dwarf_Word size = 8, enc = 0;
	Dwarf_Attribute a;
	int tag;

	p->cls = HP_PARAM_RAW;
	p->size = 8;
	if (!strip(t, &base))
		return;
	tag = dwarf_tag(&base);
	if (dwarf_attr(&base, DW_AT_byte_size, &a))
		dwarf_formudata(&a, &size);
	if (tag == DW_TAG_pointer_type) {
		p->cls = HP_PARAM_PTR;
		if (type_of(&base, &pointee) && strip(&pointee, &pointee) && dwarf_tag(&pointee) == DW_TAG_base_type &&
		    dwarf_attr(&pointee, DW_AT_encoding, &a) && !dwarf_formudata(&a, &enc) &&
		    (enc == DW_ATE_signed_char || enc == DW_ATE_unsigned_char))
			p->cls = HP_PARAM_STR;
		return;
	}
	if (size < 1 || size > 8)
		return;
	if (tag == DW_TAG_enumeration_type) {
		p->cls = HP_PARAM_UINT;
	} else if (tag == DW_TAG_base_type && dwarf_attr(&base, DW_AT_encoding, &a) && !dwarf_formudata(&a, &enc)) {
		if (enc == DW_ATE_signed || enc == DW_ATE_signed_char)
			p->cls = HP_PARAM_INT;
		else if (enc == DW_ATE_unsigned || enc == DW_ATE_unsigned_char || enc == DW_ATE_boolean)
			p->cls = HP_PARAM_UINT;
		else
			return; /* a float is not in an integer register */
	} else {
		return;
	}
	p->size = (uint32_t)size;
}

/* A parameter (or "return") of type t, or void when has_type is 0. */
static void param_of(Dwarf_Die *t, int has_type, struct hp_param *p)
{
	if (!has_type) {
		snprintf(p->type, sizeof p->type, "void");
		p->cls = HP_PARAM_RAW;
		p->size = 8;
		return;
	}
	type_text(t, p->type, sizeof p->type, 0);
	classify(t, p);
}

/* The definition of func among the compile units' top-level DIEs. */
static int find_func(Dwarf *dw, const char *func, Dwarf_Die *out)
{
	Dwarf_Off off = 0, next;
	size_t hsize;

	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, d;

		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &d) == 0) {
			do {
				const char *n;

				if (dwarf_tag(&d) != DW_TAG_subprogram || dwarf_hasattr(&d, DW_AT_declaration))
					continue;
				n = dwarf_diename(&d);
				if (n && !strcmp(n, func)) {
					*out = d;
					return 0;
				}
			} while (dwarf_siblingof(&d, &d) == 0);
		}
		off = next;
	}
	return -ENOENT;
}

/* Opens fd's DWARF and finds func: 0 with *dw to end, or -errno. */
static int open_func(int fd, const char *func, Dwarf **dw, Dwarf_Die *fn, struct hp_err *err)
{
	if (!func || !*func)
		return hp_err__set(err, EINVAL, "dwarf: no function name");
	*dw = dwarf_begin(fd, DWARF_C_READ);
	if (!*dw)
		return hp_err__set(err, ENOENT, "dwarf: no debugging information (%s)", dwarf_errmsg(-1));
	if (find_func(*dw, func, fn)) {
		dwarf_end(*dw);
		return hp_err__set(err, ENOENT, "dwarf: no function %s", func);
	}
	return 0;
}

int hp_dwarf__func_proto(int fd, const char *func, struct hp_param *params, int max, struct hp_err *err)
{
	Dwarf *dw;
	Dwarf_Die fn, d;
	int n = 0, rc;

	if (max > 0 && !params)
		return hp_err__set(err, EINVAL, "dwarf: nowhere to put parameters");
	if ((rc = open_func(fd, func, &dw, &fn, err)))
		return rc;
	if (dwarf_child(&fn, &d) == 0) {
		do {
			int tag = dwarf_tag(&d);
			const char *pn;
			Dwarf_Die t;

			if (tag == DW_TAG_unspecified_parameters)
				break; /* "...": not a parameter */
			if (tag != DW_TAG_formal_parameter)
				continue;
			if (n < max) {
				pn = dwarf_diename(&d);
				memset(&params[n], 0, sizeof params[n]);
				if (pn && *pn && !hp_param__valid_name(pn)) {
					dwarf_end(dw);
					return hp_err__set(err, EBADMSG, "dwarf: parameter %d of %s has no valid name",
							   n + 1, func);
				}
				if (pn && *pn)
					snprintf(params[n].name, sizeof params[n].name, "%s", pn);
				else
					snprintf(params[n].name, sizeof params[n].name, "arg%d", n + 1);
				param_of(&t, type_of(&d, &t), &params[n]);
			}
			n++;
		} while (dwarf_siblingof(&d, &d) == 0);
	}
	dwarf_end(dw);
	return n;
}

int hp_dwarf__func_ret(int fd, const char *func, struct hp_param *ret, struct hp_err *err)
{
	Dwarf *dw;
	Dwarf_Die fn, t;
	int rc = open_func(fd, func, &dw, &fn, err);

	if (rc)
		return rc;
	memset(ret, 0, sizeof *ret);
	snprintf(ret->name, sizeof ret->name, "return");
	param_of(&t, type_of(&fn, &t), ret);
	dwarf_end(dw);
	return 0;
}
