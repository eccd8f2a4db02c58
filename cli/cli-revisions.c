/*
 * openshell policy set|get|list: a sandbox's policy revisions on the
 * gateway. `set --wait` follows the sandbox's watch stream until the
 * supervisor reports the new revision loaded (0) or failed (1), or the
 * timeout passes (124).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define POLICY_WAIT_TIMEOUT_S	60

static void
revisions_usage(FILE *f)
{
	fprintf(f, _("usage: openshell policy set NAME --policy FILE [--wait [--timeout SECONDS]]\n"
	    "       openshell policy get NAME [--version N] [--yaml | --json]\n"
	    "       openshell policy list NAME [--limit N] [--json]\n"
	    "\n'policy set --wait' exits 0 once the sandbox enforces the new "
	    "revision,\n1 if it failed to load (or the policy is invalid), "
	    "124 on timeout.\n"));
}

struct policy_wait {
	uint32_t	 version;
	const char	*name;
	char		*error;
};

static int
policy_on_event(const Openshell__V1__SandboxStreamEvent *ev, void *arg)
{
	struct policy_wait			*w = arg;
	const Openshell__V1__SandboxPolicyRevision *r;
	const Openshell__V1__Sandbox		*sb;

	switch (ev->payload_case) {
	case OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_POLICY_REVISION:
		if ((r = ev->policy_revision->revision) == NULL)
			return 0;
		if (r->version == w->version) {
			switch (r->status) {
			case OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_LOADED:
				return 1;
			case OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_FAILED:
				w->error = xprintf(_("sandbox '%s' failed to load policy "
				    "version %u: %s"), w->name, w->version,
				    *r->load_error != '\0' ? r->load_error : "?");
				return -1;
			case OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_SUPERSEDED:
				break;
			default:
				return 0;
			}
		} else if (r->version < w->version ||
		    ev->policy_revision->active_version < w->version)
			return 0;
		/* Ours was replaced before the sandbox got to it. */
		w->error = xprintf(_("policy version %u of sandbox '%s' was "
		    "superseded by version %u before it loaded"), w->version,
		    w->name, r->version);
		return -1;
	case OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_SANDBOX:
		sb = ev->sandbox;
		if (sb->active_policy_version == w->version)
			return 1;
		if (sb->phase == OPENSHELL__V1__SANDBOX_PHASE__SANDBOX_PHASE_ERROR ||
		    sb->phase == OPENSHELL__V1__SANDBOX_PHASE__SANDBOX_PHASE_STOPPED) {
			w->error = xprintf(_("sandbox '%s' is %s%s%s"), w->name,
			    sb->phase == OPENSHELL__V1__SANDBOX_PHASE__SANDBOX_PHASE_ERROR ?
			    _("in error") : cli_phase_name(sb->phase),
			    *sb->error_message != '\0' ? ": " : "",
			    sb->error_message);
			return -1;
		}
		return 0;
	case OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_DELETED:
		w->error = xprintf(_("sandbox '%s' was deleted"), w->name);
		return -1;
	default:
		return 0;
	}
}

int
cli_policy_set(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "wait", no_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	Openshell__V1__UpdateConfigRequest	 req =
	    OPENSHELL__V1__UPDATE_CONFIG_REQUEST__INIT;
	Openshell__V1__UpdateConfigResponse	*resp = NULL;
	Openshell__V1__WatchSandboxRequest	 wreq =
	    OPENSHELL__V1__WATCH_SANDBOX_REQUEST__INIT;
	struct policy_wait			 w;
	struct cli_conn				 conn;
	struct os_error				 err;
	const char				*file = NULL;
	char					*yaml;
	int64_t					 timeout_s = POLICY_WAIT_TIMEOUT_S;
	size_t					 len, i;
	bool					 wait = false;
	int					 c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			file = optarg;
			break;
		case 'w':
			wait = true;
			break;
		case 't':
			if (os_parse_duration(optarg, &timeout_s) != 0 ||
			    timeout_s <= 0) {
				cli_errx(_("--timeout: invalid duration '%s'"), optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'h':
			revisions_usage(stdout);
			return CLI_EXIT_OK;
		default:
			revisions_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 1 || file == NULL) {
		cli_errx(argc - optind != 1 ? _("policy set: expected one sandbox NAME") :
		    _("policy set: --policy FILE is required"));
		revisions_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	os_error_clear(&err);
	if ((yaml = cli_read_file(file, &len, &err)) == NULL) {
		cli_errx("%s", err.msg);
		return CLI_EXIT_FAIL;
	}
	req.name = argv[optind];
	req.policy_yaml = yaml;
	req.policy_file = (char *)(strcmp(file, "-") == 0 ? "<stdin>" : file);
	if ((rc = cli_connect(&conn)) != CLI_EXIT_OK) {
		free(yaml);
		return rc;
	}
	rc = cli_call(&conn, "UpdateConfig", &req.base,
	    &openshell__v1__update_config_response__descriptor,
	    (ProtobufCMessage **)&resp);
	free(yaml);
	if (rc != CLI_EXIT_OK) {
		cli_conn_close(&conn);
		return rc;
	}
	for (i = 0; i < resp->n_notes; i++)
		fprintf(stderr, "%s\n", resp->notes[i]);
	if (resp->unchanged)
		printf(_("sandbox '%s': policy unchanged (version %u, sha256:%.12s)\n"),
		    argv[optind], resp->version, resp->policy_hash);
	else
		printf(_("sandbox '%s': policy version %u (sha256:%.12s)\n"),
		    argv[optind], resp->version, resp->policy_hash);
	fflush(stdout);
	if (wait) {
		w.version = resp->version;
		w.name = argv[optind];
		w.error = NULL;
		wreq.name = argv[optind];
		wreq.follow_policy = true;
		wreq.follow_status = true;
		rc = cli_watch(&conn, &wreq, policy_on_event, &w, timeout_s * 1000);
		if (rc == CLI_EXIT_OK)
			printf(_("sandbox '%s': version %u loaded and enforced\n"),
			    argv[optind], w.version);
		else if (rc == CLI_EXIT_TIMEOUT)
			cli_errx(_("sandbox '%s' did not report version %u loaded "
			    "within %llds"), argv[optind], w.version,
			    (long long)timeout_s);
		else if (w.error != NULL)
			cli_errx("%s", w.error);
		free(w.error);
	}
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	cli_conn_close(&conn);
	return rc;
}

int
cli_policy_get(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "version", required_argument, NULL, 'v' },
		{ "yaml", no_argument, NULL, 'y' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	Openshell__V1__GetSandboxPolicyStatusRequest	 req =
	    OPENSHELL__V1__GET_SANDBOX_POLICY_STATUS_REQUEST__INIT;
	Openshell__V1__GetSandboxPolicyStatusResponse	*resp = NULL;
	const Openshell__V1__SandboxPolicyRevision	*r;
	struct cli_conn					 conn;
	char						 t[64], *end;
	bool						 yaml = false, json = false;
	long						 v;
	int						 c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			v = strtol(optarg, &end, 10);
			if (*end != '\0' || v <= 0 || v > UINT32_MAX) {
				cli_errx(_("--version: expected a revision number, not "
				    "'%s'"), optarg);
				return CLI_EXIT_USAGE;
			}
			req.version = (uint32_t)v;
			break;
		case 'y':
			yaml = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			revisions_usage(stdout);
			return CLI_EXIT_OK;
		default:
			revisions_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		cli_errx(_("policy get: expected one sandbox NAME"));
		return CLI_EXIT_USAGE;
	}
	req.name = argv[optind];
	req.include_policy = true;
	if ((rc = cli_connect(&conn)) != CLI_EXIT_OK)
		return rc;
	rc = cli_call(&conn, "GetSandboxPolicyStatus", &req.base,
	    &openshell__v1__get_sandbox_policy_status_response__descriptor,
	    (ProtobufCMessage **)&resp);
	if (rc == CLI_EXIT_OK && (r = resp->revision) != NULL) {
		if (json)
			cli_print_json(&resp->base);
		else if (yaml)
			fputs(r->policy_yaml, stdout);
		else {
			cli_fmt_time(r->created_at_ms, t, sizeof t);
			printf(_("version:  %u%s\n"), r->version,
			    resp->active_version == r->version ? _(" (active)") : "");
			printf(_("hash:     sha256:%s\n"), r->policy_hash);
			printf(_("status:   %s\n"), cli_policy_status_name(r->status));
			if (*r->load_error != '\0') {
				char *e = cli_safe(r->load_error);

				printf(_("error:    %s\n"), e);
				free(e);
			}
			printf(_("origin:   %s\n"), r->origin);
			printf(_("created:  %s\n"), t);
			printf("---\n%s", r->policy_yaml);
		}
	}
	if (resp != NULL)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	cli_conn_close(&conn);
	return rc;
}

int
cli_policy_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	Openshell__V1__ListSandboxPoliciesRequest	 req =
	    OPENSHELL__V1__LIST_SANDBOX_POLICIES_REQUEST__INIT;
	Openshell__V1__ListSandboxPoliciesResponse	*resp = NULL;
	struct cli_conn					 conn;
	struct cli_table				*t;
	const char					*hdr[] = {
		_("VERSION"), _("HASH"), _("STATUS"), _("CREATED"), _("ORIGIN"),
		_("ERROR"),
	};
	char						 ver[16], hash[16], created[64];
	char						*end;
	bool						 json = false;
	size_t						 i;
	long						 v;
	int						 c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			v = strtol(optarg, &end, 10);
			if (*end != '\0' || v <= 0 || v > 100000) {
				cli_errx(_("--limit: expected a positive number, not '%s'"),
				    optarg);
				return CLI_EXIT_USAGE;
			}
			req.limit = (uint32_t)v;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			revisions_usage(stdout);
			return CLI_EXIT_OK;
		default:
			revisions_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		cli_errx(_("policy list: expected one sandbox NAME"));
		return CLI_EXIT_USAGE;
	}
	req.name = argv[optind];
	if ((rc = cli_connect(&conn)) != CLI_EXIT_OK)
		return rc;
	rc = cli_call(&conn, "ListSandboxPolicies", &req.base,
	    &openshell__v1__list_sandbox_policies_response__descriptor,
	    (ProtobufCMessage **)&resp);
	if (rc == CLI_EXIT_OK && json)
		cli_print_json(&resp->base);
	else if (rc == CLI_EXIT_OK) {
		t = cli_table_new(hdr, OS_NELEM(hdr));
		for (i = 0; i < resp->n_revisions; i++) {
			const Openshell__V1__SandboxPolicyRevision *r = resp->revisions[i];
			const char *row[6];

			snprintf(ver, sizeof ver, "%u", r->version);
			snprintf(hash, sizeof hash, "%.12s", r->policy_hash);
			cli_fmt_time(r->created_at_ms, created, sizeof created);
			row[0] = ver;
			row[1] = hash;
			row[2] = cli_policy_status_name(r->status);
			row[3] = created;
			row[4] = r->origin;
			row[5] = r->load_error;
			cli_table_add(t, row);
		}
		cli_table_print(t, stdout);
	}
	if (resp != NULL)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	cli_conn_close(&conn);
	return rc;
}
