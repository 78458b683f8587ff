/*
 * spec.h - the YAML study specification.
 *
 * aml_spec_load() reads the file with libyaml, checks every key, type and
 * bound, resolves relative paths against the spec's directory and builds
 * the search space.  Any mistake is one message in the form
 * "spec.yaml:LINE:COL: message" (via aml_error_message()) and AML_EINVAL,
 * before any work starts.
 *
 * Names that other modules own (learners, metrics, strategies) are checked
 * against the vocabulary passed in, so this module does not link them.
 * The spec keeps line and column of fields whose check needs the data set
 * (a metric that does not suit the inferred task, a target that is not a
 * column) so those late errors can still point into the file.
 */
#ifndef AML_SPEC_H
#define AML_SPEC_H

#include "learner.h"
#include "space.h"

typedef struct aml_spec_pos {
    int line, col; /* 1-based; 0 when the field was absent */
} aml_spec_pos;

typedef struct aml_spec_vocab {
    const aml_learner_type *const *learners; /* NULL-terminated */
    const char *const *metrics;              /* NULL-terminated */
    const char *const *strategies;           /* NULL-terminated */
} aml_spec_vocab;

typedef enum aml_spec_task {
    AML_SPEC_TASK_INFER = -1, /* decided from the target column */
    AML_SPEC_TASK_CLASSIFICATION = 0,
    AML_SPEC_TASK_REGRESSION = 1,
} aml_spec_task;

typedef struct aml_spec {
    char *path;      /* the spec file as given */
    char *text;      /* the whole file, for storing with the study */
    char *study;
    /* data: */
    char *train;     /* resolved path */
    char *target;
    aml_spec_task task;
    char **drop;
    size_t n_drop;
    char **missing;  /* NULL when the spec gives none (reader defaults apply) */
    size_t n_missing;
    /* cv: */
    int folds;
    int stratified;  /* default 1 for classification */
    unsigned long long cv_seed;
    char *metric;    /* NULL: accuracy for classification, rmse for regression */
    /* search: */
    char *strategy;
    long trials;     /* budget; 0 = none given (grid: whole grid; random: 50) */
    int parallel;    /* 0 = all cores */
    unsigned long long seed;
    aml_space *space;
    char *store;     /* resolved path */
    char *output;    /* resolved path, NULL when absent */

    aml_spec_pos pos_target, pos_task, pos_metric, pos_strategy, pos_train, pos_drop;
} aml_spec;

/*
 * Loads and checks a spec.  On success *out is owned by the caller and
 * freed with aml_spec_free().  On failure returns AML_EINVAL (or AML_EIO
 * when the file cannot be read) with the message set.
 */
int aml_spec_load(aml_spec **out, const char *path, const aml_spec_vocab *vocab);
void aml_spec_free(aml_spec *s);

#endif
