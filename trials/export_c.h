/*
 * export_c.h - a fitted model as one dependency-free C source file.
 *
 * `automl export ... --format c` writes a file that compiles with `cc -O2`
 * alone (C99, libm) and defines a documented prediction function for the
 * model, its preprocessing included, giving the same outputs as `automl
 * predict` (to the last bit where the arithmetic is the same).  Compiled
 * with -DAUTOML_MAIN it is also a program that reads a CSV on stdin and
 * writes what `automl predict` writes.
 */
#ifndef AML_EXPORT_C_H
#define AML_EXPORT_C_H

#include "model.h"

/* Writes the C source for m to path (temporary file, then rename). */
int aml_model_export_c(const aml_model *m, const char *path);

#endif
