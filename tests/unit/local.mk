# tests/unit/: fast tests of lib/ and friends; each program prints TAP.
# One fragment per area so areas can grow independently.
UNIT_LIBS = $(LIBOSRPC) $(LIBINTL)
UNIT_CFLAGS = $(AM_CFLAGS) $(GRPC_CFLAGS) $(PROTOBUF_C_CFLAGS) $(UV_CFLAGS) \
	-I$(srcdir)/tests/unit
include tests/unit/policy.mk
include tests/unit/engine.mk
include tests/unit/net.mk
include tests/unit/compose.mk
include tests/unit/rpc.mk
include tests/unit/store.mk
include tests/unit/proxy.mk
include tests/unit/tls.mk
include tests/unit/util.mk
include tests/unit/i18n.mk
