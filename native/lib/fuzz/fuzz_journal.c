/* Fuzzes the journal reader over arbitrary bytes. Inputs starting with 'P' are
 * wrapped into a valid header and one batch with a correct CRC, so mutations
 * reach the record validation and decoding behind the checksum. */
#include <stdint.h>
#include <stdlib.h>

#include "hprobe/export.h"
#include "journal_int.h"

#define ASSERT(c)                         \
	do {                              \
		if (!(c))                 \
			__builtin_trap(); \
	} while (0)

static void drive(const uint8_t *img, size_t len)
{
	struct hp_journal_reader *r = NULL;
	struct hp_record rec;
	uint64_t n = 0, valid;
	int rc;

	if (hp_journal__open_mem(img, len, &r, NULL) < 0) {
		ASSERT(r == NULL);
		return;
	}
	while ((rc = hp_journal__next(r, &rec, NULL)) == 1 && n < 100000) {
		char esc[HP_COMM_ESC_MAX];

		ASSERT(rec.seq >= n);
		n = rec.seq + 1;
		if (rec.type == HP_REC_HIT) {
			ASSERT(rec.u.hit.nargs <= HP_MAX_ARGS && rec.u.hit.memlen <= HP_MAX_MEM);
			hp_export__escape(rec.u.hit.comm, strnlen(rec.u.hit.comm, HP_COMM_LEN), esc, sizeof(esc));
			for (const char *p = esc; *p; p++)
				ASSERT((unsigned char)*p >= 0x20 && *p != 0x7f);
		}
		if (rec.json)
			ASSERT(strlen(rec.json) == rec.json_len);
	}
	ASSERT(rc >= 0);
	hp_journal__truncated(r, &valid);
	ASSERT(valid <= len);
	hp_journal__seek(r, 0, NULL);
	hp_journal__next(r, &rec, NULL);
	hp_journal__seek(r, n / 2, NULL);
	if (hp_journal__next(r, &rec, NULL) == 1)
		ASSERT(rec.seq >= n / 2);
	hp_journal__seek(r, UINT64_MAX, NULL);
	ASSERT(hp_journal__next(r, &rec, NULL) == 0);
	hp_journal__close_reader(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= 2 && data[0] == 'P' && size < (1u << 20)) {
		size_t plen = size - 2, len = HPJ_HEADER_LEN + HPJ_BATCH_HDR + plen;
		uint8_t *img = malloc(len), *b = img + HPJ_HEADER_LEN;

		if (!img)
			return 0;
		hpi_header_encode(img, NULL);
		memcpy(b + HPJ_BATCH_HDR, data + 2, plen);
		hpi_put32(b, HPJ_BATCH_MAGIC);
		hpi_put32(b + 4, (uint32_t)plen);
		hpi_put64(b + 8, 0);
		hpi_put32(b + 16, data[1] ? data[1] : 1u);
		hpi_put32(b + 20, hpi_crc32(hpi_crc32(0, b, 20), b + HPJ_BATCH_HDR, plen));
		drive(img, len);
		free(img);
		return 0;
	}
	drive(data, size);
	return 0;
}
