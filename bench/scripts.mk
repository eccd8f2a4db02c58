# bench/scripts.mk: root benchmarks driving the real binaries
BENCH_SH += bench/bench-proxy.sh

# Helpers of bench-proxy.sh (not benchmarks themselves): a load generator
# and sink, and an identity-lookup timer linked with the proxy.
noinst_PROGRAMS += bench/proxy-load bench/proxy-idbench
bench_proxy_load_SOURCES = bench/proxy-load.c
bench_proxy_load_LDADD = -lpthread
bench_proxy_idbench_SOURCES = bench/proxy-idbench.c
bench_proxy_idbench_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS) -I$(srcdir)/sandbox
bench_proxy_idbench_LDADD = $(LIBPROXY) $(LIBOPENSHELL) $(UV_LIBS) $(LIBINTL)
