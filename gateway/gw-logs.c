/*
 * Sandbox logs: supervisors push batches of structured lines; the gateway
 * keeps a bounded ring per sandbox and fans each line out to watchers.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "gateway.h"

#define GW_LOG_BATCH_MAX 5000
/*
 * What one GetSandboxLogs answer carries at most: clients refuse messages
 * over 16 MiB (gRPC's default is 4), and a ring of long lines (an L7 path
 * may be 16 KiB) holds far more. The rest is a page away (before_seq).
 */
#define GW_LOGS_REPLY_MAX (4 * 1024 * 1024)
/*
 * A line's message and target are cut to this when stored: the longest a
 * supervisor writes is an L7 denial of a 16 KiB path (32 KiB), and a line
 * near the 16 MiB message limit would make every answer that carries it
 * too large for the clients, and the ring megabytes per line.
 */
#define GW_LOG_MESSAGE_MAX (64 * 1024)
#define GW_LOG_TARGET_MAX 256

/* About what a line takes on the wire. */
static size_t
log_wire_size(const struct store_log *l)
{
	return 48 + (l->sandbox_id != NULL ? strlen(l->sandbox_id) : 0) +
	    (l->level != NULL ? strlen(l->level) : 0) +
	    (l->target != NULL ? strlen(l->target) : 0) +
	    (l->source != NULL ? strlen(l->source) : 0) +
	    (l->message != NULL ? strlen(l->message) : 0);
}

size_t
gw_logs_newest_fit(const struct store_log *logs, size_t n, size_t budget)
{
	size_t	first, bytes, sz;

	for (first = n, bytes = 0; first > 0; first--) {
		sz = log_wire_size(&logs[first - 1]);
		if (first < n && bytes + sz > budget)
			break;
		bytes += sz;
	}
	return first;
}

/*
 * s itself when it fits in max bytes; else a copy cut at a character
 * boundary, saying how much went, which *own holds for the caller to free.
 */
static char *
log_cut(char *s, size_t max, char **own)
{
	size_t	len, keep;

	*own = NULL;
	if (s == NULL || (len = strlen(s)) <= max)
		return s;
	keep = max - 64;
	/* Not inside a UTF-8 sequence: back off its continuation bytes. */
	while (keep > 0 && ((unsigned char)s[keep] & 0xc0) == 0x80)
		keep--;
	*own = xprintf("%.*s ... [cut by the gateway: %zu of %zu bytes]",
	    (int)keep, s, len - keep, len);
	return *own;
}

void
gw_rpc_push_logs(struct os_rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	const Openshell__V1__PushSandboxLogsRequest *req = (const void *)msg;
	Openshell__V1__PushSandboxLogsResponse	 resp =
	    OPENSHELL__V1__PUSH_SANDBOX_LOGS_RESPONSE__INIT;
	struct gw				*gw = arg;
	struct gw_caller			 caller;
	struct store_sandbox			 sb;
	struct store_log			*logs;
	struct os_error				 err;
	enum os_log_level			 l;
	char					**cut = NULL;
	size_t					 i, n, ncut = 0;

	if (!gw_auth_caller(gw, call, &caller))
		return;
	if (caller.role != GW_ROLE_SANDBOX) {
		os_rpc_fail(call, GRPC_STATUS_PERMISSION_DENIED,
		    _("only a sandbox pushes its own logs"));
		gw_caller_clear(&caller);
		return;
	}
	if (gw_sandbox_resolve(gw, call, &caller, req->sandbox_id, &sb) != 0) {
		gw_caller_clear(&caller);
		return;
	}
	n = req->n_lines;
	if (n > GW_LOG_BATCH_MAX) {
		os_rpc_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
		    _("lines: at most %d lines per push"), GW_LOG_BATCH_MAX);
		goto out;
	}
	logs = xcalloc(n + 1, sizeof *logs);
	cut = xcalloc(2 * n + 1, sizeof *cut);
	for (i = 0; i < n; i++) {
		const Openshell__V1__SandboxLogLine *in = req->lines[i];

		logs[i].sandbox_id = sb.id;
		logs[i].ts_ms = in->timestamp_ms != 0 ? in->timestamp_ms : os_now_ms();
		logs[i].level = os_log_level_parse(in->level, &l) == 0 ?
		    (char *)os_log_level_name(l) : (char *)"info";
		logs[i].target = log_cut(in->target, GW_LOG_TARGET_MAX, &cut[ncut]);
		if (cut[ncut] != NULL)
			ncut++;
		logs[i].source = (char *)"sandbox";
		logs[i].message = log_cut(in->message, GW_LOG_MESSAGE_MAX,
		    &cut[ncut]);
		if (cut[ncut] != NULL)
			ncut++;
	}
	if (store_log_append(gw->store, logs, n,
	    (size_t)gw_setting_int(gw, NULL, "log_ring_lines"), &err) != 0) {
		/* Not a refusal: the sandbox keeps the lines and sends them
		 * again (after a full disk, say), backing off as it does. */
		free(logs);
		log_error("sandbox %s: %zu log lines not stored (the sandbox "
		    "sends them again): %s", sb.name, n, err.msg);
		os_rpc_fail(call, GRPC_STATUS_UNAVAILABLE, "%s", err.msg);
		goto out;
	}
	for (i = 0; i < n; i++) {
		Openshell__V1__SandboxLogLine	line = OPENSHELL__V1__SANDBOX_LOG_LINE__INIT;
		GwPbEvent			ev = OPENSHELL__V1__SANDBOX_STREAM_EVENT__INIT;

		line.sandbox_id = sb.id;
		line.timestamp_ms = logs[i].ts_ms;
		line.level = logs[i].level;
		line.target = logs[i].target;
		line.message = logs[i].message;
		line.source = logs[i].source;
		line.seq = logs[i].seq;
		ev.payload_case = OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_LOG;
		ev.log = &line;
		gw_bus_publish(gw, sb.id, sb.name, GW_EVENT_LOG, &ev);
	}
	free(logs);
	resp.accepted = (uint32_t)n;
	os_rpc_reply(call, &resp.base);
out:
	for (i = 0; i < ncut; i++)
		free(cut[i]);
	free(cut);
	store_sandbox_clear(&sb);
	gw_caller_clear(&caller);
}

void
gw_rpc_get_logs(struct os_rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	const Openshell__V1__GetSandboxLogsRequest *req = (const void *)msg;
	Openshell__V1__GetSandboxLogsResponse	 resp =
	    OPENSHELL__V1__GET_SANDBOX_LOGS_RESPONSE__INIT;
	struct gw				*gw = arg;
	struct gw_caller			 caller;
	struct store_sandbox			 sb;
	struct store_log			*logs;
	Openshell__V1__SandboxLogLine		*lines;
	struct os_error				 err;
	enum os_log_level			 l;
	size_t					 n, i, first;

	if (!gw_auth_operator(gw, call, &caller))
		return;
	if (gw_sandbox_resolve(gw, call, &caller, req->name, &sb) != 0) {
		gw_caller_clear(&caller);
		return;
	}
	if (*req->min_level != '\0' && os_log_level_parse(req->min_level, &l) != 0) {
		os_rpc_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
		    _("min_level: unknown level '%s' (expected error, warn, info or debug)"),
		    req->min_level);
		goto out;
	}
	if (store_log_query_before(gw->store, sb.id, req->since_ms,
	    *req->min_level != '\0' ? req->min_level : NULL,
	    (const char *const *)req->sources, req->n_sources, req->before_seq,
	    req->lines != 0 ? req->lines : 1000, &logs, &n, &err) != 0) {
		gw_fail_store(call, &err);
		goto out;
	}
	/* The newest that fit, oldest first. */
	first = gw_logs_newest_fit(logs, n, GW_LOGS_REPLY_MAX);
	resp.more = first > 0;
	lines = xcalloc(n - first + 1, sizeof *lines);
	resp.logs = xcalloc(n - first + 1, sizeof *resp.logs);
	for (i = first; i < n; i++) {
		Openshell__V1__SandboxLogLine *ln = &lines[i - first];

		openshell__v1__sandbox_log_line__init(ln);
		ln->sandbox_id = logs[i].sandbox_id;
		ln->timestamp_ms = logs[i].ts_ms;
		ln->level = logs[i].level;
		ln->target = logs[i].target;
		ln->source = logs[i].source;
		ln->message = logs[i].message;
		ln->seq = logs[i].seq;
		resp.logs[i - first] = ln;
	}
	resp.n_logs = n - first;
	resp.buffer_total = (uint32_t)store_log_count(gw->store, sb.id);
	os_rpc_reply(call, &resp.base);
	free(resp.logs);
	free(lines);
	store_logs_free(logs, n);
out:
	store_sandbox_clear(&sb);
	gw_caller_clear(&caller);
}
