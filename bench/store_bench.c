/*
 * store_bench.c - how fast the trials store writes and answers at scale.
 *
 *   store_bench [DB] [TRIALS]      (defaults: $TMPDIR/aml_store_bench.db, 100000)
 *
 * Writes TRIALS trials the way the runner does (batches of 8: one
 * transaction records them running with three parameters each, a second
 * finishes them with a score and five fold scores), then times the reads
 * a user makes: the ranked top 20 (`automl trials --top 20`), the same as
 * JSON, the best trial, the studies listing, and the typed walk a resume
 * does over every trial.  Each read is repeated and the median printed.
 * The targets: under 1 ms of store time per trial written, under
 * 0.5 s for the top 20 at 100k trials.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aml.h"
#include "store.h"

#define BATCH 8
#define FOLDS 5
#define REPEATS 7

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "store_bench: %s: %s\n", what, aml_error_message());
    exit(1);
}

/* A deterministic score per trial: a smooth function plus a hash jitter. */
static double fake_score(long t)
{
    unsigned long long h = (unsigned long long)t * 0x9E3779B97F4A7C15ULL;

    return 0.8 + 0.15 * sin((double)t * 0.001) +
           (double)(h >> 40) / (double)(1ULL << 24) * 0.05;
}

static void write_batch(aml_store *s, long long study, long first, long n)
{
    static const char *const words[] = {"uniform", "distance"};
    long long ids[BATCH];
    double folds[FOLDS];

    if (aml_store_begin(s) < 0)
        die("begin");
    for (long i = 0; i < n; i++) {
        long t = first + i;
        aml_param p[3] = {{"C", {AML_VAL_REAL, 0.001 * (double)(t % 997 + 1), 0, NULL}},
                          {"k", {AML_VAL_INT, 0, t % 50 + 1, NULL}},
                          {"weights", {AML_VAL_STR, 0, 0, words[t % 2]}}};

        if (aml_store_trial_begin(s, &ids[i], study, t, t % 3 ? "knn" : "logreg", p, 3,
                                  1.0) < 0)
            die("trial_begin");
    }
    if (aml_store_commit(s) < 0 || aml_store_begin(s) < 0)
        die("commit");
    for (long i = 0; i < n; i++) {
        double score = fake_score(first + i);

        for (int f = 0; f < FOLDS; f++)
            folds[f] = score + 0.01 * (f - 2);
        if (aml_store_trial_finish(s, ids[i],
                                   (first + i) % 101 ? AML_TRIAL_OK : AML_TRIAL_FAILED,
                                   (first + i) % 101 ? score : NAN, folds, FOLDS,
                                   (first + i) % 101 ? NULL : "diverged", 2.0) < 0)
            die("trial_finish");
    }
    if (aml_store_commit(s) < 0)
        die("commit");
}

static int count_row(const aml_trial_row *row, void *payload)
{
    (void)row;
    ++*(long *)payload;
    return 0;
}

static int count_text(const char *text, void *payload)
{
    *(long *)payload += (long)strlen(text);
    return 0;
}

static int count_record(const aml_trial_record *r, void *payload)
{
    ++*(long *)payload;
    return r->n_params == 3 ? 0 : 1;
}

static int count_study(const aml_study_row *row, void *payload)
{
    *(long *)payload += row->n_trials;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

typedef enum { Q_TOP, Q_JSON, Q_BEST, Q_STUDIES, Q_RECORDS } query_kind;

static double time_query(aml_store *s, long long study, query_kind k, long *out)
{
    aml_trial_query top = {"bench", 20, 1, NULL, NULL},
                    best = {"bench", 1, 1, "ok", NULL};
    double t[REPEATS];

    for (int r = 0; r < REPEATS; r++) {
        double t0 = now();
        int rc = 0;

        *out = 0;
        if (k == Q_TOP)
            rc = aml_store_trials(s, &top, count_row, out);
        else if (k == Q_JSON)
            rc = aml_store_export_trials(s, &top, AML_STORE_JSON, count_text, out);
        else if (k == Q_BEST)
            rc = aml_store_trials(s, &best, count_row, out);
        else if (k == Q_STUDIES)
            rc = aml_store_studies(s, count_study, out);
        else
            rc = aml_store_trial_records(s, study, count_record, out);
        if (rc < 0)
            die("query");
        t[r] = now() - t0;
    }
    qsort(t, REPEATS, sizeof(double), cmp_double);
    return t[REPEATS / 2];
}

static void report_reads(const char *path, long long study)
{
    static const char *const names[] = {"trials --top 20 (ranked)",
                                        "trials --top 20 --format json", "best",
                                        "studies", "resume walk (typed records)"};
    aml_store *s = NULL;
    long n;

    if (aml_store_open(&s, path, 1) < 0)
        die("open read-only");
    for (int k = Q_TOP; k <= Q_RECORDS; k++) {
        double t = time_query(s, study, (query_kind)k, &n);

        printf("%-32s %9.2f ms  (median of %d; %ld %s)\n", names[k], t * 1e3, REPEATS, n,
               k == Q_JSON      ? "bytes"
               : k == Q_STUDIES ? "trials counted"
                                : "rows");
    }
    aml_store_free(s);
}

int main(int argc, char **argv)
{
    const char *tmp = getenv("TMPDIR");
    char path[1024], side[1100];
    long trials = argc > 2 ? atol(argv[2]) : 100000;
    aml_study_info info = {"bench", NULL, "classification", "accuracy", 1, 1, NULL, NULL};
    aml_store *s = NULL;
    long long study;
    double t0, t;

    snprintf(path, sizeof(path), "%s", argc > 1 ? argv[1] : "");
    if (!path[0])
        snprintf(path, sizeof(path), "%s/aml_store_bench.db", tmp ? tmp : "/tmp");
    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);

    if (aml_store_open(&s, path, 0) < 0 ||
        aml_store_study_create(s, &study, &info, 0) < 0)
        die("open");
    t0 = now();
    for (long first = 0; first < trials; first += BATCH)
        write_batch(s, study, first, trials - first < BATCH ? trials - first : BATCH);
    t = now() - t0;
    aml_store_free(s);
    printf("store_bench: %ld trials (3 params, %d folds each) in %s\n", trials, FOLDS,
           path);
    printf("%-32s %9.3f s total, %.1f us per trial (begin + finish, batches of %d)\n",
           "write", t, t / (double)trials * 1e6, BATCH);
    report_reads(path, study);
    return 0;
}
