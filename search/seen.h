/*
 * seen.h - internal to search/: the set of configurations a strategy has
 * already proposed, and the finite-space helpers built on it.
 *
 * Random search, bayes and genetic promise never to propose a
 * configuration twice while the space still holds one not proposed, and to
 * answer AML_EXHAUSTED once a finite space is used up.  This set is the one
 * place that promise is kept: a hash table of configuration copies (open
 * addressing, hashes consistent with aml_config_equal), per-learner counts,
 * and the size of every learner's space so that "used up" can be told.
 *
 * Determinism: the set holds what earlier asks and tells put in it, which
 * the runner makes in trial order (a resume replays them from trial 0), and
 * every choice below draws only from the generator it is given.
 */
#ifndef AML_SEEN_H
#define AML_SEEN_H

#include <stddef.h>
#include <stdint.h>

#include "space.h"

/*
 * Points of a learner's space when that is infinite (a real range), as
 * aml_space_learner_size reports it.
 */
#define AML_SEEN_INFINITE UINT64_MAX

typedef struct aml_seen_entry {
    aml_config c; /* owned copy */
    uint64_t hash;
} aml_seen_entry;

typedef struct aml_seen {
    aml_seen_entry *e; /* in insertion order */
    size_t n, cap;
    size_t *slot; /* open-addressing table of entry index + 1 (0 = empty) */
    size_t n_slot;
    size_t n_learners;
    uint64_t *points; /* per learner: points of its space, or AML_SEEN_INFINITE */
    size_t *count;    /* per learner: entries of that learner */
} aml_seen;

/* Prepares an empty set for `space` (which it does not keep). */
int aml_seen_init(aml_seen *s, const aml_space *space);
void aml_seen_dispose(aml_seen *s);

/* Index of the entry equal to c, or -1. */
long aml_seen_find(const aml_seen *s, const aml_config *c);
/* Adds a copy of c; returns its index (an existing one when already there) or <0. */
long aml_seen_add(aml_seen *s, const aml_config *c);
/* 1 when learner i's space is finite and every point of it has been seen. */
int aml_seen_learner_full(const aml_seen *s, size_t i);
/* 1 when every learner's space is finite and every point has been seen. */
int aml_seen_full(const aml_seen *s);

/*
 * Writes into out a configuration not seen yet, starting from learner
 * `first` and going on to the next learners when a learner is used up:
 * up to `draws` independent random draws, then, for a finite learner of
 * at most AML_SEEN_ENUM_MAX points, its first unseen point in a
 * mixed-radix enumeration from a random start.  Returns AML_EXHAUSTED (out
 * zeroed) when no learner yields one.  Does not add it.
 */
int aml_seen_fresh(const aml_seen *s, const aml_space *space, size_t first, int draws,
                   aml_rng *rng, aml_config *out);

/* Finite learners larger than this are not enumerated (random draws only). */
#define AML_SEEN_ENUM_MAX 1048576ULL

#endif
