/*
 * test_space.c - the search space: building, sampling, grid points and
 * configurations.
 *
 * Expected values are hand computations written beside each check.
 * Statistical checks use a fixed seed (so they are deterministic) and
 * bounds of about five standard deviations, wide enough for any seed yet
 * narrow enough to catch a wrong distribution (a plain uniform draw in
 * place of a log-uniform one fails them by a wide margin).
 */
#include "testutil.h"

#include "aml.h"
#include "space.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static aml_value word(const char *s)
{
    aml_value v = {.kind = AML_VAL_STR, .str = s};

    return v;
}

static aml_value integer(long long i)
{
    aml_value v = {.kind = AML_VAL_INT, .i = i};

    return v;
}

/* One learner "m" with one dimension of every domain, in aml_domain order. */
static aml_space *make_space(void)
{
    aml_space *s = aml_space_new();
    aml_space_learner *l;
    aml_value abc[3] = {word("a"), word("b"), word("c")};
    aml_value fixed = integer(42);

    assert_non_null(s);
    l = aml_space_add_learner(s, "m");
    assert_non_null(l);
    assert_non_null(
        aml_space_add_dim(l, "fixed", AML_DOM_FIXED, AML_VAL_INT, 0, 0, &fixed, 1));
    assert_non_null(
        aml_space_add_dim(l, "kernel", AML_DOM_CHOICE, AML_VAL_STR, 0, 0, abc, 3));
    assert_non_null(
        aml_space_add_dim(l, "x", AML_DOM_UNIFORM, AML_VAL_REAL, 0.5, 2.5, NULL, 0));
    assert_non_null(
        aml_space_add_dim(l, "C", AML_DOM_LOG_UNIFORM, AML_VAL_REAL, 1e-3, 1e3, NULL, 0));
    assert_non_null(aml_space_add_dim(l, "k", AML_DOM_INT, AML_VAL_INT, 3, 7, NULL, 0));
    assert_non_null(
        aml_space_add_dim(l, "n", AML_DOM_INT_LOG, AML_VAL_INT, 1, 1000, NULL, 0));
    return s;
}

static void test_space_build(void **state)
{
    aml_space *s = make_space();
    const aml_space_learner *l = &s->learners[0];
    char name[] = "temp";
    aml_value v = word(name);
    aml_space_learner *l2;

    assert_int_equal(s->n_learners, 1);
    assert_string_equal(l->name, "m");
    assert_int_equal(l->n_dims, 6);
    assert_string_equal(l->dims[1].name, "kernel");
    assert_int_equal(l->dims[1].n_choices, 3);
    assert_string_equal(l->dims[1].choices[2].str, "c");
    assert_int_equal(l->dims[0].choices[0].i, 42);
    /* Ranges carry no choices; INT gets grid 0 (every integer), others 5. */
    assert_int_equal(l->dims[2].n_choices, 0);
    assert_int_equal(l->dims[2].grid, 5);
    assert_int_equal(l->dims[4].grid, 0);
    assert_int_equal(l->dims[5].grid, 5);

    /* The space copies choice strings: changing the caller's buffer changes nothing. */
    l2 = aml_space_add_learner(s, "other");
    assert_non_null(aml_space_add_dim(l2, "w", AML_DOM_CHOICE, AML_VAL_STR, 0, 0, &v, 1));
    name[0] = 'X';
    assert_string_equal(s->learners[1].dims[0].choices[0].str, "temp");
    aml_space_free(s);
    aml_space_free(NULL);
}

static void test_space_add_dim_rejects(void **state)
{
    aml_space *s = aml_space_new();
    aml_space_learner *l = aml_space_add_learner(s, "m");
    aml_value two[2] = {integer(1), integer(2)};

    assert_null(aml_space_add_dim(l, "c", AML_DOM_CHOICE, AML_VAL_STR, 0, 0, NULL, 0));
    assert_int_equal(aml_error_code(), AML_EINVAL);
    assert_null(aml_space_add_dim(l, "f", AML_DOM_FIXED, AML_VAL_INT, 0, 0, two, 2));
    assert_null(aml_space_add_dim(l, "u", AML_DOM_UNIFORM, AML_VAL_REAL, 2, 1, NULL, 0));
    assert_null(
        aml_space_add_dim(l, "g", AML_DOM_LOG_UNIFORM, AML_VAL_REAL, 0, 1, NULL, 0));
    assert_null(aml_space_add_dim(l, "h", AML_DOM_INT_LOG, AML_VAL_INT, -1, 5, NULL, 0));
    assert_null(aml_space_add_dim(l, "i", AML_DOM_INT, AML_VAL_REAL, 1, 5, NULL, 0));
    assert_null(aml_space_add_dim(l, "j", AML_DOM_INT, AML_VAL_INT, 1.5, 5, NULL, 0));
    assert_null(
        aml_space_add_dim(l, "v", AML_DOM_UNIFORM, AML_VAL_REAL, 0, INFINITY, NULL, 0));
    assert_int_equal(l->n_dims, 0);
    aml_space_free(s);
}

static int value_same(const aml_value *a, const aml_value *b)
{
    if (a->kind != b->kind)
        return 0;
    if (a->kind == AML_VAL_STR)
        return a->str == b->str;
    return a->kind == AML_VAL_INT ? a->i == b->i : a->real == b->real;
}

static void test_sample_bounds_and_determinism(void **state)
{
    aml_space *s = make_space();
    const aml_space_learner *l = &s->learners[0];
    aml_rng r1, r2, r3;
    aml_value a, b, c;
    size_t i, j, differ = 0;

    aml_rng_init(&r1, 7, 3);
    aml_rng_init(&r2, 7, 3);
    aml_rng_init(&r3, 8, 3);
    for (i = 0; i < 5000; i++) {
        for (j = 0; j < l->n_dims; j++) {
            const aml_dim *d = &l->dims[j];

            aml_dim_sample(d, &r1, &a);
            aml_dim_sample(d, &r2, &b);
            aml_dim_sample(d, &r3, &c);
            assert_true(value_same(&a, &b)); /* same seed and stream: same draws */
            differ += !value_same(&a, &c);
            if (d->domain == AML_DOM_FIXED) {
                assert_int_equal(a.kind, AML_VAL_INT);
                assert_int_equal(a.i, 42);
            } else if (d->domain == AML_DOM_CHOICE) {
                /* Borrowed from the space, not copied. */
                assert_true(a.str == d->choices[0].str || a.str == d->choices[1].str ||
                            a.str == d->choices[2].str);
            } else {
                double x = aml_value_as_real(&a);

                assert_int_equal(a.kind, d->kind);
                assert_true(x >= d->lo && x <= d->hi);
                if (a.kind == AML_VAL_INT)
                    assert_true(x == floor(x));
            }
        }
    }
    /* Another seed gives other draws (all but FIXED, and CHOICE 2/3 of the time). */
    assert_true(differ > 5000 * 3);
    aml_space_free(s);
}

/*
 * INT [3, 7]: five values, each with probability 1/5.  In 5000 draws each
 * count is Binomial(5000, 0.2): mean 1000, sd sqrt(5000 * 0.2 * 0.8) = 28.3;
 * +-150 is over five sd.
 */
static void test_sample_int_uniform(void **state)
{
    aml_space *s = make_space();
    const aml_dim *d = &s->learners[0].dims[4];
    size_t counts[5] = {0}, i;
    aml_rng r;
    aml_value v;

    aml_rng_init(&r, 11, 0);
    for (i = 0; i < 5000; i++) {
        aml_dim_sample(d, &r, &v);
        assert_true(v.i >= 3 && v.i <= 7);
        counts[v.i - 3]++;
    }
    for (i = 0; i < 5; i++)
        assert_true(counts[i] > 850 && counts[i] < 1150);
    aml_space_free(s);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/*
 * LOG_UNIFORM [1e-3, 1e3]: log10 x is uniform on [-3, 3], so the median is
 * sqrt(lo * hi) = 1 and a sixth of the draws fall in each decade.  The
 * median of n = 10001 uniform draws has sd about 0.5 / sqrt(n) = 0.005 in
 * probability, i.e. 0.03 in log10 units over a width of 6; allow 0.15.
 * A plain uniform draw on [1e-3, 1e3] would put the median near 500.
 * Decade [1e-3, 1e-2): Binomial(10001, 1/6), sd 37; allow +-200.
 */
static void test_sample_log_uniform_median(void **state)
{
    aml_space *s = make_space();
    const aml_dim *d = &s->learners[0].dims[3];
    enum { N = 10001 };
    double *x = malloc(N * sizeof(double));
    size_t i, low_decade = 0;
    aml_rng r;
    aml_value v;

    assert_non_null(x);
    aml_rng_init(&r, 2024, 5);
    for (i = 0; i < N; i++) {
        aml_dim_sample(d, &r, &v);
        assert_int_equal(v.kind, AML_VAL_REAL);
        x[i] = v.real;
        low_decade += v.real < 1e-2;
    }
    qsort(x, N, sizeof(double), cmp_double);
    assert_true(fabs(log10(x[N / 2])) < 0.15);
    assert_true(low_decade > 1667 - 200 && low_decade < 1667 + 200);
    free(x);
    aml_space_free(s);
}

/*
 * INT_LOG [1, 4] draws floor(exp(U(log 1, log 5))): integer k has
 * probability log((k + 1) / k) / log 5:
 *   k=1: 0.6931/1.6094 = 0.4307   k=2: 0.4055/1.6094 = 0.2519
 *   k=3: 0.2877/1.6094 = 0.1787   k=4: 0.2231/1.6094 = 0.1386
 * With 20000 draws the largest sd is sqrt(20000 * 0.43 * 0.57) = 70;
 * allow +-350 around 8614, 5039, 3575, 2773.
 */
static void test_sample_int_log(void **state)
{
    aml_space *s = aml_space_new();
    aml_space_learner *l = aml_space_add_learner(s, "m");
    const aml_dim *d;
    const double expect[4] = {8614, 5039, 3575, 2773};
    size_t counts[4] = {0}, i;
    aml_rng r;
    aml_value v;

    d = aml_space_add_dim(l, "n", AML_DOM_INT_LOG, AML_VAL_INT, 1, 4, NULL, 0);
    assert_non_null(d);
    aml_rng_init(&r, 99, 1);
    for (i = 0; i < 20000; i++) {
        aml_dim_sample(d, &r, &v);
        assert_int_equal(v.kind, AML_VAL_INT);
        assert_true(v.i >= 1 && v.i <= 4);
        counts[v.i - 1]++;
    }
    for (i = 0; i < 4; i++)
        assert_true(fabs((double)counts[i] - expect[i]) < 350);
    aml_space_free(s);
}

/* Checks aml_dim_grid's count (with and without out) and every point. */
static void check_grid(const aml_dim *d, const double *expect, size_t n)
{
    aml_value out[64];
    size_t i;

    assert_int_equal(aml_dim_grid(d, NULL), n);
    assert_int_equal(aml_dim_grid(d, out), n);
    for (i = 0; i < n; i++) {
        assert_int_equal(out[i].kind, d->kind);
        assert_close(aml_value_as_real(&out[i]), expect[i], 1e-12);
    }
}

static void test_grid_ranges(void **state)
{
    aml_space *s = make_space();
    aml_space_learner *l = &s->learners[0];
    aml_value out[8];
    /* 0.5 + i * (2.5 - 0.5) / 4 */
    const double uni[5] = {0.5, 1.0, 1.5, 2.0, 2.5};
    /* 10^(-3 + 6 i / 4): 10^-1.5 = 0.0316227766, 10^1.5 = 31.6227766 */
    const double logu[5] = {1e-3, 0.031622776601683794, 1.0, 31.622776601683793, 1e3};
    const double logu7[7] = {1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3};
    const double ints[5] = {3, 4, 5, 6, 7};
    /* 1000^(i/4) = 1, 5.62, 31.62, 177.8, 1000, rounded */
    const double intlog[5] = {1, 6, 32, 178, 1000};

    check_grid(&l->dims[2], uni, 5);
    check_grid(&l->dims[3], logu, 5);
    l->dims[3].grid = 7;
    check_grid(&l->dims[3], logu7, 7);
    check_grid(&l->dims[4], ints, 5); /* grid 0: every integer */
    check_grid(&l->dims[5], intlog, 5);

    /* FIXED and CHOICE: their values in order, strings borrowed. */
    assert_int_equal(aml_dim_grid(&l->dims[0], out), 1);
    assert_int_equal(out[0].i, 42);
    assert_int_equal(aml_dim_grid(&l->dims[1], out), 3);
    assert_ptr_equal(out[1].str, l->dims[1].choices[1].str);
    aml_space_free(s);
}

static void test_grid_integer_spacing(void **state)
{
    aml_space *s = aml_space_new();
    aml_space_learner *l = aml_space_add_learner(s, "m");
    aml_dim *d;
    /* [0, 10], 3 points: 0, 5, 10 */
    const double three[3] = {0, 5, 10};
    /* [0, 10], 4 points: 0, 3.33 -> 3, 6.67 -> 7, 10 */
    const double four[4] = {0, 3, 7, 10};
    /* INT_LOG [1, 10], 5 points: 10^(i/4) = 1, 1.78, 3.16, 5.62, 10 -> 1, 2, 3, 6, 10 */
    const double log10pts[5] = {1, 2, 3, 6, 10};
    /* INT_LOG [1, 8], 7 points: 8^(i/6) = 1, 1.41, 2, 2.83, 4, 5.66, 8 -> 1, 1, 2, 3,
     * 4, 6, 8; the repeated 1 is dropped: 6 points */
    const double log8pts[6] = {1, 2, 3, 4, 6, 8};
    /* INT_LOG [1, 4] with grid 5: only 4 integers, so all of them */
    const double small[4] = {1, 2, 3, 4};

    d = aml_space_add_dim(l, "a", AML_DOM_INT, AML_VAL_INT, 0, 10, NULL, 0);
    d->grid = 3;
    check_grid(d, three, 3);
    d->grid = 4;
    check_grid(d, four, 4);
    d->grid = 11; /* exactly the number of integers: every one */
    assert_int_equal(aml_dim_grid(d, NULL), 11);
    d = aml_space_add_dim(l, "b", AML_DOM_INT_LOG, AML_VAL_INT, 1, 10, NULL, 0);
    check_grid(d, log10pts, 5);
    d = aml_space_add_dim(l, "c", AML_DOM_INT_LOG, AML_VAL_INT, 1, 8, NULL, 0);
    d->grid = 7;
    check_grid(d, log8pts, 6);
    d = aml_space_add_dim(l, "d", AML_DOM_INT_LOG, AML_VAL_INT, 1, 4, NULL, 0);
    check_grid(d, small, 4);
    aml_space_free(s);
}

static void test_config_init_copy_equal(void **state)
{
    aml_space *s = make_space();
    aml_config a, b, c;
    char other[] = "b";

    assert_int_equal(aml_config_init(&a, s, 0), 0);
    assert_int_equal(a.learner, 0);
    assert_int_equal(a.n_params, 6);
    /* Initial point: first choice or low end of each range. */
    assert_string_equal(a.params[1].name, "kernel");
    assert_string_equal(a.params[1].value.str, "a");
    assert_close(a.params[3].value.real, 1e-3, 0);
    assert_int_equal(a.params[4].value.i, 3);

    assert_int_equal(aml_config_copy(&b, &a), 0);
    assert_true(aml_config_equal(&a, &b));
    assert_ptr_not_equal(a.params, b.params);
    b.params[4].value.i = 4;
    assert_false(aml_config_equal(&a, &b));
    b.params[4].value.i = 3;

    /* Strings compare by content, not by pointer. */
    a.params[1].value.str = s->learners[0].dims[1].choices[1].str;
    b.params[1].value.str = other;
    assert_true(aml_config_equal(&a, &b));
    other[0] = 'c';
    assert_false(aml_config_equal(&a, &b));
    /* A different kind (REAL 3.0 against INT 3) is a different value. */
    other[0] = 'b';
    b.params[4].value.kind = AML_VAL_REAL;
    b.params[4].value.real = 3.0;
    assert_false(aml_config_equal(&a, &b));
    b.learner = 1;
    assert_false(aml_config_equal(&a, &b));

    assert_int_equal(aml_config_init(&c, s, 1), AML_EINVAL);
    assert_null(c.params);
    aml_config_dispose(&a);
    aml_config_dispose(&b);
    aml_config_dispose(&c);
    aml_config_dispose(NULL);
    aml_space_free(s);
}

static void test_config_format(void **state)
{
    aml_space *s = make_space();
    aml_config c;
    char buf[256], small[12];

    assert_int_equal(aml_config_init(&c, s, 0), 0);
    c.params[2].value.real = 1.0 / 3.0;  /* %.6g: 0.333333 */
    c.params[3].value.real = 12345678.0; /* %.6g: 1.23457e+07 */
    c.params[5].value.i = 250;
    aml_config_format(&c, buf, sizeof(buf));
    assert_string_equal(buf, "fixed=42, kernel=a, x=0.333333, C=1.23457e+07, k=3, n=250");

    /* Truncation keeps a NUL-terminated prefix. */
    aml_config_format(&c, small, sizeof(small));
    assert_string_equal(small, "fixed=42, k");
    aml_config_dispose(&c);

    /* An empty configuration formats as "". */
    memset(&c, 0, sizeof(c));
    strcpy(buf, "junk");
    aml_config_format(&c, buf, sizeof(buf));
    assert_string_equal(buf, "");
    aml_space_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_space_build),
        cmocka_unit_test(test_space_add_dim_rejects),
        cmocka_unit_test(test_sample_bounds_and_determinism),
        cmocka_unit_test(test_sample_int_uniform),
        cmocka_unit_test(test_sample_log_uniform_median),
        cmocka_unit_test(test_sample_int_log),
        cmocka_unit_test(test_grid_ranges),
        cmocka_unit_test(test_grid_integer_spacing),
        cmocka_unit_test(test_config_init_copy_equal),
        cmocka_unit_test(test_config_format),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
