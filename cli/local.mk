# cli/: the `openshell` command.
bin_PROGRAMS += openshell
openshell_SOURCES = cli/cli.h cli/cli.c cli/cli-policy.c
openshell_CFLAGS = $(AM_CFLAGS) $(GRPC_CFLAGS) $(PROTOBUF_C_CFLAGS) $(UV_CFLAGS)
openshell_LDADD = $(LIBOSRPC) $(LIBINTL)
