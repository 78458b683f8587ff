/*
 * linear_cd.c - lasso and elastic net regression by cyclic coordinate
 * descent (Friedman, Hastie and Tibshirani, "Regularization paths for
 * generalized linear models via coordinate descent", J. Stat. Softw. 33(1),
 * 2010).
 *
 * Both types fit scikit-learn 1.2's ElasticNet / Lasso model:
 *
 *     minimise  1/(2 sum w) sum_i w_i (y_i - x_i.beta - b)^2
 *               + alpha l1_ratio ||beta||_1 + alpha (1 - l1_ratio)/2 ||beta||^2
 *
 * (lasso is l1_ratio = 1).  The intercept is not penalised, so it is
 * eliminated by centring X and y on their weighted means; rows are then
 * scaled by sqrt(w_i), after which the weighted problem is an unweighted one
 * (rows of weight zero become rows of zeros).  Multiplying the objective by
 * W = sum w gives the update of one coordinate with the residual r:
 *
 *     beta_j <- S(x_j.r + |x_j|^2 beta_j, W alpha l1_ratio)
 *               / (|x_j|^2 + W alpha (1 - l1_ratio))
 *
 * with S the soft threshold.  The centred, scaled data are copied once into
 * a column-major work matrix so each update reads one contiguous column;
 * the design matrices here are tall and narrow, so the copy is cheap next to
 * the sweeps.
 *
 * Stopping follows scikit-learn's rule (sklearn/linear_model/_cd_fast.pyx):
 * after a sweep in which the largest coefficient change is below
 * tol * max|beta| (or every coefficient is zero), the duality gap of the
 * problem is computed, and the fit stops once it is below tol * ||yc||^2
 * (yc the centred, weight-scaled target).  After max_iter sweeps the model
 * is kept as it stands, as scikit-learn does with a warning.  Updates are
 * visited in column order (scikit-learn's selection='cyclic'), so the fit
 * is deterministic and needs no random numbers.
 */
#include "aml.h"
#include "learner.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct enet {
    aml_learner base;
    double alpha, l1_ratio, tol;
    long long max_iter;
    double *coef; /* n_features, NULL before fit */
    double intercept;
    long long n_iter; /* sweeps taken by the last fit */
} enet;

#define ENET_PARAM_ALPHA                                                                 \
    {                                                                                    \
        .name = "alpha", .kind = AML_VAL_REAL, .lo = 0.0, .hi = INFINITY,                \
        .def = {.kind = AML_VAL_REAL, .real = 1.0}, .search_lo = 1e-4, .search_hi = 1e1, \
        .search_log = 1,                                                                 \
        .doc = "overall penalty strength multiplying the L1 and L2 terms"                \
    }
#define ENET_PARAM_MAX_ITER                                                              \
    {                                                                                    \
        .name = "max_iter", .kind = AML_VAL_INT, .lo = 1.0, .hi = INFINITY,              \
        .def = {.kind = AML_VAL_INT, .i = 1000}, .search_lo = 1000, .search_hi = 1000,   \
        .doc = "limit on coordinate descent sweeps; the model is kept if reached"        \
    }
#define ENET_PARAM_TOL                                                                   \
    {                                                                                    \
        .name = "tol", .kind = AML_VAL_REAL, .lo = 0.0, .hi = INFINITY, .lo_open = 1,    \
        .def = {.kind = AML_VAL_REAL, .real = 1e-4}, .search_lo = 1e-4,                  \
        .search_hi = 1e-4, .search_log = 1,                                              \
        .doc = "stop when the duality gap is below tol * ||y - mean(y)||^2 "             \
               "(scikit-learn's rule)"                                                   \
    }

static const aml_param_def lasso_params[] = {
    ENET_PARAM_ALPHA,
    ENET_PARAM_MAX_ITER,
    ENET_PARAM_TOL,
    {.name = NULL},
};

static const aml_param_def enet_params[] = {
    ENET_PARAM_ALPHA,
    {.name = "l1_ratio",
     .kind = AML_VAL_REAL,
     .lo = 0.0,
     .hi = 1.0,
     .def = {.kind = AML_VAL_REAL, .real = 0.5},
     .search_lo = 0.0,
     .search_hi = 1.0,
     .doc = "share of the penalty that is L1 (1 = lasso, 0 = ridge)"},
    ENET_PARAM_MAX_ITER,
    ENET_PARAM_TOL,
    {.name = NULL},
};

extern const aml_learner_type aml_learner_lasso;

static int enet_is_lasso(const aml_learner *l)
{
    return l->type == &aml_learner_lasso;
}

static int enet_create(aml_learner **out, const aml_learner_type *type, aml_task task)
{
    enet *m = aml_calloc(1, sizeof(*m));

    *out = NULL;
    if (!m)
        return AML_ENOMEM;
    m->base.type = type;
    m->base.task = task;
    m->alpha = 1.0;
    m->l1_ratio = type == &aml_learner_lasso ? 1.0 : 0.5;
    m->max_iter = 1000;
    m->tol = 1e-4;
    *out = &m->base;
    return AML_OK;
}

static int enet_set_param(aml_learner *l, const char *name, const aml_value *v)
{
    enet *m = (enet *)l;

    if (strcmp(name, "alpha") == 0)
        m->alpha = v->real;
    else if (strcmp(name, "l1_ratio") == 0 && !enet_is_lasso(l))
        m->l1_ratio = v->real;
    else if (strcmp(name, "max_iter") == 0)
        m->max_iter = v->i;
    else if (strcmp(name, "tol") == 0)
        m->tol = v->real;
    else
        return aml_error_set(AML_EINVAL, "%s has no parameter '%s'", l->type->name, name);
    return AML_OK;
}

/* Weighted means of the columns of X and of y; checks the weights. */
static int enet_means(const aml_learner *l, const aml_matrix *X, const double *y,
                      const double *w, double *xmean, double *ymean, double *wsum)
{
    size_t i, j, p = X->cols;
    double sw = 0.0, sy = 0.0;

    memset(xmean, 0, p * sizeof(double));
    for (i = 0; i < X->rows; i++) {
        const double *xi = aml_matrix_row(X, i);
        double wi = w ? w[i] : 1.0;

        if (!(wi >= 0.0) || !isfinite(wi))
            return aml_error_set(AML_EINVAL, "%s: sample weight %zu is %g", l->type->name,
                                 i, wi);
        sw += wi;
        sy += wi * y[i];
        for (j = 0; j < p; j++)
            xmean[j] += wi * xi[j];
    }
    if (!(sw > 0.0))
        return aml_error_set(AML_EINVAL, "%s: sample weights sum to zero", l->type->name);
    for (j = 0; j < p; j++)
        xmean[j] /= sw;
    *ymean = sy / sw;
    *wsum = sw;
    return AML_OK;
}

/* A (column-major n x p) = sqrt(w) (X - xmean); r = sqrt(w) (y - ymean). */
static void enet_centre(const aml_matrix *X, const double *y, const double *w,
                        const double *xmean, double ymean, double *A, double *r)
{
    size_t i, j, n = X->rows, p = X->cols;

    for (i = 0; i < n; i++) {
        const double *xi = aml_matrix_row(X, i);
        double s = sqrt(w ? w[i] : 1.0);

        for (j = 0; j < p; j++)
            A[j * n + i] = s * (xi[j] - xmean[j]);
        r[i] = s * (y[i] - ymean);
    }
}

/* The coordinate descent problem: data, residual and penalties. */
typedef struct cd_problem {
    int n, p;
    const double *A;  /* column-major n x p */
    const double *yc; /* centred scaled target */
    double *norm2;    /* |A_j|^2 */
    double *r;        /* residual yc - A beta */
    double *xta;      /* p work values for the gap */
    double l1, l2;    /* W alpha l1_ratio, W alpha (1 - l1_ratio) */
} cd_problem;

/*
 * Duality gap of the scaled problem at beta (scikit-learn's formula): with
 * the dual point obtained by scaling r into the dual feasible set.
 */
static double cd_gap(const cd_problem *pr, const double *beta)
{
    int j, n = pr->n, p = pr->p;
    double dual_norm = 0.0, r2, b2, l1norm = 0.0, cst, gap, ry;

    cblas_dgemv(CblasColMajor, CblasTrans, n, p, 1.0, pr->A, n, pr->r, 1, 0.0, pr->xta,
                1);
    for (j = 0; j < p; j++) {
        double v = fabs(pr->xta[j] - pr->l2 * beta[j]);

        dual_norm = fmax(dual_norm, v);
        l1norm += fabs(beta[j]);
    }
    r2 = cblas_ddot(n, pr->r, 1, pr->r, 1);
    b2 = cblas_ddot(p, beta, 1, beta, 1);
    if (dual_norm > pr->l1) {
        cst = pr->l1 / dual_norm;
        gap = 0.5 * (r2 + r2 * cst * cst);
    } else {
        cst = 1.0;
        gap = r2;
    }
    ry = cblas_ddot(n, pr->r, 1, pr->yc, 1);
    return gap + pr->l1 * l1norm - cst * ry + 0.5 * pr->l2 * (1.0 + cst * cst) * b2;
}

/* One cyclic sweep; returns the largest coefficient change, *bmax the largest |beta|. */
static double cd_sweep(cd_problem *pr, double *beta, double *bmax)
{
    int j, n = pr->n;
    double dmax = 0.0;

    *bmax = 0.0;
    for (j = 0; j < pr->p; j++) {
        const double *a = pr->A + (size_t)j * n;
        double old = beta[j], t, nb;

        if (pr->norm2[j] == 0.0)
            continue; /* a constant column (or all its rows weigh zero) */
        if (old != 0.0)
            cblas_daxpy(n, old, a, 1, pr->r, 1);
        t = cblas_ddot(n, a, 1, pr->r, 1);
        nb = copysign(fmax(fabs(t) - pr->l1, 0.0), t) / (pr->norm2[j] + pr->l2);
        beta[j] = nb;
        if (nb != 0.0)
            cblas_daxpy(n, -nb, a, 1, pr->r, 1);
        dmax = fmax(dmax, fabs(nb - old));
        *bmax = fmax(*bmax, fabs(nb));
    }
    return dmax;
}

/* Sweeps until scikit-learn's stopping rule holds or max_iter is spent. */
static long long cd_solve(cd_problem *pr, double *beta, long long max_iter, double tol)
{
    double tol_abs = tol * cblas_ddot(pr->n, pr->yc, 1, pr->yc, 1), bmax, dmax;
    long long it;

    for (it = 0; it < max_iter; it++) {
        dmax = cd_sweep(pr, beta, &bmax);
        if (bmax == 0.0 || dmax / bmax < tol || it == max_iter - 1) {
            if (cd_gap(pr, beta) < tol_abs)
                return it + 1;
        }
    }
    return max_iter;
}

/* Solves for beta (p) on the centred data; the sweeps taken go to m->n_iter. */
static int enet_solve(enet *m, const aml_matrix *X, const double *y, const double *w,
                      const double *xmean, double ymean, double wsum, double *beta)
{
    size_t n = X->rows, p = X->cols, j;
    double *A = aml_mallocarray(n * p + 2 * n + 2 * p, sizeof(double));
    cd_problem pr;
    double *yc;

    if (!A)
        return AML_ENOMEM;
    pr.n = (int)n;
    pr.p = (int)p;
    pr.A = A;
    pr.r = A + n * p;
    yc = pr.r + n;
    pr.yc = yc;
    pr.norm2 = yc + n;
    pr.xta = pr.norm2 + p;
    enet_centre(X, y, w, xmean, ymean, A, pr.r);
    memcpy(yc, pr.r, n * sizeof(double));
    for (j = 0; j < p; j++)
        pr.norm2[j] = cblas_ddot((int)n, A + j * n, 1, A + j * n, 1);
    pr.l1 = wsum * m->alpha * m->l1_ratio;
    pr.l2 = wsum * m->alpha * (1.0 - m->l1_ratio);
    memset(beta, 0, p * sizeof(double));
    m->n_iter = cd_solve(&pr, beta, m->max_iter, m->tol);
    free(A);
    return AML_OK;
}

static int enet_fit(aml_learner *l, const aml_matrix *X, const double *y, const double *w,
                    int n_classes, aml_rng *rng, int threads)
{
    enet *m = (enet *)l;
    size_t j, p = X->cols;
    double *beta, *xmean, ymean = 0.0, wsum = 0.0;
    int rc;

    (void)n_classes, (void)rng, (void)threads;
    if (X->rows > INT32_MAX / 2 || p > INT32_MAX / 2)
        return aml_error_set(AML_EINVAL, "%s: %zu x %zu is too large", l->type->name,
                             X->rows, p);
    beta = aml_calloc(p ? p : 1, sizeof(double));
    xmean = aml_calloc(p ? p : 1, sizeof(double));
    if (!beta || !xmean) {
        rc = AML_ENOMEM;
        goto fail;
    }
    if ((rc = enet_means(l, X, y, w, xmean, &ymean, &wsum)) < 0)
        goto fail;
    if (p > 0 && (rc = enet_solve(m, X, y, w, xmean, ymean, wsum, beta)) < 0)
        goto fail;
    m->intercept = ymean - (p ? cblas_ddot((int)p, xmean, 1, beta, 1) : 0.0);
    for (j = 0; j < p && isfinite(beta[j]); j++)
        ;
    if (j < p || !isfinite(m->intercept)) {
        rc = aml_error_set(AML_ENUMERIC, "%s: the solution is not finite", l->type->name);
        goto fail;
    }
    free(m->coef);
    m->coef = beta;
    m->base.n_features = p;
    free(xmean);
    return AML_OK;
fail:
    free(beta);
    free(xmean);
    return rc;
}

static int enet_predict(const aml_learner *l, const aml_matrix *X, double *out)
{
    const enet *m = (const enet *)l;
    size_t i;

    if (!m->coef)
        return aml_error_set(AML_EINVAL, "%s: predict before fit", l->type->name);
    for (i = 0; i < X->rows; i++)
        out[i] = m->intercept;
    if (X->cols > 0 && X->rows > 0)
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)X->rows, (int)X->cols, 1.0, X->data,
                    (int)X->cols, m->coef, 1, 1.0, out, 1);
    return AML_OK;
}

/* C export: predict's dgemv, summed in feature order (agrees to about 1e-15). */
static int enet_emit_c(const aml_learner *l, aml_cgen *g, const char *fn)
{
    const enet *m = (const enet *)l;

    if (!m->coef)
        return aml_error_set(AML_EINVAL, "%s: export before fit", l->type->name);
    return aml_emit_c_linear(g, fn, l->type->name, m->coef, l->n_features, m->intercept);
}

/* |coef| normalised to sum 1 (all zeros when every coefficient is zero). */
static int enet_importance(const aml_learner *l, double *out)
{
    return aml_importance_linear(l, ((const enet *)l)->coef, 1, l->n_features, out);
}

/* Layout: alpha, l1_ratio, tol, max_iter, intercept, u64 p, p coefficients. */
static int enet_save(const aml_learner *l, aml_writer *w)
{
    const enet *m = (const enet *)l;

    if (!m->coef)
        return aml_error_set(AML_EINVAL, "%s: save before fit", l->type->name);
    aml_put_f64(w, m->alpha);
    aml_put_f64(w, m->l1_ratio);
    aml_put_f64(w, m->tol);
    aml_put_i64(w, (int64_t)m->max_iter);
    aml_put_f64(w, m->intercept);
    aml_put_u64(w, (uint64_t)m->base.n_features);
    aml_put_f64s(w, m->coef, m->base.n_features);
    return w->failed ? AML_ENOMEM : AML_OK;
}

static int enet_load_state(aml_learner *l, aml_reader *rd)
{
    enet *m = (enet *)l;
    int64_t max_iter = 0;
    uint64_t p = 0;
    int rc;

    if ((rc = aml_get_f64(rd, &m->alpha)) < 0 ||
        (rc = aml_get_f64(rd, &m->l1_ratio)) < 0 || (rc = aml_get_f64(rd, &m->tol)) < 0 ||
        (rc = aml_get_i64(rd, &max_iter)) < 0 ||
        (rc = aml_get_f64(rd, &m->intercept)) < 0 || (rc = aml_get_u64(rd, &p)) < 0 ||
        (rc = aml_reader_need(rd, p, 8)) < 0)
        return rc;
    if (!(m->coef = aml_calloc(p ? p : 1, sizeof(double))))
        return AML_ENOMEM;
    m->max_iter = max_iter;
    m->base.n_features = (size_t)p;
    return aml_get_f64s(rd, m->coef, (size_t)p);
}

static int enet_load(aml_learner **out, const aml_learner_type *type, aml_task task,
                     aml_reader *rd)
{
    return aml_learner_load_with(out, type, task, rd, enet_load_state);
}

static void enet_free(aml_learner *l)
{
    enet *m = (enet *)l;

    if (!m)
        return;
    free(m->coef);
    free(m);
}

const aml_learner_type aml_learner_lasso = {
    .name = "lasso",
    .tasks = AML_TASK_BIT(AML_TASK_REGRESSION),
    .flags = AML_LEARNER_WANTS_SCALING,
    .params = lasso_params,
    .create = enet_create,
    .set_param = enet_set_param,
    .fit = enet_fit,
    .predict = enet_predict,
    .save = enet_save,
    .load = enet_load,
    .free = enet_free,
    .importance = enet_importance,
    .emit_c = enet_emit_c,
};

const aml_learner_type aml_learner_elastic_net = {
    .name = "elastic_net",
    .tasks = AML_TASK_BIT(AML_TASK_REGRESSION),
    .flags = AML_LEARNER_WANTS_SCALING,
    .params = enet_params,
    .create = enet_create,
    .set_param = enet_set_param,
    .fit = enet_fit,
    .predict = enet_predict,
    .save = enet_save,
    .load = enet_load,
    .free = enet_free,
    .importance = enet_importance,
    .emit_c = enet_emit_c,
};
