/* Growable NUL-terminated byte buffer, and the escaping helpers that write into one. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openshell.h"

static void
buf_reserve(struct os_buf *b, size_t more)
{
	size_t	need;

	need = b->len + more + 1;
	if (need <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 64;
	while (b->cap < need)
		b->cap *= 2;
	b->data = xrealloc(b->data, b->cap);
}

void
os_buf_add(struct os_buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n != 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
os_buf_adds(struct os_buf *b, const char *s)
{
	os_buf_add(b, s, strlen(s));
}

void
os_buf_addc(struct os_buf *b, char c)
{
	os_buf_add(b, &c, 1);
}

void
os_buf_vaddf(struct os_buf *b, const char *fmt, va_list ap)
{
	va_list	ap2;
	int	n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
os_buf_addf(struct os_buf *b, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	os_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void
os_buf_reset(struct os_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
os_buf_free(struct os_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *
os_buf_steal(struct os_buf *b)
{
	char	*s;

	if (b->data == NULL)
		return xstrdup("");
	s = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

const char *
os_buf_str(struct os_buf *b)
{
	return b->data != NULL ? b->data : "";
}

void
os_buf_json_str(struct os_buf *b, const char *s)
{
	const unsigned char	*p;

	os_buf_addc(b, '"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			os_buf_adds(b, "\\\"");
			break;
		case '\\':
			os_buf_adds(b, "\\\\");
			break;
		case '\n':
			os_buf_adds(b, "\\n");
			break;
		case '\r':
			os_buf_adds(b, "\\r");
			break;
		case '\t':
			os_buf_adds(b, "\\t");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				os_buf_addf(b, "\\u%04x", *p);
			else
				os_buf_addc(b, (char)*p);
		}
	}
	os_buf_addc(b, '"');
}

/*
 * key=value as in `action=deny dst_host=x deny_reason="no matching..."`:
 * values with spaces, quotes, '=' or control bytes are quoted and escaped,
 * so one line is always one record.
 */
void
os_buf_kv(struct os_buf *b, const char *key, const char *value)
{
	const unsigned char	*p;
	bool			 quote = false;

	if (value == NULL)
		value = "";
	if (b->len != 0 && b->data[b->len - 1] != ' ')
		os_buf_addc(b, ' ');
	os_buf_adds(b, key);
	os_buf_addc(b, '=');
	if (*value == '\0')
		quote = true;
	for (p = (const unsigned char *)value; *p != '\0' && !quote; p++) {
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
			quote = true;
	}
	if (!quote) {
		os_buf_adds(b, value);
		return;
	}
	os_buf_addc(b, '"');
	for (p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			os_buf_addc(b, '\\');
			os_buf_addc(b, (char)*p);
		} else if (*p < 0x20 || *p == 0x7f)
			os_buf_addf(b, "\\x%02x", *p);
		else
			os_buf_addc(b, (char)*p);
	}
	os_buf_addc(b, '"');
}
