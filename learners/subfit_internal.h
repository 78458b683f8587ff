/*
 * subfit_internal.h - one member of a wrapper learner: a base learner with
 * its default parameters, fitted on chosen rows and columns of the data.
 *
 * bagging (bagging.c) and boosting (boosting.c) wrap any built-in learner.
 * Each member is an aml_subfit: the base learner, the columns it sees and,
 * for classification, the classes its rows held, so its probabilities can
 * be mapped back to the full class set.  The member gets a copy of its
 * rows in the order given, repeats included, so a resample means the same
 * thing to every base learner, whether it honours sample weights or not.
 *
 * Not installed and not part of the learner interface: only the wrapper
 * files and their tests include it.
 */
#ifndef AML_SUBFIT_INTERNAL_H
#define AML_SUBFIT_INTERNAL_H

#include "codec.h"
#include "learner.h"
#include "matrix.h"
#include "rng.h"

#include <stddef.h>
#include <stdint.h>

/*
 * The words of the wrappers' `base` parameter: every built-in learner
 * except the wrappers themselves, NULL-terminated.  A parameter's choices
 * must be a static table; test_bagging.c checks it against the registry.
 */
extern const char *const aml_subfit_base_words[];

/* A fitted member.  Zeroed means empty; aml_subfit_dispose empties it. */
typedef struct aml_subfit {
    aml_learner *l; /* the fitted base learner; NULL: its rows held one class */
    size_t n_feat;  /* columns it sees */
    int32_t *feat;  /* their indices, increasing; NULL when it sees all, in order */
    int n_cls;      /* classification: classes its rows held (1: a constant member) */
    int32_t *cls;   /* their indices in the full class set, increasing */
} aml_subfit;

/* The data every member of one fit draws from (borrowed). */
typedef struct aml_subfit_data {
    const aml_matrix *X;
    const double *y;
    const double *w; /* sample weights or NULL */
    aml_task task;
    int n_classes; /* classification: the full class count */
} aml_subfit_data;

/*
 * The base learner type named `name` for `task`; AML_EINVAL (message
 * starting with `who`) when it is not one of aml_subfit_base_words or does
 * not do the task.
 */
int aml_subfit_base(const aml_learner_type **out, const char *who, const char *name,
                    aml_task task);

/*
 * Checks what every wrapper fit needs of its input: at most INT32_MAX
 * columns, class labels that are integers in [0, n_classes), sample weights
 * finite, non-negative and not all 0.
 */
int aml_subfit_check(const char *who, const aml_subfit_data *d);

/*
 * Fits m (empty) on rows[0..n_rows) (indices into d's rows, repeats
 * allowed) and columns feat[0..n_feat) (increasing; NULL for all), with
 * the sample weights of those rows.  rng and threads go to the base fit.
 * On failure m is left empty.
 */
int aml_subfit_fit(aml_subfit *m, const aml_learner_type *type, const aml_subfit_data *d,
                   const size_t *rows, size_t n_rows, const size_t *feat, size_t n_feat,
                   aml_rng *rng, int threads);

/*
 * Predicts X (all the columns the wrapper was fitted on) into out: rows x
 * n_classes probabilities (0 for classes the member never saw), or rows
 * values for regression.
 */
int aml_subfit_predict(const aml_subfit *m, const aml_matrix *X, aml_task task,
                       int n_classes, double *out);

/* The index of the largest of p[0..n): the first one on ties, as numpy's argmax. */
size_t aml_subfit_argmax(const double *p, size_t n);

/*
 * Adds scale times the member's importances, normalised, to acc[0..p) at
 * their columns.  Returns 1 when added, 0 when the member has none to add
 * (a constant member, or all importances 0), negative when the base
 * learner has no importance (error set).
 */
int aml_subfit_importance_add(const aml_subfit *m, double scale, double *acc);

int aml_subfit_save(const aml_subfit *m, aml_task task, aml_writer *w);
/*
 * Restores a member written by aml_subfit_save into m (empty) and checks
 * it against the wrapper: its base type, task, p columns and n_classes.
 * A member of any other learner type is refused before it is read, so a
 * crafted file cannot nest wrappers.
 */
int aml_subfit_load(aml_subfit *m, aml_reader *r, const char *who,
                    const aml_learner_type *type, aml_task task, size_t p, int n_classes);
void aml_subfit_dispose(aml_subfit *m);

/*
 * C export of members m[0..M) (see cgen.h): each member's base learner
 * through aml_learner_emit_c, then
 *     static void NM_member(size_t t, const double *x, double *part)
 * writing member t's outputs for full input row x into part[0..n_out), at
 * the full class indices (0 for classes it never saw), exactly as
 * aml_subfit_predict does.  NM is a fresh name written into nm.
 */
int aml_subfit_emit_c(const aml_subfit *m, size_t M, aml_task task, int n_out,
                      aml_cgen *g, char *nm, size_t len);

/* Normalises v[0..n) to sum 1 when its sum is positive. */
void aml_subfit_normalise(double *v, size_t n);

#endif
