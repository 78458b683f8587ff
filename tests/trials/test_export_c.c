/*
 * test_export_c.c - a model exported as C (trials/export_c.c) predicts what
 * the model predicts.
 *
 * Every learner kind, for classification and for regression, is fitted on
 * the shipped penguins data (quoted text columns, missing values; the
 * spec draws the preprocessing options per trial), exported, compiled with
 * nothing but `cc -std=c99 -O2 ... -lm` (skipped when there is no cc) and
 * run as a program on a CSV.  Its outputs (-DAUTOML_EXACT: %.17g) must be
 * aml_model_predict's bit for bit for the bit-exact learners and within
 * 1e-12 for those whose predict sums through BLAS.  Without AUTOML_EXACT
 * the program's output must be byte for byte `automl predict`'s.  Models of
 * several members (weighted, fold pipelines) and stacked models are built
 * by hand and checked the same way, and one larger shared data set when
 * ../shared/datasets is there.
 */
#include "testutil.h"

#include "aml.h"
#include "export_c.h"
#include "metric.h"
#include "model.h"
#include "search.h"
#include "stack.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define BLAS_TOL 1e-12

/* Learners whose predict sums through BLAS: the export agrees to rounding. */
static const char *const blas_learners[] = {
    "logistic_regression", "ridge", "lasso", "elastic_net",
    "linear_svm",          "svm",   "mlp",   NULL};

static int have_cc(void)
{
    return system("cc --version >/dev/null 2>&1") == 0;
}

static int is_blas(const char *learner)
{
    size_t i;

    for (i = 0; blas_learners[i]; i++)
        if (strcmp(blas_learners[i], learner) == 0)
            return 1;
    return 0;
}

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

static const char *tmp_path(const char *fmt, int i)
{
    static char path[4][512];
    static int slot;
    char name[64];

    slot = (slot + 1) % 4;
    snprintf(name, sizeof(name), fmt, i);
    snprintf(path[slot], sizeof(path[slot]), "%s/%s", aml_test_tmpdir(), name);
    return path[slot];
}

/* Exports m and builds it as the CSV program (exact: with AUTOML_EXACT). */
static void build_program(const aml_model *m, const char *exe, int exact)
{
    char src[600], cmd[2048];

    snprintf(src, sizeof(src), "%s.c", exe);
    if (aml_model_export_c(m, src) < 0)
        fail_msg("export: %s", aml_error_message());
    snprintf(cmd, sizeof(cmd),
             "cc -std=c99 -O2 -Wall -Wextra -Werror -DAUTOML_MAIN %s -o %s %s -lm",
             exact ? "-DAUTOML_EXACT" : "", exe, src);
    if (system(cmd) != 0)
        fail_msg("cannot compile %s", src);
}

/* Runs `exe [args] < csv > out`; returns its exit status. */
static int run(const char *exe, const char *args, const char *csv, const char *out)
{
    char cmd[2048];

    snprintf(cmd, sizeof(cmd), "%s %s < %s > %s 2>/dev/null", exe, args, csv, out);
    return system(cmd);
}

/* Reads the AUTOML_EXACT output: a header, then per row [label,] outputs. */
static double *read_exact(const char *path, size_t rows, int outputs, int labelled)
{
    double *v = malloc(rows * (size_t)outputs * sizeof(double) + 1);
    char line[8192];
    size_t r;
    FILE *f = fopen(path, "r");
    int k;

    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    for (r = 0; r < rows; r++) {
        char *p = line, *end;

        if (!fgets(line, sizeof(line), f))
            fail_msg("%s: row %zu of %zu missing", path, r, rows);
        if (labelled)
            p = strchr(line, ',') + 1;
        for (k = 0; k < outputs; k++, p = end + 1) {
            v[r * (size_t)outputs + (size_t)k] = strtod(p, &end);
            assert_true(end != p);
        }
    }
    assert_null(fgets(line, sizeof(line), f));
    fclose(f);
    return v;
}

/* The exported program against aml_model_predict on csv. */
static void check_outputs(const aml_model *m, const char *exe, const char *csv,
                          const char *what, int blas)
{
    int K = aml_model_outputs(m);
    aml_frame *f = NULL;
    double *want, *got, worst = 0;
    size_t n, i;

    if (aml_model_read_csv(&f, m, csv) < 0)
        fail_msg("%s", aml_error_message());
    n = aml_frame_rows(f);
    want = calloc(n * (size_t)K + 1, sizeof(double));
    assert_int_equal(aml_model_predict(m, f, want), 0);
    assert_int_equal(run(exe, "", csv, tmp_path("exact%d.out", 0)), 0);
    got = read_exact(tmp_path("exact%d.out", 0), n, K,
                     aml_model_task(m) == AML_TASK_CLASSIFICATION);
    for (i = 0; i < n * (size_t)K; i++) {
        double err = fabs(got[i] - want[i]) / fmax(1.0, fabs(want[i]));

        if (!blas && memcmp(&got[i], &want[i], sizeof(double)) != 0)
            fail_msg("%s: output %zu is %.17g, the model gives %.17g", what, i, got[i],
                     want[i]);
        if (!(err <= BLAS_TOL))
            fail_msg("%s: output %zu is %.17g, the model gives %.17g", what, i, got[i],
                     want[i]);
        worst = fmax(worst, err);
    }
    if (blas)
        print_message("    %s: largest relative difference %.3g\n", what, worst);
    free(want), free(got);
    aml_frame_free(f);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = calloc((size_t)n + 1, 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return buf;
}

/* The program's plain output is `automl predict`'s, byte for byte. */
static void check_cli_text(const aml_model *m, const char *exe, const char *csv,
                           const char *args)
{
    const char *model = tmp_path("cli%d.model", 0), *a = tmp_path("cli%d.a", 0);
    const char *b = tmp_path("cli%d.b", 0);
    char cmd[2048], *ta, *tb;

    assert_int_equal(aml_model_save(m, model), 0);
    snprintf(cmd, sizeof(cmd), "%s predict %s %s %s > %s 2>/dev/null", AML_BINARY, model,
             csv, args, a);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(run(exe, args, csv, b), 0);
    ta = slurp(a), tb = slurp(b);
    assert_string_equal(tb, ta);
    free(ta), free(tb);
}

/* The odd CSV: quotes, blank lines, unseen levels, other tokens, extra column. */
static const char *odd_csv(void)
{
    static char path[512];

    snprintf(path, sizeof(path), "%s", aml_test_fixture("export_c/odd.csv"));
    return path;
}

/* Fits each learner of the spec (one trial each) and checks its export. */
static void every_learner(const char *spec_name, const char *const *csvs)
{
    aml_spec *spec = load_spec(spec_name);
    aml_dataset *d = NULL;
    aml_search *search = NULL;
    size_t l, k;

    assert_int_equal(aml_dataset_load(&d, spec), 0);
    assert_int_equal(aml_search_new(&search, &aml_search_random, spec->space, 7), 0);
    for (l = 0; l < spec->space->n_learners; l++) {
        const char *name = spec->space->learners[l].name;
        char exe[512];
        aml_model *m = NULL;
        aml_config c;
        char what[256];
        long t;

        snprintf(exe, sizeof(exe), "%s", tmp_path("learner%d", (int)l));
        for (t = 0;; t++) {
            assert_int_equal(aml_search_ask(search, t, &c), 0);
            if (c.learner == l)
                break;
            aml_config_dispose(&c);
        }
        if (aml_model_fit(&m, d, spec->space, &c, t, "accuracy", 0.5, 1, 1) < 0)
            fail_msg("%s: %s", name, aml_error_message());
        build_program(m, exe, 1);
        for (k = 0; csvs[k]; k++) {
            aml_config_format(&c, what, sizeof(what));
            check_outputs(m, exe, csvs[k], what, is_blas(name));
        }
        if (!is_blas(name)) {
            build_program(m, exe, 0);
            check_cli_text(m, exe, csvs[0], "");
            if (aml_model_task(m) == AML_TASK_CLASSIFICATION)
                check_cli_text(m, exe, csvs[1], "--proba");
        }
        aml_model_free(m);
        aml_config_dispose(&c);
    }
    aml_search_free(search);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

static void test_every_classifier(void **state)
{
    const char *csvs[] = {AML_SOURCE_DIR "/examples/penguins/penguins.csv", odd_csv(),
                          NULL};

    AML_UNUSED(state);
    if (!have_cc())
        skip();
    every_learner("export_c/clf.yaml", csvs);
}

static void test_every_regressor(void **state)
{
    const char *csvs[] = {AML_SOURCE_DIR "/examples/penguins/penguins.csv", odd_csv(),
                          NULL};

    AML_UNUSED(state);
    if (!have_cc())
        skip();
    every_learner("export_c/reg.yaml", csvs);
}

/* ---- ensembles ------------------------------------------------------------ */

/* A configuration of learner l: the strategy's first proposal of it. */
static void config_of(aml_search *search, size_t l, aml_config *c)
{
    long t;

    for (t = 0;; t++) {
        assert_int_equal(aml_search_ask(search, t, c), 0);
        if (c->learner == l)
            return;
        aml_config_dispose(c);
    }
}

/* Fold pipelines of c: k fits, each leaving out every k-th row. */
static aml_pipeline *fold_pipes(const aml_dataset *d, const aml_space *s,
                                const aml_config *c, int k)
{
    aml_pipeline *p = calloc((size_t)k, sizeof(*p));
    size_t *rows = malloc(d->n * sizeof(size_t)), i, n;
    aml_rng rng;
    int j;

    for (j = 0; j < k; j++) {
        for (i = 0, n = 0; i < d->n; i++)
            if (k == 1 || (int)(i % (size_t)k) != j)
                rows[n++] = i;
        aml_rng_init(&rng, 3, (uint64_t)j);
        if (aml_pipeline_fit(&p[j], d, s, c, rows, n, &rng, 1) < 0)
            fail_msg("%s", aml_error_message());
    }
    free(rows);
    return p;
}

/* Members 0..n of learners[]: alternately refitted and fold pipelines. */
static aml_model *ensemble_of(const aml_spec *spec, const aml_dataset *d,
                              const size_t *learners, const double *w, int n)
{
    aml_search *search = NULL;
    aml_model *m = NULL;
    int i;

    assert_int_equal(aml_search_new(&search, &aml_search_random, spec->space, 9), 0);
    assert_int_equal(aml_model_new(&m, d, "accuracy"), 0);
    for (i = 0; i < n; i++) {
        aml_config c;
        aml_pipeline *p;
        int k = i % 2 ? 3 : 1;

        config_of(search, learners[i], &c);
        p = fold_pipes(d, spec->space, &c, k);
        if (aml_model_add_member(m, spec->space, &c, i, 0.5, w[i], p, k) < 0)
            fail_msg("%s", aml_error_message());
        free(p);
        aml_config_dispose(&c);
    }
    aml_search_free(search);
    return m;
}

/* A stack over m's members, fitted on their (in-sample) outputs. */
static void add_stack(aml_model *m, const aml_dataset *d, const char *meta, int layers,
                      int passthrough)
{
    int K = aml_model_outputs(m), n = aml_model_n_members(m), i;
    size_t r, q = (size_t)(K * n);
    double *Z = malloc(d->n * q * sizeof(double)),
           *part = malloc(d->n * K * sizeof(double));
    int *fold = malloc(d->n * sizeof(int));
    const char *metas[2] = {meta, meta};
    aml_stack_options o = {layers, metas, layers == 2 ? 2 : 1, meta, passthrough};
    aml_stack *st = NULL;
    aml_rng rng;

    for (i = 0; i < n; i++) {
        assert_int_equal(aml_model_member_predict(m, i, d->features, part), 0);
        for (r = 0; r < d->n; r++)
            memcpy(Z + r * q + (size_t)(i * K), part + r * (size_t)K,
                   (size_t)K * sizeof(double));
    }
    for (r = 0; r < d->n; r++)
        fold[r] = (int)(r % 3);
    aml_rng_init(&rng, 5, 0);
    if (aml_stack_fit(&st, &o, d->task, d->n_classes, Z, d->n, q, d->features, d->y, fold,
                      3, &rng, 1, NULL) < 0)
        fail_msg("stack: %s", aml_error_message());
    assert_int_equal(aml_model_set_stack(m, st), 0);
    free(Z), free(part), free(fold);
}

static void check_ensemble(aml_model *m, const char *what, int blas)
{
    char exe[512];
    const char *csv = AML_SOURCE_DIR "/examples/penguins/penguins.csv";

    snprintf(exe, sizeof(exe), "%s", tmp_path("ens%d", 0));
    build_program(m, exe, 1);
    check_outputs(m, exe, csv, what, blas);
    check_outputs(m, exe, odd_csv(), what, blas);
    aml_model_free(m);
}

static void test_ensembles(void **state)
{
    aml_spec *spec;
    aml_dataset *d = NULL;
    /* clf.yaml: 1 knn, 2 decision_tree, 3 random_forest, 9 gradient_boosting. */
    static const size_t trees[] = {2, 3, 9, 1};
    static const double w[] = {0.5, 0.0, 2.0, 1.0 / 3.0};
    aml_model *m;

    AML_UNUSED(state);
    if (!have_cc())
        skip();
    spec = load_spec("export_c/clf.yaml");
    assert_int_equal(aml_dataset_load(&d, spec), 0);
    check_ensemble(ensemble_of(spec, d, trees, w, 4), "weighted average", 0);
    m = ensemble_of(spec, d, trees, w, 3);
    add_stack(m, d, "decision_tree", 1, 0);
    check_ensemble(m, "stack of a tree", 0);
    m = ensemble_of(spec, d, trees, w, 2);
    add_stack(m, d, "logistic_regression", 2, 1);
    check_ensemble(m, "two-layer logistic stack with passthrough", 1);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

/* ---- a larger shared data set ------------------------------------------- */

static void test_shared_adult(void **state)
{
    const char *path = aml_test_shared("adult.csv");
    char spec_path[600];
    FILE *f;
    aml_spec *spec;
    aml_dataset *d = NULL;
    aml_search *search = NULL;
    aml_model *m = NULL;
    aml_config c;
    char exe[512];

    AML_UNUSED(state);
    if (!path || !have_cc())
        skip();
    snprintf(exe, sizeof(exe), "%s", tmp_path("adult%d", 0));
    snprintf(spec_path, sizeof(spec_path), "%s/adult.yaml", aml_test_tmpdir());
    assert_non_null(f = fopen(spec_path, "w"));
    fprintf(f,
            "study: adult\ndata: {train: %s, target: income}\nmetric: accuracy\n"
            "preprocess: {max_levels: [8], missing_indicator: [true]}\n"
            "search: {strategy: random, trials: 1, seed: 1}\n"
            "learners: {gradient_boosting: {n_estimators: [10]}}\nstore: adult.db\n",
            path);
    fclose(f);
    {
        const char *metrics[16], *strategies[8];
        aml_spec_vocab vocab = {aml_learner_types, metrics, strategies};
        size_t i;

        for (i = 0; aml_metrics[i]; i++)
            metrics[i] = aml_metrics[i]->name;
        metrics[i] = NULL;
        for (i = 0; aml_search_types[i]; i++)
            strategies[i] = aml_search_types[i]->name;
        strategies[i] = NULL;
        if (aml_spec_load(&spec, spec_path, &vocab) < 0)
            fail_msg("%s", aml_error_message());
    }
    assert_int_equal(aml_dataset_load(&d, spec), 0);
    assert_int_equal(aml_search_new(&search, &aml_search_random, spec->space, 1), 0);
    config_of(search, 0, &c);
    assert_int_equal(aml_model_fit(&m, d, spec->space, &c, 0, "accuracy", 0.5, 1, 2), 0);
    build_program(m, exe, 1);
    check_outputs(m, exe, path, "adult gradient boosting", 0);
    aml_model_free(m);
    aml_config_dispose(&c);
    aml_search_free(search);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

/* ---- the program's errors ------------------------------------------------- */

static void test_program_errors(void **state)
{
    aml_spec *spec;
    aml_dataset *d = NULL;
    aml_model *m;
    static const size_t tree[] = {2};
    static const double w[] = {1.0};
    char exe[512], csv[512];
    FILE *f;

    AML_UNUSED(state);
    if (!have_cc())
        skip();
    snprintf(exe, sizeof(exe), "%s", tmp_path("err%d", 0));
    snprintf(csv, sizeof(csv), "%s", tmp_path("bad%d.csv", 0));
    spec = load_spec("export_c/clf.yaml");
    assert_int_equal(aml_dataset_load(&d, spec), 0);
    m = ensemble_of(spec, d, tree, w, 1);
    build_program(m, exe, 0);
    /* A column the model needs is missing; a bad number; a ragged row. */
    assert_non_null(f = fopen(csv, "w"));
    fprintf(f, "island,bill_length_mm\nDream,40\n");
    fclose(f);
    assert_int_equal(WEXITSTATUS(run(exe, "", csv, tmp_path("e%d.out", 1))), 2);
    assert_non_null(f = fopen(csv, "w"));
    fprintf(f, "sex,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g\n"
               "male,Dream,40,18,190,3x00\n");
    fclose(f);
    assert_int_equal(WEXITSTATUS(run(exe, "", csv, tmp_path("e%d.out", 2))), 2);
    assert_non_null(f = fopen(csv, "w"));
    fprintf(f, "sex,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g\n"
               "male,Dream,40,18,190\n");
    fclose(f);
    assert_int_equal(WEXITSTATUS(run(exe, "", csv, tmp_path("e%d.out", 3))), 2);
    /* Nothing half-written: no output at all on an error. */
    {
        char *out = slurp(tmp_path("e%d.out", 3));

        assert_string_equal(out, "");
        free(out);
    }
    aml_model_free(m);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_classifier), cmocka_unit_test(test_every_regressor),
        cmocka_unit_test(test_ensembles),        cmocka_unit_test(test_shared_adult),
        cmocka_unit_test(test_program_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
