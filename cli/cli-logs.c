/*
 * openshell logs NAME: a sandbox's decision and event lines, from the
 * gateway's ring (optionally since a time, from a level up), or followed
 * live over a watch stream. --json turns each line into one JSON object
 * with OCSF-style names (time, severity, action, disposition,
 * dst_endpoint, process, http_request) for SIEM pipelines.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

struct logs_opts {
	bool	json;
	bool	follow;
};

static void
logs_usage(FILE *f)
{
	fprintf(f, _("usage: openshell logs NAME [--since DURATION] [--level LEVEL] "
	    "[-n LINES] [-f] [--json]\n\n"
	    "  --since 5m      lines from the last 5 minutes (s, m, h, d)\n"
	    "  --level warn    only this level and more severe (error, warn, info, debug)\n"
	    "  -n, --lines N   at most N lines (default 1000)\n"
	    "  -f, --follow    keep printing new lines as they arrive\n"
	    "  --json          one JSON object per line (OCSF-style fields)\n"));
}

static void
logs_iso_time(int64_t ms, char *buf, size_t len)
{
	struct tm	tm;
	time_t		t = (time_t)(ms / 1000);
	char		s[32];

	gmtime_r(&t, &tm);
	strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", s, (int)(ms % 1000));
}

/* OCSF severity: 1 informational, 3 medium, 4 high. */
static void
logs_severity(const char *level, const char **name, int *id)
{
	if (strcmp(level, "error") == 0) {
		*name = "High";
		*id = 4;
	} else if (strcmp(level, "warn") == 0) {
		*name = "Medium";
		*id = 3;
	} else {
		*name = "Informational";
		*id = 1;
	}
}

static void
logs_json_kv(struct os_buf *b, const char *key, const char *value, bool *first)
{
	if (!*first)
		os_buf_addc(b, ',');
	*first = false;
	os_buf_json_str(b, key);
	os_buf_addc(b, ':');
	os_buf_json_str(b, value);
}

/*
 * One line as JSON. Decision lines (action=... or l7_decision=...) get
 * OCSF's action/disposition and endpoint objects; every other field is
 * kept under "unmapped" so nothing is lost.
 */
static void
logs_print_json(const Openshell__V1__SandboxLogLine *l, const char *sandbox)
{
	struct os_buf		 b = OS_BUF_INIT, k = OS_BUF_INIT, v = OS_BUF_INIT;
	struct os_buf		 un = OS_BUF_INIT;
	struct os_kv_iter	 it = { l->message };
	const char		*sev, *decision = NULL;
	char			 t[48], *host = NULL, *port = NULL, *bin = NULL;
	char			*pid = NULL, *method = NULL, *target = NULL;
	char			*reason = NULL, *policy = NULL, *act = NULL;
	char			*l7 = NULL;
	bool			 first = true, ufirst = true;
	int			 sevid;

	while (os_kv_next(&it, &k, &v)) {
		const char *key = os_buf_str(&k);
		char **slot = NULL;

		if (strcmp(key, "action") == 0)
			slot = &act;
		else if (strcmp(key, "l7_decision") == 0)
			slot = &l7;
		else if (strcmp(key, "dst_host") == 0)
			slot = &host;
		else if (strcmp(key, "dst_port") == 0)
			slot = &port;
		else if (strcmp(key, "binary") == 0)
			slot = &bin;
		else if (strcmp(key, "pid") == 0)
			slot = &pid;
		else if (strcmp(key, "l7_action") == 0 || strcmp(key, "method") == 0)
			slot = &method;
		else if (strcmp(key, "l7_target") == 0 || strcmp(key, "path") == 0)
			slot = &target;
		else if (strcmp(key, "deny_reason") == 0 ||
		    strcmp(key, "l7_deny_reason") == 0)
			slot = &reason;
		else if (strcmp(key, "policy") == 0)
			slot = &policy;
		if (slot != NULL) {
			free(*slot);
			*slot = xstrdup(os_buf_str(&v));
		} else
			logs_json_kv(&un, key, os_buf_str(&v), &ufirst);
	}

	os_buf_addc(&b, '{');
	logs_iso_time(l->timestamp_ms, t, sizeof t);
	logs_json_kv(&b, "time", t, &first);
	os_buf_addf(&b, ",\"time_ms\":%lld", (long long)l->timestamp_ms);
	logs_severity(l->level, &sev, &sevid);
	logs_json_kv(&b, "severity", sev, &first);
	os_buf_addf(&b, ",\"severity_id\":%d", sevid);
	logs_json_kv(&b, "level", l->level, &first);
	logs_json_kv(&b, "source", l->source, &first);
	logs_json_kv(&b, "category", l->target, &first);
	decision = l7 != NULL ? l7 : act;
	if (decision != NULL) {
		bool deny = strcmp(decision, "deny") == 0;
		bool audit = strcmp(decision, "audit") == 0 ||
		    strcmp(decision, "would_deny") == 0;

		logs_json_kv(&b, "class_name", l7 != NULL ? "HTTP Activity" :
		    "Network Activity", &first);
		logs_json_kv(&b, "action", deny ? "Denied" : "Allowed", &first);
		os_buf_addf(&b, ",\"action_id\":%d", deny ? 2 : 1);
		logs_json_kv(&b, "disposition", deny ? "Blocked" : audit ?
		    "Logged" : "Allowed", &first);
		os_buf_addf(&b, ",\"disposition_id\":%d", deny ? 2 : audit ? 17 : 1);
		logs_json_kv(&b, "decision", decision, &first);
	}
	if (host != NULL || port != NULL) {
		os_buf_adds(&b, ",\"dst_endpoint\":{");
		if (host != NULL) {
			os_buf_adds(&b, "\"hostname\":");
			os_buf_json_str(&b, host);
		}
		if (port != NULL)
			os_buf_addf(&b, "%s\"port\":%ld", host != NULL ? "," : "",
			    strtol(port, NULL, 10));
		os_buf_addc(&b, '}');
	}
	if (bin != NULL) {
		os_buf_adds(&b, ",\"process\":{\"file\":{\"path\":");
		os_buf_json_str(&b, bin);
		os_buf_addc(&b, '}');
		if (pid != NULL)
			os_buf_addf(&b, ",\"pid\":%ld", strtol(pid, NULL, 10));
		os_buf_addc(&b, '}');
	}
	if (method != NULL || target != NULL) {
		os_buf_adds(&b, ",\"http_request\":{");
		if (method != NULL) {
			os_buf_adds(&b, "\"http_method\":");
			os_buf_json_str(&b, method);
		}
		if (target != NULL) {
			os_buf_addf(&b, "%s\"url\":{\"path\":",
			    method != NULL ? "," : "");
			os_buf_json_str(&b, target);
			os_buf_addc(&b, '}');
		}
		os_buf_addc(&b, '}');
	}
	if (policy != NULL)
		logs_json_kv(&b, "policy", policy, &first);
	if (reason != NULL)
		logs_json_kv(&b, "status_detail", reason, &first);
	logs_json_kv(&b, "message", l->message, &first);
	os_buf_adds(&b, ",\"metadata\":{\"product\":{\"name\":\"OpenShell-C\"},"
	    "\"sandbox\":");
	os_buf_json_str(&b, sandbox);
	os_buf_addf(&b, ",\"seq\":%llu}", (unsigned long long)l->seq);
	if (un.len > 0)
		os_buf_addf(&b, ",\"unmapped\":{%s}", un.data);
	os_buf_adds(&b, "}\n");
	fwrite(b.data, 1, b.len, stdout);
	os_buf_free(&b);
	os_buf_free(&k);
	os_buf_free(&v);
	os_buf_free(&un);
	free(host);
	free(port);
	free(bin);
	free(pid);
	free(method);
	free(target);
	free(reason);
	free(policy);
	free(act);
	free(l7);
}

static void
logs_print(const Openshell__V1__SandboxLogLine *l, const char *sandbox,
    const struct logs_opts *o)
{
	struct os_buf	b = OS_BUF_INIT;
	char		t[48];

	if (o->json) {
		logs_print_json(l, sandbox);
	} else {
		logs_iso_time(l->timestamp_ms, t, sizeof t);
		os_buf_addf(&b, "%s %-5s ", t, l->level);
		cli_buf_add_safe(&b, l->target);
		os_buf_adds(&b, ": ");
		cli_buf_add_safe(&b, l->message);
		os_buf_addc(&b, '\n');
		fwrite(b.data, 1, b.len, stdout);
		os_buf_free(&b);
	}
	if (o->follow)
		fflush(stdout);
}

struct logs_follow {
	const struct logs_opts	*o;
	const char		*name;
};

static int
logs_on_event(const Openshell__V1__SandboxStreamEvent *ev, void *arg)
{
	struct logs_follow	*f = arg;

	switch (ev->payload_case) {
	case OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_LOG:
		logs_print(ev->log, f->name, f->o);
		return 0;
	case OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_WARNING:
		fprintf(stderr, _("openshell: %s\n"), ev->warning->message);
		return 0;
	case OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_DELETED:
		fprintf(stderr, _("openshell: sandbox '%s' was deleted\n"), f->name);
		return 1;
	default:
		return 0;
	}
}

/* What the gateway answers when asked for no number (proto: 0 = 1000). */
#define LOGS_DEFAULT_LINES 1000

int
cli_logs(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "level", required_argument, NULL, 'l' },
		{ "lines", required_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	Openshell__V1__GetSandboxLogsRequest	 req =
	    OPENSHELL__V1__GET_SANDBOX_LOGS_REQUEST__INIT;
	Openshell__V1__GetSandboxLogsResponse	*resp = NULL, **pages = NULL;
	Openshell__V1__WatchSandboxRequest	 wreq =
	    OPENSHELL__V1__WATCH_SANDBOX_REQUEST__INIT;
	struct logs_opts			 o = { false, false };
	struct logs_follow			 f;
	struct cli_conn				 conn;
	enum os_log_level			 level;
	const char				*min_level = "";
	int64_t					 since_ms = 0, secs;
	long					 lines = 0;
	char					*end;
	size_t					 i, want, got = 0, npages = 0;
	int					 c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "hfn:", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (os_parse_duration(optarg, &secs) != 0 || secs < 0) {
				cli_errx(_("--since: invalid duration '%s' (like 30s, 5m, "
				    "1h, 2d)"), optarg);
				return CLI_EXIT_USAGE;
			}
			since_ms = os_now_ms() - secs * 1000;
			break;
		case 'l':
			if (os_log_level_parse(optarg, &level) != 0) {
				cli_errx(_("--level: unknown level '%s' (expected error, "
				    "warn, info or debug)"), optarg);
				return CLI_EXIT_USAGE;
			}
			min_level = optarg;
			break;
		case 'n':
			lines = strtol(optarg, &end, 10);
			if (*end != '\0' || lines <= 0 || lines > 1000000) {
				cli_errx(_("--lines: expected a positive number, not '%s'"),
				    optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'f':
			o.follow = true;
			break;
		case 'j':
			o.json = true;
			break;
		case 'h':
			logs_usage(stdout);
			return CLI_EXIT_OK;
		default:
			logs_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		cli_errx(_("logs: expected one sandbox NAME"));
		logs_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if ((rc = cli_connect(&conn)) != CLI_EXIT_OK)
		return rc;
	if (o.follow) {
		wreq.name = argv[optind];
		wreq.follow_logs = true;
		wreq.log_min_level = (char *)min_level;
		wreq.log_since_ms = since_ms;
		/* Like tail -f: some context first unless told otherwise. */
		wreq.log_tail_lines = lines > 0 ? (uint32_t)lines :
		    since_ms != 0 ? 0 : 10;
		f.o = &o;
		f.name = argv[optind];
		rc = cli_watch(&conn, &wreq, logs_on_event, &f, 0);
		cli_conn_close(&conn);
		return rc;
	}
	req.name = argv[optind];
	req.since_ms = since_ms;
	req.min_level = (char *)min_level;
	/* An answer is bounded in size (`more`): the older lines come page
	 * by page, newest page first, and are printed oldest first. */
	want = lines > 0 ? (size_t)lines : LOGS_DEFAULT_LINES;
	for (;;) {
		req.lines = (uint32_t)(want - got);
		rc = cli_call(&conn, "GetSandboxLogs", &req.base,
		    &openshell__v1__get_sandbox_logs_response__descriptor,
		    (ProtobufCMessage **)&resp);
		if (rc != CLI_EXIT_OK)
			break;
		pages = xreallocarray(pages, npages + 1, sizeof *pages);
		pages[npages++] = resp;
		got += resp->n_logs;
		if (!resp->more || resp->n_logs == 0 || got >= want)
			break;
		req.before_seq = resp->logs[0]->seq;
	}
	while (npages > 0) {
		resp = pages[--npages];
		for (i = 0; rc == CLI_EXIT_OK && i < resp->n_logs; i++)
			logs_print(resp->logs[i], argv[optind], &o);
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	}
	free(pages);
	cli_conn_close(&conn);
	return rc;
}
