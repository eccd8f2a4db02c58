/*
 * Landlock from filesystem_policy, on top of the sandbox's mounts. The
 * init builds one ruleset after pivot_root (paths are the sandbox's own);
 * each agent process enforces it with landlock_restrict_self() between
 * fork and exec, so the init itself stays unrestricted.
 *
 * read_only grants execute, read and list; read_write grants everything
 * this kernel's Landlock ABI can restrict. A path that is a file gets the
 * file subset of its rights (directory rights on a file are EINVAL).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "isolate.h"

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER	(1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE	(1ULL << 14)
#endif

#define LL_READ	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | \
	LANDLOCK_ACCESS_FS_READ_DIR)
#define LL_FILE	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE)
#define LL_V1	(LL_READ | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
	LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | \
	LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | \
	LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK | \
	LANDLOCK_ACCESS_FS_MAKE_SYM)

static int	ll_ruleset = -1;     /* built once by the init */

static int
ll_abi(void)
{
	long	v;

	v = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	return v < 0 ? -errno : (int)v;
}

static int
ll_add(int ruleset, const char *path, uint64_t access, uint64_t handled,
    struct iso_notes *notes)
{
	struct landlock_path_beneath_attr	pb;
	struct stat				st;
	int					fd, rc = 0;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;       /* mounts decided it is not there */
		iso_note(notes, "landlock: cannot open %s: %s", path, strerror(errno));
		return 0;
	}
	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
		access &= LL_FILE;
	memset(&pb, 0, sizeof pb);
	pb.allowed_access = access & handled;
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH,
	    &pb, 0) < 0) {
		rc = -errno;
		iso_note(notes, "landlock: cannot add %s: %s", path, strerror(errno));
	}
	close(fd);
	return rc;
}

int
iso_landlock_prepare(const IsoSetup *s, struct iso_notes *notes,
    struct os_error *err)
{
	struct landlock_ruleset_attr	attr;
	uint64_t			handled;
	size_t				i;
	int				abi, fd;

	if (!s->isolate)
		return 0;
	if ((abi = ll_abi()) < 1) {
		if (s->landlock_hard)
			return os_error_set(err, -ENOTSUP,
			    _("landlock.compatibility is hard_requirement, but this "
			    "kernel has no Landlock (%s); refusing to start the sandbox"),
			    strerror(abi < 0 ? -abi : ENOTSUP));
		iso_note(notes, "Landlock is not available (%s): filesystem_policy "
		    "is enforced by the sandbox's mounts only",
		    strerror(abi < 0 ? -abi : ENOTSUP));
		return 0;
	}
	handled = LL_V1;
	if (abi >= 2)
		handled |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		handled |= LANDLOCK_ACCESS_FS_TRUNCATE;
	else
		iso_note(notes, "Landlock ABI %d: truncating files is not "
		    "restricted on this kernel", abi);
	memset(&attr, 0, sizeof attr);
	attr.handled_access_fs = handled;
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
	if (fd < 0) {
		if (s->landlock_hard)
			return os_error_set(err, -errno,
			    _("landlock.compatibility is hard_requirement, but the "
			    "ruleset cannot be created: %s"), strerror(errno));
		iso_note(notes, "Landlock ruleset: %s; not enforced", strerror(errno));
		return 0;
	}
	/* Listing directories (names only) everywhere: the root is our own
	 * tmpfs of mount points, and `ls /` failing helps nobody. */
	ll_add(fd, "/", LANDLOCK_ACCESS_FS_READ_DIR, handled, notes);
	for (i = 0; i < s->n_landlock_read_only; i++)
		ll_add(fd, s->landlock_read_only[i], LL_READ, handled, notes);
	for (i = 0; i < s->n_landlock_read_write; i++)
		ll_add(fd, s->landlock_read_write[i], handled, handled, notes);
	for (i = 0; i < s->n_landlock_devices; i++)
		ll_add(fd, s->landlock_devices[i], LL_FILE, handled, notes);
	/* Keep it across the fork of each agent process, never across exec. */
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	ll_ruleset = fd;
	return 0;
}

int
iso_landlock_apply(struct os_error *err)
{
	if (ll_ruleset < 0)
		return 0;
	if (syscall(SYS_landlock_restrict_self, ll_ruleset, 0) < 0)
		return os_error_set(err, -errno, "landlock_restrict_self: %s",
		    strerror(errno));
	close(ll_ruleset);
	ll_ruleset = -1;
	return 0;
}
