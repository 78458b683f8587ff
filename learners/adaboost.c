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
 * The rounds, predictions and C export are boost_core.c's, shared with the
 * boosting wrapper (boosting.c); this file grows and keeps the trees.
 */
#include "aml.h"
#include "boost_internal.h"
#include "learner.h"
#include "tree_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Saved models with more trees than this are taken for corruption. */
#define ADA_MAX_TREES 100000

/* In the order of AML_BOOST_LINEAR, _SQUARE, _EXPONENTIAL. */
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
    a->loss = AML_BOOST_LINEAR;
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

/* Everything one fit needs; the rounds' arithmetic is boost_core.c's. */
typedef struct ada_fit_state {
    ada *a;
    const aml_matrix *X;
    const double *y;
    aml_boost b;
    aml_tree_data d;
    aml_tree_work *ws;
    aml_tree_opts o;
    aml_rng *rng;
    int threads; /* for ranking the data; the rounds are sequential */
    double *tw;  /* n weights the tree is fitted on */
} ada_fit_state;

/*
 * Grows tree t on the current weights (R2: on a weighted bootstrap, as
 * counts) and predicts the training rows.
 */
static int ada_grow(void *ctx, size_t t)
{
    ada_fit_state *s = ctx;
    aml_tree *tree = &s->a->trees[t];
    int rc;

    if ((rc = aml_deadline_check()) < 0)
        return rc;
    if (s->a->base.task == AML_TASK_REGRESSION)
        aml_boost_draw(&s->b, s->rng, s->tw);
    else
        memcpy(s->tw, s->b.sw, s->X->rows * sizeof(double));
    if ((rc = aml_tree_grow(tree, &s->d, s->tw, &s->o, s->rng, s->ws)) < 0)
        return rc;
    aml_tree_predict(tree, s->X, s->b.pred);
    return AML_OK;
}

/* Drops tree t, no better than chance. */
static void ada_drop(void *ctx, size_t t)
{
    ada_fit_state *s = ctx;

    aml_tree_dispose(&s->a->trees[t]);
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
    aml_boost_dispose(&s->b);
    free(s->tw);
}

static int ada_state_init(ada_fit_state *s, const double *w)
{
    ada *a = s->a;
    int rc;

    s->b = (aml_boost){.task = a->base.task,
                       .n = s->X->rows,
                       .n_out = (size_t)a->n_out,
                       .y = s->y,
                       .learning_rate = a->learning_rate,
                       .loss = a->loss};
    s->tw = aml_mallocarray(s->X->rows, sizeof(double));
    if (!s->tw)
        return AML_ENOMEM;
    if ((rc = aml_boost_init(&s->b, w)) < 0 ||
        (rc = aml_tree_data_init(&s->d, s->X, s->y, a->base.task, a->n_out, s->threads)) <
            0 ||
        (rc = aml_tree_work_new(&s->ws, &s->d)) < 0)
        return rc;
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
    else if ((rc = ada_state_init(&s, w)) == AML_OK &&
             (rc = aml_boost_loop(&s.b, (size_t)a->n_estimators, ada_grow, ada_drop, &s,
                                  "adaboost", "tree", a->weights, &a->n_trees)) == AML_OK)
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

/* Tree t's predictions for X: values, or class probabilities (rows x n_out). */
static int ada_member(const void *ctx, size_t t, const aml_matrix *X, double *out)
{
    const ada *a = ctx;

    aml_tree_predict(&a->trees[t], X, out);
    return AML_OK;
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
    return aml_boost_predict(l->task, ada_member, a, a->weights, a->n_trees, a->n_out, X,
                             out);
}

/* C export, bit for bit: the same votes or median with the same operations. */
static int ada_emit_c(const aml_learner *l, aml_cgen *g, const char *fn)
{
    const ada *a = (const ada *)l;
    char nm[64], w[64], get[160];
    int rc;

    if ((rc = ada_check_state(a)) < 0 ||
        (rc = aml_tree_emit_c(a->trees, a->n_trees, g, nm, sizeof(nm))) < 0 ||
        (rc = aml_cgen_name(g, "ada_w", w, sizeof(w))) < 0 ||
        (rc = aml_cgen_doubles(g, w, a->weights, a->n_trees)) < 0)
        return rc;
    /* Tree t's leaf values (SAMME: its class probabilities; R2: its value). */
    snprintf(get, sizeof(get),
             l->task == AML_TASK_CLASSIFICATION ? "%s_vals + %s_leaf(t, x)"
                                                : "%s_vals[%s_leaf(t, x)]",
             nm, nm);
    return aml_boost_emit_c(g, l->task, fn, "adaboost", "trees", a->n_out, a->weights,
                            a->n_trees, w, "", get);
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
        !(a->learning_rate > 0 && isfinite(a->learning_rate)) ||
        loss > AML_BOOST_EXPONENTIAL || n_out < 1 || n_out > 1u << 20 ||
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
    if (!aml_boost_weights_ok(a->base.task, a->weights, a->n_trees) ||
        !aml_tree_importance_ok(a->importance, a->p))
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
