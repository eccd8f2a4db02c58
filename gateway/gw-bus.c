/*
 * The event bus and WatchSandbox streams. A change is pushed to every
 * interested watcher the moment it is committed. Sends are queued per
 * stream and never block the loop; a watcher that falls too far behind
 * has its queue dropped and gets a warning and a fresh snapshot instead,
 * so one slow console cannot hold up the gateway or the other watchers.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "gateway.h"

/* Messages, and bytes of them, queued for one watcher before it is
 * resynchronised: a log line may be megabytes, and a stalled client
 * (a suspended `openshell logs -f`) must not hold more than this. */
#define GW_WATCH_QUEUE_MAX 512
#define GW_WATCH_QUEUE_BYTES (8 * 1024 * 1024)
/* Watch streams one sandbox's own supervisor may hold (it needs one; a
 * reconnect may overlap the stream it replaces). */
#define GW_WATCH_PER_SANDBOX 8

struct gw_watcher {
	TAILQ_ENTRY(gw_watcher)	 entry;
	struct gw		*gw;
	struct os_rpc_call	*call;
	char			*sandbox_id;     /* NULL = every sandbox */
	bool			 status;
	bool			 logs;
	bool			 policy;
	bool			 drafts;
	bool			 config;
	enum os_log_level	 min_level;
	uint64_t		 seq;
	uint64_t		 resyncs;
	bool			 by_sandbox;     /* opened with the sandbox's token */
	bool			 closed;
};

static void	gw_watch_snapshot(struct gw_watcher *, const char *sandbox_id);

static bool
gw_watch_wants(const struct gw_watcher *w, enum gw_event_kind kind)
{
	switch (kind) {
	case GW_EVENT_DELETED:
		/* The end of every stream about the sandbox: each says why. */
		return true;
	case GW_EVENT_STATUS:
		return w->status;
	case GW_EVENT_LOG:
		return w->logs;
	case GW_EVENT_POLICY:
		return w->policy;
	case GW_EVENT_DRAFT:
		return w->drafts;
	case GW_EVENT_CONFIG:
		return w->config;
	}
	return false;
}

static void
gw_watch_send(struct gw_watcher *w, GwPbEvent *ev)
{
	ev->seq = ++w->seq;
	if (ev->timestamp_ms == 0)
		ev->timestamp_ms = os_now_ms();
	os_rpc_send(w->call, &ev->base);
}

static void
gw_watch_resync(struct gw_watcher *w)
{
	Openshell__V1__SandboxStreamWarning	warn =
	    OPENSHELL__V1__SANDBOX_STREAM_WARNING__INIT;
	GwPbEvent				ev = OPENSHELL__V1__SANDBOX_STREAM_EVENT__INIT;
	char					*msg;

	os_rpc_send_discard(w->call);
	w->resyncs++;
	msg = xprintf(_("watch stream fell behind (more than %d events or %d MiB "
	    "queued); queued events were dropped, a fresh snapshot follows"),
	    GW_WATCH_QUEUE_MAX, GW_WATCH_QUEUE_BYTES >> 20);
	warn.message = msg;
	warn.resync = 1;
	ev.payload_case = OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_WARNING;
	ev.warning = &warn;
	gw_watch_send(w, &ev);
	free(msg);
	log_warn("watcher fell behind; resynchronised (%llu times)",
	    (unsigned long long)w->resyncs);
	gw_watch_snapshot(w, w->sandbox_id);
}

static bool
gw_watch_level_ok(const struct gw_watcher *w, const GwPbEvent *ev)
{
	enum os_log_level	l;

	if (ev->payload_case != OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_LOG)
		return true;
	if (os_log_level_parse(ev->log->level, &l) != 0)
		return true;
	return l <= w->min_level;
}

void
gw_bus_publish(struct gw *gw, const char *sandbox_id, const char *sandbox_name,
    enum gw_event_kind kind, GwPbEvent *ev)
{
	struct gw_watcher	*w, *next;

	ev->sandbox_id = (char *)sandbox_id;
	ev->sandbox_name = (char *)sandbox_name;
	ev->timestamp_ms = os_now_ms();
	TAILQ_FOREACH_SAFE(w, &gw->watchers, entry, next) {
		if (w->closed || !gw_watch_wants(w, kind))
			continue;
		if (w->sandbox_id != NULL && strcmp(w->sandbox_id, sandbox_id) != 0)
			continue;
		if (!gw_watch_level_ok(w, ev))
			continue;
		if (os_rpc_send_queued(w->call) >= GW_WATCH_QUEUE_MAX ||
		    os_rpc_send_queued_bytes(w->call) >= GW_WATCH_QUEUE_BYTES) {
			gw_watch_resync(w);
			continue;
		}
		gw_watch_send(w, ev);
	}
}

static void
gw_watch_free(struct gw_watcher *w)
{
	free(w->sandbox_id);
	free(w);
}

static void
gw_watch_on_close(struct os_rpc_call *call, void *arg)
{
	struct gw_watcher	*w = arg;

	if (!w->closed) {
		w->closed = true;
		TAILQ_REMOVE(&w->gw->watchers, w, entry);
	}
	gw_watch_free(w);
	os_rpc_call_unref(call);
}

static void
gw_watch_finish(struct gw_watcher *w, grpc_status_code st, const char *msg)
{
	if (w->closed)
		return;
	w->closed = true;
	TAILQ_REMOVE(&w->gw->watchers, w, entry);
	/* on_close still runs (once the status is out) and frees w. */
	os_rpc_finish(w->call, st, msg);
}

void
gw_bus_close_sandbox(struct gw *gw, const char *sandbox_id)
{
	struct gw_watcher	*w, *next;

	TAILQ_FOREACH_SAFE(w, &gw->watchers, entry, next) {
		if (w->sandbox_id != NULL && strcmp(w->sandbox_id, sandbox_id) == 0)
			gw_watch_finish(w, GRPC_STATUS_OK, NULL);
	}
}

void
gw_bus_close_all(struct gw *gw)
{
	struct gw_watcher	*w;

	while ((w = TAILQ_FIRST(&gw->watchers)) != NULL)
		gw_watch_finish(w, GRPC_STATUS_UNAVAILABLE,
		    _("the gateway is shutting down"));
}

static size_t
gw_watch_count_by_sandbox(struct gw *gw, const char *sandbox_id)
{
	struct gw_watcher	*w;
	size_t			 n = 0;

	TAILQ_FOREACH(w, &gw->watchers, entry) {
		if (w->by_sandbox && w->sandbox_id != NULL &&
		    strcmp(w->sandbox_id, sandbox_id) == 0)
			n++;
	}
	return n;
}

size_t
gw_bus_count(struct gw *gw)
{
	struct gw_watcher	*w;
	size_t			 n = 0;

	TAILQ_FOREACH(w, &gw->watchers, entry)
		n++;
	return n;
}

/* ------------------------------------------------------------------------
 * Snapshots: what a new (or resynchronised) watcher sees first.
 */

static void
gw_watch_snapshot_one(struct gw_watcher *w, const struct store_sandbox *sb)
{
	GwPbEvent				 ev;
	GwPbSandbox				*pb;
	GwPbConfig				*cfg;
	Openshell__V1__PolicyRevisionEvent	 pre =
	    OPENSHELL__V1__POLICY_REVISION_EVENT__INIT;
	struct store_revision			 rev;
	struct os_error				 err;

	if (w->status) {
		openshell__v1__sandbox_stream_event__init(&ev);
		pb = gw_pb_sandbox(w->gw, sb);
		ev.payload_case = OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_SANDBOX;
		ev.sandbox = pb;
		ev.sandbox_id = sb->id;
		ev.sandbox_name = sb->name;
		gw_watch_send(w, &ev);
		gw_pb_sandbox_free(pb);
	}
	if (w->policy) {
		memset(&rev, 0, sizeof rev);
		if (store_revision_get(w->gw->store, sb->id, 0, &rev, &err) == 0) {
			openshell__v1__sandbox_stream_event__init(&ev);
			pre.revision = gw_pb_revision(&rev, false);
			pre.active_version = sb->active_version;
			ev.payload_case =
			    OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_POLICY_REVISION;
			ev.policy_revision = &pre;
			ev.sandbox_id = sb->id;
			ev.sandbox_name = sb->name;
			gw_watch_send(w, &ev);
			gw_pb_revision_free(pre.revision);
			store_revision_clear(&rev);
		}
	}
	if (w->config && (cfg = gw_config_build(w->gw, sb, &err)) != NULL) {
		openshell__v1__sandbox_stream_event__init(&ev);
		ev.payload_case = OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_CONFIG;
		ev.config = cfg;
		ev.sandbox_id = sb->id;
		ev.sandbox_name = sb->name;
		gw_watch_send(w, &ev);
		gw_pb_config_free(cfg);
	}
}

static void
gw_watch_snapshot(struct gw_watcher *w, const char *sandbox_id)
{
	struct store_sandbox	 sb, *all;
	struct os_error		 err;
	size_t			 n, i;

	if (sandbox_id != NULL) {
		memset(&sb, 0, sizeof sb);
		if (store_sandbox_get(w->gw->store, sandbox_id, &sb, &err) == 0) {
			gw_watch_snapshot_one(w, &sb);
			store_sandbox_clear(&sb);
		}
		return;
	}
	if (store_sandbox_list(w->gw->store, &all, &n, &err) != 0)
		return;
	for (i = 0; i < n; i++)
		gw_watch_snapshot_one(w, &all[i]);
	store_sandboxes_free(all, n);
}

static void
gw_watch_log_tail(struct gw_watcher *w, const struct store_sandbox *sb,
    const Openshell__V1__WatchSandboxRequest *req)
{
	struct store_log	*logs;
	struct os_error		 err;
	size_t			 n, i;
	uint32_t		 tail;

	tail = req->log_tail_lines;
	if (tail == 0 && req->log_since_ms == 0)
		return;
	if (tail == 0)
		tail = 10000;
	if (store_log_query(w->gw->store, sb->id, req->log_since_ms,
	    *req->log_min_level != '\0' ? req->log_min_level : NULL, NULL, 0,
	    tail, &logs, &n, &err) != 0)
		return;
	/* The newest that fit the watcher's queue. */
	for (i = gw_logs_newest_fit(logs, n, GW_WATCH_QUEUE_BYTES); i < n; i++) {
		Openshell__V1__SandboxLogLine	line = OPENSHELL__V1__SANDBOX_LOG_LINE__INIT;
		GwPbEvent			ev = OPENSHELL__V1__SANDBOX_STREAM_EVENT__INIT;

		line.sandbox_id = logs[i].sandbox_id;
		line.timestamp_ms = logs[i].ts_ms;
		line.level = logs[i].level;
		line.target = logs[i].target;
		line.message = logs[i].message;
		line.source = logs[i].source;
		line.seq = logs[i].seq;
		ev.payload_case = OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_LOG;
		ev.log = &line;
		ev.sandbox_id = sb->id;
		ev.sandbox_name = sb->name;
		ev.timestamp_ms = logs[i].ts_ms;
		gw_watch_send(w, &ev);
	}
	store_logs_free(logs, n);
}

void
gw_rpc_watch(struct os_rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	const Openshell__V1__WatchSandboxRequest	*req = (const void *)msg;
	struct gw					*gw = arg;
	struct gw_caller				 caller;
	struct gw_watcher				*w;
	struct store_sandbox				 sb;
	bool						 have_sb = false;

	if (!gw_auth_caller(gw, call, &caller))
		return;
	memset(&sb, 0, sizeof sb);
	if (req->all_sandboxes && caller.role != GW_ROLE_OPERATOR) {
		os_rpc_fail(call, GRPC_STATUS_PERMISSION_DENIED,
		    _("only operators may watch every sandbox"));
		goto out;
	}
	if (!req->all_sandboxes) {
		if (gw_sandbox_resolve(gw, call, &caller, req->name, &sb) != 0)
			goto out;
		have_sb = true;
	}
	if (req->follow_config && caller.role != GW_ROLE_SANDBOX &&
	    caller.role != GW_ROLE_OPERATOR)
		goto out;
	if (caller.role == GW_ROLE_SANDBOX &&
	    gw_watch_count_by_sandbox(gw, sb.id) >= GW_WATCH_PER_SANDBOX) {
		os_rpc_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED,
		    _("a sandbox holds at most %d watch streams"),
		    GW_WATCH_PER_SANDBOX);
		goto out;
	}

	w = xcalloc(1, sizeof *w);
	w->gw = gw;
	w->call = call;
	w->sandbox_id = have_sb ? xstrdup(sb.id) : NULL;
	w->status = req->follow_status;
	w->logs = req->follow_logs;
	w->policy = req->follow_policy;
	w->drafts = req->follow_drafts;
	w->config = req->follow_config;
	w->by_sandbox = caller.role == GW_ROLE_SANDBOX;
	w->min_level = OS_LOG_DEBUG;
	if (*req->log_min_level != '\0' &&
	    os_log_level_parse(req->log_min_level, &w->min_level) != 0) {
		os_rpc_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
		    _("log_min_level: unknown level '%s' (expected error, warn, info or debug)"),
		    req->log_min_level);
		gw_watch_free(w);
		goto out;
	}
	os_rpc_call_ref(call);
	TAILQ_INSERT_TAIL(&gw->watchers, w, entry);
	os_rpc_call_on_close(call, gw_watch_on_close, w);

	/* Snapshot first, then the log tail, then live events. */
	gw_watch_snapshot(w, w->sandbox_id);
	if (w->logs && have_sb)
		gw_watch_log_tail(w, &sb, req);
	/* A logs-only watch with no tail may have nothing to send for long:
	 * the client sees it open now. */
	os_rpc_call_open(call);
out:
	if (have_sb)
		store_sandbox_clear(&sb);
	gw_caller_clear(&caller);
}
