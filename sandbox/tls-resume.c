/*
 * Upstream session resumption: the newest session each upstream host:port
 * gave the relay, offered to the next connection to that host:port.
 *
 * The agents behind the relay are short-lived processes (one curl, one
 * pip) that can never resume, while the relay is a long-lived client of
 * the same few hosts. A resumed handshake skips parsing the upstream's
 * chain, building and verifying it, and checking its signature: in
 * OpenSSL 3.0 that is about a quarter of the relay's CPU for each new
 * connection, and for a TLS 1.2 upstream a round trip.
 *
 * The cache lives in the upstream SSL_CTX's ex_data, so it lasts exactly
 * as long as any connection that could call back into it. Each client
 * SSL carries its key ("host:port", host as tls_host_normalize spells
 * it), so a session is only ever offered for the name it was verified
 * against.
 */
#include "config.h"

#include <sys/queue.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "tls-int.h"

struct tls_resume_entry {
	char				*key;
	SSL_SESSION			*sess;
	/* When the chain behind sess was last verified: a full handshake.
	 * Tickets a server sends on a resumed connection carry a fresh time
	 * but the old chain, so they do not move this. */
	time_t				 verified_at;
	TAILQ_ENTRY(tls_resume_entry)	 lru;	/* most recently stored first */
};
TAILQ_HEAD(tls_resume_lru, tls_resume_entry);

struct tls_resume {
	struct tls_resume_lru	 lru;
	struct tls_resume_stats	 stats;
};

static pthread_once_t	tls_resume_once = PTHREAD_ONCE_INIT;
static int		tls_resume_ctx_idx = -1;	/* SSL_CTX: struct tls_resume */
static int		tls_resume_ssl_idx = -1;	/* SSL: its key, a string */

static void
tls_resume_drop(struct tls_resume *r, struct tls_resume_entry *e)
{
	TAILQ_REMOVE(&r->lru, e, lru);
	r->stats.cached--;
	SSL_SESSION_free(e->sess);
	free(e->key);
	free(e);
}

static void
tls_resume_free_ctx_data(void *parent, void *ptr, CRYPTO_EX_DATA *ad,
    int idx, long argl, void *argp)
{
	struct tls_resume	*r = ptr;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (r == NULL)
		return;
	while (!TAILQ_EMPTY(&r->lru))
		tls_resume_drop(r, TAILQ_FIRST(&r->lru));
	free(r);
}

static void
tls_resume_free_ssl_data(void *parent, void *ptr, CRYPTO_EX_DATA *ad,
    int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

static void
tls_resume_indexes(void)
{
	tls_resume_ctx_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
	    tls_resume_free_ctx_data);
	tls_resume_ssl_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL,
	    tls_resume_free_ssl_data);
}

static struct tls_resume *
tls_resume_of(SSL_CTX *ctx)
{
	if (tls_resume_ctx_idx < 0)
		return NULL;
	return SSL_CTX_get_ex_data(ctx, tls_resume_ctx_idx);
}

static struct tls_resume_entry *
tls_resume_find(struct tls_resume *r, const char *key)
{
	struct tls_resume_entry	*e;

	/* A sandbox talks to tens of hosts, not thousands: a list will do. */
	TAILQ_FOREACH(e, &r->lru, lru) {
		if (strcmp(e->key, key) == 0)
			return e;
	}
	return NULL;
}

/*
 * OpenSSL's new-session callback: TLS 1.3 tickets arrive after the
 * handshake (servers usually send two), TLS 1.2 sessions at its end.
 * The newest replaces the host's older one.
 *
 * What is kept is a copy, and what is offered is another (see
 * tls_resume_offer). OpenSSL marks a connection's session not resumable
 * when the connection is freed without a close_notify sent, a TLS 1.0
 * rule (RFC 5246 7.2.1 dropped it) that would spoil most of the relay's
 * sessions: tunnels usually end with a bare close.
 */
static int
tls_resume_new_session(SSL *ssl, SSL_SESSION *ticket)
{
	struct tls_resume	*r = tls_resume_of(SSL_get_SSL_CTX(ssl));
	struct tls_resume_entry	*e;
	SSL_SESSION		*sess;
	X509			*peer;
	const char		*key = SSL_get_ex_data(ssl, tls_resume_ssl_idx);
	time_t			 verified_at = time(NULL);

	if (r == NULL || key == NULL || !SSL_SESSION_is_resumable(ticket))
		return 0;
	e = tls_resume_find(r, key);
	if (SSL_session_reused(ssl)) {
		/* No chain was verified now. The entry says when its
		 * certificate was; if the entry is gone (forgotten, evicted)
		 * or holds another certificate (a full handshake replaced it
		 * meanwhile), when this one was is unknown: not kept. */
		peer = SSL_SESSION_get0_peer(ticket);
		if (e == NULL || peer == NULL ||
		    SSL_SESSION_get0_peer(e->sess) == NULL ||
		    X509_cmp(peer, SSL_SESSION_get0_peer(e->sess)) != 0)
			return 0;
		verified_at = e->verified_at;
	}
	if ((sess = SSL_SESSION_dup(ticket)) == NULL)
		return 0;
	if (e != NULL) {
		SSL_SESSION_free(e->sess);
		TAILQ_REMOVE(&r->lru, e, lru);
	} else {
		if (r->stats.cached == TLS_RESUME_MAX)
			tls_resume_drop(r, TAILQ_LAST(&r->lru, tls_resume_lru));
		e = xcalloc(1, sizeof *e);
		e->key = xstrdup(key);
		r->stats.cached++;
	}
	e->sess = sess;
	e->verified_at = verified_at;
	TAILQ_INSERT_HEAD(&r->lru, e, lru);
	r->stats.stored++;
	return 0;
}

int
tls_resume_attach(SSL_CTX *ctx)
{
	struct tls_resume	*r;

	/* OpenSSL's index allocation fails only for lack of memory. */
	if (pthread_once(&tls_resume_once, tls_resume_indexes) != 0 ||
	    tls_resume_ctx_idx < 0 || tls_resume_ssl_idx < 0)
		return -ENOMEM;
	r = xcalloc(1, sizeof *r);
	TAILQ_INIT(&r->lru);
	if (SSL_CTX_set_ex_data(ctx, tls_resume_ctx_idx, r) != 1) {
		free(r);
		return -ENOMEM;
	}
	/* Sessions are stored by us, by host:port; OpenSSL's own client
	 * cache would key them by nothing useful. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, tls_resume_new_session);
	return 0;
}

int
tls_resume_offer(SSL *ssl, const char *host, uint16_t port)
{
	struct tls_resume	*r = tls_resume_of(SSL_get_SSL_CTX(ssl));
	struct tls_resume_entry	*e;
	SSL_SESSION		*copy;
	char			*key, *old;
	unsigned long		 life;
	time_t			 now = time(NULL), age;
	int			 ok;

	if (r == NULL)
		return 0;
	key = xprintf("%s:%u", host, (unsigned)port);
	old = SSL_get_ex_data(ssl, tls_resume_ssl_idx);    /* prepared twice */
	if (SSL_set_ex_data(ssl, tls_resume_ssl_idx, key) != 1) {
		free(key);
		return -ENOMEM;
	}
	free(old);
	if ((e = tls_resume_find(r, key)) == NULL)
		return 0;
	/* Servers say how long a ticket lives (its lifetime hint, 0 for
	 * "unspecified"); however long that is, the upstream's chain is
	 * verified afresh at least every TLS_RESUME_MAX_AGE seconds. */
	life = SSL_SESSION_get_ticket_lifetime_hint(e->sess);
	if (life == 0 || life > TLS_RESUME_MAX_AGE)
		life = TLS_RESUME_MAX_AGE;
	if ((unsigned long)SSL_SESSION_get_timeout(e->sess) < life)
		life = (unsigned long)SSL_SESSION_get_timeout(e->sess);
	age = now - (time_t)SSL_SESSION_get_time(e->sess);
	if (age < 0 || (unsigned long)age >= life ||
	    now - e->verified_at < 0 ||
	    now - e->verified_at >= TLS_RESUME_MAX_AGE ||
	    !SSL_SESSION_is_resumable(e->sess)) {
		tls_resume_drop(r, e);
		return 0;
	}
	/* A copy: the connection may spoil its own (tls_resume_new_session). */
	if ((copy = SSL_SESSION_dup(e->sess)) == NULL)
		return -ENOMEM;
	ok = SSL_set_session(ssl, copy);
	SSL_SESSION_free(copy);
	if (ok != 1)
		return -ENOMEM;
	r->stats.offered++;
	return 0;
}

/* After any failed handshake the host's session is not offered again:
 * the next connection verifies the chain afresh. */
void
tls_resume_done(SSL *ssl, bool ok)
{
	struct tls_resume	*r = tls_resume_of(SSL_get_SSL_CTX(ssl));
	struct tls_resume_entry	*e;
	const char		*key;

	if (r == NULL || (key = SSL_get_ex_data(ssl, tls_resume_ssl_idx)) == NULL)
		return;
	if (ok) {
		if (SSL_session_reused(ssl))
			r->stats.resumed++;
		return;
	}
	if ((e = tls_resume_find(r, key)) != NULL)
		tls_resume_drop(r, e);
}

void
tls_upstream_stats(SSL_CTX *ctx, struct tls_resume_stats *st)
{
	struct tls_resume	*r = tls_resume_of(ctx);

	if (r != NULL)
		*st = r->stats;
	else
		memset(st, 0, sizeof *st);
}
