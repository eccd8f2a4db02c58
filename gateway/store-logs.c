/*
 * Sandbox logs: a bounded ring per sandbox. Lines carry a per-sandbox seq
 * (previous newest + 1) that stays continuous when old lines are trimmed,
 * and a severity rank next to the level text so that "at least warn" is
 * an index-friendly comparison.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"

#define LOG_COLS							\
	"sandbox_id, seq, ts_ms, level, target, source, message, fields"

void
store_log_clear(struct store_log *l)
{
	if (l == NULL)
		return;
	free(l->sandbox_id);
	free(l->level);
	free(l->target);
	free(l->source);
	free(l->message);
	free(l->fields);
	memset(l, 0, sizeof *l);
}

void
store_logs_free(struct store_log *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		store_log_clear(&v[i]);
	free(v);
}

/* 0 error, 1 warn, 2 info, 3 debug; an unknown level counts as info. */
static int
log_severity(const char *level)
{
	enum os_log_level	l;

	if (level == NULL || os_log_level_parse(level, &l) != 0)
		return OS_LOG_INFO;
	return (int)l;
}

static void
log_from_row(sqlite3_stmt *stmt, struct store_log *l)
{
	memset(l, 0, sizeof *l);
	l->sandbox_id = store_col_text(stmt, 0);
	l->seq = (uint64_t)store_col_int(stmt, 1);
	l->ts_ms = store_col_int(stmt, 2);
	l->level = store_col_text(stmt, 3);
	l->target = store_col_text(stmt, 4);
	l->source = store_col_text(stmt, 5);
	l->message = store_col_text(stmt, 6);
	l->fields = store_col_blob(stmt, 7, &l->fields_len);
}

/*
 * The newest seq of a sandbox, 0 when it has no lines; -1 on an error,
 * with err saying which (-ENOENT: no such sandbox). The logs table has no
 * foreign key: this is the check, once per batch.
 */
static int64_t
log_last_seq(struct store *st, const char *sandbox_id, struct os_error *err)
{
	sqlite3_stmt	*stmt;
	int64_t		 seq = 0;
	int		 rc;

	stmt = store_stmt(st, "SELECT (SELECT coalesce(max(seq), 0) FROM logs "
	    "WHERE sandbox_id = ?1) FROM sandboxes WHERE id = ?1", err);
	if (stmt == NULL)
		return -1;
	store_bind_text(st, stmt, 1, sandbox_id);
	rc = store_step(st, stmt, err, "last log of sandbox '%s'", sandbox_id);
	if (rc == 1)
		seq = store_col_int(stmt, 0);
	else if (rc == 0)
		rc = os_error_set(err, -ENOENT,
		    _("store: append log of sandbox '%s': no such sandbox"),
		    sandbox_id);
	store_stmt_done(stmt);
	return rc < 0 ? -1 : seq;
}

/*
 * Deletes all but the newest `keep` lines of a sandbox. Seqs have no gaps
 * (each line is the newest + 1, and only the oldest are ever deleted), so
 * the cut is a seq: a range delete on the primary key, whatever the size
 * of the ring.
 */
static int
log_trim(struct store *st, const char *sandbox_id, int64_t last, size_t keep,
    struct os_error *err)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (last <= (int64_t)keep)
		return 0;
	stmt = store_stmt(st, "DELETE FROM logs WHERE sandbox_id = ?1 AND "
	    "seq <= ?2", err);
	if (stmt == NULL)
		return -EIO;
	store_bind_text(st, stmt, 1, sandbox_id);
	store_bind_int(st, stmt, 2, last - (int64_t)keep);
	rc = store_step(st, stmt, err, "trim logs of sandbox '%s'", sandbox_id);
	store_stmt_done(stmt);
	return rc < 0 ? rc : 0;
}

/* A line's sandbox id; NULL is "" (which no sandbox has: the insert fails). */
static const char *
log_sid(const struct store_log *l)
{
	return l->sandbox_id != NULL ? l->sandbox_id : "";
}

/*
 * keep 0 = no limit. Lines are telemetry, committed without an fsync
 * (store_op_begin_relaxed): a busy sandbox sends tens of batches a
 * second, and each would otherwise wait for the disk.
 */
int
store_log_append(struct store *st, struct store_log *logs, size_t n,
    size_t keep, struct os_error *err)
{
	sqlite3_stmt	*stmt;
	const char	*sid;
	int64_t		 last = 0;
	size_t		 i;
	int		 rc;

	if ((rc = store_op_begin_relaxed(st, err)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		sid = log_sid(&logs[i]);
		/* One lookup per run of lines of one sandbox. */
		if ((i == 0 || strcmp(sid, log_sid(&logs[i - 1])) != 0) &&
		    (last = log_last_seq(st, sid, err)) < 0) {
			rc = err->code < 0 ? err->code : -EIO;
			break;
		}
		stmt = store_stmt(st, "INSERT INTO logs (" LOG_COLS ", severity) "
		    "VALUES (?1, ?9, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", err);
		if (stmt == NULL) {
			rc = -EIO;
			break;
		}
		store_bind_text(st, stmt, 1, sid);
		store_bind_int(st, stmt, 2, logs[i].ts_ms);
		store_bind_text(st, stmt, 3, logs[i].level);
		store_bind_text(st, stmt, 4, logs[i].target);
		store_bind_text(st, stmt, 5, logs[i].source);
		store_bind_text(st, stmt, 6, logs[i].message);
		store_bind_blob(st, stmt, 7, logs[i].fields, logs[i].fields_len);
		store_bind_int(st, stmt, 8, log_severity(logs[i].level));
		store_bind_int(st, stmt, 9, last + 1);
		rc = store_step(st, stmt, err, "append log of sandbox '%s'", sid);
		store_stmt_done(stmt);
		if (rc == 0)
			logs[i].seq = (uint64_t)++last;
		/* Trim once per run of lines of one sandbox. */
		if (rc == 0 && keep > 0 && (i + 1 == n ||
		    strcmp(log_sid(&logs[i + 1]), sid) != 0))
			rc = log_trim(st, sid, last, keep, err);
	}
	rc = store_op_end(st, rc, err);
	if (rc != 0) {
		for (i = 0; i < n; i++)
			logs[i].seq = 0;
	}
	return rc;
}

/*
 * A NULL or empty source is the gateway's (as in SandboxLogLine), so
 * asking for "gateway" finds those lines too. The list of sources is
 * bound as one JSON array rather than pasted into the SQL.
 */
int
store_log_query(struct store *st, const char *sandbox_id, int64_t since_ms,
    const char *min_level, const char *const *sources, size_t nsources,
    size_t limit, struct store_log **out, size_t *n, struct os_error *err)
{
	return store_log_query_before(st, sandbox_id, since_ms, min_level,
	    sources, nsources, 0, limit, out, n, err);
}

/* before_seq 0 = up to the newest line; else only lines older than it. */
int
store_log_query_before(struct store *st, const char *sandbox_id,
    int64_t since_ms, const char *min_level, const char *const *sources,
    size_t nsources, uint64_t before_seq, size_t limit, struct store_log **out,
    size_t *n, struct os_error *err)
{
	struct store_log	*v = NULL, tmp;
	struct os_buf		 json = OS_BUF_INIT;
	enum os_log_level	 min = OS_LOG_DEBUG;
	sqlite3_stmt		*stmt;
	size_t			 cap = 0, len = 0, i;
	int			 rc;

	*out = NULL;
	*n = 0;
	if (min_level != NULL && *min_level != '\0' &&
	    os_log_level_parse(min_level, &min) != 0)
		return os_error_set(err, -EINVAL, _("store: unknown log level '%s' "
		    "(expected error, warn, info or debug)"), min_level);
	if (sources != NULL && nsources > 0) {
		os_buf_addc(&json, '[');
		for (i = 0; i < nsources; i++) {
			if (i > 0)
				os_buf_addc(&json, ',');
			os_buf_json_str(&json, sources[i] != NULL ? sources[i] : "");
		}
		os_buf_addc(&json, ']');
	}
	stmt = store_stmt(st, "SELECT " LOG_COLS " FROM logs "
	    "WHERE sandbox_id = ?1 AND seq < ?6 AND ts_ms >= ?2 AND severity <= ?3 "
	    "AND (?4 IS NULL OR coalesce(nullif(source, ''), 'gateway') IN "
	    "(SELECT value FROM json_each(?4))) "
	    "ORDER BY seq DESC LIMIT ?5", err);
	if (stmt == NULL) {
		os_buf_free(&json);
		return -EIO;
	}
	store_bind_text(st, stmt, 1, sandbox_id);
	store_bind_int(st, stmt, 2, since_ms);
	store_bind_int(st, stmt, 3, (int64_t)min);
	store_bind_text(st, stmt, 4, json.data);
	store_bind_int(st, stmt, 5, limit != 0 ? (int64_t)limit : -1);
	store_bind_int(st, stmt, 6, before_seq != 0 && before_seq <= INT64_MAX ?
	    (int64_t)before_seq : INT64_MAX);
	while ((rc = store_step(st, stmt, err, "query logs of sandbox '%s'",
	    sandbox_id != NULL ? sandbox_id : "")) == 1) {
		v = store_array_grow(v, len, &cap, sizeof *v);
		log_from_row(stmt, &v[len++]);
	}
	store_stmt_done(stmt);
	os_buf_free(&json);
	if (rc < 0) {
		store_logs_free(v, len);
		return rc;
	}
	/* Newest first from the index; callers want oldest first. */
	for (i = 0; i < len / 2; i++) {
		tmp = v[i];
		v[i] = v[len - 1 - i];
		v[len - 1 - i] = tmp;
	}
	*out = v;
	*n = len;
	return 0;
}

/* 0 when the count cannot be read (it is informational). */
size_t
store_log_count(struct store *st, const char *sandbox_id)
{
	sqlite3_stmt	*stmt;
	size_t		 count = 0;

	stmt = store_stmt(st, "SELECT count(*) FROM logs WHERE sandbox_id = ?1",
	    NULL);
	if (stmt == NULL)
		return 0;
	store_bind_text(st, stmt, 1, sandbox_id);
	if (store_step(st, stmt, NULL, "count logs") == 1)
		count = (size_t)store_col_int(stmt, 0);
	store_stmt_done(stmt);
	return count;
}
