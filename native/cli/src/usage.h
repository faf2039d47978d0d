/* The hprobe CLI's commands and options, described once: the option parser, --help,
 * the man page and the bash completion are all made from these tables (usage.c).
 * No dependency on jansson or the agent: the build's doc generator (gendoc.c) links
 * this file alone. */
#ifndef HPCLI_USAGE_H
#define HPCLI_USAGE_H
#include <stdio.h>

/* Exit statuses (documented in every --help, the man page and the user guide). */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_REFUSED = 1, /* the agent refused (an error reply), or a local step failed */
	CLI_EXIT_USAGE = 2,
	CLI_EXIT_UNREACHABLE = 3, /* no agent: none runs and none could be started, or it went away */
	CLI_EXIT_GUEST = 4,       /* the agent's error class GuestError or VmDead */
};

/* What a value is: checked by the parser, and completed by the shell. */
enum cli_kind {
	CLI_K_TEXT = 0,
	CLI_K_NUM,  /* an integer in [min, max] */
	CLI_K_WORD, /* one of words */
	CLI_K_FILE, /* a file of this host ("-": stdin or stdout where the doc says so) */
	CLI_K_DIR,  /* a directory or a file */
	CLI_K_VM,   /* a VM's name (completed through hprobe vm list) */
	CLI_K_CMD,  /* a command's name (hprobe help) */
};

#define CLI_REQ 1u       /* an option that must be given */
#define CLI_OPTIONAL 2u  /* a positional argument that may be left out */
#define CLI_REST 4u      /* the last positional: every word after "--" (none or more) */
#define CLI_LIST 8u      /* a CLI_K_NUM option that repeats or takes N,N,...: every value kept */
#define CLI_MAX_ITEMS 64 /* the values of CLI_LIST options, all together */

/* An option (name without the dashes; meta NULL for a flag) or a positional argument
 * (name is its placeholder, e.g. "N"). */
struct cli_argdoc {
	const char *name;
	const char *meta;
	const char *doc;
	enum cli_kind kind;
	unsigned flags;
	long long min, max;
	const char *words; /* CLI_K_WORD: the choices, space-separated */
};

#define CLI_MAX_OPTS 24
#define CLI_MAX_POS 3

/* One command: group ("vm") and, for groups that have them, its subcommand ("launch"). */
struct cli_cmddoc {
	const char *group, *sub;
	const char *summary;
	const char *detail; /* NULL or paragraphs separated by a blank line */
	struct cli_argdoc pos[CLI_MAX_POS + 1];
	struct cli_argdoc opts[CLI_MAX_OPTS + 1];
};

struct cli_groupdoc {
	const char *name;
	int has_subs;
	const char *summary;
};

extern const struct cli_cmddoc cli_cmds[];
extern const unsigned cli_ncmds;
extern const struct cli_groupdoc cli_groups[];
extern const unsigned cli_ngroups;
/* Options every command takes, and those of "hprobe" alone (--version). */
extern const struct cli_argdoc cli_global_opts[];
extern const struct cli_argdoc cli_top_opts[];
/* The exit statuses, one per line: "N\tmeaning". */
extern const char cli_exit_doc[];
/* Paragraphs of the man page's DESCRIPTION, ENVIRONMENT and FILES. */
extern const char cli_description[];
extern const char *const cli_environment[]; /* name, doc, name, doc, ..., NULL */

const struct cli_groupdoc *cli_group(const char *name);
/* The command of group and sub (sub NULL for a group without subcommands). */
const struct cli_cmddoc *cli_cmd(const char *group, const char *sub);
/* "vm launch" or "hits". */
const char *cli_cmd_name(const struct cli_cmddoc *d, char *buf, size_t cap);

/* "usage: hprobe vm launch --lab [--lab-kernel SUITE] ..." wrapped to 100 columns. */
void cli_print_synopsis(FILE *f, const struct cli_cmddoc *d, const char *prefix);
/* The full help of one command: synopsis, summary, detail, arguments, options. */
void cli_print_cmd_help(FILE *f, const struct cli_cmddoc *d);
/* The help of a group: every subcommand's. */
void cli_print_group_help(FILE *f, const struct cli_groupdoc *g);
/* Synopses of one group's commands (a usage error of the group). */
void cli_print_group_synopses(FILE *f, const struct cli_groupdoc *g);
/* hprobe --help: every command's synopsis, the global options, the exit statuses. */
void cli_print_main_help(FILE *f);
/* The global options (with top: hprobe's own too) and exit statuses, as --help ends. */
void cli_print_footer(FILE *f, int top);
#endif
