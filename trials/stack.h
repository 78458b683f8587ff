/*
 * stack.h - a stacked meta-model over the outputs of ensemble members.
 *
 * Stacking (D. Wolpert, "Stacked Generalization", 1992): a meta-learner is
 * trained on the out-of-fold predictions of the members, so it learns how
 * far to trust each member on rows none of them saw.  Layer 1 is one or
 * more meta-learners over the members' outputs (Z: n x q, the members'
 * output columns side by side), optionally with the original input columns
 * passed through (the stack then owns its own preprocessing of them);
 * with two layers a final learner is trained on layer 1's own out-of-fold
 * outputs, computed with the study's folds.
 *
 * Meta-learners are ordinary learners (learner.h: logistic_regression or
 * ridge by default), so they save, load and export like members do.
 */
#ifndef AML_STACK_H
#define AML_STACK_H

#include <stddef.h>

#include "frame.h"
#include "learner.h"

typedef struct aml_stack aml_stack;

/* What aml_stack_fit builds; the strings are borrowed. */
typedef struct aml_stack_options {
    int layers;                 /* 1 or 2 */
    const char *const *meta;    /* layer-1 learner names, n_meta >= 1 */
    size_t n_meta;
    const char *final;          /* layers == 2: the learner over layer 1's outputs */
    int passthrough;            /* 1: layer 1 also sees the original inputs */
} aml_stack_options;

/*
 * Fits the stack on Z (n x q member outputs, row-major, no NaN) and y
 * (class indices as doubles, or values).  f is the training frame (the
 * rows Z's rows stand for, in order) for passthrough, else may be NULL.
 * fold_of (n entries in [0, k)) gives the folds used for the out-of-fold
 * outputs that layer 2 trains on and for *oof (n x outputs, may be NULL):
 * the stack's own honest out-of-fold prediction of every row.
 */
int aml_stack_fit(aml_stack **out, const aml_stack_options *o, aml_task task,
                  int n_classes, const double *Z, size_t n, size_t q, const aml_frame *f,
                  const double *y, const int *fold_of, int k, aml_rng *rng, int threads,
                  double *oof);
/*
 * Predicts n rows: Z as for fit (n x q), f the frame with the original
 * inputs (rows[0..n) of it, rows NULL: the first n; ignored without
 * passthrough).  out: n x outputs.
 */
int aml_stack_predict(const aml_stack *s, const double *Z, const aml_frame *f,
                      const size_t *rows, size_t n, double *out);
int aml_stack_outputs(const aml_stack *s);
int aml_stack_save(const aml_stack *s, aml_writer *w);
int aml_stack_load(aml_stack **out, aml_reader *r);
void aml_stack_free(aml_stack *s);

/* For people and for C export: the structure of a fitted stack. */
int aml_stack_layers(const aml_stack *s);
size_t aml_stack_inputs(const aml_stack *s); /* q, the member output columns */
int aml_stack_passthrough(const aml_stack *s);
/* The passthrough preprocessing (NULL without passthrough). */
const struct aml_prep *aml_stack_prep(const aml_stack *s);
size_t aml_stack_n_meta(const aml_stack *s);
/*
 * Layer-1 learner i: its input is Z's q columns followed, with passthrough,
 * by the prep's output columns.
 */
const aml_learner *aml_stack_meta(const aml_stack *s, size_t i);
/* Layers == 2: the final learner; its input is the layer-1 learners' outputs side by side. */
const aml_learner *aml_stack_final(const aml_stack *s);

#endif
