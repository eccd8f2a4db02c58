/*
 * From an admitted request to a connected upstream: resolve the host
 * without blocking the loop (literals and the hosts table first, then
 * uv_getaddrinfo under a hard timeout), SSRF-check every address, and dial
 * exactly the addresses that passed, in order, each with a connect timeout.
 * The validated list is the dialled list: nothing is resolved twice, so a
 * DNS answer cannot change between the check and the connect.
 */
#include "config.h"

#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy-int.h"

/* A DNS query outlives its connection when it times out: the late
 * callback finds c == NULL and frees itself. */
struct proxy_gai {
	uv_getaddrinfo_t	 req;
	struct pconn		*c;
};

static char *
target_str(const struct pconn *c)
{
	const bool v6 = strchr(c->req.host, ':') != NULL;

	return xprintf("%s %s%s%s:%u", c->req.method, v6 ? "[" : "", c->req.host,
	    v6 ? "]" : "", (unsigned)c->req.port);
}

static void
dial_fail(struct pconn *c, int status, const char *error, const char *fmt, ...)
    OS_PRINTF(4, 5);

static void
dial_fail(struct pconn *c, int status, const char *error, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, *target, *detail;

	va_start(ap, fmt);
	msg = xvprintf(fmt, ap);
	va_end(ap);
	target = target_str(c);
	detail = xprintf("%s: %s", target, msg);
	pconn_log_error(c, error, msg);
	pconn_respond_json(c, status, error, detail, NULL);
	free(detail);
	free(target);
	free(msg);
}

void
pconn_dial_abort(struct pconn *c)
{
	if (c->gai != NULL) {
		c->gai->c = NULL;
		uv_cancel((uv_req_t *)&c->gai->req);
		c->gai = NULL;
	}
}

static void
to_sockaddr(const struct os_ip *ip, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (ip->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, ip->addr, 4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, ip->addr, 16);
	}
}

static void
on_connect(uv_connect_t *req, int status)
{
	struct pconn	*c = req->data;
	char		 ip[64];

	if (c->state != PC_DIAL || status == UV_ECANCELED)
		return;
	uv_timer_stop(&c->timer);
	if (status < 0) {
		os_ip_format(&c->addrs[c->next_addr - 1], ip, sizeof ip);
		snprintf(c->dial_err, sizeof c->dial_err, "%s: %s", ip,
		    uv_strerror(status));
		pconn_close_upstream(c);       /* the close callback tries the next */
		return;
	}
	c->dialled = c->addrs[c->next_addr - 1];
	uv_tcp_nodelay(&c->upstream, 1);
	pconn_admitted(c);
}

static void
connect_timeout(uv_timer_t *t)
{
	struct pconn	*c = t->data;
	char		 ip[64];

	if (c->state != PC_DIAL)
		return;
	os_ip_format(&c->addrs[c->next_addr - 1], ip, sizeof ip);
	snprintf(c->dial_err, sizeof c->dial_err, "%s: timed out after %d s", ip,
	    PROXY_CONNECT_TIMEOUT_MS / 1000);
	pconn_close_upstream(c);
}

void
pconn_dial_next(struct pconn *c)
{
	struct sockaddr_storage	ss;
	int			rc;

	if (c->state != PC_DIAL)
		return;
	while (c->next_addr < c->naddrs) {
		const struct os_ip *a = &c->addrs[c->next_addr++];
		char ip[64];

		to_sockaddr(a, c->req.port, &ss);
		uv_tcp_init(c->p->opts.uv, &c->upstream);
		c->upstream.data = c;
		c->upstream_open = true;
		c->handles++;
		c->creq.data = c;
		rc = uv_tcp_connect(&c->creq, &c->upstream,
		    (const struct sockaddr *)&ss, on_connect);
		if (rc < 0) {
			os_ip_format(a, ip, sizeof ip);
			snprintf(c->dial_err, sizeof c->dial_err, "%s: %s", ip,
			    uv_strerror(rc));
			pconn_close_upstream(c);
			return;
		}
		uv_timer_start(&c->timer, connect_timeout,
		    PROXY_CONNECT_TIMEOUT_MS, 0);
		return;
	}
	dial_fail(c, 502, "upstream_unreachable", "cannot connect (%s)",
	    c->dial_err[0] != '\0' ? c->dial_err : "no address");
}

/* SSRF-checks every address; keeps those that may be dialled. */
static void
dial_check(struct pconn *c, const struct os_ip *addrs, size_t n)
{
	struct proxy		*p = c->p;
	struct os_ssrf_context	 ctx;
	char			 why[512], first[512] = "";
	bool			 permissive = proxy_permissive_on(p);
	size_t			 i;

	memset(&ctx, 0, sizeof ctx);
	ctx.host = c->req.host;
	ctx.decision = &c->dec;
	ctx.trusted = p->opts.trusted;
	ctx.ntrusted = p->opts.ntrusted;
	c->naddrs = 0;
	for (i = 0; i < n && c->naddrs < PROXY_MAX_ADDRS; i++) {
		struct os_ip	a = addrs[i];

		os_ip_unmap(&a);
		why[0] = '\0';
		if (os_ssrf_check(&ctx, &a, why, sizeof why) == 0) {
			c->addrs[c->naddrs++] = a;
			continue;
		}
		if (why[0] == '\0') {
			char ip[64];

			os_ip_format(&a, ip, sizeof ip);
			snprintf(why, sizeof why, "%s resolves to %s, which may not be dialled",
			    c->req.host, ip);
		}
		/* Permissive mode learns, but never about the classes that are
		 * blocked whatever the policy says. */
		if (permissive && !os_ipclass_always_blocked(os_ip_classify(&a))) {
			pconn_log_ssrf_permissive(c, why);
			c->addrs[c->naddrs++] = a;
			continue;
		}
		if (first[0] == '\0')
			snprintf(first, sizeof first, "%s", why);
	}
	if (c->naddrs == 0) {
		char *target = target_str(c), *detail;

		if (first[0] == '\0')
			snprintf(first, sizeof first, "no address to dial");
		pconn_log_ssrf_deny(c, first);
		detail = xprintf("%s blocked: %s", target, first);
		pconn_respond_json(c, 403, "ssrf_denied", detail, NULL);
		free(detail);
		free(target);
		return;
	}
	pconn_log_allow(c);
	c->state = PC_DIAL;
	c->next_addr = 0;
	pconn_dial_next(c);
}

static void
on_gai(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct proxy_gai	*g = req->data;
	struct pconn		*c = g->c;
	struct os_ip		 addrs[PROXY_MAX_ADDRS];
	struct addrinfo		*ai;
	size_t			 n = 0, k;

	free(g);
	if (c == NULL) {            /* timed out or the connection went away */
		if (res != NULL)
			uv_freeaddrinfo(res);
		return;
	}
	c->gai = NULL;
	uv_timer_stop(&c->timer);
	if (status < 0) {
		dial_fail(c, 502, "dns_failed", "DNS resolution failed: %s",
		    uv_strerror(status));
		return;
	}
	for (ai = res; ai != NULL && n < PROXY_MAX_ADDRS; ai = ai->ai_next) {
		struct os_ip	ip;

		memset(&ip, 0, sizeof ip);
		if (ai->ai_family == AF_INET) {
			ip.family = AF_INET;
			memcpy(ip.addr, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6) {
			ip.family = AF_INET6;
			memcpy(ip.addr, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
		} else
			continue;
		for (k = 0; k < n; k++) {
			if (memcmp(&addrs[k], &ip, sizeof ip) == 0)
				break;
		}
		if (k == n)
			addrs[n++] = ip;
	}
	uv_freeaddrinfo(res);
	if (n == 0) {
		dial_fail(c, 502, "dns_failed", "DNS resolution returned no addresses");
		return;
	}
	dial_check(c, addrs, n);
}

static void
dns_timeout(uv_timer_t *t)
{
	struct pconn	*c = t->data;
	unsigned	 ms = c->p->opts.resolver.timeout_ms;

	if (c->state != PC_RESOLVE || c->gai == NULL)
		return;
	pconn_dial_abort(c);
	dial_fail(c, 504, "dns_failed", "DNS resolution timed out after %u ms",
	    ms != 0 ? ms : 5000);
}

void
pconn_dial_start(struct pconn *c)
{
	struct proxy		*p = c->p;
	struct os_ip		 addrs[PROXY_MAX_ADDRS];
	struct os_error		 err;
	struct addrinfo		 hints;
	struct proxy_gai	*g;
	size_t			 n = 0;
	unsigned		 ms;
	int			 rc;

	c->state = PC_RESOLVE;
	os_error_clear(&err);
	switch (os_resolve_local(&p->opts.resolver, c->req.host, addrs,
	    PROXY_MAX_ADDRS, &n, &err)) {
	case OS_RESOLVE_DONE:
		if (n == 0) {
			dial_fail(c, 502, "dns_failed", "no addresses for %s",
			    c->req.host);
			return;
		}
		dial_check(c, addrs, n);
		return;
	case OS_RESOLVE_FAILED:
		dial_fail(c, 502, "dns_failed", "%s", err.msg[0] != '\0' ? err.msg :
		    "name not found (hosts-only resolver)");
		return;
	case OS_RESOLVE_NEED_DNS:
		break;
	}
	g = xcalloc(1, sizeof *g);
	g->c = c;
	g->req.data = g;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	rc = uv_getaddrinfo(p->opts.uv, &g->req, on_gai, c->req.host, NULL, &hints);
	if (rc < 0) {
		free(g);
		dial_fail(c, 502, "dns_failed", "DNS resolution failed: %s",
		    uv_strerror(rc));
		return;
	}
	c->gai = g;
	ms = p->opts.resolver.timeout_ms != 0 ? p->opts.resolver.timeout_ms : 5000;
	uv_timer_start(&c->timer, dns_timeout, ms, 0);
}
