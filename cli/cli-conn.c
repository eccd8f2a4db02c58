/*
 * Talking to the gateway: the local unix socket with the operator token
 * from the state directory, or a remote gateway over mTLS with the
 * operator certificate `openshell gateway start --tls` issued. Also the
 * watch-stream runner that create, policy set --wait and logs -f share.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define CLI_CALL_TIMEOUT_MS	30000

static int
conn_remote(struct cli_conn *c)
{
	struct os_rpc_tls	 tls;
	struct os_error		 err;
	char			*dir, *ca = NULL, *cert = NULL, *key = NULL;
	char			*p;
	size_t			 len;
	int			 rc = CLI_EXIT_FAIL;

	os_error_clear(&err);
	dir = cli_g.tls_dir != NULL ? xstrdup(cli_g.tls_dir) :
	    xprintf("%s/tls", c->state_dir);
	p = xprintf("%s/ca.pem", dir);
	ca = cli_read_file(p, &len, &err);
	free(p);
	if (ca != NULL) {
		p = xprintf("%s/operator.pem", dir);
		cert = cli_read_file(p, &len, &err);
		free(p);
	}
	if (cert != NULL) {
		p = xprintf("%s/operator-key.pem", dir);
		key = cli_read_file(p, &len, &err);
		free(p);
	}
	if (key == NULL) {
		cli_errx(_("cannot read the operator certificate for %s: %s "
		    "(copy ca.pem, operator.pem and operator-key.pem from the "
		    "gateway's tls directory and pass --tls-dir)"), cli_g.gateway,
		    err.msg);
		goto out;
	}
	memset(&tls, 0, sizeof tls);
	tls.ca_pem = ca;
	tls.cert_pem = cert;
	tls.key_pem = key;
	c->target = xstrdup(cli_g.gateway);
	if ((c->ch = os_rpc_channel_new(c->target, &tls, &err)) == NULL) {
		cli_errx("%s", err.msg);
		goto out;
	}
	rc = CLI_EXIT_OK;
out:
	free(dir);
	free(ca);
	free(cert);
	if (key != NULL) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
	return rc;
}

int
cli_connect(struct cli_conn *c)
{
	struct os_error	 err;
	struct stat	 st;
	char		*sock, *tokpath, *tok;
	size_t		 len;

	memset(c, 0, sizeof *c);
	c->state_dir = cli_state_dir();
	grpc_init();
	if (cli_g.gateway != NULL)
		return conn_remote(c);

	os_error_clear(&err);
	sock = xprintf("%s/gateway.sock", c->state_dir);
	if (stat(sock, &st) != 0) {
		cli_errx(_("no gateway is running on %s (start one with "
		    "'openshell gateway start')"), c->state_dir);
		free(sock);
		return CLI_EXIT_FAIL;
	}
	tokpath = xprintf("%s/operator.token", c->state_dir);
	if ((tok = cli_read_file(tokpath, &len, &err)) == NULL) {
		cli_errx(err.code == -EACCES ?
		    _("cannot read the operator token %s: permission denied "
		    "(run as the gateway's user, or point --state-dir at "
		    "your own gateway)") :
		    _("cannot read the operator token: %s"),
		    err.code == -EACCES ? tokpath : err.msg);
		free(tokpath);
		free(sock);
		return CLI_EXIT_FAIL;
	}
	free(tokpath);
	tok[strcspn(tok, "\r\n")] = '\0';
	c->token = tok;
	c->target = xprintf("unix:%s", sock);
	free(sock);
	if ((c->ch = os_rpc_channel_new(c->target, NULL, &err)) == NULL) {
		cli_errx("%s", err.msg);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

void
cli_conn_close(struct cli_conn *c)
{
	if (c->ch != NULL)
		grpc_channel_destroy(c->ch);
	if (c->token != NULL) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	free(c->target);
	free(c->state_dir);
	memset(c, 0, sizeof *c);
	grpc_shutdown_blocking();
}

char *
cli_method(const char *method)
{
	return xprintf("/openshell.v1.OpenShell/%s", method);
}

void
cli_report_call_error(const struct cli_conn *c, const struct os_error *err)
{
	const char	*msg = err->msg, *colon;

	if (err->code == GRPC_STATUS_UNAVAILABLE) {
		if (cli_g.gateway == NULL)
			cli_errx(_("no gateway is running on %s (start one with "
			    "'openshell gateway start')"), c->state_dir);
		else
			cli_errx(_("cannot reach the gateway at %s: %s"),
			    cli_g.gateway, msg);
		return;
	}
	/* "STATUS_NAME: details": the details are what a user needs. Only
	 * the status name goes: "name: invalid ..." names the field. */
	if ((colon = strstr(msg, ": ")) != NULL && colon - msg < 32 &&
	    colon[2] != '\0' && colon > msg &&
	    strspn(msg, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == (size_t)(colon - msg))
		msg = colon + 2;
	if (strchr(msg, '\n') != NULL)
		fprintf(stderr, "openshell: %s%s", msg,
		    msg[strlen(msg) - 1] == '\n' ? "" : "\n");
	else
		cli_errx("%s", msg);
}

grpc_status_code
cli_call_quiet(struct cli_conn *c, const char *method,
    const ProtobufCMessage *req, const ProtobufCMessageDescriptor *desc,
    ProtobufCMessage **resp, int64_t timeout_ms, struct os_error *err)
{
	grpc_status_code	 st;
	char			*path;

	path = cli_method(method);
	st = os_rpc_call_sync(c->ch, path, c->token, req, desc, resp,
	    timeout_ms > 0 ? timeout_ms : CLI_CALL_TIMEOUT_MS, err);
	free(path);
	return st;
}

int
cli_call(struct cli_conn *c, const char *method, const ProtobufCMessage *req,
    const ProtobufCMessageDescriptor *desc, ProtobufCMessage **resp)
{
	struct os_error	err;

	os_error_clear(&err);
	if (cli_call_quiet(c, method, req, desc, resp, 0, &err) != GRPC_STATUS_OK) {
		cli_report_call_error(c, &err);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------------
 * Watch streams on a private loop.
 */
struct cli_watch_state {
	struct cli_conn		*conn;
	struct os_rpc_loop	 loop;
	struct os_rpc_ccall	*call;
	uv_timer_t		 timer;
	int			(*on_event)(const Openshell__V1__SandboxStreamEvent *,
				    void *);
	void			*arg;
	int			 verdict;    /* what on_event stopped with */
	bool			 timed_out;
	bool			 stopped;
	int			 rc;
};

static void
watch_stop(struct cli_watch_state *w)
{
	if (w->stopped)
		return;
	w->stopped = true;
	os_rpc_ccall_cancel(w->call);
}

static void
watch_on_message(struct os_rpc_ccall *call, const ProtobufCMessage *m, void *arg)
{
	struct cli_watch_state	*w = arg;
	int			 v;

	if (w->stopped)
		return;
	v = w->on_event((const Openshell__V1__SandboxStreamEvent *)m, w->arg);
	if (v != 0) {
		w->verdict = v;
		watch_stop(w);
	}
}

static void
watch_on_done(struct os_rpc_ccall *call, grpc_status_code st,
    const char *details, void *arg)
{
	struct cli_watch_state	*w = arg;
	struct os_error		 err;

	uv_close((uv_handle_t *)&w->timer, NULL);
	if (w->timed_out)
		w->rc = CLI_EXIT_TIMEOUT;
	else if (w->verdict != 0)
		w->rc = w->verdict > 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
	else if (st == GRPC_STATUS_OK) {
		cli_errx(_("the gateway ended the stream"));
		w->rc = CLI_EXIT_FAIL;
	} else {
		os_error_set(&err, st, "%s: %s", os_rpc_status_name(st),
		    details != NULL ? details : "");
		cli_report_call_error(w->conn, &err);
		w->rc = CLI_EXIT_FAIL;
	}
	os_rpc_loop_shutdown(&w->loop);
}

static void
watch_on_timer(uv_timer_t *t)
{
	struct cli_watch_state	*w = t->data;

	w->timed_out = true;
	watch_stop(w);
}

int
cli_watch(struct cli_conn *c, const Openshell__V1__WatchSandboxRequest *req,
    int (*on_event)(const Openshell__V1__SandboxStreamEvent *, void *),
    void *arg, int64_t timeout_ms)
{
	static const struct os_rpc_ccall_ops ops = {
		.on_message = watch_on_message,
		.on_done = watch_on_done,
	};
	struct cli_watch_state	 w;
	uv_loop_t		 uv;
	char			*path;

	memset(&w, 0, sizeof w);
	w.conn = c;
	w.on_event = on_event;
	w.arg = arg;
	uv_loop_init(&uv);
	if (os_rpc_loop_init(&w.loop, &uv) != 0) {
		cli_errx(_("cannot start the RPC loop"));
		uv_loop_close(&uv);
		return CLI_EXIT_FAIL;
	}
	uv_timer_init(&uv, &w.timer);
	w.timer.data = &w;
	if (timeout_ms > 0)
		uv_timer_start(&w.timer, watch_on_timer, (uint64_t)timeout_ms, 0);
	path = cli_method("WatchSandbox");
	w.call = os_rpc_ccall_start(&w.loop, c->ch, path, c->token, 0,
	    &openshell__v1__sandbox_stream_event__descriptor, &ops, &w);
	free(path);
	os_rpc_ccall_send(w.call, &req->base);
	os_rpc_ccall_close_send(w.call);
	uv_run(&uv, UV_RUN_DEFAULT);
	os_rpc_loop_destroy(&w.loop);
	uv_loop_close(&uv);
	return w.rc;
}
