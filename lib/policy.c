/*
 * The policy model: construction, deep copies, equality and
 * normalisation. Loading, emitting and checking live in their own files.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "openshell.h"

struct os_policy *
os_policy_new(void)
{
	struct os_policy	*p;

	p = xcalloc(1, sizeof *p);
	p->version = 1;
	return p;
}

static void
query_clear(struct os_query_matcher *q, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(q[i].key);
		os_strv_free(q[i].globs, q[i].nglobs);
	}
	free(q);
}

void
os_l7_rule_clear(struct os_l7_rule *r)
{
	free(r->method);
	free(r->path);
	query_clear(r->query, r->nquery);
	memset(r, 0, sizeof *r);
}

static void
l7_rules_free(struct os_l7_rule *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		os_l7_rule_clear(&v[i]);
	free(v);
}

void
os_endpoint_clear(struct os_endpoint *e)
{
	free(e->host);
	free(e->ports);
	l7_rules_free(e->rules, e->nrules);
	l7_rules_free(e->deny_rules, e->ndeny_rules);
	os_strv_free(e->allowed_ips, e->nallowed_ips);
	memset(e, 0, sizeof *e);
}

void
os_rule_clear(struct os_rule *r)
{
	size_t	i;

	free(r->key);
	free(r->name);
	for (i = 0; i < r->nendpoints; i++)
		os_endpoint_clear(&r->endpoints[i]);
	free(r->endpoints);
	for (i = 0; i < r->nbinaries; i++)
		free(r->binaries[i].path);
	free(r->binaries);
	memset(r, 0, sizeof *r);
}

void
os_policy_free(struct os_policy *p)
{
	size_t	i;

	if (p == NULL)
		return;
	os_strv_free(p->filesystem.read_only, p->filesystem.nread_only);
	os_strv_free(p->filesystem.read_write, p->filesystem.nread_write);
	free(p->run_as_user);
	free(p->run_as_group);
	for (i = 0; i < p->nrules; i++)
		os_rule_clear(&p->rules[i]);
	free(p->rules);
	free(p);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void
os_l7_rule_copy(struct os_l7_rule *dst, const struct os_l7_rule *src)
{
	size_t	i;

	memset(dst, 0, sizeof *dst);
	dst->method = dup_or_null(src->method);
	dst->path = dup_or_null(src->path);
	if (src->nquery == 0)
		return;
	dst->query = xcalloc(src->nquery, sizeof *dst->query);
	dst->nquery = src->nquery;
	for (i = 0; i < src->nquery; i++) {
		dst->query[i].key = xstrdup(src->query[i].key);
		dst->query[i].globs = os_strv_dup(src->query[i].globs,
		    src->query[i].nglobs);
		dst->query[i].nglobs = src->query[i].nglobs;
		dst->query[i].any = src->query[i].any;
	}
}

static struct os_l7_rule *
l7_rules_dup(const struct os_l7_rule *v, size_t n)
{
	struct os_l7_rule	*out;
	size_t			 i;

	if (n == 0)
		return NULL;
	out = xcalloc(n, sizeof *out);
	for (i = 0; i < n; i++)
		os_l7_rule_copy(&out[i], &v[i]);
	return out;
}

void
os_endpoint_copy(struct os_endpoint *dst, const struct os_endpoint *src)
{
	*dst = *src;
	dst->host = dup_or_null(src->host);
	dst->ports = NULL;
	if (src->nports != 0) {
		dst->ports = xreallocarray(NULL, src->nports, sizeof *dst->ports);
		memcpy(dst->ports, src->ports, src->nports * sizeof *dst->ports);
	}
	dst->rules = l7_rules_dup(src->rules, src->nrules);
	dst->deny_rules = l7_rules_dup(src->deny_rules, src->ndeny_rules);
	dst->allowed_ips = os_strv_dup(src->allowed_ips, src->nallowed_ips);
}

void
os_rule_copy(struct os_rule *dst, const struct os_rule *src)
{
	size_t	i;

	memset(dst, 0, sizeof *dst);
	dst->key = dup_or_null(src->key);
	dst->name = dup_or_null(src->name);
	if (src->nendpoints != 0) {
		dst->endpoints = xcalloc(src->nendpoints, sizeof *dst->endpoints);
		for (i = 0; i < src->nendpoints; i++)
			os_endpoint_copy(&dst->endpoints[i], &src->endpoints[i]);
	}
	dst->nendpoints = src->nendpoints;
	if (src->nbinaries != 0) {
		dst->binaries = xcalloc(src->nbinaries, sizeof *dst->binaries);
		for (i = 0; i < src->nbinaries; i++) {
			dst->binaries[i].path = dup_or_null(src->binaries[i].path);
			dst->binaries[i].advisor_proposed =
			    src->binaries[i].advisor_proposed;
		}
	}
	dst->nbinaries = src->nbinaries;
}

struct os_policy *
os_policy_dup(const struct os_policy *src)
{
	struct os_policy	*p;
	size_t			 i;

	p = os_policy_new();
	p->version = src->version;
	p->has_filesystem = src->has_filesystem;
	p->filesystem.include_workdir = src->filesystem.include_workdir;
	p->filesystem.read_only = os_strv_dup(src->filesystem.read_only,
	    src->filesystem.nread_only);
	p->filesystem.nread_only = src->filesystem.nread_only;
	p->filesystem.read_write = os_strv_dup(src->filesystem.read_write,
	    src->filesystem.nread_write);
	p->filesystem.nread_write = src->filesystem.nread_write;
	p->has_landlock = src->has_landlock;
	p->landlock = src->landlock;
	p->has_process = src->has_process;
	p->run_as_user = dup_or_null(src->run_as_user);
	p->run_as_group = dup_or_null(src->run_as_group);
	if (src->nrules != 0) {
		p->rules = xcalloc(src->nrules, sizeof *p->rules);
		for (i = 0; i < src->nrules; i++)
			os_rule_copy(&p->rules[i], &src->rules[i]);
	}
	p->nrules = src->nrules;
	return p;
}

static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
strv_eq(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t	i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++) {
		if (!str_eq(a[i], b[i]))
			return false;
	}
	return true;
}

static bool
l7_rules_eq(const struct os_l7_rule *a, size_t na, const struct os_l7_rule *b,
    size_t nb)
{
	size_t	i, j;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++) {
		if (!str_eq(a[i].method, b[i].method) ||
		    !str_eq(a[i].path, b[i].path) ||
		    a[i].nquery != b[i].nquery)
			return false;
		for (j = 0; j < a[i].nquery; j++) {
			if (!str_eq(a[i].query[j].key, b[i].query[j].key) ||
			    a[i].query[j].any != b[i].query[j].any ||
			    !strv_eq(a[i].query[j].globs, a[i].query[j].nglobs,
			    b[i].query[j].globs, b[i].query[j].nglobs))
				return false;
		}
	}
	return true;
}

static bool
endpoint_eq(const struct os_endpoint *a, const struct os_endpoint *b)
{
	return str_eq(a->host, b->host) && a->nports == b->nports &&
	    (a->nports == 0 ||
	    memcmp(a->ports, b->ports, a->nports * sizeof *a->ports) == 0) &&
	    a->protocol == b->protocol && a->tls == b->tls &&
	    a->enforcement == b->enforcement && a->access == b->access &&
	    l7_rules_eq(a->rules, a->nrules, b->rules, b->nrules) &&
	    l7_rules_eq(a->deny_rules, a->ndeny_rules, b->deny_rules,
	    b->ndeny_rules) &&
	    strv_eq(a->allowed_ips, a->nallowed_ips, b->allowed_ips,
	    b->nallowed_ips) &&
	    a->advisor_proposed == b->advisor_proposed;
}

static bool
rule_eq(const struct os_rule *a, const struct os_rule *b)
{
	size_t	i;

	if (!str_eq(a->key, b->key) || !str_eq(a->name, b->name) ||
	    a->nendpoints != b->nendpoints || a->nbinaries != b->nbinaries)
		return false;
	for (i = 0; i < a->nendpoints; i++) {
		if (!endpoint_eq(&a->endpoints[i], &b->endpoints[i]))
			return false;
	}
	for (i = 0; i < a->nbinaries; i++) {
		if (!str_eq(a->binaries[i].path, b->binaries[i].path) ||
		    a->binaries[i].advisor_proposed !=
		    b->binaries[i].advisor_proposed)
			return false;
	}
	return true;
}

bool
os_policy_equal(const struct os_policy *a, const struct os_policy *b)
{
	size_t	i;

	if (a->version != b->version ||
	    a->has_filesystem != b->has_filesystem ||
	    a->has_landlock != b->has_landlock ||
	    a->has_process != b->has_process || a->nrules != b->nrules)
		return false;
	if (a->has_filesystem &&
	    (a->filesystem.include_workdir != b->filesystem.include_workdir ||
	    !strv_eq(a->filesystem.read_only, a->filesystem.nread_only,
	    b->filesystem.read_only, b->filesystem.nread_only) ||
	    !strv_eq(a->filesystem.read_write, a->filesystem.nread_write,
	    b->filesystem.read_write, b->filesystem.nread_write)))
		return false;
	if (a->has_landlock && a->landlock != b->landlock)
		return false;
	if (a->has_process && (!str_eq(a->run_as_user, b->run_as_user) ||
	    !str_eq(a->run_as_group, b->run_as_group)))
		return false;
	for (i = 0; i < a->nrules; i++) {
		if (!rule_eq(&a->rules[i], &b->rules[i]))
			return false;
	}
	return true;
}

struct os_policy *
os_policy_default(void)
{
	static const char *const ro[] = {
		"/usr", "/lib", "/proc", "/dev/urandom", "/app", "/etc", "/var/log",
	};
	static const char *const rw[] = { "/sandbox", "/tmp", "/dev/null" };
	struct os_policy	*p;
	size_t			 i;

	p = os_policy_new();
	p->has_filesystem = true;
	p->filesystem.include_workdir = true;
	p->filesystem.read_only = xcalloc(OS_NELEM(ro), sizeof (char *));
	for (i = 0; i < OS_NELEM(ro); i++)
		p->filesystem.read_only[i] = xstrdup(ro[i]);
	p->filesystem.nread_only = OS_NELEM(ro);
	p->filesystem.read_write = xcalloc(OS_NELEM(rw), sizeof (char *));
	for (i = 0; i < OS_NELEM(rw); i++)
		p->filesystem.read_write[i] = xstrdup(rw[i]);
	p->filesystem.nread_write = OS_NELEM(rw);
	p->has_landlock = true;
	p->landlock = OS_LANDLOCK_BEST_EFFORT;
	p->has_process = true;
	p->run_as_user = xstrdup("sandbox");
	p->run_as_group = xstrdup("sandbox");
	return p;
}

const char *
os_rule_display_name(const struct os_rule *r)
{
	if (r->name != NULL && *r->name != '\0')
		return r->name;
	return r->key != NULL ? r->key : "";
}

static int
rule_cmp(const void *a, const void *b)
{
	const struct os_rule	*ra = a, *rb = b;

	return strcmp(ra->key, rb->key);
}

struct os_rule *
os_policy_find_rule(const struct os_policy *p, const char *key)
{
	struct os_rule	k;

	if (p->nrules == 0)
		return NULL;
	memset(&k, 0, sizeof k);
	k.key = (char *)key;
	return bsearch(&k, p->rules, p->nrules, sizeof *p->rules, rule_cmp);
}

void
os_policy_put_rule(struct os_policy *p, struct os_rule *rule)
{
	struct os_rule	*old;
	size_t		 i;

	if ((old = os_policy_find_rule(p, rule->key)) != NULL) {
		os_rule_clear(old);
		*old = *rule;
		memset(rule, 0, sizeof *rule);
		return;
	}
	p->rules = xreallocarray(p->rules, p->nrules + 1, sizeof *p->rules);
	for (i = p->nrules; i > 0; i--) {
		if (strcmp(p->rules[i - 1].key, rule->key) < 0)
			break;
		p->rules[i] = p->rules[i - 1];
	}
	p->rules[i] = *rule;
	p->nrules++;
	memset(rule, 0, sizeof *rule);
}

static int
port_cmp(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static int
query_cmp(const void *a, const void *b)
{
	const struct os_query_matcher	*qa = a, *qb = b;

	return strcmp(qa->key, qb->key);
}

/* Methods are case-insensitive: upper-case them. Query matchers are a map:
 * sort them by key, so order never changes the canonical form or hash. */
static void
l7_rules_normalize(struct os_l7_rule *v, size_t n)
{
	size_t	 i;
	char	*m;

	for (i = 0; i < n; i++) {
		for (m = v[i].method; m != NULL && *m != '\0'; m++)
			*m = (char)toupper((unsigned char)*m);
		if (v[i].nquery > 1)
			qsort(v[i].query, v[i].nquery, sizeof *v[i].query, query_cmp);
	}
}

static void
endpoint_normalize(struct os_endpoint *e)
{
	size_t	i, n;

	if (e->host != NULL)
		os_str_lower(e->host);
	if (e->nports > 1) {
		qsort(e->ports, e->nports, sizeof *e->ports, port_cmp);
		for (i = 1, n = 1; i < e->nports; i++) {
			if (e->ports[i] != e->ports[n - 1])
				e->ports[n++] = e->ports[i];
		}
		e->nports = n;
	}
	if (e->protocol != OS_PROTOCOL_NONE &&
	    e->enforcement == OS_ENFORCE_UNSET)
		e->enforcement = OS_ENFORCE_ENFORCE;
	l7_rules_normalize(e->rules, e->nrules);
	l7_rules_normalize(e->deny_rules, e->ndeny_rules);
}

void
os_policy_normalize(struct os_policy *p)
{
	size_t	i, j;

	if (p->nrules > 1)
		qsort(p->rules, p->nrules, sizeof *p->rules, rule_cmp);
	for (i = 0; i < p->nrules; i++) {
		for (j = 0; j < p->rules[i].nendpoints; j++)
			endpoint_normalize(&p->rules[i].endpoints[j]);
	}
}

bool
os_endpoint_has_port(const struct os_endpoint *e, uint16_t port)
{
	size_t	i;

	for (i = 0; i < e->nports; i++) {
		if (e->ports[i] == port)
			return true;
	}
	return false;
}

bool
os_endpoint_is_wildcard(const struct os_endpoint *e)
{
	return e->host != NULL && strchr(e->host, '*') != NULL;
}

const char *
os_protocol_name(enum os_protocol p)
{
	return p == OS_PROTOCOL_REST ? "rest" : "";
}

const char *
os_tls_name(enum os_tls t)
{
	switch (t) {
	case OS_TLS_TERMINATE:
		return "terminate";
	case OS_TLS_SKIP:
		return "skip";
	case OS_TLS_AUTO:
		break;
	}
	return "";
}

const char *
os_enforcement_name(enum os_enforcement e)
{
	switch (e) {
	case OS_ENFORCE_ENFORCE:
		return "enforce";
	case OS_ENFORCE_AUDIT:
		return "audit";
	case OS_ENFORCE_UNSET:
		break;
	}
	return "";
}

const char *
os_access_name(enum os_access a)
{
	switch (a) {
	case OS_ACCESS_READ_ONLY:
		return "read-only";
	case OS_ACCESS_READ_WRITE:
		return "read-write";
	case OS_ACCESS_FULL:
		return "full";
	case OS_ACCESS_NONE:
		break;
	}
	return "";
}
