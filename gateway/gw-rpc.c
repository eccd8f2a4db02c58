/*
 * The OpenShell service's method table, the listeners, and the periodic
 * tick (expiries that nobody's request would otherwise notice).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gateway.h"
#include "gw-tls.h"

#define M(name) "/openshell.v1.OpenShell/" name

int
gw_rpc_start(struct gw *gw, struct os_error *err)
{
	const struct os_rpc_method methods[] = {
		{ M("Health"), OS_RPC_UNARY,
		  &openshell__v1__health_request__descriptor, gw_rpc_health, gw },
		{ M("GetGatewayInfo"), OS_RPC_UNARY,
		  &openshell__v1__get_gateway_info_request__descriptor,
		  gw_rpc_gateway_info, gw },
		{ M("CreateSandbox"), OS_RPC_UNARY,
		  &openshell__v1__create_sandbox_request__descriptor,
		  gw_rpc_create_sandbox, gw },
		{ M("GetSandbox"), OS_RPC_UNARY,
		  &openshell__v1__get_sandbox_request__descriptor,
		  gw_rpc_get_sandbox, gw },
		{ M("ListSandboxes"), OS_RPC_UNARY,
		  &openshell__v1__list_sandboxes_request__descriptor,
		  gw_rpc_list_sandboxes, gw },
		{ M("DeleteSandbox"), OS_RPC_UNARY,
		  &openshell__v1__delete_sandbox_request__descriptor,
		  gw_rpc_delete_sandbox, gw },
		{ M("UpdateConfig"), OS_RPC_UNARY,
		  &openshell__v1__update_config_request__descriptor,
		  gw_rpc_update_config, gw },
		{ M("GetSandboxConfig"), OS_RPC_UNARY,
		  &openshell__sandbox__v1__get_sandbox_config_request__descriptor,
		  gw_rpc_get_config, gw },
		{ M("GetSandboxPolicyStatus"), OS_RPC_UNARY,
		  &openshell__v1__get_sandbox_policy_status_request__descriptor,
		  gw_rpc_policy_status, gw },
		{ M("ListSandboxPolicies"), OS_RPC_UNARY,
		  &openshell__v1__list_sandbox_policies_request__descriptor,
		  gw_rpc_list_policies, gw },
		{ M("ReportPolicyStatus"), OS_RPC_UNARY,
		  &openshell__v1__report_policy_status_request__descriptor,
		  gw_rpc_report_status, gw },
		{ M("PushSandboxLogs"), OS_RPC_UNARY,
		  &openshell__v1__push_sandbox_logs_request__descriptor,
		  gw_rpc_push_logs, gw },
		{ M("GetSandboxLogs"), OS_RPC_UNARY,
		  &openshell__v1__get_sandbox_logs_request__descriptor,
		  gw_rpc_get_logs, gw },
		{ M("WatchSandbox"), OS_RPC_SERVER_STREAM,
		  &openshell__v1__watch_sandbox_request__descriptor,
		  gw_rpc_watch, gw },
		{ M("ExecSandbox"), OS_RPC_BIDI, NULL, gw_rpc_exec, gw },
		{ M("ListSettings"), OS_RPC_UNARY,
		  &openshell__v1__list_settings_request__descriptor,
		  gw_rpc_list_settings, gw },
	};
	struct os_rpc_server_options	 o;
	const char			**listen;
	char				*cert = NULL, *key = NULL, *ca = NULL;
	size_t				 i;
	int				 rc;

	listen = xcalloc(gw->nlisten + 1, sizeof *listen);
	listen[0] = xprintf("unix:%s", gw->socket_path);
	for (i = 0; i < gw->nlisten; i++)
		listen[i + 1] = gw->listen[i];
	memset(&o, 0, sizeof o);
	o.listen = listen;
	o.nlisten = gw->nlisten + 1;
	if (gw->tls_dir != NULL) {
		if ((cert = gw_tls_read(gw, "server.pem", err)) == NULL ||
		    (key = gw_tls_read(gw, "server-key.pem", err)) == NULL ||
		    (ca = gw_tls_read(gw, "ca.pem", err)) == NULL) {
			rc = err->code;
			goto out;
		}
		o.tls_cert = cert;
		o.tls_key = key;
		o.tls_client_ca = ca;     /* remote operators must present a cert */
	}
	/* The socket inherits the umask: make it private from the start. */
	umask(077);
	rc = os_rpc_server_start(&gw->loop, methods, OS_NELEM(methods), &o,
	    &gw->server, err);
	if (rc == 0)
		chmod(gw->socket_path, 0600);
out:
	free((char *)listen[0]);
	free(listen);
	free(cert);
	free(key);
	free(ca);
	return rc;
}

/* Once a second: end permissive sessions whose time is up. */
void	gw_tick(uv_timer_t *);
void
gw_tick(uv_timer_t *t)
{
	struct gw		*gw = t->data;
	struct store_sandbox	*all;
	struct os_error		 err;
	int64_t			 now = os_now_ms();
	size_t			 n, i;

	if (store_sandbox_list(gw->store, &all, &n, &err) != 0)
		return;
	for (i = 0; i < n; i++) {
		if (!all[i].permissive || all[i].permissive_expires_ms == 0 ||
		    all[i].permissive_expires_ms > now)
			continue;
		all[i].permissive = false;
		all[i].updated_at_ms = now;
		if (store_sandbox_update(gw->store, &all[i], &err) != 0) {
			log_error("%s", err.msg);
			continue;
		}
		log_info("sandbox %s: permissive session ended (TTL expired); "
		    "enforcing again", all[i].name);
		gw_config_publish(gw, all[i].id);
		gw_sandbox_changed(gw, all[i].id);
	}
	store_sandboxes_free(all, n);
}
