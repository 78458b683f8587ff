/*
 * build.c - the ensemble stage: from a study's stored trials to a model.
 *
 * Candidates are the ok trials, best first, with their stored out-of-fold
 * (OOF) predictions (averaged over the repeats of a repeated plan).  The pool is the best
 * `candidates` of them plus the best few of every learner, so that members can come from
 * every learner the search tried, not only from the one that won.
 *
 * Methods:
 *   none       the best trial alone;
 *   voting     equal weights over the best `size` trials taken learner by
 *              learner in turn (the best of each learner first);
 *   selection  Caruana's greedy selection with replacement (ensemble.c)
 *              over the pool, capped at `size` distinct members;
 *   stacking   a meta-model (stack.h) over the OOF of the `size` members
 *              voting would take.
 *
 * Honest scores.  A trial's CV score is the mean of its fold scores; the
 * ensemble's is computed the same way on rows the ensemble did not choose
 * itself on: selection runs once per fold with that fold's rows masked
 * (y set to NaN) and is scored on them; stacking is scored on the stack's
 * own cross-fitted OOF; voting averages OOF that no member saw.  Voting's
 * and stacking's members are chosen by CV score, so for fold f they are
 * chosen again by the scores over the other folds (build_nested).
 *
 * The OOF rows usable for all of this are those every pool member
 * validated (holdout and time-series plans leave some rows unvalidated).
 * Scoring folds are the plan's folds of repeat 0 over those rows (more
 * than 50 are merged into five); a plan with fewer than two of them
 * (holdout) gets five shuffled, stratified folds drawn from the CV seed.
 */
#include "build.h"
#include "aml.h"
#include "ensemble.h"
#include "folds.h"
#include "trial.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Per learner, this many of its best trials join the pool beside the top ones. */
#define BUILD_PER_LEARNER 3
/* Share of the pool each bag of bagged selection draws (Caruana et al. used half). */
#define BUILD_BAG_FRACTION 0.5
/* Folds for the honest estimate when the plan has fewer than two (holdout). */
#define BUILD_INNER_FOLDS 5
/* More plan folds than this are merged into BUILD_INNER_FOLDS for the estimate. */
#define BUILD_MAX_FOLDS 50

typedef struct build_cand {
    long long id;
    long number;
    double score;
    double key; /* score oriented so that smaller is better, for sorting */
    aml_config config;
    double *oof; /* n x outputs, the mean over the plan's repeats */
} build_cand;

typedef struct build_ctx {
    const aml_build_request *q;
    aml_cv cv;
    int cv_ready;
    size_t n;    /* data rows */
    int outputs; /* per OOF row */
    build_cand *c;
    size_t m, cap;
    /* Usable rows: every pool member validated them. */
    size_t *rows;
    size_t n_rows;
    int *fold; /* per usable row, in [0, k) */
    int k;
    double partial;      /* the resource of q->trial when it is a partial evaluation */
    double *fold_scores; /* m x k: each candidate's metric on each fold (build_rows) */
} build_ctx;

/* ---- candidates from the store ------------------------------------------ */

/* The space's copy of a stored string value, so the config borrows from the space. */
static const char *build_space_string(const aml_dim *dim, const char *s)
{
    for (size_t i = 0; i < dim->n_choices; i++)
        if (dim->choices[i].kind == AML_VAL_STR && strcmp(dim->choices[i].str, s) == 0)
            return dim->choices[i].str;
    return NULL;
}

/* Rebuilds a trial's configuration from its stored parameters. */
static int build_config(const aml_space *sp, const aml_trial_record *r, aml_config *out)
{
    const aml_space_learner *l = NULL;
    size_t li;
    int rc;

    for (li = 0; li < sp->n_learners && !l; li++)
        if (strcmp(sp->learners[li].name, r->learner) == 0)
            l = &sp->learners[li];
    if (!l || l->n_dims != r->n_params)
        return aml_error_set(AML_EINVAL, "trial %ld (%s) does not fit the study's space",
                             r->number, r->learner);
    if ((rc = aml_config_init(out, sp, li - 1)) < 0)
        return rc;
    for (size_t j = 0; j < l->n_dims; j++) {
        aml_value v = r->params[j].value;

        if (strcmp(r->params[j].name, l->dims[j].name) != 0 ||
            (v.kind == AML_VAL_STR && !(v.str = build_space_string(&l->dims[j], v.str))))
            return aml_error_set(
                AML_EINVAL, "trial %ld: parameter '%s' does not fit the study's space",
                r->number, r->params[j].name);
        out->params[j].value = v;
    }
    return AML_OK;
}

static int build_collect(const aml_trial_record *r, void *payload)
{
    build_ctx *x = payload;
    build_cand *c;
    int rc;

    /* A trial on part of the budget (successive halving) is no candidate:
     * its score does not compare with full ones and it stores no OOF. */
    if (r->status == AML_TRIAL_OK && r->number == x->q->trial && !isnan(r->resource) &&
        r->resource < 1.0)
        x->partial = r->resource; /* asked for by number: say why it cannot be */
    if (r->status != AML_TRIAL_OK || !isfinite(r->score) ||
        (!isnan(r->resource) && r->resource < 1.0))
        return AML_OK;
    if (x->m == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 64;

        if (!(c = aml_reallocarray(x->c, cap, sizeof(*c))))
            return AML_ENOMEM;
        x->c = c;
        x->cap = cap;
    }
    c = &x->c[x->m];
    memset(c, 0, sizeof(*c));
    c->id = r->id;
    c->number = r->number;
    c->score = r->score;
    c->key = x->q->metric->greater_is_better ? -r->score : r->score;
    if ((rc = build_config(x->q->space, r, &c->config)) < 0) {
        aml_config_dispose(&c->config);
        return rc;
    }
    x->m++;
    return AML_OK;
}

/* Better score first (scores are finite here), then the lower trial number. */
static int build_cand_cmp(const void *pa, const void *pb)
{
    const build_cand *a = pa, *b = pb;

    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return (a->number > b->number) - (a->number < b->number);
}

static void build_drop(build_ctx *x, size_t i)
{
    aml_config_dispose(&x->c[i].config);
    free(x->c[i].oof);
}

/* Keeps the candidates for which keep[i] is set, in order. */
static void build_filter(build_ctx *x, const unsigned char *keep)
{
    size_t j = 0;

    for (size_t i = 0; i < x->m; i++) {
        if (keep[i])
            x->c[j++] = x->c[i];
        else
            build_drop(x, i);
    }
    x->m = j;
}

/* The best `candidates` overall plus each learner's best BUILD_PER_LEARNER. */
static int build_pool(build_ctx *x, int candidates)
{
    unsigned char *keep = aml_calloc(x->m ? x->m : 1, 1);
    size_t *per = aml_calloc(x->q->space->n_learners, sizeof(size_t));

    if (!keep || !per) {
        free(keep);
        free(per);
        return AML_ENOMEM;
    }
    for (size_t i = 0; i < x->m; i++) {
        size_t l = x->c[i].config.learner;

        keep[i] = i < (size_t)candidates || per[l] < BUILD_PER_LEARNER;
        per[l]++;
    }
    build_filter(x, keep);
    free(keep);
    free(per);
    return AML_OK;
}

/*
 * Adds repeat r's OOF of a candidate into sum / count (element by element,
 * NaN entries skipped): AML_OK, 1 when the trial has none stored for r,
 * AML_EINVAL when its shape no longer fits the data.
 */
static int build_add_repeat(build_ctx *x, const build_cand *c, int r, double *sum,
                            int *count)
{
    size_t n, len = x->n * (size_t)x->outputs;
    double *v;
    int outs, rc;

    if ((rc = aml_store_oof_load(x->q->store, c->id, r, &v, &n, &outs)) == AML_EINVAL) {
        aml_error_clear(); /* stored before schema 4, or a failed save */
        return 1;
    }
    if (rc < 0)
        return rc;
    if (n != x->n || outs != x->outputs) {
        free(v);
        return aml_error_set(AML_EINVAL,
                             "trial %ld's out-of-fold predictions are %zu x %d, not "
                             "%zu x %d: the data changed since the search",
                             c->number, n, outs, x->n, x->outputs);
    }
    for (size_t i = 0; i < len; i++)
        if (!isnan(v[i])) {
            sum[i] += v[i];
            count[i]++;
        }
    free(v);
    return AML_OK;
}

/*
 * A candidate's OOF: with repeated CV, the mean over the repeats of each
 * row's out-of-fold predictions (every one made by a model that did not
 * see the row), so the ensemble is chosen on steadier values; NaN where
 * no repeat validated the row.  1 when the trial has no stored OOF.
 */
static int build_load_one(build_ctx *x, build_cand *c)
{
    size_t len = x->n * (size_t)x->outputs;
    int repeats = x->cv.k / (x->cv.per_repeat ? x->cv.per_repeat : 1);
    int *count = aml_calloc(len ? len : 1, sizeof(int));
    int rc = AML_OK;

    c->oof = aml_calloc(len ? len : 1, sizeof(double));
    if (!count || !c->oof) {
        free(count);
        return AML_ENOMEM;
    }
    for (int r = 0; r < (repeats > 0 ? repeats : 1) && rc == AML_OK; r++)
        if ((rc = build_add_repeat(x, c, r, c->oof, count)) == 1 && r > 0)
            rc = AML_OK; /* a later repeat not stored: the ones that are */
    for (size_t i = 0; rc == AML_OK && i < len; i++)
        c->oof[i] = count[i] ? c->oof[i] / count[i] : NAN;
    free(count);
    return rc;
}

/* Loads the OOF of every candidate; a trial stored without one leaves the pool. */
static int build_load_oof(build_ctx *x)
{
    unsigned char *keep = aml_calloc(x->m ? x->m : 1, 1);
    int rc = AML_OK;

    if (!keep)
        return AML_ENOMEM;
    for (size_t i = 0; i < x->m && rc >= 0; i++) {
        rc = build_load_one(x, &x->c[i]);
        keep[i] = rc == AML_OK;
    }
    if (rc >= 0) {
        rc = AML_OK;
        build_filter(x, keep);
    }
    free(keep);
    return rc;
}

/* ---- rows and folds ------------------------------------------------------ */

static int build_row_usable(const build_ctx *x, size_t i)
{
    if (isnan(x->q->d->y[i]))
        return 0;
    for (size_t j = 0; j < x->m; j++)
        for (int o = 0; o < x->outputs; o++)
            if (isnan(x->c[j].oof[i * (size_t)x->outputs + (size_t)o]))
                return 0;
    return 1;
}

/*
 * Inner folds over the usable rows when the plan's cannot serve (holdout:
 * one fold): BUILD_INNER_FOLDS shuffled folds drawn from the CV seed,
 * stratified by class where the plan is, never blocks in file order (a file
 * sorted by its target would give one-class folds).
 */
static int build_inner_folds(build_ctx *x)
{
    const aml_dataset *d = x->q->d;
    double *y = aml_mallocarray(x->n_rows, sizeof(double));
    int strat = x->q->stratified && d->n_classes > 0, rc;

    if (!y)
        return AML_ENOMEM;
    for (size_t r = 0; r < x->n_rows; r++)
        y[r] = d->y[x->rows[r]];
    x->k = x->n_rows < BUILD_INNER_FOLDS ? (int)x->n_rows : BUILD_INNER_FOLDS;
    rc =
        aml_folds_assign(x->fold, x->n_rows, x->k, strat, y, d->n_classes, x->q->cv_seed);
    if (rc < 0 && strat) /* a class too small to stratify: plain shuffled folds */
        rc =
            aml_folds_assign(x->fold, x->n_rows, x->k, 0, y, d->n_classes, x->q->cv_seed);
    free(y);
    return rc;
}

/*
 * The scoring folds of the usable rows: the plan's own folds (repeat 0),
 * numbered 0..k-1 in order of appearance; more than BUILD_MAX_FOLDS of them
 * (leave-one-out-like plans) are merged into BUILD_INNER_FOLDS groups by
 * fold id, which keeps each plan fold (and so each group of a group plan)
 * whole; fewer than two, or usable rows that repeat 0 only trained on
 * (a repeated holdout): build_inner_folds.
 */
static int build_assign_folds(build_ctx *x)
{
    int top = -1, low = 0, rc = AML_OK;
    int *map;

    for (size_t r = 0; r < x->n_rows; r++) {
        int f = x->cv.fold_of[x->rows[r]];

        top = f > top ? f : top;
        low = f < low ? f : low;
    }
    if (top < 1 || low < 0) /* one fold, or rows repeat 0 did not validate */
        return build_inner_folds(x);
    if (!(map = aml_mallocarray((size_t)top + 1, sizeof(int))))
        return AML_ENOMEM;
    memset(map, -1, ((size_t)top + 1) * sizeof(int));
    x->k = 0;
    for (size_t r = 0; r < x->n_rows; r++) {
        int f = x->cv.fold_of[x->rows[r]];

        if (map[f] < 0)
            map[f] = x->k++;
        x->fold[r] = map[f];
    }
    if (x->k < 2)
        rc = build_inner_folds(x);
    else if (x->k > BUILD_MAX_FOLDS) {
        for (size_t r = 0; r < x->n_rows; r++)
            x->fold[r] = x->cv.fold_of[x->rows[r]] % BUILD_INNER_FOLDS;
        x->k = BUILD_INNER_FOLDS;
    }
    free(map);
    return rc;
}

static int build_cand_fold_scores(const build_ctx *x, double **S);

/* The usable rows, their folds, and every candidate's metric on each fold. */
static int build_rows(build_ctx *x)
{
    int rc;

    if (!(x->rows = aml_mallocarray(x->n ? x->n : 1, sizeof(size_t))) ||
        !(x->fold = aml_mallocarray(x->n ? x->n : 1, sizeof(int))))
        return AML_ENOMEM;
    for (size_t i = 0; i < x->n; i++)
        if (build_row_usable(x, i))
            x->rows[x->n_rows++] = i;
    if (x->n_rows < 2)
        return aml_error_set(AML_EINVAL,
                             "too few rows with out-of-fold predictions to build an "
                             "ensemble (%zu)",
                             x->n_rows);
    if ((rc = build_assign_folds(x)) < 0)
        return rc;
    return build_cand_fold_scores(x, &x->fold_scores);
}

/* ---- scoring ------------------------------------------------------------- */

/*
 * The metric of pred (n_rows x outputs, usable-row order) on each fold's
 * rows, into per_fold[0..k).
 */
static int build_fold_metrics(const build_ctx *x, const double *pred, double *per_fold)
{
    size_t outs = (size_t)x->outputs;
    double *y = aml_mallocarray(x->n_rows, sizeof(double));
    double *p = aml_mallocarray(x->n_rows * outs, sizeof(double));
    int rc = y && p ? AML_OK : AML_ENOMEM;

    for (int f = 0; rc == AML_OK && f < x->k; f++) {
        size_t m = 0;

        for (size_t r = 0; r < x->n_rows; r++) {
            if (x->fold[r] != f)
                continue;
            y[m] = x->q->d->y[x->rows[r]];
            memcpy(p + m * outs, pred + r * outs, outs * sizeof(double));
            m++;
        }
        per_fold[f] = x->q->metric->score(y, p, m, x->q->d->n_classes);
    }
    free(y);
    free(p);
    return rc;
}

/* The mean over folds of the metric of pred, as a trial's CV score is computed. */
static double build_cv_score(const build_ctx *x, const double *pred)
{
    double *per = aml_mallocarray((size_t)x->k, sizeof(double)), sum = 0.0;

    if (!per || build_fold_metrics(x, pred, per) < 0) {
        free(per);
        return NAN;
    }
    for (int f = 0; f < x->k; f++)
        sum += per[f];
    free(per);
    return sum / x->k;
}

/* Candidate j's OOF gathered on the usable rows (n_rows x outputs, malloc'd). */
static double *build_gather(const build_ctx *x, size_t j)
{
    size_t outs = (size_t)x->outputs;
    double *g = aml_mallocarray(x->n_rows * outs, sizeof(double));

    for (size_t r = 0; g && r < x->n_rows; r++)
        memcpy(g + r * outs, x->c[j].oof + x->rows[r] * outs, outs * sizeof(double));
    return g;
}

/* ---- members chosen ------------------------------------------------------ */

typedef struct build_choice {
    size_t *idx;     /* candidate indices */
    double *weights; /* per member */
    size_t n;
} build_choice;

static void build_choice_dispose(build_choice *ch)
{
    free(ch->idx);
    free(ch->weights);
    memset(ch, 0, sizeof(*ch));
}

static int build_choice_alloc(build_choice *ch, size_t n)
{
    ch->idx = aml_mallocarray(n ? n : 1, sizeof(size_t));
    ch->weights = aml_mallocarray(n ? n : 1, sizeof(double));
    ch->n = 0;
    return ch->idx && ch->weights ? AML_OK : AML_ENOMEM;
}

/*
 * Learners take turns: the best trial of the learner whose best is best,
 * then the best of the next learner, ..., then every learner's second best,
 * until `size` members.  order ranks the candidates best first (NULL: as
 * sorted, by their stored scores).
 */
static int build_diverse(const build_ctx *x, int size, const size_t *order,
                         build_choice *ch)
{
    size_t want = (size_t)size < x->m ? (size_t)size : x->m;
    unsigned char *taken = aml_calloc(x->m ? x->m : 1, 1);
    unsigned char *used = aml_calloc(x->q->space->n_learners, 1);
    int rc = build_choice_alloc(ch, want);

    while (rc == 0 && taken && used && ch->n < want) {
        memset(used, 0, x->q->space->n_learners);
        for (size_t t = 0; t < x->m && ch->n < want; t++) {
            size_t i = order ? order[t] : t, l = x->c[i].config.learner;

            if (taken[i] || used[l])
                continue;
            taken[i] = used[l] = 1;
            ch->idx[ch->n] = i;
            ch->weights[ch->n++] = 1.0;
        }
    }
    if (!taken || !used)
        rc = AML_ENOMEM;
    free(taken);
    free(used);
    return rc;
}

/* The averaged OOF of a weighted choice on the usable rows. */
static int build_average(const build_ctx *x, const build_choice *ch, double **out)
{
    aml_ensemble_candidate *cand = aml_calloc(ch->n, sizeof(*cand));
    double **g = aml_calloc(ch->n, sizeof(double *));
    int rc = AML_ENOMEM;

    *out = aml_mallocarray(x->n_rows * (size_t)x->outputs, sizeof(double));
    if (cand && g && *out) {
        rc = AML_OK;
        for (size_t i = 0; i < ch->n && rc == 0; i++) {
            if (!(g[i] = build_gather(x, ch->idx[i])))
                rc = AML_ENOMEM;
            cand[i].oof = g[i];
            cand[i].outputs = x->outputs;
        }
        if (rc == 0)
            rc = aml_ensemble_average(cand, ch->n, x->n_rows, ch->weights, *out);
    }
    for (size_t i = 0; g && i < ch->n; i++)
        free(g[i]);
    free(g);
    free(cand);
    return rc;
}

/* ---- selection ----------------------------------------------------------- */

typedef struct build_pool_view {
    aml_ensemble_candidate *cand; /* every pool candidate on the usable rows */
    double **g;
    size_t m;
} build_pool_view;

static void build_view_dispose(build_pool_view *v)
{
    for (size_t i = 0; v->g && i < v->m; i++)
        free(v->g[i]);
    free(v->g);
    free(v->cand);
    memset(v, 0, sizeof(*v));
}

static int build_view(const build_ctx *x, build_pool_view *v)
{
    v->m = x->m;
    v->cand = aml_calloc(x->m, sizeof(*v->cand));
    v->g = aml_calloc(x->m, sizeof(double *));
    if (!v->cand || !v->g)
        return AML_ENOMEM;
    for (size_t i = 0; i < x->m; i++) {
        if (!(v->g[i] = build_gather(x, i)))
            return AML_ENOMEM;
        v->cand[i].oof = v->g[i];
        v->cand[i].outputs = x->outputs;
    }
    return AML_OK;
}

/*
 * Selection over the pool with at most `size` distinct members, y on the
 * usable rows (NaN rows ignored), bagged as the spec says (ensemble.h).
 * Steps: 4 per allowed member within [10, 100], so that weights can settle
 * finer than 1/size without the hillclimb running on for long.
 */
static int build_select(const build_ctx *x, const build_pool_view *v, const double *y,
                        int size, build_choice *ch)
{
    aml_ensemble_problem p = {v->cand,     v->m, x->n_rows, y, x->q->d->n_classes,
                              x->q->metric};
    aml_ensemble_options o = {4 * size,           0,         size, x->q->ens->bags,
                              BUILD_BAG_FRACTION, x->q->seed};
    int *counts = aml_calloc(v->m, sizeof(int));
    double *w = aml_calloc(v->m, sizeof(double));
    int rc = counts && w ? AML_OK : AML_ENOMEM;
    double score;

    o.steps = o.steps < 10 ? 10 : o.steps > 100 ? 100 : o.steps;
    if (rc == 0 && (rc = aml_ensemble_select(&p, &o, counts, w, &score)) == 0 &&
        (rc = build_choice_alloc(ch, v->m)) == 0) {
        for (size_t i = 0; i < v->m; i++) {
            if (w[i] == 0.0)
                continue;
            ch->idx[ch->n] = i;
            ch->weights[ch->n++] = w[i];
        }
    }
    free(counts);
    free(w);
    return rc;
}

/* y on the usable rows, with the rows of fold `masked` set to NaN (-1: none). */
static int build_y(const build_ctx *x, int masked, double *y)
{
    for (size_t r = 0; r < x->n_rows; r++)
        y[r] = x->fold[r] == masked ? NAN : x->q->d->y[x->rows[r]];
    return AML_OK;
}

/* Held-out predictions of the selection procedure: fold f chosen without its rows. */
static int build_select_honest(const build_ctx *x, const build_pool_view *v, int size,
                               double *score)
{
    size_t outs = (size_t)x->outputs;
    double *y = aml_mallocarray(x->n_rows, sizeof(double));
    double *held = aml_mallocarray(x->n_rows * outs, sizeof(double)), *pred = NULL;
    int rc = y && held ? AML_OK : AML_ENOMEM;

    for (int f = 0; f < x->k && rc == 0; f++) {
        build_choice ch = {0};

        build_y(x, f, y);
        if ((rc = build_select(x, v, y, size, &ch)) == 0 &&
            (rc = build_average(x, &ch, &pred)) == 0)
            for (size_t r = 0; r < x->n_rows; r++)
                if (x->fold[r] == f)
                    memcpy(held + r * outs, pred + r * outs, outs * sizeof(double));
        free(pred);
        pred = NULL;
        build_choice_dispose(&ch);
    }
    if (rc == 0)
        *score = build_cv_score(x, held);
    free(y);
    free(held);
    return rc;
}

/* ---- voting's and stacking's members, chosen without the scored fold ------ */

/*
 * Voting and stacking take the best trials learner by learner.  For the
 * honest estimate that ranking must not see the fold it is scored on, so
 * fold f ranks the pool by each candidate's mean metric over the other
 * folds, chooses members by that ranking, and predicts f's rows with them.
 * (The pool itself, the best `candidates` plus each learner's best few, is
 * taken from the stored scores; it holds every trial of searches up to
 * `candidates` trials.)
 */
typedef struct build_rank {
    double key; /* oriented: smaller is better; +inf when not finite */
    long number;
    size_t idx;
} build_rank;

static int build_rank_cmp(const void *pa, const void *pb)
{
    const build_rank *a = pa, *b = pb;

    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return (a->number > b->number) - (a->number < b->number);
}

/* S[j k + g]: candidate j's metric on fold g of the usable rows (malloc'd). */
static int build_cand_fold_scores(const build_ctx *x, double **S)
{
    int rc = AML_OK;

    if (!(*S = aml_mallocarray(x->m * (size_t)x->k, sizeof(double))))
        return AML_ENOMEM;
    for (size_t j = 0; j < x->m && rc == 0; j++) {
        double *g = build_gather(x, j);

        rc = g ? build_fold_metrics(x, g, *S + j * (size_t)x->k) : AML_ENOMEM;
        free(g);
    }
    return rc;
}

/* order[0..m): the candidates ranked by their mean metric over folds other than f. */
static int build_order_without(const build_ctx *x, const double *S, int f, size_t *order)
{
    build_rank *r = aml_mallocarray(x->m, sizeof(*r));

    if (!r)
        return AML_ENOMEM;
    for (size_t j = 0; j < x->m; j++) {
        double sum = 0.0;

        for (int g = 0; g < x->k; g++)
            sum += g == f ? 0.0 : S[j * (size_t)x->k + (size_t)g];
        sum /= x->k - 1;
        r[j].key = !isfinite(sum)                    ? INFINITY
                   : x->q->metric->greater_is_better ? -sum
                                                     : sum;
        r[j].number = x->c[j].number;
        r[j].idx = j;
    }
    qsort(r, x->m, sizeof(*r), build_rank_cmp);
    for (size_t j = 0; j < x->m; j++)
        order[j] = r[j].idx;
    free(r);
    return AML_OK;
}

/* Copies the rows of fold f from src to dst (both n_rows x outputs). */
static void build_copy_fold(const build_ctx *x, int f, const double *src, double *dst)
{
    size_t outs = (size_t)x->outputs;

    for (size_t r = 0; r < x->n_rows; r++)
        if (x->fold[r] == f)
            memcpy(dst + r * outs, src + r * outs, outs * sizeof(double));
}

/* Predicts fold f's rows into held with the members ch chose without f. */
typedef int (*build_fold_fn)(const build_ctx *x, const build_choice *ch, int f, void *arg,
                             double *held);

/* The honest score of a learner-by-learner choice of `size` members. */
static int build_nested(const build_ctx *x, int size, build_fold_fn fn, void *arg,
                        double *score)
{
    double *held = aml_mallocarray(x->n_rows * (size_t)x->outputs, sizeof(double));
    size_t *order = aml_mallocarray(x->m, sizeof(size_t));
    int rc = held && order ? AML_OK : AML_ENOMEM;

    for (int f = 0; f < x->k && rc == 0; f++) {
        build_choice ch = {0};

        if ((rc = build_order_without(x, x->fold_scores, f, order)) == 0 &&
            (rc = build_diverse(x, size, order, &ch)) == 0)
            rc = fn(x, &ch, f, arg, held);
        build_choice_dispose(&ch);
    }
    if (rc == 0)
        *score = build_cv_score(x, held);
    free(held);
    free(order);
    return rc;
}

/* Voting: the plain average of the members. */
static int build_vote_fold(const build_ctx *x, const build_choice *ch, int f, void *arg,
                           double *held)
{
    double *pred = NULL;
    int rc;

    (void)arg;
    if ((rc = build_average(x, ch, &pred)) == 0)
        build_copy_fold(x, f, pred, held);
    free(pred);
    return rc;
}

/* ---- stacking ------------------------------------------------------------ */

const char *aml_build_default_meta(aml_task task)
{
    return task == AML_TASK_CLASSIFICATION ? "logistic_regression" : "ridge";
}

static int build_check_meta(const char *name, aml_task task)
{
    const aml_learner_type *t = aml_learner_type_find(name);

    if (!t)
        return aml_error_set(AML_EINVAL, "ensemble: unknown meta-learner '%s'", name);
    if (!(t->tasks & AML_TASK_BIT(task)))
        return aml_error_set(
            AML_EINVAL, "ensemble: meta-learner '%s' does not do %s", name,
            task == AML_TASK_CLASSIFICATION ? "classification" : "regression");
    return AML_OK;
}

/* The members' OOF side by side on the usable rows: n_rows x (members x outputs). */
static double *build_stack_inputs(const build_ctx *x, const build_choice *ch)
{
    size_t outs = (size_t)x->outputs, q = ch->n * outs;
    double *Z = aml_mallocarray(x->n_rows * q, sizeof(double));

    for (size_t r = 0; Z && r < x->n_rows; r++)
        for (size_t j = 0; j < ch->n; j++)
            memcpy(Z + r * q + j * outs, x->c[ch->idx[j]].oof + x->rows[r] * outs,
                   outs * sizeof(double));
    return Z;
}

/* The meta-learners must exist and do the task; passthrough needs every row. */
static int build_stack_check(const build_ctx *x)
{
    const aml_spec_ensemble *e = x->q->ens;
    aml_task task = x->q->d->task;
    int rc = AML_OK;

    for (size_t i = 0; e->meta && i < e->n_meta && rc == 0; i++)
        rc = build_check_meta(e->meta[i], task);
    if (rc == 0 && e->layers == 2 && e->final)
        rc = build_check_meta(e->final, task);
    if (rc == 0 && e->passthrough && x->n_rows != x->n)
        rc =
            aml_error_set(AML_EINVAL, "ensemble: passthrough needs a CV plan that "
                                      "validates every row (not holdout or time_series)");
    return rc;
}

/*
 * Fits the stack over members ch on the usable rows; oof (n_rows x
 * outputs) gets its cross-fitted predictions.  st NULL: the stack is only
 * scored and then freed.
 */
static int build_stack_fit(const build_ctx *x, const build_choice *ch, aml_stack **st,
                           double *oof)
{
    const aml_spec_ensemble *e = x->q->ens;
    aml_task task = x->q->d->task;
    const char *def = aml_build_default_meta(task);
    aml_stack_options o = {e->layers, e->meta ? (const char *const *)e->meta : &def,
                           e->meta ? e->n_meta : 1, e->final ? e->final : def,
                           e->passthrough};
    size_t q = ch->n * (size_t)x->outputs;
    double *Z = build_stack_inputs(x, ch);
    double *y = aml_mallocarray(x->n_rows, sizeof(double));
    aml_stack *tmp = NULL;
    aml_rng rng;
    int rc = AML_ENOMEM;

    if (Z && y) {
        build_y(x, -1, y);
        /* A stream no trial uses: trial numbers stay far below it. */
        aml_rng_init(&rng, x->q->seed, UINT64_MAX - 1);
        rc = aml_stack_fit(st ? st : &tmp, &o, task, x->q->d->n_classes, Z, x->n_rows, q,
                           o.passthrough ? x->q->d->features : NULL, y, x->fold, x->k,
                           &rng, x->q->threads, oof);
    }
    aml_stack_free(tmp);
    free(Z);
    free(y);
    return rc;
}

typedef struct build_stack_arg {
    const build_choice *chosen; /* the members chosen on every row */
    const double *oof;          /* their stack's cross-fitted predictions */
} build_stack_arg;

static int build_same_members(const build_choice *a, const build_choice *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->idx[i] != b->idx[i])
            return 0;
    return 1;
}

/* Stacking: the stack's cross-fitted predictions, refitted when f changed the members. */
static int build_stack_fold(const build_ctx *x, const build_choice *ch, int f, void *arg,
                            double *held)
{
    const build_stack_arg *a = arg;
    double *oof;
    int rc;

    if (build_same_members(ch, a->chosen)) {
        build_copy_fold(x, f, a->oof, held);
        return AML_OK;
    }
    if (!(oof = aml_mallocarray(x->n_rows * (size_t)x->outputs, sizeof(double))))
        return AML_ENOMEM;
    if ((rc = build_stack_fit(x, ch, NULL, oof)) == 0)
        build_copy_fold(x, f, oof, held);
    free(oof);
    return rc;
}

/* The stack over members ch into *st; *score is the nested honest estimate. */
static int build_stack(const build_ctx *x, const build_choice *ch, aml_stack **st,
                       double *score)
{
    double *oof = aml_mallocarray(x->n_rows * (size_t)x->outputs, sizeof(double));
    build_stack_arg arg = {ch, oof};
    int rc = oof ? build_stack_fit(x, ch, st, oof) : AML_ENOMEM;

    if (rc == 0)
        rc = build_nested(x, x->q->ens->size, build_stack_fold, &arg, score);
    free(oof);
    return rc;
}

/* ---- the members' final models ------------------------------------------- */

/* One refit on every row with the generator aml_model_fit uses, or the fold models. */
static int build_fit_member(build_ctx *x, const build_cand *c, aml_pipeline **pipes,
                            int *n_pipes)
{
    int refit = x->q->ens->refit || x->q->trial >= 0;
    int n = refit ? 1 : x->cv.per_repeat;
    aml_rng trial_rng, rng;
    int rc = AML_OK;

    if (!(*pipes = aml_calloc((size_t)n, sizeof(aml_pipeline))))
        return AML_ENOMEM;
    *n_pipes = n;
    if (refit) {
        aml_rng_init(&trial_rng, x->q->seed, (uint64_t)c->number);
        aml_rng_child(&rng, &trial_rng, UINT64_MAX);
        return aml_pipeline_fit(&(*pipes)[0], x->q->d, x->q->space, &c->config, NULL,
                                x->q->d->n, &rng, x->q->threads);
    }
    for (int s = 0; s < n && rc == 0; s++)
        rc = aml_cv_fit_split(&x->cv, &c->config, c->number, s, x->q->threads,
                              &(*pipes)[s]);
    return rc;
}

static int build_report_members(const build_choice *ch, const build_ctx *x,
                                aml_build_report *rep)
{
    rep->n_members = ch->n;
    rep->member_trials = aml_mallocarray(ch->n, sizeof(long));
    rep->member_weights = aml_mallocarray(ch->n, sizeof(double));
    if (!rep->member_trials || !rep->member_weights)
        return AML_ENOMEM;
    for (size_t i = 0; i < ch->n; i++) {
        rep->member_trials[i] = x->c[ch->idx[i]].number;
        rep->member_weights[i] = ch->weights ? ch->weights[i] : NAN;
    }
    return AML_OK;
}

static int build_add_members(build_ctx *x, aml_model *m, const build_choice *ch)
{
    int rc = AML_OK;

    for (size_t i = 0; i < ch->n && rc == 0; i++) {
        const build_cand *c = &x->c[ch->idx[i]];
        aml_pipeline *pipes = NULL;
        int n_pipes = 0;

        rc = build_fit_member(x, c, &pipes, &n_pipes);
        if (rc == 0)
            rc = aml_model_add_member(m, x->q->space, &c->config, c->number, c->score,
                                      ch->weights ? ch->weights[i] : 1.0, pipes, n_pipes);
        else
            for (int s = 0; s < n_pipes; s++)
                aml_pipeline_dispose(&pipes[s]);
        free(pipes);
    }
    return rc;
}

/* ---- the stage ----------------------------------------------------------- */

static void build_ctx_dispose(build_ctx *x)
{
    for (size_t i = 0; i < x->m; i++)
        build_drop(x, i);
    free(x->c);
    free(x->rows);
    free(x->fold);
    free(x->fold_scores);
    if (x->cv_ready)
        aml_cv_dispose(&x->cv);
}

/* Reads the ok trials, best first; with q->trial, only that one. */
static int build_candidates(build_ctx *x)
{
    const aml_build_request *q = x->q;
    int rc;

    if ((rc = aml_store_trial_records(q->store, q->study_id, build_collect, x)) < 0)
        return rc;
    /* Checked first: with no candidate x->c is NULL, which qsort must not get. */
    if (x->m == 0)
        return aml_error_set(AML_EINVAL, "the study has no successful trial to build a "
                                         "model from");
    qsort(x->c, x->m, sizeof(*x->c), build_cand_cmp);
    if (q->trial < 0)
        return AML_OK;
    for (size_t i = 0; i < x->m; i++) {
        if (x->c[i].number != q->trial)
            continue;
        build_cand keep = x->c[i];

        x->c[i] = x->c[0];
        x->c[0] = keep;
        for (size_t j = 1; j < x->m; j++)
            build_drop(x, j);
        x->m = 1;
        return AML_OK;
    }
    if (x->partial > 0)
        return aml_error_set(
            AML_EINVAL,
            "trial %ld is a partial evaluation (resource %g of the budget, "
            "successive halving): export a full-resource trial",
            q->trial, x->partial);
    return aml_error_set(AML_EINVAL, "trial %ld is not a successful trial of the study",
                         q->trial);
}

static const char *const build_method_names[] = {"selection", "stacking", "voting",
                                                 "none"};

/*
 * The honest estimate of the plain choice of the best single trial: for
 * each fold, the trial with the best score on the other folds, scored on
 * that fold (the same nesting as voting's with one member), to compare an
 * ensemble with on equal terms.
 */
static int build_single_honest(const build_ctx *x, double *score)
{
    return build_nested(x, 1, build_vote_fold, NULL, score);
}

/* Chooses members (and a stack) by the spec's method; *score is the honest estimate. */
static int build_choose(build_ctx *x, build_choice *ch, aml_stack **st, double *score)
{
    const aml_spec_ensemble *e = x->q->ens;
    build_pool_view v = {0};
    double *y = NULL;
    int rc;

    if ((rc = build_pool(x, e->candidates)) < 0 || (rc = build_load_oof(x)) < 0)
        return rc;
    if (x->m == 0)
        return aml_error_set(AML_EINVAL, "no trial of the study has stored out-of-fold "
                                         "predictions (it predates them): rerun it, or "
                                         "use ensemble method none");
    if ((rc = build_rows(x)) < 0)
        return rc;
    switch (e->method) {
    case AML_ENSEMBLE_SELECTION:
        if (!(y = aml_mallocarray(x->n_rows, sizeof(double))))
            return AML_ENOMEM;
        build_y(x, -1, y);
        if ((rc = build_view(x, &v)) == 0 &&
            (rc = build_select(x, &v, y, e->size, ch)) == 0)
            rc = build_select_honest(x, &v, e->size, score);
        build_view_dispose(&v);
        free(y);
        return rc;
    case AML_ENSEMBLE_STACKING:
        if ((rc = build_stack_check(x)) < 0 ||
            (rc = build_diverse(x, e->size, NULL, ch)) < 0)
            return rc;
        free(ch->weights);
        ch->weights = NULL; /* the meta-learner weighs them */
        return build_stack(x, ch, st, score);
    default: /* voting */
        if ((rc = build_diverse(x, e->size, NULL, ch)) < 0)
            return rc;
        return build_nested(x, e->size, build_vote_fold, NULL, score);
    }
}

/* The best trial alone (method none, export --trial, or no stored OOF). */
static int build_single(build_ctx *x, build_choice *ch, double *score)
{
    int rc = build_choice_alloc(ch, 1);

    if (rc < 0)
        return rc;
    ch->idx[0] = 0;
    ch->weights[0] = 1.0;
    ch->n = 1;
    *score = x->c[0].score;
    return AML_OK;
}

static int build_prepare(build_ctx *x, aml_build_report *rep)
{
    const aml_build_request *q = x->q;
    int rc;

    x->n = q->d->n;
    if ((rc = aml_cv_init(&x->cv, q->d, q->space, q->metric, q->folds, q->stratified,
                          q->cv_seed, q->seed)) < 0)
        return rc;
    x->cv_ready = 1;
    x->outputs = aml_cv_outputs(&x->cv);
    if ((rc = build_candidates(x)) < 0)
        return rc;
    rep->best_trial = x->c[0].number;
    rep->best_trial_score = x->c[0].score;
    return AML_OK;
}

/*
 * Keeps the ensemble only when it scores strictly better than picking the
 * best single trial, estimated the same honest way; otherwise, ties
 * included, the model is that trial: a combination of many models must
 * earn its cost in size, predict time and opacity.
 */
static int build_keep_or_fall_back(build_ctx *x, build_choice *ch, aml_stack **st,
                                   aml_build_report *rep)
{
    if (aml_metric_better(x->q->metric, rep->ensemble_score, rep->single_score))
        return AML_OK;
    rep->fallback_from = rep->method;
    rep->method = "none";
    build_choice_dispose(ch);
    aml_stack_free(*st);
    *st = NULL;
    return build_single(x, ch, &rep->score);
}

int aml_build_model(aml_model **out, aml_build_report *rep, const aml_build_request *q)
{
    build_ctx x = {0};
    build_choice ch = {0};
    aml_stack *st = NULL;
    aml_model *m = NULL;
    int single, rc;

    *out = NULL;
    memset(rep, 0, sizeof(*rep));
    rep->score = rep->ensemble_score = rep->single_score = NAN;
    x.q = q;
    if ((rc = build_prepare(&x, rep)) < 0)
        goto out;
    single = q->trial >= 0 || q->ens->method == AML_ENSEMBLE_NONE;
    rep->method = single ? "none" : build_method_names[q->ens->method];
    rc = single ? build_single(&x, &ch, &rep->score)
                : build_choose(&x, &ch, &st, &rep->score);
    if (rc == 0 && !single) { /* the rival, printed and stored with fallback on or off */
        rep->ensemble_score = rep->score;
        rc = build_single_honest(&x, &rep->single_score);
    }
    if (rc == 0 && !single && q->ens->fallback)
        rc = build_keep_or_fall_back(&x, &ch, &st, rep);
    if (rc < 0 || (rc = build_report_members(&ch, &x, rep)) < 0 || q->no_fit)
        goto out;
    if ((rc = aml_model_new(&m, q->d, q->metric->name)) < 0 ||
        (rc = build_add_members(&x, m, &ch)) < 0)
        goto out;
    if (st && (rc = aml_model_set_stack(m, st)) < 0) {
        st = NULL; /* the model took it */
        goto out;
    }
    st = NULL;
    if ((rc = aml_model_set_summary(m, rep->method, rep->score)) < 0)
        goto out;
    *out = m;
    m = NULL;
out:
    aml_stack_free(st);
    aml_model_free(m);
    build_choice_dispose(&ch);
    build_ctx_dispose(&x);
    return rc;
}

void aml_build_report_dispose(aml_build_report *rep)
{
    if (!rep)
        return;
    free(rep->member_trials);
    free(rep->member_weights);
    memset(rep, 0, sizeof(*rep));
}
