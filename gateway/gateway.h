/*
 * openshell-gateway internals: the control plane's shared state, the
 * caller identity, the event bus, the settings registry, the driver
 * interface and the RPC handlers. Everything runs on one libuv loop
 * thread (lib/rpc-loop.c bridges gRPC's completion queue onto it), so
 * nothing here takes locks.
 */
#ifndef GATEWAY_H
#define GATEWAY_H

#include <sys/queue.h>

/* glibc's sys/queue.h lacks the _SAFE iterators. */
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST((head));				\
	    (var) && ((tvar) = TAILQ_NEXT((var), field), 1);		\
	    (var) = (tvar))
#endif

#include "os-rpc.h"
#include "store.h"

typedef Openshell__V1__Sandbox			GwPbSandbox;
typedef Openshell__V1__SandboxStreamEvent	GwPbEvent;
typedef Openshell__Sandbox__V1__GetSandboxConfigResponse GwPbConfig;
typedef Openshell__Sandbox__V1__SettingValue	GwPbSettingValue;

struct gw_watcher;
struct gw_driver_ops;

struct gw {
	uv_loop_t		*uv;
	struct os_rpc_loop	 loop;
	struct os_rpc_server	*server;
	struct store		*store;

	char			*state_dir;
	char			*socket_path;     /* <state>/gateway.sock */
	char			*sandboxes_dir;   /* <state>/sandboxes */
	int			 lock_fd;
	char			*operator_token;
	int64_t			 started_at_ms;
	char		       **listen;          /* as given, for status */
	size_t			 nlisten;
	char			*tls_dir;         /* NULL = no TLS listener */

	/* Egress options shipped to every supervisor (ProxyOptions). */
	struct os_hosts		*hosts;
	char			*hosts_file;
	enum os_dns_mode	 dns_mode;
	char			*upstream_ca_pem;

	const struct gw_driver_ops *driver;
	void			*driver_state;
	char			*supervisor_path; /* openshell-sandbox binary */

	TAILQ_HEAD(, gw_watcher) watchers;
	uint64_t		 config_epoch;    /* bumps with any setting change */

	uv_signal_t		 sigterm;
	uv_signal_t		 sigint;
	uv_timer_t		 tick;            /* expiries, permissive TTLs */
	bool			 stopping;
};

/* ------------------------------------------------------------------------
 * Identity (gw-auth.c)
 */
enum gw_role {
	GW_ROLE_NONE,
	GW_ROLE_OPERATOR,
	GW_ROLE_SANDBOX,
};

struct gw_caller {
	enum gw_role	 role;
	char		*sandbox_id;    /* GW_ROLE_SANDBOX */
	char		*sandbox_name;
	char		*actor;         /* "operator", "operator:<cn>", "sandbox:<name>" */
};

int	 gw_auth_init(struct gw *, struct os_error *);   /* operator token file */
/* Who is calling. Fails the call (UNAUTHENTICATED) and returns false
 * when there is no valid credential. */
bool	 gw_auth_caller(struct gw *, struct os_rpc_call *, struct gw_caller *);
/* Operator-only calls: false (call failed PERMISSION_DENIED) otherwise. */
bool	 gw_auth_operator(struct gw *, struct os_rpc_call *, struct gw_caller *);
void	 gw_caller_clear(struct gw_caller *);
/* A sandbox token: random 256 bits, hex; its stored hash. */
char	*gw_token_new(void);
void	 gw_token_hash(const char *token, char out[65]);

/* ------------------------------------------------------------------------
 * Sandboxes (gw-sandbox.c)
 */
/* Resolves `name` (or id) for the caller. Operators see every sandbox;
 * a sandbox caller only itself, and gets the same PERMISSION_DENIED
 * whether another sandbox exists or not. Fails the call and returns -1
 * when it cannot. */
int	 gw_sandbox_resolve(struct gw *, struct os_rpc_call *,
	     const struct gw_caller *, const char *name, struct store_sandbox *);
/* The same for a request whose sandbox field is not called "name". */
int	 gw_sandbox_resolve_field(struct gw *, struct os_rpc_call *,
	     const struct gw_caller *, const char *field, const char *name,
	     struct store_sandbox *);
/* The wire form of a sandbox row; free with gw_pb_sandbox_free. */
GwPbSandbox *gw_pb_sandbox(struct gw *, const struct store_sandbox *);
void	 gw_pb_sandbox_free(GwPbSandbox *);
/* Supervisor exited (driver callback). */
void	 gw_sandbox_exited(struct gw *, const char *id, int code, int sig);
/* Re-reads the row and tells watchers (status changed). */
void	 gw_sandbox_changed(struct gw *, const char *id);
void	 gw_sandbox_set_phase(struct gw *, struct store_sandbox *,
	     enum store_phase, const char *error);
/* On start: re-attach to supervisors that outlived a previous gateway. */
void	 gw_sandbox_adopt_all(struct gw *);

/* ------------------------------------------------------------------------
 * Policies and configuration (gw-config.c)
 */
/* Composes base + approved chunks and stores a revision when the hash
 * changed. *version and hash are set either way; *unchanged says which. */
int	 gw_policy_commit(struct gw *, struct store_sandbox *,
	     const struct os_policy *base, const char *origin, const char *actor,
	     uint32_t *version, char hash[65], bool *unchanged,
	     struct os_diags *conflicts, struct os_error *);
/* The supervisor-facing config of a sandbox; free with gw_pb_config_free. */
GwPbConfig *gw_config_build(struct gw *, const struct store_sandbox *,
	     struct os_error *);
void	 gw_pb_config_free(GwPbConfig *);
/* The policy given in a request (YAML with file name, or proto). */
int	 gw_policy_from_request(const char *yaml, const char *file,
	     const OsPbPolicy *pb, struct os_policy **out, struct os_diags *);
/* Static sections (filesystem, landlock, process) that `p` leaves out are
 * copied from `from`. */
void	 gw_policy_fill_static(struct os_policy *p, const struct os_policy *from);
/* Tell the sandbox's supervisor (config watchers) about a change. */
void	 gw_config_publish(struct gw *, const char *sandbox_id);
Openshell__V1__SandboxPolicyRevision *gw_pb_revision(const struct store_revision *,
	     bool with_policy);
void	 gw_pb_revision_free(Openshell__V1__SandboxPolicyRevision *);

/* ------------------------------------------------------------------------
 * Settings registry (gw-settings.c)
 */
enum gw_setting_type {
	GW_SETTING_BOOL = 1,
	GW_SETTING_INT = 2,
	GW_SETTING_STRING = 3,
	GW_SETTING_DURATION = 4,    /* seconds */
};

struct gw_setting_def {
	const char		*key;
	enum gw_setting_type	 type;
	const char		*description;
	const char		*default_value;   /* as a user would type it */
	bool			 gateway_only;
	const char *const	*allowed;         /* NULL-terminated, or NULL */
	int64_t			 min, max;        /* ints and durations */
};

const struct gw_setting_def *gw_setting_find(const char *key);
const struct gw_setting_def *gw_setting_defs(size_t *n);
/* Parses what a user typed ("5m", "true", "auto") into a value. */
int	 gw_setting_parse(const struct gw_setting_def *, const char *text,
	     GwPbSettingValue *out, char **str_out, struct os_error *);
/* Validates a value that came over the wire. */
int	 gw_setting_check(const struct gw_setting_def *, const GwPbSettingValue *,
	     struct os_error *);
/* Effective values: gateway scope wins, then sandbox, then the default. */
bool	 gw_setting_bool(struct gw *, const char *sandbox_id, const char *key);
int64_t	 gw_setting_int(struct gw *, const char *sandbox_id, const char *key);
char	*gw_setting_string(struct gw *, const char *sandbox_id, const char *key);
/* Fills the wire form of one setting's effective value (and scope). */
void	 gw_setting_effective(struct gw *, const char *sandbox_id,
	     const struct gw_setting_def *, Openshell__Sandbox__V1__EffectiveSetting *,
	     GwPbSettingValue *, char **str_owned);

/* ------------------------------------------------------------------------
 * Event bus and watch streams (gw-bus.c)
 */
enum gw_event_kind {
	GW_EVENT_STATUS,
	GW_EVENT_LOG,
	GW_EVENT_POLICY,
	GW_EVENT_DRAFT,
	GW_EVENT_CONFIG,
	GW_EVENT_DELETED,
};

/* Sends an event to every watcher that follows `kind` for this sandbox.
 * Never blocks: a watcher whose queue is full is resynchronised. */
void	 gw_bus_publish(struct gw *, const char *sandbox_id,
	     const char *sandbox_name, enum gw_event_kind, GwPbEvent *);
void	 gw_bus_close_sandbox(struct gw *, const char *sandbox_id);
void	 gw_bus_close_all(struct gw *);
size_t	 gw_bus_count(struct gw *);

/* ------------------------------------------------------------------------
 * Driver interface (gw-driver-local.c is the one driver today; a
 * Kubernetes driver would implement the same operations).
 */
struct gw_driver_ops {
	const char	*name;
	int	(*init)(struct gw *, struct os_error *);
	/* Start the supervisor; the token reaches it out of band (an
	 * inherited fd for the local driver). */
	int	(*create)(struct gw *, struct store_sandbox *, const char *token,
		    struct os_error *);
	/* Stop it; `done` runs once it is gone (maybe at once). */
	void	(*stop)(struct gw *, const char *id, int grace_ms,
		    void (*done)(struct gw *, const char *id, void *), void *arg);
	/* After a gateway restart: is the supervisor still there (the
	 * recorded one, or one running unrecorded: then its pid and start
	 * time are filled in)? Attach exit monitoring and return true, or
	 * return false. */
	bool	(*adopt)(struct gw *, struct store_sandbox *);
	/* gRPC target of the supervisor's exec service. Caller frees. */
	char	*(*exec_target)(struct gw *, const char *id);
	/* Remove what create left on disk (after stop). */
	void	(*cleanup)(struct gw *, const char *id);
	void	(*shutdown)(struct gw *);
};

extern const struct gw_driver_ops gw_driver_local;

/* ------------------------------------------------------------------------
 * RPC handlers (gw-rpc.c registers them)
 */
int	 gw_rpc_start(struct gw *, struct os_error *);

void	 gw_rpc_health(struct os_rpc_call *, const ProtobufCMessage *, void *);
void	 gw_rpc_gateway_info(struct os_rpc_call *, const ProtobufCMessage *, void *);
void	 gw_rpc_create_sandbox(struct os_rpc_call *, const ProtobufCMessage *, void *);
void	 gw_rpc_get_sandbox(struct os_rpc_call *, const ProtobufCMessage *, void *);
void	 gw_rpc_list_sandboxes(struct os_rpc_call *, const ProtobufCMessage *, void *);
void	 gw_rpc_delete_sandbox(struct os_rpc_call *, const ProtobufCMessage *, void *);
void	 gw_rpc_update_config(struct os_rpc_call *, const ProtobufCMessage *, void *);
void	 gw_rpc_get_config(struct os_rpc_call *, const ProtobufCMessage *, void *);
void	 gw_rpc_policy_status(struct os_rpc_call *, const ProtobufCMessage *, void *);
void	 gw_rpc_list_policies(struct os_rpc_call *, const ProtobufCMessage *, void *);
void	 gw_rpc_report_status(struct os_rpc_call *, const ProtobufCMessage *, void *);
void	 gw_rpc_push_logs(struct os_rpc_call *, const ProtobufCMessage *, void *);
/* The first of logs[0..n) (oldest first) from which the newest lines
 * fit in budget bytes on the wire; at least the newest one. */
size_t	 gw_logs_newest_fit(const struct store_log *, size_t n, size_t budget);
void	 gw_rpc_get_logs(struct os_rpc_call *, const ProtobufCMessage *, void *);
void	 gw_rpc_watch(struct os_rpc_call *, const ProtobufCMessage *, void *);
void	 gw_rpc_exec(struct os_rpc_call *, const ProtobufCMessage *, void *);
void	 gw_rpc_list_settings(struct os_rpc_call *, const ProtobufCMessage *, void *);

/* Fails the call with every diagnostic, one per line. */
void	 gw_fail_diags(struct os_rpc_call *, grpc_status_code, const char *what,
	     const struct os_diags *);
/* Fails the call INTERNAL (store errors) and logs it. */
void	 gw_fail_store(struct os_rpc_call *, const struct os_error *);

#endif /* GATEWAY_H */
