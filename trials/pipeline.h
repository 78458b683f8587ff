/*
 * pipeline.h - preprocessing plus one learner, fitted on a set of rows.
 *
 * The unit that cross-validation fits once per fold and that the model
 * file stores: a pipeline is fitted on training rows only (the
 * preprocessing statistics included), so validation rows never leak into
 * what predicts them.  The configuration's "preprocess.*" parameters
 * choose the preprocessing (and dedup / class balancing of the training
 * rows); the others go to the learner.
 */
#ifndef AML_PIPELINE_H
#define AML_PIPELINE_H

#include "dataset.h"
#include "learner.h"
#include "prep.h"
#include "space.h"

typedef struct aml_pipeline {
    aml_prep *prep;
    aml_learner *learner;
} aml_pipeline;

/*
 * Fits the configuration `c` of space `s` on rows[0..n) of d (rows NULL:
 * all rows).  `p` must be zeroed or disposed; on failure it is left
 * disposed and the message is set.
 */
int aml_pipeline_fit(aml_pipeline *p, const aml_dataset *d, const aml_space *s,
                     const aml_config *c, const size_t *rows, size_t n, aml_rng *rng,
                     int threads);
/*
 * Predicts rows[0..n) of frame f (rows NULL: all rows) into out: n x
 * outputs values (class probabilities, or one regression value).
 */
int aml_pipeline_predict(const aml_pipeline *p, const aml_frame *f, const size_t *rows,
                         size_t n, double *out);
int aml_pipeline_outputs(const aml_pipeline *p);
/*
 * A partial resource's training rows (see pipeline.c): keeps
 * max(1, round(n x fraction)) of rows[0..*n), in row order, stratified by
 * class for classification (largest-remainder quotas, and at least one row
 * of every class present, so the count may exceed that by up to
 * classes - 1); drawn from a child stream of fold_rng, which is not
 * advanced.  A full fraction (aml_resource_full) keeps every row.
 */
int aml_pipeline_subsample(const aml_dataset *d, size_t *rows, size_t *n, double fraction,
                           const aml_rng *fold_rng);
void aml_pipeline_dispose(aml_pipeline *p);

#endif
