/*
 * knn.c - k-nearest neighbours for classification and regression.
 *
 * The brute-force method of Cover and Hart, "Nearest neighbor pattern
 * classification" (IEEE Trans. Inf. Theory, 1967), behaving like
 * scikit-learn's KNeighborsClassifier / KNeighborsRegressor with
 * algorithm='brute'.  Fit only copies the training rows; all the work is in
 * predict, which handles the queries in blocks so that the distance matrix
 * stays bounded (KNN_BLOCK_CELLS doubles) whatever the number of queries.
 *
 * Euclidean distances of a block come from one BLAS product,
 * ||q||^2 + ||t||^2 - 2 q.t, clamped at zero; that form loses accuracy for
 * points that are close relative to their norms, so it is used only to
 * choose the neighbours, and the k chosen distances are then recomputed
 * directly (duplicates of a training row therefore get exactly 0).
 * Manhattan distances are plain loops.  The k nearest are kept in a bounded
 * max-heap ordered by (distance, training index), so equal distances go to
 * the lower training index and the result never depends on the scan order.
 *
 * Votes: 'uniform' gives each neighbour weight 1 and 'distance' gives 1/d;
 * when some neighbours lie at distance 0 they share all the weight, as in
 * scikit-learn.  Sample weights from fit multiply the vote weights (an
 * extension: scikit-learn's neighbours take no sample weights); if every
 * chosen neighbour has weight 0 the vote falls back to uniform.  Rows with
 * sample weight 0 are still stored and can be chosen as neighbours.
 *
 * Model files hold the whole training matrix, so they grow with the data.
 */
#include "learner.h"
#include "aml.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Distance-matrix cells per query block: 4M doubles = 32 MiB. */
#define KNN_BLOCK_CELLS ((size_t)1 << 22)
/* Queries per block when the training set is small. */
#define KNN_BLOCK_ROWS 256

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
    size_t n, p;    /* training rows and features */
    double *X;      /* n x p training rows */
    double *y;      /* n targets (class indices for classification) */
    double *w;      /* n sample weights */
    double *norms2; /* n squared row norms, for the euclidean product */
} knn;

/* One candidate neighbour. */
typedef struct knn_nb {
    double d;
    size_t i;
} knn_nb;

/* Per-predict scratch: one block of distances and one heap per query. */
typedef struct knn_work {
    double *dist;   /* rows x n */
    double *qnorm2; /* rows */
    knn_nb *heap;   /* k */
    double *vote;   /* n_out */
    size_t rows;
} knn_work;

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

static void knn_release(knn *m)
{
    free(m->X);
    free(m->y);
    free(m->w);
    free(m->norms2);
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

    for (i = 0; i < m->n; i++)
        m->norms2[i] = cblas_ddot((int)m->p, m->X + i * m->p, 1, m->X + i * m->p, 1);
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
    knn_compute_norms(m);
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

/*
 * Keeps the k nearest of dist[0..n) in h (a max-heap whose root is the
 * farthest kept).  Returns the number kept, min(k, n).
 */
static size_t knn_select(knn_nb *h, size_t k, const double *dist, size_t n)
{
    size_t i, len = 0;

    for (i = 0; i < n; i++) {
        knn_nb c = {dist[i], i};

        if (len < k) {
            size_t at = len++;

            h[at] = c;
            while (at > 0 && knn_farther(&h[at], &h[(at - 1) / 2])) {
                knn_nb t = h[at];

                h[at] = h[(at - 1) / 2];
                h[(at - 1) / 2] = t;
                at = (at - 1) / 2;
            }
        } else if (knn_farther(&h[0], &c)) {
            h[0] = c;
            knn_sift_down(h, len, 0);
        }
    }
    return len;
}

/* ---- distances ---------------------------------------------------------- */

/* dist (rows x n) = squared euclidean distances of Q's rows to the training rows. */
static void knn_block_euclidean(const knn *m, const double *Q, size_t rows, knn_work *wk)
{
    /* BLAS wants leading dimensions >= 1 even when there are no features. */
    int ld = m->p ? (int)m->p : 1;
    size_t r, i;

    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)m->n, (int)m->p,
                -2.0, Q, ld, m->X, ld, 0.0, wk->dist, (int)m->n);
    for (r = 0; r < rows; r++) {
        double *d = wk->dist + r * m->n;

        wk->qnorm2[r] = cblas_ddot((int)m->p, Q + r * m->p, 1, Q + r * m->p, 1);
        for (i = 0; i < m->n; i++) {
            double s = d[i] + wk->qnorm2[r] + m->norms2[i];

            d[i] = s > 0 ? s : 0;
        }
    }
}

static double knn_manhattan(const double *a, const double *b, size_t p)
{
    double s = 0;
    size_t j;

    for (j = 0; j < p; j++)
        s += fabs(a[j] - b[j]);
    return s;
}

static double knn_euclidean(const double *a, const double *b, size_t p)
{
    double s = 0;
    size_t j;

    for (j = 0; j < p; j++)
        s += (a[j] - b[j]) * (a[j] - b[j]);
    return sqrt(s);
}

static void knn_block_manhattan(const knn *m, const double *Q, size_t rows, knn_work *wk)
{
    size_t r, i;

    for (r = 0; r < rows; r++)
        for (i = 0; i < m->n; i++)
            wk->dist[r * m->n + i] = knn_manhattan(Q + r * m->p, m->X + i * m->p, m->p);
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

static void knn_predict_row(const knn *m, const double *q, const double *dist,
                            knn_work *wk, double *out)
{
    size_t len = knn_select(wk->heap, (size_t)m->k, dist, m->n), j;

    qsort(wk->heap, len, sizeof(knn_nb), knn_nb_cmp);
    for (j = 0; j < len && m->weights == KNN_DISTANCE; j++)
        wk->heap[j].d = m->metric == KNN_EUCLIDEAN
                            ? knn_euclidean(q, m->X + wk->heap[j].i * m->p, m->p)
                            : dist[wk->heap[j].i];
    knn_vote_weights(m, wk->heap, len);
    knn_vote(m, wk->heap, len, out);
}

/* ---- predict ------------------------------------------------------------ */

static void knn_work_dispose(knn_work *wk)
{
    free(wk->dist);
    free(wk->qnorm2);
    free(wk->heap);
    free(wk->vote);
}

static int knn_work_init(knn_work *wk, const knn *m)
{
    size_t k = (size_t)m->k < m->n ? (size_t)m->k : m->n;

    memset(wk, 0, sizeof(*wk));
    wk->rows = KNN_BLOCK_CELLS / m->n;
    if (wk->rows > KNN_BLOCK_ROWS)
        wk->rows = KNN_BLOCK_ROWS;
    if (wk->rows == 0)
        wk->rows = 1;
    wk->dist = aml_mallocarray(wk->rows, m->n * sizeof(double));
    wk->qnorm2 = aml_mallocarray(wk->rows, sizeof(double));
    wk->heap = aml_mallocarray(k, sizeof(knn_nb));
    wk->vote = aml_mallocarray((size_t)m->n_out, sizeof(double));
    if (!wk->dist || !wk->qnorm2 || !wk->heap || !wk->vote) {
        knn_work_dispose(wk);
        return AML_ENOMEM;
    }
    return AML_OK;
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

static int knn_predict(const aml_learner *l, const aml_matrix *X, double *out)
{
    const knn *m = (const knn *)l;
    knn_work wk;
    size_t b, r;
    int rc;

    if ((rc = knn_check_state(m)) < 0)
        return rc;
    if (X->cols != m->p)
        return aml_error_set(AML_EINVAL, "knn: fitted on %zu features, got %zu", m->p,
                             X->cols);
    if (X->rows == 0)
        return AML_OK;
    if ((rc = knn_work_init(&wk, m)) < 0)
        return rc;
    for (b = 0; b < X->rows; b += wk.rows) {
        size_t rows = X->rows - b < wk.rows ? X->rows - b : wk.rows;
        const double *Q = X->data + b * m->p;

        if (m->metric == KNN_EUCLIDEAN)
            knn_block_euclidean(m, Q, rows, &wk);
        else
            knn_block_manhattan(m, Q, rows, &wk);
        for (r = 0; r < rows; r++)
            knn_predict_row(m, Q + r * m->p, wk.dist + r * m->n, &wk,
                            out + (b + r) * (size_t)m->n_out);
    }
    knn_work_dispose(&wk);
    return AML_OK;
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
    knn_compute_norms(m);
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
    .save = knn_save,
    .load = knn_load,
    .free = knn_free,
};
