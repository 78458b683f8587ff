/*
 * explain.c - permutation and impurity importance (see explain.h).
 *
 * Permutation importance costs one prediction of the whole model per
 * column and repeat (inputs x R + 1 predictions); explain runs once on a
 * user's file, so the loop is plain and single-threaded.  The frame's
 * column is shuffled in place and put back with the inverse permutation
 * (exact: cells are moved, never recomputed), so no copy of the data is
 * made.  Column i's shuffles draw from generator (seed, i), child r for
 * repeat r, so a column's result does not depend on the others.
 */
#include "explain.h"
#include "aml.h"
#include "model_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const tree_learners[] = {"decision_tree", "random_forest",
                                            "extra_trees",   "gradient_boosting",
                                            "adaboost",      NULL};

int aml_explain_is_tree(const char *name)
{
    size_t i;

    for (i = 0; name && tree_learners[i]; i++)
        if (strcmp(name, tree_learners[i]) == 0)
            return 1;
    return 0;
}

static const aml_prep *schema_of(const aml_model *m)
{
    const aml_pipeline *p = aml_model_member_pipe(m, 0, 0);

    return p ? p->prep : NULL;
}

size_t aml_explain_n_inputs(const aml_model *m)
{
    const aml_prep *s = schema_of(m);

    return s ? aml_prep_n_inputs(s) : 0;
}

const char *aml_explain_input(const aml_model *m, size_t i)
{
    return aml_prep_input_name(schema_of(m), i);
}

const aml_metric *aml_explain_metric(const aml_model *m)
{
    const aml_metric *met =
        aml_model_metric(m) ? aml_metric_find(aml_model_metric(m)) : NULL;

    if (met && (met->tasks & AML_TASK_BIT(aml_model_task(m))))
        return met;
    return aml_metric_default(aml_model_task(m));
}

/* ------------------------------------------------------------- reading */

/* Reads only the target column, as text for classes or as numbers. */
static int read_target(aml_frame **out, const aml_model *m, const char *path)
{
    const char *only[1] = {aml_model_target(m)};
    aml_csv_options opt = {0};
    int rc;

    opt.only = only;
    opt.n_only = 1;
    if (aml_model_task(m) == AML_TASK_CLASSIFICATION)
        opt.categorical = only, opt.n_categorical = 1;
    else
        opt.numeric = only, opt.n_numeric = 1;
    opt.decimal = aml_model_decimal(m);
    opt.col_missing = m->colmiss;
    opt.n_col_missing = m->n_colmiss;
    if (m->has_missing) {
        static const char *const no_tokens[1] = {NULL};

        opt.missing = m->n_missing ? (const char *const *)m->missing : no_tokens;
        opt.n_missing = m->n_missing;
    }
    if ((rc = aml_frame_read_csv(out, path, &opt)) < 0)
        return rc;
    if (aml_frame_cols(*out) != 1) {
        aml_frame_free(*out);
        *out = NULL;
        return aml_error_set(AML_EINVAL,
                             "%s: no column '%s' (the target); explaining a model "
                             "needs labelled data",
                             path, aml_model_target(m));
    }
    return AML_OK;
}

/* The class index of a label: by text, else by value when both are numbers. */
static int class_of(const aml_model *m, const char *label)
{
    char *end;
    double v = strtod(label, &end);
    int k, numeric = *label && !*end;

    for (k = 0; k < aml_model_n_classes(m); k++)
        if (strcmp(aml_model_class(m, k), label) == 0)
            return k;
    for (k = 0; numeric && k < aml_model_n_classes(m); k++) {
        const char *c = aml_model_class(m, k);
        double w = strtod(c, &end);

        if (*c && !*end && w == v)
            return k;
    }
    return -1;
}

/* Fills y (n values) from the target frame; keep[i] = 0 for a missing target. */
static int encode_target(const aml_model *m, const aml_frame *t, const char *path,
                         double *y, unsigned char *keep)
{
    size_t i, n = aml_frame_rows(t);

    for (i = 0; i < n; i++) {
        if (aml_model_task(m) == AML_TASK_REGRESSION) {
            y[i] = aml_frame_real(t, 0)[i];
            keep[i] = !isnan(y[i]);
            continue;
        }
        if ((keep[i] = aml_frame_codes(t, 0)[i] >= 0)) {
            const char *label = aml_frame_level(t, 0, (size_t)aml_frame_codes(t, 0)[i]);
            int k = class_of(m, label);

            char shown[AML_QUOTE_MAX + 4];

            if (k < 0)
                return aml_error_set(AML_EINVAL,
                                     "%s:%zu: class '%s' of '%s' is not one "
                                     "the model knows",
                                     path, aml_frame_line(t, i),
                                     aml_quote_short(label, shown), aml_model_target(m));
            y[i] = (double)k;
        }
    }
    return AML_OK;
}

int aml_explain_read(aml_frame **features, double **y, const aml_model *m,
                     const char *path)
{
    aml_frame *f = NULL, *t = NULL;
    unsigned char *keep = NULL;
    double *v = NULL;
    size_t i, n, kept = 0;
    int rc;

    *features = NULL;
    *y = NULL;
    if ((rc = read_target(&t, m, path)) < 0 || (rc = aml_model_read_csv(&f, m, path)) < 0)
        goto fail;
    n = aml_frame_rows(t);
    rc = AML_ENOMEM;
    if (aml_frame_rows(f) != n || !(v = aml_mallocarray(n + 1, sizeof(double))) ||
        !(keep = aml_calloc(n + 1, 1)))
        goto fail;
    if ((rc = encode_target(m, t, path, v, keep)) < 0 ||
        (rc = aml_frame_filter_rows(f, keep)) < 0)
        goto fail;
    for (i = 0; i < n; i++)
        if (keep[i])
            v[kept++] = v[i];
    if (kept == 0) {
        rc = aml_error_set(AML_EINVAL, "%s: no row has a value of '%s'", path,
                           aml_model_target(m));
        goto fail;
    }
    aml_frame_free(t);
    free(keep);
    *features = f;
    *y = v;
    return AML_OK;
fail:
    aml_frame_free(t);
    aml_frame_free(f);
    free(keep);
    free(v);
    return rc;
}

/* ------------------------------------------------------------- permutation */

void aml_perm_importance_dispose(aml_perm_importance *p)
{
    if (!p)
        return;
    free(p->names);
    free(p->mean);
    free(p->std);
    memset(p, 0, sizeof(*p));
}

/* Scratch of one permutation run. */
typedef struct perm_run {
    const aml_model *m;
    aml_frame *f;
    const double *y;
    size_t n;
    double *pred;       /* n x outputs */
    size_t *perm, *inv; /* n each */
    const aml_metric *metric;
} perm_run;

static int run_score(perm_run *r, double *score)
{
    int rc = aml_model_predict(r->m, r->f, r->pred);

    if (rc == AML_OK)
        *score = r->metric->score(r->y, r->pred, r->n, aml_model_n_classes(r->m));
    return rc;
}

/* One shuffle of column col: the score, with the column restored afterwards. */
static int shuffled_score(perm_run *r, size_t col, aml_rng *rng, double *score)
{
    size_t i;
    int rc;

    for (i = 0; i < r->n; i++)
        r->perm[i] = i;
    aml_rng_shuffle(rng, r->perm, r->n);
    for (i = 0; i < r->n; i++)
        r->inv[r->perm[i]] = i;
    if ((rc = aml_frame_permute_column(r->f, col, r->perm)) < 0)
        return rc;
    rc = run_score(r, score);
    aml_frame_permute_column(r->f, col, r->inv); /* cannot fail: inv is valid */
    return rc;
}

/* Mean and population standard deviation of column i's R drops. */
static int column_importance(perm_run *r, aml_perm_importance *out, size_t i,
                             uint64_t seed, double *drops)
{
    long col = aml_frame_find(r->f, out->names[i]);
    double sum = 0, ss = 0;
    aml_rng base, rng;
    int rep, rc;

    if (col < 0)
        return aml_error_set(AML_EINVAL, "%s: no column '%s'", aml_frame_path(r->f),
                             out->names[i]);
    aml_rng_init(&base, seed, (uint64_t)i);
    for (rep = 0; rep < out->repeats; rep++) {
        double s = NAN;

        aml_rng_child(&rng, &base, (uint64_t)rep);
        if ((rc = shuffled_score(r, (size_t)col, &rng, &s)) < 0)
            return rc;
        /* A score that is no number any more (the shuffled rows make the model
         * or the metric overflow) is worse than any: an infinite drop. */
        if (!isfinite(s))
            drops[rep] = INFINITY;
        else
            drops[rep] =
                r->metric->greater_is_better ? out->baseline - s : s - out->baseline;
        sum += drops[rep];
    }
    out->mean[i] = sum / out->repeats;
    if (isinf(out->mean[i])) {
        out->std[i] = NAN; /* no spread around an infinite mean */
        return AML_OK;
    }
    for (rep = 0; rep < out->repeats; rep++)
        ss += (drops[rep] - out->mean[i]) * (drops[rep] - out->mean[i]);
    out->std[i] = sqrt(ss / out->repeats);
    return AML_OK;
}

/*
 * The unshuffled score is not a number: importance, a difference of
 * scores, would be NaN for every column.  Says why: rows whose prediction
 * is not finite (inputs beyond what the model computes with), or finite
 * predictions whose errors overflow the metric.
 */
static int baseline_not_finite(const perm_run *r)
{
    size_t k = (size_t)aml_model_outputs(r->m), bad = 0, first = 0, i, j;
    double big_pred = 0, big_y = 0;

    for (i = 0; i < r->n; i++) {
        int finite = 1;

        for (j = 0; j < k; j++) {
            finite &= isfinite(r->pred[i * k + j]) != 0;
            if (isfinite(r->pred[i * k + j]))
                big_pred = fmax(big_pred, fabs(r->pred[i * k + j]));
        }
        big_y = fmax(big_y, fabs(r->y[i]));
        if (!finite && bad++ == 0)
            first = i;
    }
    if (bad)
        return aml_error_set(AML_EINVAL,
                             "%s: the model's prediction is not finite for %zu of %zu "
                             "rows (the first on line %zu): their inputs are beyond what "
                             "it computes with; permutation importance needs a finite "
                             "%s, so leave those rows out",
                             aml_frame_path(r->f), bad, r->n, aml_frame_line(r->f, first),
                             r->metric->name);
    return aml_error_set(AML_EINVAL,
                         "%s: the model's %s on these rows is not finite (largest "
                         "|prediction| %.3g, largest |target| %.3g: the errors "
                         "overflow); permutation importance needs a finite %s, so "
                         "leave the rows with extreme values out",
                         aml_frame_path(r->f), r->metric->name, big_pred, big_y,
                         r->metric->name);
}

static int perm_alloc(aml_perm_importance *out, perm_run *r, const aml_model *m)
{
    size_t k = out->n_inputs ? out->n_inputs : 1, n = r->n ? r->n : 1;

    out->names = aml_calloc(k, sizeof(char *));
    out->mean = aml_calloc(k, sizeof(double));
    out->std = aml_calloc(k, sizeof(double));
    r->pred = aml_mallocarray(n, (size_t)aml_model_outputs(m) * sizeof(double));
    r->perm = aml_mallocarray(n, sizeof(size_t));
    r->inv = aml_mallocarray(n, sizeof(size_t));
    return out->names && out->mean && out->std && r->pred && r->perm && r->inv
               ? AML_OK
               : AML_ENOMEM;
}

int aml_explain_permutation(aml_perm_importance *out, const aml_model *m, aml_frame *f,
                            const double *y, int repeats, uint64_t seed)
{
    perm_run r = {m, f, y, aml_frame_rows(f), NULL, NULL, NULL, aml_explain_metric(m)};
    double *drops = NULL;
    size_t i;
    int rc;

    memset(out, 0, sizeof(*out));
    if (repeats < 1 || r.n == 0 || !schema_of(m))
        return aml_error_set(AML_EINVAL, "explain: needs rows, a model and repeats >= 1");
    out->n_inputs = aml_explain_n_inputs(m);
    out->repeats = repeats;
    out->rows = r.n;
    out->metric = r.metric;
    if ((rc = perm_alloc(out, &r, m)) < 0 ||
        !(drops = aml_mallocarray((size_t)repeats, sizeof(double)))) {
        rc = AML_ENOMEM;
        goto out;
    }
    for (i = 0; i < out->n_inputs; i++)
        out->names[i] = aml_explain_input(m, i);
    if ((rc = run_score(&r, &out->baseline)) < 0)
        goto out;
    if (!isfinite(out->baseline)) {
        rc = baseline_not_finite(&r);
        goto out;
    }
    for (i = 0; i < out->n_inputs && rc == AML_OK; i++)
        rc = column_importance(&r, out, i, seed, drops);
out:
    if (rc < 0)
        aml_perm_importance_dispose(out);
    free(r.pred);
    free(r.perm);
    free(r.inv);
    free(drops);
    return rc;
}

/* ------------------------------------------------------------- impurity */

/* Adds pipeline p's learner importance, mapped onto input columns, times w. */
static int add_pipe_importance(const aml_pipeline *p, double w, double *acc)
{
    size_t width = aml_prep_width(p->prep), j;
    double *imp = aml_calloc(width ? width : 1, sizeof(double));
    int rc;

    if (!imp)
        return AML_ENOMEM;
    if ((rc = aml_learner_importance(p->learner, imp)) == AML_OK)
        for (j = 0; j < width; j++)
            acc[aml_prep_output_input(p->prep, j)] += w * imp[j];
    free(imp);
    return rc;
}

int aml_explain_impurity(const aml_model *m, double *out, int *n_trees)
{
    size_t n_in = aml_explain_n_inputs(m), j;
    double total = 0, sum = 0;
    int i, k, rc;

    *n_trees = 0;
    memset(out, 0, n_in * sizeof(double));
    for (i = 0; i < aml_model_n_members(m); i++) {
        /* Under a stack the weights mean nothing: every tree member counts once. */
        double w = aml_model_stack(m) ? 1.0 : aml_model_member_weight(m, i);
        int pipes = aml_model_member_n_pipes(m, i);

        if (!aml_explain_is_tree(aml_model_member_learner(m, i)) || !(w > 0))
            continue;
        for (k = 0; k < pipes; k++)
            if ((rc = add_pipe_importance(aml_model_member_pipe(m, i, k), w / pipes,
                                          out)) < 0)
                return rc;
        total += w;
        (*n_trees)++;
    }
    for (j = 0; j < n_in; j++)
        sum += out[j];
    for (j = 0; total > 0 && sum > 0 && j < n_in; j++)
        out[j] /= sum;
    return AML_OK;
}
