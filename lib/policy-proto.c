/*
 * Conversion between the policy model and its protobuf-c messages
 * (proto/sandbox.proto).
 *
 * to_proto builds a tree of its own: every message comes from xmalloc
 * and is set up with its *__INIT macro, every non-empty string is a copy,
 * empty strings point at protobuf_c_empty_string (as unpacked messages
 * do). os_pb_*_free mirrors exactly that; a tree from
 * protobuf_c_message_unpack is freed with protobuf_c_message_free_unpacked
 * instead, and the two must never be mixed.
 *
 * Enums travel as strings; from_proto turns an unknown one into a
 * diagnostic named like the YAML field, so a bad message reads the same
 * as a bad file.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "os-rpc.h"

typedef Openshell__Sandbox__V1__SandboxPolicy__NetworkPoliciesEntry OsPbRuleEntry;
typedef Openshell__Sandbox__V1__FilesystemPolicy	OsPbFs;
typedef Openshell__Sandbox__V1__LandlockPolicy		OsPbLandlock;
typedef Openshell__Sandbox__V1__ProcessPolicy		OsPbProcess;
typedef Openshell__Sandbox__V1__NetworkEndpoint		OsPbEndpoint;
typedef Openshell__Sandbox__V1__NetworkBinary		OsPbBinary;
typedef Openshell__Sandbox__V1__L7Rule			OsPbL7Rule;
typedef Openshell__Sandbox__V1__L7Allow			OsPbL7Allow;
typedef Openshell__Sandbox__V1__L7DenyRule		OsPbL7Deny;
typedef Openshell__Sandbox__V1__L7QueryMatcher		OsPbQuery;
typedef Openshell__Sandbox__V1__L7Allow__QueryEntry	OsPbAllowQueryEntry;
typedef Openshell__Sandbox__V1__L7DenyRule__QueryEntry	OsPbDenyQueryEntry;

/* ------------------------------------------------------------------------
 * Strings
 */

/* A string field of a tree we own: "" shares the protobuf-c empty string. */
static char *
pb_str(const char *s)
{
	if (s == NULL || *s == '\0')
		return (char *)protobuf_c_empty_string;
	return xstrdup(s);
}

static void
pb_str_free(char *s)
{
	if (s != NULL && s != protobuf_c_empty_string)
		free(s);
}

static char **
pb_strv(char *const *v, size_t n)
{
	char	**out;
	size_t	  i;

	if (n == 0)
		return NULL;
	out = xcalloc(n, sizeof *out);
	for (i = 0; i < n; i++)
		out[i] = pb_str(v[i]);
	return out;
}

static void
pb_strv_free(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		pb_str_free(v[i]);
	free(v);
}

/* Wire strings are never NULL once unpacked, but built ones may be. */
static const char *
nz(const char *s)
{
	return s != NULL ? s : "";
}

/* Proto3 has no presence for strings: "" is "not set". */
static char *
opt_str(const char *s)
{
	return s != NULL && *s != '\0' ? xstrdup(s) : NULL;
}

static char **
strv_from_pb(char *const *v, size_t n)
{
	char	**out;
	size_t	  i;

	if (n == 0)
		return NULL;
	out = xcalloc(n, sizeof *out);
	for (i = 0; i < n; i++)
		out[i] = xstrdup(nz(v[i]));
	return out;
}

/* ------------------------------------------------------------------------
 * Model -> proto
 */

static int
query_cmp(const void *a, const void *b)
{
	const struct os_query_matcher *const *qa = a, *const *qb = b;

	return strcmp(nz((*qa)->key), nz((*qb)->key));
}

/* Query matchers in key order, as map entries should be. */
static const struct os_query_matcher **
query_sorted(const struct os_query_matcher *q, size_t n)
{
	const struct os_query_matcher	**v;
	size_t				  i;

	v = xcalloc(n, sizeof *v);
	for (i = 0; i < n; i++)
		v[i] = &q[i];
	qsort(v, n, sizeof *v, query_cmp);
	return v;
}

static OsPbQuery *
query_to_pb(const struct os_query_matcher *q)
{
	OsPbQuery	*m;

	m = xmalloc(sizeof *m);
	openshell__sandbox__v1__l7_query_matcher__init(m);
	if (!q->any && q->nglobs == 1) {
		m->glob = pb_str(q->globs[0]);
	} else {
		m->any = pb_strv(q->globs, q->nglobs);
		m->n_any = q->nglobs;
	}
	return m;
}

static void
query_pb_free(OsPbQuery *m)
{
	if (m == NULL)
		return;
	pb_str_free(m->glob);
	pb_strv_free(m->any, m->n_any);
	free(m);
}

static OsPbL7Allow *
allow_to_pb(const struct os_l7_rule *r)
{
	const struct os_query_matcher	**q;
	OsPbL7Allow			 *m;
	size_t				  i;

	m = xmalloc(sizeof *m);
	openshell__sandbox__v1__l7_allow__init(m);
	m->method = pb_str(r->method);
	m->path = pb_str(r->path);
	if (r->nquery != 0) {
		q = query_sorted(r->query, r->nquery);
		m->query = xcalloc(r->nquery, sizeof *m->query);
		m->n_query = r->nquery;
		for (i = 0; i < r->nquery; i++) {
			m->query[i] = xmalloc(sizeof *m->query[i]);
			openshell__sandbox__v1__l7_allow__query_entry__init(
			    m->query[i]);
			m->query[i]->key = pb_str(q[i]->key);
			m->query[i]->value = query_to_pb(q[i]);
		}
		free(q);
	}
	return m;
}

static void
allow_pb_free(OsPbL7Allow *m)
{
	size_t	i;

	if (m == NULL)
		return;
	pb_str_free(m->method);
	pb_str_free(m->path);
	for (i = 0; i < m->n_query; i++) {
		pb_str_free(m->query[i]->key);
		query_pb_free(m->query[i]->value);
		free(m->query[i]);
	}
	free(m->query);
	free(m);
}

static OsPbL7Deny *
deny_to_pb(const struct os_l7_rule *r)
{
	const struct os_query_matcher	**q;
	OsPbL7Deny			 *m;
	size_t				  i;

	m = xmalloc(sizeof *m);
	openshell__sandbox__v1__l7_deny_rule__init(m);
	m->method = pb_str(r->method);
	m->path = pb_str(r->path);
	if (r->nquery != 0) {
		q = query_sorted(r->query, r->nquery);
		m->query = xcalloc(r->nquery, sizeof *m->query);
		m->n_query = r->nquery;
		for (i = 0; i < r->nquery; i++) {
			m->query[i] = xmalloc(sizeof *m->query[i]);
			openshell__sandbox__v1__l7_deny_rule__query_entry__init(
			    m->query[i]);
			m->query[i]->key = pb_str(q[i]->key);
			m->query[i]->value = query_to_pb(q[i]);
		}
		free(q);
	}
	return m;
}

static void
deny_pb_free(OsPbL7Deny *m)
{
	size_t	i;

	if (m == NULL)
		return;
	pb_str_free(m->method);
	pb_str_free(m->path);
	for (i = 0; i < m->n_query; i++) {
		pb_str_free(m->query[i]->key);
		query_pb_free(m->query[i]->value);
		free(m->query[i]);
	}
	free(m->query);
	free(m);
}

static OsPbEndpoint *
endpoint_to_pb(const struct os_endpoint *e)
{
	OsPbEndpoint	*m;
	size_t		 i;

	m = xmalloc(sizeof *m);
	openshell__sandbox__v1__network_endpoint__init(m);
	m->host = pb_str(e->host);
	/* `ports` always; `port` too when there is one, for readers that
	 * only look at it. */
	if (e->nports != 0) {
		m->ports = xcalloc(e->nports, sizeof *m->ports);
		m->n_ports = e->nports;
		for (i = 0; i < e->nports; i++)
			m->ports[i] = e->ports[i];
		if (e->nports == 1)
			m->port = e->ports[0];
	}
	m->protocol = pb_str(os_protocol_name(e->protocol));
	m->tls = pb_str(os_tls_name(e->tls));
	m->enforcement = pb_str(os_enforcement_name(e->enforcement));
	m->access = pb_str(os_access_name(e->access));
	if (e->nrules != 0) {
		m->rules = xcalloc(e->nrules, sizeof *m->rules);
		m->n_rules = e->nrules;
		for (i = 0; i < e->nrules; i++) {
			m->rules[i] = xmalloc(sizeof *m->rules[i]);
			openshell__sandbox__v1__l7_rule__init(m->rules[i]);
			m->rules[i]->allow = allow_to_pb(&e->rules[i]);
		}
	}
	if (e->ndeny_rules != 0) {
		m->deny_rules = xcalloc(e->ndeny_rules, sizeof *m->deny_rules);
		m->n_deny_rules = e->ndeny_rules;
		for (i = 0; i < e->ndeny_rules; i++)
			m->deny_rules[i] = deny_to_pb(&e->deny_rules[i]);
	}
	m->allowed_ips = pb_strv(e->allowed_ips, e->nallowed_ips);
	m->n_allowed_ips = e->nallowed_ips;
	m->advisor_proposed = e->advisor_proposed;
	return m;
}

static void
endpoint_pb_free(OsPbEndpoint *m)
{
	size_t	i;

	if (m == NULL)
		return;
	pb_str_free(m->host);
	free(m->ports);
	pb_str_free(m->protocol);
	pb_str_free(m->tls);
	pb_str_free(m->enforcement);
	pb_str_free(m->access);
	for (i = 0; i < m->n_rules; i++) {
		allow_pb_free(m->rules[i]->allow);
		free(m->rules[i]);
	}
	free(m->rules);
	for (i = 0; i < m->n_deny_rules; i++)
		deny_pb_free(m->deny_rules[i]);
	free(m->deny_rules);
	pb_strv_free(m->allowed_ips, m->n_allowed_ips);
	free(m);
}

OsPbRule *
os_rule_to_proto(const struct os_rule *r)
{
	OsPbRule	*m;
	size_t		 i;

	m = xmalloc(sizeof *m);
	openshell__sandbox__v1__network_policy_rule__init(m);
	m->name = pb_str(r->name);
	if (r->nendpoints != 0) {
		m->endpoints = xcalloc(r->nendpoints, sizeof *m->endpoints);
		m->n_endpoints = r->nendpoints;
		for (i = 0; i < r->nendpoints; i++)
			m->endpoints[i] = endpoint_to_pb(&r->endpoints[i]);
	}
	if (r->nbinaries != 0) {
		m->binaries = xcalloc(r->nbinaries, sizeof *m->binaries);
		m->n_binaries = r->nbinaries;
		for (i = 0; i < r->nbinaries; i++) {
			m->binaries[i] = xmalloc(sizeof *m->binaries[i]);
			openshell__sandbox__v1__network_binary__init(m->binaries[i]);
			m->binaries[i]->path = pb_str(r->binaries[i].path);
			m->binaries[i]->advisor_proposed =
			    r->binaries[i].advisor_proposed;
		}
	}
	return m;
}

void
os_pb_rule_free(OsPbRule *m)
{
	size_t	i;

	if (m == NULL)
		return;
	pb_str_free(m->name);
	for (i = 0; i < m->n_endpoints; i++)
		endpoint_pb_free(m->endpoints[i]);
	free(m->endpoints);
	for (i = 0; i < m->n_binaries; i++) {
		pb_str_free(m->binaries[i]->path);
		free(m->binaries[i]);
	}
	free(m->binaries);
	free(m);
}

static int
rule_ptr_cmp(const void *a, const void *b)
{
	const struct os_rule *const *ra = a, *const *rb = b;

	return strcmp(nz((*ra)->key), nz((*rb)->key));
}

OsPbPolicy *
os_policy_to_proto(const struct os_policy *p)
{
	const struct os_rule	**sorted;
	OsPbPolicy		 *m;
	OsPbFs			 *fs;
	OsPbLandlock		 *ll;
	OsPbProcess		 *pr;
	size_t			  i;

	m = xmalloc(sizeof *m);
	openshell__sandbox__v1__sandbox_policy__init(m);
	m->version = p->version;
	if (p->has_filesystem) {
		fs = xmalloc(sizeof *fs);
		openshell__sandbox__v1__filesystem_policy__init(fs);
		fs->include_workdir = p->filesystem.include_workdir;
		fs->read_only = pb_strv(p->filesystem.read_only,
		    p->filesystem.nread_only);
		fs->n_read_only = p->filesystem.nread_only;
		fs->read_write = pb_strv(p->filesystem.read_write,
		    p->filesystem.nread_write);
		fs->n_read_write = p->filesystem.nread_write;
		m->filesystem = fs;
	}
	if (p->has_landlock) {
		ll = xmalloc(sizeof *ll);
		openshell__sandbox__v1__landlock_policy__init(ll);
		ll->compatibility = pb_str(
		    p->landlock == OS_LANDLOCK_HARD_REQUIREMENT ?
		    "hard_requirement" : "best_effort");
		m->landlock = ll;
	}
	if (p->has_process) {
		pr = xmalloc(sizeof *pr);
		openshell__sandbox__v1__process_policy__init(pr);
		pr->run_as_user = pb_str(p->run_as_user);
		pr->run_as_group = pb_str(p->run_as_group);
		m->process = pr;
	}
	if (p->nrules != 0) {
		/* The model keeps rules sorted; sort anyway so that a model
		 * built by hand still gives entries in key order. */
		sorted = xcalloc(p->nrules, sizeof *sorted);
		for (i = 0; i < p->nrules; i++)
			sorted[i] = &p->rules[i];
		qsort(sorted, p->nrules, sizeof *sorted, rule_ptr_cmp);
		m->network_policies = xcalloc(p->nrules,
		    sizeof *m->network_policies);
		m->n_network_policies = p->nrules;
		for (i = 0; i < p->nrules; i++) {
			OsPbRuleEntry *ent = xmalloc(sizeof *ent);

			openshell__sandbox__v1__sandbox_policy__network_policies_entry__init(
			    ent);
			ent->key = pb_str(sorted[i]->key);
			ent->value = os_rule_to_proto(sorted[i]);
			m->network_policies[i] = ent;
		}
		free(sorted);
	}
	return m;
}

void
os_pb_policy_free(OsPbPolicy *m)
{
	size_t	i;

	if (m == NULL)
		return;
	if (m->filesystem != NULL) {
		pb_strv_free(m->filesystem->read_only, m->filesystem->n_read_only);
		pb_strv_free(m->filesystem->read_write,
		    m->filesystem->n_read_write);
		free(m->filesystem);
	}
	if (m->landlock != NULL) {
		pb_str_free(m->landlock->compatibility);
		free(m->landlock);
	}
	if (m->process != NULL) {
		pb_str_free(m->process->run_as_user);
		pb_str_free(m->process->run_as_group);
		free(m->process);
	}
	for (i = 0; i < m->n_network_policies; i++) {
		pb_str_free(m->network_policies[i]->key);
		os_pb_rule_free(m->network_policies[i]->value);
		free(m->network_policies[i]);
	}
	free(m->network_policies);
	free(m);
}

/* ------------------------------------------------------------------------
 * Proto -> model
 */

struct enum_name {
	const char	*name;
	int		 value;
};

static const struct enum_name protocol_names[] = {
	{ "", OS_PROTOCOL_NONE },
	{ "rest", OS_PROTOCOL_REST },
};
static const struct enum_name tls_names[] = {
	{ "", OS_TLS_AUTO },
	{ "terminate", OS_TLS_TERMINATE },
	{ "skip", OS_TLS_SKIP },
};
static const struct enum_name enforcement_names[] = {
	{ "", OS_ENFORCE_UNSET },
	{ "enforce", OS_ENFORCE_ENFORCE },
	{ "audit", OS_ENFORCE_AUDIT },
};
static const struct enum_name access_names[] = {
	{ "", OS_ACCESS_NONE },
	{ "read-only", OS_ACCESS_READ_ONLY },
	{ "read-write", OS_ACCESS_READ_WRITE },
	{ "full", OS_ACCESS_FULL },
};
/* Proto3 cannot tell "" from unset: an empty value is the default. */
static const struct enum_name landlock_names[] = {
	{ "", OS_LANDLOCK_BEST_EFFORT },
	{ "best_effort", OS_LANDLOCK_BEST_EFFORT },
	{ "hard_requirement", OS_LANDLOCK_HARD_REQUIREMENT },
};


/*
 * Looks `s` up in `names` (case-insensitively, as the YAML loader reads
 * enums). An unknown value is an error worded as the loader words it,
 * naming the value and the allowed ones.
 */
static int
enum_parse(const char *s, const struct enum_name *names, size_t n,
    const char *field, struct os_diags *d)
{
	struct os_buf	allowed = OS_BUF_INIT;
	size_t		i;
	char		*v;

	s = nz(s);
	for (i = 0; i < n; i++) {
		if (strcasecmp(s, names[i].name) == 0)
			return names[i].value;
	}
	for (i = 0; i < n; i++) {
		if (*names[i].name == '\0')
			continue;    /* "not set" on the wire, omitted in YAML */
		os_buf_addf(&allowed, "%s%s", allowed.len != 0 ? ", " : "",
		    names[i].name);
	}
	v = os_diag_show(s);
	os_diags_add(d, OS_DIAG_ERROR, NULL, 0, 0, field,
	    _("unknown value '%s' (allowed: %s)"), v, os_buf_str(&allowed));
	free(v);
	os_buf_free(&allowed);
	return -1;
}

struct from_ctx {
	struct os_diags	*d;
	bool		 failed;
};

static void
from_enum(struct from_ctx *c, const char *s, const struct enum_name *names,
    size_t n, const char *prefix, const char *leaf, int *out)
{
	char	*field;
	int	 v;

	field = xprintf("%s.%s", prefix, leaf);
	v = enum_parse(s, names, n, field, c->d);
	free(field);
	if (v < 0)
		c->failed = true;
	else
		*out = v;
}

static void
from_port(struct from_ctx *c, uint32_t v, const char *field, uint16_t *out)
{
	if (v > 65535) {
		os_diags_add(c->d, OS_DIAG_ERROR, NULL, 0, 0, field,
		    _("invalid port %u (expected 1-65535)"), (unsigned)v);
		c->failed = true;
		return;
	}
	*out = (uint16_t)v;
}

static void
from_query(struct from_ctx *c, const char *key, const OsPbQuery *m,
    const char *prefix, struct os_query_matcher *q, struct os_query_matcher *all,
    size_t nall)
{
	size_t	i;
	char	*field;

	memset(q, 0, sizeof *q);
	q->key = xstrdup(nz(key));
	field = xprintf("%s.query.%s", prefix, q->key);
	for (i = 0; i < nall; i++) {
		if (strcmp(all[i].key, q->key) == 0) {
			char *v = os_diag_show(q->key);

			os_diags_add(c->d, OS_DIAG_ERROR, NULL, 0, 0, field,
			    _("duplicate query parameter '%s'"), v);
			free(v);
			c->failed = true;
			break;
		}
	}
	if (m == NULL) {
		/* An empty matcher: validation reports it. */
	} else if (*nz(m->glob) != '\0' && m->n_any != 0) {
		char *v = os_diag_show(m->glob);

		os_diags_add(c->d, OS_DIAG_ERROR, NULL, 0, 0, field,
		    _("query matcher sets both glob '%s' and any (use one)"), v);
		free(v);
		c->failed = true;
	} else if (*nz(m->glob) != '\0') {
		q->globs = xcalloc(1, sizeof *q->globs);
		q->globs[0] = xstrdup(m->glob);
		q->nglobs = 1;
	} else if (m->n_any != 0) {
		q->globs = strv_from_pb(m->any, m->n_any);
		q->nglobs = m->n_any;
		q->any = true;
	}
	free(field);
}

static void
from_l7(struct from_ctx *c, const char *method, const char *path,
    const OsPbAllowQueryEntry *const *aq, const OsPbDenyQueryEntry *const *dq,
    size_t nq, const char *prefix, struct os_l7_rule *r)
{
	size_t	i;

	memset(r, 0, sizeof *r);
	r->method = opt_str(method);
	r->path = opt_str(path);
	if (nq == 0)
		return;
	r->query = xcalloc(nq, sizeof *r->query);
	for (i = 0; i < nq; i++) {
		if (aq != NULL)
			from_query(c, aq[i]->key, aq[i]->value, prefix,
			    &r->query[i], r->query, i);
		else
			from_query(c, dq[i]->key, dq[i]->value, prefix,
			    &r->query[i], r->query, i);
		r->nquery++;
	}
}

static void
from_endpoint(struct from_ctx *c, const OsPbEndpoint *m, const char *prefix,
    struct os_endpoint *e)
{
	char	*field;
	int	 v;
	size_t	 i;

	memset(e, 0, sizeof *e);
	e->host = xstrdup(nz(m->host));
	if (m->n_ports != 0) {
		e->ports = xcalloc(m->n_ports, sizeof *e->ports);
		for (i = 0; i < m->n_ports; i++) {
			field = xprintf("%s.ports[%zu]", prefix, i);
			from_port(c, m->ports[i], field, &e->ports[e->nports]);
			e->nports++;
			free(field);
		}
	} else if (m->port != 0) {
		e->ports = xcalloc(1, sizeof *e->ports);
		field = xprintf("%s.port", prefix);
		from_port(c, m->port, field, &e->ports[0]);
		e->nports = 1;
		free(field);
	}
	v = 0;
	from_enum(c, m->protocol, protocol_names, OS_NELEM(protocol_names),
	    prefix, "protocol", &v);
	e->protocol = (enum os_protocol)v;
	v = 0;
	from_enum(c, m->tls, tls_names, OS_NELEM(tls_names), prefix, "tls",
	    &v);
	e->tls = (enum os_tls)v;
	v = 0;
	from_enum(c, m->enforcement, enforcement_names,
	    OS_NELEM(enforcement_names), prefix, "enforcement", &v);
	e->enforcement = (enum os_enforcement)v;
	v = 0;
	from_enum(c, m->access, access_names, OS_NELEM(access_names),
	    prefix, "access", &v);
	e->access = (enum os_access)v;
	if (m->n_rules != 0) {
		e->rules = xcalloc(m->n_rules, sizeof *e->rules);
		for (i = 0; i < m->n_rules; i++) {
			const OsPbL7Allow *a = m->rules[i] != NULL ?
			    m->rules[i]->allow : NULL;

			field = xprintf("%s.rules[%zu]", prefix, i);
			if (a == NULL) {
				os_diags_add(c->d, OS_DIAG_ERROR, NULL, 0, 0,
				    field, "%s",
				    _("rule has no allow (expected {allow: {method, path}})"));
				c->failed = true;
				free(field);
				continue;
			}
			free(field);
			field = xprintf("%s.rules[%zu].allow", prefix, i);
			from_l7(c, a->method, a->path,
			    (const OsPbAllowQueryEntry *const *)a->query, NULL,
			    a->n_query, field, &e->rules[e->nrules++]);
			free(field);
		}
	}
	if (m->n_deny_rules != 0) {
		e->deny_rules = xcalloc(m->n_deny_rules, sizeof *e->deny_rules);
		for (i = 0; i < m->n_deny_rules; i++) {
			const OsPbL7Deny *dr = m->deny_rules[i];

			if (dr == NULL)
				continue;
			field = xprintf("%s.deny_rules[%zu]", prefix, i);
			from_l7(c, dr->method, dr->path, NULL,
			    (const OsPbDenyQueryEntry *const *)dr->query,
			    dr->n_query, field, &e->deny_rules[e->ndeny_rules++]);
			free(field);
		}
	}
	e->allowed_ips = strv_from_pb(m->allowed_ips, m->n_allowed_ips);
	e->nallowed_ips = m->n_allowed_ips;
	e->advisor_proposed = m->advisor_proposed != 0;
}

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

static void
from_rule(struct from_ctx *c, const OsPbRule *m, const char *key,
    struct os_rule *r)
{
	char	*prefix, *field;
	size_t	 i;

	memset(r, 0, sizeof *r);
	r->key = xstrdup(nz(key));
	if (m == NULL)
		return;     /* a map entry without a value: an empty rule */
	prefix = xprintf("network_policies.%s", r->key);
	r->name = opt_str(m->name);
	if (m->n_endpoints != 0) {
		r->endpoints = xcalloc(m->n_endpoints, sizeof *r->endpoints);
		for (i = 0; i < m->n_endpoints; i++) {
			if (m->endpoints[i] == NULL)
				continue;
			field = xprintf("%s.endpoints[%zu]", prefix, i);
			from_endpoint(c, m->endpoints[i], field,
			    &r->endpoints[r->nendpoints++]);
			free(field);
		}
	}
	if (m->n_binaries != 0) {
		r->binaries = xcalloc(m->n_binaries, sizeof *r->binaries);
		for (i = 0; i < m->n_binaries; i++) {
			if (m->binaries[i] == NULL)
				continue;
			r->binaries[r->nbinaries].path =
			    xstrdup(nz(m->binaries[i]->path));
			r->binaries[r->nbinaries].advisor_proposed =
			    m->binaries[i]->advisor_proposed != 0;
			r->nbinaries++;
		}
	}
	free(prefix);
}

int
os_rule_from_proto(const OsPbRule *m, const char *key, struct os_rule *out,
    struct os_diags *d)
{
	struct from_ctx	c = { d, false };

	from_rule(&c, m, key, out);
	if (c.failed) {
		os_rule_clear(out);
		return -EINVAL;
	}
	rule_normalize(out);
	return 0;
}

int
os_policy_from_proto(const OsPbPolicy *m, struct os_policy **out,
    struct os_diags *d)
{
	struct from_ctx		 c = { d, false };
	struct os_policy	*p;
	struct os_rule		 r;
	size_t			 i;
	int			 v;

	*out = NULL;
	if (m == NULL) {
		os_diags_add(d, OS_DIAG_ERROR, NULL, 0, 0, NULL, "%s",
		    _("no policy given"));
		return -EINVAL;
	}
	p = os_policy_new();
	p->version = m->version;
	if (m->filesystem != NULL) {
		p->has_filesystem = true;
		p->filesystem.include_workdir = m->filesystem->include_workdir != 0;
		p->filesystem.read_only = strv_from_pb(m->filesystem->read_only,
		    m->filesystem->n_read_only);
		p->filesystem.nread_only = m->filesystem->n_read_only;
		p->filesystem.read_write = strv_from_pb(m->filesystem->read_write,
		    m->filesystem->n_read_write);
		p->filesystem.nread_write = m->filesystem->n_read_write;
	}
	if (m->landlock != NULL) {
		p->has_landlock = true;
		v = OS_LANDLOCK_BEST_EFFORT;
		from_enum(&c, m->landlock->compatibility, landlock_names,
		    OS_NELEM(landlock_names), "landlock", "compatibility", &v);
		p->landlock = (enum os_landlock_compat)v;
	}
	if (m->process != NULL) {
		p->has_process = true;
		p->run_as_user = opt_str(m->process->run_as_user);
		p->run_as_group = opt_str(m->process->run_as_group);
	}
	for (i = 0; i < m->n_network_policies; i++) {
		const OsPbRuleEntry *ent = m->network_policies[i];

		if (ent == NULL)
			continue;
		if (os_policy_find_rule(p, nz(ent->key)) != NULL) {
			char *field = xprintf("network_policies.%s", nz(ent->key));
			char *k = os_diag_show(nz(ent->key));

			os_diags_add(d, OS_DIAG_ERROR, NULL, 0, 0, field,
			    _("duplicate network policy key '%s'"), k);
			free(k);
			free(field);
			c.failed = true;
			continue;
		}
		from_rule(&c, ent->value, ent->key, &r);
		os_policy_put_rule(p, &r);
	}
	if (c.failed) {
		os_policy_free(p);
		return -EINVAL;
	}
	os_policy_normalize(p);
	*out = p;
	return 0;
}
