/*
 * rng.c - xoshiro256** with splitmix64 seeding (see rng.h).
 */
#include "rng.h"

#include <math.h>

static uint64_t rng_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void aml_rng_init(aml_rng *r, uint64_t seed, uint64_t stream)
{
    /* Mix the stream through splitmix first so that neighbouring streams
     * (trial 7 and trial 8) start from unrelated states. */
    uint64_t x = seed;
    uint64_t mixed = rng_splitmix(&x) ^ (stream * 0xd1342543de82ef95ULL + 0x2545f4914f6cdd1dULL);
    int i;

    for (i = 0; i < 4; i++)
        r->s[i] = rng_splitmix(&mixed);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1; /* the all-zero state is a fixed point */
}

void aml_rng_child(aml_rng *out, const aml_rng *parent, uint64_t stream)
{
    aml_rng_init(out, parent->s[0] ^ rng_rotl(parent->s[2], 17), stream);
}

uint64_t aml_rng_next(aml_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_rotl(s[3], 45);
    return result;
}

double aml_rng_uniform(aml_rng *r)
{
    return (double)(aml_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t aml_rng_below(aml_rng *r, uint64_t n)
{
    /* Lemire 2019: multiply-shift with rejection of the biased low zone. */
    unsigned __int128 m = (unsigned __int128)aml_rng_next(r) * n;
    uint64_t low = (uint64_t)m;

    if (low < n) {
        uint64_t threshold = -n % n;

        while (low < threshold) {
            m = (unsigned __int128)aml_rng_next(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double aml_rng_normal(aml_rng *r)
{
    double u, v, s;

    do {
        u = 2.0 * aml_rng_uniform(r) - 1.0;
        v = 2.0 * aml_rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    return u * sqrt(-2.0 * log(s) / s);
}

void aml_rng_shuffle(aml_rng *r, size_t *idx, size_t n)
{
    size_t i;

    for (i = n; i > 1; i--) {
        size_t j = (size_t)aml_rng_below(r, i);
        size_t t = idx[i - 1];

        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
