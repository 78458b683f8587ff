/*
 * model.h - the exported model: schema, preprocessing and learner in one file.
 *
 * File layout (all integers little-endian, fixed width; see codec.h):
 *   8 bytes  magic "AMLMODEL"
 *   u32      format version (AML_MODEL_VERSION)
 *   u64      payload length in bytes
 *   payload  task, target name, class labels, missing-value tokens (file-wide
 *            and per column), the decimal mark, metric
 *            and cross-validated score, trial number, learner name and
 *            parameters (for people),
 *            then the preprocessing pipeline (input schema included) and
 *            the fitted learner
 *   u64      FNV-1a 64 checksum of everything before it
 * A truncated, corrupted or foreign file fails to load with AML_EFORMAT and
 * a message; it never crashes.  Saving writes a temporary file in the same
 * directory and renames it, so a failed save leaves nothing half-written.
 */
#ifndef AML_MODEL_H
#define AML_MODEL_H

#include "dataset.h"
#include "pipeline.h"

/* 2: adds the decimal mark and per-column missing tokens; 1 still loads. */
#define AML_MODEL_VERSION 2u

typedef struct aml_model aml_model;

/*
 * Refits configuration c of space s on every row of d with `threads`
 * threads and the generator (seed, trial).  `metric` and `score` describe
 * how the configuration did in cross-validation and are stored for people.
 */
int aml_model_fit(aml_model **out, const aml_dataset *d, const aml_space *s,
                  const aml_config *c, long trial, const char *metric, double score,
                  uint64_t seed, int threads);
/*
 * Records the missing-value tokens training used (NULL: the reader's
 * defaults), so prediction reads new files the same way.
 */
int aml_model_set_missing(aml_model *m, char *const *missing, size_t n);
/*
 * Records the rest of how training read its file: the decimal mark (0 or
 * '.', or ',') and the per-column missing tokens of data.missing.
 */
int aml_model_set_reading(aml_model *m, char decimal, const aml_spec_colmissing *cols,
                          size_t n);
int aml_model_save(const aml_model *m, const char *path);
int aml_model_load(aml_model **out, const char *path);
void aml_model_free(aml_model *m);

/*
 * Reads a CSV for prediction: columns are matched by header name (order
 * and extra columns do not matter, the target may be present), and each
 * input column is read with the type it had in training.  A missing
 * column is an error that names it.
 */
int aml_model_read_csv(aml_frame **out, const aml_model *m, const char *path);
/* n rows x aml_model_outputs() values: class probabilities or regression values. */
int aml_model_predict(const aml_model *m, const aml_frame *f, double *out);
int aml_model_outputs(const aml_model *m);

aml_task aml_model_task(const aml_model *m);
const char *aml_model_target(const aml_model *m);
int aml_model_n_classes(const aml_model *m);
const char *aml_model_class(const aml_model *m, int k);
const char *aml_model_learner(const aml_model *m);
const char *aml_model_params(const aml_model *m); /* "C=0.5, ..." */
const char *aml_model_metric(const aml_model *m);
double aml_model_score(const aml_model *m);

#endif
