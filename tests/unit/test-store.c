/*
 * The gateway's SQLite store: migrations, file modes, every table family,
 * transactions, and what survives a reopen. Each test uses a database in
 * a fresh temporary directory and removes it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "store-int.h"       /* the connection, for PRAGMA synchronous */
#include "tap.h"

struct tdb {
	char	dir[64];
	char	path[128];
};

static void
tdb_init(struct tdb *t)
{
	snprintf(t->dir, sizeof t->dir, "/tmp/os-test-store.XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	snprintf(t->path, sizeof t->path, "%s/gateway.db", t->dir);
}

static void
tdb_done(struct tdb *t)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char	p[160];
	size_t	i;

	for (i = 0; i < OS_NELEM(sfx); i++) {
		snprintf(p, sizeof p, "%s%s", t->path, sfx[i]);
		unlink(p);
	}
	rmdir(t->dir);
}

static struct store *
tdb_open(struct tdb *t)
{
	struct store	*st = NULL;
	struct os_error	 err = { 0 };

	if (store_open(t->path, &st, &err) != 0) {
		printf("# store_open: %s\n", err.msg);
		abort();
	}
	return st;
}

/* A second, raw connection: what another process would see. */
static sqlite3 *
raw_open(const char *path)
{
	sqlite3	*db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		printf("# raw open: %s\n", sqlite3_errmsg(db));
		abort();
	}
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static long long
raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*stmt;
	long long	 v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

static long long
count_rows(const char *path, const char *sql)
{
	sqlite3		*db = raw_open(path);
	long long	 v = raw_int(db, sql);

	sqlite3_close(db);
	return v;
}

static const char spec_bytes[] = { 'a', 0, 'b', '\n', (char)0xff };

static void
sandbox_fill(struct store_sandbox *sb, const char *id, const char *name,
    const char *token)
{
	static char	*cidrs[] = { (char *)"10.0.0.0/8", (char *)"fd00::/8" };

	memset(sb, 0, sizeof *sb);
	sb->id = (char *)id;
	sb->name = (char *)name;
	sb->token_hash = (char *)token;
	sb->phase = STORE_PHASE_PROVISIONING;
	sb->created_at_ms = 1000;
	sb->updated_at_ms = 1001;
	sb->supervisor_pid = 4242;
	sb->supervisor_start = UINT64_C(12345678901);
	sb->base_yaml = (char *)"version: 1\n";
	sb->spec = (char *)spec_bytes;
	sb->spec_len = sizeof spec_bytes;
	sb->keep = true;
	sb->permissive = true;
	sb->permissive_started_ms = 5000;
	sb->permissive_expires_ms = 9000;
	sb->trusted_cidrs = cidrs;
	sb->ntrusted_cidrs = 2;
}

static void
add_sandbox(struct store *st, const char *id, const char *name)
{
	struct store_sandbox	sb;
	struct os_error		err = { 0 };
	char			token[80];

	snprintf(token, sizeof token, "hash-of-%s", id);
	sandbox_fill(&sb, id, name, token);
	CHECK_INT(store_sandbox_insert(st, &sb, &err), 0);
}

static void
add_revision(struct store *st, const char *sid, const char *hash,
    uint32_t want_version)
{
	struct store_revision	rev;
	struct os_error		err = { 0 };

	memset(&rev, 0, sizeof rev);
	rev.sandbox_id = (char *)sid;
	rev.hash = (char *)hash;
	rev.status = STORE_POLICY_PENDING;
	rev.created_at_ms = 100 + want_version;
	rev.policy_yaml = (char *)"version: 1\n";
	rev.origin = (char *)"policy set";
	CHECK_INT(store_revision_add(st, &rev, &err), 0);
	CHECK_INT(rev.version, want_version);
}

static void
put_setting(struct store *st, const char *scope, const char *key,
    const char *value)
{
	struct os_error	err = { 0 };

	CHECK_INT(store_setting_put(st, scope, key, (const uint8_t *)value,
	    strlen(value), 77, &err), 0);
}

static void
put_chunk(struct store *st, const char *id, const char *sid, const char *status,
    const char *dedup, int64_t created, uint64_t approval_seq)
{
	struct store_chunk	c;
	struct os_error		err = { 0 };

	memset(&c, 0, sizeof c);
	c.id = (char *)id;
	c.sandbox_id = (char *)sid;
	c.status = (char *)status;
	c.dedup_key = (char *)dedup;
	c.host = (char *)"api.github.com";
	c.port = 443;
	c.binary = (char *)"/usr/bin/curl";
	c.created_at_ms = created;
	c.updated_at_ms = created + 1;
	c.approval_seq = approval_seq;
	c.payload = (uint8_t *)"\x0a\x03" "abc";
	c.payload_len = 5;
	CHECK_INT(store_chunk_put(st, &c, &err), 0);
}

static void
append_logs(struct store *st, const char *sid, size_t n, size_t keep,
    const char *level, const char *source, int64_t ts)
{
	struct store_log	*logs = calloc(n, sizeof *logs);
	struct os_error		 err = { 0 };
	char			 msg[64];
	size_t			 i;

	for (i = 0; i < n; i++) {
		logs[i].sandbox_id = (char *)sid;
		logs[i].ts_ms = ts + (int64_t)i;
		logs[i].level = (char *)level;
		logs[i].target = (char *)"proxy";
		logs[i].source = (char *)source;
		snprintf(msg, sizeof msg, "line %lld", (long long)(ts + (int64_t)i));
		logs[i].message = strdup(msg);
	}
	CHECK_INT(store_log_append(st, logs, n, keep, &err), 0);
	for (i = 0; i < n; i++)
		free(logs[i].message);
	free(logs);
}

static void
append_history(struct store *st, const char *sid, const char *event,
    uint64_t *seq)
{
	struct store_history	h;
	struct os_error		err = { 0 };

	memset(&h, 0, sizeof h);
	h.sandbox_id = (char *)sid;
	h.ts_ms = 500;
	h.actor = (char *)"operator";
	h.event_type = (char *)event;
	h.description = (char *)"something happened";
	h.after_hash = (char *)"abc";
	CHECK_INT(store_history_append(st, &h, &err), 0);
	CHECK(h.seq > 0);
	if (seq != NULL)
		*seq = h.seq;
}

/* ------------------------------------------------------------------------ */

static void
t_migrations_new_file(void)
{
	struct tdb	 t;
	struct store	*st;
	sqlite3		*db;

	tdb_init(&t);
	st = tdb_open(&t);
	CHECK_INT(store_schema_version(st), 3);
	db = raw_open(t.path);
	CHECK_INT(raw_int(db, "PRAGMA user_version"), 3);
	CHECK_INT(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'table' AND name IN ('sandboxes', 'policy_revisions', "
	    "'settings', 'logs', 'draft_chunks', 'denials', 'history')"), 7);
	CHECK_INT(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "name = 'draft_chunks_dedup'"), 1);
	sqlite3_close(db);
	store_close(st);

	/* A second open finds nothing to do and keeps the version. */
	st = tdb_open(&t);
	CHECK_INT(store_schema_version(st), 3);
	store_close(st);
	tdb_done(&t);
}

/*
 * A version 1 file (logs as a rowid table with a separate primary-key
 * index) is migrated in place: every line, its seq and its fields kept,
 * and lines appended afterwards go on from the last seq.
 */
static void
t_migration_logs_without_rowid(void)
{
	struct tdb		 t;
	struct store		*st;
	struct store_log	*v;
	struct os_error		 err = { 0 };
	sqlite3			*db;
	size_t			 n;
	int			 rc;

	tdb_init(&t);
	st = tdb_open(&t);
	add_sandbox(st, "sb-1", "demo");
	store_close(st);
	/* Back to version 1's logs table, with two lines in it. */
	db = raw_open(t.path);
	rc = sqlite3_exec(db,
	    "DROP TABLE logs;"
	    "CREATE TABLE logs ("
	    "  sandbox_id TEXT NOT NULL"
	    "    REFERENCES sandboxes (id) ON DELETE CASCADE,"
	    "  seq INTEGER NOT NULL, ts_ms INTEGER NOT NULL, level TEXT,"
	    "  severity INTEGER NOT NULL, target TEXT, source TEXT,"
	    "  message TEXT, fields BLOB, PRIMARY KEY (sandbox_id, seq));"
	    "INSERT INTO logs VALUES ('sb-1', 41, 100, 'warn', 1, 'proxy',"
	    "  'sandbox', 'action=deny', x'3a00');"
	    "INSERT INTO logs VALUES ('sb-1', 42, 101, 'info', 2, 'proxy',"
	    "  'sandbox', 'action=allow', NULL);"
	    /* An orphan, as a hand-made delete with foreign keys off
	     * leaves: dropped, not a failed migration. */
	    "INSERT INTO logs VALUES ('sb-gone', 1, 100, 'info', 2, 'proxy',"
	    "  'sandbox', 'orphan', NULL);"
	    "PRAGMA user_version = 1;", NULL, NULL, NULL);
	CHECK_INT(rc, SQLITE_OK);
	CHECK_INT(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "tbl_name = 'logs' AND type = 'index'"), 1);
	sqlite3_close(db);

	st = tdb_open(&t);
	CHECK_INT(store_schema_version(st), 3);
	db = raw_open(t.path);
	CHECK_INT(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "name = 'logs' AND sql LIKE '%WITHOUT ROWID'"), 1);
	CHECK_INT(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "tbl_name = 'logs' AND type = 'index'"), 0);
	CHECK_INT(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "name = 'logs_v2'"), 0);
	CHECK_INT(raw_int(db, "SELECT count(*) FROM logs WHERE "
	    "sandbox_id = 'sb-gone'"), 0);
	sqlite3_close(db);
	append_logs(st, "sb-1", 1, 0, "info", "sandbox", 102);
	CHECK_INT(store_log_query(st, "sb-1", 0, NULL, NULL, 0, 0, &v, &n, &err),
	    0);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_INT(v[0].seq, 41);
		CHECK_STR(v[0].message, "action=deny");
		CHECK_STR(v[0].level, "warn");
		CHECK_INT(v[0].fields_len, 2);
		CHECK_INT(v[1].seq, 42);
		CHECK_INT(v[2].seq, 43);
		CHECK_STR(v[2].message, "line 102");
	}
	store_logs_free(v, n);
	/* A sandbox's lines go with it. */
	CHECK_INT(store_sandbox_delete(st, "sb-1", &err), 0);
	CHECK_INT(store_log_count(st, "sb-1"), 0);
	store_close(st);
	tdb_done(&t);
}

/*
 * A version 2 file (logs with a foreign key on sandboxes) loses the key
 * in place: lines kept, orphans dropped; the store itself refuses lines
 * of an unknown sandbox, and deleting a sandbox still takes its lines.
 */
static void
t_migration_logs_no_foreign_key(void)
{
	struct tdb		 t;
	struct store		*st;
	struct store_log	 one;
	struct os_error		 err = { 0 };
	sqlite3			*db;
	int			 rc;

	tdb_init(&t);
	st = tdb_open(&t);
	add_sandbox(st, "sb-1", "demo");
	store_close(st);
	db = raw_open(t.path);
	rc = sqlite3_exec(db,
	    "DROP TABLE logs;"
	    "CREATE TABLE logs ("
	    "  sandbox_id TEXT NOT NULL"
	    "    REFERENCES sandboxes (id) ON DELETE CASCADE,"
	    "  seq INTEGER NOT NULL, ts_ms INTEGER NOT NULL, level TEXT,"
	    "  severity INTEGER NOT NULL, target TEXT, source TEXT,"
	    "  message TEXT, fields BLOB, PRIMARY KEY (sandbox_id, seq))"
	    "  WITHOUT ROWID;"
	    "INSERT INTO logs VALUES ('sb-1', 7, 100, 'warn', 1, 'proxy',"
	    "  'sandbox', 'action=deny', NULL);"
	    "INSERT INTO logs VALUES ('sb-gone', 1, 100, 'info', 2, 'proxy',"
	    "  'sandbox', 'orphan', NULL);"
	    "PRAGMA user_version = 2;", NULL, NULL, NULL);
	CHECK_INT(rc, SQLITE_OK);
	sqlite3_close(db);

	st = tdb_open(&t);
	CHECK_INT(store_schema_version(st), 3);
	db = raw_open(t.path);
	CHECK_INT(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "name = 'logs' AND sql LIKE '%WITHOUT ROWID' AND "
	    "sql NOT LIKE '%REFERENCES%'"), 1);
	CHECK_INT(raw_int(db, "SELECT count(*) FROM pragma_foreign_key_list('logs')"), 0);
	CHECK_INT(raw_int(db, "SELECT count(*) FROM logs WHERE sandbox_id = 'sb-gone'"), 0);
	sqlite3_close(db);
	CHECK_INT(store_log_count(st, "sb-1"), 1);
	append_logs(st, "sb-1", 2, 0, "info", "sandbox", 200);
	CHECK_INT(store_log_count(st, "sb-1"), 3);

	/* No key, but no orphans either: the append checks the sandbox. */
	memset(&one, 0, sizeof one);
	one.sandbox_id = (char *)"nope";
	one.level = (char *)"info";
	one.message = (char *)"x";
	CHECK_INT(store_log_append(st, &one, 1, 0, &err), -ENOENT);
	CHECK_STR(err.msg, "store: append log of sandbox 'nope': no such sandbox");
	CHECK_INT(one.seq, 0);
	CHECK_INT(store_log_count(st, "nope"), 0);

	CHECK_INT(store_sandbox_delete(st, "sb-1", &err), 0);
	CHECK_INT(store_log_count(st, "sb-1"), 0);
	store_close(st);
	tdb_done(&t);
}

static void
t_pragmas(void)
{
	struct tdb	 t;
	struct store	*st;
	sqlite3		*db;
	sqlite3_stmt	*stmt;

	tdb_init(&t);
	st = tdb_open(&t);
	db = raw_open(t.path);
	CHECK_INT(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL),
	    SQLITE_OK);
	CHECK_INT(sqlite3_step(stmt), SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(stmt, 0), "wal");
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	store_close(st);
	tdb_done(&t);
}

static void
t_file_mode(void)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	struct tdb	 t;
	struct store	*st;
	struct stat	 sb;
	mode_t		 old;
	char		 p[160];
	size_t		 i;

	tdb_init(&t);
	old = umask(022);
	st = tdb_open(&t);
	add_sandbox(st, "sb-1", "demo");
	for (i = 0; i < OS_NELEM(sfx); i++) {
		snprintf(p, sizeof p, "%s%s", t.path, sfx[i]);
		CHECK_INT(stat(p, &sb), 0);
		CHECK_INT(sb.st_mode & 07777, 0600);
	}
	store_close(st);

	/* An existing database with a lax mode is tightened at open. */
	CHECK_INT(chmod(t.path, 0644), 0);
	st = tdb_open(&t);
	CHECK_INT(stat(t.path, &sb), 0);
	CHECK_INT(sb.st_mode & 07777, 0600);
	store_close(st);
	umask(old);
	tdb_done(&t);
}

static void
t_open_errors(void)
{
	struct store	*st = (struct store *)1;
	struct os_error	 err = { 0 };

	CHECK_INT(store_open("/nonexistent-dir-os-test/gateway.db", &st, &err),
	    -EIO);
	CHECK(st == NULL);
	CHECK_CONTAINS(err.msg, "/nonexistent-dir-os-test/gateway.db");
}

static void
t_newer_schema_refused(void)
{
	struct tdb	 t;
	struct store	*st;
	struct os_error	 err = { 0 };
	sqlite3		*db;

	tdb_init(&t);
	st = tdb_open(&t);
	add_sandbox(st, "sb-1", "demo");
	store_close(st);
	db = raw_open(t.path);
	CHECK_INT(sqlite3_exec(db, "PRAGMA user_version = 7", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);

	st = (struct store *)1;
	CHECK_INT(store_open(t.path, &st, &err), -EIO);
	CHECK(st == NULL);
	CHECK_CONTAINS(err.msg, "database schema version 7 is newer than this "
	    "gateway (3); upgrade openshell");
	/* Nothing was touched. */
	CHECK_INT(count_rows(t.path, "PRAGMA user_version"), 7);
	CHECK_INT(count_rows(t.path, "SELECT count(*) FROM sandboxes"), 1);

	/* Not even the journal mode changes. */
	unlink(t.path);
	db = NULL;
	CHECK_INT(sqlite3_open(t.path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "PRAGMA user_version = 4", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	CHECK_INT(store_open(t.path, &st, &err), -EIO);
	CHECK_CONTAINS(err.msg, "database schema version 4 is newer");
	db = raw_open(t.path);
	CHECK_INT(raw_int(db, "SELECT journal_mode = 'delete' FROM "
	    "pragma_journal_mode"), 1);
	sqlite3_close(db);
	tdb_done(&t);
}

static void
t_sandbox_crud(void)
{
	struct tdb		 t;
	struct store		*st;
	struct store_sandbox	 sb, got, *all;
	struct os_error		 err = { 0 };
	size_t			 n;

	tdb_init(&t);
	st = tdb_open(&t);
	sandbox_fill(&sb, "sb-1", "demo", "hash-1");
	CHECK_INT(store_sandbox_insert(st, &sb, &err), 0);

	CHECK_INT(store_sandbox_get(st, "sb-1", &got, &err), 0);
	CHECK_STR(got.id, "sb-1");
	CHECK_STR(got.name, "demo");
	CHECK_STR(got.token_hash, "hash-1");
	CHECK_INT(got.phase, STORE_PHASE_PROVISIONING);
	CHECK_INT(got.created_at_ms, 1000);
	CHECK_INT(got.updated_at_ms, 1001);
	CHECK(got.error == NULL);
	CHECK(!got.exited);
	CHECK_INT(got.supervisor_pid, 4242);
	CHECK(got.supervisor_start == UINT64_C(12345678901));
	CHECK_STR(got.base_yaml, "version: 1\n");
	CHECK_INT(got.spec_len, sizeof spec_bytes);
	CHECK(got.spec != NULL && memcmp(got.spec, spec_bytes,
	    sizeof spec_bytes) == 0);
	CHECK(got.keep);
	CHECK(got.permissive);
	CHECK_INT(got.permissive_started_ms, 5000);
	CHECK_INT(got.permissive_expires_ms, 9000);
	CHECK_INT(got.ntrusted_cidrs, 2);
	if (got.ntrusted_cidrs == 2) {
		CHECK_STR(got.trusted_cidrs[0], "10.0.0.0/8");
		CHECK_STR(got.trusted_cidrs[1], "fd00::/8");
	}
	store_sandbox_clear(&got);
	CHECK(got.id == NULL && got.trusted_cidrs == NULL);

	CHECK_INT(store_sandbox_get_by_name(st, "demo", &got, &err), 0);
	CHECK_STR(got.id, "sb-1");
	store_sandbox_clear(&got);
	CHECK_INT(store_sandbox_get_by_token_hash(st, "hash-1", &got, &err), 0);
	CHECK_STR(got.name, "demo");
	store_sandbox_clear(&got);

	/* Clashes. */
	sandbox_fill(&sb, "sb-2", "demo", "hash-2");
	CHECK_INT(store_sandbox_insert(st, &sb, &err), -EEXIST);
	CHECK_STR(err.msg, "store: insert sandbox 'demo': UNIQUE constraint "
	    "failed: sandboxes.name");
	sandbox_fill(&sb, "sb-2", "other", "hash-1");
	CHECK_INT(store_sandbox_insert(st, &sb, &err), -EEXIST);
	CHECK_CONTAINS(err.msg, "sandboxes.token_hash");
	sandbox_fill(&sb, "sb-1", "third", "hash-3");
	CHECK_INT(store_sandbox_insert(st, &sb, &err), -EEXIST);

	/* Not there. */
	CHECK_INT(store_sandbox_get(st, "nope", &got, &err), -ENOENT);
	CHECK(got.id == NULL);
	CHECK_INT(store_sandbox_get_by_name(st, "nope", &got, &err), -ENOENT);
	CHECK_STR(err.msg, "store: no sandbox with name 'nope'");
	CHECK_INT(store_sandbox_get_by_token_hash(st, "nope", &got, &err),
	    -ENOENT);

	/* Update replaces the mutable columns, keeps created_at. */
	sandbox_fill(&sb, "sb-1", "demo", "hash-1b");
	sb.phase = STORE_PHASE_ERROR;
	sb.created_at_ms = 1;
	sb.updated_at_ms = 2002;
	sb.error = (char *)"supervisor exited";
	sb.exited = true;
	sb.exit_code = 3;
	sb.exit_signal = 9;
	sb.supervisor_pid = 0;
	sb.active_version = 4;
	sb.spec = NULL;
	sb.spec_len = 0;
	sb.permissive = false;
	sb.trusted_cidrs = NULL;
	sb.ntrusted_cidrs = 0;
	CHECK_INT(store_sandbox_update(st, &sb, &err), 0);
	CHECK_INT(store_sandbox_get(st, "sb-1", &got, &err), 0);
	CHECK_INT(got.phase, STORE_PHASE_ERROR);
	CHECK_INT(got.created_at_ms, 1000);
	CHECK_INT(got.updated_at_ms, 2002);
	CHECK_STR(got.error, "supervisor exited");
	CHECK(got.exited);
	CHECK_INT(got.exit_code, 3);
	CHECK_INT(got.exit_signal, 9);
	CHECK_INT(got.active_version, 4);
	CHECK_STR(got.token_hash, "hash-1b");
	CHECK(got.spec == NULL);
	CHECK_INT(got.spec_len, 0);
	CHECK(!got.permissive);
	CHECK_INT(got.ntrusted_cidrs, 0);
	store_sandbox_clear(&got);
	sb.id = (char *)"nope";
	CHECK_INT(store_sandbox_update(st, &sb, &err), -ENOENT);

	/* List, by name. */
	add_sandbox(st, "sb-3", "alpha");
	add_sandbox(st, "sb-4", "zulu");
	CHECK_INT(store_sandbox_list(st, &all, &n, &err), 0);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_STR(all[0].name, "alpha");
		CHECK_STR(all[1].name, "demo");
		CHECK_STR(all[2].name, "zulu");
	}
	store_sandboxes_free(all, n);
	store_close(st);
	tdb_done(&t);
}

static void
t_sandbox_delete(void)
{
	struct tdb		 t;
	struct store		*st;
	struct store_sandbox	 got;
	struct store_history	*h;
	struct store_setting	 s;
	struct store_denial	 d;
	struct os_error		 err = { 0 };
	size_t			 n;

	tdb_init(&t);
	st = tdb_open(&t);
	add_sandbox(st, "sb-1", "demo");
	add_sandbox(st, "sb-2", "keep-me");
	add_revision(st, "sb-1", "h1", 1);
	add_revision(st, "sb-2", "h1", 1);
	put_setting(st, "sb-1", "k", "v");
	put_setting(st, "sb-2", "k", "v");
	put_setting(st, "", "k", "v");
	append_logs(st, "sb-1", 3, 100, "info", "sandbox", 10);
	append_logs(st, "sb-2", 3, 100, "info", "sandbox", 10);
	put_chunk(st, "c1", "sb-1", "pending", "a|443|/b", 1, 0);
	put_chunk(st, "c2", "sb-2", "pending", "a|443|/b", 1, 0);
	memset(&d, 0, sizeof d);
	d.id = (char *)"d1";
	d.sandbox_id = (char *)"sb-1";
	CHECK_INT(store_denial_put(st, &d, &err), 0);
	append_history(st, "sb-1", "approved", NULL);

	CHECK_INT(store_sandbox_delete(st, "sb-1", &err), 0);
	CHECK_INT(store_sandbox_get(st, "sb-1", &got, &err), -ENOENT);
	CHECK_INT(store_sandbox_delete(st, "sb-1", &err), -ENOENT);
	CHECK_STR(err.msg, "store: sandbox 'sb-1' not found");
	CHECK_INT(count_rows(t.path, "SELECT count(*) FROM policy_revisions "
	    "WHERE sandbox_id = 'sb-1'"), 0);
	CHECK_INT(count_rows(t.path, "SELECT count(*) FROM logs "
	    "WHERE sandbox_id = 'sb-1'"), 0);
	CHECK_INT(count_rows(t.path, "SELECT count(*) FROM draft_chunks "
	    "WHERE sandbox_id = 'sb-1'"), 0);
	CHECK_INT(count_rows(t.path, "SELECT count(*) FROM denials"), 0);
	CHECK_INT(store_setting_get(st, "sb-1", "k", &s, &err), -ENOENT);

	/* The other sandbox, the gateway settings and the history stay. */
	CHECK_INT(count_rows(t.path, "SELECT count(*) FROM policy_revisions"), 1);
	CHECK_INT(store_log_count(st, "sb-2"), 3);
	CHECK_INT(store_setting_get(st, "sb-2", "k", &s, &err), 0);
	store_setting_clear(&s);
	CHECK_INT(store_setting_get(st, "", "k", &s, &err), 0);
	store_setting_clear(&s);
	CHECK_INT(store_history_list(st, "sb-1", &h, &n, &err), 0);
	CHECK_INT(n, 1);
	store_histories_free(h, n);
	store_close(st);
	tdb_done(&t);
}

static void
t_revisions(void)
{
	struct tdb		 t;
	struct store		*st;
	struct store_revision	 rev, *v;
	struct os_error		 err = { 0 };
	size_t			 n;

	tdb_init(&t);
	st = tdb_open(&t);
	add_sandbox(st, "sb-1", "demo");
	add_sandbox(st, "sb-2", "other");

	CHECK_INT(store_revision_get(st, "sb-1", 0, &rev, &err), -ENOENT);
	add_revision(st, "sb-1", "h1", 1);
	add_revision(st, "sb-1", "h2", 2);
	add_revision(st, "sb-2", "x1", 1);   /* versions are per sandbox */
	add_revision(st, "sb-1", "h3", 3);

	CHECK_INT(store_revision_get(st, "sb-1", 0, &rev, &err), 0);
	CHECK_INT(rev.version, 3);
	CHECK_STR(rev.hash, "h3");
	CHECK_INT(rev.status, STORE_POLICY_PENDING);
	CHECK_STR(rev.policy_yaml, "version: 1\n");
	CHECK_STR(rev.origin, "policy set");
	CHECK_INT(rev.created_at_ms, 103);
	CHECK_INT(rev.loaded_at_ms, 0);
	CHECK(rev.load_error == NULL);
	store_revision_clear(&rev);

	/* Adding superseded the older pending ones. */
	CHECK_INT(store_revision_get(st, "sb-1", 1, &rev, &err), 0);
	CHECK_INT(rev.status, STORE_POLICY_SUPERSEDED);
	store_revision_clear(&rev);
	CHECK_INT(store_revision_get(st, "sb-1", 2, &rev, &err), 0);
	CHECK_INT(rev.status, STORE_POLICY_SUPERSEDED);
	store_revision_clear(&rev);
	CHECK_INT(store_revision_get(st, "sb-2", 1, &rev, &err), 0);
	CHECK_INT(rev.status, STORE_POLICY_PENDING);
	store_revision_clear(&rev);

	/* LOADED stamps loaded_at; a later LOADED supersedes it. */
	CHECK_INT(store_revision_set_status(st, "sb-1", 3, STORE_POLICY_LOADED,
	    NULL, 4000, &err), 0);
	CHECK_INT(store_revision_get(st, "sb-1", 3, &rev, &err), 0);
	CHECK_INT(rev.status, STORE_POLICY_LOADED);
	CHECK_INT(rev.loaded_at_ms, 4000);
	store_revision_clear(&rev);
	add_revision(st, "sb-1", "h4", 4);
	CHECK_INT(store_revision_get(st, "sb-1", 3, &rev, &err), 0);
	CHECK_INT(rev.status, STORE_POLICY_LOADED);  /* add only supersedes pending */
	store_revision_clear(&rev);
	add_revision(st, "sb-1", "h5", 5);
	CHECK_INT(store_revision_set_status(st, "sb-1", 5, STORE_POLICY_LOADED,
	    NULL, 5000, &err), 0);
	CHECK_INT(store_revision_get(st, "sb-1", 3, &rev, &err), 0);
	CHECK_INT(rev.status, STORE_POLICY_SUPERSEDED);
	CHECK_INT(rev.loaded_at_ms, 4000);
	store_revision_clear(&rev);
	CHECK_INT(store_revision_get(st, "sb-1", 4, &rev, &err), 0);
	CHECK_INT(rev.status, STORE_POLICY_SUPERSEDED);
	store_revision_clear(&rev);

	/* FAILED keeps the error. */
	add_revision(st, "sb-1", "h6", 6);
	CHECK_INT(store_revision_set_status(st, "sb-1", 6, STORE_POLICY_FAILED,
	    "landlock: bad path", 6000, &err), 0);
	CHECK_INT(store_revision_get(st, "sb-1", 6, &rev, &err), 0);
	CHECK_INT(rev.status, STORE_POLICY_FAILED);
	CHECK_STR(rev.load_error, "landlock: bad path");
	CHECK_INT(rev.loaded_at_ms, 0);
	store_revision_clear(&rev);
	CHECK_INT(store_revision_get(st, "sb-1", 5, &rev, &err), 0);
	CHECK_INT(rev.status, STORE_POLICY_LOADED);
	store_revision_clear(&rev);

	/* Unknown versions and sandboxes. */
	CHECK_INT(store_revision_set_status(st, "sb-1", 99, STORE_POLICY_LOADED,
	    NULL, 1, &err), -ENOENT);
	CHECK_STR(err.msg, "store: sandbox 'sb-1' has no policy revision 99");
	CHECK_INT(store_revision_get(st, "sb-1", 99, &rev, &err), -ENOENT);
	CHECK_INT(store_revision_get(st, "nope", 0, &rev, &err), -ENOENT);
	memset(&rev, 0, sizeof rev);
	rev.sandbox_id = (char *)"nope";
	rev.hash = (char *)"h";
	CHECK_INT(store_revision_add(st, &rev, &err), -ENOENT);
	CHECK_CONTAINS(err.msg, "FOREIGN KEY constraint failed");
	CHECK_INT(rev.version, 0);

	/* List: newest first, limit and offset. */
	CHECK_INT(store_revision_list(st, "sb-1", 0, 0, &v, &n, &err), 0);
	CHECK_INT(n, 6);
	if (n == 6) {
		CHECK_INT(v[0].version, 6);
		CHECK_INT(v[5].version, 1);
	}
	store_revisions_free(v, n);
	CHECK_INT(store_revision_list(st, "sb-1", 2, 1, &v, &n, &err), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(v[0].version, 5);
		CHECK_INT(v[1].version, 4);
	}
	store_revisions_free(v, n);
	store_close(st);
	tdb_done(&t);
}

static void
t_settings(void)
{
	struct tdb		 t;
	struct store		*st;
	struct store_setting	 s, *v;
	struct os_error		 err = { 0 };
	size_t			 n;

	tdb_init(&t);
	st = tdb_open(&t);
	add_sandbox(st, "sb-1", "demo");
	put_setting(st, "", "log_ring_lines", "\x08\x10");
	put_setting(st, "", "approval_mode", "auto");
	put_setting(st, "sb-1", "approval_mode", "manual");

	CHECK_INT(store_setting_get(st, "", "approval_mode", &s, &err), 0);
	CHECK_STR(s.scope, "");
	CHECK_STR(s.key, "approval_mode");
	CHECK_INT(s.value_len, 4);
	CHECK(s.value != NULL && memcmp(s.value, "auto", 4) == 0);
	CHECK_INT(s.updated_at_ms, 77);
	store_setting_clear(&s);
	CHECK_INT(store_setting_get(st, "sb-1", "approval_mode", &s, &err), 0);
	CHECK(s.value != NULL && memcmp(s.value, "manual", 6) == 0);
	store_setting_clear(&s);

	/* Replace, with an empty (default) value. */
	CHECK_INT(store_setting_put(st, "sb-1", "approval_mode",
	    (const uint8_t *)"", 0, 88, &err), 0);
	CHECK_INT(store_setting_get(st, "sb-1", "approval_mode", &s, &err), 0);
	CHECK(s.value != NULL);
	CHECK_INT(s.value_len, 0);
	CHECK_INT(s.updated_at_ms, 88);
	store_setting_clear(&s);

	CHECK_INT(store_setting_list(st, "", &v, &n, &err), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(v[0].key, "approval_mode");
		CHECK_STR(v[1].key, "log_ring_lines");
	}
	store_settings_free(v, n);
	CHECK_INT(store_setting_list(st, "sb-1", &v, &n, &err), 0);
	CHECK_INT(n, 1);
	store_settings_free(v, n);

	CHECK_INT(store_setting_delete(st, "", "approval_mode", &err), 0);
	CHECK_INT(store_setting_delete(st, "", "approval_mode", &err), -ENOENT);
	CHECK_INT(store_setting_get(st, "", "approval_mode", &s, &err), -ENOENT);
	CHECK_STR(err.msg, "store: no setting 'approval_mode' in scope ''");
	CHECK_INT(store_setting_get(st, "sb-1", "approval_mode", &s, &err), 0);
	store_setting_clear(&s);
	CHECK_INT(store_setting_list(st, "nope", &v, &n, &err), 0);
	CHECK_INT(n, 0);
	CHECK(v == NULL);
	store_close(st);
	tdb_done(&t);
}

static void
t_logs_ring(void)
{
	struct tdb		 t;
	struct store		*st;
	struct store_log	*v, one;
	struct os_error		 err = { 0 };
	size_t			 n;

	tdb_init(&t);
	st = tdb_open(&t);
	add_sandbox(st, "sb-1", "demo");
	add_sandbox(st, "sb-2", "other");

	append_logs(st, "sb-1", 4, 5, "info", "sandbox", 100);
	append_logs(st, "sb-1", 4, 5, "info", "sandbox", 200);
	append_logs(st, "sb-2", 2, 5, "info", "sandbox", 100);
	CHECK_INT(store_log_count(st, "sb-1"), 5);
	CHECK_INT(store_log_count(st, "sb-2"), 2);
	CHECK_INT(store_log_query(st, "sb-1", 0, NULL, NULL, 0, 0, &v, &n, &err),
	    0);
	CHECK_INT(n, 5);
	if (n == 5) {
		CHECK_INT(v[0].seq, 4);      /* 1..3 trimmed, oldest first */
		CHECK_INT(v[4].seq, 8);
		CHECK_STR(v[0].message, "line 103");
		CHECK_STR(v[4].message, "line 203");
		CHECK_STR(v[0].sandbox_id, "sb-1");
		CHECK_STR(v[0].level, "info");
		CHECK_STR(v[0].target, "proxy");
		CHECK(v[0].fields == NULL);
	}
	store_logs_free(v, n);

	/* A batch larger than the ring keeps its newest lines; seq goes on. */
	append_logs(st, "sb-1", 7, 5, "info", "sandbox", 300);
	CHECK_INT(store_log_count(st, "sb-1"), 5);
	memset(&one, 0, sizeof one);
	one.sandbox_id = (char *)"sb-1";
	one.ts_ms = 400;
	one.level = (char *)"warn";
	one.message = (char *)"with fields";
	one.fields = (uint8_t *)"\x3a\x00";
	one.fields_len = 2;
	CHECK_INT(store_log_append(st, &one, 1, 5, &err), 0);
	CHECK_INT(one.seq, 16);
	CHECK_INT(store_log_query(st, "sb-1", 0, NULL, NULL, 0, 0, &v, &n, &err),
	    0);
	CHECK_INT(n, 5);
	if (n == 5) {
		CHECK_INT(v[0].seq, 12);
		CHECK_INT(v[4].seq, 16);
		CHECK_INT(v[4].fields_len, 2);
		CHECK(v[4].fields != NULL && memcmp(v[4].fields, "\x3a\x00", 2) == 0);
		CHECK(v[4].source == NULL);
	}
	store_logs_free(v, n);
	CHECK_INT(store_log_count(st, "sb-2"), 2);

	/* keep 0 = no limit. */
	append_logs(st, "sb-2", 10, 0, "info", "sandbox", 500);
	CHECK_INT(store_log_count(st, "sb-2"), 12);
	CHECK_INT(store_log_count(st, "nope"), 0);
	store_close(st);
	tdb_done(&t);
}

/* The connection's synchronous setting: 2 = FULL, 1 = NORMAL. */
static int
sync_mode(struct store *st)
{
	sqlite3_stmt	*stmt;
	int		 v = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA synchronous", -1, &stmt,
	    NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

/*
 * One batch with lines of two sandboxes interleaved: each sandbox's seq
 * goes on from its own newest line, each ring is trimmed to `keep`; a
 * smaller ring later trims at once. A failed batch stores nothing. Log
 * batches commit relaxed, and everything after them is synced again.
 */
static void
t_logs_mixed_batch(void)
{
	struct tdb		 t;
	struct store		*st;
	struct store_log	 b[5], *v;
	struct os_error		 err = { 0 };
	const char		*sids[5] = { "sb-1", "sb-2", "sb-1", "sb-1", "sb-2" };
	size_t			 i, n;

	tdb_init(&t);
	st = tdb_open(&t);
	add_sandbox(st, "sb-1", "demo");
	add_sandbox(st, "sb-2", "other");
	CHECK_INT(sync_mode(st), 2);
	append_logs(st, "sb-1", 3, 0, "info", "sandbox", 100);
	CHECK_INT(sync_mode(st), 2);
	memset(b, 0, sizeof b);
	for (i = 0; i < 5; i++) {
		b[i].sandbox_id = (char *)sids[i];
		b[i].ts_ms = 200 + (int64_t)i;
		b[i].level = (char *)"info";
		b[i].message = (char *)"mixed";
	}
	CHECK_INT(store_log_append(st, b, 5, 3, &err), 0);
	CHECK_INT(b[0].seq, 4);
	CHECK_INT(b[1].seq, 1);
	CHECK_INT(b[2].seq, 5);
	CHECK_INT(b[3].seq, 6);
	CHECK_INT(b[4].seq, 2);
	CHECK_INT(store_log_count(st, "sb-1"), 3);
	CHECK_INT(store_log_count(st, "sb-2"), 2);
	CHECK_INT(store_log_query(st, "sb-1", 0, NULL, NULL, 0, 0, &v, &n, &err),
	    0);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_INT(v[0].seq, 4);
		CHECK_INT(v[2].seq, 6);
	}
	store_logs_free(v, n);

	/* A smaller ring: the next line trims to it. */
	append_logs(st, "sb-1", 1, 1, "info", "sandbox", 300);
	CHECK_INT(store_log_count(st, "sb-1"), 1);

	/* An unknown sandbox fails the batch: nothing of it is kept, no seq
	 * is handed out, and the connection syncs again. */
	b[0].sandbox_id = (char *)"sb-2";
	b[1].sandbox_id = (char *)"nope";
	CHECK(store_log_append(st, b, 2, 0, &err) < 0);
	CHECK_INT(b[0].seq, 0);
	CHECK_INT(store_log_count(st, "sb-2"), 2);
	CHECK_INT(sync_mode(st), 2);
	store_close(st);
	tdb_done(&t);
}

static void
t_logs_query(void)
{
	static const char *const sandbox_only[] = { "sandbox" };
	static const char *const gw_only[] = { "gateway" };
	static const char *const both[] = { "gateway", "sandbox" };
	struct tdb		 t;
	struct store		*st;
	struct store_log	*v;
	struct os_error		 err = { 0 };
	size_t			 n;

	tdb_init(&t);
	st = tdb_open(&t);
	add_sandbox(st, "sb-1", "demo");
	append_logs(st, "sb-1", 2, 100, "debug", "sandbox", 100);   /* 1,2 */
	append_logs(st, "sb-1", 2, 100, "info", "gateway", 200);    /* 3,4 */
	append_logs(st, "sb-1", 2, 100, "warn", "sandbox", 300);    /* 5,6 */
	append_logs(st, "sb-1", 2, 100, "ERROR", "sandbox", 400);   /* 7,8 */
	append_logs(st, "sb-1", 1, 100, "warning", "", 500);        /* 9 */

	/* min level warn: warn and error (any spelling). */
	CHECK_INT(store_log_query(st, "sb-1", 0, "warn", NULL, 0, 100, &v, &n,
	    &err), 0);
	CHECK_INT(n, 5);
	if (n == 5) {
		CHECK_INT(v[0].seq, 5);
		CHECK_STR(v[2].level, "ERROR");
		CHECK_INT(v[4].seq, 9);
	}
	store_logs_free(v, n);
	CHECK_INT(store_log_query(st, "sb-1", 0, "error", NULL, 0, 100, &v, &n,
	    &err), 0);
	CHECK_INT(n, 2);
	store_logs_free(v, n);
	CHECK_INT(store_log_query(st, "sb-1", 0, "debug", NULL, 0, 100, &v, &n,
	    &err), 0);
	CHECK_INT(n, 9);
	store_logs_free(v, n);
	CHECK_INT(store_log_query(st, "sb-1", 0, "loud", NULL, 0, 100, &v, &n,
	    &err), -EINVAL);
	CHECK_CONTAINS(err.msg, "unknown log level 'loud'");

	/* since_ms is inclusive. */
	CHECK_INT(store_log_query(st, "sb-1", 301, NULL, NULL, 0, 100, &v, &n,
	    &err), 0);
	CHECK_INT(n, 4);
	if (n == 4)
		CHECK_INT(v[0].seq, 6);
	store_logs_free(v, n);

	/* Sources; an empty source is the gateway's. */
	CHECK_INT(store_log_query(st, "sb-1", 0, NULL, sandbox_only, 1, 100, &v,
	    &n, &err), 0);
	CHECK_INT(n, 6);
	store_logs_free(v, n);
	CHECK_INT(store_log_query(st, "sb-1", 0, NULL, gw_only, 1, 100, &v, &n,
	    &err), 0);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_INT(v[0].seq, 3);
		CHECK_INT(v[2].seq, 9);
	}
	store_logs_free(v, n);
	CHECK_INT(store_log_query(st, "sb-1", 0, NULL, both, 2, 100, &v, &n,
	    &err), 0);
	CHECK_INT(n, 9);
	store_logs_free(v, n);

	/* limit: the newest lines, still oldest first. */
	CHECK_INT(store_log_query(st, "sb-1", 0, NULL, NULL, 0, 3, &v, &n, &err),
	    0);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_INT(v[0].seq, 7);
		CHECK_INT(v[1].seq, 8);
		CHECK_INT(v[2].seq, 9);
	}
	store_logs_free(v, n);

	/* A page: the newest 3 older than seq 7, then what is left. */
	CHECK_INT(store_log_query_before(st, "sb-1", 0, NULL, NULL, 0, 7, 3, &v,
	    &n, &err), 0);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_INT(v[0].seq, 4);
		CHECK_INT(v[2].seq, 6);
	}
	store_logs_free(v, n);
	CHECK_INT(store_log_query_before(st, "sb-1", 0, NULL, NULL, 0, 4, 100, &v,
	    &n, &err), 0);
	CHECK_INT(n, 3);
	if (n == 3)
		CHECK_INT(v[0].seq, 1);
	store_logs_free(v, n);

	/* All filters together. */
	CHECK_INT(store_log_query(st, "sb-1", 150, "info", sandbox_only, 1, 3, &v,
	    &n, &err), 0);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_INT(v[0].seq, 6);
		CHECK_INT(v[2].seq, 8);
	}
	store_logs_free(v, n);
	CHECK_INT(store_log_query(st, "nope", 0, NULL, NULL, 0, 3, &v, &n, &err),
	    0);
	CHECK_INT(n, 0);
	store_close(st);
	tdb_done(&t);
}

static void
t_chunks(void)
{
	struct tdb		 t;
	struct store		*st;
	struct store_chunk	 c, *v;
	struct os_error		 err = { 0 };
	size_t			 n, deleted;

	tdb_init(&t);
	st = tdb_open(&t);
	add_sandbox(st, "sb-1", "demo");
	add_sandbox(st, "sb-2", "other");
	CHECK_INT(store_chunk_next_approval_seq(st, "sb-1"), 1);

	put_chunk(st, "c1", "sb-1", "pending", "api.github.com|443|/usr/bin/curl",
	    30, 0);
	put_chunk(st, "c2", "sb-1", "pending", NULL, 10, 0);
	put_chunk(st, "c3", "sb-1", "pending", NULL, 20, 0);
	put_chunk(st, "c4", "sb-1", "rejected", "x|80|/bin/sh", 40, 0);

	CHECK_INT(store_chunk_get(st, "c1", &c, &err), 0);
	CHECK_STR(c.id, "c1");
	CHECK_STR(c.sandbox_id, "sb-1");
	CHECK_STR(c.status, "pending");
	CHECK_STR(c.dedup_key, "api.github.com|443|/usr/bin/curl");
	CHECK_STR(c.host, "api.github.com");
	CHECK_INT(c.port, 443);
	CHECK_STR(c.binary, "/usr/bin/curl");
	CHECK_INT(c.created_at_ms, 30);
	CHECK_INT(c.updated_at_ms, 31);
	CHECK_INT(c.payload_len, 5);
	CHECK(c.payload != NULL && memcmp(c.payload, "\x0a\x03" "abc", 5) == 0);
	store_chunk_clear(&c);
	CHECK_INT(store_chunk_get(st, "c2", &c, &err), 0);
	CHECK(c.dedup_key == NULL);
	store_chunk_clear(&c);
	CHECK_INT(store_chunk_get(st, "nope", &c, &err), -ENOENT);
	CHECK_STR(err.msg, "store: chunk 'nope' not found");

	/* Dedup lookup, per sandbox. */
	CHECK_INT(store_chunk_find_dedup(st, "sb-1",
	    "api.github.com|443|/usr/bin/curl", &c, &err), 0);
	CHECK_STR(c.id, "c1");
	store_chunk_clear(&c);
	CHECK_INT(store_chunk_find_dedup(st, "sb-2",
	    "api.github.com|443|/usr/bin/curl", &c, &err), -ENOENT);
	put_chunk(st, "c9", "sb-2", "pending", "api.github.com|443|/usr/bin/curl",
	    5, 0);
	memset(&c, 0, sizeof c);
	c.id = (char *)"c5";
	c.sandbox_id = (char *)"sb-1";
	c.status = (char *)"pending";
	c.dedup_key = (char *)"api.github.com|443|/usr/bin/curl";
	CHECK_INT(store_chunk_put(st, &c, &err), -EEXIST);
	CHECK_CONTAINS(err.msg, "UNIQUE constraint failed");
	CHECK_INT(store_chunk_get(st, "c1", &c, &err), 0);   /* c1 untouched */
	store_chunk_clear(&c);

	/* List by status, in created_at order. */
	CHECK_INT(store_chunk_list(st, "sb-1", "pending", &v, &n, &err), 0);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_STR(v[0].id, "c2");
		CHECK_STR(v[1].id, "c3");
		CHECK_STR(v[2].id, "c1");
	}
	store_chunks_free(v, n);
	CHECK_INT(store_chunk_list(st, "sb-1", NULL, &v, &n, &err), 0);
	CHECK_INT(n, 4);
	store_chunks_free(v, n);

	/* Approve c1 then c2: approval order, not creation order. */
	CHECK_INT(store_begin(st, &err), 0);
	put_chunk(st, "c1", "sb-1", "approved", "api.github.com|443|/usr/bin/curl",
	    30, store_chunk_next_approval_seq(st, "sb-1"));
	put_chunk(st, "c2", "sb-1", "approved", NULL, 10,
	    store_chunk_next_approval_seq(st, "sb-1"));
	CHECK_INT(store_commit(st, &err), 0);
	CHECK_INT(store_chunk_next_approval_seq(st, "sb-1"), 3);
	CHECK_INT(store_chunk_list_approved(st, "sb-1", &v, &n, &err), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(v[0].id, "c1");
		CHECK_INT(v[0].approval_seq, 1);
		CHECK_STR(v[1].id, "c2");
		CHECK_INT(v[1].approval_seq, 2);
	}
	store_chunks_free(v, n);
	CHECK_INT(store_chunk_get(st, "c1", &c, &err), 0);
	CHECK_STR(c.status, "approved");
	store_chunk_clear(&c);

	/* Clear pending: only c3 goes. */
	CHECK_INT(store_chunk_delete_status(st, "sb-1", "pending", &deleted,
	    &err), 0);
	CHECK_INT(deleted, 1);
	CHECK_INT(store_chunk_get(st, "c3", &c, &err), -ENOENT);
	CHECK_INT(store_chunk_delete_status(st, "sb-1", "pending", &deleted,
	    &err), 0);
	CHECK_INT(deleted, 0);
	CHECK_INT(store_chunk_list(st, "sb-2", NULL, &v, &n, &err), 0);
	CHECK_INT(n, 1);
	store_chunks_free(v, n);
	store_close(st);
	tdb_done(&t);
}

static void
t_denials(void)
{
	struct tdb		 t;
	struct store		*st;
	struct store_denial	 d, *v;
	struct os_error		 err = { 0 };
	size_t			 n;

	tdb_init(&t);
	st = tdb_open(&t);
	add_sandbox(st, "sb-1", "demo");
	memset(&d, 0, sizeof d);
	d.id = (char *)"d2";
	d.sandbox_id = (char *)"sb-1";
	d.host = (char *)"evil.example";
	d.port = 443;
	d.binary = (char *)"/usr/bin/python3";
	d.stage = (char *)"l4_deny";
	d.first_seen_ms = 200;
	d.last_seen_ms = 250;
	d.count = 3;
	d.payload = (uint8_t *)"\x12\x01x";
	d.payload_len = 3;
	CHECK_INT(store_denial_put(st, &d, &err), 0);
	d.id = (char *)"d1";
	d.first_seen_ms = 100;
	CHECK_INT(store_denial_put(st, &d, &err), 0);
	d.id = (char *)"d2";       /* replace by id */
	d.first_seen_ms = 200;
	d.count = 7;
	d.last_seen_ms = 900;
	CHECK_INT(store_denial_put(st, &d, &err), 0);
	d.sandbox_id = (char *)"nope";
	d.id = (char *)"d3";
	CHECK_INT(store_denial_put(st, &d, &err), -ENOENT);

	CHECK_INT(store_denial_list(st, "sb-1", &v, &n, &err), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(v[0].id, "d1");
		CHECK_STR(v[1].id, "d2");
		CHECK_INT(v[1].count, 7);
		CHECK_INT(v[1].last_seen_ms, 900);
		CHECK_STR(v[1].host, "evil.example");
		CHECK_INT(v[1].port, 443);
		CHECK_STR(v[1].binary, "/usr/bin/python3");
		CHECK_STR(v[1].stage, "l4_deny");
		CHECK_INT(v[1].payload_len, 3);
		CHECK(v[1].payload != NULL &&
		    memcmp(v[1].payload, "\x12\x01x", 3) == 0);
	}
	store_denials_free(v, n);
	store_close(st);
	tdb_done(&t);
}

static void
t_history(void)
{
	struct tdb		 t;
	struct store		*st;
	struct store_history	 h, *v;
	struct os_error		 err = { 0 };
	uint64_t		 s1, s2, s3;
	size_t			 n;
	sqlite3			*db;

	tdb_init(&t);
	st = tdb_open(&t);
	append_history(st, "sb-1", "proposed", &s1);
	append_history(st, "sb-2", "proposed", &s2);
	memset(&h, 0, sizeof h);
	h.sandbox_id = (char *)"sb-1";
	h.ts_ms = 600;
	h.actor = (char *)"alice";
	h.event_type = (char *)"rejected";
	h.chunk_id = (char *)"c1";
	h.description = (char *)"rejected c1";
	h.before_hash = (char *)"b";
	h.after_hash = (char *)"a";
	h.reason = (char *)"too broad";
	CHECK_INT(store_history_append(st, &h, &err), 0);
	s3 = h.seq;
	CHECK(s1 < s2 && s2 < s3);

	CHECK_INT(store_history_list(st, "sb-1", &v, &n, &err), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(v[0].seq, s1);
		CHECK_STR(v[0].event_type, "proposed");
		CHECK(v[0].chunk_id == NULL);
		CHECK(v[0].reason == NULL);
		CHECK_INT(v[1].seq, s3);
		CHECK_STR(v[1].actor, "alice");
		CHECK_STR(v[1].chunk_id, "c1");
		CHECK_STR(v[1].description, "rejected c1");
		CHECK_STR(v[1].before_hash, "b");
		CHECK_STR(v[1].after_hash, "a");
		CHECK_STR(v[1].reason, "too broad");
		CHECK_INT(v[1].ts_ms, 600);
	}
	store_histories_free(v, n);
	CHECK_INT(store_history_list(st, NULL, &v, &n, &err), 0);
	CHECK_INT(n, 3);
	store_histories_free(v, n);

	/* Append-only, even for another connection. */
	db = raw_open(t.path);
	CHECK(sqlite3_exec(db, "DELETE FROM history", NULL, NULL, NULL) !=
	    SQLITE_OK);
	CHECK(sqlite3_exec(db, "UPDATE history SET actor = 'mallory'", NULL,
	    NULL, NULL) != SQLITE_OK);
	sqlite3_close(db);
	CHECK_INT(count_rows(t.path, "SELECT count(*) FROM history"), 3);
	store_close(st);
	tdb_done(&t);
}

static void
t_tx_rollback(void)
{
	struct tdb		 t;
	struct store		*st;
	struct store_sandbox	 got;
	struct os_error		 err = { 0 };

	tdb_init(&t);
	st = tdb_open(&t);
	CHECK_INT(store_begin(st, &err), 0);
	add_sandbox(st, "sb-1", "demo");
	add_revision(st, "sb-1", "h1", 1);
	put_setting(st, "sb-1", "k", "v");
	append_logs(st, "sb-1", 2, 10, "info", "sandbox", 1);
	append_history(st, "sb-1", "created", NULL);
	/* Uncommitted: another connection sees nothing. */
	CHECK_INT(count_rows(t.path, "SELECT count(*) FROM sandboxes"), 0);
	store_rollback(st);
	CHECK_INT(store_sandbox_get(st, "sb-1", &got, &err), -ENOENT);
	CHECK_INT(count_rows(t.path, "SELECT count(*) FROM policy_revisions"), 0);
	CHECK_INT(count_rows(t.path, "SELECT count(*) FROM settings"), 0);
	CHECK_INT(count_rows(t.path, "SELECT count(*) FROM logs"), 0);
	CHECK_INT(count_rows(t.path, "SELECT count(*) FROM history"), 0);
	CHECK_INT(store_commit(st, &err), -EINVAL);   /* nothing open */
	store_rollback(st);                           /* harmless */
	store_close(st);
	tdb_done(&t);
}

static void
t_tx_nested(void)
{
	struct tdb		 t;
	struct store		*st;
	struct store_revision	 rev;
	struct os_error		 err = { 0 };

	tdb_init(&t);
	st = tdb_open(&t);

	/* Only the outermost commit commits. */
	CHECK_INT(store_begin(st, &err), 0);
	add_sandbox(st, "sb-1", "demo");
	CHECK_INT(store_begin(st, &err), 0);
	add_revision(st, "sb-1", "h1", 1);
	CHECK_INT(store_commit(st, &err), 0);
	CHECK_INT(count_rows(t.path, "SELECT count(*) FROM sandboxes"), 0);
	CHECK_INT(store_commit(st, &err), 0);
	CHECK_INT(count_rows(t.path, "SELECT count(*) FROM sandboxes"), 1);
	CHECK_INT(count_rows(t.path, "SELECT count(*) FROM policy_revisions"), 1);

	/* A failed call inside a transaction undoes only itself. */
	CHECK_INT(store_begin(st, &err), 0);
	add_revision(st, "sb-1", "h2", 2);
	memset(&rev, 0, sizeof rev);
	rev.sandbox_id = (char *)"nope";
	CHECK_INT(store_revision_add(st, &rev, &err), -ENOENT);
	add_sandbox(st, "sb-2", "other");
	CHECK_INT(store_commit(st, &err), 0);
	CHECK_INT(count_rows(t.path, "SELECT count(*) FROM policy_revisions"), 2);
	CHECK_INT(count_rows(t.path, "SELECT count(*) FROM sandboxes"), 2);

	/* A nested rollback undoes everything, at the outermost end. */
	CHECK_INT(store_begin(st, &err), 0);
	add_revision(st, "sb-1", "h3", 3);
	CHECK_INT(store_begin(st, &err), 0);
	add_revision(st, "sb-2", "x1", 1);
	store_rollback(st);
	CHECK_INT(store_sandbox_delete(st, "sb-2", &err), -EIO);  /* refused */
	CHECK_INT(store_commit(st, &err), -EIO);
	CHECK_CONTAINS(err.msg, "rolled back");
	CHECK_INT(count_rows(t.path, "SELECT count(*) FROM policy_revisions"), 2);
	CHECK_INT(count_rows(t.path, "SELECT count(*) FROM sandboxes"), 2);

	/* And the store works normally afterwards. */
	add_revision(st, "sb-1", "h3", 3);
	CHECK_INT(count_rows(t.path, "SELECT count(*) FROM policy_revisions"), 3);
	store_close(st);
	tdb_done(&t);
}

static void
t_reopen_keeps_everything(void)
{
	struct tdb		 t;
	struct store		*st;
	struct store_sandbox	 sb;
	struct store_revision	 rev;
	struct store_setting	 s;
	struct store_log	*logs;
	struct store_chunk	*chunks;
	struct store_denial	 d, *denials;
	struct store_history	*h;
	struct os_error		 err = { 0 };
	size_t			 n;

	tdb_init(&t);
	st = tdb_open(&t);
	add_sandbox(st, "sb-1", "demo");
	add_revision(st, "sb-1", "h1", 1);
	add_revision(st, "sb-1", "h2", 2);
	put_setting(st, "", "g", "1");
	put_setting(st, "sb-1", "s", "2");
	append_logs(st, "sb-1", 3, 100, "info", "sandbox", 10);
	put_chunk(st, "c1", "sb-1", "approved", "a|1|/b", 1, 1);
	memset(&d, 0, sizeof d);
	d.id = (char *)"d1";
	d.sandbox_id = (char *)"sb-1";
	d.count = 2;
	CHECK_INT(store_denial_put(st, &d, &err), 0);
	append_history(st, "sb-1", "approved", NULL);
	store_close(st);

	st = tdb_open(&t);
	CHECK_INT(store_sandbox_get_by_name(st, "demo", &sb, &err), 0);
	CHECK_STR(sb.id, "sb-1");
	CHECK_INT(sb.spec_len, sizeof spec_bytes);
	store_sandbox_clear(&sb);
	CHECK_INT(store_revision_get(st, "sb-1", 0, &rev, &err), 0);
	CHECK_INT(rev.version, 2);
	CHECK_STR(rev.hash, "h2");
	store_revision_clear(&rev);
	add_revision(st, "sb-1", "h3", 3);
	CHECK_INT(store_setting_get(st, "", "g", &s, &err), 0);
	store_setting_clear(&s);
	CHECK_INT(store_setting_get(st, "sb-1", "s", &s, &err), 0);
	store_setting_clear(&s);
	CHECK_INT(store_log_query(st, "sb-1", 0, NULL, NULL, 0, 0, &logs, &n,
	    &err), 0);
	CHECK_INT(n, 3);
	if (n == 3)
		CHECK_INT(logs[2].seq, 3);
	store_logs_free(logs, n);
	append_logs(st, "sb-1", 1, 100, "info", "sandbox", 20);
	CHECK_INT(store_log_count(st, "sb-1"), 4);
	CHECK_INT(store_chunk_list_approved(st, "sb-1", &chunks, &n, &err), 0);
	CHECK_INT(n, 1);
	store_chunks_free(chunks, n);
	CHECK_INT(store_denial_list(st, "sb-1", &denials, &n, &err), 0);
	CHECK_INT(n, 1);
	if (n == 1)
		CHECK_INT(denials[0].count, 2);
	store_denials_free(denials, n);
	CHECK_INT(store_history_list(st, "sb-1", &h, &n, &err), 0);
	CHECK_INT(n, 1);
	store_histories_free(h, n);
	store_close(st);
	tdb_done(&t);
}

int
main(void)
{
	TAP_RUN(t_migrations_new_file);
	TAP_RUN(t_migration_logs_without_rowid);
	TAP_RUN(t_migration_logs_no_foreign_key);
	TAP_RUN(t_pragmas);
	TAP_RUN(t_file_mode);
	TAP_RUN(t_open_errors);
	TAP_RUN(t_newer_schema_refused);
	TAP_RUN(t_sandbox_crud);
	TAP_RUN(t_sandbox_delete);
	TAP_RUN(t_revisions);
	TAP_RUN(t_settings);
	TAP_RUN(t_logs_ring);
	TAP_RUN(t_logs_mixed_batch);
	TAP_RUN(t_logs_query);
	TAP_RUN(t_chunks);
	TAP_RUN(t_denials);
	TAP_RUN(t_history);
	TAP_RUN(t_tx_rollback);
	TAP_RUN(t_tx_nested);
	TAP_RUN(t_reopen_keeps_everything);
	return tap_done();
}
