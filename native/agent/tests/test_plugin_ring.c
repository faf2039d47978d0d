/* The tcg-plugin backend against a ring file that QEMU (its other writer) changes
 * after the agent checked and mapped it: the geometry the agent validated is the one
 * it keeps using. A fake plugin answers the control socket; no QEMU runs. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend/plugin_backend.h"
#include "hp_test.h"
#include "hprobe/plugin_ring.h"

static int listen_fd = -1;

/* The plugin's side of the control socket: every request gets a plain "done". */
static void *fake_plugin(void *arg)
{
	(void)arg;
	int fd = accept(listen_fd, NULL, NULL);
	if (fd < 0)
		return NULL;
	for (;;) {
		union {
			struct hp_pctl_hdr h;
			uint8_t raw[4096];
		} req;
		ssize_t n = recv(fd, &req, sizeof req, 0);
		if (n < (ssize_t)sizeof req.h)
			break;
		struct hp_pctl_reply rep;
		memset(&rep, 0, sizeof rep);
		rep.h = (struct hp_pctl_hdr){
			HP_PCTL_MAGIC, HP_PCTL_VERSION, HP_PCTL_REPLY, sizeof rep, req.h.seq, 0, 0
		};
		rep.applied = 1;
		rep.plugin_version = HP_PCTL_VERSION;
		rep.max_vcpus = 1;
		if (send(fd, &rep, sizeof rep, MSG_NOSIGNAL) != (ssize_t)sizeof rep)
			break;
	}
	close(fd);
	return NULL;
}

int main(void)
{
	char dir[] = "/tmp/hp-pring-agent-XXXXXX", ring[64], ctl[64];
	REQUIRE(mkdtemp(dir));
	snprintf(ring, sizeof ring, "%s/ring", dir);
	snprintf(ctl, sizeof ctl, "%s/ctl.sock", dir);
	struct hp_err err = { { 0 } };
	REQUIRE(hp_plugin_ring__create(ring, 1, 4096, &err) == 0);

	/* the plugin: maps the file, says it did, serves the control socket */
	size_t len;
	int e;
	const char *why;
	struct hp_pring_file hdr;
	uint8_t *m = hp_pring__map(ring, &hdr, &len, &e, &why);
	REQUIRE(m);
	struct hp_pring_file *live = (struct hp_pring_file *)m;
	atomic_store(&live->plugin_pid, (uint64_t)getpid());
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", ctl);
	listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	REQUIRE(listen_fd >= 0 && bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(listen_fd, 1) == 0);
	pthread_t th;
	REQUIRE(pthread_create(&th, NULL, fake_plugin, NULL) == 0);

	struct hp_backend *b = hp_plugin_backend__new(ctl, ring, 0, &err);
	if (!b)
		fprintf(stderr, "backend: %s\n", err.msg);
	REQUIRE(b);

	/* a record the agent will find malformed (an unknown type): counted, so we see
	 * which ring memory it read */
	struct hp_prec rec = { .len = 16, .type = 0x77 };
	uint8_t buf[16] = { 0 };
	memcpy(buf, &rec, sizeof rec);
	uint64_t seen = 0;
	REQUIRE(hp_pring__put(hp_pring__at(m, &hdr, 0), hdr.ring_bytes, buf, 16, &seen) == 0);

	/* QEMU rewrites the header: rings far outside the mapping */
	live->hdr_size = 0x7ff00000;
	live->ring_stride = 0x7ff00000;
	live->nrings = 200;
	live->ring_bytes = 1u << 30;

	struct hp_bev ev;
	int got = 0;
	for (int i = 0; i < 8 && hp_backend__next_event(b, &ev, &err) > 0; i++)
		got++;
	CHECK_EQ_INT(got, 0);
	CHECK_EQ_U64(hp_backend__corrupt(b), 1); /* read from ring 0 where it was mapped */

	/* and the rings keep working where they were */
	struct hp_prec pad = { .len = 24, .type = 0x78 };
	uint8_t buf2[24] = { 0 };
	memcpy(buf2, &pad, sizeof pad);
	REQUIRE(hp_pring__put(hp_pring__at(m, &hdr, 0), hdr.ring_bytes, buf2, 24, &seen) == 0);
	for (int i = 0; i < 8 && hp_backend__next_event(b, &ev, &err) > 0; i++)
		;
	CHECK_EQ_U64(hp_backend__corrupt(b), 2);

	/* a return probe's hit: its return value and latency follow the header */
	union {
		struct hp_prec_hit h;
		uint8_t raw[sizeof(struct hp_prec_hit) + sizeof(struct hp_prec_ret)];
	} rh = { .h = { .h = { .len = sizeof rh, .type = HP_PREC_HIT }, .probe_id = 5, .flags = HP_PHIT_RET } };
	struct hp_prec_ret rv = { .retval = -4, .latency_ns = 20000000 };
	memcpy(rh.raw + sizeof rh.h, &rv, sizeof rv);
	REQUIRE(hp_pring__put(hp_pring__at(m, &hdr, 0), hdr.ring_bytes, &rh, sizeof rh, &seen) == 0);
	got = 0;
	for (int i = 0; i < 8 && hp_backend__next_event(b, &ev, &err) > 0; i++)
		got += ev.type == HP_BEV_HIT && ev.hit.probe_id == 5;
	CHECK_EQ_INT(got, 1);
	CHECK((ev.hit.flags & HP_HIT_RET) && ev.hit.retval == -4 && ev.hit.latency_ns == 20000000);
	/* the flag without the bytes it promises: malformed, not read past the record */
	rh.h.h.len = sizeof rh.h;
	REQUIRE(hp_pring__put(hp_pring__at(m, &hdr, 0), hdr.ring_bytes, &rh, sizeof rh.h, &seen) == 0);
	for (int i = 0; i < 8 && hp_backend__next_event(b, &ev, &err) > 0; i++)
		;
	CHECK_EQ_U64(hp_backend__corrupt(b), 3);

	hp_backend__destroy(b);
	pthread_join(th, NULL);
	close(listen_fd);
	munmap(m, len);
	unlink(ring);
	unlink(ctl);
	rmdir(dir);
	TEST_MAIN_END();
}
