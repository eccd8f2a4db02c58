/*
 * openshell-sandbox: the supervisor of one sandbox. Started by the
 * gateway's driver with the sandbox id and token on an inherited fd; forks
 * the sandbox's init before any thread exists, fetches its config, builds
 * the sandbox, serves exec sessions, runs the egress proxy and follows the
 * gateway's pushed configs until it is told to stop.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"
#include "tls.h"

/* Groups of the denial table: endpoints and programs an agent tried. */
#define SUP_DENIAL_GROUPS	1024
/* Open files the supervisor asks for at most (see sup_raise_nofile). */
#define SUP_NOFILE_MAX		(1 << 20)

static void
sup_usage(FILE *f)
{
	fprintf(f, _("usage: openshell-sandbox --gateway TARGET --dir DIR --secret-fd FD "
	    "--name NAME [--no-isolation] [--log-level LEVEL]\n"
	    "Started by openshell-gateway; see openshell-sandbox(8).\n"));
}

/* "<id>\n<token>\n" from the inherited fd, which is then closed. */
static int
sup_read_secret(struct sup *s, int fd, struct os_error *err)
{
	char	buf[512], *nl;
	ssize_t	n;
	size_t	len = 0;

	while (len < sizeof buf - 1) {
		n = read(fd, buf + len, sizeof buf - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if ((nl = strchr(buf, '\n')) == NULL)
		return os_error_set(err, -EINVAL, "no sandbox id on the secret fd");
	*nl = '\0';
	s->id = xstrdup(buf);
	s->token = xstrdup(nl + 1);
	s->token[strcspn(s->token, "\n")] = '\0';
	explicit_bzero(buf, sizeof buf);
	if (*s->id == '\0' || strlen(s->token) < 32)
		return os_error_set(err, -EINVAL, "malformed secret on the secret fd");
	return 0;
}

static void
sup_proxy_log(void *arg, enum os_log_level level, const char *target,
    const char *line)
{
	sup_log_line(arg, level, target, line);
}

/* Every denial (and would-deny) the proxy reports goes into the denial
 * table, with its L7 sample. */
static void
sup_proxy_denial(void *arg, const struct proxy_denial *d)
{
	struct sup		*s = arg;
	struct os_denial_event	 e;

	memset(&e, 0, sizeof e);
	e.host = d->host;
	e.port = d->port;
	e.binary = d->binary;
	e.stage = d->stage;
	e.reason = d->reason;
	e.method = d->method;
	e.path = d->path;
	if (d->method != NULL)
		e.decision = strcmp(d->stage, "l7_audit") == 0 ? "audit" :
		    d->permissive ? "allow_permissive" : "deny";
	e.permissive = d->permissive;
	e.ts_ms = d->ts_ms;
	os_denials_add(&s->denials, &e);
}

/* What main allocated for the supervisor's lifetime, after the loop. */
static void
sup_free(struct sup *s)
{
	if (s->token != NULL)
		explicit_bzero(s->token, strlen(s->token));
	free(s->token);
	free(s->id);
	free(s->name);
	free(s->dir);
	free(s->gateway);
	free(s->trusted);
	if (s->hosts != NULL)
		os_hosts_free(s->hosts);
}

/*
 * The proxy holds two sockets per tunnel, and a spliced one six more fds
 * (pipes and dups): the usual soft limit of 1024 would cap an agent at a
 * hundred-odd bulk downloads at once, the hard limit is what the host
 * grants. Called once the init is forked, so the agent keeps the limit it
 * was given (programs that select(2) break above 1024).
 */
static void
sup_raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= SUP_NOFILE_MAX ||
	    rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max < SUP_NOFILE_MAX ? rl.rlim_max : SUP_NOFILE_MAX;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_debug("open files stay at the soft limit: %s", strerror(errno));
}

static int
sup_proxy_start(struct sup *s, struct os_error *err)
{
	struct proxy_options			 o;
	const Openshell__Sandbox__V1__ProxyOptions *po = s->config->proxy;
	struct os_ip				 ip;
	size_t					 i, j;

	if (s->proxy_fd < 0)
		return 0;
	if (po != NULL) {
		for (i = 0; i < po->n_hosts; i++) {
			for (j = 0; j < po->hosts[i]->n_addresses; j++) {
				if (os_ip_parse(po->hosts[i]->addresses[j], &ip) == 0)
					os_hosts_add(&s->hosts, po->hosts[i]->name, &ip);
			}
		}
	}
	s->trusted = xcalloc(s->config->n_trusted_cidrs + 1, sizeof *s->trusted);
	for (i = 0; i < s->config->n_trusted_cidrs; i++) {
		if (os_cidr_parse(s->config->trusted_cidrs[i], &s->trusted[s->ntrusted]) == 0)
			s->ntrusted++;
	}
	memset(&o, 0, sizeof o);
	o.uv = s->uv;
	o.listen_fd = s->proxy_fd;
	o.init_pid = s->init_pid;
	o.resolver.hosts = s->hosts;
	o.resolver.mode = po != NULL && strcmp(po->dns_mode, "hosts-only") == 0 ?
	    OS_DNS_HOSTS_ONLY : OS_DNS_SYSTEM;
	o.resolver.timeout_ms = po != NULL && po->dns_timeout_ms != 0 ?
	    po->dns_timeout_ms : 5000;
	o.trusted = s->trusted;
	o.ntrusted = s->ntrusted;
	o.ca = s->ca;
	o.upstream_tls = s->upstream_tls;
	o.log = sup_proxy_log;
	o.denial = sup_proxy_denial;
	o.arg = s;
	return proxy_start(&o, &s->proxy, err);
}

static void
sup_proxy_stopped(void *arg)
{
}

static void
sup_stop(struct sup *s)
{
	if (s->stopping)
		return;
	s->stopping = true;
	log_info("stopping");
	sup_logf(s, OS_LOG_INFO, "supervisor", "event=sandbox_stopping");
	uv_close((uv_handle_t *)&s->sigterm, NULL);
	uv_close((uv_handle_t *)&s->sigint, NULL);
	sup_gateway_stop(s);
	if (s->proxy != NULL)
		proxy_stop(s->proxy, sup_proxy_stopped, s);
	sup_dns_stop(s);
	/* Closing the init's socket ends the sandbox: init kills everything. */
	uv_poll_stop(&s->zpoll);
	uv_close((uv_handle_t *)&s->zpoll, NULL);
	sup_log_close(s);
	sup_exec_stop(s);
}

static void
sup_on_signal(uv_signal_t *h, int sig)
{
	sup_stop(h->data);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "gateway", required_argument, NULL, 'g' },
		{ "dir", required_argument, NULL, 'd' },
		{ "secret-fd", required_argument, NULL, 'f' },
		{ "name", required_argument, NULL, 'n' },
		{ "no-isolation", no_argument, NULL, 'N' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sup		 s;
	struct os_error		 err;
	enum os_log_level	 level = OS_LOG_INFO;
	int			 c, secret_fd = -1, status;

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
	memset(&s, 0, sizeof s);
	s.zfd = s.proxy_fd = s.dns_fd = s.lock_fd = -1;
	os_denials_init(&s.denials, SUP_DENIAL_GROUPS);
	s.isolate = true;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			s.gateway = xstrdup(optarg);
			break;
		case 'd':
			s.dir = xstrdup(optarg);
			break;
		case 'f':
			secret_fd = atoi(optarg);
			break;
		case 'n':
			s.name = xstrdup(optarg);
			break;
		case 'N':
			s.isolate = false;
			break;
		case 'L':
			if (os_log_level_parse(optarg, &level) != 0) {
				sup_usage(stderr);
				return 2;
			}
			break;
		case 'h':
			sup_usage(stdout);
			return 0;
		default:
			sup_usage(stderr);
			return 2;
		}
	}
	if (s.gateway == NULL || s.dir == NULL || secret_fd < 0 || s.name == NULL) {
		sup_usage(stderr);
		return 2;
	}
	os_log_init("openshell-sandbox", level);
	/* The gateway's umask is private; what we make for the sandbox (its
	 * /etc files, its log) says its own mode. */
	umask(022);
	os_error_clear(&err);
	/* First the claim on the sandbox: one supervisor each, and one a
	 * restarted gateway can find (sup-lock.c). */
	if (sup_lock_take(&s, &err) != 0) {
		log_error("%s", err.msg);
		return 1;
	}
	/* Before any thread: the init must be a child of a single-threaded
	 * process. And before the secret is read, so that no copy of the
	 * token ever exists in the sandbox's init. */
	if (sup_zygote_fork(&s, &err) != 0) {
		log_error("%s", err.msg);
		return 1;
	}
	sup_raise_nofile();
	if (sup_read_secret(&s, secret_fd, &err) != 0) {
		log_error("%s", err.msg);
		kill(s.zygote_pid, SIGKILL);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	grpc_init();
	os_rpc_log_init();
	s.ch = os_rpc_channel_new(s.gateway, NULL, &err);
	s.uv = uv_default_loop();
	if (s.ch == NULL || sup_log_open(&s, &err) != 0 ||
	    sup_gateway_fetch_config(&s, &err) != 0) {
		log_error("%s", err.msg);
		goto fail;
	}
	/* The CA first: its certificate goes into the sandbox's /etc. */
	if (sup_tls_init(&s, &err) != 0)
		log_warn("no TLS termination in this sandbox: %s", err.msg);
	if (sup_zygote_setup(&s, s.config, &err) != 0) {
		log_error("cannot build the sandbox: %s", err.msg);
		goto fail;
	}
	if (os_rpc_loop_init(&s.loop, s.uv) != 0) {
		log_error("cannot start the RPC loop");
		goto fail;
	}
	sup_zygote_watch(&s);
	if (sup_exec_start(&s, &err) != 0 || sup_proxy_start(&s, &err) != 0 ||
	    sup_dns_start(&s, &err) != 0) {
		log_error("%s", err.msg);
		s.exit_code = 1;
		sup_stop(&s);
	} else {
		uv_signal_init(s.uv, &s.sigterm);
		s.sigterm.data = &s;
		uv_signal_start(&s.sigterm, sup_on_signal, SIGTERM);
		uv_signal_init(s.uv, &s.sigint);
		s.sigint.data = &s;
		uv_signal_start(&s.sigint, sup_on_signal, SIGINT);
		sup_logf(&s, OS_LOG_INFO, "supervisor",
		    "event=sandbox_started name=%s init_pid=%d isolation=%s", s.name,
		    s.init_pid, s.isolate ? "on" : "off");
		/* The initial revision: compiled, enforced, reported (-> ready). */
		sup_apply_config(&s, s.config);
		sup_gateway_start(&s);
		log_info("sandbox %s running (init pid %d)", s.name, s.init_pid);
	}
	uv_run(s.uv, UV_RUN_DEFAULT);

	os_rpc_server_free(s.exec_server);
	os_rpc_loop_destroy(&s.loop);
	sup_log_free(&s);
	close(s.zfd);
	waitpid(s.zygote_pid, &status, 0);
	if (s.matcher != NULL)
		os_matcher_unref(s.matcher);
	os_denials_free(&s.denials);
	sup_tls_free(&s);
	if (s.config != NULL)
		protobuf_c_message_free_unpacked(&s.config->base, NULL);
	grpc_channel_destroy(s.ch);
	grpc_shutdown_blocking();
	log_info("stopped");
	sup_free(&s);
	return s.exit_code;
fail:
	/* Tell the gateway why, so `sandbox create` can say it. */
	if (s.ch != NULL && s.config != NULL) {
		Openshell__V1__ReportPolicyStatusRequest	req =
		    OPENSHELL__V1__REPORT_POLICY_STATUS_REQUEST__INIT;
		ProtobufCMessage				*resp;
		struct os_error					 e2;
		char						*msg;

		msg = xprintf(_("cannot build the sandbox: %s"), err.msg);
		req.sandbox_id = s.id;
		req.version = s.config->version;
		req.status = OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_FAILED;
		req.load_error = msg;
		if (os_rpc_call_sync(s.ch, "/openshell.v1.OpenShell/ReportPolicyStatus",
		    s.token, &req.base,
		    &openshell__v1__report_policy_status_response__descriptor, &resp,
		    5000, &e2) == GRPC_STATUS_OK)
			protobuf_c_message_free_unpacked(resp, NULL);
		free(msg);
	}
	if (s.zygote_pid > 0)
		kill(s.zygote_pid, SIGKILL);
	return 1;
}
