# tests/fuzz/util.mk: key=value log lines (lib/kv.c).
FUZZ_TARGETS += tests/fuzz/fuzz-kv
tests_fuzz_fuzz_kv_SOURCES = tests/fuzz/fuzz-kv.c
tests_fuzz_fuzz_kv_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_kv_LDADD = $(LIBOPENSHELL)
EXTRA_DIST += tests/fuzz/fuzz-kv.c tests/fuzz/corpus/fuzz-kv/deny.txt \
	tests/fuzz/corpus/fuzz-kv/l7.txt tests/fuzz/corpus/fuzz-kv/escapes.txt
