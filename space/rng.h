/*
 * rng.h - the random number generator every module uses.
 *
 * xoshiro256** (Blackman and Vigna, 2018) seeded through splitmix64.  A
 * generator is a small value type, embedded by its owner (_init, no _free).
 * Determinism rests on streams: aml_rng_init(seed, stream) gives every
 * (study seed, trial number) or (trial, fold) pair its own independent
 * generator, so results never depend on which thread ran what, or when.
 */
#ifndef AML_RNG_H
#define AML_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct aml_rng {
    uint64_t s[4];
} aml_rng;

/* Seeds `r` from a seed and a stream number; distinct pairs give unrelated sequences. */
void aml_rng_init(aml_rng *r, uint64_t seed, uint64_t stream);
/* Derives a child generator for sub-stream `stream` of `parent` without advancing it. */
void aml_rng_child(aml_rng *out, const aml_rng *parent, uint64_t stream);
uint64_t aml_rng_next(aml_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double aml_rng_uniform(aml_rng *r);
/* Uniform integer in [0, n), unbiased (Lemire's method); n must be > 0. */
uint64_t aml_rng_below(aml_rng *r, uint64_t n);
/* Standard normal deviate (Marsaglia polar method). */
double aml_rng_normal(aml_rng *r);
/* Fisher-Yates shuffle of idx[0..n). */
void aml_rng_shuffle(aml_rng *r, size_t *idx, size_t n);

#endif
