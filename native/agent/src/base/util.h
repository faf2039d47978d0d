/* Small helpers shared by the agent's modules. */
#ifndef HP_UTIL_H
#define HP_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

static inline uint64_t hp_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* snprintf into a path buffer; -ENAMETOOLONG instead of a silently cut path. */
int hp_pathf(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Brent's cycle check for a linked list in guest memory: a guest can close a list on
 * itself away from its head, which a walk would otherwise follow to its bound with
 * the VM stopped. Start with saved = the head; hp_cycle__seen(c, next) after each
 * step is 1 when next was seen before. */
struct hp_cycle {
	uint64_t saved;
	size_t power, lam;
};

static inline struct hp_cycle hp_cycle__start(uint64_t head)
{
	return (struct hp_cycle){ head, 1, 0 };
}

static inline int hp_cycle__seen(struct hp_cycle *c, uint64_t next)
{
	if (next == c->saved)
		return 1;
	if (++c->lam == c->power) {
		c->saved = next;
		c->power *= 2;
		c->lam = 0;
	}
	return 0;
}

enum hp_log_level { HP_LOG_ERROR, HP_LOG_WARN, HP_LOG_INFO, HP_LOG_DEBUG };
void hp_log_set_level(enum hp_log_level lvl);
void hp_log(enum hp_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define hp_error(...) hp_log(HP_LOG_ERROR, __VA_ARGS__)
#define hp_warn(...) hp_log(HP_LOG_WARN, __VA_ARGS__)
#define hp_info(...) hp_log(HP_LOG_INFO, __VA_ARGS__)
#define hp_debug(...) hp_log(HP_LOG_DEBUG, __VA_ARGS__)
#endif
