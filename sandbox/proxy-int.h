/*
 * Private to the egress proxy (proxy*.c): the per-connection state
 * machine, the request-head parser, the dialler and the relay.
 *
 *   HEAD ----> decide (identity + L4) ----> RESOLVE ----> DIAL ----> RELAY
 *     \              \ deny: 403                \ ssrf/dns: 403/502   \ EOF both ways
 *      \ 400/431      \                          \ unreachable: 502    \
 *       +--------------+---------> RESPOND (write, shutdown, linger) ---+--> CLOSING
 *
 * Every connection holds a reference to the matcher it was admitted under
 * so a reload can re-decide it with the inputs it was admitted with.
 */
#ifndef PROXY_INT_H
#define PROXY_INT_H

#include <string.h>
#include <sys/queue.h>

#include "proxy.h"
#include "proxy-head.h"

#define PROXY_RELAY_BUF		(64 * 1024)
#define PROXY_MAX_ADDRS		16
#define PROXY_HEAD_TIMEOUT_MS	30000
#define PROXY_CONNECT_TIMEOUT_MS 10000
#define PROXY_LINGER_MS		1000

/* ------------------------------------------------------------------------
 * Connections (proxy.c, proxy-dial.c, proxy-relay.c)
 */
enum pconn_state {
	PC_HEAD,          /* reading the request head */
	PC_RESOLVE,       /* admitted; waiting for DNS */
	PC_DIAL,          /* connecting to the validated addresses */
	PC_RELAY,         /* bytes flow */
	PC_RESPOND,       /* writing an error response, then linger */
	PC_CLOSING,
};

struct proxy_gai;
struct l7;

/* One direction of a relay: src -> dst through buf. */
struct pconn_dir {
	char		*buf;
	size_t		 len;          /* bytes in buf not yet written */
	bool		 eof;          /* src ended (or, forward: body complete) */
	bool		 shut;         /* dst write side shut down */
	bool		 shutting;     /* uv_shutdown requested */
	bool		 writing;      /* a uv_write is in flight */
	uv_write_t	 wreq;
	uint64_t	 bytes;
};

/* One direction of a spliced tunnel (proxy-splice.c); sp[0] carries
 * client -> upstream, sp[1] upstream -> client. */
struct pconn_splice {
	int		 fd;           /* a dup of its source socket, for the uv_poll */
	int		 pipe[2];
	size_t		 inpipe;       /* bytes in the pipe */
	size_t		 cap;          /* the pipe's size */
	bool		 eof;
	bool		 shut;
	int		 events;       /* the poll events set on sp[0]: client, sp[1]: upstream */
};

struct pconn {
	TAILQ_ENTRY(pconn)	 entry;
	struct proxy		*p;
	uint64_t		 id;
	enum pconn_state	 state;

	uv_tcp_t		 client;
	uv_tcp_t		 upstream;
	uv_timer_t		 timer;
	bool			 upstream_open;   /* upstream handle initialised */
	int			 handles;         /* handles not yet closed */

	char			 head[PROXY_HEAD_MAX];
	size_t			 headlen;
	size_t			 headend;        /* offset after CRLF CRLF */
	struct proxy_head	 req;

	/* Who and what was decided; valid once admitted. */
	struct proxy_identity	 ident;
	bool			 have_ident;
	char			 ident_err[256];
	struct os_matcher	*matcher;        /* ref: the revision it was admitted under */
	struct os_l4_decision	 dec;
	bool			 permissive;     /* admitted only by permissive mode */

	/* Dialling. */
	struct proxy_gai	*gai;
	struct os_ip		 addrs[PROXY_MAX_ADDRS];
	size_t			 naddrs;
	size_t			 next_addr;
	struct os_ip		 dialled;
	char			 dial_err[256];
	uv_connect_t		 creq;

	/* Relay: [0] client -> upstream, [1] upstream -> client. */
	struct pconn_dir	 dir[2];
	bool			 relay_started;
	bool			 bulk;            /* a read filled the whole buffer */
	uint64_t		 body_left;       /* forward, Content-Length body */
	bool			 body_done;       /* forward: the one request is sent */
	struct proxy_chunked	 chunked;

	/* Spliced tunnel: the uv_tcp handles own the fds but sit idle. */
	bool			 spliced;
	bool			 splice_failed;   /* stays with the relay */
	uv_poll_t		 cpoll;
	uv_poll_t		 upoll;
	struct pconn_splice	 sp[2];

	/* An inspected tunnel (proxy-l7.c). */
	struct l7		*l7;
	/* Its held-back sends go out in the loop's check phase. */
	TAILQ_ENTRY(pconn)	 flush_entry;
	bool			 flush_queued;

	/* Response being written. */
	struct os_buf		 out;
	uv_write_t		 out_req;
	uv_shutdown_t		 sreq;
	uv_shutdown_t		 sreq2;
};

TAILQ_HEAD(pconn_list, pconn);
TAILQ_HEAD(pconn_flushq, pconn);

struct proxy {
	struct proxy_options	 opts;
	uv_tcp_t		 listener;
	bool			 listener_open;
	struct os_matcher	*matcher;
	bool			 permissive;
	int64_t			 permissive_expires_ms;
	struct proxy_idcache	*ids;
	struct pconn_list	 conns;
	size_t			 nconns;         /* allocated, closing ones too */
	/*
	 * Inspected tunnels with sends held back until every ready socket
	 * of this loop iteration was read: a peer woken once takes a batch
	 * of records, where writing each at once woke it for every one.
	 */
	struct pconn_flushq	 flushq;
	uv_check_t		 flush;
	/* Active while the queue is not empty: a loop that queued before its
	 * poll phase (not the case today) must not block in epoll with
	 * output held back. */
	uv_idle_t		 flush_idle;
	int			 flush_handles;  /* not yet closed */
	/* Where every inspected tunnel's reads land (L7_READ bytes, made
	 * at the first): each read callback consumes all it is given, so
	 * one buffer serves them all, where one per side cost 128 KiB a
	 * tunnel. */
	char			*l7_rbuf;
	struct proxy_stats	 stats;
	uint64_t		 next_id;
	bool			 stopping;
	bool			 no_splice;      /* OPENSHELL_PROXY_SPLICE=0 */
	void			(*done)(void *);
	void			*done_arg;
};

/* Copies with truncation, always terminated. */
static inline void
pconn_strcpy(char *dst, size_t size, const char *src)
{
	size_t	n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* proxy.c */
void	 pconn_respond_json(struct pconn *, int status, const char *error,
	     const char *detail, const char *reason);
/* A JSON answer with extra header lines ("Name: value\r\n"...), or NULL. */
void	 pconn_respond_json_hdr(struct pconn *, int status, const char *extra,
	     const struct os_buf *body);
/* "Forbidden" for 403 and so on. */
const char *pconn_status_text(int status);
/* Emits a decision line (and frees b). */
void	 pconn_log(struct pconn *, enum os_log_level, const char *target,
	     struct os_buf *b);
void	 pconn_report_denial(struct pconn *, const char *stage, const char *reason,
	     const char *method, const char *path, bool permissive);
/* The display name of the policy that admitted the connection, or "-". */
const char *pconn_policy_name(const struct pconn *);
void	 pconn_l4_request(const struct pconn *, struct os_l4_request *);
void	 pconn_close(struct pconn *);
void	 pconn_close_upstream(struct pconn *);
void	 pconn_log_ssrf_deny(struct pconn *, const char *why);
void	 pconn_log_ssrf_permissive(struct pconn *, const char *why);
void	 pconn_log_allow(struct pconn *);
void	 pconn_log_error(struct pconn *, const char *error, const char *detail);
void	 on_pconn_handle_closed(uv_handle_t *);
void	 pconn_admitted(struct pconn *);          /* dialled: send 200 or forward */
bool	 proxy_permissive_on(const struct proxy *);

/* proxy-dial.c: resolve, SSRF-check, connect. Ends in pconn_admitted or
 * an error response. */
void	 pconn_dial_start(struct pconn *);
void	 pconn_dial_next(struct pconn *);        /* after a failed attempt's close */
void	 pconn_dial_abort(struct pconn *);       /* detaches a pending DNS query */

/* proxy-relay.c */
void	 pconn_relay_start(struct pconn *, const char *early, size_t nearly);

/* proxy-l7.c: inspected tunnels, and the L7 decision shared with the
 * forward proxy. */
struct pconn_l7_deny {
	char	policy[256];
	char	rule[512];
	char	reason[1024];
};
void	 pconn_l7_start(struct pconn *, const char *early, size_t nearly);
void	 pconn_l7_free(struct pconn *);
/* The check phase: sends every queued tunnel's held-back output. */
void	 pconn_l7_flush(uv_check_t *);
/* Takes one connection off the queue and sends what it held back (which
 * may close it). */
void	 pconn_l7_flush_one(struct pconn *);
/* Decides (logs, reports) one request; true to forward it, false with
 * deny filled for the 403. tls: "terminated" or "none" for the log. */
bool	 pconn_l7_decide(struct pconn *, const char *method, const char *path,
	     const char *query, const char *tls, struct pconn_l7_deny *deny);
void	 pconn_l7_deny_json(struct os_buf *, const struct pconn *,
	     const struct pconn_l7_deny *, const char *method, const char *path);

/* proxy-splice.c */
int	 pconn_splice_start(struct pconn *);
void	 pconn_splice_close(struct pconn *);     /* the pipes and dups */

#endif /* PROXY_INT_H */
