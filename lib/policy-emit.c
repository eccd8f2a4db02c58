/*
 * Canonical YAML emission and the canonical policy hash.
 *
 * One policy has exactly one canonical text: sections and keys in a fixed
 * order, network policies sorted by key, defaults and empty values left
 * out, strings quoted only when a YAML reader could take them for
 * something else. Loading the text gives back an equal policy, and its
 * SHA-256 is the policy's identity.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "openshell.h"

struct emitter {
	struct os_buf	b;
	bool		dash;   /* the next key opens a list item ("- ") */
};

static void
pad(struct emitter *e, int n)
{
	while (n-- > 0)
		os_buf_addc(&e->b, ' ');
}

/* Words a YAML 1.1 or 1.2 reader would not read as a string. */
static bool
special_word(const char *s)
{
	static const char *const words[] = {
		"~", "null", "Null", "NULL", "true", "True", "TRUE", "false",
		"False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO", "on",
		"On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N", ".inf",
		".Inf", ".INF", "-.inf", "+.inf", ".nan", ".NaN", ".NAN", "<<",
	};
	size_t	i;

	for (i = 0; i < OS_NELEM(words); i++) {
		if (strcmp(s, words[i]) == 0)
			return true;
	}
	return false;
}

/* Would a YAML reader take it for a number (ints, floats, 0x, 0o, 1_000)? */
static bool
numeric_like(const char *s)
{
	char	*end, *t, *w;
	bool	 num = false;

	if (!((*s >= '0' && *s <= '9') || *s == '+' || *s == '-' || *s == '.'))
		return false;
	t = xstrdup(s);
	for (w = t; *s != '\0'; s++) {
		if (*s != '_')
			*w++ = *s;
	}
	*w = '\0';
	if (*t != '\0') {
		(void)strtod(t, &end);
		num = *end == '\0';
		if (!num) {
			(void)strtoll(t, &end, 0);
			num = *end == '\0';
		}
		if (!num && t[0] == '0' && (t[1] == 'o' || t[1] == 'O') &&
		    t[2] != '\0' && strspn(t + 2, "01234567") == strlen(t + 2))
			num = true;
	}
	free(t);
	return num;
}

static bool
plain_safe(const char *s)
{
	const char	*c;

	if (*s == '\0')
		return false;
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	    (*s >= '0' && *s <= '9') || *s == '/' || *s == '_' || *s == '.'))
		return false;
	for (c = s; *c != '\0'; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || strchr("_./-+@*~%", *c) != NULL ||
		    (*c == ' ' && c[1] != '\0' && c[1] != ' ')))
			return false;
	}
	return !special_word(s) && !numeric_like(s);
}

/* Decodes one UTF-8 sequence; 0 if it is not a valid one. */
static size_t
utf8_decode(const unsigned char *s, unsigned long *cp)
{
	size_t	n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		*cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		*cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		*cp = s[0] & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && *cp < 0x80) || (n == 3 && *cp < 0x800) ||
	    (n == 4 && (*cp < 0x10000 || *cp > 0x10ffff)) ||
	    (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * Double-quoted, with everything outside printable ASCII escaped, so the
 * text stays ASCII and line-break characters cannot fold.
 */
static void
emit_double_quoted(struct emitter *e, const char *s)
{
	const unsigned char	*c = (const unsigned char *)s;
	unsigned long		 cp;
	size_t			 n;

	os_buf_addc(&e->b, '"');
	while (*c != '\0') {
		if (*c == '"' || *c == '\\') {
			os_buf_addc(&e->b, '\\');
			os_buf_addc(&e->b, (char)*c++);
		} else if (*c == '\t') {
			os_buf_adds(&e->b, "\\t");
			c++;
		} else if (*c == '\n') {
			os_buf_adds(&e->b, "\\n");
			c++;
		} else if (*c >= 0x20 && *c < 0x7f)
			os_buf_addc(&e->b, (char)*c++);
		else if (*c < 0x80 || (n = utf8_decode(c, &cp)) == 0) {
			/* Not representable as bytes in YAML; stays distinct. */
			os_buf_addf(&e->b, "\\x%02x", *c++);
		} else {
			if (cp <= 0xffff)
				os_buf_addf(&e->b, "\\u%04lx", cp);
			else
				os_buf_addf(&e->b, "\\U%08lx", cp);
			c += n;
		}
	}
	os_buf_addc(&e->b, '"');
}

static void
emit_str(struct emitter *e, const char *s)
{
	const char	*c;

	if (s == NULL)
		s = "";
	if (plain_safe(s)) {
		os_buf_adds(&e->b, s);
		return;
	}
	for (c = s; *c != '\0'; c++) {
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) {
			emit_double_quoted(e, s);
			return;
		}
	}
	if (*s == '\0') {
		os_buf_adds(&e->b, "\"\"");
		return;
	}
	os_buf_addc(&e->b, '\'');
	for (c = s; *c != '\0'; c++) {
		if (*c == '\'')
			os_buf_addc(&e->b, '\'');
		os_buf_addc(&e->b, *c);
	}
	os_buf_addc(&e->b, '\'');
}

/* Starts a "key:" line at indentation `ind` (or a list item's first key). */
static void
emit_key(struct emitter *e, int ind, const char *key)
{
	if (e->dash) {
		pad(e, ind - 2);
		os_buf_adds(&e->b, "- ");
		e->dash = false;
	} else
		pad(e, ind);
	emit_str(e, key);
	os_buf_addc(&e->b, ':');
}

static void
emit_kv(struct emitter *e, int ind, const char *key, const char *value)
{
	emit_key(e, ind, key);
	os_buf_addc(&e->b, ' ');
	emit_str(e, value);
	os_buf_addc(&e->b, '\n');
}

/* A value written as is: numbers, booleans, enum names. */
static void
emit_raw(struct emitter *e, int ind, const char *key, const char *value)
{
	emit_key(e, ind, key);
	os_buf_addc(&e->b, ' ');
	os_buf_adds(&e->b, value);
	os_buf_addc(&e->b, '\n');
}

/* A list item that turned out to have no keys. */
static void
end_item(struct emitter *e, int ind)
{
	if (!e->dash)
		return;
	pad(e, ind - 2);
	os_buf_adds(&e->b, "- {}\n");
	e->dash = false;
}

static void
emit_strv(struct emitter *e, int ind, const char *key, char *const *v,
    size_t n)
{
	size_t	i;

	if (n == 0)
		return;
	emit_key(e, ind, key);
	os_buf_addc(&e->b, '\n');
	for (i = 0; i < n; i++) {
		pad(e, ind + 2);
		os_buf_adds(&e->b, "- ");
		emit_str(e, v[i]);
		os_buf_addc(&e->b, '\n');
	}
}

static void
emit_l7_fields(struct emitter *e, int ind, const struct os_l7_rule *r)
{
	const struct os_query_matcher	*q;
	size_t				 i;

	if (r->method != NULL)
		emit_kv(e, ind, "method", r->method);
	if (r->path != NULL)
		emit_kv(e, ind, "path", r->path);
	if (r->nquery == 0)
		return;
	emit_key(e, ind, "query");
	os_buf_addc(&e->b, '\n');
	for (i = 0; i < r->nquery; i++) {
		q = &r->query[i];
		if (!q->any && q->nglobs == 1) {
			emit_kv(e, ind + 2, q->key, q->globs[0]);
			continue;
		}
		emit_key(e, ind + 2, q->key);
		os_buf_addc(&e->b, '\n');
		if (q->nglobs == 0) {
			pad(e, ind + 4);
			os_buf_adds(&e->b, "any: []\n");
		} else
			emit_strv(e, ind + 4, "any", q->globs, q->nglobs);
	}
}

static bool
l7_rule_empty(const struct os_l7_rule *r)
{
	return r->method == NULL && r->path == NULL && r->nquery == 0;
}

static void
emit_endpoint(struct emitter *e, int ind, const struct os_endpoint *ep)
{
	size_t	i;

	emit_kv(e, ind, "host", ep->host);
	if (ep->nports == 1) {
		emit_key(e, ind, "port");
		os_buf_addf(&e->b, " %u\n", (unsigned)ep->ports[0]);
	} else if (ep->nports > 1) {
		emit_key(e, ind, "ports");
		os_buf_adds(&e->b, " [");
		for (i = 0; i < ep->nports; i++)
			os_buf_addf(&e->b, "%s%u", i == 0 ? "" : ", ",
			    (unsigned)ep->ports[i]);
		os_buf_adds(&e->b, "]\n");
	}
	if (ep->protocol != OS_PROTOCOL_NONE)
		emit_raw(e, ind, "protocol", os_protocol_name(ep->protocol));
	if (ep->tls != OS_TLS_AUTO)
		emit_raw(e, ind, "tls", os_tls_name(ep->tls));
	if (ep->enforcement != OS_ENFORCE_UNSET)
		emit_raw(e, ind, "enforcement",
		    os_enforcement_name(ep->enforcement));
	if (ep->access != OS_ACCESS_NONE)
		emit_raw(e, ind, "access", os_access_name(ep->access));
	if (ep->nrules != 0) {
		emit_key(e, ind, "rules");
		os_buf_addc(&e->b, '\n');
		for (i = 0; i < ep->nrules; i++) {
			e->dash = true;
			emit_key(e, ind + 4, "allow");
			if (l7_rule_empty(&ep->rules[i])) {
				os_buf_adds(&e->b, " {}\n");
				continue;
			}
			os_buf_addc(&e->b, '\n');
			emit_l7_fields(e, ind + 6, &ep->rules[i]);
		}
	}
	if (ep->ndeny_rules != 0) {
		emit_key(e, ind, "deny_rules");
		os_buf_addc(&e->b, '\n');
		for (i = 0; i < ep->ndeny_rules; i++) {
			e->dash = true;
			emit_l7_fields(e, ind + 4, &ep->deny_rules[i]);
			end_item(e, ind + 4);
		}
	}
	emit_strv(e, ind, "allowed_ips", ep->allowed_ips, ep->nallowed_ips);
	if (ep->advisor_proposed)
		emit_raw(e, ind, "advisor_proposed", "true");
}

static void
emit_rule_body(struct emitter *e, int ind, const struct os_rule *r)
{
	size_t	i;

	if (r->name != NULL)
		emit_kv(e, ind, "name", r->name);
	if (r->nendpoints != 0) {
		emit_key(e, ind, "endpoints");
		os_buf_addc(&e->b, '\n');
		for (i = 0; i < r->nendpoints; i++) {
			e->dash = true;
			emit_endpoint(e, ind + 4, &r->endpoints[i]);
		}
	}
	if (r->nbinaries != 0) {
		emit_key(e, ind, "binaries");
		os_buf_addc(&e->b, '\n');
		for (i = 0; i < r->nbinaries; i++) {
			e->dash = true;
			emit_kv(e, ind + 4, "path", r->binaries[i].path);
			if (r->binaries[i].advisor_proposed)
				emit_raw(e, ind + 4, "advisor_proposed", "true");
		}
	}
}

static bool
rule_empty(const struct os_rule *r)
{
	return r->name == NULL && r->nendpoints == 0 && r->nbinaries == 0;
}

static int
rule_ptr_cmp(const void *a, const void *b)
{
	const struct os_rule	*x = *(const struct os_rule *const *)a;
	const struct os_rule	*y = *(const struct os_rule *const *)b;

	return strcmp(x->key != NULL ? x->key : "", y->key != NULL ? y->key : "");
}

static void
emit_policy(struct emitter *e, const struct os_policy *p)
{
	const struct os_fs_policy	*fs = &p->filesystem;
	const struct os_rule		**order;
	size_t				 i;

	os_buf_addf(&e->b, "version: %u\n", (unsigned)p->version);
	if (p->has_filesystem) {
		if (!fs->include_workdir && fs->nread_only == 0 &&
		    fs->nread_write == 0)
			os_buf_adds(&e->b, "filesystem_policy: {}\n");
		else {
			os_buf_adds(&e->b, "filesystem_policy:\n");
			if (fs->include_workdir)
				emit_raw(e, 2, "include_workdir", "true");
			emit_strv(e, 2, "read_only", fs->read_only,
			    fs->nread_only);
			emit_strv(e, 2, "read_write", fs->read_write,
			    fs->nread_write);
		}
	}
	if (p->has_landlock) {
		os_buf_adds(&e->b, "landlock:\n");
		emit_raw(e, 2, "compatibility",
		    p->landlock == OS_LANDLOCK_HARD_REQUIREMENT ?
		    "hard_requirement" : "best_effort");
	}
	if (p->has_process) {
		if (p->run_as_user == NULL && p->run_as_group == NULL)
			os_buf_adds(&e->b, "process: {}\n");
		else {
			os_buf_adds(&e->b, "process:\n");
			if (p->run_as_user != NULL)
				emit_kv(e, 2, "run_as_user", p->run_as_user);
			if (p->run_as_group != NULL)
				emit_kv(e, 2, "run_as_group", p->run_as_group);
		}
	}
	if (p->nrules == 0)
		return;
	/* Sorted here too, so that an unnormalised model emits the same. */
	order = xcalloc(p->nrules, sizeof *order);
	for (i = 0; i < p->nrules; i++)
		order[i] = &p->rules[i];
	qsort(order, p->nrules, sizeof *order, rule_ptr_cmp);
	os_buf_adds(&e->b, "network_policies:\n");
	for (i = 0; i < p->nrules; i++) {
		emit_key(e, 2, order[i]->key);
		if (rule_empty(order[i])) {
			os_buf_adds(&e->b, " {}\n");
			continue;
		}
		os_buf_addc(&e->b, '\n');
		emit_rule_body(e, 4, order[i]);
	}
	free(order);
}

char *
os_policy_to_yaml(const struct os_policy *p)
{
	struct emitter		 e = { OS_BUF_INIT, false };
	struct os_policy	*q;

	q = os_policy_dup(p);
	os_policy_normalize(q);
	emit_policy(&e, q);
	os_policy_free(q);
	return os_buf_steal(&e.b);
}

char *
os_rule_to_yaml(const struct os_rule *r)
{
	struct emitter		 e = { OS_BUF_INIT, false };
	struct os_policy	*q;

	q = os_policy_new();
	q->rules = xcalloc(1, sizeof *q->rules);
	q->nrules = 1;
	os_rule_copy(&q->rules[0], r);
	if (q->rules[0].key == NULL)
		q->rules[0].key = xstrdup("");
	os_policy_normalize(q);
	if (rule_empty(&q->rules[0]))
		os_buf_adds(&e.b, "{}\n");
	else
		emit_rule_body(&e, 0, &q->rules[0]);
	os_policy_free(q);
	return os_buf_steal(&e.b);
}

void
os_policy_hash(const struct os_policy *p, char out[65])
{
	char	*y;

	y = os_policy_to_yaml(p);
	os_sha256_hex(y, strlen(y), out);
	free(y);
}
