/*
 * trial.c - cross-validated evaluation of one configuration (see trial.h).
 */
#include "trial.h"
#include "aml.h"
#include "folds.h"
#include "pipeline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

double aml_now(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

/* The fold assignment of repeat r: n ints. */
static const int *cv_repeat_folds(const aml_cv *cv, int split, int *fold)
{
    *fold = split % cv->per_repeat;
    return cv->fold_of + (size_t)(split / cv->per_repeat) * cv->data->n;
}

/* Gathers the validation rows of every split into cv->rows / cv->start. */
static int cv_group_rows(aml_cv *cv, size_t n)
{
    size_t i, total = 0, m = 0;
    int s, f;

    for (s = 0; s < cv->k; s++) {
        const int *fo = cv_repeat_folds(cv, s, &f);

        for (i = 0; i < n; i++)
            total += fo[i] == f;
    }
    cv->rows = aml_mallocarray(total ? total : 1, sizeof(*cv->rows));
    cv->start = aml_calloc((size_t)cv->k + 1, sizeof(*cv->start));
    if (!cv->rows || !cv->start)
        return AML_ENOMEM;
    for (s = 0; s < cv->k; s++) {
        const int *fo = cv_repeat_folds(cv, s, &f);

        for (i = 0; i < n; i++)
            if (fo[i] == f)
                cv->rows[m++] = i;
        cv->start[s + 1] = m;
    }
    return AML_OK;
}

/* Fills cv->fold_of for the data set's plan; sets k and per_repeat. */
static int cv_assign_plan(aml_cv *cv, const aml_dataset *d, int k, int strat,
                          uint64_t cv_seed)
{
    int r, rc = AML_OK;

    cv->per_repeat = k;
    switch (d->cv_kind) {
    case AML_CV_REPEATED:
        cv->k = k * d->cv_repeats;
        for (r = 0; rc == 0 && r < d->cv_repeats; r++)
            rc = aml_folds_assign(cv->fold_of + (size_t)r * d->n, d->n, k, strat, d->y,
                                  d->n_classes, cv_seed + (uint64_t)r);
        return rc;
    case AML_CV_GROUP:
        if (!d->cv_group)
            return aml_error_set(AML_EINVAL, "group folds need the cv.group column");
        return aml_folds_group(cv->fold_of, d->n, k, d->cv_group);
    case AML_CV_TIME_SERIES:
        if (!d->cv_order)
            return aml_error_set(AML_EINVAL,
                                 "time-series folds need the cv.order column");
        cv->time_series = 1;
        return aml_folds_time_series(cv->fold_of, d->n, k, d->cv_order);
    case AML_CV_HOLDOUT:
        cv->k = cv->per_repeat = 1;
        return aml_folds_holdout(cv->fold_of, d->n, d->cv_fraction, strat, d->y,
                                 d->n_classes, cv_seed);
    case AML_CV_KFOLD:
        strat = 0;
        /* fall through */
    default:
        return aml_folds_assign(cv->fold_of, d->n, k, strat, d->y, d->n_classes, cv_seed);
    }
}

int aml_cv_init(aml_cv *cv, const aml_dataset *d, const aml_space *s, const aml_metric *m,
                int k, int stratified, uint64_t cv_seed, uint64_t seed)
{
    int strat = stratified && d->task == AML_TASK_CLASSIFICATION;
    int repeats = d->cv_kind == AML_CV_REPEATED && d->cv_repeats > 1 ? d->cv_repeats : 1;
    int rc;

    memset(cv, 0, sizeof(*cv));
    cv->data = d;
    cv->space = s;
    cv->metric = m;
    cv->k = k;
    cv->seed = seed;
    if (d->cv_kind == AML_CV_STRATIFIED)
        strat = d->task == AML_TASK_CLASSIFICATION;
    cv->fold_of = aml_mallocarray(d->n * (size_t)repeats, sizeof(*cv->fold_of));
    if (!cv->fold_of)
        return AML_ENOMEM;
    rc = cv_assign_plan(cv, d, k, strat, cv_seed);
    if (rc == AML_OK)
        rc = cv_group_rows(cv, d->n);
    if (rc < 0)
        aml_cv_dispose(cv);
    return rc;
}

void aml_cv_dispose(aml_cv *cv)
{
    if (!cv)
        return;
    free(cv->fold_of);
    free(cv->rows);
    free(cv->start);
    memset(cv, 0, sizeof(*cv));
}

/* Training rows of split `split`: see trial.h. */
static size_t *cv_train_rows(const aml_cv *cv, int split, size_t *n_out)
{
    int f;
    const int *fo = cv_repeat_folds(cv, split, &f);
    size_t *rows = aml_mallocarray(cv->data->n ? cv->data->n : 1, sizeof(*rows));
    size_t i, m = 0;

    if (!rows)
        return NULL;
    for (i = 0; i < cv->data->n; i++)
        if (cv->time_series ? fo[i] < f : fo[i] != f)
            rows[m++] = i;
    *n_out = m;
    return rows;
}

int aml_cv_outputs(const aml_cv *cv)
{
    return cv->data->task == AML_TASK_CLASSIFICATION ? cv->data->n_classes : 1;
}

int aml_cv_repeats(const aml_cv *cv)
{
    return cv->per_repeat > 0 && cv->k / cv->per_repeat > 0 ? cv->k / cv->per_repeat : 1;
}

size_t aml_cv_oof_size(const aml_cv *cv)
{
    return cv->data->n * (size_t)aml_cv_outputs(cv) * (size_t)aml_cv_repeats(cv);
}

/* Copies the validation predictions of split `fold` into their rows of oof. */
static void cv_store_oof(const aml_cv *cv, int fold, const double *pred, size_t outs,
                         double *oof)
{
    const size_t *valid = cv->rows + cv->start[fold];
    size_t nv = cv->start[fold + 1] - cv->start[fold];
    double *block = oof + (size_t)(fold / cv->per_repeat) * cv->data->n * outs;

    for (size_t i = 0; i < nv; i++)
        memcpy(block + valid[i] * outs, pred + i * outs, outs * sizeof(*pred));
}

static int cv_score_fold(const aml_cv *cv, const aml_pipeline *p, int fold, double *score,
                         double *oof)
{
    const size_t *valid = cv->rows + cv->start[fold];
    size_t nv = cv->start[fold + 1] - cv->start[fold];
    size_t outs = (size_t)aml_pipeline_outputs(p);
    double *pred = aml_mallocarray(nv * outs, sizeof(*pred));
    double *y = aml_mallocarray(nv, sizeof(*y));
    size_t i;
    int rc = AML_ENOMEM;

    /* The OOF matrix's shape is fixed before any fit (aml_cv_outputs). */
    if (oof && outs != (size_t)aml_cv_outputs(cv))
        rc = aml_error_set(AML_EINVAL, "the pipeline predicts %zu outputs, not %d", outs,
                           aml_cv_outputs(cv));
    else if (pred && y &&
             (rc = aml_pipeline_predict(p, cv->data->features, valid, nv, pred)) == 0) {
        for (i = 0; i < nv; i++)
            y[i] = cv->data->y[valid[i]];
        *score = cv->metric->score(y, pred, nv, cv->data->n_classes);
        if (oof)
            cv_store_oof(cv, fold, pred, outs, oof);
    }
    free(pred);
    free(y);
    return rc;
}

int aml_cv_fold(const aml_cv *cv, const aml_config *c, long trial, int fold,
                double *score, char *msg, size_t msglen)
{
    return aml_cv_fold_oof(cv, c, trial, fold, score, msg, msglen, NULL);
}

int aml_cv_fit_split(const aml_cv *cv, const aml_config *c, long trial, int fold,
                     int threads, aml_pipeline *p)
{
    aml_rng trial_rng, rng;
    size_t *train, n_train = 0;
    int rc;

    aml_rng_init(&trial_rng, cv->seed, (uint64_t)trial);
    aml_rng_child(&rng, &trial_rng, (uint64_t)fold);
    if (!(train = cv_train_rows(cv, fold, &n_train)))
        return AML_ENOMEM;
    rc = aml_pipeline_fit(p, cv->data, cv->space, c, train, n_train, &rng, threads);
    free(train);
    return rc;
}

int aml_cv_fold_oof(const aml_cv *cv, const aml_config *c, long trial, int fold,
                    double *score, char *msg, size_t msglen, double *oof)
{
    aml_pipeline p = {0};
    int rc;

    *score = NAN;
    aml_error_clear();
    if ((rc = aml_cv_fit_split(cv, c, trial, fold, 1, &p)) == 0)
        rc = cv_score_fold(cv, &p, fold, score, oof);
    if (rc < 0)
        snprintf(msg, msglen, "fold %d: %s", fold + 1, aml_error_message());
    aml_pipeline_dispose(&p);
    return rc;
}

int aml_trial_result_init(aml_trial_result *r, long number, aml_config *config, int k)
{
    memset(r, 0, sizeof(*r));
    r->number = number;
    r->k = k;
    r->failed_fold = -1;
    r->status = AML_TRIAL_RUNNING;
    r->score = NAN;
    r->fold_scores = aml_mallocarray((size_t)k, sizeof(double));
    if (!r->fold_scores)
        return AML_ENOMEM;
    for (int f = 0; f < k; f++)
        r->fold_scores[f] = NAN; /* a fold that never ran has no score */
    r->config = *config;
    memset(config, 0, sizeof(*config));
    return AML_OK;
}

void aml_trial_result_dispose(aml_trial_result *r)
{
    if (!r)
        return;
    aml_config_dispose(&r->config);
    free(r->fold_scores);
    memset(r, 0, sizeof(*r));
}

void aml_trial_result_finish(aml_trial_result *r)
{
    double sum = 0.0;
    int f;

    if (r->failed_fold >= 0) {
        r->status = AML_TRIAL_FAILED;
        r->score = NAN;
        return;
    }
    for (f = 0; f < r->k; f++)
        sum += r->fold_scores[f];
    r->score = sum / r->k;
    if (isfinite(r->score)) {
        r->status = AML_TRIAL_OK;
        return;
    }
    r->status = AML_TRIAL_FAILED;
    for (f = 0; f < r->k && isfinite(r->fold_scores[f]); f++)
        ;
    snprintf(r->message, sizeof(r->message), "fold %d: score is %s", f + 1,
             isnan(r->score) ? "NaN" : "infinite");
}

int aml_trial_evaluate(const aml_cv *cv, aml_trial_result *r)
{
    int f;

    r->t_start = aml_now();
    for (f = 0; f < cv->k; f++) {
        if (aml_cv_fold(cv, &r->config, r->number, f, &r->fold_scores[f], r->message,
                        sizeof(r->message)) < 0) {
            r->failed_fold = f;
            break;
        }
    }
    r->t_end = aml_now();
    aml_trial_result_finish(r);
    return AML_OK;
}
