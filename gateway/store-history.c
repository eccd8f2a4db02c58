/*
 * The decision history: an append-only audit trail. Rows outlive their
 * sandbox; triggers in the schema refuse UPDATE and DELETE.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"

#define HISTORY_COLS							\
	"seq, sandbox_id, ts_ms, actor, event_type, chunk_id, description, " \
	"before_hash, after_hash, reason"

void
store_history_clear(struct store_history *h)
{
	if (h == NULL)
		return;
	free(h->sandbox_id);
	free(h->actor);
	free(h->event_type);
	free(h->chunk_id);
	free(h->description);
	free(h->before_hash);
	free(h->after_hash);
	free(h->reason);
	memset(h, 0, sizeof *h);
}

void
store_histories_free(struct store_history *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		store_history_clear(&v[i]);
	free(v);
}

int
store_history_append(struct store *st, struct store_history *h,
    struct os_error *err)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	stmt = store_stmt(st, "INSERT INTO history (sandbox_id, ts_ms, actor, "
	    "event_type, chunk_id, description, before_hash, after_hash, reason) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", err);
	if (stmt == NULL)
		return -EIO;
	store_bind_text(st, stmt, 1, h->sandbox_id);
	store_bind_int(st, stmt, 2, h->ts_ms);
	store_bind_text(st, stmt, 3, h->actor);
	store_bind_text(st, stmt, 4, h->event_type);
	store_bind_text(st, stmt, 5, h->chunk_id);
	store_bind_text(st, stmt, 6, h->description);
	store_bind_text(st, stmt, 7, h->before_hash);
	store_bind_text(st, stmt, 8, h->after_hash);
	store_bind_text(st, stmt, 9, h->reason);
	rc = store_step(st, stmt, err, "append history of sandbox '%s'",
	    h->sandbox_id != NULL ? h->sandbox_id : "");
	store_stmt_done(stmt);
	if (rc < 0)
		return rc;
	h->seq = (uint64_t)sqlite3_last_insert_rowid(st->db);
	return 0;
}

/* Oldest first. sandbox_id NULL = the whole history. */
int
store_history_list(struct store *st, const char *sandbox_id,
    struct store_history **out, size_t *n, struct os_error *err)
{
	struct store_history	*v = NULL, *h;
	sqlite3_stmt		*stmt;
	size_t			 cap = 0, len = 0;
	int			 rc;

	*out = NULL;
	*n = 0;
	/* Two statements, so that the per-sandbox one uses its index. */
	if (sandbox_id == NULL)
		stmt = store_stmt(st, "SELECT " HISTORY_COLS " FROM history "
		    "ORDER BY seq", err);
	else
		stmt = store_stmt(st, "SELECT " HISTORY_COLS " FROM history "
		    "WHERE sandbox_id = ?1 ORDER BY seq", err);
	if (stmt == NULL)
		return -EIO;
	if (sandbox_id != NULL)
		store_bind_text(st, stmt, 1, sandbox_id);
	while ((rc = store_step(st, stmt, err, "list history of sandbox '%s'",
	    sandbox_id != NULL ? sandbox_id : "")) == 1) {
		v = store_array_grow(v, len, &cap, sizeof *v);
		h = &v[len++];
		h->seq = (uint64_t)store_col_int(stmt, 0);
		h->sandbox_id = store_col_text(stmt, 1);
		h->ts_ms = store_col_int(stmt, 2);
		h->actor = store_col_text(stmt, 3);
		h->event_type = store_col_text(stmt, 4);
		h->chunk_id = store_col_text(stmt, 5);
		h->description = store_col_text(stmt, 6);
		h->before_hash = store_col_text(stmt, 7);
		h->after_hash = store_col_text(stmt, 8);
		h->reason = store_col_text(stmt, 9);
	}
	store_stmt_done(stmt);
	if (rc < 0) {
		store_histories_free(v, len);
		return rc;
	}
	*out = v;
	*n = len;
	return 0;
}
