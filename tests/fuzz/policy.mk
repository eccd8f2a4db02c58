# tests/fuzz/policy.mk: the policy YAML loader and canonical emitter.
FUZZ_TARGETS += tests/fuzz/fuzz-policy-yaml
tests_fuzz_fuzz_policy_yaml_SOURCES = tests/fuzz/fuzz-policy-yaml.c
tests_fuzz_fuzz_policy_yaml_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_policy_yaml_LDADD = $(LIBOPENSHELL)
EXTRA_DIST += tests/fuzz/fuzz-policy-yaml.c \
	tests/fuzz/corpus/fuzz-policy-yaml/aliases.yaml \
	tests/fuzz/corpus/fuzz-policy-yaml/full.yaml \
	tests/fuzz/corpus/fuzz-policy-yaml/l7-access-and-rules.yaml \
	tests/fuzz/corpus/fuzz-policy-yaml/many-mistakes.yaml \
	tests/fuzz/corpus/fuzz-policy-yaml/quickstart.yaml \
	tests/fuzz/corpus/fuzz-policy-yaml/reordered.yaml \
	tests/fuzz/corpus/fuzz-policy-yaml/tricky-strings.yaml \
	tests/fuzz/corpus/fuzz-policy-yaml/yaml-syntax.yaml
