# tests/unit/util.mk: small utilities of lib/ (buffers, key=value lines, durations).
check_PROGRAMS += tests/unit/test-kv
TESTS += tests/unit/test-kv
tests_unit_test_kv_SOURCES = tests/unit/test-kv.c tests/unit/tap.h
tests_unit_test_kv_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_kv_LDADD = $(UNIT_LIBS)
