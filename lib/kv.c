/*
 * Reading structured log lines back: `key=value key="quoted \"value\""`,
 * exactly what os_buf_kv writes (quotes around values with spaces,
 * quotes, '=', '\' or control bytes; \" \\ and \xHH escapes inside).
 * The CLI's --json output and the console parse decision lines with it.
 */
#include "config.h"

#include <string.h>

#include "openshell.h"

static int
kv_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool
os_kv_next(struct os_kv_iter *it, struct os_buf *key, struct os_buf *value)
{
	const char	*p = it->p, *k;
	int		 hi, lo;

	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0') {
			it->p = p;
			return false;
		}
		k = p;
		while (*p != '\0' && *p != '=' && *p != ' ')
			p++;
		if (*p != '=' || p == k) {
			/* A bare word (free text): not a pair, skip it. */
			while (*p != '\0' && *p != ' ')
				p++;
			continue;
		}
		os_buf_reset(key);
		os_buf_add(key, k, (size_t)(p - k));
		p++;
		os_buf_reset(value);
		if (*p != '"') {
			k = p;
			while (*p != '\0' && *p != ' ')
				p++;
			os_buf_add(value, k, (size_t)(p - k));
			it->p = p;
			return true;
		}
		for (p++; *p != '\0' && *p != '"'; p++) {
			if (*p != '\\') {
				os_buf_addc(value, *p);
				continue;
			}
			if (p[1] == 'x' && (hi = kv_hex(p[2])) >= 0 &&
			    (lo = kv_hex(p[3])) >= 0) {
				/* Values are C strings: a NUL cannot be one's part. */
				if ((hi | lo) != 0)
					os_buf_addc(value, (char)(hi << 4 | lo));
				p += 3;
			} else if (p[1] != '\0')
				os_buf_addc(value, *++p);
		}
		if (*p == '"')
			p++;
		it->p = p;
		return true;
	}
}

bool
os_kv_get(const char *line, const char *key, struct os_buf *value)
{
	struct os_kv_iter	it = { line };
	struct os_buf		k = OS_BUF_INIT;
	bool			found = false;

	while (os_kv_next(&it, &k, value)) {
		if (strcmp(os_buf_str(&k), key) == 0) {
			found = true;
			break;
		}
	}
	os_buf_free(&k);
	if (!found)
		os_buf_reset(value);
	return found;
}
