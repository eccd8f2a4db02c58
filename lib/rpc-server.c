/*
 * A gRPC core server driven from a libuv loop: registered methods with
 * pre-armed request slots, a generic slot that answers UNIMPLEMENTED (so
 * an unknown method never hangs), and per-call state machines for unary,
 * server-streaming and bidirectional calls with a bounded send queue.
 *
 * A call is freed when its last reference goes: one for "final status not
 * yet sent", one for the pending RECV_CLOSE_ON_SERVER, one per batch in
 * flight, and any the handler takes with os_rpc_call_ref.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc_posix.h>
#include <grpc/support/alloc.h>

#include "os-rpc.h"

#define RPC_SLOTS_PER_METHOD 4

struct rpc_slot {
	struct os_rpc_tag	 tag;
	struct os_rpc_server	*srv;
	size_t			 method;       /* index; SIZE_MAX = generic */
	grpc_call		*call;
	gpr_timespec		 deadline;
	grpc_metadata_array	 md;
	grpc_byte_buffer	*payload;
	grpc_call_details	 details;      /* generic slot only */
};

struct os_rpc_server {
	struct os_rpc_loop	*loop;
	grpc_server		*server;
	struct os_rpc_method	*methods;
	void		       **handles;
	size_t			 nmethods;
	size_t			 nslots;       /* armed request slots */
	size_t			 ncalls;       /* live calls */
	bool			 shutting_down;
	bool			 shutdown_notified;
	struct os_rpc_tag	 shutdown_tag;
	uv_timer_t		 grace;
	bool			 grace_armed;
	void			(*done)(void *);
	void			*done_arg;
};

struct rpc_unimpl {
	struct os_rpc_tag	 tag;
	struct os_rpc_server	*srv;
	grpc_call		*call;
	grpc_metadata_array	 md;
	grpc_call_details	 details;
	grpc_slice		 msg;
	int			 cancelled;
};

struct os_rpc_call {
	struct os_rpc_server		*srv;
	const struct os_rpc_method	*m;
	grpc_call			*call;
	grpc_metadata_array		 md;
	int				 refs;

	struct os_rpc_tag		 close_tag;
	int				 cancelled;
	bool				 closed;
	void				(*on_close)(struct os_rpc_call *, void *);
	void				*on_close_arg;

	/* Sending. */
	struct os_rpc_tag		 send_tag;
	bool				 send_busy;
	bool				 initial_md_sent;
	grpc_byte_buffer		*inflight;
	grpc_byte_buffer	       **sendq;
	size_t				 sendq_head;
	size_t				 sendq_len;
	size_t				 sendq_cap;
	size_t				 sendq_bytes;   /* of the queued, not the inflight */
	bool				 finish_requested;
	grpc_status_code		 status;
	char				*status_details;
	grpc_slice			 status_slice;
	bool				 status_started;
	struct os_rpc_tag		 status_tag;

	/* Receiving (bidi). */
	struct os_rpc_tag		 recv_tag;
	grpc_byte_buffer		*recv_bb;
	bool				 recv_busy;
	bool				 recv_eof;
	const ProtobufCMessageDescriptor *recv_desc;
	void				(*on_message)(struct os_rpc_call *,
					    const ProtobufCMessage *, void *);
	void				*on_message_arg;

	bool				 recv_paused;
	void				(*on_drain)(struct os_rpc_call *, void *);
	void				*on_drain_arg;
	size_t				 drain_low;

	void				*data;
	void				(*data_free)(void *);
};

static void	rpc_slot_arm(struct os_rpc_server *, size_t method);
static void	rpc_call_pump(struct os_rpc_call *);
static void	rpc_server_maybe_done(struct os_rpc_server *);

#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))

/* ------------------------------------------------------------------------
 * Call lifetime
 */

void
os_rpc_call_ref(struct os_rpc_call *c)
{
	c->refs++;
}

void
os_rpc_call_unref(struct os_rpc_call *c)
{
	struct os_rpc_server	*srv = c->srv;
	size_t			 i;

	if (--c->refs > 0)
		return;
	for (i = 0; i < c->sendq_len; i++)
		grpc_byte_buffer_destroy(c->sendq[(c->sendq_head + i) % c->sendq_cap]);
	free(c->sendq);
	free(c->status_details);
	if (c->data_free != NULL)
		c->data_free(c->data);
	grpc_metadata_array_destroy(&c->md);
	grpc_call_unref(c->call);
	free(c);
	srv->ncalls--;
	srv->loop->ncalls--;
	rpc_server_maybe_done(srv);
}

static void
rpc_call_start_batch(struct os_rpc_call *c, const grpc_op *ops, size_t n,
    struct os_rpc_tag *tag)
{
	grpc_call_error	e;

	c->refs++;
	e = grpc_call_start_batch(c->call, ops, n, tag, NULL);
	if (e != GRPC_CALL_OK) {
		/* Only a programming error gets here; never leak the ref. */
		log_error("grpc_call_start_batch(%s): error %d", c->m->path, e);
		tag->cb(tag, false);     /* drops the batch reference */
	}
}

/* ------------------------------------------------------------------------
 * Close, status
 */

static void
rpc_call_on_close_done(struct os_rpc_tag *tag, bool ok)
{
	struct os_rpc_call	*c = container_of(tag, struct os_rpc_call, close_tag);
	void			(*cb)(struct os_rpc_call *, void *);

	c->closed = true;
	if ((cb = c->on_close) != NULL) {
		c->on_close = NULL;
		cb(c, c->on_close_arg);
	}
	/* The client is gone: make sure every path ends with a status. */
	if (!c->finish_requested)
		os_rpc_finish(c, GRPC_STATUS_CANCELLED, "client went away");
	os_rpc_call_unref(c);
}

static void
rpc_call_on_status_done(struct os_rpc_tag *tag, bool ok)
{
	struct os_rpc_call	*c = container_of(tag, struct os_rpc_call, status_tag);

	if (c->inflight != NULL) {
		grpc_byte_buffer_destroy(c->inflight);
		c->inflight = NULL;
	}
	grpc_slice_unref(c->status_slice);
	os_rpc_call_unref(c);          /* the batch */
	os_rpc_call_unref(c);          /* "status not yet sent" */
}

static void
rpc_call_send_status(struct os_rpc_call *c, grpc_byte_buffer *last)
{
	grpc_op	ops[3];
	size_t	n = 0;

	c->status_started = true;
	memset(ops, 0, sizeof ops);
	if (!c->initial_md_sent) {
		ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
		ops[n].data.send_initial_metadata.count = 0;
		n++;
		c->initial_md_sent = true;
	}
	if (last != NULL) {
		ops[n].op = GRPC_OP_SEND_MESSAGE;
		ops[n].data.send_message.send_message = last;
		n++;
		c->inflight = last;
	}
	c->status_slice = grpc_slice_from_copied_string(
	    c->status_details != NULL ? c->status_details : "");
	ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
	ops[n].data.send_status_from_server.trailing_metadata_count = 0;
	ops[n].data.send_status_from_server.status = c->status;
	ops[n].data.send_status_from_server.status_details =
	    c->status_details != NULL ? &c->status_slice : NULL;
	n++;
	rpc_call_start_batch(c, ops, n, &c->status_tag);
}

void
os_rpc_finish(struct os_rpc_call *c, grpc_status_code status,
    const char *details)
{
	if (c->finish_requested)
		return;
	c->finish_requested = true;
	c->status = status;
	c->status_details = details != NULL ? xstrdup(details) : NULL;
	rpc_call_pump(c);
}

void
os_rpc_fail(struct os_rpc_call *c, grpc_status_code status, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	msg = xvprintf(fmt, ap);
	va_end(ap);
	if (!c->finish_requested)
		os_rpc_send_discard(c);
	os_rpc_finish(c, status, msg);
	free(msg);
}

static void	rpc_sendq_push(struct os_rpc_call *, grpc_byte_buffer *);

void
os_rpc_reply(struct os_rpc_call *c, const ProtobufCMessage *m)
{
	if (c->finish_requested)
		return;
	/* Queue without pumping so the message and the status go in one batch. */
	rpc_sendq_push(c, os_rpc_pack(m));
	os_rpc_finish(c, GRPC_STATUS_OK, NULL);
}

/* ------------------------------------------------------------------------
 * Sending
 */

static void
rpc_call_on_send_done(struct os_rpc_tag *tag, bool ok)
{
	struct os_rpc_call	*c = container_of(tag, struct os_rpc_call, send_tag);

	grpc_byte_buffer_destroy(c->inflight);
	c->inflight = NULL;
	c->send_busy = false;
	if (!ok)
		os_rpc_send_discard(c);   /* the client is gone */
	rpc_call_pump(c);
	if (ok && c->on_drain != NULL && c->sendq_len <= c->drain_low &&
	    !c->finish_requested)
		c->on_drain(c, c->on_drain_arg);
	os_rpc_call_unref(c);
}

static grpc_byte_buffer *
rpc_sendq_pop(struct os_rpc_call *c)
{
	grpc_byte_buffer	*bb;

	if (c->sendq_len == 0)
		return NULL;
	bb = c->sendq[c->sendq_head];
	c->sendq_head = (c->sendq_head + 1) % c->sendq_cap;
	c->sendq_len--;
	c->sendq_bytes -= grpc_byte_buffer_length(bb);
	return bb;
}

static void
rpc_call_pump(struct os_rpc_call *c)
{
	grpc_op			 ops[2];
	grpc_byte_buffer	*bb;
	size_t			 n = 0;

	if (c->send_busy || c->status_started)
		return;
	if (c->finish_requested && c->sendq_len <= 1) {
		/* The last message rides with the status. */
		rpc_call_send_status(c, rpc_sendq_pop(c));
		return;
	}
	if ((bb = rpc_sendq_pop(c)) == NULL)
		return;
	memset(ops, 0, sizeof ops);
	if (!c->initial_md_sent) {
		ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
		n++;
		c->initial_md_sent = true;
	}
	ops[n].op = GRPC_OP_SEND_MESSAGE;
	ops[n].data.send_message.send_message = bb;
	/* More is queued: let gRPC coalesce writes. */
	if (c->sendq_len > 0)
		ops[n].flags = GRPC_WRITE_BUFFER_HINT;
	n++;
	c->inflight = bb;
	c->send_busy = true;
	rpc_call_start_batch(c, ops, n, &c->send_tag);
}

static void
rpc_sendq_push(struct os_rpc_call *c, grpc_byte_buffer *bb)
{
	grpc_byte_buffer	**nq;
	size_t			  i, ncap;

	if (c->sendq_len == c->sendq_cap) {
		ncap = c->sendq_cap == 0 ? 8 : c->sendq_cap * 2;
		nq = xreallocarray(NULL, ncap, sizeof *nq);
		for (i = 0; i < c->sendq_len; i++)
			nq[i] = c->sendq[(c->sendq_head + i) % c->sendq_cap];
		free(c->sendq);
		c->sendq = nq;
		c->sendq_cap = ncap;
		c->sendq_head = 0;
	}
	c->sendq[(c->sendq_head + c->sendq_len) % c->sendq_cap] = bb;
	c->sendq_len++;
	c->sendq_bytes += grpc_byte_buffer_length(bb);
}

size_t
os_rpc_send(struct os_rpc_call *c, const ProtobufCMessage *m)
{
	if (c->finish_requested || c->closed)
		return c->sendq_len;
	rpc_sendq_push(c, os_rpc_pack(m));
	rpc_call_pump(c);
	return c->sendq_len;
}

/*
 * gRPC sends a stream's initial metadata with its first message, and a
 * client learns that the stream is established only then: a watch that
 * has nothing to say yet would look like one still connecting. The send
 * slot carries the headers alone (its completion frees no message).
 */
void
os_rpc_call_open(struct os_rpc_call *c)
{
	grpc_op	op;

	if (c->initial_md_sent || c->send_busy || c->finish_requested ||
	    c->status_started || c->closed)
		return;
	memset(&op, 0, sizeof op);
	op.op = GRPC_OP_SEND_INITIAL_METADATA;
	c->initial_md_sent = true;
	c->inflight = NULL;
	c->send_busy = true;
	rpc_call_start_batch(c, &op, 1, &c->send_tag);
}

size_t
os_rpc_send_queued(struct os_rpc_call *c)
{
	return c->sendq_len + (c->send_busy ? 1 : 0);
}

size_t
os_rpc_send_queued_bytes(struct os_rpc_call *c)
{
	return c->sendq_bytes;
}

void
os_rpc_send_discard(struct os_rpc_call *c)
{
	grpc_byte_buffer	*bb;

	while ((bb = rpc_sendq_pop(c)) != NULL)
		grpc_byte_buffer_destroy(bb);
}

/* ------------------------------------------------------------------------
 * Receiving (bidi)
 */

static void	rpc_call_arm_recv(struct os_rpc_call *);

static void
rpc_call_on_recv_done(struct os_rpc_tag *tag, bool ok)
{
	struct os_rpc_call	*c = container_of(tag, struct os_rpc_call, recv_tag);
	ProtobufCMessage	*m = NULL;
	grpc_byte_buffer	*bb = c->recv_bb;

	c->recv_busy = false;
	c->recv_bb = NULL;
	if (!ok || bb == NULL) {
		if (!c->recv_eof) {
			c->recv_eof = true;
			if (c->on_message != NULL && !c->finish_requested)
				c->on_message(c, NULL, c->on_message_arg);
		}
	} else {
		m = os_rpc_unpack(c->recv_desc, bb);
		grpc_byte_buffer_destroy(bb);
		if (m == NULL)
			os_rpc_fail(c, GRPC_STATUS_INVALID_ARGUMENT,
			    "malformed %s message", c->recv_desc->name);
		else {
			if (c->on_message != NULL && !c->finish_requested)
				c->on_message(c, m, c->on_message_arg);
			protobuf_c_message_free_unpacked(m, NULL);
			rpc_call_arm_recv(c);
		}
	}
	os_rpc_call_unref(c);
}

static void
rpc_call_arm_recv(struct os_rpc_call *c)
{
	grpc_op	op;

	if (c->recv_busy || c->recv_eof || c->finish_requested || c->closed ||
	    c->recv_paused)
		return;
	memset(&op, 0, sizeof op);
	op.op = GRPC_OP_RECV_MESSAGE;
	op.data.recv_message.recv_message = &c->recv_bb;
	c->recv_busy = true;
	rpc_call_start_batch(c, &op, 1, &c->recv_tag);
}

void
os_rpc_call_on_message(struct os_rpc_call *c,
    void (*cb)(struct os_rpc_call *, const ProtobufCMessage *, void *),
    const ProtobufCMessageDescriptor *d, void *arg)
{
	c->on_message = cb;
	c->on_message_arg = arg;
	c->recv_desc = d;
	rpc_call_arm_recv(c);
}

/* ------------------------------------------------------------------------
 * Accessors
 */

const grpc_metadata_array *
os_rpc_call_metadata(struct os_rpc_call *c)
{
	return &c->md;
}

const struct os_rpc_method *
os_rpc_call_method(struct os_rpc_call *c)
{
	return c->m;
}

char *
os_rpc_call_peer_cn(struct os_rpc_call *c)
{
	grpc_auth_context		*ctx;
	grpc_auth_property_iterator	 it;
	const grpc_auth_property	*p;
	char				*cn = NULL;

	if ((ctx = grpc_call_auth_context(c->call)) == NULL)
		return NULL;
	if (grpc_auth_context_peer_is_authenticated(ctx)) {
		it = grpc_auth_context_find_properties_by_name(ctx,
		    GRPC_X509_CN_PROPERTY_NAME);
		if ((p = grpc_auth_property_iterator_next(&it)) != NULL)
			cn = xstrndup(p->value, p->value_length);
	}
	grpc_auth_context_release(ctx);
	return cn;
}

char *
os_rpc_call_peer(struct os_rpc_call *c)
{
	char	*p, *s;

	p = grpc_call_get_peer(c->call);
	s = xstrdup(p != NULL ? p : "");
	gpr_free(p);
	return s;
}

void
os_rpc_call_set_data(struct os_rpc_call *c, void *data, void (*free_fn)(void *))
{
	c->data = data;
	c->data_free = free_fn;
}

void *
os_rpc_call_data(struct os_rpc_call *c)
{
	return c->data;
}

void
os_rpc_call_on_close(struct os_rpc_call *c,
    void (*cb)(struct os_rpc_call *, void *), void *arg)
{
	if (c->closed) {
		cb(c, arg);
		return;
	}
	c->on_close = cb;
	c->on_close_arg = arg;
}

bool
os_rpc_call_cancelled(struct os_rpc_call *c)
{
	return c->closed && c->cancelled;
}

void
os_rpc_call_pause(struct os_rpc_call *c, bool paused)
{
	c->recv_paused = paused;
	if (!paused && c->on_message != NULL)
		rpc_call_arm_recv(c);
}

void
os_rpc_call_on_drain(struct os_rpc_call *c, size_t low,
    void (*cb)(struct os_rpc_call *, void *), void *arg)
{
	c->on_drain = cb;
	c->on_drain_arg = arg;
	c->drain_low = low;
}

/* ------------------------------------------------------------------------
 * Request slots
 */

static void
rpc_call_begin(struct rpc_slot *s)
{
	struct os_rpc_server	*srv = s->srv;
	const struct os_rpc_method *m = &srv->methods[s->method];
	struct os_rpc_call	*c;
	ProtobufCMessage	*req = NULL;
	grpc_op			 op;

	c = xcalloc(1, sizeof *c);
	c->srv = srv;
	c->m = m;
	c->call = s->call;
	c->md = s->md;                  /* takes over the array */
	c->refs = 1;                    /* "status not yet sent" */
	c->close_tag.cb = rpc_call_on_close_done;
	c->send_tag.cb = rpc_call_on_send_done;
	c->status_tag.cb = rpc_call_on_status_done;
	c->recv_tag.cb = rpc_call_on_recv_done;
	srv->ncalls++;
	srv->loop->ncalls++;

	memset(&op, 0, sizeof op);
	op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
	op.data.recv_close_on_server.cancelled = &c->cancelled;
	rpc_call_start_batch(c, &op, 1, &c->close_tag);

	/* The handler's reference, so it cannot vanish under it. */
	os_rpc_call_ref(c);
	if (m->kind == OS_RPC_BIDI)
		m->start(c, NULL, m->arg);
	else if (s->payload == NULL)
		os_rpc_fail(c, GRPC_STATUS_INVALID_ARGUMENT,
		    "missing %s request message", m->request->name);
	else if ((req = os_rpc_unpack(m->request, s->payload)) == NULL)
		os_rpc_fail(c, GRPC_STATUS_INVALID_ARGUMENT,
		    "malformed %s request message", m->request->name);
	else
		m->start(c, req, m->arg);
	if (req != NULL)
		protobuf_c_message_free_unpacked(req, NULL);
	os_rpc_call_unref(c);
}

static void
rpc_unimpl_done(struct os_rpc_tag *tag, bool ok)
{
	struct rpc_unimpl	*u = container_of(tag, struct rpc_unimpl, tag);
	struct os_rpc_server	*srv = u->srv;

	grpc_slice_unref(u->msg);
	grpc_call_details_destroy(&u->details);
	grpc_metadata_array_destroy(&u->md);
	grpc_call_unref(u->call);
	free(u);
	srv->ncalls--;
	srv->loop->ncalls--;
	rpc_server_maybe_done(srv);
}

static void
rpc_unimplemented(struct rpc_slot *s)
{
	struct rpc_unimpl	*u;
	grpc_op			 ops[3];
	char			*method;

	u = xcalloc(1, sizeof *u);
	u->tag.cb = rpc_unimpl_done;
	u->srv = s->srv;
	u->call = s->call;
	u->md = s->md;
	u->details = s->details;
	method = xstrndup((const char *)GRPC_SLICE_START_PTR(u->details.method),
	    GRPC_SLICE_LENGTH(u->details.method));
	u->msg = grpc_slice_from_copied_string(method);
	free(method);
	s->srv->ncalls++;
	s->srv->loop->ncalls++;

	memset(ops, 0, sizeof ops);
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[1].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
	ops[1].data.send_status_from_server.status = GRPC_STATUS_UNIMPLEMENTED;
	ops[1].data.send_status_from_server.status_details = &u->msg;
	ops[2].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
	ops[2].data.recv_close_on_server.cancelled = &u->cancelled;
	if (grpc_call_start_batch(u->call, ops, 3, &u->tag, NULL) != GRPC_CALL_OK)
		rpc_unimpl_done(&u->tag, false);
}

static void
rpc_slot_fired(struct os_rpc_tag *tag, bool ok)
{
	struct rpc_slot		*s = container_of(tag, struct rpc_slot, tag);
	struct os_rpc_server	*srv = s->srv;

	srv->nslots--;
	if (!ok) {
		/* The server is shutting down: this slot is not re-armed. */
		if (s->method == SIZE_MAX)
			grpc_call_details_destroy(&s->details);
		grpc_metadata_array_destroy(&s->md);
		free(s);
		rpc_server_maybe_done(srv);
		return;
	}
	if (!srv->shutting_down)
		rpc_slot_arm(srv, s->method);
	if (s->method == SIZE_MAX)
		rpc_unimplemented(s);
	else {
		rpc_call_begin(s);
		if (s->payload != NULL)
			grpc_byte_buffer_destroy(s->payload);
	}
	free(s);
}

static void
rpc_slot_arm(struct os_rpc_server *srv, size_t method)
{
	struct rpc_slot	*s;
	grpc_call_error	 e;

	s = xcalloc(1, sizeof *s);
	s->tag.cb = rpc_slot_fired;
	s->srv = srv;
	s->method = method;
	grpc_metadata_array_init(&s->md);
	if (method == SIZE_MAX) {
		grpc_call_details_init(&s->details);
		e = grpc_server_request_call(srv->server, &s->call, &s->details,
		    &s->md, srv->loop->cq, srv->loop->cq, &s->tag);
	} else {
		e = grpc_server_request_registered_call(srv->server,
		    srv->handles[method], &s->call, &s->deadline, &s->md,
		    srv->methods[method].kind == OS_RPC_BIDI ? NULL : &s->payload,
		    srv->loop->cq, srv->loop->cq, &s->tag);
	}
	if (e != GRPC_CALL_OK) {
		log_error("cannot arm a request slot: error %d", e);
		if (method == SIZE_MAX)
			grpc_call_details_destroy(&s->details);
		grpc_metadata_array_destroy(&s->md);
		free(s);
		return;
	}
	srv->nslots++;
}

/* ------------------------------------------------------------------------
 * Server
 */

static grpc_server_credentials *
rpc_server_tls_creds(const struct os_rpc_server_options *o)
{
	grpc_ssl_pem_key_cert_pair	pair;

	pair.private_key = o->tls_key;
	pair.cert_chain = o->tls_cert;
	return grpc_ssl_server_credentials_create_ex(o->tls_client_ca, &pair, 1,
	    o->tls_client_ca != NULL ?
	    GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY :
	    GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE, NULL);
}

static void	rpc_server_abandon(grpc_server *);

int
os_rpc_server_start(struct os_rpc_loop *loop,
    const struct os_rpc_method *methods, size_t nmethods,
    const struct os_rpc_server_options *o, struct os_rpc_server **out,
    struct os_error *err)
{
	struct os_rpc_server	*srv;
	grpc_server_credentials	*creds;
	grpc_channel_args	 args;
	grpc_arg		 a[2];
	size_t			 i, j;
	int			 port;
	bool			 tcp;

	srv = xcalloc(1, sizeof *srv);
	srv->loop = loop;
	srv->nmethods = nmethods;
	srv->methods = xreallocarray(NULL, nmethods, sizeof *srv->methods);
	memcpy(srv->methods, methods, nmethods * sizeof *methods);
	srv->handles = xcalloc(nmethods, sizeof *srv->handles);

	/* Two servers must never share a port silently (SO_REUSEPORT). */
	a[0].type = GRPC_ARG_INTEGER;
	a[0].key = (char *)GRPC_ARG_ALLOW_REUSEPORT;
	a[0].value.integer = 0;
	a[1].type = GRPC_ARG_INTEGER;
	a[1].key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
	a[1].value.integer = o->max_message != 0 ? (int)o->max_message :
	    16 * 1024 * 1024;
	args.num_args = 2;
	args.args = a;
	srv->server = grpc_server_create(&args, NULL);
	grpc_server_register_completion_queue(srv->server, loop->cq, NULL);
	for (i = 0; i < nmethods; i++) {
		srv->handles[i] = grpc_server_register_method(srv->server,
		    methods[i].path, NULL,
		    methods[i].kind == OS_RPC_BIDI ? GRPC_SRM_PAYLOAD_NONE :
		    GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
	}
	for (i = 0; i < o->nlisten; i++) {
		tcp = strncmp(o->listen[i], "unix:", 5) != 0 &&
		    strncmp(o->listen[i], "unix-abstract:", 14) != 0;
		if (tcp && o->tls_cert != NULL)
			creds = rpc_server_tls_creds(o);
		else
			creds = grpc_insecure_server_credentials_create();
		port = grpc_server_add_http2_port(srv->server, o->listen[i], creds);
		grpc_server_credentials_release(creds);
		if (port == 0) {
			os_error_set(err, -EADDRINUSE,
			    "cannot listen on %s (address in use or not allowed)",
			    o->listen[i]);
			rpc_server_abandon(srv->server);
			free(srv->handles);
			free(srv->methods);
			free(srv);
			return err != NULL ? err->code : -EADDRINUSE;
		}
	}
	grpc_server_start(srv->server);
	for (i = 0; i < nmethods; i++) {
		for (j = 0; j < RPC_SLOTS_PER_METHOD; j++)
			rpc_slot_arm(srv, i);
	}
	rpc_slot_arm(srv, SIZE_MAX);
	*out = srv;
	return 0;
}

/*
 * A server that never started but has listeners cannot simply be
 * destroyed (grpc aborts unless it was shut down): shut it down on a
 * queue of its own and wait for that, here and now.
 */
static void
rpc_server_abandon(grpc_server *server)
{
	grpc_completion_queue	*cq;
	int			 tag;

	cq = grpc_completion_queue_create_for_pluck(NULL);
	grpc_server_shutdown_and_notify(server, cq, &tag);
	(void)grpc_completion_queue_pluck(cq, &tag,
	    gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	grpc_server_destroy(server);
	grpc_completion_queue_shutdown(cq);
	while (grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(
	    GPR_CLOCK_REALTIME), NULL).type != GRPC_QUEUE_SHUTDOWN)
		;
	grpc_completion_queue_destroy(cq);
}

int
os_rpc_server_add_fd(struct os_rpc_server *srv, int fd)
{
	grpc_server_credentials	*creds;
	int			 fl;

	/* grpc does not set O_NONBLOCK itself, and hangs without it. */
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	creds = grpc_insecure_server_credentials_create();
	grpc_server_add_channel_from_fd(srv->server, fd, creds);
	grpc_server_credentials_release(creds);
	return 0;
}

grpc_server *
os_rpc_server_grpc(struct os_rpc_server *srv)
{
	return srv->server;
}

static void
rpc_server_on_shutdown(struct os_rpc_tag *tag, bool ok)
{
	struct os_rpc_server	*srv = container_of(tag, struct os_rpc_server,
	    shutdown_tag);

	srv->shutdown_notified = true;
	rpc_server_maybe_done(srv);
}

static void
rpc_server_grace_closed(uv_handle_t *h)
{
	struct os_rpc_server	*srv = h->data;

	srv->grace_armed = false;
	rpc_server_maybe_done(srv);
}

static void
rpc_server_maybe_done(struct os_rpc_server *srv)
{
	void	(*done)(void *);

	if (!srv->shutting_down || !srv->shutdown_notified || srv->ncalls != 0 ||
	    srv->nslots != 0)
		return;
	if (srv->grace_armed) {
		if (!uv_is_closing((uv_handle_t *)&srv->grace)) {
			uv_timer_stop(&srv->grace);
			uv_close((uv_handle_t *)&srv->grace, rpc_server_grace_closed);
		}
		return;
	}
	if ((done = srv->done) != NULL) {
		srv->done = NULL;
		done(srv->done_arg);
	}
}

static void
rpc_server_grace_expired(uv_timer_t *t)
{
	struct os_rpc_server	*srv = t->data;

	grpc_server_cancel_all_calls(srv->server);
}

void
os_rpc_server_shutdown(struct os_rpc_server *srv, int64_t grace_ms,
    void (*done)(void *), void *arg)
{
	if (srv->shutting_down)
		return;
	srv->shutting_down = true;
	srv->done = done;
	srv->done_arg = arg;
	srv->shutdown_tag.cb = rpc_server_on_shutdown;
	grpc_server_shutdown_and_notify(srv->server, srv->loop->cq,
	    &srv->shutdown_tag);
	if (grace_ms <= 0)
		grpc_server_cancel_all_calls(srv->server);
	else {
		uv_timer_init(srv->loop->uv, &srv->grace);
		srv->grace.data = srv;
		srv->grace_armed = true;
		uv_timer_start(&srv->grace, rpc_server_grace_expired,
		    (uint64_t)grace_ms, 0);
	}
}

void
os_rpc_server_free(struct os_rpc_server *srv)
{
	if (srv == NULL)
		return;
	grpc_server_destroy(srv->server);
	free(srv->handles);
	free(srv->methods);
	free(srv);
}
