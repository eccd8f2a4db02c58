# tests/fuzz/net.mk: the hosts-file parser and address parsers.
FUZZ_TARGETS += tests/fuzz/fuzz-hosts
tests_fuzz_fuzz_hosts_SOURCES = tests/fuzz/fuzz-hosts.c
tests_fuzz_fuzz_hosts_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_hosts_LDADD = $(LIBOPENSHELL)
EXTRA_DIST += tests/fuzz/fuzz-hosts.c \
	tests/fuzz/corpus/fuzz-hosts/addresses.txt \
	tests/fuzz/corpus/fuzz-hosts/literal-name.txt \
	tests/fuzz/corpus/fuzz-hosts/bad-lines.hosts \
	tests/fuzz/corpus/fuzz-hosts/cidrs.txt \
	tests/fuzz/corpus/fuzz-hosts/etc-hosts.hosts \
	tests/fuzz/corpus/fuzz-hosts/multi-address.hosts
