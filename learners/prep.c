/*
 * prep.c - the preprocessing pipeline (see prep.h).
 *
 * The pipeline reproduces what scikit-learn 1.2 computes with
 *   ColumnTransformer([("num", Pipeline([SimpleImputer(strategy="mean"),
 *                                         StandardScaler()]), numeric),
 *                      ("cat", OneHotEncoder(handle_unknown="ignore"), cat)])
 * except that the output keeps the input column order (each categorical
 * column expands in place), and a numeric column with no value in the
 * training rows is imputed with 0 instead of being dropped, so the width
 * never depends on which fold is being fitted.
 *
 * The standard deviation is the population one (divide by n, counting the
 * imputed cells, which sit at the mean), as StandardScaler does after the
 * imputer.  A column whose variance is zero up to rounding keeps scale 1;
 * the test for "zero up to rounding" is StandardScaler's, so constant
 * columns behave the same in both.
 *
 * Categorical levels are stored as strings so a model can be applied to a
 * CSV whose level set (and so whose codes) differs from the training file.
 * Fitting and transforming are O(rows x columns); the pipeline is
 * read-only after fit, so worker threads may share one.
 */
#include "prep.h"
#include "aml.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Model-file format version of a saved pipeline. */
#define PREP_FORMAT 1u

typedef struct prep_input {
    char *name;
    aml_coltype type;
    double mean;   /* numeric: imputation value, and the centre when scaling */
    double scale;  /* numeric: divisor after centring; 1 when not scaling */
    char **levels; /* categorical: the training levels, sorted by strcmp */
    size_t n_levels;
} prep_input;

struct aml_prep {
    int scale;
    size_t n_inputs, width;
    prep_input *in;
};

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

/* Output columns of one input: 1 for numeric, one per level for categorical. */
static size_t input_width(const prep_input *in)
{
    return in->type == AML_COL_NUMERIC ? 1 : in->n_levels;
}

static size_t prep_compute_width(const aml_prep *p)
{
    size_t i, w = 0;

    for (i = 0; i < p->n_inputs; i++)
        w += input_width(&p->in[i]);
    return w;
}

/* ----------------------------------------------------------------- fit */

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

static void fit_numeric(prep_input *in, const double *x, const size_t *rows, size_t n,
                        int scale)
{
    double sum = 0.0, ss = 0.0;
    size_t i, seen = 0;

    for (i = 0; i < n; i++) {
        if (!isnan(x[rows[i]])) {
            sum += x[rows[i]];
            seen++;
        }
    }
    in->mean = seen ? sum / (double)seen : 0.0;
    in->scale = 1.0;
    if (!scale)
        return;
    /* Imputed cells sit at the mean and add nothing but their count to n. */
    for (i = 0; i < n; i++)
        if (!isnan(x[rows[i]]))
            ss += (x[rows[i]] - in->mean) * (x[rows[i]] - in->mean);
    if (!variance_is_zero(ss / (double)n, in->mean, n))
        in->scale = sqrt(ss / (double)n);
}

/* Keeps the frame levels that occur in the training rows (already sorted). */
static int fit_categorical(prep_input *in, const aml_frame *f, size_t col,
                           const size_t *rows, size_t n)
{
    const int32_t *codes = aml_frame_codes(f, col);
    size_t n_frame = aml_frame_n_levels(f, col), i, k;
    unsigned char *seen = aml_calloc(n_frame, 1);
    int rc = AML_OK;

    if (!seen)
        return AML_ENOMEM;
    for (i = 0; i < n; i++)
        if (codes[rows[i]] >= 0)
            seen[codes[rows[i]]] = 1;
    in->levels = aml_calloc(n_frame, sizeof(char *));
    if (!in->levels)
        rc = AML_ENOMEM;
    for (k = 0; rc == 0 && k < n_frame; k++) {
        if (!seen[k])
            continue;
        in->levels[in->n_levels] = aml_strdup(aml_frame_level(f, col, k));
        if (!in->levels[in->n_levels++])
            rc = AML_ENOMEM;
    }
    free(seen);
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
    aml_prep *p;
    size_t j;
    int rc;

    *out = NULL;
    if (!rows || n == 0)
        return aml_error_set(AML_EINVAL, "cannot fit preprocessing on zero rows");
    if ((rc = check_rows(f, rows, n)) < 0)
        return rc;
    p = aml_calloc(1, sizeof(*p));
    if (!p)
        return AML_ENOMEM;
    p->scale = opt ? opt->scale : 0;
    p->in = aml_calloc(aml_frame_cols(f), sizeof(prep_input));
    rc = p->in ? AML_OK : AML_ENOMEM;
    for (j = 0; rc == 0 && j < aml_frame_cols(f); j++) {
        prep_input *in = &p->in[j];

        p->n_inputs = j + 1;
        in->type = aml_frame_type(f, j);
        if (!(in->name = aml_strdup(aml_frame_name(f, j))))
            rc = AML_ENOMEM;
        else if (in->type == AML_COL_NUMERIC)
            fit_numeric(in, aml_frame_real(f, j), rows, n, p->scale);
        else
            rc = fit_categorical(in, f, j, rows, n);
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

static void transform_numeric(const prep_input *in, int scale, const double *x,
                              const size_t *rows, aml_matrix *m, size_t off)
{
    size_t r;

    for (r = 0; r < m->rows; r++) {
        double v = x[rows ? rows[r] : r];

        if (isnan(v))
            v = in->mean;
        if (scale)
            v = (v - in->mean) / in->scale;
        aml_matrix_row(m, r)[off] = v;
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
    long *map = aml_calloc(n, sizeof(long));

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

static int transform_categorical(const prep_input *in, const aml_frame *f, size_t col,
                                 const size_t *rows, aml_matrix *m, size_t off)
{
    const int32_t *codes = aml_frame_codes(f, col);
    long *map;
    size_t r;
    int rc = map_levels(in, f, col, &map);

    if (rc < 0)
        return rc;
    /* The matrix starts zeroed: missing and unseen levels stay all zeros. */
    for (r = 0; r < m->rows; r++) {
        int32_t c = codes[rows ? rows[r] : r];

        if (c >= 0 && map[c] >= 0)
            aml_matrix_row(m, r)[off + (size_t)map[c]] = 1.0;
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
    col = aml_calloc(p->n_inputs, sizeof(size_t));
    if (!col)
        return AML_ENOMEM;
    if ((rc = match_columns(p, f, col)) < 0 ||
        (rc = aml_matrix_init(out, n, p->width)) < 0)
        goto out;
    for (i = 0; i < p->n_inputs && rc == 0; i++) {
        if (p->in[i].type == AML_COL_NUMERIC)
            transform_numeric(&p->in[i], p->scale, aml_frame_real(f, col[i]), rows, out,
                              off);
        else
            rc = transform_categorical(&p->in[i], f, col[i], rows, out, off);
        off += input_width(&p->in[i]);
    }

out:
    free(col);
    if (rc < 0)
        aml_matrix_dispose(out);
    return rc;
}

/* ----------------------------------------------------------- save/load */

static int save_input(const prep_input *in, aml_writer *w)
{
    size_t k;

    aml_put_str(w, in->name);
    aml_put_u8(w, (uint8_t)in->type);
    if (in->type == AML_COL_NUMERIC) {
        aml_put_f64(w, in->mean);
        return aml_put_f64(w, in->scale);
    }
    aml_put_u64(w, in->n_levels);
    for (k = 0; k < in->n_levels; k++)
        aml_put_str(w, in->levels[k]);
    return w->failed ? AML_ENOMEM : AML_OK;
}

/*
 * Layout: u32 format, u8 scale, u64 n_inputs, then per input: str name,
 * u8 type, and either f64 mean, f64 scale or u64 n_levels, n_levels strs.
 * Writer failures are sticky, so only the last put of each group is checked.
 */
int aml_prep_save(const aml_prep *p, aml_writer *w)
{
    size_t i;

    aml_put_u32(w, PREP_FORMAT);
    aml_put_u8(w, (uint8_t)(p->scale != 0));
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
    in->levels = aml_calloc((size_t)n, sizeof(char *));
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

static int load_input(prep_input *in, aml_reader *r)
{
    uint8_t type;
    int rc;

    if ((rc = aml_get_str(r, &in->name)) < 0 || (rc = aml_get_u8(r, &type)) < 0)
        return rc;
    if (!in->name || type > AML_COL_CATEGORICAL)
        return aml_error_set(AML_EFORMAT, "preprocessing: bad input column");
    in->type = (aml_coltype)type;
    if (in->type == AML_COL_CATEGORICAL)
        return load_levels(in, r);
    if ((rc = aml_get_f64(r, &in->mean)) < 0 || (rc = aml_get_f64(r, &in->scale)) < 0)
        return rc;
    if (!isfinite(in->mean) || !isfinite(in->scale) || !(in->scale > 0.0))
        return aml_error_set(AML_EFORMAT, "preprocessing: bad statistics for '%s'",
                             in->name);
    return AML_OK;
}

static int load_header(aml_prep *p, aml_reader *r, uint64_t *n)
{
    uint32_t format;
    uint8_t scale;
    int rc;

    if ((rc = aml_get_u32(r, &format)) < 0 || (rc = aml_get_u8(r, &scale)) < 0 ||
        (rc = aml_get_u64(r, n)) < 0)
        return rc;
    if (format != PREP_FORMAT || scale > 1)
        return aml_error_set(AML_EFORMAT, "preprocessing: unknown format %u", format);
    p->scale = scale;
    /* An input is at least a name length and a type byte. */
    if ((rc = aml_reader_need(r, (size_t)*n, 5)) < 0)
        return rc;
    return AML_OK;
}

int aml_prep_load(aml_prep **out, aml_reader *r)
{
    aml_prep *p = aml_calloc(1, sizeof(*p));
    uint64_t n = 0;
    size_t i;
    int rc;

    *out = NULL;
    if (!p)
        return AML_ENOMEM;
    if ((rc = load_header(p, r, &n)) < 0)
        goto fail;
    p->in = aml_calloc((size_t)n, sizeof(prep_input));
    if (!p->in) {
        rc = AML_ENOMEM;
        goto fail;
    }
    for (i = 0; i < n; i++) {
        p->n_inputs = i + 1;
        if ((rc = load_input(&p->in[i], r)) < 0)
            goto fail;
    }
    p->width = prep_compute_width(p);
    *out = p;
    return AML_OK;

fail:
    aml_prep_free(p);
    return rc;
}
