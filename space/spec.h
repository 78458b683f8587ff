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

/* Validation plans (cv.kind); AUTO is stratified for classification, else kfold. */
typedef enum aml_cv_kind {
    AML_CV_AUTO = 0,
    AML_CV_KFOLD = 1,
    AML_CV_STRATIFIED = 2,
    AML_CV_REPEATED = 3,    /* `repeats` x k-fold (stratified for classification) */
    AML_CV_GROUP = 4,       /* rows sharing a `group` value stay in one fold */
    AML_CV_TIME_SERIES = 5, /* ordered by `order`, expanding window */
    AML_CV_HOLDOUT = 6,     /* one split, `fraction` of the rows validate */
} aml_cv_kind;

/* data.missing given per column: these tokens replace the file-wide list. */
typedef struct aml_spec_colmissing {
    char *column;
    char **tokens;
    size_t n_tokens;
} aml_spec_colmissing;

/* ensemble.method */
typedef enum aml_ensemble_method {
    AML_ENSEMBLE_SELECTION = 0, /* default: Caruana greedy selection with replacement */
    AML_ENSEMBLE_STACKING = 1,
    AML_ENSEMBLE_VOTING = 2, /* plain average of the top `size` trials across learners */
    AML_ENSEMBLE_NONE = 3,   /* the best trial alone */
} aml_ensemble_method;

/* The spec's ensemble: section (every field has a default when absent). */
typedef struct aml_spec_ensemble {
    aml_ensemble_method method;
    int size;       /* most distinct members; default 10 */
    int candidates; /* ok trials considered (best first, across learners); default 50 */
    int bags;       /* selection: bagged selection's bags, 1 for none; default 20 */
    int layers;     /* stacking: 1 or 2; default 1 */
    char **meta;    /* stacking: layer-1 learners; NULL: logistic_regression / ridge */
    size_t n_meta;
    char *final; /* stacking with 2 layers: the last learner; NULL: as meta's default */
    int passthrough; /* stacking: original inputs also reach layer 1; default 0 */
    int refit;       /* 1 (default): members refit on all rows; 0: fold models averaged */
    /*
     * 1 (default): keep the best trial alone unless the ensemble estimates
     * strictly better (both honestly); 0: always keep the method.
     */
    int fallback;
    aml_spec_pos pos;       /* of the section, for late errors */
    aml_spec_pos *meta_pos; /* of each meta name (n_meta), for late errors */
    aml_spec_pos final_pos; /* of final's value */
} aml_spec_ensemble;

/*
 * One entry of search.seed_configs: a learner and some of its parameters
 * (values checked against the learner's table; names of preprocess keys
 * carry the "preprocess." prefix).  Strings are owned.  Turned into
 * configurations of a space by aml_spec_seed_configs.
 */
typedef struct aml_spec_seed {
    char *learner;
    const aml_learner_type *type; /* from the vocabulary, for default values */
    aml_param *params;
    aml_spec_pos *param_pos; /* of each parameter's key */
    size_t n_params;
    aml_spec_pos pos; /* of the entry (of the learner's key for a default) */
    int is_default;   /* added by search.defaults_first, not written by the user */
} aml_spec_seed;

/*
 * The most threads search.parallel may ask for: far beyond any machine the
 * tool runs on, and far below what makes OpenMP fail to create its team
 * (50000: "Thread creation failed"; 100000: a crash inside libgomp).
 */
#define AML_SPEC_MAX_PARALLEL 1024

typedef struct aml_spec {
    char *path; /* the spec file as given */
    char *text; /* the whole file, for storing with the study */
    char *study;
    /* data: */
    char *train; /* resolved path */
    char *target;
    aml_spec_task task;
    char **drop;
    size_t n_drop;
    char **missing; /* NULL when the spec gives none (reader defaults apply) */
    size_t n_missing;
    aml_spec_colmissing *col_missing; /* data.missing as a mapping */
    size_t n_col_missing;
    char **categorical; /* data.categorical: columns read as categories */
    size_t n_categorical;
    char **keep; /* data.keep: columns never dropped as uninformative */
    size_t n_keep;
    char delimiter; /* data.delimiter; 0: detect */
    char decimal;   /* data.decimal: '.' or ',' */
    /* cv: */
    int folds;
    int stratified; /* default 1 for classification */
    unsigned long long cv_seed;
    aml_cv_kind cv_kind;
    int repeats;     /* cv.repeats (kind repeated), default 3 */
    double fraction; /* cv.fraction (kind holdout), default 0.2 */
    char *cv_group;  /* cv.group column */
    char *cv_order;  /* cv.order column */
    char *metric;    /* NULL: accuracy for classification, rmse for regression */
    /* search: */
    char *strategy;
    long trials;          /* budget; 0 = none given (grid: whole grid; random: 50) */
    int parallel;         /* 0 = all cores; at most AML_SPEC_MAX_PARALLEL */
    double time_budget;   /* seconds; 0 = none */
    long patience;        /* finished trials without improvement; 0 = none */
    double trial_timeout; /* seconds per trial; 0 = none */
    unsigned long long seed;
    /* search.eta, search.min_resource (halving, bohb): 0 when not given (defaults
     * 3 and 1/27); search.sampler: 0 not given, 1 random, 2 bayes (the values of
     * aml_search_sampler, search/search.h) */
    double eta, min_resource;
    int sampler;
    /* search.seed_configs in order, then (defaults first) one seed naming no
     * parameter per learner, in the order of `learners` */
    aml_spec_seed *seeds;
    size_t n_seeds;
    /* search.defaults_first: -1 not given (on for every strategy but grid), 0, 1;
     * read it through aml_spec_defaults_first */
    int defaults_first;
    aml_space *space;
    aml_spec_ensemble ensemble;
    char *store;  /* resolved path */
    char *output; /* resolved path, NULL when absent */

    aml_spec_pos pos_target, pos_task, pos_metric, pos_strategy, pos_train, pos_drop;
    aml_spec_pos pos_missing, pos_categorical, pos_keep, pos_folds, pos_cv_group,
        pos_cv_order, pos_preprocess;
    aml_spec_pos pos_cv_kind; /* cv.kind or cv.stratified, when given */
} aml_spec;

/*
 * Loads and checks a spec.  On success *out is owned by the caller and
 * freed with aml_spec_free().  On failure returns AML_EINVAL (or AML_EIO
 * when the file cannot be read) with the message set.
 */
int aml_spec_load(aml_spec **out, const char *path, const aml_spec_vocab *vocab);
/*
 * The same for a spec's text kept elsewhere (the store keeps the text a
 * run read): parsed as if read from `path`, whose directory relative
 * paths resolve against and which messages name.  The store and output
 * are not checked for writing (the caller reads the study back).
 */
int aml_spec_load_text(aml_spec **out, const char *path, const char *text,
                       const aml_spec_vocab *vocab);
void aml_spec_free(aml_spec *s);

/*
 * The seed configurations as configurations of `space` (the spec's, or
 * the one the caller trimmed to the task): every named parameter must be
 * a dimension of its learner there, with a value the dimension holds; an
 * unnamed one takes the learner's default (the preprocess table's for a
 * preprocess key) when its dimension holds it, else the dimension's first
 * choice or middle value (aml_dim_at 0.5).  A seed equal to an earlier one
 * is dropped, and so is a default seed whose learner `space` lacks (a
 * learner the caller trimmed away).  Strings borrow from the space or the
 * learner tables.  Errors are "spec.yaml:LINE:COL: ..." and AML_EINVAL.
 * *out (NULL when there are none) is freed with aml_spec_seed_configs_free.
 */
int aml_spec_seed_configs(const aml_spec *s, const aml_space *space, aml_config **out,
                          size_t *n);
void aml_spec_seed_configs_free(aml_config *c, size_t n);
/* Does the search start with each learner's defaults (search.defaults_first)? */
int aml_spec_defaults_first(const aml_spec *s);

#endif
