/*
 * genetic.c - a genetic algorithm over the search space (strategy "genetic").
 *
 * The classic scheme of Goldberg ("Genetic Algorithms in Search,
 * Optimization and Machine Learning", 1989), shaped the way AutoML systems
 * such as TPOT (Olson et al., GECCO 2016) use it: a genome is one
 * configuration (learner plus one value per dimension), fitness is the
 * told score (larger is better), and a failed trial has fitness -inf and
 * never becomes a parent.
 *
 *   Generation 0  The first GENETIC_POP trials fill the space evenly:
 *                 learners take turns (trial t goes to learner t mod L, as
 *                 in random.c) and each learner's share is a Latin
 *                 hypercube (McKay, Beckman and Conover 1979) whose strata
 *                 order and offset come from the search seed, mapped
 *                 through aml_dim_at.
 *   Population    At every later ask, the GENETIC_POP best told genomes
 *                 (a (mu + lambda) survivor selection over everything told
 *                 so far).  The best genome therefore always survives:
 *                 that is the elitism; it cannot be proposed again, but it
 *                 stays a parent until something better replaces it.
 *   Child         Tournament selection of size 3 picks parent 1; with
 *                 probability GENETIC_CROSS a second tournament among the
 *                 population members of the same learner picks parent 2
 *                 and a uniform crossover takes each gene from either
 *                 (genes of different learners mean different things, so
 *                 learners never cross).  Each non-fixed gene then mutates
 *                 with probability 1 / (non-fixed genes): numeric genes
 *                 take a gaussian step of GENETIC_SIGMA in unit space (the
 *                 inverse of aml_dim_at, so log ranges step in log space),
 *                 reflected into [0, 1); choices move to another choice.
 *   Migration     With probability GENETIC_MIGRATE (when L > 1) a child
 *                 switches to another learner with fresh random values, so
 *                 a learner that lost the early tournaments can come back.
 *
 * No configuration is proposed twice: every asked or told configuration
 * is remembered (hashed, then compared with aml_config_equal), a duplicate
 * child is bred again up to GENETIC_BREED times, then fresh random draws
 * are tried, and in a finite space of at most GENETIC_ENUM_MAX points the
 * first unseen point of an enumeration from a random start is taken; a
 * finite space with every point seen answers AML_EXHAUSTED.  An infinite
 * space where GENETIC_TRIES draws all collide (practically impossible)
 * answers AML_EXHAUSTED too rather than repeat itself.
 *
 * Determinism: a proposal uses only the generator handed to ask and the
 * state built from earlier asks and tells, which the runner makes in trial
 * order, so it depends only on (seed, trial number, results told so far).
 * With no successful result told yet (all failed) children are replaced by
 * fresh random draws.  Not done: adaptive mutation, niching, multi-point
 * crossover, or a population of pipelines as in TPOT.
 */
#include "search.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"

#define GENETIC_POP 16              /* population size P */
#define GENETIC_TOUR 3              /* tournament size */
#define GENETIC_CROSS 0.9           /* probability of crossover when a mate exists */
#define GENETIC_SIGMA 0.1           /* mutation step in unit space */
#define GENETIC_MIGRATE 0.1         /* probability a child changes learner */
#define GENETIC_BREED 16            /* children bred before falling back to random */
#define GENETIC_TRIES 64            /* candidates in all before enumerating */
#define GENETIC_ENUM_MAX 1048576ULL /* largest finite space enumerated */
#define GENETIC_INFINITE UINT64_MAX

typedef struct genetic_entry {
    aml_config c;
    uint64_t hash;
    double fit; /* told score, -inf for a failure */
    int told;
} genetic_entry;

typedef struct genetic_state {
    uint64_t seed;
    uint64_t n_points;   /* points of the space, GENETIC_INFINITE when continuous */
    genetic_entry *seen; /* every asked or told configuration */
    size_t n_seen, cap_seen;
    size_t pop[GENETIC_POP]; /* indices into seen, best first */
    size_t n_pop;
} genetic_state;

/* ---- the configurations seen (aml_config_hash, then aml_config_equal) ------ */

/* Index of the remembered configuration equal to c, or n_seen. */
static size_t genetic_find(const genetic_state *s, const aml_config *c, uint64_t hash)
{
    size_t i;

    for (i = 0; i < s->n_seen; i++)
        if (s->seen[i].hash == hash && aml_config_equal(&s->seen[i].c, c))
            return i;
    return s->n_seen;
}

/* Remembers a copy of c; returns its index or a negative error. */
static long genetic_remember(genetic_state *s, const aml_config *c, uint64_t hash)
{
    genetic_entry *e;

    if (s->n_seen == s->cap_seen) {
        size_t cap = s->cap_seen ? 2 * s->cap_seen : 64;

        if (!(e = aml_reallocarray(s->seen, cap, sizeof(*e))))
            return AML_ENOMEM;
        s->seen = e;
        s->cap_seen = cap;
    }
    e = &s->seen[s->n_seen];
    memset(e, 0, sizeof(*e));
    if (aml_config_copy(&e->c, c) < 0)
        return AML_ENOMEM;
    e->hash = hash;
    return (long)s->n_seen++;
}

/* ---- init, tell, dispose ------------------------------------------------- */

static int genetic_init(void *state, const aml_space *space, uint64_t seed)
{
    genetic_state *s = state;

    s->seed = seed;
    s->n_points = aml_space_size(space);
    return AML_OK;
}

static void genetic_dispose(void *state)
{
    genetic_state *s = state;
    size_t i;

    for (i = 0; i < s->n_seen; i++)
        aml_config_dispose(&s->seen[i].c);
    free(s->seen);
    s->seen = NULL;
    s->n_seen = s->cap_seen = 0;
}

/* Inserts seen[idx] into the population if it ranks among the best. */
static void genetic_pop_insert(genetic_state *s, size_t idx)
{
    double fit = s->seen[idx].fit;
    size_t pos = s->n_pop;

    /* Ties keep the earlier told genome first: the order stays deterministic. */
    while (pos > 0 && s->seen[s->pop[pos - 1]].fit < fit)
        pos--;
    if (pos >= GENETIC_POP)
        return;
    if (s->n_pop < GENETIC_POP)
        s->n_pop++;
    memmove(&s->pop[pos + 1], &s->pop[pos], (s->n_pop - 1 - pos) * sizeof(s->pop[0]));
    s->pop[pos] = idx;
}

/*
 * Records the fitness of c.  A configuration told twice keeps its first
 * result; one never asked (a replayed store) is remembered as well.  Out
 * of memory, the result is dropped: the search goes on with less to learn.
 */
static void genetic_tell(void *state, const aml_space *space, const aml_config *c,
                         double score, int ok)
{
    genetic_state *s = state;
    uint64_t hash = aml_config_hash(c);
    size_t i = genetic_find(s, c, hash);
    genetic_entry *e;

    AML_UNUSED(space);
    if (i == s->n_seen) {
        long r = genetic_remember(s, c, hash);

        if (r < 0)
            return;
        i = (size_t)r;
    }
    e = &s->seen[i];
    if (e->told)
        return;
    e->told = 1;
    e->fit = ok && !isnan(score) ? score : -INFINITY;
    if (e->fit > -INFINITY)
        genetic_pop_insert(s, i);
}

/* ---- candidates ---------------------------------------------------------- */

/* Position of a value in unit space: the inverse of aml_dim_at. */
static double genetic_unit(const aml_dim *d, const aml_value *v)
{
    double x = aml_value_as_real(v), u;

    if (d->hi <= d->lo)
        return 0.5;
    switch (d->domain) {
    case AML_DOM_UNIFORM:
        u = (x - d->lo) / (d->hi - d->lo);
        break;
    case AML_DOM_LOG_UNIFORM:
        u = log(x / d->lo) / log(d->hi / d->lo);
        break;
    case AML_DOM_INT:
        u = (x - d->lo + 0.5) / (d->hi - d->lo + 1.0);
        break;
    default: /* INT_LOG: the middle of k's share [k, k + 1) in log space */
        u = log((x + 0.5) / d->lo) / log((d->hi + 1.0) / d->lo);
    }
    return u < 0.0 ? 0.0 : u > 1.0 ? 1.0 : u;
}

/* Reflects u into [0, 1). */
static double genetic_reflect(double u)
{
    u = fmod(fabs(u), 2.0);
    if (u >= 1.0)
        u = 2.0 - u;
    return u >= 1.0 ? 0x1.fffffffffffffp-1 : u;
}

static int genetic_value_equal(const aml_value *a, const aml_value *b)
{
    if (a->kind != b->kind)
        return 0;
    if (a->kind == AML_VAL_STR)
        return strcmp(a->str, b->str) == 0;
    return a->kind == AML_VAL_INT ? a->i == b->i : a->real == b->real;
}

static void genetic_mutate_gene(const aml_dim *d, aml_rng *rng, aml_value *v)
{
    size_t k, cur;
    double u;

    if (d->domain == AML_DOM_CHOICE) {
        if (d->n_choices < 2)
            return;
        for (cur = 0; cur < d->n_choices; cur++)
            if (genetic_value_equal(&d->choices[cur], v))
                break;
        /* Another choice, uniformly (any choice if the current is unknown). */
        k = aml_rng_below(rng, d->n_choices - (cur < d->n_choices));
        if (cur < d->n_choices && k >= cur)
            k++;
        *v = d->choices[k];
        return;
    }
    u = genetic_unit(d, v) + GENETIC_SIGMA * aml_rng_normal(rng);
    aml_dim_at(d, genetic_reflect(u), v);
}

static void genetic_mutate(const aml_space_learner *l, aml_rng *rng, aml_config *c)
{
    size_t j, n_var = 0;

    for (j = 0; j < l->n_dims; j++)
        n_var += l->dims[j].domain != AML_DOM_FIXED;
    for (j = 0; j < l->n_dims; j++)
        if (l->dims[j].domain != AML_DOM_FIXED &&
            aml_rng_uniform(rng) * (double)n_var < 1.0)
            genetic_mutate_gene(&l->dims[j], rng, &c->params[j].value);
}

/* A fresh random configuration of `learner`. */
static int genetic_random(const aml_space *space, size_t learner, aml_rng *rng,
                          aml_config *out)
{
    const aml_space_learner *l = &space->learners[learner];
    size_t j;
    int rc;

    if ((rc = aml_config_init(out, space, learner)) < 0)
        return rc;
    for (j = 0; j < l->n_dims; j++) {
        out->params[j].name = l->dims[j].name;
        aml_dim_sample(&l->dims[j], rng, &out->params[j].value);
    }
    return AML_OK;
}

/* Generation 0: trial t's point of its learner's seeded Latin hypercube. */
static int genetic_initial(const genetic_state *s, const aml_space *space, long trial,
                           aml_config *out)
{
    size_t L = space->n_learners, learner = (size_t)trial % L;
    size_t n = (size_t)trial / L, m = (GENETIC_POP - learner + L - 1) / L, j;
    const aml_space_learner *l = &space->learners[learner];
    size_t perm[GENETIC_POP];
    aml_rng r;
    int rc;

    assert(n < m && m <= GENETIC_POP);
    if ((rc = aml_config_init(out, space, learner)) < 0)
        return rc;
    for (j = 0; j < l->n_dims; j++) {
        size_t i;

        for (i = 0; i < m; i++)
            perm[i] = i;
        aml_rng_init(&r, s->seed ^ 0x9e7e71cULL, (uint64_t)learner * 4096 + j);
        aml_rng_shuffle(&r, perm, m);
        out->params[j].name = l->dims[j].name;
        aml_dim_at(&l->dims[j], ((double)perm[n] + aml_rng_uniform(&r)) / (double)m,
                   &out->params[j].value);
    }
    return AML_OK;
}

/*
 * Tournament among the population members of `learner` (any learner when
 * it is (size_t)-1), never picking position `skip`; returns a position in
 * pop[] or -1 when no member qualifies.  pop[] is sorted best first, so the
 * winner is the smallest position drawn.
 */
static long genetic_tournament(const genetic_state *s, size_t learner, long skip,
                               aml_rng *rng)
{
    size_t cand[GENETIC_POP], n = 0, i, k;
    long best = -1;

    for (i = 0; i < s->n_pop; i++)
        if ((long)i != skip &&
            (learner == (size_t)-1 || s->seen[s->pop[i]].c.learner == learner))
            cand[n++] = i;
    if (n == 0)
        return -1;
    for (k = 0; k < GENETIC_TOUR; k++) {
        long pick = (long)cand[aml_rng_below(rng, n)];

        if (best < 0 || pick < best)
            best = pick;
    }
    return best;
}

/* One child of the population (which must not be empty). */
static int genetic_child(const genetic_state *s, const aml_space *space, aml_rng *rng,
                         aml_config *out)
{
    long p1 = genetic_tournament(s, (size_t)-1, -1, rng), p2;
    const aml_config *a;
    size_t L = space->n_learners, j, learner;
    int rc;

    assert(p1 >= 0);
    a = &s->seen[s->pop[p1]].c;
    if (L > 1 && aml_rng_uniform(rng) < GENETIC_MIGRATE) {
        learner = (a->learner + 1 + aml_rng_below(rng, L - 1)) % L;
        return genetic_random(space, learner, rng, out);
    }
    if ((rc = aml_config_copy(out, a)) < 0)
        return rc;
    if (aml_rng_uniform(rng) < GENETIC_CROSS &&
        (p2 = genetic_tournament(s, a->learner, p1, rng)) >= 0) {
        const aml_config *b = &s->seen[s->pop[p2]].c;

        for (j = 0; j < out->n_params; j++)
            if (aml_rng_uniform(rng) < 0.5)
                out->params[j].value = b->params[j].value;
    }
    genetic_mutate(&space->learners[a->learner], rng, out);
    return AML_OK;
}

/* Candidate number `attempt` for `trial`: initial point, child or random draw. */
static int genetic_candidate(const genetic_state *s, const aml_space *space, long trial,
                             int attempt, aml_rng *rng, aml_config *out)
{
    if (trial < GENETIC_POP && attempt == 0)
        return genetic_initial(s, space, trial, out);
    if (trial >= GENETIC_POP && s->n_pop > 0 && attempt < GENETIC_BREED)
        return genetic_child(s, space, rng, out);
    return genetic_random(space, aml_rng_below(rng, space->n_learners), rng, out);
}

/* ---- enumeration of a finite space --------------------------------------- */

static int genetic_enumerate(genetic_state *s, const aml_space *space, aml_rng *rng,
                             aml_config *out, uint64_t *hash)
{
    uint64_t start = aml_rng_below(rng, s->n_points), k;
    int rc;

    for (k = 0; k < s->n_points; k++) {
        if ((rc = aml_space_point(space, (start + k) % s->n_points, out)) < 0)
            return rc;
        *hash = aml_config_hash(out);
        if (genetic_find(s, out, *hash) == s->n_seen)
            return AML_OK;
        aml_config_dispose(out);
    }
    return AML_EXHAUSTED;
}

/* ---- ask ----------------------------------------------------------------- */

static int genetic_ask(void *state, const aml_space *space, long trial, aml_rng *rng,
                       aml_config *out)
{
    genetic_state *s = state;
    uint64_t hash = 0;
    int attempt, rc;

    assert(space->n_learners > 0 && trial >= 0);
    if (s->n_points != GENETIC_INFINITE && s->n_seen >= s->n_points)
        return AML_EXHAUSTED;
    for (attempt = 0; attempt < GENETIC_TRIES; attempt++) {
        if ((rc = genetic_candidate(s, space, trial, attempt, rng, out)) < 0)
            return rc;
        hash = aml_config_hash(out);
        if (genetic_find(s, out, hash) == s->n_seen)
            goto found;
        aml_config_dispose(out);
    }
    memset(out, 0, sizeof(*out));
    if (s->n_points > GENETIC_ENUM_MAX)
        return AML_EXHAUSTED;
    if ((rc = genetic_enumerate(s, space, rng, out, &hash)) != AML_OK)
        return rc;
found:
    if (genetic_remember(s, out, hash) < 0)
        return AML_ENOMEM; /* the driver disposes out */
    return AML_OK;
}

/* A seed configuration, proposed by the driver: remembered, never proposed. */
static void genetic_note(void *state, const aml_space *space, const aml_config *c)
{
    genetic_state *s = state;
    uint64_t hash = aml_config_hash(c);

    AML_UNUSED(space);
    if (genetic_find(s, c, hash) == s->n_seen)
        (void)genetic_remember(s, c, hash); /* out of memory: a repeat is possible */
}

const aml_search_type aml_search_genetic = {
    .name = "genetic",
    .state_size = sizeof(genetic_state),
    .init = genetic_init,
    .ask = genetic_ask,
    .tell = genetic_tell,
    .dispose = genetic_dispose,
    .note = genetic_note,
};
