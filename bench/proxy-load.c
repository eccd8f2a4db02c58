/*
 * proxy-load: the load generator and sink of bench/bench-proxy.sh.
 *
 *   proxy-load sink --port P                 serve on 0.0.0.0:P
 *   proxy-load down|up --to HOST:PORT --bytes N [--warmup W] [--proxy ADDR:PORT]
 *                                            one bulk transfer; prints MB/s,
 *                                            of the bytes after the first W
 *                                            when --warmup is given (the
 *                                            steady state: slow start and
 *                                            BBR's startup left out)
 *   proxy-load rate --to HOST:PORT --seconds S [--conc C] [--proxy ADDR:PORT]
 *                                            new connections per second
 *
 * With --proxy the connection is made through `CONNECT HOST:PORT`. The
 * sink's protocol: 'D' + 8-byte big-endian N: it sends N bytes and closes;
 * 'U': it reads to EOF and answers the 8-byte count; 'P': it answers 'P'.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUFSZ	(256 * 1024)

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
write_all(int fd, const void *buf, size_t n)
{
	const char	*p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
read_all(int fd, void *buf, size_t n)
{
	char	*p = buf;

	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
split_addr(const char *s, struct sockaddr_in *sin)
{
	char	host[256];
	const char *colon = strrchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= sizeof host)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

/* ------------------------------------------------------------------------
 * Sink
 */
static void *
sink_conn(void *arg)
{
	int		 fd = (int)(intptr_t)arg;
	char		*buf = malloc(BUFSZ);
	unsigned char	 cmd, nb[8];
	uint64_t	 n = 0;
	int		 i;

	if (buf == NULL || read_all(fd, &cmd, 1) < 0)
		goto out;
	if (cmd == 'P') {
		write_all(fd, "P", 1);
	} else if (cmd == 'D') {
		if (read_all(fd, nb, 8) < 0)
			goto out;
		for (i = 0; i < 8; i++)
			n = n << 8 | nb[i];
		memset(buf, 'x', BUFSZ);
		while (n > 0) {
			size_t k = n > BUFSZ ? BUFSZ : (size_t)n;

			if (write_all(fd, buf, k) < 0)
				break;
			n -= k;
		}
	} else if (cmd == 'U') {
		uint64_t	want = 0;
		ssize_t		r;

		/* The length comes first: no half-close needed (tinyproxy
		 * does not pass one on). */
		if (read_all(fd, nb, 8) < 0)
			goto out;
		for (i = 0; i < 8; i++)
			want = want << 8 | nb[i];
		while (n < want && (r = read(fd, buf, want - n > BUFSZ ?
		    BUFSZ : (size_t)(want - n))) > 0)
			n += (uint64_t)r;
		for (i = 7; i >= 0; i--) {
			nb[i] = (unsigned char)(n & 0xff);
			n >>= 8;
		}
		write_all(fd, nb, 8);
	}
out:
	free(buf);
	close(fd);
	return NULL;
}

static int
sink(int port)
{
	struct sockaddr_in	sin;
	int			ls, one = 1;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (bind(ls, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(ls, 4096) < 0) {
		perror("proxy-load sink");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		pthread_t	t;
		int		fd = accept(ls, NULL, NULL);

		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (pthread_create(&t, NULL, sink_conn, (void *)(intptr_t)fd) != 0) {
			close(fd);
			continue;
		}
		pthread_detach(t);
	}
}

/* ------------------------------------------------------------------------
 * Clients
 */
struct target {
	struct sockaddr_in	 addr;      /* where to connect */
	const char		*connect;   /* CONNECT target, or NULL */
};

static int
open_conn(const struct target *t)
{
	int	fd, one = 1;
	char	req[512], resp[1024];
	size_t	n = 0;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (const struct sockaddr *)&t->addr, sizeof t->addr) < 0) {
		close(fd);
		return -1;
	}
	if (t->connect == NULL)
		return fd;
	snprintf(req, sizeof req, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n",
	    t->connect, t->connect);
	if (write_all(fd, req, strlen(req)) < 0)
		goto fail;
	/* Byte by byte up to the end of the head: nothing of the tunnel is
	 * consumed. */
	while (n < sizeof resp - 1) {
		if (read(fd, resp + n, 1) != 1)
			goto fail;
		n++;
		if (n >= 4 && memcmp(resp + n - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	resp[n] = '\0';
	if (strncmp(resp, "HTTP/1.1 200", 12) != 0 && strncmp(resp, "HTTP/1.0 200", 12) != 0) {
		fprintf(stderr, "proxy-load: CONNECT refused: %.60s\n", resp);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/*
 * Moves `bytes`; the rate is of those after the first `warmup`, timed from
 * when the first `warmup` had been read (down) or written (up: they may
 * still be in the socket buffers, a few MB against the GiBs measured),
 * to the sink's count or the end of the stream.
 */
static int
bulk(const struct target *t, bool down, uint64_t bytes, uint64_t warmup)
{
	unsigned char	 hdr[9], nb[8];
	char		*buf = malloc(BUFSZ);
	double		 t0, dt;
	uint64_t	 got = 0, left = bytes, mark = 0;
	int		 fd, i;

	if (buf == NULL || (fd = open_conn(t)) < 0) {
		fprintf(stderr, "proxy-load: cannot connect\n");
		return 1;
	}
	t0 = now_s();
	if (down) {
		ssize_t r;

		hdr[0] = 'D';
		for (i = 0; i < 8; i++)
			hdr[1 + i] = (unsigned char)(bytes >> (56 - 8 * i));
		write_all(fd, hdr, 9);
		while ((r = read(fd, buf, BUFSZ)) > 0) {
			got += (uint64_t)r;
			if (mark == 0 && warmup > 0 && got >= warmup) {
				mark = got;
				t0 = now_s();
			}
		}
	} else {
		memset(buf, 'y', BUFSZ);
		hdr[0] = 'U';
		for (i = 0; i < 8; i++)
			hdr[1 + i] = (unsigned char)(bytes >> (56 - 8 * i));
		write_all(fd, hdr, 9);
		while (left > 0) {
			size_t k = left > BUFSZ ? BUFSZ : (size_t)left;

			if (write_all(fd, buf, k) < 0)
				break;
			left -= k;
			if (mark == 0 && warmup > 0 && bytes - left >= warmup) {
				mark = bytes - left;
				t0 = now_s();
			}
		}
		if (read_all(fd, nb, 8) == 0)
			for (i = 0; i < 8; i++)
				got = got << 8 | nb[i];
	}
	dt = now_s() - t0;
	close(fd);
	free(buf);
	if (got != bytes) {
		fprintf(stderr, "proxy-load: moved %llu of %llu bytes\n",
		    (unsigned long long)got, (unsigned long long)bytes);
		return 1;
	}
	printf("%.1f\n", (double)(bytes - mark) / dt / 1e6);
	return 0;
}

struct rate_arg {
	const struct target	*t;
	double			 until;
	unsigned long		 n;
	unsigned long		 fail;
};

static void *
rate_thread(void *arg)
{
	struct rate_arg	*a = arg;
	char		 c;

	while (now_s() < a->until) {
		int fd = open_conn(a->t);

		if (fd < 0) {
			a->fail++;
			usleep(1000);
			continue;
		}
		if (write_all(fd, "P", 1) == 0 && read_all(fd, &c, 1) == 0)
			a->n++;
		else
			a->fail++;
		close(fd);
	}
	return NULL;
}

static int
rate(const struct target *t, double seconds, int conc)
{
	pthread_t		*th = calloc((size_t)conc, sizeof *th);
	struct rate_arg		*args = calloc((size_t)conc, sizeof *args);
	unsigned long		 n = 0, fail = 0;
	double			 t0 = now_s();
	int			 i;

	for (i = 0; i < conc; i++) {
		args[i].t = t;
		args[i].until = t0 + seconds;
		pthread_create(&th[i], NULL, rate_thread, &args[i]);
	}
	for (i = 0; i < conc; i++) {
		pthread_join(th[i], NULL);
		n += args[i].n;
		fail += args[i].fail;
	}
	printf("%.0f\n", (double)n / (now_s() - t0));
	if (fail > 0)
		fprintf(stderr, "proxy-load: %lu failed connections\n", fail);
	free(th);
	free(args);
	return n > 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct target	 t;
	const char	*to = NULL, *proxy = NULL, *mode;
	uint64_t	 bytes = 64 << 20, warmup = 0;
	double		 seconds = 3;
	int		 i, port = 0, conc = 4;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		fprintf(stderr, "usage: proxy-load sink|down|up|rate ...\n");
		return 2;
	}
	mode = argv[1];
	for (i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--port") == 0)
			port = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--to") == 0)
			to = argv[i + 1];
		else if (strcmp(argv[i], "--proxy") == 0)
			proxy = argv[i + 1];
		else if (strcmp(argv[i], "--bytes") == 0)
			bytes = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--warmup") == 0)
			warmup = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--conc") == 0)
			conc = atoi(argv[i + 1]);
		else {
			fprintf(stderr, "proxy-load: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (strcmp(mode, "sink") == 0)
		return sink(port);
	if (to == NULL || split_addr(proxy != NULL ? proxy : to, &t.addr) < 0) {
		fprintf(stderr, "proxy-load: --to ADDR:PORT needed\n");
		return 2;
	}
	if (warmup >= bytes) {
		fprintf(stderr, "proxy-load: --warmup %llu: must be less than "
		    "--bytes %llu\n", (unsigned long long)warmup,
		    (unsigned long long)bytes);
		return 2;
	}
	t.connect = proxy != NULL ? to : NULL;
	if (strcmp(mode, "down") == 0 || strcmp(mode, "up") == 0)
		return bulk(&t, strcmp(mode, "down") == 0, bytes, warmup);
	if (strcmp(mode, "rate") == 0)
		return rate(&t, seconds, conc < 1 ? 1 : conc);
	fprintf(stderr, "proxy-load: unknown mode %s\n", mode);
	return 2;
}
