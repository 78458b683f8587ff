/*
 * cgen.h - writing dependency-free C source (automl export --format c).
 *
 * A growing text buffer that learners, the preprocessing and the model
 * append to.  Each learner's emit_c slot defines one function
 *     static void NAME(const double *x, double *out)
 * that maps one preprocessed row (n_features doubles) to the learner's
 * outputs (class probabilities or the value), with exactly the arithmetic
 * of its predict slot so that results match to the last bit where the
 * operations are the same (write constants with "%.17g"; call the same
 * libm functions; keep the order of sums).
 * Helper data go in static const arrays named from aml_cgen_name, so
 * several members can live in one file.
 */
#ifndef AML_CGEN_H
#define AML_CGEN_H

#include <stddef.h>

typedef struct aml_cgen aml_cgen;

int aml_cgen_new(aml_cgen **out);
void aml_cgen_free(aml_cgen *g);
/* Appends formatted text; after a failure every later call fails too. */
int aml_cgen_printf(aml_cgen *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A fresh identifier "STEM_N" (unique within g) written into buf. */
int aml_cgen_name(aml_cgen *g, const char *stem, char *buf, size_t len);
/* static const double NAME[n] = {...}; with every value written exactly (%.17g, inf, nan). */
int aml_cgen_doubles(aml_cgen *g, const char *name, const double *v, size_t n);
int aml_cgen_ints(aml_cgen *g, const char *name, const int *v, size_t n);
/* A C string literal for s (escaped), appended. */
int aml_cgen_string(aml_cgen *g, const char *s);
/* The text so far (NUL-terminated; owned by g) and its length. */
const char *aml_cgen_text(const aml_cgen *g, size_t *len);
/* Writes the text to path through a temporary file and rename. */
int aml_cgen_save(const aml_cgen *g, const char *path);

#endif
