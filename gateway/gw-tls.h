/* The gateway's mTLS material (gw-tls.c). */
#ifndef GW_TLS_H
#define GW_TLS_H

#include "gateway.h"

/*
 * Makes sure <state>/tls holds a CA, a server certificate for the listen
 * addresses and an operator client certificate, generating what is
 * missing. Sets gw->tls_dir.
 */
int	 gw_tls_ensure(struct gw *, struct os_error *);
/* Reads <tls_dir>/<name>; caller frees. */
char	*gw_tls_read(struct gw *, const char *name, struct os_error *);

#endif /* GW_TLS_H */
