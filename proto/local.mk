# proto/: protoc-c output is generated at build time into the build tree
# (never committed) and compiled into proto/libosproto.a. The stamp keeps
# a parallel make from running protoc-c twice.
PROTO_SRC = proto/sandbox.proto proto/openshell.proto proto/supervisor.proto
PROTO_GEN = proto/sandbox.pb-c.c proto/sandbox.pb-c.h \
	proto/openshell.pb-c.c proto/openshell.pb-c.h \
	proto/supervisor.pb-c.c proto/supervisor.pb-c.h
BUILT_SOURCES += $(PROTO_GEN)
CLEANFILES += $(PROTO_GEN) proto/pb-c.stamp
EXTRA_DIST += $(PROTO_SRC)

proto/pb-c.stamp: $(srcdir)/proto/sandbox.proto $(srcdir)/proto/openshell.proto \
	    $(srcdir)/proto/supervisor.proto
	$(AM_V_GEN)$(MKDIR_P) proto && \
	$(PROTOC_C) --proto_path=$(srcdir)/proto --c_out=proto \
	    $(srcdir)/proto/sandbox.proto $(srcdir)/proto/openshell.proto \
	    $(srcdir)/proto/supervisor.proto && \
	touch $@
$(PROTO_GEN): proto/pb-c.stamp
	@test -f $@ || { rm -f proto/pb-c.stamp; $(MAKE) $(AM_MAKEFLAGS) proto/pb-c.stamp; }

noinst_LIBRARIES += proto/libosproto.a
nodist_proto_libosproto_a_SOURCES = $(PROTO_GEN)
# Generated code: our prototype warnings do not apply to it.
proto_libosproto_a_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS) \
	-Wno-missing-prototypes -Wno-shadow
