/*
 * The compiled policy matcher: L4 decisions (host, port, binary) and L7
 * decisions (method, path, query) for the proxy.
 *
 * os_matcher_new() copies the policy and indexes it once, so that a
 * decision only looks at the (rule, endpoint) pairs its host can select,
 * never at every rule: the cost of a decision must not grow with the
 * number of network policies (the advisor keeps adding them). The index:
 *
 *  - a hash table from lower-case exact host to its candidates;
 *  - a hash table from wildcard suffix ("example.com" for "*.example.com")
 *    to its candidates, probed with the request host minus its first label;
 *  - the hostless (allowed_ips only) endpoints, which match every host.
 *
 * Each key's candidates are one record (key, then candidates) in an
 * arena, sorted by rule index; rules are sorted by key, so merging the
 * three groups yields matches in key order with no sorting at decision
 * time, and a lookup among 10,000 hosts costs about one cache miss.
 *
 * Binaries: exact paths are interned (one id per distinct path) and each
 * rule's binary list becomes a "binary set" of ids and globs, shared by
 * every rule with the same list. A decision resolves the exe (and, only
 * when the exe is not enough, its ancestors) to ids once, then checks
 * candidates by comparing integers, so that thousands of rules naming
 * /usr/bin/curl cost no string compares.
 *
 * L7: each inspected endpoint's deny, preset and allow rules are compiled
 * into one record too, found by endpoint pointer from the L4 decision.
 *
 * Everything a decision touches was allocated here; a decision itself
 * allocates nothing (the query of an L7 request is decoded into a bounded
 * buffer on the stack).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openshell.h"

#define M_INLINE_PORTS	4	/* ports kept in the candidate itself */
#define M_IDS_MAX	64	/* distinct policy binaries in an exe chain */
/* A query this long, or with more parameters, cannot be evaluated. */
#define M_QUERY_BYTES	8192
#define M_QUERY_PARAMS	256

/* Binary entries that are not interned paths: a glob, and one without a
 * path (never matches). */
#define M_BIN_GLOB	UINT32_MAX
#define M_BIN_NONE	(UINT32_MAX - 1)

/* One (rule, endpoint) pair that a host selects: what an L4 decision
 * needs without touching the policy. */
struct m_cand {
	const struct os_rule		*rule;
	const struct os_endpoint	*ep;
	const struct os_binary		*binaries;  /* rule->binaries */
	uint32_t			 order;     /* of (rule, endpoint) */
	uint32_t			 bset;      /* the rule's binary set */
	uint32_t			 nports;
	uint16_t			 port[M_INLINE_PORTS]; /* or ep's */
	bool				 rest;
	bool				 skip;
};

/*
 * A group: every candidate of one host key, laid out in the arena as
 * this header, the key (NUL-terminated, padded to 8 bytes), then the
 * candidates in (rule, endpoint) order. One record per key keeps a
 * lookup in a policy of thousands of rules to about one cache miss.
 */
struct m_group {
	uint32_t	n;
	uint32_t	klen;
};

/* A host table slot: the hash of the key and the group's arena offset
 * (0 = empty: the arena starts with padding). */
struct m_hslot {
	uint32_t	hash;
	uint32_t	off;
};

struct m_htab {
	struct m_hslot	*slots;
	uint32_t	 mask;
};

/* A slot of the integer tables (binary interning); val 0 means empty. */
struct m_islot {
	uint32_t	hash;
	uint32_t	val;       /* index + 1 */
};

struct m_itab {
	struct m_islot	*slots;
	uint32_t	 mask;
};

/* Endpoint pointer -> L7 record offset; ep NULL means empty. */
struct m_pslot {
	const struct os_endpoint *ep;
	uint32_t		 off;
};

struct m_ptab {
	struct m_pslot	*slots;
	uint32_t	 mask;
};

struct m_bin {
	const char	*path;
	uint32_t	 id;       /* interned exact path, or M_BIN_GLOB/NONE */
	uint32_t	 index;    /* in the rule's binaries */
};

struct m_bset {
	uint32_t	first;     /* in m->bins */
	uint32_t	n;
};

/*
 * The reference count is a plain int: the proxy and supervisor use a
 * matcher from their one event-loop thread. A caller that shares one
 * across threads must serialise ref/unref itself.
 */
struct os_matcher {
	int		 refs;
	uint64_t	 generation;
	struct os_policy *policy;         /* our copy: decisions point in */

	char		*arena;           /* the groups */
	struct m_htab	 exact;
	struct m_htab	 wild;
	struct m_cand	*hostless;        /* matched whatever the host */
	uint32_t	 nhostless;

	const char	**bpaths;         /* interned exact paths, by id */
	uint32_t	 nbpaths;
	struct m_itab	 bintern;
	struct m_bin	*bins;
	uint32_t	 nbins;
	struct m_bset	*bsets;
	uint32_t	 nbsets;

	char		*l7arena;         /* the L7 records */
	struct m_ptab	 l7eps;           /* endpoint -> record */
};

/* ------------------------------------------------------------------------
 * Hashing and small helpers
 */
#define FNV_OFFSET	2166136261u
#define FNV_PRIME	16777619u

static inline unsigned char
lc(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

static uint32_t
hash_bytes(uint32_t h, const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* ASCII, whatever the locale: hosts and methods are ASCII by definition. */
static bool
ascii_caseeq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		if (lc((unsigned char)*a) != lc((unsigned char)*b))
			return false;
	}
	return *a == *b;
}

static uint32_t
table_size(size_t n)
{
	uint32_t	size = 8;

	/* At most 3/4 full, so probing always meets an empty slot soon;
	 * small slots keep a 10,000-host table in the L2 cache. */
	while (size < n + n / 3 + 1)
		size *= 2;
	return size;
}

/*
 * os_glob_match after a check of the literal prefix most patterns start
 * with (the "/usr/bin/python3" of a binary glob, the "/v1/" of a path
 * glob): most candidates fail there, and the NFA then runs on what is
 * left, which is equivalent because a literal matches only itself.
 */
static bool
glob_match(const char *p, const char *s, char delim)
{
	size_t	i;

	for (i = 0; p[i] != '*' && p[i] != '?' && p[i] != '[' &&
	    p[i] != '\\'; i++) {
		if (p[i] != s[i])
			return false;
		if (p[i] == '\0')
			return true;
	}
	return os_glob_match(p + i, s + i, delim);
}

/* ------------------------------------------------------------------------
 * Host tables
 */
static void
htab_init(struct m_htab *t, size_t n)
{
	uint32_t	size = table_size(n);

	t->slots = xcalloc(size, sizeof *t->slots);
	t->mask = size - 1;
}

static const char *
group_key(const struct m_group *g)
{
	return (const char *)(g + 1);
}

static size_t
group_key_space(size_t klen)
{
	return (klen + 1 + 7) & ~(size_t)7;
}

static struct m_cand *
group_cands(const struct m_group *g)
{
	return (struct m_cand *)((char *)(g + 1) + group_key_space(g->klen));
}

static size_t
group_size(size_t klen, size_t n)
{
	return sizeof (struct m_group) + group_key_space(klen) +
	    n * sizeof (struct m_cand);
}

static void
htab_add(struct m_htab *t, const char *arena, uint32_t off)
{
	const struct m_group	*g = (const struct m_group *)(arena + off);
	uint32_t		 h, i;

	h = hash_bytes(FNV_OFFSET, group_key(g), g->klen);
	for (i = h & t->mask; t->slots[i].off != 0; i = (i + 1) & t->mask)
		/* keys are unique: the groups were built from sorted keys */;
	t->slots[i].hash = h;
	t->slots[i].off = off;
}

/* `s` (any case, `len` bytes, hash `h` of its lower-case form). */
static const struct m_group *
htab_find(const struct m_htab *t, const char *arena, const char *s,
    size_t len, uint32_t h)
{
	const struct m_group	*g;
	const char		*key;
	uint32_t		 i;
	size_t			 j;

	for (i = h & t->mask; t->slots[i].off != 0; i = (i + 1) & t->mask) {
		if (t->slots[i].hash != h)
			continue;
		g = (const struct m_group *)(arena + t->slots[i].off);
		if (g->klen != len)
			continue;
		key = group_key(g);
		for (j = 0; j < len; j++) {
			if (key[j] != (char)lc((unsigned char)s[j]))
				break;
		}
		if (j == len)
			return g;
	}
	return NULL;
}

/* ------------------------------------------------------------------------
 * Binaries: interning and binary sets
 */
static void
itab_init(struct m_itab *t, size_t n)
{
	uint32_t	size = table_size(n);

	t->slots = xcalloc(size, sizeof *t->slots);
	t->mask = size - 1;
}

/* The id of an exact path, or M_BIN_NONE when the policy never names it. */
static uint32_t
bin_lookup(const struct os_matcher *m, const char *path, uint32_t *hout,
    uint32_t *slot)
{
	size_t		len = strlen(path);
	uint32_t	h = hash_bytes(FNV_OFFSET, path, len), i, v;

	for (i = h & m->bintern.mask;; i = (i + 1) & m->bintern.mask) {
		v = m->bintern.slots[i].val;
		if (v == 0)
			break;
		if (m->bintern.slots[i].hash == h &&
		    strcmp(m->bpaths[v - 1], path) == 0)
			return v - 1;
	}
	if (hout != NULL)
		*hout = h;
	if (slot != NULL)
		*slot = i;
	return M_BIN_NONE;
}

static uint32_t
bin_intern(struct os_matcher *m, const char *path)
{
	uint32_t	h, slot, id;

	if ((id = bin_lookup(m, path, &h, &slot)) != M_BIN_NONE)
		return id;
	id = m->nbpaths++;
	m->bpaths[id] = path;
	m->bintern.slots[slot].hash = h;
	m->bintern.slots[slot].val = id + 1;
	return id;
}

static bool
bset_equal(const struct os_matcher *m, const struct m_bset *a,
    const struct m_bin *b, uint32_t nb)
{
	uint32_t	i;

	if (a->n != nb)
		return false;
	for (i = 0; i < nb; i++) {
		const struct m_bin *x = &m->bins[a->first + i];

		if (x->id != b[i].id || x->index != b[i].index ||
		    (x->id == M_BIN_GLOB && strcmp(x->path, b[i].path) != 0))
			return false;
	}
	return true;
}

/*
 * Gives every rule a binary set, sharing one among rules whose binary
 * lists are the same. Returns each rule's set index in rule_bset.
 */
static void
matcher_index_binaries(struct os_matcher *m, uint32_t *rule_bset)
{
	const struct os_policy	*p = m->policy;
	struct m_itab		 sets;
	struct m_bin		*b;
	size_t			 total = 0, r, i;
	uint32_t		 start, n, h, s, v;

	for (r = 0; r < p->nrules; r++)
		total += p->rules[r].nbinaries;
	m->bpaths = xcalloc(total + 1, sizeof *m->bpaths);
	m->bins = xcalloc(total + 1, sizeof *m->bins);
	m->bsets = xcalloc(p->nrules + 1, sizeof *m->bsets);
	itab_init(&m->bintern, total);
	itab_init(&sets, p->nrules);

	for (r = 0; r < p->nrules; r++) {
		const struct os_rule *rule = &p->rules[r];

		start = m->nbins;
		h = FNV_OFFSET;
		for (i = 0; i < rule->nbinaries; i++) {
			const char *path = rule->binaries[i].path;

			b = &m->bins[m->nbins++];
			b->path = path != NULL ? path : "";
			b->index = (uint32_t)i;
			if (path == NULL || *path == '\0')
				b->id = M_BIN_NONE;
			else if (os_glob_has_magic(path))
				b->id = M_BIN_GLOB;
			else
				b->id = bin_intern(m, path);
			h = hash_bytes(h, b->path, strlen(b->path) + 1);
		}
		n = m->nbins - start;
		for (s = h & sets.mask; (v = sets.slots[s].val) != 0;
		    s = (s + 1) & sets.mask) {
			if (sets.slots[s].hash == h &&
			    bset_equal(m, &m->bsets[v - 1], &m->bins[start], n))
				break;
		}
		if (v != 0) {
			/* Same list as an earlier rule: share its set. */
			m->nbins = start;
			rule_bset[r] = v - 1;
			continue;
		}
		m->bsets[m->nbsets].first = start;
		m->bsets[m->nbsets].n = n;
		sets.slots[s].hash = h;
		sets.slots[s].val = m->nbsets + 1;
		rule_bset[r] = m->nbsets++;
	}
	free(sets.slots);
}

/* ------------------------------------------------------------------------
 * Hosts: candidates and tables
 */
enum m_kind {
	M_EXACT,
	M_WILD,
	M_HOSTLESS,
};

struct m_entry {
	enum m_kind	 kind;
	const char	*key;
	uint32_t	 ri;
	uint32_t	 ei;
	uint32_t	 order;    /* (ri, ei) as one ordinal */
};

static int
entry_cmp(const void *a, const void *b)
{
	const struct m_entry	*x = a, *y = b;
	int			 c;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if ((c = strcmp(x->key, y->key)) != 0)
		return c;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return 0;
}

/*
 * Only the leading one-label "*." form is a wildcard (what the validator
 * accepts). Any other host with a '*' is kept as an exact key, which no
 * real host name equals: an unvalidated policy fails closed.
 */
static void
entry_classify(const struct os_endpoint *e, struct m_entry *en)
{
	const char	*h = e->host != NULL ? e->host : "";

	if (*h == '\0') {
		en->kind = M_HOSTLESS;
		en->key = "";
	} else if (h[0] == '*' && h[1] == '.' && h[2] != '\0') {
		en->kind = M_WILD;
		en->key = h + 2;
	} else {
		en->kind = M_EXACT;
		en->key = h;
	}
}

static void
cand_fill(struct m_cand *c, const struct os_rule *rule,
    const struct m_entry *en, uint32_t bset)
{
	const struct os_endpoint	*e = &rule->endpoints[en->ei];
	size_t				 i;

	c->rule = rule;
	c->ep = e;
	c->binaries = rule->binaries;
	c->order = en->order;
	c->bset = bset;
	c->nports = e->ports != NULL ? (uint32_t)e->nports : 0;
	for (i = 0; i < c->nports && i < M_INLINE_PORTS; i++)
		c->port[i] = e->ports[i];
	c->rest = e->protocol == OS_PROTOCOL_REST;
	c->skip = e->tls == OS_TLS_SKIP;
}

/* The end of the run of entries that share en[i]'s kind and key. */
static size_t
run_end(const struct m_entry *en, size_t n, size_t i)
{
	size_t	j;

	for (j = i + 1; j < n && en[j].kind == en[i].kind &&
	    strcmp(en[j].key, en[i].key) == 0; j++)
		;
	return j;
}

static void
matcher_index_hosts(struct os_matcher *m, const uint32_t *rule_bset)
{
	const struct os_policy	*p = m->policy;
	struct m_entry		*en;
	struct m_group		*g;
	struct m_cand		*c;
	size_t			 n = 0, r, i, j, k, size, off;
	size_t			 ngroups[2] = { 0, 0 };
	uint32_t		 order = 0;

	for (r = 0; r < p->nrules; r++)
		n += p->rules[r].nendpoints;
	en = xcalloc(n + 1, sizeof *en);
	n = 0;
	for (r = 0; r < p->nrules; r++) {
		for (i = 0; i < p->rules[r].nendpoints; i++, order++) {
			const struct os_endpoint *e = &p->rules[r].endpoints[i];

			entry_classify(e, &en[n]);
			/* A hostless endpoint without allowed_ips is invalid;
			 * it matches nothing rather than everything. */
			if (en[n].kind == M_HOSTLESS && e->nallowed_ips == 0)
				continue;
			en[n].ri = (uint32_t)r;
			en[n].ei = (uint32_t)i;
			en[n].order = order;
			n++;
		}
	}
	qsort(en, n, sizeof *en, entry_cmp);

	/* Size the arena; offset 0 stays unused so that it can mean empty. */
	size = 8;
	for (i = 0; i < n; i = j) {
		j = run_end(en, n, i);
		if (en[i].kind == M_HOSTLESS)
			continue;
		size += group_size(strlen(en[i].key), j - i);
		ngroups[en[i].kind]++;
	}
	m->arena = xcalloc(1, size);
	htab_init(&m->exact, ngroups[M_EXACT]);
	htab_init(&m->wild, ngroups[M_WILD]);

	off = 8;
	for (i = 0; i < n; i = j) {
		j = run_end(en, n, i);
		if (en[i].kind == M_HOSTLESS) {
			m->nhostless = (uint32_t)(j - i);
			m->hostless = xcalloc(j - i, sizeof *m->hostless);
			c = m->hostless;
		} else {
			g = (struct m_group *)(m->arena + off);
			g->n = (uint32_t)(j - i);
			g->klen = (uint32_t)strlen(en[i].key);
			memcpy((char *)(g + 1), en[i].key, g->klen);
			c = group_cands(g);
		}
		for (k = i; k < j; k++)
			cand_fill(&c[k - i], &p->rules[en[k].ri], &en[k],
			    rule_bset[en[k].ri]);
		if (en[i].kind == M_HOSTLESS)
			continue;
		htab_add(en[i].kind == M_EXACT ? &m->exact : &m->wild,
		    m->arena, (uint32_t)off);
		off += group_size(strlen(en[i].key), j - i);
	}
	free(en);
}

/* ------------------------------------------------------------------------
 * L7 records: each inspected endpoint's rules compiled into one record
 * (deny rules, then the preset's, then the explicit allow rules, methods
 * and paths inline), found by endpoint pointer, so that an L7 decision
 * reads a few adjacent cache lines instead of chasing the policy's.
 */
#define PRESET(m) { (char *)(m), (char *)"**", NULL, 0 }
static const struct os_l7_rule preset_read_only[] = {
	PRESET("GET"), PRESET("HEAD"), PRESET("OPTIONS"),
};
static const struct os_l7_rule preset_read_write[] = {
	PRESET("GET"), PRESET("HEAD"), PRESET("OPTIONS"),
	PRESET("POST"), PRESET("PUT"), PRESET("PATCH"),
};
static const struct os_l7_rule preset_full[] = { PRESET("*") };
#undef PRESET

/* The allow rules an access preset stands for (static: decisions may
 * point at them for as long as they like). */
static const struct os_l7_rule *
preset_rules(enum os_access a, size_t *n)
{
	switch (a) {
	case OS_ACCESS_READ_ONLY:
		*n = OS_NELEM(preset_read_only);
		return preset_read_only;
	case OS_ACCESS_READ_WRITE:
		*n = OS_NELEM(preset_read_write);
		return preset_read_write;
	case OS_ACCESS_FULL:
		*n = OS_NELEM(preset_full);
		return preset_full;
	case OS_ACCESS_NONE:
		break;
	}
	*n = 0;
	return NULL;
}

#define M_METHOD_INLINE	12

struct m_l7rule {
	const struct os_l7_rule	*rule;        /* reported by decisions */
	const char		*path;        /* NULL: never matches */
	uint32_t		 nquery;
	bool			 any_method;
	bool			 get;         /* also admits HEAD */
	bool			 long_method; /* compare rule->method */
	char			 method[M_METHOD_INLINE];
};

/* This header, then ndeny + nallow rules, then the paths they point to. */
struct m_l7ep {
	const struct os_endpoint *ep;
	uint32_t		 ndeny;
	uint32_t		 nallow;
	bool			 enforcing;
};

static uint32_t
hash_ptr(const void *p)
{
	uint64_t	v = (uint64_t)(uintptr_t)p;

	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	return (uint32_t)v;
}

static const struct m_l7rule *
l7ep_rules(const struct m_l7ep *rec)
{
	return (const struct m_l7rule *)(rec + 1);
}

static size_t
l7ep_size(const struct os_endpoint *e)
{
	size_t	n, i, size;

	(void)preset_rules(e->access, &n);
	n += (e->deny_rules != NULL ? e->ndeny_rules : 0) +
	    (e->rules != NULL ? e->nrules : 0);
	size = sizeof (struct m_l7ep) + n * sizeof (struct m_l7rule);
	for (i = 0; e->deny_rules != NULL && i < e->ndeny_rules; i++) {
		if (e->deny_rules[i].path != NULL)
			size += strlen(e->deny_rules[i].path) + 1;
	}
	for (i = 0; e->rules != NULL && i < e->nrules; i++) {
		if (e->rules[i].path != NULL)
			size += strlen(e->rules[i].path) + 1;
	}
	return (size + 7) & ~(size_t)7;
}

/* Fills *c from r; a path is copied to *pool unless pool is NULL (the
 * static presets). */
static void
l7rule_fill(struct m_l7rule *c, const struct os_l7_rule *r, char **pool)
{
	size_t	len;

	c->rule = r;
	c->nquery = r->query != NULL ? (uint32_t)r->nquery : 0;
	if (r->method == NULL || r->path == NULL) {
		c->path = NULL;
		return;
	}
	if (strcmp(r->method, "*") == 0)
		c->any_method = true;
	else if ((len = strlen(r->method)) < sizeof c->method) {
		memcpy(c->method, r->method, len + 1);
		c->get = ascii_caseeq(r->method, "GET");
	} else
		c->long_method = true;
	if (pool == NULL) {
		c->path = r->path;
		return;
	}
	len = strlen(r->path) + 1;
	memcpy(*pool, r->path, len);
	c->path = *pool;
	*pool += len;
}

static void
l7ep_fill(struct m_l7ep *rec, const struct os_endpoint *e)
{
	const struct os_l7_rule	*pr;
	struct m_l7rule		*c = (struct m_l7rule *)(rec + 1);
	size_t			 npr, i;
	char			*pool;

	pr = preset_rules(e->access, &npr);
	rec->ep = e;
	rec->ndeny = e->deny_rules != NULL ? (uint32_t)e->ndeny_rules : 0;
	rec->nallow = (uint32_t)npr + (e->rules != NULL ? (uint32_t)e->nrules :
	    0);
	/* Anything but an explicit audit enforces: audit never relaxes by
	 * accident. */
	rec->enforcing = e->enforcement != OS_ENFORCE_AUDIT;
	pool = (char *)(c + rec->ndeny + rec->nallow);
	for (i = 0; i < rec->ndeny; i++)
		l7rule_fill(c++, &e->deny_rules[i], &pool);
	for (i = 0; i < npr; i++)
		l7rule_fill(c++, &pr[i], NULL);
	for (i = 0; i < rec->nallow - npr; i++)
		l7rule_fill(c++, &e->rules[i], &pool);
}

static void
matcher_index_l7(struct os_matcher *m)
{
	const struct os_policy	*p = m->policy;
	const struct os_endpoint *e;
	size_t			 size = 0, n = 0, off, r, i;
	uint32_t		 j;

	for (r = 0; r < p->nrules; r++) {
		for (i = 0; i < p->rules[r].nendpoints; i++) {
			e = &p->rules[r].endpoints[i];
			if (e->protocol == OS_PROTOCOL_REST) {
				size += l7ep_size(e);
				n++;
			}
		}
	}
	m->l7arena = xcalloc(1, size + 8);
	m->l7eps.slots = xcalloc(table_size(n), sizeof *m->l7eps.slots);
	m->l7eps.mask = table_size(n) - 1;
	off = 0;
	for (r = 0; r < p->nrules; r++) {
		for (i = 0; i < p->rules[r].nendpoints; i++) {
			e = &p->rules[r].endpoints[i];
			if (e->protocol != OS_PROTOCOL_REST)
				continue;
			l7ep_fill((struct m_l7ep *)(m->l7arena + off), e);
			for (j = hash_ptr(e) & m->l7eps.mask;
			    m->l7eps.slots[j].ep != NULL;
			    j = (j + 1) & m->l7eps.mask)
				;
			m->l7eps.slots[j].ep = e;
			m->l7eps.slots[j].off = (uint32_t)off;
			off += l7ep_size(e);
		}
	}
}

/* The record of an inspected endpoint of this matcher's policy, or NULL
 * (not inspected, or not ours: then nothing in it can allow). */
static const struct m_l7ep *
l7_find(const struct os_matcher *m, const struct os_endpoint *e)
{
	uint32_t	i;

	if (e == NULL)
		return NULL;
	for (i = hash_ptr(e) & m->l7eps.mask; m->l7eps.slots[i].ep != NULL;
	    i = (i + 1) & m->l7eps.mask) {
		if (m->l7eps.slots[i].ep == e)
			return (const struct m_l7ep *)(m->l7arena +
			    m->l7eps.slots[i].off);
	}
	return NULL;
}

/* ------------------------------------------------------------------------
 * Lifetime
 */
struct os_matcher *
os_matcher_new(const struct os_policy *p, uint64_t generation)
{
	struct os_matcher	*m;
	uint32_t		*rule_bset;

	m = xcalloc(1, sizeof *m);
	m->refs = 1;
	m->generation = generation;
	m->policy = p != NULL ? os_policy_dup(p) : os_policy_new();
	/* Normalising is idempotent; it makes the copy's invariants (hosts
	 * lower-case, rules in key order, ports sorted) ours to rely on. */
	os_policy_normalize(m->policy);
	rule_bset = xcalloc(m->policy->nrules + 1, sizeof *rule_bset);
	matcher_index_binaries(m, rule_bset);
	matcher_index_hosts(m, rule_bset);
	free(rule_bset);
	matcher_index_l7(m);
	return m;
}

struct os_matcher *
os_matcher_ref(struct os_matcher *m)
{
	if (m != NULL)
		m->refs++;
	return m;
}

void
os_matcher_unref(struct os_matcher *m)
{
	if (m == NULL || --m->refs > 0)
		return;
	free(m->arena);
	free(m->hostless);
	free(m->exact.slots);
	free(m->wild.slots);
	free(m->bpaths);
	free(m->bintern.slots);
	free(m->bins);
	free(m->bsets);
	free(m->l7arena);
	free(m->l7eps.slots);
	os_policy_free(m->policy);
	free(m);
}

const struct os_policy *
os_matcher_policy(const struct os_matcher *m)
{
	return m->policy;
}

uint64_t
os_matcher_generation(const struct os_matcher *m)
{
	return m->generation;
}

/* ------------------------------------------------------------------------
 * L4 decisions
 */

/*
 * The request's exe and ancestors as interned ids, each resolved on first
 * need: most requests are admitted by their exe, and then the ancestors
 * are never hashed.
 */
struct bin_ctx {
	const struct os_l4_request	*req;
	bool				 exe_resolved;
	bool				 anc_resolved;
	bool				 overflow;  /* ids full: strcmp */
	uint32_t			 exe_id;
	uint32_t			 nids;
	uint32_t			 ids[M_IDS_MAX];  /* the ancestors' */
	uint32_t			 last_bset; /* memo: sets are shared */
	int				 last_result;
};

static void
bin_ctx_resolve_ancestors(const struct os_matcher *m, struct bin_ctx *bc)
{
	const struct os_l4_request	*req = bc->req;
	uint32_t			 id, j;
	size_t				 i;

	bc->anc_resolved = true;
	for (i = 0; req->ancestors != NULL && i < req->nancestors; i++) {
		if (req->ancestors[i] == NULL || (id = bin_lookup(m,
		    req->ancestors[i], NULL, NULL)) == M_BIN_NONE)
			continue;
		for (j = 0; j < bc->nids && bc->ids[j] != id; j++)
			;
		if (j < bc->nids)
			continue;
		if (bc->nids == M_IDS_MAX) {
			bc->overflow = true;
			return;
		}
		bc->ids[bc->nids++] = id;
	}
}

static bool
bin_ancestor_match(const struct os_l4_request *req, const char *pattern,
    bool glob)
{
	size_t	i;

	for (i = 0; req->ancestors != NULL && i < req->nancestors; i++) {
		if (req->ancestors[i] == NULL)
			continue;
		if (glob ? glob_match(pattern, req->ancestors[i], '/') :
		    strcmp(pattern, req->ancestors[i]) == 0)
			return true;
	}
	return false;
}

/* Does entry `b` admit the exe itself? A NULL exe matches nothing. */
static bool
bin_exe_match(const struct os_matcher *m, struct bin_ctx *bc,
    const struct m_bin *b)
{
	const char	*exe = bc->req->binary;

	if (exe == NULL || b->id == M_BIN_NONE)
		return false;
	if (b->id == M_BIN_GLOB)
		return glob_match(b->path, exe, '/');
	if (!bc->exe_resolved) {
		bc->exe_resolved = true;
		bc->exe_id = bin_lookup(m, exe, NULL, NULL);
	}
	return b->id == bc->exe_id;
}

/* Does entry `b` admit one of the ancestors? An unknown exe's ancestors
 * still count: a child of an allowed binary is allowed, whatever it is. */
static bool
bin_ancestors_match(const struct os_matcher *m, struct bin_ctx *bc,
    const struct m_bin *b)
{
	uint32_t	j;

	if (b->id == M_BIN_NONE)
		return false;
	if (b->id == M_BIN_GLOB)
		return bin_ancestor_match(bc->req, b->path, true);
	if (!bc->anc_resolved)
		bin_ctx_resolve_ancestors(m, bc);
	if (bc->overflow)
		return bin_ancestor_match(bc->req, b->path, false);
	for (j = 0; j < bc->nids; j++) {
		if (bc->ids[j] == b->id)
			return true;
	}
	return false;
}

/*
 * The index (in the rule) of the binary entry that admits the request, or
 * -1: the first that names the exe itself, else the first that names an
 * ancestor (so the decision reports the most specific reason).
 */
static int
bset_match(const struct os_matcher *m, struct bin_ctx *bc, uint32_t set)
{
	const struct m_bset	*s = &m->bsets[set];
	const struct m_bin	*b;
	uint32_t		 i;
	int			 result = -1;

	if (set == bc->last_bset)
		return bc->last_result;
	for (i = 0; i < s->n && result < 0; i++) {
		b = &m->bins[s->first + i];
		if (bin_exe_match(m, bc, b))
			result = (int)b->index;
	}
	if (bc->req->nancestors != 0) {
		for (i = 0; i < s->n && result < 0; i++) {
			b = &m->bins[s->first + i];
			if (bin_ancestors_match(m, bc, b))
				result = (int)b->index;
		}
	}
	bc->last_bset = set;
	bc->last_result = result;
	return result;
}

static bool
cand_has_port(const struct m_cand *c, uint16_t port)
{
	uint32_t	i, lo, hi, mid;

	if (c->nports <= M_INLINE_PORTS) {
		for (i = 0; i < c->nports; i++) {
			if (c->port[i] == port)
				return true;
		}
		return false;
	}
	lo = 0;
	hi = c->nports;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->ep->ports[mid] == port)
			return true;
		if (c->ep->ports[mid] < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static bool
cand_before(const struct m_cand *a, const struct m_cand *b)
{
	return a->order < b->order;
}

struct cand_range {
	const struct m_cand	*cur;
	const struct m_cand	*end;
};

static void
range_set(struct cand_range *r, const struct m_group *g)
{
	if (g == NULL) {
		r->cur = r->end = NULL;
		return;
	}
	r->cur = group_cands(g);
	r->end = r->cur + g->n;
}

/*
 * Calls visit for every (rule, endpoint) candidate of req's host:port, in
 * (rule, endpoint) order, with the index of the binary entry that admits
 * the caller or -1.
 */
typedef void	(*l4_visit_fn)(void *, const struct m_cand *, int);

static void
l4_walk(const struct os_matcher *m, const struct os_l4_request *req,
    l4_visit_fn visit, void *arg)
{
	struct cand_range	 rg[3];
	struct bin_ctx		 bc;
	const struct m_cand	*c;
	const char		*host, *s, *suffix = NULL;
	uint32_t		 h, hs = FNV_OFFSET;
	size_t			 len, i, best;

	/* One pass: the hash of the whole host and of what follows its
	 * first label (the wildcard suffix), both lower-cased. */
	host = req->host != NULL ? req->host : "";
	h = FNV_OFFSET;
	for (s = host; *s != '\0'; s++) {
		unsigned char ch = lc((unsigned char)*s);

		h = (h ^ ch) * FNV_PRIME;
		if (suffix != NULL)
			hs = (hs ^ ch) * FNV_PRIME;
		else if (ch == '.')
			suffix = s + 1;
	}
	len = (size_t)(s - host);
	/* '*' stands for one whole label: ".example.com" has none. */
	if (suffix == host + 1)
		suffix = NULL;

	range_set(&rg[0], len != 0 ? htab_find(&m->exact, m->arena, host, len,
	    h) : NULL);
	range_set(&rg[1], suffix != NULL && *suffix != '\0' ?
	    htab_find(&m->wild, m->arena, suffix,
	    len - (size_t)(suffix - host), hs) : NULL);
	rg[2].cur = rg[2].end = m->hostless;
	if (m->hostless != NULL)
		rg[2].end += m->nhostless;

	memset(&bc, 0, sizeof bc);
	bc.req = req;
	bc.last_bset = UINT32_MAX;

	for (;;) {
		/* Merge the three groups in (rule, endpoint) order. */
		best = OS_NELEM(rg);
		for (i = 0; i < OS_NELEM(rg); i++) {
			if (rg[i].cur != rg[i].end && (best == OS_NELEM(rg) ||
			    cand_before(rg[i].cur, rg[best].cur)))
				best = i;
		}
		if (best == OS_NELEM(rg))
			break;
		c = rg[best].cur++;
		if (cand_has_port(c, req->port))
			visit(arg, c, bset_match(m, &bc, c->bset));
	}
}

struct l4_fill {
	struct os_l4_decision	*d;
	size_t			 nallow;
	size_t			 ndeny;
	bool			 inspect;
	bool			 skip;
};

static void
l4_fill_visit(void *arg, const struct m_cand *c, int bi)
{
	struct l4_fill		*f = arg;
	struct os_match		*mt;

	if (bi < 0) {
		/* Only reported when nothing allows. */
		if (f->nallow == 0 && f->ndeny++ < OS_MATCH_MAX) {
			mt = &f->d->matches[f->ndeny - 1];
			mt->rule = c->rule;
			mt->endpoint = c->ep;
			mt->binary = NULL;
		}
		return;
	}
	if (f->nallow++ < OS_MATCH_MAX) {
		mt = &f->d->matches[f->nallow - 1];
		mt->rule = c->rule;
		mt->endpoint = c->ep;
		mt->binary = &c->binaries[bi];
	}
	f->inspect = f->inspect || c->rest;
	f->skip = f->skip || c->skip;
}

void
os_matcher_l4(const struct os_matcher *m, const struct os_l4_request *req,
    struct os_l4_decision *d)
{
	struct l4_fill	f;
	size_t		i;

	memset(d, 0, sizeof *d);
	d->verdict = OS_L4_DENY_NO_ENDPOINT;
	if (m == NULL || req == NULL)
		return;
	memset(&f, 0, sizeof f);
	f.d = d;
	l4_walk(m, req, l4_fill_visit, &f);

	if (f.nallow != 0) {
		d->verdict = OS_L4_ALLOW;
		d->nmatches = f.nallow < OS_MATCH_MAX ? f.nallow : OS_MATCH_MAX;
		d->truncated = f.nallow > OS_MATCH_MAX;
		d->inspect = f.inspect;
		/* When another admitting policy inspects this host:port, its
		 * L7 rules must not be bypassed by an opaque relay. */
		d->tls_skip = f.skip && !f.inspect;
		/* Entries past nmatches may hold binary-deny pairs; clear. */
		for (i = d->nmatches; i < OS_MATCH_MAX &&
		    i < (f.ndeny < OS_MATCH_MAX ? f.ndeny : OS_MATCH_MAX); i++)
			memset(&d->matches[i], 0, sizeof d->matches[i]);
	} else if (f.ndeny != 0) {
		d->verdict = OS_L4_DENY_BINARY;
		d->nmatches = f.ndeny < OS_MATCH_MAX ? f.ndeny : OS_MATCH_MAX;
		d->truncated = f.ndeny > OS_MATCH_MAX;
	}
}

/* ------------------------------------------------------------------------
 * Reasons. These run on the deny path only, so they may allocate.
 */

/* Copies like snprintf: returns the full length, truncates, NUL-terminates. */
static size_t
copy_out(const char *s, size_t n, char *buf, size_t len)
{
	size_t	k;

	if (buf != NULL && len > 0) {
		k = n < len - 1 ? n : len - 1;
		memcpy(buf, s, k);
		buf[k] = '\0';
	}
	return n;
}

static void
add_binary_clause(struct os_buf *b, const char *exe, const struct os_rule *r)
{
	struct os_buf	list = OS_BUF_INIT;
	size_t		i;

	for (i = 0; i < r->nbinaries; i++) {
		if (i != 0)
			os_buf_adds(&list, ", ");
		os_buf_adds(&list, r->binaries[i].path != NULL ?
		    r->binaries[i].path : "");
	}
	if (r->nbinaries == 0)
		os_buf_addf(b, _("binary '%s' not allowed in policy '%s' "
		    "(it allows no binaries)"), exe, os_rule_display_name(r));
	else
		os_buf_addf(b, _("binary '%s' not allowed in policy '%s' "
		    "(allows %s)"), exe, os_rule_display_name(r),
		    os_buf_str(&list));
	os_buf_free(&list);
}

size_t
os_l4_reason(const struct os_l4_request *req, const struct os_l4_decision *d,
    char *buf, size_t len)
{
	struct os_buf	 b = OS_BUF_INIT;
	const char	*exe;
	size_t		 i, j, n;

	if (d == NULL || d->verdict == OS_L4_ALLOW)
		return copy_out("", 0, buf, len);
	if (d->verdict != OS_L4_DENY_BINARY || d->nmatches == 0) {
		const char *s = _("no matching network policy");

		return copy_out(s, strlen(s), buf, len);
	}
	exe = req != NULL && req->binary != NULL ? req->binary : _("(unknown)");
	n = d->nmatches < OS_MATCH_MAX ? d->nmatches : OS_MATCH_MAX;
	for (i = 0; i < n; i++) {
		const struct os_rule *r = d->matches[i].rule;

		if (r == NULL)
			continue;
		/* One clause per policy, not per endpoint. */
		for (j = 0; j < i && d->matches[j].rule != r; j++)
			;
		if (j < i)
			continue;
		if (b.len != 0)
			os_buf_adds(&b, "; ");
		add_binary_clause(&b, exe, r);
	}
	if (d->truncated)
		os_buf_adds(&b, _("; and other policies"));
	n = copy_out(os_buf_str(&b), b.len, buf, len);
	os_buf_free(&b);
	return n;
}

/* ------------------------------------------------------------------------
 * L7 decisions
 */
const char *const *
os_access_methods(enum os_access a)
{
	static const char *const ro[] = { "GET", "HEAD", "OPTIONS", NULL };
	static const char *const rw[] = {
		"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", NULL,
	};
	static const char *const full[] = { "*", NULL };
	static const char *const none[] = { NULL };

	switch (a) {
	case OS_ACCESS_READ_ONLY:
		return ro;
	case OS_ACCESS_READ_WRITE:
		return rw;
	case OS_ACCESS_FULL:
		return full;
	case OS_ACCESS_NONE:
		break;
	}
	return none;
}

/*
 * The query as decoded (key, value) pairs in a bounded buffer. state 0 =
 * not parsed yet (most rules have no query matchers, so most requests
 * never parse it), 1 = parsed, -1 = cannot be evaluated: M_QUERY_BYTES
 * or longer, more than M_QUERY_PARAMS parameters, or a decoded NUL (which
 * would make "a%00b" look like "a" to a glob). A rule that needs the
 * query then fails closed. Decoding never grows a parameter beyond its
 * raw length plus two NULs, so any query within both limits fits.
 */
struct query {
	int		state;
	size_t		n;
	size_t		used;
	struct {
		uint32_t	k;
		uint32_t	v;
	}		p[M_QUERY_PARAMS];
	char		buf[M_QUERY_BYTES + 2 * M_QUERY_PARAMS + 2];
};

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decodes [s, e) into q->buf, NUL-terminated; '+' is a space, as
 * HTTP servers read query strings (so a deny rule cannot be dodged by
 * writing a space as '+'); a '%' not followed by two hex digits stays.
 */
static bool
query_decode(struct query *q, const char *s, const char *e, uint32_t *off)
{
	int	hi, lo;

	if ((size_t)(e - s) + 1 > sizeof q->buf - q->used)
		return false;
	*off = (uint32_t)q->used;
	for (; s < e; s++) {
		char c = *s;

		if (c == '+')
			c = ' ';
		else if (c == '%' && e - s >= 3 &&
		    (hi = hexval((unsigned char)s[1])) >= 0 &&
		    (lo = hexval((unsigned char)s[2])) >= 0) {
			c = (char)(hi * 16 + lo);
			s += 2;
			if (c == '\0')
				return false;
		}
		q->buf[q->used++] = c;
	}
	q->buf[q->used++] = '\0';
	return true;
}

static void
query_parse(struct query *q, const char *raw)
{
	const char	*s, *end, *amp, *eq;
	size_t		 len;

	q->state = 1;
	q->n = 0;
	q->used = 0;
	if (raw == NULL)
		return;
	if ((len = strnlen(raw, M_QUERY_BYTES)) == M_QUERY_BYTES) {
		q->state = -1;
		return;
	}
	for (s = raw, end = raw + len; s < end; s = amp + 1) {
		if ((amp = memchr(s, '&', (size_t)(end - s))) == NULL)
			amp = end;
		if (amp == s)
			continue;
		if (q->n == M_QUERY_PARAMS) {
			q->state = -1;
			return;
		}
		if ((eq = memchr(s, '=', (size_t)(amp - s))) == NULL)
			eq = amp;
		if (!query_decode(q, s, eq, &q->p[q->n].k) ||
		    !query_decode(q, eq < amp ? eq + 1 : amp, amp,
		    &q->p[q->n].v)) {
			q->state = -1;
			return;
		}
		q->n++;
	}
}

/* Query values have no delimiter: '*' matches any run of characters. */
static bool
query_value_match(const struct os_query_matcher *qm, const char *v)
{
	size_t	i;

	for (i = 0; i < qm->nglobs; i++) {
		if (qm->globs[i] != NULL && glob_match(qm->globs[i], v, '\0'))
			return true;
	}
	return false;
}

/*
 * Allow rules: every configured key present, and every one of its values
 * matching. Deny rules: every configured key present with at least one
 * matching value. A query that cannot be evaluated fails closed: no
 * allow, and the deny fires.
 */
static bool
query_match(const struct os_l7_rule *r, const char *raw, struct query *q,
    bool deny)
{
	const struct os_query_matcher	*qm;
	size_t				 i, j, count;
	bool				 all, some;

	if (q->state == 0)
		query_parse(q, raw);
	if (q->state < 0)
		return deny;
	for (i = 0; i < r->nquery; i++) {
		qm = &r->query[i];
		if (qm->key == NULL)
			return deny;
		count = 0;
		all = true;
		some = false;
		for (j = 0; j < q->n; j++) {
			if (strcmp(&q->buf[q->p[j].k], qm->key) != 0)
				continue;
			count++;
			if (query_value_match(qm, &q->buf[q->p[j].v]))
				some = true;
			else
				all = false;
		}
		if (deny ? !some : count == 0 || !all)
			return false;
	}
	return true;
}

static bool
l7rule_match(const struct m_l7rule *c, const struct os_l7_request *req,
    const char *method, const char *path, struct query *q, bool deny)
{
	if (c->path == NULL)
		return false;
	if (!c->any_method &&
	    !ascii_caseeq(c->long_method ? c->rule->method : c->method,
	    method) &&
	    /* HEAD is GET without the body: a GET rule admits it. */
	    !(c->get && ascii_caseeq(method, "HEAD")))
		return false;
	if (!glob_match(c->path, path, '/'))
		return false;
	return c->nquery == 0 || query_match(c->rule, req->query, q, deny);
}

static void
l7_set(struct os_l7_decision *out, const struct os_match *mt,
    const struct os_l7_rule *r)
{
	out->rule = mt->rule;
	out->endpoint = mt->endpoint;
	out->matched = r;
}

/* Every admitting match, for a decision that holds only the first
 * OS_MATCH_MAX. */
struct l7_all {
	struct os_match	*v;
	size_t		 n;
	size_t		 cap;
};

static void
l7_all_visit(void *arg, const struct m_cand *c, int bi)
{
	struct l7_all	*a = arg;

	if (bi < 0)
		return;
	if (a->n == a->cap) {
		a->cap = a->cap != 0 ? a->cap * 2 : 2 * OS_MATCH_MAX;
		a->v = xreallocarray(a->v, a->cap, sizeof *a->v);
	}
	a->v[a->n].rule = c->rule;
	a->v[a->n].endpoint = c->ep;
	a->v[a->n].binary = &c->binaries[bi];
	a->n++;
}

/*
 * Deny rules of every inspected match beat allow rules of any. When
 * several could decide, an enforcing endpoint is preferred over an
 * auditing one (so a second policy in audit mode never turns an enforced
 * denial into a logged one), then the smallest key. The matches must
 * come from this matcher (its endpoints are how the records are found).
 */
static void
l7_over(const struct os_matcher *m, const struct os_match *mt, size_t n,
    const struct os_l7_request *req, struct os_l7_decision *out)
{
	const struct m_l7ep	*recbuf[OS_MATCH_MAX], **rec = recbuf;
	const struct m_l7rule	*rules, *deny_rule = NULL;
	struct query		 q;
	const char		*method, *path;
	size_t			 i, j, first = SIZE_MAX, deny = SIZE_MAX;

	if (n > OS_MATCH_MAX)
		rec = xcalloc(n, sizeof *rec);
	method = req->method != NULL ? req->method : "";
	path = req->path != NULL ? req->path : "";
	q.state = 0;

	for (i = 0; i < n; i++) {
		if ((rec[i] = l7_find(m, mt[i].endpoint)) == NULL)
			continue;
		if (first == SIZE_MAX ||
		    (!rec[first]->enforcing && rec[i]->enforcing))
			first = i;
		if (deny != SIZE_MAX && rec[deny]->enforcing)
			continue;
		rules = l7ep_rules(rec[i]);
		for (j = 0; j < rec[i]->ndeny; j++) {
			if (!l7rule_match(&rules[j], req, method, path, &q,
			    true))
				continue;
			if (deny == SIZE_MAX || rec[i]->enforcing) {
				deny = i;
				deny_rule = &rules[j];
			}
			break;
		}
	}
	if (first == SIZE_MAX) {
		/* Not an inspected decision: nothing here can allow it. */
		if (n != 0)
			l7_set(out, &mt[0], NULL);
		goto out;
	}
	if (deny != SIZE_MAX) {
		l7_set(out, &mt[deny], deny_rule->rule);
		out->by_deny_rule = true;
		out->verdict = rec[deny]->enforcing ? OS_L7_DENY : OS_L7_AUDIT;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (rec[i] == NULL)
			continue;
		rules = l7ep_rules(rec[i]) + rec[i]->ndeny;
		for (j = 0; j < rec[i]->nallow; j++) {
			if (l7rule_match(&rules[j], req, method, path, &q,
			    false)) {
				l7_set(out, &mt[i], rules[j].rule);
				out->verdict = OS_L7_ALLOW;
				goto out;
			}
		}
	}
	l7_set(out, &mt[first], NULL);
	out->verdict = rec[first]->enforcing ? OS_L7_DENY : OS_L7_AUDIT;
out:
	if (rec != recbuf)
		free(rec);
}

/*
 * A decision that admits through more than OS_MATCH_MAX (rule, endpoint)
 * pairs (a busy host after many approved chunks) is walked again from l4,
 * so that no policy's deny rule or allow rule is left out; without l4 it
 * is denied.
 */
void
os_matcher_l7(const struct os_matcher *m, const struct os_l4_request *l4,
    const struct os_l4_decision *d, const struct os_l7_request *req,
    struct os_l7_decision *out)
{
	struct l7_all	all;
	size_t		n;

	memset(out, 0, sizeof *out);
	out->verdict = OS_L7_DENY;
	if (m == NULL || d == NULL || req == NULL)
		return;
	n = d->nmatches < OS_MATCH_MAX ? d->nmatches : OS_MATCH_MAX;
	if (d->verdict != OS_L4_ALLOW || (d->truncated && l4 == NULL)) {
		if (n != 0)
			l7_set(out, &d->matches[0], NULL);
		return;
	}
	if (!d->truncated) {
		l7_over(m, d->matches, n, req, out);
		return;
	}
	memset(&all, 0, sizeof all);
	l4_walk(m, l4, l7_all_visit, &all);
	l7_over(m, all.v, all.n, req, out);
	free(all.v);
}

size_t
os_l7_reason(const struct os_l7_request *req, const struct os_l7_decision *d,
    char *buf, size_t len)
{
	const char	*method = "", *path = "";
	char		 tmp[1];
	int		 n;

	if (d == NULL || d->verdict == OS_L7_ALLOW)
		return copy_out("", 0, buf, len);
	if (req != NULL) {
		method = req->method != NULL ? req->method : "";
		path = req->path != NULL ? req->path : "";
	}
	if (buf == NULL || len == 0) {
		buf = tmp;
		len = sizeof tmp;
	}
	n = d->by_deny_rule ?
	    snprintf(buf, len, _("%s %s blocked by deny rule"), method, path) :
	    snprintf(buf, len, _("%s %s not permitted by policy"), method,
	    path);
	if (n < 0) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

/*
 * "METHOD PATH", then the query matchers as a query string: a single
 * glob as key=glob, several (or an {any: [...]}) as key={a,b}. So
 * "GET /search?q=foo*&lang={en,de}".
 */
size_t
os_l7_rule_describe(const struct os_l7_rule *r, char *buf, size_t len)
{
	struct os_buf	b = OS_BUF_INIT;
	size_t		i, j, n;

	if (r == NULL)
		return copy_out("", 0, buf, len);
	os_buf_adds(&b, r->method != NULL ? r->method : "");
	os_buf_addc(&b, ' ');
	os_buf_adds(&b, r->path != NULL ? r->path : "");
	for (i = 0; r->query != NULL && i < r->nquery; i++) {
		const struct os_query_matcher *qm = &r->query[i];
		bool brace = qm->any || qm->nglobs != 1;

		os_buf_addc(&b, i == 0 ? '?' : '&');
		os_buf_adds(&b, qm->key != NULL ? qm->key : "");
		os_buf_addc(&b, '=');
		if (brace)
			os_buf_addc(&b, '{');
		for (j = 0; qm->globs != NULL && j < qm->nglobs; j++) {
			if (j != 0)
				os_buf_addc(&b, ',');
			os_buf_adds(&b, qm->globs[j] != NULL ? qm->globs[j] :
			    "");
		}
		if (brace)
			os_buf_addc(&b, '}');
	}
	n = copy_out(os_buf_str(&b), b.len, buf, len);
	os_buf_free(&b);
	return n;
}
