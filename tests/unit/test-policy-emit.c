/*
 * Canonical YAML: load(emit(p)) == p, the same policy always gives the
 * same bytes and hash, a real change gives another hash, strings of any
 * shape survive, and one rule round-trips on its own.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openshell.h"
#include "tap.h"
#include "srcfile.h"

static struct os_policy *
load_text(const char *text, size_t len)
{
	struct os_diags		 d = OS_DIAGS_INIT;
	struct os_policy	*p = NULL;
	char			*s;

	if (os_policy_load_yaml(text, len, "t.yaml", &p, NULL, &d) != 0) {
		s = os_diags_format(&d);
		printf("# %s", s);
		free(s);
	}
	os_diags_free(&d);
	return p;
}

static struct os_policy *
load_src(const char *rel)
{
	struct os_policy	*p;
	char			*text;
	size_t			 len;

	if ((text = read_src(rel, &len)) == NULL)
		return NULL;
	p = load_text(text, len);
	free(text);
	return p;
}

static const char *const valid_files[] = {
	"examples/sandbox-policy-quickstart/policy.yaml",
	"tests/unit/policies/valid/full.yaml",
	"tests/unit/policies/valid/no-enforcement.yaml",
	"tests/unit/policies/valid/reordered.yaml",
	"tests/unit/policies/valid/tricky-strings.yaml",
	"tests/unit/policies/warning/fs-duplicates.yaml",
};

/* emit -> load gives an equal policy, and emitting that gives the same bytes. */
static void
check_round_trip(const struct os_policy *p)
{
	struct os_policy	*q;
	char			*y1, *y2, *y3;

	y1 = os_policy_to_yaml(p);
	y2 = os_policy_to_yaml(p);
	CHECK_STR(y1, y2);
	q = load_text(y1, strlen(y1));
	CHECK(q != NULL);
	if (q != NULL) {
		CHECK(os_policy_equal(p, q));
		y3 = os_policy_to_yaml(q);
		CHECK_STR(y3, y1);
		free(y3);
	}
	os_policy_free(q);
	free(y1);
	free(y2);
}

static void
t_round_trip_files(void)
{
	struct os_policy	*p;
	size_t			 i;

	for (i = 0; i < OS_NELEM(valid_files); i++) {
		p = load_src(valid_files[i]);
		CHECK(p != NULL);
		if (p != NULL)
			check_round_trip(p);
		os_policy_free(p);
	}
	p = os_policy_default();
	check_round_trip(p);
	os_policy_free(p);
	p = os_policy_new();
	check_round_trip(p);
	os_policy_free(p);
}

static void
t_canonical_quickstart(void)
{
	struct os_policy	*p;
	char			*y;

	p = load_src("examples/sandbox-policy-quickstart/policy.yaml");
	CHECK(p != NULL);
	if (p == NULL)
		return;
	y = os_policy_to_yaml(p);
	CHECK_STR(y,
	    "version: 1\n"
	    "filesystem_policy:\n"
	    "  include_workdir: true\n"
	    "  read_only:\n"
	    "    - /usr\n"
	    "    - /lib\n"
	    "    - /proc\n"
	    "    - /dev/urandom\n"
	    "    - /app\n"
	    "    - /etc\n"
	    "    - /var/log\n"
	    "  read_write:\n"
	    "    - /sandbox\n"
	    "    - /tmp\n"
	    "    - /dev/null\n"
	    "landlock:\n"
	    "  compatibility: best_effort\n"
	    "process:\n"
	    "  run_as_user: sandbox\n"
	    "  run_as_group: sandbox\n"
	    "network_policies:\n"
	    "  github_api:\n"
	    "    name: github-api-readonly\n"
	    "    endpoints:\n"
	    "      - host: api.github.com\n"
	    "        port: 443\n"
	    "        protocol: rest\n"
	    "        tls: terminate\n"
	    "        enforcement: enforce\n"
	    "        access: read-only\n"
	    "    binaries:\n"
	    "      - path: /usr/bin/curl\n");
	free(y);
	os_policy_free(p);
}

static void
t_hash(void)
{
	struct os_policy	*a, *b, *c;
	char			 ha[65], hb[65], hc[65];
	char			*ya, *yb;

	a = load_src("examples/sandbox-policy-quickstart/policy.yaml");
	b = load_src("tests/unit/policies/valid/reordered.yaml");
	CHECK(a != NULL && b != NULL);
	if (a == NULL || b == NULL) {
		os_policy_free(a);
		os_policy_free(b);
		return;
	}
	/* Reformatted, keys reordered, case changed: the same policy. */
	CHECK(os_policy_equal(a, b));
	ya = os_policy_to_yaml(a);
	yb = os_policy_to_yaml(b);
	CHECK_STR(ya, yb);
	os_policy_hash(a, ha);
	os_policy_hash(b, hb);
	CHECK_STR(ha, hb);
	CHECK_INT(strlen(ha), 64);
	CHECK_INT(strspn(ha, "0123456789abcdef"), 64);
	os_sha256_hex(ya, strlen(ya), hc);
	CHECK_STR(ha, hc);

	/* Real changes: a port, a method preset, a binary, a section. */
	c = os_policy_dup(a);
	c->rules[0].endpoints[0].ports[0] = 8443;
	os_policy_hash(c, hc);
	CHECK(strcmp(ha, hc) != 0);
	os_policy_free(c);
	c = os_policy_dup(a);
	c->rules[0].endpoints[0].access = OS_ACCESS_READ_WRITE;
	os_policy_hash(c, hc);
	CHECK(strcmp(ha, hc) != 0);
	os_policy_free(c);
	c = os_policy_dup(a);
	free(c->rules[0].binaries[0].path);
	c->rules[0].binaries[0].path = xstrdup("/usr/bin/wget");
	os_policy_hash(c, hc);
	CHECK(strcmp(ha, hc) != 0);
	os_policy_free(c);
	c = os_policy_dup(a);
	c->has_landlock = false;
	os_policy_hash(c, hc);
	CHECK(strcmp(ha, hc) != 0);
	os_policy_free(c);

	free(ya);
	free(yb);
	os_policy_free(a);
	os_policy_free(b);
}

/* Strings that YAML would read as something else, or that need escapes. */
static const char *const tricky[] = {
	"", " ", "  lead", "trail ", "a: b", "a:b", "#hash", "a #b", "*star",
	"&anchor", "!tag", "%pct", "@at", "`tick", "|", ">", "- dash", "-",
	"--", "---", "...", "? q", "[x]", "]", "{x", "}", ",", "'", "''", "\"",
	"\\", "a\\nb", "true", "False", "yes", "NO", "on", "null", "~", "Null",
	"0", "-1", "+1", "1e3", ".5", "0x1F", "0o17", "1_000", ".inf", "-.inf",
	".NaN", "1:20", "<<", "=", "tab\there", "new\nline", "cr\rx",
	"\x01\x7f", "caf\xc3\xa9", "\xe2\x80\xa8sep", "\xc2\x85nel",
	"\xef\xbb\xbf" "bom", "\xf0\x9f\x98\x80", "a  b", "x # y", "x: ",
	"/usr/bin/**", "*.example.com", "GET", "12345678901234567890",
};

static void
t_tricky_strings(void)
{
	struct os_policy	*p;
	struct os_rule		 r;
	struct os_l7_rule	*l7;
	char			*y;
	size_t			 i, n = OS_NELEM(tricky);

	p = os_policy_new();
	memset(&r, 0, sizeof r);
	r.key = xstrdup("k");
	r.endpoints = xcalloc(1, sizeof *r.endpoints);
	r.nendpoints = 1;
	r.endpoints[0].host = xstrdup("api.example.com");
	r.endpoints[0].ports = xcalloc(1, sizeof (uint16_t));
	r.endpoints[0].ports[0] = 443;
	r.endpoints[0].nports = 1;
	r.endpoints[0].protocol = OS_PROTOCOL_REST;
	r.endpoints[0].enforcement = OS_ENFORCE_AUDIT;
	l7 = r.endpoints[0].rules = xcalloc(1, sizeof *l7);
	r.endpoints[0].nrules = 1;
	l7->method = xstrdup("GET");
	l7->path = xstrdup("/**");
	/* Every tricky string as a glob, and as a parameter name. */
	l7->query = xcalloc(n + 1, sizeof *l7->query);
	l7->nquery = n + 1;
	l7->query[0].key = xstrdup("all");
	l7->query[0].any = true;
	l7->query[0].globs = xcalloc(n, sizeof (char *));
	l7->query[0].nglobs = n;
	for (i = 0; i < n; i++) {
		l7->query[0].globs[i] = xstrdup(tricky[i]);
		l7->query[i + 1].key = xprintf("k%s", tricky[i]);
		l7->query[i + 1].globs = xcalloc(1, sizeof (char *));
		l7->query[i + 1].globs[0] = xstrdup(tricky[i]);
		l7->query[i + 1].nglobs = 1;
	}
	r.binaries = xcalloc(1, sizeof *r.binaries);
	r.nbinaries = 1;
	r.binaries[0].path = xstrdup("/opt/my tool: v2/#bin/*");
	r.name = xstrdup("name: 'with' \"quotes\" # and more");
	os_policy_put_rule(p, &r);
	/* Loading normalises (query parameters sorted): compare like with like. */
	os_policy_normalize(p);
	check_round_trip(p);

	/* A few spellings, to keep the style stable. */
	y = os_policy_to_yaml(p);
	CHECK_CONTAINS(y, "    name: 'name: ''with'' \"quotes\" # and more'\n");
	CHECK_CONTAINS(y, "      - path: '/opt/my tool: v2/#bin/*'\n");
	CHECK_CONTAINS(y, "                    - 'true'\n");
	CHECK_CONTAINS(y, "                    - '0x1F'\n");
	CHECK_CONTAINS(y, "                    - \"new\\nline\"\n");
	CHECK_CONTAINS(y, "                    - \"caf\\u00e9\"\n");
	CHECK_CONTAINS(y, "                    - \"\\U0001f600\"\n");
	CHECK_CONTAINS(y, "                    - \"\"\n");
	CHECK_CONTAINS(y, "                    - /usr/bin/**\n");
	CHECK_CONTAINS(y, "                    - '*.example.com'\n");
	CHECK_CONTAINS(y, "                k- dash: '- dash'\n");
	free(y);
	os_policy_free(p);
}

static void
t_unnormalised_model(void)
{
	struct os_policy	*p, *q;
	struct os_rule		 r;
	char			*y1, *y2;
	const char		*keys[] = { "zeta", "alpha", "mid" };
	size_t			 i;

	/* Built out of order, upper-case host, ports unsorted. */
	p = os_policy_new();
	p->rules = xcalloc(3, sizeof *p->rules);
	for (i = 0; i < 3; i++) {
		memset(&r, 0, sizeof r);
		r.key = xstrdup(keys[i]);
		r.endpoints = xcalloc(1, sizeof *r.endpoints);
		r.nendpoints = 1;
		r.endpoints[0].host = xstrdup("API.Example.COM");
		r.endpoints[0].ports = xcalloc(3, sizeof (uint16_t));
		r.endpoints[0].ports[0] = 8443;
		r.endpoints[0].ports[1] = 443;
		r.endpoints[0].ports[2] = 8443;
		r.endpoints[0].nports = 3;
		r.binaries = xcalloc(1, sizeof *r.binaries);
		r.nbinaries = 1;
		r.binaries[0].path = xstrdup("/**");
		p->rules[p->nrules++] = r;
	}
	y1 = os_policy_to_yaml(p);
	q = os_policy_dup(p);
	os_policy_normalize(q);
	y2 = os_policy_to_yaml(q);
	CHECK_STR(y1, y2);
	CHECK_CONTAINS(y1, "network_policies:\n  alpha:\n");
	CHECK_CONTAINS(y1, "      - host: api.example.com\n"
	    "        ports: [443, 8443]\n");
	free(y1);
	free(y2);
	os_policy_free(p);
	os_policy_free(q);
}

static void
t_rule_yaml(void)
{
	struct os_diags		 d = OS_DIAGS_INIT;
	struct os_policy	*p, *a, *b;
	struct os_rule		 r, copy;
	char			*y, *s;
	size_t			 i;

	p = load_src("tests/unit/policies/valid/full.yaml");
	CHECK(p != NULL);
	if (p == NULL)
		return;
	for (i = 0; i < p->nrules; i++) {
		y = os_rule_to_yaml(&p->rules[i]);
		CHECK_INT(os_rule_load_yaml(y, strlen(y), "rule.yaml",
		    p->rules[i].key, &r, &d), 0);
		s = os_diags_format(&d);
		CHECK_STR(s, "");
		free(s);
		/* Compare as one-rule policies. */
		a = os_policy_new();
		b = os_policy_new();
		os_rule_copy(&copy, &p->rules[i]);
		os_policy_put_rule(a, &copy);
		os_policy_put_rule(b, &r);
		CHECK(os_policy_equal(a, b));
		os_policy_free(a);
		os_policy_free(b);
		free(y);
	}
	os_policy_free(p);

	p = load_src("examples/sandbox-policy-quickstart/policy.yaml");
	if (p == NULL)
		return;
	y = os_rule_to_yaml(&p->rules[0]);
	CHECK_STR(y,
	    "name: github-api-readonly\n"
	    "endpoints:\n"
	    "  - host: api.github.com\n"
	    "    port: 443\n"
	    "    protocol: rest\n"
	    "    tls: terminate\n"
	    "    enforcement: enforce\n"
	    "    access: read-only\n"
	    "binaries:\n"
	    "  - path: /usr/bin/curl\n");
	free(y);
	os_policy_free(p);

	/* Errors name the rule under network_policies.KEY, with positions. */
	y = "endpoints:\n  - host: api.github.com\n    port: 0\n"
	    "binaries: [{ path: curl }]\n";
	CHECK_INT(os_rule_load_yaml(y, strlen(y), "chunk.yaml", "gh", &r, &d),
	    -EINVAL);
	CHECK(r.key == NULL && r.nendpoints == 0);
	s = os_diags_format(&d);
	CHECK_STR(s,
	    "chunk.yaml:3:11: error: network_policies.gh.endpoints[0].port: "
	    "invalid port 0 (expected 1-65535)\n"
	    "chunk.yaml:4:20: error: network_policies.gh.binaries[0].path: binary "
	    "path must be absolute (or a glob starting with '/'): 'curl'\n");
	free(s);
	os_diags_free(&d);

	/* The enforcement note applies to rules too. */
	y = "endpoints:\n  - { host: a.example.com, port: 443, protocol: rest, "
	    "access: full }\nbinaries: [{ path: /** }]\n";
	CHECK_INT(os_rule_load_yaml(y, strlen(y), NULL, "k", &r, &d), 0);
	CHECK_INT(d.n, 1);
	CHECK_INT(d.nerrors, 0);
	CHECK_INT(r.endpoints[0].enforcement, OS_ENFORCE_ENFORCE);
	CHECK_STR(r.key, "k");
	os_rule_clear(&r);
	os_diags_free(&d);
}

int
main(void)
{
	TAP_RUN(t_round_trip_files);
	TAP_RUN(t_canonical_quickstart);
	TAP_RUN(t_hash);
	TAP_RUN(t_tricky_strings);
	TAP_RUN(t_unnormalised_model);
	TAP_RUN(t_rule_yaml);
	return tap_done();
}
