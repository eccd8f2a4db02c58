# sandbox/: openshell-sandbox, the supervisor (one per sandbox), and the
# sandbox's init it forks.
include sandbox/proxy.mk
include sandbox/tls.mk
bin_PROGRAMS += openshell-sandbox
openshell_sandbox_SOURCES = sandbox/sandbox.h sandbox/supervisor.c \
	sandbox/sup-gateway.c sandbox/sup-exec.c sandbox/sup-lock.c sandbox/sup-log.c sandbox/sup-dns.c sandbox/sup-tls.c \
	sandbox/dns-packet.h sandbox/dns-packet.c \
	sandbox/sup-binaries.c \
	sandbox/sup-setup.h sandbox/sup-setup.c sandbox/sup-util.c \
	sandbox/sup-zygote.c sandbox/zygote.c sandbox/zygote-msg.c \
	sandbox/isolate.h sandbox/isolate.c sandbox/isolate-rootfs.c \
	sandbox/isolate-net.c sandbox/isolate-landlock.c sandbox/isolate-seccomp.c
openshell_sandbox_CFLAGS = $(AM_CFLAGS) $(GRPC_CFLAGS) $(PROTOBUF_C_CFLAGS) \
	$(UV_CFLAGS) $(SECCOMP_CFLAGS) $(OPENSSL_CFLAGS)
openshell_sandbox_LDADD = $(LIBPROXY) $(LIBTLS) $(LIBOSRPC) $(SECCOMP_LIBS) $(LIBINTL)
