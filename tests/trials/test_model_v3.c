/*
 * test_model_v3.c - the version 3 model file: every learner kind round
 * trips bit for bit (classification and regression), models of several
 * weighted members, of fold pipelines and with a stack predict what their
 * parts say and round trip, and damaged files (every truncation, every
 * byte changed behind a valid checksum, foreign bytes) fail cleanly.
 */
#include "testutil.h"

#include "aml.h"
#include "metric.h"
#include "model.h"
#include "search.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static aml_spec *load_spec(const char *name)
{
    const char *metrics[16], *strategies[8];
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

static aml_dataset *load_data(const char *spec_name)
{
    aml_spec *spec = load_spec(spec_name);
    aml_dataset *d = NULL;

    if (aml_dataset_load(&d, spec) < 0)
        fail_msg("%s", aml_error_message());
    aml_spec_free(spec);
    return d;
}

/* A space of every learner doing the task, each with its default parameters. */
static aml_space *default_space(aml_task task)
{
    aml_space *s = aml_space_new();
    size_t i;

    assert_non_null(s);
    for (i = 0; aml_learner_types[i]; i++)
        if (aml_learner_types[i]->tasks & AML_TASK_BIT(task))
            assert_non_null(aml_space_add_learner(s, aml_learner_types[i]->name));
    return s;
}

static const char *tmp_path(const char *name)
{
    static char path[512];

    snprintf(path, sizeof(path), "%s/%s", aml_test_tmpdir(), name);
    return path;
}

static double *predict(const aml_model *m, const aml_frame *f)
{
    size_t len = aml_frame_rows(f) * (size_t)aml_model_outputs(m);
    double *p = calloc(len + 1, sizeof(double));

    assert_non_null(p);
    if (aml_model_predict(m, f, p) < 0)
        fail_msg("%s", aml_error_message());
    return p;
}

/* Saves m, loads it back; the copy predicts the rows of f bit for bit the same. */
static aml_model *save_load_same(const aml_model *m, const aml_frame *f)
{
    size_t len = aml_frame_rows(f) * (size_t)aml_model_outputs(m);
    aml_model *back = NULL;
    double *p1, *p2;

    if (aml_model_save(m, tmp_path("v3.model")) < 0 ||
        aml_model_load(&back, tmp_path("v3.model")) < 0)
        fail_msg("%s", aml_error_message());
    p1 = predict(m, f);
    p2 = predict(back, f);
    assert_memory_equal(p1, p2, len * sizeof(double));
    assert_int_equal(aml_model_n_members(back), aml_model_n_members(m));
    assert_string_equal(aml_model_method(back), aml_model_method(m));
    assert_true(aml_model_score(back) == aml_model_score(m) ||
                (isnan(aml_model_score(back)) && isnan(aml_model_score(m))));
    free(p1);
    free(p2);
    return back;
}

/* Round trips every learner doing the task; marks them in seen[] (registry order). */
static void every_learner(const char *spec_name, aml_task task, int *seen)
{
    aml_dataset *d = load_data(spec_name);
    aml_space *s = default_space(task);
    size_t l, t;

    for (l = 0; l < s->n_learners; l++) {
        for (t = 0; aml_learner_types[t]; t++)
            if (strcmp(aml_learner_types[t]->name, s->learners[l].name) == 0)
                seen[t] = 1;
        aml_model *m = NULL, *back;
        aml_config c;

        assert_int_equal(aml_config_init(&c, s, l), 0);
        if (aml_model_fit(&m, d, s, &c, (long)l, "x", 0.25, 3, 1) < 0)
            fail_msg("%s: %s", s->learners[l].name, aml_error_message());
        back = save_load_same(m, d->features);
        assert_string_equal(aml_model_learner(back), s->learners[l].name);
        assert_string_equal(aml_model_params(back), aml_model_params(m));
        assert_int_equal(aml_model_member_trial(back, 0), (long)l);
        assert_true(aml_model_member_score(back, 0) == 0.25);
        assert_true(aml_model_score(back) == 0.25);
        assert_string_equal(aml_model_method(back), "none");
        aml_model_free(m);
        aml_model_free(back);
        aml_config_dispose(&c);
    }
    aml_space_free(s);
    aml_dataset_free(d);
}

static void test_every_learner(void **state)
{
    int seen[64] = {0}, t;

    (void)state;
    every_learner("runner/penguins.yaml", AML_TASK_CLASSIFICATION, seen);
    every_learner("runner/regression.yaml", AML_TASK_REGRESSION, seen);
    for (t = 0; aml_learner_types[t]; t++)
        if (!seen[t])
            fail_msg("learner %s was not round-tripped", aml_learner_types[t]->name);
    assert_int_equal(t, 14);
}

/* Fits learner `name` (default parameters) on rows[0..n) of d (NULL: all). */
static void fit_pipe(aml_pipeline *p, const aml_dataset *d, const aml_space *s,
                     const char *name, const size_t *rows, size_t n, uint64_t stream)
{
    aml_config c;
    aml_rng rng;
    size_t l;

    for (l = 0; strcmp(s->learners[l].name, name) != 0; l++)
        ;
    assert_int_equal(aml_config_init(&c, s, l), 0);
    aml_rng_init(&rng, 5, stream);
    if (aml_pipeline_fit(p, d, s, &c, rows, n, &rng, 1) < 0)
        fail_msg("%s", aml_error_message());
    aml_config_dispose(&c);
}

static void add(aml_model *m, const aml_space *s, const char *name, double weight,
                aml_pipeline *pipes, int n)
{
    aml_config c;
    size_t l;

    for (l = 0; strcmp(s->learners[l].name, name) != 0; l++)
        ;
    assert_int_equal(aml_config_init(&c, s, l), 0);
    if (aml_model_add_member(m, s, &c, (long)l, 0.5, weight, pipes, n) < 0)
        fail_msg("%s", aml_error_message());
    aml_config_dispose(&c);
}

/*
 * Three members of weights 2, 1 and 0: the model predicts
 * (2 p0 + 1 p1) / 3, the last member not counting at all.
 */
static void test_weighted_members(void **state)
{
    aml_dataset *d = load_data("runner/penguins.yaml");
    aml_space *s = default_space(AML_TASK_CLASSIFICATION);
    aml_pipeline p[3];
    aml_model *m = NULL, *back;
    size_t n = d->n, K = 3, t;
    double *mine, *p0, *p1;

    (void)state;
    fit_pipe(&p[0], d, s, "decision_tree", NULL, 0, 0);
    fit_pipe(&p[1], d, s, "naive_bayes", NULL, 0, 1);
    fit_pipe(&p[2], d, s, "knn", NULL, 0, 2);
    p0 = calloc(n * K, sizeof(double));
    p1 = calloc(n * K, sizeof(double));
    assert_int_equal(aml_pipeline_predict(&p[0], d->features, NULL, n, p0), 0);
    assert_int_equal(aml_pipeline_predict(&p[1], d->features, NULL, n, p1), 0);

    assert_int_equal(aml_model_new(&m, d, "accuracy"), 0);
    add(m, s, "decision_tree", 2.0, &p[0], 1);
    add(m, s, "naive_bayes", 1.0, &p[1], 1);
    add(m, s, "knn", 0.0, &p[2], 1);
    assert_null(p[0].learner); /* ownership moved */
    assert_int_equal(aml_model_set_summary(m, "selection", 0.97), 0);
    mine = predict(m, d->features);
    for (t = 0; t < n * K; t++)
        assert_close(mine[t], (2 * p0[t] + p1[t]) / 3, 1e-14);

    back = save_load_same(m, d->features);
    assert_int_equal(aml_model_n_members(back), 3);
    assert_true(aml_model_member_weight(back, 0) == 2.0);
    assert_true(aml_model_member_weight(back, 2) == 0.0);
    assert_string_equal(aml_model_member_learner(back, 1), "naive_bayes");
    assert_string_equal(aml_model_learner(back), "decision_tree");
    assert_string_equal(aml_model_method(back), "selection");
    assert_true(aml_model_score(back) == 0.97);
    assert_null(aml_model_stack(back));
    assert_null(aml_model_member_pipe(back, 3, 0));
    assert_null(aml_model_member_pipe(back, 0, 1));
    free(mine);
    free(p0);
    free(p1);
    aml_model_free(m);
    aml_model_free(back);
    aml_space_free(s);
    aml_dataset_free(d);
}

/* A member of three fold pipelines predicts their plain mean. */
static void test_fold_pipelines(void **state)
{
    aml_dataset *d = load_data("runner/regression.yaml");
    aml_space *s = default_space(AML_TASK_REGRESSION);
    aml_pipeline p[3];
    aml_model *m = NULL, *back;
    size_t n = d->n, *rows = calloc(n, sizeof(size_t)), i, t;
    double *want = calloc(n, sizeof(double)), *one = calloc(n, sizeof(double)), *got;
    int g;

    (void)state;
    for (g = 0; g < 3; g++) {
        size_t nr = 0;

        for (i = 0; i < n; i++)
            if ((int)(i % 3) != g)
                rows[nr++] = i;
        fit_pipe(&p[g], d, s, "ridge", rows, nr, (uint64_t)g);
        assert_int_equal(aml_pipeline_predict(&p[g], d->features, NULL, n, one), 0);
        for (t = 0; t < n; t++)
            want[t] += one[t] / 3;
    }
    assert_int_equal(aml_model_new(&m, d, "rmse"), 0);
    add(m, s, "ridge", 1.0, p, 3);
    assert_int_equal(aml_model_member_n_pipes(m, 0), 3);
    got = predict(m, d->features);
    for (t = 0; t < n; t++)
        assert_close(got[t], want[t], 1e-12);
    back = save_load_same(m, d->features);
    assert_int_equal(aml_model_member_n_pipes(back, 0), 3);
    assert_non_null(aml_model_member_pipe(back, 0, 2));
    free(rows);
    free(want);
    free(one);
    free(got);
    aml_model_free(m);
    aml_model_free(back);
    aml_space_free(s);
    aml_dataset_free(d);
}

/*
 * A stacked model of two members; its prediction is the stack's on the
 * members' outputs side by side (member order), checked by building Z by
 * hand.  The stack is fitted on in-sample outputs here: the test is about
 * plumbing, not about honest scores.
 */
static aml_model *stacked_model(const aml_dataset *d, const aml_space *s, int passthrough)
{
    static const char *const meta[] = {"logistic_regression"};
    aml_stack_options o = {1, meta, 1, NULL, passthrough};
    size_t n = d->n, K = 3, i, c;
    double *Z = calloc(n * 2 * K, sizeof(double)), *one = calloc(n * K, sizeof(double));
    int *fold_of = calloc(n, sizeof(int)), j;
    aml_pipeline p[2];
    aml_stack *st = NULL;
    aml_model *m = NULL;
    aml_rng rng;

    fit_pipe(&p[0], d, s, "decision_tree", NULL, 0, 0);
    fit_pipe(&p[1], d, s, "naive_bayes", NULL, 0, 1);
    for (j = 0; j < 2; j++) {
        assert_int_equal(aml_pipeline_predict(&p[j], d->features, NULL, n, one), 0);
        for (i = 0; i < n; i++)
            for (c = 0; c < K; c++)
                Z[i * 2 * K + (size_t)j * K + c] = one[i * K + c];
    }
    for (i = 0; i < n; i++)
        fold_of[i] = (int)(i % 3);
    aml_rng_init(&rng, 9, 0);
    if (aml_stack_fit(&st, &o, AML_TASK_CLASSIFICATION, 3, Z, n, 2 * K, d->features, d->y,
                      fold_of, 3, &rng, 1, NULL) < 0)
        fail_msg("%s", aml_error_message());
    assert_int_equal(aml_model_new(&m, d, "accuracy"), 0);
    add(m, s, "decision_tree", 1.0, &p[0], 1);
    add(m, s, "naive_bayes", 1.0, &p[1], 1);
    {
        double *want = calloc(n * K, sizeof(double)), *got;

        assert_int_equal(aml_stack_predict(st, Z, d->features, NULL, n, want), 0);
        if (aml_model_set_stack(m, st) < 0)
            fail_msg("%s", aml_error_message());
        got = predict(m, d->features);
        assert_memory_equal(got, want, n * K * sizeof(double));
        free(want);
        free(got);
    }
    free(Z);
    free(one);
    free(fold_of);
    return m;
}

static void test_stacked_model(void **state)
{
    aml_dataset *d = load_data("runner/penguins.yaml");
    aml_space *s = default_space(AML_TASK_CLASSIFICATION);
    int pass;

    (void)state;
    for (pass = 0; pass < 2; pass++) {
        aml_model *m = stacked_model(d, s, pass), *back;

        assert_string_equal(aml_model_method(m), "stacking");
        back = save_load_same(m, d->features);
        assert_non_null(aml_model_stack(back));
        assert_int_equal(aml_stack_passthrough(aml_model_stack(back)), pass);
        assert_int_equal(aml_stack_inputs(aml_model_stack(back)), 6);
        aml_model_free(m);
        aml_model_free(back);
    }
    aml_space_free(s);
    aml_dataset_free(d);
}

/* Members must agree with the model; bad ones are refused and freed. */
static void test_member_checks(void **state)
{
    aml_dataset *d = load_data("runner/penguins.yaml");
    aml_dataset *r = load_data("runner/regression.yaml");
    aml_space *s = default_space(AML_TASK_CLASSIFICATION);
    aml_space *sr = default_space(AML_TASK_REGRESSION);
    aml_pipeline p = {0};
    aml_model *m = NULL;
    aml_config c;

    (void)state;
    assert_int_equal(aml_model_new(&m, d, "accuracy"), 0);
    assert_string_equal(aml_model_learner(m), "");
    assert_int_equal(aml_config_init(&c, s, 0), 0);
    fit_pipe(&p, d, s, "decision_tree", NULL, 0, 0);
    assert_int_equal(aml_model_add_member(m, s, &c, 0, 0.5, -1.0, &p, 1), AML_EINVAL);
    assert_null(p.learner); /* freed even on failure */
    fit_pipe(&p, d, s, "decision_tree", NULL, 0, 0);
    assert_int_equal(aml_model_add_member(m, s, &c, 0, 0.5, NAN, &p, 1), AML_EINVAL);
    assert_int_equal(aml_model_add_member(m, s, &c, 0, 0.5, 1.0, &p, 0), AML_EINVAL);
    fit_pipe(&p, r, sr, "decision_tree", NULL, 0, 0); /* a regression pipeline */
    assert_int_equal(aml_model_add_member(m, s, &c, 0, 0.5, 1.0, &p, 1), AML_EINVAL);
    assert_int_equal(aml_model_n_members(m), 0);
    {
        aml_frame *f = NULL;

        assert_int_equal(aml_model_read_csv(&f, m, tmp_path("none.csv")), AML_EINVAL);
        assert_int_equal(aml_model_save(m, tmp_path("empty.model")), AML_EINVAL);
    }
    aml_config_dispose(&c);
    aml_model_free(m);
    aml_space_free(s);
    aml_space_free(sr);
    aml_dataset_free(d);
    aml_dataset_free(r);
}

static unsigned char *model_bytes(const aml_model *m, size_t *len)
{
    FILE *f;
    unsigned char *buf;
    long n;

    assert_int_equal(aml_model_save(m, tmp_path("bytes.model")), 0);
    f = fopen(tmp_path("bytes.model"), "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void put_u64(unsigned char *p, uint64_t v)
{
    int i;

    for (i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/*
 * A small stacked model of two members (a depth-2 tree, naive Bayes) with
 * passthrough: every truncation fails with AML_EFORMAT; every single byte
 * changed with the checksum recomputed (so the decoder itself sees it)
 * either fails cleanly or loads (a changed number can be valid); foreign
 * and empty input fail.
 */
static void test_damaged_files(void **state)
{
    aml_dataset *d = load_data("runner/penguins.yaml");
    aml_space *s = default_space(AML_TASK_CLASSIFICATION);
    aml_model *m = stacked_model(d, s, 1), *back = NULL;
    unsigned char *buf, *copy;
    size_t len, cut, i;
    int loaded = 0; /* a changed number is often still a valid model */

    (void)state;
    buf = model_bytes(m, &len);
    copy = malloc(len);
    assert_int_equal(aml_model_load_buffer(&back, buf, len), 0);
    aml_model_free(back);
    for (cut = 0; cut < len; cut++) {
        back = NULL;
        assert_int_equal(aml_model_load_buffer(&back, buf, cut), AML_EFORMAT);
        assert_null(back);
        assert_true(strlen(aml_error_message()) > 0);
    }
    for (i = 20; i + 8 < len; i++) {
        memcpy(copy, buf, len);
        copy[i] ^= 0xA5;
        put_u64(copy + len - 8, aml_fnv1a64(copy, len - 8));
        back = NULL;
        if (aml_model_load_buffer(&back, copy, len) == 0) {
            loaded++;
            aml_model_free(back);
        } else {
            assert_null(back);
        }
    }
    assert_true(loaded < (int)(len - 28)); /* the structural bytes are checked */
    assert_int_equal(aml_model_load_buffer(&back, "", 0), AML_EFORMAT);
    assert_int_equal(aml_model_load_buffer(&back, "a,b\n1,2\n", 8), AML_EFORMAT);
    assert_non_null(strstr(aml_error_message(), "not an automl model file"));
    free(buf);
    free(copy);
    aml_model_free(m);
    aml_space_free(s);
    aml_dataset_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_learner),  cmocka_unit_test(test_weighted_members),
        cmocka_unit_test(test_fold_pipelines), cmocka_unit_test(test_stacked_model),
        cmocka_unit_test(test_member_checks),  cmocka_unit_test(test_damaged_files),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
