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
 * them.  The rounds, predictions and C export are boost_core.c's, shared
 * with adaboost.c; this file resamples, fits and keeps the members.
 */
#include "aml.h"
#include "boost_internal.h"
#include "learner.h"
#include "subfit_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Saved models with more members than this are taken for corruption. */
#define BOOST_MAX_MEMBERS 100000

static const aml_param_def boost_params[] = {
    AML_SUBFIT_BASE_PARAM,
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

static int boost_set_param(aml_learner *l, const char *name, const aml_value *v)
{
    boost *b = (boost *)l;
    const char *word =
        v->kind == AML_VAL_STR ? aml_subfit_word(aml_subfit_base_words, v->str) : NULL;

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
    aml_subfit_release(&b->members, &b->n_members);
    free(b->weights);
    b->weights = NULL;
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

/* Everything one fit needs; the rounds' arithmetic is boost_core.c's. */
typedef struct boost_fit_state {
    boost *b;
    const aml_learner_type *type;
    aml_subfit_data d; /* the training rows; members see them unweighted */
    const aml_rng *rng;
    int threads;
    aml_boost core; /* the sample weights and the member's training predictions */
    double *counts; /* n draws per row */
    size_t *rows;   /* the resample: n rows, increasing */
} boost_fit_state;

/* Fits member t on a resample drawn with the weights and predicts the training rows. */
static int boost_grow(void *ctx, size_t t)
{
    boost_fit_state *s = ctx;
    aml_subfit *m = &s->b->members[t];
    size_t i, k, n = s->d.X->rows, at = 0;
    aml_rng trng;
    int rc;

    aml_rng_child(&trng, s->rng, (uint64_t)t);
    aml_boost_draw(&s->core, &trng, s->counts);
    for (i = 0; i < n; i++)
        for (k = 0; k < (size_t)s->counts[i]; k++)
            s->rows[at++] = i;
    if ((rc = aml_subfit_fit(m, s->type, &s->d, s->rows, n, NULL, s->d.X->cols, &trng,
                             s->threads)) < 0)
        return rc;
    return aml_subfit_predict(m, s->d.X, s->d.task, s->b->n_out, s->core.pred);
}

/* Drops member t, no better than chance. */
static void boost_drop(void *ctx, size_t t)
{
    boost_fit_state *s = ctx;

    aml_subfit_dispose(&s->b->members[t]);
}

static void boost_state_dispose(boost_fit_state *s)
{
    aml_boost_dispose(&s->core);
    free(s->counts);
    free(s->rows);
}

static int boost_state_init(boost_fit_state *s, const double *w)
{
    size_t n = s->d.X->rows;

    s->core = (aml_boost){.task = s->d.task,
                          .n = n,
                          .n_out = (size_t)s->b->n_out,
                          .y = s->d.y,
                          .learning_rate = s->b->learning_rate,
                          .loss = AML_BOOST_LINEAR};
    s->counts = aml_mallocarray(n, sizeof(double));
    s->rows = aml_mallocarray(n, sizeof(size_t));
    if (!s->counts || !s->rows)
        return AML_ENOMEM;
    return aml_boost_init(&s->core, w);
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
        rc = aml_boost_loop(&s.core, (size_t)b->n, boost_grow, boost_drop, &s, "boosting",
                            "member", b->weights, &b->n_members);
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
    return aml_subfit_check_state(&b->base, "boosting", b->n_members, b->p, b->n_out);
}

/* Member t's predictions for X: values, or class probabilities (rows x n_out). */
static int boost_member(const void *ctx, size_t t, const aml_matrix *X, double *out)
{
    const boost *b = ctx;

    return aml_subfit_predict(&b->members[t], X, b->base.task, b->n_out, out);
}

static int boost_predict(const aml_learner *l, const aml_matrix *X, double *out)
{
    const boost *b = (const boost *)l;
    int rc;

    if ((rc = boost_check_state(b)) < 0)
        return rc;
    return aml_boost_predict(l->task, boost_member, b, b->weights, b->n_members, b->n_out,
                             X, out);
}

/* ---- C export ----------------------------------------------------------- */

/* C export, bit for bit where the bases' exports are: predict's operations. */
static int boost_emit_c(const aml_learner *l, aml_cgen *g, const char *fn)
{
    const boost *b = (const boost *)l;
    char nm[64], w[64], decl[64], get[160];
    int rc;

    if ((rc = boost_check_state(b)) < 0 ||
        (rc = aml_subfit_emit_c(b->members, b->n_members, l->task, b->n_out, g, nm,
                                sizeof(nm))) < 0 ||
        (rc = aml_cgen_name(g, "boost_w", w, sizeof(w))) < 0 ||
        (rc = aml_cgen_doubles(g, w, b->weights, b->n_members)) < 0)
        return rc;
    /* Member t's outputs into part (SAMME: a pointer to them; R2: its value). */
    snprintf(decl, sizeof(decl), "    double part[%d];\n", b->n_out);
    snprintf(get, sizeof(get),
             l->task == AML_TASK_CLASSIFICATION ? "(%s_member(t, x, part), part)"
                                                : "(%s_member(t, x, part), part[0])",
             nm);
    return aml_boost_emit_c(g, l->task, fn, "boosting", "members", b->n_out, b->weights,
                            b->n_members, w, decl, get);
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
    const char *word;
    int64_t n;
    uint32_t n_out;
    uint64_t p;
    int rc;

    if ((rc = aml_subfit_load_base(r, "boosting", b->base.task, type, &word)) < 0)
        return rc;
    if ((rc = aml_get_i64(r, &n)) < 0 || (rc = aml_get_f64(r, &b->learning_rate)) < 0 ||
        (rc = aml_get_u32(r, &n_out)) < 0 || (rc = aml_get_u64(r, &p)) < 0 ||
        (rc = aml_get_u64(r, n_members)) < 0)
        return rc;
    if (n < 1 || n > BOOST_MAX_MEMBERS ||
        !(b->learning_rate > 0 && isfinite(b->learning_rate)) ||
        !aml_subfit_shape_ok(b->base.task, n_out, p) || *n_members < 1 ||
        *n_members > (uint64_t)n)
        return aml_error_set(AML_EFORMAT, "boosting: corrupt model header");
    b->base_name = word;
    b->n = n;
    b->n_out = (int)n_out;
    b->p = (size_t)p;
    return AML_OK;
}

static int boost_load_state(aml_learner *l, aml_reader *r)
{
    boost *b = (boost *)l;
    const aml_learner_type *type;
    uint64_t n_members;
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
    if (!aml_boost_weights_ok(l->task, b->weights, (size_t)n_members))
        return aml_error_set(AML_EFORMAT, "boosting: corrupt member weights in model");
    if ((rc = aml_subfit_load_all(b->members, (size_t)n_members, &b->n_members, r,
                                  "boosting", type, l->task, b->p, b->n_out)) < 0)
        return rc;
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
