# tests/fuzz/engine.mk
