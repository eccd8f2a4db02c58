/*
 * Binary paths as the sandbox resolves them. The proxy identifies a
 * caller by /proc/<pid>/exe, which the kernel reports with every symlink
 * resolved: /usr/bin/python3 runs as /usr/bin/python3.11. A policy that
 * names the link means the program behind it, so before a revision is
 * compiled each exact binary path that is a symlink inside the sandbox
 * gets its target added beside it (the stored policy is not changed).
 *
 * Resolution happens in the sandbox's own root (/proc/<init>/root), one
 * component at a time, so an absolute link target and ".." are taken
 * from the sandbox's view, never the host's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"

#define BIN_MAX_HOPS	40

/*
 * The canonical form of `path` below root fd `rootfd`, or NULL when it
 * cannot be resolved (loops, too long). A missing file resolves to the
 * path as far as it goes.
 */
static char *
bin_resolve(int rootfd, const char *path)
{
	char	 out[PATH_MAX], link[PATH_MAX], rest[2 * PATH_MAX];
	char	*comp, *next;
	size_t	 olen = 0;
	ssize_t	 n;
	int	 hops = 0;

	if (strlen(path) >= sizeof rest)
		return NULL;
	snprintf(rest, sizeof rest, "%s", path);
	out[0] = '\0';
	comp = rest;
	while (comp != NULL) {
		while (*comp == '/')
			comp++;
		if (*comp == '\0')
			break;
		if ((next = strchr(comp, '/')) != NULL)
			*next++ = '\0';
		if (strcmp(comp, ".") == 0) {
			comp = next;
			continue;
		}
		if (strcmp(comp, "..") == 0) {
			while (olen > 0 && out[olen - 1] != '/')
				olen--;
			if (olen > 0)
				olen--;
			out[olen] = '\0';
			comp = next;
			continue;
		}
		if (olen + 1 + strlen(comp) >= sizeof out)
			return NULL;
		out[olen] = '/';
		strcpy(out + olen + 1, comp);
		/* Every earlier component is already free of links: only
		 * this last one can be one. */
		n = readlinkat(rootfd, out + 1, link, sizeof link - 1);
		if (n < 0) {
			olen += 1 + strlen(comp);
			comp = next;
			continue;
		}
		if (++hops > BIN_MAX_HOPS)
			return NULL;
		link[n] = '\0';
		out[olen] = '\0';
		if (link[0] == '/')
			olen = 0;
		out[olen] = '\0';
		/* The link's target, then what was left of the path. */
		if (strlen(link) + 2 + (next != NULL ? strlen(next) : 0) >= sizeof rest)
			return NULL;
		{
			char tmp[2 * PATH_MAX];

			snprintf(tmp, sizeof tmp, "%s/%s", link, next != NULL ? next : "");
			snprintf(rest, sizeof rest, "%s", tmp);
		}
		comp = rest;
	}
	return xstrdup(olen > 0 ? out : "/");
}

static bool
bin_listed(const struct os_rule *r, const char *path)
{
	size_t	i;

	for (i = 0; i < r->nbinaries; i++)
		if (strcmp(r->binaries[i].path, path) == 0)
			return true;
	return false;
}

void
sup_policy_resolve_binaries(struct sup *s, struct os_policy *p)
{
	struct os_rule	*r;
	char		*root, *real;
	size_t		 i, j, n;
	int		 rootfd;

	if (!s->isolate || s->init_pid <= 0)
		return;
	root = xprintf("/proc/%d/root", s->init_pid);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	free(root);
	if (rootfd < 0)
		return;
	for (i = 0; i < p->nrules; i++) {
		r = &p->rules[i];
		n = r->nbinaries;
		for (j = 0; j < n; j++) {
			if (os_glob_has_magic(r->binaries[j].path) ||
			    (real = bin_resolve(rootfd, r->binaries[j].path)) == NULL)
				continue;
			if (bin_listed(r, real)) {
				free(real);
				continue;
			}
			r->binaries = xreallocarray(r->binaries, r->nbinaries + 1,
			    sizeof *r->binaries);
			r->binaries[r->nbinaries].path = real;
			r->binaries[r->nbinaries].advisor_proposed =
			    r->binaries[j].advisor_proposed;
			r->nbinaries++;
		}
	}
	close(rootfd);
}
