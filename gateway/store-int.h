/*
 * Internals shared by the SQLite store modules (store*.c) and nothing
 * else: the store handle, the statement cache, the transaction helpers and
 * the bind/column helpers that turn NULLs and blobs into the conventions
 * of store.h.
 */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <sqlite3.h>

#include "store.h"

struct store_cached_stmt {
	const char	*sql;     /* the literal; the cache key is its address */
	sqlite3_stmt	*stmt;
};

struct store {
	sqlite3			*db;
	char			*path;
	int			 version;  /* schema version after migrations */
	int			 depth;    /* store_begin nesting */
	bool			 doomed;   /* a nested store_rollback: undo at the end */
	int			 op_depth; /* store_op_begin nesting */
	bool			 relaxed;  /* this op commits without fsync */
	int			 bind_rc;  /* first bind failure since store_stmt */
	struct store_cached_stmt *stmts;
	size_t			 nstmts;
	size_t			 capstmts;
};

/*
 * A ready statement for `sql`, which must be a string literal (or other
 * static storage): statements are cached by the address of their text.
 * The statement is reset and unbound. NULL (and err) on failure. Give it
 * back with store_stmt_done before returning, so that no read transaction
 * stays open.
 */
sqlite3_stmt	*store_stmt(struct store *, const char *sql, struct os_error *);
void		 store_stmt_done(sqlite3_stmt *);

/*
 * sqlite3_step with the error path: 1 = a row, 0 = done, or a negative
 * errno with err->msg = "store: <what>: <sqlite message>". Constraint
 * failures map to -EEXIST (unique), -ENOENT (foreign key: the sandbox is
 * not there) and -EINVAL (NOT NULL, CHECK); everything else is -EIO.
 */
int		 store_step(struct store *, sqlite3_stmt *, struct os_error *,
		     const char *what, ...) OS_PRINTF(4, 5);
/* Sets err from the connection's last error, as store_step does. */
int		 store_fail(struct store *, int sqlite_rc, struct os_error *,
		     const char *what, ...) OS_PRINTF(4, 5);

/*
 * Every multi-statement write runs between these: a transaction of its
 * own when none is open, else a savepoint inside the caller's, so that a
 * failed call leaves nothing half done without undoing the caller's work.
 * store_op_end commits (rc == 0) or rolls back, and returns rc, or the
 * commit's error.
 */
int		 store_op_begin(struct store *, struct os_error *);
/*
 * The same for writes that may be lost to a power cut (never to a crash
 * of the gateway): the commit goes to the WAL without an fsync, which the
 * next synced commit or checkpoint covers. Inside a caller's transaction
 * it is store_op_begin: the caller's commit decides.
 */
int		 store_op_begin_relaxed(struct store *, struct os_error *);
int		 store_op_end(struct store *, int rc, struct os_error *);

/* Binding: NULL strings and blobs become SQL NULL; an empty non-NULL blob
 * stays an empty blob. Values are bound SQLITE_STATIC: they must live
 * until store_stmt_done. Failures surface at the next store_step. */
void		 store_bind_text(struct store *, sqlite3_stmt *, int, const char *);
void		 store_bind_blob(struct store *, sqlite3_stmt *, int, const void *,
		     size_t);
void		 store_bind_int(struct store *, sqlite3_stmt *, int, int64_t);

/* Column copies: NULL for SQL NULL; text and blobs are NUL-terminated. */
char		*store_col_text(sqlite3_stmt *, int);
void		*store_col_blob(sqlite3_stmt *, int, size_t *len);
int64_t		 store_col_int(sqlite3_stmt *, int);

/* Room for element n of a result array: returns the array, reallocated
 * when n reached *cap, with element n zeroed. */
void		*store_array_grow(void *array, size_t n, size_t *cap, size_t size);

#endif /* STORE_INT_H */
