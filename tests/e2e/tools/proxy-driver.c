/*
 * proxy-driver: runs the egress proxy outside any sandbox, for end-to-end
 * tests and benchmarks, in the production topology: the listening socket
 * is created inside a network namespace (setns into /run/netns/NAME, bind,
 * listen, setns back) while outbound connections leave from the driver's
 * own namespace. Decision log lines go to stdout, one per line.
 *
 *   proxy-driver --netns NAME --listen 127.0.0.1:3128 --init-pid PID
 *       [--policy FILE] [--hosts-file F] [--dns hosts-only|system]
 *       [--dns-timeout-ms N] [--trusted-cidr C]... [--reload-on-sighup]
 *       [--permissive[=SECONDS]]
 *
 * Without --policy the proxy has no matcher and denies everything.
 * SIGHUP (with --reload-on-sighup) re-reads the policy; SIGUSR1 prints the
 * counters; SIGTERM/SIGINT stop cleanly.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxy.h"

struct driver {
	uv_loop_t		*uv;
	struct proxy		*proxy;
	const char		*policy_file;
	uint64_t		 generation;
	uv_signal_t		 sighup, sigterm, sigint, sigusr1;
	bool			 reload_on_sighup;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: proxy-driver --netns NAME --listen ADDR:PORT --init-pid PID\n"
	    "           [--policy FILE] [--hosts-file FILE] [--dns hosts-only|system]\n"
	    "           [--dns-timeout-ms N] [--trusted-cidr CIDR]... [--reload-on-sighup]\n"
	    "           [--permissive[=SECONDS]]\n");
}

static int
read_all(const char *path, char **out, size_t *len)
{
	FILE	*f = fopen(path, "r");
	char	*buf = NULL;
	size_t	 cap = 0, n = 0, r;

	if (f == NULL)
		return -errno;
	do {
		if (n + 4096 > cap)
			buf = xrealloc(buf, cap = cap * 2 + 8192);
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static struct os_matcher *
load_policy(struct driver *d)
{
	struct os_diags		 diags = OS_DIAGS_INIT;
	struct os_policy	*pol = NULL;
	struct os_matcher	*m;
	char			*text, *msg;
	size_t			 len;
	int			 rc;

	if ((rc = read_all(d->policy_file, &text, &len)) < 0) {
		fprintf(stderr, "proxy-driver: %s: %s\n", d->policy_file, strerror(-rc));
		return NULL;
	}
	rc = os_policy_load_yaml(text, len, d->policy_file, &pol, NULL, &diags);
	free(text);
	if (diags.n > 0) {
		msg = os_diags_format(&diags);
		fprintf(stderr, "%s", msg);
		free(msg);
	}
	os_diags_free(&diags);
	if (rc < 0 || pol == NULL)
		return NULL;
	m = os_matcher_new(pol, ++d->generation);
	os_policy_free(pol);
	return m;
}

static void
on_log(void *arg, enum os_log_level level, const char *target, const char *line)
{
	printf("%s\n", line);
	fflush(stdout);
}

static void
on_denial(void *arg, const struct proxy_denial *dn)
{
	struct os_buf	b = OS_BUF_INIT;
	char		port[8];

	os_buf_kv(&b, "denial_stage", dn->stage);
	os_buf_kv(&b, "host", dn->host);
	snprintf(port, sizeof port, "%u", (unsigned)dn->port);
	os_buf_kv(&b, "port", port);
	os_buf_kv(&b, "binary", dn->binary);
	os_buf_kv(&b, "reason", dn->reason);
	os_buf_kv(&b, "permissive", dn->permissive ? "true" : "false");
	printf("%s\n", os_buf_str(&b));
	fflush(stdout);
	os_buf_free(&b);
}

static void
print_stats(struct driver *d)
{
	struct proxy_stats	st;

	proxy_get_stats(d->proxy, &st);
	printf("stats accepted=%llu allowed=%llu denied=%llu active=%llu "
	    "closed_by_reload=%llu\n", (unsigned long long)st.accepted,
	    (unsigned long long)st.allowed, (unsigned long long)st.denied,
	    (unsigned long long)st.active,
	    (unsigned long long)st.closed_by_reload);
	fflush(stdout);
}

static void
on_signal(uv_signal_t *s, int signum)
{
	struct driver		*d = s->data;
	struct os_matcher	*m;

	switch (signum) {
	case SIGHUP:
		if (!d->reload_on_sighup || d->policy_file == NULL)
			return;
		if ((m = load_policy(d)) == NULL) {
			printf("reload failed: keeping the last good policy\n");
			fflush(stdout);
			return;
		}
		proxy_set_matcher(d->proxy, m);
		os_matcher_unref(m);
		printf("reloaded policy generation %llu\n",
		    (unsigned long long)d->generation);
		fflush(stdout);
		return;
	case SIGUSR1:
		print_stats(d);
		return;
	default:
		print_stats(d);
		proxy_stop(d->proxy, NULL, NULL);
		uv_close((uv_handle_t *)&d->sighup, NULL);
		uv_close((uv_handle_t *)&d->sigterm, NULL);
		uv_close((uv_handle_t *)&d->sigint, NULL);
		uv_close((uv_handle_t *)&d->sigusr1, NULL);
	}
}

static int
parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char		 host[128];
	const char	*colon = strrchr(s, ':');
	long		 port;

	if (colon == NULL || (size_t)(colon - s) >= sizeof host)
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtol(colon + 1, NULL, 10);
	if (port <= 0 || port > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof *ss);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		host[strlen(host) - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			return -EINVAL;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -EINVAL;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof *s4;
	}
	return 0;
}

/* The listening socket, made inside the named network namespace. */
static int
listen_in_netns(const char *netns, const char *addr)
{
	struct sockaddr_storage	ss;
	socklen_t		slen = 0;
	char			path[512];
	int			self, ns, fd = -1, one = 1, saved;

	if (parse_listen(addr, &ss, &slen) < 0) {
		fprintf(stderr, "proxy-driver: bad --listen %s\n", addr);
		return -1;
	}
	if ((self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) {
		perror("proxy-driver: /proc/self/ns/net");
		return -1;
	}
	snprintf(path, sizeof path, "/run/netns/%s", netns);
	if ((ns = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "proxy-driver: %s: %s\n", path, strerror(errno));
		close(self);
		return -1;
	}
	if (setns(ns, CLONE_NEWNET) < 0) {
		perror("proxy-driver: setns");
		goto out;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, slen) < 0 || listen(fd, 1024) < 0) {
		saved = errno;
		fprintf(stderr, "proxy-driver: listen on %s in %s: %s\n", addr, netns,
		    strerror(saved));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	/* Back to our own namespace for everything else, outbound included. */
	if (setns(self, CLONE_NEWNET) < 0) {
		perror("proxy-driver: setns back");
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
out:
	close(ns);
	close(self);
	return fd;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "listen", required_argument, NULL, 'l' },
		{ "init-pid", required_argument, NULL, 'i' },
		{ "policy", required_argument, NULL, 'p' },
		{ "hosts-file", required_argument, NULL, 'H' },
		{ "dns", required_argument, NULL, 'd' },
		{ "dns-timeout-ms", required_argument, NULL, 'T' },
		{ "trusted-cidr", required_argument, NULL, 't' },
		{ "reload-on-sighup", no_argument, NULL, 'r' },
		{ "permissive", optional_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct driver		 d;
	struct proxy_options	 po;
	struct os_hosts		*hosts = NULL;
	struct os_cidr		*trusted = NULL;
	struct os_matcher	*m = NULL;
	struct os_error		 err;
	const char		*netns = NULL, *listen_addr = "127.0.0.1:3128";
	const char		*hosts_file = NULL;
	size_t			 ntrusted = 0;
	bool			 permissive = false;
	int64_t			 permissive_s = 0;
	int			 c, fd, init_pid = 0;

	memset(&d, 0, sizeof d);
	memset(&po, 0, sizeof po);
	po.resolver.mode = OS_DNS_SYSTEM;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			netns = optarg;
			break;
		case 'l':
			listen_addr = optarg;
			break;
		case 'i':
			init_pid = atoi(optarg);
			break;
		case 'p':
			d.policy_file = optarg;
			break;
		case 'H':
			hosts_file = optarg;
			break;
		case 'd':
			if (strcmp(optarg, "hosts-only") == 0)
				po.resolver.mode = OS_DNS_HOSTS_ONLY;
			else if (strcmp(optarg, "system") == 0)
				po.resolver.mode = OS_DNS_SYSTEM;
			else {
				fprintf(stderr, "proxy-driver: --dns hosts-only|system\n");
				return 2;
			}
			break;
		case 'T':
			po.resolver.timeout_ms = (unsigned)atoi(optarg);
			break;
		case 't':
			trusted = xreallocarray(trusted, ntrusted + 1, sizeof *trusted);
			if (os_cidr_parse(optarg, &trusted[ntrusted]) < 0) {
				fprintf(stderr, "proxy-driver: bad --trusted-cidr %s\n", optarg);
				return 2;
			}
			ntrusted++;
			break;
		case 'r':
			d.reload_on_sighup = true;
			break;
		case 'P':
			permissive = true;
			if (optarg != NULL)
				permissive_s = atoll(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (netns == NULL || init_pid <= 0 || optind != argc) {
		usage(stderr);
		return 2;
	}
	os_log_init("proxy-driver", OS_LOG_INFO);
	signal(SIGPIPE, SIG_IGN);

	if (hosts_file != NULL) {
		struct os_diags	 diags = OS_DIAGS_INIT;
		char		*text;
		size_t		 len;
		int		 rc;

		if ((rc = read_all(hosts_file, &text, &len)) < 0) {
			fprintf(stderr, "proxy-driver: %s: %s\n", hosts_file, strerror(-rc));
			return 1;
		}
		rc = os_hosts_parse(text, len, hosts_file, &hosts, &diags);
		free(text);
		if (diags.n > 0) {
			char *msg = os_diags_format(&diags);

			fprintf(stderr, "%s", msg);
			free(msg);
		}
		os_diags_free(&diags);
		if (rc < 0)
			return 1;
	}
	if (d.policy_file != NULL && (m = load_policy(&d)) == NULL)
		return 1;
	if ((fd = listen_in_netns(netns, listen_addr)) < 0)
		return 1;

	d.uv = xmalloc(sizeof *d.uv);
	uv_loop_init(d.uv);
	po.uv = d.uv;
	po.listen_fd = fd;
	po.init_pid = init_pid;
	po.resolver.hosts = hosts;
	po.trusted = trusted;
	po.ntrusted = ntrusted;
	po.log = on_log;
	po.denial = on_denial;
	po.arg = &d;
	os_error_clear(&err);
	if (proxy_start(&po, &d.proxy, &err) < 0) {
		fprintf(stderr, "proxy-driver: %s\n", err.msg);
		return 1;
	}
	if (m != NULL) {
		proxy_set_matcher(d.proxy, m);
		os_matcher_unref(m);
	}
	if (permissive)
		proxy_set_permissive(d.proxy, true,
		    permissive_s > 0 ? os_now_ms() + permissive_s * 1000 : 0);

	uv_signal_init(d.uv, &d.sighup);
	uv_signal_init(d.uv, &d.sigterm);
	uv_signal_init(d.uv, &d.sigint);
	uv_signal_init(d.uv, &d.sigusr1);
	d.sighup.data = d.sigterm.data = d.sigint.data = d.sigusr1.data = &d;
	uv_signal_start(&d.sighup, on_signal, SIGHUP);
	uv_signal_start(&d.sigterm, on_signal, SIGTERM);
	uv_signal_start(&d.sigint, on_signal, SIGINT);
	uv_signal_start(&d.sigusr1, on_signal, SIGUSR1);

	printf("listening on %s in netns %s (init pid %d)\n", listen_addr, netns,
	    init_pid);
	fflush(stdout);
	uv_run(d.uv, UV_RUN_DEFAULT);
	if (uv_loop_close(d.uv) != 0)
		fprintf(stderr, "proxy-driver: handles left open at exit\n");
	free(d.uv);
	if (hosts != NULL)
		os_hosts_free(hosts);
	free(trusted);
	return 0;
}
