/*
 * tree_build.c - the CART builder behind every tree learner.
 *
 * Breiman, Friedman, Olshen and Stone, "Classification and Regression
 * Trees" (1984), grown the way scikit-learn's BestSplitter and
 * RandomSplitter grow them, so that for the same data and settings
 * decision_tree gives scikit-learn's predictions:
 *
 *  - Nodes are grown depth first (pre-order numbering).  A node becomes a
 *    leaf when it reaches max_depth, holds fewer than min_samples_split
 *    rows or fewer than 2 * min_samples_leaf, is pure (impurity <=
 *    DBL_EPSILON), or has no split that leaves min_samples_leaf rows on
 *    each side.  Otherwise it takes the best split even when that split
 *    does not lower the impurity, as scikit-learn does.
 *  - Thresholds sit half way between consecutive values that differ by more
 *    than TREE_FEATURE_EPS, and a row goes left when x <= threshold.  With
 *    random splits (extra trees, Geurts, Ernst and Wehenkel, "Extremely
 *    randomized trees", Machine Learning 63, 2006) each candidate feature
 *    gets one threshold drawn uniformly between its minimum and maximum on
 *    the node.
 *  - The best split maximises scikit-learn's "proxy":
 *    -(W_l * impurity_l + W_r * impurity_r) for gini and entropy, and
 *    S_l^2 / W_l + S_r^2 / W_r (S = weighted sum of y) for squared error.
 *    On exact ties the first candidate wins.  Features are visited in index
 *    order when all are candidates (scikit-learn shuffles them; on tied
 *    splits the trees differ, both are right) and drawn with the rng
 *    (Fisher-Yates) when max_features < p; the search stops once
 *    max_features were visited and one of them was not constant.
 *  - Rows of weight 0 take no part (scikit-learn drops them too);
 *    min_samples_* count rows, impurities weigh them.
 *
 * Speed.  The textbook cost is a sort per node and feature.  Here X is
 * ranked once per fit (aml_tree_data: each value replaced by its rank among
 * the distinct values of its feature, stored column by column, as a byte
 * too when the feature has at most 256 values), in parallel over features,
 * and shared read-only by all trees of a forest.  A node then scans a
 * feature in one of four ways: a two-valued feature (a one-hot column)
 * sums only the rows of its rarer value, from a per-feature row list when
 * that is shorter than the node, and gets the other side by subtraction;
 * a feature with few values on the node is scanned through a histogram of
 * its ranks; others sort their ranks with an LSD radix sort over the rank
 * bytes that vary in the node (insertion sort for small nodes); random
 * splits need only the node's range and one pass.  Features found constant
 * on a node are remembered for its subtree and cost nothing there (they
 * still count as visited, as in scikit-learn).  Partitions are stable, so
 * the rows of every node stay in ascending order and scans read the rank
 * columns front to back.  Each thread's scratch memory (aml_tree_work) is
 * allocated once, so a tree allocates nothing but its node arrays.
 *
 * Children always have larger indices than their parent, which load
 * checks, so a corrupted model file is rejected instead of sending predict
 * into a loop or out of bounds.
 */
#include "tree_internal.h"

#include "aml.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Values closer than this count as equal when placing thresholds (as scikit-learn). */
#define TREE_FEATURE_EPS 1e-7
/* A node whose impurity is at most this is pure. */
#define TREE_PURE_EPS DBL_EPSILON
/* Initial node capacity of a tree; it doubles as needed. */
#define TREE_INITIAL_NODES 64
/* Nodes this small are sorted by insertion. */
#define TREE_SMALL_SORT 32
/* Most distinct values a node's feature may span to be scanned by histogram. */
#define TREE_HIST_MAX 256
/*
 * Histogram copies filled in turn: consecutive rows mostly fall in the same
 * bucket (a one-hot column is mostly 0), and separate copies break the
 * chain of additions to one memory cell.
 */
#define TREE_HIST_WAYS 4

const char *const aml_tree_criterion_words[] = {"gini", "entropy", NULL};

/* A node waiting to be grown: rows idx[start..end). */
typedef struct tree_job {
    size_t start, end;
    long long depth;
    int32_t parent;
    int is_left;
    size_t n_const; /* features[0..n_const) are constant on this node */
} tree_job;

typedef struct tree_split {
    int found;
    size_t feature, pos;
    uint32_t rank; /* rows with a rank up to this go left */
    double threshold, proxy;
} tree_split;

struct aml_tree_work {
    size_t n, p;
    uint32_t *idx;       /* rows of positive weight, partitioned node by node */
    uint32_t *idx2;      /* partition scratch */
    uint64_t *items;     /* rank << 32 | row for the node under evaluation */
    uint64_t *tmp;       /* radix sort buffer */
    size_t *features;    /* p: known constant features first, then the visiting order */
    unsigned char *mark; /* p flags: known constant (1) or found constant (2) */
    double *rw;          /* weights of the rows idx[i], in the same order */
    double *rv;          /* class index, or weight * y, of the rows idx[i] */
    double *rw2, *rv2;   /* partition scratch */
    uint32_t *pos;       /* n: where each row of positive weight sits in idx */
    double *tot, *lft, *rgt;
    double *hist;    /* TREE_HIST_WAYS x TREE_HIST_MAX x (n_out + 1) bucket sums */
    size_t *hcount;  /* TREE_HIST_WAYS x TREE_HIST_MAX rows per bucket */
    tree_job *stack; /* n + 1 */
    size_t top;
};

/* One build: who grows what with which scratch memory. */
typedef struct tree_builder {
    aml_tree *t;
    const aml_tree_data *d;
    const aml_tree_opts *o;
    aml_rng *rng;
    aml_tree_work *ws;
    size_t msl; /* min_samples_leaf */
} tree_builder;

/* ---- checks ------------------------------------------------------------- */

int aml_tree_check(const char *who, const aml_matrix *X, const double *y, const double *w,
                   aml_task task, int n_out)
{
    size_t i, j, positive = 0;

    for (i = 0; i < X->rows; i++) {
        if (task == AML_TASK_CLASSIFICATION &&
            !(y[i] >= 0 && y[i] < n_out && y[i] == floor(y[i])))
            return aml_error_set(AML_EINVAL,
                                 "%s: row %zu has label %g, not a class index below %d",
                                 who, i, y[i], n_out);
        if (task == AML_TASK_REGRESSION && !isfinite(y[i]))
            return aml_error_set(AML_EINVAL, "%s: row %zu has target %g", who, i, y[i]);
        if (w && !(w[i] >= 0 && isfinite(w[i])))
            return aml_error_set(AML_EINVAL, "%s: row %zu has weight %g", who, i, w[i]);
        positive += !w || w[i] > 0;
        for (j = 0; j < X->cols; j++)
            if (isnan(X->data[i * X->cols + j]))
                return aml_error_set(AML_EINVAL, "%s: row %zu has a NaN feature", who, i);
    }
    if (positive == 0)
        return aml_error_set(AML_EINVAL, "%s: every sample weight is 0", who);
    return AML_OK;
}

/* ---- ranking ------------------------------------------------------------ */

/* Maps a double (not NaN) to a uint64 whose unsigned order is the numeric order. */
static uint64_t tree_key(double v)
{
    uint64_t u;

    memcpy(&u, &v, sizeof(u));
    return (u >> 63) ? ~u : u | (UINT64_C(1) << 63);
}

/*
 * Sorts keys[0..n) with rows riding along (LSD radix, 8 bits a pass,
 * skipping bytes that are the same in every key, so a column of few
 * distinct values takes a pass or two).  k2/r2 are scratch of the same
 * size; returns 1 when the result ended in k2/r2.
 */
static int tree_radix64(uint64_t *keys, uint32_t *rows, uint64_t *k2, uint32_t *r2,
                        size_t n)
{
    size_t count[256], i;
    uint64_t diff = 0;
    int b, flipped = 0;

    for (i = 1; i < n; i++)
        diff |= keys[i] ^ keys[0];
    for (b = 0; b < 8; b++) {
        size_t sum = 0, c;
        uint64_t *ks = flipped ? k2 : keys, *kd = flipped ? keys : k2;
        uint32_t *rs = flipped ? r2 : rows, *rd = flipped ? rows : r2;

        if (((diff >> (8 * b)) & 255) == 0)
            continue;
        memset(count, 0, sizeof(count));
        for (i = 0; i < n; i++)
            count[(ks[i] >> (8 * b)) & 255]++;
        for (c = 0; c < 256; c++) {
            size_t t = count[c];

            count[c] = sum;
            sum += t;
        }
        for (i = 0; i < n; i++) {
            size_t at = count[(ks[i] >> (8 * b)) & 255]++;

            kd[at] = ks[i];
            rd[at] = rs[i];
        }
        flipped = !flipped;
    }
    return flipped;
}

/* Sort buffers of one thread ranking columns. */
typedef struct tree_ranker {
    uint64_t *keys, *k2;
    uint32_t *rows, *r2;
} tree_ranker;

static void tree_ranker_dispose(tree_ranker *k)
{
    free(k->keys);
    free(k->k2);
    free(k->rows);
    free(k->r2);
}

static int tree_ranker_init(tree_ranker *k, size_t n)
{
    k->keys = aml_mallocarray(n + 1, sizeof(uint64_t));
    k->k2 = aml_mallocarray(n + 1, sizeof(uint64_t));
    k->rows = aml_mallocarray(n + 1, sizeof(uint32_t));
    k->r2 = aml_mallocarray(n + 1, sizeof(uint32_t));
    return k->keys && k->k2 && k->rows && k->r2 ? AML_OK : AML_ENOMEM;
}

/* Ranks column f (col: its n values) into d->rank; returns its count of distinct values.
 */
static size_t tree_rank_feature(aml_tree_data *d, size_t f, const double *col,
                                tree_ranker *k)
{
    size_t i, n = d->n, distinct = 0;
    uint32_t *rank = d->rank + f * n, *rows = k->rows;

    for (i = 0; i < n; i++) {
        k->keys[i] = tree_key(col[i]);
        k->rows[i] = (uint32_t)i;
    }
    if (tree_radix64(k->keys, k->rows, k->k2, k->r2, n))
        rows = k->r2;
    for (i = 0; i < n; i++) {
        distinct += i == 0 || col[rows[i]] != col[rows[i - 1]];
        rank[rows[i]] = (uint32_t)(distinct - 1);
    }
    return distinct;
}

/*
 * Ranks every column, in parallel: sorts go first and count the distinct
 * values, whose offsets then place each column's values.  Every column is
 * written by one thread and in row order, so the result never depends on
 * the thread count.
 */
static int tree_rank_all(aml_tree_data *d, const double *cols, int threads)
{
    size_t n = d->n, f;
    long long j, p = (long long)d->p;
    int rc = AML_OK;

#pragma omp parallel num_threads(threads) reduction(min : rc)
    {
        tree_ranker k = {0};
        int mine = tree_ranker_init(&k, n);

#pragma omp for schedule(dynamic, 1)
        for (j = 0; j < p; j++)
            if (mine == AML_OK)
                d->voff[j + 1] =
                    tree_rank_feature(d, (size_t)j, cols + (size_t)j * n, &k);
        tree_ranker_dispose(&k);
        rc = mine;
    }
    if (rc < 0)
        return rc;
    for (f = 0; f < d->p; f++)
        d->voff[f + 1] += d->voff[f];
    if (!(d->vals = aml_mallocarray(d->voff[d->p] + 1, sizeof(double))))
        return AML_ENOMEM;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (j = 0; j < p; j++) {
        size_t i, nv = d->voff[j + 1] - d->voff[j];
        const uint32_t *rank = d->rank + (size_t)j * n;

        for (i = 0; i < n; i++)
            d->vals[d->voff[j] + rank[i]] = cols[(size_t)j * n + i];
        /* A byte per rank for features of few values: a quarter of the cache. */
        for (i = 0; i < n && nv <= 256; i++)
            d->rank8[(size_t)j * n + i] = (uint8_t)rank[i];
    }
    return AML_OK;
}

void aml_tree_data_dispose(aml_tree_data *d)
{
    free(d->rank);
    free(d->vals);
    free(d->voff);
    free(d->sparse);
    free(d->soff);
    free(d->minor);
    free(d->rank8);
    memset(d, 0, sizeof(*d));
}

/*
 * Lists, for every two-valued feature, the rows holding its rarer value:
 * a node then sums that side from the list when it is shorter than the
 * node, and gets the other side by subtraction (one-hot columns).
 */
static int tree_sparse_lists(aml_tree_data *d)
{
    size_t f, i, n = d->n, total = 0, *count = d->soff;

    for (f = 0; f < d->p; f++) {
        const uint32_t *rk = d->rank + f * n;
        size_t ones = 0;

        count[f + 1] = 0;
        if (d->voff[f + 1] - d->voff[f] != 2)
            continue;
        for (i = 0; i < n; i++)
            ones += rk[i];
        d->minor[f] = ones <= n - ones;
        count[f + 1] = d->minor[f] ? ones : n - ones;
        total += count[f + 1];
    }
    for (f = 0; f < d->p; f++)
        d->soff[f + 1] += d->soff[f];
    if (!(d->sparse = aml_mallocarray(total + 1, sizeof(uint32_t))))
        return AML_ENOMEM;
    for (f = 0; f < d->p; f++) {
        const uint32_t *rk = d->rank + f * n;
        size_t at = d->soff[f];

        for (i = 0; i < n && d->soff[f + 1] > d->soff[f]; i++)
            if (rk[i] == d->minor[f])
                d->sparse[at++] = (uint32_t)i;
    }
    return AML_OK;
}

int aml_tree_data_init(aml_tree_data *d, const aml_matrix *X, const double *y,
                       aml_task task, int n_out, int threads)
{
    size_t n = X->rows, p = X->cols, i, f;
    double *cols = NULL;
    int rc = AML_ENOMEM;

    memset(d, 0, sizeof(*d));
    *d = (aml_tree_data){.X = X, .y = y, .task = task, .n_out = n_out, .n = n, .p = p};
    if (n > UINT32_MAX)
        return aml_error_set(AML_EINVAL, "tree: %zu rows is too many", n);
    d->rank = aml_mallocarray(n * p + 1, sizeof(uint32_t));
    d->voff = aml_calloc(p + 1, sizeof(size_t));
    d->soff = aml_calloc(p + 1, sizeof(size_t));
    d->minor = aml_calloc(p + 1, 1);
    d->rank8 = aml_mallocarray(n * p + 1, 1);
    cols = aml_mallocarray(n * p + 1, sizeof(double));
    if (!d->rank || !d->rank8 || !d->voff || !d->soff || !d->minor || !cols)
        goto out;
    /* Column-major copy first: ranking reads each column many times. */
    for (i = 0; i < n; i++)
        for (f = 0; f < p; f++)
            cols[f * n + i] = X->data[i * p + f];
    if ((rc = tree_rank_all(d, cols, threads > 0 ? threads : 1)) == AML_OK)
        rc = tree_sparse_lists(d);
out:
    free(cols);
    if (rc < 0)
        aml_tree_data_dispose(d);
    return rc;
}

/* The byte copy of feature f's ranks, or NULL when it has more than 256 values. */
static const uint8_t *tree_rank8(const aml_tree_data *d, size_t f)
{
    return d->voff[f + 1] - d->voff[f] <= 256 ? d->rank8 + f * d->n : NULL;
}

/* ---- scratch memory ----------------------------------------------------- */

void aml_tree_work_free(aml_tree_work *ws)
{
    if (!ws)
        return;
    free(ws->idx);
    free(ws->idx2);
    free(ws->items);
    free(ws->tmp);
    free(ws->features);
    free(ws->mark);
    free(ws->rw);
    free(ws->rv);
    free(ws->rw2);
    free(ws->rv2);
    free(ws->pos);
    free(ws->tot);
    free(ws->lft);
    free(ws->rgt);
    free(ws->hist);
    free(ws->hcount);
    free(ws->stack);
    free(ws);
}

int aml_tree_work_new(aml_tree_work **out, const aml_tree_data *d)
{
    aml_tree_work *ws = aml_calloc(1, sizeof(*ws));
    size_t n = d->n + 1, C = (size_t)d->n_out;

    *out = NULL;
    if (!ws)
        return AML_ENOMEM;
    ws->n = d->n;
    ws->p = d->p;
    ws->idx = aml_mallocarray(n, sizeof(uint32_t));
    ws->idx2 = aml_mallocarray(n, sizeof(uint32_t));
    ws->items = aml_mallocarray(n, sizeof(uint64_t));
    ws->tmp = aml_mallocarray(n, sizeof(uint64_t));
    ws->features = aml_mallocarray(d->p + 1, sizeof(size_t));
    ws->mark = aml_calloc(d->p + 1, 1);
    ws->rw = aml_mallocarray(n, sizeof(double));
    ws->rv = aml_mallocarray(n, sizeof(double));
    ws->rw2 = aml_mallocarray(n, sizeof(double));
    ws->rv2 = aml_mallocarray(n, sizeof(double));
    ws->pos = aml_mallocarray(n, sizeof(uint32_t));
    ws->tot = aml_mallocarray(C, sizeof(double));
    ws->lft = aml_mallocarray(C, sizeof(double));
    ws->rgt = aml_mallocarray(C, sizeof(double));
    ws->hist = aml_mallocarray(TREE_HIST_WAYS * TREE_HIST_MAX * (C + 1), sizeof(double));
    ws->hcount = aml_mallocarray(TREE_HIST_WAYS * TREE_HIST_MAX, sizeof(size_t));
    ws->stack = aml_mallocarray(n, sizeof(tree_job));
    if (!ws->idx || !ws->idx2 || !ws->items || !ws->tmp || !ws->features || !ws->mark ||
        !ws->rw || !ws->rv || !ws->rw2 || !ws->rv2 || !ws->pos || !ws->tot || !ws->lft ||
        !ws->rgt || !ws->hist || !ws->hcount || !ws->stack) {
        aml_tree_work_free(ws);
        return AML_ENOMEM;
    }
    *out = ws;
    return AML_OK;
}

/* ---- node arrays -------------------------------------------------------- */

void aml_tree_dispose(aml_tree *t)
{
    free(t->feature);
    free(t->threshold);
    free(t->left);
    free(t->right);
    free(t->value);
    free(t->values);
    free(t->importance);
    memset(t, 0, sizeof(*t));
}

static int tree_grow_i32(int32_t **a, size_t cap)
{
    int32_t *p = aml_reallocarray(*a, cap, sizeof(int32_t));

    if (!p)
        return AML_ENOMEM;
    *a = p;
    return AML_OK;
}

/* Makes room for at least `need` nodes. */
static int tree_reserve_nodes(aml_tree *t, size_t need)
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
static int tree_reserve_leaves(aml_tree *t, size_t need)
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

    if (criterion == AML_TREE_GINI) {
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

/* Adds up the node's class weights (or weighted sum of y) into tot; returns the weight.
 */
static double tree_node_totals(tree_builder *b, size_t start, size_t end)
{
    aml_tree_work *ws = b->ws;
    double W = 0, S = 0; /* S: the regression sum, kept out of memory */
    size_t i;
    int c;

    for (c = 0; c < b->o->n_out; c++)
        ws->tot[c] = 0;
    if (b->o->n_out == 2 && b->o->task == AML_TASK_CLASSIFICATION) {
        /* Two classes: both sums in registers (adding zeros is exact). */
        double t1 = 0;

        for (i = start; i < end; i++) {
            S += (1.0 - ws->rv[i]) * ws->rw[i];
            t1 += ws->rv[i] * ws->rw[i];
            W += ws->rw[i];
        }
        ws->tot[0] = S;
        ws->tot[1] = t1;
        return W;
    }
    for (i = start; i < end; i++) {
        if (b->o->task == AML_TASK_CLASSIFICATION)
            ws->tot[(size_t)ws->rv[i]] += ws->rw[i];
        else
            S += ws->rv[i];
        W += ws->rw[i];
    }
    if (b->o->task == AML_TASK_REGRESSION)
        ws->tot[0] = S;
    return W;
}

/* Weighted variance of y over the node, two-pass for accuracy. */
static double tree_node_variance(const tree_builder *b, size_t start, size_t end,
                                 double W)
{
    const aml_tree_work *ws = b->ws;
    double mean = ws->tot[0] / W, s = 0;
    size_t i;

    for (i = start; i < end; i++) {
        /* rv / rw is y again (to an ulp), read in order rather than by row. */
        double e = ws->rv[i] / ws->rw[i] - mean;

        s += ws->rw[i] * e * e;
    }
    return s / W;
}

/* The proxy of a split whose left side holds lft (weight Wl) of tot (W). */
static double tree_proxy(const tree_builder *b, double Wl, double W)
{
    aml_tree_work *ws = b->ws;
    double Wr = W - Wl;
    int c, C = b->o->n_out;

    if (b->o->task == AML_TASK_REGRESSION) {
        double sr = ws->tot[0] - ws->lft[0];

        return ws->lft[0] * ws->lft[0] / Wl + sr * sr / Wr;
    }
    for (c = 0; c < C; c++)
        ws->rgt[c] = ws->tot[c] - ws->lft[c];
    return -Wr * tree_class_impurity(b->o->criterion, ws->rgt, C, Wr) -
           Wl * tree_class_impurity(b->o->criterion, ws->lft, C, Wl);
}

/* Moves the row at position i of idx from the right side to the left one. */
static inline void tree_move_left(const tree_builder *b, size_t i)
{
    aml_tree_work *ws = b->ws;

    if (b->o->task == AML_TASK_CLASSIFICATION)
        ws->lft[(size_t)ws->rv[i]] += ws->rw[i];
    else
        ws->lft[0] += ws->rv[i];
}

/* ---- node sorting ------------------------------------------------------- */

static void tree_insertion_sort(uint64_t *a, size_t n)
{
    size_t i, j;

    for (i = 1; i < n; i++) {
        uint64_t v = a[i];

        for (j = i; j > 0 && a[j - 1] > v; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
}

/*
 * Sorts items (rank << 32 | row) by rank, ranks in [lo, lo + span]; stable
 * radix passes over the bytes of rank - lo.  Returns the sorted array: a
 * or tmp.
 */
static uint64_t *tree_sort_items(uint64_t *a, uint64_t *tmp, size_t n, uint32_t lo,
                                 uint32_t span)
{
    size_t count[256], i;
    int shift;

    if (n <= TREE_SMALL_SORT) {
        tree_insertion_sort(a, n);
        return a;
    }
    for (shift = 0; shift < 32 && (span >> shift) > 0; shift += 8) {
        size_t sum = 0, c;

        memset(count, 0, sizeof(count));
        for (i = 0; i < n; i++)
            count[(((uint32_t)(a[i] >> 32) - lo) >> shift) & 255]++;
        for (c = 0; c < 256; c++) {
            size_t t = count[c];

            count[c] = sum;
            sum += t;
        }
        for (i = 0; i < n; i++)
            tmp[count[(((uint32_t)(a[i] >> 32) - lo) >> shift) & 255]++] = a[i];
        {
            uint64_t *s = a;

            a = tmp;
            tmp = s;
        }
    }
    return a;
}

/* ---- split search ------------------------------------------------------- */

static void tree_take_split(tree_split *best, size_t f, size_t pos, double proxy,
                            double a, double c, uint32_t rank)
{
    double thr = a / 2.0 + c / 2.0;

    /* Rounding can land the midpoint on the upper value; fall back to the lower. */
    if (thr == c || isinf(thr))
        thr = a;
    best->found = 1;
    best->feature = f;
    best->pos = pos;
    best->rank = rank;
    best->threshold = thr;
    best->proxy = proxy;
}

/* Scans the sorted items s[0..n) of feature f for its best threshold. */
static void tree_scan(const tree_builder *b, size_t f, const uint64_t *s, size_t n,
                      double W, tree_split *best)
{
    const aml_tree_work *ws = b->ws;
    const double *vals = b->d->vals + b->d->voff[f];
    size_t pos, msl = b->msl;
    double Wl = 0, sl = 0; /* sl: the regression sum, kept out of memory */
    int c, clf = b->o->task == AML_TASK_CLASSIFICATION;

    for (c = 0; c < b->o->n_out; c++)
        ws->lft[c] = 0;
    for (pos = 1; pos < n; pos++) {
        uint32_t at = (uint32_t)s[pos - 1], ka = (uint32_t)(s[pos - 1] >> 32);
        uint32_t kc = (uint32_t)(s[pos] >> 32);
        double proxy;

        if (clf)
            ws->lft[(size_t)ws->rv[at]] += ws->rw[at];
        else
            sl += ws->rv[at];
        Wl += ws->rw[at];
        if (kc == ka || vals[kc] <= vals[ka] + TREE_FEATURE_EPS)
            continue;
        if (pos < msl || n - pos < msl)
            continue;
        ws->lft[0] = clf ? ws->lft[0] : sl;
        proxy = tree_proxy(b, Wl, W);
        if (!best->found || proxy > best->proxy)
            tree_take_split(best, f, pos, proxy, vals[ka], vals[kc], ka);
    }
}

/* The range of the node's ranks of feature f. */
static void tree_range(const tree_builder *b, size_t f, size_t start, size_t n,
                       uint32_t *lo, uint32_t *hi)
{
    const uint32_t *rk = b->d->rank + f * b->d->n;
    const uint8_t *r8 = tree_rank8(b->d, f);
    const uint32_t *idx = b->ws->idx + start;
    uint32_t mn = UINT32_MAX, mx = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        uint32_t k = r8 ? r8[idx[i]] : rk[idx[i]];

        mn = k < mn ? k : mn;
        mx = k > mx ? k : mx;
    }
    *lo = mn;
    *hi = mx;
}

/* Gathers the node's rank << 32 | position items of feature f into ws->items. */
static void tree_gather(const tree_builder *b, size_t f, size_t start, size_t n)
{
    const uint32_t *rk = b->d->rank + f * b->d->n;
    const uint32_t *idx = b->ws->idx + start;
    uint64_t *items = b->ws->items;
    size_t i;

    for (i = 0; i < n; i++)
        items[i] = (uint64_t)rk[idx[i]] << 32 | (uint32_t)(start + i);
}

/* Adds the histogram copy `from` (nb buckets) into copy `to` and clears it. */
static void tree_hist_merge(const aml_tree_work *ws, size_t to, size_t from, size_t nb,
                            size_t stride)
{
    double *a = ws->hist + to * nb * stride, *b = ws->hist + from * nb * stride;
    size_t *ca = ws->hcount + to * nb, *cb = ws->hcount + from * nb, i;

    for (i = 0; i < nb * stride; i++)
        a[i] += b[i];
    for (i = 0; i < nb; i++)
        ca[i] += cb[i];
}

/*
 * Adds up the node's rows of feature f per rank in [lo, lo + nb) into
 * ws->hist (n_out sums then the weight, per bucket) and ws->hcount.
 */
static void tree_histogram(const tree_builder *b, size_t f, size_t start, size_t n,
                           uint32_t lo, size_t nb)
{
    const aml_tree_work *ws = b->ws;
    const uint32_t *rk = b->d->rank + f * b->d->n;
    const uint8_t *r8 = tree_rank8(b->d, f);
    size_t i, C = (size_t)b->o->n_out, stride = C + 1, w;
    size_t ways = nb * stride * TREE_HIST_WAYS <= n ? TREE_HIST_WAYS : 1;
    int clf = b->o->task == AML_TASK_CLASSIFICATION;

    memset(ws->hist, 0, ways * nb * stride * sizeof(double));
    memset(ws->hcount, 0, ways * nb * sizeof(size_t));
    for (i = 0; i < n; i++) {
        size_t at = start + i, row = ws->idx[at];
        size_t k = (i & (ways - 1)) * nb + ((r8 ? r8[row] : rk[row]) - lo);
        double *h = ws->hist + k * stride;

        h[clf ? (size_t)ws->rv[at] : 0] += clf ? ws->rw[at] : ws->rv[at];
        h[C] += ws->rw[at];
        ws->hcount[k]++;
    }
    for (w = 1; w < ways; w++)
        tree_hist_merge(ws, 0, w, nb, stride);
}

/*
 * The same scan as tree_scan over a histogram of the node (few distinct
 * values): a threshold between each pair of consecutive present ranks.
 * The buckets cover ranks [lo, lo + nb); returns 0 when the feature is
 * constant on the node.
 */
static int tree_scan_hist(const tree_builder *b, size_t f, size_t start, size_t n,
                          double W, uint32_t lo, size_t nb, tree_split *best)
{
    const aml_tree_work *ws = b->ws;
    const double *vals = b->d->vals + b->d->voff[f] + lo;
    size_t k, first = 0, last = nb - 1, prev = 0, pos = 0, C = (size_t)b->o->n_out, c;
    double Wl = 0;

    tree_histogram(b, f, start, n, lo, nb);
    while (ws->hcount[first] == 0)
        first++;
    while (ws->hcount[last] == 0)
        last--;
    if (vals[last] <= vals[first] + TREE_FEATURE_EPS)
        return 0;
    for (c = 0; c < C; c++)
        ws->lft[c] = 0;
    for (k = first; k <= last; k++) {
        const double *h = ws->hist + k * (C + 1);

        if (ws->hcount[k] == 0)
            continue;
        if (pos > 0 && vals[k] > vals[prev] + TREE_FEATURE_EPS && pos >= b->msl &&
            n - pos >= b->msl) {
            double proxy = tree_proxy(b, Wl, W);

            if (!best->found || proxy > best->proxy)
                tree_take_split(best, f, pos, proxy, vals[prev], vals[k],
                                (uint32_t)(lo + prev));
        }
        for (c = 0; c < C; c++)
            ws->lft[c] += h[c];
        Wl += h[C];
        pos += ws->hcount[k];
        prev = k;
    }
    return 1;
}

/* The largest rank in [lo, hi] of feature f whose value is <= x (vals[lo] <= x). */
static uint32_t tree_rank_below(const double *vals, uint32_t lo, uint32_t hi, double x)
{
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo + 1) / 2;

        if (vals[mid] <= x)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* Extra trees: one uniform threshold in [min, max) of feature f on the node. */
static void tree_random_split(const tree_builder *b, size_t f, size_t start, size_t n,
                              double W, uint32_t lo, uint32_t hi, tree_split *best)
{
    const aml_tree_work *ws = b->ws;
    const double *vals = b->d->vals + b->d->voff[f];
    const uint32_t *rk = b->d->rank + f * b->d->n;
    const uint8_t *r8 = tree_rank8(b->d, f);
    double vlo = vals[lo], vhi = vals[hi], thr, Wl = 0, sl = 0, proxy;
    size_t i, pos = 0;
    uint32_t kt;
    int c, clf = b->o->task == AML_TASK_CLASSIFICATION, small = n <= TREE_SMALL_SORT;

    thr = (vhi - vlo) * aml_rng_uniform(b->rng) + vlo;
    if (thr >= vhi)
        thr = vlo;
    /* A small node compares values (and finds the rank of the last one
     * <= thr on the way); a large one looks that rank up first. */
    kt = small ? lo : tree_rank_below(vals, lo, hi, thr);
    for (c = 0; c < b->o->n_out; c++)
        ws->lft[c] = 0;
    /* Branch-free (a threshold amid the values mispredicts half the rows),
     * and sums in locals, not through memory, where the task allows. */
    for (i = start; i < start + n; i++) {
        uint32_t k = r8 ? r8[ws->idx[i]] : rk[ws->idx[i]];
        int left = small ? vals[k] <= thr : k <= kt;
        double in = (double)left;

        kt = left && k > kt ? k : kt;
        if (clf)
            ws->lft[(size_t)ws->rv[i]] += in * ws->rw[i];
        else
            sl += in * ws->rv[i];
        Wl += in * ws->rw[i];
        pos += (size_t)left;
    }
    if (!clf)
        ws->lft[0] = sl;
    if (pos < b->msl || n - pos < b->msl)
        return;
    proxy = tree_proxy(b, Wl, W);
    if (!best->found || proxy > best->proxy)
        *best = (tree_split){1, f, pos, kt, thr, proxy};
}

/*
 * Sums into ws->lft (and *Wm) the node's rows holding the rarer value of
 * the two-valued feature f, from the feature's list of such rows when it
 * is shorter than the node (rows of the node are those whose position
 * falls in it), else from the node's rows; returns their count.
 */
static size_t tree_sum_minor(const tree_builder *b, size_t f, size_t start, size_t n,
                             double *Wm)
{
    const aml_tree_data *d = b->d;
    const aml_tree_work *ws = b->ws;
    const uint8_t *r8 = d->rank8 + f * d->n;
    size_t j, c, m = 0;
    uint8_t minor = d->minor[f];

    for (c = 0; c < (size_t)b->o->n_out; c++)
        ws->lft[c] = 0;
    if (d->soff[f + 1] - d->soff[f] < n) {
        for (j = d->soff[f]; j < d->soff[f + 1]; j++) {
            uint32_t at = ws->pos[d->sparse[j]];

            if (at < start || at >= start + n)
                continue;
            tree_move_left(b, at);
            *Wm += ws->rw[at];
            m++;
        }
        return m;
    }
    for (j = start; j < start + n; j++)
        if (r8[ws->idx[j]] == minor) {
            tree_move_left(b, j);
            *Wm += ws->rw[j];
            m++;
        }
    return m;
}

/*
 * A two-valued feature f: sums the side of its rarer value (one-hot
 * columns are mostly 0) with tree_sum_minor, the other by subtraction, and
 * scores the one split between the two values (at the midpoint, or at a
 * uniform draw for random splits).  Returns 0 when the feature is constant
 * on the node.
 */
static int tree_eval_sparse(const tree_builder *b, size_t f, size_t start, size_t n,
                            double W, tree_split *best)
{
    const aml_tree_data *d = b->d;
    const aml_tree_work *ws = b->ws;
    const double *vals = d->vals + d->voff[f];
    size_t c, C = (size_t)b->o->n_out, m, left;
    double Wm = 0, Wl, thr, proxy;
    int minor = d->minor[f];

    m = tree_sum_minor(b, f, start, n, &Wm);
    if (m == 0 || m == n || vals[1] <= vals[0] + TREE_FEATURE_EPS)
        return 0;
    if (b->o->random_splits) {
        thr = (vals[1] - vals[0]) * aml_rng_uniform(b->rng) + vals[0];
        thr = thr >= vals[1] ? vals[0] : thr;
    } else {
        thr = vals[0] / 2.0 + vals[1] / 2.0;
        thr = thr == vals[1] || isinf(thr) ? vals[0] : thr;
    }
    /* lft holds the rare side; the left child is the side of rank 0. */
    Wl = minor == 0 ? Wm : W - Wm;
    left = minor == 0 ? m : n - m;
    for (c = 0; c < C && minor == 1; c++)
        ws->lft[c] = ws->tot[c] - ws->lft[c];
    if (left < b->msl || n - left < b->msl)
        return 1;
    proxy = tree_proxy(b, Wl, W);
    if (!best->found || proxy > best->proxy)
        *best = (tree_split){1, f, left, 0, thr, proxy};
    return 1;
}

/*
 * Evaluates feature f on the node idx[start..start+n) of weight W and
 * updates *best.  Returns 0 when the feature is constant on the node.
 */
static int tree_eval_feature(const tree_builder *b, size_t f, size_t start, size_t n,
                             double W, tree_split *best)
{
    const double *vals = b->d->vals + b->d->voff[f];
    size_t nb = b->d->voff[f + 1] - b->d->voff[f], stride = (size_t)b->o->n_out + 1;
    uint32_t lo, hi;
    uint64_t *s;

    if (nb == 2)
        return tree_eval_sparse(b, f, start, n, W, best);
    /* Few distinct values: a histogram is cheaper than a sort. */
    if (!b->o->random_splits && nb <= TREE_HIST_MAX && nb * stride <= n)
        return tree_scan_hist(b, f, start, n, W, 0, nb, best);
    tree_range(b, f, start, n, &lo, &hi);
    if (vals[hi] <= vals[lo] + TREE_FEATURE_EPS)
        return 0;
    if (b->o->random_splits) {
        tree_random_split(b, f, start, n, W, lo, hi, best);
        return 1;
    }
    nb = (size_t)(hi - lo) + 1;
    if (nb <= TREE_HIST_MAX && nb * stride <= n)
        return tree_scan_hist(b, f, start, n, W, lo, nb, best);
    tree_gather(b, f, start, n);
    s = tree_sort_items(b->ws->items, b->ws->tmp, n, lo, hi - lo);
    tree_scan(b, f, s, n, W, best);
    return 1;
}

/*
 * All features are candidates: visits them in index order, skipping those
 * known to be constant (constant on an ancestor), and appends the ones
 * found constant here to the known ones; returns their new count.
 */
static size_t tree_find_split_all(const tree_builder *b, const tree_job *job, double W,
                                  tree_split *best)
{
    size_t j, f, p = b->d->p, nc = job->n_const;
    size_t *features = b->ws->features;
    unsigned char *mark = b->ws->mark;

    for (j = 0; j < nc; j++)
        mark[features[j]] = 1;
    for (f = 0; f < p; f++)
        if (!mark[f] &&
            !tree_eval_feature(b, f, job->start, job->end - job->start, W, best))
            features[nc++] = f;
    for (j = 0; j < job->n_const; j++)
        mark[features[j]] = 0;
    return nc;
}

/*
 * max_features < p: draws features without replacement (Fisher-Yates over
 * features[n_drawn..), as scikit-learn's splitters do) until max_features
 * were visited and one was not constant.  Known constants count as visited
 * but cost nothing; features found constant join them.  Returns the new
 * count of known constants.
 */
static size_t tree_find_split_drawn(const tree_builder *b, const tree_job *job, double W,
                                    tree_split *best)
{
    size_t *features = b->ws->features, p = b->d->p, mf = b->o->max_features;
    size_t n_known = job->n_const, n_total = n_known, n_drawn = 0, n_found = 0;
    size_t f_i = p, visited = 0, tmp;

    while (f_i > n_total && (visited < mf || visited <= n_found + n_drawn)) {
        size_t f_j = n_drawn + (size_t)aml_rng_below(b->rng, f_i - n_found - n_drawn);

        visited++;
        if (f_j < n_known) { /* a known constant: set it aside */
            tmp = features[n_drawn];
            features[n_drawn++] = features[f_j];
            features[f_j] = tmp;
            continue;
        }
        f_j += n_found;
        if (!tree_eval_feature(b, features[f_j], job->start, job->end - job->start, W,
                               best)) {
            tmp = features[n_total];
            features[n_total++] = features[f_j];
            features[f_j] = tmp;
            n_found++;
            continue;
        }
        f_i--;
        tmp = features[f_i];
        features[f_i] = features[f_j];
        features[f_j] = tmp;
    }
    return n_total;
}

/* Finds the best split of the job's node (totals in ws->tot); returns the known
 * constants. */
static size_t tree_find_split(const tree_builder *b, const tree_job *job, double W,
                              tree_split *best)
{
    memset(best, 0, sizeof(*best));
    if (b->o->max_features >= b->d->p)
        return tree_find_split_all(b, job, W, best);
    return tree_find_split_drawn(b, job, W, best);
}

/* ---- growing ------------------------------------------------------------ */

/* Appends a node (a leaf until a split is stored); returns its index. */
static int tree_add_node(aml_tree *t, const tree_job *job, int32_t *out)
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
static int tree_make_leaf(tree_builder *b, int32_t node, double W)
{
    aml_tree *t = b->t;
    double *v;
    int c;

    if (tree_reserve_leaves(t, t->n_leaves + 1) < 0)
        return AML_ENOMEM;
    v = t->values + t->n_leaves * (size_t)t->n_out;
    for (c = 0; c < t->n_out; c++)
        v[c] = b->ws->tot[c] / W;
    t->value[node] = (int32_t)t->n_leaves++;
    return AML_OK;
}

/*
 * Partitions idx[start..end) by the split, stably, and returns where the
 * right side starts.  Rows stay in ascending order inside every node, so
 * the per-feature scans read the rank columns front to back.
 */
static size_t tree_partition(tree_builder *b, size_t start, size_t end,
                             const tree_split *s)
{
    const uint32_t *rk = b->d->rank + s->feature * b->d->n;
    const uint8_t *r8 = tree_rank8(b->d, s->feature);
    aml_tree_work *ws = b->ws;
    size_t i, l = start, r = 0;

    for (i = start; i < end; i++) {
        uint32_t row = ws->idx[i];

        if ((r8 ? r8[row] : rk[row]) <= s->rank) {
            ws->idx[l] = row;
            ws->rw[l] = ws->rw[i];
            ws->rv[l] = ws->rv[i];
            ws->pos[row] = (uint32_t)l++;
        } else {
            ws->idx2[r] = row;
            ws->rw2[r] = ws->rw[i];
            ws->rv2[r++] = ws->rv[i];
        }
    }
    memcpy(ws->idx + l, ws->idx2, r * sizeof(uint32_t));
    memcpy(ws->rw + l, ws->rw2, r * sizeof(double));
    memcpy(ws->rv + l, ws->rv2, r * sizeof(double));
    for (i = l; i < end; i++)
        ws->pos[ws->idx[i]] = (uint32_t)i;
    assert(l - start == s->pos);
    return l;
}

static int tree_is_leaf(const aml_tree_opts *o, const tree_job *job, double impurity)
{
    size_t n = job->end - job->start;

    return (o->max_depth > 0 && job->depth >= o->max_depth) ||
           n < (size_t)o->min_samples_split || n < 2 * (size_t)o->min_samples_leaf ||
           impurity <= TREE_PURE_EPS;
}

/* Grows one node: a leaf, or a split whose children go on the stack. */
static int tree_grow_node(tree_builder *b, const tree_job *job)
{
    aml_tree *t = b->t;
    aml_tree_work *ws = b->ws;
    tree_split s = {0};
    double W, impurity;
    int32_t node;
    size_t mid, n_const = job->n_const;

    if (tree_add_node(t, job, &node) < 0)
        return AML_ENOMEM;
    W = tree_node_totals(b, job->start, job->end);
    impurity = b->o->task == AML_TASK_CLASSIFICATION
                   ? tree_class_impurity(b->o->criterion, ws->tot, t->n_out, W)
                   : tree_node_variance(b, job->start, job->end, W);
    if (job->parent >= 0)
        t->importance[t->feature[job->parent]] -= W * impurity;
    if (!tree_is_leaf(b->o, job, impurity))
        n_const = tree_find_split(b, job, W, &s);
    if (!s.found)
        return tree_make_leaf(b, node, W);

    t->feature[node] = (int32_t)s.feature;
    t->threshold[node] = s.threshold;
    t->importance[s.feature] += W * impurity;
    mid = tree_partition(b, job->start, job->end, &s);
    ws->stack[ws->top++] = (tree_job){mid, job->end, job->depth + 1, node, 0, n_const};
    ws->stack[ws->top++] = (tree_job){job->start, mid, job->depth + 1, node, 1, n_const};
    return AML_OK;
}

static void tree_normalise_importance(aml_tree *t)
{
    double s = 0;
    size_t j;

    for (j = 0; j < t->p; j++) {
        /* Rounding can leave a tiny negative decrease for a useless split. */
        if (t->importance[j] < 0)
            t->importance[j] = 0;
        s += t->importance[j];
    }
    for (j = 0; j < t->p && s > 0; j++)
        t->importance[j] /= s;
}

/* Loads this tree's row weights and values into the workspace. */
static size_t tree_load_rows(tree_builder *b, const double *w)
{
    aml_tree_work *ws = b->ws;
    const double *y = b->d->y;
    size_t i, m = 0;

    for (i = 0; i < b->d->n; i++) {
        ws->pos[i] = UINT32_MAX;
        if (w[i] <= 0)
            continue;
        ws->pos[i] = (uint32_t)m;
        ws->rw[m] = w[i];
        ws->rv[m] = b->o->task == AML_TASK_CLASSIFICATION ? y[i] : w[i] * y[i];
        ws->idx[m++] = (uint32_t)i;
    }
    for (i = 0; i < b->d->p; i++)
        ws->features[i] = i;
    return m;
}

int aml_tree_grow(aml_tree *t, const aml_tree_data *d, const double *w,
                  const aml_tree_opts *o, aml_rng *rng, aml_tree_work *ws)
{
    tree_builder b = {t, d, o, rng, ws, (size_t)o->min_samples_leaf};
    size_t m;
    int rc = AML_OK;

    assert(o->max_features >= 1 && o->n_out == d->n_out && ws->n == d->n);
    aml_tree_dispose(t);
    t->n_out = o->n_out;
    t->p = d->p;
    if (!(t->importance = aml_calloc(d->p ? d->p : 1, sizeof(double))))
        return AML_ENOMEM;
    m = tree_load_rows(&b, w);
    assert(m > 0);
    ws->top = 0;
    ws->stack[ws->top++] = (tree_job){0, m, 0, -1, 0, 0};
    while (ws->top > 0 && rc == AML_OK) {
        tree_job job = ws->stack[--ws->top];

        rc = tree_grow_node(&b, &job);
    }
    if (rc < 0) {
        aml_tree_dispose(t);
        return rc;
    }
    tree_normalise_importance(t);
    return AML_OK;
}

/* ---- predict ------------------------------------------------------------ */

static int32_t tree_leaf(const aml_tree *t, const double *x)
{
    int32_t node = 0;

    while (t->feature[node] >= 0)
        node = x[t->feature[node]] <= t->threshold[node] ? t->left[node] : t->right[node];
    return t->value[node];
}

void aml_tree_predict_add(const aml_tree *t, const aml_matrix *X, double *out)
{
    size_t i, C = (size_t)t->n_out;
    int c;

    for (i = 0; i < X->rows; i++) {
        const double *v = t->values + (size_t)tree_leaf(t, X->data + i * t->p) * C;

        for (c = 0; c < t->n_out; c++)
            out[i * C + (size_t)c] += v[c];
    }
}

void aml_tree_predict(const aml_tree *t, const aml_matrix *X, double *out)
{
    size_t i, C = (size_t)t->n_out;

    for (i = 0; i < X->rows; i++)
        memcpy(out + i * C, t->values + (size_t)tree_leaf(t, X->data + i * t->p) * C,
               C * sizeof(double));
}

/* ---- C export ----------------------------------------------------------- */

/* The node arrays of all trees side by side: children and leaf rows made absolute. */
static int tree_emit_nodes(const aml_tree *trees, size_t n, aml_cgen *g, const char *nm,
                           size_t total)
{
    int *feat = aml_mallocarray(total + 1, sizeof(int));
    int *kid = aml_mallocarray(2 * total + 1, sizeof(int));
    double *thr = aml_mallocarray(total + 1, sizeof(double));
    char buf[96];
    size_t t, i, at = 0, leaves = 0;

    if (!feat || !kid || !thr) {
        free(feat), free(kid), free(thr);
        return AML_ENOMEM;
    }
    for (t = 0; t < n; leaves += trees[t++].n_leaves) {
        for (i = 0; i < trees[t].n_nodes; i++, at++) {
            const aml_tree *tr = &trees[t];

            feat[at] = tr->feature[i];
            thr[at] = tr->threshold[i];
            /* A leaf keeps its value row (absolute) in the left slot. */
            kid[2 * at] = tr->feature[i] >= 0 ? (int)(at - i) + tr->left[i]
                                              : (int)leaves + tr->value[i];
            kid[2 * at + 1] = tr->feature[i] >= 0 ? (int)(at - i) + tr->right[i] : -1;
        }
    }
    snprintf(buf, sizeof(buf), "%s_feat", nm);
    aml_cgen_ints(g, buf, feat, total);
    snprintf(buf, sizeof(buf), "%s_thr", nm);
    aml_cgen_doubles(g, buf, thr, total);
    snprintf(buf, sizeof(buf), "%s_kid", nm);
    aml_cgen_ints(g, buf, kid, 2 * total);
    free(feat), free(kid), free(thr);
    return AML_OK;
}

/* Leaf values of all trees, in tree order, and each tree's root node. */
static int tree_emit_values(const aml_tree *trees, size_t n, aml_cgen *g, const char *nm)
{
    size_t t, vals = 0, at = 0, C = (size_t)trees[0].n_out;
    int *root = aml_mallocarray(n + 1, sizeof(int));
    double *v;
    char buf[96];

    for (t = 0; t < n; t++)
        vals += trees[t].n_leaves * C;
    if (!root || !(v = aml_mallocarray(vals + 1, sizeof(double)))) {
        free(root);
        return AML_ENOMEM;
    }
    for (t = 0, vals = 0; t < n; t++) {
        memcpy(v + vals, trees[t].values, trees[t].n_leaves * C * sizeof(double));
        vals += trees[t].n_leaves * C;
        root[t] = (int)at;
        at += trees[t].n_nodes;
    }
    snprintf(buf, sizeof(buf), "%s_vals", nm);
    aml_cgen_doubles(g, buf, v, vals);
    snprintf(buf, sizeof(buf), "%s_root", nm);
    aml_cgen_ints(g, buf, root, n);
    free(root), free(v);
    return AML_OK;
}

int aml_tree_emit_c(const aml_tree *trees, size_t n, aml_cgen *g, char *name, size_t len)
{
    size_t t, total = 0;
    int rc;

    for (t = 0; t < n; t++)
        total += trees[t].n_nodes;
    if (n == 0 || total > INT32_MAX / 2)
        return aml_error_set(AML_EINVAL, "trees: nothing to export or too many nodes");
    if ((rc = aml_cgen_name(g, "trees", name, len)) < 0 ||
        (rc = tree_emit_nodes(trees, n, g, name, total)) < 0 ||
        (rc = tree_emit_values(trees, n, g, name)) < 0)
        return rc;
    return aml_cgen_printf(g,
                           "static size_t %s_leaf(size_t t, const double *x)\n{\n"
                           "    int node = %s_root[t];\n\n"
                           "    while (%s_feat[node] >= 0)\n"
                           "        node = x[%s_feat[node]] <= %s_thr[node]"
                           " ? %s_kid[2 * node] : %s_kid[2 * node + 1];\n"
                           "    return (size_t)%s_kid[2 * node] * %d;\n}\n\n",
                           name, name, name, name, name, name, name, name,
                           trees[0].n_out);
}

/* ---- save / load -------------------------------------------------------- */

int aml_tree_save(const aml_tree *t, aml_writer *w)
{
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
    aml_put_f64s(w, t->importance, t->p);
    return w->failed ? AML_ENOMEM : AML_OK;
}

static int tree_load_sizes(aml_tree *t, aml_reader *r, aml_task task)
{
    uint32_t n_out, n_nodes, n_leaves;
    uint64_t p;
    int rc;

    if ((rc = aml_get_u32(r, &n_out)) < 0 || (rc = aml_get_u64(r, &p)) < 0 ||
        (rc = aml_get_u32(r, &n_nodes)) < 0 || (rc = aml_get_u32(r, &n_leaves)) < 0)
        return rc;
    if (n_out < 1 || n_out > 1u << 20 || (task == AML_TASK_REGRESSION && n_out != 1) ||
        p > INT32_MAX || n_nodes < 1 || n_nodes > INT32_MAX || n_leaves < 1 ||
        n_leaves > n_nodes)
        return aml_error_set(AML_EFORMAT, "tree: corrupt model header");
    t->n_out = (int)n_out;
    t->p = (size_t)p;
    t->n_nodes = n_nodes;
    t->n_leaves = n_leaves;
    return AML_OK;
}

/* One node's fields are consistent: a leaf with a value, or a split with later children.
 */
static int tree_node_ok(const aml_tree *t, size_t i)
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
static int tree_validate(const aml_tree *t)
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
        return aml_error_set(rc, "tree: corrupt node %zu in model", i - 1);
    return rc;
}

int aml_tree_importance_ok(const double *imp, size_t p)
{
    double s = 0;
    size_t j;

    for (j = 0; j < p; j++) {
        if (!(imp[j] >= 0 && imp[j] <= 1))
            return 0;
        s += imp[j];
    }
    return s == 0 || fabs(s - 1) < 1e-9;
}

int aml_tree_load(aml_tree *t, aml_reader *r, aml_task task)
{
    size_t n, nv;
    int rc;

    if ((rc = tree_load_sizes(t, r, task)) < 0)
        return rc;
    n = t->n_nodes;
    nv = t->n_leaves * (size_t)t->n_out;
    if ((rc = aml_reader_need(r, n, 4 * sizeof(int32_t) + sizeof(double))) < 0 ||
        (rc = tree_reserve_nodes(t, n)) < 0 || (rc = aml_reader_need(r, nv, 8)) < 0 ||
        (rc = tree_reserve_leaves(t, t->n_leaves)) < 0 ||
        (rc = aml_reader_need(r, t->p, 8)) < 0)
        return rc;
    if (!(t->importance = aml_calloc(t->p ? t->p : 1, sizeof(double))))
        return AML_ENOMEM;
    if ((rc = aml_get_i32s(r, t->feature, n)) < 0 ||
        (rc = aml_get_f64s(r, t->threshold, n)) < 0 ||
        (rc = aml_get_i32s(r, t->left, n)) < 0 ||
        (rc = aml_get_i32s(r, t->right, n)) < 0 ||
        (rc = aml_get_i32s(r, t->value, n)) < 0 ||
        (rc = aml_get_f64s(r, t->values, nv)) < 0 ||
        (rc = aml_get_f64s(r, t->importance, t->p)) < 0)
        return rc;
    if (!aml_tree_importance_ok(t->importance, t->p))
        return aml_error_set(AML_EFORMAT, "tree: corrupt feature importances in model");
    return tree_validate(t);
}
