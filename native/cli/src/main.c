/* hprobe: the scripting client of hprobed (docs/protocol.md, docs/user-guide.md).
 * Its commands and options are described once, in usage.c. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "jsonx.h"
#include "sshfwd.h"
#include "hprobe/common.h"

void cli_fail(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fflush(stdout);
	fputs("hprobe: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(status);
}

void cli_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fflush(stdout);
	fputs("hprobe: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(CLI_EXIT_REFUSED);
}

/* Same rule as hprobed and the workbench (docs/protocol.md). */
static void default_socket(char *buf, size_t cap)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	if (xdg && xdg[0] == '/')
		snprintf(buf, cap, "%.80s/hprobe/hprobed.sock", xdg);
	else if ((stat("/run/hprobe", &st) == 0 && access("/run/hprobe", W_OK) == 0) ||
		 (stat("/run/hprobe", &st) != 0 && access("/run", W_OK) == 0))
		snprintf(buf, cap, "/run/hprobe/hprobed.sock");
	else
		snprintf(buf, cap, "/tmp/hprobe-%u/hprobed.sock", (unsigned)getuid());
}

const char *cli_socket(struct cli *c)
{
	char err[1024];
	if (c->socket[0])
		return c->socket;
	if (!c->target[0])
		default_socket(c->socket, sizeof c->socket);
	else if (sshfwd_open(c->target, c->socket, sizeof c->socket, err, sizeof err))
		cli_fail(CLI_EXIT_UNREACHABLE, "%s", err);
	return c->socket;
}

/* How the user named the agent: its socket, or the ssh:// URL. */
static const char *cli_target(struct cli *c)
{
	return c->target[0] ? c->target : cli_socket(c);
}

struct conn *cli_conn(struct cli *c)
{
	if (!c->conn) {
		char err[512];
		/* a remote agent is never started from here: its host's own service manager does it */
		c->conn = conn_open(cli_socket(c), !c->no_start && !c->target[0], err, sizeof err);
		if (!c->conn)
			cli_fail(CLI_EXIT_UNREACHABLE, "%s", err);
	}
	return c->conn;
}

void cli_agent_error(json_t *e)
{
	const char *cls = json_string_value(json_object_get(e, "class"));
	const char *desc = json_string_value(json_object_get(e, "desc"));
	fflush(stdout);
	fprintf(stderr, "hprobe: %s: %s\n", cls ? cls : "Error", desc ? desc : "(no message)");
	exit(cls && (!strcmp(cls, "GuestError") || !strcmp(cls, "VmDead")) ? CLI_EXIT_GUEST : CLI_EXIT_REFUSED);
}

json_t *cli_call_raw(struct cli *c, const char *cmd, json_t *args)
{
	json_t *r = conn_cmd(cli_conn(c), cmd, args);
	json_decref(args);
	if (!r)
		cli_fail(CLI_EXIT_UNREACHABLE, "the agent closed the connection during %s", cmd);
	json_t *e = json_object_get(r, "error");
	if (e)
		cli_agent_error(e);
	return r;
}

json_t *cli_call(struct cli *c, const char *cmd, json_t *args)
{
	json_t *r = cli_call_raw(c, cmd, args);
	json_t *ret = json_incref(json_object_get(r, "return"));
	json_decref(r);
	return ret;
}

void cli_print_json(json_t *j)
{
	char *s = jx_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	puts(s ? s : "null");
	free(s);
}

void cli_print_json_new(json_t *j)
{
	cli_print_json(j);
	json_decref(j);
}

/* hprobe --version: ours, and the agent's when one answers (none is started); an agent
 * that cannot be reached, even over ssh, is no error here: the version is still ours. */
static int version(struct cli *c)
{
	char err[512] = "";
	struct conn *k = NULL;
	if (!c->target[0] || c->socket[0] || !sshfwd_open(c->target, c->socket, sizeof c->socket, err, sizeof err))
		k = conn_open(cli_socket(c), 0, err, sizeof err);
	const json_t *g = k ? conn_greeting(k) : NULL;
	if (c->json) {
		json_t *agent = g ? json_pack("{s:O?, s:O?, s:s}", "version", json_object_get(g, "version"), "protocol",
					      json_object_get(g, "protocol"), "socket", cli_target(c))
				  : json_null();
		cli_print_json_new(
			json_pack("{s:s, s:i, s:o}", "version", hp_version(), "protocol", 1, "agent", agent));
	} else {
		printf("hprobe %s (protocol 1)\n", hp_version());
		if (g)
			printf("hprobed %s (protocol %lld) at %s\n", json_string_value(json_object_get(g, "version")),
			       json_integer_value(json_object_get(g, "protocol")), cli_target(c));
		else
			printf("no agent answers at %s%s%s\n", cli_target(c), err[0] ? ": " : "", err);
	}
	conn_close(k);
	return CLI_EXIT_OK;
}

/* hprobe help [COMMAND [SUB]] */
static int help(struct cli *c)
{
	struct cli_args a;
	const struct cli_cmddoc *hd = cli_cmd("help", NULL);
	cli_parse(c, hd, &a);
	if (!a.npos) {
		cli_print_main_help(stdout);
		return CLI_EXIT_OK;
	}
	const struct cli_groupdoc *g = cli_group(a.pos[0]);
	if (!g)
		cli_usage_error(hd, "no command '%s' (hprobe --help lists them)", a.pos[0]);
	if (a.npos == 1 || !g->has_subs) {
		if (a.npos > 1)
			cli_usage_error(hd, "%s has no subcommands", g->name);
		cli_print_group_help(stdout, g);
		return CLI_EXIT_OK;
	}
	const struct cli_cmddoc *d = cli_cmd(g->name, a.pos[1]);
	if (!d)
		cli_usage_error(hd, "no command '%s %s' (hprobe help %s lists them)", g->name, a.pos[1], g->name);
	cli_print_cmd_help(stdout, d);
	cli_print_footer(stdout, 0);
	return CLI_EXIT_OK;
}

/* An option of a command given before it: "hprobe --follow hits lab". */
static void misplaced(int argc, char **argv, const char *word)
{
	for (int i = optind; i < argc; i++) {
		const struct cli_groupdoc *g = argv[i][0] != '-' ? cli_group(argv[i]) : NULL;
		if (!g)
			continue;
		const struct cli_cmddoc *d = cli_cmd(g->name, g->has_subs && i + 1 < argc ? argv[i + 1] : NULL);
		if (!d)
			d = cli_cmd(g->name, NULL);
		if (d)
			cli_usage_error(d, "'%s' before the command: a command's options go after it", word);
		break;
	}
	cli_usage_error(NULL, "unknown option '%s'", word);
}

int main(int argc, char **argv)
{
	struct cli c = { 0 };
	enum { O_JSON = 1000, O_SOCKET, O_NO_START, O_HELP, O_VERSION };
	static const struct option opts[] = {
		{ "json", no_argument, NULL, O_JSON },         { "socket", required_argument, NULL, O_SOCKET },
		{ "no-start", no_argument, NULL, O_NO_START }, { "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, O_VERSION },   { NULL, 0, NULL, 0 },
	};
	int want_version = 0, ch;
	opterr = 0;
	/* "+": the global options stop at the command; the command parses the rest */
	while ((ch = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (ch) {
		case O_JSON:
			c.json = 1;
			break;
		case O_SOCKET:
			cli_set_socket(&c, NULL, optarg);
			break;
		case O_NO_START:
			c.no_start = 1;
			break;
		case O_HELP:
		case 'h':
			cli_print_main_help(stdout);
			return CLI_EXIT_OK;
		case O_VERSION:
			want_version = 1;
			break;
		case ':':
			cli_usage_error(NULL, "%s needs a value", argv[optind - 1]);
		default:
			if (optopt > 0 && optopt < 256)
				cli_usage_error(NULL, "unknown option '-%c'", optopt);
			if (optopt >= O_JSON)
				cli_usage_error(NULL, "--%s takes no value", opts[optopt - O_JSON].name);
			misplaced(argc, argv, argv[optind - 1]);
		}
	}
	if (want_version) {
		if (optind < argc)
			cli_usage_error(NULL, "--version takes no command");
		return version(&c);
	}
	if (optind >= argc)
		cli_usage_error(NULL, "missing command");
	const char *cmd = argv[optind];
	c.argc = argc - optind - 1;
	c.argv = argv + optind + 1;
	static const struct {
		const char *name;
		int (*fn)(struct cli *);
	} cmds[] = {
		{ "vm", cmd_vm },         { "sym", cmd_sym },           { "probe", cmd_probe },
		{ "hits", cmd_hits },     { "detector", cmd_detector }, { "alerts", cmd_alerts },
		{ "agg", cmd_agg },       { "export", cmd_export },     { "agent", cmd_agent },
		{ "fields", cmd_fields }, { "run", cmd_run },           { "help", help },
	};
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (!strcmp(cmd, cmds[i].name)) {
			int rc = cmds[i].fn(&c);
			if (fflush(stdout) || ferror(stdout))
				cli_fail(CLI_EXIT_REFUSED, "writing the output: %s", strerror(errno));
			conn_close(c.conn);
			return rc;
		}
	cli_usage_error(NULL, "unknown command '%s'", cmd);
}
