/*
 * deadline.c - the per-thread cooperative deadline (see aml.h).
 *
 * Checking costs one clock_gettime (a vDSO call, tens of nanoseconds), so
 * learners may check once per iteration of their outer loops without a
 * measurable cost; the clock is read only when a deadline is set.
 */
#include "aml.h"

#include <time.h>

static _Thread_local double deadline_at;

static double deadline_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void aml_deadline_set(double unix_seconds)
{
    deadline_at = unix_seconds > 0 ? unix_seconds : 0.0;
}

double aml_deadline_get(void)
{
    return deadline_at;
}

int aml_deadline_passed(double deadline)
{
    return deadline > 0 && deadline_now() > deadline;
}

int aml_deadline_check(void)
{
    if (!aml_deadline_passed(deadline_at))
        return AML_OK;
    return aml_error_set(AML_ETIMEOUT, "stopped at the trial's time limit");
}
