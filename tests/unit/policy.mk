# tests/unit/policy.mk: the policy format (load, validate, emit, hash).
POLICY_TEST_FILES = \
	tests/unit/policies/invalid/allowed-ips-host-bits.yaml \
	tests/unit/policies/invalid/allowed-ips-link-local.yaml \
	tests/unit/policies/invalid/allowed-ips-loopback.yaml \
	tests/unit/policies/invalid/allowed-ips-malformed.yaml \
	tests/unit/policies/invalid/allowed-ips-unspecified.yaml \
	tests/unit/policies/invalid/binaries-missing.yaml \
	tests/unit/policies/invalid/binary-relative.yaml \
	tests/unit/policies/invalid/duplicate-key.yaml \
	tests/unit/policies/invalid/empty-document.yaml \
	tests/unit/policies/invalid/endpoints-missing.yaml \
	tests/unit/policies/invalid/enum-unknown.yaml \
	tests/unit/policies/invalid/fs-dotdot.yaml \
	tests/unit/policies/invalid/fs-relative.yaml \
	tests/unit/policies/invalid/fs-rw-root.yaml \
	tests/unit/policies/invalid/host-bare-wildcard.yaml \
	tests/unit/policies/invalid/host-double-wildcard.yaml \
	tests/unit/policies/invalid/host-empty.yaml \
	tests/unit/policies/invalid/host-invalid.yaml \
	tests/unit/policies/invalid/host-middle-wildcard.yaml \
	tests/unit/policies/invalid/host-partial-wildcard.yaml \
	tests/unit/policies/invalid/host-tld-wildcard.yaml \
	tests/unit/policies/invalid/host-with-port.yaml \
	tests/unit/policies/invalid/key-invalid.yaml \
	tests/unit/policies/invalid/l7-access-and-rules.yaml \
	tests/unit/policies/invalid/l7-access-without-rest.yaml \
	tests/unit/policies/invalid/l7-bad-glob.yaml \
	tests/unit/policies/invalid/l7-bad-method.yaml \
	tests/unit/policies/invalid/l7-bad-path.yaml \
	tests/unit/policies/invalid/l7-deny-without-allow.yaml \
	tests/unit/policies/invalid/l7-deny-without-rest.yaml \
	tests/unit/policies/invalid/l7-empty-rules.yaml \
	tests/unit/policies/invalid/l7-rest-without-rules.yaml \
	tests/unit/policies/invalid/l7-rules-without-rest.yaml \
	tests/unit/policies/invalid/l7-tls-skip.yaml \
	tests/unit/policies/invalid/many-mistakes.yaml \
	tests/unit/policies/invalid/not-a-mapping.yaml \
	tests/unit/policies/invalid/port-and-ports.yaml \
	tests/unit/policies/invalid/port-list-range.yaml \
	tests/unit/policies/invalid/port-missing.yaml \
	tests/unit/policies/invalid/port-range.yaml \
	tests/unit/policies/invalid/process-root-group.yaml \
	tests/unit/policies/invalid/process-root-user.yaml \
	tests/unit/policies/invalid/type-bool.yaml \
	tests/unit/policies/invalid/type-list.yaml \
	tests/unit/policies/invalid/type-mapping.yaml \
	tests/unit/policies/invalid/type-port.yaml \
	tests/unit/policies/invalid/unknown-endpoint-key.yaml \
	tests/unit/policies/invalid/unknown-key.yaml \
	tests/unit/policies/invalid/version-missing.yaml \
	tests/unit/policies/invalid/version-wrong.yaml \
	tests/unit/policies/invalid/yaml-syntax.yaml \
	tests/unit/policies/valid/full.yaml \
	tests/unit/policies/valid/no-enforcement.yaml \
	tests/unit/policies/valid/reordered.yaml \
	tests/unit/policies/valid/tricky-strings.yaml \
	tests/unit/policies/warning/fs-duplicates.yaml

check_PROGRAMS += tests/unit/test-policy-yaml
TESTS += tests/unit/test-policy-yaml
tests_unit_test_policy_yaml_SOURCES = tests/unit/test-policy-yaml.c tests/unit/tap.h tests/unit/srcfile.h
tests_unit_test_policy_yaml_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_policy_yaml_LDADD = $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test-policy-validate
TESTS += tests/unit/test-policy-validate
tests_unit_test_policy_validate_SOURCES = tests/unit/test-policy-validate.c tests/unit/tap.h tests/unit/srcfile.h
tests_unit_test_policy_validate_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_policy_validate_LDADD = $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test-policy-emit
TESTS += tests/unit/test-policy-emit
tests_unit_test_policy_emit_SOURCES = tests/unit/test-policy-emit.c tests/unit/tap.h tests/unit/srcfile.h
tests_unit_test_policy_emit_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_policy_emit_LDADD = $(UNIT_LIBS)

EXTRA_DIST += $(POLICY_TEST_FILES)
