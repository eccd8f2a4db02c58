/*
 * The supervisor's side of the sandbox's init: forking it early, sending
 * its Setup, and turning its events (spawned, exited) into exec-session
 * updates on the loop.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"
#include "sup-setup.h"

typedef Openshell__Supervisor__V1__Event	ZEvent;

int
sup_zygote_fork(struct sup *s, struct os_error *err)
{
	int	sv[2];
	pid_t	pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return os_error_set(err, -errno, "socketpair: %s", strerror(errno));
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		return os_error_set(err, -errno, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		/* Nothing of the supervisor's may reach the sandbox but this
		 * socket: not the secret fd the gateway handed us (still
		 * unread, fd 3), not anything else inherited. */
		if (sv[1] != 3) {
			if (dup2(sv[1], 3) < 0)
				_exit(1);
			close(sv[1]);
		}
		fcntl(3, F_SETFD, FD_CLOEXEC);
		close_range(4, ~0U, 0);
		zygote_main(3);
	}
	close(sv[1]);
	s->zfd = sv[0];
	s->zygote_pid = pid;
	return 0;
}

int
sup_zygote_setup(struct sup *s, const SupPbConfig *cfg, struct os_error *err)
{
	Openshell__Supervisor__V1__Request	 req =
	    OPENSHELL__SUPERVISOR__V1__REQUEST__INIT;
	struct sup_setup			 setup;
	ProtobufCMessage			*m;
	ZEvent					*ev;
	struct pollfd				 pfd;
	size_t					 nfds, i, k = 0;
	int					 fds[4], rc;

	if ((rc = sup_setup_build(s, cfg, &setup, err)) != 0)
		return rc;
	s->agent_uid = setup.pb.uid;
	s->agent_gid = setup.pb.gid;
	req.msg_case = OPENSHELL__SUPERVISOR__V1__REQUEST__MSG_SETUP;
	req.setup = &setup.pb;
	rc = zmsg_send(s->zfd, &req.base, NULL, 0);
	sup_setup_clear(&setup);
	if (rc != 0)
		return os_error_set(err, rc,
		    _("cannot reach the sandbox's init: %s"), strerror(-rc));
	/* Building a root filesystem takes well under a second; be generous. */
	pfd.fd = s->zfd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 30000) <= 0)
		return os_error_set(err, -ETIMEDOUT,
		    _("the sandbox's init did not report back within 30 s"));
	rc = zmsg_recv(s->zfd, &openshell__supervisor__v1__event__descriptor, &m,
	    fds, OS_NELEM(fds), &nfds);
	if (rc <= 0)
		return os_error_set(err, -EPIPE,
		    _("the sandbox's init exited while building the sandbox"));
	ev = (ZEvent *)m;
	if (ev->msg_case == OPENSHELL__SUPERVISOR__V1__EVENT__MSG_FAILED) {
		os_error_set(err, -EPERM, "%s", ev->failed->error);
		protobuf_c_message_free_unpacked(m, NULL);
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		return err->code;
	}
	if (ev->msg_case != OPENSHELL__SUPERVISOR__V1__EVENT__MSG_READY) {
		protobuf_c_message_free_unpacked(m, NULL);
		return os_error_set(err, -EBADMSG, "unexpected first event from the init");
	}
	s->init_pid = ev->ready->init_pid;
	s->proxy_fd = s->dns_fd = -1;
	if (s->isolate) {
		if (k < nfds)
			s->proxy_fd = fds[k++];
		if (k < nfds)
			s->dns_fd = fds[k++];
	}
	for (i = k; i < nfds; i++)
		close(fds[i]);
	for (i = 0; i < ev->ready->n_notes; i++)
		sup_logf(s, OS_LOG_WARN, "sandbox", "%s", ev->ready->notes[i]);
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}

static void
sup_zygote_gone(struct sup *s)
{
	int	status = 0;

	uv_poll_stop(&s->zpoll);
	waitpid(s->zygote_pid, &status, WNOHANG);
	if (!s->stopping) {
		log_error("the sandbox's init exited unexpectedly; stopping");
		s->exit_code = 1;
		kill(getpid(), SIGTERM);
	}
}

static void
sup_zygote_readable(uv_poll_t *h, int status, int events)
{
	struct sup		*s = h->data;
	ProtobufCMessage	*m;
	ZEvent			*ev;
	int			 fds[4], rc;
	size_t			 nfds, i;

	rc = zmsg_recv(s->zfd, &openshell__supervisor__v1__event__descriptor, &m,
	    fds, OS_NELEM(fds), &nfds);
	if (rc == -EAGAIN)
		return;
	if (rc <= 0) {
		sup_zygote_gone(s);
		return;
	}
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	ev = (ZEvent *)m;
	switch (ev->msg_case) {
	case OPENSHELL__SUPERVISOR__V1__EVENT__MSG_SPAWNED:
		sup_exec_spawned(s, ev->spawned->id, ev->spawned->pid,
		    *ev->spawned->error != '\0' ? ev->spawned->error : NULL,
		    ev->spawned->exit_code);
		break;
	case OPENSHELL__SUPERVISOR__V1__EVENT__MSG_EXITED:
		sup_exec_exited(s, ev->exited->id, ev->exited->code,
		    ev->exited->signal);
		break;
	default:
		break;
	}
	protobuf_c_message_free_unpacked(m, NULL);
}

void
sup_zygote_watch(struct sup *s)
{
	uv_poll_init(s->uv, &s->zpoll, s->zfd);
	s->zpoll.data = s;
	uv_poll_start(&s->zpoll, UV_READABLE | UV_DISCONNECT, sup_zygote_readable);
}

int
sup_zygote_spawn(struct sup *s, uint64_t id,
    const Openshell__Sandbox__V1__ExecStart *st, const int *fds, size_t nfds)
{
	Openshell__Supervisor__V1__Request	 req =
	    OPENSHELL__SUPERVISOR__V1__REQUEST__INIT;
	Openshell__Supervisor__V1__Spawn	 sp =
	    OPENSHELL__SUPERVISOR__V1__SPAWN__INIT;
	char					**env;
	size_t					  i;
	int					  rc;

	sp.id = id;
	sp.argv = st->argv;
	sp.n_argv = st->n_argv;
	sp.cwd = st->workdir;
	sp.tty = st->tty;
	env = xcalloc(st->n_env + 2, sizeof *env);
	for (i = 0; i < st->n_env; i++)
		env[i] = xprintf("%s=%s", st->env[i]->key, st->env[i]->value);
	sp.n_env = st->n_env;
	if (st->tty && *st->term != '\0')
		env[sp.n_env++] = xprintf("TERM=%s", st->term);
	sp.env = env;
	req.msg_case = OPENSHELL__SUPERVISOR__V1__REQUEST__MSG_SPAWN;
	req.spawn = &sp;
	rc = zmsg_send(s->zfd, &req.base, fds, nfds);
	os_strv_free(env, sp.n_env);
	return rc;
}

void
sup_zygote_signal(struct sup *s, uint64_t id, int sig)
{
	Openshell__Supervisor__V1__Request	req =
	    OPENSHELL__SUPERVISOR__V1__REQUEST__INIT;
	Openshell__Supervisor__V1__Signal	sg =
	    OPENSHELL__SUPERVISOR__V1__SIGNAL__INIT;

	sg.id = id;
	sg.signal = sig;
	req.msg_case = OPENSHELL__SUPERVISOR__V1__REQUEST__MSG_SIGNAL;
	req.signal = &sg;
	zmsg_send(s->zfd, &req.base, NULL, 0);
}
