/*
 * svm.c - kernel support vector classification (C-SVC).
 *
 * The dual problem of Cortes and Vapnik, "Support-vector networks" (Machine
 * Learning, 1995), for every pair of classes (one-vs-one, as LIBSVM and
 * scikit-learn's SVC):
 *
 *     min_a  1/2 a^T Q a - e^T a,   0 <= a_t <= C w_t,   y^T a = 0,
 *     Q_st = y_s y_t K(x_s, x_t),
 *
 * solved by sequential minimal optimisation with the second-order working
 * set selection of Fan, Chen and Lin, "Working set selection using second
 * order information for training support vector machines" (JMLR 6, 2005),
 * the algorithm of LIBSVM (Chang and Lin, ACM TIST 2011) without shrinking.
 * The stopping rule is LIBSVM's: the maximal violating pair's gap
 * m(a) - M(a) falls below tol.  The intercept is LIBSVM's: the mean of
 * y_t G_t over free vectors, else the midpoint of the feasible interval.
 * Sample weights scale each row's bound (C w_t, as scikit-learn); rows of
 * weight 0 are left out, as scikit-learn's LIBSVM does.
 *
 * Kernel columns are computed with one BLAS dgemv each and kept in a
 * least-recently-used cache of `cache_size` MB (doubles, where LIBSVM keeps
 * floats: the duals are then a little more exact).  Predict evaluates the
 * kernel between a block of queries and the shared support vectors with
 * one dgemm, then combines per pair.
 *
 * Probabilities: each pair's decision value goes through Platt's sigmoid
 * (Platt 1999) fitted by the Newton method with backtracking of Lin, Lin
 * and Weng, "A note on Platt's probabilistic outputs for support vector
 * machines" (Machine Learning, 2007); the pairwise probabilities are
 * coupled by method 2 of Wu, Lin and Weng, "Probability estimates for
 * multi-class classification by pairwise coupling" (JMLR 5, 2004), as
 * LIBSVM does.  With platt=cv (default) the sigmoid is fitted on decision
 * values of an internal 5-fold cross-validation (folds drawn from the fit's
 * generator, as LIBSVM's svm_binary_svc_probability; scikit-learn uses its
 * own generator, so the numbers differ from SVC(probability=True) though
 * the method is the same); platt=train fits it on the training decision
 * values, 6 times cheaper but overconfident.  Probabilities therefore need
 * not pick the same class as the decision values (true of scikit-learn
 * too).  A class absent from the fit gets probability 0.
 *
 * Importance: for the linear kernel, |w| summed over the pairs' weight
 * vectors w = sum_t coef_t x_t, normalised; other kernels have none.
 * Regression (SVR) is not implemented.
 */
#include "aml.h"
#include "learner.h"
#include "platt_internal.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SVM_TAU 1e-12            /* LIBSVM's floor for non-positive curvature */
#define SVM_PLATT_FOLDS 5        /* LIBSVM's folds for the probability model */
#define SVM_MIN_PROB 1e-7        /* pairwise probabilities are kept in [p, 1 - p] */
#define SVM_BLOCK_CELLS 1u << 20 /* kernel values per predict block */

enum { K_RBF = 0, K_POLY = 1, K_LINEAR = 2, K_SIGMOID = 3 };
enum { G_NUMBER = 0, G_SCALE = 1, G_AUTO = 2 };
enum { PLATT_CV = 0, PLATT_TRAIN = 1 };

static const char *const svm_kernel_words[] = {"rbf", "poly", "linear", "sigmoid", NULL};
static const char *const svm_gamma_words[] = {"scale", "auto", NULL};
static const char *const svm_platt_words[] = {"cv", "train", NULL};

static const aml_param_def svm_params[] = {
    {.name = "kernel",
     .kind = AML_VAL_STR,
     .choices = svm_kernel_words,
     .def = {.kind = AML_VAL_STR, .str = "rbf"},
     .doc = "rbf (Gaussian), poly (gamma x.z + coef0)^degree, linear or sigmoid"},
    {.name = "C",
     .kind = AML_VAL_REAL,
     .lo = 0.0,
     .hi = INFINITY,
     .lo_open = 1,
     .def = {.kind = AML_VAL_REAL, .real = 1.0},
     .search_lo = 1e-2,
     .search_hi = 1e3,
     .search_log = 1,
     .doc = "bound on the dual coefficients: smaller C regularises more"},
    {.name = "gamma",
     .kind = AML_VAL_REAL,
     .lo = 0.0,
     .hi = INFINITY,
     .lo_open = 1,
     .choices = svm_gamma_words,
     .def = {.kind = AML_VAL_STR, .str = "scale"},
     .search_lo = 1e-4,
     .search_hi = 10.0,
     .search_log = 1,
     .doc = "kernel width: a number, scale (1 / (p var(X))) or auto (1 / p)"},
    {.name = "degree",
     .kind = AML_VAL_INT,
     .lo = 1,
     .hi = 10,
     .def = {.kind = AML_VAL_INT, .i = 3},
     .search_lo = 2,
     .search_hi = 4,
     .doc = "degree of the poly kernel"},
    {.name = "coef0",
     .kind = AML_VAL_REAL,
     .lo = -INFINITY,
     .hi = INFINITY,
     .def = {.kind = AML_VAL_REAL, .real = 0.0},
     .search_lo = 0.0,
     .search_hi = 1.0,
     .doc = "constant term of the poly and sigmoid kernels"},
    {.name = "tol",
     .kind = AML_VAL_REAL,
     .lo = 0.0,
     .hi = INFINITY,
     .lo_open = 1,
     .def = {.kind = AML_VAL_REAL, .real = 1e-3},
     .search_lo = 1e-3,
     .search_hi = 1e-3,
     .search_log = 1,
     .doc = "stop when the maximal violating pair's gap falls to this"},
    {.name = "cache_size",
     .kind = AML_VAL_REAL,
     .lo = 0.0,
     .hi = INFINITY,
     .lo_open = 1,
     .def = {.kind = AML_VAL_REAL, .real = 200.0},
     .search_lo = 200.0,
     .search_hi = 200.0,
     .doc = "kernel column cache in MB (per pair being solved)"},
    {.name = "platt",
     .kind = AML_VAL_STR,
     .choices = svm_platt_words,
     .def = {.kind = AML_VAL_STR, .str = "cv"},
     .doc = "fit the probability sigmoid on 5-fold cv decision values or on training"},
    {.name = NULL},
};

typedef struct svm_kernel {
    int type, degree;
    double gamma, coef0;
} svm_kernel;

typedef struct svm {
    aml_learner base;
    svm_kernel kp;
    int gamma_word, platt;
    double C, tol, cache_mb;
    int k;      /* classes present in the fit */
    int *label; /* k class indices (of base.n_classes) */
    int *count; /* k support vectors per class */
    size_t p, n_sv;
    double *sv;      /* n_sv x p support vectors, grouped by class */
    double *sv_n2;   /* n_sv squared norms */
    int64_t *sv_row; /* n_sv training row of each (for tests and inspection) */
    double *coef;    /* (k - 1) x n_sv, LIBSVM's layout */
    double *rho;     /* k (k - 1) / 2 intercepts (decision = sum - rho) */
    double *probA, *probB;
} svm;

/* ---- kernels ------------------------------------------------------------ */

/* K(a, b) from a.b and the squared norms. */
static double svm_kval(const svm_kernel *kp, double dot, double n2a, double n2b)
{
    double d2;

    switch (kp->type) {
    case K_RBF:
        d2 = n2a + n2b - 2.0 * dot;
        return exp(-kp->gamma * (d2 > 0.0 ? d2 : 0.0));
    case K_POLY:
        return pow(kp->gamma * dot + kp->coef0, kp->degree);
    case K_SIGMOID:
        return tanh(kp->gamma * dot + kp->coef0);
    default:
        return dot;
    }
}

/* ---- the SMO solver ------------------------------------------------------ */

/* LRU cache of Q columns: a doubly linked list through prev/next, head = l. */
typedef struct svm_cache {
    size_t l, max_cols, used;
    double **col;
    size_t *prev, *next;
} svm_cache;

typedef struct svm_smo {
    size_t l, p;
    const double *X;  /* l x p rows of this problem */
    const double *n2; /* l squared norms */
    const signed char *y;
    const double *Cu; /* l upper bounds */
    const svm_kernel *kp;
    double *alpha, *G, *QD;
    svm_cache cache;
} svm_smo;

static int svm_cache_init(svm_cache *c, size_t l, double mb)
{
    double cols = mb * 1048576.0 / ((double)l * sizeof(double));

    memset(c, 0, sizeof(*c));
    c->l = l;
    c->max_cols = cols >= (double)l ? l : (cols < 2.0 ? 2 : (size_t)cols);
    c->col = aml_calloc(l, sizeof(double *));
    c->prev = aml_mallocarray(l + 1, sizeof(size_t));
    c->next = aml_mallocarray(l + 1, sizeof(size_t));
    if (!c->col || !c->prev || !c->next)
        return AML_ENOMEM;
    c->prev[l] = c->next[l] = l;
    return AML_OK;
}

static void svm_cache_dispose(svm_cache *c)
{
    size_t i;

    for (i = 0; c->col && i < c->l; i++)
        free(c->col[i]);
    free(c->col);
    free(c->prev);
    free(c->next);
    memset(c, 0, sizeof(*c));
}

static void svm_cache_unlink(svm_cache *c, size_t i)
{
    c->next[c->prev[i]] = c->next[i];
    c->prev[c->next[i]] = c->prev[i];
}

static void svm_cache_push_front(svm_cache *c, size_t i)
{
    c->next[i] = c->next[c->l];
    c->prev[i] = c->l;
    c->prev[c->next[c->l]] = i;
    c->next[c->l] = i;
}

/* Q column i: y_i y_t K(x_i, x_t) for every t.  NULL when out of memory. */
static const double *svm_column(svm_smo *s, size_t i)
{
    svm_cache *c = &s->cache;
    double *q;
    size_t t;

    if ((q = c->col[i])) {
        svm_cache_unlink(c, i);
        svm_cache_push_front(c, i);
        return q;
    }
    if (c->used == c->max_cols) { /* reuse the least recently used column */
        size_t old = c->prev[c->l];

        svm_cache_unlink(c, old);
        q = c->col[old];
        c->col[old] = NULL;
    } else if ((q = aml_mallocarray(s->l, sizeof(double)))) {
        c->used++;
    } else {
        return NULL;
    }
    if (s->p > 0)
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)s->l, (int)s->p, 1.0, s->X,
                    (int)s->p, s->X + i * s->p, 1, 0.0, q, 1);
    else
        memset(q, 0, s->l * sizeof(double));
    for (t = 0; t < s->l; t++)
        q[t] = s->y[i] * s->y[t] * svm_kval(s->kp, q[t], s->n2[i], s->n2[t]);
    c->col[i] = q;
    svm_cache_push_front(c, i);
    return q;
}

static int svm_upper(const svm_smo *s, size_t t)
{
    return s->alpha[t] >= s->Cu[t];
}

static int svm_lower(const svm_smo *s, size_t t)
{
    return s->alpha[t] <= 0.0;
}

/* The j of WSS 2 for a fixed i (Fan, Chen and Lin, eq. (17)); *gmax2 is -M(a). */
static size_t svm_select_j(const svm_smo *s, size_t i, const double *Qi, double gmax,
                           double *gmax2)
{
    size_t t, best = s->l;
    double obj_min = INFINITY;

    *gmax2 = -INFINITY;
    for (t = 0; t < s->l; t++) {
        double diff, quad, obj;

        if (s->y[t] == 1 ? svm_lower(s, t) : svm_upper(s, t))
            continue;
        *gmax2 = fmax(*gmax2, s->y[t] == 1 ? s->G[t] : -s->G[t]);
        diff = s->y[t] == 1 ? gmax + s->G[t] : gmax - s->G[t];
        if (diff <= 0.0)
            continue;
        quad = s->QD[i] + s->QD[t] - 2.0 * s->y[i] * s->y[t] * Qi[t];
        obj = -(diff * diff) / (quad > 0.0 ? quad : SVM_TAU);
        if (obj <= obj_min) {
            best = t;
            obj_min = obj;
        }
    }
    return best;
}

/*
 * Working set selection 2.  Returns 1 when optimal within tol, 0 with the
 * pair in *pi, *pj, or AML_ENOMEM.
 */
static int svm_select(svm_smo *s, double tol, size_t *pi, size_t *pj)
{
    size_t t, i = s->l, j;
    double gmax = -INFINITY, gmax2;
    const double *Qi;

    for (t = 0; t < s->l; t++) {
        double v = s->y[t] == 1 ? -s->G[t] : s->G[t];

        if ((s->y[t] == 1 ? !svm_upper(s, t) : !svm_lower(s, t)) && v >= gmax) {
            gmax = v;
            i = t;
        }
    }
    if (i == s->l)
        return 1;
    if (!(Qi = svm_column(s, i)))
        return AML_ENOMEM;
    j = svm_select_j(s, i, Qi, gmax, &gmax2);
    if (gmax + gmax2 < tol || j == s->l)
        return 1;
    *pi = i;
    *pj = j;
    return 0;
}

/* The analytic two-variable step of LIBSVM, clipped to the box. */
static void svm_step(svm_smo *s, size_t i, size_t j, double Qij)
{
    double *a = s->alpha, Ci = s->Cu[i], Cj = s->Cu[j], quad, delta;

    if (s->y[i] != s->y[j]) {
        double diff = a[i] - a[j];

        quad = s->QD[i] + s->QD[j] + 2.0 * Qij;
        delta = (-s->G[i] - s->G[j]) / (quad > 0.0 ? quad : SVM_TAU);
        a[i] += delta;
        a[j] += delta;
        if (diff > 0.0 && a[j] < 0.0)
            a[j] = 0.0, a[i] = diff;
        else if (diff <= 0.0 && a[i] < 0.0)
            a[i] = 0.0, a[j] = -diff;
        if (diff > Ci - Cj && a[i] > Ci)
            a[i] = Ci, a[j] = Ci - diff;
        else if (diff <= Ci - Cj && a[j] > Cj)
            a[j] = Cj, a[i] = Cj + diff;
    } else {
        double sum = a[i] + a[j];

        quad = s->QD[i] + s->QD[j] - 2.0 * Qij;
        delta = (s->G[i] - s->G[j]) / (quad > 0.0 ? quad : SVM_TAU);
        a[i] -= delta;
        a[j] += delta;
        if (sum > Ci && a[i] > Ci)
            a[i] = Ci, a[j] = sum - Ci;
        else if (sum <= Ci && a[j] < 0.0)
            a[j] = 0.0, a[i] = sum;
        if (sum > Cj && a[j] > Cj)
            a[j] = Cj, a[i] = sum - Cj;
        else if (sum <= Cj && a[i] < 0.0)
            a[i] = 0.0, a[j] = sum;
    }
}

/* Runs SMO to optimality; alpha and G hold the result. */
static int svm_smo_run(svm_smo *s, double tol)
{
    size_t t, i, j, l = s->l;
    long long it, max_it = l > 100000 ? 100LL * (long long)l : 10000000LL;
    int rc;

    for (t = 0; t < l; t++) {
        s->alpha[t] = 0.0;
        s->G[t] = -1.0;
        s->QD[t] = svm_kval(s->kp, s->n2[t], s->n2[t], s->n2[t]);
    }
    for (it = 0; it < max_it; it++) {
        const double *Qi, *Qj;
        double ai, aj;

        /* A kernel column can cost milliseconds on big data: check often. */
        if ((it & 63) == 0 && (rc = aml_deadline_check()) < 0)
            return rc;
        if ((rc = svm_select(s, tol, &i, &j)) != 0)
            return rc < 0 ? rc : AML_OK;
        Qi = svm_column(s, i);
        Qj = Qi ? svm_column(s, j) : NULL;
        if (!Qj)
            return AML_ENOMEM;
        ai = s->alpha[i];
        aj = s->alpha[j];
        svm_step(s, i, j, Qi[j]);
        ai = s->alpha[i] - ai;
        aj = s->alpha[j] - aj;
        for (t = 0; t < l; t++)
            s->G[t] += Qi[t] * ai + Qj[t] * aj;
    }
    return AML_OK; /* iteration cap: keep the model, as LIBSVM does */
}

/* LIBSVM's intercept: mean y_t G_t over free vectors, else the interval middle. */
static double svm_rho(const svm_smo *s)
{
    double ub = INFINITY, lb = -INFINITY, sum = 0.0;
    size_t t, n_free = 0;

    for (t = 0; t < s->l; t++) {
        double yg = s->y[t] * s->G[t];
        int up = svm_upper(s, t), lo = svm_lower(s, t);

        if ((up && s->y[t] == -1) || (lo && s->y[t] == 1))
            ub = fmin(ub, yg);
        else if (up || lo)
            lb = fmax(lb, yg);
        else
            n_free++, sum += yg;
    }
    return n_free > 0 ? sum / (double)n_free : 0.5 * (ub + lb);
}

/* ---- one binary problem -------------------------------------------------- */

/* Data shared by every binary problem of one fit. */
typedef struct svm_data {
    const aml_matrix *X;
    const double *n2; /* squared row norms */
    const double *w;  /* NULL for ones */
    const svm *m;
} svm_data;

/*
 * Solves the binary problem on rows idx[0..l) with labels y; writes
 * coef_t = alpha_t y_t and the intercept.
 */
static int svm_binary(const svm_data *d, const size_t *idx, const signed char *y,
                      size_t l, double *coef, double *rho)
{
    size_t t, p = d->X->cols;
    svm_smo s = {.l = l, .p = p, .y = y, .kp = &d->m->kp};
    double *buf = aml_mallocarray(l, (p + 5) * sizeof(double));
    int rc;

    if (!buf)
        return AML_ENOMEM;
    s.X = buf;
    s.n2 = buf + l * p;
    s.Cu = s.n2 + l;
    s.alpha = (double *)s.Cu + l;
    s.G = s.alpha + l;
    s.QD = s.G + l;
    for (t = 0; t < l; t++) {
        memcpy(buf + t * p, d->X->data + idx[t] * p, p * sizeof(double));
        ((double *)s.n2)[t] = d->n2[idx[t]];
        ((double *)s.Cu)[t] = d->m->C * (d->w ? d->w[idx[t]] : 1.0);
    }
    if ((rc = svm_cache_init(&s.cache, l, d->m->cache_mb)) == 0 &&
        (rc = svm_smo_run(&s, d->m->tol)) == 0) {
        for (t = 0; t < l; t++)
            coef[t] = s.alpha[t] * y[t];
        *rho = svm_rho(&s);
    }
    svm_cache_dispose(&s.cache);
    free(buf);
    return rc;
}

/* Decision values of rows q[0..nq) for the binary model on rows idx[0..l). */
static void svm_binary_dec(const svm_data *d, const size_t *idx, const double *coef,
                           size_t l, double rho, const size_t *q, size_t nq, double *out)
{
    size_t a, t, p = d->X->cols;

    for (a = 0; a < nq; a++) {
        const double *x = d->X->data + q[a] * p;
        double s = -rho;

        for (t = 0; t < l; t++)
            if (coef[t] != 0.0) {
                const double *z = d->X->data + idx[t] * p;
                double dot = p ? cblas_ddot((int)p, x, 1, z, 1) : 0.0;

                s += coef[t] * svm_kval(&d->m->kp, dot, d->n2[q[a]], d->n2[idx[t]]);
            }
        out[a] = s;
    }
}

/* ---- fitting ------------------------------------------------------------- */

/* Decision values of l rows by 5-fold cross-validation (LIBSVM's folds). */
static int svm_cv_dec(const svm_data *d, const size_t *idx, const signed char *y,
                      size_t l, aml_rng *rng, double *dec)
{
    size_t *perm = aml_mallocarray(2 * l + 1, sizeof(size_t)), *tr, f, t;
    signed char *ytr = aml_malloc(l + 1);
    double *coef = aml_mallocarray(l + 1, sizeof(double)), rho;
    int rc = AML_OK;

    if (!perm || !ytr || !coef) {
        rc = AML_ENOMEM;
        goto out;
    }
    tr = perm + l;
    for (t = 0; t < l; t++)
        perm[t] = t;
    aml_rng_shuffle(rng, perm, l);
    for (f = 0; f < SVM_PLATT_FOLDS && rc == 0; f++) {
        size_t b = f * l / SVM_PLATT_FOLDS, e = (f + 1) * l / SVM_PLATT_FOLDS, n = 0;
        int pos = 0, neg = 0;

        for (t = 0; t < l; t++)
            if (t < b || t >= e) {
                tr[n] = idx[perm[t]], ytr[n] = y[perm[t]];
                pos += ytr[n] == 1, neg += ytr[n++] == -1;
            }
        if (pos == 0 || neg == 0) {
            for (t = b; t < e; t++)
                dec[perm[t]] = pos ? 1.0 : neg ? -1.0 : 0.0;
            continue;
        }
        if ((rc = svm_binary(d, tr, ytr, n, coef, &rho)) < 0)
            break;
        for (t = b; t < e; t++) {
            size_t q = idx[perm[t]];

            svm_binary_dec(d, tr, coef, n, rho, &q, 1, &dec[perm[t]]);
        }
    }
out:
    free(perm);
    free(ytr);
    free(coef);
    return rc;
}

/* Rows of the fit grouped by present class; rows of weight 0 left out. */
typedef struct svm_groups {
    size_t *rows;  /* grouped row indices */
    size_t *start; /* k + 1 offsets into rows */
    int k;
} svm_groups;

static int svm_group(svm *m, const aml_matrix *X, const double *y, const double *w,
                     int n_classes, svm_groups *g)
{
    size_t i, *cnt = aml_calloc((size_t)n_classes + 1, sizeof(size_t)), n = 0;
    int c;

    g->rows = aml_mallocarray(X->rows + 1, sizeof(size_t));
    g->start = aml_mallocarray((size_t)n_classes + 1, sizeof(size_t));
    m->label = aml_mallocarray((size_t)n_classes, sizeof(int));
    m->count = aml_calloc((size_t)n_classes, sizeof(int));
    if (!cnt || !g->rows || !g->start || !m->label || !m->count) {
        free(cnt);
        return AML_ENOMEM;
    }
    for (i = 0; i < X->rows; i++)
        if (!w || w[i] > 0.0)
            cnt[(size_t)y[i]]++;
    g->k = 0;
    for (c = 0; c < n_classes; c++) {
        if (cnt[c] == 0)
            continue;
        m->label[g->k] = c;
        g->start[g->k++] = n;
        for (i = 0; i < X->rows; i++)
            if ((int)y[i] == c && (!w || w[i] > 0.0))
                g->rows[n++] = i;
    }
    g->start[g->k] = n;
    m->k = g->k;
    free(cnt);
    return g->k > 0 ? AML_OK
                    : aml_error_set(AML_EINVAL, "svm: sample weights sum to zero");
}

/* Per-pair results before they are packed into LIBSVM's layout. */
typedef struct svm_pairs {
    double **coef; /* npairs arrays over the pair's rows */
    size_t npairs;
} svm_pairs;

static void svm_pairs_dispose(svm_pairs *pr)
{
    size_t q;

    for (q = 0; pr->coef && q < pr->npairs; q++)
        free(pr->coef[q]);
    free(pr->coef);
}

/* Trains pair (a, b), its Platt sigmoid, and stores its coefficients. */
static int svm_train_pair(svm *m, const svm_data *d, const svm_groups *g, int a, int b,
                          size_t q, svm_pairs *pr, aml_rng *rng)
{
    size_t na = g->start[a + 1] - g->start[a], nb = g->start[b + 1] - g->start[b];
    size_t l = na + nb, t, *idx = aml_mallocarray(l, sizeof(size_t));
    signed char *y = aml_malloc(l);
    double *dec = aml_mallocarray(2 * l, sizeof(double));
    int rc = AML_ENOMEM;

    pr->coef[q] = aml_mallocarray(l, sizeof(double));
    if (!idx || !y || !dec || !pr->coef[q])
        goto out;
    memcpy(idx, g->rows + g->start[a], na * sizeof(size_t));
    memcpy(idx + na, g->rows + g->start[b], nb * sizeof(size_t));
    for (t = 0; t < l; t++)
        y[t] = t < na ? 1 : -1;
    if ((rc = svm_binary(d, idx, y, l, pr->coef[q], &m->rho[q])) < 0)
        goto out;
    if (m->platt == PLATT_CV)
        rc = svm_cv_dec(d, idx, y, l, rng, dec);
    else
        svm_binary_dec(d, idx, pr->coef[q], l, m->rho[q], idx, l, dec);
    for (t = 0; t < l; t++)
        dec[l + t] = y[t];
    if (rc == 0) {
        aml_platt_data pd = {dec, dec + l, NULL, l, 1};

        aml_platt_fit(&pd, dec + l, &m->probA[q], &m->probB[q]);
    }
out:
    free(idx);
    free(y);
    free(dec);
    return rc;
}

/* Marks the support vectors and gives each its slot; returns their number. */
static size_t svm_mark(svm *m, const svm_groups *g, const svm_pairs *pr, size_t *slot)
{
    size_t q = 0, t, n = g->start[g->k], n_sv = 0;
    int a, b;

    for (t = 0; t < n; t++)
        slot[t] = SIZE_MAX;
    for (a = 0; a < g->k; a++)
        for (b = a + 1; b < g->k; b++, q++) {
            size_t na = g->start[a + 1] - g->start[a],
                   l = na + g->start[b + 1] - g->start[b];

            for (t = 0; t < l; t++)
                if (pr->coef[q][t] != 0.0)
                    slot[t < na ? g->start[a] + t : g->start[b] + t - na] = 0;
        }
    for (a = 0; a < g->k; a++)
        for (t = g->start[a]; t < g->start[a + 1]; t++)
            if (slot[t] == 0) {
                slot[t] = n_sv++;
                m->count[a]++;
            }
    return n_sv;
}

/* Packs the support vectors and the coefficients in LIBSVM's layout. */
static int svm_pack(svm *m, const svm_data *d, const svm_groups *g, const svm_pairs *pr)
{
    size_t n = g->start[g->k], t, q = 0, p = m->p;
    size_t *slot = aml_mallocarray(n + 1, sizeof(size_t));
    int a, b;

    if (!slot)
        return AML_ENOMEM;
    m->n_sv = svm_mark(m, g, pr, slot);
    m->sv = aml_mallocarray(m->n_sv + 1, (p + 2) * sizeof(double));
    m->sv_row = aml_mallocarray(m->n_sv + 1, sizeof(int64_t));
    m->coef = aml_calloc((size_t)(g->k > 1 ? g->k - 1 : 1) * m->n_sv + 1, sizeof(double));
    if (!m->sv || !m->sv_row || !m->coef) {
        free(slot);
        return AML_ENOMEM;
    }
    m->sv_n2 = m->sv + m->n_sv * p;
    for (t = 0; t < n; t++)
        if (slot[t] != SIZE_MAX) {
            memcpy(m->sv + slot[t] * p, d->X->data + g->rows[t] * p, p * sizeof(double));
            m->sv_n2[slot[t]] = d->n2[g->rows[t]];
            m->sv_row[slot[t]] = (int64_t)g->rows[t];
        }
    for (a = 0; a < g->k; a++)
        for (b = a + 1; b < g->k; b++, q++) {
            size_t na = g->start[a + 1] - g->start[a],
                   l = na + g->start[b + 1] - g->start[b];

            for (t = 0; t < l; t++) {
                size_t s = slot[t < na ? g->start[a] + t : g->start[b] + t - na];
                size_t r = t < na ? (size_t)b - 1 : (size_t)a;

                if (pr->coef[q][t] != 0.0)
                    m->coef[r * m->n_sv + s] = pr->coef[q][t];
            }
        }
    free(slot);
    return AML_OK;
}

static void svm_release(svm *m)
{
    free(m->label);
    free(m->count);
    free(m->sv);
    free(m->sv_row);
    free(m->coef);
    free(m->rho);
    m->label = m->count = NULL;
    m->sv = m->sv_n2 = m->coef = m->rho = m->probA = m->probB = NULL;
    m->sv_row = NULL;
    m->n_sv = 0;
    m->k = 0;
}

static int svm_check(const aml_matrix *X, const double *y, const double *w, int k)
{
    size_t i;

    if (X->rows > INT32_MAX || X->cols > INT32_MAX)
        return aml_error_set(AML_EINVAL, "svm: %zu x %zu is too large", X->rows, X->cols);
    for (i = 0; i < X->rows; i++) {
        if (!(y[i] >= 0.0 && y[i] < k && y[i] == floor(y[i])))
            return aml_error_set(AML_EINVAL,
                                 "svm: label %g of row %zu is not a class index below %d",
                                 y[i], i, k);
        if (w && !(w[i] >= 0.0 && isfinite(w[i])))
            return aml_error_set(AML_EINVAL, "svm: sample weight %zu is %g", i, w[i]);
    }
    return AML_OK;
}

/* Resolves gamma 'scale' (1 / (p var(X)), 1 when var is 0) and 'auto' (1 / p). */
static void svm_resolve_gamma(svm *m, const aml_matrix *X)
{
    size_t i, cells = X->rows * X->cols;
    double mean = 0.0, var = 0.0, p = X->cols ? (double)X->cols : 1.0;

    if (m->gamma_word == G_AUTO)
        m->kp.gamma = 1.0 / p;
    if (m->gamma_word != G_SCALE)
        return;
    for (i = 0; i < cells; i++)
        mean += X->data[i];
    mean /= cells ? (double)cells : 1.0;
    for (i = 0; i < cells; i++)
        var += (X->data[i] - mean) * (X->data[i] - mean);
    var /= cells ? (double)cells : 1.0;
    m->kp.gamma = var > 0.0 ? 1.0 / (p * var) : 1.0;
}

static int svm_alloc_pairs(svm *m, svm_pairs *pr, int k)
{
    size_t npairs = (size_t)k * (size_t)(k - 1) / 2;

    pr->npairs = npairs;
    pr->coef = aml_calloc(npairs + 1, sizeof(double *));
    m->rho = aml_mallocarray(3 * npairs + 1, sizeof(double));
    if (!pr->coef || !m->rho)
        return AML_ENOMEM;
    m->probA = m->rho + npairs;
    m->probB = m->probA + npairs;
    return AML_OK;
}

static int svm_fit(aml_learner *l, const aml_matrix *X, const double *y, const double *w,
                   int n_classes, aml_rng *rng, int threads)
{
    svm *m = (svm *)l;
    svm_groups g = {0};
    svm_pairs pr = {0};
    svm_data d = {X, NULL, w, m};
    double *n2 = NULL;
    size_t i, q = 0;
    int rc, a, b;

    if ((rc = svm_check(X, y, w, n_classes)) < 0)
        return rc;
    svm_release(m);
    m->p = X->cols;
    svm_resolve_gamma(m, X);
    if (!(n2 = aml_mallocarray(X->rows + 1, sizeof(double)))) {
        rc = AML_ENOMEM;
        goto out;
    }
    for (i = 0; i < X->rows; i++)
        n2[i] = X->cols ? cblas_ddot((int)X->cols, X->data + i * X->cols, 1,
                                     X->data + i * X->cols, 1)
                        : 0.0;
    d.n2 = n2;
    if ((rc = svm_group(m, X, y, w, n_classes, &g)) < 0 ||
        (rc = svm_alloc_pairs(m, &pr, g.k)) < 0)
        goto out;
    for (a = 0; a < g.k && rc == 0; a++)
        for (b = a + 1; b < g.k && rc == 0; b++, q++)
            rc = svm_train_pair(m, &d, &g, a, b, q, &pr, rng);
    if (rc == 0)
        rc = svm_pack(m, &d, &g, &pr);
    l->n_classes = n_classes;
    l->n_features = X->cols;
out:
    if (rc < 0)
        svm_release(m);
    svm_pairs_dispose(&pr);
    free(g.rows);
    free(g.start);
    free(n2);
    return rc;
}

/* ---- prediction ---------------------------------------------------------- */

/* kv (rows x n_sv) = kernel values of the queries Q against the support vectors. */
static void svm_kernel_block(const svm *m, const double *Q, size_t rows, double *kv)
{
    size_t r, s, p = m->p;

    if (p > 0)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)m->n_sv,
                    (int)p, 1.0, Q, (int)p, m->sv, (int)p, 0.0, kv, (int)m->n_sv);
    else
        memset(kv, 0, rows * m->n_sv * sizeof(double));
    for (r = 0; r < rows; r++) {
        const double *x = Q + r * p;
        double n2 = p ? cblas_ddot((int)p, x, 1, x, 1) : 0.0;

        for (s = 0; s < m->n_sv; s++)
            kv[r * m->n_sv + s] = svm_kval(&m->kp, kv[r * m->n_sv + s], n2, m->sv_n2[s]);
    }
}

/* One row's pairwise decision values from its kernel values. */
static void svm_row_dec(const svm *m, const double *kv, double *dec)
{
    size_t q = 0, s, st[2];
    int a, b;

    for (a = 0, st[0] = 0; a < m->k; st[0] += (size_t)m->count[a++]) {
        for (b = a + 1, st[1] = st[0] + (size_t)m->count[a]; b < m->k;
             st[1] += (size_t)m->count[b++], q++) {
            const double *ca = m->coef + (size_t)(b - 1) * m->n_sv;
            const double *cb = m->coef + (size_t)a * m->n_sv;
            double sum = -m->rho[q];

            for (s = st[0]; s < st[0] + (size_t)m->count[a]; s++)
                sum += ca[s] * kv[s];
            for (s = st[1]; s < st[1] + (size_t)m->count[b]; s++)
                sum += cb[s] * kv[s];
            dec[q] = sum;
        }
    }
}

int aml_svm_decision(const aml_learner *l, const aml_matrix *X, double *out);

/*
 * Test and inspection hook: writes the k (k - 1) / 2 pairwise decision
 * values per row (pair a < b positive towards class a, LIBSVM's sign; for
 * two classes scikit-learn's decision_function is the negation).
 */
int aml_svm_decision(const aml_learner *l, const aml_matrix *X, double *out)
{
    const svm *m = (const svm *)l;
    size_t block, b, r, npairs = (size_t)m->k * (size_t)(m->k - 1) / 2;
    double *kv;

    if (!m->rho)
        return aml_error_set(AML_EINVAL, "svm: predict before fit");
    if (X->cols != m->p)
        return aml_error_set(AML_EINVAL, "svm: fitted on %zu features, got %zu", m->p,
                             X->cols);
    block = SVM_BLOCK_CELLS / (m->n_sv ? m->n_sv : 1);
    block = block ? block : 1;
    if (!(kv = aml_mallocarray(block, (m->n_sv + 1) * sizeof(double))))
        return AML_ENOMEM;
    for (b = 0; b < X->rows; b += block) {
        size_t rows = X->rows - b < block ? X->rows - b : block;
        int rc;

        /* Predicting a trial's validation rows counts against its timeout too. */
        if ((rc = aml_deadline_check()) < 0) {
            free(kv);
            return rc;
        }
        svm_kernel_block(m, X->data + b * m->p, rows, kv);
        for (r = 0; r < rows; r++)
            svm_row_dec(m, kv + r * m->n_sv, out + (b + r) * npairs);
    }
    free(kv);
    return AML_OK;
}

int aml_svm_support(const aml_learner *l, size_t *n_sv, const int64_t **rows,
                    const double **coef);

/* Test and inspection hook: support vectors' training rows and LIBSVM coefficients. */
int aml_svm_support(const aml_learner *l, size_t *n_sv, const int64_t **rows,
                    const double **coef)
{
    const svm *m = (const svm *)l;

    if (!m->rho)
        return aml_error_set(AML_EINVAL, "svm: not fitted");
    *n_sv = m->n_sv;
    *rows = m->sv_row;
    *coef = m->coef;
    return AML_OK;
}

/* Wu, Lin and Weng (2004), method 2, by LIBSVM's fixed-point iteration. */
static void svm_couple(int k, const double *r, double *pr, double *Q, double *Qp)
{
    int t, j, it, max_it = k > 100 ? k : 100;
    double eps = 0.005 / k;

    for (t = 0; t < k; t++) {
        pr[t] = 1.0 / k;
        Q[t * k + t] = 0.0;
        for (j = 0; j < k; j++)
            if (j != t) {
                Q[t * k + t] += r[j * k + t] * r[j * k + t];
                Q[t * k + j] = -r[j * k + t] * r[t * k + j];
            }
    }
    for (it = 0; it < max_it; it++) {
        double pQp = 0.0, err = 0.0;

        for (t = 0; t < k; t++) {
            Qp[t] = 0.0;
            for (j = 0; j < k; j++)
                Qp[t] += Q[t * k + j] * pr[j];
            pQp += pr[t] * Qp[t];
        }
        for (t = 0; t < k; t++)
            err = fmax(err, fabs(Qp[t] - pQp));
        if (err < eps)
            break;
        for (t = 0; t < k; t++) {
            double diff = (-Qp[t] + pQp) / Q[t * k + t];

            pr[t] += diff;
            pQp = (pQp + diff * (diff * Q[t * k + t] + 2.0 * Qp[t])) / (1.0 + diff) /
                  (1.0 + diff);
            for (j = 0; j < k; j++) {
                Qp[j] = (Qp[j] + diff * Q[t * k + j]) / (1.0 + diff);
                pr[j] /= 1.0 + diff;
            }
        }
    }
}

/* Probabilities of one row from its decision values; scratch holds 2 k^2 + 2 k. */
static void svm_row_prob(const svm *m, const double *dec, double *scratch, double *out)
{
    int k = m->k, a, b, q = 0;
    double *r = scratch, *pr = r + k * k;

    for (a = 0; a < m->base.n_classes; a++)
        out[a] = 0.0;
    if (k == 1) {
        out[m->label[0]] = 1.0;
        return;
    }
    for (a = 0; a < k; a++)
        for (b = a + 1; b < k; b++, q++) {
            double v = aml_platt_prob(dec[q], m->probA[q], m->probB[q]);

            v = fmin(fmax(v, SVM_MIN_PROB), 1.0 - SVM_MIN_PROB);
            r[a * k + b] = v;
            r[b * k + a] = 1.0 - v;
        }
    if (k == 2) {
        pr[0] = r[1];
        pr[1] = r[2];
    } else {
        svm_couple(k, r, pr, pr + k, pr + k + k * k);
    }
    for (a = 0; a < k; a++)
        out[m->label[a]] = pr[a];
}

static int svm_load_check(const svm *m);

static int svm_predict(const aml_learner *l, const aml_matrix *X, double *out)
{
    const svm *m = (const svm *)l;
    size_t i, npairs = (size_t)m->k * (size_t)(m->k - 1) / 2, k = (size_t)m->k;
    double *dec = NULL, *scratch = NULL;
    int rc;

    if (!m->rho)
        return aml_error_set(AML_EINVAL, "svm: predict before fit");
    if ((rc = svm_load_check(m)) < 0)
        return rc;
    dec = aml_mallocarray(X->rows * npairs + 1, sizeof(double));
    scratch = aml_mallocarray(2 * k * k + 2 * k, sizeof(double));
    if (!dec || !scratch) {
        rc = AML_ENOMEM;
        goto out;
    }
    if ((rc = aml_svm_decision(l, X, dec)) < 0)
        goto out;
    for (i = 0; i < X->rows; i++)
        svm_row_prob(m, dec + i * npairs, scratch, out + i * (size_t)m->base.n_classes);
out:
    free(dec);
    free(scratch);
    return rc;
}

/* ---- importance, parameters, life cycle, save/load ---------------------- */

/* ---- C export ------------------------------------------------------------ */

/* The kernel expression of svm_kval for one support vector s. */
static const char *svm_emit_kernel(const svm *m)
{
    switch (m->kp.type) {
    case K_RBF:
        return "        double d2 = n2 + %s_n2[s] - 2.0 * dot;\n\n"
               "        kv[s] = exp(-%s_kp[0] * (d2 > 0.0 ? d2 : 0.0));\n";
    case K_POLY:
        return "        kv[s] = pow(%s_kp[0] * dot + %s_kp[1], %s_kp[2]);\n";
    case K_SIGMOID:
        return "        kv[s] = tanh(%s_kp[0] * dot + %s_kp[1]);\n";
    default:
        return "        kv[s] = dot;\n";
    }
}

static void svm_emit_arrays(const svm *m, aml_cgen *g, const char *nm)
{
    size_t npairs = (size_t)m->k * (size_t)(m->k - 1) / 2;
    double kp[3] = {m->kp.gamma, m->kp.coef0, (double)m->kp.degree};
    char buf[96];

    snprintf(buf, sizeof(buf), "%s_sv", nm);
    aml_cgen_doubles(g, buf, m->sv, m->n_sv * m->p);
    if (m->kp.type == K_RBF) {
        snprintf(buf, sizeof(buf), "%s_n2", nm);
        aml_cgen_doubles(g, buf, m->sv_n2, m->n_sv);
    }
    snprintf(buf, sizeof(buf), "%s_coef", nm);
    aml_cgen_doubles(g, buf, m->coef, (size_t)(m->k - 1) * m->n_sv);
    snprintf(buf, sizeof(buf), "%s_rho", nm);
    aml_cgen_doubles(g, buf, m->rho, npairs);
    snprintf(buf, sizeof(buf), "%s_pa", nm);
    aml_cgen_doubles(g, buf, m->probA, npairs);
    snprintf(buf, sizeof(buf), "%s_pb", nm);
    aml_cgen_doubles(g, buf, m->probB, npairs);
    if (m->kp.type != K_LINEAR) {
        snprintf(buf, sizeof(buf), "%s_kp", nm);
        aml_cgen_doubles(g, buf, kp, 3);
    }
    snprintf(buf, sizeof(buf), "%s_count", nm);
    aml_cgen_ints(g, buf, m->count, (size_t)m->k);
}

/* Kernel values against every support vector, then svm_row_dec's pairwise sums. */
static void svm_emit_decision(const svm *m, aml_cgen *g, const char *nm)
{
    size_t p = m->p;

    if (m->kp.type == K_RBF)
        aml_cgen_printf(g,
                        "    double n2 = 0.0;\n\n"
                        "    for (j = 0; j < %zu; j++)\n        n2 += x[j] * x[j];\n",
                        p);
    aml_cgen_printf(g,
                    "    for (s = 0; s < %zu; s++) {\n"
                    "        const double *v = %s_sv + s * %zu;\n"
                    "        double dot = 0.0;\n\n"
                    "        for (j = 0; j < %zu; j++)\n            dot += x[j] * v[j];\n"
                    "        {\n",
                    m->n_sv, nm, p, p);
    aml_cgen_printf(g, svm_emit_kernel(m), nm, nm, nm);
    aml_cgen_printf(g,
                    "        }\n    }\n"
                    "    for (a = 0, st0 = 0; a < %d; st0 += (size_t)%s_count[a++]) {\n"
                    "        for (b = a + 1, st1 = st0 + (size_t)%s_count[a]; b < %d;\n"
                    "             st1 += (size_t)%s_count[b++], q++) {\n"
                    "            const double *ca = %s_coef + (size_t)(b - 1) * %zu;\n"
                    "            const double *cb = %s_coef + (size_t)a * %zu;\n"
                    "            double sum = -%s_rho[q];\n\n"
                    "            for (s = st0; s < st0 + (size_t)%s_count[a]; s++)\n"
                    "                sum += ca[s] * kv[s];\n"
                    "            for (s = st1; s < st1 + (size_t)%s_count[b]; s++)\n"
                    "                sum += cb[s] * kv[s];\n"
                    "            dec[q] = sum;\n        }\n    }\n",
                    m->k, nm, nm, m->k, nm, nm, m->n_sv, nm, m->n_sv, nm, nm, nm);
}

/* Wu, Lin and Weng's coupling as svm_couple, for k > 2 classes. */
static void svm_emit_couple(aml_cgen *g, int k)
{
    aml_cgen_printf(
        g,
        "    {\n"
        "        double Q[%d * %d], Qp[%d], eps = 0.005 / %d;\n"
        "        int t, j, it;\n\n"
        "        for (t = 0; t < %d; t++) {\n"
        "            pr[t] = 1.0 / %d;\n            Q[t * %d + t] = 0.0;\n"
        "            for (j = 0; j < %d; j++)\n                if (j != t) {\n"
        "                    Q[t * %d + t] += r[j * %d + t] * r[j * %d + t];\n"
        "                    Q[t * %d + j] = -r[j * %d + t] * r[t * %d + j];\n"
        "                }\n        }\n"
        "        for (it = 0; it < %d; it++) {\n"
        "            double pQp = 0.0, err = 0.0;\n\n"
        "            for (t = 0; t < %d; t++) {\n                Qp[t] = 0.0;\n"
        "                for (j = 0; j < %d; j++)\n"
        "                    Qp[t] += Q[t * %d + j] * pr[j];\n"
        "                pQp += pr[t] * Qp[t];\n            }\n"
        "            for (t = 0; t < %d; t++)\n"
        "                err = fmax(err, fabs(Qp[t] - pQp));\n"
        "            if (err < eps)\n                break;\n"
        "            for (t = 0; t < %d; t++) {\n"
        "                double diff = (-Qp[t] + pQp) / Q[t * %d + t];\n\n"
        "                pr[t] += diff;\n"
        "                pQp = (pQp + diff * (diff * Q[t * %d + t] + 2.0 * Qp[t])) /"
        " (1.0 + diff) /\n                      (1.0 + diff);\n"
        "                for (j = 0; j < %d; j++) {\n"
        "                    Qp[j] = (Qp[j] + diff * Q[t * %d + j]) / (1.0 + diff);\n"
        "                    pr[j] /= 1.0 + diff;\n                }\n"
        "            }\n        }\n    }\n",
        k, k, k, k, k, k, k, k, k, k, k, k, k, k, k > 100 ? k : 100, k, k, k, k, k, k, k,
        k, k);
}

/* svm_row_prob: Platt's sigmoid per pair, clipped, then coupled. */
static void svm_emit_prob(const svm *m, aml_cgen *g, const char *nm)
{
    int k = m->k, a;

    aml_cgen_printf(
        g,
        "    for (q = 0, a = 0; a < %d; a++)\n"
        "        for (b = a + 1; b < %d; b++, q++) {\n"
        "            double z = dec[q] * %s_pa[q] + %s_pb[q];\n"
        "            double v = z >= 0.0 ? exp(-z) / (1.0 + exp(-z))"
        " : 1.0 / (1.0 + exp(z));\n\n"
        "            v = fmin(fmax(v, 1e-7), 1.0 - 1e-7);\n"
        "            r[a * %d + b] = v;\n            r[b * %d + a] = 1.0 - v;\n"
        "        }\n",
        k, k, nm, nm, k, k);
    if (k == 2)
        aml_cgen_printf(g, "    pr[0] = r[1];\n    pr[1] = r[2];\n");
    else
        svm_emit_couple(g, k);
    aml_cgen_printf(g, "    for (a = 0; a < %d; a++)\n        out[a] = 0.0;\n",
                    m->base.n_classes);
    for (a = 0; a < k; a++)
        aml_cgen_printf(g, "    out[%d] = pr[%d];\n", m->label[a], a);
}

/*
 * C export: kernel products are summed in feature order where predict uses
 * dgemm and ddot, so outputs agree to rounding (about 1e-15 relative to the
 * kernel values), not bit for bit.
 */
static int svm_emit_c(const aml_learner *l, aml_cgen *g, const char *fn)
{
    const svm *m = (const svm *)l;
    char nm[64];
    int rc, a;

    if (!m->rho)
        return aml_error_set(AML_EINVAL, "svm: export before fit");
    if ((rc = svm_load_check(m)) < 0 ||
        (rc = aml_cgen_name(g, "svm", nm, sizeof(nm))) < 0)
        return rc;
    if (m->k == 1) {
        aml_cgen_printf(g,
                        "/* svm: one class seen in training. */\n"
                        "static void %s(const double *x, double *out)\n{\n"
                        "    (void)x;\n",
                        fn);
        for (a = 0; a < m->base.n_classes; a++)
            aml_cgen_printf(g, "    out[%d] = %s;\n", a,
                            a == m->label[0] ? "1.0" : "0.0");
        return aml_cgen_printf(g, "}\n\n");
    }
    svm_emit_arrays(m, g, nm);
    aml_cgen_printf(g,
                    "/* svm: %d classes, %zu support vectors. */\n"
                    "static void %s(const double *x, double *out)\n{\n"
                    "    double kv[%zu], dec[%d], r[%d], pr[%d];\n"
                    "    size_t s, j, st0, st1, q = 0;\n    int a, b;\n\n",
                    m->k, m->n_sv, fn, m->n_sv ? m->n_sv : 1, m->k * (m->k - 1) / 2,
                    m->k * m->k, m->k);
    svm_emit_decision(m, g, nm);
    svm_emit_prob(m, g, nm);
    return aml_cgen_printf(g, "}\n\n");
}

/* Linear kernel only: sum over pairs of |w_pair|, normalised. */
static int svm_importance(const aml_learner *l, double *out)
{
    const svm *m = (const svm *)l;
    size_t j, s, p = m->p, st[2];
    double total = 0.0, *wv;
    int a, b;

    if (!m->rho || m->kp.type != K_LINEAR)
        return aml_error_set(AML_EINVAL, "svm: importance needs a fitted linear kernel");
    if (!(wv = aml_mallocarray(p + 1, sizeof(double))))
        return AML_ENOMEM;
    memset(out, 0, p * sizeof(double));
    for (a = 0, st[0] = 0; a < m->k; st[0] += (size_t)m->count[a++])
        for (b = a + 1, st[1] = st[0] + (size_t)m->count[a]; b < m->k;
             st[1] += (size_t)m->count[b++]) {
            memset(wv, 0, p * sizeof(double));
            for (s = st[0]; s < st[0] + (size_t)m->count[a]; s++)
                cblas_daxpy((int)p, m->coef[(size_t)(b - 1) * m->n_sv + s], m->sv + s * p,
                            1, wv, 1);
            for (s = st[1]; s < st[1] + (size_t)m->count[b]; s++)
                cblas_daxpy((int)p, m->coef[(size_t)a * m->n_sv + s], m->sv + s * p, 1,
                            wv, 1);
            for (j = 0; j < p; j++)
                out[j] += fabs(wv[j]);
        }
    for (j = 0; j < p; j++)
        total += out[j];
    for (j = 0; j < p && total > 0.0; j++)
        out[j] /= total;
    free(wv);
    return AML_OK;
}

static int svm_word(const char *const *words, const char *s)
{
    int i;

    for (i = 0; words[i]; i++)
        if (strcmp(words[i], s) == 0)
            return i;
    return -1;
}

static int svm_create(aml_learner **out, const aml_learner_type *type, aml_task task)
{
    svm *m = aml_calloc(1, sizeof(*m));

    *out = NULL;
    if (!m)
        return AML_ENOMEM;
    m->base.type = type;
    m->base.task = task;
    m->kp.type = K_RBF;
    m->kp.degree = 3;
    m->kp.gamma = 1.0;
    m->gamma_word = G_SCALE;
    m->platt = PLATT_CV;
    m->C = 1.0;
    m->tol = 1e-3;
    m->cache_mb = 200.0;
    *out = &m->base;
    return AML_OK;
}

static int svm_set_param(aml_learner *l, const char *name, const aml_value *v)
{
    svm *m = (svm *)l;
    int is_str = v->kind == AML_VAL_STR;

    if (strcmp(name, "kernel") == 0 && is_str && svm_word(svm_kernel_words, v->str) >= 0)
        m->kp.type = svm_word(svm_kernel_words, v->str);
    else if (strcmp(name, "platt") == 0 && is_str &&
             svm_word(svm_platt_words, v->str) >= 0)
        m->platt = svm_word(svm_platt_words, v->str);
    else if (strcmp(name, "gamma") == 0 && is_str &&
             svm_word(svm_gamma_words, v->str) >= 0)
        m->gamma_word = svm_word(svm_gamma_words, v->str) + 1;
    else if (strcmp(name, "gamma") == 0 && !is_str)
        m->gamma_word = G_NUMBER, m->kp.gamma = v->real;
    else if (strcmp(name, "C") == 0 && !is_str)
        m->C = v->real;
    else if (strcmp(name, "degree") == 0 && !is_str)
        m->kp.degree = (int)v->i;
    else if (strcmp(name, "coef0") == 0 && !is_str)
        m->kp.coef0 = v->real;
    else if (strcmp(name, "tol") == 0 && !is_str)
        m->tol = v->real;
    else if (strcmp(name, "cache_size") == 0 && !is_str)
        m->cache_mb = v->real;
    else
        return aml_error_set(AML_EINVAL, "svm: bad value for parameter '%s'", name);
    return AML_OK;
}

static void svm_free(aml_learner *l)
{
    svm *m = (svm *)l;

    if (!m)
        return;
    svm_release(m);
    free(m);
}

/*
 * Layout: u8 kernel, i64 degree, f64 gamma, coef0, C, tol; u32 k; u64 p,
 * n_sv; k labels and counts (i32); n_sv x p vectors; n_sv rows (i64);
 * (k - 1) n_sv coefficients; npairs rho, probA, probB.
 */
static int svm_save(const aml_learner *l, aml_writer *w)
{
    const svm *m = (const svm *)l;
    size_t npairs = (size_t)m->k * (size_t)(m->k - 1) / 2, s;

    if (!m->rho)
        return aml_error_set(AML_EINVAL, "svm: save before fit");
    aml_put_u8(w, (uint8_t)m->kp.type);
    aml_put_i64(w, m->kp.degree);
    aml_put_f64(w, m->kp.gamma);
    aml_put_f64(w, m->kp.coef0);
    aml_put_f64(w, m->C);
    aml_put_f64(w, m->tol);
    aml_put_u32(w, (uint32_t)m->k);
    aml_put_u64(w, (uint64_t)m->p);
    aml_put_u64(w, (uint64_t)m->n_sv);
    aml_put_i32s(w, m->label, (size_t)m->k);
    aml_put_i32s(w, m->count, (size_t)m->k);
    aml_put_f64s(w, m->sv, m->n_sv * m->p);
    for (s = 0; s < m->n_sv; s++)
        aml_put_i64(w, m->sv_row[s]);
    aml_put_f64s(w, m->coef, (size_t)(m->k > 1 ? m->k - 1 : 0) * m->n_sv);
    aml_put_f64s(w, m->rho, 3 * npairs);
    return w->failed ? AML_ENOMEM : AML_OK;
}

static int svm_load_header(svm *m, aml_reader *r, uint32_t *k, uint64_t *p,
                           uint64_t *n_sv)
{
    uint8_t kt;
    int64_t deg;
    int rc;

    if ((rc = aml_get_u8(r, &kt)) < 0 || (rc = aml_get_i64(r, &deg)) < 0 ||
        (rc = aml_get_f64(r, &m->kp.gamma)) < 0 ||
        (rc = aml_get_f64(r, &m->kp.coef0)) < 0 || (rc = aml_get_f64(r, &m->C)) < 0 ||
        (rc = aml_get_f64(r, &m->tol)) < 0 || (rc = aml_get_u32(r, k)) < 0 ||
        (rc = aml_get_u64(r, p)) < 0 || (rc = aml_get_u64(r, n_sv)) < 0)
        return rc;
    if (kt > K_SIGMOID || deg < 1 || deg > 10 || *k < 1 || *k > 1u << 16 ||
        *p > INT32_MAX || *n_sv > INT32_MAX)
        return aml_error_set(AML_EFORMAT, "svm: corrupt model header");
    m->kp.type = kt;
    m->kp.degree = (int)deg;
    return AML_OK;
}

/* Checks that labels and counts agree with the generic header. */
static int svm_load_check(const svm *m)
{
    size_t total = 0;
    int a;

    for (a = 0; a < m->k; a++) {
        if (m->label[a] < 0 || m->label[a] >= m->base.n_classes ||
            (a > 0 && m->label[a] <= m->label[a - 1]) || m->count[a] < 0)
            return aml_error_set(AML_EFORMAT, "svm: corrupt class table in model");
        total += (size_t)m->count[a];
    }
    if (total != m->n_sv)
        return aml_error_set(AML_EFORMAT, "svm: corrupt class table in model");
    return AML_OK;
}

static int svm_load_state(aml_learner *l, aml_reader *r)
{
    svm *m = (svm *)l;
    uint32_t k;
    uint64_t p, n_sv, s;
    size_t npairs;
    int rc;

    if ((rc = svm_load_header(m, r, &k, &p, &n_sv)) < 0)
        return rc;
    npairs = (size_t)k * (k - 1) / 2;
    /* Every count is checked against the bytes left before anything is allocated. */
    if ((rc = aml_reader_need(r, n_sv, (p + k) * sizeof(double))) < 0 ||
        (rc = aml_reader_need(r, k, 2 * sizeof(int32_t))) < 0 ||
        (rc = aml_reader_need(r, npairs, 3 * sizeof(double))) < 0)
        return rc;
    m->k = (int)k, m->p = (size_t)p, m->n_sv = (size_t)n_sv;
    m->label = aml_mallocarray(k, sizeof(int));
    m->count = aml_mallocarray(k, sizeof(int));
    /* n_sv x p vectors then n_sv norms: bounded by the bytes checked above. */
    m->sv = aml_mallocarray(n_sv * (p + 1) + 1, sizeof(double));
    m->sv_row = aml_mallocarray(n_sv + 1, sizeof(int64_t));
    m->coef = aml_mallocarray((size_t)(k > 1 ? k - 1 : 1) * n_sv + 1, sizeof(double));
    m->rho = aml_mallocarray(3 * npairs + 1, sizeof(double));
    if (!m->label || !m->count || !m->sv || !m->sv_row || !m->coef || !m->rho)
        return AML_ENOMEM;
    m->sv_n2 = m->sv + n_sv * p, m->probA = m->rho + npairs, m->probB = m->probA + npairs;
    if ((rc = aml_get_i32s(r, m->label, k)) < 0 ||
        (rc = aml_get_i32s(r, m->count, k)) < 0 ||
        (rc = aml_get_f64s(r, m->sv, n_sv * p)) < 0)
        return rc;
    for (s = 0; s < n_sv; s++)
        if ((rc = aml_get_i64(r, &m->sv_row[s])) < 0)
            return rc;
    if ((rc = aml_get_f64s(r, m->coef, (size_t)(k - 1) * n_sv)) < 0 ||
        (rc = aml_get_f64s(r, m->rho, 3 * npairs)) < 0)
        return rc;
    for (s = 0; s < n_sv; s++)
        m->sv_n2[s] = p ? cblas_ddot((int)p, m->sv + s * p, 1, m->sv + s * p, 1) : 0.0;
    return AML_OK;
}

static int svm_load(aml_learner **out, const aml_learner_type *type, aml_task task,
                    aml_reader *r)
{
    return aml_learner_load_with(out, type, task, r, svm_load_state);
}

const aml_learner_type aml_learner_svm = {
    .name = "svm",
    .tasks = AML_TASK_BIT(AML_TASK_CLASSIFICATION),
    .flags = AML_LEARNER_WANTS_SCALING,
    .params = svm_params,
    .create = svm_create,
    .set_param = svm_set_param,
    .fit = svm_fit,
    .predict = svm_predict,
    .emit_c = svm_emit_c,
    .save = svm_save,
    .load = svm_load,
    .free = svm_free,
    .importance = svm_importance,
};
