/*
 * The settings registry: every knob of the gateway and its sandboxes, with
 * a type, a default, a scope and validation. A value set at gateway scope
 * wins over a sandbox's own value, so an operator can pin a knob for every
 * sandbox at once.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway.h"

static const char *const approval_modes[] = { "manual", "auto", NULL };
static const char *const advisor_modes[] = { "mechanistic", "llm", NULL };
static const char *const log_levels[] = { "error", "warn", "info", "debug", NULL };

static const struct gw_setting_def gw_settings[] = {
	{ "approval_mode", GW_SETTING_STRING,
	  N_("how proposed chunks are decided: manual (an operator approves each) "
	  "or auto (chunks with no security notes are approved automatically)"),
	  "manual", false, approval_modes, 0, 0 },
	{ "draft_expiry", GW_SETTING_DURATION,
	  N_("how long a pending chunk waits for a decision before it expires"),
	  "1h", false, NULL, 60, 30 * 86400 },
	{ "draft_pending_cap", GW_SETTING_INT,
	  N_("most pending chunks a sandbox may have; further proposals are refused"),
	  "10", false, NULL, 1, 1000 },
	{ "draft_rejection_backoff", GW_SETTING_INT,
	  N_("rejections of one host:port after which it is no longer proposed"),
	  "2", false, NULL, 0, 100 },
	{ "draft_backoff_duration", GW_SETTING_DURATION,
	  N_("how long a backed-off host:port stays quiet"),
	  "1h", false, NULL, 60, 30 * 86400 },
	{ "permissive_allowed", GW_SETTING_BOOL,
	  N_("whether sandboxes may run in permissive discovery mode"),
	  "true", true, NULL, 0, 0 },
	{ "permissive_max_ttl", GW_SETTING_DURATION,
	  N_("longest permissive discovery session"),
	  "1h", true, NULL, 60, 7 * 86400 },
	{ "permissive_default_ttl", GW_SETTING_DURATION,
	  N_("permissive session length when none is given"),
	  "15m", false, NULL, 60, 7 * 86400 },
	{ "policy_advisor", GW_SETTING_BOOL,
	  N_("whether sandboxes turn denials into proposed chunks"),
	  "true", false, NULL, 0, 0 },
	{ "policy_advisor_mode", GW_SETTING_STRING,
	  N_("how chunks are proposed: mechanistic rules or an LLM through inference.local"),
	  "mechanistic", false, advisor_modes, 0, 0 },
	{ "inference_endpoint", GW_SETTING_STRING,
	  N_("OpenAI-compatible base URL that inference.local routes to (empty = none)"),
	  "", true, NULL, 0, 0 },
	{ "inference_model", GW_SETTING_STRING,
	  N_("model name sent to the inference endpoint"),
	  "", true, NULL, 0, 0 },
	{ "log_ring_lines", GW_SETTING_INT,
	  N_("log lines the gateway keeps per sandbox"),
	  "10000", true, NULL, 100, 1000000 },
	{ "sandbox_log_level", GW_SETTING_STRING,
	  N_("least severe level a sandbox sends to the gateway"),
	  "info", false, log_levels, 0, 0 },
	{ "sandbox_log_file_mb", GW_SETTING_INT,
	  N_("size in MiB at which a sandbox's /var/log/openshell.log is rotated "
	  "(one older file is kept)"),
	  "64", false, NULL, 1, 65536 },
};

const struct gw_setting_def *
gw_setting_defs(size_t *n)
{
	*n = OS_NELEM(gw_settings);
	return gw_settings;
}

const struct gw_setting_def *
gw_setting_find(const char *key)
{
	size_t	i;

	for (i = 0; i < OS_NELEM(gw_settings); i++) {
		if (strcmp(gw_settings[i].key, key) == 0)
			return &gw_settings[i];
	}
	return NULL;
}

static int
gw_setting_check_range(const struct gw_setting_def *d, int64_t v,
    struct os_error *err)
{
	if (d->min == 0 && d->max == 0)
		return 0;
	if (v < d->min || v > d->max) {
		if (d->type == GW_SETTING_DURATION)
			return os_error_set(err, -EINVAL,
			    _("%s: %" PRId64 "s is out of range (%" PRId64 "s to %" PRId64 "s)"),
			    d->key, v, d->min, d->max);
		return os_error_set(err, -EINVAL,
		    _("%s: %" PRId64 " is out of range (%" PRId64 " to %" PRId64 ")"),
		    d->key, v, d->min, d->max);
	}
	return 0;
}

static int
gw_setting_check_string(const struct gw_setting_def *d, const char *s,
    struct os_error *err)
{
	struct os_buf	b = OS_BUF_INIT;
	size_t		i;

	if (d->allowed == NULL)
		return 0;
	for (i = 0; d->allowed[i] != NULL; i++) {
		if (strcmp(d->allowed[i], s) == 0)
			return 0;
	}
	for (i = 0; d->allowed[i] != NULL; i++)
		os_buf_addf(&b, "%s%s", i ? ", " : "", d->allowed[i]);
	os_error_set(err, -EINVAL, _("%s: unknown value '%s' (expected one of: %s)"),
	    d->key, s, os_buf_str(&b));
	os_buf_free(&b);
	return err->code;
}

int
gw_setting_parse(const struct gw_setting_def *d, const char *text,
    GwPbSettingValue *out, char **str_out, struct os_error *err)
{
	long long	 v;
	int64_t		 secs;
	char		*end;

	openshell__sandbox__v1__setting_value__init(out);
	*str_out = NULL;
	switch (d->type) {
	case GW_SETTING_BOOL:
		out->value_case = OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_BOOL_VALUE;
		if (strcasecmp(text, "true") == 0 || strcasecmp(text, "yes") == 0 ||
		    strcasecmp(text, "on") == 0 || strcmp(text, "1") == 0)
			out->bool_value = 1;
		else if (strcasecmp(text, "false") == 0 || strcasecmp(text, "no") == 0 ||
		    strcasecmp(text, "off") == 0 || strcmp(text, "0") == 0)
			out->bool_value = 0;
		else
			return os_error_set(err, -EINVAL,
			    _("%s: '%s' is not a boolean (true or false)"), d->key, text);
		return 0;
	case GW_SETTING_INT:
		errno = 0;
		v = strtoll(text, &end, 10);
		if (*text == '\0' || *end != '\0' || errno != 0)
			return os_error_set(err, -EINVAL,
			    _("%s: '%s' is not an integer"), d->key, text);
		out->value_case = OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_INT_VALUE;
		out->int_value = v;
		return gw_setting_check_range(d, v, err);
	case GW_SETTING_DURATION:
		if (os_parse_duration(text, &secs) != 0)
			return os_error_set(err, -EINVAL,
			    _("%s: '%s' is not a duration (like 90s, 15m, 1h, 2d)"),
			    d->key, text);
		out->value_case = OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_INT_VALUE;
		out->int_value = secs;
		return gw_setting_check_range(d, secs, err);
	case GW_SETTING_STRING:
		if (gw_setting_check_string(d, text, err) != 0)
			return err->code;
		*str_out = xstrdup(text);
		out->value_case = OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_STRING_VALUE;
		out->string_value = *str_out;
		return 0;
	}
	return os_error_set(err, -EINVAL, "%s: unknown type", d->key);
}

int
gw_setting_check(const struct gw_setting_def *d, const GwPbSettingValue *v,
    struct os_error *err)
{
	switch (d->type) {
	case GW_SETTING_BOOL:
	case GW_SETTING_INT:
	case GW_SETTING_DURATION:
		if (v->value_case == OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_STRING_VALUE) {
			/* What a user typed ("15m", "off"), as the CLI sends
			 * it: parsed with the key's type. */
			GwPbSettingValue	 tmp;
			char			*s;
			int			 rc;

			rc = gw_setting_parse(d, v->string_value, &tmp, &s, err);
			free(s);
			return rc;
		}
		if (d->type == GW_SETTING_BOOL) {
			if (v->value_case != OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_BOOL_VALUE)
				return os_error_set(err, -EINVAL, _("%s: expected a boolean"),
				    d->key);
			return 0;
		}
		if (v->value_case != OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_INT_VALUE)
			return os_error_set(err, -EINVAL, _("%s: expected an integer"), d->key);
		return gw_setting_check_range(d, v->int_value, err);
	case GW_SETTING_STRING:
		if (v->value_case != OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_STRING_VALUE)
			return os_error_set(err, -EINVAL, _("%s: expected a string"), d->key);
		return gw_setting_check_string(d, v->string_value, err);
	}
	return os_error_set(err, -EINVAL, "%s: unknown type", d->key);
}

/*
 * The stored value at a scope, unpacked; NULL when unset. Free with
 * protobuf_c_message_free_unpacked.
 */
static GwPbSettingValue *
gw_setting_stored(struct gw *gw, const char *scope, const char *key)
{
	struct store_setting	 s;
	struct os_error		 err;
	GwPbSettingValue	*v;

	memset(&s, 0, sizeof s);
	if (store_setting_get(gw->store, scope, key, &s, &err) != 0)
		return NULL;
	v = openshell__sandbox__v1__setting_value__unpack(NULL, s.value_len, s.value);
	store_setting_clear(&s);
	return v;
}

/* Effective stored value and its scope, or NULL for the default. */
static GwPbSettingValue *
gw_setting_lookup(struct gw *gw, const char *sandbox_id,
    const struct gw_setting_def *d, Openshell__Sandbox__V1__SettingScope *scope)
{
	GwPbSettingValue	*v;

	if ((v = gw_setting_stored(gw, "", d->key)) != NULL) {
		*scope = OPENSHELL__SANDBOX__V1__SETTING_SCOPE__SETTING_SCOPE_GATEWAY;
		return v;
	}
	if (sandbox_id != NULL && !d->gateway_only &&
	    (v = gw_setting_stored(gw, sandbox_id, d->key)) != NULL) {
		*scope = OPENSHELL__SANDBOX__V1__SETTING_SCOPE__SETTING_SCOPE_SANDBOX;
		return v;
	}
	*scope = OPENSHELL__SANDBOX__V1__SETTING_SCOPE__SETTING_SCOPE_UNSPECIFIED;
	return NULL;
}

void
gw_setting_effective(struct gw *gw, const char *sandbox_id,
    const struct gw_setting_def *d, Openshell__Sandbox__V1__EffectiveSetting *eff,
    GwPbSettingValue *val, char **str_owned)
{
	Openshell__Sandbox__V1__SettingScope	 scope;
	GwPbSettingValue			*v;
	struct os_error				 err;

	*str_owned = NULL;
	openshell__sandbox__v1__effective_setting__init(eff);
	v = gw_setting_lookup(gw, sandbox_id, d, &scope);
	if (v != NULL && gw_setting_check(d, v, &err) == 0) {
		openshell__sandbox__v1__setting_value__init(val);
		val->value_case = v->value_case;
		switch (v->value_case) {
		case OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_STRING_VALUE:
			*str_owned = xstrdup(v->string_value);
			val->string_value = *str_owned;
			break;
		case OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_BOOL_VALUE:
			val->bool_value = v->bool_value;
			break;
		case OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_INT_VALUE:
			val->int_value = v->int_value;
			break;
		default:
			break;
		}
	} else {
		/* The registry's defaults always parse. */
		gw_setting_parse(d, d->default_value, val, str_owned, &err);
		scope = OPENSHELL__SANDBOX__V1__SETTING_SCOPE__SETTING_SCOPE_UNSPECIFIED;
	}
	if (v != NULL)
		protobuf_c_message_free_unpacked(&v->base, NULL);
	eff->value = val;
	eff->scope = scope;
}

bool
gw_setting_bool(struct gw *gw, const char *sandbox_id, const char *key)
{
	Openshell__Sandbox__V1__EffectiveSetting	 eff;
	GwPbSettingValue			 val;
	const struct gw_setting_def		*d;
	char					*s;
	bool					 r;

	if ((d = gw_setting_find(key)) == NULL)
		return false;
	gw_setting_effective(gw, sandbox_id, d, &eff, &val, &s);
	r = val.bool_value != 0;
	free(s);
	return r;
}

int64_t
gw_setting_int(struct gw *gw, const char *sandbox_id, const char *key)
{
	Openshell__Sandbox__V1__EffectiveSetting	 eff;
	GwPbSettingValue			 val;
	const struct gw_setting_def		*d;
	char					*s;

	if ((d = gw_setting_find(key)) == NULL)
		return 0;
	gw_setting_effective(gw, sandbox_id, d, &eff, &val, &s);
	free(s);
	return val.int_value;
}

char *
gw_setting_string(struct gw *gw, const char *sandbox_id, const char *key)
{
	Openshell__Sandbox__V1__EffectiveSetting	 eff;
	GwPbSettingValue			 val;
	const struct gw_setting_def		*d;
	char					*s;

	if ((d = gw_setting_find(key)) == NULL)
		return xstrdup("");
	gw_setting_effective(gw, sandbox_id, d, &eff, &val, &s);
	return s != NULL ? s : xstrdup("");
}
