/*
 * openshell settings list|get|set|unset: the gateway's one registry of
 * knobs. A value set for the gateway applies to every sandbox and wins
 * over a value set for one sandbox (--sandbox NAME).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef Openshell__Sandbox__V1__SettingValue	SetPbValue;

struct settings_opts {
	const char	*sandbox;
	bool		 json;
	char	       **args;
	int		 nargs;
};

static void
settings_usage(FILE *f)
{
	fprintf(f, _("usage: openshell settings list [--sandbox NAME] [--json]\n"
	    "       openshell settings get KEY [--sandbox NAME] [--json]\n"
	    "       openshell settings set KEY VALUE [--sandbox NAME]\n"
	    "       openshell settings unset KEY [--sandbox NAME]\n\n"
	    "Without --sandbox a value applies to the whole gateway and wins over\n"
	    "a sandbox's own. Durations take 30s, 5m, 1h or 2d.\n"));
}

/* Returns -1 to go on, or the exit status. */
static int
settings_parse(int argc, char **argv, int nargs, struct settings_opts *o)
{
	static const struct option opts[] = {
		{ "sandbox", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int	c;

	memset(o, 0, sizeof *o);
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->sandbox = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			settings_usage(stdout);
			return CLI_EXIT_OK;
		default:
			settings_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != nargs) {
		cli_errx(_("settings %s: wrong number of arguments"), argv[0]);
		settings_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	o->args = argv + optind;
	o->nargs = nargs;
	return -1;
}

static void
settings_value_str(const SetPbValue *v, Openshell__V1__SettingType type,
    char *buf, size_t len)
{
	if (v == NULL) {
		snprintf(buf, len, "-");
		return;
	}
	switch (v->value_case) {
	case OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_STRING_VALUE:
		snprintf(buf, len, "%s", *v->string_value != '\0' ?
		    v->string_value : "\"\"");
		break;
	case OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_BOOL_VALUE:
		snprintf(buf, len, "%s", v->bool_value ? "true" : "false");
		break;
	case OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_INT_VALUE:
		if (type == OPENSHELL__V1__SETTING_TYPE__SETTING_TYPE_DURATION) {
			int64_t s = v->int_value;

			if (s != 0 && s % 86400 == 0)
				snprintf(buf, len, "%lldd", (long long)(s / 86400));
			else if (s != 0 && s % 3600 == 0)
				snprintf(buf, len, "%lldh", (long long)(s / 3600));
			else if (s != 0 && s % 60 == 0)
				snprintf(buf, len, "%lldm", (long long)(s / 60));
			else
				snprintf(buf, len, "%llds", (long long)s);
		} else
			snprintf(buf, len, "%lld", (long long)v->int_value);
		break;
	default:
		snprintf(buf, len, "-");
	}
}

static const char *
settings_scope_name(Openshell__Sandbox__V1__SettingScope s)
{
	switch (s) {
	case OPENSHELL__SANDBOX__V1__SETTING_SCOPE__SETTING_SCOPE_GATEWAY:
		return "gateway";
	case OPENSHELL__SANDBOX__V1__SETTING_SCOPE__SETTING_SCOPE_SANDBOX:
		return "sandbox";
	default:
		return "default";
	}
}

static int
settings_fetch(struct cli_conn *c, const char *sandbox,
    Openshell__V1__ListSettingsResponse **resp)
{
	Openshell__V1__ListSettingsRequest	req =
	    OPENSHELL__V1__LIST_SETTINGS_REQUEST__INIT;

	req.name = (char *)(sandbox != NULL ? sandbox : "");
	return cli_call(c, "ListSettings", &req.base,
	    &openshell__v1__list_settings_response__descriptor,
	    (ProtobufCMessage **)resp);
}

static int
settings_list(int argc, char **argv)
{
	Openshell__V1__ListSettingsResponse	*resp = NULL;
	struct settings_opts			 o;
	struct cli_conn				 conn;
	struct cli_table			*t;
	const char				*hdr[] = {
		_("KEY"), _("VALUE"), _("SCOPE"), _("DEFAULT"), _("DESCRIPTION"),
	};
	char					 val[256], def[256];
	size_t					 i;
	int					 rc;

	if ((rc = settings_parse(argc, argv, 0, &o)) >= 0)
		return rc;
	if ((rc = cli_connect(&conn)) != CLI_EXIT_OK)
		return rc;
	if ((rc = settings_fetch(&conn, o.sandbox, &resp)) == CLI_EXIT_OK) {
		if (o.json)
			cli_print_json(&resp->base);
		else {
			t = cli_table_new(hdr, OS_NELEM(hdr));
			for (i = 0; i < resp->n_settings; i++) {
				const Openshell__V1__SettingInfo *s = resp->settings[i];
				const char *row[5];

				settings_value_str(s->effective != NULL ?
				    s->effective->value : s->default_value, s->type,
				    val, sizeof val);
				settings_value_str(s->default_value, s->type, def,
				    sizeof def);
				row[0] = s->key;
				row[1] = val;
				row[2] = settings_scope_name(s->effective != NULL ?
				    s->effective->scope : 0);
				row[3] = def;
				row[4] = s->description;
				cli_table_add(t, row);
			}
			cli_table_print(t, stdout);
		}
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	}
	cli_conn_close(&conn);
	return rc;
}

static int
settings_get(int argc, char **argv)
{
	Openshell__V1__ListSettingsResponse	*resp = NULL;
	const Openshell__V1__SettingInfo	*s = NULL;
	struct settings_opts			 o;
	struct cli_conn				 conn;
	char					 val[256];
	size_t					 i;
	int					 rc;

	if ((rc = settings_parse(argc, argv, 1, &o)) >= 0)
		return rc;
	if ((rc = cli_connect(&conn)) != CLI_EXIT_OK)
		return rc;
	if ((rc = settings_fetch(&conn, o.sandbox, &resp)) == CLI_EXIT_OK) {
		for (i = 0; i < resp->n_settings; i++)
			if (strcmp(resp->settings[i]->key, o.args[0]) == 0)
				s = resp->settings[i];
		if (s == NULL) {
			cli_errx(_("unknown setting '%s' (see 'openshell settings "
			    "list')"), o.args[0]);
			rc = CLI_EXIT_FAIL;
		} else if (o.json)
			cli_print_json(&s->base);
		else {
			settings_value_str(s->effective != NULL ? s->effective->value :
			    s->default_value, s->type, val, sizeof val);
			printf("%s\n", val);
		}
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	}
	cli_conn_close(&conn);
	return rc;
}

static int
settings_update(int argc, char **argv, bool unset)
{
	Openshell__V1__UpdateConfigRequest	 req =
	    OPENSHELL__V1__UPDATE_CONFIG_REQUEST__INIT;
	Openshell__V1__UpdateConfigResponse	*resp = NULL;
	SetPbValue				 v = OPENSHELL__SANDBOX__V1__SETTING_VALUE__INIT;
	struct settings_opts			 o;
	struct cli_conn				 conn;
	size_t					 i;
	int					 rc;

	if ((rc = settings_parse(argc, argv, unset ? 1 : 2, &o)) >= 0)
		return rc;
	req.setting_key = o.args[0];
	req.gateway_scope = o.sandbox == NULL;
	req.name = (char *)(o.sandbox != NULL ? o.sandbox : "");
	req.delete_setting = unset;
	if (!unset) {
		/* The gateway parses what was typed with the key's type. */
		v.value_case = OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_STRING_VALUE;
		v.string_value = o.args[1];
		req.setting_value = &v;
	}
	if ((rc = cli_connect(&conn)) != CLI_EXIT_OK)
		return rc;
	rc = cli_call(&conn, "UpdateConfig", &req.base,
	    &openshell__v1__update_config_response__descriptor,
	    (ProtobufCMessage **)&resp);
	if (rc == CLI_EXIT_OK) {
		for (i = 0; i < resp->n_notes; i++)
			fprintf(stderr, "openshell: %s\n", resp->notes[i]);
		if (unset)
			printf(_("%s unset for %s%s\n"), o.args[0],
			    o.sandbox != NULL ? _("sandbox ") : _("the gateway"),
			    o.sandbox != NULL ? o.sandbox : "");
		else
			printf(_("%s = %s for %s%s\n"), o.args[0], o.args[1],
			    o.sandbox != NULL ? _("sandbox ") : _("the gateway"),
			    o.sandbox != NULL ? o.sandbox : "");
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	}
	cli_conn_close(&conn);
	return rc;
}

static int
settings_set(int argc, char **argv)
{
	return settings_update(argc, argv, false);
}

static int
settings_unset(int argc, char **argv)
{
	return settings_update(argc, argv, true);
}

int
cli_settings(int argc, char **argv)
{
	static const struct cli_command cmds[] = {
		{ "list", N_("every setting with its value and scope"), settings_list },
		{ "get", N_("one setting's value"), settings_get },
		{ "set", N_("change a setting"), settings_set },
		{ "unset", N_("go back to the default (or the gateway's value)"),
		    settings_unset },
	};

	return cli_dispatch(cmds, OS_NELEM(cmds), argc, argv, settings_usage);
}
