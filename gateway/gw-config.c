/*
 * Policies and configuration: UpdateConfig (policy set, settings),
 * GetSandboxConfig, revisions and their status, ListSettings, and how a
 * new effective revision is committed and pushed to its supervisor.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

int
gw_policy_from_request(const char *yaml, const char *file, const OsPbPolicy *pb,
    struct os_policy **out, struct os_diags *d)
{
	*out = NULL;
	if (yaml != NULL && *yaml != '\0')
		return os_policy_load_yaml(yaml, strlen(yaml),
		    file != NULL && *file != '\0' ? file : "policy.yaml", out, NULL, d);
	if (pb == NULL) {
		os_diags_add(d, OS_DIAG_ERROR, NULL, 0, 0, "policy", "%s",
		    _("no policy given"));
		return -EINVAL;
	}
	if (os_policy_from_proto(pb, out, d) != 0)
		return -EINVAL;
	if (os_policy_validate(*out, NULL, NULL, d) != 0) {
		os_policy_free(*out);
		*out = NULL;
		return -EINVAL;
	}
	return 0;
}

Openshell__V1__SandboxPolicyRevision *
gw_pb_revision(const struct store_revision *rev, bool with_policy)
{
	Openshell__V1__SandboxPolicyRevision	*pb;
	struct os_policy			*p;
	struct os_diags				 d = OS_DIAGS_INIT;

	pb = xmalloc(sizeof *pb);
	openshell__v1__sandbox_policy_revision__init(pb);
	pb->version = rev->version;
	pb->policy_hash = xstrdup(rev->hash);
	pb->status = (Openshell__V1__PolicyStatus)rev->status;
	pb->load_error = xstrdup(rev->load_error != NULL ? rev->load_error : "");
	pb->created_at_ms = rev->created_at_ms;
	pb->loaded_at_ms = rev->loaded_at_ms;
	pb->origin = xstrdup(rev->origin != NULL ? rev->origin : "");
	pb->policy_yaml = xstrdup(with_policy && rev->policy_yaml != NULL ?
	    rev->policy_yaml : "");
	if (with_policy && rev->policy_yaml != NULL &&
	    os_policy_load_yaml(rev->policy_yaml, strlen(rev->policy_yaml), NULL,
	    &p, NULL, &d) == 0) {
		pb->policy = os_policy_to_proto(p);
		os_policy_free(p);
	}
	os_diags_free(&d);
	return pb;
}

void
gw_pb_revision_free(Openshell__V1__SandboxPolicyRevision *pb)
{
	if (pb == NULL)
		return;
	free(pb->policy_hash);
	free(pb->load_error);
	free(pb->origin);
	free(pb->policy_yaml);
	os_pb_policy_free(pb->policy);
	free(pb);
}

/* ------------------------------------------------------------------------
 * Effective policy = compose(base, approved chunks)
 */

static int
gw_policy_effective(struct gw *gw, const struct store_sandbox *sb,
    const struct os_policy *base, struct os_policy **out,
    struct os_diags *conflicts, struct os_error *err)
{
	struct store_chunk		*chunks;
	struct os_chunk_input		*in;
	struct os_rule			*rules;
	Openshell__V1__PolicyChunk	**pbs;
	struct os_diags			 d = OS_DIAGS_INIT;
	size_t				 n, i, m = 0;
	int				 rc;

	if (store_chunk_list_approved(gw->store, sb->id, &chunks, &n, err) != 0)
		return err->code;
	in = xcalloc(n + 1, sizeof *in);
	rules = xcalloc(n + 1, sizeof *rules);
	pbs = xcalloc(n + 1, sizeof *pbs);
	for (i = 0; i < n; i++) {
		pbs[i] = openshell__v1__policy_chunk__unpack(NULL,
		    chunks[i].payload_len, chunks[i].payload);
		if (pbs[i] == NULL || pbs[i]->proposed_rule == NULL ||
		    os_rule_from_proto(pbs[i]->proposed_rule, pbs[i]->rule_name,
		    &rules[m], &d) != 0) {
			os_diags_add(conflicts, OS_DIAG_ERROR, NULL, 0, 0, chunks[i].id,
			    "%s", _("stored chunk cannot be read; left out"));
			continue;
		}
		in[m].id = chunks[i].id;
		in[m].rule_name = pbs[i]->rule_name;
		in[m].rule = &rules[m];
		in[m].supersedes = *pbs[i]->supersedes_chunk_id != '\0' ?
		    pbs[i]->supersedes_chunk_id : NULL;
		m++;
	}
	rc = os_policy_compose(base, in, m, out, conflicts);
	if (rc != 0)
		os_error_set(err, rc, "%s", _("cannot compose the effective policy"));
	for (i = 0; i < m; i++)
		os_rule_clear(&rules[i]);
	for (i = 0; i < n; i++) {
		if (pbs[i] != NULL)
			protobuf_c_message_free_unpacked(&pbs[i]->base, NULL);
	}
	free(pbs);
	free(rules);
	free(in);
	store_chunks_free(chunks, n);
	os_diags_free(&d);
	return rc;
}

int
gw_policy_commit(struct gw *gw, struct store_sandbox *sb,
    const struct os_policy *base, const char *origin, const char *actor,
    uint32_t *version, char hash[65], bool *unchanged,
    struct os_diags *conflicts, struct os_error *err)
{
	struct os_policy	*eff = NULL;
	struct store_revision	 latest, rev;
	struct store_history	 h;
	bool			 have_latest;
	int			 rc;

	*unchanged = false;
	if ((rc = gw_policy_effective(gw, sb, base, &eff, conflicts, err)) != 0)
		return rc;
	os_policy_hash(eff, hash);
	memset(&latest, 0, sizeof latest);
	have_latest = store_revision_get(gw->store, sb->id, 0, &latest, err) == 0;

	memset(&rev, 0, sizeof rev);
	memset(&h, 0, sizeof h);
	if ((rc = store_begin(gw->store, err)) != 0)
		goto out;
	sb->updated_at_ms = os_now_ms();
	if ((rc = store_sandbox_update(gw->store, sb, err)) != 0)
		goto fail;
	if (have_latest && strcmp(latest.hash, hash) == 0) {
		/* Same canonical policy: same version and hash. */
		*unchanged = true;
		*version = latest.version;
		rc = store_commit(gw->store, err);
		goto out;
	}
	rev.sandbox_id = sb->id;
	rev.hash = hash;
	rev.status = STORE_POLICY_PENDING;
	rev.created_at_ms = sb->updated_at_ms;
	rev.policy_yaml = os_policy_to_yaml(eff);
	rev.origin = (char *)origin;
	if ((rc = store_revision_add(gw->store, &rev, err)) != 0)
		goto fail;
	*version = rev.version;
	h.sandbox_id = sb->id;
	h.ts_ms = rev.created_at_ms;
	h.actor = (char *)actor;
	h.event_type = (char *)"policy_revision";
	h.description = xprintf("policy revision %u (%s)", rev.version, origin);
	h.before_hash = have_latest ? latest.hash : NULL;
	h.after_hash = hash;
	if ((rc = store_history_append(gw->store, &h, err)) != 0 ||
	    (rc = store_commit(gw->store, err)) != 0)
		goto fail;
	log_info("sandbox %s: policy revision %u (%s) by %s", sb->name, rev.version,
	    origin, actor);
	{
		Openshell__V1__PolicyRevisionEvent	pre =
		    OPENSHELL__V1__POLICY_REVISION_EVENT__INIT;
		GwPbEvent				ev =
		    OPENSHELL__V1__SANDBOX_STREAM_EVENT__INIT;

		rev.load_error = NULL;
		pre.revision = gw_pb_revision(&rev, false);
		pre.active_version = sb->active_version;
		ev.payload_case =
		    OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_POLICY_REVISION;
		ev.policy_revision = &pre;
		gw_bus_publish(gw, sb->id, sb->name, GW_EVENT_POLICY, &ev);
		gw_pb_revision_free(pre.revision);
	}
	gw_config_publish(gw, sb->id);
	gw_sandbox_changed(gw, sb->id);
	goto out;
fail:
	store_rollback(gw->store);
out:
	free(rev.policy_yaml);
	free(h.description);
	store_revision_clear(&latest);
	os_policy_free(eff);
	return rc;
}

/* ------------------------------------------------------------------------
 * Supervisor configuration
 */

static uint64_t
gw_config_revision(const GwPbConfig *cfg)
{
	uint8_t		*buf;
	size_t		 len;
	char		 hex[65];
	uint64_t	 v = 0;
	int		 i;

	/* A fingerprint of everything the supervisor acts on. */
	len = protobuf_c_message_get_packed_size(&cfg->base);
	buf = xmalloc(len + 1);
	protobuf_c_message_pack(&cfg->base, buf);
	os_sha256_hex(buf, len, hex);
	free(buf);
	for (i = 0; i < 16; i++)
		v = v << 4 | (uint64_t)(hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10);
	return v;
}

struct gw_config_mem {
	Openshell__Sandbox__V1__GetSandboxConfigResponse__SettingsEntry **entries;
	Openshell__Sandbox__V1__EffectiveSetting *effs;
	GwPbSettingValue	*vals;
	char		       **strs;
	size_t			 nsettings;
	Openshell__Sandbox__V1__PermissiveMode perm;
	Openshell__Sandbox__V1__ProxyOptions proxy;
	Openshell__Sandbox__V1__HostOverride **hosts;
	size_t			 nhosts;
	char			*addr_storage;
	char		       **cidrs;      /* copies: the row is the caller's */
	int			 refs;       /* callers and the cache */
};

static GwPbConfig *
gw_config_build_new(struct gw *gw, const struct store_sandbox *sb,
    struct os_error *err)
{
	GwPbConfig				*cfg;
	struct gw_config_mem			*mem;
	const struct gw_setting_def		*defs;
	struct store_revision			 rev;
	struct os_policy			*p;
	struct os_diags				 d = OS_DIAGS_INIT;
	const struct os_ip			*addrs;
	size_t					 ndefs, i, j, naddrs;
	char					 abuf[64];

	memset(&rev, 0, sizeof rev);
	if (store_revision_get(gw->store, sb->id, 0, &rev, err) != 0)
		return NULL;
	if (os_policy_load_yaml(rev.policy_yaml, strlen(rev.policy_yaml), NULL,
	    &p, NULL, &d) != 0) {
		os_error_set(err, -EINVAL, "stored revision %u does not load", rev.version);
		os_diags_free(&d);
		store_revision_clear(&rev);
		return NULL;
	}
	os_diags_free(&d);
	cfg = xmalloc(sizeof *cfg + sizeof *mem);
	mem = (struct gw_config_mem *)(cfg + 1);
	memset(mem, 0, sizeof *mem);
	mem->refs = 1;
	openshell__sandbox__v1__get_sandbox_config_response__init(cfg);
	cfg->policy = os_policy_to_proto(p);
	os_policy_free(p);
	cfg->version = rev.version;
	cfg->policy_hash = xstrdup(rev.hash);
	store_revision_clear(&rev);
	cfg->sandbox_name = xstrdup(sb->name);
	cfg->sandbox_id = xstrdup(sb->id);

	defs = gw_setting_defs(&ndefs);
	mem->nsettings = ndefs;
	mem->entries = xcalloc(ndefs, sizeof *mem->entries);
	mem->effs = xcalloc(ndefs, sizeof *mem->effs);
	mem->vals = xcalloc(ndefs, sizeof *mem->vals);
	mem->strs = xcalloc(ndefs, sizeof *mem->strs);
	for (i = 0; i < ndefs; i++) {
		mem->entries[i] = xmalloc(sizeof *mem->entries[i]);
		openshell__sandbox__v1__get_sandbox_config_response__settings_entry__init(
		    mem->entries[i]);
		mem->entries[i]->key = (char *)defs[i].key;
		gw_setting_effective(gw, sb->id, &defs[i], &mem->effs[i],
		    &mem->vals[i], &mem->strs[i]);
		mem->entries[i]->value = &mem->effs[i];
	}
	cfg->settings = mem->entries;
	cfg->n_settings = ndefs;

	if (sb->permissive && (sb->permissive_expires_ms == 0 ||
	    sb->permissive_expires_ms > os_now_ms())) {
		openshell__sandbox__v1__permissive_mode__init(&mem->perm);
		mem->perm.enabled = 1;
		mem->perm.started_at_ms = sb->permissive_started_ms;
		mem->perm.expires_at_ms = sb->permissive_expires_ms;
		cfg->permissive = &mem->perm;
	}
	mem->cidrs = xcalloc(sb->ntrusted_cidrs + 1, sizeof *mem->cidrs);
	for (i = 0; i < sb->ntrusted_cidrs; i++)
		mem->cidrs[i] = xstrdup(sb->trusted_cidrs[i]);
	cfg->trusted_cidrs = mem->cidrs;
	cfg->n_trusted_cidrs = sb->ntrusted_cidrs;

	openshell__sandbox__v1__proxy_options__init(&mem->proxy);
	mem->proxy.dns_mode = (char *)(gw->dns_mode == OS_DNS_HOSTS_ONLY ?
	    "hosts-only" : "system");
	mem->proxy.upstream_ca_pem = gw->upstream_ca_pem != NULL ?
	    gw->upstream_ca_pem : (char *)"";
	if (gw->hosts != NULL && (mem->nhosts = os_hosts_count(gw->hosts)) > 0) {
		mem->hosts = xcalloc(mem->nhosts, sizeof *mem->hosts);
		for (i = 0; i < mem->nhosts; i++) {
			mem->hosts[i] = xmalloc(sizeof *mem->hosts[i]);
			openshell__sandbox__v1__host_override__init(mem->hosts[i]);
			mem->hosts[i]->name = xstrdup(os_hosts_entry(gw->hosts, i,
			    &addrs, &naddrs));
			mem->hosts[i]->addresses = xcalloc(naddrs + 1, sizeof (char *));
			for (j = 0; j < naddrs; j++) {
				os_ip_format(&addrs[j], abuf, sizeof abuf);
				mem->hosts[i]->addresses[j] = xstrdup(abuf);
			}
			mem->hosts[i]->n_addresses = naddrs;
		}
		mem->proxy.hosts = mem->hosts;
		mem->proxy.n_hosts = mem->nhosts;
	}
	cfg->proxy = &mem->proxy;
	cfg->config_revision = gw_config_revision(cfg);
	return cfg;
}

void
gw_pb_config_free(GwPbConfig *cfg)
{
	struct gw_config_mem	*mem;
	size_t			 i, j;

	if (cfg == NULL)
		return;
	mem = (struct gw_config_mem *)(cfg + 1);
	if (--mem->refs > 0)
		return;
	os_pb_policy_free(cfg->policy);
	free(cfg->policy_hash);
	free(cfg->sandbox_name);
	free(cfg->sandbox_id);
	for (i = 0; i < mem->nsettings; i++) {
		free(mem->entries[i]);
		free(mem->strs[i]);
	}
	free(mem->entries);
	free(mem->effs);
	free(mem->vals);
	free(mem->strs);
	for (i = 0; i < mem->nhosts; i++) {
		free(mem->hosts[i]->name);
		for (j = 0; j < mem->hosts[i]->n_addresses; j++)
			free(mem->hosts[i]->addresses[j]);
		free(mem->hosts[i]->addresses);
		free(mem->hosts[i]);
	}
	free(mem->hosts);
	for (i = 0; i < cfg->n_trusted_cidrs; i++)
		free(mem->cidrs[i]);
	free(mem->cidrs);
	free(cfg);
}

/*
 * Built configs are cached per sandbox. GetSandboxConfig is the call
 * supervisors make, and building a config parses the latest revision's
 * YAML, reads every setting from the store (two queries per key) and
 * fingerprints the result: about ten times the cost of a trivial call.
 *
 * What a config is made of, and what keeps the cache honest:
 * - the latest revision: only gw_policy_commit adds revisions to a live
 *   sandbox (CreateSandbox adds the first, under a new id), and it calls
 *   gw_config_publish, which drops the entry before building afresh;
 * - settings: UpdateConfig calls gw_config_publish (sandbox scope) or
 *   gw_config_publish_all (gateway scope, which empties the cache);
 * - the sandbox row (name, base policy, permissive session, trusted
 *   CIDRs): compared with the row the caller just read, on every hit, so
 *   a path that changes the row without publishing cannot serve stale data;
 * - the clock: a permissive session shown in the config ends at its
 *   expiry, so the entry is good only until then;
 * - the gateway's egress options: fixed for the life of the process.
 * A cached config is shared (reference counted): callers must not modify
 * it, and free it with gw_pb_config_free as before. Entries of deleted
 * sandboxes age out of a bounded LRU list.
 */
#define GW_CONFIG_CACHE_MAX 256

struct gw_config_cached {
	TAILQ_ENTRY(gw_config_cached) entry;
	struct gw		*gw;
	char			*sandbox_id;
	char			*name;
	char			*base_yaml;
	bool			 permissive;
	int64_t			 permissive_started_ms;
	int64_t			 permissive_expires_ms;
	int64_t			 valid_until_ms;
	GwPbConfig		*cfg;          /* the cache's reference */
};

TAILQ_HEAD(gw_config_cache_head, gw_config_cached);
static struct gw_config_cache_head gw_config_cache =
    TAILQ_HEAD_INITIALIZER(gw_config_cache);
static size_t gw_config_ncached;

static bool
gw_str_eq(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static void
gw_config_cached_free(struct gw_config_cached *c)
{
	TAILQ_REMOVE(&gw_config_cache, c, entry);
	gw_config_ncached--;
	gw_pb_config_free(c->cfg);
	free(c->sandbox_id);
	free(c->name);
	free(c->base_yaml);
	free(c);
}

static bool
gw_config_cached_fresh(const struct gw_config_cached *c,
    const struct store_sandbox *sb, int64_t now)
{
	size_t	i;

	if (now >= c->valid_until_ms || !gw_str_eq(c->name, sb->name) ||
	    !gw_str_eq(c->base_yaml, sb->base_yaml) ||
	    c->permissive != sb->permissive ||
	    c->permissive_started_ms != sb->permissive_started_ms ||
	    c->permissive_expires_ms != sb->permissive_expires_ms ||
	    c->cfg->n_trusted_cidrs != sb->ntrusted_cidrs)
		return false;
	for (i = 0; i < sb->ntrusted_cidrs; i++)
		if (!gw_str_eq(c->cfg->trusted_cidrs[i], sb->trusted_cidrs[i]))
			return false;
	return true;
}

/* Drops the cached config of one sandbox (NULL: of every sandbox). */
static void
gw_config_forget(struct gw *gw, const char *sandbox_id)
{
	struct gw_config_cached	*c, *next;

	TAILQ_FOREACH_SAFE(c, &gw_config_cache, entry, next) {
		if (c->gw == gw && (sandbox_id == NULL ||
		    strcmp(c->sandbox_id, sandbox_id) == 0))
			gw_config_cached_free(c);
	}
}

GwPbConfig *
gw_config_build(struct gw *gw, const struct store_sandbox *sb,
    struct os_error *err)
{
	struct gw_config_cached	*c, *next;
	struct gw_config_mem	*mem;
	GwPbConfig		*cfg;
	int64_t			 now = os_now_ms();

	TAILQ_FOREACH_SAFE(c, &gw_config_cache, entry, next) {
		if (c->gw != gw || strcmp(c->sandbox_id, sb->id) != 0)
			continue;
		if (!gw_config_cached_fresh(c, sb, now)) {
			gw_config_cached_free(c);
			break;
		}
		TAILQ_REMOVE(&gw_config_cache, c, entry);
		TAILQ_INSERT_HEAD(&gw_config_cache, c, entry);
		mem = (struct gw_config_mem *)(c->cfg + 1);
		mem->refs++;
		return c->cfg;
	}
	if ((cfg = gw_config_build_new(gw, sb, err)) == NULL)
		return NULL;
	c = xcalloc(1, sizeof *c);
	c->gw = gw;
	c->sandbox_id = xstrdup(sb->id);
	c->name = xstrdup(sb->name != NULL ? sb->name : "");
	c->base_yaml = xstrdup(sb->base_yaml != NULL ? sb->base_yaml : "");
	c->permissive = sb->permissive;
	c->permissive_started_ms = sb->permissive_started_ms;
	c->permissive_expires_ms = sb->permissive_expires_ms;
	c->valid_until_ms = sb->permissive && sb->permissive_expires_ms > now ?
	    sb->permissive_expires_ms : INT64_MAX;
	c->cfg = cfg;
	mem = (struct gw_config_mem *)(cfg + 1);
	mem->refs++;
	TAILQ_INSERT_HEAD(&gw_config_cache, c, entry);
	if (++gw_config_ncached > GW_CONFIG_CACHE_MAX)
		gw_config_cached_free(TAILQ_LAST(&gw_config_cache, gw_config_cache_head));
	return cfg;
}

void
gw_config_publish(struct gw *gw, const char *sandbox_id)
{
	struct store_sandbox	 sb;
	struct os_error		 err;
	GwPbEvent		 ev = OPENSHELL__V1__SANDBOX_STREAM_EVENT__INIT;
	GwPbConfig		*cfg;

	/* Something changed: what is cached is stale (see above). */
	gw_config_forget(gw, sandbox_id);
	memset(&sb, 0, sizeof sb);
	if (store_sandbox_get(gw->store, sandbox_id, &sb, &err) != 0)
		return;
	if ((cfg = gw_config_build(gw, &sb, &err)) != NULL) {
		ev.payload_case = OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_CONFIG;
		ev.config = cfg;
		gw_bus_publish(gw, sb.id, sb.name, GW_EVENT_CONFIG, &ev);
		gw_pb_config_free(cfg);
	} else
		log_error("sandbox %s: %s", sb.name, err.msg);
	store_sandbox_clear(&sb);
}

static void
gw_config_publish_all(struct gw *gw)
{
	struct store_sandbox	*all;
	struct os_error		 err;
	size_t			 n, i;

	gw_config_forget(gw, NULL);
	if (store_sandbox_list(gw->store, &all, &n, &err) != 0)
		return;
	for (i = 0; i < n; i++)
		gw_config_publish(gw, all[i].id);
	store_sandboxes_free(all, n);
}

/* ------------------------------------------------------------------------
 * UpdateConfig
 */

/* Names the static sections that differ; "" when none do. */
static char *
gw_static_changes(const struct os_policy *a, const struct os_policy *b)
{
	struct os_policy	*x, *y;
	struct os_buf		 out = OS_BUF_INIT;

	/* Compare only one section at a time by copying it alone. */
	x = os_policy_new();
	y = os_policy_new();
	x->has_filesystem = a->has_filesystem;
	x->filesystem = a->filesystem;
	y->has_filesystem = b->has_filesystem;
	y->filesystem = b->filesystem;
	if (!os_policy_equal(x, y))
		os_buf_adds(&out, "filesystem_policy");
	memset(&x->filesystem, 0, sizeof x->filesystem);
	memset(&y->filesystem, 0, sizeof y->filesystem);
	x->has_filesystem = y->has_filesystem = false;
	x->has_landlock = a->has_landlock;
	x->landlock = a->landlock;
	y->has_landlock = b->has_landlock;
	y->landlock = b->landlock;
	if (!os_policy_equal(x, y))
		os_buf_addf(&out, "%slandlock", out.len ? ", " : "");
	x->has_landlock = y->has_landlock = false;
	x->has_process = a->has_process;
	x->run_as_user = a->run_as_user;
	x->run_as_group = a->run_as_group;
	y->has_process = b->has_process;
	y->run_as_user = b->run_as_user;
	y->run_as_group = b->run_as_group;
	if (!os_policy_equal(x, y))
		os_buf_addf(&out, "%sprocess", out.len ? ", " : "");
	x->run_as_user = x->run_as_group = NULL;
	y->run_as_user = y->run_as_group = NULL;
	os_policy_free(x);
	os_policy_free(y);
	return os_buf_steal(&out);
}

static void
gw_update_policy(struct gw *gw, struct os_rpc_call *call,
    const struct gw_caller *caller, const Openshell__V1__UpdateConfigRequest *req)
{
	Openshell__V1__UpdateConfigResponse	 resp =
	    OPENSHELL__V1__UPDATE_CONFIG_RESPONSE__INIT;
	struct store_sandbox			 sb;
	struct os_policy			*policy = NULL, *current = NULL;
	struct os_diags				 d = OS_DIAGS_INIT, cd = OS_DIAGS_INIT;
	struct os_error				 err;
	char					*changed = NULL, hash[65];
	char				       **notes = NULL;
	size_t					 i, nnotes = 0;
	uint32_t				 version;
	bool					 unchanged;

	if (gw_sandbox_resolve(gw, call, caller, req->name, &sb) != 0)
		return;
	if (gw_policy_from_request(req->policy_yaml, req->policy_file, req->policy,
	    &policy, &d) != 0) {
		gw_fail_diags(call, GRPC_STATUS_INVALID_ARGUMENT,
		    _("the policy is not valid"), &d);
		goto out;
	}
	if (os_policy_load_yaml(sb.base_yaml, strlen(sb.base_yaml), NULL, &current,
	    NULL, &cd) != 0) {
		os_rpc_fail(call, GRPC_STATUS_INTERNAL,
		    "the stored base policy of '%s' does not load", sb.name);
		goto out;
	}
	/* A policy that leaves a static section out keeps the current one. */
	gw_policy_fill_static(policy, current);
	changed = gw_static_changes(current, policy);
	if (*changed != '\0' && (sb.phase == STORE_PHASE_READY ||
	    sb.phase == STORE_PHASE_PROVISIONING)) {
		os_rpc_fail(call, GRPC_STATUS_FAILED_PRECONDITION,
		    _("%s cannot change on a live sandbox: filesystem_policy, landlock "
		    "and process apply when a sandbox starts. Only network_policies "
		    "reload live; create a new sandbox for this policy (openshell "
		    "sandbox create --policy FILE)"), changed);
		goto out;
	}
	free(sb.base_yaml);
	sb.base_yaml = os_policy_to_yaml(policy);
	os_diags_free(&cd);
	if (gw_policy_commit(gw, &sb, policy, "policy set", caller->actor,
	    &version, hash, &unchanged, &cd, &err) != 0) {
		gw_fail_store(call, &err);
		goto out;
	}
	notes = xcalloc(d.n + cd.n + 1, sizeof *notes);
	for (i = 0; i < d.n; i++)
		notes[nnotes++] = os_diag_format(&d.v[i]);
	for (i = 0; i < cd.n; i++)
		notes[nnotes++] = os_diag_format(&cd.v[i]);
	resp.version = version;
	resp.policy_hash = hash;
	resp.unchanged = unchanged;
	resp.notes = notes;
	resp.n_notes = nnotes;
	os_rpc_reply(call, &resp.base);
out:
	if (notes != NULL)
		os_strv_free(notes, nnotes);
	free(changed);
	os_policy_free(policy);
	os_policy_free(current);
	os_diags_free(&d);
	os_diags_free(&cd);
	store_sandbox_clear(&sb);
}

static void
gw_update_setting(struct gw *gw, struct os_rpc_call *call,
    const struct gw_caller *caller, const Openshell__V1__UpdateConfigRequest *req)
{
	Openshell__V1__UpdateConfigResponse	 resp =
	    OPENSHELL__V1__UPDATE_CONFIG_RESPONSE__INIT;
	const struct gw_setting_def		*def;
	struct store_sandbox			 sb;
	struct os_error				 err;
	uint8_t					*buf;
	size_t					 len, n, i;
	const char				*scope = "";
	char					*note = NULL;
	int					 rc;

	memset(&sb, 0, sizeof sb);
	if ((def = gw_setting_find(req->setting_key)) == NULL) {
		const struct gw_setting_def *defs = gw_setting_defs(&n);
		struct os_buf b = OS_BUF_INIT;

		for (i = 0; i < n; i++)
			os_buf_addf(&b, "%s%s", i ? ", " : "", defs[i].key);
		os_rpc_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
		    _("setting_key: unknown setting '%s' (known: %s)"),
		    req->setting_key, os_buf_str(&b));
		os_buf_free(&b);
		return;
	}
	if (!req->gateway_scope) {
		if (def->gateway_only) {
			os_rpc_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
			    _("'%s' applies to the whole gateway; set it without a sandbox"),
			    def->key);
			return;
		}
		if (gw_sandbox_resolve(gw, call, caller, req->name, &sb) != 0)
			return;
		scope = sb.id;
	}
	if (req->delete_setting) {
		rc = store_setting_delete(gw->store, scope, def->key, &err);
		if (rc != 0 && rc != -ENOENT) {
			gw_fail_store(call, &err);
			goto out;
		}
	} else {
		if (req->setting_value == NULL ||
		    req->setting_value->value_case ==
		    OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE__NOT_SET) {
			os_rpc_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
			    _("setting_value: a value is required"));
			goto out;
		}
		if (gw_setting_check(def, req->setting_value, &err) != 0) {
			os_rpc_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "%s", err.msg);
			goto out;
		}
		if (req->setting_value->value_case ==
		    OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_STRING_VALUE &&
		    def->type != GW_SETTING_STRING) {
			/* "15m" for a duration: store the parsed number. */
			GwPbSettingValue	 v;
			char			*s;

			gw_setting_parse(def, req->setting_value->string_value, &v, &s, &err);
			len = protobuf_c_message_get_packed_size(&v.base);
			buf = xmalloc(len + 1);
			protobuf_c_message_pack(&v.base, buf);
			free(s);
		} else {
			len = protobuf_c_message_get_packed_size(&req->setting_value->base);
			buf = xmalloc(len + 1);
			protobuf_c_message_pack(&req->setting_value->base, buf);
		}
		rc = store_setting_put(gw->store, scope, def->key, buf, len,
		    os_now_ms(), &err);
		free(buf);
		if (rc != 0) {
			gw_fail_store(call, &err);
			goto out;
		}
		if (!req->gateway_scope) {
			struct store_setting g;

			memset(&g, 0, sizeof g);
			if (store_setting_get(gw->store, "", def->key, &g, &err) == 0) {
				note = xprintf(_("note: '%s' is also set for the whole "
				    "gateway; the gateway value wins"), def->key);
				store_setting_clear(&g);
			}
		}
	}
	log_info("setting %s %s%s%s by %s", def->key,
	    req->delete_setting ? "unset" : "set",
	    req->gateway_scope ? " for the gateway" : " for sandbox ",
	    req->gateway_scope ? "" : sb.name, caller->actor);
	if (req->gateway_scope)
		gw_config_publish_all(gw);
	else
		gw_config_publish(gw, sb.id);
	if (note != NULL) {
		resp.notes = &note;
		resp.n_notes = 1;
	}
	os_rpc_reply(call, &resp.base);
out:
	free(note);
	store_sandbox_clear(&sb);
}

void
gw_rpc_update_config(struct os_rpc_call *call, const ProtobufCMessage *msg,
    void *arg)
{
	const Openshell__V1__UpdateConfigRequest *req = (const void *)msg;
	struct gw				*gw = arg;
	struct gw_caller			 caller;
	bool					 has_policy, has_setting;

	if (!gw_auth_operator(gw, call, &caller))
		return;
	has_policy = *req->policy_yaml != '\0' || req->policy != NULL;
	has_setting = *req->setting_key != '\0';
	if (has_policy == has_setting)
		os_rpc_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
		    _("give exactly one of a policy (policy or policy_yaml) or a setting (setting_key)"));
	else if (has_policy && req->gateway_scope)
		os_rpc_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
		    _("gateway_scope: policies belong to one sandbox"));
	else if (has_policy)
		gw_update_policy(gw, call, &caller, req);
	else
		gw_update_setting(gw, call, &caller, req);
	gw_caller_clear(&caller);
}

/* ------------------------------------------------------------------------
 * Reads
 */

void
gw_rpc_get_config(struct os_rpc_call *call, const ProtobufCMessage *msg,
    void *arg)
{
	const Openshell__Sandbox__V1__GetSandboxConfigRequest *req = (const void *)msg;
	struct gw				*gw = arg;
	struct gw_caller			 caller;
	struct store_sandbox			 sb;
	struct os_error				 err;
	GwPbConfig				*cfg;

	if (!gw_auth_caller(gw, call, &caller))
		return;
	if (gw_sandbox_resolve_field(gw, call, &caller, "sandbox_id",
	    req->sandbox_id, &sb) == 0) {
		if ((cfg = gw_config_build(gw, &sb, &err)) == NULL)
			gw_fail_store(call, &err);
		else {
			os_rpc_reply(call, &cfg->base);
			gw_pb_config_free(cfg);
		}
		store_sandbox_clear(&sb);
	}
	gw_caller_clear(&caller);
}

void
gw_rpc_policy_status(struct os_rpc_call *call, const ProtobufCMessage *msg,
    void *arg)
{
	const Openshell__V1__GetSandboxPolicyStatusRequest *req = (const void *)msg;
	Openshell__V1__GetSandboxPolicyStatusResponse resp =
	    OPENSHELL__V1__GET_SANDBOX_POLICY_STATUS_RESPONSE__INIT;
	struct gw				*gw = arg;
	struct gw_caller			 caller;
	struct store_sandbox			 sb;
	struct store_revision			 rev;
	struct os_error				 err;
	int					 rc;

	if (!gw_auth_operator(gw, call, &caller))
		return;
	if (gw_sandbox_resolve(gw, call, &caller, req->name, &sb) != 0) {
		gw_caller_clear(&caller);
		return;
	}
	memset(&rev, 0, sizeof rev);
	rc = store_revision_get(gw->store, sb.id, req->version, &rev, &err);
	if (rc == -ENOENT)
		os_rpc_fail(call, GRPC_STATUS_NOT_FOUND,
		    _("sandbox '%s' has no policy revision %u"), sb.name, req->version);
	else if (rc != 0)
		gw_fail_store(call, &err);
	else {
		resp.revision = gw_pb_revision(&rev, req->include_policy);
		resp.active_version = sb.active_version;
		os_rpc_reply(call, &resp.base);
		gw_pb_revision_free(resp.revision);
	}
	store_revision_clear(&rev);
	store_sandbox_clear(&sb);
	gw_caller_clear(&caller);
}

void
gw_rpc_list_policies(struct os_rpc_call *call, const ProtobufCMessage *msg,
    void *arg)
{
	const Openshell__V1__ListSandboxPoliciesRequest *req = (const void *)msg;
	Openshell__V1__ListSandboxPoliciesResponse resp =
	    OPENSHELL__V1__LIST_SANDBOX_POLICIES_RESPONSE__INIT;
	struct gw				*gw = arg;
	struct gw_caller			 caller;
	struct store_sandbox			 sb;
	struct store_revision			*revs;
	struct os_error				 err;
	size_t					 n, i;

	if (!gw_auth_operator(gw, call, &caller))
		return;
	if (gw_sandbox_resolve(gw, call, &caller, req->name, &sb) != 0) {
		gw_caller_clear(&caller);
		return;
	}
	if (store_revision_list(gw->store, sb.id, req->limit ? req->limit : 50,
	    req->offset, &revs, &n, &err) != 0)
		gw_fail_store(call, &err);
	else {
		resp.revisions = xcalloc(n + 1, sizeof *resp.revisions);
		for (i = 0; i < n; i++)
			resp.revisions[i] = gw_pb_revision(&revs[i], false);
		resp.n_revisions = n;
		os_rpc_reply(call, &resp.base);
		for (i = 0; i < n; i++)
			gw_pb_revision_free(resp.revisions[i]);
		free(resp.revisions);
		store_revisions_free(revs, n);
	}
	store_sandbox_clear(&sb);
	gw_caller_clear(&caller);
}

void
gw_rpc_report_status(struct os_rpc_call *call, const ProtobufCMessage *msg,
    void *arg)
{
	const Openshell__V1__ReportPolicyStatusRequest *req = (const void *)msg;
	Openshell__V1__ReportPolicyStatusResponse resp =
	    OPENSHELL__V1__REPORT_POLICY_STATUS_RESPONSE__INIT;
	struct gw				*gw = arg;
	struct gw_caller			 caller;
	struct store_sandbox			 sb;
	struct store_revision			 rev;
	struct os_error				 err;
	char					*msgtext;
	int					 rc;

	if (!gw_auth_caller(gw, call, &caller))
		return;
	if (caller.role != GW_ROLE_SANDBOX) {
		os_rpc_fail(call, GRPC_STATUS_PERMISSION_DENIED,
		    _("only a sandbox reports its own policy status"));
		goto done;
	}
	if (gw_sandbox_resolve(gw, call, &caller, req->sandbox_id, &sb) != 0)
		goto done;
	if (req->status != OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_LOADED &&
	    req->status != OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_FAILED) {
		os_rpc_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
		    _("status: only LOADED or FAILED can be reported"));
		goto out;
	}
	rc = store_revision_set_status(gw->store, sb.id, req->version,
	    (enum store_policy_status)req->status,
	    *req->load_error != '\0' ? req->load_error : NULL, os_now_ms(), &err);
	if (rc == -ENOENT) {
		os_rpc_fail(call, GRPC_STATUS_NOT_FOUND,
		    _("version: no policy revision %u"), req->version);
		goto out;
	} else if (rc != 0) {
		gw_fail_store(call, &err);
		goto out;
	}
	log_info("sandbox %s: revision %u %s%s%s", sb.name, req->version,
	    req->status == OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_LOADED ?
	    "loaded" : "failed", *req->load_error ? ": " : "", req->load_error);
	if (req->status == OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_LOADED) {
		if (req->version > sb.active_version)
			sb.active_version = req->version;
		if (sb.phase == STORE_PHASE_PROVISIONING)
			gw_sandbox_set_phase(gw, &sb, STORE_PHASE_READY, NULL);
		else {
			sb.updated_at_ms = os_now_ms();
			store_sandbox_update(gw->store, &sb, &err);
			gw_sandbox_changed(gw, sb.id);
		}
	} else if (sb.phase == STORE_PHASE_PROVISIONING) {
		msgtext = xprintf(_("the initial policy failed to load: %s"),
		    req->load_error);
		gw_sandbox_set_phase(gw, &sb, STORE_PHASE_ERROR, msgtext);
		free(msgtext);
	}
	memset(&rev, 0, sizeof rev);
	if (store_revision_get(gw->store, sb.id, req->version, &rev, &err) == 0) {
		Openshell__V1__PolicyRevisionEvent	pre =
		    OPENSHELL__V1__POLICY_REVISION_EVENT__INIT;
		GwPbEvent				ev =
		    OPENSHELL__V1__SANDBOX_STREAM_EVENT__INIT;

		pre.revision = gw_pb_revision(&rev, false);
		pre.active_version = sb.active_version;
		ev.payload_case =
		    OPENSHELL__V1__SANDBOX_STREAM_EVENT__PAYLOAD_POLICY_REVISION;
		ev.policy_revision = &pre;
		gw_bus_publish(gw, sb.id, sb.name, GW_EVENT_POLICY, &ev);
		gw_pb_revision_free(pre.revision);
		store_revision_clear(&rev);
	}
	os_rpc_reply(call, &resp.base);
out:
	store_sandbox_clear(&sb);
done:
	gw_caller_clear(&caller);
}

void
gw_rpc_list_settings(struct os_rpc_call *call, const ProtobufCMessage *msg,
    void *arg)
{
	const Openshell__V1__ListSettingsRequest *req = (const void *)msg;
	Openshell__V1__ListSettingsResponse	 resp =
	    OPENSHELL__V1__LIST_SETTINGS_RESPONSE__INIT;
	struct gw				*gw = arg;
	struct gw_caller			 caller;
	struct store_sandbox			 sb;
	const struct gw_setting_def		*defs;
	Openshell__V1__SettingInfo		*infos;
	Openshell__Sandbox__V1__EffectiveSetting *effs;
	GwPbSettingValue			*vals, *defv, *gv, *sv;
	char				       **strs, **dstrs;
	struct os_error				 err;
	struct store_setting			 st;
	size_t					 n, i, j;
	bool					 have_sb = false;

	if (!gw_auth_operator(gw, call, &caller))
		return;
	memset(&sb, 0, sizeof sb);
	if (*req->name != '\0') {
		if (gw_sandbox_resolve(gw, call, &caller, req->name, &sb) != 0) {
			gw_caller_clear(&caller);
			return;
		}
		have_sb = true;
	}
	defs = gw_setting_defs(&n);
	infos = xcalloc(n, sizeof *infos);
	effs = xcalloc(n, sizeof *effs);
	vals = xcalloc(n, sizeof *vals);
	defv = xcalloc(n, sizeof *defv);
	gv = xcalloc(n, sizeof *gv);
	sv = xcalloc(n, sizeof *sv);
	strs = xcalloc(n, sizeof *strs);
	dstrs = xcalloc(n, sizeof *dstrs);
	resp.settings = xcalloc(n, sizeof *resp.settings);
	resp.n_settings = n;
	for (i = 0; i < n; i++) {
		Openshell__V1__SettingInfo *s = &infos[i];
		GwPbSettingValue *v;

		openshell__v1__setting_info__init(s);
		s->key = (char *)defs[i].key;
		s->type = (Openshell__V1__SettingType)defs[i].type;
		s->description = (char *)_(defs[i].description);
		s->gateway_only = defs[i].gateway_only;
		gw_setting_parse(&defs[i], defs[i].default_value, &defv[i], &dstrs[i], &err);
		s->default_value = &defv[i];
		gw_setting_effective(gw, have_sb ? sb.id : NULL, &defs[i], &effs[i],
		    &vals[i], &strs[i]);
		s->effective = &effs[i];
		if (defs[i].allowed != NULL) {
			for (j = 0; defs[i].allowed[j] != NULL; j++)
				;
			s->allowed_values = (char **)defs[i].allowed;
			s->n_allowed_values = j;
		}
		memset(&st, 0, sizeof st);
		if (store_setting_get(gw->store, "", defs[i].key, &st, &err) == 0) {
			v = openshell__sandbox__v1__setting_value__unpack(NULL,
			    st.value_len, st.value);
			if (v != NULL)
				s->gateway_value = v;
			store_setting_clear(&st);
		}
		if (have_sb && store_setting_get(gw->store, sb.id, defs[i].key, &st,
		    &err) == 0) {
			v = openshell__sandbox__v1__setting_value__unpack(NULL,
			    st.value_len, st.value);
			if (v != NULL)
				s->sandbox_value = v;
			store_setting_clear(&st);
		}
		resp.settings[i] = s;
	}
	os_rpc_reply(call, &resp.base);
	for (i = 0; i < n; i++) {
		if (infos[i].gateway_value != NULL)
			protobuf_c_message_free_unpacked(&infos[i].gateway_value->base, NULL);
		if (infos[i].sandbox_value != NULL)
			protobuf_c_message_free_unpacked(&infos[i].sandbox_value->base, NULL);
		free(strs[i]);
		free(dstrs[i]);
	}
	free(infos);
	free(effs);
	free(vals);
	free(defv);
	free(gv);
	free(sv);
	free(strs);
	free(dstrs);
	free(resp.settings);
	store_sandbox_clear(&sb);
	gw_caller_clear(&caller);
}
