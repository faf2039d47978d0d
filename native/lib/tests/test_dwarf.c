/* Parameters and return types from DWARF: this test's own function (built with -g),
 * every class of hp_param, typedefs resolved, "..." not a parameter; no such
 * function, a file without DWARF and a closed fd refused. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <unistd.h>

#include "hp_test.h"
#include "hprobe/dwarf.h"

struct point {
	int x, y;
};
enum color { RED, GREEN };
typedef unsigned short port_t;

/* The one the test reads: noinline and used, so it has its own DIE with parameters. */
__attribute__((noinline, used)) long probe_me(int fd, const char *name, unsigned long n, struct point *pt, size_t len,
					      enum color c, char **argv, port_t port)
{
	return fd + (long)n + (long)len + (long)c + (name ? 1 : 0) + (pt ? pt->x : 0) + (argv ? 1 : 0) + port;
}

__attribute__((noinline, used)) void probe_void(const volatile int *p, ...)
{
	(void)p;
}

int main(void)
{
	struct hp_err err = { { 0 } };
	struct hp_param ps[8], ret;
	int fd = open("/proc/self/exe", O_RDONLY);

	REQUIRE(fd >= 0);
	CHECK_EQ_INT(hp_dwarf__func_proto(fd, "probe_me", ps, 6, &err), 8); /* 8 parameters, 6 filled */
	CHECK_STR(ps[0].name, "fd");
	CHECK_STR(ps[0].type, "int");
	CHECK_EQ_INT(ps[0].cls, HP_PARAM_INT);
	CHECK_EQ_INT(ps[0].size, 4);
	CHECK_STR(ps[1].name, "name");
	CHECK_STR(ps[1].type, "const char *");
	CHECK_EQ_INT(ps[1].cls, HP_PARAM_STR);
	CHECK_STR(ps[2].type, "long unsigned int");
	CHECK_EQ_INT(ps[2].cls, HP_PARAM_UINT);
	CHECK_EQ_INT(ps[2].size, 8);
	CHECK_STR(ps[3].type, "struct point *");
	CHECK_EQ_INT(ps[3].cls, HP_PARAM_PTR);
	CHECK_STR(ps[4].type, "size_t"); /* a typedef: its name, read as what it is */
	CHECK_EQ_INT(ps[4].cls, HP_PARAM_UINT);
	CHECK_EQ_INT(ps[4].size, 8);
	CHECK_STR(ps[5].type, "enum color");
	CHECK_EQ_INT(ps[5].cls, HP_PARAM_UINT);
	CHECK_EQ_INT(ps[5].size, 4);
	CHECK_EQ_INT(hp_dwarf__func_proto(fd, "probe_me", ps, 8, &err), 8);
	CHECK_STR(ps[6].type, "char **");
	CHECK_EQ_INT(ps[6].cls, HP_PARAM_PTR);
	CHECK_STR(ps[7].type, "port_t");
	CHECK_EQ_INT(ps[7].cls, HP_PARAM_UINT);
	CHECK_EQ_INT(ps[7].size, 2);
	CHECK_EQ_INT(hp_dwarf__func_ret(fd, "probe_me", &ret, &err), 0);
	CHECK_STR(ret.name, "return");
	CHECK_STR(ret.type, "long int");
	CHECK_EQ_INT(ret.cls, HP_PARAM_INT);

	CHECK_EQ_INT(hp_dwarf__func_proto(fd, "probe_void", ps, 8, &err), 1); /* "..." is not one */
	CHECK_STR(ps[0].type, "volatile const int *");                        /* as gcc nests them: valid C */
	CHECK_EQ_INT(ps[0].cls, HP_PARAM_PTR);
	CHECK_EQ_INT(hp_dwarf__func_ret(fd, "probe_void", &ret, &err), 0);
	CHECK_STR(ret.type, "void");
	CHECK_EQ_INT(ret.cls, HP_PARAM_RAW);

	CHECK_EQ_INT(hp_dwarf__func_proto(fd, "no_such_function", ps, 8, &err), -ENOENT);
	CHECK_STR(err.msg, "dwarf: no function no_such_function");
	CHECK_EQ_INT(hp_dwarf__func_proto(fd, "", ps, 8, &err), -EINVAL);
	close(fd);
	fd = open("/dev/null", O_RDONLY);
	CHECK_EQ_INT(hp_dwarf__func_proto(fd, "probe_me", ps, 8, &err), -ENOENT); /* no ELF, no DWARF */
	close(fd);
	CHECK_EQ_INT(hp_dwarf__func_proto(-1, "probe_me", ps, 8, &err), -ENOENT);
	TEST_MAIN_END();
}
