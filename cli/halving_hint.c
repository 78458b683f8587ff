/*
 * halving_hint.c - how many trials a successive-halving search takes to
 * reach its first full evaluation, for the message of a run whose budget
 * ended before one.
 *
 * A halving or bohb search starts most configurations on a fraction of the
 * budget (search/halving.c); only full evaluations count for the best
 * trial and the model, so a small `trials` budget may end with none.  The
 * count depends on the results (which ones are promoted), so it cannot be
 * read off eta and min_resource alone: the strategy is run dry, asked in
 * batches of AML_RUN_BATCH as the runner asks it and told made-up scores
 * (every trial ok), from the same seed, space and seed configurations
 * (told as failed: a seed that succeeded would have been a full
 * evaluation).  The answer is an estimate; the message says "about".
 */
#include "cli.h"
#include "runner.h"
#include "search.h"

/* Trials simulated at most; beyond this the hint says nothing. */
#define HINT_MAX_TRIALS 4096L

/* A made-up score in [0, 1) from the trial number (Knuth's multiplicative hash). */
static double hint_score(long trial)
{
    return (double)(((uint64_t)trial * 2654435761ULL) % 1000ULL) / 1000.0;
}

/*
 * Asks trials first..first+AML_RUN_BATCH-1 and tells them back in order.
 * Returns the 1-based count of trials up to the first full evaluation, 0
 * when the batch has none, or a negative code (AML_EXHAUSTED: no more).
 */
static long hint_batch(aml_search *s, long first, long n_seeds)
{
    aml_config c[AML_RUN_BATCH];
    long n = 0, found = 0;
    int rc = 0;

    while (n < AML_RUN_BATCH && (rc = aml_search_ask(s, first + n, &c[n])) == 0) {
        if (!found && c[n].resource <= 0.0 && first + n >= n_seeds)
            found = first + n + 1;
        n++;
    }
    if (rc != 0)
        aml_config_dispose(&c[n]);
    for (long i = 0; i < n; i++) {
        int seed = first + i < n_seeds;

        aml_search_tell(s, &c[i], seed ? 0.0 : hint_score(first + i), !seed);
        aml_config_dispose(&c[i]);
    }
    if (found)
        return found;
    return rc < 0 ? rc : n < AML_RUN_BATCH ? AML_EXHAUSTED : 0;
}

long cli_halving_first_full(const aml_search_type *type, const aml_space *space,
                            uint64_t seed, const aml_search_options *opt,
                            const aml_config *seeds, size_t n_seeds)
{
    aml_search *s = NULL;
    long first, found = 0;

    if (aml_search_new_with(&s, type, space, seed, opt) < 0 ||
        aml_search_set_seeds(s, seeds, n_seeds) < 0) {
        aml_search_free(s);
        aml_error_clear();
        return 0;
    }
    for (first = 0; found == 0 && first < HINT_MAX_TRIALS; first += AML_RUN_BATCH)
        found = hint_batch(s, first, (long)n_seeds);
    aml_search_free(s);
    aml_error_clear();
    return found > 0 ? found : 0;
}
