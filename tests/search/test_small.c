/*
 * test_small.c - every strategy (grid, random, bayes, genetic) on small
 * spaces: exhaustion, no duplicates, degenerate domains (lo == hi), a flat
 * objective, all trials failing, and a single-point space.
 *
 * Driven through aml_search_new/ask/tell in the runner's rhythm: a batch of
 * 8 asks, then the 8 results told in trial order.  The expectations are
 * counts worked out by hand in the comments of each space, and properties
 * (distinct, in bounds, deterministic), never fitted numbers.
 */
#include "testutil.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"
#include "search.h"

#define BATCH 8
#define MAXN 400

static const aml_search_type *const strategies[] = {
    &aml_search_grid,
    &aml_search_random,
    &aml_search_bayes,
    &aml_search_genetic,
};
#define N_STRATEGIES (sizeof(strategies) / sizeof(strategies[0]))

static void add_dim(aml_space_learner *l, const char *name, aml_domain dom,
                    aml_vkind kind, double lo, double hi, const aml_value *ch,
                    size_t n_ch)
{
    assert_non_null(aml_space_add_dim(l, name, dom, kind, lo, hi, ch, n_ch));
}

static aml_space_learner *add_learner(aml_space *s, const char *name)
{
    aml_space_learner *l = aml_space_add_learner(s, name);

    assert_non_null(l);
    return l;
}

/*
 * 14 points over three learners:
 *   a: split in {x, y, z} x depth int [1, 3]                   3 * 3 = 9
 *   b: leaf int_log [2, 5] x fixed "auto"                      4 * 1 = 4
 *   c: degenerate ranges u uniform [3, 3], k int [7, 7],
 *      g log_uniform [2, 2], m int_log [4, 4]                 1 * 1 * 1 * 1 = 1
 * (grid: a degenerate real range has one grid point however many `grid` asks.)
 */
static aml_space *finite_space(void)
{
    aml_value xyz[3] = {{.kind = AML_VAL_STR, .str = "x"},
                        {.kind = AML_VAL_STR, .str = "y"},
                        {.kind = AML_VAL_STR, .str = "z"}};
    aml_value mode = {.kind = AML_VAL_STR, .str = "auto"};
    aml_space *s = aml_space_new();
    aml_space_learner *l;

    assert_non_null(s);
    l = add_learner(s, "a");
    add_dim(l, "split", AML_DOM_CHOICE, AML_VAL_STR, 0, 0, xyz, 3);
    add_dim(l, "depth", AML_DOM_INT, AML_VAL_INT, 1, 3, NULL, 0);
    l = add_learner(s, "b");
    add_dim(l, "leaf", AML_DOM_INT_LOG, AML_VAL_INT, 2, 5, NULL, 0);
    add_dim(l, "mode", AML_DOM_FIXED, AML_VAL_STR, 0, 0, &mode, 1);
    l = add_learner(s, "c");
    add_dim(l, "u", AML_DOM_UNIFORM, AML_VAL_REAL, 3, 3, NULL, 0);
    add_dim(l, "k", AML_DOM_INT, AML_VAL_INT, 7, 7, NULL, 0);
    add_dim(l, "g", AML_DOM_LOG_UNIFORM, AML_VAL_REAL, 2, 2, NULL, 0);
    add_dim(l, "m", AML_DOM_INT_LOG, AML_VAL_INT, 4, 4, NULL, 0);
    return s;
}

/*
 * One learner, int [1, 6] x choice {p, q, r}: 18 points.  Bayes' design
 * is 2 * (1 + 3) + 1 = 9 trials here, so its GP proposes the other 9.
 */
static aml_space *model_space(void)
{
    aml_value pqr[3] = {{.kind = AML_VAL_STR, .str = "p"},
                        {.kind = AML_VAL_STR, .str = "q"},
                        {.kind = AML_VAL_STR, .str = "r"}};
    aml_space *s = aml_space_new();
    aml_space_learner *l;

    assert_non_null(s);
    l = add_learner(s, "m");
    add_dim(l, "n", AML_DOM_INT, AML_VAL_INT, 1, 6, NULL, 0);
    add_dim(l, "c", AML_DOM_CHOICE, AML_VAL_STR, 0, 0, pqr, 3);
    return s;
}

/* Infinite: a real range and a wide integer range, plus a degenerate one. */
static aml_space *open_space(void)
{
    aml_space *s = aml_space_new();
    aml_space_learner *l;

    assert_non_null(s);
    l = add_learner(s, "o");
    add_dim(l, "x", AML_DOM_UNIFORM, AML_VAL_REAL, 0, 1, NULL, 0);
    add_dim(l, "n", AML_DOM_INT, AML_VAL_INT, 1, 1000, NULL, 0);
    add_dim(l, "same", AML_DOM_UNIFORM, AML_VAL_REAL, 0.25, 0.25, NULL, 0);
    return s;
}

/* ---- objectives and the loop ---------------------------------------------- */

typedef enum { OBJ_SMOOTH, OBJ_FLAT, OBJ_FAIL } objective;

/* A deterministic score of every value (strings by their first letter). */
static double smooth(const aml_config *c)
{
    double s = (double)c->learner;
    size_t j;

    for (j = 0; j < c->n_params; j++) {
        const aml_value *v = &c->params[j].value;

        s -= v->kind == AML_VAL_STR ? 0.1 * (v->str[0] - 'a')
                                    : fabs(aml_value_as_real(v) - 2.5);
    }
    return s;
}

static void check_in_space(const aml_space *sp, const aml_config *c)
{
    const aml_space_learner *l;
    size_t j, k;

    assert_true(c->learner < sp->n_learners);
    l = &sp->learners[c->learner];
    assert_int_equal(c->n_params, l->n_dims);
    for (j = 0; j < l->n_dims; j++) {
        const aml_dim *d = &l->dims[j];
        const aml_value *v = &c->params[j].value;

        assert_string_equal(c->params[j].name, d->name);
        assert_int_equal(v->kind, d->kind);
        if (d->domain == AML_DOM_CHOICE || d->domain == AML_DOM_FIXED) {
            for (k = 0; k < d->n_choices; k++)
                if (v->kind == AML_VAL_STR ? strcmp(v->str, d->choices[k].str) == 0
                                           : v->i == d->choices[k].i)
                    break;
            assert_true(k < d->n_choices);
        } else {
            double x = aml_value_as_real(v);

            assert_true(x >= d->lo && x <= d->hi);
            if (d->lo == d->hi)
                assert_true(x == d->lo); /* degenerate: exactly its one value */
        }
    }
}

/*
 * Asks up to n trials in batches of 8 and tells them; keeps copies in
 * out[]; returns the number proposed before AML_EXHAUSTED.  Every proposal
 * is checked against the space and against every earlier one.
 */
static size_t drive(const aml_search_type *type, const aml_space *sp, uint64_t seed,
                    size_t n, objective obj, aml_config *out)
{
    aml_search *s = NULL;
    aml_config c[BATCH], extra;
    size_t t = 0, got, k, u;
    int rc = 0;

    assert_true(n <= MAXN);
    assert_int_equal(aml_search_new(&s, type, sp, seed), 0);
    while (t < n && rc == 0) {
        for (got = 0; got < BATCH && t + got < n; got++)
            if ((rc = aml_search_ask(s, (long)(t + got), &c[got])) != 0)
                break;
        if (rc != 0) {
            assert_int_equal(rc, AML_EXHAUSTED);
            assert_null(c[got].params);
        }
        for (k = 0; k < got; k++) {
            check_in_space(sp, &c[k]);
            for (u = 0; u < t + k; u++)
                if (aml_config_equal(&c[k], &out[u]))
                    fail_msg("%s: trial %zu repeats trial %zu", type->name, t + k, u);
            assert_int_equal(aml_config_copy(&out[t + k], &c[k]), 0);
            aml_search_tell(s, &c[k],
                            obj == OBJ_FLAT   ? 1.0
                            : obj == OBJ_FAIL ? NAN
                                              : smooth(&c[k]),
                            obj != OBJ_FAIL);
            aml_config_dispose(&c[k]);
        }
        t += got;
    }
    if (rc == AML_EXHAUSTED) /* exhausted for good */
        for (k = 0; k < 3; k++) {
            assert_int_equal(aml_search_ask(s, (long)(t + k), &extra), AML_EXHAUSTED);
            assert_null(extra.params);
        }
    aml_search_free(s);
    return t;
}

static void dispose_all(aml_config *c, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        aml_config_dispose(&c[i]);
}

static aml_config *configs(void)
{
    aml_config *c = calloc(MAXN, sizeof(*c));

    assert_non_null(c);
    return c;
}

/* ---- tests ------------------------------------------------------------------- */

/* Each strategy proposes the 14 points once each, then answers AML_EXHAUSTED. */
static void exhaust(objective obj)
{
    aml_space *sp = finite_space();
    aml_config *a = configs();
    size_t i, n, per[3];
    uint64_t seed;

    for (i = 0; i < N_STRATEGIES; i++)
        for (seed = 1; seed <= 3; seed++) {
            n = drive(strategies[i], sp, seed, 100, obj, a);
            if (n != 14)
                fail_msg("%s seed %u: %zu proposals, want 14", strategies[i]->name,
                         (unsigned)seed, n);
            memset(per, 0, sizeof(per));
            for (n = 0; n < 14; n++)
                per[a[n].learner]++;
            assert_int_equal(per[0], 9);
            assert_int_equal(per[1], 4);
            assert_int_equal(per[2], 1);
            dispose_all(a, 14);
        }
    free(a);
    aml_space_free(sp);
}

static void test_small_exhaustion(void **st)
{
    (void)st;
    exhaust(OBJ_SMOOTH);
}

static void test_small_flat_finite(void **st)
{
    (void)st;
    exhaust(OBJ_FLAT);
}

static void test_small_all_fail_finite(void **st)
{
    (void)st;
    exhaust(OBJ_FAIL);
}

/* Bayes past its design on a finite space: the GP's proposals never repeat either. */
static void test_small_model_phase_exhausts(void **st)
{
    aml_space *sp = model_space();
    aml_config *a = configs();
    objective objs[3] = {OBJ_SMOOTH, OBJ_FLAT, OBJ_FAIL};
    size_t i, k;

    (void)st;
    for (i = 0; i < N_STRATEGIES; i++)
        for (k = 0; k < 3; k++) {
            size_t n = drive(strategies[i], sp, 5 + k, 100, objs[k], a);

            if (n != 18)
                fail_msg("%s objective %zu: %zu proposals, want 18", strategies[i]->name,
                         k, n);
            dispose_all(a, n);
        }
    free(a);
    aml_space_free(sp);
}

/*
 * An infinite space under a flat objective and under all-failing trials:
 * 64 distinct proposals in bounds, the degenerate dimension always 0.25.
 */
static void test_small_open_flat_and_failing(void **st)
{
    aml_space *sp = open_space();
    aml_config *a = configs();
    objective objs[2] = {OBJ_FLAT, OBJ_FAIL};
    size_t i, k;

    (void)st;
    for (i = 0; i < N_STRATEGIES; i++)
        for (k = 0; k < 2; k++) {
            assert_int_equal(drive(strategies[i], sp, 3, 64, objs[k], a), 64);
            dispose_all(a, 64);
        }
    free(a);
    aml_space_free(sp);
}

/* One learner whose every dimension is fixed or degenerate: one point, then exhausted. */
static void test_small_single_point(void **st)
{
    aml_value v = {.kind = AML_VAL_INT, .i = 5};
    aml_space *sp = aml_space_new();
    aml_space_learner *l = add_learner(sp, "only");
    aml_config *a = configs();
    size_t i;

    (void)st;
    add_dim(l, "n", AML_DOM_FIXED, AML_VAL_INT, 0, 0, &v, 1);
    add_dim(l, "x", AML_DOM_UNIFORM, AML_VAL_REAL, 1.5, 1.5, NULL, 0);
    add_dim(l, "k", AML_DOM_INT_LOG, AML_VAL_INT, 9, 9, NULL, 0);
    for (i = 0; i < N_STRATEGIES; i++) {
        assert_int_equal(drive(strategies[i], sp, 1, 20, OBJ_SMOOTH, a), 1);
        assert_int_equal(a[0].params[0].value.i, 5);
        assert_true(a[0].params[1].value.real == 1.5);
        assert_int_equal(a[0].params[2].value.i, 9);
        dispose_all(a, 1);
    }
    /* A learner with no dimensions at all is a single point too. */
    aml_space_free(sp);
    sp = aml_space_new();
    add_learner(sp, "bare");
    for (i = 0; i < N_STRATEGIES; i++) {
        assert_int_equal(drive(strategies[i], sp, 1, 20, OBJ_FLAT, a), 1);
        assert_int_equal(a[0].n_params, 0);
        dispose_all(a, 1);
    }
    free(a);
    aml_space_free(sp);
}

/* Same seed, same results told: the same sequence, for every strategy. */
static void test_small_deterministic(void **st)
{
    aml_space *sp = finite_space(), *op = open_space();
    aml_config *a = configs(), *b = configs();
    size_t i, t, n;

    (void)st;
    for (i = 0; i < N_STRATEGIES; i++) {
        n = drive(strategies[i], sp, 77, 100, OBJ_SMOOTH, a);
        assert_int_equal(drive(strategies[i], sp, 77, 100, OBJ_SMOOTH, b), n);
        for (t = 0; t < n; t++)
            assert_true(aml_config_equal(&a[t], &b[t]));
        dispose_all(a, n);
        dispose_all(b, n);
        n = drive(strategies[i], op, 77, 40, OBJ_SMOOTH, a);
        assert_int_equal(drive(strategies[i], op, 77, 40, OBJ_SMOOTH, b), n);
        for (t = 0; t < n; t++)
            assert_true(aml_config_equal(&a[t], &b[t]));
        dispose_all(a, n);
        dispose_all(b, n);
    }
    free(a);
    free(b);
    aml_space_free(sp);
    aml_space_free(op);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_exhaustion),
        cmocka_unit_test(test_small_flat_finite),
        cmocka_unit_test(test_small_all_fail_finite),
        cmocka_unit_test(test_small_model_phase_exhausts),
        cmocka_unit_test(test_small_open_flat_and_failing),
        cmocka_unit_test(test_small_single_point),
        cmocka_unit_test(test_small_deterministic),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
