/*
 * The SSRF decision, branch by branch, with the exact reason a user sees
 * in the 403 and the log. Decisions are built by hand: what matters here
 * is what each allowing (rule, endpoint, binary) vouches for, not how
 * the matcher found it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openshell.h"
#include "tap.h"

static char *db_ips[] = { "10.1.0.0/16", "192.168.5.5" };
static char *replica_ips[] = { "10.2.0.0/16" };
static char *mapped_ips[] = { "::ffff:10.3.0.0/112" };
static char *bad_ips[] = { "not-a-cidr", "10.0.0.5/8" };
static char *loop_ips[] = { "127.0.0.0/8" };

static struct os_binary curl = { "/usr/bin/curl", false };
static struct os_binary curl_proposed = { "/usr/bin/curl", true };

static struct os_rule rule_api = { .key = "api" };
static struct os_rule rule_api2 = { .key = "api-2" };
static struct os_rule rule_db = { .key = "db" };
static struct os_rule rule_replica = { .key = "db-replica" };
static struct os_rule rule_named = { .key = "db", .name = "Datenbank Zugriff" };

static struct os_endpoint ep_api = { .host = "api.internal" };
static struct os_endpoint ep_api_proposed = {
	.host = "api.internal", .advisor_proposed = true,
};
static struct os_endpoint ep_wild = { .host = "*.internal" };
static struct os_endpoint ep_db = {
	.host = "db.corp", .allowed_ips = db_ips, .nallowed_ips = 2,
};
static struct os_endpoint ep_db_plain = { .host = "db.corp" };
static struct os_endpoint ep_replica = {
	.host = "db.corp", .allowed_ips = replica_ips, .nallowed_ips = 1,
};
static struct os_endpoint ep_mapped = {
	.host = "db.corp", .allowed_ips = mapped_ips, .nallowed_ips = 1,
};
static struct os_endpoint ep_bad = {
	.host = "db.corp", .allowed_ips = bad_ips, .nallowed_ips = 2,
};
static struct os_endpoint ep_any = {
	.host = "", .allowed_ips = db_ips, .nallowed_ips = 2,
};
static struct os_endpoint ep_loop = {
	.host = "example.com", .allowed_ips = loop_ips, .nallowed_ips = 1,
};
static struct os_endpoint ep_example = { .host = "example.com" };
static struct os_endpoint ep_meta = { .host = "metadata.google.internal" };
static struct os_endpoint ep_localhost = { .host = "localhost" };
static struct os_endpoint ep_lit4 = { .host = "10.0.0.5" };
static struct os_endpoint ep_lit6 = { .host = "fd00::5" };

static struct os_l4_decision dec;

static void
allow(void)
{
	memset(&dec, 0, sizeof dec);
	dec.verdict = OS_L4_ALLOW;
}

static void
add(struct os_rule *r, struct os_endpoint *e, struct os_binary *b)
{
	dec.matches[dec.nmatches].rule = r;
	dec.matches[dec.nmatches].endpoint = e;
	dec.matches[dec.nmatches].binary = b;
	dec.nmatches++;
}

static struct os_cidr	trusted[4];
static size_t		ntrusted;

static void
trust(const char *s)
{
	if (os_cidr_parse(s, &trusted[ntrusted]) != 0)
		printf("# bad trusted CIDR %s\n", s);
	ntrusted++;
}

/*
 * "" when host -> addr may be dialled under `dec`, else the reason; a
 * return code that does not match the reason is reported as such.
 */
static const char *
check(const char *host, const char *addr)
{
	static char		why[1024];
	struct os_ssrf_context	ctx = {
		.host = host, .decision = &dec, .trusted = trusted,
		.ntrusted = ntrusted,
	};
	struct os_ip		ip;
	int			rc;

	if (os_ip_parse(addr, &ip) != 0)
		return "(bad test address)";
	memset(why, 'x', sizeof why);
	rc = os_ssrf_check(&ctx, &ip, why, sizeof why);
	if (rc == 0 && why[0] != '\0')
		return "(allowed, but a reason was written)";
	if (rc != 0 && rc != -EACCES)
		return "(unexpected return code)";
	if (rc == -EACCES && why[0] == '\0')
		return "(denied without a reason)";
	return why;
}

static void
reset(void)
{
	allow();
	ntrusted = 0;
}

static void
t_always_blocked_addresses(void)
{
	reset();
	add(&rule_api, &ep_example, &curl);
	CHECK_STR(check("example.com", "127.0.0.1"),
	    "example.com resolves to loopback address 127.0.0.1 (always blocked)");
	CHECK_STR(check("example.com", "::1"),
	    "example.com resolves to loopback address ::1 (always blocked)");
	CHECK_STR(check("example.com", "169.254.10.1"),
	    "example.com resolves to link-local address 169.254.10.1 (always blocked)");
	CHECK_STR(check("example.com", "fe80::1"),
	    "example.com resolves to link-local address fe80::1 (always blocked)");
	CHECK_STR(check("example.com", "169.254.169.254"),
	    "example.com resolves to cloud metadata address 169.254.169.254 (always blocked)");
	CHECK_STR(check("example.com", "fd00:ec2::254"),
	    "example.com resolves to cloud metadata address fd00:ec2::254 (always blocked)");
	CHECK_STR(check("example.com", "0.0.0.0"),
	    "example.com resolves to unspecified address 0.0.0.0 (always blocked)");
	CHECK_STR(check("example.com", "::"),
	    "example.com resolves to unspecified address :: (always blocked)");
	CHECK_STR(check("example.com", "224.0.0.251"),
	    "example.com resolves to multicast address 224.0.0.251 (always blocked)");
	CHECK_STR(check("example.com", "ff02::1"),
	    "example.com resolves to multicast address ff02::1 (always blocked)");
	/* Through a NAT64 gateway this is the metadata service. */
	CHECK_STR(check("example.com", "64:ff9b::a9fe:a9fe"),
	    "example.com resolves to cloud metadata address 64:ff9b::a9fe:a9fe (always blocked)");
}

static void
t_mapped_loopback(void)
{
	reset();
	add(&rule_api, &ep_example, &curl);
	CHECK_STR(check("example.com", "::ffff:127.0.0.1"),
	    "example.com resolves to loopback address 127.0.0.1 (always blocked)");
	CHECK_STR(check("example.com", "::ffff:169.254.169.254"),
	    "example.com resolves to cloud metadata address 169.254.169.254 (always blocked)");
}

static void
t_always_blocked_whatever_the_policy(void)
{
	/* Neither allowed_ips nor trusted CIDRs nor a literal reach these. */
	reset();
	add(&rule_api, &ep_loop, &curl);
	trust("127.0.0.0/8");
	CHECK_STR(check("example.com", "127.0.0.1"),
	    "example.com resolves to loopback address 127.0.0.1 (always blocked)");
	CHECK_STR(check("127.0.0.1", "127.0.0.1"),
	    "address 127.0.0.1 is loopback (always blocked)");
}

static void
t_always_blocked_literals(void)
{
	reset();
	add(&rule_api, &ep_lit4, &curl);
	CHECK_STR(check("127.0.0.1", "127.0.0.1"),
	    "address 127.0.0.1 is loopback (always blocked)");
	CHECK_STR(check("[::1]", "::1"),
	    "address ::1 is loopback (always blocked)");
	CHECK_STR(check("169.254.169.254", "169.254.169.254"),
	    "address 169.254.169.254 is cloud metadata (always blocked)");
	CHECK_STR(check("::ffff:127.0.0.1", "::ffff:127.0.0.1"),
	    "address ::ffff:127.0.0.1 is loopback (always blocked)");
	CHECK_STR(check("0.0.0.0", "0.0.0.0"),
	    "address 0.0.0.0 is unspecified (always blocked)");
}

static void
t_metadata_host(void)
{
	/* A hosts file may point the name anywhere; the name alone decides. */
	reset();
	add(&rule_api, &ep_meta, &curl);
	CHECK_STR(check("metadata.google.internal", "10.0.0.5"),
	    "host 'metadata.google.internal' is a cloud metadata service (always blocked)");
	CHECK_STR(check("metadata.google.internal", "34.1.2.3"),
	    "host 'metadata.google.internal' is a cloud metadata service (always blocked)");
	CHECK_STR(check("Metadata.Google.Internal.", "34.1.2.3"),
	    "host 'Metadata.Google.Internal.' is a cloud metadata service (always blocked)");
	/* The address is reported first when it is itself always blocked. */
	CHECK_STR(check("metadata.google.internal", "169.254.169.254"),
	    "metadata.google.internal resolves to cloud metadata address 169.254.169.254 (always blocked)");
	reset();
	add(&rule_api, &ep_localhost, &curl);
	CHECK_STR(check("localhost", "10.0.0.5"),
	    "host 'localhost' is a loopback name (always blocked)");
	CHECK_STR(check("app.LOCALHOST", "93.184.216.34"),
	    "host 'app.LOCALHOST' is a loopback name (always blocked)");
}

static void
t_allowed_ips_inside(void)
{
	reset();
	add(&rule_db, &ep_db, &curl);
	CHECK_STR(check("db.corp", "10.1.2.3"), "");
	CHECK_STR(check("db.corp", "192.168.5.5"), "");
	CHECK_STR(check("db.corp", "::ffff:10.1.2.3"), "");
	/* Written IPv4-mapped, meaning the IPv4 range. */
	reset();
	add(&rule_db, &ep_mapped, &curl);
	CHECK_STR(check("db.corp", "10.3.0.9"), "");
	/* The any-host endpoint is limited to its addresses. */
	reset();
	add(&rule_db, &ep_any, &curl);
	CHECK_STR(check("anything.example", "10.1.200.1"), "");
	CHECK_STR(check("anything.example", "10.9.0.1"),
	    "anything.example resolves to 10.9.0.1, which is not in allowed_ips of policy 'db'");
}

static void
t_allowed_ips_outside(void)
{
	reset();
	add(&rule_db, &ep_db, &curl);
	CHECK_STR(check("db.corp", "10.1.2.3"), "");
	CHECK_STR(check("db.corp", "10.2.0.1"),
	    "db.corp resolves to 10.2.0.1, which is not in allowed_ips of policy 'db'");
	CHECK_STR(check("db.corp", "192.168.5.6"),
	    "db.corp resolves to 192.168.5.6, which is not in allowed_ips of policy 'db'");
	/* A list limits public addresses too. */
	CHECK_STR(check("db.corp", "93.184.216.34"),
	    "db.corp resolves to 93.184.216.34, which is not in allowed_ips of policy 'db'");
	/* The literal form. */
	CHECK_STR(check("10.2.0.1", "10.2.0.1"),
	    "address 10.2.0.1 is not in allowed_ips of policy 'db'");
	/* The display name when the rule has one. */
	reset();
	add(&rule_named, &ep_db, &curl);
	CHECK_STR(check("db.corp", "10.2.0.1"),
	    "db.corp resolves to 10.2.0.1, which is not in allowed_ips of policy 'Datenbank Zugriff'");
	/* No rule to name. */
	reset();
	add(NULL, &ep_db, &curl);
	CHECK_STR(check("db.corp", "10.2.0.1"),
	    "db.corp resolves to 10.2.0.1, which is not in allowed_ips");
	/* Entries that do not parse hold nothing: fail closed. */
	reset();
	add(&rule_db, &ep_bad, &curl);
	CHECK_STR(check("db.corp", "10.0.0.5"),
	    "db.corp resolves to 10.0.0.5, which is not in allowed_ips of policy 'db'");
}

static void
t_allowed_ips_several_policies(void)
{
	reset();
	add(&rule_db, &ep_db, &curl);
	add(&rule_replica, &ep_replica, &curl);
	CHECK_STR(check("db.corp", "10.1.0.1"), "");
	CHECK_STR(check("db.corp", "10.2.0.1"), "");
	CHECK_STR(check("db.corp", "10.3.0.1"),
	    "db.corp resolves to 10.3.0.1, which is not in allowed_ips of policies 'db', 'db-replica'");
	CHECK_STR(check("10.3.0.1", "10.3.0.1"),
	    "address 10.3.0.1 is not in allowed_ips of policies 'db', 'db-replica'");
	/* One rule with two listing endpoints is named once. */
	reset();
	add(&rule_db, &ep_db, &curl);
	add(&rule_db, &ep_replica, &curl);
	CHECK_STR(check("db.corp", "10.3.0.1"),
	    "db.corp resolves to 10.3.0.1, which is not in allowed_ips of policy 'db'");
}

static void
t_allowed_ips_not_widened(void)
{
	/* Another policy allowing the host without a list does not widen
	 * the list, not even as an operator-declared exact host. */
	reset();
	add(&rule_db, &ep_db, &curl);
	add(&rule_replica, &ep_db_plain, &curl);
	CHECK_STR(check("db.corp", "10.9.9.9"),
	    "db.corp resolves to 10.9.9.9, which is not in allowed_ips of policy 'db'");
	/* Nor does a trusted CIDR. */
	trust("10.9.0.0/16");
	CHECK_STR(check("db.corp", "10.9.9.9"),
	    "db.corp resolves to 10.9.9.9, which is not in allowed_ips of policy 'db'");
}

static void
t_ip_literal(void)
{
	reset();
	add(&rule_api, &ep_lit4, &curl_proposed);
	/* Even advisor-proposed: the literal is the address. */
	CHECK_STR(check("10.0.0.5", "10.0.0.5"), "");
	reset();
	add(&rule_api, &ep_lit6, &curl);
	CHECK_STR(check("fd00::5", "fd00::5"), "");
	CHECK_STR(check("[fd00::5]", "fd00::5"), "");
	CHECK_STR(check("::ffff:10.0.0.5", "10.0.0.5"), "");
}

static void
t_trusted_cidr(void)
{
	reset();
	add(&rule_api, &ep_wild, &curl);
	trust("10.9.0.0/16");
	trust("fd00:1::/32");
	CHECK_STR(check("svc.internal", "10.9.1.2"), "");
	CHECK_STR(check("svc.internal", "::ffff:10.9.1.2"), "");
	CHECK_STR(check("svc.internal", "fd00:1::7"), "");
	CHECK_STR(check("svc.internal", "10.8.1.2"),
	    "svc.internal resolves to private address 10.8.1.2 (not in allowed_ips, not a trusted CIDR, host not declared by the operator)");
	/* Trusted means trusted, whoever proposed the endpoint. */
	reset();
	add(&rule_api, &ep_api_proposed, &curl);
	trust("10.0.0.0/8");
	CHECK_STR(check("api.internal", "10.0.0.5"), "");
}

static void
t_private_operator_declared(void)
{
	reset();
	add(&rule_api, &ep_api, &curl);
	CHECK_STR(check("api.internal", "10.0.0.5"), "");
	CHECK_STR(check("API.Internal", "10.0.0.5"), "");
	CHECK_STR(check("api.internal.", "10.0.0.5"), "");
	CHECK_STR(check("api.internal", "fd12::1"), "");
	CHECK_STR(check("api.internal", "100.64.1.1"), "");
	/* The exemption is for that host, not any host the decision holds. */
	CHECK_STR(check("other.internal", "10.0.0.5"),
	    "other.internal resolves to private address 10.0.0.5 (not in allowed_ips, not a trusted CIDR, host not declared by the operator)");
}

static void
t_private_advisor_endpoint(void)
{
	reset();
	add(&rule_api, &ep_api_proposed, &curl);
	CHECK_STR(check("api.internal", "10.0.0.5"),
	    "api.internal resolves to private address 10.0.0.5 (not in allowed_ips, not a trusted CIDR, host only proposed by the advisor)");
	/* Public addresses are fine for a proposal. */
	CHECK_STR(check("api.internal", "93.184.216.34"), "");
}

static void
t_private_advisor_binary(void)
{
	reset();
	add(&rule_api, &ep_api, &curl_proposed);
	CHECK_STR(check("api.internal", "10.0.0.5"),
	    "api.internal resolves to private address 10.0.0.5 (not in allowed_ips, not a trusted CIDR, host only proposed by the advisor)");
	/* Another match where both are the operator's is enough. */
	add(&rule_api2, &ep_api, &curl);
	CHECK_STR(check("api.internal", "10.0.0.5"), "");
}

static void
t_private_operator_vs_advisor(void)
{
	/* The same private address: declared by the operator -> allowed;
	 * proposed by the advisor and approved -> not. */
	reset();
	add(&rule_api, &ep_api, &curl);
	CHECK_STR(check("api.internal", "192.168.1.10"), "");
	reset();
	add(&rule_api, &ep_api_proposed, &curl);
	CHECK_STR(check("api.internal", "192.168.1.10"),
	    "api.internal resolves to private address 192.168.1.10 (not in allowed_ips, not a trusted CIDR, host only proposed by the advisor)");
}

static void
t_private_wildcard(void)
{
	reset();
	add(&rule_api, &ep_wild, &curl);
	CHECK_STR(check("api.internal", "10.0.0.5"),
	    "api.internal resolves to private address 10.0.0.5 (not in allowed_ips, not a trusted CIDR, host not declared by the operator)");
	CHECK_STR(check("api.internal", "93.184.216.34"), "");
}

static void
t_private_classes(void)
{
	reset();
	add(&rule_api, &ep_wild, &curl);
	CHECK_STR(check("a.internal", "100.64.1.1"),
	    "a.internal resolves to carrier-grade NAT address 100.64.1.1 (not in allowed_ips, not a trusted CIDR, host not declared by the operator)");
	CHECK_STR(check("a.internal", "fd12::1"),
	    "a.internal resolves to unique local address fd12::1 (not in allowed_ips, not a trusted CIDR, host not declared by the operator)");
	CHECK_STR(check("a.internal", "192.0.2.10"),
	    "a.internal resolves to documentation address 192.0.2.10 (not in allowed_ips, not a trusted CIDR, host not declared by the operator)");
	CHECK_STR(check("a.internal", "198.18.0.5"),
	    "a.internal resolves to benchmarking address 198.18.0.5 (not in allowed_ips, not a trusted CIDR, host not declared by the operator)");
	CHECK_STR(check("a.internal", "240.0.0.1"),
	    "a.internal resolves to reserved address 240.0.0.1 (not in allowed_ips, not a trusted CIDR, host not declared by the operator)");
	CHECK_STR(check("a.internal", "::ffff:172.16.0.1"),
	    "a.internal resolves to private address 172.16.0.1 (not in allowed_ips, not a trusted CIDR, host not declared by the operator)");
	CHECK_STR(check("a.internal", "64:ff9b::a00:1"),
	    "a.internal resolves to private address 64:ff9b::a00:1 (not in allowed_ips, not a trusted CIDR, host not declared by the operator)");
}

static void
t_no_allowing_decision(void)
{
	struct os_ssrf_context	ctx = { .host = "api.internal" };
	struct os_ip		ip;
	char			why[256];

	/* No decision: only public addresses. */
	CHECK_INT(os_ip_parse("10.0.0.5", &ip), 0);
	CHECK_INT(os_ssrf_check(&ctx, &ip, why, sizeof why), -EACCES);
	CHECK_STR(why, "api.internal resolves to private address 10.0.0.5 (not in allowed_ips, not a trusted CIDR, host not declared by the operator)");
	CHECK_INT(os_ip_parse("93.184.216.34", &ip), 0);
	CHECK_INT(os_ssrf_check(&ctx, &ip, why, sizeof why), 0);
	CHECK_STR(why, "");
	/* A denying decision (permissive mode asks too) vouches for nothing:
	 * its matches are the pairs that did not admit the request. */
	reset();
	add(&rule_api, &ep_api, NULL);
	dec.verdict = OS_L4_DENY_BINARY;
	CHECK_STR(check("api.internal", "10.0.0.5"),
	    "api.internal resolves to private address 10.0.0.5 (not in allowed_ips, not a trusted CIDR, host not declared by the operator)");
	CHECK_STR(check("api.internal", "93.184.216.34"), "");
	/* An allowing match without a binary entry has no provenance. */
	reset();
	add(&rule_api, &ep_api, NULL);
	CHECK_STR(check("api.internal", "10.0.0.5"),
	    "api.internal resolves to private address 10.0.0.5 (not in allowed_ips, not a trusted CIDR, host not declared by the operator)");
}

static void
t_public(void)
{
	reset();
	add(&rule_api, &ep_wild, &curl_proposed);
	CHECK_STR(check("www.example.com", "93.184.216.34"), "");
	CHECK_STR(check("www.example.com", "2606:2800:220:1:248:1893:25c8:1946"), "");
	CHECK_STR(check("www.example.com", "::ffff:93.184.216.34"), "");
	CHECK_STR(check("93.184.216.34", "93.184.216.34"), "");
}

static void
t_host_escaped(void)
{
	reset();
	add(&rule_api, &ep_wild, &curl);
	CHECK_STR(check("evil\x1b[31m.internal", "10.0.0.5"),
	    "evil\\x1b[31m.internal resolves to private address 10.0.0.5 (not in allowed_ips, not a trusted CIDR, host not declared by the operator)");
	{
		char	host[301], *want;

		memset(host, 'a', 300);
		host[300] = '\0';
		want = xprintf("%.256s... resolves to private address 10.0.0.5 "
		    "(not in allowed_ips, not a trusted CIDR, host not declared "
		    "by the operator)", host);
		CHECK_STR(check(host, "10.0.0.5"), want);
		free(want);
	}
}

static bool
utf8_complete(const char *s)
{
	size_t	n = strlen(s), i = n, lead;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0 || ((unsigned char)s[i - 1] & 0x80) == 0)
		return i == n;
	lead = (unsigned char)s[i - 1];
	return n - (i - 1) == ((lead & 0xe0) == 0xc0 ? 2u :
	    (lead & 0xf0) == 0xe0 ? 3u : 4u);
}

static void
t_truncation(void)
{
	static struct os_rule	umlaut = { .key = "db", .name = "Zugriff \xc3\xb6\xc3\xa4" };
	struct os_ssrf_context	ctx = { .host = "db.corp", .decision = &dec };
	struct os_ip		ip;
	char			full[512], buf[512];
	size_t			n, len;

	reset();
	add(&umlaut, &ep_db, &curl);
	CHECK_INT(os_ip_parse("10.2.0.1", &ip), 0);
	CHECK_INT(os_ssrf_check(&ctx, &ip, full, sizeof full), -EACCES);
	CHECK_STR(full, "db.corp resolves to 10.2.0.1, which is not in allowed_ips of policy 'Zugriff \xc3\xb6\xc3\xa4'");
	n = strlen(full);
	for (len = 1; len <= n + 1; len++) {
		memset(buf, 'x', sizeof buf);
		CHECK_INT(os_ssrf_check(&ctx, &ip, buf, len), -EACCES);
		CHECK(strlen(buf) < len);
		CHECK(strncmp(buf, full, strlen(buf)) == 0);
		CHECK(utf8_complete(buf));
		/* Only multi-byte characters make it shorter than len - 1. */
		CHECK(strlen(buf) + 2 >= (len - 1 < n ? len - 1 : n));
		CHECK(buf[len] == 'x');
	}
	CHECK_STR(buf, full);
	/* No room at all, or no buffer: still the decision. */
	buf[0] = 'x';
	CHECK_INT(os_ssrf_check(&ctx, &ip, buf, 0), -EACCES);
	CHECK(buf[0] == 'x');
	CHECK_INT(os_ssrf_check(&ctx, &ip, NULL, 0), -EACCES);
}

int
main(void)
{
	TAP_RUN(t_always_blocked_addresses);
	TAP_RUN(t_mapped_loopback);
	TAP_RUN(t_always_blocked_whatever_the_policy);
	TAP_RUN(t_always_blocked_literals);
	TAP_RUN(t_metadata_host);
	TAP_RUN(t_allowed_ips_inside);
	TAP_RUN(t_allowed_ips_outside);
	TAP_RUN(t_allowed_ips_several_policies);
	TAP_RUN(t_allowed_ips_not_widened);
	TAP_RUN(t_ip_literal);
	TAP_RUN(t_trusted_cidr);
	TAP_RUN(t_private_operator_declared);
	TAP_RUN(t_private_advisor_endpoint);
	TAP_RUN(t_private_advisor_binary);
	TAP_RUN(t_private_operator_vs_advisor);
	TAP_RUN(t_private_wildcard);
	TAP_RUN(t_private_classes);
	TAP_RUN(t_no_allowing_decision);
	TAP_RUN(t_public);
	TAP_RUN(t_host_escaped);
	TAP_RUN(t_truncation);
	return tap_done();
}
