# tests/fuzz/policy.mk
