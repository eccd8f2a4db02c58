/*
 * Glob matching for paths, binaries and hosts.
 *
 * `*` never crosses the delimiter, `**` does, so the pattern is simulated
 * as an NFA over pattern offsets (a set of live positions per input
 * byte) rather than by backtracking: the cost is bounded by
 * len(pattern) * len(input) whatever the pattern, which matters because
 * patterns come from policies and inputs from agents (and fuzzers).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "openshell.h"

enum glob_tok {
	GLOB_END,
	GLOB_LITERAL,
	GLOB_ANY,        /* ? */
	GLOB_CLASS,      /* [...] */
	GLOB_STAR,       /* * */
	GLOB_STARSTAR,   /* ** */
};

/* Token at p[o]; *next is the offset after it, *c the literal byte. */
static enum glob_tok
glob_token(const char *p, size_t o, size_t *next, unsigned char *c)
{
	size_t	i;

	switch (p[o]) {
	case '\0':
		*next = o;
		return GLOB_END;
	case '*':
		if (p[o + 1] == '*') {
			for (i = o + 2; p[i] == '*'; i++)
				/* "***" is "**" */;
			*next = i;
			return GLOB_STARSTAR;
		}
		*next = o + 1;
		return GLOB_STAR;
	case '?':
		*next = o + 1;
		return GLOB_ANY;
	case '[':
		/* A class runs to the first ']' after its first member. */
		i = o + 1;
		if (p[i] == '!' || p[i] == '^')
			i++;
		if (p[i] == ']')
			i++;
		while (p[i] != '\0' && p[i] != ']')
			i++;
		if (p[i] == ']') {
			*next = i + 1;
			return GLOB_CLASS;
		}
		/* Unterminated: a literal '['. */
		*c = '[';
		*next = o + 1;
		return GLOB_LITERAL;
	case '\\':
		if (p[o + 1] != '\0') {
			*c = (unsigned char)p[o + 1];
			*next = o + 2;
			return GLOB_LITERAL;
		}
		*c = '\\';
		*next = o + 1;
		return GLOB_LITERAL;
	default:
		*c = (unsigned char)p[o];
		*next = o + 1;
		return GLOB_LITERAL;
	}
}

static bool
glob_class_match(const char *p, size_t o, unsigned char ch)
{
	bool	negate = false, match = false;
	size_t	i = o + 1;

	if (p[i] == '!' || p[i] == '^') {
		negate = true;
		i++;
	}
	do {
		unsigned char lo = (unsigned char)p[i], hi = lo;

		if (p[i + 1] == '-' && p[i + 2] != ']' && p[i + 2] != '\0') {
			hi = (unsigned char)p[i + 2];
			i += 3;
		} else
			i++;
		if (ch >= lo && ch <= hi)
			match = true;
	} while (p[i] != ']' && p[i] != '\0');
	return match != negate;
}

#define BITS_INLINE 1024

struct glob_set {
	uint64_t	*w;
	size_t		 nwords;
};

static void
set_add(struct glob_set *s, size_t i)
{
	s->w[i / 64] |= (uint64_t)1 << (i % 64);
}

static bool
set_has(const struct glob_set *s, size_t i)
{
	return (s->w[i / 64] >> (i % 64)) & 1;
}

/* Adds state o and, through stars (which may match nothing), what follows. */
static void
set_close(const char *p, struct glob_set *s, size_t o)
{
	unsigned char	c;
	size_t		next;
	enum glob_tok	t;

	for (;;) {
		if (set_has(s, o))
			return;
		set_add(s, o);
		t = glob_token(p, o, &next, &c);
		if (t != GLOB_STAR && t != GLOB_STARSTAR)
			return;
		o = next;
	}
}

bool
os_glob_match(const char *p, const char *s, char delim)
{
	uint64_t	 inline_a[BITS_INLINE / 64], inline_b[BITS_INLINE / 64];
	struct glob_set	 cur, nxt, tmp;
	size_t		 plen, o, next, end;
	unsigned char	 c, ch;
	enum glob_tok	 t;
	bool		 any, matched;

	if (!os_glob_has_magic(p))
		return strcmp(p, s) == 0;
	if (strcmp(p, "**") == 0)
		return true;

	plen = strlen(p);
	cur.nwords = nxt.nwords = plen / 64 + 1;
	if (plen < BITS_INLINE) {
		cur.w = inline_a;
		nxt.w = inline_b;
	} else {
		cur.w = xcalloc(cur.nwords, sizeof *cur.w);
		nxt.w = xcalloc(nxt.nwords, sizeof *nxt.w);
	}
	memset(cur.w, 0, cur.nwords * sizeof *cur.w);
	set_close(p, &cur, 0);

	for (; *s != '\0'; s++) {
		ch = (unsigned char)*s;
		memset(nxt.w, 0, nxt.nwords * sizeof *nxt.w);
		any = false;
		for (o = 0; o <= plen; o++) {
			if (!set_has(&cur, o))
				continue;
			t = glob_token(p, o, &next, &c);
			switch (t) {
			case GLOB_END:
				break;
			case GLOB_LITERAL:
				if (ch == c) {
					set_close(p, &nxt, next);
					any = true;
				}
				break;
			case GLOB_ANY:
				if (ch != (unsigned char)delim) {
					set_close(p, &nxt, next);
					any = true;
				}
				break;
			case GLOB_CLASS:
				if (ch != (unsigned char)delim &&
				    glob_class_match(p, o, ch)) {
					set_close(p, &nxt, next);
					any = true;
				}
				break;
			case GLOB_STAR:
				if (ch != (unsigned char)delim) {
					set_close(p, &nxt, o);
					any = true;
				}
				break;
			case GLOB_STARSTAR:
				set_close(p, &nxt, o);
				any = true;
				break;
			}
		}
		tmp = cur;
		cur = nxt;
		nxt = tmp;
		if (!any)
			break;
	}
	matched = false;
	if (*s == '\0') {
		/* Accept when the end of the pattern is live. */
		for (o = 0; o <= plen; o++) {
			if (set_has(&cur, o) &&
			    glob_token(p, o, &end, &c) == GLOB_END) {
				matched = true;
				break;
			}
		}
	}
	if (plen >= BITS_INLINE) {
		free(cur.w);
		free(nxt.w);
	}
	return matched;
}

bool
os_glob_has_magic(const char *p)
{
	return strpbrk(p, "*?[\\") != NULL;
}

const char *
os_glob_check(const char *p)
{
	size_t	i, j;

	for (i = 0; p[i] != '\0'; i++) {
		if (p[i] == '\\' && p[i + 1] != '\0') {
			i++;
			continue;
		}
		if (p[i] != '[')
			continue;
		j = i + 1;
		if (p[j] == '!' || p[j] == '^')
			j++;
		if (p[j] == ']')
			j++;
		while (p[j] != '\0' && p[j] != ']')
			j++;
		if (p[j] != ']')
			return _("unterminated character class '['");
		i = j;
	}
	return NULL;
}
