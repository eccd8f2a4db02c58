# gateway/: openshell-gateway, the control plane.
include gateway/store.mk
bin_PROGRAMS += openshell-gateway
openshell_gateway_SOURCES = gateway/gateway.h gateway/gateway.c \
	gateway/gw-auth.c gateway/gw-bus.c gateway/gw-config.c \
	gateway/gw-driver-local.c gateway/gw-exec.c gateway/gw-logs.c \
	gateway/gw-rpc.c gateway/gw-sandbox.c gateway/gw-settings.c \
	gateway/gw-tls.h gateway/gw-tls.c
openshell_gateway_CFLAGS = $(AM_CFLAGS) $(GRPC_CFLAGS) $(PROTOBUF_C_CFLAGS) \
	$(UV_CFLAGS) $(SQLITE_CFLAGS)
openshell_gateway_LDADD = $(LIBSTORE) $(LIBOSRPC) $(LIBINTL)
