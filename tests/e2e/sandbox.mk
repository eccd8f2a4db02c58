# tests/e2e/sandbox.mk: real sandboxes through the gateway and the CLI.
E2E_SANDBOX_TESTS = tests/e2e/t-sandbox-isolation.sh tests/e2e/t-sandbox-network.sh
E2E_TESTS += $(E2E_SANDBOX_TESTS)
EXTRA_DIST += $(E2E_SANDBOX_TESTS)
