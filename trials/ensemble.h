/*
 * ensemble.h - ensemble selection over the out-of-fold predictions of
 * finished trials.
 *
 * Greedy forward selection with replacement (R. Caruana, A. Niculescu-Mizil,
 * G. Crew, A. Ksikes, "Ensemble Selection from Libraries of Models", ICML
 * 2004): start from an empty ensemble and, step after step, add the
 * candidate whose addition gives the best metric of the averaged
 * predictions; a candidate may be added many times, so the result is an
 * integer count per candidate and weights count / total.
 *
 * Candidates are OOF matrices (n rows x outputs, row-major; outputs is the
 * class count for classification, else 1; see aml_cv_fold_oof).  A row is
 * usable when y and every value of every candidate in that row are not
 * NaN; the other rows (holdout training rows, time-series training-only
 * rows) are ignored by every candidate alike, so all candidates are
 * compared on the same rows.
 *
 * Nothing here prints, allocates beyond one call, or keeps state: the
 * functions may run from several threads at once.
 */
#ifndef AML_ENSEMBLE_H
#define AML_ENSEMBLE_H

#include <stddef.h>

#include "metric.h"

/* One candidate: its OOF matrix (borrowed) and its output count. */
typedef struct aml_ensemble_candidate {
    const double *oof; /* n x outputs, row-major */
    int outputs;
} aml_ensemble_candidate;

typedef struct aml_ensemble_problem {
    const aml_ensemble_candidate *cand; /* m candidates */
    size_t m;
    size_t n;        /* rows of every candidate and of y */
    const double *y; /* class indices (as doubles) or regression targets */
    int n_classes;   /* 0 for regression; every candidate has max(1, n_classes) outputs */
    const aml_metric *metric;
} aml_ensemble_problem;

typedef struct aml_ensemble_options {
    /* Additions, S >= 1 (the initial members count among them). */
    int steps;
    /*
     * Caruana's sorted initialisation: the `init` best single candidates
     * (ties to the lower index) each enter once before the greedy steps;
     * 0 <= init <= min(steps, m).  init 0 and 1 give the same ensemble, since
     * the first greedy step from an empty ensemble picks the best single
     * candidate.  The initial members are always kept.
     */
    int init;
    /*
     * At most this many distinct candidates (0: no cap): once that many are
     * in, a step may only add one of them again.  init <= max_distinct.
     */
    int max_distinct;
    /*
     * Caruana's bagged selection (section 5.3 of the paper), against the
     * hillclimb overfitting its rows when candidates are many and rows few:
     * bags >= 2 runs the selection above `bags` times, each over a random
     * subset of max(1, round(bag_fraction m)) candidates drawn without
     * replacement from the stream (seed, AML_ENSEMBLE_BAG_STREAM), and
     * averages the bags' weights.  When the union holds more than
     * max_distinct candidates, the lightest are dropped (ties: the higher
     * index first) and the rest renormalised.  bags 0 or 1: one selection
     * over every candidate (bag_fraction and seed unused).
     */
    int bags;
    double bag_fraction; /* in (0, 1] when bags >= 2 */
    unsigned long long seed;
} aml_ensemble_options;

/* The RNG stream of the bags' candidate draws. */
#define AML_ENSEMBLE_BAG_STREAM 0x62616773u

/*
 * Selects an ensemble on all usable rows.  Each step adds the candidate
 * whose addition gives the strictly best score of the averaged predictions,
 * ties to the lowest candidate index (a NaN score is never best).  After S
 * steps the shortest best-scoring prefix of the additions is kept (Caruana
 * keeps the best "hillclimb" ensemble, not the last one): counts[j]
 * (m ints) is how often candidate j occurs in that prefix, weights[j]
 * (m doubles, may be NULL) is counts[j] / total, and *score is the metric
 * of aml_ensemble_average with those weights on the usable rows.  With
 * bags >= 2, counts[j] sums candidate j's additions over the bags (0 for a
 * candidate the cap dropped) and weights[j] is its averaged, renormalised
 * weight, no longer counts[j] / total.
 * AML_EINVAL for bad input (no candidates, mismatched outputs, S < 1, no
 * usable row); AML_ENUMERIC when every candidate scores NaN.
 */
int aml_ensemble_select(const aml_ensemble_problem *p, const aml_ensemble_options *o,
                        int *counts, double *weights, double *score);

/*
 * The weighted average of m candidates' n x outputs predictions into out
 * (n x outputs): sum_j w_j p_j / sum_j w_j.  Candidates of weight 0 are
 * skipped, so their NaN rows do not reach out.  For voting pass equal
 * weights.  AML_EINVAL when m is 0, outputs differ, a weight is negative
 * or not finite, or the weights sum to 0.
 */
int aml_ensemble_average(const aml_ensemble_candidate *cand, size_t m, size_t n,
                         const double *weights, double *out);

/*
 * An honest estimate of the selected ensemble's score: no selection on the
 * rows it is scored on.  For each fold f of fold_of (k >= 2 folds, fold_of[i]
 * in [0, k), or negative for a row never held out), select with options o on
 * the usable rows outside fold f, then score those weights on the usable
 * rows of fold f.  fold_scores (k doubles, may be NULL) receives the
 * held-out scores and *score their unweighted mean, as CV scores a trial.
 * The OOF rows themselves come from models that never saw them, so this
 * removes the optimism of the selection step only.  AML_EINVAL as for
 * aml_ensemble_select, and when a fold (or its complement) has no usable
 * row.
 */
int aml_ensemble_select_cv(const aml_ensemble_problem *p, const aml_ensemble_options *o,
                           const int *fold_of, int k, double *fold_scores, double *score);

#endif
