/*
 * gp.h - internal to search/: a Gaussian process regressor with a Matern
 * 5/2 ARD kernel, its hyperparameter fit and its batched prediction, as
 * bayes.c uses them.
 *
 * The inputs live in [0, 1]^d (bayes' encoding), the targets are
 * standardised by the caller.  theta holds d + 2 log hyperparameters:
 * the log length-scale of every input, the log signal variance and the log
 * noise variance, each within the bounds of aml_gp_theta_lo/hi.
 */
#ifndef AML_GP_H
#define AML_GP_H

#include <stddef.h>

typedef struct aml_gp {
    size_t n, d;   /* points, input width */
    double *x;     /* n x d, row-major */
    double *y;     /* n standardised targets */
    double *chol;  /* n x n column-major lower Cholesky factor of K + noise */
    double *alpha; /* (K + noise)^-1 y */
    double *ils;   /* d inverse length-scales of the factored theta */
    double sf2;    /* signal variance of the factored theta */
    double ymean, ysd;
    double best; /* the incumbent for expected improvement, standardised */
} aml_gp;

/* Allocates a GP of n points of width d (x and y are the caller's to fill). */
int aml_gp_alloc(aml_gp *g, size_t n, size_t d);
void aml_gp_free(aml_gp *g);

double aml_gp_theta_lo(size_t k, size_t d);
double aml_gp_theta_hi(size_t k, size_t d);
/* Default hyperparameters: length-scale 0.5, unit signal, noise 1e-3. */
void aml_gp_theta_default(double *theta, size_t d);

/*
 * Factors K + noise for theta (jitter 1e-8 raised tenfold on failure, up to
 * 1e-2) and solves for alpha; returns the log marginal likelihood, or -inf
 * when even the largest jitter fails.  Prediction uses this factor.
 */
double aml_gp_factor(aml_gp *g, const double *theta);

/*
 * Maximises the log marginal likelihood over theta by L-BFGS (Liu and
 * Nocedal 1989) with its analytic gradient (Rasmussen and Williams 2006,
 * eq. 5.9), from each of the n_starts rows of `starts` (d + 2 values each);
 * writes the best theta found into theta (left as is when every start
 * fails).  Deterministic: no randomness of its own.  Leaves g unfactored.
 */
int aml_gp_fit(aml_gp *g, const double *starts, size_t n_starts, double *theta);

/*
 * Posterior mean and variance (latent, without noise) at m points z (m x d
 * row-major) after aml_gp_factor: one kernel block, a BLAS triangular
 * solve for all m at once.  work holds n * m doubles.
 */
void aml_gp_predict(const aml_gp *g, const double *z, size_t m, double *mu, double *var,
                    double *work);

/* Expected improvement over g->best + xi of a mean and variance (Jones et al. 1998). */
double aml_gp_ei(double mu, double var, double best, double xi);

#endif
