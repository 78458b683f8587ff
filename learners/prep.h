/*
 * prep.h - the preprocessing pipeline, fitted on a training fold.
 *
 * Turns frame columns into a dense matrix a learner can use:
 *   numeric:     missing values imputed with the training mean, then
 *                optionally standardised (training mean and sd; a
 *                constant column is centred and left unscaled);
 *   categorical: one-hot over the levels seen in the training rows; a
 *                missing value or a level never seen in training (at
 *                validation or predict time) encodes as all zeros.
 * Every statistic comes from the rows passed to aml_prep_fit only, so
 * cross-validation never leaks validation rows into training.
 *
 * Columns are matched by header name on transform, so a predict-time CSV
 * may order its columns differently; a missing column is an error naming it.
 * Categorical levels are matched by their string, not their code.
 */
#ifndef AML_PREP_H
#define AML_PREP_H

#include "codec.h"
#include "frame.h"
#include "learner.h"
#include "matrix.h"

typedef struct aml_prep aml_prep;

/* Scaling of numeric columns; 1 keeps its old meaning, "standardise". */
typedef enum aml_prep_scale {
    AML_SCALE_NONE = 0,
    AML_SCALE_STANDARD = 1, /* (x - mean) / sd */
    AML_SCALE_MINMAX = 2,   /* (x - min) / (max - min) */
    AML_SCALE_ROBUST = 3,   /* (x - median) / (q75 - q25) */
} aml_prep_scale;

typedef enum aml_prep_impute {
    AML_IMPUTE_MEAN = 0,
    AML_IMPUTE_MEDIAN = 1,
    AML_IMPUTE_MOST_FREQUENT = 2, /* also fills categorical columns with their mode */
    AML_IMPUTE_CONSTANT = 3,      /* impute_value */
} aml_prep_impute;

typedef enum aml_prep_encode {
    AML_ENCODE_ONEHOT = 0,
    AML_ENCODE_ORDINAL = 1, /* level index; missing and unseen levels give -1 */
} aml_prep_encode;

/* Class-imbalance handling: the pipeline applies it to training rows only. */
typedef enum aml_prep_balance {
    AML_BALANCE_NONE = 0,
    AML_BALANCE_CLASS_WEIGHT = 1, /* weights n / (classes x class count) */
    AML_BALANCE_UNDERSAMPLE = 2,
    AML_BALANCE_OVERSAMPLE = 3,
    AML_BALANCE_SMOTE = 4,
} aml_prep_balance;

/* Zero-initialised options give the historical pipeline (mean, one-hot). */
typedef struct aml_prep_options {
    int scale;             /* aml_prep_scale */
    int impute;            /* aml_prep_impute */
    double impute_value;   /* AML_IMPUTE_CONSTANT, numeric columns */
    int missing_indicator; /* one 0/1 column after each numeric column with gaps */
    int encode;            /* aml_prep_encode */
    long max_levels;       /* one-hot: keep this many most frequent levels and an
                              "other" column for the rest (0: every level) */
    /* Not used by aml_prep itself; the pipeline applies them to its rows. */
    int dedup;   /* drop exact duplicate training rows */
    int balance; /* aml_prep_balance */
} aml_prep_options;

/*
 * The `preprocess:` keys of a spec, as parameters, so the spec parser
 * checks them and searches them like a learner's (impute, impute_value,
 * missing_indicator, encode, max_levels, scale, dedup, balance).  In a
 * configuration they are named "preprocess.KEY" (AML_PREP_PREFIX).
 */
extern const aml_param_def aml_prep_params[];
#define AML_PREP_PREFIX "preprocess."
/*
 * Sets one option from its parameter value (name without the prefix).
 * scale "auto" leaves o->scale alone.  AML_EINVAL for an unknown name or value.
 */
int aml_prep_option_set(aml_prep_options *o, const char *name, const aml_value *v);

/*
 * Fits on rows[0..n) of every column of f.  *out is a new pipeline the
 * caller frees with aml_prep_free().
 */
int aml_prep_fit(aml_prep **out, const aml_frame *f, const size_t *rows, size_t n,
                 const aml_prep_options *opt);
/* Number of output columns. */
size_t aml_prep_width(const aml_prep *p);
/*
 * Transforms rows[0..n) of f (rows NULL means every row) into *out, which
 * this function initialises (caller disposes with aml_matrix_dispose()).
 */
int aml_prep_transform(const aml_prep *p, const aml_frame *f, const size_t *rows,
                       size_t n, aml_matrix *out);

/* Input schema: the columns the pipeline expects, by name and type. */
size_t aml_prep_n_inputs(const aml_prep *p);
const char *aml_prep_input_name(const aml_prep *p, size_t i);
int aml_prep_input_type(const aml_prep *p, size_t i); /* aml_coltype */
/*
 * The input column output column j (< width) comes from: a numeric
 * column's value and its missing indicator, and every one-hot column
 * (levels and "other") of a categorical column, map to that column.
 */
size_t aml_prep_output_input(const aml_prep *p, size_t j);

/*
 * C export (cgen.h): defines in g
 *     static void fn(const double *num, const char *const *cat, double *x)
 * writing the aml_prep_width() values aml_prep_transform gives for one raw
 * row.  Input i reads num[col[i]] when numeric (NaN: missing) or
 * cat[col[i]] when categorical (the cell's text as the CSV reader keeps
 * it, NULL: missing); col NULL means col[i] = i.
 */
int aml_prep_emit_c(const aml_prep *p, aml_cgen *g, const char *fn, const size_t *col);

int aml_prep_save(const aml_prep *p, aml_writer *w);
int aml_prep_load(aml_prep **out, aml_reader *r);
void aml_prep_free(aml_prep *p);

#endif
