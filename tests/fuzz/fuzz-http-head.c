/*
 * Fuzz target: any bytes as the listener's first head (CONNECT or
 * absolute-form), as a request inside a tunnel (with its body and any
 * pipelined requests after it), as a response head to several requests,
 * as a chunked body split at input-chosen points, and as a path to
 * canonicalise. Nothing may crash, and:
 *
 *  - a refusal has a 4xx/5xx status, an error code and a detail, and
 *    leaves the head cleared;
 *  - an accepted head's rewrite is exactly one head, parses again to the
 *    same method, target, framing and flags, and rewrites to itself;
 *  - canonical paths are canonical (idempotent, no empty or dot
 *    segments, upper-case escapes of reserved bytes only);
 *  - a chunked body's end never lies beyond the input, does not depend
 *    on how the bytes were split, and is where a valid encoding ends;
 *  - proxy_head_scan agrees with proxy_head_end.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "openshell.h"
#include "proxy-head.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FAIL(...) do {							\
	fprintf(stderr, "fuzz-http-head: " __VA_ARGS__);		\
	fputc('\n', stderr);						\
	abort();							\
} while (0)

static bool
same_str(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

static bool
same_host(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcasecmp(a, b) == 0;
}

static void
check_error(const struct proxy_head_error *e, bool response)
{
	if (response ? e->status != 502 :
	    (e->status < 400 || e->status > 505))
		FAIL("refusal with status %d", e->status);
	if (e->error[0] == '\0' || e->detail[0] == '\0')
		FAIL("refusal without error code or detail (%d)", e->status);
}

static void
check_cleared(const struct proxy_head *h)
{
	if (h->method != NULL || h->host != NULL || h->authority != NULL ||
	    h->path != NULL || h->rewritten != NULL || h->target != NULL ||
	    h->canon_path != NULL || h->query != NULL)
		FAIL("refused head not cleared");
}

static bool
is_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

static unsigned
hexv(char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'A' + 10);
}

/* A canonical path: the shape, and its own canonical form. */
static void
check_canonical(const char *p)
{
	struct proxy_head_error	 e;
	const char		*s;
	char			*again;
	bool			 es;
	size_t			 n = strlen(p);

	if (p[0] != '/')
		FAIL("canonical path '%s' does not start with '/'", p);
	if (strstr(p, "//") != NULL || strstr(p, "/./") != NULL ||
	    strstr(p, "/../") != NULL ||
	    (n >= 2 && strcmp(p + n - 2, "/.") == 0) ||
	    (n >= 3 && strcmp(p + n - 3, "/..") == 0))
		FAIL("canonical path '%s' has an empty or dot segment", p);
	for (s = p; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#')
			FAIL("canonical path '%s' holds byte 0x%02x", p, c);
		if (c != '%')
			continue;
		if (!((s[1] >= '0' && s[1] <= '9') || (s[1] >= 'A' && s[1] <= 'F')) ||
		    !((s[2] >= '0' && s[2] <= '9') || (s[2] >= 'A' && s[2] <= 'F')))
			FAIL("canonical path '%s' has a lower-case or broken escape", p);
		if (is_unreserved((unsigned char)(hexv(s[1]) << 4 | hexv(s[2]))))
			FAIL("canonical path '%s' escapes an unreserved byte", p);
		s += 2;
	}
	if (proxy_head_canon_path(p, n, &again, &es, &e) != 0)
		FAIL("canonical path '%s' refused: %s", p, e.detail);
	if (strcmp(again, p) != 0)
		FAIL("canonical path not idempotent: '%s' -> '%s'", p, again);
	if (es != (strstr(p, "%2F") != NULL))
		FAIL("encoded_slash wrong for '%s'", p);
	free(again);
}

/* The rewrite is one complete head, nothing after it. */
static void
check_one_head(const char *rw)
{
	size_t	n = strlen(rw);

	if (n < 4 || proxy_head_end(rw, n) != n)
		FAIL("rewrite is not exactly one head");
}

static bool
too_big(const struct proxy_head_error *e)
{
	return e->status == 431 ||
	    strcmp(e->detail, "more than 100 header fields") == 0 ||
	    strncmp(e->detail, "response head larger", 20) == 0;
}

static void
check_request(const struct proxy_head *h, uint16_t defport)
{
	struct proxy_head_error	 e;
	struct proxy_head	 r;

	if (h->method == NULL || h->target == NULL)
		FAIL("accepted head without method or target");
	if (h->kind == PROXY_HEAD_CONNECT) {
		if (h->host == NULL || h->port == 0 || h->rewritten != NULL ||
		    h->body != PROXY_BODY_NONE)
			FAIL("CONNECT head inconsistent");
		return;
	}
	if (h->canon_path == NULL || h->rewritten == NULL || h->path == NULL)
		FAIL("accepted request without path or rewrite");
	if ((h->body == PROXY_BODY_LENGTH) != (h->content_length > 0 &&
	    h->body != PROXY_BODY_CHUNKED))
		FAIL("body kind and Content-Length disagree");
	if (h->asterisk)
		if (strcmp(h->canon_path, "*") != 0)
			FAIL("asterisk without '*'");
	if (!h->asterisk)
		check_canonical(h->canon_path);
	check_one_head(h->rewritten);

	/* What goes upstream parses as the same request. */
	if (proxy_head_parse_origin(h->rewritten, strlen(h->rewritten),
	    h->kind == PROXY_HEAD_FORWARD ? h->port : defport, &r, &e) != 0) {
		if (too_big(&e))
			return;
		FAIL("rewrite refused (%s): %s\n%s", e.error, e.detail,
		    h->rewritten);
	}
	if (strcmp(r.method, h->method) != 0 ||
	    strcmp(r.canon_path, h->canon_path) != 0 ||
	    !same_str(r.query, h->query) || r.body != h->body ||
	    r.content_length != h->content_length ||
	    r.version != h->version || r.asterisk != h->asterisk ||
	    r.expect_continue != h->expect_continue ||
	    r.encoded_slash != h->encoded_slash)
		FAIL("rewrite parses differently:\n%s", h->rewritten);
	if (h->kind == PROXY_HEAD_FORWARD) {
		if (r.keep_alive || r.upgrade || !same_host(r.host, h->host) ||
		    r.port != h->port)
			FAIL("forward rewrite connection or host differs:\n%s",
			    h->rewritten);
	} else {
		if (r.keep_alive != h->keep_alive || r.upgrade != h->upgrade ||
		    !same_host(r.host, h->host))
			FAIL("rewrite connection or host differs:\n%s",
			    h->rewritten);
		if (h->target[0] == '/' && r.port != h->port)
			FAIL("rewrite port differs");
		if (strcmp(r.rewritten, h->rewritten) != 0)
			FAIL("rewrite not idempotent:\n%s\n--\n%s",
			    h->rewritten, r.rewritten);
	}
	proxy_head_clear(&r);
}

static int
parse_listen(const char *buf, size_t len)
{
	struct proxy_head_error	 e;
	struct proxy_head	 h;

	if (proxy_head_parse(buf, len, &h, &e) != 0) {
		check_error(&e, false);
		check_cleared(&h);
		return -1;
	}
	if (h.kind == PROXY_HEAD_ORIGIN)
		FAIL("the listener returned an origin-form head");
	check_request(&h, 0);
	proxy_head_clear(&h);
	return 0;
}

/* A tunnelled stream: heads, bodies, pipelined heads, as a relay would
 * walk it. Every offset stays within the input. */
static void
walk_tunnel(const char *buf, size_t len)
{
	struct proxy_head_error	 e;
	struct proxy_head	 h;
	struct proxy_chunked	 c;
	size_t			 off = 0, end, n;
	int			 rounds;

	for (rounds = 0; rounds < 8 && off < len; rounds++) {
		end = proxy_head_end(buf + off, len - off);
		if (end == 0)
			end = len - off;
		if (proxy_head_parse_origin(buf + off, end, 443, &h, &e) != 0) {
			check_error(&e, false);
			check_cleared(&h);
			return;
		}
		if (h.kind != PROXY_HEAD_ORIGIN)
			FAIL("tunnel head of kind %d", h.kind);
		check_request(&h, 443);
		off += end;
		if (h.body == PROXY_BODY_LENGTH) {
			if (h.content_length > len - off) {
				proxy_head_clear(&h);
				return;
			}
			off += (size_t)h.content_length;
		} else if (h.body == PROXY_BODY_CHUNKED) {
			proxy_chunked_init(&c);
			n = proxy_chunked_feed(&c, buf + off, len - off);
			if (n > len - off)
				FAIL("chunked body beyond the input");
			if (!c.done) {
				proxy_head_clear(&h);
				return;
			}
			off += n;
		}
		proxy_head_clear(&h);
	}
	if (off > len)
		FAIL("walked beyond the input");
}

static void
check_response(const char *buf, size_t len, const struct proxy_head *req)
{
	struct proxy_head_error	 e;
	struct proxy_response	 r, r2;

	if (proxy_head_parse_response(buf, len, req, &r, &e) != 0) {
		check_error(&e, true);
		if (r.rewritten != NULL || r.reason != NULL)
			FAIL("refused response not cleared");
		return;
	}
	if (r.status < 100 || r.status > 599 || r.rewritten == NULL ||
	    r.reason == NULL)
		FAIL("accepted response inconsistent");
	if (r.upgrade && (r.keep_alive || r.body != PROXY_RESP_NONE))
		FAIL("upgrade with keep-alive or a body");
	if (r.body == PROXY_RESP_CLOSE && r.keep_alive)
		FAIL("read-until-close response kept alive");
	if ((r.status / 100 == 1 || r.status == 204 || r.status == 304 ||
	    strcmp(req->method, "HEAD") == 0) && r.body != PROXY_RESP_NONE)
		FAIL("status %d to %s with a body", r.status, req->method);
	check_one_head(r.rewritten);
	if (proxy_head_parse_response(r.rewritten, strlen(r.rewritten), req,
	    &r2, &e) != 0) {
		if (!too_big(&e))
			FAIL("response rewrite refused: %s\n%s", e.detail,
			    r.rewritten);
		proxy_response_clear(&r);
		return;
	}
	if (r2.status != r.status || r2.body != r.body ||
	    r2.content_length != r.content_length || r2.upgrade != r.upgrade ||
	    r2.interim != r.interim || r2.version != r.version ||
	    (!r.interim && r2.keep_alive != r.keep_alive) ||
	    strcmp(r2.rewritten, r.rewritten) != 0)
		FAIL("response rewrite parses differently:\n%s\n--\n%s",
		    r.rewritten, r2.rewritten);
	proxy_response_clear(&r2);
	proxy_response_clear(&r);
}

static void
fuzz_responses(const char *buf, size_t len)
{
	static const struct proxy_head reqs[] = {
		{ .kind = PROXY_HEAD_ORIGIN, .method = (char *)"GET" },
		{ .kind = PROXY_HEAD_ORIGIN, .method = (char *)"HEAD" },
		{ .kind = PROXY_HEAD_ORIGIN, .method = (char *)"GET", .upgrade = true },
		{ .kind = PROXY_HEAD_CONNECT, .method = (char *)"CONNECT" },
	};
	size_t	i, end;

	end = proxy_head_end(buf, len);
	for (i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
		check_response(buf, len, &reqs[i]);
		if (end != 0 && end != len)
			check_response(buf, end, &reqs[i]);
	}
}

/* The same bytes fed whole and in input-chosen pieces. */
static void
fuzz_chunked(const char *buf, size_t len)
{
	struct proxy_chunked	 a, b;
	size_t			 na, nb = 0, off = 0, step, k = 0;

	proxy_chunked_init(&a);
	na = proxy_chunked_feed(&a, buf, len);
	if (na > len || a.consumed != na)
		FAIL("chunked consumed %zu of %zu", na, len);
	if (a.error && (a.why == NULL || na >= len))
		FAIL("chunked error without reason or bad byte");
	if (a.done && (na < 5 || memcmp(buf + na - 2, "\r\n", 2) != 0))
		FAIL("chunked body ends without CRLF");
	proxy_chunked_init(&b);
	while (off < len) {
		step = 1 + (len > 0 ? (unsigned char)buf[k++ % len] % 7 : 0);
		if (step > len - off)
			step = len - off;
		nb += proxy_chunked_feed(&b, buf + off, step);
		off += step;
	}
	if (nb != na || a.done != b.done || a.error != b.error ||
	    (a.error && strcmp(a.why, b.why) != 0))
		FAIL("chunked result depends on the split: %zu/%d/%d vs %zu/%d/%d",
		    na, a.done, a.error, nb, b.done, b.error);
	/* Up to the bad byte, the body is merely incomplete. */
	if (a.error) {
		proxy_chunked_init(&b);
		if (proxy_chunked_feed(&b, buf, na) != na || b.error || b.done)
			FAIL("chunked prefix before the bad byte is not clean");
	}
}

/* The input as chunk data, encoded validly, then a pipelined request:
 * the body must end exactly after the last chunk. */
static void
fuzz_chunked_encode(const char *buf, size_t len)
{
	struct os_buf		 b = OS_BUF_INIT;
	struct proxy_chunked	 c;
	size_t			 off = 0, n, enc, got;

	while (off < len) {
		n = 1 + (unsigned char)buf[off] % 64;
		if (n > len - off)
			n = len - off;
		os_buf_addf(&b, off % 3 == 0 ? "%zx;x=y\r\n" : "%zX\r\n", n);
		os_buf_add(&b, buf + off, n);
		os_buf_adds(&b, "\r\n");
		off += n;
	}
	os_buf_adds(&b, len % 2 ? "0\r\nX-T: 1\r\n\r\n" : "0\r\n\r\n");
	enc = b.len;
	os_buf_adds(&b, "GET / HTTP/1.1\r\n\r\n");
	proxy_chunked_init(&c);
	got = proxy_chunked_feed(&c, b.data, b.len);
	if (!c.done || got != enc)
		FAIL("valid chunked encoding of %zu bytes: consumed %zu of %zu (%s)",
		    len, got, enc, c.why != NULL ? c.why : "-");
	os_buf_free(&b);
}

static void
fuzz_canon(const char *buf, size_t len)
{
	struct proxy_head_error	 e;
	char			*out, *p;
	bool			 es;

	p = xmalloc(len + 2);
	p[0] = '/';
	memcpy(p + 1, buf, len);
	p[len + 1] = '\0';
	memset(&e, 0, sizeof e);
	if (proxy_head_canon_path(p, len + 1, &out, &es, &e) == 0) {
		check_canonical(out);
		free(out);
	} else if (e.status != 400 || out != NULL)
		FAIL("canonicalisation refused without a 400");
	free(p);
}

static void
fuzz_scan(const char *buf, size_t len)
{
	struct proxy_head_error	e;
	ssize_t			n;

	n = proxy_head_scan(buf, len, PROXY_HEAD_MAX, &e);
	if (n > 0 && ((size_t)n > len || proxy_head_end(buf, len) != (size_t)n))
		FAIL("proxy_head_scan found %zd, proxy_head_end %zu", n,
		    proxy_head_end(buf, len));
	if (n == 0 && (proxy_head_end(buf, len) != 0 || len >= PROXY_HEAD_MAX))
		FAIL("proxy_head_scan wants more of a complete head");
	if (n < 0 && e.status != 400 && e.status != 431)
		FAIL("proxy_head_scan refused with %d", e.status);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*buf = (const char *)data;
	size_t		 end;

	parse_listen(buf, size);
	end = proxy_head_end(buf, size);
	if (end != 0 && end != size)
		parse_listen(buf, end);
	walk_tunnel(buf, size);
	fuzz_responses(buf, size);
	fuzz_chunked(buf, size);
	fuzz_chunked_encode(buf, size);
	fuzz_canon(buf, size);
	fuzz_scan(buf, size);
	return 0;
}
