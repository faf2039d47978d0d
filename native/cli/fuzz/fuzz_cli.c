/* Fuzzes what the CLI reads. An input starting with 'A' is an agent's stream: the
 * greeting, the reply to a command, events, and HITS batches printed as the CLI prints
 * them (tab-separated, the terminal table, --json). Any other input is a probe set file.
 * The agent is trusted only once SO_PEERCRED says it is ours, yet a hit's strings come
 * from the guest; a probe set comes from anyone. */
#include <sys/socket.h>
#include <unistd.h>

#include "../src/cmd_hits.c" /* print_hit and struct hit_out are its own */
#include "conn.h"
#include "probeset.h"

#include "fuzz_assert.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return freopen("/dev/null", "w", stdout) ? 0 : 1; /* the printers write there */
}

/* jx_dumps writes back what json_loads_lenient read, integers above INT64_MAX included. */
static void roundtrip(const char *text, size_t len)
{
	json_t *j = json_loads_lenient(text, len);
	if (!j)
		return;
	char *s = jx_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	ASSERT(s);
	json_t *k = json_loads_lenient(s, strlen(s));
	ASSERT(k && json_equal(j, k));
	json_decref(k);
	free(s);
	json_decref(j);
}

/* A batch in every style; list (may be NULL) says what the probes' parameters are. */
static void print_batch(const char *text, json_t *list)
{
	static const struct {
		int json, table;
		enum time_style time;
	} styles[] = { { 0, 0, T_REL }, { 0, 1, T_WALL }, { 0, 1, T_MONO }, { 1, 0, T_REL } };
	for (size_t i = 0; i < sizeof styles / sizeof styles[0]; i++) {
		struct cli c = { .json = styles[i].json };
		struct hit_out o = { .c = &c,
				     .probe = -1,
				     .limit = -1,
				     .last_seq = -1,
				     .table = styles[i].table,
				     .time = styles[i].time,
				     .width = i == 1 ? 80 : 200 };
		params_add(&o, list);
		json_each_raw(text, strlen(text), "hits", print_hit, &o);
		free(o.probes);
	}
}

static void agent_stream(const uint8_t *data, size_t size)
{
	int sv[2];
	if (size > 65536 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return; /* all of it must fit the socket's buffer: nobody reads while we write */
	ASSERT(write(sv[1], data, size) == (ssize_t)size);
	shutdown(sv[1], SHUT_WR);
	char err[256];
	struct conn *c = conn_over(sv[0], "fuzz", err, sizeof err);
	if (!c) {
		ASSERT(memchr(err, 0, sizeof err));
		close(sv[1]);
		return;
	}
	json_t *r = conn_cmd(c, "hits-read", NULL);
	const char *raw = json_string_value(json_object_get(r, "_raw"));
	/* then, in the same stream, what probe-list says of the probes' parameters */
	json_t *pl = raw ? conn_cmd(c, "probe-list", NULL) : NULL;
	if (raw) {
		roundtrip(raw, strlen(raw));
		print_batch(raw, json_object_get(pl, "return"));
	}
	json_decref(r);
	json_t *ev;
	while ((ev = conn_event(c, 0))) {
		raw = json_string_value(json_object_get(ev, "_raw"));
		if (raw) {
			roundtrip(raw, strlen(raw));
			print_batch(raw, json_object_get(pl, "return"));
		}
		json_decref(ev);
	}
	json_decref(pl);
	ASSERT(conn_eof(c));
	conn_close(c);
	close(sv[1]);
}

static void probe_set(const uint8_t *data, size_t size)
{
	struct probeset ps;
	char *text = malloc(size ? size : 1);
	if (!text)
		return;
	memcpy(text, data, size);
	int rc = probeset_parse(&ps, "fuzz.json", text, size);
	ASSERT(rc == 0 ? ps.nerrors == 0 : ps.nerrors > 0 && ps.nerrors <= PS_MAX_ERRORS);
	for (int i = 0; i < ps.nerrors; i++)
		ASSERT(ps.errors[i] && !strncmp(ps.errors[i], "fuzz.json:", 10));
	ASSERT(ps.n == ps.nprobes + ps.ndetectors);
	for (size_t i = 0; rc == 0 && i < ps.n; i++) /* a set with errors is never applied */
		ASSERT(ps.items[i].args && ps.items[i].summary);
	if (rc == 0) { /* what `hprobe probe save` would write of such lists reads back */
		json_t *w = probeset_from_lists(json_object_get(ps.root, "probes"),
						json_object_get(ps.root, "detectors"), "fuzz");
		char *s = json_dumps(w, JSON_INDENT(2));
		struct probeset back;
		ASSERT(s);
		probeset_parse(&back, "back.json", s, strlen(s));
		probeset_free(&back);
		json_decref(w);
	}
	probeset_free(&ps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size && data[0] == 'A')
		agent_stream(data + 1, size - 1);
	else
		probe_set(data, size);
	return 0;
}
