# tests/fuzz/: libFuzzer targets, built with --enable-fuzzing.
