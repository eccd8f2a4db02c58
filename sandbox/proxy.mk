# sandbox/proxy.mk: the egress proxy (libuv), linked by the supervisor and
# by the e2e proxy driver.
noinst_LIBRARIES += sandbox/libproxy.a
sandbox_libproxy_a_SOURCES = sandbox/proxy.h sandbox/proxy-int.h sandbox/proxy-head.h \
	sandbox/proxy.c sandbox/proxy-head.c sandbox/proxy-dial.c \
	sandbox/proxy-relay.c sandbox/proxy-splice.c sandbox/proxy-identity.c \
	sandbox/proxy-l7.c
sandbox_libproxy_a_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS) $(OPENSSL_CFLAGS)
LIBPROXY = sandbox/libproxy.a $(LIBTLS)
