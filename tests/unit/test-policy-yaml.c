/*
 * Loading YAML into the model: the quickstart policy, every feature of
 * the format, flow style, wildcards and ports, the enforcement note, the
 * source map, and inputs that must fail cleanly.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openshell.h"
#include "tap.h"
#include "srcfile.h"

/* Loads `text`; *diags gets every diagnostic, one per line. */
static struct os_policy *
load_str(const char *text, const char *label, char **diags)
{
	struct os_diags		 d = OS_DIAGS_INIT;
	struct os_policy	*p = NULL;
	int			 rc;

	rc = os_policy_load_yaml(text, strlen(text), label, &p, NULL, &d);
	*diags = os_diags_format(&d);
	CHECK((rc == 0) == (p != NULL));
	os_diags_free(&d);
	return p;
}

static struct os_policy *
load_src(const char *rel, const char *label, char **diags)
{
	struct os_policy	*p;
	char			*text;
	size_t			 len;

	if ((text = read_src(rel, &len)) == NULL) {
		*diags = xstrdup("(missing)");
		return NULL;
	}
	p = load_str(text, label, diags);
	free(text);
	return p;
}

static void
t_quickstart(void)
{
	struct os_policy	*p;
	const struct os_rule	*r;
	const struct os_endpoint *e;
	char			*d;

	p = load_src("examples/sandbox-policy-quickstart/policy.yaml",
	    "policy.yaml", &d);
	CHECK(p != NULL);
	/* It sets enforcement, so there is no note, nor anything else. */
	CHECK_STR(d, "");
	free(d);
	if (p == NULL)
		return;
	CHECK_INT(p->version, 1);
	CHECK(p->has_filesystem);
	CHECK(p->filesystem.include_workdir);
	CHECK_INT(p->filesystem.nread_only, 7);
	CHECK_STR(p->filesystem.read_only[3], "/dev/urandom");
	CHECK_INT(p->filesystem.nread_write, 3);
	CHECK_STR(p->filesystem.read_write[2], "/dev/null");
	CHECK(p->has_landlock);
	CHECK_INT(p->landlock, OS_LANDLOCK_BEST_EFFORT);
	CHECK(p->has_process);
	CHECK_STR(p->run_as_user, "sandbox");
	CHECK_STR(p->run_as_group, "sandbox");
	CHECK_INT(p->nrules, 1);
	r = &p->rules[0];
	CHECK_STR(r->key, "github_api");
	CHECK_STR(r->name, "github-api-readonly");
	CHECK_INT(r->nendpoints, 1);
	e = &r->endpoints[0];
	CHECK_STR(e->host, "api.github.com");
	CHECK_INT(e->nports, 1);
	CHECK_INT(e->ports[0], 443);
	CHECK_INT(e->protocol, OS_PROTOCOL_REST);
	CHECK_INT(e->tls, OS_TLS_TERMINATE);
	CHECK_INT(e->enforcement, OS_ENFORCE_ENFORCE);
	CHECK_INT(e->access, OS_ACCESS_READ_ONLY);
	CHECK_INT(e->nrules, 0);
	CHECK_INT(r->nbinaries, 1);
	CHECK_STR(r->binaries[0].path, "/usr/bin/curl");
	CHECK(!r->binaries[0].advisor_proposed);
	os_policy_free(p);
}

static void
t_enforcement_note(void)
{
	struct os_policy	*p;
	char			*d;

	p = load_src("tests/unit/policies/valid/no-enforcement.yaml",
	    "no-enforcement.yaml", &d);
	CHECK(p != NULL);
	CHECK_STR(d, "no-enforcement.yaml:6:9: note: "
	    "network_policies.github_api.endpoints[0].enforcement: enforcement "
	    "not set; defaulting to 'enforce' (secure by default). Set "
	    "'enforcement: audit' to log without blocking.\n");
	if (p != NULL)
		CHECK_INT(p->rules[0].endpoints[0].enforcement,
		    OS_ENFORCE_ENFORCE);
	free(d);
	os_policy_free(p);

	/* No protocol, no note: L4 endpoints have nothing to enforce. */
	p = load_str("version: 1\nnetwork_policies:\n  k:\n    endpoints:\n"
	    "      - { host: a.example.com, port: 443 }\n"
	    "    binaries: [{ path: /usr/bin/curl }]\n", "l4.yaml", &d);
	CHECK(p != NULL);
	CHECK_STR(d, "");
	if (p != NULL)
		CHECK_INT(p->rules[0].endpoints[0].enforcement, OS_ENFORCE_UNSET);
	free(d);
	os_policy_free(p);
}

static void
t_full(void)
{
	struct os_policy		*p;
	const struct os_rule		*r;
	const struct os_endpoint	*e;
	const struct os_l7_rule		*l7;
	char				*d;

	p = load_src("tests/unit/policies/valid/full.yaml", "full.yaml", &d);
	CHECK(p != NULL);
	CHECK_STR(d, "");
	free(d);
	if (p == NULL)
		return;
	CHECK(p->has_filesystem);
	CHECK(!p->filesystem.include_workdir);
	CHECK_INT(p->landlock, OS_LANDLOCK_HARD_REQUIREMENT);
	/* A plain integer id is taken as its text. */
	CHECK_STR(p->run_as_user, "1000");
	CHECK_STR(p->run_as_group, "1000");
	/* Rules sorted by key. */
	CHECK_INT(p->nrules, 3);
	CHECK_STR(p->rules[0].key, "github");
	CHECK_STR(p->rules[1].key, "internal");
	CHECK_STR(p->rules[2].key, "pypi");

	r = &p->rules[0];
	CHECK(r->name == NULL);
	CHECK_STR(os_rule_display_name(r), "github");
	e = &r->endpoints[0];
	CHECK_STR(e->host, "api.github.com");   /* lower-cased */
	CHECK_INT(e->protocol, OS_PROTOCOL_REST);  /* "REST" */
	CHECK_INT(e->enforcement, OS_ENFORCE_AUDIT);
	CHECK_INT(e->nrules, 2);
	l7 = &e->rules[0];
	CHECK_STR(l7->method, "GET");           /* upper-cased */
	CHECK_STR(l7->path, "/repos/**");
	CHECK_INT(l7->nquery, 2);
	CHECK_STR(l7->query[0].key, "per_page");
	CHECK(!l7->query[0].any);
	CHECK_INT(l7->query[0].nglobs, 1);
	CHECK_STR(l7->query[0].globs[0], "[0-9]*");
	CHECK_STR(l7->query[1].key, "state");
	CHECK(l7->query[1].any);
	CHECK_INT(l7->query[1].nglobs, 2);
	CHECK_STR(l7->query[1].globs[1], "closed");
	CHECK_STR(e->rules[1].method, "POST");
	CHECK_INT(e->ndeny_rules, 2);
	CHECK_STR(e->deny_rules[0].method, "DELETE");
	CHECK_STR(e->deny_rules[0].path, "**");
	CHECK_STR(e->deny_rules[1].method, "*");
	CHECK_INT(r->nbinaries, 2);
	CHECK_STR(r->binaries[1].path, "/usr/bin/git");

	r = &p->rules[1];
	e = &r->endpoints[0];
	CHECK_STR(e->host, "");
	CHECK_INT(e->nallowed_ips, 3);
	CHECK_STR(e->allowed_ips[1], "fd00::/8");
	CHECK(e->advisor_proposed);
	e = &r->endpoints[1];
	CHECK_STR(e->host, "10.20.30.40");
	CHECK_INT(e->tls, OS_TLS_SKIP);
	CHECK_INT(e->protocol, OS_PROTOCOL_NONE);
	CHECK_STR(r->binaries[0].path, "/**");

	r = &p->rules[2];
	CHECK_STR(r->name, "Python packages");
	e = &r->endpoints[1];
	CHECK_STR(e->host, "*.pythonhosted.org");
	CHECK(os_endpoint_is_wildcard(e));
	CHECK_INT(e->nports, 2);
	CHECK_INT(e->ports[0], 80);             /* sorted */
	CHECK_INT(e->ports[1], 443);
	CHECK_STR(r->binaries[0].path, "/usr/bin/pip*");
	CHECK(!r->binaries[0].advisor_proposed);
	CHECK(r->binaries[1].advisor_proposed);
	os_policy_free(p);
}

static void
t_flow_style(void)
{
	struct os_policy	*p;
	char			*d;

	p = load_str("{version: 1, network_policies: {k: {endpoints: "
	    "[{host: a.example.com, ports: [8443, 443, 8443]}], binaries: "
	    "[{path: /usr/bin/curl}, {path: '/opt/*/bin/tool', "
	    "advisor_proposed: true}]}}}\n", "flow.yaml", &d);
	CHECK(p != NULL);
	CHECK_STR(d, "flow.yaml:1:90: warning: "
	    "network_policies.k.endpoints[0].ports[2]: duplicate port 8443\n");
	free(d);
	if (p == NULL)
		return;
	CHECK_INT(p->rules[0].endpoints[0].nports, 2);
	CHECK_INT(p->rules[0].endpoints[0].ports[0], 443);
	CHECK_INT(p->rules[0].endpoints[0].ports[1], 8443);
	CHECK_INT(p->rules[0].nbinaries, 2);
	CHECK_STR(p->rules[0].binaries[1].path, "/opt/*/bin/tool");
	CHECK(p->rules[0].binaries[1].advisor_proposed);
	os_policy_free(p);
}

static void
t_ports(void)
{
	struct os_policy	*p;
	char			*d;

	p = load_str("version: 1\nnetwork_policies:\n  k:\n    endpoints:\n"
	    "      - { host: a.example.com, ports: [443] }\n"
	    "      - { host: b.example.com, port: 65535 }\n"
	    "      - { host: c.example.com, port: 1 }\n"
	    "    binaries: [{ path: /usr/bin/curl }]\n", "ports.yaml", &d);
	CHECK(p != NULL);
	CHECK_STR(d, "");
	free(d);
	if (p != NULL) {
		CHECK_INT(p->rules[0].endpoints[0].nports, 1);
		CHECK_INT(p->rules[0].endpoints[0].ports[0], 443);
		CHECK_INT(p->rules[0].endpoints[1].ports[0], 65535);
		CHECK_INT(p->rules[0].endpoints[2].ports[0], 1);
	}
	os_policy_free(p);

	p = load_str("version: 1\nnetwork_policies:\n  k:\n    endpoints:\n"
	    "      - { host: a.example.com, ports: [-1, 99999999999999999999, "
	    "1.5, \"80\"] }\n"
	    "    binaries: [{ path: /usr/bin/curl }]\n", "ports.yaml", &d);
	CHECK(p == NULL);
	CHECK_STR(d,
	    "ports.yaml:5:40: error: network_policies.k.endpoints[0].ports[0]: "
	    "invalid port -1 (expected 1-65535)\n"
	    "ports.yaml:5:44: error: network_policies.k.endpoints[0].ports[1]: "
	    "invalid port 99999999999999999999 (expected 1-65535)\n"
	    "ports.yaml:5:66: error: network_policies.k.endpoints[0].ports[2]: "
	    "expected an integer, got '1.5'\n"
	    "ports.yaml:5:71: error: network_policies.k.endpoints[0].ports[3]: "
	    "expected an integer, got the string '80' (remove the quotes)\n");
	free(d);
}

static void
t_nulls_and_empty(void)
{
	struct os_policy	*p;
	char			*d;

	/* Null values are absent keys. */
	p = load_str("version: 1\nfilesystem_policy:\nlandlock: ~\n"
	    "network_policies:\n", "null.yaml", &d);
	CHECK(p != NULL);
	CHECK_STR(d, "");
	if (p != NULL) {
		CHECK(!p->has_filesystem);
		CHECK(!p->has_landlock);
		CHECK_INT(p->nrules, 0);
	}
	free(d);
	os_policy_free(p);

	/* An empty mapping is a present section with defaults. */
	p = load_str("version: 1\nfilesystem_policy: {}\nprocess: {}\n",
	    "empty.yaml", &d);
	CHECK(p != NULL);
	CHECK_STR(d, "");
	if (p != NULL) {
		CHECK(p->has_filesystem);
		CHECK(p->has_process);
		CHECK(p->run_as_user == NULL);
	}
	free(d);
	os_policy_free(p);
}

static void
t_bad_documents(void)
{
	static const char nul[] = "version: 1\0\n";
	struct os_diags		 d = OS_DIAGS_INIT;
	struct os_policy	*p = (struct os_policy *)&d;
	struct os_srcmap	*m = (struct os_srcmap *)&d;
	char			*s;

	p = load_str("version: 1\n---\nversion: 1\n", "two.yaml", &s);
	CHECK(p == NULL);
	CHECK_STR(s, "two.yaml:3:1: error: only one YAML document is allowed\n");
	free(s);

	p = load_str("version: 1\n\tlandlock: {}\n", "tab.yaml", &s);
	CHECK(p == NULL);
	CHECK_CONTAINS(s, "tab.yaml:2:1: error: ");
	free(s);

	p = load_str("version: 1\nlandlock: *nope\n", "alias.yaml", &s);
	CHECK(p == NULL);
	CHECK_STR(s, "alias.yaml:2:11: error: found undefined alias\n");
	free(s);

	p = load_str("42\n", "scalar.yaml", &s);
	CHECK(p == NULL);
	CHECK_STR(s, "scalar.yaml:1:1: error: the document must be a mapping "
	    "(expected a policy: version, filesystem_policy, landlock, process, "
	    "network_policies), not a single value\n");
	free(s);

	p = load_str("version: 1\n? [a]\n: b\n", "key.yaml", &s);
	CHECK(p == NULL);
	CHECK_STR(s, "key.yaml:2:3: error: mapping keys must be strings\n");
	free(s);

	/* A NUL byte and invalid UTF-8: refused by the reader. */
	p = (struct os_policy *)&d;
	CHECK_INT(os_policy_load_yaml(nul, sizeof nul - 1, "nul.yaml", &p, &m,
	    &d), -EINVAL);
	CHECK(p == NULL);
	CHECK(m == NULL);
	CHECK_INT(d.nerrors, 1);
	s = os_diags_format(&d);
	CHECK_STR(s, "nul.yaml: error: control characters are not allowed at "
	    "byte offset 10\n");
	free(s);
	os_diags_free(&d);
	CHECK_INT(os_policy_load_yaml("a: \xff\n", 5, NULL, &p, NULL, &d),
	    -EINVAL);
	CHECK_INT(d.nerrors, 1);
	os_diags_free(&d);

	/* NULL text and NULL diags are fine. */
	CHECK_INT(os_policy_load_yaml(NULL, 0, NULL, &p, NULL, NULL), -EINVAL);
	CHECK(p == NULL);
}

static void
t_aliases(void)
{
	struct os_policy	*p;
	char			*d;

	/* Aliases are fine where they stay small. */
	p = load_str("version: 1\nnetwork_policies:\n  a:\n"
	    "    endpoints: [{ host: a.example.com, port: 443 }]\n"
	    "    binaries: &bins [{ path: /usr/bin/curl }, { path: /usr/bin/git }]\n"
	    "  b:\n    endpoints: [{ host: b.example.com, port: 443 }]\n"
	    "    binaries: *bins\n", "alias.yaml", &d);
	CHECK(p != NULL);
	CHECK_STR(d, "");
	if (p != NULL)
		CHECK_INT(p->rules[1].nbinaries, 2);
	free(d);
	os_policy_free(p);

	/* Nested aliases that expand exponentially are stopped. */
	p = load_str("version: 1\nnetwork_policies:\n"
	    "  a: &r\n    endpoints: &e\n"
	    "      - &x\n        host: a.example.com\n        port: 443\n"
	    "        protocol: rest\n        enforcement: audit\n"
	    "        rules: &rs\n          - &l\n            allow:\n"
	    "              method: GET\n              path: /**\n"
	    "              query: &q\n"
	    "                a: &any { any: &g [x, x, x, x, x, x, x, x, x, x] }\n"
	    "                b: { any: *g }\n                c: { any: *g }\n"
	    "                d: { any: *g }\n                e: { any: *g }\n"
	    "          - *l\n          - *l\n          - *l\n          - *l\n"
	    "          - *l\n          - *l\n          - *l\n          - *l\n"
	    "      - *x\n      - *x\n      - *x\n      - *x\n      - *x\n"
	    "      - *x\n      - *x\n      - *x\n      - *x\n"
	    "    binaries: [{ path: /usr/bin/curl }]\n"
	    "  b: *r\n  c: *r\n  d: *r\n  e: *r\n  f: *r\n  g: *r\n  h: *r\n"
	    "  i: *r\n  j: *r\n  k: *r\n  l: *r\n  m: *r\n", "bomb.yaml", &d);
	CHECK(p == NULL);
	CHECK_CONTAINS(d, "error: the document is too large once its aliases "
	    "are expanded");
	free(d);
}

static void
t_srcmap(void)
{
	static const char text[] =
	    "version: 1\n"
	    "network_policies:\n"
	    "  gh:\n"
	    "    endpoints:\n"
	    "      - host: api.github.com\n"
	    "        port: 443\n"
	    "    binaries:\n"
	    "      - { path: /usr/bin/curl }\n";
	struct os_diags		 d = OS_DIAGS_INIT;
	struct os_policy	*p;
	struct os_srcmap	*m;
	unsigned		 line = 0, col = 0;

	CHECK_INT(os_policy_load_yaml(text, strlen(text), "m.yaml", &p, &m,
	    &d), 0);
	CHECK(m != NULL);
	CHECK(os_srcmap_lookup(m, "network_policies.gh.endpoints[0].port",
	    &line, &col));
	CHECK_INT(line, 6);
	CHECK_INT(col, 15);
	CHECK(os_srcmap_lookup(m, "network_policies.gh.binaries[0].path",
	    &line, &col));
	CHECK_INT(line, 8);
	CHECK_INT(col, 17);
	/* Not recorded: the nearest parent, the endpoint (its first key). */
	CHECK(os_srcmap_lookup(m, "network_policies.gh.endpoints[0].tls",
	    &line, &col));
	CHECK_INT(line, 5);
	CHECK_INT(col, 9);
	/* A mapping under a key is found at its key. */
	CHECK(os_srcmap_lookup(m, "network_policies.gh", &line, &col));
	CHECK_INT(line, 3);
	CHECK_INT(col, 3);
	CHECK(!os_srcmap_lookup(m, "nothing.here", &line, &col));
	CHECK(!os_srcmap_lookup(NULL, "version", &line, &col));
	os_srcmap_free(m);
	os_srcmap_free(NULL);
	os_policy_free(p);
	os_diags_free(&d);
}

/* Later problems still get reported after a type error early on. */
static void
t_keeps_going(void)
{
	struct os_policy	*p;
	char			*d;

	p = load_str("version: one\nlandlock: { compatibility: [x] }\n"
	    "process: { run_as_user: root, shell: /bin/sh }\n", "go.yaml", &d);
	CHECK(p == NULL);
	CHECK_STR(d,
	    "go.yaml:1:10: error: version: expected an integer, got 'one'\n"
	    "go.yaml:2:28: error: landlock.compatibility: expected a string, "
	    "got a list\n"
	    "go.yaml:3:25: error: process.run_as_user: refusing 'root': the "
	    "agent never runs as root\n"
	    "go.yaml:3:31: error: process.shell: unknown key 'shell' (allowed: "
	    "run_as_user, run_as_group)\n");
	free(d);
}

int
main(void)
{
	TAP_RUN(t_quickstart);
	TAP_RUN(t_enforcement_note);
	TAP_RUN(t_full);
	TAP_RUN(t_flow_style);
	TAP_RUN(t_ports);
	TAP_RUN(t_nulls_and_empty);
	TAP_RUN(t_bad_documents);
	TAP_RUN(t_aliases);
	TAP_RUN(t_srcmap);
	TAP_RUN(t_keeps_going);
	return tap_done();
}
