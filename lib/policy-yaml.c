/*
 * Loading a policy from YAML.
 *
 * libyaml's document API gives every node its start mark, so each value
 * can be traced back to a line and column. The loader checks shape
 * (syntax, keys, types, enum values), builds the model, and records where
 * each field was found in a source map (field path -> position) that
 * os_policy_validate() then uses for its own messages about meaning.
 *
 * The walk is driven by the schema, never by the document's own graph, so
 * nesting is bounded; aliases can still make a small document expand
 * into a huge one, which a visit budget stops.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "openshell.h"

struct srcent {
	char		*field;
	unsigned	 line;
	unsigned	 col;
};

struct os_srcmap {
	struct srcent	*v;
	size_t		 n;
	size_t		 cap;
};

struct loader {
	yaml_document_t	*doc;
	const char	*file;
	struct os_diags	*diags;
	struct os_srcmap *map;
	struct os_buf	 path;       /* field path of the node being loaded */
	char		**errfields;  /* fields the loader reported errors on */
	size_t		 nerrfields;
	size_t		 budget;     /* node visits left */
	bool		 stop;
};


/* ------------------------------------------------------------------------
 * Source map
 */

static void
srcmap_add(struct os_srcmap *m, const char *field, unsigned line, unsigned col)
{
	if (m == NULL)
		return;
	if (m->n == m->cap) {
		m->cap = m->cap == 0 ? 64 : m->cap * 2;
		m->v = xreallocarray(m->v, m->cap, sizeof *m->v);
	}
	m->v[m->n].field = xstrdup(field);
	m->v[m->n].line = line;
	m->v[m->n].col = col;
	m->n++;
}

static int
srcent_cmp(const void *a, const void *b)
{
	const struct srcent	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->field, y->field)) != 0)
		return c;
	/* Keep the first recorded position of a field. */
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->col < y->col ? -1 : x->col > y->col;
}

static int
srcent_cmp_field(const void *a, const void *b)
{
	const struct srcent	*x = a, *y = b;

	return strcmp(x->field, y->field);
}

static void
srcmap_finish(struct os_srcmap *m)
{
	size_t	i, n;

	if (m == NULL || m->n < 2)
		return;
	qsort(m->v, m->n, sizeof *m->v, srcent_cmp);
	for (i = 1, n = 1; i < m->n; i++) {
		if (strcmp(m->v[i].field, m->v[n - 1].field) == 0)
			free(m->v[i].field);
		else
			m->v[n++] = m->v[i];
	}
	m->n = n;
}

static const struct srcent *
srcmap_find(const struct os_srcmap *m, const char *field)
{
	struct srcent	k;

	k.field = (char *)field;
	k.line = k.col = 0;
	if (m->n == 0)
		return NULL;
	return bsearch(&k, m->v, m->n, sizeof *m->v, srcent_cmp_field);
}

void
os_srcmap_free(struct os_srcmap *m)
{
	size_t	i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++)
		free(m->v[i].field);
	free(m->v);
	free(m);
}

bool
os_srcmap_lookup(const struct os_srcmap *m, const char *field, unsigned *line,
    unsigned *col)
{
	const struct srcent	*e;
	char			*f, *dot, *br;

	if (m == NULL || field == NULL)
		return false;
	f = xstrdup(field);
	for (;;) {
		if ((e = srcmap_find(m, f)) != NULL) {
			*line = e->line;
			*col = e->col;
			free(f);
			return true;
		}
		/* Up one level: drop ".name" or "[i]", whichever is last. */
		dot = strrchr(f, '.');
		br = strrchr(f, '[');
		if (br != NULL && (dot == NULL || br > dot))
			*br = '\0';
		else if (dot != NULL)
			*dot = '\0';
		else
			break;
	}
	free(f);
	return false;
}

/* ------------------------------------------------------------------------
 * Loader state: field path, diagnostics, node helpers
 */

static unsigned
node_line(const yaml_node_t *n)
{
	return n != NULL ? (unsigned)n->start_mark.line + 1 : 0;
}

static unsigned
node_col(const yaml_node_t *n)
{
	return n != NULL ? (unsigned)n->start_mark.column + 1 : 0;
}

static const char *
path_str(struct loader *ld)
{
	return os_buf_str(&ld->path);
}

static size_t
path_push_key(struct loader *ld, const char *key)
{
	size_t	old = ld->path.len;

	if (old != 0)
		os_buf_addc(&ld->path, '.');
	os_buf_adds(&ld->path, key);
	return old;
}

static size_t
path_push_index(struct loader *ld, size_t i)
{
	size_t	old = ld->path.len;

	os_buf_addf(&ld->path, "[%zu]", i);
	return old;
}

static void
path_pop(struct loader *ld, size_t old)
{
	ld->path.len = old;
	if (ld->path.data != NULL)
		ld->path.data[old] = '\0';
}

static void
ld_mark_error_field(struct loader *ld, const char *field)
{
	if (field == NULL || *field == '\0')
		return;
	ld->errfields = xreallocarray(ld->errfields, ld->nerrfields + 1,
	    sizeof *ld->errfields);
	ld->errfields[ld->nerrfields++] = xstrdup(field);
}

static void OS_PRINTF(5, 6)
ld_diag(struct loader *ld, enum os_diag_level level, const yaml_node_t *n,
    const char *field, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	msg = xvprintf(fmt, ap);
	va_end(ap);
	os_diags_add(ld->diags, level, ld->file, node_line(n), node_col(n),
	    field, "%s", msg);
	free(msg);
	if (level == OS_DIAG_ERROR)
		ld_mark_error_field(ld, field);
}

#define ld_error(ld, n, ...) \
	ld_diag((ld), OS_DIAG_ERROR, (n), path_str(ld), __VA_ARGS__)
#define ld_warning(ld, n, ...) \
	ld_diag((ld), OS_DIAG_WARNING, (n), path_str(ld), __VA_ARGS__)

/*
 * An error about a key itself (unknown, duplicate): what was loaded is
 * complete, so the validator's findings below it still count.
 */
static void OS_PRINTF(3, 4)
ld_key_error(struct loader *ld, const yaml_node_t *n, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	msg = xvprintf(fmt, ap);
	va_end(ap);
	os_diags_add(ld->diags, OS_DIAG_ERROR, ld->file, node_line(n),
	    node_col(n), path_str(ld), "%s", msg);
	free(msg);
}

/* One more node visited; false once the budget is spent. */
static bool
ld_visit(struct loader *ld, const yaml_node_t *n)
{
	if (ld->stop)
		return false;
	if (ld->budget == 0) {
		ld_diag(ld, OS_DIAG_ERROR, n, NULL,
		    _("the document is too large once its aliases are expanded"));
		ld->stop = true;
		return false;
	}
	ld->budget--;
	return true;
}

static const char *
sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static bool
is_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* A YAML null: the key is treated as absent. */
static bool
is_null(const yaml_node_t *n)
{
	const char	*v;

	if (!is_plain(n))
		return false;
	v = sval(n);
	return *v == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	    strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static bool
is_bool_word(const char *v, bool *out)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 ||
	    strcmp(v, "TRUE") == 0) {
		*out = true;
		return true;
	}
	if (strcmp(v, "false") == 0 || strcmp(v, "False") == 0 ||
	    strcmp(v, "FALSE") == 0) {
		*out = false;
		return true;
	}
	return false;
}

/* Optional sign and decimal digits; the value saturates. */
static bool
parse_int(const char *v, long long *out)
{
	bool		neg = false;
	long long	x = 0;

	if (*v == '-' || *v == '+')
		neg = *v++ == '-';
	if (*v == '\0')
		return false;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9')
			return false;
		if (x > (LLONG_MAX - 9) / 10)
			x = LLONG_MAX / 2;  /* far out of any range we accept */
		else
			x = x * 10 + (*v - '0');
	}
	*out = neg ? -x : x;
	return true;
}

static void
type_error(struct loader *ld, const yaml_node_t *n, const char *expected)
{
	long long	 i;
	bool		 b;
	char		*v;

	switch (n->type) {
	case YAML_SCALAR_NODE:
		if (is_null(n)) {
			ld_error(ld, n, _("expected %s, got null"), expected);
			break;
		}
		v = os_diag_show(sval(n));
		if (!is_plain(n) && (parse_int(sval(n), &i) ||
		    is_bool_word(sval(n), &b)))
			ld_error(ld, n, _("expected %s, got the string '%s' "
			    "(remove the quotes)"), expected, v);
		else
			ld_error(ld, n, _("expected %s, got '%s'"), expected, v);
		free(v);
		break;
	case YAML_SEQUENCE_NODE:
		ld_error(ld, n, _("expected %s, got a list"), expected);
		break;
	case YAML_MAPPING_NODE:
		ld_error(ld, n, _("expected %s, got a mapping"), expected);
		break;
	default:
		ld_error(ld, n, _("expected %s"), expected);
		break;
	}
}

/* A string value (any scalar style). */
static bool
get_str(struct loader *ld, const yaml_node_t *n, char **out)
{
	if (n->type != YAML_SCALAR_NODE) {
		type_error(ld, n, _("a string"));
		return false;
	}
	if (strlen(sval(n)) != n->data.scalar.length) {
		ld_error(ld, n, _("the string contains a NUL character"));
		return false;
	}
	*out = xstrdup(sval(n));
	return true;
}

/* Replaces *dst unless the value is null (absent). */
static void
load_str_field(struct loader *ld, const yaml_node_t *n, char **dst)
{
	char	*s;

	if (is_null(n))
		return;
	if (get_str(ld, n, &s)) {
		free(*dst);
		*dst = s;
	}
}

static void
load_bool_field(struct loader *ld, const yaml_node_t *n, bool *dst)
{
	bool	b;

	if (is_null(n))
		return;
	if (is_plain(n) && is_bool_word(sval(n), &b))
		*dst = b;
	else
		type_error(ld, n, _("true or false"));
}

static bool
get_int(struct loader *ld, const yaml_node_t *n, long long *out)
{
	if (is_plain(n) && !is_null(n) && parse_int(sval(n), out))
		return true;
	type_error(ld, n, _("an integer"));
	return false;
}

struct enum_name {
	const char	*name;
	int		 value;
};

static void
load_enum_field(struct loader *ld, const yaml_node_t *n,
    const struct enum_name *names, size_t nnames, int *dst)
{
	struct os_buf	 allowed = OS_BUF_INIT;
	size_t		 i;
	char		*v;

	if (is_null(n))
		return;
	if (n->type != YAML_SCALAR_NODE) {
		type_error(ld, n, _("a string"));
		return;
	}
	for (i = 0; i < nnames; i++) {
		if (strcasecmp(sval(n), names[i].name) == 0) {
			*dst = names[i].value;
			os_buf_free(&allowed);
			return;
		}
		os_buf_addf(&allowed, "%s%s", i == 0 ? "" : ", ", names[i].name);
	}
	v = os_diag_show(sval(n));
	ld_error(ld, n, _("unknown value '%s' (allowed: %s)"), v,
	    os_buf_str(&allowed));
	free(v);
	os_buf_free(&allowed);
}

/* Items of a sequence node; NULL with a type error if it is not one. */
static yaml_node_item_t *
seq_items(struct loader *ld, const yaml_node_t *n, size_t *count)
{
	*count = 0;
	if (n->type != YAML_SEQUENCE_NODE) {
		type_error(ld, n, _("a list"));
		return NULL;
	}
	*count = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
	return n->data.sequence.items.start;
}

static yaml_node_t *
get_node(struct loader *ld, int index)
{
	return yaml_document_get_node(ld->doc, index);
}

/*
 * A list of strings: *out gets one entry per item so that indices match
 * the document; a bad item is reported and kept as "".
 */
static void
load_strv_field(struct loader *ld, const yaml_node_t *n, char ***out,
    size_t *nout)
{
	yaml_node_item_t	*items;
	yaml_node_t		*it;
	size_t			 i, count, old;
	char			**v, *s;

	if (is_null(n))
		return;
	if ((items = seq_items(ld, n, &count)) == NULL || count == 0)
		return;
	v = xcalloc(count, sizeof *v);
	for (i = 0; i < count; i++) {
		old = path_push_index(ld, i);
		it = get_node(ld, items[i]);
		s = NULL;
		if (it != NULL && ld_visit(ld, it)) {
			srcmap_add(ld->map, path_str(ld), node_line(it),
			    node_col(it));
			if (is_null(it))
				type_error(ld, it, _("a string"));
			else
				(void)get_str(ld, it, &s);
		}
		v[i] = s != NULL ? s : xstrdup("");
		path_pop(ld, old);
	}
	os_strv_free(*out, *nout);
	*out = v;
	*nout = count;
}

/* ------------------------------------------------------------------------
 * Mappings: duplicate and unknown keys, dispatch by key
 */

struct keyref {
	const char	*s;
	size_t		 len;
	size_t		 i;
};

static int
keyref_cmp(const void *a, const void *b)
{
	const struct keyref	*x = a, *y = b;
	size_t			 n = x->len < y->len ? x->len : y->len;
	int			 c;

	if ((c = memcmp(x->s, y->s, n)) != 0)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/*
 * For each pair, the index of the earlier pair with the same scalar key,
 * or SIZE_MAX. Sorting keeps this linearithmic for big mappings.
 */
static size_t *
find_duplicate_keys(struct loader *ld, const yaml_node_t *n, size_t np)
{
	yaml_node_pair_t	*pairs = n->data.mapping.pairs.start;
	struct keyref		*k;
	yaml_node_t		*key;
	size_t			*first, i, nk = 0;

	first = xcalloc(np, sizeof *first);
	k = xcalloc(np, sizeof *k);
	for (i = 0; i < np; i++) {
		first[i] = SIZE_MAX;
		key = get_node(ld, pairs[i].key);
		if (key == NULL || key->type != YAML_SCALAR_NODE)
			continue;
		k[nk].s = sval(key);
		k[nk].len = key->data.scalar.length;
		k[nk].i = i;
		nk++;
	}
	qsort(k, nk, sizeof *k, keyref_cmp);
	for (i = 1; i < nk; i++) {
		if (k[i].len == k[i - 1].len &&
		    memcmp(k[i].s, k[i - 1].s, k[i].len) == 0)
			first[k[i].i] = first[k[i - 1].i] != SIZE_MAX ?
			    first[k[i - 1].i] : k[i - 1].i;
	}
	free(k);
	return first;
}

typedef void	(*pair_fn)(struct loader *, const char *key,
		    const yaml_node_t *keynode, const yaml_node_t *value,
		    void *arg);

/*
 * Calls fn for each pair of a mapping whose key is a string that did not
 * appear before, with the field path extended by the key. Null is an
 * empty mapping. Returns false if `n` is not a mapping.
 */
static bool
walk_pairs(struct loader *ld, const yaml_node_t *n, pair_fn fn, void *arg)
{
	yaml_node_pair_t	*pairs;
	yaml_node_t		*key, *val;
	size_t			*first, i, np, old;
	char			*ks;

	if (is_null(n))
		return true;
	if (n->type != YAML_MAPPING_NODE) {
		type_error(ld, n, _("a mapping"));
		return false;
	}
	pairs = n->data.mapping.pairs.start;
	np = (size_t)(n->data.mapping.pairs.top - pairs);
	if (np == 0)
		return true;
	first = find_duplicate_keys(ld, n, np);
	for (i = 0; i < np && !ld->stop; i++) {
		key = get_node(ld, pairs[i].key);
		val = get_node(ld, pairs[i].value);
		if (key == NULL || val == NULL || !ld_visit(ld, val))
			continue;
		if (key->type != YAML_SCALAR_NODE) {
			ld_error(ld, key, _("mapping keys must be strings"));
			continue;
		}
		ks = os_diag_show(sval(key));
		old = path_push_key(ld, ks);
		if (strlen(sval(key)) != key->data.scalar.length)
			ld_error(ld, key, _("the key contains a NUL character"));
		else if (first[i] != SIZE_MAX)
			ld_key_error(ld, key, _("duplicate key '%s' (first at line %u)"),
			    ks, node_line(get_node(ld, pairs[first[i]].key)));
		else {
			/* A mapping's place is its key; anything else, the value. */
			if (val->type == YAML_MAPPING_NODE)
				srcmap_add(ld->map, path_str(ld), node_line(key),
				    node_col(key));
			else
				srcmap_add(ld->map, path_str(ld), node_line(val),
				    node_col(val));
			fn(ld, sval(key), key, val, arg);
		}
		path_pop(ld, old);
		free(ks);
	}
	free(first);
	return true;
}

typedef void	(*field_fn)(struct loader *, const yaml_node_t *, void *);

struct field {
	const char	*name;
	field_fn	 fn;
};

struct fields_walk {
	const struct field	*f;
	size_t			 nf;
	void			*obj;
	uint32_t		 seen;
};

/* Edit distance, for "did you mean". Keys are short. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b), i, j, prev, cur, t;
	size_t	row[64];

	if (la >= OS_NELEM(row) || lb >= OS_NELEM(row))
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			cur = row[j];
			t = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < t)
				t = row[j] + 1;
			if (row[j - 1] + 1 < t)
				t = row[j - 1] + 1;
			row[j] = t;
			prev = cur;
		}
	}
	return row[lb];
}

static void
fields_pair(struct loader *ld, const char *key, const yaml_node_t *keynode,
    const yaml_node_t *val, void *arg)
{
	struct fields_walk	*w = arg;
	struct os_buf		 allowed = OS_BUF_INIT;
	const char		*best = NULL;
	size_t			 i, d, bestd = 3;
	char			*k;

	for (i = 0; i < w->nf; i++) {
		if (strcmp(key, w->f[i].name) == 0) {
			w->seen |= 1u << i;
			w->f[i].fn(ld, val, w->obj);
			return;
		}
	}
	for (i = 0; i < w->nf; i++) {
		os_buf_addf(&allowed, "%s%s", i == 0 ? "" : ", ", w->f[i].name);
		if ((d = edit_distance(key, w->f[i].name)) < bestd &&
		    d < strlen(w->f[i].name)) {
			bestd = d;
			best = w->f[i].name;
		}
	}
	k = os_diag_show(key);
	if (best != NULL)
		ld_key_error(ld, keynode, _("unknown key '%s'; did you mean '%s'? "
		    "(allowed: %s)"), k, best, os_buf_str(&allowed));
	else
		ld_key_error(ld, keynode, _("unknown key '%s' (allowed: %s)"), k,
		    os_buf_str(&allowed));
	free(k);
	os_buf_free(&allowed);
}

/* Returns a bit mask of the fields that were present (f[i] -> 1 << i). */
static uint32_t
walk_fields(struct loader *ld, const yaml_node_t *n, const struct field *f,
    size_t nf, void *obj)
{
	struct fields_walk	w = { f, nf, obj, 0 };

	walk_pairs(ld, n, fields_pair, &w);
	return w.seen;
}

#define FIELD_BIT(fields, name) field_bit((fields), OS_NELEM(fields), (name))

static uint32_t
field_bit(const struct field *f, size_t nf, const char *name)
{
	size_t	i;

	for (i = 0; i < nf; i++) {
		if (strcmp(f[i].name, name) == 0)
			return 1u << i;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * The schema
 */

static const struct enum_name protocol_names[] = {
	{ "rest", OS_PROTOCOL_REST },
};
static const struct enum_name tls_names[] = {
	{ "terminate", OS_TLS_TERMINATE },
	{ "skip", OS_TLS_SKIP },
};
static const struct enum_name enforcement_names[] = {
	{ "enforce", OS_ENFORCE_ENFORCE },
	{ "audit", OS_ENFORCE_AUDIT },
};
static const struct enum_name access_names[] = {
	{ "read-only", OS_ACCESS_READ_ONLY },
	{ "read-write", OS_ACCESS_READ_WRITE },
	{ "full", OS_ACCESS_FULL },
};
static const struct enum_name landlock_names[] = {
	{ "best_effort", OS_LANDLOCK_BEST_EFFORT },
	{ "hard_requirement", OS_LANDLOCK_HARD_REQUIREMENT },
};

/* query: {param: glob | {any: [globs]}} */

static void
f_query_any(struct loader *ld, const yaml_node_t *n, void *obj)
{
	struct os_query_matcher	*q = obj;

	q->any = true;
	load_strv_field(ld, n, &q->globs, &q->nglobs);
}

static const struct field query_matcher_fields[] = {
	{ "any", f_query_any },
};

struct query_load {
	struct os_l7_rule	*rule;
	size_t			 cap;
};

static void
query_pair(struct loader *ld, const char *key, const yaml_node_t *keynode,
    const yaml_node_t *val, void *arg)
{
	struct query_load	*ql = arg;
	struct os_query_matcher	*q;
	uint32_t		 seen;
	char			*s;

	if (ql->rule->nquery == ql->cap)
		return;
	q = &ql->rule->query[ql->rule->nquery++];
	q->key = xstrdup(key);
	if (val->type == YAML_MAPPING_NODE) {
		seen = walk_fields(ld, val, query_matcher_fields,
		    OS_NELEM(query_matcher_fields), q);
		if (seen == 0) {
			q->any = true;
			ld_error(ld, val, _("expected a glob or {any: [globs]}"));
		}
		return;
	}
	if (val->type != YAML_SCALAR_NODE || is_null(val)) {
		type_error(ld, val, _("a glob or {any: [globs]}"));
		s = NULL;
	} else if (!get_str(ld, val, &s))
		s = NULL;
	q->globs = xcalloc(1, sizeof *q->globs);
	q->globs[0] = s != NULL ? s : xstrdup("");
	q->nglobs = 1;
}

static void
f_rule_query(struct loader *ld, const yaml_node_t *n, void *obj)
{
	struct os_l7_rule	*r = obj;
	struct query_load	 ql;
	size_t			 np;

	if (n->type != YAML_MAPPING_NODE) {
		walk_pairs(ld, n, query_pair, NULL);  /* reports the type */
		return;
	}
	np = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if (r->query != NULL || np == 0)
		return;
	r->query = xcalloc(np, sizeof *r->query);
	ql.rule = r;
	ql.cap = np;
	walk_pairs(ld, n, query_pair, &ql);
}

static void
f_rule_method(struct loader *ld, const yaml_node_t *n, void *obj)
{
	load_str_field(ld, n, &((struct os_l7_rule *)obj)->method);
}

static void
f_rule_path(struct loader *ld, const yaml_node_t *n, void *obj)
{
	load_str_field(ld, n, &((struct os_l7_rule *)obj)->path);
}

static const struct field l7_rule_fields[] = {
	{ "method", f_rule_method },
	{ "path", f_rule_path },
	{ "query", f_rule_query },
};

static void
f_rule_allow(struct loader *ld, const yaml_node_t *n, void *obj)
{
	walk_fields(ld, n, l7_rule_fields, OS_NELEM(l7_rule_fields), obj);
}

static const struct field allow_rule_fields[] = {
	{ "allow", f_rule_allow },
};

/*
 * A list of L7 rules; one model rule per item so that indices match.
 * `allow` is true for `rules` ({allow: {...}} items), false for
 * `deny_rules` (the inner mapping directly).
 */
static void
load_l7_rules(struct loader *ld, const yaml_node_t *n, bool allow,
    struct os_l7_rule **out, size_t *nout)
{
	yaml_node_item_t	*items;
	yaml_node_t		*it;
	struct os_l7_rule	*v;
	size_t			 i, count, old;
	uint32_t		 seen;

	if (is_null(n))
		return;
	if ((items = seq_items(ld, n, &count)) == NULL)
		return;
	if (count == 0) {
		if (allow)
			ld_error(ld, n, _("the rules list is empty, which would "
			    "deny every request; use 'access: full' or add rules"));
		else
			ld_warning(ld, n, _("the deny_rules list is empty and has "
			    "no effect"));
		return;
	}
	if (*out != NULL)
		return;
	v = xcalloc(count, sizeof *v);
	for (i = 0; i < count; i++) {
		old = path_push_index(ld, i);
		it = get_node(ld, items[i]);
		if (it != NULL && ld_visit(ld, it)) {
			srcmap_add(ld->map, path_str(ld), node_line(it),
			    node_col(it));
			if (allow) {
				seen = walk_fields(ld, it, allow_rule_fields,
				    OS_NELEM(allow_rule_fields), &v[i]);
				if (seen == 0 && it->type == YAML_MAPPING_NODE)
					ld_error(ld, it, _("a rule needs 'allow' "
					    "(written '- allow: {method: GET, "
					    "path: /**}')"));
			} else
				walk_fields(ld, it, l7_rule_fields,
				    OS_NELEM(l7_rule_fields), &v[i]);
		}
		path_pop(ld, old);
	}
	*out = v;
	*nout = count;
}

/* endpoint */

struct endpoint_load {
	struct os_endpoint	*e;
	const yaml_node_t	*ports_node;
	bool			 port_error;
};

static void
f_ep_host(struct loader *ld, const yaml_node_t *n, void *obj)
{
	load_str_field(ld, n, &((struct endpoint_load *)obj)->e->host);
}

static bool
load_port(struct loader *ld, const yaml_node_t *n, uint16_t *out)
{
	long long	v;

	if (!get_int(ld, n, &v))
		return false;
	if (v < 1 || v > 65535) {
		ld_error(ld, n, _("invalid port %s (expected 1-65535)"), sval(n));
		return false;
	}
	*out = (uint16_t)v;
	return true;
}

static void
f_ep_port(struct loader *ld, const yaml_node_t *n, void *obj)
{
	struct endpoint_load	*el = obj;
	uint16_t		 port;

	if (is_null(n))
		return;
	if (!load_port(ld, n, &port)) {
		el->port_error = true;
		return;
	}
	if (el->ports_node != NULL)
		return;  /* `ports` wins; the clash is reported after the walk */
	free(el->e->ports);
	el->e->ports = xmalloc(sizeof *el->e->ports);
	el->e->ports[0] = port;
	el->e->nports = 1;
}

static void
f_ep_ports(struct loader *ld, const yaml_node_t *n, void *obj)
{
	struct endpoint_load	*el = obj;
	yaml_node_item_t	*items;
	yaml_node_t		*it;
	uint16_t		*v;
	size_t			 i, j, count, nv = 0, old;

	if (is_null(n))
		return;
	el->ports_node = n;
	if ((items = seq_items(ld, n, &count)) == NULL) {
		el->port_error = true;
		return;
	}
	v = count != 0 ? xcalloc(count, sizeof *v) : NULL;
	for (i = 0; i < count; i++) {
		old = path_push_index(ld, i);
		it = get_node(ld, items[i]);
		if (it != NULL && ld_visit(ld, it)) {
			srcmap_add(ld->map, path_str(ld), node_line(it),
			    node_col(it));
			if (load_port(ld, it, &v[nv])) {
				for (j = 0; j < nv && v[j] != v[nv]; j++)
					;
				if (j < nv)
					ld_warning(ld, it,
					    _("duplicate port %u"), v[nv]);
				else
					nv++;
			} else
				el->port_error = true;
		}
		path_pop(ld, old);
	}
	free(el->e->ports);
	el->e->ports = v;
	el->e->nports = nv;
}

static void
f_ep_protocol(struct loader *ld, const yaml_node_t *n, void *obj)
{
	int	v = (int)((struct endpoint_load *)obj)->e->protocol;

	load_enum_field(ld, n, protocol_names, OS_NELEM(protocol_names), &v);
	((struct endpoint_load *)obj)->e->protocol = (enum os_protocol)v;
}

static void
f_ep_tls(struct loader *ld, const yaml_node_t *n, void *obj)
{
	int	v = (int)((struct endpoint_load *)obj)->e->tls;

	load_enum_field(ld, n, tls_names, OS_NELEM(tls_names), &v);
	((struct endpoint_load *)obj)->e->tls = (enum os_tls)v;
}

static void
f_ep_enforcement(struct loader *ld, const yaml_node_t *n, void *obj)
{
	int	v = (int)((struct endpoint_load *)obj)->e->enforcement;

	load_enum_field(ld, n, enforcement_names, OS_NELEM(enforcement_names),
	    &v);
	((struct endpoint_load *)obj)->e->enforcement = (enum os_enforcement)v;
}

static void
f_ep_access(struct loader *ld, const yaml_node_t *n, void *obj)
{
	int	v = (int)((struct endpoint_load *)obj)->e->access;

	load_enum_field(ld, n, access_names, OS_NELEM(access_names), &v);
	((struct endpoint_load *)obj)->e->access = (enum os_access)v;
}

static void
f_ep_rules(struct loader *ld, const yaml_node_t *n, void *obj)
{
	struct os_endpoint	*e = ((struct endpoint_load *)obj)->e;
	size_t			 old, len;

	load_l7_rules(ld, n, true, &e->rules, &e->nrules);
	/* An empty list is the same mistake as "rest without rules". */
	if (n->type == YAML_SEQUENCE_NODE &&
	    n->data.sequence.items.top == n->data.sequence.items.start) {
		old = ld->path.len;
		len = old - strlen(".rules");
		path_pop(ld, len);
		path_push_key(ld, "protocol");
		ld_mark_error_field(ld, path_str(ld));
		path_pop(ld, len);
		path_push_key(ld, "rules");
	}
}

static void
f_ep_deny_rules(struct loader *ld, const yaml_node_t *n, void *obj)
{
	struct os_endpoint	*e = ((struct endpoint_load *)obj)->e;

	load_l7_rules(ld, n, false, &e->deny_rules, &e->ndeny_rules);
}

static void
f_ep_allowed_ips(struct loader *ld, const yaml_node_t *n, void *obj)
{
	struct os_endpoint	*e = ((struct endpoint_load *)obj)->e;

	load_strv_field(ld, n, &e->allowed_ips, &e->nallowed_ips);
}

static void
f_ep_advisor(struct loader *ld, const yaml_node_t *n, void *obj)
{
	load_bool_field(ld, n, &((struct endpoint_load *)obj)->e->advisor_proposed);
}

static const struct field endpoint_fields[] = {
	{ "host", f_ep_host },
	{ "port", f_ep_port },
	{ "ports", f_ep_ports },
	{ "protocol", f_ep_protocol },
	{ "tls", f_ep_tls },
	{ "enforcement", f_ep_enforcement },
	{ "access", f_ep_access },
	{ "rules", f_ep_rules },
	{ "deny_rules", f_ep_deny_rules },
	{ "allowed_ips", f_ep_allowed_ips },
	{ "advisor_proposed", f_ep_advisor },
};

static void
load_endpoint(struct loader *ld, const yaml_node_t *n, struct os_endpoint *e)
{
	struct endpoint_load	 el = { e, NULL, false };
	uint32_t		 seen, both;
	size_t			 old;

	both = FIELD_BIT(endpoint_fields, "port") |
	    FIELD_BIT(endpoint_fields, "ports");
	seen = walk_fields(ld, n, endpoint_fields, OS_NELEM(endpoint_fields),
	    &el);
	if ((seen & both) == both) {
		old = path_push_key(ld, "ports");
		ld_error(ld, el.ports_node, _("'port' and 'ports' cannot both be "
		    "set; use 'ports' for several ports"));
		path_pop(ld, old);
		el.port_error = true;
	}
	/* The validator would only add "no port" on top of these. */
	if (el.port_error) {
		old = path_push_key(ld, "port");
		ld_mark_error_field(ld, path_str(ld));
		path_pop(ld, old);
	}
	if (e->host == NULL)
		e->host = xstrdup("");
}

/* binaries */

static void
f_bin_path(struct loader *ld, const yaml_node_t *n, void *obj)
{
	load_str_field(ld, n, &((struct os_binary *)obj)->path);
}

static void
f_bin_advisor(struct loader *ld, const yaml_node_t *n, void *obj)
{
	load_bool_field(ld, n, &((struct os_binary *)obj)->advisor_proposed);
}

static const struct field binary_fields[] = {
	{ "path", f_bin_path },
	{ "advisor_proposed", f_bin_advisor },
};

/* network policy (one rule) */

static void
f_rule_name(struct loader *ld, const yaml_node_t *n, void *obj)
{
	load_str_field(ld, n, &((struct os_rule *)obj)->name);
}

static void
f_rule_endpoints(struct loader *ld, const yaml_node_t *n, void *obj)
{
	struct os_rule		*r = obj;
	yaml_node_item_t	*items;
	yaml_node_t		*it;
	size_t			 i, count, old;

	if (is_null(n) || (items = seq_items(ld, n, &count)) == NULL ||
	    count == 0 || r->endpoints != NULL)
		return;
	r->endpoints = xcalloc(count, sizeof *r->endpoints);
	r->nendpoints = count;
	for (i = 0; i < count; i++) {
		old = path_push_index(ld, i);
		it = get_node(ld, items[i]);
		if (it != NULL && ld_visit(ld, it)) {
			srcmap_add(ld->map, path_str(ld), node_line(it),
			    node_col(it));
			load_endpoint(ld, it, &r->endpoints[i]);
		}
		if (r->endpoints[i].host == NULL)
			r->endpoints[i].host = xstrdup("");
		path_pop(ld, old);
	}
}

static void
f_rule_binaries(struct loader *ld, const yaml_node_t *n, void *obj)
{
	struct os_rule		*r = obj;
	yaml_node_item_t	*items;
	yaml_node_t		*it;
	size_t			 i, count, old;
	uint32_t		 seen;

	if (is_null(n) || (items = seq_items(ld, n, &count)) == NULL ||
	    count == 0 || r->binaries != NULL)
		return;
	r->binaries = xcalloc(count, sizeof *r->binaries);
	r->nbinaries = count;
	for (i = 0; i < count; i++) {
		old = path_push_index(ld, i);
		it = get_node(ld, items[i]);
		if (it != NULL && ld_visit(ld, it)) {
			srcmap_add(ld->map, path_str(ld), node_line(it),
			    node_col(it));
			if (it->type == YAML_SCALAR_NODE && !is_null(it))
				type_error(ld, it,
				    _("a mapping like '{ path: /usr/bin/curl }'"));
			else {
				seen = walk_fields(ld, it, binary_fields,
				    OS_NELEM(binary_fields), &r->binaries[i]);
				if (!(seen & FIELD_BIT(binary_fields, "path")) &&
				    !ld->stop) {
					size_t o2 = path_push_key(ld, "path");

					ld_error(ld, it, _("a binary needs a "
					    "'path'"));
					path_pop(ld, o2);
				}
			}
		}
		if (r->binaries[i].path == NULL)
			r->binaries[i].path = xstrdup("");
		path_pop(ld, old);
	}
}

static const struct field rule_fields[] = {
	{ "name", f_rule_name },
	{ "endpoints", f_rule_endpoints },
	{ "binaries", f_rule_binaries },
};

/* filesystem_policy, landlock, process */

static void
f_fs_include_workdir(struct loader *ld, const yaml_node_t *n, void *obj)
{
	load_bool_field(ld, n, &((struct os_policy *)obj)->filesystem.include_workdir);
}

static void
f_fs_read_only(struct loader *ld, const yaml_node_t *n, void *obj)
{
	struct os_fs_policy	*fs = &((struct os_policy *)obj)->filesystem;

	load_strv_field(ld, n, &fs->read_only, &fs->nread_only);
}

static void
f_fs_read_write(struct loader *ld, const yaml_node_t *n, void *obj)
{
	struct os_fs_policy	*fs = &((struct os_policy *)obj)->filesystem;

	load_strv_field(ld, n, &fs->read_write, &fs->nread_write);
}

static const struct field filesystem_fields[] = {
	{ "include_workdir", f_fs_include_workdir },
	{ "read_only", f_fs_read_only },
	{ "read_write", f_fs_read_write },
};

static void
f_landlock_compat(struct loader *ld, const yaml_node_t *n, void *obj)
{
	struct os_policy	*p = obj;
	int			 v = (int)p->landlock;

	load_enum_field(ld, n, landlock_names, OS_NELEM(landlock_names), &v);
	p->landlock = (enum os_landlock_compat)v;
}

static const struct field landlock_fields[] = {
	{ "compatibility", f_landlock_compat },
};

static void
f_process_user(struct loader *ld, const yaml_node_t *n, void *obj)
{
	load_str_field(ld, n, &((struct os_policy *)obj)->run_as_user);
}

static void
f_process_group(struct loader *ld, const yaml_node_t *n, void *obj)
{
	load_str_field(ld, n, &((struct os_policy *)obj)->run_as_group);
}

static const struct field process_fields[] = {
	{ "run_as_user", f_process_user },
	{ "run_as_group", f_process_group },
};

/* top level */

static void
f_version(struct loader *ld, const yaml_node_t *n, void *obj)
{
	struct os_policy	*p = obj;
	long long		 v;

	if (is_null(n)) {
		type_error(ld, n, _("an integer"));
		return;
	}
	if (!get_int(ld, n, &v))
		return;
	if (v != 1) {
		ld_error(ld, n, _("unsupported version %s (expected 1)"), sval(n));
		return;
	}
	p->version = 1;
}

static void
f_filesystem(struct loader *ld, const yaml_node_t *n, void *obj)
{
	struct os_policy	*p = obj;

	if (is_null(n))
		return;
	walk_fields(ld, n, filesystem_fields, OS_NELEM(filesystem_fields), p);
	p->has_filesystem = n->type == YAML_MAPPING_NODE;
}

static void
f_landlock(struct loader *ld, const yaml_node_t *n, void *obj)
{
	struct os_policy	*p = obj;

	if (is_null(n))
		return;
	walk_fields(ld, n, landlock_fields, OS_NELEM(landlock_fields), p);
	p->has_landlock = n->type == YAML_MAPPING_NODE;
}

static void
f_process(struct loader *ld, const yaml_node_t *n, void *obj)
{
	struct os_policy	*p = obj;

	if (is_null(n))
		return;
	walk_fields(ld, n, process_fields, OS_NELEM(process_fields), p);
	p->has_process = n->type == YAML_MAPPING_NODE;
}

static void
network_policy_pair(struct loader *ld, const char *key,
    const yaml_node_t *keynode, const yaml_node_t *val, void *arg)
{
	struct os_policy	*p = arg;
	struct os_rule		*r;

	r = &p->rules[p->nrules++];
	memset(r, 0, sizeof *r);
	r->key = xstrdup(key);
	walk_fields(ld, val, rule_fields, OS_NELEM(rule_fields), r);
}

static void
f_network_policies(struct loader *ld, const yaml_node_t *n, void *obj)
{
	struct os_policy	*p = obj;
	size_t			 np;

	if (n->type != YAML_MAPPING_NODE) {
		walk_pairs(ld, n, network_policy_pair, NULL);  /* type, if any */
		return;
	}
	if (p->rules != NULL)
		return;
	np = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if (np == 0)
		return;
	p->rules = xcalloc(np, sizeof *p->rules);
	walk_pairs(ld, n, network_policy_pair, p);
}

static const struct field policy_fields[] = {
	{ "version", f_version },
	{ "filesystem_policy", f_filesystem },
	{ "landlock", f_landlock },
	{ "process", f_process },
	{ "network_policies", f_network_policies },
};

/* ------------------------------------------------------------------------
 * Documents and the entry points
 */

static void
loader_init(struct loader *ld, const char *file, struct os_diags *diags)
{
	memset(ld, 0, sizeof *ld);
	ld->file = file;
	ld->diags = diags;
	ld->map = xcalloc(1, sizeof *ld->map);
}

static void
loader_free(struct loader *ld)
{
	os_strv_free(ld->errfields, ld->nerrfields);
	os_srcmap_free(ld->map);
	os_buf_free(&ld->path);
}

static void
syntax_error(struct loader *ld, const yaml_parser_t *parser)
{
	const char	*problem;

	problem = parser->problem != NULL ? parser->problem : _("invalid YAML");
	switch (parser->error) {
	case YAML_MEMORY_ERROR:
		os_diags_add(ld->diags, OS_DIAG_ERROR, ld->file, 0, 0, NULL,
		    _("out of memory while parsing YAML"));
		break;
	case YAML_READER_ERROR:
		os_diags_add(ld->diags, OS_DIAG_ERROR, ld->file, 0, 0, NULL,
		    _("%s at byte offset %zu"), problem, parser->problem_offset);
		break;
	default:
		if (parser->context != NULL)
			os_diags_add(ld->diags, OS_DIAG_ERROR, ld->file,
			    (unsigned)parser->problem_mark.line + 1,
			    (unsigned)parser->problem_mark.column + 1, NULL,
			    _("%s (%s at line %u, column %u)"), problem,
			    parser->context,
			    (unsigned)parser->context_mark.line + 1,
			    (unsigned)parser->context_mark.column + 1);
		else
			os_diags_add(ld->diags, OS_DIAG_ERROR, ld->file,
			    (unsigned)parser->problem_mark.line + 1,
			    (unsigned)parser->problem_mark.column + 1, NULL,
			    "%s", problem);
		break;
	}
}

/*
 * Parses exactly one document whose root is a mapping. 0 with *doc to
 * delete, or -EINVAL with the problem reported.
 */
static int
parse_document(struct loader *ld, const char *text, size_t len,
    yaml_document_t *doc, yaml_node_t **root, const char *expected)
{
	yaml_parser_t	 parser;
	yaml_document_t	 extra;
	yaml_node_t	*r;
	size_t		 nnodes;

	if (!yaml_parser_initialize(&parser)) {
		os_diags_add(ld->diags, OS_DIAG_ERROR, ld->file, 0, 0, NULL,
		    _("out of memory while parsing YAML"));
		return -EINVAL;
	}
	yaml_parser_set_input_string(&parser,
	    (const unsigned char *)(text != NULL ? text : ""),
	    text != NULL ? len : 0);
	if (!yaml_parser_load(&parser, doc)) {
		syntax_error(ld, &parser);
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	if ((r = yaml_document_get_root_node(doc)) == NULL) {
		os_diags_add(ld->diags, OS_DIAG_ERROR, ld->file, 0, 0, NULL,
		    _("the document is empty (expected %s)"), expected);
		goto fail;
	}
	if (r->type != YAML_MAPPING_NODE) {
		os_diags_add(ld->diags, OS_DIAG_ERROR, ld->file, node_line(r),
		    node_col(r), NULL, _("the document must be a mapping "
		    "(expected %s), not %s"), expected,
		    r->type == YAML_SEQUENCE_NODE ? _("a list") :
		    _("a single value"));
		goto fail;
	}
	if (!yaml_parser_load(&parser, &extra))
		syntax_error(ld, &parser);
	else {
		if ((r = yaml_document_get_root_node(&extra)) != NULL)
			os_diags_add(ld->diags, OS_DIAG_ERROR, ld->file,
			    node_line(r), node_col(r), NULL,
			    _("only one YAML document is allowed"));
		yaml_document_delete(&extra);
	}
	yaml_parser_delete(&parser);
	*root = yaml_document_get_root_node(doc);
	nnodes = (size_t)(doc->nodes.top - doc->nodes.start);
	ld->doc = doc;
	ld->budget = 10000 + 8 * nnodes;
	return 0;

fail:
	yaml_document_delete(doc);
	yaml_parser_delete(&parser);
	return -EINVAL;
}

static bool
suppressed(const struct loader *ld, const char *field)
{
	size_t	i, n;

	if (field == NULL)
		return false;
	for (i = 0; i < ld->nerrfields; i++) {
		n = strlen(ld->errfields[i]);
		if (strncmp(field, ld->errfields[i], n) == 0 &&
		    (field[n] == '\0' || field[n] == '.' || field[n] == '['))
			return true;
	}
	return false;
}

/* Before normalisation fills it in: say so where enforcement was left out. */
static void
enforcement_notes(struct loader *ld, const struct os_policy *p)
{
	const struct os_endpoint	*e;
	unsigned			 line, col;
	size_t				 i, j;
	char				*key, *field;

	for (i = 0; i < p->nrules; i++) {
		for (j = 0; j < p->rules[i].nendpoints; j++) {
			e = &p->rules[i].endpoints[j];
			if (e->protocol == OS_PROTOCOL_NONE ||
			    e->enforcement != OS_ENFORCE_UNSET)
				continue;
			key = os_diag_show(p->rules[i].key);
			field = xprintf("network_policies.%s.endpoints[%zu]"
			    ".enforcement", key, j);
			if (!os_srcmap_lookup(ld->map, field, &line, &col))
				line = col = 0;
			os_diags_add(ld->diags, OS_DIAG_NOTE, ld->file, line,
			    col, field, "%s", _("enforcement not set; defaulting "
			    "to 'enforce' (secure by default). Set 'enforcement: "
			    "audit' to log without blocking."));
			free(field);
			free(key);
		}
	}
}

/* Notes, normalisation, then the validator's findings not already covered. */
static void
finish_load(struct loader *ld, struct os_policy *p)
{
	struct os_diags		 v = OS_DIAGS_INIT;
	const struct os_diag	*g;
	size_t			 i;

	srcmap_finish(ld->map);
	enforcement_notes(ld, p);
	os_policy_normalize(p);
	if (ld->stop)
		return;
	os_policy_validate(p, ld->file, ld->map, &v);
	for (i = 0; i < v.n; i++) {
		g = &v.v[i];
		if (!suppressed(ld, g->field))
			os_diags_add(ld->diags, g->level, g->file, g->line,
			    g->col, g->field, "%s", g->message);
	}
	os_diags_free(&v);
}

struct diag_order {
	struct os_diag	d;
	size_t		i;
};

static int
diag_order_cmp(const void *a, const void *b)
{
	const struct diag_order	*x = a, *y = b;

	if (x->d.line != y->d.line)
		return x->d.line < y->d.line ? -1 : 1;
	if (x->d.col != y->d.col)
		return x->d.col < y->d.col ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* The diagnostics of one load in document order (stable). */
static void
sort_diags(struct os_diags *d, size_t start)
{
	struct diag_order	*o;
	size_t			 i, n = d->n - start;

	if (n < 2)
		return;
	o = xcalloc(n, sizeof *o);
	for (i = 0; i < n; i++) {
		o[i].d = d->v[start + i];
		o[i].i = i;
	}
	qsort(o, n, sizeof *o, diag_order_cmp);
	for (i = 0; i < n; i++)
		d->v[start + i] = o[i].d;
	free(o);
}

int
os_policy_load_yaml(const char *text, size_t len, const char *file,
    struct os_policy **out, struct os_srcmap **srcmap, struct os_diags *diags)
{
	struct os_diags		 local = OS_DIAGS_INIT;
	struct os_diags		*d = diags != NULL ? diags : &local;
	struct os_policy	*p = NULL;
	struct loader		 ld;
	yaml_document_t		 doc;
	yaml_node_t		*root;
	size_t			 start = d->n, nerrors = d->nerrors;
	uint32_t		 seen;
	int			 rc = -EINVAL;

	*out = NULL;
	if (srcmap != NULL)
		*srcmap = NULL;
	loader_init(&ld, file, d);
	if (parse_document(&ld, text, len, &doc, &root,
	    _("a policy: version, filesystem_policy, landlock, process, "
	    "network_policies")) == 0) {
		p = os_policy_new();
		p->version = 0;
		seen = walk_fields(&ld, root, policy_fields,
		    OS_NELEM(policy_fields), p);
		if (!(seen & FIELD_BIT(policy_fields, "version")))
			ld_diag(&ld, OS_DIAG_ERROR, root, "version",
			    _("required key 'version' is missing (add "
			    "'version: 1')"));
		finish_load(&ld, p);
		yaml_document_delete(&doc);
	}
	sort_diags(d, start);
	if (p != NULL && d->nerrors == nerrors) {
		*out = p;
		p = NULL;
		if (srcmap != NULL) {
			*srcmap = ld.map;
			ld.map = NULL;
		}
		rc = 0;
	}
	os_policy_free(p);
	loader_free(&ld);
	os_diags_free(&local);
	return rc;
}

int
os_rule_load_yaml(const char *text, size_t len, const char *file,
    const char *key, struct os_rule *out, struct os_diags *diags)
{
	struct os_diags		 local = OS_DIAGS_INIT;
	struct os_diags		*d = diags != NULL ? diags : &local;
	struct os_policy	*p = NULL;
	struct loader		 ld;
	yaml_document_t		 doc;
	yaml_node_t		*root;
	size_t			 start = d->n, nerrors = d->nerrors;
	char			*k;
	int			 rc = -EINVAL;

	memset(out, 0, sizeof *out);
	if (key == NULL)
		key = "";
	loader_init(&ld, file, d);
	if (parse_document(&ld, text, len, &doc, &root,
	    _("a network policy: name, endpoints, binaries")) == 0) {
		p = os_policy_new();
		p->rules = xcalloc(1, sizeof *p->rules);
		p->nrules = 1;
		p->rules[0].key = xstrdup(key);
		k = os_diag_show(key);
		path_push_key(&ld, "network_policies");
		path_push_key(&ld, k);
		srcmap_add(ld.map, path_str(&ld), node_line(root), node_col(root));
		walk_fields(&ld, root, rule_fields, OS_NELEM(rule_fields),
		    &p->rules[0]);
		path_pop(&ld, 0);
		free(k);
		finish_load(&ld, p);
		yaml_document_delete(&doc);
	}
	sort_diags(d, start);
	if (p != NULL && d->nerrors == nerrors) {
		*out = p->rules[0];
		memset(&p->rules[0], 0, sizeof p->rules[0]);
		rc = 0;
	}
	os_policy_free(p);
	loader_free(&ld);
	os_diags_free(&local);
	return rc;
}
