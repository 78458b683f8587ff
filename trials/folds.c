/*
 * folds.c - cross-validation fold assignment (see folds.h).
 *
 * Called once per study, before any trial runs, so clarity wins over speed;
 * the cost is one O(n) index array and an O(n) shuffle.  Every trial of a
 * study sees the same folds, which makes their scores comparable.
 *
 * k-fold shuffles the row indices (Fisher-Yates through aml_rng_shuffle,
 * generator (seed, stream 0)) and cuts the shuffled order into k runs, the
 * first n % k of them one row longer, as scikit-learn's KFold sizes them.
 *
 * Stratified k-fold lines the rows up class by class, shuffles each class's
 * rows with its own generator (seed, stream 1 + class), and deals the whole
 * line round-robin: position p goes to fold p % k.  Dealing one line means
 * the rotation carries over from one class to the next, which gives both
 * guarantees at once: any k consecutive positions cover every fold once, so
 * fold sizes differ by at most one, and each class is a run of consecutive
 * positions, so every fold holds floor or ceil of (class count / k) of it.
 * A stream per class keeps one class's shuffle independent of the sizes of
 * the others.  Classes with fewer than k rows are allowed (some folds then
 * lack them, where scikit-learn only warns).  scikit-learn's
 * StratifiedKFold allocates differently, so the folds are not identical to
 * its folds; only the balance properties are shared.
 */
#include "folds.h"
#include "aml.h"
#include "rng.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Stream of the k-fold shuffle; class c of a stratified split uses 1 + c. */
#define FOLDS_STREAM_KFOLD 0

static int folds_kfold(int *fold_of, size_t n, int k, uint64_t seed)
{
    size_t *order = aml_mallocarray(n, sizeof(*order));
    size_t base = n / (size_t)k, extra = n % (size_t)k;
    size_t i, pos = 0;
    aml_rng rng;
    int f;

    if (!order)
        return AML_ENOMEM;
    for (i = 0; i < n; i++)
        order[i] = i;
    aml_rng_init(&rng, seed, FOLDS_STREAM_KFOLD);
    aml_rng_shuffle(&rng, order, n);

    for (f = 0; f < k; f++) {
        size_t len = base + ((size_t)f < extra);

        for (i = 0; i < len; i++)
            fold_of[order[pos++]] = f;
    }
    assert(pos == n);
    free(order);
    return AML_OK;
}

/* Checks that every y[i] is a class index in 0..n_classes-1. */
static int folds_check_labels(const double *y, size_t n, int n_classes)
{
    size_t i;

    if (!y)
        return aml_error_set(AML_EINVAL, "stratified folds need class labels");
    if (n_classes < 1)
        return aml_error_set(AML_EINVAL, "stratified folds: %d classes", n_classes);
    for (i = 0; i < n; i++)
        if (!(y[i] >= 0.0 && y[i] < (double)n_classes) || y[i] != floor(y[i]))
            return aml_error_set(AML_EINVAL,
                                 "stratified folds: label %g of row %zu is not a "
                                 "class in 0..%d",
                                 y[i], i, n_classes - 1);
    return AML_OK;
}

/*
 * Writes the rows grouped by class into order[0..n): a counting sort, so
 * rows keep their original order inside a class before the shuffle.
 * start[c]..start[c+1] is the run of class c.
 */
static void folds_group(size_t *order, size_t *start, const double *y, size_t n,
                        int n_classes)
{
    size_t i;
    int c;

    for (i = 0; i < n; i++)
        start[(int)y[i] + 1]++;
    for (c = 0; c < n_classes; c++)
        start[c + 1] += start[c];
    for (i = 0; i < n; i++)
        order[start[(int)y[i]]++] = i;
    /* The fill advanced start[c] to the end of class c; shift back. */
    for (c = n_classes; c > 0; c--)
        start[c] = start[c - 1];
    start[0] = 0;
}

static int folds_stratified(int *fold_of, size_t n, int k, const double *y, int n_classes,
                            uint64_t seed)
{
    size_t *order = aml_mallocarray(n, sizeof(*order));
    size_t *start = aml_calloc((size_t)n_classes + 1, sizeof(*start));
    size_t p;
    int c, rc = AML_ENOMEM;

    if (!order || !start)
        goto out;
    folds_group(order, start, y, n, n_classes);
    for (c = 0; c < n_classes; c++) {
        aml_rng rng;

        aml_rng_init(&rng, seed, 1 + (uint64_t)c);
        aml_rng_shuffle(&rng, order + start[c], start[c + 1] - start[c]);
    }
    for (p = 0; p < n; p++)
        fold_of[order[p]] = (int)(p % (size_t)k);
    rc = AML_OK;
out:
    free(start);
    free(order);
    return rc;
}

int aml_folds_assign(int *fold_of, size_t n, int k, int stratified, const double *y,
                     int n_classes, uint64_t seed)
{
    int rc;

    assert(fold_of || n == 0);
    if (k < 2)
        return aml_error_set(AML_EINVAL,
                             "cross-validation needs at least 2 folds, got %d", k);
    if ((size_t)k > n)
        return aml_error_set(AML_EINVAL, "%d folds for %zu rows: each fold needs a row",
                             k, n);
    if (!stratified)
        return folds_kfold(fold_of, n, k, seed);
    if ((rc = folds_check_labels(y, n, n_classes)) < 0)
        return rc;
    return folds_stratified(fold_of, n, k, y, n_classes, seed);
}

/* ---------------------------------------------------------- group folds */

typedef struct folds_key {
    double key;
    size_t index;
} folds_key;

/* Decreasing size, then increasing group index (a total order: deterministic). */
static int folds_size_cmp(const void *a, const void *b)
{
    const folds_key *x = a, *y = b;

    if (x->key != y->key)
        return x->key < y->key ? 1 : -1;
    return (x->index > y->index) - (x->index < y->index);
}

int aml_folds_group(int *fold_of, size_t n, int k, const int *group)
{
    size_t n_groups = 0, i, g;
    folds_key *size = NULL;
    size_t *load = NULL;
    int *fold_of_group = NULL, f, rc = AML_ENOMEM;

    for (i = 0; i < n; i++)
        n_groups = (size_t)group[i] + 1 > n_groups ? (size_t)group[i] + 1 : n_groups;
    if (k < 2 || (size_t)k > n_groups)
        return aml_error_set(
            AML_EINVAL, "%d folds for %zu groups: each fold needs a group", k, n_groups);
    size = aml_calloc(n_groups, sizeof(*size));
    load = aml_calloc((size_t)k, sizeof(*load));
    fold_of_group = aml_calloc(n_groups, sizeof(int));
    if (!size || !load || !fold_of_group)
        goto out;
    for (g = 0; g < n_groups; g++)
        size[g].index = g;
    for (i = 0; i < n; i++)
        size[group[i]].key += 1.0;
    qsort(size, n_groups, sizeof(*size), folds_size_cmp);
    for (g = 0; g < n_groups; g++) {
        int light = 0;

        for (f = 1; f < k; f++)
            if (load[f] < load[light])
                light = f;
        fold_of_group[size[g].index] = light;
        load[light] += (size_t)size[g].key;
    }
    for (i = 0; i < n; i++)
        fold_of[i] = fold_of_group[group[i]];
    rc = AML_OK;
out:
    free(size);
    free(load);
    free(fold_of_group);
    return rc;
}

/* ----------------------------------------------------- time-series split */

static int folds_key_cmp(const void *a, const void *b)
{
    const folds_key *x = a, *y = b;

    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* Moves boundary p later while it would split rows with equal keys. */
static size_t folds_tie_free(const folds_key *s, size_t n, size_t p)
{
    while (p > 0 && p < n && s[p].key == s[p - 1].key)
        p++;
    return p;
}

int aml_folds_time_series(int *fold_of, size_t n, int k, const double *order)
{
    folds_key *s;
    size_t test, i, start, end;
    int b;

    if (k < 2 || n < (size_t)k + 1)
        return aml_error_set(
            AML_EINVAL, "a time-series plan of %d folds needs at least %d rows, not %zu",
            k, k + 1, n);
    if (!(s = aml_mallocarray(n, sizeof(*s))))
        return AML_ENOMEM;
    for (i = 0; i < n; i++) {
        s[i].key = order[i];
        s[i].index = i;
    }
    qsort(s, n, sizeof(*s), folds_key_cmp);
    test = n / ((size_t)k + 1);
    start = folds_tie_free(s, n, n - (size_t)k * test);
    for (i = 0; i < start; i++)
        fold_of[s[i].index] = -1;
    for (b = 0; b < k; b++) {
        end = b == k - 1 ? n : folds_tie_free(s, n, n - (size_t)(k - 1 - b) * test);
        if (end <= start) {
            free(s);
            return aml_error_set(AML_EINVAL,
                                 "too many equal cv.order values to cut %d time-series "
                                 "folds; use fewer folds",
                                 k);
        }
        for (i = start; i < end; i++)
            fold_of[s[i].index] = b;
        start = end;
    }
    free(s);
    return AML_OK;
}

/* ------------------------------------------------------------- holdout */

/* Marks round(fraction x m) of the m rows in idx (at least 1 when m >= 2) as fold 0. */
static void folds_holdout_part(int *fold_of, size_t *idx, size_t m, double fraction,
                               aml_rng *rng)
{
    size_t take = (size_t)floor(fraction * (double)m + 0.5), i;

    if (take == 0 && m >= 2)
        take = 1;
    if (take >= m)
        take = m - 1;
    aml_rng_shuffle(rng, idx, m);
    for (i = 0; i < take; i++)
        fold_of[idx[i]] = 0;
}

int aml_folds_holdout(int *fold_of, size_t n, double fraction, int stratified,
                      const double *y, int n_classes, uint64_t seed)
{
    size_t *order = aml_mallocarray(n ? n : 1, sizeof(*order));
    size_t *start = NULL, i;
    aml_rng rng;
    int c, rc = AML_OK;

    if (!order)
        return AML_ENOMEM;
    if (n < 2 || !(fraction > 0 && fraction < 1)) {
        free(order);
        return aml_error_set(AML_EINVAL,
                             "a holdout plan needs 2 rows and 0 < fraction < 1");
    }
    for (i = 0; i < n; i++) {
        fold_of[i] = -1;
        order[i] = i;
    }
    aml_rng_init(&rng, seed, FOLDS_STREAM_KFOLD);
    if (!stratified) {
        folds_holdout_part(fold_of, order, n, fraction, &rng);
    } else if ((rc = folds_check_labels(y, n, n_classes)) == 0) {
        if (!(start = aml_calloc((size_t)n_classes + 1, sizeof(*start)))) {
            rc = AML_ENOMEM;
        } else {
            folds_group(order, start, y, n, n_classes);
            for (c = 0; c < n_classes; c++)
                folds_holdout_part(fold_of, order + start[c], start[c + 1] - start[c],
                                   fraction, &rng);
        }
    }
    free(start);
    free(order);
    return rc;
}

/* ------------------------------------------------------------- checks */

static size_t folds_n_groups(const int *group, size_t n)
{
    size_t g = 0, i;

    for (i = 0; group && i < n; i++)
        g = (size_t)group[i] + 1 > g ? (size_t)group[i] + 1 : g;
    return g;
}

/* Rows per fold plan unit: rows, groups, or rows less the first block. */
static int folds_check_size(const aml_folds_plan *p, size_t n)
{
    size_t g;

    if (p->kind == AML_CV_HOLDOUT)
        return n >= 2 ? AML_OK
                      : aml_error_set(AML_EINVAL, "a holdout plan needs at least 2 rows");
    if (p->kind == AML_CV_TIME_SERIES)
        return n >= (size_t)p->k + 1
                   ? AML_OK
                   : aml_error_set(
                         AML_EINVAL,
                         "cv.folds is %d but a time-series plan of %zu rows can "
                         "have at most %zu folds",
                         p->k, n, n > 1 ? n - 1 : 0);
    if (p->kind == AML_CV_GROUP) {
        g = folds_n_groups(p->group, n);
        return g >= (size_t)p->k
                   ? AML_OK
                   : aml_error_set(
                         AML_EINVAL,
                         "cv.folds is %d but the cv.group column holds only %zu "
                         "groups; use cv.folds: %zu at most",
                         p->k, g, g);
    }
    if ((size_t)p->k > n)
        return aml_error_set(
            AML_EINVAL,
            "cv.folds is %d but there are only %zu rows; use cv.folds: %zu "
            "at most",
            p->k, n, n);
    return AML_OK;
}

/* Stratified plans: a one-row class, or every class smaller than k, is fatal. */
static int folds_check_strata(const aml_folds_plan *p, const size_t *count)
{
    char label[AML_QUOTE_MAX + 4];
    size_t most = 0;
    int c;

    for (c = 0; c < p->n_classes; c++) {
        if (count[c] == 1)
            return aml_error_set(
                AML_EINVAL,
                "class '%s' has a single row: a stratified plan needs "
                "at least 2 rows of every class (remove it, or use "
                "cv.kind: kfold)",
                aml_quote_short(p->classes ? p->classes[c] : "?", label));
        most = count[c] > most ? count[c] : most;
    }
    if (most < (size_t)p->k)
        return aml_error_set(AML_EINVAL,
                             "every class has fewer rows than the %d folds; the largest "
                             "fold count that works is cv.folds: %zu",
                             p->k, most);
    return AML_OK;
}

int aml_folds_check(const aml_folds_plan *p, size_t n,
                    int (*warn)(void *payload, const char *line), void *payload)
{
    char line[512], label[AML_QUOTE_MAX + 4];
    size_t *count = NULL, i;
    int c, rc;
    int kfold = p->kind != AML_CV_HOLDOUT && p->kind != AML_CV_TIME_SERIES;

    if ((rc = folds_check_size(p, n)) < 0 || !p->y || p->n_classes < 1 || !kfold)
        return rc;
    if (!(count = aml_calloc((size_t)p->n_classes, sizeof(*count))))
        return AML_ENOMEM;
    for (i = 0; i < n; i++)
        if (p->y[i] >= 0 && p->y[i] < p->n_classes)
            count[(int)p->y[i]]++;
    if (p->stratified && p->kind != AML_CV_GROUP)
        rc = folds_check_strata(p, count);
    for (c = 0; rc == 0 && c < p->n_classes; c++) {
        if (count[c] >= (size_t)p->k || !warn)
            continue;
        snprintf(line, sizeof(line),
                 "class '%s' has %zu row%s, fewer than the %d folds: some "
                 "validation folds will not hold it",
                 aml_quote_short(p->classes ? p->classes[c] : "?", label), count[c],
                 count[c] == 1 ? "" : "s", p->k);
        rc = warn(payload, line);
    }
    free(count);
    return rc;
}
