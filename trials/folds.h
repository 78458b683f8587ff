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

/*
 * Writes fold_of[i] in [0, k) for each of the n rows.  For stratified
 * folds y holds class indices 0..n_classes-1; y is ignored otherwise.
 * Fails with AML_EINVAL when k < 2 or k > n.
 */
int aml_folds_assign(int *fold_of, size_t n, int k, int stratified, const double *y,
                     int n_classes, uint64_t seed);

#endif
