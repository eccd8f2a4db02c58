/*
 * openshell sandbox create|exec|connect|list|get|delete.
 *
 * `create` asks the gateway for a sandbox, waits (on a watch stream, not
 * by polling) until its supervisor reports it ready, then runs the
 * command, or a login shell, as an exec session. Without --keep the
 * sandbox goes away when that session ends.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define SANDBOX_READY_TIMEOUT_MS	120000

static int	sandbox_create(int, char **);
static int	sandbox_exec(int, char **);
static int	sandbox_connect(int, char **);
static int	sandbox_list(int, char **);
static int	sandbox_get(int, char **);
static int	sandbox_delete(int, char **);

static const struct cli_command sandbox_commands[] = {
	{ "create", N_("create a sandbox and run a command or a shell in it"),
	    sandbox_create },
	{ "exec", N_("run a command in a sandbox"), sandbox_exec },
	{ "connect", N_("open a shell in a sandbox"), sandbox_connect },
	{ "list", N_("list sandboxes"), sandbox_list },
	{ "get", N_("show one sandbox"), sandbox_get },
	{ "delete", N_("stop and delete sandboxes"), sandbox_delete },
};

static void
sandbox_usage(FILE *f)
{
	size_t	i;

	fprintf(f, _("usage: openshell sandbox create [--name NAME] [--policy FILE | --policy-template NAME]\n"
	    "           [--keep] [--detach] [--trusted-cidr CIDR]... [--permissive[=TTL]]\n"
	    "           [--no-auto-providers] [--timeout SECONDS] [-- COMMAND...]\n"
	    "       openshell sandbox exec [-t] [-n] [-e KEY=VALUE]... [-w DIR] NAME [--] COMMAND...\n"
	    "       openshell sandbox connect NAME\n"
	    "       openshell sandbox list [--json]\n"
	    "       openshell sandbox get NAME [--json]\n"
	    "       openshell sandbox delete NAME...\n\nsubcommands:\n"));
	for (i = 0; i < OS_NELEM(sandbox_commands); i++)
		fprintf(f, "  %-10s %s\n", sandbox_commands[i].name,
		    _(sandbox_commands[i].summary));
	fprintf(f, _("\nSee openshell(1).\n"));
}

int
cli_sandbox(int argc, char **argv)
{
	return cli_dispatch(sandbox_commands, OS_NELEM(sandbox_commands), argc,
	    argv, sandbox_usage);
}

/* ------------------------------------------------------------------------
 * Templates: examples/templates/<name>.yaml, installed under pkgdatadir.
 */
static char *
sandbox_template_path(const char *name, struct os_buf *searched)
{
	const char	*dirs[4];
	const char	*e;
	char		*p, *src = NULL;
	size_t		 n = 0, i;

	if ((e = getenv("OPENSHELL_TEMPLATES_DIR")) != NULL && *e != '\0')
		dirs[n++] = e;
	dirs[n++] = PKGDATADIR "/templates";
	if (cli_g.progdir != NULL) {
		/* A build tree inside the source tree (./bootstrap's build/). */
		src = xprintf("%s/../examples/templates", cli_g.progdir);
		dirs[n++] = src;
	}
	if (src == NULL || strcmp(src, OS_TEMPLATES_SRCDIR) != 0)
		dirs[n++] = OS_TEMPLATES_SRCDIR;
	for (i = 0; i < n; i++) {
		p = xprintf("%s/%s.yaml", dirs[i], name);
		if (access(p, R_OK) == 0) {
			free(src);
			return p;
		}
		free(p);
		os_buf_addf(searched, "%s%s", searched->len > 0 ? ", " : "", dirs[i]);
	}
	free(src);
	return NULL;
}

static bool
sandbox_template_name_ok(const char *name)
{
	const char	*p;

	if (*name == '\0')
		return false;
	for (p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '_'))
			return false;
	return true;
}

/* ------------------------------------------------------------------------
 * Waiting for a sandbox to become ready.
 */
struct ready_wait {
	const char	*name;
	char		*error;
	uint32_t	 version;
};

static int
sandbox_on_ready_event(const Openshell__V1__SandboxStreamEvent *ev, void *arg)
{
	struct ready_wait	*w = arg;
	const Openshell__V1__Sandbox *sb;

	if (ev->payload_case == OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_DELETED) {
		w->error = xprintf(_("sandbox '%s' was deleted"), w->name);
		return -1;
	}
	if (ev->payload_case != OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_SANDBOX)
		return 0;
	sb = ev->sandbox;
	switch (sb->phase) {
	case OPENSHELL__V1__SANDBOX_PHASE__SANDBOX_PHASE_READY:
		w->version = sb->active_policy_version;
		return 1;
	case OPENSHELL__V1__SANDBOX_PHASE__SANDBOX_PHASE_ERROR:
	case OPENSHELL__V1__SANDBOX_PHASE__SANDBOX_PHASE_STOPPED:
	case OPENSHELL__V1__SANDBOX_PHASE__SANDBOX_PHASE_DELETING:
		w->error = xprintf(_("sandbox '%s' failed to start (%s)%s%s"),
		    w->name, cli_phase_name(sb->phase),
		    *sb->error_message != '\0' ? ": " : "", sb->error_message);
		return -1;
	default:
		return 0;
	}
}

static int
sandbox_wait_ready(struct cli_conn *c, const char *name, int64_t timeout_ms)
{
	Openshell__V1__WatchSandboxRequest	req =
	    OPENSHELL__V1__WATCH_SANDBOX_REQUEST__INIT;
	struct ready_wait			w = { name, NULL, 0 };
	int					rc;

	req.name = (char *)name;
	req.follow_status = true;
	rc = cli_watch(c, &req, sandbox_on_ready_event, &w, timeout_ms);
	if (rc == CLI_EXIT_TIMEOUT)
		cli_errx(_("sandbox '%s' was not ready within %lld s"), name,
		    (long long)(timeout_ms / 1000));
	else if (w.error != NULL)
		cli_errx("%s", w.error);
	free(w.error);
	return rc;
}

static int
sandbox_delete_one(struct cli_conn *c, const char *name, bool quiet)
{
	Openshell__V1__DeleteSandboxRequest	 req =
	    OPENSHELL__V1__DELETE_SANDBOX_REQUEST__INIT;
	Openshell__V1__DeleteSandboxResponse	*resp = NULL;
	int					 rc;

	req.name = (char *)name;
	rc = cli_call(c, "DeleteSandbox", &req.base,
	    &openshell__v1__delete_sandbox_response__descriptor,
	    (ProtobufCMessage **)&resp);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (!quiet)
		printf(_("sandbox '%s' deleted\n"), name);
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return CLI_EXIT_OK;
}

static char *
sandbox_generate_name(void)
{
	uint8_t	r[3];
	char	hex[7];

	if (os_random_bytes(r, sizeof r) != 0)
		memset(r, 0, sizeof r);
	os_hex_encode(r, sizeof r, hex);
	return xprintf("sandbox-%s", hex);
}

static int
sandbox_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "policy", required_argument, NULL, 'p' },
		{ "policy-template", required_argument, NULL, 'T' },
		{ "keep", no_argument, NULL, 'k' },
		{ "detach", no_argument, NULL, 'd' },
		{ "trusted-cidr", required_argument, NULL, 'c' },
		{ "permissive", optional_argument, NULL, 'P' },
		{ "no-auto-providers", no_argument, NULL, 'N' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	Openshell__V1__CreateSandboxRequest	 req =
	    OPENSHELL__V1__CREATE_SANDBOX_REQUEST__INIT;
	Openshell__V1__SandboxSpec		 spec =
	    OPENSHELL__V1__SANDBOX_SPEC__INIT;
	Openshell__V1__PermissiveRequest	 perm =
	    OPENSHELL__V1__PERMISSIVE_REQUEST__INIT;
	Openshell__V1__CreateSandboxResponse	*resp = NULL;
	struct cli_exec_opts			 xo;
	struct cli_conn				 conn;
	struct os_error				 err;
	struct os_buf				 searched = OS_BUF_INIT;
	const char				*policy_file = NULL, *tmpl = NULL;
	char					*name = NULL, *yaml = NULL;
	char					*tpath = NULL;
	char				       **cidrs = NULL;
	size_t					 ncidrs = 0, len;
	int64_t					 timeout_ms = SANDBOX_READY_TIMEOUT_MS;
	int64_t					 secs;
	bool					 keep = false, detach = false;
	int					 c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			free(name);
			name = xstrdup(optarg);
			break;
		case 'p':
			policy_file = optarg;
			break;
		case 'T':
			tmpl = optarg;
			break;
		case 'k':
			keep = true;
			break;
		case 'd':
			detach = keep = true;
			break;
		case 'c':
			cidrs = xreallocarray(cidrs, ncidrs + 1, sizeof *cidrs);
			cidrs[ncidrs++] = optarg;
			break;
		case 'P':
			perm.enabled = true;
			if (optarg != NULL) {
				if (os_parse_duration(optarg, &secs) != 0 || secs <= 0 ||
				    secs > UINT32_MAX) {
					cli_errx(_("--permissive: invalid TTL '%s' (like 10m, "
					    "1h or seconds)"), optarg);
					rc = CLI_EXIT_USAGE;
					goto out;
				}
				perm.ttl_seconds = (uint32_t)secs;
			}
			break;
		case 'N':
			/* No credential providers exist to attach; accepted so
			 * the documented commands work as written. */
			break;
		case 't':
			if (os_parse_duration(optarg, &secs) != 0 || secs <= 0) {
				cli_errx(_("--timeout: invalid duration '%s'"), optarg);
				rc = CLI_EXIT_USAGE;
				goto out;
			}
			timeout_ms = secs * 1000;
			break;
		case 'h':
			sandbox_usage(stdout);
			rc = CLI_EXIT_OK;
			goto out;
		default:
			sandbox_usage(stderr);
			rc = CLI_EXIT_USAGE;
			goto out;
		}
	}
	if (policy_file != NULL && tmpl != NULL) {
		cli_errx(_("--policy and --policy-template exclude each other"));
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if (name == NULL)
		name = sandbox_generate_name();
	os_error_clear(&err);
	if (tmpl != NULL) {
		if (!sandbox_template_name_ok(tmpl) ||
		    (tpath = sandbox_template_path(tmpl, &searched)) == NULL) {
			cli_errx(_("unknown policy template '%s' (templates: "
			    "python-dev, node-dev, agent-coding; looked in %s)"),
			    tmpl, searched.len > 0 ? searched.data : "-");
			rc = CLI_EXIT_FAIL;
			goto out;
		}
		policy_file = tpath;
	}
	if (policy_file != NULL) {
		if ((yaml = cli_read_file(policy_file, &len, &err)) == NULL) {
			cli_errx("%s", err.msg);
			rc = CLI_EXIT_FAIL;
			goto out;
		}
		spec.policy_yaml = yaml;
		spec.policy_source = (char *)(tmpl != NULL ? tmpl :
		    strcmp(policy_file, "-") == 0 ? "<stdin>" : policy_file);
	}
	spec.trusted_cidrs = cidrs;
	spec.n_trusted_cidrs = ncidrs;
	spec.keep = keep;
	if (perm.enabled)
		spec.permissive = &perm;
	spec.command = argv + optind;
	spec.n_command = (size_t)(argc - optind);
	req.name = name;
	req.spec = &spec;

	if ((rc = cli_connect(&conn)) != CLI_EXIT_OK)
		goto out;
	rc = cli_call(&conn, "CreateSandbox", &req.base,
	    &openshell__v1__create_sandbox_response__descriptor,
	    (ProtobufCMessage **)&resp);
	if (rc != CLI_EXIT_OK) {
		cli_conn_close(&conn);
		goto out;
	}
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	fprintf(stderr, _("Created sandbox '%s'; waiting for it to be ready...\n"),
	    name);
	if ((rc = sandbox_wait_ready(&conn, name, timeout_ms)) != CLI_EXIT_OK) {
		if (!keep)
			sandbox_delete_one(&conn, name, true);
		cli_conn_close(&conn);
		goto out;
	}
	if (perm.enabled)
		fprintf(stderr, _("Sandbox '%s' is ready, in permissive mode: denials "
		    "are logged and allowed until the session's TTL ends.\n"), name);
	else
		fprintf(stderr, _("Sandbox '%s' is ready.\n"), name);
	if (detach) {
		printf("%s\n", name);
		cli_conn_close(&conn);
		goto out;
	}
	memset(&xo, 0, sizeof xo);
	xo.sandbox = name;
	xo.argv = argv + optind;
	xo.argc = (size_t)(argc - optind);
	xo.tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	rc = cli_exec_run(&conn, &xo);
	if (!keep) {
		if (sandbox_delete_one(&conn, name, true) == CLI_EXIT_OK)
			fprintf(stderr, _("Sandbox '%s' deleted (create it with "
			    "--keep to keep it).\n"), name);
	} else if (xo.argc == 0)
		fprintf(stderr, _("Sandbox '%s' keeps running: 'openshell sandbox "
		    "connect %s' opens a new shell.\n"), name, name);
	cli_conn_close(&conn);
out:
	free(name);
	free(yaml);
	free(tpath);
	free(cidrs);
	os_buf_free(&searched);
	return rc;
}

static int
sandbox_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tty", no_argument, NULL, 't' },
		{ "no-stdin", no_argument, NULL, 'n' },
		{ "env", required_argument, NULL, 'e' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_exec_opts	 xo;
	struct cli_conn		 conn;
	char		       **env = NULL;
	size_t			 nenv = 0;
	bool			 no_stdin = false;
	int			 c, rc, devnull;

	memset(&xo, 0, sizeof xo);
	optind = 0;
	/* '+': options end at NAME, so the command keeps its own. */
	while ((c = getopt_long(argc, argv, "+htne:w:", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			xo.tty = true;
			break;
		case 'n':
			no_stdin = true;
			break;
		case 'e':
			if (strchr(optarg, '=') == NULL || *optarg == '=') {
				cli_errx(_("--env: expected KEY=VALUE, not '%s'"), optarg);
				free(env);
				return CLI_EXIT_USAGE;
			}
			env = xreallocarray(env, nenv + 1, sizeof *env);
			env[nenv++] = optarg;
			break;
		case 'w':
			xo.workdir = optarg;
			break;
		case 'h':
			sandbox_usage(stdout);
			free(env);
			return CLI_EXIT_OK;
		default:
			sandbox_usage(stderr);
			free(env);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cli_errx(_("sandbox exec: missing NAME"));
		free(env);
		return CLI_EXIT_USAGE;
	}
	xo.sandbox = argv[optind++];
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if (optind >= argc) {
		cli_errx(_("sandbox exec: missing COMMAND (use 'sandbox connect "
		    "%s' for a shell)"), xo.sandbox);
		free(env);
		return CLI_EXIT_USAGE;
	}
	xo.argv = argv + optind;
	xo.argc = (size_t)(argc - optind);
	xo.env = env;
	xo.nenv = nenv;
	if (no_stdin && (devnull = open("/dev/null", O_RDONLY)) >= 0) {
		dup2(devnull, STDIN_FILENO);
		close(devnull);
	}
	if ((rc = cli_connect(&conn)) == CLI_EXIT_OK) {
		rc = cli_exec_run(&conn, &xo);
		cli_conn_close(&conn);
	}
	free(env);
	return rc;
}

static int
sandbox_connect(int argc, char **argv)
{
	struct cli_exec_opts	xo;
	struct cli_conn		conn;
	int			rc;

	if (cli_wants_help(argc, argv)) {
		sandbox_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (argc != 2) {
		cli_errx(_("usage: openshell sandbox connect NAME"));
		return CLI_EXIT_USAGE;
	}
	memset(&xo, 0, sizeof xo);
	xo.sandbox = argv[1];
	xo.tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	if ((rc = cli_connect(&conn)) == CLI_EXIT_OK) {
		rc = cli_exec_run(&conn, &xo);
		cli_conn_close(&conn);
	}
	return rc;
}

static bool
sandbox_json_flag(int argc, char **argv, int *rc, int nargs, char ***args)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool	json = false;
	int	c;

	*rc = -1;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			sandbox_usage(stdout);
			*rc = CLI_EXIT_OK;
			return false;
		default:
			sandbox_usage(stderr);
			*rc = CLI_EXIT_USAGE;
			return false;
		}
	}
	if (argc - optind != nargs) {
		cli_errx(nargs == 0 ? _("%s takes no arguments") :
		    _("%s: expected NAME"), argv[0]);
		*rc = CLI_EXIT_USAGE;
		return false;
	}
	*args = argv + optind;
	return json;
}

static void
sandbox_policy_cell(const Openshell__V1__Sandbox *sb, char *buf, size_t len)
{
	if (sb->policy_version == 0)
		snprintf(buf, len, "-");
	else if (sb->active_policy_version == sb->policy_version)
		snprintf(buf, len, "v%u", sb->policy_version);
	else if (sb->active_policy_version == 0)
		snprintf(buf, len, _("v%u (none loaded)"), sb->policy_version);
	else
		snprintf(buf, len, _("v%u (v%u loaded)"), sb->policy_version,
		    sb->active_policy_version);
}

static int
sandbox_list(int argc, char **argv)
{
	Openshell__V1__ListSandboxesRequest	 req =
	    OPENSHELL__V1__LIST_SANDBOXES_REQUEST__INIT;
	Openshell__V1__ListSandboxesResponse	*resp = NULL;
	struct cli_conn				 conn;
	struct cli_table			*t;
	const char				*hdr[] = {
		_("NAME"), _("PHASE"), _("POLICY"), _("PENDING"), _("CREATED"),
		_("NOTE"),
	};
	char					 pol[64], pend[16], created[64];
	char					 note[256], **args;
	bool					 json;
	size_t					 i;
	int					 rc;

	json = sandbox_json_flag(argc, argv, &rc, 0, &args);
	if (rc >= 0)
		return rc;
	if ((rc = cli_connect(&conn)) != CLI_EXIT_OK)
		return rc;
	rc = cli_call(&conn, "ListSandboxes", &req.base,
	    &openshell__v1__list_sandboxes_response__descriptor,
	    (ProtobufCMessage **)&resp);
	if (rc == CLI_EXIT_OK && json)
		cli_print_json(&resp->base);
	else if (rc == CLI_EXIT_OK) {
		t = cli_table_new(hdr, OS_NELEM(hdr));
		for (i = 0; i < resp->n_sandboxes; i++) {
			const Openshell__V1__Sandbox *sb = resp->sandboxes[i];
			const char *row[6];

			sandbox_policy_cell(sb, pol, sizeof pol);
			snprintf(pend, sizeof pend, "%u", sb->pending_chunks);
			cli_fmt_ago(sb->created_at_ms, created, sizeof created);
			note[0] = '\0';
			if (sb->permissive != NULL && sb->permissive->enabled) {
				char left[64];

				cli_fmt_ago(sb->permissive->expires_at_ms, left,
				    sizeof left);
				snprintf(note, sizeof note, _("permissive, ends %s"),
				    left);
			} else if (*sb->error_message != '\0')
				snprintf(note, sizeof note, "%s", sb->error_message);
			row[0] = sb->name;
			row[1] = cli_phase_name(sb->phase);
			row[2] = pol;
			row[3] = pend;
			row[4] = created;
			row[5] = note;
			cli_table_add(t, row);
		}
		cli_table_print(t, stdout);
	}
	if (resp != NULL)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	cli_conn_close(&conn);
	return rc;
}

static int
sandbox_get(int argc, char **argv)
{
	Openshell__V1__GetSandboxRequest	 req =
	    OPENSHELL__V1__GET_SANDBOX_REQUEST__INIT;
	Openshell__V1__GetSandboxResponse	*resp = NULL;
	const Openshell__V1__Sandbox		*sb;
	struct cli_conn				 conn;
	char					 buf[64], pol[64], **args;
	bool					 json;
	size_t					 i;
	int					 rc;

	json = sandbox_json_flag(argc, argv, &rc, 1, &args);
	if (rc >= 0)
		return rc;
	if ((rc = cli_connect(&conn)) != CLI_EXIT_OK)
		return rc;
	req.name = args[0];
	rc = cli_call(&conn, "GetSandbox", &req.base,
	    &openshell__v1__get_sandbox_response__descriptor,
	    (ProtobufCMessage **)&resp);
	if (rc == CLI_EXIT_OK && json)
		cli_print_json(&resp->base);
	else if (rc == CLI_EXIT_OK && (sb = resp->sandbox) != NULL) {
		printf(_("name:        %s\n"), sb->name);
		printf(_("id:          %s\n"), sb->id);
		printf(_("phase:       %s\n"), cli_phase_name(sb->phase));
		if (*sb->error_message != '\0') {
			char *e = cli_safe(sb->error_message);

			printf(_("error:       %s\n"), e);
			free(e);
		}
		cli_fmt_time(sb->created_at_ms, buf, sizeof buf);
		printf(_("created:     %s\n"), buf);
		sandbox_policy_cell(sb, pol, sizeof pol);
		printf(_("policy:      %s%s%.12s\n"), pol,
		    *sb->policy_hash != '\0' ? " sha256:" : "", sb->policy_hash);
		printf(_("pending:     %u chunk(s)\n"), sb->pending_chunks);
		printf(_("keep:        %s\n"), sb->keep ? _("yes") : _("no"));
		if (sb->supervisor_pid > 0)
			printf(_("supervisor:  pid %d\n"), sb->supervisor_pid);
		if (sb->exit != NULL)
			printf(_("exited:      status %d, signal %d\n"),
			    sb->exit->code, sb->exit->signal);
		for (i = 0; i < sb->n_trusted_cidrs; i++)
			printf(_("trusted:     %s\n"), sb->trusted_cidrs[i]);
		if (sb->permissive != NULL && sb->permissive->enabled) {
			cli_fmt_ago(sb->permissive->expires_at_ms, buf, sizeof buf);
			printf(_("permissive:  yes, ends %s\n"), buf);
		}
	}
	if (resp != NULL)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	cli_conn_close(&conn);
	return rc;
}

static int
sandbox_delete(int argc, char **argv)
{
	struct cli_conn	conn;
	int		i, rc, worst = CLI_EXIT_OK;

	if (cli_wants_help(argc, argv)) {
		sandbox_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (argc < 2) {
		cli_errx(_("sandbox delete: missing NAME"));
		return CLI_EXIT_USAGE;
	}
	if ((rc = cli_connect(&conn)) != CLI_EXIT_OK)
		return rc;
	for (i = 1; i < argc; i++)
		if ((rc = sandbox_delete_one(&conn, argv[i], false)) != CLI_EXIT_OK)
			worst = rc;
	cli_conn_close(&conn);
	return worst;
}
