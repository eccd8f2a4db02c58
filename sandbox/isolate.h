/*
 * Building the sandbox (isolate-*.c): run by the sandbox's init, which is
 * single-threaded and still root. The init has already unshared the
 * mount, network, UTS, IPC and PID namespaces when setup->isolate is set.
 */
#ifndef ISOLATE_H
#define ISOLATE_H

#include "sandbox.h"

typedef Openshell__Supervisor__V1__Setup IsoSetup;

/* Degradations worth telling the operator (best-effort Landlock and the
 * like); collected by the init and sent with Ready. */
struct iso_notes {
	char	**v;
	size_t	  n;
};
void	 iso_note(struct iso_notes *, const char *fmt, ...) OS_PRINTF(2, 3);
void	 iso_notes_free(struct iso_notes *);

/* In the init, once: hostname, root filesystem (pivot_root into a tmpfs
 * with the setup's mounts), /proc, /dev. */
int	 iso_rootfs(const IsoSetup *, struct iso_notes *, struct os_error *);
/* In the init, once: lo up; the proxy listener on 127.0.0.1:<proxy_port>
 * and the DNS stub's UDP socket on 127.0.0.1:53 (-1 when not wanted). */
int	 iso_network(const IsoSetup *, int *proxy_fd, int *dns_fd,
	     struct os_error *);
/* In the init, once, after iso_rootfs: the Landlock ruleset (paths as the
 * sandbox sees them; hard_requirement fails here) and the seccomp filter. */
int	 iso_prepare(const IsoSetup *, struct iso_notes *, struct os_error *);
/*
 * In each agent process, after fork and before exec: drop to uid/gid,
 * no_new_privs, Landlock, seccomp. On failure the process must not exec:
 * the caller reports err and exits.
 */
int	 iso_child(const IsoSetup *, struct os_error *);

/* isolate-landlock.c, isolate-seccomp.c */
int	 iso_landlock_prepare(const IsoSetup *, struct iso_notes *,
	     struct os_error *);
int	 iso_landlock_apply(struct os_error *);
int	 iso_seccomp_prepare(const IsoSetup *, struct os_error *);
int	 iso_seccomp_apply(struct os_error *);

#endif /* ISOLATE_H */
