/*
 * store.h - the SQLite trials store.
 *
 * One database file holds many studies.  A study has a name, its spec text,
 * the metric and its direction and the task; each trial records its number,
 * learner, parameters (one row per parameter in trial_param, so plain
 * sqlite3 users can query them; a view renders them as JSON), per-fold and
 * mean scores, status (running / ok / failed / interrupted) with the reason, and
 * start and end times.  The schema is documented in docs/schema.md.
 *
 * Resume.  A study remembers the canonical text of the search it runs
 * (spec_canonical, and its hash) so a later run can refuse a changed
 * search, and which process is running it (run_pid, run_host), so a new
 * run can tell a dead owner from a live one.  aml_store_study_claim() marks
 * the trials a dead process left `running` as `interrupted`; beginning the
 * same trial number again re-queues that row.
 *
 * Threads and processes: a store handle belongs to one thread.  The
 * runner evaluates trials on many threads but writes results from the
 * thread that owns the store, one short transaction per batch.  Other
 * processes may read (WAL) and write other studies at the same time:
 * writers take the lock with BEGIN IMMEDIATE, wait for it (busy timeout)
 * and retry a few times before giving up.
 *
 * Scores: a NaN or infinite score is stored as NULL with the trial marked
 * failed; NULL is never read back as 0.0 and never ranks as best.
 */
#ifndef AML_STORE_H
#define AML_STORE_H

#include <stddef.h>

#include "value.h"

typedef struct aml_store aml_store;

typedef enum aml_trial_status {
    AML_TRIAL_RUNNING = 0,
    AML_TRIAL_OK = 1,
    AML_TRIAL_FAILED = 2,
    AML_TRIAL_INTERRUPTED = 3, /* its process stopped or died; re-run on resume */
} aml_trial_status;

/* Status as stored and shown: "running", "ok", "failed", "interrupted". */
const char *aml_trial_status_name(aml_trial_status s);

/*
 * Opens (creating when absent, unless readonly) the database at path and
 * makes sure the schema exists.  *out is freed with aml_store_free().
 * Failures return AML_ESTORE or AML_EIO with a message naming the file.
 */
int aml_store_open(aml_store **out, const char *path, int readonly);
void aml_store_free(aml_store *s);

typedef struct aml_study_info {
    const char *name;
    const char *spec_text; /* may be NULL */
    const char *task;      /* "classification" | "regression" */
    const char *metric;
    int greater_is_better;
    unsigned long long seed;
    /* Schema 2; may be NULL.  The canonical text of everything that decides
     * the trials' results (see cli/cmd_run.c) and its hash, compared on resume. */
    const char *spec_hash;
    const char *spec_canonical;
} aml_study_info;

/*
 * Creates a study and returns its id.  When a study of that name exists:
 * with replace = 0 fails with AML_EINVAL ("study 'x' already exists"),
 * with replace = 1 deletes it and its trials first.
 */
int aml_store_study_create(aml_store *s, long long *out_id, const aml_study_info *info,
                           int replace);
/*
 * Schema 5.  Records the spec a run read (absolute path and full text), so
 * that `automl export` can later read the same data and options again.
 */
int aml_store_study_set_spec(aml_store *s, long long study_id, const char *path,
                             const char *text);
/* Finds a study by name (NULL name: the only study, or the newest one). */
int aml_store_study_find(aml_store *s, long long *out_id, const char *name);
/* Like aml_store_study_find with a name, but a missing study is *out_id = 0, not an
 * error. */
int aml_store_study_lookup(aml_store *s, long long *out_id, const char *name);

/*
 * Takes a study for this process before a run: fails with AML_ESTORE when
 * another live process on this host is running it; otherwise records this
 * process as its runner, clears its stop reason and marks the trials left
 * `running` (by a process that died) `interrupted`; *n_interrupted (may be
 * NULL) says how many.  One transaction.
 */
int aml_store_study_claim(aml_store *s, long long study_id, long *n_interrupted);
/* Ends a run: stores why it stopped (a short word, e.g. "budget") and
 * clears the runner. */
int aml_store_study_release(aml_store *s, long long study_id, const char *stop_reason);

/* Transactions around a batch of writes. */
int aml_store_begin(aml_store *s);
int aml_store_commit(aml_store *s);
int aml_store_rollback(aml_store *s);

/*
 * Records a trial as running; returns its row id in *out_id.  A trial of
 * that number left `running` or `interrupted` is re-queued: the same row
 * restarts with the new parameters.  A finished one is AML_EINVAL.
 */
int aml_store_trial_begin(aml_store *s, long long *out_id, long long study_id,
                          long number, const char *learner, const aml_param *params,
                          size_t n_params, double t_start);
/*
 * Schema 5.  Records the resource a begun trial is evaluated with (a
 * fraction of the full budget in (0, 1), successive halving); anything
 * else stores NULL, a full evaluation, which is also what
 * aml_store_trial_begin leaves (and a re-queue resets).
 */
int aml_store_trial_set_resource(aml_store *s, long long trial_id, double resource);
/*
 * Records the end of a trial: status, mean score (NaN/inf: stored NULL and
 * forced failed), fold scores (k values, may include NaN), failure message
 * (may be NULL), end time.  Status AML_TRIAL_INTERRUPTED stores no score.
 */
int aml_store_trial_finish(aml_store *s, long long trial_id, aml_trial_status status,
                           double score, const double *fold_scores, size_t k,
                           const char *message, double t_end);
/*
 * The same, also recording when the trial really started (t_start), which
 * for a batch evaluated in parallel is later than the time it was recorded
 * as running; NaN keeps the recorded time.
 */
int aml_store_trial_finish_timed(aml_store *s, long long trial_id,
                                 aml_trial_status status, double score,
                                 const double *fold_scores, size_t k, const char *message,
                                 double t_start, double t_end);

/*
 * Stores a study's fold assignment (replacing any stored before): for each
 * repeat r and data row i, fold_of[r * n + i], with the row's line in the
 * CSV file (lines[i]).  Rows are those the run used (rows with a missing
 * target are not counted).
 */
int aml_store_folds_save(aml_store *s, long long study_id, const int *fold_of,
                         const size_t *lines, size_t n, int repeats);

/*
 * Schema 4.  Out-of-fold predictions of a trial for one repeat of the CV
 * plan: n x outputs values in row order (row = study_fold's row), stored as
 * little-endian float64 (NaN where no split validated the row), replacing
 * any stored for that (trial, repeat).  The runner saves them for ok trials
 * only, in the transaction that finishes the trial; re-queueing a trial
 * (aml_store_trial_begin) deletes them.
 */
int aml_store_oof_save(aml_store *s, long long trial_id, int repeat, int outputs,
                       const double *values, size_t n);
/*
 * Reads them back: *values (malloc'd, caller frees) gets n x outputs
 * doubles.  AML_EINVAL when the trial has none for that repeat.
 */
int aml_store_oof_load(aml_store *s, long long trial_id, int repeat, double **values,
                       size_t *n, int *outputs);

/*
 * Schema 5.  The ensemble a study ended with: the method, its honest
 * cross-validated score beside the best single trial's, and the members
 * (trial numbers and weights; NaN weight for stacking, whose weights are a
 * meta-learner).  Saving replaces the study's previous row.
 */
typedef struct aml_ensemble_row {
    const char *method;
    double score, best_trial_score; /* NaN stored as NULL */
    const long *member_trials;
    const double *member_weights; /* may be NULL: all NULL */
    size_t n_members;
    double created_at; /* unix seconds */
    /*
     * When the spec's method lost to the best single trial (both estimated
     * honestly) and the model is that trial alone: the method and its
     * score; NULL / NaN otherwise.  single_score: the honest score of
     * choosing the best single trial the same way, whether the ensemble was
     * kept or not (NaN when not estimated: method none, fallback off).
     */
    const char *fallback_from;
    double fallback_score, single_score;
} aml_ensemble_row;
int aml_store_ensemble_save(aml_store *s, long long study_id, const aml_ensemble_row *e);

/* As read back; strings borrowed for the callback. */
typedef struct aml_ensemble_info {
    const char *method;
    double score, best_trial_score; /* NaN when NULL */
    const char *members_json;       /* [{"trial":3,"weight":0.5},...] */
    double created_at;
    const char *fallback_from; /* NULL unless the method lost to the best trial */
    double fallback_score, single_score;
} aml_ensemble_info;
typedef int (*aml_ensemble_read_cb)(const aml_ensemble_info *e, void *payload);
/* Calls cb once when the study has an ensemble, not at all otherwise. */
int aml_store_ensemble_read(aml_store *s, long long study_id, aml_ensemble_read_cb cb,
                            void *payload);

/* One trial as read back.  Strings are borrowed for the duration of the callback. */
typedef struct aml_trial_row {
    long number;
    const char *learner;
    const char *params_json; /* {"C":0.5,"kernel":"rbf"}, as SQLite's JSON1 writes it */
    aml_trial_status status;
    int has_score; /* 0 when the score is NULL */
    double score;
    const char *fold_scores_json; /* [0.9, 0.85, ...] or NULL */
    const char *message;          /* NULL unless failed */
    double t_start, t_end;        /* unix seconds; t_end is NaN while running */
    double resource;              /* schema 5: fraction of the budget; NaN = full */
} aml_trial_row;

typedef struct aml_trial_query {
    const char *study;   /* NULL: as aml_store_study_find(NULL) */
    long top;            /* 0: all trials */
    int ranked;          /* 1: best first (ok trials by resource, full first,
                            then score; then the rest); 0: by trial number */
    const char *status;  /* NULL, or only trials of this status name */
    const char *learner; /* NULL, or only trials of this learner */
} aml_trial_query;

typedef int (*aml_trial_cb)(const aml_trial_row *row, void *payload);

/*
 * Calls cb for each matching trial; a non-zero return from cb stops the
 * walk and is returned.  Ranking uses the study's metric direction.
 */
int aml_store_trials(aml_store *s, const aml_trial_query *q, aml_trial_cb cb,
                     void *payload);

/*
 * Every finished or pending trial of a study in trial-number order, with
 * typed parameters and fold scores (for resuming a run and for reports).
 * Everything is borrowed for the duration of the callback.
 */
typedef struct aml_trial_record {
    long long id;
    long number;
    const char *learner;
    aml_trial_status status;
    double score; /* NaN when NULL */
    const aml_param *params;
    size_t n_params;
    const double *fold_scores; /* NaN where NULL */
    size_t k;
    const char *message;
    double t_start, t_end;
    double resource; /* schema 5: fraction of the budget; NaN = full (NULL) */
} aml_trial_record;

typedef int (*aml_trial_record_cb)(const aml_trial_record *r, void *payload);
int aml_store_trial_records(aml_store *s, long long study_id, aml_trial_record_cb cb,
                            void *payload);

typedef struct aml_study_row {
    long long id;
    const char *name, *task, *metric;
    int greater_is_better;
    long n_trials, n_ok;
    int has_best;
    double best;
    /* Schema 2. */
    long n_failed, n_running, n_interrupted;
    const char *spec_text, *spec_hash, *spec_canonical; /* may be NULL */
    const char *stop_reason; /* NULL while running or never stopped cleanly */
    long long run_pid;       /* 0 when no process holds it */
    const char *run_host;
    int run_alive; /* run_pid is a live process on this host */
    unsigned long long seed;
    double created_at, updated_at; /* updated_at NaN when never */
    const char *spec_path;         /* schema 5: absolute path of the spec; may be NULL */
} aml_study_row;

typedef int (*aml_study_cb)(const aml_study_row *row, void *payload);
int aml_store_studies(aml_store *s, aml_study_cb cb, void *payload);
/* One study by id. */
int aml_store_study_read(aml_store *s, long long study_id, aml_study_cb cb,
                         void *payload);

/*
 * Text exports produced by SQLite itself (json_object/json_group_array;
 * CSV cells quoted in SQL with replace()), so no escaping happens in C.
 * cb receives each piece in order: for CSV the header then one line per
 * row (without the newline); for JSON one document.  AML_STORE_JSON_ONE is
 * the first row as a JSON object, or `null` when there is none.
 */
typedef enum aml_store_format {
    AML_STORE_CSV = 0,
    AML_STORE_JSON = 1,
    AML_STORE_JSON_ONE = 2,
} aml_store_format;

typedef int (*aml_text_cb)(const char *text, void *payload);
int aml_store_export_trials(aml_store *s, const aml_trial_query *q, aml_store_format fmt,
                            aml_text_cb cb, void *payload);
int aml_store_export_studies(aml_store *s, aml_store_format fmt, aml_text_cb cb,
                             void *payload);

/* The last SQLite or store message (same as aml_error_message() after a failure). */
const char *aml_store_errmsg(const aml_store *s);

#endif
