/*
 * hgb.c - histogram gradient boosting ("gradient_boosting") for
 * classification and regression.
 *
 * Gradient tree boosting (Friedman, "Greedy Function Approximation: A
 * Gradient Boosting Machine", Ann. Statist. 2001) with the second-order
 * leaf values and histogram trees of XGBoost (Chen and Guestrin, KDD 2016)
 * and LightGBM (Ke et al., NIPS 2017); the trees themselves are grown in
 * hgb_tree.c.  Each round fits one tree per output to the gradients g and
 * hessians h of the loss at the current raw scores F; a leaf adds
 * learning_rate * -G / (H + l2_regularization) to the F of its rows.
 *
 * Losses, with sample weights w multiplying g and h:
 *  - binary classification: logistic, one tree per round, F = log-odds,
 *    started at the weighted log-odds of the positive class;
 *  - three or more classes: softmax cross-entropy, one tree per class per
 *    round on the gradients of the round's start, h = p (1 - p) as in
 *    scikit-learn, F started at the log class priors;
 *  - regression `squared_error` (default): started at the weighted mean;
 *  - `absolute_error`: g = sign(F - y), h = 1, and each leaf's value is
 *    then replaced by the weighted median of its rows' residuals (as
 *    scikit-learn's HistGradientBoostingRegressor does), started at the
 *    weighted median;
 *  - `huber`: as scikit-learn's GradientBoostingRegressor, the threshold
 *    delta is re-set every round to the `huber_alpha` quantile of |y - F|
 *    over the training rows; g is the residual clipped to +-delta, h = 1
 *    (so a leaf takes the mean clipped residual, shrunk by lambda);
 *    started at the weighted median.
 *
 * subsample keeps each training row for a tree with that probability
 * (per round: all class trees of a round share the rows); colsample_bytree
 * draws that fraction of the features per tree.  early_stopping holds out
 * validation_fraction of the rows (a permutation drawn from the fit's rng)
 * and stops after n_iter_no_change rounds without a lower validation loss,
 * keeping the trees of the best round.  Everything random comes from the
 * fit's rng, so a fit is reproducible, and threads never change results.
 *
 * Rows with weight 0 add nothing to g and h, but still take part in the
 * bin edges (which ignore weights, as scikit-learn's binning does).
 * Importance is each feature's total split gain, normalised; it is saved.
 */
#include "learner.h"
#include "aml.h"
#include "hgb.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Probabilities are kept this far from 0 and 1 in priors and losses. */
#define HGB_PROB_EPS 1e-15
/* Rows predicted together, so that the trees stay in cache over a block. */
#define HGB_PREDICT_BLOCK 64
/* A validation loss must drop by this fraction to count as an improvement. */
#define HGB_ES_TOL 1e-7
/* Row loops shorter than this run on one thread (a parallel region costs more). */
#define HGB_PAR_ROWS 100000

enum {
    HGB_SQUARED = 0,
    HGB_ABSOLUTE = 1,
    HGB_HUBER = 2,
    HGB_LOGISTIC = 3,
    HGB_SOFTMAX = 4
};

static const char *const hgb_loss_words[] = {"squared_error", "absolute_error", "huber",
                                             NULL};
static const char *const hgb_bool_words[] = {"false", "true", NULL};

#define HGB_REAL(nm, l, h, lopen, d, slo, shi, slog, text)                               \
    {                                                                                    \
        .name = nm, .kind = AML_VAL_REAL, .lo = l, .hi = h, .lo_open = lopen,            \
        .def = {.kind = AML_VAL_REAL, .real = d}, .search_lo = slo, .search_hi = shi,    \
        .search_log = slog, .doc = text                                                  \
    }
#define HGB_INT(nm, l, h, d, slo, shi, slog, text)                                       \
    {                                                                                    \
        .name = nm, .kind = AML_VAL_INT, .lo = l, .hi = h,                               \
        .def = {.kind = AML_VAL_INT, .i = d}, .search_lo = slo, .search_hi = shi,        \
        .search_log = slog, .doc = text                                                  \
    }

static const aml_param_def hgb_params[] = {
    HGB_INT("n_estimators", 1, 100000, 100, 50, 1000, 1,
            "boosting rounds (trees per output); with early stopping, the most rounds"),
    HGB_REAL("learning_rate", 0, 1, 1, 0.1, 0.01, 0.3, 1,
             "shrinkage: each leaf value is multiplied by this"),
    HGB_INT("max_depth", 1, 64, 6, 3, 10, 0,
            "deepest level a tree grows to (also caps leaf-wise trees)"),
    HGB_INT("max_leaves", 0, 1 << 20, 0, 0, 0, 0,
            "0: grow depth-wise; > 0: grow best-first up to this many leaves"),
    HGB_REAL("l2_regularization", 0, INFINITY, 0, 1.0, 1e-3, 10, 1,
             "lambda added to a leaf's hessian sum: value -G/(H+lambda)"),
    HGB_REAL("min_child_weight", 0, INFINITY, 0, 1.0, 1e-2, 10, 1,
             "smallest hessian sum each side of a split must keep"),
    HGB_REAL("subsample", 0, 1, 1, 1.0, 0.5, 1.0, 0,
             "probability that a training row takes part in a round's trees"),
    HGB_REAL("colsample_bytree", 0, 1, 1, 1.0, 0.5, 1.0, 0,
             "fraction of the features drawn for each tree"),
    HGB_INT("max_bins", 2, HGB_MAX_BINS, 255, 255, 255, 0,
            "most quantile bins per feature (missing values get one more)"),
    {.name = "early_stopping",
     .kind = AML_VAL_STR,
     .choices = hgb_bool_words,
     .def = {.kind = AML_VAL_STR, .str = "false"},
     .doc = "true: hold out validation_fraction of the rows and stop when their loss "
            "stalls, keeping the best round"},
    HGB_REAL("validation_fraction", 0, 1, 1, 0.1, 0.1, 0.1, 0,
             "share of the rows held out for early stopping"),
    HGB_INT("n_iter_no_change", 1, 100000, 10, 10, 10, 0,
            "rounds without a lower validation loss before early stopping stops"),
    {.name = "loss",
     .tasks = AML_TASK_BIT(AML_TASK_REGRESSION),
     .kind = AML_VAL_STR,
     .choices = hgb_loss_words,
     .def = {.kind = AML_VAL_STR, .str = "squared_error"},
     .doc = "regression loss: squared_error, absolute_error or huber (classification "
            "always uses log loss)"},
    HGB_REAL(
        "huber_alpha", 0, 1, 1, 0.9, 0.9, 0.9, 0,
        "huber: delta is this quantile of the absolute residuals, re-set every round"),
    {.name = NULL},
};

typedef struct hgb {
    aml_learner base;
    long long n_estimators, max_depth, max_leaves, max_bins, n_iter_no_change;
    double learning_rate, lambda, min_child_weight, subsample, colsample;
    double validation_fraction, huber_alpha;
    int early_stopping, reg_loss;

    /* Fitted state. */
    int loss;           /* HGB_* actually used */
    int n_out;          /* raw scores per row: trees per round */
    int n_classes;      /* classification: classes; regression: 0 */
    size_t p;           /* features */
    double *base_score; /* n_out */
    double *importance; /* p */
    hgb_forest forest;  /* n_rounds * n_out trees, round-major */
    int fitted;
} hgb;

/* State of one fit beyond the workspace. */
typedef struct hgb_fitstate {
    hgb *m;
    const double *y, *w;
    size_t n;
    size_t *train, n_train; /* rows the trees learn from */
    size_t *val, n_val;     /* early-stopping rows */
    size_t *sel, n_sel;     /* this round's subsample of train */
    double *F;              /* n x n_out raw scores */
    double *P;              /* n x n_out softmax probabilities */
    double *G, *H;          /* n_out x n gradients and hessians of the round */
    double *buf;            /* 2n scratch for medians and quantiles */
    uint8_t *in_tree;       /* n marks: row in this round's sample */
    size_t *fidx;           /* p feature permutation */
    double delta;           /* huber threshold of the round */
    hgb_ws ws;
} hgb_fitstate;

static int hgb_word(const char *const *words, const char *s)
{
    int i;

    for (i = 0; words[i]; i++)
        if (strcmp(words[i], s) == 0)
            return i;
    return -1;
}

static int hgb_create(aml_learner **out, const aml_learner_type *type, aml_task task)
{
    hgb *m = aml_calloc(1, sizeof(*m));

    *out = NULL;
    if (!m)
        return AML_ENOMEM;
    m->base.type = type;
    m->base.task = task;
    m->n_estimators = 100;
    m->learning_rate = 0.1;
    m->max_depth = 6;
    m->lambda = 1.0;
    m->min_child_weight = 1.0;
    m->subsample = m->colsample = 1.0;
    m->max_bins = 255;
    m->validation_fraction = 0.1;
    m->n_iter_no_change = 10;
    m->huber_alpha = 0.9;
    *out = &m->base;
    return AML_OK;
}

/* Numbers arrive as AML_VAL_INT or AML_VAL_REAL; the generic layer checked the range. */
static double hgb_num(const aml_value *v)
{
    return v->kind == AML_VAL_INT ? (double)v->i : v->real;
}

static int hgb_set_word(hgb *m, const char *name, const aml_value *v)
{
    int k = v->kind == AML_VAL_STR ? hgb_word(hgb_loss_words, v->str) : -1;

    if (strcmp(name, "loss") == 0 && k >= 0) {
        m->reg_loss = k;
        return AML_OK;
    }
    k = v->kind == AML_VAL_STR ? hgb_word(hgb_bool_words, v->str) : -1;
    if (strcmp(name, "early_stopping") == 0 && k >= 0) {
        m->early_stopping = k;
        return AML_OK;
    }
    return aml_error_set(AML_EINVAL, "gradient_boosting: bad value for parameter '%s'",
                         name);
}

static int hgb_set_param(aml_learner *l, const char *name, const aml_value *v)
{
    hgb *m = (hgb *)l;
    struct {
        const char *name;
        long long *i;
        double *d;
    } slots[] = {
        {"n_estimators", &m->n_estimators, NULL},
        {"max_depth", &m->max_depth, NULL},
        {"max_leaves", &m->max_leaves, NULL},
        {"max_bins", &m->max_bins, NULL},
        {"n_iter_no_change", &m->n_iter_no_change, NULL},
        {"learning_rate", NULL, &m->learning_rate},
        {"l2_regularization", NULL, &m->lambda},
        {"min_child_weight", NULL, &m->min_child_weight},
        {"subsample", NULL, &m->subsample},
        {"colsample_bytree", NULL, &m->colsample},
        {"validation_fraction", NULL, &m->validation_fraction},
        {"huber_alpha", NULL, &m->huber_alpha},
    };
    size_t i;

    if (v->kind == AML_VAL_STR)
        return hgb_set_word(m, name, v);
    for (i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
        if (strcmp(name, slots[i].name) != 0)
            continue;
        if (slots[i].i)
            *slots[i].i = (long long)hgb_num(v);
        else
            *slots[i].d = hgb_num(v);
        return AML_OK;
    }
    return aml_error_set(AML_EINVAL, "gradient_boosting: bad value for parameter '%s'",
                         name);
}

static void hgb_release(hgb *m)
{
    free(m->base_score);
    free(m->importance);
    hgb_forest_dispose(&m->forest);
    m->base_score = m->importance = NULL;
    m->fitted = 0;
}

static void hgb_free(aml_learner *l)
{
    hgb *m = (hgb *)l;

    if (!m)
        return;
    hgb_release(m);
    free(m);
}

/* ---- losses -------------------------------------------------------------- */

static double hgb_sigmoid(double f)
{
    return f >= 0 ? 1.0 / (1.0 + exp(-f)) : exp(f) / (1.0 + exp(f));
}

/* Softmax of f[0..k) into p, shifted by the maximum for range. */
static void hgb_softmax(const double *f, int k, double *p)
{
    double mx = f[0], s = 0;
    int c;

    for (c = 1; c < k; c++)
        mx = f[c] > mx ? f[c] : mx;
    for (c = 0; c < k; c++)
        s += p[c] = exp(f[c] - mx);
    for (c = 0; c < k; c++)
        p[c] /= s;
}

/* Loss of one row at raw scores f (for early stopping). */
static double hgb_row_loss(const hgb_fitstate *ft, const double *f, size_t r)
{
    double y = ft->y[r], d = f[0] - y;

    switch (ft->m->loss) {
    case HGB_SQUARED:
        return 0.5 * d * d;
    case HGB_ABSOLUTE:
        return fabs(d);
    case HGB_HUBER:
        return fabs(d) <= ft->delta ? 0.5 * d * d
                                    : ft->delta * (fabs(d) - 0.5 * ft->delta);
    case HGB_LOGISTIC:
        /* log(1 + e^f) - y f, written to stay finite for large |f|. */
        return (f[0] > 0 ? f[0] + log1p(exp(-f[0])) : log1p(exp(f[0]))) - y * f[0];
    default: {
        double mx = f[0], s = 0;
        int c;

        for (c = 1; c < ft->m->n_out; c++)
            mx = f[c] > mx ? f[c] : mx;
        for (c = 0; c < ft->m->n_out; c++)
            s += exp(f[c] - mx);
        return mx + log(s) - f[(size_t)y];
    }
    }
}

/* Weighted mean loss over the validation rows. */
static double hgb_val_loss(const hgb_fitstate *ft)
{
    double s = 0, sw = 0;
    size_t i;

    for (i = 0; i < ft->n_val; i++) {
        size_t r = ft->val[i];
        double w = ft->w ? ft->w[r] : 1.0;

        s += w * hgb_row_loss(ft, ft->F + r * (size_t)ft->m->n_out, r);
        sw += w;
    }
    return sw > 0 ? s / sw : 0.0;
}

/* Gradient and hessian of one row's output k, before the sample weight. */
static void hgb_row_grad(const hgb_fitstate *ft, size_t r, int k, double *g, double *h)
{
    const hgb *m = ft->m;
    double f = ft->F[r * (size_t)m->n_out + (size_t)k], y = ft->y[r];

    *h = 1.0;
    if (m->loss == HGB_SQUARED) {
        *g = f - y;
    } else if (m->loss == HGB_ABSOLUTE) {
        *g = f > y ? 1.0 : (f < y ? -1.0 : 0.0);
    } else if (m->loss == HGB_HUBER) {
        *g = fabs(f - y) <= ft->delta ? f - y : (f > y ? ft->delta : -ft->delta);
    } else {
        double p = hgb_sigmoid(f);

        *g = p - y;
        *h = p * (1 - p);
    }
}

/*
 * Gradients and hessians of the training rows for the round, output by
 * output (n per output in G and H).  Softmax needs the round's starting
 * scores for all classes, so every output is done here, row by row.
 */
static void hgb_gradients(hgb_fitstate *ft)
{
    const hgb *m = ft->m;
    size_t i, K = (size_t)m->n_out, n = ft->n;

#pragma omp parallel for num_threads(ft->ws.threads)                                     \
    schedule(static) if (ft->n_train * K >= HGB_PAR_ROWS)
    for (i = 0; i < ft->n_train; i++) {
        size_t r = ft->train[i], k;
        double w = ft->w ? ft->w[r] : 1.0, *prob = ft->P + r * K, g, h;

        if (m->loss == HGB_SOFTMAX)
            hgb_softmax(ft->F + r * K, (int)K, prob);
        for (k = 0; k < K; k++) {
            if (m->loss == HGB_SOFTMAX) {
                g = prob[k] - (ft->y[r] == (double)k);
                h = prob[k] * (1 - prob[k]);
            } else {
                hgb_row_grad(ft, r, (int)k, &g, &h);
            }
            ft->G[k * n + r] = w * g;
            ft->H[k * n + r] = w * (h > 1e-16 ? h : 1e-16);
        }
    }
}

/* ---- weighted quantiles -------------------------------------------------- */

static int hgb_cmp_pair(const void *pa, const void *pb)
{
    const double *a = pa, *b = pb;

    return (a[0] > b[0]) - (a[0] < b[0]);
}

/*
 * Weighted alpha-quantile of the (value, weight) pairs v[0..2m): the
 * smallest value whose cumulative weight reaches alpha of the total.
 * Sorts v.  All-zero weights count as equal weights.
 */
static double hgb_quantile(double *v, size_t m, double alpha)
{
    double total = 0, acc = 0;
    size_t i;

    if (m == 0)
        return 0.0;
    qsort(v, m, 2 * sizeof(double), hgb_cmp_pair);
    for (i = 0; i < m; i++)
        total += v[2 * i + 1];
    if (!(total > 0))
        return v[2 * (size_t)(alpha * (double)(m - 1))];
    for (i = 0; i < m; i++) {
        acc += v[2 * i + 1];
        if (acc >= alpha * total)
            return v[2 * i];
    }
    return v[2 * (m - 1)];
}

/* Huber's delta for this round: the huber_alpha quantile of |y - F|, unweighted. */
static void hgb_huber_delta(hgb_fitstate *ft)
{
    size_t i;

    for (i = 0; i < ft->n_train; i++) {
        size_t r = ft->train[i];

        ft->buf[2 * i] = fabs(ft->y[r] - ft->F[r]);
        ft->buf[2 * i + 1] = 1.0;
    }
    ft->delta = hgb_quantile(ft->buf, ft->n_train, ft->m->huber_alpha);
}

/* Absolute error: each new leaf takes the weighted median of its rows' residuals. */
static void hgb_median_leaves(hgb_fitstate *ft, size_t t)
{
    hgb_forest *f = &ft->m->forest;
    size_t i, k;

    for (i = f->start[t]; i < f->start[t + 1]; i++) {
        size_t node = i - f->start[t], b = ft->ws.nbegin[node], e = ft->ws.nend[node];

        if (f->nodes[i].feature >= 0)
            continue;
        for (k = b; k < e; k++) {
            size_t r = ft->ws.rows[k];

            ft->buf[2 * (k - b)] = ft->y[r] - ft->F[r];
            ft->buf[2 * (k - b) + 1] = ft->w ? ft->w[r] : 1.0;
        }
        f->nodes[i].value = ft->m->learning_rate * hgb_quantile(ft->buf, e - b, 0.5);
    }
}

/* ---- fit ----------------------------------------------------------------- */

/* Checks labels (class indices) or targets (finite) and weights (finite, >= 0). */
static int hgb_check_targets(const hgb *m, size_t n, const double *y, const double *w,
                             int n_classes)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (m->base.task == AML_TASK_CLASSIFICATION &&
            !(y[i] >= 0 && y[i] < n_classes && y[i] == floor(y[i])))
            return aml_error_set(AML_EINVAL,
                                 "gradient_boosting: row %zu has label %g, not a class"
                                 " index below %d",
                                 i, y[i], n_classes);
        if (m->base.task == AML_TASK_REGRESSION && !isfinite(y[i]))
            return aml_error_set(AML_EINVAL, "gradient_boosting: row %zu has target %g",
                                 i, y[i]);
        if (w && !(w[i] >= 0 && isfinite(w[i])))
            return aml_error_set(AML_EINVAL, "gradient_boosting: row %zu has weight %g",
                                 i, w[i]);
    }
    return AML_OK;
}

/* Starting raw scores: log-odds, log priors, mean or median of the training rows. */
static void hgb_base_score(hgb_fitstate *ft)
{
    hgb *m = ft->m;
    size_t i;
    int c;

    if (m->loss == HGB_ABSOLUTE || m->loss == HGB_HUBER) {
        for (i = 0; i < ft->n_train; i++) {
            ft->buf[2 * i] = ft->y[ft->train[i]];
            ft->buf[2 * i + 1] = ft->w ? ft->w[ft->train[i]] : 1.0;
        }
        m->base_score[0] = hgb_quantile(ft->buf, ft->n_train, 0.5);
        return;
    }
    for (c = 0; c < m->n_out; c++) {
        double swy = 0, sw = 0, mean, p;

        for (i = 0; i < ft->n_train; i++) {
            double w = ft->w ? ft->w[ft->train[i]] : 1.0, y = ft->y[ft->train[i]];

            swy += w * (m->loss == HGB_SOFTMAX ? (double)(y == c) : y);
            sw += w;
        }
        mean = sw > 0 ? swy / sw : 0.0;
        p = fmin(fmax(mean, HGB_PROB_EPS), 1 - HGB_PROB_EPS);
        if (m->loss == HGB_SQUARED)
            m->base_score[c] = mean;
        else
            m->base_score[c] = m->loss == HGB_LOGISTIC ? log(p / (1 - p)) : log(p);
    }
}

/* Splits the rows into training and early-stopping rows, both ascending. */
static int hgb_split_rows(hgb_fitstate *ft, aml_rng *rng)
{
    size_t n = ft->n, n_val = 0, i;
    aml_rng r;

    ft->train = aml_mallocarray(n ? n : 1, sizeof(size_t));
    ft->val = aml_mallocarray(n ? n : 1, sizeof(size_t));
    if (!ft->train || !ft->val)
        return AML_ENOMEM;
    for (i = 0; i < n; i++)
        ft->train[i] = i;
    if (ft->m->early_stopping)
        n_val = (size_t)(ft->m->validation_fraction * (double)n);
    if (n_val < 1 || n - n_val < 2) {
        ft->n_train = n;
        ft->n_val = 0;
        return AML_OK;
    }
    aml_rng_child(&r, rng, 0x76616cu);
    aml_rng_shuffle(&r, ft->train, n);
    memset(ft->in_tree, 0, n);
    for (i = 0; i < n_val; i++)
        ft->in_tree[ft->train[i]] = 1;
    ft->n_train = ft->n_val = 0;
    for (i = 0; i < n; i++) {
        if (ft->in_tree[i])
            ft->val[ft->n_val++] = i;
        else
            ft->train[ft->n_train++] = i;
    }
    return AML_OK;
}

static void hgb_fit_dispose(hgb_fitstate *ft)
{
    free(ft->train);
    free(ft->val);
    free(ft->sel);
    free(ft->F);
    free(ft->P);
    free(ft->G);
    free(ft->H);
    free(ft->buf);
    free(ft->in_tree);
    free(ft->fidx);
    hgb_ws_dispose(&ft->ws);
}

static void hgb_cfg(const hgb *m, hgb_grow_cfg *cfg)
{
    cfg->max_depth = (int)m->max_depth;
    cfg->max_leaves = (int)m->max_leaves;
    cfg->lambda = m->lambda;
    cfg->min_child_weight = m->min_child_weight;
    cfg->learning_rate = m->learning_rate;
}

/* Allocates the fit state, splits the rows, bins X and sets the base score. */
static int hgb_fit_init(hgb_fitstate *ft, hgb *m, const aml_matrix *X, aml_rng *rng,
                        int threads)
{
    size_t n = X->rows, K = (size_t)m->n_out, i;
    hgb_grow_cfg cfg;
    int rc;

    ft->m = m;
    ft->n = n;
    ft->sel = aml_mallocarray(n ? n : 1, sizeof(size_t));
    ft->F = aml_mallocarray(n ? n : 1, K * sizeof(double));
    ft->P = aml_mallocarray(n ? n : 1, K * sizeof(double));
    /* Zero: rows never trained on (validation) keep g = h = 0 (see hgb_quantize). */
    ft->G = aml_calloc(n ? n : 1, K * sizeof(double));
    ft->H = aml_calloc(n ? n : 1, K * sizeof(double));
    ft->buf = aml_mallocarray(n ? n : 1, 2 * sizeof(double));
    ft->in_tree = aml_malloc(n ? n : 1);
    ft->fidx = aml_mallocarray(X->cols ? X->cols : 1, sizeof(size_t));
    m->base_score = aml_calloc(K, sizeof(double));
    m->importance = aml_calloc(X->cols ? X->cols : 1, sizeof(double));
    if (!ft->sel || !ft->F || !ft->P || !ft->G || !ft->H || !ft->buf || !ft->in_tree ||
        !ft->fidx || !m->base_score || !m->importance)
        return AML_ENOMEM;
    if ((rc = hgb_split_rows(ft, rng)) < 0)
        return rc;
    hgb_cfg(m, &cfg);
    if ((rc = hgb_ws_init(&ft->ws, X->data, n, X->cols, ft->train, ft->n_train,
                          (int)m->max_bins, &cfg, rng, threads)) < 0)
        return rc;
    hgb_base_score(ft);
    for (i = 0; i < n * K; i++)
        ft->F[i] = m->base_score[i % K];
    return AML_OK;
}

/* Draws this round's rows (subsample) and marks them in in_tree. */
static void hgb_draw_rows(hgb_fitstate *ft, aml_rng *rng)
{
    size_t i;

    memset(ft->in_tree, 0, ft->n);
    ft->n_sel = 0;
    for (i = 0; i < ft->n_train; i++) {
        if (ft->m->subsample < 1.0 && !(aml_rng_uniform(rng) < ft->m->subsample))
            continue;
        ft->sel[ft->n_sel++] = ft->train[i];
        ft->in_tree[ft->train[i]] = 1;
    }
}

static int hgb_cmp_int(const void *pa, const void *pb)
{
    int a = *(const int *)pa, b = *(const int *)pb;

    return (a > b) - (a < b);
}

/* Draws this tree's features (colsample_bytree), ascending. */
static void hgb_draw_features(hgb_fitstate *ft, aml_rng *rng)
{
    hgb_ws *ws = &ft->ws;
    size_t p = ws->p, want = p, i;

    if (ft->m->colsample < 1.0) {
        want = (size_t)ceil(ft->m->colsample * (double)p);
        want = want < 1 ? 1 : (want > p ? p : want);
    }
    for (i = 0; i < p; i++)
        ft->fidx[i] = i;
    if (want < p)
        for (i = 0; i < want; i++) {
            size_t j = i + (size_t)aml_rng_below(rng, p - i), t = ft->fidx[i];

            ft->fidx[i] = ft->fidx[j];
            ft->fidx[j] = t;
        }
    for (i = 0; i < want; i++)
        ws->feat[i] = (int)ft->fidx[i];
    qsort(ws->feat, want, sizeof(int), hgb_cmp_int);
    ws->n_feat = want;
}

/* Adds tree t's leaf values to output k of every row. */
static void hgb_add_tree(hgb_fitstate *ft, size_t t, int k)
{
    const hgb_forest *f = &ft->m->forest;
    const hgb_node *nodes = f->nodes + f->start[t];
    size_t K = (size_t)ft->m->n_out, i, r;

    for (i = 0; i < f->start[t + 1] - f->start[t]; i++) {
        if (nodes[i].feature >= 0)
            continue;
        for (r = ft->ws.nbegin[i]; r < ft->ws.nend[i]; r++)
            ft->F[ft->ws.rows[r] * K + (size_t)k] += nodes[i].value;
    }
    if (ft->n_sel == ft->n)
        return;
#pragma omp parallel for num_threads(ft->ws.threads)                                     \
    schedule(static) if (ft->n >= HGB_PAR_ROWS)
    for (r = 0; r < ft->n; r++)
        if (!ft->in_tree[r])
            ft->F[r * K + (size_t)k] += nodes[hgb_leaf_codes(&ft->ws, f, t, r)].value;
}

/* One boosting round: one tree per output. */
static int hgb_round(hgb_fitstate *ft, aml_rng *rng)
{
    hgb *m = ft->m;
    hgb_grow_cfg cfg;
    int k, rc;

    hgb_cfg(m, &cfg);
    hgb_draw_rows(ft, rng);
    if (m->loss == HGB_HUBER)
        hgb_huber_delta(ft);
    hgb_gradients(ft);
    for (k = 0; k < m->n_out; k++) {
        size_t t = m->forest.n_trees;

        memcpy(ft->ws.g, ft->G + (size_t)k * ft->n, ft->n * sizeof(double));
        memcpy(ft->ws.h, ft->H + (size_t)k * ft->n, ft->n * sizeof(double));
        hgb_draw_features(ft, rng);
        memcpy(ft->ws.rows, ft->sel, ft->n_sel * sizeof(size_t));
        if ((rc = hgb_grow(&ft->ws, &cfg, ft->n_sel, &m->forest)) < 0)
            return rc;
        if (m->loss == HGB_ABSOLUTE)
            hgb_median_leaves(ft, t);
        hgb_add_tree(ft, t, k);
    }
    return AML_OK;
}

/* Keeps the trees of the first `rounds` rounds. */
static void hgb_truncate(hgb *m, size_t rounds)
{
    size_t trees = rounds * (size_t)m->n_out;

    if (trees >= m->forest.n_trees)
        return;
    m->forest.n_trees = trees;
    m->forest.n_nodes = m->forest.start[trees];
}

/* Importance: total split gain per feature over the kept trees, normalised. */
static void hgb_gain_importance(hgb *m)
{
    double total = 0;
    size_t i;

    memset(m->importance, 0, m->p * sizeof(double));
    for (i = 0; i < m->forest.n_nodes; i++)
        if (m->forest.nodes[i].feature >= 0)
            m->importance[m->forest.nodes[i].feature] += m->forest.nodes[i].gain;
    for (i = 0; i < m->p; i++)
        total += m->importance[i];
    for (i = 0; i < m->p && total > 0; i++)
        m->importance[i] /= total;
}

/* The boosting loop with early stopping on the validation rows. */
static int hgb_boost(hgb_fitstate *ft, aml_rng *rng)
{
    hgb *m = ft->m;
    double best = ft->n_val ? hgb_val_loss(ft) : 0;
    long long round, best_round = 0;
    int rc;

    for (round = 0; round < m->n_estimators; round++) {
        if ((rc = aml_deadline_check()) < 0 || (rc = hgb_round(ft, rng)) < 0)
            return rc;
        if (ft->n_val) {
            double loss = hgb_val_loss(ft);

            if (loss < best - HGB_ES_TOL * fmax(1.0, fabs(best))) {
                best = loss;
                best_round = round + 1;
            } else if (round + 1 - best_round >= m->n_iter_no_change) {
                break;
            }
        }
    }
    hgb_truncate(m, ft->n_val ? (size_t)best_round : (size_t)m->n_estimators);
    return AML_OK;
}

static int hgb_fit(aml_learner *l, const aml_matrix *X, const double *y, const double *w,
                   int n_classes, aml_rng *rng, int threads)
{
    hgb *m = (hgb *)l;
    hgb_fitstate ft;
    aml_rng r;
    int rc;

    memset(&ft, 0, sizeof(ft));
    hgb_release(m);
    if ((rc = hgb_check_targets(m, X->rows, y, w, n_classes)) < 0)
        return rc;
    if (X->rows == 0)
        return aml_error_set(AML_EINVAL, "gradient_boosting: no training rows");
    m->n_classes = l->task == AML_TASK_CLASSIFICATION ? n_classes : 0;
    m->loss = l->task == AML_TASK_REGRESSION
                  ? m->reg_loss
                  : (n_classes > 2 ? HGB_SOFTMAX : HGB_LOGISTIC);
    m->n_out = m->loss == HGB_SOFTMAX ? n_classes : 1;
    m->p = X->cols;
    ft.y = y;
    ft.w = w;
    aml_rng_child(&r, rng, 0x686762u);
    if ((rc = hgb_fit_init(&ft, m, X, &r, threads)) < 0)
        goto fail;
    /* One class: nothing to learn, predict gives it probability 1. */
    if (!(l->task == AML_TASK_CLASSIFICATION && n_classes < 2) &&
        (rc = hgb_boost(&ft, &r)) < 0)
        goto fail;
    hgb_gain_importance(m);
    hgb_fit_dispose(&ft);
    m->fitted = 1;
    l->n_features = m->p;
    l->n_classes = m->n_classes;
    return AML_OK;

fail:
    hgb_fit_dispose(&ft);
    hgb_release(m);
    return rc;
}

/* ---- predict ------------------------------------------------------------- */

static int hgb_check_state(const hgb *m)
{
    if (!m->fitted)
        return aml_error_set(AML_EINVAL, "gradient_boosting: predict before fit");
    if (m->base.n_features != m->p ||
        (m->base.task == AML_TASK_CLASSIFICATION && m->base.n_classes != m->n_classes))
        return aml_error_set(AML_EFORMAT,
                             "gradient_boosting: model shape does not match its header");
    return AML_OK;
}

/* Raw scores into out to probabilities (classification) in place. */
static void hgb_transform(const hgb *m, const double *raw, double *out)
{
    if (m->base.task == AML_TASK_REGRESSION) {
        out[0] = raw[0];
    } else if (m->n_classes < 2) {
        out[0] = 1.0;
    } else if (m->loss == HGB_LOGISTIC) {
        double p = hgb_sigmoid(raw[0]);

        out[0] = 1 - p;
        out[1] = p;
    } else {
        hgb_softmax(raw, m->n_out, out);
    }
}

/* Raw scores of rows [b, e) into raw (HGB_PREDICT_BLOCK x n_out), tree by tree. */
static void hgb_raw_block(const hgb *m, const aml_matrix *X, size_t b, size_t e,
                          double *raw)
{
    size_t K = (size_t)m->n_out, t, r;

    for (r = b; r < e; r++)
        memcpy(raw + (r - b) * K, m->base_score, K * sizeof(double));
    for (t = 0; t < m->forest.n_trees; t++) {
        const hgb_node *nodes = m->forest.nodes + m->forest.start[t];

        for (r = b; r < e; r++)
            raw[(r - b) * K + t % K] +=
                nodes[hgb_leaf_raw(&m->forest, t, aml_matrix_row(X, r))].value;
    }
}

static int hgb_predict(const aml_learner *l, const aml_matrix *X, double *out)
{
    const hgb *m = (const hgb *)l;
    size_t K, outs, b, r;
    double *raw;
    int rc;

    if ((rc = hgb_check_state(m)) < 0)
        return rc;
    if (X->cols != m->p)
        return aml_error_set(AML_EINVAL,
                             "gradient_boosting: fitted on %zu features, got %zu", m->p,
                             X->cols);
    K = (size_t)m->n_out;
    outs = (size_t)aml_learner_outputs(l);
    if (!(raw = aml_mallocarray(HGB_PREDICT_BLOCK, K * sizeof(double))))
        return AML_ENOMEM;
    for (b = 0; b < X->rows; b += HGB_PREDICT_BLOCK) {
        size_t e = X->rows - b < HGB_PREDICT_BLOCK ? X->rows : b + HGB_PREDICT_BLOCK;

        hgb_raw_block(m, X, b, e, raw);
        for (r = b; r < e; r++)
            hgb_transform(m, raw + (r - b) * K, out + r * outs);
    }
    free(raw);
    return AML_OK;
}

/* ---- C export ------------------------------------------------------------ */

/*
 * The nodes of every tree side by side, children made absolute: feature
 * (-1 leaf), missing side, children; thresholds and leaf values.
 */
static int hgb_emit_nodes(const hgb_forest *f, aml_cgen *g, const char *nm)
{
    size_t n = f->n_nodes, t, i;
    int *ints = aml_mallocarray(4 * n + 1, sizeof(int));
    double *dbl = aml_mallocarray(2 * n + 1, sizeof(double));
    int *root = aml_mallocarray(f->n_trees + 1, sizeof(int));
    char buf[96];

    if (!ints || !dbl || !root) {
        free(ints), free(dbl), free(root);
        return AML_ENOMEM;
    }
    for (t = 0; t < f->n_trees; t++) {
        root[t] = (int)f->start[t];
        for (i = f->start[t]; i < f->start[t + 1]; i++) {
            const hgb_node *d = &f->nodes[i];
            int leaf = d->feature < 0;

            ints[4 * i] = d->feature;
            ints[4 * i + 1] = d->default_left;
            ints[4 * i + 2] = leaf ? -1 : (int)f->start[t] + d->left;
            ints[4 * i + 3] = leaf ? -1 : (int)f->start[t] + d->right;
            dbl[2 * i] = d->threshold;
            dbl[2 * i + 1] = d->value;
        }
    }
    snprintf(buf, sizeof(buf), "%s_node", nm);
    aml_cgen_ints(g, buf, ints, 4 * n);
    snprintf(buf, sizeof(buf), "%s_val", nm);
    aml_cgen_doubles(g, buf, dbl, 2 * n);
    snprintf(buf, sizeof(buf), "%s_root", nm);
    aml_cgen_ints(g, buf, root, f->n_trees);
    free(ints), free(dbl), free(root);
    return AML_OK;
}

/* The walk of hgb_leaf_raw: a missing value takes its node's default side. */
static int hgb_emit_leaf(aml_cgen *g, const char *nm)
{
    return aml_cgen_printf(g,
                           "static double %s_leaf(size_t t, const double *x)\n{\n"
                           "    int i = %s_root[t];\n\n"
                           "    while (%s_node[4 * i] >= 0) {\n"
                           "        double v = x[%s_node[4 * i]];\n"
                           "        int left = isnan(v) ? %s_node[4 * i + 1]"
                           " : v <= %s_val[2 * i];\n\n"
                           "        i = %s_node[4 * i + (left ? 2 : 3)];\n    }\n"
                           "    return %s_val[2 * i + 1];\n}\n\n",
                           nm, nm, nm, nm, nm, nm, nm, nm);
}

/* predict's hgb_transform for one row. */
static int hgb_emit_transform(const hgb *m, aml_cgen *g)
{
    if (m->base.task == AML_TASK_REGRESSION)
        return aml_cgen_printf(g, "    out[0] = raw[0];\n}\n\n");
    if (m->n_classes < 2)
        return aml_cgen_printf(g, "    out[0] = 1.0;\n}\n\n");
    if (m->loss == HGB_LOGISTIC)
        return aml_cgen_printf(g, "    {\n"
                                  "        double f = raw[0], p = f >= 0 ? 1.0 / (1.0 + "
                                  "exp(-f)) : exp(f) / (1.0 + exp(f));\n\n"
                                  "        out[0] = 1 - p;\n        out[1] = p;\n"
                                  "    }\n}\n\n");
    return aml_cgen_printf(g,
                           "    {\n        double mx = raw[0], s = 0;\n\n"
                           "        for (c = 1; c < %d; c++)\n"
                           "            mx = raw[c] > mx ? raw[c] : mx;\n"
                           "        for (c = 0; c < %d; c++)\n"
                           "            s += out[c] = exp(raw[c] - mx);\n"
                           "        for (c = 0; c < %d; c++)\n"
                           "            out[c] /= s;\n    }\n}\n\n",
                           m->n_out, m->n_out, m->n_out);
}

/* C export, bit for bit: base scores plus leaf values in tree order, then predict's link.
 */
static int hgb_emit_c(const aml_learner *l, aml_cgen *g, const char *fn)
{
    const hgb *m = (const hgb *)l;
    char nm[64], base[80];
    int rc;

    if ((rc = hgb_check_state(m)) < 0 ||
        (rc = aml_cgen_name(g, "hgb", nm, sizeof(nm))) < 0)
        return rc;
    snprintf(base, sizeof(base), "%s_base", nm);
    if ((rc = aml_cgen_doubles(g, base, m->base_score, (size_t)m->n_out)) < 0 ||
        (rc = hgb_emit_nodes(&m->forest, g, nm)) < 0 || (rc = hgb_emit_leaf(g, nm)) < 0)
        return rc;
    aml_cgen_printf(g,
                    "/* gradient_boosting: %zu trees, %d score(s) per row. */\n"
                    "static void %s(const double *x, double *out)\n{\n"
                    "    double raw[%d];\n    size_t t;\n    int c;\n\n"
                    "    for (c = 0; c < %d; c++)\n        raw[c] = %s[c];\n"
                    "    for (t = 0; t < %zu; t++)\n"
                    "        raw[t %% %d] += %s_leaf(t, x);\n",
                    m->forest.n_trees, m->n_out, fn, m->n_out, m->n_out, base,
                    m->forest.n_trees, m->n_out, nm);
    return hgb_emit_transform(m, g);
}

static int hgb_importance(const aml_learner *l, double *out)
{
    const hgb *m = (const hgb *)l;
    int rc;

    if ((rc = hgb_check_state(m)) < 0)
        return rc;
    memcpy(out, m->importance, m->p * sizeof(double));
    return AML_OK;
}

/* ---- save / load --------------------------------------------------------- */

static int hgb_save(const aml_learner *l, aml_writer *w)
{
    const hgb *m = (const hgb *)l;
    const hgb_forest *f = &m->forest;
    size_t i;

    if (!m->fitted)
        return aml_error_set(AML_EINVAL,
                             "gradient_boosting: cannot save an unfitted model");
    aml_put_u8(w, (uint8_t)m->loss);
    aml_put_u32(w, (uint32_t)m->n_out);
    aml_put_u32(w, (uint32_t)m->n_classes);
    aml_put_u64(w, (uint64_t)m->p);
    aml_put_f64s(w, m->base_score, (size_t)m->n_out);
    aml_put_f64s(w, m->importance, m->p);
    aml_put_u64(w, (uint64_t)f->n_trees);
    aml_put_u64(w, (uint64_t)f->n_nodes);
    for (i = 0; i < f->n_trees; i++)
        aml_put_u64(w, (uint64_t)(f->start[i + 1] - f->start[i]));
    for (i = 0; i < f->n_nodes; i++) {
        const hgb_node *nd = &f->nodes[i];

        aml_put_u32(w, (uint32_t)nd->feature);
        aml_put_u32(w, (uint32_t)nd->left);
        aml_put_u32(w, (uint32_t)nd->right);
        aml_put_u8(w, nd->default_left);
        aml_put_f64(w, nd->threshold);
        aml_put_f64(w, nd->value);
        aml_put_f64(w, nd->gain);
    }
    return w->failed ? AML_ENOMEM : AML_OK;
}

/* Reads the fixed header and checks it against the task. */
static int hgb_load_header(hgb *m, aml_reader *r, uint64_t *n_trees, uint64_t *n_nodes)
{
    uint8_t loss;
    uint32_t n_out, n_classes;
    uint64_t p;
    int rc, cls = m->base.task == AML_TASK_CLASSIFICATION;

    if ((rc = aml_get_u8(r, &loss)) < 0 || (rc = aml_get_u32(r, &n_out)) < 0 ||
        (rc = aml_get_u32(r, &n_classes)) < 0 || (rc = aml_get_u64(r, &p)) < 0)
        return rc;
    if (loss > HGB_SOFTMAX || (cls != (loss >= HGB_LOGISTIC)) || p > 1u << 30 ||
        n_classes > 1u << 20 || n_out != (loss == HGB_SOFTMAX ? n_classes : 1u) ||
        (loss == HGB_SOFTMAX && n_classes < 3) ||
        (cls && loss == HGB_LOGISTIC && n_classes > 2) || (!cls && n_classes != 0))
        return aml_error_set(AML_EFORMAT, "gradient_boosting: corrupt model header");
    m->loss = loss;
    m->n_out = (int)n_out;
    m->n_classes = (int)n_classes;
    m->p = (size_t)p;
    if ((rc = aml_reader_need(r, (size_t)n_out + (size_t)p, sizeof(double))) < 0)
        return rc; /* before allocating for them */
    m->base_score = aml_calloc(n_out, sizeof(double));
    m->importance = aml_calloc(p ? p : 1, sizeof(double));
    if (!m->base_score || !m->importance)
        return AML_ENOMEM;
    if ((rc = aml_get_f64s(r, m->base_score, n_out)) < 0 ||
        (rc = aml_get_f64s(r, m->importance, (size_t)p)) < 0 ||
        (rc = aml_get_u64(r, n_trees)) < 0 || (rc = aml_get_u64(r, n_nodes)) < 0)
        return rc;
    if (*n_trees % n_out != 0 || *n_nodes < *n_trees)
        return aml_error_set(AML_EFORMAT, "gradient_boosting: corrupt tree counts");
    return AML_OK;
}

/* Checks one node of a tree of `size` nodes at local index i. */
static int hgb_node_ok(const hgb_node *nd, size_t i, size_t size, size_t p)
{
    if (nd->feature == -1)
        return nd->left == -1 && nd->right == -1 && isfinite(nd->value);
    return nd->feature >= 0 && (size_t)nd->feature < p && nd->left > 0 &&
           (size_t)nd->left > i && (size_t)nd->left < size && nd->right > 0 &&
           (size_t)nd->right > i && (size_t)nd->right < size && nd->default_left <= 1 &&
           !isnan(nd->threshold) && isfinite(nd->gain);
}

/* Reads the tree sizes and nodes, checking every index. */
static int hgb_load_trees(hgb *m, aml_reader *r, uint64_t n_trees, uint64_t n_nodes)
{
    hgb_forest *f = &m->forest;
    size_t t, i;
    int rc;

    if ((rc = aml_reader_need(r, n_trees, 8)) < 0 ||
        (rc = aml_reader_need(r, n_nodes, 3 * 4 + 1 + 3 * 8)) < 0)
        return rc;
    if ((rc = hgb_forest_reserve(f, (size_t)n_nodes)) < 0)
        return rc;
    for (t = 0; t < n_trees; t++) {
        uint64_t size;

        if ((rc = hgb_forest_reserve(f, 0)) < 0 || (rc = aml_get_u64(r, &size)) < 0)
            return rc;
        if (size < 1 || size > n_nodes - f->start[t])
            return aml_error_set(AML_EFORMAT, "gradient_boosting: corrupt tree size");
        f->start[t + 1] = f->start[t] + (size_t)size;
        f->n_trees = t + 1;
    }
    if (f->start[n_trees] != n_nodes)
        return aml_error_set(AML_EFORMAT, "gradient_boosting: corrupt tree sizes");
    for (t = 0; t < n_trees; t++)
        for (i = f->start[t]; i < f->start[t + 1]; i++) {
            hgb_node *nd = &f->nodes[i];
            uint32_t a, b, c;

            if ((rc = aml_get_u32(r, &a)) < 0 || (rc = aml_get_u32(r, &b)) < 0 ||
                (rc = aml_get_u32(r, &c)) < 0 ||
                (rc = aml_get_u8(r, &nd->default_left)) < 0 ||
                (rc = aml_get_f64(r, &nd->threshold)) < 0 ||
                (rc = aml_get_f64(r, &nd->value)) < 0 ||
                (rc = aml_get_f64(r, &nd->gain)) < 0)
                return rc;
            nd->feature = (int32_t)a;
            nd->left = (int32_t)b;
            nd->right = (int32_t)c;
            nd->bin = -1;
            if (!hgb_node_ok(nd, i - f->start[t], f->start[t + 1] - f->start[t], m->p))
                return aml_error_set(AML_EFORMAT, "gradient_boosting: corrupt tree node");
        }
    f->n_nodes = (size_t)n_nodes;
    return AML_OK;
}

static int hgb_load(aml_learner **out, const aml_learner_type *type, aml_task task,
                    aml_reader *r)
{
    aml_learner *l = NULL;
    uint64_t n_trees, n_nodes;
    hgb *m;
    size_t i;
    int rc;

    *out = NULL;
    if ((rc = hgb_create(&l, type, task)) < 0)
        return rc;
    m = (hgb *)l;
    if ((rc = hgb_load_header(m, r, &n_trees, &n_nodes)) < 0 ||
        (rc = hgb_load_trees(m, r, n_trees, n_nodes)) < 0)
        goto fail;
    for (i = 0; i < (size_t)m->n_out; i++)
        if (!isfinite(m->base_score[i])) {
            rc = aml_error_set(AML_EFORMAT, "gradient_boosting: corrupt base score");
            goto fail;
        }
    m->fitted = 1;
    l->n_features = m->p;
    l->n_classes = m->n_classes;
    *out = l;
    return AML_OK;

fail:
    hgb_free(l);
    return rc;
}

const aml_learner_type aml_learner_gradient_boosting = {
    .name = "gradient_boosting",
    .tasks = AML_TASK_BIT(AML_TASK_CLASSIFICATION) | AML_TASK_BIT(AML_TASK_REGRESSION),
    .flags = 0,
    .params = hgb_params,
    .create = hgb_create,
    .set_param = hgb_set_param,
    .fit = hgb_fit,
    .predict = hgb_predict,
    .emit_c = hgb_emit_c,
    .save = hgb_save,
    .load = hgb_load,
    .free = hgb_free,
    .importance = hgb_importance,
    .resource_param = "n_estimators",
};
