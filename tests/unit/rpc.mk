# tests/unit/rpc.mk: the gRPC plumbing (lib/rpc*.c).
check_PROGRAMS += tests/unit/test-rpc
TESTS += tests/unit/test-rpc
tests_unit_test_rpc_SOURCES = tests/unit/test-rpc.c tests/unit/tap.h
tests_unit_test_rpc_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_rpc_LDADD = $(UNIT_LIBS)
