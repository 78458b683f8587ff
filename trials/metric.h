/*
 * metric.h - scoring functions, one const table each.
 *
 * A metric scores the predictions of one validation fold.  Inputs follow
 * the learner convention: y holds class indices (as doubles) or regression
 * targets; pred holds n x k probabilities for classification (k =
 * n_classes) or n values for regression.  Label metrics (accuracy, F1,
 * balanced accuracy) take the argmax of each probability row, ties to the
 * lowest class index.
 *
 * Conventions match scikit-learn: f1 is the macro mean over the classes
 * present in y or in the predictions; roc_auc is binary on class 1, or the
 * unweighted one-vs-rest mean over the classes present in y for multiclass
 * (a class a fold lacks is left out; scikit-learn refuses such a fold);
 * log loss clips
 * probabilities to [1e-15, 1 - 1e-15] and renormalises each row; r2 of a
 * constant y is 1 for perfect predictions and 0 otherwise (sklearn's
 * force_finite), NaN with fewer than two rows.  A score that cannot be
 * computed (binary AUC with a class absent from y, multiclass AUC with one
 * class in y, a label outside 0..k-1) is NaN
 * with the reason in aml_error_message(), and the caller fails the trial.
 */
#ifndef AML_METRIC_H
#define AML_METRIC_H

#include <stddef.h>

#include "learner.h"

typedef struct aml_metric {
    const char *name;
    unsigned tasks; /* AML_TASK_BIT(...) mask */
    int greater_is_better;
    double (*score)(const double *y, const double *pred, size_t n, int n_classes);
} aml_metric;

/* Every metric, NULL-terminated. */
extern const aml_metric *const aml_metrics[];

const aml_metric *aml_metric_find(const char *name);
/* The default metric of a task: accuracy, or rmse. */
const aml_metric *aml_metric_default(aml_task task);
/* 1 when score a is strictly better than b; NaN is never better. */
int aml_metric_better(const aml_metric *m, double a, double b);

#endif
