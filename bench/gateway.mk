# bench/gateway.mk: the gateway under load (GetSandboxConfig rate, watch fan-out).
BENCH_SH += bench/bench-gateway.sh

# The load generator of bench-gateway.sh (not a benchmark by itself).
noinst_PROGRAMS += bench/gateway-load
bench_gateway_load_SOURCES = bench/gateway-load.c
bench_gateway_load_CFLAGS = $(AM_CFLAGS) $(GRPC_CFLAGS) $(PROTOBUF_C_CFLAGS) $(UV_CFLAGS)
bench_gateway_load_LDADD = $(LIBOSRPC) $(LIBINTL) -lpthread
