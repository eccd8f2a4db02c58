/*
 * The per-sandbox CA and its leaf cache: one serving SSL_CTX per host,
 * minted on first use, kept in a hash table with an LRU list so a bound
 * holds however many hosts an agent visits.
 */
#include "config.h"

#include <sys/queue.h>

#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tls.h"

#define TLS_CA_DAYS	365
/* Clamped to the CA's notAfter; below the 398 days clients accept. */
#define TLS_LEAF_DAYS	397
#define TLS_CN_MAX	64	/* ub_common_name */

struct tls_leaf {
	char			*host;		/* tls_host_normalize'd */
	uint64_t		 hash;
	SSL_CTX			*ctx;		/* the cache's reference */
	struct tls_leaf		*next;		/* hash chain */
	TAILQ_ENTRY(tls_leaf)	 lru;		/* most recently used first */
};
TAILQ_HEAD(tls_lru, tls_leaf);

struct tls_ca {
	EVP_PKEY		*key;
	X509			*cert;
	char			*cert_pem;
	EVP_PKEY		*leaf_key;	/* shared by every leaf */
	X509			*leaf_tmpl;	/* leaf_key's leaf, no names */
	struct tls_leaf		**table;
	size_t			 nbuckets;	/* a power of two */
	struct tls_lru		 lru;
	struct tls_ca_stats	 stats;
};

static int
tls_ca_fail(struct os_error *err, const char *what)
{
	char	buf[256];

	ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
	ERR_clear_error();
	return os_error_set(err, -EIO, "%s: %s", what, buf);
}

/* FNV-1a: hosts are short and the table is ours, so nothing stronger. */
static uint64_t
tls_ca_hash(const char *s)
{
	uint64_t	h = 14695981039346656037ULL;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct tls_leaf **
tls_ca_slot(struct tls_ca *ca, const char *host, uint64_t hash)
{
	struct tls_leaf	**pp;

	pp = &ca->table[hash & (ca->nbuckets - 1)];
	while (*pp != NULL && ((*pp)->hash != hash || strcmp((*pp)->host, host) != 0))
		pp = &(*pp)->next;
	return pp;
}

static void
tls_ca_drop(struct tls_ca *ca, struct tls_leaf *e)
{
	struct tls_leaf	**pp;

	pp = tls_ca_slot(ca, e->host, e->hash);
	*pp = e->next;
	TAILQ_REMOVE(&ca->lru, e, lru);
	ca->stats.cached--;
	SSL_CTX_free(e->ctx);
	free(e->host);
	free(e);
}

static void
tls_ca_evict(struct tls_ca *ca, size_t keep)
{
	while (ca->stats.cached > keep) {
		tls_ca_drop(ca, TAILQ_LAST(&ca->lru, tls_lru));
		ca->stats.evicted++;
	}
}

/* A table of at least `want` buckets (load factor <= 1 at the bound). */
static void
tls_ca_rehash(struct tls_ca *ca, size_t want)
{
	struct tls_leaf	*e;
	size_t		 n = 16;

	while (n < want)
		n *= 2;
	free(ca->table);
	ca->table = xcalloc(n, sizeof *ca->table);
	ca->nbuckets = n;
	TAILQ_FOREACH(e, &ca->lru, lru) {
		e->next = ca->table[e->hash & (n - 1)];
		ca->table[e->hash & (n - 1)] = e;
	}
}

/*
 * Only http/1.1 is ever selected: the relay speaks HTTP/1.1. A client
 * that offers ALPN without it gets no ALPN (NOACK) rather than a fatal
 * alert; see tls.h.
 */
static int
tls_ca_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char	http11[] = "http/1.1";
	unsigned int			i = 0, n;

	(void)ssl;
	(void)arg;
	while (i < inlen) {
		n = in[i++];
		if (n > inlen - i)
			break;
		if (n == sizeof http11 - 1 && memcmp(in + i, http11, n) == 0) {
			*out = http11;
			*outlen = (unsigned char)n;
			return SSL_TLSEXT_ERR_OK;
		}
		i += n;
	}
	return SSL_TLSEXT_ERR_NOACK;
}

static SSL_CTX *
tls_ca_serving_ctx(struct tls_ca *ca, X509 *leaf, struct os_error *err)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_ca_fail(err, "SSL_CTX_new");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	/*
	 * Agents that keep sessions (Node, rustls, curl and git within one
	 * process) resume with stateless tickets, sealed with this
	 * context's own random key: a ticket for one host is worth nothing
	 * on another's context. No server-side cache, and no 0-RTT data,
	 * which could be replayed past the relay's decision.
	 */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_max_early_data(ctx, 0);
	SSL_CTX_set_timeout(ctx, TLS_RESUME_MAX_AGE);
	SSL_CTX_set_alpn_select_cb(ctx, tls_ca_alpn, NULL);
	if (SSL_CTX_use_certificate(ctx, leaf) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, ca->leaf_key) != 1 ||
	    SSL_CTX_add1_chain_cert(ctx, ca->cert) != 1) {
		tls_ca_fail(err, "serving context");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static SSL_CTX *
tls_ca_mint(struct tls_ca *ca, const char *host, bool is_ip,
    struct os_error *err)
{
	struct os_cert_request	 r;
	const char		*names[1] = { host };
	X509			*leaf;
	SSL_CTX			*ctx;

	memset(&r, 0, sizeof r);
	r.cn = strlen(host) <= TLS_CN_MAX ? host : NULL;
	if (is_ip) {
		r.ips = names;
		r.nips = 1;
	} else {
		r.dns = names;
		r.ndns = 1;
	}
	r.server = true;
	r.days = TLS_LEAF_DAYS;
	if ((leaf = os_x509_reissue(ca->leaf_tmpl, &r, ca->cert, ca->key,
	    err)) == NULL) {
		os_error_prefix(err, "leaf certificate for %s", host);
		return NULL;
	}
	ctx = tls_ca_serving_ctx(ca, leaf, err);
	X509_free(leaf);
	if (ctx != NULL)
		ca->stats.minted++;
	return ctx;
}

/* What every leaf shares (key, serverAuth, key identifiers), so minting
 * only sets names and signs: see os_x509_reissue. */
static X509 *
tls_ca_leaf_template(struct tls_ca *ca, struct os_error *err)
{
	struct os_cert_request	r;

	memset(&r, 0, sizeof r);
	r.server = true;
	r.days = TLS_LEAF_DAYS;
	return os_x509_issue_key(&r, ca->leaf_key, ca->cert, ca->key, err);
}

int
tls_ca_new(const char *sandbox_name, struct tls_ca **out,
    struct os_error *err)
{
	static const size_t	 fixed = sizeof "OpenShell sandbox  CA" - 1;
	struct os_cert_request	 r;
	struct tls_ca		*ca;
	BIO			*b;
	char			*cn, *p;
	long			 n;

	*out = NULL;
	ERR_clear_error();
	ca = xcalloc(1, sizeof *ca);
	TAILQ_INIT(&ca->lru);
	if (sandbox_name != NULL && *sandbox_name != '\0')
		cn = xprintf("OpenShell sandbox %.*s CA",
		    (int)(TLS_CN_MAX - fixed), sandbox_name);
	else
		cn = xstrdup("OpenShell sandbox CA");
	memset(&r, 0, sizeof r);
	r.cn = cn;
	r.ca = true;
	r.leaves_only = true;
	r.days = TLS_CA_DAYS;
	if ((ca->key = os_x509_key_new(err)) == NULL ||
	    (ca->cert = os_x509_issue_key(&r, ca->key, NULL, NULL, err)) == NULL ||
	    (ca->leaf_key = os_x509_key_new(err)) == NULL ||
	    (ca->leaf_tmpl = tls_ca_leaf_template(ca, err)) == NULL) {
		free(cn);
		tls_ca_free(ca);
		os_error_prefix(err, "sandbox CA");
		return err->code;
	}
	free(cn);
	b = BIO_new(BIO_s_mem());
	if (b == NULL || PEM_write_bio_X509(b, ca->cert) != 1) {
		BIO_free(b);
		tls_ca_free(ca);
		return tls_ca_fail(err, "sandbox CA: PEM");
	}
	n = BIO_get_mem_data(b, &p);
	ca->cert_pem = xstrndup(p, (size_t)n);
	BIO_free(b);
	ca->stats.cache_max = TLS_CA_CACHE_MAX;
	tls_ca_rehash(ca, TLS_CA_CACHE_MAX);
	*out = ca;
	return 0;
}

void
tls_ca_free(struct tls_ca *ca)
{
	if (ca == NULL)
		return;
	if (ca->table != NULL)
		tls_ca_evict(ca, 0);
	free(ca->table);
	free(ca->cert_pem);
	X509_free(ca->leaf_tmpl);
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	EVP_PKEY_free(ca->leaf_key);
	free(ca);
}

const char *
tls_ca_cert_pem(const struct tls_ca *ca)
{
	return ca->cert_pem;
}

void
tls_ca_set_cache_max(struct tls_ca *ca, size_t max)
{
	tls_ca_evict(ca, max);
	ca->stats.cache_max = max;
	tls_ca_rehash(ca, max);
}

SSL_CTX *
tls_ca_server_ctx(struct tls_ca *ca, const char *host, struct os_error *err)
{
	struct tls_leaf	**pp, *e;
	char		  key[TLS_HOST_MAX];
	uint64_t	  hash;
	SSL_CTX		 *ctx;
	bool		  is_ip;

	ERR_clear_error();
	if (tls_host_normalize(host, key, &is_ip, err) != 0)
		return NULL;
	hash = tls_ca_hash(key);
	pp = tls_ca_slot(ca, key, hash);
	if ((e = *pp) != NULL) {
		ca->stats.hits++;
		if (e != TAILQ_FIRST(&ca->lru)) {
			TAILQ_REMOVE(&ca->lru, e, lru);
			TAILQ_INSERT_HEAD(&ca->lru, e, lru);
		}
		SSL_CTX_up_ref(e->ctx);
		return e->ctx;
	}
	if ((ctx = tls_ca_mint(ca, key, is_ip, err)) == NULL)
		return NULL;
	if (ca->stats.cache_max == 0)
		return ctx;
	tls_ca_evict(ca, ca->stats.cache_max - 1);
	e = xcalloc(1, sizeof *e);
	e->host = xstrdup(key);
	e->hash = hash;
	e->ctx = ctx;
	/* Eviction may have unlinked the slot we found; look again. */
	pp = tls_ca_slot(ca, key, hash);
	*pp = e;
	TAILQ_INSERT_HEAD(&ca->lru, e, lru);
	ca->stats.cached++;
	SSL_CTX_up_ref(ctx);
	return ctx;
}

void
tls_ca_stats(const struct tls_ca *ca, struct tls_ca_stats *st)
{
	*st = ca->stats;
}
