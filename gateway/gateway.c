/*
 * openshell-gateway: the control plane. Start-up (state directory, lock,
 * daemonising, credentials, store, listeners), signal handling and an
 * orderly shutdown. The RPCs live in gw-*.c.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway.h"
#include "gw-tls.h"

static void
gw_usage(FILE *f)
{
	fprintf(f, _("usage: openshell-gateway [--state-dir DIR] [--listen HOST:PORT]... [--tls]\n"
	    "           [--hosts-file FILE] [--dns system|hosts-only] [--upstream-ca FILE]\n"
	    "           [--daemon] [--log-level error|warn|info|debug]\n"
	    "See openshell-gateway(8).\n"));
}

/*
 * Descriptors the caller left open (a shell's redirections, a parent's
 * pipes) must not outlive `gateway start` in a daemon, nor reach the
 * supervisors and, through them, the processes in every sandbox. A
 * daemon closes them; in the foreground they are only kept from being
 * inherited. Runs before the gateway opens anything of its own.
 */
static void
gw_close_inherited(bool daemon)
{
	DIR		*d;
	struct dirent	*e;
	int		*fds = NULL, fd;
	size_t		 n = 0, i;
	char		*end;
	long		 v;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		v = strtol(e->d_name, &end, 10);
		if (*end != '\0' || end == e->d_name || v <= STDERR_FILENO ||
		    v == dirfd(d))
			continue;
		fds = xreallocarray(fds, n + 1, sizeof *fds);
		fds[n++] = (int)v;
	}
	closedir(d);
	for (i = 0; i < n; i++) {
		fd = fds[i];
		if (daemon)
			close(fd);
		else
			fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
	}
	free(fds);
}

static int
gw_mkdir_private(const char *path, struct os_error *err)
{
	char	*p, *s;

	p = xstrdup(path);
	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			os_error_set(err, -errno, "mkdir %s: %s", p, strerror(errno));
			free(p);
			return err->code;
		}
		*s = '/';
	}
	free(p);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return os_error_set(err, -errno, "mkdir %s: %s", path, strerror(errno));
	/* Tokens and sockets live here: nobody else may look in. */
	if (chmod(path, 0700) < 0)
		return os_error_set(err, -errno, "chmod %s: %s", path, strerror(errno));
	return 0;
}

/*
 * One gateway per state directory. gRPC replaces an existing unix socket
 * silently, so the lock, not the socket, is what keeps a second gateway
 * out.
 */
static int
gw_lock(struct gw *gw, struct os_error *err)
{
	char	*path, *pidpath, buf[32];
	ssize_t	 n;
	int	 fd, pfd;

	path = xprintf("%s/gateway.lock", gw->state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(path);
	if (fd < 0)
		return os_error_set(err, -errno, _("cannot open the lock file in %s: %s"),
		    gw->state_dir, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		pidpath = xprintf("%s/gateway.pid", gw->state_dir);
		pfd = open(pidpath, O_RDONLY | O_CLOEXEC);
		free(pidpath);
		n = pfd >= 0 ? read(pfd, buf, sizeof buf - 1) : -1;
		if (pfd >= 0)
			close(pfd);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		close(fd);
		if (e == EWOULDBLOCK)
			return os_error_set(err, -EBUSY,
			    _("another gateway (pid %s) is already running on state directory %s"),
			    *buf != '\0' ? buf : "?", gw->state_dir);
		return os_error_set(err, -e, "flock: %s", strerror(e));
	}
	gw->lock_fd = fd;
	return 0;
}

/*
 * Each --listen address must be free before the gateway goes into the
 * background, so that `gateway start` can say why it cannot start (the
 * listeners themselves are only bound once the RPC server starts, after
 * the fork). "HOST:PORT", "[V6]:PORT".
 */
static int
gw_listen_check(const char *addr, struct os_error *err)
{
	struct addrinfo	 hints, *res, *ai;
	char		*host, *port;
	int		 fd, one = 1, rc, e = 0;

	host = xstrdup(addr);
	if ((port = strrchr(host, ':')) == NULL || port[1] == '\0') {
		free(host);
		return os_error_set(err, -EINVAL,
		    _("--listen: '%s' is not HOST:PORT"), addr);
	}
	*port++ = '\0';
	if (*host == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(*host != '\0' ? host : NULL, port, &hints, &res)) != 0) {
		os_error_set(err, -EINVAL, _("--listen: cannot use '%s': %s"), addr,
		    gai_strerror(rc));
		free(host);
		return err->code;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol)) < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
			e = errno;
		close(fd);
		if (e != 0)
			break;
	}
	freeaddrinfo(res);
	free(host);
	if (e != 0)
		return os_error_set(err, -e, _("cannot listen on %s: %s"), addr,
		    strerror(e));
	return 0;
}

static int
gw_write_pid(struct gw *gw, struct os_error *err)
{
	char	*path, *tmp, buf[32];
	int	 fd, n;

	path = xprintf("%s/gateway.pid", gw->state_dir);
	tmp = xprintf("%s.tmp", path);
	n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, buf, (size_t)n) != n || close(fd) < 0 ||
	    rename(tmp, path) < 0) {
		os_error_set(err, -errno, _("cannot write %s: %s"), path, strerror(errno));
		free(path);
		free(tmp);
		return err->code;
	}
	free(path);
	free(tmp);
	return 0;
}

static int
gw_daemonize(struct gw *gw, struct os_error *err)
{
	char	*logpath;
	pid_t	 pid;
	int	 fd;

	logpath = xprintf("%s/gateway.log", gw->state_dir);
	fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		os_error_set(err, -errno, _("cannot open %s: %s"), logpath, strerror(errno));
		free(logpath);
		return err->code;
	}
	free(logpath);
	if ((pid = fork()) < 0)
		return os_error_set(err, -errno, "fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);     /* the lock's open file description stays with the child */
	setsid();
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return 0;
}

static char *
gw_read_text(const char *path, struct os_error *err)
{
	struct os_buf	b = OS_BUF_INIT;
	char		chunk[8192];
	ssize_t		n;
	int		fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		os_error_set(err, -errno, "%s: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		os_buf_add(&b, chunk, (size_t)n);
	close(fd);
	if (n < 0) {
		os_error_set(err, -errno, "%s: %s", path, strerror(errno));
		os_buf_free(&b);
		return NULL;
	}
	return os_buf_steal(&b);
}

static int
gw_load_egress_options(struct gw *gw, const char *dns, const char *upstream_ca,
    struct os_error *err)
{
	struct os_diags	 d = OS_DIAGS_INIT;
	char		*text, *msg;

	if (dns == NULL || strcmp(dns, "system") == 0)
		gw->dns_mode = OS_DNS_SYSTEM;
	else if (strcmp(dns, "hosts-only") == 0)
		gw->dns_mode = OS_DNS_HOSTS_ONLY;
	else
		return os_error_set(err, -EINVAL,
		    _("--dns: unknown mode '%s' (expected system or hosts-only)"), dns);
	if (gw->hosts_file != NULL) {
		if ((text = gw_read_text(gw->hosts_file, err)) == NULL)
			return err->code;
		if (os_hosts_parse(text, strlen(text), gw->hosts_file, &gw->hosts,
		    &d) != 0) {
			msg = os_diags_format(&d);
			os_error_set(err, -EINVAL, "%s", msg);
			free(msg);
			os_diags_free(&d);
			free(text);
			return err->code;
		}
		os_diags_free(&d);
		free(text);
	}
	if (upstream_ca != NULL &&
	    (gw->upstream_ca_pem = gw_read_text(upstream_ca, err)) == NULL)
		return err->code;
	return 0;
}

static void
gw_server_stopped(void *arg)
{
	struct gw	*gw = arg;

	log_info("stopped serving");
	os_rpc_loop_shutdown(&gw->loop);
}

static void
gw_stop(struct gw *gw)
{
	if (gw->stopping)
		return;
	gw->stopping = true;
	log_info("shutting down");
	uv_close((uv_handle_t *)&gw->sigterm, NULL);
	uv_close((uv_handle_t *)&gw->sigint, NULL);
	uv_close((uv_handle_t *)&gw->tick, NULL);
	gw_bus_close_all(gw);
	if (gw->driver->shutdown != NULL)
		gw->driver->shutdown(gw);
	os_rpc_server_shutdown(gw->server, 2000, gw_server_stopped, gw);
}

static void
gw_on_signal(uv_signal_t *s, int sig)
{
	gw_stop(s->data);
}

void	gw_tick(uv_timer_t *);

/* What main allocated for the gateway's lifetime, after the loop. */
static void
gw_free(struct gw *gw)
{
	size_t	i;

	if (gw->operator_token != NULL)
		explicit_bzero(gw->operator_token, strlen(gw->operator_token));
	free(gw->operator_token);
	for (i = 0; i < gw->nlisten; i++)
		free(gw->listen[i]);
	free(gw->listen);
	free(gw->state_dir);
	free(gw->socket_path);
	free(gw->sandboxes_dir);
	free(gw->tls_dir);
	free(gw->hosts_file);
	free(gw->upstream_ca_pem);
	free(gw->supervisor_path);
	free(gw->driver_state);    /* a plain struct, emptied by its shutdown */
	if (gw->hosts != NULL)
		os_hosts_free(gw->hosts);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "tls", no_argument, NULL, 't' },
		{ "hosts-file", required_argument, NULL, 'H' },
		{ "dns", required_argument, NULL, 'D' },
		{ "upstream-ca", required_argument, NULL, 'C' },
		{ "daemon", no_argument, NULL, 'd' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct gw		 gw;
	struct os_error		 err;
	enum os_log_level	 level = OS_LOG_INFO;
	const char		*dns = NULL, *upstream_ca = NULL;
	char			*dbpath;
	bool			 daemon = false, tls = false;
	int			 c;

	setlocale(LC_ALL, "");
#ifdef ENABLE_NLS
	{
		/* Catalogs from elsewhere, e.g. a build tree (tests). */
		const char *dir = secure_getenv("OPENSHELL_LOCALEDIR");

		bindtextdomain(PACKAGE, dir != NULL && *dir != '\0' ? dir :
		    LOCALEDIR);
	}
	textdomain(PACKAGE);
#endif
	memset(&gw, 0, sizeof gw);
	gw.lock_fd = -1;
	TAILQ_INIT(&gw.watchers);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			free(gw.state_dir);
			gw.state_dir = xstrdup(optarg);
			break;
		case 'l':
			gw.listen = xreallocarray(gw.listen, gw.nlisten + 1,
			    sizeof *gw.listen);
			gw.listen[gw.nlisten++] = xstrdup(optarg);
			break;
		case 't':
			tls = true;
			break;
		case 'H':
			free(gw.hosts_file);
			gw.hosts_file = xstrdup(optarg);
			break;
		case 'D':
			dns = optarg;
			break;
		case 'C':
			upstream_ca = optarg;
			break;
		case 'd':
			daemon = true;
			break;
		case 'L':
			if (os_log_level_parse(optarg, &level) != 0) {
				fprintf(stderr, _("openshell-gateway: unknown log level '%s'\n"),
				    optarg);
				return 2;
			}
			break;
		case 'h':
			gw_usage(stdout);
			return 0;
		case 'V':
			printf("openshell-gateway %s\n", PACKAGE_VERSION);
			return 0;
		default:
			gw_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		gw_usage(stderr);
		return 2;
	}
	if (gw.nlisten > 0 && !tls) {
		fprintf(stderr, _("openshell-gateway: --listen needs --tls (remote "
		    "operators authenticate with client certificates)\n"));
		return 2;
	}
	gw_close_inherited(daemon);
	os_log_init("openshell-gateway", level);
	if (gw.state_dir == NULL)
		gw.state_dir = os_default_state_dir();

	os_error_clear(&err);
	if (gw_mkdir_private(gw.state_dir, &err) != 0 || gw_lock(&gw, &err) != 0 ||
	    gw_load_egress_options(&gw, dns, upstream_ca, &err) != 0) {
		fprintf(stderr, "openshell-gateway: %s\n", err.msg);
		return 1;
	}
	for (c = 0; c < (int)gw.nlisten; c++) {
		if (gw_listen_check(gw.listen[c], &err) != 0) {
			fprintf(stderr, "openshell-gateway: %s\n", err.msg);
			return 1;
		}
	}
	if (tls && gw_tls_ensure(&gw, &err) != 0) {
		fprintf(stderr, "openshell-gateway: %s\n", err.msg);
		return 1;
	}
	if (daemon && gw_daemonize(&gw, &err) != 0) {
		fprintf(stderr, "openshell-gateway: %s\n", err.msg);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	gw.started_at_ms = os_now_ms();
	gw.socket_path = xprintf("%s/gateway.sock", gw.state_dir);
	gw.sandboxes_dir = xprintf("%s/sandboxes", gw.state_dir);
	dbpath = xprintf("%s/openshell.db", gw.state_dir);
	if (gw_write_pid(&gw, &err) != 0 || gw_auth_init(&gw, &err) != 0 ||
	    gw_mkdir_private(gw.sandboxes_dir, &err) != 0 ||
	    store_open(dbpath, &gw.store, &err) != 0) {
		log_error("%s", err.msg);
		return 1;
	}
	free(dbpath);

	grpc_init();
	os_rpc_log_init();
	gw.uv = uv_default_loop();
	if (os_rpc_loop_init(&gw.loop, gw.uv) != 0) {
		log_error("cannot start the RPC loop");
		return 1;
	}
	gw.driver = &gw_driver_local;
	if (gw.driver->init(&gw, &err) != 0 || gw_rpc_start(&gw, &err) != 0) {
		log_error("%s", err.msg);
		os_rpc_loop_shutdown(&gw.loop);
		uv_run(gw.uv, UV_RUN_DEFAULT);
		os_rpc_loop_destroy(&gw.loop);
		grpc_shutdown_blocking();
		return 1;
	}
	gw_sandbox_adopt_all(&gw);

	uv_signal_init(gw.uv, &gw.sigterm);
	gw.sigterm.data = &gw;
	uv_signal_start(&gw.sigterm, gw_on_signal, SIGTERM);
	uv_signal_init(gw.uv, &gw.sigint);
	gw.sigint.data = &gw;
	uv_signal_start(&gw.sigint, gw_on_signal, SIGINT);
	uv_timer_init(gw.uv, &gw.tick);
	gw.tick.data = &gw;
	uv_timer_start(&gw.tick, gw_tick, 1000, 1000);

	log_info("serving on unix:%s%s (state directory %s, pid %d)",
	    gw.socket_path, gw.nlisten > 0 ? " and TCP with mTLS" : "",
	    gw.state_dir, (int)getpid());
	uv_run(gw.uv, UV_RUN_DEFAULT);

	os_rpc_server_free(gw.server);
	os_rpc_loop_destroy(&gw.loop);
	uv_loop_close(gw.uv);
	store_close(gw.store);
	grpc_shutdown_blocking();
	unlink(gw.socket_path);
	{
		char *p = xprintf("%s/gateway.pid", gw.state_dir);

		unlink(p);
		free(p);
	}
	log_info("stopped");
	gw_free(&gw);
	return 0;
}
