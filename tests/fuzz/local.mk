# tests/fuzz/: libFuzzer targets (./configure CC=clang --enable-fuzzing).
# `make fuzz-smoke` runs each briefly from a copy of its seed corpus in
# tests/fuzz/corpus/<target>/ (libFuzzer writes into its corpus dir).
FUZZ_TARGETS =
FUZZ_SMOKE_SECONDS = 20
FUZZ_LINKFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
include tests/fuzz/policy.mk
include tests/fuzz/engine.mk
include tests/fuzz/net.mk
include tests/fuzz/proxy.mk
include tests/fuzz/util.mk
include tests/fuzz/dns.mk
if FUZZING
noinst_PROGRAMS += $(FUZZ_TARGETS)
endif

fuzz-smoke: $(FUZZ_TARGETS)
	@test -n "$(FUZZ_TARGETS)" || exit 0; \
	fail=0; for t in $(FUZZ_TARGETS); do \
	  name=$${t##*/}; tmp=$$(mktemp -d); \
	  cp -R $(srcdir)/tests/fuzz/corpus/$$name/. $$tmp/ 2>/dev/null; \
	  echo "fuzz-smoke: $$name ($(FUZZ_SMOKE_SECONDS)s)"; \
	  ./$$t -max_total_time=$(FUZZ_SMOKE_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	      -print_final_stats=1 $$tmp >$$tmp.log 2>&1 || { fail=1; tail -50 $$tmp.log; }; \
	  grep -E '^stat::number_of_executed_units' $$tmp.log; \
	  rm -rf $$tmp $$tmp.log; \
	done; exit $$fail
.PHONY: fuzz-smoke
