/* The journal harnesses' way past the checksums: an input starting with 'P' becomes a
 * valid header and one batch (its count from the next byte) with a correct CRC around
 * the rest, so mutations reach record validation and decoding. */
#ifndef HP_FUZZ_JOURNAL_IMG_H
#define HP_FUZZ_JOURNAL_IMG_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "journal_int.h"

/* A malloc'd image of *len bytes for a 'P' input; NULL for any other (use it as is). */
static inline uint8_t *fuzz_journal_img(const uint8_t *data, size_t size, size_t *len)
{
	if (size < 2 || data[0] != 'P' || size >= (1u << 20))
		return NULL;
	size_t plen = size - 2;
	*len = HPJ_HEADER_LEN + HPJ_BATCH_HDR + plen;
	uint8_t *img = malloc(*len);
	if (!img)
		return NULL;
	uint8_t *b = img + HPJ_HEADER_LEN;
	hpi_header_encode(img, NULL, NULL);
	memcpy(b + HPJ_BATCH_HDR, data + 2, plen);
	hpi_put32(b, HPJ_BATCH_MAGIC);
	hpi_put32(b + 4, (uint32_t)plen);
	hpi_put64(b + 8, 0);
	hpi_put32(b + 16, data[1] ? data[1] : 1u);
	hpi_put32(b + 20, hpi_crc32(hpi_crc32(0, b, 20), b + HPJ_BATCH_HDR, plen));
	return img;
}

/* A harness's entry: drive() on the image of a 'P' input, on any other as it is. */
static inline void fuzz_journal_run(const uint8_t *data, size_t size, void (*drive)(const uint8_t *img, size_t len))
{
	size_t len;
	uint8_t *img = fuzz_journal_img(data, size, &len);
	if (img) {
		drive(img, len);
		free(img);
	} else {
		drive(data, size);
	}
}
#endif
