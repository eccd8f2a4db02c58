# tests/unit/compose.mk: composition (lib/compose.c), the unified diff
# (lib/diff.c) and policy <-> protobuf conversion (lib/policy-proto.c).
check_PROGRAMS += tests/unit/test-diff
TESTS += tests/unit/test-diff
tests_unit_test_diff_SOURCES = tests/unit/test-diff.c tests/unit/tap.h
tests_unit_test_diff_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_diff_LDADD = $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test-policy-proto
TESTS += tests/unit/test-policy-proto
tests_unit_test_policy_proto_SOURCES = tests/unit/test-policy-proto.c \
	tests/unit/tap.h
tests_unit_test_policy_proto_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_policy_proto_LDADD = $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test-compose
TESTS += tests/unit/test-compose
tests_unit_test_compose_SOURCES = tests/unit/test-compose.c tests/unit/tap.h
tests_unit_test_compose_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_compose_LDADD = $(UNIT_LIBS)
