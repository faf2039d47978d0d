/* hprobe: the scripting client of hprobed (docs/protocol.md, docs/user-guide.md). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
	"usage: hprobe [--json] [--socket PATH] COMMAND ...\n"
	"  vm launch --lab [--lab-kernel SUITE] [--name N] [--smp K] [--mem MB] [--no-kaslr] [--no-plugin]\n"
	"            [--http-port P]\n"
	"  vm attach --qmp PATH [--name N] [--symbols FILE] [--vmlinux FILE]\n"
	"            [--console-log FILE --console-sock PATH]\n"
	"  vm list | vm detach N | vm quit N | vm pause N | vm resume N | vm ps N | vm stats N\n"
	"  vm console N [--follow] [--input TEXT]\n"
	"  sym search N PATTERN [--binary FILE] [--limit K]\n"
	"  sym disas N SPEC\n"
	"  probe add N SPEC [--args K] [--mem SRC[+OFF]:LEN] [--regs] [--pid P | --comm C]\n"
	"            [--kind capture|count] [--disabled]\n"
	"  probe enable|disable|remove N ID | probe list N\n"
	"  hits N [--probe ID] [--follow] [--limit K] [--from SEQ]\n"
	"  detector add N KIND --config FILE | detector list N | detector remove|enable|disable N ID\n"
	"  alerts N [--follow]\n"
	"  export JOURNAL --format csv|jsonl|chrome|ctf --out PATH [--probe ID] [--pid P]\n"
	"  agent start | agent stop | agent info\n"
	"  fields [--markdown stream|export]   the hit's fields (JSON members, CSV columns)\n"
	"SPEC: kernel:FUNC[+OFF] | 0xADDR | app:BINARY:FUNC[+OFF]\n";

void cli_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("hprobe: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
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

struct conn *cli_conn(struct cli *c)
{
	if (!c->conn) {
		char err[512];
		c->conn = conn_open(c->socket, 1, err, sizeof err);
		if (!c->conn)
			cli_die("%s", err);
	}
	return c->conn;
}

json_t *cli_call(struct cli *c, const char *cmd, json_t *args)
{
	json_t *r = conn_cmd(cli_conn(c), cmd, args);
	json_decref(args);
	if (!r)
		cli_die("the agent closed the connection during %s", cmd);
	json_t *e = json_object_get(r, "error");
	if (e) {
		fprintf(stderr, "hprobe: %s: %s\n", json_string_value(json_object_get(e, "class")),
			json_string_value(json_object_get(e, "desc")));
		json_decref(r);
		exit(1);
	}
	json_t *ret = json_incref(json_object_get(r, "return"));
	json_decref(r);
	return ret;
}

const char *cli_opt(struct cli *c, const char *name)
{
	for (int i = 0; i < c->argc; i++)
		if (!strcmp(c->argv[i], name)) {
			if (i + 1 >= c->argc)
				cli_die("%s needs a value", name);
			const char *v = c->argv[i + 1];
			memmove(c->argv + i, c->argv + i + 2, (size_t)(c->argc - i - 2) * sizeof *c->argv);
			c->argc -= 2;
			return v;
		}
	return NULL;
}

int cli_flag(struct cli *c, const char *name)
{
	for (int i = 0; i < c->argc; i++)
		if (!strcmp(c->argv[i], name)) {
			memmove(c->argv + i, c->argv + i + 1, (size_t)(c->argc - i - 1) * sizeof *c->argv);
			c->argc--;
			return 1;
		}
	return 0;
}

const char *cli_pos(struct cli *c, int i, const char *what)
{
	if (i >= c->argc) {
		fprintf(stderr, "hprobe: missing %s\n%s", what, usage);
		exit(2);
	}
	if (c->argv[i][0] == '-' && c->argv[i][1] == '-')
		cli_die("unknown option %s", c->argv[i]);
	return c->argv[i];
}

void cli_print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	puts(s ? s : "null");
	free(s);
}

int main(int argc, char **argv)
{
	struct cli c = { 0 };
	c.argc = argc - 1;
	c.argv = argv + 1;
	c.json = cli_flag(&c, "--json");
	const char *sock = cli_opt(&c, "--socket");
	if (sock)
		snprintf(c.socket, sizeof c.socket, "%s", sock);
	else
		default_socket(c.socket, sizeof c.socket);
	if (cli_flag(&c, "--help") || cli_flag(&c, "-h") || c.argc == 0) {
		fputs(usage, c.argc ? stdout : stderr);
		return c.argc ? 0 : 2;
	}
	const char *cmd = c.argv[0];
	c.argc--;
	c.argv++;
	static const struct {
		const char *name;
		int (*fn)(struct cli *);
	} cmds[] = {
		{ "vm", cmd_vm },         { "sym", cmd_sym },           { "probe", cmd_probe },
		{ "hits", cmd_hits },     { "detector", cmd_detector }, { "alerts", cmd_alerts },
		{ "export", cmd_export }, { "agent", cmd_agent },       { "fields", cmd_fields },
	};
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (!strcmp(cmd, cmds[i].name)) {
			int rc = cmds[i].fn(&c);
			conn_close(c.conn);
			return rc;
		}
	fprintf(stderr, "hprobe: unknown command '%s'\n%s", cmd, usage);
	return 2;
}
