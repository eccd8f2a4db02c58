/* Small helpers of the supervisor. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "sandbox.h"

char *
sup_path(const struct sup *s, const char *rel)
{
	return xprintf("%s/%s", s->dir, rel);
}

/* Exactly `mode`, whatever the umask: agents read some of these. */
int
sup_mkdir(const char *path, mode_t mode, struct os_error *err)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return os_error_set(err, -errno, "mkdir %s: %s", path, strerror(errno));
	if (chmod(path, mode) < 0)
		return os_error_set(err, -errno, "chmod %s: %s", path, strerror(errno));
	return 0;
}
