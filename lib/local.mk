# lib/: libopenshell (policy model and engine, no I/O in the policy code)
# and libosrpc (protobuf conversion and gRPC plumbing shared by binaries).
noinst_LIBRARIES += lib/libopenshell.a
lib_libopenshell_a_SOURCES = lib/openshell.h \
	lib/xmalloc.c lib/buf.c lib/error.c lib/diag.c lib/log.c lib/util.c \
	lib/glob.c lib/policy.c lib/policy-yaml.c lib/policy-emit.c \
	lib/policy-validate.c lib/match.c lib/net.c lib/ssrf.c lib/resolve.c \
	lib/compose.c lib/diff.c lib/x509.c lib/kv.c lib/denials.c
lib_libopenshell_a_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS) $(OPENSSL_CFLAGS)
LIBOPENSHELL = lib/libopenshell.a $(YAML_LIBS) $(OPENSSL_LIBS) $(LIBS)

noinst_LIBRARIES += lib/libosrpc.a
lib_libosrpc_a_SOURCES = lib/os-rpc.h lib/policy-proto.c lib/rpc.c \
	lib/rpc-loop.c lib/rpc-server.c lib/rpc-client.c
lib_libosrpc_a_CFLAGS = $(AM_CFLAGS) $(GRPC_CFLAGS) $(PROTOBUF_C_CFLAGS) $(UV_CFLAGS)
LIBOSRPC = lib/libosrpc.a proto/libosproto.a $(LIBOPENSHELL) \
	$(GRPC_LIBS) $(PROTOBUF_C_LIBS) $(UV_LIBS) -lpthread
