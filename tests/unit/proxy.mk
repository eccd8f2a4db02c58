# tests/unit/proxy.mk: the proxy's pure parts (HTTP heads, chunked bodies).
check_PROGRAMS += tests/unit/test-proxy-head
TESTS += tests/unit/test-proxy-head
tests_unit_test_proxy_head_SOURCES = tests/unit/test-proxy-head.c \
	tests/unit/tap.h
tests_unit_test_proxy_head_CFLAGS = $(UNIT_CFLAGS) -I$(srcdir)/sandbox
tests_unit_test_proxy_head_LDADD = $(LIBPROXY) $(UNIT_LIBS) $(UV_LIBS)
