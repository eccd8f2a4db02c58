/*
 * A TLS connection over two memory BIOs, for an event loop: ciphertext
 * comes in through tls_conn_feed and goes out through tls_conn_take, so
 * the same code serves the sandbox side and the upstream side and runs
 * in tests without sockets.
 *
 * OpenSSL's error queue must be empty before an SSL call for
 * SSL_get_error to be right. Every function here leaves it empty (each
 * error path clears it), and the two that start a round of I/O, feed and
 * write, also clear what other code may have left; the calls in between
 * (read, take) do not: ERR_clear_error costs a thread-local lookup, and
 * it was 6% of the relay's CPU when each call made it.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls-int.h"

struct tls_conn {
	SSL	*ssl;
	BIO	*in;		/* from the peer: SSL's rbio, owned by ssl */
	BIO	*out;		/* for the peer: SSL's wbio, owned by ssl */
	char	*alpn;
	bool	 server;
	bool	 checked;	/* client: a host to verify was set */
	bool	 done;		/* handshake complete */
	bool	 eof_in;	/* the peer's socket closed */
	bool	 eof;		/* TLS_EOF returned */
	bool	 clean;		/* ... for a close_notify */
	bool	 failed;	/* fatal: no more I/O, no close_notify */
	bool	 shut;		/* our close_notify is queued */
};

/* Who the other end is, for messages: "client" or "upstream <host>". */
static void
tls_conn_peer(const struct tls_conn *c, char *buf, size_t len)
{
	X509_VERIFY_PARAM	*param = SSL_get0_param(c->ssl);
	struct os_ip		 ip;
	const char		*host;
	char			*asc, canon[64];

	if (c->server) {
		snprintf(buf, len, "%s", _("client"));
		return;
	}
	if ((host = X509_VERIFY_PARAM_get0_host(param, 0)) != NULL) {
		snprintf(buf, len, _("upstream %s"), host);
		return;
	}
	/* OpenSSL spells IPv6 uncompressed ("0:0:0:0:0:0:0:1"); ours is canonical. */
	if ((asc = X509_VERIFY_PARAM_get1_ip_asc(param)) != NULL) {
		if (os_ip_parse(asc, &ip) == 0) {
			os_ip_format(&ip, canon, sizeof canon);
			snprintf(buf, len, _("upstream %s"), canon);
		} else
			snprintf(buf, len, _("upstream %s"), asc);
		OPENSSL_free(asc);
		return;
	}
	snprintf(buf, len, "%s", _("upstream"));
}

/* Server side: the client refused our leaf. The likely cause, or NULL. */
static const char *
tls_conn_hint(unsigned long e)
{
	if (ERR_GET_LIB(e) != ERR_LIB_SSL)
		return NULL;
	switch (ERR_GET_REASON(e)) {
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
		return _("does it trust the sandbox CA?");
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
		/* Some clients say this for an unknown CA too. */
		return _("it rejected the certificate: another host name, or no trust in the sandbox CA?");
	default:
		return NULL;
	}
}

/* A fatal error: the message from the verify result or the error queue. */
static int
tls_conn_fail(struct tls_conn *c, const char *what, struct os_error *err)
{
	const char	*why = NULL, *hint = NULL;
	unsigned long	 e;
	long		 vr;
	char		 peer[TLS_HOST_MAX + 64];

	c->failed = true;
	tls_conn_peer(c, peer, sizeof peer);
	vr = SSL_get_verify_result(c->ssl);
	if (!c->server && vr != X509_V_OK) {
		ERR_clear_error();
		return os_error_set(err, -EPROTO,
		    _("certificate verify failed: %s (%s)"),
		    X509_verify_cert_error_string(vr), peer);
	}
	/* The oldest error is the cause; later ones are its consequences. */
	if ((e = ERR_peek_error()) != 0)
		why = ERR_reason_error_string(e);
	if (why == NULL)
		why = _("unknown error");
	if (c->server && (hint = tls_conn_hint(e)) != NULL)
		os_error_set(err, -EPROTO, _("%s failed: %s (%s; %s)"), what,
		    why, peer, hint);
	else
		os_error_set(err, -EPROTO, _("%s failed: %s (%s)"), what, why,
		    peer);
	ERR_clear_error();
	return -EPROTO;
}

/* The peer is gone and everything it sent has been consumed. */
static bool
tls_conn_drained(const struct tls_conn *c)
{
	return c->eof_in && BIO_ctrl_pending(c->in) == 0;
}

static int
tls_conn_dead(const struct tls_conn *c, struct os_error *err)
{
	char	peer[TLS_HOST_MAX + 64];

	tls_conn_peer(c, peer, sizeof peer);
	return os_error_set(err, -EPROTO, _("TLS connection already failed (%s)"),
	    peer);
}

struct tls_conn *
tls_conn_new(SSL_CTX *ctx, bool server, struct os_error *err)
{
	struct tls_conn	*c;
	BIO		*in, *out;
	SSL		*ssl;

	ERR_clear_error();
	ssl = SSL_new(ctx);
	in = BIO_new(BIO_s_mem());
	out = BIO_new(BIO_s_mem());
	if (ssl == NULL || in == NULL || out == NULL) {
		SSL_free(ssl);
		BIO_free(in);
		BIO_free(out);
		ERR_clear_error();
		os_error_set(err, -ENOMEM, "TLS connection: out of memory");
		return NULL;
	}
	/* An empty input BIO means "wait", not end of stream: EOF is ours to say. */
	BIO_set_mem_eof_return(in, -1);
	SSL_set_bio(ssl, in, out);
	SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	SSL_set_options(ssl, SSL_OP_NO_RENEGOTIATION);
	if (server)
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
	c = xcalloc(1, sizeof *c);
	c->ssl = ssl;
	c->in = in;
	c->out = out;
	c->server = server;
	return c;
}

void
tls_conn_free(struct tls_conn *c)
{
	if (c == NULL)
		return;
	SSL_free(c->ssl);
	free(c->alpn);
	free(c);
	ERR_clear_error();
}

SSL *
tls_conn_ssl(struct tls_conn *c)
{
	return c->ssl;
}

int
tls_conn_feed(struct tls_conn *c, const void *data, size_t len)
{
	const char	*p = data;
	int		 n;

	ERR_clear_error();
	while (len > 0) {
		n = len > INT_MAX ? INT_MAX : (int)len;
		if (BIO_write(c->in, p, n) != n) {
			ERR_clear_error();
			return -ENOMEM;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void
tls_conn_feed_eof(struct tls_conn *c)
{
	c->eof_in = true;
}

/* A client that verifies must know what name to verify, or any valid
 * certificate for any host would do. */
static bool
tls_conn_has_target(SSL *ssl)
{
	X509_VERIFY_PARAM	*param = SSL_get0_param(ssl);
	char			*ip;

	if ((SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) == 0 ||
	    X509_VERIFY_PARAM_get0_host(param, 0) != NULL)
		return true;
	if ((ip = X509_VERIFY_PARAM_get1_ip_asc(param)) == NULL)
		return false;
	OPENSSL_free(ip);
	return true;
}

int
tls_conn_handshake(struct tls_conn *c, struct os_error *err)
{
	const unsigned char	*p;
	unsigned int		 n;
	char			 peer[TLS_HOST_MAX + 64];
	int			 ret;

	ERR_clear_error();
	if (c->done)
		return 1;
	if (c->failed)
		return tls_conn_dead(c, err);
	if (!c->server && !c->checked) {
		if (!tls_conn_has_target(c->ssl)) {
			c->failed = true;
			return os_error_set(err, -EINVAL,
			    "TLS client without a host to verify (tls_upstream_prepare)");
		}
		c->checked = true;
	}
	if ((ret = SSL_do_handshake(c->ssl)) == 1) {
		c->done = true;
		if (!c->server)
			tls_resume_done(c->ssl, true);
		SSL_get0_alpn_selected(c->ssl, &p, &n);
		if (n > 0)
			c->alpn = xstrndup((const char *)p, n);
		ERR_clear_error();
		return 1;
	}
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		if (!tls_conn_drained(c))
			return 0;
		/* FALLTHROUGH */
	case SSL_ERROR_ZERO_RETURN:
		if (!c->server)
			tls_resume_done(c->ssl, false);
		c->failed = true;
		ERR_clear_error();
		tls_conn_peer(c, peer, sizeof peer);
		return os_error_set(err, -ECONNRESET,
		    _("TLS handshake failed: the connection closed before it completed (%s)"),
		    peer);
	default:
		if (!c->server)
			tls_resume_done(c->ssl, false);
		return tls_conn_fail(c, _("TLS handshake"), err);
	}
}

ssize_t
tls_conn_read(struct tls_conn *c, void *buf, size_t len, struct os_error *err)
{
	int	ret;

	if (c->eof)
		return TLS_EOF;
	if (c->failed)
		return tls_conn_dead(c, err);
	if (!c->done && (ret = tls_conn_handshake(c, err)) <= 0)
		return ret;
	if (len == 0)
		return 0;
	ret = SSL_read(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (ret > 0)
		return ret;
	switch (SSL_get_error(c->ssl, ret)) {
	/* These come only with an empty queue: nothing to clear. */
	case SSL_ERROR_ZERO_RETURN:
		c->eof = c->clean = true;
		return TLS_EOF;
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		if (!tls_conn_drained(c))
			return 0;
		/* A socket close without close_notify: maybe a truncation. */
		c->eof = true;
		return TLS_EOF;
	default:
		return tls_conn_fail(c, _("TLS read"), err);
	}
}

ssize_t
tls_conn_write(struct tls_conn *c, const void *buf, size_t len,
    struct os_error *err)
{
	const char	*p = buf;
	char		 peer[TLS_HOST_MAX + 64];
	size_t		 done = 0;
	int		 ret, n;

	ERR_clear_error();
	if (c->shut) {
		tls_conn_peer(c, peer, sizeof peer);
		return os_error_set(err, -EPIPE,
		    _("TLS write after shutdown (%s)"), peer);
	}
	if (c->failed)
		return tls_conn_dead(c, err);
	if (!c->done && (ret = tls_conn_handshake(c, err)) <= 0)
		return ret;
	/* Partial writes stop after each record; the memory BIO never
	 * pushes back, so go on until everything is taken. */
	while (done < len) {
		n = len - done > INT_MAX ? INT_MAX : (int)(len - done);
		if ((ret = SSL_write(c->ssl, p + done, n)) > 0) {
			done += (size_t)ret;
			continue;
		}
		switch (SSL_get_error(c->ssl, ret)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			return (ssize_t)done;
		default:
			ret = tls_conn_fail(c, _("TLS write"), err);
			/* What was taken is queued; the next call reports the failure. */
			return done > 0 ? (ssize_t)done : ret;
		}
	}
	return (ssize_t)done;
}

size_t
tls_conn_pending(const struct tls_conn *c)
{
	return BIO_ctrl_pending(c->out);
}

size_t
tls_conn_take(struct tls_conn *c, void *buf, size_t len)
{
	int	n;

	/* An empty BIO is the common case (each flush ends with one). */
	if (len == 0 || BIO_ctrl_pending(c->out) == 0)
		return 0;
	n = BIO_read(c->out, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (n <= 0)
		ERR_clear_error();
	return n > 0 ? (size_t)n : 0;
}

int
tls_conn_shutdown(struct tls_conn *c, struct os_error *err)
{
	int	ret;

	ERR_clear_error();
	if (c->shut || c->failed || !c->done)
		return 0;
	c->shut = true;
	/* 0: ours sent, the peer's not seen yet; 1: both. Either is done for us. */
	if ((ret = SSL_shutdown(c->ssl)) >= 0)
		return 0;
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		ERR_clear_error();
		return 0;
	default:
		return tls_conn_fail(c, _("TLS shutdown"), err);
	}
}

bool
tls_conn_handshake_done(const struct tls_conn *c)
{
	return c->done;
}

bool
tls_conn_closed_cleanly(const struct tls_conn *c)
{
	return c->clean;
}

const char *
tls_conn_alpn(const struct tls_conn *c)
{
	return c->alpn;
}

const char *
tls_conn_sni(const struct tls_conn *c)
{
	return SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
}
