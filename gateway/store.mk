# gateway/store.mk: the gateway's store (SQLite), a library of its own so
# that unit tests link it without the rest of the gateway.
noinst_LIBRARIES += gateway/libstore.a
gateway_libstore_a_SOURCES = gateway/store.h gateway/store-int.h \
	gateway/store.c gateway/store-sandboxes.c gateway/store-policies.c \
	gateway/store-settings.c gateway/store-logs.c gateway/store-drafts.c \
	gateway/store-history.c
gateway_libstore_a_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
LIBSTORE = gateway/libstore.a $(SQLITE_LIBS)
