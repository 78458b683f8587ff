/*
 * test_build.c - the ensemble stage (trials/build.c) on stored studies.
 *
 * Expected values come from outside build.c: the single-trial model must
 * equal aml_model_fit's refit bit for bit; fold models must reproduce the
 * stored out-of-fold predictions row for row (they are the CV's models);
 * the voting score is recomputed here from the stored OOF matrices with
 * the metric, fold by fold, as a trial's CV score is, each fold's members
 * chosen on the other folds.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build.h"
#include "runner.h"
#include "search.h"

typedef struct study {
    aml_spec *spec;
    aml_dataset *d;
    aml_store *st;
    long long id;
    const aml_metric *m;
    aml_run_summary sum; /* the search's own account of its best trial */
} study;

static void load(study *s, const char *fixture, const char *db, long trials)
{
    aml_study_info info = {"b", NULL, "x", "x", 1, 11, NULL, NULL};
    aml_run_options opt = {0};
    char path[600];

    memset(s, 0, sizeof(*s));
    s->spec = aml_test_load_spec(fixture);
    assert_int_equal(aml_dataset_load(&s->d, s->spec), 0);
    s->m = aml_metric_find(s->spec->metric);
    snprintf(path, sizeof(path), "%s/%s", aml_test_tmpdir(), db);
    unlink(path);
    assert_int_equal(aml_store_open(&s->st, path, 0), 0);
    assert_int_equal(aml_store_study_create(s->st, &s->id, &info, 1), 0);
    opt.folds = s->spec->folds;
    opt.stratified = s->spec->stratified;
    opt.cv_seed = s->spec->cv_seed;
    opt.seed = s->spec->seed;
    opt.threads = 2;
    opt.budget.max_trials = trials;
    opt.metric = s->m;
    opt.store = s->st;
    opt.study_id = s->id;
    assert_int_equal(aml_run_search(&s->sum, s->d, s->spec->space,
                                    aml_search_type_find(s->spec->strategy), &opt, NULL,
                                    NULL),
                     0);
    assert_true(s->sum.has_best);
}

static void unload(study *s)
{
    aml_run_summary_dispose(&s->sum);
    aml_store_free(s->st);
    aml_dataset_free(s->d);
    aml_spec_free(s->spec);
}

static aml_build_request request(const study *s, const aml_spec_ensemble *e)
{
    aml_build_request q = {0};

    q.d = s->d;
    q.space = s->spec->space;
    q.ens = e;
    q.metric = s->m;
    q.store = s->st;
    q.study_id = s->id;
    q.folds = s->spec->folds;
    q.stratified = s->spec->stratified;
    q.cv_seed = s->spec->cv_seed;
    q.seed = s->spec->seed;
    q.threads = 1;
    q.trial = -1;
    return q;
}

static aml_spec_ensemble method(aml_ensemble_method m, int size, int refit)
{
    aml_spec_ensemble e = {0};

    e.method = m;
    e.size = size;
    e.candidates = 50;
    e.layers = 1;
    e.refit = refit;
    e.fallback = 0; /* each test checks its method; test_build_selection the fallback */
    return e;
}

static double *predict_all(const aml_model *m, const aml_dataset *d)
{
    size_t outs = (size_t)aml_model_outputs(m);
    double *p = calloc(d->n * outs, sizeof(double));

    assert_non_null(p);
    assert_int_equal(aml_model_predict(m, d->features, p), 0);
    return p;
}

/* The best trial, found here from the store (not through build.c). */
typedef struct best {
    long number;
    long long id;
    double score;
    aml_config config;
    const aml_space *space;
    int greater;
} best;

static int best_cb(const aml_trial_record *r, void *payload)
{
    best *b = payload;
    int better;

    if (r->status != AML_TRIAL_OK)
        return 0;
    better = b->number < 0 || (b->greater ? r->score > b->score : r->score < b->score);
    if (!better)
        return 0;
    b->number = r->number;
    b->id = r->id;
    b->score = r->score;
    return 0;
}

/* Method none: the best trial refitted exactly as aml_model_fit refits it. */
static void test_build_none_is_best_refit(void **state)
{
    study s;
    aml_spec_ensemble e = method(AML_ENSEMBLE_NONE, 10, 1);
    aml_build_request q;
    aml_build_report r;
    aml_model *m = NULL;
    best b = {.number = -1};

    (void)state;
    load(&s, "runner/penguins.yaml", "build_none.db", 12);
    q = request(&s, &e);
    assert_int_equal(aml_build_model(&m, &r, &q), 0);
    b.greater = 1;
    assert_int_equal(aml_store_trial_records(s.st, s.id, best_cb, &b), 0);
    assert_string_equal(r.method, "none");
    assert_int_equal(r.n_members, 1);
    assert_int_equal(r.member_trials[0], b.number);
    assert_true(r.score == b.score && r.best_trial_score == b.score);
    assert_int_equal(aml_model_n_members(m), 1);
    assert_int_equal(aml_model_member_n_pipes(m, 0), 1);
    /* The runner's best and aml_model_fit's refit of it predict the same bits. */
    assert_int_equal(s.sum.best.number, b.number);
    {
        aml_model *ref = NULL;
        double *p, *pr;

        assert_int_equal(aml_model_fit(&ref, s.d, s.spec->space, &s.sum.best.config,
                                       b.number, "accuracy", b.score, s.spec->seed, 1),
                         0);
        p = predict_all(m, s.d);
        pr = predict_all(ref, s.d);
        assert_memory_equal(p, pr, s.d->n * 3 * sizeof(double));
        free(p);
        free(pr);
        aml_model_free(ref);
    }
    aml_build_report_dispose(&r);
    aml_model_free(m);
    unload(&s);
}

/* Fold models (refit: false) are the CV's models: they reproduce the stored OOF. */
static void test_build_fold_models_reproduce_oof(void **state)
{
    study s;
    aml_spec_ensemble e = method(AML_ENSEMBLE_NONE, 10, 0);
    aml_build_request q;
    aml_build_report r;
    aml_model *m = NULL;
    best b = {.number = -1, .greater = 1};
    double *oof, *pred;
    size_t n, outs, checked = 0;
    int outputs;
    aml_cv cv;

    (void)state;
    load(&s, "runner/penguins.yaml", "build_folds.db", 12);
    q = request(&s, &e);
    assert_int_equal(aml_build_model(&m, &r, &q), 0);
    assert_int_equal(aml_store_trial_records(s.st, s.id, best_cb, &b), 0);
    assert_int_equal(aml_model_member_n_pipes(m, 0), 4);
    assert_int_equal(aml_store_oof_load(s.st, b.id, 0, &oof, &n, &outputs), 0);
    outs = (size_t)outputs;
    assert_int_equal(n, s.d->n);
    assert_int_equal(
        aml_cv_init(&cv, s.d, s.spec->space, s.m, 4, 1, s.spec->cv_seed, s.spec->seed),
        0);
    pred = calloc(n * outs, sizeof(double));
    for (int f = 0; f < 4; f++) {
        const aml_pipeline *p = aml_model_member_pipe(m, 0, f);
        const size_t *rows = cv.rows + cv.start[f];
        size_t nv = cv.start[f + 1] - cv.start[f];

        assert_int_equal(aml_pipeline_predict(p, s.d->features, rows, nv, pred), 0);
        for (size_t i = 0; i < nv; i++, checked++)
            for (size_t o = 0; o < outs; o++)
                assert_true(pred[i * outs + o] == oof[rows[i] * outs + o]);
    }
    assert_int_equal(checked, n);
    aml_cv_dispose(&cv);
    free(pred);
    free(oof);
    aml_build_report_dispose(&r);
    aml_model_free(m);
    unload(&s);
}

typedef struct oofs {
    long long id[64];
    long number[64];
    char learner[64][32];
    long n;
} oofs;

static int ids_cb(const aml_trial_record *r, void *payload)
{
    oofs *o = payload;

    if (r->status == AML_TRIAL_OK && o->n < 64) {
        o->id[o->n] = r->id;
        snprintf(o->learner[o->n], sizeof(o->learner[0]), "%s", r->learner);
        o->number[o->n++] = r->number;
    }
    return 0;
}

/* RMSE of OOF column v on fold f of cv. */
static double fold_rmse(const aml_cv *cv, const aml_dataset *d, const double *v, int f)
{
    const size_t *rows = cv->rows + cv->start[f];
    size_t nv = cv->start[f + 1] - cv->start[f];
    double se = 0.0;

    for (size_t i = 0; i < nv; i++)
        se += (v[rows[i]] - d->y[rows[i]]) * (v[rows[i]] - d->y[rows[i]]);
    return sqrt(se / (double)nv);
}

/* A regression trial's OOF averaged over the plan's repeats (every row each time). */
static double *mean_oof(const study *s, long long id, int repeats)
{
    double *mean = calloc(s->d->n, sizeof(double)), *v;
    size_t n;
    int outs;

    assert_non_null(mean);
    for (int r = 0; r < repeats; r++) {
        assert_int_equal(aml_store_oof_load(s->st, id, r, &v, &n, &outs), 0);
        assert_int_equal(n, s->d->n);
        for (size_t i = 0; i < n; i++)
            mean[i] += v[i] / repeats;
        free(v);
    }
    return mean;
}

/* Every ok trial's OOF (averaged over `repeats`) and its RMSE on each of repeat 0's
 * folds. */
typedef struct fold_table {
    oofs o;
    double *v[64], rmse[64][10];
    aml_cv cv;
} fold_table;

static void fold_table_load(fold_table *t, const study *s, int repeats)
{
    memset(&t->o, 0, sizeof(t->o));
    assert_int_equal(aml_store_trial_records(s->st, s->id, ids_cb, &t->o), 0);
    assert_int_equal(aml_cv_init(&t->cv, s->d, s->spec->space, s->m, s->spec->folds, 0,
                                 s->spec->cv_seed, s->spec->seed),
                     0);
    assert_true(t->cv.k <= 10);
    t->cv.k = t->cv.per_repeat; /* the scoring folds: repeat 0's */
    for (long i = 0; i < t->o.n; i++) {
        t->v[i] = mean_oof(s, t->o.id[i], repeats);
        for (int g = 0; g < t->cv.k; g++)
            t->rmse[i][g] = fold_rmse(&t->cv, s->d, t->v[i], g);
    }
}

static void fold_table_free(fold_table *t)
{
    for (long i = 0; i < t->o.n; i++)
        free(t->v[i]);
    aml_cv_dispose(&t->cv);
}

/* Trial i's mean RMSE over the folds other than f. */
static double mean_without(const fold_table *t, long i, int f)
{
    double m = 0.0;

    for (int g = 0; g < t->cv.k; g++)
        m += g == f ? 0.0 : t->rmse[i][g] / (t->cv.k - 1);
    return m;
}

/* Is trial i better than trial u on the folds other than f (ties: lower number)? */
static int better_without(const fold_table *t, long i, long u, int f)
{
    double mi = mean_without(t, i, f), mu = mean_without(t, u, f);

    return mi < mu || (mi == mu && t->o.number[i] < t->o.number[u]);
}

/*
 * The honest voting score with as many members as learners, recomputed
 * here (on the OOF averaged over the repeats, scored on repeat 0's folds):
 * for each fold f, each learner's trial with the lowest mean RMSE over the
 * other folds (ties to the lower trial number), their OOF averaged on f's
 * rows; the mean over folds of those RMSEs.  *changed counts the folds
 * whose members differ from the choice on all folds.
 */
static double voting_score(const study *s, const aml_build_report *r, int repeats,
                           int *changed)
{
    fold_table t;
    double sum = 0.0;

    fold_table_load(&t, s, repeats);
    *changed = 0;
    for (int f = 0; f < t.cv.k; f++) {
        long pick[64];
        size_t m = 0;
        double *avg = calloc(s->d->n, sizeof(double));

        assert_non_null(avg);
        for (long i = 0; i < t.o.n; i++) {
            int top = 1;

            for (long u = 0; u < t.o.n && top; u++)
                if (u != i && strcmp(t.o.learner[u], t.o.learner[i]) == 0)
                    top = better_without(&t, i, u, f);
            if (top)
                pick[m++] = i;
        }
        assert_int_equal(m, r->n_members);
        for (size_t j = 0; j < m; j++) {
            int in_model = 0;

            for (size_t i = 0; i < s->d->n; i++)
                avg[i] += t.v[pick[j]][i] / (double)m;
            for (size_t i = 0; i < r->n_members; i++)
                in_model |= r->member_trials[i] == t.o.number[pick[j]];
            *changed += !in_model;
        }
        sum += fold_rmse(&t.cv, s->d, avg, f);
        free(avg);
    }
    sum /= t.cv.k;
    fold_table_free(&t);
    return sum;
}

/*
 * The honest estimate of the best single trial, recomputed here: for each
 * fold, the trial with the lowest mean RMSE over the other folds (ties to
 * the lower number), scored on that fold; the mean over folds.
 */
static double single_score(const study *s)
{
    fold_table t;
    double sum = 0.0;

    fold_table_load(&t, s, 1);
    for (int f = 0; f < t.cv.k; f++) {
        long pick = 0;

        for (long i = 1; i < t.o.n; i++)
            if (better_without(&t, i, pick, f))
                pick = i;
        sum += t.rmse[pick][f];
    }
    sum /= t.cv.k;
    fold_table_free(&t);
    return sum;
}

/* The fallback's yardstick: the best single trial chosen on the other folds. */
static void test_build_single_honest(void **state)
{
    study s;
    aml_spec_ensemble e = method(AML_ENSEMBLE_SELECTION, 3, 1);
    aml_build_request q;
    aml_build_report r;
    aml_model *m = NULL;

    (void)state;
    e.fallback = 1;
    load(&s, "runner/regression.yaml", "build_single.db", 12);
    q = request(&s, &e);
    q.no_fit = 1;
    assert_int_equal(aml_build_model(&m, &r, &q), 0);
    assert_close(r.single_score, single_score(&s), 1e-9);
    aml_build_report_dispose(&r);
    unload(&s);
}

/*
 * Voting on a 12-trial study of `fixture`: equal weights, learners taking
 * turns (three learners, three members: one of each), the honest score as
 * recomputed here; returns how many folds' members differ from the overall
 * choice.
 */
static int check_voting(const char *fixture, const char *db, int repeats)
{
    study s;
    aml_spec_ensemble e = method(AML_ENSEMBLE_VOTING, 3, 1);
    aml_build_request q;
    aml_build_report r;
    aml_model *m = NULL;
    int changed;

    load(&s, fixture, db, 12);
    q = request(&s, &e);
    assert_int_equal(aml_build_model(&m, &r, &q), 0);
    assert_string_equal(r.method, "voting");
    assert_int_equal(r.n_members, 3);
    assert_int_equal(aml_model_n_members(m), 3);
    for (int i = 0; i < 3; i++)
        assert_string_not_equal(aml_model_member_learner(m, i),
                                aml_model_member_learner(m, (i + 1) % 3));
    assert_close(r.score, voting_score(&s, &r, repeats, &changed), 1e-9);
    aml_build_report_dispose(&r);
    aml_model_free(m);
    unload(&s);
    return changed;
}

/* A grid of 10 trials: some fold's members differ from the overall choice, so the
 * nesting is exercised, not only the plain average. */
static void test_build_voting_regression(void **state)
{
    (void)state;
    assert_true(check_voting("runner/regression.yaml", "build_vote.db", 1) > 0);
}

/* A repeated plan: members are chosen on the OOF averaged over its repeats. */
static void test_build_voting_repeated(void **state)
{
    (void)state;
    check_voting("runner/regression_rep.yaml", "build_vote_rep.db", 2);
}

/*
 * Selection (plain, or bagged with `bags`): at most `size` members, weights
 * summing to 1, an honest score.
 */
static void check_selection(int bags, const char *db)
{
    study s;
    aml_spec_ensemble e = method(AML_ENSEMBLE_SELECTION, 2, 1);
    aml_build_request q;
    aml_build_report r;
    aml_model *m = NULL;
    double *p, wsum = 0.0;

    e.fallback = 1;
    e.bags = bags;
    load(&s, "runner/penguins.yaml", db, 16);
    q = request(&s, &e);
    assert_int_equal(aml_build_model(&m, &r, &q), 0);
    /* The selection is kept only when it does strictly better than the best
     * single trial estimated the same honest way. */
    assert_true(isfinite(r.ensemble_score) && isfinite(r.single_score));
    if (r.fallback_from) {
        assert_string_equal(r.fallback_from, "selection");
        assert_string_equal(r.method, "none");
        assert_true(r.single_score >= r.ensemble_score);
    } else {
        assert_string_equal(r.method, "selection");
        assert_true(r.ensemble_score > r.single_score);
        assert_true(r.score == r.ensemble_score);
    }
    assert_true(r.n_members >= 1 && r.n_members <= 2);
    for (size_t i = 0; i < r.n_members; i++)
        wsum += r.member_weights[i];
    assert_close(wsum, 1.0, 1e-12);
    assert_true(r.score > 0.5 && r.score <= 1.0);
    p = predict_all(m, s.d);
    for (size_t i = 0; i < s.d->n; i++)
        assert_close(p[3 * i] + p[3 * i + 1] + p[3 * i + 2], 1.0, 1e-9);
    free(p);
    aml_model_free(m);

    /* Choose-and-score only: the same members and score, no model. */
    q.no_fit = 1;
    {
        aml_build_report r2;

        assert_int_equal(aml_build_model(&m, &r2, &q), 0);
        assert_null(m);
        assert_true(r2.score == r.score);
        assert_int_equal(r2.n_members, r.n_members);
        assert_memory_equal(r2.member_trials, r.member_trials,
                            r.n_members * sizeof(long));
        aml_build_report_dispose(&r2);
    }
    aml_build_report_dispose(&r);
    unload(&s);
}

static void test_build_selection(void **state)
{
    (void)state;
    check_selection(1, "build_sel.db");
}

static void test_build_selection_bagged(void **state)
{
    (void)state;
    check_selection(20, "build_sel_bag.db");
}

/*
 * A holdout plan validates one block only, so the honest estimates run on
 * inner folds the stage draws itself.  The example file is sorted by
 * species: folds cut in file order were nearly one class each and scored a
 * stack 0.44 to 0.80 where every trial scores above 0.9 on the holdout.
 * Shuffled, stratified inner folds give the stack and the single-trial
 * choice estimates in the trials' range.
 */
static void test_build_holdout_sorted(void **state)
{
    study s;
    aml_spec_ensemble e = method(AML_ENSEMBLE_STACKING, 3, 1);
    aml_build_request q;
    aml_build_report r;
    aml_model *m = NULL;

    (void)state;
    e.fallback = 1;
    load(&s, "runner/penguins_holdout.yaml", "build_holdout.db", 12);
    q = request(&s, &e);
    q.no_fit = 1;
    assert_int_equal(aml_build_model(&m, &r, &q), 0);
    assert_true(r.best_trial_score > 0.9);
    assert_true(r.ensemble_score > 0.9);
    assert_true(r.single_score > 0.9);
    aml_build_report_dispose(&r);
    unload(&s);
}

/* Stacking: a logistic meta-model whose outputs are probabilities. */
static void test_build_stacking(void **state)
{
    study s;
    aml_spec_ensemble e = method(AML_ENSEMBLE_STACKING, 3, 1);
    aml_build_request q;
    aml_build_report r;
    aml_model *m = NULL;
    double *p;

    (void)state;
    load(&s, "runner/penguins.yaml", "build_stack.db", 12);
    q = request(&s, &e);
    assert_int_equal(aml_build_model(&m, &r, &q), 0);
    assert_string_equal(r.method, "stacking");
    assert_int_equal(r.n_members, 3);
    assert_true(isnan(r.member_weights[0]));
    assert_non_null(aml_model_stack(m));
    assert_true(isfinite(r.score));
    p = predict_all(m, s.d);
    for (size_t i = 0; i < s.d->n; i++)
        assert_close(p[3 * i] + p[3 * i + 1] + p[3 * i + 2], 1.0, 1e-9);
    free(p);
    aml_build_report_dispose(&r);
    aml_model_free(m);

    /*
     * With the fallback on, this stack (12 trials on the penguins) loses to
     * the best single trial chosen the same honest way: the model is then
     * that trial alone, and the report says which method lost and by what.
     */
    e.fallback = 1;
    assert_int_equal(aml_build_model(&m, &r, &q), 0);
    assert_non_null(r.fallback_from);
    assert_string_equal(r.fallback_from, "stacking");
    assert_string_equal(r.method, "none");
    assert_true(r.single_score > r.ensemble_score);
    assert_int_equal(r.n_members, 1);
    assert_int_equal(r.member_trials[0], r.best_trial);
    assert_null(aml_model_stack(m));
    unload(&s);
    aml_build_report_dispose(&r);
    aml_model_free(m);
}

/* A meta-learner that does not do the task, and a trial that is not ok. */
static void test_build_errors(void **state)
{
    study s;
    aml_spec_ensemble e = method(AML_ENSEMBLE_STACKING, 3, 1);
    char *meta[] = {"ridge"};
    aml_build_request q;
    aml_build_report r;
    aml_model *m = (aml_model *)1;

    (void)state;
    load(&s, "runner/penguins.yaml", "build_err.db", 8);
    e.meta = meta;
    e.n_meta = 1;
    q = request(&s, &e);
    assert_int_equal(aml_build_model(&m, &r, &q), AML_EINVAL);
    assert_null(m);
    assert_non_null(strstr(aml_error_message(), "'ridge' does not do classification"));
    aml_build_report_dispose(&r);

    e = method(AML_ENSEMBLE_NONE, 3, 1);
    q = request(&s, &e);
    q.trial = 500;
    assert_int_equal(aml_build_model(&m, &r, &q), AML_EINVAL);
    assert_non_null(strstr(aml_error_message(), "trial 500 is not a successful trial"));
    aml_build_report_dispose(&r);
    unload(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_none_is_best_refit),
        cmocka_unit_test(test_build_fold_models_reproduce_oof),
        cmocka_unit_test(test_build_voting_regression),
        cmocka_unit_test(test_build_voting_repeated),
        cmocka_unit_test(test_build_single_honest),
        cmocka_unit_test(test_build_selection),
        cmocka_unit_test(test_build_selection_bagged),
        cmocka_unit_test(test_build_stacking),
        cmocka_unit_test(test_build_holdout_sorted),
        cmocka_unit_test(test_build_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
