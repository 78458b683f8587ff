/*
 * bayes_internal.h - the bayes strategy's model for strategies that feed
 * it themselves (halving.c's BOHB-like sampler), so the GP, its fitting
 * and the EI search live in bayes.c only.
 *
 * The state is an aml_search_bayes state block (state_size zeroed bytes)
 * set up, told and released through that type's init, tell and dispose
 * slots.  Its own ask is not used: these functions skip the initial
 * design and let the caller say which proposals are pending, since the
 * caller's trial numbers and its tells need not line up with the state's.
 */
#ifndef AML_BAYES_INTERNAL_H
#define AML_BAYES_INTERNAL_H

#include "search.h"

/* Observations a model wants before it is worth asking: the design size of bayes. */
size_t aml_bayes_min_obs(const aml_space *space);
/* Successful observations told to the state. */
size_t aml_bayes_n_ok(const void *state);
/*
 * The proposal of the model alone (expected improvement over the GPs of
 * the learners with a successful observation), for trial `trial`: pending
 * points of trials before it count as constant-liar observations.
 * AML_EXHAUSTED when no learner has a successful observation.
 */
int aml_bayes_model_ask(void *state, const aml_space *space, long trial, aml_rng *rng,
                        aml_config *out);
/* Declares c (proposed for trial `trial`) pending; replaces a pending point of that
 * trial. */
int aml_bayes_pending_add(void *state, const aml_space *space, long trial,
                          const aml_config *c);
/* Forgets every pending point. */
void aml_bayes_pending_clear(void *state);

#endif
