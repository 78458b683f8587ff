/*
 * matrix.c - allocation of dense matrices.
 */
#include "matrix.h"
#include "aml.h"

#include <stdlib.h>
#include <string.h>

int aml_matrix_init(aml_matrix *m, size_t rows, size_t cols)
{
    m->rows = rows;
    m->cols = cols;
    m->data = aml_calloc(rows ? rows : 1, cols ? cols * sizeof(double) : sizeof(double));
    if (cols && rows > SIZE_MAX / cols / sizeof(double)) {
        free(m->data);
        m->data = NULL;
        return aml_error_set(AML_ENOMEM, "matrix of %zu x %zu is too large", rows, cols);
    }
    return m->data ? AML_OK : AML_ENOMEM;
}

void aml_matrix_dispose(aml_matrix *m)
{
    if (!m)
        return;
    free(m->data);
    memset(m, 0, sizeof(*m));
}
