/*
 * folds.h - cross-validation fold assignment.
 *
 * k-fold: rows are shuffled with the cv seed and dealt into k folds whose
 * sizes differ by at most one.  Stratified k-fold: within each class the
 * rows are shuffled and dealt round-robin, continuing the rotation from
 * class to class, so every fold holds each class in proportion (to within
 * one row) and fold sizes differ by at most one.
 */
#ifndef AML_FOLDS_H
#define AML_FOLDS_H

#include <stddef.h>
#include <stdint.h>

#include "spec.h"

/*
 * Writes fold_of[i] in [0, k) for each of the n rows.  For stratified
 * folds y holds class indices 0..n_classes-1; y is ignored otherwise.
 * Fails with AML_EINVAL when k < 2 or k > n.
 */
int aml_folds_assign(int *fold_of, size_t n, int k, int stratified, const double *y,
                     int n_classes, uint64_t seed);

/*
 * Group k-fold (scikit-learn's GroupKFold): groups, largest first, each go
 * to the fold holding the fewest rows so far, so no group straddles two
 * folds.  group[i] is the group index of row i (0..n_groups-1).
 */
int aml_folds_group(int *fold_of, size_t n, int k, const int *group);
/*
 * Time-series split (scikit-learn's TimeSeriesSplit, expanding window):
 * rows sorted by order[] are cut into k + 1 blocks, the last k of
 * n / (k + 1) rows; block 0 only trains (fold_of -1), block b validates
 * fold b - 1 and trains the later ones.  Equal order keys never straddle a
 * block boundary (the boundary moves later), so no validation row is
 * older than a training row.
 */
int aml_folds_time_series(int *fold_of, size_t n, int k, const double *order);
/*
 * Holdout: round(fraction x n) rows (per class when stratified, at least
 * one row of every class with two or more) validate (fold 0), the others
 * only train (fold_of -1).
 */
int aml_folds_holdout(int *fold_of, size_t n, double fraction, int stratified,
                      const double *y, int n_classes, uint64_t seed);

/* What aml_folds_check needs to judge a plan. */
typedef struct aml_folds_plan {
    aml_cv_kind kind;
    int k;
    double fraction;
    int stratified;  /* a classification plan that stratifies */
    const double *y; /* class indices, or NULL for regression */
    int n_classes;
    const char *const *classes; /* class labels, for messages */
    const int *group;           /* kind group: group index of each row */
} aml_folds_plan;

/*
 * Checks a plan over n rows before any trial: AML_EINVAL with a message
 * that suggests the largest fold count that works when none is possible
 * (more folds than rows or groups, every class smaller than the folds, a
 * one-row class in a stratified plan).  A class with fewer rows than folds
 * is allowed and reported through warn(payload, line) (the folds lacking
 * it still run).
 */
int aml_folds_check(const aml_folds_plan *plan, size_t n,
                    int (*warn)(void *payload, const char *line), void *payload);

#endif
