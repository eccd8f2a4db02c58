# tests/unit/store.mk: the gateway's SQLite store (gateway/store*.c).
check_PROGRAMS += tests/unit/test-store
TESTS += tests/unit/test-store
tests_unit_test_store_SOURCES = tests/unit/test-store.c tests/unit/tap.h
tests_unit_test_store_CFLAGS = $(UNIT_CFLAGS) $(SQLITE_CFLAGS) -I$(srcdir)/gateway
tests_unit_test_store_LDADD = $(LIBSTORE) $(UNIT_LIBS)
