/*
 * What the files of sandbox/libtls.a share and nobody else calls: the
 * upstream session cache (tls-resume.c) that tls-upstream.c attaches
 * and tls-conn.c reports handshakes to.
 */
#ifndef SANDBOX_TLS_INT_H
#define SANDBOX_TLS_INT_H

#include "tls.h"

/* Gives ctx (a client context) its session cache, freed with ctx. 0 or
 * -ENOMEM. */
int	 tls_resume_attach(SSL_CTX *);
/* Names a client SSL's upstream (host as tls_host_normalize spells it)
 * and offers the session last stored for it, if still fresh. 0 or
 * -ENOMEM (from OpenSSL). A no-op on a context without a cache. */
int	 tls_resume_offer(SSL *, const char *host, uint16_t port);
/* A client handshake finished (ok) or failed: counts a resumption, or
 * forgets the upstream's session. */
void	 tls_resume_done(SSL *, bool ok);

#endif
