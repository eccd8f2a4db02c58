# tests/unit/compose.mk
