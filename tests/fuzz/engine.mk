# tests/fuzz/engine.mk: the compiled matcher (lib/match.c) against a
# brute-force model, on fuzzed policies and requests.
FUZZ_TARGETS += tests/fuzz/fuzz-l7-match
tests_fuzz_fuzz_l7_match_SOURCES = tests/fuzz/fuzz-l7-match.c
tests_fuzz_fuzz_l7_match_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_l7_match_LDADD = $(LIBOPENSHELL)
EXTRA_DIST += tests/fuzz/fuzz-l7-match.c \
	tests/fuzz/corpus/fuzz-l7-match/deny-rule.txt \
	tests/fuzz/corpus/fuzz-l7-match/head-and-audit.txt \
	tests/fuzz/corpus/fuzz-l7-match/query.txt \
	tests/fuzz/corpus/fuzz-l7-match/wildcard-globs.txt \
	tests/fuzz/corpus/fuzz-l7-match/yaml-github.txt \
	tests/fuzz/corpus/fuzz-l7-match/yaml-many-policies.txt \
	tests/fuzz/corpus/fuzz-l7-match/yaml-several.txt
