/*
 * The byte relay between the agent and the upstream, once a connection is
 * admitted and dialled: a CONNECT tunnel copies both ways until both sides
 * are done; a forward request sends its rewritten head and exactly one
 * request body (by its framing), then copies the response back.
 *
 * Each direction owns one 64 KiB buffer: read into it, write it out
 * (uv_try_write first, so the common case costs no request), and while a
 * write is pending the source is not read. That bounds memory per
 * connection and pushes back on a fast sender through TCP flow control.
 * An EOF is passed on as a shutdown of the other side's write half; the
 * connection closes when both directions are done, or at once on an error.
 * A tunnel that turns out to carry bulk data moves on to splice(2)
 * (proxy-splice.c), which costs the proxy less than half the CPU per byte.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "proxy-int.h"

static uv_stream_t *
dir_src(struct pconn *c, int d)
{
	return d == 0 ? (uv_stream_t *)&c->client : (uv_stream_t *)&c->upstream;
}

static uv_stream_t *
dir_dst(struct pconn *c, int d)
{
	return d == 0 ? (uv_stream_t *)&c->upstream : (uv_stream_t *)&c->client;
}

static void	relay_read(uv_stream_t *, ssize_t, const uv_buf_t *);
static void	relay_alloc(uv_handle_t *, size_t, uv_buf_t *);
static void	relay_maybe_splice(struct pconn *);

static void
relay_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct pconn	*c = h->data;
	int		 d = h == (uv_handle_t *)&c->client ? 0 : 1;

	buf->base = c->dir[d].buf;
	buf->len = PROXY_RELAY_BUF;
}

static void
relay_check_done(struct pconn *c)
{
	/* A forward request is over once the response has been relayed. */
	if (c->dir[1].shut && (c->dir[0].shut || c->req.kind == PROXY_HEAD_FORWARD))
		pconn_close(c);
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
	struct pconn	*c = req->data;
	int		 d = req == &c->sreq ? 0 : 1;

	if (c->state != PC_RELAY)
		return;
	c->dir[d].shut = true;
	relay_check_done(c);
}

/* Direction d has no more to send: pass the EOF on. */
static void
relay_shutdown(struct pconn *c, int d)
{
	uv_shutdown_t	*req = d == 0 ? &c->sreq : &c->sreq2;

	if (c->dir[d].shut || c->dir[d].shutting || c->dir[d].writing)
		return;
	if (d == 0 && c->req.kind == PROXY_HEAD_FORWARD && !c->dir[0].shut &&
	    c->body_done) {
		/* The request is complete; the upstream's read side stays open
		 * (some servers take a half-close as an abort). */
		c->dir[0].shut = true;
		relay_check_done(c);
		return;
	}
	c->dir[d].shutting = true;
	req->data = c;
	if (uv_shutdown(req, dir_dst(c, d), on_shutdown) < 0)
		pconn_close(c);
}

static void
on_write(uv_write_t *req, int status)
{
	struct pconn	*c = req->data;
	int		 d = req == &c->dir[0].wreq ? 0 : 1;

	if (c->state != PC_RELAY)
		return;
	if (status < 0) {
		pconn_close(c);
		return;
	}
	c->dir[d].writing = false;
	c->dir[d].len = 0;
	if (c->dir[d].eof) {
		relay_shutdown(c, d);
		return;
	}
	if (c->bulk) {
		relay_maybe_splice(c);
		if (c->spliced || c->state != PC_RELAY)
			return;
	}
	if (uv_read_start(dir_src(c, d), relay_alloc, relay_read) < 0)
		pconn_close(c);
}

/* Sends data (which lies in dir[d].buf) to the other side. Returns false
 * when a write is now pending (the source must not be read). */
static bool
relay_send(struct pconn *c, int d, const char *data, size_t n)
{
	struct pconn_dir	*pd = &c->dir[d];
	uv_buf_t		 buf;
	int			 r;

	if (n == 0)
		return true;
	pd->bytes += n;
	buf = uv_buf_init((char *)data, (unsigned)n);
	r = uv_try_write(dir_dst(c, d), &buf, 1);
	if (r == (int)n)
		return true;
	if (r < 0 && r != UV_EAGAIN) {
		pconn_close(c);
		return false;
	}
	if (r < 0)
		r = 0;
	memmove(pd->buf, data + r, n - (size_t)r);
	pd->len = n - (size_t)r;
	pd->writing = true;
	pd->wreq.data = c;
	buf = uv_buf_init(pd->buf, (unsigned)pd->len);
	if (uv_write(&pd->wreq, dir_dst(c, d), &buf, 1, on_write) < 0) {
		pconn_close(c);
		return false;
	}
	return false;
}

/* How much of what the client sent belongs to the one forwarded request. */
static size_t
forward_body(struct pconn *c, const char *data, size_t n)
{
	size_t	take;

	if (c->body_done)
		return 0;
	switch (c->req.body) {
	case PROXY_BODY_NONE:
		c->body_done = true;
		return 0;
	case PROXY_BODY_LENGTH:
		take = (uint64_t)n > c->body_left ? (size_t)c->body_left : n;
		c->body_left -= take;
		if (c->body_left == 0)
			c->body_done = true;
		return take;
	case PROXY_BODY_CHUNKED:
		take = proxy_chunked_feed(&c->chunked, data, n);
		if (c->chunked.done)
			c->body_done = true;
		return take;
	}
	return 0;
}

/*
 * A tunnel that fills a whole buffer in one read is moving bulk data: hand
 * it to splice (proxy-splice.c) at a moment when nothing is buffered here.
 * Short tunnels never pay for the pipes.
 */
static void
relay_maybe_splice(struct pconn *c)
{
	int	d;

	if (c->req.kind != PROXY_HEAD_CONNECT || c->p->no_splice || c->spliced ||
	    c->splice_failed)
		return;
	for (d = 0; d < 2; d++) {
		if (c->dir[d].writing || c->dir[d].eof || c->dir[d].shutting ||
		    c->dir[d].shut)
			return;
	}
	if (uv_stream_get_write_queue_size((uv_stream_t *)&c->client) != 0 ||
	    uv_stream_get_write_queue_size((uv_stream_t *)&c->upstream) != 0)
		return;
	/* On failure the relay goes on as it was: the caller restarts the
	 * read it stopped, and a second uv_read_start would fail. */
	(void)pconn_splice_start(c);
}

static void
relay_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct pconn	*c = s->data;
	int		 d = s == (uv_stream_t *)&c->client ? 0 : 1;
	size_t		 n;

	if (c->state != PC_RELAY || nread == 0)
		return;
	if (nread == UV_EOF) {
		uv_read_stop(s);
		c->dir[d].eof = true;
		relay_shutdown(c, d);
		return;
	}
	if (nread < 0) {
		pconn_close(c);
		return;
	}
	n = (size_t)nread;
	if (d == 0 && c->req.kind == PROXY_HEAD_FORWARD) {
		n = forward_body(c, buf->base, n);
		if (c->chunked.error) {
			pconn_close(c);
			return;
		}
	}
	if (!relay_send(c, d, buf->base, n))
		uv_read_stop(s);
	if (c->state != PC_RELAY)
		return;
	if ((size_t)nread == PROXY_RELAY_BUF) {
		c->bulk = true;
		relay_maybe_splice(c);
	}
	if (d == 0 && c->body_done) {
		/* Anything after the request (a pipelined follow-up) was not
		 * decided and is never forwarded. */
		uv_read_stop(s);
		c->dir[0].eof = true;
		relay_shutdown(c, 0);
	}
}

static void
on_head_written(uv_write_t *req, int status)
{
	struct pconn	*c = req->data;

	if (c->state == PC_RELAY && status < 0)
		pconn_close(c);
}

void
pconn_relay_start(struct pconn *c, const char *early, size_t nearly)
{
	size_t	n = nearly;

	c->dir[0].buf = xmalloc(PROXY_RELAY_BUF);
	c->dir[1].buf = xmalloc(PROXY_RELAY_BUF);
	c->relay_started = true;
	if (c->req.kind == PROXY_HEAD_FORWARD) {
		c->body_left = c->req.content_length;
		n = forward_body(c, early, nearly);
		if (c->chunked.error) {
			pconn_close(c);
			return;
		}
	}
	memcpy(c->dir[0].buf, early, n);
	relay_send(c, 0, c->dir[0].buf, n);
	if (c->state != PC_RELAY)
		return;
	if (uv_read_start(dir_src(c, 1), relay_alloc, relay_read) < 0) {
		pconn_close(c);
		return;
	}
	if (c->req.kind == PROXY_HEAD_FORWARD && c->body_done) {
		c->dir[0].eof = true;
		relay_shutdown(c, 0);
		return;
	}
	if (!c->dir[0].writing &&
	    uv_read_start(dir_src(c, 0), relay_alloc, relay_read) < 0)
		pconn_close(c);
}

/* Dialled: answer 200 (CONNECT) or send the rewritten head (forward),
 * then relay. */
void
pconn_admitted(struct pconn *c)
{
	static const char	 ok[] = "HTTP/1.1 200 Connection Established\r\n\r\n";
	uv_buf_t		 buf;
	uv_stream_t		*to;
	size_t			 sent = 0;
	int			 r;

	c->state = PC_RELAY;
	os_buf_reset(&c->out);
	if (c->req.kind == PROXY_HEAD_CONNECT) {
		buf = uv_buf_init((char *)ok, sizeof ok - 1);
		if ((r = uv_try_write((uv_stream_t *)&c->client, &buf, 1)) > 0)
			sent = (size_t)r;
		os_buf_add(&c->out, ok + sent, sizeof ok - 1 - sent);
		to = (uv_stream_t *)&c->client;
	} else {
		os_buf_adds(&c->out, c->req.rewritten);
		to = (uv_stream_t *)&c->upstream;
	}
	if (c->out.len > 0) {
		buf = uv_buf_init(c->out.data, (unsigned)c->out.len);
		c->out_req.data = c;
		if (uv_write(&c->out_req, to, &buf, 1, on_head_written) < 0) {
			pconn_close(c);
			return;
		}
	}
	/* An endpoint with protocol: rest is relayed request by request;
	 * tls: skip (or nothing to inspect) stays a byte tunnel. */
	if (c->req.kind == PROXY_HEAD_CONNECT && c->dec.inspect &&
	    !c->dec.tls_skip) {
		pconn_l7_start(c, c->head + c->headend, c->headlen - c->headend);
		return;
	}
	pconn_relay_start(c, c->head + c->headend, c->headlen - c->headend);
}
