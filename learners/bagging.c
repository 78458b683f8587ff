/*
 * bagging.c - the bagging learner: any base learner fitted on random
 * subsets of the rows and columns, predictions averaged.
 *
 * Breiman, "Bagging Predictors", Machine Learning 24 (1996): each member
 * is fitted on a bootstrap sample of the rows; Ho, "The Random Subspace
 * Method for Constructing Decision Forests", IEEE TPAMI 20 (1998): each
 * member sees a random subset of the features.  Parameters and defaults
 * follow scikit-learn's BaggingClassifier / BaggingRegressor (n =
 * n_estimators, max_samples and max_features as fractions, bootstrap, no
 * bootstrap of features): a member draws floor(max_samples * n) rows, with
 * replacement when bootstrap is on, and floor(max_features * p) distinct
 * columns (at least one of each).  Classification averages the members'
 * probabilities (predict_proba, as scikit-learn does for base learners
 * that have it; every learner here does), regression their values.  The
 * base learner runs with its default parameters; searching its parameters
 * inside bagging is not possible (TODO(bagging): nested parameters such as
 * `base.k` would need the spec to name them).
 *
 * Design.  Member k draws its rows, then its columns, from
 * aml_rng_child(fit rng, k), and that generator then fits the base
 * learner.  Rows drawn without replacement are taken in increasing order
 * and columns always are, so with bootstrap off and both fractions 1 every
 * member is the base learner fitted on the data as given.  Members are
 * fitted in parallel on the fit's threads (each base fit on one thread),
 * into their own slots, and everything summed over members is summed in
 * member order afterwards, so a fit is bit-identical at any thread count.
 * The rows, the columns, the classes a member saw and its base learner's
 * state (aml_learner_save, nested) are kept per member (subfit.c).
 *
 * Sample weights reach the base learner row by row: a row drawn twice is
 * present twice with its weight.  A member whose rows all have weight 0 is
 * drawn again (scikit-learn would fit it on nothing).
 *
 * C export (emit_c) writes every member's base learner through its own
 * emit_c slot and averages them as predict does.
 */
#include "aml.h"
#include "learner.h"
#include "subfit_internal.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Saved models with more members than this are taken for corruption. */
#define BAG_MAX_MEMBERS 10000
/* Draws of one member before rows of positive weight are given up on. */
#define BAG_MAX_REDRAWS 1000

static const char *const bag_bool_words[] = {"true", "false", NULL};

static const aml_param_def bag_params[] = {
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
     .hi = BAG_MAX_MEMBERS,
     .def = {.kind = AML_VAL_INT, .i = 10},
     .search_lo = 5,
     .search_hi = 50,
     .doc = "members: base learners fitted, each on its own sample"},
    {.name = "max_samples",
     .kind = AML_VAL_REAL,
     .lo = 0,
     .hi = 1,
     .lo_open = 1,
     .def = {.kind = AML_VAL_REAL, .real = 1.0},
     .search_lo = 0.2,
     .search_hi = 1.0,
     .doc = "rows drawn per member, as a fraction of the rows, in (0, 1]"},
    {.name = "max_features",
     .kind = AML_VAL_REAL,
     .lo = 0,
     .hi = 1,
     .lo_open = 1,
     .def = {.kind = AML_VAL_REAL, .real = 1.0},
     .search_lo = 0.2,
     .search_hi = 1.0,
     .doc = "features each member sees, as a fraction of the features, in (0, 1]"},
    {.name = "bootstrap",
     .kind = AML_VAL_STR,
     .choices = bag_bool_words,
     .def = {.kind = AML_VAL_STR, .str = "true"},
     .doc = "draw each member's rows with replacement: true or false"},
    {.name = NULL},
};

typedef struct bag {
    aml_learner base;
    const char *base_name; /* a word of aml_subfit_base_words */
    long long n;
    double max_samples, max_features;
    int bootstrap;

    int n_out;
    size_t p, n_members;
    aml_subfit *members;
} bag;

/* ---- life cycle and parameters ------------------------------------------ */

static int bag_create(aml_learner **out, const aml_learner_type *type, aml_task task)
{
    bag *b = aml_calloc(1, sizeof(*b));

    *out = NULL;
    if (!b)
        return AML_ENOMEM;
    b->base.type = type;
    b->base.task = task;
    b->base_name = "decision_tree";
    b->n = 10;
    b->max_samples = b->max_features = 1.0;
    b->bootstrap = 1;
    *out = &b->base;
    return AML_OK;
}

/* The static copy of word v in words, or NULL. */
static const char *bag_word(const char *const *words, const aml_value *v)
{
    size_t i;

    for (i = 0; v->kind == AML_VAL_STR && words[i]; i++)
        if (strcmp(words[i], v->str) == 0)
            return words[i];
    return NULL;
}

static int bag_set_param(aml_learner *l, const char *name, const aml_value *v)
{
    bag *b = (bag *)l;
    const char *base = bag_word(aml_subfit_base_words, v);
    const char *yes = bag_word(bag_bool_words, v);
    int frac = v->kind == AML_VAL_REAL && v->real > 0 && v->real <= 1;

    if (strcmp(name, "base") == 0 && base)
        b->base_name = base;
    else if (strcmp(name, "bootstrap") == 0 && yes)
        b->bootstrap = yes == bag_bool_words[0];
    else if (strcmp(name, "n") == 0 && v->kind == AML_VAL_INT && v->i >= 1 &&
             v->i <= BAG_MAX_MEMBERS)
        b->n = v->i;
    else if (strcmp(name, "max_samples") == 0 && frac)
        b->max_samples = v->real;
    else if (strcmp(name, "max_features") == 0 && frac)
        b->max_features = v->real;
    else
        return aml_error_set(AML_EINVAL, "bagging: bad value for '%s'", name);
    return AML_OK;
}

static void bag_release(bag *b)
{
    size_t k;

    for (k = 0; k < b->n_members; k++)
        aml_subfit_dispose(&b->members[k]);
    free(b->members);
    b->members = NULL;
    b->n_members = 0;
}

static void bag_free(aml_learner *l)
{
    bag *b = (bag *)l;

    if (!b)
        return;
    bag_release(b);
    free(b);
}

/* ---- fit ---------------------------------------------------------------- */

/* Per-thread scratch of the parallel loop. */
typedef struct bag_worker {
    unsigned *counts;      /* n draws per row */
    size_t *rows;          /* the member's rows, repeats included */
    size_t *perm;          /* max(n, p) indices for draws without replacement */
    unsigned char *chosen; /* p flags of the member's columns */
    size_t *feat;          /* its columns, increasing */
} bag_worker;

static void bag_worker_dispose(bag_worker *k)
{
    free(k->counts);
    free(k->rows);
    free(k->perm);
    free(k->chosen);
    free(k->feat);
}

static int bag_worker_init(bag_worker *k, size_t n, size_t m_rows, size_t p)
{
    memset(k, 0, sizeof(*k));
    k->counts = aml_mallocarray(n, sizeof(unsigned));
    k->rows = aml_mallocarray(m_rows, sizeof(size_t));
    k->perm = aml_mallocarray(n > p ? n : p, sizeof(size_t));
    k->chosen = aml_mallocarray(p, 1);
    k->feat = aml_mallocarray(p, sizeof(size_t));
    return k->counts && k->rows && k->perm && k->chosen && k->feat ? AML_OK : AML_ENOMEM;
}

/* Marks m of n indices, drawn without replacement (partial Fisher-Yates). */
static void bag_choose(aml_rng *rng, size_t *perm, size_t n, size_t m, unsigned *marks_u,
                       unsigned char *marks_c)
{
    size_t i;

    for (i = 0; i < n; i++)
        perm[i] = i;
    for (i = 0; i < m && m < n; i++) {
        size_t j = i + (size_t)aml_rng_below(rng, n - i), t = perm[i];

        perm[i] = perm[j];
        perm[j] = t;
    }
    for (i = 0; i < m; i++) {
        if (marks_u)
            marks_u[perm[i]] = 1;
        else
            marks_c[perm[i]] = 1;
    }
}

/*
 * Draws one member's rows into k->rows (increasing, repeats adjacent);
 * returns their total sample weight (their count without weights).
 */
static double bag_draw_rows(const bag *b, bag_worker *k, aml_rng *rng, const double *w,
                            size_t n, size_t m_rows)
{
    size_t i, at = 0;
    unsigned c;
    double total = 0;

    memset(k->counts, 0, n * sizeof(unsigned));
    if (b->bootstrap)
        for (i = 0; i < m_rows; i++)
            k->counts[aml_rng_below(rng, n)]++;
    else
        bag_choose(rng, k->perm, n, m_rows, k->counts, NULL);
    for (i = 0; i < n; i++)
        for (c = 0; c < k->counts[i]; c++) {
            k->rows[at++] = i;
            total += w ? w[i] : 1.0;
        }
    return total;
}

/* Draws one member's columns into k->feat (increasing). */
static void bag_draw_columns(bag_worker *k, aml_rng *rng, size_t p, size_t m_feat)
{
    size_t j, at = 0;

    memset(k->chosen, 0, p);
    bag_choose(rng, k->perm, p, m_feat, NULL, k->chosen);
    for (j = 0; j < p; j++)
        if (k->chosen[j])
            k->feat[at++] = j;
}

/* How many rows and columns each member takes (at least one of each). */
static void bag_sizes(const bag *b, size_t n, size_t p, size_t *m_rows, size_t *m_feat)
{
    double r = floor(b->max_samples * (double)n), f = floor(b->max_features * (double)p);

    *m_rows = r < 1 ? 1 : (size_t)r;
    *m_feat = f < 1 ? 1 : (size_t)f;
}

/* Draws and fits member t. */
static int bag_fit_member(bag *b, bag_worker *k, const aml_learner_type *type,
                          const aml_subfit_data *d, const aml_rng *rng, size_t t)
{
    size_t m_rows, m_feat, n = d->X->rows, p = d->X->cols;
    aml_rng mrng;
    int tries = 0;

    bag_sizes(b, n, p, &m_rows, &m_feat);
    aml_rng_child(&mrng, rng, (uint64_t)t);
    while (!(bag_draw_rows(b, k, &mrng, d->w, n, m_rows) > 0))
        if (++tries == BAG_MAX_REDRAWS)
            return aml_error_set(
                AML_EINVAL, "bagging: member %zu drew rows of weight 0 only, %d times", t,
                BAG_MAX_REDRAWS);
    bag_draw_columns(k, &mrng, p, m_feat);
    return aml_subfit_fit(&b->members[t], type, d, k->rows, m_rows, k->feat, m_feat,
                          &mrng, 1);
}

/* Per-member results of the parallel loop: the first failure is reported. */
typedef struct bag_errors {
    int *rc;
    char (*msg)[256];
} bag_errors;

static void bag_fit_loop(bag *b, const aml_learner_type *type, const aml_subfit_data *d,
                         const aml_rng *rng, int threads, bag_errors *e)
{
    size_t m_rows, m_feat;
    long long t;
    int stop = 0;

    bag_sizes(b, d->X->rows, d->X->cols, &m_rows, &m_feat);
#pragma omp parallel num_threads(threads)
    {
        bag_worker k;
        int mine = bag_worker_init(&k, d->X->rows, m_rows, d->X->cols);

#pragma omp for schedule(dynamic, 1)
        for (t = 0; t < b->n; t++) {
            int halt;

#pragma omp atomic read
            halt = stop;
            if (halt)
                continue;
            if (mine == AML_OK)
                e->rc[t] = bag_fit_member(b, &k, type, d, rng, (size_t)t);
            else
                e->rc[t] = aml_error_set(mine, "out of memory");
            if (e->rc[t] < 0) {
                snprintf(e->msg[t], sizeof(e->msg[t]), "%s", aml_error_message());
#pragma omp atomic write
                stop = 1;
            }
        }
        bag_worker_dispose(&k);
    }
}

/* Fits every member in parallel; reports the failure of the lowest member. */
static int bag_fit_members(bag *b, const aml_learner_type *type, const aml_subfit_data *d,
                           const aml_rng *rng, int threads)
{
    bag_errors e = {aml_calloc((size_t)b->n, sizeof(int)),
                    aml_calloc((size_t)b->n, sizeof(*e.msg))};
    int blas = openblas_get_num_threads(), rc = AML_OK;
    long long t;

    if (!e.rc || !e.msg) {
        rc = AML_ENOMEM;
        goto out;
    }
    /* Base learners that call BLAS do so from several threads at once:
     * one BLAS thread each (see knn.c), restored afterwards. */
    if (threads > 1)
        openblas_set_num_threads(1);
    bag_fit_loop(b, type, d, rng, threads, &e);
    if (threads > 1)
        openblas_set_num_threads(blas);
    for (t = 0; t < b->n && rc == AML_OK; t++)
        if (e.rc[t] < 0)
            rc = aml_error_set(e.rc[t], "%s", e.msg[t]);
out:
    free(e.rc);
    free(e.msg);
    return rc;
}

static int bag_fit(aml_learner *l, const aml_matrix *X, const double *y, const double *w,
                   int n_classes, aml_rng *rng, int threads)
{
    bag *b = (bag *)l;
    aml_subfit_data d = {X, y, w, l->task, n_classes};
    const aml_learner_type *type;
    int rc;

    bag_release(b);
    b->n_out = l->task == AML_TASK_CLASSIFICATION ? n_classes : 1;
    if ((rc = aml_subfit_base(&type, "bagging", b->base_name, l->task)) < 0 ||
        (rc = aml_subfit_check("bagging", &d)) < 0)
        return rc;
    if (!(b->members = aml_calloc((size_t)b->n, sizeof(aml_subfit))))
        return AML_ENOMEM;
    b->n_members = (size_t)b->n;
    b->p = X->cols;
    if ((rc = bag_fit_members(b, type, &d, rng, threads)) < 0) {
        bag_release(b);
        return rc;
    }
    l->n_features = X->cols;
    l->n_classes = l->task == AML_TASK_CLASSIFICATION ? n_classes : 0;
    return AML_OK;
}

/* ---- predict and importance --------------------------------------------- */

static int bag_check_state(const bag *b)
{
    if (b->n_members == 0)
        return aml_error_set(AML_EINVAL, "bagging: predict before fit");
    if (b->base.n_features != b->p ||
        (b->base.task == AML_TASK_CLASSIFICATION && b->base.n_classes != b->n_out))
        return aml_error_set(AML_EFORMAT,
                             "bagging: model shape does not match its header");
    return AML_OK;
}

/* The mean of the members' outputs, summed in member order. */
static int bag_predict(const aml_learner *l, const aml_matrix *X, double *out)
{
    const bag *b = (const bag *)l;
    size_t i, k, len = X->rows * (size_t)b->n_out;
    double *part;
    int rc;

    if ((rc = bag_check_state(b)) < 0)
        return rc;
    if (!(part = aml_mallocarray(len + 1, sizeof(double))))
        return AML_ENOMEM;
    memset(out, 0, len * sizeof(double));
    for (k = 0; k < b->n_members && rc == AML_OK; k++) {
        rc = aml_subfit_predict(&b->members[k], X, l->task, b->n_out, part);
        for (i = 0; i < len && rc == AML_OK; i++)
            out[i] += part[i];
    }
    for (i = 0; i < len && rc == AML_OK; i++)
        out[i] /= (double)b->n_members;
    free(part);
    return rc;
}

/*
 * The mean over members of their normalised importances, each put back at
 * its columns (members with none left out), normalised.
 */
static int bag_importance(const aml_learner *l, double *out)
{
    const bag *b = (const bag *)l;
    size_t k, j, used = 0;
    int rc;

    if ((rc = bag_check_state(b)) < 0)
        return rc;
    memset(out, 0, b->p * sizeof(double));
    for (k = 0; k < b->n_members; k++) {
        if ((rc = aml_subfit_importance_add(&b->members[k], 1.0, out)) < 0)
            return aml_error_set(rc, "bagging: %s", aml_error_message());
        used += (size_t)rc;
    }
    for (j = 0; j < b->p && used > 0; j++)
        out[j] /= (double)used;
    aml_subfit_normalise(out, b->p);
    return AML_OK;
}

/*
 * C export, bit for bit where the base's export is: the members' outputs
 * summed in member order and divided by their count, as bag_predict does.
 */
static int bag_emit_c(const aml_learner *l, aml_cgen *g, const char *fn)
{
    const bag *b = (const bag *)l;
    char nm[64];
    int rc, C = b->n_out;

    if ((rc = bag_check_state(b)) < 0 ||
        (rc = aml_subfit_emit_c(b->members, b->n_members, l->task, C, g, nm,
                                sizeof(nm))) < 0)
        return rc;
    return aml_cgen_printf(
        g,
        "/* bagging: the mean of %zu members. */\n"
        "static void %s(const double *x, double *out)\n{\n"
        "    double part[%d];\n    size_t t;\n    int c;\n\n"
        "    for (c = 0; c < %d; c++)\n        out[c] = 0;\n"
        "    for (t = 0; t < %zu; t++) {\n"
        "        %s_member(t, x, part);\n"
        "        for (c = 0; c < %d; c++)\n"
        "            out[c] += part[c];\n    }\n"
        "    for (c = 0; c < %d; c++)\n        out[c] /= %.17g;\n}\n\n",
        b->n_members, fn, C, C, b->n_members, nm, C, C, (double)b->n_members);
}

/* ---- save / load -------------------------------------------------------- */

static int bag_save(const aml_learner *l, aml_writer *w)
{
    const bag *b = (const bag *)l;
    size_t k;
    int rc;

    if (b->n_members == 0)
        return aml_error_set(AML_EINVAL, "bagging: cannot save an unfitted model");
    aml_put_str(w, b->base_name);
    aml_put_i64(w, b->n);
    aml_put_f64(w, b->max_samples);
    aml_put_f64(w, b->max_features);
    aml_put_u8(w, (uint8_t)b->bootstrap);
    aml_put_u32(w, (uint32_t)b->n_out);
    aml_put_u64(w, (uint64_t)b->p);
    for (k = 0; k < b->n_members; k++)
        if ((rc = aml_subfit_save(&b->members[k], l->task, w)) < 0)
            return rc;
    return w->failed ? AML_ENOMEM : AML_OK;
}

static int bag_load_params(bag *b, aml_reader *r, const aml_learner_type **type)
{
    char *name = NULL;
    const char *word;
    aml_value v = {.kind = AML_VAL_STR};
    int64_t n;
    uint8_t boot;
    uint32_t n_out;
    uint64_t p;
    int rc;

    if ((rc = aml_get_str(r, &name)) < 0)
        return rc;
    v.str = name ? name : "";
    word = bag_word(aml_subfit_base_words, &v);
    rc = word ? aml_subfit_base(type, "bagging", word, b->base.task) : AML_EFORMAT;
    free(name);
    if (rc < 0)
        return aml_error_set(AML_EFORMAT, "bagging: unknown base learner in model");
    if ((rc = aml_get_i64(r, &n)) < 0 || (rc = aml_get_f64(r, &b->max_samples)) < 0 ||
        (rc = aml_get_f64(r, &b->max_features)) < 0 || (rc = aml_get_u8(r, &boot)) < 0 ||
        (rc = aml_get_u32(r, &n_out)) < 0 || (rc = aml_get_u64(r, &p)) < 0)
        return rc;
    if (n < 1 || n > BAG_MAX_MEMBERS || !(b->max_samples > 0 && b->max_samples <= 1) ||
        !(b->max_features > 0 && b->max_features <= 1) || boot > 1 || n_out < 1 ||
        n_out > 1u << 20 || (b->base.task == AML_TASK_REGRESSION && n_out != 1) ||
        (b->base.task == AML_TASK_CLASSIFICATION && n_out < 2) || p < 1 || p > INT32_MAX)
        return aml_error_set(AML_EFORMAT, "bagging: corrupt model header");
    b->base_name = word;
    b->n = n;
    b->bootstrap = boot;
    b->n_out = (int)n_out;
    b->p = (size_t)p;
    return AML_OK;
}

static int bag_load_state(aml_learner *l, aml_reader *r)
{
    bag *b = (bag *)l;
    const aml_learner_type *type;
    size_t k;
    int rc;

    if ((rc = bag_load_params(b, r, &type)) < 0 ||
        (rc = aml_reader_need(r, (size_t)b->n, 10)) < 0)
        return rc;
    if (!(b->members = aml_calloc((size_t)b->n, sizeof(aml_subfit))))
        return AML_ENOMEM;
    for (k = 0; k < (size_t)b->n; k++) {
        if ((rc = aml_subfit_load(&b->members[k], r, "bagging", type, l->task, b->p,
                                  b->n_out)) < 0)
            return rc;
        b->n_members = k + 1;
    }
    l->n_features = b->p;
    l->n_classes = l->task == AML_TASK_CLASSIFICATION ? b->n_out : 0;
    return AML_OK;
}

static int bag_load(aml_learner **out, const aml_learner_type *type, aml_task task,
                    aml_reader *r)
{
    return aml_learner_load_with(out, type, task, r, bag_load_state);
}

const aml_learner_type aml_learner_bagging = {
    .name = "bagging",
    .tasks = AML_TASK_BIT(AML_TASK_CLASSIFICATION) | AML_TASK_BIT(AML_TASK_REGRESSION),
    /* For the base learners that want it (knn, svm, linear models, mlp); trees
     * split standardised inputs the same way. */
    .flags = AML_LEARNER_WANTS_SCALING,
    .params = bag_params,
    .create = bag_create,
    .set_param = bag_set_param,
    .fit = bag_fit,
    .predict = bag_predict,
    .emit_c = bag_emit_c,
    .save = bag_save,
    .load = bag_load,
    .free = bag_free,
    .importance = bag_importance,
    .resource_param = "n", /* successive halving scales the members */
};
