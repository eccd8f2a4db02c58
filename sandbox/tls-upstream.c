/*
 * The proxy's TLS client side: one context trusting the system store and
 * the operator's extra CAs, and per connection the name (or address) the
 * upstream certificate must carry.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tls-int.h"

static int
tls_upstream_fail(struct os_error *err, int code, const char *what)
{
	const char	*why;
	unsigned long	 e;

	e = ERR_peek_last_error();
	why = e != 0 ? ERR_reason_error_string(e) : NULL;
	os_error_set(err, code, "%s: %s", what, why != NULL ? why : "unknown error");
	ERR_clear_error();
	return code;
}

/* Adds every certificate in pem to store; how many, or -EINVAL with err. */
static int
tls_upstream_add_pem(X509_STORE *store, const char *pem, struct os_error *err)
{
	BIO		*b;
	X509		*x;
	unsigned long	 e;
	int		 n = 0;

	if ((b = BIO_new_mem_buf(pem, -1)) == NULL)
		return tls_upstream_fail(err, -ENOMEM, _("upstream CA bundle"));
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		n++;
		if (X509_STORE_add_cert(store, x) != 1) {
			X509_free(x);
			BIO_free(b);
			return tls_upstream_fail(err, -EINVAL,
			    _("upstream CA bundle"));
		}
		X509_free(x);
	}
	BIO_free(b);
	/* The loop ends at "no start line" after the last certificate;
	 * anything else is a certificate that did not parse. */
	e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
		ERR_clear_error();
		if (n == 0)
			return os_error_set(err, -EINVAL,
			    _("upstream CA bundle: no PEM certificate found"));
		return n;
	}
	os_error_set(err, -EINVAL, _("upstream CA bundle: certificate %d: %s"),
	    n + 1, e != 0 && ERR_reason_error_string(e) != NULL ?
	    ERR_reason_error_string(e) : "unknown error");
	ERR_clear_error();
	return -EINVAL;
}

SSL_CTX *
tls_upstream_ctx_new(const char *extra_ca_pem, struct os_error *err)
{
	static const unsigned char	alpn[] = "\x08http/1.1";
	SSL_CTX				*ctx;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		tls_upstream_fail(err, -ENOMEM, "SSL_CTX_new");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		tls_upstream_fail(err, -EIO, _("system trust store"));
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* The system store may legitimately be empty (a minimal image);
	 * failures to load a missing file are not ours to report. */
	ERR_clear_error();
	if (extra_ca_pem != NULL &&
	    tls_upstream_add_pem(SSL_CTX_get_cert_store(ctx), extra_ca_pem, err) < 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* Returns 0 on success, unlike everything else here. */
	if (SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1) != 0) {
		tls_upstream_fail(err, -ENOMEM, "ALPN");
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (tls_resume_attach(ctx) != 0) {
		tls_upstream_fail(err, -ENOMEM, _("session cache"));
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int
tls_upstream_prepare(SSL *ssl, const char *host, uint16_t port,
    struct os_error *err)
{
	X509_VERIFY_PARAM	*param = SSL_get0_param(ssl);
	char			 name[TLS_HOST_MAX];
	bool			 is_ip;
	int			 rc;

	ERR_clear_error();
	if ((rc = tls_host_normalize(host, name, &is_ip, err)) != 0)
		return rc;
	if (is_ip) {
		if (X509_VERIFY_PARAM_set1_ip_asc(param, name) != 1)
			return tls_upstream_fail(err, -EINVAL, name);
	} else {
		/* No partial wildcards ("f*o.example"): browsers refuse them too. */
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (SSL_set_tlsext_host_name(ssl, name) != 1 ||
		    SSL_set1_host(ssl, name) != 1)
			return tls_upstream_fail(err, -EINVAL, name);
	}
	if (tls_resume_offer(ssl, name, port) != 0) {
		ERR_clear_error();
		return os_error_set(err, -ENOMEM,
		    _("session cache for %s:%u: out of memory"), name,
		    (unsigned)port);
	}
	return 0;
}
