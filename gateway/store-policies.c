/* Policy revisions: versions per sandbox from 1, and their load status. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"

#define REVISION_COLS							\
	"sandbox_id, version, hash, status, load_error, created_at_ms, "	\
	"loaded_at_ms, policy_yaml, origin"

void
store_revision_clear(struct store_revision *rev)
{
	if (rev == NULL)
		return;
	free(rev->sandbox_id);
	free(rev->hash);
	free(rev->load_error);
	free(rev->policy_yaml);
	free(rev->origin);
	memset(rev, 0, sizeof *rev);
}

void
store_revisions_free(struct store_revision *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		store_revision_clear(&v[i]);
	free(v);
}

static void
revision_from_row(sqlite3_stmt *stmt, struct store_revision *rev)
{
	memset(rev, 0, sizeof *rev);
	rev->sandbox_id = store_col_text(stmt, 0);
	rev->version = (uint32_t)store_col_int(stmt, 1);
	rev->hash = store_col_text(stmt, 2);
	rev->status = (enum store_policy_status)store_col_int(stmt, 3);
	rev->load_error = store_col_text(stmt, 4);
	rev->created_at_ms = store_col_int(stmt, 5);
	rev->loaded_at_ms = store_col_int(stmt, 6);
	rev->policy_yaml = store_col_text(stmt, 7);
	rev->origin = store_col_text(stmt, 8);
}

/* Revisions older than `version` that are PENDING (or LOADED, when
 * loaded_too) become SUPERSEDED. */
static int
revision_supersede(struct store *st, const char *sandbox_id, uint32_t version,
    bool loaded_too, struct os_error *err)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	stmt = store_stmt(st, "UPDATE policy_revisions SET status = ?4 "
	    "WHERE sandbox_id = ?1 AND version < ?2 "
	    "AND (status = ?5 OR (?3 AND status = ?6))", err);
	if (stmt == NULL)
		return -EIO;
	store_bind_text(st, stmt, 1, sandbox_id);
	store_bind_int(st, stmt, 2, version);
	store_bind_int(st, stmt, 3, loaded_too);
	store_bind_int(st, stmt, 4, STORE_POLICY_SUPERSEDED);
	store_bind_int(st, stmt, 5, STORE_POLICY_PENDING);
	store_bind_int(st, stmt, 6, STORE_POLICY_LOADED);
	rc = store_step(st, stmt, err, "supersede revisions of sandbox '%s'",
	    sandbox_id);
	store_stmt_done(stmt);
	return rc < 0 ? rc : 0;
}

int
store_revision_add(struct store *st, struct store_revision *rev,
    struct os_error *err)
{
	sqlite3_stmt	*stmt;
	uint32_t	 version = 0;
	int		 rc;

	if ((rc = store_op_begin(st, err)) != 0)
		return rc;
	/* The version is computed by the insert itself, inside the
	 * transaction, so two writers cannot pick the same one. */
	stmt = store_stmt(st, "INSERT INTO policy_revisions (" REVISION_COLS
	    ") VALUES (?1, coalesce((SELECT max(version) FROM policy_revisions "
	    "WHERE sandbox_id = ?1), 0) + 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
	    "RETURNING version", err);
	if (stmt == NULL) {
		rc = -EIO;
		goto out;
	}
	store_bind_text(st, stmt, 1, rev->sandbox_id);
	store_bind_text(st, stmt, 2, rev->hash);
	store_bind_int(st, stmt, 3, rev->status != 0 ? rev->status :
	    STORE_POLICY_PENDING);
	store_bind_text(st, stmt, 4, rev->load_error);
	store_bind_int(st, stmt, 5, rev->created_at_ms);
	store_bind_int(st, stmt, 6, rev->loaded_at_ms);
	store_bind_text(st, stmt, 7, rev->policy_yaml);
	store_bind_text(st, stmt, 8, rev->origin);
	rc = store_step(st, stmt, err, "add revision for sandbox '%s'",
	    rev->sandbox_id != NULL ? rev->sandbox_id : "");
	if (rc == 1) {
		version = (uint32_t)store_col_int(stmt, 0);
		rc = store_step(st, stmt, err, "add revision for sandbox '%s'",
		    rev->sandbox_id);
	}
	store_stmt_done(stmt);
	if (rc == 0)
		rc = revision_supersede(st, rev->sandbox_id, version, false, err);
out:
	rc = store_op_end(st, rc, err);
	if (rc == 0)
		rev->version = version;
	return rc;
}

int
store_revision_get(struct store *st, const char *sandbox_id, uint32_t version,
    struct store_revision *rev, struct os_error *err)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	memset(rev, 0, sizeof *rev);
	stmt = store_stmt(st, "SELECT " REVISION_COLS " FROM policy_revisions "
	    "WHERE sandbox_id = ?1 AND (?2 = 0 OR version = ?2) "
	    "ORDER BY version DESC LIMIT 1", err);
	if (stmt == NULL)
		return -EIO;
	store_bind_text(st, stmt, 1, sandbox_id);
	store_bind_int(st, stmt, 2, version);
	rc = store_step(st, stmt, err, "get revision %u of sandbox '%s'", version,
	    sandbox_id != NULL ? sandbox_id : "");
	if (rc == 1)
		revision_from_row(stmt, rev);
	store_stmt_done(stmt);
	if (rc == 0) {
		if (version == 0)
			return os_error_set(err, -ENOENT,
			    _("store: sandbox '%s' has no policy revision"),
			    sandbox_id != NULL ? sandbox_id : "");
		return os_error_set(err, -ENOENT,
		    _("store: sandbox '%s' has no policy revision %u"),
		    sandbox_id != NULL ? sandbox_id : "", version);
	}
	return rc < 0 ? rc : 0;
}

int
store_revision_list(struct store *st, const char *sandbox_id, uint32_t limit,
    uint32_t offset, struct store_revision **out, size_t *n,
    struct os_error *err)
{
	struct store_revision	*v = NULL;
	sqlite3_stmt		*stmt;
	size_t			 cap = 0, len = 0;
	int			 rc;

	*out = NULL;
	*n = 0;
	stmt = store_stmt(st, "SELECT " REVISION_COLS " FROM policy_revisions "
	    "WHERE sandbox_id = ?1 ORDER BY version DESC LIMIT ?2 OFFSET ?3", err);
	if (stmt == NULL)
		return -EIO;
	store_bind_text(st, stmt, 1, sandbox_id);
	store_bind_int(st, stmt, 2, limit != 0 ? (int64_t)limit : -1);
	store_bind_int(st, stmt, 3, offset);
	while ((rc = store_step(st, stmt, err, "list revisions of sandbox '%s'",
	    sandbox_id != NULL ? sandbox_id : "")) == 1) {
		v = store_array_grow(v, len, &cap, sizeof *v);
		revision_from_row(stmt, &v[len++]);
	}
	store_stmt_done(stmt);
	if (rc < 0) {
		store_revisions_free(v, len);
		return rc;
	}
	*out = v;
	*n = len;
	return 0;
}

int
store_revision_set_status(struct store *st, const char *sandbox_id,
    uint32_t version, enum store_policy_status status, const char *load_error,
    int64_t now_ms, struct os_error *err)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if ((rc = store_op_begin(st, err)) != 0)
		return rc;
	/* LOADED clears an earlier error and stamps loaded_at; FAILED keeps
	 * loaded_at (it may have loaded before) and stores the error. */
	stmt = store_stmt(st, "UPDATE policy_revisions SET status = ?3, "
	    "load_error = CASE WHEN ?3 = ?5 THEN ?4 WHEN ?3 = ?6 THEN NULL "
	    "ELSE load_error END, "
	    "loaded_at_ms = CASE WHEN ?3 = ?6 THEN ?7 ELSE loaded_at_ms END "
	    "WHERE sandbox_id = ?1 AND version = ?2", err);
	if (stmt == NULL) {
		rc = -EIO;
		goto out;
	}
	store_bind_text(st, stmt, 1, sandbox_id);
	store_bind_int(st, stmt, 2, version);
	store_bind_int(st, stmt, 3, status);
	store_bind_text(st, stmt, 4, load_error);
	store_bind_int(st, stmt, 5, STORE_POLICY_FAILED);
	store_bind_int(st, stmt, 6, STORE_POLICY_LOADED);
	store_bind_int(st, stmt, 7, now_ms);
	rc = store_step(st, stmt, err, "set status of revision %u of sandbox '%s'",
	    version, sandbox_id != NULL ? sandbox_id : "");
	store_stmt_done(stmt);
	if (rc == 0 && sqlite3_changes(st->db) == 0)
		rc = os_error_set(err, -ENOENT,
		    _("store: sandbox '%s' has no policy revision %u"),
		    sandbox_id != NULL ? sandbox_id : "", version);
	if (rc == 0 && status == STORE_POLICY_LOADED)
		rc = revision_supersede(st, sandbox_id, version, true, err);
out:
	return store_op_end(st, rc, err);
}
