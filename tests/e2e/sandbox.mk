# tests/e2e/sandbox.mk: real sandboxes through the gateway and the CLI.
E2E_SANDBOX_TESTS = tests/e2e/t-sandbox-isolation.sh tests/e2e/t-sandbox-network.sh \
	tests/e2e/t-sandbox-l7.sh tests/e2e/t-sandbox-l7-relay.sh \
	tests/e2e/t-sandbox-smuggling.sh
E2E_TESTS += $(E2E_SANDBOX_TESTS)
EXTRA_DIST += $(E2E_SANDBOX_TESTS)
# The L7 tests' helpers: shell functions, the raw client that runs inside
# a sandbox, and the record-versus-log check.
EXTRA_DIST += tests/e2e/lib/l7.sh tests/e2e/lib/tunnel.py tests/e2e/lib/l7rec.py
