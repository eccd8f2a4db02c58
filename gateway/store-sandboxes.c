/* The sandboxes table: one row per sandbox, and deleting what it owns. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"

#define SANDBOX_COLS							\
	"id, name, token_hash, phase, created_at_ms, updated_at_ms, error, " \
	"exited, exit_code, exit_signal, supervisor_pid, supervisor_start, " \
	"active_version, base_yaml, spec, keep, permissive, "		\
	"permissive_started_ms, permissive_expires_ms, trusted_cidrs"

void
store_sandbox_clear(struct store_sandbox *sb)
{
	if (sb == NULL)
		return;
	free(sb->id);
	free(sb->name);
	free(sb->token_hash);
	free(sb->error);
	free(sb->base_yaml);
	free(sb->spec);
	os_strv_free(sb->trusted_cidrs, sb->ntrusted_cidrs);
	memset(sb, 0, sizeof *sb);
}

void
store_sandboxes_free(struct store_sandbox *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		store_sandbox_clear(&v[i]);
	free(v);
}

/* trusted_cidrs is one TEXT column: the CIDRs joined with newlines. */
static char *
sandbox_join_cidrs(const struct store_sandbox *sb)
{
	struct os_buf	b = OS_BUF_INIT;
	size_t		i;

	for (i = 0; i < sb->ntrusted_cidrs; i++) {
		if (i > 0)
			os_buf_addc(&b, '\n');
		os_buf_adds(&b, sb->trusted_cidrs[i]);
	}
	return b.data != NULL ? os_buf_steal(&b) : xstrdup("");
}

static void
sandbox_split_cidrs(struct store_sandbox *sb, const char *s)
{
	const char	*p, *nl;
	size_t		 cap = 0;

	for (p = s; p != NULL && *p != '\0'; p = nl != NULL ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (nl == p)
			continue;
		sb->trusted_cidrs = store_array_grow(sb->trusted_cidrs,
		    sb->ntrusted_cidrs, &cap, sizeof *sb->trusted_cidrs);
		sb->trusted_cidrs[sb->ntrusted_cidrs++] = nl != NULL ?
		    xstrndup(p, (size_t)(nl - p)) : xstrdup(p);
	}
}

static void
sandbox_from_row(sqlite3_stmt *stmt, struct store_sandbox *sb)
{
	char	*cidrs;

	memset(sb, 0, sizeof *sb);
	sb->id = store_col_text(stmt, 0);
	sb->name = store_col_text(stmt, 1);
	sb->token_hash = store_col_text(stmt, 2);
	sb->phase = (enum store_phase)store_col_int(stmt, 3);
	sb->created_at_ms = store_col_int(stmt, 4);
	sb->updated_at_ms = store_col_int(stmt, 5);
	sb->error = store_col_text(stmt, 6);
	sb->exited = store_col_int(stmt, 7) != 0;
	sb->exit_code = (int)store_col_int(stmt, 8);
	sb->exit_signal = (int)store_col_int(stmt, 9);
	sb->supervisor_pid = (int)store_col_int(stmt, 10);
	sb->supervisor_start = (uint64_t)store_col_int(stmt, 11);
	sb->active_version = (uint32_t)store_col_int(stmt, 12);
	sb->base_yaml = store_col_text(stmt, 13);
	sb->spec = store_col_blob(stmt, 14, &sb->spec_len);
	sb->keep = store_col_int(stmt, 15) != 0;
	sb->permissive = store_col_int(stmt, 16) != 0;
	sb->permissive_started_ms = store_col_int(stmt, 17);
	sb->permissive_expires_ms = store_col_int(stmt, 18);
	cidrs = store_col_text(stmt, 19);
	sandbox_split_cidrs(sb, cidrs);
	free(cidrs);
}

/* Binds every column in SANDBOX_COLS order as ?1..?20. */
static void
sandbox_bind(struct store *st, sqlite3_stmt *stmt, const struct store_sandbox *sb,
    const char *cidrs)
{
	store_bind_text(st, stmt, 1, sb->id);
	store_bind_text(st, stmt, 2, sb->name);
	store_bind_text(st, stmt, 3, sb->token_hash);
	store_bind_int(st, stmt, 4, sb->phase);
	store_bind_int(st, stmt, 5, sb->created_at_ms);
	store_bind_int(st, stmt, 6, sb->updated_at_ms);
	store_bind_text(st, stmt, 7, sb->error);
	store_bind_int(st, stmt, 8, sb->exited);
	store_bind_int(st, stmt, 9, sb->exit_code);
	store_bind_int(st, stmt, 10, sb->exit_signal);
	store_bind_int(st, stmt, 11, sb->supervisor_pid);
	store_bind_int(st, stmt, 12, (int64_t)sb->supervisor_start);
	store_bind_int(st, stmt, 13, sb->active_version);
	store_bind_text(st, stmt, 14, sb->base_yaml);
	store_bind_blob(st, stmt, 15, sb->spec, sb->spec_len);
	store_bind_int(st, stmt, 16, sb->keep);
	store_bind_int(st, stmt, 17, sb->permissive);
	store_bind_int(st, stmt, 18, sb->permissive_started_ms);
	store_bind_int(st, stmt, 19, sb->permissive_expires_ms);
	store_bind_text(st, stmt, 20, cidrs);
}

int
store_sandbox_insert(struct store *st, const struct store_sandbox *sb,
    struct os_error *err)
{
	sqlite3_stmt	*stmt;
	char		*cidrs;
	int		 rc;

	stmt = store_stmt(st, "INSERT INTO sandboxes (" SANDBOX_COLS ") VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
	    "?16, ?17, ?18, ?19, ?20)", err);
	if (stmt == NULL)
		return -EIO;
	cidrs = sandbox_join_cidrs(sb);
	sandbox_bind(st, stmt, sb, cidrs);
	rc = store_step(st, stmt, err, "insert sandbox '%s'",
	    sb->name != NULL ? sb->name : "");
	store_stmt_done(stmt);
	free(cidrs);
	return rc < 0 ? rc : 0;
}

int
store_sandbox_update(struct store *st, const struct store_sandbox *sb,
    struct os_error *err)
{
	sqlite3_stmt	*stmt;
	char		*cidrs;
	int		 rc;

	/* Everything but id and created_at_ms. */
	stmt = store_stmt(st, "UPDATE sandboxes SET name = ?2, token_hash = ?3, "
	    "phase = ?4, updated_at_ms = ?6, error = ?7, exited = ?8, "
	    "exit_code = ?9, exit_signal = ?10, supervisor_pid = ?11, "
	    "supervisor_start = ?12, active_version = ?13, base_yaml = ?14, "
	    "spec = ?15, keep = ?16, permissive = ?17, "
	    "permissive_started_ms = ?18, permissive_expires_ms = ?19, "
	    "trusted_cidrs = ?20 WHERE id = ?1", err);
	if (stmt == NULL)
		return -EIO;
	cidrs = sandbox_join_cidrs(sb);
	sandbox_bind(st, stmt, sb, cidrs);
	rc = store_step(st, stmt, err, "update sandbox '%s'",
	    sb->name != NULL ? sb->name : "");
	store_stmt_done(stmt);
	free(cidrs);
	if (rc < 0)
		return rc;
	if (sqlite3_changes(st->db) == 0)
		return os_error_set(err, -ENOENT, _("store: sandbox '%s' not found"),
		    sb->id != NULL ? sb->id : "");
	return 0;
}

static int
sandbox_get_one(struct store *st, const char *sql, const char *what,
    const char *value, struct store_sandbox *sb, struct os_error *err)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	memset(sb, 0, sizeof *sb);
	if ((stmt = store_stmt(st, sql, err)) == NULL)
		return -EIO;
	store_bind_text(st, stmt, 1, value);
	rc = store_step(st, stmt, err, "get sandbox by %s '%s'", what,
	    value != NULL ? value : "");
	if (rc == 1)
		sandbox_from_row(stmt, sb);
	store_stmt_done(stmt);
	if (rc == 0)
		return os_error_set(err, -ENOENT,
		    _("store: no sandbox with %s '%s'"), what,
		    value != NULL ? value : "");
	return rc < 0 ? rc : 0;
}

int
store_sandbox_get(struct store *st, const char *id, struct store_sandbox *sb,
    struct os_error *err)
{
	return sandbox_get_one(st, "SELECT " SANDBOX_COLS
	    " FROM sandboxes WHERE id = ?1", "id", id, sb, err);
}

int
store_sandbox_get_by_name(struct store *st, const char *name,
    struct store_sandbox *sb, struct os_error *err)
{
	return sandbox_get_one(st, "SELECT " SANDBOX_COLS
	    " FROM sandboxes WHERE name = ?1", "name", name, sb, err);
}

int
store_sandbox_get_by_token_hash(struct store *st, const char *hash,
    struct store_sandbox *sb, struct os_error *err)
{
	/* The message must not echo a credential, even hashed. */
	sqlite3_stmt	*stmt;
	int		 rc;

	memset(sb, 0, sizeof *sb);
	stmt = store_stmt(st, "SELECT " SANDBOX_COLS
	    " FROM sandboxes WHERE token_hash = ?1", err);
	if (stmt == NULL)
		return -EIO;
	store_bind_text(st, stmt, 1, hash);
	rc = store_step(st, stmt, err, "get sandbox by token");
	if (rc == 1)
		sandbox_from_row(stmt, sb);
	store_stmt_done(stmt);
	if (rc == 0)
		return os_error_set(err, -ENOENT, _("store: no sandbox has this token"));
	return rc < 0 ? rc : 0;
}

int
store_sandbox_list(struct store *st, struct store_sandbox **out, size_t *n,
    struct os_error *err)
{
	struct store_sandbox	*v = NULL;
	sqlite3_stmt		*stmt;
	size_t			 cap = 0, len = 0;
	int			 rc;

	*out = NULL;
	*n = 0;
	stmt = store_stmt(st, "SELECT " SANDBOX_COLS
	    " FROM sandboxes ORDER BY name", err);
	if (stmt == NULL)
		return -EIO;
	while ((rc = store_step(st, stmt, err, "list sandboxes")) == 1) {
		v = store_array_grow(v, len, &cap, sizeof *v);
		sandbox_from_row(stmt, &v[len++]);
	}
	store_stmt_done(stmt);
	if (rc < 0) {
		store_sandboxes_free(v, len);
		return rc;
	}
	*out = v;
	*n = len;
	return 0;
}

int
store_sandbox_delete(struct store *st, const char *id, struct os_error *err)
{
	/* Children first; the history stays (it is the audit trail). */
	static const char *const sqls[] = {
		"DELETE FROM policy_revisions WHERE sandbox_id = ?1",
		"DELETE FROM settings WHERE scope = ?1",
		"DELETE FROM logs WHERE sandbox_id = ?1",
		"DELETE FROM draft_chunks WHERE sandbox_id = ?1",
		"DELETE FROM denials WHERE sandbox_id = ?1",
		"DELETE FROM sandboxes WHERE id = ?1",
	};
	sqlite3_stmt	*stmt;
	size_t		 i;
	int		 rc;

	if (id == NULL || *id == '\0') /* scope "" is the gateway's settings */
		return os_error_set(err, -ENOENT, _("store: sandbox '' not found"));
	if ((rc = store_op_begin(st, err)) != 0)
		return rc;
	for (i = 0; i < OS_NELEM(sqls) && rc == 0; i++) {
		if ((stmt = store_stmt(st, sqls[i], err)) == NULL) {
			rc = -EIO;
			break;
		}
		store_bind_text(st, stmt, 1, id);
		rc = store_step(st, stmt, err, "delete sandbox '%s'", id);
		store_stmt_done(stmt);
		if (rc > 0)
			rc = 0;
	}
	if (rc == 0 && sqlite3_changes(st->db) == 0)
		rc = os_error_set(err, -ENOENT, _("store: sandbox '%s' not found"),
		    id);
	return store_op_end(st, rc, err);
}
