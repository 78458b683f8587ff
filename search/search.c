/*
 * search.c - the generic driver behind every search strategy, and the
 * registry of built-in strategies.
 *
 * The design follows GSL's minimiser drivers: a strategy is a const type
 * table (name, state size, init/ask/tell/dispose), the driver allocates the
 * zeroed state block and dispatches through the table, so adding a
 * strategy means one new file and one line in aml_search_types[], never a
 * switch.  The driver also owns determinism: every ask gets a generator
 * freshly seeded from (search seed, trial number), so a strategy cannot
 * make a proposal depend on how many draws an earlier trial consumed or on
 * which thread asked first.
 *
 * It also owns the seed configurations (search.h): a plain prefix of the
 * trial sequence that no strategy needs to know about.
 *
 * A search is single-threaded: the runner asks and tells from one thread
 * and evaluates trials in parallel elsewhere.
 */
#include "search.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"

struct aml_search {
    const aml_search_type *type;
    const aml_space *space; /* borrowed */
    uint64_t seed;
    void *state;       /* type->state_size zeroed bytes, NULL when the size is 0 */
    aml_config *seeds; /* owned copies: the proposals of trials 0..n_seeds-1 */
    size_t n_seeds;
};

const aml_search_type *const aml_search_types[] = {
    &aml_search_grid,
    &aml_search_random,
    &aml_search_genetic,
    &aml_search_bayes,
    &aml_search_halving,
    &aml_search_bohb,
    NULL,
};

const aml_search_type *aml_search_type_find(const char *name)
{
    size_t i;

    if (!name)
        return NULL;
    for (i = 0; aml_search_types[i]; i++)
        if (strcmp(aml_search_types[i]->name, name) == 0)
            return aml_search_types[i];
    return NULL;
}

int aml_search_new(aml_search **out, const aml_search_type *type, const aml_space *space,
                   uint64_t seed)
{
    return aml_search_new_with(out, type, space, seed, NULL);
}

int aml_search_new_with(aml_search **out, const aml_search_type *type,
                        const aml_space *space, uint64_t seed,
                        const aml_search_options *opt)
{
    static const aml_search_options defaults = {0};
    aml_search *s = NULL;
    int rc;

    assert(out);
    *out = NULL;
    if (!type || !space)
        return aml_error_set(AML_EINVAL, "search needs a strategy and a space");
    if (space->n_learners == 0)
        return aml_error_set(AML_EINVAL, "search space has no learners");

    s = aml_calloc(1, sizeof(*s));
    if (!s)
        return AML_ENOMEM;
    s->type = type;
    s->space = space;
    s->seed = seed;
    if (type->state_size > 0 && !(s->state = aml_calloc(1, type->state_size))) {
        rc = AML_ENOMEM;
        goto fail;
    }

    /* A failed init has already released what it allocated: no dispose. */
    if (type->init_with)
        rc = type->init_with(s->state, space, seed, opt ? opt : &defaults);
    else
        rc = type->init ? type->init(s->state, space, seed) : AML_OK;
    if (rc < 0)
        goto fail;
    *out = s;
    return 0;

fail:
    free(s->state);
    free(s);
    return rc;
}

static void search_free_seeds(aml_search *s)
{
    for (size_t i = 0; i < s->n_seeds; i++)
        aml_config_dispose(&s->seeds[i]);
    free(s->seeds);
    s->seeds = NULL;
    s->n_seeds = 0;
}

void aml_search_free(aml_search *s)
{
    if (!s)
        return;
    if (s->type->dispose)
        s->type->dispose(s->state);
    search_free_seeds(s);
    free(s->state);
    free(s);
}

int aml_search_set_seeds(aml_search *s, const aml_config *configs, size_t n)
{
    size_t i;
    int rc;

    assert(s && (configs || n == 0));
    search_free_seeds(s);
    for (i = 0; i < n; i++)
        if (configs[i].learner >= s->space->n_learners ||
            configs[i].n_params != s->space->learners[configs[i].learner].n_dims)
            return aml_error_set(AML_EINVAL,
                                 "seed configuration %zu does not fit the search space",
                                 i + 1);
    if (n && !(s->seeds = aml_calloc(n, sizeof(*s->seeds))))
        return AML_ENOMEM;
    for (i = 0; i < n; i++) {
        if ((rc = aml_config_copy(&s->seeds[i], &configs[i])) < 0) {
            s->n_seeds = i;
            search_free_seeds(s);
            return rc;
        }
        s->seeds[i].resource = 0.0; /* a seed is evaluated in full */
    }
    s->n_seeds = n;
    /* Told now, not when their results come: the first batch asks the
     * strategy for more trials before any seed has finished. */
    for (i = 0; s->type->note && i < n; i++)
        s->type->note(s->state, s->space, &s->seeds[i]);
    return AML_OK;
}

int aml_search_ask(aml_search *s, long trial, aml_config *out)
{
    aml_rng rng;
    int rc;

    assert(s && out);
    memset(out, 0, sizeof(*out));
    if (trial < 0)
        return aml_error_set(AML_EINVAL, "trial number %ld is negative", trial);

    if ((size_t)trial < s->n_seeds)
        return aml_config_copy(out, &s->seeds[trial]);
    aml_rng_init(&rng, s->seed, (uint64_t)trial);
    rc = s->type->ask(s->state, s->space, trial, &rng, out);
    if (rc != 0) {
        /* Keep the "zeroed on failure" promise even if the strategy
         * initialised the configuration before it gave up. */
        aml_config_dispose(out);
        memset(out, 0, sizeof(*out));
    }
    return rc;
}

void aml_search_tell(aml_search *s, const aml_config *c, double score, int ok)
{
    assert(s && c);
    if (s->type->tell)
        s->type->tell(s->state, s->space, c, score, ok);
}

const aml_search_type *aml_search_get_type(const aml_search *s)
{
    assert(s);
    return s->type;
}
