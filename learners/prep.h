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
#include "matrix.h"

typedef struct aml_prep aml_prep;

typedef struct aml_prep_options {
    int scale; /* standardise numeric columns (for learners that want it) */
} aml_prep_options;

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

int aml_prep_save(const aml_prep *p, aml_writer *w);
int aml_prep_load(aml_prep **out, aml_reader *r);
void aml_prep_free(aml_prep *p);

#endif
