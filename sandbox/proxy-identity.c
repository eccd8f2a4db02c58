/*
 * Binary identity: which process, running which executable, launched by
 * which ancestors, owns the socket at the other end of a proxy
 * connection. Everything comes from /proc, read in the host's view:
 *
 *   /proc/<init>/net/tcp{,6}  the sandbox namespace's socket table: the
 *                             client's socket (ESTABLISHED, local = the
 *                             client's address, remote = the proxy's) and
 *                             its inode
 *   /proc/<pid>/fd/N          who holds socket:[inode]: the descendants of
 *                             init first (task/<tid>/children), then every
 *                             pid as a fallback
 *   /proc/<pid>/exe, stat     the executable, the parent and start time
 *
 * The fallback scan exists because a process outside init's tree can only
 * hold a socket of the sandbox's namespace if one was passed to it (or it
 * joined the namespace from outside, as `ip netns exec` does in tests and
 * some spawners do); finding it there is still an exact answer about who
 * owns the socket, never a guess.
 *
 * Two caches make a warm lookup a handful of syscalls: inode -> (pid, fd),
 * validated by re-reading that one fd link; pid -> (start time, exe,
 * ancestors), validated by the start time (pid reuse) and the exe link
 * (execve). A mismatch evicts the entry. A new socket is looked for first
 * among the few processes that owned sockets lately, then in the tree. Ancestors are cached with the
 * process: a parent that execs after forking the client keeps the identity
 * it had when it launched it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxy-int.h"

#define ID_BUCKETS		1024
#define ID_CACHE_MAX		8192
#define ID_MAX_DEPTH		64
#define ID_MAX_OWNERS		8
#define ID_MAX_TREE		65536
#define ID_RECENT		8
#define ID_RECENT_FDS		4

struct id_sock {
	struct id_sock	*next;
	uint64_t	 inode;
	int		 pid;
	int		 fd;
};

struct id_proc {
	struct id_proc	*next;
	int		 pid;
	int		 ppid;
	uint64_t	 start;
	char		*exe;
	char	       **anc;
	size_t		 nanc;
};

struct proxy_idcache {
	int		 init_pid;
	struct id_sock	*socks[ID_BUCKETS];
	struct id_proc	*procs[ID_BUCKETS];
	size_t		 nsocks;
	size_t		 nprocs;
	int		 recent[ID_RECENT];  /* pids that owned sockets lately */
	/* ... and the fds of their last few sockets (threads that connect
	 * at once hold several) */
	int		 recent_fd[ID_RECENT][ID_RECENT_FDS];
	unsigned	 nrecent_fd[ID_RECENT];
	unsigned	 nrecent;
	int		 diag;               /* NETLINK_SOCK_DIAG in init's netns, or -1 */
	uint32_t	 seq;
};

/* A sock_diag socket inside init's network namespace (setns needs
 * CAP_SYS_ADMIN there; without it the /proc tables are used). */
static int
diag_open(int init_pid)
{
	char	path[64];
	int	self, ns, fd = -1;

	snprintf(path, sizeof path, "/proc/%d/ns/net", init_pid);
	if ((self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if ((ns = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		close(self);
		return -1;
	}
	if (setns(ns, CLONE_NEWNET) == 0) {
		fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
		if (setns(self, CLONE_NEWNET) < 0) {
			/* Cannot get back: never stay in the sandbox's namespace. */
			abort();
		}
	}
	close(ns);
	close(self);
	return fd;
}

struct proxy_idcache *
proxy_idcache_new(int init_pid)
{
	struct proxy_idcache	*c = xcalloc(1, sizeof *c);

	c->init_pid = init_pid;
	c->diag = diag_open(init_pid);
	return c;
}

static void
proc_free(struct id_proc *p)
{
	free(p->exe);
	os_strv_free(p->anc, p->nanc);
	free(p);
}

static void
cache_flush(struct proxy_idcache *c)
{
	size_t	i;

	for (i = 0; i < ID_BUCKETS; i++) {
		while (c->socks[i] != NULL) {
			struct id_sock *s = c->socks[i];

			c->socks[i] = s->next;
			free(s);
		}
		while (c->procs[i] != NULL) {
			struct id_proc *p = c->procs[i];

			c->procs[i] = p->next;
			proc_free(p);
		}
	}
	c->nsocks = c->nprocs = 0;
}

void
proxy_idcache_free(struct proxy_idcache *c)
{
	if (c == NULL)
		return;
	cache_flush(c);
	if (c->diag >= 0)
		close(c->diag);
	free(c);
}

void
proxy_identity_clear(struct proxy_identity *id)
{
	free(id->exe);
	os_strv_free(id->ancestors, id->nancestors);
	memset(id, 0, sizeof *id);
}

/* ------------------------------------------------------------------------
 * Small /proc readers
 */
static ssize_t
read_file(const char *path, char **out)
{
	size_t	cap = 4096, len = 0;
	char	*buf;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	buf = xmalloc(cap);
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap)
			buf = xrealloc(buf, cap *= 2);
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			free(buf);
			return n;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	return (ssize_t)len;
}

/* ppid and start time (field 22) from /proc/<pid>/stat. */
static int
read_stat(int pid, int *ppid, uint64_t *start)
{
	char		 path[64], buf[1024], *p;
	int		 fd, field;
	ssize_t		 n;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* The command name may hold spaces and ')': skip to the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -EIO;
	p++;
	for (field = 3; *p != '\0'; field++) {
		while (*p == ' ')
			p++;
		if (field == 4)
			*ppid = (int)strtol(p, NULL, 10);
		if (field == 22) {
			*start = strtoull(p, NULL, 10);
			return 0;
		}
		while (*p != '\0' && *p != ' ')
			p++;
	}
	return -EIO;
}

/*
 * The kernel's path of the executable. " (deleted)" is the kernel's mark
 * of an unlinked file; it is stripped only when the raw target does not
 * exist, so a file really named "x (deleted)" keeps its name.
 */
static int
read_exe(int pid, char **out)
{
	char		 path[64], buf[4096 + 16];
	ssize_t		 n;
	static const char deleted[] = " (deleted)";
	size_t		 dl = sizeof deleted - 1;

	snprintf(path, sizeof path, "/proc/%d/exe", pid);
	n = readlink(path, buf, sizeof buf - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if ((size_t)n > dl && strcmp(buf + n - dl, deleted) == 0) {
		struct stat st;

		if (stat(buf, &st) < 0)
			buf[n - dl] = '\0';
	}
	*out = xstrdup(buf);
	return 0;
}

/* Does /proc/<pid>/fd/<fd> point at socket:[inode]? */
static bool
fd_is_socket(int pid, const char *fdname, uint64_t inode)
{
	char	path[320], link[64], want[48];
	ssize_t	n;

	snprintf(path, sizeof path, "/proc/%d/fd/%s", pid, fdname);
	n = readlink(path, link, sizeof link - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	snprintf(want, sizeof want, "socket:[%llu]", (unsigned long long)inode);
	return strcmp(link, want) == 0;
}

static int
int_desc(const void *a, const void *b)
{
	int	x = *(const int *)a, y = *(const int *)b;

	return (x < y) - (x > y);
}

/* The fd number of pid holding socket:[inode], or -1. Newest (highest)
 * fds first: a socket being looked up was usually just opened. */
static int
pid_holds(int pid, uint64_t inode)
{
	char		 path[64], name[16];
	DIR		*d;
	struct dirent	*de;
	int		 stackfds[256], *fds = stackfds, found = -1;
	size_t		 n = 0, cap = OS_NELEM(stackfds), i;

	snprintf(path, sizeof path, "/proc/%d/fd", pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (n == cap) {
			int *nfds = xreallocarray(NULL, cap * 2, sizeof *nfds);

			memcpy(nfds, fds, n * sizeof *fds);
			if (fds != stackfds)
				free(fds);
			fds = nfds;
			cap *= 2;
		}
		fds[n++] = atoi(de->d_name);
	}
	closedir(d);
	qsort(fds, n, sizeof *fds, int_desc);
	for (i = 0; i < n && found < 0; i++) {
		snprintf(name, sizeof name, "%d", fds[i]);
		if (fd_is_socket(pid, name, inode))
			found = fds[i];
	}
	if (fds != stackfds)
		free(fds);
	return found;
}

/* ------------------------------------------------------------------------
 * The socket table
 */
struct id_addr {
	struct os_ip	ip;
	uint16_t	port;
};

static void
addr_from_sockaddr(const struct sockaddr *sa, struct id_addr *a)
{
	memset(a, 0, sizeof *a);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		a->ip.family = AF_INET;
		memcpy(a->ip.addr, &s4->sin_addr, 4);
		a->port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		a->ip.family = AF_INET6;
		memcpy(a->ip.addr, &s6->sin6_addr, 16);
		a->port = ntohs(s6->sin6_port);
	}
	os_ip_unmap(&a->ip);
}

/* "0100007F:0C38" (v4) or 32 hex digits (v6, four host-order words). */
static int
parse_hexaddr(const char *s, size_t len, struct id_addr *a)
{
	const char	*colon = memchr(s, ':', len);
	size_t		 hl, w;
	char		 word[9];

	if (colon == NULL)
		return -EINVAL;
	hl = (size_t)(colon - s);
	memset(a, 0, sizeof *a);
	if (hl == 8)
		a->ip.family = AF_INET;
	else if (hl == 32)
		a->ip.family = AF_INET6;
	else
		return -EINVAL;
	for (w = 0; w < hl / 8; w++) {
		uint32_t v;

		memcpy(word, s + w * 8, 8);
		word[8] = '\0';
		v = (uint32_t)strtoul(word, NULL, 16);
		memcpy(a->ip.addr + w * 4, &v, 4);   /* printed in host order */
	}
	a->port = (uint16_t)strtoul(colon + 1, NULL, 16);
	os_ip_unmap(&a->ip);
	return 0;
}

static bool
addr_eq(const struct id_addr *x, const struct id_addr *y)
{
	return x->port == y->port && x->ip.family == y->ip.family &&
	    memcmp(x->ip.addr, y->ip.addr, x->ip.family == AF_INET ? 4 : 16) == 0;
}

static bool
addr_is_any(const struct id_addr *x)
{
	static const uint8_t zero[16];

	return x->port == 0 && memcmp(x->ip.addr, zero, 16) == 0;
}

/* Finds the inode in one table; 0 found, -ENOENT, or -errno reading. */
static int
table_find(const char *path, int proto, const struct id_addr *local,
    const struct id_addr *remote, uint64_t *inode)
{
	char	*text, *line, *save = NULL;
	ssize_t	 n;
	int	 rc = -ENOENT;
	bool	 first = true;

	if ((n = read_file(path, &text)) < 0)
		return (int)n;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char		*f[12];
		size_t		 nf = 0;
		char		*p = line, *fsave = NULL;
		struct id_addr	 l, r;
		unsigned long	 st;

		if (first) {         /* the header line */
			first = false;
			continue;
		}
		for (p = strtok_r(line, " ", &fsave); p != NULL && nf < 12;
		    p = strtok_r(NULL, " ", &fsave))
			f[nf++] = p;
		if (nf < 10)
			continue;
		if (parse_hexaddr(f[1], strlen(f[1]), &l) < 0 ||
		    parse_hexaddr(f[2], strlen(f[2]), &r) < 0)
			continue;
		st = strtoul(f[3], NULL, 16);
		if (proto == 6 && st != 1)          /* TCP_ESTABLISHED */
			continue;
		if (!addr_eq(&l, local))
			continue;
		if (!addr_eq(&r, remote) && !(proto == 17 && addr_is_any(&r)))
			continue;
		*inode = strtoull(f[9], NULL, 10);
		if (*inode == 0)
			continue;
		rc = 0;
		break;
	}
	free(text);
	return rc;
}

/* One exact lookup: 0 and the inode, -ENOENT, or another -errno. */
static int
diag_query(struct proxy_idcache *c, int family, const struct id_addr *local,
    const struct id_addr *remote, uint64_t *inode)
{
	struct {
		struct nlmsghdr		nh;
		struct inet_diag_req_v2	r;
	} req;
	union {
		struct nlmsghdr	nh;
		char		buf[4096];
	} resp;
	static const uint8_t	 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	struct nlmsghdr		*nh;
	ssize_t			 n;

	memset(&req, 0, sizeof req);
	req.nh.nlmsg_len = sizeof req;
	req.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = ++c->seq;
	req.r.sdiag_family = (uint8_t)family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = 1U << TCP_ESTABLISHED;
	req.r.id.idiag_sport = htons(local->port);
	req.r.id.idiag_dport = htons(remote->port);
	if (family == local->ip.family) {
		memcpy(req.r.id.idiag_src, local->ip.addr, family == AF_INET ? 4 : 16);
		memcpy(req.r.id.idiag_dst, remote->ip.addr, family == AF_INET ? 4 : 16);
	} else {          /* IPv4 peers of a dual-stack socket: ::ffff:a.b.c.d */
		memcpy(req.r.id.idiag_src, mapped, 12);
		memcpy((char *)req.r.id.idiag_src + 12, local->ip.addr, 4);
		memcpy(req.r.id.idiag_dst, mapped, 12);
		memcpy((char *)req.r.id.idiag_dst + 12, remote->ip.addr, 4);
	}
	req.r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (send(c->diag, &req, sizeof req, 0) < 0)
		return -errno;
	/* The kernel answers within send(); anything older is drained. */
	for (;;) {
		n = recv(c->diag, &resp, sizeof resp, MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN ? -EIO : -errno;
		for (nh = &resp.nh; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_seq != c->seq)
				continue;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				return e->error != 0 ? e->error : -ENOENT;
			}
			if (nh->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
				const struct inet_diag_msg *m = NLMSG_DATA(nh);

				if (m->idiag_state != TCP_ESTABLISHED || m->idiag_inode == 0)
					return -ENOENT;
				*inode = m->idiag_inode;
				return 0;
			}
		}
	}
}

static int
socket_inode(struct proxy_idcache *c, int proto, const struct id_addr *local,
    const struct id_addr *remote, uint64_t *inode, struct os_error *err)
{
	const char	*name = proto == 17 ? "udp" : "tcp";
	char		 path[64];
	int		 rc, rc6;

	if (proto == 6 && c->diag >= 0 && local->ip.family == remote->ip.family) {
		rc = diag_query(c, local->ip.family, local, remote, inode);
		if (rc == -ENOENT && local->ip.family == AF_INET)
			rc = diag_query(c, AF_INET6, local, remote, inode);
		if (rc == 0)
			return 0;
		if (rc == -ENOENT)
			return os_error_set(err, -ENOENT,
			    "no established TCP socket of the sandbox matches the connection (closed already?)");
		/* Anything else: the tables below still know. */
	}
	/* An IPv4 client may sit on a dual-stack socket listed in tcp6 as
	 * ::ffff:a.b.c.d; the unmapped comparison finds it in either. */
	snprintf(path, sizeof path, "/proc/%d/net/%s", c->init_pid, name);
	rc = table_find(path, proto, local, remote, inode);
	if (rc == 0)
		return 0;
	snprintf(path, sizeof path, "/proc/%d/net/%s6", c->init_pid, name);
	rc6 = table_find(path, proto, local, remote, inode);
	if (rc6 == 0)
		return 0;
	if (rc != -ENOENT && rc6 != -ENOENT)
		return os_error_set(err, rc, "cannot read /proc/%d/net/%s: %s",
		    c->init_pid, name, strerror(-rc));
	return os_error_set(err, -ENOENT,
	    "no %s socket of the sandbox matches the connection (closed already?)",
	    proto == 17 ? "UDP" : "established TCP");
}

/* ------------------------------------------------------------------------
 * Owners
 */
struct pidvec {
	int	*v;
	size_t	 n;
	size_t	 cap;
};

static void
pidvec_push(struct pidvec *pv, int pid)
{
	if (pv->n == pv->cap) {
		pv->cap = pv->cap != 0 ? pv->cap * 2 : 64;
		pv->v = xreallocarray(pv->v, pv->cap, sizeof *pv->v);
	}
	pv->v[pv->n++] = pid;
}

/* Appends the children of every thread of pid. */
static void
push_children(struct pidvec *pv, int pid)
{
	char		 path[64];
	DIR		*d;
	struct dirent	*de;

	snprintf(path, sizeof path, "/proc/%d/task", pid);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL && pv->n < ID_MAX_TREE) {
		char	cpath[320], *text, *p, *end;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(cpath, sizeof cpath, "/proc/%d/task/%s/children", pid,
		    de->d_name);
		if (read_file(cpath, &text) < 0)
			continue;
		for (p = text; *p != '\0'; p = end) {
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			if (v > 0)
				pidvec_push(pv, (int)v);
		}
		free(text);
	}
	closedir(d);
}

struct owners {
	int	pid[ID_MAX_OWNERS];
	int	fd[ID_MAX_OWNERS];
	size_t	n;
};

static void
owners_add(struct owners *o, int pid, int fd)
{
	size_t	i;

	for (i = 0; i < o->n; i++) {
		if (o->pid[i] == pid)
			return;
	}
	if (o->n < ID_MAX_OWNERS) {
		o->pid[o->n] = pid;
		o->fd[o->n] = fd;
		o->n++;
	}
}

static void
scan_tree(struct proxy_idcache *c, uint64_t inode, struct owners *o)
{
	struct pidvec	pv = { NULL, 0, 0 };
	size_t		i;

	pidvec_push(&pv, c->init_pid);
	for (i = 0; i < pv.n; i++) {
		int fd = pid_holds(pv.v[i], inode);

		if (fd >= 0)
			owners_add(o, pv.v[i], fd);
		push_children(&pv, pv.v[i]);
	}
	free(pv.v);
}

static void
scan_all(uint64_t inode, struct owners *o)
{
	DIR		*d;
	struct dirent	*de;

	if ((d = opendir("/proc")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		int	pid, fd;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = atoi(de->d_name);
		if ((fd = pid_holds(pid, inode)) >= 0)
			owners_add(o, pid, fd);
	}
	closedir(d);
}

static struct id_sock **
sock_slot(struct proxy_idcache *c, uint64_t inode)
{
	struct id_sock **pp = &c->socks[inode % ID_BUCKETS];

	while (*pp != NULL && (*pp)->inode != inode)
		pp = &(*pp)->next;
	return pp;
}

/* Remembers fd as one of recent[i]'s socket fds (the oldest makes room). */
static void
recent_note_fd(struct proxy_idcache *c, unsigned i, int fd)
{
	c->recent_fd[i][c->nrecent_fd[i]++ % ID_RECENT_FDS] = fd;
}

static void
find_owners(struct proxy_idcache *c, uint64_t inode, struct owners *o)
{
	struct id_sock	**pp = sock_slot(c, inode), *s;
	char		  fdname[16];

	memset(o, 0, sizeof *o);
	if ((s = *pp) != NULL) {
		snprintf(fdname, sizeof fdname, "%d", s->fd);
		if (fd_is_socket(s->pid, fdname, inode)) {
			owners_add(o, s->pid, s->fd);
			return;
		}
		*pp = s->next;         /* stale: evict */
		free(s);
		c->nsocks--;
	}
	/* A process that connected before usually connects again (an agent
	 * opens many connections): look at its fds before walking the tree.
	 * This finds the creator of the socket and skips the search for
	 * other holders; a socket is only held by another process if it was
	 * inherited or passed, which needs the creator's cooperation. */
	/* First the fds each of them used last, newest owner first (the
	 * likeliest to connect again): a process that closes a connection
	 * and opens the next usually gets the same number back (the lowest
	 * free one), and one link read beats a scan of its fds. */
	for (unsigned k = 0; o->n == 0 && k < ID_RECENT && k < c->nrecent; k++) {
		unsigned i = (c->nrecent - 1 - k) % ID_RECENT;
		unsigned nfd = c->nrecent_fd[i] < ID_RECENT_FDS ?
		    c->nrecent_fd[i] : ID_RECENT_FDS;

		for (unsigned j = 0; j < nfd; j++) {
			snprintf(fdname, sizeof fdname, "%d", c->recent_fd[i][j]);
			if (fd_is_socket(c->recent[i], fdname, inode)) {
				owners_add(o, c->recent[i], c->recent_fd[i][j]);
				break;
			}
		}
	}
	for (unsigned k = 0; o->n == 0 && k < ID_RECENT && k < c->nrecent; k++) {
		unsigned i = (c->nrecent - 1 - k) % ID_RECENT;
		int fd = pid_holds(c->recent[i], inode);

		if (fd >= 0) {
			owners_add(o, c->recent[i], fd);
			recent_note_fd(c, i, fd);
		}
	}
	if (o->n == 0) {
		scan_tree(c, inode, o);
		if (o->n == 0)
			scan_all(inode, o);
		if (o->n == 1) {
			unsigned i = c->nrecent++ % ID_RECENT;

			c->recent[i] = o->pid[0];
			c->nrecent_fd[i] = 0;
			recent_note_fd(c, i, o->fd[0]);
		}
	}
	/* Only an unshared socket is cached: with several owners every
	 * lookup must see them all. */
	if (o->n == 1) {
		if (c->nsocks + c->nprocs >= ID_CACHE_MAX)
			cache_flush(c);
		s = xcalloc(1, sizeof *s);
		s->inode = inode;
		s->pid = o->pid[0];
		s->fd = o->fd[0];
		pp = &c->socks[inode % ID_BUCKETS];
		s->next = *pp;
		*pp = s;
		c->nsocks++;
	}
}

/* ------------------------------------------------------------------------
 * Processes
 */
static struct id_proc **
proc_slot(struct proxy_idcache *c, int pid)
{
	struct id_proc **pp = &c->procs[(unsigned)pid % ID_BUCKETS];

	while (*pp != NULL && (*pp)->pid != pid)
		pp = &(*pp)->next;
	return pp;
}

/*
 * The cached identity of pid, built or revalidated. depth bounds the walk
 * up the parents (each parent is itself cached, so siblings share work).
 */
static struct id_proc *
proc_get(struct proxy_idcache *c, int pid, int depth, struct os_error *err)
{
	struct id_proc	**pp = proc_slot(c, pid), *p = *pp, *parent;
	uint64_t	  start = 0;
	int		  ppid = 0, rc;
	char		 *exe = NULL;

	if ((rc = read_stat(pid, &ppid, &start)) < 0) {
		os_error_set(err, rc, "process %d is gone (%s)", pid, strerror(-rc));
		return NULL;
	}
	if ((rc = read_exe(pid, &exe)) < 0) {
		os_error_set(err, rc, "cannot read /proc/%d/exe: %s", pid,
		    strerror(-rc));
		return NULL;
	}
	if (p != NULL) {
		if (p->start == start && p->ppid == ppid && strcmp(p->exe, exe) == 0) {
			free(exe);
			return p;
		}
		*pp = p->next;          /* pid reused, exec'd or reparented */
		proc_free(p);
		c->nprocs--;
	}
	if (c->nsocks + c->nprocs >= ID_CACHE_MAX)
		cache_flush(c);

	p = xcalloc(1, sizeof *p);
	p->pid = pid;
	p->ppid = ppid;
	p->start = start;
	p->exe = exe;
	/* Up to, not including, the sandbox's init: it is our own program
	 * and every agent process descends from it, so a binary rule naming
	 * it (or a glob over its directory) would admit them all. A process
	 * outside its tree (found by the fallback scan) walks up to pid 1. */
	if (pid != c->init_pid && pid != 1 && ppid > 0 && ppid != c->init_pid &&
	    depth < ID_MAX_DEPTH) {
		struct os_error perr;

		os_error_clear(&perr);
		parent = proc_get(c, ppid, depth + 1, &perr);
		if (parent != NULL) {
			size_t	n = 1, i;

			if (ppid != 1)
				n += parent->nanc;
			p->anc = xcalloc(n, sizeof *p->anc);
			p->anc[0] = xstrdup(parent->exe);
			for (i = 1; i < n; i++)
				p->anc[i] = xstrdup(parent->anc[i - 1]);
			p->nanc = n;
		}
		/* A parent that exited mid-walk ends the chain there. */
	}
	pp = proc_slot(c, pid);
	p->next = *pp;
	*pp = p;
	c->nprocs++;
	return p;
}

void
proxy_identity_kv(struct os_buf *b, const struct proxy_identity *id,
    bool ancestors)
{
	char	num[24];

	os_buf_kv(b, "binary", id != NULL && id->exe != NULL ? id->exe : "-");
	if (id == NULL)
		return;
	snprintf(num, sizeof num, "%d", id->pid);
	os_buf_kv(b, "pid", num);
	if (ancestors)
		proxy_identity_kv_ancestors(b, id);
}

void
proxy_identity_kv_ancestors(struct os_buf *b, const struct proxy_identity *id)
{
	struct os_buf	a = OS_BUF_INIT;
	size_t		i;

	if (id->nancestors == 0)
		return;
	for (i = 0; i < id->nancestors; i++) {
		if (i > 0)
			os_buf_addc(&a, ',');
		os_buf_adds(&a, id->ancestors[i]);
	}
	os_buf_kv(b, "ancestors", os_buf_str(&a));
	os_buf_free(&a);
}

int
proxy_identity_lookup(struct proxy_idcache *c, int proto,
    const struct sockaddr *local, const struct sockaddr *remote,
    struct proxy_identity *id, struct os_error *err)
{
	struct id_addr	 l, r;
	struct owners	 o;
	uint64_t	 inode = 0;
	int		 rc;
	size_t		 i, k;

	memset(id, 0, sizeof *id);
	if ((local->sa_family != AF_INET && local->sa_family != AF_INET6) ||
	    (remote->sa_family != AF_INET && remote->sa_family != AF_INET6))
		return os_error_set(err, -EAFNOSUPPORT, "not an IP socket");
	addr_from_sockaddr(local, &l);
	addr_from_sockaddr(remote, &r);
	if ((rc = socket_inode(c, proto, &l, &r, &inode, err)) < 0)
		return rc;
	find_owners(c, inode, &o);
	if (o.n == 0)
		return os_error_set(err, -ENOENT,
		    "no process holds socket:[%llu] (exited already?)",
		    (unsigned long long)inode);
	/* Every owner must be the same program launched the same way; the
	 * lowest pid is reported. (Cache entries may be flushed by a later
	 * proc_get, so each identity is copied out at once.) */
	for (i = 0; i < o.n; i++) {
		struct id_proc	*p = proc_get(c, o.pid[i], 0, err);
		bool		 same;

		if (p == NULL) {
			proxy_identity_clear(id);
			return err->code != 0 ? err->code : -ESRCH;
		}
		if (i == 0) {
			id->pid = p->pid;
			id->exe = xstrdup(p->exe);
			id->ancestors = os_strv_dup(p->anc, p->nanc);
			id->nancestors = p->nanc;
			continue;
		}
		same = strcmp(id->exe, p->exe) == 0 && id->nancestors == p->nanc;
		for (k = 0; same && k < p->nanc; k++)
			same = strcmp(id->ancestors[k], p->anc[k]) == 0;
		if (!same) {
			os_error_set(err, -EPERM,
			    "socket shared by processes with different identities "
			    "(pid %d %s, pid %d %s)", id->pid, id->exe, p->pid,
			    p->exe);
			proxy_identity_clear(id);
			return -EPERM;
		}
		if (p->pid < id->pid)
			id->pid = p->pid;
	}
	return 0;
}
