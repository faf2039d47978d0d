/* hprobe agg show: a probe's aggregation table (agg-read), as text or JSON. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define BAR 40

/* 4096 -> "4K", as bpftrace labels its buckets; other numbers as they are. */
static void size_label(char *out, size_t cap, json_t *v)
{
	static const char *const unit[] = { "", "K", "M", "G", "T", "P", "E" };
	if (json_is_real(v)) { /* beyond int64: the top bucket */
		snprintf(out, cap, "%.0f", json_real_value(v));
		return;
	}
	long long n = json_integer_value(v);
	int u = 0;
	while (n && n % 1024 == 0 && u < 6) {
		n /= 1024;
		u++;
	}
	snprintf(out, cap, "%lld%s", n, unit[u]);
}

static void print_hist(json_t *hist)
{
	long long most = 1;
	size_t i;
	json_t *b;
	json_array_foreach(hist, i, b) if (json_integer_value(json_object_get(b, "count")) > most) most =
		json_integer_value(json_object_get(b, "count"));
	json_array_foreach(hist, i, b)
	{
		json_t *from = json_object_get(b, "from"), *to = json_object_get(b, "to");
		char label[64], lo[24], hi[24];
		long long n = json_integer_value(json_object_get(b, "count"));
		if (json_integer_value(to) < 0)
			snprintf(label, sizeof label, "(..., 0)");
		else if (json_equal(from, to))
			snprintf(label, sizeof label, "[%lld]", json_integer_value(from));
		else {
			size_label(lo, sizeof lo, from);
			/* [from, to + 1): the next power of two */
			json_t *next = json_is_integer(to) && json_integer_value(to) < INT64_MAX
					       ? json_integer(json_integer_value(to) + 1)
					       : json_real(18446744073709551616.0);
			size_label(hi, sizeof hi, next);
			json_decref(next);
			snprintf(label, sizeof label, "[%s, %s)", lo, hi);
		}
		int w = (int)(n * BAR / most);
		printf("  %-18s %10lld |%.*s%*s|\n", label, n, w, "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@", BAR - w,
		       "");
	}
}

static void print_value(json_t *v)
{
	if (json_is_string(v))
		printf(" %-16s", json_string_value(v));
	else if (json_is_real(v))
		printf(" %16.2f", json_real_value(v));
	else
		printf(" %16lld", json_integer_value(v));
}

void agg_print_table(json_t *r)
{
	const char *fn = json_string_value(json_object_get(r, "fn"));
	json_t *by = json_object_get(r, "by"), *row, *k;
	size_t i, j;
	printf("probe %lld: %s: %lld hits, %lld keys\n", json_integer_value(json_object_get(r, "probe")),
	       json_string_value(json_object_get(r, "agg")), json_integer_value(json_object_get(r, "hits")),
	       json_integer_value(json_object_get(r, "keys")));
	int hist = !strcmp(fn, "hist"), value = strcmp(fn, "count") && !hist;
	if (!hist) {
		json_array_foreach(by, j, k) printf(" %-16s", json_string_value(k));
		printf(" %16s", "COUNT");
		if (value)
			printf(" %16s", fn);
		printf("\n");
	}
	json_array_foreach(json_object_get(r, "rows"), i, row)
	{
		json_t *key = json_object_get(row, "key");
		if (hist) {
			json_array_foreach(key, j, k)
			{
				printf("%s%s=", j ? " " : "", json_string_value(json_array_get(by, j)));
				if (json_is_string(k))
					printf("%s", json_string_value(k));
				else
					printf("%lld", json_integer_value(k));
			}
			printf("%s(%lld hits)\n", json_array_size(key) ? " " : "",
			       json_integer_value(json_object_get(row, "count")));
			print_hist(json_object_get(row, "hist"));
			continue;
		}
		json_array_foreach(key, j, k) print_value(k);
		print_value(json_object_get(row, "count"));
		if (value)
			print_value(json_object_get(row, !strcmp(fn, "avg") ? "avg" : fn));
		printf("\n");
	}
	if (json_integer_value(json_object_get(r, "left_off")))
		printf("(%lld more rows: --limit)\n", json_integer_value(json_object_get(r, "left_off")));
	if (json_integer_value(json_object_get(r, "other_hits")))
		printf("(%lld hits of keys past the table's %lld: probe add --agg-rows)\n",
		       json_integer_value(json_object_get(r, "other_hits")),
		       json_integer_value(json_object_get(r, "max_keys")));
}

int cmd_agg(struct cli *c)
{
	const struct cli_cmddoc *d = cli_sub(c, "agg");
	struct cli_args a;
	cli_parse(c, d, &a);
	long long watch = cli_argnum(&a, "watch", 0);
	for (;;) {
		json_t *args = json_pack("{s:s, s:I}", "vm", a.pos[0], "probe", (json_int_t)a.posnum[1]);
		if (cli_arg(&a, "limit"))
			json_object_set_new(args, "limit", json_integer(cli_argnum(&a, "limit", 0)));
		if (cli_flag(&a, "clear"))
			json_object_set_new(args, "clear", json_true());
		json_t *r = cli_call(c, "agg-read", args);
		if (c->json)
			cli_print_json(r);
		else
			agg_print_table(r);
		json_decref(r);
		if (!watch)
			return 0;
		fflush(stdout);
		sleep((unsigned)watch);
		if (!c->json)
			printf("\n");
	}
}
