/*
 * dataset.h - a training table split into features and an encoded target.
 *
 * Loads the CSV named by the spec, drops the `drop` columns and rows whose
 * target is missing, decides the task when the spec does not, and encodes
 * class labels once for the whole data set (sorted; numeric labels compare
 * as numbers, so "1" and "1.0" are one class) so that every fold and every
 * model agrees on the class order.
 */
#ifndef AML_DATASET_H
#define AML_DATASET_H

#include "frame.h"
#include "learner.h"
#include "spec.h"

typedef struct aml_dataset {
    aml_frame *features; /* owned: every column but the target and dropped ones */
    double *y;           /* owned: class index or regression value per row */
    size_t n;
    aml_task task;
    int n_classes;       /* classification */
    char **classes;      /* owned: label text of each class index */
    char *target;        /* owned: target column name */
    size_t dropped_rows; /* rows dropped because the target was missing */
} aml_dataset;

/* Loads the spec's training data.  Errors name the file, line and column. */
int aml_dataset_load(aml_dataset **out, const aml_spec *spec);
void aml_dataset_free(aml_dataset *d);

#endif
