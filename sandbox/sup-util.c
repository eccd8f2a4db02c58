/* Small helpers of the supervisor. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* A file the sandbox reads: mode 0644 whatever the umask, all or error. */
int
sup_write_file(const char *path, const void *data, size_t len,
    struct os_error *err)
{
	int	fd, rc = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || fchmod(fd, 0644) < 0 ||
	    write(fd, data, len) != (ssize_t)len)
		rc = os_error_set(err, -errno, "%s: %s", path, strerror(errno));
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = os_error_set(err, -errno, "%s: %s", path, strerror(errno));
	return rc;
}

int64_t
sup_backoff_next(int64_t ms, int64_t max)
{
	return ms * 2 > max ? max : ms * 2;
}
