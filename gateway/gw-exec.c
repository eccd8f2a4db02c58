/*
 * ExecSandbox: the operator's bidirectional stream relayed, message for
 * message, to the supervisor's own exec service. Each direction has flow
 * control: when one side's send queue grows, the other side stops being
 * read until it drains, so a fast producer (cat of a large file) cannot
 * make the gateway buffer without bound.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "gateway.h"

#define EXEC_HIGH 64       /* queued messages before the source is paused */
#define EXEC_LOW 8         /* ... and resumed */

struct gw_exec {
	struct gw		*gw;
	struct os_rpc_call	*call;      /* operator side */
	struct os_rpc_ccall	*up;        /* supervisor side */
	grpc_channel		*ch;
	char			*sandbox;
	bool			 started;
	bool			 up_done;
	bool			 down_closed;
	bool			 got_exit;
	bool			 up_paused;
	bool			 down_paused;
	int			 refs;
};

static void
gw_exec_unref(struct gw_exec *x)
{
	if (--x->refs > 0)
		return;
	if (x->ch != NULL)
		grpc_channel_destroy(x->ch);
	free(x->sandbox);
	free(x);
}

static void
gw_exec_up_message(struct os_rpc_ccall *up, const ProtobufCMessage *m, void *arg)
{
	const Openshell__Sandbox__V1__ExecServerMessage *msg = (const void *)m;
	struct gw_exec	*x = arg;

	if (x->down_closed)
		return;
	if (msg->msg_case == OPENSHELL__SANDBOX__V1__EXEC_SERVER_MESSAGE__MSG_EXIT ||
	    msg->msg_case == OPENSHELL__SANDBOX__V1__EXEC_SERVER_MESSAGE__MSG_ERROR)
		x->got_exit = true;
	if (os_rpc_send(x->call, m) >= EXEC_HIGH && !x->up_paused) {
		x->up_paused = true;
		os_rpc_ccall_pause(up, true);
	}
}

static void
gw_exec_up_done(struct os_rpc_ccall *up, grpc_status_code st,
    const char *details, void *arg)
{
	struct gw_exec	*x = arg;

	x->up_done = true;
	x->up = NULL;
	if (!x->down_closed) {
		if (st == GRPC_STATUS_OK || x->got_exit)
			os_rpc_finish(x->call, GRPC_STATUS_OK, NULL);
		else
			os_rpc_fail(x->call, st == GRPC_STATUS_UNAVAILABLE ?
			    GRPC_STATUS_UNAVAILABLE : st,
			    _("sandbox '%s': exec service: %s"), x->sandbox, details);
	}
	gw_exec_unref(x);
}

static void
gw_exec_up_sent(struct os_rpc_ccall *up, void *arg)
{
	struct gw_exec	*x = arg;

	if (x->down_paused && os_rpc_ccall_send_queued(up) <= EXEC_LOW) {
		x->down_paused = false;
		os_rpc_call_pause(x->call, false);
	}
}

static void
gw_exec_down_drained(struct os_rpc_call *call, void *arg)
{
	struct gw_exec	*x = arg;

	if (x->up_paused && x->up != NULL) {
		x->up_paused = false;
		os_rpc_ccall_pause(x->up, false);
	}
}

static bool
gw_exec_start(struct gw_exec *x, const Openshell__Sandbox__V1__ExecClientMessage *m)
{
	static const struct os_rpc_ccall_ops ops = {
		gw_exec_up_message, gw_exec_up_done, gw_exec_up_sent,
	};
	struct gw_caller	 caller;
	struct store_sandbox	 sb;
	struct os_error		 err;
	char			*target;
	bool			 ok = false;

	if (m->msg_case != OPENSHELL__SANDBOX__V1__EXEC_CLIENT_MESSAGE__MSG_START) {
		os_rpc_fail(x->call, GRPC_STATUS_INVALID_ARGUMENT,
		    _("start: the first message of an exec session must be 'start'"));
		return false;
	}
	memset(&caller, 0, sizeof caller);
	caller.role = GW_ROLE_OPERATOR;
	if (gw_sandbox_resolve_field(x->gw, x->call, &caller, "start.sandbox",
	    m->start->sandbox, &sb) != 0)
		return false;
	x->sandbox = xstrdup(sb.name);
	if (sb.phase != STORE_PHASE_READY) {
		/* One whole sentence per phase, so that a translation can put
		 * the phase where its grammar wants it. */
		os_rpc_fail(x->call, GRPC_STATUS_FAILED_PRECONDITION,
		    sb.phase == STORE_PHASE_PROVISIONING ?
		    _("sandbox '%s' is not ready (it is provisioning%s%s)") :
		    sb.phase == STORE_PHASE_ERROR ?
		    _("sandbox '%s' is not ready (it is in error%s%s)") :
		    sb.phase == STORE_PHASE_STOPPED ?
		    _("sandbox '%s' is not ready (it is stopped%s%s)") :
		    _("sandbox '%s' is not ready (it is being deleted%s%s)"),
		    sb.name, sb.error != NULL ? ": " : "",
		    sb.error != NULL ? sb.error : "");
		goto out;
	}
	target = x->gw->driver->exec_target(x->gw, sb.id);
	x->ch = os_rpc_channel_new(target, NULL, &err);
	free(target);
	if (x->ch == NULL) {
		os_rpc_fail(x->call, GRPC_STATUS_INTERNAL, "%s", err.msg);
		goto out;
	}
	x->refs++;
	x->up = os_rpc_ccall_start(&x->gw->loop, x->ch,
	    "/openshell.sandbox.v1.SandboxExec/Exec", NULL, 0,
	    &openshell__sandbox__v1__exec_server_message__descriptor, &ops, x);
	os_rpc_ccall_send(x->up, &m->base);
	x->started = true;
	ok = true;
out:
	store_sandbox_clear(&sb);
	return ok;
}

static void
gw_exec_down_message(struct os_rpc_call *call, const ProtobufCMessage *m,
    void *arg)
{
	struct gw_exec	*x = arg;

	if (m == NULL) {
		/* The operator half-closed: so do we, after what is queued. */
		if (x->up != NULL)
			os_rpc_ccall_close_send(x->up);
		else if (!x->started)
			os_rpc_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
			    _("start: the exec session ended before it started"));
		return;
	}
	if (!x->started) {
		gw_exec_start(x, (const void *)m);
		return;
	}
	if (x->up == NULL)
		return;
	os_rpc_ccall_send(x->up, m);
	if (os_rpc_ccall_send_queued(x->up) >= EXEC_HIGH && !x->down_paused) {
		x->down_paused = true;
		os_rpc_call_pause(call, true);
	}
}

static void
gw_exec_down_close(struct os_rpc_call *call, void *arg)
{
	struct gw_exec	*x = arg;

	x->down_closed = true;
	if (x->up != NULL)
		os_rpc_ccall_cancel(x->up);
	os_rpc_call_unref(call);
	gw_exec_unref(x);
}

void
gw_rpc_exec(struct os_rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	struct gw	*gw = arg;
	struct gw_caller caller;
	struct gw_exec	*x;

	if (!gw_auth_operator(gw, call, &caller))
		return;
	gw_caller_clear(&caller);
	x = xcalloc(1, sizeof *x);
	x->gw = gw;
	x->call = call;
	x->refs = 1;          /* the operator side, dropped on close */
	os_rpc_call_ref(call);
	os_rpc_call_on_close(call, gw_exec_down_close, x);
	os_rpc_call_on_drain(call, EXEC_LOW, gw_exec_down_drained, x);
	os_rpc_call_on_message(call, gw_exec_down_message,
	    &openshell__sandbox__v1__exec_client_message__descriptor, x);
}
