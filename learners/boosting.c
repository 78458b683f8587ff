/*
 * boosting.c - the boosting learner: AdaBoost over any base learner.
 *
 * Classification is SAMME (Zhu, Zou, Rosset and Hastie, "Multi-class
 * AdaBoost", Statistics and Its Interface 2, 2009), regression is
 * AdaBoost.R2 with the linear loss (Drucker, "Improving Regressors using
 * Boosting Techniques", ICML 1997), with the rounds, member weights,
 * probabilities, weighted median and early stops of adaboost.c (which
 * follows scikit-learn's AdaBoostClassifier(algorithm="SAMME") and
 * AdaBoostRegressor).  The difference is how a member sees the weights:
 * not every base learner honours sample weights the way boosting needs,
 * so each round fits the base learner, with its default parameters, on n
 * rows drawn with replacement with the current weights as probabilities:
 * the resampling form of AdaBoost (Freund and Schapire, "Experiments with
 * a New Boosting Algorithm", ICML 1996), which AdaBoost.R2 always uses.
 * The member's weighted error is then measured on every training row with
 * the weights themselves.
 *
 * Stops as scikit-learn does: a member without error on the weighted rows
 * ends the boosting (kept with weight 1); a member no better than chance
 * (SAMME: error >= 1 - 1/K; R2: average loss >= 0.5) is dropped and ends
 * it, and a first SAMME member that bad fails the fit (a first R2 member is
 * kept, with weight 0).  Weights are normalised after every round and
 * floored at DBL_EPSILON (rows of sample weight 0 stay at 0, and are never
 * drawn).
 *
 * Design.  Round t draws its resample and fits its member with
 * aml_rng_child(fit rng, t); rounds are sequential (each depends on the
 * last) and the base fit gets every thread of the fit.  Members are kept
 * as in bagging (subfit.c): classes a resample missed are mapped back.
 * C export (emit_c) writes every member's base learner through its own
 * emit_c slot, then the votes or the weighted median as predict computes
 * them.
 */
#include "aml.h"
#include "learner.h"
#include "subfit_internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Saved models with more members than this are taken for corruption. */
#define BOOST_MAX_MEMBERS 100000

static const aml_param_def boost_params[] = {
    {.name = "base",
     .kind = AML_VAL_STR,
     .choices = aml_subfit_base_words,
     .def = {.kind = AML_VAL_STR, .str = "decision_tree"},
     .no_search = 1,
     .doc = "the base learner, with its default parameters: any built-in learner that "
            "does the task (a default search keeps decision_tree; list bases to search "
            "them)"},
    {.name = "n",
     .kind = AML_VAL_INT,
     .lo = 1,
     .hi = BOOST_MAX_MEMBERS,
     .def = {.kind = AML_VAL_INT, .i = 50},
     .search_lo = 10,
     .search_hi = 200,
     .search_log = 1,
     .doc = "most boosting rounds (members); fewer when a round stops the boosting"},
    {.name = "learning_rate",
     .kind = AML_VAL_REAL,
     .lo = 0,
     .hi = INFINITY,
     .lo_open = 1,
     .def = {.kind = AML_VAL_REAL, .real = 1.0},
     .search_lo = 0.01,
     .search_hi = 2.0,
     .search_log = 1,
     .doc = "shrinks each member's weight (and, for regression, its reweighting)"},
    {.name = NULL},
};

typedef struct boost {
    aml_learner base;
    const char *base_name; /* a word of aml_subfit_base_words */
    long long n;
    double learning_rate;

    int n_out;
    size_t p, n_members;
    aml_subfit *members;
    double *weights; /* n_members member weights */
} boost;

/* ---- life cycle and parameters ------------------------------------------ */

static int boost_create(aml_learner **out, const aml_learner_type *type, aml_task task)
{
    boost *b = aml_calloc(1, sizeof(*b));

    *out = NULL;
    if (!b)
        return AML_ENOMEM;
    b->base.type = type;
    b->base.task = task;
    b->base_name = "decision_tree";
    b->n = 50;
    b->learning_rate = 1.0;
    *out = &b->base;
    return AML_OK;
}

/* The static copy of base learner name s, or NULL. */
static const char *boost_word(const char *s)
{
    size_t i;

    for (i = 0; aml_subfit_base_words[i]; i++)
        if (strcmp(aml_subfit_base_words[i], s) == 0)
            return aml_subfit_base_words[i];
    return NULL;
}

static int boost_set_param(aml_learner *l, const char *name, const aml_value *v)
{
    boost *b = (boost *)l;
    const char *word = v->kind == AML_VAL_STR ? boost_word(v->str) : NULL;

    if (strcmp(name, "base") == 0 && word)
        b->base_name = word;
    else if (strcmp(name, "n") == 0 && v->kind == AML_VAL_INT && v->i >= 1 &&
             v->i <= BOOST_MAX_MEMBERS)
        b->n = v->i;
    else if (strcmp(name, "learning_rate") == 0 && v->kind == AML_VAL_REAL &&
             v->real > 0 && isfinite(v->real))
        b->learning_rate = v->real;
    else
        return aml_error_set(AML_EINVAL, "boosting: bad value for '%s'", name);
    return AML_OK;
}

static void boost_release(boost *b)
{
    size_t k;

    for (k = 0; k < b->n_members; k++)
        aml_subfit_dispose(&b->members[k]);
    free(b->members);
    free(b->weights);
    b->members = NULL;
    b->weights = NULL;
    b->n_members = 0;
}

static void boost_free(aml_learner *l)
{
    boost *b = (boost *)l;

    if (!b)
        return;
    boost_release(b);
    free(b);
}

/* ---- boosting ----------------------------------------------------------- */

/* Everything one fit needs. */
typedef struct boost_fit_state {
    boost *b;
    const aml_learner_type *type;
    aml_subfit_data d; /* the training rows; members see them unweighted */
    const aml_rng *rng;
    int threads;
    double *sw;          /* n sample weights, summing to 1 */
    double *cum;         /* n cumulative weights of the resample */
    double *pred;        /* n x n_out predictions of the current member */
    double *err;         /* n per-row losses */
    unsigned *counts;    /* n draws per row */
    size_t *rows;        /* the resample: n rows, increasing */
    unsigned char *zero; /* rows whose weight was 0 from the start */
} boost_fit_state;

/*
 * One SAMME round on the member just fitted: returns 1 to go on, 0 to stop
 * (keeping the member with *alpha), -1 to stop dropping it.
 */
static int boost_samme_round(boost_fit_state *s, int last, double *alpha)
{
    size_t i, n = s->d.X->rows, C = (size_t)s->b->n_out;
    double wrong = 0, total = 0, e;

    for (i = 0; i < n; i++) {
        s->err[i] = (double)aml_subfit_argmax(s->pred + i * C, C) != s->d.y[i];
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
    *alpha = s->b->learning_rate * (log((1.0 - e) / e) + log((double)C - 1.0));
    for (i = 0; i < n && !last; i++)
        if (s->sw[i] > 0)
            s->sw[i] = exp(log(s->sw[i]) + *alpha * s->err[i]);
    return 1;
}

/* R2's linear loss |error| / max |error| per row; returns the weighted average. */
static double boost_r2_loss(boost_fit_state *s)
{
    size_t i, n = s->d.X->rows;
    double emax = 0, L = 0;

    for (i = 0; i < n; i++) {
        s->err[i] = fabs(s->pred[i] - s->d.y[i]);
        if (s->sw[i] > 0 && s->err[i] > emax)
            emax = s->err[i];
    }
    for (i = 0; i < n; i++) {
        if (emax != 0)
            s->err[i] /= emax;
        if (s->sw[i] > 0)
            L += s->sw[i] * s->err[i];
    }
    return L;
}

/* One AdaBoost.R2 round; same returns as boost_samme_round. */
static int boost_r2_round(boost_fit_state *s, int last, double *alpha)
{
    size_t i, n = s->d.X->rows;
    double L = boost_r2_loss(s), beta, lr = s->b->learning_rate;

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

/* Draws n rows with probabilities sw into s->rows (increasing, repeats adjacent). */
static void boost_resample(boost_fit_state *s, aml_rng *rng)
{
    size_t i, n = s->d.X->rows, at = 0;
    unsigned c;
    double acc = 0;

    for (i = 0; i < n; i++) {
        acc += s->sw[i];
        s->cum[i] = acc;
        s->counts[i] = 0;
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
        s->counts[lo]++;
    }
    for (i = 0; i < n; i++)
        for (c = 0; c < s->counts[i]; c++)
            s->rows[at++] = i;
}

/* Floors the weights at DBL_EPSILON, except rows that were 0 from the start. */
static void boost_clip(boost_fit_state *s)
{
    size_t i;

    for (i = 0; i < s->d.X->rows; i++)
        s->sw[i] = s->zero[i] ? 0.0 : (s->sw[i] < DBL_EPSILON ? DBL_EPSILON : s->sw[i]);
}

/* Fits member t on a resample and predicts the training rows. */
static int boost_grow(boost_fit_state *s, size_t t)
{
    aml_subfit *m = &s->b->members[t];
    aml_rng trng;
    int rc;

    aml_rng_child(&trng, s->rng, (uint64_t)t);
    boost_resample(s, &trng);
    if ((rc = aml_subfit_fit(m, s->type, &s->d, s->rows, s->d.X->rows, NULL, s->d.X->cols,
                             &trng, s->threads)) < 0)
        return rc;
    return aml_subfit_predict(m, s->d.X, s->d.task, s->b->n_out, s->pred);
}

/* Normalises the weights; returns 0 when boosting must stop. */
static int boost_normalise(boost_fit_state *s, int last)
{
    size_t i, n = s->d.X->rows;
    double sum = 0;

    for (i = 0; i < n; i++)
        sum += s->sw[i];
    if (!isfinite(sum) || sum <= 0)
        return 0;
    for (i = 0; i < n && !last; i++)
        s->sw[i] /= sum;
    return 1;
}

/* The boosting loop; leaves b->n_members members with their weights. */
static int boost_loop(boost_fit_state *s)
{
    boost *b = s->b;
    int clf = b->base.task == AML_TASK_CLASSIFICATION;
    size_t t, n_rounds = (size_t)b->n;
    int rc, go = 1;

    for (t = 0; t < n_rounds && go; t++) {
        int last = t == n_rounds - 1;
        double alpha = 0;

        boost_clip(s);
        rc = boost_grow(s, t);
        b->n_members = t + 1; /* disposed by boost_release even when half-made */
        if (rc < 0)
            return rc;
        go = clf ? boost_samme_round(s, last, &alpha) : boost_r2_round(s, last, &alpha);
        if (go < 0) {
            /* No better than chance: dropped (R2 keeps a lone first member). */
            if (clf || t > 0) {
                aml_subfit_dispose(&b->members[t]);
                b->n_members = t;
            }
            break;
        }
        b->weights[t] = alpha;
        if (go)
            go = boost_normalise(s, last);
    }
    if (b->n_members == 0)
        return aml_error_set(AML_EINVAL, "boosting: the first member is no better than "
                                         "chance; the ensemble cannot be fitted");
    return AML_OK;
}

static void boost_state_dispose(boost_fit_state *s)
{
    free(s->sw);
    free(s->cum);
    free(s->pred);
    free(s->err);
    free(s->counts);
    free(s->rows);
    free(s->zero);
}

static int boost_state_init(boost_fit_state *s, const double *w)
{
    size_t i, n = s->d.X->rows, C = (size_t)s->b->n_out;
    double sum = 0;

    s->sw = aml_mallocarray(n, sizeof(double));
    s->cum = aml_mallocarray(n, sizeof(double));
    s->pred = aml_mallocarray(n * C, sizeof(double));
    s->err = aml_mallocarray(n, sizeof(double));
    s->counts = aml_mallocarray(n, sizeof(unsigned));
    s->rows = aml_mallocarray(n, sizeof(size_t));
    s->zero = aml_mallocarray(n, 1);
    if (!s->sw || !s->cum || !s->pred || !s->err || !s->counts || !s->rows || !s->zero)
        return AML_ENOMEM;
    for (i = 0; i < n; i++)
        sum += w ? w[i] : 1.0;
    for (i = 0; i < n; i++) {
        s->sw[i] = (w ? w[i] : 1.0) / sum;
        s->zero[i] = s->sw[i] == 0;
    }
    return AML_OK;
}

static int boost_fit(aml_learner *l, const aml_matrix *X, const double *y,
                     const double *w, int n_classes, aml_rng *rng, int threads)
{
    boost *b = (boost *)l;
    aml_subfit_data checked = {X, y, w, l->task, n_classes};
    boost_fit_state s = {
        .b = b, .d = {X, y, NULL, l->task, n_classes}, .rng = rng, .threads = threads};
    int rc;

    boost_release(b);
    b->n_out = l->task == AML_TASK_CLASSIFICATION ? n_classes : 1;
    b->p = X->cols;
    if ((rc = aml_subfit_base(&s.type, "boosting", b->base_name, l->task)) < 0 ||
        (rc = aml_subfit_check("boosting", &checked)) < 0)
        return rc;
    b->members = aml_calloc((size_t)b->n, sizeof(aml_subfit));
    b->weights = aml_calloc((size_t)b->n, sizeof(double));
    if (!b->members || !b->weights)
        rc = AML_ENOMEM;
    else if ((rc = boost_state_init(&s, w)) == AML_OK)
        rc = boost_loop(&s);
    boost_state_dispose(&s);
    if (rc < 0) {
        boost_release(b);
        return rc;
    }
    l->n_features = X->cols;
    l->n_classes = l->task == AML_TASK_CLASSIFICATION ? n_classes : 0;
    return AML_OK;
}

/* ---- predict ------------------------------------------------------------ */

static int boost_check_state(const boost *b)
{
    if (b->n_members == 0)
        return aml_error_set(AML_EINVAL, "boosting: predict before fit");
    if (b->base.n_features != b->p ||
        (b->base.task == AML_TASK_CLASSIFICATION && b->base.n_classes != b->n_out))
        return aml_error_set(AML_EFORMAT,
                             "boosting: model shape does not match its header");
    return AML_OK;
}

/* SAMME probabilities from the weighted votes in out (rows x C), in place. */
static void boost_votes_to_proba(const boost *b, double *out, size_t rows)
{
    size_t i, c, t, C = (size_t)b->n_out;
    double total = 0;

    for (t = 0; t < b->n_members; t++)
        total += b->weights[t];
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

static int boost_predict_samme(const boost *b, const aml_matrix *X, double *out)
{
    size_t i, t, C = (size_t)b->n_out;
    double *p = aml_mallocarray(X->rows * C + 1, sizeof(double));
    int rc = AML_OK;

    if (!p)
        return AML_ENOMEM;
    memset(out, 0, X->rows * C * sizeof(double));
    for (t = 0; t < b->n_members && rc == AML_OK; t++) {
        rc = aml_subfit_predict(&b->members[t], X, b->base.task, b->n_out, p);
        for (i = 0; i < X->rows && rc == AML_OK; i++)
            out[i * C + aml_subfit_argmax(p + i * C, C)] += b->weights[t];
    }
    free(p);
    if (rc == AML_OK)
        boost_votes_to_proba(b, out, X->rows);
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

static int boost_predict_r2(const boost *b, const aml_matrix *X, double *out)
{
    size_t i, t, T = b->n_members;
    double *p = aml_mallocarray(X->rows * T + 1, sizeof(double));
    double *col = aml_mallocarray(X->rows + 1, sizeof(double));
    size_t *order = aml_mallocarray(T, sizeof(size_t));
    int rc = AML_ENOMEM;

    if (!p || !col || !order)
        goto out;
    for (t = 0; t < T; t++) {
        if ((rc = aml_subfit_predict(&b->members[t], X, b->base.task, 1, col)) < 0)
            goto out;
        for (i = 0; i < X->rows; i++)
            p[i * T + t] = col[i];
    }
    for (i = 0; i < X->rows; i++)
        out[i] = boost_weighted_median(p + i * T, b->weights, order, T);
    rc = AML_OK;
out:
    free(p);
    free(col);
    free(order);
    return rc;
}

static int boost_predict(const aml_learner *l, const aml_matrix *X, double *out)
{
    const boost *b = (const boost *)l;
    int rc;

    if ((rc = boost_check_state(b)) < 0)
        return rc;
    if (l->task == AML_TASK_CLASSIFICATION)
        return boost_predict_samme(b, X, out);
    return boost_predict_r2(b, X, out);
}

/* ---- C export ----------------------------------------------------------- */

/* SAMME: the weighted votes of the members, then predict's softmax. */
static int boost_emit_samme(const boost *b, aml_cgen *g, const char *fn, const char *nm,
                            const char *w)
{
    double total = 0;
    size_t t;

    for (t = 0; t < b->n_members; t++)
        total += b->weights[t];
    return aml_cgen_printf(
        g,
        "/* boosting (SAMME): %zu members. */\n"
        "static void %s(const double *x, double *out)\n{\n"
        "    const size_t C = %d;\n"
        "    double part[%d], m, s = 0;\n    size_t t, c, best;\n\n"
        "    for (c = 0; c < C; c++)\n        out[c] = 0;\n"
        "    for (t = 0; t < %zu; t++) {\n"
        "        %s_member(t, x, part);\n"
        "        for (best = 0, c = 1; c < C; c++)\n"
        "            if (part[c] > part[best])\n                best = c;\n"
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
        b->n_members, fn, b->n_out, b->n_out, b->n_members, nm, w, total);
}

/* R2: the weighted median of the members' values. */
static int boost_emit_r2(const boost *b, aml_cgen *g, const char *fn, const char *nm,
                         const char *w)
{
    size_t T = b->n_members;

    return aml_cgen_printf(
        g,
        "/* boosting (R2): weighted median of %zu members. */\n"
        "static void %s(const double *x, double *out)\n{\n"
        "    double v[%zu], total = 0, acc = 0;\n"
        "    size_t order[%zu], i, j, T = %zu;\n\n"
        "    for (i = 0; i < T; i++) {\n"
        "        %s_member(i, x, &v[i]);\n        order[i] = i;\n    }\n"
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
        T, fn, T, T, T, nm, w, w);
}

/* C export, bit for bit where the bases' exports are: predict's operations. */
static int boost_emit_c(const aml_learner *l, aml_cgen *g, const char *fn)
{
    const boost *b = (const boost *)l;
    char nm[64], w[64];
    int rc;

    if ((rc = boost_check_state(b)) < 0 ||
        (rc = aml_subfit_emit_c(b->members, b->n_members, l->task, b->n_out, g, nm,
                                sizeof(nm))) < 0 ||
        (rc = aml_cgen_name(g, "boost_w", w, sizeof(w))) < 0 ||
        (rc = aml_cgen_doubles(g, w, b->weights, b->n_members)) < 0)
        return rc;
    if (l->task == AML_TASK_CLASSIFICATION)
        return boost_emit_samme(b, g, fn, nm, w);
    return boost_emit_r2(b, g, fn, nm, w);
}

/*
 * The members' normalised importances weighted by their member weights
 * (equal weights when every weight is 0: a lone R2 member), normalised.
 */
static int boost_importance(const aml_learner *l, double *out)
{
    const boost *b = (const boost *)l;
    size_t t;
    double total = 0;
    int rc;

    if ((rc = boost_check_state(b)) < 0)
        return rc;
    for (t = 0; t < b->n_members; t++)
        total += b->weights[t];
    memset(out, 0, b->p * sizeof(double));
    for (t = 0; t < b->n_members; t++)
        if ((rc = aml_subfit_importance_add(&b->members[t],
                                            total > 0 ? b->weights[t] : 1.0, out)) < 0)
            return aml_error_set(rc, "boosting: %s", aml_error_message());
    aml_subfit_normalise(out, b->p);
    return AML_OK;
}

/* ---- save / load -------------------------------------------------------- */

static int boost_save(const aml_learner *l, aml_writer *w)
{
    const boost *b = (const boost *)l;
    size_t t;
    int rc;

    if (b->n_members == 0)
        return aml_error_set(AML_EINVAL, "boosting: cannot save an unfitted model");
    aml_put_str(w, b->base_name);
    aml_put_i64(w, b->n);
    aml_put_f64(w, b->learning_rate);
    aml_put_u32(w, (uint32_t)b->n_out);
    aml_put_u64(w, (uint64_t)b->p);
    aml_put_u64(w, (uint64_t)b->n_members);
    aml_put_f64s(w, b->weights, b->n_members);
    for (t = 0; t < b->n_members; t++)
        if ((rc = aml_subfit_save(&b->members[t], l->task, w)) < 0)
            return rc;
    return w->failed ? AML_ENOMEM : AML_OK;
}

static int boost_load_params(boost *b, aml_reader *r, const aml_learner_type **type,
                             uint64_t *n_members)
{
    char *name = NULL;
    const char *word;
    int64_t n;
    uint32_t n_out;
    uint64_t p;
    int rc;

    if ((rc = aml_get_str(r, &name)) < 0)
        return rc;
    word = name ? boost_word(name) : NULL;
    rc = word ? aml_subfit_base(type, "boosting", word, b->base.task) : AML_EFORMAT;
    free(name);
    if (rc < 0)
        return aml_error_set(AML_EFORMAT, "boosting: unknown base learner in model");
    if ((rc = aml_get_i64(r, &n)) < 0 || (rc = aml_get_f64(r, &b->learning_rate)) < 0 ||
        (rc = aml_get_u32(r, &n_out)) < 0 || (rc = aml_get_u64(r, &p)) < 0 ||
        (rc = aml_get_u64(r, n_members)) < 0)
        return rc;
    if (n < 1 || n > BOOST_MAX_MEMBERS ||
        !(b->learning_rate > 0 && isfinite(b->learning_rate)) || n_out < 1 ||
        n_out > 1u << 20 || (b->base.task == AML_TASK_REGRESSION && n_out != 1) ||
        (b->base.task == AML_TASK_CLASSIFICATION && n_out < 2) || p < 1 ||
        p > INT32_MAX || *n_members < 1 || *n_members > (uint64_t)n)
        return aml_error_set(AML_EFORMAT, "boosting: corrupt model header");
    b->base_name = word;
    b->n = n;
    b->n_out = (int)n_out;
    b->p = (size_t)p;
    return AML_OK;
}

/* Member weights finite and >= 0; SAMME needs a positive total to divide by. */
static int boost_weights_ok(const boost *b, size_t n_members)
{
    double total = 0;
    size_t t;

    for (t = 0; t < n_members; t++) {
        if (!(b->weights[t] >= 0 && isfinite(b->weights[t])))
            return 0;
        total += b->weights[t];
    }
    return b->base.task == AML_TASK_REGRESSION || total > 0;
}

static int boost_load_state(aml_learner *l, aml_reader *r)
{
    boost *b = (boost *)l;
    const aml_learner_type *type;
    uint64_t n_members;
    size_t t;
    int rc;

    if ((rc = boost_load_params(b, r, &type, &n_members)) < 0 ||
        (rc = aml_reader_need(r, (size_t)n_members, 8 + 10)) < 0)
        return rc;
    b->weights = aml_mallocarray((size_t)n_members, sizeof(double));
    b->members = aml_calloc((size_t)n_members, sizeof(aml_subfit));
    if (!b->weights || !b->members)
        return AML_ENOMEM;
    if ((rc = aml_get_f64s(r, b->weights, (size_t)n_members)) < 0)
        return rc;
    if (!boost_weights_ok(b, (size_t)n_members))
        return aml_error_set(AML_EFORMAT, "boosting: corrupt member weights in model");
    for (t = 0; t < (size_t)n_members; t++) {
        if ((rc = aml_subfit_load(&b->members[t], r, "boosting", type, l->task, b->p,
                                  b->n_out)) < 0)
            return rc;
        b->n_members = t + 1;
    }
    l->n_features = b->p;
    l->n_classes = l->task == AML_TASK_CLASSIFICATION ? b->n_out : 0;
    return AML_OK;
}

static int boost_load(aml_learner **out, const aml_learner_type *type, aml_task task,
                      aml_reader *r)
{
    return aml_learner_load_with(out, type, task, r, boost_load_state);
}

const aml_learner_type aml_learner_boosting = {
    .name = "boosting",
    .tasks = AML_TASK_BIT(AML_TASK_CLASSIFICATION) | AML_TASK_BIT(AML_TASK_REGRESSION),
    /* For the base learners that want it (knn, svm, linear models, mlp); trees
     * split standardised inputs the same way. */
    .flags = AML_LEARNER_WANTS_SCALING,
    .params = boost_params,
    .create = boost_create,
    .set_param = boost_set_param,
    .fit = boost_fit,
    .predict = boost_predict,
    .emit_c = boost_emit_c,
    .save = boost_save,
    .load = boost_load,
    .free = boost_free,
    .importance = boost_importance,
    .resource_param = "n", /* successive halving scales the members */
};
