# tests/unit/tls.mk: the sandbox CA, leaf certificates and TLS connections (sandbox/tls*.c).
check_PROGRAMS += tests/unit/test-tls
TESTS += tests/unit/test-tls
tests_unit_test_tls_SOURCES = tests/unit/test-tls.c tests/unit/tap.h
tests_unit_test_tls_CFLAGS = $(UNIT_CFLAGS) $(OPENSSL_CFLAGS) -I$(srcdir)/sandbox
tests_unit_test_tls_LDADD = $(LIBTLS) $(UNIT_LIBS)
