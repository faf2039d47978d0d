/* Minimal assertions for HProbe's C unit tests (run by CTest). Each failing check
 * prints file:line and the expression, and the test exits non-zero at the end. */
#ifndef HP_TEST_H
#define HP_TEST_H
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hp_test_failures;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
			hp_test_failures++;                                                      \
		}                                                                                \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                                             \
	do {                                                                                                           \
		long long _a = (long long)(a), _b = (long long)(b);                                                    \
		if (_a != _b) {                                                                                        \
			fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b, _a, _b); \
			hp_test_failures++;                                                                            \
		}                                                                                                      \
	} while (0)

#define CHECK_EQ_U64(a, b)                                                                                    \
	do {                                                                                                  \
		uint64_t _a = (uint64_t)(a), _b = (uint64_t)(b);                                              \
		if (_a != _b) {                                                                               \
			fprintf(stderr, "%s:%d: %s == %s failed: 0x%" PRIx64 " != 0x%" PRIx64 "\n", __FILE__, \
				__LINE__, #a, #b, _a, _b);                                                    \
			hp_test_failures++;                                                                   \
		}                                                                                             \
	} while (0)

#define CHECK_STR(a, b)                                                                                           \
	do {                                                                                                      \
		const char *_a = (a), *_b = (b);                                                                  \
		if (!_a || !_b || strcmp(_a, _b) != 0) {                                                          \
			fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, #b, \
				_a ? _a : "(null)", _b ? _b : "(null)");                                          \
			hp_test_failures++;                                                                       \
		}                                                                                                 \
	} while (0)

/* A check whose failure makes the rest of the test meaningless. */
#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond); \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

#define TEST_MAIN_END()                                                            \
	do {                                                                       \
		if (hp_test_failures) {                                            \
			fprintf(stderr, "%d check(s) failed\n", hp_test_failures); \
			return 1;                                                  \
		}                                                                  \
		printf("all checks passed\n");                                     \
		return 0;                                                          \
	} while (0)
#endif
