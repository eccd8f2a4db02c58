/*
 * Addresses: parsing and formatting, CIDRs (host bits, prefixes, mapped
 * forms), containment and overlap, and the class of one address from
 * every class, IPv4 and IPv6, since the SSRF guard is only as good as
 * this table.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "openshell.h"
#include "tap.h"

/* The address formatted, or "(bad)" when it does not parse. */
static const char *
fmt(const char *s)
{
	static char	buf[8][64];
	static int	k;
	struct os_ip	ip;
	char		*b = buf[k++ % 8];

	if (os_ip_parse(s, &ip) != 0)
		return "(bad)";
	os_ip_format(&ip, b, 64);
	return b;
}

static void
t_ip_parse_v4(void)
{
	struct os_ip	ip;

	CHECK_INT(os_ip_parse("10.1.2.3", &ip), 0);
	CHECK_INT(ip.family, AF_INET);
	CHECK_INT(ip.addr[0], 10);
	CHECK_INT(ip.addr[3], 3);
	CHECK_INT(ip.addr[4], 0);
	CHECK_STR(fmt("10.1.2.3"), "10.1.2.3");
	CHECK_STR(fmt("0.0.0.0"), "0.0.0.0");
	CHECK_STR(fmt("255.255.255.255"), "255.255.255.255");
}

static void
t_ip_parse_v6(void)
{
	struct os_ip	ip;

	CHECK_INT(os_ip_parse("2001:DB8:0:0:0:0:0:1", &ip), 0);
	CHECK_INT(ip.family, AF_INET6);
	CHECK_INT(ip.addr[0], 0x20);
	CHECK_INT(ip.addr[15], 1);
	CHECK_STR(fmt("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
	CHECK_STR(fmt("::1"), "::1");
	CHECK_STR(fmt("::"), "::");
	CHECK_STR(fmt("fe80::1:2"), "fe80::1:2");
}

static void
t_ip_mapped(void)
{
	struct os_ip	ip;
	char		buf[64];

	CHECK_INT(os_ip_parse("::ffff:10.0.0.1", &ip), 0);
	/* Parsing keeps what was written; unmapping is explicit. */
	CHECK_INT(ip.family, AF_INET6);
	CHECK_STR(fmt("::ffff:10.0.0.1"), "::ffff:10.0.0.1");
	os_ip_unmap(&ip);
	CHECK_INT(ip.family, AF_INET);
	os_ip_format(&ip, buf, sizeof buf);
	CHECK_STR(buf, "10.0.0.1");
	CHECK_INT(ip.addr[4], 0);
	CHECK_INT(ip.addr[15], 0);
	/* Not mapped: untouched. */
	CHECK_INT(os_ip_parse("::10.0.0.1", &ip), 0);
	os_ip_unmap(&ip);
	CHECK_INT(ip.family, AF_INET6);
	CHECK_INT(os_ip_parse("10.0.0.1", &ip), 0);
	os_ip_unmap(&ip);
	CHECK_INT(ip.family, AF_INET);
}

static void
t_ip_junk(void)
{
	static const char *const junk[] = {
		"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-1", "01.2.3.4",
		"1.2.3.04", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4\n", "0x7f000001",
		"127.1", "2130706433", "::g", "1:2:3:4:5:6:7:8:9", "1::2::3",
		"fe80::1%eth0", "[::1]", "::1/128", "10.0.0.0/8", "localhost",
		"1.2.3.4:80", "\xff", "-",
	};
	struct os_ip	ip;
	size_t		i;

	for (i = 0; i < OS_NELEM(junk); i++) {
		if (os_ip_parse(junk[i], &ip) != -EINVAL) {
			printf("#   accepted '%s'\n", junk[i]);
			CHECK(!"junk accepted");
		}
	}
	CHECK_INT(os_ip_parse(NULL, &ip), -EINVAL);
}

static void
t_ip_format_small_buffer(void)
{
	struct os_ip	ip;
	char		buf[8];

	memset(buf, 'x', sizeof buf);
	CHECK_INT(os_ip_parse("2001:db8::1234:5678", &ip), 0);
	/* Too small: empty rather than cut or unterminated. */
	os_ip_format(&ip, buf, sizeof buf);
	CHECK_STR(buf, "");
	CHECK_INT(os_ip_parse("1.2.3.4", &ip), 0);
	os_ip_format(&ip, buf, sizeof buf);
	CHECK_STR(buf, "1.2.3.4");
}

static void
t_cidr_parse(void)
{
	struct os_cidr	c;
	char		buf[64];

	CHECK_INT(os_cidr_parse("10.0.0.0/8", &c), 0);
	CHECK_INT(c.ip.family, AF_INET);
	CHECK_INT(c.prefix, 8);
	CHECK_INT(os_cidr_parse("10.1.2.3", &c), 0);
	CHECK_INT(c.prefix, 32);
	CHECK_INT(os_cidr_parse("::1", &c), 0);
	CHECK_INT(c.prefix, 128);
	CHECK_INT(os_cidr_parse("0.0.0.0/0", &c), 0);
	CHECK_INT(c.prefix, 0);
	CHECK_INT(os_cidr_parse("::/0", &c), 0);
	CHECK_INT(os_cidr_parse("10.1.2.3/32", &c), 0);
	CHECK_INT(os_cidr_parse("2001:db8::/32", &c), 0);
	CHECK_INT(c.ip.family, AF_INET6);
	CHECK_INT(c.prefix, 32);
	os_ip_format(&c.ip, buf, sizeof buf);
	CHECK_STR(buf, "2001:db8::");
	CHECK_INT(os_cidr_parse("172.16.0.0/12", &c), 0);
	CHECK_INT(os_cidr_parse("::ffff:10.0.0.0/104", &c), 0);
	CHECK_INT(c.prefix, 104);
}

static void
t_cidr_parse_errors(void)
{
	static const char *const bad[] = {
		"10.0.0.0/33", "::/129", "/8", "10.0.0.0/", "10.0.0.0/+8",
		"10.0.0.0/-1", "10.0.0.0/8x", "10.0.0.0/ 8", "10.0.0.0 /8",
		"10.0.0.0/8/8", "10.0.0/8", "example.com/8", "",
		"10.0.0.0/99999999999999999999999", "[::1]/128",
	};
	struct os_cidr	c;
	size_t		i;

	for (i = 0; i < OS_NELEM(bad); i++) {
		if (os_cidr_parse(bad[i], &c) != -EINVAL) {
			printf("#   accepted '%s'\n", bad[i]);
			CHECK(!"bad CIDR accepted");
		}
	}
	CHECK_INT(os_cidr_parse(NULL, &c), -EINVAL);
	/* Host bits set: the author meant a host or a network, not both. */
	CHECK_INT(os_cidr_parse("10.0.0.5/8", &c), -EDOM);
	CHECK_INT(os_cidr_parse("10.1.0.0/15", &c), -EDOM);
	CHECK_INT(os_cidr_parse("2001:db8::1/32", &c), -EDOM);
	CHECK_INT(os_cidr_parse("0.0.0.1/0", &c), -EDOM);
	CHECK_INT(os_cidr_parse("11.0.0.0/7", &c), -EDOM);
	CHECK_INT(os_cidr_parse("10.0.0.0/7", &c), 0);
}

static bool
contains(const char *cidr, const char *addr)
{
	struct os_cidr	c;
	struct os_ip	ip;

	if (os_cidr_parse(cidr, &c) != 0 || os_ip_parse(addr, &ip) != 0) {
		printf("#   bad test input %s %s\n", cidr, addr);
		return false;
	}
	return os_cidr_contains(&c, &ip);
}

static bool
overlaps(const char *a, const char *b)
{
	struct os_cidr	ca, cb;

	if (os_cidr_parse(a, &ca) != 0 || os_cidr_parse(b, &cb) != 0) {
		printf("#   bad test input %s %s\n", a, b);
		return false;
	}
	CHECK(os_cidr_overlaps(&ca, &cb) == os_cidr_overlaps(&cb, &ca));
	return os_cidr_overlaps(&ca, &cb);
}

static void
t_cidr_contains(void)
{
	CHECK(contains("10.0.0.0/8", "10.255.1.2"));
	CHECK(contains("10.0.0.0/8", "10.0.0.0"));
	CHECK(!contains("10.0.0.0/8", "11.0.0.0"));
	CHECK(!contains("10.0.0.0/8", "9.255.255.255"));
	CHECK(contains("172.16.0.0/12", "172.31.255.255"));
	CHECK(!contains("172.16.0.0/12", "172.32.0.0"));
	CHECK(contains("10.1.2.3", "10.1.2.3"));
	CHECK(!contains("10.1.2.3", "10.1.2.4"));
	CHECK(contains("0.0.0.0/0", "203.0.113.9"));
	CHECK(contains("2001:db8::/32", "2001:db8:ffff::1"));
	CHECK(!contains("2001:db8::/32", "2001:db9::1"));
	CHECK(contains("fe80::/10", "febf::1"));
	CHECK(!contains("fe80::/10", "fec0::1"));
	/* Families do not mix... */
	CHECK(!contains("10.0.0.0/8", "::a00:1"));
	CHECK(contains("::/0", "2001:db8::1"));
	CHECK(!contains("0.0.0.0/0", "2001:db8::1"));
	/* ...but an IPv4-mapped address is the IPv4 address, either way. */
	CHECK(contains("10.0.0.0/8", "::ffff:10.1.2.3"));
	CHECK(!contains("10.0.0.0/8", "::ffff:11.1.2.3"));
	CHECK(contains("::ffff:10.0.0.0/104", "10.1.2.3"));
	CHECK(contains("::ffff:10.0.0.0/104", "::ffff:10.1.2.3"));
	CHECK(!contains("::ffff:10.0.0.0/104", "11.1.2.3"));
	CHECK(contains("::ffff:0:0/96", "192.0.2.1"));
	/* An IPv6 net spanning all of ::ffff:0:0/96 holds every IPv4. */
	CHECK(contains("::/0", "192.0.2.1"));
	CHECK(!contains("2000::/3", "192.0.2.1"));
}

static void
t_cidr_overlaps(void)
{
	CHECK(overlaps("10.0.0.0/8", "10.1.0.0/16"));
	CHECK(overlaps("10.0.0.0/8", "10.0.0.0/8"));
	CHECK(overlaps("10.1.2.3", "10.0.0.0/8"));
	CHECK(!overlaps("10.0.0.0/8", "11.0.0.0/8"));
	CHECK(!overlaps("10.0.0.0/16", "10.1.0.0/16"));
	CHECK(overlaps("0.0.0.0/0", "192.168.0.0/16"));
	CHECK(overlaps("2001:db8::/32", "2001:db8:1::/48"));
	CHECK(!overlaps("2001:db8::/32", "2001:db9::/32"));
	CHECK(!overlaps("10.0.0.0/8", "2001:db8::/32"));
	CHECK(!overlaps("0.0.0.0/0", "::1"));
	CHECK(overlaps("::ffff:127.0.0.0/104", "127.0.0.1"));
	CHECK(overlaps("::ffff:10.0.0.0/104", "10.1.0.0/16"));
	CHECK(!overlaps("::ffff:10.0.0.0/104", "11.0.0.0/8"));
	CHECK(overlaps("::/0", "169.254.0.0/16"));
	CHECK(!overlaps("fe80::/10", "169.254.0.0/16"));
}

struct class_case {
	const char	*addr;
	enum os_ipclass	 cls;
};

static const struct class_case class_cases[] = {
	{ "8.8.8.8", OS_IPCLASS_PUBLIC },
	{ "1.1.1.1", OS_IPCLASS_PUBLIC },
	{ "172.32.0.1", OS_IPCLASS_PUBLIC },
	{ "100.128.0.1", OS_IPCLASS_PUBLIC },
	{ "169.253.255.255", OS_IPCLASS_PUBLIC },
	{ "223.255.255.255", OS_IPCLASS_PUBLIC },
	{ "2606:4700::1111", OS_IPCLASS_PUBLIC },
	{ "2a00:1450:4001::1", OS_IPCLASS_PUBLIC },
	{ "127.0.0.1", OS_IPCLASS_LOOPBACK },
	{ "127.255.255.254", OS_IPCLASS_LOOPBACK },
	{ "::1", OS_IPCLASS_LOOPBACK },
	{ "169.254.1.1", OS_IPCLASS_LINK_LOCAL },
	{ "fe80::1", OS_IPCLASS_LINK_LOCAL },
	{ "febf:ffff::1", OS_IPCLASS_LINK_LOCAL },
	{ "169.254.169.254", OS_IPCLASS_METADATA },
	{ "169.254.170.2", OS_IPCLASS_METADATA },
	{ "100.100.100.200", OS_IPCLASS_METADATA },
	{ "fd00:ec2::254", OS_IPCLASS_METADATA },
	{ "0.0.0.0", OS_IPCLASS_UNSPECIFIED },
	{ "0.1.2.3", OS_IPCLASS_UNSPECIFIED },
	{ "::", OS_IPCLASS_UNSPECIFIED },
	{ "10.0.0.1", OS_IPCLASS_PRIVATE },
	{ "10.255.255.255", OS_IPCLASS_PRIVATE },
	{ "172.16.0.1", OS_IPCLASS_PRIVATE },
	{ "172.31.255.255", OS_IPCLASS_PRIVATE },
	{ "192.168.1.1", OS_IPCLASS_PRIVATE },
	{ "100.64.0.1", OS_IPCLASS_CGNAT },
	{ "100.127.255.255", OS_IPCLASS_CGNAT },
	{ "fc00::1", OS_IPCLASS_ULA },
	{ "fd12:3456::1", OS_IPCLASS_ULA },
	{ "192.0.2.1", OS_IPCLASS_DOCUMENTATION },
	{ "198.51.100.7", OS_IPCLASS_DOCUMENTATION },
	{ "203.0.113.200", OS_IPCLASS_DOCUMENTATION },
	{ "2001:db8::1", OS_IPCLASS_DOCUMENTATION },
	{ "198.18.0.1", OS_IPCLASS_BENCHMARK },
	{ "198.19.255.255", OS_IPCLASS_BENCHMARK },
	{ "2001:2::1", OS_IPCLASS_BENCHMARK },
	{ "224.0.0.1", OS_IPCLASS_MULTICAST },
	{ "239.255.255.255", OS_IPCLASS_MULTICAST },
	{ "ff02::1", OS_IPCLASS_MULTICAST },
	{ "255.255.255.255", OS_IPCLASS_RESERVED },
	{ "240.0.0.1", OS_IPCLASS_RESERVED },
	{ "192.0.0.8", OS_IPCLASS_RESERVED },
	{ "64:ff9b:1::1", OS_IPCLASS_RESERVED },
	{ "100::1", OS_IPCLASS_RESERVED },
	{ "fec0::1", OS_IPCLASS_RESERVED },
	{ "::2", OS_IPCLASS_RESERVED },
	{ "::7f00:1", OS_IPCLASS_RESERVED },    /* IPv4-compatible 127.0.0.1 */
	/* IPv4-mapped: the IPv4 address decides. */
	{ "::ffff:127.0.0.1", OS_IPCLASS_LOOPBACK },
	{ "::ffff:169.254.169.254", OS_IPCLASS_METADATA },
	{ "::ffff:10.0.0.1", OS_IPCLASS_PRIVATE },
	{ "::ffff:0.0.0.0", OS_IPCLASS_UNSPECIFIED },
	{ "::ffff:8.8.8.8", OS_IPCLASS_PUBLIC },
	/* NAT64 well-known prefix: the embedded IPv4 address decides. */
	{ "64:ff9b::a9fe:a9fe", OS_IPCLASS_METADATA },
	{ "64:ff9b::7f00:1", OS_IPCLASS_LOOPBACK },
	{ "64:ff9b::a00:1", OS_IPCLASS_PRIVATE },
	{ "64:ff9b::808:808", OS_IPCLASS_PUBLIC },
};

static void
t_classify(void)
{
	struct os_ip	ip;
	size_t		i;
	enum os_ipclass	got;

	for (i = 0; i < OS_NELEM(class_cases); i++) {
		if (os_ip_parse(class_cases[i].addr, &ip) != 0) {
			printf("#   does not parse: %s\n", class_cases[i].addr);
			CHECK(!"test address does not parse");
			continue;
		}
		got = os_ip_classify(&ip);
		if (got != class_cases[i].cls) {
			printf("#   %s: %s, want %s\n", class_cases[i].addr,
			    os_ipclass_name(got),
			    os_ipclass_name(class_cases[i].cls));
			CHECK(!"wrong class");
		}
	}
}

static void
t_class_names(void)
{
	CHECK_STR(os_ipclass_name(OS_IPCLASS_PUBLIC), "public");
	CHECK_STR(os_ipclass_name(OS_IPCLASS_LOOPBACK), "loopback");
	CHECK_STR(os_ipclass_name(OS_IPCLASS_LINK_LOCAL), "link-local");
	CHECK_STR(os_ipclass_name(OS_IPCLASS_METADATA), "cloud metadata");
	CHECK_STR(os_ipclass_name(OS_IPCLASS_UNSPECIFIED), "unspecified");
	CHECK_STR(os_ipclass_name(OS_IPCLASS_PRIVATE), "private");
	CHECK_STR(os_ipclass_name(OS_IPCLASS_CGNAT), "carrier-grade NAT");
	CHECK_STR(os_ipclass_name(OS_IPCLASS_ULA), "unique local");
	CHECK_STR(os_ipclass_name(OS_IPCLASS_DOCUMENTATION), "documentation");
	CHECK_STR(os_ipclass_name(OS_IPCLASS_BENCHMARK), "benchmarking");
	CHECK_STR(os_ipclass_name(OS_IPCLASS_MULTICAST), "multicast");
	CHECK_STR(os_ipclass_name(OS_IPCLASS_RESERVED), "reserved");
}

static void
t_always_blocked(void)
{
	CHECK(os_ipclass_always_blocked(OS_IPCLASS_LOOPBACK));
	CHECK(os_ipclass_always_blocked(OS_IPCLASS_LINK_LOCAL));
	CHECK(os_ipclass_always_blocked(OS_IPCLASS_METADATA));
	CHECK(os_ipclass_always_blocked(OS_IPCLASS_UNSPECIFIED));
	CHECK(os_ipclass_always_blocked(OS_IPCLASS_MULTICAST));
	CHECK(!os_ipclass_always_blocked(OS_IPCLASS_PUBLIC));
	CHECK(!os_ipclass_always_blocked(OS_IPCLASS_PRIVATE));
	CHECK(!os_ipclass_always_blocked(OS_IPCLASS_CGNAT));
	CHECK(!os_ipclass_always_blocked(OS_IPCLASS_ULA));
	CHECK(!os_ipclass_always_blocked(OS_IPCLASS_DOCUMENTATION));
	CHECK(!os_ipclass_always_blocked(OS_IPCLASS_BENCHMARK));
	CHECK(!os_ipclass_always_blocked(OS_IPCLASS_RESERVED));
}

static void
t_metadata_names(void)
{
	CHECK(os_host_is_metadata_name("metadata.google.internal"));
	CHECK(os_host_is_metadata_name("METADATA.Google.Internal."));
	CHECK(os_host_is_metadata_name("metadata"));
	CHECK(os_host_is_metadata_name("instance-data.ec2.internal"));
	CHECK(os_host_is_metadata_name("metadata.azure.com"));
	CHECK(os_host_is_metadata_name("localhost"));
	CHECK(os_host_is_metadata_name("LocalHost."));
	CHECK(os_host_is_metadata_name("app.localhost"));
	CHECK(os_host_is_metadata_name("App.LOCALHOST"));
	CHECK(!os_host_is_metadata_name("example.com"));
	CHECK(!os_host_is_metadata_name("notlocalhost"));
	CHECK(!os_host_is_metadata_name("localhost.example.com"));
	CHECK(!os_host_is_metadata_name("metadata.google.internal.evil.com"));
	CHECK(!os_host_is_metadata_name("169.254.169.254"));
	CHECK(!os_host_is_metadata_name(""));
	CHECK(!os_host_is_metadata_name("."));
	CHECK(!os_host_is_metadata_name(NULL));
}

int
main(void)
{
	TAP_RUN(t_ip_parse_v4);
	TAP_RUN(t_ip_parse_v6);
	TAP_RUN(t_ip_mapped);
	TAP_RUN(t_ip_junk);
	TAP_RUN(t_ip_format_small_buffer);
	TAP_RUN(t_cidr_parse);
	TAP_RUN(t_cidr_parse_errors);
	TAP_RUN(t_cidr_contains);
	TAP_RUN(t_cidr_overlaps);
	TAP_RUN(t_classify);
	TAP_RUN(t_class_names);
	TAP_RUN(t_always_blocked);
	TAP_RUN(t_metadata_names);
	return tap_done();
}
