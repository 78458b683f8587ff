/*
 * model_internal.h - the model's fields, shared by model.c (building,
 * prediction, accessors) and model_io.c (the file format).  Not a public
 * header: other modules go through model.h.
 */
#ifndef AML_MODEL_INTERNAL_H
#define AML_MODEL_INTERNAL_H

#include "model.h"

/* Sanity bounds on counts read from a file: larger is surely corrupt. */
#define MODEL_MAX_CLASSES (1u << 20)
#define MODEL_MAX_MEMBERS (1u << 16)
#define MODEL_MAX_PIPES (1u << 16)

typedef struct model_member {
    long trial;
    char *learner; /* type name, for people */
    char *params;  /* "C=0.5, ...", for people */
    double score;  /* the trial's CV score */
    double weight; /* in the weighted average (ignored under a stack) */
    int n_pipes;   /* 1: refit on every row; k: fold pipelines, averaged */
    aml_pipeline *pipes;
} model_member;

struct aml_model {
    aml_task task;
    char *target;
    int n_classes;
    char **classes;
    int has_missing; /* 0: the reader's default tokens */
    uint32_t n_missing;
    char **missing;
    char decimal;                /* 0 or '.', or ',' */
    aml_csv_colmissing *colmiss; /* strings owned (cast away from const) */
    uint32_t n_colmiss;
    uint32_t version; /* of the file it was loaded from */
    char *metric;
    double score;
    char *method; /* NULL until aml_model_set_summary */
    int n_members, cap_members;
    model_member *members;
    aml_stack *stack; /* NULL: weighted average */
};

/* A model with no members, nothing but zeroes and a NaN score. */
aml_model *model_alloc(void);
/* Appends an empty member (zeroed); NULL on allocation failure. */
model_member *model_push_member(aml_model *m);
/*
 * Checks that pipeline p fits the model: its learner's task, outputs and
 * width agree with the model and its prep, and its input schema is the
 * model's (the first pipeline's).  AML_EINVAL with a message (the loader
 * turns it into AML_EFORMAT).
 */
int model_check_pipe(const aml_model *m, const aml_pipeline *p);
/* Checks a stack against the members (inputs, outputs, passthrough schema). */
int model_check_stack(const aml_model *m, const aml_stack *st);

#endif
