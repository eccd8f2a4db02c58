/*
 * TLS for the L7 relay: the sandbox CA, minted leaves (checked with
 * X509_verify_cert the way a client would), the bounded leaf cache, and
 * full in-memory handshakes between a serving tls_conn and an upstream
 * tls_conn, including the failures a user would read about.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "openshell.h"
#include "tap.h"
#include "tls.h"

static struct tls_ca	*ca;			/* "demo", shared */
static unsigned char	 client_hello[4096];	/* the first handshake's */
static size_t		 client_hello_len;

static X509 *
pem_x509(const char *pem)
{
	BIO	*b = BIO_new_mem_buf(pem, -1);
	X509	*x = PEM_read_bio_X509(b, NULL, NULL, NULL);

	BIO_free(b);
	return x;
}

static char *
name_text(X509_NAME *name, int nid)
{
	char	buf[256];

	if (X509_NAME_get_text_by_NID(name, nid, buf, sizeof buf) < 0)
		return xstrdup("(none)");
	return xstrdup(buf);
}

/* X509_verify_cert as a TLS client would: chain from the serving ctx,
 * trust = the CA, purpose sslserver, host or IP. The error code. */
static int
verify_leaf(SSL_CTX *ctx, const char *host, const char *ip)
{
	X509_STORE	*store = X509_STORE_new();
	X509_STORE_CTX	*vctx = X509_STORE_CTX_new();
	X509		*cacert = pem_x509(tls_ca_cert_pem(ca));
	STACK_OF(X509)	*chain = NULL;
	X509_VERIFY_PARAM *param;
	int		 rc;

	X509_STORE_add_cert(store, cacert);
	SSL_CTX_get0_chain_certs(ctx, &chain);
	X509_STORE_CTX_init(vctx, store, SSL_CTX_get0_certificate(ctx), chain);
	X509_STORE_CTX_set_purpose(vctx, X509_PURPOSE_SSL_SERVER);
	param = X509_STORE_CTX_get0_param(vctx);
	if (host != NULL)
		X509_VERIFY_PARAM_set1_host(param, host, 0);
	if (ip != NULL)
		X509_VERIFY_PARAM_set1_ip_asc(param, ip);
	rc = X509_verify_cert(vctx) == 1 ? X509_V_OK :
	    X509_STORE_CTX_get_error(vctx);
	X509_STORE_CTX_free(vctx);
	X509_STORE_free(store);
	X509_free(cacert);
	ERR_clear_error();
	return rc;
}

/* Moves everything a has queued for the wire to b. */
static void
wire(struct tls_conn *a, struct tls_conn *b)
{
	unsigned char	buf[16384];
	size_t		n;

	while ((n = tls_conn_take(a, buf, sizeof buf)) > 0)
		tls_conn_feed(b, buf, n);
}

struct pair {
	struct tls_conn	*s, *c;
	int		 src, crc;	/* handshake results */
	struct os_error	 serr, cerr;
};

/* Runs both handshakes to the end, capturing the client's first flight. */
static void
pair_handshake(struct pair *p)
{
	unsigned char	buf[16384];
	size_t		n;
	int		i;

	p->crc = tls_conn_handshake(p->c, &p->cerr);
	n = tls_conn_take(p->c, buf, sizeof buf);
	if (client_hello_len == 0 && n <= sizeof client_hello) {
		memcpy(client_hello, buf, n);
		client_hello_len = n;
	}
	tls_conn_feed(p->s, buf, n);
	for (i = 0; i < 16; i++) {
		if (p->src == 0)
			p->src = tls_conn_handshake(p->s, &p->serr);
		wire(p->s, p->c);
		if (p->crc == 0)
			p->crc = tls_conn_handshake(p->c, &p->cerr);
		wire(p->c, p->s);
		if (p->src != 0 && p->crc != 0)
			break;
	}
	/* The server finishes on the client's last flight. */
	if (p->src == 0)
		p->src = tls_conn_handshake(p->s, &p->serr);
}

/* A serving conn for leaf_host against an upstream conn verifying
 * verify_host (NULL: no tls_upstream_prepare), not yet handshaken. */
static void
pair_new(struct pair *p, const char *leaf_host, SSL_CTX *up,
    const char *verify_host)
{
	struct os_error	 err;
	SSL_CTX		*sctx;

	memset(p, 0, sizeof *p);
	sctx = tls_ca_server_ctx(ca, leaf_host, &err);
	p->s = tls_conn_new(sctx, true, &err);
	SSL_CTX_free(sctx);
	p->c = tls_conn_new(up, false, &err);
	if (verify_host != NULL &&
	    tls_upstream_prepare(tls_conn_ssl(p->c), verify_host, 443, &err) != 0)
		printf("# prepare %s: %s\n", verify_host, err.msg);
}

static void
pair_free(struct pair *p)
{
	tls_conn_free(p->s);
	tls_conn_free(p->c);
}

static SSL_CTX *
upstream_trusting_ca(void)
{
	struct os_error	err;
	SSL_CTX		*up;

	if ((up = tls_upstream_ctx_new(tls_ca_cert_pem(ca), &err)) == NULL)
		printf("# upstream ctx: %s\n", err.msg);
	return up;
}

/* Reads everything available from c into buf; the last read's result. */
static ssize_t
read_all(struct tls_conn *c, char *buf, size_t cap, size_t *got,
    struct os_error *err)
{
	ssize_t	n;

	*got = 0;
	while ((n = tls_conn_read(c, buf + *got, cap - *got, err)) > 0)
		*got += (size_t)n;
	return n;
}

static void
t_ca_certificate(void)
{
	struct tls_ca	*long_ca;
	struct os_error	 err;
	X509		*x = pem_x509(tls_ca_cert_pem(ca));
	EVP_PKEY	*pk;
	char		*cn, *o;
	int		 days, secs;
	time_t		 now = time(NULL);

	CHECK(x != NULL);
	if (x == NULL)
		return;
	cn = name_text(X509_get_subject_name(x), NID_commonName);
	o = name_text(X509_get_subject_name(x), NID_organizationName);
	CHECK_STR(cn, "OpenShell sandbox demo CA");
	CHECK_STR(o, "OpenShell");
	free(cn);
	free(o);
	CHECK_INT(X509_check_ca(x), 1);
	CHECK_INT(X509_get_pathlen(x), 0);
	CHECK_INT(X509_get_key_usage(x), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	CHECK(X509_get_extension_flags(x) & EXFLAG_SS);
	pk = X509_get0_pubkey(x);
	CHECK(EVP_PKEY_is_a(pk, "EC"));
	CHECK_INT(EVP_PKEY_get_bits(pk), 256);
	CHECK_INT(X509_verify(x, pk), 1);
	/* From an hour ago, for a year. */
	CHECK_INT(X509_cmp_time(X509_get0_notBefore(x), &(time_t){ now - 3500 }), -1);
	CHECK_INT(X509_cmp_time(X509_get0_notBefore(x), &(time_t){ now - 3700 }), 1);
	CHECK(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)));
	CHECK_INT(days, 365);
	CHECK_INT(secs, 3600);
	/* The bundle written into the sandbox carries no key. */
	CHECK(strstr(tls_ca_cert_pem(ca), "PRIVATE KEY") == NULL);
	X509_free(x);

	/* Sandbox names are up to 63 characters; a CN is at most 64. */
	CHECK_INT(tls_ca_new("a23456789012345678901234567890123456789012345678901234567890123",
	    &long_ca, &err), 0);
	x = pem_x509(tls_ca_cert_pem(long_ca));
	cn = name_text(X509_get_subject_name(x), NID_commonName);
	CHECK_STR(cn, "OpenShell sandbox a234567890123456789012345678901234567890123 CA");
	CHECK_INT(strlen(cn), 64);
	free(cn);
	X509_free(x);
	tls_ca_free(long_ca);
}

/* The PEM interface the gateway uses, on top of the same builder. */
static void
t_x509_issue_pem_still_works(void)
{
	static const char *const	 dns[] = { "localhost" }, *ips[] = { "::1" };
	struct os_cert_request		 r;
	struct os_error			 err;
	X509_STORE			*store = X509_STORE_new();
	X509_STORE_CTX			*vctx = X509_STORE_CTX_new();
	X509				*cax, *leafx;
	char				*ca_pem, *ca_key, *pem, *key, *cn;

	memset(&r, 0, sizeof r);
	r.cn = "OpenShell Gateway CA";
	r.ca = true;
	r.days = 3650;
	CHECK_INT(os_x509_issue(&r, NULL, NULL, &ca_pem, &ca_key, &err), 0);
	memset(&r, 0, sizeof r);
	r.cn = "openshell-gateway";
	r.dns = dns;
	r.ndns = 1;
	r.ips = ips;
	r.nips = 1;
	r.server = true;
	r.days = 825;
	CHECK_INT(os_x509_issue(&r, ca_pem, ca_key, &pem, &key, &err), 0);
	CHECK(strstr(key, "PRIVATE KEY") != NULL);
	cax = pem_x509(ca_pem);
	leafx = pem_x509(pem);
	CHECK_INT(X509_get_pathlen(cax), -1);	/* unconstrained, as before */
	cn = name_text(X509_get_subject_name(leafx), NID_commonName);
	CHECK_STR(cn, "openshell-gateway");
	free(cn);
	CHECK_INT(X509_check_host(leafx, "localhost", 0, 0, NULL), 1);
	CHECK_INT(X509_check_ip_asc(leafx, "::1", 0), 1);
	X509_STORE_add_cert(store, cax);
	X509_STORE_CTX_init(vctx, store, leafx, NULL);
	X509_STORE_CTX_set_purpose(vctx, X509_PURPOSE_SSL_SERVER);
	CHECK_INT(X509_verify_cert(vctx), 1);
	X509_STORE_CTX_free(vctx);
	X509_STORE_free(store);
	X509_free(cax);
	X509_free(leafx);
	free(ca_pem);
	free(ca_key);
	free(pem);
	free(key);
	ERR_clear_error();
}

static void
t_leaf_verifies_for_its_host_only(void)
{
	struct os_error	 err;
	SSL_CTX		*ctx, *other;
	STACK_OF(X509)	*chain = NULL;
	X509		*leaf, *cacert = pem_x509(tls_ca_cert_pem(ca));
	char		*cn;

	ctx = tls_ca_server_ctx(ca, "api.github.com", &err);
	CHECK(ctx != NULL);
	if (ctx == NULL) {
		printf("# %s\n", err.msg);
		X509_free(cacert);
		return;
	}
	leaf = SSL_CTX_get0_certificate(ctx);
	CHECK_INT(verify_leaf(ctx, "api.github.com", NULL), X509_V_OK);
	CHECK_INT(verify_leaf(ctx, "evil.example", NULL), X509_V_ERR_HOSTNAME_MISMATCH);
	CHECK_INT(verify_leaf(ctx, "github.com", NULL), X509_V_ERR_HOSTNAME_MISMATCH);
	CHECK_INT(verify_leaf(ctx, NULL, "140.82.112.6"), X509_V_ERR_IP_ADDRESS_MISMATCH);
	cn = name_text(X509_get_subject_name(leaf), NID_commonName);
	CHECK_STR(cn, "api.github.com");
	free(cn);
	CHECK_INT(X509_check_ca(leaf), 0);
	CHECK_INT(X509_get_extended_key_usage(leaf), XKU_SSL_SERVER);
	CHECK_INT(X509_get_key_usage(leaf), KU_DIGITAL_SIGNATURE);
	CHECK(X509_check_issued(cacert, leaf) == X509_V_OK);
	/* Inside the CA's validity. */
	CHECK(ASN1_TIME_compare(X509_get0_notBefore(leaf), X509_get0_notBefore(cacert)) >= 0);
	CHECK(ASN1_TIME_compare(X509_get0_notAfter(leaf), X509_get0_notAfter(cacert)) <= 0);
	/* Served chain: leaf + CA. */
	SSL_CTX_get0_chain_certs(ctx, &chain);
	CHECK_INT(sk_X509_num(chain), 1);
	if (sk_X509_num(chain) == 1)
		CHECK_INT(X509_cmp(sk_X509_value(chain, 0), cacert), 0);
	/* One key pair for every leaf of a CA (tls.h says why). */
	other = tls_ca_server_ctx(ca, "example.org", &err);
	CHECK(EVP_PKEY_eq(X509_get0_pubkey(leaf),
	    X509_get0_pubkey(SSL_CTX_get0_certificate(other))) == 1);
	CHECK(!EVP_PKEY_eq(X509_get0_pubkey(leaf), X509_get0_pubkey(cacert)));
	SSL_CTX_free(other);
	SSL_CTX_free(ctx);
	X509_free(cacert);
}

/* The leaf's only subjectAltName, as "DNS:x" or "IP:x". */
static char *
only_san(SSL_CTX *ctx)
{
	GENERAL_NAMES	*gens;
	GENERAL_NAME	*g;
	char		*s = NULL, buf[64];

	gens = X509_get_ext_d2i(SSL_CTX_get0_certificate(ctx),
	    NID_subject_alt_name, NULL, NULL);
	if (gens == NULL)
		return xstrdup("(none)");
	if (sk_GENERAL_NAME_num(gens) != 1)
		s = xprintf("%d names", sk_GENERAL_NAME_num(gens));
	else if ((g = sk_GENERAL_NAME_value(gens, 0))->type == GEN_DNS)
		s = xprintf("DNS:%s", (const char *)ASN1_STRING_get0_data(g->d.dNSName));
	else if (g->type == GEN_IPADD) {
		struct os_ip ip;

		memset(&ip, 0, sizeof ip);
		ip.family = ASN1_STRING_length(g->d.iPAddress) == 4 ? AF_INET : AF_INET6;
		memcpy(ip.addr, ASN1_STRING_get0_data(g->d.iPAddress),
		    (size_t)ASN1_STRING_length(g->d.iPAddress));
		os_ip_format(&ip, buf, sizeof buf);
		s = xprintf("IP:%s", buf);
	} else
		s = xprintf("type %d", g->type);
	GENERAL_NAMES_free(gens);
	return s;
}

static void
t_leaf_ip_literals(void)
{
	struct os_error	 err;
	SSL_CTX		*ctx;
	char		*san;

	ctx = tls_ca_server_ctx(ca, "10.1.2.3", &err);
	san = only_san(ctx);
	CHECK_STR(san, "IP:10.1.2.3");
	free(san);
	CHECK_INT(verify_leaf(ctx, NULL, "10.1.2.3"), X509_V_OK);
	CHECK_INT(verify_leaf(ctx, NULL, "10.1.2.4"), X509_V_ERR_IP_ADDRESS_MISMATCH);
	CHECK_INT(verify_leaf(ctx, "example.com", NULL), X509_V_ERR_HOSTNAME_MISMATCH);
	SSL_CTX_free(ctx);

	ctx = tls_ca_server_ctx(ca, "[2001:DB8::1]", &err);
	san = only_san(ctx);
	CHECK_STR(san, "IP:2001:db8::1");
	free(san);
	CHECK_INT(verify_leaf(ctx, NULL, "2001:db8:0::1"), X509_V_OK);
	SSL_CTX_free(ctx);

	ctx = tls_ca_server_ctx(ca, "Example.ORG.", &err);
	san = only_san(ctx);
	CHECK_STR(san, "DNS:example.org");
	free(san);
	SSL_CTX_free(ctx);
}

static void
t_cache_hits_and_host_spellings(void)
{
	struct tls_ca		*c;
	struct tls_ca_stats	 st;
	struct os_error		 err;
	SSL_CTX			*a, *b;

	CHECK_INT(tls_ca_new("cache", &c, &err), 0);
	a = tls_ca_server_ctx(c, "api.github.com", &err);
	b = tls_ca_server_ctx(c, "API.GitHub.com.", &err);
	CHECK(a != NULL && a == b);
	SSL_CTX_free(a);
	SSL_CTX_free(b);
	a = tls_ca_server_ctx(c, "[::1]", &err);
	b = tls_ca_server_ctx(c, "0:0::1", &err);
	CHECK(a != NULL && a == b);
	SSL_CTX_free(a);
	SSL_CTX_free(b);
	tls_ca_stats(c, &st);
	CHECK_INT(st.minted, 2);
	CHECK_INT(st.hits, 2);
	CHECK_INT(st.cached, 2);
	CHECK_INT(st.cache_max, TLS_CA_CACHE_MAX);

	/* Nothing that could smuggle names into the SAN, or a wildcard. */
	CHECK(tls_ca_server_ctx(c, "a.com,IP:1.2.3.4", &err) == NULL);
	CHECK_STR(err.msg, "invalid TLS host 'a.com,IP:1.2.3.4': invalid character ','");
	CHECK_INT(err.code, -EINVAL);
	CHECK(tls_ca_server_ctx(c, "*.github.com", &err) == NULL);
	CHECK_STR(err.msg, "invalid TLS host '*.github.com': invalid character '*'");
	CHECK(tls_ca_server_ctx(c, "a..b", &err) == NULL);
	CHECK_STR(err.msg, "invalid TLS host 'a..b': empty label");
	CHECK(tls_ca_server_ctx(c, "", &err) == NULL);
	CHECK_STR(err.msg, "invalid TLS host '': empty");
	CHECK(tls_ca_server_ctx(c, "[10.0.0.1]", &err) == NULL);
	CHECK_STR(err.msg, "invalid TLS host '[10.0.0.1]': not an IPv6 address");
	CHECK(tls_ca_server_ctx(c, "a\nb", &err) == NULL);
	CHECK_STR(err.msg, "invalid TLS host 'a\\x0ab': invalid byte 0x0a");
	tls_ca_stats(c, &st);
	CHECK_INT(st.minted, 2);
	tls_ca_free(c);
}

static void
t_cache_bound_evicts_lru(void)
{
	struct tls_ca		*c;
	struct tls_ca_stats	 st;
	struct os_error		 err;
	struct pair		 p;
	SSL_CTX			*x, *held, *up;

	CHECK_INT(tls_ca_new("lru", &c, &err), 0);
	tls_ca_set_cache_max(c, 2);
	SSL_CTX_free(tls_ca_server_ctx(c, "a.example", &err));	/* mint */
	held = tls_ca_server_ctx(c, "b.example", &err);		/* mint */
	SSL_CTX_free(tls_ca_server_ctx(c, "a.example", &err));	/* hit: a before b */
	SSL_CTX_free(tls_ca_server_ctx(c, "c.example", &err));	/* mint, evicts b */
	tls_ca_stats(c, &st);
	CHECK_INT(st.minted, 3);
	CHECK_INT(st.hits, 1);
	CHECK_INT(st.evicted, 1);
	CHECK_INT(st.cached, 2);
	SSL_CTX_free(tls_ca_server_ctx(c, "a.example", &err));	/* still there */
	SSL_CTX_free(tls_ca_server_ctx(c, "c.example", &err));	/* still there */
	tls_ca_stats(c, &st);
	CHECK_INT(st.minted, 3);
	CHECK_INT(st.hits, 3);
	x = tls_ca_server_ctx(c, "b.example", &err);		/* minted again */
	CHECK(x != held);
	SSL_CTX_free(x);
	tls_ca_stats(c, &st);
	CHECK_INT(st.minted, 4);
	CHECK_INT(st.evicted, 2);		/* a, the least recent */
	SSL_CTX_free(tls_ca_server_ctx(c, "c.example", &err));
	tls_ca_stats(c, &st);
	CHECK_INT(st.hits, 4);
	tls_ca_set_cache_max(c, 1);
	tls_ca_stats(c, &st);
	CHECK_INT(st.cached, 1);
	CHECK_INT(st.evicted, 3);
	tls_ca_set_cache_max(c, 0);
	x = tls_ca_server_ctx(c, "d.example", &err);
	CHECK(x != NULL);
	SSL_CTX_free(x);
	tls_ca_stats(c, &st);
	CHECK_INT(st.cached, 0);

	/* An evicted context a connection holds outlives the cache and the CA. */
	up = tls_upstream_ctx_new(tls_ca_cert_pem(c), &err);
	tls_ca_free(c);
	memset(&p, 0, sizeof p);
	p.s = tls_conn_new(held, true, &err);
	SSL_CTX_free(held);
	p.c = tls_conn_new(up, false, &err);
	tls_upstream_prepare(tls_conn_ssl(p.c), "b.example", 443, &err);
	pair_handshake(&p);
	CHECK_INT(p.src, 1);
	CHECK_INT(p.crc, 1);
	pair_free(&p);
	SSL_CTX_free(up);
}

static void
t_handshake_and_data(void)
{
	static const char	 req[] = "GET /repos HTTP/1.1\r\nHost: api.github.com\r\n\r\n";
	struct pair		 p;
	struct os_error		 err;
	SSL_CTX			*up = upstream_trusting_ca();
	char			*big, *got;
	size_t			 n, i, sent;
	ssize_t			 r;

	pair_new(&p, "api.github.com", up, "api.github.com");
	/* Writing before the handshake queues nothing but the ClientHello. */
	CHECK_INT(tls_conn_write(p.c, req, sizeof req - 1, &err), 0);
	CHECK(!tls_conn_handshake_done(p.c));
	pair_handshake(&p);
	CHECK_INT(p.src, 1);
	CHECK_INT(p.crc, 1);
	if (p.src != 1 || p.crc != 1) {
		printf("# server: %s\n# client: %s\n", p.serr.msg, p.cerr.msg);
		pair_free(&p);
		SSL_CTX_free(up);
		return;
	}
	CHECK_STR(tls_conn_alpn(p.s), "http/1.1");
	CHECK_STR(tls_conn_alpn(p.c), "http/1.1");
	CHECK_STR(tls_conn_sni(p.s), "api.github.com");
	CHECK_STR(tls_conn_sni(p.c), "api.github.com");
	CHECK_INT(SSL_version(tls_conn_ssl(p.s)), TLS1_3_VERSION);
	CHECK_INT(SSL_get_verify_result(tls_conn_ssl(p.c)), X509_V_OK);
	CHECK(SSL_session_reused(tls_conn_ssl(p.c)) == 0);

	/* Request up. */
	CHECK_INT(tls_conn_write(p.c, req, sizeof req - 1, &err), sizeof req - 1);
	wire(p.c, p.s);
	got = xmalloc(1 << 20);
	CHECK_INT(read_all(p.s, got, 1 << 20, &n, &err), 0);
	CHECK_INT(n, sizeof req - 1);
	CHECK(n == sizeof req - 1 && memcmp(got, req, n) == 0);

	/* A 300 KiB answer down, in 64 KiB writes (records of 16 KiB). */
	big = xmalloc(300 * 1024);
	for (i = 0; i < 300 * 1024; i++)
		big[i] = (char)(i * 7 + i / 1024);
	for (sent = 0; sent < 300 * 1024; sent += (size_t)r) {
		n = 300 * 1024 - sent > 65536 ? 65536 : 300 * 1024 - sent;
		if ((r = tls_conn_write(p.s, big + sent, n, &err)) <= 0) {
			printf("# write: %zd %s\n", r, err.msg);
			break;
		}
		CHECK_INT(r, n);	/* memory BIOs never take less */
	}
	CHECK(tls_conn_pending(p.s) > 300 * 1024);
	wire(p.s, p.c);
	CHECK_INT(tls_conn_pending(p.s), 0);
	CHECK_INT(read_all(p.c, got, 1 << 20, &n, &err), 0);
	CHECK_INT(n, 300 * 1024);
	CHECK(n == 300 * 1024 && memcmp(got, big, n) == 0);

	/* close_notify from the client: EOF for the server, cleanly. */
	CHECK_INT(tls_conn_shutdown(p.c, &err), 0);
	CHECK(tls_conn_pending(p.c) > 0);
	wire(p.c, p.s);
	CHECK_INT(tls_conn_read(p.s, got, 100, &err), TLS_EOF);
	CHECK(tls_conn_closed_cleanly(p.s));
	CHECK_INT(tls_conn_read(p.s, got, 100, &err), TLS_EOF);
	CHECK_INT(tls_conn_write(p.c, "x", 1, &err), -EPIPE);
	CHECK_STR(err.msg, "TLS write after shutdown (upstream api.github.com)");
	/* The server answers with its own; the client sees EOF too. */
	CHECK_INT(tls_conn_shutdown(p.s, &err), 0);
	wire(p.s, p.c);
	CHECK_INT(tls_conn_read(p.c, got, 100, &err), TLS_EOF);
	CHECK(tls_conn_closed_cleanly(p.c));
	CHECK(ERR_peek_error() == 0);
	free(big);
	free(got);
	pair_free(&p);
	SSL_CTX_free(up);
}

static void
t_tls12_and_no_renegotiation(void)
{
	struct pair	 p;
	struct os_error	 err;
	SSL_CTX		*up = upstream_trusting_ca();
	SSL		*cssl;
	char		 buf[64];
	ssize_t		 r;
	int		 i;

	pair_new(&p, "api.github.com", up, "api.github.com");
	cssl = tls_conn_ssl(p.c);
	SSL_set_max_proto_version(cssl, TLS1_2_VERSION);
	pair_handshake(&p);
	CHECK_INT(p.src, 1);
	CHECK_INT(p.crc, 1);
	CHECK_INT(SSL_version(tls_conn_ssl(p.s)), TLS1_2_VERSION);
	CHECK_STR(tls_conn_alpn(p.s), "http/1.1");

	/* A client that asks to renegotiate is told no; the server carries on. */
	SSL_clear_options(cssl, SSL_OP_NO_RENEGOTIATION);
	CHECK_INT(SSL_renegotiate(cssl), 1);
	SSL_do_handshake(cssl);
	ERR_clear_error();
	wire(p.c, p.s);
	r = tls_conn_read(p.s, buf, sizeof buf, &err);
	CHECK_INT(r, 0);
	if (r < 0)
		printf("# server: %s\n", err.msg);
	CHECK_INT(SSL_num_renegotiations(tls_conn_ssl(p.s)), 0);
	wire(p.s, p.c);
	for (i = 0; i < 4 && (r = tls_conn_read(p.c, buf, sizeof buf, &err)) == 0; i++)
		wire(p.s, p.c);
	CHECK_INT(r, -EPROTO);
	CHECK_STR(err.msg, "TLS read failed: no renegotiation (upstream api.github.com)");
	pair_free(&p);

	/* TLS 1.1 and below are refused. */
	pair_new(&p, "api.github.com", up, "api.github.com");
	SSL_set_min_proto_version(tls_conn_ssl(p.c), TLS1_VERSION);
	SSL_set_max_proto_version(tls_conn_ssl(p.c), TLS1_1_VERSION);
	SSL_set_security_level(tls_conn_ssl(p.c), 0);
	SSL_set_cipher_list(tls_conn_ssl(p.c), "DEFAULT:@SECLEVEL=0");
	pair_handshake(&p);
	CHECK(p.src < 0);
	CHECK_CONTAINS(p.serr.msg, "TLS handshake failed: ");
	CHECK_CONTAINS(p.serr.msg, "(client)");
	printf("# TLS 1.1 client: server says \"%s\"\n", p.serr.msg);
	pair_free(&p);
	SSL_CTX_free(up);
}

static void
t_verify_failures_are_readable(void)
{
	struct pair	 p;
	struct os_error	 err;
	SSL_CTX		*up = upstream_trusting_ca(), *sys;

	/* The wrong name. */
	pair_new(&p, "api.github.com", up, "other.example");
	pair_handshake(&p);
	CHECK_INT(p.crc, -EPROTO);
	CHECK_STR(p.cerr.msg, "certificate verify failed: hostname mismatch (upstream other.example)");
	CHECK_INT(SSL_get_verify_result(tls_conn_ssl(p.c)), X509_V_ERR_HOSTNAME_MISMATCH);
	CHECK_INT(p.src, -EPROTO);
	CHECK_STR(p.serr.msg, "TLS handshake failed: sslv3 alert bad certificate "
	    "(client; it rejected the certificate: another host name, or no trust in the sandbox CA?)");
	CHECK(ERR_peek_error() == 0);
	pair_free(&p);

	/* Not trusting our CA: the system store alone. */
	CHECK((sys = tls_upstream_ctx_new(NULL, &err)) != NULL);
	pair_new(&p, "api.github.com", sys, "api.github.com");
	pair_handshake(&p);
	CHECK_INT(p.crc, -EPROTO);
	CHECK_STR(p.cerr.msg, "certificate verify failed: self-signed certificate in certificate chain (upstream api.github.com)");
	CHECK_INT(p.src, -EPROTO);
	CHECK_STR(p.serr.msg, "TLS handshake failed: tlsv1 alert unknown ca (client; does it trust the sandbox CA?)");
	pair_free(&p);

	/* A server that sends no chain. */
	pair_new(&p, "api.github.com", sys, "api.github.com");
	SSL_clear_chain_certs(tls_conn_ssl(p.s));
	pair_handshake(&p);
	CHECK_STR(p.cerr.msg, "certificate verify failed: unable to get local issuer certificate (upstream api.github.com)");
	pair_free(&p);
	SSL_CTX_free(sys);

	/* IP literals: checked as addresses, no SNI. */
	pair_new(&p, "127.0.0.1", up, "127.0.0.1");
	pair_handshake(&p);
	CHECK_INT(p.crc, 1);
	CHECK_INT(p.src, 1);
	CHECK(tls_conn_sni(p.s) == NULL);
	CHECK(tls_conn_sni(p.c) == NULL);
	pair_free(&p);
	pair_new(&p, "127.0.0.1", up, "127.0.0.2");
	pair_handshake(&p);
	CHECK_STR(p.cerr.msg, "certificate verify failed: IP address mismatch (upstream 127.0.0.2)");
	pair_free(&p);
	pair_new(&p, "::1", up, "[::2]");
	pair_handshake(&p);
	CHECK_STR(p.cerr.msg, "certificate verify failed: IP address mismatch (upstream ::2)");
	pair_free(&p);
	pair_new(&p, "::1", up, "[::1]");
	pair_handshake(&p);
	CHECK_INT(p.crc, 1);
	pair_free(&p);

	/* A client conn nobody told what to verify refuses to start. */
	pair_new(&p, "api.github.com", up, NULL);
	CHECK_INT(tls_conn_handshake(p.c, &err), -EINVAL);
	CHECK_CONTAINS(err.msg, "without a host to verify");
	CHECK_INT(tls_conn_pending(p.c), 0);
	pair_free(&p);
	SSL_CTX_free(up);
}

static void
t_alpn_only_http11(void)
{
	struct pair	 p;
	SSL_CTX		*up = upstream_trusting_ca();

	/* h2 only: no ALPN, no failure (tls.h). */
	pair_new(&p, "api.github.com", up, "api.github.com");
	SSL_set_alpn_protos(tls_conn_ssl(p.c), (const unsigned char *)"\x02h2", 3);
	pair_handshake(&p);
	CHECK_INT(p.src, 1);
	CHECK_INT(p.crc, 1);
	CHECK(tls_conn_alpn(p.s) == NULL);
	CHECK(tls_conn_alpn(p.c) == NULL);
	pair_free(&p);

	pair_new(&p, "api.github.com", up, "api.github.com");
	SSL_set_alpn_protos(tls_conn_ssl(p.c),
	    (const unsigned char *)"\x02h2\x08http/1.1", 12);
	pair_handshake(&p);
	CHECK_STR(tls_conn_alpn(p.s), "http/1.1");
	CHECK_STR(tls_conn_alpn(p.c), "http/1.1");
	pair_free(&p);

	/* No ALPN offered at all. */
	pair_new(&p, "api.github.com", up, "api.github.com");
	SSL_set_alpn_protos(tls_conn_ssl(p.c), NULL, 0);
	pair_handshake(&p);
	CHECK_INT(p.src, 1);
	CHECK(tls_conn_alpn(p.s) == NULL);
	pair_free(&p);
	SSL_CTX_free(up);
}

static void
t_peer_close_without_close_notify(void)
{
	struct pair	 p;
	struct os_error	 err;
	SSL_CTX		*up = upstream_trusting_ca();
	unsigned char	 wirebuf[4096];
	char		 buf[256];
	size_t		 n;

	pair_new(&p, "api.github.com", up, "api.github.com");
	pair_handshake(&p);
	CHECK_INT(tls_conn_write(p.s, "HTTP/1.1 200 OK\r\n", 17, &err), 17);
	wire(p.s, p.c);
	tls_conn_feed_eof(p.c);
	CHECK_INT(tls_conn_read(p.c, buf, sizeof buf, &err), 17);
	CHECK_INT(tls_conn_read(p.c, buf, sizeof buf, &err), TLS_EOF);
	CHECK(!tls_conn_closed_cleanly(p.c));
	pair_free(&p);

	/* Cut inside a record: no plaintext, EOF, not clean. */
	pair_new(&p, "api.github.com", up, "api.github.com");
	pair_handshake(&p);
	CHECK_INT(tls_conn_write(p.s, "HTTP/1.1 200 OK\r\n", 17, &err), 17);
	n = tls_conn_take(p.s, wirebuf, sizeof wirebuf);
	tls_conn_feed(p.c, wirebuf, n / 2);
	CHECK_INT(tls_conn_read(p.c, buf, sizeof buf, &err), 0);
	tls_conn_feed_eof(p.c);
	CHECK_INT(tls_conn_read(p.c, buf, sizeof buf, &err), TLS_EOF);
	CHECK(!tls_conn_closed_cleanly(p.c));
	pair_free(&p);

	/* Mid-handshake. */
	pair_new(&p, "api.github.com", up, "api.github.com");
	CHECK_INT(tls_conn_handshake(p.c, &err), 0);
	tls_conn_feed_eof(p.c);
	CHECK_INT(tls_conn_handshake(p.c, &err), -ECONNRESET);
	CHECK_STR(err.msg, "TLS handshake failed: the connection closed before it completed (upstream api.github.com)");
	CHECK_INT(tls_conn_read(p.c, buf, sizeof buf, &err), -EPROTO);
	CHECK_STR(err.msg, "TLS connection already failed (upstream api.github.com)");
	pair_free(&p);
	SSL_CTX_free(up);
}

static void
t_plain_http_to_tls_server(void)
{
	static const char	 req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct os_error		 err;
	struct tls_conn		*s;
	SSL_CTX			*sctx = tls_ca_server_ctx(ca, "api.github.com", &err);

	s = tls_conn_new(sctx, true, &err);
	SSL_CTX_free(sctx);
	tls_conn_feed(s, req, sizeof req - 1);
	CHECK_INT(tls_conn_handshake(s, &err), -EPROTO);
	CHECK_STR(err.msg, "TLS handshake failed: http request (client)");
	/* The error stays in err: nothing is left for the next connection. */
	CHECK(ERR_peek_error() == 0);
	CHECK(tls_conn_sni(s) == NULL);
	tls_conn_free(s);
}

static void
t_upstream_extra_ca_bundles(void)
{
	static const char	 broken[] =
	    "-----BEGIN CERTIFICATE-----\nMIIB!!!!\n-----END CERTIFICATE-----\n";
	struct tls_ca		*other;
	struct os_error		 err;
	struct pair		 p;
	SSL_CTX			*up, *sctx;
	char			*bundle;

	CHECK_INT(tls_ca_new("other", &other, &err), 0);
	/* Two CAs in one file, with text between them, as bundles have. */
	bundle = xprintf("# ours\n%s\n# theirs\n%s", tls_ca_cert_pem(ca),
	    tls_ca_cert_pem(other));
	up = tls_upstream_ctx_new(bundle, &err);
	CHECK(up != NULL);
	free(bundle);
	pair_new(&p, "api.github.com", up, "api.github.com");
	pair_handshake(&p);
	CHECK_INT(p.crc, 1);
	pair_free(&p);
	memset(&p, 0, sizeof p);
	sctx = tls_ca_server_ctx(other, "api.github.com", &err);
	p.s = tls_conn_new(sctx, true, &err);
	SSL_CTX_free(sctx);
	p.c = tls_conn_new(up, false, &err);
	tls_upstream_prepare(tls_conn_ssl(p.c), "api.github.com", 443, &err);
	pair_handshake(&p);
	CHECK_INT(p.crc, 1);
	pair_free(&p);
	SSL_CTX_free(up);

	CHECK(tls_upstream_ctx_new("not a certificate\n", &err) == NULL);
	CHECK_INT(err.code, -EINVAL);
	CHECK_STR(err.msg, "upstream CA bundle: no PEM certificate found");
	CHECK(tls_upstream_ctx_new(broken, &err) == NULL);
	CHECK_CONTAINS(err.msg, "upstream CA bundle: certificate 1: ");
	printf("# broken PEM: %s\n", err.msg);
	bundle = xprintf("%s%s", tls_ca_cert_pem(ca), broken);
	CHECK(tls_upstream_ctx_new(bundle, &err) == NULL);
	CHECK_CONTAINS(err.msg, "upstream CA bundle: certificate 2: ");
	free(bundle);
	CHECK(ERR_peek_error() == 0);
	tls_ca_free(other);
}

/* A server for host that issues session tickets, as most real ones do
 * (the CA's serving contexts do not). */
static SSL_CTX *
ticket_server(const char *host)
{
	struct os_error	 err;
	SSL_CTX		*leaf, *ctx;
	STACK_OF(X509)	*chain = NULL;

	if ((leaf = tls_ca_server_ctx(ca, host, &err)) == NULL)
		return NULL;
	ctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_get0_chain_certs(leaf, &chain);
	if (ctx == NULL ||
	    SSL_CTX_use_certificate(ctx, SSL_CTX_get0_certificate(leaf)) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, SSL_CTX_get0_privatekey(leaf)) != 1 ||
	    SSL_CTX_set1_chain(ctx, chain) != 1) {
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
	SSL_CTX_free(leaf);
	return ctx;
}

/* A full exchange on a fresh pair: handshake, then the server's tickets
 * read by the client. 1 when both handshakes finished. */
static int
resume_round(struct pair *p, SSL_CTX *srv, SSL_CTX *up, const char *host,
    uint16_t port)
{
	struct os_error	err;
	char		buf[64];

	memset(p, 0, sizeof *p);
	p->s = tls_conn_new(srv, true, &err);
	p->c = tls_conn_new(up, false, &err);
	if (tls_upstream_prepare(tls_conn_ssl(p->c), host, port, &err) != 0)
		printf("# prepare %s: %s\n", host, err.msg);
	pair_handshake(p);
	wire(p->s, p->c);
	(void)tls_conn_read(p->c, buf, sizeof buf, &err);
	return p->src == 1 && p->crc == 1;
}

static void
t_upstream_resumes_sessions(void)
{
	struct tls_resume_stats	 st;
	struct pair		 p;
	SSL_CTX			*up = upstream_trusting_ca();
	SSL_CTX			*gh = ticket_server("api.github.com");
	SSL_CTX			*other = ticket_server("b.example");
	SSL_CTX			*brief = ticket_server("api.github.com");
	SSL_CTX			*plain = tls_ca_server_ctx(ca, "api.github.com", NULL);

	CHECK(up != NULL && gh != NULL && other != NULL && brief != NULL &&
	    plain != NULL);
	if (up == NULL || gh == NULL || other == NULL || brief == NULL ||
	    plain == NULL)
		goto out;
	/* First contact: a full handshake; the tickets are kept. */
	CHECK(resume_round(&p, gh, up, "api.github.com", 443));
	CHECK(!SSL_session_reused(tls_conn_ssl(p.c)));
	pair_free(&p);
	tls_upstream_stats(up, &st);
	CHECK(st.stored >= 1);
	CHECK_INT(st.cached, 1);
	CHECK_INT(st.offered, 0);

	/* The next connection to the same host:port resumes: no chain is
	 * sent, and the verified result carries over. */
	CHECK(resume_round(&p, gh, up, "API.GitHub.com.", 443));
	CHECK(SSL_session_reused(tls_conn_ssl(p.c)));
	CHECK_INT(SSL_get_verify_result(tls_conn_ssl(p.c)), X509_V_OK);
	pair_free(&p);
	tls_upstream_stats(up, &st);
	CHECK_INT(st.offered, 1);
	CHECK_INT(st.resumed, 1);

	/* Another port or another name is another upstream: nothing is
	 * offered, the chain is verified. */
	CHECK(resume_round(&p, gh, up, "api.github.com", 8443));
	CHECK(!SSL_session_reused(tls_conn_ssl(p.c)));
	pair_free(&p);
	CHECK(resume_round(&p, other, up, "b.example", 443));
	CHECK(!SSL_session_reused(tls_conn_ssl(p.c)));
	pair_free(&p);
	tls_upstream_stats(up, &st);
	CHECK_INT(st.offered, 1);
	CHECK_INT(st.cached, 3);

	/* A server that does not know the ticket answers with a full
	 * handshake, which is verified as usual. */
	CHECK(resume_round(&p, plain, up, "api.github.com", 443));
	CHECK(!SSL_session_reused(tls_conn_ssl(p.c)));
	CHECK_INT(SSL_get_verify_result(tls_conn_ssl(p.c)), X509_V_OK);
	pair_free(&p);
	tls_upstream_stats(up, &st);
	CHECK_INT(st.offered, 2);
	CHECK_INT(st.resumed, 1);

	/* A failed handshake forgets the upstream's session: here the
	 * server for b.example answers for api.github.com:443. */
	CHECK(!resume_round(&p, other, up, "api.github.com", 443));
	CHECK_INT(SSL_get_verify_result(tls_conn_ssl(p.c)),
	    X509_V_ERR_HOSTNAME_MISMATCH);
	pair_free(&p);
	CHECK(resume_round(&p, gh, up, "api.github.com", 443));
	CHECK(!SSL_session_reused(tls_conn_ssl(p.c)));
	tls_upstream_stats(up, &st);
	CHECK_INT(st.offered, 3);	/* the failed round offered; this one not */

	pair_free(&p);

	/* A session is not offered once the server's lifetime for it is
	 * over (TLS_RESUME_MAX_AGE caps longer ones the same way). */
	SSL_CTX_set_timeout(brief, 1);
	CHECK(resume_round(&p, brief, up, "api.github.com", 9443));
	pair_free(&p);
	tls_upstream_stats(up, &st);
	CHECK_INT(st.cached, 4);
	sleep(2);
	CHECK(resume_round(&p, brief, up, "api.github.com", 9443));
	CHECK(!SSL_session_reused(tls_conn_ssl(p.c)));
	pair_free(&p);
	tls_upstream_stats(up, &st);
	CHECK_INT(st.offered, 3);
	CHECK_INT(st.resumed, 1);
	CHECK(ERR_peek_error() == 0);
out:
	SSL_CTX_free(plain);
	SSL_CTX_free(brief);
	SSL_CTX_free(other);
	SSL_CTX_free(gh);
	SSL_CTX_free(up);
}

/* TLS 1.2 sessions stay resumable however their connections end, and a
 * resumed connection cannot renew a session the cache has forgotten. */
static void
t_upstream_resume_lifetimes(void)
{
	struct tls_resume_stats	 st;
	struct pair		 p, q;
	SSL_CTX			*up = upstream_trusting_ca();
	SSL_CTX			*t12 = ticket_server("api.github.com");
	SSL_CTX			*gh = ticket_server("api.github.com");
	SSL_CTX			*other = ticket_server("b.example");
	char			 buf[64];
	int			 i;

	CHECK(up != NULL && t12 != NULL && gh != NULL && other != NULL);
	if (up == NULL || t12 == NULL || gh == NULL || other == NULL)
		goto out;
	/* A TLS 1.2 server keeps its ticket on resumption: the cache's
	 * session serves round after round (each connection is freed
	 * without a close_notify, which OpenSSL holds against a session). */
	SSL_CTX_set_max_proto_version(t12, TLS1_2_VERSION);
	for (i = 0; i < 4; i++) {
		CHECK(resume_round(&p, t12, up, "api.github.com", 1443));
		CHECK_INT(SSL_version(tls_conn_ssl(p.c)), TLS1_2_VERSION);
		CHECK_INT(SSL_session_reused(tls_conn_ssl(p.c)), i > 0);
		pair_free(&p);
	}

	/* A resumed connection whose host lost its session meanwhile (here
	 * a failed handshake in between) does not bring it back: the time
	 * its chain was verified went with it. */
	CHECK(resume_round(&p, gh, up, "api.github.com", 443));
	pair_free(&p);
	memset(&p, 0, sizeof p);
	p.s = tls_conn_new(gh, true, &p.serr);
	p.c = tls_conn_new(up, false, &p.cerr);
	CHECK_INT(tls_upstream_prepare(tls_conn_ssl(p.c), "api.github.com", 443,
	    &p.cerr), 0);			/* offered */
	CHECK(!resume_round(&q, other, up, "api.github.com", 443));
	pair_free(&q);				/* ... and forgotten */
	pair_handshake(&p);
	CHECK(SSL_session_reused(tls_conn_ssl(p.c)));
	wire(p.s, p.c);
	(void)tls_conn_read(p.c, buf, sizeof buf, &p.cerr);	/* its tickets */
	pair_free(&p);
	tls_upstream_stats(up, &st);
	CHECK_INT(st.cached, 1);		/* only 1443 */
	CHECK(resume_round(&p, gh, up, "api.github.com", 443));
	CHECK(!SSL_session_reused(tls_conn_ssl(p.c)));
	pair_free(&p);
	CHECK(ERR_peek_error() == 0);
out:
	SSL_CTX_free(other);
	SSL_CTX_free(gh);
	SSL_CTX_free(t12);
	SSL_CTX_free(up);
}

/* Agents that keep sessions resume with the relay's tickets, per host. */
static void
t_agents_resume_per_host(void)
{
	struct pair	 p;
	SSL_CTX		*up = upstream_trusting_ca();
	SSL_CTX		*a = tls_ca_server_ctx(ca, "agent-a.example", NULL);
	SSL_CTX		*b = tls_ca_server_ctx(ca, "agent-b.example", NULL);
	SSL_SESSION	*sa = NULL;

	CHECK(up != NULL && a != NULL && b != NULL);
	if (up == NULL || a == NULL || b == NULL)
		goto out;
	CHECK_INT(SSL_CTX_get_max_early_data(a), 0);
	CHECK(resume_round(&p, a, up, "agent-a.example", 443));
	CHECK(!SSL_session_reused(tls_conn_ssl(p.s)));
	sa = SSL_get1_session(tls_conn_ssl(p.c));	/* the newest ticket */
	pair_free(&p);
	CHECK(resume_round(&p, a, up, "agent-a.example", 443));
	CHECK(SSL_session_reused(tls_conn_ssl(p.s)));
	CHECK(SSL_session_reused(tls_conn_ssl(p.c)));
	pair_free(&p);

	/* A's ticket presented for B: B's context cannot open it, so B
	 * makes a full handshake and shows its own certificate. */
	memset(&p, 0, sizeof p);
	p.s = tls_conn_new(b, true, &p.serr);
	p.c = tls_conn_new(up, false, &p.cerr);
	CHECK_INT(tls_upstream_prepare(tls_conn_ssl(p.c), "agent-b.example", 443,
	    &p.cerr), 0);
	CHECK_INT(SSL_set_session(tls_conn_ssl(p.c), sa), 1);
	pair_handshake(&p);
	CHECK_INT(p.src, 1);
	CHECK_INT(p.crc, 1);
	CHECK(!SSL_session_reused(tls_conn_ssl(p.s)));
	CHECK_INT(SSL_get_verify_result(tls_conn_ssl(p.c)), X509_V_OK);
	pair_free(&p);
	CHECK(ERR_peek_error() == 0);
out:
	SSL_SESSION_free(sa);
	SSL_CTX_free(b);
	SSL_CTX_free(a);
	SSL_CTX_free(up);
}

static void
t_sniff(void)
{
	static const unsigned char	get[] = "GET / HTTP/1.1\r\n";
	size_t				i;

	CHECK(client_hello_len > 100);
	CHECK_INT(tls_sniff(client_hello, client_hello_len), 1);
	for (i = 0; i < TLS_SNIFF_MIN; i++)
		CHECK_INT(tls_sniff(client_hello, i), -1);
	CHECK_INT(tls_sniff(client_hello, TLS_SNIFF_MIN), 1);
	CHECK_INT(tls_sniff(get, sizeof get - 1), 0);
	CHECK_INT(tls_sniff(get, 1), 0);
	CHECK_INT(tls_sniff((const unsigned char *)"PRI * HTTP/2.0", 14), 0);
	CHECK_INT(tls_sniff((const unsigned char *)"\x16\x03\x05", 3), 0);
	CHECK_INT(tls_sniff((const unsigned char *)"\x16\x02", 2), 0);
	CHECK_INT(tls_sniff((const unsigned char *)"\x16\x03\x01\x00\x00\x01", 6), 0);
	CHECK_INT(tls_sniff((const unsigned char *)"\x16\x03\x01\x41", 4), 0);
	CHECK_INT(tls_sniff((const unsigned char *)"\x16\x03\x01\x40\x01", 5), 0);
	CHECK_INT(tls_sniff((const unsigned char *)"\x16\x03\x01\x40\x00\x01", 6), 1);
	/* A ServerHello, an SSLv2-style hello, an alert. */
	CHECK_INT(tls_sniff((const unsigned char *)"\x16\x03\x03\x00\x5a\x02", 6), 0);
	CHECK_INT(tls_sniff((const unsigned char *)"\x80\x2e\x01\x03\x01", 5), 0);
	CHECK_INT(tls_sniff((const unsigned char *)"\x15\x03\x03\x00\x02", 5), 0);
}

static double
now_us(void)
{
	struct timespec	ts;

	/* CPU time: the numbers mean something on a busy machine too. */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Numbers for the benchmark notes; no timing is asserted. */
static void
t_costs(void)
{
	struct tls_ca		*c;
	struct tls_ca_stats	 st;
	struct os_error		 err;
	struct pair		 p;
	SSL_CTX			*up = upstream_trusting_ca(), *x;
	char			 host[64];
	double			 t0, mint, hit, hs, rhs;
	int			 i, nmint = 100, nhit = 20000, nhs = 20;

	t0 = now_us();
	CHECK_INT(tls_ca_new("bench", &c, &err), 0);
	printf("# CPU: CA creation %.0f us\n", now_us() - t0);
	t0 = now_us();
	for (i = 0; i < nmint; i++) {
		snprintf(host, sizeof host, "h%d.bench.example", i);
		SSL_CTX_free(tls_ca_server_ctx(c, host, &err));
	}
	mint = (now_us() - t0) / nmint;
	t0 = now_us();
	for (i = 0; i < nhit; i++) {
		x = tls_ca_server_ctx(c, "h7.bench.example", &err);
		SSL_CTX_free(x);
	}
	hit = (now_us() - t0) / nhit;
	tls_ca_stats(c, &st);
	CHECK_INT(st.minted, nmint);
	CHECK_INT(st.hits, nhit);
	tls_ca_free(c);
	t0 = now_us();
	for (i = 0; i < nhs; i++) {
		pair_new(&p, "api.github.com", up, "api.github.com");
		pair_handshake(&p);
		CHECK_INT(p.crc, 1);
		pair_free(&p);
	}
	hs = (now_us() - t0) / nhs;
	/* The same with the client resuming (after a round that stores
	 * the server's ticket). */
	x = tls_ca_server_ctx(ca, "api.github.com", &err);
	CHECK(resume_round(&p, x, up, "api.github.com", 443));
	pair_free(&p);
	t0 = now_us();
	for (i = 0; i < nhs; i++) {
		CHECK(resume_round(&p, x, up, "api.github.com", 443));
		CHECK(SSL_session_reused(tls_conn_ssl(p.c)));
		pair_free(&p);
	}
	rhs = (now_us() - t0) / nhs;
	SSL_CTX_free(x);
	printf("# CPU: leaf mint (cache miss) %.1f us; warm lookup %.3f us; "
	    "in-memory handshake, both sides, warm cache %.0f us, resumed %.0f us\n",
	    mint, hit, hs, rhs);
	SSL_CTX_free(up);
}

int
main(void)
{
	struct os_error	err;

	if (tls_ca_new("demo", &ca, &err) != 0) {
		printf("Bail out! %s\n", err.msg);
		return 1;
	}
	TAP_RUN(t_ca_certificate);
	TAP_RUN(t_x509_issue_pem_still_works);
	TAP_RUN(t_leaf_verifies_for_its_host_only);
	TAP_RUN(t_leaf_ip_literals);
	TAP_RUN(t_cache_hits_and_host_spellings);
	TAP_RUN(t_cache_bound_evicts_lru);
	TAP_RUN(t_handshake_and_data);
	TAP_RUN(t_tls12_and_no_renegotiation);
	TAP_RUN(t_verify_failures_are_readable);
	TAP_RUN(t_alpn_only_http11);
	TAP_RUN(t_peer_close_without_close_notify);
	TAP_RUN(t_plain_http_to_tls_server);
	TAP_RUN(t_upstream_extra_ca_bundles);
	TAP_RUN(t_upstream_resumes_sessions);
	TAP_RUN(t_upstream_resume_lifetimes);
	TAP_RUN(t_agents_resume_per_host);
	TAP_RUN(t_sniff);
	TAP_RUN(t_costs);
	tls_ca_free(ca);
	return tap_done();
}
