/*
 * trial.h - one trial: a configuration scored by k-fold cross-validation.
 *
 * aml_cv holds what every trial of a run shares and only reads: the data
 * set, the space, the metric and the fold assignment (computed once, so all
 * trials are scored on the same folds).  The unit of work is one fold of
 * one trial (aml_cv_fold), so the runner can spread trials x folds over
 * threads; each fold fits with its own generator derived from (search
 * seed, trial number, fold), which makes a score independent of the thread
 * that computed it.
 *
 * A plan is a list of splits (cv->k of them, the "folds" the runner
 * evaluates): k-fold plans have one split per fold, repeated plans
 * repeats x folds, holdout one.  Split s is fold s % per_repeat of repeat
 * s / per_repeat; its validation rows are those whose fold_of is that
 * fold, its training rows the others, or for a time-series plan only the
 * rows of earlier folds (fold_of -1 marks rows that only ever train).
 */
#ifndef AML_TRIAL_H
#define AML_TRIAL_H

#include "dataset.h"
#include "metric.h"
#include "pipeline.h"
#include "space.h"
#include "store.h"

typedef struct aml_cv {
    const aml_dataset *data; /* borrowed */
    const aml_space *space;  /* borrowed */
    const aml_metric *metric;
    int k;           /* splits */
    uint64_t seed;   /* search seed: trial generators derive from it */
    int *fold_of;    /* owned: fold of each row, per repeat (n x repeats) */
    size_t *rows;    /* owned: validation row indices grouped by split */
    size_t *start;   /* owned: k + 1 offsets into rows */
    int per_repeat;  /* folds per repeat */
    int time_series; /* training rows are the earlier folds only */
} aml_cv;

/*
 * Assigns folds.  When d->cv_kind is AML_CV_AUTO, k-fold, stratified only
 * for classification when `stratified` is set; otherwise the data set's
 * plan (kind, repeats, fraction, groups, order) with k folds.  Dispose
 * with aml_cv_dispose.
 */
int aml_cv_init(aml_cv *cv, const aml_dataset *d, const aml_space *s, const aml_metric *m,
                int k, int stratified, uint64_t cv_seed, uint64_t seed);
void aml_cv_dispose(aml_cv *cv);

/*
 * Fits configuration c on every fold but `fold` and scores it on `fold`.
 * Returns 0 with *score set (possibly NaN), or a negative code with the
 * reason copied into msg.  Thread-safe: touches only its own memory.
 */
int aml_cv_fold(const aml_cv *cv, const aml_config *c, long trial, int fold,
                double *score, char *msg, size_t msglen);

/*
 * Out-of-fold predictions.  A trial's OOF matrix holds, for every repeat r
 * of the plan, n x outputs values (row-major, row = data row): block r
 * starts at r * n * outputs.  aml_cv_fold_oof is aml_cv_fold that also
 * writes the predictions of the split's validation rows into their rows of
 * block `fold / per_repeat` of `oof` (may be NULL: nothing written).  The
 * splits of one repeat have disjoint validation rows, so the folds of one
 * trial may fill one matrix from different threads; rows no split
 * validates (time-series training-only rows, holdout training rows) are
 * left as the caller set them (NaN by convention).  outputs is the class
 * count for classification (every class, even one a training fold lacks),
 * else 1.
 */
int aml_cv_outputs(const aml_cv *cv);
int aml_cv_repeats(const aml_cv *cv);
/* Values in one trial's OOF matrix: n x outputs x repeats. */
size_t aml_cv_oof_size(const aml_cv *cv);
int aml_cv_fold_oof(const aml_cv *cv, const aml_config *c, long trial, int fold,
                    double *score, char *msg, size_t msglen, double *oof);
/*
 * Fits the pipeline of split `fold` (its training rows, the generator fold
 * of trial `trial`): the very model aml_cv_fold scores, for ensembles that
 * keep the fold models instead of refitting.  p must be zeroed; on failure
 * it is left disposed with the message set.
 */
int aml_cv_fit_split(const aml_cv *cv, const aml_config *c, long trial, int fold,
                     int threads, aml_pipeline *p);

#define AML_TRIAL_MESSAGE_MAX 256

typedef struct aml_trial_result {
    long number;
    aml_config config; /* owned */
    aml_trial_status status;
    double score;        /* mean of the fold scores (metric's own orientation) */
    double *fold_scores; /* owned: k values */
    int k;
    int failed_fold; /* first failing fold, or -1 */
    char message[AML_TRIAL_MESSAGE_MAX];
    double t_start, t_end; /* unix seconds */
} aml_trial_result;

/* Takes ownership of *config (left zeroed). */
int aml_trial_result_init(aml_trial_result *r, long number, aml_config *config, int k);
void aml_trial_result_dispose(aml_trial_result *r);
/* Sets status, score and message from the fold scores once every fold ran. */
void aml_trial_result_finish(aml_trial_result *r);
/* Runs every fold of one trial on this thread (tests and small runs). */
int aml_trial_evaluate(const aml_cv *cv, aml_trial_result *r);

/* Wall clock in unix seconds. */
double aml_now(void);

#endif
