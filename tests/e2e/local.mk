# tests/e2e/: end-to-end tests of the real binaries (root).

# The egress proxy outside any sandbox, listening inside a test network
# namespace (tests and bench/bench-proxy.sh drive it).
noinst_PROGRAMS += tests/e2e/tools/proxy-driver
tests_e2e_tools_proxy_driver_SOURCES = tests/e2e/tools/proxy-driver.c
tests_e2e_tools_proxy_driver_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS) -I$(srcdir)/sandbox
tests_e2e_tools_proxy_driver_LDADD = $(LIBPROXY) $(LIBOPENSHELL) $(UV_LIBS) $(LIBINTL)

# The test-host harness (sourced by every e2e test) and its stand-in server.
EXTRA_DIST += tests/e2e/lib/harness.sh tests/e2e/lib/standin.py \
	tests/e2e/lib/spawner.sh tests/e2e/lib/client.py
E2E_PROXY_TESTS = tests/e2e/t-proxy-l4.sh tests/e2e/t-proxy-ssrf.sh \
	tests/e2e/t-proxy-forward.sh tests/e2e/t-proxy-relay.sh \
	tests/e2e/t-proxy-reload.sh tests/e2e/t-proxy-dns.sh
E2E_TESTS += $(E2E_PROXY_TESTS)
EXTRA_DIST += $(E2E_PROXY_TESTS)
