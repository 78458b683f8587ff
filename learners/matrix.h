/*
 * matrix.h - the dense design matrix learners consume.
 *
 * Row-major doubles: row i starts at data + i * cols.  Preprocessing
 * produces these from a frame; learners borrow them during fit and predict.
 * A matrix handed to a learner holds no NaN: missing values are imputed by
 * the pipeline first.
 */
#ifndef AML_MATRIX_H
#define AML_MATRIX_H

#include <stddef.h>

typedef struct aml_matrix {
    size_t rows, cols;
    double *data; /* owned by whoever created the matrix */
} aml_matrix;

/* Allocates a zeroed rows x cols matrix into *m (embedded): _init / _dispose. */
int aml_matrix_init(aml_matrix *m, size_t rows, size_t cols);
void aml_matrix_dispose(aml_matrix *m);

static inline double *aml_matrix_row(const aml_matrix *m, size_t i)
{
    return m->data + i * m->cols;
}

#endif
