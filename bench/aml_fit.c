/*
 * aml_fit.c - one learner fitted and scored on a train/test split, for the
 * benchmarks that compare automl's learners with scikit-learn and XGBoost.
 *
 *   aml_fit TRAIN.csv TEST.csv TARGET LEARNER [name=value ...]
 *           [--task classification|regression] [--threads N] [--seed S]
 *           [--dump FILE]
 *
 * Reads both files with the product's CSV reader, fits the preprocessing
 * (imputation, one-hot, scaling when the learner wants it) on the training
 * file, then times the learner's fit and predict alone and prints one line:
 *   fit_s=... predict_s=... fit_cpu_s=... predict_cpu_s=... score=...
 *   metric=accuracy|rmse maxrss_kb=...
 * (the _cpu_s times are the process's CPU time, user + system, which a
 * shared machine disturbs less than the wall times).
 * --dump writes the raw predictions (%.17g, one row a line) to FILE, so that a
 * change meant to keep results can be checked bit for bit.
 * Class labels of the test file are encoded with the training file's classes;
 * a label never seen in training counts as an error of the model.
 */
#include "aml.h"
#include "dataset.h"
#include "metric.h"
#include "prep.h"
#include "runner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int die(const char *what)
{
    fprintf(stderr, "aml_fit: %s: %s\n", what, aml_error_message());
    return 1;
}

/* Writes n rows of k predictions to path, exactly (%.17g). */
static int dump_predictions(const char *path, const double *pred, size_t n, int k)
{
    FILE *f = fopen(path, "w");
    size_t r;
    int j;

    if (!f)
        return aml_error_set(AML_EIO, "cannot write %s", path);
    for (r = 0; r < n; r++)
        for (j = 0; j < k; j++)
            fprintf(f, "%.17g%c", pred[r * (size_t)k + (size_t)j],
                    j + 1 < k ? ' ' : '\n');
    if (fclose(f) != 0)
        return aml_error_set(AML_EIO, "cannot write %s", path);
    return 0;
}

/* Parses "name=value" as a number when it is one, else a word. */
static void parse_param(const char *arg, char *name, size_t n, aml_value *v)
{
    const char *eq = strchr(arg, '=');
    char *end;

    snprintf(name, n, "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
    memset(v, 0, sizeof(*v));
    v->str = eq ? eq + 1 : "";
    v->kind = AML_VAL_STR;
    v->i = strtoll(v->str, &end, 10);
    if (*v->str && *end == '\0') {
        v->kind = AML_VAL_INT;
        return;
    }
    v->real = strtod(v->str, &end);
    if (*v->str && *end == '\0')
        v->kind = AML_VAL_REAL;
}

/* Test-set targets as class indices of the training classes (-1: unseen). */
static double *test_targets(const aml_dataset *train, const aml_frame *test)
{
    long col = aml_frame_find(test, train->target);
    size_t n = aml_frame_rows(test), i;
    double *y = calloc(n ? n : 1, sizeof(double));
    char buf[64];
    int k;

    if (col < 0 || !y)
        return NULL;
    for (i = 0; i < n; i++) {
        const char *label = buf;

        if (aml_frame_type(test, (size_t)col) == AML_COL_NUMERIC) {
            double x = aml_frame_real(test, (size_t)col)[i];

            if (train->task == AML_TASK_REGRESSION) {
                y[i] = x;
                continue;
            }
            snprintf(buf, sizeof(buf), x == floor(x) && fabs(x) < 1e15 ? "%.0f" : "%.17g",
                     x);
        } else {
            int32_t c = aml_frame_codes(test, (size_t)col)[i];

            label = c < 0 ? "" : aml_frame_level(test, (size_t)col, (size_t)c);
        }
        y[i] = -1;
        for (k = 0; k < train->n_classes; k++)
            if (strcmp(train->classes[k], label) == 0)
                y[i] = k;
    }
    return y;
}

int main(int argc, char **argv)
{
    aml_spec spec = {0};
    aml_dataset *d = NULL;
    aml_frame *test = NULL;
    aml_prep *prep = NULL;
    aml_prep_options popt = {0};
    aml_learner *l = NULL;
    const aml_learner_type *type;
    aml_matrix Xtr = {0}, Xte = {0};
    aml_rng rng;
    struct rusage ru;
    double t0, c0, fit_s, predict_s, fit_cpu, predict_cpu, *pred, *yte, score;
    int threads = 1, i, outs;
    const char *dump = NULL;
    unsigned long long seed = 0;
    size_t *rows, r, n_test;

    if (argc < 5) {
        fprintf(stderr,
                "usage: aml_fit TRAIN.csv TEST.csv TARGET LEARNER [name=value ...]"
                " [--task T] [--threads N] [--seed S] [--dump FILE]\n");
        return 2;
    }
    spec.path = "aml_fit";
    spec.train = argv[1];
    spec.target = argv[3];
    spec.task = AML_SPEC_TASK_INFER;
    if (!(type = aml_learner_type_find(argv[4]))) {
        fprintf(stderr, "aml_fit: unknown learner %s\n", argv[4]);
        return 2;
    }
    for (i = 5; i < argc; i++) {
        if (strcmp(argv[i], "--task") == 0 && i + 1 < argc)
            spec.task = strcmp(argv[++i], "regression") == 0
                            ? AML_SPEC_TASK_REGRESSION
                            : AML_SPEC_TASK_CLASSIFICATION;
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc)
            dump = argv[++i];
    }

    if (aml_dataset_load(&d, &spec) < 0)
        return die(argv[1]);
    if (aml_frame_read_csv(&test, argv[2], NULL) < 0)
        return die(argv[2]);
    popt.scale = (type->flags & AML_LEARNER_WANTS_SCALING) != 0;
    rows = malloc(d->n * sizeof(*rows));
    for (r = 0; r < d->n; r++)
        rows[r] = r;
    if (aml_prep_fit(&prep, d->features, rows, d->n, &popt) < 0 ||
        aml_prep_transform(prep, d->features, rows, d->n, &Xtr) < 0 ||
        aml_prep_transform(prep, test, NULL, aml_frame_rows(test), &Xte) < 0)
        return die("preprocessing");

    if (aml_learner_new(&l, type, d->task) < 0)
        return die("learner");
    for (i = 5; i < argc; i++) {
        char name[128];
        aml_value v;

        if (strncmp(argv[i], "--", 2) == 0) {
            i++;
            continue;
        }
        parse_param(argv[i], name, sizeof(name), &v);
        if (aml_learner_set_param(l, name, &v) < 0)
            return die(argv[i]);
    }

    aml_rng_init(&rng, seed, 0);
    aml_blas_threads(1); /* as in the product (cli/main.c): threads go to the learner */
    t0 = now();
    c0 = cpu_now();
    if (aml_learner_fit(l, &Xtr, d->y, NULL, d->n_classes, &rng, threads) < 0)
        return die("fit");
    fit_s = now() - t0;
    fit_cpu = cpu_now() - c0;

    n_test = aml_frame_rows(test);
    outs = aml_learner_outputs(l);
    pred = calloc(n_test * (size_t)outs, sizeof(double));
    t0 = now();
    c0 = cpu_now();
    if (aml_learner_predict(l, &Xte, pred) < 0)
        return die("predict");
    predict_s = now() - t0;
    predict_cpu = cpu_now() - c0;

    if (!(yte = test_targets(d, test)))
        return die("test target");
    if (d->task == AML_TASK_CLASSIFICATION) {
        size_t right = 0;

        for (r = 0; r < n_test; r++) {
            int k, best = 0;

            for (k = 1; k < outs; k++)
                if (pred[r * outs + k] > pred[r * outs + best])
                    best = k;
            right += yte[r] == best;
        }
        score = (double)right / (double)n_test;
    } else {
        score = aml_metric_find("rmse")->score(yte, pred, n_test, 0);
    }
    if (dump && dump_predictions(dump, pred, n_test, outs) < 0)
        return die(dump);
    getrusage(RUSAGE_SELF, &ru);
    printf(
        "fit_s=%.6f predict_s=%.6f fit_cpu_s=%.6f predict_cpu_s=%.6f score=%.6f metric=%s"
        " maxrss_kb=%ld\n",
        fit_s, predict_s, fit_cpu, predict_cpu, score,
        d->task == AML_TASK_CLASSIFICATION ? "accuracy" : "rmse", ru.ru_maxrss);
    return 0;
}
