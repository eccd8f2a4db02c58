/*
 * The denial table: every denial the proxy reports, grouped under the
 * (host, port, binary, stage) a policy chunk would be proposed for, with
 * distinct L7 samples kept so that a proposal can name methods and paths.
 * Groups are few (one per endpoint and program an agent tried) and a
 * lookup is a scan; the bounds keep a denial storm from growing memory.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "openshell.h"

static bool
str_eq(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static char *
str_dup(const char *s)
{
	return xstrdup(s != NULL ? s : "");
}

void
os_denials_init(struct os_denials *t, size_t max_groups)
{
	memset(t, 0, sizeof *t);
	t->max_groups = max_groups;
}

static struct os_denial_group *
denials_group(struct os_denials *t, const struct os_denial_event *e)
{
	struct os_denial_group	*g;
	size_t			 i;

	for (i = 0; i < t->n; i++) {
		g = &t->groups[i];
		if (g->port == e->port && str_eq(g->host, e->host) &&
		    str_eq(g->binary, e->binary) && str_eq(g->stage, e->stage))
			return g;
	}
	if (t->n == t->max_groups)
		return NULL;
	if (t->n == t->cap) {
		t->cap = t->cap != 0 ? t->cap * 2 : 16;
		if (t->cap > t->max_groups)
			t->cap = t->max_groups;
		t->groups = xreallocarray(t->groups, t->cap, sizeof *t->groups);
	}
	g = &t->groups[t->n++];
	memset(g, 0, sizeof *g);
	g->host = str_dup(e->host);
	g->port = e->port;
	g->binary = str_dup(e->binary);
	g->stage = str_dup(e->stage);
	g->first_ms = e->ts_ms;
	return g;
}

static void
denials_sample(struct os_denial_group *g, const struct os_denial_event *e)
{
	struct os_denial_sample	*s;
	size_t			 i;

	if (e->method == NULL && e->path == NULL)
		return;
	for (i = 0; i < g->nsamples; i++) {
		s = &g->samples[i];
		if (str_eq(s->method, e->method) && str_eq(s->path, e->path) &&
		    str_eq(s->decision, e->decision)) {
			s->count++;
			return;
		}
	}
	if (g->nsamples == OS_DENIAL_SAMPLES) {
		g->unsampled++;
		return;
	}
	s = &g->samples[g->nsamples++];
	s->method = str_dup(e->method);
	s->path = str_dup(e->path);
	s->decision = str_dup(e->decision);
	s->count = 1;
}

void
os_denials_add(struct os_denials *t, const struct os_denial_event *e)
{
	struct os_denial_group	*g;

	if ((g = denials_group(t, e)) == NULL) {
		t->dropped++;
		return;
	}
	g->count++;
	if (e->ts_ms < g->first_ms)
		g->first_ms = e->ts_ms;
	if (e->ts_ms > g->last_ms)
		g->last_ms = e->ts_ms;
	g->permissive = e->permissive;
	free(g->reason);
	g->reason = str_dup(e->reason);
	denials_sample(g, e);
}

void
os_denials_free(struct os_denials *t)
{
	size_t	i, j;

	for (i = 0; i < t->n; i++) {
		struct os_denial_group *g = &t->groups[i];

		free(g->host);
		free(g->binary);
		free(g->stage);
		free(g->reason);
		for (j = 0; j < g->nsamples; j++) {
			free(g->samples[j].method);
			free(g->samples[j].path);
			free(g->samples[j].decision);
		}
	}
	free(t->groups);
	os_denials_init(t, t->max_groups);
}
