/*
 * Fuzz target: the compiled matcher against a brute-force model of the
 * same semantics (every rule scanned, globs matched directly), on
 * fuzzed policies and requests. Any difference in an L4 or L7 decision,
 * a broken invariant, or a reason that overflows its buffer aborts.
 *
 * Two input forms:
 *
 *  - "POLICY-YAML\n%%\nhost\nport\nbinary\nmethod\npath\nquery": the
 *    policy is loaded (and validated) from YAML;
 *  - anything else: lines fill a fixed three-policy template (flags,
 *    allow method, allow path, query key, query glob, deny method, deny
 *    path, binary pattern, request host, binary, ancestor, method, path,
 *    and the rest is the query), without validation, so the matcher
 *    also sees policies no loader would pass.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openshell.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FAIL(...) do {							\
	fprintf(stderr, "fuzz-l7-match: " __VA_ARGS__);			\
	fputc('\n', stderr);						\
	abort();							\
} while (0)

/* ------------------------------------------------------------------------
 * The model: the documented semantics, written the obvious way.
 */
static unsigned char
lc(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static bool
ci_eq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		if (lc((unsigned char)*a) != lc((unsigned char)*b))
			return false;
	}
	return *a == *b;
}

/* The policy side is lower-case already (normalised). */
static bool
host_eq(const char *policy, const char *req)
{
	for (; *policy != '\0' && *req != '\0'; policy++, req++) {
		if (*policy != (char)lc((unsigned char)*req))
			return false;
	}
	return *policy == *req;
}

static bool
model_host(const struct os_endpoint *e, const char *host)
{
	const char	*h = e->host != NULL ? e->host : "", *dot;

	if (*h == '\0')
		return e->nallowed_ips != 0;
	if (h[0] == '*' && h[1] == '.' && h[2] != '\0') {
		if ((dot = strchr(host, '.')) == NULL || dot == host)
			return false;
		return host_eq(h + 2, dot + 1);
	}
	return host_eq(h, host);
}

static bool
model_path_match(const char *pattern, const char *s)
{
	if (pattern == NULL || *pattern == '\0' || s == NULL)
		return false;
	return os_glob_has_magic(pattern) ? os_glob_match(pattern, s, '/') :
	    strcmp(pattern, s) == 0;
}

/* First entry naming the exe, else the first naming an ancestor. */
static int
model_binary(const struct os_rule *r, const struct os_l4_request *q)
{
	size_t	i, j;

	for (i = 0; i < r->nbinaries; i++) {
		if (model_path_match(r->binaries[i].path, q->binary))
			return (int)i;
	}
	for (i = 0; i < r->nbinaries; i++) {
		for (j = 0; q->ancestors != NULL && j < q->nancestors; j++) {
			if (model_path_match(r->binaries[i].path,
			    q->ancestors[j]))
				return (int)i;
		}
	}
	return -1;
}

/* Also every admitting match into *all (heap, *nall of them): the L7
 * decision hears them all, however many. */
static void
model_l4(const struct os_policy *p, const struct os_l4_request *q,
    struct os_l4_decision *d, struct os_match **all, size_t *nall)
{
	struct os_match	deny[OS_MATCH_MAX];
	size_t		nallow = 0, ndeny = 0, r, i;
	bool		inspect = false, skip = false;
	int		b;

	memset(d, 0, sizeof *d);
	*all = NULL;
	*nall = 0;
	for (r = 0; r < p->nrules; r++) {
		const struct os_rule *rule = &p->rules[r];

		for (i = 0; i < rule->nendpoints; i++) {
			const struct os_endpoint *e = &rule->endpoints[i];

			if (!model_host(e, q->host != NULL ? q->host : "") ||
			    !os_endpoint_has_port(e, q->port))
				continue;
			if ((b = model_binary(rule, q)) < 0) {
				if (ndeny < OS_MATCH_MAX) {
					deny[ndeny].rule = rule;
					deny[ndeny].endpoint = e;
					deny[ndeny].binary = NULL;
				}
				ndeny++;
				continue;
			}
			if (nallow < OS_MATCH_MAX) {
				d->matches[nallow].rule = rule;
				d->matches[nallow].endpoint = e;
				d->matches[nallow].binary = &rule->binaries[b];
			}
			*all = xreallocarray(*all, nallow + 1, sizeof **all);
			(*all)[nallow].rule = rule;
			(*all)[nallow].endpoint = e;
			(*all)[nallow].binary = &rule->binaries[b];
			nallow++;
			inspect = inspect || e->protocol == OS_PROTOCOL_REST;
			skip = skip || e->tls == OS_TLS_SKIP;
		}
	}
	*nall = nallow;
	if (nallow != 0) {
		d->verdict = OS_L4_ALLOW;
		d->nmatches = nallow < OS_MATCH_MAX ? nallow : OS_MATCH_MAX;
		d->truncated = nallow > OS_MATCH_MAX;
		d->inspect = inspect;
		d->tls_skip = skip && !inspect;
	} else if (ndeny != 0) {
		d->verdict = OS_L4_DENY_BINARY;
		d->nmatches = ndeny < OS_MATCH_MAX ? ndeny : OS_MATCH_MAX;
		d->truncated = ndeny > OS_MATCH_MAX;
		memcpy(d->matches, deny, d->nmatches * sizeof *deny);
	} else
		d->verdict = OS_L4_DENY_NO_ENDPOINT;
}

/* The query as decoded pairs, with the documented limits. */
struct mquery {
	bool	 ok;
	size_t	 n;
	char	*k[300];
	char	*v[300];
};

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char *
mdecode(const char *s, size_t n, bool *nul)
{
	char	*out = xmalloc(n + 1);
	size_t	 i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			out[o++] = ' ';
		else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			out[o] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			if (out[o] == '\0')
				*nul = true;
			o++;
			i += 2;
		} else
			out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

static void
mquery_parse(struct mquery *mq, const char *raw)
{
	const char	*s, *amp, *eq, *end;
	bool		 nul = false;

	memset(mq, 0, sizeof *mq);
	mq->ok = true;
	if (raw == NULL)
		return;
	if (strlen(raw) >= 8192) {
		mq->ok = false;
		return;
	}
	end = raw + strlen(raw);
	for (s = raw; s < end; s = amp + 1) {
		if ((amp = strchr(s, '&')) == NULL)
			amp = end;
		if (amp == s)
			continue;
		if (mq->n == 256) {
			mq->ok = false;
			return;
		}
		eq = memchr(s, '=', (size_t)(amp - s));
		if (eq == NULL)
			eq = amp;
		mq->k[mq->n] = mdecode(s, (size_t)(eq - s), &nul);
		mq->v[mq->n] = eq < amp ? mdecode(eq + 1,
		    (size_t)(amp - eq - 1), &nul) : xstrdup("");
		mq->n++;
		if (nul) {
			mq->ok = false;
			return;
		}
	}
}

static void
mquery_free(struct mquery *mq)
{
	size_t	i;

	for (i = 0; i < mq->n; i++) {
		free(mq->k[i]);
		free(mq->v[i]);
	}
}

static bool
mvalue(const struct os_query_matcher *qm, const char *v)
{
	size_t	i;

	for (i = 0; i < qm->nglobs; i++) {
		if (qm->globs[i] != NULL && (os_glob_has_magic(qm->globs[i]) ?
		    os_glob_match(qm->globs[i], v, '\0') :
		    strcmp(qm->globs[i], v) == 0))
			return true;
	}
	return false;
}

static bool
model_rule(const struct os_l7_rule *r, const struct os_l7_request *q,
    const struct mquery *mq, bool deny)
{
	const char	*method = q->method != NULL ? q->method : "";
	const char	*path = q->path != NULL ? q->path : "";
	size_t		 i, j, count;
	bool		 all, some;

	if (r->method == NULL || r->path == NULL)
		return false;
	if (strcmp(r->method, "*") != 0 && !ci_eq(r->method, method) &&
	    !(ci_eq(r->method, "GET") && ci_eq(method, "HEAD")))
		return false;
	if (!(os_glob_has_magic(r->path) ? os_glob_match(r->path, path, '/') :
	    strcmp(r->path, path) == 0))
		return false;
	if (r->nquery == 0 || r->query == NULL)
		return true;
	if (!mq->ok)
		return deny;
	for (i = 0; i < r->nquery; i++) {
		if (r->query[i].key == NULL)
			return deny;
		count = 0;
		all = true;
		some = false;
		for (j = 0; j < mq->n; j++) {
			if (strcmp(mq->k[j], r->query[i].key) != 0)
				continue;
			count++;
			if (mvalue(&r->query[i], mq->v[j]))
				some = true;
			else
				all = false;
		}
		if (deny ? !some : count == 0 || !all)
			return false;
	}
	return true;
}

static const struct os_l7_rule *
model_allows(const struct os_endpoint *e, const struct os_l7_request *q,
    const struct mquery *mq, const struct os_l7_rule *got)
{
	const char *const	*methods = os_access_methods(e->access);
	size_t			 i;

	/* The preset's rules are the matcher's own static objects; only
	 * what they are can be checked here. */
	for (i = 0; methods[i] != NULL; i++) {
		struct os_l7_rule pr = { (char *)methods[i], (char *)"**",
		    NULL, 0 };

		if (model_rule(&pr, q, mq, false)) {
			if (got == NULL || got->method == NULL ||
			    got->path == NULL ||
			    strcmp(got->method, methods[i]) != 0 ||
			    strcmp(got->path, "**") != 0)
				FAIL("preset rule %s ** should have matched",
				    methods[i]);
			return got;
		}
	}
	for (i = 0; e->rules != NULL && i < e->nrules; i++) {
		if (model_rule(&e->rules[i], q, mq, false))
			return &e->rules[i];
	}
	return NULL;
}

static void
model_l7(const struct os_l4_decision *d, const struct os_match *all,
    size_t nall, const struct os_l7_request *q,
    const struct os_l7_decision *got, struct os_l7_decision *out)
{
	const struct os_match	*first = NULL, *dm = NULL, *mt;
	const struct os_l7_rule	*dr = NULL, *r;
	const struct os_endpoint *e;
	struct mquery		 mq;
	size_t			 i, j;

	memset(out, 0, sizeof *out);
	out->verdict = OS_L7_DENY;
	if (d->verdict != OS_L4_ALLOW) {
		if (d->nmatches != 0) {
			out->rule = d->matches[0].rule;
			out->endpoint = d->matches[0].endpoint;
		}
		return;
	}
	mquery_parse(&mq, q->query);
	for (i = 0; i < nall; i++) {
		mt = &all[i];
		e = mt->endpoint;
		if (e->protocol != OS_PROTOCOL_REST)
			continue;
		if (first == NULL || (first->endpoint->enforcement ==
		    OS_ENFORCE_AUDIT && e->enforcement != OS_ENFORCE_AUDIT))
			first = mt;
		for (j = 0; e->deny_rules != NULL && j < e->ndeny_rules; j++) {
			if (!model_rule(&e->deny_rules[j], q, &mq, true))
				continue;
			if (dm == NULL || (dm->endpoint->enforcement ==
			    OS_ENFORCE_AUDIT &&
			    e->enforcement != OS_ENFORCE_AUDIT)) {
				dm = mt;
				dr = &e->deny_rules[j];
			}
			break;
		}
	}
	if (first == NULL) {
		if (d->nmatches != 0) {
			out->rule = d->matches[0].rule;
			out->endpoint = d->matches[0].endpoint;
		}
		goto done;
	}
	if (dm != NULL) {
		out->rule = dm->rule;
		out->endpoint = dm->endpoint;
		out->matched = dr;
		out->by_deny_rule = true;
		out->verdict = dm->endpoint->enforcement == OS_ENFORCE_AUDIT ?
		    OS_L7_AUDIT : OS_L7_DENY;
		goto done;
	}
	for (i = 0; i < nall; i++) {
		mt = &all[i];
		if (mt->endpoint->protocol != OS_PROTOCOL_REST)
			continue;
		if ((r = model_allows(mt->endpoint, q, &mq,
		    got->endpoint == mt->endpoint ? got->matched : NULL)) !=
		    NULL) {
			out->rule = mt->rule;
			out->endpoint = mt->endpoint;
			out->matched = r;
			out->verdict = OS_L7_ALLOW;
			goto done;
		}
	}
	out->rule = first->rule;
	out->endpoint = first->endpoint;
	out->verdict = first->endpoint->enforcement == OS_ENFORCE_AUDIT ?
	    OS_L7_AUDIT : OS_L7_DENY;
done:
	mquery_free(&mq);
}

/* ------------------------------------------------------------------------
 * Checks
 */
static void
check_l4(const struct os_l4_decision *got, const struct os_l4_decision *want,
    const struct os_l4_request *q)
{
	size_t	i;

	if (got->verdict != want->verdict || got->nmatches != want->nmatches ||
	    got->truncated != want->truncated ||
	    got->inspect != want->inspect || got->tls_skip != want->tls_skip)
		FAIL("L4 %s:%u as %s: verdict %d/%d nmatches %zu/%zu truncated "
		    "%d/%d inspect %d/%d tls_skip %d/%d (got/model)",
		    q->host ? q->host : "(null)", q->port,
		    q->binary ? q->binary : "(null)", got->verdict,
		    want->verdict, got->nmatches, want->nmatches, got->truncated,
		    want->truncated, got->inspect, want->inspect, got->tls_skip,
		    want->tls_skip);
	for (i = 0; i < got->nmatches; i++) {
		if (got->matches[i].rule != want->matches[i].rule ||
		    got->matches[i].endpoint != want->matches[i].endpoint ||
		    got->matches[i].binary != want->matches[i].binary)
			FAIL("L4 match %zu differs from the model", i);
		if (!os_endpoint_has_port(got->matches[i].endpoint, q->port))
			FAIL("L4 match %zu lacks the port", i);
		if (i > 0 && strcmp(got->matches[i - 1].rule->key,
		    got->matches[i].rule->key) > 0)
			FAIL("L4 matches out of key order");
	}
	if (got->nmatches > OS_MATCH_MAX ||
	    (got->truncated && got->nmatches != OS_MATCH_MAX) ||
	    (got->verdict == OS_L4_DENY_NO_ENDPOINT && got->nmatches != 0) ||
	    (got->verdict != OS_L4_DENY_NO_ENDPOINT && got->nmatches == 0) ||
	    (got->tls_skip && got->inspect))
		FAIL("L4 decision invariants broken");
}

static void
check_l7(const struct os_l7_decision *got, const struct os_l7_decision *want,
    const struct os_l7_request *q)
{
	if (got->verdict != want->verdict || got->rule != want->rule ||
	    got->endpoint != want->endpoint ||
	    got->by_deny_rule != want->by_deny_rule ||
	    got->matched != want->matched)
		FAIL("L7 %s %s ?%s: verdict %d/%d deny-rule %d/%d matched %p/%p "
		    "(got/model)", q->method ? q->method : "(null)",
		    q->path ? q->path : "(null)", q->query ? q->query : "(null)",
		    got->verdict, want->verdict, got->by_deny_rule,
		    want->by_deny_rule, (const void *)got->matched,
		    (const void *)want->matched);
	if (got->by_deny_rule && got->matched == NULL)
		FAIL("a deny-rule decision without its rule");
	if (got->verdict == OS_L7_ALLOW && (got->matched == NULL ||
	    got->by_deny_rule))
		FAIL("an allow without the rule that allowed it");
}

/*
 * Every formatter: the return value is the full length whatever the
 * buffer, the text is NUL-terminated inside the buffer, and nothing past
 * the buffer is written.
 */
enum fmt {
	FMT_L4_REASON,
	FMT_L7_REASON,
	FMT_RULE,
};

static size_t
fmt_call(enum fmt k, const void *a, const void *b, char *buf, size_t len)
{
	switch (k) {
	case FMT_L4_REASON:
		return os_l4_reason(a, b, buf, len);
	case FMT_L7_REASON:
		return os_l7_reason(a, b, buf, len);
	case FMT_RULE:
		break;
	}
	return os_l7_rule_describe(a, buf, len);
}

static void
check_format(enum fmt k, const void *a, const void *b)
{
	static const size_t	 lens[] = { 0, 1, 2, 7, 15 };
	char			 full[8192], small[32];
	size_t			 n, r, i, j, want;

	n = fmt_call(k, a, b, full, sizeof full);
	if (n < sizeof full && strlen(full) != n)
		FAIL("formatter %d: returned %zu, wrote %zu", k, n,
		    strlen(full));
	if (fmt_call(k, a, b, NULL, 0) != n)
		FAIL("formatter %d: length differs without a buffer", k);
	for (i = 0; i < OS_NELEM(lens); i++) {
		memset(small, 'Z', sizeof small);
		if ((r = fmt_call(k, a, b, small, lens[i])) != n)
			FAIL("formatter %d: returned %zu, then %zu", k, n, r);
		if (lens[i] > 0) {
			want = n < lens[i] - 1 ? n : lens[i] - 1;
			if (small[want] != '\0' ||
			    memcmp(small, full, want) != 0)
				FAIL("formatter %d: bad truncation to %zu", k,
				    lens[i]);
		}
		for (j = lens[i]; j < sizeof small; j++) {
			if (small[j] != 'Z')
				FAIL("formatter %d: wrote past %zu bytes", k,
				    lens[i]);
		}
	}
}

static void
run(const struct os_policy *pol, const struct os_l4_request *q4,
    const struct os_l7_request *q7)
{
	struct os_matcher	*m;
	struct os_l4_decision	 d, md;
	struct os_l7_decision	 o, mo;
	const struct os_policy	*mp;
	struct os_match		*all;
	size_t			 nall;

	m = os_matcher_new(pol, 1);
	mp = os_matcher_policy(m);

	os_matcher_l4(m, q4, &d);
	model_l4(mp, q4, &md, &all, &nall);
	check_l4(&d, &md, q4);
	check_format(FMT_L4_REASON, q4, &d);

	os_matcher_l7(m, q4, &d, q7, &o);
	model_l7(&d, all, nall, q7, &o, &mo);
	free(all);
	check_l7(&o, &mo, q7);
	check_format(FMT_L7_REASON, q7, &o);
	check_format(FMT_RULE, o.matched, NULL);
	if (getenv("FUZZ_L7_MATCH_TRACE") != NULL) {
		char	a[512], b[512], c[512];

		os_l4_reason(q4, &d, a, sizeof a);
		os_l7_reason(q7, &o, b, sizeof b);
		os_l7_rule_describe(o.matched, c, sizeof c);
		fprintf(stderr, "l4 %d (%zu matches%s) %s | l7 %d%s %s | %s\n",
		    d.verdict, d.nmatches, d.inspect ? ", inspect" : "", a,
		    o.verdict, o.by_deny_rule ? " deny-rule" : "", b, c);
	}
	os_matcher_unref(m);
}

/* ------------------------------------------------------------------------
 * Input forms
 */

/* Splits at '\n' into at most `max` NUL-terminated fields (the last one
 * takes the rest); returns how many. */
static size_t
split(char *s, char **f, size_t max)
{
	size_t	n = 0;
	char	*nl;

	while (n < max) {
		f[n++] = s;
		if (n == max || (nl = strchr(s, '\n')) == NULL)
			break;
		*nl = '\0';
		s = nl + 1;
	}
	return n;
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
	if (qkey != NULL && *qkey != '\0') {
		r->query = xcalloc(1, sizeof *r->query);
		r->nquery = 1;
		r->query[0].key = xstrdup(qkey);
		/* A glob starting with '2' gets a second one: {any: [...]}. */
		r->query[0].globs = xcalloc(2, sizeof (char *));
		r->query[0].globs[0] = xstrdup(qglob);
		r->query[0].nglobs = 1;
		if (qglob[0] == '2') {
			r->query[0].globs[1] = xstrdup("x*");
			r->query[0].nglobs = 2;
			r->query[0].any = true;
		}
	}
}

static struct os_endpoint *
add_ep(struct os_rule *r, const char *host, uint16_t port, bool second_port)
{
	struct os_endpoint	*e;

	r->endpoints = xreallocarray(r->endpoints, r->nendpoints + 1,
	    sizeof *r->endpoints);
	e = &r->endpoints[r->nendpoints++];
	memset(e, 0, sizeof *e);
	e->host = xstrdup(host);
	e->ports = xcalloc(2, sizeof *e->ports);
	e->ports[0] = port;
	e->nports = 1;
	if (second_port)
		e->ports[e->nports++] = 80;
	return e;
}

static void
add_bin(struct os_rule *r, const char *path)
{
	r->binaries = xreallocarray(r->binaries, r->nbinaries + 1,
	    sizeof *r->binaries);
	r->binaries[r->nbinaries].path = xstrdup(path);
	r->binaries[r->nbinaries++].advisor_proposed = false;
}

static unsigned
flag(const char *f, size_t i)
{
	return i < strlen(f) ? (unsigned char)f[i] : 0;
}

static void
template_case(char *text)
{
	static const char *const dflt[] = {
		"", "GET", "/v1/**", "", "", "DELETE", "**", "/usr/bin/curl",
		"api.example.com", "/usr/bin/curl", "/bin/sh", "GET",
		"/v1/models", "",
	};
	struct os_policy	*p = os_policy_new();
	struct os_rule		 r;
	struct os_endpoint	*e;
	struct os_l4_request	 q4;
	struct os_l7_request	 q7;
	const char		*anc[1];
	char			*f[OS_NELEM(dflt)], *host, *dot;
	size_t			 n, i;
	unsigned		 fl;

	n = split(text, f, OS_NELEM(dflt));
	for (i = n; i < OS_NELEM(dflt); i++)
		f[i] = (char *)dflt[i];
	fl = flag(f[0], 0);

	/* "a": the fuzzed rules, on the request's host (exact or wildcard). */
	memset(&r, 0, sizeof r);
	r.key = xstrdup("a");
	host = xstrdup(f[8]);
	os_str_lower(host);
	dot = strchr(host, '.');
	if ((fl & 1) && dot != NULL) {
		char *w = xprintf("*%s", dot);

		free(host);
		host = w;
	}
	e = add_ep(&r, host, 443, fl & 2);
	free(host);
	e->protocol = OS_PROTOCOL_REST;
	e->access = (enum os_access)(flag(f[0], 1) % 4);
	e->enforcement = fl & 4 ? OS_ENFORCE_AUDIT : OS_ENFORCE_ENFORCE;
	add_l7(&e->rules, &e->nrules, f[1], f[2], f[3], f[4]);
	if (*f[5] != '\0')
		add_l7(&e->deny_rules, &e->ndeny_rules, f[5], f[6],
		    fl & 8 ? f[3] : NULL, f[4]);
	add_bin(&r, f[7]);
	if (fl & 16)
		add_bin(&r, "/usr/bin/*");
	os_policy_put_rule(p, &r);

	/* "b": the same host exactly, full access and the deny rule, or L4
	 * only with tls: skip. */
	memset(&r, 0, sizeof r);
	r.key = xstrdup(fl & 32 ? "0b" : "b");
	e = add_ep(&r, f[8], 443, false);
	if (fl & 64) {
		e->tls = OS_TLS_SKIP;
	} else {
		e->protocol = OS_PROTOCOL_REST;
		e->access = OS_ACCESS_FULL;
		e->enforcement = flag(f[0], 2) & 1 ? OS_ENFORCE_AUDIT :
		    OS_ENFORCE_ENFORCE;
		if (*f[5] != '\0')
			add_l7(&e->deny_rules, &e->ndeny_rules, f[5], f[6],
			    NULL, NULL);
	}
	add_bin(&r, flag(f[0], 2) & 2 ? "/bin/*" : "/usr/bin/curl");
	os_policy_put_rule(p, &r);

	/* "c": hostless, read-only, audited. */
	memset(&r, 0, sizeof r);
	r.key = xstrdup("c");
	e = add_ep(&r, "", 443, true);
	e->allowed_ips = xcalloc(1, sizeof *e->allowed_ips);
	e->allowed_ips[0] = xstrdup("10.0.0.0/8");
	e->nallowed_ips = fl & 128 ? 1 : 0;
	if (e->nallowed_ips == 0) {
		free(e->allowed_ips[0]);
		free(e->allowed_ips);
		e->allowed_ips = NULL;
	}
	e->protocol = OS_PROTOCOL_REST;
	e->access = OS_ACCESS_READ_ONLY;
	e->enforcement = OS_ENFORCE_AUDIT;
	add_bin(&r, "/**");
	os_policy_put_rule(p, &r);
	os_policy_normalize(p);

	memset(&q4, 0, sizeof q4);
	q4.host = f[8];
	q4.port = flag(f[0], 3) & 1 ? 80 : 443;
	q4.binary = flag(f[0], 3) & 2 ? NULL : f[9];
	anc[0] = f[10];
	q4.ancestors = anc;
	q4.nancestors = flag(f[0], 3) & 4 ? 0 : 1;
	q7.method = f[11];
	q7.path = f[12];
	q7.query = flag(f[0], 3) & 8 ? NULL : f[13];
	run(p, &q4, &q7);
	os_policy_free(p);
}

static void
yaml_case(char *text, char *sep)
{
	struct os_diags		 d = OS_DIAGS_INIT;
	struct os_policy	*p = NULL;
	struct os_l4_request	 q4;
	struct os_l7_request	 q7;
	char			*f[6];
	size_t			 n;

	*sep = '\0';
	n = split(sep + 4, f, OS_NELEM(f));
	if (os_policy_load_yaml(text, strlen(text), "fuzz.yaml", &p, NULL,
	    &d) != 0) {
		os_diags_free(&d);
		return;
	}
	os_diags_free(&d);
	memset(&q4, 0, sizeof q4);
	q4.host = n > 0 ? f[0] : "api.example.com";
	q4.port = n > 1 ? (uint16_t)strtoul(f[1], NULL, 10) : 443;
	q4.binary = n > 2 ? f[2] : "/usr/bin/curl";
	q7.method = n > 3 ? f[3] : "GET";
	q7.path = n > 4 ? f[4] : "/";
	q7.query = n > 5 ? f[5] : NULL;
	run(p, &q4, &q7);
	os_policy_free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*text, *sep;

	if (size > 64 * 1024)
		return 0;
	text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	if ((sep = strstr(text, "\n%%\n")) != NULL)
		yaml_case(text, sep);
	else
		template_case(text);
	free(text);
	return 0;
}
