/*
 * The SQLite store: opening (pragmas, file modes), schema migrations,
 * transactions, and the statement and binding helpers the table modules
 * (store-*.c) share.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-int.h"

/*
 * Schema migrations, in order: migrations[i] takes the schema from version
 * i to i + 1. Append only; never edit a released entry. Each runs in its
 * own transaction together with the user_version bump.
 */
static const char *const migrations[] = {
	/* 1: the initial schema. */
	"CREATE TABLE sandboxes ("
	"  id TEXT PRIMARY KEY NOT NULL,"
	"  name TEXT NOT NULL UNIQUE,"
	"  token_hash TEXT UNIQUE,"
	"  phase INTEGER NOT NULL,"
	"  created_at_ms INTEGER NOT NULL,"
	"  updated_at_ms INTEGER NOT NULL,"
	"  error TEXT,"
	"  exited INTEGER NOT NULL DEFAULT 0,"
	"  exit_code INTEGER NOT NULL DEFAULT 0,"
	"  exit_signal INTEGER NOT NULL DEFAULT 0,"
	"  supervisor_pid INTEGER NOT NULL DEFAULT 0,"
	"  supervisor_start INTEGER NOT NULL DEFAULT 0,"
	"  active_version INTEGER NOT NULL DEFAULT 0,"
	"  base_yaml TEXT,"
	"  spec BLOB,"
	"  keep INTEGER NOT NULL DEFAULT 0,"
	"  permissive INTEGER NOT NULL DEFAULT 0,"
	"  permissive_started_ms INTEGER NOT NULL DEFAULT 0,"
	"  permissive_expires_ms INTEGER NOT NULL DEFAULT 0,"
	"  trusted_cidrs TEXT NOT NULL DEFAULT ''"    /* newline-joined */
	");"
	"CREATE TABLE policy_revisions ("
	"  sandbox_id TEXT NOT NULL"
	"    REFERENCES sandboxes (id) ON DELETE CASCADE,"
	"  version INTEGER NOT NULL CHECK (version >= 1),"
	"  hash TEXT,"
	"  status INTEGER NOT NULL,"
	"  load_error TEXT,"
	"  created_at_ms INTEGER NOT NULL,"
	"  loaded_at_ms INTEGER NOT NULL DEFAULT 0,"
	"  policy_yaml TEXT,"
	"  origin TEXT,"
	"  PRIMARY KEY (sandbox_id, version)"
	");"
	"CREATE TABLE settings ("
	"  scope TEXT NOT NULL,"                      /* '' = gateway */
	"  key TEXT NOT NULL,"
	"  value BLOB NOT NULL,"
	"  updated_at_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (scope, key)"
	") WITHOUT ROWID;"
	"CREATE TABLE logs ("
	"  sandbox_id TEXT NOT NULL"
	"    REFERENCES sandboxes (id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  ts_ms INTEGER NOT NULL,"
	"  level TEXT,"
	"  severity INTEGER NOT NULL,"                /* 0 error .. 3 debug */
	"  target TEXT,"
	"  source TEXT,"
	"  message TEXT,"
	"  fields BLOB,"
	"  PRIMARY KEY (sandbox_id, seq)"
	");"
	"CREATE TABLE draft_chunks ("
	"  id TEXT PRIMARY KEY NOT NULL,"
	"  sandbox_id TEXT NOT NULL"
	"    REFERENCES sandboxes (id) ON DELETE CASCADE,"
	"  status TEXT NOT NULL,"
	"  dedup_key TEXT,"
	"  host TEXT,"
	"  port INTEGER NOT NULL DEFAULT 0,"
	"  binary TEXT,"
	"  created_at_ms INTEGER NOT NULL DEFAULT 0,"
	"  updated_at_ms INTEGER NOT NULL DEFAULT 0,"
	"  decided_at_ms INTEGER NOT NULL DEFAULT 0,"
	"  expires_at_ms INTEGER NOT NULL DEFAULT 0,"
	"  approval_seq INTEGER NOT NULL DEFAULT 0,"
	"  payload BLOB"
	");"
	"CREATE INDEX draft_chunks_status ON draft_chunks (sandbox_id, status);"
	"CREATE UNIQUE INDEX draft_chunks_dedup ON draft_chunks"
	"  (sandbox_id, dedup_key) WHERE dedup_key IS NOT NULL;"
	"CREATE TABLE denials ("
	"  id TEXT PRIMARY KEY NOT NULL,"
	"  sandbox_id TEXT NOT NULL"
	"    REFERENCES sandboxes (id) ON DELETE CASCADE,"
	"  host TEXT,"
	"  port INTEGER NOT NULL DEFAULT 0,"
	"  binary TEXT,"
	"  stage TEXT,"
	"  first_seen_ms INTEGER NOT NULL DEFAULT 0,"
	"  last_seen_ms INTEGER NOT NULL DEFAULT 0,"
	"  count INTEGER NOT NULL DEFAULT 0,"
	"  payload BLOB"
	");"
	"CREATE INDEX denials_sandbox ON denials (sandbox_id, first_seen_ms);"
	/* The decision history is an audit trail: no foreign key (it outlives
	 * the sandbox) and no UPDATE or DELETE. */
	"CREATE TABLE history ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  sandbox_id TEXT,"
	"  ts_ms INTEGER NOT NULL,"
	"  actor TEXT,"
	"  event_type TEXT,"
	"  chunk_id TEXT,"
	"  description TEXT,"
	"  before_hash TEXT,"
	"  after_hash TEXT,"
	"  reason TEXT"
	");"
	"CREATE INDEX history_sandbox ON history (sandbox_id, seq);"
	"CREATE TRIGGER history_no_update BEFORE UPDATE ON history"
	"  BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;"
	"CREATE TRIGGER history_no_delete BEFORE DELETE ON history"
	"  BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;",
	/*
	 * 2: logs keyed by (sandbox_id, seq) alone. As a rowid table every
	 * line was written twice, to the table and to the index of its
	 * primary key, and trimmed twice; a busy L7 endpoint logs thousands
	 * of lines a second, each stored and later trimmed.
	 */
	"CREATE TABLE logs_v2 ("
	"  sandbox_id TEXT NOT NULL"
	"    REFERENCES sandboxes (id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  ts_ms INTEGER NOT NULL,"
	"  level TEXT,"
	"  severity INTEGER NOT NULL,"
	"  target TEXT,"
	"  source TEXT,"
	"  message TEXT,"
	"  fields BLOB,"
	"  PRIMARY KEY (sandbox_id, seq)"
	") WITHOUT ROWID;"
	"INSERT INTO logs_v2 (sandbox_id, seq, ts_ms, level, severity, target,"
	"  source, message, fields)"
	"  SELECT sandbox_id, seq, ts_ms, level, severity, target, source,"
	"  message, fields FROM logs"
	/* Lines whose sandbox is gone (deleted with foreign keys off, by
	 * hand) belong to nothing and would fail the key check. */
	"  WHERE sandbox_id IN (SELECT id FROM sandboxes);"
	"DROP TABLE logs;"
	"ALTER TABLE logs_v2 RENAME TO logs;",
	/*
	 * 3: logs without the foreign key. Checking it cost each line an
	 * index probe of sandboxes, a fifth of storing it; store_log_append
	 * now checks the sandbox once per batch, and store_sandbox_delete
	 * always deleted a sandbox's lines itself.
	 */
	"CREATE TABLE logs_v3 ("
	"  sandbox_id TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  ts_ms INTEGER NOT NULL,"
	"  level TEXT,"
	"  severity INTEGER NOT NULL,"
	"  target TEXT,"
	"  source TEXT,"
	"  message TEXT,"
	"  fields BLOB,"
	"  PRIMARY KEY (sandbox_id, seq)"
	") WITHOUT ROWID;"
	"INSERT INTO logs_v3 (sandbox_id, seq, ts_ms, level, severity, target,"
	"  source, message, fields)"
	"  SELECT sandbox_id, seq, ts_ms, level, severity, target, source,"
	"  message, fields FROM logs"
	"  WHERE sandbox_id IN (SELECT id FROM sandboxes);"
	"DROP TABLE logs;"
	"ALTER TABLE logs_v3 RENAME TO logs;",
};

#define STORE_SCHEMA_VERSION ((int)OS_NELEM(migrations))

static int
store_errno(sqlite3 *db, int rc)
{
	/* Extended result codes are on: rc says which constraint. */
	if (rc == SQLITE_CONSTRAINT)
		rc = sqlite3_extended_errcode(db);
	switch (rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return -EEXIST;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return -ENOENT;
	case SQLITE_CONSTRAINT_NOTNULL:
	case SQLITE_CONSTRAINT_CHECK:
		return -EINVAL;
	}
	return -EIO;
}

static int
store_vfail(struct store *st, int rc, struct os_error *err, const char *what,
    va_list ap) OS_PRINTF(4, 0);

static int
store_vfail(struct store *st, int rc, struct os_error *err, const char *what,
    va_list ap)
{
	char	*w;
	int	 code;

	code = store_errno(st->db, rc);
	w = xvprintf(what, ap);
	os_error_set(err, code, "store: %s: %s", w, sqlite3_errmsg(st->db));
	free(w);
	return code;
}

int
store_fail(struct store *st, int rc, struct os_error *err, const char *what, ...)
{
	va_list	ap;
	int	code;

	va_start(ap, what);
	code = store_vfail(st, rc, err, what, ap);
	va_end(ap);
	return code;
}

int
store_step(struct store *st, sqlite3_stmt *stmt, struct os_error *err,
    const char *what, ...)
{
	va_list	ap;
	int	rc, code;

	if (st->bind_rc != SQLITE_OK) {
		rc = st->bind_rc;
		st->bind_rc = SQLITE_OK;
	} else {
		rc = sqlite3_step(stmt);
		if (rc == SQLITE_ROW)
			return 1;
		if (rc == SQLITE_DONE)
			return 0;
	}
	va_start(ap, what);
	code = store_vfail(st, rc, err, what, ap);
	va_end(ap);
	sqlite3_reset(stmt);
	return code;
}

sqlite3_stmt *
store_stmt(struct store *st, const char *sql, struct os_error *err)
{
	struct store_cached_stmt	*c;
	sqlite3_stmt			*stmt;
	size_t				 i;
	int				 rc;

	/* A transaction SQLite abandoned (I/O error, disk full) or a nested
	 * rollback: refuse to run anything that would silently autocommit or
	 * be undone later. */
	if (st->depth > 0 && (st->doomed || sqlite3_get_autocommit(st->db))) {
		st->doomed = true;
		os_error_set(err, -EIO,
		    _("store: the transaction was rolled back; no further changes"));
		return NULL;
	}
	st->bind_rc = SQLITE_OK;
	for (i = 0; i < st->nstmts; i++) {
		if (st->stmts[i].sql == sql) {
			stmt = st->stmts[i].stmt;
			sqlite3_reset(stmt);
			sqlite3_clear_bindings(stmt);
			return stmt;
		}
	}
	rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt,
	    NULL);
	if (rc != SQLITE_OK) {
		store_fail(st, rc, err, "prepare '%.80s'", sql);
		return NULL;
	}
	if (st->nstmts == st->capstmts) {
		st->capstmts = st->capstmts ? st->capstmts * 2 : 32;
		st->stmts = xreallocarray(st->stmts, st->capstmts, sizeof *st->stmts);
	}
	c = &st->stmts[st->nstmts++];
	c->sql = sql;
	c->stmt = stmt;
	return stmt;
}

void
store_stmt_done(sqlite3_stmt *stmt)
{
	if (stmt == NULL)
		return;
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
}

static void
store_bind_rc(struct store *st, int rc)
{
	if (rc != SQLITE_OK && st->bind_rc == SQLITE_OK)
		st->bind_rc = rc;
}

void
store_bind_text(struct store *st, sqlite3_stmt *stmt, int i, const char *s)
{
	if (s == NULL)
		store_bind_rc(st, sqlite3_bind_null(stmt, i));
	else
		store_bind_rc(st, sqlite3_bind_text(stmt, i, s, -1, SQLITE_STATIC));
}

void
store_bind_blob(struct store *st, sqlite3_stmt *stmt, int i, const void *p,
    size_t len)
{
	if (p == NULL)
		store_bind_rc(st, sqlite3_bind_null(stmt, i));
	else if (len == 0) /* a NULL pointer would bind SQL NULL */
		store_bind_rc(st, sqlite3_bind_zeroblob(stmt, i, 0));
	else
		store_bind_rc(st, sqlite3_bind_blob64(stmt, i, p, len,
		    SQLITE_STATIC));
}

void
store_bind_int(struct store *st, sqlite3_stmt *stmt, int i, int64_t v)
{
	store_bind_rc(st, sqlite3_bind_int64(stmt, i, v));
}

char *
store_col_text(sqlite3_stmt *stmt, int i)
{
	const unsigned char	*p;
	size_t			 len;

	if (sqlite3_column_type(stmt, i) == SQLITE_NULL)
		return NULL;
	p = sqlite3_column_text(stmt, i);
	len = (size_t)sqlite3_column_bytes(stmt, i);
	return xstrndup(p != NULL ? (const char *)p : "", len);
}

void *
store_col_blob(sqlite3_stmt *stmt, int i, size_t *len)
{
	const void	*p;
	char		*out;
	size_t		 n;

	*len = 0;
	if (sqlite3_column_type(stmt, i) == SQLITE_NULL)
		return NULL;
	p = sqlite3_column_blob(stmt, i);
	n = (size_t)sqlite3_column_bytes(stmt, i);
	out = xmalloc(n + 1);
	if (n > 0)
		memcpy(out, p, n);
	out[n] = '\0';
	*len = n;
	return out;
}

int64_t
store_col_int(sqlite3_stmt *stmt, int i)
{
	return sqlite3_column_int64(stmt, i);
}

void *
store_array_grow(void *array, size_t n, size_t *cap, size_t size)
{
	if (n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		array = xreallocarray(array, *cap, size);
	}
	memset((char *)array + n * size, 0, size);
	return array;
}

/* ------------------------------------------------------------------------
 * Transactions
 */

static int
store_exec(struct store *st, const char *sql, struct os_error *err,
    const char *what)
{
	int	rc;

	rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return store_fail(st, rc, err, "%s", what);
	return 0;
}

/* ROLLBACK, unless SQLite already rolled the transaction back itself. */
static void
store_exec_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int
store_begin(struct store *st, struct os_error *err)
{
	int	rc;

	if (st->depth == 0) {
		if ((rc = store_exec(st, "BEGIN IMMEDIATE", err, "begin")) != 0)
			return rc;
		st->doomed = false;
	}
	st->depth++;
	return 0;
}

int
store_commit(struct store *st, struct os_error *err)
{
	int	rc;

	if (st->depth == 0)
		return os_error_set(err, -EINVAL,
		    "store: commit without a transaction");
	if (--st->depth > 0) {
		if (st->doomed)
			return os_error_set(err, -EIO,
			    _("store: the transaction was rolled back"));
		return 0;
	}
	if (st->doomed || sqlite3_get_autocommit(st->db)) {
		store_exec_rollback(st);
		st->doomed = false;
		return os_error_set(err, -EIO,
		    _("store: the transaction was rolled back; nothing was "
		    "committed"));
	}
	if ((rc = store_exec(st, "COMMIT", err, "commit")) != 0) {
		store_exec_rollback(st);
		return rc;
	}
	return 0;
}

void
store_rollback(struct store *st)
{
	if (st->depth == 0)
		return;
	if (--st->depth > 0) {
		/* Undo everything, but only when the outermost call ends: the
		 * callers between still hold the transaction open. */
		st->doomed = true;
		return;
	}
	store_exec_rollback(st);
	st->doomed = false;
}

int
store_op_begin(struct store *st, struct os_error *err)
{
	int	rc;

	if (st->depth > 0 && (st->doomed || sqlite3_get_autocommit(st->db))) {
		st->doomed = true;
		return os_error_set(err, -EIO,
		    _("store: the transaction was rolled back; no further changes"));
	}
	if (st->depth == 0 && st->op_depth == 0)
		rc = store_exec(st, "BEGIN IMMEDIATE", err, "begin");
	else
		rc = store_exec(st, "SAVEPOINT store_op", err, "savepoint");
	if (rc == 0)
		st->op_depth++;
	return rc;
}

static void	store_op_relax_end(struct store *);

int
store_op_begin_relaxed(struct store *st, struct os_error *err)
{
	int	rc;

	if (st->depth > 0 || st->op_depth > 0)
		return store_op_begin(st, err);
	/* Outside a transaction, where SQLite takes the setting. */
	if ((rc = store_exec(st, "PRAGMA synchronous = NORMAL", err,
	    "synchronous")) != 0)
		return rc;
	st->relaxed = true;
	if ((rc = store_op_begin(st, err)) != 0)
		store_op_relax_end(st);
	return rc;
}

/* Back to a synced commit for everything else. */
static void
store_op_relax_end(struct store *st)
{
	if (!st->relaxed)
		return;
	st->relaxed = false;
	/* Cannot fail outside a transaction (no I/O); if it somehow did,
	 * the next open sets FULL again, and this connection's next relaxed
	 * op would only repeat the setting. */
	sqlite3_exec(st->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
}

int
store_op_end(struct store *st, int rc, struct os_error *err)
{
	bool	top;
	int	r;

	if (st->op_depth == 0)
		return rc;
	top = st->depth == 0 && st->op_depth == 1;
	st->op_depth--;
	if (top) {
		if (rc != 0) {
			store_exec_rollback(st);
			store_op_relax_end(st);
			return rc;
		}
		if ((r = store_exec(st, "COMMIT", err, "commit")) != 0) {
			store_exec_rollback(st);
			store_op_relax_end(st);
			return r;
		}
		store_op_relax_end(st);
		return 0;
	}
	if (sqlite3_get_autocommit(st->db))
		return rc != 0 ? rc : os_error_set(err, -EIO,
		    _("store: the transaction was rolled back"));
	if (rc != 0) {
		sqlite3_exec(st->db, "ROLLBACK TO store_op", NULL, NULL, NULL);
		sqlite3_exec(st->db, "RELEASE store_op", NULL, NULL, NULL);
		return rc;
	}
	return store_exec(st, "RELEASE store_op", err, "release savepoint");
}

/* ------------------------------------------------------------------------
 * Open and migrations
 */

static int
store_user_version(struct store *st, int *version, struct os_error *err)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return store_fail(st, rc, err, "%s: read schema version", st->path);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		rc = store_fail(st, rc, err, "%s: read schema version", st->path);
		sqlite3_finalize(stmt);
		return rc;
	}
	*version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return 0;
}

static int
store_newer(struct store *st, int version, struct os_error *err)
{
	return os_error_set(err, -EIO, _("store: %s: database schema version %d "
	    "is newer than this gateway (%d); upgrade openshell"), st->path,
	    version, STORE_SCHEMA_VERSION);
}

static int
store_migrate(struct store *st, struct os_error *err)
{
	char	*pragma, *what;
	int	 version, target, rc;

	if ((rc = store_user_version(st, &version, err)) != 0)
		return rc;
	if (version > STORE_SCHEMA_VERSION)
		return store_newer(st, version, err);
	while (version < STORE_SCHEMA_VERSION) {
		target = version + 1;
		what = xprintf("%s: migrate to schema version %d", st->path,
		    target);
		if ((rc = store_exec(st, "BEGIN IMMEDIATE", err, what)) != 0) {
			free(what);
			return rc;
		}
		/* Another process may have migrated while we waited. */
		if ((rc = store_user_version(st, &version, err)) != 0)
			goto fail;
		if (version >= target) {
			store_exec_rollback(st);
			free(what);
			if (version > STORE_SCHEMA_VERSION)
				return store_newer(st, version, err);
			continue;
		}
		/* The version is ours, not a value: PRAGMA takes no parameters. */
		pragma = xprintf("PRAGMA user_version = %d", target);
		if ((rc = store_exec(st, migrations[version], err, what)) == 0)
			rc = store_exec(st, pragma, err, what);
		free(pragma);
		if (rc == 0)
			rc = store_exec(st, "COMMIT", err, what);
		if (rc != 0)
			goto fail;
		free(what);
		version = target;
	}
	st->version = version;
	return 0;
fail:
	store_exec_rollback(st);
	free(what);
	return rc;
}

/* The database, -wal and -shm hold token hashes: owner only. SQLite
 * creates -wal and -shm with the database file's mode, so creating the
 * database 0600 covers new files; older ones are tightened here. */
static int
store_secure_file(const char *path, bool create, struct os_error *err)
{
	struct stat	sb;
	int		fd;

	if (create) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd == -1)
			return os_error_set(err, -EIO, "store: %s: %s", path,
			    strerror(errno));
		if (fstat(fd, &sb) == 0 && (sb.st_mode & 077) != 0 &&
		    fchmod(fd, sb.st_mode & 0700) == -1) {
			os_error_set(err, -EIO, "store: %s: chmod: %s", path,
			    strerror(errno));
			close(fd);
			return -EIO;
		}
		close(fd);
		return 0;
	}
	if (stat(path, &sb) == -1)
		return 0;
	if ((sb.st_mode & 077) != 0 && chmod(path, sb.st_mode & 0700) == -1)
		return os_error_set(err, -EIO, "store: %s: chmod: %s", path,
		    strerror(errno));
	return 0;
}

static int
store_pragmas(struct store *st, struct os_error *err)
{
	sqlite3_stmt	*stmt;
	const char	*mode;
	int		 rc, version;

	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, 5000);
	/* The schema runs no functions of ours; nothing may rewrite it. */
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);

	/* A newer gateway's database is left exactly as it was. */
	if ((rc = store_user_version(st, &version, err)) != 0)
		return rc;
	if (version > STORE_SCHEMA_VERSION)
		return store_newer(st, version, err);

	rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &stmt,
	    NULL);
	if (rc != SQLITE_OK)
		return store_fail(st, rc, err, "%s: journal_mode", st->path);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		rc = store_fail(st, rc, err, "%s: journal_mode", st->path);
		sqlite3_finalize(stmt);
		return rc;
	}
	mode = (const char *)sqlite3_column_text(stmt, 0);
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		os_error_set(err, -EIO, _("store: %s: cannot use WAL journal "
		    "mode (got '%s'); is it on a network file system?"), st->path,
		    mode != NULL ? mode : "");
		sqlite3_finalize(stmt);
		return -EIO;
	}
	sqlite3_finalize(stmt);
	if ((rc = store_exec(st, "PRAGMA synchronous = FULL", err,
	    "synchronous")) != 0 ||
	    (rc = store_exec(st, "PRAGMA foreign_keys = ON", err,
	    "foreign_keys")) != 0)
		return rc;
	return 0;
}

int
store_open(const char *path, struct store **out, struct os_error *err)
{
	struct store	*st;
	char		*side;
	int		 rc;

	*out = NULL;
	if ((rc = store_secure_file(path, true, err)) != 0)
		return rc;
	st = xcalloc(1, sizeof *st);
	st->path = xstrdup(path);
	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		if (st->db != NULL)
			rc = store_fail(st, rc, err, "open %s", path);
		else
			rc = os_error_set(err, -EIO, "store: open %s: %s", path,
			    sqlite3_errstr(rc));
		store_close(st);
		return rc;
	}
	if ((rc = store_pragmas(st, err)) != 0 ||
	    (rc = store_migrate(st, err)) != 0) {
		store_close(st);
		return rc;
	}
	side = xprintf("%s-wal", path);
	rc = store_secure_file(side, false, err);
	free(side);
	if (rc == 0) {
		side = xprintf("%s-shm", path);
		rc = store_secure_file(side, false, err);
		free(side);
	}
	if (rc != 0) {
		store_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

void
store_close(struct store *st)
{
	size_t	i;

	if (st == NULL)
		return;
	for (i = 0; i < st->nstmts; i++)
		sqlite3_finalize(st->stmts[i].stmt);
	free(st->stmts);
	if (st->db != NULL) {
		if (st->depth > 0 || st->op_depth > 0) {
			log_warn("store: %s: closed inside a transaction; "
			    "rolling back", st->path);
			store_exec_rollback(st);
		} else if (st->version > 0)
			sqlite3_exec(st->db, "PRAGMA optimize", NULL, NULL, NULL);
		if (sqlite3_close(st->db) != SQLITE_OK)
			log_warn("store: %s: close: %s", st->path,
			    sqlite3_errmsg(st->db));
	}
	free(st->path);
	free(st);
}

int
store_schema_version(struct store *st)
{
	return st->version;
}
