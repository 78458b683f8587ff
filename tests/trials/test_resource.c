/*
 * test_resource.c - a trial's resource (successive halving) from the
 * pipeline to the store: the iteration parameter scaled, the training
 * rows subsampled, halving through the runner at any thread count, the
 * resource recorded, out-of-fold predictions kept for full trials only,
 * and a resume in the middle of a bracket.
 */
#include "testutil.h"

#include "aml.h"
#include "pipeline.h"
#include "runner.h"
#include "spec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SEEN 64

static aml_spec *load_spec(const char *name)
{
    const char *metrics[16], *strategies[16];
    aml_spec_vocab vocab = {aml_learner_types, metrics, strategies};
    aml_spec *spec = NULL;
    size_t i;

    for (i = 0; aml_metrics[i]; i++)
        metrics[i] = aml_metrics[i]->name;
    metrics[i] = NULL;
    for (i = 0; aml_search_types[i]; i++)
        strategies[i] = aml_search_types[i]->name;
    strategies[i] = NULL;
    if (aml_spec_load(&spec, aml_test_fixture(name), &vocab) < 0)
        fail_msg("%s", aml_error_message());
    return spec;
}

/* ---- subsample ------------------------------------------------------------------ */

/*
 * 60 rows, classes 0/1/2 with 10/20/30 rows.  Fraction 1/2: m = 30, quotas
 * 10*30/60 = 5, 10, 15 exactly.  Fraction 1/27: m = round(60/27 = 2.22) =
 * 2; floors 10*2/60 = 0, 40/60 = 0, 60/60 = 1 (total 1); remainders
 * (count * m) mod 60 = 20, 40, 0, so class 1 takes the last row; class 0,
 * present but at 0, keeps one row: 1/1/1, three rows.
 */
static void test_subsample_sizes(void **st)
{
    aml_dataset d;
    double y[60];
    size_t rows[60], n, count[3], i;
    aml_rng rng, again;

    (void)st;
    memset(&d, 0, sizeof(d));
    for (i = 0; i < 60; i++)
        y[i] = i < 10 ? 0 : i < 30 ? 1 : 2;
    d.y = y;
    d.n = 60;
    d.task = AML_TASK_CLASSIFICATION;
    d.n_classes = 3;
    aml_rng_init(&rng, 5, 9);
    again = rng;

    for (i = 0; i < 60; i++)
        rows[i] = i;
    n = 60;
    assert_int_equal(aml_pipeline_subsample(&d, rows, &n, 0.5, &rng), 0);
    assert_int_equal(n, 30);
    memset(count, 0, sizeof(count));
    for (i = 0; i < n; i++) {
        count[(int)y[rows[i]]]++;
        if (i)
            assert_true(rows[i] > rows[i - 1]); /* row order kept, no repeats */
    }
    assert_int_equal(count[0], 5);
    assert_int_equal(count[1], 10);
    assert_int_equal(count[2], 15);
    /* The parent generator is not advanced: the same call gives the same rows. */
    assert_memory_equal(&rng, &again, sizeof(rng));

    for (i = 0; i < 60; i++)
        rows[i] = i;
    n = 60;
    assert_int_equal(aml_pipeline_subsample(&d, rows, &n, 1.0 / 27.0, &rng), 0);
    assert_int_equal(n, 3);
    assert_int_equal((int)y[rows[0]], 0);
    assert_int_equal((int)y[rows[1]], 1);
    assert_int_equal((int)y[rows[2]], 2);

    /* Regression: plain round(n x fraction); a full fraction keeps everything. */
    d.task = AML_TASK_REGRESSION;
    for (i = 0; i < 60; i++)
        rows[i] = i;
    n = 60;
    assert_int_equal(aml_pipeline_subsample(&d, rows, &n, 0.1, &rng), 0);
    assert_int_equal(n, 6);
    n = 60;
    assert_int_equal(aml_pipeline_subsample(&d, rows, &n, 1.0, &rng), 0);
    assert_int_equal(n, 60);
}

/* ---- scaling -------------------------------------------------------------------- */

static aml_space *forest_space(long long trees)
{
    aml_space *s = aml_space_new();
    aml_space_learner *l;
    aml_value v = {.kind = AML_VAL_INT, .i = trees};

    assert_non_null(s);
    assert_non_null(l = aml_space_add_learner(s, "random_forest"));
    assert_non_null(
        aml_space_add_dim(l, "n_estimators", AML_DOM_FIXED, AML_VAL_INT, 0, 0, &v, 1));
    return s;
}

static double *fit_predict(const aml_dataset *d, const aml_space *sp, double resource)
{
    aml_pipeline p = {0};
    aml_config c;
    aml_rng rng;
    double *out = malloc(d->n * (size_t)d->n_classes * sizeof(double));

    assert_non_null(out);
    assert_int_equal(aml_config_init(&c, sp, 0), 0);
    c.resource = resource;
    aml_rng_init(&rng, 3, 4);
    assert_int_equal(aml_pipeline_fit(&p, d, sp, &c, NULL, 0, &rng, 1), 0);
    assert_int_equal(aml_pipeline_predict(&p, d->features, NULL, 0, out), 0);
    aml_pipeline_dispose(&p);
    aml_config_dispose(&c);
    return out;
}

/*
 * random_forest declares n_estimators as its resource: 27 trees at 1/27
 * fit exactly the forest of 1 tree (same generator), 30 at 1/3 that of 10,
 * and neither fits the rows' subsample (all rows are used).
 */
static void test_scaled_trees(void **st)
{
    aml_spec *spec = load_spec("runner/penguins.yaml");
    aml_dataset *d = NULL;
    aml_space *s27 = forest_space(27), *s1 = forest_space(1), *s30 = forest_space(30),
              *s10 = forest_space(10);
    double *a, *b;
    size_t n;

    (void)st;
    assert_string_equal(aml_learner_type_find("random_forest")->resource_param,
                        "n_estimators");
    assert_int_equal(aml_dataset_load(&d, spec), 0);
    n = d->n * (size_t)d->n_classes;
    a = fit_predict(d, s27, 1.0 / 27.0);
    b = fit_predict(d, s1, 0.0);
    assert_memory_equal(a, b, n * sizeof(double));
    free(a);
    free(b);
    a = fit_predict(d, s30, 1.0 / 3.0);
    b = fit_predict(d, s10, 0.0);
    assert_memory_equal(a, b, n * sizeof(double));
    free(b);
    /* And the full 30 trees differ from 10 (the test can fail). */
    b = fit_predict(d, s30, 0.0);
    assert_true(memcmp(a, b, n * sizeof(double)) != 0);
    free(a);
    free(b);
    aml_space_free(s27);
    aml_space_free(s1);
    aml_space_free(s30);
    aml_space_free(s10);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

/* ---- through the runner -------------------------------------------------------------
 */

typedef struct seen {
    long n;
    double score[MAX_SEEN], resource[MAX_SEEN];
    size_t learner[MAX_SEEN];
} seen;

static void on_trial(const aml_trial_result *r, const aml_run_summary *s, void *payload)
{
    seen *v = payload;

    (void)s;
    assert_true(v->n < MAX_SEEN);
    v->score[v->n] = r->score;
    v->resource[v->n] = r->config.resource;
    v->learner[v->n] = r->config.learner;
    v->n++;
}

static aml_store *fresh_store(const char *name, long long *study)
{
    static char path[600];
    aml_study_info info = {"r", NULL, "classification", "accuracy", 1, 11, NULL, NULL};
    aml_store *st = NULL;

    snprintf(path, sizeof(path), "%s/%s", aml_test_tmpdir(), name);
    unlink(path);
    assert_int_equal(aml_store_open(&st, path, 0), 0);
    assert_int_equal(aml_store_study_create(st, study, &info, 1), 0);
    return st;
}

static int run_halving(const aml_spec *spec, const aml_dataset *d, aml_store *st,
                       long long study, long budget, int threads, seen *out,
                       aml_run_summary *sum)
{
    aml_search_options so = {3, 1.0 / 9.0, AML_SAMPLER_DEFAULT};
    aml_run_options opt = {0};

    opt.folds = spec->folds;
    opt.stratified = spec->stratified;
    opt.cv_seed = spec->cv_seed;
    opt.seed = spec->seed;
    opt.threads = threads;
    opt.budget.max_trials = budget;
    opt.metric = aml_metric_find(spec->metric);
    opt.store = st;
    opt.study_id = study;
    opt.search = &so;
    memset(out, 0, sizeof(*out));
    return aml_run_search(sum, d, spec->space, &aml_search_halving, &opt, on_trial, out);
}

/* Halving gives the same trials at 1 and 2 threads; the best is a full trial. */
static void test_halving_threads(void **st)
{
    aml_spec *spec = load_spec("runner/penguins.yaml");
    aml_dataset *d = NULL;
    aml_run_summary s1, s2;
    static seen a, b;
    long partial = 0;

    (void)st;
    assert_int_equal(aml_dataset_load(&d, spec), 0);
    assert_int_equal(run_halving(spec, d, NULL, 0, 30, 1, &a, &s1), 0);
    assert_int_equal(run_halving(spec, d, NULL, 0, 30, 2, &b, &s2), 0);
    assert_int_equal(a.n, 30);
    assert_int_equal(b.n, 30);
    for (long i = 0; i < a.n; i++) {
        assert_int_equal(a.learner[i], b.learner[i]);
        assert_memory_equal(&a.resource[i], &b.resource[i], sizeof(double));
        assert_memory_equal(&a.score[i], &b.score[i], sizeof(double));
        partial += !aml_resource_full(a.resource[i]);
    }
    assert_true(partial > 0 && partial < a.n);
    assert_true(s1.has_best);
    assert_true(aml_resource_full(s1.best.config.resource));
    assert_int_equal(s1.best.number, s2.best.number);
    aml_run_summary_dispose(&s1);
    aml_run_summary_dispose(&s2);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

typedef struct records {
    long n;
    long long id[MAX_SEEN];
    int status[MAX_SEEN];
    double score[MAX_SEEN], resource[MAX_SEEN];
} records;

static int records_cb(const aml_trial_record *r, void *payload)
{
    records *x = payload;

    assert_true(x->n < MAX_SEEN);
    x->id[x->n] = r->id;
    x->status[x->n] = r->status;
    x->score[x->n] = r->score;
    x->resource[x->n] = r->resource;
    x->n++;
    return 0;
}

/*
 * The store records each trial's resource (NULL, read back NaN, for a full
 * one), keeps OOF predictions for ok full trials only, and a run stopped
 * after 12 trials (mid-bracket: a batch and a half) resumes to the trials
 * of an uninterrupted 28-trial run.
 */
static void test_halving_store_and_resume(void **st)
{
    aml_spec *spec = load_spec("runner/penguins.yaml");
    aml_dataset *d = NULL;
    aml_run_summary sum;
    static seen a, b, c;
    static records ra, rb;
    long long ia, ib;
    aml_store *sa = fresh_store("hv_a.db", &ia), *sb = fresh_store("hv_b.db", &ib);

    (void)st;
    assert_int_equal(aml_dataset_load(&d, spec), 0);
    assert_int_equal(run_halving(spec, d, sa, ia, 28, 2, &a, &sum), 0);
    aml_run_summary_dispose(&sum);
    assert_int_equal(aml_store_trial_records(sa, ia, records_cb, &ra), 0);
    assert_int_equal(ra.n, 28);
    for (long i = 0; i < ra.n; i++) {
        double *oof = NULL;
        size_t n = 0;
        int outs = 0, full = aml_resource_full(a.resource[i]);

        if (full)
            assert_true(isnan(ra.resource[i]));
        else
            assert_memory_equal(&ra.resource[i], &a.resource[i], sizeof(double));
        assert_int_equal(aml_store_oof_load(sa, ra.id[i], 0, &oof, &n, &outs),
                         full && ra.status[i] == AML_TRIAL_OK ? 0 : AML_EINVAL);
        free(oof);
    }

    assert_int_equal(run_halving(spec, d, sb, ib, 12, 1, &b, &sum), 0);
    aml_run_summary_dispose(&sum);
    assert_int_equal(run_halving(spec, d, sb, ib, 28, 2, &c, &sum), 0);
    assert_int_equal(c.n, 16);
    assert_int_equal(sum.n_resumed, 12);
    aml_run_summary_dispose(&sum);
    assert_int_equal(aml_store_trial_records(sb, ib, records_cb, &rb), 0);
    assert_int_equal(rb.n, 28);
    for (long i = 0; i < ra.n; i++) {
        assert_memory_equal(&ra.score[i], &rb.score[i], sizeof(double));
        assert_true(ra.resource[i] == rb.resource[i] ||
                    (isnan(ra.resource[i]) && isnan(rb.resource[i])));
    }
    aml_store_free(sa);
    aml_store_free(sb);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subsample_sizes),
        cmocka_unit_test(test_scaled_trees),
        cmocka_unit_test(test_halving_threads),
        cmocka_unit_test(test_halving_store_and_resume),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
