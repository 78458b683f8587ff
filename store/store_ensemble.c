/*
 * store_ensemble.c - schema 5 writes: the ensemble a study ended with, and
 * the spec a run read.
 *
 * One row per study in table `ensemble`, replaced whenever the ensemble
 * stage runs again (automl run at the end of a search, or a resumed one),
 * so a reader always sees the last model built.  Members are kept as JSON
 * so plain sqlite3 users can read them with json_each.
 */
#include "aml.h"
#include "store.h"
#include "store_internal.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* [{"trial":N,"weight":W},...]; a NaN weight (stacking members) is null. */
static char *ensemble_members_json(const long *trials, const double *weights, size_t n)
{
    size_t cap = 2 + n * 64, used = 0;
    char *buf = aml_malloc(cap);

    if (!buf)
        return NULL;
    used += (size_t)snprintf(buf + used, cap - used, "[");
    for (size_t i = 0; i < n; i++) {
        const char *sep = i ? "," : "";

        if (weights && isfinite(weights[i]))
            used += (size_t)snprintf(buf + used, cap - used,
                                     "%s{\"trial\":%ld,\"weight\":%.17g}", sep, trials[i],
                                     weights[i]);
        else
            used += (size_t)snprintf(buf + used, cap - used,
                                     "%s{\"trial\":%ld,\"weight\":null}", sep, trials[i]);
    }
    snprintf(buf + used, cap - used, "]");
    return buf;
}

static void bind_real_or_null(sqlite3_stmt *st, int i, double v)
{
    if (isfinite(v))
        sqlite3_bind_double(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

int aml_store_ensemble_save(aml_store *s, long long study_id, const aml_ensemble_row *e)
{
    sqlite3_stmt *st = NULL;
    char *json;
    int rc, own;

    assert(s && e && e->method);
    if (!(json =
              ensemble_members_json(e->member_trials, e->member_weights, e->n_members)))
        return AML_ENOMEM;
    if ((rc = store_write_begin(s, &own)) < 0)
        goto out;
    rc = store_prepare(s,
                       "INSERT OR REPLACE INTO ensemble (study_id, method, score,"
                       " best_trial_score, members, created_at)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                       &st);
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, study_id);
        sqlite3_bind_text(st, 2, e->method, -1, SQLITE_STATIC);
        bind_real_or_null(st, 3, e->score);
        bind_real_or_null(st, 4, e->best_trial_score);
        sqlite3_bind_text(st, 5, json, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 6, e->created_at);
        rc = store_step_done(s, st);
        sqlite3_finalize(st);
    }
    rc = store_write_end(s, own, rc);
out:
    free(json);
    return rc;
}

static double column_real(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

int aml_store_ensemble_read(aml_store *s, long long study_id, aml_ensemble_read_cb cb,
                            void *payload)
{
    sqlite3_stmt *st = NULL;
    aml_ensemble_info info;
    int rc, step;

    assert(s && cb);
    if ((rc = store_prepare(s,
                            "SELECT method, score, best_trial_score, members, created_at"
                            " FROM ensemble WHERE study_id = ?1",
                            &st)) < 0)
        return rc;
    sqlite3_bind_int64(st, 1, study_id);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        info.method = (const char *)sqlite3_column_text(st, 0);
        info.score = column_real(st, 1);
        info.best_trial_score = column_real(st, 2);
        info.members_json = (const char *)sqlite3_column_text(st, 3);
        info.created_at = sqlite3_column_double(st, 4);
        rc = cb(&info, payload);
    } else if (step != SQLITE_DONE) {
        rc = store_sqlite_fail(s);
    }
    sqlite3_finalize(st);
    return rc;
}

int aml_store_study_set_spec(aml_store *s, long long study_id, const char *path,
                             const char *text)
{
    sqlite3_stmt *st = NULL;
    int rc, own;

    assert(s && path);
    if ((rc = store_write_begin(s, &own)) < 0)
        return rc;
    rc = store_prepare(s,
                       "UPDATE study SET spec_path = ?2, spec_text = coalesce(?3, spec_text)"
                       " WHERE id = ?1",
                       &st);
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, study_id);
        sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
        rc = store_step_done(s, st);
        sqlite3_finalize(st);
    }
    return store_write_end(s, own, rc);
}
