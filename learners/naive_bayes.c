/*
 * naive_bayes.c - Gaussian naive Bayes for classification.
 *
 * The model of scikit-learn 1.2's GaussianNB (the classifier of Duda and
 * Hart, "Pattern Classification and Scene Analysis", 1973, ch. 2, with one
 * normal density per class and feature):
 *
 *     log P(c | x) = log prior_c - 1/2 sum_j [log(2 pi var_cj)
 *                    + (x_j - mu_cj)^2 / var_cj] - log Z(x)
 *
 * Means and variances are sample-weighted averages within each class
 * (two-pass, as numpy.average); priors are the classes' weight totals over
 * the grand total.  Every variance gets epsilon = var_smoothing times the
 * largest unweighted feature variance of X (numpy.var over all rows, as
 * scikit-learn), which keeps one-sample classes and constant features
 * finite.  Two extensions, both where scikit-learn would produce NaN: when
 * every feature of X is constant, epsilon is var_smoothing itself (as if
 * the largest variance were 1); a class without weight (absent from this
 * fit, or all its rows weigh 0) gets probability 0.
 *
 * Fit is two passes over the data, O(n p); predict is O(n p k), with each
 * class's log-variance term computed once per call.
 */
#include "aml.h"
#include "learner.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NB_TWO_PI 6.283185307179586476925286766559

static const aml_param_def nb_params[] = {
    {.name = "var_smoothing",
     .kind = AML_VAL_REAL,
     .lo = 0.0,
     .hi = INFINITY,
     .def = {.kind = AML_VAL_REAL, .real = 1e-9},
     .search_lo = 1e-11,
     .search_hi = 1e-1,
     .search_log = 1,
     .doc = "added to every variance, as a fraction of the largest feature variance"},
    {.name = NULL},
};

typedef struct nb {
    aml_learner base;
    double var_smoothing;
    int k;         /* classes */
    size_t p;      /* features */
    double *prior; /* k class priors (0 for a class without weight) */
    double *mu;    /* k x p means */
    double *var;   /* k x p smoothed variances */
} nb;

static int nb_create(aml_learner **out, const aml_learner_type *type, aml_task task)
{
    nb *m = aml_calloc(1, sizeof(*m));

    *out = NULL;
    if (!m)
        return AML_ENOMEM;
    m->base.type = type;
    m->base.task = task;
    m->var_smoothing = nb_params[0].def.real;
    *out = &m->base;
    return AML_OK;
}

static int nb_set_param(aml_learner *l, const char *name, const aml_value *v)
{
    nb *m = (nb *)l;

    if (strcmp(name, "var_smoothing") != 0)
        return aml_error_set(AML_EINVAL, "naive_bayes has no parameter '%s'", name);
    m->var_smoothing = v->real;
    return AML_OK;
}

static void nb_release(nb *m)
{
    free(m->prior);
    m->prior = m->mu = m->var = NULL;
}

static void nb_free(aml_learner *l)
{
    nb *m = (nb *)l;

    if (!m)
        return;
    nb_release(m);
    free(m);
}

/* One block holds prior, mu and var. */
static int nb_alloc(nb *m, int k, size_t p)
{
    size_t kp = (size_t)k * p;

    if (kp / (size_t)k != p ||
        !(m->prior = aml_mallocarray(2 * kp + (size_t)k, sizeof(double))))
        return AML_ENOMEM;
    m->mu = m->prior + k;
    m->var = m->mu + kp;
    m->k = k;
    m->p = p;
    return AML_OK;
}

static int nb_check(const aml_matrix *X, const double *y, const double *w, int k)
{
    size_t i;
    double sw = 0.0;

    for (i = 0; i < X->rows; i++) {
        if (!(y[i] >= 0.0 && y[i] < k && y[i] == floor(y[i])))
            return aml_error_set(AML_EINVAL,
                                 "naive_bayes: label %g of row %zu is not a class"
                                 " index below %d",
                                 y[i], i, k);
        if (w && !(w[i] >= 0.0 && isfinite(w[i])))
            return aml_error_set(AML_EINVAL, "naive_bayes: sample weight %zu is %g", i,
                                 w[i]);
        sw += w ? w[i] : 1.0;
    }
    if (!(sw > 0.0))
        return aml_error_set(AML_EINVAL, "naive_bayes: sample weights sum to zero");
    return AML_OK;
}

/* The largest unweighted column variance of X (two-pass, as numpy.var). */
static double nb_max_variance(const aml_matrix *X, double *tmp)
{
    size_t i, j, n = X->rows, p = X->cols;
    double best = 0.0;

    memset(tmp, 0, p * sizeof(double));
    for (i = 0; i < n; i++)
        for (j = 0; j < p; j++)
            tmp[j] += X->data[i * p + j];
    for (j = 0; j < p; j++) {
        double mean = tmp[j] / (double)n, s = 0.0;

        for (i = 0; i < n; i++) {
            double d = X->data[i * p + j] - mean;

            s += d * d;
        }
        best = fmax(best, s / (double)n);
    }
    return best;
}

/* Weighted class means (first pass) and variances (second pass). */
static void nb_moments(nb *m, const aml_matrix *X, const double *y, const double *w)
{
    size_t i, j, p = m->p, kp = (size_t)m->k * p;

    memset(m->prior, 0, (2 * kp + (size_t)m->k) * sizeof(double));
    for (i = 0; i < X->rows; i++) {
        size_t c = (size_t)y[i];
        double wi = w ? w[i] : 1.0;

        m->prior[c] += wi;
        for (j = 0; j < p; j++)
            m->mu[c * p + j] += wi * X->data[i * p + j];
    }
    for (i = 0; i < kp; i++)
        if (m->prior[i / p] > 0.0)
            m->mu[i] /= m->prior[i / p];
    for (i = 0; i < X->rows; i++) {
        size_t c = (size_t)y[i];
        double wi = w ? w[i] : 1.0;

        for (j = 0; j < p; j++) {
            double d = X->data[i * p + j] - m->mu[c * p + j];

            m->var[c * p + j] += wi * d * d;
        }
    }
    for (i = 0; i < kp; i++)
        if (m->prior[i / p] > 0.0)
            m->var[i] /= m->prior[i / p];
}

static int nb_fit(aml_learner *l, const aml_matrix *X, const double *y, const double *w,
                  int n_classes, aml_rng *rng, int threads)
{
    nb *m = (nb *)l;
    size_t i, p = X->cols, kp;
    double eps, total = 0.0, *tmp;
    int rc, c;

    if ((rc = nb_check(X, y, w, n_classes)) < 0)
        return rc;
    nb_release(m);
    if ((rc = nb_alloc(m, n_classes, p)) < 0)
        return rc;
    if (!(tmp = aml_mallocarray(p ? p : 1, sizeof(double))))
        return AML_ENOMEM;
    eps = nb_max_variance(X, tmp);
    free(tmp);
    eps = m->var_smoothing * (eps > 0.0 ? eps : 1.0);
    nb_moments(m, X, y, w);
    kp = (size_t)n_classes * p;
    for (i = 0; i < kp; i++)
        m->var[i] += eps;
    for (c = 0; c < n_classes; c++)
        total += m->prior[c];
    for (c = 0; c < n_classes; c++)
        m->prior[c] /= total;
    l->n_classes = n_classes;
    l->n_features = p;
    return AML_OK;
}

/* The class's x-independent part: log prior - 1/2 sum_j log(2 pi var_cj). */
static double nb_class_const(const nb *m, int c)
{
    const double *var = m->var + (size_t)c * m->p;
    double s = 0.0;
    size_t j;

    for (j = 0; j < m->p; j++)
        s += log(NB_TWO_PI * var[j]);
    return log(m->prior[c]) - 0.5 * s;
}

/* Joint log-likelihood of x under class c, given the class's constant. */
static double nb_jll(const nb *m, int c, double konst, const double *x)
{
    const double *mu = m->mu + (size_t)c * m->p, *var = m->var + (size_t)c * m->p;
    double q = 0.0;
    size_t j;

    for (j = 0; j < m->p; j++) {
        double d = x[j] - mu[j];

        q += d * d / var[j];
    }
    return konst - 0.5 * q;
}

static int nb_predict(const aml_learner *l, const aml_matrix *X, double *out)
{
    const nb *m = (const nb *)l;
    size_t i;
    int c, k = m->k;
    double *konst;

    if (!m->prior)
        return aml_error_set(AML_EINVAL, "naive_bayes: predict before fit");
    if (X->cols != m->p)
        return aml_error_set(AML_EINVAL, "naive_bayes: fitted on %zu features, got %zu",
                             m->p, X->cols);
    if (!(konst = aml_mallocarray((size_t)k, sizeof(double))))
        return AML_ENOMEM;
    for (c = 0; c < k; c++)
        konst[c] = m->prior[c] > 0.0 ? nb_class_const(m, c) : -INFINITY;
    for (i = 0; i < X->rows; i++) {
        double *o = out + i * (size_t)k, mx = -INFINITY, sum = 0.0;

        for (c = 0; c < k; c++) {
            o[c] = m->prior[c] > 0.0 ? nb_jll(m, c, konst[c], X->data + i * m->p)
                                     : -INFINITY;
            mx = fmax(mx, o[c]);
        }
        for (c = 0; c < k; c++)
            sum += (o[c] = exp(o[c] - mx));
        for (c = 0; c < k; c++)
            o[c] /= sum;
    }
    free(konst);
    return AML_OK;
}

/*
 * C export, bit for bit: each class's constant is computed here exactly as
 * predict computes it, and the row's part with the same operations.
 */
static int nb_emit_c(const aml_learner *l, aml_cgen *g, const char *fn)
{
    const nb *m = (const nb *)l;
    char mu[64], var[64], kn[64];
    double *konst;
    int c, rc;

    if (!m->prior)
        return aml_error_set(AML_EINVAL, "naive_bayes: export before fit");
    if (!(konst = aml_mallocarray((size_t)m->k, sizeof(double))))
        return AML_ENOMEM;
    for (c = 0; c < m->k; c++)
        konst[c] = m->prior[c] > 0.0 ? nb_class_const(m, c) : -INFINITY;
    aml_cgen_name(g, "nb_mu", mu, sizeof(mu));
    aml_cgen_name(g, "nb_var", var, sizeof(var));
    aml_cgen_name(g, "nb_const", kn, sizeof(kn));
    aml_cgen_doubles(g, mu, m->mu, (size_t)m->k * m->p);
    aml_cgen_doubles(g, var, m->var, (size_t)m->k * m->p);
    aml_cgen_doubles(g, kn, konst, (size_t)m->k);
    free(konst);
    /* A class without weight has constant -inf and keeps jll -inf. */
    rc = aml_cgen_printf(
        g,
        "/* naive_bayes: %d classes over %zu features. */\n"
        "static void %s(const double *x, double *out)\n{\n"
        "    double mx = -INFINITY, sum = 0.0;\n    size_t j;\n    int c;\n\n"
        "    for (c = 0; c < %d; c++) {\n"
        "        const double *mu = %s + (size_t)c * %zu, *var = %s + (size_t)c * %zu;\n"
        "        double q = 0.0;\n\n"
        "        if (%s[c] == -INFINITY) {\n"
        "            out[c] = -INFINITY;\n"
        "        } else {\n"
        "            for (j = 0; j < %zu; j++) {\n"
        "                double d = x[j] - mu[j];\n\n"
        "                q += d * d / var[j];\n            }\n"
        "            out[c] = %s[c] - 0.5 * q;\n        }\n"
        "        mx = fmax(mx, out[c]);\n    }\n"
        "    for (c = 0; c < %d; c++)\n"
        "        sum += (out[c] = exp(out[c] - mx));\n"
        "    for (c = 0; c < %d; c++)\n"
        "        out[c] /= sum;\n}\n\n",
        m->k, m->p, fn, m->k, mu, m->p, var, m->p, kn, m->p, kn, m->k, m->k);
    return rc;
}

/* Layout: var_smoothing, u32 k, u64 p, then k priors, k p means, k p variances. */
static int nb_save(const aml_learner *l, aml_writer *w)
{
    const nb *m = (const nb *)l;
    size_t kp = (size_t)m->k * m->p;

    if (!m->prior)
        return aml_error_set(AML_EINVAL, "naive_bayes: save before fit");
    aml_put_f64(w, m->var_smoothing);
    aml_put_u32(w, (uint32_t)m->k);
    aml_put_u64(w, (uint64_t)m->p);
    aml_put_f64s(w, m->prior, 2 * kp + (size_t)m->k);
    return w->failed ? AML_ENOMEM : AML_OK;
}

static int nb_load_state(aml_learner *l, aml_reader *r)
{
    nb *m = (nb *)l;
    uint32_t k;
    uint64_t p;
    size_t i, kp;
    int rc;

    if ((rc = aml_get_f64(r, &m->var_smoothing)) < 0 || (rc = aml_get_u32(r, &k)) < 0 ||
        (rc = aml_get_u64(r, &p)) < 0)
        return rc;
    if (k < 1 || k > 1u << 20 || p > 1u << 30)
        return aml_error_set(AML_EFORMAT, "corrupt naive_bayes state in model");
    kp = (size_t)k * (size_t)p;
    if ((rc = aml_reader_need(r, 2 * kp + k, sizeof(double))) < 0 ||
        (rc = nb_alloc(m, (int)k, (size_t)p)) < 0 ||
        (rc = aml_get_f64s(r, m->prior, 2 * kp + k)) < 0)
        return rc;
    for (i = 0; i < kp; i++)
        if (!(m->var[i] > 0.0) || !isfinite(m->mu[i]))
            return aml_error_set(AML_EFORMAT, "corrupt naive_bayes state in model");
    m->base.n_classes = (int)k;
    m->base.n_features = (size_t)p;
    return AML_OK;
}

static int nb_load(aml_learner **out, const aml_learner_type *type, aml_task task,
                   aml_reader *r)
{
    return aml_learner_load_with(out, type, task, r, nb_load_state);
}

const aml_learner_type aml_learner_naive_bayes = {
    .name = "naive_bayes",
    .tasks = AML_TASK_BIT(AML_TASK_CLASSIFICATION),
    .flags = 0,
    .params = nb_params,
    .create = nb_create,
    .set_param = nb_set_param,
    .fit = nb_fit,
    .predict = nb_predict,
    .emit_c = nb_emit_c,
    .save = nb_save,
    .load = nb_load,
    .free = nb_free,
};
