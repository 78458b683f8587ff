/*
 * mlp.c - multi-layer perceptron for classification and regression.
 *
 * A feed-forward network with one to three hidden layers (relu or tanh)
 * trained by minibatch back-propagation (Rumelhart, Hinton and Williams,
 * "Learning representations by back-propagating errors", Nature, 1986)
 * with the Adam optimiser (Kingma and Ba, "Adam: a method for stochastic
 * optimization", ICLR 2015), following scikit-learn 1.2's MLPClassifier /
 * MLPRegressor with solver='adam':
 *
 *   - Glorot and Bengio (2010) uniform initialisation of weights and
 *     biases in +-sqrt(6 / (fan_in + fan_out)), drawn from the fit's rng;
 *   - output: logistic unit for two classes, softmax for more (log loss),
 *     identity for regression (half squared error);
 *   - batch loss = mean loss + alpha / 2 ||W||^2 / batch rows (biases are
 *     not penalised); Adam with beta1 0.9, beta2 0.999, eps 1e-8 and the
 *     bias-corrected step of scikit-learn;
 *   - rows shuffled every epoch with the fit's rng; max_iter epochs;
 *   - stopping: without early_stopping, when the epoch's mean training loss
 *     has not improved by tol for more than n_iter_no_change epochs; with
 *     it, on the validation score (accuracy or R^2) of a held-out
 *     validation_fraction of the rows, restoring the best epoch's weights.
 *
 * Differences: scikit-learn's validation split is stratified, ours is a
 * plain random split (from the fit's rng); sample weights (an extension:
 * scikit-learn's MLP has none) multiply each row's loss, still divided by
 * the batch's row count, and weight the validation score.  The random
 * streams differ, so a fit is not weight-for-weight scikit-learn's.
 *
 * Forward and backward passes are BLAS dgemm products on row-major
 * batches; with the same seed and BLAS thread count a fit is bit-identical
 * (the runner gives BLAS one thread inside parallel trials).  There is no
 * feature importance: input-weight norms say little about a non-linear
 * network, so the slot is left empty.
 */
#include "aml.h"
#include "learner.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MLP_MAX_LAYERS 3
#define MLP_MAX_UNITS 4096
#define MLP_BETA1 0.9
#define MLP_BETA2 0.999
#define MLP_EPS 1e-8
#define MLP_PREDICT_ROWS 512

enum { ACT_RELU = 0, ACT_TANH = 1 };
enum { OUT_IDENTITY = 0, OUT_LOGISTIC = 1, OUT_SOFTMAX = 2 };

static const char *const mlp_layer_words[] = {"32", "64", "128", "64x64", NULL};
static const char *const mlp_act_words[] = {"relu", "tanh", NULL};
static const char *const mlp_bool_words[] = {"false", "true", NULL};
static const char *const mlp_auto_words[] = {"auto", NULL};

/* Parses "64" or "64x32" (1-3 sizes in 1..MLP_MAX_UNITS); returns the count or -1. */
static int mlp_parse_layers(const char *s, int *sizes)
{
    int n = 0;

    for (;;) {
        char *end;
        long v;

        if (*s < '0' || *s > '9')
            return -1;
        v = strtol(s, &end, 10);
        if (v < 1 || v > MLP_MAX_UNITS || n == MLP_MAX_LAYERS)
            return -1;
        sizes[n++] = (int)v;
        if (*end == '\0')
            return n;
        if (*end != 'x')
            return -1;
        s = end + 1;
    }
}

static const char *mlp_check_layers(const aml_param_def *def, const aml_value *v,
                                    char *buf, size_t buflen)
{
    int sizes[MLP_MAX_LAYERS];

    if (v->kind == AML_VAL_INT && v->i >= 1 && v->i <= MLP_MAX_UNITS)
        return NULL;
    if (v->kind == AML_VAL_REAL && v->real == floor(v->real) && v->real >= 1 &&
        v->real <= MLP_MAX_UNITS)
        return NULL;
    if (v->kind == AML_VAL_STR && mlp_parse_layers(v->str, sizes) > 0)
        return NULL;
    snprintf(buf, buflen,
             "'%s' takes a layer width (1..%d) or up to %d widths joined by 'x',"
             " as 64x32",
             def->name, MLP_MAX_UNITS, MLP_MAX_LAYERS);
    return buf;
}

static const aml_param_def mlp_params[] = {
    {.name = "hidden_layer_sizes",
     .kind = AML_VAL_STR,
     .choices = mlp_layer_words,
     .def = {.kind = AML_VAL_STR, .str = "100"},
     .doc = "hidden layer widths: 64, or 1-3 widths joined by x as 64x32",
     .check = mlp_check_layers},
    {.name = "activation",
     .kind = AML_VAL_STR,
     .choices = mlp_act_words,
     .def = {.kind = AML_VAL_STR, .str = "relu"},
     .doc = "hidden unit activation: relu or tanh"},
    {.name = "learning_rate_init",
     .kind = AML_VAL_REAL,
     .lo = 0.0,
     .hi = INFINITY,
     .lo_open = 1,
     .def = {.kind = AML_VAL_REAL, .real = 1e-3},
     .search_lo = 1e-4,
     .search_hi = 1e-1,
     .search_log = 1,
     .doc = "Adam step size"},
    {.name = "alpha",
     .kind = AML_VAL_REAL,
     .lo = 0.0,
     .hi = INFINITY,
     .def = {.kind = AML_VAL_REAL, .real = 1e-4},
     .search_lo = 1e-6,
     .search_hi = 1e-1,
     .search_log = 1,
     .doc = "L2 penalty on the weights"},
    {.name = "batch_size",
     .kind = AML_VAL_INT,
     .lo = 1,
     .hi = INFINITY,
     .choices = mlp_auto_words,
     .def = {.kind = AML_VAL_STR, .str = "auto"},
     .search_lo = 200,
     .search_hi = 200,
     .doc = "rows per minibatch, or auto for min(200, rows)"},
    {.name = "max_iter",
     .kind = AML_VAL_INT,
     .lo = 1,
     .hi = INFINITY,
     .def = {.kind = AML_VAL_INT, .i = 200},
     .search_lo = 200,
     .search_hi = 200,
     .doc = "epochs (passes over the training rows) at most"},
    {.name = "early_stopping",
     .kind = AML_VAL_STR,
     .choices = mlp_bool_words,
     .def = {.kind = AML_VAL_STR, .str = "false"},
     .doc = "true: stop on a held-out validation score and keep the best epoch"},
    {.name = "validation_fraction",
     .kind = AML_VAL_REAL,
     .lo = 0.0,
     .hi = 1.0,
     .lo_open = 1,
     .def = {.kind = AML_VAL_REAL, .real = 0.1},
     .search_lo = 0.1,
     .search_hi = 0.1,
     .doc = "share of rows held out for early stopping"},
    {.name = "n_iter_no_change",
     .kind = AML_VAL_INT,
     .lo = 1,
     .hi = INFINITY,
     .def = {.kind = AML_VAL_INT, .i = 10},
     .search_lo = 10,
     .search_hi = 10,
     .doc = "epochs without a tol improvement before stopping"},
    {.name = "tol",
     .kind = AML_VAL_REAL,
     .lo = 0.0,
     .hi = INFINITY,
     .def = {.kind = AML_VAL_REAL, .real = 1e-4},
     .search_lo = 1e-4,
     .search_hi = 1e-4,
     .search_log = 1,
     .doc = "improvement of loss or validation score that counts as progress"},
    {.name = NULL},
};

typedef struct mlp {
    aml_learner base;
    /* hyperparameters */
    int hidden[MLP_MAX_LAYERS], n_hidden, act, early;
    double lr, alpha, val_frac, tol;
    long long batch, max_iter, no_change; /* batch 0: auto */
    /* fitted network: L = n_hidden + 1 layers, units[0..L] */
    int L, out_kind;
    int units[MLP_MAX_LAYERS + 2];
    size_t woff[MLP_MAX_LAYERS + 1], boff[MLP_MAX_LAYERS + 1], n_par;
    double *par;      /* packed W_1, b_1, ..., W_L, b_L; W_l is units[l-1] x units[l] */
    long long epochs; /* epochs run by the last fit */
} mlp;

/* Per-batch scratch: activations of every layer and two delta buffers. */
typedef struct mlp_work {
    size_t rows;
    double *A[MLP_MAX_LAYERS + 2];
    double *D[2];
    double *block;
} mlp_work;

/* ---- network layout and passes ------------------------------------------ */

static int mlp_layout(mlp *m, size_t p, int outs)
{
    size_t off = 0;
    int l;

    m->L = m->n_hidden + 1;
    m->units[0] = (int)p;
    for (l = 0; l < m->n_hidden; l++)
        m->units[l + 1] = m->hidden[l];
    m->units[m->L] = outs;
    for (l = 1; l <= m->L; l++) {
        m->woff[l - 1] = off;
        off += (size_t)m->units[l - 1] * (size_t)m->units[l];
        m->boff[l - 1] = off;
        off += (size_t)m->units[l];
    }
    m->n_par = off;
    free(m->par);
    m->par = aml_mallocarray(off, sizeof(double));
    return m->par ? AML_OK : AML_ENOMEM;
}

static void mlp_work_dispose(mlp_work *wk)
{
    free(wk->block);
    memset(wk, 0, sizeof(*wk));
}

static int mlp_work_init(mlp_work *wk, const mlp *m, size_t rows)
{
    size_t total = 0, widest = 1;
    int l;

    memset(wk, 0, sizeof(*wk));
    for (l = 0; l <= m->L; l++) {
        total += (size_t)m->units[l];
        widest = (size_t)m->units[l] > widest ? (size_t)m->units[l] : widest;
    }
    if (!(wk->block = aml_mallocarray(rows, (total + 2 * widest) * sizeof(double))))
        return AML_ENOMEM;
    wk->rows = rows;
    wk->A[0] = wk->block;
    for (l = 1; l <= m->L; l++)
        wk->A[l] = wk->A[l - 1] + rows * (size_t)m->units[l - 1];
    wk->D[0] = wk->A[m->L] + rows * (size_t)m->units[m->L];
    wk->D[1] = wk->D[0] + rows * widest;
    return AML_OK;
}

static void mlp_activate(int act, double *a, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        a[i] = act == ACT_RELU ? (a[i] > 0.0 ? a[i] : 0.0) : tanh(a[i]);
}

static void mlp_output(int kind, double *a, size_t rows, int k)
{
    size_t i;
    int j;

    for (i = 0; i < rows && kind == OUT_LOGISTIC; i++)
        a[i] = a[i] >= 0 ? 1.0 / (1.0 + exp(-a[i])) : exp(a[i]) / (1.0 + exp(a[i]));
    for (i = 0; i < rows && kind == OUT_SOFTMAX; i++) {
        double *z = a + i * (size_t)k, mx = z[0], s = 0.0;

        for (j = 1; j < k; j++)
            mx = fmax(mx, z[j]);
        for (j = 0; j < k; j++)
            s += (z[j] = exp(z[j] - mx));
        for (j = 0; j < k; j++)
            z[j] /= s;
    }
}

/* Forward pass of `rows` rows already in A[0]; A[L] gets the outputs. */
static void mlp_forward(const mlp *m, const double *par, mlp_work *wk, size_t rows)
{
    int l;

    for (l = 1; l <= m->L; l++) {
        int in = m->units[l - 1], out = m->units[l];
        const double *b = par + m->boff[l - 1];
        double *Z = wk->A[l];
        size_t i;

        for (i = 0; i < rows; i++)
            memcpy(Z + i * (size_t)out, b, (size_t)out * sizeof(double));
        if (in > 0)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, out, in,
                        1.0, wk->A[l - 1], in, par + m->woff[l - 1], out, 1.0, Z, out);
        if (l < m->L)
            mlp_activate(m->act, Z, rows * (size_t)out);
        else
            mlp_output(m->out_kind, Z, rows, out);
    }
}

/*
 * Data loss of the batch (before the L2 term) from the outputs; writes the
 * output deltas w_i (p - y) / rows into D.  y holds class indices or targets.
 */
static double mlp_out_loss(const mlp *m, const double *P, const double *y,
                           const double *w, size_t rows, double *D)
{
    int k = m->units[m->L], j;
    double loss = 0.0, eps = 2.220446049250313e-16;
    size_t i;

    for (i = 0; i < rows; i++) {
        double wi = w ? w[i] : 1.0;
        const double *p = P + i * (size_t)k;
        double *d = D + i * (size_t)k;

        if (m->out_kind == OUT_IDENTITY) {
            loss += wi * 0.5 * (p[0] - y[i]) * (p[0] - y[i]);
            d[0] = wi * (p[0] - y[i]);
        } else if (m->out_kind == OUT_LOGISTIC) {
            double q = fmin(fmax(p[0], eps), 1.0 - eps);

            loss -= wi * (y[i] > 0.5 ? log(q) : log(1.0 - q));
            d[0] = wi * (p[0] - y[i]);
        } else {
            loss -= wi * log(fmin(fmax(p[(size_t)y[i]], eps), 1.0 - eps));
            for (j = 0; j < k; j++)
                d[j] = wi * (p[j] - (j == (int)y[i]));
        }
        for (j = 0; j < k; j++)
            d[j] /= (double)rows;
    }
    return loss / (double)rows;
}

/* Backward pass: grad (n_par) of the batch loss; D[0] holds the output deltas. */
static void mlp_backward(const mlp *m, const double *par, mlp_work *wk, size_t rows,
                         double *grad)
{
    double *D = wk->D[0], *Dn = wk->D[1], *t;
    size_t i, j;
    int l;

    for (l = m->L; l >= 1; l--) {
        int in = m->units[l - 1], out = m->units[l];
        const double *W = par + m->woff[l - 1];
        double *gW = grad + m->woff[l - 1], *gb = grad + m->boff[l - 1];
        double *A = wk->A[l - 1];
        size_t nw = (size_t)in * (size_t)out;

        for (j = 0; j < nw; j++)
            gW[j] = m->alpha * W[j] / (double)rows;
        if (in > 0)
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, (int)rows, 1.0,
                        A, in, D, out, 1.0, gW, out);
        memset(gb, 0, (size_t)out * sizeof(double));
        for (i = 0; i < rows; i++)
            for (j = 0; j < (size_t)out; j++)
                gb[j] += D[i * (size_t)out + j];
        if (l == 1)
            break;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, in, out, 1.0, D,
                    out, W, out, 0.0, Dn, in);
        for (j = 0; j < rows * (size_t)in; j++)
            Dn[j] *= m->act == ACT_RELU ? (A[j] > 0.0) : 1.0 - A[j] * A[j];
        t = D, D = Dn, Dn = t;
    }
}

/* Batch loss including the L2 term (alpha / 2 ||W||^2 / rows). */
static double mlp_l2(const mlp *m, const double *par, size_t rows)
{
    double s = 0.0;
    size_t j;
    int l;

    for (l = 1; l <= m->L; l++) {
        size_t nw = (size_t)m->units[l - 1] * (size_t)m->units[l];

        for (j = 0; j < nw; j++)
            s += par[m->woff[l - 1] + j] * par[m->woff[l - 1] + j];
    }
    return 0.5 * m->alpha * s / (double)rows;
}

/* Copies rows idx[0..rows) of X and their targets into the batch. */
static void mlp_gather(const aml_matrix *X, const double *y, const double *w,
                       const size_t *idx, size_t rows, mlp_work *wk, double *by,
                       double *bw)
{
    size_t i, p = X->cols;

    for (i = 0; i < rows; i++) {
        memcpy(wk->A[0] + i * p, X->data + idx[i] * p, p * sizeof(double));
        by[i] = y[idx[i]];
        bw[i] = w ? w[idx[i]] : 1.0;
    }
}

/* ---- the test hooks --------------------------------------------------------- */

double aml_mlp_loss_grad(aml_learner *l, const aml_matrix *X, const double *y,
                         const double *w, double *grad);
double *aml_mlp_params(aml_learner *l, size_t *n);

/*
 * Test hook: the loss of the fitted network's current parameters on X as
 * one batch, with its gradient in grad (n_params values).  NAN on failure.
 */
double aml_mlp_loss_grad(aml_learner *l, const aml_matrix *X, const double *y,
                         const double *w, double *grad)
{
    mlp *m = (mlp *)l;
    mlp_work wk;
    double loss;

    if (!m->par || X->cols != (size_t)m->units[0] || mlp_work_init(&wk, m, X->rows) < 0)
        return NAN;
    memcpy(wk.A[0], X->data, X->rows * X->cols * sizeof(double));
    mlp_forward(m, m->par, &wk, X->rows);
    loss = mlp_out_loss(m, wk.A[m->L], y, w, X->rows, wk.D[0]);
    mlp_backward(m, m->par, &wk, X->rows, grad);
    loss += mlp_l2(m, m->par, X->rows);
    mlp_work_dispose(&wk);
    return loss;
}

/* Test hook: the packed parameters of a fitted network (writable). */
double *aml_mlp_params(aml_learner *l, size_t *n)
{
    mlp *m = (mlp *)l;

    *n = m->n_par;
    return m->par;
}

/* ---- training ---------------------------------------------------------------- */

/* State of one fit: Adam moments, the shuffled order, the batch buffers. */
typedef struct mlp_train {
    const aml_matrix *X;
    const double *y, *w;
    size_t *order; /* training rows (shuffled each epoch) then validation rows */
    size_t n_tr, n_val, bs;
    double *mom, *vel, *grad, *best; /* n_par each */
    double *by, *bw;                 /* bs targets and weights */
    long long t;                     /* Adam steps */
    mlp_work wk;
} mlp_train;

static void mlp_train_dispose(mlp_train *tr)
{
    free(tr->order);
    free(tr->mom);
    free(tr->by);
    mlp_work_dispose(&tr->wk);
}

/* Glorot uniform init of weights and biases, layer by layer, W before b. */
static void mlp_init_params(mlp *m, aml_rng *rng)
{
    size_t j;
    int l;

    for (l = 1; l <= m->L; l++) {
        double bound = sqrt(6.0 / (double)(m->units[l - 1] + m->units[l]));
        size_t nw = (size_t)m->units[l - 1] * (size_t)m->units[l];

        for (j = 0; j < nw + (size_t)m->units[l]; j++)
            m->par[m->woff[l - 1] + j] = bound * (2.0 * aml_rng_uniform(rng) - 1.0);
    }
}

static int mlp_train_init(mlp_train *tr, mlp *m, size_t n, aml_rng *rng)
{
    size_t i;

    tr->order = aml_mallocarray(n, sizeof(size_t));
    tr->mom = aml_calloc(4 * m->n_par, sizeof(double));
    if (!tr->order || !tr->mom)
        return AML_ENOMEM;
    tr->vel = tr->mom + m->n_par;
    tr->grad = tr->vel + m->n_par;
    tr->best = tr->grad + m->n_par;
    for (i = 0; i < n; i++)
        tr->order[i] = i;
    tr->n_tr = n;
    tr->n_val = 0;
    if (m->early) {
        /* A random split; early stopping is skipped when a side would be empty. */
        size_t nv = (size_t)ceil(m->val_frac * (double)n);

        if (nv >= 1 && nv < n) {
            aml_rng_shuffle(rng, tr->order, n);
            tr->n_val = nv;
            tr->n_tr = n - nv; /* order: validation rows first, then training */
        }
    }
    tr->bs = m->batch > 0 ? (size_t)m->batch : 200;
    tr->bs = tr->bs < tr->n_tr ? tr->bs : tr->n_tr;
    if (!(tr->by = aml_mallocarray(2 * tr->bs, sizeof(double))))
        return AML_ENOMEM;
    tr->bw = tr->by + tr->bs;
    return mlp_work_init(&tr->wk, m, tr->bs);
}

/* One Adam update of the packed parameters from tr->grad. */
static void mlp_adam(mlp *m, mlp_train *tr)
{
    double lr;
    size_t j;

    tr->t++;
    lr = m->lr * sqrt(1.0 - pow(MLP_BETA2, (double)tr->t)) /
         (1.0 - pow(MLP_BETA1, (double)tr->t));
    for (j = 0; j < m->n_par; j++) {
        double g = tr->grad[j];

        tr->mom[j] = MLP_BETA1 * tr->mom[j] + (1.0 - MLP_BETA1) * g;
        tr->vel[j] = MLP_BETA2 * tr->vel[j] + (1.0 - MLP_BETA2) * g * g;
        m->par[j] -= lr * tr->mom[j] / (sqrt(tr->vel[j]) + MLP_EPS);
    }
}

/* One epoch over the training rows; returns the mean batch loss. */
static double mlp_epoch(mlp *m, mlp_train *tr, aml_rng *rng)
{
    size_t b, *idx = tr->order + tr->n_val;
    double total = 0.0;

    aml_rng_shuffle(rng, idx, tr->n_tr);
    for (b = 0; b < tr->n_tr; b += tr->bs) {
        size_t rows = tr->n_tr - b < tr->bs ? tr->n_tr - b : tr->bs;
        double loss;

        mlp_gather(tr->X, tr->y, tr->w, idx + b, rows, &tr->wk, tr->by, tr->bw);
        mlp_forward(m, m->par, &tr->wk, rows);
        loss = mlp_out_loss(m, tr->wk.A[m->L], tr->by, tr->bw, rows, tr->wk.D[0]);
        loss += mlp_l2(m, m->par, rows);
        mlp_backward(m, m->par, &tr->wk, rows, tr->grad);
        mlp_adam(m, tr);
        total += loss * (double)rows;
    }
    return total / (double)tr->n_tr;
}

/* Validation score: weighted accuracy, or weighted R^2 for regression. */
static double mlp_val_score(mlp *m, mlp_train *tr)
{
    size_t b, i, k = (size_t)m->units[m->L];
    double hit = 0.0, sw = 0.0, ybar = 0.0, ss_res = 0.0, ss_tot = 0.0;

    for (i = 0; i < tr->n_val; i++) {
        double wi = tr->w ? tr->w[tr->order[i]] : 1.0;

        sw += wi;
        ybar += wi * tr->y[tr->order[i]];
    }
    ybar /= sw > 0.0 ? sw : 1.0;
    for (b = 0; b < tr->n_val; b += tr->bs) {
        size_t rows = tr->n_val - b < tr->bs ? tr->n_val - b : tr->bs;

        mlp_gather(tr->X, tr->y, tr->w, tr->order + b, rows, &tr->wk, tr->by, tr->bw);
        mlp_forward(m, m->par, &tr->wk, rows);
        for (i = 0; i < rows; i++) {
            const double *p = tr->wk.A[m->L] + i * k;
            double pred = p[0];
            size_t j;

            if (m->out_kind == OUT_LOGISTIC)
                pred = p[0] > 0.5;
            for (j = 1; j < k && m->out_kind == OUT_SOFTMAX; j++)
                pred = p[j] > p[(size_t)pred] ? (double)j : pred;
            hit += tr->bw[i] * (pred == tr->by[i]);
            ss_res += tr->bw[i] * (pred - tr->by[i]) * (pred - tr->by[i]);
            ss_tot += tr->bw[i] * (tr->by[i] - ybar) * (tr->by[i] - ybar);
        }
    }
    if (m->out_kind != OUT_IDENTITY)
        return sw > 0.0 ? hit / sw : 0.0;
    return ss_tot > 0.0 ? 1.0 - ss_res / ss_tot : (ss_res > 0.0 ? 0.0 : 1.0);
}

/* The epoch loop with scikit-learn's no-improvement rule. */
static int mlp_run(mlp *m, mlp_train *tr, aml_rng *rng)
{
    double best_loss = INFINITY, best_score = -INFINITY;
    long long it, stale = 0;

    for (it = 0; it < m->max_iter; it++) {
        double loss = mlp_epoch(m, tr, rng);

        if (!isfinite(loss))
            return aml_error_set(AML_ENUMERIC, "mlp: the loss became %g at epoch %lld",
                                 loss, it + 1);
        if (tr->n_val > 0) {
            double s = mlp_val_score(m, tr);

            stale = s < best_score + m->tol ? stale + 1 : 0;
            if (s > best_score) {
                best_score = s;
                memcpy(tr->best, m->par, m->n_par * sizeof(double));
            }
        } else {
            stale = loss > best_loss - m->tol ? stale + 1 : 0;
            best_loss = fmin(best_loss, loss);
        }
        if (stale > m->no_change) {
            it++;
            break;
        }
    }
    m->epochs = it;
    if (tr->n_val > 0)
        memcpy(m->par, tr->best, m->n_par * sizeof(double));
    return AML_OK;
}

static int mlp_check(const mlp *m, const aml_matrix *X, const double *y, const double *w,
                     int k)
{
    size_t i;

    if (X->rows > INT32_MAX || X->cols > INT32_MAX)
        return aml_error_set(AML_EINVAL, "mlp: %zu x %zu is too large", X->rows, X->cols);
    for (i = 0; i < X->rows; i++) {
        if (m->base.task == AML_TASK_CLASSIFICATION &&
            !(y[i] >= 0.0 && y[i] < k && y[i] == floor(y[i])))
            return aml_error_set(AML_EINVAL,
                                 "mlp: label %g of row %zu is not a class index below %d",
                                 y[i], i, k);
        if (m->base.task == AML_TASK_REGRESSION && !isfinite(y[i]))
            return aml_error_set(AML_EINVAL, "mlp: row %zu has target %g", i, y[i]);
        if (w && !(w[i] >= 0.0 && isfinite(w[i])))
            return aml_error_set(AML_EINVAL, "mlp: sample weight %zu is %g", i, w[i]);
    }
    return AML_OK;
}

static int mlp_fit(aml_learner *l, const aml_matrix *X, const double *y, const double *w,
                   int n_classes, aml_rng *rng, int threads)
{
    mlp *m = (mlp *)l;
    mlp_train tr = {.X = X, .y = y, .w = w};
    int rc, outs = 1;

    if ((rc = mlp_check(m, X, y, w, n_classes)) < 0)
        return rc;
    m->out_kind = OUT_IDENTITY;
    if (l->task == AML_TASK_CLASSIFICATION) {
        m->out_kind = n_classes == 2 ? OUT_LOGISTIC : OUT_SOFTMAX;
        outs = n_classes == 2 ? 1 : n_classes;
    }
    if ((rc = mlp_layout(m, X->cols, outs)) < 0)
        goto fail;
    mlp_init_params(m, rng);
    if ((rc = mlp_train_init(&tr, m, X->rows, rng)) < 0 ||
        (rc = mlp_run(m, &tr, rng)) < 0)
        goto fail;
    mlp_train_dispose(&tr);
    l->n_classes = l->task == AML_TASK_CLASSIFICATION ? n_classes : 0;
    l->n_features = X->cols;
    return AML_OK;
fail:
    mlp_train_dispose(&tr);
    free(m->par);
    m->par = NULL;
    return rc;
}

/* ---- prediction ------------------------------------------------------------ */

static int mlp_predict(const aml_learner *l, const aml_matrix *X, double *out)
{
    const mlp *m = (const mlp *)l;
    size_t b, i, rows, k = (size_t)m->units[m->L], p = X->cols;
    mlp_work wk;
    int rc;

    if (!m->par)
        return aml_error_set(AML_EINVAL, "mlp: predict before fit");
    if (p != (size_t)m->units[0])
        return aml_error_set(AML_EINVAL, "mlp: fitted on %d features, got %zu",
                             m->units[0], p);
    if ((m->out_kind == OUT_SOFTMAX && (int)k != m->base.n_classes) ||
        (m->out_kind == OUT_LOGISTIC && m->base.n_classes != 2))
        return aml_error_set(AML_EFORMAT, "mlp: output layer does not match the model");
    rows = X->rows < MLP_PREDICT_ROWS ? X->rows : MLP_PREDICT_ROWS;
    if (rows == 0)
        return AML_OK;
    if ((rc = mlp_work_init(&wk, m, rows)) < 0)
        return rc;
    for (b = 0; b < X->rows; b += rows) {
        size_t r = X->rows - b < rows ? X->rows - b : rows;
        const double *P = wk.A[m->L];

        memcpy(wk.A[0], X->data + b * p, r * p * sizeof(double));
        mlp_forward(m, m->par, &wk, r);
        for (i = 0; i < r; i++) {
            if (m->out_kind == OUT_LOGISTIC) {
                out[(b + i) * 2] = 1.0 - P[i];
                out[(b + i) * 2 + 1] = P[i];
            } else {
                memcpy(out + (b + i) * k, P + i * k, k * sizeof(double));
            }
        }
    }
    mlp_work_dispose(&wk);
    return AML_OK;
}

/* ---- C export --------------------------------------------------------------- */

/* Layer l (1-based) of one row: z = b + x W, summed in input order, then activated. */
static int mlp_emit_layer(const mlp *m, aml_cgen *g, const char *par, int l)
{
    int in = m->units[l - 1], out = m->units[l];

    aml_cgen_printf(g,
                    "    for (j = 0; j < %d; j++) {\n"
                    "        double s = 0.0;\n\n"
                    "        for (i = 0; i < %d; i++)\n"
                    "            s += a%d[i] * %s[%zu + (size_t)i * %d + j];\n"
                    "        a%d[j] = s + %s[%zu + j];\n",
                    out, in, l - 1, par, m->woff[l - 1], out, l, par, m->boff[l - 1]);
    if (l < m->L && m->act == ACT_RELU)
        aml_cgen_printf(g, "        a%d[j] = a%d[j] > 0.0 ? a%d[j] : 0.0;\n", l, l, l);
    else if (l < m->L)
        aml_cgen_printf(g, "        a%d[j] = tanh(a%d[j]);\n", l, l);
    return aml_cgen_printf(g, "    }\n");
}

/* The output unit(s) of predict: logistic pair, softmax or the value. */
static int mlp_emit_output(const mlp *m, aml_cgen *g)
{
    int L = m->L, k = m->units[L];

    if (m->out_kind == OUT_LOGISTIC)
        return aml_cgen_printf(
            g,
            "    {\n        double z = a%d[0], p = z >= 0 ? 1.0 / (1.0 + "
            "exp(-z)) : exp(z) / (1.0 + exp(z));\n\n"
            "        out[0] = 1.0 - p;\n        out[1] = p;\n    }\n}\n\n",
            L);
    if (m->out_kind == OUT_IDENTITY)
        return aml_cgen_printf(g, "    out[0] = a%d[0];\n}\n\n", L);
    return aml_cgen_printf(g,
                           "    {\n        double mx = a%d[0], s = 0.0;\n\n"
                           "        for (j = 1; j < %d; j++)\n"
                           "            mx = fmax(mx, a%d[j]);\n"
                           "        for (j = 0; j < %d; j++)\n"
                           "            s += (out[j] = exp(a%d[j] - mx));\n"
                           "        for (j = 0; j < %d; j++)\n"
                           "            out[j] /= s;\n    }\n}\n\n",
                           L, k, L, k, L, k);
}

/*
 * C export: the layers' products are summed in input order where predict
 * uses dgemm, so outputs agree to rounding (about 1e-15), not bit for bit.
 */
static int mlp_emit_c(const aml_learner *l, aml_cgen *g, const char *fn)
{
    const mlp *m = (const mlp *)l;
    char par[64];
    int j, rc;

    if (!m->par)
        return aml_error_set(AML_EINVAL, "mlp: export before fit");
    if ((rc = aml_cgen_name(g, "mlp_par", par, sizeof(par))) < 0 ||
        (rc = aml_cgen_doubles(g, par, m->par, m->n_par)) < 0)
        return rc;
    aml_cgen_printf(g,
                    "/* mlp: %d hidden layer(s) (%s). */\n"
                    "static void %s(const double *x, double *out)\n{\n"
                    "    const double *a0 = x;\n",
                    m->n_hidden, m->act == ACT_RELU ? "relu" : "tanh", fn);
    for (j = 1; j <= m->L; j++)
        aml_cgen_printf(g, "    double a%d[%d];\n", j, m->units[j]);
    aml_cgen_printf(g, "    int i, j;\n\n");
    for (j = 1; j <= m->L; j++)
        if ((rc = mlp_emit_layer(m, g, par, j)) < 0)
            return rc;
    return mlp_emit_output(m, g);
}

/* ---- parameters, life cycle, save/load ------------------------------------- */

static int mlp_create(aml_learner **out, const aml_learner_type *type, aml_task task)
{
    mlp *m = aml_calloc(1, sizeof(*m));

    *out = NULL;
    if (!m)
        return AML_ENOMEM;
    m->base.type = type;
    m->base.task = task;
    m->hidden[0] = 100;
    m->n_hidden = 1;
    m->act = ACT_RELU;
    m->lr = 1e-3;
    m->alpha = 1e-4;
    m->batch = 0;
    m->max_iter = 200;
    m->val_frac = 0.1;
    m->no_change = 10;
    m->tol = 1e-4;
    *out = &m->base;
    return AML_OK;
}

static int mlp_set_layers(mlp *m, const aml_value *v)
{
    int sizes[MLP_MAX_LAYERS], n;

    if (v->kind == AML_VAL_INT || v->kind == AML_VAL_REAL) {
        long long u = v->kind == AML_VAL_INT ? v->i : (long long)v->real;

        if (u < 1 || u > MLP_MAX_UNITS)
            return AML_EINVAL;
        m->hidden[0] = (int)u;
        m->n_hidden = 1;
        return AML_OK;
    }
    if ((n = mlp_parse_layers(v->str, sizes)) < 1)
        return AML_EINVAL;
    memcpy(m->hidden, sizes, (size_t)n * sizeof(int));
    m->n_hidden = n;
    return AML_OK;
}

static int mlp_set_param(aml_learner *l, const char *name, const aml_value *v)
{
    mlp *m = (mlp *)l;
    int s = v->kind == AML_VAL_STR, rc = AML_OK;

    if (strcmp(name, "hidden_layer_sizes") == 0)
        rc = mlp_set_layers(m, v);
    else if (strcmp(name, "activation") == 0 && s)
        m->act = strcmp(v->str, "tanh") == 0 ? ACT_TANH : ACT_RELU;
    else if (strcmp(name, "early_stopping") == 0 && s)
        m->early = strcmp(v->str, "true") == 0;
    else if (strcmp(name, "batch_size") == 0)
        m->batch = s ? 0 : v->i;
    else if (strcmp(name, "learning_rate_init") == 0 && !s)
        m->lr = v->real;
    else if (strcmp(name, "alpha") == 0 && !s)
        m->alpha = v->real;
    else if (strcmp(name, "max_iter") == 0 && !s)
        m->max_iter = v->i;
    else if (strcmp(name, "validation_fraction") == 0 && !s)
        m->val_frac = v->real;
    else if (strcmp(name, "n_iter_no_change") == 0 && !s)
        m->no_change = v->i;
    else if (strcmp(name, "tol") == 0 && !s)
        m->tol = v->real;
    else
        rc = AML_EINVAL;
    if (rc < 0)
        return aml_error_set(AML_EINVAL, "mlp: bad value for parameter '%s'", name);
    return AML_OK;
}

static void mlp_free(aml_learner *l)
{
    mlp *m = (mlp *)l;

    if (!m)
        return;
    free(m->par);
    free(m);
}

/* Layout: u8 activation, u8 output kind, u32 L, L + 1 unit counts (u32), parameters. */
static int mlp_save(const aml_learner *l, aml_writer *w)
{
    const mlp *m = (const mlp *)l;
    int i;

    if (!m->par)
        return aml_error_set(AML_EINVAL, "mlp: save before fit");
    aml_put_u8(w, (uint8_t)m->act);
    aml_put_u8(w, (uint8_t)m->out_kind);
    aml_put_u32(w, (uint32_t)m->L);
    for (i = 0; i <= m->L; i++)
        aml_put_u32(w, (uint32_t)m->units[i]);
    aml_put_f64s(w, m->par, m->n_par);
    return w->failed ? AML_ENOMEM : AML_OK;
}

static int mlp_load_state(aml_learner *l, aml_reader *r)
{
    mlp *m = (mlp *)l;
    uint8_t act, kind;
    uint32_t L, u[MLP_MAX_LAYERS + 2];
    int i, rc;

    if ((rc = aml_get_u8(r, &act)) < 0 || (rc = aml_get_u8(r, &kind)) < 0 ||
        (rc = aml_get_u32(r, &L)) < 0)
        return rc;
    if (act > ACT_TANH || kind > OUT_SOFTMAX || L < 1 || L > MLP_MAX_LAYERS + 1 ||
        (kind == OUT_IDENTITY) != (m->base.task == AML_TASK_REGRESSION))
        return aml_error_set(AML_EFORMAT, "mlp: corrupt model header");
    for (i = 0; i <= (int)L; i++)
        if ((rc = aml_get_u32(r, &u[i])) < 0)
            return rc;
    for (i = 1; i <= (int)L; i++)
        if (u[i] < 1 || u[i] > (i < (int)L ? MLP_MAX_UNITS : 1u << 20) || u[0] > 1u << 30)
            return aml_error_set(AML_EFORMAT, "mlp: corrupt layer sizes in model");
    if ((kind == OUT_SOFTMAX && u[L] < 3) || (kind != OUT_SOFTMAX && u[L] != 1))
        return aml_error_set(AML_EFORMAT, "mlp: corrupt output layer in model");
    {
        uint64_t n_par = 0; /* each factor < 2^31: no overflow over a few layers */

        for (i = 1; i <= (int)L; i++)
            n_par += (uint64_t)u[i - 1] * u[i] + u[i];
        if ((rc = aml_reader_need(r, (size_t)n_par, sizeof(double))) < 0)
            return rc; /* before mlp_layout allocates for them */
    }
    m->act = act;
    m->n_hidden = (int)L - 1;
    for (i = 0; i < m->n_hidden; i++)
        m->hidden[i] = (int)u[i + 1];
    if ((rc = mlp_layout(m, u[0], (int)u[L])) < 0)
        return rc;
    m->out_kind = kind;
    if ((rc = aml_reader_need(r, m->n_par, sizeof(double))) < 0)
        return rc;
    return aml_get_f64s(r, m->par, m->n_par);
}

static int mlp_load(aml_learner **out, const aml_learner_type *type, aml_task task,
                    aml_reader *r)
{
    return aml_learner_load_with(out, type, task, r, mlp_load_state);
}

const aml_learner_type aml_learner_mlp = {
    .name = "mlp",
    .tasks = AML_TASK_BIT(AML_TASK_CLASSIFICATION) | AML_TASK_BIT(AML_TASK_REGRESSION),
    .flags = AML_LEARNER_WANTS_SCALING,
    .params = mlp_params,
    .create = mlp_create,
    .set_param = mlp_set_param,
    .fit = mlp_fit,
    .predict = mlp_predict,
    .emit_c = mlp_emit_c,
    .save = mlp_save,
    .load = mlp_load,
    .free = mlp_free,
    .resource_param = "max_iter",
};
