/*
 * The L7 relay: a CONNECT tunnel to an endpoint with `protocol: rest`,
 * relayed request by request. TLS from the agent is terminated with a
 * leaf the sandbox's CA mints for the CONNECT host, and the upstream is
 * reached over verified TLS of our own; a tunnel that carries plain
 * HTTP is inspected the same way without either.
 *
 *   agent --TLS--> [cli side] request heads decided by lib/ [up side] --TLS--> upstream
 *
 * Each request head is read whole (strictly, proxy-head.c), decided
 * (os_matcher_l7: method, canonical path, query), logged, and only then
 * sent upstream with exactly the body its framing says; bytes after it
 * (a pipelined request) wait until the response is over and are decided
 * on their own. A denied request under `enforcement: enforce` is answered
 * 403 with a JSON body and the tunnel closes; under `audit` it is
 * forwarded and logged as would-deny. Responses are relayed by their own
 * framing; a 101 to a decided WebSocket upgrade turns the tunnel opaque.
 *
 * Memory per tunnel is bounded: a side's unread input stops its reads at
 * L7_IN_MAX, and a side with more than L7_WQ_HIGH queued for writing
 * stops the reads of the side feeding it (TCP pushes back on the sender).
 *
 * While the state machine runs, what it sends a side is held back (up
 * to L7_CORK_MAX): a response head and its body leave as one TLS record
 * in one write, not two. What is held back goes out in the loop's check
 * phase, once every socket that was ready has been read: under load the
 * agent and the upstream then get their records in bursts and wake once
 * for many, where sending each at once woke them (an IPI, a context
 * switch) for every one.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy-int.h"
#include "tls.h"

#define L7_READ		(64 * 1024)
#define L7_IN_MAX	(256 * 1024)
#define L7_WQ_HIGH	(1024 * 1024)
#define L7_IDLE_MS	(10 * 60 * 1000)
#define L7_CORK_MAX	(16 * 1024)	/* one TLS record of plaintext */

enum l7_rq {
	L7R_SNIFF,        /* deciding TLS or plain from the first bytes */
	L7R_HEAD,         /* waiting for a request head */
	L7R_BODY,         /* forwarding its body */
	L7R_WAIT,         /* sent; the next head waits for the response */
	L7R_TUNNEL,       /* upgraded: bytes both ways */
};

enum l7_rs {
	L7S_IDLE,
	L7S_HEAD,         /* waiting for a response head */
	L7S_BODY,
	L7S_TUNNEL,
};

struct l7_side {
	struct l7		*l7;
	bool			 up;          /* the upstream side */
	uv_stream_t		*s;
	struct tls_conn		*tls;         /* NULL: plain */
	bool			 ready;       /* handshake done (or plain) */
	struct os_buf		 in;          /* plaintext received */
	size_t			 off;         /* ... of which consumed */
	size_t			 wq;          /* bytes queued in uv_write */
	bool			 eof;         /* the peer is done sending */
	bool			 reading;
	bool			 shut;        /* our sending half is done */
	struct os_buf		 cork;        /* plaintext held back (l7_process) */
};

struct l7 {
	struct pconn		*c;
	struct l7_side		 cli, up;
	enum l7_rq		 rq;
	enum l7_rs		 rs;
	struct proxy_head	 req;         /* the request being relayed */
	bool			 have_req;
	bool			 head_sent;
	uint64_t		 req_left;
	struct proxy_chunked	 req_ch;
	struct proxy_response	 resp;
	bool			 have_resp;
	uint64_t		 resp_left;
	struct proxy_chunked	 resp_ch;
	bool			 closing;     /* flush, then close */
	char			*up_error;    /* upstream TLS failed: answer this */
	bool			 lingering;
	bool			 corked;      /* sends are held back (l7_process, then until the flush) */
	uint64_t		 nreq;
	uint64_t		 active_ms;   /* loop time of the last read */
};

struct l7_write {
	uv_write_t		 req;
	struct l7_side		*side;
	size_t			 len;
	char			 data[];
};

static void	l7_process(struct l7 *);
static void	side_flush_tls(struct l7_side *);
static void	side_uncork(struct l7_side *);
static void	l7_reads(struct l7 *);
static void	l7_read_cb(uv_stream_t *, ssize_t, const uv_buf_t *);

static size_t
side_avail(const struct l7_side *sd)
{
	return sd->in.len - sd->off;
}

static const char *
side_data(const struct l7_side *sd)
{
	return sd->in.data + sd->off;
}

static void
side_consume(struct l7_side *sd, size_t n)
{
	sd->off += n;
	/* Compact once the consumed prefix dominates: cheap amortised. */
	if (sd->off == sd->in.len) {
		os_buf_reset(&sd->in);
		sd->off = 0;
	} else if (sd->off > L7_READ && sd->off * 2 > sd->in.len) {
		memmove(sd->in.data, sd->in.data + sd->off, sd->in.len - sd->off);
		sd->in.len -= sd->off;
		sd->in.data[sd->in.len] = '\0';
		sd->off = 0;
	}
}

static struct l7_side *
side_other(struct l7_side *sd)
{
	return sd->up ? &sd->l7->cli : &sd->l7->up;
}

/* ------------------------------------------------------------------------
 * Closing and writing
 */
/*
 * Once everything queued is written: the agent gets a FIN, and what it
 * still sends is read and dropped for a moment, so that closing with
 * unread data does not reset the connection under our last answer.
 */
static void
l7_linger_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct pconn	*c = h->data;

	buf->base = c->p->l7_rbuf;
	buf->len = L7_READ;
}

static void
l7_linger_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct pconn	*c = s->data;

	if (nread < 0)
		pconn_close(c);
}

static void
l7_linger_timeout(uv_timer_t *t)
{
	pconn_close(t->data);
}

static void
l7_linger_shutdown(uv_shutdown_t *req, int status)
{
	free(req);
}

static void
l7_maybe_close(struct l7 *l)
{
	struct pconn	*c = l->c;
	uv_shutdown_t	*req;

	if (!l->closing || l->lingering || l->cli.wq != 0 || l->up.wq != 0)
		return;
	l->lingering = true;
	pconn_close_upstream(c);
	req = xcalloc(1, sizeof *req);
	if (uv_shutdown(req, l->cli.s, l7_linger_shutdown) < 0) {
		free(req);
		pconn_close(c);
		return;
	}
	uv_read_stop(l->cli.s);
	l->cli.reading = false;
	if (l->cli.eof || uv_read_start(l->cli.s, l7_linger_alloc,
	    l7_linger_read) < 0) {
		pconn_close(c);
		return;
	}
	uv_timer_stop(&c->timer);
	uv_timer_start(&c->timer, l7_linger_timeout, PROXY_LINGER_MS, 0);
}

/* Stop reading, send what is queued, then close both sides. */
static void
l7_finish(struct l7 *l)
{
	struct os_error	e;

	if (l->closing)
		return;
	l->closing = true;
	side_uncork(&l->cli);
	side_uncork(&l->up);
	if (l->cli.tls != NULL && l->cli.ready) {
		tls_conn_shutdown(l->cli.tls, &e);
		side_flush_tls(&l->cli);
	}
	l7_reads(l);
	l7_maybe_close(l);
}

static void
l7_on_write(uv_write_t *req, int status)
{
	struct l7_write	*w = req->data;
	struct l7_side	*sd = w->side;
	struct l7	*l = sd->l7;

	sd->wq -= w->len;
	free(w);
	if (l->c->state != PC_RELAY)
		return;
	if (status < 0) {
		pconn_close(l->c);
		return;
	}
	l7_maybe_close(l);
	if (l->c->state == PC_RELAY && !l->lingering)
		l7_reads(l);
}

static void
side_write_raw(struct l7_side *sd, const void *p, size_t n)
{
	struct l7_write	*w;
	uv_buf_t	 b;
	int		 r;

	if (n == 0)
		return;
	/*
	 * Straight to the socket when it takes it: no copy, no request, and
	 * no epoll change for libuv to make. libuv refuses (UV_EAGAIN) while
	 * writes are queued, which keeps the order; what it does not take,
	 * and any error, go the queued way and are reported as before.
	 */
	b = uv_buf_init((char *)p, (unsigned)n);
	if ((r = uv_try_write(sd->s, &b, 1)) > 0) {
		if ((size_t)r == n)
			return;
		p = (const char *)p + r;
		n -= (size_t)r;
	}
	w = xmalloc(sizeof *w + n);
	memcpy(w->data, p, n);
	w->len = n;
	w->side = sd;
	w->req.data = w;
	b = uv_buf_init(w->data, (unsigned)n);
	sd->wq += n;
	if (uv_write(&w->req, sd->s, &b, 1, l7_on_write) < 0) {
		sd->wq -= n;
		free(w);
		pconn_close(sd->l7->c);
	}
}

/* Whatever the TLS engine queued (handshake flights, records, alerts). */
static void
side_flush_tls(struct l7_side *sd)
{
	char	buf[16384];
	size_t	n;

	if (sd->tls == NULL)
		return;
	while ((n = tls_conn_take(sd->tls, buf, sizeof buf)) > 0)
		side_write_raw(sd, buf, n);
}

static void
side_send_now(struct l7_side *sd, const void *p, size_t n)
{
	struct os_error	err;

	if (sd->tls == NULL) {
		side_write_raw(sd, p, n);
		return;
	}
	if (tls_conn_write(sd->tls, p, n, &err) < 0) {
		pconn_close(sd->l7->c);
		return;
	}
	side_flush_tls(sd);
}

/* What was held back goes out (dropped once the tunnel is closing down). */
static void
side_uncork(struct l7_side *sd)
{
	if (sd->cork.len == 0)
		return;
	if (sd->l7->c->state == PC_RELAY && !sd->shut)
		side_send_now(sd, sd->cork.data, sd->cork.len);
	os_buf_reset(&sd->cork);
}

static void
side_send(struct l7_side *sd, const void *p, size_t n)
{
	if (n == 0 || sd->shut)
		return;
	if (sd->l7->corked && sd->cork.len + n <= L7_CORK_MAX) {
		os_buf_add(&sd->cork, p, n);
		return;
	}
	side_uncork(sd);
	side_send_now(sd, p, n);
}

static void
side_sends(struct l7_side *sd, const char *s)
{
	side_send(sd, s, strlen(s));
}

static void
l7_on_shutdown(uv_shutdown_t *req, int status)
{
	free(req);
}

/* Our sending half to this side is done (the other side's EOF). */
static void
side_shutdown(struct l7_side *sd)
{
	struct os_error	 err;
	uv_shutdown_t	*req;

	if (sd->shut)
		return;
	side_uncork(sd);
	sd->shut = true;
	if (sd->tls != NULL) {
		tls_conn_shutdown(sd->tls, &err);
		side_flush_tls(sd);
	}
	req = xcalloc(1, sizeof *req);
	if (uv_shutdown(req, sd->s, l7_on_shutdown) < 0)
		free(req);
}

/* ------------------------------------------------------------------------
 * Answers of our own, inside the tunnel
 */
/* A JSON answer to the agent, then the tunnel closes. */
static void
l7_answer(struct l7 *l, int status, const char *policy, const struct os_buf *body)
{
	struct os_buf	h = OS_BUF_INIT;

	os_buf_addf(&h, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n", status,
	    pconn_status_text(status), body->len + 1);
	if (policy != NULL) {
		os_buf_adds(&h, "X-OpenShell-Policy: ");
		/* A header value: the policy's display name without CR/LF. */
		for (const char *p = policy; *p != '\0'; p++)
			os_buf_addc(&h, (*p == '\r' || *p == '\n') ? ' ' : *p);
		os_buf_adds(&h, "\r\n");
	}
	os_buf_adds(&h, "\r\n");
	os_buf_add(&h, body->data, body->len);
	os_buf_addc(&h, '\n');
	side_send(&l->cli, h.data, h.len);
	os_buf_free(&h);
	l7_finish(l);
}

static void	pconn_log_l7_refusal(struct pconn *, const char *, const char *);

/* Refused or failed in the tunnel: logged, answered, closed. */
static void
l7_answer_error(struct l7 *l, int status, const char *error, const char *detail)
{
	struct os_buf	b = OS_BUF_INIT;

	pconn_log_l7_refusal(l->c, error, detail);

	os_buf_adds(&b, "{\"error\":");
	os_buf_json_str(&b, error);
	os_buf_adds(&b, ",\"detail\":");
	os_buf_json_str(&b, detail);
	os_buf_adds(&b, ",\"host\":");
	os_buf_json_str(&b, l->c->req.host);
	os_buf_addf(&b, ",\"port\":%u,\"layer\":\"l7\"}", (unsigned)l->c->req.port);
	l7_answer(l, status, NULL, &b);
	os_buf_free(&b);
}

/* ------------------------------------------------------------------------
 * Decisions
 */
/*
 * `l7_decision=deny dst_host=... dst_port=... l7_action=POST
 * l7_target=/path l7_deny_reason="..." binary=... policy=...`: the query
 * is never logged (it is where clients put tokens).
 */
static void
l7_log(struct pconn *c, const char *decision, const char *method,
    const char *path, const char *reason, const struct os_l7_decision *d,
    const char *tls)
{
	struct os_buf	b = OS_BUF_INIT;
	char		num[24], rule[512];
	bool		warn = strcmp(decision, "allow") != 0;

	/* The fields people grep for first, in this order. */
	os_buf_kv(&b, "l7_decision", decision);
	os_buf_kv(&b, "dst_host", c->req.host);
	os_buf_kv(&b, "l7_action", method);
	os_buf_kv(&b, "l7_target", path);
	if (warn)
		os_buf_kv(&b, "l7_deny_reason", reason);
	snprintf(num, sizeof num, "%u", (unsigned)c->req.port);
	os_buf_kv(&b, "dst_port", num);
	proxy_identity_kv(&b, c->have_ident ? &c->ident : NULL, false);
	os_buf_kv(&b, "policy", d->rule != NULL ? os_rule_display_name(d->rule) :
	    pconn_policy_name(c));
	if (d->matched != NULL && os_l7_rule_describe(d->matched, rule,
	    sizeof rule) > 0)
		os_buf_kv(&b, d->by_deny_rule ? "deny_rule" : "rule", rule);
	os_buf_kv(&b, "tls", tls);
	os_buf_kv(&b, "engine", "l7");
	pconn_log(c, warn ? OS_LOG_WARN : OS_LOG_INFO, "l7", &b);
}

static int
l7_severity(enum os_l7_verdict v)
{
	return v == OS_L7_DENY ? 2 : v == OS_L7_AUDIT ? 1 : 0;
}

/*
 * The canonical path as one server may see it: with %2F and %5C decoded
 * to '/' (many servers decode before routing, and some take a backslash
 * for a slash; a raw backslash is already %5C in the canonical form), or
 * with ";params" dropped from each segment (servlet containers do), or
 * both, each normalised again, so that "/pub/x/..%2Fsecret" is seen as
 * the "/pub/secret" it becomes there. A deny rule must not be dodged by
 * spelling: when one matches any of these forms, it decides. Allows are
 * decided on the canonical form (an API that takes heads%2Fmain as one
 * segment keeps working), and also on a form that climbs with the
 * decoded slashes ("/pub/x/..%2F..%2Fadmin" is "/admin" there): that one
 * must be allowed too.
 */
#define L7_V_SLASH	1       /* %2F, %5C -> '/' */
#define L7_V_PARAMS	2       /* ";..." up to the next '/' dropped */

static bool
l7_is_esc_slash(const char *p)
{
	return p[0] == '%' && ((p[1] == '2' && (p[2] == 'F' || p[2] == 'f')) ||
	    (p[1] == '5' && (p[2] == 'C' || p[2] == 'c')));
}

/*
 * "." and ".." segments of v (a path starting with '/') resolved as RFC
 * 3986 does, with a ".." at the root dropped: what a server that decodes
 * first and then normalises (Python's, Go's) serves. A server that refuses
 * such a path instead is safe either way. True when v had any.
 */
static bool
l7_resolve_dots(struct os_buf *v)
{
	struct os_buf	 o = OS_BUF_INIT;
	const char	*s = os_buf_str(v), *end = s + v->len, *slash;
	size_t		 sl;
	bool		 dots = false, last = false;
	char		*prev;

	while (s < end) {
		s++;                            /* the '/' */
		slash = memchr(s, '/', (size_t)(end - s));
		sl = (size_t)((slash != NULL ? slash : end) - s);
		last = slash == NULL;
		if (sl == 1 && s[0] == '.') {
			dots = true;
		} else if (sl == 2 && s[0] == '.' && s[1] == '.') {
			dots = true;
			if (o.len > 0 && (prev = memrchr(o.data, '/', o.len)) != NULL)
				o.len = (size_t)(prev - o.data);
		} else {
			os_buf_addc(&o, '/');
			os_buf_add(&o, s, sl);
			last = false;
		}
		s += sl;
	}
	if (o.len == 0 || (dots && last))
		os_buf_addc(&o, '/');
	if (dots) {
		os_buf_reset(v);
		os_buf_add(v, o.data, o.len);
	}
	os_buf_free(&o);
	return dots;
}

/*
 * The path spelt per `how`, normalised; NULL when it is the same path.
 * *climbs: its decoded slashes made dot segments (it must be allowed as
 * well as not denied).
 */
static char *
l7_variant(const char *orig, int how, bool *climbs)
{
	struct proxy_head_error	 e;
	struct os_buf		 v = OS_BUF_INIT;
	const char		*p;
	char			*canon = NULL;
	bool			 esc;

	*climbs = false;
	for (p = orig; *p != '\0'; p++) {
		if ((how & L7_V_SLASH) && l7_is_esc_slash(p)) {
			os_buf_addc(&v, '/');
			p += 2;
		} else if ((how & L7_V_PARAMS) && *p == ';') {
			while (p[1] != '\0' && p[1] != '/')
				p++;
		} else
			os_buf_addc(&v, *p);
	}
	*climbs = l7_resolve_dots(&v);
	if (proxy_head_canon_path(os_buf_str(&v), v.len, &canon, &esc, &e) < 0)
		canon = NULL;
	os_buf_free(&v);
	if (canon != NULL && strcmp(canon, orig) == 0) {
		free(canon);
		canon = NULL;
	}
	return canon;
}

static void
l7_decide_variants(struct pconn *c, struct os_l7_request *r,
    struct os_l7_decision *d)
{
	struct os_l7_decision	 dv;
	struct os_l4_request	 l4;
	const char		*orig = r->path, *p;
	char			*alt;
	int			 have = 0, how;
	bool			 climbs;

	if (c->matcher == NULL) {
		d->verdict = OS_L7_DENY;
		return;
	}
	pconn_l4_request(c, &l4);
	os_matcher_l7(c->matcher, &l4, &c->dec, r, d);
	/* Most paths have neither: no copy on the hot path. */
	for (p = orig; *p != '\0'; p++) {
		if (l7_is_esc_slash(p))
			have |= L7_V_SLASH;
		else if (*p == ';')
			have |= L7_V_PARAMS;
	}
	for (how = 1; how <= (L7_V_SLASH | L7_V_PARAMS); how++) {
		if ((how & have) != how ||
		    (alt = l7_variant(orig, how, &climbs)) == NULL)
			continue;
		r->path = alt;
		memset(&dv, 0, sizeof dv);
		os_matcher_l7(c->matcher, &l4, &c->dec, r, &dv);
		if ((dv.by_deny_rule || climbs) &&
		    l7_severity(dv.verdict) > l7_severity(d->verdict))
			*d = dv;
		r->path = orig;
		free(alt);
	}
}

bool
pconn_l7_decide(struct pconn *c, const char *method, const char *path,
    const char *query, const char *tls, struct pconn_l7_deny *deny)
{
	struct os_l7_request	 r;
	struct os_l7_decision	 d;
	bool			 permissive;

	memset(&d, 0, sizeof d);
	memset(deny, 0, sizeof *deny);
	if (c->dec.verdict == OS_L4_ALLOW && !c->dec.inspect) {
		/* A reload took the L7 rules away and admits the tunnel at
		 * L4: nothing to decide per request any more. */
		l7_log(c, "allow", method, path, NULL, &d, tls);
		c->p->stats.l7_allowed++;
		return true;
	}
	r.method = method;
	r.path = path;
	r.query = query;
	l7_decide_variants(c, &r, &d);
	if (d.verdict == OS_L7_ALLOW) {
		l7_log(c, "allow", method, path, NULL, &d, tls);
		c->p->stats.l7_allowed++;
		return true;
	}
	os_l7_reason(&r, &d, deny->reason, sizeof deny->reason);
	if (deny->reason[0] == '\0')
		snprintf(deny->reason, sizeof deny->reason,
		    "%s %s not permitted by policy", method, path);
	permissive = d.verdict == OS_L7_DENY && (c->permissive ||
	    proxy_permissive_on(c->p));
	l7_log(c, d.verdict == OS_L7_AUDIT ? "audit" : permissive ?
	    "allow_permissive" : "deny", method, path, deny->reason, &d, tls);
	pconn_report_denial(c, d.verdict == OS_L7_AUDIT ? "l7_audit" : "l7_deny",
	    deny->reason, method, path, permissive || d.verdict == OS_L7_AUDIT);
	if (d.verdict == OS_L7_AUDIT || permissive) {
		c->p->stats.l7_audited++;
		return true;
	}
	c->p->stats.l7_denied++;
	pconn_strcpy(deny->policy, sizeof deny->policy, d.rule != NULL ?
	    os_rule_display_name(d.rule) : pconn_policy_name(c));
	if (d.by_deny_rule && d.matched != NULL)
		os_l7_rule_describe(d.matched, deny->rule, sizeof deny->rule);
	else
		/* The rule that would have allowed it. */
		snprintf(deny->rule, sizeof deny->rule, "%s %s", method, path);
	return false;
}

void
pconn_l7_deny_json(struct os_buf *b, const struct pconn *c,
    const struct pconn_l7_deny *deny, const char *method, const char *path)
{
	os_buf_adds(b, "{\"error\":\"policy_denied\",\"policy\":");
	os_buf_json_str(b, deny->policy);
	os_buf_adds(b, ",\"rule\":");
	os_buf_json_str(b, deny->rule);
	os_buf_adds(b, ",\"detail\":");
	os_buf_json_str(b, deny->reason);
	os_buf_adds(b, ",\"layer\":\"l7\",\"method\":");
	os_buf_json_str(b, method);
	os_buf_adds(b, ",\"path\":");
	os_buf_json_str(b, path);
	os_buf_adds(b, ",\"host\":");
	os_buf_json_str(b, c->req.host);
	os_buf_addf(b, ",\"port\":%u,\"protocol\":\"rest\",\"binary\":",
	    (unsigned)c->req.port);
	os_buf_json_str(b, c->have_ident && c->ident.exe != NULL ? c->ident.exe : "");
	os_buf_addc(b, '}');
}

/* Decides the parsed request: true to forward it (allowed, audited or
 * permissive), false when it was answered here. */
static bool
l7_decide(struct l7 *l)
{
	struct pconn_l7_deny	deny;
	struct os_buf		b = OS_BUF_INIT;

	if (pconn_l7_decide(l->c, l->req.method, l->req.canon_path, l->req.query,
	    l->cli.tls != NULL ? "terminated" : "none", &deny))
		return true;
	pconn_l7_deny_json(&b, l->c, &deny, l->req.method, l->req.canon_path);
	l7_answer(l, 403, deny.policy, &b);
	os_buf_free(&b);
	return false;
}

/* A request or response the parser refused: `l7_decision=refuse`. */
static void
pconn_log_l7_refusal(struct pconn *c, const char *error, const char *detail)
{
	struct os_buf	b = OS_BUF_INIT;
	char		num[24];

	os_buf_kv(&b, "l7_decision", "refuse");
	os_buf_kv(&b, "dst_host", c->req.host);
	snprintf(num, sizeof num, "%u", (unsigned)c->req.port);
	os_buf_kv(&b, "dst_port", num);
	proxy_identity_kv(&b, c->have_ident ? &c->ident : NULL, false);
	os_buf_kv(&b, "error", error);
	os_buf_kv(&b, "detail", detail);
	os_buf_kv(&b, "engine", "l7");
	pconn_log(c, OS_LOG_WARN, "l7", &b);
}

/*
 * The request's authority must be the tunnel's: a shared front end
 * routes by Host, and CONNECT allowed.example then Host: other.example
 * would reach what the policy never allowed.
 */
static bool
l7_authority_ok(struct l7 *l)
{
	const struct pconn	*c = l->c;

	if (l->req.host == NULL)      /* HTTP/1.0 without Host: ours it is */
		return true;
	return strcasecmp(l->req.host, c->req.host) == 0 &&
	    l->req.port == c->req.port;
}

/* ------------------------------------------------------------------------
 * The request side
 */

/* A request head from the agent: parse, decide, forward. */
static bool
l7_request_head(struct l7 *l)
{
	struct proxy_head_error	 e;
	ssize_t			 end;

	end = proxy_head_scan(side_data(&l->cli), side_avail(&l->cli),
	    PROXY_HEAD_MAX, &e);
	if (end == 0) {
		if (l->cli.eof) {
			/* The agent is done: a clean end between requests. */
			if (side_avail(&l->cli) == 0)
				l7_finish(l);
			else
				l7_answer_error(l, 400, "bad_request",
				    "the connection ended in the middle of a request head");
		}
		return false;
	}
	if (end < 0) {
		l7_answer_error(l, e.status, e.error, e.detail);
		return false;
	}
	proxy_head_clear(&l->req);
	if (proxy_head_parse_origin(side_data(&l->cli), (size_t)end,
	    l->cli.tls != NULL ? 443 : 80, &l->req, &e) < 0) {
		l7_answer_error(l, e.status, e.error, e.detail);
		return false;
	}
	side_consume(&l->cli, (size_t)end);
	l->have_req = true;
	l->nreq++;
	if (!l7_authority_ok(l)) {
		char *detail = xprintf("the request is for %s but the tunnel was "
		    "opened to %s:%u", l->req.authority, l->c->req.host,
		    (unsigned)l->c->req.port);

		l7_answer_error(l, 403, "request_authority_mismatch", detail);
		free(detail);
		return false;
	}
	if (!l7_decide(l))
		return false;
	l->head_sent = false;
	l->req_left = l->req.body == PROXY_BODY_LENGTH ? l->req.content_length : 0;
	proxy_chunked_init(&l->req_ch);
	l->rq = l->req.body == PROXY_BODY_NONE ? L7R_WAIT : L7R_BODY;
	l->rs = L7S_HEAD;
	return true;
}

/* Sends the decided head once the upstream can take it. */
static bool
l7_request_send_head(struct l7 *l)
{
	if (l->head_sent || !l->up.ready)
		return false;
	side_sends(&l->up, l->req.rewritten);
	l->head_sent = true;
	return true;
}

/* Exactly the body the head announced; nothing after it. */
static bool
l7_request_body(struct l7 *l)
{
	size_t	n = side_avail(&l->cli), take;

	if (n == 0 && l->cli.eof) {
		/* The agent stopped in the middle of the body. Both sides are
		 * closed at once: the upstream must not wait on (or take) a
		 * part for the whole, nor the tunnel sit to its idle timeout.
		 * After a whole answer (an early 401, say) that is no fault. */
		if (l->rs != L7S_IDLE)
			pconn_log_l7_refusal(l->c, "bad_request",
			    "the connection ended in the middle of a request body");
		pconn_close(l->c);
		return false;
	}
	if (!l->head_sent || n == 0 || l->up.wq > L7_WQ_HIGH)
		return false;
	if (l->req.body == PROXY_BODY_LENGTH) {
		take = (uint64_t)n > l->req_left ? (size_t)l->req_left : n;
		l->req_left -= take;
	} else {
		take = proxy_chunked_feed(&l->req_ch, side_data(&l->cli), n);
		if (l->req_ch.error) {
			pconn_log_l7_refusal(l->c, "bad_request", l->req_ch.why);
			l7_finish(l);
			return false;
		}
	}
	side_send(&l->up, side_data(&l->cli), take);
	side_consume(&l->cli, take);
	if ((l->req.body == PROXY_BODY_LENGTH && l->req_left == 0) ||
	    (l->req.body == PROXY_BODY_CHUNKED && l->req_ch.done))
		l->rq = L7R_WAIT;
	return take > 0;
}

/* ------------------------------------------------------------------------
 * The response side
 */
static bool
l7_response_head(struct l7 *l)
{
	struct proxy_head_error	 e;
	ssize_t			 end;

	end = proxy_head_scan(side_data(&l->up), side_avail(&l->up),
	    PROXY_HEAD_MAX, &e);
	if (end == 0) {
		if (l->up.eof)
			l7_answer_error(l, 502, "bad_upstream_response",
			    "the upstream closed the connection without answering");
		return false;
	}
	if (end < 0) {
		l7_answer_error(l, 502, "bad_upstream_response", e.detail);
		return false;
	}
	proxy_response_clear(&l->resp);
	if (proxy_head_parse_response(side_data(&l->up), (size_t)end, &l->req,
	    &l->resp, &e) < 0) {
		l7_answer_error(l, 502, "bad_upstream_response", e.detail);
		return false;
	}
	side_consume(&l->up, (size_t)end);
	l->have_resp = true;
	/* 100 Continue and friends; an HTTP/1.0 client would take one for
	 * its answer, and must not be sent any (RFC 9110 15.2). */
	if (l->resp.interim) {
		if (l->req.version != 10)
			side_sends(&l->cli, l->resp.rewritten);
		return true;
	}
	side_sends(&l->cli, l->resp.rewritten);
	if (l->resp.upgrade) {
		l->rs = L7S_TUNNEL;
		l->rq = L7R_TUNNEL;
		return true;
	}
	l->resp_left = l->resp.body == PROXY_RESP_LENGTH ? l->resp.content_length : 0;
	proxy_chunked_init(&l->resp_ch);
	l->rs = l->resp.body == PROXY_RESP_NONE ? L7S_IDLE : L7S_BODY;
	return true;
}

static bool
l7_response_body(struct l7 *l)
{
	size_t	n = side_avail(&l->up), take = 0;
	bool	done = false;

	if (l->cli.wq > L7_WQ_HIGH)
		return false;
	switch (l->resp.body) {
	case PROXY_RESP_LENGTH:
		take = (uint64_t)n > l->resp_left ? (size_t)l->resp_left : n;
		l->resp_left -= take;
		done = l->resp_left == 0;
		break;
	case PROXY_RESP_CHUNKED:
		take = proxy_chunked_feed(&l->resp_ch, side_data(&l->up), n);
		if (l->resp_ch.error) {
			pconn_log_l7_refusal(l->c, "bad_upstream_response",
			    l->resp_ch.why);
			l7_finish(l);
			return false;
		}
		done = l->resp_ch.done;
		break;
	case PROXY_RESP_CLOSE:
		take = n;
		/* Over TLS only a close_notify ends such a body: a bare close
		 * may be a truncation, and the agent must see it as one. */
		done = l->up.eof && (l->up.tls == NULL ||
		    tls_conn_closed_cleanly(l->up.tls));
		break;
	case PROXY_RESP_NONE:
		done = true;
		break;
	}
	if (take > 0) {
		side_send(&l->cli, side_data(&l->up), take);
		side_consume(&l->up, take);
	} else if (!done && l->up.eof) {
		/* Cut short: the agent must see the truncation, not a
		 * clean end. */
		side_uncork(&l->cli);
		pconn_close(l->c);
		return false;
	}
	if (done)
		l->rs = L7S_IDLE;
	return take > 0 || done;
}

/* Upgraded: plaintext both ways, EOFs passed on. */
static bool
l7_tunnel(struct l7 *l)
{
	bool	moved = false;
	size_t	n;

	if ((n = side_avail(&l->cli)) > 0 && l->up.wq <= L7_WQ_HIGH) {
		side_send(&l->up, side_data(&l->cli), n);
		side_consume(&l->cli, n);
		moved = true;
	}
	if ((n = side_avail(&l->up)) > 0 && l->cli.wq <= L7_WQ_HIGH) {
		side_send(&l->cli, side_data(&l->up), n);
		side_consume(&l->up, n);
		moved = true;
	}
	if (l->cli.eof && side_avail(&l->cli) == 0)
		side_shutdown(&l->up);
	if (l->up.eof && side_avail(&l->up) == 0)
		side_shutdown(&l->cli);
	if (l->cli.eof && l->up.eof && side_avail(&l->cli) == 0 &&
	    side_avail(&l->up) == 0)
		l7_finish(l);
	return moved;
}

/* ------------------------------------------------------------------------
 * TLS or not: the first bytes decide
 */
static int
l7_start_tls(struct l7 *l)
{
	struct pconn	*c = l->c;
	struct os_error	 err;
	SSL_CTX		*ctx;

	os_error_clear(&err);
	if (c->p->opts.ca == NULL || c->p->opts.upstream_tls == NULL) {
		pconn_log_error(c, "tls_termination_unavailable",
		    "the sandbox has no CA to terminate TLS with");
		return -1;
	}
	if ((ctx = tls_ca_server_ctx(c->p->opts.ca, c->req.host, &err)) == NULL) {
		pconn_log_error(c, "tls_termination_unavailable", err.msg);
		return -1;
	}
	l->cli.tls = tls_conn_new(ctx, true, &err);
	SSL_CTX_free(ctx);
	if (l->cli.tls == NULL) {
		pconn_log_error(c, "tls_termination_unavailable", err.msg);
		return -1;
	}
	l->cli.ready = false;
	if ((l->up.tls = tls_conn_new(c->p->opts.upstream_tls, false, &err)) == NULL ||
	    tls_upstream_prepare(tls_conn_ssl(l->up.tls), c->req.host,
	    c->req.port, &err) < 0) {
		pconn_log_error(c, "upstream_tls_failed", err.msg);
		return -1;
	}
	l->up.ready = false;
	/* Our ClientHello goes out while the agent's handshake runs. */
	if (tls_conn_handshake(l->up.tls, &err) < 0) {
		pconn_log_error(c, "upstream_tls_failed", err.msg);
		return -1;
	}
	side_flush_tls(&l->up);
	return 0;
}

/* Moves the raw bytes buffered so far through the TLS engine. */
static int	side_pump(struct l7_side *);

static bool
l7_sniff(struct l7 *l)
{
	const unsigned char	*p = (const unsigned char *)side_data(&l->cli);
	size_t			 n = side_avail(&l->cli);
	struct os_buf		 raw = OS_BUF_INIT;
	int			 r;

	r = tls_sniff(p, n);
	if (r < 0 && !l->cli.eof)
		return false;           /* need more bytes */
	if (r == 1) {
		if (l7_start_tls(l) < 0) {
			pconn_close(l->c);
			return false;
		}
		/* What was read is ciphertext: hand it to the engine. */
		os_buf_add(&raw, p, n);
		os_buf_reset(&l->cli.in);
		l->cli.off = 0;
		tls_conn_feed(l->cli.tls, raw.data, raw.len);
		os_buf_free(&raw);
		l->rq = L7R_HEAD;
		return side_pump(&l->cli) >= 0;
	}
	l->rq = L7R_HEAD;
	return true;
}

/* ------------------------------------------------------------------------
 * Reading
 */

/* Handshake if not done, then decrypt what the engine holds. 0, or -1
 * when the tunnel was closed. */
static int
side_pump(struct l7_side *sd)
{
	struct l7	*l = sd->l7;
	struct os_error	 err;
	char		 buf[16384];
	ssize_t		 n;
	int		 r;

	if (sd->tls == NULL)
		return 0;
	os_error_clear(&err);
	if (!sd->ready) {
		r = tls_conn_handshake(sd->tls, &err);
		side_flush_tls(sd);
		if (r < 0 && sd->up) {
			/* The agent hears why, in its own TLS, once its
			 * handshake is done; nothing goes upstream. */
			if (l->up_error == NULL)
				l->up_error = xstrdup(err.msg);
			sd->eof = true;
			if (l->cli.ready)
				l7_answer_error(l, 502, "upstream_tls_failed", err.msg);
			return -1;
		}
		if (r < 0) {
			pconn_log_error(l->c, "client_tls_failed", err.msg);
			pconn_close(l->c);
			return -1;
		}
		if (r == 0)
			return 0;
		sd->ready = true;
	}
	for (;;) {
		n = tls_conn_read(sd->tls, buf, sizeof buf, &err);
		side_flush_tls(sd);
		if (n > 0) {
			os_buf_add(&sd->in, buf, (size_t)n);
			continue;
		}
		if (n == TLS_EOF) {
			sd->eof = true;
			return 0;
		}
		if (n < 0) {
			pconn_log_error(l->c, sd->up ? "upstream_tls_failed" :
			    "client_tls_failed", err.msg);
			pconn_close(l->c);
			return -1;
		}
		return 0;
	}
}

static void
l7_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct pconn	*c = h->data;

	buf->base = c->p->l7_rbuf;
	buf->len = L7_READ;
}

static void
l7_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct pconn	*c = s->data;
	struct l7	*l = c->l7;
	struct l7_side	*sd = s == (uv_stream_t *)&c->client ? &l->cli : &l->up;

	if (c->state != PC_RELAY || nread == 0)
		return;
	if (sd->up && l->up_error != NULL) {
		/* The upstream failed its handshake: nothing more from it. */
		uv_read_stop(s);
		sd->reading = false;
		return;
	}
	/* The idle timer looks at this when it fires: no timer-heap work
	 * per read. */
	l->active_ms = uv_now(s->loop);
	if (nread == UV_EOF) {
		uv_read_stop(s);
		sd->reading = false;
		if (sd->tls != NULL && l->rq != L7R_SNIFF) {
			tls_conn_feed_eof(sd->tls);
			if (side_pump(sd) < 0)
				return;
		}
		sd->eof = true;
	} else if (nread < 0) {
		pconn_close(c);
		return;
	} else if (sd->tls != NULL && l->rq != L7R_SNIFF) {
		tls_conn_feed(sd->tls, buf->base, (size_t)nread);
		if (side_pump(sd) < 0)
			return;
	} else
		os_buf_add(&sd->in, buf->base, (size_t)nread);
	l7_process(l);
}

/* Reads where there is room for what they bring; none while closing. */
static void
l7_reads(struct l7 *l)
{
	struct l7_side	*sides[2] = { &l->cli, &l->up }, *sd;
	bool		 want;
	size_t		 i;

	if (l->c->state != PC_RELAY || l->lingering)
		return;
	for (i = 0; i < 2; i++) {
		sd = sides[i];
		want = !sd->eof && !l->closing && side_avail(sd) < L7_IN_MAX &&
		    side_other(sd)->wq <= L7_WQ_HIGH;
		/* A handshake in progress must always be able to read. */
		if (sd->tls != NULL && !sd->ready && !sd->eof && !l->closing)
			want = true;
		if (want && !sd->reading) {
			if (uv_read_start(sd->s, l7_alloc, l7_read_cb) < 0) {
				pconn_close(l->c);
				return;
			}
			sd->reading = true;
		} else if (!want && sd->reading) {
			uv_read_stop(sd->s);
			sd->reading = false;
		}
	}
}

/* ------------------------------------------------------------------------
 * The state machine
 */
static bool
l7_live(const struct l7 *l)
{
	return l->c->state == PC_RELAY && !l->closing;
}

static void
l7_flush_idle(uv_idle_t *h)
{
}

/* Sends what both sides held back (side_uncork drops it once the tunnel
 * is no longer relaying). The agent's side first: when the tunnel is
 * closing, its answer is what matters. */
static void
l7_uncork(struct l7 *l)
{
	l->corked = false;
	side_uncork(&l->cli);
	side_uncork(&l->up);
}

static void
l7_queue_flush(struct l7 *l)
{
	struct pconn	*c = l->c;
	struct proxy	*p = c->p;

	if (c->flush_queued)
		return;
	if (TAILQ_EMPTY(&p->flushq)) {
		uv_check_start(&p->flush, pconn_l7_flush);
		uv_idle_start(&p->flush_idle, l7_flush_idle);
	}
	TAILQ_INSERT_TAIL(&p->flushq, c, flush_entry);
	c->flush_queued = true;
}

static void
l7_process(struct l7 *l)
{
	bool	progress = true;

	l->corked = true;
	while (progress && l->c->state == PC_RELAY && !l->closing) {
		progress = false;
		if (l->rq == L7R_SNIFF) {
			progress = l7_sniff(l);
			continue;
		}
		if (l->cli.tls != NULL && !l->cli.ready)
			break;
		if (l->up_error != NULL) {
			l7_answer_error(l, 502, "upstream_tls_failed", l->up_error);
			break;
		}
		if (l->rq == L7R_TUNNEL) {
			progress = l7_tunnel(l);
			continue;
		}
		/* A step that finished the tunnel (a 403, a framing error)
		 * ends the round: nothing may follow its close_notify. */
		if (l->rq == L7R_HEAD && l->rs == L7S_IDLE)
			progress = l7_request_head(l);
		if (!l7_live(l))
			break;
		if (l->have_req && (l->rq == L7R_BODY || l->rq == L7R_WAIT) &&
		    !l->head_sent)
			progress |= l7_request_send_head(l);
		if (!l7_live(l))
			break;
		if (l->rq == L7R_BODY)
			progress |= l7_request_body(l);
		if (!l7_live(l))
			break;
		if (l->rs == L7S_HEAD && l->head_sent)
			progress |= l7_response_head(l);
		if (!l7_live(l))
			break;
		if (l->rs == L7S_BODY)
			progress |= l7_response_body(l);
		if (!l7_live(l))
			break;
		if (l->rs == L7S_IDLE && l->rq == L7R_WAIT) {
			/* The exchange is over: the next head may be read. */
			if (!l->req.keep_alive || !l->resp.keep_alive) {
				l7_finish(l);
				break;
			}
			l->rq = L7R_HEAD;
			progress = true;
		}
		if (l->rs == L7S_IDLE && l->rq == L7R_HEAD && l->up.eof &&
		    side_avail(&l->cli) == 0) {
			/* The upstream closed an idle keep-alive connection. */
			l7_finish(l);
			break;
		}
		if (l->rs == L7S_IDLE && l->rq == L7R_BODY && l->up.eof) {
			/* It answered early and closed: the rest of the body has
			 * nowhere to go, and the agent has its answer. */
			l7_finish(l);
			break;
		}
	}
	if (l7_live(l) && !l->lingering && !l->c->p->stopping &&
	    (l->up.cork.len != 0 || l->cli.cork.len != 0)) {
		/* Still corked: more may join before the check phase. */
		l7_queue_flush(l);
	} else
		l7_uncork(l);
	l7_reads(l);
}

void
pconn_l7_flush_one(struct pconn *c)
{
	struct l7	*l = c->l7;

	TAILQ_REMOVE(&c->p->flushq, c, flush_entry);
	c->flush_queued = false;
	if (l != NULL && c->state == PC_RELAY)
		l7_uncork(l);
}

void
pconn_l7_flush(uv_check_t *h)
{
	struct proxy	*p = h->data;
	struct pconn	*c;

	while ((c = TAILQ_FIRST(&p->flushq)) != NULL) {
		pconn_l7_flush_one(c);
		if (c->state == PC_RELAY)
			l7_reads(c->l7);
	}
	uv_check_stop(h);
	uv_idle_stop(&p->flush_idle);
}

static void
l7_idle_timeout(uv_timer_t *t)
{
	struct pconn	*c = t->data;
	uint64_t	 idle = uv_now(t->loop) - c->l7->active_ms;

	if (idle >= L7_IDLE_MS) {
		pconn_close(c);
		return;
	}
	uv_timer_start(t, l7_idle_timeout, L7_IDLE_MS - idle, 0);
}

void
pconn_l7_start(struct pconn *c, const char *early, size_t nearly)
{
	struct l7	*l;

	l = xcalloc(1, sizeof *l);
	l->c = c;
	l->cli.l7 = l->up.l7 = l;
	l->up.up = true;
	l->cli.s = (uv_stream_t *)&c->client;
	l->up.s = (uv_stream_t *)&c->upstream;
	if (c->p->l7_rbuf == NULL)
		c->p->l7_rbuf = xmalloc(L7_READ);
	l->cli.ready = l->up.ready = true;
	l->rq = L7R_SNIFF;
	l->rs = L7S_IDLE;
	c->l7 = l;
	c->relay_started = true;
	os_buf_add(&l->cli.in, early, nearly);
	uv_timer_stop(&c->timer);
	l->active_ms = uv_now(c->p->opts.uv);
	uv_timer_start(&c->timer, l7_idle_timeout, L7_IDLE_MS, 0);
	l7_process(l);
}

void
pconn_l7_free(struct pconn *c)
{
	struct l7	*l = c->l7;

	if (l == NULL)
		return;
	if (l->cli.tls != NULL)
		tls_conn_free(l->cli.tls);
	if (l->up.tls != NULL)
		tls_conn_free(l->up.tls);
	os_buf_free(&l->cli.in);
	os_buf_free(&l->up.in);
	os_buf_free(&l->cli.cork);
	os_buf_free(&l->up.cork);
	proxy_head_clear(&l->req);
	proxy_response_clear(&l->resp);
	free(l->up_error);
	free(l);
	c->l7 = NULL;
}
