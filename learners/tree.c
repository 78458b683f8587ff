/*
 * tree.c - CART decision trees for classification and regression.
 *
 * Breiman, Friedman, Olshen and Stone, "Classification and Regression
 * Trees" (1984), grown the way scikit-learn's DecisionTreeClassifier /
 * DecisionTreeRegressor grow them with the best splitter, so that for the
 * same data and settings the two give the same predictions:
 *
 *  - Nodes are grown depth first.  A node becomes a leaf when it reaches
 *    max_depth, holds fewer than min_samples_split rows or fewer than
 *    2 * min_samples_leaf, is pure (impurity <= DBL_EPSILON), or has no
 *    split that leaves min_samples_leaf rows on each side.  Otherwise it
 *    takes the best split even when that split does not lower the
 *    impurity, as scikit-learn does.
 *  - Candidate splits of a feature come from sorting the node's rows by it
 *    (O(n log n) per feature and node); thresholds sit half way between
 *    consecutive values that differ by more than TREE_FEATURE_EPS, and a
 *    row goes left when x <= threshold.
 *  - The best split maximises the same "proxy" scikit-learn compares:
 *    -(W_l * impurity_l + W_r * impurity_r) for gini and entropy, and
 *    S_l^2 / W_l + S_r^2 / W_r (S = weighted sum of y) for squared error.
 *    On exact ties the first candidate wins: the first feature in visiting
 *    order, then the lowest threshold.  scikit-learn visits features in a
 *    random order even when it considers all of them; we visit them in
 *    index order then, and draw them with the fit's rng (Fisher-Yates)
 *    only when max_features < 1, so a full-feature tree never depends on
 *    the rng.  Both choices are right; on tied splits the trees differ.
 *  - Rows with sample weight 0 take no part in the fit (scikit-learn drops
 *    them too); min_samples_* count rows, impurities weigh them.
 *
 * The fitted tree is a set of flat arrays indexed by node: feature (-1 for
 * a leaf), threshold, left, right, and for leaves the row of the leaf value
 * table (class probabilities or the weighted mean).  Children always have
 * larger indices than their parent, which load checks, so a corrupted
 * model file is rejected instead of sending predict into a loop or out of
 * bounds.  Impurity-based feature importances (the normalised total
 * decrease of weighted impurity per feature) are kept after fit; they are
 * not saved and not yet exposed.
 */
#include "learner.h"
#include "aml.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Values closer than this count as equal when placing thresholds (as scikit-learn). */
#define TREE_FEATURE_EPS 1e-7
/* A node whose impurity is at most this is pure. */
#define TREE_PURE_EPS DBL_EPSILON
/* Initial node capacity of a tree; it doubles as needed. */
#define TREE_INITIAL_NODES 64

enum { TREE_GINI = 0, TREE_ENTROPY = 1 };

static const char *const tree_criterion_words[] = {"gini", "entropy", NULL};

static const aml_param_def tree_params[] = {
    {.name = "criterion",
     .kind = AML_VAL_STR,
     .choices = tree_criterion_words,
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

    int n_out; /* values per leaf: n_classes or 1 */
    size_t p;  /* features */
    size_t n_nodes, cap_nodes;
    int32_t *feature; /* split feature, -1 for a leaf */
    double *threshold;
    int32_t *left, *right; /* children, -1 for a leaf */
    int32_t *value;        /* leaf: its row in values; internal: -1 */
    size_t n_leaves, cap_leaves;
    double *values;     /* n_leaves x n_out */
    double *importance; /* p, sums to 1 (all 0 for a single leaf); not saved */
} tree;

/* One row of a node, as sorted by the feature under evaluation. */
typedef struct tree_pair {
    double v;
    size_t row;
} tree_pair;

/* A node waiting to be grown: rows idx[start..end). */
typedef struct tree_job {
    size_t start, end;
    long long depth;
    int32_t parent;
    int is_left;
} tree_job;

typedef struct tree_split {
    int found;
    size_t feature, pos;
    double threshold, proxy;
} tree_split;

/* Everything one fit needs, allocated once up front. */
typedef struct tree_build {
    tree *t;
    const aml_matrix *X;
    const double *y, *w; /* w never NULL here */
    aml_rng *rng;
    size_t m;                /* rows with non-zero weight */
    size_t *idx;             /* m row numbers, partitioned node by node */
    tree_pair *pairs;        /* m */
    size_t *features;        /* p, the visiting order */
    size_t mf;               /* features to visit per node */
    double *tot, *lft, *rgt; /* n_out class weights: node, left, right */
    tree_job *stack;         /* m + 1 */
    size_t top;
} tree_build;

/* ---- life cycle and parameters ------------------------------------------ */

static int tree_create(aml_learner **out, const aml_learner_type *type, aml_task task)
{
    tree *t = aml_calloc(1, sizeof(*t));

    *out = NULL;
    if (!t)
        return AML_ENOMEM;
    t->base.type = type;
    t->base.task = task;
    t->criterion = TREE_GINI;
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

    for (i = 0; v->kind == AML_VAL_STR && tree_criterion_words[i]; i++)
        if (strcmp(tree_criterion_words[i], v->str) == 0) {
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

static void tree_release(tree *t)
{
    free(t->feature);
    free(t->threshold);
    free(t->left);
    free(t->right);
    free(t->value);
    free(t->values);
    free(t->importance);
    t->feature = t->left = t->right = t->value = NULL;
    t->threshold = t->values = t->importance = NULL;
    t->n_nodes = t->cap_nodes = t->n_leaves = t->cap_leaves = 0;
}

static void tree_free(aml_learner *l)
{
    tree *t = (tree *)l;

    if (!t)
        return;
    tree_release(t);
    free(t);
}

/* ---- growing the node arrays -------------------------------------------- */

static int tree_grow_i32(int32_t **a, size_t cap)
{
    int32_t *p = aml_reallocarray(*a, cap, sizeof(int32_t));

    if (!p)
        return AML_ENOMEM;
    *a = p;
    return AML_OK;
}

/* Makes room for at least `need` nodes. */
static int tree_reserve_nodes(tree *t, size_t need)
{
    size_t cap = t->cap_nodes ? t->cap_nodes : TREE_INITIAL_NODES;
    double *thr;

    if (need <= t->cap_nodes)
        return AML_OK;
    while (cap < need)
        cap *= 2;
    if (tree_grow_i32(&t->feature, cap) < 0 || tree_grow_i32(&t->left, cap) < 0 ||
        tree_grow_i32(&t->right, cap) < 0 || tree_grow_i32(&t->value, cap) < 0)
        return AML_ENOMEM;
    if (!(thr = aml_reallocarray(t->threshold, cap, sizeof(double))))
        return AML_ENOMEM;
    t->threshold = thr;
    t->cap_nodes = cap;
    return AML_OK;
}

/* Makes room for at least `need` leaf value rows. */
static int tree_reserve_leaves(tree *t, size_t need)
{
    size_t cap = t->cap_leaves ? t->cap_leaves : TREE_INITIAL_NODES;
    double *v;

    if (need <= t->cap_leaves)
        return AML_OK;
    while (cap < need)
        cap *= 2;
    if (!(v = aml_reallocarray(t->values, cap, (size_t)t->n_out * sizeof(double))))
        return AML_ENOMEM;
    t->values = v;
    t->cap_leaves = cap;
    return AML_OK;
}

/* ---- impurity ----------------------------------------------------------- */

/* Gini or entropy (in bits) of class weights cnt[0..C) summing to W > 0. */
static double tree_class_impurity(int criterion, const double *cnt, int C, double W)
{
    double s = 0;
    int c;

    if (criterion == TREE_GINI) {
        for (c = 0; c < C; c++)
            s += cnt[c] * cnt[c];
        return 1.0 - s / (W * W);
    }
    for (c = 0; c < C; c++)
        if (cnt[c] > 0) {
            double f = cnt[c] / W;

            s -= f * (log(f) / log(2.0));
        }
    return s;
}

/*
 * Adds up the node's weights into b->tot (class weights, or the weighted sum
 * of y for regression), and returns the total weight.
 */
static double tree_node_totals(tree_build *b, size_t start, size_t end)
{
    double W = 0;
    size_t i;
    int c;

    for (c = 0; c < b->t->n_out; c++)
        b->tot[c] = 0;
    for (i = start; i < end; i++) {
        size_t r = b->idx[i];

        if (b->t->base.task == AML_TASK_CLASSIFICATION)
            b->tot[(size_t)b->y[r]] += b->w[r];
        else
            b->tot[0] += b->w[r] * b->y[r];
        W += b->w[r];
    }
    return W;
}

/* Weighted variance of y over the node, two-pass for accuracy. */
static double tree_node_variance(const tree_build *b, size_t start, size_t end, double W)
{
    double mean = b->tot[0] / W, s = 0;
    size_t i;

    for (i = start; i < end; i++) {
        size_t r = b->idx[i];

        s += b->w[r] * (b->y[r] - mean) * (b->y[r] - mean);
    }
    return s / W;
}

/* ---- split search ------------------------------------------------------- */

static int tree_pair_cmp(const void *pa, const void *pb)
{
    const tree_pair *a = pa, *b = pb;

    if (a->v != b->v)
        return a->v < b->v ? -1 : 1;
    return (a->row > b->row) - (a->row < b->row);
}

/* The proxy of a split whose left side holds b->lft (weight Wl) of b->tot (W). */
static double tree_proxy(tree_build *b, double Wl, double W)
{
    double Wr = W - Wl;
    int c, C = b->t->n_out;

    if (b->t->base.task == AML_TASK_REGRESSION) {
        double sr = b->tot[0] - b->lft[0];

        return b->lft[0] * b->lft[0] / Wl + sr * sr / Wr;
    }
    for (c = 0; c < C; c++)
        b->rgt[c] = b->tot[c] - b->lft[c];
    return -Wr * tree_class_impurity(b->t->criterion, b->rgt, C, Wr) -
           Wl * tree_class_impurity(b->t->criterion, b->lft, C, Wl);
}

/* Sorts the node's rows by feature f into b->pairs[0..n). */
static void tree_sort_feature(tree_build *b, size_t f, size_t start, size_t n)
{
    size_t i, p = b->t->p;

    for (i = 0; i < n; i++) {
        size_t r = b->idx[start + i];

        b->pairs[i].v = b->X->data[r * p + f];
        b->pairs[i].row = r;
    }
    qsort(b->pairs, n, sizeof(tree_pair), tree_pair_cmp);
}

/* Moves row r from the right side to the left one. */
static void tree_move_left(tree_build *b, size_t r)
{
    if (b->t->base.task == AML_TASK_CLASSIFICATION)
        b->lft[(size_t)b->y[r]] += b->w[r];
    else
        b->lft[0] += b->w[r] * b->y[r];
}

static void tree_take_split(tree_split *best, size_t f, size_t pos, double proxy,
                            const tree_pair *pairs)
{
    double a = pairs[pos - 1].v, c = pairs[pos].v;
    double thr = a / 2.0 + c / 2.0;

    /* Rounding can land the midpoint on the upper value; fall back to the lower. */
    if (thr == c || isinf(thr))
        thr = a;
    best->found = 1;
    best->feature = f;
    best->pos = pos;
    best->threshold = thr;
    best->proxy = proxy;
}

/*
 * Scans every threshold of feature f over the node idx[start..start+n) of
 * total weight W and updates *best.  Returns 0 when the feature is constant
 * on the node, 1 otherwise.
 */
static int tree_eval_feature(tree_build *b, size_t f, size_t start, size_t n, double W,
                             tree_split *best)
{
    size_t pos, msl = (size_t)b->t->min_samples_leaf;
    double Wl = 0;
    int c;

    tree_sort_feature(b, f, start, n);
    if (b->pairs[n - 1].v <= b->pairs[0].v + TREE_FEATURE_EPS)
        return 0;
    for (c = 0; c < b->t->n_out; c++)
        b->lft[c] = 0;
    for (pos = 1; pos < n; pos++) {
        double proxy;

        tree_move_left(b, b->pairs[pos - 1].row);
        Wl += b->w[b->pairs[pos - 1].row];
        if (b->pairs[pos].v <= b->pairs[pos - 1].v + TREE_FEATURE_EPS)
            continue;
        if (pos < msl || n - pos < msl)
            continue;
        proxy = tree_proxy(b, Wl, W);
        if (!best->found || proxy > best->proxy)
            tree_take_split(best, f, pos, proxy, b->pairs);
    }
    return 1;
}

/*
 * Finds the best split of the node idx[start..end) (totals in b->tot).
 * Visits the features in index order, or in an order drawn with the rng
 * when only b->mf of them are wanted; stops once b->mf were visited and one
 * of them was not constant.
 */
static void tree_find_split(tree_build *b, size_t start, size_t end, double W,
                            tree_split *best)
{
    size_t j, p = b->t->p, visited = 0, varying = 0;

    memset(best, 0, sizeof(*best));
    for (j = 0; j < p && (visited < b->mf || varying == 0); j++) {
        if (b->mf < p) {
            size_t k = j + (size_t)aml_rng_below(b->rng, p - j);
            size_t tmp = b->features[j];

            b->features[j] = b->features[k];
            b->features[k] = tmp;
        }
        visited++;
        varying +=
            (size_t)tree_eval_feature(b, b->features[j], start, end - start, W, best);
    }
}

/* ---- growing ------------------------------------------------------------ */

/* Appends a node (a leaf until tree_make_split says otherwise); returns its index. */
static int tree_add_node(tree *t, const tree_job *job, int32_t *out)
{
    int32_t id = (int32_t)t->n_nodes;

    if (tree_reserve_nodes(t, t->n_nodes + 1) < 0)
        return AML_ENOMEM;
    t->feature[id] = -1;
    t->threshold[id] = 0;
    t->left[id] = t->right[id] = t->value[id] = -1;
    if (job->parent >= 0) {
        if (job->is_left)
            t->left[job->parent] = id;
        else
            t->right[job->parent] = id;
    }
    t->n_nodes++;
    *out = id;
    return AML_OK;
}

/* Stores the node's value: class fractions or the weighted mean. */
static int tree_make_leaf(tree_build *b, int32_t node, double W)
{
    tree *t = b->t;
    double *v;
    int c;

    if (tree_reserve_leaves(t, t->n_leaves + 1) < 0)
        return AML_ENOMEM;
    v = t->values + t->n_leaves * (size_t)t->n_out;
    for (c = 0; c < t->n_out; c++)
        v[c] = b->tot[c] / W;
    t->value[node] = (int32_t)t->n_leaves++;
    return AML_OK;
}

/* Partitions idx[start..end) by the split; returns where the right side starts. */
static size_t tree_partition(tree_build *b, size_t start, size_t end, const tree_split *s)
{
    size_t i = start, stop = end, p = b->t->p;

    while (i < stop) {
        size_t r = b->idx[i];

        if (b->X->data[r * p + s->feature] <= s->threshold) {
            i++;
        } else {
            b->idx[i] = b->idx[--stop];
            b->idx[stop] = r;
        }
    }
    assert(i - start == s->pos);
    return i;
}

static int tree_is_leaf(const tree *t, const tree_job *job, double impurity)
{
    size_t n = job->end - job->start;

    return (t->max_depth > 0 && job->depth >= t->max_depth) ||
           n < (size_t)t->min_samples_split || n < 2 * (size_t)t->min_samples_leaf ||
           impurity <= TREE_PURE_EPS;
}

/* Grows one node: a leaf, or a split whose children go on the stack. */
static int tree_grow_node(tree_build *b, const tree_job *job)
{
    tree *t = b->t;
    tree_split s = {0};
    double W, impurity;
    int32_t node;
    size_t mid;

    if (tree_add_node(t, job, &node) < 0)
        return AML_ENOMEM;
    W = tree_node_totals(b, job->start, job->end);
    impurity = t->base.task == AML_TASK_CLASSIFICATION
                   ? tree_class_impurity(t->criterion, b->tot, t->n_out, W)
                   : tree_node_variance(b, job->start, job->end, W);
    if (job->parent >= 0)
        t->importance[t->feature[job->parent]] -= W * impurity;
    if (!tree_is_leaf(t, job, impurity))
        tree_find_split(b, job->start, job->end, W, &s);
    if (!s.found)
        return tree_make_leaf(b, node, W);

    t->feature[node] = (int32_t)s.feature;
    t->threshold[node] = s.threshold;
    t->importance[s.feature] += W * impurity;
    mid = tree_partition(b, job->start, job->end, &s);
    b->stack[b->top++] = (tree_job){mid, job->end, job->depth + 1, node, 0};
    b->stack[b->top++] = (tree_job){job->start, mid, job->depth + 1, node, 1};
    return AML_OK;
}

static void tree_normalise_importance(tree *t)
{
    double s = 0;
    size_t j;

    for (j = 0; j < t->p; j++)
        s += t->importance[j];
    for (j = 0; j < t->p && s > 0; j++)
        t->importance[j] /= s;
}

/* ---- fit ---------------------------------------------------------------- */

static void tree_build_dispose(tree_build *b)
{
    free(b->idx);
    free(b->pairs);
    free(b->features);
    free(b->tot);
    free(b->lft);
    free(b->rgt);
    free(b->stack);
}

static int tree_build_init(tree_build *b, tree *t, const aml_matrix *X, const double *w)
{
    size_t i, n = X->rows, C = (size_t)t->n_out;

    b->t = t;
    b->X = X;
    b->idx = aml_mallocarray(n, sizeof(size_t));
    b->pairs = aml_mallocarray(n, sizeof(tree_pair));
    b->features = aml_mallocarray(t->p ? t->p : 1, sizeof(size_t));
    b->tot = aml_mallocarray(C, sizeof(double));
    b->lft = aml_mallocarray(C, sizeof(double));
    b->rgt = aml_mallocarray(C, sizeof(double));
    b->stack = aml_mallocarray(n + 1, sizeof(tree_job));
    t->importance = aml_calloc(t->p ? t->p : 1, sizeof(double));
    if (!b->idx || !b->pairs || !b->features || !b->tot || !b->lft || !b->rgt ||
        !b->stack || !t->importance)
        return AML_ENOMEM;
    for (i = 0; i < n; i++)
        if (w[i] != 0)
            b->idx[b->m++] = i;
    for (i = 0; i < t->p; i++)
        b->features[i] = i;
    b->mf = (size_t)(t->max_features * (double)t->p);
    if (b->mf < 1)
        b->mf = 1;
    return AML_OK;
}

/* Checks labels and weights; needs at least one row of positive weight. */
static int tree_check_targets(const tree *t, const aml_matrix *X, const double *y,
                              const double *w)
{
    size_t i, positive = 0;

    for (i = 0; i < X->rows; i++) {
        if (t->base.task == AML_TASK_CLASSIFICATION &&
            !(y[i] >= 0 && y[i] < t->n_out && y[i] == floor(y[i])))
            return aml_error_set(AML_EINVAL,
                                 "decision_tree: row %zu has label %g, not a"
                                 " class index below %d",
                                 i, y[i], t->n_out);
        if (t->base.task == AML_TASK_REGRESSION && !isfinite(y[i]))
            return aml_error_set(AML_EINVAL, "decision_tree: row %zu has target %g", i,
                                 y[i]);
        if (!(w[i] >= 0 && isfinite(w[i])))
            return aml_error_set(AML_EINVAL, "decision_tree: row %zu has weight %g", i,
                                 w[i]);
        positive += w[i] > 0;
    }
    if (positive == 0)
        return aml_error_set(AML_EINVAL, "decision_tree: every sample weight is 0");
    return AML_OK;
}

static int tree_fit_rows(tree *t, const aml_matrix *X, const double *y, const double *w,
                         aml_rng *rng)
{
    tree_build b = {0};
    int rc;

    if ((rc = tree_check_targets(t, X, y, w)) < 0)
        return rc;
    if ((rc = tree_build_init(&b, t, X, w)) < 0)
        goto out;
    b.y = y;
    b.w = w;
    b.rng = rng;
    b.stack[b.top++] = (tree_job){0, b.m, 0, -1, 0};
    while (b.top > 0) {
        tree_job job = b.stack[--b.top];

        if ((rc = tree_grow_node(&b, &job)) < 0)
            goto out;
    }
    tree_normalise_importance(t);
out:
    tree_build_dispose(&b);
    return rc;
}

static int tree_fit(aml_learner *l, const aml_matrix *X, const double *y, const double *w,
                    int n_classes, aml_rng *rng, int threads)
{
    tree *t = (tree *)l;
    double *ones = NULL;
    size_t i;
    int rc;

    tree_release(t);
    t->n_out = l->task == AML_TASK_CLASSIFICATION ? n_classes : 1;
    t->p = X->cols;
    /* Node indices are int32 and a tree has fewer than 2n nodes. */
    if (X->rows > INT32_MAX / 2 || X->cols > INT32_MAX)
        return aml_error_set(AML_EINVAL, "decision_tree: %zu x %zu is too large", X->rows,
                             X->cols);
    if (!w) {
        if (!(ones = aml_mallocarray(X->rows, sizeof(double))))
            return AML_ENOMEM;
        for (i = 0; i < X->rows; i++)
            ones[i] = 1.0;
    }
    rc = tree_fit_rows(t, X, y, w ? w : ones, rng);
    free(ones);
    if (rc < 0) {
        tree_release(t);
        return rc;
    }
    l->n_features = t->p;
    l->n_classes = l->task == AML_TASK_CLASSIFICATION ? n_classes : 0;
    return AML_OK;
}

/* ---- predict ------------------------------------------------------------ */

static int tree_check_state(const tree *t)
{
    if (t->n_nodes == 0)
        return aml_error_set(AML_EINVAL, "decision_tree: predict before fit");
    /* The generic header and our own state disagree only in a corrupt model. */
    if (t->base.n_features != t->p ||
        (t->base.task == AML_TASK_CLASSIFICATION && t->base.n_classes != t->n_out))
        return aml_error_set(AML_EFORMAT,
                             "decision_tree: model shape does not match its header");
    return AML_OK;
}

static int tree_predict(const aml_learner *l, const aml_matrix *X, double *out)
{
    const tree *t = (const tree *)l;
    size_t i, C = (size_t)t->n_out;
    int rc;

    if ((rc = tree_check_state(t)) < 0)
        return rc;
    if (X->cols != t->p)
        return aml_error_set(AML_EINVAL, "decision_tree: fitted on %zu features, got %zu",
                             t->p, X->cols);
    for (i = 0; i < X->rows; i++) {
        const double *x = X->data + i * t->p;
        int32_t node = 0;

        while (t->feature[node] >= 0)
            node = x[t->feature[node]] <= t->threshold[node] ? t->left[node]
                                                             : t->right[node];
        memcpy(out + i * C, t->values + (size_t)t->value[node] * C, C * sizeof(double));
    }
    return AML_OK;
}

/* ---- save / load -------------------------------------------------------- */

static int tree_save(const aml_learner *l, aml_writer *w)
{
    const tree *t = (const tree *)l;

    if (t->n_nodes == 0)
        return aml_error_set(AML_EINVAL, "decision_tree: cannot save an unfitted model");
    aml_put_u8(w, (uint8_t)t->criterion);
    aml_put_i64(w, t->max_depth);
    aml_put_i64(w, t->min_samples_split);
    aml_put_i64(w, t->min_samples_leaf);
    aml_put_f64(w, t->max_features);
    aml_put_u32(w, (uint32_t)t->n_out);
    aml_put_u64(w, (uint64_t)t->p);
    aml_put_u32(w, (uint32_t)t->n_nodes);
    aml_put_u32(w, (uint32_t)t->n_leaves);
    aml_put_i32s(w, t->feature, t->n_nodes);
    aml_put_f64s(w, t->threshold, t->n_nodes);
    aml_put_i32s(w, t->left, t->n_nodes);
    aml_put_i32s(w, t->right, t->n_nodes);
    aml_put_i32s(w, t->value, t->n_nodes);
    aml_put_f64s(w, t->values, t->n_leaves * (size_t)t->n_out);
    return w->failed ? AML_ENOMEM : AML_OK;
}

/* Reads the parameters and sizes of a saved tree and checks their ranges. */
static int tree_load_header(tree *t, aml_reader *r, uint32_t *n_nodes, uint32_t *n_leaves)
{
    uint8_t crit;
    int64_t md, mss, msl;
    uint32_t n_out;
    uint64_t p;
    double mf;
    int rc;

    if ((rc = aml_get_u8(r, &crit)) < 0 || (rc = aml_get_i64(r, &md)) < 0 ||
        (rc = aml_get_i64(r, &mss)) < 0 || (rc = aml_get_i64(r, &msl)) < 0 ||
        (rc = aml_get_f64(r, &mf)) < 0 || (rc = aml_get_u32(r, &n_out)) < 0 ||
        (rc = aml_get_u64(r, &p)) < 0 || (rc = aml_get_u32(r, n_nodes)) < 0 ||
        (rc = aml_get_u32(r, n_leaves)) < 0)
        return rc;
    if (crit > TREE_ENTROPY || md < 0 || mss < 2 || msl < 1 || !(mf > 0 && mf <= 1) ||
        n_out < 1 || n_out > 1u << 20 ||
        (t->base.task == AML_TASK_REGRESSION && n_out != 1) || p > INT32_MAX ||
        *n_nodes < 1 || *n_nodes > INT32_MAX || *n_leaves < 1 || *n_leaves > *n_nodes)
        return aml_error_set(AML_EFORMAT, "decision_tree: corrupt model header");
    t->criterion = crit;
    t->max_depth = md;
    t->min_samples_split = mss;
    t->min_samples_leaf = msl;
    t->max_features = mf;
    t->n_out = (int)n_out;
    t->p = (size_t)p;
    return AML_OK;
}

/* One node's fields are consistent: a leaf with a value, or a split with later children.
 */
static int tree_node_ok(const tree *t, size_t i)
{
    int32_t f = t->feature[i], lc = t->left[i], rc = t->right[i], v = t->value[i];

    if (f < 0)
        return f == -1 && lc == -1 && rc == -1 && v >= 0 && (size_t)v < t->n_leaves;
    return (size_t)f < t->p && !isnan(t->threshold[i]) && v == -1 && lc != rc &&
           lc > (int32_t)i && rc > (int32_t)i && (size_t)lc < t->n_nodes &&
           (size_t)rc < t->n_nodes;
}

/*
 * Checks the loaded arrays form a tree: every node consistent, and every
 * node but the root the child of exactly one node.  Children after their
 * parent rule out cycles, so predict always reaches a leaf.
 */
static int tree_validate(const tree *t)
{
    unsigned char *seen = aml_calloc(t->n_nodes, 1);
    size_t i;
    int rc = AML_OK;

    if (!seen)
        return AML_ENOMEM;
    for (i = 0; i < t->n_nodes && rc == AML_OK; i++) {
        if (!tree_node_ok(t, i))
            rc = AML_EFORMAT;
        else if (t->feature[i] >= 0 && (seen[t->left[i]]++ || seen[t->right[i]]++))
            rc = AML_EFORMAT;
    }
    for (i = 1; i < t->n_nodes && rc == AML_OK; i++)
        if (!seen[i])
            rc = AML_EFORMAT;
    free(seen);
    if (rc == AML_EFORMAT)
        return aml_error_set(rc, "decision_tree: corrupt node %zu in model", i - 1);
    return rc;
}

static int tree_load_arrays(tree *t, aml_reader *r)
{
    size_t n = t->n_nodes, nv = t->n_leaves * (size_t)t->n_out;
    int rc;

    if ((rc = aml_reader_need(r, n, 4 * sizeof(int32_t) + sizeof(double))) < 0 ||
        (rc = tree_reserve_nodes(t, n)) < 0 || (rc = aml_reader_need(r, nv, 8)) < 0 ||
        (rc = tree_reserve_leaves(t, t->n_leaves)) < 0)
        return rc;
    if ((rc = aml_get_i32s(r, t->feature, n)) < 0 ||
        (rc = aml_get_f64s(r, t->threshold, n)) < 0 ||
        (rc = aml_get_i32s(r, t->left, n)) < 0 ||
        (rc = aml_get_i32s(r, t->right, n)) < 0 ||
        (rc = aml_get_i32s(r, t->value, n)) < 0 ||
        (rc = aml_get_f64s(r, t->values, nv)) < 0)
        return rc;
    return tree_validate(t);
}

static int tree_load(aml_learner **out, const aml_learner_type *type, aml_task task,
                     aml_reader *r)
{
    aml_learner *l = NULL;
    tree *t;
    uint32_t n_nodes, n_leaves;
    int rc;

    *out = NULL;
    if ((rc = tree_create(&l, type, task)) < 0)
        return rc;
    t = (tree *)l;
    if ((rc = tree_load_header(t, r, &n_nodes, &n_leaves)) < 0)
        goto fail;
    t->n_nodes = n_nodes;
    t->n_leaves = n_leaves;
    if ((rc = tree_load_arrays(t, r)) < 0)
        goto fail;
    l->n_features = t->p;
    l->n_classes = task == AML_TASK_CLASSIFICATION ? t->n_out : 0;
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
    .save = tree_save,
    .load = tree_load,
    .free = tree_free,
};
