# bench/engine.mk
