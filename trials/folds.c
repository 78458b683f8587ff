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
