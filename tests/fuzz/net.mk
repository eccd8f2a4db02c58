# tests/fuzz/net.mk: the hosts-file parser and address parsers.
