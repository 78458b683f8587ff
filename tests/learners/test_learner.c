/*
 * test_learner.c - the generic learner layer: parameter checks (numbers,
 * bounds, words, numbers-or-words, custom checks) and the registry.
 */
#include "testutil.h"

#include "aml.h"
#include "learner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fraction_words[] = {"sqrt", "log2", NULL};
static const char *const kernel_words[] = {"rbf", "linear", NULL};

/* Accepts "N" or "NxM..." with every size in [1, 4096]. */
static const char *layers_check(const aml_param_def *def, const aml_value *v, char *buf,
                                size_t n)
{
    const char *p = v->kind == AML_VAL_STR ? v->str : "";
    char *end;
    long x;

    if (v->kind == AML_VAL_INT && v->i >= 1 && v->i <= 4096)
        return NULL;
    for (;;) {
        x = strtol(p, &end, 10);
        if (end == p || x < 1 || x > 4096 || (*end != 'x' && *end != '\0'))
            break;
        if (*end == '\0')
            return NULL;
        p = end + 1;
    }
    snprintf(buf, n, "'%s' must look like 64 or 64x32", def->name);
    return buf;
}

static const aml_param_def defs[] = {
    {.name = "C", .kind = AML_VAL_REAL, .lo = 0, .hi = INFINITY, .lo_open = 1},
    {.name = "k", .kind = AML_VAL_INT, .lo = 1, .hi = 100},
    {.name = "kernel", .kind = AML_VAL_STR, .choices = kernel_words},
    {.name = "max_features", .kind = AML_VAL_REAL, .lo = 0, .hi = 1, .lo_open = 1,
     .choices = fraction_words},
    {.name = "layers", .kind = AML_VAL_STR, .check = layers_check},
};

static const char *check(int i, aml_value v)
{
    static char buf[256];

    return aml_param_check(&defs[i], &v, buf, sizeof(buf));
}

static aml_value real(double x)
{
    aml_value v = {.kind = AML_VAL_REAL, .real = x};
    return v;
}

static aml_value integer(long long x)
{
    aml_value v = {.kind = AML_VAL_INT, .i = x};
    return v;
}

static aml_value word(const char *s)
{
    aml_value v = {.kind = AML_VAL_STR, .str = s};
    return v;
}

static void test_learner_param_numbers(void **state)
{
    (void)state;
    assert_null(check(0, real(0.5)));
    assert_null(check(0, integer(3))); /* ints are fine for reals */
    assert_string_equal(check(0, real(0)), "'C' must be > 0, not 0");
    assert_string_equal(check(0, real(-1)), "'C' must be > 0, not -1");
    assert_string_equal(check(0, word("big")), "'C' takes a number, not 'big'");
    assert_null(check(1, real(5.0))); /* a whole real is fine for ints */
    assert_string_equal(check(1, real(2.5)), "'k' must be an integer, not 2.5");
    assert_string_equal(check(1, integer(0)), "'k' must be >= 1, not 0");
    assert_string_equal(check(1, integer(101)), "'k' must be <= 100, not 101");
    assert_string_equal(check(1, real(NAN)), "'k' must be a number");
}

static void test_learner_param_words(void **state)
{
    (void)state;
    assert_null(check(2, word("rbf")));
    assert_string_equal(check(2, word("poly")),
                        "'kernel' must be one of rbf, linear, not 'poly'");
    assert_string_equal(check(2, real(1)), "'kernel' takes a word, not a number");
    /* Numbers or words. */
    assert_null(check(3, word("sqrt")));
    assert_null(check(3, real(0.25)));
    assert_string_equal(check(3, real(1.5)), "'max_features' must be <= 1, not 1.5");
    assert_string_equal(check(3, word("half")),
                        "'max_features' takes a number or one of sqrt, log2, not 'half'");
    /* A custom check replaces the table. */
    assert_null(check(4, word("64x32")));
    assert_null(check(4, integer(64)));
    assert_string_equal(check(4, word("64x")), "'layers' must look like 64 or 64x32");
    assert_string_equal(check(4, word("0")), "'layers' must look like 64 or 64x32");
}

static void test_learner_registry(void **state)
{
    size_t i;

    (void)state;
    assert_null(aml_learner_type_find("no_such_learner"));
    for (i = 0; aml_learner_types[i]; i++) {
        const aml_learner_type *t = aml_learner_types[i];
        const aml_param_def *d;

        assert_ptr_equal(aml_learner_type_find(t->name), t);
        assert_true(t->tasks != 0);
        /* Every default value passes its own check, and has a doc line. */
        for (d = t->params; d && d->name; d++) {
            char buf[256];

            assert_ptr_equal(aml_learner_param_find(t, d->name), d);
            if (aml_param_check(d, &d->def, buf, sizeof(buf)))
                fail_msg("%s.%s: default fails: %s", t->name, d->name, buf);
            assert_non_null(d->doc);
        }
        /* A declared resource parameter is an integer one (the pipeline scales it). */
        if (t->resource_param) {
            d = aml_learner_param_find(t, t->resource_param);
            if (!d || d->kind != AML_VAL_INT || d->def.kind != AML_VAL_INT)
                fail_msg("%s: resource_param '%s' is not an integer parameter", t->name,
                         t->resource_param);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learner_param_numbers),
        cmocka_unit_test(test_learner_param_words),
        cmocka_unit_test(test_learner_registry),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
