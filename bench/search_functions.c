/*
 * search_functions.c - the strategies on standard test functions, driven
 * through the aml_search API directly (no data, no CV), and the proposal
 * overhead of bayes.
 *
 * Regret mode (default).  For each function, strategy and seed, runs 100
 * evaluations the way trials/runner.c does: ask a batch of 8
 * (AML_RUN_BATCH; bayes fills it with constant-liar proposals), evaluate,
 * tell the 8 results in trial order; the last batch is cut to what is left.
 * Prints one CSV line per (function, strategy, seed, evaluations) with the
 * simple regret min f(x_1..x_n) - f*, n = 25, 50, 100:
 *
 *   function,strategy,seed,evals,regret
 *
 * bench/search_functions_optuna.py prints the same lines for Optuna's TPE
 * and CMA-ES, and bench/search_functions_table.py puts both side by side.
 *
 * Functions (minimised; the strategies maximise -f):
 *   branin     x1 in [-5, 10], x2 in [0, 15]; f* = 0.397887 (Dixon and
 *              Szego 1978), at (-pi, 12.275), (pi, 2.275), (9.42478, 2.475).
 *   hartmann6  x in [0, 1]^6; f* = -3.322368 at (0.20169, 0.150011,
 *              0.476874, 0.275332, 0.311652, 0.6573) (Dixon and Szego 1978).
 *   mixed      Branin with x2 an integer in [0, 15] and a 3-way choice
 *              c in {a, b, c} adding 1, 0 or 2: f = branin(x1, x2) + off(c).
 *              f* = 0.432336 at x1 = -3.079165, x2 = 12, c = b (the minimum
 *              of branin over integer x2, found by a dense scan of x1 for
 *              each x2 refined by Brent's method with scipy, once).
 *
 * Overhead mode (--overhead).  Tells bayes N observations (Halton points of
 * Hartmann-6, evaluated), then asks and tells 8 batches of 8 in the
 * runner's rhythm and prints the mean milliseconds per ask, N = 100, 250,
 * 500, and the slowest batch.  The first ask of a batch carries the GP
 * hyperparameter refit when one is due (bayes refits when a learner's
 * observations grew by an eighth: once in these 8 batches at 500), so the
 * mean is what a runner pays per trial.
 *
 *   search_functions [--seeds N] [--evals N] [--functions a,b] [--strategies a,b]
 *   search_functions --overhead [--at 100,250,500]
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aml.h"
#include "search.h"

#define BATCH 8 /* AML_RUN_BATCH in trials/runner.h */
#define MAX_EVALS 1000

typedef struct bench_fn {
    const char *name;
    double fstar;
    aml_space *(*space)(void);
    double (*f)(const aml_config *c);
} bench_fn;

static aml_space *die_space(const char *what)
{
    fprintf(stderr, "search_functions: %s: %s\n", what, aml_error_message());
    exit(1);
}

static void add(aml_space_learner *l, const char *name, aml_domain dom, aml_vkind kind,
                double lo, double hi, const aml_value *ch, size_t n)
{
    if (!aml_space_add_dim(l, name, dom, kind, lo, hi, ch, n))
        die_space(name);
}

static double branin(double x1, double x2)
{
    double b = 5.1 / (4.0 * M_PI * M_PI), c = 5.0 / M_PI, t = 1.0 / (8.0 * M_PI);
    double q = x2 - b * x1 * x1 + c * x1 - 6.0;

    return q * q + 10.0 * (1.0 - t) * cos(x1) + 10.0;
}

static aml_space *branin_space(void)
{
    aml_space *s = aml_space_new();
    aml_space_learner *l = s ? aml_space_add_learner(s, "f") : NULL;

    if (!l)
        return die_space("branin");
    add(l, "x1", AML_DOM_UNIFORM, AML_VAL_REAL, -5, 10, NULL, 0);
    add(l, "x2", AML_DOM_UNIFORM, AML_VAL_REAL, 0, 15, NULL, 0);
    return s;
}

static double branin_f(const aml_config *c)
{
    return branin(c->params[0].value.real, c->params[1].value.real);
}

static const double h6_alpha[4] = {1.0, 1.2, 3.0, 3.2};
static const double h6_a[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                  {0.05, 10, 17, 0.1, 8, 14},
                                  {3, 3.5, 1.7, 10, 17, 8},
                                  {17, 8, 0.05, 10, 0.1, 14}};
static const double h6_p[4][6] = {{1312, 1696, 5569, 124, 8283, 5886},
                                  {2329, 4135, 8307, 3736, 1004, 9991},
                                  {2348, 1451, 3522, 2883, 3047, 6650},
                                  {4047, 8828, 8732, 5743, 1091, 381}};

static aml_space *h6_space(void)
{
    static const char *names[6] = {"x1", "x2", "x3", "x4", "x5", "x6"};
    aml_space *s = aml_space_new();
    aml_space_learner *l = s ? aml_space_add_learner(s, "f") : NULL;
    int j;

    if (!l)
        return die_space("hartmann6");
    for (j = 0; j < 6; j++)
        add(l, names[j], AML_DOM_UNIFORM, AML_VAL_REAL, 0, 1, NULL, 0);
    return s;
}

static double h6_x(const double *x)
{
    double f = 0.0;
    int i, j;

    for (i = 0; i < 4; i++) {
        double e = 0.0;

        for (j = 0; j < 6; j++) {
            double d = x[j] - 1e-4 * h6_p[i][j];

            e += h6_a[i][j] * d * d;
        }
        f -= h6_alpha[i] * exp(-e);
    }
    return f;
}

static double h6_f(const aml_config *c)
{
    double x[6];
    int j;

    for (j = 0; j < 6; j++)
        x[j] = c->params[j].value.real;
    return h6_x(x);
}

static aml_space *mixed_space(void)
{
    static const aml_value abc[3] = {{.kind = AML_VAL_STR, .str = "a"},
                                     {.kind = AML_VAL_STR, .str = "b"},
                                     {.kind = AML_VAL_STR, .str = "c"}};
    aml_space *s = aml_space_new();
    aml_space_learner *l = s ? aml_space_add_learner(s, "f") : NULL;

    if (!l)
        return die_space("mixed");
    add(l, "x1", AML_DOM_UNIFORM, AML_VAL_REAL, -5, 10, NULL, 0);
    add(l, "x2", AML_DOM_INT, AML_VAL_INT, 0, 15, NULL, 0);
    add(l, "c", AML_DOM_CHOICE, AML_VAL_STR, 0, 0, abc, 3);
    return s;
}

static double mixed_f(const aml_config *c)
{
    const char *cat = c->params[2].value.str;
    double off = cat[0] == 'a' ? 1.0 : cat[0] == 'b' ? 0.0 : 2.0;

    return branin(c->params[0].value.real, (double)c->params[1].value.i) + off;
}

static const bench_fn functions[] = {
    {"branin", 0.397887357729739, branin_space, branin_f},
    {"hartmann6", -3.32236801141551, h6_space, h6_f},
    {"mixed", 0.432335953249288, mixed_space, mixed_f},
};
#define N_FUNCTIONS (sizeof(functions) / sizeof(functions[0]))

static int listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    const char *p = list;

    if (!list)
        return 1;
    while ((p = strstr(p, name))) {
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
        p += n;
    }
    return 0;
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Runs n evaluations in batches; writes the running minimum of f into best[]. */
static int run_one(const bench_fn *fn, const aml_space *sp, const aml_search_type *type,
                   uint64_t seed, long n, double *best)
{
    aml_search *s = NULL;
    aml_config c[BATCH];
    double run_min = INFINITY;
    long t = 0, k, m;
    int rc;

    if ((rc = aml_search_new(&s, type, sp, seed)) < 0)
        return rc;
    while (t < n) {
        m = n - t < BATCH ? n - t : BATCH;
        for (k = 0; k < m; k++)
            if ((rc = aml_search_ask(s, t + k, &c[k])) != 0)
                break;
        m = k;
        for (k = 0; k < m; k++) {
            double f = fn->f(&c[k]);

            run_min = f < run_min ? f : run_min;
            best[t + k] = run_min;
            aml_search_tell(s, &c[k], -f, 1);
            aml_config_dispose(&c[k]);
        }
        t += m;
        if (rc != 0)
            break;
    }
    for (; t < n; t++)
        best[t] = run_min;
    aml_search_free(s);
    return rc < 0 ? rc : 0;
}

static int regret_mode(int seeds, long evals, const char *fns, const char *strategies)
{
    static const long marks[] = {25, 50, 100, 200, 500, 1000};
    static double best[MAX_EVALS];
    const char *names[] = {"random", "bayes", "genetic"};
    size_t f, i, k;
    int seed;

    printf("function,strategy,seed,evals,regret\n");
    for (f = 0; f < N_FUNCTIONS; f++) {
        aml_space *sp;

        if (!listed(fns, functions[f].name))
            continue;
        sp = functions[f].space();
        for (i = 0; i < 3; i++) {
            const aml_search_type *type = aml_search_type_find(names[i]);
            double t0 = now();

            if (!listed(strategies, names[i]))
                continue;
            for (seed = 0; seed < seeds; seed++) {
                if (run_one(&functions[f], sp, type, (uint64_t)seed, evals, best) < 0) {
                    fprintf(stderr, "search_functions: %s on %s: %s\n", names[i],
                            functions[f].name, aml_error_message());
                    return 1;
                }
                for (k = 0; k < sizeof(marks) / sizeof(marks[0]) && marks[k] <= evals;
                     k++)
                    printf("%s,%s,%d,%ld,%.9g\n", functions[f].name, names[i], seed,
                           marks[k], best[marks[k] - 1] - functions[f].fstar);
                fflush(stdout);
            }
            fprintf(stderr, "%s %s: %.1f s for %d seeds\n", functions[f].name, names[i],
                    now() - t0, seeds);
        }
        aml_space_free(sp);
    }
    return 0;
}

/* Tells bayes n Halton-like points of Hartmann-6, then times 3 batches of asks. */
static int overhead_at(long n, double *ms_per_ask, double *worst_batch)
{
    aml_space *sp = h6_space();
    aml_search *s = NULL, *r = NULL;
    aml_config c[BATCH];
    double spent = 0.0, t0;
    long t, k, asks = 0;
    int rc;

    /* The observations come from random search (distinct, evenly spread). */
    if ((rc = aml_search_new(&s, &aml_search_bayes, sp, 1)) < 0 ||
        (rc = aml_search_new(&r, &aml_search_random, sp, 2)) < 0)
        goto out;
    for (t = 0; t < n; t++) {
        if ((rc = aml_search_ask(r, t, &c[0])) != 0)
            goto out;
        aml_search_tell(s, &c[0], -h6_f(&c[0]), 1);
        aml_config_dispose(&c[0]);
    }
    *worst_batch = 0.0;
    for (t = n; t < n + 8 * BATCH; t += BATCH) {
        double batch = 0.0;

        for (k = 0; k < BATCH; k++) {
            t0 = now();
            rc = aml_search_ask(s, t + k, &c[k]);
            batch += now() - t0;
            asks++;
            if (rc != 0)
                goto out;
        }
        spent += batch;
        *worst_batch = batch > *worst_batch ? batch : *worst_batch;
        for (k = 0; k < BATCH; k++) {
            aml_search_tell(s, &c[k], -h6_f(&c[k]), 1);
            aml_config_dispose(&c[k]);
        }
    }
    *ms_per_ask = 1e3 * spent / (double)asks;
out:
    aml_search_free(s);
    aml_search_free(r);
    aml_space_free(sp);
    return rc;
}

static int overhead_mode(const char *at)
{
    const char *p = at ? at : "100,250,500";

    printf("observations,ms_per_ask,ms_slowest_batch\n");
    while (*p) {
        long n = strtol(p, (char **)&p, 10);
        double ms, worst;

        if (n <= 0 || overhead_at(n, &ms, &worst) != 0) {
            fprintf(stderr, "search_functions: overhead at %ld: %s\n", n,
                    aml_error_message());
            return 1;
        }
        printf("%ld,%.2f,%.1f\n", n, ms, 1e3 * worst);
        fflush(stdout);
        if (*p == ',')
            p++;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *fns = NULL, *strategies = NULL, *at = NULL;
    int seeds = 20, overhead = 0, i;
    long evals = 100;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--overhead") == 0)
            overhead = 1;
        else if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc)
            seeds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--evals") == 0 && i + 1 < argc)
            evals = atol(argv[++i]);
        else if (strcmp(argv[i], "--functions") == 0 && i + 1 < argc)
            fns = argv[++i];
        else if (strcmp(argv[i], "--strategies") == 0 && i + 1 < argc)
            strategies = argv[++i];
        else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc)
            at = argv[++i];
        else {
            fprintf(stderr,
                    "usage: search_functions [--seeds N] [--evals N] [--functions a,b] "
                    "[--strategies a,b] | --overhead [--at 100,250,500]\n");
            return 2;
        }
    }
    if (evals < 1 || evals > MAX_EVALS || seeds < 1) {
        fprintf(stderr, "search_functions: --evals must be in [1, %d], --seeds >= 1\n",
                MAX_EVALS);
        return 2;
    }
    return overhead ? overhead_mode(at) : regret_mode(seeds, evals, fns, strategies);
}
