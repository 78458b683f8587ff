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
 * No repeats.  In a small discrete space the sequence soon revisits
 * points, so every proposal is remembered (seen.h): a Halton point already
 * proposed is replaced by a random draw not proposed yet, of the same
 * learner while it has one left and otherwise of another learner (the used-up
 * learner's turns rotate over the others, round by round), and a
 * finite space with every point proposed answers AML_EXHAUSTED.  Without
 * a repeat, trial t's proposal is a pure function of (seed, t); with one,
 * it also depends on the proposals before it, which the runner asks in
 * trial order (a resume replays them from trial 0).  A trial asked again
 * gets its first answer back.
 */
#include "search.h"

#include <assert.h>
#include <stdlib.h>

#include "aml.h"
#include "seen.h"

/* One prime base per dimension: learners with more dimensions draw the rest. */
static const unsigned random_primes[] = {2,  3,  5,  7,  11, 13, 17, 19,
                                         23, 29, 31, 37, 41, 43, 47, 53};
#define RANDOM_N_PRIMES (sizeof(random_primes) / sizeof(random_primes[0]))

/* Random draws tried before enumerating a finite learner for an unseen point. */
#define RANDOM_DRAWS 32
/* Trials beyond the last memoised one by more than this are not memoised. */
#define RANDOM_MEMO_AHEAD 65536

typedef struct random_state {
    uint64_t seed;
    aml_seen seen;  /* every configuration proposed or told */
    long *by_trial; /* trial -> index in seen, -1 when not asked */
    size_t n_trials;
} random_state;

static int random_init(void *state, const aml_space *space, uint64_t seed)
{
    random_state *s = state;

    s->seed = seed;
    return aml_seen_init(&s->seen, space);
}

static void random_dispose(void *state)
{
    random_state *s = state;

    aml_seen_dispose(&s->seen);
    free(s->by_trial);
    s->by_trial = NULL;
    s->n_trials = 0;
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

/* Point n of the learner's rotated Halton sequence, written into out. */
static int random_halton(const random_state *s, const aml_space *space, size_t learner,
                         uint64_t n, aml_rng *rng, aml_config *out)
{
    const aml_space_learner *l = &space->learners[learner];
    size_t j;
    int rc;

    if ((rc = aml_config_init(out, space, learner)) < 0)
        return rc;
    for (j = 0; j < l->n_dims; j++) {
        out->params[j].name = l->dims[j].name;
        aml_dim_at(&l->dims[j], random_point(s, learner, j, n, rng),
                   &out->params[j].value);
    }
    return AML_OK;
}

/* Records that trial t proposed seen entry idx. */
static int random_note_trial(random_state *s, long trial, long idx)
{
    size_t t = (size_t)trial, k;

    /* Only a dense run of trials is memoised: an ask far ahead (never made
     * by the runner) is answered without reserving room for every trial. */
    if (t >= s->n_trials + RANDOM_MEMO_AHEAD)
        return AML_OK;
    if (t >= s->n_trials) {
        size_t n = t + 1 > 2 * s->n_trials ? t + 1 : 2 * s->n_trials;
        long *bt = aml_reallocarray(s->by_trial, n, sizeof(*bt));

        if (!bt)
            return AML_ENOMEM;
        for (k = s->n_trials; k < n; k++)
            bt[k] = -1;
        s->by_trial = bt;
        s->n_trials = n;
    }
    s->by_trial[t] = idx;
    return AML_OK;
}

static int random_ask(void *state, const aml_space *space, long trial, aml_rng *rng,
                      aml_config *out)
{
    random_state *s = state;
    size_t learner = (size_t)trial % space->n_learners;
    uint64_t n = (uint64_t)trial / space->n_learners;
    long idx;
    int rc;

    assert(space->n_learners > 0 && trial >= 0);
    if ((size_t)trial < s->n_trials && s->by_trial[trial] >= 0)
        return aml_config_copy(out, &s->seen.e[s->by_trial[trial]].c);
    if ((rc = random_halton(s, space, learner, n, rng, out)) < 0)
        return rc;
    if (aml_seen_find(&s->seen, out) >= 0) {
        aml_config_dispose(out);
        /* A used-up learner's turns rotate over the others, round by round. */
        if (aml_seen_learner_full(&s->seen, learner) && space->n_learners > 1)
            learner = (learner + 1 + n % (space->n_learners - 1)) % space->n_learners;
        if ((rc = aml_seen_fresh(&s->seen, space, learner, RANDOM_DRAWS, rng, out)) != 0)
            return rc;
    }
    if ((idx = aml_seen_add(&s->seen, out)) < 0)
        return (int)idx;
    return random_note_trial(s, trial, idx);
}

/* A seed configuration, proposed by the driver: never proposed again. */
static void random_note(void *state, const aml_space *space, const aml_config *c)
{
    random_state *s = state;

    AML_UNUSED(space);
    (void)aml_seen_add(&s->seen, c); /* out of memory: a repeat becomes possible */
}

/* A result told for a configuration never asked (a replayed store) counts as seen. */
static void random_tell(void *state, const aml_space *space, const aml_config *c,
                        double score, int ok)
{
    AML_UNUSED(score);
    AML_UNUSED(ok);
    random_note(state, space, c);
}

const aml_search_type aml_search_random = {
    .name = "random",
    .state_size = sizeof(random_state),
    .init = random_init,
    .ask = random_ask,
    .tell = random_tell,
    .dispose = random_dispose,
    .note = random_note,
};
