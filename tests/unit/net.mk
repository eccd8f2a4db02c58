# tests/unit/net.mk: addresses, SSRF decisions and the resolver (lib/net.c, lib/ssrf.c, lib/resolve.c).
