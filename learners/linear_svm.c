/*
 * linear_svm.c - linear support vector classification by dual coordinate
 * descent (Hsieh, Chang, Lin, Keerthi and Sundararajan, "A dual coordinate
 * descent method for large-scale linear SVM", ICML 2008), with Platt's
 * sigmoid for probabilities.
 *
 * The model is scikit-learn 1.2's LinearSVC(penalty='l2', dual=True), which
 * runs liblinear:
 *
 *     minimise  1/2 ||w||^2 + C sum_i w_i loss(y_i (w.x_i + b)),  y_i = +-1
 *
 * with loss max(0, 1 - m) (hinge) or max(0, 1 - m)^2 (squared_hinge, the
 * default).  As in liblinear, the intercept is the weight of an extra
 * feature fixed at 1 (intercept_scaling 1), so b IS penalised: b^2 is part
 * of ||w||^2.  A sample weight w_i multiplies C for that row, as in
 * scikit-learn; rows of weight zero are left out.  Two classes fit one
 * vector (positive = class 1); more classes fit one-vs-rest vectors.
 *
 * The dual solver is the paper's Algorithm 3 with its shrinking of bound
 * variables: each outer iteration visits the active rows in a random order
 * drawn from this fit's generator (a fixed stream when none is given, so a
 * fit is a function of its inputs), and the run stops when the spread of
 * projected gradients max PG - min PG over all rows is <= tol (liblinear's
 * rule; scikit-learn passes its tol, 1e-4 by default), or after max_iter
 * outer iterations (the model is then kept, as scikit-learn does).
 *
 * Probabilities: the learner interface wants class probabilities, which an
 * SVM does not give.  We fit Platt's sigmoid s(f) = 1 / (1 + exp(A f + B))
 * to decision values f of the training rows (J. Platt, "Probabilistic
 * outputs for support vector machines", 1999), with Platt's regularised
 * targets (N+ + 1)/(N+ + 2) and 1/(N- + 2), weighted by the sample weights,
 * minimised by the Newton method with backtracking of Lin, Lin and Weng, "A
 * note on Platt's probabilistic outputs for support vector machines",
 * Machine Learning 68, 2007.  Then P(c | x) = s(f_c) / sum_c' s(f_c').
 *
 * One sigmoid is shared by all classes, fitted on every (row, class) pair:
 * f_c with target "row is of class c".  A sigmoid per class (the obvious
 * reading of Platt for one-vs-rest) can reorder two classes whose decision
 * values are close, so the label (argmax of the probabilities) would then
 * differ from LinearSVC.predict (argmax of the raw decision values).  A
 * shared, decreasing-in-z sigmoid is monotone in f, so the argmax of the
 * calibrated probabilities IS the argmax of the decision values.  Two
 * classes are treated as the pair of decision values (-f, f), which makes
 * the label sign(f), as LinearSVC's.  Should the fit find A >= 0 (decision
 * values anti-correlated with the labels on the training data, which only
 * a degenerate fit gives), A is reset to -1e-12 so the order still holds.
 * The sigmoid is fitted on the training data itself (no held-out split),
 * so it is somewhat overconfident, as Platt warns.
 */
#include "aml.h"
#include "learner.h"
#include "platt_internal.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SVM_DEFAULT_STREAM 0x5356u /* generator stream used when fit gets none */

typedef enum svm_loss { SVM_HINGE = 0, SVM_SQUARED_HINGE = 1 } svm_loss;

typedef struct linsvm {
    aml_learner base;
    double C, tol;
    long long max_iter;
    int loss;    /* svm_loss */
    int k;       /* weight vectors: 1 for two classes, n_classes otherwise */
    double *W;   /* k x (p + 1): weights then the bias weight; NULL before fit */
    double A, B; /* the shared Platt sigmoid */
} linsvm;

static const char *const svm_losses[] = {"hinge", "squared_hinge", NULL};

static const aml_param_def svm_params[] = {
    {.name = "C",
     .kind = AML_VAL_REAL,
     .lo = 0.0,
     .hi = INFINITY,
     .lo_open = 1,
     .def = {.kind = AML_VAL_REAL, .real = 1.0},
     .search_lo = 1e-3,
     .search_hi = 1e3,
     .search_log = 1,
     .doc = "inverse penalty strength: larger C fits the training data harder"},
    {.name = "loss",
     .kind = AML_VAL_STR,
     .choices = svm_losses,
     .def = {.kind = AML_VAL_STR, .str = "squared_hinge"},
     .doc = "hinge max(0, 1 - m) or squared_hinge max(0, 1 - m)^2 (liblinear L1/L2)"},
    {.name = "max_iter",
     .kind = AML_VAL_INT,
     .lo = 1.0,
     .hi = INFINITY,
     .def = {.kind = AML_VAL_INT, .i = 1000},
     .search_lo = 1000,
     .search_hi = 1000,
     .doc = "limit on dual coordinate descent passes; the model is kept if reached"},
    {.name = "tol",
     .kind = AML_VAL_REAL,
     .lo = 0.0,
     .hi = INFINITY,
     .lo_open = 1,
     .def = {.kind = AML_VAL_REAL, .real = 1e-4},
     .search_lo = 1e-4,
     .search_hi = 1e-4,
     .search_log = 1,
     .doc = "stop when max - min projected dual gradient is below this (liblinear)"},
    {.name = NULL},
};

static int svm_create(aml_learner **out, const aml_learner_type *type, aml_task task)
{
    linsvm *m = aml_calloc(1, sizeof(*m));

    *out = NULL;
    if (!m)
        return AML_ENOMEM;
    m->base.type = type;
    m->base.task = task;
    m->C = 1.0;
    m->loss = SVM_SQUARED_HINGE;
    m->max_iter = 1000;
    m->tol = 1e-4;
    *out = &m->base;
    return AML_OK;
}

static int svm_set_param(aml_learner *l, const char *name, const aml_value *v)
{
    linsvm *m = (linsvm *)l;

    if (strcmp(name, "C") == 0)
        m->C = v->real;
    else if (strcmp(name, "loss") == 0)
        m->loss = strcmp(v->str, "hinge") == 0 ? SVM_HINGE : SVM_SQUARED_HINGE;
    else if (strcmp(name, "max_iter") == 0)
        m->max_iter = v->i;
    else if (strcmp(name, "tol") == 0)
        m->tol = v->real;
    else
        return aml_error_set(AML_EINVAL, "linear_svm has no parameter '%s'", name);
    return AML_OK;
}

/* ------------------------------------------------------------------------
 * Dual coordinate descent (Hsieh et al. 2008, Algorithm 3)
 */

/* Per-row solver state, kept together: rows are visited in random order,
 * so each visit should touch one cache line, not one line per array. */
typedef struct dcd_row {
    double alpha;    /* dual variable */
    double qd;       /* Q_ii = |x_i|^2 + 1 + diag */
    double diag;     /* 0 (hinge) or 1/(2 C_i) */
    double upper;    /* C_i (hinge) or infinity */
    double sy;       /* +-1 label of the current binary problem */
    size_t beg, end; /* the row's entries in the compressed form */
} dcd_row;

/* One stored non-zero, column and value together (liblinear's feature_node). */
typedef struct dcd_entry {
    int32_t col;
    double val;
} dcd_entry;

typedef struct dcd {
    const aml_matrix *X;
    dcd_row *row;
    size_t *index; /* rows of positive weight; the first `active` are active */
    size_t n_rows; /* rows in index */
    /* Compressed rows when X is mostly zeros, as one-hot encoded data are;
     * NULL to use the dense rows. */
    dcd_entry *ent;
} dcd;

/* w.x_i with the bias feature; w has p + 1 entries. */
static double dcd_dot(const dcd *s, const double *w, size_t i)
{
    size_t p = s->X->cols, j;
    const dcd_row *r = s->row + i;
    double v = 0.0;

    if (!s->ent)
        return (p ? cblas_ddot((int)p, aml_matrix_row(s->X, i), 1, w, 1) : 0.0) + w[p];
    for (j = r->beg; j < r->end; j++)
        v += s->ent[j].val * w[s->ent[j].col];
    return v + w[p];
}

/* w += d x_i (the bias feature too). */
static void dcd_axpy(const dcd *s, double d, size_t i, double *w)
{
    size_t p = s->X->cols, j;
    const dcd_row *r = s->row + i;

    if (!s->ent) {
        if (p)
            cblas_daxpy((int)p, d, aml_matrix_row(s->X, i), 1, w, 1);
    } else {
        for (j = r->beg; j < r->end; j++)
            w[s->ent[j].col] += d * s->ent[j].val;
    }
    w[p] += d;
}

/*
 * Builds the compressed rows when at most half the entries are non-zero
 * (then they cost less than the dense rows); leaves ent NULL otherwise.
 */
static int dcd_compress(dcd *s)
{
    const aml_matrix *X = s->X;
    size_t i, j, n = X->rows, p = X->cols, nnz = 0;

    for (i = 0; i < n * p; i++)
        nnz += X->data[i] != 0.0;
    if (nnz > n * p / 2)
        return AML_OK;
    if (!(s->ent = aml_mallocarray(nnz ? nnz : 1, sizeof(dcd_entry))))
        return AML_ENOMEM;
    for (i = 0, nnz = 0; i < n; i++) {
        const double *xi = aml_matrix_row(X, i);

        s->row[i].beg = nnz;
        for (j = 0; j < p; j++)
            if (xi[j] != 0.0)
                s->ent[nnz].col = (int32_t)j, s->ent[nnz++].val = xi[j];
        s->row[i].end = nnz;
    }
    return AML_OK;
}

/* Moves one coordinate; returns its projected gradient, or NAN when shrunk. */
static double dcd_update(dcd *s, double *w, size_t i, double pgmax, double pgmin)
{
    dcd_row *r = s->row + i;
    double g = r->sy * dcd_dot(s, w, i) - 1.0 + r->alpha * r->diag;
    double pg = 0.0, old = r->alpha, a;

    if (old == 0.0) {
        if (g > pgmax)
            return NAN;
        if (g < 0.0)
            pg = g;
    } else if (old == r->upper) {
        if (g < pgmin)
            return NAN;
        if (g > 0.0)
            pg = g;
    } else {
        pg = g;
    }
    if (fabs(pg) > 1e-12) {
        a = old - g / r->qd;
        a = a < 0.0 ? 0.0 : a > r->upper ? r->upper : a;
        r->alpha = a;
        dcd_axpy(s, (a - old) * r->sy, i, w);
    }
    return pg;
}

/* Solves one binary problem into w (p + 1); returns outer iterations used. */
static long long dcd_solve(dcd *s, double *w, long long max_iter, double tol,
                           aml_rng *rng)
{
    double pgmax_old = INFINITY, pgmin_old = -INFINITY;
    size_t active = s->n_rows, j;
    long long it;

    memset(w, 0, (s->X->cols + 1) * sizeof(double));
    for (j = 0; j < s->X->rows; j++)
        s->row[j].alpha = 0.0;
    for (it = 0; it < max_iter; it++) {
        double pgmax = -INFINITY, pgmin = INFINITY;

        if (aml_deadline_check() < 0)
            return -1; /* the caller reports the time limit */
        for (j = 0; j + 1 < active; j++) {
            size_t r = j + (size_t)aml_rng_below(rng, active - j), t = s->index[j];

            s->index[j] = s->index[r], s->index[r] = t;
        }
        for (j = 0; j < active; j++) {
            double pg = dcd_update(s, w, s->index[j], pgmax_old, pgmin_old);

            if (isnan(pg)) { /* shrink: swap the row out of the active set */
                size_t t = s->index[j];

                s->index[j--] = s->index[--active], s->index[active] = t;
                continue;
            }
            pgmax = pg > pgmax ? pg : pgmax;
            pgmin = pg < pgmin ? pg : pgmin;
        }
        if (pgmax - pgmin <= tol) {
            if (active == s->n_rows)
                return it + 1;
            active = s->n_rows; /* check once more without shrinking */
            pgmax_old = INFINITY, pgmin_old = -INFINITY;
            continue;
        }
        pgmax_old = pgmax <= 0.0 ? INFINITY : pgmax;
        pgmin_old = pgmin >= 0.0 ? -INFINITY : pgmin;
    }
    return max_iter;
}

/* ------------------------------------------------------------------------
 * The learner
 */

/* Labels must be class indices and weights non-negative with a positive sum. */
static int svm_check(size_t n, const double *y, const double *w, int n_classes)
{
    size_t i;
    double sw = 0.0;

    for (i = 0; i < n; i++) {
        if (!(y[i] >= 0.0 && y[i] < n_classes && y[i] == floor(y[i])))
            return aml_error_set(AML_EINVAL,
                                 "linear_svm: label %g of row %zu is not a class index "
                                 "below %d",
                                 y[i], i, n_classes);
        if (w && (!(w[i] >= 0.0) || !isfinite(w[i])))
            return aml_error_set(AML_EINVAL, "linear_svm: sample weight %zu is %g", i,
                                 w[i]);
        sw += w ? w[i] : 1.0;
    }
    if (!(sw > 0.0))
        return aml_error_set(AML_EINVAL, "linear_svm: sample weights sum to zero");
    return AML_OK;
}

/* Row-independent solver state: Q_ii, bounds and the index of weighted rows. */
static void svm_setup(const linsvm *m, const aml_matrix *X, const double *w, dcd *s)
{
    size_t i, p = X->cols;

    s->n_rows = 0;
    for (i = 0; i < X->rows; i++) {
        const double *xi = aml_matrix_row(X, i);
        double ci = m->C * (w ? w[i] : 1.0);

        if (!(ci > 0.0))
            continue;
        s->row[i].diag = m->loss == SVM_HINGE ? 0.0 : 0.5 / ci;
        s->row[i].upper = m->loss == SVM_HINGE ? ci : INFINITY;
        s->row[i].qd =
            (p ? cblas_ddot((int)p, xi, 1, xi, 1) : 0.0) + 1.0 + s->row[i].diag;
        s->index[s->n_rows++] = i;
    }
}

/* Solves vector c: class c against the rest, or class 1 against 0 when k = 1. */
static int svm_fit_one(linsvm *m, dcd *s, const double *y, int c, aml_rng *rng)
{
    size_t i, n = s->X->rows, p = s->X->cols;
    int cls = m->k == 1 ? 1 : c;

    for (i = 0; i < n; i++)
        s->row[i].sy = (int)y[i] == cls ? 1.0 : -1.0;
    if (dcd_solve(s, m->W + (size_t)c * (p + 1), m->max_iter, m->tol, rng) < 0)
        return aml_error_set(AML_ETIMEOUT,
                             "linear_svm: stopped at the trial's time limit");
    return AML_OK;
}

static void svm_decision(const linsvm *m, const aml_matrix *X, double *out);

/* The shared sigmoid on all (row, class) pairs; kk = 2 pairs per row for k = 1. */
static int svm_fit_platt(linsvm *m, const aml_matrix *X, const double *y, const double *w)
{
    size_t i, n = X->rows;
    int c, kk = m->k == 1 ? 2 : m->k;
    double *f = aml_mallocarray(n ? n : 1, 2 * (size_t)kk * sizeof(double)), *t;
    aml_platt_data pd;

    if (!f)
        return AML_ENOMEM;
    t = f + n * (size_t)kk;
    svm_decision(m, X, f);
    for (i = n; m->k == 1 && i-- > 0;) /* (-f, f), walking down as in predict */
        f[2 * i + 1] = f[i], f[2 * i] = -f[i];
    for (i = 0; i < n; i++)
        for (c = 0; c < kk; c++)
            t[i * kk + c] = (int)y[i] == c;
    pd = (aml_platt_data){f, t, w, n, kk};
    aml_platt_fit(&pd, t, &m->A, &m->B);
    if (!(m->A < 0.0))
        m->A = -1e-12; /* keep the sigmoid decreasing: see the file comment */
    free(f);
    return AML_OK;
}

static int svm_fit(aml_learner *l, const aml_matrix *X, const double *y, const double *w,
                   int n_classes, aml_rng *rng, int threads)
{
    linsvm *m = (linsvm *)l;
    size_t n = X->rows, p = X->cols;
    int k = n_classes == 2 ? 1 : n_classes, c, rc;
    double *W = NULL;
    aml_rng own;
    dcd s = {0};

    (void)threads;
    if (n > INT32_MAX || p > INT32_MAX - 1 || n_classes < 2)
        return aml_error_set(AML_EINVAL, "linear_svm: bad shape %zu x %zu, %d classes", n,
                             p, n_classes);
    if ((rc = svm_check(n, y, w, n_classes)) < 0)
        return rc;
    if (!rng)
        aml_rng_init(&own, 0, SVM_DEFAULT_STREAM), rng = &own;
    s.row = aml_calloc(n ? n : 1, sizeof(dcd_row));
    s.index = aml_mallocarray(n ? n : 1, sizeof(size_t));
    W = aml_calloc((size_t)k * (p + 1), sizeof(double));
    s.X = X;
    if (!s.row || !s.index || !W || dcd_compress(&s) < 0) {
        rc = AML_ENOMEM;
        goto out;
    }
    svm_setup(m, X, w, &s);
    free(m->W);
    m->W = W, m->k = k;
    W = NULL;
    rc = AML_OK;
    for (c = 0; c < k && rc == 0; c++)
        rc = svm_fit_one(m, &s, y, c, rng);
    if (rc < 0 || (rc = svm_fit_platt(m, X, y, w)) < 0) {
        free(m->W);
        m->W = NULL;
        goto out;
    }
    m->base.n_classes = n_classes;
    m->base.n_features = p;
out:
    free(s.row), free(s.index), free(W), free(s.ent);
    return rc;
}

/* Raw decision values: out (rows x k) = X W^T + b. */
static void svm_decision(const linsvm *m, const aml_matrix *X, double *out)
{
    size_t i, n = X->rows, p = X->cols;
    int c, k = m->k;

    for (i = 0; i < n; i++)
        for (c = 0; c < k; c++) {
            const double *wc = m->W + (size_t)c * (p + 1);

            out[i * k + c] =
                (p ? cblas_ddot((int)p, aml_matrix_row(X, i), 1, wc, 1) : 0.0) + wc[p];
        }
}

/*
 * The raw decision values (rows x k, k = 1 for two classes), as
 * LinearSVC.decision_function.  Not part of the learner interface: tests
 * and diagnostics declare it themselves.
 */
int aml_linear_svm_decision(const aml_learner *l, const aml_matrix *X, double *out);
int aml_linear_svm_decision(const aml_learner *l, const aml_matrix *X, double *out)
{
    const linsvm *m = (const linsvm *)l;

    if (!m->W)
        return aml_error_set(AML_EINVAL, "linear_svm: decision before fit");
    svm_decision(m, X, out);
    return AML_OK;
}

static int svm_predict(const aml_learner *l, const aml_matrix *X, double *out)
{
    const linsvm *m = (const linsvm *)l;
    size_t i, n = X->rows;
    int c, k = m->k;

    if (!m->W)
        return aml_error_set(AML_EINVAL, "linear_svm: predict before fit");
    svm_decision(m, X, out);
    if (k == 1) {
        for (i = n; i-- > 0;) /* backwards: see logreg_predict */
            out[2 * i + 1] = out[i], out[2 * i] = -out[i];
        k = 2;
    }
    for (i = 0; i < n; i++) {
        double *z = out + i * k, sum = 0.0;

        for (c = 0; c < k; c++)
            sum += (z[c] = aml_platt_prob(z[c], m->A, m->B));
        for (c = 0; c < k; c++)
            z[c] = sum > 0.0 ? z[c] / sum : 1.0 / k;
    }
    return AML_OK;
}

/*
 * C export: the decision values are summed in feature order where predict
 * uses ddot, so outputs agree to rounding (about 1e-15).
 */
static int svm_emit_c(const aml_learner *l, aml_cgen *g, const char *fn)
{
    const linsvm *m = (const linsvm *)l;
    size_t p = l->n_features;
    int k = m->k == 1 ? 2 : m->k;
    char w[64], ab[64];
    double AB[2];

    if (!m->W)
        return aml_error_set(AML_EINVAL, "linear_svm: export before fit");
    AB[0] = m->A, AB[1] = m->B;
    aml_cgen_name(g, "linsvm_w", w, sizeof(w));
    aml_cgen_name(g, "linsvm_platt", ab, sizeof(ab));
    aml_cgen_doubles(g, w, m->W, (size_t)m->k * (p + 1));
    aml_cgen_doubles(g, ab, AB, 2);
    aml_cgen_printf(
        g,
        "/* linear_svm: %d weight vector(s) over %zu features, Platt's sigmoid. */\n"
        "static void %s(const double *x, double *out)\n{\n"
        "    double sum = 0.0;\n    size_t j;\n    int c;\n\n"
        "    for (c = 0; c < %d; c++) {\n"
        "        const double *wc = %s + (size_t)c * %zu;\n"
        "        double s = 0.0;\n\n"
        "        for (j = 0; j < %zu; j++)\n"
        "            s += x[j] * wc[j];\n"
        "        out[c] = s + wc[%zu];\n    }\n",
        m->k, p, fn, m->k, w, p + 1, p, p);
    if (m->k == 1)
        aml_cgen_printf(g, "    out[1] = out[0], out[0] = -out[1];\n");
    return aml_cgen_printf(g,
                           "    for (c = 0; c < %d; c++) {\n"
                           "        double z = out[c] * %s[0] + %s[1];\n\n"
                           "        out[c] = z >= 0.0 ? exp(-z) / (1.0 + exp(-z))"
                           " : 1.0 / (1.0 + exp(z));\n"
                           "        sum += out[c];\n    }\n"
                           "    for (c = 0; c < %d; c++)\n"
                           "        out[c] = sum > 0.0 ? out[c] / sum : 1.0 / %d;\n}\n\n",
                           k, ab, ab, k, k);
}

/* |w| summed over the weight vectors (bias excluded), normalised. */
static int svm_importance(const aml_learner *l, double *out)
{
    const linsvm *m = (const linsvm *)l;

    /* Each weight vector carries its bias after the p feature weights. */
    return aml_importance_linear(l, m->W, m->k, l->n_features + 1, out);
}

/* Layout: C, tol, max_iter, u32 loss, u32 k, u64 p, k (p + 1) weights, A, B. */
static int svm_save(const aml_learner *l, aml_writer *w)
{
    const linsvm *m = (const linsvm *)l;
    size_t p = l->n_features;

    if (!m->W)
        return aml_error_set(AML_EINVAL, "linear_svm: save before fit");
    aml_put_f64(w, m->C);
    aml_put_f64(w, m->tol);
    aml_put_i64(w, (int64_t)m->max_iter);
    aml_put_u32(w, (uint32_t)m->loss);
    aml_put_u32(w, (uint32_t)m->k);
    aml_put_u64(w, (uint64_t)p);
    aml_put_f64s(w, m->W, (size_t)m->k * (p + 1));
    aml_put_f64(w, m->A);
    aml_put_f64(w, m->B);
    return w->failed ? AML_ENOMEM : AML_OK;
}

static int svm_load_state(aml_learner *l, aml_reader *r)
{
    linsvm *m = (linsvm *)l;
    int64_t max_iter;
    uint32_t loss, k;
    uint64_t p;
    int rc;

    if ((rc = aml_get_f64(r, &m->C)) < 0 || (rc = aml_get_f64(r, &m->tol)) < 0 ||
        (rc = aml_get_i64(r, &max_iter)) < 0 || (rc = aml_get_u32(r, &loss)) < 0 ||
        (rc = aml_get_u32(r, &k)) < 0 || (rc = aml_get_u64(r, &p)) < 0)
        return rc;
    if (loss > 1 || k < 1 || k > 1u << 20 || p > 1u << 30)
        return aml_error_set(AML_EFORMAT, "corrupt linear_svm state in model");
    if ((rc = aml_reader_need(r, (size_t)k * (p + 1) + 2, sizeof(double))) < 0)
        return rc;
    if (!(m->W = aml_mallocarray((size_t)k * (p + 1), sizeof(double))))
        return AML_ENOMEM;
    m->max_iter = max_iter;
    m->loss = (int)loss;
    m->k = (int)k;
    m->base.n_classes = k == 1 ? 2 : (int)k;
    m->base.n_features = (size_t)p;
    if ((rc = aml_get_f64s(r, m->W, (size_t)k * (p + 1))) < 0)
        return rc;
    if ((rc = aml_get_f64(r, &m->A)) < 0)
        return rc;
    return aml_get_f64(r, &m->B);
}

static void svm_free(aml_learner *l)
{
    linsvm *m = (linsvm *)l;

    if (!m)
        return;
    free(m->W);
    free(m);
}

static int svm_load(aml_learner **out, const aml_learner_type *type, aml_task task,
                    aml_reader *r)
{
    return aml_learner_load_with(out, type, task, r, svm_load_state);
}

const aml_learner_type aml_learner_linear_svm = {
    .name = "linear_svm",
    .tasks = AML_TASK_BIT(AML_TASK_CLASSIFICATION),
    .flags = AML_LEARNER_WANTS_SCALING,
    .params = svm_params,
    .create = svm_create,
    .set_param = svm_set_param,
    .fit = svm_fit,
    .predict = svm_predict,
    .emit_c = svm_emit_c,
    .save = svm_save,
    .load = svm_load,
    .free = svm_free,
    .importance = svm_importance,
};
