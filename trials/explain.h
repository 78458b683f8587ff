/*
 * explain.h - which input columns a fitted model relies on.
 *
 * Permutation importance (L. Breiman, "Random Forests", Machine Learning
 * 45, 2001, section 10; model-agnostic as in scikit-learn's
 * permutation_importance): the drop in the model's metric on labelled data
 * when one input column's values are shuffled across the rows, breaking
 * its link to the target while keeping its distribution.  Repeated with R
 * shuffles per column: mean and (population) standard deviation.  A drop
 * is positive when shuffling hurts, whichever way the metric points.
 * Scores must be numbers: when the model's unshuffled score is not finite
 * (inputs so large its predictions or the metric overflow) there is no
 * importance to compute and the call fails, saying which; a shuffle whose
 * score is not finite while the unshuffled one is counts as an infinite
 * drop (mean +inf, std NaN): the column, shuffled, breaks the model.
 *
 * Impurity importance of tree members (decision_tree, random_forest,
 * extra_trees, gradient_boosting, adaboost): the learners' own
 * importances over the preprocessed columns, summed back onto the input
 * columns they come from (all one-hot columns of a categorical column, a
 * missing indicator with its column), averaged over a member's fold
 * pipelines and over tree members by their weights (equal weights under a
 * stack).  It describes the training data only and favours columns with
 * many distinct values; permutation importance is the one to trust.
 *
 * Nothing here prints; cli/cmd_explain.c does.
 */
#ifndef AML_EXPLAIN_H
#define AML_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>

#include "metric.h"
#include "model.h"

/*
 * Reads a labelled CSV for m: the input columns as aml_model_read_csv
 * does, and the target column into *y (class indices for classification,
 * matched by label text, or by value for numeric labels; values for
 * regression; caller frees).  Rows whose target is missing are dropped.
 * A file without the target column, or with a label the model does not
 * know, is an AML_EINVAL error naming the file (and line).
 */
int aml_explain_read(aml_frame **features, double **y, const aml_model *m,
                     const char *path);

/* The metric explain scores with: the model's, or the task's default. */
const aml_metric *aml_explain_metric(const aml_model *m);

/* Permutation importance of each of the model's input columns. */
typedef struct aml_perm_importance {
    size_t n_inputs;    /* the model's input columns, in schema order */
    const char **names; /* n_inputs, borrowed from the model */
    double *mean, *std; /* n_inputs each: drop in the metric */
    double baseline;    /* the metric on the unshuffled rows */
    const aml_metric *metric;
    size_t rows;
    int repeats;
} aml_perm_importance;

/*
 * Computes permutation importance of m on frame f (every row; f is
 * shuffled and restored in place, so it is unchanged on return) with
 * labels y, `repeats` >= 1 shuffles per column drawn from generator
 * (seed, column index): the same seed gives the same result.
 */
int aml_explain_permutation(aml_perm_importance *out, const aml_model *m, aml_frame *f,
                            const double *y, int repeats, uint64_t seed);
void aml_perm_importance_dispose(aml_perm_importance *p);

/* 1 when learner type `name` is a tree learner with impurity importance. */
int aml_explain_is_tree(const char *name);

/*
 * Impurity importance per input column (schema order, n_inputs values,
 * summing to 1 when any is positive) over the model's tree members;
 * *n_trees receives how many members counted (0: none, out left at zero).
 */
int aml_explain_impurity(const aml_model *m, double *out, int *n_trees);

/* The model's input columns (schema order) and their names, borrowed. */
size_t aml_explain_n_inputs(const aml_model *m);
const char *aml_explain_input(const aml_model *m, size_t i);

#endif
