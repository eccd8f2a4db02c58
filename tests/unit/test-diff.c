/*
 * os_diff_unified: checked against GNU diff -u (run from the test), and
 * by applying the diff back to the old text with a strict patcher.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "openshell.h"
#include "tap.h"

/*
 * GNU diff -u output for two texts, or NULL when diff cannot run.
 * `minimal`: without it GNU diff may trade minimality for speed (it
 * discards "confusing" lines), so change counts are compared with it.
 */
static char *
gnu_diff(const char *a, const char *b, bool minimal)
{
	char		 fa[] = "/tmp/os-test-diff-a.XXXXXX";
	char		 fb[] = "/tmp/os-test-diff-b.XXXXXX";
	char		*cmd, buf[4096];
	struct os_buf	 out = OS_BUF_INIT;
	FILE		*f;
	size_t		 n;
	int		 fd;

	if (access("/usr/bin/diff", X_OK) != 0)
		return NULL;
	if ((fd = mkstemp(fa)) < 0)
		return NULL;
	if (write(fd, a, strlen(a)) != (ssize_t)strlen(a)) {
		close(fd);
		unlink(fa);
		return NULL;
	}
	close(fd);
	if ((fd = mkstemp(fb)) < 0) {
		unlink(fa);
		return NULL;
	}
	if (write(fd, b, strlen(b)) != (ssize_t)strlen(b)) {
		close(fd);
		unlink(fa);
		unlink(fb);
		return NULL;
	}
	close(fd);
	cmd = xprintf("LC_ALL=C /usr/bin/diff -u %s--label old --label new %s %s",
	    minimal ? "--minimal " : "", fa, fb);
	if ((f = popen(cmd, "r")) != NULL) {
		while ((n = fread(buf, 1, sizeof buf, f)) > 0)
			os_buf_add(&out, buf, n);
		pclose(f);
	}
	free(cmd);
	unlink(fa);
	unlink(fb);
	return os_buf_steal(&out);
}

/* Splits into lines, each keeping its '\n' (the last may lack one). */
static size_t
split_lines(const char *s, char ***out)
{
	char	**v = NULL;
	size_t	  n = 0;
	const char *nl;

	while (*s != '\0') {
		nl = strchr(s, '\n');
		v = xreallocarray(v, n + 1, sizeof *v);
		v[n++] = nl != NULL ? xstrndup(s, (size_t)(nl - s + 1)) : xstrdup(s);
		s = nl != NULL ? nl + 1 : s + strlen(s);
	}
	*out = v;
	return n;
}

/*
 * Applies a unified diff to `a` strictly (line numbers, counts and
 * context must all agree). Returns the new text, or NULL if the diff
 * does not apply.
 */
static char *
apply_diff(const char *a, const char *diff)
{
	char		**al, **dl;
	size_t		  na, nd, i = 2, ai = 0, k;
	struct os_buf	  out = OS_BUF_INIT;
	long		  s0, c0, s1, c1, outlines = 0;
	bool		  ok = true;

	na = split_lines(a, &al);
	nd = split_lines(diff, &dl);
	if (nd < 3 || strncmp(dl[0], "--- ", 4) != 0 ||
	    strncmp(dl[1], "+++ ", 4) != 0)
		ok = false;
	while (ok && i < nd) {
		long	seen0 = 0, seen1 = 0;
		char	*l;

		c0 = c1 = 1;
		if (sscanf(dl[i], "@@ -%ld,%ld +%ld,%ld @@", &s0, &c0, &s1, &c1) != 4 &&
		    sscanf(dl[i], "@@ -%ld +%ld,%ld @@", &s0, &s1, &c1) != 3 &&
		    sscanf(dl[i], "@@ -%ld,%ld +%ld @@", &s0, &c0, &s1) != 3 &&
		    sscanf(dl[i], "@@ -%ld +%ld @@", &s0, &s1) != 2) {
			ok = false;
			break;
		}
		/* Lines before the hunk are copied. */
		{
			size_t start = (size_t)(c0 == 0 ? s0 : s0 - 1);

			if (start < ai || start > na) {
				ok = false;
				break;
			}
			for (; ai < start; ai++, outlines++)
				os_buf_adds(&out, al[ai]);
			if ((long)outlines != (c1 == 0 ? s1 : s1 - 1)) {
				ok = false;
				break;
			}
		}
		for (i++; i < nd && dl[i][0] != '@'; i++) {
			l = dl[i];
			if (l[0] == '\\')
				continue;    /* handled with the line before */
			/* A line followed by "\ No newline" has no '\n'. */
			{
				bool	 nonl = i + 1 < nd && dl[i + 1][0] == '\\';
				size_t	 len = strlen(l + 1);
				char	*text = xstrdup(l + 1);

				if (!nonl && (len == 0 || text[len - 1] != '\n'))
					ok = false;
				if (nonl && len > 0 && text[len - 1] == '\n')
					text[len - 1] = '\0';
				if (l[0] == ' ' || l[0] == '-') {
					if (ai >= na || strcmp(al[ai], text) != 0)
						ok = false;
					ai++;
					seen0++;
				}
				if (l[0] == ' ' || l[0] == '+') {
					os_buf_adds(&out, text);
					outlines++;
					seen1++;
				}
				if (l[0] != ' ' && l[0] != '-' && l[0] != '+')
					ok = false;
				free(text);
			}
		}
		if (seen0 != c0 || seen1 != c1)
			ok = false;
	}
	for (; ai < na; ai++)
		os_buf_adds(&out, al[ai]);
	for (k = 0; k < na; k++)
		free(al[k]);
	free(al);
	for (k = 0; k < nd; k++)
		free(dl[k]);
	free(dl);
	if (!ok) {
		os_buf_free(&out);
		return NULL;
	}
	return os_buf_steal(&out);
}

static void
count_changes(const char *diff, size_t *plus, size_t *minus)
{
	const char	*p = diff;
	int		 header = 2;

	*plus = *minus = 0;
	while (*p != '\0') {
		if (header > 0)
			header--;
		else if (*p == '+')
			(*plus)++;
		else if (*p == '-')
			(*minus)++;
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		p++;
	}
}

/* Exact match with GNU diff, and the diff applies. */
static void
check_exact(const char *a, const char *b, int line)
{
	char	*mine, *gnu, *applied;

	mine = os_diff_unified(a, b, "old", "new");
	gnu = gnu_diff(a, b, false);
	if (gnu != NULL && strcmp(mine, gnu) != 0) {
		char *m = xprintf("line %d: differs from diff -u:\n--- mine\n%s\n--- gnu\n%s",
		    line, mine, gnu);
		tap_fail_at(__FILE__, line, m);
		free(m);
	}
	if (*mine != '\0') {
		applied = apply_diff(a, mine);
		if (applied == NULL || strcmp(applied, b) != 0)
			tap_fail_at(__FILE__, line, "diff does not apply");
		free(applied);
	}
	free(mine);
	free(gnu);
}

/* Minimal (as many changed lines as GNU diff) and applies. */
static void
check_valid(const char *a, const char *b, int line)
{
	char	*mine, *gnu, *applied;
	size_t	 p1, m1, p2, m2;

	mine = os_diff_unified(a, b, "old", "new");
	if (strcmp(a, b) == 0) {
		if (*mine != '\0')
			tap_fail_at(__FILE__, line, "equal texts, non-empty diff");
		free(mine);
		return;
	}
	applied = apply_diff(a, mine);
	if (applied == NULL || strcmp(applied, b) != 0)
		tap_fail_at(__FILE__, line, "diff does not apply");
	free(applied);
	gnu = gnu_diff(a, b, true);
	if (gnu != NULL) {
		count_changes(mine, &p1, &m1);
		count_changes(gnu, &p2, &m2);
		if (p1 != p2 || m1 != m2) {
			char *m = xprintf("+%zu -%zu, diff -u has +%zu -%zu",
			    p1, m1, p2, m2);
			tap_fail_at(__FILE__, line, m);
			free(m);
		}
	}
	free(mine);
	free(gnu);
}

static void
t_identical(void)
{
	char	*d;

	d = os_diff_unified("a\nb\n", "a\nb\n", "x", "y");
	CHECK_STR(d, "");
	free(d);
	d = os_diff_unified("", "", "x", "y");
	CHECK_STR(d, "");
	free(d);
	d = os_diff_unified("no newline", "no newline", "x", "y");
	CHECK_STR(d, "");
	free(d);
}

static void
t_one_line(void)
{
	char	*d;

	d = os_diff_unified("a\nb\nc\n", "a\nB\nc\n", "policy@1", "policy@2");
	CHECK_STR(d,
	    "--- policy@1\n"
	    "+++ policy@2\n"
	    "@@ -1,3 +1,3 @@\n"
	    " a\n"
	    "-b\n"
	    "+B\n"
	    " c\n");
	free(d);
	check_exact("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n",
	    "1\n2\n3\n4\n5\nsix\n7\n8\n9\n10\n", __LINE__);
}

static void
t_start_end(void)
{
	char	*d;

	d = os_diff_unified("b\nc\n", "a\nb\nc\n", "o", "n");
	CHECK_STR(d, "--- o\n+++ n\n@@ -1,2 +1,3 @@\n+a\n b\n c\n");
	free(d);
	d = os_diff_unified("", "x\ny\n", "o", "n");
	CHECK_STR(d, "--- o\n+++ n\n@@ -0,0 +1,2 @@\n+x\n+y\n");
	free(d);
	d = os_diff_unified("x\n", "", "o", "n");
	CHECK_STR(d, "--- o\n+++ n\n@@ -1 +0,0 @@\n-x\n");
	free(d);
	check_exact("1\n2\n3\n4\n5\n6\n7\n8\n", "0\n1\n2\n3\n4\n5\n6\n7\n8\n",
	    __LINE__);
	check_exact("1\n2\n3\n4\n5\n6\n7\n8\n", "1\n2\n3\n4\n5\n6\n7\n8\n9\n",
	    __LINE__);
	check_exact("1\n2\n3\n4\n5\n6\n7\n8\n", "2\n3\n4\n5\n6\n7\n", __LINE__);
	check_exact("", "only\n", __LINE__);
	check_exact("only\n", "", __LINE__);
}

static void
t_no_newline(void)
{
	char	*d;

	d = os_diff_unified("a\nb", "a\nb\n", "o", "n");
	CHECK_STR(d, "--- o\n+++ n\n@@ -1,2 +1,2 @@\n a\n-b\n"
	    "\\ No newline at end of file\n+b\n");
	free(d);
	check_exact("a\nb", "a\nb\n", __LINE__);
	check_exact("a\nb\n", "a\nb", __LINE__);
	check_exact("a\nb", "a\nc", __LINE__);
	check_exact("1\n2\n3\n4\n5\n6\n7\n8\n9", "1\nX\n3\n4\n5\n6\n7\n8\n9",
	    __LINE__);
	check_exact("x", "", __LINE__);
	check_exact("", "x", __LINE__);
}

static void
t_hunks(void)
{
	/* Changes 7 lines apart: two hunks; 6 apart: one. */
	check_exact("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n",
	    "1\nB\n3\n4\n5\n6\n7\n8\n9\nJ\n11\n12\n13\n14\n15\n16\n", __LINE__);
	check_exact("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n",
	    "1\nB\n3\n4\n5\n6\n7\n8\nI\n10\n11\n12\n13\n14\n15\n16\n", __LINE__);
	/* A YAML list item inserted among similar ones. */
	check_exact(
	    "network_policies:\n  gh:\n    binaries:\n      - path: /usr/bin/curl\n"
	    "      - path: /usr/bin/git\n    endpoints:\n      - host: api.github.com\n"
	    "        port: 443\n",
	    "network_policies:\n  gh:\n    binaries:\n      - path: /usr/bin/curl\n"
	    "      - path: /usr/bin/gh\n      - path: /usr/bin/git\n    endpoints:\n"
	    "      - host: api.github.com\n        port: 443\n"
	    "      - host: github.com\n        port: 443\n", __LINE__);
	/* Repeated lines (several equally short scripts). */
	check_valid("a\nb\na\nb\na\nb\n", "b\na\nb\na\n", __LINE__);
	check_valid("x\nx\nx\ny\n", "y\nx\nx\nx\n", __LINE__);
}

static unsigned long rng_state = 88172645463325252UL;

static unsigned
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state >> 11);
}

static char *
random_text(size_t lines, unsigned alphabet)
{
	struct os_buf	b = OS_BUF_INIT;
	size_t		i;

	for (i = 0; i < lines; i++)
		os_buf_addf(&b, "line %u\n", rng() % alphabet);
	return os_buf_steal(&b);
}

/* Mutates a text: deletes, inserts and changes lines at random. */
static char *
mutate(const char *s, unsigned rate)
{
	struct os_buf	 b = OS_BUF_INIT;
	const char	*nl;

	while (*s != '\0') {
		nl = strchr(s, '\n');
		switch (rng() % rate) {
		case 0:     /* delete */
			break;
		case 1:     /* insert before */
			os_buf_addf(&b, "new %u\n", rng() % 50);
			os_buf_add(&b, s, (size_t)(nl - s + 1));
			break;
		case 2:     /* change */
			os_buf_addf(&b, "changed %u\n", rng() % 50);
			break;
		default:
			os_buf_add(&b, s, (size_t)(nl - s + 1));
			break;
		}
		s = nl + 1;
	}
	return os_buf_steal(&b);
}

static void
t_random(void)
{
	int	round;

	for (round = 0; round < 60; round++) {
		char	*a = random_text(20 + rng() % 200, 3 + rng() % 40);
		char	*b = mutate(a, 3 + rng() % 20);

		/* Now and then a last line without its newline. */
		if (round % 4 == 1 && *b != '\0')
			b[strlen(b) - 1] = '\0';
		if (round % 4 == 2 && *a != '\0')
			a[strlen(a) - 1] = '\0';
		check_valid(a, b, __LINE__);
		free(a);
		free(b);
	}
}

static void
t_large(void)
{
	char	*a, *b, *d;
	size_t	 plus, minus;

	/* A few thousand lines, small and large distances. */
	a = random_text(4000, 1000);
	b = mutate(a, 50);
	check_valid(a, b, __LINE__);
	free(b);
	b = random_text(4000, 1000);    /* unrelated: D close to N+M */
	check_valid(a, b, __LINE__);
	free(b);
	free(a);

	/* Everything different: one hunk of removals and additions. */
	a = xstrdup("");
	b = xstrdup("");
	{
		struct os_buf ba = OS_BUF_INIT, bb = OS_BUF_INIT;
		int i;

		for (i = 0; i < 3000; i++) {
			os_buf_addf(&ba, "a%d\n", i);
			os_buf_addf(&bb, "b%d\n", i);
		}
		free(a);
		free(b);
		a = os_buf_steal(&ba);
		b = os_buf_steal(&bb);
	}
	d = os_diff_unified(a, b, "o", "n");
	count_changes(d, &plus, &minus);
	CHECK_INT(plus, 3000);
	CHECK_INT(minus, 3000);
	CHECK(strncmp(d, "--- o\n+++ n\n@@ -1,3000 +1,3000 @@\n-a0\n", 37) == 0);
	free(d);
	check_exact(a, b, __LINE__);
	free(a);
	free(b);
}

int
main(void)
{
	TAP_RUN(t_identical);
	TAP_RUN(t_one_line);
	TAP_RUN(t_start_end);
	TAP_RUN(t_no_newline);
	TAP_RUN(t_hunks);
	TAP_RUN(t_random);
	TAP_RUN(t_large);
	return tap_done();
}
