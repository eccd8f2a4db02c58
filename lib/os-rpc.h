/*
 * libosrpc: conversion between the policy model and its protobuf-c
 * messages, and the gRPC core plumbing the gateway, supervisor and CLI
 * share.
 *
 * Threading model (rpc-loop.c): one thread blocks in
 * grpc_completion_queue_next() and hands every completion to a libuv
 * loop through a uv_async_t; all call state machines, and every
 * grpc_call_start_batch, run on the loop's thread. gRPC core offers no
 * pollable fd and no way to wake a blocked queue, so this is the one
 * place that bridges the two.
 */
#ifndef OS_RPC_H
#define OS_RPC_H

#include <pthread.h>

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/support/time.h>
#include <uv.h>

#include "openshell.h"
#include "sandbox.pb-c.h"
#include "openshell.pb-c.h"

typedef Openshell__Sandbox__V1__SandboxPolicy		OsPbPolicy;
typedef Openshell__Sandbox__V1__NetworkPolicyRule	OsPbRule;

/* ------------------------------------------------------------------------
 * Policy <-> protobuf (policy-proto.c). from_proto reports unknown enum
 * strings and bad values as diagnostics (fields named as in YAML) and
 * returns -EINVAL; the result is normalised but not validated.
 * to_proto allocates a tree the caller frees with os_pb_policy_free
 * (never with protobuf_c_message_free_unpacked).
 */
int	 os_policy_from_proto(const OsPbPolicy *, struct os_policy **out,
	     struct os_diags *);
OsPbPolicy *os_policy_to_proto(const struct os_policy *);
void	 os_pb_policy_free(OsPbPolicy *);
int	 os_rule_from_proto(const OsPbRule *, const char *key,
	     struct os_rule *out, struct os_diags *);
OsPbRule *os_rule_to_proto(const struct os_rule *);
void	 os_pb_rule_free(OsPbRule *);

/* ------------------------------------------------------------------------
 * Buffers and small helpers (rpc.c)
 */

/* Packs a message into a new byte buffer; caller destroys it. */
grpc_byte_buffer *os_rpc_pack(const ProtobufCMessage *);
/* Unpacks; NULL for a malformed message. Free with protobuf_c_message_free_unpacked. */
ProtobufCMessage *os_rpc_unpack(const ProtobufCMessageDescriptor *,
	     grpc_byte_buffer *);
/* "/openshell.v1.OpenShell/Health" for a service descriptor and method index. */
char	*os_rpc_method_path(const ProtobufCServiceDescriptor *, const char *method);
gpr_timespec os_rpc_deadline_ms(int64_t ms);    /* ms <= 0: infinite */
const char *os_rpc_status_name(grpc_status_code);
/* Value of a metadata key (lower-case) as a new string, or NULL. */
char	*os_rpc_metadata_get(const grpc_metadata_array *, const char *key);
/* The bearer token of `authorization: Bearer <t>`, or NULL. Caller frees. */
char	*os_rpc_bearer_token(const grpc_metadata_array *);
/* Routes gRPC's own log lines through os_log at a sensible level. */
void	 os_rpc_log_init(void);

/* ------------------------------------------------------------------------
 * The completion-queue-to-libuv bridge (rpc-loop.c)
 */
struct os_rpc_tag {
	void	(*cb)(struct os_rpc_tag *, bool ok);
};

struct os_rpc_event {
	struct os_rpc_tag	*tag;   /* NULL: the queue shut down */
	bool			 ok;
};

struct os_rpc_loop {
	grpc_completion_queue	*cq;
	uv_loop_t		*uv;
	uv_async_t		 async;
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	struct os_rpc_event	*q;          /* pending events, under mu */
	size_t			 nq;
	size_t			 capq;
	struct os_rpc_event	*drain;      /* the loop thread's copy */
	size_t			 capdrain;
	bool			 shutdown;   /* the queue has shut down */
	size_t			 ncalls;     /* live calls (server and client) */
	void			(*on_idle)(struct os_rpc_loop *);
};

int	 os_rpc_loop_init(struct os_rpc_loop *, uv_loop_t *);
/* Shuts the queue down once no call is live; the thread then exits and
 * the async handle closes, so uv_run() can return. */
void	 os_rpc_loop_shutdown(struct os_rpc_loop *);
/* After uv_run() returned: join the thread, destroy the queue. */
void	 os_rpc_loop_destroy(struct os_rpc_loop *);

/* ------------------------------------------------------------------------
 * Server (rpc-server.c): registered methods, one generic slot answering
 * UNIMPLEMENTED, unary and streaming calls with a bounded send queue.
 */
struct os_rpc_server;
struct os_rpc_call;

enum os_rpc_kind {
	OS_RPC_UNARY,
	OS_RPC_SERVER_STREAM,   /* one request, many replies */
	OS_RPC_BIDI,            /* many requests, many replies */
};

struct os_rpc_method {
	const char				*path;
	enum os_rpc_kind			 kind;
	const ProtobufCMessageDescriptor	*request;
	/* Unary and server-stream: called with the request; answer with
	 * os_rpc_reply/os_rpc_fail (now or later). Bidi: called once with
	 * req NULL when the call starts; messages then go to on_message. */
	void	(*start)(struct os_rpc_call *, const ProtobufCMessage *req,
		    void *arg);
	void	*arg;
};

struct os_rpc_server_options {
	const char	*const	*listen;       /* "unix:/path", "127.0.0.1:8443" */
	size_t			 nlisten;
	/* TLS for TCP addresses (PEM strings); NULL = insecure TCP. */
	const char		*tls_cert;
	const char		*tls_key;
	const char		*tls_client_ca;  /* set = require client certs */
	size_t			 max_message;    /* 0 = 16 MiB */
};

/* Registers methods and starts serving. Fails (0 ports bound etc.) with a message. */
int	 os_rpc_server_start(struct os_rpc_loop *, const struct os_rpc_method *,
	     size_t nmethods, const struct os_rpc_server_options *,
	     struct os_rpc_server **out, struct os_error *);
/* Stops accepting, cancels live calls after `grace_ms`, then calls `done`. */
void	 os_rpc_server_shutdown(struct os_rpc_server *, int64_t grace_ms,
	     void (*done)(void *), void *arg);
void	 os_rpc_server_free(struct os_rpc_server *);
grpc_server *os_rpc_server_grpc(struct os_rpc_server *);
/* Serve a connected socket too (after start): used for inherited fds. */
int	 os_rpc_server_add_fd(struct os_rpc_server *, int fd);

/* Per-call accessors. */
const grpc_metadata_array *os_rpc_call_metadata(struct os_rpc_call *);
const struct os_rpc_method *os_rpc_call_method(struct os_rpc_call *);
/* The verified client certificate's common name (mTLS), or NULL. Caller frees. */
char	*os_rpc_call_peer_cn(struct os_rpc_call *);
char	*os_rpc_call_peer(struct os_rpc_call *);  /* caller frees */
void	 os_rpc_call_set_data(struct os_rpc_call *, void *, void (*free_fn)(void *));
void	*os_rpc_call_data(struct os_rpc_call *);
/* Called once the client is gone (or the call finished); for streams. */
void	 os_rpc_call_on_close(struct os_rpc_call *,
	     void (*)(struct os_rpc_call *, void *arg), void *arg);
/* Bidi: each received message (NULL = the client half-closed). The message
 * is freed after the callback returns. */
void	 os_rpc_call_on_message(struct os_rpc_call *,
	     void (*)(struct os_rpc_call *, const ProtobufCMessage *, void *arg),
	     const ProtobufCMessageDescriptor *, void *arg);
bool	 os_rpc_call_cancelled(struct os_rpc_call *);
/* Bidi flow control: stop (and resume) receiving client messages. */
void	 os_rpc_call_pause(struct os_rpc_call *, bool paused);
/* Called after a send completes while at most `low` messages are still
 * queued: the moment to resume a paused producer. */
void	 os_rpc_call_on_drain(struct os_rpc_call *, size_t low,
	     void (*)(struct os_rpc_call *, void *arg), void *arg);

/* Unary: the reply, then the call is done. */
void	 os_rpc_reply(struct os_rpc_call *, const ProtobufCMessage *);
/* Any kind: finish with a status (and, for streams, after queued sends). */
void	 os_rpc_fail(struct os_rpc_call *, grpc_status_code, const char *fmt,
	     ...) OS_PRINTF(3, 4);
/* Streams: queue a message. Returns the queue length after adding. */
size_t	 os_rpc_send(struct os_rpc_call *, const ProtobufCMessage *);
size_t	 os_rpc_send_queued(struct os_rpc_call *);
/* Streams: the packed size of the messages queued and not yet handed to
 * gRPC (a count alone does not bound memory: messages run to 16 MiB). */
size_t	 os_rpc_send_queued_bytes(struct os_rpc_call *);
/* Streams: drop every queued message not yet handed to gRPC. */
void	 os_rpc_send_discard(struct os_rpc_call *);
/* Streams: the headers now, if nothing went yet, so that a client sees a
 * stream that may stay quiet for long as established at once. */
void	 os_rpc_call_open(struct os_rpc_call *);
void	 os_rpc_finish(struct os_rpc_call *, grpc_status_code, const char *details);
/* Keep the call alive beyond its handler (streams hold a reference). */
void	 os_rpc_call_ref(struct os_rpc_call *);
void	 os_rpc_call_unref(struct os_rpc_call *);

/* ------------------------------------------------------------------------
 * Client (rpc-client.c)
 */
struct os_rpc_tls {
	const char	*ca_pem;        /* trust; NULL = system roots */
	const char	*cert_pem;      /* client certificate (mTLS) */
	const char	*key_pem;
	const char	*server_name;   /* override the name checked */
};

/* "unix:/path" or "host:port". TLS only for TCP. Caller destroys the channel. */
grpc_channel *os_rpc_channel_new(const char *target, const struct os_rpc_tls *,
	     struct os_error *);

/*
 * A synchronous unary call (its own pluck queue; no loop needed). Returns
 * the gRPC status; on anything but OK, err holds "STATUS_NAME: details"
 * and err->code the status. *resp is set on OK (free_unpacked).
 */
grpc_status_code os_rpc_call_sync(grpc_channel *, const char *method,
	     const char *token, const ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *resp_desc,
	     ProtobufCMessage **resp, int64_t timeout_ms, struct os_error *);

/* An asynchronous client call on a loop: unary, server-stream or bidi. */
struct os_rpc_ccall;

struct os_rpc_ccall_ops {
	/* Each reply (freed after the callback returns). */
	void	(*on_message)(struct os_rpc_ccall *, const ProtobufCMessage *,
		    void *arg);
	/* Exactly once, last: the final status. The call is freed after. */
	void	(*on_done)(struct os_rpc_ccall *, grpc_status_code,
		    const char *details, void *arg);
	/* Optional: a send completed; os_rpc_ccall_send_queued() tells how
	 * many remain. */
	void	(*on_sent)(struct os_rpc_ccall *, void *arg);
};

struct os_rpc_ccall *os_rpc_ccall_start(struct os_rpc_loop *, grpc_channel *,
	     const char *method, const char *token, int64_t timeout_ms,
	     const ProtobufCMessageDescriptor *resp_desc,
	     const struct os_rpc_ccall_ops *, void *arg);
/* Queue a request message; false once the call is over. */
bool	 os_rpc_ccall_send(struct os_rpc_ccall *, const ProtobufCMessage *);
size_t	 os_rpc_ccall_send_queued(struct os_rpc_ccall *);
/* No more requests (after the queued ones). */
void	 os_rpc_ccall_close_send(struct os_rpc_ccall *);
void	 os_rpc_ccall_cancel(struct os_rpc_ccall *);
/* Stop receiving for now (flow control); resume later. */
void	 os_rpc_ccall_pause(struct os_rpc_ccall *, bool paused);

#endif /* OS_RPC_H */
