/*
 * The Setup the sandbox's init receives: who agent processes run as,
 * their environment and working directory, and (when isolated) the root
 * filesystem, Landlock rules and sockets it must build. The static
 * sections of the policy (filesystem_policy, landlock, process) are read
 * here, once, at sandbox start: they cannot change for a running sandbox.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sup-setup.h"

#define SETUP_PROXY_PORT	3128
#define SETUP_PATH		"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

extern char **environ;

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

static void
setup_strv(struct sup_setup *st, char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = setup_str(st, xstrdup(s));
}

static Openshell__Supervisor__V1__Mount *
setup_mount(struct sup_setup *st, const char *source, const char *target)
{
	Openshell__Supervisor__V1__Mount	*m;
	Openshell__Supervisor__V1__Setup	*pb = &st->pb;

	m = xcalloc(1, sizeof *m);
	openshell__supervisor__v1__mount__init(m);
	m->source = setup_str(st, xstrdup(source != NULL ? source : ""));
	m->target = setup_str(st, xstrdup(target));
	st->mounts = xreallocarray(st->mounts, st->nmounts + 1, sizeof *st->mounts);
	st->mounts[st->nmounts++] = m;
	pb->mounts = st->mounts;
	pb->n_mounts = st->nmounts;
	return m;
}

/* ------------------------------------------------------------------------
 * The run-as identity
 */

/* `useradd` for the default user: a system account, no home of its own
 * (its home is the sandbox's /sandbox). */
static int
setup_create_user(const char *user, struct os_error *err)
{
	char	*argv[] = {
		(char *)"useradd", (char *)"--system", (char *)"--user-group",
		(char *)"--no-create-home", (char *)"--home-dir", (char *)"/sandbox",
		(char *)"--shell", (char *)"/bin/bash", (char *)user, NULL,
	};
	pid_t	pid;
	int	status, rc;

	rc = posix_spawnp(&pid, "useradd", NULL, NULL, argv, environ);
	if (rc != 0)
		return os_error_set(err, -rc, _("cannot run useradd to create "
		    "user '%s': %s (apt-get install passwd)"), user, strerror(rc));
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* 9: another sandbox created it a moment ago. */
	if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 ||
	    WEXITSTATUS(status) == 9))
		return 0;
	return os_error_set(err, -EIO, _("useradd %s failed (status %d)"), user,
	    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static int
setup_identity(struct sup_setup *st, const struct os_policy *p,
    struct os_error *err)
{
	Openshell__Supervisor__V1__Setup	*pb = &st->pb;
	const char				*user, *group;
	struct passwd				*pw;
	struct group				*gr;
	gid_t					 groups[64];
	int					 ngroups = OS_NELEM(groups), rc, i;

	user = p->run_as_user != NULL ? p->run_as_user : "sandbox";
	group = p->run_as_group;
	if ((pw = getpwnam(user)) == NULL && strcmp(user, "sandbox") == 0) {
		if ((rc = setup_create_user(user, err)) != 0)
			return rc;
		pw = getpwnam(user);
	}
	if (pw == NULL)
		return os_error_set(err, -ENOENT, _("process.run_as_user: there is "
		    "no user '%s' on this host"), user);
	if (pw->pw_uid == 0)
		return os_error_set(err, -EPERM, _("process.run_as_user: '%s' is "
		    "root; agents never run as root"), user);
	pb->uid = pw->pw_uid;
	pb->gid = pw->pw_gid;
	pb->user = setup_str(st, xstrdup(pw->pw_name));
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL)
			return os_error_set(err, -ENOENT, _("process.run_as_group: "
			    "there is no group '%s' on this host"), group);
		if (gr->gr_gid == 0)
			return os_error_set(err, -EPERM, _("process.run_as_group: '%s' "
			    "is root's group; agents never run as root"), group);
		pb->gid = gr->gr_gid;
	}
	/* Supplementary groups, but never root's. */
	if (getgrouplist(pw->pw_name, pb->gid, groups, &ngroups) < 0)
		ngroups = 0;
	pb->groups = xcalloc((size_t)ngroups + 1, sizeof *pb->groups);
	for (i = 0; i < ngroups; i++)
		if (groups[i] != 0)
			pb->groups[pb->n_groups++] = groups[i];
	setup_env(st, "SHELL", pw->pw_shell != NULL && *pw->pw_shell == '/' ?
	    pw->pw_shell : "/bin/sh");
	return 0;
}

/* ------------------------------------------------------------------------
 * Files the sandbox gets in /etc (the upper layer of its /etc overlay).
 */
static int
setup_write(const char *dir, const char *name, const char *text,
    struct os_error *err)
{
	char	*path;
	int	 rc;

	path = xprintf("%s/%s", dir, name);
	rc = sup_write_file(path, text, strlen(text), err);
	free(path);
	return rc;
}

static int
setup_etc(struct sup *s, struct sup_setup *st, struct os_error *err)
{
	char	*dir, *hosts, *hostname;
	int	 rc;

	dir = sup_path(s, "etc");
	if ((rc = sup_mkdir(dir, 0755, err)) != 0) {
		free(dir);
		return rc;
	}
	hosts = xprintf("127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t%s\n",
	    s->name);
	hostname = xprintf("%s\n", s->name);
	if ((rc = sup_tls_write_trust(s, dir, err)) == 0 &&
	    (rc = setup_write(dir, "resolv.conf",
	    "# The sandbox's DNS stub: it answers nothing and logs every query.\n"
	    "# Reach the network through HTTP_PROXY (127.0.0.1:3128).\n"
	    "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n", err)) == 0 &&
	    (rc = setup_write(dir, "hosts", hosts, err)) == 0)
		rc = setup_write(dir, "hostname", hostname, err);
	free(hosts);
	free(hostname);
	st->pb.etc_layer = setup_str(st, dir);
	return rc;
}

/* ------------------------------------------------------------------------
 * Mounts from filesystem_policy
 */

/* Paths the init provides itself, whatever the policy names. */
static bool
setup_provided(const char *path)
{
	static const char *const own[] = {
		"/proc", "/dev", "/tmp", "/sandbox", "/var/log", "/etc",
	};
	size_t	i, n;

	for (i = 0; i < OS_NELEM(own); i++) {
		n = strlen(own[i]);
		if (strncmp(path, own[i], n) == 0 && (path[n] == '\0' || path[n] == '/'))
			return true;
	}
	return false;
}

struct setup_path {
	const char	*path;
	bool		 writable;
};

static int
setup_path_cmp(const void *a, const void *b)
{
	const struct setup_path	*x = a, *y = b;

	/* Parents before children, so a child lands inside its parent. */
	return strcmp(x->path, y->path);
}

static void
setup_mounts(struct sup *s, struct sup_setup *st, const struct os_policy *p)
{
	static const char *const merged[] = {
		"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
	};
	const struct os_fs_policy	*fs = &p->filesystem;
	struct setup_path		*v;
	Openshell__Supervisor__V1__Mount *m;
	struct stat			 sb;
	char				 link[PATH_MAX];
	size_t				 n = 0, i, j;
	ssize_t				 ll;
	bool				 have_usr = false, dup;

	v = xcalloc(fs->nread_only + fs->nread_write + 1, sizeof *v);
	for (i = 0; i < fs->nread_only + fs->nread_write; i++) {
		const char *path = i < fs->nread_only ? fs->read_only[i] :
		    fs->read_write[i - fs->nread_only];

		if (setup_provided(path))
			continue;
		for (dup = false, j = 0; j < n; j++)
			if (strcmp(v[j].path, path) == 0) {
				/* Named both ways: writable wins, as in Landlock. */
				v[j].writable = v[j].writable || i >= fs->nread_only;
				dup = true;
			}
		if (dup)
			continue;
		v[n].path = path;
		v[n].writable = i >= fs->nread_only;
		n++;
	}
	qsort(v, n, sizeof *v, setup_path_cmp);
	for (i = 0; i < n; i++) {
		if (strcmp(v[i].path, "/usr") == 0)
			have_usr = true;
		if (lstat(v[i].path, &sb) == 0 && S_ISLNK(sb.st_mode) &&
		    (ll = readlink(v[i].path, link, sizeof link - 1)) > 0) {
			link[ll] = '\0';
			m = setup_mount(st, NULL, v[i].path);
			m->symlink = setup_str(st, xstrdup(link));
			continue;
		}
		m = setup_mount(st, v[i].path, v[i].path);
		m->writable = v[i].writable;
		m->optional = true;
	}
	/* Merged /usr: /bin, /lib... are symlinks into /usr on the host and
	 * must be the same inside, or nothing finds its interpreter. */
	for (i = 0; have_usr && i < OS_NELEM(merged); i++) {
		for (dup = false, j = 0; j < n; j++)
			dup = dup || strcmp(v[j].path, merged[i]) == 0;
		if (dup || lstat(merged[i], &sb) != 0 || !S_ISLNK(sb.st_mode) ||
		    (ll = readlink(merged[i], link, sizeof link - 1)) <= 0)
			continue;
		link[ll] = '\0';
		m = setup_mount(st, NULL, merged[i]);
		m->symlink = setup_str(st, xstrdup(link));
	}
	free(v);

	m = setup_mount(st, NULL, "/tmp");
	m->tmpfs = true;
	m = setup_mount(st, NULL, "/run");
	m->tmpfs = true;
	m = setup_mount(st, setup_str(st, sup_path(s, "work")), "/sandbox");
	m->writable = true;
	m = setup_mount(st, setup_str(st, sup_path(s, "log")), "/var/log");
	m->writable = true;
}

static void
setup_landlock(struct sup_setup *st, const struct os_policy *p)
{
	static const char *const devices[] = {
		"/dev/null", "/dev/zero", "/dev/full", "/dev/random",
		"/dev/urandom", "/dev/tty", "/dev/pts", "/dev/ptmx", "/dev/shm",
	};
	Openshell__Supervisor__V1__Setup	*pb = &st->pb;
	const struct os_fs_policy		*fs = &p->filesystem;
	size_t					 i;

	for (i = 0; i < fs->nread_only; i++)
		setup_strv(st, &pb->landlock_read_only, &pb->n_landlock_read_only,
		    fs->read_only[i]);
	for (i = 0; i < fs->nread_write; i++)
		setup_strv(st, &pb->landlock_read_write, &pb->n_landlock_read_write,
		    fs->read_write[i]);
	if (fs->include_workdir)
		setup_strv(st, &pb->landlock_read_write, &pb->n_landlock_read_write,
		    "/sandbox");
	/* The terminal and the harmless devices: a shell needs them, and they
	 * give nothing away. */
	for (i = 0; i < OS_NELEM(devices); i++)
		setup_strv(st, &pb->landlock_devices, &pb->n_landlock_devices,
		    devices[i]);
	pb->landlock_hard = p->has_landlock &&
	    p->landlock == OS_LANDLOCK_HARD_REQUIREMENT;
}

/* Trust for the CA the proxy terminates TLS with (sup-tls.c). */
static void
setup_tls_env(struct sup *s, struct sup_setup *st)
{
	static const char *const bundle_vars[] = {
		"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
		"GIT_SSL_CAINFO", "AWS_CA_BUNDLE", "PIP_CERT",
	};
	size_t	i;

	if (s->ca == NULL)
		return;
	for (i = 0; i < OS_NELEM(bundle_vars); i++)
		setup_env(st, bundle_vars[i], "/etc/openshell-tls/ca-bundle.pem");
	setup_env(st, "NODE_EXTRA_CA_CERTS", "/etc/openshell-tls/openshell-ca.pem");
	setup_env(st, "DENO_CERT", "/etc/openshell-tls/openshell-ca.pem");
}

static void
setup_proxy_env(struct sup_setup *st)
{
	char	url[64];

	snprintf(url, sizeof url, "http://127.0.0.1:%d", SETUP_PROXY_PORT);
	setup_env(st, "HTTP_PROXY", url);
	setup_env(st, "HTTPS_PROXY", url);
	setup_env(st, "ALL_PROXY", url);
	setup_env(st, "http_proxy", url);
	setup_env(st, "https_proxy", url);
	setup_env(st, "all_proxy", url);
	setup_env(st, "NO_PROXY", "localhost,127.0.0.1");
	setup_env(st, "no_proxy", "localhost,127.0.0.1");
	st->pb.proxy_port = SETUP_PROXY_PORT;
}

static int
setup_isolated(struct sup *s, const SupPbConfig *cfg, struct sup_setup *st,
    struct os_error *err)
{
	Openshell__Supervisor__V1__Setup	*pb = &st->pb;
	struct os_diags				 d = OS_DIAGS_INIT;
	struct os_policy			*p = NULL;
	char					*work, *state, *slash, *msg;
	int					 rc;

	/* Namespaces, pivot_root and a user of its own need root; say so
	 * before the first step that would fail obscurely. */
	if (geteuid() != 0)
		return os_error_set(err, -EPERM, _("sandboxes need root: the "
		    "gateway runs as uid %u (start it as root; rootless sandboxes "
		    "are not supported yet)"), (unsigned)geteuid());
	if (cfg->policy == NULL)
		p = os_policy_default();
	else if (os_policy_from_proto(cfg->policy, &p, &d) != 0) {
		msg = os_diags_format(&d);
		rc = os_error_set(err, -EINVAL, _("the sandbox's policy: %s"),
		    msg);
		free(msg);
		os_diags_free(&d);
		return rc;
	}
	os_diags_free(&d);
	if ((rc = setup_identity(st, p, err)) != 0)
		goto out;
	work = sup_path(s, "work");
	if ((rc = sup_mkdir(work, 0750, err)) == 0 &&
	    chown(work, pb->uid, pb->gid) < 0)
		rc = os_error_set(err, -errno, "chown %s: %s", work, strerror(errno));
	free(work);
	if (rc != 0)
		goto out;
	pb->root = setup_str(st, sup_path(s, "root"));
	if ((rc = sup_mkdir(pb->root, 0755, err)) != 0 ||
	    (rc = setup_etc(s, st, err)) != 0)
		goto out;
	pb->etc_from_host = false;
	for (size_t i = 0; i < p->filesystem.nread_only + p->filesystem.nread_write;
	    i++) {
		const char *path = i < p->filesystem.nread_only ?
		    p->filesystem.read_only[i] :
		    p->filesystem.read_write[i - p->filesystem.nread_only];

		if (strcmp(path, "/etc") == 0)
			pb->etc_from_host = true;
	}
	setup_mounts(s, st, p);
	setup_landlock(st, p);
	/* The gateway's state directory (<state>/sandboxes/<id>/..): hidden
	 * even if a policy mounts a parent of it. */
	state = xstrdup(s->dir);
	for (int k = 0; k < 2 && (slash = strrchr(state, '/')) != NULL &&
	    slash != state; k++)
		*slash = '\0';
	setup_strv(st, &pb->masks, &pb->n_masks, state);
	free(state);

	pb->workdir = setup_str(st, xstrdup("/sandbox"));
	pb->home = pb->workdir;
	pb->seccomp = true;
	pb->dns_stub = true;
	setup_env(st, "PATH", SETUP_PATH);
	setup_env(st, "HOME", "/sandbox");
	setup_env(st, "USER", pb->user);
	setup_env(st, "LOGNAME", pb->user);
	setup_env(st, "LANG", "C.UTF-8");
	setup_env(st, "TERM", "xterm-256color");
	setup_env(st, "OPENSHELL_SANDBOX", s->name);
	setup_proxy_env(st);
	setup_tls_env(s, st);
out:
	os_policy_free(p);
	return rc;
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
		return setup_isolated(s, cfg, st, err);

	/* Without isolation processes run as the supervisor, in <dir>/work. */
	work = sup_path(s, "work");
	if ((rc = sup_mkdir(work, 0700, err)) != 0) {
		free(work);
		return rc;
	}
	pb->workdir = setup_str(st, work);
	pb->home = pb->workdir;
	pb->user = setup_str(st, xstrdup("root"));
	setup_env(st, "PATH", SETUP_PATH);
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
	free(st->pb.landlock_devices);
	free(st->pb.masks);
	free(st->pb.groups);
	memset(st, 0, sizeof *st);
}
