/*
 * boost_internal.h - the AdaBoost arithmetic shared by adaboost.c (CART
 * trees fitted on the weights) and boosting.c (any base learner fitted on
 * weighted resamples).
 *
 * Classification is SAMME (Zhu, Zou, Rosset and Hastie, "Multi-class
 * AdaBoost", Statistics and Its Interface 2, 2009), regression AdaBoost.R2
 * (Drucker, "Improving Regressors using Boosting Techniques", ICML 1997),
 * both as scikit-learn's AdaBoostClassifier(algorithm="SAMME") and
 * AdaBoostRegressor compute them: the round's error, the member weight,
 * the sample weight update, the early stops, the SAMME probabilities and
 * the R2 weighted median.  The two learners differ only in how a member is
 * grown and predicts, which they pass in as callbacks; one implementation
 * keeps their results the same operation for operation.
 *
 * Not installed and not part of the learner interface: only the two
 * boosting learners include it.
 */
#ifndef AML_BOOST_INTERNAL_H
#define AML_BOOST_INTERNAL_H

#include "cgen.h"
#include "learner.h"
#include "matrix.h"
#include "rng.h"

#include <stddef.h>

/* AdaBoost.R2's per-row loss of |error| / max |error|. */
enum { AML_BOOST_LINEAR = 0, AML_BOOST_SQUARE = 1, AML_BOOST_EXPONENTIAL = 2 };

/*
 * The weights of one boosting fit.  The caller fills the first block and
 * calls aml_boost_init; the grow callback reads sw (or draws with
 * aml_boost_draw) and writes its member's training predictions into pred.
 */
typedef struct aml_boost {
    aml_task task;
    size_t n;     /* training rows */
    size_t n_out; /* classes (SAMME) or 1 (R2) */
    const double *y;
    double learning_rate;
    int loss; /* R2: AML_BOOST_LINEAR, _SQUARE or _EXPONENTIAL */

    double *sw;          /* n sample weights, summing to 1 */
    double *cum;         /* n cumulative weights (aml_boost_draw) */
    double *pred;        /* n x n_out predictions of the current member */
    double *err;         /* n per-row errors or losses */
    unsigned char *zero; /* rows whose weight was 0 from the start */
} aml_boost;

/* Allocates the arrays and sets sw to w (NULL: all ones) normalised. */
int aml_boost_init(aml_boost *s, const double *w);
void aml_boost_dispose(aml_boost *s);

/*
 * Draws n rows with replacement with probabilities sw (never a row of
 * weight 0) and writes how often each was drawn into counts[0..n).
 */
void aml_boost_draw(aml_boost *s, aml_rng *rng, double *counts);

/* Grows member t (on s's weights) and predicts the training rows into s->pred. */
typedef int (*aml_boost_grow_fn)(void *ctx, size_t t);
/* Disposes member t, dropped as no better than chance. */
typedef void (*aml_boost_drop_fn)(void *ctx, size_t t);

/*
 * The boosting loop: at most n_rounds members, their weights into
 * weights[], how many are kept into *n_members (counting a member whose
 * grow failed, so the caller disposes it).  A first member no better than
 * chance fails the fit with "WHO: the first WHAT is no better than chance".
 */
int aml_boost_loop(aml_boost *s, size_t n_rounds, aml_boost_grow_fn grow,
                   aml_boost_drop_fn drop, void *ctx, const char *who, const char *what,
                   double *weights, size_t *n_members);

/* Predicts member t's outputs for X: rows x n_out (classes) or rows values. */
typedef int (*aml_boost_member_fn)(const void *ctx, size_t t, const aml_matrix *X,
                                   double *out);

/*
 * predict of T members with weights: SAMME probabilities (rows x n_out)
 * from the weighted votes, or the R2 weighted median.
 */
int aml_boost_predict(aml_task task, aml_boost_member_fn member, const void *ctx,
                      const double *weights, size_t T, int n_out, const aml_matrix *X,
                      double *out);

/* Member weights finite and >= 0; SAMME needs a positive total to divide by. */
int aml_boost_weights_ok(aml_task task, const double *weights, size_t T);

/*
 * C export of predict (see cgen.h): defines static void FN(const double
 * *x, double *out) from T members with weights in the emitted array W,
 * with the same operations as aml_boost_predict.  `decl` declares what
 * `get` needs (or is ""); `get` is a statement giving member t's outputs
 * for x: for SAMME it points `const double *p` (declared here) at its
 * n_out values, for R2 it sets v[t].  The comment above FN reads
 * "WHO (SAMME): T WHAT." or "WHO (R2): weighted median of T WHAT.".
 */
int aml_boost_emit_c(aml_cgen *g, aml_task task, const char *fn, const char *who,
                     const char *what, int n_out, const double *weights, size_t T,
                     const char *w, const char *decl, const char *get);

#endif
