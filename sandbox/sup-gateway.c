/*
 * The supervisor's gateway client: the first config (blocking, before the
 * sandbox exists), then a WatchSandbox stream that pushes every new
 * config the moment the gateway commits it. Each policy revision is
 * compiled and swapped in, and its status reported. When the gateway goes
 * away the last good policy stays in force (never fail open) and the
 * stream is re-established with backoff.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 10000

static SupPbConfig *
config_copy(const SupPbConfig *c)
{
	uint8_t		*buf;
	size_t		 len;
	SupPbConfig	*out;

	len = protobuf_c_message_get_packed_size(&c->base);
	buf = xmalloc(len + 1);
	protobuf_c_message_pack(&c->base, buf);
	out = openshell__sandbox__v1__get_sandbox_config_response__unpack(NULL,
	    len, buf);
	free(buf);
	return out;
}

int
sup_gateway_fetch_config(struct sup *s, struct os_error *err)
{
	Openshell__Sandbox__V1__GetSandboxConfigRequest	 req =
	    OPENSHELL__SANDBOX__V1__GET_SANDBOX_CONFIG_REQUEST__INIT;
	ProtobufCMessage				*resp;
	grpc_status_code				 st;
	int64_t						 deadline, wait = 100;

	req.sandbox_id = s->id;
	deadline = os_mono_ms() + 60000;
	for (;;) {
		st = os_rpc_call_sync(s->ch, "/openshell.v1.OpenShell/GetSandboxConfig",
		    s->token, &req.base,
		    &openshell__sandbox__v1__get_sandbox_config_response__descriptor,
		    &resp, 10000, err);
		if (st == GRPC_STATUS_OK) {
			s->config = (SupPbConfig *)resp;
			return 0;
		}
		/* Only an unreachable gateway is worth waiting for. */
		if (st != GRPC_STATUS_UNAVAILABLE || os_mono_ms() > deadline) {
			os_error_prefix(err, "GetSandboxConfig: %s", os_rpc_status_name(st));
			return -EIO;
		}
		usleep((useconds_t)wait * 1000);
		if (wait < 2000)
			wait *= 2;
	}
}

/* ------------------------------------------------------------------------
 * Policy status reports
 */

struct report {
	struct sup	*s;
	uint32_t	 version;
	bool		 loaded;
};

static void
report_message(struct os_rpc_ccall *c, const ProtobufCMessage *m, void *arg)
{
}

static void
report_done(struct os_rpc_ccall *c, grpc_status_code st, const char *details,
    void *arg)
{
	struct report	*r = arg;

	if (st == GRPC_STATUS_OK) {
		if (r->version > r->s->reported_version)
			r->s->reported_version = r->version;
	} else
		log_warn("cannot report policy %u %s: %s: %s (will retry)", r->version,
		    r->loaded ? "LOADED" : "FAILED", os_rpc_status_name(st), details);
	free(r);
}

static void
report_status(struct sup *s, uint32_t version, bool loaded, const char *error)
{
	static const struct os_rpc_ccall_ops ops = {
		report_message, report_done, NULL,
	};
	Openshell__V1__ReportPolicyStatusRequest	req =
	    OPENSHELL__V1__REPORT_POLICY_STATUS_REQUEST__INIT;
	struct os_rpc_ccall				*c;
	struct report					*r;

	r = xcalloc(1, sizeof *r);
	r->s = s;
	r->version = version;
	r->loaded = loaded;
	req.sandbox_id = s->id;
	req.version = version;
	req.status = loaded ? OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_LOADED :
	    OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_FAILED;
	req.load_error = (char *)(error != NULL ? error : "");
	c = os_rpc_ccall_start(&s->loop, s->ch,
	    "/openshell.v1.OpenShell/ReportPolicyStatus", s->token, 10000,
	    &openshell__v1__report_policy_status_response__descriptor, &ops, r);
	os_rpc_ccall_send(c, &req.base);
	os_rpc_ccall_close_send(c);
}

/* ------------------------------------------------------------------------
 * Applying a config
 */

static int
compile_policy(struct sup *s, const SupPbConfig *cfg, struct os_matcher **out,
    char **error)
{
	struct os_policy	*p = NULL;
	struct os_diags		 d = OS_DIAGS_INIT;

	*out = NULL;
	*error = NULL;
	if (cfg->policy == NULL) {
		*error = xstrdup("the config carries no policy");
		return -EINVAL;
	}
	if (os_policy_from_proto(cfg->policy, &p, &d) != 0 ||
	    os_policy_validate(p, NULL, NULL, &d) != 0) {
		*error = os_diags_format(&d);
		if (**error != '\0' && (*error)[strlen(*error) - 1] == '\n')
			(*error)[strlen(*error) - 1] = '\0';
		os_diags_free(&d);
		os_policy_free(p);
		return -EINVAL;
	}
	os_diags_free(&d);
	sup_policy_resolve_binaries(s, p);
	*out = os_matcher_new(p, ++s->generation);
	os_policy_free(p);
	return 0;
}

/* The value of a setting of the config, when it is of the kind asked. */
static const Openshell__Sandbox__V1__SettingValue *
config_setting(const SupPbConfig *cfg, const char *key, int value_case)
{
	size_t	i;

	for (i = 0; i < cfg->n_settings; i++) {
		if (strcmp(cfg->settings[i]->key, key) == 0 &&
		    cfg->settings[i]->value != NULL &&
		    cfg->settings[i]->value->value != NULL &&
		    (int)cfg->settings[i]->value->value->value_case == value_case)
			return cfg->settings[i]->value->value;
	}
	return NULL;
}

static const char *
config_setting_string(const SupPbConfig *cfg, const char *key)
{
	const Openshell__Sandbox__V1__SettingValue *v = config_setting(cfg, key,
	    OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_STRING_VALUE);

	return v != NULL ? v->string_value : NULL;
}

/* -1 when the setting is absent or not an integer. */
static int64_t
config_setting_int(const SupPbConfig *cfg, const char *key)
{
	const Openshell__Sandbox__V1__SettingValue *v = config_setting(cfg, key,
	    OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_INT_VALUE);

	return v != NULL ? v->int_value : -1;
}

void
sup_apply_config(struct sup *s, const SupPbConfig *cfg)
{
	struct os_matcher	*m;
	char			*error;
	const char		*level;
	bool			 permissive;
	int64_t			 mb;

	if ((level = config_setting_string(cfg, "sandbox_log_level")) != NULL)
		sup_log_set_push_level(s, level);
	if ((mb = config_setting_int(cfg, "sandbox_log_file_mb")) > 0)
		sup_log_set_file_max(s, (uint64_t)mb << 20);

	permissive = cfg->permissive != NULL && cfg->permissive->enabled;
	if (s->proxy != NULL)
		proxy_set_permissive(s->proxy, permissive,
		    permissive ? cfg->permissive->expires_at_ms : 0);

	if (s->matcher != NULL && cfg->version == s->loaded_version) {
		/* Same revision (a settings change): re-report if it got lost. */
		if (s->reported_version < cfg->version)
			report_status(s, cfg->version, true, NULL);
		goto keep;
	}
	if (compile_policy(s, cfg, &m, &error) != 0) {
		/* Fail closed: the last good revision (or nothing) stays. */
		sup_logf(s, OS_LOG_ERROR, "policy",
		    "event=policy_failed version=%u error=\"%s\"", cfg->version, error);
		report_status(s, cfg->version, false, error);
		free(error);
		goto keep;
	}
	if (s->matcher != NULL)
		os_matcher_unref(s->matcher);
	s->matcher = m;
	s->loaded_version = cfg->version;
	if (s->proxy != NULL)
		proxy_set_matcher(s->proxy, m);
	sup_logf(s, OS_LOG_INFO, "policy",
	    "event=policy_loaded version=%u hash=%.12s network_policies=%zu",
	    cfg->version, cfg->policy_hash, cfg->policy->n_network_policies);
	report_status(s, cfg->version, true, NULL);
keep:
	if (s->config != cfg) {
		if (s->config != NULL)
			protobuf_c_message_free_unpacked(&s->config->base, NULL);
		s->config = config_copy(cfg);
	}
}

/* ------------------------------------------------------------------------
 * The watch stream
 */

static void	watch_start(struct sup *);

static void
watch_message(struct os_rpc_ccall *c, const ProtobufCMessage *m, void *arg)
{
	const Openshell__V1__SandboxStreamEvent	*ev = (const void *)m;
	struct sup				*s = arg;

	if (!s->connected) {
		s->connected = true;
		s->backoff_ms = BACKOFF_MIN_MS;
		log_info("connected to the gateway");
	}
	if (ev->payload_case == OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_CONFIG)
		sup_apply_config(s, ev->config);
}

static void
reconnect_fire(uv_timer_t *t)
{
	watch_start(t->data);
}

static void
watch_done(struct os_rpc_ccall *c, grpc_status_code st, const char *details,
    void *arg)
{
	struct sup	*s = arg;

	s->watch = NULL;
	if (s->stopping)
		return;
	if (st == GRPC_STATUS_UNAUTHENTICATED) {
		/* The gateway answers, and no longer knows our token: the
		 * sandbox is gone from its store. Nobody will ever take it. */
		log_error("the gateway refused this sandbox's token (%s); the "
		    "sandbox no longer exists there, stopping", details);
		s->exit_code = 1;
		kill(getpid(), SIGTERM);
		return;
	}
	if (s->connected)
		log_warn("lost the gateway (%s: %s); enforcing policy revision %u "
		    "and reconnecting", os_rpc_status_name(st), details,
		    s->loaded_version);
	s->connected = false;
	uv_timer_start(&s->reconnect, reconnect_fire, (uint64_t)s->backoff_ms, 0);
	s->backoff_ms = sup_backoff_next(s->backoff_ms, BACKOFF_MAX_MS);
}

static void
watch_start(struct sup *s)
{
	static const struct os_rpc_ccall_ops ops = {
		watch_message, watch_done, NULL,
	};
	Openshell__V1__WatchSandboxRequest	req =
	    OPENSHELL__V1__WATCH_SANDBOX_REQUEST__INIT;

	if (s->stopping)
		return;
	req.name = s->id;
	req.follow_config = 1;
	s->watch = os_rpc_ccall_start(&s->loop, s->ch,
	    "/openshell.v1.OpenShell/WatchSandbox", s->token, 0,
	    &openshell__v1__sandbox_stream_event__descriptor, &ops, s);
	os_rpc_ccall_send(s->watch, &req.base);
	os_rpc_ccall_close_send(s->watch);
}

void
sup_gateway_start(struct sup *s)
{
	uv_timer_init(s->uv, &s->reconnect);
	s->reconnect.data = s;
	s->backoff_ms = BACKOFF_MIN_MS;
	s->connected = true;     /* the config fetch just succeeded */
	watch_start(s);
}

void
sup_gateway_stop(struct sup *s)
{
	uv_timer_stop(&s->reconnect);
	uv_close((uv_handle_t *)&s->reconnect, NULL);
	if (s->watch != NULL)
		os_rpc_ccall_cancel(s->watch);
}
