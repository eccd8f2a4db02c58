/*
 * Building the sandbox. This file holds the parts every mode needs; the
 * namespaces, root filesystem, Landlock and seccomp live in isolate-*.c.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "isolate.h"

void
iso_note(struct iso_notes *n, const char *fmt, ...)
{
	va_list	ap;

	n->v = xreallocarray(n->v, n->n + 1, sizeof *n->v);
	va_start(ap, fmt);
	n->v[n->n++] = xvprintf(fmt, ap);
	va_end(ap);
}

void
iso_notes_free(struct iso_notes *n)
{
	os_strv_free(n->v, n->n);
	n->v = NULL;
	n->n = 0;
}

int
iso_rootfs(const IsoSetup *s, struct iso_notes *notes, struct os_error *err)
{
	if (!s->isolate)
		return 0;
	return os_error_set(err, -ENOSYS, "isolation is not built yet");
}

int
iso_network(const IsoSetup *s, int *proxy_fd, int *dns_fd, struct os_error *err)
{
	*proxy_fd = *dns_fd = -1;
	if (!s->isolate)
		return 0;
	return os_error_set(err, -ENOSYS, "isolation is not built yet");
}

int
iso_child(const IsoSetup *s, struct os_error *err)
{
	if (!s->isolate)
		return 0;
	return os_error_set(err, -ENOSYS, "isolation is not built yet");
}
