# sandbox/tls.mk: TLS for the L7 relay: the per-sandbox CA and its leaf
# certificates, upstream verification, and memory-BIO connections.
noinst_LIBRARIES += sandbox/libtls.a
sandbox_libtls_a_SOURCES = sandbox/tls.h sandbox/tls-ca.c sandbox/tls-conn.c \
	sandbox/tls-host.c sandbox/tls-int.h sandbox/tls-resume.c sandbox/tls-sniff.c \
	sandbox/tls-upstream.c
sandbox_libtls_a_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
LIBTLS = sandbox/libtls.a $(OPENSSL_LIBS)
