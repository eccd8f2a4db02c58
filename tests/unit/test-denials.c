/*
 * The denial table (lib/denials.c): denials group by host, port, binary
 * and stage; L7 samples are distinct (method, path, decision) with their
 * own counts; both bounds hold and count what they turn away; strings are
 * copies.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openshell.h"
#include "tap.h"

static void
add(struct os_denials *t, const char *host, uint16_t port, const char *bin,
    const char *stage, const char *method, const char *path,
    const char *decision, int64_t ts)
{
	struct os_denial_event	e;
	char			*h = strdup(host), *p = path ? strdup(path) : NULL;

	memset(&e, 0, sizeof e);
	e.host = h;
	e.port = port;
	e.binary = bin;
	e.stage = stage;
	e.reason = "no matching network policy";
	e.method = method;
	e.path = p;
	e.decision = decision;
	e.permissive = decision != NULL && strcmp(decision, "allow_permissive") == 0;
	e.ts_ms = ts;
	os_denials_add(t, &e);
	/* The table keeps copies: the caller's strings may go at once. */
	memset(h, 'X', strlen(h));
	free(h);
	free(p);
}

static void
t_groups(void)
{
	struct os_denials	t;

	os_denials_init(&t, 8);
	add(&t, "api.github.com", 443, "/usr/bin/curl", "l4_deny", NULL, NULL, NULL, 100);
	add(&t, "api.github.com", 443, "/usr/bin/curl", "l4_deny", NULL, NULL, NULL, 300);
	add(&t, "api.github.com", 443, "/usr/bin/curl", "l4_deny", NULL, NULL, NULL, 200);
	add(&t, "api.github.com", 443, "/usr/bin/python3.11", "l4_deny", NULL, NULL, NULL, 400);
	add(&t, "api.github.com", 80, "/usr/bin/curl", "l4_deny", NULL, NULL, NULL, 500);
	add(&t, "api.github.com", 443, "/usr/bin/curl", "l7_deny", "POST", "/x", "deny", 600);
	CHECK_INT(t.n, 4);
	if (t.n == 4) {
		CHECK_STR(t.groups[0].host, "api.github.com");
		CHECK_INT(t.groups[0].port, 443);
		CHECK_STR(t.groups[0].binary, "/usr/bin/curl");
		CHECK_STR(t.groups[0].stage, "l4_deny");
		CHECK_INT(t.groups[0].count, 3);
		CHECK_INT(t.groups[0].first_ms, 100);
		CHECK_INT(t.groups[0].last_ms, 300);
		CHECK_INT(t.groups[0].nsamples, 0);
		CHECK_STR(t.groups[0].reason, "no matching network policy");
		CHECK_STR(t.groups[1].binary, "/usr/bin/python3.11");
		CHECK_INT(t.groups[2].port, 80);
		CHECK_STR(t.groups[3].stage, "l7_deny");
	}
	CHECK_INT(t.dropped, 0);
	os_denials_free(&t);
	CHECK_INT(t.n, 0);
}

static void
t_samples(void)
{
	struct os_denials	 t;
	struct os_denial_group	*g;
	char			 path[32];
	int			 i;

	os_denials_init(&t, 8);
	add(&t, "h", 443, "/b", "l7_deny", "POST", "/repos/a/issues", "deny", 1);
	add(&t, "h", 443, "/b", "l7_deny", "POST", "/repos/a/issues", "deny", 2);
	add(&t, "h", 443, "/b", "l7_deny", "GET", "/repos/a/issues", "deny", 3);
	add(&t, "h", 443, "/b", "l7_deny", "POST", "/repos/a/issues", "allow_permissive", 4);
	CHECK_INT(t.n, 1);
	g = &t.groups[0];
	CHECK_INT(g->count, 4);
	CHECK_INT(g->nsamples, 3);
	CHECK_STR(g->samples[0].method, "POST");
	CHECK_STR(g->samples[0].path, "/repos/a/issues");
	CHECK_STR(g->samples[0].decision, "deny");
	CHECK_INT(g->samples[0].count, 2);
	CHECK_STR(g->samples[1].method, "GET");
	CHECK_STR(g->samples[2].decision, "allow_permissive");
	CHECK(g->permissive);
	/* Distinct samples are bounded; the rest are counted. */
	for (i = 0; i < OS_DENIAL_SAMPLES + 5; i++) {
		snprintf(path, sizeof path, "/p/%d", i);
		add(&t, "h", 443, "/b", "l7_deny", "GET", path, "deny", 10 + i);
	}
	CHECK_INT(g->nsamples, OS_DENIAL_SAMPLES);
	CHECK_INT(g->unsampled, 3 + 5);
	CHECK_INT(g->count, 4 + OS_DENIAL_SAMPLES + 5);
	CHECK(!g->permissive);
	os_denials_free(&t);
}

static void
t_bounded(void)
{
	struct os_denials	t;
	char			host[32];
	int			i;

	os_denials_init(&t, 3);
	for (i = 0; i < 10; i++) {
		snprintf(host, sizeof host, "h%d.test", i);
		add(&t, host, 443, "", "l4_deny", NULL, NULL, NULL, i);
	}
	CHECK_INT(t.n, 3);
	CHECK_INT(t.dropped, 7);
	/* A known group still counts when the table is full. */
	add(&t, "h1.test", 443, "", "l4_deny", NULL, NULL, NULL, 99);
	CHECK_INT(t.groups[1].count, 2);
	CHECK_INT(t.dropped, 7);
	os_denials_free(&t);

	os_denials_init(&t, 0);
	add(&t, "h", 1, "", "ssrf", NULL, NULL, NULL, 1);
	CHECK_INT(t.n, 0);
	CHECK_INT(t.dropped, 1);
	os_denials_free(&t);
}

int
main(void)
{
	TAP_RUN(t_groups);
	TAP_RUN(t_samples);
	TAP_RUN(t_bounded);
	return tap_done();
}
