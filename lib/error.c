/* struct os_error: a code and a message carried up the error path. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "openshell.h"

int
os_error_set(struct os_error *e, int code, const char *fmt, ...)
{
	va_list	ap;

	if (e == NULL)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return code;
}

void
os_error_clear(struct os_error *e)
{
	if (e == NULL)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}

void
os_error_prefix(struct os_error *e, const char *fmt, ...)
{
	struct os_buf	 b = OS_BUF_INIT;
	va_list		 ap;
	size_t		 n;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	os_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	os_buf_adds(&b, ": ");
	os_buf_adds(&b, e->msg);
	n = b.len < sizeof e->msg - 1 ? b.len : sizeof e->msg - 1;
	memcpy(e->msg, b.data, n);
	e->msg[n] = '\0';
	os_buf_free(&b);
}
