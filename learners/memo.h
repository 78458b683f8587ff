/*
 * memo.h - a memo shared by the trials of one search: results that several
 * trials would compute alike, computed once.
 *
 * Many configurations of a search differ only in parameters that come after
 * an expensive, shared step: every kNN trial on a fold searches the same
 * neighbours (same training rows, same validation rows, same metric) and
 * only its k and vote weights differ.  The trial runner owns one aml_memo
 * for its run, with a memory cap, and hands it to the thread fitting a
 * (trial, fold) task the way it hands the trial deadline: a thread-local
 * current memo (aml_memo_set_current).  A learner that can share work asks
 * aml_memo_current() on its calling thread; outside a runner (final refit,
 * `automl predict`, tests) there is none and nothing changes.
 *
 * An entry is an immutable blob under a key of AML_MEMO_KEY_WORDS 64-bit
 * words that the user fills with a tag naming what the blob is, the
 * shapes, and content hashes of the inputs (aml_memo_hash: two independent
 * 64-bit hashes, 128 bits); equal keys must mean interchangeable blobs.
 * Each entry has a level (for kNN: how many neighbours it holds per query);
 * a lookup asks for a least level and gets any entry at least that deep,
 * so an entry serves every shallower question, and a deeper one replaces
 * it.  A blob that would take the stored total past the cap is not stored
 * (the caller still uses it): nothing is evicted, so an entry once stored
 * serves the rest of the run.  TODO(memo): no eviction; a long search
 * whose keys never repeat (subsampled trials) fills the cap and stops
 * storing, which only costs the memo's benefit, never a result.
 *
 * Threads: every operation takes the memo's lock briefly; computing a blob
 * happens outside it, so two threads missing on one key both compute and
 * the first to publish wins (the second's blob is used by its caller and
 * freed on release).  Entries are reference counted: a blob stays valid
 * until its holder releases it, even if a deeper entry replaced it meanwhile.
 */
#ifndef AML_MEMO_H
#define AML_MEMO_H

#include <stddef.h>
#include <stdint.h>

/* Words of a key: a tag, shapes and hashes, as the user lays them out. */
#define AML_MEMO_KEY_WORDS 8

typedef struct aml_memo aml_memo;
typedef struct aml_memo_entry aml_memo_entry;

typedef struct aml_memo_key {
    uint64_t w[AML_MEMO_KEY_WORDS];
} aml_memo_key;

/* Counters, for tests and benchmarks. */
typedef struct aml_memo_stats {
    long hits, misses; /* lookups answered, and not */
    long stored;       /* blobs published into the memo (replacements included) */
    long refused;      /* blobs not stored: over the cap, or beaten to it */
    size_t bytes;      /* bytes of the stored entries now */
} aml_memo_stats;

/* A memo storing at most cap_bytes of blobs. */
int aml_memo_new(aml_memo **out, size_t cap_bytes);
/* Frees the memo and its entries; every entry must have been released. */
void aml_memo_free(aml_memo *m);
void aml_memo_stats_get(aml_memo *m, aml_memo_stats *out);

/* This thread's current memo (NULL: none, the default). */
void aml_memo_set_current(aml_memo *m);
aml_memo *aml_memo_current(void);

/*
 * An entry of key with level >= level, with a reference the caller gives
 * back with aml_memo_release; NULL when there is none.
 */
aml_memo_entry *aml_memo_find(aml_memo *m, const aml_memo_key *key, uint64_t level);

/*
 * Publishes blob (malloc'd, `bytes` long; the memo takes it over whatever
 * happens) as key's entry of `level`, unless an entry at least that deep is
 * there already or it does not fit under the cap.  *out gets an entry
 * holding the blob, with a reference for the caller, stored or not; on
 * allocation failure the blob is freed and *out is NULL.
 */
int aml_memo_put(aml_memo *m, const aml_memo_key *key, uint64_t level, void *blob,
                 size_t bytes, aml_memo_entry **out);

/* The blob of an entry and its level. */
const void *aml_memo_blob(const aml_memo_entry *e);
uint64_t aml_memo_level(const aml_memo_entry *e);

/* Gives back the caller's reference (e NULL: nothing). */
void aml_memo_release(aml_memo *m, aml_memo_entry *e);

/*
 * Two independent 64-bit hashes of `bytes` bytes, mixed into out[0] and
 * out[1] (chain several inputs by passing the same out; start from zeros).
 * Not cryptographic: equal inputs hash alike and different inputs collide
 * with probability about 2^-128, not under attack.
 */
void aml_memo_hash(const void *data, size_t bytes, uint64_t out[2]);

#endif
