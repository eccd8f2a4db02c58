# tests/unit/util.mk: small utilities of lib/ (buffers, key=value lines,
# durations, the denial table).
check_PROGRAMS += tests/unit/test-kv
TESTS += tests/unit/test-kv
tests_unit_test_kv_SOURCES = tests/unit/test-kv.c tests/unit/tap.h
tests_unit_test_kv_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_kv_LDADD = $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test-denials
TESTS += tests/unit/test-denials
tests_unit_test_denials_SOURCES = tests/unit/test-denials.c tests/unit/tap.h
tests_unit_test_denials_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_denials_LDADD = $(UNIT_LIBS)
