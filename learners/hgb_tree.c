/*
 * hgb_tree.c - binning and histogram tree growth for gradient boosting.
 *
 * The trees are grown as in XGBoost's `hist` method (Chen and Guestrin,
 * "XGBoost: A Scalable Tree Boosting System", KDD 2016) and LightGBM (Ke et
 * al., "LightGBM: A Highly Efficient Gradient Boosting Decision Tree",
 * NIPS 2017):
 *
 *  - Binning: each feature gets up to max_bins quantile bins computed once
 *    per fit (midpoints between distinct values when there are few), and
 *    X becomes one uint8 code per cell.  Missing values take a bin of
 *    their own.
 *  - A node's histogram holds, per bin, the sums of the gradients and
 *    hessians of its rows.  Splits are scanned over bin boundaries with
 *    gain 1/2 [GL^2/(HL+l) + GR^2/(HR+l) - G^2/(H+l)], each side needing a
 *    hessian sum >= min_child_weight; the missing bin is tried on both
 *    sides and the better one becomes the split's default direction.
 *  - Histogram subtraction: only the child with fewer rows is built from
 *    its rows; the other is parent minus child.
 *  - Growth is depth-wise (candidates split in node order, level by level,
 *    up to max_depth) or best-first (the candidate with the largest gain,
 *    up to max_leaves leaves, still capped by max_depth).
 *
 * Histograms are built row by row (as XGBoost's hist) from a row-major
 * copy of the dense features' codes and a sparse list of the codes of
 * features that sit mostly at one code, whose default bin is node total
 * minus the rest (as LightGBM's most-frequent-bin); see hgb_layout.
 *
 * Depth-wise growth splits a whole level in one parallel region (see
 * hgb_level).  Gradients and hessians are first rounded so that every sum
 * of them is exact (see hgb_quantize): threads then share a node's rows,
 * each into a private histogram merged afterwards, or take whole nodes,
 * and the histograms, hence the fit, are bit-identical for any thread
 * count.  Per-feature best splits are reduced in feature order.
 * Histograms live in a fixed pool sized once per fit (bounded by
 * HGB_POOL_BYTES); when it runs short a candidate gives up its histogram
 * and its children are later built from their rows instead.
 */
#include "hgb.h"
#include "aml.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Rows used to place the bin edges (as scikit-learn's 2e5). */
#define HGB_EDGE_SAMPLE 200000
/* Memory budget of the histogram pool. */
#define HGB_POOL_BYTES ((size_t)64 << 20)
/* A split must lower the loss by more than this. */
#define HGB_MIN_GAIN 1e-12
/*
 * Work (rows x features, or histogram additions) below which one thread
 * does it: some 50 us, about what a parallel region's synchronisation costs
 * on a busy machine.
 */
#define HGB_PAR_WORK 65536

struct hgb_split {
    int feature, bin, default_left;
    double gain, gl, hl, gr, hr;
};

struct hgb_cand {
    size_t node;
    int slot; /* pool slot of its histogram, -1 when dropped */
    hgb_split s;
    size_t nl, kid0, kid1; /* hgb_level: left rows, children's split jobs */
};

/* One unit of a level's work: build, subtract into, or split a node's histogram. */
struct hgb_job {
    size_t node;
    int slot, sub; /* split jobs: slot -= sub first when sub >= 0 (subtraction) */
    hgb_split s;   /* split jobs: the node's best split */
};

/* Jobs per level candidate: two builds, two splits, two frees (and one spare). */
#define HGB_JOBS 7

/* ---- binning ------------------------------------------------------------- */

static void hgb_swap(double *a, double *b)
{
    double t = *a;

    *a = *b;
    *b = t;
}

/*
 * Sorts v[0..m) (no NaN) ascending: Hoare's quicksort on the median of
 * three, insertion sort below 16 values, recursing on the smaller side so
 * the depth stays logarithmic.  Some three times faster than qsort, whose
 * comparisons go through a function pointer; duplicates split evenly.
 */
static void hgb_sort(double *v, size_t m)
{
    size_t i, k;

    while (m > 16) {
        size_t a = 0, b = m / 2, c = m - 1, med;
        ptrdiff_t lo = -1, hi = (ptrdiff_t)m;
        double piv;

        med = v[a] < v[b] ? (v[b] < v[c] ? b : (v[a] < v[c] ? c : a))
                          : (v[a] < v[c] ? a : (v[b] < v[c] ? c : b));
        hgb_swap(&v[0], &v[med]);
        piv = v[0];
        for (;;) {
            do
                lo++;
            while (v[lo] < piv);
            do
                hi--;
            while (v[hi] > piv);
            if (lo >= hi)
                break;
            hgb_swap(&v[lo], &v[hi]);
        }
        k = (size_t)hi + 1; /* v[0..k) <= piv <= v[k..m), both non-empty */
        if (k < m - k) {
            hgb_sort(v, k);
            v += k;
            m -= k;
        } else {
            hgb_sort(v + k, m - k);
            m = k;
        }
    }
    for (i = 1; i < m; i++) {
        double x = v[i];

        for (k = i; k > 0 && v[k - 1] > x; k--)
            v[k] = v[k - 1];
        v[k] = x;
    }
}

/* A point between a < b that b does not reach: b itself goes to the upper bin. */
static double hgb_midpoint(double a, double b)
{
    double m = a + (b - a) / 2;

    return m < b ? m : a;
}

/*
 * Edges of one feature from its sorted non-missing sample v[0..m):
 * midpoints between distinct values when they fit in max_bins, else
 * midpoints between the values that close bins of about equal row counts.
 * Returns the number of value bins (edges + 1).
 */
static int hgb_edges_of(const double *v, size_t m, int max_bins, double *edges)
{
    size_t i, distinct = m ? 1 : 0, rest = m, acc = 0;
    int ne = 0, bins = max_bins;

    for (i = 1; i < m; i++)
        distinct += v[i] != v[i - 1];
    if (distinct <= (size_t)max_bins) {
        for (i = 1; i < m; i++)
            if (v[i] != v[i - 1])
                edges[ne++] = hgb_midpoint(v[i - 1], v[i]);
        return ne + 1;
    }
    /*
     * More distinct values than bins: close a bin at the first value
     * boundary where it holds rest / bins rows (rest: rows not yet in a
     * closed bin; bins: bins still open), so a value repeated many times
     * takes one bin and the others are still spread; fixed quantiles
     * merge at such ties (diamonds' carat, 269 values, got 109 bins;
     * LightGBM also bins greedily).  Once the distinct values left fit in
     * the bins left, each gets its own.
     */
    for (i = 0; i < m;) {
        size_t j = i;

        while (j < m && v[j] == v[i])
            j++;
        acc += j - i;
        distinct--;
        if (j < m && bins > 1 &&
            ((double)acc * bins >= (double)rest || distinct < (size_t)bins)) {
            edges[ne++] = hgb_midpoint(v[j - 1], v[j]);
            rest -= acc;
            acc = 0;
            bins--;
        }
        i = j;
    }
    return ne + 1;
}

/*
 * Code of x: the number of edges below it, or nb for a missing value.  A
 * branch-free binary search (Khuong and Morin, "Array layouts for
 * comparison-based searching", 2017): the halving compiles to a
 * conditional move, so random values cost no mispredictions.
 */
static uint8_t hgb_code(const double *edges, int nb, double x)
{
    const double *b = edges;
    int len = nb - 1; /* edges */

    if (isnan(x))
        return (uint8_t)nb;
    if (len == 0)
        return 0;
    while (len > 1) {
        int half = len / 2;

        b = b[half] < x ? b + half : b;
        len -= half;
    }
    return (uint8_t)((b - edges) + (*b < x));
}

/* Rows the edges come from: all training rows, or a fixed-size draw of them. */
static int hgb_edge_rows(const size_t *train, size_t n_train, aml_rng *rng, size_t **out,
                         size_t *m)
{
    aml_rng r;
    size_t i, *idx;

    *m = n_train < HGB_EDGE_SAMPLE ? n_train : HGB_EDGE_SAMPLE;
    idx = aml_mallocarray(n_train ? n_train : 1, sizeof(size_t));
    if (!idx)
        return AML_ENOMEM;
    memcpy(idx, train, n_train * sizeof(size_t));
    aml_rng_child(&r, rng, 0x68676221u);
    for (i = 0; i < *m && *m < n_train; i++) {
        size_t j = i + (size_t)aml_rng_below(&r, n_train - i), t = idx[i];

        idx[i] = idx[j];
        idx[j] = t;
    }
    *out = idx;
    return AML_OK;
}

/*
 * The distinct values of v[0..m) into u (sorted), when there are at most
 * max_bins of them; returns their number, or 0 when there are more.  Cheap
 * for the common low-cardinality columns (one-hot, small integers), which
 * then skip the full sort; a continuous column gives up after a few
 * hundred values.
 */
static size_t hgb_few_distinct(const double *v, size_t m, int max_bins, double *u)
{
    size_t i, d = 0;

    for (i = 0; i < m; i++) {
        size_t lo = 0, hi = d;

        while (lo < hi) {
            size_t mid = (lo + hi) / 2;

            if (u[mid] < v[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < d && u[lo] == v[i])
            continue;
        if (d == (size_t)max_bins)
            return 0;
        memmove(u + lo + 1, u + lo, (d - lo) * sizeof(double));
        u[lo] = v[i];
        d++;
    }
    return d;
}

/* Bins feature j: edges from the sample rows, codes for all rows. */
static void hgb_bin_feature(hgb_ws *ws, const double *X, size_t j, const size_t *sample,
                            size_t m, int max_bins, double *buf, double *edges)
{
    size_t i, k = 0, d;
    uint8_t *col = ws->codes + j * ws->n;
    int nb;

    for (i = 0; i < m; i++) {
        double x = X[sample[i] * ws->p + j];

        if (!isnan(x))
            buf[k++] = x;
    }
    d = hgb_few_distinct(buf, k, max_bins, buf + k);
    if (d > 0) {
        /* The distinct values alone give the same midpoint edges. */
        nb = hgb_edges_of(buf + k, d, max_bins, edges);
    } else {
        hgb_sort(buf, k);
        nb = hgb_edges_of(buf, k, max_bins, edges);
    }
    ws->nb[j] = nb;
    for (i = 0; i < ws->n; i++)
        col[i] = hgb_code(edges, nb, X[i * ws->p + j]);
}

/* Fills nb, off, edges and codes; the edges first go to a p x max_bins scratch. */
static int hgb_bin_all(hgb_ws *ws, const double *X, const size_t *sample, size_t m,
                       int max_bins)
{
    double *scratch =
        aml_mallocarray(ws->p ? ws->p : 1, (size_t)max_bins * sizeof(double));
    size_t per = m + (size_t)max_bins; /* sample values, then their distinct values */
    double *buf = aml_mallocarray((size_t)ws->threads, per * sizeof(double));
    size_t j;
    int rc = AML_ENOMEM;

    if (!scratch || !buf)
        goto out;
#pragma omp parallel for num_threads(ws->threads) schedule(dynamic)
    for (j = 0; j < ws->p; j++) {
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        hgb_bin_feature(ws, X, j, sample, m, max_bins, buf + (size_t)t * per,
                        scratch + j * (size_t)max_bins);
    }
    ws->slots = 0;
    for (j = 0; j < ws->p; j++) {
        ws->off[j] = ws->slots;
        ws->slots += (size_t)ws->nb[j] + 1;
    }
    ws->edges = aml_mallocarray(ws->slots ? ws->slots : 1, sizeof(double));
    if (!ws->edges)
        goto out;
    for (j = 0; j < ws->p; j++)
        memcpy(ws->edges + ws->off[j], scratch + j * (size_t)max_bins,
               (size_t)(ws->nb[j] - 1) * sizeof(double));
    rc = AML_OK;
out:
    free(scratch);
    free(buf);
    return rc;
}

/*
 * Histogram layout.  A feature whose most frequent code holds at least
 * HGB_SPARSE_SHARE of the rows (a one-hot column, a count that is mostly
 * 0) is sparse: only its other codes are stored, row by row, as histogram
 * slots, and its default bin is filled in as the node total minus the
 * other bins (LightGBM's most-frequent-bin trick); on adult and
 * bank_marketing this skips some nine in ten additions.  The other
 * features keep one byte per row in a row-major block.
 */
#define HGB_SPARSE_SHARE 0.5

/* Rows per block of the transposition: a block's codes stay in cache. */
#define HGB_T_ROWS 256

/* Default code of feature j when it is sparse, else -1. */
static int hgb_default_code(const hgb_ws *ws, size_t j)
{
    const uint8_t *col = ws->codes + j * ws->n;
    size_t cnt[HGB_MAX_BINS + 1] = {0}, r;
    int c, best = 0;

    for (r = 0; r < ws->n; r++)
        cnt[col[r]]++;
    for (c = 1; c <= ws->nb[j]; c++)
        if (cnt[c] > cnt[best])
            best = c;
    return (double)cnt[best] >= HGB_SPARSE_SHARE * (double)ws->n ? best : -1;
}

/* The row-major block of the dense features' codes. */
static void hgb_transpose(hgb_ws *ws)
{
    size_t blk, n_blk = (ws->n + HGB_T_ROWS - 1) / HGB_T_ROWS, nd = ws->n_dense;

#pragma omp parallel for num_threads(ws->threads) schedule(static)
    for (blk = 0; blk < n_blk; blk++) {
        size_t b = blk * HGB_T_ROWS, e = b + HGB_T_ROWS < ws->n ? b + HGB_T_ROWS : ws->n;
        size_t d, r;

        for (d = 0; d < nd; d++) {
            const uint8_t *col = ws->codes + (size_t)ws->dense[d] * ws->n;

            for (r = b; r < e; r++)
                ws->dcodes[r * nd + d] = col[r];
        }
    }
}

/* The sparse entries, row by row, features ascending; pos: n scratch. */
static int hgb_sparse(hgb_ws *ws, size_t *pos)
{
    size_t j, r, *ptr = ws->sptr;

    memset(ptr, 0, (ws->n + 1) * sizeof(size_t));
    for (j = 0; j < ws->p; j++) {
        const uint8_t *col = ws->codes + j * ws->n;

        if (ws->dflt[j] >= 0)
            for (r = 0; r < ws->n; r++)
                ptr[r + 1] += col[r] != ws->dflt[j];
    }
    for (r = 0; r < ws->n; r++)
        ptr[r + 1] += ptr[r];
    ws->sidx = aml_mallocarray(ptr[ws->n] ? ptr[ws->n] : 1, sizeof(uint32_t));
    if (!ws->sidx)
        return AML_ENOMEM;
    memcpy(pos, ptr, ws->n * sizeof(size_t));
    for (j = 0; j < ws->p; j++) {
        const uint8_t *col = ws->codes + j * ws->n;

        if (ws->dflt[j] >= 0)
            for (r = 0; r < ws->n; r++)
                if (col[r] != ws->dflt[j])
                    ws->sidx[pos[r]++] = (uint32_t)(ws->off[j] + col[r]);
    }
    return AML_OK;
}

/* Splits the features into dense and sparse and builds both copies of the codes. */
static int hgb_layout(hgb_ws *ws)
{
    size_t j;
    /* Slots must fit the sparse entries' 32 bits; past that every feature is dense. */
    int sparse_ok = ws->slots < UINT32_MAX;

#pragma omp parallel for num_threads(ws->threads) schedule(dynamic)
    for (j = 0; j < ws->p; j++)
        ws->dflt[j] = sparse_ok ? hgb_default_code(ws, j) : -1;
    ws->n_dense = 0;
    for (j = 0; j < ws->p; j++)
        if (ws->dflt[j] < 0)
            ws->dense[ws->n_dense++] = (int)j;
    ws->dcodes = aml_mallocarray(ws->n ? ws->n : 1, ws->n_dense ? ws->n_dense : 1);
    if (!ws->dcodes)
        return AML_ENOMEM;
    hgb_transpose(ws);
    return hgb_sparse(ws, ws->tmp);
}

/* ---- workspace ----------------------------------------------------------- */

/* Leaves one tree can reach: max_leaves, or 2^max_depth, and never above n. */
static size_t hgb_leaf_cap(const hgb_grow_cfg *cfg, size_t n)
{
    size_t cap = cfg->max_leaves > 0 ? (size_t)cfg->max_leaves : SIZE_MAX;

    if (cfg->max_depth < 40 && ((size_t)1 << cfg->max_depth) < cap)
        cap = (size_t)1 << cfg->max_depth;
    return cap < n + 1 ? cap : n + 1;
}

static int hgb_ws_alloc(hgb_ws *ws, const hgb_grow_cfg *cfg)
{
    size_t n = ws->n ? ws->n : 1, p = ws->p ? ws->p : 1, nodes, slot_bytes, want;
    int i;

    ws->max_leaves = hgb_leaf_cap(cfg, ws->n);
    nodes = 2 * ws->max_leaves;
    slot_bytes = (ws->slots ? ws->slots : 1) * sizeof(hgb_gh);
    /* Two scratch slots beyond one per candidate; a smaller pool only costs speed. */
    want = ws->max_leaves + 2;
    if (want > HGB_POOL_BYTES / slot_bytes)
        want = HGB_POOL_BYTES / slot_bytes;
    ws->pool_slots = want < 3 ? 3 : (int)want;
    ws->g = aml_mallocarray(n, sizeof(double));
    ws->h = aml_mallocarray(n, sizeof(double));
    ws->rows = aml_mallocarray(n, sizeof(size_t));
    ws->tmp = aml_mallocarray(n, sizeof(size_t));
    ws->gh = aml_mallocarray(n, sizeof(hgb_gh));
    ws->pool = aml_mallocarray((size_t)ws->pool_slots, slot_bytes);
    ws->free_slot = aml_mallocarray((size_t)ws->pool_slots, sizeof(int));
    ws->cands = aml_mallocarray(ws->max_leaves + 1, sizeof(hgb_cand));
    ws->nbegin = aml_mallocarray(nodes, sizeof(size_t));
    ws->nend = aml_mallocarray(nodes, sizeof(size_t));
    ws->ng = aml_mallocarray(nodes, sizeof(double));
    ws->nh = aml_mallocarray(nodes, sizeof(double));
    ws->ndepth = aml_mallocarray(nodes, sizeof(int));
    ws->fsplit = aml_mallocarray(p, sizeof(hgb_split));
    ws->feat = aml_mallocarray(p, sizeof(int));
    ws->tdcol = aml_mallocarray(p, sizeof(size_t));
    ws->tdoff = aml_mallocarray(p, sizeof(size_t));
    ws->dflt = aml_mallocarray(p, sizeof(int));
    ws->dense = aml_mallocarray(p, sizeof(int));
    ws->sptr = aml_mallocarray(n + 1, sizeof(size_t));
    ws->scratch = aml_mallocarray((size_t)ws->threads, slot_bytes);
    ws->lvl = aml_mallocarray(ws->max_leaves + 1, sizeof(hgb_cand));
    ws->jobs = aml_mallocarray(HGB_JOBS * (ws->max_leaves + 1), sizeof(hgb_job));
    if (!ws->lvl || !ws->jobs || !ws->g || !ws->h || !ws->rows || !ws->tmp || !ws->gh ||
        !ws->pool || !ws->free_slot || !ws->cands || !ws->nbegin || !ws->nend ||
        !ws->ng || !ws->nh || !ws->ndepth || !ws->fsplit || !ws->feat || !ws->tdcol ||
        !ws->tdoff || !ws->dflt || !ws->dense || !ws->sptr || !ws->scratch)
        return AML_ENOMEM;
    for (i = 0; i < ws->pool_slots; i++)
        ws->free_slot[i] = ws->pool_slots - 1 - i;
    ws->n_free = ws->pool_slots;
    return AML_OK;
}

int hgb_ws_init(hgb_ws *ws, const double *X, size_t n, size_t p, const size_t *train,
                size_t n_train, int max_bins, const hgb_grow_cfg *cfg, aml_rng *rng,
                int threads)
{
    size_t *sample = NULL, m;
    int rc;

    memset(ws, 0, sizeof(*ws));
    ws->n = n;
    ws->p = p;
    ws->threads = threads < 1 ? 1 : threads;
    assert(max_bins >= 2 && max_bins <= HGB_MAX_BINS);
    ws->codes = aml_mallocarray(n ? n : 1, p ? p : 1);
    ws->nb = aml_mallocarray(p ? p : 1, sizeof(int));
    ws->off = aml_mallocarray(p ? p : 1, sizeof(size_t));
    if (!ws->codes || !ws->nb || !ws->off)
        return AML_ENOMEM;
    if ((rc = hgb_edge_rows(train, n_train, rng, &sample, &m)) < 0)
        return rc;
    rc = hgb_bin_all(ws, X, sample, m, max_bins);
    free(sample);
    if (rc < 0 || (rc = hgb_ws_alloc(ws, cfg)) < 0)
        return rc;
    return hgb_layout(ws);
}

void hgb_ws_dispose(hgb_ws *ws)
{
    free(ws->codes);
    free(ws->dflt);
    free(ws->dense);
    free(ws->dcodes);
    free(ws->sptr);
    free(ws->sidx);
    free(ws->tdcol);
    free(ws->tdoff);
    free(ws->scratch);
    free(ws->nb);
    free(ws->off);
    free(ws->edges);
    free(ws->g);
    free(ws->h);
    free(ws->rows);
    free(ws->tmp);
    free(ws->gh);
    free(ws->pool);
    free(ws->free_slot);
    free(ws->cands);
    free(ws->nbegin);
    free(ws->nend);
    free(ws->ng);
    free(ws->nh);
    free(ws->ndepth);
    free(ws->fsplit);
    free(ws->feat);
    free(ws->lvl);
    free(ws->jobs);
    memset(ws, 0, sizeof(*ws));
}

/* ---- histograms ---------------------------------------------------------- */

static hgb_gh *hgb_slot(const hgb_ws *ws, int slot)
{
    return ws->pool + (size_t)slot * ws->slots;
}

static int hgb_slot_take(hgb_ws *ws)
{
    assert(ws->n_free > 0);
    return ws->free_slot[--ws->n_free];
}

static void hgb_slot_give(hgb_ws *ws, int slot)
{
    if (slot >= 0)
        ws->free_slot[ws->n_free++] = slot;
}

/* Rows ahead whose codes are prefetched: a deep node's rows are scattered. */
#define HGB_AHEAD 16
#if defined(__GNUC__)
#define HGB_PREFETCH(a) __builtin_prefetch(a)
#else
#define HGB_PREFETCH(a) ((void)(a))
#endif

/*
 * Exact sums.  hgb_quantize rounds the gradients (and, apart, the
 * hessians) of all n rows to multiples of a power of two q with n max|g| <
 * 2^51 q (the tree's rows are some of them).  Every sum of any subset of them, in any
 * order, is then a multiple of q below 2^53 q in magnitude, so it is exact in double:
 * histograms summed over any split of the rows between threads, parent minus child, node
 * total minus the other bins all give the same bits, and a fit does not depend on the
 * thread count.  The rounding moves a gradient by at most q/2, some n 2^-51 of the
 * largest: 1e-10 of it at 10^5 rows.  This is the pre-rounding of Demmel and Nguyen
 * ("Fast reproducible floating-point summation", ARITH 2013), which XGBoost's GPU hist
 * also uses for deterministic histograms.
 */
static void hgb_quantize(double *v, size_t m)
{
    /* Adding and subtracting 1.5 2^52 rounds |x| <= 2^51 to an integer. */
    const double magic = 6755399441055744.0;
    double mx = 0, up, down;
    size_t k;
    int e;

    for (k = 0; k < m; k++)
        mx = fabs(v[k]) > mx ? fabs(v[k]) : mx;
    if (!(mx > 0) || !isfinite(mx * (double)m))
        return;
    (void)frexp(mx * (double)m, &e); /* m mx < 2^e = 2^51 q */
    if (e - 51 < -1000)
        return; /* q would underflow; such gradients are zero in effect */
    up = ldexp(1.0, 51 - e);
    down = ldexp(1.0, e - 51);
    for (k = 0; k < m; k++)
        v[k] = ((v[k] * up + magic) - magic) * down;
}

static void hgb_gh_add(hgb_gh *o, double g, double h)
{
    o->g += g;
    o->h += h;
}

/*
 * Adds the rows rows[b..e) into hist, row by row as XGBoost's hist does:
 * a row's g, h (side by side in gh) are loaded once,
 * its dense codes are contiguous, and consecutive adds go to different
 * features, so none waits on the one before (column by column, a one-hot
 * column adds to the same bin row after row).
 */
static void hgb_hist_rows(const hgb_ws *ws, size_t b, size_t e, hgb_gh *hist)
{
    const size_t *rows = ws->rows, *sptr = ws->sptr, *tdcol = ws->tdcol;
    const size_t *tdoff = ws->tdoff, nd = ws->n_dense, ntd = ws->n_tdense;
    const uint32_t *sidx = ws->sidx;
    const uint8_t *dc = ws->dcodes;
    const hgb_gh *gh = ws->gh;
    size_t k, d, s;

    for (k = b; k < e; k++) {
        size_t r = rows[k];
        const uint8_t *c = dc + r * nd;
        double g = gh[r].g, h = gh[r].h;

        if (k + HGB_AHEAD < e) {
            size_t ra = rows[k + HGB_AHEAD];

            HGB_PREFETCH(dc + ra * nd);
            HGB_PREFETCH(sptr + ra);
            HGB_PREFETCH(gh + ra);
        }
        if (ntd == nd)
            for (d = 0; d < nd; d++)
                hgb_gh_add(hist + tdoff[d] + c[d], g, h);
        else
            for (d = 0; d < ntd; d++)
                hgb_gh_add(hist + tdoff[d] + c[tdcol[d]], g, h);
        for (s = sptr[r]; s < sptr[r + 1]; s++)
            hgb_gh_add(hist + sidx[s], g, h);
    }
}

/*
 * Finishes the fi-th feature of node's histogram: adds the other threads'
 * partial histograms (parts - 1 of them), then, for a sparse feature, sets
 * the default bin to the node total minus the other bins.
 */
static void hgb_hist_finish(const hgb_ws *ws, size_t node, hgb_gh *hist, size_t fi,
                            size_t parts)
{
    int j = ws->feat[fi], d = ws->dflt[j], b, nb = ws->nb[j];
    hgb_gh *f = hist + ws->off[j];
    double g = ws->ng[node], h = ws->nh[node];
    size_t t;

    for (t = 1; t < parts; t++) {
        const hgb_gh *o = ws->scratch + (t - 1) * ws->slots + ws->off[j];

        for (b = 0; b <= nb; b++)
            hgb_gh_add(f + b, o[b].g, o[b].h);
    }
    if (d < 0)
        return;
    for (b = 0; b <= nb; b++)
        if (b != d) {
            g -= f[b].g;
            h -= f[b].h;
        }
    f[d].g = g;
    f[d].h = h;
}

/* Histogram additions per row: the tree's dense features, the sparse entries. */
static double hgb_row_cost(const hgb_ws *ws)
{
    return (double)ws->n_tdense + (double)ws->sptr[ws->n] / (double)(ws->n ? ws->n : 1) +
           1;
}

/* Number of threads in the current team (1 outside a parallel region). */
static size_t hgb_team(void)
{
#ifdef _OPENMP
    return (size_t)omp_get_num_threads();
#else
    return 1;
#endif
}

/*
 * Builds node's histogram into slot with every thread of the team, each
 * over its share of the rows (exact sums make the split irrelevant).  All
 * threads of the team must call it; one thread alone builds it all.
 */
static void hgb_node_hist(hgb_ws *ws, size_t node, int slot)
{
    size_t b = ws->nbegin[node], m = ws->nend[node] - b, parts = hgb_team(), t, fi;
    hgb_gh *hist = hgb_slot(ws, slot);

#pragma omp for schedule(static)
    for (t = 0; t < parts; t++) {
        hgb_gh *buf = t == 0 ? hist : ws->scratch + (t - 1) * ws->slots;
        size_t rb = b + m * t / parts, re = b + m * (t + 1) / parts;

        memset(buf, 0, ws->slots * sizeof(hgb_gh));
        hgb_hist_rows(ws, rb, re, buf);
    }
#pragma omp for schedule(static)
    for (fi = 0; fi < ws->n_feat; fi++)
        hgb_hist_finish(ws, node, hist, fi, parts);
}

/* Builds node's histogram into slot by the calling thread alone. */
static void hgb_node_hist_serial(hgb_ws *ws, size_t node, int slot)
{
    hgb_gh *hist = hgb_slot(ws, slot);
    size_t fi;

    memset(hist, 0, ws->slots * sizeof(hgb_gh));
    hgb_hist_rows(ws, ws->nbegin[node], ws->nend[node], hist);
    for (fi = 0; fi < ws->n_feat; fi++)
        hgb_hist_finish(ws, node, hist, fi, 1);
}

/* Builds the histogram of node `node` into `slot` over the tree's features. */
static void hgb_hist_build(hgb_ws *ws, size_t node, int slot)
{
    int par =
        (double)(ws->nend[node] - ws->nbegin[node]) * hgb_row_cost(ws) >= HGB_PAR_WORK &&
        ws->threads > 1;

    if (!par) {
        hgb_node_hist_serial(ws, node, slot);
        return;
    }
#pragma omp parallel num_threads(ws->threads)
    hgb_node_hist(ws, node, slot);
}

/* The tree's dense features: their columns in dcodes and histogram offsets. */
static void hgb_tree_features(hgb_ws *ws)
{
    size_t fi, d = 0;

    ws->n_tdense = 0;
    for (fi = 0; fi < ws->n_feat; fi++) {
        int j = ws->feat[fi];

        if (ws->dflt[j] >= 0)
            continue;
        while (ws->dense[d] != j)
            d++;
        ws->tdcol[ws->n_tdense] = d;
        ws->tdoff[ws->n_tdense++] = ws->off[j];
    }
}

/* dst = dst - sub on the fi-th feature of the tree. */
static void hgb_subtract_one(hgb_ws *ws, int dst, int sub, size_t fi)
{
    size_t o = ws->off[ws->feat[fi]];
    hgb_gh *d = hgb_slot(ws, dst) + o;
    const hgb_gh *s = hgb_slot(ws, sub) + o;
    int b;

    for (b = 0; b <= ws->nb[ws->feat[fi]]; b++) {
        d[b].g -= s[b].g;
        d[b].h -= s[b].h;
    }
}

/* dst = dst - sub over the tree's features. */
static void hgb_hist_subtract(hgb_ws *ws, int dst, int sub)
{
    size_t fi;

    for (fi = 0; fi < ws->n_feat; fi++)
        hgb_subtract_one(ws, dst, sub, fi);
}

/* ---- split finding ------------------------------------------------------- */

static double hgb_score(double g, double h, double lambda)
{
    return g * g / (h + lambda);
}

/* Considers the split (left gl, hl; right gr, hr) at bin b; keeps it when better. */
static void hgb_try(hgb_split *best, const hgb_grow_cfg *cfg, double parent, double gl,
                    double hl, double gr, double hr, int b, int dl)
{
    double gain;

    if (hl < cfg->min_child_weight || hr < cfg->min_child_weight ||
        !(hl + cfg->lambda > 0) || !(hr + cfg->lambda > 0))
        return;
    gain =
        0.5 * (hgb_score(gl, hl, cfg->lambda) + hgb_score(gr, hr, cfg->lambda) - parent);
    if (gain > best->gain) {
        best->gain = gain;
        best->bin = b;
        best->default_left = dl;
        best->gl = gl;
        best->hl = hl;
        best->gr = gr;
        best->hr = hr;
    }
}

/* Best split of feature j from its histogram hist[0..nb] (nb: the missing bin). */
static void hgb_split_feature(const hgb_gh *hist, int nb, int j, const hgb_grow_cfg *cfg,
                              hgb_split *best)
{
    double gt = 0, ht = 0, gl = 0, hl = 0, parent;
    double gm = hist[nb].g, hm = hist[nb].h;
    int b, has_missing = gm != 0 || hm != 0;

    memset(best, 0, sizeof(*best));
    best->feature = j;
    best->gain = HGB_MIN_GAIN;
    best->bin = -1;
    for (b = 0; b <= nb; b++) {
        gt += hist[b].g;
        ht += hist[b].h;
    }
    if (!(ht + cfg->lambda > 0))
        return;
    parent = hgb_score(gt, ht, cfg->lambda);
    for (b = 0; b + 1 < nb; b++) {
        gl += hist[b].g;
        hl += hist[b].h;
        hgb_try(best, cfg, parent, gl, hl, gt - gl, ht - hl, b, 0);
        if (has_missing)
            hgb_try(best, cfg, parent, gl + gm, hl + hm, gt - gl - gm, ht - hl - hm, b,
                    1);
    }
    /* Without missing values in the node, unseen ones follow the heavier side. */
    if (!has_missing && best->bin >= 0)
        best->default_left = best->hl >= best->hr;
}

/*
 * Best split of a node by one thread: the same feature-order reduction as
 * hgb_split_node, so either gives the same split.
 */
static void hgb_split_serial(const hgb_ws *ws, const hgb_grow_cfg *cfg, int slot,
                             hgb_split *out)
{
    const hgb_gh *hist = hgb_slot(ws, slot);
    hgb_split s;
    size_t fi;

    out->bin = -1;
    for (fi = 0; fi < ws->n_feat; fi++) {
        int j = ws->feat[fi];

        hgb_split_feature(hist + ws->off[j], ws->nb[j], j, cfg, &s);
        if (fi == 0 || s.gain > out->gain)
            *out = s;
    }
}

/* Best split of a node over the tree's features; bin -1 when none gains. */
static void hgb_split_node(hgb_ws *ws, const hgb_grow_cfg *cfg, int slot, hgb_split *out)
{
    const hgb_gh *hist = hgb_slot(ws, slot);
    size_t fi;
    int par = ws->n_feat * 64 >= HGB_PAR_WORK && ws->threads > 1;

#pragma omp parallel for num_threads(ws->threads) schedule(static) if (par)
    for (fi = 0; fi < ws->n_feat; fi++) {
        int j = ws->feat[fi];

        hgb_split_feature(hist + ws->off[j], ws->nb[j], j, cfg, &ws->fsplit[fi]);
    }
    if (ws->n_feat == 0) {
        out->bin = -1;
        return;
    }
    /* Reduce in feature order: the first of equal gains wins. */
    *out = ws->fsplit[0];
    for (fi = 1; fi < ws->n_feat; fi++)
        if (ws->fsplit[fi].gain > out->gain)
            *out = ws->fsplit[fi];
}

/* ---- growth -------------------------------------------------------------- */

/* Stable partition of the node's rows: left rows first. Returns the left count. */
static size_t hgb_partition(hgb_ws *ws, size_t node, const hgb_split *s)
{
    size_t b = ws->nbegin[node], e = ws->nend[node], k, nl = b, nr = 0;
    const uint8_t *col = ws->codes + (size_t)s->feature * ws->n;
    size_t *tmp = ws->tmp + b; /* own scratch range: nodes may split concurrently */
    int nb = ws->nb[s->feature];

    /* Branch-free: both stores happen, one index advances (splits are unpredictable). */
    for (k = b; k < e; k++) {
        size_t r = ws->rows[k];
        int c = col[r];
        size_t left = (size_t)(c == nb ? s->default_left : c <= s->bin);

        ws->rows[nl] = r;
        tmp[nr] = r;
        nl += left;
        nr += 1 - left;
    }
    memcpy(ws->rows + nl, tmp, nr * sizeof(size_t));
    return nl - b;
}

/* Appends an empty node to the tree being grown (whose root is at base). */
static size_t hgb_node_add(hgb_forest *f, size_t base)
{
    hgb_node *nd = &f->nodes[f->n_nodes++];

    memset(nd, 0, sizeof(*nd));
    nd->feature = -1;
    nd->left = nd->right = -1;
    nd->bin = -1;
    return f->n_nodes - 1 - base;
}

/* Whether a node may be split at all (depth, rows, hessian). */
static int hgb_splittable(const hgb_ws *ws, const hgb_grow_cfg *cfg, size_t node)
{
    return ws->ndepth[node] < cfg->max_depth && ws->nend[node] - ws->nbegin[node] >= 2 &&
           ws->nh[node] >= 2 * cfg->min_child_weight;
}

/* Finds the split of a node whose histogram is in slot; queues it or frees the slot. */
static void hgb_consider(hgb_ws *ws, const hgb_grow_cfg *cfg, size_t *n_cands,
                         size_t node, int slot)
{
    hgb_cand *c = &ws->cands[*n_cands];

    hgb_split_node(ws, cfg, slot, &c->s);
    if (c->s.bin < 0) {
        hgb_slot_give(ws, slot);
        return;
    }
    c->node = node;
    c->slot = slot;
    (*n_cands)++;
}

/* Picks the next candidate: node order (depth-wise) or the largest gain. */
static size_t hgb_pick(const hgb_ws *ws, const hgb_grow_cfg *cfg, size_t n_cands)
{
    size_t i, best = 0;

    for (i = 1; i < n_cands; i++) {
        const hgb_cand *a = &ws->cands[i], *b = &ws->cands[best];

        if (cfg->max_leaves > 0
                ? a->s.gain > b->s.gain || (a->s.gain == b->s.gain && a->node < b->node)
                : a->node < b->node)
            best = i;
    }
    return best;
}

/* Histograms of the children that may split, from the parent's when it has one. */
static void hgb_children_hists(hgb_ws *ws, int pslot, size_t l, size_t r, int *sl,
                               int *sr)
{
    int ok_l = *sl, ok_r = *sr;
    size_t small = ws->nend[l] - ws->nbegin[l] <= ws->nend[r] - ws->nbegin[r] ? l : r;
    size_t big = small == l ? r : l;
    int s_small, s_big = -1;

    *sl = *sr = -1;
    if (pslot < 0) {
        if (ok_l)
            hgb_hist_build(ws, l, *sl = hgb_slot_take(ws));
        if (ok_r)
            hgb_hist_build(ws, r, *sr = hgb_slot_take(ws));
        return;
    }
    s_small = hgb_slot_take(ws);
    hgb_hist_build(ws, small, s_small);
    if ((big == l && ok_l) || (big == r && ok_r)) {
        hgb_hist_subtract(ws, pslot, s_small);
        s_big = pslot;
    } else {
        hgb_slot_give(ws, pslot);
    }
    if (!((small == l && ok_l) || (small == r && ok_r))) {
        hgb_slot_give(ws, s_small);
        s_small = -1;
    }
    *sl = small == l ? s_small : s_big;
    *sr = small == r ? s_small : s_big;
}

/* Keeps two pool slots free for the next split by dropping candidates' histograms. */
static void hgb_keep_free(hgb_ws *ws, size_t n_cands)
{
    size_t i = n_cands;

    while (ws->n_free < 2 && i-- > 0) {
        hgb_slot_give(ws, ws->cands[i].slot);
        ws->cands[i].slot = -1;
    }
}

/*
 * Partitions the rows of candidate c and adds its children l, r to the tree
 * rooted at base (without their histograms).
 */
static void hgb_divide(hgb_ws *ws, hgb_forest *f, size_t base, const hgb_cand *c,
                       size_t nl, size_t *l, size_t *r)
{
    size_t node = c->node;
    hgb_node *nd;

    *l = hgb_node_add(f, base);
    *r = hgb_node_add(f, base);
    nd = &f->nodes[base + node];
    nd->feature = c->s.feature;
    nd->bin = c->s.bin;
    nd->default_left = (uint8_t)c->s.default_left;
    nd->threshold = ws->edges[ws->off[c->s.feature] + (size_t)c->s.bin];
    nd->gain = c->s.gain;
    nd->left = (int32_t)*l;
    nd->right = (int32_t)*r;
    ws->nbegin[*l] = ws->nbegin[node];
    ws->nend[*l] = ws->nbegin[*r] = ws->nbegin[node] + nl;
    ws->nend[*r] = ws->nend[node];
    ws->ng[*l] = c->s.gl;
    ws->nh[*l] = c->s.hl;
    ws->ng[*r] = c->s.gr;
    ws->nh[*r] = c->s.hr;
    ws->ndepth[*l] = ws->ndepth[*r] = ws->ndepth[node] + 1;
}

/* Splits candidate ci of the tree rooted at base; queues its children. */
static void hgb_apply(hgb_ws *ws, const hgb_grow_cfg *cfg, hgb_forest *f, size_t base,
                      size_t *n_cands, size_t ci)
{
    hgb_cand c = ws->cands[ci];
    size_t l, r;
    int sl, sr;

    ws->cands[ci] = ws->cands[--*n_cands];
    hgb_divide(ws, f, base, &c, hgb_partition(ws, c.node, &c.s), &l, &r);
    sl = hgb_splittable(ws, cfg, l);
    sr = hgb_splittable(ws, cfg, r);
    if (!sl && !sr) {
        hgb_slot_give(ws, c.slot);
        return;
    }
    hgb_children_hists(ws, c.slot, l, r, &sl, &sr);
    if (sl >= 0)
        hgb_consider(ws, cfg, n_cands, l, sl);
    if (sr >= 0)
        hgb_consider(ws, cfg, n_cands, r, sr);
    hgb_keep_free(ws, *n_cands);
}

/* ---- level-wise growth --------------------------------------------------- */

/*
 * Depth-wise growth splits the candidates of a level in node order, and
 * each split used to open its own parallel regions (partition, histogram,
 * split finding): some sixty per tree, each a thread synchronisation.
 * hgb_level instead splits a whole level with one region whose work items
 * are (node, feature) pairs, as XGBoost's hist method does.  Every item
 * still sums one feature of one node in row order, and the queue of
 * candidates is updated exactly as node-by-node splitting would, so the
 * trees are the same as hgb_apply's and do not depend on the thread count.
 */

/* The level's candidates: those of the least depth, in node order, at most `room`. */
static size_t hgb_level_pick(hgb_ws *ws, size_t n_cands, size_t room)
{
    size_t i, k = 0, m;
    int depth = ws->ndepth[ws->cands[0].node];

    for (i = 1; i < n_cands; i++)
        if (ws->ndepth[ws->cands[i].node] < depth)
            depth = ws->ndepth[ws->cands[i].node];
    for (i = 0; i < n_cands; i++)
        if (ws->ndepth[ws->cands[i].node] == depth)
            ws->lvl[k++] = ws->cands[i];
    /* Insertion sort by node: a level holds few candidates. */
    for (i = 1; i < k; i++) {
        hgb_cand c = ws->lvl[i];

        for (m = i; m > 0 && ws->lvl[m - 1].node > c.node; m--)
            ws->lvl[m] = ws->lvl[m - 1];
        ws->lvl[m] = c;
    }
    return k < room ? k : room;
}

/*
 * Whether the pool holds every histogram of the level at once and still
 * two free slots: then node-by-node splitting would drop no histogram
 * either, and both ways give the same trees.
 */
static int hgb_level_fits(const hgb_ws *ws, size_t k)
{
    size_t i, need = 2;

    for (i = 0; i < k; i++)
        need += ws->lvl[i].slot < 0 ? 2 : 1;
    return need <= (size_t)ws->n_free;
}

struct hgb_plan {
    size_t nb, nc; /* build and split jobs */
    hgb_job *build, *split;
    int node_par;  /* builds: one thread per node, not all threads per node */
    hgb_job *give; /* slots to free once the jobs are done */
    size_t ngive;
};

static void hgb_plan_add(hgb_job *list, size_t *n, size_t node, int slot, int sub)
{
    list[*n].node = node;
    list[*n].slot = slot;
    list[*n].sub = sub;
    (*n)++;
}

/* Plans the histograms of children l, r of a candidate (as hgb_children_hists). */
static void hgb_plan_children(hgb_ws *ws, struct hgb_plan *pl, int pslot, size_t l,
                              size_t r, int ok_l, int ok_r)
{
    size_t small = ws->nend[l] - ws->nbegin[l] <= ws->nend[r] - ws->nbegin[r] ? l : r;
    int ok_small = small == l ? ok_l : ok_r, ok_big = small == l ? ok_r : ok_l;
    int s_small;

    if (pslot < 0) {
        if (ok_l)
            hgb_plan_add(pl->build, &pl->nb, l, hgb_slot_take(ws), -1);
        if (ok_l)
            hgb_plan_add(pl->split, &pl->nc, l, pl->build[pl->nb - 1].slot, -1);
        if (ok_r)
            hgb_plan_add(pl->build, &pl->nb, r, hgb_slot_take(ws), -1);
        if (ok_r)
            hgb_plan_add(pl->split, &pl->nc, r, pl->build[pl->nb - 1].slot, -1);
        return;
    }
    s_small = hgb_slot_take(ws);
    hgb_plan_add(pl->build, &pl->nb, small, s_small, -1);
    if (!ok_big)
        hgb_plan_add(pl->give, &pl->ngive, 0, pslot, -1);
    if (!ok_small)
        hgb_plan_add(pl->give, &pl->ngive, 0, s_small, -1);
    /* The big child's histogram is the parent's minus the small one's. */
    if (ok_l)
        hgb_plan_add(pl->split, &pl->nc, l, small == l ? s_small : pslot,
                     small == l ? -1 : s_small);
    if (ok_r)
        hgb_plan_add(pl->split, &pl->nc, r, small == r ? s_small : pslot,
                     small == r ? -1 : s_small);
}
/* Rows of node. */
static size_t hgb_rows_of(const hgb_ws *ws, size_t node)
{
    return ws->nend[node] - ws->nbegin[node];
}

/*
 * Orders the builds largest first and decides how threads share them:
 * whole nodes when there are enough and none dominates (the dynamic
 * schedule then balances, largest first), else every thread on each node,
 * which costs two synchronisations per node.  Either gives the same
 * histograms.
 */
static void hgb_plan_order(const hgb_ws *ws, struct hgb_plan *pl)
{
    size_t i, m, total = 0, team = hgb_team();

    for (i = 1; i < pl->nb; i++) {
        hgb_job jb = pl->build[i];

        for (m = i;
             m > 0 && hgb_rows_of(ws, pl->build[m - 1].node) < hgb_rows_of(ws, jb.node);
             m--)
            pl->build[m] = pl->build[m - 1];
        pl->build[m] = jb;
    }
    for (i = 0; i < pl->nb; i++)
        total += hgb_rows_of(ws, pl->build[i].node);
    pl->node_par =
        pl->nb >= 2 * team ||
        (pl->nb >= team && 4 * team * hgb_rows_of(ws, pl->build[0].node) <= 5 * total);
}

/* Adds the level's children to the tree and plans their histograms (serial). */
static void hgb_level_plan(hgb_ws *ws, const hgb_grow_cfg *cfg, hgb_forest *f,
                           size_t base, size_t k, struct hgb_plan *pl)
{
    size_t i, l, r;

    pl->nb = pl->nc = pl->ngive = 0;
    pl->build = ws->jobs;
    pl->split = ws->jobs + 3 * k;
    pl->give = ws->jobs + 5 * k;
    for (i = 0; i < k; i++) {
        hgb_cand *c = &ws->lvl[i];
        int ok_l, ok_r;

        hgb_divide(ws, f, base, c, c->nl, &l, &r);
        ok_l = hgb_splittable(ws, cfg, l);
        ok_r = hgb_splittable(ws, cfg, r);
        c->kid0 = pl->nc;
        if (!ok_l && !ok_r)
            hgb_slot_give(ws, c->slot);
        else
            hgb_plan_children(ws, pl, c->slot, l, r, ok_l, ok_r);
        c->kid1 = pl->nc;
    }
    hgb_plan_order(ws, pl);
}

/*
 * Histograms and splits of the planned children, inside the level's
 * parallel region.  Many nodes: one thread per node; few: all threads on
 * each (the sums are exact, so both give the same histograms).  A split
 * job subtracts its histogram first when it is the big child's.
 */
static void hgb_level_work(hgb_ws *ws, const hgb_grow_cfg *cfg, const struct hgb_plan *pl)
{
    size_t i, fi;

    if (pl->node_par) {
#pragma omp for schedule(dynamic)
        for (i = 0; i < pl->nb; i++)
            hgb_node_hist_serial(ws, pl->build[i].node, pl->build[i].slot);
    } else {
        for (i = 0; i < pl->nb; i++)
            hgb_node_hist(ws, pl->build[i].node, pl->build[i].slot);
    }
#pragma omp for schedule(dynamic)
    for (i = 0; i < pl->nc; i++) {
        const hgb_job *jb = &pl->split[i];

        for (fi = 0; jb->sub >= 0 && fi < ws->n_feat; fi++)
            hgb_subtract_one(ws, jb->slot, jb->sub, fi);
        hgb_split_serial(ws, cfg, jb->slot, &pl->split[i].s);
    }
}

/*
 * Updates the queue as hgb_apply would have, candidate by candidate:
 * remove the parent, then queue each child that has a split.
 */
static void hgb_level_queue(hgb_ws *ws, const struct hgb_plan *pl, size_t k,
                            size_t *n_cands)
{
    size_t i, ci, j;

    for (i = 0; i < pl->ngive; i++)
        hgb_slot_give(ws, pl->give[i].slot);
    for (i = 0; i < k; i++) {
        for (ci = 0; ws->cands[ci].node != ws->lvl[i].node; ci++)
            assert(ci + 1 < *n_cands);
        ws->cands[ci] = ws->cands[--*n_cands];
        for (j = ws->lvl[i].kid0; j < ws->lvl[i].kid1; j++) {
            const hgb_job *jb = &pl->split[j];
            hgb_cand *c = &ws->cands[*n_cands];

            if (jb->s.bin < 0) {
                hgb_slot_give(ws, jb->slot);
                continue;
            }
            c->node = jb->node;
            c->slot = jb->slot;
            c->s = jb->s;
            (*n_cands)++;
        }
    }
    hgb_keep_free(ws, *n_cands);
}

/* Splits the k candidates in ws->lvl together, in one parallel region. */
static void hgb_level(hgb_ws *ws, const hgb_grow_cfg *cfg, hgb_forest *f, size_t base,
                      size_t *n_cands, size_t k)
{
    struct hgb_plan pl;
    size_t i, work = 0;
    int par;

    for (i = 0; i < k; i++)
        work += ws->nend[ws->lvl[i].node] - ws->nbegin[ws->lvl[i].node];
    par = (double)work * hgb_row_cost(ws) >= HGB_PAR_WORK && ws->threads > 1;
#pragma omp parallel num_threads(ws->threads) if (par)
    {
#pragma omp for schedule(dynamic)
        for (i = 0; i < k; i++)
            ws->lvl[i].nl = hgb_partition(ws, ws->lvl[i].node, &ws->lvl[i].s);
#pragma omp single
        hgb_level_plan(ws, cfg, f, base, k, &pl);
        hgb_level_work(ws, cfg, &pl);
    }
    hgb_level_queue(ws, &pl, k, n_cands);
}

/* Root of a new tree: totals over its rows, first histogram and split. */
static void hgb_root(hgb_ws *ws, const hgb_grow_cfg *cfg, size_t m, size_t *n_cands)
{
    double g = 0, h = 0;
    size_t k;

    for (k = 0; k < m; k++) {
        g += ws->g[ws->rows[k]];
        h += ws->h[ws->rows[k]];
    }
    ws->nbegin[0] = 0;
    ws->nend[0] = m;
    ws->ng[0] = g;
    ws->nh[0] = h;
    ws->ndepth[0] = 0;
    if (hgb_splittable(ws, cfg, 0)) {
        int slot = hgb_slot_take(ws);

        hgb_hist_build(ws, 0, slot);
        hgb_consider(ws, cfg, n_cands, 0, slot);
    }
}

int hgb_grow(hgb_ws *ws, const hgb_grow_cfg *cfg, size_t m, hgb_forest *f)
{
    size_t base, n_cands = 0, leaves = 1, i;
    int rc;

    if ((rc = hgb_forest_reserve(f, 2 * ws->max_leaves)) < 0)
        return rc;
    hgb_tree_features(ws);
    hgb_quantize(ws->g, ws->n);
    hgb_quantize(ws->h, ws->n);
    for (i = 0; i < ws->n; i++) {
        ws->gh[i].g = ws->g[i];
        ws->gh[i].h = ws->h[i];
    }
    base = f->n_nodes;
    f->start[f->n_trees] = base;
    hgb_node_add(f, base);
    hgb_root(ws, cfg, m, &n_cands);
    while (n_cands > 0 && leaves < ws->max_leaves) {
        size_t k;

        if (cfg->max_leaves <= 0 &&
            hgb_level_fits(ws,
                           k = hgb_level_pick(ws, n_cands, ws->max_leaves - leaves))) {
            hgb_level(ws, cfg, f, base, &n_cands, k);
            leaves += k;
            continue;
        }
        hgb_apply(ws, cfg, f, base, &n_cands, hgb_pick(ws, cfg, n_cands));
        leaves++;
    }
    for (i = 0; i < n_cands; i++)
        hgb_slot_give(ws, ws->cands[i].slot);
    assert(ws->n_free == ws->pool_slots);
    for (i = base; i < f->n_nodes; i++) {
        double den = ws->nh[i - base] + cfg->lambda;

        if (f->nodes[i].feature < 0)
            f->nodes[i].value =
                den > 0 ? -ws->ng[i - base] / den * cfg->learning_rate : 0.0;
    }
    f->start[++f->n_trees] = f->n_nodes;
    return AML_OK;
}

/* ---- traversal and storage ----------------------------------------------- */

size_t hgb_leaf_codes(const hgb_ws *ws, const hgb_forest *f, size_t t, size_t r)
{
    const hgb_node *nodes = f->nodes + f->start[t];
    size_t i = 0;

    while (nodes[i].feature >= 0) {
        int j = nodes[i].feature, c = ws->codes[(size_t)j * ws->n + r];
        int left = c == ws->nb[j] ? nodes[i].default_left : c <= nodes[i].bin;

        i = (size_t)(left ? nodes[i].left : nodes[i].right);
    }
    return i;
}

size_t hgb_leaf_raw(const hgb_forest *f, size_t t, const double *x)
{
    const hgb_node *nodes = f->nodes + f->start[t];
    size_t i = 0;

    while (nodes[i].feature >= 0) {
        double v = x[nodes[i].feature];
        int left = isnan(v) ? nodes[i].default_left : v <= nodes[i].threshold;

        i = (size_t)(left ? nodes[i].left : nodes[i].right);
    }
    return i;
}

void hgb_forest_dispose(hgb_forest *f)
{
    free(f->nodes);
    free(f->start);
    memset(f, 0, sizeof(*f));
}

int hgb_forest_reserve(hgb_forest *f, size_t nodes)
{
    if (f->n_nodes + nodes > f->cap_nodes) {
        size_t cap = f->cap_nodes ? f->cap_nodes : 256;
        hgb_node *p;

        while (cap < f->n_nodes + nodes)
            cap *= 2;
        if (!(p = aml_mallocarray(cap, sizeof(hgb_node))))
            return AML_ENOMEM;
        if (f->n_nodes)
            memcpy(p, f->nodes, f->n_nodes * sizeof(hgb_node));
        free(f->nodes);
        f->nodes = p;
        f->cap_nodes = cap;
    }
    if (f->n_trees + 2 > f->cap_trees) {
        size_t cap = f->cap_trees ? 2 * f->cap_trees : 64;
        size_t *p = aml_mallocarray(cap, sizeof(size_t));

        if (!p)
            return AML_ENOMEM;
        if (f->start)
            memcpy(p, f->start, (f->n_trees + 1) * sizeof(size_t));
        else
            p[0] = 0;
        free(f->start);
        f->start = p;
        f->cap_trees = cap;
    }
    return AML_OK;
}
