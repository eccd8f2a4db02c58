/*
 * Composing an effective policy from a base and approved chunks, and
 * covers(): whether a policy already allows everything a rule would.
 *
 * Composition is a pure function of its inputs (undo is recomposing
 * without the chunk), so nothing here depends on anything but the
 * arguments, and every chunk that makes it in leaves a policy that
 * validates. A chunk that cannot be added as it is (it would give a
 * host:port a second L7 contract, or it does not validate) is left out
 * whole and reported; nothing is guessed on the user's behalf.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "openshell.h"

/* ------------------------------------------------------------------------
 * Small helpers
 */

/* The per-endpoint normalisation of os_policy_normalize, for one rule. */
static void
rule_normalize(struct os_rule *r)
{
	struct os_policy	tmp;

	memset(&tmp, 0, sizeof tmp);
	tmp.rules = r;
	tmp.nrules = 1;
	os_policy_normalize(&tmp);
}

static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
host_eq(const char *a, const char *b)
{
	return strcasecmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static bool
strv_has(char *const *v, size_t n, const char *s)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (str_eq(v[i], s))
			return true;
	}
	return false;
}

static bool
query_eq(const struct os_query_matcher *a, const struct os_query_matcher *b)
{
	size_t	i;

	if (!str_eq(a->key, b->key) || a->any != b->any ||
	    a->nglobs != b->nglobs)
		return false;
	for (i = 0; i < a->nglobs; i++) {
		if (!str_eq(a->globs[i], b->globs[i]))
			return false;
	}
	return true;
}

static bool
l7_eq(const struct os_l7_rule *a, const struct os_l7_rule *b)
{
	size_t	i;

	if (!str_eq(a->method, b->method) || !str_eq(a->path, b->path) ||
	    a->nquery != b->nquery)
		return false;
	for (i = 0; i < a->nquery; i++) {
		if (!query_eq(&a->query[i], &b->query[i]))
			return false;
	}
	return true;
}

static bool
l7_has(const struct os_l7_rule *v, size_t n, const struct os_l7_rule *r)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (l7_eq(&v[i], r))
			return true;
	}
	return false;
}

/* Appends a copy of `r` unless an equal rule is already there. */
static void
l7_add_unique(struct os_l7_rule **v, size_t *n, const struct os_l7_rule *r)
{
	if (l7_has(*v, *n, r))
		return;
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	os_l7_rule_copy(&(*v)[*n], r);
	(*n)++;
}

/* An access preset as explicit rules (path "**"), in a fixed order. */
static size_t
preset_rules(enum os_access a, struct os_l7_rule *out, size_t max)
{
	static const char *const read_only[] = { "GET", "HEAD", "OPTIONS" };
	static const char *const read_write[] = {
		"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH",
	};
	static const char *const full[] = { "*" };
	const char *const	*m;
	size_t			 n, i;

	switch (a) {
	case OS_ACCESS_READ_ONLY:
		m = read_only;
		n = OS_NELEM(read_only);
		break;
	case OS_ACCESS_READ_WRITE:
		m = read_write;
		n = OS_NELEM(read_write);
		break;
	case OS_ACCESS_FULL:
		m = full;
		n = OS_NELEM(full);
		break;
	case OS_ACCESS_NONE:
	default:
		return 0;
	}
	for (i = 0; i < n && i < max; i++) {
		memset(&out[i], 0, sizeof out[i]);
		out[i].method = (char *)m[i];
		out[i].path = (char *)"**";
	}
	return i;
}

#define PRESET_MAX 6

/* ------------------------------------------------------------------------
 * L7 contracts: what the proxy does with a connection to a host:port.
 * Two endpoints for one host:port must agree on it.
 */
struct contract {
	enum os_protocol	protocol;
	enum os_enforcement	enforcement;  /* UNSET for L4 */
	bool			skip;         /* tls: skip (relayed opaquely) */
};

static struct contract
endpoint_contract(const struct os_endpoint *e)
{
	struct contract	c;

	c.protocol = e->protocol;
	if (e->protocol == OS_PROTOCOL_NONE)
		c.enforcement = OS_ENFORCE_UNSET;
	else
		c.enforcement = e->enforcement == OS_ENFORCE_AUDIT ?
		    OS_ENFORCE_AUDIT : OS_ENFORCE_ENFORCE;
	c.skip = e->tls == OS_TLS_SKIP;
	return c;
}

static bool
contract_eq(struct contract a, struct contract b)
{
	return a.protocol == b.protocol && a.enforcement == b.enforcement &&
	    a.skip == b.skip;
}

/* "'github_api' enforces L7 rest rules" */
static const char *
contract_held(struct contract c)
{
	if (c.protocol == OS_PROTOCOL_NONE)
		return c.skip ? _("allows L4 only with tls: skip") :
		    _("allows L4 only");
	if (c.enforcement == OS_ENFORCE_AUDIT)
		return c.skip ? _("audits L7 rest rules with tls: skip") :
		    _("audits L7 rest rules");
	return c.skip ? _("enforces L7 rest rules with tls: skip") :
	    _("enforces L7 rest rules");
}

/* "this chunk proposes L4 only" */
static const char *
contract_proposed(struct contract c)
{
	if (c.protocol == OS_PROTOCOL_NONE)
		return c.skip ? _("L4 only with tls: skip") : _("L4 only");
	if (c.enforcement == OS_ENFORCE_AUDIT)
		return c.skip ? _("audited L7 rest rules with tls: skip") :
		    _("audited L7 rest rules");
	return c.skip ? _("enforced L7 rest rules with tls: skip") :
	    _("enforced L7 rest rules");
}

static const char *
host_display(const char *host)
{
	return host != NULL && *host != '\0' ? host : _("(any host)");
}

/*
 * Would adding `cr` give some host:port a contract it does not have yet,
 * while it already has another? Conflicts among the policy's own
 * endpoints are not the chunk's doing and are ignored. Reports the first
 * conflict and returns true.
 */
static bool
chunk_conflicts(const struct os_policy *p, const struct os_rule *cr,
    const char *id, struct os_diags *conflicts)
{
	const struct os_endpoint	*ce, *e, *other;
	const struct os_rule		*other_rule;
	struct contract			 c;
	size_t				 i, j, k, r;
	uint16_t			 port;
	bool				 same;

	for (i = 0; i < cr->nendpoints; i++) {
		ce = &cr->endpoints[i];
		c = endpoint_contract(ce);
		for (k = 0; k < ce->nports; k++) {
			port = ce->ports[k];
			/* The chunk disagreeing with itself. */
			for (j = 0; j < i; j++) {
				e = &cr->endpoints[j];
				if (!host_eq(e->host, ce->host) ||
				    !os_endpoint_has_port(e, port) ||
				    contract_eq(endpoint_contract(e), c))
					continue;
				os_diags_add(conflicts, OS_DIAG_ERROR, NULL, 0, 0,
				    id, _("%s:%u would have two L7 contracts: "
				    "this chunk proposes both %s and %s"),
				    host_display(ce->host), (unsigned)port,
				    contract_proposed(endpoint_contract(e)),
				    contract_proposed(c));
				return true;
			}
			same = false;
			other = NULL;
			other_rule = NULL;
			for (r = 0; r < p->nrules && !same; r++) {
				for (j = 0; j < p->rules[r].nendpoints; j++) {
					e = &p->rules[r].endpoints[j];
					if (!host_eq(e->host, ce->host) ||
					    !os_endpoint_has_port(e, port))
						continue;
					if (contract_eq(endpoint_contract(e), c)) {
						same = true;
						break;
					}
					if (other == NULL) {
						other = e;
						other_rule = &p->rules[r];
					}
				}
			}
			if (same || other == NULL)
				continue;
			os_diags_add(conflicts, OS_DIAG_ERROR, NULL, 0, 0, id,
			    _("%s:%u would have two L7 contracts: '%s' %s, "
			    "this chunk proposes %s"), host_display(ce->host),
			    (unsigned)port, other_rule->key,
			    contract_held(endpoint_contract(other)),
			    contract_proposed(c));
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------------------
 * Merging a chunk's rule into the policy
 */

static int
port_cmp(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static void
ports_union(struct os_endpoint *dst, const struct os_endpoint *src)
{
	size_t	i, n;

	if (src->nports == 0)
		return;
	dst->ports = xreallocarray(dst->ports, dst->nports + src->nports,
	    sizeof *dst->ports);
	memcpy(dst->ports + dst->nports, src->ports,
	    src->nports * sizeof *src->ports);
	dst->nports += src->nports;
	qsort(dst->ports, dst->nports, sizeof *dst->ports, port_cmp);
	for (i = 1, n = 1; i < dst->nports; i++) {
		if (dst->ports[i] != dst->ports[n - 1])
			dst->ports[n++] = dst->ports[i];
	}
	dst->nports = n;
}

/* The allow rules of an endpoint's preset, appended to `dst`'s rules. */
static void
add_preset(struct os_endpoint *dst, enum os_access a)
{
	struct os_l7_rule	pr[PRESET_MAX];
	size_t			n, i;

	n = preset_rules(a, pr, PRESET_MAX);
	for (i = 0; i < n; i++)
		l7_add_unique(&dst->rules, &dst->nrules, &pr[i]);
}

/*
 * Merges `src` into `dst` (same host, same contract). Presets are
 * expanded before L7 rules are combined so that the result never has
 * both `access` and `rules`; two endpoints with the same preset and no
 * explicit rules keep it as it is.
 */
static void
endpoint_merge(struct os_endpoint *dst, const struct os_endpoint *src)
{
	enum os_access	a;
	size_t		i;

	ports_union(dst, src);
	for (i = 0; i < src->nallowed_ips; i++) {
		if (strv_has(dst->allowed_ips, dst->nallowed_ips,
		    src->allowed_ips[i]))
			continue;
		dst->allowed_ips = xreallocarray(dst->allowed_ips,
		    dst->nallowed_ips + 1, sizeof *dst->allowed_ips);
		dst->allowed_ips[dst->nallowed_ips++] =
		    xstrdup(src->allowed_ips[i]);
	}
	for (i = 0; i < src->ndeny_rules; i++)
		l7_add_unique(&dst->deny_rules, &dst->ndeny_rules,
		    &src->deny_rules[i]);
	if ((dst->access != OS_ACCESS_NONE || src->access != OS_ACCESS_NONE) &&
	    !(dst->access == src->access && dst->nrules == 0 &&
	    src->nrules == 0)) {
		a = dst->access;
		dst->access = OS_ACCESS_NONE;
		if (a != OS_ACCESS_NONE) {
			/* The preset's rules go first, then what was there. */
			struct os_l7_rule	*old = dst->rules;
			size_t			 nold = dst->nrules;

			dst->rules = NULL;
			dst->nrules = 0;
			add_preset(dst, a);
			for (i = 0; i < nold; i++) {
				l7_add_unique(&dst->rules, &dst->nrules, &old[i]);
				os_l7_rule_clear(&old[i]);
			}
			free(old);
		}
		add_preset(dst, src->access);
	}
	for (i = 0; i < src->nrules; i++)
		l7_add_unique(&dst->rules, &dst->nrules, &src->rules[i]);
	/* Provenance is never laundered away. */
	dst->advisor_proposed = dst->advisor_proposed || src->advisor_proposed;
}

/* The endpoint of `r` that `e` merges into: same host, same contract. */
static struct os_endpoint *
merge_target(struct os_rule *r, const struct os_endpoint *e)
{
	size_t	i;

	for (i = 0; i < r->nendpoints; i++) {
		if (host_eq(r->endpoints[i].host, e->host) &&
		    contract_eq(endpoint_contract(&r->endpoints[i]),
		    endpoint_contract(e)))
			return &r->endpoints[i];
	}
	return NULL;
}

static void
chunk_apply(struct os_policy *p, const struct os_rule *cr)
{
	struct os_rule		*r, copy;
	struct os_endpoint	*t;
	size_t			 i, j;
	bool			 have;

	if ((r = os_policy_find_rule(p, cr->key)) == NULL) {
		os_rule_copy(&copy, cr);
		os_policy_put_rule(p, &copy);
		return;
	}
	for (i = 0; i < cr->nbinaries; i++) {
		have = false;
		for (j = 0; j < r->nbinaries && !have; j++)
			have = str_eq(r->binaries[j].path, cr->binaries[i].path);
		if (have)
			continue;
		r->binaries = xreallocarray(r->binaries, r->nbinaries + 1,
		    sizeof *r->binaries);
		r->binaries[r->nbinaries].path = xstrdup(cr->binaries[i].path);
		r->binaries[r->nbinaries].advisor_proposed =
		    cr->binaries[i].advisor_proposed;
		r->nbinaries++;
	}
	for (i = 0; i < cr->nendpoints; i++) {
		if ((t = merge_target(r, &cr->endpoints[i])) != NULL) {
			endpoint_merge(t, &cr->endpoints[i]);
			continue;
		}
		r->endpoints = xreallocarray(r->endpoints, r->nendpoints + 1,
		    sizeof *r->endpoints);
		os_endpoint_copy(&r->endpoints[r->nendpoints++],
		    &cr->endpoints[i]);
	}
}

/* Is chunk i superseded by a later chunk (directly; chains follow)? */
static bool
superseded(const struct os_chunk_input *in, size_t n, size_t i)
{
	size_t	j;

	if (in[i].id == NULL)
		return false;
	for (j = i + 1; j < n; j++) {
		if (in[j].supersedes != NULL &&
		    strcmp(in[j].supersedes, in[i].id) == 0)
			return true;
	}
	return false;
}

static void
report_invalid(struct os_diags *conflicts, const char *id,
    const struct os_diags *vd)
{
	const struct os_diag	*g = NULL;
	size_t			 i;

	for (i = 0; i < vd->n; i++) {
		if (vd->v[i].level == OS_DIAG_ERROR) {
			g = &vd->v[i];
			break;
		}
	}
	if (g == NULL)
		return;
	if (vd->nerrors > 1)
		os_diags_add(conflicts, OS_DIAG_ERROR, NULL, 0, 0, id,
		    _("the policy would not validate with this chunk: %s%s%s "
		    "(and %zu more errors)"), g->field != NULL ? g->field : "",
		    g->field != NULL ? ": " : "", g->message, vd->nerrors - 1);
	else
		os_diags_add(conflicts, OS_DIAG_ERROR, NULL, 0, 0, id,
		    _("the policy would not validate with this chunk: %s%s%s"),
		    g->field != NULL ? g->field : "",
		    g->field != NULL ? ": " : "", g->message);
}

int
os_policy_compose(const struct os_policy *base,
    const struct os_chunk_input *in, size_t n, struct os_policy **out,
    struct os_diags *conflicts)
{
	struct os_policy	*p, *cand;
	struct os_rule		 cr;
	struct os_diags		 vd = OS_DIAGS_INIT;
	size_t			 i;

	*out = NULL;
	/* Every step must leave a valid policy, so the base must be one. */
	if (os_policy_validate(base, NULL, NULL, &vd) != 0) {
		for (i = 0; i < vd.n; i++)
			os_diags_add(conflicts, vd.v[i].level, vd.v[i].file,
			    vd.v[i].line, vd.v[i].col, vd.v[i].field, "%s",
			    vd.v[i].message);
		os_diags_free(&vd);
		return -EINVAL;
	}
	os_diags_free(&vd);
	p = os_policy_dup(base);
	for (i = 0; i < n; i++) {
		if (superseded(in, n, i))
			continue;
		if (in[i].rule == NULL) {
			os_diags_add(conflicts, OS_DIAG_ERROR, NULL, 0, 0, in[i].id,
			    "%s", _("the chunk has no rule; left out"));
			continue;
		}
		if (in[i].rule_name == NULL || *in[i].rule_name == '\0') {
			os_diags_add(conflicts, OS_DIAG_ERROR, NULL, 0, 0, in[i].id,
			    "%s", _("the chunk has no rule name; left out"));
			continue;
		}
		os_rule_copy(&cr, in[i].rule);
		free(cr.key);
		cr.key = xstrdup(in[i].rule_name);
		rule_normalize(&cr);
		if (chunk_conflicts(p, &cr, in[i].id, conflicts)) {
			os_rule_clear(&cr);
			continue;
		}
		cand = os_policy_dup(p);
		chunk_apply(cand, &cr);
		os_rule_clear(&cr);
		if (os_policy_validate(cand, NULL, NULL, &vd) != 0) {
			report_invalid(conflicts, in[i].id, &vd);
			os_diags_free(&vd);
			os_policy_free(cand);
			continue;
		}
		os_diags_free(&vd);
		os_policy_free(p);
		p = cand;
	}
	*out = p;
	return 0;
}

/* ------------------------------------------------------------------------
 * covers(): conservative; "no" whenever it cannot be sure.
 */

/* Does glob `pat` match at least everything glob-or-literal `s` does? */
static bool
pattern_covers(const char *pat, const char *s, char delim)
{
	size_t	len;

	if (pat == NULL || s == NULL)
		return false;
	if (strcmp(pat, s) == 0)
		return true;
	if (!os_glob_has_magic(s))
		return os_glob_has_magic(pat) && os_glob_match(pat, s, delim);
	/* A pattern only covers another through a literal prefix and "**". */
	if (strcmp(pat, "**") == 0)
		return true;
	len = strlen(pat);
	if (len >= 3 && strcmp(pat + len - 3, "/**") == 0) {
		char	*prefix = xstrndup(pat, len - 2);   /* keeps the '/' */
		bool	 ok;

		ok = !os_glob_has_magic(prefix) &&
		    strncmp(s, prefix, strlen(prefix)) == 0;
		free(prefix);
		return ok;
	}
	return false;
}

static bool
host_covers(const struct os_endpoint *pe, const struct os_endpoint *ce)
{
	const char	*ph = pe->host != NULL ? pe->host : "";
	const char	*ch = ce->host != NULL ? ce->host : "";
	size_t		 i;
	char		*lower;
	bool		 ok;

	/* SSRF overrides the proposal asks for must be there already. */
	for (i = 0; i < ce->nallowed_ips; i++) {
		if (!strv_has(pe->allowed_ips, pe->nallowed_ips,
		    ce->allowed_ips[i]))
			return false;
	}
	if (*ch == '\0' || *ph == '\0')
		return *ch == '\0' && *ph == '\0';
	if (strcasecmp(ph, ch) == 0)
		return true;
	if (!os_glob_has_magic(ph) || os_glob_has_magic(ch))
		return false;
	lower = xstrdup(ch);
	os_str_lower(lower);
	ok = os_glob_match(ph, lower, '.');
	free(lower);
	return ok;
}

static bool
binary_covers(const struct os_rule *r, const char *path)
{
	size_t	i;

	for (i = 0; i < r->nbinaries; i++) {
		if (pattern_covers(r->binaries[i].path, path, '/'))
			return true;
	}
	return false;
}

static bool
query_covers(const struct os_l7_rule *pol, const struct os_l7_rule *prop)
{
	const struct os_query_matcher	*pq, *q;
	size_t				 i, j, k, g;
	bool				 ok;

	/* Every matcher of the policy rule must hold for whatever the
	 * proposed rule lets through. */
	for (i = 0; i < pol->nquery; i++) {
		pq = &pol->query[i];
		q = NULL;
		for (j = 0; j < prop->nquery; j++) {
			if (str_eq(prop->query[j].key, pq->key))
				q = &prop->query[j];
		}
		if (q == NULL || q->nglobs == 0)
			return false;
		for (k = 0; k < q->nglobs; k++) {
			ok = false;
			for (g = 0; g < pq->nglobs && !ok; g++)
				ok = pattern_covers(pq->globs[g], q->globs[k], '/');
			if (!ok)
				return false;
		}
	}
	return true;
}

static bool
l7_covers(const struct os_l7_rule *pol, const struct os_l7_rule *prop)
{
	if (pol->method == NULL || prop->method == NULL)
		return false;
	if (strcmp(pol->method, "*") != 0 &&
	    strcasecmp(pol->method, prop->method) != 0)
		return false;
	if (pol->path == NULL || prop->path == NULL)
		return false;
	if (strcmp(pol->path, "**") != 0 &&
	    !pattern_covers(pol->path, prop->path, '/'))
		return false;
	return query_covers(pol, prop);
}

/* Explicit allow rules of an endpoint, its preset expanded; caller frees
 * the array (not the strings, which belong to the endpoint or are static). */
static struct os_l7_rule *
allow_rules(const struct os_endpoint *e, size_t *n)
{
	struct os_l7_rule	*v;

	v = xcalloc(e->nrules + PRESET_MAX, sizeof *v);
	*n = preset_rules(e->access, v, PRESET_MAX);
	if (e->nrules != 0)
		memcpy(v + *n, e->rules, e->nrules * sizeof *v);
	*n += e->nrules;
	return v;
}

static bool
rule_is_everything(const struct os_l7_rule *r)
{
	return str_eq(r->method, "*") && str_eq(r->path, "**") &&
	    r->nquery == 0;
}

/* Lets every HTTP request through at L7 (ignoring deny rules). */
static bool
endpoint_allows_all(const struct os_endpoint *e)
{
	size_t	i;

	if (e->enforcement == OS_ENFORCE_AUDIT || e->access == OS_ACCESS_FULL)
		return true;
	for (i = 0; i < e->nrules; i++) {
		if (rule_is_everything(&e->rules[i]))
			return true;
	}
	return false;
}

struct cover_match {
	const struct os_rule		*rule;
	const struct os_endpoint	*ep;
};

/* One (binary, endpoint, port) of the proposal. */
static bool
covers_one(const struct os_policy *p, const char *binary,
    const struct os_endpoint *ce, uint16_t port)
{
	struct cover_match	*m;
	struct os_l7_rule	*want;
	size_t			 nm = 0, nwant, i, j, k;
	bool			 ok = false, any_l7 = false, found;

	m = xcalloc(1, sizeof *m);
	for (i = 0; i < p->nrules; i++) {
		if (!binary_covers(&p->rules[i], binary))
			continue;
		for (j = 0; j < p->rules[i].nendpoints; j++) {
			const struct os_endpoint *e = &p->rules[i].endpoints[j];

			if (!os_endpoint_has_port(e, port) || !host_covers(e, ce))
				continue;
			m = xreallocarray(m, nm + 1, sizeof *m);
			m[nm].rule = &p->rules[i];
			m[nm].ep = e;
			nm++;
			if (e->protocol != OS_PROTOCOL_NONE)
				any_l7 = true;
		}
	}
	if (nm == 0)
		goto out;
	if (!any_l7) {
		/* Plain L4 already lets everything through; for an L4
		 * proposal the TLS handling must be the same too. */
		if (ce->protocol != OS_PROTOCOL_NONE) {
			ok = true;
			goto out;
		}
		for (i = 0; i < nm && !ok; i++)
			ok = (m[i].ep->tls == OS_TLS_SKIP) ==
			    (ce->tls == OS_TLS_SKIP);
		goto out;
	}
	/* Some match inspects the connection: L7 rules apply. */
	if (ce->protocol == OS_PROTOCOL_NONE)
		goto out;
	/* A deny rule anywhere the request could land must be one the
	 * proposal has too. */
	for (i = 0; i < nm; i++) {
		for (j = 0; j < m[i].ep->ndeny_rules; j++) {
			if (!l7_has(ce->deny_rules, ce->ndeny_rules,
			    &m[i].ep->deny_rules[j]))
				goto out;
		}
	}
	if (ce->enforcement == OS_ENFORCE_AUDIT ||
	    (endpoint_allows_all(ce) && ce->ndeny_rules == 0)) {
		for (i = 0; i < nm && !ok; i++)
			ok = m[i].ep->protocol == OS_PROTOCOL_REST &&
			    endpoint_allows_all(m[i].ep);
		goto out;
	}
	want = allow_rules(ce, &nwant);
	ok = nwant != 0;
	for (k = 0; k < nwant && ok; k++) {
		found = false;
		for (i = 0; i < nm && !found; i++) {
			struct os_l7_rule	*have;
			size_t			 nhave;

			if (m[i].ep->protocol != OS_PROTOCOL_REST)
				continue;
			if (m[i].ep->enforcement == OS_ENFORCE_AUDIT) {
				found = true;
				break;
			}
			have = allow_rules(m[i].ep, &nhave);
			for (j = 0; j < nhave && !found; j++)
				found = l7_covers(&have[j], &want[k]);
			free(have);
		}
		ok = found;
	}
	free(want);
out:
	free(m);
	return ok;
}

bool
os_policy_covers(const struct os_policy *p, const struct os_rule *rule)
{
	struct os_rule	r;
	size_t		b, e, k;
	bool		ok = true;

	if (p == NULL || rule == NULL || rule->nbinaries == 0 ||
	    rule->nendpoints == 0)
		return false;
	for (e = 0; e < rule->nendpoints; e++) {
		if (rule->endpoints[e].nports == 0)
			return false;
	}
	/* Compare normalised values (hosts, methods) with the policy's. */
	os_rule_copy(&r, rule);
	if (r.key == NULL)
		r.key = xstrdup("");
	rule_normalize(&r);
	for (b = 0; b < r.nbinaries && ok; b++) {
		for (e = 0; e < r.nendpoints && ok; e++) {
			for (k = 0; k < r.endpoints[e].nports && ok; k++)
				ok = covers_one(p, r.binaries[b].path,
				    &r.endpoints[e], r.endpoints[e].ports[k]);
		}
	}
	os_rule_clear(&r);
	return ok;
}
