/*
 * runner.c - the search loop (threading design in runner.h).
 */
#include "runner.h"
#include "aml.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* OpenBLAS's own setter; declared here so no OpenBLAS header leaks out. */
extern void openblas_set_num_threads(int n);

void aml_blas_threads(int n)
{
    openblas_set_num_threads(n > 0 ? n : 1);
}

int aml_resolve_threads(int threads)
{
    int n = threads > 0 ? threads : omp_get_num_procs();

    return n > 0 ? n : 1;
}

/* One batch of trials in flight. */
typedef struct run_batch {
    aml_trial_result r[AML_RUN_BATCH];
    long long ids[AML_RUN_BATCH];
    size_t n;
} run_batch;

/* Per-task scratch of batch_evaluate: one slot per (trial, fold). */
typedef struct run_task {
    double t0, t1;
    int failed;
    char msg[AML_TRIAL_MESSAGE_MAX];
} run_task;

static void batch_dispose(run_batch *b)
{
    size_t i;

    for (i = 0; i < b->n; i++)
        aml_trial_result_dispose(&b->r[i]);
    b->n = 0;
}

/* Asks for up to `want` configurations; returns AML_EXHAUSTED when the space ran out. */
static int batch_ask(run_batch *b, aml_search *s, long first, size_t want, int k)
{
    aml_config c;
    int rc = AML_OK;

    b->n = 0;
    while (b->n < want) {
        memset(&c, 0, sizeof(c));
        rc = aml_search_ask(s, first + (long)b->n, &c);
        if (rc != AML_OK)
            break;
        if ((rc = aml_trial_result_init(&b->r[b->n], first + (long)b->n, &c, k)) < 0) {
            aml_config_dispose(&c);
            break;
        }
        b->n++;
    }
    return rc;
}

static int batch_record_start(run_batch *b, const aml_run_options *opt,
                              const aml_space *space)
{
    aml_store *st = opt->store;
    double now = aml_now();
    size_t i;
    int rc;

    if (!st)
        return AML_OK;
    if ((rc = aml_store_begin(st)) < 0)
        return rc;
    for (i = 0; i < b->n; i++) {
        const aml_config *c = &b->r[i].config;

        rc = aml_store_trial_begin(st, &b->ids[i], opt->study_id, b->r[i].number,
                                   space->learners[c->learner].name, c->params,
                                   c->n_params, now);
        if (rc < 0) {
            aml_store_rollback(st);
            return rc;
        }
    }
    return aml_store_commit(st);
}

/*
 * Folds the task slots back into the trials: start and end times span the
 * trial's folds, and the reported failure is the lowest failing fold's, so
 * the message does not depend on which thread failed first.
 */
static void batch_gather(run_batch *b, const run_task *tasks, int k)
{
    size_t i;
    int f;

    for (i = 0; i < b->n; i++) {
        aml_trial_result *r = &b->r[i];
        const run_task *t = tasks + i * (size_t)k;

        r->t_start = t[0].t0;
        r->t_end = t[0].t1;
        for (f = 0; f < k; f++) {
            r->t_start = t[f].t0 < r->t_start ? t[f].t0 : r->t_start;
            r->t_end = t[f].t1 > r->t_end ? t[f].t1 : r->t_end;
            if (t[f].failed && r->failed_fold < 0) {
                r->failed_fold = f;
                memcpy(r->message, t[f].msg, sizeof(r->message));
            }
        }
    }
}

/* Runs every (trial, fold) task of the batch on the OpenMP team. */
static int batch_evaluate(run_batch *b, const aml_cv *cv, int threads)
{
    long n_tasks = (long)b->n * cv->k;
    run_task *tasks = aml_calloc((size_t)n_tasks, sizeof(*tasks));
    long t;

    if (!tasks)
        return AML_ENOMEM;

#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (t = 0; t < n_tasks; t++) {
        aml_trial_result *r = &b->r[t / cv->k];
        int f = (int)(t % cv->k);

        tasks[t].t0 = aml_now();
        tasks[t].failed = aml_cv_fold(cv, &r->config, r->number, f, &r->fold_scores[f],
                                      tasks[t].msg, sizeof(tasks[t].msg)) < 0;
        tasks[t].t1 = aml_now();
    }

    batch_gather(b, tasks, cv->k);
    free(tasks);
    return AML_OK;
}

static int summary_take_best(aml_run_summary *s, const aml_trial_result *r)
{
    aml_trial_result copy;
    aml_config c = {0};
    int rc;

    if ((rc = aml_config_copy(&c, &r->config)) < 0)
        return rc;
    if ((rc = aml_trial_result_init(&copy, r->number, &c, r->k)) < 0) {
        aml_config_dispose(&c);
        return rc;
    }
    memcpy(copy.fold_scores, r->fold_scores, (size_t)r->k * sizeof(double));
    copy.status = r->status;
    copy.score = r->score;
    copy.failed_fold = r->failed_fold;
    copy.t_start = r->t_start;
    copy.t_end = r->t_end;
    memcpy(copy.message, r->message, sizeof(copy.message));
    if (s->has_best)
        aml_trial_result_dispose(&s->best);
    s->best = copy;
    s->has_best = 1;
    return AML_OK;
}

/* Tells, records and reports the batch in trial-number order. */
static int batch_observe(run_batch *b, aml_search *search, const aml_run_options *opt,
                         aml_run_summary *s, aml_run_trial_cb cb, void *payload)
{
    double sign = opt->metric->greater_is_better ? 1.0 : -1.0;
    size_t i;
    int rc = AML_OK;

    if (opt->store && (rc = aml_store_begin(opt->store)) < 0)
        return rc;
    for (i = 0; i < b->n && rc == AML_OK; i++) {
        aml_trial_result *r = &b->r[i];
        int ok;

        aml_trial_result_finish(r);
        ok = r->status == AML_TRIAL_OK;
        aml_search_tell(search, &r->config, ok ? sign * r->score : NAN, ok);
        if (opt->store)
            rc = aml_store_trial_finish(opt->store, b->ids[i], r->status, r->score,
                                        r->fold_scores, (size_t)r->k,
                                        ok ? NULL : r->message, r->t_end);
        s->n_trials++;
        if (ok) {
            s->n_ok++;
            if (!s->has_best || aml_metric_better(opt->metric, r->score, s->best.score))
                rc = rc < 0 ? rc : summary_take_best(s, r);
        } else {
            s->n_failed++;
        }
        if (cb)
            cb(r, s, payload);
    }
    if (opt->store)
        rc = rc < 0 ? (aml_store_rollback(opt->store), rc) : aml_store_commit(opt->store);
    return rc;
}

static size_t run_batch_size(const aml_run_options *opt, long done)
{
    long left = opt->budget.max_trials - done;

    if (opt->budget.max_trials > 0 && left < AML_RUN_BATCH)
        return (size_t)left;
    return AML_RUN_BATCH;
}

static int run_loop(aml_run_summary *out, aml_search *search, const aml_cv *cv,
                    const aml_run_options *opt, aml_run_trial_cb cb, void *payload)
{
    int threads = aml_resolve_threads(opt->threads);
    double t_begin = aml_now();
    run_batch *b = calloc(1, sizeof(*b));
    int rc = AML_OK, asked;

    if (!b)
        return aml_error_set(AML_ENOMEM, "out of memory starting the search");
    while ((out->reason = aml_budget_check(&opt->budget, out->n_trials,
                                           aml_now() - t_begin)) == AML_STOP_NONE) {
        asked = batch_ask(b, search, out->n_trials, run_batch_size(opt, out->n_trials), cv->k);
        if (asked < 0 && asked != AML_EXHAUSTED) {
            rc = asked;
            break;
        }
        if (b->n > 0 && ((rc = batch_record_start(b, opt, cv->space)) < 0 ||
                         (rc = batch_evaluate(b, cv, threads)) < 0 ||
                         (rc = batch_observe(b, search, opt, out, cb, payload)) < 0))
            break;
        batch_dispose(b);
        if (asked == AML_EXHAUSTED) {
            out->reason = AML_STOP_EXHAUSTED;
            break;
        }
    }
    batch_dispose(b);
    free(b);
    return rc;
}

int aml_run_search(aml_run_summary *out, const aml_dataset *d, const aml_space *space,
                   const aml_search_type *strategy, const aml_run_options *opt,
                   aml_run_trial_cb cb, void *payload)
{
    aml_search *search = NULL;
    aml_cv cv;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = aml_cv_init(&cv, d, space, opt->metric, opt->folds, opt->stratified,
                          opt->cv_seed, opt->seed)) < 0)
        return rc;
    if ((rc = aml_search_new(&search, strategy, space, opt->seed)) < 0) {
        aml_cv_dispose(&cv);
        return rc;
    }

    /* Trials run one per thread: BLAS must not start threads of its own. */
    aml_blas_threads(1);
    rc = run_loop(out, search, &cv, opt, cb, payload);

    aml_search_free(search);
    aml_cv_dispose(&cv);
    return rc;
}

void aml_run_summary_dispose(aml_run_summary *s)
{
    if (!s)
        return;
    if (s->has_best)
        aml_trial_result_dispose(&s->best);
    memset(s, 0, sizeof(*s));
}
