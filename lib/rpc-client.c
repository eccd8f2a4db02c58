/*
 * gRPC clients: channels (unix socket or TCP with TLS/mTLS), a blocking
 * unary call for command-line use, and asynchronous calls (unary, server
 * streaming, bidirectional) driven from a libuv loop.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "os-rpc.h"

#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))

grpc_channel *
os_rpc_channel_new(const char *target, const struct os_rpc_tls *tls,
    struct os_error *err)
{
	grpc_channel_credentials	*creds;
	grpc_ssl_pem_key_cert_pair	 pair;
	grpc_channel			*ch;
	grpc_channel_args		 args;
	grpc_arg			 a[4];
	size_t				 n = 0;
	bool				 unix_socket;

	unix_socket = strncmp(target, "unix:", 5) == 0 ||
	    strncmp(target, "unix-abstract:", 14) == 0;
	if (tls != NULL && !unix_socket) {
		pair.private_key = tls->key_pem;
		pair.cert_chain = tls->cert_pem;
		creds = grpc_ssl_credentials_create(tls->ca_pem,
		    tls->cert_pem != NULL ? &pair : NULL, NULL, NULL);
		if (tls->server_name != NULL) {
			a[n].type = GRPC_ARG_STRING;
			a[n].key = (char *)GRPC_SSL_TARGET_NAME_OVERRIDE_ARG;
			a[n].value.string = (char *)tls->server_name;
			n++;
		}
	} else
		creds = grpc_insecure_credentials_create();
	if (creds == NULL) {
		os_error_set(err, -EINVAL, "cannot create credentials for %s", target);
		return NULL;
	}
	/* Reconnect quickly: supervisors and consoles wait on gateways. */
	a[n].type = GRPC_ARG_INTEGER;
	a[n].key = (char *)GRPC_ARG_MIN_RECONNECT_BACKOFF_MS;
	a[n].value.integer = 100;
	n++;
	a[n].type = GRPC_ARG_INTEGER;
	a[n].key = (char *)GRPC_ARG_MAX_RECONNECT_BACKOFF_MS;
	a[n].value.integer = 2000;
	n++;
	a[n].type = GRPC_ARG_INTEGER;
	a[n].key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
	a[n].value.integer = 16 * 1024 * 1024;
	n++;
	args.num_args = n;
	args.args = a;
	ch = grpc_channel_create(target, creds, &args);
	grpc_channel_credentials_release(creds);
	if (ch == NULL)
		os_error_set(err, -EINVAL, "cannot create a channel to %s", target);
	return ch;
}

static void
rpc_auth_md(grpc_metadata *md, const char *token, char **value)
{
	*value = xprintf("Bearer %s", token);
	memset(md, 0, sizeof *md);
	md->key = grpc_slice_from_static_string("authorization");
	md->value = grpc_slice_from_copied_string(*value);
}

grpc_status_code
os_rpc_call_sync(grpc_channel *ch, const char *method, const char *token,
    const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_desc,
    ProtobufCMessage **resp, int64_t timeout_ms, struct os_error *err)
{
	grpc_completion_queue	*cq;
	grpc_call		*call;
	grpc_op			 ops[6];
	grpc_metadata		 md;
	grpc_metadata_array	 initial, trailing;
	grpc_byte_buffer	*req_bb, *resp_bb = NULL;
	grpc_status_code	 status = GRPC_STATUS_UNKNOWN;
	grpc_slice		 details, mslice;
	grpc_event		 ev;
	char			*authv = NULL, *d;
	int			 tag = 0;

	*resp = NULL;
	cq = grpc_completion_queue_create_for_pluck(NULL);
	mslice = grpc_slice_from_copied_string(method);
	call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq,
	    mslice, NULL, os_rpc_deadline_ms(timeout_ms), NULL);
	grpc_slice_unref(mslice);
	req_bb = os_rpc_pack(req);
	grpc_metadata_array_init(&initial);
	grpc_metadata_array_init(&trailing);
	details = grpc_empty_slice();

	memset(ops, 0, sizeof ops);
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	if (token != NULL) {
		rpc_auth_md(&md, token, &authv);
		ops[0].data.send_initial_metadata.count = 1;
		ops[0].data.send_initial_metadata.metadata = &md;
	}
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = req_bb;
	ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	/* Without RECV_INITIAL_METADATA the status never arrives. */
	ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial;
	ops[4].op = GRPC_OP_RECV_MESSAGE;
	ops[4].data.recv_message.recv_message = &resp_bb;
	ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[5].data.recv_status_on_client.trailing_metadata = &trailing;
	ops[5].data.recv_status_on_client.status = &status;
	ops[5].data.recv_status_on_client.status_details = &details;

	if (grpc_call_start_batch(call, ops, 6, &tag, NULL) != GRPC_CALL_OK) {
		os_error_set(err, GRPC_STATUS_INTERNAL, "cannot start call %s", method);
		status = GRPC_STATUS_INTERNAL;
	} else {
		ev = grpc_completion_queue_pluck(cq, &tag,
		    gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
		(void)ev;
		if (status == GRPC_STATUS_OK) {
			if ((*resp = os_rpc_unpack(resp_desc, resp_bb)) == NULL) {
				status = GRPC_STATUS_INTERNAL;
				os_error_set(err, status, "INTERNAL: malformed %s reply",
				    resp_desc->name);
			}
		} else {
			d = xstrndup((const char *)GRPC_SLICE_START_PTR(details),
			    GRPC_SLICE_LENGTH(details));
			os_error_set(err, status, "%s", d);
			free(d);
		}
	}
	if (token != NULL) {
		grpc_slice_unref(md.value);
		free(authv);
	}
	grpc_slice_unref(details);
	grpc_metadata_array_destroy(&initial);
	grpc_metadata_array_destroy(&trailing);
	grpc_byte_buffer_destroy(req_bb);
	if (resp_bb != NULL)
		grpc_byte_buffer_destroy(resp_bb);
	grpc_call_unref(call);
	grpc_completion_queue_shutdown(cq);
	while (grpc_completion_queue_pluck(cq, NULL,
	    gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type != GRPC_QUEUE_SHUTDOWN)
		;
	grpc_completion_queue_destroy(cq);
	return status;
}

/* ------------------------------------------------------------------------
 * Asynchronous calls
 */

struct os_rpc_ccall {
	struct os_rpc_loop		*loop;
	grpc_call			*call;
	const ProtobufCMessageDescriptor *resp_desc;
	struct os_rpc_ccall_ops		 ops;
	void				*arg;
	int				 refs;

	grpc_metadata			 md;
	char				*authv;
	bool				 has_md;
	grpc_metadata_array		 initial;
	struct os_rpc_tag		 start_tag;
	bool				 started;

	grpc_metadata_array		 trailing;
	grpc_status_code		 status;
	grpc_slice			 details;
	struct os_rpc_tag		 status_tag;
	bool				 status_received;
	bool				 done;

	struct os_rpc_tag		 send_tag;
	grpc_byte_buffer		*inflight;
	grpc_byte_buffer	       **sendq;
	size_t				 sendq_len;
	size_t				 sendq_cap;
	bool				 send_busy;
	bool				 close_requested;
	bool				 close_sent;

	struct os_rpc_tag		 recv_tag;
	grpc_byte_buffer		*recv_bb;
	bool				 recv_busy;
	bool				 recv_eof;
	bool				 paused;
};

static void	ccall_pump(struct os_rpc_ccall *);
static void	ccall_arm_recv(struct os_rpc_ccall *);

static void
ccall_unref(struct os_rpc_ccall *c)
{
	size_t	i;

	if (--c->refs > 0)
		return;
	for (i = 0; i < c->sendq_len; i++)
		grpc_byte_buffer_destroy(c->sendq[i]);
	free(c->sendq);
	if (c->has_md) {
		grpc_slice_unref(c->md.value);
		free(c->authv);
	}
	grpc_metadata_array_destroy(&c->initial);
	grpc_metadata_array_destroy(&c->trailing);
	grpc_slice_unref(c->details);
	grpc_call_unref(c->call);
	c->loop->ncalls--;
	free(c);
}

static void
ccall_batch(struct os_rpc_ccall *c, const grpc_op *ops, size_t n,
    struct os_rpc_tag *tag)
{
	c->refs++;
	if (grpc_call_start_batch(c->call, ops, n, tag, NULL) != GRPC_CALL_OK) {
		log_error("grpc_call_start_batch: client batch refused");
		tag->cb(tag, false);
	}
}

static void
ccall_maybe_done(struct os_rpc_ccall *c)
{
	char	*d;

	if (c->done || !c->status_received || c->recv_busy || c->send_busy)
		return;
	if (!c->recv_eof) {
		/* Drain what is left before reporting the status. */
		c->paused = false;
		ccall_arm_recv(c);
		if (c->recv_busy)
			return;
	}
	c->done = true;
	d = xstrndup((const char *)GRPC_SLICE_START_PTR(c->details),
	    GRPC_SLICE_LENGTH(c->details));
	if (c->ops.on_done != NULL)
		c->ops.on_done(c, c->status, d, c->arg);
	free(d);
	ccall_unref(c);            /* the "not done" reference */
}

static void
ccall_on_status(struct os_rpc_tag *tag, bool ok)
{
	struct os_rpc_ccall	*c = container_of(tag, struct os_rpc_ccall, status_tag);

	c->status_received = true;
	if (!ok)
		c->status = GRPC_STATUS_UNKNOWN;
	ccall_maybe_done(c);
	ccall_unref(c);
}

static void
ccall_on_start(struct os_rpc_tag *tag, bool ok)
{
	struct os_rpc_ccall	*c = container_of(tag, struct os_rpc_ccall, start_tag);

	c->started = true;
	if (!ok)
		c->recv_eof = true;
	ccall_maybe_done(c);
	ccall_unref(c);
}

static void
ccall_on_recv(struct os_rpc_tag *tag, bool ok)
{
	struct os_rpc_ccall	*c = container_of(tag, struct os_rpc_ccall, recv_tag);
	grpc_byte_buffer	*bb = c->recv_bb;
	ProtobufCMessage	*m;

	c->recv_busy = false;
	c->recv_bb = NULL;
	if (!ok || bb == NULL)
		c->recv_eof = true;
	else {
		m = os_rpc_unpack(c->resp_desc, bb);
		grpc_byte_buffer_destroy(bb);
		if (m == NULL) {
			log_warn("malformed %s reply; cancelling the call",
			    c->resp_desc->name);
			grpc_call_cancel_with_status(c->call, GRPC_STATUS_INTERNAL,
			    "malformed reply", NULL);
		} else {
			if (c->ops.on_message != NULL && !c->done)
				c->ops.on_message(c, m, c->arg);
			protobuf_c_message_free_unpacked(m, NULL);
		}
		ccall_arm_recv(c);
	}
	ccall_maybe_done(c);
	ccall_unref(c);
}

static void
ccall_arm_recv(struct os_rpc_ccall *c)
{
	grpc_op	op;

	if (c->recv_busy || c->recv_eof || c->paused || c->done)
		return;
	memset(&op, 0, sizeof op);
	op.op = GRPC_OP_RECV_MESSAGE;
	op.data.recv_message.recv_message = &c->recv_bb;
	c->recv_busy = true;
	ccall_batch(c, &op, 1, &c->recv_tag);
}

static void
ccall_on_send(struct os_rpc_tag *tag, bool ok)
{
	struct os_rpc_ccall	*c = container_of(tag, struct os_rpc_ccall, send_tag);
	size_t			 i;

	if (c->inflight != NULL)
		grpc_byte_buffer_destroy(c->inflight);
	c->inflight = NULL;
	c->send_busy = false;
	if (!ok) {
		for (i = 0; i < c->sendq_len; i++)
			grpc_byte_buffer_destroy(c->sendq[i]);
		c->sendq_len = 0;
		c->close_sent = true;
	}
	ccall_pump(c);
	if (ok && c->ops.on_sent != NULL && !c->done)
		c->ops.on_sent(c, c->arg);
	ccall_maybe_done(c);
	ccall_unref(c);
}

static void
ccall_pump(struct os_rpc_ccall *c)
{
	grpc_op	ops[2];
	size_t	n = 0;

	/* Sends are ordered after the initial metadata batch already started;
	 * waiting for the server's initial metadata would deadlock, as a
	 * server sends it with its first reply. */
	if (c->send_busy || c->close_sent || c->status_received)
		return;
	memset(ops, 0, sizeof ops);
	if (c->sendq_len > 0) {
		c->inflight = c->sendq[0];
		memmove(c->sendq, c->sendq + 1, --c->sendq_len * sizeof *c->sendq);
		ops[n].op = GRPC_OP_SEND_MESSAGE;
		ops[n].data.send_message.send_message = c->inflight;
		n++;
	}
	if (c->close_requested && c->sendq_len == 0) {
		ops[n].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
		n++;
		c->close_sent = true;
	}
	if (n == 0)
		return;
	c->send_busy = true;
	ccall_batch(c, ops, n, &c->send_tag);
}

struct os_rpc_ccall *
os_rpc_ccall_start(struct os_rpc_loop *loop, grpc_channel *ch,
    const char *method, const char *token, int64_t timeout_ms,
    const ProtobufCMessageDescriptor *resp_desc,
    const struct os_rpc_ccall_ops *ops, void *arg)
{
	struct os_rpc_ccall	*c;
	grpc_op			 o[2];
	grpc_slice		 mslice;

	c = xcalloc(1, sizeof *c);
	c->loop = loop;
	c->resp_desc = resp_desc;
	c->ops = *ops;
	c->arg = arg;
	c->refs = 1;                   /* "not done" */
	c->start_tag.cb = ccall_on_start;
	c->status_tag.cb = ccall_on_status;
	c->send_tag.cb = ccall_on_send;
	c->recv_tag.cb = ccall_on_recv;
	c->details = grpc_empty_slice();
	grpc_metadata_array_init(&c->initial);
	grpc_metadata_array_init(&c->trailing);
	mslice = grpc_slice_from_copied_string(method);
	c->call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS,
	    loop->cq, mslice, NULL, os_rpc_deadline_ms(timeout_ms), NULL);
	grpc_slice_unref(mslice);
	loop->ncalls++;

	memset(o, 0, sizeof o);
	o[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	if (token != NULL) {
		rpc_auth_md(&c->md, token, &c->authv);
		c->has_md = true;
		o[0].data.send_initial_metadata.count = 1;
		o[0].data.send_initial_metadata.metadata = &c->md;
	}
	o[1].op = GRPC_OP_RECV_INITIAL_METADATA;
	o[1].data.recv_initial_metadata.recv_initial_metadata = &c->initial;
	ccall_batch(c, o, 2, &c->start_tag);

	memset(o, 0, sizeof o);
	o[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	o[0].data.recv_status_on_client.trailing_metadata = &c->trailing;
	o[0].data.recv_status_on_client.status = &c->status;
	o[0].data.recv_status_on_client.status_details = &c->details;
	ccall_batch(c, o, 1, &c->status_tag);
	ccall_arm_recv(c);
	return c;
}

bool
os_rpc_ccall_send(struct os_rpc_ccall *c, const ProtobufCMessage *m)
{
	if (c->close_requested || c->close_sent || c->status_received || c->done)
		return false;
	if (c->sendq_len == c->sendq_cap) {
		c->sendq_cap = c->sendq_cap == 0 ? 8 : c->sendq_cap * 2;
		c->sendq = xreallocarray(c->sendq, c->sendq_cap, sizeof *c->sendq);
	}
	c->sendq[c->sendq_len++] = os_rpc_pack(m);
	ccall_pump(c);
	return true;
}

size_t
os_rpc_ccall_send_queued(struct os_rpc_ccall *c)
{
	return c->sendq_len + (c->send_busy ? 1 : 0);
}

void
os_rpc_ccall_close_send(struct os_rpc_ccall *c)
{
	if (c->close_requested)
		return;
	c->close_requested = true;
	ccall_pump(c);
}

void
os_rpc_ccall_cancel(struct os_rpc_ccall *c)
{
	if (!c->done)
		grpc_call_cancel(c->call, NULL);
}

void
os_rpc_ccall_pause(struct os_rpc_ccall *c, bool paused)
{
	c->paused = paused;
	if (!paused)
		ccall_arm_recv(c);
}
