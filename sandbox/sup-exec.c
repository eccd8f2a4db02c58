/*
 * The supervisor's exec service (SandboxExec.Exec on <dir>/exec.sock,
 * 0600): every command in a sandbox is one of these sessions. The process
 * is started by the sandbox's init with either a PTY (interactive) or
 * three pipes (scripts: stdout and stderr kept apart, binary-safe), and
 * its I/O is relayed message by message with flow control both ways.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "sandbox.h"

#define EXEC_READ 65536
#define EXEC_HIGH 32          /* queued replies before output reading pauses */
#define EXEC_LOW 4
#define EXEC_EXIT_GRACE_MS 500   /* output still arriving after the exit */

typedef Openshell__Sandbox__V1__ExecClientMessage	ExecIn;
typedef Openshell__Sandbox__V1__ExecServerMessage	ExecOut;

enum exec_stream { EXEC_STDOUT, EXEC_STDERR };

struct exec_out {
	struct sup_exec		*x;
	enum exec_stream	 which;
	int			 fd;
	uv_poll_t		 poll;
	bool			 live;      /* poll handle initialised */
	bool			 eof;
};

struct sup_exec {
	TAILQ_ENTRY(sup_exec)	 entry;
	struct sup		*s;
	struct os_rpc_call	*call;
	uint64_t		 id;
	bool			 tty;
	int			 in_fd;         /* stdin pipe, or the PTY master */
	int			 in_poll_fd;    /* in_fd, or a dup of the PTY master */
	uv_poll_t		 in_poll;
	bool			 in_live;
	bool			 in_polling;
	struct os_buf		 in_pending;
	bool			 in_close_requested;
	struct exec_out		 out[2];
	int			 nout;
	bool			 paused;
	bool			 started;
	bool			 spawned;
	bool			 exited;
	bool			 finished;
	bool			 client_gone;
	int			 exit_code;
	int			 exit_signal;
	uv_timer_t		 timer;
	bool			 timer_live;
	int			 refs;
};

static void	exec_maybe_finish(struct sup_exec *);

static void
exec_unref(struct sup_exec *x)
{
	if (--x->refs == 0) {
		os_buf_free(&x->in_pending);
		free(x);
	}
}

static void
exec_handle_closed(uv_handle_t *h)
{
	exec_unref(h->data);
}

static void
exec_close_handle(struct sup_exec *x, uv_handle_t *h)
{
	x->refs++;
	h->data = x;
	uv_close(h, exec_handle_closed);
}

/* Releases fds and handles; the struct goes when the last handle closed. */
static void
exec_release(struct sup_exec *x)
{
	int	i;

	if (x->in_live) {
		uv_poll_stop(&x->in_poll);
		exec_close_handle(x, (uv_handle_t *)&x->in_poll);
		x->in_live = false;
		if (x->tty && x->in_poll_fd >= 0)
			close(x->in_poll_fd);
		x->in_poll_fd = -1;
	}
	if (x->in_fd >= 0) {
		/* For a PTY the master is in_fd and out[0].fd: close once. */
		if (!x->tty)
			close(x->in_fd);
		x->in_fd = -1;
	}
	for (i = 0; i < x->nout; i++) {
		if (x->out[i].live) {
			uv_poll_stop(&x->out[i].poll);
			exec_close_handle(x, (uv_handle_t *)&x->out[i].poll);
			x->out[i].live = false;
		}
		if (x->out[i].fd >= 0) {
			close(x->out[i].fd);
			x->out[i].fd = -1;
		}
	}
	if (x->timer_live) {
		uv_timer_stop(&x->timer);
		exec_close_handle(x, (uv_handle_t *)&x->timer);
		x->timer_live = false;
	}
}

static void
exec_remove(struct sup_exec *x)
{
	if (x->finished)
		return;
	x->finished = true;
	TAILQ_REMOVE(&x->s->execs, x, entry);
	exec_release(x);
	os_rpc_call_unref(x->call);
	exec_unref(x);          /* the session's reference */
}

static void
exec_send_error(struct sup_exec *x, const char *msg)
{
	ExecOut	out = OPENSHELL__SANDBOX__V1__EXEC_SERVER_MESSAGE__INIT;

	out.msg_case = OPENSHELL__SANDBOX__V1__EXEC_SERVER_MESSAGE__MSG_ERROR;
	out.error = (char *)msg;
	os_rpc_send(x->call, &out.base);
	os_rpc_finish(x->call, GRPC_STATUS_OK, NULL);
}

/* ------------------------------------------------------------------------
 * Output: process -> client
 */

static void	exec_out_readable(uv_poll_t *, int, int);

static void
exec_pause_outputs(struct sup_exec *x, bool pause)
{
	int	i;

	x->paused = pause;
	for (i = 0; i < x->nout; i++) {
		if (!x->out[i].live || x->out[i].eof)
			continue;
		if (pause)
			uv_poll_stop(&x->out[i].poll);
		else
			uv_poll_start(&x->out[i].poll, UV_READABLE | UV_DISCONNECT,
			    exec_out_readable);
	}
}

static void
exec_out_eof(struct exec_out *o)
{
	o->eof = true;
	if (o->live)
		uv_poll_stop(&o->poll);
	exec_maybe_finish(o->x);
}

static void
exec_out_readable(uv_poll_t *h, int status, int events)
{
	struct exec_out	*o = h->data;
	struct sup_exec	*x = o->x;
	ExecOut		 out = OPENSHELL__SANDBOX__V1__EXEC_SERVER_MESSAGE__INIT;
	uint8_t		 buf[EXEC_READ];
	ssize_t		 n;

	n = read(o->fd, buf, sizeof buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* EOF, or EIO on a PTY master once no process holds the slave. */
		exec_out_eof(o);
		return;
	}
	if (o->which == EXEC_STDOUT) {
		out.msg_case = OPENSHELL__SANDBOX__V1__EXEC_SERVER_MESSAGE__MSG_STDOUT;
		out.stdout.data = buf;
		out.stdout.len = (size_t)n;
	} else {
		out.msg_case = OPENSHELL__SANDBOX__V1__EXEC_SERVER_MESSAGE__MSG_STDERR;
		out.stderr.data = buf;
		out.stderr.len = (size_t)n;
	}
	if (os_rpc_send(x->call, &out.base) >= EXEC_HIGH && !x->paused)
		exec_pause_outputs(x, true);
}

static void
exec_drained(struct os_rpc_call *call, void *arg)
{
	struct sup_exec	*x = arg;

	if (x->paused && !x->finished)
		exec_pause_outputs(x, false);
}

static void
exec_exit_grace(uv_timer_t *t)
{
	struct sup_exec	*x = t->data;
	int		 i;

	/* Something still holds the output open (a background job): the
	 * session ends with the process it was started for. */
	for (i = 0; i < x->nout; i++)
		x->out[i].eof = true;
	exec_maybe_finish(x);
}

static void
exec_maybe_finish(struct sup_exec *x)
{
	ExecOut					out =
	    OPENSHELL__SANDBOX__V1__EXEC_SERVER_MESSAGE__INIT;
	Openshell__Sandbox__V1__ExecExit	ex = OPENSHELL__SANDBOX__V1__EXEC_EXIT__INIT;
	int					i;

	if (x->finished || !x->exited)
		return;
	for (i = 0; i < x->nout; i++) {
		if (!x->out[i].eof)
			return;
	}
	ex.code = x->exit_code;
	ex.signal = x->exit_signal;
	out.msg_case = OPENSHELL__SANDBOX__V1__EXEC_SERVER_MESSAGE__MSG_EXIT;
	out.exit = &ex;
	os_rpc_send(x->call, &out.base);
	os_rpc_finish(x->call, GRPC_STATUS_OK, NULL);
	exec_remove(x);
}

/* ------------------------------------------------------------------------
 * Input: client -> process
 */

static void
exec_in_flush(struct sup_exec *x)
{
	ssize_t	n;

	while (x->in_pending.len > 0 && x->in_fd >= 0) {
		n = write(x->in_fd, x->in_pending.data, x->in_pending.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			/* The process closed its stdin: drop what it will never read. */
			os_buf_reset(&x->in_pending);
			break;
		}
		memmove(x->in_pending.data, x->in_pending.data + n,
		    x->in_pending.len - (size_t)n);
		x->in_pending.len -= (size_t)n;
	}
	if (x->in_pending.len == 0 && x->in_close_requested && !x->tty &&
	    x->in_fd >= 0) {
		if (x->in_live) {
			uv_poll_stop(&x->in_poll);
			exec_close_handle(x, (uv_handle_t *)&x->in_poll);
			x->in_live = false;
			x->in_poll_fd = -1;
		}
		close(x->in_fd);
		x->in_fd = -1;
	}
}

static void
exec_in_writable(uv_poll_t *h, int status, int events)
{
	struct sup_exec	*x = h->data;

	exec_in_flush(x);
	if (x->in_pending.len == 0 && x->in_live && x->in_polling) {
		uv_poll_stop(&x->in_poll);
		x->in_polling = false;
		/* Backlog cleared: accept more input. */
		os_rpc_call_pause(x->call, false);
	}
}

static void
exec_in_write(struct sup_exec *x, const void *p, size_t n)
{
	if (x->in_fd < 0)
		return;
	os_buf_add(&x->in_pending, p, n);
	exec_in_flush(x);
	if (x->in_pending.len > 0 && x->in_fd >= 0) {
		if (!x->in_live) {
			/* A PTY master is polled by its output side already:
			 * dup it so the two polls do not share one fd. */
			int fd = x->tty ? dup(x->in_fd) : x->in_fd;

			if (fd < 0)
				return;
			if (uv_poll_init(x->s->uv, &x->in_poll, fd) != 0) {
				if (x->tty)
					close(fd);
				return;
			}
			x->in_poll.data = x;
			x->in_poll_fd = fd;
			x->in_live = true;
		}
		if (!x->in_polling) {
			uv_poll_start(&x->in_poll, UV_WRITABLE, exec_in_writable);
			x->in_polling = true;
		}
		/* Stop reading the client while the process is not keeping up. */
		if (x->in_pending.len > 1024 * 1024)
			os_rpc_call_pause(x->call, true);
	}
}

/* ------------------------------------------------------------------------
 * Session start
 */

/*
 * A terminal from the sandbox's own devpts (its /dev/ptmx, reached
 * through its init's root), so that inside, `tty` names it and programs
 * can open it again; the slave belongs to the agent's user. -1 when the
 * sandbox has none (not isolated), and the caller uses the host's.
 */
static int
exec_sandbox_pty(struct sup *s, int *slave)
{
	char	*path;
	int	 master, unlock = 0;

	if (!s->isolate || s->init_pid <= 0)
		return -1;
	path = xprintf("/proc/%d/root/dev/ptmx", s->init_pid);
	master = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	free(path);
	if (master < 0)
		return -1;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 ||
	    (*slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		close(master);
		return -1;
	}
	if (fchown(*slave, s->agent_uid, (gid_t)-1) < 0)
		log_debug("cannot give the terminal to uid %u: %s", s->agent_uid,
		    strerror(errno));
	return master;
}

static int
exec_setup_fds(struct sup_exec *x, const Openshell__Sandbox__V1__ExecStart *st,
    int *child, size_t *nchild, struct os_error *err)
{
	struct winsize	ws;
	int		master, slave, in[2], out[2], errp[2];
	char		name[128];

	if (st->tty) {
		if ((master = exec_sandbox_pty(x->s, &slave)) < 0 &&
		    ((master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 ||
		    grantpt(master) < 0 || unlockpt(master) < 0 ||
		    ptsname_r(master, name, sizeof name) != 0 ||
		    (slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0))
			return os_error_set(err, -errno, "cannot allocate a terminal: %s",
			    strerror(errno));
		memset(&ws, 0, sizeof ws);
		ws.ws_col = st->cols != 0 ? (unsigned short)st->cols : 80;
		ws.ws_row = st->rows != 0 ? (unsigned short)st->rows : 24;
		ioctl(master, TIOCSWINSZ, &ws);
		fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
		x->in_fd = master;
		x->out[0].fd = master;
		x->out[0].which = EXEC_STDOUT;
		x->nout = 1;
		child[0] = slave;
		*nchild = 1;
		return 0;
	}
	if (pipe2(in, O_CLOEXEC) < 0)
		return os_error_set(err, -errno, "pipe: %s", strerror(errno));
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return os_error_set(err, -errno, "pipe: %s", strerror(errno));
	}
	if (pipe2(errp, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		return os_error_set(err, -errno, "pipe: %s", strerror(errno));
	}
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);
	x->in_fd = in[1];
	x->out[0].fd = out[0];
	x->out[0].which = EXEC_STDOUT;
	x->out[1].fd = errp[0];
	x->out[1].which = EXEC_STDERR;
	x->nout = 2;
	child[0] = in[0];
	child[1] = out[1];
	child[2] = errp[1];
	*nchild = 3;
	return 0;
}

static void
exec_start(struct sup_exec *x, const Openshell__Sandbox__V1__ExecStart *st)
{
	Openshell__Sandbox__V1__ExecStart	 copy;
	struct os_error				 err;
	char					*shell[3];
	int					 child[3];
	size_t					 nchild = 0, i;
	int					 rc;

	x->started = true;
	x->tty = st->tty;
	copy = *st;
	if (st->n_argv == 0) {
		/* No command: the user's login shell. */
		shell[0] = (char *)(access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh");
		shell[1] = (char *)"-l";
		shell[2] = NULL;
		copy.argv = shell;
		copy.n_argv = 2;
	}
	os_error_clear(&err);
	if (exec_setup_fds(x, st, child, &nchild, &err) != 0) {
		exec_send_error(x, err.msg);
		exec_remove(x);
		return;
	}
	x->id = ++x->s->next_spawn_id;
	rc = sup_zygote_spawn(x->s, x->id, &copy, child, nchild);
	for (i = 0; i < nchild; i++)
		close(child[i]);
	if (rc != 0) {
		exec_send_error(x, "the sandbox's init is not answering");
		exec_remove(x);
		return;
	}
	for (i = 0; i < (size_t)x->nout; i++) {
		x->out[i].x = x;
		if (uv_poll_init(x->s->uv, &x->out[i].poll, x->out[i].fd) == 0) {
			x->out[i].poll.data = &x->out[i];
			x->out[i].live = true;
			uv_poll_start(&x->out[i].poll, UV_READABLE | UV_DISCONNECT,
			    exec_out_readable);
		} else
			x->out[i].eof = true;
	}
}

static void
exec_on_message(struct os_rpc_call *call, const ProtobufCMessage *m, void *arg)
{
	struct sup_exec	*x = arg;
	const ExecIn	*in = (const void *)m;
	struct winsize	 ws;

	if (x->finished)
		return;
	if (in == NULL) {
		/* The client half-closed: like EOF on stdin. */
		x->in_close_requested = true;
		exec_in_flush(x);
		return;
	}
	if (!x->started) {
		if (in->msg_case != OPENSHELL__SANDBOX__V1__EXEC_CLIENT_MESSAGE__MSG_START) {
			os_rpc_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
			    "the first message must be 'start'");
			exec_remove(x);
			return;
		}
		exec_start(x, in->start);
		return;
	}
	switch (in->msg_case) {
	case OPENSHELL__SANDBOX__V1__EXEC_CLIENT_MESSAGE__MSG_STDIN:
		exec_in_write(x, in->stdin.data, in->stdin.len);
		break;
	case OPENSHELL__SANDBOX__V1__EXEC_CLIENT_MESSAGE__MSG_STDIN_CLOSE:
		if (x->tty)
			exec_in_write(x, "\004", 1);    /* ^D: EOF at the line discipline */
		else {
			x->in_close_requested = true;
			exec_in_flush(x);
		}
		break;
	case OPENSHELL__SANDBOX__V1__EXEC_CLIENT_MESSAGE__MSG_RESIZE:
		if (x->tty && x->in_fd >= 0) {
			memset(&ws, 0, sizeof ws);
			ws.ws_col = (unsigned short)in->resize->cols;
			ws.ws_row = (unsigned short)in->resize->rows;
			ioctl(x->in_fd, TIOCSWINSZ, &ws);
		}
		break;
	case OPENSHELL__SANDBOX__V1__EXEC_CLIENT_MESSAGE__MSG_SIGNAL:
		if (x->spawned && !x->exited && in->signal > 0 && in->signal < 65)
			sup_zygote_signal(x->s, x->id, in->signal);
		break;
	default:
		break;
	}
}

static void
exec_on_close(struct os_rpc_call *call, void *arg)
{
	struct sup_exec	*x = arg;

	x->client_gone = true;
	/* Nobody is listening any more: end the process (its whole group). */
	if (!x->finished && x->spawned && !x->exited) {
		sup_zygote_signal(x->s, x->id, SIGHUP);
		sup_zygote_signal(x->s, x->id, SIGCONT);
		sup_zygote_signal(x->s, x->id, SIGKILL);
	}
	exec_remove(x);
	exec_unref(x);          /* the on_close reference */
}

static void
exec_rpc(struct os_rpc_call *call, const ProtobufCMessage *req, void *arg)
{
	struct sup	*s = arg;
	struct sup_exec	*x;

	x = xcalloc(1, sizeof *x);
	x->s = s;
	x->call = call;
	x->in_fd = x->in_poll_fd = -1;
	x->out[0].fd = x->out[1].fd = -1;
	x->refs = 2;            /* the session, and the pending on_close */
	os_rpc_call_ref(call);
	TAILQ_INSERT_TAIL(&s->execs, x, entry);
	os_rpc_call_on_close(call, exec_on_close, x);
	os_rpc_call_on_drain(call, EXEC_LOW, exec_drained, x);
	os_rpc_call_on_message(call, exec_on_message,
	    &openshell__sandbox__v1__exec_client_message__descriptor, x);
}

/* ------------------------------------------------------------------------
 * Init events
 */

static struct sup_exec *
exec_find(struct sup *s, uint64_t id)
{
	struct sup_exec	*x;

	TAILQ_FOREACH(x, &s->execs, entry) {
		if (x->id == id)
			return x;
	}
	return NULL;
}

void
sup_exec_spawned(struct sup *s, uint64_t id, int pid, const char *error,
    int exit_code)
{
	struct sup_exec	*x;
	ExecOut		 out = OPENSHELL__SANDBOX__V1__EXEC_SERVER_MESSAGE__INIT;
	Openshell__Sandbox__V1__ExecExit ex = OPENSHELL__SANDBOX__V1__EXEC_EXIT__INIT;
	char		*text;

	if ((x = exec_find(s, id)) == NULL)
		return;
	if (error != NULL) {
		/* As a shell would: the reason on stderr, then 127 or 126. */
		text = xprintf("%s\n", error);
		out.msg_case = OPENSHELL__SANDBOX__V1__EXEC_SERVER_MESSAGE__MSG_STDERR;
		out.stderr.data = (uint8_t *)text;
		out.stderr.len = strlen(text);
		os_rpc_send(x->call, &out.base);
		free(text);
		ex.code = exit_code != 0 ? exit_code : 126;
		out.msg_case = OPENSHELL__SANDBOX__V1__EXEC_SERVER_MESSAGE__MSG_EXIT;
		out.exit = &ex;
		os_rpc_send(x->call, &out.base);
		os_rpc_finish(x->call, GRPC_STATUS_OK, NULL);
		exec_remove(x);
		return;
	}
	x->spawned = true;
	out.msg_case = OPENSHELL__SANDBOX__V1__EXEC_SERVER_MESSAGE__MSG_PID;
	out.pid = (uint32_t)pid;
	os_rpc_send(x->call, &out.base);
}

void
sup_exec_exited(struct sup *s, uint64_t id, int code, int sig)
{
	struct sup_exec	*x;

	if ((x = exec_find(s, id)) == NULL)
		return;
	x->exited = true;
	x->exit_code = code;
	x->exit_signal = sig;
	if (!x->timer_live) {
		uv_timer_init(s->uv, &x->timer);
		x->timer.data = x;
		x->timer_live = true;
		uv_timer_start(&x->timer, exec_exit_grace, EXEC_EXIT_GRACE_MS, 0);
	}
	exec_maybe_finish(x);
}

/* ------------------------------------------------------------------------
 * The service
 */

int
sup_exec_start(struct sup *s, struct os_error *err)
{
	struct os_rpc_method		m;
	struct os_rpc_server_options	o;
	char				*path, *listen;
	const char			*l[1];
	mode_t				 old;
	int				 rc;

	TAILQ_INIT(&s->execs);
	path = sup_path(s, "exec.sock");
	listen = xprintf("unix:%s", path);
	memset(&m, 0, sizeof m);
	m.path = "/openshell.sandbox.v1.SandboxExec/Exec";
	m.kind = OS_RPC_BIDI;
	m.start = exec_rpc;
	m.arg = s;
	memset(&o, 0, sizeof o);
	l[0] = listen;
	o.listen = l;
	o.nlisten = 1;
	/* The socket is created with the umask: private from the start. */
	old = umask(077);
	rc = os_rpc_server_start(&s->loop, &m, 1, &o, &s->exec_server, err);
	umask(old);
	if (rc == 0)
		chmod(path, 0600);
	free(listen);
	free(path);
	return rc;
}

static void
exec_server_stopped(void *arg)
{
	struct sup	*s = arg;

	os_rpc_loop_shutdown(&s->loop);
}

void
sup_exec_stop(struct sup *s)
{
	struct sup_exec	*x, *next;

	TAILQ_FOREACH_SAFE(x, &s->execs, entry, next) {
		if (!x->client_gone)
			exec_send_error(x, "the sandbox is shutting down");
		exec_remove(x);
	}
	if (s->exec_server != NULL)
		os_rpc_server_shutdown(s->exec_server, 1000, exec_server_stopped, s);
	else
		os_rpc_loop_shutdown(&s->loop);
}
