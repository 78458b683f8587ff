/*
 * pipeline.c - preprocessing plus one learner (see pipeline.h).
 *
 * A configuration holds the learner's parameters and, when the spec has a
 * `preprocess:` section, dimensions named "preprocess.KEY" (space/spec.c).
 * Fitting splits them: the preprocess ones become aml_prep_options, the
 * rest go to the learner.  Scaling defaults to standard for learners that
 * want it and none otherwise; a `scale` dimension overrides it.
 *
 * Every step sees the training rows only, in this order:
 *   1. dedup: exact duplicate rows (every input cell and the target) are
 *      dropped, the first of each kept;
 *   2. the preprocessing is fitted on the remaining rows and transforms them;
 *   3. balance: class weights ("balanced": n / (classes present x class
 *      count), scikit-learn's compute_class_weight) passed to the learner's
 *      fit, or resampling of the transformed rows: random under-sampling to
 *      the smallest class, random over-sampling to the largest, or SMOTE
 *      (Chawla, Bowyer, Hall and Kegelmeyer, "SMOTE: Synthetic Minority
 *      Over-sampling Technique", JAIR 16, 2002): each new row lies at a
 *      uniform point between a row of the class and one of its k = 5
 *      nearest neighbours in that class (Euclidean, transformed space).
 * Validation and predict-time rows only ever go through step 2's transform.
 * Resampling draws from a child stream of the fold's generator, so the
 * learner's own draws are the same with and without it.
 *
 * A partial resource (aml_config.resource in (0, 1), successive halving)
 * makes the fit cheaper in one of two ways, as the learner type declares
 * (aml_learner_type.resource_param): its iteration parameter (trees,
 * rounds, epochs) is scaled by the resource, rounded, at least 1; or,
 * for learners without one, step 0 keeps that fraction of the training
 * rows (aml_pipeline_subsample), stratified by class for classification,
 * drawn from another child stream of the fold's generator.  The rows a
 * fold validates on are never subsampled.
 */
#include "pipeline.h"
#include "aml.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Neighbours SMOTE interpolates towards (the paper's and imbalanced-learn's k). */
#define PIPELINE_SMOTE_K 5
/* Stream of the resampling generator, a child of the fold's. */
#define PIPELINE_BALANCE_STREAM 0xBA1A4CEULL
/* Stream of the resource subsample's generator, a child of the fold's. */
#define PIPELINE_SUBSAMPLE_STREAM 0x5AB5A3E1ULL

static int is_prep_param(const char *name)
{
    return strncmp(name, AML_PREP_PREFIX, sizeof(AML_PREP_PREFIX) - 1) == 0;
}

static int pipeline_set_params(aml_learner *l, const aml_config *c)
{
    size_t i;
    int rc;

    for (i = 0; i < c->n_params; i++)
        if (!is_prep_param(c->params[i].name) &&
            (rc = aml_learner_set_param(l, c->params[i].name, &c->params[i].value)) < 0)
            return rc;
    return AML_OK;
}

/* The preprocessing options of configuration c for a learner of type t. */
static int pipeline_options(aml_prep_options *o, const aml_learner_type *t,
                            const aml_config *c)
{
    size_t i, skip = sizeof(AML_PREP_PREFIX) - 1;
    int rc;

    memset(o, 0, sizeof(*o));
    o->scale =
        (t->flags & AML_LEARNER_WANTS_SCALING) ? AML_SCALE_STANDARD : AML_SCALE_NONE;
    for (i = 0; i < c->n_params; i++)
        if (is_prep_param(c->params[i].name) &&
            (rc = aml_prep_option_set(o, c->params[i].name + skip, &c->params[i].value)) <
                0)
            return rc;
    return AML_OK;
}

/* ------------------------------------------------------------- dedup */

/* One cell of a row for hashing and comparing: numbers by bits, codes as numbers. */
static double cell(const aml_frame *f, size_t col, size_t row)
{
    if (aml_frame_type(f, col) == AML_COL_NUMERIC)
        return aml_frame_real(f, col)[row];
    return (double)aml_frame_codes(f, col)[row];
}

/* Equality that treats two missing cells (NaN) as equal. */
static int same(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

typedef struct row_hash {
    uint64_t h;
    size_t row;
} row_hash;

static uint64_t hash_row(const aml_dataset *d, size_t row)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a 64 over the cells' bits */
    size_t j, b;

    for (j = 0; j <= aml_frame_cols(d->features); j++) {
        double v =
            j < aml_frame_cols(d->features) ? cell(d->features, j, row) : d->y[row];
        unsigned char bytes[sizeof(double)];

        if (isnan(v))
            v = NAN; /* one bit pattern for every missing cell */
        if (v == 0.0)
            v = 0.0; /* and one for zero */
        memcpy(bytes, &v, sizeof(v));
        for (b = 0; b < sizeof(v); b++)
            h = (h ^ bytes[b]) * 1099511628211ULL;
    }
    return h;
}

static int row_hash_cmp(const void *a, const void *b)
{
    const row_hash *x = a, *y = b;

    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

static int rows_equal(const aml_dataset *d, size_t a, size_t b)
{
    size_t j;

    if (!same(d->y[a], d->y[b]))
        return 0;
    for (j = 0; j < aml_frame_cols(d->features); j++)
        if (!same(cell(d->features, j, a), cell(d->features, j, b)))
            return 0;
    return 1;
}

/* Marks in dup[] every row equal to an earlier row of the same hash run. */
static void mark_duplicates(const aml_dataset *d, const row_hash *rh, size_t n,
                            unsigned char *dup)
{
    size_t i, j, run;

    for (run = 0; run < n; run = i) {
        for (i = run + 1; i < n && rh[i].h == rh[run].h; i++)
            ;
        for (j = run + 1; j < i; j++) {
            size_t k;

            for (k = run; k < j && !dup[j]; k++)
                if (!dup[k] && rows_equal(d, rh[k].row, rh[j].row))
                    dup[j] = 1;
        }
    }
}

/* Rewrites rows[0..*n) without exact duplicates, keeping first occurrences in order. */
static int pipeline_dedup(const aml_dataset *d, size_t *rows, size_t *n)
{
    row_hash *rh = aml_mallocarray(*n ? *n : 1, sizeof(*rh));
    unsigned char *dup = aml_calloc(*n ? *n : 1, 1), *drop = NULL;
    size_t i, m = 0;
    int rc = AML_ENOMEM;

    if (!rh || !dup || !(drop = aml_calloc(d->n ? d->n : 1, 1)))
        goto out;
    for (i = 0; i < *n; i++) {
        rh[i].h = hash_row(d, rows[i]);
        rh[i].row = rows[i];
    }
    qsort(rh, *n, sizeof(*rh), row_hash_cmp);
    mark_duplicates(d, rh, *n, dup);
    for (i = 0; i < *n; i++)
        if (dup[i])
            drop[rh[i].row] = 1;
    for (i = 0; i < *n; i++)
        if (!drop[rows[i]])
            rows[m++] = rows[i];
    *n = m;
    rc = AML_OK;
out:
    free(rh);
    free(dup);
    free(drop);
    return rc;
}

/* ------------------------------------------------------------- balance */

/* Training rows per class; returns the number of classes present. */
static int class_counts(const double *y, size_t n, int k, size_t *count)
{
    size_t i;
    int c, present = 0;

    memset(count, 0, (size_t)k * sizeof(*count));
    for (i = 0; i < n; i++)
        count[(int)y[i]]++;
    for (c = 0; c < k; c++)
        present += count[c] > 0;
    return present;
}

static int balanced_weights(double **w, const double *y, size_t n, const size_t *count,
                            int present)
{
    size_t i;

    if (!(*w = aml_mallocarray(n ? n : 1, sizeof(double))))
        return AML_ENOMEM;
    for (i = 0; i < n; i++)
        (*w)[i] = (double)n / ((double)present * (double)count[(int)y[i]]);
    return AML_OK;
}

/* Copies the listed rows of X and y into new ones (n_new rows, SMOTE room extra). */
static int gather(aml_matrix *X, double **y, const size_t *pick, size_t n_pick,
                  size_t extra)
{
    aml_matrix out = {0};
    double *yo = aml_mallocarray(n_pick + extra ? n_pick + extra : 1, sizeof(double));
    size_t i;

    if (!yo || aml_matrix_init(&out, n_pick + extra, X->cols) < 0) {
        free(yo);
        return AML_ENOMEM;
    }
    for (i = 0; i < n_pick; i++) {
        memcpy(aml_matrix_row(&out, i), aml_matrix_row(X, pick[i]),
               X->cols * sizeof(double));
        yo[i] = (*y)[pick[i]];
    }
    aml_matrix_dispose(X);
    free(*y);
    *X = out;
    *y = yo;
    return AML_OK;
}

/* Row indices of X grouped by class: by_class + start[c] .. start[c+1]. */
static int group_classes(const double *y, size_t n, int k, size_t **by, size_t **start)
{
    size_t i, *fill;
    int c;

    *by = aml_mallocarray(n ? n : 1, sizeof(size_t));
    *start = aml_calloc((size_t)k + 1, sizeof(size_t));
    fill = aml_calloc((size_t)k + 1, sizeof(size_t));
    if (!*by || !*start || !fill) {
        free(fill);
        return AML_ENOMEM;
    }
    for (i = 0; i < n; i++)
        (*start)[(int)y[i] + 1]++;
    for (c = 0; c < k; c++)
        (*start)[c + 1] += (*start)[c];
    for (i = 0; i < n; i++)
        (*by)[(*start)[(int)y[i]] + fill[(int)y[i]]++] = i;
    free(fill);
    return AML_OK;
}

/*
 * Under-sampling keeps `target` random rows of each class; over-sampling
 * keeps every row and adds random repeats up to `target`.
 */
static int resample(aml_matrix *X, double **y, int k, size_t target, int over,
                    aml_rng *rng)
{
    size_t *by = NULL, *start = NULL, *pick = NULL, m = 0, i;
    int c, rc;

    if ((rc = group_classes(*y, X->rows, k, &by, &start)) < 0)
        goto out;
    rc = AML_ENOMEM;
    if (!(pick = aml_mallocarray((size_t)k * target + X->rows, sizeof(size_t))))
        goto out;
    for (c = 0; c < k; c++) {
        size_t nc = start[c + 1] - start[c];

        if (nc == 0)
            continue;
        aml_rng_shuffle(rng, by + start[c], nc);
        for (i = 0; i < (over ? nc : target); i++)
            pick[m++] = by[start[c] + i];
        for (i = nc; over && i < target; i++)
            pick[m++] = by[start[c] + aml_rng_below(rng, nc)];
    }
    rc = gather(X, y, pick, m, 0);
out:
    free(by);
    free(start);
    free(pick);
    return rc;
}

static double sq_dist(const double *a, const double *b, size_t d)
{
    double s = 0.0;
    size_t j;

    for (j = 0; j < d; j++)
        s += (a[j] - b[j]) * (a[j] - b[j]);
    return s;
}

/* The kk nearest other members of `members` to member i, by brute force. */
static void nearest(const aml_matrix *X, const size_t *members, size_t nc, size_t i,
                    size_t kk, size_t *nb, double *nd)
{
    size_t j, t, have = 0;

    for (j = 0; j < nc; j++) {
        double dist;

        if (j == i)
            continue;
        dist = sq_dist(aml_matrix_row(X, members[i]), aml_matrix_row(X, members[j]),
                       X->cols);
        if (have == kk && dist >= nd[kk - 1])
            continue;
        t = have < kk ? have++ : kk - 1;
        while (t > 0 && nd[t - 1] > dist) { /* insertion into the sorted list */
            nd[t] = nd[t - 1];
            nb[t] = nb[t - 1];
            t--;
        }
        nd[t] = dist;
        nb[t] = members[j];
    }
}

/* Writes `need` synthetic rows of one class into X from row `at` on. */
static void smote_class(aml_matrix *X, double *y, const size_t *members, size_t nc,
                        size_t need, size_t at, double label, aml_rng *rng, size_t *nb,
                        double *nd)
{
    size_t kk = nc - 1 < PIPELINE_SMOTE_K ? nc - 1 : PIPELINE_SMOTE_K, s, j;

    for (s = 0; s < need; s++) {
        size_t i = (size_t)aml_rng_below(rng, nc);
        const double *a = aml_matrix_row(X, members[i]), *b = a;
        double u = aml_rng_uniform(rng), *out = aml_matrix_row(X, at + s);

        if (kk > 0) {
            nearest(X, members, nc, i, kk, nb, nd);
            b = aml_matrix_row(X, nb[aml_rng_below(rng, kk)]);
        }
        for (j = 0; j < X->cols; j++)
            out[j] = a[j] + u * (b[j] - a[j]);
        y[at + s] = label;
    }
}

/* SMOTE every class up to the largest class's count. */
static int smote(aml_matrix *X, double **y, int k, const size_t *count, size_t target,
                 aml_rng *rng)
{
    size_t n = X->rows, extra = 0, *pick = NULL, *by = NULL, *start = NULL, i, at = n;
    size_t nb[PIPELINE_SMOTE_K];
    double nd[PIPELINE_SMOTE_K];
    int c, rc = AML_ENOMEM;

    for (c = 0; c < k; c++)
        extra += count[c] ? target - count[c] : 0;
    if (!(pick = aml_mallocarray(n ? n : 1, sizeof(size_t))))
        goto out;
    for (i = 0; i < n; i++)
        pick[i] = i;
    if ((rc = gather(X, y, pick, n, extra)) < 0 ||
        (rc = group_classes(*y, n, k, &by, &start)) < 0)
        goto out;
    for (c = 0; c < k; c++) {
        size_t nc = start[c + 1] - start[c];

        if (nc == 0 || nc >= target)
            continue;
        smote_class(X, *y, by + start[c], nc, target - nc, at, (double)c, rng, nb, nd);
        at += target - nc;
    }
out:
    free(pick);
    free(by);
    free(start);
    return rc;
}

/* Applies the balance option to the transformed training rows. */
static int pipeline_balance(const aml_dataset *d, int balance, aml_matrix *X, double **y,
                            double **w, const aml_rng *fold_rng)
{
    size_t *count, lo = SIZE_MAX, hi = 0;
    aml_rng rng;
    int c, present, rc;

    if (balance == AML_BALANCE_NONE)
        return AML_OK;
    if (d->task != AML_TASK_CLASSIFICATION)
        return aml_error_set(AML_EINVAL,
                             "preprocess.balance applies to classification only");
    if (!(count = aml_calloc((size_t)d->n_classes, sizeof(size_t))))
        return AML_ENOMEM;
    present = class_counts(*y, X->rows, d->n_classes, count);
    for (c = 0; c < d->n_classes; c++) {
        if (count[c] && count[c] < lo)
            lo = count[c];
        hi = count[c] > hi ? count[c] : hi;
    }
    aml_rng_child(&rng, fold_rng, PIPELINE_BALANCE_STREAM);
    if (balance == AML_BALANCE_CLASS_WEIGHT)
        rc = balanced_weights(w, *y, X->rows, count, present);
    else if (balance == AML_BALANCE_SMOTE)
        rc = smote(X, y, d->n_classes, count, hi, &rng);
    else
        rc = resample(X, y, d->n_classes, balance == AML_BALANCE_UNDERSAMPLE ? lo : hi,
                      balance == AML_BALANCE_OVERSAMPLE, &rng);
    free(count);
    return rc;
}

/* ------------------------------------------------------------- resource */

/* How many rows of each class a subsample of m of the n rows keeps. */
static void subsample_quota(const size_t *count, int k, size_t n, size_t m, size_t *quota)
{
    size_t total = 0;
    int c, best;

    for (c = 0; c < k; c++) {
        quota[c] = count[c] * m / n;
        total += quota[c];
    }
    /* Largest remainders first (lower class on ties) until the quotas sum to m. */
    while (total < m) {
        best = -1;
        for (c = 0; c < k; c++)
            if (quota[c] < count[c] &&
                (best < 0 || (count[c] * m) % n > (count[best] * m) % n))
                best = c;
        if (best < 0)
            break;
        quota[best]++;
        total++;
    }
    for (c = 0; c < k; c++)
        if (count[c] > 0 && quota[c] == 0)
            quota[c] = 1; /* every class present keeps a row */
}

static int subsample_cmp(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;

    return (x > y) - (x < y);
}

/* Keeps quota[c] random rows of each class c (one class 0 for regression). */
static int subsample_pick(const aml_dataset *d, size_t *rows, size_t *n, int k,
                          const size_t *quota, aml_rng *rng)
{
    size_t *by = aml_mallocarray(*n ? *n : 1, sizeof(size_t)), m = 0, i, at = 0;
    int c;

    if (!by)
        return AML_ENOMEM;
    for (c = 0; c < k; c++) {
        size_t nc = 0;

        for (i = 0; i < *n; i++)
            if (k == 1 || (int)d->y[rows[i]] == c)
                by[at + nc++] = rows[i];
        aml_rng_shuffle(rng, by + at, nc);
        memmove(by + m, by + at, quota[c] * sizeof(size_t));
        m += quota[c];
        at = m;
    }
    qsort(by, m, sizeof(size_t), subsample_cmp);
    memcpy(rows, by, m * sizeof(size_t));
    *n = m;
    free(by);
    return AML_OK;
}

int aml_pipeline_subsample(const aml_dataset *d, size_t *rows, size_t *n, double fraction,
                           const aml_rng *fold_rng)
{
    int k = d->task == AML_TASK_CLASSIFICATION && d->n_classes > 0 ? d->n_classes : 1;
    size_t *count, *quota, m, i;
    aml_rng rng;
    int rc;

    if (aml_resource_full(fraction) || *n == 0)
        return AML_OK;
    m = (size_t)floor((double)*n * fraction + 0.5);
    m = m < 1 ? 1 : m > *n ? *n : m;
    count = aml_calloc((size_t)k, sizeof(size_t));
    quota = aml_calloc((size_t)k, sizeof(size_t));
    if (!count || !quota) {
        rc = AML_ENOMEM;
        goto out;
    }
    for (i = 0; i < *n; i++)
        count[k == 1 ? 0 : (int)d->y[rows[i]]]++;
    subsample_quota(count, k, *n, m, quota);
    aml_rng_child(&rng, fold_rng, PIPELINE_SUBSAMPLE_STREAM);
    rc = subsample_pick(d, rows, n, k, quota, &rng);
out:
    free(count);
    free(quota);
    return rc;
}

/*
 * Scales the learner's iteration parameter by the configuration's
 * resource: its value in the configuration, or the learner's default.
 */
static int pipeline_scale(aml_learner *l, const aml_learner_type *t, const aml_config *c)
{
    const aml_param_def *def = aml_learner_param_find(t, t->resource_param);
    const aml_value *v = def ? &def->def : NULL;
    aml_value scaled = {0};
    double x;
    size_t i;

    for (i = 0; i < c->n_params; i++)
        if (strcmp(c->params[i].name, t->resource_param) == 0)
            v = &c->params[i].value;
    if (!v || v->kind == AML_VAL_STR)
        return aml_error_set(AML_EINVAL,
                             "%s: resource parameter '%s' has no number to scale",
                             t->name, t->resource_param);
    x = floor(aml_value_as_real(v) * c->resource + 0.5);
    scaled.kind = AML_VAL_INT;
    scaled.i = x < 1.0 ? 1 : (long long)x;
    return aml_learner_set_param(l, t->resource_param, &scaled);
}

/* ------------------------------------------------------------- fitting */

static int pipeline_gather_y(double **out, const aml_dataset *d, const size_t *rows,
                             size_t n)
{
    double *y = aml_mallocarray(n ? n : 1, sizeof(*y));
    size_t i;

    if (!y)
        return AML_ENOMEM;
    for (i = 0; i < n; i++)
        y[i] = d->y[rows[i]];
    *out = y;
    return AML_OK;
}

/* A private copy of the training rows (every row when rows is NULL). */
static size_t *pipeline_rows(const aml_dataset *d, const size_t *rows, size_t *n)
{
    size_t *copy, i;

    if (!rows)
        *n = d->n;
    copy = aml_mallocarray(*n ? *n : 1, sizeof(*copy));
    for (i = 0; copy && i < *n; i++)
        copy[i] = rows ? rows[i] : i;
    return copy;
}

int aml_pipeline_fit(aml_pipeline *p, const aml_dataset *d, const aml_space *s,
                     const aml_config *c, const size_t *rows, size_t n, aml_rng *rng,
                     int threads)
{
    const aml_learner_type *type = aml_learner_type_find(s->learners[c->learner].name);
    aml_prep_options popt;
    aml_matrix X = {0};
    double *y = NULL, *w = NULL;
    size_t *train = NULL;
    int rc;

    memset(p, 0, sizeof(*p));
    if (!type)
        return aml_error_set(AML_EINVAL, "unknown learner '%s'",
                             s->learners[c->learner].name);
    if ((rc = pipeline_options(&popt, type, c)) < 0)
        return rc;
    if (!(train = pipeline_rows(d, rows, &n)))
        return AML_ENOMEM;
    if ((!type->resource_param &&
         (rc = aml_pipeline_subsample(d, train, &n, c->resource, rng)) < 0) ||
        (popt.dedup && (rc = pipeline_dedup(d, train, &n)) < 0) ||
        (rc = aml_prep_fit(&p->prep, d->features, train, n, &popt)) < 0 ||
        (rc = aml_prep_transform(p->prep, d->features, train, n, &X)) < 0 ||
        (rc = pipeline_gather_y(&y, d, train, n)) < 0 ||
        (rc = pipeline_balance(d, popt.balance, &X, &y, &w, rng)) < 0)
        goto fail;

    if ((rc = aml_learner_new(&p->learner, type, d->task)) < 0 ||
        (rc = pipeline_set_params(p->learner, c)) < 0 ||
        (type->resource_param && !aml_resource_full(c->resource) &&
         (rc = pipeline_scale(p->learner, type, c)) < 0) ||
        (rc = aml_learner_fit(p->learner, &X, y, w, d->n_classes, rng, threads)) < 0)
        goto fail;
    goto out;

fail:
    aml_pipeline_dispose(p);
out:
    aml_matrix_dispose(&X);
    free(y);
    free(w);
    free(train);
    return rc;
}

int aml_pipeline_predict(const aml_pipeline *p, const aml_frame *f, const size_t *rows,
                         size_t n, double *out)
{
    aml_matrix X = {0};
    int rc;

    if (!rows)
        n = aml_frame_rows(f);
    if ((rc = aml_prep_transform(p->prep, f, rows, n, &X)) < 0)
        return rc;
    rc = aml_learner_predict(p->learner, &X, out);
    aml_matrix_dispose(&X);
    return rc;
}

int aml_pipeline_outputs(const aml_pipeline *p)
{
    return aml_learner_outputs(p->learner);
}

void aml_pipeline_dispose(aml_pipeline *p)
{
    if (!p)
        return;
    aml_learner_free(p->learner);
    aml_prep_free(p->prep);
    memset(p, 0, sizeof(*p));
}
