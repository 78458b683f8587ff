/*
 * memo.c - the search-wide memo (see memo.h).
 *
 * Usage profile: a handful of entries per data set (one per fold and kind
 * of shared work: a 5-fold search over kNN stores 5 to 10), looked up once
 * per fitted fold, each lookup preceded by hashing the inputs, which costs
 * far more than the lookup itself.  So the entries are a plain linked list
 * under one OpenMP lock, and the hash is the part built for speed: a
 * four-lane multiply-rotate hash of 8-byte words in the manner of Collet's
 * XXH64 (xxHash, 2014), run twice with different multipliers and seeds
 * for two independent 64-bit words.
 */
#include "memo.h"
#include "aml.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

struct aml_memo_entry {
    aml_memo_key key;
    uint64_t level;
    void *blob;
    size_t bytes;
    long refs;  /* the caller's references, plus one while stored */
    int stored; /* on the memo's list */
    aml_memo_entry *next;
};

struct aml_memo {
    omp_lock_t lock;
    size_t cap;
    aml_memo_entry *head;
    aml_memo_stats stats;
};

static _Thread_local aml_memo *memo_current;

int aml_memo_new(aml_memo **out, size_t cap_bytes)
{
    aml_memo *m = aml_calloc(1, sizeof(*m));

    *out = NULL;
    if (!m)
        return AML_ENOMEM;
    omp_init_lock(&m->lock);
    m->cap = cap_bytes;
    *out = m;
    return AML_OK;
}

static void memo_entry_free(aml_memo_entry *e)
{
    free(e->blob);
    free(e);
}

void aml_memo_free(aml_memo *m)
{
    aml_memo_entry *e, *next;

    if (!m)
        return;
    for (e = m->head; e; e = next) {
        next = e->next;
        memo_entry_free(e);
    }
    omp_destroy_lock(&m->lock);
    free(m);
}

void aml_memo_stats_get(aml_memo *m, aml_memo_stats *out)
{
    omp_set_lock(&m->lock);
    *out = m->stats;
    omp_unset_lock(&m->lock);
}

void aml_memo_set_current(aml_memo *m)
{
    memo_current = m;
}

aml_memo *aml_memo_current(void)
{
    return memo_current;
}

static int memo_key_equal(const aml_memo_key *a, const aml_memo_key *b)
{
    return memcmp(a->w, b->w, sizeof(a->w)) == 0;
}

/* The stored entry of key (any level), with *prev pointing at its link. */
static aml_memo_entry *memo_locate(aml_memo *m, const aml_memo_key *key,
                                   aml_memo_entry ***prev)
{
    aml_memo_entry **link;

    for (link = &m->head; *link; link = &(*link)->next)
        if (memo_key_equal(&(*link)->key, key)) {
            *prev = link;
            return *link;
        }
    *prev = link;
    return NULL;
}

aml_memo_entry *aml_memo_find(aml_memo *m, const aml_memo_key *key, uint64_t level)
{
    aml_memo_entry **link, *e;

    omp_set_lock(&m->lock);
    e = memo_locate(m, key, &link);
    if (e && e->level >= level) {
        e->refs++;
        m->stats.hits++;
    } else {
        e = NULL;
        m->stats.misses++;
    }
    omp_unset_lock(&m->lock);
    return e;
}

/* Stores e in place of old (NULL: at the list's end *link), when it fits. */
static int memo_store(aml_memo *m, aml_memo_entry *e, aml_memo_entry *old,
                      aml_memo_entry **link, aml_memo_entry **drop)
{
    size_t after = m->stats.bytes - (old ? old->bytes : 0);

    if ((old && old->level >= e->level) || e->bytes > m->cap || after > m->cap - e->bytes)
        return 0;
    e->stored = 1;
    e->refs++;
    e->next = old ? old->next : NULL;
    *link = e;
    m->stats.bytes = after + e->bytes;
    m->stats.stored++;
    if (old) {
        old->stored = 0;
        old->next = NULL;
        if (--old->refs == 0)
            *drop = old;
    }
    return 1;
}

int aml_memo_put(aml_memo *m, const aml_memo_key *key, uint64_t level, void *blob,
                 size_t bytes, aml_memo_entry **out)
{
    aml_memo_entry *e = aml_calloc(1, sizeof(*e)), *old, **link, *drop = NULL;

    *out = NULL;
    if (!e) {
        free(blob);
        return AML_ENOMEM;
    }
    e->key = *key;
    e->level = level;
    e->blob = blob;
    e->bytes = bytes;
    e->refs = 1;
    omp_set_lock(&m->lock);
    old = memo_locate(m, key, &link);
    if (!memo_store(m, e, old, link, &drop))
        m->stats.refused++;
    omp_unset_lock(&m->lock);
    if (drop)
        memo_entry_free(drop);
    *out = e;
    return AML_OK;
}

const void *aml_memo_blob(const aml_memo_entry *e)
{
    return e->blob;
}

uint64_t aml_memo_level(const aml_memo_entry *e)
{
    return e->level;
}

void aml_memo_release(aml_memo *m, aml_memo_entry *e)
{
    long left;

    if (!e)
        return;
    omp_set_lock(&m->lock);
    left = --e->refs;
    omp_unset_lock(&m->lock);
    if (left == 0)
        memo_entry_free(e);
}

/* ---- hashing ------------------------------------------------------------ */

static uint64_t memo_rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static uint64_t memo_word(const unsigned char *p)
{
    uint64_t w;

    memcpy(&w, p, sizeof(w));
    return w;
}

/* One 64-bit hash of d[0..n) from seed, with odd multipliers p1, p2, p3. */
static uint64_t memo_hash64(const unsigned char *d, size_t n, uint64_t seed, uint64_t p1,
                            uint64_t p2, uint64_t p3)
{
    uint64_t a[4] = {seed + p1 + p2, seed + p2, seed, seed - p1}, h;
    size_t i = 0;
    int l;

    /* Four independent lanes keep four multiplies in flight per step. */
    for (; i + 32 <= n; i += 32)
        for (l = 0; l < 4; l++)
            a[l] = memo_rotl(a[l] + memo_word(d + i + 8 * l) * p2, 31) * p1;
    h = memo_rotl(a[0], 1) + memo_rotl(a[1], 7) + memo_rotl(a[2], 12) +
        memo_rotl(a[3], 18) + (uint64_t)n;
    for (; i + 8 <= n; i += 8) {
        h ^= memo_rotl(memo_word(d + i) * p2, 31) * p1;
        h = memo_rotl(h, 27) * p1 + p3;
    }
    for (; i < n; i++)
        h = memo_rotl(h ^ (d[i] * p3), 11) * p1;
    /* Avalanche: every input bit reaches every output bit. */
    h ^= h >> 33;
    h *= p2;
    h ^= h >> 29;
    h *= p3;
    h ^= h >> 32;
    return h;
}

void aml_memo_hash(const void *data, size_t bytes, uint64_t out[2])
{
    const unsigned char *d = data;

    out[0] = memo_hash64(d, bytes, out[0], 0x9E3779B185EBCA87ull, 0xC2B2AE3D27D4EB4Full,
                         0x165667B19E3779F9ull);
    out[1] = memo_hash64(d, bytes, out[1] ^ 0x5851F42D4C957F2Dull, 0xFF51AFD7ED558CCDull,
                         0xC4CEB9FE1A85EC53ull, 0xD6E8FEB86659FD93ull);
}
