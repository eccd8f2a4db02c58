/*
 * The sandbox's egress proxy (libuv, one thread): CONNECT and plain-HTTP
 * forward requests from the agent, decided by the policy engine of lib/
 * with the calling binary identified from /proc, SSRF-checked on the
 * addresses actually dialled, then relayed byte for byte.
 *
 * The proxy does no policy I/O of its own: the supervisor hands it each
 * compiled revision (proxy_set_matcher) and receives its decision log
 * lines and denial events through callbacks.
 */
#ifndef PROXY_H
#define PROXY_H

#include <uv.h>

#include "openshell.h"

struct proxy;
struct tls_ca;
struct ssl_ctx_st;

/* What a denial (or a permissive would-be denial) looked like, for the
 * denial aggregator. Pointers are valid during the callback only. */
struct proxy_denial {
	const char		*host;
	uint16_t		 port;
	const char		*binary;      /* "" when unknown */
	const char *const	*ancestors;
	size_t			 nancestors;
	const char		*reason;
	const char		*stage;       /* "l4_deny" | "l7_deny" | "l7_audit" | "ssrf" | "bypass" */
	const char		*method;      /* L7 only */
	const char		*path;        /* L7 only */
	bool			 permissive;  /* logged and allowed */
	int64_t			 ts_ms;
};

struct proxy_options {
	uv_loop_t		*uv;
	int			 listen_fd;     /* bound and listening (127.0.0.1:3128 in the sandbox) */
	/* Host pid of a process inside the sandbox's network namespace (its
	 * init): /proc/<pid>/net/tcp is read to find who connected. Only
	 * processes descended from it are considered. */
	int			 init_pid;
	struct os_resolver	 resolver;      /* hosts table owned by the caller */
	const struct os_cidr	*trusted;       /* trusted CIDRs, owned by the caller */
	size_t			 ntrusted;
	/* One structured line per decision ("action=deny dst_host=... "). */
	void			(*log)(void *arg, enum os_log_level,
				    const char *target, const char *line);
	/* TLS termination for `protocol: rest` endpoints (sandbox/tls.h):
	 * the sandbox's CA and the verified upstream context, owned by the
	 * caller. NULL: inspected tunnels that speak TLS are refused. */
	struct tls_ca		*ca;
	struct ssl_ctx_st	*upstream_tls;
	/* Every denial, for the aggregator; may be NULL. */
	void			(*denial)(void *arg, const struct proxy_denial *);
	void			*arg;
};

/* Starts accepting. The proxy denies everything until it has a matcher. */
int	 proxy_start(const struct proxy_options *, struct proxy **, struct os_error *);
/*
 * A new policy revision: takes a reference. New connections are decided
 * with it at once; open connections it no longer admits are closed (and
 * logged).
 */
void	 proxy_set_matcher(struct proxy *, struct os_matcher *);
/* Permissive discovery: denials are logged (and reported) but allowed,
 * until expires_ms (wall clock; 0 = no expiry). SSRF's always-blocked
 * classes stay blocked. */
void	 proxy_set_permissive(struct proxy *, bool on, int64_t expires_ms);
/* Closes the listener and every connection; `done` runs once all handles
 * are closed. */
void	 proxy_stop(struct proxy *, void (*done)(void *), void *arg);

/* Counters for status and tests. */
struct proxy_stats {
	uint64_t	accepted;
	uint64_t	allowed;
	uint64_t	denied;
	uint64_t	active;
	uint64_t	closed_by_reload;
	uint64_t	l7_allowed;
	uint64_t	l7_denied;
	uint64_t	l7_audited;     /* and permissive would-be denials */
};
void	 proxy_get_stats(struct proxy *, struct proxy_stats *);

/*
 * Binary identity (proxy-identity.c), exported for the DNS stub and tests:
 * who owns the socket with this local/remote tuple in the namespace of
 * init_pid. exe and ancestors are kernel-resolved paths; caller frees
 * with proxy_identity_clear. 0 or -ENOENT/-errno with a reason in err.
 */
struct proxy_identity {
	int	  pid;
	char	 *exe;
	char	**ancestors;       /* parent first, up to (not including) the sandbox's init */
	size_t	  nancestors;
};
struct proxy_idcache;
struct proxy_idcache *proxy_idcache_new(int init_pid);
void	 proxy_idcache_free(struct proxy_idcache *);
/* TCP (proto 6) or UDP (17); addresses in network order as sockaddrs. */
int	 proxy_identity_lookup(struct proxy_idcache *, int proto,
	     const struct sockaddr *local, const struct sockaddr *remote,
	     struct proxy_identity *, struct os_error *);
void	 proxy_identity_clear(struct proxy_identity *);
/* `binary=... pid=... [ancestors=a,b]` for decision lines; id may be NULL
 * (binary=-). */
void	 proxy_identity_kv(struct os_buf *, const struct proxy_identity *,
	     bool ancestors);
void	 proxy_identity_kv_ancestors(struct os_buf *, const struct proxy_identity *);

#endif /* PROXY_H */
