/* A connected protocol client, owned by the main thread. */
#ifndef HP_CLIENT_H
#define HP_CLIENT_H
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include "base/errors.h"
#include "base/strbuf.h"

#define HP_MAX_FRAME (1u << 20)
/* Live hits stop above this many queued bytes; the client then catches up from the
 * journal, which is lossless, so a deep live queue would only cost memory. */
#define HP_CLIENT_OUT_HIGH (1u << 20)
#define HP_CLIENT_OUT_CATCHUP (256u << 10) /* a journal slice is queued only below this */
#define HP_CLIENT_OUT_MAX (64u << 20)      /* a client that lets this much pile up is dropped */

struct hp_journal_reader;

struct hp_sub {
	uint32_t vm_id;
	uint64_t next_seq;                /* the next journal record this client needs */
	struct hp_journal_reader *reader; /* catching up from the journal */
	int lag_reported;
	struct hp_sub *next;
};

struct hp_client {
	uint64_t id;
	int fd;
	uid_t uid;
	char in[HP_MAX_FRAME + 1];
	size_t in_len;
	int discarding; /* inside an oversized frame */
	struct hp_strbuf out;
	size_t out_off;
	int events; /* events-subscribe */
	struct hp_sub *subs;
	int closing;
	struct hp_client *next;
};

struct hp_agent;
void hp_client__send(struct hp_agent *a, struct hp_client *c, const char *line, size_t len);
/* Sends a reply/error for request id (not stolen). */
void hp_client__reply(struct hp_agent *a, struct hp_client *c, json_t *id, json_t *ret);
void hp_client__error(struct hp_agent *a, struct hp_client *c, json_t *id, enum hp_eclass cls, const char *desc,
		      json_t *data);
struct hp_client *hp_client__find(struct hp_agent *a, uint64_t id);
#endif
