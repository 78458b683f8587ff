/*
 * runner.c - the search loop (threading, resume and stopping designs in
 * runner.h).
 */
#include "runner.h"
#include "aml.h"
#include "memo.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
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
    int stored[AML_RUN_BATCH];      /* result replayed from the store */
    int interrupted[AML_RUN_BATCH]; /* a fold was skipped (stop_flag) */
    size_t n;
    /* Out-of-fold predictions of each evaluated trial (see aml_cv_fold_oof),
     * kept only with a store: n_rows x outputs x repeats, NaN where unset. */
    double *oof[AML_RUN_BATCH];
    size_t n_rows;
    int outputs, repeats;
    aml_memo *memo; /* the run's memo, current on each task's thread; NULL: none */
} run_batch;

/* Per-task scratch of batch_evaluate: one slot per (trial, fold). */
typedef struct run_task {
    double t0, t1;
    int failed, skipped, timed_out;
    char msg[AML_TRIAL_MESSAGE_MAX];
} run_task;

/* What a trial of the batch has used so far, for the trial timeout. */
typedef struct run_clock {
    double first; /* when its first fold started; 0 before */
    double used;  /* sum of its finished folds' times */
} run_clock;

/* ---- the study's finished trials, for resume ------------------------------------ */

/* A finished trial read from the store; strings are owned copies. */
typedef struct run_prior {
    int done; /* 0: no finished trial of this number */
    char *learner;
    aml_param *params;
    size_t n_params;
    aml_trial_status status;
    double score;
    double *folds;
    size_t k;
    char *message;
    double t_start, t_end;
    double resource; /* NaN when stored NULL (full) */
} run_prior;

typedef struct run_history {
    run_prior *p; /* indexed by trial number */
    size_t n, cap;
} run_history;

static void prior_dispose(run_prior *p)
{
    for (size_t i = 0; i < p->n_params; i++)
        if (p->params[i].value.kind == AML_VAL_STR)
            free((char *)p->params[i].value.str);
    for (size_t i = 0; i < p->n_params; i++)
        free((char *)p->params[i].name);
    free(p->params);
    free(p->folds);
    free(p->learner);
    free(p->message);
    memset(p, 0, sizeof(*p));
}

static void history_dispose(run_history *h)
{
    for (size_t i = 0; i < h->n; i++)
        prior_dispose(&h->p[i]);
    free(h->p);
    memset(h, 0, sizeof(*h));
}

/* Makes room for trial `number`; new slots are zeroed (not done). */
static int history_reserve(run_history *h, size_t number)
{
    size_t cap = h->cap ? h->cap : 64;
    run_prior *p;

    if (number < h->n)
        return AML_OK;
    if (number >= h->cap) {
        while (cap <= number)
            cap *= 2;
        if (!(p = aml_reallocarray(h->p, cap, sizeof(*p))))
            return AML_ENOMEM;
        memset(p + h->cap, 0, (cap - h->cap) * sizeof(*p));
        h->p = p;
        h->cap = cap;
    }
    h->n = number + 1;
    return AML_OK;
}

static int prior_copy_params(run_prior *p, const aml_trial_record *r)
{
    if (r->n_params && !(p->params = aml_calloc(r->n_params, sizeof(*p->params))))
        return AML_ENOMEM;
    for (size_t i = 0; i < r->n_params; i++) {
        p->params[i].value = r->params[i].value;
        p->params[i].value.str = NULL;
        p->n_params = i + 1;
        if (!(p->params[i].name = aml_strdup(r->params[i].name)))
            return AML_ENOMEM;
        if (r->params[i].value.kind == AML_VAL_STR &&
            !(p->params[i].value.str = aml_strdup(r->params[i].value.str)))
            return AML_ENOMEM;
    }
    return AML_OK;
}

/* Keeps a finished trial (ok or failed); running and interrupted ones run again. */
static int history_add(const aml_trial_record *r, void *payload)
{
    run_history *h = payload;
    run_prior *p;
    int rc;

    if ((r->status != AML_TRIAL_OK && r->status != AML_TRIAL_FAILED) || r->number < 0)
        return AML_OK;
    if ((rc = history_reserve(h, (size_t)r->number)) < 0)
        return rc;
    p = &h->p[r->number];
    p->done = 1;
    p->status = r->status;
    p->score = r->score;
    p->t_start = r->t_start;
    p->t_end = r->t_end;
    p->resource = r->resource;
    p->k = r->k;
    if (!(p->learner = aml_strdup(r->learner)) ||
        (r->message && !(p->message = aml_strdup(r->message))) ||
        (r->k && !(p->folds = aml_mallocarray(r->k, sizeof(double)))))
        return AML_ENOMEM;
    if (r->k)
        memcpy(p->folds, r->fold_scores, r->k * sizeof(double));
    return prior_copy_params(p, r);
}

static int history_load(run_history *h, const aml_run_options *opt)
{
    memset(h, 0, sizeof(*h));
    if (!opt->store)
        return AML_OK;
    return aml_store_trial_records(opt->store, opt->study_id, history_add, h);
}

static int value_same(const aml_value *a, const aml_value *b)
{
    if (a->kind != b->kind)
        return 0;
    if (a->kind == AML_VAL_INT)
        return a->i == b->i;
    if (a->kind == AML_VAL_STR)
        return strcmp(a->str, b->str) == 0;
    /* Reals are stored exactly; a non-finite one was stored as NULL (NaN). */
    return a->real == b->real || (!isfinite(a->real) && isnan(b->real));
}

/* Same resource: both full, or the same fraction (stored exactly, as REAL). */
static int resource_same(double stored, double proposed)
{
    if (aml_resource_full(stored) || aml_resource_full(proposed))
        return aml_resource_full(stored) && aml_resource_full(proposed);
    return stored == proposed;
}

/* Is the proposal the configuration stored under its trial number? */
static int prior_matches(const run_prior *p, const aml_config *c, const aml_space *space)
{
    if (strcmp(p->learner, space->learners[c->learner].name) != 0 ||
        p->n_params != c->n_params || !resource_same(p->resource, c->resource))
        return 0;
    for (size_t i = 0; i < c->n_params; i++)
        if (strcmp(p->params[i].name, c->params[i].name) != 0 ||
            !value_same(&c->params[i].value, &p->params[i].value))
            return 0;
    return 1;
}

/* Fills a proposed trial with its stored result. */
static void prior_apply(const run_prior *p, aml_trial_result *r)
{
    r->status = p->status;
    r->score = p->status == AML_TRIAL_OK ? p->score : NAN;
    for (int f = 0; f < r->k; f++)
        r->fold_scores[f] = (size_t)f < p->k ? p->folds[f] : NAN;
    r->t_start = p->t_start;
    r->t_end = p->t_end;
    snprintf(r->message, sizeof(r->message), "%s", p->message ? p->message : "");
}

/*
 * Marks the batch's trials that the store already finished, after checking
 * that the strategy proposed the same configuration as before.
 */
static int batch_match_history(run_batch *b, const run_history *h, const aml_space *space)
{
    for (size_t i = 0; i < b->n; i++) {
        aml_trial_result *r = &b->r[i];
        const run_prior *p = (size_t)r->number < h->n ? &h->p[r->number] : NULL;
        char now[256];

        b->stored[i] = 0;
        b->interrupted[i] = 0;
        if (!p || !p->done)
            continue;
        if (!prior_matches(p, &r->config, space)) {
            double rn = r->config.resource, rp = p->resource;

            aml_config_format(&r->config, now, sizeof(now));
            return aml_error_set(AML_EINVAL,
                                 "trial %ld: the search now proposes %s (%s) at resource "
                                 "%g but the store holds %s at resource %g for it: the "
                                 "search changed since the study began (use --fresh, or "
                                 "a new study name)",
                                 r->number, space->learners[r->config.learner].name, now,
                                 aml_resource_full(rn) ? 1.0 : rn, p->learner,
                                 aml_resource_full(rp) ? 1.0 : rp);
        }
        prior_apply(p, r);
        b->stored[i] = 1;
    }
    return AML_OK;
}

static void batch_dispose(run_batch *b)
{
    size_t i;

    for (i = 0; i < b->n; i++)
        aml_trial_result_dispose(&b->r[i]);
    for (i = 0; i < AML_RUN_BATCH; i++) {
        free(b->oof[i]);
        b->oof[i] = NULL;
    }
    b->n = 0;
}

/* Gives each trial to evaluate an OOF matrix of NaN (8 x n x outputs x repeats). */
static int batch_alloc_oof(run_batch *b, const aml_cv *cv)
{
    size_t size = aml_cv_oof_size(cv);

    b->n_rows = cv->data->n;
    b->outputs = aml_cv_outputs(cv);
    b->repeats = aml_cv_repeats(cv);
    for (size_t i = 0; i < b->n; i++) {
        if (b->stored[i] || !aml_resource_full(b->r[i].config.resource))
            continue; /* a partial trial's OOF is not kept (runner.h) */
        if (!(b->oof[i] = aml_mallocarray(size ? size : 1, sizeof(double))))
            return AML_ENOMEM;
        for (size_t j = 0; j < size; j++)
            b->oof[i][j] = NAN;
    }
    return AML_OK;
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

        if (b->stored[i])
            continue;
        rc = aml_store_trial_begin(st, &b->ids[i], opt->study_id, b->r[i].number,
                                   space->learners[c->learner].name, c->params,
                                   c->n_params, now);
        if (rc == AML_OK && !aml_resource_full(c->resource))
            rc = aml_store_trial_set_resource(st, b->ids[i], c->resource);
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

        if (b->stored[i])
            continue; /* keeps its stored times */
        r->t_start = t[0].t0;
        r->t_end = t[0].t1;
        for (f = 0; f < k; f++) {
            b->interrupted[i] |= t[f].skipped;
            r->t_start = t[f].t0 < r->t_start ? t[f].t0 : r->t_start;
            r->t_end = t[f].t1 > r->t_end ? t[f].t1 : r->t_end;
            if (t[f].failed && r->failed_fold < 0) {
                r->failed_fold = f;
                memcpy(r->message, t[f].msg, sizeof(r->message));
            }
        }
    }
}

/*
 * Marks failed, "timed out", each trial of the batch that skipped a fold
 * for its timeout or whose folds together (summed, or their wall-time
 * span) took more than `limit` seconds.  A fold error found first keeps its
 * message; an interrupted trial stays interrupted.
 */
static void batch_timeouts(run_batch *b, const run_task *tasks, int k, double limit)
{
    for (size_t i = 0; i < b->n; i++) {
        aml_trial_result *r = &b->r[i];
        const run_task *t = tasks + i * (size_t)k;
        double sum = 0.0;
        int f, first = -1;

        if (b->stored[i] || b->interrupted[i] || r->failed_fold >= 0)
            continue;
        for (f = 0; f < k; f++) {
            sum += t[f].t1 - t[f].t0;
            if (t[f].timed_out && first < 0)
                first = f;
        }
        if (first < 0 && sum <= limit && r->t_end - r->t_start <= limit)
            continue;
        r->failed_fold = first >= 0 ? first : k - 1;
        snprintf(r->message, sizeof(r->message), "timed out after %gs", limit);
    }
}

/*
 * Has the trial of this clock used more than `limit` seconds?  Starts the
 * clock at its first fold.  Shared by the team's threads, hence critical.
 */
static int clock_over(run_clock *c, double now, double limit)
{
    int over;

#pragma omp critical(aml_run_clock)
    {
        if (c->first == 0.0)
            c->first = now;
        over = c->used > limit || now - c->first > limit;
    }
    return over;
}

/* The wall-clock deadline of the trial: its first fold's start plus the limit. */
static double clock_deadline(run_clock *c, double limit)
{
    double first;

#pragma omp critical(aml_run_clock)
    first = c->first;
    return first + limit;
}

static void clock_add(run_clock *c, double seconds)
{
#pragma omp critical(aml_run_clock)
    c->used += seconds;
}

/*
 * Runs every (trial, fold) task of the batch on the OpenMP team, except
 * those of stored trials; once the stop flag is up, tasks not yet started
 * are skipped, and so are those of a trial past the trial timeout `limit`
 * (0: none).  A fold that is fitting stops cooperatively: its thread gets
 * the trial's deadline (aml_deadline_set), which the learners' long loops
 * check once per iteration.
 */
static int batch_evaluate(run_batch *b, const aml_cv *cv, int threads,
                          const volatile int *stop, double limit)
{
    long n_tasks = (long)b->n * cv->k;
    run_task *tasks = aml_calloc((size_t)n_tasks, sizeof(*tasks));
    run_clock clocks[AML_RUN_BATCH] = {{0}};
    long t;

    if (!tasks)
        return AML_ENOMEM;

#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (t = 0; t < n_tasks; t++) {
        aml_trial_result *r = &b->r[t / cv->k];
        run_clock *clock = &clocks[t / cv->k];
        int f = (int)(t % cv->k), rc;

        tasks[t].t0 = tasks[t].t1 = aml_now();
        if (b->stored[t / cv->k])
            continue;
        if (*stop) {
            tasks[t].skipped = 1;
            continue;
        }
        if (limit > 0 && clock_over(clock, tasks[t].t0, limit)) {
            tasks[t].timed_out = 1;
            continue;
        }
        aml_deadline_set(limit > 0 ? clock_deadline(clock, limit) : 0.0);
        aml_memo_set_current(b->memo);
        rc = aml_cv_fold_oof(cv, &r->config, r->number, f, &r->fold_scores[f],
                             tasks[t].msg, sizeof(tasks[t].msg), b->oof[t / cv->k]);
        aml_memo_set_current(NULL);
        aml_deadline_set(0.0);
        tasks[t].timed_out = rc == AML_ETIMEOUT;
        tasks[t].failed = rc < 0 && rc != AML_ETIMEOUT;
        tasks[t].t1 = aml_now();
        if (limit > 0)
            clock_add(clock, tasks[t].t1 - tasks[t].t0);
    }

    batch_gather(b, tasks, cv->k);
    if (limit > 0)
        batch_timeouts(b, tasks, cv->k, limit);
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

/* Counts a told trial into the summary, taking it as best when it is. */
static int summary_count(aml_run_summary *s, const aml_trial_result *r,
                         const aml_metric *m)
{
    s->n_trials++;
    s->since_best++;
    if (r->status != AML_TRIAL_OK) {
        s->n_failed++;
        return AML_OK;
    }
    s->n_ok++;
    if (!aml_resource_full(r->config.resource))
        return AML_OK; /* a partial evaluation never competes with full ones */
    if (!s->has_best || aml_metric_better(m, r->score, s->best.score)) {
        s->since_best = 0;
        return summary_take_best(s, r);
    }
    return AML_OK;
}

/* Records a trial this run evaluated (or stopped). */
static int batch_record_one(run_batch *b, size_t i, const aml_run_options *opt)
{
    aml_trial_result *r = &b->r[i];
    int ok = r->status == AML_TRIAL_OK, rc;
    size_t block = b->n_rows * (size_t)b->outputs;

    if (!opt->store)
        return AML_OK;
    if (b->interrupted[i])
        return aml_store_trial_finish(opt->store, b->ids[i], AML_TRIAL_INTERRUPTED, NAN,
                                      NULL, 0, "stopped by the user", aml_now());
    rc = aml_store_trial_finish_timed(opt->store, b->ids[i], r->status, r->score,
                                      r->fold_scores, (size_t)r->k,
                                      ok ? NULL : r->message, r->t_start, r->t_end);
    /* Only ok trials keep their OOF: in this batch's transaction, with the trial. */
    for (int rep = 0; rc == AML_OK && ok && b->oof[i] && rep < b->repeats; rep++)
        rc = aml_store_oof_save(opt->store, b->ids[i], rep, b->outputs,
                                b->oof[i] + (size_t)rep * block, b->n_rows);
    return rc;
}

/*
 * Tells, records and reports the batch in trial-number order.  Stored
 * trials are told but neither written nor reported; interrupted ones are
 * written but not told (the run ends after this batch).
 */
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

        if (b->interrupted[i]) {
            r->status = AML_TRIAL_INTERRUPTED;
            r->score = NAN;
            s->n_interrupted++;
            rc = batch_record_one(b, i, opt);
            if (cb)
                cb(r, s, payload);
            continue;
        }
        if (!b->stored[i])
            aml_trial_result_finish(r);
        ok = r->status == AML_TRIAL_OK;
        aml_search_tell(search, &r->config, ok ? sign * r->score : NAN, ok);
        if (!b->stored[i])
            rc = batch_record_one(b, i, opt);
        s->n_resumed += b->stored[i];
        rc = rc < 0 ? rc : summary_count(s, r, opt->metric);
        if (cb && !b->stored[i])
            cb(r, s, payload);
    }
    if (opt->store)
        rc = rc < 0 ? (aml_store_rollback(opt->store), rc) : aml_store_commit(opt->store);
    return rc;
}

/* True when every trial of the batch comes from the store. */
static int batch_all_stored(const run_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (!b->stored[i])
            return 0;
    return 1;
}

static size_t run_batch_size(const aml_run_options *opt, long done)
{
    long left = opt->budget.max_trials - done;

    if (opt->budget.max_trials > 0 && left < AML_RUN_BATCH)
        return (size_t)left;
    return AML_RUN_BATCH;
}

/*
 * Evaluates one asked batch: replayed trials need no store transaction
 * (a batch wholly from the store touches the store not at all).
 */
static int run_one_batch(run_batch *b, aml_search *search, const aml_cv *cv,
                         const aml_run_options *opt, const run_history *h, int threads,
                         aml_run_summary *out, aml_run_trial_cb cb, void *payload)
{
    aml_run_options quiet = *opt;
    int rc;

    if ((rc = batch_match_history(b, h, cv->space)) < 0)
        return rc;
    if (batch_all_stored(b)) {
        quiet.store = NULL;
        return batch_observe(b, search, &quiet, out, cb, payload);
    }
    if ((rc = batch_record_start(b, opt, cv->space)) < 0 ||
        (opt->store && (rc = batch_alloc_oof(b, cv)) < 0) ||
        (rc = batch_evaluate(b, cv, threads, &opt->budget.stop_flag,
                             opt->budget.trial_seconds)) < 0)
        return rc;
    return batch_observe(b, search, opt, out, cb, payload);
}

/* The budget's verdict between batches (stored trials replayed count too). */
static aml_stop_reason run_budget_check(const aml_run_options *opt,
                                        const aml_run_summary *s, double t_begin)
{
    aml_budget_progress p = {s->n_trials, s->since_best, aml_now() - t_begin};

    return aml_budget_stop(&opt->budget, &p);
}

static int run_loop(aml_run_summary *out, aml_search *search, const aml_cv *cv,
                    const aml_run_options *opt, const run_history *h, aml_run_trial_cb cb,
                    void *payload)
{
    int threads = aml_resolve_threads(opt->threads);
    double t_begin = aml_now();
    run_batch *b = calloc(1, sizeof(*b));
    int rc = AML_OK, asked;

    if (!b || (!opt->no_memo && aml_memo_new(&b->memo, AML_RUN_MEMO_BYTES) < 0)) {
        free(b);
        return aml_error_set(AML_ENOMEM, "out of memory starting the search");
    }
    while ((out->reason = run_budget_check(opt, out, t_begin)) == AML_STOP_NONE) {
        asked = batch_ask(b, search, out->n_trials, run_batch_size(opt, out->n_trials),
                          cv->k);
        if (asked < 0 && asked != AML_EXHAUSTED) {
            rc = asked;
            break;
        }
        if (b->n > 0 &&
            (rc = run_one_batch(b, search, cv, opt, h, threads, out, cb, payload)) < 0)
            break;
        batch_dispose(b);
        if (out->n_interrupted > 0) {
            out->reason = AML_STOP_REQUESTED;
            break;
        }
        if (asked == AML_EXHAUSTED) {
            out->reason = AML_STOP_EXHAUSTED;
            break;
        }
    }
    batch_dispose(b);
    aml_memo_free(b->memo);
    free(b);
    return rc;
}

static int run_save_folds(const aml_run_options *opt, const aml_cv *cv);

int aml_run_search(aml_run_summary *out, const aml_dataset *d, const aml_space *space,
                   const aml_search_type *strategy, const aml_run_options *opt,
                   aml_run_trial_cb cb, void *payload)
{
    aml_search *search = NULL;
    run_history h;
    aml_cv cv;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = history_load(&h, opt)) < 0) {
        history_dispose(&h);
        return rc;
    }
    if ((rc = aml_cv_init(&cv, d, space, opt->metric, opt->folds, opt->stratified,
                          opt->cv_seed, opt->seed)) < 0) {
        history_dispose(&h);
        return rc;
    }
    if ((rc = run_save_folds(opt, &cv)) < 0 ||
        (rc = aml_search_new_with(&search, strategy, space, opt->seed, opt->search)) <
            0 ||
        (rc = aml_search_set_seeds(search, opt->seeds, opt->n_seeds)) < 0) {
        aml_search_free(search);
        aml_cv_dispose(&cv);
        history_dispose(&h);
        return rc;
    }

    /* Trials run one per thread: BLAS must not start threads of its own. */
    aml_blas_threads(1);
    rc = run_loop(out, search, &cv, opt, &h, cb, payload);

    aml_search_free(search);
    aml_cv_dispose(&cv);
    history_dispose(&h);
    return rc;
}

/* Records the folds with the study, so anyone can re-check a score. */
static int run_save_folds(const aml_run_options *opt, const aml_cv *cv)
{
    const aml_dataset *d = cv->data;
    int repeats = cv->per_repeat > 0 ? cv->k / cv->per_repeat : 1;
    size_t *lines, i;
    int rc;

    if (!opt->store || opt->study_id <= 0)
        return AML_OK;
    if (!(lines = aml_mallocarray(d->n ? d->n : 1, sizeof(*lines))))
        return AML_ENOMEM;
    for (i = 0; i < d->n; i++)
        lines[i] = aml_frame_line(d->features, i);
    rc = aml_store_folds_save(opt->store, opt->study_id, cv->fold_of, lines, d->n,
                              repeats > 0 ? repeats : 1);
    free(lines);
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
