/*
 * cmd_run.c - `automl run SPEC`: load, check, search, record, export.
 *
 * Every check that can fail on bad input (spec, data, metric for the task,
 * learners for the task, a study that ran a different search) runs before
 * the first trial, so a mistake costs nothing.  Progress is shown as the
 * trials finish (progress.c), then the leaderboard; the best configuration
 * is refitted on all rows and written to the spec's `output`.
 *
 * Resume.  A study that exists continues: its canonical search text
 * (study.c) must equal this spec's, the trials a dead process left running
 * are marked interrupted (aml_store_study_claim), and the runner replays
 * the stored trials and evaluates only the rest.  --fresh replaces it.
 *
 * Stopping.  The first SIGINT, SIGTERM or SIGHUP raises the budget's stop
 * flag: folds in flight finish, the rest of the batch is recorded
 * `interrupted`, the study's stop reason is stored and the exit code is
 * 128 + the signal (130 for Ctrl-C).  A second one ends the process at
 * once; the next run resumes it all the same.  Before the search (the spec
 * and data read, the store opened) the first one likewise lets the step in
 * progress finish, then the run ends with the same exit code and nothing
 * written but, once the store was opened, the study released as
 * `interrupted` with no new trial.  The handlers restart interrupted system
 * calls (SA_RESTART), so a signal never turns a read into an I/O error.  SIGPIPE is
 * ignored: a closed stdout makes writes fail, not the run die between two store writes.
 */
#include "cli.h"
#include "outfile.h"
#include "model.h"
#include "model_job.h"
#include "progress.h"
#include "runner.h"
#include "spec.h"
#include "study.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RUN_DEFAULT_TRIALS 50
#define RUN_LEADERBOARD_ROWS 10

static aml_budget *run_budget; /* for the signal handlers only */
/* The signal that stopped the run (SIGINT, SIGTERM, SIGHUP), 0 before any. */
static volatile sig_atomic_t run_signal;
/* 1 from the start of `automl run` until the search loop takes the signals over. */
static volatile sig_atomic_t run_early;
/* The signals that stop a run cleanly: Ctrl-C, kill's default, a closed terminal. */
static const int run_stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define RUN_N_STOP_SIGNALS 3

/*
 * Async-signal-safe: sets flags, writes with write(2), re-raises the second
 * time (and outside the run's two stages: before the search, the loop).
 */
static void run_on_stop_signal(int sig)
{
    static const char msg_int[] = "\nautoml: stopping after the folds in progress "
                                  "(Ctrl-C again to quit at once)\n";
    static const char msg_other[] = "\nautoml: stopping after the folds in progress "
                                    "(signal again to quit at once)\n";
    static const char msg_early[] = "automl: stopping before the search starts "
                                    "(signal again to quit at once)\n";
    const char *msg = sig == SIGINT ? msg_int : msg_other;
    size_t len = sig == SIGINT ? sizeof(msg_int) - 1 : sizeof(msg_other) - 1;

    if (run_signal || (run_budget ? run_budget->stop_flag : !run_early)) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    run_signal = sig;
    if (run_budget)
        run_budget->stop_flag = 1;
    else
        msg = msg_early, len = sizeof(msg_early) - 1;
    if (write(STDERR_FILENO, msg, len) < 0)
        return;
}

/* Installs `handler` for every stop signal, keeping the old actions in old[]. */
static void run_catch(void (*handler)(int), struct sigaction old[RUN_N_STOP_SIGNALS])
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART; /* a read of the data goes on, not fails with EINTR */
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < RUN_N_STOP_SIGNALS; i++)
        sigaction(run_stop_signals[i], &sa, &old[i]);
}

static void run_uncatch(const struct sigaction old[RUN_N_STOP_SIGNALS])
{
    for (int i = 0; i < RUN_N_STOP_SIGNALS; i++)
        sigaction(run_stop_signals[i], &old[i], NULL);
}

/* The exit code of a run a signal stopped: 128 + the signal, as a shell reports. */
static int run_stopped_code(void)
{
    return 128 + (run_signal ? (int)run_signal : SIGINT);
}

typedef struct run_ctx run_ctx;
static int run_check_task(run_ctx *c);

struct run_ctx {
    const aml_spec *spec;
    aml_space *space; /* the spec's, trimmed to the task by run_fit_params */
    const aml_metric *metric;
    aml_dataset *data;
    aml_store *store;
    long long study_id;
    long budget;
    int quiet;
    char *canonical; /* the search as text (study.h) */
    char hash[17];
    cli_progress progress;
};

int cli_threads(int parallel)
{
    int n = aml_resolve_threads(parallel);

    /* parallel: 0 on a machine with more cores than the spec may name. */
    return n < AML_SPEC_MAX_PARALLEL ? n : AML_SPEC_MAX_PARALLEL;
}

int cli_spec_vocab(aml_spec_vocab *v, const char **metrics, size_t n_metrics,
                   const char **strategies, size_t n_strategies)
{
    size_t i;

    for (i = 0; aml_metrics[i] && i + 1 < n_metrics; i++)
        metrics[i] = aml_metrics[i]->name;
    metrics[i] = NULL;
    for (i = 0; aml_search_types[i] && i + 1 < n_strategies; i++)
        strategies[i] = aml_search_types[i]->name;
    strategies[i] = NULL;
    v->learners = aml_learner_types;
    v->metrics = metrics;
    v->strategies = strategies;
    return 0;
}

static const char *task_name(aml_task t)
{
    return t == AML_TASK_CLASSIFICATION ? "classification" : "regression";
}

/*
 * Parameters that mean nothing for this task (a split criterion of
 * classification trees in a regression study) leave the default search,
 * so no trial is spent on them; naming one in the spec is an error.
 */
static int run_fit_params(const aml_spec *s, aml_space_learner *l,
                          const aml_learner_type *t, aml_task task)
{
    size_t j = 0;

    while (j < l->n_dims) {
        const aml_param_def *d = aml_learner_param_find(t, l->dims[j].name);

        if (!d || !d->tasks || (d->tasks & AML_TASK_BIT(task))) {
            j++;
        } else if (l->dims[j].implicit) {
            aml_space_remove_dim(l, j);
        } else {
            return aml_error_set(
                AML_EINVAL,
                "%s:%d:%d: %s: '%s' applies to %s only, and this is a %s task", s->path,
                l->dims[j].line, l->dims[j].col, l->name, d->name,
                task_name(task == AML_TASK_CLASSIFICATION ? AML_TASK_REGRESSION
                                                          : AML_TASK_CLASSIFICATION),
                task_name(task));
        }
    }
    return 0;
}

/* A stacking meta-learner must do the task too: said before the search starts. */
static int run_check_meta(const aml_spec *s, aml_task task)
{
    const aml_spec_ensemble *e = &s->ensemble;

    for (size_t i = 0; i <= e->n_meta; i++) {
        const char *name = i < e->n_meta ? e->meta[i] : e->final;
        const aml_learner_type *t = name ? aml_learner_type_find(name) : NULL;

        if (t && !(t->tasks & AML_TASK_BIT(task))) {
            /* At the name itself; the section when the spec lost it. */
            aml_spec_pos at =
                i < e->n_meta ? (e->meta_pos ? e->meta_pos[i] : e->pos) : e->final_pos;

            if (at.line == 0)
                at = e->pos;
            return aml_error_set(AML_EINVAL,
                                 "%s:%d:%d: ensemble: meta-learner '%s' does not do %s",
                                 s->path, at.line, at.col, name, task_name(task));
        }
    }
    return 0;
}

/*
 * Options of the spec that only classification has, given on a regression:
 * class balancing (every trial would fail at its first fold) and a
 * stratified CV plan (silently plain k-fold).  Said with the option's place.
 */
static int run_check_options(const aml_spec *s, const aml_space *space, aml_task task)
{
    const aml_space_learner *l = space->n_learners ? &space->learners[0] : NULL;

    if (task != AML_TASK_REGRESSION)
        return 0;
    for (size_t j = 0; l && j < l->n_dims; j++) {
        const aml_dim *dim = &l->dims[j];

        if (strcmp(dim->name, "preprocess.balance") != 0)
            continue;
        for (size_t i = 0; i < dim->n_choices; i++)
            if (dim->choices[i].kind == AML_VAL_STR &&
                strcmp(dim->choices[i].str, "none") != 0)
                return aml_error_set(
                    AML_EINVAL,
                    "%s:%d:%d: preprocess: balance '%s' applies to classification "
                    "only, and this is a regression task",
                    s->path, dim->line, dim->col, dim->choices[i].str);
    }
    if (s->cv_kind == AML_CV_STRATIFIED ||
        (s->cv_kind == AML_CV_AUTO && s->pos_cv_kind.line))
        return aml_error_set(
            AML_EINVAL,
            "%s:%d:%d: cv: a stratified plan needs classes, and this is a "
            "regression task (use cv.kind: kfold)",
            s->path, s->pos_cv_kind.line, s->pos_cv_kind.col);
    return 0;
}

int cli_check_task(const aml_spec *s, aml_space *space, const aml_dataset *d,
                   const aml_metric **metric)
{
    run_ctx ctx = {0};
    int rc;

    ctx.spec = s;
    ctx.space = space;
    ctx.data = (aml_dataset *)d;
    rc = run_check_task(&ctx);
    *metric = ctx.metric;
    if (rc < 0 || (rc = run_check_options(s, space, d->task)) < 0)
        return rc;
    return run_check_meta(s, d->task);
}

/* The base learners a wrapper (bagging, boosting) may use must do the task too. */
static int run_check_bases(const aml_spec *s, const aml_space_learner *l, aml_task task)
{
    for (size_t j = 0; j < l->n_dims; j++) {
        const aml_dim *dim = &l->dims[j];

        if (strcmp(dim->name, "base") != 0)
            continue;
        for (size_t i = 0; i < dim->n_choices; i++) {
            const char *name =
                dim->choices[i].kind == AML_VAL_STR ? dim->choices[i].str : "";
            const aml_learner_type *t = aml_learner_type_find(name);

            if (t && !(t->tasks & AML_TASK_BIT(task)))
                return aml_error_set(
                    AML_EINVAL, "%s:%d:%d: %s: base learner '%s' does not do %s", s->path,
                    dim->line ? dim->line : l->line, dim->line ? dim->col : l->col,
                    l->name, name, task_name(task));
        }
    }
    return 0;
}

/* Checks that need the data: the metric and every learner must suit the task. */
static int run_check_task(run_ctx *c)
{
    const aml_spec *s = c->spec;
    aml_task task = c->data->task;
    size_t i;
    int rc;

    /* When the task was inferred, the likely fix is to state it. */
    const char *hint =
        s->task != AML_SPEC_TASK_INFER ? ""
        : task == AML_TASK_CLASSIFICATION
            ? " (inferred from the target; set data.task: regression if it "
              "is a number to predict)"
            : " (inferred from the target; set data.task: classification "
              "if it holds labels)";

    if (aml_frame_cols(c->data->features) == 0)
        return aml_error_set(
            AML_EINVAL,
            "%s: no input columns are left once the target, data.drop and "
            "uninformative columns are removed",
            s->path);
    c->metric = s->metric ? aml_metric_find(s->metric) : aml_metric_default(task);
    if (!(c->metric->tasks & AML_TASK_BIT(task)))
        return aml_error_set(AML_EINVAL,
                             "%s:%d:%d: metric '%s' does not apply to a %s task%s",
                             s->path, s->pos_metric.line, s->pos_metric.col,
                             c->metric->name, task_name(task), hint);
    for (i = 0; i < c->space->n_learners; i++) {
        aml_space_learner *l = &c->space->learners[i];
        const aml_learner_type *t = aml_learner_type_find(l->name);

        if ((rc = run_fit_params(s, l, t, task)) < 0 ||
            (rc = run_check_bases(s, l, task)) < 0)
            return rc;
        if (!(t->tasks & AML_TASK_BIT(task)))
            return aml_error_set(AML_EINVAL,
                                 "%s:%d:%d: learner '%s' does not do %s (target '%s')%s",
                                 s->path, l->line, l->col, l->name, task_name(task),
                                 c->data->target, hint);
    }
    return 0;
}

/* The stored study, as much as a resume needs. */
typedef struct run_prior {
    char *canonical;
    long n_trials, n_ok, n_failed, n_unfinished;
} run_prior;

static int run_prior_row(const aml_study_row *row, void *payload)
{
    run_prior *p = payload;

    p->n_trials = row->n_trials;
    p->n_ok = row->n_ok;
    p->n_failed = row->n_failed;
    p->n_unfinished = row->n_running + row->n_interrupted;
    if (row->spec_canonical && !(p->canonical = strdup(row->spec_canonical)))
        return AML_ENOMEM;
    return 0;
}

/*
 * An existing study continues only with the same search.  A study written
 * before schema 2 has no canonical text: the runner still checks every
 * stored trial against the proposal of its number.
 */
static int run_check_resume(run_ctx *c)
{
    run_prior p = {0};
    char diff[768];
    int rc;

    if ((rc = aml_store_study_read(c->store, c->study_id, run_prior_row, &p)) < 0)
        return rc;
    if (p.canonical && cli_study_diff(p.canonical, c->canonical, diff, sizeof(diff)) > 0)
        rc = aml_error_set(
            AML_EINVAL,
            "study '%s' in %s ran a different search: %s\n"
            "use --fresh to replace it, or give this search a new study name",
            c->spec->study, c->spec->store, diff);
    else if (p.n_trials > 0 && !c->quiet)
        printf(
            "resuming study %s: %ld trials stored (%ld ok, %ld failed), %ld unfinished "
            "to run again\n",
            c->spec->study, p.n_trials - p.n_unfinished, p.n_ok, p.n_failed,
            p.n_unfinished);
    free(p.canonical);
    return rc;
}

/*
 * The spec this run read, so `automl export` can read the same data later;
 * the text is the latest (an edited ensemble section applies to exports).
 */
static int run_record_spec(run_ctx *c)
{
    char *abs = realpath(c->spec->path, NULL);
    int rc;

    if (!abs)
        return aml_error_set(AML_EIO, "%s: %s", c->spec->path, strerror(errno));
    rc = aml_store_study_set_spec(c->store, c->study_id, abs, c->spec->text);
    free(abs);
    return rc;
}

static int run_open_store(run_ctx *c, int fresh)
{
    aml_study_info info = {0};
    int rc;

    info.name = c->spec->study;
    info.spec_text = c->spec->text;
    info.task = task_name(c->data->task);
    info.metric = c->metric->name;
    info.greater_is_better = c->metric->greater_is_better;
    info.seed = c->spec->seed;
    info.spec_hash = c->hash;
    info.spec_canonical = c->canonical;
    if ((rc = aml_store_open(&c->store, c->spec->store, 0)) < 0 ||
        (rc = aml_store_study_lookup(c->store, &c->study_id, info.name)) < 0)
        return rc;
    /* --fresh on a study a live process is running would pull it from under
     * that run: the claim refuses that first. */
    if (c->study_id != 0 && fresh &&
        (rc = aml_store_study_claim(c->store, c->study_id, NULL)) < 0)
        return rc;
    if (c->study_id == 0 || fresh) {
        if ((rc = aml_store_study_create(c->store, &c->study_id, &info, fresh)) < 0 ||
            (rc = aml_store_study_claim(c->store, c->study_id, NULL)) < 0)
            return rc;
        return run_record_spec(c);
    }
    /* Claim first: a study another process is running is refused before
     * anything about resuming it is said. */
    if ((rc = aml_store_study_claim(c->store, c->study_id, NULL)) < 0 ||
        (rc = run_check_resume(c)) < 0)
        return rc;
    return run_record_spec(c);
}

/* The trial count a run aims for: the budget, or the whole grid. */
static long run_display_budget(const run_ctx *c)
{
    uint64_t grid;

    if (c->budget > 0)
        return c->budget;
    grid = aml_search_grid_size(c->space);
    return grid > (uint64_t)LONG_MAX ? 0 : (long)grid;
}

/* The validation plan in words: "5-fold stratified CV", "holdout of 20%", ... */
static void run_plan_text(char *buf, size_t n, const aml_spec *s, const aml_dataset *d)
{
    int strat = s->stratified && d->task == AML_TASK_CLASSIFICATION;

    switch (d->cv_kind) {
    case AML_CV_HOLDOUT:
        snprintf(buf, n, "holdout of %g%% of the rows%s", 100.0 * s->fraction,
                 strat ? " (stratified)" : "");
        break;
    case AML_CV_REPEATED:
        snprintf(buf, n, "%d-fold%s CV repeated %d times", s->folds,
                 strat ? " stratified" : "", d->cv_repeats);
        break;
    case AML_CV_GROUP:
        snprintf(buf, n, "%d-fold group CV", s->folds);
        break;
    case AML_CV_TIME_SERIES:
        snprintf(buf, n, "%d-fold time-series CV (expanding window)", s->folds);
        break;
    case AML_CV_KFOLD:
        snprintf(buf, n, "%d-fold CV", s->folds);
        break;
    default:
        snprintf(buf, n, "%d-fold%s CV", s->folds, strat ? " stratified" : "");
    }
}

static void run_print_header(const run_ctx *c, const aml_search_type *st, int threads)
{
    char plan[128];

    const aml_dataset *d = c->data;

    printf("study %s: %zu rows, %zu input column%s, target '%s' (%s", c->spec->study,
           d->n, aml_frame_cols(d->features), aml_frame_cols(d->features) == 1 ? "" : "s",
           d->target, task_name(d->task));
    if (d->task == AML_TASK_CLASSIFICATION)
        printf(", %d classes", d->n_classes);
    printf(")\n");
    if (d->dropped_rows)
        printf("dropped %zu rows whose target is missing\n", d->dropped_rows);
    for (size_t i = 0; i < d->n_dropped_cols; i++) /* data issue 3 */
        printf("dropped column '%s': %s (list it under data.keep to use it)\n",
               d->dropped_cols[i].name, d->dropped_cols[i].reason);
    for (size_t i = 0; i < d->n_warnings; i++)
        fprintf(stderr, "warning: %s\n", d->warnings[i]);
    run_plan_text(plan, sizeof(plan), c->spec, d);
    printf("%s search, %ld trial%s, %s, metric %s, %d thread%s\n", st->name,
           run_display_budget(c), run_display_budget(c) == 1 ? "" : "s", plan,
           c->metric->name, threads, threads == 1 ? "" : "s");
    fflush(stdout);
}

static void run_on_trial(const aml_trial_result *r, const aml_run_summary *s,
                         void *payload)
{
    run_ctx *c = payload;

    cli_progress_trial(&c->progress, r, s);
}

typedef struct board {
    cli_table *t;
} board;

static int board_row(const aml_trial_row *row, void *payload)
{
    board *b = payload;
    char score[64];

    cli_format_score(score, sizeof(score), row->has_score, row->score);
    cli_table_add(b->t, "%ld", row->number);
    cli_table_add(b->t, "%s", row->learner);
    cli_table_add(b->t, "%s", score);
    if (row->resource == row->resource) /* a partial evaluation (successive halving) */
        cli_table_add(b->t, "%s (resource %.4g)",
                      row->params_json ? row->params_json : "{}", row->resource);
    else
        cli_table_add(b->t, "%s", row->params_json ? row->params_json : "{}");
    return 0;
}

static int run_print_leaderboard(const run_ctx *c)
{
    aml_trial_query q = {0};
    board b;
    int rc;

    q.study = c->spec->study;
    q.top = RUN_LEADERBOARD_ROWS;
    q.ranked = 1;
    if (!(b.t = cli_table_new(4)))
        return AML_ENOMEM;
    cli_table_add(b.t, "trial");
    cli_table_add(b.t, "learner");
    cli_table_add(b.t, "%s", c->metric->name);
    cli_table_add(b.t, "params");
    cli_table_align_right(b.t, 0);
    cli_table_align_right(b.t, 2);
    rc = aml_store_trials(c->store, &q, board_row, &b);
    if (rc == 0) {
        printf("\nleaderboard (top %d of study %s):\n", RUN_LEADERBOARD_ROWS,
               c->spec->study);
        cli_table_print(b.t, stdout);
    }
    cli_table_free(b.t);
    return rc;
}

/* The ensemble stage: always scored and stored; fitted and written with an output. */
/* The temporary file a model save writes (model_io.c's name), for the handler below. */
static char run_tmp_path[4096];

/*
 * SIGINT while the ensemble is built and written: the trials are stored,
 * so stop at once (exit 130) and leave no half-written temporary file; a
 * later run rebuilds the model from the store.  Async-signal-safe.
 */
static void run_on_signal_final(int sig)
{
    static const char msg[] =
        "\nautoml: interrupted while building the model; the trials "
        "are stored: run again to build it\n";

    if (run_tmp_path[0])
        unlink(run_tmp_path);
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
        _exit(128 + sig);
    _exit(128 + sig);
}

static int run_export(const run_ctx *c, int threads)
{
    cli_model_job j = {0};
    struct sigaction old[RUN_N_STOP_SIGNALS];
    int code;

    if (c->spec->output &&
        aml_outfile_tmp_name(c->spec->output, run_tmp_path, sizeof(run_tmp_path)) < 0)
        return cli_fail(AML_EINVAL); /* changed since the spec was checked */
    run_catch(run_on_signal_final, old);

    j.spec = c->spec;
    j.data = c->data;
    j.space = c->space;
    j.metric = c->metric;
    j.store = c->store;
    j.study_id = c->study_id;
    j.trial = -1;
    j.out = c->spec->output;
    j.threads = threads;
    j.save_row = 1;
    code = cli_build_and_write(&j);
    run_uncatch(old);
    run_tmp_path[0] = '\0';
    return code;
}

static long run_budget_trials(const aml_spec *s, const aml_search_type *st)
{
    if (s->trials > 0)
        return s->trials;
    if (st == &aml_search_grid)
        return 0; /* the whole grid: the strategy reports exhaustion */
    return RUN_DEFAULT_TRIALS;
}

/* The stop reason as stored with the study: one stable word. */
static const char *run_stop_word(int rc, aml_stop_reason r)
{
    if (rc < 0)
        return "error";
    switch (r) {
    case AML_STOP_TRIALS:
        return "budget";
    case AML_STOP_EXHAUSTED:
        return "exhausted";
    case AML_STOP_TIME:
        return "time";
    case AML_STOP_REQUESTED:
        return "interrupted";
    case AML_STOP_PATIENCE:
        return "patience";
    case AML_STOP_NONE:
        break;
    }
    return "none";
}

/* Runs the search with the stop signals caught; the study is released however it ends. */
static int run_loop_signals(run_ctx *c, const aml_search_type *st, aml_run_options *opt,
                            aml_run_summary *s)
{
    struct sigaction old[RUN_N_STOP_SIGNALS];
    int rc, rel;

    run_budget = &opt->budget;
    run_catch(run_on_stop_signal, old);
    run_early = 0;
    if (run_signal) /* came after run_prepare's last look: stop before any trial */
        opt->budget.stop_flag = 1;
    cli_progress_init(&c->progress, stdout, run_display_budget(c), c->metric->name,
                      c->space, c->quiet);
    rc = aml_run_search(s, c->data, c->space, st, opt, run_on_trial, c);
    cli_progress_end(&c->progress, rc < 0 ? NULL : s);
    run_uncatch(old);
    run_budget = NULL;
    rel = aml_store_study_release(c->store, c->study_id, run_stop_word(rc, s->reason));
    return rc < 0 ? rc : rel;
}

/*
 * Why there is no model: no trial succeeded, or (halving, bohb) every ok
 * trial was a partial evaluation, which can never be the model; then the
 * remedy, with the trial that would bring the first full evaluation.
 */
static void run_no_best(const run_ctx *c, const aml_search_type *st,
                        const aml_run_options *opt, const aml_run_summary *s)
{
    long need;

    if (s->n_ok == 0) {
        cli_error("no trial succeeded, so there is no model to export");
        return;
    }
    need = cli_halving_first_full(st, c->space, opt->seed, opt->search, opt->seeds,
                                  opt->n_seeds);
    cli_error("all %ld ok trial%s %s partial evaluation%s of %s (a fraction of the rows "
              "or iterations), and only a full evaluation can be the model: none "
              "came within %ld trials, so there is no model to export",
              s->n_ok, s->n_ok == 1 ? "" : "s", s->n_ok == 1 ? "was a" : "were",
              s->n_ok == 1 ? "" : "s", st->name, s->n_trials);
    if (need > s->n_trials)
        fprintf(stderr,
                "automl: raise search.trials (the first full evaluation needs about %ld "
                "trials here) and run the spec again: the study resumes from its "
                "%ld trials\n",
                need, s->n_trials);
    else
        fprintf(stderr, "automl: raise search.trials and run the spec again: the study "
                        "resumes from its trials\n");
}

static int run_search(run_ctx *c, const aml_search_type *st, int threads)
{
    aml_search_options so = {c->spec->eta, c->spec->min_resource,
                             (aml_search_sampler)c->spec->sampler};
    aml_run_options opt = {0};
    aml_config *seeds = NULL;
    aml_run_summary s;
    int rc;

    /* Against the space trimmed to the task: a seed may name a dropped parameter. */
    if ((rc = aml_spec_seed_configs(c->spec, c->space, &seeds, &opt.n_seeds)) < 0)
        return cli_fail(rc);
    opt.seeds = seeds;
    opt.search = &so;

    opt.folds = c->spec->folds;
    opt.stratified = c->spec->stratified;
    opt.cv_seed = c->spec->cv_seed;
    opt.seed = c->spec->seed;
    opt.threads = threads;
    opt.budget.max_trials = c->budget;
    opt.budget.max_seconds = c->spec->time_budget;
    opt.budget.patience = c->spec->patience;
    opt.budget.trial_seconds = c->spec->trial_timeout;
    opt.metric = c->metric;
    opt.store = c->store;
    opt.study_id = c->study_id;

    rc = run_loop_signals(c, st, &opt, &s);
    if (rc < 0) {
        aml_run_summary_dispose(&s);
        aml_spec_seed_configs_free(seeds, opt.n_seeds);
        return cli_fail(rc);
    }
    if (s.reason == AML_STOP_PATIENCE)
        printf("\nsearch stopped: no improvement for %ld trials", s.since_best);
    else
        printf("\nsearch stopped: %s", aml_stop_reason_name(s.reason));
    printf("; %ld trials (%ld from the store), %ld ok, %ld failed", s.n_trials,
           s.n_resumed, s.n_ok, s.n_failed);
    if (s.n_interrupted)
        printf(", %ld interrupted (run again to finish them)", s.n_interrupted);
    printf("\n");
    if ((rc = run_print_leaderboard(c)) < 0) {
        aml_run_summary_dispose(&s);
        aml_spec_seed_configs_free(seeds, opt.n_seeds);
        return cli_fail(rc);
    }
    if (!s.has_best) {
        run_no_best(c, st, &opt, &s);
        aml_run_summary_dispose(&s);
        aml_spec_seed_configs_free(seeds, opt.n_seeds);
        return opt.budget.stop_flag ? run_stopped_code() : CLI_EXIT_FAIL;
    }
    aml_spec_seed_configs_free(seeds, opt.n_seeds);
    rc = opt.budget.stop_flag ? 0 : run_export(c, threads);
    aml_run_summary_dispose(&s);
    if (rc != CLI_EXIT_OK)
        return rc; /* the ensemble stage said why */
    return opt.budget.stop_flag ? run_stopped_code() : CLI_EXIT_OK;
}

static int run_parse_args(int argc, char **argv, const char **spec, int *fresh,
                          int *quiet)
{
    cli_args a = {argc, argv, 0, "run"};

    *spec = NULL;
    for (a.i = 0; a.i < argc; a.i++) {
        if (cli_opt(&a, "--fresh", NULL))
            *fresh = 1;
        else if (cli_opt(&a, "--quiet", NULL))
            *quiet = 1;
        else if (argv[a.i][0] == '-' || *spec) {
            cli_error("run: unexpected argument '%s' (usage: automl run SPEC [--fresh] "
                      "[--quiet])",
                      argv[a.i]);
            return -1;
        } else
            *spec = argv[a.i];
    }
    if (!*spec) {
        cli_error("run: which spec? (usage: automl run SPEC [--fresh] [--quiet])");
        return -1;
    }
    return 0;
}

/*
 * A stop signal came before the search: the store (when it was opened) is
 * released with no new trial, and the run ends as a stopped search does.
 */
static int run_stopped_early(const run_ctx *c)
{
    int rc;

    if (c->store &&
        (rc = aml_store_study_release(c->store, c->study_id, "interrupted")) < 0)
        return cli_fail(rc);
    printf("search stopped before its first trial: interrupted%s\n",
           c->store ? "; the study is kept with no new trial" : "; nothing was written");
    return run_stopped_code();
}

/* Loads and checks spec and data, opens the store: CLI_EXIT_OK to search, else the
 * exit code.  A stop signal is looked for after each step that may take long. */
static int run_prepare(run_ctx *c, aml_spec **spec, const char *path, int fresh)
{
    const char *metrics[32], *strategies[16];
    aml_spec_vocab vocab;
    int rc;

    cli_spec_vocab(&vocab, metrics, 32, strategies, 16);
    if ((rc = aml_spec_load(spec, path, &vocab)) < 0)
        return cli_fail(rc);
    c->spec = *spec;
    c->space = (*spec)->space;
    if ((rc = aml_dataset_load(&c->data, *spec)) < 0 ||
        (rc = cli_check_task(*spec, c->space, c->data, &c->metric)) < 0)
        return cli_fail(rc);
    if (run_signal)
        return run_stopped_early(c);
    if ((rc = cli_study_canonical(*spec, c->data, c->metric, &c->canonical, c->hash)) <
            0 ||
        (rc = run_open_store(c, fresh)) < 0)
        return cli_fail(rc);
    return run_signal ? run_stopped_early(c) : CLI_EXIT_OK;
}

int cli_run(int argc, char **argv)
{
    const char *path;
    aml_spec *spec = NULL;
    const aml_search_type *st;
    struct sigaction old[RUN_N_STOP_SIGNALS];
    run_ctx c = {0};
    int fresh = 0, threads, code;

    if (run_parse_args(argc, argv, &path, &fresh, &c.quiet) < 0)
        return CLI_EXIT_INPUT;
    /* Reading a large data set takes a while: a stop signal then ends the run
     * as cleanly as one during the search (run_prepare, run_loop_signals).
     * TODO(signals): the first signal waits for the whole read (the CSV
     * reader has no stop flag to look at); only a second one ends it at once. */
    run_early = 1;
    run_catch(run_on_stop_signal, old);
    if ((code = run_prepare(&c, &spec, path, fresh)) != CLI_EXIT_OK)
        goto out;
    st = aml_search_type_find(spec->strategy);
    c.budget = run_budget_trials(spec, st);
    threads = cli_threads(spec->parallel);
    /* A reader of stdout that goes away (`automl run spec | head`) must not
     * kill the run between two store writes: writes then fail (EPIPE) and
     * are ignored, and the run finishes its trials and model. */
    signal(SIGPIPE, SIG_IGN);
    run_print_header(&c, st, threads);
    code = run_search(&c, st, threads);
    errno = 0;
    if ((fflush(stdout) != 0 || ferror(stdout)) && (errno == EPIPE || errno == 0)) {
        fprintf(stderr, "automl: standard output was closed early; the run went on to "
                        "its end (see automl trials)\n");
        /* Said once: drop what is left so the exit check (cli/main.c) does
         * not fail on it again; other write errors are left to that check. */
        if (!freopen("/dev/null", "w", stdout))
            code = code == CLI_EXIT_OK ? CLI_EXIT_FAIL : code;
    }
out:
    run_uncatch(old);
    run_early = 0;
    free(c.canonical);
    aml_store_free(c.store);
    aml_dataset_free(c.data);
    aml_spec_free(spec);
    return code;
}
