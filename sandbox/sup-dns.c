/*
 * The sandbox's DNS stub on 127.0.0.1:53 (its resolv.conf points here).
 * It resolves nothing: names are resolved by the proxy, after the policy
 * said yes. Every query is answered REFUSED at once (so clients fail fast
 * instead of timing out) and logged as a `bypass` denial naming the
 * querying binary: a client that ignores HTTP_PROXY is visible, never
 * silently broken.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "dns-packet.h"
#include "sandbox.h"

#define DNS_MAX		1500

struct sup_dns {
	struct sup		*s;
	uv_udp_t		 udp;
	struct proxy_idcache	*ids;
	char			 buf[DNS_MAX];
};

static void
dns_log(struct sup_dns *d, const struct sockaddr *peer, const char *name,
    unsigned qtype)
{
	struct sockaddr_in	 local;
	struct proxy_identity	 id;
	struct os_error		 err;
	struct os_buf		 b = OS_BUF_INIT;
	char			 tbuf[16];
	bool			 have;

	memset(&local, 0, sizeof local);
	local.sin_family = AF_INET;
	local.sin_port = htons(53);
	local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	os_error_clear(&err);
	/* The client's socket: its own address is our peer, ours its remote. */
	have = proxy_identity_lookup(d->ids, 17, peer,
	    (const struct sockaddr *)&local, &id, &err) == 0;
	os_buf_kv(&b, "action", "deny");
	os_buf_kv(&b, "dst_host", name);
	os_buf_kv(&b, "dst_port", "53");
	proxy_identity_kv(&b, have ? &id : NULL, true);
	os_buf_kv(&b, "deny_reason", "DNS query outside the proxy (names are "
	    "resolved by the proxy: use HTTP_PROXY)");
	os_buf_kv(&b, "engine", "bypass");
	os_buf_kv(&b, "query_type", dns_packet_type_name(qtype, tbuf, sizeof tbuf));
	if (!have)
		os_buf_kv(&b, "identity_error", err.msg);
	sup_log_line(d->s, OS_LOG_WARN, "dns", os_buf_str(&b));
	os_buf_free(&b);
	if (have)
		proxy_identity_clear(&id);
}

static void
dns_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct sup_dns	*d = h->data;

	buf->base = d->buf;
	buf->len = sizeof d->buf;
}

static void
dns_recv(uv_udp_t *u, ssize_t n, const uv_buf_t *buf,
    const struct sockaddr *peer, unsigned flags)
{
	struct sup_dns	*d = u->data;
	uint8_t		*p = (uint8_t *)buf->base;
	uv_buf_t	 out;
	char		 name[DNS_PACKET_NAME_BUF];
	unsigned	 qtype = 0;
	size_t		 end;

	if (n <= 0 || peer == NULL || (flags & UV_UDP_PARTIAL))
		return;
	if ((end = dns_packet_question(p, (size_t)n, name, sizeof name,
	    &qtype)) == 0)
		return;
	dns_log(d, peer, name, qtype);
	out = uv_buf_init((char *)p, (unsigned)dns_packet_refuse(p, end));
	(void)uv_udp_try_send(u, &out, 1, peer);
}

static void
dns_closed(uv_handle_t *h)
{
	struct sup_dns	*d = h->data;

	proxy_idcache_free(d->ids);
	free(d);
}

int
sup_dns_start(struct sup *s, struct os_error *err)
{
	struct sup_dns	*d;
	int		 rc;

	if (s->dns_fd < 0)
		return 0;
	d = xcalloc(1, sizeof *d);
	d->s = s;
	d->ids = proxy_idcache_new(s->init_pid);
	uv_udp_init(s->uv, &d->udp);
	d->udp.data = d;
	if ((rc = uv_udp_open(&d->udp, s->dns_fd)) == 0)
		s->dns_fd = -1;     /* the handle owns it now */
	if (rc != 0 || (rc = uv_udp_recv_start(&d->udp, dns_alloc, dns_recv)) != 0) {
		uv_close((uv_handle_t *)&d->udp, dns_closed);
		return os_error_set(err, rc, "DNS stub: %s", uv_strerror(rc));
	}
	s->dns = d;
	return 0;
}

void
sup_dns_stop(struct sup *s)
{
	struct sup_dns	*d = s->dns;

	if (d == NULL)
		return;
	s->dns = NULL;
	uv_udp_recv_stop(&d->udp);
	uv_close((uv_handle_t *)&d->udp, dns_closed);
}
