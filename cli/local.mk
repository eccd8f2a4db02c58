# cli/: the `openshell` command.
bin_PROGRAMS += openshell
openshell_SOURCES = cli/cli.h cli/cli.c cli/cli-conn.c cli/cli-output.c \
	cli/cli-gateway.c cli/cli-sandbox.c cli/cli-exec.c cli/cli-logs.c \
	cli/cli-settings.c cli/cli-policy.c cli/cli-revisions.c
# Templates are found installed, or in the source tree of a build tree.
openshell_CPPFLAGS = $(AM_CPPFLAGS) \
	-DOS_TEMPLATES_SRCDIR=\"$(abs_top_srcdir)/examples/templates\"
openshell_CFLAGS = $(AM_CFLAGS) $(GRPC_CFLAGS) $(PROTOBUF_C_CFLAGS) $(UV_CFLAGS)
openshell_LDADD = $(LIBOSRPC) $(LIBINTL) -lpthread
