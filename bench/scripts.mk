# bench/scripts.mk: root benchmarks driving the real binaries
