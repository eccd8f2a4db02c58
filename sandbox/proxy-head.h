/*
 * HTTP/1.1 heads as the proxy sees them (proxy-head.c): pure parsing, no
 * I/O, strict (no bare LF, no obs-fold, no ambiguous body framing).
 */
#ifndef PROXY_HEAD_H
#define PROXY_HEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROXY_HEAD_MAX		8192

enum proxy_head_kind {
	PROXY_HEAD_CONNECT,
	PROXY_HEAD_FORWARD,     /* absolute-form http:// request */
};

enum proxy_body_kind {
	PROXY_BODY_NONE,
	PROXY_BODY_LENGTH,
	PROXY_BODY_CHUNKED,
};

struct proxy_head {
	enum proxy_head_kind	 kind;
	char			*method;
	char			*host;          /* as requested, without brackets */
	uint16_t		 port;
	char			*authority;     /* host[:port] as written in the target */
	char			*path;          /* origin-form target (forward only) */
	char			*rewritten;     /* the head to send upstream (forward only) */
	enum proxy_body_kind	 body;
	uint64_t		 content_length;
};

/* Parse status: 0, or an HTTP status to answer with and a detail. */
struct proxy_head_error {
	int	 status;          /* 400 */
	char	 error[32];       /* "bad_request", "https_not_supported" */
	char	 detail[256];
};

/* Parses a complete head (terminated by CRLF CRLF, len includes it). */
int	 proxy_head_parse(const char *buf, size_t len, struct proxy_head *,
	     struct proxy_head_error *);
void	 proxy_head_clear(struct proxy_head *);
/* Where the head ends (offset after CRLF CRLF), or 0 if not complete. */
size_t	 proxy_head_end(const char *buf, size_t len);

/* Tracks a chunked request body so exactly one request is forwarded. */
struct proxy_chunked {
	int		 state;
	uint64_t	 left;         /* bytes of chunk data still to come */
	unsigned	 linelen;
	bool		 done;
	bool		 error;
};
/* Consumes up to len bytes; returns how many belong to the body (the
 * rest is a pipelined follow-up, dropped). */
size_t	 proxy_chunked_feed(struct proxy_chunked *, const char *, size_t);

#endif /* PROXY_HEAD_H */
