/*
 * test_store_ensemble.c - the ensemble table (schema 5): save, replace, read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"
#include "store.h"
#include "testutil.h"

typedef struct seen {
    int calls;
    char method[32];
    double score, best;
    char members[256];
} seen;

static int keep(const aml_ensemble_info *e, void *payload)
{
    seen *s = payload;

    s->calls++;
    snprintf(s->method, sizeof(s->method), "%s", e->method);
    s->score = e->score;
    s->best = e->best_trial_score;
    snprintf(s->members, sizeof(s->members), "%s", e->members_json);
    return 0;
}

static aml_store *open_study(const char *name, long long *id)
{
    char path[512];
    aml_store *st;
    aml_study_info info = {.name = "s",
                           .task = "classification",
                           .metric = "accuracy",
                           .greater_is_better = 1,
                           .seed = 1};

    snprintf(path, sizeof(path), "%s/%s", aml_test_tmpdir(), name);
    remove(path);
    assert_int_equal(aml_store_open(&st, path, 0), 0);
    assert_int_equal(aml_store_study_create(st, id, &info, 0), 0);
    return st;
}

static void test_ensemble_roundtrip(void **state)
{
    const long trials[] = {4, 0, 7};
    const double weights[] = {0.5, 0.25, 0.25};
    aml_ensemble_row row = {.method = "selection",
                            .score = 0.875,
                            .best_trial_score = 0.86,
                            .member_trials = trials,
                            .member_weights = weights,
                            .n_members = 3,
                            .created_at = 1.0};
    seen s = {0};
    long long id;
    aml_store *st = open_study("ens.db", &id);

    (void)state;
    /* No ensemble yet: the callback is not called. */
    assert_int_equal(aml_store_ensemble_read(st, id, keep, &s), 0);
    assert_int_equal(s.calls, 0);

    assert_int_equal(aml_store_ensemble_save(st, id, &row), 0);
    assert_int_equal(aml_store_ensemble_read(st, id, keep, &s), 0);
    assert_int_equal(s.calls, 1);
    assert_string_equal(s.method, "selection");
    assert_true(s.score == 0.875 && s.best == 0.86);
    assert_string_equal(s.members,
                        "[{\"trial\":4,\"weight\":0.5},{\"trial\":0,\"weight\":0.25},"
                        "{\"trial\":7,\"weight\":0.25}]");

    /* Saving again replaces; stacking members have no weight, a NaN score is NULL. */
    row.method = "stacking";
    row.member_weights = NULL;
    row.n_members = 2;
    row.score = NAN;
    assert_int_equal(aml_store_ensemble_save(st, id, &row), 0);
    memset(&s, 0, sizeof(s));
    assert_int_equal(aml_store_ensemble_read(st, id, keep, &s), 0);
    assert_int_equal(s.calls, 1);
    assert_string_equal(s.method, "stacking");
    assert_true(isnan(s.score));
    assert_string_equal(s.members,
                        "[{\"trial\":4,\"weight\":null},{\"trial\":0,\"weight\":null}]");
    aml_store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ensemble_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
