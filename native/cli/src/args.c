/* Command-line parsing from the usage tables (usage.c) with getopt_long. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sshfwd.h"

enum { G_JSON = 1000, G_SOCKET, G_NO_START, G_HELP };

static void usage_tail(const struct cli_cmddoc *d)
{
	char name[64];
	if (d) {
		cli_print_synopsis(stderr, d, "usage: ");
		fprintf(stderr, "(hprobe help %s: its options; exit status 2: a usage error)\n",
			cli_cmd_name(d, name, sizeof name));
	} else {
		fputs("usage: hprobe [--json] [--socket PATH|URL] [--no-start] COMMAND [ARGS...]\n", stderr);
		for (unsigned i = 0; i < cli_ngroups; i++)
			fprintf(stderr, "  %-9s %s\n", cli_groups[i].name, cli_groups[i].summary);
		fputs("(hprobe --help: every command; hprobe help COMMAND: one; exit status 2: a usage error)\n",
		      stderr);
	}
}

void cli_usage_error(const struct cli_cmddoc *d, const char *fmt, ...)
{
	char name[64];
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "hprobe: %s%s", d ? cli_cmd_name(d, name, sizeof name) : "", d ? ": " : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	usage_tail(d);
	exit(CLI_EXIT_USAGE);
}

static void group_usage_error(const struct cli_groupdoc *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
static void group_usage_error(const struct cli_groupdoc *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "hprobe: %s: ", g->name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	cli_print_group_synopses(stderr, g);
	fprintf(stderr, "(hprobe help %s: its options; exit status 2: a usage error)\n", g->name);
	exit(CLI_EXIT_USAGE);
}

void cli_set_socket(struct cli *c, const struct cli_cmddoc *d, const char *v)
{
	if (sshfwd_is_url(v)) {
		struct sshfwd_url u;
		char err[512];
		if (strlen(v) >= sizeof c->target || sshfwd_parse(v, &u, err, sizeof err))
			cli_usage_error(d, "--socket: %s", strlen(v) >= sizeof c->target ? "the URL is too long" : err);
		snprintf(c->target, sizeof c->target, "%s", v);
		c->socket[0] = 0;
		return;
	}
	if (!*v || strlen(v) >= sizeof c->socket)
		cli_usage_error(d, "--socket: a Unix socket path of 1 to %zu bytes, not '%.40s%s'",
				sizeof c->socket - 1, v, strlen(v) > 40 ? "..." : "");
	snprintf(c->socket, sizeof c->socket, "%s", v);
	c->target[0] = 0;
}

/* Which other command has option name, for "misplaced" errors. */
static const struct cli_cmddoc *owner_of(const char *name, size_t n)
{
	for (unsigned i = 0; i < cli_ncmds; i++)
		for (const struct cli_argdoc *o = cli_cmds[i].opts; o->name; o++)
			if (strlen(o->name) == n && !strncmp(o->name, name, n))
				return &cli_cmds[i];
	return NULL;
}

static void unknown_option(const struct cli_cmddoc *d, const char *word)
{
	if (strncmp(word, "--", 2) || !word[2])
		cli_usage_error(d, "unknown option '%s'", word);
	const char *name = word + 2;
	size_t n = strcspn(name, "=");
	for (const struct cli_argdoc *o = d->opts; o->name; o++)
		if (strlen(o->name) == n && !strncmp(o->name, name, n) && !o->meta && name[n] == '=')
			cli_usage_error(d, "--%s takes no value", o->name);
	for (const struct cli_argdoc *o = cli_top_opts; o->name; o++)
		if (strlen(o->name) == n && !strncmp(o->name, name, n))
			cli_usage_error(d, "--%s goes before any command: hprobe --%s", o->name, o->name);
	const struct cli_cmddoc *other = owner_of(name, n);
	char oname[64];
	if (other)
		cli_usage_error(d, "--%.*s is an option of %s, not of this command", (int)n, name,
				cli_cmd_name(other, oname, sizeof oname));
	cli_usage_error(d, "unknown option '%s' (or an ambiguous abbreviation)", word);
}

static int parse_num(const char *s, long long min, long long max, long long *out)
{
	if (!((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9')))
		return -1;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int word_ok(const char *words, const char *v)
{
	size_t n = strlen(v);
	for (const char *w = words; *w;) {
		size_t k = strcspn(w, " ");
		if (k == n && n && !strncmp(w, v, n))
			return 1;
		w += k;
		while (*w == ' ')
			w++;
	}
	return 0;
}

/* "rel, mono or wall" from "rel mono wall". */
static const char *words_text(const char *words, char *buf, size_t cap)
{
	size_t o = 0;
	int count = 0;
	for (const char *w = words; *w; w += strspn(w, " "), count++)
		w += strcspn(w, " ");
	int i = 0;
	buf[0] = 0;
	for (const char *w = words; *w && o < cap; i++) {
		size_t k = strcspn(w, " ");
		o += (size_t)snprintf(buf + o, cap - o, "%s%.*s", !i ? "" : i == count - 1 ? " or " : ", ", (int)k, w);
		w += k;
		w += strspn(w, " ");
	}
	return buf;
}

/* A CLI_LIST option's value: one number or N,N,...; each one kept in a. */
static void list_values(const struct cli_cmddoc *d, const struct cli_argdoc *o, int opt, const char *v,
			struct cli_args *a)
{
	char one[32];
	for (const char *p = v;; p++) {
		size_t n = strcspn(p, ",");
		long long num;
		snprintf(one, sizeof one, "%.*s", (int)(n < sizeof one ? n : sizeof one - 1), p);
		if (n >= sizeof one || parse_num(one, o->min, o->max, &num))
			cli_usage_error(d, "--%s takes numbers from %lld to %lld (N or N,N,...), not '%s'", o->name,
					o->min, o->max, v);
		if (a->nitems == CLI_MAX_ITEMS)
			cli_usage_error(d, "--%s: at most %d values", o->name, CLI_MAX_ITEMS);
		a->item_opt[a->nitems] = opt;
		a->items[a->nitems++] = num;
		p += n;
		if (!*p)
			break;
	}
}

static void check_value(const struct cli_cmddoc *d, const struct cli_argdoc *o, const char *what, const char *v,
			long long *num)
{
	char buf[128];
	if (o->flags & CLI_LIST)
		return; /* list_values */
	if (o->kind == CLI_K_NUM && parse_num(v, o->min, o->max, num))
		cli_usage_error(d, "%s takes a number from %lld to %lld, not '%s'", what, o->min, o->max, v);
	if (o->kind == CLI_K_WORD && !word_ok(o->words, v))
		cli_usage_error(d, "%s takes %s, not '%s'", what, words_text(o->words, buf, sizeof buf), v);
}

void cli_parse(struct cli *c, const struct cli_cmddoc *d, struct cli_args *a)
{
	struct option opts[CLI_MAX_OPTS + 8];
	int n = 0;
	memset(a, 0, sizeof *a);
	a->doc = d;
	for (const struct cli_argdoc *o = d->opts; o->name; o++, n++)
		opts[n] = (struct option){ o->name, o->meta ? required_argument : no_argument, NULL, 256 + n };
	int nopt = n;
	opts[n++] = (struct option){ "json", no_argument, NULL, G_JSON };
	opts[n++] = (struct option){ "socket", required_argument, NULL, G_SOCKET };
	opts[n++] = (struct option){ "no-start", no_argument, NULL, G_NO_START };
	opts[n++] = (struct option){ "help", no_argument, NULL, G_HELP };
	opts[n] = (struct option){ NULL, 0, NULL, 0 };
	int maxpos = 0, rest = 0;
	while (maxpos < CLI_MAX_POS && d->pos[maxpos].name)
		maxpos++;
	if (maxpos && (d->pos[maxpos - 1].flags & CLI_REST))
		rest = 1, maxpos--;

	/* argv[0] for getopt: the words start at index 1 */
	char *argv[c->argc + 2];
	argv[0] = "hprobe";
	memcpy(argv + 1, c->argv, (size_t)c->argc * sizeof *argv);
	argv[c->argc + 1] = NULL;
	int argc = c->argc + 1;
	opterr = 0;
	optind = 0; /* glibc: start over (main parsed its own words already) */
	/* "-": every word in order (positionals come back as 1), whatever POSIXLY_CORRECT says */
	int ch;
	while ((ch = getopt_long(argc, argv, "-:h", opts, NULL)) != -1) {
		if (ch == 1) {
			if (a->npos >= maxpos)
				cli_usage_error(d, "unexpected argument '%s'", optarg);
			a->pos[a->npos++] = optarg;
		} else if (ch >= 256 && ch < 256 + nopt) {
			const struct cli_argdoc *o = &d->opts[ch - 256];
			char what[64];
			snprintf(what, sizeof what, "--%s", o->name);
			a->val[ch - 256] = o->meta ? optarg : "";
			if (o->flags & CLI_LIST)
				list_values(d, o, ch - 256, optarg, a);
			else if (o->meta)
				check_value(d, o, what, optarg, &a->num[ch - 256]);
		} else if (ch == G_JSON) {
			c->json = 1;
		} else if (ch == G_NO_START) {
			c->no_start = 1;
		} else if (ch == G_SOCKET) {
			cli_set_socket(c, d, optarg);
		} else if (ch == G_HELP || ch == 'h') {
			cli_print_cmd_help(stdout, d);
			cli_print_footer(stdout, 0);
			exit(CLI_EXIT_OK);
		} else if (ch == ':') {
			const char *w = argv[optind - 1];
			cli_usage_error(d, "%s needs a value", w);
		} else if (optopt > 0 && optopt < 256) {
			cli_usage_error(d, "unknown option '-%c'", optopt);
		} else if (optopt >= 256 && optopt < 256 + nopt) {
			cli_usage_error(d, "--%s takes no value", d->opts[optopt - 256].name);
		} else if (optopt >= G_JSON && optopt <= G_HELP) {
			cli_usage_error(d, "--%s takes no value", opts[nopt + optopt - G_JSON].name);
		} else {
			unknown_option(d, argv[optind - 1]);
		}
	}
	if (rest && optind < argc && !strcmp(argv[optind - 1], "--")) {
		a->rest = &c->argv[optind - 1];
		a->nrest = argc - optind;
		optind = argc;
	}
	for (; optind < argc; optind++) { /* after "--" */
		if (a->npos >= maxpos)
			cli_usage_error(d, "unexpected argument '%s'", argv[optind]);
		a->pos[a->npos++] = argv[optind];
	}
	for (int i = 0; i < nopt; i++)
		if ((d->opts[i].flags & CLI_REQ) && !a->val[i])
			cli_usage_error(d, "missing --%s %s: %s", d->opts[i].name,
					d->opts[i].meta ? d->opts[i].meta : "", d->opts[i].doc);
	for (int i = 0; i < maxpos; i++) {
		const struct cli_argdoc *p = &d->pos[i];
		if (i >= a->npos) {
			if (!(p->flags & CLI_OPTIONAL))
				cli_usage_error(d, "missing %s: %s", p->name, p->doc);
			continue;
		}
		check_value(d, p, p->name, a->pos[i], &a->posnum[i]);
	}
}

static int opt_index(const struct cli_args *a, const char *name)
{
	for (int i = 0; a->doc->opts[i].name; i++)
		if (!strcmp(a->doc->opts[i].name, name))
			return i;
	fprintf(stderr, "hprobe: internal error: no option --%s in its table\n", name);
	abort();
}

const char *cli_arg(const struct cli_args *a, const char *name)
{
	return a->val[opt_index(a, name)];
}

long long cli_argnum(const struct cli_args *a, const char *name, long long def)
{
	int i = opt_index(a, name);
	return a->val[i] ? a->num[i] : def;
}

int cli_flag(const struct cli_args *a, const char *name)
{
	return a->val[opt_index(a, name)] != NULL;
}

int cli_argnums(const struct cli_args *a, const char *name, long long *out, int max)
{
	int i = opt_index(a, name), n = 0;
	for (int k = 0; k < a->nitems && n < max; k++)
		if (a->item_opt[k] == i)
			out[n++] = a->items[k];
	return n;
}

const struct cli_cmddoc *cli_sub(struct cli *c, const char *group)
{
	const struct cli_groupdoc *g = cli_group(group);
	while (c->argc > 0 && c->argv[0][0] == '-') {
		const char *w = c->argv[0];
		int take = 1;
		if (!strcmp(w, "--help") || !strcmp(w, "-h")) {
			cli_print_group_help(stdout, g);
			exit(CLI_EXIT_OK);
		} else if (!strcmp(w, "--json")) {
			c->json = 1;
		} else if (!strcmp(w, "--no-start")) {
			c->no_start = 1;
		} else if (!strncmp(w, "--socket=", 9)) {
			cli_set_socket(c, NULL, w + 9);
		} else if (!strcmp(w, "--socket")) {
			if (c->argc < 2)
				group_usage_error(g, "--socket needs a value");
			cli_set_socket(c, NULL, c->argv[1]);
			take = 2;
		} else {
			group_usage_error(g, "'%s' before the subcommand: a subcommand's options go after it", w);
		}
		c->argc -= take;
		c->argv += take;
	}
	if (c->argc == 0)
		group_usage_error(g, "missing subcommand");
	const char *sub = c->argv[0];
	const struct cli_cmddoc *d = cli_cmd(group, sub);
	if (!d)
		group_usage_error(g, "unknown subcommand '%s'", sub);
	c->argc--;
	c->argv++;
	return d;
}
