/*
 * The gRPC plumbing end to end over a unix socket in a temporary
 * directory: unary, server-streaming and bidirectional calls, UNIMPLEMENTED
 * for unknown methods, bearer metadata, and a clean shutdown.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "os-rpc.h"
#include "tap.h"

#define SVC "/openshell.v1.OpenShell/"

static struct os_rpc_loop	 loop;
static struct os_rpc_server	*srv;
static uv_async_t		 stop_async;
static char			 target[320];
static char			 tmpdir[] = "/tmp/os-test-rpc.XXXXXX";
static char			 seen_token[128];

static void
h_health(struct os_rpc_call *c, const ProtobufCMessage *req, void *arg)
{
	Openshell__V1__HealthResponse	resp = OPENSHELL__V1__HEALTH_RESPONSE__INIT;
	char				*t;

	if ((t = os_rpc_bearer_token(os_rpc_call_metadata(c))) != NULL) {
		snprintf(seen_token, sizeof seen_token, "%s", t);
		free(t);
	}
	resp.status = (char *)"serving";
	os_rpc_reply(c, &resp.base);
}

static void
h_watch(struct os_rpc_call *c, const ProtobufCMessage *req, void *arg)
{
	const Openshell__V1__WatchSandboxRequest *r = (const void *)req;
	Openshell__V1__SandboxStreamEvent	ev = OPENSHELL__V1__SANDBOX_STREAM_EVENT__INIT;
	unsigned				i;

	for (i = 0; i < r->log_tail_lines; i++) {
		ev.seq = i + 1;
		ev.sandbox_name = r->name;
		os_rpc_send(c, &ev.base);
	}
	os_rpc_finish(c, GRPC_STATUS_OK, NULL);
}

static void
h_exec_msg(struct os_rpc_call *c, const ProtobufCMessage *m, void *arg)
{
	const Openshell__Sandbox__V1__ExecClientMessage *in = (const void *)m;
	Openshell__Sandbox__V1__ExecServerMessage	out =
	    OPENSHELL__SANDBOX__V1__EXEC_SERVER_MESSAGE__INIT;
	Openshell__Sandbox__V1__ExecExit		ex =
	    OPENSHELL__SANDBOX__V1__EXEC_EXIT__INIT;

	if (in == NULL || in->msg_case ==
	    OPENSHELL__SANDBOX__V1__EXEC_CLIENT_MESSAGE__MSG_STDIN_CLOSE) {
		ex.code = 7;
		out.msg_case = OPENSHELL__SANDBOX__V1__EXEC_SERVER_MESSAGE__MSG_EXIT;
		out.exit = &ex;
		os_rpc_send(c, &out.base);
		os_rpc_finish(c, GRPC_STATUS_OK, NULL);
		return;
	}
	if (in->msg_case == OPENSHELL__SANDBOX__V1__EXEC_CLIENT_MESSAGE__MSG_STDIN) {
		out.msg_case = OPENSHELL__SANDBOX__V1__EXEC_SERVER_MESSAGE__MSG_STDOUT;
		out.stdout = in->stdin;
		os_rpc_send(c, &out.base);
	}
}

static void
h_exec(struct os_rpc_call *c, const ProtobufCMessage *req, void *arg)
{
	os_rpc_call_on_message(c, h_exec_msg,
	    &openshell__sandbox__v1__exec_client_message__descriptor, NULL);
}

static const struct os_rpc_method methods[] = {
	{ SVC "Health", OS_RPC_UNARY, &openshell__v1__health_request__descriptor,
	  h_health, NULL },
	{ SVC "WatchSandbox", OS_RPC_SERVER_STREAM,
	  &openshell__v1__watch_sandbox_request__descriptor, h_watch, NULL },
	{ SVC "ExecSandbox", OS_RPC_BIDI, NULL, h_exec, NULL },
};

/* ------------------------------------------------------------------------
 * Async client state, driven on the loop.
 */
static int	 watch_msgs, watch_status = -1;
static int	 exec_exit = -1, exec_status = -1;
static struct os_buf exec_out = OS_BUF_INIT;
static grpc_channel *async_ch;
static int	 async_pending;

static void
watch_msg(struct os_rpc_ccall *c, const ProtobufCMessage *m, void *arg)
{
	const Openshell__V1__SandboxStreamEvent *ev = (const void *)m;

	if (ev->seq == (uint64_t)watch_msgs + 1)
		watch_msgs++;
}

static void
watch_done(struct os_rpc_ccall *c, grpc_status_code st, const char *d, void *arg)
{
	watch_status = st;
	async_pending--;
}

static void
exec_msg(struct os_rpc_ccall *c, const ProtobufCMessage *m, void *arg)
{
	const Openshell__Sandbox__V1__ExecServerMessage *in = (const void *)m;

	if (in->msg_case == OPENSHELL__SANDBOX__V1__EXEC_SERVER_MESSAGE__MSG_STDOUT)
		os_buf_add(&exec_out, in->stdout.data, in->stdout.len);
	else if (in->msg_case == OPENSHELL__SANDBOX__V1__EXEC_SERVER_MESSAGE__MSG_EXIT)
		exec_exit = in->exit->code;
}

static void
exec_done(struct os_rpc_ccall *c, grpc_status_code st, const char *d, void *arg)
{
	exec_status = st;
	async_pending--;
}

static void
server_done(void *arg)
{
	os_rpc_loop_shutdown(&loop);
}

static void
stop_cb(uv_async_t *a)
{
	uv_close((uv_handle_t *)a, NULL);
	if (async_ch != NULL)
		grpc_channel_destroy(async_ch);
	async_ch = NULL;
	os_rpc_server_shutdown(srv, 1000, server_done, NULL);
}

static void
start_async(void)
{
	static const struct os_rpc_ccall_ops wops = { watch_msg, watch_done };
	static const struct os_rpc_ccall_ops eops = { exec_msg, exec_done };
	Openshell__V1__WatchSandboxRequest	 w = OPENSHELL__V1__WATCH_SANDBOX_REQUEST__INIT;
	Openshell__Sandbox__V1__ExecClientMessage m =
	    OPENSHELL__SANDBOX__V1__EXEC_CLIENT_MESSAGE__INIT;
	struct os_rpc_ccall			*c;
	static const char			 chunk1[] = "hello\0", chunk2[] = " world";

	async_ch = os_rpc_channel_new(target, NULL, NULL);
	w.name = (char *)"demo";
	w.log_tail_lines = 5;
	c = os_rpc_ccall_start(&loop, async_ch, SVC "WatchSandbox", "tok", 5000,
	    &openshell__v1__sandbox_stream_event__descriptor, &wops, NULL);
	os_rpc_ccall_send(c, &w.base);
	os_rpc_ccall_close_send(c);
	async_pending++;

	c = os_rpc_ccall_start(&loop, async_ch, SVC "ExecSandbox", "tok", 5000,
	    &openshell__sandbox__v1__exec_server_message__descriptor, &eops, NULL);
	m.msg_case = OPENSHELL__SANDBOX__V1__EXEC_CLIENT_MESSAGE__MSG_STDIN;
	m.stdin.data = (uint8_t *)chunk1;
	m.stdin.len = 6;               /* includes a NUL: binary-safe */
	os_rpc_ccall_send(c, &m.base);
	m.stdin.data = (uint8_t *)chunk2;
	m.stdin.len = 6;
	os_rpc_ccall_send(c, &m.base);
	m.msg_case = OPENSHELL__SANDBOX__V1__EXEC_CLIENT_MESSAGE__MSG_STDIN_CLOSE;
	m.stdin_close = 1;
	os_rpc_ccall_send(c, &m.base);
	os_rpc_ccall_close_send(c);
	async_pending++;
}

/* ------------------------------------------------------------------------
 * Synchronous client, on its own thread while the loop serves.
 */
static grpc_status_code	 health_status, unimpl_status;
static char		 health_reply[64], unimpl_msg[1100];

static void *
sync_client(void *arg)
{
	Openshell__V1__HealthRequest	 req = OPENSHELL__V1__HEALTH_REQUEST__INIT;
	ProtobufCMessage		*resp;
	struct os_error			 err;
	grpc_channel			*ch;

	ch = os_rpc_channel_new(target, NULL, NULL);
	health_status = os_rpc_call_sync(ch, SVC "Health", "secret-token",
	    &req.base, &openshell__v1__health_response__descriptor, &resp, 5000,
	    &err);
	if (resp != NULL) {
		snprintf(health_reply, sizeof health_reply, "%s",
		    ((Openshell__V1__HealthResponse *)resp)->status);
		protobuf_c_message_free_unpacked(resp, NULL);
	}
	unimpl_status = os_rpc_call_sync(ch, SVC "NoSuchMethod", NULL,
	    &req.base, &openshell__v1__health_response__descriptor, &resp, 5000,
	    &err);
	snprintf(unimpl_msg, sizeof unimpl_msg, "%s", err.msg);
	grpc_channel_destroy(ch);
	/* Wait for the async calls, then stop the server. */
	while (__atomic_load_n(&async_pending, __ATOMIC_SEQ_CST) > 0)
		usleep(10000);
	uv_async_send(&stop_async);
	return NULL;
}

static void
t_rpc_roundtrip(void)
{
	struct os_rpc_server_options	 o;
	struct os_error			 err;
	const char			*listen[1];
	pthread_t			 th;
	char				 sock[300];

	CHECK(mkdtemp(tmpdir) != NULL);
	snprintf(sock, sizeof sock, "%s/s.sock", tmpdir);
	snprintf(target, sizeof target, "unix:%s", sock);
	listen[0] = target;
	memset(&o, 0, sizeof o);
	o.listen = listen;
	o.nlisten = 1;

	CHECK_INT(os_rpc_loop_init(&loop, uv_default_loop()), 0);
	CHECK_INT(os_rpc_server_start(&loop, methods, OS_NELEM(methods), &o,
	    &srv, &err), 0);
	uv_async_init(uv_default_loop(), &stop_async, stop_cb);
	start_async();
	pthread_create(&th, NULL, sync_client, NULL);
	uv_run(uv_default_loop(), UV_RUN_DEFAULT);
	pthread_join(th, NULL);
	os_rpc_server_free(srv);
	os_rpc_loop_destroy(&loop);

	CHECK_INT(health_status, GRPC_STATUS_OK);
	CHECK_STR(health_reply, "serving");
	CHECK_STR(seen_token, "secret-token");
	CHECK_INT(unimpl_status, GRPC_STATUS_UNIMPLEMENTED);
	CHECK_CONTAINS(unimpl_msg, "NoSuchMethod");
	CHECK_INT(watch_msgs, 5);
	CHECK_INT(watch_status, GRPC_STATUS_OK);
	CHECK_INT(exec_status, GRPC_STATUS_OK);
	CHECK_INT(exec_exit, 7);
	CHECK_INT(exec_out.len, 12);
	CHECK(exec_out.len == 12 && memcmp(exec_out.data, "hello\0 world", 12) == 0);
	os_buf_free(&exec_out);
	unlink(sock);
	rmdir(tmpdir);
}

/*
 * A listen address that cannot be had, after one that could: an error
 * naming it, and no abort (grpc refuses to destroy a server with
 * listeners that was never shut down).
 */
static void
t_rpc_listen_in_use(void)
{
	struct os_rpc_server_options	 o;
	struct os_rpc_server		*s2 = NULL;
	struct os_rpc_loop		 l2;
	struct os_error			 err;
	struct sockaddr_in		 sin;
	socklen_t			 len = sizeof sin;
	const char			*addrs[2];
	char				 dir[] = "/tmp/os-test-rpc2.XXXXXX";
	char				 sock[300], tcp[64], *t;
	uv_loop_t			 uv;
	int				 fd, rc;

	CHECK(mkdtemp(dir) != NULL);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_INT(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	CHECK_INT(listen(fd, 1), 0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	snprintf(sock, sizeof sock, "unix:%s/s.sock", dir);
	snprintf(tcp, sizeof tcp, "127.0.0.1:%u", (unsigned)ntohs(sin.sin_port));
	addrs[0] = sock;
	addrs[1] = tcp;
	memset(&o, 0, sizeof o);
	o.listen = addrs;
	o.nlisten = 2;
	uv_loop_init(&uv);
	CHECK_INT(os_rpc_loop_init(&l2, &uv), 0);
	os_error_clear(&err);
	rc = os_rpc_server_start(&l2, methods, OS_NELEM(methods), &o, &s2, &err);
	CHECK(rc < 0);
	CHECK(s2 == NULL);
	t = xprintf("cannot listen on %s", tcp);
	CHECK_CONTAINS(err.msg, t);
	free(t);
	os_rpc_loop_shutdown(&l2);
	uv_run(&uv, UV_RUN_DEFAULT);
	os_rpc_loop_destroy(&l2);
	uv_loop_close(&uv);
	close(fd);
	t = xprintf("%s/s.sock", dir);
	unlink(t);
	free(t);
	rmdir(dir);
}

int
main(void)
{
	grpc_init();
	os_rpc_log_init();
	TAP_RUN(t_rpc_roundtrip);
	TAP_RUN(t_rpc_listen_in_use);
	grpc_shutdown_blocking();
	return tap_done();
}
