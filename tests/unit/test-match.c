/*
 * The compiled matcher: L4 decisions (host, port, binary) with the
 * reasons a denied agent sees, and L7 decisions (presets, explicit rules,
 * query matchers, deny rules, audit). Policies are written in YAML, as a
 * user would write them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openshell.h"
#include "tap.h"

static struct os_matcher *
compile(const char *yaml)
{
	struct os_diags		 d = OS_DIAGS_INIT;
	struct os_policy	*p = NULL;
	struct os_matcher	*m;
	char			*s;

	if (os_policy_load_yaml(yaml, strlen(yaml), "test.yaml", &p, NULL,
	    &d) != 0) {
		s = os_diags_format(&d);
		printf("# policy does not load:\n%s", s);
		free(s);
		os_diags_free(&d);
		return NULL;
	}
	os_diags_free(&d);
	m = os_matcher_new(p, 7);
	os_policy_free(p);
	return m;
}

/* One policy `key` allowing `binary` to reach host:port. */
#define SIMPLE(key, host, port, binary)					\
	"  " key ":\n"							\
	"    endpoints:\n"						\
	"      - { host: \"" host "\", port: " #port " }\n"		\
	"    binaries:\n"						\
	"      - { path: \"" binary "\" }\n"

static enum os_l4_verdict
l4(const struct os_matcher *m, const char *host, uint16_t port,
    const char *binary, struct os_l4_decision *d)
{
	struct os_l4_request	r;

	memset(&r, 0, sizeof r);
	r.host = host;
	r.port = port;
	r.binary = binary;
	os_matcher_l4(m, &r, d);
	return d->verdict;
}

static char reason_buf[2048];

static const char *
l4_reason(const struct os_matcher *m, const char *host, uint16_t port,
    const char *binary)
{
	struct os_l4_request	r;
	struct os_l4_decision	d;

	memset(&r, 0, sizeof r);
	r.host = host;
	r.port = port;
	r.binary = binary;
	os_matcher_l4(m, &r, &d);
	os_l4_reason(&r, &d, reason_buf, sizeof reason_buf);
	return reason_buf;
}

/* L4 (as /usr/bin/curl on 443) then L7. */
static enum os_l7_verdict
l7(const struct os_matcher *m, const char *host, const char *method,
    const char *path, const char *query, struct os_l7_decision *out)
{
	struct os_l4_request	r;
	struct os_l4_decision	d;
	struct os_l7_request	q;

	memset(&r, 0, sizeof r);
	r.host = host;
	r.port = 443;
	r.binary = "/usr/bin/curl";
	os_matcher_l4(m, &r, &d);
	q.method = method;
	q.path = path;
	q.query = query;
	os_matcher_l7(m, &r, &d, &q, out);
	return out->verdict;
}

static const char *
l7_reason(const struct os_matcher *m, const char *host, const char *method,
    const char *path, const char *query)
{
	struct os_l7_decision	out;
	struct os_l7_request	q = { method, path, query };

	l7(m, host, method, path, query, &out);
	os_l7_reason(&q, &out, reason_buf, sizeof reason_buf);
	return reason_buf;
}

static const char *
describe(const struct os_l7_rule *r)
{
	static char	buf[512];

	os_l7_rule_describe(r, buf, sizeof buf);
	return buf;
}

/* ------------------------------------------------------------------------
 * L4
 */
static void
t_default_deny(void)
{
	struct os_policy	*p = os_policy_default();
	struct os_matcher	*m = os_matcher_new(p, 1);
	struct os_l4_decision	 d;

	CHECK_INT(l4(m, "api.github.com", 443, "/usr/bin/curl", &d),
	    OS_L4_DENY_NO_ENDPOINT);
	CHECK_INT(d.nmatches, 0);
	CHECK(!d.inspect && !d.tls_skip && !d.truncated);
	CHECK_STR(l4_reason(m, "api.github.com", 443, "/usr/bin/curl"),
	    "no matching network policy");
	/* No matcher at all denies too. */
	CHECK_INT(l4(NULL, "api.github.com", 443, "/usr/bin/curl", &d),
	    OS_L4_DENY_NO_ENDPOINT);
	os_matcher_unref(m);
	os_policy_free(p);
}

static void
t_exact_host(void)
{
	struct os_matcher	*m;
	struct os_l4_decision	 d;
	char			 host[] = "API.GitHub.COM";

	m = compile("version: 1\nnetwork_policies:\n"
	    SIMPLE("github", "api.github.com", 443, "/usr/bin/curl"));
	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK_INT(l4(m, "api.github.com", 443, "/usr/bin/curl", &d),
	    OS_L4_ALLOW);
	CHECK_INT(d.nmatches, 1);
	CHECK_STR(d.matches[0].rule->key, "github");
	CHECK_STR(d.matches[0].endpoint->host, "api.github.com");
	CHECK_STR(d.matches[0].binary->path, "/usr/bin/curl");
	CHECK(!d.inspect && !d.tls_skip && !d.truncated);

	/* Any case, and the request's string is left alone. */
	CHECK_INT(l4(m, host, 443, "/usr/bin/curl", &d), OS_L4_ALLOW);
	CHECK_STR(host, "API.GitHub.COM");

	CHECK_INT(l4(m, "api.github.com", 80, "/usr/bin/curl", &d),
	    OS_L4_DENY_NO_ENDPOINT);
	CHECK_INT(l4(m, "github.com", 443, "/usr/bin/curl", &d),
	    OS_L4_DENY_NO_ENDPOINT);
	CHECK_INT(l4(m, "api.github.com.evil.net", 443, "/usr/bin/curl", &d),
	    OS_L4_DENY_NO_ENDPOINT);
	CHECK_INT(l4(m, "xapi.github.com", 443, "/usr/bin/curl", &d),
	    OS_L4_DENY_NO_ENDPOINT);
	/* No trailing-dot normalisation: the policy says what it says. */
	CHECK_INT(l4(m, "api.github.com.", 443, "/usr/bin/curl", &d),
	    OS_L4_DENY_NO_ENDPOINT);
	CHECK_INT(l4(m, "", 443, "/usr/bin/curl", &d), OS_L4_DENY_NO_ENDPOINT);
	CHECK_INT(l4(m, NULL, 443, "/usr/bin/curl", &d),
	    OS_L4_DENY_NO_ENDPOINT);
	os_matcher_unref(m);
}

static void
t_ports(void)
{
	struct os_matcher	*m;
	struct os_l4_decision	 d;

	m = compile("version: 1\nnetwork_policies:\n"
	    "  web:\n"
	    "    endpoints:\n"
	    "      - { host: a.example.com, ports: [8443, 80, 443, 8080, 9000, 22] }\n"
	    "      - { host: b.example.com, ports: [443, 80] }\n"
	    "    binaries: [{ path: /usr/bin/curl }]\n");
	CHECK(m != NULL);
	if (m == NULL)
		return;
	/* More ports than fit in the candidate's inline copy. */
	CHECK_INT(l4(m, "a.example.com", 22, "/usr/bin/curl", &d), OS_L4_ALLOW);
	CHECK_INT(l4(m, "a.example.com", 9000, "/usr/bin/curl", &d),
	    OS_L4_ALLOW);
	CHECK_INT(l4(m, "a.example.com", 8443, "/usr/bin/curl", &d),
	    OS_L4_ALLOW);
	CHECK_INT(l4(m, "a.example.com", 8444, "/usr/bin/curl", &d),
	    OS_L4_DENY_NO_ENDPOINT);
	CHECK_INT(l4(m, "b.example.com", 80, "/usr/bin/curl", &d), OS_L4_ALLOW);
	CHECK_INT(l4(m, "b.example.com", 8080, "/usr/bin/curl", &d),
	    OS_L4_DENY_NO_ENDPOINT);
	CHECK_INT(l4(m, "b.example.com", 0, "/usr/bin/curl", &d),
	    OS_L4_DENY_NO_ENDPOINT);
	os_matcher_unref(m);
}

static void
t_wildcard_host(void)
{
	struct os_matcher	*m;
	struct os_l4_decision	 d;

	m = compile("version: 1\nnetwork_policies:\n"
	    SIMPLE("wild", "*.example.com", 443, "/usr/bin/curl")
	    SIMPLE("exact", "api.example.com", 443, "/usr/bin/curl"));
	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK_INT(l4(m, "www.example.com", 443, "/usr/bin/curl", &d),
	    OS_L4_ALLOW);
	CHECK_INT(d.nmatches, 1);
	CHECK_STR(d.matches[0].rule->key, "wild");
	CHECK_STR(d.matches[0].endpoint->host, "*.example.com");
	CHECK_INT(l4(m, "WWW.Example.COM", 443, "/usr/bin/curl", &d),
	    OS_L4_ALLOW);
	/* An exact and a wildcard endpoint both select api.example.com. */
	CHECK_INT(l4(m, "api.example.com", 443, "/usr/bin/curl", &d),
	    OS_L4_ALLOW);
	CHECK_INT(d.nmatches, 2);
	CHECK_STR(d.matches[0].rule->key, "exact");
	CHECK_STR(d.matches[1].rule->key, "wild");

	/* '*' is exactly one label. */
	CHECK_INT(l4(m, "example.com", 443, "/usr/bin/curl", &d),
	    OS_L4_DENY_NO_ENDPOINT);
	CHECK_INT(l4(m, "a.b.example.com", 443, "/usr/bin/curl", &d),
	    OS_L4_DENY_NO_ENDPOINT);
	CHECK_INT(l4(m, ".example.com", 443, "/usr/bin/curl", &d),
	    OS_L4_DENY_NO_ENDPOINT);
	CHECK_INT(l4(m, "wwwexample.com", 443, "/usr/bin/curl", &d),
	    OS_L4_DENY_NO_ENDPOINT);
	CHECK_INT(l4(m, "www.example.com.au", 443, "/usr/bin/curl", &d),
	    OS_L4_DENY_NO_ENDPOINT);
	CHECK_INT(l4(m, "www.example.com", 80, "/usr/bin/curl", &d),
	    OS_L4_DENY_NO_ENDPOINT);
	os_matcher_unref(m);
}

static void
t_binary_mismatch(void)
{
	struct os_matcher	*m;
	struct os_l4_decision	 d;

	m = compile("version: 1\nnetwork_policies:\n"
	    "  gh:\n"
	    "    name: github-api\n"
	    "    endpoints: [{ host: api.github.com, port: 443 }]\n"
	    "    binaries: [{ path: /usr/bin/curl }]\n"
	    "  gh2:\n"
	    "    endpoints: [{ host: api.github.com, port: 443 }]\n"
	    "    binaries: [{ path: /usr/bin/git }, { path: /usr/bin/gh }]\n"
	    SIMPLE("other", "pypi.org", 443, "/usr/bin/pip"));
	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK_INT(l4(m, "pypi.org", 443, "/usr/bin/python3", &d),
	    OS_L4_DENY_BINARY);
	CHECK_INT(d.nmatches, 1);
	CHECK_STR(d.matches[0].rule->key, "other");
	CHECK_STR(d.matches[0].endpoint->host, "pypi.org");
	CHECK(d.matches[0].binary == NULL);
	CHECK_STR(l4_reason(m, "pypi.org", 443, "/usr/bin/python3"),
	    "binary '/usr/bin/python3' not allowed in policy 'other' "
	    "(allows /usr/bin/pip)");

	/* One clause per policy, by display name, joined with "; ". */
	CHECK_INT(l4(m, "api.github.com", 443, "/usr/bin/python3", &d),
	    OS_L4_DENY_BINARY);
	CHECK_INT(d.nmatches, 2);
	CHECK_STR(l4_reason(m, "api.github.com", 443, "/usr/bin/python3"),
	    "binary '/usr/bin/python3' not allowed in policy 'github-api' "
	    "(allows /usr/bin/curl); binary '/usr/bin/python3' not allowed "
	    "in policy 'gh2' (allows /usr/bin/git, /usr/bin/gh)");
	CHECK_STR(l4_reason(m, "api.github.com", 443, NULL),
	    "binary '(unknown)' not allowed in policy 'github-api' "
	    "(allows /usr/bin/curl); binary '(unknown)' not allowed "
	    "in policy 'gh2' (allows /usr/bin/git, /usr/bin/gh)");
	/* An allowed binary in either policy is enough; the reason is "". */
	CHECK_INT(l4(m, "api.github.com", 443, "/usr/bin/gh", &d), OS_L4_ALLOW);
	CHECK_INT(d.nmatches, 1);
	CHECK_STR(d.matches[0].rule->key, "gh2");
	CHECK_STR(d.matches[0].binary->path, "/usr/bin/gh");
	CHECK_STR(l4_reason(m, "api.github.com", 443, "/usr/bin/gh"), "");
	/* No endpoint beats a binary story. */
	CHECK_STR(l4_reason(m, "api.github.com", 22, "/usr/bin/python3"),
	    "no matching network policy");
	os_matcher_unref(m);
}

static void
t_ancestors(void)
{
	static const char *const chain[] = {
		"/usr/bin/bash", NULL, "/usr/local/bin/claude", "/sbin/init",
	};
	struct os_matcher	*m;
	struct os_l4_request	 r;
	struct os_l4_decision	 d;

	m = compile("version: 1\nnetwork_policies:\n"
	    SIMPLE("agent", "api.anthropic.com", 443, "/usr/local/bin/claude"));
	CHECK(m != NULL);
	if (m == NULL)
		return;
	memset(&r, 0, sizeof r);
	r.host = "api.anthropic.com";
	r.port = 443;
	r.binary = "/usr/bin/python3";
	r.ancestors = chain;
	r.nancestors = 2;
	os_matcher_l4(m, &r, &d);
	CHECK_INT(d.verdict, OS_L4_DENY_BINARY);
	r.nancestors = OS_NELEM(chain);
	os_matcher_l4(m, &r, &d);
	CHECK_INT(d.verdict, OS_L4_ALLOW);
	CHECK_STR(d.matches[0].binary->path, "/usr/local/bin/claude");
	/* The exe unknown: a child of an allowed binary is still its child. */
	r.binary = NULL;
	os_matcher_l4(m, &r, &d);
	CHECK_INT(d.verdict, OS_L4_ALLOW);
	r.ancestors = NULL;
	os_matcher_l4(m, &r, &d);
	CHECK_INT(d.verdict, OS_L4_DENY_BINARY);
	os_matcher_unref(m);
}

static void
t_binary_globs(void)
{
	static const char *const chain[] = { "/opt/tools/bin/runner" };
	struct os_matcher	*m;
	struct os_l4_request	 r;
	struct os_l4_decision	 d;

	m = compile("version: 1\nnetwork_policies:\n"
	    SIMPLE("bin", "a.example.com", 443, "/usr/bin/*")
	    SIMPLE("usr", "b.example.com", 443, "/usr/**")
	    SIMPLE("py", "c.example.com", 443, "/usr/bin/python3*")
	    SIMPLE("any", "d.example.com", 443, "/**")
	    SIMPLE("opt", "e.example.com", 443, "/opt/*/bin/runner"));
	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK_INT(l4(m, "a.example.com", 443, "/usr/bin/python3", &d),
	    OS_L4_ALLOW);
	CHECK_STR(d.matches[0].binary->path, "/usr/bin/*");
	/* '*' does not cross '/'. */
	CHECK_INT(l4(m, "a.example.com", 443, "/usr/bin/x/python3", &d),
	    OS_L4_DENY_BINARY);
	CHECK_INT(l4(m, "a.example.com", 443, "/usr/local/bin/python3", &d),
	    OS_L4_DENY_BINARY);
	/* '**' does. */
	CHECK_INT(l4(m, "b.example.com", 443, "/usr/local/bin/node", &d),
	    OS_L4_ALLOW);
	CHECK_INT(l4(m, "b.example.com", 443, "/opt/node", &d),
	    OS_L4_DENY_BINARY);
	CHECK_INT(l4(m, "c.example.com", 443, "/usr/bin/python3.11", &d),
	    OS_L4_ALLOW);
	CHECK_INT(l4(m, "c.example.com", 443, "/usr/bin/python2", &d),
	    OS_L4_DENY_BINARY);
	CHECK_INT(l4(m, "d.example.com", 443, "/anything/at/all", &d),
	    OS_L4_ALLOW);
	/* A NULL binary never matches, not even the match-all glob. */
	CHECK_INT(l4(m, "d.example.com", 443, NULL, &d), OS_L4_DENY_BINARY);
	/* Globs apply to ancestors too. */
	memset(&r, 0, sizeof r);
	r.host = "e.example.com";
	r.port = 443;
	r.binary = "/usr/bin/sh";
	r.ancestors = chain;
	r.nancestors = 1;
	os_matcher_l4(m, &r, &d);
	CHECK_INT(d.verdict, OS_L4_ALLOW);
	CHECK_STR(d.matches[0].binary->path, "/opt/*/bin/runner");
	os_matcher_unref(m);
}

static void
t_hostless(void)
{
	struct os_matcher	*m;
	struct os_l4_decision	 d;

	m = compile("version: 1\nnetwork_policies:\n"
	    "  db:\n"
	    "    endpoints:\n"
	    "      - { host: \"\", port: 5432, allowed_ips: [10.0.0.0/8] }\n"
	    "    binaries: [{ path: /usr/bin/psql }]\n"
	    "  db-named:\n"
	    "    endpoints: [{ host: db.internal, port: 5432 }]\n"
	    "    binaries: [{ path: /usr/bin/psql }]\n");
	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK_INT(l4(m, "anything.at.all", 5432, "/usr/bin/psql", &d),
	    OS_L4_ALLOW);
	CHECK_INT(d.nmatches, 1);
	CHECK_STR(d.matches[0].rule->key, "db");
	CHECK_STR(d.matches[0].endpoint->host, "");
	CHECK_INT(l4(m, "10.1.2.3", 5432, "/usr/bin/psql", &d), OS_L4_ALLOW);
	CHECK_INT(l4(m, "db.internal", 5432, "/usr/bin/psql", &d), OS_L4_ALLOW);
	CHECK_INT(d.nmatches, 2);
	CHECK_STR(d.matches[0].rule->key, "db");
	CHECK_STR(d.matches[1].rule->key, "db-named");
	CHECK_INT(l4(m, "anything.at.all", 5433, "/usr/bin/psql", &d),
	    OS_L4_DENY_NO_ENDPOINT);
	CHECK_INT(l4(m, "anything.at.all", 5432, "/usr/bin/curl", &d),
	    OS_L4_DENY_BINARY);
	os_matcher_unref(m);
}

static void
t_several_policies_sorted(void)
{
	struct os_matcher	*m;
	struct os_l4_decision	 d;

	/* Written out of order; one per kind of host selector. */
	m = compile("version: 1\nnetwork_policies:\n"
	    SIMPLE("zeta", "*.example.com", 443, "/usr/bin/curl")
	    SIMPLE("mid", "api.example.com", 443, "/usr/bin/git")
	    "  beta:\n"
	    "    endpoints:\n"
	    "      - { host: \"\", port: 443, allowed_ips: [192.168.0.0/16] }\n"
	    "      - { host: api.example.com, port: 443 }\n"
	    "    binaries: [{ path: /usr/bin/curl }]\n"
	    SIMPLE("alpha", "API.example.com", 443, "/usr/bin/curl"));
	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK_INT(l4(m, "api.example.com", 443, "/usr/bin/curl", &d),
	    OS_L4_ALLOW);
	CHECK_INT(d.nmatches, 4);
	CHECK(!d.truncated);
	CHECK_STR(d.matches[0].rule->key, "alpha");
	CHECK_STR(d.matches[1].rule->key, "beta");
	CHECK_STR(d.matches[1].endpoint->host, "");
	CHECK_STR(d.matches[2].rule->key, "beta");
	CHECK_STR(d.matches[2].endpoint->host, "api.example.com");
	CHECK_STR(d.matches[3].rule->key, "zeta");
	/* "mid" does not admit curl, so it is not among the matches. */
	CHECK_INT(l4(m, "api.example.com", 443, "/usr/bin/git", &d),
	    OS_L4_ALLOW);
	CHECK_INT(d.nmatches, 1);
	CHECK_STR(d.matches[0].rule->key, "mid");
	os_matcher_unref(m);
}

static void
t_truncation(void)
{
	struct os_buf		 y = OS_BUF_INIT;
	struct os_matcher	*m;
	struct os_l4_decision	 d;
	size_t			 i;
	char			 key[16];

	os_buf_adds(&y, "version: 1\nnetwork_policies:\n");
	for (i = 0; i < OS_MATCH_MAX + 4; i++) {
		os_buf_addf(&y, "  p%02zu:\n"
		    "    endpoints: [{ host: api.example.com, port: 443 }]\n"
		    "    binaries: [{ path: /usr/bin/curl }]\n",
		    OS_MATCH_MAX + 3 - i);
	}
	m = compile(os_buf_str(&y));
	os_buf_free(&y);
	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK_INT(l4(m, "api.example.com", 443, "/usr/bin/curl", &d),
	    OS_L4_ALLOW);
	CHECK_INT(d.nmatches, OS_MATCH_MAX);
	CHECK(d.truncated);
	for (i = 0; i < OS_MATCH_MAX; i++) {
		snprintf(key, sizeof key, "p%02zu", i);
		CHECK_STR(d.matches[i].rule->key, key);
	}
	CHECK_INT(l4(m, "api.example.com", 443, "/usr/bin/wget", &d),
	    OS_L4_DENY_BINARY);
	CHECK_INT(d.nmatches, OS_MATCH_MAX);
	CHECK(d.truncated);
	CHECK_CONTAINS(l4_reason(m, "api.example.com", 443, "/usr/bin/wget"),
	    "not allowed in policy 'p15' (allows /usr/bin/curl); and other "
	    "policies");
	os_matcher_unref(m);
}

static void
t_inspect_and_tls_skip(void)
{
	struct os_matcher	*m;
	struct os_l4_decision	 d;

	m = compile("version: 1\nnetwork_policies:\n"
	    "  l7:\n"
	    "    endpoints:\n"
	    "      - { host: api.example.com, port: 443, protocol: rest,"
	    " access: read-only }\n"
	    "    binaries: [{ path: /usr/bin/curl }]\n"
	    "  opaque:\n"
	    "    endpoints:\n"
	    "      - { host: api.example.com, port: 443, tls: skip }\n"
	    "      - { host: git.example.com, port: 443, tls: skip }\n"
	    "    binaries: [{ path: /usr/bin/curl }, { path: /usr/bin/git }]\n");
	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK_INT(l4(m, "git.example.com", 443, "/usr/bin/curl", &d),
	    OS_L4_ALLOW);
	CHECK(d.tls_skip && !d.inspect);
	/* git is only admitted by "opaque": relayed as is. */
	CHECK_INT(l4(m, "api.example.com", 443, "/usr/bin/git", &d),
	    OS_L4_ALLOW);
	CHECK(d.tls_skip && !d.inspect);
	/* curl is admitted by both: inspection wins over the opaque relay. */
	CHECK_INT(l4(m, "api.example.com", 443, "/usr/bin/curl", &d),
	    OS_L4_ALLOW);
	CHECK_INT(d.nmatches, 2);
	CHECK(d.inspect && !d.tls_skip);
	os_matcher_unref(m);
}

/* ------------------------------------------------------------------------
 * L7
 */
#define L7_POLICY(key, host, extra)					\
	"  " key ":\n"							\
	"    endpoints:\n"						\
	"      - host: " host "\n"					\
	"        port: 443\n"						\
	"        protocol: rest\n"					\
	extra								\
	"    binaries: [{ path: /usr/bin/curl }]\n"

static void
t_presets(void)
{
	struct os_matcher	*m;
	struct os_l7_decision	 o;

	m = compile("version: 1\nnetwork_policies:\n"
	    L7_POLICY("ro", "ro.example.com", "        access: read-only\n")
	    L7_POLICY("rw", "rw.example.com", "        access: read-write\n")
	    L7_POLICY("full", "full.example.com", "        access: full\n"));
	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK_INT(l7(m, "ro.example.com", "GET", "/a/b", NULL, &o),
	    OS_L7_ALLOW);
	CHECK_STR(o.rule->key, "ro");
	CHECK_STR(o.endpoint->host, "ro.example.com");
	CHECK_STR(describe(o.matched), "GET **");
	CHECK(!o.by_deny_rule);
	CHECK_INT(l7(m, "ro.example.com", "HEAD", "/", NULL, &o), OS_L7_ALLOW);
	CHECK_INT(l7(m, "ro.example.com", "OPTIONS", "/x", NULL, &o),
	    OS_L7_ALLOW);
	CHECK_STR(describe(o.matched), "OPTIONS **");
	CHECK_INT(l7(m, "ro.example.com", "POST", "/x", NULL, &o), OS_L7_DENY);
	CHECK_STR(o.rule->key, "ro");
	CHECK(o.matched == NULL && !o.by_deny_rule);
	CHECK_INT(l7(m, "ro.example.com", "DELETE", "/x", NULL, &o),
	    OS_L7_DENY);

	CHECK_INT(l7(m, "rw.example.com", "GET", "/x", NULL, &o), OS_L7_ALLOW);
	CHECK_INT(l7(m, "rw.example.com", "POST", "/x", NULL, &o),
	    OS_L7_ALLOW);
	CHECK_INT(l7(m, "rw.example.com", "PUT", "/x", NULL, &o), OS_L7_ALLOW);
	CHECK_INT(l7(m, "rw.example.com", "PATCH", "/x", NULL, &o),
	    OS_L7_ALLOW);
	CHECK_STR(describe(o.matched), "PATCH **");
	CHECK_INT(l7(m, "rw.example.com", "DELETE", "/x", NULL, &o),
	    OS_L7_DENY);

	CHECK_INT(l7(m, "full.example.com", "DELETE", "/x/y/z", NULL, &o),
	    OS_L7_ALLOW);
	CHECK_STR(describe(o.matched), "* **");
	CHECK_INT(l7(m, "full.example.com", "PROPFIND", "", NULL, &o),
	    OS_L7_ALLOW);
	os_matcher_unref(m);
}

static void
t_access_methods(void)
{
	const char *const	*v;

	v = os_access_methods(OS_ACCESS_READ_ONLY);
	CHECK_STR(v[0], "GET");
	CHECK_STR(v[1], "HEAD");
	CHECK_STR(v[2], "OPTIONS");
	CHECK(v[3] == NULL);
	v = os_access_methods(OS_ACCESS_READ_WRITE);
	CHECK_STR(v[3], "POST");
	CHECK_STR(v[4], "PUT");
	CHECK_STR(v[5], "PATCH");
	CHECK(v[6] == NULL);
	v = os_access_methods(OS_ACCESS_FULL);
	CHECK_STR(v[0], "*");
	CHECK(v[1] == NULL);
	CHECK(os_access_methods(OS_ACCESS_NONE)[0] == NULL);
}

static void
t_explicit_rules(void)
{
	struct os_matcher	*m;
	struct os_l7_decision	 o;

	m = compile("version: 1\nnetwork_policies:\n"
	    L7_POLICY("llm", "api.example.com",
	    "        rules:\n"
	    "          - allow: { method: GET, path: \"/v1/**\" }\n"
	    "          - allow: { method: post, path: \"/repos/*/issues\" }\n"));
	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK_INT(l7(m, "api.example.com", "GET", "/v1/models", NULL, &o),
	    OS_L7_ALLOW);
	CHECK_STR(describe(o.matched), "GET /v1/**");
	CHECK_STR(o.rule->key, "llm");
	CHECK_INT(l7(m, "api.example.com", "GET", "/v1/a/b", NULL, &o),
	    OS_L7_ALLOW);
	CHECK_INT(l7(m, "api.example.com", "get", "/v1/models", NULL, &o),
	    OS_L7_ALLOW);
	CHECK_INT(l7(m, "api.example.com", "POST", "/v1/messages", NULL, &o),
	    OS_L7_DENY);
	CHECK(o.matched == NULL);
	CHECK_STR(o.rule->key, "llm");
	CHECK_INT(l7(m, "api.example.com", "GET", "/v2/x", NULL, &o),
	    OS_L7_DENY);
	CHECK_INT(l7(m, "api.example.com", "GET", "/v1", NULL, &o), OS_L7_DENY);
	CHECK_INT(l7(m, "api.example.com", "GET", "", NULL, &o), OS_L7_DENY);
	/* '*' stays inside one segment. */
	CHECK_INT(l7(m, "api.example.com", "POST", "/repos/hello/issues", NULL,
	    &o), OS_L7_ALLOW);
	CHECK_STR(describe(o.matched), "POST /repos/*/issues");
	CHECK_INT(l7(m, "api.example.com", "POST", "/repos/a/b/issues", NULL,
	    &o), OS_L7_DENY);
	CHECK_STR(l7_reason(m, "api.example.com", "POST",
	    "/repos/octocat/hello-world/issues", NULL),
	    "POST /repos/octocat/hello-world/issues not permitted by policy");
	CHECK_STR(l7_reason(m, "api.example.com", "GET", "/v1/models", NULL),
	    "");
	os_matcher_unref(m);
}

static void
t_head_matches_get(void)
{
	struct os_matcher	*m;
	struct os_l7_decision	 o;

	m = compile("version: 1\nnetwork_policies:\n"
	    L7_POLICY("g", "api.example.com",
	    "        rules:\n"
	    "          - allow: { method: GET, path: /status }\n"
	    "          - allow: { method: HEAD, path: /ping }\n"));
	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK_INT(l7(m, "api.example.com", "HEAD", "/status", NULL, &o),
	    OS_L7_ALLOW);
	CHECK_STR(describe(o.matched), "GET /status");
	CHECK_INT(l7(m, "api.example.com", "head", "/status", NULL, &o),
	    OS_L7_ALLOW);
	/* Not the other way round. */
	CHECK_INT(l7(m, "api.example.com", "GET", "/ping", NULL, &o),
	    OS_L7_DENY);
	CHECK_INT(l7(m, "api.example.com", "HEAD", "/ping", NULL, &o),
	    OS_L7_ALLOW);
	os_matcher_unref(m);
}

static void
t_query_matchers(void)
{
	struct os_matcher	*m;
	struct os_l7_decision	 o;
	struct os_buf		 big = OS_BUF_INIT;
	const char		*h = "api.example.com";
	size_t			 i;

	m = compile("version: 1\nnetwork_policies:\n"
	    L7_POLICY("q", "api.example.com",
	    "        rules:\n"
	    "          - allow:\n"
	    "              method: GET\n"
	    "              path: /search\n"
	    "              query:\n"
	    "                q: \"foo*\"\n"
	    "                lang: { any: [en, de] }\n"));
	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK_INT(l7(m, h, "GET", "/search", "q=foobar&lang=en", &o),
	    OS_L7_ALLOW);
	CHECK_STR(describe(o.matched), "GET /search?lang={en,de}&q=foo*");
	CHECK_INT(l7(m, h, "GET", "/search", "lang=de&q=foo", &o), OS_L7_ALLOW);
	/* Parameters the rule does not name are ignored. */
	CHECK_INT(l7(m, h, "GET", "/search", "page=2&q=foo1&&lang=en&x", &o),
	    OS_L7_ALLOW);
	/* A configured key missing denies. */
	CHECK_INT(l7(m, h, "GET", "/search", "q=foobar", &o), OS_L7_DENY);
	CHECK_INT(l7(m, h, "GET", "/search", NULL, &o), OS_L7_DENY);
	CHECK_INT(l7(m, h, "GET", "/search", "", &o), OS_L7_DENY);
	/* Every value of a repeated key must match. */
	CHECK_INT(l7(m, h, "GET", "/search", "q=foo&lang=en&lang=de", &o),
	    OS_L7_ALLOW);
	CHECK_INT(l7(m, h, "GET", "/search", "q=foo&lang=en&lang=fr", &o),
	    OS_L7_DENY);
	CHECK_INT(l7(m, h, "GET", "/search", "q=bar&lang=en", &o), OS_L7_DENY);
	/* Keys and values are percent-decoded ('+' is a space). */
	CHECK_INT(l7(m, h, "GET", "/search", "q=foo%20bar&la%6Eg=%65n", &o),
	    OS_L7_ALLOW);
	CHECK_INT(l7(m, h, "GET", "/search", "q=%66oo&lang=en", &o),
	    OS_L7_ALLOW);
	CHECK_INT(l7(m, h, "GET", "/search", "q=%zzfoo&lang=en", &o),
	    OS_L7_DENY);
	CHECK_INT(l7(m, h, "GET", "/search", "q=foo&lang=e%6", &o), OS_L7_DENY);
	/* A NUL would cut the value short for the glob: fail closed. */
	CHECK_INT(l7(m, h, "GET", "/search", "q=foo&lang=en%00x", &o),
	    OS_L7_DENY);
	/* A key without '=' has one empty value. */
	CHECK_INT(l7(m, h, "GET", "/search", "q=foo&lang", &o), OS_L7_DENY);
	/* Too large to evaluate: denied, however harmless. */
	os_buf_adds(&big, "q=foo&lang=en");
	for (i = 0; i < 1000; i++)
		os_buf_adds(&big, "&page=123456");
	CHECK_INT(l7(m, h, "GET", "/search", os_buf_str(&big), &o), OS_L7_DENY);
	os_buf_reset(&big);
	os_buf_adds(&big, "q=foo&lang=en");
	for (i = 0; i < 300; i++)
		os_buf_adds(&big, "&p=1");
	CHECK_INT(l7(m, h, "GET", "/search", os_buf_str(&big), &o), OS_L7_DENY);
	os_buf_free(&big);
	os_matcher_unref(m);
}

/*
 * More admitting policies than a decision holds (OS_MATCH_MAX): the L7
 * decision still hears every one of them, the deny rule of the last and
 * the allow rule of the one before it; without the L4 request it cannot
 * walk them again and denies.
 */
static void
t_l7_beyond_match_max(void)
{
	struct os_buf		 y = OS_BUF_INIT;
	struct os_matcher	*m;
	struct os_l4_decision	 d;
	struct os_l7_request	 q = { "POST", "/only-here", NULL };
	struct os_l7_decision	 o;
	size_t			 i, n = OS_MATCH_MAX + 4;

	os_buf_adds(&y, "version: 1\nnetwork_policies:\n");
	for (i = 0; i + 2 < n; i++) {
		os_buf_addf(&y, "  p%02zu:\n    endpoints:\n"
		    "      - { host: api.example.com, port: 443, protocol: rest,"
		    " access: read-only }\n"
		    "    binaries: [{ path: /usr/bin/curl }]\n", i);
	}
	os_buf_addf(&y, "  p%02zu:\n    endpoints:\n"
	    "      - host: api.example.com\n        port: 443\n"
	    "        protocol: rest\n        rules:\n"
	    "          - allow: { method: POST, path: /only-here }\n"
	    "    binaries: [{ path: /usr/bin/curl }]\n", n - 2);
	os_buf_addf(&y, "  p%02zu:\n    endpoints:\n"
	    "      - host: api.example.com\n        port: 443\n"
	    "        protocol: rest\n        access: read-only\n"
	    "        deny_rules: [{ method: GET, path: /a/secret }]\n"
	    "    binaries: [{ path: /usr/bin/curl }]\n", n - 1);
	m = compile(os_buf_str(&y));
	os_buf_free(&y);
	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK_INT(l4(m, "api.example.com", 443, "/usr/bin/curl", &d), OS_L4_ALLOW);
	CHECK(d.truncated && d.inspect);

	CHECK_INT(l7(m, "api.example.com", "GET", "/a/secret", NULL, &o),
	    OS_L7_DENY);
	CHECK(o.by_deny_rule);
	CHECK_STR(o.rule->key, "p19");
	CHECK_INT(l7(m, "api.example.com", "GET", "/a/public", NULL, &o),
	    OS_L7_ALLOW);
	CHECK_STR(o.rule->key, "p00");
	CHECK_INT(l7(m, "api.example.com", "POST", "/only-here", NULL, &o),
	    OS_L7_ALLOW);
	CHECK_STR(o.rule->key, "p18");
	/* Without the L4 request, a cut decision cannot be walked again. */
	os_matcher_l7(m, NULL, &d, &q, &o);
	CHECK_INT(o.verdict, OS_L7_DENY);
	CHECK(!o.by_deny_rule);
	os_matcher_unref(m);
}

static void
t_deny_rules(void)
{
	struct os_matcher	*m;
	struct os_l7_decision	 o;
	const char		*h = "api.example.com";

	m = compile("version: 1\nnetwork_policies:\n"
	    L7_POLICY("d", "api.example.com",
	    "        access: full\n"
	    "        deny_rules:\n"
	    "          - { method: DELETE, path: \"**\" }\n"
	    "          - method: GET\n"
	    "            path: /search\n"
	    "            query: { q: \"*secret*\" }\n"));
	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK_INT(l7(m, h, "GET", "/x", NULL, &o), OS_L7_ALLOW);
	CHECK_INT(l7(m, h, "DELETE", "/x", NULL, &o), OS_L7_DENY);
	CHECK(o.by_deny_rule);
	CHECK(o.matched != NULL);
	CHECK_STR(describe(o.matched), "DELETE **");
	CHECK_STR(o.rule->key, "d");
	CHECK_STR(l7_reason(m, h, "DELETE", "/x", NULL),
	    "DELETE /x blocked by deny rule");
	/* A deny rule with a query fires when one value matches... */
	CHECK_INT(l7(m, h, "GET", "/search", "q=a&q=top%20secret", &o),
	    OS_L7_DENY);
	CHECK(o.by_deny_rule);
	CHECK_STR(describe(o.matched), "GET /search?q=*secret*");
	CHECK_INT(l7(m, h, "HEAD", "/search", "q=secrets", &o), OS_L7_DENY);
	/* ... and not when none does or the key is missing. */
	CHECK_INT(l7(m, h, "GET", "/search", "q=a&q=b", &o), OS_L7_ALLOW);
	CHECK_INT(l7(m, h, "GET", "/search", "x=secret", &o), OS_L7_ALLOW);
	CHECK_INT(l7(m, h, "GET", "/search", NULL, &o), OS_L7_ALLOW);
	/* A query it cannot read fires it (fail closed). */
	CHECK_INT(l7(m, h, "GET", "/search", "q=%00", &o), OS_L7_DENY);
	CHECK(o.by_deny_rule);
	os_matcher_unref(m);
}

static void
t_deny_across_policies(void)
{
	struct os_matcher	*m;
	struct os_l7_decision	 o;
	const char		*h = "api.example.com";

	/* "open" allows everything; "strict" (another policy for the same
	 * host) denies /private: the deny wins. */
	m = compile("version: 1\nnetwork_policies:\n"
	    L7_POLICY("open", "api.example.com", "        access: full\n")
	    L7_POLICY("strict", "api.example.com",
	    "        access: read-only\n"
	    "        deny_rules:\n"
	    "          - { method: \"*\", path: \"/private/**\" }\n"));
	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK_INT(l7(m, h, "GET", "/private/keys", NULL, &o), OS_L7_DENY);
	CHECK(o.by_deny_rule);
	CHECK_STR(o.rule->key, "strict");
	CHECK_STR(describe(o.matched), "* /private/**");
	/* A POST elsewhere is allowed by "open" though "strict" is
	 * read-only: allows from any policy count. */
	CHECK_INT(l7(m, h, "POST", "/public", NULL, &o), OS_L7_ALLOW);
	CHECK_STR(o.rule->key, "open");
	CHECK_INT(l7(m, h, "GET", "/public", NULL, &o), OS_L7_ALLOW);
	CHECK_STR(o.rule->key, "open");
	os_matcher_unref(m);
}

static void
t_audit(void)
{
	struct os_matcher	*m;
	struct os_l7_decision	 o;

	m = compile("version: 1\nnetwork_policies:\n"
	    L7_POLICY("a", "audit.example.com",
	    "        enforcement: audit\n"
	    "        access: read-only\n"
	    "        deny_rules: [{ method: GET, path: /admin }]\n")
	    L7_POLICY("both-a", "mixed.example.com",
	    "        enforcement: audit\n"
	    "        access: read-only\n")
	    L7_POLICY("both-b", "mixed.example.com",
	    "        access: read-only\n"));
	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK_INT(l7(m, "audit.example.com", "GET", "/x", NULL, &o),
	    OS_L7_ALLOW);
	CHECK_INT(l7(m, "audit.example.com", "POST", "/x", NULL, &o),
	    OS_L7_AUDIT);
	CHECK(!o.by_deny_rule && o.matched == NULL);
	CHECK_STR(o.rule->key, "a");
	CHECK_STR(l7_reason(m, "audit.example.com", "POST", "/x", NULL),
	    "POST /x not permitted by policy");
	CHECK_INT(l7(m, "audit.example.com", "GET", "/admin", NULL, &o),
	    OS_L7_AUDIT);
	CHECK(o.by_deny_rule);
	/* An enforcing policy for the same host is not weakened by an
	 * auditing one. */
	CHECK_INT(l7(m, "mixed.example.com", "POST", "/x", NULL, &o),
	    OS_L7_DENY);
	CHECK_STR(o.rule->key, "both-b");
	CHECK_INT(l7(m, "mixed.example.com", "GET", "/x", NULL, &o),
	    OS_L7_ALLOW);
	CHECK_STR(o.rule->key, "both-a");
	os_matcher_unref(m);
}

static void
t_l7_not_inspected(void)
{
	struct os_matcher	*m;
	struct os_l4_decision	 d;
	struct os_l7_decision	 o;
	struct os_l7_request	 q = { "GET", "/", NULL };

	m = compile("version: 1\nnetwork_policies:\n"
	    SIMPLE("l4", "api.example.com", 443, "/usr/bin/curl"));
	CHECK(m != NULL);
	if (m == NULL)
		return;
	/* L7 over a decision it does not apply to fails closed. */
	CHECK_INT(l4(m, "api.example.com", 443, "/usr/bin/curl", &d),
	    OS_L4_ALLOW);
	os_matcher_l7(m, NULL, &d, &q, &o);
	CHECK_INT(o.verdict, OS_L7_DENY);
	CHECK_STR(o.rule->key, "l4");
	CHECK_INT(l4(m, "api.example.com", 443, "/usr/bin/wget", &d),
	    OS_L4_DENY_BINARY);
	os_matcher_l7(m, NULL, &d, &q, &o);
	CHECK_INT(o.verdict, OS_L7_DENY);
	CHECK_INT(l4(m, "nowhere.example.com", 443, "/usr/bin/curl", &d),
	    OS_L4_DENY_NO_ENDPOINT);
	os_matcher_l7(m, NULL, &d, &q, &o);
	CHECK_INT(o.verdict, OS_L7_DENY);
	CHECK(o.rule == NULL && o.matched == NULL);
	os_matcher_unref(m);
}

/* ------------------------------------------------------------------------
 * Texts, lifetime, robustness
 */
static void
t_reason_formatting(void)
{
	struct os_l4_request	r = { "x", 1, "/usr/bin/python3", NULL, 0 };
	struct os_l4_decision	d;
	struct os_l7_request	q = { "DELETE", "/x", NULL };
	struct os_l7_decision	o;
	struct os_l7_rule	rule;
	struct os_query_matcher	qm[2];
	char			*g1[] = { (char *)"open" };
	char			*g2[] = { (char *)"1", (char *)"[2-9]" };
	char			 buf[12];
	size_t			 n;

	memset(&d, 0, sizeof d);
	d.verdict = OS_L4_DENY_NO_ENDPOINT;
	memset(buf, 'x', sizeof buf);
	n = os_l4_reason(&r, &d, buf, 10);
	CHECK_INT(n, strlen("no matching network policy"));
	CHECK_STR(buf, "no matchi");
	CHECK_INT(os_l4_reason(&r, &d, NULL, 0), n);
	memset(buf, 'x', sizeof buf);
	CHECK_INT(os_l4_reason(&r, &d, buf, 1), n);
	CHECK_INT(buf[0], '\0');
	CHECK_INT(buf[1], 'x');

	memset(&o, 0, sizeof o);
	o.verdict = OS_L7_DENY;
	o.by_deny_rule = true;
	memset(buf, 'x', sizeof buf);
	n = os_l7_reason(&q, &o, buf, sizeof buf);
	CHECK_INT(n, strlen("DELETE /x blocked by deny rule"));
	CHECK_STR(buf, "DELETE /x b");
	CHECK_INT(os_l7_reason(&q, &o, NULL, 0), n);
	o.verdict = OS_L7_ALLOW;
	CHECK_INT(os_l7_reason(&q, &o, buf, sizeof buf), 0);
	CHECK_STR(buf, "");

	memset(&rule, 0, sizeof rule);
	rule.method = (char *)"GET";
	rule.path = (char *)"/issues";
	memset(qm, 0, sizeof qm);
	qm[0].key = (char *)"page";
	qm[0].globs = g2;
	qm[0].nglobs = 2;
	qm[1].key = (char *)"state";
	qm[1].globs = g1;
	qm[1].nglobs = 1;
	rule.query = qm;
	rule.nquery = 2;
	CHECK_STR(describe(&rule), "GET /issues?page={1,[2-9]}&state=open");
	qm[1].any = true;
	CHECK_STR(describe(&rule), "GET /issues?page={1,[2-9]}&state={open}");
	CHECK_STR(describe(NULL), "");
	CHECK_INT(os_l7_rule_describe(&rule, buf, sizeof buf),
	    strlen("GET /issues?page={1,[2-9]}&state={open}"));
	CHECK_STR(buf, "GET /issues");
}

static void
t_lifetime(void)
{
	struct os_diags		 diags = OS_DIAGS_INIT;
	struct os_policy	*p = NULL;
	struct os_matcher	*m, *m2;
	struct os_l4_decision	 d;
	const char		*y = "version: 1\nnetwork_policies:\n"
	    SIMPLE("gh", "api.github.com", 443, "/usr/bin/curl");

	CHECK_INT(os_policy_load_yaml(y, strlen(y), NULL, &p, NULL, &diags), 0);
	os_diags_free(&diags);
	if (p == NULL)
		return;
	m = os_matcher_new(p, 42);
	CHECK_INT(os_matcher_generation(m), 42);
	CHECK(os_matcher_policy(m) != p);
	CHECK(os_policy_equal(os_matcher_policy(m), p));
	/* The matcher keeps its own copy: the caller's may go. */
	os_policy_free(p);
	CHECK_INT(l4(m, "api.github.com", 443, "/usr/bin/curl", &d),
	    OS_L4_ALLOW);
	CHECK(d.matches[0].rule == &os_matcher_policy(m)->rules[0]);

	/* A connection pins the revision; the proxy drops its reference. */
	m2 = os_matcher_ref(m);
	CHECK(m2 == m);
	os_matcher_unref(m);
	CHECK_STR(d.matches[0].rule->key, "gh");
	CHECK_STR(d.matches[0].binary->path, "/usr/bin/curl");
	CHECK_INT(d.matches[0].endpoint->ports[0], 443);
	os_matcher_unref(m2);

	CHECK(os_matcher_ref(NULL) == NULL);
	os_matcher_unref(NULL);
	m = os_matcher_new(NULL, 3);
	CHECK_INT(l4(m, "api.github.com", 443, "/usr/bin/curl", &d),
	    OS_L4_DENY_NO_ENDPOINT);
	os_matcher_unref(m);
}

static void
t_hostile_inputs(void)
{
	struct os_matcher	*m;
	struct os_l4_request	 r;
	struct os_l4_decision	 d;
	struct os_l7_decision	 o;
	struct os_l7_request	 q;
	char			*huge;
	size_t			 n = 1 << 20;

	m = compile("version: 1\nnetwork_policies:\n"
	    L7_POLICY("x", "\"*.example.com\"",
	    "        rules:\n"
	    "          - allow:\n"
	    "              method: GET\n"
	    "              path: \"/a/**\"\n"
	    "              query: { k: \"*\" }\n"
	    "        deny_rules:\n"
	    "          - { method: GET, path: \"/a/*/x\", query: { z: \"?\" } }\n"));
	CHECK(m != NULL);
	if (m == NULL)
		return;
	huge = xmalloc(n + 1);
	memset(huge, 'a', n);
	huge[n] = '\0';
	/* One 1 MiB label below example.com. */
	memcpy(huge + n - 12, ".example.com", 12);
	CHECK_INT(l4(m, huge, 443, "/usr/bin/curl", &d), OS_L4_ALLOW);
	CHECK_INT(l4(m, "\xff\xfe.example.com", 443, "/usr/bin/curl", &d),
	    OS_L4_ALLOW);
	CHECK_INT(l4(m, "api.example.com", 443, huge, &d), OS_L4_DENY_BINARY);
	memset(&r, 0, sizeof r);
	r.host = "api.example.com";
	r.port = 443;
	r.binary = "/usr/bin/curl";
	os_matcher_l4(m, &r, &d);
	CHECK_INT(d.verdict, OS_L4_ALLOW);

	memset(&q, 0, sizeof q);
	os_matcher_l7(m, &r, &d, &q, &o);
	CHECK_INT(o.verdict, OS_L7_DENY);
	q.method = "GET";
	q.path = "/a/\xc3\x28/x";
	q.query = "k=\xff&z=\x80";
	os_matcher_l7(m, &r, &d, &q, &o);
	CHECK_INT(o.verdict, OS_L7_DENY);
	CHECK(o.by_deny_rule);
	q.path = huge;
	q.query = huge;
	os_matcher_l7(m, &r, &d, &q, &o);
	CHECK_INT(o.verdict, OS_L7_DENY);
	huge[0] = '/';
	huge[1] = 'a';
	huge[2] = '/';
	q.query = "k=v";
	os_matcher_l7(m, &r, &d, &q, &o);
	CHECK_INT(o.verdict, OS_L7_ALLOW);
	os_matcher_l7(m, &r, NULL, &q, &o);
	CHECK_INT(o.verdict, OS_L7_DENY);
	os_matcher_l7(NULL, &r, &d, &q, &o);
	CHECK_INT(o.verdict, OS_L7_DENY);
	os_matcher_l4(m, NULL, &d);
	CHECK_INT(d.verdict, OS_L4_DENY_NO_ENDPOINT);
	free(huge);
	os_matcher_unref(m);
}

/* Many rules: the index finds each host, wildcard and miss correctly. */
static void
t_many_rules(void)
{
	struct os_policy	*p = os_policy_new();
	struct os_matcher	*m;
	struct os_l4_decision	 d;
	struct os_rule		 r;
	char			 host[64];
	size_t			 i;

	for (i = 0; i < 10000; i++) {
		memset(&r, 0, sizeof r);
		r.key = xprintf("rule-%05zu", i);
		r.endpoints = xcalloc(1, sizeof *r.endpoints);
		r.nendpoints = 1;
		r.endpoints[0].host = i % 10 == 0 ?
		    xprintf("*.w%zu.example.net", i) :
		    xprintf("h%zu.example.net", i);
		r.endpoints[0].ports = xcalloc(1, sizeof (uint16_t));
		r.endpoints[0].ports[0] = 443;
		r.endpoints[0].nports = 1;
		r.binaries = xcalloc(1, sizeof *r.binaries);
		r.binaries[0].path = xstrdup(i % 2 ? "/usr/bin/curl" :
		    "/usr/bin/git");
		r.nbinaries = 1;
		os_policy_put_rule(p, &r);
	}
	m = os_matcher_new(p, 1);
	os_policy_free(p);
	for (i = 0; i < 10000; i += 7) {
		const char *bin = i % 2 ? "/usr/bin/curl" : "/usr/bin/git";
		char key[16];

		if (i % 10 == 0)
			snprintf(host, sizeof host, "API.w%zu.example.net", i);
		else
			snprintf(host, sizeof host, "h%zu.Example.net", i);
		snprintf(key, sizeof key, "rule-%05zu", i);
		CHECK_INT(l4(m, host, 443, bin, &d), OS_L4_ALLOW);
		CHECK_INT(d.nmatches, 1);
		CHECK_STR(d.matches[0].rule->key, key);
		CHECK_INT(l4(m, host, 443, i % 2 ? "/usr/bin/git" :
		    "/usr/bin/curl", &d), OS_L4_DENY_BINARY);
		CHECK_INT(l4(m, host, 80, bin, &d), OS_L4_DENY_NO_ENDPOINT);
	}
	CHECK_INT(l4(m, "h10001.example.net", 443, "/usr/bin/curl", &d),
	    OS_L4_DENY_NO_ENDPOINT);
	CHECK_INT(l4(m, "w10.example.net", 443, "/usr/bin/git", &d),
	    OS_L4_DENY_NO_ENDPOINT);
	os_matcher_unref(m);
}

int
main(void)
{
	TAP_RUN(t_default_deny);
	TAP_RUN(t_exact_host);
	TAP_RUN(t_ports);
	TAP_RUN(t_wildcard_host);
	TAP_RUN(t_binary_mismatch);
	TAP_RUN(t_ancestors);
	TAP_RUN(t_binary_globs);
	TAP_RUN(t_hostless);
	TAP_RUN(t_several_policies_sorted);
	TAP_RUN(t_truncation);
	TAP_RUN(t_l7_beyond_match_max);
	TAP_RUN(t_inspect_and_tls_skip);
	TAP_RUN(t_presets);
	TAP_RUN(t_access_methods);
	TAP_RUN(t_explicit_rules);
	TAP_RUN(t_head_matches_get);
	TAP_RUN(t_query_matchers);
	TAP_RUN(t_deny_rules);
	TAP_RUN(t_deny_across_policies);
	TAP_RUN(t_audit);
	TAP_RUN(t_l7_not_inspected);
	TAP_RUN(t_reason_formatting);
	TAP_RUN(t_lifetime);
	TAP_RUN(t_hostile_inputs);
	TAP_RUN(t_many_rules);
	return tap_done();
}
