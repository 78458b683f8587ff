/*
 * platt_internal.h - Platt scaling of SVM decision values (platt.c), for
 * svm.c and linear_svm.c.
 */
#ifndef AML_PLATT_INTERNAL_H
#define AML_PLATT_INTERNAL_H

#include <stddef.h>

/*
 * The pairs to fit: f and t hold n x kk values (row i's pairs at i kk ..),
 * and w (n, or NULL for weight 1) weighs rows, so pair j has weight w[j / kk].
 */
typedef struct aml_platt_data {
    const double *f, *t, *w;
    size_t n;
    int kk;
} aml_platt_data;

/*
 * Fits (A, B) of P = 1 / (1 + exp(A f + B)) on the pairs of pd; t holds a
 * value > 0.5 for a positive pair (1, or +1) and below for a negative one
 * (0, or -1) on entry, and Platt's targets on return (pd->t is set to t).
 */
void aml_platt_fit(aml_platt_data *pd, double *t, double *A, double *B);
/* The sigmoid at decision value f, computed without overflow. */
double aml_platt_prob(double f, double A, double B);

#endif
