/*
 * wrap_test.h - helpers shared by the tests of the wrapper learners
 * (test_bagging.c, test_boosting.c): scores, a probability check, a data
 * set pair and scikit-learn's reference means from wrap_scores.csv.
 */
#ifndef AML_WRAP_TEST_H
#define AML_WRAP_TEST_H

#include "testutil.h"

#include "aml.h"
#include "learner.h"
#include "subfit_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Accuracy of probabilities p (rows x k), or RMSE of values (k = 1). */
static inline double score(const double *p, const double *y, size_t rows, int k)
{
    double s = 0;
    size_t i;

    for (i = 0; i < rows; i++) {
        if (k > 1) {
            s += (double)aml_subfit_argmax(p + i * (size_t)k, (size_t)k) == y[i];
        } else {
            s += (p[i] - y[i]) * (p[i] - y[i]);
        }
    }
    return k > 1 ? s / (double)rows : sqrt(s / (double)rows);
}

/* Every row of p (rows x k) is a probability vector. */
static inline void check_proba(const double *p, size_t rows, int k)
{
    size_t i, c;

    for (i = 0; i < rows; i++) {
        double s = 0;

        for (c = 0; c < (size_t)k; c++) {
            assert_true(p[i * (size_t)k + c] >= 0 && p[i * (size_t)k + c] <= 1);
            s += p[i * (size_t)k + c];
        }
        assert_close(s, 1.0, 1e-12);
    }
}

typedef struct set_xy {
    aml_matrix X;
    double *y;
} set_xy;

static inline void xy_free(set_xy *d)
{
    free(d->X.data);
    free(d->y);
}

/* scikit-learn's mean score of a case in wrap_scores.csv. */
static inline double sk_mean(const char *name)
{
    FILE *f = fopen(aml_test_fixture("wrap_scores.csv"), "r");
    char line[256], key[64];
    double mean = NAN, m, sd;

    assert_non_null(f);
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "%63[^,],%lf,%lf", key, &m, &sd) == 3 && strcmp(key, name) == 0)
            mean = m;
    fclose(f);
    assert_false(isnan(mean));
    return mean;
}

static inline void fit_t(aml_learner *l, const aml_matrix *X, const double *y,
                         const double *w, int k, uint64_t seed, int threads)
{
    aml_rng rng;

    aml_rng_init(&rng, seed, 0);
    if (aml_learner_fit(l, X, y, w, k, &rng, threads) != AML_OK)
        fail_msg("fit: %s", aml_error_message());
}

static inline void fit(aml_learner *l, const aml_matrix *X, const double *y,
                       const double *w, int k, uint64_t seed)
{
    fit_t(l, X, y, w, k, seed, 1);
}

/* Fits, predicts valid outputs, and round-trips. */
static inline void check_fits(aml_learner *l, const aml_matrix *X, const double *y,
                              const double *w, int k)
{
    double *p;
    size_t i;

    fit(l, X, y, w, k, 5);
    p = aml_test_predict(l, X);
    if (l->task == AML_TASK_CLASSIFICATION)
        check_proba(p, X->rows, k);
    for (i = 0; i < X->rows && l->task == AML_TASK_REGRESSION; i++)
        assert_true(isfinite(p[i]));
    aml_test_learner_roundtrip(l, X);
    free(p);
}

#endif
