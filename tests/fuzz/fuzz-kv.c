/*
 * Fuzz target: any bytes as a structured log line. Reading it back never
 * crashes, and every pair read, written again with os_buf_kv and read
 * once more, comes back identical (the writer and reader agree).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "openshell.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct os_buf		 k = OS_BUF_INIT, v = OS_BUF_INIT;
	struct os_buf		 line = OS_BUF_INIT, k2 = OS_BUF_INIT, v2 = OS_BUF_INIT;
	struct os_kv_iter	 it, it2;
	char			*s;

	s = xstrndup((const char *)data, size);
	it.p = s;
	while (os_kv_next(&it, &k, &v)) {
		/* Keys as the reader returns them never hold ' ', '=' or NUL;
		 * values may hold anything but NUL. */
		if (strpbrk(os_buf_str(&k), " =") != NULL || k.len == 0)
			abort();
		os_buf_reset(&line);
		os_buf_kv(&line, os_buf_str(&k), os_buf_str(&v));
		it2.p = os_buf_str(&line);
		if (!os_kv_next(&it2, &k2, &v2) ||
		    strcmp(os_buf_str(&k), os_buf_str(&k2)) != 0 ||
		    v.len != strlen(os_buf_str(&v)) ||
		    strcmp(os_buf_str(&v), os_buf_str(&v2)) != 0)
			abort();
	}
	free(s);
	os_buf_free(&k);
	os_buf_free(&v);
	os_buf_free(&k2);
	os_buf_free(&v2);
	os_buf_free(&line);
	return 0;
}
