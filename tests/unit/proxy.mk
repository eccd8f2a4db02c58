# tests/unit/proxy.mk: the proxy's pure parts (HTTP heads, chunked bodies) and the
# DNS stub's packets.
check_PROGRAMS += tests/unit/test-proxy-head
TESTS += tests/unit/test-proxy-head
tests_unit_test_proxy_head_SOURCES = tests/unit/test-proxy-head.c \
	tests/unit/tap.h
tests_unit_test_proxy_head_CFLAGS = $(UNIT_CFLAGS) -I$(srcdir)/sandbox
tests_unit_test_proxy_head_LDADD = $(LIBPROXY) $(UNIT_LIBS) $(UV_LIBS)

# The DNS stub's packet reader and its REFUSED answer (sandbox/dns-packet.c).
check_PROGRAMS += tests/unit/test-dns-packet
TESTS += tests/unit/test-dns-packet
tests_unit_test_dns_packet_SOURCES = tests/unit/test-dns-packet.c \
	tests/unit/tap.h sandbox/dns-packet.c sandbox/dns-packet.h
tests_unit_test_dns_packet_CFLAGS = $(UNIT_CFLAGS) -I$(srcdir)/sandbox
tests_unit_test_dns_packet_LDADD = $(UNIT_LIBS)
