/*
 * dataset.c - loading the training table of a spec (see dataset.h).
 *
 * Steps, each able to fail with a message pointing into the spec or the
 * CSV: read the CSV (forcing the target numeric for a regression spec so
 * a bad target cell is reported by line and column), find the target,
 * drop the `drop` columns, drop the rows with no target, decide the task,
 * encode the target, and keep the remaining columns as features.
 *
 * Task inference follows the common AutoML convention: a text target is a
 * classification target; so is a numeric one that holds only integers
 * with few distinct values (0/1 flags, class codes 1..7, ratings);
 * everything else is regression.  The spec's `task` overrides this.
 *
 * Class labels are encoded once here, for the whole file, so that every
 * fold and the final model agree on class indices.  Numeric labels are
 * compared as numbers ("1" and "1.0" are one class) and named by their
 * shortest round-trip text; text labels keep their sorted level order.
 */
#include "dataset.h"
#include "aml.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At most this many distinct integer values make a numeric target a class label. */
#define DATASET_MAX_INT_CLASSES 10

/* Integers below 2^53 are exact in a double and print in full. */
#define DATASET_EXACT_INT 9007199254740992.0

/* Buffer for "%.17g" of any double, with room to spare. */
#define DATASET_NUMBER_TEXT 40

void aml_dataset_free(aml_dataset *d)
{
    int k;

    if (!d)
        return;
    aml_frame_free(d->features);
    free(d->y);
    for (k = 0; d->classes && k < d->n_classes; k++)
        free(d->classes[k]);
    free(d->classes);
    free(d->target);
    free(d);
}

/* Reads the spec's CSV with its missing tokens. */
static int dataset_read(aml_frame **f, const aml_spec *spec)
{
    aml_csv_options opt;
    const char *numeric[1];

    memset(&opt, 0, sizeof(opt));
    opt.missing = (const char *const *)spec->missing;
    opt.n_missing = spec->n_missing;
    if (spec->task == AML_SPEC_TASK_REGRESSION) {
        numeric[0] = spec->target;
        opt.numeric = numeric;
        opt.n_numeric = 1;
    }
    return aml_frame_read_csv(f, spec->train, &opt);
}

/* Removes the spec's `drop` columns, which must exist and not be the target. */
static int dataset_drop_columns(aml_frame *f, const aml_spec *spec)
{
    size_t i;

    for (i = 0; i < spec->n_drop; i++) {
        long j = aml_frame_find(f, spec->drop[i]);

        if (strcmp(spec->drop[i], spec->target) == 0)
            return aml_error_set(AML_EINVAL, "%s:%d:%d: cannot drop the target '%s'",
                                 spec->path, spec->pos_drop.line, spec->pos_drop.col,
                                 spec->target);
        if (j < 0)
            return aml_error_set(AML_EINVAL, "%s:%d:%d: drop: '%s' is not a column of %s",
                                 spec->path, spec->pos_drop.line, spec->pos_drop.col,
                                 spec->drop[i], spec->train);
        aml_frame_drop(f, (size_t)j);
    }
    return AML_OK;
}

static int target_missing(const aml_frame *f, size_t col, size_t row)
{
    if (aml_frame_type(f, col) == AML_COL_NUMERIC)
        return isnan(aml_frame_real(f, col)[row]);
    return aml_frame_codes(f, col)[row] < 0;
}

/* Keeps the rows that have a target value; counts the others. */
static int dataset_drop_rows(aml_dataset *d, aml_frame *f, size_t col)
{
    size_t n = aml_frame_rows(f), i;
    unsigned char *keep = aml_malloc(n);
    int rc;

    if (!keep)
        return AML_ENOMEM;
    for (i = 0; i < n; i++) {
        keep[i] = !target_missing(f, col, i);
        d->dropped_rows += !keep[i];
    }
    rc = aml_frame_filter_rows(f, keep);
    free(keep);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Sorted distinct values of x[0..n) into a new array; *k is their count. */
static int distinct_values(double **out, size_t *k, const double *x, size_t n)
{
    double *v = aml_mallocarray(n, sizeof(double));
    size_t i, m = 0;

    if (!v)
        return AML_ENOMEM;
    memcpy(v, x, n * sizeof(double));
    qsort(v, n, sizeof(double), cmp_double);
    for (i = 0; i < n; i++)
        if (m == 0 || v[i] != v[m - 1])
            v[m++] = v[i];
    *out = v;
    *k = m;
    return AML_OK;
}

/* Classification when the target is text, or few distinct integers. */
static aml_task infer_task(const aml_frame *f, size_t col, const double *distinct,
                           size_t k)
{
    size_t i;

    if (aml_frame_type(f, col) == AML_COL_CATEGORICAL)
        return AML_TASK_CLASSIFICATION;
    if (k > DATASET_MAX_INT_CLASSES)
        return AML_TASK_REGRESSION;
    for (i = 0; i < k; i++)
        if (distinct[i] != floor(distinct[i]))
            return AML_TASK_REGRESSION;
    return AML_TASK_CLASSIFICATION;
}

/*
 * The label of a numeric class: integers in full ("10", "100000", not
 * "1e+01"), other values as the shortest "%.*g" that reads back as exactly
 * v ("0.1", "2.5e-07").
 */
static char *number_label(double v)
{
    char buf[DATASET_NUMBER_TEXT];
    int p;

    if (v == floor(v) && fabs(v) < DATASET_EXACT_INT) {
        snprintf(buf, sizeof(buf), "%.0f", v == 0.0 ? 0.0 : v); /* no "-0" */
        return aml_strdup(buf);
    }
    for (p = 1; p <= 17; p++) {
        snprintf(buf, sizeof(buf), "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return aml_strdup(buf);
}

static int alloc_classes(aml_dataset *d, size_t k)
{
    if (k > (size_t)INT32_MAX)
        return aml_error_set(AML_EINVAL, "target '%s' has too many classes (%zu)",
                             d->target, k);
    d->classes = aml_calloc(k, sizeof(char *));
    if (!d->classes)
        return AML_ENOMEM;
    d->n_classes = (int)k;
    return AML_OK;
}

static int encode_numeric_classes(aml_dataset *d, const double *x, const double *distinct,
                                  size_t k)
{
    size_t i;
    int rc = alloc_classes(d, k);

    for (i = 0; rc == 0 && i < k; i++)
        if (!(d->classes[i] = number_label(distinct[i])))
            rc = AML_ENOMEM;
    for (i = 0; rc == 0 && i < d->n; i++) {
        const double *hit = bsearch(&x[i], distinct, k, sizeof(double), cmp_double);

        d->y[i] = (double)(hit - distinct);
    }
    return rc;
}

static int encode_text_classes(aml_dataset *d, const aml_frame *f, size_t col)
{
    const int32_t *codes = aml_frame_codes(f, col);
    size_t k = aml_frame_n_levels(f, col), i;
    int rc = alloc_classes(d, k);

    for (i = 0; rc == 0 && i < k; i++)
        if (!(d->classes[i] = aml_strdup(aml_frame_level(f, col, i))))
            rc = AML_ENOMEM;
    for (i = 0; rc == 0 && i < d->n; i++)
        d->y[i] = (double)codes[i];
    return rc;
}

static int check_classes(const aml_dataset *d, const aml_spec *spec)
{
    if (d->n_classes < 2)
        return aml_error_set(AML_EINVAL,
                             "%s:%d:%d: target '%s' has a single class ('%s') in %s; "
                             "classification needs at least two",
                             spec->path, spec->pos_target.line, spec->pos_target.col,
                             d->target, d->n_classes ? d->classes[0] : "", spec->train);
    return AML_OK;
}

/* Regression reads the column as is; the reader was told to force it numeric. */
static int copy_regression_target(aml_dataset *d, const double *x, const aml_spec *spec)
{
    if (!x)
        return aml_error_set(
            AML_EINVAL, "%s:%d:%d: target '%s' is not numeric; regression needs numbers",
            spec->path, spec->pos_target.line, spec->pos_target.col, d->target);
    memcpy(d->y, x, d->n * sizeof(double));
    return AML_OK;
}

/* Decides the task and fills y, n_classes and classes. */
static int dataset_encode(aml_dataset *d, const aml_frame *f, size_t col,
                          const aml_spec *spec)
{
    int numeric = aml_frame_type(f, col) == AML_COL_NUMERIC;
    const double *x = numeric ? aml_frame_real(f, col) : NULL;
    double *distinct = NULL;
    size_t k = 0;
    int rc;

    d->y = aml_mallocarray(d->n, sizeof(double));
    if (!d->y || (numeric && (rc = distinct_values(&distinct, &k, x, d->n)) < 0))
        return AML_ENOMEM;
    if (spec->task == AML_SPEC_TASK_INFER)
        d->task = infer_task(f, col, distinct, k);
    else
        d->task = spec->task == AML_SPEC_TASK_REGRESSION ? AML_TASK_REGRESSION
                                                         : AML_TASK_CLASSIFICATION;
    if (d->task == AML_TASK_REGRESSION)
        rc = copy_regression_target(d, x, spec);
    else if (numeric)
        rc = encode_numeric_classes(d, x, distinct, k);
    else
        rc = encode_text_classes(d, f, col);
    free(distinct);
    if (rc == 0 && d->task == AML_TASK_CLASSIFICATION)
        rc = check_classes(d, spec);
    return rc;
}

/* Finds the target, drops columns and rows, and encodes the target. */
static int dataset_prepare(aml_dataset *d, aml_frame *f, const aml_spec *spec)
{
    long t;
    int rc;

    if (aml_frame_find(f, spec->target) < 0)
        return aml_error_set(AML_EINVAL, "%s:%d:%d: target '%s' is not a column of %s",
                             spec->path, spec->pos_target.line, spec->pos_target.col,
                             spec->target, spec->train);
    if ((rc = dataset_drop_columns(f, spec)) < 0)
        return rc;
    t = aml_frame_find(f, spec->target);
    if ((rc = dataset_drop_rows(d, f, (size_t)t)) < 0)
        return rc;
    d->n = aml_frame_rows(f);
    if (d->n == 0)
        return aml_error_set(AML_EINVAL, "%s:%d:%d: target '%s' has no values in %s",
                             spec->path, spec->pos_target.line, spec->pos_target.col,
                             spec->target, spec->train);
    if ((rc = dataset_encode(d, f, (size_t)t, spec)) < 0)
        return rc;
    return aml_frame_drop(f, (size_t)t);
}

int aml_dataset_load(aml_dataset **out, const aml_spec *spec)
{
    aml_dataset *d;
    aml_frame *f = NULL;
    int rc;

    *out = NULL;
    d = aml_calloc(1, sizeof(*d));
    if (!d)
        return AML_ENOMEM;
    if (!(d->target = aml_strdup(spec->target))) {
        rc = AML_ENOMEM;
        goto fail;
    }
    if ((rc = dataset_read(&f, spec)) < 0 || (rc = dataset_prepare(d, f, spec)) < 0)
        goto fail;
    d->features = f;
    *out = d;
    return AML_OK;

fail:
    aml_frame_free(f);
    aml_dataset_free(d);
    return rc;
}
