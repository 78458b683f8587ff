/*
 * hgb.h - internals shared by hgb.c (the gradient boosting learner: losses,
 * boosting rounds, save/load) and hgb_tree.c (binning, histograms, tree
 * growth).  Not a public interface: nothing outside these two files uses it.
 *
 * A fit bins every feature once into uint8 codes (column-major, one byte
 * per cell), then grows each tree on gradient/hessian histograms of those
 * codes, read through a row-major copy (dense features) and a sparse one
 * (features mostly at one code).  Bin b of feature j holds the values x with edge[b-1] <
 * x <= edge[b]; the last value bin is open above; code nb[j] holds the missing values
 * (NaN).  A split "code <= b" is therefore the same test as "x <= edge[b]" on raw values,
 * which is what the fitted trees store, so predict never needs the bins.
 */
#ifndef AML_HGB_H
#define AML_HGB_H

#include "rng.h"

#include <stddef.h>
#include <stdint.h>

/* Most value bins per feature: codes 0..254 for values, up to 255 for missing. */
#define HGB_MAX_BINS 255

/* Gradient and hessian sums of one histogram bin. */
typedef struct hgb_gh {
    double g, h;
} hgb_gh;

/* One tree node, kept in a forest-wide array. */
typedef struct hgb_node {
    int32_t feature;      /* split feature, -1 for a leaf */
    int32_t left, right;  /* children, indices within the same tree */
    int32_t bin;          /* fit only: codes <= bin go left (-1 after load) */
    uint8_t default_left; /* side the missing values take */
    double threshold;     /* x <= threshold goes left */
    double value;         /* leaf: added to the raw score (learning rate included) */
    double gain;          /* split: loss reduction, for importance */
} hgb_node;

/* Every tree of a model: tree t is nodes[start[t] .. start[t+1]). */
typedef struct hgb_forest {
    hgb_node *nodes;
    size_t n_nodes, cap_nodes;
    size_t *start; /* n_trees + 1 entries */
    size_t n_trees, cap_trees;
} hgb_forest;

/* Tree growth settings. */
typedef struct hgb_grow_cfg {
    int max_depth;  /* >= 1 */
    int max_leaves; /* 0: depth-wise; > 0: best-first up to this many leaves */
    double lambda, min_child_weight, learning_rate;
} hgb_grow_cfg;

typedef struct hgb_cand hgb_cand;
typedef struct hgb_split hgb_split;
typedef struct hgb_job hgb_job;

/*
 * Everything a fit needs besides the model, allocated once by
 * hgb_ws_init so that tree growth never allocates.
 */
typedef struct hgb_ws {
    size_t n, p; /* rows (training and validation) and features */
    int threads;
    uint8_t *codes; /* p x n, column-major (partition, scoring) */
    /* Histogram layout (see hgb_layout in hgb_tree.c): */
    int *dflt;       /* per feature: default (most frequent) code if sparse, else -1 */
    int *dense;      /* the dense features, ascending (n_dense) */
    size_t n_dense;  /* dense features */
    uint8_t *dcodes; /* n x n_dense, row-major: codes of the dense features */
    size_t *sptr;    /* n + 1: row r's sparse entries are sidx[sptr[r] .. sptr[r+1]) */
    uint32_t *sidx;  /* histogram slot (off[j] + code) of each non-default sparse code */
    size_t *tdcol;   /* the tree's dense features: column in dcodes ... */
    size_t *tdoff;   /* ... and first histogram slot */
    size_t n_tdense; /* the tree's dense features */
    hgb_gh *scratch; /* threads - 1 private histograms for row-parallel builds */
    int *nb;         /* value bins per feature */
    size_t *off;     /* first histogram slot of feature j (nb[j] + 1 slots) */
    double *edges;   /* edges of feature j at off[j] .. off[j] + nb[j] - 2 */
    size_t slots;    /* histogram slots of all features */
    double *g, *h;   /* gradients and hessians of the tree being grown (n) */
    size_t *rows;    /* rows of the tree, partitioned by node */
    size_t *tmp;     /* partition scratch */
    hgb_gh *gh;      /* g, h side by side (n), for the histograms */
    hgb_gh *pool;    /* pool_slots histograms of `slots` bins */
    int *free_slot;  /* stack of free pool slots */
    int n_free, pool_slots;
    hgb_cand *cands;       /* nodes that may still be split */
    size_t max_leaves;     /* leaves a tree can reach */
    size_t *nbegin, *nend; /* row range of each node of the current tree */
    double *ng, *nh;       /* gradient and hessian totals of each node */
    int *ndepth;           /* depth of each node */
    hgb_split *fsplit;     /* best split of each feature */
    int *feat;             /* features of the current tree */
    hgb_cand *lvl;         /* candidates of the level being split (depth-wise) */
    hgb_job *jobs;         /* that level's histogram and split work */
    size_t n_feat;
} hgb_ws;

/*
 * Bins X (n x p, row-major): bin edges from the rows train[0..n_train)
 * (a deterministic rng-drawn subsample of HGB_EDGE_SAMPLE rows when there
 * are more), codes for all n rows.  Allocates the workspace for trees of
 * the given settings.
 */
int hgb_ws_init(hgb_ws *ws, const double *X, size_t n, size_t p, const size_t *train,
                size_t n_train, int max_bins, const hgb_grow_cfg *cfg, aml_rng *rng,
                int threads);
void hgb_ws_dispose(hgb_ws *ws);

/*
 * Grows one tree on ws->g / ws->h over the rows ws->rows[0..m) and the
 * features ws->feat[0..n_feat), and appends it to f.  Leaf values are
 * -G / (H + lambda) times the learning rate.  On return the leaves' rows
 * are ws->rows[ws->nbegin[leaf] .. ws->nend[leaf]) (leaf = node index in
 * the new tree).
 */
int hgb_grow(hgb_ws *ws, const hgb_grow_cfg *cfg, size_t m, hgb_forest *f);

/* Leaf of tree t reached by row r through the codes (fit only). */
size_t hgb_leaf_codes(const hgb_ws *ws, const hgb_forest *f, size_t t, size_t r);
/* Leaf of tree t reached by raw feature values x. */
size_t hgb_leaf_raw(const hgb_forest *f, size_t t, const double *x);

void hgb_forest_dispose(hgb_forest *f);
/* Makes room for `nodes` more nodes and one more tree. */
int hgb_forest_reserve(hgb_forest *f, size_t nodes);

#endif
