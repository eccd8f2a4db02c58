# bench/engine.mk: the compiled matcher's decision cost as the policy grows
# (10, 1,000 and 10,000 rules), as ratios against the 10-rule baseline.
BENCH_PROGS += bench/bench-engine
bench_bench_engine_SOURCES = bench/bench-engine.c
bench_bench_engine_LDADD = $(LIBOPENSHELL) $(LIBINTL)
