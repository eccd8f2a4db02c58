/*
 * l7-load: the HTTPS upstream and the load generator of bench/bench-l7.sh.
 *
 *   l7-load serve --port P --cert F --key F [--body N] [--threads T] [--ready FILE]
 *       [--tickets]
 *       a keep-alive HTTPS/1.1 server on 0.0.0.0:P (epoll, one loop per
 *       thread, SO_REUSEPORT): every request head is answered 200 with an
 *       N-byte body (default 128). No session tickets unless --tickets
 *       (then two per full handshake, as OpenSSL servers send by
 *       default); SIGUSR1 prints "handshakes=N resumed=M" so far
 *   l7-load get --to HOST:PORT --cafile F [--sni NAME] [--addr IP:PORT]
 *       [--proxy IP:PORT] [--conns N] [--seconds S] [--warmup W] [--path P]
 *       N keep-alive TLS connections in one epoll loop, one GET in flight
 *       on each; prints req_per_s, counted over S seconds after W of warm-up
 *   l7-load handshake --to HOST:PORT --cafile F [...as get] [--seconds S]
 *       one new connection after another (TCP, CONNECT when proxied, TLS
 *       handshake, one GET, close); prints conns_per_s and ms_per_conn
 *
 * HOST:PORT is the authority: the CONNECT line and Host header, and the
 * name the certificate is verified against (--sni overrides the TLS
 * name). Without --proxy the TCP connection goes to --addr (default
 * HOST:PORT). The client offers ALPN http/1.1 and never resumes sessions.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define RBUF	16384
#define IO_TIMEOUT_MS	10000

static const char	*prog = "l7-load";

static void die(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
die_ssl(const char *what)
{
	char	buf[256];

	ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
	fprintf(stderr, "%s: %s: %s\n", prog, what, buf);
	exit(1);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_s(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* "host:port" (host may be "[v6]") into its parts; host is malloc'd. */
static void
split_hostport(const char *s, char **host, char **port)
{
	const char	*c;

	if (s[0] == '[' && (c = strstr(s, "]:")) != NULL) {
		*host = strndup(s + 1, (size_t)(c - s - 1));
		*port = strdup(c + 2);
	} else if ((c = strrchr(s, ':')) != NULL && c != s && c[1] != '\0') {
		*host = strndup(s, (size_t)(c - s));
		*port = strdup(c + 1);
	} else
		die("expected HOST:PORT, got '%s'", s);
}

static int
tcp_connect(const char *hostport)
{
	struct addrinfo	 hints, *ai, *a;
	char		*host, *port;
	int		 fd = -1, one = 1, rc;

	split_hostport(hostport, &host, &port);
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0)
		die("cannot resolve '%s'", hostport);
	for (a = ai; a != NULL; a = a->ai_next) {
		if ((fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	free(host);
	free(port);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static void
set_nonblock(int fd, bool on)
{
	int	fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

static void
set_timeouts(int fd)
{
	struct timeval	tv = { IO_TIMEOUT_MS / 1000, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* ------------------------------------------------------------------------
 * The server
 */
struct sconn {
	int	 fd;
	SSL	*ssl;
	bool	 ready;
	bool	 close_after;
	bool	 wantout;
	char	 in[RBUF];
	size_t	 inlen;
	char	*out;
	size_t	 outlen, outoff, outcap;
};

struct server {
	SSL_CTX		*ctx;
	const char	*resp;
	size_t		 resplen;
};

/* Accepts so far, and how many resumed a session: for SIGUSR1. */
static unsigned long	 serve_handshakes, serve_resumed;

/* Async-signal-safe: write(2) of digits formatted by hand. */
static size_t
put_ulong(char *p, unsigned long v)
{
	char	d[24];
	size_t	n = 0, i;

	do
		d[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	for (i = 0; i < n; i++)
		p[i] = d[n - 1 - i];
	return n;
}

static void
on_usr1(int sig)
{
	char	buf[96];
	size_t	n = 11;

	(void)sig;
	memcpy(buf, "handshakes=", n);
	n += put_ulong(buf + n, __atomic_load_n(&serve_handshakes, __ATOMIC_RELAXED));
	memcpy(buf + n, " resumed=", 9);
	n += 9;
	n += put_ulong(buf + n, __atomic_load_n(&serve_resumed, __ATOMIC_RELAXED));
	buf[n++] = '\n';
	(void)!write(STDOUT_FILENO, buf, n);
}

struct loop {
	struct server	*sv;
	int		 lfd;
};

static int
listen_on(int port)
{
	struct sockaddr_in	sin;
	int			fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(fd, 1024) < 0)
		die("bind/listen: %s", strerror(errno));
	return fd;
}

static void
sconn_free(int ep, struct sconn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	SSL_free(c->ssl);
	close(c->fd);
	free(c->out);
	free(c);
}

static void
sconn_queue(struct sconn *c, const char *p, size_t n)
{
	if (c->outlen + n > c->outcap) {
		c->outcap = (c->outlen + n) * 2;
		if ((c->out = realloc(c->out, c->outcap)) == NULL)
			die("%s", "out of memory");
	}
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
}

/* -1: close the connection. */
static int
sconn_io(struct server *sv, int ep, struct sconn *c)
{
	struct epoll_event	ev;
	char			*e;
	int			 r, err;
	bool			 want = false;

	if (!c->ready) {
		if ((r = SSL_accept(c->ssl)) != 1) {
			err = SSL_get_error(c->ssl, r);
			if (err == SSL_ERROR_WANT_READ)
				return 0;
			if (err != SSL_ERROR_WANT_WRITE)
				return -1;
			want = true;
			goto arm;
		}
		c->ready = true;
		__atomic_add_fetch(&serve_handshakes, 1, __ATOMIC_RELAXED);
		if (SSL_session_reused(c->ssl))
			__atomic_add_fetch(&serve_resumed, 1, __ATOMIC_RELAXED);
	}
	for (;;) {
		if (c->inlen == sizeof c->in)
			return -1;      /* a head larger than we serve */
		r = SSL_read(c->ssl, c->in + c->inlen, (int)(sizeof c->in - c->inlen));
		if (r <= 0) {
			err = SSL_get_error(c->ssl, r);
			if (err == SSL_ERROR_WANT_READ)
				break;
			if (err == SSL_ERROR_WANT_WRITE) {
				want = true;
				break;
			}
			return -1;      /* EOF, close_notify or error */
		}
		c->inlen += (size_t)r;
		/* Every complete head gets an answer (GETs: no bodies). */
		while (!c->close_after && (e = memmem(c->in, c->inlen, "\r\n\r\n", 4)) != NULL) {
			size_t	hl = (size_t)(e - c->in) + 4;
			char	save = c->in[hl - 1];

			c->in[hl - 1] = '\0';
			if (strcasestr(c->in, "\nconnection: close") != NULL)
				c->close_after = true;
			c->in[hl - 1] = save;
			sconn_queue(c, sv->resp, sv->resplen);
			memmove(c->in, c->in + hl, c->inlen - hl);
			c->inlen -= hl;
		}
	}
	while (c->outoff < c->outlen) {
		r = SSL_write(c->ssl, c->out + c->outoff, (int)(c->outlen - c->outoff));
		if (r <= 0) {
			err = SSL_get_error(c->ssl, r);
			if (err != SSL_ERROR_WANT_WRITE && err != SSL_ERROR_WANT_READ)
				return -1;
			want = true;
			break;
		}
		c->outoff += (size_t)r;
	}
	if (c->outoff == c->outlen) {
		c->outoff = c->outlen = 0;
		if (c->close_after)
			return -1;
	}
arm:
	if (want != c->wantout) {
		c->wantout = want;
		ev.events = EPOLLIN | (want ? EPOLLOUT : 0);
		ev.data.ptr = c;
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	}
	return 0;
}

static void *
server_loop(void *arg)
{
	struct loop		*lp = arg;
	struct server		*sv = lp->sv;
	struct epoll_event	 ev, evs[256];
	struct sconn		*c;
	int			 ep, lfd = lp->lfd, n, i, fd, one = 1;

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll: %s", strerror(errno));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		if ((n = epoll_wait(ep, evs, 256, -1)) < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr != NULL) {
				c = evs[i].data.ptr;
				if (sconn_io(sv, ep, c) < 0)
					sconn_free(ep, c);
				continue;
			}
			while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
				if ((c = calloc(1, sizeof *c)) == NULL ||
				    (c->ssl = SSL_new(sv->ctx)) == NULL)
					die("%s", "out of memory");
				c->fd = fd;
				SSL_set_fd(c->ssl, fd);
				SSL_set_accept_state(c->ssl);
				ev.events = EPOLLIN;
				ev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			}
		}
	}
	return NULL;
}

static int
cmd_serve(int port, const char *cert, const char *key, size_t body,
    int threads, const char *ready, bool tickets)
{
	struct server	 sv;
	struct loop	*loops;
	pthread_t	 t;
	char		*resp;
	int		 i, hl;
	FILE		*f;

	if (port <= 0 || cert == NULL || key == NULL)
		die("%s", "serve needs --port, --cert and --key");
	if ((sv.ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		die_ssl("SSL_CTX_new");
	SSL_CTX_set_min_proto_version(sv.ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(sv.ctx, SSL_OP_NO_RENEGOTIATION);
	if (!tickets) {
		SSL_CTX_set_options(sv.ctx, SSL_OP_NO_TICKET);
		SSL_CTX_set_num_tickets(sv.ctx, 0);
	}
	SSL_CTX_set_session_cache_mode(sv.ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(sv.ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_use_certificate_chain_file(sv.ctx, cert) != 1)
		die_ssl(cert);
	if (SSL_CTX_use_PrivateKey_file(sv.ctx, key, SSL_FILETYPE_PEM) != 1)
		die_ssl(key);
	if ((resp = malloc(256 + body)) == NULL)
		die("%s", "out of memory");
	hl = snprintf(resp, 256, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	    "Content-Length: %zu\r\n\r\n", body);
	memset(resp + hl, 'x', body);
	sv.resp = resp;
	sv.resplen = (size_t)hl + body;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR1, on_usr1);
	/* Every listener is bound before anyone is told we are ready. */
	if ((loops = calloc((size_t)threads, sizeof *loops)) == NULL)
		die("%s", "out of memory");
	for (i = 0; i < threads; i++) {
		loops[i].sv = &sv;
		loops[i].lfd = listen_on(port);
	}
	for (i = 1; i < threads; i++)
		if (pthread_create(&t, NULL, server_loop, &loops[i]) != 0)
			die("%s", "pthread_create");
	if (ready != NULL) {
		if ((f = fopen(ready, "w")) == NULL)
			die("%s: cannot write", ready);
		fputs("ready\n", f);
		fclose(f);
	}
	printf("ready\n");
	fflush(stdout);
	server_loop(&loops[0]);
	return 0;
}

/* ------------------------------------------------------------------------
 * The client
 */
struct target {
	const char	*to;        /* authority */
	char		*host;      /* ... its host */
	const char	*sni;       /* TLS name */
	const char	*addr;      /* TCP target without a proxy */
	const char	*proxy;
	const char	*path;
	SSL_CTX		*ctx;
	char		 req[1024];
	size_t		 reqlen;
};

static SSL_CTX *
client_ctx(const char *cafile)
{
	static const unsigned char	alpn[] = "\x08http/1.1";
	SSL_CTX				*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		die_ssl("SSL_CTX_new");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1)
		die_ssl(cafile);
	SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1);
	return ctx;
}

/* Reads a proxy's answer head byte by byte (nothing after it is ours). */
static int
proxy_connect(int fd, const char *to, char *why, size_t whylen)
{
	char	buf[2048];
	size_t	n = 0;
	int	len;

	len = snprintf(buf, sizeof buf, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n",
	    to, to);
	if (write(fd, buf, (size_t)len) != len) {
		snprintf(why, whylen, "CONNECT: write: %s", strerror(errno));
		return -1;
	}
	while (n < sizeof buf - 1) {
		if (read(fd, buf + n, 1) != 1) {
			snprintf(why, whylen, "CONNECT: the proxy closed or timed out");
			return -1;
		}
		n++;
		if (n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	buf[n] = '\0';
	if (strncmp(buf, "HTTP/1.1 200", 12) != 0 && strncmp(buf, "HTTP/1.0 200", 12) != 0) {
		buf[strcspn(buf, "\r\n")] = '\0';
		snprintf(why, whylen, "CONNECT refused: %.200s", buf);
		return -1;
	}
	return 0;
}

/* A blocking connection with its handshake done; NULL with why. */
static SSL *
open_conn(struct target *t, int *fdp, char *why, size_t whylen)
{
	X509_VERIFY_PARAM	*param;
	struct in6_addr		 a6;
	struct in_addr		 a4;
	SSL			*ssl;
	int			 fd, r;

	fd = tcp_connect(t->proxy != NULL ? t->proxy : t->addr);
	if (fd < 0) {
		snprintf(why, whylen, "connect %s: %s", t->proxy != NULL ?
		    t->proxy : t->addr, strerror(errno));
		return NULL;
	}
	set_timeouts(fd);
	if (t->proxy != NULL && proxy_connect(fd, t->to, why, whylen) < 0) {
		close(fd);
		return NULL;
	}
	if ((ssl = SSL_new(t->ctx)) == NULL)
		die_ssl("SSL_new");
	SSL_set_fd(ssl, fd);
	param = SSL_get0_param(ssl);
	if (inet_pton(AF_INET, t->sni, &a4) == 1 || inet_pton(AF_INET6, t->sni, &a6) == 1)
		X509_VERIFY_PARAM_set1_ip_asc(param, t->sni);
	else {
		SSL_set_tlsext_host_name(ssl, t->sni);
		SSL_set1_host(ssl, t->sni);
	}
	if ((r = SSL_connect(ssl)) != 1) {
		long vr = SSL_get_verify_result(ssl);

		if (vr != X509_V_OK)
			snprintf(why, whylen, "TLS handshake: %s",
			    X509_verify_cert_error_string(vr));
		else
			snprintf(why, whylen, "TLS handshake: %s",
			    ERR_reason_error_string(ERR_peek_error()) != NULL ?
			    ERR_reason_error_string(ERR_peek_error()) : "failed");
		ERR_clear_error();
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	*fdp = fd;
	return ssl;
}

/* A complete 200 response in buf: its length; 0 incomplete; -1 bad. */
static ssize_t
response_len(const char *buf, size_t len)
{
	const char	*e, *cl;
	char		 head[RBUF + 1];
	size_t		 hl, total;

	if ((e = memmem(buf, len, "\r\n\r\n", 4)) == NULL)
		return len >= RBUF ? -1 : 0;
	hl = (size_t)(e - buf) + 4;
	memcpy(head, buf, hl);
	head[hl] = '\0';
	if (strncmp(head, "HTTP/1.1 200 ", 13) != 0)
		return -1;
	if ((cl = strcasestr(head, "\ncontent-length:")) == NULL)
		return -1;
	total = hl + (size_t)strtoull(cl + 16, NULL, 10);
	if (total > RBUF)
		return -1;
	return total <= len ? (ssize_t)total : 0;
}

struct cconn {
	int	 fd;
	SSL	*ssl;
	bool	 dead;
	bool	 wantout;
	size_t	 sent;      /* of the request */
	char	 buf[RBUF];
	size_t	 len;
};

static void
cconn_kill(int ep, struct cconn *c, uint64_t *errors, const char *why)
{
	static int	said;

	if (said++ < 3)
		fprintf(stderr, "%s: a connection failed: %s\n", prog, why);
	(*errors)++;
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	SSL_free(c->ssl);
	close(c->fd);
	c->dead = true;
}

/* Writes what is left of the request: 0, or -1 on error. */
static int
cconn_send(struct target *t, int ep, struct cconn *c)
{
	struct epoll_event	ev;
	int			r, err;
	bool			want = false;

	while (c->sent < t->reqlen) {
		r = SSL_write(c->ssl, t->req + c->sent, (int)(t->reqlen - c->sent));
		if (r <= 0) {
			err = SSL_get_error(c->ssl, r);
			if (err != SSL_ERROR_WANT_WRITE && err != SSL_ERROR_WANT_READ)
				return -1;
			want = true;
			break;
		}
		c->sent += (size_t)r;
	}
	if (want != c->wantout) {
		c->wantout = want;
		ev.events = EPOLLIN | (want ? EPOLLOUT : 0);
		ev.data.ptr = c;
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	}
	return 0;
}

static int
cmd_get(struct target *t, int nconns, double secs, double warmup)
{
	struct epoll_event	 ev, evs[256];
	struct cconn		*cs;
	char			 why[512];
	uint64_t		 counted = 0, total = 0, errors = 0;
	double			 t0, t1 = 0, t2 = 0, now, c1 = 0, c2 = 0;
	bool			 measuring = false;
	ssize_t			 rl;
	int			 ep, i, n, r, alive;

	if ((cs = calloc((size_t)nconns, sizeof *cs)) == NULL)
		die("%s", "out of memory");
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll: %s", strerror(errno));
	for (i = 0; i < nconns; i++) {
		if ((cs[i].ssl = open_conn(t, &cs[i].fd, why, sizeof why)) == NULL)
			die("%s", why);
		set_nonblock(cs[i].fd, true);
		ev.events = EPOLLIN;
		ev.data.ptr = &cs[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
	}
	t0 = now_s();
	for (i = 0; i < nconns; i++)
		if (cconn_send(t, ep, &cs[i]) < 0)
			cconn_kill(ep, &cs[i], &errors, "write failed");
	alive = nconns;
	for (;;) {
		now = now_s();
		if (!measuring && now >= t0 + warmup) {
			measuring = true;
			t1 = now;
			c1 = cpu_s();
			counted = 0;
		}
		if (measuring && now >= t1 + secs) {
			t2 = now;
			c2 = cpu_s();
			break;
		}
		if (alive == 0)
			die("%s", "every connection failed");
		if ((n = epoll_wait(ep, evs, 256, 100)) < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		for (i = 0; i < n; i++) {
			struct cconn *c = evs[i].data.ptr;

			if (c->dead)
				continue;
			if (c->sent < t->reqlen) {
				if (cconn_send(t, ep, c) < 0) {
					cconn_kill(ep, c, &errors, "write failed");
					alive--;
					continue;
				}
			}
			for (;;) {
				if (c->len == sizeof c->buf) {
					cconn_kill(ep, c, &errors, "response too large");
					alive--;
					break;
				}
				r = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof c->buf - c->len));
				if (r <= 0) {
					int err = SSL_get_error(c->ssl, r);

					if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
						break;
					snprintf(why, sizeof why, "read: %s", err == SSL_ERROR_ZERO_RETURN ||
					    err == SSL_ERROR_SYSCALL ? "the peer closed" :
					    ERR_reason_error_string(ERR_peek_error()) != NULL ?
					    ERR_reason_error_string(ERR_peek_error()) : "error");
					ERR_clear_error();
					cconn_kill(ep, c, &errors, why);
					alive--;
					break;
				}
				c->len += (size_t)r;
				if ((rl = response_len(c->buf, c->len)) < 0) {
					c->buf[c->len < 200 ? c->len : 200] = '\0';
					c->buf[strcspn(c->buf, "\r\n")] = '\0';
					snprintf(why, sizeof why, "unexpected response: %.200s", c->buf);
					cconn_kill(ep, c, &errors, why);
					alive--;
					break;
				}
				if (rl == 0)
					continue;
				memmove(c->buf, c->buf + rl, c->len - (size_t)rl);
				c->len -= (size_t)rl;
				total++;
				counted++;
				c->sent = 0;
				if (cconn_send(t, ep, c) < 0) {
					cconn_kill(ep, c, &errors, "write failed");
					alive--;
					break;
				}
			}
		}
	}
	printf("req_per_s=%.0f n=%llu total=%llu secs=%.2f conns=%d errors=%llu cpu_us_per_req=%.1f\n",
	    (double)counted / (t2 - t1), (unsigned long long)counted,
	    (unsigned long long)total, t2 - t1, nconns, (unsigned long long)errors,
	    counted > 0 ? (c2 - c1) * 1e6 / (double)counted : 0.0);
	for (i = 0; i < nconns; i++)
		if (!cs[i].dead) {
			SSL_free(cs[i].ssl);
			close(cs[i].fd);
		}
	free(cs);
	return 0;
}

/* One new connection, one GET, close: 0 or -1 with why. */
static int
one_conn(struct target *t, char *why, size_t whylen)
{
	char	buf[RBUF];
	size_t	len = 0;
	ssize_t	rl = 0;
	SSL	*ssl;
	int	fd, r;

	if ((ssl = open_conn(t, &fd, why, whylen)) == NULL)
		return -1;
	if (SSL_write(ssl, t->req, (int)t->reqlen) != (int)t->reqlen) {
		snprintf(why, whylen, "write failed");
		goto fail;
	}
	while (rl == 0 && len < sizeof buf) {
		if ((r = SSL_read(ssl, buf + len, (int)(sizeof buf - len))) <= 0) {
			snprintf(why, whylen, "read: the peer closed or failed");
			goto fail;
		}
		len += (size_t)r;
		rl = response_len(buf, len);
	}
	if (rl <= 0) {
		snprintf(why, whylen, "bad response");
		goto fail;
	}
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
	return 0;
fail:
	ERR_clear_error();
	SSL_free(ssl);
	close(fd);
	return -1;
}

static int
cmd_handshake(struct target *t, double secs)
{
	char		why[512];
	uint64_t	n = 0, errors = 0;
	double		t0, t1, c0, c1, first;

	/* The first one apart: it may mint a leaf or warm a cache. */
	t0 = now_s();
	if (one_conn(t, why, sizeof why) < 0)
		die("%s", why);
	first = now_s() - t0;
	t0 = now_s();
	c0 = cpu_s();
	do {
		if (one_conn(t, why, sizeof why) < 0) {
			if (errors++ < 3)
				fprintf(stderr, "%s: a connection failed: %s\n", prog, why);
			if (errors > 100)
				die("%s", "too many failures");
		} else
			n++;
	} while ((t1 = now_s()) < t0 + secs);
	c1 = cpu_s();
	printf("conns_per_s=%.1f ms_per_conn=%.3f n=%llu errors=%llu first_ms=%.3f cpu_us_per_conn=%.1f\n",
	    (double)n / (t1 - t0), n > 0 ? (t1 - t0) * 1e3 / (double)n : 0.0,
	    (unsigned long long)n, (unsigned long long)errors, first * 1e3,
	    n > 0 ? (c1 - c0) * 1e6 / (double)n : 0.0);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: l7-load serve --port P --cert F --key F [--body N] [--threads T] [--ready FILE]\n"
	    "           [--tickets]\n"
	    "       l7-load get|handshake --to HOST:PORT --cafile F [--sni NAME] [--addr IP:PORT]\n"
	    "           [--proxy IP:PORT] [--conns N] [--seconds S] [--warmup W] [--path P]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option	opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "body", required_argument, NULL, 'b' },
		{ "threads", required_argument, NULL, 'T' },
		{ "ready", required_argument, NULL, 'r' },
		{ "tickets", no_argument, NULL, 'K' },
		{ "to", required_argument, NULL, 't' },
		{ "cafile", required_argument, NULL, 'C' },
		{ "sni", required_argument, NULL, 's' },
		{ "addr", required_argument, NULL, 'a' },
		{ "proxy", required_argument, NULL, 'x' },
		{ "conns", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "path", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	struct target	 t;
	const char	*mode, *cert = NULL, *key = NULL, *ready = NULL, *cafile = NULL;
	char		*port;
	size_t		 body = 128;
	double		 secs = 5, warmup = 1;
	int		 o, sport = 0, threads = 1, nconns = 16;
	bool		 tickets = false;

	if (argc < 2)
		usage();
	mode = argv[1];
	memset(&t, 0, sizeof t);
	t.path = "/bench/item";
	optind = 2;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'p': sport = atoi(optarg); break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'b': body = strtoull(optarg, NULL, 10); break;
		case 'T': threads = atoi(optarg); break;
		case 'r': ready = optarg; break;
		case 'K': tickets = true; break;
		case 't': t.to = optarg; break;
		case 'C': cafile = optarg; break;
		case 's': t.sni = optarg; break;
		case 'a': t.addr = optarg; break;
		case 'x': t.proxy = optarg; break;
		case 'n': nconns = atoi(optarg); break;
		case 'S': secs = strtod(optarg, NULL); break;
		case 'w': warmup = strtod(optarg, NULL); break;
		case 'P': t.path = optarg; break;
		default: usage();
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(mode, "serve") == 0)
		return cmd_serve(sport, cert, key, body, threads < 1 ? 1 : threads,
		    ready, tickets);
	if (strcmp(mode, "get") != 0 && strcmp(mode, "handshake") != 0)
		usage();
	if (t.to == NULL || cafile == NULL || nconns < 1)
		usage();
	split_hostport(t.to, &t.host, &port);
	free(port);
	if (t.sni == NULL)
		t.sni = t.host;
	if (t.addr == NULL)
		t.addr = t.to;
	t.ctx = client_ctx(cafile);
	t.reqlen = (size_t)snprintf(t.req, sizeof t.req, "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: l7-load\r\nAccept: */*\r\n\r\n", t.path, t.to);
	if (strcmp(mode, "get") == 0)
		return cmd_get(&t, nconns, secs, warmup);
	return cmd_handshake(&t, secs);
}
