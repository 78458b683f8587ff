/*
 * space.h - the search space: learners and the domain of each parameter.
 *
 * Built by the spec parser from the `learners:` section (or by tests
 * directly).  A configuration is one point of the space: a learner index
 * and one value per dimension of that learner, in dimension order.
 * Strategies read the space through this header and never see YAML.
 *
 * Ownership: the space owns every string and choice array inside it;
 * values inside configurations borrow those strings, so a configuration
 * must not outlive its space.
 */
#ifndef AML_SPACE_H
#define AML_SPACE_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"
#include "value.h"

typedef enum aml_domain {
    AML_DOM_FIXED = 0,       /* one value */
    AML_DOM_CHOICE = 1,      /* one of `choices` */
    AML_DOM_UNIFORM = 2,     /* real in [lo, hi] */
    AML_DOM_LOG_UNIFORM = 3, /* real in [lo, hi], uniform in log space */
    AML_DOM_INT = 4,         /* integer in [lo, hi] */
    AML_DOM_INT_LOG = 5,     /* integer in [lo, hi], uniform in log space */
} aml_domain;

typedef struct aml_dim {
    char *name;
    aml_domain domain;
    aml_vkind kind;     /* kind of the values this dimension produces */
    double lo, hi;      /* ranges */
    aml_value *choices; /* CHOICE: n_choices values; FIXED: choices[0] */
    size_t n_choices;
    int grid;      /* grid points of a range (INT: 0 = every integer) */
    int line, col; /* where the spec wrote it, 0 when built in code */
    int implicit;  /* 1: from the learner's default search, not written in the spec */
} aml_dim;

typedef struct aml_space_learner {
    char *name; /* learner type name */
    aml_dim *dims;
    size_t n_dims;
    int line, col;
} aml_space_learner;

typedef struct aml_space {
    aml_space_learner *learners;
    size_t n_learners;
} aml_space;

/*
 * resource: the fraction of the full evaluation budget a trial gets
 * (successive halving, search/halving.c).  A value in (0, 1) scales the
 * learner's declared iteration count, or else the training rows of each
 * fold (trials/pipeline.c); 0 (a zeroed configuration) or 1 means a full
 * evaluation.  It is not part of the point: aml_config_equal and
 * aml_config_hash ignore it, aml_config_copy keeps it.
 */
typedef struct aml_config {
    size_t learner;  /* index into space->learners */
    size_t n_params; /* == that learner's n_dims */
    aml_param
        *params;     /* owned by the config; names and strings borrowed from the space */
    double resource; /* see above; 0 = full */
} aml_config;

/* True when a resource means a full evaluation (<= 0, >= 1, or NaN). */
int aml_resource_full(double resource);

aml_space *aml_space_new(void);
void aml_space_free(aml_space *s);
/*
 * Appends a learner with no dimensions; returns it (owned by s, valid until
 * the next aml_space_add_learner) or NULL.
 */
aml_space_learner *aml_space_add_learner(aml_space *s, const char *name);
/*
 * Appends a dimension (copying name and choices); returns it (valid until the
 * next add on l) or NULL with AML_EINVAL for an unusable domain (empty choice,
 * lo > hi, log range with lo <= 0, kind not matching an int or real range).
 */
aml_dim *aml_space_add_dim(aml_space_learner *l, const char *name, aml_domain domain,
                           aml_vkind kind, double lo, double hi, const aml_value *choices,
                           size_t n_choices);

/*
 * The value at position u in [0, 1) of the dimension's distribution: the
 * inverse of the sampling distribution, so a uniform u gives what
 * aml_dim_sample gives, and evenly spread u (quasi-random sequences) give
 * evenly spread values.
 */
void aml_dim_at(const aml_dim *d, double u, aml_value *out);
/* Removes dimension j of a learner (later ones shift down). */
void aml_space_remove_dim(aml_space_learner *l, size_t j);
/* Draws one value of the dimension uniformly (log-uniformly for *_LOG). */
void aml_dim_sample(const aml_dim *d, aml_rng *rng, aml_value *out);
/*
 * The grid points of a dimension: every choice, every integer in an int
 * range, or `grid` evenly spaced points (in log space for LOG_UNIFORM)
 * from lo to hi inclusive.  An INT or INT_LOG range holding more than
 * `grid` (> 0) integers gives `grid` evenly (INT) or log-evenly (INT_LOG)
 * spaced points rounded to integers, repeats dropped.  Returns the count;
 * fills out[] when non-NULL.
 */
size_t aml_dim_grid(const aml_dim *d, aml_value *out);

/*
 * Distinct points of the space: the sum over learners of the product of
 * their dimensions' sizes (a choice's count, an integer range's integers,
 * 1 for a fixed value or a real range with lo == hi); UINT64_MAX when any
 * learner has a real range or the count overflows.
 */
uint64_t aml_space_size(const aml_space *s);
/*
 * Point `index` (< aml_space_size) of a finite space in enumeration order
 * (learners in turn, then mixed radix over the dimensions, the first
 * fastest), written into out (initialised here).
 */
int aml_space_point(const aml_space *s, uint64_t index, aml_config *out);

int aml_config_init(aml_config *c, const aml_space *s, size_t learner);
void aml_config_dispose(aml_config *c);
int aml_config_copy(aml_config *dst, const aml_config *src);
/* Equality of learner and every value (strings by content). */
int aml_config_equal(const aml_config *a, const aml_config *b);
/* A hash consistent with aml_config_equal (equal configurations, equal hashes). */
uint64_t aml_config_hash(const aml_config *c);
/*
 * Writes `name=value, name=value` for logs into buf (truncating).
 */
void aml_config_format(const aml_config *c, char *buf, size_t buflen);

#endif
