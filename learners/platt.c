/*
 * platt.c - Platt's probability sigmoid for SVM decision values, shared by
 * svm.c (one sigmoid per class pair) and linear_svm.c (one sigmoid pooled
 * over every one-vs-rest pair, with sample weights).
 *
 * P(positive | f) = 1 / (1 + exp(A f + B)) (J. Platt, "Probabilistic
 * outputs for support vector machines", 1999), fitted by the Newton method
 * with backtracking of H.-T. Lin, C.-J. Lin and R. C. Weng, "A note on
 * Platt's probabilistic outputs for support vector machines", Machine
 * Learning 68, 2007 (Algorithm 1), on Platt's regularised targets.  The
 * unweighted case is the weighted one with weights 1.0, which leaves every
 * product, hence every bit, as it was when svm.c had its own copy.
 */
#include "platt_internal.h"

#include <math.h>

static double platt_w(const aml_platt_data *pd, size_t j)
{
    return pd->w ? pd->w[j / (size_t)pd->kk] : 1.0;
}

/* Weighted negative log likelihood of targets t under 1/(1 + exp(A f + B)). */
static double platt_nll(const aml_platt_data *pd, double A, double B)
{
    const double *f = pd->f, *t = pd->t;
    double v = 0.0;
    size_t i, n = pd->n * (size_t)pd->kk;

    for (i = 0; i < n; i++) {
        double z = f[i] * A + B, wi = platt_w(pd, i);

        if (z >= 0.0)
            v += wi * (t[i] * z + log1p(exp(-z)));
        else
            v += wi * ((t[i] - 1.0) * z + log1p(exp(z)));
    }
    return v;
}

/* Gradient g and Hessian h (h11, h22, h21) of platt_nll at (A, B). */
static void platt_derivs(const aml_platt_data *pd, double A, double B, double g[2],
                         double h[3])
{
    const double *f = pd->f, *t = pd->t;
    size_t i, n = pd->n * (size_t)pd->kk;

    g[0] = g[1] = h[2] = 0.0;
    h[0] = h[1] = 1e-12; /* keeps the Hessian positive definite */
    for (i = 0; i < n; i++) {
        double z = f[i] * A + B, wi = platt_w(pd, i), p, q, d2, d1;

        if (z >= 0.0) {
            p = exp(-z) / (1.0 + exp(-z));
            q = 1.0 / (1.0 + exp(-z));
        } else {
            p = 1.0 / (1.0 + exp(z));
            q = exp(z) / (1.0 + exp(z));
        }
        d2 = wi * p * q;
        h[0] += f[i] * f[i] * d2;
        h[1] += d2;
        h[2] += f[i] * d2;
        d1 = wi * (t[i] - p);
        g[0] += f[i] * d1;
        g[1] += d1;
    }
}

/*
 * Fits (A, B) on the pairs of pd; t holds 1 for a positive pair and 0 for
 * a negative one on entry, and Platt's targets on return.
 */
void aml_platt_fit(aml_platt_data *pd, double *t, double *A, double *B)
{
    double npos = 0.0, nneg = 0.0, fval, g[2], h[3];
    size_t i, n = pd->n * (size_t)pd->kk;
    int it;

    for (i = 0; i < n; i++)
        *(t[i] > 0.5 ? &npos : &nneg) += platt_w(pd, i);
    for (i = 0; i < n; i++)
        t[i] = t[i] > 0.5 ? (npos + 1.0) / (npos + 2.0) : 1.0 / (nneg + 2.0);
    pd->t = t;
    *A = 0.0;
    *B = log((nneg + 1.0) / (npos + 1.0));
    fval = platt_nll(pd, *A, *B);
    for (it = 0; it < 100; it++) {
        double det, dA, dB, gd, step;

        platt_derivs(pd, *A, *B, g, h);
        if (fabs(g[0]) < 1e-5 && fabs(g[1]) < 1e-5)
            break;
        det = h[0] * h[1] - h[2] * h[2];
        dA = -(h[1] * g[0] - h[2] * g[1]) / det;
        dB = -(-h[2] * g[0] + h[0] * g[1]) / det;
        gd = g[0] * dA + g[1] * dB;
        for (step = 1.0; step >= 1e-10; step *= 0.5) {
            double nf = platt_nll(pd, *A + step * dA, *B + step * dB);

            if (nf < fval + 1e-4 * step * gd) {
                *A += step * dA, *B += step * dB, fval = nf;
                break;
            }
        }
        if (step < 1e-10)
            break; /* no decrease along the Newton direction: at precision limit */
    }
}

double aml_platt_prob(double f, double A, double B)
{
    double z = f * A + B;

    return z >= 0.0 ? exp(-z) / (1.0 + exp(-z)) : 1.0 / (1.0 + exp(z));
}
