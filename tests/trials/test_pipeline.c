/*
 * test_pipeline.c - preprocessing options through the pipeline and the
 * cross-validation of a trial.
 *
 * Specs come from tests/fixtures/bad (the bad-input suite's good cases).
 * Expectations are worked out by hand in the comments.
 */
#include "testutil.h"

#include "aml.h"
#include "dataset.h"
#include "metric.h"
#include "pipeline.h"
#include "search.h"
#include "spec.h"
#include "trial.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct loaded {
    aml_spec *spec;
    aml_dataset *data;
    aml_cv cv;
} loaded;

static void load(loaded *l, const char *name, const char *learner_yaml)
{
    const char *metrics[32], *strategies[16];
    char path[4096], src[4096];
    aml_spec_vocab v;
    size_t i;
    FILE *f;

    /* Copy the fixture spec with the learner section swapped. */
    snprintf(src, sizeof(src), "%s/fixtures/bad/%s", AML_TEST_DIR, name);
    snprintf(path, sizeof(path), "%s/%s", aml_test_tmpdir(), name);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "study: t\ndata: {train: '%s/fixtures/bad/%s', target: y}\n"
            "cv: {kind: kfold, folds: 3}\n%sstore: s.db\n",
            AML_TEST_DIR, strstr(name, "small") ? "small_class.csv" : "one_row_class.csv",
            learner_yaml);
    fclose(f);
    for (i = 0; aml_metrics[i] && i < 31; i++)
        metrics[i] = aml_metrics[i]->name;
    metrics[i] = NULL;
    for (i = 0; aml_search_types[i] && i < 15; i++)
        strategies[i] = aml_search_types[i]->name;
    strategies[i] = NULL;
    v.learners = aml_learner_types;
    v.metrics = metrics;
    v.strategies = strategies;
    memset(l, 0, sizeof(*l));
    if (aml_spec_load(&l->spec, path, &v) != 0 ||
        aml_dataset_load(&l->data, l->spec) != 0 ||
        aml_cv_init(&l->cv, l->data, l->spec->space, aml_metric_default(l->data->task),
                    l->spec->folds, l->spec->stratified, 1, 1) != 0)
        fail_msg("%s: %s", name, aml_error_message());
}

static void unload(loaded *l)
{
    aml_cv_dispose(&l->cv);
    aml_dataset_free(l->data);
    aml_spec_free(l->spec);
}

/* Every point of the grid of configuration values, evaluated by CV, must succeed. */
static void evaluate_all(loaded *l)
{
    const aml_space_learner *sl = &l->spec->space->learners[0];
    size_t combos = 1, c, d;

    for (d = 0; d < sl->n_dims; d++)
        combos *= sl->dims[d].n_choices;
    for (c = 0; c < combos; c++) {
        aml_config cfg;
        aml_trial_result r;
        size_t rest = c;
        char buf[512];

        assert_int_equal(aml_config_init(&cfg, l->spec->space, 0), 0);
        for (d = 0; d < sl->n_dims; d++) {
            cfg.params[d].value = sl->dims[d].choices[rest % sl->dims[d].n_choices];
            rest /= sl->dims[d].n_choices;
        }
        assert_int_equal(aml_trial_result_init(&r, (long)c, &cfg, l->cv.k), 0);
        assert_int_equal(aml_trial_evaluate(&l->cv, &r), 0);
        aml_config_format(&r.config, buf, sizeof(buf));
        if (r.status != AML_TRIAL_OK)
            fail_msg("%s: %s", buf, r.message);
        aml_trial_result_dispose(&r);
        aml_config_dispose(&cfg);
    }
}

/*
 * small_class.csv (a: 7 rows, b: 3): every imputer x scaler x balance x
 * dedup x encoding, with two learners, runs through 3-fold CV.
 */
static void test_pipeline_options_run(void **state)
{
    static const char *const learners[] = {
        "learners:\n  logistic_regression: {C: 1.0}\n",
        "learners:\n  decision_tree: {max_depth: 3}\n",
    };
    static const char *const pre =
        "preprocess:\n"
        "  impute: [mean, median, most_frequent, constant]\n"
        "  scale: [auto, none, standard, minmax, robust]\n"
        "  balance: [none, class_weight, undersample, oversample, smote]\n"
        "  dedup: [false, true]\n"
        "  missing_indicator: [true]\n";
    char yaml[2048];
    size_t i;

    (void)state;
    for (i = 0; i < 2; i++) {
        loaded l;

        snprintf(yaml, sizeof(yaml), "%s%s", pre, learners[i]);
        load(&l, "small_class.yaml", yaml);
        /* One learner parameter and five preprocess dimensions: 200 points. */
        assert_int_equal(l.spec->space->learners[0].n_dims, 6);
        evaluate_all(&l);
        unload(&l);
    }
}

/*
 * one_row_class.csv: class c has one row (line 8), so the fold that
 * validates it trains without c; every learner must still fit and predict
 * three class probabilities.
 */
static void test_pipeline_fold_lacks_class(void **state)
{
    static const char *const learners[] = {
        "learners:\n  logistic_regression: {C: 1.0}\n",
        "learners:\n  decision_tree: {max_depth: 2}\n",
        "learners:\n  knn: {k: 1}\n",
    };
    size_t i;

    (void)state;
    for (i = 0; i < 3; i++) {
        loaded l;

        load(&l, "one_row_class.yaml", learners[i]);
        assert_int_equal(l.data->n_classes, 3);
        evaluate_all(&l);
        unload(&l);
    }
}

/* Class balancing on a regression target (ts.csv, y = 0.5 .. 5.5) is refused. */
static void test_pipeline_balance_regression(void **state)
{
    loaded l;
    aml_pipeline p;
    aml_config cfg;
    aml_rng rng;
    const char *yaml = "preprocess:\n  balance: smote\nlearners:\n  ridge: {}\n";
    const char *metrics[32] = {"rmse", NULL}, *strategies[2] = {"random", NULL};
    char path[4096];
    aml_spec_vocab v = {aml_learner_types, metrics, strategies};
    FILE *f;

    (void)state;
    snprintf(path, sizeof(path), "%s/reg.yaml", aml_test_tmpdir());
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "study: t\ndata: {train: '%s/fixtures/bad/ts.csv', target: y}\n"
            "cv: {kind: kfold, folds: 2}\n%sstore: s.db\n",
            AML_TEST_DIR, yaml);
    fclose(f);
    memset(&l, 0, sizeof(l));
    assert_int_equal(aml_spec_load(&l.spec, path, &v), 0);
    assert_int_equal(aml_dataset_load(&l.data, l.spec), 0);
    assert_int_equal(aml_config_init(&cfg, l.spec->space, 0), 0);
    aml_rng_init(&rng, 1, 0);
    memset(&p, 0, sizeof(p));
    assert_int_equal(aml_pipeline_fit(&p, l.data, l.spec->space, &cfg, NULL, 0, &rng, 1),
                     AML_EINVAL);
    assert_string_equal(aml_error_message(),
                        "preprocess.balance applies to classification only");
    aml_config_dispose(&cfg);
    unload(&l);
}

/*
 * A wrapper prepares its inputs as its base learner would: one bagging
 * member over all rows and features (no bootstrap) of naive Bayes, which
 * wants no scaling, predicts exactly what naive Bayes does.
 */
static void test_pipeline_wrapper_follows_base(void **state)
{
    loaded l;
    aml_pipeline a = {0}, b = {0};
    aml_config ca, cb;
    aml_rng ra, rb;
    size_t n;
    double *pa, *pb;

    (void)state;
    load(&l, "small_class.yaml",
         "learners:\n  naive_bayes: {var_smoothing: 1.0e-9}\n"
         "  bagging: {base: naive_bayes, n: 1, bootstrap: false, max_samples: 1.0,"
         " max_features: 1.0}\n");
    n = l.data->n;
    assert_int_equal(aml_config_init(&ca, l.spec->space, 0), 0);
    assert_int_equal(aml_config_init(&cb, l.spec->space, 1), 0);
    aml_rng_init(&ra, 1, 0);
    aml_rng_init(&rb, 1, 0);
    assert_int_equal(aml_pipeline_fit(&a, l.data, l.spec->space, &ca, NULL, n, &ra, 1), 0);
    assert_int_equal(aml_pipeline_fit(&b, l.data, l.spec->space, &cb, NULL, n, &rb, 1), 0);
    pa = calloc(n * 2, sizeof(double));
    pb = calloc(n * 2, sizeof(double));
    assert_int_equal(aml_pipeline_predict(&a, l.data->features, NULL, n, pa), 0);
    assert_int_equal(aml_pipeline_predict(&b, l.data->features, NULL, n, pb), 0);
    assert_memory_equal(pa, pb, n * 2 * sizeof(double));
    free(pa);
    free(pb);
    aml_pipeline_dispose(&a);
    aml_pipeline_dispose(&b);
    aml_config_dispose(&ca);
    aml_config_dispose(&cb);
    unload(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipeline_options_run),
        cmocka_unit_test(test_pipeline_fold_lacks_class),
        cmocka_unit_test(test_pipeline_balance_regression),
        cmocka_unit_test(test_pipeline_wrapper_follows_base),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
