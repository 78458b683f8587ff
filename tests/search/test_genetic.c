/*
 * test_genetic.c - the genetic-algorithm strategy (search/genetic.c).
 *
 * Driven only through the public driver (aml_search_new/ask/tell), in the
 * runner's rhythm: batches of 8 asks, then the 8 results told in trial
 * order.  Objectives are hand-coded here; the expectations are properties
 * (determinism, bounds, no repeats, exhaustion of a counted space) or a
 * comparison with random search on the same budget, not fitted numbers.
 */
#include "testutil.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"
#include "search.h"

#define BATCH 8

/* ---- spaces ------------------------------------------------------------ */

static aml_space_learner *add_learner(aml_space *s, const char *name)
{
    aml_space_learner *l = aml_space_add_learner(s, name);

    assert_non_null(l);
    return l;
}

static void add_dim(aml_space_learner *l, const char *name, aml_domain dom,
                    aml_vkind kind, double lo, double hi, const aml_value *ch,
                    size_t n_ch)
{
    assert_non_null(aml_space_add_dim(l, name, dom, kind, lo, hi, ch, n_ch));
}

/* Every domain, over three learners. */
static aml_space *mixed_space(void)
{
    aml_value abc[3] = {{.kind = AML_VAL_STR, .str = "a"},
                        {.kind = AML_VAL_STR, .str = "b"},
                        {.kind = AML_VAL_STR, .str = "c"}};
    aml_value nums[2] = {{.kind = AML_VAL_INT, .i = 4},
                         {.kind = AML_VAL_REAL, .real = 0.5}};
    aml_value fixed = {.kind = AML_VAL_REAL, .real = 0.7};
    aml_space *s = aml_space_new();
    aml_space_learner *l;

    assert_non_null(s);
    l = add_learner(s, "ridge");
    add_dim(l, "alpha", AML_DOM_UNIFORM, AML_VAL_REAL, 0.25, 2.75, NULL, 0);
    add_dim(l, "tol", AML_DOM_LOG_UNIFORM, AML_VAL_REAL, 1e-4, 10, NULL, 0);
    add_dim(l, "mix", AML_DOM_CHOICE, AML_VAL_REAL, 0, 0, nums, 2);
    l = add_learner(s, "knn");
    add_dim(l, "k", AML_DOM_INT, AML_VAL_INT, 2, 7, NULL, 0);
    add_dim(l, "leaf", AML_DOM_INT_LOG, AML_VAL_INT, 1, 1000, NULL, 0);
    l = add_learner(s, "tree");
    add_dim(l, "split", AML_DOM_CHOICE, AML_VAL_STR, 0, 0, abc, 3);
    add_dim(l, "frac", AML_DOM_FIXED, AML_VAL_REAL, 0, 0, &fixed, 1);
    add_dim(l, "depth", AML_DOM_INT, AML_VAL_INT, 1, 40, NULL, 0);
    return s;
}

/*
 * 30 points in all:
 *   a: split in {a, b, c} x depth int [1, 4]         3 * 4 = 12
 *   b: leaf int_log [2, 7] x mode in {x, y}           6 * 2 = 12
 *   c: k int [0, 5] x fixed 1                         6 * 1 =  6
 */
static aml_space *small_space(void)
{
    aml_value abc[3] = {{.kind = AML_VAL_STR, .str = "a"},
                        {.kind = AML_VAL_STR, .str = "b"},
                        {.kind = AML_VAL_STR, .str = "c"}};
    aml_value xy[2] = {{.kind = AML_VAL_STR, .str = "x"},
                       {.kind = AML_VAL_STR, .str = "y"}};
    aml_value one = {.kind = AML_VAL_INT, .i = 1};
    aml_space *s = aml_space_new();
    aml_space_learner *l;

    assert_non_null(s);
    l = add_learner(s, "a");
    add_dim(l, "split", AML_DOM_CHOICE, AML_VAL_STR, 0, 0, abc, 3);
    add_dim(l, "depth", AML_DOM_INT, AML_VAL_INT, 1, 4, NULL, 0);
    l = add_learner(s, "b");
    add_dim(l, "leaf", AML_DOM_INT_LOG, AML_VAL_INT, 2, 7, NULL, 0);
    add_dim(l, "mode", AML_DOM_CHOICE, AML_VAL_STR, 0, 0, xy, 2);
    l = add_learner(s, "c");
    add_dim(l, "k", AML_DOM_INT, AML_VAL_INT, 0, 5, NULL, 0);
    add_dim(l, "one", AML_DOM_FIXED, AML_VAL_INT, 0, 0, &one, 1);
    return s;
}

/* x, y uniform in [-3, 3]. */
static aml_space *plane_space(void)
{
    aml_space *s = aml_space_new();
    aml_space_learner *l;

    assert_non_null(s);
    l = add_learner(s, "quad");
    add_dim(l, "x", AML_DOM_UNIFORM, AML_VAL_REAL, -3, 3, NULL, 0);
    add_dim(l, "y", AML_DOM_UNIFORM, AML_VAL_REAL, -3, 3, NULL, 0);
    return s;
}

/* ---- objectives and the driving loop ------------------------------------ */

typedef double (*objective)(const aml_config *c, int *ok);

static double num(const aml_config *c, size_t j)
{
    return aml_value_as_real(&c->params[j].value);
}

/* Larger is better: the negated squared distance to (0.37, -1.21). */
static double quadratic(const aml_config *c, int *ok)
{
    double dx = num(c, 0) - 0.37, dy = num(c, 1) + 1.21;

    *ok = 1;
    return -(dx * dx + dy * dy);
}

/* Any deterministic function of the configuration; knn fails when k = 7. */
static double mixed_score(const aml_config *c, int *ok)
{
    char buf[256];
    double h = 0;
    size_t i;

    aml_config_format(c, buf, sizeof(buf));
    for (i = 0; buf[i]; i++)
        h = fmod(h * 31.0 + (unsigned char)buf[i], 1000.0);
    *ok = !(c->learner == 1 && c->params[0].value.i == 7);
    return (double)c->learner + h / 1000.0;
}

static double all_fail(const aml_config *c, int *ok)
{
    (void)c;
    *ok = 0;
    return NAN;
}

/*
 * Asks up to n configurations in batches, telling each batch's results in
 * trial order; keeps copies in out[] (when non-NULL) and returns how many
 * were proposed before AML_EXHAUSTED.  Scores go to scores[] when non-NULL.
 */
static size_t drive(aml_search *s, size_t n, objective f, aml_config *out, double *scores)
{
    aml_config batch[BATCH];
    size_t t = 0, k, got;
    int rc = 0, ok;

    while (t < n && rc == 0) {
        for (got = 0; got < BATCH && t + got < n; got++) {
            rc = aml_search_ask(s, (long)(t + got), &batch[got]);
            if (rc != 0)
                break;
        }
        if (rc != 0)
            assert_int_equal(rc, AML_EXHAUSTED);
        for (k = 0; k < got; k++) {
            double v = f(&batch[k], &ok);

            aml_search_tell(s, &batch[k], v, ok);
            if (scores)
                scores[t + k] = ok ? v : -INFINITY;
            if (out)
                assert_int_equal(aml_config_copy(&out[t + k], &batch[k]), 0);
            aml_config_dispose(&batch[k]);
        }
        t += got;
    }
    return t;
}

static void dispose_all(aml_config *c, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        aml_config_dispose(&c[i]);
}

static aml_search *new_genetic(const aml_space *space, uint64_t seed)
{
    aml_search *s = NULL;

    assert_int_equal(aml_search_new(&s, &aml_search_genetic, space, seed), 0);
    return s;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_genetic_registered(void **st)
{
    (void)st;
    assert_ptr_equal(aml_search_type_find("genetic"), &aml_search_genetic);
    assert_string_equal(aml_search_genetic.name, "genetic");
}

/* Same seed and same results give the same proposals; another seed differs. */
static void test_genetic_deterministic(void **st)
{
    enum { N = 120 };
    aml_space *sp = mixed_space();
    aml_config *a = calloc(N, sizeof(*a)), *b = calloc(N, sizeof(*b));
    aml_config *c = calloc(N, sizeof(*c));
    aml_search *s;
    size_t i, differ = 0;

    (void)st;
    assert_non_null(a && b && c);
    s = new_genetic(sp, 42);
    assert_int_equal(drive(s, N, mixed_score, a, NULL), N);
    aml_search_free(s);
    s = new_genetic(sp, 42);
    assert_int_equal(drive(s, N, mixed_score, b, NULL), N);
    aml_search_free(s);
    s = new_genetic(sp, 43);
    assert_int_equal(drive(s, N, mixed_score, c, NULL), N);
    aml_search_free(s);
    for (i = 0; i < N; i++) {
        assert_true(aml_config_equal(&a[i], &b[i]));
        differ += !aml_config_equal(&a[i], &c[i]);
    }
    assert_true(differ > N / 2);
    dispose_all(a, N);
    dispose_all(b, N);
    dispose_all(c, N);
    free(a);
    free(b);
    free(c);
    aml_space_free(sp);
}

static void check_value(const aml_dim *d, const aml_param *p)
{
    const aml_value *v = &p->value;
    size_t k;
    double x;

    assert_string_equal(p->name, d->name);
    if (d->domain == AML_DOM_FIXED || d->domain == AML_DOM_CHOICE) {
        for (k = 0; k < d->n_choices; k++)
            if (v->kind == d->choices[k].kind &&
                (v->kind == AML_VAL_STR
                     ? strcmp(v->str, d->choices[k].str) == 0
                     : aml_value_as_real(v) == aml_value_as_real(&d->choices[k])))
                break;
        assert_true(k < d->n_choices);
        return;
    }
    assert_int_equal(v->kind, d->kind);
    x = aml_value_as_real(v);
    assert_true(x >= d->lo && x <= d->hi);
    if (d->domain == AML_DOM_INT || d->domain == AML_DOM_INT_LOG)
        assert_int_equal(v->kind, AML_VAL_INT);
}

/* Every proposal is a well-typed point of the space, and never a repeat. */
static void test_genetic_bounds_and_unique(void **st)
{
    enum { N = 300 };
    aml_space *sp = mixed_space();
    aml_config *a = calloc(N, sizeof(*a));
    size_t i, j, per[3] = {0, 0, 0};
    aml_search *s;

    (void)st;
    assert_non_null(a);
    s = new_genetic(sp, 7);
    assert_int_equal(drive(s, N, mixed_score, a, NULL), N);
    aml_search_free(s);
    for (i = 0; i < N; i++) {
        const aml_space_learner *l = &sp->learners[a[i].learner];

        assert_true(a[i].learner < sp->n_learners);
        assert_int_equal(a[i].n_params, l->n_dims);
        for (j = 0; j < l->n_dims; j++)
            check_value(&l->dims[j], &a[i].params[j]);
        for (j = 0; j < i; j++)
            assert_false(aml_config_equal(&a[i], &a[j]));
        per[a[i].learner]++;
    }
    /* Generation 0 alone gives each of the 3 learners 5 or 6 of 16 trials. */
    for (i = 0; i < 3; i++)
        assert_true(per[i] >= 5);
    dispose_all(a, N);
    free(a);
    aml_space_free(sp);
}

/* The 30-point space: 30 distinct proposals, then AML_EXHAUSTED for good. */
static void test_genetic_exhausts_small_space(void **st)
{
    enum { N = 200 };
    aml_space *sp = small_space();
    aml_config *a = calloc(N, sizeof(*a)), extra;
    uint64_t seed;
    size_t i, j, n;
    aml_search *s;

    (void)st;
    assert_non_null(a);
    for (seed = 1; seed <= 4; seed++) {
        s = new_genetic(sp, seed);
        n = drive(s, N, mixed_score, a, NULL);
        assert_int_equal(n, 30);
        for (i = 0; i < n; i++)
            for (j = 0; j < i; j++)
                assert_false(aml_config_equal(&a[i], &a[j]));
        for (i = n; i < N; i++) {
            assert_int_equal(aml_search_ask(s, (long)i, &extra), AML_EXHAUSTED);
            assert_null(extra.params);
        }
        aml_search_free(s);
        dispose_all(a, n);
    }
    free(a);
    aml_space_free(sp);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double best_of(const aml_search_type *type, const aml_space *sp, uint64_t seed,
                      size_t n)
{
    double scores[64], best = -INFINITY;
    aml_search *s = NULL;
    size_t i;

    assert_true(n <= 64);
    assert_int_equal(aml_search_new(&s, type, sp, seed), 0);
    assert_int_equal(drive(s, n, quadratic, NULL, scores), n);
    aml_search_free(s);
    for (i = 0; i < n; i++)
        best = scores[i] > best ? scores[i] : best;
    return best;
}

/*
 * On a smooth bowl the GA refines around its best genomes.  With 64 points
 * spread over the 6 x 6 square, random search's nearest point to the
 * optimum lies about sqrt(36 / (64 pi)) = 0.42 away (squared 0.18); the GA
 * spends 48 of its 64 trials near its best, so its median best over 10
 * seeds must beat random search's median.
 */
static void test_genetic_beats_random_on_quadratic(void **st)
{
    double ga[10], rnd[10];
    aml_space *sp = plane_space();
    uint64_t seed;

    (void)st;
    for (seed = 0; seed < 10; seed++) {
        ga[seed] = best_of(&aml_search_genetic, sp, seed + 1, 64);
        rnd[seed] = best_of(&aml_search_random, sp, seed + 1, 64);
    }
    qsort(ga, 10, sizeof(double), cmp_double);
    qsort(rnd, 10, sizeof(double), cmp_double);
    print_message("quadratic best, median of 10: genetic %g, random %g\n",
                  (ga[4] + ga[5]) / 2, (rnd[4] + rnd[5]) / 2);
    assert_true((ga[4] + ga[5]) / 2 > (rnd[4] + rnd[5]) / 2);
    aml_space_free(sp);
}

/* Learner b scores 1 higher than a: the GA should spend most late trials on b. */
static double learner_b_wins(const aml_config *c, int *ok)
{
    double x = num(c, 0);

    *ok = 1;
    return (double)c->learner - (x - 0.5) * (x - 0.5);
}

static void test_genetic_focuses_on_better_learner(void **st)
{
    enum { N = 64 };
    aml_config a[N];
    aml_space *sp = aml_space_new();
    size_t i, late_b = 0, late_a = 0;
    uint64_t seed;
    aml_search *s;

    (void)st;
    add_dim(add_learner(sp, "a"), "x", AML_DOM_UNIFORM, AML_VAL_REAL, 0, 1, NULL, 0);
    add_dim(add_learner(sp, "b"), "x", AML_DOM_UNIFORM, AML_VAL_REAL, 0, 1, NULL, 0);
    for (seed = 1; seed <= 10; seed++) {
        s = new_genetic(sp, seed);
        assert_int_equal(drive(s, N, learner_b_wins, a, NULL), N);
        aml_search_free(s);
        for (i = 32; i < N; i++) {
            late_b += a[i].learner == 1;
            late_a += a[i].learner == 0;
        }
        dispose_all(a, N);
    }
    /* Random search would split 320 late trials 160 / 160. */
    assert_true(late_b > 3 * late_a);
    /* Migration keeps the losing learner alive. */
    assert_true(late_a > 0);
    aml_space_free(sp);
}

/* With every trial failed there is no parent, yet proposals keep coming. */
static void test_genetic_all_failed(void **st)
{
    enum { N = 100 };
    aml_space *sp = mixed_space();
    aml_config *a = calloc(N, sizeof(*a));
    aml_search *s;
    size_t i, j;

    (void)st;
    assert_non_null(a);
    s = new_genetic(sp, 3);
    assert_int_equal(drive(s, N, all_fail, a, NULL), N);
    aml_search_free(s);
    for (i = 0; i < N; i++)
        for (j = 0; j < i; j++)
            assert_false(aml_config_equal(&a[i], &a[j]));
    dispose_all(a, N);
    free(a);
    aml_space_free(sp);
}

/* A space of one point: proposed once, then exhausted. */
static void test_genetic_single_point(void **st)
{
    aml_value v = {.kind = AML_VAL_INT, .i = 5};
    aml_value w = {.kind = AML_VAL_STR, .str = "auto"};
    aml_space *sp = aml_space_new();
    aml_space_learner *l = add_learner(sp, "only");
    aml_config c;
    aml_search *s;

    (void)st;
    add_dim(l, "n", AML_DOM_FIXED, AML_VAL_INT, 0, 0, &v, 1);
    add_dim(l, "mode", AML_DOM_FIXED, AML_VAL_STR, 0, 0, &w, 1);
    s = new_genetic(sp, 9);
    assert_int_equal(aml_search_ask(s, 0, &c), 0);
    assert_int_equal(c.n_params, 2);
    assert_int_equal(c.params[0].value.i, 5);
    assert_string_equal(c.params[1].value.str, "auto");
    aml_search_tell(s, &c, 0.5, 1);
    aml_config_dispose(&c);
    assert_int_equal(aml_search_ask(s, 1, &c), AML_EXHAUSTED);
    assert_int_equal(aml_search_ask(s, 2, &c), AML_EXHAUSTED);
    aml_search_free(s);

    /* A result told for a configuration never asked (a resumed store) counts as seen. */
    s = new_genetic(sp, 9);
    assert_int_equal(aml_config_init(&c, sp, 0), 0);
    c.params[0].value = v;
    c.params[1].value = w;
    aml_search_tell(s, &c, 1.0, 1);
    aml_config_dispose(&c);
    assert_int_equal(aml_search_ask(s, 0, &c), AML_EXHAUSTED);
    aml_search_free(s);
    aml_space_free(sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_genetic_registered),
        cmocka_unit_test(test_genetic_deterministic),
        cmocka_unit_test(test_genetic_bounds_and_unique),
        cmocka_unit_test(test_genetic_exhausts_small_space),
        cmocka_unit_test(test_genetic_beats_random_on_quadratic),
        cmocka_unit_test(test_genetic_focuses_on_better_learner),
        cmocka_unit_test(test_genetic_all_failed),
        cmocka_unit_test(test_genetic_single_point),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
