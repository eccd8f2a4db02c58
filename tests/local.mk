# tests/: unit tests (make check, no root), end-to-end tests (make
# check-e2e, root, real binaries) and fuzz targets (--enable-fuzzing).
TEST_EXTENSIONS = .sh
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
SH_LOG_DRIVER = $(LOG_DRIVER)
SH_LOG_COMPILER = bash
AM_TESTS_ENVIRONMENT = \
	OS_SRCDIR='$(abs_top_srcdir)'; export OS_SRCDIR; \
	OS_BUILDDIR='$(abs_top_builddir)'; export OS_BUILDDIR;
EXTRA_DIST += tests/unit/tap.h

include tests/unit/local.mk
include tests/e2e/local.mk
include tests/fuzz/local.mk

# End-to-end tests need root and real namespaces: never part of `make
# check` or distcheck.
check-e2e: all
	$(MAKE) $(AM_MAKEFLAGS) check TESTS="$(E2E_TESTS)" \
	    TEST_SUITE_LOG=tests/e2e-suite.log
.PHONY: check-e2e
