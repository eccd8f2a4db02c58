/*
 * The egress proxy: the listener, each connection's way from request head
 * to decision, the answers the agent sees (403/400/431/502 with a JSON
 * body), the decision log lines, and live policy reloads that close the
 * tunnels a new revision no longer admits. Dialling is in proxy-dial.c,
 * byte relaying in proxy-relay.c, head parsing in proxy-head.c, binary
 * identity in proxy-identity.c.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy-int.h"

#define LOG_TARGET	"proxy"

static void	pconn_free(struct pconn *);
static void	proxy_maybe_done(struct proxy *);

bool
proxy_permissive_on(const struct proxy *p)
{
	return p->permissive && (p->permissive_expires_ms == 0 ||
	    os_now_ms() < p->permissive_expires_ms);
}

/* ------------------------------------------------------------------------
 * Log lines and denial events
 */
static const char *
pconn_binary(const struct pconn *c)
{
	return c->have_ident && c->ident.exe != NULL ? c->ident.exe : "";
}

/* `action=... dst_host=... dst_port=... binary=... pid=...`: the order
 * users grep for. */
static void
log_begin(struct os_buf *b, const char *action, const struct pconn *c)
{
	char	num[24];

	os_buf_kv(b, "action", action);
	os_buf_kv(b, "dst_host", c->req.host);
	snprintf(num, sizeof num, "%u", (unsigned)c->req.port);
	os_buf_kv(b, "dst_port", num);
	proxy_identity_kv(b, c->have_ident ? &c->ident : NULL, false);
}

static void
log_ancestors(struct os_buf *b, const struct pconn *c)
{
	if (c->have_ident)
		proxy_identity_kv_ancestors(b, &c->ident);
}

/* Forward requests: method and path. The query is left out: it is where
 * clients put tokens. */
static void
log_request(struct os_buf *b, const struct pconn *c)
{
	char	*path;

	if (c->req.kind != PROXY_HEAD_FORWARD)
		return;
	os_buf_kv(b, "method", c->req.method);
	path = xstrndup(c->req.path, strcspn(c->req.path, "?"));
	os_buf_kv(b, "path", path);
	free(path);
}

void
pconn_log(struct pconn *c, enum os_log_level level, const char *target,
    struct os_buf *b)
{
	if (c->p->opts.log != NULL)
		c->p->opts.log(c->p->opts.arg, level, target, os_buf_str(b));
	os_buf_free(b);
}

static void
log_emit(struct pconn *c, enum os_log_level level, struct os_buf *b)
{
	pconn_log(c, level, LOG_TARGET, b);
}

void
pconn_report_denial(struct pconn *c, const char *stage, const char *reason,
    const char *method, const char *path, bool permissive)
{
	struct proxy_denial	d;

	if (c->p->opts.denial == NULL)
		return;
	memset(&d, 0, sizeof d);
	d.host = c->req.host;
	d.port = c->req.port;
	d.binary = pconn_binary(c);
	if (c->have_ident) {
		d.ancestors = (const char *const *)c->ident.ancestors;
		d.nancestors = c->ident.nancestors;
	}
	d.reason = reason;
	d.stage = stage;
	d.method = method;
	d.path = path;
	d.permissive = permissive;
	d.ts_ms = os_now_ms();
	c->p->opts.denial(c->p->opts.arg, &d);
}

static void
report_denial(struct pconn *c, const char *stage, const char *reason,
    bool permissive)
{
	pconn_report_denial(c, stage, reason,
	    c->req.kind == PROXY_HEAD_FORWARD ? c->req.method : NULL,
	    c->req.kind == PROXY_HEAD_FORWARD ? c->req.canon_path : NULL,
	    permissive);
}

const char *
pconn_policy_name(const struct pconn *c)
{
	if (c->dec.verdict == OS_L4_ALLOW && c->dec.nmatches > 0 &&
	    c->dec.matches[0].rule != NULL)
		return os_rule_display_name(c->dec.matches[0].rule);
	return "-";
}

/* "CONNECT api.github.com:443" or "GET example.com:80/path". */
static char *
pconn_target(const struct pconn *c)
{
	const char	*lb = "", *rb = "";
	const char	*path = "";
	int		 pathlen = 0;

	if (strchr(c->req.host, ':') != NULL) {
		lb = "[";
		rb = "]";
	}
	if (c->req.kind == PROXY_HEAD_FORWARD) {
		path = c->req.path;
		pathlen = (int)strcspn(path, "?");
	}
	return xprintf("%s %s%s%s:%u%.*s", c->req.method, lb, c->req.host, rb,
	    (unsigned)c->req.port, pathlen, path);
}

void
pconn_log_ssrf_deny(struct pconn *c, const char *why)
{
	struct os_buf	b = OS_BUF_INIT;

	log_begin(&b, "deny", c);
	log_ancestors(&b, c);
	os_buf_kv(&b, "deny_reason", why);
	os_buf_kv(&b, "engine", "ssrf");
	log_request(&b, c);
	log_emit(c, OS_LOG_WARN, &b);
	report_denial(c, "ssrf", why, false);
	c->p->stats.denied++;
}

void
pconn_log_ssrf_permissive(struct pconn *c, const char *why)
{
	struct os_buf	b = OS_BUF_INIT;

	log_begin(&b, "allow_permissive", c);
	log_ancestors(&b, c);
	os_buf_kv(&b, "deny_reason", why);
	os_buf_kv(&b, "engine", "ssrf");
	log_request(&b, c);
	log_emit(c, OS_LOG_WARN, &b);
	report_denial(c, "ssrf", why, true);
}

void
pconn_log_allow(struct pconn *c)
{
	struct os_buf	b = OS_BUF_INIT;

	c->p->stats.allowed++;
	if (c->permissive)      /* already logged as allow_permissive */
		return;
	log_begin(&b, "allow", c);
	os_buf_kv(&b, "policy", pconn_policy_name(c));
	os_buf_kv(&b, "engine", "l4");
	log_request(&b, c);
	log_emit(c, OS_LOG_INFO, &b);
}

void
pconn_log_error(struct pconn *c, const char *error, const char *detail)
{
	struct os_buf	b = OS_BUF_INIT;

	log_begin(&b, "error", c);
	os_buf_kv(&b, "error", error);
	os_buf_kv(&b, "detail", detail);
	log_request(&b, c);
	log_emit(c, OS_LOG_WARN, &b);
}

/* ------------------------------------------------------------------------
 * Handles and teardown
 */
void
on_pconn_handle_closed(uv_handle_t *h)
{
	struct pconn	*c = h->data;

	if (h == (uv_handle_t *)&c->upstream) {
		c->upstream_open = false;
		if (c->state == PC_DIAL) {
			c->handles--;
			pconn_dial_next(c);
			return;
		}
	}
	if (--c->handles == 0 && c->state == PC_CLOSING)
		pconn_free(c);
}

void
pconn_close_upstream(struct pconn *c)
{
	if (c->upstream_open && !uv_is_closing((uv_handle_t *)&c->upstream))
		uv_close((uv_handle_t *)&c->upstream, on_pconn_handle_closed);
}

void
pconn_close(struct pconn *c)
{
	struct proxy	*p = c->p;

	if (c->state == PC_CLOSING)
		return;
	/*
	 * What an inspected tunnel held back for the check phase still goes
	 * out first, as it would have had it been sent at once: say, an
	 * upstream's early answer read just before its connection reset.
	 * Sending can itself close the connection.
	 */
	if (c->flush_queued) {
		pconn_l7_flush_one(c);
		if (c->state == PC_CLOSING)
			return;
	}
	c->state = PC_CLOSING;
	TAILQ_REMOVE(&p->conns, c, entry);
	p->stats.active--;
	pconn_dial_abort(c);
	if (c->spliced) {       /* before the fds they watch are closed */
		uv_close((uv_handle_t *)&c->cpoll, on_pconn_handle_closed);
		uv_close((uv_handle_t *)&c->upoll, on_pconn_handle_closed);
	}
	if (!uv_is_closing((uv_handle_t *)&c->client))
		uv_close((uv_handle_t *)&c->client, on_pconn_handle_closed);
	if (!uv_is_closing((uv_handle_t *)&c->timer))
		uv_close((uv_handle_t *)&c->timer, on_pconn_handle_closed);
	pconn_close_upstream(c);
}

static void
pconn_free(struct pconn *c)
{
	struct proxy	*p = c->p;

	proxy_head_clear(&c->req);
	proxy_identity_clear(&c->ident);
	if (c->matcher != NULL)
		os_matcher_unref(c->matcher);
	if (c->spliced)
		pconn_splice_close(c);
	pconn_l7_free(c);
	free(c->dir[0].buf);
	free(c->dir[1].buf);
	os_buf_free(&c->out);
	free(c);
	p->nconns--;
	proxy_maybe_done(p);
}

/* ------------------------------------------------------------------------
 * Error answers: write, shut down our side, drain what the client still
 * sends for a moment (closing with unread data would reset the connection
 * and could destroy the answer in flight), then close.
 */
static void
linger_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct pconn	*c = h->data;

	buf->base = c->head;
	buf->len = sizeof c->head;
}

static void
linger_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	if (nread < 0)
		pconn_close(s->data);
}

static void
linger_timeout(uv_timer_t *t)
{
	pconn_close(t->data);
}

static void
on_respond_shutdown(uv_shutdown_t *req, int status)
{
	struct pconn	*c = req->data;

	if (c->state == PC_CLOSING)
		return;
	if (status < 0) {
		pconn_close(c);
		return;
	}
	uv_timer_start(&c->timer, linger_timeout, PROXY_LINGER_MS, 0);
	if (uv_read_start((uv_stream_t *)&c->client, linger_alloc, linger_read) < 0)
		pconn_close(c);
}

static void
on_respond_written(uv_write_t *req, int status)
{
	struct pconn	*c = req->data;

	if (c->state == PC_CLOSING)
		return;
	if (status < 0) {
		pconn_close(c);
		return;
	}
	c->sreq.data = c;
	if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->client,
	    on_respond_shutdown) < 0)
		pconn_close(c);
}

const char *
pconn_status_text(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 408: return "Request Timeout";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	}
	return "Error";
}

static void
pconn_respond_raw(struct pconn *c, int status, const char *ctype,
    const char *extra, const char *body, size_t bodylen)
{
	uv_buf_t	buf;

	if (c->state == PC_CLOSING || c->state == PC_RESPOND)
		return;
	if (c->state == PC_RELAY) {     /* too late for an answer */
		pconn_close(c);
		return;
	}
	pconn_dial_abort(c);
	pconn_close_upstream(c);
	c->state = PC_RESPOND;
	uv_timer_stop(&c->timer);
	uv_read_stop((uv_stream_t *)&c->client);
	os_buf_reset(&c->out);
	os_buf_addf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
	    pconn_status_text(status), ctype, bodylen, extra != NULL ? extra : "");
	os_buf_add(&c->out, body, bodylen);
	buf = uv_buf_init(c->out.data, (unsigned)c->out.len);
	c->out_req.data = c;
	if (uv_write(&c->out_req, (uv_stream_t *)&c->client, &buf, 1,
	    on_respond_written) < 0)
		pconn_close(c);
}

/*
 * {"error":..., "detail":..., "reason":..., "host":..., "port":...,
 *  "binary":...}: reason only when there is one, host/port/binary once the
 * request was understood.
 */
void
pconn_respond_json(struct pconn *c, int status, const char *error,
    const char *detail, const char *reason)
{
	struct os_buf	b = OS_BUF_INIT;

	os_buf_adds(&b, "{\"error\":");
	os_buf_json_str(&b, error);
	os_buf_adds(&b, ",\"detail\":");
	os_buf_json_str(&b, detail);
	if (reason != NULL && *reason != '\0') {
		os_buf_adds(&b, ",\"reason\":");
		os_buf_json_str(&b, reason);
	}
	if (c->req.host != NULL) {
		os_buf_adds(&b, ",\"host\":");
		os_buf_json_str(&b, c->req.host);
		os_buf_addf(&b, ",\"port\":%u", (unsigned)c->req.port);
		os_buf_adds(&b, ",\"binary\":");
		os_buf_json_str(&b, pconn_binary(c));
	}
	os_buf_addc(&b, '}');
	pconn_respond_raw(c, status, "application/json", NULL, b.data, b.len);
	os_buf_free(&b);
}

void
pconn_respond_json_hdr(struct pconn *c, int status, const char *extra,
    const struct os_buf *body)
{
	pconn_respond_raw(c, status, "application/json", extra, body->data,
	    body->len);
}

/* ------------------------------------------------------------------------
 * Decisions
 */
struct verdict {
	bool	allow;
	char	reason[512];
};

/* The L4 request of c: host, port and the identified binary. */
void
pconn_l4_request(const struct pconn *c, struct os_l4_request *r)
{
	memset(r, 0, sizeof *r);
	r->host = c->req.host;
	r->port = c->req.port;
	if (c->have_ident) {
		r->binary = c->ident.exe;
		r->ancestors = (const char *const *)c->ident.ancestors;
		r->nancestors = c->ident.nancestors;
	}
}

static void
decide_l4(struct pconn *c, struct os_matcher *m, struct verdict *v)
{
	struct os_l4_request	r;

	memset(&c->dec, 0, sizeof c->dec);
	c->dec.verdict = OS_L4_DENY_NO_ENDPOINT;
	v->allow = false;
	v->reason[0] = '\0';
	if (m == NULL) {
		snprintf(v->reason, sizeof v->reason,
		    "no policy loaded yet (the proxy denies everything until it has one)");
		return;
	}
	if (!c->have_ident) {
		char *msg = xprintf("cannot identify the calling binary: %s",
		    c->ident_err);

		pconn_strcpy(v->reason, sizeof v->reason, msg);
		free(msg);
		return;
	}
	pconn_l4_request(c, &r);
	os_matcher_l4(m, &r, &c->dec);
	if (c->dec.verdict == OS_L4_ALLOW) {
		v->allow = true;
		return;
	}
	os_l4_reason(&r, &c->dec, v->reason, sizeof v->reason);
	if (v->reason[0] == '\0')
		snprintf(v->reason, sizeof v->reason, "no matching network policy");
}

static void
pconn_identify(struct pconn *c)
{
	struct sockaddr_storage	 peer, self;
	int			 plen = sizeof peer, slen = sizeof self;
	struct os_error		 err;
	int			 rc;

	os_error_clear(&err);
	if ((rc = uv_tcp_getpeername(&c->client, (struct sockaddr *)&peer,
	    &plen)) < 0 || (rc = uv_tcp_getsockname(&c->client,
	    (struct sockaddr *)&self, &slen)) < 0) {
		snprintf(c->ident_err, sizeof c->ident_err,
		    "cannot read the connection's addresses: %s", uv_strerror(rc));
		return;
	}
	/* The client's socket: local = its address (our peer), remote = ours. */
	if (proxy_identity_lookup(c->p->ids, 6, (struct sockaddr *)&peer,
	    (struct sockaddr *)&self, &c->ident, &err) < 0) {
		pconn_strcpy(c->ident_err, sizeof c->ident_err, err.msg);
		return;
	}
	c->have_ident = true;
}

/*
 * The per-request decision of a forward (plain-HTTP) request, after L4
 * admitted it and before anything is resolved or sent upstream: the place
 * for L7 method/path rules. Returns true to go on; false when it answered
 * the client itself.
 */
static bool
pconn_forward_check(struct pconn *c)
{
	struct pconn_l7_deny	 deny;
	struct os_buf		 b = OS_BUF_INIT;
	char			*hdr, *p;

	if (!c->dec.inspect)
		return true;
	if (pconn_l7_decide(c, c->req.method, c->req.canon_path, c->req.query,
	    "none", &deny))
		return true;
	pconn_l7_deny_json(&b, c, &deny, c->req.method, c->req.canon_path);
	/* A header value: the policy's display name without CR/LF. */
	for (p = deny.policy; *p != '\0'; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	hdr = xprintf("X-OpenShell-Policy: %s\r\n", deny.policy);
	pconn_respond_json_hdr(c, 403, hdr, &b);
	free(hdr);
	os_buf_free(&b);
	return false;
}

static void
pconn_decide(struct pconn *c)
{
	struct proxy	*p = c->p;
	struct verdict	 v;
	struct os_buf	 b = OS_BUF_INIT;
	char		*target;

	pconn_identify(c);
	decide_l4(c, p->matcher, &v);
	if (!v.allow) {
		if (proxy_permissive_on(p)) {
			c->permissive = true;
			log_begin(&b, "allow_permissive", c);
			log_ancestors(&b, c);
			os_buf_kv(&b, "deny_reason", v.reason);
			os_buf_kv(&b, "engine", "l4");
			log_request(&b, c);
			log_emit(c, OS_LOG_WARN, &b);
			report_denial(c, "l4_deny", v.reason, true);
		} else {
			log_begin(&b, "deny", c);
			log_ancestors(&b, c);
			os_buf_kv(&b, "deny_reason", v.reason);
			os_buf_kv(&b, "engine", "l4");
			log_request(&b, c);
			log_emit(c, OS_LOG_WARN, &b);
			report_denial(c, "l4_deny", v.reason, false);
			p->stats.denied++;
			target = pconn_target(c);
			os_buf_addf(&b, "%s not permitted by policy", target);
			pconn_respond_json(c, 403, "policy_denied", b.data,
			    v.reason);
			os_buf_free(&b);
			free(target);
			return;
		}
	}
	if (p->matcher != NULL)
		c->matcher = os_matcher_ref(p->matcher);
	if (c->req.kind == PROXY_HEAD_FORWARD && !pconn_forward_check(c))
		return;
	pconn_dial_start(c);
}

/* ------------------------------------------------------------------------
 * Reading the request head
 */
static void
head_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct pconn	*c = h->data;

	buf->base = c->head + c->headlen;
	buf->len = sizeof c->head - c->headlen;
}

static void
head_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct pconn		*c = s->data;
	struct proxy_head_error	 e;
	size_t			 from, old, i;

	if (nread == 0 || c->state != PC_HEAD)
		return;
	if (nread < 0) {           /* gone before asking anything */
		pconn_close(c);
		return;
	}
	old = c->headlen;
	from = old > 3 ? old - 3 : 0;
	c->headlen += (size_t)nread;
	c->headend = proxy_head_end(c->head + from, c->headlen - from);
	if (c->headend != 0)
		c->headend += from;
	/* A bare LF can never end a valid head: answer now, not at the
	 * timeout. (Bytes after the head are body or tunnel data.) */
	for (i = old; i < (c->headend != 0 ? c->headend : c->headlen); i++) {
		if (c->head[i] == '\n' && (i == 0 || c->head[i - 1] != '\r')) {
			pconn_respond_json(c, 400, "bad_request",
			    "bare LF in the request head", NULL);
			return;
		}
	}
	if (c->headend == 0) {
		if (c->headlen == sizeof c->head)
			pconn_respond_json(c, 431, "headers_too_large",
			    "request head larger than 8192 bytes", NULL);
		return;
	}
	uv_read_stop(s);
	uv_timer_stop(&c->timer);
	if (proxy_head_parse(c->head, c->headend, &c->req, &e) < 0) {
		if (strcmp(e.error, "https_not_supported") == 0) {
			static const char msg[] = "Use CONNECT for HTTPS URLs\n";

			pconn_respond_raw(c, 400, "text/plain", NULL, msg,
			    sizeof msg - 1);
		} else
			pconn_respond_json(c, e.status, e.error, e.detail, NULL);
		return;
	}
	pconn_decide(c);
}

static void
head_timeout(uv_timer_t *t)
{
	pconn_close(t->data);
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct proxy	*p = server->data;
	struct pconn	*c;

	if (status < 0) {
		/* libuv keeps accepting; EMFILE is handled by its reserve fd. */
		log_warn("proxy: accept: %s", uv_strerror(status));
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->p = p;
	c->id = ++p->next_id;
	uv_tcp_init(p->opts.uv, &c->client);
	uv_timer_init(p->opts.uv, &c->timer);
	c->client.data = c->timer.data = c->upstream.data = c;
	c->handles = 2;
	c->state = PC_HEAD;
	TAILQ_INSERT_TAIL(&p->conns, c, entry);
	p->nconns++;
	p->stats.active++;
	if (uv_accept(server, (uv_stream_t *)&c->client) < 0) {
		pconn_close(c);
		return;
	}
	p->stats.accepted++;
	uv_tcp_nodelay(&c->client, 1);
	uv_timer_start(&c->timer, head_timeout, PROXY_HEAD_TIMEOUT_MS, 0);
	if (uv_read_start((uv_stream_t *)&c->client, head_alloc, head_read) < 0)
		pconn_close(c);
}

/* ------------------------------------------------------------------------
 * The proxy
 */
static void
on_failed_listener_closed(uv_handle_t *h)
{
	free(h->data);
}

/* The proxy owns listen_fd from here on, also when starting fails. */
int
proxy_start(const struct proxy_options *opts, struct proxy **out,
    struct os_error *err)
{
	struct proxy	*p;
	int		 rc;

	*out = NULL;
	p = xcalloc(1, sizeof *p);
	p->opts = *opts;
	p->no_splice = getenv("OPENSHELL_PROXY_SPLICE") != NULL &&
	    strcmp(getenv("OPENSHELL_PROXY_SPLICE"), "0") == 0;
	TAILQ_INIT(&p->conns);
	TAILQ_INIT(&p->flushq);
	p->ids = proxy_idcache_new(opts->init_pid);
	uv_tcp_init(opts->uv, &p->listener);
	p->listener.data = p;
	p->listener_open = true;
	if ((rc = uv_tcp_open(&p->listener, opts->listen_fd)) < 0)
		close(opts->listen_fd);      /* the handle did not take it */
	else
		rc = uv_listen((uv_stream_t *)&p->listener, 511, on_connection);
	if (rc < 0) {
		os_error_set(err, rc, "proxy: listen on fd %d: %s", opts->listen_fd,
		    uv_strerror(rc));
		uv_close((uv_handle_t *)&p->listener, on_failed_listener_closed);
		proxy_idcache_free(p->ids);
		return rc;
	}
	uv_check_init(opts->uv, &p->flush);
	p->flush.data = p;
	uv_idle_init(opts->uv, &p->flush_idle);
	p->flush_idle.data = p;
	p->flush_handles = 2;
	*out = p;
	return 0;
}

static void
on_listener_closed(uv_handle_t *h)
{
	struct proxy	*p = h->data;

	p->listener_open = false;
	proxy_maybe_done(p);
}

static void
on_flush_closed(uv_handle_t *h)
{
	struct proxy	*p = h->data;

	p->flush_handles--;
	proxy_maybe_done(p);
}

static void
proxy_maybe_done(struct proxy *p)
{
	void	(*done)(void *);
	void	 *arg;

	if (!p->stopping || p->listener_open || p->flush_handles != 0 ||
	    p->nconns != 0)
		return;
	done = p->done;
	arg = p->done_arg;
	if (p->matcher != NULL)
		os_matcher_unref(p->matcher);
	proxy_idcache_free(p->ids);
	free(p->l7_rbuf);
	free(p);
	if (done != NULL)
		done(arg);
}

void
proxy_stop(struct proxy *p, void (*done)(void *), void *arg)
{
	struct pconn	*c;

	if (p->stopping)
		return;
	p->stopping = true;
	p->done = done;
	p->done_arg = arg;
	while ((c = TAILQ_FIRST(&p->conns)) != NULL)
		pconn_close(c);
	uv_close((uv_handle_t *)&p->listener, on_listener_closed);
	uv_close((uv_handle_t *)&p->flush, on_flush_closed);
	uv_close((uv_handle_t *)&p->flush_idle, on_flush_closed);
}

void
proxy_set_permissive(struct proxy *p, bool on, int64_t expires_ms)
{
	p->permissive = on;
	p->permissive_expires_ms = on ? expires_ms : 0;
}

void
proxy_get_stats(struct proxy *p, struct proxy_stats *st)
{
	*st = p->stats;
}

/* Re-decides one admitted connection under the new revision. */
static void
pconn_redecide(struct pconn *c, struct os_matcher *m)
{
	struct proxy		*p = c->p;
	struct verdict		 v;
	struct os_l4_decision	 old = c->dec;
	struct os_buf		 b = OS_BUF_INIT;
	char			 why[512], *target;
	bool			 ssrf_ok = true;

	decide_l4(c, m, &v);
	if (v.allow && c->state == PC_RELAY) {
		/* The address already dialled must still pass under the new
		 * revision (allowed_ips may have shrunk). */
		struct os_ssrf_context ctx = {
			.host = c->req.host, .decision = &c->dec,
			.trusted = p->opts.trusted, .ntrusted = p->opts.ntrusted,
		};

		why[0] = '\0';
		if (os_ssrf_check(&ctx, &c->dialled, why, sizeof why) < 0) {
			ssrf_ok = false;
			pconn_strcpy(v.reason, sizeof v.reason, why);
		}
	}
	if ((v.allow && ssrf_ok) || proxy_permissive_on(p)) {
		if (c->matcher != NULL)
			os_matcher_unref(c->matcher);
		c->matcher = m != NULL ? os_matcher_ref(m) : NULL;
		c->permissive = !v.allow;
		return;
	}
	c->dec = old;     /* log the policy it was admitted under */
	log_begin(&b, "close", c);
	os_buf_kv(&b, "policy", pconn_policy_name(c));
	{
		char reason[800];

		snprintf(reason, sizeof reason,
		    "policy revision %llu no longer allows %s:%u: %s",
		    (unsigned long long)(m != NULL ? os_matcher_generation(m) : 0),
		    c->req.host, (unsigned)c->req.port, v.reason);
		os_buf_kv(&b, "reason", reason);
	}
	os_buf_kv(&b, "engine", ssrf_ok ? "l4" : "ssrf");
	log_request(&b, c);
	log_emit(c, OS_LOG_WARN, &b);
	report_denial(c, ssrf_ok ? "l4_deny" : "ssrf", v.reason, false);
	p->stats.closed_by_reload++;
	if (c->state == PC_RELAY) {
		pconn_close(c);
		return;
	}
	target = pconn_target(c);
	os_buf_addf(&b, "%s not permitted because policy changed", target);
	pconn_respond_json(c, 403, "policy_denied", b.data, v.reason);
	os_buf_free(&b);
	free(target);
}

void
proxy_set_matcher(struct proxy *p, struct os_matcher *m)
{
	struct pconn	*c, *next;

	if (m != NULL)
		os_matcher_ref(m);
	if (p->matcher != NULL)
		os_matcher_unref(p->matcher);
	p->matcher = m;
	for (c = TAILQ_FIRST(&p->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->state == PC_RESOLVE || c->state == PC_DIAL ||
		    c->state == PC_RELAY)
			pconn_redecide(c, m);
	}
}
