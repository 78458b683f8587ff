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

static int cv_group_rows(aml_cv *cv, size_t n)
{
    size_t *fill;
    size_t i;
    int f;

    cv->rows = aml_mallocarray(n, sizeof(*cv->rows));
    cv->start = aml_calloc((size_t)cv->k + 1, sizeof(*cv->start));
    fill = aml_calloc((size_t)cv->k, sizeof(*fill));
    if (!cv->rows || !cv->start || !fill) {
        free(fill);
        return AML_ENOMEM;
    }
    for (i = 0; i < n; i++)
        cv->start[cv->fold_of[i] + 1]++;
    for (f = 0; f < cv->k; f++)
        cv->start[f + 1] += cv->start[f];
    for (i = 0; i < n; i++) {
        int fo = cv->fold_of[i];

        cv->rows[cv->start[fo] + fill[fo]++] = i;
    }
    free(fill);
    return AML_OK;
}

int aml_cv_init(aml_cv *cv, const aml_dataset *d, const aml_space *s, const aml_metric *m,
                int k, int stratified, uint64_t cv_seed, uint64_t seed)
{
    int strat = stratified && d->task == AML_TASK_CLASSIFICATION;
    int rc;

    memset(cv, 0, sizeof(*cv));
    cv->data = d;
    cv->space = s;
    cv->metric = m;
    cv->k = k;
    cv->seed = seed;
    cv->fold_of = aml_mallocarray(d->n, sizeof(*cv->fold_of));
    if (!cv->fold_of)
        return AML_ENOMEM;
    rc = aml_folds_assign(cv->fold_of, d->n, k, strat, d->y, d->n_classes, cv_seed);
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

/* Training rows of `fold`: every row outside it, in row order of the groups. */
static size_t *cv_train_rows(const aml_cv *cv, int fold, size_t *n_out)
{
    size_t n = cv->data->n - (cv->start[fold + 1] - cv->start[fold]);
    size_t *rows = aml_mallocarray(n ? n : 1, sizeof(*rows));
    size_t i, m = 0;

    if (!rows)
        return NULL;
    for (i = 0; i < cv->data->n; i++)
        if (cv->fold_of[i] != fold)
            rows[m++] = i;
    *n_out = m;
    return rows;
}

static int cv_score_fold(const aml_cv *cv, const aml_pipeline *p, int fold, double *score)
{
    const size_t *valid = cv->rows + cv->start[fold];
    size_t nv = cv->start[fold + 1] - cv->start[fold];
    size_t outs = (size_t)aml_pipeline_outputs(p);
    double *pred = aml_mallocarray(nv * outs, sizeof(*pred));
    double *y = aml_mallocarray(nv, sizeof(*y));
    size_t i;
    int rc = AML_ENOMEM;

    if (pred && y && (rc = aml_pipeline_predict(p, cv->data->features, valid, nv, pred)) == 0) {
        for (i = 0; i < nv; i++)
            y[i] = cv->data->y[valid[i]];
        *score = cv->metric->score(y, pred, nv, cv->data->n_classes);
    }
    free(pred);
    free(y);
    return rc;
}

int aml_cv_fold(const aml_cv *cv, const aml_config *c, long trial, int fold, double *score,
                char *msg, size_t msglen)
{
    aml_pipeline p = {0};
    aml_rng trial_rng, rng;
    size_t *train, n_train = 0;
    int rc;

    *score = NAN;
    aml_rng_init(&trial_rng, cv->seed, (uint64_t)trial);
    aml_rng_child(&rng, &trial_rng, (uint64_t)fold);
    aml_error_clear();

    train = cv_train_rows(cv, fold, &n_train);
    if (!train)
        rc = AML_ENOMEM;
    else if ((rc = aml_pipeline_fit(&p, cv->data, cv->space, c, train, n_train, &rng, 1)) == 0)
        rc = cv_score_fold(cv, &p, fold, score);

    if (rc < 0)
        snprintf(msg, msglen, "fold %d: %s", fold + 1, aml_error_message());
    aml_pipeline_dispose(&p);
    free(train);
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
