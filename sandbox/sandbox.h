/*
 * openshell-sandbox internals: the supervisor (one per sandbox) and the
 * sandbox's init, which it forks before anything else.
 *
 *   supervisor (host namespaces, root)          init (sandbox namespaces)
 *     gateway client: config, watch, logs   <--seqpacket-->  builds the
 *     exec service on <dir>/exec.sock                     sandbox, spawns
 *     egress proxy (proxy.h), DNS stub                    agent processes,
 *                                                         reaps, reports
 *
 * The supervisor's loop thread runs everything (libuv; gRPC completions
 * are bridged onto it by lib/rpc-loop.c).
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <sys/queue.h>
#include <sys/types.h>

#include "os-rpc.h"
#include "supervisor.pb-c.h"
#include "proxy.h"

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST((head));				\
	    (var) && ((tvar) = TAILQ_NEXT((var), field), 1);		\
	    (var) = (tvar))
#endif

typedef Openshell__Sandbox__V1__GetSandboxConfigResponse SupPbConfig;

struct sup_dns;
struct tls_ca;
struct ssl_ctx_st;
struct sup_exec;
struct sup_log;

struct sup {
	uv_loop_t		*uv;
	struct os_rpc_loop	 loop;

	char			*dir;          /* <state>/sandboxes/<id>, 0700 */
	int			 lock_fd;      /* <dir>/supervisor.lock, held */
	char			*gateway;      /* gRPC target */
	char			*id;
	char			*name;
	char			*token;        /* never logged, never passed on */
	grpc_channel		*ch;

	/* The sandbox's init. */
	int			 zfd;          /* seqpacket to init */
	pid_t			 zygote_pid;   /* our child */
	int			 init_pid;     /* host pid of the sandbox's init */
	uv_poll_t		 zpoll;
	bool			 isolate;
	unsigned		 agent_uid;    /* process.run_as_user, once set up */
	unsigned		 agent_gid;

	/* Policy. */
	SupPbConfig		*config;       /* last config received */
	struct os_denials	 denials;      /* for the denial aggregator */
	struct os_matcher	*matcher;      /* last good compiled revision */
	uint32_t		 loaded_version;
	uint32_t		 reported_version;
	uint64_t		 generation;
	struct os_hosts		*hosts;
	struct os_cidr		*trusted;
	size_t			 ntrusted;

	/* Gateway client state. */
	struct os_rpc_ccall	*watch;
	uv_timer_t		 reconnect;
	int64_t			 backoff_ms;
	bool			 connected;

	struct sup_log		*log;
	struct os_rpc_server	*exec_server;
	TAILQ_HEAD(, sup_exec)	 execs;
	uint64_t		 next_spawn_id;

	struct proxy		*proxy;
	struct tls_ca		*ca;           /* terminates TLS for inspected endpoints */
	struct ssl_ctx_st	*upstream_tls; /* verified client side */
	int			 proxy_fd;     /* from init: 127.0.0.1:3128 in the sandbox */
	int			 dns_fd;       /* from init: 127.0.0.1:53/udp */
	struct sup_dns		*dns;          /* DNS stub (sup-dns.c) */

	uv_signal_t		 sigterm;
	uv_signal_t		 sigint;
	bool			 stopping;
	int			 exit_code;
};

/* ------------------------------------------------------------------------
 * The init side (zygote.c): runs in the forked child, never returns.
 */
OS_NORETURN void zygote_main(int fd);

/* Message framing over the seqpacket (zygote-msg.c), used by both ends. */
int	 zmsg_send(int fd, const ProtobufCMessage *, const int *fds, size_t nfds);
/* Receives one message; up to `maxfds` passed fds land in fds/nfds.
 * Returns 1 with *out set, 0 on EOF, -errno on error or a malformed message. */
int	 zmsg_recv(int fd, const ProtobufCMessageDescriptor *, ProtobufCMessage **out,
	     int *fds, size_t maxfds, size_t *nfds);

/* ------------------------------------------------------------------------
 * Supervisor side of the init (sup-zygote.c)
 */
/* Forks the init; must run before any thread exists. */
int	 sup_zygote_fork(struct sup *, struct os_error *);
/* Sends the setup built from the config and waits (blocking) for Ready. */
int	 sup_zygote_setup(struct sup *, const SupPbConfig *, struct os_error *);
/* Starts reading init events on the loop. */
void	 sup_zygote_watch(struct sup *);
/* Asks the init to start a process; `fds` are given to it. */
int	 sup_zygote_spawn(struct sup *, uint64_t id, const Openshell__Sandbox__V1__ExecStart *,
	     const int *fds, size_t nfds);
void	 sup_zygote_signal(struct sup *, uint64_t id, int sig);

/* ------------------------------------------------------------------------
 * Gateway client (sup-gateway.c)
 */
int	 sup_gateway_fetch_config(struct sup *, struct os_error *);   /* blocking */
void	 sup_gateway_start(struct sup *);   /* watch stream, with reconnects */
void	 sup_gateway_stop(struct sup *);
/* Applies a config: compiles the policy, swaps it in, reports the status. */
void	 sup_apply_config(struct sup *, const SupPbConfig *);

/* Locks <dir>/supervisor.lock for the rest of this process's life and
 * writes our pid in it (sup-lock.c); -EBUSY when another supervisor of
 * the sandbox holds it. */
int	 sup_lock_take(struct sup *, struct os_error *);

/* ------------------------------------------------------------------------
 * Sandbox event log (sup-log.c): /var/log/openshell.log inside the
 * sandbox (<dir>/log/openshell.log here) and pushed to the gateway.
 */
int	 sup_log_open(struct sup *, struct os_error *);
void	 sup_log_line(struct sup *, enum os_log_level, const char *target,
	     const char *line);
void	 sup_logf(struct sup *, enum os_log_level, const char *target,
	     const char *fmt, ...) OS_PRINTF(4, 5);
/* The least severe level pushed to the gateway (setting sandbox_log_level). */
void	 sup_log_set_push_level(struct sup *, const char *level);
/* The size at which the log file is rotated to openshell.log.1. */
void	 sup_log_set_file_max(struct sup *, uint64_t bytes);
void	 sup_log_close(struct sup *);     /* stop the timer, close the file */
void	 sup_log_free(struct sup *);      /* after the loop ended */

/* Adds, beside each exact binary path that is a symlink in the sandbox,
 * the path it resolves to there: /proc/<pid>/exe reports the target
 * (sup-binaries.c). */
void	 sup_policy_resolve_binaries(struct sup *, struct os_policy *);

/* ------------------------------------------------------------------------
 * TLS (sup-tls.c): the sandbox's CA, made at start; the agent trusts it
 * through the files sup-setup writes into the sandbox's /etc.
 */
int	 sup_tls_init(struct sup *, struct os_error *);
void	 sup_tls_free(struct sup *);
/* Writes openshell-tls/ and the system bundle paths under etc_dir. */
int	 sup_tls_write_trust(struct sup *, const char *etc_dir, struct os_error *);

/* ------------------------------------------------------------------------
 * DNS stub (sup-dns.c): answers REFUSED, logs each query as a bypass.
 */
int	 sup_dns_start(struct sup *, struct os_error *);
void	 sup_dns_stop(struct sup *);

/* ------------------------------------------------------------------------
 * Exec service (sup-exec.c)
 */
int	 sup_exec_start(struct sup *, struct os_error *);
void	 sup_exec_stop(struct sup *);
/* Init events for exec sessions. */
/* `error` set: the process did not start; the session ends with its text
 * on stderr and `exit_code` (127 not found, 126 cannot execute). */
void	 sup_exec_spawned(struct sup *, uint64_t id, int pid, const char *error,
	     int exit_code);
void	 sup_exec_exited(struct sup *, uint64_t id, int code, int sig);

/* ------------------------------------------------------------------------
 * Helpers (sup-util.c)
 */
char	*sup_path(const struct sup *, const char *rel);   /* <dir>/<rel> */
int	 sup_mkdir(const char *path, mode_t, struct os_error *);
int	 sup_write_file(const char *path, const void *, size_t, struct os_error *);
/* The wait after the next failure: twice this one, at most max. */
int64_t	 sup_backoff_next(int64_t ms, int64_t max);

#endif /* SANDBOX_H */
