/*
 * search.h - search strategies behind one propose/observe interface.
 *
 * A strategy is a const type table (grid.c, random.c; bayes and genetic
 * later) whose state the generic driver allocates (`state_size` bytes,
 * zeroed) and passes to every call.  The caller owns the loop: it asks for
 * configurations, evaluates them however it likes (in parallel batches),
 * and tells the results back in trial-number order.  Strategies never call
 * into trial execution, and never read the clock.
 *
 * Determinism: ask receives the trial number and a generator seeded from
 * (search seed, trial number), so a proposal depends only on the seed, the
 * trial number and the results told so far, never on thread timing.
 *
 * Scores told to a strategy are oriented so that larger is better (the
 * runner negates lower-is-better metrics); a failed trial is told with
 * ok = 0 and its score must not be used as a score.  Tells come in trial
 * order, one per trial, so the n-th tell is trial n's result.
 *
 * Seed configurations (spec search.seed_configs) are the driver's, not
 * the strategy's: with m of them, trials 0..m-1 propose them in order, the
 * strategy is asked from trial m on (with the real trial number), and it
 * is told every result, the seeds' included, like any other.
 *
 * A configuration's resource (space.h) is 0 (full) unless the strategy
 * sets it: only halving proposes partial evaluations.
 */
#ifndef AML_SEARCH_H
#define AML_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "space.h"

/* How halving draws the configurations it starts (spec search.sampler). */
typedef enum aml_search_sampler {
    AML_SAMPLER_DEFAULT = 0, /* the strategy's own: random for halving, bayes for bohb */
    AML_SAMPLER_RANDOM = 1,
    AML_SAMPLER_BAYES = 2,
} aml_search_sampler;

/* Options some strategies read; a zeroed struct means every default. */
typedef struct aml_search_options {
    double eta;          /* halving: keep the top 1/eta of a rung; 0: 3 */
    double min_resource; /* halving: the lowest rung's resource in (0, 1]; 0: 1/27 */
    aml_search_sampler sampler;
} aml_search_options;

typedef struct aml_search_type {
    const char *name;
    size_t state_size;
    /*
     * Prepares state for `space`; may fail with a message (e.g. grid too
     * large), and then releases whatever it allocated itself.  NULL slot:
     * the zeroed state is ready as is.
     */
    int (*init)(void *state, const aml_space *space, uint64_t seed);
    /*
     * Writes the next configuration into out (uninitialised on entry; the
     * strategy calls aml_config_init).  Returns 0, AML_EXHAUSTED when the
     * space has nothing left, or a negative error.
     */
    int (*ask)(void *state, const aml_space *space, long trial, aml_rng *rng,
               aml_config *out);
    /* Observes a finished trial (NULL slot: the strategy ignores results). */
    void (*tell)(void *state, const aml_space *space, const aml_config *c, double score,
                 int ok);
    /* Releases what init allocated inside state (NULL slot: nothing to release). */
    void (*dispose)(void *state);
    /*
     * Optional: init for strategies that read options (opt never NULL);
     * when set, the driver calls it instead of init.
     */
    int (*init_with)(void *state, const aml_space *space, uint64_t seed,
                     const aml_search_options *opt);
    /*
     * Optional: c was proposed by the driver itself (a seed configuration,
     * asked before the strategy's own trials): a strategy that never repeats
     * a configuration must not propose it either.  Its result comes later
     * through tell, like any other.
     */
    void (*note)(void *state, const aml_space *space, const aml_config *c);
} aml_search_type;

extern const aml_search_type aml_search_grid;
extern const aml_search_type aml_search_random;
extern const aml_search_type aml_search_bayes;
extern const aml_search_type aml_search_genetic;
extern const aml_search_type aml_search_halving; /* halving.c */
extern const aml_search_type aml_search_bohb;    /* halving.c, sampler bayes */

/* Every built-in strategy, NULL-terminated. */
extern const aml_search_type *const aml_search_types[];
/* The built-in strategy called `name`, or NULL. */
const aml_search_type *aml_search_type_find(const char *name);

/* Grid search refuses spaces with more points than this (init fails). */
#define AML_SEARCH_GRID_MAX 10000000ULL

/*
 * Number of points grid search would enumerate over `space` (the sum over
 * learners of the product of their dimensions' grid sizes), saturating at
 * UINT64_MAX when the count overflows.  Lets the runner size a grid run.
 */
uint64_t aml_search_grid_size(const aml_space *space);

typedef struct aml_search aml_search;

/*
 * The space is borrowed and must outlive the search; the caller frees the
 * search with aml_search_free.  Fails with AML_EINVAL on an empty space or
 * with the strategy's own init error.
 */
int aml_search_new(aml_search **out, const aml_search_type *type, const aml_space *space,
                   uint64_t seed);
/* The same with options (NULL: defaults) for the strategies that read them. */
int aml_search_new_with(aml_search **out, const aml_search_type *type,
                        const aml_space *space, uint64_t seed,
                        const aml_search_options *opt);
/*
 * Makes configs[0..n) the proposals of trials 0..n-1 (copied; each must be
 * a configuration of the search's space).  Call before the first ask.
 */
int aml_search_set_seeds(aml_search *s, const aml_config *configs, size_t n);
void aml_search_free(aml_search *s);
/*
 * Proposes the configuration for trial number `trial` (>= 0).  Returns 0
 * with *out initialised (the caller disposes it with aml_config_dispose),
 * or AML_EXHAUSTED / a negative error with *out zeroed, which is also safe
 * to dispose.
 */
int aml_search_ask(aml_search *s, long trial, aml_config *out);
void aml_search_tell(aml_search *s, const aml_config *c, double score, int ok);
const aml_search_type *aml_search_get_type(const aml_search *s);

#endif
