/*
 * test_runner_memo.c - the runner's search-wide memo (trials/runner.c,
 * learners/memo.h) changes times only: a grid of kNN configurations gives
 * the same trial scores, fold scores and out-of-fold predictions, to the
 * bit, with the memo and without it (opt.no_memo), at 1 and 2 threads.
 * The reference is the memo-less run at one thread, the runner as it was
 * before the memo.
 */
#include "testutil.h"

#include "aml.h"
#include "runner.h"
#include "spec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_TRIALS 20
#define N_FOLDS 4

typedef struct outcome {
    long n;
    double score[N_TRIALS];
    double folds[N_TRIALS][N_FOLDS];
    long long id[N_TRIALS];
    double *oof[N_TRIALS];
    size_t oof_n[N_TRIALS];
    int outputs[N_TRIALS];
} outcome;

static int on_record(const aml_trial_record *r, void *payload)
{
    outcome *o = payload;

    assert_true(r->number >= 0 && r->number < N_TRIALS);
    assert_int_equal(r->status, AML_TRIAL_OK);
    assert_int_equal(r->k, N_FOLDS);
    o->score[r->number] = r->score;
    memcpy(o->folds[r->number], r->fold_scores, N_FOLDS * sizeof(double));
    o->id[r->number] = r->id;
    o->n++;
    return 0;
}

/* Runs the grid at `threads` with or without the memo into a fresh store. */
static void run(const aml_spec *spec, const aml_dataset *d, int threads, int no_memo,
                outcome *o)
{
    aml_run_options opt = {0};
    aml_run_summary sum;
    aml_store *st;
    long long study;
    char name[64];
    long i;

    memset(o, 0, sizeof(*o));
    snprintf(name, sizeof(name), "memo_%d_%d.db", threads, no_memo);
    st = aml_test_fresh_store(name, &study);
    opt.folds = spec->folds;
    opt.stratified = spec->stratified;
    opt.cv_seed = spec->cv_seed;
    opt.seed = spec->seed;
    opt.threads = threads;
    opt.metric = aml_metric_find(spec->metric);
    opt.store = st;
    opt.study_id = study;
    opt.no_memo = no_memo;
    assert_int_equal(aml_run_search(&sum, d, spec->space,
                                    aml_search_type_find(spec->strategy), &opt, NULL,
                                    NULL),
                     0);
    assert_int_equal(sum.reason, AML_STOP_EXHAUSTED);
    assert_int_equal(aml_store_trial_records(st, study, on_record, o), 0);
    assert_int_equal(o->n, N_TRIALS);
    for (i = 0; i < N_TRIALS; i++)
        assert_int_equal(
            aml_store_oof_load(st, o->id[i], 0, &o->oof[i], &o->oof_n[i], &o->outputs[i]),
            0);
    aml_run_summary_dispose(&sum);
    aml_store_free(st);
}

static void outcome_dispose(outcome *o)
{
    long i;

    for (i = 0; i < N_TRIALS; i++)
        free(o->oof[i]);
}

static void assert_same(const outcome *a, const outcome *b)
{
    long i;

    for (i = 0; i < N_TRIALS; i++) {
        assert_memory_equal(&a->score[i], &b->score[i], sizeof(double));
        assert_memory_equal(a->folds[i], b->folds[i], sizeof(a->folds[i]));
        assert_int_equal(a->oof_n[i], b->oof_n[i]);
        assert_int_equal(a->outputs[i], b->outputs[i]);
        assert_memory_equal(a->oof[i], b->oof[i],
                            a->oof_n[i] * (size_t)a->outputs[i] * sizeof(double));
    }
}

static void test_runner_memo_same_results(void **state)
{
    aml_spec *spec = aml_test_load_spec("runner/knn_memo.yaml");
    aml_dataset *d = NULL;
    static outcome ref, memo1, memo2, plain2;
    long i, j, distinct;

    (void)state;
    assert_int_equal(aml_dataset_load(&d, spec), 0);
    run(spec, d, 1, 1, &ref);
    run(spec, d, 1, 0, &memo1);
    run(spec, d, 2, 0, &memo2);
    run(spec, d, 2, 1, &plain2);
    /* The configurations score differently (a wrong k would show), but
     * for k = 1, where both weightings take the one neighbour: 18 distinct. */
    for (i = 0, distinct = 0; i < N_TRIALS; i++) {
        for (j = 0; j < i && ref.score[j] != ref.score[i]; j++)
            ;
        distinct += j == i;
    }
    assert_int_equal(distinct, N_TRIALS - 2);
    assert_same(&ref, &memo1);
    assert_same(&ref, &memo2);
    assert_same(&ref, &plain2);
    outcome_dispose(&ref);
    outcome_dispose(&memo1);
    outcome_dispose(&memo2);
    outcome_dispose(&plain2);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runner_memo_same_results),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
