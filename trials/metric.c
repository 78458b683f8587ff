/*
 * metric.c - the scoring functions behind metric.h.
 *
 * Each metric is called once per validation fold, on a few hundred to a few
 * hundred thousand rows, from OpenMP workers running trials in parallel.  So
 * the functions are pure (no statics, no shared state) and cheap: accuracy,
 * log loss and the regression metrics make one pass with no heap use;
 * balanced accuracy and F1 allocate O(k) counters and ROC AUC an O(n)
 * sort buffer.  A failed allocation or a malformed label yields NaN with the
 * reason in this thread's error slot, and the caller fails the trial.
 *
 * The definitions follow scikit-learn 1.2 so that scores can be compared
 * with it directly (tests/fixtures/gen_metrics.py checks every metric):
 *
 *  - balanced accuracy averages recall over the classes present in y only;
 *  - F1 is the macro mean over classes present in y or in the predictions,
 *    an undefined precision or recall counting as 0 (zero_division=0);
 *  - ROC AUC is the Mann-Whitney U statistic divided by n_pos * n_neg
 *    (Mann and Whitney, 1947; Hanley and McNeil, 1982), with tied scores
 *    counting one half, which equals the trapezoidal area under the ROC
 *    curve that scikit-learn integrates.  We sort once (O(n log n)) and
 *    count negatives below each tie group; the counts are integers or
 *    halves, so the numerator is exact in double arithmetic up to 2^52.
 *    Multiclass AUC is the unweighted one-vs-rest mean over all k classes,
 *    NaN when any class is absent from y (scikit-learn raises there);
 *  - log loss clips each probability to [1e-15, 1 - 1e-15] and renormalises
 *    the row, as log_loss(eps=1e-15) does in 1.2 (whose default eps is the
 *    double epsilon; we keep the traditional 1e-15);
 *  - R^2 of a constant y is 1 for perfect predictions and 0 otherwise
 *    (force_finite=True), and NaN for fewer than two rows.  We detect a
 *    constant y by comparing values rather than by a zero sum of squares,
 *    which rounding in the mean can make slightly positive.
 */
#include "metric.h"
#include "aml.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Bounds of the probability clip in log loss. */
#define METRIC_PROB_EPS 1e-15

#define CLASSIFICATION AML_TASK_BIT(AML_TASK_CLASSIFICATION)
#define REGRESSION AML_TASK_BIT(AML_TASK_REGRESSION)

/* ------------------------------------------------------------------------ */
/* Labels                                                                    */

/* Class of row i, or -1 (with an error set) when y[i] is not in 0..k-1. */
static int metric_label(const double *y, size_t i, int k)
{
    double v = y[i];

    if (!(v >= 0.0 && v < (double)k) || v != floor(v)) {
        aml_error_set(AML_EINVAL, "metric: label %g of row %zu is not a class in 0..%d",
                      v, i, k - 1);
        return -1;
    }
    return (int)v;
}

/* Index of the largest probability in a row; the first wins ties. */
static int metric_argmax(const double *row, int k)
{
    int best = 0, j;

    for (j = 1; j < k; j++)
        if (row[j] > row[best])
            best = j;
    return best;
}

/* 1 when a fold of n rows can be scored at all; otherwise 0 with an error set. */
static int metric_check(size_t n, int k, int classification)
{
    if (n == 0) {
        aml_error_set(AML_EINVAL, "metric: the fold has no rows");
        return 0;
    }
    if (classification && k < 2) {
        aml_error_set(AML_EINVAL, "metric: %d classes; classification needs at least 2",
                      k);
        return 0;
    }
    return 1;
}

/*
 * Per-class counts shared by balanced accuracy and F1: rows whose true
 * class is c, rows predicted c, and rows that are both.  One allocation of
 * 3k counters; on success the caller frees it with free(c->n_true).
 */
typedef struct metric_counts {
    size_t *n_true;
    size_t *n_pred;
    size_t *n_both;
} metric_counts;

static int metric_count(metric_counts *c, const double *y, const double *pred, size_t n,
                        int k)
{
    size_t i;

    c->n_true = aml_calloc(3 * (size_t)k, sizeof(size_t));
    if (!c->n_true)
        return AML_ENOMEM;
    c->n_pred = c->n_true + k;
    c->n_both = c->n_pred + k;

    for (i = 0; i < n; i++) {
        int t = metric_label(y, i, k);
        int p = metric_argmax(pred + i * (size_t)k, k);

        if (t < 0) {
            free(c->n_true);
            return AML_EINVAL;
        }
        c->n_true[t]++;
        c->n_pred[p]++;
        c->n_both[t] += (t == p);
    }
    return AML_OK;
}

/* ------------------------------------------------------------------------ */
/* Label metrics                                                             */

static double metric_accuracy(const double *y, const double *pred, size_t n, int k)
{
    size_t i, hits = 0;

    if (!metric_check(n, k, 1))
        return NAN;
    for (i = 0; i < n; i++) {
        int t = metric_label(y, i, k);

        if (t < 0)
            return NAN;
        hits += (t == metric_argmax(pred + i * (size_t)k, k));
    }
    return (double)hits / (double)n;
}

static double metric_balanced_accuracy(const double *y, const double *pred, size_t n,
                                       int k)
{
    metric_counts c;
    double sum = 0.0;
    int j, present = 0;

    if (!metric_check(n, k, 1) || metric_count(&c, y, pred, n, k) < 0)
        return NAN;
    for (j = 0; j < k; j++) {
        if (c.n_true[j] == 0)
            continue; /* recall is undefined; sklearn drops the class */
        sum += (double)c.n_both[j] / (double)c.n_true[j];
        present++;
    }
    free(c.n_true);
    return sum / present;
}

/* F1 of one class from its counts, as sklearn's fbeta with beta = 1. */
static double metric_f1_class(size_t both, size_t n_true, size_t n_pred)
{
    double precision = n_pred ? (double)both / (double)n_pred : 0.0;
    double recall = n_true ? (double)both / (double)n_true : 0.0;
    double denom = precision + recall;

    return denom > 0.0 ? 2.0 * precision * recall / denom : 0.0;
}

static double metric_f1(const double *y, const double *pred, size_t n, int k)
{
    metric_counts c;
    double sum = 0.0;
    int j, present = 0;

    if (!metric_check(n, k, 1) || metric_count(&c, y, pred, n, k) < 0)
        return NAN;
    for (j = 0; j < k; j++) {
        if (c.n_true[j] == 0 && c.n_pred[j] == 0)
            continue;
        sum += metric_f1_class(c.n_both[j], c.n_true[j], c.n_pred[j]);
        present++;
    }
    free(c.n_true);
    return sum / present;
}

/* ------------------------------------------------------------------------ */
/* ROC AUC                                                                   */

typedef struct metric_scored {
    double score;
    int positive;
} metric_scored;

static int metric_scored_cmp(const void *a, const void *b)
{
    double x = ((const metric_scored *)a)->score;
    double z = ((const metric_scored *)b)->score;

    return (x > z) - (x < z);
}

/*
 * AUC of the filled buffer s[0..n): sort by score, then walk the tie
 * groups upwards.  Each positive in a group beats every negative below the
 * group and half-beats the negatives inside it.  NaN when either side is
 * empty.  The buffer is reordered.
 */
static double metric_auc_sorted(metric_scored *s, size_t n)
{
    double wins = 0.0;
    size_t i = 0, neg_below = 0, n_pos = 0;

    qsort(s, n, sizeof(*s), metric_scored_cmp);
    while (i < n) {
        size_t j = i, pos = 0;

        for (; j < n && s[j].score == s[i].score; j++)
            pos += (size_t)s[j].positive;
        wins += (double)pos * ((double)neg_below + 0.5 * (double)(j - i - pos));
        neg_below += j - i - pos;
        n_pos += pos;
        i = j;
    }
    if (n_pos == 0 || neg_below == 0)
        return NAN;
    return wins / ((double)n_pos * (double)neg_below);
}

/* Fills the buffer with column `c` of pred, marking rows of class c. */
static int metric_auc_fill(metric_scored *s, const double *y, const double *pred,
                           size_t n, int k, int c)
{
    size_t i;

    for (i = 0; i < n; i++) {
        int t = metric_label(y, i, k);

        s[i].score = pred[i * (size_t)k + c];
        s[i].positive = (t == c);
        if (t < 0)
            return AML_EINVAL;
        if (isnan(s[i].score))
            return aml_error_set(AML_EINVAL, "roc_auc: score of row %zu is NaN", i);
    }
    return AML_OK;
}

/*
 * Binary: the class-1 column alone, NaN unless y holds both classes.
 * Multiclass: the unweighted one-vs-rest mean over the classes present in
 * y, each scored on its own probability column.  A class absent from y
 * has no AUC (no positive row); it is left out rather than failing the
 * fold, so a rare class that some validation folds lack (fewer rows than
 * folds) still gives every fold a score.  With every class present this
 * is scikit-learn's roc_auc_score(multi_class="ovr", average="macro"),
 * which refuses a fold that lacks one.  Fewer than two classes in y: NaN.
 */
static double metric_roc_auc(const double *y, const double *pred, size_t n, int k)
{
    metric_scored *s;
    double sum = 0.0;
    int c, present = 0;

    if (!metric_check(n, k, 1))
        return NAN;
    /* Allocate before reading the inputs so that an impossible n fails here. */
    s = aml_mallocarray(n, sizeof(*s));
    if (!s)
        return NAN;

    for (c = (k == 2); c < k; c++) {
        double auc = NAN;
        size_t n_pos = 0;

        if (metric_auc_fill(s, y, pred, n, k, c) < 0) {
            sum = NAN;
            break;
        }
        for (size_t i = 0; i < n; i++)
            n_pos += (size_t)s[i].positive;
        if (k > 2 && n_pos == 0)
            continue; /* absent from y: no AUC, left out of the mean */
        auc = metric_auc_sorted(s, n);
        if (isnan(auc)) {
            if (k == 2)
                aml_error_set(AML_EINVAL, "roc_auc: undefined, y holds one class only");
            else
                aml_error_set(AML_EINVAL,
                              "roc_auc: undefined, class %d is the only class in y", c);
            sum = NAN;
            break;
        }
        sum += auc;
        present++;
    }
    free(s);
    return k == 2 || isnan(sum) ? sum : sum / present;
}

/* ------------------------------------------------------------------------ */
/* Log loss                                                                  */

static double metric_clip(double p)
{
    if (p < METRIC_PROB_EPS)
        return METRIC_PROB_EPS;
    if (p > 1.0 - METRIC_PROB_EPS)
        return 1.0 - METRIC_PROB_EPS;
    return p;
}

static double metric_log_loss(const double *y, const double *pred, size_t n, int k)
{
    double loss = 0.0;
    size_t i;

    if (!metric_check(n, k, 1))
        return NAN;
    for (i = 0; i < n; i++) {
        const double *row = pred + i * (size_t)k;
        int t = metric_label(y, i, k);
        double row_sum = 0.0;
        int j;

        if (t < 0)
            return NAN;
        for (j = 0; j < k; j++)
            row_sum += metric_clip(row[j]);
        loss -= log(metric_clip(row[t]) / row_sum);
    }
    return loss / (double)n;
}

/* ------------------------------------------------------------------------ */
/* Regression                                                                */

/*
 * Targets near 1e300 square to infinity, and near DBL_MAX a difference or a
 * plain sum of targets overflows too, though rmse, mae and r2 are finite;
 * tiny ones (1e-170) square to nothing.  Each metric sums the plain way
 * first (the common case, whose bits stay the textbook formula's), and only
 * when a sum of finite inputs overflowed or underflowed to nothing sums
 * again safely: differences of halved values when any value lies beyond
 * DBL_MAX / 2, means as sums of y_i / n, and squares as LAPACK's scaled sum
 * of squares (xLASSQ: the sum is scale^2 * ssq, scale the largest term so
 * far; see Anderson, "Algorithm 978: Safe Scaling in the Level 1 BLAS",
 * ACM TOMS 44(1), 2017).
 */
typedef struct metric_ssq {
    double scale, ssq; /* the sum is scale^2 * ssq, with ssq in [1, n] once > 0 */
} metric_ssq;

static void metric_ssq_add(metric_ssq *s, double v)
{
    double a = fabs(v), r;

    if (a == 0.0)
        return;
    if (a > s->scale) {
        r = s->scale / a;
        s->ssq = 1.0 + s->ssq * r * r;
        s->scale = a;
    } else {
        r = a / s->scale;
        s->ssq += r * r;
    }
}

static int metric_all_finite(const double *y, const double *pred, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(y[i]) || !isfinite(pred[i]))
            return 0;
    return 1;
}

/*
 * True when a plain sum lost the answer: it overflowed, or (a sum of squares
 * of which one is not zero) underflowed below DBL_MIN, while the inputs are
 * finite (inf or NaN in gives inf or NaN out).
 */
static int metric_sum_lost(double sum, int nonzero, const double *y, const double *pred,
                           size_t n)
{
    if (isfinite(sum) && (sum >= DBL_MIN || !nonzero))
        return 0;
    return metric_all_finite(y, pred, n);
}

/* 0.5 when the difference of two of the values may overflow, else 1. */
static double metric_diff_factor(const double *y, const double *pred, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fabs(y[i]) > 0x1p1022 || fabs(pred[i]) > 0x1p1022)
            return 0.5;
    return 1.0;
}

/* Sum of (f y_i - f c_i)^2, c_i = pred[i] or, when pred is NULL, c. */
static metric_ssq metric_ssq_diff(const double *y, const double *pred, double c, size_t n,
                                  double f)
{
    metric_ssq s = {0.0, 0.0};

    for (size_t i = 0; i < n; i++)
        metric_ssq_add(&s, f * y[i] - f * (pred ? pred[i] : c));
    return s;
}

static double metric_rmse(const double *y, const double *pred, size_t n, int k)
{
    double sum = 0.0, f;
    int nonzero = 0;
    metric_ssq s;
    size_t i;

    AML_UNUSED(k);
    if (!metric_check(n, k, 0))
        return NAN;
    for (i = 0; i < n; i++) {
        double e = y[i] - pred[i];

        sum += e * e;
        nonzero |= e != 0.0;
    }
    if (!metric_sum_lost(sum, nonzero, y, pred, n))
        return sqrt(sum / (double)n);
    f = metric_diff_factor(y, pred, n);
    s = metric_ssq_diff(y, pred, 0.0, n, f);
    return s.scale * sqrt(s.ssq / (double)n) / f;
}

static double metric_mae(const double *y, const double *pred, size_t n, int k)
{
    double sum = 0.0, f;
    size_t i;

    AML_UNUSED(k);
    if (!metric_check(n, k, 0))
        return NAN;
    for (i = 0; i < n; i++)
        sum += fabs(y[i] - pred[i]);
    if (!metric_sum_lost(sum, 0, y, pred, n))
        return sum / (double)n;
    /* Each term at most DBL_MAX / n: the sum cannot overflow. */
    f = metric_diff_factor(y, pred, n);
    for (sum = 0.0, i = 0; i < n; i++)
        sum += fabs(f * y[i] - f * pred[i]) / (double)n;
    return sum / f;
}

/* The mean of y, as sums of y_i / n when the plain sum overflows. */
static double metric_mean(const double *y, size_t n)
{
    double sum = 0.0;
    size_t i;

    for (i = 0; i < n; i++)
        sum += y[i];
    if (isfinite(sum) || !metric_all_finite(y, y, n))
        return sum / (double)n;
    for (sum = 0.0, i = 0; i < n; i++)
        sum += y[i] / (double)n;
    return sum;
}

/* 1 - ss_res / ss_tot from scaled sums (both > 0). */
static double metric_r2_scaled(const double *y, const double *pred, size_t n, double mean)
{
    double f = metric_diff_factor(y, pred, n);
    metric_ssq res = metric_ssq_diff(y, pred, 0.0, n, f);
    metric_ssq tot = metric_ssq_diff(y, NULL, mean, n, f);
    double r = res.scale / tot.scale;

    return 1.0 - r * r * (res.ssq / tot.ssq);
}

static double metric_r2(const double *y, const double *pred, size_t n, int k)
{
    double mean, ss_res = 0.0, ss_tot = 0.0;
    int constant = 1, nonzero = 0;
    size_t i;

    AML_UNUSED(k);
    if (n < 2) {
        /* sklearn: not well defined with fewer than two rows */
        aml_error_set(AML_EINVAL, "r2: needs at least two rows, got %zu", n);
        return NAN;
    }
    for (i = 0; i < n; i++) {
        double e = y[i] - pred[i];

        ss_res += e * e;
        nonzero |= e != 0.0;
        constant &= (y[i] == y[0]);
    }
    mean = metric_mean(y, n);
    for (i = 0; i < n; i++)
        ss_tot += (y[i] - mean) * (y[i] - mean);

    if (!nonzero)
        return 1.0;
    if (constant)
        return 0.0;
    /* Both sums are positive here unless one under- or overflowed. */
    if (metric_sum_lost(ss_res, 1, y, pred, n) || metric_sum_lost(ss_tot, 1, y, pred, n))
        return metric_r2_scaled(y, pred, n, mean);
    return 1.0 - ss_res / ss_tot;
}

/* ------------------------------------------------------------------------ */
/* The table                                                                 */

static const aml_metric metric_accuracy_def = {"accuracy", CLASSIFICATION, 1,
                                               metric_accuracy};
static const aml_metric metric_balanced_accuracy_def = {
    "balanced_accuracy", CLASSIFICATION, 1, metric_balanced_accuracy};
static const aml_metric metric_f1_def = {"f1", CLASSIFICATION, 1, metric_f1};
static const aml_metric metric_roc_auc_def = {"roc_auc", CLASSIFICATION, 1,
                                              metric_roc_auc};
static const aml_metric metric_log_loss_def = {"log_loss", CLASSIFICATION, 0,
                                               metric_log_loss};
static const aml_metric metric_rmse_def = {"rmse", REGRESSION, 0, metric_rmse};
static const aml_metric metric_mae_def = {"mae", REGRESSION, 0, metric_mae};
static const aml_metric metric_r2_def = {"r2", REGRESSION, 1, metric_r2};

const aml_metric *const aml_metrics[] = {
    &metric_accuracy_def,
    &metric_balanced_accuracy_def,
    &metric_f1_def,
    &metric_roc_auc_def,
    &metric_log_loss_def,
    &metric_rmse_def,
    &metric_mae_def,
    &metric_r2_def,
    NULL,
};

const aml_metric *aml_metric_find(const char *name)
{
    size_t i;

    if (!name)
        return NULL;
    for (i = 0; aml_metrics[i]; i++)
        if (strcmp(aml_metrics[i]->name, name) == 0)
            return aml_metrics[i];
    return NULL;
}

const aml_metric *aml_metric_default(aml_task task)
{
    return task == AML_TASK_REGRESSION ? &metric_rmse_def : &metric_accuracy_def;
}

int aml_metric_better(const aml_metric *m, double a, double b)
{
    if (isnan(a))
        return 0;
    if (isnan(b))
        return 1;
    return m->greater_is_better ? a > b : a < b;
}
