/*
 * budget.c - the one stopping test every strategy shares (see budget.h).
 *
 * As in NLopt's shared stopping struct, keeping the limits in one place
 * means "trial budget" and "time budget" mean the same thing whatever the
 * strategy.  The runner checks between batches, so a batch already started
 * always finishes; the order of the tests below decides which reason is
 * reported when several hold at once: an interrupt first (the user asked),
 * then the trial count (exact), then patience (exact, from the results),
 * then the clock.  Patience is early stopping on a plateau in the sense of
 * Prechelt, "Early Stopping - But When?" (1998), applied to trials instead
 * of epochs.
 */
#include "budget.h"

#include <assert.h>

aml_stop_reason aml_budget_stop(const aml_budget *b, const aml_budget_progress *p)
{
    assert(b && p);
    if (b->stop_flag)
        return AML_STOP_REQUESTED;
    if (b->max_trials > 0 && p->trials_done >= b->max_trials)
        return AML_STOP_TRIALS;
    if (b->patience > 0 && p->since_best >= b->patience)
        return AML_STOP_PATIENCE;
    if (b->max_seconds > 0 && p->elapsed >= b->max_seconds)
        return AML_STOP_TIME;
    return AML_STOP_NONE;
}

aml_stop_reason aml_budget_check(const aml_budget *b, long trials_done, double elapsed)
{
    aml_budget_progress p = {trials_done, 0, elapsed};

    return aml_budget_stop(b, &p);
}

const char *aml_stop_reason_name(aml_stop_reason r)
{
    switch (r) {
    case AML_STOP_NONE:
        return "none";
    case AML_STOP_TRIALS:
        return "trial budget spent";
    case AML_STOP_EXHAUSTED:
        return "search space exhausted";
    case AML_STOP_TIME:
        return "time budget spent";
    case AML_STOP_REQUESTED:
        return "interrupted";
    case AML_STOP_PATIENCE:
        return "no improvement within the patience";
    }
    return "unknown";
}
