/*
 * openshell gateway start|stop|status: run openshell-gateway in the
 * background on a state directory and wait until it serves; stop it;
 * report what it is doing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

#define GATEWAY_START_TIMEOUT_MS	15000
#define GATEWAY_STOP_TIMEOUT_MS		15000

static int	gateway_start(int, char **);
static int	gateway_stop(int, char **);
static int	gateway_status(int, char **);

static const struct cli_command gateway_commands[] = {
	{ "start", N_("start the gateway in the background"), gateway_start },
	{ "stop", N_("stop the gateway (sandboxes keep running)"), gateway_stop },
	{ "status", N_("show whether the gateway runs, and what it serves"),
	    gateway_status },
};

static void
gateway_usage(FILE *f)
{
	size_t	i;

	fprintf(f, _("usage: openshell gateway start [--listen HOST:PORT]... [--tls]\n"
	    "           [--hosts-file FILE] [--dns system|hosts-only] [--upstream-ca FILE]\n"
	    "           [--log-level LEVEL]\n"
	    "       openshell gateway stop\n"
	    "       openshell gateway status [--json]\n\nsubcommands:\n"));
	for (i = 0; i < OS_NELEM(gateway_commands); i++)
		fprintf(f, "  %-10s %s\n", gateway_commands[i].name,
		    _(gateway_commands[i].summary));
	fprintf(f, _("\nThe state directory is --state-dir, $OPENSHELL_STATE_DIR, "
	    "/var/lib/openshell as root, else ~/.local/state/openshell.\n"
	    "See openshell-gateway(8).\n"));
}

int
cli_gateway(int argc, char **argv)
{
	/* start and stop act on this machine's state directory: with
	 * --gateway they would start or stop a local gateway the user did
	 * not mean. */
	if (cli_g.gateway != NULL && argc > 1 && (strcmp(argv[1], "start") == 0 ||
	    strcmp(argv[1], "stop") == 0) && !cli_wants_help(argc - 1, argv + 1)) {
		cli_errx(_("gateway %s manages the gateway of a local state "
		    "directory; it does not take --gateway %s"), argv[1],
		    cli_g.gateway);
		return CLI_EXIT_USAGE;
	}
	return cli_dispatch(gateway_commands, OS_NELEM(gateway_commands), argc,
	    argv, gateway_usage);
}

/* The gateway binary: beside this one (a build tree), else installed. */
static char *
gateway_binary(void)
{
	const char	*e;
	char		*p;

	if ((e = getenv("OPENSHELL_GATEWAY_BIN")) != NULL && *e != '\0')
		return xstrdup(e);
	if (cli_g.progdir != NULL) {
		p = xprintf("%s/openshell-gateway", cli_g.progdir);
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return xstrdup(BINDIR "/openshell-gateway");
}

/* The pid in <state>/gateway.pid if that process is a gateway, else 0. */
static pid_t
gateway_running_pid(const char *state_dir)
{
	struct os_error	 err;
	char		*path, *text, *cmd;
	size_t		 len;
	long		 pid;

	path = xprintf("%s/gateway.pid", state_dir);
	text = cli_read_file(path, &len, &err);
	free(path);
	if (text == NULL)
		return 0;
	pid = strtol(text, NULL, 10);
	free(text);
	if (pid <= 0 || kill((pid_t)pid, 0) < 0)
		return 0;
	/* A stale pid file may name a recycled pid. */
	path = xprintf("/proc/%ld/cmdline", pid);
	cmd = cli_read_file(path, &len, &err);
	free(path);
	if (cmd == NULL)
		return 0;
	if (memmem(cmd, len, "openshell-gateway", 17) == NULL)
		pid = 0;
	free(cmd);
	return (pid_t)pid;
}

static void
gateway_show_log_tail(const char *state_dir)
{
	struct os_error	 err;
	char		*path, *text, *p;
	size_t		 len;
	int		 lines = 0;

	path = xprintf("%s/gateway.log", state_dir);
	text = cli_read_file(path, &len, &err);
	if (text == NULL) {
		free(path);
		return;
	}
	for (p = text + len; p > text; p--) {
		if (p[-1] == '\n' && p != text + len && ++lines == 10)
			break;
	}
	fprintf(stderr, _("last lines of %s:\n%s"), path, p);
	free(text);
	free(path);
}

/*
 * Whether a process still runs. A gateway that has exited stays a zombie
 * until init reaps it, which some inits do only now and then; by then it
 * holds no lock, socket or file.
 */
static bool
gateway_pid_alive(pid_t pid)
{
	struct os_error	 err;
	char		*path, *stat, *p;
	size_t		 len;
	bool		 alive;

	if (kill(pid, 0) < 0)
		return errno != ESRCH;
	path = xprintf("/proc/%d/stat", (int)pid);
	stat = cli_read_file(path, &len, &err);
	free(path);
	if (stat == NULL)
		return true;
	/* "pid (comm) S ...": the state follows the last ')'. */
	p = strrchr(stat, ')');
	alive = p == NULL || p[1] != ' ' || (p[2] != 'Z' && p[2] != 'X');
	free(stat);
	return alive;
}

/* The pid in <state>/gateway.pid, alive or not; 0 when there is none. */
static pid_t
gateway_pid_file(const char *state_dir)
{
	struct os_error	 err;
	char		*path, *text;
	size_t		 len;
	long		 pid;

	path = xprintf("%s/gateway.pid", state_dir);
	text = cli_read_file(path, &len, &err);
	free(path);
	if (text == NULL)
		return 0;
	pid = strtol(text, NULL, 10);
	free(text);
	return pid > 0 ? (pid_t)pid : 0;
}

/* The gateway we started wrote its pid file and is gone again. */
static bool
gateway_died(const char *state_dir, pid_t stale)
{
	pid_t	pid = gateway_pid_file(state_dir);

	return pid != 0 && pid != stale && !gateway_pid_alive(pid);
}

/*
 * Polls Health until the gateway answers or the deadline passes; gives up
 * at once when the gateway (not the one of the stale pid file a crash left
 * behind) exits before it serves.
 */
static bool
gateway_wait_serving(const char *state_dir, pid_t stale, bool *died)
{
	Openshell__V1__HealthRequest	 req = OPENSHELL__V1__HEALTH_REQUEST__INIT;
	ProtobufCMessage		*resp;
	struct cli_conn			 c;
	struct os_error			 err;
	int64_t				 deadline;
	bool				 ok = false;
	char				*tok;

	*died = false;
	deadline = os_mono_ms() + GATEWAY_START_TIMEOUT_MS;
	tok = xprintf("%s/gateway.sock", state_dir);
	while (os_mono_ms() < deadline) {
		struct stat st;

		if (stat(tok, &st) == 0)
			break;
		if ((*died = gateway_died(state_dir, stale)))
			break;
		usleep(20000);
	}
	free(tok);
	if (*died || cli_connect(&c) != CLI_EXIT_OK)
		return false;
	while (!ok && os_mono_ms() < deadline) {
		if ((*died = gateway_died(state_dir, stale)))
			break;
		resp = NULL;
		os_error_clear(&err);
		if (cli_call_quiet(&c, "Health", &req.base,
		    &openshell__v1__health_response__descriptor, &resp, 1000,
		    &err) == GRPC_STATUS_OK) {
			protobuf_c_message_free_unpacked(resp, NULL);
			ok = true;
		} else
			usleep(50000);
	}
	cli_conn_close(&c);
	return ok;
}

static int
gateway_start(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "tls", no_argument, NULL, 't' },
		{ "hosts-file", required_argument, NULL, 'H' },
		{ "dns", required_argument, NULL, 'D' },
		{ "upstream-ca", required_argument, NULL, 'C' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char		**av;
	char		 *bin, *state;
	size_t		  n = 0, i;
	pid_t		  pid, running, stale;
	bool		  died;
	int		  c, status;

	av = xcalloc((size_t)argc * 2 + 8, sizeof *av);
	bin = gateway_binary();
	state = cli_state_dir();
	av[n++] = bin;
	av[n++] = xstrdup("--state-dir");
	av[n++] = state;
	av[n++] = xstrdup("--daemon");
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			av[n++] = xstrdup("--listen");
			av[n++] = xstrdup(optarg);
			break;
		case 't':
			av[n++] = xstrdup("--tls");
			break;
		case 'H':
			av[n++] = xstrdup("--hosts-file");
			av[n++] = cli_abspath(optarg);
			break;
		case 'D':
			av[n++] = xstrdup("--dns");
			av[n++] = xstrdup(optarg);
			break;
		case 'C':
			av[n++] = xstrdup("--upstream-ca");
			av[n++] = cli_abspath(optarg);
			break;
		case 'L':
			av[n++] = xstrdup("--log-level");
			av[n++] = xstrdup(optarg);
			break;
		case 'h':
			gateway_usage(stdout);
			os_strv_free(av, n);
			return CLI_EXIT_OK;
		default:
			gateway_usage(stderr);
			os_strv_free(av, n);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		cli_errx(_("gateway start: unexpected argument '%s'"), argv[optind]);
		os_strv_free(av, n);
		return CLI_EXIT_USAGE;
	}
	if ((running = gateway_running_pid(state)) > 0) {
		cli_errx(_("a gateway (pid %d) is already running on state "
		    "directory %s"), (int)running, state);
		os_strv_free(av, n);
		return CLI_EXIT_FAIL;
	}
	stale = gateway_pid_file(state);
	fflush(NULL);
	if ((pid = fork()) < 0) {
		cli_errx(_("fork: %s"), strerror(errno));
		os_strv_free(av, n);
		return CLI_EXIT_FAIL;
	}
	if (pid == 0) {
		execv(av[0], av);
		cli_errx(_("cannot run %s: %s"), av[0], strerror(errno));
		_exit(127);
	}
	/* The gateway forks into the background once its state directory is
	 * locked; its own exit status says whether that went well. */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		os_strv_free(av, n);
		return CLI_EXIT_FAIL;
	}
	cli_g.state_dir = state;
	if (!gateway_wait_serving(state, stale, &died)) {
		if (died)
			cli_errx(_("the gateway exited before it started serving"));
		else
			cli_errx(_("the gateway did not start serving within %d s"),
			    GATEWAY_START_TIMEOUT_MS / 1000);
		gateway_show_log_tail(state);
		cli_g.state_dir = NULL;
		os_strv_free(av, n);
		return CLI_EXIT_FAIL;
	}
	running = gateway_running_pid(state);
	printf(_("gateway started (pid %d), state directory %s\n"), (int)running,
	    state);
	for (i = 0; i < n; i++)
		if (strcmp(av[i], "--listen") == 0 && i + 1 < n)
			printf(_("  listening on %s (mTLS; operator certificate in "
			    "%s/tls)\n"), av[i + 1], state);
	cli_g.state_dir = NULL;
	os_strv_free(av, n);
	return CLI_EXIT_OK;
}

static int
gateway_stop(int argc, char **argv)
{
	int64_t	 deadline;
	pid_t	 pid;
	char	*state;

	if (cli_wants_help(argc, argv)) {
		gateway_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (argc != 1) {
		gateway_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	state = cli_state_dir();
	if ((pid = gateway_running_pid(state)) == 0) {
		printf(_("no gateway is running on %s\n"), state);
		free(state);
		return CLI_EXIT_OK;
	}
	if (kill(pid, SIGTERM) < 0) {
		cli_errx(_("cannot stop the gateway (pid %d): %s"), (int)pid,
		    strerror(errno));
		free(state);
		return CLI_EXIT_FAIL;
	}
	deadline = os_mono_ms() + GATEWAY_STOP_TIMEOUT_MS;
	while (gateway_pid_alive(pid) && os_mono_ms() < deadline)
		usleep(20000);
	if (gateway_pid_alive(pid)) {
		cli_errx(_("the gateway (pid %d) did not stop within %d s"),
		    (int)pid, GATEWAY_STOP_TIMEOUT_MS / 1000);
		free(state);
		return CLI_EXIT_FAIL;
	}
	printf(_("gateway stopped (pid %d)\n"), (int)pid);
	free(state);
	return CLI_EXIT_OK;
}

static int
gateway_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	Openshell__V1__GetGatewayInfoRequest	 req =
	    OPENSHELL__V1__GET_GATEWAY_INFO_REQUEST__INIT;
	Openshell__V1__GetGatewayInfoResponse	*info = NULL;
	struct cli_conn				 conn;
	char					 up[64], started[64];
	bool					 json = false;
	size_t					 i;
	int					 c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			gateway_usage(stdout);
			return CLI_EXIT_OK;
		default:
			gateway_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if ((rc = cli_connect(&conn)) != CLI_EXIT_OK)
		return rc;
	rc = cli_call(&conn, "GetGatewayInfo", &req.base,
	    &openshell__v1__get_gateway_info_response__descriptor,
	    (ProtobufCMessage **)&info);
	if (rc == CLI_EXIT_OK) {
		if (json)
			cli_print_json(&info->base);
		else {
			cli_fmt_duration(info->uptime_ms, up, sizeof up);
			cli_fmt_time(info->started_at_ms, started, sizeof started);
			printf(_("gateway:     running (pid %d)\n"), info->pid);
			printf(_("version:     %s\n"), info->version);
			printf(_("uptime:      %s (since %s)\n"), up, started);
			printf(_("state dir:   %s\n"), info->state_dir);
			printf(_("sandboxes:   %u\n"), info->sandboxes);
			for (i = 0; i < info->n_listen_addresses; i++)
				printf(_("listening:   %s\n"), info->listen_addresses[i]);
		}
		protobuf_c_message_free_unpacked(&info->base, NULL);
	}
	cli_conn_close(&conn);
	return rc;
}
