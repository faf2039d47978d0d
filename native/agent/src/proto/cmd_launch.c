/* vm-launch's arguments for a user's own guest: a kernel and/or a disk image, the
 * network, extra QEMU arguments (docs/protocol.md). Checked here, on the main thread,
 * so a bad one is refused before anything starts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/commands.h"
#include "vm/vm.h"

/* QEMU options the agent sets itself for an own guest: a second one would take the
 * socket the agent talks to, or hide QEMU from it. */
static const char *const owned_opts[] = { "-qmp",    "-qmp-pretty", "-monitor", "-mon",  "-gdb",       "-s",
					  "-serial", "-daemonize",  "-S",       "-name", "-nodefaults" };

static int str_arg(json_t *args, const char *k, char *dst, size_t cap, char *msg, size_t mcap)
{
	const char *v = json_string_value(json_object_get(args, k));
	if (!v)
		return 0;
	if (!v[0] || strlen(v) >= cap) {
		snprintf(msg, mcap, "\"%s\" must be 1..%zu bytes", k, cap - 1);
		return -1;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int pick(const char *v, const char *const *names, int n, const char *k, char *msg, size_t mcap)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(v, names[i]))
			return i;
	snprintf(msg, mcap, "\"%s\" must be one of %s, %s%s%s", k, names[0], names[1], n > 2 ? ", " : "",
		 n > 2 ? names[2] : "");
	return -1;
}

/* "[tcp:|udp:]HOSTPORT:GUESTPORT" as QEMU's hostfwd, bound to the host's loopback. */
static int forward(const char *v, char *dst, size_t cap)
{
	char proto[4] = "tcp";
	if (!strncmp(v, "tcp:", 4) || !strncmp(v, "udp:", 4)) {
		memcpy(proto, v, 3);
		v += 4;
	}
	char *end;
	long host = strtol(v, &end, 10);
	if (end == v || *end != ':' || host < 1 || host > 65535)
		return -1;
	const char *g = end + 1;
	long guest = strtol(g, &end, 10);
	if (end == g || *end || guest < 1 || guest > 65535)
		return -1;
	return snprintf(dst, cap, "%s:127.0.0.1:%ld-:%ld", proto, host, guest) >= (int)cap ? -1 : 0;
}

int hp_cmd__own_guest_args(json_t *args, struct hp_own_guest *g, char *msg, size_t mcap)
{
	memset(g, 0, sizeof *g);
	if (str_arg(args, "kernel", g->kernel, sizeof g->kernel, msg, mcap) ||
	    str_arg(args, "initrd", g->initrd, sizeof g->initrd, msg, mcap) ||
	    str_arg(args, "append", g->append, sizeof g->append, msg, mcap) ||
	    str_arg(args, "disk", g->disk, sizeof g->disk, msg, mcap) ||
	    str_arg(args, "nic", g->nic, sizeof g->nic, msg, mcap))
		return -1;
	if (!g->kernel[0] && (g->initrd[0] || g->append[0])) {
		snprintf(msg, mcap, "\"initrd\" and \"append\" go with \"kernel\"");
		return -1;
	}
	if (g->nic[0] && strspn(g->nic, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(g->nic)) {
		snprintf(msg, mcap, "\"nic\" is a QEMU device name, e.g. virtio-net-pci or e1000");
		return -1;
	}
	static const char *const formats[] = { "qcow2", "raw" },
				 *const modes[] = { "snapshot", "readonly", "writable" },
				 *const nets[] = { "none", "user", "restricted" };
	const char *v = json_string_value(json_object_get(args, "disk_format"));
	int i;
	if (v && (i = pick(v, formats, 2, "disk_format", msg, mcap)) < 0)
		return -1;
	if (v)
		memcpy(g->disk_format, formats[i], strlen(formats[i]) + 1);
	v = json_string_value(json_object_get(args, "disk_mode"));
	if (v && (i = pick(v, modes, 3, "disk_mode", msg, mcap)) < 0)
		return -1;
	g->disk_mode = v ? (enum hp_disk_mode)i : HP_DISK_SNAPSHOT;
	if ((json_object_get(args, "disk_format") || json_object_get(args, "disk_mode")) && !g->disk[0]) {
		snprintf(msg, mcap, "\"disk_format\" and \"disk_mode\" go with \"disk\"");
		return -1;
	}
	json_t *fw = json_object_get(args, "forward"), *e;
	v = json_string_value(json_object_get(args, "net"));
	if (v && (g->net = pick(v, nets, 3, "net", msg, mcap)) < 0)
		return -1;
	if (json_array_size(fw) > HP_OWN_MAX_FWD || (fw && !json_is_array(fw))) {
		snprintf(msg, mcap, "\"forward\" is a list of at most %d \"[tcp:|udp:]HOSTPORT:GUESTPORT\"",
			 HP_OWN_MAX_FWD);
		return -1;
	}
	size_t k;
	json_array_foreach(fw, k, e)
	{
		if (!json_is_string(e) || forward(json_string_value(e), g->fwd[k], sizeof g->fwd[k])) {
			snprintf(msg, mcap, "bad forward %s: expected [tcp:|udp:]HOSTPORT:GUESTPORT, ports 1..65535",
				 json_is_string(e) ? json_string_value(e) : "(not a string)");
			return -1;
		}
		g->nfwd++;
	}
	if (g->nfwd && !g->net) {
		snprintf(msg, mcap, "\"forward\" needs a network: \"net\": \"user\" or \"restricted\"");
		return -1;
	}
	json_t *extra = json_object_get(args, "qemu_args");
	if (extra && !json_is_array(extra)) {
		snprintf(msg, mcap, "\"qemu_args\" is a list of strings");
		return -1;
	}
	json_array_foreach(extra, k, e)
	{
		const char *s = json_string_value(e);
		size_t len = s ? strlen(s) + 1 : 0;
		if (!s || g->extra_len + len > sizeof g->extra) {
			snprintf(msg, mcap, "\"qemu_args\": strings, %zu bytes at most in all", sizeof g->extra);
			return -1;
		}
		for (size_t o = 0; o < sizeof owned_opts / sizeof owned_opts[0]; o++)
			if (!strcmp(s, owned_opts[o]) ||
			    (s[0] == '-' && s[1] == '-' && !strcmp(s + 1, owned_opts[o]))) {
				snprintf(msg, mcap,
					 "\"qemu_args\": %s is set by the agent itself (its monitor, gdbstub "
					 "and console)",
					 s);
				return -1;
			}
		memcpy(g->extra + g->extra_len, s, len);
		g->extra_len += len;
	}
	json_t *bt = json_object_get(args, "boot_timeout");
	if (bt && (!json_is_integer(bt) || json_integer_value(bt) < 10 || json_integer_value(bt) > 3600)) {
		snprintf(msg, mcap, "\"boot_timeout\" must be 10..3600 s");
		return -1;
	}
	g->boot_timeout_s = bt ? (int)json_integer_value(bt) : 300;
	if (!g->kernel[0] && !g->disk[0] &&
	    (g->net || g->nfwd || g->extra_len || g->nic[0] || json_object_get(args, "boot_timeout"))) {
		snprintf(msg, mcap,
			 "an own guest needs \"kernel\" or \"disk\" (without both, vm-launch boots the lab's)");
		return -1;
	}
	return 0;
}
