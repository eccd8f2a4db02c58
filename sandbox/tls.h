/*
 * TLS for the L7 relay (sandbox/tls*.c): the per-sandbox CA and the leaf
 * certificates it mints, the verified upstream client context, and
 * memory-BIO connections an event loop drives. Pure OpenSSL: no sockets,
 * no libuv, so all of it runs in unit tests.
 *
 * Not thread-safe: use each object from one (the proxy's loop) thread.
 *
 * Typical use by the relay, for CONNECT api.github.com:443 (tls: terminate):
 *
 *	ctx = tls_ca_server_ctx(ca, "api.github.com", &err);
 *	down = tls_conn_new(ctx, true, &err);	   (sandbox side, we serve)
 *	SSL_CTX_free(ctx);			   (the conn holds its own)
 *	up = tls_conn_new(upstream_ctx, false, &err);
 *	tls_upstream_prepare(tls_conn_ssl(up), "api.github.com", 443, &err);
 *
 * then for each side: bytes read from the socket go to tls_conn_feed (or
 * tls_conn_feed_eof on EOF); call tls_conn_handshake until it returns 1,
 * then tls_conn_read/tls_conn_write; after EVERY call, send whatever
 * tls_conn_pending reports (tls_conn_take) to the socket. Any call can
 * queue output: handshake flights, alerts, close_notify, TLS 1.3 key
 * updates.
 *
 * Errors are negative errno with a message in struct os_error, e.g.
 * "certificate verify failed: unable to get local issuer certificate
 * (upstream api.github.com)". Every function that calls OpenSSL clears
 * its error queue on entry and before returning, so errors never leak
 * from one connection into another's message.
 */
#ifndef SANDBOX_TLS_H
#define SANDBOX_TLS_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "openshell.h"

/* ------------------------------------------------------------------------
 * The per-sandbox CA (tls-ca.c). An EC P-256 CA made in memory at start:
 * "OpenShell sandbox <name> CA", valid from an hour ago for a year,
 * CA:TRUE pathlen:0, keyCertSign/cRLSign. Its private key never leaves
 * the struct (there is no way to export it).
 *
 * Leaves are minted per host on first use and cached, as ready-to-serve
 * SSL_CTXs, in an LRU of TLS_CA_CACHE_MAX entries (~19 KiB each, so
 * ~10 MiB when full; a miss costs ~0.4 ms of CPU, mostly OpenSSL 3.0's
 * SSL_CTX_new and public-key encoding; a hit ~0.2 us). All
 * leaves of a CA share one P-256 key pair, made with the CA: a per-leaf
 * key would double the minting cost and protect nothing, since leaf keys
 * and the CA key live in the same process (whoever reads one reads the
 * other). Leaves: SAN DNS:<host> or IP:<addr>, CN <host> when it fits in
 * 64 characters, serverAuth, validity inside the CA's (so a sandbox
 * that outlives its CA's year needs a new CA); served chain = leaf + CA.
 *
 * Serving contexts: TLS 1.2 and 1.3, no renegotiation; stateless
 * session tickets (two per full handshake, each context with its own
 * key, valid TLS_RESUME_MAX_AGE seconds), no server-side session cache,
 * no 0-RTT. ALPN:
 * "http/1.1" is selected when the client offers it; a client offering
 * ALPN without http/1.1 (say only "h2") gets no ALPN at all instead of a
 * fatal alert, which RFC 7301 allows: HTTP/1.1 clients carry on, and an
 * h2-only client sends the h2 preface, which the relay refuses with a
 * readable 403 rather than an opaque handshake failure.
 */
#define TLS_CA_CACHE_MAX	512

struct tls_ca;

struct tls_ca_stats {
	uint64_t	minted;		/* leaves signed (cache misses) */
	uint64_t	hits;		/* lookups answered from the cache */
	uint64_t	evicted;	/* entries dropped to keep the bound */
	size_t		cached;		/* entries now */
	size_t		cache_max;
};

/* A new CA for the sandbox (name may be NULL; cut to fit a 64-character
 * CN). 0 with *out (tls_ca_free), or -EIO with err. */
int	 tls_ca_new(const char *sandbox_name, struct tls_ca **out,
	     struct os_error *);
/* Frees the CA and its cache; contexts the caller still holds stay valid. */
void	 tls_ca_free(struct tls_ca *);
/* The CA certificate, PEM, for the sandbox's trust bundle. Owned by ca. */
const char *tls_ca_cert_pem(const struct tls_ca *);
/* Changes the cache bound (0 = no caching), evicting LRU entries to fit. */
void	 tls_ca_set_cache_max(struct tls_ca *, size_t);
/*
 * A serving SSL_CTX with a leaf for host: a DNS name (compared without
 * case; a trailing dot is ignored) or an IP literal ("10.0.0.1", "::1",
 * "[::1]"). Returns a new reference: the caller calls SSL_CTX_free (a
 * tls_conn takes its own). The context is shared with the cache and
 * other connections: do not change it. NULL with err: -EINVAL for a
 * host that cannot be a certificate name, -EIO when signing fails.
 */
SSL_CTX	*tls_ca_server_ctx(struct tls_ca *, const char *host,
	     struct os_error *);
void	 tls_ca_stats(const struct tls_ca *, struct tls_ca_stats *);

/* ------------------------------------------------------------------------
 * Upstream (tls-upstream.c). The proxy's client context: the system trust
 * store plus extra_ca_pem (the gateway's --upstream-ca: one or more PEM
 * certificates; NULL for none), TLS 1.2+, ALPN offering only http/1.1,
 * SSL_VERIFY_PEER, no renegotiation. NULL with err (-EINVAL for a bad
 * PEM; the caller prefixes the file name). Caller SSL_CTX_free()s.
 *
 * The context resumes sessions (tls-resume.c): per upstream host:port it
 * keeps the newest session the server gave, and tls_upstream_prepare
 * offers it. A session is only offered to the host:port whose chain it
 * was verified for, at most TLS_RESUME_MAX_AGE seconds after that chain
 * was verified (tickets from resumed connections do not renew it) and
 * within the ticket's own lifetime; it is forgotten when a handshake to
 * that host:port fails. TLS_RESUME_MAX upstreams are kept, the least
 * recently stored go first. The same session may serve several
 * connections: RFC 8446 advises against that because it links the
 * connections to one client, and a proxy's connections all come from
 * one address anyway.
 */
#define TLS_RESUME_MAX		256
#define TLS_RESUME_MAX_AGE	3600

struct tls_resume_stats {
	uint64_t	stored;		/* sessions (tickets) received */
	uint64_t	offered;	/* handshakes that offered one */
	uint64_t	resumed;	/* ... and that the server accepted */
	size_t		cached;		/* upstreams with a session now */
};

SSL_CTX	*tls_upstream_ctx_new(const char *extra_ca_pem, struct os_error *);
/*
 * Before the handshake of a client SSL: the name or address the
 * certificate must match, and SNI (not for IP literals, RFC 6066); port
 * completes the session cache's key. 0, or -EINVAL or -ENOMEM with err.
 * A client tls_conn that verifies peers refuses to handshake without it.
 */
int	 tls_upstream_prepare(SSL *, const char *host, uint16_t port,
	     struct os_error *);
/* The session cache's counters (zero for a context without one). */
void	 tls_upstream_stats(SSL_CTX *, struct tls_resume_stats *);

/* ------------------------------------------------------------------------
 * Host names (tls-host.c): the form certificates and the cache use, so
 * the relay can compare SNI and CONNECT host the same way. Lower case, no
 * trailing dot, IP literals canonical (no brackets). *is_ip may be NULL.
 * 0, or -EINVAL with err ("invalid TLS host 'a b': invalid character ' '").
 */
#define TLS_HOST_MAX	254	/* 253 characters and the NUL */
int	 tls_host_normalize(const char *host, char out[TLS_HOST_MAX],
	     bool *is_ip, struct os_error *);

/* ------------------------------------------------------------------------
 * Connections over memory BIOs (tls-conn.c), for an event loop: the conn
 * never touches a socket. Renegotiation is off on both sides.
 *
 * Writes: SSL_MODE_ENABLE_PARTIAL_WRITE and ACCEPT_MOVING_WRITE_BUFFER
 * are set, so tls_conn_write returns what it consumed and the rest may
 * be passed again from any buffer. With a memory BIO underneath nothing
 * ever blocks, so after the handshake a write consumes everything (and
 * queues all of its ciphertext: write in chunks, e.g. what one socket
 * read gave). SSL_MODE_RELEASE_BUFFERS keeps idle keep-alive
 * connections small.
 */

/* tls_conn_read's "the peer is done", like libuv's UV_EOF: outside errno's range. */
#define TLS_EOF		(-4095)

struct tls_conn;

/* A connection on ctx: server (we answer a ClientHello) or client. Takes
 * its own reference to ctx. NULL with err (-ENOMEM). tls_conn_free. */
struct tls_conn *tls_conn_new(SSL_CTX *, bool server, struct os_error *);
void	 tls_conn_free(struct tls_conn *);
/* For SSL-level tweaks (tls_upstream_prepare). Owned by the conn. */
SSL	*tls_conn_ssl(struct tls_conn *);

/* Ciphertext read from the peer; copied. 0 or -ENOMEM. */
int	 tls_conn_feed(struct tls_conn *, const void *, size_t);
/* The peer closed its side of the socket (no more feed). */
void	 tls_conn_feed_eof(struct tls_conn *);

/*
 * One handshake step: 1 done, 0 wants more input (after flushing the
 * output), or negative with err: -EPROTO (a TLS failure; for a client,
 * SSL_get_verify_result says whether it was the certificate),
 * -ECONNRESET (the peer closed mid-handshake), -EINVAL (a client conn
 * without tls_upstream_prepare). After an error, flush the output (it
 * may hold an alert for the peer) and close.
 */
int	 tls_conn_handshake(struct tls_conn *, struct os_error *);
/*
 * Plaintext from the peer: n > 0 bytes, 0 nothing now (feed more),
 * TLS_EOF the peer is done (close_notify, or its socket closed:
 * tls_conn_closed_cleanly tells which; a relay that relies on close to
 * delimit a body must check), or -EPROTO with err. Drives the handshake
 * if it is not done.
 */
ssize_t	 tls_conn_read(struct tls_conn *, void *, size_t, struct os_error *);
/* Plaintext to the peer: bytes consumed (0 before the handshake is
 * done), or -EPROTO / -EPIPE (after shutdown) with err. */
ssize_t	 tls_conn_write(struct tls_conn *, const void *, size_t,
	     struct os_error *);
/* Ciphertext waiting for the socket, and taking it: copies up to len
 * bytes into buf, returns how many. */
size_t	 tls_conn_pending(const struct tls_conn *);
size_t	 tls_conn_take(struct tls_conn *, void *buf, size_t len);
/* Queues close_notify (once; nothing before the handshake is done or
 * after an error). Does not wait for the peer's. 0 or -EPROTO with err. */
int	 tls_conn_shutdown(struct tls_conn *, struct os_error *);

bool	 tls_conn_handshake_done(const struct tls_conn *);
/* After TLS_EOF: true for close_notify, false for a bare socket close. */
bool	 tls_conn_closed_cleanly(const struct tls_conn *);
/* The negotiated ALPN protocol ("http/1.1") or NULL; owned by the conn. */
const char *tls_conn_alpn(const struct tls_conn *);
/* Server side: the SNI the client sent (as sent; compare after
 * tls_host_normalize), NULL if none or before the ClientHello was read.
 * Client side: the SNI we send. Owned by the conn. */
const char *tls_conn_sni(const struct tls_conn *);

/* ------------------------------------------------------------------------
 * Protocol sniffing (tls-sniff.c) for the first bytes of a tunnel.
 * 1: a TLS handshake record starting a ClientHello (content type 22,
 * record version 0x0300-0x0304 like the reference proxy, length
 * 1..16384, handshake type 1); 0: it cannot be one; -1: consistent so
 * far, need TLS_SNIFF_MIN bytes. Six bytes always arrive with a real ClientHello's
 * first segment, so the relay's short peek deadline is only ever for
 * clients that send nothing.
 */
#define TLS_SNIFF_MIN	6
int	 tls_sniff(const unsigned char *, size_t);

#endif /* SANDBOX_TLS_H */
