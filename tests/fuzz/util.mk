# tests/fuzz/util.mk: key=value log lines (lib/kv.c).
