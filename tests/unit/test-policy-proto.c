/*
 * Policy <-> protobuf-c: round trips (in memory and through packed
 * bytes), the wire shape to_proto produces, and from_proto's diagnostics.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "os-rpc.h"
#include "tap.h"

typedef Openshell__Sandbox__V1__NetworkEndpoint	PbEndpoint;

/* ------------------------------------------------------------------------
 * Building models in C
 */
static void
add_str(char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = xstrdup(s);
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

/* Globs NULL-terminated. */
static void
add_query(struct os_l7_rule *r, const char *key, bool any, ...)
{
	struct os_query_matcher	*q;
	const char		*g;
	va_list			 ap;

	r->query = xreallocarray(r->query, r->nquery + 1, sizeof *r->query);
	q = &r->query[r->nquery++];
	memset(q, 0, sizeof *q);
	q->key = xstrdup(key);
	q->any = any;
	va_start(ap, any);
	while ((g = va_arg(ap, const char *)) != NULL)
		add_str(&q->globs, &q->nglobs, g);
	va_end(ap);
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

/* A policy using every field of the model. */
static struct os_policy *
rich_policy(void)
{
	struct os_policy	*p;
	struct os_rule		 r;
	struct os_endpoint	*e;
	struct os_l7_rule	*l;

	p = os_policy_new();
	p->has_filesystem = true;
	p->filesystem.include_workdir = true;
	add_str(&p->filesystem.read_only, &p->filesystem.nread_only, "/usr");
	add_str(&p->filesystem.read_only, &p->filesystem.nread_only, "/etc");
	add_str(&p->filesystem.read_write, &p->filesystem.nread_write, "/sandbox");
	p->has_landlock = true;
	p->landlock = OS_LANDLOCK_HARD_REQUIREMENT;
	p->has_process = true;
	p->run_as_user = xstrdup("sandbox");
	p->run_as_group = xstrdup("1000");

	memset(&r, 0, sizeof r);
	r.key = xstrdup("github");
	r.name = xstrdup("GitHub API");
	e = add_ep(&r, "api.github.com", 1, 443);
	e->protocol = OS_PROTOCOL_REST;
	e->tls = OS_TLS_TERMINATE;
	e->enforcement = OS_ENFORCE_ENFORCE;
	e->advisor_proposed = true;
	l = add_l7(&e->rules, &e->nrules, "GET", "/repos/**");
	add_query(l, "page", false, "[0-9]*", NULL);
	add_query(l, "state", true, "open", "closed", NULL);
	add_l7(&e->rules, &e->nrules, "POST", "/repos/*/issues");
	l = add_l7(&e->deny_rules, &e->ndeny_rules, "DELETE", "/**");
	add_query(l, "force", false, "true", NULL);
	add_str(&e->allowed_ips, &e->nallowed_ips, "10.0.0.0/8");
	add_str(&e->allowed_ips, &e->nallowed_ips, "192.168.1.5");
	e = add_ep(&r, "github.com", 2, 22, 443);
	e->tls = OS_TLS_SKIP;
	add_bin(&r, "/usr/bin/git", false);
	add_bin(&r, "/usr/bin/gh", true);
	os_policy_put_rule(p, &r);

	memset(&r, 0, sizeof r);
	r.key = xstrdup("pypi");
	e = add_ep(&r, "pypi.org", 1, 443);
	e->protocol = OS_PROTOCOL_REST;
	e->enforcement = OS_ENFORCE_AUDIT;
	e->access = OS_ACCESS_READ_ONLY;
	e = add_ep(&r, "*.pythonhosted.org", 1, 443);
	e->protocol = OS_PROTOCOL_REST;
	e->enforcement = OS_ENFORCE_ENFORCE;
	e->access = OS_ACCESS_FULL;
	add_bin(&r, "/usr/bin/pip*", false);
	os_policy_put_rule(p, &r);

	memset(&r, 0, sizeof r);
	r.key = xstrdup("internal");
	e = add_ep(&r, "", 1, 8080);
	add_str(&e->allowed_ips, &e->nallowed_ips, "10.1.2.0/24");
	e = add_ep(&r, "api.internal", 1, 9000);
	e->protocol = OS_PROTOCOL_REST;
	e->enforcement = OS_ENFORCE_ENFORCE;
	e->access = OS_ACCESS_READ_WRITE;
	add_bin(&r, "/**", false);
	os_policy_put_rule(p, &r);

	os_policy_normalize(p);
	return p;
}

static const Openshell__Sandbox__V1__NetworkPolicyRule *
pb_rule(const OsPbPolicy *pb, const char *key)
{
	size_t	i;

	for (i = 0; i < pb->n_network_policies; i++) {
		if (strcmp(pb->network_policies[i]->key, key) == 0)
			return pb->network_policies[i]->value;
	}
	return NULL;
}

/* ------------------------------------------------------------------------
 * Tests
 */
static void
t_roundtrip_memory(void)
{
	struct os_policy	*p, *q = NULL;
	struct os_diags		 d = OS_DIAGS_INIT;
	OsPbPolicy		*pb;

	p = rich_policy();
	pb = os_policy_to_proto(p);
	CHECK_INT(os_policy_from_proto(pb, &q, &d), 0);
	CHECK_INT(d.n, 0);
	CHECK(q != NULL && os_policy_equal(p, q));
	os_pb_policy_free(pb);
	os_policy_free(q);
	os_policy_free(p);
	os_diags_free(&d);

	/* The restrictive default and an empty policy too. */
	p = os_policy_default();
	pb = os_policy_to_proto(p);
	CHECK_INT(os_policy_from_proto(pb, &q, &d), 0);
	CHECK(q != NULL && os_policy_equal(p, q));
	os_pb_policy_free(pb);
	os_policy_free(q);
	os_policy_free(p);
	p = os_policy_new();
	pb = os_policy_to_proto(p);
	CHECK(pb->filesystem == NULL && pb->landlock == NULL &&
	    pb->process == NULL && pb->n_network_policies == 0);
	CHECK_INT(os_policy_from_proto(pb, &q, &d), 0);
	CHECK(q != NULL && os_policy_equal(p, q));
	CHECK(q != NULL && !q->has_filesystem && !q->has_landlock &&
	    !q->has_process);
	os_pb_policy_free(pb);
	os_policy_free(q);
	os_policy_free(p);
	os_diags_free(&d);
}

static void
t_roundtrip_bytes(void)
{
	struct os_policy	*p, *q = NULL;
	struct os_diags		 d = OS_DIAGS_INIT;
	OsPbPolicy		*pb, *un;
	uint8_t			*bytes;
	size_t			 len;

	p = rich_policy();
	pb = os_policy_to_proto(p);
	len = protobuf_c_message_get_packed_size(&pb->base);
	bytes = xmalloc(len);
	CHECK_INT(protobuf_c_message_pack(&pb->base, bytes), len);
	os_pb_policy_free(pb);
	un = openshell__sandbox__v1__sandbox_policy__unpack(NULL, len, bytes);
	CHECK(un != NULL);
	if (un != NULL) {
		CHECK_INT(os_policy_from_proto(un, &q, &d), 0);
		CHECK_INT(d.n, 0);
		CHECK(q != NULL && os_policy_equal(p, q));
		protobuf_c_message_free_unpacked(&un->base, NULL);
	}
	/* And the rule on its own. */
	{
		OsPbRule		*rpb, *run;
		struct os_rule		 r;
		const struct os_rule	*orig = os_policy_find_rule(p, "github");

		rpb = os_rule_to_proto(orig);
		free(bytes);
		len = protobuf_c_message_get_packed_size(&rpb->base);
		bytes = xmalloc(len);
		protobuf_c_message_pack(&rpb->base, bytes);
		os_pb_rule_free(rpb);
		run = openshell__sandbox__v1__network_policy_rule__unpack(NULL,
		    len, bytes);
		CHECK(run != NULL);
		if (run != NULL) {
			struct os_policy *one = os_policy_new();

			CHECK_INT(os_rule_from_proto(run, "github", &r, &d), 0);
			CHECK_STR(r.key, "github");
			os_policy_put_rule(one, &r);
			CHECK_INT(one->nrules, 1);
			/* Compare through a policy holding just that rule. */
			{
				struct os_policy *ref = os_policy_new();
				struct os_rule c;

				os_rule_copy(&c, orig);
				os_policy_put_rule(ref, &c);
				CHECK(os_policy_equal(ref, one));
				os_policy_free(ref);
			}
			os_policy_free(one);
			protobuf_c_message_free_unpacked(&run->base, NULL);
		}
	}
	free(bytes);
	os_policy_free(q);
	os_policy_free(p);
	os_diags_free(&d);
}

/* Every field the YAML has, through packed bytes and back. */
static const char rich_yaml[] =
    "version: 1\n"
    "filesystem_policy:\n"
    "  include_workdir: false\n"
    "  read_only: [/usr, /lib]\n"
    "  read_write: [/sandbox, /tmp]\n"
    "landlock:\n"
    "  compatibility: hard_requirement\n"
    "process:\n"
    "  run_as_user: \"1000\"\n"
    "  run_as_group: sandbox\n"
    "network_policies:\n"
    "  github:\n"
    "    name: GitHub API\n"
    "    endpoints:\n"
    "      - host: API.GitHub.com\n"
    "        ports: [8443, 443]\n"
    "        protocol: rest\n"
    "        tls: terminate\n"
    "        enforcement: enforce\n"
    "        advisor_proposed: true\n"
    "        allowed_ips: [10.0.0.0/8, 192.168.1.5]\n"
    "        rules:\n"
    "          - allow:\n"
    "              method: get\n"
    "              path: /repos/**\n"
    "              query:\n"
    "                page: \"[0-9]*\"\n"
    "                state: {any: [open, closed]}\n"
    "          - allow:\n"
    "              method: POST\n"
    "              path: /repos/*/issues\n"
    "        deny_rules:\n"
    "          - method: DELETE\n"
    "            path: /**\n"
    "            query:\n"
    "              force: \"true\"\n"
    "      - host: github.com\n"
    "        port: 22\n"
    "        tls: skip\n"
    "    binaries:\n"
    "      - path: /usr/bin/gh\n"
    "        advisor_proposed: true\n"
    "      - path: /usr/bin/git\n"
    "  pypi:\n"
    "    endpoints:\n"
    "      - host: pypi.org\n"
    "        port: 443\n"
    "        protocol: rest\n"
    "        enforcement: audit\n"
    "        access: read-write\n"
    "      - host: \"*.pythonhosted.org\"\n"
    "        port: 443\n"
    "    binaries:\n"
    "      - path: /usr/bin/pip*\n"
    "  internal:\n"
    "    endpoints:\n"
    "      - host: \"\"\n"
    "        port: 8080\n"
    "        allowed_ips: [10.1.2.0/24]\n"
    "    binaries:\n"
    "      - path: /**\n";

static void
t_roundtrip_yaml(void)
{
	struct os_policy	*p = NULL, *q = NULL;
	struct os_diags		 d = OS_DIAGS_INIT;
	OsPbPolicy		*pb, *un;
	uint8_t			*bytes;
	size_t			 len;
	char			*y0, *y1, *h;

	CHECK_INT(os_policy_load_yaml(rich_yaml, strlen(rich_yaml), "rich.yaml",
	    &p, NULL, &d), 0);
	if (p == NULL) {
		h = os_diags_format(&d);
		printf("# %s", h);
		free(h);
		os_diags_free(&d);
		return;
	}
	pb = os_policy_to_proto(p);
	len = protobuf_c_message_get_packed_size(&pb->base);
	bytes = xmalloc(len);
	protobuf_c_message_pack(&pb->base, bytes);
	os_pb_policy_free(pb);
	un = openshell__sandbox__v1__sandbox_policy__unpack(NULL, len, bytes);
	free(bytes);
	CHECK(un != NULL);
	if (un != NULL) {
		CHECK_INT(os_policy_from_proto(un, &q, &d), 0);
		protobuf_c_message_free_unpacked(&un->base, NULL);
	}
	CHECK_INT(d.n, 0);
	CHECK(q != NULL && os_policy_equal(p, q));
	if (q != NULL) {
		y0 = os_policy_to_yaml(p);
		y1 = os_policy_to_yaml(q);
		CHECK_STR(y1, y0);
		free(y0);
		free(y1);
	}
	os_policy_free(p);
	os_policy_free(q);
	os_diags_free(&d);
}

static void
t_wire_shape(void)
{
	struct os_policy	*p;
	OsPbPolicy		*pb;
	const Openshell__Sandbox__V1__NetworkPolicyRule *r;
	const PbEndpoint	*e;

	p = rich_policy();
	pb = os_policy_to_proto(p);
	CHECK_INT(pb->version, 1);
	CHECK_INT(pb->n_network_policies, 3);
	CHECK_STR(pb->network_policies[0]->key, "github");
	CHECK_STR(pb->network_policies[1]->key, "internal");
	CHECK_STR(pb->network_policies[2]->key, "pypi");
	CHECK_STR(pb->landlock->compatibility, "hard_requirement");
	CHECK_STR(pb->process->run_as_group, "1000");
	CHECK(pb->filesystem->include_workdir);
	CHECK_INT(pb->filesystem->n_read_only, 2);

	r = pb_rule(pb, "github");
	CHECK_STR(r->name, "GitHub API");
	e = r->endpoints[0];
	CHECK_STR(e->host, "api.github.com");
	CHECK_INT(e->port, 443);          /* one port: both fields */
	CHECK_INT(e->n_ports, 1);
	CHECK_STR(e->protocol, "rest");
	CHECK_STR(e->tls, "terminate");
	CHECK_STR(e->enforcement, "enforce");
	CHECK_STR(e->access, "");
	CHECK(e->advisor_proposed);
	CHECK_INT(e->n_rules, 2);
	CHECK_STR(e->rules[0]->allow->method, "GET");
	CHECK_INT(e->rules[0]->allow->n_query, 2);
	CHECK_STR(e->rules[0]->allow->query[0]->key, "page");
	CHECK_STR(e->rules[0]->allow->query[0]->value->glob, "[0-9]*");
	CHECK_INT(e->rules[0]->allow->query[0]->value->n_any, 0);
	CHECK_STR(e->rules[0]->allow->query[1]->key, "state");
	CHECK_STR(e->rules[0]->allow->query[1]->value->glob, "");
	CHECK_INT(e->rules[0]->allow->query[1]->value->n_any, 2);
	CHECK_INT(e->n_deny_rules, 1);
	CHECK_STR(e->deny_rules[0]->method, "DELETE");
	CHECK_INT(e->n_allowed_ips, 2);
	e = r->endpoints[1];
	CHECK_INT(e->port, 0);            /* several: only ports */
	CHECK_INT(e->n_ports, 2);
	CHECK_INT(e->ports[0], 22);
	CHECK_INT(e->ports[1], 443);
	CHECK_STR(e->protocol, "");
	CHECK_STR(e->tls, "skip");
	CHECK_INT(r->n_binaries, 2);
	CHECK_STR(r->binaries[1]->path, "/usr/bin/gh");
	CHECK(r->binaries[1]->advisor_proposed);
	r = pb_rule(pb, "pypi");
	CHECK_STR(r->name, "");
	CHECK_STR(r->endpoints[0]->access, "read-only");
	CHECK_STR(r->endpoints[0]->enforcement, "audit");
	CHECK_STR(r->endpoints[1]->access, "full");
	os_pb_policy_free(pb);

	/* Rules out of order in a hand-built model: entries still sorted. */
	{
		struct os_rule tmp = p->rules[0];

		p->rules[0] = p->rules[2];
		p->rules[2] = tmp;
	}
	pb = os_policy_to_proto(p);
	CHECK_STR(pb->network_policies[0]->key, "github");
	CHECK_STR(pb->network_policies[2]->key, "pypi");
	os_pb_policy_free(pb);
	os_policy_free(p);
}

/* A wire policy with one endpoint, to poke at from_proto. */
struct wire {
	OsPbPolicy					pol;
	Openshell__Sandbox__V1__SandboxPolicy__NetworkPoliciesEntry ent, *entp;
	Openshell__Sandbox__V1__NetworkPolicyRule	rule;
	PbEndpoint					ep, *epp;
	Openshell__Sandbox__V1__NetworkBinary		bin, *binp;
	uint32_t					ports[3];
};

static void
wire_init(struct wire *w)
{
	openshell__sandbox__v1__sandbox_policy__init(&w->pol);
	openshell__sandbox__v1__sandbox_policy__network_policies_entry__init(
	    &w->ent);
	openshell__sandbox__v1__network_policy_rule__init(&w->rule);
	openshell__sandbox__v1__network_endpoint__init(&w->ep);
	openshell__sandbox__v1__network_binary__init(&w->bin);
	w->pol.version = 1;
	w->pol.n_network_policies = 1;
	w->entp = &w->ent;
	w->pol.network_policies = &w->entp;
	w->ent.key = (char *)"github";
	w->ent.value = &w->rule;
	w->rule.n_endpoints = 1;
	w->epp = &w->ep;
	w->rule.endpoints = &w->epp;
	w->rule.n_binaries = 1;
	w->binp = &w->bin;
	w->rule.binaries = &w->binp;
	w->bin.path = (char *)"/usr/bin/curl";
	w->ep.host = (char *)"API.GitHub.com";
	w->ep.port = 443;
}

static void
t_ports(void)
{
	struct wire		 w;
	struct os_policy	*p;
	struct os_diags		 d = OS_DIAGS_INIT;

	/* port alone becomes ports; the host is lower-cased. */
	wire_init(&w);
	CHECK_INT(os_policy_from_proto(&w.pol, &p, &d), 0);
	CHECK_STR(p->rules[0].endpoints[0].host, "api.github.com");
	CHECK_INT(p->rules[0].endpoints[0].nports, 1);
	CHECK_INT(p->rules[0].endpoints[0].ports[0], 443);
	os_policy_free(p);

	/* ports wins when non-empty; sorted and unique. */
	w.ports[0] = 8443;
	w.ports[1] = 80;
	w.ports[2] = 8443;
	w.ep.ports = w.ports;
	w.ep.n_ports = 3;
	CHECK_INT(os_policy_from_proto(&w.pol, &p, &d), 0);
	CHECK_INT(p->rules[0].endpoints[0].nports, 2);
	CHECK_INT(p->rules[0].endpoints[0].ports[0], 80);
	CHECK_INT(p->rules[0].endpoints[0].ports[1], 8443);
	os_policy_free(p);

	/* Neither: no port (validation reports it). */
	w.ep.n_ports = 0;
	w.ep.port = 0;
	CHECK_INT(os_policy_from_proto(&w.pol, &p, &d), 0);
	CHECK_INT(p->rules[0].endpoints[0].nports, 0);
	os_policy_free(p);
	CHECK_INT(d.n, 0);

	/* Out of range. */
	w.ep.port = 70000;
	CHECK_INT(os_policy_from_proto(&w.pol, &p, &d), -EINVAL);
	CHECK(p == NULL);
	CHECK_INT(d.nerrors, 1);
	CHECK_STR(d.v[0].field, "network_policies.github.endpoints[0].port");
	CHECK_STR(d.v[0].message, "invalid port 70000 (expected 1-65535)");
	os_diags_free(&d);
	w.ep.port = 0;
	w.ports[1] = 65536;
	w.ep.n_ports = 2;
	CHECK_INT(os_policy_from_proto(&w.pol, &p, &d), -EINVAL);
	CHECK_STR(d.v[0].field, "network_policies.github.endpoints[0].ports[1]");
	os_diags_free(&d);
}

static void
t_unknown_enum(void)
{
	struct wire			 w;
	struct os_policy		*p;
	struct os_diags			 d = OS_DIAGS_INIT;
	Openshell__Sandbox__V1__LandlockPolicy ll;
	char				*s;

	wire_init(&w);
	w.ep.protocol = (char *)"grpc";
	CHECK_INT(os_policy_from_proto(&w.pol, &p, &d), -EINVAL);
	CHECK(p == NULL);
	CHECK_INT(d.nerrors, 1);
	CHECK_STR(d.v[0].field, "network_policies.github.endpoints[0].protocol");
	CHECK_STR(d.v[0].message, "unknown value 'grpc' (allowed: rest)");
	s = os_diags_format(&d);
	CHECK_STR(s, "error: network_policies.github.endpoints[0].protocol: "
	    "unknown value 'grpc' (allowed: rest)\n");
	free(s);
	os_diags_free(&d);

	/* Every bad value is reported, not just the first. */
	w.ep.tls = (char *)"passthrough";
	w.ep.enforcement = (char *)"block";
	w.ep.access = (char *)"write-only";
	openshell__sandbox__v1__landlock_policy__init(&ll);
	ll.compatibility = (char *)"strict";
	w.pol.landlock = &ll;
	CHECK_INT(os_policy_from_proto(&w.pol, &p, &d), -EINVAL);
	CHECK_INT(d.nerrors, 5);
	CHECK_STR(d.v[0].field, "landlock.compatibility");
	CHECK_STR(d.v[0].message, "unknown value 'strict' "
	    "(allowed: best_effort, hard_requirement)");
	CHECK_STR(d.v[2].field, "network_policies.github.endpoints[0].tls");
	CHECK_STR(d.v[2].message,
	    "unknown value 'passthrough' (allowed: terminate, skip)");
	CHECK_STR(d.v[3].message,
	    "unknown value 'block' (allowed: enforce, audit)");
	CHECK_STR(d.v[4].field, "network_policies.github.endpoints[0].access");
	CHECK_STR(d.v[4].message, "unknown value 'write-only' "
	    "(allowed: read-only, read-write, full)");
	os_diags_free(&d);

	/* Control bytes from the wire are shown escaped. */
	w.pol.landlock = NULL;
	w.ep.tls = (char *)"";
	w.ep.enforcement = (char *)"";
	w.ep.access = (char *)"";
	w.ep.protocol = (char *)"re\nst";
	CHECK_INT(os_policy_from_proto(&w.pol, &p, &d), -EINVAL);
	CHECK_INT(d.nerrors, 1);
	CHECK_STR(d.v[0].message, "unknown value 're\\x0ast' (allowed: rest)");
	os_diags_free(&d);
	w.pol.landlock = &ll;

	/* Enum strings are read case-insensitively; "" landlock = default. */
	w.ep.protocol = (char *)"REST";
	w.ep.tls = (char *)"";
	w.ep.enforcement = (char *)"";
	w.ep.access = (char *)"Read-Only";
	ll.compatibility = (char *)"";
	CHECK_INT(os_policy_from_proto(&w.pol, &p, &d), 0);
	CHECK(p->has_landlock && p->landlock == OS_LANDLOCK_BEST_EFFORT);
	CHECK_INT(p->rules[0].endpoints[0].protocol, OS_PROTOCOL_REST);
	CHECK_INT(p->rules[0].endpoints[0].access, OS_ACCESS_READ_ONLY);
	/* normalised: rest without enforcement gets enforce */
	CHECK_INT(p->rules[0].endpoints[0].enforcement, OS_ENFORCE_ENFORCE);
	os_policy_free(p);
	os_diags_free(&d);
}

static void
t_rules_and_queries(void)
{
	struct wire			 w;
	struct os_policy		*p;
	struct os_diags			 d = OS_DIAGS_INIT;
	Openshell__Sandbox__V1__L7Rule	 rule, *rulep = &rule, norule, *rp2[2];
	Openshell__Sandbox__V1__L7Allow	 allow;
	Openshell__Sandbox__V1__L7Allow__QueryEntry qe[2], *qep[2];
	Openshell__Sandbox__V1__L7QueryMatcher qm[2];
	char				*any[] = { (char *)"a*", (char *)"b*" };
	const struct os_l7_rule		*l;

	wire_init(&w);
	w.ep.protocol = (char *)"rest";
	openshell__sandbox__v1__l7_rule__init(&rule);
	openshell__sandbox__v1__l7_allow__init(&allow);
	rule.allow = &allow;
	allow.method = (char *)"get";
	allow.path = (char *)"/repos/**";
	openshell__sandbox__v1__l7_allow__query_entry__init(&qe[0]);
	openshell__sandbox__v1__l7_allow__query_entry__init(&qe[1]);
	openshell__sandbox__v1__l7_query_matcher__init(&qm[0]);
	openshell__sandbox__v1__l7_query_matcher__init(&qm[1]);
	qe[0].key = (char *)"page";
	qe[0].value = &qm[0];
	qm[0].glob = (char *)"[0-9]*";
	qe[1].key = (char *)"sort";
	qe[1].value = &qm[1];
	qm[1].any = any;
	qm[1].n_any = 2;
	qep[0] = &qe[0];
	qep[1] = &qe[1];
	allow.query = qep;
	allow.n_query = 2;
	w.ep.rules = &rulep;
	w.ep.n_rules = 1;
	CHECK_INT(os_policy_from_proto(&w.pol, &p, &d), 0);
	l = &p->rules[0].endpoints[0].rules[0];
	CHECK_STR(l->method, "GET");      /* normalised */
	CHECK_STR(l->path, "/repos/**");
	CHECK_INT(l->nquery, 2);
	CHECK(!l->query[0].any);
	CHECK_INT(l->query[0].nglobs, 1);
	CHECK_STR(l->query[0].globs[0], "[0-9]*");
	CHECK(l->query[1].any);
	CHECK_INT(l->query[1].nglobs, 2);
	CHECK_STR(l->query[1].globs[1], "b*");
	os_policy_free(p);

	/* Both glob and any set. */
	qm[1].glob = (char *)"x";
	CHECK_INT(os_policy_from_proto(&w.pol, &p, &d), -EINVAL);
	CHECK_INT(d.nerrors, 1);
	CHECK_STR(d.v[0].field,
	    "network_policies.github.endpoints[0].rules[0].allow.query.sort");
	CHECK_STR(d.v[0].message,
	    "query matcher sets both glob 'x' and any (use one)");
	os_diags_free(&d);
	qm[1].glob = (char *)"";

	/* A rule without allow. */
	openshell__sandbox__v1__l7_rule__init(&norule);
	rp2[0] = &rule;
	rp2[1] = &norule;
	w.ep.rules = rp2;
	w.ep.n_rules = 2;
	CHECK_INT(os_policy_from_proto(&w.pol, &p, &d), -EINVAL);
	CHECK_STR(d.v[0].field, "network_policies.github.endpoints[0].rules[1]");
	CHECK_CONTAINS(d.v[0].message, "rule has no allow");
	os_diags_free(&d);
}

static void
t_presence_and_keys(void)
{
	struct wire				 w;
	struct os_policy			*p;
	struct os_diags				 d = OS_DIAGS_INIT;
	Openshell__Sandbox__V1__ProcessPolicy	 pr;
	Openshell__Sandbox__V1__FilesystemPolicy fs;
	Openshell__Sandbox__V1__SandboxPolicy__NetworkPoliciesEntry *two[2];

	wire_init(&w);
	openshell__sandbox__v1__process_policy__init(&pr);
	openshell__sandbox__v1__filesystem_policy__init(&fs);
	w.pol.process = &pr;           /* present, both fields empty */
	w.pol.filesystem = &fs;        /* present and empty */
	CHECK_INT(os_policy_from_proto(&w.pol, &p, &d), 0);
	CHECK(p->has_process && p->run_as_user == NULL &&
	    p->run_as_group == NULL);
	CHECK(p->has_filesystem && !p->filesystem.include_workdir &&
	    p->filesystem.nread_only == 0);
	CHECK(!p->has_landlock);
	CHECK(p->rules[0].name == NULL);
	CHECK_INT(p->rules[0].nbinaries, 1);
	CHECK_STR(p->rules[0].binaries[0].path, "/usr/bin/curl");
	os_policy_free(p);

	/* A key twice (protobuf-c does not dedupe map entries). */
	two[0] = &w.ent;
	two[1] = &w.ent;
	w.pol.network_policies = two;
	w.pol.n_network_policies = 2;
	CHECK_INT(os_policy_from_proto(&w.pol, &p, &d), -EINVAL);
	CHECK_INT(d.nerrors, 1);
	CHECK_STR(d.v[0].field, "network_policies.github");
	CHECK_STR(d.v[0].message, "duplicate network policy key 'github'");
	os_diags_free(&d);
}

static void
t_rule_normalised(void)
{
	struct wire	w;
	struct os_rule	r;
	struct os_diags	d = OS_DIAGS_INIT;

	wire_init(&w);
	w.ep.protocol = (char *)"rest";
	w.ep.access = (char *)"full";
	CHECK_INT(os_rule_from_proto(&w.rule, "gh", &r, &d), 0);
	CHECK_STR(r.key, "gh");
	CHECK(r.name == NULL);
	CHECK_STR(r.endpoints[0].host, "api.github.com");
	CHECK_INT(r.endpoints[0].enforcement, OS_ENFORCE_ENFORCE);
	os_rule_clear(&r);
	w.ep.tls = (char *)"bogus";
	CHECK_INT(os_rule_from_proto(&w.rule, "gh", &r, &d), -EINVAL);
	CHECK(r.key == NULL && r.nendpoints == 0);
	CHECK_STR(d.v[0].field, "network_policies.gh.endpoints[0].tls");
	os_diags_free(&d);
}

int
main(void)
{
	TAP_RUN(t_roundtrip_memory);
	TAP_RUN(t_roundtrip_bytes);
	TAP_RUN(t_roundtrip_yaml);
	TAP_RUN(t_wire_shape);
	TAP_RUN(t_ports);
	TAP_RUN(t_unknown_enum);
	TAP_RUN(t_rules_and_queries);
	TAP_RUN(t_presence_and_keys);
	TAP_RUN(t_rule_normalised);
	return tap_done();
}
