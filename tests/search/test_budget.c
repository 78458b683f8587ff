/*
 * test_budget.c - the shared stopping test (search/budget.c).
 *
 * Each case states the limits and the progress by hand and the reason the
 * header's rules give: stop flag, then trial count, then patience, then
 * wall time; a limit of 0 (or below) is no limit.
 */
#include "testutil.h"

#include <string.h>

#include "budget.h"

static void test_budget_no_limits(void **st)
{
    aml_budget b = {.max_trials = 0, .max_seconds = 0.0};

    (void)st;
    assert_int_equal(aml_budget_check(&b, 0, 0.0), AML_STOP_NONE);
    assert_int_equal(aml_budget_check(&b, 1000000, 1e9), AML_STOP_NONE);
    b.max_trials = -5; /* negative is no limit either */
    b.max_seconds = -1.0;
    assert_int_equal(aml_budget_check(&b, 1000000, 1e9), AML_STOP_NONE);
}

static void test_budget_trials(void **st)
{
    aml_budget b = {.max_trials = 25};

    (void)st;
    assert_int_equal(aml_budget_check(&b, 0, 3.5), AML_STOP_NONE);
    assert_int_equal(aml_budget_check(&b, 24, 3.5), AML_STOP_NONE);
    assert_int_equal(aml_budget_check(&b, 25, 3.5), AML_STOP_TRIALS);
    assert_int_equal(aml_budget_check(&b, 31, 3.5), AML_STOP_TRIALS);
}

static void test_budget_time(void **st)
{
    aml_budget b = {.max_seconds = 12.75};

    (void)st;
    assert_int_equal(aml_budget_check(&b, 400, 12.7499), AML_STOP_NONE);
    assert_int_equal(aml_budget_check(&b, 400, 12.75), AML_STOP_TIME);
    assert_int_equal(aml_budget_check(&b, 400, 60.0), AML_STOP_TIME);
}

/* When several limits hold, the flag wins, then trials, then time. */
static void test_budget_precedence(void **st)
{
    aml_budget b = {.max_trials = 10, .max_seconds = 2.5};

    (void)st;
    assert_int_equal(aml_budget_check(&b, 9, 2.4), AML_STOP_NONE);
    assert_int_equal(aml_budget_check(&b, 10, 2.5), AML_STOP_TRIALS);
    assert_int_equal(aml_budget_check(&b, 9, 2.5), AML_STOP_TIME);
    b.stop_flag = 1;
    assert_int_equal(aml_budget_check(&b, 10, 2.5), AML_STOP_REQUESTED);
    assert_int_equal(aml_budget_check(&b, 0, 0.0), AML_STOP_REQUESTED);
}

/* Patience: stop once since_best reaches it; aml_budget_check ignores it. */
static void test_budget_patience(void **st)
{
    aml_budget b = {0};
    aml_budget_progress p = {100, 4, 1.0};

    (void)st;
    b.patience = 5;
    assert_int_equal(aml_budget_stop(&b, &p), AML_STOP_NONE);
    p.since_best = 5;
    assert_int_equal(aml_budget_stop(&b, &p), AML_STOP_PATIENCE);
    p.since_best = 9;
    assert_int_equal(aml_budget_stop(&b, &p), AML_STOP_PATIENCE);
    assert_int_equal(aml_budget_check(&b, 100, 1.0), AML_STOP_NONE);
    b.patience = 0; /* none */
    assert_int_equal(aml_budget_stop(&b, &p), AML_STOP_NONE);
    b.patience = -3;
    assert_int_equal(aml_budget_stop(&b, &p), AML_STOP_NONE);
}

/* Flag, then trials, then patience, then time; trial_seconds never stops a search. */
static void test_budget_stop_precedence(void **st)
{
    aml_budget b = {0};
    aml_budget_progress p = {10, 3, 2.5};

    (void)st;
    b.trial_seconds = 1e-9;
    assert_int_equal(aml_budget_stop(&b, &p), AML_STOP_NONE);
    b.max_seconds = 2.5;
    assert_int_equal(aml_budget_stop(&b, &p), AML_STOP_TIME);
    b.patience = 3;
    assert_int_equal(aml_budget_stop(&b, &p), AML_STOP_PATIENCE);
    b.max_trials = 10;
    assert_int_equal(aml_budget_stop(&b, &p), AML_STOP_TRIALS);
    b.stop_flag = 1;
    assert_int_equal(aml_budget_stop(&b, &p), AML_STOP_REQUESTED);
}

static void test_budget_names(void **st)
{
    (void)st;
    assert_string_equal(aml_stop_reason_name(AML_STOP_NONE), "none");
    assert_string_equal(aml_stop_reason_name(AML_STOP_TRIALS), "trial budget spent");
    assert_string_equal(aml_stop_reason_name(AML_STOP_EXHAUSTED),
                        "search space exhausted");
    assert_string_equal(aml_stop_reason_name(AML_STOP_TIME), "time budget spent");
    assert_string_equal(aml_stop_reason_name(AML_STOP_REQUESTED), "interrupted");
    assert_string_equal(aml_stop_reason_name(AML_STOP_PATIENCE),
                        "no improvement within the patience");
    assert_string_equal(aml_stop_reason_name((aml_stop_reason)17), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budget_no_limits),
        cmocka_unit_test(test_budget_trials),
        cmocka_unit_test(test_budget_time),
        cmocka_unit_test(test_budget_precedence),
        cmocka_unit_test(test_budget_names),
        cmocka_unit_test(test_budget_patience),
        cmocka_unit_test(test_budget_stop_precedence),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
