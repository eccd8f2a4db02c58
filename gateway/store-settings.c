/* Settings: opaque values by (scope, key); scope "" is the gateway. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"

void
store_setting_clear(struct store_setting *s)
{
	if (s == NULL)
		return;
	free(s->scope);
	free(s->key);
	free(s->value);
	memset(s, 0, sizeof *s);
}

void
store_settings_free(struct store_setting *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		store_setting_clear(&v[i]);
	free(v);
}

static void
setting_from_row(sqlite3_stmt *stmt, struct store_setting *s)
{
	memset(s, 0, sizeof *s);
	s->scope = store_col_text(stmt, 0);
	s->key = store_col_text(stmt, 1);
	s->value = store_col_blob(stmt, 2, &s->value_len);
	s->updated_at_ms = store_col_int(stmt, 3);
}

/* The gateway scope is "" in the table; a NULL scope means it too. */
static const char *
setting_scope(const char *scope)
{
	return scope != NULL ? scope : "";
}

int
store_setting_put(struct store *st, const char *scope, const char *key,
    const uint8_t *value, size_t len, int64_t now_ms, struct os_error *err)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	stmt = store_stmt(st, "INSERT INTO settings (scope, key, value, "
	    "updated_at_ms) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (scope, key) "
	    "DO UPDATE SET value = excluded.value, "
	    "updated_at_ms = excluded.updated_at_ms", err);
	if (stmt == NULL)
		return -EIO;
	store_bind_text(st, stmt, 1, setting_scope(scope));
	store_bind_text(st, stmt, 2, key);
	/* An empty value (a default SettingValue) is a value, not NULL. */
	store_bind_blob(st, stmt, 3, value != NULL ? (const void *)value : "",
	    len);
	store_bind_int(st, stmt, 4, now_ms);
	rc = store_step(st, stmt, err, "put setting '%s' in scope '%s'",
	    key != NULL ? key : "", setting_scope(scope));
	store_stmt_done(stmt);
	return rc < 0 ? rc : 0;
}

int
store_setting_get(struct store *st, const char *scope, const char *key,
    struct store_setting *s, struct os_error *err)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	memset(s, 0, sizeof *s);
	stmt = store_stmt(st, "SELECT scope, key, value, updated_at_ms "
	    "FROM settings WHERE scope = ?1 AND key = ?2", err);
	if (stmt == NULL)
		return -EIO;
	store_bind_text(st, stmt, 1, setting_scope(scope));
	store_bind_text(st, stmt, 2, key);
	rc = store_step(st, stmt, err, "get setting '%s' in scope '%s'",
	    key != NULL ? key : "", setting_scope(scope));
	if (rc == 1)
		setting_from_row(stmt, s);
	store_stmt_done(stmt);
	if (rc == 0)
		return os_error_set(err, -ENOENT,
		    _("store: no setting '%s' in scope '%s'"), key != NULL ? key : "",
		    setting_scope(scope));
	return rc < 0 ? rc : 0;
}

int
store_setting_delete(struct store *st, const char *scope, const char *key,
    struct os_error *err)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	stmt = store_stmt(st, "DELETE FROM settings WHERE scope = ?1 AND key = ?2",
	    err);
	if (stmt == NULL)
		return -EIO;
	store_bind_text(st, stmt, 1, setting_scope(scope));
	store_bind_text(st, stmt, 2, key);
	rc = store_step(st, stmt, err, "delete setting '%s' in scope '%s'",
	    key != NULL ? key : "", setting_scope(scope));
	store_stmt_done(stmt);
	if (rc < 0)
		return rc;
	if (sqlite3_changes(st->db) == 0)
		return os_error_set(err, -ENOENT,
		    _("store: no setting '%s' in scope '%s'"), key != NULL ? key : "",
		    setting_scope(scope));
	return 0;
}

int
store_setting_list(struct store *st, const char *scope,
    struct store_setting **out, size_t *n, struct os_error *err)
{
	struct store_setting	*v = NULL;
	sqlite3_stmt		*stmt;
	size_t			 cap = 0, len = 0;
	int			 rc;

	*out = NULL;
	*n = 0;
	stmt = store_stmt(st, "SELECT scope, key, value, updated_at_ms "
	    "FROM settings WHERE scope = ?1 ORDER BY key", err);
	if (stmt == NULL)
		return -EIO;
	store_bind_text(st, stmt, 1, setting_scope(scope));
	while ((rc = store_step(st, stmt, err, "list settings in scope '%s'",
	    setting_scope(scope))) == 1) {
		v = store_array_grow(v, len, &cap, sizeof *v);
		setting_from_row(stmt, &v[len++]);
	}
	store_stmt_done(stmt);
	if (rc < 0) {
		store_settings_free(v, len);
		return rc;
	}
	*out = v;
	*n = len;
	return 0;
}
