# tests/fuzz/proxy.mk: the proxy's HTTP head and chunked-body parsers.
FUZZ_TARGETS += tests/fuzz/fuzz-http-head
tests_fuzz_fuzz_http_head_SOURCES = tests/fuzz/fuzz-http-head.c
tests_fuzz_fuzz_http_head_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS) -I$(srcdir)/sandbox
tests_fuzz_fuzz_http_head_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_http_head_LDADD = $(LIBPROXY) $(LIBOPENSHELL) $(UV_LIBS)
EXTRA_DIST += tests/fuzz/fuzz-http-head.c \
	tests/fuzz/corpus/fuzz-http-head/chunked-bad.txt \
	tests/fuzz/corpus/fuzz-http-head/chunked-body.txt \
	tests/fuzz/corpus/fuzz-http-head/connect-v6.txt \
	tests/fuzz/corpus/fuzz-http-head/connect.txt \
	tests/fuzz/corpus/fuzz-http-head/forward-get.txt \
	tests/fuzz/corpus/fuzz-http-head/forward-post-chunked.txt \
	tests/fuzz/corpus/fuzz-http-head/h2-preface.txt \
	tests/fuzz/corpus/fuzz-http-head/origin-absolute.txt \
	tests/fuzz/corpus/fuzz-http-head/origin-get.txt \
	tests/fuzz/corpus/fuzz-http-head/origin-http10.txt \
	tests/fuzz/corpus/fuzz-http-head/origin-options.txt \
	tests/fuzz/corpus/fuzz-http-head/origin-pipelined.txt \
	tests/fuzz/corpus/fuzz-http-head/origin-websocket.txt \
	tests/fuzz/corpus/fuzz-http-head/resp-100-then-204.txt \
	tests/fuzz/corpus/fuzz-http-head/resp-101.txt \
	tests/fuzz/corpus/fuzz-http-head/resp-200-cl.txt \
	tests/fuzz/corpus/fuzz-http-head/resp-304.txt \
	tests/fuzz/corpus/fuzz-http-head/resp-bad.txt \
	tests/fuzz/corpus/fuzz-http-head/resp-chunked.txt \
	tests/fuzz/corpus/fuzz-http-head/resp-close.txt \
	tests/fuzz/corpus/fuzz-http-head/smuggle-bare-lf.txt \
	tests/fuzz/corpus/fuzz-http-head/smuggle-cl-te.txt \
	tests/fuzz/corpus/fuzz-http-head/smuggle-dot-params.txt \
	tests/fuzz/corpus/fuzz-http-head/smuggle-dup-cl.txt \
	tests/fuzz/corpus/fuzz-http-head/smuggle-nul.txt \
	tests/fuzz/corpus/fuzz-http-head/smuggle-obs-fold.txt \
	tests/fuzz/corpus/fuzz-http-head/smuggle-te-cl.txt \
	tests/fuzz/corpus/fuzz-http-head/smuggle-te-te.txt
