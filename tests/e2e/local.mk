# tests/e2e/: end-to-end tests of the real binaries (root).
