# tests/fuzz/proxy.mk: the proxy's HTTP head and chunked-body parsers.
