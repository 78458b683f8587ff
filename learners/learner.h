/*
 * learner.h - the learner interface.
 *
 * A learner type is a const table of functions, one per learner file
 * (logreg.c, ridge.c, knn.c, tree.c, ...), listed in the registry of
 * learner.c: there is no central switch.  Every type declares its
 * hyperparameters in a table of aml_param_def, which is the single source
 * of truth for spec validation (space/spec.c), default search ranges and
 * set_param checking.
 *
 * Instances embed `aml_learner` as their first member.  Life cycle:
 *   aml_learner_new(type, task) -> set_param()* -> fit() -> predict()* ->
 *   aml_learner_free().  save()/load() round-trip a fitted learner through
 * the model file codec.
 *
 * Tasks: classification labels are class indices 0..n_classes-1 stored as
 * doubles; predict writes n_classes probabilities per row (rows sum to 1).
 * Regression predict writes one value per row.
 *
 * Threads: an instance is used by one thread at a time.  fit receives the
 * number of threads it may use (1 inside parallel trials) and must give the
 * same bits at any count; BLAS runs on one thread (its threaded calls do
 * not give the same bits), so a learner parallelises with OpenMP itself.
 */
#ifndef AML_LEARNER_H
#define AML_LEARNER_H

#include "cgen.h"
#include "codec.h"
#include "matrix.h"
#include "rng.h"
#include "value.h"

typedef enum aml_task {
    AML_TASK_CLASSIFICATION = 0,
    AML_TASK_REGRESSION = 1,
} aml_task;

#define AML_TASK_BIT(t) (1u << (t))

/* Learner flags. */
#define AML_LEARNER_WANTS_SCALING 0x1u /* standardise numeric inputs first */

typedef struct aml_param_def aml_param_def;

/*
 * One hyperparameter.  `lo`/`hi` bound valid values for reals and ints
 * (inclusive; use -INFINITY/INFINITY for none; `lo_open` makes lo
 * exclusive, as for C > 0).  `choices` lists the valid words for strings,
 * NULL-terminated; a real or int parameter may list words too, which it
 * then accepts besides numbers (max_features: 0.5, "sqrt" or "log2"), and
 * its set_param receives such a word as an AML_VAL_STR value.  `def` is the
 * value used when the spec does not name the parameter.
 * `search_lo`/`search_hi`/`search_log` give the default search range for
 * learners listed without parameters (strings search all choices).
 * `check`, when set, replaces the generic check for values whose shape a
 * table cannot say (hidden_layer_sizes: "64x32"): it returns NULL when v is
 * valid, else a message written into buf; `choices` then only seeds the
 * default search.
 */
struct aml_param_def {
    const char *name;
    aml_vkind kind;
    double lo, hi;
    int lo_open;
    const char *const *choices;
    aml_value def;
    double search_lo, search_hi;
    int search_log;
    const char *doc; /* one line for docs/learners.md and --help */
    const char *(*check)(const aml_param_def *def, const aml_value *v, char *buf,
                         size_t buflen);
    /*
     * The tasks the parameter means something for (AML_TASK_BIT mask); 0:
     * every task the learner does.  A default search leaves the others
     * out, and a spec that names one for the wrong task is an error.
     */
    unsigned tasks;
    /*
     * 1: a default search leaves the parameter at its default (it changes
     * what a fit reports, not how well the model predicts).
     */
    int no_search;
};

typedef struct aml_learner_type aml_learner_type;

typedef struct aml_learner {
    const aml_learner_type *type;
    aml_task task;
    int n_classes;     /* classification only, set by fit/load */
    size_t n_features; /* set by fit/load */
} aml_learner;

struct aml_learner_type {
    const char *name; /* spec name: "logistic_regression", "knn", ... */
    unsigned tasks;   /* AML_TASK_BIT(...) mask of supported tasks */
    unsigned flags;   /* AML_LEARNER_* */
    const aml_param_def *params; /* terminated by an entry with name NULL */

    /* Allocates an instance with default parameters; base fields filled. */
    int (*create)(aml_learner **out, const aml_learner_type *type, aml_task task);
    /* Sets one parameter; the generic layer has already checked name, kind and bounds. */
    int (*set_param)(aml_learner *l, const char *name, const aml_value *v);
    /*
     * Fits on X (n x p) and y (n).  w is per-row sample weight or NULL for
     * all ones.  n_classes is ignored for regression.  rng is this fit's
     * own generator.  Returns 0 or a negative code with a message set.
     */
    int (*fit)(aml_learner *l, const aml_matrix *X, const double *y, const double *w,
               int n_classes, aml_rng *rng, int threads);
    /* out: rows x n_classes probabilities, or rows values for regression. */
    int (*predict)(const aml_learner *l, const aml_matrix *X, double *out);
    /* Serialises the fitted state (not the type name: the caller writes that). */
    int (*save)(const aml_learner *l, aml_writer *w);
    /* Restores a fitted instance written by save. */
    int (*load)(aml_learner **out, const aml_learner_type *type, aml_task task,
                aml_reader *r);
    void (*free)(aml_learner *l);
    /*
     * Optional (NULL: not defined for this learner): writes one importance
     * per input feature of the fitted learner (impurity decrease for trees,
     * |coefficient| for linear models), non-negative, summing to 1 when any
     * is positive.
     */
    int (*importance)(const aml_learner *l, double *out);
    /*
     * Optional (NULL: export to C not available): defines in g the function
     *     static void fn(const double *x, double *out)
     * giving the fitted learner's predict output for one row (see cgen.h).
     */
    int (*emit_c)(const aml_learner *l, aml_cgen *g, const char *fn);
    /*
     * How a trial with a partial resource (aml_config.resource in (0, 1),
     * successive halving) is made cheaper: the name of an integer parameter
     * counting iterations (trees, boosting rounds, epochs), which the
     * pipeline scales by the resource (at least 1); NULL: the learner is
     * fitted on that fraction of each training fold's rows instead.
     */
    const char *resource_param;
};

/* The registry: every built-in learner type, NULL-terminated. */
extern const aml_learner_type *const aml_learner_types[];

const aml_learner_type *aml_learner_type_find(const char *name);
const aml_param_def *aml_learner_param_find(const aml_learner_type *type, const char *name);

/*
 * Checks a value against a parameter definition.  Returns NULL when valid,
 * else a static-free message written into buf.  Integers are accepted for
 * real parameters; a real with no fractional part is accepted for ints.
 */
const char *aml_param_check(const aml_param_def *def, const aml_value *v, char *buf,
                            size_t buflen);

/* Generic entry points: dispatch through the type table with argument checks. */
int aml_learner_new(aml_learner **out, const aml_learner_type *type, aml_task task);
/* Checks the value against the definition (AML_EINVAL on unknown name or bad value). */
int aml_learner_set_param(aml_learner *l, const char *name, const aml_value *v);
int aml_learner_fit(aml_learner *l, const aml_matrix *X, const double *y, const double *w,
                    int n_classes, aml_rng *rng, int threads);
int aml_learner_predict(const aml_learner *l, const aml_matrix *X, double *out);
/* Writes type name, task, n_classes, n_features, then the type's own state. */
int aml_learner_save(const aml_learner *l, aml_writer *w);
int aml_learner_load(aml_learner **out, aml_reader *r);
void aml_learner_free(aml_learner *l);

/*
 * Importance of a linear model, for the learners' importance slots: out[j]
 * is the sum over the k weight vectors of |W[c * stride + j]|, j < p,
 * normalised to sum 1 (left at zero when every weight is zero).  W NULL
 * means the model is not fitted: AML_EINVAL naming the learner.
 */
int aml_importance_linear(const aml_learner *l, const double *W, int k, size_t stride,
                          double *out);

/*
 * C export of a linear regressor, for the learners' emit_c slots: defines
 * fn as out[0] = (sum over j of x[j] coef[j], in feature order) + intercept,
 * which is what predict's dgemv computes up to its order of summation.
 */
int aml_emit_c_linear(aml_cgen *g, const char *fn, const char *who, const double *coef,
                      size_t p, double intercept);

/*
 * The body of most learners' load slots: creates an instance of `type` with
 * its create slot, restores its fitted state with load_state, and frees it
 * again (through the type's free slot) when that fails.
 */
int aml_learner_load_with(aml_learner **out, const aml_learner_type *type, aml_task task,
                          aml_reader *r, int (*load_state)(aml_learner *l, aml_reader *r));

/* Feature importance through the type's slot; AML_EINVAL when it has none. */
int aml_learner_importance(const aml_learner *l, double *out);

/* Outputs per row: n_classes for classification, 1 for regression. */
int aml_learner_outputs(const aml_learner *l);
/* C source for one row's prediction through the type's emit_c slot (AML_EINVAL when none). */
int aml_learner_emit_c(const aml_learner *l, aml_cgen *g, const char *fn);

#endif
