/*
 * The supervisor's claim on its sandbox: <dir>/supervisor.lock, locked
 * (flock) for the supervisor's whole life and holding its pid. A gateway
 * that was killed after starting a supervisor but before recording its
 * pid finds it here when it starts again (gw-driver-local.c) and adopts
 * it, instead of leaving it running unknown; and a second supervisor for
 * the same sandbox refuses to start.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "sandbox.h"

int
sup_lock_take(struct sup *s, struct os_error *err)
{
	char	*path, pid[24], held[24];
	ssize_t	 n;
	int	 fd, len, rc = 0;

	path = xprintf("%s/supervisor.lock", s->dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = os_error_set(err, -errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	/* Above the fds the sandbox's init keeps (stdio, and 3: see
	 * sup-zygote.c), so that only this process holds the lock. */
	if (fd < 4) {
		int	high = fcntl(fd, F_DUPFD_CLOEXEC, 4);

		close(fd);
		if ((fd = high) < 0) {
			rc = os_error_set(err, -errno, "%s: %s", path,
			    strerror(errno));
			goto out;
		}
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rc = -errno;
		if (errno == EWOULDBLOCK) {
			n = pread(fd, held, sizeof held - 1, 0);
			held[n > 0 ? n : 0] = '\0';
			held[strcspn(held, "\n")] = '\0';
			os_error_set(err, -EBUSY,
			    _("another supervisor (pid %s) already runs this sandbox (%s is locked)"),
			    held[0] != '\0' ? held : "?", path);
			rc = -EBUSY;
		} else
			os_error_set(err, rc, _("%s: cannot lock: %s"), path,
			    strerror(-rc));
		close(fd);
		goto out;
	}
	/* The pid goes in after the lock: a reader that finds the lock held
	 * and the file empty waits a moment (gw-driver-local.c). */
	len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
		rc = os_error_set(err, -errno, "%s: %s", path, strerror(errno));
		close(fd);
		goto out;
	}
	s->lock_fd = fd;       /* released when this process ends */
out:
	free(path);
	return rc;
}
