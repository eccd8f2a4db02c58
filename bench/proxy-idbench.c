/*
 * proxy-idbench: what a binary-identity lookup (proxy_identity_lookup)
 * costs with many processes around: this process plays the sandbox's
 * init, with --procs children; the last child is the client, connecting to
 * a listener here. Prints microseconds per lookup:
 *
 *   cold     empty caches: the socket table, the tree walk, exe and parents
 *   warm     a new connection from a process seen before (the usual case)
 *   same     the same connection again (the inode cache)
 *
 *   proxy-idbench [--procs N] [--iters K]
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proxy.h"

static int
client_loop(const struct sockaddr_in *to, int ctl, int ack)
{
	char	c;
	int	fd = -1;

	for (;;) {
		if (fd >= 0)
			close(fd);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (const struct sockaddr *)to, sizeof *to) < 0)
			_exit(1);
		if (write(ack, "k", 1) != 1)
			_exit(1);
		if (read(ctl, &c, 1) != 1)
			_exit(0);
	}
}

static double
lookup_us(struct proxy_idcache *cache, int fd)
{
	struct sockaddr_storage	peer, self;
	socklen_t		pl = sizeof peer, sl = sizeof self;
	struct proxy_identity	id;
	struct os_error		err;
	uint64_t		t0, t1;

	getpeername(fd, (struct sockaddr *)&peer, &pl);
	getsockname(fd, (struct sockaddr *)&self, &sl);
	t0 = os_mono_ns();
	if (proxy_identity_lookup(cache, 6, (struct sockaddr *)&peer,
	    (struct sockaddr *)&self, &id, &err) < 0) {
		fprintf(stderr, "proxy-idbench: lookup failed: %s\n", err.msg);
		exit(1);
	}
	t1 = os_mono_ns();
	proxy_identity_clear(&id);
	return (double)(t1 - t0) / 1e3;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof sin;
	struct proxy_idcache	*cache;
	pid_t			*kids;
	int			 procs = 500, iters = 200, i, ls, fd, ctl[2], ack[2];
	double			 cold = 0, warm = 0, same = 0;
	char			 c;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--procs") == 0)
			procs = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--iters") == 0)
			iters = atoi(argv[i + 1]);
	}
	if (procs < 1 || iters < 1)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(ls, 64) < 0 ||
	    getsockname(ls, (struct sockaddr *)&sin, &slen) < 0 ||
	    pipe(ctl) < 0 || pipe(ack) < 0) {
		perror("proxy-idbench");
		return 1;
	}
	kids = calloc((size_t)procs, sizeof *kids);
	for (i = 0; i < procs; i++) {
		if ((kids[i] = fork()) < 0) {
			perror("fork");
			procs = i;
			break;
		}
		if (kids[i] == 0) {
			close(ls);
			if (i == procs - 1)
				client_loop(&sin, ctl[0], ack[1]);
			for (;;)
				pause();
		}
	}
	if (read(ack[0], &c, 1) != 1 || (fd = accept(ls, NULL, NULL)) < 0) {
		fprintf(stderr, "proxy-idbench: no client\n");
		return 1;
	}
	for (i = 0; i < iters; i++) {
		cache = proxy_idcache_new(getpid());
		cold += lookup_us(cache, fd);
		proxy_idcache_free(cache);
	}
	cache = proxy_idcache_new(getpid());
	lookup_us(cache, fd);
	for (i = 0; i < iters; i++)
		same += lookup_us(cache, fd);
	for (i = 0; i < iters; i++) {
		close(fd);
		if (write(ctl[1], "n", 1) != 1 || read(ack[0], &c, 1) != 1 ||
		    (fd = accept(ls, NULL, NULL)) < 0) {
			fprintf(stderr, "proxy-idbench: client gone\n");
			return 1;
		}
		warm += lookup_us(cache, fd);
	}
	proxy_idcache_free(cache);
	printf("identity_lookup warm_us=%.1f cold_us=%.1f same_us=%.1f procs=%d\n",
	    warm / iters, cold / iters, same / iters, procs);
	for (i = 0; i < procs; i++)
		kill(kids[i], SIGKILL);
	while (wait(NULL) > 0)
		;
	free(kids);
	return 0;
}
