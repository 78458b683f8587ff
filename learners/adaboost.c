/*
 * adaboost.c - the adaboost learner: boosted shallow CART trees.
 *
 * Classification is SAMME (Zhu, Zou, Rosset and Hastie, "Multi-class
 * AdaBoost", Statistics and Its Interface 2, 2009) on discrete labels, as
 * scikit-learn's AdaBoostClassifier(algorithm="SAMME"): each tree is fitted
 * on the current sample weights, its weighted error e gives it the weight
 * alpha = learning_rate * (log((1 - e) / e) + log(K - 1)), and misclassified
 * rows have their weights multiplied by exp(alpha).  Probabilities are the
 * softmax of the weighted votes divided by K - 1 (two classes: the vote
 * difference halved), as scikit-learn computes them.
 *
 * Regression is AdaBoost.R2 (Drucker, "Improving Regressors using
 * Boosting Techniques", ICML 1997), as scikit-learn's AdaBoostRegressor:
 * each tree is fitted on a bootstrap sample drawn with the sample weights
 * as probabilities (with the fit's rng, so not scikit-learn's sample), the
 * loss of each row (linear, square or exponential in |error| / max |error|)
 * gives the average loss L, beta = L / (1 - L), the tree weight
 * learning_rate * log(1 / beta), and weights are multiplied by
 * beta^((1 - loss) * learning_rate).  Predictions are the weighted median
 * of the trees' predictions.
 *
 * Both stop early as scikit-learn does: on a perfect tree (kept with
 * weight 1), or on a tree no better than chance (dropped; for SAMME a
 * first tree that bad fails the fit).  Sample weights are normalised after
 * every round and floored at DBL_EPSILON (rows of weight 0 stay at 0).
 * The trees come from the shared builder (tree_build.c), with every feature
 * a candidate at each node, so SAMME's result does not depend on the rng.
 */
#include "aml.h"
#include "learner.h"
#include "tree_internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Saved models with more trees than this are taken for corruption. */
#define ADA_MAX_TREES 100000

enum { ADA_LINEAR = 0, ADA_SQUARE = 1, ADA_EXPONENTIAL = 2 };

static const char *const ada_loss_words[] = {"linear", "square", "exponential", NULL};

static const aml_param_def ada_params[] = {
    {.name = "n_estimators",
     .kind = AML_VAL_INT,
     .lo = 1,
     .hi = ADA_MAX_TREES,
     .def = {.kind = AML_VAL_INT, .i = 50},
     .search_lo = 10,
     .search_hi = 500,
     .search_log = 1,
     .doc = "most boosting rounds (trees); fewer when a round stops the boosting"},
    {.name = "learning_rate",
     .kind = AML_VAL_REAL,
     .lo = 0,
     .hi = INFINITY,
     .lo_open = 1,
     .def = {.kind = AML_VAL_REAL, .real = 1.0},
     .search_lo = 0.01,
     .search_hi = 2.0,
     .search_log = 1,
     .doc = "shrinks each tree's weight (and, for regression, its reweighting)"},
    {.name = "max_depth",
     .kind = AML_VAL_INT,
     .lo = 1,
     .hi = INFINITY,
     .def = {.kind = AML_VAL_INT, .i = 1},
     .search_lo = 1,
     .search_hi = 5,
     .doc = "depth of each tree (default 1 for classification, 3 for regression)"},
    {.name = "loss",
     .tasks = AML_TASK_BIT(AML_TASK_REGRESSION),
     .kind = AML_VAL_STR,
     .choices = ada_loss_words,
     .def = {.kind = AML_VAL_STR, .str = "linear"},
     .doc = "regression loss of AdaBoost.R2: linear, square or exponential "
            "(ignored for classification)"},
    {.name = NULL},
};

typedef struct ada {
    aml_learner base;
    long long n_estimators, max_depth; /* max_depth 0: the task's default */
    double learning_rate;
    int loss;

    int n_out;
    size_t p, n_trees;
    aml_tree *trees;
    double *weights;    /* n_trees tree weights */
    double *importance; /* p */
} ada;

/* ---- life cycle and parameters ------------------------------------------ */

static int ada_create(aml_learner **out, const aml_learner_type *type, aml_task task)
{
    ada *a = aml_calloc(1, sizeof(*a));

    *out = NULL;
    if (!a)
        return AML_ENOMEM;
    a->base.type = type;
    a->base.task = task;
    a->n_estimators = 50;
    a->learning_rate = 1.0;
    a->loss = ADA_LINEAR;
    *out = &a->base;
    return AML_OK;
}

static int ada_set_param(aml_learner *l, const char *name, const aml_value *v)
{
    ada *a = (ada *)l;
    long long i = v->kind == AML_VAL_INT ? v->i : -1;
    int k;

    if (strcmp(name, "loss") == 0 && v->kind == AML_VAL_STR) {
        for (k = 0; ada_loss_words[k]; k++)
            if (strcmp(ada_loss_words[k], v->str) == 0) {
                a->loss = k;
                return AML_OK;
            }
    } else if (strcmp(name, "n_estimators") == 0 && i >= 1 && i <= ADA_MAX_TREES) {
        a->n_estimators = i;
        return AML_OK;
    } else if (strcmp(name, "max_depth") == 0 && i >= 1) {
        a->max_depth = i;
        return AML_OK;
    } else if (strcmp(name, "learning_rate") == 0 && v->kind == AML_VAL_REAL &&
               v->real > 0 && isfinite(v->real)) {
        a->learning_rate = v->real;
        return AML_OK;
    }
    return aml_error_set(AML_EINVAL, "adaboost: bad value for '%s'", name);
}

static void ada_release(ada *a)
{
    size_t t;

    for (t = 0; t < a->n_trees; t++)
        aml_tree_dispose(&a->trees[t]);
    free(a->trees);
    free(a->weights);
    free(a->importance);
    a->trees = NULL;
    a->weights = a->importance = NULL;
    a->n_trees = 0;
}

static void ada_free(aml_learner *l)
{
    ada *a = (ada *)l;

    if (!a)
        return;
    ada_release(a);
    free(a);
}

/* ---- boosting ----------------------------------------------------------- */

/* Everything one fit needs. */
typedef struct ada_fit_state {
    ada *a;
    const aml_matrix *X;
    const double *y;
    aml_tree_data d;
    aml_tree_work *ws;
    aml_tree_opts o;
    aml_rng *rng;
    int threads;         /* for ranking the data; the rounds are sequential */
    double *sw;          /* n sample weights, summing to 1 */
    double *tw;          /* n weights the tree is fitted on */
    double *cum;         /* n cumulative weights (R2's weighted bootstrap) */
    double *pred;        /* n x n_out predictions of the current tree */
    double *err;         /* n per-row losses (R2) */
    unsigned char *zero; /* rows whose weight was 0 from the start */
} ada_fit_state;

/* The predicted class: the first most probable one, as numpy's argmax. */
static size_t ada_argmax(const double *p, size_t C)
{
    size_t c, best = 0;

    for (c = 1; c < C; c++)
        if (p[c] > p[best])
            best = c;
    return best;
}

/*
 * One SAMME round on the tree just grown: returns 1 to go on, 0 to stop
 * (keeping the tree with *alpha), -1 to stop dropping it.
 */
static int ada_samme_round(ada_fit_state *s, int last, double *alpha)
{
    size_t i, n = s->X->rows, C = (size_t)s->a->n_out;
    double wrong = 0, total = 0, e;

    for (i = 0; i < n; i++) {
        s->err[i] = (double)ada_argmax(s->pred + i * C, C) != s->y[i];
        wrong += s->sw[i] * s->err[i];
        total += s->sw[i];
    }
    e = wrong / total;
    if (e <= 0) {
        *alpha = 1.0;
        return 0;
    }
    if (e >= 1.0 - 1.0 / (double)C)
        return -1;
    *alpha = s->a->learning_rate * (log((1.0 - e) / e) + log((double)C - 1.0));
    for (i = 0; i < n && !last; i++)
        if (s->sw[i] > 0)
            s->sw[i] = exp(log(s->sw[i]) + *alpha * s->err[i]);
    return 1;
}

/* R2's per-row loss in [0, 1] and the weighted average loss. */
static double ada_r2_loss(ada_fit_state *s)
{
    size_t i, n = s->X->rows;
    double emax = 0, L = 0;

    for (i = 0; i < n; i++) {
        s->err[i] = fabs(s->pred[i] - s->y[i]);
        if (s->sw[i] > 0 && s->err[i] > emax)
            emax = s->err[i];
    }
    for (i = 0; i < n; i++) {
        double e = emax != 0 ? s->err[i] / emax : s->err[i];

        if (s->a->loss == ADA_SQUARE)
            e = e * e;
        else if (s->a->loss == ADA_EXPONENTIAL)
            e = 1.0 - exp(-e);
        s->err[i] = e;
        if (s->sw[i] > 0)
            L += s->sw[i] * e;
    }
    return L;
}

/* One AdaBoost.R2 round; same returns as ada_samme_round. */
static int ada_r2_round(ada_fit_state *s, int last, double *alpha)
{
    size_t i, n = s->X->rows;
    double L = ada_r2_loss(s), beta, lr = s->a->learning_rate;

    if (L <= 0) {
        *alpha = 1.0;
        return 0;
    }
    if (L >= 0.5)
        return -1;
    beta = L / (1.0 - L);
    *alpha = lr * log(1.0 / beta);
    for (i = 0; i < n && !last; i++)
        if (s->sw[i] > 0)
            s->sw[i] *= pow(beta, (1.0 - s->err[i]) * lr);
    return 1;
}

/* R2: draws n rows with probabilities sw into tw as counts. */
static void ada_weighted_bootstrap(ada_fit_state *s)
{
    size_t i, n = s->X->rows;
    double acc = 0;

    for (i = 0; i < n; i++) {
        acc += s->sw[i];
        s->cum[i] = acc;
        s->tw[i] = 0;
    }
    for (i = 0; i < n; i++) {
        double u = aml_rng_uniform(s->rng) * acc;
        size_t lo = 0, hi = n - 1;

        /* The first row whose cumulative weight exceeds u. */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;

            if (s->cum[mid] > u)
                hi = mid;
            else
                lo = mid + 1;
        }
        s->tw[lo] += 1.0;
    }
}

/* Floors the weights at DBL_EPSILON, except rows that were 0 from the start. */
static void ada_clip(ada_fit_state *s)
{
    size_t i;

    for (i = 0; i < s->X->rows; i++)
        s->sw[i] = s->zero[i] ? 0.0 : (s->sw[i] < DBL_EPSILON ? DBL_EPSILON : s->sw[i]);
}

/* Grows tree t on the current weights and predicts the training rows. */
static int ada_grow(ada_fit_state *s, size_t t)
{
    aml_tree *tree = &s->a->trees[t];
    int rc;

    if (s->a->base.task == AML_TASK_REGRESSION)
        ada_weighted_bootstrap(s);
    else
        memcpy(s->tw, s->sw, s->X->rows * sizeof(double));
    if ((rc = aml_tree_grow(tree, &s->d, s->tw, &s->o, s->rng, s->ws)) < 0)
        return rc;
    aml_tree_predict(tree, s->X, s->pred);
    return AML_OK;
}

/* Normalises the weights; returns 0 when boosting must stop. */
static int ada_normalise(ada_fit_state *s, int last)
{
    size_t i, n = s->X->rows;
    double sum = 0;

    for (i = 0; i < n; i++)
        sum += s->sw[i];
    if (!isfinite(sum) || sum <= 0)
        return 0;
    for (i = 0; i < n && !last; i++)
        s->sw[i] /= sum;
    return 1;
}

/* The boosting loop; leaves a->n_trees trees with their weights. */
static int ada_boost(ada_fit_state *s)
{
    ada *a = s->a;
    size_t t, n_est = (size_t)a->n_estimators;
    int rc, go = 1;

    for (t = 0; t < n_est && go; t++) {
        int last = t == n_est - 1;
        double alpha = 0;

        ada_clip(s);
        if ((rc = ada_grow(s, t)) < 0)
            return rc;
        a->n_trees = t + 1;
        go = a->base.task == AML_TASK_CLASSIFICATION ? ada_samme_round(s, last, &alpha)
                                                     : ada_r2_round(s, last, &alpha);
        if (go < 0) {
            /* No better than chance: dropped (R2 keeps a lone first tree). */
            if (a->base.task == AML_TASK_CLASSIFICATION || t > 0) {
                aml_tree_dispose(&a->trees[t]);
                a->n_trees = t;
            }
            break;
        }
        a->weights[t] = alpha;
        if (go)
            go = ada_normalise(s, last);
    }
    if (a->n_trees == 0)
        return aml_error_set(AML_EINVAL, "adaboost: the first tree is no better than "
                                         "chance; the ensemble cannot be fitted");
    return AML_OK;
}

/* Weighted mean of the trees' importances, normalised. */
static void ada_importance(ada *a)
{
    size_t t, j;
    double s = 0;

    for (t = 0; t < a->n_trees; t++)
        for (j = 0; j < a->p; j++)
            a->importance[j] += a->weights[t] * a->trees[t].importance[j];
    for (j = 0; j < a->p; j++)
        s += a->importance[j];
    for (j = 0; j < a->p && s > 0; j++)
        a->importance[j] /= s;
}

static void ada_state_dispose(ada_fit_state *s)
{
    aml_tree_work_free(s->ws);
    aml_tree_data_dispose(&s->d);
    free(s->sw);
    free(s->tw);
    free(s->cum);
    free(s->pred);
    free(s->err);
    free(s->zero);
}

static int ada_state_init(ada_fit_state *s, const double *w)
{
    size_t i, n = s->X->rows, C = (size_t)s->a->n_out;
    double sum = 0;
    int rc;

    s->sw = aml_mallocarray(n, sizeof(double));
    s->tw = aml_mallocarray(n, sizeof(double));
    s->cum = aml_mallocarray(n, sizeof(double));
    s->pred = aml_mallocarray(n * C, sizeof(double));
    s->err = aml_mallocarray(n, sizeof(double));
    s->zero = aml_mallocarray(n, 1);
    if (!s->sw || !s->tw || !s->cum || !s->pred || !s->err || !s->zero)
        return AML_ENOMEM;
    if ((rc = aml_tree_data_init(&s->d, s->X, s->y, s->a->base.task, s->a->n_out,
                                 s->threads)) < 0 ||
        (rc = aml_tree_work_new(&s->ws, &s->d)) < 0)
        return rc;
    for (i = 0; i < n; i++)
        sum += w ? w[i] : 1.0;
    for (i = 0; i < n; i++) {
        s->sw[i] = (w ? w[i] : 1.0) / sum;
        s->zero[i] = s->sw[i] == 0;
    }
    return AML_OK;
}

static int ada_fit_checked(ada *a, const aml_matrix *X, const double *y, const double *w,
                           aml_rng *rng, int threads)
{
    ada_fit_state s = {.a = a, .X = X, .y = y, .rng = rng, .threads = threads};
    long long depth =
        a->max_depth ? a->max_depth : (a->base.task == AML_TASK_CLASSIFICATION ? 1 : 3);
    int rc;

    s.o = (aml_tree_opts){.task = a->base.task,
                          .n_out = a->n_out,
                          .criterion = AML_TREE_GINI,
                          .max_depth = depth,
                          .min_samples_split = 2,
                          .min_samples_leaf = 1,
                          .max_features = X->cols ? X->cols : 1};
    a->p = X->cols;
    a->trees = aml_calloc((size_t)a->n_estimators, sizeof(aml_tree));
    a->weights = aml_calloc((size_t)a->n_estimators, sizeof(double));
    a->importance = aml_calloc(X->cols + 1, sizeof(double));
    if (!a->trees || !a->weights || !a->importance)
        rc = AML_ENOMEM;
    else if ((rc = ada_state_init(&s, w)) == AML_OK && (rc = ada_boost(&s)) == AML_OK)
        ada_importance(a);
    ada_state_dispose(&s);
    return rc;
}

static int ada_fit(aml_learner *l, const aml_matrix *X, const double *y, const double *w,
                   int n_classes, aml_rng *rng, int threads)
{
    ada *a = (ada *)l;
    int rc;

    ada_release(a);
    a->n_out = l->task == AML_TASK_CLASSIFICATION ? n_classes : 1;
    if (X->rows > INT32_MAX / 2 || X->cols > INT32_MAX)
        return aml_error_set(AML_EINVAL, "adaboost: %zu x %zu is too large", X->rows,
                             X->cols);
    if ((rc = aml_tree_check("adaboost", X, y, w, l->task, a->n_out)) < 0)
        return rc;
    if ((rc = ada_fit_checked(a, X, y, w, rng, threads)) < 0) {
        ada_release(a);
        return rc;
    }
    l->n_features = X->cols;
    l->n_classes = l->task == AML_TASK_CLASSIFICATION ? n_classes : 0;
    return AML_OK;
}

/* ---- predict ------------------------------------------------------------ */

static int ada_check_state(const ada *a)
{
    if (a->n_trees == 0)
        return aml_error_set(AML_EINVAL, "adaboost: predict before fit");
    if (a->base.n_features != a->p ||
        (a->base.task == AML_TASK_CLASSIFICATION && a->base.n_classes != a->n_out))
        return aml_error_set(AML_EFORMAT,
                             "adaboost: model shape does not match its header");
    return AML_OK;
}

/* SAMME probabilities from the weighted votes in out (rows x C), in place. */
static void ada_votes_to_proba(const ada *a, double *out, size_t rows)
{
    size_t i, c, C = (size_t)a->n_out;
    double total = 0;
    size_t t;

    for (t = 0; t < a->n_trees; t++)
        total += a->weights[t];
    for (i = 0; i < rows; i++) {
        double *v = out + i * C, m, s = 0;

        for (c = 0; c < C; c++)
            v[c] /= total;
        if (C == 2) {
            double d = v[1] - v[0];

            v[0] = -d / 2;
            v[1] = d / 2;
        } else {
            for (c = 0; c < C; c++)
                v[c] /= (double)C - 1;
        }
        m = v[ada_argmax(v, C)];
        for (c = 0; c < C; c++)
            s += (v[c] = exp(v[c] - m));
        for (c = 0; c < C; c++)
            v[c] /= s;
    }
}

static int ada_predict_samme(const ada *a, const aml_matrix *X, double *out)
{
    size_t i, t, C = (size_t)a->n_out;
    double *p = aml_mallocarray(X->rows * C + 1, sizeof(double));

    if (!p)
        return AML_ENOMEM;
    memset(out, 0, X->rows * C * sizeof(double));
    for (t = 0; t < a->n_trees; t++) {
        aml_tree_predict(&a->trees[t], X, p);
        for (i = 0; i < X->rows; i++)
            out[i * C + ada_argmax(p + i * C, C)] += a->weights[t];
    }
    free(p);
    ada_votes_to_proba(a, out, X->rows);
    return AML_OK;
}

/* The weighted median of v[0..T) with weights w (scikit-learn's rule). */
static double ada_weighted_median(const double *v, const double *w, size_t *order,
                                  size_t T)
{
    size_t i, j;
    double total = 0, acc = 0;

    for (i = 0; i < T; i++)
        order[i] = i;
    for (i = 1; i < T; i++) { /* insertion sort: T is small */
        size_t k = order[i];

        for (j = i; j > 0 && v[order[j - 1]] > v[k]; j--)
            order[j] = order[j - 1];
        order[j] = k;
    }
    for (i = 0; i < T; i++)
        total += w[order[i]];
    for (i = 0; i < T; i++) {
        acc += w[order[i]];
        if (acc >= 0.5 * total)
            return v[order[i]];
    }
    return v[order[T - 1]];
}

static int ada_predict_r2(const ada *a, const aml_matrix *X, double *out)
{
    size_t i, t, T = a->n_trees;
    double *p = aml_mallocarray(X->rows * T + 1, sizeof(double));
    double *col = aml_mallocarray(X->rows + 1, sizeof(double));
    size_t *order = aml_mallocarray(T, sizeof(size_t));
    int rc = AML_ENOMEM;

    if (!p || !col || !order)
        goto out;
    for (t = 0; t < T; t++) {
        aml_tree_predict(&a->trees[t], X, col);
        for (i = 0; i < X->rows; i++)
            p[i * T + t] = col[i];
    }
    for (i = 0; i < X->rows; i++)
        out[i] = ada_weighted_median(p + i * T, a->weights, order, T);
    rc = AML_OK;
out:
    free(p);
    free(col);
    free(order);
    return rc;
}

static int ada_predict(const aml_learner *l, const aml_matrix *X, double *out)
{
    const ada *a = (const ada *)l;
    int rc;

    if ((rc = ada_check_state(a)) < 0)
        return rc;
    if (X->cols != a->p)
        return aml_error_set(AML_EINVAL, "adaboost: fitted on %zu features, got %zu",
                             a->p, X->cols);
    if (l->task == AML_TASK_CLASSIFICATION)
        return ada_predict_samme(a, X, out);
    return ada_predict_r2(a, X, out);
}

/* C export of SAMME: the weighted votes of the trees, then predict's softmax. */
static int ada_emit_samme(const ada *a, aml_cgen *g, const char *fn, const char *nm,
                          const char *w)
{
    double total = 0;
    size_t t;

    for (t = 0; t < a->n_trees; t++)
        total += a->weights[t];
    return aml_cgen_printf(
        g,
        "/* adaboost (SAMME): %zu trees. */\n"
        "static void %s(const double *x, double *out)\n{\n"
        "    const size_t C = %d;\n"
        "    size_t t, c, best;\n    double m, s = 0;\n\n"
        "    for (c = 0; c < C; c++)\n        out[c] = 0;\n"
        "    for (t = 0; t < %zu; t++) {\n"
        "        const double *p = %s_vals + %s_leaf(t, x);\n\n"
        "        for (best = 0, c = 1; c < C; c++)\n"
        "            if (p[c] > p[best])\n                best = c;\n"
        "        out[best] += %s[t];\n    }\n"
        "    for (c = 0; c < C; c++)\n        out[c] /= %.17g;\n"
        "    if (C == 2) {\n"
        "        double d = out[1] - out[0];\n\n"
        "        out[0] = -d / 2;\n        out[1] = d / 2;\n"
        "    } else {\n"
        "        for (c = 0; c < C; c++)\n            out[c] /= (double)C - 1;\n    }\n"
        "    for (best = 0, c = 1; c < C; c++)\n"
        "        if (out[c] > out[best])\n            best = c;\n"
        "    m = out[best];\n"
        "    for (c = 0; c < C; c++)\n        s += (out[c] = exp(out[c] - m));\n"
        "    for (c = 0; c < C; c++)\n        out[c] /= s;\n}\n\n",
        a->n_trees, fn, a->n_out, a->n_trees, nm, nm, w, total);
}

/* C export of AdaBoost.R2: the weighted median of the trees' values. */
static int ada_emit_r2(const ada *a, aml_cgen *g, const char *fn, const char *nm,
                       const char *w)
{
    return aml_cgen_printf(
        g,
        "/* adaboost (R2): weighted median of %zu trees. */\n"
        "static void %s(const double *x, double *out)\n{\n"
        "    double v[%zu], total = 0, acc = 0;\n"
        "    size_t order[%zu], i, j, T = %zu;\n\n"
        "    for (i = 0; i < T; i++) {\n"
        "        v[i] = %s_vals[%s_leaf(i, x)];\n        order[i] = i;\n    }\n"
        "    for (i = 1; i < T; i++) {\n"
        "        size_t k = order[i];\n\n"
        "        for (j = i; j > 0 && v[order[j - 1]] > v[k]; j--)\n"
        "            order[j] = order[j - 1];\n"
        "        order[j] = k;\n    }\n"
        "    for (i = 0; i < T; i++)\n        total += %s[order[i]];\n"
        "    for (i = 0; i < T; i++) {\n"
        "        acc += %s[order[i]];\n"
        "        if (acc >= 0.5 * total) {\n"
        "            out[0] = v[order[i]];\n            return;\n        }\n    }\n"
        "    out[0] = v[order[T - 1]];\n}\n\n",
        a->n_trees, fn, a->n_trees, a->n_trees, a->n_trees, nm, nm, w, w);
}

/* C export, bit for bit: the same votes or median with the same operations. */
static int ada_emit_c(const aml_learner *l, aml_cgen *g, const char *fn)
{
    const ada *a = (const ada *)l;
    char nm[64], w[64];
    int rc;

    if ((rc = ada_check_state(a)) < 0 ||
        (rc = aml_tree_emit_c(a->trees, a->n_trees, g, nm, sizeof(nm))) < 0 ||
        (rc = aml_cgen_name(g, "ada_w", w, sizeof(w))) < 0 ||
        (rc = aml_cgen_doubles(g, w, a->weights, a->n_trees)) < 0)
        return rc;
    if (l->task == AML_TASK_CLASSIFICATION)
        return ada_emit_samme(a, g, fn, nm, w);
    return ada_emit_r2(a, g, fn, nm, w);
}

static int ada_importance_out(const aml_learner *l, double *out)
{
    const ada *a = (const ada *)l;
    int rc;

    if ((rc = ada_check_state(a)) < 0)
        return rc;
    memcpy(out, a->importance, a->p * sizeof(double));
    return AML_OK;
}

/* ---- save / load -------------------------------------------------------- */

static int ada_save(const aml_learner *l, aml_writer *w)
{
    const ada *a = (const ada *)l;
    size_t t;
    int rc;

    if (a->n_trees == 0)
        return aml_error_set(AML_EINVAL, "adaboost: cannot save an unfitted model");
    aml_put_i64(w, a->n_estimators);
    aml_put_i64(w, a->max_depth);
    aml_put_f64(w, a->learning_rate);
    aml_put_u8(w, (uint8_t)a->loss);
    aml_put_u32(w, (uint32_t)a->n_out);
    aml_put_u64(w, (uint64_t)a->p);
    aml_put_u64(w, (uint64_t)a->n_trees);
    aml_put_f64s(w, a->weights, a->n_trees);
    aml_put_f64s(w, a->importance, a->p);
    for (t = 0; t < a->n_trees; t++)
        if ((rc = aml_tree_save(&a->trees[t], w)) < 0)
            return rc;
    return w->failed ? AML_ENOMEM : AML_OK;
}

static int ada_load_params(ada *a, aml_reader *r, uint64_t *n_trees)
{
    int64_t ne, md;
    uint8_t loss;
    uint32_t n_out;
    uint64_t p;
    int rc;

    if ((rc = aml_get_i64(r, &ne)) < 0 || (rc = aml_get_i64(r, &md)) < 0 ||
        (rc = aml_get_f64(r, &a->learning_rate)) < 0 || (rc = aml_get_u8(r, &loss)) < 0 ||
        (rc = aml_get_u32(r, &n_out)) < 0 || (rc = aml_get_u64(r, &p)) < 0 ||
        (rc = aml_get_u64(r, n_trees)) < 0)
        return rc;
    if (ne < 1 || ne > ADA_MAX_TREES || md < 0 ||
        !(a->learning_rate > 0 && isfinite(a->learning_rate)) || loss > ADA_EXPONENTIAL ||
        n_out < 1 || n_out > 1u << 20 ||
        (a->base.task == AML_TASK_REGRESSION && n_out != 1) || p > INT32_MAX ||
        *n_trees < 1 || *n_trees > (uint64_t)ne)
        return aml_error_set(AML_EFORMAT, "adaboost: corrupt model header");
    a->n_estimators = ne;
    a->max_depth = md;
    a->loss = loss;
    a->n_out = (int)n_out;
    a->p = (size_t)p;
    return AML_OK;
}

/* Tree weights finite and >= 0; SAMME needs a positive total to divide by. */
static int ada_weights_ok(const ada *a)
{
    double total = 0;
    size_t t;

    for (t = 0; t < a->n_trees; t++) {
        if (!(a->weights[t] >= 0 && isfinite(a->weights[t])))
            return 0;
        total += a->weights[t];
    }
    return a->base.task == AML_TASK_REGRESSION || total > 0;
}

static int ada_load_trees(ada *a, aml_reader *r, size_t n_trees)
{
    size_t t;
    int rc;

    if ((rc = aml_reader_need(r, n_trees, 8 + 64)) < 0 ||
        (rc = aml_reader_need(r, a->p, 8)) < 0)
        return rc;
    a->weights = aml_mallocarray(n_trees, sizeof(double));
    a->importance = aml_calloc(a->p + 1, sizeof(double));
    a->trees = aml_calloc(n_trees, sizeof(aml_tree));
    if (!a->weights || !a->importance || !a->trees)
        return AML_ENOMEM;
    a->n_trees = n_trees;
    if ((rc = aml_get_f64s(r, a->weights, n_trees)) < 0 ||
        (rc = aml_get_f64s(r, a->importance, a->p)) < 0)
        return rc;
    if (!ada_weights_ok(a) || !aml_tree_importance_ok(a->importance, a->p))
        return aml_error_set(AML_EFORMAT,
                             "adaboost: corrupt tree weights or importances");
    for (t = 0; t < n_trees; t++) {
        if ((rc = aml_tree_load(&a->trees[t], r, a->base.task)) < 0)
            return rc;
        if (a->trees[t].n_out != a->n_out || a->trees[t].p != a->p)
            return aml_error_set(AML_EFORMAT, "adaboost: tree %zu does not fit the model",
                                 t);
    }
    return AML_OK;
}

static int ada_load(aml_learner **out, const aml_learner_type *type, aml_task task,
                    aml_reader *r)
{
    aml_learner *l = NULL;
    ada *a;
    uint64_t n_trees;
    int rc;

    *out = NULL;
    if ((rc = ada_create(&l, type, task)) < 0)
        return rc;
    a = (ada *)l;
    if ((rc = ada_load_params(a, r, &n_trees)) < 0 ||
        (rc = ada_load_trees(a, r, (size_t)n_trees)) < 0)
        goto fail;
    l->n_features = a->p;
    l->n_classes = task == AML_TASK_CLASSIFICATION ? a->n_out : 0;
    *out = l;
    return AML_OK;

fail:
    ada_free(l);
    return rc;
}

const aml_learner_type aml_learner_adaboost = {
    .name = "adaboost",
    .tasks = AML_TASK_BIT(AML_TASK_CLASSIFICATION) | AML_TASK_BIT(AML_TASK_REGRESSION),
    .flags = 0,
    .params = ada_params,
    .create = ada_create,
    .set_param = ada_set_param,
    .fit = ada_fit,
    .predict = ada_predict,
    .emit_c = ada_emit_c,
    .save = ada_save,
    .load = ada_load,
    .free = ada_free,
    .importance = ada_importance_out,
    .resource_param = "n_estimators",
};
