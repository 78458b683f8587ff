/*
 * seen.c - the set of proposed configurations shared by the strategies
 * that must not repeat themselves (see seen.h).
 *
 * A hash table with linear probing over an array of owned configuration
 * copies (Knuth, TAOCP vol. 3, 6.4, algorithm L), kept at most half full
 * so a probe is short; entries are never removed.  The hash is
 * aml_config_hash (space.c), consistent with aml_config_equal.
 *
 * Space sizes and the enumeration of a learner's points are space.c's
 * (aml_space_learner_size, aml_space_learner_point): finite when every
 * dimension is fixed, a choice, an integer range, or a real range with
 * lo == hi, enumerated as a mixed-radix number, first dimension fastest.
 */
#include "seen.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"

/*
 * aml_config_hash, its high bits folded into the low ones that pick the
 * slot (the table size is a power of two).
 */
static uint64_t seen_hash(const aml_config *c)
{
    uint64_t h = aml_config_hash(c);

    return h ^ (h >> 29);
}

int aml_seen_init(aml_seen *s, const aml_space *space)
{
    size_t i;

    memset(s, 0, sizeof(*s));
    s->n_learners = space->n_learners;
    s->points = aml_calloc(space->n_learners ? space->n_learners : 1, sizeof(uint64_t));
    s->count = aml_calloc(space->n_learners ? space->n_learners : 1, sizeof(size_t));
    if (!s->points || !s->count) {
        aml_seen_dispose(s);
        return AML_ENOMEM;
    }
    for (i = 0; i < space->n_learners; i++)
        s->points[i] = aml_space_learner_size(&space->learners[i]);
    return AML_OK;
}

void aml_seen_dispose(aml_seen *s)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        aml_config_dispose(&s->e[i].c);
    free(s->e);
    free(s->slot);
    free(s->points);
    free(s->count);
    memset(s, 0, sizeof(*s));
}

static long seen_lookup(const aml_seen *s, const aml_config *c, uint64_t h)
{
    size_t mask, k;

    if (s->n_slot == 0)
        return -1;
    mask = s->n_slot - 1;
    for (k = (size_t)h & mask; s->slot[k]; k = (k + 1) & mask) {
        const aml_seen_entry *e = &s->e[s->slot[k] - 1];

        if (e->hash == h && aml_config_equal(&e->c, c))
            return (long)(s->slot[k] - 1);
    }
    return -1;
}

long aml_seen_find(const aml_seen *s, const aml_config *c)
{
    return seen_lookup(s, c, seen_hash(c));
}

static void seen_place(aml_seen *s, size_t idx)
{
    size_t mask = s->n_slot - 1, k;

    for (k = (size_t)s->e[idx].hash & mask; s->slot[k]; k = (k + 1) & mask)
        ;
    s->slot[k] = idx + 1;
}

/* Makes room for one more entry: the array and a table at most half full. */
static int seen_grow(aml_seen *s)
{
    size_t i;

    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        aml_seen_entry *e = aml_reallocarray(s->e, cap, sizeof(*e));

        if (!e)
            return AML_ENOMEM;
        s->e = e;
        s->cap = cap;
    }
    if (2 * (s->n + 1) > s->n_slot) {
        size_t n_slot = s->n_slot ? 2 * s->n_slot : 128;
        size_t *slot = aml_calloc(n_slot, sizeof(*slot));

        if (!slot)
            return AML_ENOMEM;
        free(s->slot);
        s->slot = slot;
        s->n_slot = n_slot;
        for (i = 0; i < s->n; i++)
            seen_place(s, i);
    }
    return AML_OK;
}

long aml_seen_add(aml_seen *s, const aml_config *c)
{
    uint64_t h = seen_hash(c);
    long idx = seen_lookup(s, c, h);
    int rc;

    assert(c->learner < s->n_learners);
    if (idx >= 0)
        return idx;
    if ((rc = seen_grow(s)) < 0)
        return rc;
    memset(&s->e[s->n], 0, sizeof(s->e[s->n]));
    if (aml_config_copy(&s->e[s->n].c, c) < 0)
        return AML_ENOMEM;
    s->e[s->n].hash = h;
    seen_place(s, s->n);
    s->count[c->learner]++;
    return (long)s->n++;
}

int aml_seen_learner_full(const aml_seen *s, size_t i)
{
    return s->points[i] != AML_SEEN_INFINITE && s->count[i] >= s->points[i];
}

int aml_seen_full(const aml_seen *s)
{
    size_t i;

    for (i = 0; i < s->n_learners; i++)
        if (!aml_seen_learner_full(s, i))
            return 0;
    return 1;
}

static int seen_draw(const aml_space *space, size_t i, aml_rng *rng, aml_config *out)
{
    const aml_space_learner *l = &space->learners[i];
    size_t j;
    int rc;

    if ((rc = aml_config_init(out, space, i)) < 0)
        return rc;
    for (j = 0; j < l->n_dims; j++) {
        out->params[j].name = l->dims[j].name;
        aml_dim_sample(&l->dims[j], rng, &out->params[j].value);
    }
    return AML_OK;
}

/* An unseen point of learner i, or AML_EXHAUSTED. */
static int seen_fresh_learner(const aml_seen *s, const aml_space *space, size_t i,
                              int draws, aml_rng *rng, aml_config *out)
{
    uint64_t n = s->points[i], start, k;
    int d, rc;

    if (aml_seen_learner_full(s, i))
        return AML_EXHAUSTED;
    for (d = 0; d < draws; d++) {
        if ((rc = seen_draw(space, i, rng, out)) < 0)
            return rc;
        if (aml_seen_find(s, out) < 0)
            return AML_OK;
        aml_config_dispose(out);
    }
    if (n == AML_SEEN_INFINITE || n > AML_SEEN_ENUM_MAX)
        return AML_EXHAUSTED;
    start = aml_rng_below(rng, n);
    for (k = 0; k < n; k++) {
        if ((rc = aml_space_learner_point(space, i, (start + k) % n, out)) < 0)
            return rc;
        if (aml_seen_find(s, out) < 0)
            return AML_OK;
        aml_config_dispose(out);
    }
    return AML_EXHAUSTED;
}

int aml_seen_fresh(const aml_seen *s, const aml_space *space, size_t first, int draws,
                   aml_rng *rng, aml_config *out)
{
    size_t k, L = space->n_learners;
    int rc;

    assert(L == s->n_learners && L > 0);
    for (k = 0; k < L; k++) {
        memset(out, 0, sizeof(*out));
        rc = seen_fresh_learner(s, space, (first + k) % L, draws, rng, out);
        if (rc != AML_EXHAUSTED)
            return rc;
    }
    memset(out, 0, sizeof(*out));
    return AML_EXHAUSTED;
}
