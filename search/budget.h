/*
 * budget.h - when a search stops, shared by every strategy.
 *
 * One struct holds every limit; the runner checks it between batches.  A
 * limit of 0 means none.  The reason is returned as a positive status so it
 * can be printed and stored.
 */
#ifndef AML_BUDGET_H
#define AML_BUDGET_H

typedef enum aml_stop_reason {
    AML_STOP_NONE = 0,
    AML_STOP_TRIALS = 1,    /* the trial budget is spent */
    AML_STOP_EXHAUSTED = 2, /* the strategy has nothing more to propose */
    AML_STOP_TIME = 3,      /* the wall-time budget is spent */
    AML_STOP_REQUESTED = 4, /* the stop flag was raised (SIGINT) */
} aml_stop_reason;

typedef struct aml_budget {
    long max_trials;
    double max_seconds;
    volatile int stop_flag;
} aml_budget;

/* Why the search must stop now, or AML_STOP_NONE to go on. */
aml_stop_reason aml_budget_check(const aml_budget *b, long trials_done, double elapsed);
const char *aml_stop_reason_name(aml_stop_reason r);

#endif
