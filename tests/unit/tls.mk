# tests/unit/tls.mk: the sandbox CA, leaf certificates and TLS connections (sandbox/tls*.c).
