/*
 * IP addresses, CIDRs and address classes: the vocabulary of the SSRF
 * guard and of allowed_ips validation.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "openshell.h"

int
os_ip_parse(const char *s, struct os_ip *ip)
{
	memset(ip, 0, sizeof *ip);
	if (s == NULL || *s == '\0')
		return -EINVAL;
	if (inet_pton(AF_INET, s, ip->addr) == 1) {
		ip->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ip->addr) == 1) {
		ip->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

void
os_ip_format(const struct os_ip *ip, char *buf, size_t len)
{
	if (inet_ntop(ip->family == AF_INET ? AF_INET : AF_INET6, ip->addr, buf,
	    (socklen_t)len) == NULL && len > 0)
		buf[0] = '\0';
}

static unsigned
ip_bits(const struct os_ip *ip)
{
	return ip->family == AF_INET ? 32 : 128;
}

void
os_ip_unmap(struct os_ip *ip)
{
	static const uint8_t mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
	};

	if (ip->family != AF_INET6 || memcmp(ip->addr, mapped, 12) != 0)
		return;
	memmove(ip->addr, ip->addr + 12, 4);
	memset(ip->addr + 4, 0, 12);
	ip->family = AF_INET;
}

/* Does `ip` have any bit set after the first `prefix` bits? */
static bool
ip_host_bits_set(const struct os_ip *ip, unsigned prefix)
{
	unsigned	i;

	for (i = prefix; i < ip_bits(ip); i++) {
		if (ip->addr[i / 8] & (0x80 >> (i % 8)))
			return true;
	}
	return false;
}

int
os_cidr_parse(const char *s, struct os_cidr *c)
{
	char		 addr[64];
	const char	*slash;
	char		*end;
	unsigned long	 prefix;
	size_t		 n;

	memset(c, 0, sizeof *c);
	if (s == NULL)
		return -EINVAL;
	if ((slash = strchr(s, '/')) == NULL) {
		if (os_ip_parse(s, &c->ip) != 0)
			return -EINVAL;
		c->prefix = ip_bits(&c->ip);
		return 0;
	}
	n = (size_t)(slash - s);
	if (n == 0 || n >= sizeof addr)
		return -EINVAL;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (os_ip_parse(addr, &c->ip) != 0)
		return -EINVAL;
	if (!isdigit((unsigned char)slash[1]))
		return -EINVAL;
	errno = 0;
	prefix = strtoul(slash + 1, &end, 10);
	if (errno != 0 || *end != '\0' || prefix > ip_bits(&c->ip))
		return -EINVAL;
	c->prefix = (unsigned)prefix;
	/* 10.0.0.5/8 is ambiguous: the author meant a host or a network. */
	if (ip_host_bits_set(&c->ip, c->prefix))
		return -EDOM;
	return 0;
}

static bool
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	unsigned	full = prefix / 8, rest = prefix % 8;
	uint8_t		mask;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

/*
 * IPv4 as its IPv4-mapped IPv6 form, so that CIDRs and addresses of both
 * families compare in one space: ::ffff:10.0.0.0/104 is 10.0.0.0/8, and
 * an IPv6 net that spans ::ffff:0:0/96 (like ::/0) holds all of IPv4.
 */
static void
ip_lift(const struct os_ip *ip, uint8_t out[16])
{
	if (ip->family == AF_INET) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, ip->addr, 4);
	} else
		memcpy(out, ip->addr, 16);
}

static unsigned
cidr_lift(const struct os_cidr *c, uint8_t out[16])
{
	ip_lift(&c->ip, out);
	return c->ip.family == AF_INET ? c->prefix + 96 : c->prefix;
}

bool
os_cidr_contains(const struct os_cidr *c, const struct os_ip *ip)
{
	uint8_t		net[16], a[16];
	unsigned	prefix;

	prefix = cidr_lift(c, net);
	ip_lift(ip, a);
	return prefix_equal(net, a, prefix);
}

bool
os_cidr_overlaps(const struct os_cidr *a, const struct os_cidr *b)
{
	uint8_t		na[16], nb[16];
	unsigned	pa, pb;

	pa = cidr_lift(a, na);
	pb = cidr_lift(b, nb);
	return prefix_equal(na, nb, pa < pb ? pa : pb);
}

struct ipclass_net {
	const char	*cidr;
	enum os_ipclass	 cls;
};

/* Most specific first: the first containing net decides. */
static const struct ipclass_net ipclass_nets[] = {
	{ "169.254.169.254/32", OS_IPCLASS_METADATA },
	{ "169.254.170.2/32", OS_IPCLASS_METADATA },     /* ECS task metadata */
	{ "100.100.100.200/32", OS_IPCLASS_METADATA },   /* Alibaba */
	{ "fd00:ec2::254/128", OS_IPCLASS_METADATA },    /* AWS IPv6 */
	{ "0.0.0.0/8", OS_IPCLASS_UNSPECIFIED },
	{ "::/128", OS_IPCLASS_UNSPECIFIED },
	{ "127.0.0.0/8", OS_IPCLASS_LOOPBACK },
	{ "::1/128", OS_IPCLASS_LOOPBACK },
	/* IETF-reserved, incl. the deprecated IPv4-compatible ::/96 that a
	 * sit tunnel would carry to the embedded IPv4 address. */
	{ "::/8", OS_IPCLASS_RESERVED },
	{ "169.254.0.0/16", OS_IPCLASS_LINK_LOCAL },
	{ "fe80::/10", OS_IPCLASS_LINK_LOCAL },
	{ "10.0.0.0/8", OS_IPCLASS_PRIVATE },
	{ "172.16.0.0/12", OS_IPCLASS_PRIVATE },
	{ "192.168.0.0/16", OS_IPCLASS_PRIVATE },
	{ "100.64.0.0/10", OS_IPCLASS_CGNAT },
	{ "fc00::/7", OS_IPCLASS_ULA },
	{ "fec0::/10", OS_IPCLASS_RESERVED },           /* site-local (deprecated) */
	{ "192.0.2.0/24", OS_IPCLASS_DOCUMENTATION },
	{ "198.51.100.0/24", OS_IPCLASS_DOCUMENTATION },
	{ "203.0.113.0/24", OS_IPCLASS_DOCUMENTATION },
	{ "2001:db8::/32", OS_IPCLASS_DOCUMENTATION },
	{ "198.18.0.0/15", OS_IPCLASS_BENCHMARK },
	{ "2001:2::/48", OS_IPCLASS_BENCHMARK },
	{ "224.0.0.0/4", OS_IPCLASS_MULTICAST },
	{ "ff00::/8", OS_IPCLASS_MULTICAST },
	{ "255.255.255.255/32", OS_IPCLASS_RESERVED },
	{ "240.0.0.0/4", OS_IPCLASS_RESERVED },
	{ "192.0.0.0/24", OS_IPCLASS_RESERVED },
	{ "64:ff9b:1::/48", OS_IPCLASS_RESERVED },
	{ "100::/64", OS_IPCLASS_RESERVED },            /* discard-only */
};

enum os_ipclass
os_ip_classify(const struct os_ip *ip)
{
	static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b };
	struct os_cidr	c;
	struct os_ip	a = *ip;
	size_t		i;

	os_ip_unmap(&a);
	/* A NAT64 gateway turns 64:ff9b::a9fe:a9fe into 169.254.169.254:
	 * the embedded IPv4 address is where the connection really goes. */
	if (a.family == AF_INET6 && memcmp(a.addr, nat64, 12) == 0) {
		memset(&c.ip, 0, sizeof c.ip);
		c.ip.family = AF_INET;
		memcpy(c.ip.addr, a.addr + 12, 4);
		return os_ip_classify(&c.ip);
	}
	for (i = 0; i < OS_NELEM(ipclass_nets); i++) {
		/* Each family by its own nets: ::/8 must not swallow IPv4
		 * through the mapped range. */
		if (os_cidr_parse(ipclass_nets[i].cidr, &c) != 0 ||
		    c.ip.family != a.family)
			continue;
		if (os_cidr_contains(&c, &a))
			return ipclass_nets[i].cls;
	}
	return OS_IPCLASS_PUBLIC;
}

const char *
os_ipclass_name(enum os_ipclass cls)
{
	switch (cls) {
	case OS_IPCLASS_PUBLIC:
		return "public";
	case OS_IPCLASS_LOOPBACK:
		return "loopback";
	case OS_IPCLASS_LINK_LOCAL:
		return "link-local";
	case OS_IPCLASS_METADATA:
		return "cloud metadata";
	case OS_IPCLASS_UNSPECIFIED:
		return "unspecified";
	case OS_IPCLASS_PRIVATE:
		return "private";
	case OS_IPCLASS_CGNAT:
		return "carrier-grade NAT";
	case OS_IPCLASS_ULA:
		return "unique local";
	case OS_IPCLASS_DOCUMENTATION:
		return "documentation";
	case OS_IPCLASS_BENCHMARK:
		return "benchmarking";
	case OS_IPCLASS_MULTICAST:
		return "multicast";
	case OS_IPCLASS_RESERVED:
		return "reserved";
	}
	return "unknown";
}

bool
os_ipclass_always_blocked(enum os_ipclass cls)
{
	switch (cls) {
	case OS_IPCLASS_LOOPBACK:
	case OS_IPCLASS_LINK_LOCAL:
	case OS_IPCLASS_METADATA:
	case OS_IPCLASS_UNSPECIFIED:
	case OS_IPCLASS_MULTICAST:
		return true;
	default:
		return false;
	}
}

bool
os_host_is_metadata_name(const char *host)
{
	static const char *const names[] = {
		"metadata.google.internal", "metadata", "metadata.goog",
		"instance-data", "instance-data.ec2.internal",
		"metadata.azure.com", "localhost",
	};
	char	h[256];
	size_t	n, i;

	if (host == NULL)
		return false;
	n = strlen(host);
	if (n == 0 || n >= sizeof h)
		return false;
	memcpy(h, host, n + 1);
	if (h[n - 1] == '.')
		h[n - 1] = '\0';
	/* Requests compare hosts case-insensitively; so must this. */
	os_str_lower(h);
	for (i = 0; i < OS_NELEM(names); i++) {
		if (strcmp(h, names[i]) == 0)
			return true;
	}
	return os_str_has_suffix(h, ".localhost");
}
