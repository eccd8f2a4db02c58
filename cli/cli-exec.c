/*
 * The client side of an exec session (ExecSandbox, a bidirectional
 * stream through the gateway to the sandbox's supervisor): our stdin
 * goes up, the process's stdout and stderr come down, then its exit
 * status, which becomes ours.
 *
 * Standard input is read by a thread of its own with plain blocking
 * read(): libuv would switch the descriptor to non-blocking mode, and
 * that flag is shared with whoever else holds the same open file (the
 * parent shell's terminal, a pipe's other users). The thread hands
 * chunks to the loop through an async handle and stops reading while
 * too many are still waiting to be sent (flow control end to end).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

typedef Openshell__Sandbox__V1__ExecClientMessage	ExecUp;
typedef Openshell__Sandbox__V1__ExecServerMessage	ExecDown;

#define EXEC_CHUNK		32768
#define EXEC_MAX_INFLIGHT	8     /* stdin chunks read but not yet sent */

struct exec_chunk {
	struct exec_chunk	*next;
	size_t			 len;
	char			 data[];
};

/*
 * What the stdin thread shares with the loop. Heap-allocated and
 * reference-counted: the thread may still sit in read() when the session
 * is over, and must find this alive (and `stop` set) when it wakes.
 */
struct exec_input {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct exec_chunk	*head, **tail;
	size_t			 pending;     /* chunks in the list */
	size_t			 inflight;    /* messages queued in the call */
	bool			 eof;
	bool			 stop;        /* the loop is gone: touch nothing */
	uv_async_t		*async;
	int			 refs;
};

struct exec_state {
	struct cli_conn		*conn;
	struct os_rpc_loop	 loop;
	struct os_rpc_ccall	*call;
	bool			 tty;
	bool			 done;

	struct exec_input	*in;
	uv_async_t		 async;

	uv_signal_t		 sigwinch;
	uv_signal_t		 sigint;
	uv_signal_t		 sigterm;
	uv_signal_t		 sighup;
	int			 interrupts;

	bool			 have_exit;
	int			 exit_code;
	char			*error;
	bool			 out_broken;
	bool			 we_cancelled;
};

static struct termios	exec_saved_tio;
static bool		exec_raw;

static void
exec_restore_tty(void)
{
	if (exec_raw) {
		tcsetattr(STDIN_FILENO, TCSADRAIN, &exec_saved_tio);
		exec_raw = false;
	}
}

static void
exec_make_raw(void)
{
	struct termios	t;

	if (tcgetattr(STDIN_FILENO, &exec_saved_tio) != 0)
		return;
	t = exec_saved_tio;
	cfmakeraw(&t);
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) == 0) {
		exec_raw = true;
		atexit(exec_restore_tty);
	}
}

static void
exec_write_all(struct exec_state *x, int fd, const uint8_t *p, size_t len)
{
	ssize_t	n;

	while (len > 0 && !x->out_broken) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* Nobody reads any more (`yes | head`): end the remote
			 * process as SIGPIPE would end a local one, and exit
			 * as a shell reports that (128 + SIGPIPE). */
			x->out_broken = true;
			if (!x->done) {
				x->we_cancelled = true;
				os_rpc_ccall_cancel(x->call);
			}
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

static void
exec_input_unref(struct exec_input *in)
{
	struct exec_chunk	*c;
	int			 refs;

	pthread_mutex_lock(&in->mu);
	refs = --in->refs;
	pthread_mutex_unlock(&in->mu);
	if (refs > 0)
		return;
	while ((c = in->head) != NULL) {
		in->head = c->next;
		free(c);
	}
	pthread_mutex_destroy(&in->mu);
	pthread_cond_destroy(&in->cv);
	free(in);
}

static void
exec_send(struct exec_state *x, const ExecUp *m)
{
	if (x->done)
		return;
	os_rpc_ccall_send(x->call, &m->base);
	pthread_mutex_lock(&x->in->mu);
	x->in->inflight = os_rpc_ccall_send_queued(x->call);
	pthread_mutex_unlock(&x->in->mu);
}

static void *
exec_stdin_thread(void *arg)
{
	struct exec_input	*in = arg;
	struct exec_chunk	*c;
	ssize_t			 n;

	for (;;) {
		pthread_mutex_lock(&in->mu);
		while (!in->stop && in->pending + in->inflight >= EXEC_MAX_INFLIGHT)
			pthread_cond_wait(&in->cv, &in->mu);
		if (in->stop) {
			pthread_mutex_unlock(&in->mu);
			break;
		}
		pthread_mutex_unlock(&in->mu);

		c = xmalloc(sizeof *c + EXEC_CHUNK);
		do
			n = read(STDIN_FILENO, c->data, EXEC_CHUNK);
		while (n < 0 && errno == EINTR);
		pthread_mutex_lock(&in->mu);
		if (n <= 0 || in->stop) {
			free(c);
			in->eof = true;
		} else {
			c->len = (size_t)n;
			c->next = NULL;
			*in->tail = c;
			in->tail = &c->next;
			in->pending++;
		}
		if (!in->stop)
			uv_async_send(in->async);
		pthread_mutex_unlock(&in->mu);
		if (n <= 0)
			break;
	}
	exec_input_unref(in);
	return NULL;
}

static void
exec_on_stdin(uv_async_t *a)
{
	struct exec_state	*x = a->data;
	struct exec_chunk	*list, *c;
	ExecUp			 m = OPENSHELL__SANDBOX__V1__EXEC_CLIENT_MESSAGE__INIT;
	bool			 eof;

	pthread_mutex_lock(&x->in->mu);
	list = x->in->head;
	x->in->head = NULL;
	x->in->tail = &x->in->head;
	x->in->pending = 0;
	eof = x->in->eof;
	x->in->eof = false;
	pthread_mutex_unlock(&x->in->mu);
	while ((c = list) != NULL) {
		list = c->next;
		m.msg_case = OPENSHELL__SANDBOX__V1__EXEC_CLIENT_MESSAGE__MSG_STDIN;
		m.stdin.data = (uint8_t *)c->data;
		m.stdin.len = c->len;
		exec_send(x, &m);
		free(c);
	}
	if (eof) {
		m.msg_case = OPENSHELL__SANDBOX__V1__EXEC_CLIENT_MESSAGE__MSG_STDIN_CLOSE;
		m.stdin_close = true;
		exec_send(x, &m);
	}
	pthread_cond_signal(&x->in->cv);
}

static void
exec_on_sent(struct os_rpc_ccall *call, void *arg)
{
	struct exec_state	*x = arg;

	pthread_mutex_lock(&x->in->mu);
	x->in->inflight = os_rpc_ccall_send_queued(call);
	pthread_cond_signal(&x->in->cv);
	pthread_mutex_unlock(&x->in->mu);
}

static void
exec_on_message(struct os_rpc_ccall *call, const ProtobufCMessage *msg, void *arg)
{
	struct exec_state	*x = arg;
	const ExecDown		*m = (const ExecDown *)msg;

	switch (m->msg_case) {
	case OPENSHELL__SANDBOX__V1__EXEC_SERVER_MESSAGE__MSG_STDOUT:
		exec_write_all(x, STDOUT_FILENO, m->stdout.data, m->stdout.len);
		break;
	case OPENSHELL__SANDBOX__V1__EXEC_SERVER_MESSAGE__MSG_STDERR:
		exec_write_all(x, STDERR_FILENO, m->stderr.data, m->stderr.len);
		break;
	case OPENSHELL__SANDBOX__V1__EXEC_SERVER_MESSAGE__MSG_EXIT:
		x->have_exit = true;
		x->exit_code = m->exit != NULL ? m->exit->code : 1;
		break;
	case OPENSHELL__SANDBOX__V1__EXEC_SERVER_MESSAGE__MSG_ERROR:
		free(x->error);
		x->error = xstrdup(m->error);
		break;
	default:
		break;
	}
}

static void
exec_close_handles(struct exec_state *x)
{
	uv_close((uv_handle_t *)&x->async, NULL);
	uv_close((uv_handle_t *)&x->sigwinch, NULL);
	uv_close((uv_handle_t *)&x->sigint, NULL);
	uv_close((uv_handle_t *)&x->sigterm, NULL);
	uv_close((uv_handle_t *)&x->sighup, NULL);
}

static void
exec_on_done(struct os_rpc_ccall *call, grpc_status_code st,
    const char *details, void *arg)
{
	struct exec_state	*x = arg;
	struct os_error		 err;

	x->done = true;
	exec_restore_tty();
	if (!x->have_exit && x->error == NULL && st != GRPC_STATUS_OK) {
		os_error_set(&err, st, "%s: %s", os_rpc_status_name(st),
		    details != NULL ? details : "");
		if (st == GRPC_STATUS_CANCELLED && x->we_cancelled)
			;       /* our own doing (a closed stdout): no message */
		else if (st == GRPC_STATUS_CANCELLED && x->interrupts > 0)
			x->exit_code = 130;
		else
			cli_report_call_error(x->conn, &err);
	} else if (!x->have_exit && x->error == NULL)
		cli_errx(_("the exec session ended without an exit status"));
	pthread_mutex_lock(&x->in->mu);
	x->in->stop = true;
	pthread_cond_signal(&x->in->cv);
	pthread_mutex_unlock(&x->in->mu);
	exec_close_handles(x);
	os_rpc_loop_shutdown(&x->loop);
}

static void
exec_send_size(struct exec_state *x)
{
	Openshell__Sandbox__V1__ExecResize	rs = OPENSHELL__SANDBOX__V1__EXEC_RESIZE__INIT;
	ExecUp					m = OPENSHELL__SANDBOX__V1__EXEC_CLIENT_MESSAGE__INIT;
	struct winsize				ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0)
		return;
	rs.cols = ws.ws_col;
	rs.rows = ws.ws_row;
	m.msg_case = OPENSHELL__SANDBOX__V1__EXEC_CLIENT_MESSAGE__MSG_RESIZE;
	m.resize = &rs;
	exec_send(x, &m);
}

static void
exec_on_signal(uv_signal_t *h, int sig)
{
	struct exec_state	*x = h->data;
	ExecUp			 m = OPENSHELL__SANDBOX__V1__EXEC_CLIENT_MESSAGE__INIT;

	if (sig == SIGWINCH) {
		exec_send_size(x);
		return;
	}
	/* The first ^C goes to the remote process; a second one gives up. */
	if (++x->interrupts > 1 || sig == SIGHUP) {
		os_rpc_ccall_cancel(x->call);
		return;
	}
	m.msg_case = OPENSHELL__SANDBOX__V1__EXEC_CLIENT_MESSAGE__MSG_SIGNAL;
	m.signal = sig;
	exec_send(x, &m);
}

static void
exec_signal_init(struct exec_state *x, uv_loop_t *uv, uv_signal_t *h, int sig)
{
	uv_signal_init(uv, h);
	h->data = x;
	uv_signal_start(h, exec_on_signal, sig);
}

int
cli_exec_run(struct cli_conn *conn, const struct cli_exec_opts *o)
{
	static const struct os_rpc_ccall_ops ops = {
		.on_message = exec_on_message,
		.on_done = exec_on_done,
		.on_sent = exec_on_sent,
	};
	Openshell__Sandbox__V1__ExecStart		 start =
	    OPENSHELL__SANDBOX__V1__EXEC_START__INIT;
	Openshell__Sandbox__V1__ExecStart__EnvEntry	*env = NULL, **envp = NULL;
	ExecUp						 m =
	    OPENSHELL__SANDBOX__V1__EXEC_CLIENT_MESSAGE__INIT;
	struct exec_state				 x;
	struct winsize					 ws;
	pthread_t					 thr;
	uv_loop_t					 uv;
	const char					*term;
	char						*path;
	size_t						 i;
	int						 rc;

	memset(&x, 0, sizeof x);
	x.conn = conn;
	x.tty = o->tty;
	x.in = xcalloc(1, sizeof *x.in);
	x.in->tail = &x.in->head;
	x.in->async = &x.async;
	x.in->refs = 1;
	pthread_mutex_init(&x.in->mu, NULL);
	pthread_cond_init(&x.in->cv, NULL);

	start.sandbox = (char *)o->sandbox;
	start.argv = (char **)o->argv;
	start.n_argv = o->argc;
	start.tty = o->tty;
	start.workdir = (char *)(o->workdir != NULL ? o->workdir : "");
	if (o->tty) {
		term = getenv("TERM");
		start.term = (char *)(term != NULL ? term : "xterm");
		if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col != 0) {
			start.cols = ws.ws_col;
			start.rows = ws.ws_row;
		} else {
			start.cols = 80;
			start.rows = 24;
		}
	}
	if (o->nenv > 0) {
		env = xcalloc(o->nenv, sizeof *env);
		envp = xcalloc(o->nenv, sizeof *envp);
		for (i = 0; i < o->nenv; i++) {
			char *eq = strchr(o->env[i], '=');

			openshell__sandbox__v1__exec_start__env_entry__init(&env[i]);
			env[i].key = eq != NULL ? xstrndup(o->env[i],
			    (size_t)(eq - o->env[i])) : xstrdup(o->env[i]);
			env[i].value = xstrdup(eq != NULL ? eq + 1 : "");
			envp[i] = &env[i];
		}
		start.env = envp;
		start.n_env = o->nenv;
	}

	uv_loop_init(&uv);
	if (os_rpc_loop_init(&x.loop, &uv) != 0) {
		cli_errx(_("cannot start the RPC loop"));
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	uv_async_init(&uv, &x.async, exec_on_stdin);
	x.async.data = &x;
	exec_signal_init(&x, &uv, &x.sigwinch, SIGWINCH);
	exec_signal_init(&x, &uv, &x.sigint, SIGINT);
	exec_signal_init(&x, &uv, &x.sigterm, SIGTERM);
	exec_signal_init(&x, &uv, &x.sighup, SIGHUP);

	path = cli_method("ExecSandbox");
	x.call = os_rpc_ccall_start(&x.loop, conn->ch, path, conn->token, 0,
	    &openshell__sandbox__v1__exec_server_message__descriptor, &ops, &x);
	free(path);
	m.msg_case = OPENSHELL__SANDBOX__V1__EXEC_CLIENT_MESSAGE__MSG_START;
	m.start = &start;
	exec_send(&x, &m);
	if (o->tty && isatty(STDIN_FILENO))
		exec_make_raw();
	x.in->refs++;
	if (pthread_create(&thr, NULL, exec_stdin_thread, x.in) == 0)
		pthread_detach(thr);
	else
		x.in->refs--;

	uv_run(&uv, UV_RUN_DEFAULT);
	os_rpc_loop_destroy(&x.loop);
	uv_loop_close(&uv);
	exec_restore_tty();

	if (x.error != NULL) {
		cli_errx("%s", x.error);
		rc = x.have_exit ? x.exit_code : CLI_EXIT_FAIL;
	} else if (x.out_broken)
		rc = 128 + SIGPIPE;
	else if (x.have_exit)
		rc = x.exit_code;
	else
		rc = x.exit_code != 0 ? x.exit_code : CLI_EXIT_FAIL;
out:
	for (i = 0; i < o->nenv; i++) {
		free(env[i].key);
		free(env[i].value);
	}
	free(env);
	free(envp);
	free(x.error);
	exec_input_unref(x.in);
	return rc;
}
