/*
 * HTTP/1.1 heads as the proxy sees them (proxy-head.c): pure parsing, no
 * I/O, strict (no bare LF or CR, no obs-fold, no control bytes, no
 * ambiguous body framing). One parser for the whole proxy:
 *
 *   proxy_head_parse           the first head on the listener: CONNECT
 *                              host:port or an absolute-form http:// request
 *   proxy_head_parse_origin    a request inside an inspected tunnel
 *                              (origin-form, absolute-form or OPTIONS *)
 *   proxy_head_parse_response  an upstream response head, framed for the
 *                              request it answers
 *   proxy_chunked_feed         where a chunked body ends
 *
 * Every refusal comes with the HTTP status to answer, a short error code
 * and a detail for humans (struct proxy_head_error). Request refusals are
 * 400 "bad_request" unless noted: 431 "headers_too_large", 505
 * "http_version_not_supported", 417 "expectation_failed", and the forward
 * proxy's 400 "https_not_supported" / "unsupported_proxy_scheme". Response
 * refusals are all 502 "bad_upstream_response".
 */
#ifndef PROXY_HEAD_H
#define PROXY_HEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROXY_HEAD_MAX		16384   /* a head (line + fields + CRLF CRLF) */
#define PROXY_HEAD_LISTEN_MAX	8192    /* the first head on the listener */
#define PROXY_HEAD_MAX_FIELDS	100

enum proxy_head_kind {
	PROXY_HEAD_CONNECT,
	PROXY_HEAD_FORWARD,     /* absolute-form http:// request */
	PROXY_HEAD_ORIGIN,      /* a request inside a tunnel (parse_origin) */
};

enum proxy_body_kind {
	PROXY_BODY_NONE,
	PROXY_BODY_LENGTH,
	PROXY_BODY_CHUNKED,
};

/*
 * A parsed request. All strings are NUL-terminated copies owned by the
 * struct (proxy_head_clear frees them).
 *
 * path and target are as the client wrote them; canon_path is what L7
 * decisions are made on, and the rewritten head carries canon_path (plus
 * '?' query) as its target, so the upstream sees exactly what was decided.
 * canon_path: percent-escapes of unreserved characters decoded, every
 * other escape upper-cased (%2F stays encoded and never separates
 * segments), other characters outside RFC 3986 pchar escaped, "." and
 * ".." resolved (".." above the root is refused), repeated '/'
 * collapsed; a trailing '/' is kept. It never holds a query.
 */
struct proxy_head {
	enum proxy_head_kind	 kind;
	char			*method;
	char			*host;          /* without brackets; ORIGIN: NULL for an HTTP/1.0 request without Host */
	uint16_t		 port;          /* ORIGIN: from Host, else the default given */
	char			*authority;     /* host[:port] as written (target, or Host for ORIGIN) */
	char			*path;          /* origin-form target with query, as written (not CONNECT) */
	char			*rewritten;     /* the head to send upstream (not CONNECT), ends CRLF CRLF */
	enum proxy_body_kind	 body;
	uint64_t		 content_length;

	/* Added for L7 decisions (FORWARD and ORIGIN; zero for CONNECT). */
	int			 version;        /* 10 or 11 (all kinds) */
	char			*target;         /* request-target exactly as written (all kinds) */
	char			*canon_path;     /* see above; "*" for OPTIONS * */
	char			*query;          /* raw, without '?'; NULL when the target has no '?' */
	bool			 asterisk;       /* OPTIONS * */
	bool			 encoded_slash;  /* canon_path holds %2F */
	bool			 keep_alive;     /* the client wants the connection kept open */
	bool			 upgrade;        /* ORIGIN: WebSocket upgrade (GET, HTTP/1.1,
						  * Upgrade: websocket, Connection: upgrade);
						  * Upgrade and Connection are kept in rewritten */
	bool			 expect_continue; /* Expect: 100-continue (HTTP/1.1) */
};

/* Parse status: 0, or an HTTP status to answer with and a detail. */
struct proxy_head_error {
	int	 status;          /* 400 */
	char	 error[32];       /* "bad_request", "https_not_supported" */
	char	 detail[256];
};

/*
 * Parses the first head on the listener (CONNECT, or absolute-form http://
 * forwarded with "Connection: close"), of at most PROXY_HEAD_LISTEN_MAX
 * bytes. buf holds exactly one complete head: len is proxy_head_end().
 * On failure *h is cleared and *e filled.
 */
int	 proxy_head_parse(const char *buf, size_t len, struct proxy_head *,
	     struct proxy_head_error *);

/*
 * Parses a request inside a tunnel (kind PROXY_HEAD_ORIGIN), of at most
 * PROXY_HEAD_MAX bytes: origin-form, absolute-form (http or https; its
 * authority must agree with Host) or OPTIONS *; CONNECT is refused. Host
 * must appear exactly once in HTTP/1.1 (at most once in HTTP/1.0);
 * defport is the port of a Host without one (443 after TLS, 80 plain).
 * rewritten: the request line with the canonical target, then every field
 * line byte for byte except the hop-by-hop ones (Connection, Keep-Alive,
 * Proxy-Connection, Proxy-Authorization, Proxy-Authenticate, TE, Trailer,
 * Upgrade, the reserved Close, and any field Connection names), then "Connection: close" for
 * an HTTP/1.1 request that is not kept alive or "Connection: keep-alive"
 * for an HTTP/1.0 one that is. A WebSocket upgrade keeps its Connection
 * and Upgrade lines instead.
 */
int	 proxy_head_parse_origin(const char *buf, size_t len, uint16_t defport,
	     struct proxy_head *, struct proxy_head_error *);
void	 proxy_head_clear(struct proxy_head *);

/* Where the head ends (offset after CRLF CRLF), or 0 if not complete. */
size_t	 proxy_head_end(const char *buf, size_t len);

/*
 * proxy_head_end for bytes as they arrive: the head's length, 0 when more
 * bytes are needed, or -EINVAL with *e set: 400 for a bare LF, bare CR or
 * NUL before the end, 431 when the first max bytes hold no end. (For a
 * response head, answer 502 instead.)
 */
ssize_t	 proxy_head_scan(const char *buf, size_t len, size_t max,
	     struct proxy_head_error *);

/*
 * The canonical form of an origin-form path (starting with '/', no query,
 * no fragment; see struct proxy_head). Returns 0 with *out (caller frees)
 * and *encoded_slash, or -EINVAL with a 400 in *e (bad escape, control or
 * non-ASCII byte, '?' or '#', ".." above the root, a dot segment with
 * ";params"). Idempotent: a canonical path is its own canonical form.
 */
int	 proxy_head_canon_path(const char *path, size_t len, char **out,
	     bool *encoded_slash, struct proxy_head_error *);

/* How a response body ends. */
enum proxy_resp_body {
	PROXY_RESP_NONE,        /* HEAD, 1xx, 204, 304, 2xx to CONNECT */
	PROXY_RESP_LENGTH,      /* content_length bytes */
	PROXY_RESP_CHUNKED,     /* proxy_chunked_feed */
	PROXY_RESP_CLOSE,       /* until the upstream closes */
};

/* A parsed response head; strings owned, freed by proxy_response_clear. */
struct proxy_response {
	int			 version;        /* 10 or 11 */
	int			 status;         /* 100-599 */
	char			*reason;         /* may be "" */
	enum proxy_resp_body	 body;
	uint64_t		 content_length;
	bool			 keep_alive;     /* false for CLOSE bodies and upgrades */
	bool			 upgrade;        /* 101 to a WebSocket upgrade, or 2xx to
						  * CONNECT: what follows is not HTTP */
	bool			 interim;        /* 1xx other than 101: the final head follows */
	char			*rewritten;      /* the head for the client, ends CRLF CRLF */
};

/*
 * Parses a complete response head (at most PROXY_HEAD_MAX bytes) to req
 * (NULL: a GET without upgrade). Framing per RFC 9112 6.3, strictly: CL
 * with TE, conflicting or malformed Content-Length, a Transfer-Encoding
 * other than one "chunked", TE in HTTP/1.0, TE or a non-zero Content-
 * Length on 1xx/204, and a 101 the request did not ask for are refused.
 * rewritten strips hop-by-hop fields as proxy_head_parse_origin does
 * (101 keeps Connection and Upgrade) and adds "Connection: close" to an
 * HTTP/1.1 final response that is not kept alive, "Connection: keep-alive"
 * to an HTTP/1.0 one that is.
 */
int	 proxy_head_parse_response(const char *buf, size_t len,
	     const struct proxy_head *req, struct proxy_response *,
	     struct proxy_head_error *);
void	 proxy_response_clear(struct proxy_response *);

/*
 * Tracks a chunked body so that exactly one message is forwarded. Zeroed
 * (or proxy_chunked_init) before each body. Strict: at most 16 hex digits
 * of chunk size, extensions only after ";" (optionally preceded by spaces
 * or tabs) and no longer than 4096 bytes per size line, CRLF after every
 * chunk, trailer fields well-formed ("name: value", no obs-fold, no
 * control bytes) and at most PROXY_HEAD_MAX bytes in all.
 */
struct proxy_chunked {
	int		 state;
	uint64_t	 left;         /* bytes of chunk data still to come */
	unsigned	 linelen;
	bool		 done;
	bool		 error;
	/* Added: */
	unsigned	 ndigits;      /* of the current chunk size */
	size_t		 trailer_len;  /* bytes of trailer section so far */
	uint64_t	 consumed;     /* body bytes so far, all feeds */
	const char	*why;         /* static, set with error */
};
void	 proxy_chunked_init(struct proxy_chunked *);
/*
 * Consumes up to len bytes; returns how many belong to the body: all of
 * them until the body ends, then up to and including the final CRLF
 * (done; the rest is a pipelined follow-up, never counted), or up to the
 * first bad byte (error, why says what was wrong). After done or error it
 * returns 0.
 */
size_t	 proxy_chunked_feed(struct proxy_chunked *, const char *, size_t);

#endif /* PROXY_HEAD_H */
