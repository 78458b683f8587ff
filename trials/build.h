/*
 * build.h - from a finished study to the model file's contents.
 *
 * aml_build_model is the ensemble stage: it reads the study's ok trials and
 * their out-of-fold predictions from the store, chooses members across
 * learners (ensemble.c's selection, voting, stacking with stack.h, or the
 * best trial alone), estimates the result's score honestly (no selection on
 * the rows it is scored on), and refits every member on all rows (or on
 * each training fold, averaging the fold models, when refit is off).
 * `automl run` calls it after the search, `automl export` at any time later;
 * both give the same model for the same store, spec and seed.
 */
#ifndef AML_BUILD_H
#define AML_BUILD_H

#include "dataset.h"
#include "metric.h"
#include "model.h"
#include "spec.h"
#include "store.h"

typedef struct aml_build_request {
    const aml_dataset *d;
    const aml_space *space;
    const aml_spec_ensemble *ens; /* the spec's ensemble: section */
    const aml_metric *metric;
    aml_store *store;
    long long study_id;
    int folds, stratified; /* the CV plan of the search (aml_cv_init) */
    uint64_t cv_seed;
    uint64_t seed; /* search seed: members refit with their trial's generator */
    int threads;   /* for the refits (BLAS included) */
    long trial;    /* >= 0: a model of that one trial only (export --trial) */
    int no_fit;    /* 1: choose and score only; *out stays NULL (no output file) */
} aml_build_request;

/* What was built, for people and for the store's ensemble table. */
typedef struct aml_build_report {
    const char *method;      /* "selection", "stacking", "voting", "none" (static) */
    double score;            /* honest CV estimate of the model built */
    double best_trial_score; /* the best single trial's CV score */
    long best_trial;
    size_t n_members;
    long *member_trials;    /* n_members, malloc'd (dispose) */
    double *member_weights; /* n_members, malloc'd; NaN for stacking members */
    /*
     * Set when the spec's method was not kept: its honest score
     * (ensemble_score) was no better than that of picking the best single trial
     * the same way (single_score: chosen without each fold, scored on it),
     * so the model is the best trial alone and method is "none".
     */
    const char *fallback_from; /* the method not kept (static), or NULL */
    /* Both estimated for every method but none, whether fallback is on or not. */
    double ensemble_score, single_score;
} aml_build_report;

int aml_build_model(aml_model **out, aml_build_report *rep, const aml_build_request *q);
void aml_build_report_dispose(aml_build_report *rep);

/* The meta-learner stacking uses when the spec names none (ensemble.meta, .final). */
const char *aml_build_default_meta(aml_task task);

#endif
