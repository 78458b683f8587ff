/*
 * boost_core.c - the AdaBoost rounds, predictions and C export shared by
 * adaboost.c and boosting.c (see boost_internal.h).
 *
 * SAMME's round: the weighted error e of the member's argmax labels gives
 * it the weight alpha = learning_rate * (log((1 - e) / e) + log(K - 1)),
 * and misclassified rows have their weights multiplied by exp(alpha).
 * AdaBoost.R2's round: the loss of each row (linear, square or exponential
 * in |error| / max |error|) gives the average loss L, beta = L / (1 - L),
 * the member weight learning_rate * log(1 / beta), and weights are
 * multiplied by beta^((1 - loss) * learning_rate).  Both stop as
 * scikit-learn does: on a perfect member (kept with weight 1), or on one
 * no better than chance (SAMME: e >= 1 - 1/K; R2: L >= 0.5; dropped, but a
 * lone first R2 member is kept with weight 0).  Weights are floored at
 * DBL_EPSILON before every round (rows of weight 0 stay at 0) and
 * normalised after it.  Probabilities are the softmax of the weighted votes
 * divided by K - 1 (two classes: the vote difference halved); regression
 * predicts the weighted median of the members.
 */
#include "boost_internal.h"

#include "aml.h"
#include "subfit_internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- fitting ------------------------------------------------------------ */

int aml_boost_init(aml_boost *s, const double *w)
{
    size_t i, n = s->n;
    double sum = 0;

    s->sw = aml_mallocarray(n, sizeof(double));
    s->cum = aml_mallocarray(n, sizeof(double));
    s->pred = aml_mallocarray(n * s->n_out, sizeof(double));
    s->err = aml_mallocarray(n, sizeof(double));
    s->zero = aml_mallocarray(n, 1);
    if (!s->sw || !s->cum || !s->pred || !s->err || !s->zero)
        return AML_ENOMEM;
    for (i = 0; i < n; i++)
        sum += w ? w[i] : 1.0;
    for (i = 0; i < n; i++) {
        s->sw[i] = (w ? w[i] : 1.0) / sum;
        s->zero[i] = s->sw[i] == 0;
    }
    return AML_OK;
}

void aml_boost_dispose(aml_boost *s)
{
    free(s->sw);
    free(s->cum);
    free(s->pred);
    free(s->err);
    free(s->zero);
    s->sw = s->cum = s->pred = s->err = NULL;
    s->zero = NULL;
}

void aml_boost_draw(aml_boost *s, aml_rng *rng, double *counts)
{
    size_t i, n = s->n;
    double acc = 0;

    for (i = 0; i < n; i++) {
        acc += s->sw[i];
        s->cum[i] = acc;
        counts[i] = 0;
    }
    for (i = 0; i < n; i++) {
        double u = aml_rng_uniform(rng) * acc;
        size_t lo = 0, hi = n - 1;

        /* The first row whose cumulative weight exceeds u: never one of weight 0. */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;

            if (s->cum[mid] > u)
                hi = mid;
            else
                lo = mid + 1;
        }
        counts[lo] += 1.0;
    }
}

/*
 * One SAMME round on the member just grown: returns 1 to go on, 0 to stop
 * (keeping the member with *alpha), -1 to stop dropping it.
 */
static int boost_samme_round(aml_boost *s, int last, double *alpha)
{
    size_t i, n = s->n, C = s->n_out;
    double wrong = 0, total = 0, e;

    for (i = 0; i < n; i++) {
        s->err[i] = (double)aml_subfit_argmax(s->pred + i * C, C) != s->y[i];
        wrong += s->sw[i] * s->err[i];
        total += s->sw[i];
    }
    e = wrong / total;
    if (e <= 0) {
        *alpha = 1.0;
        return 0;
    }
    if (e >= 1.0 - 1.0 / (double)C)
        return -1;
    *alpha = s->learning_rate * (log((1.0 - e) / e) + log((double)C - 1.0));
    for (i = 0; i < n && !last; i++)
        if (s->sw[i] > 0)
            s->sw[i] = exp(log(s->sw[i]) + *alpha * s->err[i]);
    return 1;
}

/* R2's per-row loss in [0, 1] and the weighted average loss. */
static double boost_r2_loss(aml_boost *s)
{
    size_t i, n = s->n;
    double emax = 0, L = 0;

    for (i = 0; i < n; i++) {
        s->err[i] = fabs(s->pred[i] - s->y[i]);
        if (s->sw[i] > 0 && s->err[i] > emax)
            emax = s->err[i];
    }
    for (i = 0; i < n; i++) {
        double e = emax != 0 ? s->err[i] / emax : s->err[i];

        if (s->loss == AML_BOOST_SQUARE)
            e = e * e;
        else if (s->loss == AML_BOOST_EXPONENTIAL)
            e = 1.0 - exp(-e);
        s->err[i] = e;
        if (s->sw[i] > 0)
            L += s->sw[i] * e;
    }
    return L;
}

/* One AdaBoost.R2 round; same returns as boost_samme_round. */
static int boost_r2_round(aml_boost *s, int last, double *alpha)
{
    size_t i, n = s->n;
    double L = boost_r2_loss(s), beta, lr = s->learning_rate;

    if (L <= 0) {
        *alpha = 1.0;
        return 0;
    }
    if (L >= 0.5)
        return -1;
    beta = L / (1.0 - L);
    *alpha = lr * log(1.0 / beta);
    for (i = 0; i < n && !last; i++)
        if (s->sw[i] > 0)
            s->sw[i] *= pow(beta, (1.0 - s->err[i]) * lr);
    return 1;
}

/* Floors the weights at DBL_EPSILON, except rows that were 0 from the start. */
static void boost_clip(aml_boost *s)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        s->sw[i] = s->zero[i] ? 0.0 : (s->sw[i] < DBL_EPSILON ? DBL_EPSILON : s->sw[i]);
}

/* Normalises the weights; returns 0 when boosting must stop. */
static int boost_normalise(aml_boost *s, int last)
{
    size_t i, n = s->n;
    double sum = 0;

    for (i = 0; i < n; i++)
        sum += s->sw[i];
    if (!isfinite(sum) || sum <= 0)
        return 0;
    for (i = 0; i < n && !last; i++)
        s->sw[i] /= sum;
    return 1;
}

int aml_boost_loop(aml_boost *s, size_t n_rounds, aml_boost_grow_fn grow,
                   aml_boost_drop_fn drop, void *ctx, const char *who, const char *what,
                   double *weights, size_t *n_members)
{
    int clf = s->task == AML_TASK_CLASSIFICATION;
    size_t t;
    int rc, go = 1;

    *n_members = 0;
    for (t = 0; t < n_rounds && go; t++) {
        int last = t == n_rounds - 1;
        double alpha = 0;

        boost_clip(s);
        if ((rc = aml_deadline_check()) < 0) /* a trial timeout: stop between rounds */
            return rc;
        rc = grow(ctx, t);
        *n_members = t + 1; /* disposed by the caller even when half-made */
        if (rc < 0)
            return rc;
        go = clf ? boost_samme_round(s, last, &alpha) : boost_r2_round(s, last, &alpha);
        if (go < 0) {
            /* No better than chance: dropped (R2 keeps a lone first member). */
            if (clf || t > 0) {
                drop(ctx, t);
                *n_members = t;
            }
            break;
        }
        weights[t] = alpha;
        if (go)
            go = boost_normalise(s, last);
    }
    if (*n_members == 0)
        return aml_error_set(AML_EINVAL,
                             "%s: the first %s is no better than chance; the ensemble "
                             "cannot be fitted",
                             who, what);
    return AML_OK;
}

/* ---- predict ------------------------------------------------------------ */

/* SAMME probabilities from the weighted votes in out (rows x C), in place. */
static void boost_votes_to_proba(const double *weights, size_t T, size_t C, double *out,
                                 size_t rows)
{
    size_t i, c, t;
    double total = 0;

    for (t = 0; t < T; t++)
        total += weights[t];
    for (i = 0; i < rows; i++) {
        double *v = out + i * C, m, s = 0;

        for (c = 0; c < C; c++)
            v[c] /= total;
        if (C == 2) {
            double d = v[1] - v[0];

            v[0] = -d / 2;
            v[1] = d / 2;
        } else {
            for (c = 0; c < C; c++)
                v[c] /= (double)C - 1;
        }
        m = v[aml_subfit_argmax(v, C)];
        for (c = 0; c < C; c++)
            s += (v[c] = exp(v[c] - m));
        for (c = 0; c < C; c++)
            v[c] /= s;
    }
}

static int boost_predict_samme(aml_boost_member_fn member, const void *ctx,
                               const double *weights, size_t T, size_t C,
                               const aml_matrix *X, double *out)
{
    size_t i, t;
    double *p = aml_mallocarray(X->rows * C + 1, sizeof(double));
    int rc = AML_OK;

    if (!p)
        return AML_ENOMEM;
    memset(out, 0, X->rows * C * sizeof(double));
    for (t = 0; t < T && rc == AML_OK; t++) {
        rc = member(ctx, t, X, p);
        for (i = 0; i < X->rows && rc == AML_OK; i++)
            out[i * C + aml_subfit_argmax(p + i * C, C)] += weights[t];
    }
    free(p);
    if (rc == AML_OK)
        boost_votes_to_proba(weights, T, C, out, X->rows);
    return rc;
}

/* The weighted median of v[0..T) with weights w (scikit-learn's rule). */
static double boost_weighted_median(const double *v, const double *w, size_t *order,
                                    size_t T)
{
    size_t i, j;
    double total = 0, acc = 0;

    for (i = 0; i < T; i++)
        order[i] = i;
    for (i = 1; i < T; i++) { /* insertion sort: T is small */
        size_t k = order[i];

        for (j = i; j > 0 && v[order[j - 1]] > v[k]; j--)
            order[j] = order[j - 1];
        order[j] = k;
    }
    for (i = 0; i < T; i++)
        total += w[order[i]];
    for (i = 0; i < T; i++) {
        acc += w[order[i]];
        if (acc >= 0.5 * total)
            return v[order[i]];
    }
    return v[order[T - 1]];
}

static int boost_predict_r2(aml_boost_member_fn member, const void *ctx,
                            const double *weights, size_t T, const aml_matrix *X,
                            double *out)
{
    size_t i, t;
    double *p = aml_mallocarray(X->rows * T + 1, sizeof(double));
    double *col = aml_mallocarray(X->rows + 1, sizeof(double));
    size_t *order = aml_mallocarray(T, sizeof(size_t));
    int rc = AML_ENOMEM;

    if (!p || !col || !order)
        goto out;
    for (t = 0; t < T; t++) {
        if ((rc = member(ctx, t, X, col)) < 0)
            goto out;
        for (i = 0; i < X->rows; i++)
            p[i * T + t] = col[i];
    }
    for (i = 0; i < X->rows; i++)
        out[i] = boost_weighted_median(p + i * T, weights, order, T);
    rc = AML_OK;
out:
    free(p);
    free(col);
    free(order);
    return rc;
}

int aml_boost_predict(aml_task task, aml_boost_member_fn member, const void *ctx,
                      const double *weights, size_t T, int n_out, const aml_matrix *X,
                      double *out)
{
    if (task == AML_TASK_CLASSIFICATION)
        return boost_predict_samme(member, ctx, weights, T, (size_t)n_out, X, out);
    return boost_predict_r2(member, ctx, weights, T, X, out);
}

int aml_boost_weights_ok(aml_task task, const double *weights, size_t T)
{
    double total = 0;
    size_t t;

    for (t = 0; t < T; t++) {
        if (!(weights[t] >= 0 && isfinite(weights[t])))
            return 0;
        total += weights[t];
    }
    return task == AML_TASK_REGRESSION || total > 0;
}

/* ---- C export ----------------------------------------------------------- */

/* SAMME: the weighted votes of the members, then predict's softmax. */
static int boost_emit_samme(aml_cgen *g, const char *fn, const char *who,
                            const char *what, int n_out, double total, size_t T,
                            const char *w, const char *decl, const char *get)
{
    return aml_cgen_printf(
        g,
        "/* %s (SAMME): %zu %s. */\n"
        "static void %s(const double *x, double *out)\n{\n"
        "    const size_t C = %d;\n"
        "    size_t t, c, best;\n    double m, s = 0;\n%s\n"
        "    for (c = 0; c < C; c++)\n        out[c] = 0;\n"
        "    for (t = 0; t < %zu; t++) {\n"
        "        const double *p = %s;\n\n"
        "        for (best = 0, c = 1; c < C; c++)\n"
        "            if (p[c] > p[best])\n                best = c;\n"
        "        out[best] += %s[t];\n    }\n"
        "    for (c = 0; c < C; c++)\n        out[c] /= %.17g;\n"
        "    if (C == 2) {\n"
        "        double d = out[1] - out[0];\n\n"
        "        out[0] = -d / 2;\n        out[1] = d / 2;\n"
        "    } else {\n"
        "        for (c = 0; c < C; c++)\n            out[c] /= (double)C - 1;\n    }\n"
        "    for (best = 0, c = 1; c < C; c++)\n"
        "        if (out[c] > out[best])\n            best = c;\n"
        "    m = out[best];\n"
        "    for (c = 0; c < C; c++)\n        s += (out[c] = exp(out[c] - m));\n"
        "    for (c = 0; c < C; c++)\n        out[c] /= s;\n}\n\n",
        who, T, what, fn, n_out, decl, T, get, w, total);
}

/* R2: the weighted median of the members' values. */
static int boost_emit_r2(aml_cgen *g, const char *fn, const char *who, const char *what,
                         size_t T, const char *w, const char *decl, const char *get)
{
    return aml_cgen_printf(
        g,
        "/* %s (R2): weighted median of %zu %s. */\n"
        "static void %s(const double *x, double *out)\n{\n"
        "    double v[%zu], total = 0, acc = 0;\n"
        "    size_t order[%zu], t, i, j, T = %zu;\n%s\n"
        "    for (t = 0; t < T; t++) {\n"
        "        v[t] = %s;\n        order[t] = t;\n    }\n"
        "    for (i = 1; i < T; i++) {\n"
        "        size_t k = order[i];\n\n"
        "        for (j = i; j > 0 && v[order[j - 1]] > v[k]; j--)\n"
        "            order[j] = order[j - 1];\n"
        "        order[j] = k;\n    }\n"
        "    for (i = 0; i < T; i++)\n        total += %s[order[i]];\n"
        "    for (i = 0; i < T; i++) {\n"
        "        acc += %s[order[i]];\n"
        "        if (acc >= 0.5 * total) {\n"
        "            out[0] = v[order[i]];\n            return;\n        }\n    }\n"
        "    out[0] = v[order[T - 1]];\n}\n\n",
        who, T, what, fn, T, T, T, decl, get, w, w);
}

int aml_boost_emit_c(aml_cgen *g, aml_task task, const char *fn, const char *who,
                     const char *what, int n_out, const double *weights, size_t T,
                     const char *w, const char *decl, const char *get)
{
    double total = 0;
    size_t t;

    if (task != AML_TASK_CLASSIFICATION)
        return boost_emit_r2(g, fn, who, what, T, w, decl, get);
    for (t = 0; t < T; t++)
        total += weights[t];
    return boost_emit_samme(g, fn, who, what, n_out, total, T, w, decl, get);
}
