/*
 * random.c - random search: every configuration drawn independently.
 *
 * Bergstra and Bengio ("Random search for hyper-parameter optimization",
 * JMLR 13, 2012) show that independent draws cover the few dimensions that
 * matter far better than a grid of the same size.  Here a learner is
 * picked uniformly among the space's learners, then each of its dimensions
 * is sampled with aml_dim_sample (log-uniformly for the *_LOG domains).
 *
 * The strategy keeps no state at all: the driver hands ask a generator
 * seeded from (search seed, trial number), so trial t's configuration is a
 * pure function of the seed and t, whatever order trials are asked in.
 * Duplicate configurations are possible (for small discrete spaces, likely)
 * and are not filtered: deduplication would need memory of every proposal
 * and would make a proposal depend on earlier ones.
 */
#include "search.h"

#include <assert.h>

#include "aml.h"

static int random_ask(void *state, const aml_space *space, long trial, aml_rng *rng,
                      aml_config *out)
{
    const aml_space_learner *l;
    size_t learner, j;
    int rc;

    AML_UNUSED(state);
    AML_UNUSED(trial);
    assert(space->n_learners > 0);

    learner = (size_t)aml_rng_below(rng, space->n_learners);
    l = &space->learners[learner];
    if ((rc = aml_config_init(out, space, learner)) < 0)
        return rc;
    for (j = 0; j < l->n_dims; j++) {
        out->params[j].name = l->dims[j].name;
        aml_dim_sample(&l->dims[j], rng, &out->params[j].value);
    }
    return 0;
}

const aml_search_type aml_search_random = {
    .name = "random",
    .state_size = 0,
    .init = NULL,
    .ask = random_ask,
    .tell = NULL,
    .dispose = NULL,
};
