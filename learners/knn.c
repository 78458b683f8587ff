/*
 * knn.c - k-nearest neighbours for classification and regression.
 *
 * The brute-force method of Cover and Hart, "Nearest neighbor pattern
 * classification" (IEEE Trans. Inf. Theory, 1967), behaving like
 * scikit-learn's KNeighborsClassifier / KNeighborsRegressor with
 * algorithm='brute'.  Fit only copies the training rows; all the work is in
 * predict, which takes the queries in blocks of KNN_BLOCK_ROWS and the
 * training rows in tiles of KNN_TILE_ROWS, so that one block-by-tile
 * distance matrix (1 MiB) stays in cache whatever the data size.
 *
 * Euclidean distances of a tile come from one BLAS product,
 * ||q||^2 + ||t||^2 - 2 q.t; that form loses accuracy for points that are
 * close relative to their norms, so it only screens: its error is bounded
 * (knn_slack), the rows it keeps plus its near misses (within twice the
 * bound of the farthest kept) surely hold the k nearest, and those few get
 * exact distances, summed in column order (knn_sqdist), which alone decide.
 * Every search method (this one, the k-d tree, the C export) therefore
 * chooses the same neighbours to the bit, and duplicates of a training row
 * get exactly 0.  On CPUs with AVX-512, data of at most 32 dense columns
 * skips BLAS: a fused kernel (knn_fused_queries) computes the product form
 * of 8 queries x 16 training rows in registers and screens it there, so
 * the distance tile never goes through memory and BLAS's per-call packing
 * is gone (letter, 16 features: predict 1.5 times faster); with sparse
 * columns beside them it computes the dense part into the tile and a
 * vector screen follows the sparse part (adult: 1.5 times faster).  It
 * only screens, like the product it replaces, so the neighbours stay the
 * same to the bit (AML_KNN_GENERIC=1 in the environment at fit turns it
 * off, for tests).  When some columns are sparse (non-zero in at most an eighth of the
 * rows: the one-hot indicators of categorical data) their part of q.t goes through an
 * inverted index instead of the product, which on adult (105 columns, 85 of them sparse)
 * cuts the product to 20 columns.  Manhattan distances are plain loops.  The k nearest
 * are kept in a bounded max-heap ordered by (distance, training index), so equal
 * distances go to the lower training index and the result never depends on the tiling or
 * the order of search. Most candidates lose, so they are screened a chunk at a time
 * against the heap's root before any is inserted.
 *
 * With at most KNN_KD_MAX_DIM features fit also builds a k-d tree with
 * bounding boxes (Friedman, Bentley and Finkel 1977) and tries it out on
 * a sample of the training rows as queries; when those scan a small share
 * of the rows (data of low intrinsic dimension) predict searches it depth
 * first instead of the brute force: on california_housing (13 columns)
 * that is 2.7 times faster and on diamonds (26 columns, 20 of them
 * one-hot) 1.8 times, while on letter (16) the brute force wins.  The tree
 * prunes a node only when its bound exceeds the farthest kept, so exact
 * ties still go to the lower index, and its neighbours are the brute
 * force's to the bit.  With AVX-512 the leaves are scanned 16 rows at a
 * time, one row per lane, each lane summing in column order without FMA
 * (the same distances to the bit), and the box bounds are summed in
 * vectors, scaled down by a margin above their rounding (diamonds: predict
 * 1.6 times faster).
 *
 * Threads: predict shares the query blocks among the thread count given
 * to fit (predict has no thread argument; a loaded model uses one thread).
 * Each thread calls BLAS single-threaded meanwhile, because OpenBLAS's
 * pthread server slows down under concurrent multi-threaded calls; the
 * BLAS setting is restored before returning.  A query's answer depends on
 * its own block only, so any thread count gives the same bits.
 *
 * Votes: 'uniform' gives each neighbour weight 1 and 'distance' gives 1/d;
 * when some neighbours lie at distance 0 they share all the weight, as in
 * scikit-learn.  Sample weights from fit multiply the vote weights (an
 * extension: scikit-learn's neighbours take no sample weights); if every
 * chosen neighbour has weight 0 the vote falls back to uniform.  Rows with
 * sample weight 0 are still stored and can be chosen as neighbours.
 *
 * Model files hold the whole training matrix, so they grow with the data;
 * the tree, the sparse index and the norms are rebuilt on load.
 */
#include "learner.h"
#include "aml.h"
#include "memo.h"

#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A column is sparse when at most 1 / KNN_SPARSE_SHARE of its rows are non-zero. */
#define KNN_SPARSE_SHARE 8
/* Queries per block, and training rows per distance tile (64 x 2048 doubles = 1 MiB). */
#define KNN_BLOCK_ROWS 64
/* Candidates screened together against the farthest kept neighbour. */
#define KNN_CHUNK 16
/* Independent running minima in the screen of a chunk (a divisor of KNN_CHUNK). */
#define KNN_LANES 4
#define KNN_TILE_ROWS 2048
/* Near misses of the screen kept per query before it falls back to a full exact scan. */
#define KNN_NEAR 32
/* The k-d tree serves at most this many features (scikit-learn's 'auto'
 * uses 15), with leaves of at most KNN_KD_LEAF rows. */
#define KNN_KD_MAX_DIM 64
/*
 * The tree is kept when a search scans at most this share of the training
 * rows: each row it scans costs about ten times a row of the brute force,
 * whose BLAS product and screen are much cheaper per row (measured on
 * letter, 15% scanned: the brute force is 1.6 times faster; diamonds, 3.5%:
 * the tree is 1.8 times faster).
 */
#define KNN_KD_SHARE 0.08
/* Training rows that try the tree out as queries. */
#define KNN_KD_TRIALS 64
#define KNN_KD_LEAF 32
#define KNN_KD_STACK 256
/*
 * The fused kernel (knn_fused_tile) serves dense euclidean data of at most
 * KNN_FUSED_MAX_DIM features on CPUs with AVX-512: there BLAS's packing
 * and the round trip of the distance tile through memory cost more than
 * the product.  It takes KNN_FUSED_QUERIES queries against KNN_FUSED_ROWS
 * training rows at a time, 16 accumulators of 8 lanes in registers.
 */
#define KNN_FUSED_MAX_DIM 32
#define KNN_FUSED_ROWS 16
#define KNN_FUSED_QUERIES 8
/* GCC only: the leaf scan relies on its optimize("fp-contract=off") to keep
 * the scalar distance's bits, which clang ignores (TODO(knn): clang's
 * `#pragma clang fp contract(off)`). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define KNN_HAVE_FUSED 1
#include <immintrin.h>
#else
#define KNN_HAVE_FUSED 0
#endif

enum { KNN_UNIFORM = 0, KNN_DISTANCE = 1 };
enum { KNN_EUCLIDEAN = 0, KNN_MANHATTAN = 1 };

static const char *const knn_weight_words[] = {"uniform", "distance", NULL};
static const char *const knn_metric_words[] = {"euclidean", "manhattan", NULL};

static const aml_param_def knn_params[] = {
    {.name = "k",
     .kind = AML_VAL_INT,
     .lo = 1,
     .hi = INFINITY,
     .def = {.kind = AML_VAL_INT, .i = 5},
     .search_lo = 1,
     .search_hi = 50,
     .doc = "number of neighbours (all training rows when k exceeds them)"},
    {.name = "weights",
     .kind = AML_VAL_STR,
     .choices = knn_weight_words,
     .def = {.kind = AML_VAL_STR, .str = "uniform"},
     .doc = "vote weight of a neighbour: uniform, or distance (1/d)"},
    {.name = "metric",
     .kind = AML_VAL_STR,
     .choices = knn_metric_words,
     .def = {.kind = AML_VAL_STR, .str = "euclidean"},
     .doc = "distance between rows: euclidean or manhattan"},
    {.name = NULL},
};

typedef struct knn {
    aml_learner base;
    long long k;
    int weights, metric;
    int n_out;      /* outputs per row: n_classes or 1 */
    int threads;    /* predict's threads: fit's count (1 for a loaded model) */
    size_t n, p;    /* training rows and features */
    double *X;      /* n x p training rows */
    double *y;      /* n targets (class indices for classification) */
    double *w;      /* n sample weights */
    double *norms2; /* n squared row norms, for the euclidean product */
    double tnmax;   /* the largest of norms2 */
    /* Column split for the euclidean product, derived from X (not saved):
     * sparse columns (one-hot indicators, mostly) go through an inverted
     * index, the rest through BLAS.  ps == 0 means X is used whole. */
    size_t pd, ps;
    size_t *dcol, *scol; /* pd dense and ps sparse column indices */
    double *Xd;          /* n x pd dense columns, when ps > 0 */
    size_t *sptr, *srow; /* ps + 1 offsets; row of each sparse entry */
    double *sval;        /* value of each sparse entry */
    /* k-d tree over the training rows for few features (derived, not saved). */
    struct knn_kdnode *kd; /* n_kd nodes, root first; NULL: brute force */
    size_t n_kd;
    size_t *perm; /* training rows in tree order */
    double *kx;   /* n x p rows in tree order */
    double *kbox; /* n_kd x 2p: per node the lower then upper corner */
    /* The leaves' rows for the vector leaf scan (NULL: scalar): per leaf,
     * groups of 8 rows feature-major, zero-padded, from offset kxo[node]. */
    double *kxt;
    size_t *kxo;
    /* Training rows packed for the fused kernel (derived, not saved; NULL:
     * BLAS tiles): groups of 8 rows, feature-major within a group, padded
     * to a multiple of KNN_FUSED_ROWS rows whose norms are +inf. */
    double *xp, *tnp;
} knn;

/* A k-d tree node: rows perm[lo..hi); children at child and child + 1 (0: leaf). */
typedef struct knn_kdnode {
    size_t lo, hi, child;
} knn_kdnode;

/* One candidate neighbour. */
typedef struct knn_nb {
    double d;
    size_t i;
} knn_nb;

static int knn_word_index(const char *const *words, const char *s)
{
    int i;

    for (i = 0; words[i]; i++)
        if (strcmp(words[i], s) == 0)
            return i;
    return -1;
}

static int knn_create(aml_learner **out, const aml_learner_type *type, aml_task task)
{
    knn *m = aml_calloc(1, sizeof(*m));

    *out = NULL;
    if (!m)
        return AML_ENOMEM;
    m->base.type = type;
    m->base.task = task;
    m->k = 5;
    m->weights = KNN_UNIFORM;
    m->metric = KNN_EUCLIDEAN;
    *out = &m->base;
    return AML_OK;
}

static int knn_set_param(aml_learner *l, const char *name, const aml_value *v)
{
    knn *m = (knn *)l;

    if (strcmp(name, "k") == 0 && v->kind == AML_VAL_INT && v->i >= 1) {
        m->k = v->i;
        return AML_OK;
    }
    if (strcmp(name, "weights") == 0 && v->kind == AML_VAL_STR &&
        knn_word_index(knn_weight_words, v->str) >= 0) {
        m->weights = knn_word_index(knn_weight_words, v->str);
        return AML_OK;
    }
    if (strcmp(name, "metric") == 0 && v->kind == AML_VAL_STR &&
        knn_word_index(knn_metric_words, v->str) >= 0) {
        m->metric = knn_word_index(knn_metric_words, v->str);
        return AML_OK;
    }
    return aml_error_set(AML_EINVAL, "knn: bad value for parameter '%s'", name);
}

static void knn_split_free(knn *m)
{
    free(m->dcol);
    free(m->Xd);
    free(m->sptr);
    free(m->srow);
    free(m->sval);
    m->dcol = m->scol = m->sptr = m->srow = NULL;
    m->Xd = m->sval = NULL;
    m->pd = m->p;
    m->ps = 0;
}

static void knn_kd_free(knn *m)
{
    free(m->kd);
    free(m->perm);
    free(m->kx);
    free(m->kbox);
    free(m->kxt);
    free(m->kxo);
    m->kd = NULL;
    m->perm = m->kxo = NULL;
    m->kx = m->kbox = m->kxt = NULL;
    m->n_kd = 0;
}

static void knn_fused_free(knn *m)
{
    free(m->xp);
    free(m->tnp);
    m->xp = m->tnp = NULL;
}

static void knn_release(knn *m)
{
    knn_fused_free(m);
    knn_kd_free(m);
    free(m->X);
    free(m->y);
    free(m->w);
    free(m->norms2);
    knn_split_free(m);
    m->X = m->y = m->w = m->norms2 = NULL;
    m->n = m->p = 0;
}

static void knn_free(aml_learner *l)
{
    knn *m = (knn *)l;

    if (!m)
        return;
    knn_release(m);
    free(m);
}

/* Allocates the training arrays for n rows of p features. */
static int knn_alloc(knn *m, size_t n, size_t p)
{
    m->n = n;
    m->p = p;
    m->X = aml_mallocarray(n, p ? p * sizeof(double) : sizeof(double));
    m->y = aml_mallocarray(n, sizeof(double));
    m->w = aml_mallocarray(n, sizeof(double));
    m->norms2 = aml_mallocarray(n, sizeof(double));
    if (p && n > SIZE_MAX / p / sizeof(double))
        return aml_error_set(AML_ENOMEM, "knn: %zu x %zu training rows is too large", n,
                             p);
    if (!m->X || !m->y || !m->w || !m->norms2)
        return AML_ENOMEM;
    return AML_OK;
}

static void knn_compute_norms(knn *m)
{
    size_t i;

    m->tnmax = 0;
    for (i = 0; i < m->n; i++) {
        m->norms2[i] = cblas_ddot((int)m->p, m->X + i * m->p, 1, m->X + i * m->p, 1);
        m->tnmax = m->norms2[i] > m->tnmax ? m->norms2[i] : m->tnmax;
    }
}

/* Fills the sparse columns' inverted index (entries in row order per column). */
static void knn_split_index(knn *m, size_t *nnz)
{
    size_t i, s;

    m->sptr[0] = 0;
    for (s = 0; s < m->ps; s++) {
        m->sptr[s + 1] = m->sptr[s] + nnz[m->scol[s]];
        nnz[m->scol[s]] = m->sptr[s]; /* now the column's write cursor */
    }
    for (i = 0; i < m->n; i++) {
        const double *x = m->X + i * m->p;

        for (s = 0; s < m->pd; s++)
            m->Xd[i * m->pd + s] = x[m->dcol[s]];
        for (s = 0; s < m->ps; s++)
            if (x[m->scol[s]] != 0) {
                size_t at = nnz[m->scol[s]]++;

                m->srow[at] = i;
                m->sval[at] = x[m->scol[s]];
            }
    }
}

/*
 * Splits the columns for the euclidean product when some are sparse.  On
 * one-hot data (adult: ~100 columns, ~14 non-zeros a row) this cuts the
 * product's work several times; dense data keeps the single BLAS call.
 */
static int knn_split(knn *m)
{
    size_t i, j, *nnz, total = 0;

    knn_split_free(m);
    if (m->metric != KNN_EUCLIDEAN || m->p == 0)
        return AML_OK;
    if (!(nnz = aml_calloc(m->p, sizeof(size_t))))
        return AML_ENOMEM;
    for (i = 0; i < m->n; i++)
        for (j = 0; j < m->p; j++)
            nnz[j] += m->X[i * m->p + j] != 0;
    for (j = 0; j < m->p; j++)
        if (nnz[j] * KNN_SPARSE_SHARE <= m->n)
            m->ps++, total += nnz[j];
    m->pd = m->p - m->ps;
    if (m->ps == 0) {
        free(nnz);
        return AML_OK;
    }
    m->dcol = aml_mallocarray(m->p, sizeof(size_t));
    m->Xd = aml_mallocarray(m->n, (m->pd + 1) * sizeof(double));
    m->sptr = aml_mallocarray(m->ps + 1, sizeof(size_t));
    m->srow = aml_mallocarray(total + 1, sizeof(size_t));
    m->sval = aml_mallocarray(total + 1, sizeof(double));
    if (!m->dcol || !m->Xd || !m->sptr || !m->srow || !m->sval) {
        free(nnz);
        knn_split_free(m);
        return AML_ENOMEM;
    }
    m->scol = m->dcol + m->pd;
    for (j = 0, i = 0; j < m->p; j++)
        if (nnz[j] * KNN_SPARSE_SHARE > m->n)
            m->dcol[i++] = j;
    for (j = 0, i = 0; j < m->p; j++)
        if (nnz[j] * KNN_SPARSE_SHARE <= m->n)
            m->scol[i++] = j;
    knn_split_index(m, nnz);
    free(nnz);
    return AML_OK;
}

/* ---- k-d tree (Bentley, "Multidimensional binary search trees used for
 * associative searching", CACM 1975; Friedman, Bentley and Finkel, ACM TOMS
 * 1977, with bounding boxes as scikit-learn's KDTree) --------------------- */

/* Is row a before row b along dim?  Ties go by row index: a total order. */
static int knn_kd_less(const knn *m, size_t a, size_t b, size_t dim)
{
    double va = m->X[a * m->p + dim], vb = m->X[b * m->p + dim];

    return va < vb || (va == vb && a < b);
}

/* Puts the row of rank `nth` of idx[0..n) along dim in place (quickselect). */
static void knn_kd_select(const knn *m, size_t *idx, size_t n, size_t nth, size_t dim)
{
    size_t lo = 0, hi = n; /* the answer lies in idx[lo..hi) */

    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2, store = lo, i, t;

        t = idx[mid], idx[mid] = idx[hi - 1], idx[hi - 1] = t; /* pivot to the end */
        for (i = lo; i + 1 < hi; i++)
            if (knn_kd_less(m, idx[i], idx[hi - 1], dim)) {
                t = idx[i], idx[i] = idx[store], idx[store] = t;
                store++;
            }
        t = idx[store], idx[store] = idx[hi - 1], idx[hi - 1] = t;
        if (store == nth)
            return;
        if (store < nth)
            lo = store + 1;
        else
            hi = store;
    }
}

/* Bounding box of node i into kbox; returns the dimension of widest spread. */
static size_t knn_kd_box(knn *m, size_t i)
{
    double *lo = m->kbox + i * 2 * m->p, *hi = lo + m->p, best = -1.0;
    size_t r, j, dim = 0;

    for (j = 0; j < m->p; j++)
        lo[j] = INFINITY, hi[j] = -INFINITY;
    for (r = m->kd[i].lo; r < m->kd[i].hi; r++)
        for (j = 0; j < m->p; j++) {
            double v = m->X[m->perm[r] * m->p + j];

            lo[j] = v < lo[j] ? v : lo[j];
            hi[j] = v > hi[j] ? v : hi[j];
        }
    for (j = 0; j < m->p; j++)
        if (hi[j] - lo[j] > best)
            best = hi[j] - lo[j], dim = j;
    return dim;
}

static int knn_fused_cpu(void);

/* Packs the leaves' rows for the vector leaf scan, when the CPU has it
 * (padded to pairs of 8-row groups, which the scan takes together). */
static int knn_kd_pack(knn *m)
{
    size_t i, r, j, off = 0;

    if (!knn_fused_cpu())
        return AML_OK;
    if (!(m->kxo = aml_mallocarray(m->n_kd, sizeof(size_t))))
        return AML_ENOMEM;
    for (i = 0; i < m->n_kd; i++) {
        m->kxo[i] = off;
        if (!m->kd[i].child)
            off += (m->kd[i].hi - m->kd[i].lo + 15) / 16 * 16 * m->p;
    }
    if (!(m->kxt = aligned_alloc(64, (off + 8) * sizeof(double))))
        return aml_error_set(AML_ENOMEM, "knn: out of memory packing %zu rows", m->n);
    memset(m->kxt, 0, (off + 8) * sizeof(double));
    for (i = 0; i < m->n_kd; i++)
        for (r = m->kd[i].lo; r < m->kd[i].hi && !m->kd[i].child; r++)
            for (j = 0; j < m->p; j++)
                m->kxt[m->kxo[i] + (r - m->kd[i].lo) / 8 * 8 * m->p + j * 8 +
                       (r - m->kd[i].lo) % 8] = m->kx[r * m->p + j];
    return AML_OK;
}

/* Builds the tree breadth first: each node over KNN_KD_LEAF rows splits at its median. */
static int knn_kd_build(knn *m)
{
    size_t cap = 4 * (m->n / KNN_KD_LEAF) + 4, i, r;

    knn_kd_free(m);
    m->kd = aml_mallocarray(cap, sizeof(knn_kdnode));
    m->perm = aml_mallocarray(m->n, sizeof(size_t));
    m->kx = aml_mallocarray(m->n, m->p * sizeof(double));
    m->kbox = aml_mallocarray(cap, 2 * m->p * sizeof(double));
    if (!m->kd || !m->perm || !m->kx || !m->kbox) {
        knn_kd_free(m);
        return AML_ENOMEM;
    }
    for (r = 0; r < m->n; r++)
        m->perm[r] = r;
    m->kd[0] = (knn_kdnode){0, m->n, 0};
    m->n_kd = 1;
    for (i = 0; i < m->n_kd; i++) {
        size_t dim = knn_kd_box(m, i), lo = m->kd[i].lo, cnt = m->kd[i].hi - lo;

        if (cnt <= KNN_KD_LEAF)
            continue;
        assert(m->n_kd + 2 <= cap);
        knn_kd_select(m, m->perm + lo, cnt, cnt / 2, dim);
        m->kd[i].child = m->n_kd;
        m->kd[m->n_kd++] = (knn_kdnode){lo, lo + cnt / 2, 0};
        m->kd[m->n_kd++] = (knn_kdnode){lo + cnt / 2, m->kd[i].hi, 0};
    }
    for (r = 0; r < m->n; r++)
        memcpy(m->kx + r * m->p, m->X + m->perm[r] * m->p, m->p * sizeof(double));
    return knn_kd_pack(m);
}

/* Derived search structures: the k-d tree for few features, else the column split. */
static size_t knn_kd_search(const knn *m, const double *q, knn_nb *h, size_t k,
                            size_t *scanned);

/*
 * Does the tree pay?  KNN_KD_TRIALS training rows, evenly spread, are
 * searched as queries, and the tree stays if they scanned at most
 * KNN_KD_SHARE of the rows on average.  Either way the neighbours are the
 * same (both methods decide by exact distances); only the time differs.
 * The choice depends on the training rows alone.
 */
static int knn_kd_pays(const knn *m, int *pays)
{
    size_t k = (size_t)m->k < m->n ? (size_t)m->k : m->n, trials, t, scanned = 0;
    knn_nb *h = aml_mallocarray(k, sizeof(knn_nb));

    if (!h)
        return AML_ENOMEM;
    trials = m->n < KNN_KD_TRIALS ? m->n : KNN_KD_TRIALS;
    for (t = 0; t < trials; t++)
        knn_kd_search(m, m->X + t * (m->n / trials) * m->p, h, k, &scanned);
    free(h);
    *pays = (double)scanned <= KNN_KD_SHARE * (double)trials * (double)m->n;
    return AML_OK;
}

/* Whether this CPU runs the fused kernel; AML_KNN_GENERIC=1 says no (tests). */
static int knn_fused_cpu(void)
{
    const char *env = getenv("AML_KNN_GENERIC");

    if (env && strcmp(env, "1") == 0)
        return 0;
#if KNN_HAVE_FUSED
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

/* Packs the training rows for the fused kernel when it serves this model. */
static int knn_fused_pack(knn *m)
{
    size_t np = (m->n + KNN_FUSED_ROWS - 1) / KNN_FUSED_ROWS * KNN_FUSED_ROWS, i, j;

    const double *src = m->ps > 0 ? m->Xd : m->X; /* the dense columns, pd of them */

    knn_fused_free(m);
    if (m->metric != KNN_EUCLIDEAN || m->pd == 0 || m->pd > KNN_FUSED_MAX_DIM ||
        !knn_fused_cpu())
        return AML_OK;
    /* 64-byte alignment: one vector load per cache line. */
    m->xp = aligned_alloc(64, np * m->pd * sizeof(double));
    m->tnp = aligned_alloc(64, np * sizeof(double));
    if (!m->xp || !m->tnp) {
        knn_fused_free(m);
        return aml_error_set(AML_ENOMEM, "knn: out of memory packing %zu rows", m->n);
    }
    for (i = 0; i < np; i++) {
        double *g = m->xp + i / 8 * 8 * m->pd + i % 8;

        for (j = 0; j < m->pd; j++)
            g[j * 8] = i < m->n ? src[i * m->pd + j] : 0.0;
        m->tnp[i] = i < m->n ? m->norms2[i] : INFINITY;
    }
    return AML_OK;
}

/* Derived search structures: the k-d tree when it pays, else the column split. */
static int knn_prepare(knn *m)
{
    int rc, pays = 0;

    knn_compute_norms(m);
    knn_kd_free(m);
    knn_split_free(m);
    if (m->p >= 1 && m->p <= KNN_KD_MAX_DIM && m->n > KNN_KD_LEAF) {
        if ((rc = knn_kd_build(m)) < 0 || (rc = knn_kd_pays(m, &pays)) < 0)
            return rc;
        if (pays)
            return AML_OK;
        knn_kd_free(m);
    }
    if ((rc = knn_split(m)) < 0)
        return rc;
    return knn_fused_pack(m);
}

/* Checks targets and weights: labels must be class indices, weights >= 0. */
static int knn_check_targets(const knn *m, const double *y, const double *w)
{
    size_t i;

    for (i = 0; i < m->n; i++) {
        if (m->base.task == AML_TASK_CLASSIFICATION &&
            !(y[i] >= 0 && y[i] < m->n_out && y[i] == floor(y[i])))
            return aml_error_set(AML_EINVAL,
                                 "knn: row %zu has label %g, not a class"
                                 " index below %d",
                                 i, y[i], m->n_out);
        if (m->base.task == AML_TASK_REGRESSION && !isfinite(y[i]))
            return aml_error_set(AML_EINVAL, "knn: row %zu has target %g", i, y[i]);
        if (w && !(w[i] >= 0 && isfinite(w[i])))
            return aml_error_set(AML_EINVAL, "knn: row %zu has weight %g", i, w[i]);
    }
    return AML_OK;
}

static int knn_fit(aml_learner *l, const aml_matrix *X, const double *y, const double *w,
                   int n_classes, aml_rng *rng, int threads)
{
    knn *m = (knn *)l;
    size_t i;
    int rc;

    knn_release(m);
    m->n_out = l->task == AML_TASK_CLASSIFICATION ? n_classes : 1;
    if (X->cols > INT32_MAX || X->rows > INT32_MAX)
        return aml_error_set(AML_EINVAL, "knn: %zu x %zu is too large for BLAS", X->rows,
                             X->cols);
    m->n = X->rows;
    if ((rc = knn_check_targets(m, y, w)) < 0)
        goto fail;
    if ((rc = knn_alloc(m, X->rows, X->cols)) < 0)
        goto fail;
    memcpy(m->X, X->data, m->n * m->p * sizeof(double));
    memcpy(m->y, y, m->n * sizeof(double));
    for (i = 0; i < m->n; i++)
        m->w[i] = w ? w[i] : 1.0;
    if ((rc = knn_prepare(m)) < 0)
        goto fail;
    m->threads = threads;
    l->n_features = m->p;
    l->n_classes = l->task == AML_TASK_CLASSIFICATION ? n_classes : 0;
    return AML_OK;

fail:
    knn_release(m);
    return rc;
}

/* ---- neighbour selection ------------------------------------------------ */

/* a is farther than b: larger distance, or the same distance and a later row. */
static int knn_farther(const knn_nb *a, const knn_nb *b)
{
    return a->d > b->d || (a->d == b->d && a->i > b->i);
}

static void knn_sift_down(knn_nb *h, size_t len, size_t at)
{
    for (;;) {
        size_t c = 2 * at + 1, big = at;
        knn_nb t;

        if (c < len && knn_farther(&h[c], &h[big]))
            big = c;
        if (c + 1 < len && knn_farther(&h[c + 1], &h[big]))
            big = c + 1;
        if (big == at)
            return;
        t = h[at];
        h[at] = h[big];
        h[big] = t;
        at = big;
    }
}

/* Squared euclidean distance, summed in column order: every path's exact distance. */
static double knn_sqdist(const double *a, const double *b, size_t p)
{
    double s = 0;
    size_t j;

    for (j = 0; j < p; j++)
        s += (a[j] - b[j]) * (a[j] - b[j]);
    return s;
}

/* Puts candidate c into the heap h of *len < k entries. */
static void knn_push(knn_nb *h, size_t *len, knn_nb c)
{
    size_t at = (*len)++;

    h[at] = c;
    while (at > 0 && knn_farther(&h[at], &h[(at - 1) / 2])) {
        knn_nb t = h[at];

        h[at] = h[(at - 1) / 2];
        h[(at - 1) / 2] = t;
        at = (at - 1) / 2;
    }
}

/* Offers candidate c to the full heap h of len entries: it replaces the root if nearer.
 */
static void knn_replace(knn_nb *h, size_t len, knn_nb c)
{
    if (knn_farther(&h[0], &c)) {
        h[0] = c;
        knn_sift_down(h, len, 0);
    }
}

/*
 * Offers the manhattan distances d[0..n) of training rows base .. base +
 * n - 1 to the heap h holding *len of at most k.  Candidates arrive in
 * increasing row order, so one at the same distance as the farthest kept
 * never displaces it: the lower index wins ties, as knn_farther orders them.
 */
static void knn_offer_direct(knn_nb *h, size_t *len, size_t k, const double *d,
                             size_t base, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        knn_nb c = {d[i], base + i};

        if (*len < k)
            knn_push(h, len, c);
        else if (d[i] < h[0].d)
            knn_replace(h, *len, c);
    }
}

/* A query's near misses: candidates within 2 slack of the farthest kept. */
typedef struct knn_near {
    knn_nb *nb;   /* KNN_NEAR entries */
    size_t len;   /* entries in use */
    int overflow; /* more than KNN_NEAR: the query is answered by a full exact scan */
} knn_near;

/* Keeps c as a near miss; first drops those no longer within thr of the root. */
static void knn_near_add(knn_near *nr, knn_nb c, double thr)
{
    size_t j, kept = 0;

    if (nr->overflow)
        return;
    if (nr->len == KNN_NEAR) {
        for (j = 0; j < nr->len; j++)
            if (nr->nb[j].d <= thr)
                nr->nb[kept++] = nr->nb[j];
        nr->len = kept;
    }
    if (nr->len == KNN_NEAR)
        nr->overflow = 1;
    else
        nr->nb[nr->len++] = c;
}

/*
 * Offers c, within 2 slack of the root of the full heap h, to h and the
 * near misses nr; returns the new threshold of the screen.
 */
static double knn_offer_one(knn_nb *h, size_t len, knn_nb c, double slack, knn_near *nr)
{
    double thr = h[0].d + 2 * slack;

    if (knn_farther(&h[0], &c)) {
        knn_nb out = h[0];

        h[0] = c;
        knn_sift_down(h, len, 0);
        thr = h[0].d + 2 * slack;
        c = out;
    }
    if (c.d <= thr)
        knn_near_add(nr, c, thr);
    return thr;
}

/*
 * Offers training rows base .. base + n - 1 to the heap h (*len of at
 * most k) of one query, by the product form of their squared distances
 * less the query's own squared norm qn (the same for all, so left out):
 * v = d[i] + tn2[i] (d = -2 q.t from the tile).  v + qn errs by at most
 * `slack` (knn_slack), so the exact k nearest are among the kept rows and
 * the near misses, those with v within 2 slack of the final farthest kept:
 * rows the screen turns down (or evicts) within 2 slack of the farthest
 * kept go to nr, and knn_exact_choose settles by exact distances.
 */
static void knn_offer(knn_nb *h, size_t *len, size_t k, const double *d,
                      const double *tn2, double slack, knn_near *nr, size_t base,
                      size_t n)
{
    size_t i = 0, j, l;
    double thr;

    for (; i < n && *len < k; i++)
        knn_push(h, len, (knn_nb){d[i] + tn2[i], base + i});
    thr = h[0].d + 2 * slack;
    /* Most candidates lose to the root: test a chunk's minimum first, and
     * walk it only when it can win.  The minimum runs in KNN_LANES
     * independent lanes: one running minimum would be a serial chain of
     * dependent compares, which the compiler cannot vectorise. */
    for (; i + KNN_CHUNK <= n; i += KNN_CHUNK) {
        double v[KNN_CHUNK], lo[KNN_LANES];

        for (j = 0; j < KNN_CHUNK; j++)
            v[j] = d[i + j] + tn2[i + j];
        for (l = 0; l < KNN_LANES; l++)
            lo[l] = v[l];
        for (j = KNN_LANES; j < KNN_CHUNK; j += KNN_LANES)
            for (l = 0; l < KNN_LANES; l++)
                lo[l] = v[j + l] < lo[l] ? v[j + l] : lo[l];
        for (l = 1; l < KNN_LANES; l++)
            lo[0] = lo[l] < lo[0] ? lo[l] : lo[0];
        if (!(lo[0] <= thr))
            continue;
        for (j = 0; j < KNN_CHUNK; j++)
            if (v[j] <= thr)
                thr = knn_offer_one(h, *len, (knn_nb){v[j], base + i + j}, slack, nr);
    }
    for (; i < n; i++) {
        double v = d[i] + tn2[i];

        if (v <= thr)
            thr = knn_offer_one(h, *len, (knn_nb){v, base + i}, slack, nr);
    }
}

/*
 * The k nearest of one query by exact squared distances (knn_sqdist),
 * from the product form's kept rows h[0..*len) and near misses nr (or, if
 * those overflowed, from every training row); the result replaces h, in
 * heap order.  `ex` is scratch for k entries.
 */
static void knn_exact_choose(const knn *m, const double *q, knn_nb *h, size_t *len,
                             size_t k, const knn_near *nr, double slack, knn_nb *ex)
{
    double thr = *len ? h[0].d + 2 * slack : INFINITY;
    size_t j, n_ex = 0;

#define KNN_EXACT_OFFER(row)                                                             \
    do {                                                                                 \
        knn_nb c_ = {knn_sqdist(q, m->X + (row)*m->p, m->p), (row)};                     \
        if (n_ex < k)                                                                    \
            knn_push(ex, &n_ex, c_);                                                     \
        else                                                                             \
            knn_replace(ex, n_ex, c_);                                                   \
    } while (0)
    if (nr->overflow) {
        for (j = 0; j < m->n; j++)
            KNN_EXACT_OFFER(j);
    } else {
        for (j = 0; j < *len; j++)
            KNN_EXACT_OFFER(h[j].i);
        for (j = 0; j < nr->len; j++)
            if (nr->nb[j].d <= thr)
                KNN_EXACT_OFFER(nr->nb[j].i);
    }
#undef KNN_EXACT_OFFER
    memcpy(h, ex, n_ex * sizeof(knn_nb));
    *len = n_ex;
}

/*
 * The slack of the product form for a query of squared norm qn: |v -
 * knn_sqdist| is at most about 2 (2p + 3) u (qn + tn) for unit roundoff u
 * = 2^-53 and a training row of squared norm tn <= tnmax (the dot product
 * and the norms err by p u times the norms, the exact sum by (p + 1) u
 * times the distance, itself <= 2 (qn + tn)).  Twice that, for margin.
 */
static double knn_slack(const knn *m, double qn)
{
    return (double)(m->p + 4) * 0x1p-50 * (qn + m->tnmax);
}

/* ---- distances ---------------------------------------------------------- */

/* First binary search: the first entry of sparse column s at row >= t0. */
static size_t knn_sparse_from(const knn *m, size_t s, size_t t0)
{
    size_t lo = m->sptr[s], hi = m->sptr[s + 1];

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (m->srow[mid] < t0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* dist (rows x cols) -= 2 q.t over the sparse columns, through the inverted index. */
static void knn_tile_sparse(const knn *m, const double *Q, size_t rows, size_t t0,
                            size_t cols, double *dist)
{
    size_t r, s, e;

    for (r = 0; r < rows; r++) {
        double *d = dist + r * cols - t0;

        for (s = 0; s < m->ps; s++) {
            double v = -2.0 * Q[r * m->p + m->scol[s]];

            if (v == 0)
                continue;
            for (e = knn_sparse_from(m, s, t0);
                 e < m->sptr[s + 1] && m->srow[e] < t0 + cols; e++)
                d[m->srow[e]] += v * m->sval[e];
        }
    }
}

/*
 * dist (rows x cols) = -2 q.t for Q's rows and training rows t0 .. t0 +
 * cols - 1: one BLAS product (over the dense columns, packed in Qd, when
 * the columns are split) plus the sparse columns' part.  knn_offer adds
 * the squared norms.
 */
static void knn_tile_euclidean(const knn *m, const double *Q, const double *Qd,
                               size_t rows, size_t t0, size_t cols, double *dist)
{
    /* BLAS wants leading dimensions >= 1 even when there are no features. */
    int ld = m->p ? (int)m->p : 1, ldd = m->pd ? (int)m->pd : 1;

    if (m->ps == 0)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)cols,
                    (int)m->p, -2.0, Q, ld, m->X + t0 * m->p, ld, 0.0, dist, (int)cols);
    else if (m->pd > 0)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)cols,
                    (int)m->pd, -2.0, Qd, ldd, m->Xd + t0 * m->pd, ldd, 0.0, dist,
                    (int)cols);
    else
        memset(dist, 0, rows * cols * sizeof(double));
    if (m->ps > 0)
        knn_tile_sparse(m, Q, rows, t0, cols, dist);
}

static double knn_manhattan(const double *a, const double *b, size_t p)
{
    double s = 0;
    size_t j;

    for (j = 0; j < p; j++)
        s += fabs(a[j] - b[j]);
    return s;
}

static void knn_tile_manhattan(const knn *m, const double *Q, size_t rows, size_t t0,
                               size_t cols, double *dist)
{
    size_t r, i;

    for (r = 0; r < rows; r++)
        for (i = 0; i < cols; i++)
            dist[r * cols + i] =
                knn_manhattan(Q + r * m->p, m->X + (t0 + i) * m->p, m->p);
}

/* ---- k-d tree search -------------------------------------------------------- */

/*
 * Lower bound on the distance (squared euclidean, or manhattan) from q to
 * node i's box.  It stops early once past cap (the farthest kept): the
 * node is then skipped whatever the rest adds.
 */
static double knn_kd_bound(const knn *m, size_t i, const double *q, double cap)
{
    const double *lo = m->kbox + i * 2 * m->p, *hi = lo + m->p;
    double s = 0.0;
    size_t j;

    for (j = 0; j < m->p; j++) {
        double g =
            lo[j] - q[j] > 0 ? lo[j] - q[j] : (q[j] - hi[j] > 0 ? q[j] - hi[j] : 0);

        s += m->metric == KNN_EUCLIDEAN ? g * g : g;
        if ((j & 3) == 3 && s > cap)
            break;
    }
    return s;
}

/*
 * The distance from a to b (knn_sqdist or knn_manhattan), or, once a
 * prefix of its sum exceeds cap, that prefix.  Terms are >= 0 and rounding
 * is monotone, so a prefix past cap means the whole sum is too; a result
 * <= cap is the whole sum, to the bit.
 */
static double knn_dist_cap(const knn *m, const double *a, const double *b, double cap)
{
    double s = 0;
    size_t j = 0, p = m->p;

    if (m->metric == KNN_EUCLIDEAN) {
        for (; j + 4 <= p; j += 4) {
            s += (a[j] - b[j]) * (a[j] - b[j]);
            s += (a[j + 1] - b[j + 1]) * (a[j + 1] - b[j + 1]);
            s += (a[j + 2] - b[j + 2]) * (a[j + 2] - b[j + 2]);
            s += (a[j + 3] - b[j + 3]) * (a[j + 3] - b[j + 3]);
            if (s > cap)
                return s;
        }
        for (; j < p; j++)
            s += (a[j] - b[j]) * (a[j] - b[j]);
        return s;
    }
    for (; j + 4 <= p; j += 4) {
        s += fabs(a[j] - b[j]);
        s += fabs(a[j + 1] - b[j + 1]);
        s += fabs(a[j + 2] - b[j + 2]);
        s += fabs(a[j + 3] - b[j + 3]);
        if (s > cap)
            return s;
    }
    for (; j < p; j++)
        s += fabs(a[j] - b[j]);
    return s;
}

/* Offers the rows of leaf i, at exact distances, in any order: ties compare indices. */
static void knn_kd_leaf(const knn *m, size_t i, const double *q, knn_nb *h, size_t *len,
                        size_t k)
{
    size_t r;

    for (r = m->kd[i].lo; r < m->kd[i].hi; r++) {
        const double *x = m->kx + r * m->p;
        knn_nb c;

        c.i = m->perm[r];
        if (*len < k) {
            c.d = knn_dist_cap(m, q, x, INFINITY);
            knn_push(h, len, c);
        } else if ((c.d = knn_dist_cap(m, q, x, h[0].d)) <= h[0].d) {
            knn_replace(h, *len, c);
        }
    }
}

#if KNN_HAVE_FUSED
/*
 * knn_kd_leaf 8 rows at a time, one per lane: each lane sums its row's
 * terms in column order with separate multiply and add (fp-contract off:
 * no FMA), so its distance is knn_sqdist's or knn_manhattan's to the bit,
 * and the rows are then offered in order as knn_kd_leaf offers them.  It
 * computes whole sums where the scalar scan stops at the cap, which
 * decides nothing: a row past the cap loses either way.
 */
__attribute__((target("avx512f"), optimize("fp-contract=off"))) static void
knn_kd_leaf8(const knn *m, size_t i, const double *q, knn_nb *h, size_t *len, size_t k)
{
    size_t lo = m->kd[i].lo, cnt = m->kd[i].hi - lo, g, j, l, p = m->p;
    const double *x = m->kxt + m->kxo[i];
    double d[16];

    /* Two groups at a time: two independent chains of adds. */
    for (g = 0; g < cnt; g += 16, x += 16 * p) {
        __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();

        for (j = 0; j < p; j++) {
            __m512d qv = _mm512_set1_pd(q[j]);
            __m512d t0 = _mm512_sub_pd(qv, _mm512_load_pd(x + j * 8));
            __m512d t1 = _mm512_sub_pd(qv, _mm512_load_pd(x + 8 * p + j * 8));

            if (m->metric == KNN_EUCLIDEAN) {
                s0 = _mm512_add_pd(s0, _mm512_mul_pd(t0, t0));
                s1 = _mm512_add_pd(s1, _mm512_mul_pd(t1, t1));
            } else {
                s0 = _mm512_add_pd(s0, _mm512_abs_pd(t0));
                s1 = _mm512_add_pd(s1, _mm512_abs_pd(t1));
            }
        }
        _mm512_storeu_pd(d, s0);
        _mm512_storeu_pd(d + 8, s1);
        for (l = 0; l < 16 && g + l < cnt; l++) {
            knn_nb c = {d[l], m->perm[lo + g + l]};

            if (*len < k)
                knn_push(h, len, c);
            else if (c.d <= h[0].d)
                knn_replace(h, *len, c);
        }
    }
}

/*
 * knn_kd_bound in vectors of 8 features.  Its sum runs in another order
 * than the rows' distances, so it could exceed by rounding the distance
 * of a row on the box's surface; scaled down by (p + 2) 2^-48, far more
 * than that rounding, it stays a lower bound and prunes only what the
 * scalar bound prunes, or less (the neighbours do not change).
 */
__attribute__((target("avx512f"))) static double knn_kd_bound8(const knn *m, size_t i,
                                                               const double *q)
{
    const double *lo = m->kbox + i * 2 * m->p, *hi = lo + m->p;
    const __m512d zero = _mm512_setzero_pd();
    __m512d s = zero;
    size_t j, p = m->p;

    for (j = 0; j < p; j += 8) {
        __mmask8 mk = p - j >= 8 ? 0xff : (__mmask8)((1u << (p - j)) - 1);
        __m512d qv = _mm512_maskz_loadu_pd(mk, q + j);
        __m512d g = _mm512_max_pd(_mm512_sub_pd(_mm512_maskz_loadu_pd(mk, lo + j), qv),
                                  _mm512_sub_pd(qv, _mm512_maskz_loadu_pd(mk, hi + j)));

        g = _mm512_max_pd(g, zero);
        s = m->metric == KNN_EUCLIDEAN ? _mm512_fmadd_pd(g, g, s) : _mm512_add_pd(s, g);
    }
    return _mm512_reduce_add_pd(s) * (1.0 - (double)(p + 2) * 0x1p-48);
}
#endif

/*
 * Depth-first search, nearer child first.  A node is skipped only when its
 * bound exceeds the farthest kept distance: at equality it may still hold
 * a lower index.  Distances are exact (knn_sqdist), as brute force's
 * final choice, so both choose the same neighbours.
 */
static size_t knn_kd_search(const knn *m, const double *q, knn_nb *h, size_t k,
                            size_t *scanned)
{
    size_t stack[KNN_KD_STACK], top = 0, len = 0;
    double bound[KNN_KD_STACK];

    stack[top] = 0, bound[top++] = 0.0;
    while (top > 0) {
        size_t i = stack[--top], c;
        double b0, b1;

        if (len == k && bound[top] > h[0].d)
            continue;
        if (!(c = m->kd[i].child)) {
#if KNN_HAVE_FUSED
            if (m->kxt)
                knn_kd_leaf8(m, i, q, h, &len, k);
            else
#endif
                knn_kd_leaf(m, i, q, h, &len, k);
            *scanned += m->kd[i].hi - m->kd[i].lo;
            continue;
        }
        assert(top + 2 <= KNN_KD_STACK);
#if KNN_HAVE_FUSED
        if (m->kxt) {
            b0 = knn_kd_bound8(m, c, q);
            b1 = knn_kd_bound8(m, c + 1, q);
        } else
#endif
        {
            b0 = knn_kd_bound(m, c, q, len == k ? h[0].d : INFINITY);
            b1 = knn_kd_bound(m, c + 1, q, len == k ? h[0].d : INFINITY);
        }
        stack[top] = b0 <= b1 ? c + 1 : c, bound[top++] = b0 <= b1 ? b1 : b0;
        stack[top] = b0 <= b1 ? c : c + 1, bound[top++] = b0 <= b1 ? b0 : b1;
    }
    return len;
}

/* ---- votes -------------------------------------------------------------- */

/*
 * Turns the chosen neighbours' distances into vote weights, in place in
 * h[].d: 1 (uniform) or 1/d (distance), times the sample weight.
 */
static void knn_vote_weights(const knn *m, knn_nb *h, size_t len)
{
    size_t j, zeros = 0;
    double total = 0;

    for (j = 0; j < len && m->weights == KNN_DISTANCE; j++)
        zeros += h[j].d == 0;
    for (j = 0; j < len; j++) {
        double v = 1.0;

        if (m->weights == KNN_DISTANCE)
            v = zeros ? (h[j].d == 0) : 1.0 / h[j].d;
        h[j].d = v * m->w[h[j].i];
        total += h[j].d;
    }
    /* Every chosen neighbour weighs 0: fall back to a plain vote. */
    if (!(total > 0))
        for (j = 0; j < len; j++)
            h[j].d = 1.0;
}

static void knn_vote(const knn *m, const knn_nb *h, size_t len, double *out)
{
    double total = 0;
    size_t j;
    int c;

    for (c = 0; c < m->n_out; c++)
        out[c] = 0;
    for (j = 0; j < len; j++) {
        if (m->base.task == AML_TASK_CLASSIFICATION)
            out[(size_t)m->y[h[j].i]] += h[j].d;
        else
            out[0] += h[j].d * m->y[h[j].i];
        total += h[j].d;
    }
    for (c = 0; c < m->n_out; c++)
        out[c] /= total;
}

/* Orders the chosen neighbours nearest first, so sums run in a fixed order. */
static int knn_nb_cmp(const void *pa, const void *pb)
{
    const knn_nb *a = pa, *b = pb;

    if (knn_farther(a, b))
        return 1;
    return knn_farther(b, a) ? -1 : 0;
}

/* Votes of one query from its heap of chosen neighbours. */
static void knn_finish_row(const knn *m, knn_nb *h, size_t len, double *out)
{
    size_t j;

    qsort(h, len, sizeof(knn_nb), knn_nb_cmp);
    /* The heap holds squared euclidean distances. */
    for (j = 0; j < len && m->weights == KNN_DISTANCE && m->metric == KNN_EUCLIDEAN; j++)
        h[j].d = sqrt(h[j].d);
    knn_vote_weights(m, h, len);
    knn_vote(m, h, len, out);
}

/* ---- predict ------------------------------------------------------------ */

/*
 * Per-thread scratch for one block of queries: a distance tile of
 * KNN_BLOCK_ROWS x tile cells, the queries' squared norms, their heaps.
 */
typedef struct knn_work {
    double *dist;   /* rows x tile */
    double *qnorm2; /* rows */
    double *thr;    /* rows: the fused kernel's screen thresholds */
    double *Qd;     /* rows x pd dense columns of the queries (split columns only) */
    knn_nb *heap;   /* rows x k */
    size_t *len;    /* rows */
    knn_near *near; /* rows: near misses of the screen ... */
    knn_nb *nearnb; /* ... in rows x KNN_NEAR entries */
    knn_nb *ex;     /* k: the exact choice of one query */
} knn_work;

static void knn_work_dispose(knn_work *wk)
{
    free(wk->dist);
    free(wk->qnorm2);
    free(wk->thr);
    free(wk->Qd);
    free(wk->heap);
    free(wk->len);
    free(wk->near);
    free(wk->nearnb);
    free(wk->ex);
}

static int knn_work_init(knn_work *wk, size_t k, size_t tile, size_t pd)
{
    memset(wk, 0, sizeof(*wk));
    wk->Qd = aml_mallocarray(KNN_BLOCK_ROWS, (pd + 1) * sizeof(double));
    wk->dist = aml_mallocarray(KNN_BLOCK_ROWS, tile * sizeof(double));
    wk->qnorm2 = aml_mallocarray(KNN_BLOCK_ROWS, sizeof(double));
    wk->thr = aml_mallocarray(KNN_BLOCK_ROWS, sizeof(double));
    wk->heap = aml_mallocarray(KNN_BLOCK_ROWS, k * sizeof(knn_nb));
    wk->len = aml_mallocarray(KNN_BLOCK_ROWS, sizeof(size_t));
    wk->near = aml_mallocarray(KNN_BLOCK_ROWS, sizeof(knn_near));
    wk->nearnb = aml_mallocarray(KNN_BLOCK_ROWS, KNN_NEAR * sizeof(knn_nb));
    wk->ex = aml_mallocarray(k ? k : 1, sizeof(knn_nb));
    if (!wk->dist || !wk->qnorm2 || !wk->Qd || !wk->heap || !wk->len || !wk->near ||
        !wk->nearnb || !wk->ex || !wk->thr) {
        knn_work_dispose(wk);
        return AML_ENOMEM;
    }
    return AML_OK;
}

#if KNN_HAVE_FUSED
/* Norms for knn_offer: the fused kernel's values already include them. */
static const double knn_zeros[KNN_FUSED_ROWS];

/*
 * Offers chunk v (KNN_FUSED_ROWS values of the product form, rows i ..,
 * the last beyond n being padding) to query r's heap, and renews its
 * threshold: +inf while the heap is filling, else as knn_offer screens.
 */
static void knn_fused_offer(const knn *m, knn_work *wk, size_t r, size_t k, size_t i,
                            const double *v)
{
    size_t valid = m->n - i < KNN_FUSED_ROWS ? m->n - i : KNN_FUSED_ROWS;
    double slack = knn_slack(m, wk->qnorm2[r]);
    knn_nb *h = wk->heap + r * k;

    knn_offer(h, &wk->len[r], k, v, knn_zeros, slack, &wk->near[r], i, valid);
    wk->thr[r] = wk->len[r] == k ? h[0].d + 2 * slack : INFINITY;
}

/* One query's two accumulators take feature j of 16 training rows (x0, x1). */
#define KNN_FUSED_FMA(r)                                                                 \
    do {                                                                                 \
        __m512d qv_ = _mm512_set1_pd(q[r][j]);                                           \
        a##r##0 = _mm512_fmadd_pd(qv_, x0, a##r##0);                                     \
        a##r##1 = _mm512_fmadd_pd(qv_, x1, a##r##1);                                     \
    } while (0)

/*
 * q.t for 8 queries q[] and the 16 packed training rows from i, into the
 * 16 accumulators a00 .. a71 (named, not an array, so that they stay in
 * registers): per feature two loads, eight broadcasts and 16 FMAs.
 */
#define KNN_FUSED_PRODUCT()                                                              \
    __m512d a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51, a60, a61, a70,   \
        a71;                                                                             \
    do {                                                                                 \
        const double *x_ = m->xp + i * w;                                                \
        a00 = a01 = a10 = a11 = a20 = a21 = a30 = a31 = _mm512_setzero_pd();             \
        a40 = a41 = a50 = a51 = a60 = a61 = a70 = a71 = _mm512_setzero_pd();             \
        for (j = 0; j < w; j++) {                                                        \
            __m512d x0 = _mm512_load_pd(x_ + j * 8);                                     \
            __m512d x1 = _mm512_load_pd(x_ + 8 * w + j * 8);                             \
            KNN_FUSED_FMA(0);                                                            \
            KNN_FUSED_FMA(1);                                                            \
            KNN_FUSED_FMA(2);                                                            \
            KNN_FUSED_FMA(3);                                                            \
            KNN_FUSED_FMA(4);                                                            \
            KNN_FUSED_FMA(5);                                                            \
            KNN_FUSED_FMA(6);                                                            \
            KNN_FUSED_FMA(7);                                                            \
        }                                                                                \
    } while (0)

/* The 8 queries of Q (stride w) from r0; when fewer are left the last repeats. */
static void knn_fused_rows(const double **q, const double *Q, size_t w, size_t r0,
                           size_t nq)
{
    size_t r;

    for (r = 0; r < KNN_FUSED_QUERIES; r++)
        q[r] = Q + (r0 + (r < nq ? r : nq - 1)) * w;
}

/* Screens query r's 16 values; a chunk with one at or below its threshold is offered. */
#define KNN_FUSED_SCREEN(r)                                                              \
    do {                                                                                 \
        __m512d v0_ = _mm512_fmadd_pd(a##r##0, minus2, t0v);                             \
        __m512d v1_ = _mm512_fmadd_pd(a##r##1, minus2, t1v);                             \
        __m512d th_ = _mm512_set1_pd(wk->thr[r0 + r]);                                   \
        if (r < nq && (_mm512_cmp_pd_mask(v0_, th_, _CMP_LE_OQ) |                        \
                       _mm512_cmp_pd_mask(v1_, th_, _CMP_LE_OQ))) {                      \
            _mm512_storeu_pd(v, v0_);                                                    \
            _mm512_storeu_pd(v + 8, v1_);                                                \
            knn_fused_offer(m, wk, r0 + r, k, i, v);                                     \
        }                                                                                \
    } while (0)

/* Stores -2 q.t of query r into its row of the distance tile (valid of 16 values). */
#define KNN_FUSED_STORE(r)                                                               \
    do {                                                                                 \
        double *d_ = dist + (r0 + r) * cols + (i - t0);                                  \
        if (r >= nq)                                                                     \
            break;                                                                       \
        if (valid < KNN_FUSED_ROWS)                                                      \
            d_ = v; /* the tile's last, partial chunk: through v */                      \
        _mm512_storeu_pd(d_, _mm512_mul_pd(a##r##0, minus2));                            \
        _mm512_storeu_pd(d_ + 8, _mm512_mul_pd(a##r##1, minus2));                        \
        if (valid < KNN_FUSED_ROWS)                                                      \
            memcpy(dist + (r0 + r) * cols + (i - t0), v, valid * sizeof(double));        \
    } while (0)

/*
 * The product form ||t||^2 - 2 q.t of queries Q[r0 ..) (8 of them, nq
 * real; stride pd) against training rows t0 .. t0 + cols - 1,
 * KNN_FUSED_ROWS at a time from the packed rows.  With dist NULL it is
 * screened in registers against each query's threshold: only a chunk
 * holding a value at or below it goes to knn_offer.  Else -2 q.t goes to
 * dist (rows x cols), as BLAS's product would (knn_tile_euclidean), for
 * data whose sparse columns' part must be added before the screen.  An
 * FMA dot product errs no more than the bound knn_slack assumes, and exact
 * distances decide afterwards, so the neighbours are BLAS's to the bit.
 */
__attribute__((target("avx512f"))) static void
knn_fused_queries(const knn *m, const double *Q, size_t r0, size_t nq, size_t t0,
                  size_t cols, size_t k, knn_work *wk, double *dist)
{
    const double *q[KNN_FUSED_QUERIES];
    const __m512d minus2 = _mm512_set1_pd(-2.0);
    size_t i, j, w = m->pd;
    double v[KNN_FUSED_ROWS];

    knn_fused_rows(q, Q, w, r0, nq);
    for (i = t0; i < t0 + cols; i += KNN_FUSED_ROWS) {
        size_t valid = t0 + cols - i < KNN_FUSED_ROWS ? t0 + cols - i : KNN_FUSED_ROWS;
        __m512d t0v = _mm512_load_pd(m->tnp + i), t1v = _mm512_load_pd(m->tnp + i + 8);
        KNN_FUSED_PRODUCT();

        if (dist) {
            KNN_FUSED_STORE(0);
            KNN_FUSED_STORE(1);
            KNN_FUSED_STORE(2);
            KNN_FUSED_STORE(3);
            KNN_FUSED_STORE(4);
            KNN_FUSED_STORE(5);
            KNN_FUSED_STORE(6);
            KNN_FUSED_STORE(7);
            continue;
        }
        KNN_FUSED_SCREEN(0);
        KNN_FUSED_SCREEN(1);
        KNN_FUSED_SCREEN(2);
        KNN_FUSED_SCREEN(3);
        KNN_FUSED_SCREEN(4);
        KNN_FUSED_SCREEN(5);
        KNN_FUSED_SCREEN(6);
        KNN_FUSED_SCREEN(7);
    }
}

/*
 * The screen of knn_offer for the rows of the distance tile (-2 q.t, the
 * sparse part added), 16 values at a time against each query's threshold,
 * as knn_fused_queries screens in registers.  The tile ends at a multiple
 * of 16 rows or at n: a partial chunk is padded with +inf.
 */
__attribute__((target("avx512f"))) static void knn_fused_screen(const knn *m,
                                                                knn_work *wk, size_t rows,
                                                                size_t t0, size_t cols,
                                                                size_t k)
{
    double v[KNN_FUSED_ROWS];
    size_t r, i, j;

    assert(cols % KNN_FUSED_ROWS == 0 || t0 + cols == m->n);
    for (r = 0; r < rows; r++) {
        const double *d = wk->dist + r * cols;

        for (i = 0; i < cols; i += KNN_FUSED_ROWS) {
            __m512d th = _mm512_set1_pd(wk->thr[r]), v0, v1;

            if (cols - i < KNN_FUSED_ROWS) {
                for (j = 0; j < KNN_FUSED_ROWS; j++)
                    v[j] = i + j < cols ? d[i + j] + m->tnp[t0 + i + j] : INFINITY;
                v0 = _mm512_loadu_pd(v);
                v1 = _mm512_loadu_pd(v + 8);
            } else {
                v0 = _mm512_add_pd(_mm512_loadu_pd(d + i),
                                   _mm512_load_pd(m->tnp + t0 + i));
                v1 = _mm512_add_pd(_mm512_loadu_pd(d + i + 8),
                                   _mm512_load_pd(m->tnp + t0 + i + 8));
            }
            if (!(_mm512_cmp_pd_mask(v0, th, _CMP_LE_OQ) |
                  _mm512_cmp_pd_mask(v1, th, _CMP_LE_OQ)))
                continue;
            _mm512_storeu_pd(v, v0);
            _mm512_storeu_pd(v + 8, v1);
            knn_fused_offer(m, wk, r, k, t0 + i, v);
        }
    }
}
#undef KNN_FUSED_FMA
#undef KNN_FUSED_PRODUCT
#undef KNN_FUSED_SCREEN
#undef KNN_FUSED_STORE
#endif

/*
 * The fused kernel over one tile for every query of the block: for dense
 * data the whole screen in registers (knn_fused_queries); with sparse
 * columns, the dense columns' product into wk->dist (BLAS's part), the sparse part added,
 * then the vector screen.
 */
static void knn_fused_tile(const knn *m, const double *Q, size_t rows, size_t t0,
                           size_t cols, size_t k, knn_work *wk)
{
#if KNN_HAVE_FUSED
    size_t r0, nq;

    for (r0 = 0; r0 < rows; r0 += KNN_FUSED_QUERIES) {
        nq = rows - r0 < KNN_FUSED_QUERIES ? rows - r0 : KNN_FUSED_QUERIES;
        knn_fused_queries(m, m->ps > 0 ? wk->Qd : Q, r0, nq, t0, cols, k, wk,
                          m->ps > 0 ? wk->dist : NULL);
    }
    if (m->ps > 0) {
        knn_tile_sparse(m, Q, rows, t0, cols, wk->dist);
        knn_fused_screen(m, wk, rows, t0, cols, k);
    }
#else
    (void)m, (void)Q, (void)rows, (void)t0, (void)cols, (void)k, (void)wk;
    assert(!"knn: fused kernel without its CPU");
#endif
}

/*
 * Chooses the k nearest training rows of each query Q[0..rows) (rows <=
 * KNN_BLOCK_ROWS), by exact distances, into wk->heap + r k (heap order,
 * wk->len[r] of them): the training rows are visited in tiles of `tile` so
 * that the distance tile stays in cache, each tile's distances offered to
 * every query's heap in row order.
 */
static void knn_choose_block(const knn *m, const double *Q, size_t rows, size_t tile,
                             size_t k, knn_work *wk)
{
    size_t r, t0, scanned = 0;

    if (m->kd) {
        for (r = 0; r < rows; r++)
            wk->len[r] = knn_kd_search(m, Q + r * m->p, wk->heap + r * k, k, &scanned);
        return;
    }
    for (r = 0; r < rows; r++) {
        wk->len[r] = 0;
        wk->near[r] = (knn_near){wk->nearnb + r * KNN_NEAR, 0, 0};
        wk->thr[r] = INFINITY;
        wk->qnorm2[r] =
            m->p ? cblas_ddot((int)m->p, Q + r * m->p, 1, Q + r * m->p, 1) : 0;
        for (t0 = 0; t0 < m->pd && m->ps > 0; t0++)
            wk->Qd[r * m->pd + t0] = Q[r * m->p + m->dcol[t0]];
    }
    for (t0 = 0; t0 < m->n; t0 += tile) {
        size_t cols = m->n - t0 < tile ? m->n - t0 : tile;

        if (m->xp) {
            knn_fused_tile(m, Q, rows, t0, cols, k, wk);
            continue;
        }
        if (m->metric == KNN_EUCLIDEAN)
            knn_tile_euclidean(m, Q, wk->Qd, rows, t0, cols, wk->dist);
        else
            knn_tile_manhattan(m, Q, rows, t0, cols, wk->dist);
        for (r = 0; r < rows; r++)
            if (m->metric == KNN_EUCLIDEAN)
                knn_offer(wk->heap + r * k, &wk->len[r], k, wk->dist + r * cols,
                          m->norms2 + t0, knn_slack(m, wk->qnorm2[r]), &wk->near[r], t0,
                          cols);
            else
                knn_offer_direct(wk->heap + r * k, &wk->len[r], k, wk->dist + r * cols,
                                 t0, cols);
    }
    for (r = 0; r < rows && m->metric == KNN_EUCLIDEAN; r++)
        knn_exact_choose(m, Q + r * m->p, wk->heap + r * k, &wk->len[r], k, &wk->near[r],
                         knn_slack(m, wk->qnorm2[r]), wk->ex);
}

/*
 * One block of queries: with nb == NULL their votes into out; else their k
 * nearest, sorted by (distance, row), into nb + r k (the memo's layout).
 */
static void knn_block(const knn *m, const double *Q, size_t rows, size_t tile, size_t k,
                      knn_work *wk, knn_nb *nb, double *out)
{
    size_t r;

    knn_choose_block(m, Q, rows, tile, k, wk);
    for (r = 0; r < rows; r++) {
        knn_nb *h = wk->heap + r * k;

        if (!nb) {
            knn_finish_row(m, h, wk->len[r], out + r * (size_t)m->n_out);
            continue;
        }
        assert(wk->len[r] == k);
        qsort(h, k, sizeof(knn_nb), knn_nb_cmp);
        memcpy(nb + r * k, h, k * sizeof(knn_nb));
    }
}

static int knn_check_state(const knn *m)
{
    if (!m->X || m->n == 0)
        return aml_error_set(AML_EINVAL, "knn: predict before fit");
    /* The generic header and our own state disagree only in a corrupt model. */
    if (m->base.n_features != m->p ||
        (m->base.task == AML_TASK_CLASSIFICATION && m->base.n_classes != m->n_out))
        return aml_error_set(AML_EFORMAT, "knn: model shape does not match its header");
    return AML_OK;
}

/*
 * Query blocks are shared out among the fit's threads (dynamic schedule);
 * each query's answer depends only on its own block, so the result does
 * not depend on the thread count.  Votes go to out, or with nb the k
 * nearest of every query (knn_block).
 */
static int knn_search(const knn *m, const aml_matrix *X, size_t k, knn_nb *nb,
                      double *out)
{
    size_t tile, blocks = (X->rows + KNN_BLOCK_ROWS - 1) / KNN_BLOCK_ROWS;
    int threads = m->threads > 1 ? m->threads : 1, rc = AML_OK, t, blas;
    knn_work *wk;
    long long b;

    if ((size_t)threads > blocks)
        threads = (int)blocks;
    tile = m->n < KNN_TILE_ROWS ? m->n : KNN_TILE_ROWS;
    if (!(wk = aml_calloc((size_t)threads, sizeof(knn_work))))
        return AML_ENOMEM;
    for (t = 0; t < threads && rc == 0; t++)
        rc = knn_work_init(&wk[t], k, tile, m->pd);
    /* OpenBLAS's pthread server handles concurrent multi-threaded calls
     * badly (slower than one thread here): each of our threads calls BLAS
     * single-threaded, and the setting is restored afterwards. */
    blas = openblas_get_num_threads();
    if (threads > 1)
        openblas_set_num_threads(1);
    if (rc == 0) {
#pragma omp parallel for num_threads(threads) schedule(dynamic)
        for (b = 0; b < (long long)blocks; b++) {
            size_t r0 = (size_t)b * KNN_BLOCK_ROWS;
            size_t rows = X->rows - r0 < KNN_BLOCK_ROWS ? X->rows - r0 : KNN_BLOCK_ROWS;

            knn_block(m, X->data + r0 * m->p, rows, tile, k,
                      &wk[threads > 1 ? omp_get_thread_num() : 0],
                      nb ? nb + r0 * k : NULL, out ? out + r0 * (size_t)m->n_out : NULL);
        }
    }
    if (threads > 1)
        openblas_set_num_threads(blas);
    for (t = 0; t < threads; t++)
        knn_work_dispose(&wk[t]);
    free(wk);
    return rc;
}

/* ---- the search-wide memo (memo.h) --------------------------------------- */

/*
 * Under a trial runner, the kNN trials of a fold share one neighbour
 * search: the memo keeps, per (training rows, queries, metric), every
 * query's KNN_MEMO_K nearest (at least k, at most n) sorted by (distance,
 * row) with their exact distances.  Neighbours are chosen by exact
 * distances with ties to the lower row, a total order, so the k nearest
 * are the first k of the K nearest, whichever path (brute force or k-d
 * tree; each finds the exact order) found them: votes from the memo are
 * the bits predict computes without it.  Sample weights, targets and vote
 * weights play no part in the choice, so trials differing in them share.
 */
#define KNN_MEMO_K 50
/* The key's tag: "knn" and the memo layout's version. */
#define KNN_MEMO_TAG 0x6b6e6e0001ull

/* The memo's key of m's neighbour search for the queries X: 128 bits of each. */
static void knn_memo_key(const knn *m, const aml_matrix *X, aml_memo_key *key)
{
    uint64_t hx[2] = {0, 0}, hq[2] = {0, 0};

    aml_memo_hash(m->X, m->n * m->p * sizeof(double), hx);
    aml_memo_hash(X->data, X->rows * X->cols * sizeof(double), hq);
    *key = (aml_memo_key){{KNN_MEMO_TAG << 8 | (uint64_t)m->metric, m->n, m->p, X->rows,
                           hx[0], hx[1], hq[0], hq[1]}};
}
/* Votes of X's rows from their memo entry: each row's first k of K nearest. */
static void knn_vote_prefix(const knn *m, const knn_nb *nb, size_t rows, size_t K,
                            size_t k, knn_nb *scratch, double *out)
{
    size_t r;

    for (r = 0; r < rows; r++) {
        memcpy(scratch, nb + r * K, k * sizeof(knn_nb));
        knn_finish_row(m, scratch, k, out + r * (size_t)m->n_out);
    }
}

/* predict through the memo: a stored search, or a new one of KNN_MEMO_K stored. */
static int knn_predict_memo(const knn *m, const aml_matrix *X, aml_memo *memo,
                            double *out)
{
    size_t k = (size_t)m->k < m->n ? (size_t)m->k : m->n, K = k, bytes;
    knn_nb *scratch = aml_mallocarray(k, sizeof(knn_nb)), *nb = NULL;
    aml_memo_entry *e = NULL;
    aml_memo_key key;
    int rc = AML_ENOMEM;

    K = K < KNN_MEMO_K ? (m->n < KNN_MEMO_K ? m->n : KNN_MEMO_K) : K;
    if (!scratch)
        goto done;
    knn_memo_key(m, X, &key);
    if (!(e = aml_memo_find(memo, &key, k))) {
        if (!(nb = aml_mallocarray(X->rows, K * sizeof(knn_nb))))
            goto done;
        bytes = X->rows * K * sizeof(knn_nb);
        if ((rc = knn_search(m, X, K, nb, NULL)) < 0)
            goto done;
        /* The memo takes nb over, stored or not. */
        rc = aml_memo_put(memo, &key, K, nb, bytes, &e);
        nb = NULL;
        if (rc < 0)
            goto done;
    }
    knn_vote_prefix(m, aml_memo_blob(e), X->rows, (size_t)aml_memo_level(e), k, scratch,
                    out);
    rc = AML_OK;

done:
    aml_memo_release(memo, e);
    free(nb);
    free(scratch);
    return rc;
}

/*
 * Under a trial runner (a current memo on the calling thread, read before
 * predict starts its own team) the neighbour search goes through the memo;
 * otherwise the votes come straight from the search.
 */
static int knn_predict(const aml_learner *l, const aml_matrix *X, double *out)
{
    const knn *m = (const knn *)l;
    aml_memo *memo = aml_memo_current();
    size_t k = (size_t)m->k < m->n ? (size_t)m->k : m->n;
    int rc;

    if ((rc = knn_check_state(m)) < 0)
        return rc;
    if (X->cols != m->p)
        return aml_error_set(AML_EINVAL, "knn: fitted on %zu features, got %zu", m->p,
                             X->cols);
    if (X->rows == 0)
        return AML_OK;
    if (memo)
        return knn_predict_memo(m, X, memo, out);
    return knn_search(m, X, k, NULL, out);
}

/* ---- C export ------------------------------------------------------------ */

/*
 * The k nearest training rows by (distance, row), kept sorted in bd/bi:
 * a row joins when strictly nearer than the last kept, after the kept rows
 * at its own distance, so ties go to the lower row as in predict.
 */
static int knn_emit_select(const knn *m, aml_cgen *g, const char *nm, size_t k)
{
    const char *dist = m->metric == KNN_EUCLIDEAN
                           ? "            d += (x[j] - t[j]) * (x[j] - t[j]);\n"
                           : "            d += fabs(x[j] - t[j]);\n";

    aml_cgen_printf(g,
                    "    for (i = 0; i < %zu; i++) {\n"
                    "        const double *t = %s_x + i * %zu;\n"
                    "        double d = 0.0;\n\n"
                    "        for (j = 0; j < %zu; j++)\n",
                    m->n, nm, m->p, m->p);
    aml_cgen_printf(g, "%s", dist);
    return aml_cgen_printf(g,
                           "        if (len == %zu && !(d < bd[len - 1]))\n"
                           "            continue;\n"
                           "        at = len < %zu ? len++ : len - 1;\n"
                           "        for (; at > 0 && bd[at - 1] > d; at--)\n"
                           "            bd[at] = bd[at - 1], bi[at] = bi[at - 1];\n"
                           "        bd[at] = d, bi[at] = i;\n    }\n",
                           k, k);
}

/* knn_vote_weights and knn_vote over the chosen rows, nearest first. */
static int knn_emit_vote(const knn *m, aml_cgen *g, const char *nm)
{
    int cls = m->base.task == AML_TASK_CLASSIFICATION;

    if (m->weights == KNN_DISTANCE && m->metric == KNN_EUCLIDEAN)
        aml_cgen_printf(g,
                        "    for (i = 0; i < len; i++) {\n"
                        "        const double *t = %s_x + bi[i] * %zu;\n"
                        "        double s = 0;\n\n"
                        "        for (j = 0; j < %zu; j++)\n"
                        "            s += (x[j] - t[j]) * (x[j] - t[j]);\n"
                        "        bd[i] = sqrt(s);\n    }\n",
                        nm, m->p, m->p);
    if (m->weights == KNN_DISTANCE)
        aml_cgen_printf(g, "    for (i = 0; i < len; i++)\n"
                           "        zeros += bd[i] == 0;\n");
    aml_cgen_printf(g,
                    "    for (i = 0; i < len; i++) {\n"
                    "        double v = %s;\n\n"
                    "        bd[i] = v * %s_w[bi[i]];\n        total += bd[i];\n    }\n"
                    "    if (!(total > 0))\n"
                    "        for (i = 0; i < len; i++)\n            bd[i] = 1.0;\n"
                    "    total = 0;\n"
                    "    for (c = 0; c < %d; c++)\n        out[c] = 0;\n"
                    "    for (i = 0; i < len; i++) {\n",
                    m->weights == KNN_DISTANCE ? "zeros ? (bd[i] == 0) : 1.0 / bd[i]"
                                               : "1.0",
                    nm, m->n_out);
    aml_cgen_printf(g,
                    cls ? "        out[(size_t)%s_y[bi[i]]] += bd[i];\n"
                        : "        out[0] += bd[i] * %s_y[bi[i]];\n",
                    nm);
    return aml_cgen_printf(
        g,
        "        total += bd[i];\n    }\n"
        "    for (c = 0; c < %d; c++)\n        out[c] /= total;\n}\n\n",
        m->n_out);
}

/*
 * C export, with the training rows embedded.  Distances are computed
 * directly, in column order, which are the distances predict decides by
 * (knn_sqdist, knn_manhattan): the neighbours and the outputs are the same
 * bit for bit.
 */
static int knn_emit_c(const aml_learner *l, aml_cgen *g, const char *fn)
{
    const knn *m = (const knn *)l;
    size_t k = (size_t)m->k < m->n ? (size_t)m->k : m->n;
    char nm[64], buf[96];
    int rc;

    if ((rc = knn_check_state(m)) < 0 ||
        (rc = aml_cgen_name(g, "knn", nm, sizeof(nm))) < 0)
        return rc;
    snprintf(buf, sizeof(buf), "%s_x", nm);
    aml_cgen_doubles(g, buf, m->X, m->n * m->p);
    snprintf(buf, sizeof(buf), "%s_y", nm);
    aml_cgen_doubles(g, buf, m->y, m->n);
    snprintf(buf, sizeof(buf), "%s_w", nm);
    aml_cgen_doubles(g, buf, m->w, m->n);
    aml_cgen_printf(g,
                    "/* knn: k = %zu of %zu training rows, %s, %s votes. */\n"
                    "static void %s(const double *x, double *out)\n{\n"
                    "    double bd[%zu], total = 0;\n"
                    "    size_t bi[%zu], len = 0, at, i, j, zeros = 0;\n    int c;\n\n",
                    k, m->n, knn_metric_words[m->metric], knn_weight_words[m->weights],
                    fn, k, k);
    knn_emit_select(m, g, nm, k);
    aml_cgen_printf(g, "    (void)zeros;\n");
    return knn_emit_vote(m, g, nm);
}

/* ---- save / load -------------------------------------------------------- */

static int knn_save(const aml_learner *l, aml_writer *w)
{
    const knn *m = (const knn *)l;

    if (!m->X)
        return aml_error_set(AML_EINVAL, "knn: cannot save an unfitted model");
    aml_put_i64(w, (int64_t)m->k);
    aml_put_u8(w, (uint8_t)m->weights);
    aml_put_u8(w, (uint8_t)m->metric);
    aml_put_u32(w, (uint32_t)m->n_out);
    aml_put_u64(w, (uint64_t)m->n);
    aml_put_u64(w, (uint64_t)m->p);
    aml_put_f64s(w, m->X, m->n * m->p);
    aml_put_f64s(w, m->y, m->n);
    aml_put_f64s(w, m->w, m->n);
    return w->failed ? AML_ENOMEM : AML_OK;
}

/* Reads the fixed-size header of a saved knn and checks its ranges. */
static int knn_load_header(knn *m, aml_reader *r, uint64_t *n, uint64_t *p)
{
    int64_t k;
    uint8_t weights, metric;
    uint32_t n_out;
    int rc;

    if ((rc = aml_get_i64(r, &k)) < 0 || (rc = aml_get_u8(r, &weights)) < 0 ||
        (rc = aml_get_u8(r, &metric)) < 0 || (rc = aml_get_u32(r, &n_out)) < 0 ||
        (rc = aml_get_u64(r, n)) < 0 || (rc = aml_get_u64(r, p)) < 0)
        return rc;
    if (k < 1 || weights > KNN_DISTANCE || metric > KNN_MANHATTAN || n_out < 1 ||
        n_out > 1u << 20 || (m->base.task == AML_TASK_REGRESSION && n_out != 1) ||
        *n < 1 || *n > INT32_MAX || *p > INT32_MAX)
        return aml_error_set(AML_EFORMAT, "knn: corrupt model header");
    m->k = k;
    m->weights = weights;
    m->metric = metric;
    m->n_out = (int)n_out;
    return AML_OK;
}

static int knn_load(aml_learner **out, const aml_learner_type *type, aml_task task,
                    aml_reader *r)
{
    aml_learner *l = NULL;
    knn *m;
    uint64_t n, p;
    int rc;

    *out = NULL;
    if ((rc = knn_create(&l, type, task)) < 0)
        return rc;
    m = (knn *)l;
    if ((rc = knn_load_header(m, r, &n, &p)) < 0)
        goto fail;
    /* Check the bytes are there before allocating for them. */
    if ((rc = aml_reader_need(r, n, (p + 2) * sizeof(double))) < 0)
        goto fail;
    if ((rc = knn_alloc(m, (size_t)n, (size_t)p)) < 0)
        goto fail;
    if ((rc = aml_get_f64s(r, m->X, m->n * m->p)) < 0 ||
        (rc = aml_get_f64s(r, m->y, m->n)) < 0 || (rc = aml_get_f64s(r, m->w, m->n)) < 0)
        goto fail;
    if (knn_check_targets(m, m->y, m->w) < 0) {
        rc = aml_error_set(AML_EFORMAT, "knn: corrupt training data in model");
        goto fail;
    }
    if ((rc = knn_prepare(m)) < 0)
        goto fail;
    l->n_features = m->p;
    l->n_classes = task == AML_TASK_CLASSIFICATION ? m->n_out : 0;
    *out = l;
    return AML_OK;

fail:
    knn_free(l);
    return rc;
}

const aml_learner_type aml_learner_knn = {
    .name = "knn",
    .tasks = AML_TASK_BIT(AML_TASK_CLASSIFICATION) | AML_TASK_BIT(AML_TASK_REGRESSION),
    .flags = AML_LEARNER_WANTS_SCALING,
    .params = knn_params,
    .create = knn_create,
    .set_param = knn_set_param,
    .fit = knn_fit,
    .predict = knn_predict,
    .emit_c = knn_emit_c,
    .save = knn_save,
    .load = knn_load,
    .free = knn_free,
};
