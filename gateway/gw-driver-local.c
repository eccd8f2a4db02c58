/*
 * The local driver: one openshell-sandbox supervisor process per sandbox
 * on this machine. The sandbox id and token reach the supervisor through
 * an inherited pipe (never argv or the environment, which other users can
 * read in /proc). Supervisors run in their own session, so they outlive a
 * gateway restart; a restarted gateway re-attaches to them with a pidfd.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gateway.h"

struct local_stop {
	void	(*done)(struct gw *, const char *, void *);
	void	*arg;
};

struct local_sup {
	TAILQ_ENTRY(local_sup)	 entry;
	struct gw		*gw;
	char			*id;
	int			 pid;
	bool			 child;        /* spawned by this gateway */
	uv_process_t		 proc;
	uv_poll_t		 poll;         /* adopted: pidfd */
	int			 pidfd;
	uv_timer_t		 kill_timer;
	bool			 timer_live;
	struct local_stop	*stops;
	size_t			 nstops;
	bool			 exited;
};

struct local_state {
	TAILQ_HEAD(, local_sup)	 sups;
};

static struct local_state *
local_state(struct gw *gw)
{
	return gw->driver_state;
}

static struct local_sup *
local_find(struct gw *gw, const char *id)
{
	struct local_sup	*s;

	TAILQ_FOREACH(s, &local_state(gw)->sups, entry) {
		if (strcmp(s->id, id) == 0 && !s->exited)
			return s;
	}
	return NULL;
}

static char *
local_dir(struct gw *gw, const char *id)
{
	return xprintf("%s/%s", gw->sandboxes_dir, id);
}

/*
 * Fields 3 (state: 'Z' for a zombie) and 22 (start time: tells a reused
 * pid from the original) of /proc/<pid>/stat, from one read; false, with
 * both zero, when there is no such process.
 */
static bool
local_stat(int pid, char *state, uint64_t *start)
{
	char			 path[64], buf[1024], *p;
	unsigned long long	 v = 0;
	ssize_t			 n;
	int			 fd, field;

	*state = 0;
	*start = 0;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip past the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return false;
	*state = p[2];
	for (field = 2; *p != '\0' && field < 22; p++) {
		if (*p == ' ')
			field++;
	}
	sscanf(p, "%llu", &v);
	*start = v;
	return true;
}

static uint64_t
local_start_time(int pid)
{
	uint64_t	start;
	char		state;

	local_stat(pid, &state, &start);
	return start;
}

static char *
local_find_supervisor(void)
{
	char		 self[PATH_MAX], *slash, *path;
	const char	*e;
	ssize_t		 n;

	if ((e = getenv("OPENSHELL_SANDBOX_BIN")) != NULL && *e != '\0')
		return xstrdup(e);
	/* Next to the gateway first: a build tree works without installing. */
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			path = xprintf("%s/openshell-sandbox", self);
			if (access(path, X_OK) == 0)
				return path;
			free(path);
		}
	}
	return xstrdup(BINDIR "/openshell-sandbox");
}

static int
local_init(struct gw *gw, struct os_error *err)
{
	struct local_state	*st;

	st = xcalloc(1, sizeof *st);
	TAILQ_INIT(&st->sups);
	gw->driver_state = st;
	gw->supervisor_path = local_find_supervisor();
	if (access(gw->supervisor_path, X_OK) != 0)
		log_warn("supervisor binary %s is not executable; sandboxes will "
		    "fail to start", gw->supervisor_path);
	return 0;
}

static void
local_sup_free(uv_handle_t *h)
{
	struct local_sup	*s = h->data;

	free(s->stops);
	free(s->id);
	free(s);
}

static void
local_timer_closed(uv_handle_t *h)
{
	struct local_sup	*s = h->data;

	s->timer_live = false;
	if (s->exited) {
		if (s->child)
			uv_close((uv_handle_t *)&s->proc, local_sup_free);
		else
			uv_close((uv_handle_t *)&s->poll, local_sup_free);
	}
}

static void
local_exited(struct local_sup *s, int code, int sig)
{
	struct gw	*gw = s->gw;
	size_t		 i;

	if (s->exited)
		return;
	s->exited = true;
	TAILQ_REMOVE(&local_state(gw)->sups, s, entry);
	if (!s->child && s->pidfd >= 0)
		uv_poll_stop(&s->poll);
	gw_sandbox_exited(gw, s->id, code, sig);
	for (i = 0; i < s->nstops; i++)
		s->stops[i].done(gw, s->id, s->stops[i].arg);
	s->nstops = 0;
	if (s->timer_live) {
		uv_timer_stop(&s->kill_timer);
		uv_close((uv_handle_t *)&s->kill_timer, local_timer_closed);
		return;
	}
	if (s->child)
		uv_close((uv_handle_t *)&s->proc, local_sup_free);
	else
		uv_close((uv_handle_t *)&s->poll, local_sup_free);
}

static void
local_on_exit(uv_process_t *p, int64_t status, int sig)
{
	struct local_sup	*s = p->data;

	log_info("supervisor %d of sandbox %s exited (status %d%s%d)", s->pid, s->id,
	    (int)status, sig ? ", signal " : "", sig);
	local_exited(s, (int)status, sig);
}

static void
local_on_pidfd(uv_poll_t *h, int status, int events)
{
	struct local_sup	*s = h->data;

	/* Not our child: the exit status went to our predecessor. */
	log_info("adopted supervisor %d of sandbox %s exited", s->pid, s->id);
	close(s->pidfd);
	s->pidfd = -1;
	local_exited(s, -1, 0);
}

static int
local_create(struct gw *gw, struct store_sandbox *sb, const char *token,
    struct os_error *err)
{
	uv_process_options_t	 o;
	uv_stdio_container_t	 stdio[4];
	struct local_sup	*s;
	char			*dir, *logpath, *secret, *target, *args[10];
	int			 p[2], logfd, rc;
	ssize_t			 n;

	dir = local_dir(gw, sb->id);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		os_error_set(err, -errno, "mkdir %s: %s", dir, strerror(errno));
		free(dir);
		return err->code;
	}
	logpath = xprintf("%s/supervisor.log", dir);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	free(logpath);
	if (logfd < 0 || pipe2(p, O_CLOEXEC) < 0) {
		os_error_set(err, -errno, "cannot set up the supervisor: %s",
		    strerror(errno));
		if (logfd >= 0)
			close(logfd);
		free(dir);
		return err->code;
	}
	/* The secret fits the pipe buffer: write it before the child reads. */
	secret = xprintf("%s\n%s\n", sb->id, token);
	n = write(p[1], secret, strlen(secret));
	explicit_bzero(secret, strlen(secret));
	free(secret);
	close(p[1]);
	if (n < 0) {
		os_error_set(err, -errno, "write: %s", strerror(errno));
		close(p[0]);
		close(logfd);
		free(dir);
		return err->code;
	}

	target = xprintf("unix:%s", gw->socket_path);
	args[0] = (char *)"openshell-sandbox";
	args[1] = (char *)"--gateway";
	args[2] = target;
	args[3] = (char *)"--dir";
	args[4] = dir;
	args[5] = (char *)"--secret-fd";
	args[6] = (char *)"3";
	args[7] = (char *)"--name";
	args[8] = sb->name;
	args[9] = NULL;
	memset(stdio, 0, sizeof stdio);
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_INHERIT_FD;
	stdio[1].data.fd = logfd;
	stdio[2].flags = UV_INHERIT_FD;
	stdio[2].data.fd = logfd;
	stdio[3].flags = UV_INHERIT_FD;
	stdio[3].data.fd = p[0];
	memset(&o, 0, sizeof o);
	o.file = gw->supervisor_path;
	o.args = args;
	o.stdio = stdio;
	o.stdio_count = 4;
	o.exit_cb = local_on_exit;
	/* Its own session: a gateway restart must not take sandboxes down. */
	o.flags = UV_PROCESS_DETACHED;

	s = xcalloc(1, sizeof *s);
	s->gw = gw;
	s->id = xstrdup(sb->id);
	s->child = true;
	s->pidfd = -1;
	s->proc.data = s;
	rc = uv_spawn(gw->uv, &s->proc, &o);
	close(p[0]);
	close(logfd);
	free(target);
	free(dir);
	if (rc != 0) {
		os_error_set(err, rc, "cannot run %s: %s", gw->supervisor_path,
		    uv_strerror(rc));
		free(s->id);
		free(s);
		return err->code;
	}
	s->pid = s->proc.pid;
	TAILQ_INSERT_TAIL(&local_state(gw)->sups, s, entry);
	sb->supervisor_pid = s->pid;
	sb->supervisor_start = local_start_time(s->pid);
	log_info("sandbox %s: supervisor started (pid %d)", sb->name, s->pid);
	return 0;
}

static void
local_kill_timeout(uv_timer_t *t)
{
	struct local_sup	*s = t->data;

	log_warn("supervisor %d of sandbox %s ignored SIGTERM; killing it",
	    s->pid, s->id);
	kill(s->pid, SIGKILL);
}

static void
local_stop(struct gw *gw, const char *id, int grace_ms,
    void (*done)(struct gw *, const char *, void *), void *arg)
{
	struct local_sup	*s;

	if ((s = local_find(gw, id)) == NULL) {
		done(gw, id, arg);
		return;
	}
	s->stops = xreallocarray(s->stops, s->nstops + 1, sizeof *s->stops);
	s->stops[s->nstops].done = done;
	s->stops[s->nstops].arg = arg;
	s->nstops++;
	if (kill(s->pid, SIGTERM) < 0 && errno == ESRCH) {
		local_exited(s, -1, 0);
		return;
	}
	if (!s->timer_live) {
		uv_timer_init(gw->uv, &s->kill_timer);
		s->kill_timer.data = s;
		s->timer_live = true;
		uv_timer_start(&s->kill_timer, local_kill_timeout, (uint64_t)grace_ms, 0);
	}
}

/* The recorded supervisor is still that process, and alive. */
static bool
local_alive(const struct store_sandbox *sb)
{
	uint64_t	start;
	char		state;

	if (sb->supervisor_pid <= 0 ||
	    !local_stat(sb->supervisor_pid, &state, &start))
		return false;
	if (sb->supervisor_start != 0 && start != sb->supervisor_start)
		return false;       /* gone, and the pid was reused */
	/* Dead already, waiting for init to reap it: gone as well. */
	return state != 'Z' && state != 'X';
}

/*
 * The pid in <dir>/supervisor.lock while a supervisor holds the lock
 * (sandbox/sup-lock.c), else 0. This finds a supervisor whose pid was
 * never recorded: the gateway was killed between starting it and
 * storing the pid.
 */
static int
local_lock_holder(struct gw *gw, const char *id)
{
	char	*dir = local_dir(gw, id), *path, buf[24];
	ssize_t	 n;
	int	 fd, pid = 0, tries;

	path = xprintf("%s/supervisor.lock", dir);
	free(dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	if (fd < 0)
		return 0;
	/* The supervisor locks, then writes its pid: an empty file under a
	 * held lock is worth a few short waits. */
	for (tries = 0; tries < 50 && pid == 0; tries++) {
		if (flock(fd, LOCK_SH | LOCK_NB) == 0)
			break;                  /* nobody holds it */
		if (errno != EWOULDBLOCK)
			break;
		n = pread(fd, buf, sizeof buf - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		pid = atoi(buf);
		if (pid <= 0) {
			pid = 0;
			usleep(2000);
		}
	}
	close(fd);
	return pid;
}

static bool
local_adopt(struct gw *gw, struct store_sandbox *sb)
{
	struct local_sup	*s;
	int			 fd, pid;

	if (local_find(gw, sb->id) != NULL)
		return false;
	if (!local_alive(sb)) {
		if ((pid = local_lock_holder(gw, sb->id)) <= 0)
			return false;
		sb->supervisor_pid = pid;
		sb->supervisor_start = local_start_time(pid);
		if (!local_alive(sb))
			return false;
	}
	if ((fd = (int)syscall(SYS_pidfd_open, sb->supervisor_pid, 0)) < 0)
		return false;
	s = xcalloc(1, sizeof *s);
	s->gw = gw;
	s->id = xstrdup(sb->id);
	s->pid = sb->supervisor_pid;
	s->pidfd = fd;
	s->poll.data = s;
	if (uv_poll_init(gw->uv, &s->poll, fd) != 0) {
		close(fd);
		free(s->id);
		free(s);
		return false;
	}
	uv_poll_start(&s->poll, UV_READABLE, local_on_pidfd);
	TAILQ_INSERT_TAIL(&local_state(gw)->sups, s, entry);
	return true;
}

static char *
local_exec_target(struct gw *gw, const char *id)
{
	return xprintf("unix:%s/%s/exec.sock", gw->sandboxes_dir, id);
}

static int
local_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (remove(path) < 0 && errno != ENOENT)
		log_warn("cannot remove %s: %s", path, strerror(errno));
	return 0;
}

static void
local_cleanup(struct gw *gw, const char *id)
{
	char	*dir;

	dir = local_dir(gw, id);
	nftw(dir, local_rm, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	free(dir);
}

static void
local_shutdown(struct gw *gw)
{
	struct local_sup	*s;

	/* Supervisors keep running: stop watching them, nothing more, except
	 * those being deleted, which must not outlive their rows. */
	while ((s = TAILQ_FIRST(&local_state(gw)->sups)) != NULL) {
		size_t i;

		TAILQ_REMOVE(&local_state(gw)->sups, s, entry);
		s->exited = true;
		if (s->nstops > 0)
			kill(s->pid, SIGKILL);
		for (i = 0; i < s->nstops; i++)
			s->stops[i].done(gw, s->id, s->stops[i].arg);
		s->nstops = 0;
		if (s->timer_live) {
			uv_timer_stop(&s->kill_timer);
			uv_close((uv_handle_t *)&s->kill_timer, local_timer_closed);
			continue;
		}
		if (s->child)
			uv_close((uv_handle_t *)&s->proc, local_sup_free);
		else {
			uv_poll_stop(&s->poll);
			close(s->pidfd);
			uv_close((uv_handle_t *)&s->poll, local_sup_free);
		}
	}
}

const struct gw_driver_ops gw_driver_local = {
	.name = "local",
	.init = local_init,
	.create = local_create,
	.stop = local_stop,
	.adopt = local_adopt,
	.exec_target = local_exec_target,
	.cleanup = local_cleanup,
	.shutdown = local_shutdown,
};
