/*
 * The gateway's store: everything the control plane keeps, behind a
 * narrow interface so that a PostgreSQL backend can replace SQLite later.
 *
 * SQLite backend (store*.c): one file in WAL mode with synchronous=FULL,
 * versioned migrations applied at open, one module per table family. A
 * function returns only after its transaction committed, so anything the
 * gateway acknowledges survives kill -9.
 *
 * Errors: 0 on success, -ENOENT when the thing is not there, -EEXIST on a
 * uniqueness clash, -EIO (with err->msg) when the database failed.
 * Returned structs are owned by the caller and freed with the matching
 * *_free / *_clear function.
 */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "openshell.h"

struct store;

int	 store_open(const char *path, struct store **out, struct os_error *);
void	 store_close(struct store *);
int	 store_schema_version(struct store *);

/* Runs several calls as one transaction (nested calls join it). */
int	 store_begin(struct store *, struct os_error *);
int	 store_commit(struct store *, struct os_error *);
void	 store_rollback(struct store *);

/* ------------------------------------------------------------------------
 * Sandboxes (store-sandboxes.c)
 */
enum store_phase {              /* values of openshell.v1.SandboxPhase */
	STORE_PHASE_PROVISIONING = 1,
	STORE_PHASE_READY = 2,
	STORE_PHASE_ERROR = 3,
	STORE_PHASE_STOPPED = 4,
	STORE_PHASE_DELETING = 5,
};

struct store_sandbox {
	char		*id;
	char		*name;
	char		*token_hash;          /* sha256 hex of the bearer token */
	enum store_phase phase;
	int64_t		 created_at_ms;
	int64_t		 updated_at_ms;
	char		*error;               /* NULL when none */
	bool		 exited;
	int		 exit_code;
	int		 exit_signal;
	int		 supervisor_pid;       /* 0 = none */
	uint64_t	 supervisor_start;     /* /proc/<pid>/stat start time */
	uint32_t	 active_version;       /* last revision the supervisor loaded */
	char		*base_yaml;           /* the operator's base policy, canonical */
	char		*spec;                /* SandboxSpec bytes (binary safe) */
	size_t		 spec_len;
	bool		 keep;
	bool		 permissive;
	int64_t		 permissive_started_ms;
	int64_t		 permissive_expires_ms; /* 0 = no expiry */
	char	       **trusted_cidrs;
	size_t		 ntrusted_cidrs;
};

void	 store_sandbox_clear(struct store_sandbox *);
int	 store_sandbox_insert(struct store *, const struct store_sandbox *,
	     struct os_error *);
/* Replaces every mutable column of the row with this id. */
int	 store_sandbox_update(struct store *, const struct store_sandbox *,
	     struct os_error *);
int	 store_sandbox_get(struct store *, const char *id, struct store_sandbox *,
	     struct os_error *);
int	 store_sandbox_get_by_name(struct store *, const char *name,
	     struct store_sandbox *, struct os_error *);
int	 store_sandbox_get_by_token_hash(struct store *, const char *hash,
	     struct store_sandbox *, struct os_error *);
/* All sandboxes, by name. *out is an array the caller frees with store_sandboxes_free. */
int	 store_sandbox_list(struct store *, struct store_sandbox **out, size_t *n,
	     struct os_error *);
void	 store_sandboxes_free(struct store_sandbox *, size_t);
/* Removes the sandbox and its revisions, settings, logs, chunks and
 * denials (not the decision history, which is an audit trail). */
int	 store_sandbox_delete(struct store *, const char *id, struct os_error *);

/* ------------------------------------------------------------------------
 * Policy revisions (store-policies.c). Versions are per sandbox, from 1.
 */
enum store_policy_status {      /* values of openshell.v1.PolicyStatus */
	STORE_POLICY_PENDING = 1,
	STORE_POLICY_LOADED = 2,
	STORE_POLICY_FAILED = 3,
	STORE_POLICY_SUPERSEDED = 4,
};

struct store_revision {
	char			*sandbox_id;
	uint32_t		 version;
	char			*hash;         /* canonical sha256 hex */
	enum store_policy_status status;
	char			*load_error;   /* NULL when none */
	int64_t			 created_at_ms;
	int64_t			 loaded_at_ms; /* 0 = never */
	char			*policy_yaml;  /* canonical effective policy */
	char			*origin;       /* "create", "policy set", "approve <id>", ... */
};

void	 store_revision_clear(struct store_revision *);
/* Inserts version = latest + 1 (written into rev->version), marks older
 * PENDING revisions SUPERSEDED, all in one transaction. */
int	 store_revision_add(struct store *, struct store_revision *,
	     struct os_error *);
/* version 0 = latest. */
int	 store_revision_get(struct store *, const char *sandbox_id,
	     uint32_t version, struct store_revision *, struct os_error *);
/* Newest first; limit 0 = all. */
int	 store_revision_list(struct store *, const char *sandbox_id,
	     uint32_t limit, uint32_t offset, struct store_revision **out,
	     size_t *n, struct os_error *);
void	 store_revisions_free(struct store_revision *, size_t);
/* LOADED (sets loaded_at, marks older LOADED/PENDING SUPERSEDED) or FAILED
 * (with the error). -ENOENT for an unknown version. */
int	 store_revision_set_status(struct store *, const char *sandbox_id,
	     uint32_t version, enum store_policy_status, const char *load_error,
	     int64_t now_ms, struct os_error *);

/* ------------------------------------------------------------------------
 * Settings (store-settings.c). scope "" = gateway, else a sandbox id.
 * Values are SettingValue protobuf bytes; the registry interprets them.
 */
struct store_setting {
	char	*scope;
	char	*key;
	uint8_t	*value;
	size_t	 value_len;
	int64_t	 updated_at_ms;
};

void	 store_setting_clear(struct store_setting *);
int	 store_setting_put(struct store *, const char *scope, const char *key,
	     const uint8_t *value, size_t len, int64_t now_ms, struct os_error *);
int	 store_setting_get(struct store *, const char *scope, const char *key,
	     struct store_setting *, struct os_error *);
int	 store_setting_delete(struct store *, const char *scope, const char *key,
	     struct os_error *);
int	 store_setting_list(struct store *, const char *scope,
	     struct store_setting **out, size_t *n, struct os_error *);
void	 store_settings_free(struct store_setting *, size_t);

/* ------------------------------------------------------------------------
 * Logs (store-logs.c): a bounded ring per sandbox.
 */
struct store_log {
	char	*sandbox_id;
	uint64_t seq;           /* assigned by the store, per sandbox */
	int64_t	 ts_ms;
	char	*level;
	char	*target;
	char	*source;
	char	*message;
	uint8_t	*fields;        /* map as protobuf bytes of a SandboxLogLine, or NULL */
	size_t	 fields_len;
};

void	 store_log_clear(struct store_log *);
/* Appends n lines (assigning seq into each) and trims the ring to `keep`. */
int	 store_log_append(struct store *, struct store_log *, size_t n,
	     size_t keep, struct os_error *);
/* The newest `limit` lines at or after since_ms whose level is at least as
 * severe as min_level (NULL = any), oldest first. */
int	 store_log_query(struct store *, const char *sandbox_id, int64_t since_ms,
	     const char *min_level, const char *const *sources, size_t nsources,
	     size_t limit, struct store_log **out, size_t *n, struct os_error *);
/* The same among the lines older than before_seq (0 = no bound): a page. */
int	 store_log_query_before(struct store *, const char *sandbox_id,
	     int64_t since_ms, const char *min_level, const char *const *sources,
	     size_t nsources, uint64_t before_seq, size_t limit,
	     struct store_log **out, size_t *n, struct os_error *);
void	 store_logs_free(struct store_log *, size_t);
size_t	 store_log_count(struct store *, const char *sandbox_id);

/* ------------------------------------------------------------------------
 * Draft chunks and denial summaries (store-drafts.c). The columns mirror
 * openshell.v1.PolicyChunk; `payload` keeps the whole message (protobuf
 * bytes) so fields added later need no migration.
 */
struct store_chunk {
	char	*id;
	char	*sandbox_id;
	char	*status;         /* pending approved rejected expired superseded */
	char	*dedup_key;      /* "host|port|binary" or NULL */
	char	*host;
	uint32_t port;
	char	*binary;
	int64_t	 created_at_ms;
	int64_t	 updated_at_ms;
	int64_t	 decided_at_ms;
	int64_t	 expires_at_ms;
	uint64_t approval_seq;   /* order of approval; 0 = not approved */
	uint8_t	*payload;        /* PolicyChunk bytes */
	size_t	 payload_len;
};

void	 store_chunk_clear(struct store_chunk *);
int	 store_chunk_put(struct store *, const struct store_chunk *,
	     struct os_error *);          /* insert or replace by id */
int	 store_chunk_get(struct store *, const char *id, struct store_chunk *,
	     struct os_error *);
int	 store_chunk_find_dedup(struct store *, const char *sandbox_id,
	     const char *dedup_key, struct store_chunk *, struct os_error *);
/* status NULL = all; ordered by created_at. */
int	 store_chunk_list(struct store *, const char *sandbox_id,
	     const char *status, struct store_chunk **out, size_t *n,
	     struct os_error *);
/* Approved chunks in approval order: the input of composition. */
int	 store_chunk_list_approved(struct store *, const char *sandbox_id,
	     struct store_chunk **out, size_t *n, struct os_error *);
void	 store_chunks_free(struct store_chunk *, size_t);
int	 store_chunk_delete_status(struct store *, const char *sandbox_id,
	     const char *status, size_t *deleted, struct os_error *);
uint64_t store_chunk_next_approval_seq(struct store *, const char *sandbox_id);

struct store_denial {
	char	*id;
	char	*sandbox_id;
	char	*host;
	uint32_t port;
	char	*binary;
	char	*stage;
	int64_t	 first_seen_ms;
	int64_t	 last_seen_ms;
	uint32_t count;
	uint8_t	*payload;        /* DenialSummary bytes */
	size_t	 payload_len;
};

void	 store_denial_clear(struct store_denial *);
int	 store_denial_put(struct store *, const struct store_denial *,
	     struct os_error *);
int	 store_denial_list(struct store *, const char *sandbox_id,
	     struct store_denial **out, size_t *n, struct os_error *);
void	 store_denials_free(struct store_denial *, size_t);

/* ------------------------------------------------------------------------
 * Decision history (store-history.c): append-only.
 */
struct store_history {
	uint64_t seq;
	char	*sandbox_id;
	int64_t	 ts_ms;
	char	*actor;
	char	*event_type;
	char	*chunk_id;       /* NULL when not about a chunk */
	char	*description;
	char	*before_hash;
	char	*after_hash;
	char	*reason;
};

void	 store_history_clear(struct store_history *);
int	 store_history_append(struct store *, struct store_history *,
	     struct os_error *);          /* assigns seq */
int	 store_history_list(struct store *, const char *sandbox_id,
	     struct store_history **out, size_t *n, struct os_error *);
void	 store_histories_free(struct store_history *, size_t);

#endif /* STORE_H */
