/* GDB remote serial protocol client. See rsp.h. Facts about QEMU's gdbstub that
 * shape this code (../shared/reference/qemu.md): acks cannot be turned off on 7.2/10.0,
 * 7.2 sends an unprompted stop on connect and 10.0 does not, 'P' needs the target
 * description first, and 'm' is limited by the 4 KiB packet size. */
#include "backend/rsp.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"

#define INBUF 65536
#define MEM_CHUNK 1024 /* bytes per 'm'/'M' packet: well under QEMU's 4 KiB packet limit */

struct reg_loc {
	int regnum; /* for 'P' */
	int offset; /* byte offset in the 'g' block */
	int size;   /* bytes */
};

struct hp_rsp {
	int fd;
	char in[INBUF];
	size_t in_pos, in_len;
	struct reg_loc regs[RSP_NREGS];
	int g_size;
	int ack;
	int trace; /* HPROBE_RSP_TRACE=1: log every packet (debug level) */
};

static const char *const reg_names[RSP_NREGS] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi",    "rbp", "rsp",     "r8",      "r9",        "r10", "r11",
	"r12", "r13", "r14", "r15", "rip", "eflags", "cs",  "fs_base", "gs_base", "k_gs_base", "cr3",
};

const char *hp_rsp__reg_name(enum hp_rsp_reg reg)
{
	return reg < RSP_NREGS ? reg_names[reg] : "?";
}

int hp_rsp__fd(const struct hp_rsp *r)
{
	return r->fd;
}
int hp_rsp__pending(const struct hp_rsp *r)
{
	return r->in_len > r->in_pos;
}

int hp_rsp__connect(const char *path, int timeout_ms, struct hp_rsp **out, struct hp_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path)
		return hp_err__set(err, ENAMETOOLONG, "gdbstub socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc = -errno;
	uint64_t deadline = hp_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	while (fd >= 0) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
			return hp_rsp__adopt(fd, out, err);
		rc = -errno;
		/* QEMU creates the socket a moment after it starts: retry until the deadline */
		if ((errno != ENOENT && errno != ECONNREFUSED) || hp_now_ns() > deadline)
			break;
		usleep(20000);
	}
	if (fd >= 0)
		close(fd);
	return hp_err__set(err, -rc, "cannot connect to gdbstub %s: %s", path, strerror(-rc));
}

int hp_rsp__adopt(int fd, struct hp_rsp **out, struct hp_err *err)
{
	struct hp_rsp *r = calloc(1, sizeof *r);
	if (!r) {
		close(fd);
		return hp_err__set(err, ENOMEM, "out of memory");
	}
	r->fd = fd;
	r->ack = 1;
	r->trace = getenv("HPROBE_RSP_TRACE") != NULL;
	*out = r;
	return 0;
}

void hp_rsp__free(struct hp_rsp *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int hp_rsp__send_raw(struct hp_rsp *r, const char *payload, size_t len)
{
	char pkt[HP_RSP_MAX_PACKET + 8];
	if (len > HP_RSP_MAX_PACKET)
		return -EMSGSIZE;
	unsigned sum = 0;
	pkt[0] = '$';
	for (size_t i = 0; i < len; i++) {
		pkt[1 + i] = payload[i];
		sum += (unsigned char)payload[i];
	}
	snprintf(pkt + 1 + len, 4, "#%02x", sum & 0xff);
	if (r->trace)
		hp_debug("rsp -> %.*s", (int)(len < 120 ? len : 120), payload);
	return write_all(r->fd, pkt, len + 4);
}

int hp_rsp__send(struct hp_rsp *r, const char *fmt, ...)
{
	char payload[HP_RSP_MAX_PACKET];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(payload, sizeof payload, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof payload)
		return -EMSGSIZE;
	return hp_rsp__send_raw(r, payload, (size_t)n);
}

static int fill(struct hp_rsp *r, int timeout_ms)
{
	if (r->in_pos == r->in_len)
		r->in_pos = r->in_len = 0;
	if (r->in_pos > INBUF / 2) {
		memmove(r->in, r->in + r->in_pos, r->in_len - r->in_pos);
		r->in_len -= r->in_pos;
		r->in_pos = 0;
	}
	if (r->in_len == INBUF)
		return -EMSGSIZE;
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	int pr;
	do
		pr = poll(&pfd, 1, timeout_ms);
	while (pr < 0 && errno == EINTR);
	if (pr < 0)
		return -errno;
	if (pr == 0)
		return -ETIMEDOUT;
	ssize_t n = recv(r->fd, r->in + r->in_len, INBUF - r->in_len, 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -ECONNRESET;
	r->in_len += (size_t)n;
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes one complete packet at in[in_pos..] if present: 1 = got one, 0 = need more. */
static int take_packet(struct hp_rsp *r, char *buf, size_t cap, struct hp_err *err)
{
	while (r->in_pos < r->in_len && r->in[r->in_pos] != '$') {
		char c = r->in[r->in_pos++];
		if (c == '-')
			return hp_err__set(err, EPROTO, "gdbstub asked for a retransmission");
		/* '+' acks and stray bytes are skipped */
	}
	if (r->in_pos >= r->in_len)
		return 0;
	char *start = r->in + r->in_pos + 1;
	char *end = memchr(start, '#', r->in_len - r->in_pos - 1);
	if (!end || (size_t)(end - r->in) + 3 > r->in_len)
		return 0;
	unsigned sum = 0;
	size_t o = 0;
	for (char *p = start; p < end; p++) {
		sum += (unsigned char)*p;
		char c = *p;
		if (c == '}' && p + 1 < end) { /* binary escape */
			sum += (unsigned char)p[1];
			c = (char)(p[1] ^ 0x20);
			p++;
		} else if (c == '*' && o > 0 && p + 1 < end) { /* run-length encoding */
			sum += (unsigned char)p[1];
			int rep = (unsigned char)p[1] - 29;
			for (int i = 0; i < rep && o + 1 < cap; i++, o++)
				buf[o] = buf[o - 1];
			p++;
			continue;
		}
		if (o + 1 >= cap)
			return hp_err__set(err, EMSGSIZE, "gdbstub reply larger than %zu bytes", cap);
		buf[o++] = c;
	}
	buf[o] = 0;
	int hi = hexval(end[1]), lo = hexval(end[2]);
	r->in_pos = (size_t)(end - r->in) + 3;
	if (hi < 0 || lo < 0 || (unsigned)(hi * 16 + lo) != (sum & 0xff))
		return hp_err__set(err, EPROTO, "gdbstub packet with a bad checksum");
	if (r->trace)
		hp_debug("rsp <- %.*s", (int)(o < 120 ? o : 120), buf);
	if (r->ack) {
		int rc = write_all(r->fd, "+", 1);
		if (rc)
			return hp_err__set(err, -rc, "gdbstub ack: %s", strerror(-rc));
	}
	return 1;
}

int hp_rsp__recv(struct hp_rsp *r, char *buf, size_t cap, int timeout_ms, struct hp_err *err)
{
	uint64_t deadline = timeout_ms < 0 ? 0 : hp_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	for (;;) {
		int rc = take_packet(r, buf, cap, err);
		if (rc)
			return rc < 0 ? rc : 0;
		int left = -1;
		if (timeout_ms >= 0) {
			uint64_t now = hp_now_ns();
			left = now >= deadline ? 0 : (int)((deadline - now) / 1000000ull) + 1;
		}
		rc = fill(r, left);
		if (rc == -ETIMEDOUT)
			return hp_err__set(err, ETIMEDOUT, "gdbstub did not answer in %d ms", timeout_ms);
		if (rc == -ECONNRESET)
			return hp_err__set(err, ECONNRESET, "gdbstub connection closed (QEMU gone?)");
		if (rc)
			return hp_err__set(err, -rc, "gdbstub read: %s", strerror(-rc));
	}
}

#define CMD_TIMEOUT_MS 5000

static int check_reply(const char *reply, struct hp_err *err)
{
	if (reply[0] == 'E' && hexval(reply[1]) >= 0 && hexval(reply[2]) >= 0 && !reply[3])
		return hp_err__set(err, EIO, "gdbstub error %s", reply);
	return 0;
}

int hp_rsp__cmd(struct hp_rsp *r, char *reply, size_t cap, struct hp_err *err, const char *fmt, ...)
{
	char payload[HP_RSP_MAX_PACKET];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(payload, sizeof payload, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof payload)
		return hp_err__set(err, EMSGSIZE, "gdbstub request too long");
	int rc = hp_rsp__send_raw(r, payload, (size_t)n);
	if (rc)
		return hp_err__set(err, -rc, "gdbstub write: %s", strerror(-rc));
	rc = hp_rsp__recv(r, reply, cap, CMD_TIMEOUT_MS, err);
	return rc ? rc : check_reply(reply, err);
}

int hp_rsp__parse_stop(const char *pkt, struct hp_rsp_stop *stop)
{
	memset(stop, 0, sizeof *stop);
	if ((pkt[0] == 'W' || pkt[0] == 'X') && hexval(pkt[1]) >= 0) {
		stop->exited = 1;
		return 0;
	}
	if ((pkt[0] != 'T' && pkt[0] != 'S') || hexval(pkt[1]) < 0 || hexval(pkt[2]) < 0)
		return -EPROTO;
	stop->signal = hexval(pkt[1]) * 16 + hexval(pkt[2]);
	const char *t = strstr(pkt, "thread:");
	if (t) {
		t += 7;
		const char *dot = strchr(t, '.'); /* multiprocess form "p1.2" */
		if (*t == 'p' && dot)
			t = dot + 1;
		stop->thread = (int)strtol(t, NULL, 16);
	}
	return 0;
}

static int hex_decode(const char *hex, void *out, size_t len)
{
	unsigned char *o = out;
	for (size_t i = 0; i < len; i++) {
		int hi = hexval(hex[2 * i]), lo = hi < 0 ? -1 : hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EPROTO;
		o[i] = (unsigned char)(hi * 16 + lo);
	}
	return 0;
}

int hp_rsp__read_mem(struct hp_rsp *r, uint64_t addr, void *buf, size_t len, struct hp_err *err)
{
	char reply[2 * MEM_CHUNK + 16];
	size_t nchunks = (len + MEM_CHUNK - 1) / MEM_CHUNK;
	/* Pipelined: all requests first, then the replies in order. */
	for (size_t i = 0; i < nchunks; i++) {
		size_t n = len - i * MEM_CHUNK < MEM_CHUNK ? len - i * MEM_CHUNK : MEM_CHUNK;
		int rc = hp_rsp__send(r, "m%llx,%zx", (unsigned long long)(addr + i * MEM_CHUNK), n);
		if (rc)
			return hp_err__set(err, -rc, "gdbstub write: %s", strerror(-rc));
	}
	int result = 0;
	for (size_t i = 0; i < nchunks; i++) {
		size_t n = len - i * MEM_CHUNK < MEM_CHUNK ? len - i * MEM_CHUNK : MEM_CHUNK;
		int rc = hp_rsp__recv(r, reply, sizeof reply, CMD_TIMEOUT_MS, err);
		if (rc)
			return rc;
		if (result)
			continue; /* keep draining replies of the pipeline */
		if (reply[0] == 'E' || strlen(reply) != 2 * n) {
			result = hp_err__set(err, EFAULT, "cannot read guest memory at 0x%llx (%zu bytes)",
					     (unsigned long long)(addr + i * MEM_CHUNK), n);
			continue;
		}
		if (hex_decode(reply, (char *)buf + i * MEM_CHUNK, n))
			result = hp_err__set(err, EPROTO, "gdbstub sent a malformed memory reply");
	}
	return result;
}

int hp_rsp__write_mem(struct hp_rsp *r, uint64_t addr, const void *buf, size_t len, struct hp_err *err)
{
	if (len > MEM_CHUNK)
		return hp_err__set(err, EMSGSIZE, "memory write too large");
	char payload[2 * MEM_CHUNK + 64], reply[64];
	int o = snprintf(payload, sizeof payload, "M%llx,%zx:", (unsigned long long)addr, len);
	for (size_t i = 0; i < len; i++)
		o += snprintf(payload + o, sizeof payload - (size_t)o, "%02x", ((const unsigned char *)buf)[i]);
	int rc = hp_rsp__send_raw(r, payload, (size_t)o);
	if (rc)
		return hp_err__set(err, -rc, "gdbstub write: %s", strerror(-rc));
	rc = hp_rsp__recv(r, reply, sizeof reply, CMD_TIMEOUT_MS, err);
	if (rc)
		return rc;
	if (strcmp(reply, "OK") != 0)
		return hp_err__set(err, EFAULT, "cannot write guest memory at 0x%llx", (unsigned long long)addr);
	return 0;
}

static uint64_t le_value(const unsigned char *p, int size)
{
	uint64_t v = 0;
	for (int i = size - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int hp_rsp__read_regs(struct hp_rsp *r, uint64_t regs[RSP_NREGS], struct hp_err *err)
{
	char reply[HP_RSP_MAX_PACKET];
	unsigned char raw[HP_RSP_MAX_PACKET / 2];
	int rc = hp_rsp__cmd(r, reply, sizeof reply, err, "g");
	if (rc)
		return rc;
	size_t n = strlen(reply) / 2;
	if ((int)n < r->g_size || hex_decode(reply, raw, n))
		return hp_err__set(err, EPROTO, "short register block from gdbstub (%zu bytes)", n);
	for (int i = 0; i < RSP_NREGS; i++)
		regs[i] = r->regs[i].size && r->regs[i].offset + r->regs[i].size <= (int)n
				  ? le_value(raw + r->regs[i].offset, r->regs[i].size)
				  : 0;
	return 0;
}

int hp_rsp__queue_write_reg(struct hp_rsp *r, enum hp_rsp_reg reg, uint64_t val)
{
	const struct reg_loc *l = &r->regs[reg];
	if (!l->size)
		return -ENOENT;
	char hex[2 * 8 + 1];
	for (int i = 0; i < l->size && i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned)(val >> (8 * i)) & 0xff);
	return hp_rsp__send(r, "P%x=%s", l->regnum, hex);
}

int hp_rsp__expect_ok(struct hp_rsp *r, struct hp_err *err)
{
	char reply[64];
	int rc = hp_rsp__recv(r, reply, sizeof reply, CMD_TIMEOUT_MS, err);
	if (rc)
		return rc;
	if (strcmp(reply, "OK") != 0)
		return hp_err__set(err, EIO, "gdbstub refused a request: '%s'", reply);
	return 0;
}

int hp_rsp__set_bp(struct hp_rsp *r, uint64_t addr, int insert, struct hp_err *err)
{
	return hp_rsp__set_bp_type(r, 0, addr, insert, err);
}

int hp_rsp__set_bp_type(struct hp_rsp *r, int type, uint64_t addr, int insert, struct hp_err *err)
{
	char reply[64];
	int rc = hp_rsp__cmd(r, reply, sizeof reply, err, "%c%d,%llx,1", insert ? 'Z' : 'z', type,
			     (unsigned long long)addr);
	if (rc)
		return rc;
	if (strcmp(reply, "OK") != 0)
		return hp_err__set(err, EIO, "gdbstub could not %s a breakpoint at 0x%llx ('%s')",
				   insert ? "insert" : "remove", (unsigned long long)addr, reply);
	return 0;
}

int hp_rsp__select_thread(struct hp_rsp *r, int thread, struct hp_err *err)
{
	char reply[64];
	int rc = hp_rsp__cmd(r, reply, sizeof reply, err, "Hgp1.%x", thread);
	if (!rc && strcmp(reply, "OK") != 0)
		rc = hp_err__set(err, EIO, "gdbstub cannot select vCPU thread %d", thread);
	return rc;
}

int hp_rsp__continue(struct hp_rsp *r)
{
	return hp_rsp__send(r, "c");
}

int hp_rsp__step_thread(struct hp_rsp *r, int thread)
{
	return hp_rsp__send(r, "vCont;s:p1.%x", thread);
}

int hp_rsp__interrupt(struct hp_rsp *r)
{
	return write_all(r->fd, "\x03", 1);
}

int hp_rsp__monitor(struct hp_rsp *r, const char *cmd, char *out, size_t cap, struct hp_err *err)
{
	char payload[HP_RSP_MAX_PACKET], reply[HP_RSP_MAX_PACKET];
	int o = snprintf(payload, sizeof payload, "qRcmd,");
	for (const char *p = cmd; *p && (size_t)o + 3 < sizeof payload; p++)
		o += snprintf(payload + o, sizeof payload - (size_t)o, "%02x", (unsigned char)*p);
	int rc = hp_rsp__send_raw(r, payload, (size_t)o);
	if (rc)
		return hp_err__set(err, -rc, "gdbstub write: %s", strerror(-rc));
	size_t used = 0;
	if (cap)
		out[0] = 0;
	for (;;) { /* output arrives as 'O' packets, then OK */
		rc = hp_rsp__recv(r, reply, sizeof reply, CMD_TIMEOUT_MS, err);
		if (rc)
			return rc;
		if (reply[0] != 'O' || !strcmp(reply, "OK"))
			break;
		size_t n = strlen(reply + 1) / 2;
		if (used + n + 1 <= cap && !hex_decode(reply + 1, out + used, n)) {
			used += n;
			out[used] = 0;
		}
	}
	return check_reply(reply, err);
}

int hp_rsp__detach(struct hp_rsp *r, struct hp_err *err)
{
	char reply[64];
	/* plain 'D' gets E22 from QEMU 7.2: the process-id form works on both */
	return hp_rsp__cmd(r, reply, sizeof reply, err, "D;1");
}

/* ---- target description: where each register sits in the 'g' block ---- */

static int xfer_read(struct hp_rsp *r, const char *annex, char **out, struct hp_err *err)
{
	size_t len = 0, cap = 16384;
	char *doc = malloc(cap), reply[HP_RSP_MAX_PACKET];
	if (!doc)
		return hp_err__set(err, ENOMEM, "out of memory");
	for (;;) {
		int rc = hp_rsp__cmd(r, reply, sizeof reply, err, "qXfer:features:read:%s:%zx,%x", annex, len, 0x800);
		if (rc || (reply[0] != 'm' && reply[0] != 'l')) {
			free(doc);
			return rc ? rc : hp_err__set(err, EPROTO, "gdbstub has no target description %s", annex);
		}
		size_t n = strlen(reply + 1);
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			char *nd = realloc(doc, cap);
			if (!nd) {
				free(doc);
				return hp_err__set(err, ENOMEM, "out of memory");
			}
			doc = nd;
		}
		memcpy(doc + len, reply + 1, n);
		len += n;
		doc[len] = 0;
		if (reply[0] == 'l' || n == 0)
			break;
		if (len > (1u << 20)) {
			free(doc);
			return hp_err__set(err, EMSGSIZE, "target description too large");
		}
	}
	*out = doc;
	return 0;
}

static void strip_comments(char *s)
{
	char *c;
	while ((c = strstr(s, "<!--"))) {
		char *e = strstr(c, "-->");
		if (!e) {
			*c = 0;
			return;
		}
		memmove(c, e + 3, strlen(e + 3) + 1);
	}
}

static int attr(const char *tag, const char *name, char *val, size_t cap)
{
	char key[32];
	snprintf(key, sizeof key, " %s=\"", name);
	const char *p = strstr(tag, key);
	const char *end = strchr(tag, '>');
	if (!p || (end && p > end))
		return -1;
	p += strlen(key);
	const char *q = strchr(p, '"');
	if (!q || (size_t)(q - p) >= cap)
		return -1;
	memcpy(val, p, (size_t)(q - p));
	val[q - p] = 0;
	return 0;
}

struct tdesc_walk {
	int regnum, offset;
};

/* A decimal attribute in [lo, hi], or -1 (signs, junk, overflow included). */
static long dec_in(const char *s, long lo, long hi)
{
	long v = 0;
	if (!*s || strlen(s) > 9)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v >= lo && v <= hi ? v : -1;
}

/* Walks <reg> elements in document order, descending into xi:include files. */
static int walk_tdesc(struct hp_rsp *r, const char *annex, struct tdesc_walk *w, int depth, struct hp_err *err)
{
	char *doc;
	if (depth > 4)
		return hp_err__set(err, ELOOP, "target description nests too deep");
	int rc = xfer_read(r, annex, &doc, err);
	if (rc)
		return rc;
	strip_comments(doc);
	for (char *p = doc; (p = strchr(p, '<')); p++) {
		char val[128];
		if (!strncmp(p, "<xi:include", 11) && !attr(p, "href", val, sizeof val)) {
			rc = walk_tdesc(r, val, w, depth + 1, err);
			if (rc)
				break;
		} else if (!strncmp(p, "<reg ", 5)) {
			char name[64], bits[16];
			if (attr(p, "name", name, sizeof name) || attr(p, "bitsize", bits, sizeof bits))
				continue;
			/* the description is the gdbstub's word: a negative or absurd size
			 * would place the registers after it outside the 'g' block */
			long nbits = dec_in(bits, 8, 8 * 512), regnum = 0;
			if (nbits < 0 || nbits % 8) {
				rc = hp_err__set(err, EPROTO, "target description: register %s has bitsize '%s'", name,
						 bits);
				break;
			}
			if (!attr(p, "regnum", val, sizeof val)) {
				if ((regnum = dec_in(val, 0, 0xffff)) < 0) {
					rc = hp_err__set(err, EPROTO, "target description: register %s has regnum '%s'",
							 name, val);
					break;
				}
				w->regnum = (int)regnum;
			}
			int size = (int)(nbits / 8);
			if (w->offset + size > HP_RSP_MAX_PACKET / 2 || w->regnum > 0xffff) {
				rc = hp_err__set(err, EPROTO, "target description: registers past a packet's size");
				break;
			}
			for (int i = 0; i < RSP_NREGS; i++)
				if (!strcmp(name, reg_names[i]) && size <= 8)
					r->regs[i] = (struct reg_loc){ w->regnum, w->offset, size };
			w->regnum++;
			w->offset += size;
		}
	}
	free(doc);
	return rc;
}

int hp_rsp__handshake(struct hp_rsp *r, struct hp_rsp_stop *stop, struct hp_err *err)
{
	char reply[HP_RSP_MAX_PACKET];
	int rc = hp_rsp__send(r, "qSupported:multiprocess+;swbreak+;xmlRegisters=i386");
	if (rc)
		return hp_err__set(err, -rc, "gdbstub write: %s", strerror(-rc));
	/* QEMU 7.2 stops the VM and sends an unprompted stop reply on connect: skip it. */
	for (;;) {
		rc = hp_rsp__recv(r, reply, sizeof reply, CMD_TIMEOUT_MS, err);
		if (rc)
			return rc;
		if (!strstr(reply, "PacketSize") && (reply[0] == 'T' || reply[0] == 'S'))
			continue;
		break;
	}
	if (!strstr(reply, "qXfer:features:read+"))
		return hp_err__set(err, ENOTSUP, "gdbstub offers no target description");
	struct tdesc_walk w = { 0, 0 };
	memset(r->regs, 0, sizeof r->regs);
	rc = walk_tdesc(r, "target.xml", &w, 0, err);
	if (rc)
		return rc;
	r->g_size = w.offset;
	for (int i = 0; i < RSP_NREGS; i++)
		if (!r->regs[i].size)
			return hp_err__set(err, ENOTSUP, "gdbstub target has no register %s (not x86-64?)",
					   reg_names[i]);
	/* Connecting stopped the VM; '?' says where. */
	rc = hp_rsp__cmd(r, reply, sizeof reply, err, "?");
	if (rc)
		return rc;
	if (hp_rsp__parse_stop(reply, stop))
		return hp_err__set(err, EPROTO, "unexpected stop reply '%s'", reply);
	return 0;
}
