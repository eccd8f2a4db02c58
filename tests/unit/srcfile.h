/*
 * Test data from the source tree ($OS_SRCDIR, set by the test harness),
 * for unit tests that load the policy files under tests/unit/policies/.
 */
#ifndef SRCFILE_H
#define SRCFILE_H

#include <stdio.h>
#include <stdlib.h>

#include "openshell.h"

/* The whole file at OS_SRCDIR/rel, NUL-terminated; NULL (and a TAP
 * comment) when it cannot be read. Caller frees. */
static char *
read_src(const char *rel, size_t *len)
{
	const char	*dir = getenv("OS_SRCDIR");
	char		*path, *buf = NULL;
	FILE		*f;
	long		 n;

	path = xprintf("%s/%s", dir != NULL ? dir : ".", rel);
	if ((f = fopen(path, "rb")) == NULL) {
		printf("# cannot open %s\n", path);
		free(path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = xmalloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	buf[*len] = '\0';
	fclose(f);
	free(path);
	return buf;
}

#endif /* SRCFILE_H */
