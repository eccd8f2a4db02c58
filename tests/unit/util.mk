# tests/unit/util.mk: small utilities of lib/ (buffers, key=value lines, durations).
