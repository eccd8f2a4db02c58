# bench/: benchmarks print "ratio NAME: VALUE ..." lines against a
# baseline measured in the same run. `make bench-smoke` runs each briefly
# (--smoke) and checks that it prints its ratio lines; no thresholds.
# BENCH_PROGS are built here; BENCH_SH (root, real binaries) are
# run from the source tree.
BENCH_PROGS =
BENCH_SH =
include bench/engine.mk
include bench/scripts.mk
include bench/gateway.mk
include bench/l7.mk
noinst_PROGRAMS += $(BENCH_PROGS)
EXTRA_DIST += $(BENCH_SH) bench/lib.sh

bench-smoke: $(BENCH_PROGS) all
	@fail=0; \
	for b in $(BENCH_PROGS:%=./%) $(BENCH_SH:%=$(srcdir)/%); do \
	  echo "== $$b --smoke"; \
	  out=$$(OS_BUILDDIR='$(abs_top_builddir)' OS_SRCDIR='$(abs_top_srcdir)' $$b --smoke 2>&1); rc=$$?; \
	  echo "$$out"; \
	  if [ $$rc -ne 0 ]; then echo "bench-smoke: $$b exited $$rc"; fail=1; fi; \
	  echo "$$out" | grep -q '^ratio ' || { echo "bench-smoke: $$b printed no ratio line"; fail=1; }; \
	done; exit $$fail
.PHONY: bench-smoke
