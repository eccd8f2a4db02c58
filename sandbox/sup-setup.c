/*
 * The Setup the sandbox's init receives: who agent processes run as,
 * their environment and working directory, and (when isolated) the root
 * filesystem, Landlock rules and sockets it must build.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sup-setup.h"

static char *
setup_str(struct sup_setup *st, char *s)
{
	st->strs = xreallocarray(st->strs, st->nstrs + 1, sizeof *st->strs);
	st->strs[st->nstrs++] = s;
	return s;
}

static void
setup_env(struct sup_setup *st, const char *key, const char *value)
{
	Openshell__Supervisor__V1__Setup	*pb = &st->pb;

	pb->env = xreallocarray(pb->env, pb->n_env + 1, sizeof *pb->env);
	pb->env[pb->n_env++] = setup_str(st, xprintf("%s=%s", key, value));
}

int
sup_setup_build(struct sup *s, const SupPbConfig *cfg, struct sup_setup *st,
    struct os_error *err)
{
	Openshell__Supervisor__V1__Setup	*pb = &st->pb;
	char					*work;
	int					 rc;

	memset(st, 0, sizeof *st);
	openshell__supervisor__v1__setup__init(pb);
	pb->hostname = setup_str(st, xstrdup(s->name));
	pb->isolate = s->isolate;
	if (s->isolate)
		return os_error_set(err, -ENOSYS, "isolation is not built yet");

	/* Without isolation processes run as the supervisor, in <dir>/work. */
	work = sup_path(s, "work");
	if ((rc = sup_mkdir(work, 0700, err)) != 0) {
		free(work);
		return rc;
	}
	pb->workdir = setup_str(st, work);
	pb->home = pb->workdir;
	pb->user = setup_str(st, xstrdup("root"));
	setup_env(st, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	setup_env(st, "HOME", work);
	setup_env(st, "USER", "root");
	setup_env(st, "LOGNAME", "root");
	setup_env(st, "SHELL", "/bin/bash");
	setup_env(st, "LANG", "C.UTF-8");
	setup_env(st, "TERM", "xterm-256color");
	setup_env(st, "OPENSHELL_SANDBOX", s->name);
	return 0;
}

void
sup_setup_clear(struct sup_setup *st)
{
	size_t	i;

	for (i = 0; i < st->nmounts; i++)
		free(st->mounts[i]);
	free(st->mounts);
	os_strv_free(st->strs, st->nstrs);
	free(st->pb.env);
	free(st->pb.landlock_read_only);
	free(st->pb.landlock_read_write);
	free(st->pb.groups);
	memset(st, 0, sizeof *st);
}
