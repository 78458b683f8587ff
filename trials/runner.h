/*
 * runner.h - the search loop: ask, evaluate in parallel, tell, record.
 *
 * Threading design.  The runner asks the strategy for a batch of
 * AML_RUN_BATCH configurations, records them in the store as running, then
 * evaluates the batch's trials x folds as independent tasks on an OpenMP
 * team of `threads` workers (BLAS pinned to one thread meanwhile, so the
 * two do not oversubscribe the cores).  When the batch is done it tells the
 * strategy and records the results in trial-number order from the calling
 * thread, which alone owns the store.  The batch size is a constant, not
 * the thread count: what a strategy has seen when it proposes trial t is
 * then the same at any `parallel` value, and since every fold draws from a
 * generator seeded by (seed, trial, fold), so are the scores.
 *
 * Resume.  With a store, the runner first reads the study's finished
 * trials.  It then runs the same loop as a fresh run from trial 0: a
 * proposal whose trial number is already finished in the store must equal
 * the stored configuration (else the search changed: AML_EINVAL), and its
 * stored result is told to the strategy instead of being evaluated again.
 * The strategy therefore sees exactly the asks and tells of an
 * uninterrupted run, so a deterministic strategy (grid, random, and any
 * whose proposals depend only on the seed, the trial number and the
 * results told) ends with the same trials; trials left running or
 * interrupted are evaluated again under their numbers.  The trial budget
 * counts stored trials; a time budget counts this run only.
 *
 * Stopping.  Raising budget.stop_flag (SIGINT) stops the batch in flight:
 * folds already running finish, folds not started are skipped, and a
 * trial missing a fold is recorded `interrupted` (and not told), so the
 * store is consistent and a resume re-runs it.  The budget's other rules
 * (trials, patience, time) are checked between batches only, so the
 * trials done are always a prefix of the uninterrupted sequence; a batch
 * already asked finishes, so patience may let up to AML_RUN_BATCH - 1
 * trials more run than it names.
 *
 * Out-of-fold predictions.  With a store, each trial evaluated keeps an
 * OOF matrix (aml_cv_fold_oof: n x outputs per repeat, NaN where no split
 * validates a row; AML_RUN_BATCH of them in memory at once), and an ok
 * full-resource trial's matrix is saved (aml_store_oof_save, table trial_oof) in the
 * transaction that records its result.  Its values depend only on the
 * seed, trial and fold, like the scores.
 *
 * Resource.  A proposal's resource (aml_config.resource, successive
 * halving) is recorded with its trial (aml_store_trial_set_resource) and
 * applied by the pipeline (trials/pipeline.c); on resume a stored trial
 * must have been evaluated with the proposal's resource.  Only
 * full-resource trials can be the run's best, and only they keep their
 * out-of-fold predictions (a partial trial's predictions come from a
 * cheaper model than the one a refit or an ensemble would use).
 *
 * Seed configurations (opt.seeds, spec search.seed_configs) are the first
 * trials, whatever the strategy (aml_search_set_seeds).
 *
 * Trial timeout.  budget.trial_seconds is cooperative: before a (trial,
 * fold) task starts it checks whether its trial has used more than the
 * limit (the sum of its finished folds' times, or the wall time since its
 * first fold started); if so it is skipped.  A fold that is fitting gets the
 * trial's deadline (first fold's start + limit) through aml_deadline_set,
 * which the learners' long loops check once per iteration, so it stops
 * with AML_ETIMEOUT.  A trial with a skipped or stopped fold, or whose folds
 * together exceeded the limit, is recorded failed, "timed out after Ns", and
 * the search goes on.
 * Which trials time out depends on the machine and its load, so with a
 * trial timeout the determinism promise above no longer holds.
 *
 * Memo.  The run owns a memo (learners/memo.h, AML_RUN_MEMO_BYTES at most)
 * made current on the thread of each (trial, fold) task, so that trials
 * sharing work (the neighbour search of kNN trials on one fold) do it
 * once; it changes no result, only the time (opt.no_memo turns it off).
 */
#ifndef AML_RUNNER_H
#define AML_RUNNER_H

#include "budget.h"
#include "dataset.h"
#include "metric.h"
#include "search.h"
#include "store.h"
#include "trial.h"

/* Trials proposed between two observations; see the threading design above. */
#define AML_RUN_BATCH 8
/* The search-wide memo's cap. */
#define AML_RUN_MEMO_BYTES ((size_t)256 << 20)

typedef struct aml_run_options {
    int folds;
    int stratified;
    uint64_t cv_seed;
    uint64_t seed;     /* search seed: proposals and trial generators */
    int threads;       /* workers; <= 0 means all cores */
    aml_budget budget; /* max_trials must be > 0 unless the space is finite */
    const aml_metric *metric;
    aml_store *store; /* may be NULL (tests): nothing is recorded */
    long long study_id;
    const aml_search_options *search; /* strategy options; NULL: defaults */
    const aml_config *seeds;          /* proposals of trials 0..n_seeds-1 */
    size_t n_seeds;
    int no_memo; /* 1: no search-wide memo (tests compare; results are the same) */
} aml_run_options;

typedef struct aml_run_summary {
    long n_trials, n_ok, n_failed; /* including the stored trials replayed */
    long n_resumed;                /* trials taken from the store, not evaluated */
    long n_interrupted;            /* trials this run stopped (stop_flag) */
    long since_best;               /* trials told since the best last improved */
    aml_stop_reason reason;
    int has_best;
    aml_trial_result best; /* owned copy of the best full-resource trial when has_best */
} aml_run_summary;

/*
 * Called from the runner's thread after each trial this run evaluated, in
 * trial-number order (not for stored trials replayed on resume); an
 * interrupted trial comes with status AML_TRIAL_INTERRUPTED.
 */
typedef void (*aml_run_trial_cb)(const aml_trial_result *r, const aml_run_summary *so_far,
                                 void *payload);

/*
 * Runs the search to the end of the budget or of the space.  On success
 * *out (caller disposes with aml_run_summary_dispose) says how it ended.
 * A trial that fails is recorded and the search goes on; only failures of
 * the machinery (store, allocation, strategy) end the run with an error,
 * and so does a proposal that differs from the stored trial of that number
 * (AML_EINVAL, "the search changed").
 */
int aml_run_search(aml_run_summary *out, const aml_dataset *d, const aml_space *space,
                   const aml_search_type *strategy, const aml_run_options *opt,
                   aml_run_trial_cb cb, void *payload);
void aml_run_summary_dispose(aml_run_summary *s);

/* Sets BLAS's own thread count (OpenBLAS), so callers need not know the library. */
void aml_blas_threads(int n);
/* The thread count `threads` resolves to (<= 0: every core OpenMP reports). */
int aml_resolve_threads(int threads);

#endif
