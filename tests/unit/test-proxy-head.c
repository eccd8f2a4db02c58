/*
 * The proxy's HTTP/1.1 head parser (sandbox/proxy-head.c): every accept
 * and refuse rule with the exact status, error code and detail a client
 * would get; the request-smuggling classics; canonical paths; response
 * framing; byte-exact rewrites; the chunked-body tracker fed whole and
 * split at every byte.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openshell.h"
#include "proxy-head.h"
#include "tap.h"

#define LIT(s)		(s), sizeof(s) - 1

enum which { LISTEN, ORIGIN, RESPONSE };

/* "\r\n" and other bytes made visible, for failure messages. */
static char *
esc(const char *s, size_t n)
{
	struct os_buf	b = OS_BUF_INIT;
	size_t		i;

	for (i = 0; i < n && i < 400; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r')
			os_buf_adds(&b, "\\r");
		else if (c == '\n')
			os_buf_adds(&b, "\\n");
		else if (c < 0x20 || c >= 0x7f)
			os_buf_addf(&b, "\\x%02x", c);
		else
			os_buf_addc(&b, (char)c);
	}
	if (i < n)
		os_buf_adds(&b, "...");
	return os_buf_steal(&b);
}

static bool
head_is_clear(const struct proxy_head *h)
{
	return h->method == NULL && h->host == NULL && h->authority == NULL &&
	    h->path == NULL && h->rewritten == NULL && h->target == NULL &&
	    h->canon_path == NULL && h->query == NULL;
}

static int
parse_as(enum which w, const char *in, size_t len, struct proxy_head *h,
    struct proxy_head_error *e)
{
	if (w == LISTEN)
		return proxy_head_parse(in, len, h, e);
	return proxy_head_parse_origin(in, len, 443, h, e);
}

/* NULL when `in` is refused exactly so, else what went wrong. */
static char *
refusal(enum which w, const char *in, size_t len, int status,
    const char *error, const char *detail)
{
	struct proxy_head_error	 e;
	struct proxy_head	 h;
	struct proxy_response	 r;
	char			*shown = esc(in, len), *m = NULL;
	int			 rc;

	if (w == RESPONSE) {
		rc = proxy_head_parse_response(in, len, NULL, &r, &e);
		if (rc == 0) {
			m = xprintf("accepted: %s", shown);
			proxy_response_clear(&r);
		} else if (r.rewritten != NULL || r.reason != NULL)
			m = xprintf("response not cleared after refusing %s", shown);
	} else {
		rc = parse_as(w, in, len, &h, &e);
		if (rc == 0) {
			m = xprintf("accepted: %s", shown);
			proxy_head_clear(&h);
		} else if (!head_is_clear(&h))
			m = xprintf("head not cleared after refusing %s", shown);
	}
	if (m == NULL && (rc != -EINVAL || e.status != status ||
	    strcmp(e.error, error) != 0 || strcmp(e.detail, detail) != 0))
		m = xprintf("%s:\n#     got:  %d %d %s \"%s\"\n#     want: %d %s \"%s\"",
		    shown, rc, e.status, e.error, e.detail, status, error, detail);
	free(shown);
	return m;
}

#define REFUSED_N(w, in, len, status, error, detail) do {		\
	char *m_ = refusal(w, in, len, status, error, detail);		\
	if (m_ != NULL) {						\
		tap_fail_at(__FILE__, __LINE__, m_);			\
		free(m_);						\
	}								\
} while (0)
#define REFUSED(w, in, status, error, detail)				\
	REFUSED_N(w, in, sizeof(in) - 1, status, error, detail)
#define BAD(w, in, detail)	REFUSED(w, in, 400, "bad_request", detail)
#define BAD_RESP(in, detail)	REFUSED(RESPONSE, in, 502, "bad_upstream_response", detail)

/* Parses or fails the test at the caller's line. */
#define ACCEPT(w, in, h) do {						\
	struct proxy_head_error e_;					\
	if (parse_as(w, LIT(in), h, &e_) != 0) {			\
		char *s_ = esc(LIT(in));				\
		char *m_ = xprintf("refused %s: %d %s \"%s\"", s_,	\
		    e_.status, e_.error, e_.detail);			\
		tap_fail_at(__FILE__, __LINE__, m_);			\
		free(m_);						\
		free(s_);						\
	}								\
} while (0)

#define ACCEPT_RESP(in, req, r) do {					\
	struct proxy_head_error e_;					\
	if (proxy_head_parse_response(LIT(in), req, r, &e_) != 0) {	\
		char *s_ = esc(LIT(in));				\
		char *m_ = xprintf("refused %s: %d %s \"%s\"", s_,	\
		    e_.status, e_.error, e_.detail);			\
		tap_fail_at(__FILE__, __LINE__, m_);			\
		free(m_);						\
		free(s_);						\
	}								\
} while (0)

/* A head of exactly `total` bytes: line, one X-Pad field, CRLF CRLF. */
static char *
sized_head(const char *line, size_t total)
{
	struct os_buf	b = OS_BUF_INIT;
	size_t		fixed;

	fixed = strlen(line) + strlen("X-Pad: \r\n\r\n");
	os_buf_adds(&b, line);
	os_buf_adds(&b, "X-Pad: ");
	while (b.len < total - fixed + strlen(line) + 7)
		os_buf_addc(&b, 'a');
	os_buf_adds(&b, "\r\n\r\n");
	return os_buf_steal(&b);
}

/* ------------------------------------------------------------------------
 * The listener: CONNECT and the forward proxy (behaviour kept)
 */
static void
t_connect(void)
{
	struct proxy_head	h;

	ACCEPT(LISTEN, "CONNECT api.github.com:443 HTTP/1.1\r\nHost: api.github.com:443\r\n\r\n", &h);
	CHECK_INT(h.kind, PROXY_HEAD_CONNECT);
	CHECK_STR(h.method, "CONNECT");
	CHECK_STR(h.host, "api.github.com");
	CHECK_INT(h.port, 443);
	CHECK_STR(h.authority, "api.github.com:443");
	CHECK_STR(h.target, "api.github.com:443");
	CHECK_INT(h.version, 11);
	CHECK_INT(h.body, PROXY_BODY_NONE);
	CHECK(h.rewritten == NULL && h.path == NULL && h.canon_path == NULL);
	proxy_head_clear(&h);

	ACCEPT(LISTEN, "CONNECT [::1]:8443 HTTP/1.0\r\n\r\n", &h);
	CHECK_STR(h.host, "::1");
	CHECK_INT(h.port, 8443);
	CHECK_INT(h.version, 10);
	proxy_head_clear(&h);

	ACCEPT(LISTEN, "CONNECT h:1 HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &h);
	CHECK_INT(h.port, 1);
	proxy_head_clear(&h);
}

static void
t_connect_refused(void)
{
	const char *t = "CONNECT target must be host:port or [v6]:port";

	BAD(LISTEN, "CONNECT api.github.com HTTP/1.1\r\n\r\n", t);
	BAD(LISTEN, "CONNECT h:0 HTTP/1.1\r\n\r\n", t);
	BAD(LISTEN, "CONNECT h:65536 HTTP/1.1\r\n\r\n", t);
	BAD(LISTEN, "CONNECT h:44x HTTP/1.1\r\n\r\n", t);
	BAD(LISTEN, "CONNECT [::1:443 HTTP/1.1\r\n\r\n", t);
	BAD(LISTEN, "CONNECT [zz]:443 HTTP/1.1\r\n\r\n", t);
	BAD(LISTEN, "CONNECT a/b:443 HTTP/1.1\r\n\r\n", t);
	BAD(LISTEN, "CONNECT h:443 HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
	    "CONNECT request with a body");
	BAD(LISTEN, "CONNECT h:443 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "CONNECT request with a body");
	BAD(LISTEN, "CONNECT h:443 HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "both Content-Length and Transfer-Encoding");
	BAD(LISTEN, "CONNECT h:443 HTTP/1.1\r\nContent-Length: x\r\n\r\n",
	    "invalid Content-Length 'x'");
}

static void
t_forward(void)
{
	struct proxy_head	h;

	ACCEPT(LISTEN, "GET http://web.test/zen?x=1&y HTTP/1.1\r\nHost: web.test\r\nUser-Agent: t\r\n\r\n", &h);
	CHECK_INT(h.kind, PROXY_HEAD_FORWARD);
	CHECK_STR(h.method, "GET");
	CHECK_STR(h.host, "web.test");
	CHECK_INT(h.port, 80);
	CHECK_STR(h.authority, "web.test");
	CHECK_STR(h.path, "/zen?x=1&y");
	CHECK_STR(h.target, "http://web.test/zen?x=1&y");
	CHECK_STR(h.canon_path, "/zen");
	CHECK_STR(h.query, "x=1&y");
	CHECK(h.keep_alive);
	CHECK(!h.upgrade);
	CHECK_STR(h.rewritten, "GET /zen?x=1&y HTTP/1.1\r\nHost: web.test\r\nUser-Agent: t\r\nConnection: close\r\n\r\n");
	proxy_head_clear(&h);

	/* What tests/e2e/t-proxy-forward.sh records upstream. */
	ACCEPT(LISTEN, "GET http://web.test HTTP/1.0\r\nUser-Agent: t\r\n\r\n", &h);
	CHECK_STR(h.path, "/");
	CHECK_STR(h.canon_path, "/");
	CHECK(h.query == NULL);
	CHECK(!h.keep_alive);
	CHECK_STR(h.rewritten, "GET / HTTP/1.0\r\nUser-Agent: t\r\nHost: web.test\r\nConnection: close\r\n\r\n");
	proxy_head_clear(&h);

	ACCEPT(LISTEN, "GET http://Web.Test:8080?q HTTP/1.1\r\nHost: web.test:8080\r\n\r\n", &h);
	CHECK_INT(h.port, 8080);
	CHECK_STR(h.path, "/?q");
	CHECK_STR(h.canon_path, "/");
	CHECK_STR(h.query, "q");
	CHECK_STR(h.rewritten, "GET /?q HTTP/1.1\r\nHost: web.test:8080\r\nConnection: close\r\n\r\n");
	proxy_head_clear(&h);

	ACCEPT(LISTEN, "POST http://[::1]:81/a HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n", &h);
	CHECK_STR(h.host, "::1");
	CHECK_INT(h.port, 81);
	CHECK_INT(h.body, PROXY_BODY_LENGTH);
	CHECK_INT(h.content_length, 3);
	CHECK(h.expect_continue);
	CHECK_STR(h.rewritten, "POST /a HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\nHost: [::1]:81\r\nConnection: close\r\n\r\n");
	proxy_head_clear(&h);
}

static void
t_forward_rewrite(void)
{
	struct proxy_head	h;

	/* Hop-by-hop and nominated fields go; a disagreeing Host is
	 * replaced in place; the canonical target is sent; an upgrade is
	 * not forwarded (one request per connection). */
	ACCEPT(LISTEN, "GET http://web.test/a/./b/../c//d HTTP/1.1\r\n"
	    "Proxy-Connection: keep-alive\r\n"
	    "Proxy-Authorization: Basic eA==\r\n"
	    "Host: other.test\r\n"
	    "Connection: keep-alive, X-Secret, Upgrade\r\n"
	    "X-Secret: 1\r\n"
	    "Keep-Alive: timeout=5\r\n"
	    "TE: trailers\r\n"
	    "Trailer: X-T\r\n"
	    "Upgrade: websocket\r\n"
	    "Accept:   */*  \r\n"
	    "\r\n", &h);
	CHECK_STR(h.path, "/a/./b/../c//d");
	CHECK_STR(h.canon_path, "/a/c/d");
	CHECK(!h.upgrade);
	CHECK_STR(h.rewritten, "GET /a/c/d HTTP/1.1\r\nHost: web.test\r\nAccept:   */*  \r\nConnection: close\r\n\r\n");
	proxy_head_clear(&h);

	ACCEPT(LISTEN, "GET http://web.test/ HTTP/1.1\r\nhOsT: WEB.test:80\r\n\r\n", &h);
	CHECK_STR(h.rewritten, "GET / HTTP/1.1\r\nhOsT: WEB.test:80\r\nConnection: close\r\n\r\n");
	proxy_head_clear(&h);
}

static void
t_forward_refused(void)
{
	REFUSED(LISTEN, "GET https://web.test/zen HTTP/1.1\r\nHost: web.test\r\n\r\n",
	    400, "https_not_supported", "Use CONNECT for HTTPS URLs");
	REFUSED(LISTEN, "GET ftp://web.test/zen HTTP/1.1\r\n\r\n",
	    400, "unsupported_proxy_scheme",
	    "unsupported scheme 'ftp' (only http:// is forwarded; use CONNECT for anything else)");
	BAD(LISTEN, "GET /zen HTTP/1.1\r\nHost: web.test\r\n\r\n",
	    "GET /zen: a proxy needs an absolute URI (http://host/path) or CONNECT");
	BAD(LISTEN, "GET http://user@web.test/zen HTTP/1.1\r\n\r\n",
	    "user information in the request URI is not accepted");
	BAD(LISTEN, "GET http://web.test/zen#f HTTP/1.1\r\n\r\n",
	    "fragment in the request URI is not accepted");
	BAD(LISTEN, "GET http://we$b/ HTTP/1.1\r\n\r\n",
	    "invalid host or port in the request URI");
	BAD(LISTEN, "GET http://web:0/ HTTP/1.1\r\n\r\n",
	    "invalid host or port in the request URI");
	BAD(LISTEN, "GET web.test:80 HTTP/1.1\r\n\r\n", "malformed request target");
	BAD(LISTEN, "OPTIONS * HTTP/1.1\r\nHost: web.test\r\n\r\n",
	    "malformed request target");
	BAD(LISTEN, "GET http://web.test/../etc HTTP/1.1\r\n\r\n",
	    "path '/../etc' climbs above the root");
	BAD(LISTEN, "GET http://web.test/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	    "more than one Host header");
	BAD(LISTEN, "GET http://web.test/ HTTP/1.1\r\nConnection: content-length\r\nContent-Length: 1\r\n\r\n",
	    "Connection header names a framing field");
	BAD(LISTEN, "GET http://web.test/ HTTP/1.1\r\nConnection: Host\r\n\r\n",
	    "Connection header names a framing field");
	REFUSED(LISTEN, "GET http://web.test/ HTTP/1.1\r\nExpect: tea\r\n\r\n",
	    417, "expectation_failed",
	    "unsupported expectation 'tea' (only 100-continue is)");
}

/* The listener keeps its 8 KiB head; a tunnel gets 16 KiB. */
static void
t_head_size(void)
{
	struct proxy_head_error	 e;
	struct proxy_head	 h;
	char			*s;

	s = sized_head("CONNECT h:443 HTTP/1.1\r\n", PROXY_HEAD_LISTEN_MAX);
	CHECK_INT(strlen(s), PROXY_HEAD_LISTEN_MAX);
	CHECK_INT(proxy_head_parse(s, strlen(s), &h, &e), 0);
	proxy_head_clear(&h);
	free(s);
	s = sized_head("CONNECT h:443 HTTP/1.1\r\n", PROXY_HEAD_LISTEN_MAX + 1);
	REFUSED_N(LISTEN, s, strlen(s), 431, "headers_too_large",
	    "request head larger than 8192 bytes");
	free(s);

	s = sized_head("GET / HTTP/1.1\r\nHost: h\r\n", PROXY_HEAD_MAX);
	CHECK_INT(strlen(s), 16384);
	CHECK_INT(proxy_head_parse_origin(s, strlen(s), 443, &h, &e), 0);
	CHECK_STR(h.rewritten, s);
	proxy_head_clear(&h);
	free(s);
	s = sized_head("GET / HTTP/1.1\r\nHost: h\r\n", PROXY_HEAD_MAX + 1);
	REFUSED_N(ORIGIN, s, strlen(s), 431, "headers_too_large",
	    "request head larger than 16384 bytes");
	free(s);
}

static void
t_field_count(void)
{
	struct os_buf		 b = OS_BUF_INIT;
	struct proxy_head_error	 e;
	struct proxy_head	 h;
	int			 i;

	os_buf_adds(&b, "GET / HTTP/1.1\r\nHost: h\r\n");
	for (i = 1; i < PROXY_HEAD_MAX_FIELDS; i++)
		os_buf_addf(&b, "X-%d: v\r\n", i);
	os_buf_adds(&b, "\r\n");
	CHECK_INT(proxy_head_parse_origin(b.data, b.len, 443, &h, &e), 0);
	proxy_head_clear(&h);
	b.len -= 2;
	os_buf_adds(&b, "X-101: v\r\n\r\n");
	REFUSED_N(ORIGIN, b.data, b.len, 431, "headers_too_large",
	    "more than 100 header fields");
	os_buf_free(&b);
}

/* ------------------------------------------------------------------------
 * Requests inside a tunnel
 */
static void
t_origin_basic(void)
{
	static const char	 in[] = "GET /repos/octocat/hello-world?per_page=1 HTTP/1.1\r\n"
	    "Host: api.github.com\r\n"
	    "User-Agent: curl/8.5.0\r\n"
	    "Accept:  */* \r\n"
	    "X-Odd: \tMiXeD\xff value\r\n"
	    "Authorization: Bearer x\r\n"
	    "\r\n";
	struct proxy_head	 h;

	ACCEPT(ORIGIN, in, &h);
	CHECK_INT(h.kind, PROXY_HEAD_ORIGIN);
	CHECK_STR(h.method, "GET");
	CHECK_STR(h.host, "api.github.com");
	CHECK_INT(h.port, 443);
	CHECK_STR(h.authority, "api.github.com");
	CHECK_STR(h.target, "/repos/octocat/hello-world?per_page=1");
	CHECK_STR(h.path, "/repos/octocat/hello-world?per_page=1");
	CHECK_STR(h.canon_path, "/repos/octocat/hello-world");
	CHECK_STR(h.query, "per_page=1");
	CHECK_INT(h.version, 11);
	CHECK_INT(h.body, PROXY_BODY_NONE);
	CHECK(h.keep_alive && !h.upgrade && !h.expect_continue && !h.asterisk &&
	    !h.encoded_slash);
	CHECK_STR(h.rewritten, in);        /* byte for byte */
	proxy_head_clear(&h);

	ACCEPT(ORIGIN, "POST /v1/messages HTTP/1.1\r\nHost: api.test:8443\r\nContent-Length: 12\r\n\r\n", &h);
	CHECK_INT(h.port, 8443);
	CHECK_STR(h.authority, "api.test:8443");
	CHECK_INT(h.body, PROXY_BODY_LENGTH);
	CHECK_INT(h.content_length, 12);
	CHECK(h.query == NULL);
	proxy_head_clear(&h);

	/* Any token is a method; policy decides what it means. */
	ACCEPT(ORIGIN, "M-SEARCH! /x HTTP/1.1\r\nHost: h\r\n\r\n", &h);
	CHECK_STR(h.method, "M-SEARCH!");
	proxy_head_clear(&h);
}

static void
t_origin_host(void)
{
	struct proxy_head_error	 e;
	struct proxy_head	 h;

	BAD(ORIGIN, "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n",
	    "HTTP/1.1 request without a Host header");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
	    "more than one Host header");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "invalid Host header 'a b'");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost:\r\n\r\n", "invalid Host header ''");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost: h:\r\n\r\n", "invalid Host header 'h:'");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost: u@h\r\n\r\n", "invalid Host header 'u@h'");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost: h:99999\r\n\r\n", "invalid Host header 'h:99999'");

	ACCEPT(ORIGIN, "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", &h);
	CHECK_STR(h.host, "::1");
	CHECK_INT(h.port, 8080);
	proxy_head_clear(&h);

	/* HTTP/1.0 may leave Host out: no host, the tunnel's port. */
	CHECK_INT(proxy_head_parse_origin(LIT("GET / HTTP/1.0\r\n\r\n"), 80, &h, &e), 0);
	CHECK(h.host == NULL && h.authority == NULL);
	CHECK_INT(h.port, 80);
	CHECK_STR(h.rewritten, "GET / HTTP/1.0\r\n\r\n");
	proxy_head_clear(&h);
}

static void
t_origin_keep_alive(void)
{
	struct proxy_head	h;

	ACCEPT(ORIGIN, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", &h);
	CHECK(!h.keep_alive);
	CHECK_STR(h.rewritten, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
	proxy_head_clear(&h);

	ACCEPT(ORIGIN, "GET / HTTP/1.1\r\nConnection: Keep-Alive, CLOSE\r\nHost: h\r\n\r\n", &h);
	CHECK(!h.keep_alive);
	CHECK_STR(h.rewritten, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
	proxy_head_clear(&h);

	ACCEPT(ORIGIN, "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n", &h);
	CHECK(h.keep_alive);
	CHECK_STR(h.rewritten, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
	proxy_head_clear(&h);

	ACCEPT(ORIGIN, "GET / HTTP/1.0\r\nHost: h\r\n\r\n", &h);
	CHECK(!h.keep_alive);
	CHECK_INT(h.version, 10);
	CHECK_STR(h.rewritten, "GET / HTTP/1.0\r\nHost: h\r\n\r\n");
	proxy_head_clear(&h);

	ACCEPT(ORIGIN, "GET / HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\nKeep-Alive: max=5\r\n\r\n", &h);
	CHECK(h.keep_alive);
	CHECK_STR(h.rewritten, "GET / HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n");
	proxy_head_clear(&h);
}

static void
t_origin_hop_by_hop(void)
{
	struct proxy_head	h;

	ACCEPT(ORIGIN, "PUT /x HTTP/1.1\r\n"
	    "Host: h\r\n"
	    "Connection: X-Secret,  x-other ,close\r\n"
	    "x-secret: 1\r\n"
	    "X-Other: 2\r\n"
	    "X-Kept: 3\r\n"
	    "Proxy-Connection: keep-alive\r\n"
	    "Proxy-Authorization: Basic eA==\r\n"
	    "Proxy-Authenticate: Basic\r\n"
	    "Keep-Alive: timeout=5\r\n"
	    "TE: trailers\r\n"
	    "Trailer: X-Checksum\r\n"
	    "Upgrade: h2c\r\n"
	    "Close: 1\r\n"
	    "Content-Length: 0\r\n"
	    "\r\n", &h);
	CHECK(!h.upgrade && !h.keep_alive);
	CHECK_INT(h.body, PROXY_BODY_NONE);
	CHECK_STR(h.rewritten, "PUT /x HTTP/1.1\r\nHost: h\r\nX-Kept: 3\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
	proxy_head_clear(&h);

	BAD(ORIGIN, "POST / HTTP/1.1\r\nHost: h\r\nConnection: Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "Connection header names a framing field");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost: h\r\nConnection: host\r\n\r\n",
	    "Connection header names a framing field");
}

static void
t_origin_websocket(void)
{
	static const char	 ws[] = "GET /chat HTTP/1.1\r\n"
	    "Host: ws.test\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "\r\n";
	struct proxy_head	 h;

	ACCEPT(ORIGIN, ws, &h);
	CHECK(h.upgrade);
	CHECK_STR(h.rewritten, ws);
	proxy_head_clear(&h);

	/* Firefox's spelling; other hop-by-hop fields still go. */
	ACCEPT(ORIGIN, "GET /chat HTTP/1.1\r\nHost: ws.test\r\nConnection: keep-alive, Upgrade\r\n"
	    "Upgrade: WebSocket\r\nKeep-Alive: 5\r\nProxy-Authorization: x\r\n\r\n", &h);
	CHECK(h.upgrade);
	CHECK_STR(h.rewritten, "GET /chat HTTP/1.1\r\nHost: ws.test\r\nConnection: keep-alive, Upgrade\r\nUpgrade: WebSocket\r\n\r\n");
	proxy_head_clear(&h);

	/* Not an upgrade: no Connection: upgrade, not GET, HTTP/1.0, h2c. */
	ACCEPT(ORIGIN, "GET /chat HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\n\r\n", &h);
	CHECK(!h.upgrade);
	CHECK_STR(h.rewritten, "GET /chat HTTP/1.1\r\nHost: ws.test\r\n\r\n");
	proxy_head_clear(&h);
	ACCEPT(ORIGIN, "POST /chat HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n", &h);
	CHECK(!h.upgrade);
	CHECK_STR(h.rewritten, "POST /chat HTTP/1.1\r\nHost: ws.test\r\n\r\n");
	proxy_head_clear(&h);
	ACCEPT(ORIGIN, "GET /chat HTTP/1.0\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n", &h);
	CHECK(!h.upgrade);
	CHECK_STR(h.rewritten, "GET /chat HTTP/1.0\r\nHost: ws.test\r\n\r\n");
	proxy_head_clear(&h);
	ACCEPT(ORIGIN, "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n", &h);
	CHECK(!h.upgrade);
	CHECK_STR(h.rewritten, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
	proxy_head_clear(&h);

	BAD(ORIGIN, "GET /chat HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: upgrade\r\nContent-Length: 4\r\n\r\n",
	    "WebSocket upgrade request with a body");
}

static void
t_origin_expect(void)
{
	struct proxy_head	h;

	ACCEPT(ORIGIN, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\nExpect: 100-Continue\r\n\r\n", &h);
	CHECK(h.expect_continue);
	CHECK_STR(h.rewritten, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\nExpect: 100-Continue\r\n\r\n");
	proxy_head_clear(&h);

	/* HTTP/1.0 expectations are ignored (RFC 9110 10.1.1). */
	ACCEPT(ORIGIN, "POST /up HTTP/1.0\r\nContent-Length: 9\r\nExpect: 100-continue\r\n\r\n", &h);
	CHECK(!h.expect_continue);
	proxy_head_clear(&h);

	REFUSED(ORIGIN, "POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue, x\r\n\r\n",
	    417, "expectation_failed",
	    "unsupported expectation '100-continue, x' (only 100-continue is)");
	REFUSED(ORIGIN, "POST /up HTTP/1.1\r\nHost: h\r\nExpect:\r\n\r\n",
	    417, "expectation_failed",
	    "unsupported expectation '' (only 100-continue is)");
}

static void
t_origin_targets(void)
{
	struct proxy_head	h;

	ACCEPT(ORIGIN, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", &h);
	CHECK(h.asterisk);
	CHECK_STR(h.path, "*");
	CHECK_STR(h.canon_path, "*");
	CHECK(h.query == NULL);
	CHECK_STR(h.rewritten, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
	proxy_head_clear(&h);
	BAD(ORIGIN, "GET * HTTP/1.1\r\nHost: h\r\n\r\n",
	    "'*' is a request target for OPTIONS only");
	BAD(ORIGIN, "OPTIONS *x HTTP/1.1\r\nHost: h\r\n\r\n",
	    "request target '*x' is not a path, an absolute URI or '*' (host:port is for CONNECT only)");

	/* Absolute-form: the authority must agree with Host. */
	ACCEPT(ORIGIN, "GET https://api.github.com/x/../y?q=1 HTTP/1.1\r\nHost: API.github.com:443\r\n\r\n", &h);
	CHECK_STR(h.host, "api.github.com");
	CHECK_INT(h.port, 443);
	CHECK_STR(h.authority, "api.github.com");
	CHECK_STR(h.path, "/x/../y?q=1");
	CHECK_STR(h.canon_path, "/y");
	CHECK_STR(h.rewritten, "GET /y?q=1 HTTP/1.1\r\nHost: API.github.com:443\r\n\r\n");
	proxy_head_clear(&h);
	ACCEPT(ORIGIN, "GET http://h:8080 HTTP/1.0\r\n\r\n", &h);
	CHECK_INT(h.port, 8080);
	CHECK_STR(h.rewritten, "GET / HTTP/1.0\r\nHost: h:8080\r\n\r\n");
	proxy_head_clear(&h);
	BAD(ORIGIN, "GET https://api.github.com/ HTTP/1.1\r\nHost: evil.test\r\n\r\n",
	    "request URI authority 'api.github.com' and Host 'evil.test' disagree");
	BAD(ORIGIN, "GET http://h/ HTTP/1.1\r\nHost: h:443\r\n\r\n",
	    "request URI authority 'h' and Host 'h:443' disagree");
	BAD(ORIGIN, "GET https://h/ HTTP/1.1\r\n\r\n",
	    "HTTP/1.1 request without a Host header");
	BAD(ORIGIN, "GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
	    "unsupported scheme 'ftp' in the request target");
	BAD(ORIGIN, "GET http://u:p@h/ HTTP/1.1\r\nHost: h\r\n\r\n",
	    "user information in the request URI is not accepted");
	BAD(ORIGIN, "GET http://h$/ HTTP/1.1\r\nHost: h\r\n\r\n",
	    "invalid host or port in the request URI");

	BAD(ORIGIN, "GET api.github.com:443 HTTP/1.1\r\nHost: h\r\n\r\n",
	    "request target 'api.github.com:443' is not a path, an absolute URI or '*' (host:port is for CONNECT only)");
	BAD(ORIGIN, "CONNECT api.github.com:443 HTTP/1.1\r\nHost: h\r\n\r\n",
	    "CONNECT inside a tunnel is not accepted");
	BAD(ORIGIN, "GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n",
	    "fragment in the request target is not accepted");
	BAD(ORIGIN, "GET /a/../.. HTTP/1.1\r\nHost: h\r\n\r\n",
	    "path '/a/../..' climbs above the root");
	BAD(ORIGIN, "GET /a%zz HTTP/1.1\r\nHost: h\r\n\r\n",
	    "malformed percent-encoding in path '/a%zz'");
}

static void
t_query_split(void)
{
	static const struct {
		const char	*target;
		const char	*canon;
		const char	*query;
	} cases[] = {
		{ "/x", "/x", NULL },
		{ "/x?", "/x", "" },
		{ "/x?a=1&b=%zz&c", "/x", "a=1&b=%zz&c" },     /* raw, unchecked */
		{ "/x??a?b", "/x", "?a?b" },
		{ "/%7Ex/./y?q=/../", "/~x/y", "q=/../" },
		{ "/?", "/", "" },
	};
	size_t	i;

	for (i = 0; i < OS_NELEM(cases); i++) {
		struct proxy_head_error	 e;
		struct proxy_head	 h;
		char			*in;

		in = xprintf("GET %s HTTP/1.1\r\nHost: h\r\n\r\n", cases[i].target);
		CHECK_INT(proxy_head_parse_origin(in, strlen(in), 443, &h, &e), 0);
		CHECK_STR(h.path, cases[i].target);
		CHECK_STR(h.canon_path, cases[i].canon);
		CHECK_STR(h.query, cases[i].query);
		proxy_head_clear(&h);
		free(in);
	}
}

/* ------------------------------------------------------------------------
 * Strictness shared by every head
 */
static void
t_request_line(void)
{
	static const char mal[] = "malformed request line (expected METHOD SP target SP HTTP/1.1)";

	BAD(ORIGIN, "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", mal);
	BAD(ORIGIN, "GET / HTTP/1.1 x\r\nHost: h\r\n\r\n", mal);
	BAD(ORIGIN, " GET / HTTP/1.1\r\nHost: h\r\n\r\n", mal);
	BAD(ORIGIN, "GET /\r\nHost: h\r\n\r\n", mal);
	BAD(ORIGIN, "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", mal);
	BAD(ORIGIN, "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", mal);
	BAD(LISTEN, "GARBAGE\r\n\r\n", mal);
	BAD(ORIGIN, "\r\n\r\n", mal);
	BAD(ORIGIN, "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", "invalid method 'G(T'");
	BAD(ORIGIN, "G\"T / HTTP/1.1\r\nHost: h\r\n\r\n", "invalid method 'G\"T'");
	BAD(ORIGIN, "GET\x7f / HTTP/1.1\r\nHost: h\r\n\r\n", "invalid method 'GET?'");
	BAD(ORIGIN, "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG / HTTP/1.1\r\nHost: h\r\n\r\n",
	    "invalid method 'ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG'");
	BAD(ORIGIN, "GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n", "invalid character in request target");
	BAD(ORIGIN, "GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n", "invalid character in request target");
	BAD(ORIGIN, "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", "invalid character in request target");
	BAD(ORIGIN, "GET /\t HTTP/1.1\r\nHost: h\r\n\r\n", "invalid character in request target");
	BAD(ORIGIN, "GET / http/1.1\r\nHost: h\r\n\r\n", "malformed HTTP version 'http/1.1'");
	BAD(ORIGIN, "GET / HTTP/1.10\r\nHost: h\r\n\r\n", "malformed HTTP version 'HTTP/1.10'");
	BAD(ORIGIN, "GET / HTTP/11\r\nHost: h\r\n\r\n", "malformed HTTP version 'HTTP/11'");
	BAD(ORIGIN, "GET / HTTP/1.x\r\nHost: h\r\n\r\n", "malformed HTTP version 'HTTP/1.x'");
	BAD(ORIGIN, "GET / HTTP/2\r\nHost: h\r\n\r\n", "malformed HTTP version 'HTTP/2'");
	REFUSED(ORIGIN, "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505,
	    "http_version_not_supported",
	    "HTTP version HTTP/2.0 is not supported (HTTP/1.0 and HTTP/1.1 are)");
	REFUSED(ORIGIN, "GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505,
	    "http_version_not_supported",
	    "HTTP version HTTP/1.2 is not supported (HTTP/1.0 and HTTP/1.1 are)");
	REFUSED(ORIGIN, "GET / HTTP/0.9\r\n\r\n", 505,
	    "http_version_not_supported",
	    "HTTP version HTTP/0.9 is not supported (HTTP/1.0 and HTTP/1.1 are)");
	/* The HTTP/2 connection preface, as far as its first empty line. */
	REFUSED(ORIGIN, "PRI * HTTP/2.0\r\n\r\n", 505,
	    "http_version_not_supported",
	    "HTTP version HTTP/2.0 is not supported (HTTP/1.0 and HTTP/1.1 are)");
	REFUSED(LISTEN, "CONNECT h:443 HTTP/3.0\r\n\r\n", 505,
	    "http_version_not_supported",
	    "HTTP version HTTP/3.0 is not supported (HTTP/1.0 and HTTP/1.1 are)");
}

static void
t_line_endings(void)
{
	struct proxy_head	h;

	BAD(ORIGIN, "GET / HTTP/1.1\nHost: h\r\n\r\n",
	    "bare LF in the request line (lines must end with CRLF)");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n",
	    "bare LF in the header section (lines must end with CRLF)");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost: h\r\n\n\r\n\r\n",
	    "bare LF in the header section (lines must end with CRLF)");
	BAD(ORIGIN, "GET / HTTP/1.1\rHost: h\r\n\r\n", "bare CR in the request line");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n",
	    "bare CR in the header section");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost: h\r\n\r\r\n\r\n", "bare CR in the header section");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost: h\r\n",
	    "incomplete head (the header section does not end with CRLF)");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost: h\r\n\r",
	    "incomplete head (the header section does not end with CRLF)");
	BAD(ORIGIN, "GET / HTTP/1.1", "incomplete head (the request line does not end with CRLF)");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET", "bytes after the end of the head");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost: h\r\nX: y\r\n  folded\r\n\r\n",
	    "obsolete line folding is not accepted");
	BAD(ORIGIN, "GET / HTTP/1.1\r\n\tHost: h\r\n\r\n", "obsolete line folding is not accepted");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost: h\r\nX-Nul: a\0b\r\n\r\n", "NUL byte in request head");
	BAD(ORIGIN, "GET /\0 HTTP/1.1\r\nHost: h\r\n\r\n", "NUL byte in request head");
	BAD(LISTEN, "CONNECT h:443\0 HTTP/1.1\r\n\r\n", "NUL byte in request head");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n", "control character in header field 'X'");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n", "control character in header field 'X'");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost: h\r\nX-Y:\x0b v\r\n\r\n", "control character in header field 'X-Y'");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", "header line without a colon: 'NoColon'");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", "header line with an empty field name");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost: h\r\nX Y: v\r\n\r\n", "invalid character in header field name 'X Y'");
	BAD(ORIGIN, "GET / HTTP/1.1\r\nHost: h\r\nX\x80: v\r\n\r\n", "invalid character in header field name 'X?'");

	/* Tabs and obs-text in values are fine, and kept. */
	ACCEPT(ORIGIN, "GET / HTTP/1.1\r\nHost: h\r\nX: a\tb \xfe\r\n\r\n", &h);
	CHECK_STR(h.rewritten, "GET / HTTP/1.1\r\nHost: h\r\nX: a\tb \xfe\r\n\r\n");
	proxy_head_clear(&h);
}

static void
t_content_length(void)
{
	static const struct {
		const char	*value;
		long long	 cl;           /* -1: refused with detail */
		const char	*detail;
	} cases[] = {
		{ "5", 5, NULL },
		{ "0", 0, NULL },
		{ "  7  ", 7, NULL },
		{ "0005", 5, NULL },
		{ "999999999999999999", 999999999999999999LL, NULL },
		{ "", -1, "empty Content-Length" },
		{ "5, 5", -1, "Content-Length with several values ('5, 5')" },
		{ "5,", -1, "Content-Length with several values ('5,')" },
		{ "+5", -1, "invalid Content-Length '+5'" },
		{ "-1", -1, "invalid Content-Length '-1'" },
		{ "5 5", -1, "invalid Content-Length '5 5'" },
		{ "0x5", -1, "invalid Content-Length '0x5'" },
		{ "5;", -1, "invalid Content-Length '5;'" },
		{ "1e3", -1, "invalid Content-Length '1e3'" },
		{ "1234567890123456789", -1, "Content-Length '1234567890123456789' is too large" },
		{ "18446744073709551621", -1, "Content-Length '18446744073709551621' is too large" },
		{ "\t5", -1, "tab in Content-Length (only spaces may surround the value)" },
		{ "5\t", -1, "tab in Content-Length (only spaces may surround the value)" },
	};
	struct proxy_head	 h;
	size_t			 i;

	for (i = 0; i < OS_NELEM(cases); i++) {
		struct proxy_head_error	 e;
		char			*in;
		int			 rc;

		in = xprintf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:%s\r\n\r\n",
		    cases[i].value);
		rc = proxy_head_parse_origin(in, strlen(in), 443, &h, &e);
		if (cases[i].cl >= 0) {
			CHECK_INT(rc, 0);
			CHECK_INT(h.content_length, cases[i].cl);
			CHECK_INT(h.body, cases[i].cl > 0 ? PROXY_BODY_LENGTH :
			    PROXY_BODY_NONE);
			proxy_head_clear(&h);
		} else
			REFUSED_N(ORIGIN, in, strlen(in), 400, "bad_request",
			    cases[i].detail);
		free(in);
	}

	/* The same value twice is one value (RFC 9112 6.3); two are not. */
	ACCEPT(ORIGIN, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", &h);
	CHECK_INT(h.content_length, 5);
	proxy_head_clear(&h);
	BAD(ORIGIN, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
	    "conflicting Content-Length headers (5 and 6)");
	BAD(ORIGIN, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nContent-Length: 00\r\nContent-Length: 1\r\n\r\n",
	    "conflicting Content-Length headers (0 and 1)");
}

static void
t_transfer_encoding(void)
{
	static const char one[] = "(only a single \"chunked\" is accepted)";
	static const struct {
		const char	*value;
		const char	*detail;       /* NULL: chunked */
	} cases[] = {
		{ " chunked", NULL },
		{ "Chunked", NULL },
		{ "CHUNKED   ", NULL },
		{ "chunked", NULL },
		{ " chunked, identity", "unsupported Transfer-Encoding 'chunked, identity'" },
		{ " identity", "unsupported Transfer-Encoding 'identity'" },
		{ " gzip, chunked", "unsupported Transfer-Encoding 'gzip, chunked'" },
		{ " xchunked", "unsupported Transfer-Encoding 'xchunked'" },
		{ " chunkedx", "unsupported Transfer-Encoding 'chunkedx'" },
		{ " chunked;q=1", "unsupported Transfer-Encoding 'chunked;q=1'" },
		{ " chunked,", "unsupported Transfer-Encoding 'chunked,'" },
		{ " \"chunked\"", "unsupported Transfer-Encoding '\"chunked\"'" },
		{ " chun ked", "unsupported Transfer-Encoding 'chun ked'" },
		{ "", "empty Transfer-Encoding" },
		{ "\tchunked", "tab in Transfer-Encoding (only spaces may surround the value)" },
		{ " chunked\t", "tab in Transfer-Encoding (only spaces may surround the value)" },
	};
	size_t	i;

	for (i = 0; i < OS_NELEM(cases); i++) {
		struct proxy_head_error	 e;
		struct proxy_head	 h;
		char			*in, *detail;

		in = xprintf("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:%s\r\n\r\n",
		    cases[i].value);
		if (cases[i].detail == NULL) {
			CHECK_INT(proxy_head_parse_origin(in, strlen(in), 443, &h, &e), 0);
			CHECK_INT(h.body, PROXY_BODY_CHUNKED);
			CHECK_STR(h.rewritten, in);
			proxy_head_clear(&h);
		} else {
			detail = strncmp(cases[i].detail, "unsupported", 11) == 0 ?
			    xprintf("%s %s", cases[i].detail, one) :
			    xstrdup(cases[i].detail);
			REFUSED_N(ORIGIN, in, strlen(in), 400, "bad_request", detail);
			free(detail);
		}
		free(in);
	}
	BAD(ORIGIN, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "more than one Transfer-Encoding header (only a single \"chunked\" is accepted)");
	BAD(ORIGIN, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "Transfer-Encoding in an HTTP/1.0 message");
	BAD(ORIGIN, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n",
	    "invalid character in header field name 'Transfer-Encoding '");
}

/* ------------------------------------------------------------------------
 * Request smuggling
 */
static void
t_smuggling_classics(void)
{
	static const char both[] = "both Content-Length and Transfer-Encoding";

	/* CL.TE and TE.CL: whichever comes first. */
	BAD(ORIGIN, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n", both);
	BAD(ORIGIN, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", both);
	BAD(LISTEN, "POST http://h/ HTTP/1.1\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n", both);
	BAD(ORIGIN, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n", both);

	/* TE.TE: obfuscations that one parser honours and another ignores. */
	BAD(ORIGIN, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n",
	    "more than one Transfer-Encoding header (only a single \"chunked\" is accepted)");
	BAD(ORIGIN, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\nContent-Length: 4\r\n\r\n",
	    "unsupported Transfer-Encoding 'xchunked' (only a single \"chunked\" is accepted)");
	BAD(ORIGIN, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\tchunked\r\nContent-Length: 4\r\n\r\n",
	    "tab in Transfer-Encoding (only spaces may surround the value)");
	BAD(ORIGIN, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding\t: chunked\r\n\r\n",
	    "invalid character in header field name 'Transfer-Encoding?'");
	BAD(ORIGIN, "POST / HTTP/1.1\r\nHost: h\r\n Transfer-Encoding: chunked\r\n\r\n",
	    "obsolete line folding is not accepted");
	BAD(ORIGIN, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n chunked\r\n\r\n",
	    "obsolete line folding is not accepted");
	BAD(ORIGIN, "POST / HTTP/1.1\r\nHost: h\r\nX: y\nTransfer-Encoding: chunked\r\n\r\n",
	    "bare LF in the header section (lines must end with CRLF)");
	BAD(ORIGIN, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\x0b\r\n\r\n",
	    "control character in header field 'Transfer-Encoding'");
	BAD(ORIGIN, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \0chunked\r\n\r\n",
	    "NUL byte in request head");
}

/* Transfer_Encoding is a different (valid) field name: it is forwarded,
 * framing follows Content-Length, and nobody treats it as TE. */
static void
t_smuggling_lookalikes(void)
{
	struct proxy_head	h;

	ACCEPT(ORIGIN, "POST / HTTP/1.1\r\nHost: h\r\nTransfer_Encoding: chunked\r\nContent-Length: 4\r\n\r\n", &h);
	CHECK_INT(h.body, PROXY_BODY_LENGTH);
	CHECK_INT(h.content_length, 4);
	proxy_head_clear(&h);
}

/* Pipelined requests: each head and body ends exactly where it should. */
static void
t_pipelined(void)
{
	static const char	 cl[] = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n"
	    "hello"
	    "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char	 ch[] = "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n0\r\n\r\n"
	    "GET /b HTTP/1.1\r\nHost: h\r\n\r\n"
	    "DELETE /c HTTP/1.1\r\nHost: h\r\n\r\n";
	struct proxy_head_error	 e;
	struct proxy_head	 h;
	struct proxy_chunked	 c;
	size_t			 end, off, n;

	end = proxy_head_end(LIT(cl));
	CHECK_INT(end, 48);
	CHECK_INT(proxy_head_parse_origin(cl, end, 443, &h, &e), 0);
	CHECK_INT(h.body, PROXY_BODY_LENGTH);
	off = end + h.content_length;
	proxy_head_clear(&h);
	CHECK_INT(proxy_head_end(cl + off, sizeof cl - 1 - off), sizeof cl - 1 - off);
	CHECK_INT(proxy_head_parse_origin(cl + off, sizeof cl - 1 - off, 443, &h, &e), 0);
	CHECK_STR(h.canon_path, "/b");
	proxy_head_clear(&h);

	/* Parsing the whole buffer as one head is refused, not guessed. */
	BAD(ORIGIN, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
	    "bytes after the end of the head");

	end = proxy_head_end(LIT(ch));
	CHECK_INT(proxy_head_parse_origin(ch, end, 443, &h, &e), 0);
	CHECK_INT(h.body, PROXY_BODY_CHUNKED);
	proxy_head_clear(&h);
	proxy_chunked_init(&c);
	n = proxy_chunked_feed(&c, ch + end, sizeof ch - 1 - end);
	CHECK(c.done && !c.error);
	CHECK_INT(n, strlen("5\r\nhello\r\n0\r\n\r\n"));
	off = end + n;
	end = proxy_head_end(ch + off, sizeof ch - 1 - off);
	CHECK_INT(proxy_head_parse_origin(ch + off, end, 443, &h, &e), 0);
	CHECK_STR(h.method, "GET");
	CHECK_STR(h.canon_path, "/b");
	CHECK_INT(h.body, PROXY_BODY_NONE);
	proxy_head_clear(&h);
	off += end;
	end = proxy_head_end(ch + off, sizeof ch - 1 - off);
	CHECK_INT(off + end, sizeof ch - 1);
	CHECK_INT(proxy_head_parse_origin(ch + off, end, 443, &h, &e), 0);
	CHECK_STR(h.method, "DELETE");
	proxy_head_clear(&h);

	/* TE.CL as a pipelining trick: the "body" 0\r\n\r\n ends the first
	 * message, and the smuggled GET is a request of its own, decided
	 * on its own. */
	{
		static const char t[] = "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: h\r\n\r\n";

		proxy_chunked_init(&c);
		CHECK_INT(proxy_chunked_feed(&c, LIT(t)), 5);
		CHECK(c.done);
		CHECK_INT(proxy_chunked_feed(&c, t + 5, sizeof t - 6), 0);
	}
}

static void
t_head_scan(void)
{
	struct proxy_head_error	e;

	CHECK_INT(proxy_head_scan(LIT("GET / HTTP/1.1\r\nHost: h\r\n\r\nGET"), 100, &e), 27);
	CHECK_INT(proxy_head_scan(LIT("GET / HTTP/1.1\r\nHost: h\r\n\r"), 100, &e), 0);
	CHECK_INT(proxy_head_scan(LIT("GET / HTTP/1.1\r"), 100, &e), 0);
	CHECK_INT(proxy_head_scan(LIT(""), 100, &e), 0);
	CHECK_INT(proxy_head_scan(LIT("GET / HTTP/1.1\nHost"), 100, &e), -EINVAL);
	CHECK_INT(e.status, 400);
	CHECK_STR(e.detail, "bare LF in the head (lines must end with CRLF)");
	CHECK_INT(proxy_head_scan(LIT("GET / HTTP/1.1\rHost"), 100, &e), -EINVAL);
	CHECK_STR(e.detail, "bare CR in the head");
	CHECK_INT(proxy_head_scan(LIT("GET /\0"), 100, &e), -EINVAL);
	CHECK_STR(e.detail, "NUL byte in the head");
	/* A bare LF after the end belongs to the next message. */
	CHECK_INT(proxy_head_scan(LIT("A\r\n\r\n\n"), 100, &e), 5);
	/* The limit: an end at exactly max bytes is fine, one past is not. */
	CHECK_INT(proxy_head_scan(LIT("GET / HTTP/1.1\r\n\r\n"), 18, &e), 18);
	CHECK_INT(proxy_head_scan(LIT("GET / HTTP/1.1\r\n\r\n"), 17, &e), -EINVAL);
	CHECK_INT(e.status, 431);
	CHECK_STR(e.error, "headers_too_large");
	CHECK_STR(e.detail, "head larger than 17 bytes");
	CHECK_INT(proxy_head_scan(LIT("GET / HTTP/1.1\r\n"), 16, &e), -EINVAL);
	CHECK_INT(proxy_head_scan(LIT("GET / HTTP/1.1\r\n"), 17, &e), 0);
}

/* ------------------------------------------------------------------------
 * Canonical paths
 */
static void
t_canon_paths(void)
{
	static const struct {
		const char	*in;
		const char	*canon;       /* NULL: refused with detail */
		const char	*detail;
		bool		 encoded_slash;
	} cases[] = {
		{ "/", "/", NULL, false },
		{ "/a/b", "/a/b", NULL, false },
		{ "/a/b/", "/a/b/", NULL, false },
		{ "//a///b//", "/a/b/", NULL, false },
		{ "//", "/", NULL, false },
		{ "/a/./b", "/a/b", NULL, false },
		{ "/a/../b", "/b", NULL, false },
		{ "/a/b/..", "/a/", NULL, false },
		{ "/a/b/.", "/a/b/", NULL, false },
		{ "/.", "/", NULL, false },
		{ "/./", "/", NULL, false },
		{ "/a/..", "/", NULL, false },
		{ "/a//../b", "/b", NULL, false },
		{ "/a/.../b", "/a/.../b", NULL, false },
		{ "/...;x", "/...;x", NULL, false },
		{ "/.x/..y", "/.x/..y", NULL, false },
		{ "/a/%2e/b", "/a/b", NULL, false },
		{ "/a/%2E%2e/b", "/b", NULL, false },
		{ "/a/.%2e/b", "/b", NULL, false },
		{ "/%41%42%63%7e%2D%5f", "/ABc~-_", NULL, false },
		{ "/a%2fb", "/a%2Fb", NULL, true },
		{ "/a%2Fb/../c", "/c", NULL, false },
		{ "/a/..%2F..%2Fetc", "/a/..%2F..%2Fetc", NULL, true },
		{ "/a/%2e%2e%2f%2e%2e%2fetc", "/a/..%2F..%2Fetc", NULL, true },
		{ "/%25", "/%25", NULL, false },
		{ "/%252e%252e/", "/%252e%252e/", NULL, false },
		{ "/a%3bb%3D", "/a%3Bb%3D", NULL, false },
		{ "/a;b/c;d=1", "/a;b/c;d=1", NULL, false },
		{ "/a:b@c!$&'()*+,;=", "/a:b@c!$&'()*+,;=", NULL, false },
		{ "/%00", "/%00", NULL, false },
		{ "/%c3%a9", "/%C3%A9", NULL, false },
		{ "/a\"b", "/a%22b", NULL, false },
		{ "/a\\b", "/a%5Cb", NULL, false },
		{ "/{x}|^`<>[]", "/%7Bx%7D%7C%5E%60%3C%3E%5B%5D", NULL, false },
		{ "/..", NULL, "path '/..' climbs above the root", false },
		{ "/../a", NULL, "path '/../a' climbs above the root", false },
		{ "/a/../../b", NULL, "path '/a/../../b' climbs above the root", false },
		{ "/%2e%2e/x", NULL, "path '/%2e%2e/x' climbs above the root", false },
		{ "//..", NULL, "path '//..' climbs above the root", false },
		{ "/..;/admin", NULL, "dot segment with parameters in path '/..;/admin'", false },
		{ "/a/.;x/b", NULL, "dot segment with parameters in path '/a/.;x/b'", false },
		{ "/a/%2e%2e;/b", NULL, "dot segment with parameters in path '/a/%2e%2e;/b'", false },
		{ "/a/..%3b/b", "/a/..%3B/b", NULL, false },
		{ "/%zz", NULL, "malformed percent-encoding in path '/%zz'", false },
		{ "/%4", NULL, "malformed percent-encoding in path '/%4'", false },
		{ "/%", NULL, "malformed percent-encoding in path '/%'", false },
		{ "/a b", NULL, "control, space or non-ASCII byte in path", false },
		{ "/\xc3\xa9", NULL, "control, space or non-ASCII byte in path", false },
		{ "/a?b", NULL, "'?' in path '/a?b'", false },
		{ "/a#b", NULL, "'#' in path '/a#b'", false },
		{ "a/b", NULL, "path 'a/b' does not start with '/'", false },
		{ "", NULL, "path '' does not start with '/'", false },
	};
	size_t	i;

	for (i = 0; i < OS_NELEM(cases); i++) {
		struct proxy_head_error	 e;
		char			*out, *again;
		bool			 es, es2;
		int			 rc;

		memset(&e, 0, sizeof e);
		rc = proxy_head_canon_path(cases[i].in, strlen(cases[i].in),
		    &out, &es, &e);
		if (cases[i].canon == NULL) {
			CHECK_INT(rc, -EINVAL);
			CHECK(out == NULL);
			CHECK_INT(e.status, 400);
			CHECK_STR(e.error, "bad_request");
			CHECK_STR(e.detail, cases[i].detail);
			continue;
		}
		CHECK_INT(rc, 0);
		CHECK_STR(out, cases[i].canon);
		CHECK_INT(es, cases[i].encoded_slash);
		if (out == NULL)
			continue;
		/* Idempotent. */
		CHECK_INT(proxy_head_canon_path(out, strlen(out), &again, &es2, &e), 0);
		CHECK_STR(again, out);
		CHECK_INT(es2, es);
		free(again);
		free(out);
	}
}

/* The rewrite carries the canonical target: the upstream sees exactly
 * the path that was decided. */
static void
t_canon_on_the_wire(void)
{
	struct proxy_head	h;

	ACCEPT(ORIGIN, "GET /public/%2e%2e/admin?x=%2e%2e HTTP/1.1\r\nHost: h\r\n\r\n", &h);
	CHECK_STR(h.path, "/public/%2e%2e/admin?x=%2e%2e");
	CHECK_STR(h.canon_path, "/admin");
	CHECK_STR(h.query, "x=%2e%2e");
	CHECK_STR(h.rewritten, "GET /admin?x=%2e%2e HTTP/1.1\r\nHost: h\r\n\r\n");
	proxy_head_clear(&h);

	ACCEPT(ORIGIN, "GET //repos//a%2fb/%7Bid%7d HTTP/1.1\r\nHost: h\r\n\r\n", &h);
	CHECK_STR(h.canon_path, "/repos/a%2Fb/%7Bid%7D");
	CHECK(h.encoded_slash);
	CHECK_STR(h.rewritten, "GET /repos/a%2Fb/%7Bid%7D HTTP/1.1\r\nHost: h\r\n\r\n");
	proxy_head_clear(&h);
}

/* ------------------------------------------------------------------------
 * Responses
 */
static void
t_response_framing(void)
{
	static const struct proxy_head	 get = { .kind = PROXY_HEAD_ORIGIN, .method = (char *)"GET" };
	static const struct proxy_head	 head = { .kind = PROXY_HEAD_ORIGIN, .method = (char *)"HEAD" };
	static const struct proxy_head	 ws = { .kind = PROXY_HEAD_ORIGIN, .method = (char *)"GET", .upgrade = true };
	static const struct proxy_head	 conn = { .kind = PROXY_HEAD_CONNECT, .method = (char *)"CONNECT" };
	static const struct {
		const struct proxy_head	*req;
		const char		*resp;
		enum proxy_resp_body	 body;
		long long		 cl;
		bool			 keep_alive, upgrade, interim;
	} cases[] = {
		{ &get, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", PROXY_RESP_LENGTH, 5, true, false, false },
		{ &get, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", PROXY_RESP_NONE, 0, true, false, false },
		{ &get, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", PROXY_RESP_CHUNKED, 0, true, false, false },
		{ &get, "HTTP/1.1 200 OK\r\n\r\n", PROXY_RESP_CLOSE, 0, false, false, false },
		{ &get, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n", PROXY_RESP_CLOSE, 0, false, false, false },
		{ &get, "HTTP/1.0 200 OK\r\n\r\n", PROXY_RESP_CLOSE, 0, false, false, false },
		{ &get, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n", PROXY_RESP_LENGTH, 2, false, false, false },
		{ &get, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n", PROXY_RESP_LENGTH, 2, false, false, false },
		{ &get, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n", PROXY_RESP_LENGTH, 2, true, false, false },
		{ &get, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n", PROXY_RESP_LENGTH, 9, true, false, false },
		{ &head, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", PROXY_RESP_NONE, 100, true, false, false },
		{ &head, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", PROXY_RESP_NONE, 0, true, false, false },
		{ &head, "HTTP/1.1 200 OK\r\n\r\n", PROXY_RESP_NONE, 0, true, false, false },
		{ &get, "HTTP/1.1 204 No Content\r\n\r\n", PROXY_RESP_NONE, 0, true, false, false },
		{ &get, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", PROXY_RESP_NONE, 0, true, false, false },
		{ &get, "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n", PROXY_RESP_NONE, 100, true, false, false },
		{ &get, "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", PROXY_RESP_NONE, 0, true, false, false },
		{ &get, "HTTP/1.1 100 Continue\r\n\r\n", PROXY_RESP_NONE, 0, true, false, true },
		{ &get, "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n", PROXY_RESP_NONE, 0, true, false, true },
		{ &ws, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", PROXY_RESP_NONE, 0, false, true, false },
		{ &ws, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", PROXY_RESP_NONE, 0, true, false, false },
		{ &conn, "HTTP/1.1 200 Connection Established\r\n\r\n", PROXY_RESP_NONE, 0, false, true, false },
		{ &conn, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n", PROXY_RESP_NONE, 0, true, false, false },
		{ NULL, "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\n", PROXY_RESP_LENGTH, 1, true, false, false },
	};
	size_t	i;

	for (i = 0; i < OS_NELEM(cases); i++) {
		struct proxy_head_error	 e;
		struct proxy_response	 r;
		int			 rc;

		rc = proxy_head_parse_response(cases[i].resp,
		    strlen(cases[i].resp), cases[i].req, &r, &e);
		if (rc != 0) {
			char *m = xprintf("case %zu refused: %s", i, e.detail);

			tap_fail_at(__FILE__, __LINE__, m);
			free(m);
			continue;
		}
		if (r.body != cases[i].body ||
		    (long long)r.content_length != cases[i].cl ||
		    r.keep_alive != cases[i].keep_alive ||
		    r.upgrade != cases[i].upgrade ||
		    r.interim != cases[i].interim) {
			char *s = esc(cases[i].resp, strlen(cases[i].resp));
			char *m = xprintf("case %zu %s: body %d cl %llu keep %d upgrade %d interim %d",
			    i, s, r.body, (unsigned long long)r.content_length,
			    r.keep_alive, r.upgrade, r.interim);

			tap_fail_at(__FILE__, __LINE__, m);
			free(m);
			free(s);
		}
		proxy_response_clear(&r);
	}
}

static void
t_response_refused(void)
{
	static const struct proxy_head	 get = { .kind = PROXY_HEAD_ORIGIN, .method = (char *)"GET" };
	struct proxy_head_error		 e;
	struct proxy_response		 r;
	struct os_buf			 b = OS_BUF_INIT;
	char				*s;
	int				 i;

	BAD_RESP("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "both Content-Length and Transfer-Encoding");
	BAD_RESP("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\n",
	    "conflicting Content-Length headers (5 and 50)");
	BAD_RESP("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n",
	    "Content-Length with several values ('5, 5')");
	BAD_RESP("HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", "invalid Content-Length '-5'");
	BAD_RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	    "unsupported Transfer-Encoding 'gzip, chunked' (only a single \"chunked\" is accepted)");
	BAD_RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n",
	    "unsupported Transfer-Encoding 'identity' (only a single \"chunked\" is accepted)");
	BAD_RESP("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "Transfer-Encoding in an HTTP/1.0 message");
	BAD_RESP("HTTP/1.1 200 OK\r\nConnection: content-length\r\nContent-Length: 5\r\n\r\n",
	    "Connection header names a framing field");
	/* Even where the framing fields describe no body, they must parse. */
	BAD_RESP("HTTP/1.1 304 Not Modified\r\nContent-Length: x\r\n\r\n", "invalid Content-Length 'x'");
	BAD_RESP("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", "204 response with a body");
	BAD_RESP("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n", "204 response with a body");
	BAD_RESP("HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\n", "100 response with a body");
	BAD_RESP("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
	    "101 Switching Protocols to a request that asked for no upgrade");
	BAD_RESP("HTTP/2 200 OK\r\n\r\n", "malformed status line 'HTTP/2 200 OK'");
	BAD_RESP("HTTP/1.1 20 OK\r\n\r\n", "malformed status line 'HTTP/1.1 20 OK'");
	BAD_RESP("HTTP/1.1 200OK\r\n\r\n", "malformed status line 'HTTP/1.1 200OK'");
	BAD_RESP("HTTP/1.1  200 OK\r\n\r\n", "malformed status line 'HTTP/1.1  200 OK'");
	BAD_RESP("http/1.1 200 OK\r\n\r\n", "malformed status line 'http/1.1 200 OK'");
	BAD_RESP("ICY 200 OK\r\n\r\n", "malformed status line 'ICY 200 OK'");
	BAD_RESP("HTTP/1.2 200 OK\r\n\r\n", "unsupported HTTP version HTTP/1.2 in the response");
	BAD_RESP("HTTP/2.0 200 OK\r\n\r\n", "unsupported HTTP version HTTP/2.0 in the response");
	BAD_RESP("HTTP/1.1 099 Low\r\n\r\n", "status code 99 out of range");
	BAD_RESP("HTTP/1.1 600 High\r\n\r\n", "status code 600 out of range");
	BAD_RESP("HTTP/1.1 200 O\x01K\r\n\r\n", "control character in the reason phrase");
	BAD_RESP("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
	    "bare LF in the status line (lines must end with CRLF)");
	BAD_RESP("HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n",
	    "bare LF in the header section (lines must end with CRLF)");
	BAD_RESP("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", "bare CR in the header section");
	BAD_RESP("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", "obsolete line folding is not accepted");
	BAD_RESP("HTTP/1.1 200 OK\r\nX: a\0\r\n\r\n", "NUL byte in response head");
	BAD_RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding : chunked\r\n\r\n",
	    "invalid character in header field name 'Transfer-Encoding '");

	/* 101 needs the request's upgrade and its own headers. */
	{
		static const struct proxy_head ws = { .kind = PROXY_HEAD_ORIGIN,
		    .method = (char *)"GET", .upgrade = true };

		CHECK_INT(proxy_head_parse_response(LIT("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"),
		    &ws, &r, &e), -EINVAL);
		CHECK_INT(e.status, 502);
		CHECK_STR(e.detail, "101 Switching Protocols without HTTP/1.1, Connection: upgrade and Upgrade: websocket");
		CHECK_INT(proxy_head_parse_response(LIT("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"),
		    &ws, &r, &e), -EINVAL);
		CHECK_INT(proxy_head_parse_response(LIT("HTTP/1.0 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"),
		    &ws, &r, &e), -EINVAL);
	}

	/* Sizes. */
	s = sized_head("HTTP/1.1 200 OK\r\n", PROXY_HEAD_MAX);
	CHECK_INT(proxy_head_parse_response(s, strlen(s), &get, &r, &e), 0);
	proxy_response_clear(&r);
	free(s);
	s = sized_head("HTTP/1.1 200 OK\r\n", PROXY_HEAD_MAX + 1);
	REFUSED_N(RESPONSE, s, strlen(s), 502, "bad_upstream_response",
	    "response head larger than 16384 bytes");
	free(s);
	os_buf_adds(&b, "HTTP/1.1 200 OK\r\n");
	for (i = 0; i <= PROXY_HEAD_MAX_FIELDS; i++)
		os_buf_addf(&b, "X-%d: v\r\n", i);
	os_buf_adds(&b, "\r\n");
	REFUSED_N(RESPONSE, b.data, b.len, 502, "bad_upstream_response",
	    "more than 100 header fields");
	os_buf_free(&b);
}

static void
t_response_rewrite(void)
{
	static const struct proxy_head	 get = { .kind = PROXY_HEAD_ORIGIN, .method = (char *)"GET" };
	static const struct proxy_head	 ws = { .kind = PROXY_HEAD_ORIGIN, .method = (char *)"GET", .upgrade = true };
	static const char		 plain[] = "HTTP/1.1 200 OK\r\n"
	    "Server: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
	    "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Odd:  \tv \r\n\r\n";
	static const char		 up[] = "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
	struct proxy_response		 r;

	ACCEPT_RESP(plain, &get, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.reason, "OK");
	CHECK_INT(r.version, 11);
	CHECK_STR(r.rewritten, plain);
	proxy_response_clear(&r);

	ACCEPT_RESP("HTTP/1.1 200 OK\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\n"
	    "Proxy-Authenticate: Basic\r\nTrailer: X-T\r\nUpgrade: h2\r\nProxy-Connection: close\r\n"
	    "Transfer-Encoding: chunked\r\nX-End: 2\r\n\r\n", &get, &r);
	CHECK_INT(r.body, PROXY_RESP_CHUNKED);
	CHECK(!r.keep_alive);
	CHECK_STR(r.rewritten, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-End: 2\r\nConnection: close\r\n\r\n");
	proxy_response_clear(&r);

	/* Read until close: the client is told. */
	ACCEPT_RESP("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", &get, &r);
	CHECK_STR(r.rewritten, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n");
	proxy_response_clear(&r);
	ACCEPT_RESP("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n", &get, &r);
	CHECK_STR(r.rewritten, "HTTP/1.0 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\n");
	proxy_response_clear(&r);
	ACCEPT_RESP("HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n", &get, &r);
	CHECK_STR(r.rewritten, "HTTP/1.1 100 Continue\r\n\r\n");
	proxy_response_clear(&r);
	ACCEPT_RESP("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", &get, &r);
	CHECK_STR(r.reason, "");
	CHECK_STR(r.rewritten, "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n");
	proxy_response_clear(&r);

	ACCEPT_RESP(up, &ws, &r);
	CHECK(r.upgrade);
	CHECK_STR(r.rewritten, up);
	proxy_response_clear(&r);
}

/* ------------------------------------------------------------------------
 * Chunked bodies
 */
struct chunk_case {
	const char	*in;
	size_t		 len;
	size_t		 consumed;
	bool		 done;
	const char	*why;          /* NULL: no error */
};

/* Feeds c whole, then in two pieces at every split, then byte by byte:
 * the result must never depend on how the bytes arrived. */
static char *
chunk_mismatch(const struct chunk_case *k)
{
	struct proxy_chunked	c;
	size_t			split, n, i;

	for (split = 0; split <= k->len + 1; split++) {
		proxy_chunked_init(&c);
		if (split <= k->len) {
			n = proxy_chunked_feed(&c, k->in, split);
			if (n < split && !c.done && !c.error)
				return xprintf("split %zu: stopped early", split);
			n += proxy_chunked_feed(&c, k->in + n, k->len - n);
		} else {
			for (n = 0, i = 0; i < k->len; i++)
				n += proxy_chunked_feed(&c, k->in + i, 1);
		}
		if (n != k->consumed || c.done != k->done ||
		    c.error != (k->why != NULL) || c.consumed != n ||
		    (k->why != NULL && (c.why == NULL ||
		    strcmp(c.why, k->why) != 0)))
			return xprintf("split %zu: consumed %zu done %d error %d (%s)",
			    split, n, c.done, c.error,
			    c.why != NULL ? c.why : "-");
		if ((c.done || c.error) && proxy_chunked_feed(&c, "0\r\n", 3) != 0)
			return xprintf("fed after the end");
	}
	return NULL;
}

#define CH_OK(s, n)	{ LIT(s), n, true, NULL }
#define CH_MORE(s)	{ LIT(s), sizeof(s) - 1, false, NULL }
#define CH_BAD(s, n, w)	{ LIT(s), n, false, w }

static void
t_chunked(void)
{
	static const struct chunk_case cases[] = {
		CH_OK("0\r\n\r\n", 5),
		CH_OK("5\r\nhello\r\n0\r\n\r\n", 15),
		CH_OK("5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n", 15),
		CH_OK("5\r\nhe\r\n\r\r\n6\r\n world\r\n0\r\n\r\n", 26),
		CH_OK("A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n", 35),
		CH_OK("5;ext=1\r\nhello\r\n0\r\n\r\n", 21),
		CH_OK("5 ;ext\r\nhello\r\n0;last\r\n\r\n", 25),
		CH_OK("5\t; a=\"q;\\\"x\"\r\nhello\r\n0\r\n\r\n", 27),
		CH_OK("0000000000000005\r\nhello\r\n0\r\n\r\n", 30),
		CH_OK("0\r\nX-Trailer: v\r\n\r\n", 19),
		CH_OK("0\r\nX-A: v\r\nY:\r\n\r\nNEXT", 17),
		CH_OK("0\r\nX: \tobs\xfftext\r\n\r\n", 19),
		CH_MORE("5\r\nhel"),
		CH_MORE("FFFFFFFFFFFFFFFF\r\n"),
		CH_MORE("0\r\nX: v\r\n"),
		CH_BAD("", 0, NULL),
		CH_BAD("5 \r\nhello", 2, "whitespace after the chunk size not followed by ';'"),
		CH_BAD("5 x\r\n", 2, "whitespace after the chunk size not followed by ';'"),
		CH_BAD("g\r\n", 0, "chunk size is not hexadecimal"),
		CH_BAD("-5\r\n", 0, "chunk size is not hexadecimal"),
		CH_BAD(";x\r\n", 0, "chunk size is not hexadecimal"),
		CH_BAD("\r\n", 0, "chunk size is not hexadecimal"),
		CH_BAD("0x5\r\n", 1, "invalid character after the chunk size"),
		CH_BAD("5\nhello", 1, "bare LF in the chunk size line"),
		CH_BAD("5;x\nhello", 3, "bare LF in the chunk size line"),
		CH_BAD("5\rhello", 2, "bare CR in the chunk size line"),
		CH_BAD("5;a\x01\r\n", 3, "control character in a chunk extension"),
		CH_BAD("10000000000000000\r\n", 16, "chunk size has more than 16 hex digits"),
		CH_BAD("00000000000000005\r\n", 16, "chunk size has more than 16 hex digits"),
		CH_BAD("5\r\nhelloX\r\n", 8, "chunk data not followed by CRLF"),
		CH_BAD("5\r\nhello\n0\r\n\r\n", 8, "chunk data not followed by CRLF"),
		CH_BAD("5\r\nhello\r0\r\n\r\n", 9, "chunk data not followed by CRLF"),
		CH_BAD("3\r\nhello\r\n", 6, "chunk data not followed by CRLF"),
		CH_BAD("0\r\n X: folded\r\n\r\n", 3, "malformed trailer field"),
		CH_BAD("0\r\n\n", 3, "malformed trailer field"),
		CH_BAD("0\r\nbad line\r\n\r\n", 6, "malformed trailer field"),
		CH_BAD("0\r\nX\r\n\r\n", 4, "malformed trailer field"),
		CH_BAD("0\r\nX: a\x01\r\n\r\n", 7, "control character in a trailer field"),
		CH_BAD("0\r\nX: a\n\r\n", 7, "bare LF in the trailer section"),
		CH_BAD("0\r\nX: a\rb\r\n\r\n", 8, "bare CR in the trailer section"),
		CH_BAD("0\r\n\r\r", 4, "bare CR at the end of the body"),
		CH_BAD("0\r\n\rX", 4, "bare CR at the end of the body"),
	};
	size_t	i;

	for (i = 0; i < OS_NELEM(cases); i++) {
		char	*m = chunk_mismatch(&cases[i]);

		if (m != NULL) {
			char *s = esc(cases[i].in, cases[i].len);
			char *full = xprintf("%s: %s", s, m);

			tap_fail_at(__FILE__, __LINE__, full);
			free(full);
			free(s);
			free(m);
		}
	}
}

static void
t_chunked_bounds(void)
{
	struct proxy_chunked	 c;
	struct os_buf		 b = OS_BUF_INIT;
	size_t			 n;
	int			 i;

	/* The largest chunk size is tracked exactly, without overflow. */
	proxy_chunked_init(&c);
	CHECK_INT(proxy_chunked_feed(&c, LIT("FFFFFFFFFFFFFFFF\r\nabc")), 21);
	CHECK(c.left == UINT64_MAX - 3);
	CHECK(!c.done && !c.error);

	/* Extensions: accepted up to 4096 bytes of size line. */
	os_buf_adds(&b, "5;");
	while (b.len < 4096)
		os_buf_addc(&b, 'x');
	os_buf_adds(&b, "\r\nhello\r\n0\r\n\r\n");
	proxy_chunked_init(&c);
	CHECK_INT(proxy_chunked_feed(&c, b.data, b.len), b.len);
	CHECK(c.done);
	os_buf_reset(&b);
	os_buf_adds(&b, "5;");
	while (b.len < 4097)
		os_buf_addc(&b, 'x');
	os_buf_adds(&b, "\r\n");
	proxy_chunked_init(&c);
	CHECK_INT(proxy_chunked_feed(&c, b.data, b.len), 4096);
	CHECK(c.error);
	CHECK_STR(c.why, "chunk size line longer than 4096 bytes");

	/* Trailers: at most 16 KiB in all. */
	os_buf_reset(&b);
	os_buf_adds(&b, "0\r\n");
	for (i = 0; b.len < 3 + PROXY_HEAD_MAX - 2 - 10; i++)
		os_buf_addf(&b, "X-%d: v\r\n", i % 10);
	while (b.len < 3 + PROXY_HEAD_MAX - 2) {
		b.len -= 2;
		os_buf_adds(&b, "v\r\n");
	}
	CHECK_INT(b.len, 3 + PROXY_HEAD_MAX - 2);
	os_buf_adds(&b, "\r\n");
	proxy_chunked_init(&c);
	CHECK_INT(proxy_chunked_feed(&c, b.data, b.len), b.len);
	CHECK(c.done && !c.error);
	b.len -= 2;
	os_buf_adds(&b, "Z: 1\r\n\r\n");
	proxy_chunked_init(&c);
	n = proxy_chunked_feed(&c, b.data, b.len);
	CHECK(c.error);
	CHECK_INT(n, 3 + PROXY_HEAD_MAX);
	CHECK_STR(c.why, "trailer section larger than 16384 bytes");
	os_buf_free(&b);

	/* consumed counts every feed. */
	proxy_chunked_init(&c);
	proxy_chunked_feed(&c, LIT("3\r\nab"));
	proxy_chunked_feed(&c, LIT("c\r\n0\r\n\r\nxx"));
	CHECK(c.done);
	CHECK_INT(c.consumed, 13);
}

int
main(void)
{
	TAP_RUN(t_connect);
	TAP_RUN(t_connect_refused);
	TAP_RUN(t_forward);
	TAP_RUN(t_forward_rewrite);
	TAP_RUN(t_forward_refused);
	TAP_RUN(t_head_size);
	TAP_RUN(t_field_count);
	TAP_RUN(t_origin_basic);
	TAP_RUN(t_origin_host);
	TAP_RUN(t_origin_keep_alive);
	TAP_RUN(t_origin_hop_by_hop);
	TAP_RUN(t_origin_websocket);
	TAP_RUN(t_origin_expect);
	TAP_RUN(t_origin_targets);
	TAP_RUN(t_query_split);
	TAP_RUN(t_request_line);
	TAP_RUN(t_line_endings);
	TAP_RUN(t_content_length);
	TAP_RUN(t_transfer_encoding);
	TAP_RUN(t_smuggling_classics);
	TAP_RUN(t_smuggling_lookalikes);
	TAP_RUN(t_pipelined);
	TAP_RUN(t_head_scan);
	TAP_RUN(t_canon_paths);
	TAP_RUN(t_canon_on_the_wire);
	TAP_RUN(t_response_framing);
	TAP_RUN(t_response_refused);
	TAP_RUN(t_response_rewrite);
	TAP_RUN(t_chunked);
	TAP_RUN(t_chunked_bounds);
	return tap_done();
}
