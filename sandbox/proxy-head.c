/*
 * Request heads as the proxy sees them: `CONNECT host:port` and
 * absolute-form `METHOD http://host[:port]/path` requests, parsed
 * strictly (no bare LF, no obs-fold, no ambiguous body framing), and the
 * origin-form head a forward request is rewritten to. No I/O here.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy-int.h"

#define HEAD_MAX_HEADERS	100

struct hdr {
	const char	*name;
	size_t		 namelen;
	const char	*value;       /* trimmed */
	size_t		 valuelen;
	const char	*line;        /* the whole line, without CRLF */
	size_t		 linelen;
};

static int
head_err(struct proxy_head_error *e, int status, const char *error,
    const char *fmt, ...) OS_PRINTF(4, 5);

static int
head_err(struct proxy_head_error *e, int status, const char *error,
    const char *fmt, ...)
{
	va_list	ap;

	e->status = status;
	snprintf(e->error, sizeof e->error, "%s", error);
	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof e->detail, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

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

void
proxy_head_clear(struct proxy_head *h)
{
	free(h->method);
	free(h->host);
	free(h->authority);
	free(h->path);
	free(h->rewritten);
	memset(h, 0, sizeof *h);
}

/* RFC 9110 tchar. */
static bool
is_tchar(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool
name_is(const struct hdr *h, const char *name)
{
	return strlen(name) == h->namelen &&
	    strncasecmp(h->name, name, h->namelen) == 0;
}

/* "1".."65535" only. */
static int
parse_port(const char *s, size_t len, uint16_t *out)
{
	unsigned long	v = 0;
	size_t		i;

	if (len == 0 || len > 5)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
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

			if (!isalnum(c) && c != '-' && c != '.' && c != '_')
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

/* Splits the header block into lines, strictly. */
static int
split_headers(const char *p, const char *end, struct hdr *hv, size_t *nh,
    struct proxy_head_error *e)
{
	size_t	n = 0;

	while (p < end) {
		const char	*eol = p, *colon;
		struct hdr	*h;

		while (eol < end && *eol != '\r' && *eol != '\n')
			eol++;
		if (eol + 1 >= end || eol[0] != '\r' || eol[1] != '\n')
			return head_err(e, 400, "bad_request",
			    "malformed header line (bare LF or CR)");
		if (eol == p)        /* the empty line ending the head */
			break;
		if (*p == ' ' || *p == '\t')
			return head_err(e, 400, "bad_request",
			    "obsolete line folding is not accepted");
		if (n == HEAD_MAX_HEADERS)
			return head_err(e, 431, "headers_too_large",
			    "more than %d header fields", HEAD_MAX_HEADERS);
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon == NULL || colon == p)
			return head_err(e, 400, "bad_request",
			    "malformed header line (no field name)");
		h = &hv[n++];
		h->line = p;
		h->linelen = (size_t)(eol - p);
		h->name = p;
		h->namelen = (size_t)(colon - p);
		for (size_t i = 0; i < h->namelen; i++) {
			if (!is_tchar((unsigned char)p[i]))
				return head_err(e, 400, "bad_request",
				    "invalid character in header field name");
		}
		h->value = colon + 1;
		while (h->value < eol && (*h->value == ' ' || *h->value == '\t'))
			h->value++;
		h->valuelen = (size_t)(eol - h->value);
		while (h->valuelen > 0 && (h->value[h->valuelen - 1] == ' ' ||
		    h->value[h->valuelen - 1] == '\t'))
			h->valuelen--;
		for (size_t i = 0; i < h->valuelen; i++) {
			unsigned char c = (unsigned char)h->value[i];

			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return head_err(e, 400, "bad_request",
				    "control character in header field value");
		}
		p = eol + 2;
	}
	*nh = n;
	return 0;
}

/* Is `name` among the comma-separated tokens of any Connection header? */
static bool
connection_names(const struct hdr *hv, size_t nh, const char *name, size_t namelen)
{
	size_t	i;

	for (i = 0; i < nh; i++) {
		const char	*v, *end;

		if (!name_is(&hv[i], "connection"))
			continue;
		v = hv[i].value;
		end = v + hv[i].valuelen;
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
			if (tl == namelen && strncasecmp(v, name, tl) == 0)
				return true;
			v = t + 1;
		}
	}
	return false;
}

static int
parse_framing(struct proxy_head *h, const struct hdr *hv, size_t nh,
    struct proxy_head_error *e)
{
	bool	have_cl = false, have_te = false;
	size_t	i;

	h->body = PROXY_BODY_NONE;
	for (i = 0; i < nh; i++) {
		if (name_is(&hv[i], "content-length")) {
			uint64_t	v = 0;
			size_t		k;

			if (hv[i].valuelen == 0 || hv[i].valuelen > 18)
				return head_err(e, 400, "bad_request",
				    "invalid Content-Length");
			for (k = 0; k < hv[i].valuelen; k++) {
				if (!isdigit((unsigned char)hv[i].value[k]))
					return head_err(e, 400, "bad_request",
					    "invalid Content-Length");
				v = v * 10 + (uint64_t)(hv[i].value[k] - '0');
			}
			if (have_cl && v != h->content_length)
				return head_err(e, 400, "bad_request",
				    "conflicting Content-Length headers");
			have_cl = true;
			h->content_length = v;
		} else if (name_is(&hv[i], "transfer-encoding")) {
			if (have_te || hv[i].valuelen != 7 ||
			    strncasecmp(hv[i].value, "chunked", 7) != 0)
				return head_err(e, 400, "bad_request",
				    "unsupported Transfer-Encoding (only a single \"chunked\" is accepted)");
			have_te = true;
		}
	}
	if (have_cl && have_te)
		return head_err(e, 400, "bad_request",
		    "both Content-Length and Transfer-Encoding");
	if (have_te)
		h->body = PROXY_BODY_CHUNKED;
	else if (have_cl && h->content_length > 0)
		h->body = PROXY_BODY_LENGTH;
	return 0;
}

/* Hop-by-hop fields the proxy consumes or replaces. */
static bool
is_hop_by_hop(const struct hdr *h)
{
	static const char *const names[] = {
		"proxy-connection", "proxy-authorization", "connection",
		"keep-alive", "te", "trailer", "upgrade",
	};
	size_t	i;

	for (i = 0; i < OS_NELEM(names); i++) {
		if (name_is(h, names[i]))
			return true;
	}
	return false;
}

static int
forward_rewrite(struct proxy_head *h, const char *version, const struct hdr *hv,
    size_t nh, struct proxy_head_error *e)
{
	struct os_buf	 b = OS_BUF_INIT;
	const struct hdr *host = NULL;
	bool		 keep_host = false;
	size_t		 i;

	for (i = 0; i < nh; i++) {
		if (!name_is(&hv[i], "host"))
			continue;
		if (host != NULL)
			return head_err(e, 400, "bad_request",
			    "more than one Host header");
		host = &hv[i];
	}
	/* Nominating a framing field in Connection would make us and the
	 * upstream disagree about where the request ends. */
	if (connection_names(hv, nh, "host", 4) ||
	    connection_names(hv, nh, "content-length", 14) ||
	    connection_names(hv, nh, "transfer-encoding", 17))
		return head_err(e, 400, "bad_request",
		    "Connection header names a framing field");
	if (host != NULL) {
		char		*hh = NULL;
		uint16_t	 hp = 0;

		if (parse_authority(host->value, host->valuelen, false, 80,
		    &hh, &hp) == 0) {
			keep_host = strcasecmp(hh, h->host) == 0 && hp == h->port;
			free(hh);
		}
	}

	os_buf_addf(&b, "%s %s %s\r\n", h->method, h->path, version);
	for (i = 0; i < nh; i++) {
		const struct hdr *x = &hv[i];

		if (is_hop_by_hop(x) ||
		    connection_names(hv, nh, x->name, x->namelen))
			continue;
		if (x == host) {
			if (keep_host)
				os_buf_add(&b, x->line, x->linelen);
			else
				os_buf_addf(&b, "Host: %s", h->authority);
			os_buf_adds(&b, "\r\n");
			continue;
		}
		os_buf_add(&b, x->line, x->linelen);
		os_buf_adds(&b, "\r\n");
	}
	if (host == NULL)
		os_buf_addf(&b, "Host: %s\r\n", h->authority);
	os_buf_adds(&b, "Connection: close\r\n\r\n");
	h->rewritten = os_buf_steal(&b);
	return 0;
}

/* METHOD scheme://authority/path... */
static int
parse_absolute(struct proxy_head *h, const char *t, size_t tl,
    struct proxy_head_error *e)
{
	const char	*sep, *auth, *rest, *end = t + tl;
	size_t		 schemelen;

	if (tl > 0 && t[0] == '/')
		return head_err(e, 400, "bad_request",
		    "%s %.*s: a proxy needs an absolute URI (http://host/path) or CONNECT",
		    h->method, (int)(tl > 100 ? 100 : tl), t);
	sep = NULL;
	for (const char *q = t; q + 2 < end; q++) {
		if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
			sep = q;
			break;
		}
		if (!isalnum((unsigned char)*q) && *q != '+' && *q != '-' && *q != '.')
			break;
	}
	if (sep == NULL || sep == t)
		return head_err(e, 400, "bad_request", "malformed request target");
	schemelen = (size_t)(sep - t);
	if (schemelen == 5 && strncasecmp(t, "https", 5) == 0)
		return head_err(e, 400, "https_not_supported",
		    "Use CONNECT for HTTPS URLs");
	if (schemelen != 4 || strncasecmp(t, "http", 4) != 0)
		return head_err(e, 400, "unsupported_proxy_scheme",
		    "unsupported scheme '%.*s' (only http:// is forwarded; use CONNECT for anything else)",
		    (int)(schemelen > 20 ? 20 : schemelen), t);
	auth = sep + 3;
	rest = auth;
	while (rest < end && *rest != '/' && *rest != '?' && *rest != '#')
		rest++;
	if (memchr(auth, '@', (size_t)(rest - auth)) != NULL)
		return head_err(e, 400, "bad_request",
		    "user information in the request URI is not accepted");
	if (memchr(t, '#', tl) != NULL)
		return head_err(e, 400, "bad_request",
		    "fragment in the request URI is not accepted");
	if (parse_authority(auth, (size_t)(rest - auth), false, 80, &h->host,
	    &h->port) < 0)
		return head_err(e, 400, "bad_request",
		    "invalid host or port in the request URI");
	h->authority = xstrndup(auth, (size_t)(rest - auth));
	if (rest == end)
		h->path = xstrdup("/");
	else if (*rest == '?')
		h->path = xprintf("/%.*s", (int)(end - rest), rest);
	else
		h->path = xstrndup(rest, (size_t)(end - rest));
	return 0;
}

int
proxy_head_parse(const char *buf, size_t len, struct proxy_head *h,
    struct proxy_head_error *e)
{
	struct hdr	 hv[HEAD_MAX_HEADERS];
	size_t		 nh = 0, i, ml, tl;
	const char	*p = buf, *end = buf + len, *eol, *sp1, *sp2;
	char		 version[9];

	memset(h, 0, sizeof *h);
	memset(e, 0, sizeof *e);
	if (memchr(buf, '\0', len) != NULL)
		return head_err(e, 400, "bad_request", "NUL byte in request head");
	eol = p;
	while (eol < end && *eol != '\r' && *eol != '\n')
		eol++;
	if (eol + 1 >= end || eol[0] != '\r' || eol[1] != '\n')
		return head_err(e, 400, "bad_request", "malformed request line");
	sp1 = memchr(p, ' ', (size_t)(eol - p));
	if (sp1 == NULL)
		return head_err(e, 400, "bad_request", "malformed request line");
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (sp2 == NULL || memchr(sp2 + 1, ' ', (size_t)(eol - sp2 - 1)) != NULL)
		return head_err(e, 400, "bad_request", "malformed request line");
	ml = (size_t)(sp1 - p);
	tl = (size_t)(sp2 - sp1 - 1);
	if (ml == 0 || ml > 32 || tl == 0 || eol - sp2 - 1 != 8)
		return head_err(e, 400, "bad_request", "malformed request line");
	for (i = 0; i < ml; i++) {
		if (!is_tchar((unsigned char)p[i]))
			return head_err(e, 400, "bad_request", "invalid method");
	}
	for (i = 0; i < tl; i++) {
		unsigned char c = (unsigned char)sp1[1 + i];

		if (c <= 0x20 || c >= 0x7f)
			return head_err(e, 400, "bad_request",
			    "invalid character in request target");
	}
	memcpy(version, sp2 + 1, 8);
	version[8] = '\0';
	if (strcmp(version, "HTTP/1.1") != 0 && strcmp(version, "HTTP/1.0") != 0)
		return head_err(e, 400, "bad_request",
		    "unsupported HTTP version (HTTP/1.0 and HTTP/1.1 are accepted)");
	h->method = xstrndup(p, ml);
	if (split_headers(eol + 2, end, hv, &nh, e) < 0)
		goto fail;

	if (strcmp(h->method, "CONNECT") == 0) {
		h->kind = PROXY_HEAD_CONNECT;
		if (parse_authority(sp1 + 1, tl, true, 0, &h->host, &h->port) < 0) {
			head_err(e, 400, "bad_request",
			    "CONNECT target must be host:port or [v6]:port");
			goto fail;
		}
		h->authority = xstrndup(sp1 + 1, tl);
		return 0;
	}
	h->kind = PROXY_HEAD_FORWARD;
	if (parse_absolute(h, sp1 + 1, tl, e) < 0 ||
	    parse_framing(h, hv, nh, e) < 0 ||
	    forward_rewrite(h, version, hv, nh, e) < 0)
		goto fail;
	return 0;
fail:
	proxy_head_clear(h);
	return -EINVAL;
}

/* ------------------------------------------------------------------------
 * Chunked body tracking
 */
enum {
	CH_SIZE, CH_SIZE_DIGITS, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR,
	CH_DATA_LF, CH_TRAILER_START, CH_TRAILER_LINE, CH_TRAILER_LF, CH_END_LF,
};

#define CH_LINE_MAX	4096

size_t
proxy_chunked_feed(struct proxy_chunked *c, const char *buf, size_t len)
{
	size_t	i = 0;

	while (i < len && !c->done && !c->error) {
		unsigned char	ch = (unsigned char)buf[i];

		switch (c->state) {
		case CH_SIZE:
		case CH_SIZE_DIGITS:
			if (isxdigit(ch)) {
				if (c->left >> 56)
					goto bad;
				c->left = c->left * 16 + (uint64_t)(isdigit(ch) ?
				    ch - '0' : (tolower(ch) - 'a' + 10));
				c->state = CH_SIZE_DIGITS;
			} else if (c->state == CH_SIZE_DIGITS && (ch == ';' ||
			    ch == ' ' || ch == '\t')) {
				c->state = CH_EXT;
				c->linelen = 0;
			} else if (c->state == CH_SIZE_DIGITS && ch == '\r')
				c->state = CH_SIZE_LF;
			else
				goto bad;
			i++;
			break;
		case CH_EXT:
			if (ch == '\r')
				c->state = CH_SIZE_LF;
			else if (ch == '\n' || ++c->linelen > CH_LINE_MAX)
				goto bad;
			i++;
			break;
		case CH_SIZE_LF:
			if (ch != '\n')
				goto bad;
			c->state = c->left == 0 ? CH_TRAILER_START : CH_DATA;
			i++;
			break;
		case CH_DATA: {
			size_t n = len - i;

			if ((uint64_t)n > c->left)
				n = (size_t)c->left;
			c->left -= n;
			i += n;
			if (c->left == 0)
				c->state = CH_DATA_CR;
			break;
		}
		case CH_DATA_CR:
			if (ch != '\r')
				goto bad;
			c->state = CH_DATA_LF;
			i++;
			break;
		case CH_DATA_LF:
			if (ch != '\n')
				goto bad;
			c->state = CH_SIZE;
			i++;
			break;
		case CH_TRAILER_START:
			if (ch == '\r')
				c->state = CH_END_LF;
			else if (ch == '\n')
				goto bad;
			else {
				c->state = CH_TRAILER_LINE;
				c->linelen = 1;
			}
			i++;
			break;
		case CH_TRAILER_LINE:
			if (ch == '\r')
				c->state = CH_TRAILER_LF;
			else if (ch == '\n' || ++c->linelen > CH_LINE_MAX)
				goto bad;
			i++;
			break;
		case CH_TRAILER_LF:
			if (ch != '\n')
				goto bad;
			c->state = CH_TRAILER_START;
			i++;
			break;
		case CH_END_LF:
			if (ch != '\n')
				goto bad;
			c->done = true;
			i++;
			break;
		}
	}
	return i;
bad:
	c->error = true;
	return i;
}
