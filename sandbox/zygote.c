/*
 * The sandbox's init. The supervisor forks it before any thread exists
 * (gRPC and libuv start threads; a forked child of a threaded process may
 * only call async-signal-safe functions, and this one builds a whole
 * sandbox). It waits for its Setup, unshares the namespaces, forks the
 * real init (PID 1 of the new PID namespace), which builds the sandbox
 * and then starts, signals and reaps agent processes on request.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "isolate.h"

typedef Openshell__Supervisor__V1__Request	ZReq;
typedef Openshell__Supervisor__V1__Event	ZEvent;

extern char	**environ;

/*
 * An agent process. Until it has exec'd, errfd is open and the init
 * waits on it in its poll loop, never in a blocking read: between its
 * setresuid and its exec the process is the agent's to stop (SIGSTOP),
 * and the init must go on serving the others. One that has not exec'd
 * by the deadline is killed and reported as failed to start.
 */
struct zproc {
	uint64_t	id;
	pid_t		pid;
	int		errfd;      /* -1 once it has exec'd */
	int64_t		deadline;   /* os_mono_ms, while errfd is open */
};

#define Z_EXEC_TIMEOUT_MS 30000

static struct zproc	*zprocs;
static size_t		 nzprocs;

static void
z_send(int fd, ZEvent *ev, const int *fds, size_t nfds)
{
	if (zmsg_send(fd, &ev->base, fds, nfds) != 0)
		_exit(1);        /* the supervisor is gone */
}

static void
z_failed(int fd, const char *msg)
{
	ZEvent					ev = OPENSHELL__SUPERVISOR__V1__EVENT__INIT;
	Openshell__Supervisor__V1__Failed	f = OPENSHELL__SUPERVISOR__V1__FAILED__INIT;

	f.error = (char *)msg;
	ev.msg_case = OPENSHELL__SUPERVISOR__V1__EVENT__MSG_FAILED;
	ev.failed = &f;
	z_send(fd, &ev, NULL, 0);
}

/* setup env, then the spawn's own, later keys replacing earlier ones */
static char **
z_env(const IsoSetup *s, const Openshell__Supervisor__V1__Spawn *sp)
{
	char	**env;
	size_t	  n = 0, i, j, klen;
	const char *e, *eq;

	env = xcalloc(s->n_env + sp->n_env + 1, sizeof *env);
	for (i = 0; i < s->n_env + sp->n_env; i++) {
		e = i < s->n_env ? s->env[i] : sp->env[i - s->n_env];
		if ((eq = strchr(e, '=')) == NULL)
			continue;
		klen = (size_t)(eq - e) + 1;
		for (j = 0; j < n; j++) {
			if (strncmp(env[j], e, klen) == 0)
				break;
		}
		env[j] = (char *)e;
		if (j == n)
			n++;
	}
	env[n] = NULL;
	return env;
}

/*
 * The agent process, between fork and exec. Reports failure through
 * `errfd` (close-on-exec: it reads EOF when the exec succeeded).
 */
static OS_NORETURN void
z_child(const IsoSetup *s, const Openshell__Supervisor__V1__Spawn *sp,
    const int *fds, size_t nfds, int errfd)
{
	struct os_error	 err;
	sigset_t	 all;
	char		 msg[1200], notfound[1200], **argv;
	const char	*cwd;
	int		 i, n, code = 126;

	/* Signals as a fresh process expects them. */
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (i = 1; i < NSIG; i++)
		signal(i, SIG_DFL);
	setsid();
	if (sp->tty) {
		if (nfds < 1 || ioctl(fds[0], TIOCSCTTY, 0) < 0)
			goto fail_errno;
		for (i = 0; i < 3; i++)
			dup2(fds[0], i);
	} else {
		if (nfds < 3)
			goto fail_errno;
		for (i = 0; i < 3; i++)
			dup2(fds[i], i);
	}
	/* In the environment and with the files of the supervisor, before
	 * the process's own take their place. */
	snprintf(notfound, sizeof notfound, _("%s: command not found"),
	    sp->n_argv > 0 ? sp->argv[0] : "");
	cwd = *sp->cwd != '\0' ? sp->cwd : s->workdir;
	if (*cwd != '\0' && chdir(cwd) < 0 && chdir("/") < 0)
		goto fail_errno;
	os_error_clear(&err);
	if (iso_child(s, &err) != 0) {
		n = snprintf(msg, sizeof msg, "%s", err.msg);
		goto fail;
	}
	environ = z_env(s, sp);
	/* protobuf-c's repeated strings carry a count, not a NULL end. */
	argv = xcalloc(sp->n_argv + 1, sizeof *argv);
	memcpy(argv, sp->argv, sp->n_argv * sizeof *argv);
	execvp(argv[0], argv);
	if (errno == ENOENT) {
		n = snprintf(msg, sizeof msg, "%s", notfound);
		code = 127;
	} else
		n = snprintf(msg, sizeof msg, "%s: %s", argv[0], strerror(errno));
	goto fail;
fail_errno:
	n = snprintf(msg, sizeof msg, _("cannot set up the process: %s"),
	    strerror(errno));
fail:
	/* The first byte is the status a shell would give, then the text:
	 * one write, so that the reader's one read gets both. */
	if (n > 0) {
		if ((size_t)n > sizeof msg - 2)
			n = (int)sizeof msg - 2;
		memmove(msg + 1, msg, (size_t)n);
		msg[0] = (char)code;
		(void)!write(errfd, msg, (size_t)n + 1);
	}
	_exit(code);
}

static void
z_send_spawned(int fd, uint64_t id, pid_t pid, int code, const char *error)
{
	ZEvent					ev = OPENSHELL__SUPERVISOR__V1__EVENT__INIT;
	Openshell__Supervisor__V1__Spawned	sd =
	    OPENSHELL__SUPERVISOR__V1__SPAWNED__INIT;

	sd.id = id;
	sd.pid = error == NULL ? pid : 0;
	sd.exit_code = error != NULL ? code : 0;
	sd.error = (char *)error;
	ev.msg_case = OPENSHELL__SUPERVISOR__V1__EVENT__MSG_SPAWNED;
	ev.spawned = &sd;
	z_send(fd, &ev, NULL, 0);
}

/*
 * zprocs[i]'s errfd has something to say: EOF after its exec, else a
 * status and a message. Reports it; a process that failed to start is
 * forgotten (it exits 127 or so, and reaping it reports nothing more).
 * Returns whether it started.
 */
static bool
z_spawn_done(int fd, size_t i)
{
	struct zproc	*zp = &zprocs[i];
	char		 msg[1200];
	ssize_t		 n;

	do
		n = read(zp->errfd, msg, sizeof msg - 1);
	while (n < 0 && errno == EINTR);
	close(zp->errfd);
	zp->errfd = -1;
	if (n <= 0) {
		z_send_spawned(fd, zp->id, zp->pid, 0, NULL);
		return true;
	}
	msg[n] = '\0';
	z_send_spawned(fd, zp->id, 0, (unsigned char)msg[0], n > 1 ? msg + 1 :
	    _("cannot start the process"));
	zprocs[i] = zprocs[--nzprocs];
	return false;
}

/* Spawns past their deadline: killed, and reported as not started. */
static void
z_spawn_expire(int fd, int64_t now)
{
	size_t	i = 0;

	while (i < nzprocs) {
		struct zproc	*zp = &zprocs[i];

		if (zp->errfd < 0 || now < zp->deadline) {
			i++;
			continue;
		}
		kill(zp->pid, SIGKILL);
		close(zp->errfd);
		z_send_spawned(fd, zp->id, 0, 126,
		    _("the process did not start within 30 seconds (it was "
		    "stopped before its exec); it was killed"));
		zprocs[i] = zprocs[--nzprocs];
	}
}

static void
z_spawn(int fd, const IsoSetup *s, const Openshell__Supervisor__V1__Spawn *sp,
    int *fds, size_t nfds)
{
	const char	*error = NULL;
	size_t		 i;
	pid_t		 pid;
	int		 ep[2];

	if (sp->n_argv == 0) {
		error = _("no command given");
		goto out;
	}
	if (pipe2(ep, O_CLOEXEC) < 0) {
		error = strerror(errno);
		goto out;
	}
	if ((pid = fork()) < 0) {
		close(ep[0]);
		close(ep[1]);
		error = strerror(errno);
		goto out;
	}
	if (pid == 0) {
		close(ep[0]);
		close(fd);
		z_child(s, sp, fds, nfds, ep[1]);
	}
	close(ep[1]);
	/* Spawned goes when ep[0] says how the exec went (z_spawn_done). */
	zprocs = xreallocarray(zprocs, nzprocs + 1, sizeof *zprocs);
	zprocs[nzprocs].id = sp->id;
	zprocs[nzprocs].pid = pid;
	zprocs[nzprocs].errfd = ep[0];
	zprocs[nzprocs].deadline = os_mono_ms() + Z_EXEC_TIMEOUT_MS;
	nzprocs++;
out:
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	if (error != NULL)
		z_send_spawned(fd, sp->id, 0, 0, error);
}

static void
z_signal(const Openshell__Supervisor__V1__Signal *sg)
{
	size_t	i;

	for (i = 0; i < nzprocs; i++) {
		if (zprocs[i].id == sg->id) {
			/* The whole process group: the session it leads. */
			kill(-zprocs[i].pid, sg->signal);
			return;
		}
	}
}

static void
z_reap(int fd)
{
	ZEvent					ev = OPENSHELL__SUPERVISOR__V1__EVENT__INIT;
	Openshell__Supervisor__V1__Exited	ex =
	    OPENSHELL__SUPERVISOR__V1__EXITED__INIT;
	size_t					i;
	pid_t					pid;
	int					status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < nzprocs; i++) {
			if (zprocs[i].pid == pid)
				break;
		}
		if (i == nzprocs)
			continue;       /* an orphan we adopted as init */
		/* Its exec's outcome first: dead, it holds errfd no more. */
		if (zprocs[i].errfd >= 0 && !z_spawn_done(fd, i))
			continue;
		ex.id = zprocs[i].id;
		if (WIFSIGNALED(status)) {
			ex.signal = WTERMSIG(status);
			ex.code = 128 + ex.signal;
		} else {
			ex.signal = 0;
			ex.code = WEXITSTATUS(status);
		}
		zprocs[i] = zprocs[--nzprocs];
		ev.msg_case = OPENSHELL__SUPERVISOR__V1__EVENT__MSG_EXITED;
		ev.exited = &ex;
		z_send(fd, &ev, NULL, 0);
	}
}

static OS_NORETURN void
z_shutdown(const IsoSetup *s)
{
	size_t	i;

	/* In our own PID namespace, kill(-1) reaches every process in it;
	 * outside one it would reach the whole machine. */
	if (s->isolate)
		kill(-1, SIGKILL);
	else {
		for (i = 0; i < nzprocs; i++)
			kill(-zprocs[i].pid, SIGKILL);
	}
	_exit(0);
}

/* PID 1 of the sandbox: build it, report, then serve requests. */
static OS_NORETURN void
z_init(int fd, IsoSetup *s, int init_pid)
{
	ZEvent					 ev = OPENSHELL__SUPERVISOR__V1__EVENT__INIT;
	Openshell__Supervisor__V1__Ready	 rd = OPENSHELL__SUPERVISOR__V1__READY__INIT;
	struct iso_notes			 notes;
	struct os_error				 err;
	struct pollfd				*pfd = NULL;
	sigset_t				 mask;
	ProtobufCMessage			*m;
	ZReq					*req;
	int					 sfd, fds[8], out[2], pfds;
	size_t					 nfds;
	int					 r;

	memset(&notes, 0, sizeof notes);
	os_error_clear(&err);
	if (iso_rootfs(s, &notes, &err) != 0 ||
	    iso_prepare(s, &notes, &err) != 0 ||
	    iso_network(s, &out[0], &out[1], &err) != 0) {
		z_failed(fd, err.msg);
		_exit(1);
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		z_failed(fd, strerror(errno));
		_exit(1);
	}
	rd.init_pid = init_pid;
	rd.notes = notes.v;
	rd.n_notes = notes.n;
	ev.msg_case = OPENSHELL__SUPERVISOR__V1__EVENT__MSG_READY;
	ev.ready = &rd;
	pfds = 0;
	if (out[0] >= 0)
		fds[pfds++] = out[0];
	if (out[1] >= 0)
		fds[pfds++] = out[1];
	/* Fixed order, -1 for absent: the receiver maps by Setup. */
	z_send(fd, &ev, fds, (size_t)pfds);
	if (out[0] >= 0)
		close(out[0]);
	if (out[1] >= 0)
		close(out[1]);
	iso_notes_free(&notes);

	for (;;) {
		int64_t	now, wait = -1;
		size_t	np = 2, i;

		pfd = xreallocarray(pfd, nzprocs + 2, sizeof *pfd);
		pfd[0].fd = fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = sfd;
		pfd[1].events = POLLIN;
		now = os_mono_ms();
		for (i = 0; i < nzprocs; i++) {
			if (zprocs[i].errfd < 0)
				continue;
			pfd[np].fd = zprocs[i].errfd;
			pfd[np].events = POLLIN;
			pfd[np].revents = 0;
			np++;
			if (wait < 0 || zprocs[i].deadline - now < wait)
				wait = zprocs[i].deadline > now ?
				    zprocs[i].deadline - now : 0;
		}
		if (poll(pfd, (nfds_t)np, (int)wait) < 0) {
			if (errno == EINTR)
				continue;
			z_shutdown(s);
		}
		/* Spawns whose exec is done (or failed), by their errfd. */
		for (i = 2; i < np; i++) {
			size_t	j;

			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			for (j = 0; j < nzprocs; j++) {
				if (zprocs[j].errfd == pfd[i].fd) {
					z_spawn_done(fd, j);
					break;
				}
			}
		}
		z_spawn_expire(fd, os_mono_ms());
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			(void)!read(sfd, &si, sizeof si);
			z_reap(fd);
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			r = zmsg_recv(fd, &openshell__supervisor__v1__request__descriptor,
			    &m, fds, OS_NELEM(fds), &nfds);
			if (r <= 0)
				z_shutdown(s);    /* the supervisor is gone */
			req = (ZReq *)m;
			switch (req->msg_case) {
			case OPENSHELL__SUPERVISOR__V1__REQUEST__MSG_SPAWN:
				z_spawn(fd, s, req->spawn, fds, nfds);
				break;
			case OPENSHELL__SUPERVISOR__V1__REQUEST__MSG_SIGNAL:
				z_signal(req->signal);
				break;
			default:
				for (i = 0; i < nfds; i++)
					close(fds[i]);
				break;
			}
			protobuf_c_message_free_unpacked(m, NULL);
		}
	}
}

void
zygote_main(int fd)
{
	ProtobufCMessage	*m;
	ZReq			*req;
	IsoSetup		*s;
	int			 p[2], r, status, flags;
	pid_t			 pid, host_pid;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(1);       /* the supervisor died before we asked */
	/* Load the message catalog while the host's files are in view: the
	 * sandbox's root may not hold it, and its processes may not read it. */
	(void)_("cannot start the process");
	r = zmsg_recv(fd, &openshell__supervisor__v1__request__descriptor, &m,
	    NULL, 0, NULL);
	if (r <= 0)
		_exit(1);
	req = (ZReq *)m;
	if (req->msg_case != OPENSHELL__SUPERVISOR__V1__REQUEST__MSG_SETUP) {
		z_failed(fd, "the first message must be Setup");
		_exit(1);
	}
	s = req->setup;
	if (s->isolate) {
		flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC |
		    CLONE_NEWPID;
		if (unshare(flags) < 0) {
			char	msg[256];
			int	e = errno;

			snprintf(msg, sizeof msg,
			    _("cannot create the sandbox's namespaces: %s%s"),
			    strerror(e), e != EPERM || geteuid() == 0 ? "" :
			    _(" (sandboxes need the gateway to run as root)"));
			z_failed(fd, msg);
			_exit(1);
		}
	}
	/* The child learns its host pid from us: inside, getpid() says 1. */
	if (pipe2(p, O_CLOEXEC) < 0)
		_exit(1);
	if ((pid = fork()) < 0) {
		z_failed(fd, strerror(errno));
		_exit(1);
	}
	if (pid == 0) {
		close(p[1]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (read(p[0], &host_pid, sizeof host_pid) != sizeof host_pid)
			_exit(1);
		close(p[0]);
		z_init(fd, s, host_pid);
	}
	close(p[0]);
	(void)!write(p[1], &pid, sizeof pid);
	close(p[1]);
	close(fd);
	/* This process only waits: its death (PDEATHSIG) ends the sandbox. */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}
