/*
 * test_threads_all.c - every learner gives the same bits at any thread count.
 *
 * The final refit of a model is a lone big fit: it gets every thread
 * through the learner's `threads` argument.  A model file must still not
 * depend on `search.parallel`, so each registered learner, for each task it
 * does, is fitted with default parameters (20 trees or rounds for the
 * ensembles, to keep the test short) on the same data at one thread
 * and at two, and its predictions must be equal to the last bit.  BLAS
 * stays on one thread, as the product keeps it (cli/main.c): OpenBLAS's
 * threaded calls do not give the same bits at 1 and 2 threads (this test
 * caught MLP and SVM fits differing when BLAS had the threads too).
 */
#include "testutil.h"

#include "aml.h"
#include "learner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void openblas_set_num_threads(int n);

#define ROWS 4000
#define COLS 40
/* Learners whose fit is slow in rows (SMO's kernel rows, wrappers, MLP) get fewer. */
#define ROWS_SMALL 1000

typedef struct data {
    aml_matrix X;
    double y_clf[ROWS], y_reg[ROWS];
} data;

/* Three informative columns, the rest noise; classes from a noisy linear score. */
static data *make_data(void)
{
    data *d = calloc(1, sizeof(*d));
    aml_rng rng;

    assert_non_null(d);
    assert_int_equal(aml_matrix_init(&d->X, ROWS, COLS), 0);
    aml_rng_init(&rng, 7, 1);
    for (size_t i = 0; i < ROWS; i++) {
        double *x = d->X.data + i * COLS, s;

        for (size_t j = 0; j < COLS; j++)
            x[j] = aml_rng_normal(&rng) * (double)(j + 1);
        s = x[0] - 0.5 * x[1] / 2.0 + 0.25 * x[2] / 3.0 + aml_rng_normal(&rng);
        d->y_clf[i] = s < -1.0 ? 0.0 : s < 1.0 ? 1.0 : 2.0;
        d->y_reg[i] = 3.0 * s + 0.1 * aml_rng_normal(&rng);
    }
    return d;
}

static int slow_in_rows(const char *name)
{
    return strcmp(name, "svm") == 0 || strcmp(name, "bagging") == 0 ||
           strcmp(name, "boosting") == 0 || strcmp(name, "mlp") == 0;
}

/* Predictions of one fit of type t with `threads` threads everywhere. */
static double *fit_predict(const aml_learner_type *t, aml_task task, const data *d,
                           int threads)
{
    int cls = task == AML_TASK_CLASSIFICATION;
    aml_value trees = {.kind = AML_VAL_INT, .i = 20, .real = 20};
    aml_matrix X = d->X;
    aml_learner *l = NULL;
    aml_rng rng;
    double *p;

    if (slow_in_rows(t->name))
        X.rows = ROWS_SMALL;
    aml_rng_init(&rng, 11, 3);
    assert_int_equal(aml_learner_new(&l, t, task), 0);
    if (aml_learner_param_find(t, "n_estimators")) /* ensembles: fewer, same code */
        assert_int_equal(aml_learner_set_param(l, "n_estimators", &trees), 0);
    if (aml_learner_fit(l, &X, cls ? d->y_clf : d->y_reg, NULL, cls ? 3 : 0, &rng,
                        threads) != 0)
        fail_msg("%s: %s", t->name, aml_error_message());
    p = aml_test_predict(l, &X);
    aml_learner_free(l);
    return p;
}

static void test_threads_all(void **state)
{
    data *d = make_data();
    int differ = 0;

    (void)state;
    openblas_set_num_threads(1);
    for (const aml_learner_type *const *t = aml_learner_types; *t; t++) {
        for (int task = 0; task < 2; task++) {
            aml_task tk = task ? AML_TASK_REGRESSION : AML_TASK_CLASSIFICATION;
            size_t n = (slow_in_rows((*t)->name) ? ROWS_SMALL : ROWS) * (task ? 1 : 3);
            double *a, *b;

            if (!((*t)->tasks & AML_TASK_BIT(tk)))
                continue;
            a = fit_predict(*t, tk, d, 1);
            b = fit_predict(*t, tk, d, 2);
            if (memcmp(a, b, n * sizeof(double)) != 0) {
                print_message("%s (%s): predictions differ between 1 and 2 threads\n",
                              (*t)->name, task ? "regression" : "classification");
                differ++;
            }
            free(a);
            free(b);
        }
    }
    aml_matrix_dispose(&d->X);
    free(d);
    assert_int_equal(differ, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
