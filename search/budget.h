/*
 * budget.h - when a search stops, shared by every strategy.
 *
 * One struct holds every limit; the runner checks it between batches.  A
 * limit of 0 means none.  The reason is returned as a positive status so it
 * can be printed and stored.  trial_seconds is not a stopping rule of the
 * search: the runner applies it to each trial (see trials/runner.h).
 */
#ifndef AML_BUDGET_H
#define AML_BUDGET_H

typedef enum aml_stop_reason {
    AML_STOP_NONE = 0,
    AML_STOP_TRIALS = 1,    /* the trial budget is spent */
    AML_STOP_EXHAUSTED = 2, /* the strategy has nothing more to propose */
    AML_STOP_TIME = 3,      /* the wall-time budget is spent */
    AML_STOP_REQUESTED = 4, /* the stop flag was raised (SIGINT) */
    AML_STOP_PATIENCE = 5,  /* `patience` finished trials without a better best */
} aml_stop_reason;

typedef struct aml_budget {
    long max_trials;
    double max_seconds; /* wall time of this run (spec: search.time_budget) */
    volatile int stop_flag;
    long patience;        /* finished trials without improvement (search.patience) */
    double trial_seconds; /* per-trial limit, applied by the runner (trial_timeout) */
} aml_budget;

/* Where the search stands when the budget is checked. */
typedef struct aml_budget_progress {
    long trials_done; /* finished trials, ok or failed */
    long since_best;  /* finished trials since the best last improved (or since start) */
    double elapsed;   /* seconds since this run started */
} aml_budget_progress;

/* Why the search must stop now, or AML_STOP_NONE to go on (all rules). */
aml_stop_reason aml_budget_stop(const aml_budget *b, const aml_budget_progress *p);
/* The same without the patience rule (kept for callers that do not track it). */
aml_stop_reason aml_budget_check(const aml_budget *b, long trials_done, double elapsed);
const char *aml_stop_reason_name(aml_stop_reason r);

#endif
