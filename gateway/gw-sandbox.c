/*
 * Sandbox lifecycle: CreateSandbox, GetSandbox, ListSandboxes,
 * DeleteSandbox, the sandbox's wire form, and what happens when a
 * supervisor exits or outlives a gateway restart.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway.h"

void
gw_fail_store(struct os_rpc_call *call, const struct os_error *err)
{
	log_error("%s", err->msg);
	os_rpc_fail(call, GRPC_STATUS_INTERNAL, "%s", err->msg);
}

void
gw_fail_diags(struct os_rpc_call *call, grpc_status_code st, const char *what,
    const struct os_diags *d)
{
	char	*all;

	all = os_diags_format(d);
	if (*all != '\0' && all[strlen(all) - 1] == '\n')
		all[strlen(all) - 1] = '\0';
	os_rpc_fail(call, st, "%s%s%s", what != NULL ? what : "",
	    what != NULL ? ":\n" : "", all);
	free(all);
}

int
gw_sandbox_resolve(struct gw *gw, struct os_rpc_call *call,
    const struct gw_caller *caller, const char *name, struct store_sandbox *out)
{
	return gw_sandbox_resolve_field(gw, call, caller, "name", name, out);
}

int
gw_sandbox_resolve_field(struct gw *gw, struct os_rpc_call *call,
    const struct gw_caller *caller, const char *field, const char *name,
    struct store_sandbox *out)
{
	struct os_error	err;
	int		rc;

	memset(out, 0, sizeof *out);
	if (caller->role == GW_ROLE_SANDBOX) {
		/* A sandbox may name itself (by name or id) and nothing else:
		 * the answer must not reveal whether another sandbox exists. */
		if (name == NULL || *name == '\0' ||
		    strcmp(name, caller->sandbox_id) == 0 ||
		    strcmp(name, caller->sandbox_name) == 0)
			rc = store_sandbox_get(gw->store, caller->sandbox_id, out, &err);
		else
			rc = -EPERM;
		if (rc != 0) {
			store_sandbox_clear(out);
			os_rpc_fail(call, GRPC_STATUS_PERMISSION_DENIED,
			    _("sandbox '%s' is not this sandbox"), name);
			return -1;
		}
		return 0;
	}
	if (name == NULL || *name == '\0') {
		os_rpc_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
		    _("%s: a sandbox name is required"), field);
		return -1;
	}
	rc = store_sandbox_get_by_name(gw->store, name, out, &err);
	if (rc == -ENOENT)
		rc = store_sandbox_get(gw->store, name, out, &err);
	if (rc == -ENOENT) {
		store_sandbox_clear(out);
		os_rpc_fail(call, GRPC_STATUS_NOT_FOUND, _("no sandbox named '%s'"), name);
		return -1;
	}
	if (rc != 0) {
		store_sandbox_clear(out);
		gw_fail_store(call, &err);
		return -1;
	}
	return 0;
}

GwPbSandbox *
gw_pb_sandbox(struct gw *gw, const struct store_sandbox *sb)
{
	GwPbSandbox			*pb;
	Openshell__V1__SandboxExit	*ex;
	Openshell__Sandbox__V1__PermissiveMode *pm;
	struct store_revision		 rev;
	struct store_chunk		*chunks;
	struct os_error			 err;
	size_t				 n, i;

	pb = xmalloc(sizeof *pb);
	openshell__v1__sandbox__init(pb);
	pb->id = xstrdup(sb->id);
	pb->name = xstrdup(sb->name);
	pb->phase = (Openshell__V1__SandboxPhase)sb->phase;
	pb->created_at_ms = sb->created_at_ms;
	pb->updated_at_ms = sb->updated_at_ms;
	pb->active_policy_version = sb->active_version;
	pb->error_message = xstrdup(sb->error != NULL ? sb->error : "");
	pb->supervisor_pid = sb->supervisor_pid;
	pb->keep = sb->keep;
	memset(&rev, 0, sizeof rev);
	if (store_revision_get(gw->store, sb->id, 0, &rev, &err) == 0) {
		pb->policy_version = rev.version;
		pb->policy_hash = xstrdup(rev.hash);
		store_revision_clear(&rev);
	} else
		pb->policy_hash = xstrdup("");
	if (store_chunk_list(gw->store, sb->id, "pending", &chunks, &n, &err) == 0) {
		pb->pending_chunks = (uint32_t)n;
		store_chunks_free(chunks, n);
	}
	if (sb->exited) {
		ex = xmalloc(sizeof *ex);
		openshell__v1__sandbox_exit__init(ex);
		ex->code = sb->exit_code;
		ex->signal = sb->exit_signal;
		pb->exit = ex;
	}
	if (sb->permissive) {
		pm = xmalloc(sizeof *pm);
		openshell__sandbox__v1__permissive_mode__init(pm);
		pm->enabled = 1;
		pm->started_at_ms = sb->permissive_started_ms;
		pm->expires_at_ms = sb->permissive_expires_ms;
		pb->permissive = pm;
	}
	if (sb->ntrusted_cidrs > 0) {
		pb->trusted_cidrs = xreallocarray(NULL, sb->ntrusted_cidrs, sizeof (char *));
		for (i = 0; i < sb->ntrusted_cidrs; i++)
			pb->trusted_cidrs[i] = xstrdup(sb->trusted_cidrs[i]);
		pb->n_trusted_cidrs = sb->ntrusted_cidrs;
	}
	return pb;
}

void
gw_pb_sandbox_free(GwPbSandbox *pb)
{
	size_t	i;

	if (pb == NULL)
		return;
	free(pb->id);
	free(pb->name);
	free(pb->error_message);
	free(pb->policy_hash);
	free(pb->exit);
	free(pb->permissive);
	for (i = 0; i < pb->n_trusted_cidrs; i++)
		free(pb->trusted_cidrs[i]);
	free(pb->trusted_cidrs);
	free(pb);
}

void
gw_sandbox_changed(struct gw *gw, const char *id)
{
	struct store_sandbox	 sb;
	struct os_error		 err;
	GwPbEvent		 ev = OPENSHELL__V1__SANDBOX_STREAM_EVENT__INIT;
	GwPbSandbox		*pb;

	memset(&sb, 0, sizeof sb);
	if (store_sandbox_get(gw->store, id, &sb, &err) != 0)
		return;
	pb = gw_pb_sandbox(gw, &sb);
	ev.payload_case = OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_SANDBOX;
	ev.sandbox = pb;
	gw_bus_publish(gw, sb.id, sb.name, GW_EVENT_STATUS, &ev);
	gw_pb_sandbox_free(pb);
	store_sandbox_clear(&sb);
}

void
gw_sandbox_set_phase(struct gw *gw, struct store_sandbox *sb,
    enum store_phase phase, const char *error)
{
	struct os_error	err;

	if (sb->phase == phase && error == NULL)
		return;
	sb->phase = phase;
	free(sb->error);
	sb->error = error != NULL ? xstrdup(error) : NULL;
	sb->updated_at_ms = os_now_ms();
	if (store_sandbox_update(gw->store, sb, &err) != 0) {
		log_error("%s", err.msg);
		return;
	}
	log_info("sandbox %s: %s%s%s", sb->name,
	    phase == STORE_PHASE_READY ? "ready" :
	    phase == STORE_PHASE_ERROR ? "error" :
	    phase == STORE_PHASE_STOPPED ? "stopped" :
	    phase == STORE_PHASE_DELETING ? "deleting" : "provisioning",
	    error != NULL ? ": " : "", error != NULL ? error : "");
	gw_sandbox_changed(gw, sb->id);
}

void
gw_sandbox_exited(struct gw *gw, const char *id, int code, int sig)
{
	struct store_sandbox	 sb;
	struct os_error		 err;
	char			*msg = NULL;

	memset(&sb, 0, sizeof sb);
	if (store_sandbox_get(gw->store, id, &sb, &err) != 0)
		return;
	sb.exited = true;
	sb.exit_code = code;
	sb.exit_signal = sig;
	sb.supervisor_pid = 0;
	sb.supervisor_start = 0;
	if (sb.phase == STORE_PHASE_DELETING) {
		store_sandbox_update(gw->store, &sb, &err);
	} else if (sb.phase == STORE_PHASE_PROVISIONING) {
		msg = sig != 0 ?
		    xprintf(_("the supervisor was killed by signal %d while starting; see %s/%s/supervisor.log"),
		    sig, gw->sandboxes_dir, sb.id) :
		    xprintf(_("the supervisor exited with status %d while starting; see %s/%s/supervisor.log"),
		    code, gw->sandboxes_dir, sb.id);
		gw_sandbox_set_phase(gw, &sb, STORE_PHASE_ERROR, msg);
	} else if (sb.phase != STORE_PHASE_ERROR) {
		if (sig != 0)
			msg = xprintf(_("the supervisor was killed by signal %d"), sig);
		else if (code < 0)
			/* Adopted after a restart: its status went to init. */
			msg = xstrdup(_("the supervisor exited (it was started by an "
			    "earlier gateway, so its exit status is unknown)"));
		gw_sandbox_set_phase(gw, &sb, STORE_PHASE_STOPPED, msg);
	} else {
		store_sandbox_update(gw->store, &sb, &err);
		gw_sandbox_changed(gw, sb.id);
	}
	free(msg);
	store_sandbox_clear(&sb);
}

void
gw_sandbox_adopt_all(struct gw *gw)
{
	struct store_sandbox	*all;
	struct os_error		 err;
	size_t			 n, i;

	if (store_sandbox_list(gw->store, &all, &n, &err) != 0) {
		log_error("%s", err.msg);
		return;
	}
	for (i = 0; i < n; i++) {
		if (all[i].phase != STORE_PHASE_PROVISIONING &&
		    all[i].phase != STORE_PHASE_READY &&
		    all[i].phase != STORE_PHASE_DELETING)
			continue;
		int recorded = all[i].supervisor_pid;

		/* The driver also finds a supervisor that runs unrecorded
		 * (the last gateway died before storing its pid). */
		if (gw->driver->adopt(gw, &all[i])) {
			log_info("sandbox %s: supervisor %d still running; re-attached",
			    all[i].name, all[i].supervisor_pid);
			if (all[i].supervisor_pid != recorded &&
			    store_sandbox_update(gw->store, &all[i], &err) != 0)
				log_error("%s", err.msg);
			continue;
		}
		all[i].supervisor_pid = 0;
		gw_sandbox_set_phase(gw, &all[i], STORE_PHASE_STOPPED,
		    _("the supervisor is gone (it stopped while the gateway was down)"));
	}
	store_sandboxes_free(all, n);
}

/* ------------------------------------------------------------------------
 * RPCs
 */

static char *
gw_sandbox_id_new(void)
{
	unsigned char	 raw[16];
	char		*hex;

	if (os_random_bytes(raw, sizeof raw) != 0)
		abort();
	hex = xmalloc(sizeof raw * 2 + 1);
	os_hex_encode(raw, sizeof raw, hex);
	return hex;
}

void
gw_policy_fill_static(struct os_policy *p, const struct os_policy *from)
{
	if (!p->has_filesystem && from->has_filesystem) {
		p->has_filesystem = true;
		p->filesystem.include_workdir = from->filesystem.include_workdir;
		p->filesystem.read_only = os_strv_dup(from->filesystem.read_only,
		    from->filesystem.nread_only);
		p->filesystem.nread_only = from->filesystem.nread_only;
		p->filesystem.read_write = os_strv_dup(from->filesystem.read_write,
		    from->filesystem.nread_write);
		p->filesystem.nread_write = from->filesystem.nread_write;
	}
	if (!p->has_landlock && from->has_landlock) {
		p->has_landlock = true;
		p->landlock = from->landlock;
	}
	if (!p->has_process && from->has_process) {
		p->has_process = true;
		free(p->run_as_user);
		free(p->run_as_group);
		p->run_as_user = from->run_as_user ? xstrdup(from->run_as_user) : NULL;
		p->run_as_group = from->run_as_group ? xstrdup(from->run_as_group) : NULL;
	}
}

static int
gw_create_permissive(struct gw *gw, struct os_rpc_call *call,
    const Openshell__V1__PermissiveRequest *pr, struct store_sandbox *sb)
{
	int64_t	ttl, max;

	if (pr == NULL || !pr->enabled)
		return 0;
	if (!gw_setting_bool(gw, NULL, "permissive_allowed")) {
		os_rpc_fail(call, GRPC_STATUS_FAILED_PRECONDITION,
		    _("permissive mode is disabled on this gateway (setting permissive_allowed)"));
		return -1;
	}
	ttl = pr->ttl_seconds != 0 ? pr->ttl_seconds :
	    gw_setting_int(gw, NULL, "permissive_default_ttl");
	max = gw_setting_int(gw, NULL, "permissive_max_ttl");
	if (ttl > max) {
		os_rpc_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
		    _("permissive TTL %llds exceeds the gateway's maximum of %llds "
		    "(setting permissive_max_ttl)"), (long long)ttl, (long long)max);
		return -1;
	}
	sb->permissive = true;
	sb->permissive_started_ms = os_now_ms();
	sb->permissive_expires_ms = sb->permissive_started_ms + ttl * 1000;
	return 0;
}

void
gw_rpc_create_sandbox(struct os_rpc_call *call, const ProtobufCMessage *msg,
    void *arg)
{
	const Openshell__V1__CreateSandboxRequest *req = (const void *)msg;
	const Openshell__V1__SandboxSpec	*spec = req->spec;
	Openshell__V1__CreateSandboxResponse	 resp =
	    OPENSHELL__V1__CREATE_SANDBOX_RESPONSE__INIT;
	struct gw				*gw = arg;
	struct gw_caller			 caller;
	struct store_sandbox			 sb, existing;
	struct store_revision			 rev;
	struct store_history			 h;
	struct os_policy			*policy = NULL, *def;
	struct os_diags				 d = OS_DIAGS_INIT;
	struct os_error				 err;
	struct os_cidr				 cidr;
	char					*token = NULL, hash[65], *yaml;
	size_t					 i;
	int					 rc;

	memset(&sb, 0, sizeof sb);
	if (!gw_auth_operator(gw, call, &caller))
		return;
	if (!os_name_valid(req->name)) {
		os_rpc_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
		    _("name: invalid sandbox name '%s' (use 1-63 lower-case letters, "
		    "digits and '-', not starting with '-')"), req->name);
		goto out;
	}
	memset(&existing, 0, sizeof existing);
	if (store_sandbox_get_by_name(gw->store, req->name, &existing, &err) == 0) {
		store_sandbox_clear(&existing);
		os_rpc_fail(call, GRPC_STATUS_ALREADY_EXISTS,
		    _("a sandbox named '%s' already exists"), req->name);
		goto out;
	}
	if (spec != NULL && (*spec->policy_yaml != '\0' || spec->policy != NULL)) {
		if (gw_policy_from_request(spec->policy_yaml,
		    *spec->policy_source != '\0' ? spec->policy_source : NULL,
		    spec->policy, &policy, &d) != 0) {
			gw_fail_diags(call, GRPC_STATUS_INVALID_ARGUMENT,
			    _("the policy is not valid"), &d);
			goto out;
		}
		def = os_policy_default();
		gw_policy_fill_static(policy, def);
		os_policy_free(def);
	} else
		policy = os_policy_default();

	sb.name = xstrdup(req->name);
	if (spec != NULL) {
		for (i = 0; i < spec->n_trusted_cidrs; i++) {
			rc = os_cidr_parse(spec->trusted_cidrs[i], &cidr);
			if (rc != 0) {
				os_rpc_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
				    rc == -EDOM ?
				    _("trusted_cidrs[%zu]: '%s' has host bits set; give the network address") :
				    _("trusted_cidrs[%zu]: '%s' is not a CIDR (like 10.0.0.0/8)"),
				    i, spec->trusted_cidrs[i]);
				goto out;
			}
			if (os_ipclass_always_blocked(os_ip_classify(&cidr.ip))) {
				os_rpc_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
				    _("trusted_cidrs[%zu]: '%s' is %s space, which is never dialled"),
				    i, spec->trusted_cidrs[i],
				    os_ipclass_name(os_ip_classify(&cidr.ip)));
				goto out;
			}
		}
		sb.trusted_cidrs = os_strv_dup(spec->trusted_cidrs, spec->n_trusted_cidrs);
		sb.ntrusted_cidrs = spec->n_trusted_cidrs;
		sb.keep = spec->keep;
		if (gw_create_permissive(gw, call, spec->permissive, &sb) != 0)
			goto out;
		sb.spec_len = protobuf_c_message_get_packed_size(&spec->base);
		sb.spec = xmalloc(sb.spec_len + 1);
		protobuf_c_message_pack(&spec->base, (uint8_t *)sb.spec);
	}
	sb.id = gw_sandbox_id_new();
	token = gw_token_new();
	gw_token_hash(token, hash);
	sb.token_hash = xstrdup(hash);
	sb.phase = STORE_PHASE_PROVISIONING;
	sb.created_at_ms = sb.updated_at_ms = os_now_ms();
	sb.base_yaml = os_policy_to_yaml(policy);

	memset(&rev, 0, sizeof rev);
	rev.sandbox_id = sb.id;
	rev.status = STORE_POLICY_PENDING;
	rev.created_at_ms = sb.created_at_ms;
	yaml = xstrdup(sb.base_yaml);
	rev.policy_yaml = yaml;
	os_policy_hash(policy, hash);
	rev.hash = hash;
	rev.origin = (char *)"create";
	memset(&h, 0, sizeof h);
	h.sandbox_id = sb.id;
	h.ts_ms = sb.created_at_ms;
	h.actor = caller.actor;
	h.event_type = (char *)"created";
	h.description = xprintf("sandbox '%s' created", sb.name);
	h.after_hash = hash;
	if (store_begin(gw->store, &err) != 0 ||
	    store_sandbox_insert(gw->store, &sb, &err) != 0 ||
	    store_revision_add(gw->store, &rev, &err) != 0 ||
	    store_history_append(gw->store, &h, &err) != 0 ||
	    store_commit(gw->store, &err) != 0) {
		store_rollback(gw->store);
		free(yaml);
		free(h.description);
		gw_fail_store(call, &err);
		goto out;
	}
	free(yaml);
	free(h.description);
	log_info("sandbox %s (%s) created by %s", sb.name, sb.id, caller.actor);

	if (gw->driver->create(gw, &sb, token, &err) != 0) {
		gw_sandbox_set_phase(gw, &sb, STORE_PHASE_ERROR, err.msg);
		os_rpc_fail(call, GRPC_STATUS_INTERNAL,
		    _("cannot start the sandbox supervisor: %s"), err.msg);
		goto out;
	}
	if (store_sandbox_update(gw->store, &sb, &err) != 0)
		log_error("%s", err.msg);
	gw_sandbox_changed(gw, sb.id);
	resp.sandbox = gw_pb_sandbox(gw, &sb);
	os_rpc_reply(call, &resp.base);
	gw_pb_sandbox_free(resp.sandbox);
out:
	if (token != NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	os_diags_free(&d);
	os_policy_free(policy);
	store_sandbox_clear(&sb);
	gw_caller_clear(&caller);
}

void
gw_rpc_get_sandbox(struct os_rpc_call *call, const ProtobufCMessage *msg,
    void *arg)
{
	const Openshell__V1__GetSandboxRequest	*req = (const void *)msg;
	Openshell__V1__GetSandboxResponse	 resp =
	    OPENSHELL__V1__GET_SANDBOX_RESPONSE__INIT;
	struct gw				*gw = arg;
	struct gw_caller			 caller;
	struct store_sandbox			 sb;

	if (!gw_auth_operator(gw, call, &caller))
		return;
	if (gw_sandbox_resolve(gw, call, &caller, req->name, &sb) == 0) {
		resp.sandbox = gw_pb_sandbox(gw, &sb);
		os_rpc_reply(call, &resp.base);
		gw_pb_sandbox_free(resp.sandbox);
		store_sandbox_clear(&sb);
	}
	gw_caller_clear(&caller);
}

void
gw_rpc_list_sandboxes(struct os_rpc_call *call, const ProtobufCMessage *msg,
    void *arg)
{
	Openshell__V1__ListSandboxesResponse	 resp =
	    OPENSHELL__V1__LIST_SANDBOXES_RESPONSE__INIT;
	struct gw				*gw = arg;
	struct gw_caller			 caller;
	struct store_sandbox			*all;
	struct os_error				 err;
	size_t					 n, i;

	if (!gw_auth_operator(gw, call, &caller))
		return;
	if (store_sandbox_list(gw->store, &all, &n, &err) != 0) {
		gw_fail_store(call, &err);
		gw_caller_clear(&caller);
		return;
	}
	resp.sandboxes = xcalloc(n, sizeof *resp.sandboxes);
	for (i = 0; i < n; i++)
		resp.sandboxes[i] = gw_pb_sandbox(gw, &all[i]);
	resp.n_sandboxes = n;
	os_rpc_reply(call, &resp.base);
	for (i = 0; i < n; i++)
		gw_pb_sandbox_free(resp.sandboxes[i]);
	free(resp.sandboxes);
	store_sandboxes_free(all, n);
	gw_caller_clear(&caller);
}

struct gw_delete {
	struct gw		*gw;
	struct os_rpc_call	*call;
	char			*name;
	char			*actor;
};

static void
gw_delete_done(struct gw *gw, const char *id, void *arg)
{
	struct gw_delete			*del = arg;
	Openshell__V1__DeleteSandboxResponse	 resp =
	    OPENSHELL__V1__DELETE_SANDBOX_RESPONSE__INIT;
	Openshell__V1__SandboxDeleted		 gone =
	    OPENSHELL__V1__SANDBOX_DELETED__INIT;
	GwPbEvent				 ev =
	    OPENSHELL__V1__SANDBOX_STREAM_EVENT__INIT;
	struct store_history			 h;
	struct os_error				 err;
	int					 rc;

	memset(&h, 0, sizeof h);
	h.sandbox_id = (char *)id;
	h.ts_ms = os_now_ms();
	h.actor = del->actor;
	h.event_type = (char *)"deleted";
	h.description = xprintf("sandbox '%s' deleted", del->name);
	rc = store_sandbox_delete(gw->store, id, &err);
	if (rc == -ENOENT) {
		/* Asked twice while the first was stopping it: the first to
		 * finish did the work, and this one's answer is the same. */
		resp.deleted = 1;
		os_rpc_reply(del->call, &resp.base);
	} else if (rc != 0) {
		gw_fail_store(del->call, &err);
	} else {
		store_history_append(gw->store, &h, &err);
		gw->driver->cleanup(gw, id);
		gone.id = (char *)id;
		gone.name = del->name;
		ev.payload_case = OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_DELETED;
		ev.deleted = &gone;
		gw_bus_publish(gw, id, del->name, GW_EVENT_DELETED, &ev);
		gw_bus_close_sandbox(gw, id);
		log_info("sandbox %s (%s) deleted by %s", del->name, id, del->actor);
		resp.deleted = 1;
		os_rpc_reply(del->call, &resp.base);
	}
	free(h.description);
	os_rpc_call_unref(del->call);
	free(del->name);
	free(del->actor);
	free(del);
}

void
gw_rpc_delete_sandbox(struct os_rpc_call *call, const ProtobufCMessage *msg,
    void *arg)
{
	const Openshell__V1__DeleteSandboxRequest *req = (const void *)msg;
	struct gw				*gw = arg;
	struct gw_caller			 caller;
	struct store_sandbox			 sb;
	struct gw_delete			*del;

	if (!gw_auth_operator(gw, call, &caller))
		return;
	if (gw_sandbox_resolve(gw, call, &caller, req->name, &sb) != 0) {
		gw_caller_clear(&caller);
		return;
	}
	del = xcalloc(1, sizeof *del);
	del->gw = gw;
	del->call = call;
	del->name = xstrdup(sb.name);
	del->actor = xstrdup(caller.actor);
	os_rpc_call_ref(call);
	gw_sandbox_set_phase(gw, &sb, STORE_PHASE_DELETING, NULL);
	gw->driver->stop(gw, sb.id, 5000, gw_delete_done, del);
	store_sandbox_clear(&sb);
	gw_caller_clear(&caller);
}

void
gw_rpc_health(struct os_rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	Openshell__V1__HealthResponse	resp = OPENSHELL__V1__HEALTH_RESPONSE__INIT;
	struct gw			*gw = arg;
	struct gw_caller		 caller;

	if (!gw_auth_caller(gw, call, &caller))
		return;
	resp.status = (char *)"serving";
	os_rpc_reply(call, &resp.base);
	gw_caller_clear(&caller);
}

void
gw_rpc_gateway_info(struct os_rpc_call *call, const ProtobufCMessage *msg,
    void *arg)
{
	Openshell__V1__GetGatewayInfoResponse	 resp =
	    OPENSHELL__V1__GET_GATEWAY_INFO_RESPONSE__INIT;
	struct gw				*gw = arg;
	struct gw_caller			 caller;
	struct store_sandbox			*all;
	struct os_error				 err;
	size_t					 n = 0, i;
	char					*unix_addr;

	if (!gw_auth_operator(gw, call, &caller))
		return;
	if (store_sandbox_list(gw->store, &all, &n, &err) == 0)
		store_sandboxes_free(all, n);
	resp.version = (char *)PACKAGE_VERSION;
	resp.started_at_ms = gw->started_at_ms;
	resp.uptime_ms = os_now_ms() - gw->started_at_ms;
	resp.sandboxes = (uint32_t)n;
	resp.pid = (int32_t)getpid();
	resp.state_dir = gw->state_dir;
	unix_addr = xprintf("unix:%s", gw->socket_path);
	resp.n_listen_addresses = 1 + gw->nlisten;
	resp.listen_addresses = xcalloc(resp.n_listen_addresses, sizeof (char *));
	resp.listen_addresses[0] = unix_addr;
	for (i = 0; i < gw->nlisten; i++)
		resp.listen_addresses[i + 1] = gw->listen[i];
	os_rpc_reply(call, &resp.base);
	free(unix_addr);
	free(resp.listen_addresses);
	gw_caller_clear(&caller);
}
