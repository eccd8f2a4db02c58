/*
 * HTTP/1.1 heads as the proxy sees them, parsed strictly: the first head
 * on the listener (`CONNECT host:port`, absolute-form `METHOD
 * http://host[:port]/path`), requests inside inspected tunnels, upstream
 * response heads, and chunked bodies. Every way two HTTP parsers could
 * disagree about where a message ends is refused rather than guessed
 * (bare LF or CR, obs-fold, CL with TE, conflicting or odd Content-Length,
 * any Transfer-Encoding but one "chunked"). The rewritten heads keep
 * every byte that is not hop-by-hop; the target they carry is the
 * canonical one the decision was made on. No I/O here.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy-int.h"

#define METHOD_MAX	32
#define CH_LINE_MAX	4096    /* a chunk-size line, extensions included */
#define CH_DIGITS_MAX	16

struct hdr {
	const char	*name;
	size_t		 namelen;
	const char	*value;       /* trimmed */
	size_t		 valuelen;
	const char	*line;        /* the whole line, without CRLF */
	size_t		 linelen;
};

struct fields {
	struct hdr	 hv[PROXY_HEAD_MAX_FIELDS];
	size_t		 nh;
};

/* Connection tokens that change what the proxy does. */
struct conn {
	bool	 close;
	bool	 keep_alive;
	bool	 upgrade;
};

struct framing {
	bool		 have_cl;
	bool		 have_te;
	uint64_t	 cl;
};

/* Who is parsing: a bad request is answered as itself, a bad response
 * as 502 to the client. */
struct pctx {
	struct proxy_head_error	*e;
	bool			 response;
};

static int
head_err(struct proxy_head_error *e, int status, const char *error,
    const char *fmt, ...) OS_PRINTF(4, 5);
static int
perr(const struct pctx *c, int status, const char *error,
    const char *fmt, ...) OS_PRINTF(4, 5);

static void
head_verr(struct proxy_head_error *e, int status, const char *error,
    const char *fmt, va_list ap) OS_PRINTF(4, 0);

static void
head_verr(struct proxy_head_error *e, int status, const char *error,
    const char *fmt, va_list ap)
{
	e->status = status;
	snprintf(e->error, sizeof e->error, "%s", error);
	vsnprintf(e->detail, sizeof e->detail, fmt, ap);
}

static int
head_err(struct proxy_head_error *e, int status, const char *error,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	head_verr(e, status, error, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int
perr(const struct pctx *c, int status, const char *error, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	if (c->response)
		head_verr(c->e, 502, "bad_upstream_response", fmt, ap);
	else
		head_verr(c->e, status, error, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ------------------------------------------------------------------------
 * Characters (ASCII only: no locale may change what a byte means)
 */
static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned
hex_val(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	return (unsigned)((c | 0x20) - 'a' + 10);
}

/* RFC 9110 tchar. */
static bool
is_tchar(unsigned char c)
{
	return is_alpha(c) || is_digit(c) ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 3986 unreserved. */
static bool
is_unreserved(unsigned char c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '.' ||
	    c == '_' || c == '~';
}

/* A pchar that stands for itself: unreserved, sub-delims, ':' or '@'. */
static bool
is_pchar_literal(unsigned char c)
{
	return is_unreserved(c) ||
	    (c != '\0' && strchr("!$&'()*+,;=:@", c) != NULL);
}

static bool
is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* A printable excerpt of untrusted bytes, for a detail message. */
static const char *
excerpt(char *dst, size_t size, const char *s, size_t len)
{
	size_t	i, n = 0, max = size - 4;

	for (i = 0; i < len && n < max; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (i < len) {
		memcpy(dst + n, "...", 3);
		n += 3;
	}
	dst[n] = '\0';
	return dst;
}

#define EXCERPT_SIZE	48

/* ------------------------------------------------------------------------
 * Finding heads
 */
size_t
proxy_head_end(const char *buf, size_t len)
{
	size_t	i;

	for (i = 0; i + 3 < len; i++) {
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' &&
		    buf[i + 3] == '\n')
			return i + 4;
	}
	return 0;
}

ssize_t
proxy_head_scan(const char *buf, size_t len, size_t max,
    struct proxy_head_error *e)
{
	size_t	n = len < max ? len : max, i;

	memset(e, 0, sizeof *e);
	for (i = 0; i < n; i++) {
		switch (buf[i]) {
		case '\0':
			return head_err(e, 400, "bad_request",
			    "NUL byte in the head");
		case '\n':
			if (i == 0 || buf[i - 1] != '\r')
				return head_err(e, 400, "bad_request",
				    "bare LF in the head (lines must end with CRLF)");
			if (i >= 3 && buf[i - 2] == '\n')
				return (ssize_t)(i + 1);
			break;
		case '\r':
			if (i + 1 < len && buf[i + 1] != '\n')
				return head_err(e, 400, "bad_request",
				    "bare CR in the head");
			break;
		}
	}
	if (len >= max)
		return head_err(e, 431, "headers_too_large",
		    "head larger than %zu bytes", max);
	return 0;
}

/*
 * The CR of the CRLF ending the line at p. A bare LF, a bare CR and a
 * line that runs off the end are refused.
 */
static int
line_end(const struct pctx *c, const char *p, const char *end,
    const char *what, const char **eol)
{
	const char	*q = p;

	while (q < end && *q != '\r' && *q != '\n')
		q++;
	if (q == end || (*q == '\r' && q + 1 == end))
		return perr(c, 400, "bad_request",
		    "incomplete head (the %s does not end with CRLF)", what);
	if (*q == '\n')
		return perr(c, 400, "bad_request",
		    "bare LF in the %s (lines must end with CRLF)", what);
	if (q[1] != '\n')
		return perr(c, 400, "bad_request", "bare CR in the %s", what);
	*eol = q;
	return 0;
}

/* ------------------------------------------------------------------------
 * Fields
 */
static bool
name_is(const struct hdr *h, const char *name)
{
	return strlen(name) == h->namelen &&
	    strncasecmp(h->name, name, h->namelen) == 0;
}

/* Splits the field lines from p up to the empty line, which must end at
 * end; strictly. */
static int
split_fields(const struct pctx *c, const char *p, const char *end,
    struct fields *f)
{
	char	ex[EXCERPT_SIZE];

	f->nh = 0;
	for (;;) {
		const char	*eol, *colon, *v;
		struct hdr	*h;
		size_t		 i;

		if (line_end(c, p, end, "header section", &eol) < 0)
			return -EINVAL;
		if (eol == p) {        /* the empty line ending the head */
			p += 2;
			break;
		}
		if (*p == ' ' || *p == '\t')
			return perr(c, 400, "bad_request",
			    "obsolete line folding is not accepted");
		if (f->nh == PROXY_HEAD_MAX_FIELDS)
			return perr(c, 431, "headers_too_large",
			    "more than %d header fields", PROXY_HEAD_MAX_FIELDS);
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon == NULL)
			return perr(c, 400, "bad_request",
			    "header line without a colon: '%s'",
			    excerpt(ex, sizeof ex, p, (size_t)(eol - p)));
		if (colon == p)
			return perr(c, 400, "bad_request",
			    "header line with an empty field name");
		h = &f->hv[f->nh++];
		h->line = p;
		h->linelen = (size_t)(eol - p);
		h->name = p;
		h->namelen = (size_t)(colon - p);
		for (i = 0; i < h->namelen; i++) {
			if (!is_tchar((unsigned char)p[i]))
				return perr(c, 400, "bad_request",
				    "invalid character in header field name '%s'",
				    excerpt(ex, sizeof ex, p, h->namelen));
		}
		for (v = colon + 1; v < eol; v++) {
			if (is_ctl((unsigned char)*v))
				return perr(c, 400, "bad_request",
				    "control character in header field '%s'",
				    excerpt(ex, sizeof ex, p, h->namelen));
		}
		h->value = colon + 1;
		while (h->value < eol && (*h->value == ' ' || *h->value == '\t'))
			h->value++;
		h->valuelen = (size_t)(eol - h->value);
		while (h->valuelen > 0 && (h->value[h->valuelen - 1] == ' ' ||
		    h->value[h->valuelen - 1] == '\t'))
			h->valuelen--;
		p = eol + 2;
	}
	if (p != end)
		return perr(c, 400, "bad_request",
		    "bytes after the end of the head");
	return 0;
}

/* Does the comma-separated list v hold tok (case-insensitively)? */
static bool
list_has(const char *v, size_t vl, const char *tok, size_t tokl)
{
	const char	*end = v + vl;

	while (v < end) {
		const char	*t = v;
		size_t		 tl;

		while (t < end && *t != ',')
			t++;
		while (v < t && (*v == ' ' || *v == '\t'))
			v++;
		tl = (size_t)(t - v);
		while (tl > 0 && (v[tl - 1] == ' ' || v[tl - 1] == '\t'))
			tl--;
		if (tl == tokl && strncasecmp(v, tok, tl) == 0)
			return true;
		v = t + 1;
	}
	return false;
}

/* Is `name` among the tokens of any Connection field? */
static bool
nominated(const struct fields *f, const char *name, size_t namelen)
{
	size_t	i;

	for (i = 0; i < f->nh; i++) {
		if (name_is(&f->hv[i], "connection") &&
		    list_has(f->hv[i].value, f->hv[i].valuelen, name, namelen))
			return true;
	}
	return false;
}

static void
conn_tokens(const struct fields *f, struct conn *k)
{
	k->close = nominated(f, "close", 5);
	k->keep_alive = nominated(f, "keep-alive", 10);
	k->upgrade = nominated(f, "upgrade", 7);
}

static bool
any_field_has(const struct fields *f, const char *name, const char *tok)
{
	size_t	i;

	for (i = 0; i < f->nh; i++) {
		if (name_is(&f->hv[i], name) &&
		    list_has(f->hv[i].value, f->hv[i].valuelen, tok, strlen(tok)))
			return true;
	}
	return false;
}

/* Nominating a framing field in Connection would make us and the next
 * hop disagree about where the message ends. */
static int
check_nominated_framing(const struct pctx *c, const struct fields *f)
{
	if (nominated(f, "host", 4) || nominated(f, "content-length", 14) ||
	    nominated(f, "transfer-encoding", 17))
		return perr(c, 400, "bad_request",
		    "Connection header names a framing field");
	return 0;
}

/* Only spaces may surround a framing value: parsers disagree on tabs. */
static bool
raw_value_has_tab(const struct hdr *h)
{
	return memchr(h->name + h->namelen, '\t',
	    h->linelen - h->namelen) != NULL;
}

static int
parse_framing(const struct pctx *c, const struct fields *f, int version,
    struct framing *fr)
{
	char	ex[EXCERPT_SIZE];
	size_t	i, k;

	memset(fr, 0, sizeof *fr);
	for (i = 0; i < f->nh; i++) {
		const struct hdr *h = &f->hv[i];

		if (name_is(h, "content-length")) {
			uint64_t	v = 0;

			if (raw_value_has_tab(h))
				return perr(c, 400, "bad_request",
				    "tab in Content-Length (only spaces may surround the value)");
			if (h->valuelen == 0)
				return perr(c, 400, "bad_request",
				    "empty Content-Length");
			if (memchr(h->value, ',', h->valuelen) != NULL)
				return perr(c, 400, "bad_request",
				    "Content-Length with several values ('%s')",
				    excerpt(ex, sizeof ex, h->value, h->valuelen));
			for (k = 0; k < h->valuelen; k++) {
				if (!is_digit((unsigned char)h->value[k]))
					return perr(c, 400, "bad_request",
					    "invalid Content-Length '%s'",
					    excerpt(ex, sizeof ex, h->value,
					    h->valuelen));
			}
			if (h->valuelen > 18)
				return perr(c, 400, "bad_request",
				    "Content-Length '%s' is too large",
				    excerpt(ex, sizeof ex, h->value, h->valuelen));
			for (k = 0; k < h->valuelen; k++)
				v = v * 10 + (uint64_t)(h->value[k] - '0');
			if (fr->have_cl && v != fr->cl)
				return perr(c, 400, "bad_request",
				    "conflicting Content-Length headers (%llu and %llu)",
				    (unsigned long long)fr->cl,
				    (unsigned long long)v);
			fr->have_cl = true;
			fr->cl = v;
		} else if (name_is(h, "transfer-encoding")) {
			if (raw_value_has_tab(h))
				return perr(c, 400, "bad_request",
				    "tab in Transfer-Encoding (only spaces may surround the value)");
			if (fr->have_te)
				return perr(c, 400, "bad_request",
				    "more than one Transfer-Encoding header (only a single \"chunked\" is accepted)");
			if (h->valuelen == 0)
				return perr(c, 400, "bad_request",
				    "empty Transfer-Encoding");
			if (h->valuelen != 7 ||
			    strncasecmp(h->value, "chunked", 7) != 0)
				return perr(c, 400, "bad_request",
				    "unsupported Transfer-Encoding '%s' (only a single \"chunked\" is accepted)",
				    excerpt(ex, sizeof ex, h->value, h->valuelen));
			fr->have_te = true;
		}
	}
	if (fr->have_cl && fr->have_te)
		return perr(c, 400, "bad_request",
		    "both Content-Length and Transfer-Encoding");
	if (fr->have_te && version == 10)
		return perr(c, 400, "bad_request",
		    "Transfer-Encoding in an HTTP/1.0 message");
	return 0;
}

/* Hop-by-hop fields: for this connection only, never passed on. "Close"
 * is a reserved field name (RFC 9110 16.3.2.2): the "Connection: close"
 * added for the next hop would nominate it. */
static bool
is_hop_by_hop(const struct hdr *h)
{
	static const char *const names[] = {
		"proxy-connection", "proxy-authorization", "proxy-authenticate",
		"connection", "keep-alive", "te", "trailer", "upgrade", "close",
	};
	size_t	i;

	for (i = 0; i < OS_NELEM(names); i++) {
		if (name_is(h, names[i]))
			return true;
	}
	return false;
}

/* Every end-to-end field line, byte for byte; an upgrade keeps its
 * Connection and Upgrade lines. */
static void
emit_fields(struct os_buf *b, const struct fields *f, bool keep_upgrade)
{
	size_t	i;

	for (i = 0; i < f->nh; i++) {
		const struct hdr *x = &f->hv[i];

		if (keep_upgrade && (name_is(x, "connection") ||
		    name_is(x, "upgrade")))
			;
		else if (is_hop_by_hop(x) ||
		    nominated(f, x->name, x->namelen))
			continue;
		os_buf_add(b, x->line, x->linelen);
		os_buf_adds(b, "\r\n");
	}
}

/* What the next hop must be told about the connection: HTTP/1.1 keeps it
 * unless told otherwise, HTTP/1.0 closes it unless told otherwise. */
static void
emit_connection(struct os_buf *b, int version, bool keep_alive)
{
	if (version == 11 && !keep_alive)
		os_buf_adds(b, "Connection: close\r\n");
	else if (version == 10 && keep_alive)
		os_buf_adds(b, "Connection: keep-alive\r\n");
}

static bool
keep_alive_of(int version, const struct conn *k)
{
	if (k->close)
		return false;
	return version == 11 || k->keep_alive;
}

/* ------------------------------------------------------------------------
 * Targets and paths
 */
/* "1".."65535" only. */
static int
parse_port(const char *s, size_t len, uint16_t *out)
{
	unsigned long	v = 0;
	size_t		i;

	if (len == 0 || len > 5)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (!is_digit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/*
 * host[:port] or [v6][:port]. A registered name may hold letters, digits,
 * '-', '.', '_' (and nothing that could confuse a log line or a glob).
 */
static int
parse_authority(const char *s, size_t len, bool need_port, uint16_t defport,
    char **host, uint16_t *port)
{
	const char	*hs, *colon = NULL;
	size_t		 hl, i;
	char		 tmp[64];
	unsigned char	 v6[16];

	if (len == 0)
		return -EINVAL;
	if (s[0] == '[') {
		const char *rb = memchr(s, ']', len);

		if (rb == NULL)
			return -EINVAL;
		hs = s + 1;
		hl = (size_t)(rb - hs);
		if (hl == 0 || hl >= sizeof tmp)
			return -EINVAL;
		memcpy(tmp, hs, hl);
		tmp[hl] = '\0';
		if (inet_pton(AF_INET6, tmp, v6) != 1)
			return -EINVAL;
		if ((size_t)(rb + 1 - s) < len) {
			if (rb[1] != ':')
				return -EINVAL;
			colon = rb + 1;
		}
	} else {
		colon = memchr(s, ':', len);
		hs = s;
		hl = colon != NULL ? (size_t)(colon - s) : len;
		if (hl == 0 || hl > 253)
			return -EINVAL;
		for (i = 0; i < hl; i++) {
			unsigned char c = (unsigned char)hs[i];

			if (!is_alpha(c) && !is_digit(c) && c != '-' &&
			    c != '.' && c != '_')
				return -EINVAL;
		}
	}
	if (colon != NULL) {
		if (parse_port(colon + 1, (size_t)(s + len - colon - 1), port) < 0)
			return -EINVAL;
	} else {
		if (need_port)
			return -EINVAL;
		*port = defport;
	}
	*host = xstrndup(hs, hl);
	return 0;
}

static bool
is_dot_segment(const char *s, size_t n)
{
	return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

int
proxy_head_canon_path(const char *p, size_t len, char **out,
    bool *encoded_slash, struct proxy_head_error *e)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			 ex[EXCERPT_SIZE];
	char			*tmp, *o;
	const char		*s, *tend;
	size_t			 i, tl = 0, ol = 0;
	bool			 trailing = false;

	*out = NULL;
	*encoded_slash = false;
	if (len == 0 || p[0] != '/')
		return head_err(e, 400, "bad_request",
		    "path '%s' does not start with '/'",
		    excerpt(ex, sizeof ex, p, len));
	/* Escapes first, so that %2E%2E is a dot segment like ".." is. */
	tmp = xmalloc(len * 3 + 1);
	for (i = 0; i < len; i++) {
		unsigned char	ch = (unsigned char)p[i];

		if (ch == '%') {
			unsigned	v;

			if (i + 2 >= len || !is_hex((unsigned char)p[i + 1]) ||
			    !is_hex((unsigned char)p[i + 2])) {
				free(tmp);
				return head_err(e, 400, "bad_request",
				    "malformed percent-encoding in path '%s'",
				    excerpt(ex, sizeof ex, p, len));
			}
			v = hex_val((unsigned char)p[i + 1]) << 4 |
			    hex_val((unsigned char)p[i + 2]);
			i += 2;
			if (is_unreserved((unsigned char)v)) {
				tmp[tl++] = (char)v;
				continue;
			}
			ch = (unsigned char)v;
		} else if (ch <= 0x20 || ch >= 0x7f) {
			free(tmp);
			return head_err(e, 400, "bad_request",
			    "control, space or non-ASCII byte in path");
		} else if (ch == '?' || ch == '#') {
			free(tmp);
			return head_err(e, 400, "bad_request",
			    "'%c' in path '%s'", ch,
			    excerpt(ex, sizeof ex, p, len));
		} else if (ch == '/' || is_pchar_literal(ch)) {
			tmp[tl++] = (char)ch;
			continue;
		}
		tmp[tl++] = '%';
		tmp[tl++] = hex[ch >> 4];
		tmp[tl++] = hex[ch & 15];
	}

	/* Then segments: "" and "." vanish, ".." takes one back. The output
	 * is "/seg/seg..." with no trailing '/' until the end. */
	o = xmalloc(tl + 2);
	s = tmp + 1;
	tend = tmp + tl;
	for (;;) {
		const char	*slash = memchr(s, '/', (size_t)(tend - s));
		size_t		 sl = (size_t)((slash != NULL ? slash : tend) - s);

		if (sl == 0 || is_dot_segment(s, sl)) {
			if (sl == 2) {
				char *prev;

				if (ol == 0) {
					free(tmp);
					free(o);
					return head_err(e, 400, "bad_request",
					    "path '%s' climbs above the root",
					    excerpt(ex, sizeof ex, p, len));
				}
				prev = memrchr(o, '/', ol);
				ol = (size_t)(prev - o);
			}
			trailing = true;
		} else if ((sl >= 2 && s[0] == '.' && s[1] == ';') ||
		    (sl >= 3 && s[0] == '.' && s[1] == '.' && s[2] == ';')) {
			free(tmp);
			free(o);
			return head_err(e, 400, "bad_request",
			    "dot segment with parameters in path '%s'",
			    excerpt(ex, sizeof ex, p, len));
		} else {
			o[ol++] = '/';
			memcpy(o + ol, s, sl);
			ol += sl;
			trailing = false;
		}
		if (slash == NULL)
			break;
		s = slash + 1;
	}
	if (ol == 0 || trailing)
		o[ol++] = '/';
	o[ol] = '\0';
	free(tmp);
	*encoded_slash = strstr(o, "%2F") != NULL;
	*out = o;
	return 0;
}

/* path[?query] with path starting at '/': canon_path and query. */
static int
split_path(const struct pctx *c, struct proxy_head *h, const char *p, size_t n)
{
	const char	*q;

	if (memchr(p, '#', n) != NULL)
		return perr(c, 400, "bad_request",
		    "fragment in the request target is not accepted");
	q = memchr(p, '?', n);
	if (q != NULL)
		h->query = xstrndup(q + 1, (size_t)(p + n - q - 1));
	return proxy_head_canon_path(p, q != NULL ? (size_t)(q - p) : n,
	    &h->canon_path, &h->encoded_slash, c->e);
}

/* The target the next hop gets: the canonical one. */
static void
emit_target(struct os_buf *b, const struct proxy_head *h)
{
	os_buf_adds(b, h->canon_path);
	if (h->query != NULL) {
		os_buf_addc(b, '?');
		os_buf_adds(b, h->query);
	}
}

/* scheme://authority: where the authority starts and ends. */
static int
split_absolute(const char *t, size_t tl, const char **scheme_end,
    const char **auth, const char **rest)
{
	const char	*q, *end = t + tl;

	for (q = t; q + 2 < end; q++) {
		if (q[0] == ':' && q[1] == '/' && q[2] == '/')
			break;
		if (!is_alpha((unsigned char)*q) && !is_digit((unsigned char)*q) &&
		    *q != '+' && *q != '-' && *q != '.')
			return -EINVAL;
	}
	if (q + 2 >= end || q == t)
		return -EINVAL;
	*scheme_end = q;
	*auth = q + 3;
	for (q = *auth; q < end && *q != '/' && *q != '?' && *q != '#'; q++)
		;
	*rest = q;
	return 0;
}

/* METHOD scheme://authority/path... on the listener. */
static int
parse_forward_target(const struct pctx *c, struct proxy_head *h,
    const char *t, size_t tl)
{
	const char	*sep, *auth, *rest, *end = t + tl;
	size_t		 schemelen;

	if (tl > 0 && t[0] == '/')
		return perr(c, 400, "bad_request",
		    "%s %.*s: a proxy needs an absolute URI (http://host/path) or CONNECT",
		    h->method, (int)(tl > 100 ? 100 : tl), t);
	if (split_absolute(t, tl, &sep, &auth, &rest) < 0)
		return perr(c, 400, "bad_request", "malformed request target");
	schemelen = (size_t)(sep - t);
	if (schemelen == 5 && strncasecmp(t, "https", 5) == 0)
		return perr(c, 400, "https_not_supported",
		    "Use CONNECT for HTTPS URLs");
	if (schemelen != 4 || strncasecmp(t, "http", 4) != 0)
		return perr(c, 400, "unsupported_proxy_scheme",
		    "unsupported scheme '%.*s' (only http:// is forwarded; use CONNECT for anything else)",
		    (int)(schemelen > 20 ? 20 : schemelen), t);
	if (memchr(auth, '@', (size_t)(rest - auth)) != NULL)
		return perr(c, 400, "bad_request",
		    "user information in the request URI is not accepted");
	if (memchr(t, '#', tl) != NULL)
		return perr(c, 400, "bad_request",
		    "fragment in the request URI is not accepted");
	if (parse_authority(auth, (size_t)(rest - auth), false, 80, &h->host,
	    &h->port) < 0)
		return perr(c, 400, "bad_request",
		    "invalid host or port in the request URI");
	h->authority = xstrndup(auth, (size_t)(rest - auth));
	if (rest == end)
		h->path = xstrdup("/");
	else if (*rest == '?')
		h->path = xprintf("/%.*s", (int)(end - rest), rest);
	else
		h->path = xstrndup(rest, (size_t)(end - rest));
	return split_path(c, h, h->path, strlen(h->path));
}

static int
one_host(const struct pctx *c, const struct fields *f, const struct hdr **host)
{
	size_t	i;

	*host = NULL;
	for (i = 0; i < f->nh; i++) {
		if (!name_is(&f->hv[i], "host"))
			continue;
		if (*host != NULL)
			return perr(c, 400, "bad_request",
			    "more than one Host header");
		*host = &f->hv[i];
	}
	return 0;
}

/*
 * A tunnelled request's target: origin-form, OPTIONS *, or absolute-form
 * (whose authority must agree with Host); host and port from Host.
 */
static int
parse_origin_target(const struct pctx *c, struct proxy_head *h,
    const char *t, size_t tl, const struct hdr *host, uint16_t defport)
{
	char		 ex[EXCERPT_SIZE], ex2[EXCERPT_SIZE];
	const char	*sep, *auth, *rest;
	uint16_t	 hostdef = defport;
	char		*hh = NULL;
	uint16_t	 hp = 0;

	if (tl == 1 && t[0] == '*') {
		if (strcmp(h->method, "OPTIONS") != 0)
			return perr(c, 400, "bad_request",
			    "'*' is a request target for OPTIONS only");
		h->asterisk = true;
		h->path = xstrdup("*");
		h->canon_path = xstrdup("*");
	} else if (t[0] == '/') {
		h->path = xstrndup(t, tl);
		if (split_path(c, h, t, tl) < 0)
			return -EINVAL;
	} else if (split_absolute(t, tl, &sep, &auth, &rest) == 0) {
		size_t	sl = (size_t)(sep - t);

		if (sl == 4 && strncasecmp(t, "http", 4) == 0)
			hostdef = 80;
		else if (sl == 5 && strncasecmp(t, "https", 5) == 0)
			hostdef = 443;
		else
			return perr(c, 400, "bad_request",
			    "unsupported scheme '%s' in the request target",
			    excerpt(ex, sizeof ex, t, sl));
		if (memchr(auth, '@', (size_t)(rest - auth)) != NULL)
			return perr(c, 400, "bad_request",
			    "user information in the request URI is not accepted");
		if (parse_authority(auth, (size_t)(rest - auth), false, hostdef,
		    &h->host, &h->port) < 0)
			return perr(c, 400, "bad_request",
			    "invalid host or port in the request URI");
		h->authority = xstrndup(auth, (size_t)(rest - auth));
		if (rest == t + tl)
			h->path = xstrdup("/");
		else if (*rest == '?')
			h->path = xprintf("/%.*s", (int)(t + tl - rest), rest);
		else
			h->path = xstrndup(rest, (size_t)(t + tl - rest));
		if (split_path(c, h, h->path, strlen(h->path)) < 0)
			return -EINVAL;
	} else
		return perr(c, 400, "bad_request",
		    "request target '%s' is not a path, an absolute URI or '*' (host:port is for CONNECT only)",
		    excerpt(ex, sizeof ex, t, tl));

	if (host == NULL) {
		if (h->version == 11)
			return perr(c, 400, "bad_request",
			    "HTTP/1.1 request without a Host header");
		if (h->host == NULL)
			h->port = defport;
		return 0;
	}
	if (parse_authority(host->value, host->valuelen, false, hostdef,
	    &hh, &hp) < 0)
		return perr(c, 400, "bad_request", "invalid Host header '%s'",
		    excerpt(ex, sizeof ex, host->value, host->valuelen));
	if (h->host != NULL) {
		bool same = strcasecmp(hh, h->host) == 0 && hp == h->port;

		free(hh);
		if (!same)
			return perr(c, 400, "bad_request",
			    "request URI authority '%s' and Host '%s' disagree",
			    excerpt(ex, sizeof ex, h->authority,
			    strlen(h->authority)),
			    excerpt(ex2, sizeof ex2, host->value,
			    host->valuelen));
		return 0;
	}
	h->host = hh;
	h->port = hp;
	h->authority = xstrndup(host->value, host->valuelen);
	return 0;
}

/* Expect: 100-continue is flagged, any other expectation refused. */
static int
parse_expect(const struct pctx *c, struct proxy_head *h,
    const struct fields *f)
{
	char	ex[EXCERPT_SIZE];
	size_t	i;

	if (h->version != 11 || nominated(f, "expect", 6))
		return 0;
	for (i = 0; i < f->nh; i++) {
		const struct hdr *x = &f->hv[i];

		if (!name_is(x, "expect"))
			continue;
		if (x->valuelen != 12 ||
		    strncasecmp(x->value, "100-continue", 12) != 0)
			return perr(c, 417, "expectation_failed",
			    "unsupported expectation '%s' (only 100-continue is)",
			    excerpt(ex, sizeof ex, x->value, x->valuelen));
		h->expect_continue = true;
	}
	return 0;
}

/* The forward proxy's head: origin-form, Host from the URI unless the
 * client's agrees, hop-by-hop fields gone, one request per connection. */
static void
forward_rewrite(struct proxy_head *h, const struct fields *f,
    const struct hdr *host)
{
	struct os_buf	 b = OS_BUF_INIT;
	bool		 keep_host = false;
	size_t		 i;

	if (host != NULL) {
		char		*hh = NULL;
		uint16_t	 hp = 0;

		if (parse_authority(host->value, host->valuelen, false, 80,
		    &hh, &hp) == 0) {
			keep_host = strcasecmp(hh, h->host) == 0 && hp == h->port;
			free(hh);
		}
	}
	os_buf_addf(&b, "%s ", h->method);
	emit_target(&b, h);
	os_buf_addf(&b, " HTTP/1.%d\r\n", h->version - 10);
	for (i = 0; i < f->nh; i++) {
		const struct hdr *x = &f->hv[i];

		if (is_hop_by_hop(x) || nominated(f, x->name, x->namelen))
			continue;
		if (x == host && !keep_host)
			os_buf_addf(&b, "Host: %s", h->authority);
		else
			os_buf_add(&b, x->line, x->linelen);
		os_buf_adds(&b, "\r\n");
	}
	if (host == NULL)
		os_buf_addf(&b, "Host: %s\r\n", h->authority);
	os_buf_adds(&b, "Connection: close\r\n\r\n");
	h->rewritten = os_buf_steal(&b);
}

static void
origin_rewrite(struct proxy_head *h, const struct fields *f,
    const struct hdr *host)
{
	struct os_buf	b = OS_BUF_INIT;

	os_buf_addf(&b, "%s ", h->method);
	emit_target(&b, h);
	os_buf_addf(&b, " HTTP/1.%d\r\n", h->version - 10);
	emit_fields(&b, f, h->upgrade);
	if (host == NULL && h->authority != NULL)   /* absolute-form, 1.0 */
		os_buf_addf(&b, "Host: %s\r\n", h->authority);
	if (!h->upgrade)
		emit_connection(&b, h->version, h->keep_alive);
	os_buf_adds(&b, "\r\n");
	h->rewritten = os_buf_steal(&b);
}

/* METHOD SP target SP HTTP/1.x CRLF */
static int
parse_request_line(const struct pctx *c, const char *buf, const char *end,
    struct proxy_head *h, const char **eolp)
{
	char		 ex[EXCERPT_SIZE];
	const char	*eol, *sp1, *sp2, *v;
	size_t		 ml, tl, i;

	if (line_end(c, buf, end, "request line", &eol) < 0)
		return -EINVAL;
	sp1 = memchr(buf, ' ', (size_t)(eol - buf));
	sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (sp2 == NULL || memchr(sp2 + 1, ' ', (size_t)(eol - sp2 - 1)) != NULL ||
	    sp1 == buf || sp2 == sp1 + 1)
		return perr(c, 400, "bad_request",
		    "malformed request line (expected METHOD SP target SP HTTP/1.1)");
	ml = (size_t)(sp1 - buf);
	tl = (size_t)(sp2 - sp1 - 1);
	for (i = 0; i < ml; i++) {
		if (!is_tchar((unsigned char)buf[i]))
			break;
	}
	if (i < ml || ml > METHOD_MAX)
		return perr(c, 400, "bad_request", "invalid method '%s'",
		    excerpt(ex, sizeof ex, buf, ml));
	for (i = 0; i < tl; i++) {
		unsigned char ch = (unsigned char)sp1[1 + i];

		if (ch <= 0x20 || ch >= 0x7f)
			return perr(c, 400, "bad_request",
			    "invalid character in request target");
	}
	v = sp2 + 1;
	if (eol - v != 8 || memcmp(v, "HTTP/", 5) != 0 ||
	    !is_digit((unsigned char)v[5]) || v[6] != '.' ||
	    !is_digit((unsigned char)v[7]))
		return perr(c, 400, "bad_request",
		    "malformed HTTP version '%s'",
		    excerpt(ex, sizeof ex, v, (size_t)(eol - v)));
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return perr(c, 505, "http_version_not_supported",
		    "HTTP version %.8s is not supported (HTTP/1.0 and HTTP/1.1 are)",
		    v);
	h->version = v[7] == '1' ? 11 : 10;
	h->method = xstrndup(buf, ml);
	h->target = xstrndup(sp1 + 1, tl);
	*eolp = eol;
	return 0;
}

static int
parse_request(const char *buf, size_t len, size_t max, bool in_tunnel,
    uint16_t defport, struct proxy_head *h, struct proxy_head_error *e)
{
	struct pctx		 c = { .e = e, .response = false };
	struct fields		 f;
	struct framing		 fr;
	struct conn		 k;
	const struct hdr	*host;
	const char		*end = buf + len, *eol = NULL;

	memset(h, 0, sizeof *h);
	memset(e, 0, sizeof *e);
	if (len > max)
		return head_err(e, 431, "headers_too_large",
		    "request head larger than %zu bytes", max);
	if (memchr(buf, '\0', len) != NULL)
		return head_err(e, 400, "bad_request", "NUL byte in request head");
	if (parse_request_line(&c, buf, end, h, &eol) < 0 ||
	    split_fields(&c, eol + 2, end, &f) < 0)
		goto fail;
	conn_tokens(&f, &k);
	h->keep_alive = keep_alive_of(h->version, &k);

	if (strcmp(h->method, "CONNECT") == 0) {
		if (in_tunnel) {
			perr(&c, 400, "bad_request",
			    "CONNECT inside a tunnel is not accepted");
			goto fail;
		}
		h->kind = PROXY_HEAD_CONNECT;
		if (parse_authority(h->target, strlen(h->target), true, 0,
		    &h->host, &h->port) < 0) {
			perr(&c, 400, "bad_request",
			    "CONNECT target must be host:port or [v6]:port");
			goto fail;
		}
		h->authority = xstrdup(h->target);
		/* Bytes after a CONNECT head are tunnel data, never a body. */
		if (parse_framing(&c, &f, h->version, &fr) < 0)
			goto fail;
		if (fr.have_te || fr.cl > 0) {
			perr(&c, 400, "bad_request", "CONNECT request with a body");
			goto fail;
		}
		h->keep_alive = false;
		return 0;
	}

	if (one_host(&c, &f, &host) < 0)
		goto fail;
	if (in_tunnel) {
		h->kind = PROXY_HEAD_ORIGIN;
		if (parse_origin_target(&c, h, h->target, strlen(h->target),
		    host, defport) < 0)
			goto fail;
	} else {
		h->kind = PROXY_HEAD_FORWARD;
		if (parse_forward_target(&c, h, h->target, strlen(h->target)) < 0)
			goto fail;
	}
	if (check_nominated_framing(&c, &f) < 0 ||
	    parse_framing(&c, &f, h->version, &fr) < 0)
		goto fail;
	h->content_length = fr.cl;
	if (fr.have_te)
		h->body = PROXY_BODY_CHUNKED;
	else if (fr.cl > 0)
		h->body = PROXY_BODY_LENGTH;
	if (parse_expect(&c, h, &f) < 0)
		goto fail;

	if (!in_tunnel) {
		forward_rewrite(h, &f, host);
		return 0;
	}
	if (h->version == 11 && k.upgrade && strcmp(h->method, "GET") == 0 &&
	    any_field_has(&f, "upgrade", "websocket")) {
		if (h->body != PROXY_BODY_NONE) {
			perr(&c, 400, "bad_request",
			    "WebSocket upgrade request with a body");
			goto fail;
		}
		h->upgrade = true;
	}
	origin_rewrite(h, &f, host);
	return 0;
fail:
	proxy_head_clear(h);
	return -EINVAL;
}

int
proxy_head_parse(const char *buf, size_t len, struct proxy_head *h,
    struct proxy_head_error *e)
{
	return parse_request(buf, len, PROXY_HEAD_LISTEN_MAX, false, 0, h, e);
}

int
proxy_head_parse_origin(const char *buf, size_t len, uint16_t defport,
    struct proxy_head *h, struct proxy_head_error *e)
{
	return parse_request(buf, len, PROXY_HEAD_MAX, true, defport, h, e);
}

void
proxy_head_clear(struct proxy_head *h)
{
	free(h->method);
	free(h->host);
	free(h->authority);
	free(h->path);
	free(h->rewritten);
	free(h->target);
	free(h->canon_path);
	free(h->query);
	memset(h, 0, sizeof *h);
}

/* ------------------------------------------------------------------------
 * Responses
 */
/* HTTP/1.x SP 3DIGIT [SP reason] CRLF (a missing SP before an empty
 * reason is tolerated: it changes nothing about framing). */
static int
parse_status_line(const struct pctx *c, const char *buf, const char *end,
    struct proxy_response *r, const char **eolp)
{
	char		 ex[EXCERPT_SIZE];
	const char	*eol, *q;
	size_t		 ll;

	if (line_end(c, buf, end, "status line", &eol) < 0)
		return -EINVAL;
	ll = (size_t)(eol - buf);
	if (ll < 12 || memcmp(buf, "HTTP/", 5) != 0 ||
	    !is_digit((unsigned char)buf[5]) || buf[6] != '.' ||
	    !is_digit((unsigned char)buf[7]) || buf[8] != ' ' ||
	    !is_digit((unsigned char)buf[9]) ||
	    !is_digit((unsigned char)buf[10]) ||
	    !is_digit((unsigned char)buf[11]) || (ll > 12 && buf[12] != ' '))
		return perr(c, 502, "", "malformed status line '%s'",
		    excerpt(ex, sizeof ex, buf, ll));
	if (buf[5] != '1' || (buf[7] != '0' && buf[7] != '1'))
		return perr(c, 502, "", "unsupported HTTP version %.8s in the response",
		    buf);
	r->version = buf[7] == '1' ? 11 : 10;
	r->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	if (r->status < 100 || r->status > 599)
		return perr(c, 502, "", "status code %d out of range",
		    r->status);
	for (q = buf + 13; q < eol; q++) {
		if (is_ctl((unsigned char)*q))
			return perr(c, 502, "",
			    "control character in the reason phrase");
	}
	r->reason = ll > 12 ? xstrndup(buf + 13, ll - 13) : xstrdup("");
	*eolp = eol;
	return 0;
}

int
proxy_head_parse_response(const char *buf, size_t len,
    const struct proxy_head *req, struct proxy_response *r,
    struct proxy_head_error *e)
{
	struct pctx	 c = { .e = e, .response = true };
	struct fields	 f;
	struct framing	 fr;
	struct conn	 k;
	struct os_buf	 b = OS_BUF_INIT;
	const char	*end = buf + len, *eol = NULL;
	const char	*method = req != NULL ? req->method : "GET";
	bool		 asked_upgrade = req != NULL && req->upgrade;
	bool		 connect = req != NULL && req->kind == PROXY_HEAD_CONNECT;

	memset(r, 0, sizeof *r);
	memset(e, 0, sizeof *e);
	if (len > PROXY_HEAD_MAX)
		return head_err(e, 502, "bad_upstream_response",
		    "response head larger than %d bytes", PROXY_HEAD_MAX);
	if (memchr(buf, '\0', len) != NULL)
		return head_err(e, 502, "bad_upstream_response",
		    "NUL byte in response head");
	if (parse_status_line(&c, buf, end, r, &eol) < 0 ||
	    split_fields(&c, eol + 2, end, &f) < 0 ||
	    check_nominated_framing(&c, &f) < 0 ||
	    parse_framing(&c, &f, r->version, &fr) < 0)
		goto fail;
	conn_tokens(&f, &k);
	r->content_length = fr.cl;
	r->keep_alive = keep_alive_of(r->version, &k);

	if (connect && r->status / 100 == 2) {
		r->body = PROXY_RESP_NONE;
		r->upgrade = true;
	} else if (r->status == 101) {
		if (!asked_upgrade) {
			perr(&c, 502, "",
			    "101 Switching Protocols to a request that asked for no upgrade");
			goto fail;
		}
		if (r->version != 11 || !k.upgrade ||
		    !any_field_has(&f, "upgrade", "websocket")) {
			perr(&c, 502, "",
			    "101 Switching Protocols without HTTP/1.1, Connection: upgrade and Upgrade: websocket");
			goto fail;
		}
		r->body = PROXY_RESP_NONE;
		r->upgrade = true;
	} else if (r->status / 100 == 1 || r->status == 204) {
		if (fr.have_te || fr.cl > 0) {
			perr(&c, 502, "", "%d response with a body", r->status);
			goto fail;
		}
		r->body = PROXY_RESP_NONE;
		r->interim = r->status != 204;
	} else if (r->status == 304 || strcmp(method, "HEAD") == 0)
		r->body = PROXY_RESP_NONE;
	else if (fr.have_te)
		r->body = PROXY_RESP_CHUNKED;
	else if (fr.have_cl)
		r->body = fr.cl > 0 ? PROXY_RESP_LENGTH : PROXY_RESP_NONE;
	else
		r->body = PROXY_RESP_CLOSE;
	if (r->body == PROXY_RESP_CLOSE || r->upgrade)
		r->keep_alive = false;

	os_buf_add(&b, buf, (size_t)(eol + 2 - buf));
	emit_fields(&b, &f, r->status == 101);
	if (!r->interim && !r->upgrade)
		emit_connection(&b, r->version, r->keep_alive);
	os_buf_adds(&b, "\r\n");
	r->rewritten = os_buf_steal(&b);
	return 0;
fail:
	proxy_response_clear(r);
	return -EINVAL;
}

void
proxy_response_clear(struct proxy_response *r)
{
	free(r->reason);
	free(r->rewritten);
	memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------------------
 * Chunked body tracking
 */
enum {
	CH_SIZE,          /* the first hex digit of a chunk size */
	CH_SIZE_DIGITS,
	CH_SIZE_BWS,      /* spaces after the size: ';' must follow */
	CH_EXT,
	CH_SIZE_LF,
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TRAILER_START,
	CH_TRAILER_NAME,
	CH_TRAILER_VALUE,
	CH_TRAILER_LF,
	CH_END_LF,
};

void
proxy_chunked_init(struct proxy_chunked *c)
{
	memset(c, 0, sizeof *c);
}

size_t
proxy_chunked_feed(struct proxy_chunked *c, const char *buf, size_t len)
{
	const char	*why = NULL;
	size_t		 i = 0;

	while (i < len && !c->done && !c->error) {
		unsigned char	ch = (unsigned char)buf[i];

		if (c->state >= CH_SIZE_DIGITS && c->state <= CH_EXT &&
		    ch != '\r' && ++c->linelen > CH_LINE_MAX) {
			why = "chunk size line longer than 4096 bytes";
			goto bad;
		}
		if (c->state >= CH_TRAILER_START && c->state <= CH_END_LF &&
		    ++c->trailer_len > PROXY_HEAD_MAX) {
			why = "trailer section larger than 16384 bytes";
			goto bad;
		}
		switch (c->state) {
		case CH_SIZE:
			if (!is_hex(ch)) {
				why = "chunk size is not hexadecimal";
				goto bad;
			}
			c->left = hex_val(ch);
			c->ndigits = 1;
			c->linelen = 1;
			c->state = CH_SIZE_DIGITS;
			break;
		case CH_SIZE_DIGITS:
			if (is_hex(ch)) {
				if (++c->ndigits > CH_DIGITS_MAX) {
					why = "chunk size has more than 16 hex digits";
					goto bad;
				}
				c->left = c->left << 4 | hex_val(ch);
			} else if (ch == ';')
				c->state = CH_EXT;
			else if (ch == ' ' || ch == '\t')
				c->state = CH_SIZE_BWS;
			else if (ch == '\r')
				c->state = CH_SIZE_LF;
			else {
				why = ch == '\n' ? "bare LF in the chunk size line" :
				    "invalid character after the chunk size";
				goto bad;
			}
			break;
		case CH_SIZE_BWS:
			if (ch == ';')
				c->state = CH_EXT;
			else if (ch != ' ' && ch != '\t') {
				why = "whitespace after the chunk size not followed by ';'";
				goto bad;
			}
			break;
		case CH_EXT:
			if (ch == '\r')
				c->state = CH_SIZE_LF;
			else if (is_ctl(ch)) {
				why = ch == '\n' ? "bare LF in the chunk size line" :
				    "control character in a chunk extension";
				goto bad;
			}
			break;
		case CH_SIZE_LF:
			if (ch != '\n') {
				why = "bare CR in the chunk size line";
				goto bad;
			}
			c->state = c->left == 0 ? CH_TRAILER_START : CH_DATA;
			break;
		case CH_DATA: {
			size_t n = len - i;

			if ((uint64_t)n > c->left)
				n = (size_t)c->left;
			c->left -= n;
			i += n;
			if (c->left == 0)
				c->state = CH_DATA_CR;
			continue;
		}
		case CH_DATA_CR:
			if (ch != '\r') {
				why = "chunk data not followed by CRLF";
				goto bad;
			}
			c->state = CH_DATA_LF;
			break;
		case CH_DATA_LF:
			if (ch != '\n') {
				why = "chunk data not followed by CRLF";
				goto bad;
			}
			c->state = CH_SIZE;
			break;
		case CH_TRAILER_START:
			if (ch == '\r')
				c->state = CH_END_LF;
			else if (is_tchar(ch))
				c->state = CH_TRAILER_NAME;
			else {
				why = "malformed trailer field";
				goto bad;
			}
			break;
		case CH_TRAILER_NAME:
			if (ch == ':')
				c->state = CH_TRAILER_VALUE;
			else if (!is_tchar(ch)) {
				why = "malformed trailer field";
				goto bad;
			}
			break;
		case CH_TRAILER_VALUE:
			if (ch == '\r')
				c->state = CH_TRAILER_LF;
			else if (is_ctl(ch)) {
				why = ch == '\n' ? "bare LF in the trailer section" :
				    "control character in a trailer field";
				goto bad;
			}
			break;
		case CH_TRAILER_LF:
			if (ch != '\n') {
				why = "bare CR in the trailer section";
				goto bad;
			}
			c->state = CH_TRAILER_START;
			break;
		case CH_END_LF:
			if (ch != '\n') {
				why = "bare CR at the end of the body";
				goto bad;
			}
			c->done = true;
			break;
		}
		i++;
	}
	c->consumed += i;
	return i;
bad:
	c->error = true;
	c->why = why;
	c->consumed += i;
	return i;
}
