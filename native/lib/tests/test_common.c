/* hp_err__set formats and negates; hp_version is the project version. */
#include <errno.h>

#include "hp_test.h"
#include "hprobe/common.h"

int main(void)
{
	struct hp_err err = { { 0 } };
	char longmsg[600];

	CHECK_EQ_INT(hp_err__set(&err, ENOENT, "no %s %d", "thing", 7), -ENOENT);
	CHECK_STR(err.msg, "no thing 7");
	CHECK_EQ_INT(hp_err__set(NULL, EIO, "ignored"), -EIO);
	CHECK_EQ_INT(hp_err__set(&err, -EPERM, "negative in"), -EPERM);
	/* an error path can never turn into success */
	CHECK_EQ_INT(hp_err__set(&err, 0, "zero"), -EINVAL);
	memset(longmsg, 'x', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	hp_err__set(&err, E2BIG, "%s", longmsg);
	CHECK_EQ_INT(strlen(err.msg), HP_ERR_MAX - 1);
	CHECK(hp_version() && strchr(hp_version(), '.'));
	TEST_MAIN_END();
}
