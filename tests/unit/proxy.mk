# tests/unit/proxy.mk: the proxy's pure parts (HTTP heads, chunked bodies).
