/*
 * Structured log lines read back (lib/kv.c): whatever os_buf_kv writes,
 * os_kv_next returns unchanged; bare words are skipped; odd input never
 * crashes and never loses the pairs that follow it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openshell.h"
#include "tap.h"

static void
t_roundtrip(void)
{
	static const char *const values[] = {
		"plain", "", "with space", "quote\"inside", "back\\slash",
		"a=b", "tab\there", "nl\nline", "\x01\x7f", "ünïcödé",
		"/usr/bin/curl", "\"", "\\",
	};
	struct os_buf		 line = OS_BUF_INIT, k = OS_BUF_INIT, v = OS_BUF_INIT;
	struct os_kv_iter	 it;
	char			 key[16];
	size_t			 i;

	for (i = 0; i < OS_NELEM(values); i++) {
		snprintf(key, sizeof key, "k%zu", i);
		os_buf_kv(&line, key, values[i]);
	}
	it.p = os_buf_str(&line);
	for (i = 0; i < OS_NELEM(values); i++) {
		snprintf(key, sizeof key, "k%zu", i);
		CHECK(os_kv_next(&it, &k, &v));
		CHECK_STR(os_buf_str(&k), key);
		CHECK_STR(os_buf_str(&v), values[i]);
	}
	CHECK(!os_kv_next(&it, &k, &v));
	os_buf_free(&line);
	os_buf_free(&k);
	os_buf_free(&v);
}

static void
t_decision_line(void)
{
	const char	*l = "action=deny dst_host=api.github.com dst_port=443 "
	    "binary=/usr/bin/curl deny_reason=\"no matching network policy\"";
	struct os_buf	 v = OS_BUF_INIT;

	CHECK(os_kv_get(l, "dst_port", &v));
	CHECK_STR(os_buf_str(&v), "443");
	CHECK(os_kv_get(l, "deny_reason", &v));
	CHECK_STR(os_buf_str(&v), "no matching network policy");
	CHECK(!os_kv_get(l, "policy", &v));
	CHECK_STR(os_buf_str(&v), "");
	os_buf_free(&v);
}

static void
t_odd_input(void)
{
	struct os_buf		 k = OS_BUF_INIT, v = OS_BUF_INIT;
	struct os_kv_iter	 it;

	/* Free text and a lone '=' are skipped; the pair after them stays. */
	it.p = "free text =x a=1";
	CHECK(os_kv_next(&it, &k, &v));
	CHECK_STR(os_buf_str(&k), "a");
	CHECK_STR(os_buf_str(&v), "1");
	CHECK(!os_kv_next(&it, &k, &v));
	/* An unterminated quote ends the line; a trailing backslash is dropped. */
	it.p = "a=\"open b=2";
	CHECK(os_kv_next(&it, &k, &v));
	CHECK_STR(os_buf_str(&v), "open b=2");
	CHECK(!os_kv_next(&it, &k, &v));
	it.p = "a=\"x\\";
	CHECK(os_kv_next(&it, &k, &v));
	CHECK_STR(os_buf_str(&v), "x");
	/* A bad \x escape is kept as the characters it is made of. */
	it.p = "a=\"\\xZZ\"";
	CHECK(os_kv_next(&it, &k, &v));
	CHECK_STR(os_buf_str(&v), "xZZ");
	it.p = "";
	CHECK(!os_kv_next(&it, &k, &v));
	os_buf_free(&k);
	os_buf_free(&v);
}

int
main(void)
{
	TAP_RUN(t_roundtrip);
	TAP_RUN(t_decision_line);
	TAP_RUN(t_odd_input);
	return tap_done();
}
