/*
 * test_strategies.c - determinism of every strategy through the runner:
 * the same spec and seed give the same trials (configurations, statuses,
 * scores bit for bit) on 1 and 2 threads, for grid, random, bayes and
 * genetic alike.
 *
 * The spec is the runner's penguins fixture (3 learners, 4-fold CV) with
 * its strategy swapped in code.  32 trials reach past bayes' space-filling
 * design (7 rounds of 3 learners = 21 trials), so its GP proposals are
 * covered too.
 */
#include "testutil.h"

#include "aml.h"
#include "runner.h"
#include "spec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_TRIALS 32

typedef struct seen {
    long n;
    long number[N_TRIALS];
    int status[N_TRIALS];
    double score[N_TRIALS];
    char config[N_TRIALS][256];
} seen;

static void on_trial(const aml_trial_result *r, const aml_run_summary *s, void *payload)
{
    seen *v = payload;

    (void)s;
    assert_true(v->n < N_TRIALS);
    v->number[v->n] = r->number;
    v->status[v->n] = r->status;
    v->score[v->n] = r->score;
    /* Halving evaluates one configuration at several resources: not a repeat. */
    snprintf(v->config[v->n], sizeof(v->config[0]), "%zu@%.17g: ", r->config.learner,
             r->config.resource > 0 ? r->config.resource : 1.0);
    aml_config_format(&r->config, v->config[v->n] + strlen(v->config[v->n]),
                      sizeof(v->config[0]) - strlen(v->config[v->n]));
    v->n++;
}

static aml_spec *load_spec(const char *name)
{
    const char *metrics[16], *strategies[8];
    aml_spec_vocab vocab = {aml_learner_types, metrics, strategies};
    aml_spec *spec = NULL;
    size_t i;

    for (i = 0; aml_metrics[i]; i++)
        metrics[i] = aml_metrics[i]->name;
    metrics[i] = NULL;
    for (i = 0; aml_search_types[i]; i++)
        strategies[i] = aml_search_types[i]->name;
    strategies[i] = NULL;
    if (aml_spec_load(&spec, aml_test_fixture(name), &vocab) < 0)
        fail_msg("%s", aml_error_message());
    return spec;
}

static void run(const aml_spec *spec, const aml_dataset *d, const aml_search_type *type,
                int threads, seen *out)
{
    aml_run_options opt = {0};
    aml_run_summary summary;

    opt.folds = spec->folds;
    opt.stratified = spec->stratified;
    opt.cv_seed = spec->cv_seed;
    opt.seed = spec->seed;
    opt.threads = threads;
    opt.budget.max_trials = N_TRIALS;
    opt.metric = aml_metric_find(spec->metric);
    memset(out, 0, sizeof(*out));
    assert_int_equal(aml_run_search(&summary, d, spec->space, type, &opt, on_trial, out),
                     0);
    assert_int_equal(summary.reason, AML_STOP_TRIALS);
    assert_int_equal(summary.n_trials, N_TRIALS);
    aml_run_summary_dispose(&summary);
}

static void test_strategies_deterministic_across_threads(void **state)
{
    aml_spec *spec = load_spec("runner/penguins.yaml");
    aml_dataset *d = NULL;
    static seen a, b;
    size_t k;
    long i, j;

    (void)state;
    assert_int_equal(aml_dataset_load(&d, spec), 0);
    for (k = 0; aml_search_types[k]; k++) {
        const aml_search_type *type = aml_search_types[k];

        run(spec, d, type, 1, &a);
        run(spec, d, type, 2, &b);
        assert_int_equal(a.n, N_TRIALS);
        assert_int_equal(b.n, N_TRIALS);
        for (i = 0; i < a.n; i++) {
            assert_int_equal(a.number[i], i);
            assert_int_equal(b.number[i], i);
            assert_int_equal(a.status[i], b.status[i]);
            assert_string_equal(a.config[i], b.config[i]);
            assert_memory_equal(&a.score[i], &b.score[i], sizeof(double));
            for (j = 0; j < i; j++)
                if (strcmp(a.config[i], a.config[j]) == 0)
                    fail_msg("%s: trial %ld repeats trial %ld (%s)", type->name, i, j,
                             a.config[i]);
        }
    }
    aml_dataset_free(d);
    aml_spec_free(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strategies_deterministic_across_threads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
