# tests/unit/engine.mk: the compiled matcher (lib/match.c) and the globs
# it is built on (lib/glob.c).
check_PROGRAMS += tests/unit/test-match
TESTS += tests/unit/test-match
tests_unit_test_match_SOURCES = tests/unit/test-match.c tests/unit/tap.h
tests_unit_test_match_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_match_LDADD = $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test-glob
TESTS += tests/unit/test-glob
tests_unit_test_glob_SOURCES = tests/unit/test-glob.c tests/unit/tap.h
tests_unit_test_glob_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_glob_LDADD = $(UNIT_LIBS)
