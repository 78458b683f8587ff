/*
 * tree_internal.h - the CART builder shared by the tree learners.
 *
 * decision_tree (tree.c), random_forest and extra_trees (forest.c) and
 * adaboost (adaboost.c) all grow their trees with tree_build.c.  A fit
 * makes one aml_tree_data (the training matrix ranked per feature, built
 * once and then only read, so any number of threads can share it), one
 * aml_tree_work per thread (all scratch memory of a build, so growing a
 * tree allocates nothing but its own nodes), and then grows trees with
 * aml_tree_grow on weighted rows: a row subset is the rows of positive
 * weight, a bootstrap sample is its draw counts times the sample weights.
 *
 * Not installed and not part of the learner interface: only the learner
 * files and their tests include it.
 */
#ifndef AML_TREE_INTERNAL_H
#define AML_TREE_INTERNAL_H

#include "codec.h"
#include "learner.h"
#include "matrix.h"
#include "rng.h"

#include <stddef.h>
#include <stdint.h>

enum { AML_TREE_GINI = 0, AML_TREE_ENTROPY = 1 };

/* Words of the classification criterion parameter, indexed by AML_TREE_*. */
extern const char *const aml_tree_criterion_words[];

/* How one tree is grown. */
typedef struct aml_tree_opts {
    aml_task task;
    int n_out;           /* n_classes, or 1 for regression */
    int criterion;       /* AML_TREE_GINI or AML_TREE_ENTROPY; ignored for regression */
    long long max_depth; /* 0: unlimited */
    long long min_samples_split, min_samples_leaf;
    size_t max_features; /* features tried per node, 1..p */
    int random_splits;   /* extra trees: one uniform threshold per feature */
} aml_tree_opts;

/* A fitted tree: flat node arrays (see tree_build.c). */
typedef struct aml_tree {
    int n_out;
    size_t p;
    size_t n_nodes, cap_nodes;
    int32_t *feature; /* split feature, -1 for a leaf */
    double *threshold;
    int32_t *left, *right; /* children, -1 for a leaf */
    int32_t *value;        /* leaf: its row in values; internal: -1 */
    size_t n_leaves, cap_leaves;
    double *values;     /* n_leaves x n_out: class fractions or the mean */
    double *importance; /* p impurity decreases, normalised to sum 1 (or all 0) */
} aml_tree;

/* The training data ranked per feature; read-only once made. */
typedef struct aml_tree_data {
    const aml_matrix *X;
    const double *y;
    aml_task task;
    int n_out;
    size_t n, p;
    uint32_t *rank; /* p x n: rank of X[i][f] among the distinct values of f */
    double *vals;   /* distinct values of feature f, ascending: vals + voff[f] */
    size_t *voff;   /* p + 1 offsets into vals */
    /* Two-valued features: the rows holding the rarer value, of rank minor[f]. */
    uint32_t *sparse;     /* rows, feature after feature */
    size_t *soff;         /* p + 1 offsets into sparse (empty for other features) */
    unsigned char *minor; /* p */
    uint8_t *rank8;       /* p x n: rank as a byte, for features of <= 256 values */
} aml_tree_data;

typedef struct aml_tree_work aml_tree_work;

/*
 * Checks labels (class indices below n_out), targets (finite), weights
 * (finite, >= 0, one positive; w may be NULL) and features (no NaN);
 * `who` names the learner in messages.
 */
int aml_tree_check(const char *who, const aml_matrix *X, const double *y, const double *w,
                   aml_task task, int n_out);
/* Ranks X with up to `threads` threads; X and y must outlive d. */
int aml_tree_data_init(aml_tree_data *d, const aml_matrix *X, const double *y,
                       aml_task task, int n_out, int threads);
void aml_tree_data_dispose(aml_tree_data *d);

int aml_tree_work_new(aml_tree_work **out, const aml_tree_data *d);
void aml_tree_work_free(aml_tree_work *ws);

/*
 * Grows t (emptied first) on the rows of d with w[i] > 0 (w: d->n weights,
 * at least one positive).  rng draws the candidate features when
 * o->max_features < p and the thresholds of random splits.
 */
int aml_tree_grow(aml_tree *t, const aml_tree_data *d, const double *w,
                  const aml_tree_opts *o, aml_rng *rng, aml_tree_work *ws);
void aml_tree_dispose(aml_tree *t);

/* Adds each row's leaf values (n_out per row) to out; X has t->p columns. */
void aml_tree_predict_add(const aml_tree *t, const aml_matrix *X, double *out);
/* Writes each row's leaf values (n_out per row) to out. */
void aml_tree_predict(const aml_tree *t, const aml_matrix *X, double *out);

/*
 * C export (cgen.h): defines the nodes of trees[0..n) (all with the same
 * n_out) and the function
 *     static size_t NAME_leaf(size_t t, const double *x)
 * giving the offset in the array NAME_vals of the n_out leaf values tree t
 * reaches for row x, by predict's tests.  NAME (a fresh name) goes to name.
 */
int aml_tree_emit_c(const aml_tree *trees, size_t n, aml_cgen *g, char *name, size_t len);

/* Writes n_out, p, the node arrays, leaf values and importance. */
int aml_tree_save(const aml_tree *t, aml_writer *w);
/* Reads what aml_tree_save wrote into an empty t and checks it forms a tree. */
int aml_tree_load(aml_tree *t, aml_reader *r, aml_task task);

/* Checks p importances are finite, >= 0 and sum to 1 or 0 (a loaded model). */
int aml_tree_importance_ok(const double *imp, size_t p);

/*
 * forest.c internals, for tests: the out-of-bag score (NaN unless
 * oob_score and bootstrap were set), the trees, and tree t's bootstrap
 * counts (n rows; only right after fit, not after load).
 */
double aml_forest_oob_score(const aml_learner *l);
size_t aml_forest_n_trees(const aml_learner *l);
const aml_tree *aml_forest_tree(const aml_learner *l, size_t t);
int aml_forest_inbag(const aml_learner *l, size_t t, unsigned *counts, size_t n);
/*
 * The out-of-bag score from per-row sums of out-of-bag predictions (n x
 * n_out, divided in place by seen[i], the number of trees that left row i
 * out): accuracy of the most probable class, or R^2 for regression.
 */
double aml_forest_oob_from_sums(aml_task task, int n_out, double *sum, const size_t *seen,
                                const double *y, size_t n);

#endif
