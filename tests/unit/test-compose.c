/*
 * Composition (effective = base + approved chunks) and covers().
 * Policies are built in C so that these tests only depend on the model,
 * the validator and the canonical emitter.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "openshell.h"
#include "tap.h"

/* ------------------------------------------------------------------------
 * Building models in C
 */
static void
add_str(char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = xstrdup(s);
}

static struct os_rule *
rule_new(const char *key)
{
	struct os_rule	*r;

	r = xcalloc(1, sizeof *r);
	r->key = key != NULL ? xstrdup(key) : NULL;
	return r;
}

static void
rule_free(struct os_rule *r)
{
	if (r == NULL)
		return;
	os_rule_clear(r);
	free(r);
}

static struct os_endpoint *
add_ep(struct os_rule *r, const char *host, int nports, ...)
{
	struct os_endpoint	*e;
	va_list			 ap;
	int			 i;

	r->endpoints = xreallocarray(r->endpoints, r->nendpoints + 1,
	    sizeof *r->endpoints);
	e = &r->endpoints[r->nendpoints++];
	memset(e, 0, sizeof *e);
	e->host = xstrdup(host);
	e->ports = xcalloc((size_t)nports + 1, sizeof *e->ports);
	va_start(ap, nports);
	for (i = 0; i < nports; i++)
		e->ports[e->nports++] = (uint16_t)va_arg(ap, int);
	va_end(ap);
	return e;
}

static struct os_endpoint *
add_rest(struct os_rule *r, const char *host, int port,
    enum os_enforcement enf, enum os_access access)
{
	struct os_endpoint	*e;

	e = add_ep(r, host, 1, port);
	e->protocol = OS_PROTOCOL_REST;
	e->enforcement = enf;
	e->access = access;
	return e;
}

static struct os_l7_rule *
add_l7(struct os_l7_rule **v, size_t *n, const char *method, const char *path)
{
	struct os_l7_rule	*r;

	*v = xreallocarray(*v, *n + 1, sizeof **v);
	r = &(*v)[(*n)++];
	memset(r, 0, sizeof *r);
	r->method = xstrdup(method);
	r->path = xstrdup(path);
	return r;
}

static void
add_allow(struct os_endpoint *e, const char *method, const char *path)
{
	add_l7(&e->rules, &e->nrules, method, path);
}

static void
add_bin(struct os_rule *r, const char *path, bool advisor)
{
	r->binaries = xreallocarray(r->binaries, r->nbinaries + 1,
	    sizeof *r->binaries);
	r->binaries[r->nbinaries].path = xstrdup(path);
	r->binaries[r->nbinaries].advisor_proposed = advisor;
	r->nbinaries++;
}

/* Takes over *r (freed). */
static void
put(struct os_policy *p, struct os_rule *r)
{
	os_policy_put_rule(p, r);
	free(r);
}

/* The restrictive default plus a GitHub API rule enforcing L7 rules and
 * a plain L4 rule. */
static struct os_policy *
base_policy(void)
{
	struct os_policy	*p;
	struct os_rule		*r;
	struct os_endpoint	*e;

	p = os_policy_default();
	r = rule_new("github_api");
	e = add_rest(r, "api.github.com", 443, OS_ENFORCE_ENFORCE,
	    OS_ACCESS_NONE);
	add_allow(e, "GET", "/repos/**");
	add_bin(r, "/usr/bin/gh", false);
	put(p, r);
	r = rule_new("pypi");
	e = add_ep(r, "pypi.org", 1, 443);
	add_str(&e->allowed_ips, &e->nallowed_ips, "10.0.0.1");
	add_bin(r, "/usr/bin/pip3", false);
	put(p, r);
	os_policy_normalize(p);
	return p;
}

struct chunk {
	const char	*id;
	const char	*rule_name;
	struct os_rule	*rule;
	const char	*supersedes;
};

static int
compose(const struct os_policy *base, const struct chunk *c, size_t n,
    struct os_policy **out, struct os_diags *d)
{
	struct os_chunk_input	*in;
	size_t			 i;
	int			 rc;

	in = xcalloc(n + 1, sizeof *in);
	for (i = 0; i < n; i++) {
		in[i].id = c[i].id;
		in[i].rule_name = c[i].rule_name;
		in[i].rule = c[i].rule;
		in[i].supersedes = c[i].supersedes;
	}
	rc = os_policy_compose(base, in, n, out, d);
	free(in);
	return rc;
}

static char *
hash(const struct os_policy *p)
{
	char	h[65];

	os_policy_hash(p, h);
	return xstrdup(h);
}

static bool
validates(const struct os_policy *p)
{
	struct os_diags	d = OS_DIAGS_INIT;
	size_t		n;

	n = os_policy_validate(p, NULL, NULL, &d);
	if (n != 0) {
		char *s = os_diags_format(&d);

		printf("# %s", s);
		free(s);
	}
	os_diags_free(&d);
	return n == 0;
}

/* ------------------------------------------------------------------------
 * Composition
 */
static void
t_no_chunks(void)
{
	struct os_policy	*base, *eff = NULL;
	struct os_diags		 d = OS_DIAGS_INIT;

	base = base_policy();
	CHECK(validates(base));
	CHECK_INT(compose(base, NULL, 0, &eff, &d), 0);
	CHECK_INT(d.n, 0);
	CHECK(eff != NULL && eff != base && os_policy_equal(eff, base));
	os_policy_free(eff);
	os_policy_free(base);
	os_diags_free(&d);
}

static void
t_insert_new_rule(void)
{
	struct os_policy	*base, *eff = NULL;
	struct os_diags		 d = OS_DIAGS_INIT;
	struct os_rule		*r;
	const struct os_rule	*got;
	struct chunk		 c;

	base = base_policy();
	r = rule_new(NULL);
	add_ep(r, "Registry.NPMJS.org", 2, 443, 80);
	add_bin(r, "/usr/bin/node", true);
	c = (struct chunk){ "c1", "allow_registry_npmjs_org_443", r, NULL };
	CHECK_INT(compose(base, &c, 1, &eff, &d), 0);
	CHECK_INT(d.n, 0);
	CHECK_INT(eff->nrules, 3);
	got = os_policy_find_rule(eff, "allow_registry_npmjs_org_443");
	CHECK(got != NULL);
	if (got != NULL) {
		CHECK_INT(got->nendpoints, 1);
		CHECK_STR(got->endpoints[0].host, "registry.npmjs.org");
		CHECK_INT(got->endpoints[0].nports, 2);
		CHECK_INT(got->endpoints[0].ports[0], 80);
		CHECK_INT(got->endpoints[0].ports[1], 443);
		CHECK_INT(got->nbinaries, 1);
		CHECK(got->binaries[0].advisor_proposed);
	}
	/* Rules stay sorted by key. */
	CHECK_STR(eff->rules[0].key, "allow_registry_npmjs_org_443");
	CHECK_STR(eff->rules[1].key, "github_api");
	CHECK(validates(eff));
	/* The chunk's rule is not touched. */
	CHECK_STR(r->endpoints[0].host, "Registry.NPMJS.org");
	CHECK(r->key == NULL);
	rule_free(r);
	os_policy_free(eff);
	os_policy_free(base);
	os_diags_free(&d);
}

static void
t_merge_existing(void)
{
	struct os_policy		*base, *eff = NULL;
	struct os_diags			 d = OS_DIAGS_INIT;
	struct os_rule			*r;
	const struct os_rule		*got;
	const struct os_endpoint	*e;
	struct os_endpoint		*ce;
	struct chunk			 c;

	base = base_policy();
	r = rule_new("ignored");     /* rule_name decides the key */
	ce = add_ep(r, "PyPI.org", 2, 8443, 443);
	add_str(&ce->allowed_ips, &ce->nallowed_ips, "10.0.0.2");
	add_str(&ce->allowed_ips, &ce->nallowed_ips, "10.0.0.1");
	add_ep(r, "files.pythonhosted.org", 1, 443);
	add_bin(r, "/usr/bin/pip", true);
	add_bin(r, "/usr/bin/pip3", true);     /* already there */
	c = (struct chunk){ "c1", "pypi", r, NULL };
	CHECK_INT(compose(base, &c, 1, &eff, &d), 0);
	CHECK_INT(d.n, 0);
	CHECK_INT(eff->nrules, 2);
	CHECK(os_policy_find_rule(eff, "ignored") == NULL);
	got = os_policy_find_rule(eff, "pypi");
	CHECK(got != NULL);
	if (got != NULL) {
		/* binaries: union by path, author order, existing flags kept */
		CHECK_INT(got->nbinaries, 2);
		CHECK_STR(got->binaries[0].path, "/usr/bin/pip3");
		CHECK(!got->binaries[0].advisor_proposed);
		CHECK_STR(got->binaries[1].path, "/usr/bin/pip");
		CHECK(got->binaries[1].advisor_proposed);
		CHECK_INT(got->nendpoints, 2);
		e = &got->endpoints[0];
		CHECK_STR(e->host, "pypi.org");
		CHECK_INT(e->nports, 2);
		CHECK_INT(e->ports[0], 443);
		CHECK_INT(e->ports[1], 8443);
		CHECK_INT(e->nallowed_ips, 2);
		CHECK_STR(e->allowed_ips[0], "10.0.0.1");
		CHECK_STR(e->allowed_ips[1], "10.0.0.2");
		CHECK_STR(got->endpoints[1].host, "files.pythonhosted.org");
	}
	CHECK(validates(eff));
	rule_free(r);
	os_policy_free(eff);
	os_policy_free(base);
	os_diags_free(&d);
}

static void
t_preset_expansion(void)
{
	struct os_policy		*base, *eff = NULL;
	struct os_diags			 d = OS_DIAGS_INIT;
	struct os_rule			*r, *r2;
	struct os_endpoint		*ce;
	const struct os_endpoint	*e;
	struct chunk			 c[2];
	static const char *const want[][2] = {
		{ "GET", "**" }, { "HEAD", "**" }, { "OPTIONS", "**" },
		{ "POST", "/repos/*/issues" },
	};
	size_t				 i;

	base = os_policy_default();
	r = rule_new("github");
	add_rest(r, "api.github.com", 443, OS_ENFORCE_ENFORCE,
	    OS_ACCESS_READ_ONLY);
	add_bin(r, "/usr/bin/gh", false);
	put(base, r);
	CHECK(validates(base));

	r = rule_new(NULL);
	ce = add_rest(r, "api.github.com", 443, OS_ENFORCE_ENFORCE,
	    OS_ACCESS_NONE);
	add_allow(ce, "post", "/repos/*/issues");
	add_l7(&ce->deny_rules, &ce->ndeny_rules, "POST", "/repos/*/issues/lock");
	add_bin(r, "/usr/bin/gh", false);
	c[0] = (struct chunk){ "c1", "github", r, NULL };
	CHECK_INT(compose(base, c, 1, &eff, &d), 0);
	CHECK_INT(d.n, 0);
	e = &os_policy_find_rule(eff, "github")->endpoints[0];
	CHECK_INT(e->access, OS_ACCESS_NONE);
	CHECK_INT(e->nrules, 4);
	for (i = 0; i < OS_NELEM(want) && i < e->nrules; i++) {
		CHECK_STR(e->rules[i].method, want[i][0]);
		CHECK_STR(e->rules[i].path, want[i][1]);
	}
	CHECK_INT(e->ndeny_rules, 1);
	CHECK(validates(eff));
	os_policy_free(eff);

	/* The same chunk twice changes nothing the second time. */
	c[1] = c[0];
	c[1].id = "c2";
	CHECK_INT(compose(base, c, 2, &eff, &d), 0);
	e = &os_policy_find_rule(eff, "github")->endpoints[0];
	CHECK_INT(e->nrules, 4);
	CHECK_INT(e->ndeny_rules, 1);
	os_policy_free(eff);

	/* A chunk with the same preset keeps it; another preset expands. */
	r2 = rule_new(NULL);
	add_rest(r2, "api.github.com", 443, OS_ENFORCE_ENFORCE,
	    OS_ACCESS_READ_ONLY);
	add_bin(r2, "/usr/bin/git", false);
	c[1] = (struct chunk){ "c2", "github", r2, NULL };
	CHECK_INT(compose(base, &c[1], 1, &eff, &d), 0);
	e = &os_policy_find_rule(eff, "github")->endpoints[0];
	CHECK_INT(e->access, OS_ACCESS_READ_ONLY);
	CHECK_INT(e->nrules, 0);
	CHECK_INT(os_policy_find_rule(eff, "github")->nbinaries, 2);
	os_policy_free(eff);
	r2->endpoints[0].access = OS_ACCESS_READ_WRITE;
	CHECK_INT(compose(base, &c[1], 1, &eff, &d), 0);
	e = &os_policy_find_rule(eff, "github")->endpoints[0];
	CHECK_INT(e->access, OS_ACCESS_NONE);
	CHECK_INT(e->nrules, 6);     /* GET HEAD OPTIONS + POST PUT PATCH */
	if (e->nrules == 6) {
		CHECK_STR(e->rules[3].method, "POST");
		CHECK_STR(e->rules[5].method, "PATCH");
	}
	CHECK(validates(eff));
	os_policy_free(eff);
	CHECK_INT(d.n, 0);

	rule_free(r);
	rule_free(r2);
	os_policy_free(base);
	os_diags_free(&d);
}

/* Stage 1: audit everything; stage 2: enforce read-only. */
static struct os_rule *
stage_rule(enum os_enforcement enf, enum os_access access)
{
	struct os_rule	*r;

	r = rule_new(NULL);
	add_rest(r, "api.openai.com", 443, enf, access);
	add_bin(r, "/usr/bin/python3", true);
	r->endpoints[0].advisor_proposed = true;
	return r;
}

static void
t_supersede(void)
{
	struct os_policy		*base, *eff = NULL, *only = NULL;
	struct os_diags			 d = OS_DIAGS_INIT;
	struct os_rule			*s1, *s2, *s3;
	const struct os_endpoint	*e;
	struct chunk			 c[3];
	char				*h1, *h2;

	base = base_policy();
	s1 = stage_rule(OS_ENFORCE_AUDIT, OS_ACCESS_FULL);
	s2 = stage_rule(OS_ENFORCE_ENFORCE, OS_ACCESS_READ_ONLY);
	s3 = stage_rule(OS_ENFORCE_ENFORCE, OS_ACCESS_NONE);
	add_allow(&s3->endpoints[0], "GET", "/v1/models");
	c[0] = (struct chunk){ "stage1", "allow_api_openai_com_443", s1, NULL };
	c[1] = (struct chunk){ "stage2", "allow_api_openai_com_443", s2, "stage1" };
	c[2] = (struct chunk){ "stage3", "allow_api_openai_com_443", s3, "stage2" };

	/* Stage 1 alone: the audit rule. */
	CHECK_INT(compose(base, c, 1, &eff, &d), 0);
	e = &os_policy_find_rule(eff, "allow_api_openai_com_443")->endpoints[0];
	CHECK_INT(e->enforcement, OS_ENFORCE_AUDIT);
	os_policy_free(eff);

	/* Refined: only the stage-2 rule, exactly as if stage 1 never was. */
	CHECK_INT(compose(base, c, 2, &eff, &d), 0);
	CHECK_INT(d.n, 0);
	e = &os_policy_find_rule(eff, "allow_api_openai_com_443")->endpoints[0];
	CHECK_INT(e->enforcement, OS_ENFORCE_ENFORCE);
	CHECK_INT(e->access, OS_ACCESS_READ_ONLY);
	CHECK_INT(e->nrules, 0);
	CHECK_INT(compose(base, &c[1], 1, &only, &d), 0);
	CHECK(os_policy_equal(eff, only));
	h1 = hash(eff);
	h2 = hash(only);
	CHECK_STR(h1, h2);
	free(h1);
	free(h2);
	os_policy_free(eff);
	os_policy_free(only);

	/* A chain: stage 3 replaces stage 2, which replaced stage 1. */
	CHECK_INT(compose(base, c, 3, &eff, &d), 0);
	CHECK_INT(d.n, 0);
	e = &os_policy_find_rule(eff, "allow_api_openai_com_443")->endpoints[0];
	CHECK_INT(e->access, OS_ACCESS_NONE);
	CHECK_INT(e->nrules, 1);
	CHECK_INT(compose(base, &c[2], 1, &only, &d), 0);
	CHECK(os_policy_equal(eff, only));
	os_policy_free(eff);
	os_policy_free(only);

	/* Only a LATER chunk supersedes: listed after the chunk that names
	 * it, stage 1 applies and then conflicts with stage 2. */
	{
		struct chunk rev[2] = { c[1], c[0] };

		CHECK_INT(compose(base, rev, 2, &eff, &d), 0);
		CHECK_INT(d.nerrors, 1);
		if (d.n == 1) {
			CHECK_STR(d.v[0].field, "stage1");
			CHECK_STR(d.v[0].message, "api.openai.com:443 would have "
			    "two L7 contracts: 'allow_api_openai_com_443' "
			    "enforces L7 rest rules, this chunk proposes audited "
			    "L7 rest rules");
		}
		e = &os_policy_find_rule(eff,
		    "allow_api_openai_com_443")->endpoints[0];
		CHECK_INT(e->access, OS_ACCESS_READ_ONLY);
		os_policy_free(eff);
		os_diags_free(&d);
	}
	rule_free(s1);
	rule_free(s2);
	rule_free(s3);
	os_policy_free(base);
	os_diags_free(&d);
}

static void
t_undo_recompute(void)
{
	struct os_policy	*base, *all = NULL, *without = NULL, *again = NULL;
	struct os_diags		 d = OS_DIAGS_INIT;
	struct os_rule		*a, *b, *cc;
	struct chunk		 c[3], rest[2];
	char			*y1, *y2, *h1, *h2, *h3;

	base = base_policy();
	a = rule_new(NULL);
	add_ep(a, "registry.npmjs.org", 1, 443);
	add_bin(a, "/usr/bin/node", true);
	b = rule_new(NULL);
	add_ep(b, "pypi.org", 1, 8443);
	add_bin(b, "/usr/bin/pip", true);
	cc = rule_new(NULL);
	add_ep(cc, "crates.io", 1, 443);
	add_bin(cc, "/usr/bin/cargo", false);
	c[0] = (struct chunk){ "a", "npm", a, NULL };
	c[1] = (struct chunk){ "b", "pypi", b, NULL };   /* merges */
	c[2] = (struct chunk){ "c", "crates", cc, NULL };
	rest[0] = c[0];
	rest[1] = c[2];

	CHECK_INT(compose(base, c, 3, &all, &d), 0);
	CHECK_INT(compose(base, rest, 2, &without, &d), 0);
	CHECK_INT(compose(base, c, 3, &again, &d), 0);
	CHECK_INT(d.n, 0);
	CHECK(!os_policy_equal(all, without));
	/* Undoing b gives exactly the policy that never had it. */
	CHECK_INT(os_policy_find_rule(without, "pypi")->endpoints[0].nports, 1);
	CHECK_INT(os_policy_find_rule(without, "pypi")->nbinaries, 1);
	{
		struct os_policy *ref = NULL;

		CHECK_INT(compose(base, rest, 2, &ref, &d), 0);
		y1 = os_policy_to_yaml(without);
		y2 = os_policy_to_yaml(ref);
		CHECK_STR(y1, y2);
		h1 = hash(without);
		h2 = hash(ref);
		CHECK_STR(h1, h2);
		free(y1);
		free(y2);
		free(h1);
		free(h2);
		os_policy_free(ref);
	}
	/* Pure: same inputs, same result and hash. */
	CHECK(os_policy_equal(all, again));
	h1 = hash(all);
	h2 = hash(again);
	h3 = hash(without);
	CHECK_STR(h1, h2);
	CHECK(strcmp(h1, h3) != 0);
	free(h1);
	free(h2);
	free(h3);
	/* Undo everything: the base. */
	os_policy_free(again);
	CHECK_INT(compose(base, NULL, 0, &again, &d), 0);
	CHECK(os_policy_equal(again, base));

	rule_free(a);
	rule_free(b);
	rule_free(cc);
	os_policy_free(all);
	os_policy_free(without);
	os_policy_free(again);
	os_policy_free(base);
	os_diags_free(&d);
}

static void
t_conflict(void)
{
	struct os_policy	*base, *eff = NULL;
	struct os_diags		 d = OS_DIAGS_INIT;
	struct os_rule		*l4, *ok, *audit, *skip, *self;
	struct os_endpoint	*e;
	struct chunk		 c[5];

	base = base_policy();
	l4 = rule_new(NULL);
	add_ep(l4, "api.github.com", 2, 443, 22);
	add_bin(l4, "/usr/bin/curl", true);
	ok = rule_new(NULL);
	add_ep(ok, "github.com", 1, 443);
	add_bin(ok, "/usr/bin/git", false);
	audit = rule_new(NULL);
	e = add_rest(audit, "API.github.com", 443, OS_ENFORCE_AUDIT,
	    OS_ACCESS_FULL);
	add_bin(audit, "/usr/bin/gh", false);
	skip = rule_new(NULL);
	e = add_ep(skip, "pypi.org", 1, 443);
	e->tls = OS_TLS_SKIP;
	add_bin(skip, "/usr/bin/pip3", false);
	self = rule_new(NULL);
	add_ep(self, "example.com", 1, 443);
	add_rest(self, "example.com", 443, OS_ENFORCE_ENFORCE, OS_ACCESS_FULL);
	add_bin(self, "/usr/bin/curl", false);
	c[0] = (struct chunk){ "c-l4", "allow_api_github_com_443", l4, NULL };
	c[1] = (struct chunk){ "c-ok", "github_web", ok, NULL };
	c[2] = (struct chunk){ "c-audit", "github_api", audit, NULL };
	c[3] = (struct chunk){ "c-skip", "pypi_skip", skip, NULL };
	c[4] = (struct chunk){ "c-self", "example", self, NULL };
	CHECK_INT(compose(base, c, 5, &eff, &d), 0);
	CHECK_INT(d.nerrors, 4);
	if (d.n == 4) {
		CHECK_STR(d.v[0].field, "c-l4");
		CHECK_STR(d.v[0].message, "api.github.com:443 would have two L7 "
		    "contracts: 'github_api' enforces L7 rest rules, this chunk "
		    "proposes L4 only");
		CHECK_STR(d.v[1].field, "c-audit");
		CHECK_STR(d.v[1].message, "api.github.com:443 would have two L7 "
		    "contracts: 'github_api' enforces L7 rest rules, this chunk "
		    "proposes audited L7 rest rules");
		CHECK_STR(d.v[2].field, "c-skip");
		CHECK_STR(d.v[2].message, "pypi.org:443 would have two L7 "
		    "contracts: 'pypi' allows L4 only, this chunk proposes L4 "
		    "only with tls: skip");
		CHECK_STR(d.v[3].field, "c-self");
		CHECK_STR(d.v[3].message, "example.com:443 would have two L7 "
		    "contracts: this chunk proposes both L4 only and enforced "
		    "L7 rest rules");
	}
	/* The others are applied; the left-out ones leave no trace. */
	CHECK(os_policy_find_rule(eff, "github_web") != NULL);
	CHECK(os_policy_find_rule(eff, "allow_api_github_com_443") == NULL);
	CHECK(os_policy_find_rule(eff, "pypi_skip") == NULL);
	CHECK(os_policy_find_rule(eff, "example") == NULL);
	CHECK_INT(os_policy_find_rule(eff, "github_api")->nbinaries, 1);
	CHECK_INT(eff->nrules, 3);
	CHECK(validates(eff));
	os_policy_free(eff);
	os_diags_free(&d);

	/* A different port of the same host is no conflict. */
	l4->endpoints[0].ports[0] = 22;
	l4->endpoints[0].nports = 1;
	CHECK_INT(compose(base, c, 1, &eff, &d), 0);
	CHECK_INT(d.n, 0);
	CHECK(os_policy_find_rule(eff, "allow_api_github_com_443") != NULL);
	os_policy_free(eff);

	rule_free(l4);
	rule_free(ok);
	rule_free(audit);
	rule_free(skip);
	rule_free(self);
	os_policy_free(base);
	os_diags_free(&d);
}

/* Conflicts the base already has are not a chunk's fault. */
static void
t_conflict_in_base(void)
{
	struct os_policy	*base, *eff = NULL;
	struct os_diags		 d = OS_DIAGS_INIT;
	struct os_rule		*r;
	struct chunk		 c;

	base = base_policy();
	r = rule_new("github_l4");
	add_ep(r, "api.github.com", 1, 443);
	add_bin(r, "/usr/bin/curl", false);
	put(base, r);
	if (!validates(base)) {
		/* The validator refuses such a base outright: nothing to
		 * compose on, and compose says so. */
		CHECK_INT(compose(base, NULL, 0, &eff, &d), -EINVAL);
		CHECK(eff == NULL);
		CHECK(d.nerrors > 0);
		os_diags_free(&d);
		os_policy_free(base);
		return;
	}
	r = rule_new(NULL);
	add_ep(r, "api.github.com", 1, 443);
	add_bin(r, "/usr/bin/wget", false);
	c = (struct chunk){ "c1", "github_l4", r, NULL };
	CHECK_INT(compose(base, &c, 1, &eff, &d), 0);
	CHECK_INT(d.n, 0);
	CHECK_INT(os_policy_find_rule(eff, "github_l4")->nbinaries, 2);
	os_policy_free(eff);
	rule_free(r);
	os_policy_free(base);
	os_diags_free(&d);
}

static void
t_bad_chunks(void)
{
	struct os_policy	*base, *eff = NULL;
	struct os_diags		 d = OS_DIAGS_INIT;
	struct os_rule		*nobin, *good;
	struct chunk		 c[4];

	base = base_policy();
	nobin = rule_new(NULL);
	add_ep(nobin, "example.org", 1, 443);
	good = rule_new(NULL);
	add_ep(good, "example.net", 1, 443);
	add_bin(good, "/usr/bin/curl", false);
	c[0] = (struct chunk){ "c-null", "x", NULL, NULL };
	c[1] = (struct chunk){ "c-noname", "", good, NULL };
	c[2] = (struct chunk){ "c-nobin", "example_org", nobin, NULL };
	c[3] = (struct chunk){ "c-good", "example_net", good, NULL };
	CHECK_INT(compose(base, c, 4, &eff, &d), 0);
	CHECK_INT(d.nerrors, 3);
	if (d.n == 3) {
		CHECK_STR(d.v[0].field, "c-null");
		CHECK_STR(d.v[0].message, "the chunk has no rule; left out");
		CHECK_STR(d.v[1].field, "c-noname");
		CHECK_STR(d.v[1].message, "the chunk has no rule name; left out");
		CHECK_STR(d.v[2].field, "c-nobin");
		CHECK_CONTAINS(d.v[2].message,
		    "the policy would not validate with this chunk: "
		    "network_policies.example_org");
	}
	CHECK(os_policy_find_rule(eff, "example_org") == NULL);
	CHECK(os_policy_find_rule(eff, "example_net") != NULL);
	CHECK(validates(eff));
	os_policy_free(eff);
	rule_free(nobin);
	rule_free(good);
	os_policy_free(base);
	os_diags_free(&d);
}

static void
t_static_untouched(void)
{
	struct os_policy	*base, *eff = NULL, *b2, *e2;
	struct os_diags		 d = OS_DIAGS_INIT;
	struct os_rule		*r;
	struct chunk		 c;
	size_t			 i;

	base = base_policy();
	base->landlock = OS_LANDLOCK_HARD_REQUIREMENT;
	free(base->run_as_user);
	base->run_as_user = xstrdup("1000");
	r = rule_new(NULL);
	add_ep(r, "example.net", 1, 443);
	add_bin(r, "/usr/bin/curl", false);
	c = (struct chunk){ "c1", "example", r, NULL };
	CHECK_INT(compose(base, &c, 1, &eff, &d), 0);
	CHECK(eff->has_filesystem && eff->has_landlock && eff->has_process);
	CHECK_INT(eff->landlock, OS_LANDLOCK_HARD_REQUIREMENT);
	CHECK_STR(eff->run_as_user, "1000");
	CHECK_INT(eff->filesystem.nread_only, base->filesystem.nread_only);
	for (i = 0; i < base->filesystem.nread_only; i++)
		CHECK_STR(eff->filesystem.read_only[i],
		    base->filesystem.read_only[i]);
	/* Dropping the network sections from both leaves equal policies. */
	b2 = os_policy_dup(base);
	e2 = os_policy_dup(eff);
	while (b2->nrules > 0)
		os_rule_clear(&b2->rules[--b2->nrules]);
	while (e2->nrules > 0)
		os_rule_clear(&e2->rules[--e2->nrules]);
	CHECK(os_policy_equal(b2, e2));
	os_policy_free(b2);
	os_policy_free(e2);
	os_policy_free(eff);
	rule_free(r);
	os_policy_free(base);
	os_diags_free(&d);
}

static void
t_advisor_preserved(void)
{
	struct os_policy		*base, *eff = NULL;
	struct os_diags			 d = OS_DIAGS_INIT;
	struct os_rule			*r;
	struct os_endpoint		*e;
	const struct os_rule		*got;
	struct chunk			 c;

	base = base_policy();
	/* The same pypi endpoint, proposed by the advisor. */
	r = rule_new(NULL);
	e = add_ep(r, "pypi.org", 1, 443);
	e->advisor_proposed = true;
	add_bin(r, "/usr/bin/pip3", true);
	c = (struct chunk){ "c1", "pypi", r, NULL };
	CHECK_INT(compose(base, &c, 1, &eff, &d), 0);
	got = os_policy_find_rule(eff, "pypi");
	CHECK_INT(got->nendpoints, 1);
	CHECK(got->endpoints[0].advisor_proposed);   /* OR-ed */
	CHECK(!got->binaries[0].advisor_proposed);   /* as the existing entry */
	os_policy_free(eff);

	/* And the other way round: an advisor mark in the base survives
	 * a human-authored chunk. */
	os_policy_find_rule(base, "pypi")->endpoints[0].advisor_proposed = true;
	e->advisor_proposed = false;
	CHECK_INT(compose(base, &c, 1, &eff, &d), 0);
	CHECK(os_policy_find_rule(eff, "pypi")->endpoints[0].advisor_proposed);
	os_policy_free(eff);
	CHECK_INT(d.n, 0);
	rule_free(r);
	os_policy_free(base);
	os_diags_free(&d);
}

/* ------------------------------------------------------------------------
 * From YAML, as users write policies and the advisor writes rules
 */
static struct os_policy *
load_policy(const char *yaml)
{
	struct os_policy	*p = NULL;
	struct os_diags		 d = OS_DIAGS_INIT;

	if (os_policy_load_yaml(yaml, strlen(yaml), "base.yaml", &p, NULL,
	    &d) != 0) {
		char *s = os_diags_format(&d);

		printf("# %s", s);
		free(s);
	}
	os_diags_free(&d);
	return p;
}

static struct os_rule *
load_rule(const char *yaml)
{
	struct os_rule	*r;
	struct os_diags	 d = OS_DIAGS_INIT;

	r = xcalloc(1, sizeof *r);
	if (os_rule_load_yaml(yaml, strlen(yaml), "chunk.yaml", "chunk", r,
	    &d) != 0) {
		char *s = os_diags_format(&d);

		printf("# %s", s);
		free(s);
		free(r);
		r = NULL;
	}
	os_diags_free(&d);
	return r;
}

static const char yaml_base[] =
    "version: 1\n"
    "filesystem_policy:\n"
    "  include_workdir: true\n"
    "  read_only: [/usr, /lib, /etc]\n"
    "  read_write: [/sandbox, /tmp]\n"
    "landlock:\n"
    "  compatibility: best_effort\n"
    "process:\n"
    "  run_as_user: sandbox\n"
    "  run_as_group: sandbox\n"
    "network_policies:\n"
    "  github:\n"
    "    name: GitHub API\n"
    "    endpoints:\n"
    "      - host: api.github.com\n"
    "        port: 443\n"
    "        protocol: rest\n"
    "        enforcement: enforce\n"
    "        access: read-only\n"
    "    binaries:\n"
    "      - path: /usr/bin/gh\n";

static void
t_yaml_effective(void)
{
	struct os_policy	*base, *eff = NULL;
	struct os_diags		 d = OS_DIAGS_INIT;
	struct os_rule		*issues, *npm;
	struct chunk		 c[2];
	char			*y0, *y1, *diff;

	base = load_policy(yaml_base);
	issues = load_rule(
	    "endpoints:\n"
	    "  - host: api.github.com\n"
	    "    port: 443\n"
	    "    protocol: rest\n"
	    "    enforcement: enforce\n"
	    "    rules:\n"
	    "      - allow:\n"
	    "          method: POST\n"
	    "          path: /repos/*/issues\n"
	    "    advisor_proposed: true\n"
	    "binaries:\n"
	    "  - path: /usr/bin/gh\n"
	    "    advisor_proposed: true\n");
	npm = load_rule(
	    "name: npm registry\n"
	    "endpoints:\n"
	    "  - host: registry.npmjs.org\n"
	    "    port: 443\n"
	    "binaries:\n"
	    "  - path: /usr/bin/node\n");
	CHECK(base != NULL && issues != NULL && npm != NULL);
	if (base == NULL || issues == NULL || npm == NULL)
		goto out;
	c[0] = (struct chunk){ "c1", "github", issues, NULL };
	c[1] = (struct chunk){ "c2", "allow_registry_npmjs_org_443", npm, NULL };
	CHECK_INT(compose(base, c, 2, &eff, &d), 0);
	CHECK_INT(d.n, 0);
	CHECK(validates(eff));
	y0 = os_policy_to_yaml(base);
	y1 = os_policy_to_yaml(eff);
	diff = os_diff_unified(y0, y1, "policy@1", "policy@2");
	/* What a reviewer sees (exact diff -u agreement is test-diff's job;
	 * here only the parts that do not depend on the emitter's quoting). */
	CHECK(strncmp(diff, "--- policy@1\n+++ policy@2\n@@ -", 30) == 0);
	CHECK_CONTAINS(diff, "\n network_policies:\n"
	    "+  allow_registry_npmjs_org_443:\n");
	CHECK_CONTAINS(diff, "+      - host: registry.npmjs.org\n"
	    "+        port: 443\n"
	    "+    binaries:\n"
	    "+      - path: /usr/bin/node\n"
	    "   github:\n");
	CHECK_CONTAINS(diff, "         enforcement: enforce\n"
	    "-        access: read-only\n"
	    "+        rules:\n"
	    "+          - allow:\n"
	    "+              method: GET\n");
	CHECK_CONTAINS(diff, "+              method: HEAD\n");
	CHECK_CONTAINS(diff, "+              method: OPTIONS\n");
	CHECK_CONTAINS(diff, "+          - allow:\n"
	    "+              method: POST\n"
	    "+              path: /repos/*/issues\n"
	    "+        advisor_proposed: true\n"
	    "     binaries:\n"
	    "       - path: /usr/bin/gh\n");
	/* Nothing else changed: 7 lines for the new rule, 1 removed, 14
	 * added for the merged endpoint. */
	{
		const char	*q;
		size_t		 plus = 0, minus = 0;

		for (q = diff; q != NULL && *q != '\0'; q = strchr(q, '\n'),
		    q = q != NULL ? q + 1 : NULL) {
			if (strncmp(q, "+++ ", 4) == 0 || strncmp(q, "--- ", 4) == 0)
				continue;
			plus += *q == '+';
			minus += *q == '-';
		}
		CHECK_INT(plus, 21);
		CHECK_INT(minus, 1);
	}
	free(y0);
	free(y1);
	free(diff);
	/* The proposal that was merged is covered now, and undoing both
	 * gives the base back byte for byte. */
	CHECK(os_policy_covers(eff, issues));
	CHECK(os_policy_covers(eff, npm));
	CHECK(!os_policy_covers(base, issues));
	os_policy_free(eff);
	CHECK_INT(compose(base, NULL, 0, &eff, &d), 0);
	y0 = os_policy_to_yaml(base);
	y1 = os_policy_to_yaml(eff);
	CHECK_STR(y1, y0);
	free(y0);
	free(y1);
	os_policy_free(eff);
out:
	rule_free(issues);
	rule_free(npm);
	os_policy_free(base);
	os_diags_free(&d);
}

/* ------------------------------------------------------------------------
 * covers()
 */
static void
t_covers_l4(void)
{
	struct os_policy	*p;
	struct os_rule		*pr, *q;
	struct os_endpoint	*e;

	p = os_policy_default();
	pr = rule_new("gh");
	add_ep(pr, "github.com", 2, 22, 443);
	add_ep(pr, "*.githubusercontent.com", 1, 443);
	e = add_ep(pr, "", 1, 8080);
	add_str(&e->allowed_ips, &e->nallowed_ips, "10.0.0.0/8");
	add_bin(pr, "/usr/bin/git", false);
	add_bin(pr, "/usr/lib/git-core/*", false);
	put(p, pr);
	os_policy_normalize(p);

	q = rule_new(NULL);
	add_ep(q, "GitHub.com", 1, 443);
	add_bin(q, "/usr/bin/git", true);
	CHECK(os_policy_covers(p, q));
	q->endpoints[0].ports[0] = 80;                      /* other port */
	CHECK(!os_policy_covers(p, q));
	q->endpoints[0].ports[0] = 22;
	free(q->binaries[0].path);
	q->binaries[0].path = xstrdup("/usr/lib/git-core/git-remote-https");
	CHECK(os_policy_covers(p, q));                      /* glob binary */
	free(q->binaries[0].path);
	q->binaries[0].path = xstrdup("/usr/lib/git-core/sub/x");
	CHECK(!os_policy_covers(p, q));                     /* * stays in a segment */
	free(q->binaries[0].path);
	q->binaries[0].path = xstrdup("/usr/bin/curl");
	CHECK(!os_policy_covers(p, q));                     /* other binary */
	free(q->binaries[0].path);
	q->binaries[0].path = xstrdup("/usr/bin/*");
	CHECK(!os_policy_covers(p, q));                     /* wider glob */
	free(q->binaries[0].path);
	q->binaries[0].path = xstrdup("/usr/bin/git");
	free(q->endpoints[0].host);
	q->endpoints[0].host = xstrdup("raw.githubusercontent.com");
	q->endpoints[0].ports[0] = 443;
	CHECK(os_policy_covers(p, q));                      /* wildcard host */
	free(q->endpoints[0].host);
	q->endpoints[0].host = xstrdup("a.b.githubusercontent.com");
	CHECK(!os_policy_covers(p, q));
	free(q->endpoints[0].host);
	q->endpoints[0].host = xstrdup("*.githubusercontent.com");
	CHECK(os_policy_covers(p, q));                      /* same wildcard */
	free(q->endpoints[0].host);
	q->endpoints[0].host = xstrdup("**.githubusercontent.com");
	CHECK(!os_policy_covers(p, q));                     /* wider wildcard */
	/* Every endpoint x port x binary must be covered. */
	free(q->endpoints[0].host);
	q->endpoints[0].host = xstrdup("github.com");
	add_ep(q, "gitlab.com", 1, 443);
	CHECK(!os_policy_covers(p, q));
	os_endpoint_clear(&q->endpoints[--q->nendpoints]);
	CHECK(os_policy_covers(p, q));
	add_bin(q, "/usr/bin/ssh", false);
	CHECK(!os_policy_covers(p, q));
	q->nbinaries--;
	free(q->binaries[1].path);
	/* An SSRF override the policy does not grant. */
	add_str(&q->endpoints[0].allowed_ips, &q->endpoints[0].nallowed_ips,
	    "192.168.0.1");
	CHECK(!os_policy_covers(p, q));
	os_strv_free(q->endpoints[0].allowed_ips, q->endpoints[0].nallowed_ips);
	q->endpoints[0].allowed_ips = NULL;
	q->endpoints[0].nallowed_ips = 0;
	/* Hostless: only by a hostless endpoint with the same addresses. */
	free(q->endpoints[0].host);
	q->endpoints[0].host = xstrdup("");
	q->endpoints[0].ports[0] = 8080;
	add_str(&q->endpoints[0].allowed_ips, &q->endpoints[0].nallowed_ips,
	    "10.0.0.0/8");
	CHECK(os_policy_covers(p, q));
	free(q->endpoints[0].allowed_ips[0]);
	q->endpoints[0].allowed_ips[0] = xstrdup("0.0.0.0/0");
	CHECK(!os_policy_covers(p, q));
	/* tls: skip is not what the policy does. */
	free(q->endpoints[0].host);
	q->endpoints[0].host = xstrdup("github.com");
	q->endpoints[0].ports[0] = 443;
	q->endpoints[0].nallowed_ips = 0;
	free(q->endpoints[0].allowed_ips[0]);
	q->endpoints[0].tls = OS_TLS_SKIP;
	CHECK(!os_policy_covers(p, q));
	q->endpoints[0].tls = OS_TLS_AUTO;
	CHECK(os_policy_covers(p, q));
	/* Nothing to cover is not "covered". */
	q->nbinaries = 0;
	CHECK(!os_policy_covers(p, q));
	q->nbinaries = 1;
	rule_free(q);
	os_policy_free(p);
}

static void
t_covers_l7(void)
{
	struct os_policy	*p;
	struct os_rule		*pr, *q;
	struct os_endpoint	*e, *qe;

	p = os_policy_default();
	pr = rule_new("gh");
	e = add_rest(pr, "api.github.com", 443, OS_ENFORCE_ENFORCE,
	    OS_ACCESS_READ_ONLY);
	e = add_rest(pr, "uploads.github.com", 443, OS_ENFORCE_ENFORCE,
	    OS_ACCESS_NONE);
	add_allow(e, "POST", "/repos/**");
	add_allow(e, "GET", "/user");
	add_bin(pr, "/usr/bin/gh", false);
	put(p, pr);
	pr = rule_new("l4");
	add_ep(pr, "example.com", 1, 443);
	add_bin(pr, "/usr/bin/curl", false);
	put(p, pr);
	os_policy_normalize(p);

	q = rule_new(NULL);
	qe = add_rest(q, "api.github.com", 443, OS_ENFORCE_ENFORCE,
	    OS_ACCESS_NONE);
	add_allow(qe, "get", "/repos/x/y");
	add_bin(q, "/usr/bin/gh", false);
	CHECK(os_policy_covers(p, q));                 /* read-only covers GET */
	add_allow(qe, "POST", "/repos/x/y/issues");
	CHECK(!os_policy_covers(p, q));                /* but not POST */
	os_l7_rule_clear(&qe->rules[--qe->nrules]);
	qe->access = OS_ACCESS_READ_ONLY;
	os_l7_rule_clear(&qe->rules[--qe->nrules]);
	CHECK(os_policy_covers(p, q));                 /* same preset */
	qe->access = OS_ACCESS_READ_WRITE;
	CHECK(!os_policy_covers(p, q));                /* wider preset */
	qe->access = OS_ACCESS_READ_ONLY;
	qe->enforcement = OS_ENFORCE_AUDIT;
	CHECK(!os_policy_covers(p, q));                /* audit lets all through */
	qe->enforcement = OS_ENFORCE_ENFORCE;
	qe->protocol = OS_PROTOCOL_NONE;
	qe->access = OS_ACCESS_NONE;
	CHECK(!os_policy_covers(p, q));                /* L4 wants more */

	/* Explicit rules: path globs. */
	free(qe->host);
	qe->host = xstrdup("uploads.github.com");
	qe->protocol = OS_PROTOCOL_REST;
	add_allow(qe, "POST", "/repos/*/issues");
	CHECK(os_policy_covers(p, q));                 /* under /repos/ */
	add_allow(qe, "GET", "/user");
	CHECK(os_policy_covers(p, q));
	add_allow(qe, "GET", "/user/keys");
	CHECK(!os_policy_covers(p, q));
	os_l7_rule_clear(&qe->rules[--qe->nrules]);
	add_allow(qe, "*", "/repos/a");
	CHECK(!os_policy_covers(p, q));                /* any method */
	os_l7_rule_clear(&qe->rules[--qe->nrules]);
	/* A deny rule in the policy the proposal does not have. */
	e = &os_policy_find_rule(p, "gh")->endpoints[1];
	add_l7(&e->deny_rules, &e->ndeny_rules, "POST", "/repos/*/issues");
	CHECK(!os_policy_covers(p, q));
	add_l7(&qe->deny_rules, &qe->ndeny_rules, "POST", "/repos/*/issues");
	CHECK(os_policy_covers(p, q));

	/* An L7 proposal on a plain L4 endpoint: already allowed. */
	free(qe->host);
	qe->host = xstrdup("example.com");
	free(q->binaries[0].path);
	q->binaries[0].path = xstrdup("/usr/bin/curl");
	CHECK(os_policy_covers(p, q));
	rule_free(q);
	os_policy_free(p);
}

/* Whatever compose added, the result covers. */
static void
t_covers_after_compose(void)
{
	struct os_policy	*base, *eff = NULL;
	struct os_diags		 d = OS_DIAGS_INIT;
	struct os_rule		*a, *b;
	struct chunk		 c[2];

	base = base_policy();
	a = rule_new(NULL);
	add_ep(a, "registry.npmjs.org", 1, 443);
	add_bin(a, "/usr/bin/node", true);
	b = rule_new(NULL);
	add_allow(add_rest(b, "api.github.com", 443, OS_ENFORCE_ENFORCE,
	    OS_ACCESS_NONE), "POST", "/repos/*/pulls");
	add_bin(b, "/usr/bin/gh", false);
	CHECK(!os_policy_covers(base, a));
	CHECK(!os_policy_covers(base, b));
	c[0] = (struct chunk){ "a", "npm", a, NULL };
	c[1] = (struct chunk){ "b", "github_api", b, NULL };
	CHECK_INT(compose(base, c, 2, &eff, &d), 0);
	CHECK_INT(d.n, 0);
	CHECK(os_policy_covers(eff, a));
	CHECK(os_policy_covers(eff, b));
	CHECK(os_policy_covers(eff, os_policy_find_rule(base, "github_api")));
	os_policy_free(eff);
	rule_free(a);
	rule_free(b);
	os_policy_free(base);
	os_diags_free(&d);
}

int
main(void)
{
	TAP_RUN(t_no_chunks);
	TAP_RUN(t_insert_new_rule);
	TAP_RUN(t_merge_existing);
	TAP_RUN(t_preset_expansion);
	TAP_RUN(t_supersede);
	TAP_RUN(t_undo_recompute);
	TAP_RUN(t_conflict);
	TAP_RUN(t_conflict_in_base);
	TAP_RUN(t_bad_chunks);
	TAP_RUN(t_static_untouched);
	TAP_RUN(t_advisor_preserved);
	TAP_RUN(t_yaml_effective);
	TAP_RUN(t_covers_l4);
	TAP_RUN(t_covers_l7);
	TAP_RUN(t_covers_after_compose);
	return tap_done();
}
