/*
 * gp.c - the Gaussian process behind bayes.c (see gp.h): Matern 5/2 ARD
 * kernel, Cholesky through LAPACK, log marginal likelihood with its
 * analytic gradient, an L-BFGS fit, and batched prediction through BLAS.
 *
 * Kernel.  k(a, b) = sf2 (1 + s + s^2 / 3) exp(-s), s = sqrt(5 sum_k
 * ((a_k - b_k) / l_k)^2) (Matern nu = 5/2; Rasmussen and Williams,
 * "Gaussian processes for machine learning", 2006, eq. 4.17).  Its
 * derivative in log l_k is sf2 (5/3) (1 + s) exp(-s) (a_k - b_k)^2 / l_k^2,
 * which has no 1/s and so no trouble at s = 0.
 *
 * Gradient.  d LML / d theta_j = 1/2 tr((alpha alpha^T - K^-1) dK/d theta_j)
 * (Rasmussen and Williams eq. 5.9), with K^-1 from the factor by dpotri:
 * O(n^3) once, then O(n^2) per hyperparameter.  The squared differences
 * of every pair of points are computed once per fit, so an evaluation is
 * one pass over the pairs, one dpotrf and one dpotri.
 *
 * Fit.  The bounded log hyperparameters are mapped to the real line by a
 * logistic function, theta = lo + (hi - lo) / (1 + exp(-phi)), and L-BFGS
 * (Liu and Nocedal, "On the limited memory BFGS method for large scale
 * optimization", Math. Programming 45, 1989; memory 6, backtracking Armijo
 * line search) maximises the LML in phi from each start.  This replaced a
 * Nelder-Mead search whose hundreds of LML evaluations per start made a
 * batch of 8 proposals cost seconds at 250 observations.
 */
#include "gp.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "aml.h"

/* LAPACK (provided by OpenBLAS): Cholesky factor, solve and inverse. */
extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
extern void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a,
                    const int *lda, double *b, const int *ldb, int *info);
extern void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info);

/* Bounds of the log hyperparameters: length-scale, signal and noise variance. */
#define GP_LOG_LS_LO (-4.6) /* 0.01 */
#define GP_LOG_LS_HI 3.0    /* 20 */
#define GP_LOG_SF_LO (-3.0)
#define GP_LOG_SF_HI 3.0
#define GP_LOG_SN_LO (-13.8) /* 1e-6 */
#define GP_LOG_SN_HI 0.0

#define GP_LBFGS_M 6
#define GP_LBFGS_ITERS 60
#define GP_PHI_MAX 12.0 /* |phi| cap: the logistic is flat beyond */

double aml_gp_theta_lo(size_t k, size_t d)
{
    return k < d ? GP_LOG_LS_LO : k == d ? GP_LOG_SF_LO : GP_LOG_SN_LO;
}

double aml_gp_theta_hi(size_t k, size_t d)
{
    return k < d ? GP_LOG_LS_HI : k == d ? GP_LOG_SF_HI : GP_LOG_SN_HI;
}

void aml_gp_theta_default(double *theta, size_t d)
{
    size_t k;

    for (k = 0; k < d; k++)
        theta[k] = log(0.5);
    theta[d] = 0.0;
    theta[d + 1] = log(1e-3);
}

int aml_gp_alloc(aml_gp *g, size_t n, size_t d)
{
    memset(g, 0, sizeof(*g));
    g->n = n;
    g->d = d;
    g->x = aml_mallocarray(n ? n : 1, (d ? d : 1) * sizeof(double));
    g->y = aml_mallocarray(n ? n : 1, sizeof(double));
    g->chol = aml_mallocarray(n ? n : 1, (n ? n : 1) * sizeof(double));
    g->alpha = aml_mallocarray(n ? n : 1, sizeof(double));
    g->ils = aml_mallocarray(d ? d : 1, sizeof(double));
    if (!g->x || !g->y || !g->chol || !g->alpha || !g->ils) {
        aml_gp_free(g);
        return AML_ENOMEM;
    }
    return AML_OK;
}

void aml_gp_free(aml_gp *g)
{
    free(g->x);
    free(g->y);
    free(g->chol);
    free(g->alpha);
    free(g->ils);
    memset(g, 0, sizeof(*g));
}

static void gp_set_theta(aml_gp *g, const double *theta)
{
    size_t k;

    for (k = 0; k < g->d; k++)
        g->ils[k] = exp(-theta[k]);
    g->sf2 = exp(theta[g->d]);
}

/* The kernel from a squared scaled distance r2 = sum ((a - b) / l)^2. */
static double gp_matern(double sf2, double r2, double *dfac)
{
    double s = sqrt(5.0 * r2), e = exp(-s);

    if (dfac)
        *dfac = sf2 * (5.0 / 3.0) * (1.0 + s) * e;
    return sf2 * (1.0 + s + s * s / 3.0) * e;
}

static double gp_r2(const double *a, const double *b, const double *ils, size_t d)
{
    double r2 = 0.0;
    size_t k;

    for (k = 0; k < d; k++) {
        double t = (a[k] - b[k]) * ils[k];

        r2 += t * t;
    }
    return r2;
}

/*
 * Factors chol (whose strict lower triangle holds K's off-diagonal part on
 * entry, kept in `off` for retries) with the diagonal sf2 + noise + jitter.
 */
static int gp_cholesky(aml_gp *g, const double *off, double noise)
{
    int n = (int)g->n, info = 1;
    size_t i, j;
    double jitter;

    for (jitter = 1e-8; jitter <= 1e-2 && info != 0; jitter *= 10.0) {
        if (jitter > 1e-8) /* dpotrf overwrote the lower triangle */
            for (j = 0; j < g->n; j++)
                for (i = j + 1; i < g->n; i++)
                    g->chol[j * g->n + i] = off[j * g->n + i];
        for (i = 0; i < g->n; i++)
            g->chol[i * g->n + i] = g->sf2 + noise + jitter;
        dpotrf_("L", &n, g->chol, &n, &info);
    }
    return info == 0 ? AML_OK : AML_ENUMERIC;
}

/* alpha = K^-1 y and the LML from the factor. */
static double gp_lml_from_factor(aml_gp *g)
{
    int n = (int)g->n, one = 1, info;
    double fit, logdet = 0.0;
    size_t i;

    memcpy(g->alpha, g->y, g->n * sizeof(double));
    dpotrs_("L", &n, &one, g->chol, &n, g->alpha, &n, &info);
    fit = cblas_ddot(n, g->y, 1, g->alpha, 1);
    for (i = 0; i < g->n; i++)
        logdet += log(g->chol[i * g->n + i]);
    return -0.5 * fit - logdet - 0.5 * (double)g->n * log(2.0 * M_PI);
}

double aml_gp_factor(aml_gp *g, const double *theta)
{
    double *off = NULL, lml;
    size_t i, j;

    gp_set_theta(g, theta);
    if (g->n == 0)
        return 0.0;
    if (!(off = aml_mallocarray(g->n, g->n * sizeof(double))))
        return -INFINITY;
    for (j = 0; j < g->n; j++)
        for (i = j + 1; i < g->n; i++)
            off[j * g->n + i] = g->chol[j * g->n + i] = gp_matern(
                g->sf2, gp_r2(g->x + i * g->d, g->x + j * g->d, g->ils, g->d), NULL);
    lml =
        gp_cholesky(g, off, exp(theta[g->d + 1])) < 0 ? -INFINITY : gp_lml_from_factor(g);
    free(off);
    return lml;
}

/* ---- LML and gradient ------------------------------------------------------- */

/* What one fit keeps between evaluations. */
typedef struct gp_fit {
    aml_gp *g;
    size_t np;    /* pairs i > j */
    double *diff; /* np x d squared differences */
    double *kp;   /* np kernel values */
    double *hp;   /* np derivative factors */
    double *off;  /* n x n off-diagonal copy for jitter retries */
    double *kinv; /* n x n */
} gp_fit;

/* LML of theta and its gradient in theta (grad may be NULL); -inf on failure. */
static double gp_lml_grad(gp_fit *f, const double *theta, double *grad)
{
    aml_gp *g = f->g;
    size_t n = g->n, d = g->d, i, j, k, p;
    double lml, noise = exp(theta[d + 1]), tr = 0.0, ssf = 0.0;
    int ni = (int)n, info;

    gp_set_theta(g, theta);
    for (j = 0, p = 0; j < n; j++)
        for (i = j + 1; i < n; i++, p++) {
            const double *dp = f->diff + p * d;
            double r2 = 0.0;

            for (k = 0; k < d; k++)
                r2 += dp[k] * g->ils[k] * g->ils[k];
            f->kp[p] = gp_matern(g->sf2, r2, &f->hp[p]);
            f->off[j * n + i] = g->chol[j * n + i] = f->kp[p];
        }
    if (gp_cholesky(g, f->off, noise) < 0)
        return -INFINITY;
    lml = gp_lml_from_factor(g);
    if (!grad)
        return lml;
    memcpy(f->kinv, g->chol, n * n * sizeof(double));
    dpotri_("L", &ni, f->kinv, &ni, &info);
    if (info != 0)
        return -INFINITY;
    for (k = 0; k < d + 2; k++)
        grad[k] = 0.0;
    for (i = 0; i < n; i++)
        tr += g->alpha[i] * g->alpha[i] - f->kinv[i * n + i];
    for (j = 0, p = 0; j < n; j++)
        for (i = j + 1; i < n; i++, p++) {
            double w = g->alpha[i] * g->alpha[j] - f->kinv[j * n + i];
            double wh = w * f->hp[p];
            const double *dp = f->diff + p * d;

            for (k = 0; k < d; k++)
                grad[k] += wh * dp[k];
            ssf += w * f->kp[p];
        }
    for (k = 0; k < d; k++)
        grad[k] *= g->ils[k] * g->ils[k];
    grad[d] = 0.5 * tr * g->sf2 + ssf;
    grad[d + 1] = 0.5 * tr * noise;
    return lml;
}

/* ---- L-BFGS in the logistic coordinates ----------------------------------- */

static double gp_logistic(double phi)
{
    return 1.0 / (1.0 + exp(-phi));
}

static void gp_to_theta(const double *phi, double *theta, size_t d)
{
    size_t k;

    for (k = 0; k < d + 2; k++)
        theta[k] = aml_gp_theta_lo(k, d) +
                   (aml_gp_theta_hi(k, d) - aml_gp_theta_lo(k, d)) * gp_logistic(phi[k]);
}

static void gp_to_phi(const double *theta, double *phi, size_t d)
{
    size_t k;

    for (k = 0; k < d + 2; k++) {
        double lo = aml_gp_theta_lo(k, d), hi = aml_gp_theta_hi(k, d);
        double u = (theta[k] - lo) / (hi - lo);

        u = u < 1e-5 ? 1e-5 : u > 1.0 - 1e-5 ? 1.0 - 1e-5 : u;
        phi[k] = log(u / (1.0 - u));
    }
}

/* The objective -LML at phi and its gradient in phi; +inf on failure. */
static double gp_objective(gp_fit *f, const double *phi, double *gphi, double *theta)
{
    size_t k, d = f->g->d;
    double lml;

    gp_to_theta(phi, theta, d);
    lml = gp_lml_grad(f, theta, gphi);
    if (!isfinite(lml))
        return INFINITY;
    for (k = 0; k < d + 2; k++) {
        double sg = gp_logistic(phi[k]);

        gphi[k] =
            -gphi[k] * (aml_gp_theta_hi(k, d) - aml_gp_theta_lo(k, d)) * sg * (1 - sg);
    }
    return -lml;
}

/* L-BFGS memory and scratch: p = d + 2. */
typedef struct gp_lbfgs {
    size_t p, m, head; /* pairs stored, next slot */
    double *s, *y, *rho, *al;
    double *x, *gx, *xn, *gn, *dir, *theta;
} gp_lbfgs;

/* dir = -H grad by the two-loop recursion (Nocedal and Wright, algorithm 7.4). */
static void gp_two_loop(gp_lbfgs *b, const double *grad)
{
    size_t i, p = b->p;
    int c, slot, n = (int)p;
    double gamma = 1.0;

    for (i = 0; i < p; i++)
        b->dir[i] = -grad[i];
    for (c = 0; c < (int)b->m; c++) {
        slot = (int)((b->head + GP_LBFGS_M - 1 - (size_t)c) % GP_LBFGS_M);
        b->al[slot] = b->rho[slot] * cblas_ddot(n, b->s + slot * p, 1, b->dir, 1);
        cblas_daxpy(n, -b->al[slot], b->y + slot * p, 1, b->dir, 1);
    }
    if (b->m > 0) {
        slot = (int)((b->head + GP_LBFGS_M - 1) % GP_LBFGS_M);
        gamma =
            1.0 / (b->rho[slot] * cblas_ddot(n, b->y + slot * p, 1, b->y + slot * p, 1));
        cblas_dscal(n, gamma, b->dir, 1);
    }
    for (c = (int)b->m - 1; c >= 0; c--) {
        double beta;

        slot = (int)((b->head + GP_LBFGS_M - 1 - (size_t)c) % GP_LBFGS_M);
        beta = b->rho[slot] * cblas_ddot(n, b->y + slot * p, 1, b->dir, 1);
        cblas_daxpy(n, b->al[slot] - beta, b->s + slot * p, 1, b->dir, 1);
    }
}

static double gp_norm_inf(const double *v, size_t p)
{
    double m = 0.0;
    size_t i;

    for (i = 0; i < p; i++)
        m = fabs(v[i]) > m ? fabs(v[i]) : m;
    return m;
}

/* Backtracking Armijo search along dir from x (value *fx); 0 when no step helped. */
static int gp_line_search(gp_fit *f, gp_lbfgs *b, double *fx, double step)
{
    double slope = cblas_ddot((int)b->p, b->gx, 1, b->dir, 1), fn;
    size_t i;
    int tries;

    for (tries = 0; tries < 30; tries++, step *= 0.5) {
        for (i = 0; i < b->p; i++) {
            double v = b->x[i] + step * b->dir[i];

            b->xn[i] = v < -GP_PHI_MAX ? -GP_PHI_MAX : v > GP_PHI_MAX ? GP_PHI_MAX : v;
        }
        fn = gp_objective(f, b->xn, b->gn, b->theta);
        if (fn <= *fx + 1e-4 * step * slope) {
            *fx = fn;
            return 1;
        }
    }
    return 0;
}

/* Minimises -LML from phi = b->x; returns the final value (+inf when it failed). */
static double gp_lbfgs_run(gp_fit *f, gp_lbfgs *b)
{
    size_t p = b->p, i;
    double fx = gp_objective(f, b->x, b->gx, b->theta), fprev;
    int it;

    b->m = b->head = 0;
    for (it = 0; it < GP_LBFGS_ITERS && isfinite(fx); it++) {
        double *sv = b->s + b->head * p, *yv = b->y + b->head * p, sy;

        gp_two_loop(b, b->gx);
        if (cblas_ddot((int)p, b->gx, 1, b->dir, 1) >= 0.0) { /* not downhill: reset */
            b->m = 0;
            for (i = 0; i < p; i++)
                b->dir[i] = -b->gx[i];
        }
        fprev = fx;
        if (!gp_line_search(f, b, &fx, b->m ? 1.0 : 1.0 / (1.0 + gp_norm_inf(b->gx, p))))
            break;
        for (i = 0; i < p; i++) {
            sv[i] = b->xn[i] - b->x[i];
            yv[i] = b->gn[i] - b->gx[i];
        }
        sy = cblas_ddot((int)p, sv, 1, yv, 1);
        if (sy > 1e-12) {
            b->rho[b->head] = 1.0 / sy;
            b->head = (b->head + 1) % GP_LBFGS_M;
            b->m = b->m < GP_LBFGS_M ? b->m + 1 : GP_LBFGS_M;
        }
        memcpy(b->x, b->xn, p * sizeof(double));
        memcpy(b->gx, b->gn, p * sizeof(double));
        if (fprev - fx < 1e-7 * (1.0 + fabs(fx)) || gp_norm_inf(b->gx, p) < 1e-6)
            break;
    }
    return fx;
}

static void gp_fit_free(gp_fit *f, gp_lbfgs *b)
{
    free(f->diff);
    free(f->kp);
    free(f->off);
    free(f->kinv);
    free(b->s);
}

static int gp_fit_alloc(gp_fit *f, gp_lbfgs *b, aml_gp *g)
{
    size_t n = g->n, d = g->d, p = d + 2, i, j, k, q;

    memset(f, 0, sizeof(*f));
    memset(b, 0, sizeof(*b));
    f->g = g;
    f->np = n * (n - 1) / 2;
    f->diff = aml_mallocarray(f->np ? f->np : 1, (d ? d : 1) * sizeof(double));
    f->kp = aml_mallocarray(f->np ? 2 * f->np : 2, sizeof(double));
    f->off = aml_mallocarray(n, n * sizeof(double));
    f->kinv = aml_mallocarray(n, n * sizeof(double));
    b->p = p;
    b->s = aml_mallocarray(2 * GP_LBFGS_M * p + 2 * GP_LBFGS_M + 7 * p, sizeof(double));
    if (!f->diff || !f->kp || !f->off || !f->kinv || !b->s) {
        gp_fit_free(f, b);
        return AML_ENOMEM;
    }
    f->hp = f->kp + f->np;
    b->y = b->s + GP_LBFGS_M * p;
    b->rho = b->y + GP_LBFGS_M * p;
    b->al = b->rho + GP_LBFGS_M;
    b->x = b->al + GP_LBFGS_M;
    b->gx = b->x + p;
    b->xn = b->gx + p;
    b->gn = b->xn + p;
    b->dir = b->gn + p;
    b->theta = b->dir + p; /* 2 p: theta and a spare */
    for (j = 0, q = 0; j < n; j++)
        for (i = j + 1; i < n; i++, q++)
            for (k = 0; k < d; k++) {
                double t = g->x[i * d + k] - g->x[j * d + k];

                f->diff[q * d + k] = t * t;
            }
    return AML_OK;
}

int aml_gp_fit(aml_gp *g, const double *starts, size_t n_starts, double *theta)
{
    gp_fit f;
    gp_lbfgs b;
    double best = INFINITY, v;
    size_t r, p = g->d + 2;
    int rc;

    if (g->n < 2)
        return AML_OK;
    if ((rc = gp_fit_alloc(&f, &b, g)) < 0)
        return rc;
    for (r = 0; r < n_starts; r++) {
        gp_to_phi(starts + r * p, b.x, g->d);
        v = gp_lbfgs_run(&f, &b);
        if (v < best) {
            best = v;
            gp_to_theta(b.x, theta, g->d);
        }
    }
    gp_fit_free(&f, &b);
    return AML_OK;
}

/* ---- prediction ----------------------------------------------------------------- */

void aml_gp_predict(const aml_gp *g, const double *z, size_t m, double *mu, double *var,
                    double *work)
{
    size_t n = g->n, c, i;
    int ni = (int)n, mi = (int)m;

    if (n == 0) {
        for (c = 0; c < m; c++)
            mu[c] = 0.0, var[c] = g->sf2;
        return;
    }
    for (c = 0; c < m; c++)
        for (i = 0; i < n; i++)
            work[c * n + i] = gp_matern(
                g->sf2, gp_r2(z + c * g->d, g->x + i * g->d, g->ils, g->d), NULL);
    cblas_dgemv(CblasColMajor, CblasTrans, ni, mi, 1.0, work, ni, g->alpha, 1, 0.0, mu,
                1);
    cblas_dtrsm(CblasColMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, ni, mi,
                1.0, g->chol, ni, work, ni);
    for (c = 0; c < m; c++)
        var[c] = g->sf2 - cblas_ddot(ni, work + c * n, 1, work + c * n, 1);
}

double aml_gp_ei(double mu, double var, double best, double xi)
{
    double sd = var > 1e-12 ? sqrt(var) : 1e-6, imp = mu - best - xi, u = imp / sd;

    return imp * 0.5 * erfc(-u / sqrt(2.0)) + sd * exp(-0.5 * u * u) / sqrt(2.0 * M_PI);
}
