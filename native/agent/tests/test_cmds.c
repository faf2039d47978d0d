/* VM-thread commands on a fake VM (no QEMU): sym-search's paging bounds (an offset
 * near 2^61 once wrapped offset + limit and overflowed the result array), and strings
 * that are not UTF-8 in errors and summaries. */
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fake_backend.h"
#include "guest/kernel.h"
#include "hp_test.h"
#include "probes/probe.h"
#include "proto/commands.h"
#include "vm/session.h"
#include "vm/vm.h"

#define TEXT 0xffffffff81000000ull
#define NSYMS 1000

static struct hp_host host;

static struct hp_vm *make_vm(struct fake *f, char *dir)
{
	struct hp_vm_config cfg = { .name = "unit" };
	struct hp_err err;
	host.outbox.efd = eventfd(0, EFD_NONBLOCK);
	pthread_mutex_init(&host.outbox.lock, NULL);
	struct hp_vm *vm = hp_vm__create(&host, &cfg, &err);
	REQUIRE(vm);
	snprintf(vm->session_dir, sizeof vm->session_dir, "%s", dir);
	vm->tgt.gdb = &f->b;
	/* NSYMS functions of 0x100 bytes, each starting with a 5-byte nop */
	char *text = malloc(NSYMS * 48);
	size_t len = 0;
	for (int i = 0; i < NSYMS; i++)
		len += (size_t)sprintf(text + len, "%016llx T func_%04d\n", (unsigned long long)(TEXT + 0x100ull * i),
				       i);
	struct hp_kernel *k = calloc(1, sizeof *k);
	REQUIRE(hp_symtab__parse_text(text, len, &k->syms, NULL, &err) == 0);
	free(text);
	k->text.start = TEXT;
	k->text.end = TEXT + 0x100ull * NSYMS;
	vm->tgt.kernel = k;
	uint8_t *code = fake_map(f, TEXT, 0x100 * NSYMS);
	for (int i = 0; i < NSYMS; i++)
		memcpy(code + 0x100 * i, "\x0f\x1f\x44\x00\x00", 5);
	return vm;
}

static json_t *run(struct hp_vm *vm, hp_job_fn fn, const char *args_json, int *rc)
{
	json_error_t je;
	struct hp_job *job = hp_job__new(fn, 0, NULL);
	REQUIRE(job);
	json_decref(job->args);
	job->args = json_loads(args_json, 0, &je);
	REQUIRE(job->args);
	*rc = fn(vm, job);
	json_t *r = job->result ? json_incref(job->result) : NULL;
	hp_job__free(job);
	return r;
}

static void test_sym_search(struct hp_vm *vm)
{
	int rc;
	json_t *r =
		run(vm, hp_cmd__sym_search, "{\"vm\":\"unit\",\"pattern\":\"func_\",\"offset\":10,\"limit\":5}", &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "total")), NSYMS);
	json_t *syms = json_object_get(r, "symbols");
	CHECK_EQ_INT(json_array_size(syms), 5);
	CHECK_STR(json_string_value(json_object_get(json_array_get(syms, 0), "name")), "func_0010");
	json_decref(r);

	/* the last page is short; past the end is empty */
	r = run(vm, hp_cmd__sym_search, "{\"vm\":\"unit\",\"pattern\":\"\",\"offset\":998,\"limit\":100}", &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(json_array_size(json_object_get(r, "symbols")), 2);
	json_decref(r);
	r = run(vm, hp_cmd__sym_search, "{\"vm\":\"unit\",\"pattern\":\"\",\"offset\":5000,\"limit\":100}", &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(json_array_size(json_object_get(r, "symbols")), 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "total")), NSYMS);
	json_decref(r);

	/* 2^61 + 100 slots of 8 bytes wrap to 800 bytes: refused, not overflowed */
	r = run(vm, hp_cmd__sym_search, "{\"vm\":\"unit\",\"pattern\":\"\",\"offset\":2305843009213693952}", &rc);
	CHECK(rc < 0);
	json_decref(r);
	r = run(vm, hp_cmd__sym_search,
		"{\"vm\":\"unit\",\"pattern\":\"\",\"offset\":9223372036854775807,\"limit\":100000}", &rc);
	CHECK(rc < 0);
	json_decref(r);
}

/* Every string a reply or error carries must be valid UTF-8 (json_pack refuses
 * anything else, and the client was then dropped with no answer). */
static void test_foreign_bytes(struct hp_vm *vm)
{
	/* probe-add quotes the spec in its error, cut to the message's 256 bytes */
	char args[1024], spec[512] = "app:/x/";
	for (int i = 0; i < 110; i++)
		strcat(spec, "\u00e9");
	snprintf(args, sizeof args, "{\"vm\":\"unit\",\"spec\":\"%s\"}", spec);
	json_error_t je;
	struct hp_job *job = hp_job__new(hp_cmd__probe_add, 1, NULL);
	json_decref(job->args);
	job->args = json_loads(args, 0, &je);
	REQUIRE(job->args);
	CHECK(hp_cmd__probe_add(vm, job) < 0);
	json_t *msg = json_string(job->err.msg);
	if (!msg)
		fprintf(stderr, "error message is not UTF-8\n");
	CHECK(msg != NULL);
	json_decref(msg);
	hp_job__free(job);

	/* a guest banner (the kernel release) with a byte that is no UTF-8: the VM stays
	 * in vm-list */
	snprintf(vm->kernel_release, sizeof vm->kernel_release, "6.1.0-\xff\xfe-amd64");
	snprintf(vm->qemu_version, sizeof vm->qemu_version, "8.2.\xc3");
	json_t *sum = hp_vm__summary(vm);
	CHECK(sum != NULL);
	CHECK_STR(json_string_value(json_object_get(sum, "name")), "unit");
	json_decref(sum);
	vm->kernel_release[0] = vm->qemu_version[0] = 0;
}

int main(void)
{
	char dir[] = "/tmp/hp-cmds-XXXXXX";
	REQUIRE(mkdtemp(dir));
	struct fake *f = fake_new();
	struct hp_vm *vm = make_vm(f, dir);
	test_sym_search(vm);
	test_foreign_bytes(vm);
	while (vm->tgt.probes)
		hp_probe__destroy(&vm->tgt, vm->tgt.probes);
	vm->tgt.kernel->btf = NULL; /* the placeholder is not a real BTF */
	vm->tgt.gdb = NULL;
	hp_vm__destroy(vm);
	fake_free(f);
	for (struct hp_msg *m = host.outbox.head, *n; m; m = n) {
		n = m->next;
		free(m->line);
		free(m);
	}
	close(host.outbox.efd);
	char cmd[64];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(cmd), 0);
	TEST_MAIN_END();
}
