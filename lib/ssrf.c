/*
 * The SSRF decision: may an address that a host resolved to be dialled,
 * given the policy decision that allowed the connection? The proxy asks
 * for every address it is about to dial (after the L4 allow, and again
 * when a new policy revision arrives), so that DNS or a hosts file cannot
 * turn an allowed name into a way to the machine itself, the cloud
 * metadata service or the internal network.
 *
 * The checks, in order; the first that decides wins:
 *  1. Never dialled whatever the policy says: loopback, link-local, cloud
 *     metadata, unspecified and multicast addresses (IPv4-mapped IPv6 is
 *     judged as the IPv4 address it is), and hosts that name a metadata
 *     service or the loopback interface.
 *  2. When any allowing match's endpoint lists allowed_ips, the address
 *     must lie in one of them. The list is the whole set the operator
 *     meant: another policy that allows the same host without a list
 *     does not widen it.
 *  3. An IP-literal host dials itself: the policy allowed that literal.
 *  4. Addresses in the sandbox's trusted CIDRs.
 *  5. Private and other internal addresses only for an exact host that
 *     the operator declared: the endpoint and the matched binary entry
 *     both not advisor_proposed. An approved proposal must not become a
 *     way in when its name later resolves inside.
 *  6. Public addresses.
 *
 * What `why` says (host as requested, control bytes escaped; addresses
 * as dialled, IPv4-mapped shown as IPv4; <class> from os_ipclass_name):
 *
 *   <host> resolves to <class> address <ip> (always blocked)
 *   address <literal> is <class> (always blocked)
 *   host '<host>' is a cloud metadata service (always blocked)
 *   host '<host>' is a loopback name (always blocked)
 *   <host> resolves to <ip>, which is not in allowed_ips of policy '<p>'
 *   <host> resolves to <ip>, which is not in allowed_ips of policies '<p>', '<q>'
 *   address <literal> is not in allowed_ips of policy '<p>' (or policies)
 *   <host> resolves to <class> address <ip> (not in allowed_ips, not a
 *       trusted CIDR, host not declared by the operator)
 *   <host> resolves to <class> address <ip> (not in allowed_ips, not a
 *       trusted CIDR, host only proposed by the advisor)
 *
 * The "address <literal>" forms are used when the host is an IP literal
 * for that very address (bare or "[v6]"; shown without brackets), where
 * "X resolves to X" would say nothing.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "openshell.h"

/* Longer hosts are cut with "..."; DNS names are at most 253 bytes. */
#define SSRF_HOST_SHOW	256

/* The host for a message: control and non-ASCII bytes as \xNN. No
 * allocation: this runs for every address dialled. */
static void
ssrf_show_host(const char *host, char *buf, size_t len)
{
	size_t	i, o = 0;

	for (i = 0; host[i] != '\0' && o + 5 < len; i++) {
		unsigned char c = (unsigned char)host[i];

		if (i == SSRF_HOST_SHOW) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
}

/* The host as an IP literal, bare or in brackets. */
static bool
ssrf_host_literal(const char *host, struct os_ip *ip)
{
	char	tmp[64];
	size_t	n;

	if (os_ip_parse(host, ip) == 0)
		return true;
	n = strlen(host);
	if (n < 3 || host[0] != '[' || host[n - 1] != ']' || n - 2 >= sizeof tmp)
		return false;
	memcpy(tmp, host + 1, n - 2);
	tmp[n - 2] = '\0';
	return os_ip_parse(tmp, ip) == 0 && ip->family == AF_INET6;
}

static bool
ssrf_ip_equal(const struct os_ip *a, const struct os_ip *b)
{
	size_t	n = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && memcmp(a->addr, b->addr, n) == 0;
}

/* localhost and *.localhost get their own word; the rest are metadata. */
static bool
ssrf_host_is_loopback_name(const char *host)
{
	size_t	n = strlen(host);

	if (n > 0 && host[n - 1] == '.')
		n--;
	if (n == 9)
		return strncasecmp(host, "localhost", 9) == 0;
	return n > 10 && strncasecmp(host + n - 10, ".localhost", 10) == 0;
}

/* Equal as host names: case-insensitive, one trailing dot ignored. */
static bool
ssrf_host_equal(const char *a, const char *b)
{
	size_t	na = strlen(a), nb = strlen(b);

	if (na > 0 && a[na - 1] == '.')
		na--;
	if (nb > 0 && b[nb - 1] == '.')
		nb--;
	return na == nb && strncasecmp(a, b, na) == 0;
}

static bool
ssrf_endpoint_allows(const struct os_endpoint *e, const struct os_ip *ip)
{
	struct os_cidr	c;
	size_t		i;

	for (i = 0; i < e->nallowed_ips; i++) {
		/* An entry that does not parse holds nothing (validation
		 * rejects it; fail closed if one gets here anyway). */
		if (e->allowed_ips[i] != NULL &&
		    os_cidr_parse(e->allowed_ips[i], &c) == 0 &&
		    os_cidr_contains(&c, ip))
			return true;
	}
	return false;
}

/* Copies a finished message into the caller's buffer, like snprintf, but
 * never cutting a UTF-8 sequence (rule names may hold any text). */
static int
ssrf_deny(struct os_buf *b, char *why, size_t len)
{
	size_t	n;

	if (why != NULL && len > 0) {
		n = b->len < len - 1 ? b->len : len - 1;
		if (n < b->len) {
			while (n > 0 && ((unsigned char)b->data[n] & 0xc0) == 0x80)
				n--;
		}
		if (n > 0)
			memcpy(why, b->data, n);
		why[n] = '\0';
	}
	os_buf_free(b);
	return -EACCES;
}

/* "'a', 'b'" for the matches that list allowed_ips; returns how many. */
static size_t
ssrf_allowed_ips_policies(struct os_buf *names, const struct os_match *m,
    size_t n)
{
	const struct os_rule	*seen[OS_MATCH_MAX];
	size_t			 i, j, nseen = 0;

	for (i = 0; i < n && i < OS_MATCH_MAX; i++) {
		if (m[i].endpoint == NULL || m[i].endpoint->nallowed_ips == 0 ||
		    m[i].rule == NULL)
			continue;
		for (j = 0; j < nseen && seen[j] != m[i].rule; j++)
			;
		if (j < nseen)
			continue;
		seen[nseen++] = m[i].rule;
		os_buf_addf(names, "%s'%s'", nseen > 1 ? ", " : "",
		    os_rule_display_name(m[i].rule));
	}
	return nseen;
}

int
os_ssrf_check(const struct os_ssrf_context *ctx, const struct os_ip *addr,
    char *why, size_t len)
{
	const struct os_l4_decision	*d = ctx->decision;
	const struct os_match		*m = NULL;
	struct os_buf			 b = OS_BUF_INIT;
	struct os_ip			 a = *addr, lit;
	enum os_ipclass			 cls;
	const char			*host = ctx->host != NULL ? ctx->host : "";
	const char			*cname;
	char				 ip[64], slit[64];
	char				 shost[SSRF_HOST_SHOW * 4 + 8];
	bool				 literal, listed = false, inside = false;
	bool				 proposed = false;
	size_t				 nm = 0, i;

	if (why != NULL && len > 0)
		why[0] = '\0';
	os_ip_unmap(&a);
	os_ip_format(&a, ip, sizeof ip);
	ssrf_show_host(host, shost, sizeof shost);
	cls = os_ip_classify(&a);
	cname = os_ipclass_name(cls);
	literal = ssrf_host_literal(host, &lit);
	if (literal) {
		os_ip_format(&lit, slit, sizeof slit);
		os_ip_unmap(&lit);
		literal = ssrf_ip_equal(&lit, &a);
	}
	/* Only an allowing decision's matches vouch for anything: a denied
	 * one (permissive mode asks too) leaves just the public default. */
	if (d != NULL && d->verdict == OS_L4_ALLOW) {
		m = d->matches;
		nm = d->nmatches < OS_MATCH_MAX ? d->nmatches : OS_MATCH_MAX;
	}

	/* 1. Always blocked. */
	if (os_ipclass_always_blocked(cls)) {
		if (literal)
			os_buf_addf(&b, _("address %s is %s (always blocked)"),
			    slit, cname);
		else
			os_buf_addf(&b, _("%s resolves to %s address %s (always "
			    "blocked)"), shost, cname, ip);
		return ssrf_deny(&b, why, len);
	}
	if (os_host_is_metadata_name(host)) {
		if (ssrf_host_is_loopback_name(host))
			os_buf_addf(&b, _("host '%s' is a loopback name (always "
			    "blocked)"), shost);
		else
			os_buf_addf(&b, _("host '%s' is a cloud metadata service "
			    "(always blocked)"), shost);
		return ssrf_deny(&b, why, len);
	}

	/* 2. allowed_ips. */
	for (i = 0; i < nm; i++) {
		if (m[i].endpoint == NULL || m[i].endpoint->nallowed_ips == 0)
			continue;
		listed = true;
		if (ssrf_endpoint_allows(m[i].endpoint, &a)) {
			inside = true;
			break;
		}
	}
	if (listed && inside)
		return 0;
	if (listed) {
		struct os_buf	names = OS_BUF_INIT;
		size_t		np = ssrf_allowed_ips_policies(&names, m, nm);

		if (np == 0)    /* hand-made decisions without rules */
			os_buf_addf(&b, _("%s resolves to %s, which is not in "
			    "allowed_ips"), shost, ip);
		else if (literal && np > 1)
			os_buf_addf(&b, _("address %s is not in allowed_ips of "
			    "policies %s"), slit, os_buf_str(&names));
		else if (literal)
			os_buf_addf(&b, _("address %s is not in allowed_ips of "
			    "policy %s"), slit, os_buf_str(&names));
		else if (np > 1)
			os_buf_addf(&b, _("%s resolves to %s, which is not in "
			    "allowed_ips of policies %s"), shost, ip,
			    os_buf_str(&names));
		else
			os_buf_addf(&b, _("%s resolves to %s, which is not in "
			    "allowed_ips of policy %s"), shost, ip,
			    os_buf_str(&names));
		os_buf_free(&names);
		return ssrf_deny(&b, why, len);
	}

	/* 3. The literal the policy allowed. */
	if (literal)
		return 0;

	/* 4. Trusted CIDRs. */
	for (i = 0; i < ctx->ntrusted; i++) {
		if (ctx->trusted != NULL && os_cidr_contains(&ctx->trusted[i], &a))
			return 0;
	}

	/* 5. Internal addresses. */
	if (cls == OS_IPCLASS_PUBLIC)
		return 0;
	for (i = 0; i < nm; i++) {
		const struct os_endpoint *e = m[i].endpoint;

		if (e == NULL || e->host == NULL || e->host[0] == '\0' ||
		    os_endpoint_is_wildcard(e) || !ssrf_host_equal(e->host, host))
			continue;
		/* No binary entry means no provenance: not the operator's. */
		if (m[i].binary == NULL)
			continue;
		if (e->advisor_proposed || m[i].binary->advisor_proposed) {
			proposed = true;
			continue;
		}
		return 0;
	}
	if (proposed)
		os_buf_addf(&b, _("%s resolves to %s address %s (not in "
		    "allowed_ips, not a trusted CIDR, host only proposed by the "
		    "advisor)"), shost, cname, ip);
	else
		os_buf_addf(&b, _("%s resolves to %s address %s (not in "
		    "allowed_ips, not a trusted CIDR, host not declared by the "
		    "operator)"), shost, cname, ip);
	return ssrf_deny(&b, why, len);
}
