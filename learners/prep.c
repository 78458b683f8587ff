/*
 * prep.c - the preprocessing pipeline (see prep.h).
 *
 * With default options the pipeline reproduces what scikit-learn 1.2
 * computes with
 *   ColumnTransformer([("num", Pipeline([SimpleImputer(strategy="mean"),
 *                                         StandardScaler()]), numeric),
 *                      ("cat", OneHotEncoder(handle_unknown="ignore"), cat)])
 * except that the output keeps the input column order (each categorical
 * column expands in place), and a numeric column with no value in the
 * training rows is imputed with 0 instead of being dropped, so the width
 * never depends on which fold is being fitted.  The other options follow
 * the same scikit-learn steps: SimpleImputer(median | most_frequent |
 * constant), MissingIndicator(features="missing-only") placed right after
 * its column, MinMaxScaler, RobustScaler (median, q75 - q25 with numpy's
 * linear quantiles), OrdinalEncoder(unknown_value=-1) and the one-hot
 * encoder's max_categories with one "other" column, which also receives
 * levels never seen in training.
 *
 * Every numeric column becomes (x - center) / scale after imputation, and
 * the scaler's statistics are those of the imputed column, as a scaler
 * placed after an imputer sees it.  The standard deviation is the
 * population one (divide by n).  A column whose variance is zero up to
 * rounding keeps scale 1; the test for "zero up to rounding" is
 * StandardScaler's, so constant columns behave the same in both.
 *
 * Categorical levels are stored as strings so a model can be applied to a
 * CSV whose level set (and so whose codes) differs from the training file.
 * Fitting is O(rows x columns), plus a sort per column for medians and
 * quantiles; the pipeline is read-only after fit, so worker threads may
 * share one.
 */
#include "prep.h"
#include "aml.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Model-file format versions of a saved pipeline: 1 (mean/standard only) and 2. */
#define PREP_FORMAT_V1 1u
#define PREP_FORMAT 2u

typedef struct prep_input {
    char *name;
    aml_coltype type;
    double fill;   /* numeric: imputation value */
    double center; /* numeric: subtracted after imputation */
    double scale;  /* numeric: divisor after centring; 1 when not scaling */
    int indicator; /* numeric: a 0/1 missing-indicator column follows */
    char **levels; /* categorical: the kept training levels, sorted by strcmp */
    size_t n_levels;
    long fill_level; /* categorical: level a missing cell takes, or -1 */
    int other;       /* categorical one-hot: an "other" column follows the levels */
} prep_input;

struct aml_prep {
    int scale, encode;
    size_t n_inputs, width;
    prep_input *in;
};

/* ------------------------------------------------------------- options */

static const char *const prep_impute_words[] = {"mean", "median", "most_frequent",
                                                "constant", NULL};
static const char *const prep_bool_words[] = {"false", "true", NULL};
static const char *const prep_encode_words[] = {"onehot", "ordinal", NULL};
static const char *const prep_scale_words[] = {"none",   "standard", "minmax",
                                               "robust", "auto",     NULL};
static const char *const prep_balance_words[] = {
    "none", "class_weight", "undersample", "oversample", "smote", NULL};

#define PREP_STR(nm, words, dflt, text)                                                  \
    {                                                                                    \
        nm, AML_VAL_STR, 0, 0, 0, words, {AML_VAL_STR, 0, 0, dflt}, 0, 0, 0, text, NULL, 0, 0\
    }

const aml_param_def aml_prep_params[] = {
    PREP_STR("impute", prep_impute_words, "mean", "how numeric gaps are filled"),
    {"impute_value",
     AML_VAL_REAL,
     -INFINITY,
     INFINITY,
     0,
     NULL,
     {AML_VAL_REAL, 0, 0, NULL},
     0,
     0,
     0,
     "the value impute: constant fills in",
     NULL,
     0,
     0},
    PREP_STR("missing_indicator", prep_bool_words, "false",
             "add a 0/1 column after each numeric column with gaps"),
    PREP_STR("encode", prep_encode_words, "onehot",
             "how categorical columns become numbers"),
    {"max_levels",
     AML_VAL_INT,
     0,
     1e9,
     0,
     NULL,
     {AML_VAL_INT, 0, 0, NULL},
     0,
     0,
     0,
     "keep this many most frequent levels, the rest go to 'other' (0: all)",
     NULL,
     0,
     0},
    PREP_STR("scale", prep_scale_words, "auto",
             "numeric scaling; auto: standard for learners that want it, else none"),
    PREP_STR("dedup", prep_bool_words, "false", "drop exact duplicate training rows"),
    PREP_STR("balance", prep_balance_words, "none",
             "class imbalance: weights or resampling of the training rows"),
    {NULL, 0, 0, 0, 0, NULL, {0, 0, 0, NULL}, 0, 0, 0, NULL, NULL, 0, 0},
};

static int word_index(const char *const *words, const char *w)
{
    int i;

    for (i = 0; w && words[i]; i++)
        if (strcmp(words[i], w) == 0)
            return i;
    return -1;
}

/* A word option: its index in words, or an error naming the option. */
static int option_word(const char *name, const aml_value *v, const char *const *words,
                       int *out)
{
    int k = v->kind == AML_VAL_STR ? word_index(words, v->str) : -1;

    if (k < 0)
        return aml_error_set(AML_EINVAL, "preprocess: bad value for '%s'", name);
    *out = k;
    return AML_OK;
}

int aml_prep_option_set(aml_prep_options *o, const char *name, const aml_value *v)
{
    int k = 0, rc = AML_OK;

    if (strcmp(name, "impute") == 0)
        rc = option_word(name, v, prep_impute_words, &o->impute);
    else if (strcmp(name, "impute_value") == 0 && v->kind != AML_VAL_STR)
        o->impute_value = aml_value_as_real(v);
    else if (strcmp(name, "missing_indicator") == 0)
        rc = option_word(name, v, prep_bool_words, &o->missing_indicator);
    else if (strcmp(name, "encode") == 0)
        rc = option_word(name, v, prep_encode_words, &o->encode);
    else if (strcmp(name, "max_levels") == 0 && v->kind != AML_VAL_STR &&
             aml_value_as_real(v) >= 0)
        o->max_levels = (long)aml_value_as_real(v);
    else if (strcmp(name, "scale") == 0) {
        if ((rc = option_word(name, v, prep_scale_words, &k)) == 0 && k != 4)
            o->scale = k; /* word order is aml_prep_scale's; 4 is "auto" */
    } else if (strcmp(name, "dedup") == 0)
        rc = option_word(name, v, prep_bool_words, &o->dedup);
    else if (strcmp(name, "balance") == 0)
        rc = option_word(name, v, prep_balance_words, &o->balance);
    else
        rc = aml_error_set(AML_EINVAL, "preprocess: unknown option or bad value '%s'",
                           name);
    return rc;
}

/* ------------------------------------------------------------ accessors */

static void prep_input_dispose(prep_input *in)
{
    size_t k;

    free(in->name);
    for (k = 0; k < in->n_levels; k++)
        free(in->levels[k]);
    free(in->levels);
    memset(in, 0, sizeof(*in));
}

void aml_prep_free(aml_prep *p)
{
    size_t i;

    if (!p)
        return;
    for (i = 0; i < p->n_inputs; i++)
        prep_input_dispose(&p->in[i]);
    free(p->in);
    free(p);
}

size_t aml_prep_width(const aml_prep *p)
{
    return p->width;
}

size_t aml_prep_n_inputs(const aml_prep *p)
{
    return p->n_inputs;
}

const char *aml_prep_input_name(const aml_prep *p, size_t i)
{
    assert(i < p->n_inputs);
    return p->in[i].name;
}

int aml_prep_input_type(const aml_prep *p, size_t i)
{
    assert(i < p->n_inputs);
    return (int)p->in[i].type;
}

/* Output columns of one input. */
static size_t input_width(const aml_prep *p, const prep_input *in)
{
    if (in->type == AML_COL_NUMERIC)
        return 1 + (size_t)(in->indicator != 0);
    if (p->encode == AML_ENCODE_ORDINAL)
        return 1;
    return in->n_levels + (size_t)(in->other != 0);
}

size_t aml_prep_output_input(const aml_prep *p, size_t j)
{
    size_t i, w;

    for (i = 0; i < p->n_inputs; i++, j -= w)
        if (j < (w = input_width(p, &p->in[i])))
            return i;
    assert(!"output column out of range");
    return p->n_inputs ? p->n_inputs - 1 : 0;
}

static size_t prep_compute_width(const aml_prep *p)
{
    size_t i, w = 0;

    for (i = 0; i < p->n_inputs; i++)
        w += input_width(p, &p->in[i]);
    return w;
}

/* ----------------------------------------------------------- numeric fit */

/*
 * StandardScaler's test for a constant feature (sklearn/preprocessing/
 * _data.py, _is_constant_feature): the variance is within the rounding
 * error its computation could have made.
 */
static int variance_is_zero(double var, double mean, size_t n)
{
    double eps = DBL_EPSILON, nd = (double)n;
    double bound = nd * eps * var + (nd * mean * eps) * (nd * mean * eps);

    return var <= bound;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* numpy's default (linear) quantile of sorted v[0..n), n > 0. */
static double quantile_sorted(const double *v, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)floor(pos);

    if (lo + 1 >= n)
        return v[n - 1];
    return v[lo] + (pos - (double)lo) * (v[lo + 1] - v[lo]);
}

/* The most frequent value of sorted v[0..n); the smallest on a tie, as sklearn. */
static double mode_sorted(const double *v, size_t n)
{
    size_t i, run = 0, best_run = 0;
    double best = v[0];

    for (i = 0; i < n; i++) {
        run = i > 0 && v[i] == v[i - 1] ? run + 1 : 1;
        if (run > best_run) {
            best_run = run;
            best = v[i];
        }
    }
    return best;
}

/* The imputation value from the m observed values, sorted in obs. */
static double numeric_fill(const double *obs, size_t m, double sum,
                           const aml_prep_options *o)
{
    if (o->impute == AML_IMPUTE_CONSTANT)
        return o->impute_value;
    if (m == 0)
        return 0.0;
    if (o->impute == AML_IMPUTE_MEDIAN)
        return quantile_sorted(obs, m, 0.5);
    if (o->impute == AML_IMPUTE_MOST_FREQUENT)
        return mode_sorted(obs, m);
    return sum / (double)m;
}

static void scale_standard(prep_input *in, const double *v, size_t n)
{
    double sum = 0.0, ss = 0.0, mean;
    size_t i;

    for (i = 0; i < n; i++)
        sum += v[i];
    mean = sum / (double)n;
    for (i = 0; i < n; i++)
        ss += (v[i] - mean) * (v[i] - mean);
    in->center = mean;
    if (!variance_is_zero(ss / (double)n, mean, n))
        in->scale = sqrt(ss / (double)n);
}

/* Scaler statistics of the imputed column v[0..n), sorted. */
static void fit_scaler(prep_input *in, const double *v, size_t n, int scale)
{
    double spread;

    in->center = 0.0;
    in->scale = 1.0;
    if (scale == AML_SCALE_STANDARD) {
        scale_standard(in, v, n);
    } else if (scale == AML_SCALE_MINMAX) {
        in->center = v[0];
        spread = v[n - 1] - v[0];
        in->scale = spread > 0.0 ? spread : 1.0;
    } else if (scale == AML_SCALE_ROBUST) {
        in->center = quantile_sorted(v, n, 0.5);
        spread = quantile_sorted(v, n, 0.75) - quantile_sorted(v, n, 0.25);
        in->scale = spread > 0.0 ? spread : 1.0;
    }
}

static int fit_numeric(prep_input *in, const double *x, const size_t *rows, size_t n,
                       const aml_prep_options *o)
{
    double *v = aml_mallocarray(n, sizeof(double)), sum = 0.0;
    size_t i, m = 0;

    if (!v)
        return AML_ENOMEM;
    for (i = 0; i < n; i++) {
        if (!isnan(x[rows[i]])) {
            v[m++] = x[rows[i]];
            sum += x[rows[i]];
        }
    }
    qsort(v, m, sizeof(double), cmp_double);
    in->fill = numeric_fill(v, m, sum, o);
    in->indicator = o->missing_indicator && m < n;
    /* The scaler sees the imputed column: the gaps hold the fill value. */
    for (i = m; i < n; i++)
        v[i] = in->fill;
    if (m < n && o->scale != AML_SCALE_NONE && o->scale != AML_SCALE_STANDARD)
        qsort(v, n, sizeof(double), cmp_double);
    fit_scaler(in, v, n, o->scale);
    free(v);
    return AML_OK;
}

/* ------------------------------------------------------- categorical fit */

/* Frame levels by decreasing training count, then by level order. */
typedef struct level_count {
    size_t level, count;
} level_count;

static int level_count_cmp(const void *a, const void *b)
{
    const level_count *x = a, *y = b;

    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return (x->level > y->level) - (x->level < y->level);
}

/* Marks in keep[] the frame levels the pipeline keeps; returns the most frequent. */
static long choose_levels(unsigned char *keep, const size_t *count, size_t n_frame,
                          long max_levels)
{
    level_count *lc = aml_calloc(n_frame ? n_frame : 1, sizeof(*lc));
    size_t k, seen = 0;
    long top = -1;

    if (!lc)
        return -2;
    for (k = 0; k < n_frame; k++)
        if (count[k]) {
            lc[seen].level = k;
            lc[seen++].count = count[k];
        }
    qsort(lc, seen, sizeof(*lc), level_count_cmp);
    for (k = 0; k < seen && (max_levels <= 0 || k < (size_t)max_levels); k++)
        keep[lc[k].level] = 1;
    if (seen)
        top = (long)lc[0].level;
    free(lc);
    return top;
}

/* Keeps the frame levels seen in the training rows (capped), in sorted order. */
static int fit_categorical(prep_input *in, const aml_frame *f, size_t col,
                           const size_t *rows, size_t n, const aml_prep_options *o)
{
    const int32_t *codes = aml_frame_codes(f, col);
    size_t n_frame = aml_frame_n_levels(f, col), i, k;
    size_t *count = aml_calloc(n_frame ? n_frame : 1, sizeof(size_t));
    unsigned char *keep = aml_calloc(n_frame ? n_frame : 1, 1);
    long top;
    int rc = AML_ENOMEM;

    if (!count || !keep)
        goto out;
    for (i = 0; i < n; i++)
        if (codes[rows[i]] >= 0)
            count[codes[rows[i]]]++;
    if ((top = choose_levels(keep, count, n_frame, o->max_levels)) < -1)
        goto out;
    in->other = o->max_levels > 0 && o->encode == AML_ENCODE_ONEHOT;
    in->fill_level = -1;
    if (!(in->levels = aml_calloc(n_frame ? n_frame : 1, sizeof(char *))))
        goto out;
    rc = AML_OK;
    for (k = 0; rc == 0 && k < n_frame; k++) {
        if (!keep[k])
            continue;
        if (o->impute == AML_IMPUTE_MOST_FREQUENT && (long)k == top)
            in->fill_level = (long)in->n_levels;
        in->levels[in->n_levels] = aml_strdup(aml_frame_level(f, col, k));
        if (!in->levels[in->n_levels++])
            rc = AML_ENOMEM;
    }
out:
    free(count);
    free(keep);
    return rc;
}

static int check_rows(const aml_frame *f, const size_t *rows, size_t n)
{
    size_t i, total = aml_frame_rows(f);

    for (i = 0; i < n; i++)
        if (rows[i] >= total)
            return aml_error_set(AML_EINVAL, "row %zu is out of range (%s has %zu rows)",
                                 rows[i], aml_frame_path(f), total);
    return AML_OK;
}

int aml_prep_fit(aml_prep **out, const aml_frame *f, const size_t *rows, size_t n,
                 const aml_prep_options *opt)
{
    static const aml_prep_options defaults;
    aml_prep *p;
    size_t j;
    int rc;

    *out = NULL;
    if (!opt)
        opt = &defaults;
    if (!rows || n == 0)
        return aml_error_set(AML_EINVAL, "cannot fit preprocessing on zero rows");
    if ((rc = check_rows(f, rows, n)) < 0)
        return rc;
    p = aml_calloc(1, sizeof(*p));
    if (!p)
        return AML_ENOMEM;
    p->scale = opt->scale;
    p->encode = opt->encode;
    p->in = aml_calloc(aml_frame_cols(f) ? aml_frame_cols(f) : 1, sizeof(prep_input));
    rc = p->in ? AML_OK : AML_ENOMEM;
    for (j = 0; rc == 0 && j < aml_frame_cols(f); j++) {
        prep_input *in = &p->in[j];

        p->n_inputs = j + 1;
        in->type = aml_frame_type(f, j);
        if (!(in->name = aml_strdup(aml_frame_name(f, j))))
            rc = AML_ENOMEM;
        else if (in->type == AML_COL_NUMERIC)
            rc = fit_numeric(in, aml_frame_real(f, j), rows, n, opt);
        else
            rc = fit_categorical(in, f, j, rows, n, opt);
    }
    if (rc < 0) {
        aml_prep_free(p);
        return rc;
    }
    p->width = prep_compute_width(p);
    *out = p;
    return AML_OK;
}

/* ----------------------------------------------------------- transform */

/* Finds the frame column for each input by name, checking its type. */
static int match_columns(const aml_prep *p, const aml_frame *f, size_t *col)
{
    static const char *const type_name[] = {"numeric", "categorical"};
    size_t i;

    for (i = 0; i < p->n_inputs; i++) {
        const prep_input *in = &p->in[i];
        long j = aml_frame_find(f, in->name);

        if (j < 0)
            return aml_error_set(AML_EINVAL, "column '%s' is missing from %s", in->name,
                                 aml_frame_path(f));
        if (aml_frame_type(f, (size_t)j) != in->type)
            return aml_error_set(AML_EINVAL,
                                 "column '%s' is %s in %s but was %s in training",
                                 in->name, type_name[aml_frame_type(f, (size_t)j)],
                                 aml_frame_path(f), type_name[in->type]);
        col[i] = (size_t)j;
    }
    return AML_OK;
}

static void transform_numeric(const prep_input *in, const double *x, const size_t *rows,
                              aml_matrix *m, size_t off)
{
    size_t r;

    for (r = 0; r < m->rows; r++) {
        double v = x[rows ? rows[r] : r], *row = aml_matrix_row(m, r);

        if (in->indicator)
            row[off + 1] = isnan(v) ? 1.0 : 0.0;
        if (isnan(v))
            v = in->fill;
        row[off] = (v - in->center) / in->scale;
    }
}

static int level_cmp(const void *key, const void *elem)
{
    return strcmp(key, *(char *const *)elem);
}

/* Maps each frame level to the training level with the same text, or -1. */
static int map_levels(const prep_input *in, const aml_frame *f, size_t col, long **out)
{
    size_t n = aml_frame_n_levels(f, col), k;
    long *map = aml_calloc(n ? n : 1, sizeof(long));

    if (!map)
        return AML_ENOMEM;
    for (k = 0; k < n; k++) {
        char **hit = bsearch(aml_frame_level(f, col, k), in->levels, in->n_levels,
                             sizeof(char *), level_cmp);

        map[k] = hit ? (long)(hit - in->levels) : -1;
    }
    *out = map;
    return AML_OK;
}

/*
 * Kept level index of a cell: the fill level for a missing cell (or -1),
 * -2 for a level the training rows did not keep ("other").
 */
static long cell_level(const prep_input *in, const long *map, int32_t code)
{
    if (code < 0)
        return in->fill_level;
    return map[code] >= 0 ? map[code] : -2;
}

static int transform_categorical(const aml_prep *p, const prep_input *in,
                                 const aml_frame *f, size_t col, const size_t *rows,
                                 aml_matrix *m, size_t off)
{
    const int32_t *codes = aml_frame_codes(f, col);
    long *map;
    size_t r;
    int rc = map_levels(in, f, col, &map);

    if (rc < 0)
        return rc;
    /* The matrix starts zeroed: missing and unseen levels stay all zeros. */
    for (r = 0; r < m->rows; r++) {
        long k = cell_level(in, map, codes[rows ? rows[r] : r]);
        double *row = aml_matrix_row(m, r);

        if (p->encode == AML_ENCODE_ORDINAL)
            row[off] = k >= 0 ? (double)k : -1.0;
        else if (k >= 0)
            row[off + (size_t)k] = 1.0;
        else if (k == -2 && in->other)
            row[off + in->n_levels] = 1.0;
    }
    free(map);
    return AML_OK;
}

int aml_prep_transform(const aml_prep *p, const aml_frame *f, const size_t *rows,
                       size_t n, aml_matrix *out)
{
    size_t *col = NULL, i, off = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!rows)
        n = aml_frame_rows(f);
    else if ((rc = check_rows(f, rows, n)) < 0)
        return rc;
    col = aml_calloc(p->n_inputs ? p->n_inputs : 1, sizeof(size_t));
    if (!col)
        return AML_ENOMEM;
    if ((rc = match_columns(p, f, col)) < 0 ||
        (rc = aml_matrix_init(out, n, p->width)) < 0)
        goto out;
    for (i = 0; i < p->n_inputs && rc == 0; i++) {
        if (p->in[i].type == AML_COL_NUMERIC)
            transform_numeric(&p->in[i], aml_frame_real(f, col[i]), rows, out, off);
        else
            rc = transform_categorical(p, &p->in[i], f, col[i], rows, out, off);
        off += input_width(p, &p->in[i]);
    }

out:
    free(col);
    if (rc < 0)
        aml_matrix_dispose(out);
    return rc;
}

/* ------------------------------------------------------------ C export */

/* Every categorical input's kept levels in one string array, and where each starts. */
static int emit_levels(const aml_prep *p, aml_cgen *g, const char *nm)
{
    size_t i, k, at = 0;

    aml_cgen_printf(g, "static const char *const %s_lv[] = {\n    ", nm);
    for (i = 0; i < p->n_inputs; i++)
        for (k = 0; p->in[i].type == AML_COL_CATEGORICAL && k < p->in[i].n_levels; k++) {
            aml_cgen_string(g, p->in[i].levels[k]);
            aml_cgen_printf(g, ",%s", ++at % 4 ? " " : "\n    ");
        }
    /* A last NULL keeps the array non-empty. */
    aml_cgen_printf(g, "NULL};\n\n");
    return aml_cgen_printf(
        g,
        "/* The index of s among n sorted levels (strcmp order), or -1. */\n"
        "static long %s_find(const char *const *lv, long n, const char *s)\n{\n"
        "    long lo = 0, hi = n;\n\n"
        "    while (lo < hi) {\n"
        "        long mid = lo + (hi - lo) / 2;\n"
        "        int c = strcmp(s, lv[mid]);\n\n"
        "        if (c == 0)\n            return mid;\n"
        "        if (c < 0)\n            hi = mid;\n        else\n            lo = mid + "
        "1;\n"
        "    }\n    return -1;\n}\n\n",
        nm);
}

/* transform_numeric for one cell: fill, centre and scale as doubles in stats. */
static void emit_numeric(const prep_input *in, aml_cgen *g, const char *nm, size_t c,
                         size_t i, size_t off)
{
    aml_cgen_printf(g, "    v = num[%zu]; /* input %zu */\n", c, i);
    if (in->indicator)
        aml_cgen_printf(g, "    x[%zu] = isnan(v) ? 1.0 : 0.0;\n", off + 1);
    aml_cgen_printf(g,
                    "    if (isnan(v))\n        v = %s_st[%zu];\n"
                    "    x[%zu] = (v - %s_st[%zu]) / %s_st[%zu];\n",
                    nm, 3 * i, off, nm, 3 * i + 1, nm, 3 * i + 2);
}

/* cell_level and transform_categorical for one cell; x is zeroed already. */
static void emit_categorical(const aml_prep *p, const prep_input *in, aml_cgen *g,
                             const char *nm, size_t c, size_t first, size_t off)
{
    aml_cgen_printf(g,
                    "    k = cat[%zu] ? %s_find(%s_lv + %zu, %zu, cat[%zu]) : %ld;\n"
                    "    if (cat[%zu] && k < 0)\n        k = -2;\n",
                    c, nm, nm, first, in->n_levels, c, in->fill_level, c);
    if (p->encode == AML_ENCODE_ORDINAL)
        aml_cgen_printf(g, "    x[%zu] = k >= 0 ? (double)k : -1.0;\n", off);
    else if (in->other)
        aml_cgen_printf(g,
                        "    if (k >= 0)\n        x[%zu + k] = 1.0;\n"
                        "    else if (k == -2)\n        x[%zu] = 1.0;\n",
                        off, off + in->n_levels);
    else
        aml_cgen_printf(g, "    if (k >= 0)\n        x[%zu + k] = 1.0;\n", off);
}

static int emit_stats(const aml_prep *p, aml_cgen *g, const char *nm)
{
    double *st = aml_calloc(3 * p->n_inputs + 1, sizeof(double));
    char buf[96];
    size_t i;

    if (!st)
        return AML_ENOMEM;
    for (i = 0; i < p->n_inputs; i++) {
        st[3 * i] = p->in[i].fill;
        st[3 * i + 1] = p->in[i].center;
        st[3 * i + 2] = p->in[i].scale;
    }
    snprintf(buf, sizeof(buf), "%s_st", nm);
    aml_cgen_doubles(g, buf, st, 3 * p->n_inputs);
    free(st);
    return AML_OK;
}

int aml_prep_emit_c(const aml_prep *p, aml_cgen *g, const char *fn, const size_t *col)
{
    size_t i, off = 0, first = 0;
    char nm[64];
    int rc, kinds = 0;

    for (i = 0; i < p->n_inputs; i++)
        kinds |= 1 << p->in[i].type;
    /* Only what the inputs use, so the file compiles without warnings. */
    if ((rc = aml_cgen_name(g, "prep", nm, sizeof(nm))) < 0 ||
        ((kinds & 1 << AML_COL_NUMERIC) && (rc = emit_stats(p, g, nm)) < 0) ||
        ((kinds & 1 << AML_COL_CATEGORICAL) && (rc = emit_levels(p, g, nm)) < 0))
        return rc;
    aml_cgen_printf(
        g,
        "/* Preprocessing: %zu input columns to %zu values. */\n"
        "static void %s(const double *num, const char *const *cat, double *x)\n"
        "{\n    double v;\n    long k;\n    size_t j;\n\n"
        "    (void)num, (void)cat, (void)v, (void)k;\n"
        "    for (j = 0; j < %zu; j++)\n        x[j] = 0.0;\n",
        p->n_inputs, p->width, fn, p->width);
    for (i = 0; i < p->n_inputs; i++) {
        const prep_input *in = &p->in[i];
        size_t c = col ? col[i] : i;

        if (in->type == AML_COL_NUMERIC) {
            emit_numeric(in, g, nm, c, i, off);
        } else {
            aml_cgen_printf(g, "    /* input %zu */\n", i);
            emit_categorical(p, in, g, nm, c, first, off);
            first += in->n_levels;
        }
        off += input_width(p, in);
    }
    return aml_cgen_printf(g, "}\n\n");
}

/* ----------------------------------------------------------- save/load */

static int save_input(const prep_input *in, aml_writer *w)
{
    size_t k;

    aml_put_str(w, in->name);
    aml_put_u8(w, (uint8_t)in->type);
    if (in->type == AML_COL_NUMERIC) {
        aml_put_f64(w, in->fill);
        aml_put_f64(w, in->center);
        aml_put_f64(w, in->scale);
        return aml_put_u8(w, (uint8_t)(in->indicator != 0));
    }
    aml_put_u64(w, in->n_levels);
    for (k = 0; k < in->n_levels; k++)
        aml_put_str(w, in->levels[k]);
    aml_put_i64(w, in->fill_level);
    aml_put_u8(w, (uint8_t)(in->other != 0));
    return w->failed ? AML_ENOMEM : AML_OK;
}

/*
 * Layout (format 2): u32 format, u8 scale, u8 encode, u64 n_inputs, then
 * per input: str name, u8 type, and either f64 fill, f64 center, f64 scale,
 * u8 indicator or u64 n_levels, n_levels strs, i64 fill_level, u8 other.
 * Format 1 (read only) had u8 scale, no encode, f64 mean, f64 scale, and
 * the levels alone.  Writer failures are sticky, so only the last put of
 * each group is checked.
 */
int aml_prep_save(const aml_prep *p, aml_writer *w)
{
    size_t i;

    aml_put_u32(w, PREP_FORMAT);
    aml_put_u8(w, (uint8_t)p->scale);
    aml_put_u8(w, (uint8_t)p->encode);
    aml_put_u64(w, p->n_inputs);
    for (i = 0; i < p->n_inputs; i++)
        if (save_input(&p->in[i], w) < 0)
            return AML_ENOMEM;
    return w->failed ? AML_ENOMEM : AML_OK;
}

static int load_levels(prep_input *in, aml_reader *r)
{
    uint64_t n;
    size_t k;
    int rc;

    if ((rc = aml_get_u64(r, &n)) < 0)
        return rc;
    /* Each level is at least its 4-byte length: check before allocating. */
    if ((rc = aml_reader_need(r, (size_t)n, 4)) < 0 || n > SIZE_MAX / sizeof(char *))
        return rc < 0 ? rc : aml_error_set(AML_EFORMAT, "preprocessing: bad level count");
    in->levels = aml_calloc(n ? (size_t)n : 1, sizeof(char *));
    if (!in->levels)
        return AML_ENOMEM;
    for (k = 0; k < n; k++) {
        if ((rc = aml_get_str(r, &in->levels[k])) < 0)
            return rc;
        in->n_levels = k + 1;
        if (!in->levels[k] || (k > 0 && strcmp(in->levels[k - 1], in->levels[k]) >= 0))
            return aml_error_set(
                AML_EFORMAT, "preprocessing: levels of '%s' are not sorted", in->name);
    }
    return AML_OK;
}

/* The format-2 extras of a categorical input: fill level and "other". */
static int load_categorical_v2(prep_input *in, aml_reader *r)
{
    int64_t fill;
    uint8_t other;
    int rc;

    if ((rc = aml_get_i64(r, &fill)) < 0 || (rc = aml_get_u8(r, &other)) < 0)
        return rc;
    if (fill < -1 || fill >= (int64_t)in->n_levels || other > 1)
        return aml_error_set(AML_EFORMAT, "preprocessing: bad levels for '%s'", in->name);
    in->fill_level = (long)fill;
    in->other = other;
    return AML_OK;
}

static int load_numeric(prep_input *in, aml_reader *r, uint32_t format, int old_scale)
{
    uint8_t ind = 0;
    int rc;

    if ((rc = aml_get_f64(r, &in->fill)) < 0)
        return rc;
    if (format == PREP_FORMAT_V1) {
        in->center = old_scale ? in->fill : 0.0; /* v1 centred on the mean */
    } else if ((rc = aml_get_f64(r, &in->center)) < 0) {
        return rc;
    }
    if ((rc = aml_get_f64(r, &in->scale)) < 0 ||
        (format != PREP_FORMAT_V1 && (rc = aml_get_u8(r, &ind)) < 0))
        return rc;
    in->indicator = ind;
    if (!isfinite(in->fill) || !isfinite(in->center) || !isfinite(in->scale) ||
        !(in->scale > 0.0) || ind > 1)
        return aml_error_set(AML_EFORMAT, "preprocessing: bad statistics for '%s'",
                             in->name);
    return AML_OK;
}

static int load_input(prep_input *in, aml_reader *r, uint32_t format, int old_scale)
{
    uint8_t type;
    int rc;

    in->fill_level = -1;
    if ((rc = aml_get_str(r, &in->name)) < 0 || (rc = aml_get_u8(r, &type)) < 0)
        return rc;
    if (!in->name || type > AML_COL_CATEGORICAL)
        return aml_error_set(AML_EFORMAT, "preprocessing: bad input column");
    in->type = (aml_coltype)type;
    if (in->type == AML_COL_NUMERIC)
        return load_numeric(in, r, format, old_scale);
    if ((rc = load_levels(in, r)) < 0 || format == PREP_FORMAT_V1)
        return rc;
    return load_categorical_v2(in, r);
}

static int load_header(aml_prep *p, aml_reader *r, uint64_t *n, uint32_t *format)
{
    uint8_t scale, encode = 0;
    int rc;

    if ((rc = aml_get_u32(r, format)) < 0 || (rc = aml_get_u8(r, &scale)) < 0)
        return rc;
    if (*format != PREP_FORMAT && *format != PREP_FORMAT_V1)
        return aml_error_set(AML_EFORMAT, "preprocessing: unknown format %u", *format);
    if ((*format == PREP_FORMAT && (rc = aml_get_u8(r, &encode)) < 0) ||
        (rc = aml_get_u64(r, n)) < 0)
        return rc;
    if (scale > AML_SCALE_ROBUST || (*format == PREP_FORMAT_V1 && scale > 1) ||
        encode > AML_ENCODE_ORDINAL)
        return aml_error_set(AML_EFORMAT, "preprocessing: bad options");
    p->scale = scale;
    p->encode = encode;
    /* An input is at least a name length and a type byte. */
    if ((rc = aml_reader_need(r, (size_t)*n, 5)) < 0)
        return rc;
    return AML_OK;
}

int aml_prep_load(aml_prep **out, aml_reader *r)
{
    aml_prep *p = aml_calloc(1, sizeof(*p));
    uint64_t n = 0;
    uint32_t format = 0;
    size_t i;
    int rc;

    *out = NULL;
    if (!p)
        return AML_ENOMEM;
    if ((rc = load_header(p, r, &n, &format)) < 0)
        goto fail;
    p->in = aml_calloc(n ? (size_t)n : 1, sizeof(prep_input));
    if (!p->in) {
        rc = AML_ENOMEM;
        goto fail;
    }
    for (i = 0; i < n; i++) {
        p->n_inputs = i + 1;
        if ((rc = load_input(&p->in[i], r, format, p->scale)) < 0)
            goto fail;
    }
    p->width = prep_compute_width(p);
    *out = p;
    return AML_OK;

fail:
    aml_prep_free(p);
    return rc;
}
