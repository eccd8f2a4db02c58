# tests/fuzz/dns.mk: the sandbox DNS stub's packet reader.
FUZZ_TARGETS += tests/fuzz/fuzz-dns
tests_fuzz_fuzz_dns_SOURCES = tests/fuzz/fuzz-dns.c sandbox/dns-packet.c
tests_fuzz_fuzz_dns_CFLAGS = $(AM_CFLAGS) -I$(srcdir)/sandbox
tests_fuzz_fuzz_dns_LDFLAGS = $(FUZZ_LINKFLAGS)
EXTRA_DIST += tests/fuzz/fuzz-dns.c \
	tests/fuzz/corpus/fuzz-dns/a-query.bin \
	tests/fuzz/corpus/fuzz-dns/aaaa-escapes.bin \
	tests/fuzz/corpus/fuzz-dns/two-questions.bin
