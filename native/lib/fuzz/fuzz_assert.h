/* The harnesses' own checks: a failed one traps, which libFuzzer reports as a crash
 * and keeps the input of. */
#ifndef HP_FUZZ_ASSERT_H
#define HP_FUZZ_ASSERT_H
#define ASSERT(c)                         \
	do {                              \
		if (!(c))                 \
			__builtin_trap(); \
	} while (0)
#endif
