/*
 * Building the sandbox: notes, and what each agent process does to
 * itself between fork and exec. The root filesystem, network, Landlock
 * and seccomp live in isolate-*.c.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/prctl.h>
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
iso_prepare(const IsoSetup *s, struct iso_notes *notes, struct os_error *err)
{
	int	rc;

	if ((rc = iso_landlock_prepare(s, notes, err)) != 0)
		return rc;
	return iso_seccomp_prepare(s, err);
}

/*
 * Order matters: the identity first (setgroups needs the privilege the
 * uid change gives up), then no_new_privs (which Landlock and seccomp
 * need without CAP_SYS_ADMIN, and which keeps setuid binaries powerless),
 * then Landlock, then seccomp last so that its filter never stands in the
 * way of the steps before it.
 */
int
iso_child(const IsoSetup *s, struct os_error *err)
{
	gid_t	*groups;
	size_t	 i;
	int	 rc;

	if (!s->isolate)
		return 0;
	if (s->uid == 0 || s->gid == 0)
		return os_error_set(err, -EPERM,
		    _("refusing to run an agent process as root"));
	groups = xcalloc(s->n_groups + 1, sizeof *groups);
	for (i = 0; i < s->n_groups; i++)
		groups[i] = s->groups[i];
	rc = setgroups(s->n_groups, groups);
	free(groups);
	if (rc < 0 || setresgid(s->gid, s->gid, s->gid) < 0 ||
	    setresuid(s->uid, s->uid, s->uid) < 0)
		return os_error_set(err, -errno,
		    _("cannot drop to uid %u gid %u: %s"), s->uid, s->gid,
		    strerror(errno));
	if (getuid() == 0 || geteuid() == 0)
		return os_error_set(err, -EPERM,
		    _("still root after dropping privileges"));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return os_error_set(err, -errno, "no_new_privs: %s", strerror(errno));
	if ((rc = iso_landlock_apply(err)) != 0)
		return rc;
	return iso_seccomp_apply(err);
}
