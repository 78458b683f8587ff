/*
 * dataset.h - a training table split into features and an encoded target.
 *
 * Loads the CSV named by the spec, drops the `drop` columns and rows whose
 * target is missing, decides the task when the spec does not, and encodes
 * class labels once for the whole data set (sorted; numeric labels compare
 * as numbers, so "1" and "1.0" are one class) so that every fold and every
 * model agrees on the class order.
 *
 * It also drops the columns that carry no information (all missing,
 * constant, or a unique ID per row) unless the spec keeps them, takes the
 * cv.group / cv.order columns aside for the fold plan, and checks the
 * plan against the class counts before any trial runs.  What it dropped
 * and why, and the plan's warnings, are kept for the CLI to print.
 */
#ifndef AML_DATASET_H
#define AML_DATASET_H

#include "aml.h"
#include "frame.h"
#include "learner.h"
#include "spec.h"

/* A column dropped because it carries no information. */
typedef struct aml_dropped_col {
    char *name;
    const char *reason; /* static: "all missing", "constant", "unique ID per row" */
} aml_dropped_col;

typedef struct aml_dataset {
    aml_frame *features; /* owned: every column but the target and dropped ones */
    double *y;           /* owned: class index or regression value per row */
    size_t n;
    aml_task task;
    int n_classes;                 /* classification */
    char **classes;                /* owned: label text of each class index */
    char *target;                  /* owned: target column name */
    size_t dropped_rows;           /* rows dropped because the target was missing */
    aml_dropped_col *dropped_cols; /* owned */
    size_t n_dropped_cols;
    char **warnings; /* owned: lines for the user (classes smaller than the folds) */
    size_t n_warnings;
    /* The fold plan of the spec (aml_cv_init reads it when kind is not AUTO). */
    aml_cv_kind cv_kind;
    int cv_folds, cv_repeats;
    double cv_fraction;
    int *cv_group;    /* owned: group index of each row (kind group), else NULL */
    double *cv_order; /* owned: order key of each row (kind time_series), else NULL */
} aml_dataset;

/* Loads the spec's training data.  Errors name the file, line and column. */
int aml_dataset_load(aml_dataset **out, const aml_spec *spec);
void aml_dataset_free(aml_dataset *d);
/* Adds a formatted line to d->warnings. */
int aml_dataset_warn(aml_dataset *d, const char *fmt, ...) AML_PRINTF(2, 3);

#endif
