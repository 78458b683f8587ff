/*
 * tree.c - the decision_tree learner: one CART tree for classification and
 * regression.
 *
 * Breiman, Friedman, Olshen and Stone, "Classification and Regression
 * Trees" (1984).  The tree is grown by the shared builder (tree_build.c,
 * whose comment describes the algorithm and how it matches scikit-learn's
 * DecisionTreeClassifier / DecisionTreeRegressor); this file holds the
 * parameters, the learner interface and the model file.  The model keeps
 * the tree's impurity-based feature importances (normalised total decrease
 * of weighted impurity per feature), saved with it.
 */
#include "aml.h"
#include "learner.h"
#include "tree_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const aml_param_def tree_params[] = {
    {.name = "criterion",
     .tasks = AML_TASK_BIT(AML_TASK_CLASSIFICATION),
     .kind = AML_VAL_STR,
     .choices = aml_tree_criterion_words,
     .def = {.kind = AML_VAL_STR, .str = "gini"},
     .doc = "split impurity for classification: gini or entropy (regression always "
            "uses squared error)"},
    {.name = "max_depth",
     .kind = AML_VAL_INT,
     .lo = 0,
     .hi = INFINITY,
     .def = {.kind = AML_VAL_INT, .i = 0},
     .search_lo = 1,
     .search_hi = 20,
     .doc = "maximum depth of the tree, 0 for unlimited"},
    {.name = "min_samples_split",
     .kind = AML_VAL_INT,
     .lo = 2,
     .hi = INFINITY,
     .def = {.kind = AML_VAL_INT, .i = 2},
     .search_lo = 2,
     .search_hi = 20,
     .doc = "fewest rows a node needs to be split"},
    {.name = "min_samples_leaf",
     .kind = AML_VAL_INT,
     .lo = 1,
     .hi = INFINITY,
     .def = {.kind = AML_VAL_INT, .i = 1},
     .search_lo = 1,
     .search_hi = 20,
     .doc = "fewest rows on each side of a split"},
    {.name = "max_features",
     .kind = AML_VAL_REAL,
     .lo = 0,
     .hi = 1,
     .lo_open = 1,
     .def = {.kind = AML_VAL_REAL, .real = 1.0},
     .search_lo = 0.1,
     .search_hi = 1.0,
     .doc = "fraction of the features drawn at random as candidates at each split"},
    {.name = NULL},
};

typedef struct tree {
    aml_learner base;
    int criterion;
    long long max_depth, min_samples_split, min_samples_leaf;
    double max_features;
    aml_tree tr;
} tree;

/* ---- life cycle and parameters ------------------------------------------ */

static int tree_create(aml_learner **out, const aml_learner_type *type, aml_task task)
{
    tree *t = aml_calloc(1, sizeof(*t));

    *out = NULL;
    if (!t)
        return AML_ENOMEM;
    t->base.type = type;
    t->base.task = task;
    t->criterion = AML_TREE_GINI;
    t->max_depth = 0;
    t->min_samples_split = 2;
    t->min_samples_leaf = 1;
    t->max_features = 1.0;
    *out = &t->base;
    return AML_OK;
}

static int tree_set_word(tree *t, const aml_value *v)
{
    int i;

    for (i = 0; v->kind == AML_VAL_STR && aml_tree_criterion_words[i]; i++)
        if (strcmp(aml_tree_criterion_words[i], v->str) == 0) {
            t->criterion = i;
            return AML_OK;
        }
    return aml_error_set(AML_EINVAL, "decision_tree: bad value for 'criterion'");
}

static int tree_set_param(aml_learner *l, const char *name, const aml_value *v)
{
    tree *t = (tree *)l;
    long long i = v->kind == AML_VAL_INT ? v->i : -1;

    if (strcmp(name, "criterion") == 0)
        return tree_set_word(t, v);
    if (strcmp(name, "max_depth") == 0 && i >= 0)
        t->max_depth = i;
    else if (strcmp(name, "min_samples_split") == 0 && i >= 2)
        t->min_samples_split = i;
    else if (strcmp(name, "min_samples_leaf") == 0 && i >= 1)
        t->min_samples_leaf = i;
    else if (strcmp(name, "max_features") == 0 && v->kind == AML_VAL_REAL &&
             v->real > 0 && v->real <= 1)
        t->max_features = v->real;
    else
        return aml_error_set(AML_EINVAL, "decision_tree: bad value for '%s'", name);
    return AML_OK;
}

static void tree_free(aml_learner *l)
{
    tree *t = (tree *)l;

    if (!t)
        return;
    aml_tree_dispose(&t->tr);
    free(t);
}

/* ---- fit ---------------------------------------------------------------- */

static void tree_options(const tree *t, size_t p, int n_out, aml_tree_opts *o)
{
    size_t mf = (size_t)(t->max_features * (double)p);

    *o = (aml_tree_opts){.task = t->base.task,
                         .n_out = n_out,
                         .criterion = t->criterion,
                         .max_depth = t->max_depth,
                         .min_samples_split = t->min_samples_split,
                         .min_samples_leaf = t->min_samples_leaf,
                         .max_features = mf < 1 ? 1 : mf};
}

/* Grows the tree on checked inputs (w: all weights, never NULL). */
static int tree_grow(tree *t, const aml_matrix *X, const double *y, const double *w,
                     int n_out, aml_rng *rng, int threads)
{
    aml_tree_data d;
    aml_tree_work *ws = NULL;
    aml_tree_opts o;
    int rc;

    if ((rc = aml_tree_data_init(&d, X, y, t->base.task, n_out, threads)) < 0)
        return rc;
    tree_options(t, X->cols, n_out, &o);
    if ((rc = aml_tree_work_new(&ws, &d)) == AML_OK)
        rc = aml_tree_grow(&t->tr, &d, w, &o, rng, ws);
    aml_tree_work_free(ws);
    aml_tree_data_dispose(&d);
    return rc;
}

static int tree_fit(aml_learner *l, const aml_matrix *X, const double *y, const double *w,
                    int n_classes, aml_rng *rng, int threads)
{
    tree *t = (tree *)l;
    int n_out = l->task == AML_TASK_CLASSIFICATION ? n_classes : 1;
    double *ones = NULL;
    size_t i;
    int rc;

    aml_tree_dispose(&t->tr);
    /* Node indices are int32 and a tree has fewer than 2n nodes. */
    if (X->rows > INT32_MAX / 2 || X->cols > INT32_MAX)
        return aml_error_set(AML_EINVAL, "decision_tree: %zu x %zu is too large", X->rows,
                             X->cols);
    if ((rc = aml_tree_check("decision_tree", X, y, w, l->task, n_out)) < 0)
        return rc;
    if (!w) {
        if (!(ones = aml_mallocarray(X->rows, sizeof(double))))
            return AML_ENOMEM;
        for (i = 0; i < X->rows; i++)
            ones[i] = 1.0;
    }
    rc = tree_grow(t, X, y, w ? w : ones, n_out, rng, threads);
    free(ones);
    if (rc < 0)
        return rc;
    l->n_features = X->cols;
    l->n_classes = l->task == AML_TASK_CLASSIFICATION ? n_classes : 0;
    return AML_OK;
}

/* ---- predict ------------------------------------------------------------ */

static int tree_check_state(const tree *t)
{
    if (t->tr.n_nodes == 0)
        return aml_error_set(AML_EINVAL, "decision_tree: predict before fit");
    /* The generic header and our own state disagree only in a corrupt model. */
    if (t->base.n_features != t->tr.p ||
        (t->base.task == AML_TASK_CLASSIFICATION && t->base.n_classes != t->tr.n_out))
        return aml_error_set(AML_EFORMAT,
                             "decision_tree: model shape does not match its header");
    return AML_OK;
}

static int tree_predict(const aml_learner *l, const aml_matrix *X, double *out)
{
    const tree *t = (const tree *)l;
    int rc;

    if ((rc = tree_check_state(t)) < 0)
        return rc;
    if (X->cols != t->tr.p)
        return aml_error_set(AML_EINVAL, "decision_tree: fitted on %zu features, got %zu",
                             t->tr.p, X->cols);
    aml_tree_predict(&t->tr, X, out);
    return AML_OK;
}

/* C export, bit for bit: the leaf's values copied. */
static int tree_emit_c(const aml_learner *l, aml_cgen *g, const char *fn)
{
    const tree *t = (const tree *)l;
    char nm[64];
    int rc;

    if ((rc = tree_check_state(t)) < 0 ||
        (rc = aml_tree_emit_c(&t->tr, 1, g, nm, sizeof(nm))) < 0)
        return rc;
    return aml_cgen_printf(g,
                           "/* decision_tree: %zu nodes. */\n"
                           "static void %s(const double *x, double *out)\n{\n"
                           "    size_t v = %s_leaf(0, x);\n    int c;\n\n"
                           "    for (c = 0; c < %d; c++)\n"
                           "        out[c] = %s_vals[v + (size_t)c];\n}\n\n",
                           t->tr.n_nodes, fn, nm, t->tr.n_out, nm);
}

static int tree_importance(const aml_learner *l, double *out)
{
    const tree *t = (const tree *)l;
    int rc;

    if ((rc = tree_check_state(t)) < 0)
        return rc;
    memcpy(out, t->tr.importance, t->tr.p * sizeof(double));
    return AML_OK;
}

/* ---- save / load -------------------------------------------------------- */

static int tree_save(const aml_learner *l, aml_writer *w)
{
    const tree *t = (const tree *)l;

    if (t->tr.n_nodes == 0)
        return aml_error_set(AML_EINVAL, "decision_tree: cannot save an unfitted model");
    aml_put_u8(w, (uint8_t)t->criterion);
    aml_put_i64(w, t->max_depth);
    aml_put_i64(w, t->min_samples_split);
    aml_put_i64(w, t->min_samples_leaf);
    aml_put_f64(w, t->max_features);
    return aml_tree_save(&t->tr, w);
}

/* Reads the parameters of a saved tree and checks their ranges. */
static int tree_load_params(tree *t, aml_reader *r)
{
    uint8_t crit;
    int64_t md, mss, msl;
    double mf;
    int rc;

    if ((rc = aml_get_u8(r, &crit)) < 0 || (rc = aml_get_i64(r, &md)) < 0 ||
        (rc = aml_get_i64(r, &mss)) < 0 || (rc = aml_get_i64(r, &msl)) < 0 ||
        (rc = aml_get_f64(r, &mf)) < 0)
        return rc;
    if (crit > AML_TREE_ENTROPY || md < 0 || mss < 2 || msl < 1 || !(mf > 0 && mf <= 1))
        return aml_error_set(AML_EFORMAT, "decision_tree: corrupt model header");
    t->criterion = crit;
    t->max_depth = md;
    t->min_samples_split = mss;
    t->min_samples_leaf = msl;
    t->max_features = mf;
    return AML_OK;
}

static int tree_load(aml_learner **out, const aml_learner_type *type, aml_task task,
                     aml_reader *r)
{
    aml_learner *l = NULL;
    tree *t;
    int rc;

    *out = NULL;
    if ((rc = tree_create(&l, type, task)) < 0)
        return rc;
    t = (tree *)l;
    if ((rc = tree_load_params(t, r)) < 0 || (rc = aml_tree_load(&t->tr, r, task)) < 0)
        goto fail;
    l->n_features = t->tr.p;
    l->n_classes = task == AML_TASK_CLASSIFICATION ? t->tr.n_out : 0;
    *out = l;
    return AML_OK;

fail:
    tree_free(l);
    return rc;
}

const aml_learner_type aml_learner_decision_tree = {
    .name = "decision_tree",
    .tasks = AML_TASK_BIT(AML_TASK_CLASSIFICATION) | AML_TASK_BIT(AML_TASK_REGRESSION),
    .flags = 0,
    .params = tree_params,
    .create = tree_create,
    .set_param = tree_set_param,
    .fit = tree_fit,
    .predict = tree_predict,
    .emit_c = tree_emit_c,
    .save = tree_save,
    .load = tree_load,
    .free = tree_free,
    .importance = tree_importance,
};
