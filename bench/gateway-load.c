/*
 * gateway-load: the load generator of bench/bench-gateway.sh. It talks to
 * a running gateway on unix:<state>/gateway.sock as the operator (the
 * bearer token in <state>/operator.token).
 *
 *   gateway-load rate --state DIR --method Health|GetSandboxConfig
 *       [--sandbox ID] [--seconds S] [--warmup S] [--inflight N] [--channels C]
 *     Asynchronous unary calls kept N in flight on one loop for S seconds
 *     (after a warm-up that is not counted); prints calls per second.
 *
 *   gateway-load fanout --state DIR --sandbox NAME [--watchers W] [--events K]
 *       [--change policy|setting] [--policy-a FILE --policy-b FILE]
 *       [--channels C] [--gap-ms G]
 *     First K UpdateConfig calls with no watchers (the round trip alone),
 *     then W WatchSandbox streams, and once each has its snapshot K more
 *     UpdateConfig calls, each timed from just before the call starts to
 *     each watcher receiving the resulting event, on one monotonic clock
 *     in this one process. `policy` alternates the base policy between
 *     the two files (watchers follow_policy and see the new revision);
 *     `setting` toggles the sandbox-scope setting policy_advisor
 *     (watchers follow_config and see the new config snapshot).
 *
 * Output is one line per result, "NAME key=value ...", for the script to
 * read. Exit status 0 when it measured, 1 when it could not.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os-rpc.h"

#define GL_SERVICE	"/openshell.v1.OpenShell/"
#define GL_CALL_MS	10000	/* deadline of each unary call */
#define GL_ROUND_MS	10000	/* an event that takes longer is a failure */

struct gl_opts {
	const char	*mode;
	const char	*state;
	const char	*method;
	const char	*sandbox;
	const char	*change;
	const char	*policy_a;
	const char	*policy_b;
	double		 seconds;
	double		 warmup;
	int		 inflight;
	int		 channels;
	int		 watchers;
	int		 events;
	int		 gap_ms;
};

/* What both modes share: the loop, the channels and the credential. */
struct gl {
	uv_loop_t		 uv;
	struct os_rpc_loop	 loop;
	grpc_channel		**ch;
	size_t			 nch;
	char			*token;
	int			 rc;
};

static double
gl_now_ms(void)
{
	return (double)os_mono_ns() / 1e6;
}

static char *
gl_read_file(const char *path)
{
	FILE	*f;
	char	*buf;
	long	 n;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "gateway-load: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = xmalloc((size_t)(n < 0 ? 0 : n) + 1);
	n = (long)fread(buf, 1, (size_t)(n < 0 ? 0 : n), f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static grpc_channel *
gl_channel(const char *target, bool own_connection)
{
	grpc_channel_credentials	*creds;
	grpc_channel			*ch;
	grpc_channel_args		 args;
	grpc_arg			 a[2];

	/* Each channel its own connection, as separate consoles would be
	 * (channels to one target otherwise share a subchannel). */
	memset(a, 0, sizeof a);
	a[0].type = GRPC_ARG_INTEGER;
	a[0].key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
	a[0].value.integer = 16 * 1024 * 1024;
	a[1].type = GRPC_ARG_INTEGER;
	a[1].key = (char *)GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL;
	a[1].value.integer = 1;
	args.num_args = own_connection ? 2 : 1;
	args.args = a;
	creds = grpc_insecure_credentials_create();
	ch = grpc_channel_create(target, creds, &args);
	grpc_channel_credentials_release(creds);
	return ch;
}

static int
gl_open(struct gl *g, const struct gl_opts *o, size_t nch)
{
	char	*path, *target;
	size_t	 i;

	memset(g, 0, sizeof *g);
	path = xprintf("%s/operator.token", o->state);
	g->token = gl_read_file(path);
	free(path);
	if (g->token == NULL)
		return -1;
	g->token[strcspn(g->token, "\r\n")] = '\0';
	grpc_init();
	uv_loop_init(&g->uv);
	if (os_rpc_loop_init(&g->loop, &g->uv) != 0) {
		fprintf(stderr, "gateway-load: cannot start the RPC loop\n");
		return -1;
	}
	target = xprintf("unix:%s/gateway.sock", o->state);
	g->nch = nch;
	g->ch = xcalloc(g->nch, sizeof *g->ch);
	for (i = 0; i < g->nch; i++)
		g->ch[i] = gl_channel(target, g->nch > 1);
	free(target);
	return 0;
}

/* Once no call is live: tear down so uv_run() returns. */
static void
gl_stop(struct gl *g)
{
	size_t	i;

	for (i = 0; i < g->nch; i++)
		grpc_channel_destroy(g->ch[i]);
	g->nch = 0;
	os_rpc_loop_shutdown(&g->loop);
}

static void
gl_close(struct gl *g)
{
	os_rpc_loop_destroy(&g->loop);
	uv_loop_close(&g->uv);
	free(g->ch);
	explicit_bzero(g->token, strlen(g->token));
	free(g->token);
	grpc_shutdown_blocking();
}

static int
gl_cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples. */
static double
gl_pct(const double *v, size_t n, double p)
{
	size_t	k;

	if (n == 0)
		return 0;
	k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static void
gl_print_dist(const char *name, double *v, size_t n, const char *extra)
{
	qsort(v, n, sizeof *v, gl_cmp_double);
	printf("%s n=%zu p50_ms=%.3f p99_ms=%.3f max_ms=%.3f%s%s\n", name, n,
	    gl_pct(v, n, 50), gl_pct(v, n, 99), n ? v[n - 1] : 0.0,
	    extra != NULL ? " " : "", extra != NULL ? extra : "");
}

/* ------------------------------------------------------------------------
 * rate: unary calls, N in flight
 */
struct gl_rate {
	struct gl		*g;
	const struct gl_opts	*o;
	char			*path;
	const ProtobufCMessage	*req;
	const ProtobufCMessageDescriptor *resp_desc;
	uv_timer_t		 timer;
	size_t			 next_ch;
	int			 live;
	bool			 counting;
	bool			 stopping;
	uint64_t		 calls;
	uint64_t		 errors;
	uint64_t		 all_ok;
	double			 t_start;
	double			 t_end;
	char			*first_error;
};

static void	rate_issue(struct gl_rate *);

static void
rate_on_done(struct os_rpc_ccall *c, grpc_status_code st, const char *details,
    void *arg)
{
	struct gl_rate	*r = arg;

	r->live--;
	if (st == GRPC_STATUS_OK)
		r->all_ok++;
	else if (r->first_error == NULL)
		r->first_error = xprintf("%s: %s", os_rpc_status_name(st), details);
	if (r->counting && !r->stopping) {
		if (st == GRPC_STATUS_OK)
			r->calls++;
		else
			r->errors++;
	}
	if (!r->stopping && (st == GRPC_STATUS_OK || r->all_ok > 0))
		rate_issue(r);
	else if (!r->stopping) {
		/* Failing from the first call: no point in going on. */
		r->stopping = true;
		uv_timer_stop(&r->timer);
		uv_close((uv_handle_t *)&r->timer, NULL);
	}
	if (r->stopping && r->live == 0)
		gl_stop(r->g);
}

static void
rate_issue(struct gl_rate *r)
{
	static const struct os_rpc_ccall_ops ops = { .on_done = rate_on_done };
	struct os_rpc_ccall	*c;

	c = os_rpc_ccall_start(&r->g->loop, r->g->ch[r->next_ch], r->path,
	    r->g->token, GL_CALL_MS, r->resp_desc, &ops, r);
	r->next_ch = (r->next_ch + 1) % r->g->nch;
	r->live++;
	os_rpc_ccall_send(c, r->req);
	os_rpc_ccall_close_send(c);
}

static void
rate_on_timer(uv_timer_t *t)
{
	struct gl_rate	*r = t->data;

	if (!r->counting) {
		r->counting = true;
		r->t_start = gl_now_ms();
		uv_timer_start(&r->timer, rate_on_timer,
		    (uint64_t)(r->o->seconds * 1000), 0);
		return;
	}
	r->stopping = true;
	r->t_end = gl_now_ms();
	uv_close((uv_handle_t *)&r->timer, NULL);
}

static int
gl_rate(const struct gl_opts *o)
{
	Openshell__V1__HealthRequest			 hreq =
	    OPENSHELL__V1__HEALTH_REQUEST__INIT;
	Openshell__Sandbox__V1__GetSandboxConfigRequest	 creq =
	    OPENSHELL__SANDBOX__V1__GET_SANDBOX_CONFIG_REQUEST__INIT;
	struct gl					 g;
	struct gl_rate					 r;
	double						 secs;
	int						 i;

	memset(&r, 0, sizeof r);
	if (strcmp(o->method, "Health") == 0) {
		r.req = &hreq.base;
		r.resp_desc = &openshell__v1__health_response__descriptor;
	} else if (strcmp(o->method, "GetSandboxConfig") == 0) {
		if (o->sandbox == NULL) {
			fprintf(stderr, "gateway-load: GetSandboxConfig needs --sandbox\n");
			return 1;
		}
		creq.sandbox_id = (char *)o->sandbox;
		r.req = &creq.base;
		r.resp_desc =
		    &openshell__sandbox__v1__get_sandbox_config_response__descriptor;
	} else {
		fprintf(stderr, "gateway-load: --method Health or GetSandboxConfig\n");
		return 1;
	}
	if (gl_open(&g, o, (size_t)o->channels) != 0)
		return 1;
	r.g = &g;
	r.o = o;
	r.path = xprintf(GL_SERVICE "%s", o->method);
	uv_timer_init(&g.uv, &r.timer);
	r.timer.data = &r;
	if (o->warmup > 0)
		uv_timer_start(&r.timer, rate_on_timer, (uint64_t)(o->warmup * 1000), 0);
	else
		rate_on_timer(&r.timer);
	for (i = 0; i < o->inflight; i++)
		rate_issue(&r);
	uv_run(&g.uv, UV_RUN_DEFAULT);
	gl_close(&g);
	free(r.path);
	if (r.all_ok == 0 || r.calls == 0) {
		fprintf(stderr, "gateway-load: %s: no call succeeded%s%s\n", o->method,
		    r.first_error != NULL ? ": " : "",
		    r.first_error != NULL ? r.first_error : "");
		free(r.first_error);
		return 1;
	}
	if (r.errors > 0)
		fprintf(stderr, "gateway-load: %s: %llu calls failed (first: %s)\n",
		    o->method, (unsigned long long)r.errors, r.first_error);
	free(r.first_error);
	secs = (r.t_end - r.t_start) / 1000.0;
	printf("rate method=%s calls=%llu errors=%llu seconds=%.3f inflight=%d "
	    "channels=%zu per_s=%.0f\n", o->method, (unsigned long long)r.calls,
	    (unsigned long long)r.errors, secs, o->inflight, (size_t)o->channels,
	    (double)r.calls / secs);
	return 0;
}

/* ------------------------------------------------------------------------
 * fanout: UpdateConfig -> W watchers
 */
enum fan_phase {
	FAN_PRIME,      /* one untimed update to a known state */
	FAN_ALONE,      /* K updates, no watchers: the round trip alone */
	FAN_OPEN,       /* watchers open, waiting for their snapshots */
	FAN_ROUNDS,     /* K timed updates with watchers */
	FAN_DONE,
};

struct fan;

struct fan_watcher {
	struct fan		*f;
	struct os_rpc_ccall	*call;
	bool			 snapshot;
	bool			 got;        /* this round's event */
	bool			 done;
	uint64_t		 config_rev; /* last config seen (setting mode) */
	uint64_t		 nevents;    /* for the failure report */
	uint64_t		 last_seq;
	uint32_t		 last_version;
};

struct fan {
	struct gl		*g;
	const struct gl_opts	*o;
	bool			 setting;
	char			*yaml[2];
	enum fan_phase		 phase;
	int			 round;       /* within the phase */
	int			 flip;        /* which variant goes next */
	uv_timer_t		 timer;       /* gaps between rounds */
	uv_timer_t		 deadline;    /* a round that never completes */
	bool			 timers_closed;
	bool			 stopped;

	struct fan_watcher	*w;
	int			 nw;
	int			 nsnap;
	int			 nlive;       /* calls not yet done */
	struct os_rpc_ccall	*upd;         /* the UpdateConfig in flight */

	uint32_t		 base_version; /* policy mode: events above it count */
	uint32_t		 reply_version; /* the latest UpdateConfig made */
	double			 t0;
	bool			 reply;
	int			 ngot;
	double			*rtt_alone;
	double			*rtt_fan;
	double			*lat;        /* every delivery, all rounds */
	size_t			 nlat;
	double			*last;       /* per round: the slowest watcher */
	bool			 failed;
};

static void	fan_next(struct fan *);
static void	fan_finish(struct fan *, const char *why);

static void
fan_maybe_stop(struct fan *f)
{
	if (f->phase == FAN_DONE && f->nlive == 0 && f->timers_closed &&
	    !f->stopped) {
		f->stopped = true;
		gl_stop(f->g);
	}
}

static void
fan_timer_closed(uv_handle_t *h)
{
	struct fan	*f = h->data;

	/* Handles close in order: the deadline is the second. */
	if (h == (uv_handle_t *)&f->deadline) {
		f->timers_closed = true;
		fan_maybe_stop(f);
	}
}

static void
fan_finish(struct fan *f, const char *why)
{
	int	i;

	if (f->phase == FAN_DONE)
		return;
	if (why != NULL) {
		fprintf(stderr, "gateway-load: fanout: %s\n", why);
		f->failed = true;
	}
	f->phase = FAN_DONE;
	for (i = 0; i < f->nw; i++)
		if (f->w[i].call != NULL && !f->w[i].done)
			os_rpc_ccall_cancel(f->w[i].call);
	if (f->upd != NULL)
		os_rpc_ccall_cancel(f->upd);
	uv_close((uv_handle_t *)&f->timer, fan_timer_closed);
	uv_close((uv_handle_t *)&f->deadline, fan_timer_closed);
}

static bool
fan_round_complete(const struct fan *f)
{
	return f->reply && (f->phase != FAN_ROUNDS || f->ngot == f->nw);
}

static void
fan_on_gap(uv_timer_t *t)
{
	fan_next(t->data);
}

static void
fan_round_end(struct fan *f)
{
	uv_timer_stop(&f->deadline);
	f->round++;
	uv_timer_start(&f->timer, fan_on_gap, (uint64_t)f->o->gap_ms, 0);
}

static void
fan_on_deadline(uv_timer_t *t)
{
	struct fan	*f = t->data;
	char		*msg;
	bool		 rounds = f->phase == FAN_ROUNDS;
	int		 i;

	if (f->phase == FAN_OPEN)
		msg = xprintf("after %d ms only %d of %d watchers had their snapshot",
		    GL_ROUND_MS, f->nsnap, f->nw);
	else if (!rounds)
		msg = xprintf("UpdateConfig did not answer within %d ms", GL_ROUND_MS);
	else
		msg = xprintf("update %d: after %d ms %s, %d of %d watchers had the "
		    "event (revisions above %u count)", f->round + 1, GL_ROUND_MS,
		    f->reply ? "UpdateConfig had answered" :
		    "UpdateConfig had not answered", f->ngot, f->nw, f->base_version);
	fan_finish(f, msg);
	free(msg);
	for (i = 0; rounds && i < f->nw; i++)
		if (!f->w[i].got)
			fprintf(stderr, "gateway-load: watcher %d: %llu events, last "
			    "seq %llu, last revision %u\n", i,
			    (unsigned long long)f->w[i].nevents,
			    (unsigned long long)f->w[i].last_seq, f->w[i].last_version);
}

static void
fan_update_done(struct os_rpc_ccall *c, grpc_status_code st,
    const char *details, void *arg)
{
	struct fan	*f = arg;
	char		*msg;
	double		 rtt;

	f->upd = NULL;
	f->nlive--;
	if (f->phase == FAN_DONE) {
		fan_maybe_stop(f);
		return;
	}
	if (st != GRPC_STATUS_OK) {
		msg = xprintf("UpdateConfig: %s: %s", os_rpc_status_name(st), details);
		fan_finish(f, msg);
		free(msg);
		return;
	}
	rtt = gl_now_ms() - f->t0;
	f->reply = true;
	if (f->phase == FAN_ALONE)
		f->rtt_alone[f->round] = rtt;
	else if (f->phase == FAN_ROUNDS)
		f->rtt_fan[f->round] = rtt;
	if (f->phase == FAN_PRIME) {
		f->phase = FAN_ALONE;
		f->round = 0;
		uv_timer_stop(&f->deadline);
		uv_timer_start(&f->timer, fan_on_gap, (uint64_t)f->o->gap_ms, 0);
		return;
	}
	if (fan_round_complete(f))
		fan_round_end(f);
}

static void
fan_update_message(struct os_rpc_ccall *c, const ProtobufCMessage *m, void *arg)
{
	const Openshell__V1__UpdateConfigResponse	*r = (const void *)m;
	struct fan					*f = arg;

	if (f->setting)
		return;
	if (r->unchanged && f->phase != FAN_PRIME) {
		fan_finish(f, "UpdateConfig answered 'unchanged': the two policies "
		    "have the same canonical hash");
		return;
	}
	/* Counts from the next round on: this round's event may still be
	 * on its way (the reply and the events race). */
	if (r->version > f->reply_version)
		f->reply_version = r->version;
}

/* Sends the next UpdateConfig: a policy set or a setting toggle. */
static void
fan_update(struct fan *f)
{
	static const struct os_rpc_ccall_ops ops = {
		.on_message = fan_update_message,
		.on_done = fan_update_done,
	};
	Openshell__V1__UpdateConfigRequest	req =
	    OPENSHELL__V1__UPDATE_CONFIG_REQUEST__INIT;
	Openshell__Sandbox__V1__SettingValue	val =
	    OPENSHELL__SANDBOX__V1__SETTING_VALUE__INIT;
	struct os_rpc_ccall			*c;

	req.name = (char *)f->o->sandbox;
	if (f->setting) {
		req.setting_key = (char *)"policy_advisor";
		val.value_case = OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_BOOL_VALUE;
		val.bool_value = f->flip == 0;
		req.setting_value = &val;
	} else {
		req.policy_yaml = f->yaml[f->flip];
		req.policy_file = (char *)(f->flip == 0 ? f->o->policy_a : f->o->policy_b);
	}
	f->flip ^= 1;
	if (f->reply_version > f->base_version)
		f->base_version = f->reply_version;
	f->reply = false;
	f->ngot = 0;
	uv_timer_start(&f->deadline, fan_on_deadline, GL_ROUND_MS, 0);
	/* The clock starts before anything of the call exists. */
	f->t0 = gl_now_ms();
	c = os_rpc_ccall_start(&f->g->loop, f->g->ch[f->g->nch - 1],
	    GL_SERVICE "UpdateConfig", f->g->token, GL_CALL_MS,
	    &openshell__v1__update_config_response__descriptor, &ops, f);
	f->upd = c;
	f->nlive++;
	os_rpc_ccall_send(c, &req.base);
	os_rpc_ccall_close_send(c);
}

/* Is this event the one the current round's update caused? */
static bool
fan_is_change(struct fan *f, struct fan_watcher *w,
    const Openshell__V1__SandboxStreamEvent *ev)
{
	if (f->setting) {
		if (ev->payload_case != OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_CONFIG)
			return false;
		if (ev->config->config_revision == w->config_rev)
			return false;
		w->config_rev = ev->config->config_revision;
		return true;
	}
	return ev->payload_case ==
	    OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_POLICY_REVISION &&
	    ev->policy_revision->revision != NULL &&
	    ev->policy_revision->revision->version > f->base_version;
}

static void
fan_watch_message(struct os_rpc_ccall *c, const ProtobufCMessage *m, void *arg)
{
	const Openshell__V1__SandboxStreamEvent	*ev = (const void *)m;
	struct fan_watcher			*w = arg;
	struct fan				*f = w->f;
	double					 t = gl_now_ms();

	if (f->phase == FAN_DONE)
		return;
	w->nevents++;
	w->last_seq = ev->seq;
	if (ev->payload_case ==
	    OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_POLICY_REVISION &&
	    ev->policy_revision->revision != NULL)
		w->last_version = ev->policy_revision->revision->version;
	if (ev->payload_case == OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_WARNING) {
		fan_finish(f, "a watcher fell behind and was resynchronised");
		return;
	}
	if (!w->snapshot) {
		w->snapshot = true;
		if (ev->payload_case ==
		    OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_POLICY_REVISION &&
		    ev->policy_revision->revision != NULL &&
		    ev->policy_revision->revision->version > f->base_version)
			f->base_version = ev->policy_revision->revision->version;
		if (ev->payload_case == OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_CONFIG)
			w->config_rev = ev->config->config_revision;
		if (++f->nsnap == f->nw) {
			f->phase = FAN_ROUNDS;
			f->round = 0;
			uv_timer_stop(&f->deadline);
			uv_timer_start(&f->timer, fan_on_gap, (uint64_t)f->o->gap_ms, 0);
		}
		return;
	}
	if (f->phase != FAN_ROUNDS || w->got || !fan_is_change(f, w, ev))
		return;
	w->got = true;
	f->lat[f->nlat++] = t - f->t0;
	if (++f->ngot == f->nw)
		f->last[f->round] = t - f->t0;
	if (fan_round_complete(f))
		fan_round_end(f);
}

static void
fan_watch_done(struct os_rpc_ccall *c, grpc_status_code st, const char *details,
    void *arg)
{
	struct fan_watcher	*w = arg;
	struct fan		*f = w->f;
	char			*msg;

	w->done = true;
	f->nlive--;
	if (f->phase != FAN_DONE) {
		msg = xprintf("a watch stream ended: %s: %s", os_rpc_status_name(st),
		    details);
		fan_finish(f, msg);
		free(msg);
	}
	fan_maybe_stop(f);
}

static void
fan_open_watchers(struct fan *f)
{
	static const struct os_rpc_ccall_ops ops = {
		.on_message = fan_watch_message,
		.on_done = fan_watch_done,
	};
	Openshell__V1__WatchSandboxRequest	req =
	    OPENSHELL__V1__WATCH_SANDBOX_REQUEST__INIT;
	int					i;

	req.name = (char *)f->o->sandbox;
	if (f->setting)
		req.follow_config = 1;
	else
		req.follow_policy = 1;
	f->phase = FAN_OPEN;
	uv_timer_start(&f->deadline, fan_on_deadline, GL_ROUND_MS, 0);
	for (i = 0; i < f->nw; i++) {
		f->w[i].f = f;
		f->w[i].call = os_rpc_ccall_start(&f->g->loop,
		    f->g->ch[(size_t)i % (f->g->nch - 1)], GL_SERVICE "WatchSandbox",
		    f->g->token, 0, &openshell__v1__sandbox_stream_event__descriptor,
		    &ops, &f->w[i]);
		f->nlive++;
		os_rpc_ccall_send(f->w[i].call, &req.base);
		os_rpc_ccall_close_send(f->w[i].call);
	}
}

static void
fan_next(struct fan *f)
{
	int	i;

	switch (f->phase) {
	case FAN_ALONE:
		if (f->round < f->o->events) {
			fan_update(f);
			return;
		}
		fan_open_watchers(f);
		return;
	case FAN_ROUNDS:
		if (f->round < f->o->events) {
			for (i = 0; i < f->nw; i++)
				f->w[i].got = false;
			fan_update(f);
			return;
		}
		fan_finish(f, NULL);
		return;
	default:
		return;
	}
}

static int
gl_fanout(const struct gl_opts *o)
{
	struct gl	 g;
	struct fan	 f;
	char		 extra[128];
	int		 i;

	memset(&f, 0, sizeof f);
	if (o->sandbox == NULL || o->watchers < 1 || o->events < 1) {
		fprintf(stderr, "gateway-load: fanout needs --sandbox, --watchers >= 1 "
		    "and --events >= 1\n");
		return 1;
	}
	if (strcmp(o->change, "setting") == 0)
		f.setting = true;
	else if (strcmp(o->change, "policy") != 0) {
		fprintf(stderr, "gateway-load: --change policy or setting\n");
		return 1;
	} else {
		if (o->policy_a == NULL || o->policy_b == NULL) {
			fprintf(stderr, "gateway-load: --change policy needs --policy-a "
			    "and --policy-b\n");
			return 1;
		}
		if ((f.yaml[0] = gl_read_file(o->policy_a)) == NULL ||
		    (f.yaml[1] = gl_read_file(o->policy_b)) == NULL)
			return 1;
	}
	/* Watchers spread over `channels` connections; the updates go on
	 * one more of their own. */
	if (gl_open(&g, o, (size_t)o->channels + 1) != 0)
		return 1;
	f.g = &g;
	f.o = o;
	f.nw = o->watchers;
	f.w = xcalloc((size_t)f.nw, sizeof *f.w);
	f.rtt_alone = xcalloc((size_t)o->events, sizeof (double));
	f.rtt_fan = xcalloc((size_t)o->events, sizeof (double));
	f.last = xcalloc((size_t)o->events, sizeof (double));
	f.lat = xcalloc((size_t)o->events * (size_t)f.nw, sizeof (double));
	uv_timer_init(&g.uv, &f.timer);
	uv_timer_init(&g.uv, &f.deadline);
	f.timer.data = f.deadline.data = &f;

	/* Prime: policy A (or the setting on), which may well be unchanged;
	 * then the timed updates alternate B, A, ... (off, on, ...). */
	f.phase = FAN_PRIME;
	fan_update(&f);
	uv_run(&g.uv, UV_RUN_DEFAULT);
	gl_close(&g);

	if (!f.failed) {
		gl_print_dist("updateconfig_alone", f.rtt_alone, (size_t)o->events, NULL);
		snprintf(extra, sizeof extra, "watchers=%d", f.nw);
		gl_print_dist("updateconfig_with_watchers", f.rtt_fan,
		    (size_t)o->events, extra);
		snprintf(extra, sizeof extra, "watchers=%d events=%d change=%s "
		    "channels=%d", f.nw, o->events, o->change, o->channels);
		gl_print_dist("fanout", f.lat, f.nlat, extra);
		snprintf(extra, sizeof extra, "watchers=%d", f.nw);
		gl_print_dist("fanout_last", f.last, (size_t)o->events, extra);
	}
	for (i = 0; i < 2; i++)
		free(f.yaml[i]);
	free(f.w);
	free(f.rtt_alone);
	free(f.rtt_fan);
	free(f.last);
	free(f.lat);
	return f.failed ? 1 : 0;
}

/* ------------------------------------------------------------------------
 */
static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: gateway-load rate --state DIR --method Health|GetSandboxConfig\n"
	    "           [--sandbox ID] [--seconds S] [--warmup S] [--inflight N] [--channels C]\n"
	    "       gateway-load fanout --state DIR --sandbox NAME [--watchers W] [--events K]\n"
	    "           [--change policy|setting] [--policy-a FILE --policy-b FILE]\n"
	    "           [--channels C] [--gap-ms G]\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 'd' },
		{ "method", required_argument, NULL, 'm' },
		{ "sandbox", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 't' },
		{ "warmup", required_argument, NULL, 'u' },
		{ "inflight", required_argument, NULL, 'n' },
		{ "channels", required_argument, NULL, 'c' },
		{ "watchers", required_argument, NULL, 'w' },
		{ "events", required_argument, NULL, 'k' },
		{ "change", required_argument, NULL, 'x' },
		{ "policy-a", required_argument, NULL, 'a' },
		{ "policy-b", required_argument, NULL, 'b' },
		{ "gap-ms", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct gl_opts	o = {
		.method = "Health", .change = "policy", .seconds = 5, .warmup = 0.5,
		.inflight = 32, .channels = 0, .watchers = 100, .events = 100,
		.gap_ms = 25,
	};
	int		ch;

	if (argc < 2 || argv[1][0] == '-') {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 1 : 0;
	}
	o.mode = argv[1];
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': o.state = optarg; break;
		case 'm': o.method = optarg; break;
		case 's': o.sandbox = optarg; break;
		case 't': o.seconds = atof(optarg); break;
		case 'u': o.warmup = atof(optarg); break;
		case 'n': o.inflight = atoi(optarg); break;
		case 'c': o.channels = atoi(optarg); break;
		case 'w': o.watchers = atoi(optarg); break;
		case 'k': o.events = atoi(optarg); break;
		case 'x': o.change = optarg; break;
		case 'a': o.policy_a = optarg; break;
		case 'b': o.policy_b = optarg; break;
		case 'g': o.gap_ms = atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (o.state == NULL || optind != argc || o.seconds <= 0 || o.inflight < 1 ||
	    o.gap_ms < 0) {
		usage(stderr);
		return 1;
	}
	os_log_init("gateway-load", OS_LOG_WARN);
	if (strcmp(o.mode, "rate") == 0) {
		if (o.channels < 1)
			o.channels = 1;
		return gl_rate(&o);
	}
	if (strcmp(o.mode, "fanout") == 0) {
		/* Default: one connection per watcher, as separate consoles. */
		if (o.channels < 1 || o.channels > o.watchers)
			o.channels = o.watchers;
		return gl_fanout(&o);
	}
	usage(stderr);
	return 1;
}
