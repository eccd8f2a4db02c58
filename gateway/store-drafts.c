/*
 * Draft policy chunks and denial summaries. The searchable fields are
 * columns; the whole message is kept as protobuf bytes in `payload`.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"

#define CHUNK_COLS							\
	"id, sandbox_id, status, dedup_key, host, port, binary, "	\
	"created_at_ms, updated_at_ms, decided_at_ms, expires_at_ms, "	\
	"approval_seq, payload"

#define DENIAL_COLS							\
	"id, sandbox_id, host, port, binary, stage, first_seen_ms, "	\
	"last_seen_ms, count, payload"

static const char *
str_or_empty(const char *s)
{
	return s != NULL ? s : "";
}

void
store_chunk_clear(struct store_chunk *c)
{
	if (c == NULL)
		return;
	free(c->id);
	free(c->sandbox_id);
	free(c->status);
	free(c->dedup_key);
	free(c->host);
	free(c->binary);
	free(c->payload);
	memset(c, 0, sizeof *c);
}

void
store_chunks_free(struct store_chunk *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		store_chunk_clear(&v[i]);
	free(v);
}

static void
chunk_from_row(sqlite3_stmt *stmt, struct store_chunk *c)
{
	memset(c, 0, sizeof *c);
	c->id = store_col_text(stmt, 0);
	c->sandbox_id = store_col_text(stmt, 1);
	c->status = store_col_text(stmt, 2);
	c->dedup_key = store_col_text(stmt, 3);
	c->host = store_col_text(stmt, 4);
	c->port = (uint32_t)store_col_int(stmt, 5);
	c->binary = store_col_text(stmt, 6);
	c->created_at_ms = store_col_int(stmt, 7);
	c->updated_at_ms = store_col_int(stmt, 8);
	c->decided_at_ms = store_col_int(stmt, 9);
	c->expires_at_ms = store_col_int(stmt, 10);
	c->approval_seq = (uint64_t)store_col_int(stmt, 11);
	c->payload = store_col_blob(stmt, 12, &c->payload_len);
}

/*
 * An upsert on id, not INSERT OR REPLACE: REPLACE would also delete
 * another chunk holding the same dedup key. Here that is -EEXIST.
 */
int
store_chunk_put(struct store *st, const struct store_chunk *c,
    struct os_error *err)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	stmt = store_stmt(st, "INSERT INTO draft_chunks (" CHUNK_COLS ") VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
	    "ON CONFLICT (id) DO UPDATE SET sandbox_id = excluded.sandbox_id, "
	    "status = excluded.status, dedup_key = excluded.dedup_key, "
	    "host = excluded.host, port = excluded.port, "
	    "binary = excluded.binary, created_at_ms = excluded.created_at_ms, "
	    "updated_at_ms = excluded.updated_at_ms, "
	    "decided_at_ms = excluded.decided_at_ms, "
	    "expires_at_ms = excluded.expires_at_ms, "
	    "approval_seq = excluded.approval_seq, payload = excluded.payload",
	    err);
	if (stmt == NULL)
		return -EIO;
	store_bind_text(st, stmt, 1, c->id);
	store_bind_text(st, stmt, 2, c->sandbox_id);
	store_bind_text(st, stmt, 3, c->status);
	store_bind_text(st, stmt, 4, c->dedup_key);
	store_bind_text(st, stmt, 5, c->host);
	store_bind_int(st, stmt, 6, c->port);
	store_bind_text(st, stmt, 7, c->binary);
	store_bind_int(st, stmt, 8, c->created_at_ms);
	store_bind_int(st, stmt, 9, c->updated_at_ms);
	store_bind_int(st, stmt, 10, c->decided_at_ms);
	store_bind_int(st, stmt, 11, c->expires_at_ms);
	store_bind_int(st, stmt, 12, (int64_t)c->approval_seq);
	store_bind_blob(st, stmt, 13, c->payload, c->payload_len);
	rc = store_step(st, stmt, err, "put chunk '%s' of sandbox '%s'",
	    str_or_empty(c->id), str_or_empty(c->sandbox_id));
	store_stmt_done(stmt);
	return rc < 0 ? rc : 0;
}

static int
chunk_get_one(struct store *st, const char *sql, const char *a, const char *b,
    struct store_chunk *c, struct os_error *err)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	memset(c, 0, sizeof *c);
	if ((stmt = store_stmt(st, sql, err)) == NULL)
		return -EIO;
	store_bind_text(st, stmt, 1, a);
	if (b != NULL)
		store_bind_text(st, stmt, 2, b);
	rc = store_step(st, stmt, err, "get chunk '%s'", str_or_empty(b ? b : a));
	if (rc == 1)
		chunk_from_row(stmt, c);
	store_stmt_done(stmt);
	return rc;
}

int
store_chunk_get(struct store *st, const char *id, struct store_chunk *c,
    struct os_error *err)
{
	int	rc;

	rc = chunk_get_one(st, "SELECT " CHUNK_COLS " FROM draft_chunks "
	    "WHERE id = ?1", id, NULL, c, err);
	if (rc == 0)
		return os_error_set(err, -ENOENT, _("store: chunk '%s' not found"),
		    str_or_empty(id));
	return rc < 0 ? rc : 0;
}

int
store_chunk_find_dedup(struct store *st, const char *sandbox_id,
    const char *dedup_key, struct store_chunk *c, struct os_error *err)
{
	int	rc;

	rc = chunk_get_one(st, "SELECT " CHUNK_COLS " FROM draft_chunks "
	    "WHERE sandbox_id = ?1 AND dedup_key = ?2", sandbox_id,
	    str_or_empty(dedup_key), c, err);
	if (rc == 0)
		return os_error_set(err, -ENOENT,
		    _("store: sandbox '%s' has no chunk for '%s'"),
		    str_or_empty(sandbox_id), str_or_empty(dedup_key));
	return rc < 0 ? rc : 0;
}

static int
chunk_list(struct store *st, const char *sql, const char *sandbox_id,
    const char *status, struct store_chunk **out, size_t *n,
    struct os_error *err)
{
	struct store_chunk	*v = NULL;
	sqlite3_stmt		*stmt;
	size_t			 cap = 0, len = 0;
	int			 rc;

	*out = NULL;
	*n = 0;
	if ((stmt = store_stmt(st, sql, err)) == NULL)
		return -EIO;
	store_bind_text(st, stmt, 1, sandbox_id);
	store_bind_text(st, stmt, 2, status);
	while ((rc = store_step(st, stmt, err, "list chunks of sandbox '%s'",
	    str_or_empty(sandbox_id))) == 1) {
		v = store_array_grow(v, len, &cap, sizeof *v);
		chunk_from_row(stmt, &v[len++]);
	}
	store_stmt_done(stmt);
	if (rc < 0) {
		store_chunks_free(v, len);
		return rc;
	}
	*out = v;
	*n = len;
	return 0;
}

int
store_chunk_list(struct store *st, const char *sandbox_id, const char *status,
    struct store_chunk **out, size_t *n, struct os_error *err)
{
	/* rowid breaks ties: insertion order. */
	return chunk_list(st, "SELECT " CHUNK_COLS " FROM draft_chunks "
	    "WHERE sandbox_id = ?1 AND (?2 IS NULL OR status = ?2) "
	    "ORDER BY created_at_ms, rowid", sandbox_id, status, out, n, err);
}

int
store_chunk_list_approved(struct store *st, const char *sandbox_id,
    struct store_chunk **out, size_t *n, struct os_error *err)
{
	return chunk_list(st, "SELECT " CHUNK_COLS " FROM draft_chunks "
	    "WHERE sandbox_id = ?1 AND status = ?2 "
	    "ORDER BY approval_seq, created_at_ms, rowid", sandbox_id, "approved",
	    out, n, err);
}

/* status NULL = every chunk of the sandbox. */
int
store_chunk_delete_status(struct store *st, const char *sandbox_id,
    const char *status, size_t *deleted, struct os_error *err)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (deleted != NULL)
		*deleted = 0;
	stmt = store_stmt(st, "DELETE FROM draft_chunks WHERE sandbox_id = ?1 "
	    "AND (?2 IS NULL OR status = ?2)", err);
	if (stmt == NULL)
		return -EIO;
	store_bind_text(st, stmt, 1, sandbox_id);
	store_bind_text(st, stmt, 2, status);
	rc = store_step(st, stmt, err, "delete %s chunks of sandbox '%s'",
	    status != NULL ? status : "all", str_or_empty(sandbox_id));
	store_stmt_done(stmt);
	if (rc < 0)
		return rc;
	if (deleted != NULL)
		*deleted = (size_t)sqlite3_changes(st->db);
	return 0;
}

/* Max + 1 over the sandbox's chunks (any status), 1 for the first; 0 if
 * the database cannot be read. Callers use it inside store_begin so that
 * the number and the put that uses it are one transaction. */
uint64_t
store_chunk_next_approval_seq(struct store *st, const char *sandbox_id)
{
	sqlite3_stmt	*stmt;
	uint64_t	 next = 0;

	stmt = store_stmt(st, "SELECT coalesce(max(approval_seq), 0) + 1 "
	    "FROM draft_chunks WHERE sandbox_id = ?1", NULL);
	if (stmt == NULL)
		return 0;
	store_bind_text(st, stmt, 1, sandbox_id);
	if (store_step(st, stmt, NULL, "next approval seq") == 1)
		next = (uint64_t)store_col_int(stmt, 0);
	store_stmt_done(stmt);
	return next;
}

/* ------------------------------------------------------------------------
 * Denial summaries
 */

void
store_denial_clear(struct store_denial *d)
{
	if (d == NULL)
		return;
	free(d->id);
	free(d->sandbox_id);
	free(d->host);
	free(d->binary);
	free(d->stage);
	free(d->payload);
	memset(d, 0, sizeof *d);
}

void
store_denials_free(struct store_denial *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		store_denial_clear(&v[i]);
	free(v);
}

/* Insert or replace by id. */
int
store_denial_put(struct store *st, const struct store_denial *d,
    struct os_error *err)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	stmt = store_stmt(st, "INSERT INTO denials (" DENIAL_COLS ") VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
	    "ON CONFLICT (id) DO UPDATE SET sandbox_id = excluded.sandbox_id, "
	    "host = excluded.host, port = excluded.port, "
	    "binary = excluded.binary, stage = excluded.stage, "
	    "first_seen_ms = excluded.first_seen_ms, "
	    "last_seen_ms = excluded.last_seen_ms, count = excluded.count, "
	    "payload = excluded.payload", err);
	if (stmt == NULL)
		return -EIO;
	store_bind_text(st, stmt, 1, d->id);
	store_bind_text(st, stmt, 2, d->sandbox_id);
	store_bind_text(st, stmt, 3, d->host);
	store_bind_int(st, stmt, 4, d->port);
	store_bind_text(st, stmt, 5, d->binary);
	store_bind_text(st, stmt, 6, d->stage);
	store_bind_int(st, stmt, 7, d->first_seen_ms);
	store_bind_int(st, stmt, 8, d->last_seen_ms);
	store_bind_int(st, stmt, 9, d->count);
	store_bind_blob(st, stmt, 10, d->payload, d->payload_len);
	rc = store_step(st, stmt, err, "put denial '%s' of sandbox '%s'",
	    str_or_empty(d->id), str_or_empty(d->sandbox_id));
	store_stmt_done(stmt);
	return rc < 0 ? rc : 0;
}

/* Oldest first (by first_seen_ms). */
int
store_denial_list(struct store *st, const char *sandbox_id,
    struct store_denial **out, size_t *n, struct os_error *err)
{
	struct store_denial	*v = NULL, *d;
	sqlite3_stmt		*stmt;
	size_t			 cap = 0, len = 0;
	int			 rc;

	*out = NULL;
	*n = 0;
	stmt = store_stmt(st, "SELECT " DENIAL_COLS " FROM denials "
	    "WHERE sandbox_id = ?1 ORDER BY first_seen_ms, rowid", err);
	if (stmt == NULL)
		return -EIO;
	store_bind_text(st, stmt, 1, sandbox_id);
	while ((rc = store_step(st, stmt, err, "list denials of sandbox '%s'",
	    str_or_empty(sandbox_id))) == 1) {
		v = store_array_grow(v, len, &cap, sizeof *v);
		d = &v[len++];
		d->id = store_col_text(stmt, 0);
		d->sandbox_id = store_col_text(stmt, 1);
		d->host = store_col_text(stmt, 2);
		d->port = (uint32_t)store_col_int(stmt, 3);
		d->binary = store_col_text(stmt, 4);
		d->stage = store_col_text(stmt, 5);
		d->first_seen_ms = store_col_int(stmt, 6);
		d->last_seen_ms = store_col_int(stmt, 7);
		d->count = (uint32_t)store_col_int(stmt, 8);
		d->payload = store_col_blob(stmt, 9, &d->payload_len);
	}
	store_stmt_done(stmt);
	if (rc < 0) {
		store_denials_free(v, len);
		return rc;
	}
	*out = v;
	*n = len;
	return 0;
}
