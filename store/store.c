/*
 * store.c - the SQLite trials store: connection, schema and migrations,
 * studies, and the trial writes (see store.h and docs/schema.md).  The
 * queries and text exports are in store_read.c.
 *
 * Design.  One connection per aml_store, owned by one thread.  The runner
 * writes a few rows per trial (one trial row, a handful of parameter rows,
 * k fold rows) in short batches, while `automl trials` or a plain sqlite3
 * shell reads the same file, and another `automl run` may write another
 * study in it.  Hence:
 *
 *  - WAL journal: readers never wait for the writer and the writer never
 *    waits for readers; synchronous=NORMAL is durable enough in WAL mode
 *    (a power cut may lose the last commits, never corrupt the file).
 *  - BEGIN IMMEDIATE so a batch takes the write lock up front instead of
 *    failing half-way when it upgrades from a read lock; a 5 s busy
 *    timeout for another writer's batch, and a few retries on top, since a
 *    writer holds the lock only for one batch of rows (milliseconds).
 *  - the hot inserts and updates are prepared once (lazily, so a read-only
 *    handle never compiles them) and kept in s->stmts; each writer wraps its
 *    rows in a SAVEPOINT so a trial is recorded whole or not at all, both
 *    inside a caller's batch transaction and outside one.
 *  - the schema carries PRAGMA user_version.  store_migrations[v] upgrades
 *    version v to v + 1, so the current version is the table's length and a
 *    later session adds a schema change by appending one entry.
 *
 * Non-finite numbers: a NaN or infinite score, fold score or real parameter
 * is stored as NULL (SQLite would print an infinity as the invalid JSON
 * token Inf).  A trial whose mean score is not finite is marked failed.
 */
#include "store.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store_internal.h"

/* How long a writer waits for another writer's lock before failing once. */
#define STORE_BUSY_TIMEOUT_MS 5000
/* Attempts at opening a file another process is creating at the same moment. */
#define STORE_OPEN_TRIES 8
/* BEGIN IMMEDIATE attempts (each waiting up to the busy timeout). */
#define STORE_BEGIN_TRIES 6
#define STORE_HOST_MAX 256

/* Schema version 1, kept verbatim: a new file replays every migration. */
static const char schema_v1[] =
    "CREATE TABLE study (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    name TEXT NOT NULL UNIQUE,\n"
    "    task TEXT NOT NULL,\n"
    "    metric TEXT NOT NULL,\n"
    "    greater_is_better INTEGER NOT NULL CHECK (greater_is_better IN (0, 1)),\n"
    "    seed INTEGER NOT NULL,\n"
    "    spec_text TEXT,\n"
    "    created_at REAL NOT NULL\n"
    ");\n"
    "CREATE TABLE trial (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    study_id INTEGER NOT NULL REFERENCES study(id) ON DELETE CASCADE,\n"
    "    number INTEGER NOT NULL,\n"
    "    learner TEXT NOT NULL,\n"
    "    status TEXT NOT NULL DEFAULT 'running'\n"
    "        CHECK (status IN ('running', 'ok', 'failed')),\n"
    "    score REAL,\n"
    "    message TEXT,\n"
    "    t_start REAL NOT NULL,\n"
    "    t_end REAL,\n"
    "    UNIQUE (study_id, number)\n"
    ");\n"
    "CREATE TABLE trial_param (\n"
    "    trial_id INTEGER NOT NULL REFERENCES trial(id) ON DELETE CASCADE,\n"
    "    position INTEGER NOT NULL,\n"
    "    name TEXT NOT NULL,\n"
    "    value_real REAL,\n"
    "    value_int INTEGER,\n"
    "    value_text TEXT,\n"
    "    CHECK ((value_real IS NOT NULL) + (value_int IS NOT NULL)\n"
    "           + (value_text IS NOT NULL) <= 1),\n"
    "    PRIMARY KEY (trial_id, position),\n"
    "    UNIQUE (trial_id, name)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE trial_fold (\n"
    "    trial_id INTEGER NOT NULL REFERENCES trial(id) ON DELETE CASCADE,\n"
    "    fold INTEGER NOT NULL,\n"
    "    score REAL,\n"
    "    PRIMARY KEY (trial_id, fold)\n"
    ") WITHOUT ROWID;\n"
    "CREATE VIEW trial_params AS\n"
    "SELECT t.id AS trial_id, t.study_id, s.name AS study, t.number, t.learner,\n"
    "       t.status, t.score,\n"
    "       (SELECT json_group_object(p.name,\n"
    "                   COALESCE(p.value_real, p.value_int, p.value_text))\n"
    "          FROM (SELECT * FROM trial_param AS q WHERE q.trial_id = t.id\n"
    "                ORDER BY q.position) AS p) AS params,\n"
    "       (SELECT NULLIF(json_group_array(f.score), '[]')\n"
    "          FROM (SELECT score FROM trial_fold AS g WHERE g.trial_id = t.id\n"
    "                ORDER BY g.fold) AS f) AS fold_scores,\n"
    "       t.message, t.t_start, t.t_end\n"
    "  FROM trial AS t JOIN study AS s ON s.id = t.study_id;\n"
    "CREATE VIEW leaderboard AS\n"
    "SELECT v.study_id, v.study,\n"
    "       rank() OVER (PARTITION BY v.study_id ORDER BY\n"
    "           CASE WHEN s.greater_is_better THEN -v.score ELSE v.score END,\n"
    "           v.number) AS rank,\n"
    "       v.number, v.learner, v.score, v.params, v.fold_scores,\n"
    "       v.t_end - v.t_start AS seconds\n"
    "  FROM trial_params AS v JOIN study AS s ON s.id = v.study_id\n"
    " WHERE v.status = 'ok' AND v.score IS NOT NULL\n"
    " ORDER BY v.study_id, rank;\n";

/*
 * Version 2: resume and concurrency.  The study gains the canonical search
 * text and its hash, the stop reason and the running process; a trial may
 * be 'interrupted'.  SQLite cannot change a CHECK constraint in place, so
 * the trial table is rebuilt (create, copy, drop, rename: the documented
 * procedure, run with foreign keys off so the drop does not cascade; row
 * ids are kept, so parameters and folds stay attached).  The views are
 * dropped first because a rename re-checks every view.
 */
/* clang-format off */
static const char schema_v2[] =
    "DROP VIEW leaderboard;\n"
    "DROP VIEW trial_params;\n"
    "ALTER TABLE study ADD COLUMN spec_hash TEXT;\n"
    "ALTER TABLE study ADD COLUMN spec_canonical TEXT;\n"
    "ALTER TABLE study ADD COLUMN stop_reason TEXT;\n"
    "ALTER TABLE study ADD COLUMN run_pid INTEGER;\n"
    "ALTER TABLE study ADD COLUMN run_host TEXT;\n"
    "ALTER TABLE study ADD COLUMN updated_at REAL;\n"
    "CREATE TABLE trial_v2 (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    study_id INTEGER NOT NULL REFERENCES study(id) ON DELETE CASCADE,\n"
    "    number INTEGER NOT NULL,\n"
    "    learner TEXT NOT NULL,\n"
    "    status TEXT NOT NULL DEFAULT 'running'\n"
    "        CHECK (status IN ('running', 'ok', 'failed', 'interrupted')),\n"
    "    score REAL,\n"
    "    message TEXT,\n"
    "    t_start REAL NOT NULL,\n"
    "    t_end REAL,\n"
    "    UNIQUE (study_id, number)\n"
    ");\n"
    "INSERT INTO trial_v2 (id, study_id, number, learner, status, score, message,\n"
    "                      t_start, t_end)\n"
    "SELECT id, study_id, number, learner, status, score, message, t_start, t_end\n"
    "  FROM trial;\n"
    "DROP TABLE trial;\n"
    "ALTER TABLE trial_v2 RENAME TO trial;\n"
    "CREATE INDEX trial_by_score ON trial (study_id, status, score);\n"
    "CREATE VIEW trial_params AS\n"
    "SELECT t.id AS trial_id, t.study_id, s.name AS study, t.number, t.learner,\n"
    "       t.status, t.score,\n"
    "       " STORE_PARAMS_JSON("t") " AS params,\n"
    "       " STORE_FOLDS_JSON("t") " AS fold_scores,\n"
    "       t.message, t.t_start, t.t_end, t.t_end - t.t_start AS seconds\n"
    "  FROM trial AS t JOIN study AS s ON s.id = t.study_id;\n"
    "CREATE VIEW leaderboard AS\n"
    "SELECT v.study_id, v.study,\n"
    "       rank() OVER (PARTITION BY v.study_id ORDER BY\n"
    "           CASE WHEN s.greater_is_better THEN -v.score ELSE v.score END,\n"
    "           v.number) AS rank,\n"
    "       v.number, v.learner, v.score, v.params, v.fold_scores, v.seconds\n"
    "  FROM trial_params AS v JOIN study AS s ON s.id = v.study_id\n"
    " WHERE v.status = 'ok' AND v.score IS NOT NULL\n"
    " ORDER BY v.study_id, rank;\n";
/* clang-format on */

/* Version 3: the fold assignment of each study, so a result can be re-checked. */
static const char schema_v3[] =
    "CREATE TABLE study_fold (\n"
    "    study_id INTEGER NOT NULL REFERENCES study(id) ON DELETE CASCADE,\n"
    "    repeat   INTEGER NOT NULL,\n"
    "    row      INTEGER NOT NULL,\n"
    "    line     INTEGER NOT NULL,\n"
    "    fold     INTEGER NOT NULL,\n"
    "    PRIMARY KEY (study_id, repeat, row)\n"
    ") WITHOUT ROWID;\n";

/*
 * Version 4: each ok trial's out-of-fold predictions, one blob per repeat
 * (n x outputs little-endian float64), so ensembles need no retraining.
 */
static const char schema_v4[] =
    "CREATE TABLE trial_oof (\n"
    "    trial_id INTEGER NOT NULL REFERENCES trial(id) ON DELETE CASCADE,\n"
    "    repeat   INTEGER NOT NULL,\n"
    "    outputs  INTEGER NOT NULL,\n"
    "    data     BLOB NOT NULL,\n"
    "    PRIMARY KEY (trial_id, repeat)\n"
    ") WITHOUT ROWID;\n";

/*
 * The views of version 5 gain the resource; the leaderboard ranks full
 * evaluations first (a score on part of the budget does not compare with a
 * full one).  SQLite cannot alter a view: they are dropped and made again.
 */
/* clang-format off */
#define SCHEMA_V5_VIEWS                                                                  \
    "DROP VIEW leaderboard;\n"                                                           \
    "DROP VIEW trial_params;\n"                                                          \
    "CREATE VIEW trial_params AS\n"                                                      \
    "SELECT t.id AS trial_id, t.study_id, s.name AS study, t.number, t.learner,\n"       \
    "       t.status, t.score,\n"                                                        \
    "       " STORE_PARAMS_JSON("t") " AS params,\n"                                     \
    "       " STORE_FOLDS_JSON("t") " AS fold_scores,\n"                                 \
    "       t.message, t.t_start, t.t_end, t.t_end - t.t_start AS seconds,\n"           \
    "       t.resource\n"                                                                \
    "  FROM trial AS t JOIN study AS s ON s.id = t.study_id;\n"                          \
    "CREATE VIEW leaderboard AS\n"                                                       \
    "SELECT v.study_id, v.study,\n"                                                      \
    "       rank() OVER (PARTITION BY v.study_id ORDER BY\n"                             \
    "           coalesce(v.resource, 1) DESC,\n"                                         \
    "           CASE WHEN s.greater_is_better THEN -v.score ELSE v.score END,\n"         \
    "           v.number) AS rank,\n"                                                    \
    "       v.number, v.learner, v.score, v.params, v.fold_scores, v.seconds,\n"         \
    "       v.resource\n"                                                                \
    "  FROM trial_params AS v JOIN study AS s ON s.id = v.study_id\n"                    \
    " WHERE v.status = 'ok' AND v.score IS NOT NULL\n"                                   \
    " ORDER BY v.study_id, rank;\n"
/* clang-format on */

/*
 * Version 5: the spec file's absolute path (so `automl export` can read the
 * data again), the resource a trial was evaluated with (successive halving:
 * a fraction of the full budget, NULL for a full evaluation), and the
 * ensemble built from a study (one row per study, replaced on rebuild;
 * members is JSON [{"trial": N, "weight": W}, ...]; score is the honest
 * cross-validated estimate, best_trial_score the best single trial's).
 */
static const char schema_v5[] =
    "ALTER TABLE trial ADD COLUMN resource REAL;\n" SCHEMA_V5_VIEWS
    "ALTER TABLE study ADD COLUMN spec_path TEXT;\n"
    "CREATE TABLE ensemble (\n"
    "    study_id INTEGER PRIMARY KEY REFERENCES study(id) ON DELETE CASCADE,\n"
    "    method   TEXT NOT NULL,\n"
    "    score    REAL,\n"
    "    best_trial_score REAL,\n"
    "    members  TEXT NOT NULL,\n"
    "    created_at REAL NOT NULL,\n"
    "    fallback_from TEXT,\n"
    "    fallback_score REAL,\n"
    "    single_score REAL\n"
    ");\n";

/* store_migrations[v] takes a database from user_version v to v + 1. */
static const char *const store_migrations[] = {
    schema_v1, schema_v2, schema_v3, schema_v4, schema_v5,
};
#define STORE_SCHEMA_VERSION                                                             \
    ((int)(sizeof(store_migrations) / sizeof(store_migrations[0])))

static const char *const store_stmt_sql[STMT_COUNT] = {
    [STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STMT_COMMIT] = "COMMIT",
    [STMT_ROLLBACK] = "ROLLBACK",
    [STMT_SAVEPOINT] = "SAVEPOINT aml_store_write",
    [STMT_RELEASE] = "RELEASE aml_store_write",
    [STMT_ROLLBACK_TO] = "ROLLBACK TO aml_store_write",
    /* A new trial, or the re-queue of one a stopped process left behind:
     * the DO UPDATE's WHERE leaves a finished trial alone (and returns no
     * row, which the caller reports). */
    [STMT_TRIAL_UPSERT] =
        "INSERT INTO trial (study_id, number, learner, status, t_start)"
        " VALUES (?1, ?2, ?3, 'running', ?4)"
        " ON CONFLICT (study_id, number) DO UPDATE SET learner = excluded.learner,"
        " status = 'running', score = NULL, message = NULL,"
        " t_start = excluded.t_start, t_end = NULL, resource = NULL"
        " WHERE trial.status IN ('running', 'interrupted')"
        " RETURNING id",
    [STMT_PARAM_DELETE] = "DELETE FROM trial_param WHERE trial_id = ?1",
    [STMT_PARAM_INSERT] = "INSERT INTO trial_param"
                          " (trial_id, position, name, value_real, value_int, value_text)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [STMT_TRIAL_FINISH] = "UPDATE trial SET status = ?2, score = ?3, message = ?4,"
                          " t_end = ?5, t_start = coalesce(?6, t_start) WHERE id = ?1",
    [STMT_FOLD_DELETE] = "DELETE FROM trial_fold WHERE trial_id = ?1",
    [STMT_FOLD_INSERT] = "INSERT INTO trial_fold (trial_id, fold, score)"
                         " VALUES (?1, ?2, ?3)",
    [STMT_OOF_DELETE] = "DELETE FROM trial_oof WHERE trial_id = ?1",
    [STMT_TRIAL_RESOURCE] = "UPDATE trial SET resource = ?2 WHERE id = ?1",
    [STMT_OOF_UPSERT] = "INSERT INTO trial_oof (trial_id, repeat, outputs, data)"
                        " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (trial_id, repeat)"
                        " DO UPDATE SET outputs = excluded.outputs, data = excluded.data",
};

/* ---- errors and helpers shared with store_read.c ----------------------------- */

/*
 * Formats a message into s->errmsg and the thread's error slot.  A macro
 * passes the caller's position, so aml_error_where() points at the failure.
 */
int store__fail(aml_store *s, int code, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
    va_end(ap);
    return aml_error__set(code, file, line, "%s", s->errmsg);
}

const char *aml_store_errmsg(const aml_store *s)
{
    return s ? s->errmsg : "";
}

const char *aml_trial_status_name(aml_trial_status st)
{
    switch (st) {
    case AML_TRIAL_RUNNING:
        return "running";
    case AML_TRIAL_OK:
        return "ok";
    case AML_TRIAL_FAILED:
        return "failed";
    case AML_TRIAL_INTERRUPTED:
        return "interrupted";
    }
    return "unknown";
}

aml_trial_status store_status_parse(const char *text)
{
    if (text && strcmp(text, "ok") == 0)
        return AML_TRIAL_OK;
    if (text && strcmp(text, "running") == 0)
        return AML_TRIAL_RUNNING;
    if (text && strcmp(text, "interrupted") == 0)
        return AML_TRIAL_INTERRUPTED;
    return AML_TRIAL_FAILED; /* the CHECK constraint admits nothing else */
}

const char *store_column_text(sqlite3_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st, col);
}

double store_column_real(sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return NAN;
    return sqlite3_column_double(st, col);
}

int store_prepare(aml_store *s, const char *sql, sqlite3_stmt **out)
{
    *out = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, out, NULL) != SQLITE_OK)
        return store_sqlite_fail(s);
    return 0;
}

/* Returns the cached statement `id`, preparing it on first use. */
int store_stmt(aml_store *s, enum store_stmt_id id, sqlite3_stmt **out)
{
    assert(id < STMT_COUNT);
    if (!s->stmts[id] &&
        sqlite3_prepare_v3(s->db, store_stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                           &s->stmts[id], NULL) != SQLITE_OK)
        return store_sqlite_fail(s);
    *out = s->stmts[id];
    return 0;
}

int store_step_done(aml_store *s, sqlite3_stmt *st)
{
    int rc = 0;

    if (sqlite3_step(st) != SQLITE_DONE)
        rc = store_sqlite_fail(s);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st); /* drop borrowed text pointers */
    return rc;
}

int store_exec_cached(aml_store *s, enum store_stmt_id id)
{
    sqlite3_stmt *st = NULL;
    int rc = store_stmt(s, id, &st);

    return rc < 0 ? rc : store_step_done(s, st);
}

void store_exec_quiet(aml_store *s, enum store_stmt_id id)
{
    sqlite3_stmt *st = s->stmts[id];

    if (!st &&
        sqlite3_prepare_v3(s->db, store_stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                           &s->stmts[id], NULL) != SQLITE_OK)
        return;
    st = s->stmts[id];
    sqlite3_step(st);
    sqlite3_reset(st);
}

/*
 * Opens a write: a savepoint inside the caller's transaction, or a
 * transaction of its own (BEGIN IMMEDIATE) when there is none.  A bare
 * savepoint would start a deferred transaction, and another process's
 * commit between its first read and its first write fails it at once
 * (SQLITE_BUSY_SNAPSHOT, which no busy timeout waits out).
 */
int store_write_begin(aml_store *s, int *own)
{
    *own = sqlite3_get_autocommit(s->db) != 0;
    return *own ? aml_store_begin(s) : store_exec_cached(s, STMT_SAVEPOINT);
}

int store_write_end(aml_store *s, int own, int rc)
{
    if (!own)
        return store_savepoint_end(s, rc);
    if (rc == 0)
        return store_exec_cached(s, STMT_COMMIT);
    store_exec_quiet(s, STMT_ROLLBACK);
    return rc;
}

int store_savepoint_end(aml_store *s, int rc)
{
    if (rc == 0)
        return store_exec_cached(s, STMT_RELEASE);
    store_exec_quiet(s, STMT_ROLLBACK_TO);
    store_exec_quiet(s, STMT_RELEASE);
    return rc;
}

/* Runs one-off SQL (schema, pragmas) that returns no rows we need. */
int store_exec(aml_store *s, const char *sql)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return store_sqlite_fail(s);
    return 0;
}

/* Reads a single integer from `sql` (a pragma or a count). */
int store_query_int(aml_store *s, const char *sql, long long *out)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return store_sqlite_fail(s);
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else
        rc = store_sqlite_fail(s);
    sqlite3_finalize(st);
    return rc;
}

double store_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- opening and the schema ----------------------------------------------- */

/*
 * Opens `file` (the store's path, or the private file a new store is built
 * in) and sets the per-connection pragmas.  Foreign keys are switched on
 * only after the schema is up to date (aml_store_open): a migration that
 * rebuilds a table must run with them off, and SQLite ignores that pragma
 * inside a transaction.
 *
 * A read-only handle opens the file read-write too (SQLite falls back to
 * reading only when the OS refuses writing) and sets query_only, which
 * refuses every statement that would change the database.  The reason is
 * the WAL's side files: the last connection to close a WAL database
 * checkpoints it and deletes STORE-wal and STORE-shm, but only when it may
 * write; a connection opened SQLITE_OPEN_READONLY leaves both behind, so
 * `automl trials` would litter the directory (https://www.sqlite.org/wal.html,
 * "Persistence of WAL mode" and "Read-Only Databases").  The checkpoint at
 * close copies only pages a writer committed, and a reader is the last to
 * close only when no writer is open.
 */
static int store_connect(aml_store *s, const char *file, int create)
{
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    int rc;

    if ((rc = sqlite3_open_v2(file, &s->db, flags, NULL)) != SQLITE_OK) {
        if (!s->db)
            return store_fail(s, AML_ENOMEM, "%s: out of memory opening", s->path);
        return store_fail(s, rc == SQLITE_CANTOPEN ? AML_EIO : AML_ESTORE, "%s: %s",
                          s->path, sqlite3_errmsg(s->db));
    }
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
    if (s->readonly && (rc = store_exec(s, "PRAGMA query_only = ON")) < 0)
        return rc;

    /* Reading user_version first makes a non-database file fail here with
     * SQLite's "file is not a database", before anything is written. */
    if ((rc = store_exec(s, "PRAGMA user_version")) < 0)
        return rc;
    if (!s->readonly && (rc = store_exec(s, "PRAGMA journal_mode = WAL")) < 0)
        return rc;
    if ((rc = store_exec(s, "PRAGMA foreign_keys = OFF")) < 0 ||
        (rc = store_exec(s, "PRAGMA synchronous = NORMAL")) < 0)
        return rc;
    return 0;
}

/* Applies migrations from version `from` up to STORE_SCHEMA_VERSION. */
static int store_migrate(aml_store *s, long long from)
{
    char sql[64];
    long long broken = 0;
    int rc = 0;

    for (long long v = from; rc == 0 && v < STORE_SCHEMA_VERSION; v++)
        rc = store_exec(s, store_migrations[v]);
    /* A rebuild with foreign keys off must leave every reference whole. */
    if (rc == 0 &&
        (rc = store_query_int(s, "SELECT count(*) FROM pragma_foreign_key_check",
                              &broken)) == 0 &&
        broken > 0)
        rc = store_fail(s, AML_ESTORE, "%s: migration left %lld broken references",
                        s->path, broken);
    if (rc == 0) {
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
        rc = store_exec(s, sql);
    }
    return rc;
}

/* Refuses versions this build cannot read or write. */
static int store_check_version(aml_store *s, long long version)
{
    if (version > STORE_SCHEMA_VERSION)
        return store_fail(s, AML_ESTORE,
                          "%s: schema version %lld is newer than this automl "
                          "understands (%d); upgrade automl",
                          s->path, version, STORE_SCHEMA_VERSION);
    if (version == 0 && s->readonly)
        return store_fail(s, AML_ESTORE, "%s: not an automl store (no schema)", s->path);
    if (version < STORE_SCHEMA_VERSION && s->readonly)
        return store_fail(s, AML_ESTORE,
                          "%s: schema version %lld is older than %d; open it "
                          "read-write once to upgrade it",
                          s->path, version, STORE_SCHEMA_VERSION);
    return 0;
}

/*
 * Creates or upgrades the schema inside one write transaction.  The version
 * is read again under the lock because another process may have created
 * the schema between our first look and BEGIN IMMEDIATE.
 */
static int store_upgrade(aml_store *s)
{
    long long version = 0, n_objects = 0;
    int rc;

    if ((rc = aml_store_begin(s)) < 0)
        return rc;
    rc = store_query_int(s, "PRAGMA user_version", &version);
    if (rc == 0)
        rc = store_check_version(s, version);
    if (rc == 0 && version == 0)
        rc = store_query_int(s, "SELECT count(*) FROM sqlite_schema", &n_objects);
    /* A database with tables but no version is someone else's: leave it. */
    if (rc == 0 && n_objects > 0)
        rc = store_fail(s, AML_ESTORE,
                        "%s: a SQLite database but not an automl store "
                        "(it has tables and no schema version)",
                        s->path);
    if (rc == 0 && version < STORE_SCHEMA_VERSION)
        rc = store_migrate(s, version);
    if (rc == 0)
        return store_exec_cached(s, STMT_COMMIT);
    store_exec_quiet(s, STMT_ROLLBACK);
    return rc;
}

static int store_schema(aml_store *s)
{
    long long version = 0;
    int rc;

    if ((rc = store_query_int(s, "PRAGMA user_version", &version)) < 0 ||
        (rc = store_check_version(s, version)) < 0)
        return rc;
    if (version == STORE_SCHEMA_VERSION)
        return 0;
    return store_upgrade(s);
}

/* Closes the connection and forgets its statements, keeping the path. */
static void store_close_db(aml_store *s)
{
    for (int i = 0; i < STMT_COUNT; i++) {
        sqlite3_finalize(s->stmts[i]);
        s->stmts[i] = NULL;
    }
    sqlite3_close_v2(s->db);
    s->db = NULL;
}

static void store_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Removes a database file with its journal, WAL and shared-memory files. */
static void store_unlink_db(const char *file)
{
    static const char *const side[] = {"", "-journal", "-wal", "-shm"};
    char name[PATH_MAX + 16];

    for (size_t i = 0; i < sizeof(side) / sizeof(side[0]); i++)
        if (snprintf(name, sizeof(name), "%s%s", file, side[i]) < (int)sizeof(name))
            unlink(name); /* a name too long to exist is not there */
}

/*
 * Creates a store that does not exist yet, atomically for readers: the
 * schema (and WAL mode) is committed in a private file beside `path` (same
 * directory, hence same file system) that link() then puts in place whole.
 * A reader racing `automl run` thus finds no file, or the full schema,
 * never the empty database SQLite creates at open.  link() never replaces:
 * when another process created the store first (EEXIST), its file is used.
 * Where the file system has no hard links the store is created in place as
 * before, and a reader may then see it empty for a moment.
 */
static int store_create(aml_store *s)
{
    char tmp[PATH_MAX + 64];
    int rc, linked;

    if (snprintf(tmp, sizeof(tmp), "%s.new-%ld-%lx", s->path, (long)getpid(),
                 (unsigned long)(uintptr_t)s) >= (int)sizeof(tmp) - 16)
        return 0;         /* too long a path for the side files: create in place */
    store_unlink_db(tmp); /* a dead process of the same id may have left one */
    if ((rc = store_connect(s, tmp, 1)) == 0)
        rc = store_schema(s);
    store_close_db(s); /* the last connection: SQLite removes tmp's WAL files */
    linked = rc == 0 && link(tmp, s->path) == 0;
    if (rc == 0 && !linked && errno != EEXIST && errno != EPERM && errno != ENOTSUP &&
        errno != ENOSYS)
        rc = store_fail(s, AML_EIO, "%s: cannot create: %s", s->path, strerror(errno));
    store_unlink_db(tmp);
    return rc;
}

int aml_store_open(aml_store **out, const char *path, int readonly)
{
    aml_store *s;
    int rc;

    assert(out);
    *out = NULL;
    if (!path || !*path)
        return aml_error_set(AML_EINVAL, "the store path is empty");
    /* SQLite would report a missing file as "unable to open": say what it is. */
    if (readonly && access(path, F_OK) != 0)
        return aml_error_set(AML_EIO, "%s: no such database", path);

    if (!(s = aml_calloc(1, sizeof(*s))))
        return AML_ENOMEM;
    s->readonly = readonly != 0;
    if (!(s->path = aml_strdup(path))) {
        rc = AML_ENOMEM;
        goto fail;
    }
    if (!readonly && access(path, F_OK) != 0 && errno == ENOENT &&
        (rc = store_create(s)) < 0)
        goto fail;
    /*
     * Opening can meet another process creating the same new file (the
     * journal-mode switch and the schema both need the whole file for a
     * moment), which SQLite may report as busy without waiting.  Opening
     * changes nothing until the schema commits, so it is safe to retry.
     */
    for (int attempt = 0;; attempt++) {
        int busy;

        if ((rc = store_connect(s, path, !readonly)) == 0 &&
            (rc = store_schema(s)) == 0 &&
            (rc = store_exec(s, "PRAGMA foreign_keys = ON")) == 0)
            break;
        busy = s->db && ((sqlite3_errcode(s->db) & 0xff) == SQLITE_BUSY ||
                         (sqlite3_errcode(s->db) & 0xff) == SQLITE_LOCKED);
        if (!busy || attempt + 1 >= STORE_OPEN_TRIES)
            goto fail;
        store_close_db(s);
        store_sleep_ms(25 * (attempt + 1));
    }
    *out = s;
    return 0;

fail:
    aml_store_free(s);
    return rc;
}

void aml_store_free(aml_store *s)
{
    if (!s)
        return;
    for (int i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(s->stmts[i]);
    /* Closing rolls back a transaction the caller left open. */
    sqlite3_close_v2(s->db);
    free(s->path);
    free(s);
}

/* ---- transactions ---------------------------------------------------------- */

/*
 * Takes the write lock.  SQLite's busy handler already waits up to the
 * timeout; when another process keeps the lock longer (a slow disk, a
 * large batch), try again a few times rather than lose a run.
 */
int aml_store_begin(aml_store *s)
{
    sqlite3_stmt *st = NULL;
    int rc, step = SQLITE_BUSY;

    if ((rc = store_stmt(s, STMT_BEGIN, &st)) < 0)
        return rc;
    for (int i = 0; i < STORE_BEGIN_TRIES && step == SQLITE_BUSY; i++) {
        step = sqlite3_step(st);
        sqlite3_reset(st);
    }
    return step == SQLITE_DONE ? 0 : store_sqlite_fail(s);
}

int aml_store_commit(aml_store *s)
{
    return store_exec_cached(s, STMT_COMMIT);
}

int aml_store_rollback(aml_store *s)
{
    return store_exec_cached(s, STMT_ROLLBACK);
}

/* ---- studies ---------------------------------------------------------------- */

/* Looks a study up by name (NULL: the newest); *out_id = 0 when there is none. */
static int store_study_lookup(aml_store *s, const char *name, long long *out_id)
{
    const char *sql = name ? "SELECT id FROM study WHERE name = ?1"
                           : "SELECT id FROM study ORDER BY created_at DESC, id DESC"
                             " LIMIT 1";
    sqlite3_stmt *st = NULL;
    int rc = 0, step;

    *out_id = 0;
    if ((rc = store_prepare(s, sql, &st)) < 0)
        return rc;
    if (name)
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *out_id = sqlite3_column_int64(st, 0);
    else if (step != SQLITE_DONE)
        rc = store_sqlite_fail(s);
    sqlite3_finalize(st);
    return rc;
}

int aml_store_study_lookup(aml_store *s, long long *out_id, const char *name)
{
    assert(s && out_id && name);
    return store_study_lookup(s, name, out_id);
}

int aml_store_study_find(aml_store *s, long long *out_id, const char *name)
{
    int rc;

    assert(s && out_id);
    if ((rc = store_study_lookup(s, name, out_id)) < 0)
        return rc;
    if (*out_id != 0)
        return 0;
    if (name)
        return store_fail(s, AML_EINVAL, "no study '%s' in %s", name, s->path);
    return store_fail(s, AML_EINVAL, "no studies in %s", s->path);
}

static int store_study_insert(aml_store *s, long long *out_id, const aml_study_info *info)
{
    static const char sql[] =
        "INSERT INTO study (name, task, metric, greater_is_better, seed, spec_text,"
        " created_at, spec_hash, spec_canonical, updated_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?7)";
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if ((rc = store_prepare(s, sql, &st)) < 0)
        return rc;
    sqlite3_bind_text(st, 1, info->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, info->task, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, info->metric, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, info->greater_is_better != 0);
    /* SQLite integers are signed: seeds >= 2^63 keep their bits, read negative. */
    sqlite3_bind_int64(st, 5, (sqlite3_int64)info->seed);
    sqlite3_bind_text(st, 6, info->spec_text, -1, SQLITE_STATIC); /* NULL binds NULL */
    sqlite3_bind_double(st, 7, store_now());
    sqlite3_bind_text(st, 8, info->spec_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, info->spec_canonical, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_DONE)
        *out_id = sqlite3_last_insert_rowid(s->db);
    else
        rc = store_sqlite_fail(s);
    sqlite3_finalize(st);
    return rc;
}

/* Runs `sql` with ?1 bound to `id`; *changes (may be NULL) gets the row count. */
static int store_exec_id(aml_store *s, const char *sql, long long id, long *changes)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if ((rc = store_prepare(s, sql, &st)) < 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = store_sqlite_fail(s);
    else if (changes)
        *changes = (long)sqlite3_changes(s->db);
    sqlite3_finalize(st);
    return rc;
}

int aml_store_study_create(aml_store *s, long long *out_id, const aml_study_info *info,
                           int replace)
{
    long long old_id = 0, id = 0;
    int rc, own;

    assert(s && out_id && info);
    *out_id = 0;
    if (!info->name || !*info->name || !info->task || !info->metric)
        return store_fail(s, AML_EINVAL, "a study needs a name, a task and a metric");

    if ((rc = store_write_begin(s, &own)) < 0)
        return rc;
    rc = store_study_lookup(s, info->name, &old_id);
    if (rc == 0 && old_id != 0 && !replace)
        rc = store_fail(s, AML_EINVAL,
                        "study '%s' already exists in %s (use --fresh to replace it)",
                        info->name, s->path);
    /* ON DELETE CASCADE removes its trials, parameters and folds. */
    if (rc == 0 && old_id != 0)
        rc = store_exec_id(s, "DELETE FROM study WHERE id = ?1", old_id, NULL);
    if (rc == 0)
        rc = store_study_insert(s, &id, info);
    if ((rc = store_write_end(s, own, rc)) == 0)
        *out_id = id;
    return rc;
}

/* ---- the process running a study ----------------------------------------------- */

static void store_hostname(char *buf, size_t len)
{
    if (gethostname(buf, len) != 0)
        snprintf(buf, len, "?");
    buf[len - 1] = '\0';
}

/*
 * True when `pid` names a live process on this host other than us.  A
 * process on another host cannot be checked: it is taken as gone (a
 * container restarted under a new name would otherwise lock its studies
 * forever).
 */
int store_runner_alive(long long pid, const char *host)
{
    char here[STORE_HOST_MAX];

    if (pid <= 0 || !host || pid == (long long)getpid())
        return 0;
    store_hostname(here, sizeof(here));
    if (strcmp(here, host) != 0)
        return 0;
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Fails when a live process holds the study. */
static int store_check_runner(aml_store *s, long long study_id)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if ((rc = store_prepare(s, "SELECT run_pid, run_host, name FROM study WHERE id = ?1",
                            &st)) < 0)
        return rc;
    sqlite3_bind_int64(st, 1, study_id);
    if (sqlite3_step(st) != SQLITE_ROW)
        rc = store_fail(s, AML_EINVAL, "no study with id %lld in %s", study_id, s->path);
    else if (store_runner_alive(sqlite3_column_int64(st, 0), store_column_text(st, 1)))
        rc = store_fail(s, AML_ESTORE,
                        "study '%s' is being run by process %lld; wait for it, or "
                        "use another study name",
                        store_column_text(st, 2), (long long)sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    return rc;
}

static int store_set_runner(aml_store *s, long long study_id)
{
    static const char sql[] = "UPDATE study SET run_pid = ?2, run_host = ?3,"
                              " stop_reason = NULL, updated_at = ?4 WHERE id = ?1";
    char host[STORE_HOST_MAX];
    sqlite3_stmt *st = NULL;
    int rc;

    store_hostname(host, sizeof(host));
    if ((rc = store_prepare(s, sql, &st)) < 0)
        return rc;
    sqlite3_bind_int64(st, 1, study_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)getpid());
    sqlite3_bind_text(st, 3, host, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 4, store_now());
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = store_sqlite_fail(s);
    sqlite3_finalize(st);
    return rc;
}

int aml_store_study_claim(aml_store *s, long long study_id, long *n_interrupted)
{
    static const char interrupt_sql[] =
        "UPDATE trial SET status = 'interrupted',"
        " message = 'the process running it stopped before it finished'"
        " WHERE study_id = ?1 AND status = 'running'";
    long n = 0;
    int rc;

    assert(s);
    if ((rc = aml_store_begin(s)) < 0)
        return rc;
    rc = store_check_runner(s, study_id);
    if (rc == 0)
        rc = store_set_runner(s, study_id);
    if (rc == 0)
        rc = store_exec_id(s, interrupt_sql, study_id, &n);
    if (rc < 0) {
        store_exec_quiet(s, STMT_ROLLBACK);
        return rc;
    }
    if ((rc = aml_store_commit(s)) == 0 && n_interrupted)
        *n_interrupted = n;
    return rc;
}

int aml_store_study_release(aml_store *s, long long study_id, const char *stop_reason)
{
    static const char sql[] = "UPDATE study SET run_pid = NULL, run_host = NULL,"
                              " stop_reason = ?2, updated_at = ?3 WHERE id = ?1";
    sqlite3_stmt *st = NULL;
    int rc, own;

    assert(s);
    if ((rc = store_write_begin(s, &own)) < 0)
        return rc;
    if ((rc = store_prepare(s, sql, &st)) < 0)
        return store_write_end(s, own, rc);
    sqlite3_bind_int64(st, 1, study_id);
    sqlite3_bind_text(st, 2, stop_reason, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, store_now());
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = store_sqlite_fail(s);
    sqlite3_finalize(st);
    return store_write_end(s, own, rc);
}

/* ---- trials ------------------------------------------------------------------- */

static int store_check_params(aml_store *s, const aml_param *params, size_t n)
{
    if (n > 0 && !params)
        return store_fail(s, AML_EINVAL, "%zu trial parameters but no array", n);
    for (size_t i = 0; i < n; i++) {
        const aml_param *p = &params[i];

        if (!p->name || !*p->name)
            return store_fail(s, AML_EINVAL, "trial parameter %zu has no name", i);
        if (p->value.kind == AML_VAL_STR && !p->value.str)
            return store_fail(s, AML_EINVAL, "trial parameter '%s' has no string",
                              p->name);
        if (p->value.kind != AML_VAL_REAL && p->value.kind != AML_VAL_INT &&
            p->value.kind != AML_VAL_STR)
            return store_fail(s, AML_EINVAL, "trial parameter '%s' has kind %d", p->name,
                              (int)p->value.kind);
    }
    return 0;
}

static int store_insert_param(aml_store *s, long long trial_id, const aml_param *p,
                              size_t position)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if ((rc = store_stmt(s, STMT_PARAM_INSERT, &st)) < 0)
        return rc;
    sqlite3_bind_int64(st, 1, trial_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)position);
    sqlite3_bind_text(st, 3, p->name, -1, SQLITE_STATIC);
    /* Unbound columns (?4..?6 other than the value's own) stay NULL. */
    if (p->value.kind == AML_VAL_REAL && isfinite(p->value.real))
        sqlite3_bind_double(st, 4, p->value.real);
    else if (p->value.kind == AML_VAL_INT)
        sqlite3_bind_int64(st, 5, p->value.i);
    else if (p->value.kind == AML_VAL_STR)
        sqlite3_bind_text(st, 6, p->value.str, -1, SQLITE_STATIC);
    return store_step_done(s, st);
}

/* Inserts the trial row, or restarts an unfinished one of the same number. */
static int store_upsert_trial(aml_store *s, long long *out_id, long long study_id,
                              long number, const char *learner, double t_start)
{
    sqlite3_stmt *st = NULL;
    int rc, step;

    if ((rc = store_stmt(s, STMT_TRIAL_UPSERT, &st)) < 0)
        return rc;
    sqlite3_bind_int64(st, 1, study_id);
    sqlite3_bind_int64(st, 2, number);
    sqlite3_bind_text(st, 3, learner, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 4, t_start);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *out_id = sqlite3_column_int64(st, 0);
        step = sqlite3_step(st);
    }
    if (step != SQLITE_DONE)
        rc = store_sqlite_fail(s);
    else if (*out_id == 0)
        rc =
            store_fail(s, AML_EINVAL, "trial %ld of the study has already finished in %s",
                       number, s->path);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* Deletes the rows of `stmt` (a DELETE ... WHERE trial_id = ?1). */
static int store_delete_children(aml_store *s, enum store_stmt_id id, long long trial_id)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if ((rc = store_stmt(s, id, &st)) < 0)
        return rc;
    sqlite3_bind_int64(st, 1, trial_id);
    return store_step_done(s, st);
}

int aml_store_trial_begin(aml_store *s, long long *out_id, long long study_id,
                          long number, const char *learner, const aml_param *params,
                          size_t n_params, double t_start)
{
    long long id = 0;
    int rc, own;

    assert(s && out_id);
    *out_id = 0;
    if (!learner || !*learner)
        return store_fail(s, AML_EINVAL, "trial %ld has no learner", number);
    if ((rc = store_check_params(s, params, n_params)) < 0)
        return rc;

    if ((rc = store_write_begin(s, &own)) < 0)
        return rc;
    rc = store_upsert_trial(s, &id, study_id, number, learner, t_start);
    /* A re-queued trial starts clean: its old parameters and folds go. */
    if (rc == 0)
        rc = store_delete_children(s, STMT_PARAM_DELETE, id);
    if (rc == 0)
        rc = store_delete_children(s, STMT_FOLD_DELETE, id);
    if (rc == 0)
        rc = store_delete_children(s, STMT_OOF_DELETE, id);
    for (size_t i = 0; rc == 0 && i < n_params; i++)
        rc = store_insert_param(s, id, &params[i], i);
    if ((rc = store_write_end(s, own, rc)) == 0)
        *out_id = id;
    return rc;
}

int aml_store_trial_set_resource(aml_store *s, long long trial_id, double resource)
{
    sqlite3_stmt *st = NULL;
    int rc, own;

    assert(s);
    if ((rc = store_write_begin(s, &own)) < 0)
        return rc;
    if ((rc = store_stmt(s, STMT_TRIAL_RESOURCE, &st)) == 0) {
        sqlite3_bind_int64(st, 1, trial_id);
        /* NULL unless a fraction in (0, 1): the rule of aml_resource_full. */
        if (resource > 0.0 && resource < 1.0)
            sqlite3_bind_double(st, 2, resource);
        rc = store_step_done(s, st);
        if (rc == 0 && sqlite3_changes(s->db) != 1)
            rc = store_fail(s, AML_EINVAL, "no trial with id %lld in %s", trial_id,
                            s->path);
    }
    return store_write_end(s, own, rc);
}

/* Replaces the trial's fold rows; non-finite fold scores become NULL. */
static int store_write_folds(aml_store *s, long long trial_id, const double *scores,
                             size_t k)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if ((rc = store_delete_children(s, STMT_FOLD_DELETE, trial_id)) < 0 ||
        (rc = store_stmt(s, STMT_FOLD_INSERT, &st)) < 0)
        return rc;
    for (size_t f = 0; rc == 0 && f < k; f++) {
        sqlite3_bind_int64(st, 1, trial_id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)f);
        if (isfinite(scores[f]))
            sqlite3_bind_double(st, 3, scores[f]);
        rc = store_step_done(s, st);
    }
    return rc;
}

int aml_store_folds_save(aml_store *s, long long study_id, const int *fold_of,
                         const size_t *lines, size_t n, int repeats)
{
    sqlite3_stmt *del = NULL, *ins = NULL;
    int rc, own;

    if ((rc = store_write_begin(s, &own)) < 0)
        return rc;
    if (sqlite3_prepare_v2(s->db, "DELETE FROM study_fold WHERE study_id = ?1", -1, &del,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db,
                           "INSERT INTO study_fold (study_id, repeat, row, line, fold)"
                           " VALUES (?1, ?2, ?3, ?4, ?5)",
                           -1, &ins, NULL) != SQLITE_OK) {
        rc = store_sqlite_fail(s);
        goto out;
    }
    sqlite3_bind_int64(del, 1, study_id);
    rc = store_step_done(s, del);
    for (int r = 0; rc == 0 && r < repeats; r++) {
        for (size_t i = 0; rc == 0 && i < n; i++) {
            sqlite3_bind_int64(ins, 1, study_id);
            sqlite3_bind_int(ins, 2, r);
            sqlite3_bind_int64(ins, 3, (sqlite3_int64)i);
            sqlite3_bind_int64(ins, 4, (sqlite3_int64)lines[i]);
            sqlite3_bind_int(ins, 5, fold_of[(size_t)r * n + i]);
            rc = store_step_done(s, ins);
        }
    }
out:
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    return store_write_end(s, own, rc);
}

static int store_update_trial(aml_store *s, long long trial_id, aml_trial_status status,
                              double score, const char *message, double t_start,
                              double t_end)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if ((rc = store_stmt(s, STMT_TRIAL_FINISH, &st)) < 0)
        return rc;
    sqlite3_bind_int64(st, 1, trial_id);
    sqlite3_bind_text(st, 2, aml_trial_status_name(status), -1, SQLITE_STATIC);
    if (isfinite(score))
        sqlite3_bind_double(st, 3, score);
    sqlite3_bind_text(st, 4, message, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 5, t_end);
    if (isfinite(t_start)) /* else the time it was recorded as running stays */
        sqlite3_bind_double(st, 6, t_start);
    if ((rc = store_step_done(s, st)) < 0)
        return rc;
    if (sqlite3_changes(s->db) != 1)
        return store_fail(s, AML_EINVAL, "no trial with id %lld in %s", trial_id,
                          s->path);
    return 0;
}

int aml_store_trial_finish(aml_store *s, long long trial_id, aml_trial_status status,
                           double score, const double *fold_scores, size_t k,
                           const char *message, double t_end)
{
    return aml_store_trial_finish_timed(s, trial_id, status, score, fold_scores, k,
                                        message, NAN, t_end);
}

int aml_store_trial_finish_timed(aml_store *s, long long trial_id,
                                 aml_trial_status status, double score,
                                 const double *fold_scores, size_t k, const char *message,
                                 double t_start, double t_end)
{
    int rc, own;

    assert(s);
    if (status == AML_TRIAL_RUNNING)
        return store_fail(s, AML_EINVAL,
                          "a trial can only finish 'ok', 'failed' or 'interrupted'");
    if (k > 0 && !fold_scores)
        return store_fail(s, AML_EINVAL, "%zu fold scores but no array", k);
    if (status == AML_TRIAL_INTERRUPTED) {
        score = NAN; /* an interrupted trial has no result; it runs again */
        k = 0;
    } else if (!isfinite(score)) {
        /* A score that is not a number cannot rank: the trial failed. */
        status = AML_TRIAL_FAILED;
        if (!message)
            message = isnan(score) ? "score is NaN" : "score is infinite";
    }

    if ((rc = store_write_begin(s, &own)) < 0)
        return rc;
    rc = store_update_trial(s, trial_id, status, score, message, t_start, t_end);
    if (rc == 0)
        rc = store_write_folds(s, trial_id, fold_scores, k);
    return store_write_end(s, own, rc);
}

/* ---- out-of-fold predictions ------------------------------------------------------ */

/* Little-endian float64, whatever the host's byte order, so a store moves between hosts.
 */
static void store_put_f64(unsigned char *p, double v)
{
    uint64_t u;

    memcpy(&u, &v, sizeof(u));
    for (int b = 0; b < 8; b++)
        p[b] = (unsigned char)(u >> (8 * b));
}

static double store_get_f64(const unsigned char *p)
{
    uint64_t u = 0;
    double v;

    for (int b = 0; b < 8; b++)
        u |= (uint64_t)p[b] << (8 * b);
    memcpy(&v, &u, sizeof(v));
    return v;
}

int aml_store_oof_save(aml_store *s, long long trial_id, int repeat, int outputs,
                       const double *values, size_t n)
{
    size_t count = n * (size_t)(outputs > 0 ? outputs : 0), bytes;
    unsigned char *blob;
    sqlite3_stmt *st = NULL;
    int rc, own;

    assert(s);
    if (outputs <= 0 || repeat < 0 || (count > 0 && !values) ||
        n > SIZE_MAX / 8 / outputs)
        return store_fail(s, AML_EINVAL, "bad out-of-fold predictions (%zu x %d)", n,
                          outputs);
    bytes = count * 8;
    if (bytes > INT_MAX)
        return store_fail(s, AML_EINVAL, "%zu bytes of out-of-fold predictions: too many",
                          bytes);
    if (!(blob = aml_malloc(bytes ? bytes : 1)))
        return AML_ENOMEM;
    for (size_t i = 0; i < count; i++)
        store_put_f64(blob + 8 * i, values[i]);
    if ((rc = store_write_begin(s, &own)) < 0)
        goto out;
    if ((rc = store_stmt(s, STMT_OOF_UPSERT, &st)) == 0) {
        sqlite3_bind_int64(st, 1, trial_id);
        sqlite3_bind_int(st, 2, repeat);
        sqlite3_bind_int(st, 3, outputs);
        /* A zero-length blob, not NULL, for zero rows (the column is NOT NULL). */
        sqlite3_bind_blob(st, 4, blob, (int)bytes, SQLITE_STATIC);
        rc = store_step_done(s, st);
    }
    rc = store_write_end(s, own, rc);
out:
    free(blob);
    return rc;
}

/* Decodes a trial_oof row (outputs, data) into a malloc'd array. */
static int store_oof_decode(aml_store *s, sqlite3_stmt *st, double **values, size_t *n,
                            int *outputs)
{
    const unsigned char *blob = sqlite3_column_blob(st, 1);
    size_t bytes = (size_t)sqlite3_column_bytes(st, 1);
    long long outs = sqlite3_column_int64(st, 0);
    size_t count = bytes / 8;

    if (outs <= 0 || outs > INT_MAX || bytes % 8 != 0 || count % (size_t)outs != 0)
        return store_fail(s, AML_ESTORE,
                          "%s: out-of-fold predictions of %zu bytes do not hold rows "
                          "of %lld outputs",
                          s->path, bytes, outs);
    if (!(*values = aml_mallocarray(count ? count : 1, sizeof(double))))
        return AML_ENOMEM;
    for (size_t i = 0; i < count; i++)
        (*values)[i] = store_get_f64(blob + 8 * i);
    *n = count / (size_t)outs;
    *outputs = (int)outs;
    return 0;
}

int aml_store_oof_load(aml_store *s, long long trial_id, int repeat, double **values,
                       size_t *n, int *outputs)
{
    sqlite3_stmt *st = NULL;
    int rc, step;

    assert(s && values && n && outputs);
    *values = NULL;
    *n = 0;
    *outputs = 0;
    if ((rc = store_prepare(s,
                            "SELECT outputs, data FROM trial_oof"
                            " WHERE trial_id = ?1 AND repeat = ?2",
                            &st)) < 0)
        return rc;
    sqlite3_bind_int64(st, 1, trial_id);
    sqlite3_bind_int(st, 2, repeat);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        rc = store_oof_decode(s, st, values, n, outputs);
    else if (step == SQLITE_DONE)
        rc = store_fail(s, AML_EINVAL,
                        "trial %lld has no out-of-fold predictions for repeat %d in %s",
                        trial_id, repeat, s->path);
    else
        rc = store_sqlite_fail(s);
    sqlite3_finalize(st);
    return rc;
}
