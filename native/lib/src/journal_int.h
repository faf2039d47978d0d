/* The on-disk journal format (docs/journal.md), shared by the writer and reader. */
#ifndef HPROBE_JOURNAL_INT_H
#define HPROBE_JOURNAL_INT_H
#include <string.h>

#include "hprobe/journal.h"

#define HPJ_MAGIC "\x89HPJ\r\n\x1a\n" /* 8 bytes, PNG-style: catches text-mode damage */
#define HPJ_HEADER_LEN 320            /* the header written now, CRC included (boot_id since 304) */
#define HPJ_HEADER_MIN 304            /* the first version 1 header: read, without a boot id */
#define HPJ_HEADER_MAX 65536          /* a later minor revision may grow the header */
#define HPJ_BATCH_MAGIC 0x31425048u   /* "HPB1" */
#define HPJ_BATCH_HDR 24
#define HPJ_BATCH_MAX ((uint32_t)16 << 20) /* payload bytes; readers refuse more */
#define HPJ_REC_HDR 5                      /* u8 type + u32 body length */
#define HPJ_JSON_MAX ((uint32_t)1 << 20)   /* JSON text bytes per record */
#define HPJ_HIT_FIXED 48                   /* hit body without the variable parts */
#define HPJ_HIT_RET_EXTRA 16               /* HIT_RET: retval and latency_ns after the HIT body */
#define HPJ_DROPPED_LEN 20
#define HPJ_COUNT_LEN 32

/* Header field offsets. */
#define HPJ_H_VERSION 8
#define HPJ_H_HLEN 10
#define HPJ_H_FLAGS 12
#define HPJ_H_CREATED 16
#define HPJ_H_MONO 24
#define HPJ_H_SESSION 32
#define HPJ_H_VM 96
#define HPJ_H_KERNEL 160
#define HPJ_H_BOOT_ID 288 /* the host's boot id (16 bytes): time_ns is this boot's CLOCK_MONOTONIC */

static inline void hpi_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void hpi_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}
static inline void hpi_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}
static inline uint16_t hpi_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t hpi_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t hpi_get64(const uint8_t *p)
{
	return hpi_get32(p) | (uint64_t)hpi_get32(p + 4) << 32;
}

/* Record bodies. hit_len is the encoded body size (a return hit's included, whose
 * record type is hpi_hit_type); encoders return the end. */
uint8_t hpi_hit_type(const struct hp_hit *h);
size_t hpi_hit_len(const struct hp_hit *h);
uint8_t *hpi_enc_hit(uint8_t *p, const struct hp_hit *h);
uint8_t *hpi_enc_dropped(uint8_t *p, const struct hp_dropped *d);
uint8_t *hpi_enc_count(uint8_t *p, const struct hp_count *c);
/* 0 if the body of a record of this type is well formed (unknown types always are). */
int hpi_rec_check(uint8_t type, const uint8_t *body, uint32_t len);
/* Decodes a checked body; JSON text is left at body + 8 (not NUL-terminated). */
void hpi_rec_decode(uint8_t type, const uint8_t *body, uint32_t len, struct hp_record *rec);

/* Header encode/decode. decode returns 0 or -EBADMSG / -EPROTONOSUPPORT with err set. */
void hpi_header_encode(uint8_t out[HPJ_HEADER_LEN], const struct hp_journal_meta *meta, const uint8_t *boot_id);
/* The boot id the reader's header gives (16 bytes, zeros when none). */
const uint8_t *hpi_reader_boot_id(const struct hp_journal_reader *r);
/* This host's boot id (/proc/sys/kernel/random/boot_id) in 16 bytes; 0 if unreadable. */
int hpi_boot_id(uint8_t out[16]);
/* boot_id (may be NULL) gets the header's, or zeros from a header that has none. */
int hpi_header_decode(const uint8_t *buf, size_t len, struct hp_journal_meta *meta, uint32_t *header_len,
		      uint8_t *boot_id, struct hp_err *err);

uint32_t hpi_crc32(uint32_t crc, const void *buf, size_t len);

/* Validates a whole batch (header, CRC, record structure) at buf[0, avail).
 * Returns 1 and the batch size in *size if valid, 0 if truncated or corrupt. */
int hpi_batch_check(const uint8_t *buf, size_t avail, uint64_t expect_seq, size_t *size);

/* A damaged region a reader stepped over: [off, off + len) held no valid batch, and
 * the records seq..next_seq - 1 were lost with it. reported: a JOURNAL_GAP event
 * about it is in the journal already (seen by hpi_reader_scan_end). */
struct hpi_gap {
	uint64_t off, len, seq, next_seq;
	int reported;
};
#define HPI_MAX_GAPS 16
/* The gaps this reader stepped over so far (the first HPI_MAX_GAPS). */
size_t hpi_reader_gaps(const struct hp_journal_reader *r, const struct hpi_gap **gaps);

/* Reads every batch from the start, over gaps; returns the end of the last valid
 * batch and the seq that follows it (used by append mode), and notes which gaps a
 * JOURNAL_GAP event reports already. */
int hpi_reader_scan_end(struct hp_journal_reader *r, uint64_t *valid_end, uint64_t *next_seq, struct hp_err *err);

#endif
