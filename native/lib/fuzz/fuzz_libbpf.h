/* libbpf logs every BTF it refuses: the harnesses that feed it any bytes keep it quiet. */
#ifndef HP_FUZZ_LIBBPF_H
#define HP_FUZZ_LIBBPF_H
#include <bpf/libbpf.h>
#include <stdarg.h>

static int fuzz_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static inline void fuzz_quiet_libbpf(void)
{
	libbpf_set_print(fuzz_libbpf_print);
}
#endif
