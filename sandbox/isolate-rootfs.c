/*
 * The sandbox's root filesystem, built by its init (root, in fresh mount,
 * PID, network, UTS and IPC namespaces): a tmpfs with read-only binds of
 * the system directories the policy names, the merged-/usr symlinks, a
 * writable /sandbox and /var/log from the sandbox's state directory, a
 * private /tmp, its own /proc and a minimal /dev, /etc as the host's with
 * the sandbox's own resolv.conf and hosts on top; then pivot_root into it.
 * Anything not mounted here (the gateway's state directory, sockets,
 * other sandboxes) does not exist inside.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "isolate.h"

typedef Openshell__Supervisor__V1__Mount IsoMount;

static int
rootfs_mkdirs(const char *path, mode_t mode)
{
	char	*p, *s;
	int	 rc = 0;

	p = xstrdup(path);
	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		{
			char	c = *s;

			*s = '\0';
			if (mkdir(p, mode) < 0 && errno != EEXIST) {
				rc = -errno;
				break;
			}
			*s = c;
		}
		if (*s == '\0')
			break;
	}
	free(p);
	return rc;
}

/* Creates what a bind mount needs to land on: a directory or a file. */
static int
rootfs_make_target(const char *target, bool dir)
{
	char	*parent, *slash;
	int	 fd, rc;

	parent = xstrdup(target);
	if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
		*slash = '\0';
		if ((rc = rootfs_mkdirs(parent, 0755)) != 0) {
			free(parent);
			return rc;
		}
	}
	free(parent);
	if (dir)
		return mkdir(target, 0755) < 0 && errno != EEXIST ? -errno : 0;
	fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == EEXIST ? 0 : -errno;
	close(fd);
	return 0;
}

static int
rootfs_bind(const char *src, const char *dst, bool writable, bool nodev,
    struct os_error *err)
{
	struct stat	st;
	unsigned long	fl;
	int		rc;

	if (stat(src, &st) < 0)
		return os_error_set(err, -errno, "%s: %s", src, strerror(errno));
	if ((rc = rootfs_make_target(dst, S_ISDIR(st.st_mode))) != 0)
		return os_error_set(err, rc, _("cannot create %s: %s"), dst,
		    strerror(-rc));
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		return os_error_set(err, -errno, "bind %s: %s", src, strerror(errno));
	/* A bind keeps the source's flags until remounted; setuid binaries
	 * must never gain anything in here. */
	fl = MS_REMOUNT | MS_BIND | MS_NOSUID;
	if (!writable)
		fl |= MS_RDONLY;
	if (nodev)
		fl |= MS_NODEV;
	if (mount(NULL, dst, NULL, fl, NULL) < 0)
		return os_error_set(err, -errno, "remount %s: %s", dst, strerror(errno));
	return 0;
}

static int
rootfs_tmpfs(const char *dst, const char *opts, unsigned long flags,
    struct os_error *err)
{
	int	rc;

	if ((rc = rootfs_mkdirs(dst, 0755)) != 0)
		return os_error_set(err, rc, _("cannot create %s: %s"), dst,
		    strerror(-rc));
	if (mount("tmpfs", dst, "tmpfs", flags, opts) < 0)
		return os_error_set(err, -errno, _("tmpfs on %s: %s"), dst,
		    strerror(errno));
	return 0;
}

static int
rootfs_mount_one(const char *root, const IsoMount *m, struct iso_notes *notes,
    struct os_error *err)
{
	struct stat	 st;
	char		*dst;
	int		 rc = 0;

	dst = xprintf("%s%s", root, m->target);
	if (*m->symlink != '\0') {
		if ((rc = rootfs_make_target(dst, true)) == 0) {
			rmdir(dst);
			if (symlink(m->symlink, dst) < 0 && errno != EEXIST)
				rc = os_error_set(err, -errno, "symlink %s: %s", m->target,
				    strerror(errno));
		} else
			rc = os_error_set(err, rc, _("cannot create %s: %s"),
			    m->target, strerror(-rc));
	} else if (m->tmpfs)
		rc = rootfs_tmpfs(dst, "mode=1777,size=50%", MS_NOSUID | MS_NODEV, err);
	else if (stat(m->source, &st) < 0) {
		if (!m->optional)
			rc = os_error_set(err, -errno, "%s: %s", m->source, strerror(errno));
		else
			iso_note(notes, "filesystem_policy: %s does not exist on this "
			    "host; not mounted", m->source);
	} else
		rc = rootfs_bind(m->source, dst, m->writable, true, err);
	free(dst);
	return rc;
}

/*
 * /etc: a read-only overlay whose upper layer is the sandbox's own files
 * (resolv.conf pointing at the DNS stub, hosts, hostname) over the host's
 * /etc. An overlay shadows even a host resolv.conf that is a symlink into
 * /run, which a file bind could not.
 */
static int
rootfs_etc(const char *root, const IsoSetup *s, struct iso_notes *notes,
    struct os_error *err)
{
	char	*dst, *opts;
	int	 rc;

	if (*s->etc_layer == '\0')
		return 0;
	dst = xprintf("%s/etc", root);
	if ((rc = rootfs_make_target(dst, true)) != 0) {
		os_error_set(err, rc, _("cannot create /etc: %s"),
		    strerror(-rc));
		free(dst);
		return rc;
	}
	if (!s->etc_from_host) {
		rc = rootfs_bind(s->etc_layer, dst, false, true, err);
		free(dst);
		return rc;
	}
	opts = xprintf("lowerdir=%s:/etc", s->etc_layer);
	if (mount("overlay", dst, "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV,
	    opts) == 0) {
		free(opts);
		free(dst);
		return 0;
	}
	free(opts);
	/* No overlayfs: the host's /etc, and our files bound over its own. */
	iso_note(notes, "overlayfs unavailable (%s): /etc files bound one by one",
	    strerror(errno));
	if ((rc = rootfs_bind("/etc", dst, false, true, err)) == 0) {
		static const char *const files[] = { "resolv.conf", "hosts", "hostname" };
		struct stat st;
		size_t i;

		for (i = 0; i < OS_NELEM(files) && rc == 0; i++) {
			char *src = xprintf("%s/%s", s->etc_layer, files[i]);
			char *t = xprintf("%s/%s", dst, files[i]);

			if (lstat(t, &st) == 0 && S_ISREG(st.st_mode) &&
			    mount(src, t, NULL, MS_BIND, NULL) < 0)
				iso_note(notes, "cannot replace /etc/%s: %s", files[i],
				    strerror(errno));
			free(src);
			free(t);
		}
	}
	free(dst);
	return rc;
}

/* A minimal /dev: the harmless character devices, a private devpts, shm. */
static int
rootfs_dev(const char *root, struct os_error *err)
{
	static const char *const nodes[] = {
		"null", "zero", "full", "random", "urandom", "tty",
	};
	static const char *const links[][2] = {
		{ "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" },
		{ "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
		{ "ptmx", "pts/ptmx" },
	};
	char	*dev, *p, *q;
	size_t	 i;
	int	 rc;

	dev = xprintf("%s/dev", root);
	rc = rootfs_tmpfs(dev, "mode=0755,size=1m", MS_NOSUID | MS_NOEXEC, err);
	for (i = 0; rc == 0 && i < OS_NELEM(nodes); i++) {
		p = xprintf("/dev/%s", nodes[i]);
		q = xprintf("%s/%s", dev, nodes[i]);
		rc = rootfs_bind(p, q, true, false, err);
		free(p);
		free(q);
	}
	for (i = 0; rc == 0 && i < OS_NELEM(links); i++) {
		q = xprintf("%s/%s", dev, links[i][0]);
		if (symlink(links[i][1], q) < 0)
			rc = os_error_set(err, -errno, "symlink /dev/%s: %s",
			    links[i][0], strerror(errno));
		free(q);
	}
	if (rc == 0) {
		/* max: every devpts instance counts against the host's
		 * kernel.pty.max; one sandbox must not take them all. */
		q = xprintf("%s/pts", dev);
		if (mkdir(q, 0755) < 0 ||
		    mount("devpts", q, "devpts", MS_NOSUID | MS_NOEXEC,
		    "newinstance,ptmxmode=0666,mode=0620,max=256") < 0)
			rc = os_error_set(err, -errno, "devpts: %s", strerror(errno));
		free(q);
	}
	if (rc == 0) {
		q = xprintf("%s/shm", dev);
		rc = rootfs_tmpfs(q, "mode=1777,size=64m", MS_NOSUID | MS_NODEV, err);
		free(q);
	}
	free(dev);
	return rc;
}

int
iso_rootfs(const IsoSetup *s, struct iso_notes *notes, struct os_error *err)
{
	const char	*root = s->root;
	char		*p;
	size_t		 i;
	int		 rc;

	if (!s->isolate)
		return 0;
	if (*root == '\0')
		return os_error_set(err, -EINVAL, "no root directory in the setup");
	if (sethostname(s->hostname, strlen(s->hostname)) < 0)
		iso_note(notes, "cannot set the hostname: %s", strerror(errno));
	/* Nothing we mount may leak back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return os_error_set(err, -errno, _("make mounts private: %s"),
		    strerror(errno));
	if (mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV,
	    "mode=0755,size=16m") < 0)
		return os_error_set(err, -errno, _("tmpfs root on %s: %s"),
		    root, strerror(errno));
	for (i = 0; i < s->n_mounts; i++) {
		if ((rc = rootfs_mount_one(root, s->mounts[i], notes, err)) != 0)
			return rc;
	}
	if ((rc = rootfs_etc(root, s, notes, err)) != 0 ||
	    (rc = rootfs_dev(root, err)) != 0)
		return rc;
	p = xprintf("%s/proc", root);
	rc = rootfs_mkdirs(p, 0555);
	if (rc == 0 && mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    NULL) < 0)
		rc = -errno;
	free(p);
	if (rc != 0)
		return os_error_set(err, rc, "mount /proc: %s", strerror(-rc));
	for (i = 0; i < s->n_masks; i++) {
		struct stat st;

		p = xprintf("%s%s", root, s->masks[i]);
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode) &&
		    mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV |
		    MS_NOEXEC, "mode=0000,size=4k") < 0) {
			os_error_set(err, -errno, _("cannot hide %s: %s"),
			    s->masks[i], strerror(errno));
			free(p);
			return err->code;
		}
		free(p);
	}

	/* pivot_root(".", "."): the old root ends up stacked under the new
	 * one and is detached right away; no directory for it is needed. */
	if (chdir(root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		return os_error_set(err, -errno, "pivot_root: %s", strerror(errno));
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return os_error_set(err, -errno,
		    _("detach the host's root: %s"), strerror(errno));
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
	    NULL) < 0)
		iso_note(notes, "cannot make / read-only: %s", strerror(errno));
	return 0;
}
