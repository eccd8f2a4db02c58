/*
 * Globs (lib/glob.c) as policies use them: binaries and paths with '/'
 * as the delimiter, hosts with '.', query values with none.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "openshell.h"
#include "tap.h"

#define M(p, s, d) os_glob_match((p), (s), (d))

static void
t_literal(void)
{
	CHECK(M("/usr/bin/curl", "/usr/bin/curl", '/'));
	CHECK(!M("/usr/bin/curl", "/usr/bin/curl2", '/'));
	CHECK(!M("/usr/bin/curl", "/usr/bin/cur", '/'));
	CHECK(!M("/usr/bin/curl", "/USR/bin/curl", '/'));
	CHECK(M("", "", '/'));
	CHECK(!M("", "a", '/'));
	CHECK(!M("a", "", '/'));
}

static void
t_star(void)
{
	CHECK(M("a*", "a", '/'));
	CHECK(M("a*", "abc", '/'));
	CHECK(M("*c", "abc", '/'));
	CHECK(M("a*c", "ac", '/'));
	CHECK(M("a*b*c", "aXbYbZc", '/'));
	CHECK(!M("a*", "ba", '/'));
	CHECK(!M("a*c", "abd", '/'));
	/* '*' stays within one segment. */
	CHECK(!M("a*", "a/b", '/'));
	CHECK(M("/usr/bin/*", "/usr/bin/python3", '/'));
	CHECK(!M("/usr/bin/*", "/usr/bin/x/python3", '/'));
	CHECK(M("/repos/*/issues", "/repos/hello/issues", '/'));
	CHECK(!M("/repos/*/issues", "/repos/a/b/issues", '/'));
	CHECK(M("/repos/*/issues", "/repos//issues", '/'));
	CHECK(M("*", "", '/'));
	CHECK(!M("*", "/", '/'));
	/* Without a delimiter it matches anything. */
	CHECK(M("a*", "a/b.c", '\0'));
}

static void
t_starstar(void)
{
	CHECK(M("**", "", '/'));
	CHECK(M("**", "/any/thing/at/all", '/'));
	CHECK(M("/v1/**", "/v1/models", '/'));
	CHECK(M("/v1/**", "/v1/a/b", '/'));
	CHECK(M("/v1/**", "/v1/", '/'));
	CHECK(!M("/v1/**", "/v1", '/'));
	CHECK(!M("/v1/**", "/v2/a", '/'));
	CHECK(M("/usr/**", "/usr/local/bin/node", '/'));
	CHECK(M("/a/**/z", "/a/b/c/z", '/'));
	CHECK(!M("/a/**/z", "/a/b/c/y", '/'));
	CHECK(M("/**/bin/*", "/opt/x/bin/tool", '/'));
	CHECK(!M("/**/bin/*", "/opt/x/bin/sub/tool", '/'));
	/* "***" is "**". */
	CHECK(M("/a/***", "/a/b/c", '/'));
}

static void
t_question(void)
{
	CHECK(M("a?c", "abc", '/'));
	CHECK(!M("a?c", "ac", '/'));
	CHECK(!M("a?c", "abbc", '/'));
	CHECK(!M("a?c", "a/c", '/'));
	CHECK(M("a?c", "a/c", '.'));
	CHECK(M("???", "\xff\xfe\xfd", '/'));
}

static void
t_classes(void)
{
	CHECK(M("[abc]x", "bx", '/'));
	CHECK(!M("[abc]x", "dx", '/'));
	CHECK(M("v[0-9]", "v7", '/'));
	CHECK(!M("v[0-9]", "va", '/'));
	CHECK(!M("v[0-9]", "v10", '/'));
	CHECK(M("v[0-9]*", "v10", '/'));
	CHECK(M("[!a-c]", "d", '/'));
	CHECK(!M("[!a-c]", "b", '/'));
	CHECK(M("[^a-c]", "d", '/'));
	CHECK(!M("[^a-c]", "a", '/'));
	/* A ']' first is a member; a '-' last is a literal. */
	CHECK(M("[]]", "]", '/'));
	CHECK(M("[]a]", "a", '/'));
	CHECK(M("[a-]", "-", '/'));
	CHECK(M("[a-]", "a", '/'));
	CHECK(!M("[a-]", "b", '/'));
	CHECK(M("[!]]", "a", '/'));
	CHECK(!M("[!]]", "]", '/'));
	/* A class never matches the delimiter, even when it names it. */
	CHECK(!M("a[/]b", "a/b", '/'));
	CHECK(!M("a[!x]b", "a/b", '/'));
	CHECK(M("/usr/bin/[py]ython3", "/usr/bin/python3", '/'));
	CHECK(M("/usr/bin/[py]ython3", "/usr/bin/yython3", '/'));
}

static void
t_escapes(void)
{
	CHECK(M("a\\*", "a*", '/'));
	CHECK(!M("a\\*", "ab", '/'));
	CHECK(M("\\[x]", "[x]", '/'));
	CHECK(!M("\\[x]", "x", '/'));
	CHECK(M("a\\?", "a?", '/'));
	/* A trailing backslash is itself. */
	CHECK(M("a\\", "a\\", '/'));
}

static void
t_malformed(void)
{
	CHECK(os_glob_check("[abc]") == NULL);
	CHECK(os_glob_check("/v1/**") == NULL);
	CHECK(os_glob_check("[]]") == NULL);
	CHECK(os_glob_check("\\[abc") == NULL);
	CHECK_STR(os_glob_check("[abc"), "unterminated character class '['");
	CHECK_STR(os_glob_check("/a/[!x"), "unterminated character class '['");
	CHECK_STR(os_glob_check("x[]"), "unterminated character class '['");
	CHECK_STR(os_glob_check("ok[a]then[b"),
	    "unterminated character class '['");
	/* Matching still works: an unterminated '[' is a literal. */
	CHECK(M("[abc", "[abc", '/'));
	CHECK(!M("[abc", "a", '/'));
	CHECK(M("x[*", "x[yz", '/'));
}

static void
t_magic(void)
{
	CHECK(!os_glob_has_magic("/usr/bin/curl"));
	CHECK(os_glob_has_magic("/usr/bin/*"));
	CHECK(os_glob_has_magic("a?"));
	CHECK(os_glob_has_magic("[ab]"));
	CHECK(os_glob_has_magic("a\\b"));
	CHECK(!os_glob_has_magic(""));
}

static void
t_hosts(void)
{
	CHECK(M("*.example.com", "api.example.com", '.'));
	CHECK(!M("*.example.com", "example.com", '.'));
	CHECK(!M("*.example.com", "a.b.example.com", '.'));
	CHECK(M("**.example.com", "a.b.example.com", '.'));
	CHECK(M("**.example.com", "a.example.com", '.'));
	CHECK(!M("**.example.com", "example.com", '.'));
	CHECK(M("*-ai.googleapis.com", "us-ai.googleapis.com", '.'));
	CHECK(!M("*-ai.googleapis.com", "us.x-ai.googleapis.com", '.'));
	CHECK(M("*.s3.*.amazonaws.com", "b.s3.eu-west-1.amazonaws.com", '.'));
	CHECK(!M("*.s3.*.amazonaws.com", "b.s3.a.b.amazonaws.com", '.'));
}

static void
t_long_and_hostile(void)
{
	struct os_buf	p = OS_BUF_INIT, s = OS_BUF_INIT;
	size_t		i;

	/* Longer than the on-stack state set. */
	for (i = 0; i < 1500; i++)
		os_buf_addc(&p, 'a');
	os_buf_adds(&p, "*z");
	for (i = 0; i < 1500; i++)
		os_buf_addc(&s, 'a');
	os_buf_adds(&s, "bbbz");
	CHECK(M(os_buf_str(&p), os_buf_str(&s), '/'));
	os_buf_adds(&s, "/z");
	CHECK(!M(os_buf_str(&p), os_buf_str(&s), '/'));

	/* The classic backtracking bomb stays linear and correct. */
	os_buf_reset(&s);
	for (i = 0; i < 20000; i++)
		os_buf_addc(&s, 'a');
	CHECK(!M("*a*a*a*a*a*a*a*a*a*a*b", os_buf_str(&s), '/'));
	CHECK(M("**a**a**a**a**a", os_buf_str(&s), '/'));
	os_buf_free(&p);
	os_buf_free(&s);
}

int
main(void)
{
	TAP_RUN(t_literal);
	TAP_RUN(t_star);
	TAP_RUN(t_starstar);
	TAP_RUN(t_question);
	TAP_RUN(t_classes);
	TAP_RUN(t_escapes);
	TAP_RUN(t_malformed);
	TAP_RUN(t_magic);
	TAP_RUN(t_hosts);
	TAP_RUN(t_long_and_hostile);
	return tap_done();
}
