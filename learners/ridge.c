/*
 * ridge.c - ridge regression (Hoerl and Kennard, "Ridge regression: biased
 * estimation for nonorthogonal problems", Technometrics 12(1), 1970).
 *
 * Fits the same model as scikit-learn's Ridge(alpha, fit_intercept=True):
 *
 *     minimise  sum_i w_i (y_i - b - x_i.beta)^2 + alpha ||beta||^2
 *
 * The intercept is not penalised, so it is eliminated by centring X and y
 * on their weighted means; beta then solves the normal equations
 *
 *     (Xc^T W Xc + alpha I) beta = Xc^T W yc
 *
 * and b = ymean - xmean.beta.  The p x p system is formed with one BLAS
 * rank-k update on the rows scaled by sqrt(w_i) and solved by LAPACK's
 * Cholesky driver dposv.  Data sets here are tall and narrow (p is at most
 * a few hundred), so the Gram matrix is cheap and the solve is negligible.
 *
 * When Cholesky fails (alpha = 0 with collinear columns, or a column that
 * is constant), we do what scikit-learn does on a singular Gram matrix: fall
 * back to an SVD least-squares solve (LAPACK dgelss) of the augmented system
 * [Xc; sqrt(alpha) I] beta = [yc; 0], which returns the minimum-norm
 * solution (singular values below 1e-12 of the largest count as zero).  A
 * nearly singular system that Cholesky accepts is solved as it stands, as
 * scikit-learn does; its predictions stay accurate even when individual
 * coefficients of collinear columns are not.  Only a non-finite result is an
 * AML_ENUMERIC error.
 */
#include "aml.h"
#include "learner.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK (Fortran interface, provided by libopenblas). */
extern void dposv_(const char *uplo, const int *n, const int *nrhs, double *a,
                   const int *lda, double *b, const int *ldb, int *info);
extern void dgelss_(const int *m, const int *n, const int *nrhs, double *a,
                    const int *lda, double *b, const int *ldb, double *s,
                    const double *rcond, int *rank, double *work, const int *lwork,
                    int *info);

typedef struct ridge {
    aml_learner base;
    double alpha;
    double *coef; /* n_features, NULL before fit */
    double intercept;
} ridge;

static const aml_param_def ridge_params[] = {
    {.name = "alpha",
     .kind = AML_VAL_REAL,
     .lo = 0.0,
     .hi = INFINITY,
     .def = {.kind = AML_VAL_REAL, .real = 1.0},
     .search_lo = 1e-3,
     .search_hi = 1e3,
     .search_log = 1,
     .doc = "L2 penalty on the coefficients (0 = ordinary least squares)"},
    {.name = NULL},
};

static int ridge_create(aml_learner **out, const aml_learner_type *type, aml_task task)
{
    ridge *r = aml_calloc(1, sizeof(*r));

    *out = NULL;
    if (!r)
        return AML_ENOMEM;
    r->base.type = type;
    r->base.task = task;
    r->alpha = ridge_params[0].def.real;
    *out = &r->base;
    return AML_OK;
}

static int ridge_set_param(aml_learner *l, const char *name, const aml_value *v)
{
    ridge *r = (ridge *)l;

    if (strcmp(name, "alpha") == 0) {
        r->alpha = v->real;
        return AML_OK;
    }
    return aml_error_set(AML_EINVAL, "ridge has no parameter '%s'", name);
}

/* Weighted column means of X into xmean (p) and of y into *ymean; checks w. */
static int ridge_means(const aml_matrix *X, const double *y, const double *w,
                       double *xmean, double *ymean)
{
    size_t i, j, p = X->cols;
    double sw = 0.0, sy = 0.0;

    memset(xmean, 0, p * sizeof(double));
    for (i = 0; i < X->rows; i++) {
        const double *xi = aml_matrix_row(X, i);
        double wi = w ? w[i] : 1.0;

        if (!(wi >= 0.0) || !isfinite(wi))
            return aml_error_set(AML_EINVAL, "ridge: sample weight %zu is %g", i, wi);
        sw += wi;
        sy += wi * y[i];
        for (j = 0; j < p; j++)
            xmean[j] += wi * xi[j];
    }
    if (!(sw > 0.0))
        return aml_error_set(AML_EINVAL, "ridge: sample weights sum to zero");
    for (j = 0; j < p; j++)
        xmean[j] /= sw;
    *ymean = sy / sw;
    return AML_OK;
}

/* A = sqrt(w) * (X - xmean) (n x p, row-major) and c = sqrt(w) * (y - ymean). */
static void ridge_centre(const aml_matrix *X, const double *y, const double *w,
                         const double *xmean, double ymean, double *A, double *c)
{
    size_t i, j, p = X->cols;

    for (i = 0; i < X->rows; i++) {
        const double *xi = aml_matrix_row(X, i);
        double s = sqrt(w ? w[i] : 1.0);

        for (j = 0; j < p; j++)
            A[i * p + j] = s * (xi[j] - xmean[j]);
        c[i] = s * (y[i] - ymean);
    }
}

/*
 * Cholesky path: G = A^T A + alpha I, beta = G^-1 A^T c.  Returns 0, or 1
 * when G is not numerically positive definite (the caller falls back).
 */
static int ridge_solve_cholesky(const double *A, const double *c, int n, int p,
                                double alpha, double *G, double *beta)
{
    int i, j, one = 1, info = 0;

    /* Row-major upper triangle is column-major lower: dposv reads "L". */
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, p, n, 1.0, A, p, 0.0, G, p);
    for (i = 0; i < p; i++) {
        G[i * p + i] += alpha;
        for (j = 0; j < i; j++)
            G[i * p + j] = G[j * p + i];
    }
    cblas_dgemv(CblasRowMajor, CblasTrans, n, p, 1.0, A, p, c, 1, 0.0, beta, 1);
    dposv_("L", &p, &one, G, &p, beta, &p, &info);
    if (info < 0)
        return aml_error_set(AML_ERROR, "ridge: dposv argument %d invalid", -info);
    return info > 0 ? 1 : AML_OK;
}

/*
 * Fallback: minimum-norm least squares on [A; sqrt(alpha) I] beta = [c; 0]
 * by SVD.  Singular values below 1e-12 of the largest count as zero.
 */
static int ridge_solve_svd(const double *A, const double *c, int n, int p, double alpha,
                           double *beta)
{
    int m = n + p, one = 1, rank = 0, info = 0, lwork = -1, i, j;
    double rcond = 1e-12, query = 0.0;
    double *M =
        aml_mallocarray((size_t)m * (size_t)p + (size_t)m + (size_t)p, sizeof(double));
    double *b, *s, *work = NULL;
    int rc = AML_OK;

    if (!M)
        return AML_ENOMEM;
    b = M + (size_t)m * p;
    s = b + m;
    /* Column-major copy of the augmented matrix. */
    memset(M, 0, (size_t)m * p * sizeof(double));
    for (j = 0; j < p; j++) {
        for (i = 0; i < n; i++)
            M[(size_t)j * m + i] = A[(size_t)i * p + j];
        M[(size_t)j * m + n + j] = sqrt(alpha);
    }
    memcpy(b, c, (size_t)n * sizeof(double));
    memset(b + n, 0, (size_t)p * sizeof(double));

    dgelss_(&m, &p, &one, M, &m, b, &m, s, &rcond, &rank, &query, &lwork, &info);
    lwork = (int)query;
    if (info != 0 ||
        !(work = aml_mallocarray((size_t)(lwork > 1 ? lwork : 1), sizeof(double)))) {
        rc =
            info ? aml_error_set(AML_ENUMERIC, "ridge: dgelss query failed") : AML_ENOMEM;
        goto out;
    }
    dgelss_(&m, &p, &one, M, &m, b, &m, s, &rcond, &rank, work, &lwork, &info);
    if (info != 0) {
        rc = aml_error_set(AML_ENUMERIC, "ridge: SVD did not converge (info %d)", info);
        goto out;
    }
    memcpy(beta, b, (size_t)p * sizeof(double));
out:
    free(work);
    free(M);
    return rc;
}

static int ridge_solve(ridge *r, const aml_matrix *X, const double *y, const double *w,
                       const double *xmean, double ymean, double *beta)
{
    size_t n = X->rows, p = X->cols;
    double *A = aml_mallocarray(n * p + n + p * p, sizeof(double));
    double *c, *G;
    int rc;

    if (!A)
        return AML_ENOMEM;
    c = A + n * p;
    G = c + n;
    ridge_centre(X, y, w, xmean, ymean, A, c);
    rc = ridge_solve_cholesky(A, c, (int)n, (int)p, r->alpha, G, beta);
    if (rc == 1)
        rc = ridge_solve_svd(A, c, (int)n, (int)p, r->alpha, beta);
    free(A);
    return rc;
}

static int ridge_fit(aml_learner *l, const aml_matrix *X, const double *y,
                     const double *w, int n_classes, aml_rng *rng, int threads)
{
    ridge *r = (ridge *)l;
    size_t j, p = X->cols;
    double *beta, *xmean = NULL, ymean = 0.0;
    int rc;

    if (X->rows > INT32_MAX / 2 || p > 1u << 20)
        return aml_error_set(AML_EINVAL, "ridge: %zu x %zu is too large", X->rows, p);
    beta = aml_calloc(p ? p : 1, sizeof(double));
    xmean = aml_calloc(p ? p : 1, sizeof(double));
    if (!beta || !xmean) {
        rc = AML_ENOMEM;
        goto fail;
    }
    if ((rc = ridge_means(X, y, w, xmean, &ymean)) < 0)
        goto fail;
    if (p > 0 && (rc = ridge_solve(r, X, y, w, xmean, ymean, beta)) < 0)
        goto fail;
    r->intercept = ymean - (p ? cblas_ddot((int)p, xmean, 1, beta, 1) : 0.0);
    for (j = 0; j < p; j++)
        if (!isfinite(beta[j]))
            break;
    if (j < p || !isfinite(r->intercept)) {
        rc = aml_error_set(AML_ENUMERIC, "ridge: the solution is not finite");
        goto fail;
    }
    free(r->coef);
    r->coef = beta;
    r->base.n_features = p;
    free(xmean);
    return AML_OK;
fail:
    free(beta);
    free(xmean);
    return rc;
}

static int ridge_predict(const aml_learner *l, const aml_matrix *X, double *out)
{
    const ridge *r = (const ridge *)l;
    size_t i;

    if (!r->coef)
        return aml_error_set(AML_EINVAL, "ridge: predict before fit");
    for (i = 0; i < X->rows; i++)
        out[i] = r->intercept;
    if (X->cols > 0 && X->rows > 0)
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)X->rows, (int)X->cols, 1.0, X->data,
                    (int)X->cols, r->coef, 1, 1.0, out, 1);
    return AML_OK;
}

/* Layout: alpha, intercept, u64 p, p coefficients. */
static int ridge_save(const aml_learner *l, aml_writer *w)
{
    const ridge *r = (const ridge *)l;

    if (!r->coef)
        return aml_error_set(AML_EINVAL, "ridge: save before fit");
    aml_put_f64(w, r->alpha);
    aml_put_f64(w, r->intercept);
    aml_put_u64(w, (uint64_t)r->base.n_features);
    aml_put_f64s(w, r->coef, r->base.n_features);
    return w->failed ? AML_ENOMEM : AML_OK;
}

static int ridge_load(aml_learner **out, const aml_learner_type *type, aml_task task,
                      aml_reader *rd)
{
    aml_learner *l = NULL;
    ridge *r;
    uint64_t p = 0;
    int rc;

    *out = NULL;
    if ((rc = ridge_create(&l, type, task)) < 0)
        return rc;
    r = (ridge *)l;
    if ((rc = aml_get_f64(rd, &r->alpha)) < 0 ||
        (rc = aml_get_f64(rd, &r->intercept)) < 0 || (rc = aml_get_u64(rd, &p)) < 0 ||
        (rc = aml_reader_need(rd, p, 8)) < 0)
        goto fail;
    if (!(r->coef = aml_calloc(p ? p : 1, sizeof(double)))) {
        rc = AML_ENOMEM;
        goto fail;
    }
    if ((rc = aml_get_f64s(rd, r->coef, (size_t)p)) < 0)
        goto fail;
    r->base.n_features = (size_t)p;
    *out = l;
    return AML_OK;
fail:
    l->type->free(l);
    return rc;
}

/* |coef| normalised to sum 1 (all zeros when every coefficient is zero). */
static int ridge_importance(const aml_learner *l, double *out)
{
    return aml_importance_linear(l, ((const ridge *)l)->coef, 1, l->n_features, out);
}

/* C export: predict's dgemv, summed in feature order (agrees to about 1e-15). */
static int ridge_emit_c(const aml_learner *l, aml_cgen *g, const char *fn)
{
    const ridge *r = (const ridge *)l;

    if (!r->coef)
        return aml_error_set(AML_EINVAL, "ridge: export before fit");
    return aml_emit_c_linear(g, fn, "ridge", r->coef, l->n_features, r->intercept);
}

static void ridge_free(aml_learner *l)
{
    ridge *r = (ridge *)l;

    if (!r)
        return;
    free(r->coef);
    free(r);
}

const aml_learner_type aml_learner_ridge = {
    .name = "ridge",
    .tasks = AML_TASK_BIT(AML_TASK_REGRESSION),
    .flags = AML_LEARNER_WANTS_SCALING,
    .params = ridge_params,
    .create = ridge_create,
    .set_param = ridge_set_param,
    .fit = ridge_fit,
    .predict = ridge_predict,
    .save = ridge_save,
    .load = ridge_load,
    .free = ridge_free,
    .importance = ridge_importance,
    .emit_c = ridge_emit_c,
};
