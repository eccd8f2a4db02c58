# bench/l7.mk: the L7 relay (TLS terminated, each request decided) against
# direct TLS and mitmproxy: keep-alive requests per second and the cost
# of a new connection.
BENCH_SH += bench/bench-l7.sh

# The HTTPS upstream and load generator of bench-l7.sh (not a benchmark
# by itself).
noinst_PROGRAMS += bench/l7-load
bench_l7_load_SOURCES = bench/l7-load.c
bench_l7_load_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
bench_l7_load_LDADD = $(OPENSSL_LIBS) -lpthread
