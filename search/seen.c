/*
 * seen.c - the set of proposed configurations shared by the strategies
 * that must not repeat themselves (see seen.h).
 *
 * A hash table with linear probing over an array of owned configuration
 * copies (Knuth, TAOCP vol. 3, 6.4, algorithm L), kept at most half full
 * so a probe is short; entries are never removed.  The hash mixes the
 * learner and every value (strings by content, -0.0 as 0.0), so equal
 * configurations in the sense of aml_config_equal hash alike.
 *
 * Space sizes: a learner's space is finite when every dimension is fixed,
 * a choice, an integer range, or a real range with lo == hi; its size is
 * the product of the dimensions' counts (saturating to "infinite").  An
 * enumeration writes point k of a learner as a mixed-radix number, first
 * dimension fastest; integers as lo + digit directly.
 */
#include "seen.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"

static uint64_t seen_dim_size(const aml_dim *d)
{
    switch (d->domain) {
    case AML_DOM_FIXED:
        return 1;
    case AML_DOM_CHOICE:
        return d->n_choices;
    case AML_DOM_INT:
    case AML_DOM_INT_LOG:
        return d->hi - d->lo < 1e18 ? (uint64_t)(d->hi - d->lo) + 1 : AML_SEEN_INFINITE;
    default:
        return d->lo == d->hi ? 1 : AML_SEEN_INFINITE;
    }
}

static uint64_t seen_learner_size(const aml_space_learner *l)
{
    uint64_t prod = 1, n;
    size_t j;

    for (j = 0; j < l->n_dims; j++) {
        n = seen_dim_size(&l->dims[j]);
        if (n == AML_SEEN_INFINITE || (n > 0 && prod > (AML_SEEN_INFINITE - 1) / n))
            return AML_SEEN_INFINITE;
        prod *= n;
    }
    return prod;
}

static uint64_t seen_mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

static uint64_t seen_hash(const aml_config *c)
{
    uint64_t h = seen_mix(0, c->learner), bits;
    const char *p;
    double x;
    size_t i;

    for (i = 0; i < c->n_params; i++) {
        const aml_value *v = &c->params[i].value;

        h = seen_mix(h, v->kind);
        if (v->kind == AML_VAL_STR) {
            for (p = v->str; p && *p; p++)
                h = seen_mix(h, (unsigned char)*p);
        } else if (v->kind == AML_VAL_INT) {
            h = seen_mix(h, (uint64_t)v->i);
        } else {
            x = v->real == 0.0 ? 0.0 : v->real;
            memcpy(&bits, &x, sizeof(bits));
            h = seen_mix(h, bits);
        }
    }
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
        s->points[i] = seen_learner_size(&space->learners[i]);
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

/* Writes point idx (< points) of learner i into out (initialised here). */
static int seen_point(const aml_space *space, size_t i, uint64_t idx, aml_config *out)
{
    const aml_space_learner *l = &space->learners[i];
    size_t j;
    int rc;

    if ((rc = aml_config_init(out, space, i)) < 0)
        return rc;
    for (j = 0; j < l->n_dims; j++) {
        const aml_dim *d = &l->dims[j];
        uint64_t n = seen_dim_size(d), k = idx % n;

        out->params[j].name = d->name;
        if (d->domain == AML_DOM_INT || d->domain == AML_DOM_INT_LOG) {
            /* lo + k exactly, not through a rounded unit position. */
            aml_dim_at(d, 0.0, &out->params[j].value);
            if (out->params[j].value.kind == AML_VAL_INT)
                out->params[j].value.i = (long long)d->lo + (long long)k;
            else
                out->params[j].value.real = d->lo + (double)k;
        } else {
            aml_dim_at(d, ((double)k + 0.5) / (double)n, &out->params[j].value);
        }
        idx /= n;
    }
    return AML_OK;
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
        if ((rc = seen_point(space, i, (start + k) % n, out)) < 0)
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
