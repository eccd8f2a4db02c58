/*
 * bench-engine: the compiled matcher's decision cost as the policy grows.
 *
 * Builds policies of 10, 1,000 and 10,000 network rules (distinct exact
 * hosts, one in ten a wildcard, one in four inspected with L7 rules),
 * then times L4 decisions over a fixed mix of hits and misses spread
 * across the whole table, and L7 decisions over allowed inspected
 * connections. Every size gets the same number of requests laid out the
 * same way, so the only difference is the policy. Prints decisions per
 * second and "ratio" lines: the cost per decision of the larger policies
 * relative to the 10-rule baseline measured in the same run.
 *
 *   bench-engine [--smoke]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "openshell.h"

#define NREQ	4096	/* L4 requests per size */
#define NL7	1024	/* allowed inspected connections per size */

struct l4_req {
	struct os_l4_request	r;
	char			host[64];
};

struct size {
	size_t			 nrules;
	struct os_matcher	*m;
	struct l4_req		*l4;
	struct os_l4_decision	*dec;      /* NL7 allowed, inspected */
	double			 compile_s;
	double			 l4_rate;  /* best over rounds */
	double			 l7_rate;
	unsigned		 hits;
};

static const char *const ancestors[] = { "/usr/bin/bash", "/sbin/init" };

static const struct os_l7_request l7_reqs[] = {
	{ "GET", "/v1/models", NULL },
	{ "POST", "/v1/messages", NULL },
	{ "DELETE", "/v1/models/x", NULL },          /* deny rule */
	{ "PUT", "/v2/x", NULL },                    /* not permitted */
	{ "GET", "/search", "q=foobar&lang=en" },
	{ "GET", "/search", "q=bar&lang=en&page=2" }, /* query mismatch */
	{ "HEAD", "/v1/a/b/c", NULL },
	{ "GET", "/v1/files/abc", "purpose=fine-tune&limit=10" },
};

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool
is_wild(size_t i)
{
	return i % 10 == 2;
}

static bool
is_rest(size_t i)
{
	return i % 4 == 0;
}

static char *
rule_host(size_t i)
{
	return is_wild(i) ? xprintf("*.w%zu.example.net", i) :
	    xprintf("h%zu.svc.example.net", i);
}

static void
add_l7(struct os_l7_rule **v, size_t *n, const char *method, const char *path,
    const char *qkey, const char *qglob)
{
	struct os_l7_rule	*r;

	*v = xreallocarray(*v, *n + 1, sizeof **v);
	r = &(*v)[(*n)++];
	memset(r, 0, sizeof *r);
	r->method = xstrdup(method);
	r->path = xstrdup(path);
	if (qkey != NULL) {
		r->query = xcalloc(1, sizeof *r->query);
		r->nquery = 1;
		r->query[0].key = xstrdup(qkey);
		r->query[0].globs = xcalloc(1, sizeof (char *));
		r->query[0].globs[0] = xstrdup(qglob);
		r->query[0].nglobs = 1;
	}
}

static struct os_policy *
build_policy(size_t n)
{
	struct os_policy	*p = os_policy_new();
	struct os_diags		 d = OS_DIAGS_INIT;
	struct os_rule		 r;
	struct os_endpoint	*e;
	size_t			 i;
	char			*s;

	for (i = 0; i < n; i++) {
		memset(&r, 0, sizeof r);
		r.key = xprintf("rule-%05zu", i);
		r.endpoints = xcalloc(1, sizeof *r.endpoints);
		r.nendpoints = 1;
		e = &r.endpoints[0];
		e->host = rule_host(i);
		e->nports = i % 3 == 0 ? 2 : 1;
		e->ports = xcalloc(e->nports, sizeof *e->ports);
		e->ports[0] = 443;
		if (e->nports == 2)
			e->ports[1] = 8080;
		if (is_rest(i)) {
			e->protocol = OS_PROTOCOL_REST;
			e->enforcement = i % 8 == 0 ? OS_ENFORCE_ENFORCE :
			    OS_ENFORCE_AUDIT;
			add_l7(&e->rules, &e->nrules, "GET", "/v1/**", NULL, NULL);
			add_l7(&e->rules, &e->nrules, "POST", "/v1/messages",
			    NULL, NULL);
			add_l7(&e->rules, &e->nrules, "GET", "/search", "q",
			    "foo*");
			add_l7(&e->deny_rules, &e->ndeny_rules, "DELETE", "**",
			    NULL, NULL);
		}
		r.nbinaries = i % 7 == 0 ? 3 : 2;
		r.binaries = xcalloc(r.nbinaries, sizeof *r.binaries);
		r.binaries[0].path = xstrdup("/usr/bin/git");
		r.binaries[1].path = xstrdup("/usr/bin/curl");
		if (r.nbinaries == 3)
			r.binaries[2].path = xstrdup("/usr/bin/python3*");
		os_policy_put_rule(p, &r);
	}
	os_policy_normalize(p);
	if (os_policy_validate(p, NULL, NULL, &d) != 0) {
		s = os_diags_format(&d);
		fprintf(stderr, "bench-engine: the generated policy does not "
		    "validate:\n%s", s);
		free(s);
	}
	os_diags_free(&d);
	return p;
}

/*
 * The request mix, the same for every size: 5 in 8 hit (exact or
 * wildcard, some in upper case), then a host in no policy, a port the
 * endpoint does not have, and a binary no policy names. Hosts are picked
 * with a stride so that they cover the whole table.
 */
static void
build_requests(struct size *sz)
{
	struct l4_req	*q;
	size_t		 i, j;
	int		 kind;

	sz->l4 = xcalloc(NREQ, sizeof *sz->l4);
	for (i = 0; i < NREQ; i++) {
		q = &sz->l4[i];
		j = (i * 7919 + 13) % sz->nrules;
		kind = (int)(i % 8);
		if (is_wild(j))
			snprintf(q->host, sizeof q->host, "%s.w%zu.example.net",
			    i % 3 == 0 ? "API" : "api", j);
		else
			snprintf(q->host, sizeof q->host, "%s%zu.svc.example.net",
			    i % 5 == 0 ? "H" : "h", j);
		if (kind == 5)
			snprintf(q->host, sizeof q->host, "nx%zu.example.org", j);
		q->r.host = q->host;
		q->r.port = kind == 6 ? 8443 : 443;
		q->r.binary = kind == 7 ? "/usr/bin/wget" : kind == 4 ?
		    "/usr/bin/git" : "/usr/bin/curl";
		q->r.ancestors = ancestors;
		q->r.nancestors = OS_NELEM(ancestors);
	}
}

/* Allowed connections to inspected endpoints, spread over the table. */
static void
build_l7(struct size *sz)
{
	struct os_l4_request	r;
	char			host[64];
	size_t			i, j, nrest = (sz->nrules + 3) / 4;

	sz->dec = xcalloc(NL7, sizeof *sz->dec);
	for (i = 0; i < NL7; i++) {
		j = ((i * 7919 + 13) % nrest) * 4;
		if (is_wild(j))
			snprintf(host, sizeof host, "api.w%zu.example.net", j);
		else
			snprintf(host, sizeof host, "h%zu.svc.example.net", j);
		memset(&r, 0, sizeof r);
		r.host = host;
		r.port = 443;
		r.binary = "/usr/bin/curl";
		os_matcher_l4(sz->m, &r, &sz->dec[i]);
		if (sz->dec[i].verdict != OS_L4_ALLOW || !sz->dec[i].inspect ||
		    sz->dec[i].truncated)
			fprintf(stderr, "bench-engine: %s was not an inspected "
			    "allow\n", host);
	}
}

static volatile unsigned sink;

/* One trial: `reps` passes over the requests; decisions per second. */
static double
time_l4(struct size *sz, int reps)
{
	struct os_l4_decision	d;
	double			t0;
	size_t			i;
	unsigned		acc = 0, hits = 0;
	int			k;

	t0 = now_s();
	for (k = 0; k < reps; k++) {
		for (i = 0; i < NREQ; i++) {
			os_matcher_l4(sz->m, &sz->l4[i].r, &d);
			acc += (unsigned)d.verdict + (unsigned)d.nmatches;
			hits += d.verdict == OS_L4_ALLOW;
		}
	}
	sink = acc;
	sz->hits = hits / (unsigned)reps;
	return (double)NREQ * reps / (now_s() - t0);
}

static double
time_l7(struct size *sz, int reps)
{
	struct os_l7_decision	o;
	double			t0;
	size_t			i;
	unsigned		acc = 0;
	int			k;

	t0 = now_s();
	for (k = 0; k < reps; k++) {
		for (i = 0; i < NL7; i++) {
			/* No L4 request: none of these is truncated. */
			os_matcher_l7(sz->m, NULL, &sz->dec[i],
			    &l7_reqs[i % OS_NELEM(l7_reqs)], &o);
			acc += (unsigned)o.verdict + o.by_deny_rule;
		}
	}
	sink = acc;
	return (double)NL7 * reps / (now_s() - t0);
}

static void
print_ratio(const char *what, const struct size *base, const struct size *sz,
    double base_rate, double rate)
{
	printf("ratio %s %zu/%zu: %.2f (%zu rules: %.1f M/s, %zu rules: "
	    "%.1f M/s)\n", what, sz->nrules, base->nrules, base_rate / rate,
	    base->nrules, base_rate / 1e6, sz->nrules, rate / 1e6);
}

int
main(int argc, char **argv)
{
	static const size_t	 sizes[] = { 10, 1000, 10000 };
	struct size		 sz[OS_NELEM(sizes)];
	struct os_policy	*p;
	double			 t0, seconds;
	bool			 smoke = false;
	int			 rounds, round, reps;
	size_t			 i;

	if (argc > 1 && strcmp(argv[1], "--smoke") == 0)
		smoke = true;
	else if (argc > 1) {
		fprintf(stderr, "usage: bench-engine [--smoke]\n");
		return 2;
	}
	/* Many short trials, the sizes interleaved, each keeping its best:
	 * on a shared machine a trial that was not interrupted is the
	 * closest to the real cost, and the sizes see the same noise. */
	rounds = smoke ? 8 : 60;
	reps = smoke ? 2 : 4;

	memset(sz, 0, sizeof sz);
	for (i = 0; i < OS_NELEM(sizes); i++) {
		sz[i].nrules = sizes[i];
		p = build_policy(sizes[i]);
		t0 = now_s();
		sz[i].m = os_matcher_new(p, 1);
		sz[i].compile_s = now_s() - t0;
		os_policy_free(p);
		build_requests(&sz[i]);
		build_l7(&sz[i]);
		(void)time_l4(&sz[i], 1);	/* warm up */
	}

	t0 = now_s();
	for (round = 0; round < rounds; round++) {
		for (i = 0; i < OS_NELEM(sizes); i++) {
			double l4 = time_l4(&sz[i], reps);
			double l7 = time_l7(&sz[i], reps * 4);

			if (l4 > sz[i].l4_rate)
				sz[i].l4_rate = l4;
			if (l7 > sz[i].l7_rate)
				sz[i].l7_rate = l7;
		}
	}
	seconds = now_s() - t0;

	printf("bench-engine: best of %d interleaved trials (%.2f s); %d L4 "
	    "requests per size (%u allowed), %d L7 connections\n", rounds,
	    seconds, NREQ, sz[0].hits, NL7);
	for (i = 0; i < OS_NELEM(sizes); i++)
		printf("%5zu rules: compile %.1f ms, l4 %.2f M/s (%.0f ns), "
		    "l7 %.2f M/s (%.0f ns)\n", sz[i].nrules,
		    sz[i].compile_s * 1e3, sz[i].l4_rate / 1e6,
		    1e9 / sz[i].l4_rate, sz[i].l7_rate / 1e6,
		    1e9 / sz[i].l7_rate);
	for (i = 1; i < OS_NELEM(sizes); i++)
		print_ratio("l4", &sz[0], &sz[i], sz[0].l4_rate, sz[i].l4_rate);
	for (i = 1; i < OS_NELEM(sizes); i++)
		print_ratio("l7", &sz[0], &sz[i], sz[0].l7_rate, sz[i].l7_rate);
	printf("target: l4 10000/10 within 1.5x; >= 5 M L4 decisions/s\n");

	for (i = 0; i < OS_NELEM(sizes); i++) {
		os_matcher_unref(sz[i].m);
		free(sz[i].l4);
		free(sz[i].dec);
	}
	return 0;
}
