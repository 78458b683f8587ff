/*
 * store_internal.h - what store.c (schema, writes) and store_read.c
 * (queries, exports) share: the handle, the cached statements, the error
 * helpers and the SQL text both the views and the C queries use.
 */
#ifndef AML_STORE_INTERNAL_H
#define AML_STORE_INTERNAL_H

#include <sqlite3.h>

#include "aml.h"
#include "store.h"

/* Store messages are paths plus one SQLite message; longer ones are cut. */
#define STORE_ERRMSG_MAX 1024

/* Statements kept prepared for the life of the handle. */
enum store_stmt_id {
    STMT_BEGIN,
    STMT_COMMIT,
    STMT_ROLLBACK,
    STMT_SAVEPOINT,
    STMT_RELEASE,
    STMT_ROLLBACK_TO,
    STMT_TRIAL_UPSERT,
    STMT_PARAM_DELETE,
    STMT_PARAM_INSERT,
    STMT_TRIAL_FINISH,
    STMT_FOLD_DELETE,
    STMT_FOLD_INSERT,
    STMT_OOF_DELETE,
    STMT_OOF_UPSERT,
    STMT_TRIAL_RESOURCE,
    STMT_COUNT
};

struct aml_store {
    sqlite3 *db;
    char *path; /* as the caller spelled it, for messages */
    int readonly;
    int immutable; /* read through SQLite's immutable=1: a fully checkpointed
                      store in a place this process cannot write */
    sqlite3_stmt *stmts[STMT_COUNT]; /* NULL until first used */
    char errmsg[STORE_ERRMSG_MAX];
};

/*
 * A trial's parameters and fold scores as JSON, in proposal and fold order.
 * The rows reach the aggregate through an ORDER BY subquery: SQLite feeds
 * an aggregate in the order its FROM subquery yields rows, so the text is
 * stable.  T is the alias of the trial table in the enclosing query.
 */
#define STORE_PARAMS_JSON(T)                                                             \
    "(SELECT json_group_object(p.name,"                                                  \
    " COALESCE(p.value_real, p.value_int, p.value_text))"                                \
    " FROM (SELECT * FROM trial_param AS q WHERE q.trial_id = " T ".id"                  \
    " ORDER BY q.position) AS p)"
#define STORE_FOLDS_JSON(T)                                                              \
    "(SELECT NULLIF(json_group_array(f.score), '[]')"                                    \
    " FROM (SELECT score FROM trial_fold AS g WHERE g.trial_id = " T ".id"               \
    " ORDER BY g.fold) AS f)"

AML_PRINTF(5, 6)
int store__fail(aml_store *s, int code, const char *file, int line, const char *fmt, ...);
#define store_fail(s, code, ...) store__fail((s), (code), __FILE__, __LINE__, __VA_ARGS__)
#define store_sqlite_fail(s)                                                             \
    store_fail((s), AML_ESTORE, "%s: %s", (s)->path, sqlite3_errmsg((s)->db))

/* Prepares `sql` once per call site use; fails with the store's message. */
int store_prepare(aml_store *s, const char *sql, sqlite3_stmt **out);
int store_stmt(aml_store *s, enum store_stmt_id id, sqlite3_stmt **out);
/* Runs a bound statement that returns no rows, then readies it for reuse. */
int store_step_done(aml_store *s, sqlite3_stmt *st);
int store_exec_cached(aml_store *s, enum store_stmt_id id);
/* As above on an error path: its own failure is ignored. */
void store_exec_quiet(aml_store *s, enum store_stmt_id id);
/* A write of its own transaction, or a savepoint in the caller's (*own says which). */
int store_write_begin(aml_store *s, int *own);
int store_write_end(aml_store *s, int own, int rc);
/* Ends a savepoint: keeps its writes when rc == 0, undoes them otherwise. */
int store_savepoint_end(aml_store *s, int rc);
int store_exec(aml_store *s, const char *sql);
int store_query_int(aml_store *s, const char *sql, long long *out);
double store_now(void);
/* True when pid is a live process on this host other than this one. */
int store_runner_alive(long long pid, const char *host);

/* Column readers: NULL text stays NULL; a NULL real reads as NaN, never 0.0. */
const char *store_column_text(sqlite3_stmt *st, int col);
double store_column_real(sqlite3_stmt *st, int col);
aml_trial_status store_status_parse(const char *text);

#endif
