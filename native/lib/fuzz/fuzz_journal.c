/* Fuzzes the journal reader over arbitrary bytes ('P' inputs: fuzz_journal_img.h). */
#include <stdint.h>
#include <stdlib.h>

#include "hprobe/export.h"
#include "fuzz_journal_img.h"

#include "fuzz_assert.h"

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
	fuzz_journal_run(data, size, drive);
	return 0;
}
