/*
 * forest.c - random_forest and extra_trees, for classification and
 * regression.
 *
 * Random forests: Breiman, "Random Forests", Machine Learning 45 (2001):
 * each tree is grown on a bootstrap sample of the rows, trying
 * max_features features drawn at random at every node.  Extra trees:
 * Geurts, Ernst and Wehenkel, "Extremely randomized trees", Machine
 * Learning 63 (2006): no bootstrap by default, and each candidate feature
 * gets one threshold drawn uniformly between its minimum and maximum on the
 * node.  Both follow scikit-learn's RandomForest* and ExtraTrees*
 * estimators (parameters, defaults, probabilities averaged over trees,
 * out-of-bag score, importances as the mean of the trees' normalised
 * importances over trees that split at all), but draw their random numbers
 * with our own generator, so the trees are not scikit-learn's.
 *
 * Design.  The data are ranked once (aml_tree_data) and shared by all
 * trees; trees are grown in parallel with OpenMP, each thread with its own
 * scratch memory (aml_tree_work).  Tree t draws everything (its bootstrap
 * sample first, then features and thresholds) from aml_rng_child(fit rng,
 * t), and everything summed over trees is summed after the parallel loop
 * in tree order, so a fit gives bit-identical models for any thread count.
 * A bootstrap sample is its draw counts used as row weights (times the
 * sample weights), as in scikit-learn.
 *
 * The out-of-bag score (oob_score: true, with bootstrap) is kept in the
 * model; no interface slot reports it yet, so only tests read it through
 * aml_forest_oob_score (tree_internal.h).
 */
#include "aml.h"
#include "learner.h"
#include "tree_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* Saved trees larger than this count are taken for corruption. */
#define FOREST_MAX_TREES 100000

enum {
    FOREST_MF_FRACTION = 0,
    FOREST_MF_SQRT = 1,
    FOREST_MF_LOG2 = 2,
    FOREST_MF_TASK = 3
};

static const char *const forest_bool_words[] = {"true", "false", NULL};
static const char *const forest_mf_words[] = {"sqrt", "log2", NULL};

#define FOREST_PARAMS(boot)                                                              \
    {.name = "n_estimators",                                                             \
     .kind = AML_VAL_INT,                                                                \
     .lo = 1,                                                                            \
     .hi = FOREST_MAX_TREES,                                                             \
     .def = {.kind = AML_VAL_INT, .i = 100},                                             \
     .search_lo = 10,                                                                    \
     .search_hi = 500,                                                                   \
     .search_log = 1,                                                                    \
     .doc = "number of trees"},                                                          \
        {.name = "max_features",                                                         \
         .kind = AML_VAL_REAL,                                                           \
         .lo = 0,                                                                        \
         .hi = 1,                                                                        \
         .lo_open = 1,                                                                   \
         .choices = forest_mf_words,                                                     \
         .def = {.kind = AML_VAL_STR, .str = "sqrt"},                                    \
         .search_lo = 0.1,                                                               \
         .search_hi = 1.0,                                                               \
         .doc = "features tried at each split: a fraction in (0, 1], sqrt or log2 "      \
                "(default sqrt for classification, 1.0 for regression)"},                \
        {.name = "max_depth",                                                            \
         .kind = AML_VAL_INT,                                                            \
         .lo = 0,                                                                        \
         .hi = INFINITY,                                                                 \
         .def = {.kind = AML_VAL_INT, .i = 0},                                           \
         .search_lo = 2,                                                                 \
         .search_hi = 30,                                                                \
         .doc = "maximum depth of each tree, 0 for unlimited"},                          \
        {.name = "min_samples_split",                                                    \
         .kind = AML_VAL_INT,                                                            \
         .lo = 2,                                                                        \
         .hi = INFINITY,                                                                 \
         .def = {.kind = AML_VAL_INT, .i = 2},                                           \
         .search_lo = 2,                                                                 \
         .search_hi = 20,                                                                \
         .doc = "fewest rows a node needs to be split"},                                 \
        {.name = "min_samples_leaf",                                                     \
         .kind = AML_VAL_INT,                                                            \
         .lo = 1,                                                                        \
         .hi = INFINITY,                                                                 \
         .def = {.kind = AML_VAL_INT, .i = 1},                                           \
         .search_lo = 1,                                                                 \
         .search_hi = 20,                                                                \
         .doc = "fewest rows on each side of a split"},                                  \
        {.name = "bootstrap",                                                            \
         .kind = AML_VAL_STR,                                                            \
         .choices = forest_bool_words,                                                   \
         .def = {.kind = AML_VAL_STR, .str = boot},                                      \
         .doc = "grow each tree on a bootstrap sample of the rows: true or false"},      \
        {.name = "oob_score",                                                            \
         .no_search = 1,                                                                 \
         .kind = AML_VAL_STR,                                                            \
         .choices = forest_bool_words,                                                   \
         .def = {.kind = AML_VAL_STR, .str = "false"},                                   \
         .doc = "compute the out-of-bag score after fit (needs bootstrap): true or "     \
                "false"},                                                                \
        {.name = "criterion",                                                            \
         .tasks = AML_TASK_BIT(AML_TASK_CLASSIFICATION),                                 \
         .kind = AML_VAL_STR,                                                            \
         .choices = aml_tree_criterion_words,                                            \
         .def = {.kind = AML_VAL_STR, .str = "gini"},                                    \
         .doc = "split impurity for classification: gini or entropy (regression "        \
                "always uses squared error)"},                                           \
    {                                                                                    \
        .name = NULL                                                                     \
    }

static const aml_param_def rf_params[] = {FOREST_PARAMS("true")};
static const aml_param_def et_params[] = {FOREST_PARAMS("false")};

typedef struct forest {
    aml_learner base;
    int extra; /* extra_trees */
    long long n_estimators, max_depth, min_samples_split, min_samples_leaf;
    double max_features; /* when mf_kind is FOREST_MF_FRACTION */
    int mf_kind, criterion, bootstrap, oob_score;

    int n_out;
    size_t p, n_trees;
    aml_tree *trees;
    double *importance; /* p */
    double oob;         /* NaN unless computed */
    aml_rng fit_rng;    /* the fit's generator as it was, for aml_forest_inbag */
    int have_fit_rng;
    int threads; /* predict uses the fit's threads (1 after load) */
} forest;

static const char *forest_name(const forest *f)
{
    return f->extra ? "extra_trees" : "random_forest";
}

/* ---- life cycle and parameters ------------------------------------------ */

static int forest_create(aml_learner **out, const aml_learner_type *type, aml_task task)
{
    forest *f = aml_calloc(1, sizeof(*f));

    *out = NULL;
    if (!f)
        return AML_ENOMEM;
    f->base.type = type;
    f->base.task = task;
    f->extra = strcmp(type->name, "extra_trees") == 0;
    f->n_estimators = 100;
    f->min_samples_split = 2;
    f->min_samples_leaf = 1;
    f->max_features = 1.0;
    f->mf_kind = FOREST_MF_TASK;
    f->criterion = AML_TREE_GINI;
    f->bootstrap = !f->extra;
    f->oob = NAN;
    f->threads = 1;
    *out = &f->base;
    return AML_OK;
}

/* Index of word v in words, or -1. */
static int forest_word(const char *const *words, const aml_value *v)
{
    int i;

    for (i = 0; v->kind == AML_VAL_STR && words[i]; i++)
        if (strcmp(words[i], v->str) == 0)
            return i;
    return -1;
}

static int forest_set_max_features(forest *f, const aml_value *v)
{
    int w = forest_word(forest_mf_words, v);

    if (w >= 0) {
        f->mf_kind = w == 0 ? FOREST_MF_SQRT : FOREST_MF_LOG2;
        return AML_OK;
    }
    if (v->kind != AML_VAL_REAL || !(v->real > 0 && v->real <= 1))
        return aml_error_set(AML_EINVAL, "%s: bad value for 'max_features'",
                             forest_name(f));
    f->mf_kind = FOREST_MF_FRACTION;
    f->max_features = v->real;
    return AML_OK;
}

static int forest_set_word(forest *f, const char *name, const aml_value *v)
{
    int crit = forest_word(aml_tree_criterion_words, v);
    int b = forest_word(forest_bool_words, v);

    if (strcmp(name, "criterion") == 0 && crit >= 0)
        f->criterion = crit;
    else if (strcmp(name, "bootstrap") == 0 && b >= 0)
        f->bootstrap = b == 0;
    else if (strcmp(name, "oob_score") == 0 && b >= 0)
        f->oob_score = b == 0;
    else
        return aml_error_set(AML_EINVAL, "%s: bad value for '%s'", forest_name(f), name);
    return AML_OK;
}

static int forest_set_param(aml_learner *l, const char *name, const aml_value *v)
{
    forest *f = (forest *)l;
    long long i = v->kind == AML_VAL_INT ? v->i : -1;

    if (strcmp(name, "max_features") == 0)
        return forest_set_max_features(f, v);
    if (v->kind == AML_VAL_STR)
        return forest_set_word(f, name, v);
    if (strcmp(name, "n_estimators") == 0 && i >= 1 && i <= FOREST_MAX_TREES)
        f->n_estimators = i;
    else if (strcmp(name, "max_depth") == 0 && i >= 0)
        f->max_depth = i;
    else if (strcmp(name, "min_samples_split") == 0 && i >= 2)
        f->min_samples_split = i;
    else if (strcmp(name, "min_samples_leaf") == 0 && i >= 1)
        f->min_samples_leaf = i;
    else
        return aml_error_set(AML_EINVAL, "%s: bad value for '%s'", forest_name(f), name);
    return AML_OK;
}

static void forest_release(forest *f)
{
    size_t t;

    for (t = 0; t < f->n_trees; t++)
        aml_tree_dispose(&f->trees[t]);
    free(f->trees);
    free(f->importance);
    f->trees = NULL;
    f->importance = NULL;
    f->n_trees = 0;
    f->oob = NAN;
    f->have_fit_rng = 0;
}

static void forest_free(aml_learner *l)
{
    forest *f = (forest *)l;

    if (!f)
        return;
    forest_release(f);
    free(f);
}

/* ---- fit ---------------------------------------------------------------- */

/* Features tried per node, as scikit-learn counts them. */
static size_t forest_mf_count(const forest *f, size_t p)
{
    int kind = f->mf_kind;
    double m;

    if (kind == FOREST_MF_TASK)
        kind =
            f->base.task == AML_TASK_CLASSIFICATION ? FOREST_MF_SQRT : FOREST_MF_FRACTION;
    if (kind == FOREST_MF_SQRT)
        m = sqrt((double)p);
    else if (kind == FOREST_MF_LOG2)
        m = log2((double)p);
    else
        m = (f->mf_kind == FOREST_MF_TASK ? 1.0 : f->max_features) * (double)p;
    return m < 1 ? 1 : (size_t)m;
}

static void forest_options(const forest *f, size_t p, aml_tree_opts *o)
{
    *o = (aml_tree_opts){.task = f->base.task,
                         .n_out = f->n_out,
                         .criterion = f->criterion,
                         .max_depth = f->max_depth,
                         .min_samples_split = f->min_samples_split,
                         .min_samples_leaf = f->min_samples_leaf,
                         .max_features = forest_mf_count(f, p),
                         .random_splits = f->extra};
}

/*
 * Draws tree t's bootstrap counts (n draws with replacement) from its own
 * generator, which it leaves ready for growing the tree.
 */
static void forest_draw(aml_rng *tree_rng, unsigned *counts, size_t n)
{
    size_t i;

    memset(counts, 0, n * sizeof(unsigned));
    for (i = 0; i < n; i++)
        counts[aml_rng_below(tree_rng, n)]++;
}

/* Per-thread state of the parallel loop. */
typedef struct forest_worker {
    aml_tree_work *ws;
    double *wt;       /* n row weights of the current tree */
    unsigned *counts; /* n bootstrap counts */
} forest_worker;

static void forest_worker_dispose(forest_worker *k)
{
    aml_tree_work_free(k->ws);
    free(k->wt);
    free(k->counts);
}

static int forest_worker_init(forest_worker *k, const aml_tree_data *d)
{
    memset(k, 0, sizeof(*k));
    k->wt = aml_mallocarray(d->n + 1, sizeof(double));
    k->counts = aml_mallocarray(d->n + 1, sizeof(unsigned));
    if (!k->wt || !k->counts)
        return AML_ENOMEM;
    return aml_tree_work_new(&k->ws, d);
}

/* Row weights of tree t: sample weights times bootstrap counts. */
static void forest_tree_weights(const forest *f, forest_worker *k, aml_rng *trng,
                                const double *w, size_t n)
{
    size_t i, positive = 0;

    while (positive == 0) {
        if (f->bootstrap)
            forest_draw(trng, k->counts, n);
        for (i = 0; i < n; i++) {
            double c = f->bootstrap ? (double)k->counts[i] : 1.0;

            k->wt[i] = (w ? w[i] : 1.0) * c;
            positive += k->wt[i] > 0;
        }
        /* Without bootstrap the sample weights have a positive one (checked). */
    }
}

/* Grows every tree, in parallel; returns the first failure. */
static int forest_grow_all(forest *f, const aml_tree_data *d, const double *w,
                           const aml_rng *rng, int threads)
{
    aml_tree_opts o;
    int rc = AML_OK;
    long long t;

    forest_options(f, d->p, &o);
#pragma omp parallel num_threads(threads) reduction(min : rc)
    {
        forest_worker k;
        int mine = forest_worker_init(&k, d);

#pragma omp for schedule(dynamic, 1)
        for (t = 0; t < f->n_estimators; t++) {
            aml_rng trng;

            if (mine < 0)
                continue;
            aml_rng_child(&trng, rng, (uint64_t)t);
            forest_tree_weights(f, &k, &trng, w, d->n);
            mine = aml_tree_grow(&f->trees[t], d, k.wt, &o, &trng, k.ws);
        }
        forest_worker_dispose(&k);
        rc = mine < rc ? mine : rc;
    }
    if (rc < 0)
        return aml_error_set(rc, "%s: out of memory growing the trees", forest_name(f));
    return AML_OK;
}

/* Mean of the normalised importances of the trees that split, normalised again. */
static void forest_importance(forest *f)
{
    size_t t, j, used = 0;
    double s = 0;

    memset(f->importance, 0, f->p * sizeof(double));
    for (t = 0; t < f->n_trees; t++) {
        if (f->trees[t].n_nodes <= 1)
            continue;
        used++;
        for (j = 0; j < f->p; j++)
            f->importance[j] += f->trees[t].importance[j];
    }
    for (j = 0; j < f->p && used > 0; j++)
        f->importance[j] /= (double)used;
    for (j = 0; j < f->p; j++)
        s += f->importance[j];
    for (j = 0; j < f->p && s > 0; j++)
        f->importance[j] /= s;
}

/*
 * The out-of-bag score as scikit-learn computes it: each row's prediction
 * is the mean over the trees whose sample left it out (zeros when none
 * did); accuracy of the most probable class, or R^2.
 */
static int forest_oob(forest *f, const aml_matrix *X, const double *y)
{
    size_t n = X->rows, C = (size_t)f->n_out, i, t;
    double *sum = aml_calloc(n * C + 1, sizeof(double));
    unsigned *counts = aml_mallocarray(n + 1, sizeof(unsigned));
    size_t *seen = aml_calloc(n + 1, sizeof(size_t));
    int rc = AML_ENOMEM;

    if (!sum || !counts || !seen)
        goto out;
    for (t = 0; t < f->n_trees; t++) {
        aml_rng trng;

        aml_rng_child(&trng, &f->fit_rng, (uint64_t)t);
        forest_draw(&trng, counts, n);
        for (i = 0; i < n; i++) {
            aml_matrix row = {1, X->cols, X->data + i * X->cols};

            if (counts[i] > 0)
                continue;
            aml_tree_predict_add(&f->trees[t], &row, sum + i * C);
            seen[i]++;
        }
    }
    f->oob = aml_forest_oob_from_sums(f->base.task, (int)C, sum, seen, y, n);
    rc = AML_OK;
out:
    free(sum);
    free(counts);
    free(seen);
    return rc;
}

double aml_forest_oob_from_sums(aml_task task, int n_out, double *sum, const size_t *seen,
                                const double *y, size_t n)
{
    size_t i, C = (size_t)n_out, c, hits = 0;
    double mean = 0, ss_res = 0, ss_tot = 0;

    for (i = 0; i < n; i++)
        for (c = 0; c < C; c++)
            sum[i * C + c] /= (double)(seen[i] ? seen[i] : 1);
    if (task == AML_TASK_CLASSIFICATION) {
        for (i = 0; i < n; i++) {
            size_t best = 0;

            for (c = 1; c < C; c++)
                if (sum[i * C + c] > sum[i * C + best])
                    best = c;
            hits += (double)best == y[i];
        }
        return (double)hits / (double)n;
    }
    for (i = 0; i < n; i++)
        mean += y[i] / (double)n;
    for (i = 0; i < n; i++) {
        ss_res += (y[i] - sum[i]) * (y[i] - sum[i]);
        ss_tot += (y[i] - mean) * (y[i] - mean);
    }
    /* scikit-learn's r2_score: 1 for a perfect fit of constant y, else 0. */
    if (ss_tot == 0)
        return ss_res == 0 ? 1.0 : 0.0;
    return 1.0 - ss_res / ss_tot;
}

static int forest_fit_checked(forest *f, const aml_matrix *X, const double *y,
                              const double *w, aml_rng *rng, int threads)
{
    aml_tree_data d;
    int rc;

    if ((rc = aml_tree_data_init(&d, X, y, f->base.task, f->n_out, threads)) < 0)
        return rc;
    f->trees = aml_calloc((size_t)f->n_estimators, sizeof(aml_tree));
    f->importance = aml_calloc(X->cols + 1, sizeof(double));
    if (!f->trees || !f->importance) {
        rc = AML_ENOMEM;
        goto out;
    }
    f->n_trees = (size_t)f->n_estimators;
    f->p = X->cols;
    f->fit_rng = *rng;
    f->have_fit_rng = 1;
    if ((rc = forest_grow_all(f, &d, w, rng, threads)) < 0)
        goto out;
    forest_importance(f);
    if (f->oob_score && f->bootstrap)
        rc = forest_oob(f, X, y);
out:
    aml_tree_data_dispose(&d);
    return rc;
}

static int forest_fit(aml_learner *l, const aml_matrix *X, const double *y,
                      const double *w, int n_classes, aml_rng *rng, int threads)
{
    forest *f = (forest *)l;
    int rc;

    forest_release(f);
    f->n_out = l->task == AML_TASK_CLASSIFICATION ? n_classes : 1;
    /* Node indices are int32 and a tree has fewer than 2n nodes. */
    if (X->rows > INT32_MAX / 2 || X->cols > INT32_MAX)
        return aml_error_set(AML_EINVAL, "%s: %zu x %zu is too large", forest_name(f),
                             X->rows, X->cols);
    if ((rc = aml_tree_check(forest_name(f), X, y, w, l->task, f->n_out)) < 0)
        return rc;
    if ((rc = forest_fit_checked(f, X, y, w, rng, threads)) < 0) {
        forest_release(f);
        return rc;
    }
    /* Advance the caller's generator past this fit, as a single draw would. */
    aml_rng_next(rng);
    f->threads = threads;
    l->n_features = X->cols;
    l->n_classes = l->task == AML_TASK_CLASSIFICATION ? n_classes : 0;
    return AML_OK;
}

/* ---- predict ------------------------------------------------------------ */

static int forest_check_state(const forest *f)
{
    if (f->n_trees == 0)
        return aml_error_set(AML_EINVAL, "%s: predict before fit", forest_name(f));
    if (f->base.n_features != f->p ||
        (f->base.task == AML_TASK_CLASSIFICATION && f->base.n_classes != f->n_out))
        return aml_error_set(AML_EFORMAT, "%s: model shape does not match its header",
                             forest_name(f));
    return AML_OK;
}

/* Rows predicted together: their outputs stay in cache while every tree adds to them. */
#define FOREST_PREDICT_BLOCK 256

static int forest_predict(const aml_learner *l, const aml_matrix *X, double *out)
{
    const forest *f = (const forest *)l;
    size_t C = (size_t)f->n_out;
    long long blk,
        n_blk = (long long)((X->rows + FOREST_PREDICT_BLOCK - 1) / FOREST_PREDICT_BLOCK);
    int rc;

    if ((rc = forest_check_state(f)) < 0)
        return rc;
    if (X->cols != f->p)
        return aml_error_set(AML_EINVAL, "%s: fitted on %zu features, got %zu",
                             forest_name(f), f->p, X->cols);
        /* Each row sums its trees in tree order, whatever thread runs it. */
#pragma omp parallel for num_threads(f->threads) schedule(static)
    for (blk = 0; blk < n_blk; blk++) {
        size_t r0 = (size_t)blk * FOREST_PREDICT_BLOCK, i, t;
        size_t rows =
            X->rows - r0 < FOREST_PREDICT_BLOCK ? X->rows - r0 : FOREST_PREDICT_BLOCK;
        aml_matrix part = {rows, X->cols, X->data + r0 * X->cols};
        double *o = out + r0 * C;

        memset(o, 0, rows * C * sizeof(double));
        for (t = 0; t < f->n_trees; t++)
            aml_tree_predict_add(&f->trees[t], &part, o);
        for (i = 0; i < rows * C; i++)
            o[i] /= (double)f->n_trees;
    }
    return AML_OK;
}

/* C export, bit for bit: the trees' leaf values summed in tree order, then divided. */
static int forest_emit_c(const aml_learner *l, aml_cgen *g, const char *fn)
{
    const forest *f = (const forest *)l;
    char nm[64];
    int rc;

    if ((rc = forest_check_state(f)) < 0 ||
        (rc = aml_tree_emit_c(f->trees, f->n_trees, g, nm, sizeof(nm))) < 0)
        return rc;
    return aml_cgen_printf(g,
                           "/* %s: %zu trees. */\n"
                           "static void %s(const double *x, double *out)\n{\n"
                           "    size_t t, v;\n    int c;\n\n"
                           "    for (c = 0; c < %d; c++)\n"
                           "        out[c] = 0.0;\n"
                           "    for (t = 0; t < %zu; t++) {\n"
                           "        v = %s_leaf(t, x);\n"
                           "        for (c = 0; c < %d; c++)\n"
                           "            out[c] += %s_vals[v + (size_t)c];\n    }\n"
                           "    for (c = 0; c < %d; c++)\n"
                           "        out[c] /= (double)%zu;\n}\n\n",
                           forest_name(f), f->n_trees, fn, f->n_out, f->n_trees, nm,
                           f->n_out, nm, f->n_out, f->n_trees);
}

static int forest_importance_out(const aml_learner *l, double *out)
{
    const forest *f = (const forest *)l;
    int rc;

    if ((rc = forest_check_state(f)) < 0)
        return rc;
    memcpy(out, f->importance, f->p * sizeof(double));
    return AML_OK;
}

/* ---- internal accessors (tree_internal.h) ------------------------------- */

double aml_forest_oob_score(const aml_learner *l)
{
    return ((const forest *)l)->oob;
}

size_t aml_forest_n_trees(const aml_learner *l)
{
    return ((const forest *)l)->n_trees;
}

const aml_tree *aml_forest_tree(const aml_learner *l, size_t t)
{
    const forest *f = (const forest *)l;

    return t < f->n_trees ? &f->trees[t] : NULL;
}

int aml_forest_inbag(const aml_learner *l, size_t t, unsigned *counts, size_t n)
{
    const forest *f = (const forest *)l;
    aml_rng trng;

    if (!f->have_fit_rng || !f->bootstrap || t >= f->n_trees)
        return aml_error_set(AML_EINVAL, "%s: no bootstrap sample to show",
                             forest_name(f));
    aml_rng_child(&trng, &f->fit_rng, (uint64_t)t);
    forest_draw(&trng, counts, n);
    return AML_OK;
}

/* ---- save / load -------------------------------------------------------- */

static int forest_save(const aml_learner *l, aml_writer *w)
{
    const forest *f = (const forest *)l;
    size_t t;
    int rc;

    if (f->n_trees == 0)
        return aml_error_set(AML_EINVAL, "%s: cannot save an unfitted model",
                             forest_name(f));
    aml_put_i64(w, f->n_estimators);
    aml_put_i64(w, f->max_depth);
    aml_put_i64(w, f->min_samples_split);
    aml_put_i64(w, f->min_samples_leaf);
    aml_put_f64(w, f->max_features);
    aml_put_u8(w, (uint8_t)f->mf_kind);
    aml_put_u8(w, (uint8_t)f->criterion);
    aml_put_u8(w, (uint8_t)f->bootstrap);
    aml_put_u8(w, (uint8_t)f->oob_score);
    aml_put_f64(w, f->oob);
    aml_put_u32(w, (uint32_t)f->n_out);
    aml_put_u64(w, (uint64_t)f->p);
    aml_put_u64(w, (uint64_t)f->n_trees);
    aml_put_f64s(w, f->importance, f->p);
    for (t = 0; t < f->n_trees; t++)
        if ((rc = aml_tree_save(&f->trees[t], w)) < 0)
            return rc;
    return w->failed ? AML_ENOMEM : AML_OK;
}

static int forest_load_params(forest *f, aml_reader *r, uint64_t *n_trees)
{
    int64_t ne, md, mss, msl;
    uint8_t mfk, crit, boot, oob;
    uint32_t n_out;
    uint64_t p;
    int rc;

    if ((rc = aml_get_i64(r, &ne)) < 0 || (rc = aml_get_i64(r, &md)) < 0 ||
        (rc = aml_get_i64(r, &mss)) < 0 || (rc = aml_get_i64(r, &msl)) < 0 ||
        (rc = aml_get_f64(r, &f->max_features)) < 0 || (rc = aml_get_u8(r, &mfk)) < 0 ||
        (rc = aml_get_u8(r, &crit)) < 0 || (rc = aml_get_u8(r, &boot)) < 0 ||
        (rc = aml_get_u8(r, &oob)) < 0 || (rc = aml_get_f64(r, &f->oob)) < 0 ||
        (rc = aml_get_u32(r, &n_out)) < 0 || (rc = aml_get_u64(r, &p)) < 0 ||
        (rc = aml_get_u64(r, n_trees)) < 0)
        return rc;
    if (ne < 1 || ne > FOREST_MAX_TREES || md < 0 || mss < 2 || msl < 1 ||
        !(f->max_features > 0 && f->max_features <= 1) || mfk > FOREST_MF_TASK ||
        crit > AML_TREE_ENTROPY || boot > 1 || oob > 1 || n_out < 1 || n_out > 1u << 20 ||
        (f->base.task == AML_TASK_REGRESSION && n_out != 1) || p > INT32_MAX ||
        *n_trees != (uint64_t)ne)
        return aml_error_set(AML_EFORMAT, "%s: corrupt model header", forest_name(f));
    *f = (forest){.base = f->base,
                  .extra = f->extra,
                  .n_estimators = ne,
                  .max_depth = md,
                  .min_samples_split = mss,
                  .min_samples_leaf = msl,
                  .max_features = f->max_features,
                  .mf_kind = mfk,
                  .criterion = crit,
                  .bootstrap = boot,
                  .oob_score = oob,
                  .n_out = (int)n_out,
                  .p = (size_t)p,
                  .oob = f->oob};
    return AML_OK;
}

static int forest_load_trees(forest *f, aml_reader *r, size_t n_trees)
{
    size_t t;
    int rc;

    if ((rc = aml_reader_need(r, f->p, 8)) < 0 ||
        (rc = aml_reader_need(r, n_trees, 64)) < 0)
        return rc;
    f->importance = aml_calloc(f->p + 1, sizeof(double));
    f->trees = aml_calloc(n_trees, sizeof(aml_tree));
    if (!f->importance || !f->trees)
        return AML_ENOMEM;
    f->n_trees = n_trees;
    if ((rc = aml_get_f64s(r, f->importance, f->p)) < 0)
        return rc;
    if (!aml_tree_importance_ok(f->importance, f->p))
        return aml_error_set(AML_EFORMAT, "%s: corrupt importances", forest_name(f));
    for (t = 0; t < n_trees; t++) {
        if ((rc = aml_tree_load(&f->trees[t], r, f->base.task)) < 0)
            return rc;
        if (f->trees[t].n_out != f->n_out || f->trees[t].p != f->p)
            return aml_error_set(AML_EFORMAT, "%s: tree %zu does not fit the model",
                                 forest_name(f), t);
    }
    return AML_OK;
}

static int forest_load(aml_learner **out, const aml_learner_type *type, aml_task task,
                       aml_reader *r)
{
    aml_learner *l = NULL;
    forest *f;
    uint64_t n_trees;
    int rc;

    *out = NULL;
    if ((rc = forest_create(&l, type, task)) < 0)
        return rc;
    f = (forest *)l;
    if ((rc = forest_load_params(f, r, &n_trees)) < 0 ||
        (rc = forest_load_trees(f, r, (size_t)n_trees)) < 0)
        goto fail;
    l->n_features = f->p;
    l->n_classes = task == AML_TASK_CLASSIFICATION ? f->n_out : 0;
    *out = l;
    return AML_OK;

fail:
    forest_free(l);
    return rc;
}

const aml_learner_type aml_learner_random_forest = {
    .name = "random_forest",
    .tasks = AML_TASK_BIT(AML_TASK_CLASSIFICATION) | AML_TASK_BIT(AML_TASK_REGRESSION),
    .flags = 0,
    .params = rf_params,
    .create = forest_create,
    .set_param = forest_set_param,
    .fit = forest_fit,
    .predict = forest_predict,
    .emit_c = forest_emit_c,
    .save = forest_save,
    .load = forest_load,
    .free = forest_free,
    .importance = forest_importance_out,
    .resource_param = "n_estimators",
};

const aml_learner_type aml_learner_extra_trees = {
    .name = "extra_trees",
    .tasks = AML_TASK_BIT(AML_TASK_CLASSIFICATION) | AML_TASK_BIT(AML_TASK_REGRESSION),
    .flags = 0,
    .params = et_params,
    .create = forest_create,
    .set_param = forest_set_param,
    .fit = forest_fit,
    .predict = forest_predict,
    .emit_c = forest_emit_c,
    .save = forest_save,
    .load = forest_load,
    .free = forest_free,
    .importance = forest_importance_out,
    .resource_param = "n_estimators",
};
