/* Encoding and validation of journal headers, batches and records (little endian,
 * byte-packed, see docs/journal.md). Shared by the writer and the reader. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "journal_int.h"

static const char *const reg_names[HP_NREGS] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp",    "rsp", "r8",      "r9",        "r10",
	"r11", "r12", "r13", "r14", "r15", "rip", "rflags", "cr3", "gs_base", "k_gs_base",
};

const char *hp_reg__name(enum hp_reg r)
{
	return (unsigned)r < HP_NREGS ? reg_names[r] : NULL;
}

uint32_t hpi_crc32(uint32_t crc, const void *buf, size_t len)
{
	return (uint32_t)crc32_z(crc, buf, len);
}

static size_t comm_len(const char *comm)
{
	size_t n = 0;

	while (n < HP_COMM_LEN && comm[n])
		n++;
	return n;
}

size_t hpi_hit_len(const struct hp_hit *h)
{
	size_t nargs = h->nargs < HP_MAX_ARGS ? h->nargs : HP_MAX_ARGS;
	size_t mem = h->memlen < HP_MAX_MEM ? h->memlen : HP_MAX_MEM;

	return HPJ_HIT_FIXED + comm_len(h->comm) + 8 * nargs + (h->flags & HP_HIT_REGS ? 8 * HP_NREGS : 0) +
	       (mem || (h->flags & HP_HIT_MEM) ? 8 + mem : 0) + (h->flags & HP_HIT_RET ? HPJ_HIT_RET_EXTRA : 0);
}

uint8_t hpi_hit_type(const struct hp_hit *h)
{
	return h->flags & HP_HIT_RET ? HP_REC_HIT_RET : HP_REC_HIT;
}

/* Hit body: fixed 48 bytes, then comm, args, regs (if flagged), memaddr + mem (if any).
 * Counts beyond the limits are clamped (the writer never trusts its caller either). */
uint8_t *hpi_enc_hit(uint8_t *p, const struct hp_hit *h)
{
	uint8_t nargs = h->nargs < HP_MAX_ARGS ? h->nargs : HP_MAX_ARGS;
	uint16_t mem = h->memlen < HP_MAX_MEM ? h->memlen : HP_MAX_MEM;
	uint8_t cl = (uint8_t)comm_len(h->comm);

	hpi_put64(p, h->time_ns);
	hpi_put32(p + 8, h->probe_id);
	hpi_put32(p + 12, h->vcpu);
	hpi_put32(p + 16, (uint32_t)h->pid);
	hpi_put32(p + 20, (uint32_t)h->tgid);
	hpi_put64(p + 24, h->ip);
	hpi_put64(p + 32, h->cr3);
	hpi_put32(p + 40, h->flags);
	p[44] = nargs;
	p[45] = cl;
	hpi_put16(p + 46, mem);
	p += HPJ_HIT_FIXED;
	memcpy(p, h->comm, cl);
	p += cl;
	for (int i = 0; i < nargs; i++, p += 8)
		hpi_put64(p, h->args[i]);
	if (h->flags & HP_HIT_REGS)
		for (int i = 0; i < HP_NREGS; i++, p += 8)
			hpi_put64(p, h->regs[i]);
	if (mem || (h->flags & HP_HIT_MEM)) {
		hpi_put64(p, h->memaddr);
		memcpy(p + 8, h->mem, mem);
		p += 8 + mem;
	}
	if (h->flags & HP_HIT_RET) {
		hpi_put64(p, (uint64_t)h->retval);
		hpi_put64(p + 8, h->latency_ns);
		p += HPJ_HIT_RET_EXTRA;
	}
	return p;
}

uint8_t *hpi_enc_dropped(uint8_t *p, const struct hp_dropped *d)
{
	hpi_put32(p, d->probe_id);
	hpi_put64(p + 4, d->count);
	hpi_put64(p + 12, d->time_ns);
	return p + HPJ_DROPPED_LEN;
}

uint8_t *hpi_enc_count(uint8_t *p, const struct hp_count *c)
{
	hpi_put32(p, c->probe_id);
	hpi_put32(p + 4, c->vcpu);
	hpi_put64(p + 8, c->count);
	hpi_put64(p + 16, c->first_ns);
	hpi_put64(p + 24, c->last_ns);
	return p + HPJ_COUNT_LEN;
}

int hpi_rec_check(uint8_t type, const uint8_t *body, uint32_t len)
{
	switch (type) {
	case HP_REC_HIT:
	case HP_REC_HIT_RET: {
		uint32_t nargs, cl, mem, want, flags;

		if (len < HPJ_HIT_FIXED)
			return -1;
		nargs = body[44];
		cl = body[45];
		mem = hpi_get16(body + 46);
		if (nargs > HP_MAX_ARGS || cl > HP_COMM_LEN || mem > HP_MAX_MEM)
			return -1;
		flags = hpi_get32(body + 40);
		/* the RET flag and the record type say the same, or the record is damaged */
		if (!(flags & HP_HIT_RET) != (type == HP_REC_HIT))
			return -1;
		want = HPJ_HIT_FIXED + cl + 8 * nargs + (flags & HP_HIT_REGS ? 8 * HP_NREGS : 0) +
		       (mem || (flags & HP_HIT_MEM) ? 8 + mem : 0) + (type == HP_REC_HIT_RET ? HPJ_HIT_RET_EXTRA : 0);
		return len == want ? 0 : -1;
	}
	case HP_REC_PROBE:
	case HP_REC_EVENT:
	case HP_REC_ALERT:
		if (len < 8 || len - 8 > HPJ_JSON_MAX)
			return -1;
		/* Readers hand the text out NUL-terminated: an inner NUL would cut it. */
		return memchr(body + 8, '\0', len - 8) ? -1 : 0;
	case HP_REC_DROPPED:
		return len == HPJ_DROPPED_LEN ? 0 : -1;
	case HP_REC_COUNT:
		return len == HPJ_COUNT_LEN ? 0 : -1;
	default:
		return 0; /* a later version's record: skipped by this reader */
	}
}

void hpi_rec_decode(uint8_t type, const uint8_t *body, uint32_t len, struct hp_record *rec)
{
	(void)len;
	rec->type = (enum hp_rec_type)(type == HP_REC_HIT_RET ? HP_REC_HIT : type);
	rec->json = NULL;
	rec->json_len = 0;
	switch (type) {
	case HP_REC_HIT:
	case HP_REC_HIT_RET: {
		struct hp_hit *h = &rec->u.hit;
		const uint8_t *p = body + HPJ_HIT_FIXED;
		uint8_t cl = body[45];

		memset(h, 0, sizeof(*h));
		h->time_ns = hpi_get64(body);
		h->probe_id = hpi_get32(body + 8);
		h->vcpu = hpi_get32(body + 12);
		h->pid = (int32_t)hpi_get32(body + 16);
		h->tgid = (int32_t)hpi_get32(body + 20);
		h->ip = hpi_get64(body + 24);
		h->cr3 = hpi_get64(body + 32);
		h->flags = hpi_get32(body + 40);
		h->nargs = body[44];
		h->memlen = hpi_get16(body + 46);
		memcpy(h->comm, p, cl);
		p += cl;
		for (int i = 0; i < h->nargs; i++, p += 8)
			h->args[i] = hpi_get64(p);
		if (h->flags & HP_HIT_REGS)
			for (int i = 0; i < HP_NREGS; i++, p += 8)
				h->regs[i] = hpi_get64(p);
		if (h->memlen || (h->flags & HP_HIT_MEM)) {
			h->memaddr = hpi_get64(p);
			memcpy(h->mem, p + 8, h->memlen);
			p += 8 + h->memlen;
		}
		if (type == HP_REC_HIT_RET) {
			h->retval = (int64_t)hpi_get64(p);
			h->latency_ns = hpi_get64(p + 8);
		}
		rec->time_ns = h->time_ns;
		break;
	}
	case HP_REC_PROBE:
	case HP_REC_EVENT:
	case HP_REC_ALERT:
		rec->time_ns = hpi_get64(body);
		rec->json_len = len - 8;
		break;
	case HP_REC_DROPPED:
		rec->u.dropped.probe_id = hpi_get32(body);
		rec->u.dropped.count = hpi_get64(body + 4);
		rec->u.dropped.time_ns = hpi_get64(body + 12);
		rec->time_ns = rec->u.dropped.time_ns;
		break;
	case HP_REC_COUNT:
		rec->u.count.probe_id = hpi_get32(body);
		rec->u.count.vcpu = hpi_get32(body + 4);
		rec->u.count.count = hpi_get64(body + 8);
		rec->u.count.first_ns = hpi_get64(body + 16);
		rec->u.count.last_ns = hpi_get64(body + 24);
		rec->time_ns = rec->u.count.last_ns;
		break;
	default:
		rec->time_ns = 0;
		break;
	}
}

static void put_str(uint8_t *p, size_t n, const char *s)
{
	size_t l = s ? strnlen(s, n - 1) : 0; /* the last byte stays NUL */

	memset(p, 0, n);
	memcpy(p, s ? s : "", l);
}

int hpi_boot_id(uint8_t out[16])
{
	char text[64] = "";
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	int n = 0;

	memset(out, 0, 16);
	if (f) {
		if (!fgets(text, sizeof text, f))
			text[0] = 0;
		fclose(f);
	}
	for (const char *p = text; *p && n < 32; p++) {
		int v = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;

		if (*p == '-')
			continue;
		if (v < 0)
			break;
		out[n / 2] = (uint8_t)(out[n / 2] << 4 | v);
		n++;
	}
	if (n != 32) {
		memset(out, 0, 16);
		return -ENOENT;
	}
	return 0;
}

void hpi_header_encode(uint8_t out[HPJ_HEADER_LEN], const struct hp_journal_meta *meta, const uint8_t *boot_id)
{
	memset(out, 0, HPJ_HEADER_LEN);
	memcpy(out, HPJ_MAGIC, 8);
	hpi_put16(out + HPJ_H_VERSION, HP_JOURNAL_VERSION);
	hpi_put16(out + HPJ_H_HLEN, HPJ_HEADER_LEN);
	hpi_put32(out + HPJ_H_FLAGS, 0);
	if (meta) {
		hpi_put64(out + HPJ_H_CREATED, meta->created_ns);
		hpi_put64(out + HPJ_H_MONO, meta->mono_base_ns);
		put_str(out + HPJ_H_SESSION, 64, meta->session);
		put_str(out + HPJ_H_VM, 64, meta->vm_name);
		put_str(out + HPJ_H_KERNEL, 128, meta->kernel);
	}
	if (boot_id)
		memcpy(out + HPJ_H_BOOT_ID, boot_id, 16);
	hpi_put32(out + HPJ_HEADER_LEN - 4, hpi_crc32(0, out, HPJ_HEADER_LEN - 4));
}

static void get_str(char *dst, size_t n, const uint8_t *src)
{
	memcpy(dst, src, n);
	dst[n - 1] = '\0';
}

int hpi_header_decode(const uint8_t *buf, size_t len, struct hp_journal_meta *meta, uint32_t *header_len,
		      uint8_t *boot_id, struct hp_err *err)
{
	uint32_t hl;

	if (len < HPJ_HEADER_MIN || memcmp(buf, HPJ_MAGIC, 8) != 0)
		return hp_err__set(err, EBADMSG, "journal: not an HProbe journal (bad magic or short header)");
	if (hpi_get16(buf + HPJ_H_VERSION) != HP_JOURNAL_VERSION)
		return hp_err__set(err, EPROTONOSUPPORT, "journal: format version %u is not supported (this is %u)",
				   hpi_get16(buf + HPJ_H_VERSION), HP_JOURNAL_VERSION);
	hl = hpi_get16(buf + HPJ_H_HLEN);
	if (hl < HPJ_HEADER_MIN || hl > len)
		return hp_err__set(err, EBADMSG, "journal: bad header length %u", hl);
	if (hpi_crc32(0, buf, hl - 4) != hpi_get32(buf + hl - 4))
		return hp_err__set(err, EBADMSG, "journal: header CRC mismatch");
	memset(meta, 0, sizeof(*meta));
	meta->created_ns = hpi_get64(buf + HPJ_H_CREATED);
	meta->mono_base_ns = hpi_get64(buf + HPJ_H_MONO);
	get_str(meta->session, sizeof(meta->session), buf + HPJ_H_SESSION);
	get_str(meta->vm_name, sizeof(meta->vm_name), buf + HPJ_H_VM);
	get_str(meta->kernel, sizeof(meta->kernel), buf + HPJ_H_KERNEL);
	if (boot_id) { /* the first header ended at 304: its bytes from 288 are reserved and CRC */
		memset(boot_id, 0, 16);
		if (hl >= HPJ_H_BOOT_ID + 16 + 4)
			memcpy(boot_id, buf + HPJ_H_BOOT_ID, 16);
	}
	*header_len = hl;
	return 0;
}

int hpi_batch_check(const uint8_t *buf, size_t avail, uint64_t expect_seq, size_t *size)
{
	uint32_t plen, nrec, n = 0;
	size_t pos;

	if (avail < HPJ_BATCH_HDR || hpi_get32(buf) != HPJ_BATCH_MAGIC)
		return 0;
	plen = hpi_get32(buf + 4);
	nrec = hpi_get32(buf + 16);
	if (plen > HPJ_BATCH_MAX || nrec == 0 || nrec > plen / HPJ_REC_HDR || hpi_get64(buf + 8) != expect_seq ||
	    avail - HPJ_BATCH_HDR < plen)
		return 0;
	if (hpi_crc32(hpi_crc32(0, buf, 20), buf + HPJ_BATCH_HDR, plen) != hpi_get32(buf + 20))
		return 0;
	for (pos = HPJ_BATCH_HDR; pos < HPJ_BATCH_HDR + (size_t)plen; n++) {
		const uint8_t *r = buf + pos;
		uint32_t blen;

		if (HPJ_BATCH_HDR + (size_t)plen - pos < HPJ_REC_HDR)
			return 0;
		blen = hpi_get32(r + 1);
		if (blen > HPJ_BATCH_HDR + (size_t)plen - pos - HPJ_REC_HDR ||
		    hpi_rec_check(r[0], r + HPJ_REC_HDR, blen))
			return 0;
		pos += HPJ_REC_HDR + blen;
	}
	if (n != nrec)
		return 0;
	*size = HPJ_BATCH_HDR + (size_t)plen;
	return 1;
}
