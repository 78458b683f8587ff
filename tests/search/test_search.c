/*
 * test_search.c - the search driver, its registry, and the grid and random
 * strategies (search/search.c, grid.c, random.c).
 *
 * Spaces are built in code.  Grid expectations are enumerated by hand in
 * the tables below; random search is checked for determinism, bounds,
 * coverage and a loose uniformity bound on the learner choice.  A stub
 * strategy checks what the driver itself promises (zeroed state, seeding,
 * tell forwarding, dispose).
 */
#include "testutil.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"
#include "search.h"

/* ---- spaces ------------------------------------------------------------ */

static aml_dim *add_dim(aml_space_learner *l, const char *name, aml_domain dom,
                        aml_vkind kind, double lo, double hi, const aml_value *ch,
                        size_t n_ch)
{
    aml_dim *d = aml_space_add_dim(l, name, dom, kind, lo, hi, ch, n_ch);

    assert_non_null(d);
    return d;
}

static aml_space_learner *add_learner(aml_space *s, const char *name)
{
    aml_space_learner *l = aml_space_add_learner(s, name);

    assert_non_null(l);
    return l;
}

/*
 * The hand-enumerated space:
 *   tree:  criterion in {gini, entropy}, max_depth int in [1, 3]   -> 2*3 = 6
 *   ridge: fit_intercept fixed 1, alpha uniform [0.25, 2.75], 3 grid points
 *          (0.25, 0.25 + 2.5/2 = 1.5, 2.75)                        -> 1*3 = 3
 */
static aml_space *small_space(void)
{
    aml_value crit[2] = {{.kind = AML_VAL_STR, .str = "gini"},
                         {.kind = AML_VAL_STR, .str = "entropy"}};
    aml_value one = {.kind = AML_VAL_INT, .i = 1};
    aml_space *s = aml_space_new();
    aml_space_learner *l;

    assert_non_null(s);
    l = add_learner(s, "tree");
    add_dim(l, "criterion", AML_DOM_CHOICE, AML_VAL_STR, 0, 0, crit, 2);
    add_dim(l, "max_depth", AML_DOM_INT, AML_VAL_INT, 1, 3, NULL, 0);
    l = add_learner(s, "ridge");
    add_dim(l, "fit_intercept", AML_DOM_FIXED, AML_VAL_INT, 0, 0, &one, 1);
    add_dim(l, "alpha", AML_DOM_UNIFORM, AML_VAL_REAL, 0.25, 2.75, NULL, 0)->grid = 3;
    return s;
}

/* n_learners copies of a learner with n_dims int dimensions in [0, width - 1]. */
static aml_space *int_space(size_t n_learners, size_t n_dims, int width)
{
    aml_space *s = aml_space_new();
    char name[32];
    size_t i, j;

    assert_non_null(s);
    for (i = 0; i < n_learners; i++) {
        aml_space_learner *l = add_learner(s, "knn");

        for (j = 0; j < n_dims; j++) {
            snprintf(name, sizeof(name), "p%zu", j);
            add_dim(l, name, AML_DOM_INT, AML_VAL_INT, 0, width - 1, NULL, 0);
        }
    }
    return s;
}

/* Three learners covering every domain, for random search. */
static aml_space *mixed_space(void)
{
    aml_value abc[3] = {{.kind = AML_VAL_STR, .str = "a"},
                        {.kind = AML_VAL_STR, .str = "b"},
                        {.kind = AML_VAL_STR, .str = "c"}};
    aml_value fixed = {.kind = AML_VAL_REAL, .real = 0.7};
    aml_space *s = aml_space_new();
    aml_space_learner *l;

    assert_non_null(s);
    l = add_learner(s, "ridge");
    add_dim(l, "alpha", AML_DOM_UNIFORM, AML_VAL_REAL, 0.25, 2.75, NULL, 0);
    add_dim(l, "tol", AML_DOM_LOG_UNIFORM, AML_VAL_REAL, 1e-4, 10, NULL, 0);
    l = add_learner(s, "knn");
    add_dim(l, "k", AML_DOM_INT, AML_VAL_INT, 2, 7, NULL, 0);
    add_dim(l, "leaf", AML_DOM_INT_LOG, AML_VAL_INT, 1, 1000, NULL, 0);
    l = add_learner(s, "tree");
    add_dim(l, "split", AML_DOM_CHOICE, AML_VAL_STR, 0, 0, abc, 3);
    add_dim(l, "frac", AML_DOM_FIXED, AML_VAL_REAL, 0, 0, &fixed, 1);
    return s;
}

/* ---- registry ---------------------------------------------------------- */

static void test_search_registry(void **st)
{
    size_t n = 0;

    (void)st;
    assert_ptr_equal(aml_search_type_find("grid"), &aml_search_grid);
    assert_ptr_equal(aml_search_type_find("random"), &aml_search_random);
    assert_null(aml_search_type_find("Grid"));
    assert_null(aml_search_type_find("no_such_strategy"));
    assert_null(aml_search_type_find(""));
    assert_null(aml_search_type_find(NULL));

    /* Every listed type is found by its own name. */
    for (n = 0; aml_search_types[n]; n++)
        assert_ptr_equal(aml_search_type_find(aml_search_types[n]->name),
                         aml_search_types[n]);
    assert_true(n >= 3); /* grid, random, genetic; more may be registered */
}

/* ---- driver, with a stub strategy ---------------------------------------- */

typedef struct stub_state {
    int zero_on_init; /* 1 when init saw a zeroed state */
    int tells, oks;
    double score_sum;
    uint64_t draw; /* first draw of the last ask's generator */
    int *disposed; /* counter owned by the test */
} stub_state;

/* The stub's state is private to the driver; init publishes it here. */
static stub_state *probe;
static int *stub_dispose_counter;
static int stub_init_rc;

static int stub_init(void *state, const aml_space *space, uint64_t seed)
{
    stub_state *g = state;
    static const stub_state zero;

    (void)space;
    g->zero_on_init = memcmp(g, &zero, sizeof(zero)) == 0;
    g->disposed = stub_dispose_counter;
    probe = g;
    return stub_init_rc;
}

static int stub_ask(void *state, const aml_space *space, long trial, aml_rng *rng,
                    aml_config *out)
{
    stub_state *g = state;
    int rc;

    g->draw = aml_rng_next(rng);
    if (trial >= 3)
        return AML_EXHAUSTED;
    if ((rc = aml_config_init(out, space, 0)) < 0)
        return rc;
    /* Trial 2 initialises the configuration, then fails: the driver must clean up. */
    return trial == 2 ? aml_error_set(AML_ENUMERIC, "stub failure") : 0;
}

static void stub_tell(void *state, const aml_space *space, const aml_config *c,
                      double score, int ok)
{
    stub_state *g = state;

    (void)space;
    (void)c;
    g->tells++;
    g->oks += ok;
    if (ok)
        g->score_sum += score;
}

static void stub_dispose(void *state)
{
    stub_state *g = state;

    (*g->disposed)++;
}

static const aml_search_type stub_type = {
    .name = "stub",
    .state_size = sizeof(stub_state),
    .init = stub_init,
    .ask = stub_ask,
    .tell = stub_tell,
    .dispose = stub_dispose,
};

static void test_search_driver_stub(void **st)
{
    aml_space *sp = int_space(1, 1, 4);
    aml_search *s = NULL;
    aml_config c, zero;
    int disposed = 0;

    (void)st;
    memset(&zero, 0, sizeof(zero));
    stub_dispose_counter = &disposed;
    stub_init_rc = 0;
    assert_int_equal(aml_search_new(&s, &stub_type, sp, 2024), 0);
    assert_ptr_equal(aml_search_get_type(s), &stub_type);
    assert_true(probe->zero_on_init);

    /* ask succeeds for trial 1, fails on 2 (config zeroed), exhausts on 3. */
    assert_int_equal(aml_search_ask(s, 1, &c), 0);
    assert_int_equal(c.learner, 0);
    assert_int_equal(c.n_params, 1);
    aml_config_dispose(&c);
    assert_int_equal(aml_search_ask(s, 2, &c), AML_ENUMERIC);
    assert_memory_equal(&c, &zero, sizeof(c));
    assert_string_equal(aml_error_message(), "stub failure");
    assert_int_equal(aml_search_ask(s, 3, &c), AML_EXHAUSTED);
    assert_memory_equal(&c, &zero, sizeof(c));
    aml_config_dispose(&c); /* a zeroed config is safe to dispose */
    assert_int_equal(aml_search_ask(s, -1, &c), AML_EINVAL);
    assert_memory_equal(&c, &zero, sizeof(c));

    aml_search_free(s);
    assert_int_equal(disposed, 1);
    aml_search_free(NULL);
    aml_space_free(sp);
}

static void test_search_driver_seeding_and_tell(void **st)
{
    aml_space *sp = int_space(1, 1, 4);
    aml_search *s = NULL;
    aml_config c;
    aml_rng ref;
    long t;
    int disposed = 0;

    (void)st;
    stub_dispose_counter = &disposed;
    stub_init_rc = 0;
    assert_int_equal(aml_search_new(&s, &stub_type, sp, 2024), 0);
    assert_true(probe->zero_on_init);

    /* Each ask gets a generator seeded from (seed, trial), whatever the order. */
    for (t = 1; t >= 0; t--) {
        assert_int_equal(aml_search_ask(s, t, &c), 0);
        aml_config_dispose(&c);
        aml_rng_init(&ref, 2024, (uint64_t)t);
        assert_true(probe->draw == aml_rng_next(&ref));
    }

    /* tell reaches the strategy: 3 tells, 2 ok, ok scores 0.5 + 0.25 = 0.75. */
    assert_int_equal(aml_search_ask(s, 0, &c), 0);
    aml_search_tell(s, &c, 0.5, 1);
    aml_search_tell(s, &c, 99.0, 0);
    aml_search_tell(s, &c, 0.25, 1);
    aml_config_dispose(&c);
    assert_int_equal(probe->tells, 3);
    assert_int_equal(probe->oks, 2);
    assert_true(probe->score_sum == 0.75);

    aml_search_free(s);
    assert_int_equal(disposed, 1);
    aml_space_free(sp);
}

/*
 * Seeds count as proposed from the start: random, bayes and genetic on a
 * 4-point space with two seeds propose the 2 other points in a first batch
 * asked before any result is told, then say exhausted; no point twice.
 */
static void test_search_seeds_never_repeated(void **st)
{
    static const char *const names[] = {"random", "bayes", "genetic"};

    (void)st;
    for (size_t k = 0; k < 3; k++) {
        aml_space *sp = int_space(1, 1, 4);
        aml_search *s = NULL;
        aml_config seeds[2], got[5];
        long t;

        for (int i = 0; i < 2; i++) {
            assert_int_equal(aml_config_init(&seeds[i], sp, 0), 0);
            seeds[i].params[0].value.i = 3 - i; /* points 3 and 2 */
            seeds[i].params[0].value.real = 3 - i;
        }
        assert_int_equal(aml_search_new(&s, aml_search_type_find(names[k]), sp, 7), 0);
        assert_int_equal(aml_search_set_seeds(s, seeds, 2), 0);
        for (t = 0; t < 4; t++)
            assert_int_equal(aml_search_ask(s, t, &got[t]), 0);
        for (t = 0; t < 4; t++)
            for (long u = 0; u < t; u++)
                if (aml_config_equal(&got[t], &got[u]))
                    fail_msg("%s: trials %ld and %ld propose the same point", names[k], u,
                             t);
        for (t = 0; t < 4; t++)
            aml_search_tell(s, &got[t], (double)t, 1);
        assert_int_equal(aml_search_ask(s, 4, &got[4]), AML_EXHAUSTED);
        for (t = 0; t < 4; t++)
            aml_config_dispose(&got[t]);
        aml_config_dispose(&seeds[0]);
        aml_config_dispose(&seeds[1]);
        aml_search_free(s);
        aml_space_free(sp);
    }
}

static void test_search_driver_errors(void **st)
{
    aml_space *sp = int_space(1, 1, 4);
    aml_space *empty = aml_space_new();
    aml_search *s = (aml_search *)&s; /* garbage: must be reset to NULL */
    int disposed = 0;

    (void)st;
    assert_non_null(empty);
    assert_int_equal(aml_search_new(&s, NULL, sp, 1), AML_EINVAL);
    assert_null(s);
    assert_int_equal(aml_search_new(&s, &aml_search_random, NULL, 1), AML_EINVAL);
    assert_int_equal(aml_search_new(&s, &aml_search_random, empty, 1), AML_EINVAL);
    assert_string_equal(aml_error_message(), "search space has no learners");
    assert_null(s);

    /* A failing init is reported as is, and dispose is not called after it. */
    stub_dispose_counter = &disposed;
    stub_init_rc = AML_EIO;
    assert_int_equal(aml_search_new(&s, &stub_type, sp, 1), AML_EIO);
    assert_null(s);
    assert_int_equal(disposed, 0);
    stub_init_rc = 0;

    aml_space_free(empty);
    aml_space_free(sp);
}

/* ---- grid -------------------------------------------------------------- */

typedef struct expect {
    size_t learner;
    aml_value v[2];
} expect;

#define S(x)                                                                             \
    {                                                                                    \
        .kind = AML_VAL_STR, .str = (x)                                                  \
    }
#define I(x)                                                                             \
    {                                                                                    \
        .kind = AML_VAL_INT, .i = (x)                                                    \
    }
#define R(x)                                                                             \
    {                                                                                    \
        .kind = AML_VAL_REAL, .real = (x)                                                \
    }

/*
 * small_space() in grid order: the learners take turns (tree, ridge, tree,
 * ...) until ridge's 3 points are used, then tree's last 3; within a
 * learner the last dimension varies fastest.
 */
static const expect small_grid[] = {
    {0, {S("gini"), I(1)}},    {1, {I(1), R(0.25)}},      {0, {S("gini"), I(2)}},
    {1, {I(1), R(1.5)}},       {0, {S("gini"), I(3)}},    {1, {I(1), R(2.75)}},
    {0, {S("entropy"), I(1)}}, {0, {S("entropy"), I(2)}}, {0, {S("entropy"), I(3)}},
};

static const char *const small_names[2][2] = {{"criterion", "max_depth"},
                                              {"fit_intercept", "alpha"}};

static void assert_value(const aml_value *got, const aml_value *want)
{
    assert_int_equal(got->kind, want->kind);
    switch (want->kind) {
    case AML_VAL_STR:
        assert_string_equal(got->str, want->str);
        break;
    case AML_VAL_INT:
        assert_int_equal(got->i, want->i);
        break;
    case AML_VAL_REAL:
        assert_close(got->real, want->real, 1e-12);
        break;
    }
}

static void test_search_grid_order(void **st)
{
    aml_space *sp = small_space();
    aml_search *s = NULL;
    aml_config c;
    size_t i, j, n = sizeof(small_grid) / sizeof(small_grid[0]);

    (void)st;
    assert_int_equal(aml_search_grid_size(sp), 9);
    assert_int_equal(aml_search_new(&s, &aml_search_grid, sp, 7), 0);
    for (i = 0; i < n; i++) {
        assert_int_equal(aml_search_ask(s, (long)i, &c), 0);
        assert_int_equal(c.learner, small_grid[i].learner);
        assert_int_equal(c.n_params, 2);
        for (j = 0; j < 2; j++) {
            assert_string_equal(c.params[j].name, small_names[c.learner][j]);
            assert_value(&c.params[j].value, &small_grid[i].v[j]);
        }
        aml_config_dispose(&c);
    }

    /* Asked out of order, a trial gets the same point. */
    assert_int_equal(aml_search_ask(s, 7, &c), 0);
    assert_int_equal(c.learner, 0);
    assert_int_equal(c.params[1].value.i, 2);
    aml_config_dispose(&c);

    /* Exhausted exactly after the 9th point, and it stays exhausted. */
    assert_int_equal(aml_search_ask(s, (long)n, &c), AML_EXHAUSTED);
    assert_int_equal(aml_search_ask(s, (long)n + 1, &c), AML_EXHAUSTED);
    aml_config_dispose(&c);
    aml_search_free(s);
    aml_space_free(sp);
}

/* Grid points are distinct: every pair of the 4*3*5 = 60 points differs. */
static void test_search_grid_distinct(void **st)
{
    aml_space *sp = aml_space_new();
    aml_space_learner *l;
    aml_search *s = NULL;
    aml_config c[60];
    size_t i, j;

    (void)st;
    assert_non_null(sp);
    l = add_learner(sp, "svm");
    add_dim(l, "a", AML_DOM_INT, AML_VAL_INT, 3, 6, NULL, 0);
    add_dim(l, "b", AML_DOM_LOG_UNIFORM, AML_VAL_REAL, 0.01, 100, NULL, 0)->grid = 3;
    add_dim(l, "c", AML_DOM_INT, AML_VAL_INT, -2, 2, NULL, 0);
    assert_int_equal(aml_search_grid_size(sp), 60);

    assert_int_equal(aml_search_new(&s, &aml_search_grid, sp, 7), 0);
    for (i = 0; i < 60; i++)
        assert_int_equal(aml_search_ask(s, (long)i, &c[i]), 0);
    for (i = 0; i < 60; i++)
        for (j = i + 1; j < 60; j++)
            assert_false(aml_config_equal(&c[i], &c[j]));

    /* Point 59 is the last of each dimension: a=6, b=100, c=2. */
    assert_int_equal(c[59].params[0].value.i, 6);
    assert_close(c[59].params[1].value.real, 100.0, 1e-9);
    assert_int_equal(c[59].params[2].value.i, 2);
    /* Point 5 = (0, 1, 0) in radices (4, 3, 5): a=3, b=sqrt(0.01*100)=1, c=-2. */
    assert_int_equal(c[5].params[0].value.i, 3);
    assert_close(c[5].params[1].value.real, 1.0, 1e-9);
    assert_int_equal(c[5].params[2].value.i, -2);

    for (i = 0; i < 60; i++)
        aml_config_dispose(&c[i]);
    assert_int_equal(aml_search_ask(s, 60, &c[0]), AML_EXHAUSTED);
    aml_search_free(s);
    aml_space_free(sp);
}

/* A learner without dimensions is one point: its defaults. */
static void test_search_grid_no_dims(void **st)
{
    aml_space *sp = int_space(1, 1, 2);
    aml_search *s = NULL;
    aml_config c;

    (void)st;
    add_learner(sp, "naive_bayes");
    assert_int_equal(aml_search_grid_size(sp), 3);
    assert_int_equal(aml_search_new(&s, &aml_search_grid, sp, 1), 0);
    assert_int_equal(aml_search_ask(s, 0, &c), 0);
    assert_int_equal(c.learner, 0);
    aml_config_dispose(&c);
    assert_int_equal(aml_search_ask(s, 1, &c), 0); /* its turn comes second */
    assert_int_equal(c.learner, 1);
    assert_int_equal(c.n_params, 0);
    aml_config_dispose(&c);
    assert_int_equal(aml_search_ask(s, 2, &c), 0);
    assert_int_equal(c.learner, 0);
    aml_config_dispose(&c);
    assert_int_equal(aml_search_ask(s, 3, &c), AML_EXHAUSTED);
    aml_search_free(s);
    aml_space_free(sp);
}

/* 10^7 points is allowed; 10^7 + 1 and 10^8 are refused; 1000^20 overflows. */
static void test_search_grid_limits(void **st)
{
    aml_space *sp;
    aml_search *s = NULL;
    aml_config c;

    (void)st;
    sp = int_space(1, 7, 10);
    assert_int_equal(aml_search_grid_size(sp), 10000000);
    assert_int_equal(aml_search_new(&s, &aml_search_grid, sp, 1), 0);
    assert_int_equal(aml_search_ask(s, 0, &c), 0);
    aml_config_dispose(&c);
    aml_search_free(s);

    add_learner(sp, "naive_bayes"); /* one more point */
    assert_int_equal(aml_search_grid_size(sp), 10000001);
    assert_int_equal(aml_search_new(&s, &aml_search_grid, sp, 1), AML_EINVAL);
    assert_null(s);
    assert_string_equal(aml_error_message(),
                        "grid has 10000001 points; cap it with search.trials or use "
                        "random search");
    aml_space_free(sp);

    sp = int_space(2, 4, 100); /* 2 * 100^4 = 2e8 */
    assert_int_equal(aml_search_grid_size(sp), 200000000);
    assert_int_equal(aml_search_new(&s, &aml_search_grid, sp, 1), AML_EINVAL);
    assert_non_null(strstr(aml_error_message(), "grid has 200000000 points"));
    aml_space_free(sp);

    /* A dimension without grid points (the space refuses to build one, so
     * forge it) would drop its learner silently: refused instead. */
    sp = small_space();
    sp->learners[0].dims[0].n_choices = 0;
    assert_int_equal(aml_search_grid_size(sp), 3);
    assert_int_equal(aml_search_new(&s, &aml_search_grid, sp, 1), AML_EINVAL);
    assert_string_equal(aml_error_message(), "tree.criterion has no grid points");
    sp->learners[0].dims[0].n_choices = 2;
    aml_space_free(sp);

    sp = int_space(1, 20, 1000); /* 10^60 overflows 64 bits */
    assert_true(aml_search_grid_size(sp) == UINT64_MAX);
    assert_int_equal(aml_search_new(&s, &aml_search_grid, sp, 1), AML_EINVAL);
    assert_non_null(strstr(aml_error_message(), "use random search"));
    aml_space_free(sp);
}

/* ---- random ------------------------------------------------------------ */

static void test_search_random_deterministic(void **st)
{
    aml_space *sp = mixed_space();
    aml_search *a = NULL, *b = NULL, *other = NULL;
    aml_config ca, cb, first[8];
    size_t differ = 0;
    long t;

    (void)st;
    assert_int_equal(aml_search_new(&a, &aml_search_random, sp, 31337), 0);
    assert_int_equal(aml_search_new(&b, &aml_search_random, sp, 31337), 0);
    assert_int_equal(aml_search_new(&other, &aml_search_random, sp, 31338), 0);

    /* Same seed and trial give the same configuration, asked in any order. */
    for (t = 0; t < 8; t++)
        assert_int_equal(aml_search_ask(a, t, &first[t]), 0);
    for (t = 7; t >= 0; t--) {
        assert_int_equal(aml_search_ask(b, t, &cb), 0);
        assert_true(aml_config_equal(&first[t], &cb));
        aml_config_dispose(&cb);
        assert_int_equal(aml_search_ask(a, t, &ca), 0); /* asked again */
        assert_true(aml_config_equal(&first[t], &ca));
        aml_config_dispose(&ca);
    }

    /* Different trials differ (real dims make a tie essentially impossible),
     * and so does another seed. */
    for (t = 1; t < 8; t++)
        assert_false(aml_config_equal(&first[0], &first[t]));
    for (t = 0; t < 8; t++) {
        assert_int_equal(aml_search_ask(other, t, &ca), 0);
        differ += !aml_config_equal(&first[t], &ca);
        aml_config_dispose(&ca);
    }
    assert_true(differ >= 7);

    for (t = 0; t < 8; t++)
        aml_config_dispose(&first[t]);
    aml_search_free(a);
    aml_search_free(b);
    aml_search_free(other);
    aml_space_free(sp);
}

/* Per-draw checks; counts what was seen in hits[learner][value slot]. */
static void check_random_config(const aml_config *c, int hits[3][6])
{
    const aml_value *v0 = &c->params[0].value, *v1 = &c->params[1].value;

    assert_int_equal(c->n_params, 2);
    assert_int_equal(v0->kind, c->learner == 0   ? AML_VAL_REAL
                               : c->learner == 1 ? AML_VAL_INT
                                                 : AML_VAL_STR);
    switch (c->learner) {
    case 0:
        assert_true(v0->real >= 0.25 && v0->real <= 2.75);
        assert_int_equal(v1->kind, AML_VAL_REAL);
        assert_true(v1->real >= 1e-4 && v1->real <= 10);
        hits[0][v1->real < sqrt(1e-4 * 10)]++; /* below the geometric midpoint */
        break;
    case 1:
        assert_true(v0->i >= 2 && v0->i <= 7);
        assert_int_equal(v1->kind, AML_VAL_INT);
        assert_true(v1->i >= 1 && v1->i <= 1000);
        hits[1][v0->i - 2]++;
        break;
    case 2:
        assert_true(v0->str[0] >= 'a' && v0->str[0] <= 'c' && v0->str[1] == '\0');
        assert_int_equal(v1->kind, AML_VAL_REAL);
        assert_true(v1->real == 0.7);
        hits[2][v0->str[0] - 'a']++;
        break;
    default:
        fail_msg("learner %zu out of range", c->learner);
    }
    assert_string_equal(c->params[0].name, c->learner == 0   ? "alpha"
                                           : c->learner == 1 ? "k"
                                                             : "split");
}

/*
 * 1000 draws over 3 learners: each learner is chosen, every value stays in
 * its domain, every int and choice value appears.  "tree" has 3 points
 * (split a/b/c x a fixed value): it gets exactly those 3, and its later
 * turns rotate over the other two learners, whose counts (997 in all) must
 * pass a chi-square test with 1 degree of freedom at a loose bound (23.9 is
 * the 1e-6 upper tail), so only a real bias can fail it.
 */
static void test_search_random_coverage(void **st)
{
    aml_space *sp = mixed_space();
    aml_search *s = NULL;
    aml_config c;
    int count[3] = {0, 0, 0}, hits[3][6];
    double chi2 = 0, e = 997.0 / 2;
    int t, i;

    (void)st;
    memset(hits, 0, sizeof(hits));
    assert_int_equal(aml_search_new(&s, &aml_search_random, sp, 5), 0);
    for (t = 0; t < 1000; t++) {
        assert_int_equal(aml_search_ask(s, t, &c), 0);
        count[c.learner]++;
        check_random_config(&c, hits);
        aml_config_dispose(&c);
    }
    assert_int_equal(count[2], 3);
    for (i = 0; i < 2; i++)
        chi2 += (count[i] - e) * (count[i] - e) / e;
    assert_true(chi2 < 23.9);

    for (i = 0; i < 6; i++)
        assert_true(hits[1][i] > 0); /* k = 2..7 */
    for (i = 0; i < 3; i++)
        assert_true(hits[2][i] > 0); /* a, b, c */
    /* Log-uniform: about half below the geometric midpoint (each side > 25%). */
    assert_true(hits[0][1] > count[0] / 4 && hits[0][0] > count[0] / 4);

    aml_search_free(s);
    aml_space_free(sp);
}

/*
 * Learners take turns: trial t goes to learner t mod 3 while the learner
 * has unproposed points.  "tree" has only 3 (its turns at t = 2, 5, 8 use
 * them); from then on its turns go to the others, so trials 9..29 never
 * ask for it, and nothing is proposed twice.
 */
static void test_search_random_learners_take_turns(void **st)
{
    aml_space *sp = mixed_space();
    aml_search *s = NULL;
    aml_config c[30];
    int t, u;

    (void)st;
    assert_int_equal(aml_search_new(&s, &aml_search_random, sp, 9), 0);
    for (t = 0; t < 30; t++) {
        assert_int_equal(aml_search_ask(s, t, &c[t]), 0);
        if (t < 9 || t % 3 != 2)
            assert_int_equal(c[t].learner, (size_t)(t % 3));
        else
            assert_int_not_equal(c[t].learner, 2);
        for (u = 0; u < t; u++)
            assert_false(aml_config_equal(&c[t], &c[u]));
    }
    for (t = 0; t < 30; t++)
        aml_config_dispose(&c[t]);
    aml_search_free(s);
    aml_space_free(sp);
}

/*
 * Evenness, the reason for the Halton design.  The first 15 points of the
 * base-2 radical inverse are k/16 (k = 1..15); rotated by any shift they
 * leave no gap wider than 1/16 on the circle, so 16 trials of k in [1, 50]
 * (k = 1 + floor(50 u)) always include some k <= 4 (u < 0.08 > 1/16).  For
 * independent uniform draws that fails with probability (46/50)^16 = 26%
 * per seed, so 40 seeds in a row would not pass by luck.
 */
static void test_search_random_even(void **st)
{
    aml_space *sp = aml_space_new();
    aml_space_learner *l = add_learner(sp, "knn");
    aml_search *s = NULL;
    aml_config c;
    uint64_t seed;
    int t;

    (void)st;
    add_dim(l, "k", AML_DOM_INT, AML_VAL_INT, 1, 50, NULL, 0);
    for (seed = 1; seed <= 40; seed++) {
        long long smallest = 1000;

        assert_int_equal(aml_search_new(&s, &aml_search_random, sp, seed), 0);
        for (t = 0; t < 16; t++) {
            assert_int_equal(aml_search_ask(s, t, &c), 0);
            if (c.params[0].value.i < smallest)
                smallest = c.params[0].value.i;
            aml_config_dispose(&c);
        }
        assert_true(smallest <= 4);
        aml_search_free(s);
    }
    aml_space_free(sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_search_random_learners_take_turns),
        cmocka_unit_test(test_search_random_even),
        cmocka_unit_test(test_search_registry),
        cmocka_unit_test(test_search_driver_stub),
        cmocka_unit_test(test_search_driver_seeding_and_tell),
        cmocka_unit_test(test_search_driver_errors),
        cmocka_unit_test(test_search_seeds_never_repeated),
        cmocka_unit_test(test_search_grid_order),
        cmocka_unit_test(test_search_grid_distinct),
        cmocka_unit_test(test_search_grid_no_dims),
        cmocka_unit_test(test_search_grid_limits),
        cmocka_unit_test(test_search_random_deterministic),
        cmocka_unit_test(test_search_random_coverage),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
