/*
 * Unified line diff of two texts, as `diff -u` prints it.
 *
 * Lines are interned to integers first, so the edit script search
 * compares ints. The script is Myers' O(ND) algorithm in its
 * linear-space form (find the middle snake, recurse on both halves), so
 * memory stays O(N+M) whatever the distance. Runs of changes are then
 * slid to canonical positions (as GNU diff and git do) so that, e.g., an
 * inserted YAML item that repeats its neighbours shows up where a reader
 * expects it, and hunks are printed with 3 lines of context.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "openshell.h"

#define DIFF_CONTEXT 3

struct diff_line {
	const char	*s;
	size_t		 len;     /* without the '\n' */
	bool		 nl;      /* ends with '\n' */
};

struct diff_file {
	struct diff_line	*lines;
	size_t			 n;
	int			*id;      /* interned line identity */
	char			*chg;     /* n + 2 bytes; chg[-1] = chg[n] = 0 */
};

struct diff_ctx {
	const int	*a;
	const int	*b;
	char		*ca;
	char		*cb;
	long		*vf;      /* forward furthest-reaching x, by diagonal */
	long		*vb;      /* backward, in reversed coordinates */
	long		 voff;
};

static void
diff_split(const char *text, struct diff_file *f)
{
	const char	*p, *nl;
	size_t		 cap = 0;

	memset(f, 0, sizeof *f);
	for (p = text; *p != '\0'; ) {
		if (f->n == cap) {
			cap = cap != 0 ? cap * 2 : 64;
			f->lines = xreallocarray(f->lines, cap, sizeof *f->lines);
		}
		nl = strchr(p, '\n');
		f->lines[f->n].s = p;
		f->lines[f->n].len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		f->lines[f->n].nl = nl != NULL;
		f->n++;
		p = nl != NULL ? nl + 1 : p + strlen(p);
	}
	f->id = xcalloc(f->n + 1, sizeof *f->id);
	f->chg = xcalloc(f->n + 2, 1);
}

static uint64_t
line_hash(const struct diff_line *l)
{
	uint64_t	h = 1469598103934665603ULL;
	size_t		i;

	for (i = 0; i < l->len; i++) {
		h ^= (unsigned char)l->s[i];
		h *= 1099511628211ULL;
	}
	h ^= l->nl ? 0x5a : 0xa5;
	return h * 1099511628211ULL;
}

static bool
line_eq(const struct diff_line *x, const struct diff_line *y)
{
	return x->len == y->len && x->nl == y->nl &&
	    memcmp(x->s, y->s, x->len) == 0;
}

/* Gives equal lines (of both files) equal ids: an open-addressing table. */
static void
diff_intern(struct diff_file *fa, struct diff_file *fb)
{
	const struct diff_line	**slot;
	int			 *slot_id;
	size_t			  size = 16, mask, i, h, k;
	int			  next = 0;
	struct diff_file	 *files[2] = { fa, fb };

	while (size < 2 * (fa->n + fb->n))
		size *= 2;
	mask = size - 1;
	slot = xcalloc(size, sizeof *slot);
	slot_id = xcalloc(size, sizeof *slot_id);
	for (k = 0; k < 2; k++) {
		struct diff_file *f = files[k];

		for (i = 0; i < f->n; i++) {
			h = (size_t)line_hash(&f->lines[i]) & mask;
			while (slot[h] != NULL && !line_eq(slot[h], &f->lines[i]))
				h = (h + 1) & mask;
			if (slot[h] == NULL) {
				slot[h] = &f->lines[i];
				slot_id[h] = next++;
			}
			f->id[i] = slot_id[h];
		}
	}
	free(slot);
	free(slot_id);
}

/*
 * The middle snake of a[xoff,xlim) vs b[yoff,ylim), both non-empty and
 * with no common first or last line. Sets the snake (x,y)->(u,v) in
 * absolute coordinates and returns the edit distance D (>= 2 here).
 */
static long
diff_middle(struct diff_ctx *c, long xoff, long xlim, long yoff, long ylim,
    long *x0, long *y0, long *u0, long *v0)
{
	const int	*a = c->a, *b = c->b;
	long		 n = xlim - xoff, m = ylim - yoff;
	long		 delta = n - m, max = (n + m + 1) / 2;
	bool		 odd = (delta & 1) != 0;
	long		*vf = c->vf + c->voff, *vb = c->vb + c->voff;
	long		 d, k, x, y, sx, sy;

	vf[1] = 0;
	vb[1] = 0;
	for (d = 0; d <= max; d++) {
		for (k = -d; k <= d; k += 2) {
			if (k == -d || (k != d && vf[k - 1] < vf[k + 1]))
				x = vf[k + 1];
			else
				x = vf[k - 1] + 1;
			y = x - k;
			sx = x;
			sy = y;
			while (x < n && y < m && a[xoff + x] == b[yoff + y]) {
				x++;
				y++;
			}
			vf[k] = x;
			if (odd && delta - k >= -(d - 1) && delta - k <= d - 1 &&
			    vf[k] + vb[delta - k] >= n) {
				*x0 = xoff + sx;
				*y0 = yoff + sy;
				*u0 = xoff + x;
				*v0 = yoff + y;
				return 2 * d - 1;
			}
		}
		for (k = -d; k <= d; k += 2) {
			if (k == -d || (k != d && vb[k - 1] < vb[k + 1]))
				x = vb[k + 1];
			else
				x = vb[k - 1] + 1;
			y = x - k;
			sx = x;
			sy = y;
			while (x < n && y < m &&
			    a[xlim - 1 - x] == b[ylim - 1 - y]) {
				x++;
				y++;
			}
			vb[k] = x;
			if (!odd && delta - k >= -d && delta - k <= d &&
			    vb[k] + vf[delta - k] >= n) {
				*x0 = xlim - x;
				*y0 = ylim - y;
				*u0 = xlim - sx;
				*v0 = ylim - sy;
				return 2 * d;
			}
		}
	}
	/* Unreachable: the paths always meet by d = max. */
	abort();
}

static void
diff_compare(struct diff_ctx *c, long xoff, long xlim, long yoff, long ylim)
{
	long	x, y, u, v, d;

	for (;;) {
		while (xoff < xlim && yoff < ylim && c->a[xoff] == c->b[yoff]) {
			xoff++;
			yoff++;
		}
		while (xlim > xoff && ylim > yoff &&
		    c->a[xlim - 1] == c->b[ylim - 1]) {
			xlim--;
			ylim--;
		}
		if (xoff == xlim) {
			while (yoff < ylim)
				c->cb[yoff++] = 1;
			return;
		}
		if (yoff == ylim) {
			while (xoff < xlim)
				c->ca[xoff++] = 1;
			return;
		}
		d = diff_middle(c, xoff, xlim, yoff, ylim, &x, &y, &u, &v);
		(void)d;
		/* Recurse on the smaller half, loop on the other. */
		if ((x - xoff) + (y - yoff) < (xlim - u) + (ylim - v)) {
			diff_compare(c, xoff, x, yoff, y);
			xoff = u;
			yoff = v;
		} else {
			diff_compare(c, u, xlim, v, ylim);
			xlim = x;
			ylim = y;
		}
	}
}

/* ------------------------------------------------------------------------
 * Sliding runs of changes to canonical places (groups as in git's xdiff).
 */
struct diff_group {
	long	start;
	long	end;      /* exclusive; start == end for an empty group */
};

static void
group_init(const struct diff_file *f, struct diff_group *g)
{
	const char	*chg = f->chg + 1;

	g->start = g->end = 0;
	while (chg[g->end])
		g->end++;
}

static bool
group_next(const struct diff_file *f, struct diff_group *g)
{
	const char	*chg = f->chg + 1;

	if (g->end == (long)f->n)
		return false;
	g->start = g->end + 1;
	for (g->end = g->start; chg[g->end]; g->end++)
		;
	return true;
}

static bool
group_previous(const struct diff_file *f, struct diff_group *g)
{
	const char	*chg = f->chg + 1;

	if (g->start == 0)
		return false;
	g->end = g->start - 1;
	for (g->start = g->end; chg[g->start - 1]; g->start--)
		;
	return true;
}

static bool
group_slide_down(struct diff_file *f, struct diff_group *g)
{
	char	*chg = f->chg + 1;

	if (g->end < (long)f->n && f->id[g->start] == f->id[g->end]) {
		chg[g->start++] = 0;
		chg[g->end++] = 1;
		while (chg[g->end])
			g->end++;
		return true;
	}
	return false;
}

static bool
group_slide_up(struct diff_file *f, struct diff_group *g)
{
	char	*chg = f->chg + 1;

	if (g->start > 0 && f->id[g->start - 1] == f->id[g->end - 1]) {
		chg[--g->start] = 1;
		chg[--g->end] = 0;
		while (chg[g->start - 1])
			g->start--;
		return true;
	}
	return false;
}

/*
 * Each run of changes in `f` is slid as far down as it goes (merging
 * with neighbouring runs), then back up to line up with a change in the
 * other file if it passed one: the placement GNU diff picks.
 */
static void
diff_compact(struct diff_file *f, struct diff_file *o)
{
	struct diff_group	g, go;
	long			size, earliest_end, end_matching;

	group_init(f, &g);
	group_init(o, &go);
	for (;;) {
		if (g.end != g.start) {
			do {
				size = g.end - g.start;
				end_matching = -1;
				while (group_slide_up(f, &g))
					group_previous(o, &go);
				earliest_end = g.end;
				if (go.end > go.start)
					end_matching = g.end;
				while (group_slide_down(f, &g)) {
					group_next(o, &go);
					if (go.end > go.start)
						end_matching = g.end;
				}
			} while (size != g.end - g.start);
			if (g.end != earliest_end && end_matching != -1) {
				while (go.end == go.start) {
					group_slide_up(f, &g);
					group_previous(o, &go);
				}
			}
		}
		if (!group_next(f, &g))
			break;
		group_next(o, &go);
	}
}

/* ------------------------------------------------------------------------
 * Output
 */
struct diff_change {
	long	a0, a1;   /* deleted a[a0,a1) */
	long	b0, b1;   /* inserted b[b0,b1) */
};

static void
diff_emit_line(struct os_buf *out, char tag, const struct diff_line *l)
{
	os_buf_addc(out, tag);
	os_buf_add(out, l->s, l->len);
	os_buf_addc(out, '\n');
	if (!l->nl)
		os_buf_adds(out, "\\ No newline at end of file\n");
}

static void
diff_range(struct os_buf *out, long start, long count)
{
	if (count == 1)
		os_buf_addf(out, "%ld", start + 1);
	else if (count == 0)
		os_buf_addf(out, "%ld,0", start);
	else
		os_buf_addf(out, "%ld,%ld", start + 1, count);
}

static void
diff_hunk(struct os_buf *out, const struct diff_file *fa,
    const struct diff_file *fb, const struct diff_change *ch, size_t n)
{
	long	a0, a1, b0, b1, i, j;
	size_t	k;

	a0 = ch[0].a0 - DIFF_CONTEXT;
	if (a0 < 0)
		a0 = 0;
	b0 = ch[0].b0 - (ch[0].a0 - a0);
	a1 = ch[n - 1].a1 + DIFF_CONTEXT;
	if (a1 > (long)fa->n)
		a1 = (long)fa->n;
	b1 = ch[n - 1].b1 + (a1 - ch[n - 1].a1);
	os_buf_adds(out, "@@ -");
	diff_range(out, a0, a1 - a0);
	os_buf_adds(out, " +");
	diff_range(out, b0, b1 - b0);
	os_buf_adds(out, " @@\n");
	i = a0;
	j = b0;
	for (k = 0; k < n; k++) {
		for (; i < ch[k].a0; i++, j++)
			diff_emit_line(out, ' ', &fa->lines[i]);
		for (; i < ch[k].a1; i++)
			diff_emit_line(out, '-', &fa->lines[i]);
		for (; j < ch[k].b1; j++)
			diff_emit_line(out, '+', &fb->lines[j]);
	}
	for (; i < a1; i++)
		diff_emit_line(out, ' ', &fa->lines[i]);
}

char *
os_diff_unified(const char *a, const char *b, const char *label_a,
    const char *label_b)
{
	struct diff_file	 fa, fb;
	struct diff_ctx		 c;
	struct diff_change	*ch = NULL;
	struct os_buf		 out = OS_BUF_INIT;
	size_t			 nch = 0, capch = 0, first, k;
	long			 i, j, na, nb;

	if (a == NULL)
		a = "";
	if (b == NULL)
		b = "";
	if (strcmp(a, b) == 0)
		return xstrdup("");
	diff_split(a, &fa);
	diff_split(b, &fb);
	diff_intern(&fa, &fb);
	na = (long)fa.n;
	nb = (long)fb.n;

	memset(&c, 0, sizeof c);
	c.a = fa.id;
	c.b = fb.id;
	c.ca = fa.chg + 1;
	c.cb = fb.chg + 1;
	c.voff = na + nb + 1;
	c.vf = xcalloc(2 * (size_t)c.voff + 1, sizeof *c.vf);
	c.vb = xcalloc(2 * (size_t)c.voff + 1, sizeof *c.vb);
	diff_compare(&c, 0, na, 0, nb);
	free(c.vf);
	free(c.vb);
	diff_compact(&fa, &fb);
	diff_compact(&fb, &fa);

	/* Pair runs of deletions and insertions at the same place. */
	for (i = 0, j = 0; i < na || j < nb; ) {
		if ((i < na && c.ca[i]) || (j < nb && c.cb[j])) {
			if (nch == capch) {
				capch = capch != 0 ? capch * 2 : 16;
				ch = xreallocarray(ch, capch, sizeof *ch);
			}
			ch[nch].a0 = i;
			ch[nch].b0 = j;
			while (i < na && c.ca[i])
				i++;
			while (j < nb && c.cb[j])
				j++;
			ch[nch].a1 = i;
			ch[nch].b1 = j;
			nch++;
		} else {
			i++;
			j++;
		}
	}

	os_buf_addf(&out, "--- %s\n+++ %s\n", label_a != NULL ? label_a : "a",
	    label_b != NULL ? label_b : "b");
	/* Changes closer than twice the context share a hunk. */
	for (first = 0, k = 1; k <= nch; k++) {
		if (k == nch || ch[k].a0 - ch[k - 1].a1 > 2 * DIFF_CONTEXT) {
			diff_hunk(&out, &fa, &fb, &ch[first], k - first);
			first = k;
		}
	}

	free(ch);
	free(fa.lines);
	free(fa.id);
	free(fa.chg);
	free(fb.lines);
	free(fb.id);
	free(fb.chg);
	return os_buf_steal(&out);
}
