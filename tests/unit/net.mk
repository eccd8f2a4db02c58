# tests/unit/net.mk: addresses, SSRF decisions and the resolver (lib/net.c, lib/ssrf.c, lib/resolve.c).
check_PROGRAMS += tests/unit/test-net
TESTS += tests/unit/test-net
tests_unit_test_net_SOURCES = tests/unit/test-net.c tests/unit/tap.h
tests_unit_test_net_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_net_LDADD = $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test-ssrf
TESTS += tests/unit/test-ssrf
tests_unit_test_ssrf_SOURCES = tests/unit/test-ssrf.c tests/unit/tap.h
tests_unit_test_ssrf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ssrf_LDADD = $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test-resolve
TESTS += tests/unit/test-resolve
tests_unit_test_resolve_SOURCES = tests/unit/test-resolve.c tests/unit/tap.h
tests_unit_test_resolve_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_resolve_LDADD = $(UNIT_LIBS)
