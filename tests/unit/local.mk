# tests/unit/: fast tests of lib/ and friends; each prints TAP.
