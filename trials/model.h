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
#include "stack.h"

/*
 * 2: adds the decimal mark and per-column missing tokens.
 * 3: several members (each one refitted pipeline, or its k fold pipelines
 *    averaged) combined by a weighted average or a stack; 1 and 2 still load
 *    (as one member of weight 1).
 */
#define AML_MODEL_VERSION 3u

typedef struct aml_model aml_model;

/*
 * Building an ensemble model (trials/build.c): an empty model carrying d's
 * schema (task, target, classes) and the metric, then members, then
 * optionally a stack.  Without a stack the prediction is the weighted
 * average of the members' outputs (weights need not sum to 1; a model of
 * one member of weight 1 is a single trial's model).
 */
int aml_model_new(aml_model **out, const aml_dataset *d, const char *metric);
/*
 * Adds a member: configuration c of space s (trial number, CV score), its
 * weight (>= 0, finite; ignored under a stack) and its fitted pipelines
 * pipes[0..n_pipes): one refit on every row, or one per training fold whose
 * outputs are averaged.  Takes ownership of the pipelines (and zeroes
 * them) whether it succeeds or not.
 */
int aml_model_add_member(aml_model *m, const aml_space *s, const aml_config *c, long trial,
                         double cv_score, double weight, aml_pipeline *pipes, int n_pipes);
/* Combines the members with a fitted stack (takes ownership, even on failure). */
int aml_model_set_stack(aml_model *m, aml_stack *st);
/* The ensemble method's name and its honest CV score, for people. */
int aml_model_set_summary(aml_model *m, const char *method, double score);

int aml_model_n_members(const aml_model *m);
long aml_model_member_trial(const aml_model *m, int i);
double aml_model_member_weight(const aml_model *m, int i);
double aml_model_member_score(const aml_model *m, int i);
const char *aml_model_member_learner(const aml_model *m, int i);
const char *aml_model_member_params(const aml_model *m, int i);
int aml_model_member_n_pipes(const aml_model *m, int i);
const aml_pipeline *aml_model_member_pipe(const aml_model *m, int i, int j);
/* Member i's outputs for every row of f (its fold pipelines averaged): n x outputs. */
int aml_model_member_predict(const aml_model *m, int i, const aml_frame *f, double *out);
const aml_stack *aml_model_stack(const aml_model *m); /* NULL: weighted average */
const char *aml_model_method(const aml_model *m);      /* "none" for one member */
/* How training read its file, for C export's reader. */
char aml_model_decimal(const aml_model *m);

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
/*
 * For C export: how aml_model_read_csv reads a file.  Sets opt's missing
 * tokens (missing NULL: the reader's defaults), per-column token lists and
 * decimal mark, borrowed from m; leaves the other fields alone.
 */
void aml_model_csv_options(const aml_model *m, aml_csv_options *opt);
int aml_model_save(const aml_model *m, const char *path);
int aml_model_load(aml_model **out, const char *path);
/* The same from the file's bytes in memory (messages name it "model"). */
int aml_model_load_buffer(aml_model **out, const void *data, size_t len);
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
/* The first member's learner and parameters (the only member's, for one trial). */
const char *aml_model_learner(const aml_model *m);
const char *aml_model_params(const aml_model *m); /* "C=0.5, ..." */
const char *aml_model_metric(const aml_model *m);
/* The model's CV score: the ensemble's honest estimate, or the single trial's. */
double aml_model_score(const aml_model *m);

#endif
