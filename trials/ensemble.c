/*
 * ensemble.c - greedy forward ensemble selection with replacement (see
 * ensemble.h; Caruana, Niculescu-Mizil, Crew & Ksikes, ICML 2004).
 *
 * Runs once after a search over tens of candidates, so the design favours
 * plain loops: the usable rows of one selection are first gathered into a
 * contiguous row list, targets copied beside them, and the ensemble is
 * kept as the running sum of its members' predictions on those rows.  A
 * step tries each candidate by writing (sum + candidate) / (total + 1)
 * into one scratch matrix and scoring it, so a step costs O(m r outputs)
 * plus m metric calls and memory stays O(r outputs + S), never a copy of
 * the candidates.  The reported score is recomputed from the final
 * weights through the same weighted average that serves predictions, so
 * it is exactly what aml_ensemble_average gives on those rows.
 */
#include "ensemble.h"
#include "aml.h"
#include "rng.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Scratch of one selection on a row subset. */
typedef struct ens_sel {
    const aml_ensemble_problem *p;
    const size_t *rows; /* r usable row indices */
    size_t r;
    int w;         /* outputs per row */
    double *y;     /* r targets */
    double *sum;   /* r x w: sum of the members' predictions */
    double *trial; /* r x w: the average being scored */
    int total;     /* members so far */
    int *used;     /* m: additions of each candidate so far */
    int distinct;  /* candidates added at least once */
    int cap;       /* max_distinct, 0 for none */
} ens_sel;

static int ens_outputs(const aml_ensemble_problem *p)
{
    return p->n_classes > 0 ? p->n_classes : 1;
}

static int ens_check(const aml_ensemble_problem *p, const aml_ensemble_options *o)
{
    size_t j;

    if (!p || !o || !p->cand || !p->y || !p->metric || p->m == 0 || p->n == 0)
        return aml_error_set(AML_EINVAL, "ensemble: no candidates or no rows");
    if (p->n_classes < 0 || p->n_classes == 1)
        return aml_error_set(AML_EINVAL, "ensemble: %d classes", p->n_classes);
    for (j = 0; j < p->m; j++) {
        if (!p->cand[j].oof || p->cand[j].outputs != ens_outputs(p))
            return aml_error_set(AML_EINVAL,
                                 "ensemble: candidate %zu has %d outputs, expected %d", j,
                                 p->cand[j].outputs, ens_outputs(p));
    }
    if (o->steps < 1)
        return aml_error_set(AML_EINVAL, "ensemble: %d steps; at least 1", o->steps);
    if (o->init < 0 || o->init > o->steps || (size_t)o->init > p->m)
        return aml_error_set(AML_EINVAL, "ensemble: init %d outside 0..min(%d, %zu)",
                             o->init, o->steps, p->m);
    if (o->max_distinct < 0 || (o->max_distinct > 0 && o->init > o->max_distinct))
        return aml_error_set(AML_EINVAL, "ensemble: max_distinct %d below init %d",
                             o->max_distinct, o->init);
    if (o->bags < 0 ||
        (o->bags >= 2 && !(o->bag_fraction > 0.0 && o->bag_fraction <= 1.0)))
        return aml_error_set(AML_EINVAL, "ensemble: %d bags of fraction %g", o->bags,
                             o->bag_fraction);
    return AML_OK;
}

/* 1 when row i has a target and no NaN in any candidate. */
static int ens_row_usable(const aml_ensemble_problem *p, size_t i)
{
    size_t w = (size_t)ens_outputs(p), j, c;

    if (isnan(p->y[i]))
        return 0;
    for (j = 0; j < p->m; j++)
        for (c = 0; c < w; c++)
            if (isnan(p->cand[j].oof[i * w + c]))
                return 0;
    return 1;
}

/*
 * Usable rows whose fold is (in_fold) or is not (!in_fold) `fold`; fold_of
 * NULL takes every usable row.  Writes the count to *r.
 */
static void ens_rows(const aml_ensemble_problem *p, const int *fold_of, int fold,
                     int in_fold, size_t *rows, size_t *r)
{
    size_t i;

    *r = 0;
    for (i = 0; i < p->n; i++) {
        if (fold_of && (fold_of[i] == fold) != in_fold)
            continue;
        if (ens_row_usable(p, i))
            rows[(*r)++] = i;
    }
}

/* Weighted average of the candidates on the listed rows, into out (r x w). */
static void ens_average_rows(const aml_ensemble_problem *p, const size_t *rows, size_t r,
                             const double *weights, double *out)
{
    size_t w = (size_t)ens_outputs(p), i, j, c;
    double wsum = 0.0;

    memset(out, 0, r * w * sizeof(*out));
    for (j = 0; j < p->m; j++) {
        if (weights[j] == 0.0)
            continue;
        wsum += weights[j];
        for (i = 0; i < r; i++)
            for (c = 0; c < w; c++)
                out[i * w + c] += weights[j] * p->cand[j].oof[rows[i] * w + c];
    }
    assert(wsum > 0.0);
    for (i = 0; i < r * w; i++)
        out[i] /= wsum;
}

/* The metric of the weighted average on the listed rows (scratch r x w). */
static double ens_score_rows(const aml_ensemble_problem *p, const size_t *rows, size_t r,
                             const double *weights, double *y, double *scratch)
{
    size_t i;

    for (i = 0; i < r; i++)
        y[i] = p->y[rows[i]];
    ens_average_rows(p, rows, r, weights, scratch);
    return p->metric->score(y, scratch, r, p->n_classes);
}

/* Score of the ensemble with candidate j added once more. */
static double ens_try(ens_sel *s, size_t j)
{
    size_t w = (size_t)s->w, i, c;
    const double *x = s->p->cand[j].oof;
    double t = (double)(s->total + 1);

    for (i = 0; i < s->r; i++)
        for (c = 0; c < w; c++)
            s->trial[i * w + c] = (s->sum[i * w + c] + x[s->rows[i] * w + c]) / t;
    return s->p->metric->score(s->y, s->trial, s->r, s->p->n_classes);
}

static void ens_add(ens_sel *s, size_t j)
{
    size_t w = (size_t)s->w, i, c;
    const double *x = s->p->cand[j].oof;

    for (i = 0; i < s->r; i++)
        for (c = 0; c < w; c++)
            s->sum[i * w + c] += x[s->rows[i] * w + c];
    s->total++;
    s->distinct += s->used[j]++ == 0;
}

/*
 * The best candidate to add next (strictly better wins, so ties go to the
 * lowest index); skip[j] != 0 excludes j, and so does the distinct cap once
 * reached for a candidate not yet in.  Returns -1 when all score NaN.
 */
static long ens_best(ens_sel *s, const unsigned char *skip, double *best)
{
    long pick = -1;
    size_t j;

    *best = NAN;
    for (j = 0; j < s->p->m; j++) {
        double v;

        if ((skip && skip[j]) || (s->cap && s->distinct >= s->cap && !s->used[j]))
            continue;
        v = ens_try(s, j);
        if (aml_metric_better(s->p->metric, v, *best)) {
            *best = v;
            pick = (long)j;
        }
    }
    return pick;
}

/*
 * Sorted initialisation: the init best single candidates, best first, ties
 * to the lower index.  While the sum is still empty, ens_best scores each
 * candidate alone, so best-of-the-rest init times ranks them.
 */
static int ens_init(ens_sel *s, int init, long *picks)
{
    unsigned char *taken;
    int i, rc = AML_OK;

    assert(s->total == 0);
    if (init == 0)
        return AML_OK;
    taken = aml_calloc(s->p->m, 1);
    if (!taken)
        return AML_ENOMEM;
    for (i = 0; i < init; i++) {
        double v;

        picks[i] = ens_best(s, taken, &v);
        if (picks[i] < 0) {
            rc = aml_error_set(AML_ENUMERIC, "ensemble: every candidate scores NaN");
            goto out;
        }
        taken[picks[i]] = 1;
    }
    for (i = 0; i < init; i++)
        ens_add(s, (size_t)picks[i]);
out:
    free(taken);
    return rc;
}

/* Score of the ensemble as it stands: sum / total. */
static double ens_score_sum(ens_sel *s)
{
    size_t i, len = s->r * (size_t)s->w;

    for (i = 0; i < len; i++)
        s->trial[i] = s->sum[i] / (double)s->total;
    return s->p->metric->score(s->y, s->trial, s->r, s->p->n_classes);
}

/*
 * Greedy steps after the initial members, recording every addition in
 * picks[] and the length of the shortest best-scoring prefix in *keep (at
 * least init, and at least 1).
 */
static int ens_greedy(ens_sel *s, const aml_ensemble_options *o, long *picks, int *keep)
{
    double best = NAN;
    int step;

    *keep = o->init;
    if (o->init > 0)
        best = ens_score_sum(s);
    for (step = o->init; step < o->steps; step++) {
        double v;

        picks[step] = ens_best(s, NULL, &v);
        if (picks[step] < 0)
            return aml_error_set(AML_ENUMERIC, "ensemble: every candidate scores NaN");
        ens_add(s, (size_t)picks[step]);
        if (aml_metric_better(s->p->metric, v, best) || *keep == 0) {
            best = v;
            *keep = step + 1;
        }
    }
    return AML_OK;
}

/* counts[] from the kept prefix of picks, and weights[] (may be NULL). */
static void ens_counts(size_t m, const long *picks, int keep, int *counts,
                       double *weights)
{
    size_t j;
    int i;

    memset(counts, 0, m * sizeof(*counts));
    for (i = 0; i < keep; i++)
        counts[picks[i]]++;
    if (weights)
        for (j = 0; j < m; j++)
            weights[j] = (double)counts[j] / (double)keep;
}

/*
 * One selection over every candidate on the r listed rows (r >= 1):
 * counts, weights (may be NULL; a scratch copy is used for the score) and
 * the score of those weights.
 */
static int ens_select_plain(const aml_ensemble_problem *p, const aml_ensemble_options *o,
                            const size_t *rows, size_t r, int *counts, double *weights,
                            double *score)
{
    ens_sel s = {p, rows, r, ens_outputs(p), NULL, NULL, NULL,
                 0, NULL, 0, o->max_distinct};
    long *picks = aml_mallocarray((size_t)o->steps, sizeof(*picks));
    double *wts = aml_mallocarray(p->m, sizeof(*wts));
    size_t i;
    int keep = 0, rc = AML_ENOMEM;

    s.y = aml_mallocarray(r, sizeof(*s.y));
    s.sum = aml_calloc(r * (size_t)s.w, sizeof(*s.sum));
    s.trial = aml_mallocarray(r * (size_t)s.w, sizeof(*s.trial));
    s.used = aml_calloc(p->m, sizeof(*s.used));
    if (!picks || !wts || !s.y || !s.sum || !s.trial || !s.used)
        goto out;
    for (i = 0; i < r; i++)
        s.y[i] = p->y[rows[i]];
    rc = ens_init(&s, o->init, picks);
    if (rc == AML_OK)
        rc = ens_greedy(&s, o, picks, &keep);
    if (rc != AML_OK)
        goto out;
    ens_counts(p->m, picks, keep, counts, wts);
    if (weights)
        memcpy(weights, wts, p->m * sizeof(*wts));
    *score = ens_score_rows(p, rows, r, wts, s.y, s.trial);
out:
    free(picks);
    free(wts);
    free(s.y);
    free(s.sum);
    free(s.trial);
    free(s.used);
    return rc;
}

/*
 * Bag b's candidates: a uniform draw of ms of the m, without replacement,
 * in increasing index order so that ties still go to the better-ranked one.
 */
static void ens_bag_draw(aml_rng *rng, size_t m, size_t ms, size_t *idx)
{
    size_t i, j;

    for (i = 0; i < m; i++)
        idx[i] = i;
    for (i = 0; i < ms; i++) { /* partial Fisher-Yates: idx[0..ms) is the draw */
        size_t t = i + (size_t)aml_rng_below(rng, m - i), v = idx[t];

        idx[t] = idx[i];
        idx[i] = v;
    }
    for (i = 1; i < ms; i++) /* insertion sort: ms is tens */
        for (j = i; j > 0 && idx[j - 1] > idx[j]; j--) {
            size_t v = idx[j];

            idx[j] = idx[j - 1];
            idx[j - 1] = v;
        }
}

/* Drops the lightest weights (ties: the higher index) to `cap` nonzero; renormalises. */
static void ens_cap_weights(size_t m, int cap, int *counts, double *w)
{
    size_t i, nz = 0;
    double total = 0.0;

    for (i = 0; i < m; i++)
        nz += w[i] > 0.0;
    while (cap > 0 && nz > (size_t)cap) {
        size_t lo = m;

        for (i = 0; i < m; i++)
            if (w[i] > 0.0 && (lo == m || w[i] <= w[lo]))
                lo = i;
        w[lo] = 0.0;
        counts[lo] = 0;
        nz--;
    }
    for (i = 0; i < m; i++)
        total += w[i];
    for (i = 0; i < m; i++)
        w[i] /= total;
}

/* One bag: selection over the drawn candidates, its weights added into w / bags. */
static int ens_bag(const aml_ensemble_problem *p, const aml_ensemble_options *o,
                   const size_t *rows, size_t r, const size_t *idx, size_t ms,
                   aml_ensemble_candidate *sub, int *sub_counts, double *sub_w,
                   int *counts, double *w)
{
    aml_ensemble_problem q = *p;
    aml_ensemble_options one = *o;
    double inner;
    size_t i;
    int rc;

    for (i = 0; i < ms; i++)
        sub[i] = p->cand[idx[i]];
    q.cand = sub;
    q.m = ms;
    one.bags = 0;
    one.init = o->init < (int)ms ? o->init : (int)ms;
    if ((rc = ens_select_plain(&q, &one, rows, r, sub_counts, sub_w, &inner)) < 0)
        return rc;
    for (i = 0; i < ms; i++) {
        counts[idx[i]] += sub_counts[i];
        w[idx[i]] += sub_w[i] / (double)o->bags;
    }
    return AML_OK;
}

/* Bagged selection (bags >= 2) on the r listed rows; outputs as ens_select_plain. */
static int ens_select_bagged(const aml_ensemble_problem *p, const aml_ensemble_options *o,
                             const size_t *rows, size_t r, int *counts, double *weights,
                             double *score)
{
    size_t ms = (size_t)lround(o->bag_fraction * (double)p->m),
           w = (size_t)ens_outputs(p);
    size_t *idx = aml_mallocarray(p->m, sizeof(*idx));
    aml_ensemble_candidate *sub = aml_mallocarray(p->m, sizeof(*sub));
    int *sub_counts = aml_mallocarray(p->m, sizeof(*sub_counts));
    double *sub_w = aml_mallocarray(p->m, sizeof(*sub_w));
    double *wts = aml_calloc(p->m, sizeof(*wts));
    double *y = aml_mallocarray(r, sizeof(*y)),
           *scratch = aml_mallocarray(r * w, sizeof(*y));
    aml_rng rng;
    int b, rc = AML_ENOMEM;

    if (!idx || !sub || !sub_counts || !sub_w || !wts || !y || !scratch)
        goto out;
    ms = ms < 1 ? 1 : ms > p->m ? p->m : ms;
    aml_rng_init(&rng, o->seed, AML_ENSEMBLE_BAG_STREAM);
    memset(counts, 0, p->m * sizeof(*counts));
    rc = AML_OK;
    for (b = 0; b < o->bags && rc == AML_OK; b++) {
        ens_bag_draw(&rng, p->m, ms, idx);
        rc = ens_bag(p, o, rows, r, idx, ms, sub, sub_counts, sub_w, counts, wts);
    }
    if (rc != AML_OK)
        goto out;
    ens_cap_weights(p->m, o->max_distinct, counts, wts);
    if (weights)
        memcpy(weights, wts, p->m * sizeof(*wts));
    *score = ens_score_rows(p, rows, r, wts, y, scratch);
out:
    free(idx);
    free(sub);
    free(sub_counts);
    free(sub_w);
    free(wts);
    free(y);
    free(scratch);
    return rc;
}

/* Selection on the r listed rows: plain, or bagged when o->bags >= 2. */
static int ens_select_rows(const aml_ensemble_problem *p, const aml_ensemble_options *o,
                           const size_t *rows, size_t r, int *counts, double *weights,
                           double *score)
{
    if (o->bags >= 2)
        return ens_select_bagged(p, o, rows, r, counts, weights, score);
    return ens_select_plain(p, o, rows, r, counts, weights, score);
}

int aml_ensemble_select(const aml_ensemble_problem *p, const aml_ensemble_options *o,
                        int *counts, double *weights, double *score)
{
    size_t *rows, r;
    int rc = ens_check(p, o);

    if (rc != AML_OK)
        return rc;
    if (!counts || !score)
        return aml_error_set(AML_EINVAL, "ensemble: no output arrays");
    rows = aml_mallocarray(p->n, sizeof(*rows));
    if (!rows)
        return AML_ENOMEM;
    ens_rows(p, NULL, 0, 0, rows, &r);
    if (r == 0)
        rc = aml_error_set(AML_EINVAL, "ensemble: no row without NaN");
    else
        rc = ens_select_rows(p, o, rows, r, counts, weights, score);
    free(rows);
    return rc;
}

int aml_ensemble_average(const aml_ensemble_candidate *cand, size_t m, size_t n,
                         const double *weights, double *out)
{
    size_t j, i, c, w;
    double wsum = 0.0;

    if (!cand || !weights || !out || m == 0 || cand[0].outputs < 1)
        return aml_error_set(AML_EINVAL, "ensemble: no candidates to average");
    w = (size_t)cand[0].outputs;
    for (j = 0; j < m; j++) {
        if ((size_t)cand[j].outputs != w || !cand[j].oof)
            return aml_error_set(AML_EINVAL,
                                 "ensemble: candidate %zu has %d outputs, "
                                 "expected %zu",
                                 j, cand[j].outputs, w);
        if (!isfinite(weights[j]) || weights[j] < 0.0)
            return aml_error_set(AML_EINVAL, "ensemble: weight %zu is %g", j, weights[j]);
        wsum += weights[j];
    }
    if (!(wsum > 0.0))
        return aml_error_set(AML_EINVAL, "ensemble: the weights sum to 0");
    memset(out, 0, n * w * sizeof(*out));
    for (j = 0; j < m; j++) {
        if (weights[j] == 0.0)
            continue;
        for (i = 0; i < n; i++)
            for (c = 0; c < w; c++)
                out[i * w + c] += weights[j] * cand[j].oof[i * w + c];
    }
    for (i = 0; i < n * w; i++)
        out[i] /= wsum;
    return AML_OK;
}

/* Selects outside fold f and scores the weights on fold f's rows. */
static int ens_cv_fold(const aml_ensemble_problem *p, const aml_ensemble_options *o,
                       const int *fold_of, int f, size_t *rows, double *score)
{
    size_t r, w = (size_t)ens_outputs(p);
    int *counts = aml_mallocarray(p->m, sizeof(*counts));
    double *wts = aml_mallocarray(p->m, sizeof(*wts)), *y = NULL, *scratch = NULL;
    double inner;
    int rc = AML_ENOMEM;

    if (!counts || !wts)
        goto out;
    ens_rows(p, fold_of, f, 0, rows, &r);
    rc = r ? ens_select_rows(p, o, rows, r, counts, wts, &inner)
           : aml_error_set(AML_EINVAL, "ensemble: no usable row outside fold %d", f);
    if (rc != AML_OK)
        goto out;
    ens_rows(p, fold_of, f, 1, rows, &r);
    if (r == 0) {
        rc = aml_error_set(AML_EINVAL, "ensemble: fold %d has no usable row", f);
        goto out;
    }
    rc = AML_ENOMEM;
    y = aml_mallocarray(r, sizeof(*y));
    scratch = aml_mallocarray(r * w, sizeof(*scratch));
    if (!y || !scratch)
        goto out;
    *score = ens_score_rows(p, rows, r, wts, y, scratch);
    rc = AML_OK;
out:
    free(counts);
    free(wts);
    free(y);
    free(scratch);
    return rc;
}

int aml_ensemble_select_cv(const aml_ensemble_problem *p, const aml_ensemble_options *o,
                           const int *fold_of, int k, double *fold_scores, double *score)
{
    size_t *rows, i;
    double total = 0.0;
    int rc = ens_check(p, o), f;

    if (rc != AML_OK)
        return rc;
    if (!fold_of || !score || k < 2)
        return aml_error_set(AML_EINVAL, "ensemble: %d folds; at least 2", k);
    for (i = 0; i < p->n; i++)
        if (fold_of[i] >= k)
            return aml_error_set(AML_EINVAL, "ensemble: row %zu in fold %d of %d", i,
                                 fold_of[i], k);
    rows = aml_mallocarray(p->n, sizeof(*rows));
    if (!rows)
        return AML_ENOMEM;
    for (f = 0; f < k && rc == AML_OK; f++) {
        double v = NAN;

        rc = ens_cv_fold(p, o, fold_of, f, rows, &v);
        if (fold_scores)
            fold_scores[f] = v;
        total += v;
    }
    if (rc == AML_OK)
        *score = total / (double)k;
    free(rows);
    return rc;
}
