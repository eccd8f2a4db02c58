/*
 * The agent's system call filter (libseccomp). Everything is allowed but
 * what would let a process leave or widen its sandbox, or attack the
 * kernel through rarely needed interfaces: tracing other processes,
 * mounting, entering or making namespaces, BPF and perf, kexec and
 * modules, raw and packet sockets, io_uring, userfaultfd, and handle-based
 * opens. clone3 answers ENOSYS (its flags live in memory a filter cannot
 * read; libc falls back to clone, whose flags it can). Other
 * architectures' system calls kill the process (libseccomp's default).
 *
 * The filter is compiled once by the init and loaded into each agent
 * process after no_new_privs, just before exec.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>

#include "isolate.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME	0x00000080
#endif

static scmp_filter_ctx	sc_ctx;

static const char *const sc_denied[] = {
	"ptrace", "process_vm_readv", "process_vm_writev",
	/* Another process's descriptors and memory, ptrace's way round:
	 * a socket taken from an allowed binary would pass for its. */
	"pidfd_getfd", "process_madvise",
	"mount", "umount", "umount2", "pivot_root", "chroot",
	"move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
	"mount_setattr",
	"setns",
	"bpf", "perf_event_open",
	"kexec_load", "kexec_file_load",
	"init_module", "finit_module", "delete_module",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"userfaultfd",
	"open_by_handle_at", "name_to_handle_at",
	"keyctl", "add_key", "request_key",
	"acct", "swapon", "swapoff", "reboot", "syslog", "lookup_dcookie",
	"quotactl", "quotactl_fd", "vm86", "vm86old", "uselib",
};

static const uint64_t sc_ns_flags[] = {
	CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
	CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
};

static const unsigned long sc_tty_ioctls[] = { TIOCSTI, TIOCLINUX };

static int
sc_rule(scmp_filter_ctx ctx, uint32_t action, const char *name,
    unsigned n, const struct scmp_arg_cmp *cmp, struct os_error *err)
{
	int	nr, rc;

	/* A name this libseccomp or architecture does not know: nothing to
	 * deny (the call cannot be made here either). */
	if ((nr = seccomp_syscall_resolve_name(name)) == __NR_SCMP_ERROR)
		return 0;
	rc = seccomp_rule_add_array(ctx, action, nr, n, cmp);
	if (rc < 0 && rc != -EEXIST)
		return os_error_set(err, rc, _("seccomp rule for %s: %s"), name,
		    strerror(-rc));
	return 0;
}

int
iso_seccomp_prepare(const IsoSetup *s, struct os_error *err)
{
	struct scmp_arg_cmp	c[2];
	scmp_filter_ctx		ctx;
	size_t			i;
	int			rc = 0;

	if (!s->isolate || !s->seccomp)
		return 0;
	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		return os_error_set(err, -ENOMEM, _("seccomp_init failed"));
	for (i = 0; rc == 0 && i < OS_NELEM(sc_denied); i++)
		rc = sc_rule(ctx, SCMP_ACT_ERRNO(EPERM), sc_denied[i], 0, NULL, err);
	/* clone and unshare: refused with any namespace flag, one rule each
	 * (a filter compares masked values for equality only). */
	for (i = 0; rc == 0 && i < OS_NELEM(sc_ns_flags); i++) {
		c[0] = SCMP_A0(SCMP_CMP_MASKED_EQ, sc_ns_flags[i], sc_ns_flags[i]);
		rc = sc_rule(ctx, SCMP_ACT_ERRNO(EPERM), "clone", 1, c, err);
		if (rc == 0)
			rc = sc_rule(ctx, SCMP_ACT_ERRNO(EPERM), "unshare", 1, c, err);
	}
	if (rc == 0) {
		c[0] = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWTIME, CLONE_NEWTIME);
		rc = sc_rule(ctx, SCMP_ACT_ERRNO(EPERM), "unshare", 1, c, err);
	}
	if (rc == 0)
		rc = sc_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL, err);
	/* Packet sockets, and raw IPv4/IPv6 sockets (the type's low bits). */
	if (rc == 0) {
		c[0] = SCMP_A0(SCMP_CMP_EQ, AF_PACKET);
		rc = sc_rule(ctx, SCMP_ACT_ERRNO(EPERM), "socket", 1, c, err);
	}
	if (rc == 0) {
		c[0] = SCMP_A0(SCMP_CMP_EQ, AF_INET);
		c[1] = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW);
		rc = sc_rule(ctx, SCMP_ACT_ERRNO(EPERM), "socket", 2, c, err);
	}
	if (rc == 0) {
		c[0] = SCMP_A0(SCMP_CMP_EQ, AF_INET6);
		c[1] = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW);
		rc = sc_rule(ctx, SCMP_ACT_ERRNO(EPERM), "socket", 2, c, err);
	}
	/* Typing into the terminal of whoever shares it, and the console's
	 * selection and paste. The kernel reads the command as 32 bits:
	 * the comparison must too, or TIOCSTI | 1 << 32 gets through. */
	for (i = 0; rc == 0 && i < OS_NELEM(sc_tty_ioctls); i++) {
		c[0] = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, sc_tty_ioctls[i]);
		rc = sc_rule(ctx, SCMP_ACT_ERRNO(EPERM), "ioctl", 1, c, err);
	}
	if (rc != 0) {
		seccomp_release(ctx);
		return rc;
	}
	sc_ctx = ctx;
	return 0;
}

int
iso_seccomp_apply(struct os_error *err)
{
	int	rc;

	if (sc_ctx == NULL)
		return 0;
	if ((rc = seccomp_load(sc_ctx)) < 0)
		return os_error_set(err, rc, "seccomp: %s", strerror(-rc));
	return 0;
}
