/*
 * logreg.c - logistic regression: L2 (or no) penalty by L-BFGS, L1 and
 * elastic net penalties by accelerated proximal gradient.
 *
 * The model and objective are those of scikit-learn 1.2's
 * LogisticRegression(penalty, C, l1_ratio, multi_class='auto'):
 *
 *     minimise  sum_i w_i logloss_i + (1 - r)/(2C) ||W||^2 + r/C ||W||_1
 *
 * with r = 0 for penalty l2, 1 for l1, l1_ratio for elasticnet, and no
 * penalty at all for none.  (C times this is scikit-learn's form
 * C sum_i w_i logloss_i + penalty; the minimiser is the same, and dividing
 * by C keeps the gradient tolerance on the scale scikit-learn uses.)
 * Intercepts are not penalised.  Two classes use one weight vector and the
 * sigmoid, as scikit-learn does; more classes use one vector per class and
 * the softmax (the multinomial model, whose redundant degree of freedom the
 * penalty removes; for the probabilities it does not matter).
 *
 * L2 / none: limited-memory BFGS, the two-loop recursion of Nocedal and
 * Wright, "Numerical Optimization", 2nd ed., 2006, Algorithms 7.4 and 7.5,
 * with the initial Hessian scaling of their eq. (7.20), and a line search
 * that enforces the strong Wolfe conditions (Algorithms 3.5 and 3.6, cubic
 * interpolation of eq. (3.59) safeguarded by bisection).  It stops when the
 * largest gradient component is <= tol; when one iteration lowers f by a
 * relative amount (f_k - f_k+1) / max(|f_k|, |f_k+1|, 1) <= 2.2e-9
 * (tol / 1e-4)^2, which at scikit-learn's tol of 1e-4 is exactly the second
 * test of scipy's L-BFGS-B at its default factr 1e7 (so at equal tol both
 * stop by the same two rules; the square follows f - f* ~ g'H^-1 g / 2 and
 * keeps tight tolerances tight); when max_iter iterations are spent (the
 * model is still returned, as scikit-learn does with a warning); or when
 * the line search can no longer decrease the objective, which happens only
 * at the limit of floating-point precision.  With many rows that limit
 * (rounding in f of about eps |f|) can come before tol is met: the
 * remaining gradient then lies along high-curvature directions, so the
 * coefficients are still accurate (on 20000 x 50 with 5 classes, to 3e-8 in
 * probability against newton-cg at tol 1e-12).
 *
 * L1 / elasticnet: FISTA with backtracking and adaptive restart (see the
 * section below), stopping when the largest component of the minimum-norm
 * subgradient is <= tol.  scikit-learn uses saga here; both converge to the
 * same optimum (to ~1e-7 in probability on the test fixtures).
 *
 * Cost per evaluation is two BLAS products over the n x p data (scores
 * X W^T and gradient G^T X), done block by block so that each block of rows
 * is read from memory once for both (the data are usually larger than the
 * cache, and these products are bound by memory bandwidth); everything
 * else is O(n k), with one exp per score.  When at most half the entries of
 * X are non-zero (one-hot encoded data), X is first copied into compressed
 * rows and each evaluation makes one pass over the non-zeros instead.  The
 * problem is convex (strictly, with an L2 part), so the start point (zero,
 * like scikit-learn) only affects the iteration count, not the answer.
 */
#include "aml.h"
#include "learner.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LR_MEMORY 10     /* correction pairs kept, as scipy's L-BFGS-B */
#define LS_C1 1e-4       /* sufficient decrease (Armijo) constant */
#define LS_C2 0.9        /* curvature constant, usual for quasi-Newton */
#define LS_MAX_EXPAND 40 /* trial steps while bracketing */
#define LS_MAX_ZOOM 20   /* trial steps while zooming (scipy: maxls 20) */
#define LR_FTOL (1e7 * 2.220446049250313e-16) /* scipy's default factr * eps */
#define LR_BLOCK_BYTES (128u << 10)           /* rows of X per fused pass: fits in L2 */

typedef enum lr_penalty {
    LR_L2 = 0,
    LR_L1 = 1,
    LR_ELASTICNET = 2,
    LR_NONE = 3
} lr_penalty;

/* Accepted penalties, in lr_penalty order; the default search leaves out
 * "none", which diverges on separable data (see logreg_check_penalty). */
static const char *const logreg_penalties[] = {"l2", "l1", "elasticnet", "none", NULL};
static const char *const logreg_searched[] = {"l2", "l1", "elasticnet", NULL};

static const char *logreg_check_penalty(const aml_param_def *def, const aml_value *v,
                                        char *buf, size_t buflen)
{
    int i;

    if (v->kind == AML_VAL_STR)
        for (i = 0; logreg_penalties[i]; i++)
            if (strcmp(v->str, logreg_penalties[i]) == 0)
                return NULL;
    snprintf(buf, buflen, "'%s' must be one of l2, l1, elasticnet, none", def->name);
    return buf;
}

typedef struct logreg {
    aml_learner base;
    double C, tol, l1_ratio;
    int penalty; /* lr_penalty */
    long long max_iter;
    int k;         /* weight vectors: 1 for two classes, n_classes otherwise */
    double *theta; /* k x p weights (row-major), then k intercepts; NULL before fit */
} logreg;

static const aml_param_def logreg_params[] = {
    {.name = "C",
     .kind = AML_VAL_REAL,
     .lo = 0.0,
     .hi = INFINITY,
     .lo_open = 1,
     .def = {.kind = AML_VAL_REAL, .real = 1.0},
     .search_lo = 1e-3,
     .search_hi = 1e3,
     .search_log = 1,
     .doc = "inverse penalty strength: smaller C regularises more"},
    {.name = "max_iter",
     .kind = AML_VAL_INT,
     .lo = 1.0,
     .hi = INFINITY,
     .def = {.kind = AML_VAL_INT, .i = 1000},
     .search_lo = 1000,
     .search_hi = 1000,
     .doc =
         "iteration limit (L-BFGS or proximal gradient); the model is kept if reached"},
    {.name = "tol",
     .kind = AML_VAL_REAL,
     .lo = 0.0,
     .hi = INFINITY,
     .lo_open = 1,
     .def = {.kind = AML_VAL_REAL, .real = 1e-6},
     .search_lo = 1e-6,
     .search_hi = 1e-6,
     .search_log = 1,
     .doc = "stop when the largest (sub)gradient component of the objective falls to "
            "this"},
    {.name = "penalty",
     .kind = AML_VAL_STR,
     .choices = logreg_searched,
     .check = logreg_check_penalty,
     .def = {.kind = AML_VAL_STR, .str = "l2"},
     .doc = "l2 (L-BFGS), l1 or elasticnet (accelerated proximal gradient), or none "
            "(not searched by default)"},
    {.name = "l1_ratio",
     .kind = AML_VAL_REAL,
     .lo = 0.0,
     .hi = 1.0,
     .def = {.kind = AML_VAL_REAL, .real = 0.5},
     .search_lo = 0.0,
     .search_hi = 1.0,
     .doc = "elasticnet only: share of the 1/C penalty that is L1 (1 = l1, 0 = l2)"},
    {.name = NULL},
};

/* ------------------------------------------------------------------------
 * L-BFGS (Nocedal and Wright, Algorithms 7.4, 7.5, 3.5 and 3.6)
 */

/* Objective: returns f(x) and writes its gradient into g. */
typedef double (*lbfgs_fn)(void *ctx, const double *x, double *g);

typedef struct lbfgs {
    int d; /* dimension */
    lbfgs_fn fn;
    void *ctx;
    double *S, *Y;    /* LR_MEMORY x d correction pairs, a ring */
    double *rho, *al; /* LR_MEMORY: 1 / y.s and two-loop coefficients */
    int head, count;  /* next ring slot, pairs stored */
    double *x, *g, *dir, *xt, *gt;
    double f, ft; /* f(x) and f(xt) */
} lbfgs;

static int lbfgs_init(lbfgs *s, int d, lbfgs_fn fn, void *ctx)
{
    size_t dd = (size_t)d, m = LR_MEMORY;

    memset(s, 0, sizeof(*s));
    s->S = aml_mallocarray(2 * m * dd + 2 * m + 5 * dd, sizeof(double));
    if (!s->S)
        return AML_ENOMEM;
    s->Y = s->S + m * dd;
    s->rho = s->Y + m * dd;
    s->al = s->rho + m;
    s->x = s->al + m;
    s->g = s->x + dd;
    s->dir = s->g + dd;
    s->xt = s->dir + dd;
    s->gt = s->xt + dd;
    s->d = d;
    s->fn = fn;
    s->ctx = ctx;
    return AML_OK;
}

static void lbfgs_dispose(lbfgs *s)
{
    free(s->S);
    s->S = NULL;
}

static double vec_norm_inf(const double *v, int d)
{
    double m = 0.0;
    int i;

    for (i = 0; i < d; i++)
        if (fabs(v[i]) > m || isnan(v[i]))
            m = isnan(v[i]) ? NAN : fabs(v[i]);
    return m;
}

/* dir = -H g by the two-loop recursion (Algorithm 7.4). */
static void lbfgs_direction(lbfgs *s)
{
    int d = s->d, i, j, slot, newest = (s->head + LR_MEMORY - 1) % LR_MEMORY;
    double gamma;

    memcpy(s->dir, s->g, (size_t)d * sizeof(double));
    for (j = 0; j < s->count; j++) {
        slot = (newest - j + LR_MEMORY) % LR_MEMORY;
        s->al[slot] = s->rho[slot] * cblas_ddot(d, s->S + (size_t)slot * d, 1, s->dir, 1);
        cblas_daxpy(d, -s->al[slot], s->Y + (size_t)slot * d, 1, s->dir, 1);
    }
    if (s->count > 0) {
        /* H0 = gamma I with gamma = s.y / y.y, eq. (7.20). */
        const double *yv = s->Y + (size_t)newest * d;
        gamma = 1.0 / (s->rho[newest] * cblas_ddot(d, yv, 1, yv, 1));
        cblas_dscal(d, gamma, s->dir, 1);
    }
    for (j = s->count - 1; j >= 0; j--) {
        double beta;

        slot = (newest - j + LR_MEMORY) % LR_MEMORY;
        beta = s->rho[slot] * cblas_ddot(d, s->Y + (size_t)slot * d, 1, s->dir, 1);
        cblas_daxpy(d, s->al[slot] - beta, s->S + (size_t)slot * d, 1, s->dir, 1);
    }
    for (i = 0; i < d; i++)
        s->dir[i] = -s->dir[i];
}

/* Evaluates the trial point xt = x + a dir; *dphi is the slope gt.dir there. */
static double lbfgs_trial(lbfgs *s, double a, double *dphi)
{
    int i;

    for (i = 0; i < s->d; i++)
        s->xt[i] = s->x[i] + a * s->dir[i];
    s->ft = s->fn(s->ctx, s->xt, s->gt);
    *dphi = cblas_ddot(s->d, s->gt, 1, s->dir, 1);
    return s->ft;
}

/* One end of a bracketing interval: step, value and slope. */
typedef struct ls_point {
    double a, f, d;
} ls_point;

/*
 * Minimiser of the cubic through lo and hi (eq. 3.59), kept at least a
 * tenth of the interval away from either end; bisection when the cubic is
 * undefined (an end with an infinite value, or no real minimiser).
 */
static double ls_interpolate(const ls_point *lo, const ls_point *hi)
{
    double d1, disc, d2, a, width = hi->a - lo->a;
    double left = fmin(lo->a, hi->a) + 0.1 * fabs(width);
    double right = fmax(lo->a, hi->a) - 0.1 * fabs(width);

    d1 = lo->d + hi->d - 3.0 * (lo->f - hi->f) / (lo->a - hi->a);
    disc = d1 * d1 - lo->d * hi->d;
    if (!isfinite(disc) || disc < 0.0)
        return lo->a + 0.5 * width;
    d2 = copysign(sqrt(disc), width);
    a = hi->a - width * (hi->d + d2 - d1) / (hi->d - lo->d + 2.0 * d2);
    if (!(a >= left && a <= right))
        return lo->a + 0.5 * width;
    return a;
}

/* Does step a fail the sufficient decrease condition?  Non-finite values fail. */
static int ls_armijo_fails(double fa, double da, double a, double f0, double d0)
{
    return !(fa <= f0 + LS_C1 * a * d0) || !isfinite(da);
}

/*
 * Algorithm 3.6 (zoom): lo satisfies sufficient decrease and has the lowest
 * value seen; the interval [lo, hi] contains a strong Wolfe step.  Returns 0
 * with the accepted point in xt/gt/ft, or 1 when no step decreases f.
 */
static int ls_zoom(lbfgs *s, ls_point lo, ls_point hi, double f0, double d0)
{
    ls_point t;
    int j;

    for (j = 0; j < LS_MAX_ZOOM; j++) {
        t.a = ls_interpolate(&lo, &hi);
        if (t.a == lo.a || t.a == hi.a)
            break; /* the interval has shrunk below the step resolution */
        t.f = lbfgs_trial(s, t.a, &t.d);
        if (ls_armijo_fails(t.f, t.d, t.a, f0, d0) || t.f >= lo.f) {
            hi = t;
            continue;
        }
        if (fabs(t.d) <= -LS_C2 * d0)
            return 0;
        if (t.d * (hi.a - lo.a) >= 0.0)
            hi = lo;
        lo = t;
    }
    /* No curvature step found: settle for lo if it is a real decrease. */
    if (lo.a == 0.0 || !(lo.f < f0))
        return 1;
    lbfgs_trial(s, lo.a, &t.d);
    return 0;
}

/* Algorithm 3.5: a strong Wolfe step along dir, starting from a1. */
static int ls_search(lbfgs *s, double a1, double d0)
{
    ls_point prev = {0.0, s->f, d0}, t;
    double f0 = s->f;
    int i;

    t.a = a1;
    for (i = 0; i < LS_MAX_EXPAND; i++) {
        t.f = lbfgs_trial(s, t.a, &t.d);
        if (ls_armijo_fails(t.f, t.d, t.a, f0, d0) || (i > 0 && t.f >= prev.f))
            return ls_zoom(s, prev, t, f0, d0);
        if (fabs(t.d) <= -LS_C2 * d0)
            return 0;
        if (t.d >= 0.0)
            return ls_zoom(s, t, prev, f0, d0);
        prev = t;
        t.a *= 2.0;
    }
    return 0; /* xt holds the last, longest step, which decreased f */
}

/* Stores the pair s = xt - x, y = gt - g when y.s > 0, then moves to xt. */
static void lbfgs_accept(lbfgs *s)
{
    size_t d = (size_t)s->d, i;
    double *sv = s->S + (size_t)s->head * d, *yv = s->Y + (size_t)s->head * d;
    double sy, *tmp;

    for (i = 0; i < d; i++) {
        sv[i] = s->xt[i] - s->x[i];
        yv[i] = s->gt[i] - s->g[i];
    }
    sy = cblas_ddot(s->d, sv, 1, yv, 1);
    /* Strong Wolfe guarantees y.s > 0; a fallback step may not keep it. */
    if (sy > 1e-12 * cblas_ddot(s->d, yv, 1, yv, 1) && sy > 0.0) {
        s->rho[s->head] = 1.0 / sy;
        s->head = (s->head + 1) % LR_MEMORY;
        if (s->count < LR_MEMORY)
            s->count++;
    }
    tmp = s->x, s->x = s->xt, s->xt = tmp;
    tmp = s->g, s->g = s->gt, s->gt = tmp;
    s->f = s->ft;
}

/* One iteration of Algorithm 7.5: returns 0 moved, 1 no progress possible. */
static int lbfgs_step(lbfgs *s)
{
    double d0, a1 = 1.0;

    lbfgs_direction(s);
    d0 = cblas_ddot(s->d, s->g, 1, s->dir, 1);
    if (!(d0 < 0.0) || s->count == 0) {
        /* Steepest descent (first step, or the model lost positive
         * definiteness): first trial step of unit length. */
        s->count = 0;
        lbfgs_direction(s);
        d0 = cblas_ddot(s->d, s->g, 1, s->dir, 1);
        if (!(d0 < 0.0))
            return 1;
        a1 = 1.0 / sqrt(-d0);
    }
    if (ls_search(s, a1, d0) != 0 || !(s->ft < s->f))
        return 1;
    lbfgs_accept(s);
    return 0;
}

/*
 * Minimises fn from x (d values, overwritten by the solution).  Returns 0,
 * or AML_ENUMERIC when the objective or its gradient is not finite at an
 * accepted point.  *iters receives the iterations taken.
 */
static int lbfgs_minimise(lbfgs *s, double *x, long long max_iter, double tol,
                          long long *iters)
{
    double ftol = LR_FTOL * (tol / 1e-4) * (tol / 1e-4);
    long long it;

    memcpy(s->x, x, (size_t)s->d * sizeof(double));
    s->f = s->fn(s->ctx, s->x, s->g);
    for (it = 0; it < max_iter; it++) {
        double gmax = vec_norm_inf(s->g, s->d), fprev = s->f;

        if (!isfinite(s->f) || isnan(gmax))
            return aml_error_set(
                AML_ENUMERIC, "logistic_regression: the loss became %g at iteration %lld",
                s->f, it);
        if (gmax <= tol || lbfgs_step(s) != 0)
            break;
        /* L-BFGS-B's relative decrease test, scaled with tol: see the top. */
        if (fprev - s->f <= ftol * fmax(fmax(fabs(fprev), fabs(s->f)), 1.0))
            break;
    }
    memcpy(x, s->x, (size_t)s->d * sizeof(double));
    *iters = it;
    return AML_OK;
}

/* ------------------------------------------------------------------------
 * The logistic objective
 */

typedef struct lr_entry {
    int32_t col;
    double val;
} lr_entry;

typedef struct lr_problem {
    const aml_matrix *X;
    const double *y; /* class indices */
    const double *w; /* NULL for all ones */
    double inv_C;
    int k;
    double *Z; /* n x k scores, then loss derivatives */
    /* X by compressed rows when at most half its entries are non-zero (one-hot
     * encoded data), else NULL: see lr_sparse_rows. */
    size_t *ptr;   /* n + 1 row starts into ent */
    lr_entry *ent; /* the non-zeros, column and value together */
} lr_problem;

/* Z = X W^T + 1 b^T for the weights and intercepts packed in theta. */
static void lr_scores(const aml_matrix *X, const double *theta, int k, double *Z)
{
    size_t i, n = X->rows, p = X->cols;
    const double *b = theta + (size_t)k * p;
    int j;

    if (p == 0)
        memset(Z, 0, n * (size_t)k * sizeof(double));
    else if (k == 1)
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)p, 1.0, X->data, (int)p,
                    theta, 1, 0.0, Z, 1);
    else
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, k, (int)p, 1.0,
                    X->data, (int)p, theta, (int)p, 0.0, Z, k);
    for (i = 0; i < n; i++)
        for (j = 0; j < k; j++)
            Z[i * k + j] += b[j];
}

static double sigmoid(double z)
{
    double e;

    if (z >= 0.0)
        return 1.0 / (1.0 + exp(-z));
    e = exp(z);
    return e / (1.0 + e);
}

/*
 * Loss of rows [r0, r0 + m) from their scores z (m x k, overwritten by
 * dloss/dz, weighted).  Binary: w_i log(1 + exp(-s_i z_i)), s_i = +-1, with
 * one exp per row: for e = exp(-|z|), softplus(z) = max(z, 0) + log1p(e) and
 * sigmoid(z) = 1/(1 + e) or e/(1 + e).  Multinomial: w_i (logsumexp(z_i) -
 * z_{i,y_i}), one exp per score (the softmax reuses exp(z - max)).
 */
static double lr_loss_block(const lr_problem *pr, size_t r0, size_t m, double *z)
{
    const double *y = pr->y + r0, *w = pr->w ? pr->w + r0 : NULL;
    int j, k = pr->k;
    double loss = 0.0;
    size_t i;

    for (i = 0; i < m && k == 1; i++) {
        double wi = w ? w[i] : 1.0, zi = z[i], e = exp(-fabs(zi)), s;
        double margin = y[i] > 0.5 ? -zi : zi; /* loss is softplus(margin) */

        loss += wi * (fmax(margin, 0.0) + log1p(e));
        s = zi >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        z[i] = wi * (s - y[i]);
    }
    for (i = 0; i < m && k > 1; i++) {
        double *zi = z + i * k, wi = w ? w[i] : 1.0, mx = zi[0], sum = 0.0, inv;
        int yi = (int)y[i];

        for (j = 1; j < k; j++)
            mx = fmax(mx, zi[j]);
        loss -= wi * (zi[yi] - mx);
        for (j = 0; j < k; j++)
            sum += (zi[j] = exp(zi[j] - mx));
        loss += wi * log(sum);
        inv = wi / sum;
        for (j = 0; j < k; j++)
            zi[j] *= inv;
        zi[yi] -= wi;
    }
    return loss;
}

/*
 * Scores, loss and gradient of one block of rows, in one visit: the block
 * (about LR_BLOCK_BYTES of X) is read from memory by the scores product and
 * is still in cache for the gradient product, so each evaluation streams X
 * from memory once instead of twice.
 */
static double lr_block(const lr_problem *pr, const double *theta, size_t r0, size_t m,
                       double *grad)
{
    const aml_matrix *X = pr->X;
    const double *Xb = X->data + r0 * X->cols;
    int p = (int)X->cols, k = pr->k, j;
    double *z = pr->Z + r0 * (size_t)k, *gb = grad + (size_t)k * p, loss;
    size_t i;

    for (i = 0; i < m; i++)
        for (j = 0; j < k; j++)
            z[i * k + j] = theta[(size_t)k * p + j];
    if (p > 0 && k == 1)
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)m, p, 1.0, Xb, p, theta, 1, 1.0, z,
                    1);
    else if (p > 0)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, k, p, 1.0, Xb, p,
                    theta, p, 1.0, z, k);
    loss = lr_loss_block(pr, r0, m, z);
    if (p > 0 && k == 1)
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)m, p, 1.0, Xb, p, z, 1, 1.0, grad, 1);
    else if (p > 0)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, p, (int)m, 1.0, z, k, Xb,
                    p, 1.0, grad, p);
    for (i = 0; i < m; i++)
        for (j = 0; j < k; j++)
            gb[j] += z[i * k + j];
    return loss;
}

/*
 * Scores, loss and gradient row by row from the compressed rows: one pass
 * over the non-zeros, which for one-hot data are a small part of X.
 */
static double lr_sparse_rows(const lr_problem *pr, const double *theta, double *grad)
{
    size_t i, e, n = pr->X->rows, p = pr->X->cols;
    int j, k = pr->k;
    double f = 0.0, *gb = grad + (size_t)k * p;

    for (i = 0; i < n; i++) {
        double *z = pr->Z + i * (size_t)k;

        for (j = 0; j < k; j++) {
            const double *wj = theta + (size_t)j * p;
            double v = theta[(size_t)k * p + j];

            for (e = pr->ptr[i]; e < pr->ptr[i + 1]; e++)
                v += pr->ent[e].val * wj[pr->ent[e].col];
            z[j] = v;
        }
        f += lr_loss_block(pr, i, 1, z);
        for (j = 0; j < k; j++) {
            double *gj = grad + (size_t)j * p, g = z[j];

            for (e = pr->ptr[i]; e < pr->ptr[i + 1]; e++)
                gj[pr->ent[e].col] += g * pr->ent[e].val;
            gb[j] += g;
        }
    }
    return f;
}

/* Builds the compressed rows when X is at most half non-zero; 0 or AML_ENOMEM. */
static int lr_compress(lr_problem *pr)
{
    const aml_matrix *X = pr->X;
    size_t i, j, n = X->rows, p = X->cols, nnz = 0;

    for (i = 0; i < n * p; i++)
        nnz += X->data[i] != 0.0;
    if (nnz > n * p / 2)
        return AML_OK;
    pr->ptr = aml_mallocarray(n + 1, sizeof(size_t));
    pr->ent = aml_mallocarray(nnz ? nnz : 1, sizeof(lr_entry));
    if (!pr->ptr || !pr->ent)
        return AML_ENOMEM;
    for (i = 0, nnz = 0; i < n; i++) {
        const double *xi = aml_matrix_row(X, i);

        pr->ptr[i] = nnz;
        for (j = 0; j < p; j++)
            if (xi[j] != 0.0)
                pr->ent[nnz].col = (int32_t)j, pr->ent[nnz++].val = xi[j];
    }
    pr->ptr[n] = nnz;
    return AML_OK;
}

/* The objective and its gradient (lbfgs_fn). */
static double lr_objective(void *ctx, const double *theta, double *grad)
{
    lr_problem *pr = ctx;
    size_t i, n = pr->X->rows, p = pr->X->cols, kp = (size_t)pr->k * p;
    size_t block = LR_BLOCK_BYTES / (sizeof(double) * (p + (size_t)pr->k));
    double f = 0.0;

    /* Penalty part first: grad = W / C, intercepts 0; blocks add the loss. */
    for (i = 0; i < kp; i++) {
        f += 0.5 * pr->inv_C * theta[i] * theta[i];
        grad[i] = pr->inv_C * theta[i];
    }
    memset(grad + kp, 0, (size_t)pr->k * sizeof(double));
    if (pr->ptr)
        return f + lr_sparse_rows(pr, theta, grad);
    block = block < 16 ? 16 : block;
    for (i = 0; i < n; i += block)
        f += lr_block(pr, theta, i, n - i < block ? n - i : block, grad);
    return f;
}

/* ------------------------------------------------------------------------
 * L1 and elastic net: accelerated proximal gradient
 *
 * FISTA (Beck and Teboulle, "A fast iterative shrinkage-thresholding
 * algorithm for linear inverse problems", SIAM J. Imaging Sci. 2(1), 2009)
 * on  smooth(theta) + l1 ||W||_1,  where smooth is lr_objective (the loss
 * plus the L2 part of the penalty).  The step 1/L comes from backtracking
 * (L doubles until the quadratic upper bound holds at the new point) and L
 * is allowed to shrink by a factor 0.8 per iteration, so it tracks the local
 * curvature.  The momentum restarts whenever the objective goes up
 * (O'Donoghue and Candes, "Adaptive restart for accelerated gradient
 * schemes", Found. Comput. Math. 15, 2015), which restores monotone descent
 * and the linear rate on strongly convex problems.  Stopping: the largest
 * component of the minimum-norm subgradient (for a zero weight, the
 * gradient shrunk by l1 towards zero; intercepts are not penalised) is
 * <= tol, the analogue of the L-BFGS rule.
 */

typedef struct prox_state {
    lr_problem *pr;
    int d, kp;                    /* dimension, penalised leading entries (the weights) */
    double l1;                    /* L1 strength */
    double *x, *y, *xn, *gy, *gn; /* iterate, extrapolated point, trial, gradients */
    double L;
} prox_state;

/* xn = prox(y - gy / L): soft threshold on the weights, plain step on intercepts. */
static void prox_step(prox_state *st)
{
    double thr = st->l1 / st->L;
    int i;

    for (i = 0; i < st->d; i++) {
        double v = st->y[i] - st->gy[i] / st->L;

        st->xn[i] = i < st->kp ? copysign(fmax(fabs(v) - thr, 0.0), v) : v;
    }
}

/* Largest component of the minimum-norm subgradient at xn (gradient gn). */
static double prox_optimality(const prox_state *st)
{
    double m = 0.0, v;
    int i;

    for (i = 0; i < st->d; i++) {
        if (i >= st->kp)
            v = fabs(st->gn[i]);
        else if (st->xn[i] != 0.0)
            v = fabs(st->gn[i] + copysign(st->l1, st->xn[i]));
        else
            v = fmax(fabs(st->gn[i]) - st->l1, 0.0);
        m = fmax(m, v);
    }
    return m;
}

static double l1_norm(const double *x, int n)
{
    double s = 0.0;
    int i;

    for (i = 0; i < n; i++)
        s += fabs(x[i]);
    return s;
}

/* Backtracking: finds L and xn with the quadratic bound; returns smooth(xn). */
static double prox_backtrack(prox_state *st, double fy)
{
    double fn = 0.0;
    int tries;

    for (tries = 0; tries < 60; tries++) {
        double lin = 0.0, sq = 0.0;
        int i;

        prox_step(st);
        fn = lr_objective(st->pr, st->xn, st->gn);
        for (i = 0; i < st->d; i++) {
            double dx = st->xn[i] - st->y[i];

            lin += st->gy[i] * dx;
            sq += dx * dx;
        }
        if (fn <= fy + lin + 0.5 * st->L * sq * (1.0 + 1e-12) + 1e-12 * fabs(fy))
            break;
        st->L *= 2.0;
    }
    return fn;
}

/* Minimises from theta (overwritten); returns 0 or AML_ENUMERIC. */
static int prox_minimise(prox_state *st, double *theta, long long max_iter, double tol)
{
    double t = 1.0, Fx, fy, Fn;
    size_t dd = (size_t)st->d * sizeof(double);
    long long it;

    memcpy(st->x, theta, dd);
    memcpy(st->y, theta, dd);
    Fx = lr_objective(st->pr, st->x, st->gy) + st->l1 * l1_norm(st->x, st->kp);
    fy = Fx - st->l1 * l1_norm(st->x, st->kp);
    for (it = 0; it < max_iter; it++) {
        double tn, beta;
        int i;

        Fn = prox_backtrack(st, fy) + st->l1 * l1_norm(st->xn, st->kp);
        if (!isfinite(Fn))
            return aml_error_set(
                AML_ENUMERIC, "logistic_regression: the loss became %g at iteration %lld",
                Fn, it);
        if (Fn > Fx) { /* restart the momentum from the last iterate */
            if (t == 1.0)
                break; /* a plain step from x failed: precision limit */
            t = 1.0;
            memcpy(st->y, st->x, dd);
            fy = lr_objective(st->pr, st->y, st->gy);
            continue;
        }
        tn = 0.5 * (1.0 + sqrt(1.0 + 4.0 * t * t));
        beta = (t - 1.0) / tn;
        for (i = 0; i < st->d; i++)
            st->y[i] = st->xn[i] + beta * (st->xn[i] - st->x[i]);
        memcpy(st->x, st->xn, dd);
        Fx = Fn;
        t = tn;
        if (prox_optimality(st) <= tol)
            break;
        fy = lr_objective(st->pr, st->y, st->gy);
        st->L *= 0.8;
    }
    memcpy(theta, st->x, dd);
    return AML_OK;
}

/* Allocates the FISTA work vectors and runs it. */
static int prox_run(lr_problem *pr, double *theta, int d, int kp, double l1,
                    long long max_iter, double tol)
{
    prox_state st = {pr, d, kp, l1, NULL, NULL, NULL, NULL, NULL, 1.0};
    int rc;

    st.x = aml_mallocarray(5 * (size_t)d, sizeof(double));
    if (!st.x)
        return AML_ENOMEM;
    st.y = st.x + d;
    st.xn = st.y + d;
    st.gy = st.xn + d;
    st.gn = st.gy + d;
    rc = prox_minimise(&st, theta, max_iter, tol);
    free(st.x);
    return rc;
}

/* ------------------------------------------------------------------------
 * The learner
 */

static int logreg_create(aml_learner **out, const aml_learner_type *type, aml_task task)
{
    logreg *m = aml_calloc(1, sizeof(*m));

    *out = NULL;
    if (!m)
        return AML_ENOMEM;
    m->base.type = type;
    m->base.task = task;
    m->C = logreg_params[0].def.real;
    m->max_iter = logreg_params[1].def.i;
    m->tol = logreg_params[2].def.real;
    m->penalty = LR_L2;
    m->l1_ratio = logreg_params[4].def.real;
    *out = &m->base;
    return AML_OK;
}

static int logreg_set_param(aml_learner *l, const char *name, const aml_value *v)
{
    logreg *m = (logreg *)l;

    if (strcmp(name, "C") == 0)
        m->C = v->real;
    else if (strcmp(name, "max_iter") == 0)
        m->max_iter = v->i;
    else if (strcmp(name, "tol") == 0)
        m->tol = v->real;
    else if (strcmp(name, "l1_ratio") == 0)
        m->l1_ratio = v->real;
    else if (strcmp(name, "penalty") == 0) {
        int i;

        for (i = 0; logreg_penalties[i] && strcmp(logreg_penalties[i], v->str) != 0; i++)
            ;
        if (!logreg_penalties[i])
            return aml_error_set(AML_EINVAL, "logistic_regression: unknown penalty '%s'",
                                 v->str);
        m->penalty = i;
    } else
        return aml_error_set(AML_EINVAL, "logistic_regression has no parameter '%s'",
                             name);
    return AML_OK;
}

/* Labels must be class indices and weights non-negative with a positive sum. */
static int logreg_check(size_t n, const double *y, const double *w, int n_classes)
{
    size_t i;
    double sw = 0.0;

    for (i = 0; i < n; i++) {
        if (!(y[i] >= 0.0 && y[i] < n_classes && y[i] == floor(y[i])))
            return aml_error_set(
                AML_EINVAL,
                "logistic_regression: label %g of row %zu is not a class "
                "index below %d",
                y[i], i, n_classes);
        if (w && (!(w[i] >= 0.0) || !isfinite(w[i])))
            return aml_error_set(AML_EINVAL,
                                 "logistic_regression: sample weight %zu is %g", i, w[i]);
        sw += w ? w[i] : 1.0;
    }
    if (!(sw > 0.0))
        return aml_error_set(AML_EINVAL,
                             "logistic_regression: sample weights sum to zero");
    return AML_OK;
}

/* The L2 and L1 strengths of the objective divided by C. */
static void logreg_strengths(const logreg *m, double *l2, double *l1)
{
    double r = m->penalty == LR_L1           ? 1.0
               : m->penalty == LR_ELASTICNET ? m->l1_ratio
                                             : 0.0;

    *l2 = m->penalty == LR_NONE ? 0.0 : (1.0 - r) / m->C;
    *l1 = r / m->C;
}

static int logreg_fit(aml_learner *l, const aml_matrix *X, const double *y,
                      const double *w, int n_classes, aml_rng *rng, int threads)
{
    logreg *m = (logreg *)l;
    int k = n_classes == 2 ? 1 : n_classes;
    size_t n = X->rows, p = X->cols, d = (size_t)k * (p + 1);
    lr_problem pr = {X, y, w, 0.0, k, NULL, NULL, NULL};
    double l1 = 0.0;
    lbfgs opt = {0};
    double *theta = NULL;
    long long iters = 0;
    int rc;

    if (n > INT32_MAX / (size_t)k || p > INT32_MAX / (size_t)k || d > INT32_MAX)
        return aml_error_set(AML_EINVAL, "logistic_regression: %zu x %zu is too large", n,
                             p);
    if ((rc = logreg_check(n, y, w, n_classes)) < 0)
        return rc;
    theta = aml_calloc(d, sizeof(double));
    pr.Z = aml_mallocarray(n, (size_t)k * sizeof(double));
    if (!theta || !pr.Z || lr_compress(&pr) < 0 ||
        lbfgs_init(&opt, (int)d, lr_objective, &pr) < 0) {
        rc = AML_ENOMEM;
        goto fail;
    }
    logreg_strengths(m, &pr.inv_C, &l1);
    if (l1 > 0.0)
        rc = prox_run(&pr, theta, (int)d, (int)(d - (size_t)k), l1, m->max_iter, m->tol);
    else
        rc = lbfgs_minimise(&opt, theta, m->max_iter, m->tol, &iters);
    if (rc < 0)
        goto fail;
    free(m->theta);
    m->theta = theta;
    m->k = k;
    m->base.n_classes = n_classes;
    m->base.n_features = p;
    lbfgs_dispose(&opt);
    free(pr.Z), free(pr.ptr), free(pr.ent);
    return AML_OK;
fail:
    lbfgs_dispose(&opt);
    free(pr.Z), free(pr.ptr), free(pr.ent);
    free(theta);
    return rc;
}

static int logreg_predict(const aml_learner *l, const aml_matrix *X, double *out)
{
    const logreg *m = (const logreg *)l;
    size_t i, n = X->rows;
    int j, k = m->k;

    if (!m->theta)
        return aml_error_set(AML_EINVAL, "logistic_regression: predict before fit");
    lr_scores(X, m->theta, k, out);
    if (k == 1) {
        /* The n scores fill out[0..n); row i's pair goes to out[2i], out[2i+1],
         * never below i, so walking down reads each score before it is
         * overwritten. */
        for (i = n; i-- > 0;) {
            double z = out[i];

            out[2 * i] = sigmoid(-z);
            out[2 * i + 1] = sigmoid(z);
        }
        return AML_OK;
    }
    for (i = 0; i < n; i++) {
        double *z = out + i * k, mx = z[0], sum = 0.0;

        for (j = 1; j < k; j++)
            mx = fmax(mx, z[j]);
        for (j = 0; j < k; j++)
            sum += (z[j] = exp(z[j] - mx));
        for (j = 0; j < k; j++)
            z[j] /= sum;
    }
    return AML_OK;
}

/*
 * Layout: C, tol, max_iter, u32 k, u64 p, k (p + 1) values of theta, then
 * u32 penalty and l1_ratio.
 */
static int logreg_save(const aml_learner *l, aml_writer *w)
{
    const logreg *m = (const logreg *)l;
    size_t p = m->base.n_features;

    if (!m->theta)
        return aml_error_set(AML_EINVAL, "logistic_regression: save before fit");
    aml_put_f64(w, m->C);
    aml_put_f64(w, m->tol);
    aml_put_i64(w, (int64_t)m->max_iter);
    aml_put_u32(w, (uint32_t)m->k);
    aml_put_u64(w, (uint64_t)p);
    aml_put_f64s(w, m->theta, (size_t)m->k * (p + 1));
    aml_put_u32(w, (uint32_t)m->penalty);
    aml_put_f64(w, m->l1_ratio);
    return w->failed ? AML_ENOMEM : AML_OK;
}

static int logreg_load_state(aml_learner *l, aml_reader *r)
{
    logreg *m = (logreg *)l;
    int64_t max_iter;
    uint32_t k, penalty;
    uint64_t p;
    int rc;

    if ((rc = aml_get_f64(r, &m->C)) < 0 || (rc = aml_get_f64(r, &m->tol)) < 0 ||
        (rc = aml_get_i64(r, &max_iter)) < 0 || (rc = aml_get_u32(r, &k)) < 0 ||
        (rc = aml_get_u64(r, &p)) < 0)
        return rc;
    if (k < 1 || k > 1u << 20 || p > 1u << 30)
        return aml_error_set(AML_EFORMAT, "corrupt logistic_regression state in model");
    if ((rc = aml_reader_need(r, (size_t)k * (p + 1), sizeof(double))) < 0)
        return rc;
    if (!(m->theta = aml_mallocarray((size_t)k * (p + 1), sizeof(double))))
        return AML_ENOMEM;
    m->max_iter = max_iter;
    m->k = (int)k;
    m->base.n_classes = k == 1 ? 2 : (int)k;
    m->base.n_features = (size_t)p;
    if ((rc = aml_get_f64s(r, m->theta, (size_t)k * (p + 1))) < 0 ||
        (rc = aml_get_u32(r, &penalty)) < 0 || (rc = aml_get_f64(r, &m->l1_ratio)) < 0)
        return rc;
    if (penalty > LR_NONE)
        return aml_error_set(AML_EFORMAT, "corrupt logistic_regression state in model");
    m->penalty = (int)penalty;
    return AML_OK;
}

static int logreg_load(aml_learner **out, const aml_learner_type *type, aml_task task,
                       aml_reader *r)
{
    return aml_learner_load_with(out, type, task, r, logreg_load_state);
}

/* |weights| summed over the weight vectors (intercepts excluded), normalised. */
static int logreg_importance(const aml_learner *l, double *out)
{
    const logreg *m = (const logreg *)l;

    return aml_importance_linear(l, m->theta, m->k, l->n_features, out);
}

/*
 * C export: the scores are summed in feature order where predict uses BLAS,
 * so outputs agree to rounding (about 1e-15), not bit for bit.
 */
static int logreg_emit_c(const aml_learner *l, aml_cgen *g, const char *fn)
{
    const logreg *m = (const logreg *)l;
    size_t p = l->n_features;
    char w[64];

    if (!m->theta)
        return aml_error_set(AML_EINVAL, "logistic_regression: export before fit");
    aml_cgen_name(g, "logreg_theta", w, sizeof(w));
    aml_cgen_doubles(g, w, m->theta, (size_t)m->k * (p + 1));
    if (m->k == 1)
        aml_cgen_printf(g,
                        "static double %s_sig(double z)\n{\n"
                        "    double e;\n\n"
                        "    if (z >= 0.0)\n"
                        "        return 1.0 / (1.0 + exp(-z));\n"
                        "    e = exp(z);\n"
                        "    return e / (1.0 + e);\n}\n\n",
                        fn);
    aml_cgen_printf(g,
                    "/* logistic_regression: %d weight vector(s) over %zu features. */\n"
                    "static void %s(const double *x, double *out)\n{\n"
                    "    double z[%d];\n"
                    "    size_t j;\n    int c;\n\n"
                    "    for (c = 0; c < %d; c++) {\n"
                    "        double s = 0.0;\n\n"
                    "        for (j = 0; j < %zu; j++)\n"
                    "            s += x[j] * %s[(size_t)c * %zu + j];\n"
                    "        z[c] = s + %s[%zu + (size_t)c];\n    }\n",
                    m->k, p, fn, m->k, m->k, p, w, p, w, (size_t)m->k * p);
    if (m->k == 1)
        return aml_cgen_printf(g,
                               "    out[0] = %s_sig(-z[0]);\n"
                               "    out[1] = %s_sig(z[0]);\n}\n\n",
                               fn, fn);
    return aml_cgen_printf(g,
                           "    {\n        double mx = z[0], sum = 0.0;\n\n"
                           "        for (c = 1; c < %d; c++)\n"
                           "            mx = fmax(mx, z[c]);\n"
                           "        for (c = 0; c < %d; c++)\n"
                           "            sum += (out[c] = exp(z[c] - mx));\n"
                           "        for (c = 0; c < %d; c++)\n"
                           "            out[c] /= sum;\n    }\n}\n\n",
                           m->k, m->k, m->k);
}

static void logreg_free(aml_learner *l)
{
    logreg *m = (logreg *)l;

    if (!m)
        return;
    free(m->theta);
    free(m);
}

const aml_learner_type aml_learner_logistic_regression = {
    .name = "logistic_regression",
    .tasks = AML_TASK_BIT(AML_TASK_CLASSIFICATION),
    .flags = AML_LEARNER_WANTS_SCALING,
    .params = logreg_params,
    .create = logreg_create,
    .set_param = logreg_set_param,
    .fit = logreg_fit,
    .predict = logreg_predict,
    .save = logreg_save,
    .load = logreg_load,
    .free = logreg_free,
    .importance = logreg_importance,
    .emit_c = logreg_emit_c,
};
