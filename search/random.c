/*
 * random.c - random search, spread evenly: learners take turns and each
 * learner's configurations follow a randomly shifted Halton sequence.
 *
 * Bergstra and Bengio ("Random search for hyper-parameter optimization",
 * JMLR 13, 2012) show that random draws cover the few dimensions that
 * matter far better than a grid of the same size, and in their section 5
 * that quasi-random (low-discrepancy) sequences do better still at the
 * small budgets AutoML runs with.  Independent draws leave gaps by chance:
 * 17 uniform draws of k in [1, 50] miss k <= 3 a third of the time, while
 * 17 Halton points leave no gap wider than about 1/8 of the range.
 *
 * So trial t goes to learner t mod L (learners take turns, in spec order,
 * and each gets its share of the budget), and its n-th configuration,
 * n = t div L, is point n + 1 of the Halton sequence (radical inverses in
 * the first primes, one per dimension; Halton 1960) with a Cranley-Patterson
 * rotation: every (learner, dimension) adds its own uniform shift modulo 1,
 * drawn once from the search seed, so different seeds give different,
 * equally even designs.  Values come from aml_dim_at, which maps a point of
 * [0, 1) through each domain's distribution (log-scaled for *_LOG).
 * Dimensions past the table of primes fall back to independent draws from
 * the trial's own generator.
 *
 * A proposal is a pure function of (seed, trial number): the strategy keeps
 * only the seed, so trials may be asked in any order.  Duplicates are
 * possible in small discrete spaces and are not filtered.
 */
#include "search.h"

#include <assert.h>

#include "aml.h"

/* One prime base per dimension: learners with more dimensions draw the rest. */
static const unsigned random_primes[] = {2,  3,  5,  7,  11, 13, 17, 19,
                                         23, 29, 31, 37, 41, 43, 47, 53};
#define RANDOM_N_PRIMES (sizeof(random_primes) / sizeof(random_primes[0]))

typedef struct random_state {
    uint64_t seed;
} random_state;

static int random_init(void *state, const aml_space *space, uint64_t seed)
{
    random_state *s = state;

    AML_UNUSED(space);
    s->seed = seed;
    return AML_OK;
}

/* The radical inverse of n in base b: n's digits mirrored after the point. */
static double random_radical_inverse(uint64_t n, unsigned b)
{
    double inv = 1.0 / b, f = inv, x = 0.0;

    while (n > 0) {
        x += (double)(n % b) * f;
        n /= b;
        f *= inv;
    }
    return x;
}

/* The rotation of (learner, dim): fixed for the whole search. */
static double random_shift(const random_state *s, size_t learner, size_t dim)
{
    aml_rng r;

    aml_rng_init(&r, s->seed ^ 0x5eedf00dULL, (uint64_t)learner * 4096 + dim);
    return aml_rng_uniform(&r);
}

static double random_point(const random_state *s, size_t learner, size_t dim, uint64_t n,
                           aml_rng *rng)
{
    double u;

    if (dim >= RANDOM_N_PRIMES)
        return aml_rng_uniform(rng);
    u = random_radical_inverse(n + 1, random_primes[dim]) + random_shift(s, learner, dim);
    return u >= 1.0 ? u - 1.0 : u;
}

static int random_ask(void *state, const aml_space *space, long trial, aml_rng *rng,
                      aml_config *out)
{
    const random_state *s = state;
    size_t learner = (size_t)trial % space->n_learners;
    uint64_t n = (uint64_t)trial / space->n_learners;
    const aml_space_learner *l = &space->learners[learner];
    size_t j;
    int rc;

    assert(space->n_learners > 0 && trial >= 0);
    if ((rc = aml_config_init(out, space, learner)) < 0)
        return rc;
    for (j = 0; j < l->n_dims; j++) {
        out->params[j].name = l->dims[j].name;
        aml_dim_at(&l->dims[j], random_point(s, learner, j, n, rng), &out->params[j].value);
    }
    return AML_OK;
}

const aml_search_type aml_search_random = {
    .name = "random",
    .state_size = sizeof(random_state),
    .init = random_init,
    .ask = random_ask,
    .tell = NULL,
    .dispose = NULL,
};
