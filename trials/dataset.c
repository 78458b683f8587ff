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
 *
 * Uninformative columns.  A column with no value, or one value in every
 * row, cannot help any learner; a text or integer column whose value
 * differs in every row is an identifier (a name, a ticket, a row number)
 * that lets a learner memorise rows and predicts nothing for new ones.
 * For integers only a row counter (consecutive values) counts, since
 * distinct integers are often a genuine measurement.
 * Identifier detection needs DATASET_ID_MIN_ROWS rows, so that a small
 * table's genuine features are not mistaken for IDs.  A column with one
 * value and some gaps is kept: whether a value is missing can matter.
 */
#include "dataset.h"
#include "aml.h"
#include "folds.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At most this many distinct integer values make a numeric target a class label. */
#define DATASET_MAX_INT_CLASSES 10

/* Integers below 2^53 are exact in a double and print in full. */
#define DATASET_EXACT_INT 9007199254740992.0

/* Buffer for "%.17g" of any double, with room to spare. */
#define DATASET_NUMBER_TEXT 40

/* Fewest rows at which a column unique in every row counts as an identifier. */
#define DATASET_ID_MIN_ROWS 10

/* Longest warning line. */
#define DATASET_WARNING_MAX 512

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
    for (size_t i = 0; i < d->n_dropped_cols; i++)
        free(d->dropped_cols[i].name);
    free(d->dropped_cols);
    for (size_t i = 0; i < d->n_warnings; i++)
        free(d->warnings[i]);
    free(d->warnings);
    free(d->cv_group);
    free(d->cv_order);
    free(d);
}

int aml_dataset_warn(aml_dataset *d, const char *fmt, ...)
{
    char buf[DATASET_WARNING_MAX], **grown;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    grown = aml_reallocarray(d->warnings, d->n_warnings + 1, sizeof(char *));
    if (!grown)
        return AML_ENOMEM;
    d->warnings = grown;
    if (!(d->warnings[d->n_warnings] = aml_strdup(buf)))
        return AML_ENOMEM;
    d->n_warnings++;
    return AML_OK;
}

/* The per-column missing tokens of the spec, as the reader takes them. */
static aml_csv_colmissing *dataset_colmissing(const aml_spec *spec)
{
    aml_csv_colmissing *cm = aml_calloc(spec->n_col_missing + 1, sizeof(*cm));
    size_t i;

    for (i = 0; cm && i < spec->n_col_missing; i++) {
        cm[i].name = spec->col_missing[i].column;
        cm[i].tokens = (const char *const *)spec->col_missing[i].tokens;
        cm[i].n_tokens = spec->col_missing[i].n_tokens;
    }
    return cm;
}

/* Reads the spec's CSV with its missing tokens, delimiter and forced types. */
static int dataset_read(aml_frame **f, const aml_spec *spec)
{
    aml_csv_options opt;
    const char *numeric[1];
    aml_csv_colmissing *cm = dataset_colmissing(spec);
    int rc;

    if (!cm)
        return AML_ENOMEM;
    memset(&opt, 0, sizeof(opt));
    opt.missing = (const char *const *)spec->missing;
    opt.n_missing = spec->n_missing;
    opt.col_missing = cm;
    opt.n_col_missing = spec->n_col_missing;
    opt.categorical = (const char *const *)spec->categorical;
    opt.n_categorical = spec->n_categorical;
    opt.delimiter = spec->delimiter;
    opt.decimal = spec->decimal;
    if (spec->task == AML_SPEC_TASK_REGRESSION) {
        numeric[0] = spec->target;
        opt.numeric = numeric;
        opt.n_numeric = 1;
    }
    rc = aml_frame_read_csv(f, spec->train, &opt);
    free(cm);
    return rc;
}

/* Every column a data: list names must exist in the file. */
static int dataset_check_names(const aml_frame *f, const aml_spec *spec, char **names,
                               size_t n, aml_spec_pos pos, const char *key)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (aml_frame_find(f, names[i]) < 0)
            return aml_error_set(AML_EINVAL, "%s:%d:%d: %s: '%s' is not a column of %s",
                                 spec->path, pos.line, pos.col, key, names[i],
                                 spec->train);
    return AML_OK;
}

static int dataset_check_lists(const aml_frame *f, const aml_spec *spec)
{
    size_t i;
    int rc;

    if ((rc = dataset_check_names(f, spec, spec->categorical, spec->n_categorical,
                                  spec->pos_categorical, "categorical")) < 0 ||
        (rc = dataset_check_names(f, spec, spec->keep, spec->n_keep, spec->pos_keep,
                                  "keep")) < 0)
        return rc;
    for (i = 0; i < spec->n_col_missing; i++)
        if ((rc = dataset_check_names(f, spec, &spec->col_missing[i].column, 1,
                                      spec->pos_missing, "missing")) < 0)
            return rc;
    return AML_OK;
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
    char label[AML_QUOTE_MAX + 4];

    if (d->n_classes < 2)
        return aml_error_set(
            AML_EINVAL,
            "%s:%d:%d: target '%s' has a single class ('%s') in %s; "
            "classification needs at least two",
            spec->path, spec->pos_target.line, spec->pos_target.col, d->target,
            aml_quote_short(d->n_classes ? d->classes[0] : "", label), spec->train);
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

/* ------------------------------------------------- uninformative columns */

/*
 * Why a numeric column carries no information, or NULL.  `file_rows`
 * counts the rows dropped for a missing target too: a row counter keeps
 * its gaps where they were.
 */
static const char *numeric_useless(const double *x, size_t n, size_t file_rows,
                                   double *sorted)
{
    size_t i, m = 0, distinct = 0;
    int integers = 1;

    for (i = 0; i < n; i++)
        if (!isnan(x[i]))
            sorted[m++] = x[i];
    if (m == 0)
        return "all missing";
    qsort(sorted, m, sizeof(double), cmp_double);
    for (i = 0; i < m; i++) {
        distinct += i == 0 || sorted[i] != sorted[i - 1];
        integers &= sorted[i] == floor(sorted[i]);
    }
    if (m == n && distinct == 1)
        return "constant";
    /* A row counter: distinct integers, consecutive but for the rows dropped
     * (1..n, 1001..1000+n). */
    if (m == n && distinct == n && integers && n >= DATASET_ID_MIN_ROWS &&
        sorted[n - 1] - sorted[0] <= (double)(file_rows - 1))
        return "unique ID per row";
    return NULL;
}

static const char *categorical_useless(const aml_frame *f, size_t col)
{
    size_t n = aml_frame_rows(f), levels = aml_frame_n_levels(f, col), i, m = 0;
    const int32_t *codes = aml_frame_codes(f, col);

    for (i = 0; i < n; i++)
        m += codes[i] >= 0;
    if (m == 0)
        return "all missing";
    if (m == n && levels == 1)
        return "constant";
    if (m == n && levels == n && n >= DATASET_ID_MIN_ROWS)
        return "unique ID per row";
    return NULL;
}

static int name_in(const char *name, char **list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return 1;
    return 0;
}

static int record_dropped(aml_dataset *d, const char *name, const char *why)
{
    aml_dropped_col *grown =
        aml_reallocarray(d->dropped_cols, d->n_dropped_cols + 1, sizeof(*grown));

    if (!grown)
        return AML_ENOMEM;
    d->dropped_cols = grown;
    grown[d->n_dropped_cols].reason = why;
    if (!(grown[d->n_dropped_cols].name = aml_strdup(name)))
        return AML_ENOMEM;
    d->n_dropped_cols++;
    return AML_OK;
}

/* Drops the feature columns that carry no information, unless kept. */
static int dataset_drop_useless(aml_dataset *d, aml_frame *f, const aml_spec *spec)
{
    double *buf =
        aml_mallocarray(aml_frame_rows(f) ? aml_frame_rows(f) : 1, sizeof(double));
    size_t j = 0;
    int rc = AML_OK;

    if (!buf)
        return AML_ENOMEM;
    while (rc == 0 && j < aml_frame_cols(f)) {
        const char *why = NULL, *name = aml_frame_name(f, j);

        /* The cv.order column is unique per row by nature: it is an input. */
        if (!name_in(name, spec->keep, spec->n_keep) && strcmp(name, spec->target) != 0 &&
            !(spec->cv_order && strcmp(name, spec->cv_order) == 0))
            why = aml_frame_type(f, j) == AML_COL_NUMERIC
                      ? numeric_useless(aml_frame_real(f, j), aml_frame_rows(f),
                                        aml_frame_rows(f) + d->dropped_rows, buf)
                      : categorical_useless(f, j);
        if (!why) {
            j++;
            continue;
        }
        if ((rc = record_dropped(d, name, why)) == 0)
            rc = aml_frame_drop(f, j);
    }
    free(buf);
    return rc;
}

/* True when text reads as a number once a decimal mark `mark` becomes '.'. */
static int dataset_number_with(const char *text, char mark)
{
    char buf[64], *end;
    size_t i, n = strlen(text);

    if (n == 0 || n >= sizeof(buf) || !strchr(text, mark))
        return 0;
    for (i = 0; i <= n; i++)
        buf[i] = text[i] == mark ? '.' : text[i];
    strtod(buf, &end);
    return end != buf && *end == '\0' &&
           (isdigit((unsigned char)buf[0]) || strchr("+-.", buf[0]) != NULL);
}

/*
 * A text column whose every level is a number written with the other
 * decimal mark was almost surely misread: say so before the search spends
 * its budget one-hot encoding measurements.
 */
static int dataset_warn_decimal(aml_dataset *d, const aml_frame *f, const aml_spec *spec)
{
    char other = spec->decimal == ',' ? '.' : ',';
    size_t j, k;
    int rc = AML_OK;

    for (j = 0; rc == 0 && j < aml_frame_cols(f); j++) {
        size_t n = aml_frame_n_levels(f, j);

        if (aml_frame_type(f, j) != AML_COL_CATEGORICAL || n < 2)
            continue;
        for (k = 0; k < n && dataset_number_with(aml_frame_level(f, j, k), other); k++)
            ;
        if (k == n)
            rc = aml_dataset_warn(d,
                                  "column '%s' holds numbers written with '%c' decimals "
                                  "(like '%s') and is read as text; set data.decimal: "
                                  "\"%c\" if they are numbers",
                                  aml_frame_name(f, j), other, aml_frame_level(f, j, 0),
                                  other);
    }
    return rc;
}

/* ------------------------------------------------------------ fold plan */

/* The spec's position of a cv column, for messages. */
static int plan_column(const aml_frame *f, const aml_spec *spec, const char *name,
                       aml_spec_pos pos, const char *key, size_t *col)
{
    long j = aml_frame_find(f, name);
    size_t i;

    if (j < 0 || strcmp(name, spec->target) == 0)
        return aml_error_set(AML_EINVAL,
                             "%s:%d:%d: cv.%s: '%s' is not an input column of %s",
                             spec->path, pos.line, pos.col, key, name, spec->train);
    for (i = 0; i < aml_frame_rows(f); i++) {
        int missing = aml_frame_type(f, (size_t)j) == AML_COL_NUMERIC
                          ? isnan(aml_frame_real(f, (size_t)j)[i])
                          : aml_frame_codes(f, (size_t)j)[i] < 0;

        if (missing)
            return aml_error_set(AML_EFORMAT, "%s:%zu: cv.%s column '%s' has no value",
                                 spec->train, aml_frame_line(f, i), key, name);
    }
    *col = (size_t)j;
    return AML_OK;
}

/*
 * A column's values as sort keys: numbers as they are, text by its level
 * (levels sort by strcmp, so ISO dates order correctly).
 */
static int column_keys(double **out, const aml_frame *f, size_t col)
{
    size_t n = aml_frame_rows(f), i;
    double *k = aml_mallocarray(n ? n : 1, sizeof(double));

    if (!k)
        return AML_ENOMEM;
    for (i = 0; i < n; i++)
        k[i] = aml_frame_type(f, col) == AML_COL_NUMERIC ? aml_frame_real(f, col)[i]
                                                         : aml_frame_codes(f, col)[i];
    *out = k;
    return AML_OK;
}

/* Group index of each row: the rank of its key among the distinct keys. */
static int group_index(aml_dataset *d, const double *keys, size_t n)
{
    double *distinct = NULL;
    size_t k = 0, i;
    int rc = distinct_values(&distinct, &k, keys, n);

    if (rc < 0)
        return rc;
    if (!(d->cv_group = aml_mallocarray(n ? n : 1, sizeof(int))))
        rc = AML_ENOMEM;
    for (i = 0; rc == 0 && i < n; i++) {
        const double *hit = bsearch(&keys[i], distinct, k, sizeof(double), cmp_double);

        d->cv_group[i] = (int)(hit - distinct);
    }
    free(distinct);
    return rc;
}

/* Takes the cv.group (dropped from the inputs) and cv.order columns aside. */
static int dataset_plan_columns(aml_dataset *d, aml_frame *f, const aml_spec *spec)
{
    double *keys = NULL;
    size_t col;
    int rc = AML_OK;

    if (spec->cv_kind == AML_CV_GROUP) {
        if ((rc = plan_column(f, spec, spec->cv_group, spec->pos_cv_group, "group",
                              &col)) < 0 ||
            (rc = column_keys(&keys, f, col)) < 0)
            return rc;
        rc = group_index(d, keys, aml_frame_rows(f));
        free(keys);
        if (rc == 0)
            rc = aml_frame_drop(f, col);
    } else if (spec->cv_kind == AML_CV_TIME_SERIES) {
        if ((rc = plan_column(f, spec, spec->cv_order, spec->pos_cv_order, "order",
                              &col)) < 0)
            return rc;
        rc = column_keys(&d->cv_order, f, col);
    }
    return rc;
}

static int dataset_warn_cb(void *payload, const char *line)
{
    return aml_dataset_warn(payload, "%s", line);
}

/* The spec's fold plan, checked against the rows and the class counts. */
static int dataset_plan(aml_dataset *d, const aml_spec *spec)
{
    aml_folds_plan plan;
    int rc;

    d->cv_kind = spec->cv_kind;
    d->cv_folds = spec->folds;
    d->cv_repeats = spec->cv_kind == AML_CV_REPEATED ? spec->repeats : 1;
    d->cv_fraction = spec->fraction;
    memset(&plan, 0, sizeof(plan));
    plan.kind = spec->cv_kind;
    plan.k = spec->folds;
    plan.fraction = spec->fraction;
    plan.stratified = spec->stratified && d->task == AML_TASK_CLASSIFICATION;
    plan.y = d->y;
    plan.n_classes = d->n_classes;
    plan.classes = (const char *const *)d->classes;
    plan.group = d->cv_group;
    rc = aml_folds_check(&plan, d->n, dataset_warn_cb, d);
    if (rc < 0 && spec->path) {
        /* Point at the fold count in the spec when it gave one. */
        char msg[768];
        aml_spec_pos at = spec->pos_folds;

        snprintf(msg, sizeof(msg), "%s", aml_error_message());
        if (at.line)
            rc = aml_error_set(rc, "%s:%d:%d: %s", spec->path, at.line, at.col, msg);
        else
            rc = aml_error_set(rc, "%s: %s", spec->path, msg);
    }
    return rc;
}

/* ------------------------------------------------------------ the whole */

/* Finds the target, drops columns and rows, and encodes the target. */
static int dataset_prepare(aml_dataset *d, aml_frame *f, const aml_spec *spec)
{
    long t;
    int rc;

    if (aml_frame_find(f, spec->target) < 0)
        return aml_error_set(AML_EINVAL, "%s:%d:%d: target '%s' is not a column of %s",
                             spec->path, spec->pos_target.line, spec->pos_target.col,
                             spec->target, spec->train);
    if ((rc = dataset_check_lists(f, spec)) < 0 ||
        (rc = dataset_drop_columns(f, spec)) < 0)
        return rc;
    t = aml_frame_find(f, spec->target);
    if ((rc = dataset_drop_rows(d, f, (size_t)t)) < 0)
        return rc;
    d->n = aml_frame_rows(f);
    if (d->n == 0)
        return aml_error_set(AML_EINVAL, "%s:%d:%d: target '%s' has no values in %s",
                             spec->path, spec->pos_target.line, spec->pos_target.col,
                             spec->target, spec->train);
    if ((rc = dataset_encode(d, f, (size_t)t, spec)) < 0 ||
        (rc = aml_frame_drop(f, (size_t)t)) < 0 ||
        (rc = dataset_plan_columns(d, f, spec)) < 0 ||
        (rc = dataset_warn_decimal(d, f, spec)) < 0 ||
        (rc = dataset_drop_useless(d, f, spec)) < 0)
        return rc;
    if (aml_frame_cols(f) == 0)
        return aml_error_set(
            AML_EINVAL, "%s: no input column left besides the target '%s'%s%s%s",
            spec->train, spec->target,
            d->n_dropped_cols ? " (the others carry no information; "
                                "list them under data.keep to use them)"
                              : "",
            d->n_warnings ? "; note: " : "", d->n_warnings ? d->warnings[0] : "");
    return dataset_plan(d, spec);
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
