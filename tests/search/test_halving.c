/*
 * test_halving.c - the halving and bohb strategies driven through the
 * search interface, and the driver's seed configurations.
 *
 * The rung and promotion bookkeeping is checked against a hand-worked
 * example (eta 3, min_resource 1/3: rungs 1/3 and 1, two brackets); the
 * rest checks the promises of search/halving.c on small spaces: a flat
 * objective, every trial failing, a single-point space, exhaustion of a
 * finite space, batches, and determinism.
 */
#include "testutil.h"

#include "aml.h"
#include "search.h"

#include <math.h>
#include <string.h>

#define MAX_TRIALS 400

/* One learner "a" with x uniform in [0, 1]: every new configuration differs. */
static aml_space *space_x(void)
{
    aml_space *s = aml_space_new();
    aml_space_learner *l;

    assert_non_null(s);
    assert_non_null(l = aml_space_add_learner(s, "a"));
    assert_non_null(
        aml_space_add_dim(l, "x", AML_DOM_UNIFORM, AML_VAL_REAL, 0, 1, NULL, 0));
    return s;
}

/* One learner "a" with k in {0, ..., n - 1} (n = 1: a single point). */
static aml_space *space_k(int n)
{
    aml_space *s = aml_space_new();
    aml_space_learner *l;

    assert_non_null(s);
    assert_non_null(l = aml_space_add_learner(s, "a"));
    assert_non_null(
        aml_space_add_dim(l, "k", AML_DOM_INT, AML_VAL_INT, 0, n - 1, NULL, 0));
    return s;
}

/* The configurations seen, in order of first appearance. */
typedef struct log_t {
    aml_config cfg[MAX_TRIALS];
    size_t n_cfg;
    size_t idx[MAX_TRIALS]; /* trial -> configuration index */
    double res[MAX_TRIALS]; /* trial -> resource as proposed */
    long n;
} log_t;

static size_t log_add(log_t *g, const aml_config *c)
{
    for (size_t i = 0; i < g->n_cfg; i++)
        if (aml_config_equal(&g->cfg[i], c))
            return i;
    assert_true(g->n_cfg < MAX_TRIALS);
    assert_int_equal(aml_config_copy(&g->cfg[g->n_cfg], c), 0);
    return g->n_cfg++;
}

static void log_free(log_t *g)
{
    for (size_t i = 0; i < g->n_cfg; i++)
        aml_config_dispose(&g->cfg[i]);
    memset(g, 0, sizeof(*g));
}

/* Scores by configuration index (first appearance), the same at every rung. */
typedef double (*score_fn)(size_t cfg, int *ok);

static double score_table(size_t cfg, int *ok)
{
    static const double t[] = {0.5, 0.9, 0.2, 0.8, 0.3, 0.95, 0.1, 0.7, 0.6, 0.4};

    *ok = 1;
    return cfg < 10 ? t[cfg] : 0.0;
}

static double score_flat(size_t cfg, int *ok)
{
    (void)cfg;
    *ok = 1;
    return 1.0;
}

static double score_fail(size_t cfg, int *ok)
{
    (void)cfg;
    *ok = 0;
    return NAN;
}

static double score_rising(size_t cfg, int *ok)
{
    *ok = 1;
    return (double)cfg;
}

/*
 * Runs up to `trials` trials in batches of `batch` (asks, then tells in
 * trial order, as the runner does); returns the first non-OK ask code, or
 * AML_OK when the budget ran out.
 */
static int drive(aml_search *s, log_t *g, long trials, int batch, score_fn f)
{
    aml_config c[16];
    long t = 0;
    int rc = AML_OK, i, n;

    assert_true(batch <= 16);
    while (t < trials && rc == AML_OK) {
        for (n = 0; n < batch && t + n < trials; n++) {
            if ((rc = aml_search_ask(s, t + n, &c[n])) != AML_OK)
                break;
            g->idx[t + n] = log_add(g, &c[n]);
            g->res[t + n] = c[n].resource;
        }
        for (i = 0; i < n; i++) {
            int ok;
            double y = f(g->idx[t + i], &ok);

            aml_search_tell(s, &c[i], y, ok);
            aml_config_dispose(&c[i]);
        }
        t += n;
        g->n = t;
    }
    return rc;
}

static aml_search *new_halving(const aml_space *sp, double eta, double r_min,
                               const aml_search_type *type)
{
    aml_search_options o = {eta, r_min, AML_SAMPLER_DEFAULT};
    aml_search *s = NULL;

    assert_int_equal(aml_search_new_with(&s, type, sp, 7, &o), 0);
    return s;
}

/*
 * eta 3, min_resource 1/3: K = 1, rungs 1/3 and 1 (full, written 0).
 * Bracket 0 starts at 1/3 (Hyperband size ceil(2 * 3 / 2) = 3), bracket 1
 * at 1 (ceil(2 * 1 / 1) = 2); a new configuration joins the bracket with
 * the least (started + 1) / size, ties to bracket 0:
 *   started (0,0) -> 0; (1,0) -> 1 (1/2 < 2/3); (1,1) -> 0; (2,1) -> 0 (tie
 *   1 = 1); (3,1) -> 1; (3,2) -> 0 (4/3 < 3/2); (4,2) -> 1; (4,3) -> 0;
 *   (5,3) -> 0 (tie 2 = 2); (6,3) -> 1.
 * Scores by configuration j: 0.5 0.9 0.2 0.8 0.3 0.95 0.1 0.7 0.6 0.4.
 * One ask, one tell at a time; rung 1/3 of bracket 0 promotes its best
 * unpromoted success if fewer than floor(n / 3) results rank above it:
 *   t0  j0 at 1/3 (new, b0)     rung {.5}
 *   t1  j1 at 1   (new, b1)     n = 1, quota 0
 *   t2  j2 at 1/3 (new, b0)     rung {.5 .2}
 *   t3  j3 at 1/3 (new, b0)     rung {.5 .2 .8}
 *   t4  j3 at 1   promoted: n = 3, quota 1, j3 (.8) has none above
 *   t5  j4 at 1   (new, b1)     best unpromoted j0 has j3 above: 1 >= 1
 *   t6  j5 at 1/3 (new, b0)     rung {.5 .2 .8P .95}
 *   t7  j5 at 1   promoted: n = 4, quota 1, j5 (.95) has none above
 *   t8  j6 at 1   (new, b1)     j0 has j5 and j3 above: 2 >= 1
 *   t9  j7 at 1/3 (new, b0)     rung n = 5 {.5 .2 .8P .95P .7}
 *   t10 j8 at 1/3 (new, b0)     quota 1; j7 (.7) has 2 above
 *   t11 j9 at 1   (new, b1)     n = 6, quota 2; j7 has 2 above: 2 >= 2
 */
static void test_halving_hand_example(void **st)
{
    static const size_t want_cfg[] = {0, 1, 2, 3, 3, 4, 5, 5, 6, 7, 8, 9};
    static const int want_third[] = {1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0};
    aml_space *sp = space_x();
    aml_search *s = new_halving(sp, 3, 1.0 / 3.0, &aml_search_halving);
    static log_t g;

    (void)st;
    assert_int_equal(drive(s, &g, 12, 1, score_table), AML_OK);
    for (long t = 0; t < 12; t++) {
        assert_int_equal(g.idx[t], want_cfg[t]);
        if (want_third[t])
            assert_true(fabs(g.res[t] - 1.0 / 3.0) < 1e-15);
        else
            assert_true(g.res[t] == 0.0); /* full: written 0 */
    }
    log_free(&g);
    aml_search_free(s);
    aml_space_free(sp);
}

/* Defaults: eta 3, min_resource 1/27 give the resources 1/27, 1/9, 1/3, 1. */
static void test_halving_default_rungs(void **st)
{
    aml_space *sp = space_x();
    aml_search *s = new_halving(sp, 0, 0, &aml_search_halving);
    static log_t g;
    int seen[4] = {0};

    (void)st;
    assert_int_equal(drive(s, &g, 120, 8, score_rising), AML_OK);
    for (long t = 0; t < g.n; t++) {
        double r = g.res[t];
        int k = r == 0.0 ? 3 : (int)lround(3.0 + log(r) / log(3.0));

        assert_true(k >= 0 && k <= 3);
        if (k < 3)
            assert_true(fabs(r - pow(3.0, k - 3)) < 1e-15);
        seen[k]++;
    }
    for (int k = 0; k < 4; k++)
        assert_true(seen[k] > 0);
    /* The first new configuration goes to the most aggressive bracket. */
    assert_true(fabs(g.res[0] - 1.0 / 27.0) < 1e-15);
    log_free(&g);
    aml_search_free(s);
    aml_space_free(sp);
}

/*
 * ASHA's invariants on any run: a configuration's resources only grow, and
 * (with `quota`) the configurations promoted out of rung k number at most
 * (results at rung k) / eta, over all brackets (sum of floors <= floor of
 * sum).
 */
static void check_invariants(const log_t *g, double eta, int quota)
{
    static double last[MAX_TRIALS];
    long at[8] = {0}, promoted[8] = {0};

    for (size_t i = 0; i < g->n_cfg; i++)
        last[i] = -1.0;
    for (long t = 0; t < g->n; t++) {
        double r = g->res[t] == 0.0 ? 1.0 : g->res[t];
        int k = (int)lround(3.0 + log(r) / log(eta));
        size_t c = g->idx[t];

        assert_true(r > last[c]);
        at[k]++;
        if (last[c] > 0)
            promoted[k - 1]++;
        last[c] = r;
    }
    for (int k = 0; quota && k < 3; k++)
        assert_true((double)promoted[k] <= (double)at[k] / eta + 1e-9);
}

/* A flat objective: ties go to the earlier trial, and the run stays sane. */
static void test_halving_flat(void **st)
{
    aml_space *sp = space_x();
    aml_search *s = new_halving(sp, 3, 1.0 / 27.0, &aml_search_halving);
    static log_t g;
    long full = 0;

    (void)st;
    assert_int_equal(drive(s, &g, 200, 8, score_flat), AML_OK);
    check_invariants(&g, 3, 1);
    for (long t = 0; t < g.n; t++)
        full += g.res[t] == 0.0;
    assert_true(full > 0);
    log_free(&g);
    aml_search_free(s);
    aml_space_free(sp);
}

/* Every trial failing: nothing is ever promoted, every proposal is new. */
static void test_halving_all_fail(void **st)
{
    aml_space *sp = space_x();
    aml_search *s = new_halving(sp, 3, 1.0 / 27.0, &aml_search_halving);
    static log_t g;

    (void)st;
    assert_int_equal(drive(s, &g, 100, 8, score_fail), AML_OK);
    assert_int_equal(g.n_cfg, 100);
    log_free(&g);
    aml_search_free(s);
    aml_space_free(sp);
}

/*
 * A single-point space: the one configuration starts at 1/27 and, with no
 * other to start, is promoted rung by rung (the relaxed rule) until it has
 * had a full evaluation; then the strategy is exhausted.
 */
static void test_halving_single_point(void **st)
{
    aml_space *sp = space_k(1);
    aml_search *s = new_halving(sp, 3, 1.0 / 27.0, &aml_search_halving);
    static log_t g;

    (void)st;
    assert_int_equal(drive(s, &g, 50, 1, score_flat), AML_EXHAUSTED);
    assert_int_equal(g.n, 4);
    assert_int_equal(g.n_cfg, 1);
    assert_true(fabs(g.res[0] - 1.0 / 27.0) < 1e-15);
    assert_true(fabs(g.res[1] - 1.0 / 9.0) < 1e-15);
    assert_true(fabs(g.res[2] - 1.0 / 3.0) < 1e-15);
    assert_true(g.res[3] == 0.0);
    log_free(&g);
    aml_search_free(s);

    /* The same in one batch of 8: the promotions are speculative (no tells yet). */
    s = new_halving(sp, 3, 1.0 / 27.0, &aml_search_halving);
    assert_int_equal(drive(s, &g, 50, 8, score_flat), AML_EXHAUSTED);
    assert_int_equal(g.n, 4);
    assert_true(g.res[3] == 0.0);
    log_free(&g);
    aml_search_free(s);
    aml_space_free(sp);
}

/*
 * A finite space of 5 points: each is started once and, once nothing new
 * is left, promoted until every configuration has had a full evaluation;
 * then AML_EXHAUSTED.  At most 5 x 3 rungs' trials.
 */
static void test_halving_exhaustion(void **st)
{
    aml_space *sp = space_k(5);
    aml_search *s = new_halving(sp, 3, 1.0 / 9.0, &aml_search_halving);
    static log_t g;
    int full[5] = {0};

    (void)st;
    assert_int_equal(drive(s, &g, 100, 8, score_rising), AML_EXHAUSTED);
    assert_int_equal(g.n_cfg, 5);
    assert_true(g.n <= 15);
    for (long t = 0; t < g.n; t++)
        full[g.idx[t]] += g.res[t] == 0.0;
    for (int i = 0; i < 5; i++)
        assert_int_equal(full[i], 1);
    check_invariants(&g, 3, 0); /* the relaxed rule breaks the quota, by design */
    /* Exhausted stays exhausted. */
    {
        aml_config c;

        assert_int_equal(aml_search_ask(s, g.n, &c), AML_EXHAUSTED);
        aml_config_dispose(&c);
    }
    log_free(&g);
    aml_search_free(s);
    aml_space_free(sp);
}

/* The same seed and tells give the same proposals; bohb included. */
static void test_halving_deterministic(void **st)
{
    const aml_search_type *types[] = {&aml_search_halving, &aml_search_bohb};
    aml_space *sp = space_x();
    static log_t a, b;

    (void)st;
    for (int i = 0; i < 2; i++) {
        aml_search *s1 = new_halving(sp, 3, 1.0 / 27.0, types[i]);
        aml_search *s2 = new_halving(sp, 3, 1.0 / 27.0, types[i]);

        assert_int_equal(drive(s1, &a, 90, 8, score_table), AML_OK);
        assert_int_equal(drive(s2, &b, 90, 8, score_table), AML_OK);
        assert_int_equal(a.n_cfg, b.n_cfg);
        for (long t = 0; t < a.n; t++) {
            assert_int_equal(a.idx[t], b.idx[t]);
            assert_memory_equal(&a.res[t], &b.res[t], sizeof(double));
        }
        for (size_t c = 0; c < a.n_cfg; c++)
            assert_true(aml_config_equal(&a.cfg[c], &b.cfg[c]));
        check_invariants(&a, 3, 1);
        log_free(&a);
        log_free(&b);
        aml_search_free(s1);
        aml_search_free(s2);
    }
    aml_space_free(sp);
}

/*
 * bohb draws from the model once a rung has enough successes: on x with
 * score -(x - 0.3)^2 its later starts crowd near 0.3 more than halving's
 * random starts do (mean distance over starts 60..179).
 */
static double bohb_score_x(const aml_config *c)
{
    double x = c->params[0].value.real;

    return -(x - 0.3) * (x - 0.3);
}

static double mean_late_distance(const aml_search_type *type)
{
    aml_space *sp = space_x();
    aml_search *s = new_halving(sp, 3, 1.0 / 9.0, type);
    double sum = 0.0;
    long n = 0;

    for (long t = 0; t < 180; t++) {
        aml_config c;

        assert_int_equal(aml_search_ask(s, t, &c), 0);
        if (t >= 60) {
            sum += fabs(c.params[0].value.real - 0.3);
            n++;
        }
        aml_search_tell(s, &c, bohb_score_x(&c), 1);
        aml_config_dispose(&c);
    }
    aml_search_free(s);
    aml_space_free(sp);
    return sum / (double)n;
}

static void test_bohb_uses_model(void **st)
{
    double random = mean_late_distance(&aml_search_halving);
    double model = mean_late_distance(&aml_search_bohb);

    (void)st;
    /* Uniform x in [0, 1]: mean |x - 0.3| = 0.29; the model should be well below. */
    assert_true(random > 0.2);
    assert_true(model < 0.7 * random);
}

/* Bad options fail at creation with a message. */
static void test_halving_bad_options(void **st)
{
    aml_space *sp = space_x();
    aml_search_options o = {1.0, 0.5, AML_SAMPLER_DEFAULT};
    aml_search *s = NULL;

    (void)st;
    assert_int_equal(aml_search_new_with(&s, &aml_search_halving, sp, 1, &o), AML_EINVAL);
    assert_non_null(strstr(aml_error_message(), "eta must be more than 1"));
    o.eta = 3;
    o.min_resource = 1e-12;
    assert_int_equal(aml_search_new_with(&s, &aml_search_halving, sp, 1, &o), AML_EINVAL);
    assert_non_null(strstr(aml_error_message(), "rungs; at most 16"));
    o.min_resource = 0.5;
    o.sampler = AML_SAMPLER_RANDOM;
    assert_int_equal(aml_search_new_with(&s, &aml_search_bohb, sp, 1, &o), AML_EINVAL);
    assert_null(s);
    /* min_resource above 1/eta: one rung, every trial full. */
    assert_int_equal(aml_search_new_with(&s, &aml_search_halving, sp, 1, &o), 0);
    for (long t = 0; t < 5; t++) {
        aml_config c;

        assert_int_equal(aml_search_ask(s, t, &c), 0);
        assert_true(aml_resource_full(c.resource));
        aml_search_tell(s, &c, 1.0, 1);
        aml_config_dispose(&c);
    }
    aml_search_free(s);
    aml_space_free(sp);
}

/* ---- seed configurations (search.c) ------------------------------------------ */

/* A strategy that counts its tells and proposes k = trial. */
typedef struct count_state {
    long asked_first; /* first trial number asked, -1 before */
    long told;
    double last_score;
} count_state;

static count_state *count_last; /* the state of the last count search made */

static int count_init(void *state, const aml_space *space, uint64_t seed)
{
    count_state *c = state;

    (void)space;
    (void)seed;
    c->asked_first = -1;
    count_last = c;
    return AML_OK;
}

static int count_ask(void *state, const aml_space *space, long trial, aml_rng *rng,
                     aml_config *out)
{
    count_state *c = state;
    int rc;

    (void)rng;
    if (c->asked_first < 0)
        c->asked_first = trial;
    if ((rc = aml_config_init(out, space, 0)) < 0)
        return rc;
    out->params[0].value.i = trial % 5;
    return AML_OK;
}

static void count_tell(void *state, const aml_space *space, const aml_config *c,
                       double score, int ok)
{
    count_state *s = state;

    (void)space;
    (void)c;
    (void)ok;
    s->told++;
    s->last_score = score;
}

static const aml_search_type count_type = {
    .name = "count",
    .state_size = sizeof(count_state),
    .init = count_init,
    .ask = count_ask,
    .tell = count_tell,
};

/* Seeds are trials 0..m-1 in order, the strategy is asked from m, and told all. */
static void test_seed_configs_driver(void **st)
{
    aml_space *sp = space_k(5);
    aml_config seeds[2];
    aml_search *s = NULL;
    aml_config c;

    (void)st;
    assert_int_equal(aml_config_init(&seeds[0], sp, 0), 0);
    assert_int_equal(aml_config_init(&seeds[1], sp, 0), 0);
    seeds[0].params[0].value.i = 4;
    seeds[1].params[0].value.i = 2;
    seeds[1].resource = 0.5; /* a seed is always a full evaluation */
    assert_int_equal(aml_search_new(&s, &count_type, sp, 1), 0);
    assert_int_equal(aml_search_set_seeds(s, seeds, 2), 0);
    for (long t = 0; t < 4; t++) {
        assert_int_equal(aml_search_ask(s, t, &c), 0);
        if (t < 2) {
            assert_true(aml_config_equal(&c, &seeds[t]));
            assert_true(c.resource == 0.0);
        } else {
            assert_int_equal(c.params[0].value.i, t % 5);
        }
        aml_search_tell(s, &c, (double)t, 1);
        aml_config_dispose(&c);
    }
    assert_int_equal(count_last->asked_first, 2); /* never asked for a seed's trial */
    assert_int_equal(count_last->told, 4);        /* but told every result */
    assert_true(count_last->last_score == 3.0);
    aml_search_free(s);

    /* A seed that does not fit the space is refused. */
    seeds[0].learner = 3;
    assert_int_equal(aml_search_new(&s, &count_type, sp, 1), 0);
    assert_int_equal(aml_search_set_seeds(s, seeds, 2), AML_EINVAL);
    seeds[0].learner = 0;
    aml_search_free(s);
    aml_config_dispose(&seeds[0]);
    aml_config_dispose(&seeds[1]);
    aml_space_free(sp);
}

/*
 * Seeds are told to halving like any result: a seed's configuration is
 * never started again, even in a space of 3 points.
 */
static void test_seed_configs_told_to_halving(void **st)
{
    aml_space *sp = space_k(3);
    aml_search *s = new_halving(sp, 3, 1.0 / 3.0, &aml_search_halving);
    aml_config seed;
    static log_t g;

    (void)st;
    assert_int_equal(aml_config_init(&seed, sp, 0), 0);
    seed.params[0].value.i = 1;
    assert_int_equal(aml_search_set_seeds(s, &seed, 1), 0);
    assert_int_equal(drive(s, &g, 40, 1, score_rising), AML_EXHAUSTED);
    assert_true(aml_config_equal(&g.cfg[0], &seed));
    assert_true(g.res[0] == 0.0);
    for (long t = 1; t < g.n; t++)
        assert_true(g.idx[t] != 0); /* the seed is never proposed again */
    assert_int_equal(g.n_cfg, 3);
    log_free(&g);
    aml_config_dispose(&seed);
    aml_search_free(s);
    aml_space_free(sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_halving_hand_example),
        cmocka_unit_test(test_halving_default_rungs),
        cmocka_unit_test(test_halving_flat),
        cmocka_unit_test(test_halving_all_fail),
        cmocka_unit_test(test_halving_single_point),
        cmocka_unit_test(test_halving_exhaustion),
        cmocka_unit_test(test_halving_deterministic),
        cmocka_unit_test(test_bohb_uses_model),
        cmocka_unit_test(test_halving_bad_options),
        cmocka_unit_test(test_seed_configs_driver),
        cmocka_unit_test(test_seed_configs_told_to_halving),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
